# -*- coding: utf-8 -*-
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestAccess(WhatsappCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_a.user_ids = [(4, cls.user.id)]

    def _sync_both(self):
        self.remote_a.add_contacts(2)
        self.remote_a.add_messages(3)
        self.remote_b.add_contacts(2, prefix='4477009')
        self.remote_b.add_messages(3, chat_id='447700900000', prefix='b')
        self.env['whatsapp.sync.service'].cron_sync_all_data()

    def test_user_sees_only_assigned_accounts_data(self):
        self._sync_both()
        env = self.env(user=self.user)
        self.assertEqual(env['whatsapp.configuration'].search([]), self.config_a)
        messages = env['whatsapp.message'].search([])
        self.assertEqual(len(messages), 3)
        self.assertEqual(messages.configuration_id, self.config_a)
        self.assertEqual(env['whatsapp.contact'].search([]).configuration_id, self.config_a)
        self.assertEqual(env['whatsapp.sync.log'].search([]).configuration_id, self.config_a)
        message_b = self.stored('whatsapp.message', self.config_b)[0]
        with self.assertRaises(AccessError):
            message_b.with_user(self.user).read(['body'])

    def test_access_through_a_group(self):
        self._sync_both()
        self.config_b.group_ids = [(4, self.env.ref('base.group_user').id)]
        env = self.env(user=self.user)
        self.assertEqual(env['whatsapp.configuration'].search([]), self.config_a | self.config_b)
        self.assertEqual(len(env['whatsapp.message'].search([])), 6)

    def test_user_cannot_read_any_token(self):
        with self.assertRaises(AccessError):
            self.config_a.with_user(self.user).read(['token'])
        fields_seen = self.env['whatsapp.configuration'].with_user(self.user).fields_get()
        self.assertNotIn('token', fields_seen)
        self.assertEqual(self.config_a.with_user(self.manager).token, 'secret-token-a')

    def test_user_cannot_edit_accounts(self):
        with self.assertRaises(AccessError):
            self.config_a.with_user(self.user).write({'name': 'Mine now'})

    def test_sync_now_syncs_only_the_users_accounts(self):
        self.remote_a.add_contacts(2)
        self.remote_b.add_contacts(2, prefix='4477009')
        service = self.service.with_user(self.user)
        action = service.manual_sync_all_data()
        self.assertEqual(action['params']['type'], 'success')
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 2)
        self.assertFalse(self.stored('whatsapp.contact', self.config_b))
        self.assertEqual(self.last_log(self.config_a).trigger, 'manual')

    def test_manager_sees_everything(self):
        self._sync_both()
        env = self.env(user=self.manager)
        self.assertEqual(len(env['whatsapp.message'].search([])), 6)

    def test_user_without_whatsapp_group_is_refused(self):
        from odoo.tests.common import new_test_user
        outsider = new_test_user(self.env, login='outsider', groups='base.group_user')
        with self.assertRaises(AccessError):
            self.env['whatsapp.message'].with_user(outsider).search([])
        with self.assertRaises(AccessError):
            self.service.with_user(outsider).manual_sync_all_data()

    def test_only_managers_create_cron_jobs(self):
        with self.assertRaises(AccessError):
            self.service.with_user(self.user).init_cron_jobs()

    def test_outsider_cannot_use_account_actions_through_rpc(self):
        from odoo.tests.common import new_test_user
        outsider = new_test_user(self.env, login='outsider2', groups='base.group_user')
        with self.assertRaises(AccessError):
            self.config_b.with_user(outsider).action_test_connection()
        with self.assertRaises(AccessError):
            self.config_a.with_user(self.user).action_register_webhook()
        partner = self.env['res.partner'].create({'name': 'P', 'mobile': '+34600000001'})
        with self.assertRaises(AccessError):
            partner.with_user(outsider).with_context(
                whatsapp_configuration_id=self.config_b.id).action_check_whatsapp()
        self.assertFalse(self.remote_b.requests)

    def test_user_cannot_check_numbers_through_an_account_not_assigned(self):
        from odoo.exceptions import UserError
        partner = self.env['res.partner'].create({'name': 'P', 'mobile': '+34600000001'})
        with self.assertRaises(UserError):
            partner.with_user(self.user).with_context(
                whatsapp_configuration_id=self.config_b.id).action_check_whatsapp()
        self.assertFalse(self.remote_b.requests)
        partner.with_user(self.user).with_context(
            whatsapp_configuration_id=self.config_a.id).action_check_whatsapp()
        self.assertEqual(self.remote_a.requests, ['check_numbers'])

    def test_user_cannot_move_synced_rows(self):
        self._sync_both()
        contact = self.stored('whatsapp.contact', self.config_a)[0]
        with self.assertRaises(AccessError):
            contact.with_user(self.user).write({'configuration_id': self.config_b.id})

    def test_user_refreshes_a_group_of_an_assigned_account(self):
        from .common import member
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [member('34600000001')])
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        group = self.stored('whatsapp.group', self.config_a)
        self.remote_a.groups[0].name = 'Renamed'
        group.with_user(self.user).action_refresh()
        self.assertEqual(group.name, 'Renamed')

    def test_only_the_scheduler_and_managers_sync_every_account(self):
        with self.assertRaises(AccessError):
            self.env['whatsapp.sync.service'].with_user(self.user).cron_sync_all_data(full=True, message_limit=0)
        self.assertFalse(self.remote_a.requests)
        self.env['whatsapp.sync.service'].with_user(self.manager).cron_sync_all_data()

