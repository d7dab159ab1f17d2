# -*- coding: utf-8 -*-
"""Account secrets live in whatsapp.credential: no ORM or RPC path of the account
model reaches them for someone who is not a WhatsApp manager."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WhatsappCase

SECRETS = ('token', 'webhook_key', 'webhook_secret')


@tagged('post_install', '-at_install')
class TestCredentials(WhatsappCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_a.user_ids = [(4, cls.user.id)]
        cls.config_a.webhook_secret = 'secret-hook-a'
        cls.secret_values = ['secret-token-a', 'secret-hook-a', cls.config_a.webhook_key]

    def assertNothingSecret(self, result):
        text = repr(result)
        for value in self.secret_values:
            self.assertNotIn(value, text)

    def test_secrets_are_not_columns_of_the_account_table(self):
        self.env.cr.execute("""SELECT column_name FROM information_schema.columns
                                WHERE table_name = 'whatsapp_configuration' AND column_name IN %s""", (SECRETS,))
        self.assertEqual(self.env.cr.fetchall(), [])

    def test_user_read_group_in_every_spec_form_reaches_no_secret(self):
        Configuration = self.env['whatsapp.configuration'].with_user(self.user)
        for name in SECRETS:
            for spec in ('x:max(%s)' % name, '%s:max' % name, '%s:array_agg' % name, 'x:count_distinct(%s)' % name):
                with self.assertRaises((UserError, AccessError, ValueError)):
                    Configuration.read_group([], [spec], [])
            with self.assertRaises((UserError, AccessError, ValueError)):
                Configuration.read_group([], ['name'], [name])
            self.assertNothingSecret(Configuration.read_group([], ['name', name], ['name']))

    def test_user_can_neither_search_nor_sort_by_a_secret(self):
        Configuration = self.env['whatsapp.configuration'].with_user(self.user)
        for domain in ([('token', '=like', 's%')], [('webhook_key', '!=', False)],
                       [('webhook_secret', '=', 'secret-hook-a')]):
            with self.assertRaises((AccessError, ValueError)):
                Configuration.search_count(domain)
        # Odoo ignores the order and warns that the field is no column: expected here
        with mute_logger('odoo.models'):
            for name in SECRETS:
                self.assertEqual(Configuration.search([], order='%s desc' % name), self.config_a)
        # a manager still finds an account by its token
        self.assertEqual(self.env['whatsapp.configuration'].with_user(self.manager).search(
            [('token', '=', 'secret-token-a')]), self.config_a)

    def test_user_read_export_and_onchange_reach_no_secret(self):
        self.user.groups_id = [(4, self.env.ref('base.group_allow_export').id)]
        config = self.config_a.with_user(self.user)
        for name in SECRETS:
            with self.assertRaises(AccessError):
                config.read([name])
        self.assertNothingSecret(config.export_data(list(SECRETS) + ['name']))
        self.assertNothingSecret(config.read())
        spec = {name: '' for name in SECRETS + ('name', 'provider')}
        self.assertNothingSecret(config.onchange({'name': 'Account A'}, 'name', spec))
        self.assertNothingSecret(config.onchange({}, [], spec))
        with self.assertRaises(AccessError):
            self.env['whatsapp.credential'].with_user(self.user).search([])
        with self.assertRaises(AccessError):
            config.write({'token': 'mine now'})

    def test_sync_service_outcome_not_aggregated_for_users(self):
        self.remote_a.add_contacts(1)
        self.service.manual_sync_all_data()
        Service = self.env['whatsapp.sync.service'].with_user(self.user)
        with self.assertRaises((UserError, AccessError)):
            Service.read_group([], ['x:max(last_sync_message)'], [])
        with self.assertRaises(AccessError):
            self.service.with_user(self.user).read(['last_sync_message'])
        self.assertIn('Account A', self.service.with_user(self.manager).last_sync_message)

    def test_users_still_sync_with_the_token_they_cannot_read(self):
        self.remote_a.add_contacts(2)
        self.service.with_user(self.user).manual_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 2)

    def test_each_account_has_its_own_key_and_a_manager_rotates_it(self):
        Configuration = self.env['whatsapp.configuration']
        old_key = self.config_a.webhook_key
        self.assertNotEqual(old_key, self.config_b.webhook_key)
        copy = self.config_a.copy()
        self.assertNotEqual(copy.webhook_key, old_key)
        self.assertFalse(copy.token)
        self.assertEqual(Configuration._find_by_webhook_key('whapi', old_key), self.config_a)
        self.assertFalse(Configuration._find_by_webhook_key('wassenger', old_key))
        with self.assertRaises(AccessError):
            self.config_a.with_user(self.user).action_rotate_webhook_key()
        self.config_a.webhook_registered_at = '2026-01-01 00:00:00'
        self.config_a.with_user(self.manager).action_rotate_webhook_key()
        self.assertNotEqual(self.config_a.webhook_key, old_key)
        self.assertFalse(self.config_a.webhook_registered_at)
        self.assertFalse(Configuration._find_by_webhook_key('whapi', old_key))
        self.assertEqual(Configuration._find_by_webhook_key('whapi', self.config_a.webhook_key), self.config_a)
        self.assertIn(self.config_a.webhook_key, self.config_a.webhook_url)

    def test_upgrade_moves_legacy_columns_and_splits_shared_keys(self):
        """Versions before 14.0.1.1.0 kept the secrets on the account table, and accounts
        created before the webhook key existed all got the same one."""
        cr = self.env.cr
        cr.execute("ALTER TABLE whatsapp_configuration ADD COLUMN token varchar, "
                   "ADD COLUMN webhook_key varchar, ADD COLUMN webhook_secret varchar")
        cr.execute("UPDATE whatsapp_configuration SET token = 'legacy-' || id, webhook_key = 'shared-key-0123456789', "
                   "webhook_secret = 'legacy-secret', webhook_registered_at = now() WHERE id IN %s",
                   ((self.config_a.id, self.config_b.id),))
        cr.execute("DELETE FROM whatsapp_credential WHERE configuration_id IN %s", ((self.config_a.id, self.config_b.id),))
        self.env['base'].invalidate_cache()
        Credential = self.env['whatsapp.credential']
        self.assertEqual(Credential._adopt_legacy_columns(), 2)
        self.assertEqual(self.config_a.token, 'legacy-%d' % self.config_a.id)
        self.assertEqual(self.config_b.token, 'legacy-%d' % self.config_b.id)
        self.assertEqual(self.config_b.webhook_secret, 'legacy-secret')
        keys = {self.config_a.webhook_key, self.config_b.webhook_key}
        self.assertEqual(len(keys), 2)
        self.assertIn('shared-key-0123456789', keys)
        renewed = self.config_b if self.config_a.webhook_key == 'shared-key-0123456789' else self.config_a
        self.assertFalse(renewed.webhook_registered_at)
        cr.execute("""SELECT count(*) FROM information_schema.columns
                       WHERE table_name = 'whatsapp_configuration' AND column_name IN %s""", (SECRETS,))
        self.assertEqual(cr.fetchone()[0], 0)
        self.assertEqual(Credential._adopt_legacy_columns(), 0)
