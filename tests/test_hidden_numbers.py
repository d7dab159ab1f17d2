# -*- coding: utf-8 -*-
"""People WhatsApp shows by hidden number (``<digits>@lid``): group operations and merges.

The real provider clients talk HTTP to ``fake_provider_server``, whose WHAPI refuses with
a 400, as WHAPI's published description says, any participant that is not 7 to 15 digits.
"""
import datetime
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.whatsapp_integration import providers

from .common import ServedCase
from .fake_provider_server import FakeAccount

TOKEN_A = 'tokA-hidden-whapi-0123456789abcdef'
TOKEN_B = 'tokB-hidden-wassenger-fedcba9876543210'
DEVICE_B = '5f0c0ffee0c0ffee0c0ffee1'
SIZES = dict(contacts=12, groups=2, members=4, messages=10, days=2)
HIDDEN = '123456789012345@lid'
STRANGER = '987654321098765@lid'
UTC = datetime.timezone.utc


@tagged('post_install', '-at_install')
class TestHiddenNumbers(ServedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_a = cls.served_account('Hidden A', 'whapi', TOKEN_A)
        cls.config_b = cls.served_account('Hidden B', 'wassenger', TOKEN_B, DEVICE_B)

    def setUp(self):
        super().setUp()
        self.remote_a = self.server.add(FakeAccount('whapi', TOKEN_A, seed=21, **SIZES))
        self.remote_b = self.server.add(FakeAccount('wassenger', TOKEN_B, seed=22, device_id=DEVICE_B, **SIZES))
        original = providers.make_client

        def make_client(provider, **settings):
            settings.update(timeout=2.0, connect_timeout=2.0, sleep=lambda seconds: None)
            return original(provider, **settings)

        patcher = patch.object(providers, 'make_client', make_client)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.Contact = self.env['whatsapp.contact']

    # -- helpers ------------------------------------------------------------------------
    def contact(self, configuration, key):
        return self.Contact.search([('configuration_id', '=', configuration.id), ('contact_id', '=', key)])

    def met_by_hidden_number(self, configuration, lid, group=None):
        """A person first seen by hidden number: a message in their chat, a membership
        of ``group`` and a partner; return their contact."""
        message = providers.Message(
            message_id='HIDDEN%s' % lid[:6], chat_id=lid, chat_type='contact', sender_id=lid,
            timestamp=datetime.datetime(2026, 1, 2, tzinfo=UTC), message_type='text', raw_type='text',
            body='written from a hidden number')
        self.env['whatsapp.sync.service']._store_messages(configuration, None, [message])
        hidden = self.contact(configuration, lid)
        partner = self.env['res.partner'].create({'name': 'Hidden Person'})
        hidden.write({'partner_id': partner.id, 'name': 'Hidden Person'})
        if group:
            self.env['whatsapp.group.member'].create({
                'group_id': group.id, 'contact_id': hidden.id, 'configuration_id': configuration.id,
                'role': 'admin'})
        return hidden

    def create_group(self, configuration, contacts, name='Volunteers'):
        wizard = self.env['whatsapp.group.create'].create({
            'configuration_id': configuration.id, 'name': name, 'contact_ids': [(6, 0, contacts.ids)]})
        wizard.action_create()
        return wizard

    def assertOnePerson(self, configuration, phone_key, lid, partner, message_count, groups):
        contacts = self.Contact.search([('configuration_id', '=', configuration.id),
                                        '|', ('contact_id', 'in', [phone_key, lid]), ('lid', '=', lid)])
        self.assertEqual(len(contacts), 1, 'one contact for the person, not %s' % contacts.mapped('contact_id'))
        self.assertEqual((contacts.contact_id, contacts.lid), (phone_key, lid))
        self.assertEqual(contacts.partner_id, partner)
        self.assertEqual(len(contacts.message_ids), message_count)
        self.assertEqual(set(contacts.group_member_ids.mapped('group_id.group_id')), set(groups))
        return contacts

    # -- WHAPI: group creation --------------------------------------------------------------
    def test_group_created_with_the_others_and_the_hidden_one_reported(self):
        numbered = self.contact(self.config_a, self.remote_a.contact_key(0)) | self.contact(
            self.config_a, self.remote_a.contact_key(1))
        hidden = self.met_by_hidden_number(self.config_a, STRANGER)
        wizard = self.create_group(self.config_a, numbered | hidden)
        members = set(wizard.group_id.member_ids.mapped('contact_id.contact_id')) - {self.remote_a.own}
        self.assertEqual(members, set(numbered.mapped('contact_id')))
        self.assertIn('Hidden Person (%s) was not added: hidden number' % STRANGER, wizard.result_message)
        self.assertIn('created with 2 participants', wizard.result_message)
        self.assertTrue(hidden.exists() and hidden.contact_id == STRANGER)

    def test_group_created_with_the_hidden_one_resolved_and_merged(self):
        numbered = self.contact(self.config_a, self.remote_a.contact_key(0)) | self.contact(
            self.config_a, self.remote_a.contact_key(1))
        phone_key = self.remote_a.contact_key(5)
        self.remote_a.hide(phone_key, HIDDEN)
        old_group = self.env['whatsapp.group'].search([('configuration_id', '=', self.config_a.id)], limit=1)
        known = self.contact(self.config_a, phone_key)
        self.assertTrue(known)
        old_groups = known.group_member_ids.mapped('group_id.group_id')
        hidden = self.met_by_hidden_number(self.config_a, HIDDEN, group=old_group)
        partner = hidden.partner_id
        wizard = self.create_group(self.config_a, numbered | hidden)
        new_group = wizard.group_id
        self.assertEqual(set(new_group.member_ids.mapped('contact_id.contact_id')),
                         set(numbered.mapped('contact_id')) | {phone_key, self.remote_a.own})
        self.assertIn('matched to +%s' % phone_key, wizard.result_message)
        self.assertNotIn('was not added', wizard.result_message)
        person = self.assertOnePerson(self.config_a, phone_key, HIDDEN, known.partner_id or partner,
                                      len(known.message_ids), set(old_groups) | {old_group.group_id, new_group.group_id})
        self.assertIn('written from a hidden number', person.message_ids.mapped('body'))
        # later messages and syncs under either id land on the same contact; nothing is duplicated
        count = self.Contact.search_count([('configuration_id', '=', self.config_a.id)])
        self.met_by_hidden_number_again(self.config_a, HIDDEN)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.assertEqual(self.Contact.search_count([('configuration_id', '=', self.config_a.id)]), count)
        self.assertEqual(self.contact(self.config_a, HIDDEN), self.Contact)
        self.assertIn('again', person.message_ids.mapped('body'))

    def test_hidden_number_found_in_the_lids_of_known_contacts(self):
        """A WHAPI without GET /contacts/ids: GET /contacts/lids over the account's contacts
        with a number tells whose hidden number it is."""
        self.remote_a._hidden_state()['lid_lookup'] = False
        phone_key = self.remote_a.contact_key(7)
        self.remote_a.hide(phone_key, HIDDEN)
        known = self.contact(self.config_a, phone_key)
        first = self.contact(self.config_a, self.remote_a.contact_key(0))
        hidden = self.met_by_hidden_number(self.config_a, HIDDEN)
        messages = len(known.message_ids) + 1
        wizard = self.create_group(self.config_a, first | hidden)
        self.assertIn('matched to +%s' % phone_key, wizard.result_message)
        self.assertIn(phone_key, wizard.group_id.member_ids.mapped('contact_id.contact_id'))
        self.assertOnePerson(self.config_a, phone_key, HIDDEN, known.partner_id, messages,
                             known.group_member_ids.mapped('group_id.group_id'))

    def test_full_sync_resolves_hidden_numbers_and_merges(self):
        """Someone met by hidden number is merged into their contact by the daily full
        sync once WHAPI tells the number; hourly runs ask nothing."""
        phone_key = self.remote_a.contact_key(6)
        known = self.contact(self.config_a, phone_key)
        hidden = self.met_by_hidden_number(self.config_a, HIDDEN)
        messages = len(known.message_ids) + 1
        self.remote_a.reset_counters()
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertNotIn('/contacts/ids/{id}', self.remote_a.by_endpoint)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)
        self.assertEqual(self.remote_a.by_endpoint.get('/contacts/ids/{id}'), 1)
        self.assertTrue(hidden.exists(), 'WHAPI could not tell yet: nothing changes')
        self.remote_a.hide(phone_key, HIDDEN)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)
        self.assertOnePerson(self.config_a, phone_key, HIDDEN, known.partner_id, messages,
                             known.group_member_ids.mapped('group_id.group_id'))

    def met_by_hidden_number_again(self, configuration, lid):
        self.env['whatsapp.sync.service']._store_messages(configuration, None, [providers.Message(
            message_id='AGAIN%s' % lid[:6], chat_id=lid, chat_type='contact', sender_id=lid,
            timestamp=datetime.datetime(2026, 1, 3, tzinfo=UTC), message_type='text', raw_type='text',
            body='again')])

    # -- WHAPI: participant changes -----------------------------------------------------------
    def test_participant_changes_go_through_with_a_hidden_number_among_them(self):
        first = self.contact(self.config_a, self.remote_a.contact_key(0))
        group = self.create_group(self.config_a, first).group_id
        others = self.contact(self.config_a, self.remote_a.contact_key(2)) | self.contact(
            self.config_a, self.remote_a.contact_key(3))
        hidden = self.met_by_hidden_number(self.config_a, STRANGER)
        for action in ('add', 'promote', 'demote', 'remove'):
            wizard = self.env['whatsapp.group.participants'].create({
                'group_id': group.id, 'action': action, 'contact_ids': [(6, 0, (others | hidden).ids)]})
            wizard.action_apply()
            self.assertIn('2 done', wizard.result_message)
            self.assertIn('Hidden Person (%s) refused: hidden number' % STRANGER, wizard.result_message)
            members = set(group.member_ids.mapped('contact_id.contact_id')) - {self.remote_a.own}
            if action == 'remove':
                self.assertEqual(members, {first.contact_id})
            else:
                self.assertEqual(members, {first.contact_id} | set(others.mapped('contact_id')))

    def test_contact_refresh_of_a_hidden_number(self):
        """GET /contacts/{ContactID} takes digits only: resolved first, or a clear error."""
        hidden = self.met_by_hidden_number(self.config_a, STRANGER)
        with self.assertRaises(UserError) as caught:
            hidden.action_refresh()
        self.assertIn('hidden number', str(caught.exception))
        phone_key = self.remote_a.contact_key(4)
        self.remote_a.hide(phone_key, HIDDEN)
        known = self.contact(self.config_a, phone_key)
        messages = len(known.message_ids) + 1
        hidden = self.met_by_hidden_number(self.config_a, HIDDEN)
        hidden.action_refresh()
        self.assertOnePerson(self.config_a, phone_key, HIDDEN, known.partner_id or hidden.partner_id, messages,
                             known.group_member_ids.mapped('group_id.group_id'))

    # -- Wassenger: a listing that carries both ids ----------------------------------------------
    def test_wassenger_participant_with_its_lid_merges_the_hidden_contact(self):
        group = self.env['whatsapp.group'].search([('configuration_id', '=', self.config_b.id)], limit=1)
        index = int(group.group_id.split('@')[0][-6:])
        person = next(key for key, _rank in self.remote_b.group_members(index) if self.remote_b.hidden_id(key))
        lid = self.remote_b.hidden_id(person)
        known = self.contact(self.config_b, person)
        self.assertEqual(known.lid, lid, 'the first sync recorded the hidden id beside the number')
        # a message from the hidden number now lands on the known contact
        self.met_by_hidden_number_again(self.config_b, lid)
        self.assertEqual(self.contact(self.config_b, lid), self.Contact)
        self.assertIn('again', known.message_ids.mapped('body'))

    def test_wassenger_hidden_contact_seen_first_is_merged_by_the_listing(self):
        """Seen by hidden number before any sync told its phone: merged when the listing does."""
        group = self.env['whatsapp.group'].search([('configuration_id', '=', self.config_b.id)], limit=1)
        index = int(group.group_id.split('@')[0][-6:])
        person = next(key for key, _rank in self.remote_b.group_members(index) if self.remote_b.hidden_id(key))
        lid = self.remote_b.hidden_id(person)
        known = self.contact(self.config_b, person)
        # as if the hidden id had not been known: both rows exist
        known.write({'lid': False})
        hidden = self.met_by_hidden_number(self.config_b, lid)
        partner = hidden.partner_id
        groups = set(known.group_member_ids.mapped('group_id.group_id'))
        messages = len(known.message_ids) + 1
        self.assertEqual(len(self.contact(self.config_b, lid)), 1)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.assertOnePerson(self.config_b, person, lid, known.partner_id or partner, messages, groups)
        # a re-run changes nothing
        count = self.Contact.search_count([('configuration_id', '=', self.config_b.id)])
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.assertEqual(self.Contact.search_count([('configuration_id', '=', self.config_b.id)]), count)
        self.assertOnePerson(self.config_b, person, lid, known.partner_id or partner, messages, groups)
