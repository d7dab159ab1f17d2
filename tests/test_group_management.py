# -*- coding: utf-8 -*-
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.whatsapp_integration import providers

from .common import WhatsappCase, member


@tagged('post_install', '-at_install')
class TestGroupManagement(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.remote_a.add_contacts(4)
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [
            member('34600000000', 'superadmin'), member('34600000001')])
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.contacts = self.stored('whatsapp.contact', self.config_a).sorted('contact_id')
        self.group = self.stored('whatsapp.group', self.config_a)

    def _roles(self, group=None):
        return {m.contact_id.contact_id: m.role for m in (group or self.group).member_ids}

    def test_create_group_stores_what_the_provider_made(self):
        self.remote_a.refuse_participants['34600000003'] = 'privacy settings'
        wizard = self.env['whatsapp.group.create'].create({
            'configuration_id': self.config_a.id, 'name': 'Volunteers', 'description': 'Help',
            'contact_ids': [(6, 0, self.contacts[2:4].ids)], 'phones': '+44 7911 123456'})
        wizard.action_create()
        group = wizard.group_id
        self.assertEqual((group.name, group.description), ('Volunteers', 'Help'))
        self.assertEqual(set(self._roles(group)), {'34600000002', '447911123456'})
        self.assertIn('privacy settings', wizard.result_message)

    def test_create_group_failure_leaves_no_local_group(self):
        def refuse(client, name, participants, description=None):
            raise providers.RequestRejectedError('Not allowed', 403)
        from .common import FakeProviderClient
        with patch.object(FakeProviderClient, 'create_group', refuse):
            wizard = self.env['whatsapp.group.create'].create({
                'configuration_id': self.config_a.id, 'name': 'Nope', 'contact_ids': [(6, 0, self.contacts[2:3].ids)]})
            with self.assertRaises(UserError):
                wizard.action_create()
        self.assertEqual(len(self.stored('whatsapp.group', self.config_a)), 1)

    def test_invalid_typed_number_refused_before_any_request(self):
        calls = len(self.remote_a.requests)
        wizard = self.env['whatsapp.group.create'].create({
            'configuration_id': self.config_a.id, 'name': 'X', 'phones': 'not a number'})
        with self.assertRaises(UserError):
            wizard.action_create()
        self.assertEqual(len(self.remote_a.requests), calls)

    def _participants(self, action, contacts, user=None):
        Wizard = self.env['whatsapp.group.participants']
        if user:
            Wizard = Wizard.with_user(user)
        wizard = Wizard.create({'group_id': self.group.id, 'action': action,
                                'contact_ids': [(6, 0, contacts.ids)]})
        wizard.action_apply()
        return wizard

    def test_add_promote_demote_remove_with_partial_refusal(self):
        self.remote_a.refuse_participants['34600000003'] = 'not allowed'
        wizard = self._participants('add', self.contacts[2:4])
        self.assertEqual(self._roles(), {'34600000000': 'superadmin', '34600000001': 'member',
                                         '34600000002': 'member'})
        self.assertIn('Contact 3 (34600000003) refused: not allowed', wizard.result_message)
        self._participants('promote', self.contacts[2:3])
        self.assertEqual(self._roles()['34600000002'], 'admin')
        self._participants('demote', self.contacts[2:3])
        self.assertEqual(self._roles()['34600000002'], 'member')
        self._participants('remove', self.contacts[1:3])
        self.assertEqual(self._roles(), {'34600000000': 'superadmin'})
        # local state equals the provider's
        remote = {m.contact_id: m.role for m in self.remote_a.groups[0].members}
        self.assertEqual(set(remote), set(self._roles()))

    def test_remove_from_all_groups_reports_per_group(self):
        self.remote_a.add_group('120363000000000002@g.us', 'Other', [member('34600000001')])
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)
        contact = self.contacts[1]
        self.assertEqual(contact.group_count, 2)
        action = contact.action_remove_from_all_groups()
        self.assertEqual(action['params']['type'], 'success')
        self.assertIn('Team: removed', action['params']['message'])
        self.assertFalse(contact.group_member_ids)

    def test_remove_refused_keeps_membership(self):
        self.remote_a.refuse_participants['34600000001'] = 'is the owner'
        action = self.contacts[1].action_remove_from_all_groups()
        self.assertEqual(action['params']['type'], 'warning')
        self.assertIn('is the owner', action['params']['message'])
        self.assertIn('34600000001', self._roles())

    def test_invite_link_fetch_and_revoke(self):
        self.group.action_fetch_invite_link()
        first = self.group.invite_link
        self.assertTrue(first.startswith('https://chat.whatsapp.com/'))
        self.assertTrue(self.group.invite_fetched_at)
        self.group.action_revoke_invite_link()
        self.assertNotEqual(self.group.invite_link, first)

    def test_invite_links_of_new_groups_fetched_when_asked(self):
        self.config_a.fetch_invite_links = True
        self.remote_a.add_group('120363000000000002@g.us', 'New', [member('34600000002')])
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        groups = self.stored('whatsapp.group', self.config_a)
        self.assertTrue(all(groups.mapped('invite_link')))
        calls = self.remote_a.requests.count('invite')
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(self.remote_a.requests.count('invite'), calls, 'links are cached')

    def test_refresh_group_and_contact(self):
        self.remote_a.groups[0].name = 'Renamed team'
        self.remote_a.groups[0].members.append(member('34600000002'))
        self.group.action_refresh()
        self.assertEqual(self.group.name, 'Renamed team')
        self.assertIn('34600000002', self._roles())
        if self.config_a.can_refresh_contacts:
            self.remote_a.contacts[0].pushname = 'New push'
            self.contacts[0].action_refresh()
            self.assertEqual(self.contacts[0].pushname, 'New push')

    def test_check_numbers_batched(self):
        self.remote_a.whatsapp_numbers = {'+34600000000', '+34600000002'}
        calls = self.remote_a.requests.count('check_numbers')
        self.contacts.action_check_numbers()
        self.assertEqual(self.remote_a.requests.count('check_numbers'), calls + 1, 'one batched request')
        self.assertEqual(self.contacts.mapped('on_whatsapp'), ['yes', 'no', 'yes', 'no'])
        self.assertTrue(all(self.contacts.mapped('checked_at')))
        partners = self.env['res.partner'].create([
            {'name': 'On', 'mobile': '+34600000000'}, {'name': 'Off', 'mobile': '+34600000003'},
            {'name': 'None'}])
        partners.with_context(whatsapp_configuration_id=self.config_a.id).action_check_whatsapp()
        self.assertEqual(partners.mapped('whatsapp_on_whatsapp'), ['yes', 'no', 'unknown'])

    def test_user_acts_only_on_assigned_accounts(self):
        with self.assertRaises(AccessError):
            self._participants('add', self.contacts[2:3], user=self.user)
        with self.assertRaises(AccessError):
            self.group.with_user(self.user).action_fetch_invite_link()
        self.config_a.user_ids = [(4, self.user.id)]
        self._participants('add', self.contacts[2:3], user=self.user)
        self.assertIn('34600000002', self._roles())
        self.group.with_user(self.manager).action_fetch_invite_link()

    def test_unsupported_operation_refused_clearly(self):
        client_class = providers.PROVIDERS['whapi']
        with patch.object(client_class, 'capabilities', frozenset()):
            self.assertFalse(self.config_a.can_manage_groups or self.config_a._provider_supports('create_group'))
            with self.assertRaises(UserError) as caught:
                self.group.action_fetch_invite_link()
            self.assertIn('does not offer', str(caught.exception))
