# -*- coding: utf-8 -*-
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WhatsappCase, member


@tagged('post_install', '-at_install')
class TestWizard(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.remote_a.add_contacts(4)
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [member('34600000001'), member('34600000002')])
        self.remote_a.add_messages(80)

    def _run(self, **values):
        values.setdefault('configuration_id', self.config_a.id)
        wizard = self.env['whatsapp.sync.wizard'].create(values)
        action = wizard.sync_data()
        self.assertEqual(action['res_id'], wizard.id)
        self.assertEqual(wizard.state, 'done')
        return wizard

    def _counts(self):
        return tuple(len(self.stored(model, self.config_a)) for model in (
            'whatsapp.contact', 'whatsapp.group', 'whatsapp.group.member', 'whatsapp.message'))

    def test_shell_call_syncs_everything(self):
        self.env['whatsapp.sync.wizard'].create({'sync_type': 'all'}).sync_data()
        # 4 contacts + members 1, 2 are among them; the message chat is contact 0
        self.assertEqual(self._counts(), (4, 1, 2, 50))
        self.assertTrue(self.last_log(self.config_b))

    def test_contacts_only(self):
        wizard = self._run(sync_type='contacts')
        self.assertEqual(self._counts(), (4, 0, 0, 0))
        self.assertIn('Account A', wizard.result_message)
        self.assertFalse(self.last_log(self.config_b), 'only the chosen account syncs')

    def test_groups_only(self):
        self._run(sync_type='groups')
        self.assertEqual(self._counts(), (0, 1, 0, 0))

    def test_group_members_only(self):
        self._run(sync_type='group_members')
        self.assertEqual(self._counts(), (2, 1, 2, 0))

    def test_messages_with_count(self):
        self._run(sync_type='messages', message_limit=30)
        self.assertEqual(self._counts()[3], 30)

    def test_messages_full_history(self):
        self._run(sync_type='messages', message_limit=0)
        self.assertEqual(self._counts()[3], 80)

    def test_custom(self):
        self._run(sync_type='custom', sync_contacts=False, sync_groups=True, sync_group_members=False,
                  sync_messages=True, message_limit=10)
        self.assertEqual(self._counts(), (1, 1, 0, 10))

    def test_custom_needs_a_kind(self):
        with self.assertRaises(UserError):
            self._run(sync_type='custom', sync_contacts=False, sync_groups=False, sync_group_members=False,
                      sync_messages=False)

    def test_result_reports_errors(self):
        from odoo.addons.whatsapp_integration import providers
        self.remote_a.fail_with = providers.TransientError('Provider unavailable', 503)
        wizard = self._run(sync_type='all')
        self.assertIn("The provider's server had an error", wizard.result_message)
        self.assertEqual(wizard.log_ids.state, 'error')
        self.assertIn('Provider unavailable', wizard.log_ids.error_details, 'the detail is one click away')

    def test_user_cannot_sync_an_account_not_assigned(self):
        wizard = self.env['whatsapp.sync.wizard'].with_user(self.user).create({'sync_type': 'contacts'})
        wizard.sync_data()
        self.assertFalse(wizard.log_ids)
        self.assertEqual(self._counts()[0], 0)
