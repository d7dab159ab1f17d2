# -*- coding: utf-8 -*-
import threading
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.whatsapp_integration.models import whatsapp_sync_dispatch as sync_service_module

from .common import WhatsappCase

EXPECTED = {
    'ir_cron_whatsapp_data_sync': ('WhatsApp Data Sync', 1, 'hours', True, 'cron_sync_all_data()'),
    'ir_cron_whatsapp_data_sync_frequent': ('WhatsApp Data Sync (Frequent)', 30, 'minutes', False,
                                            'cron_sync_all_data()'),
    'ir_cron_whatsapp_full_sync_daily': ('WhatsApp Full Data Sync (Daily)', 1, 'days', False,
                                         'cron_sync_all_data(full=True)'),
}


@tagged('post_install', '-at_install')
class TestCrons(WhatsappCase):

    def _crons(self):
        return self.env['ir.cron'].with_context(active_test=False).search(
            [('model_id.model', '=', 'whatsapp.sync.service')])

    def test_install_created_exactly_the_three_crons(self):
        crons = self._crons()
        self.assertEqual(len(crons), 3)
        for xml_id, (name, number, unit, active, call) in EXPECTED.items():
            cron = self.env.ref('whatsapp_integration.%s' % xml_id)
            self.assertEqual(cron.name, name)
            self.assertEqual((cron.interval_number, cron.interval_type), (number, unit))
            self.assertEqual(cron.active, active)
            self.assertEqual(cron.numbercall, -1)
            self.assertFalse(cron.doall)
            self.assertEqual(cron.user_id, self.env.ref('base.user_root'))
            self.assertEqual(cron.state, 'code')
            self.assertIn(call, cron.code)
            self.assertTrue(cron.code.startswith('model.'), 'cron code only calls a service method')
            # the inherited server action also belongs to the module, so uninstall removes both
            self.assertTrue(self.env.ref('whatsapp_integration.%s_ir_actions_server' % xml_id))

    def test_crons_run_the_service(self):
        self.remote_a.add_contacts(3)
        cron = self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily')
        cron.method_direct_trigger()
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 3)
        self.assertTrue(self.last_log(self.config_a).full_sync)
        self.assertEqual(self.last_log(self.config_a).trigger, 'cron')

    def test_create_cron_jobs_is_idempotent(self):
        service = self.service.with_user(self.manager)
        service.init_cron_jobs()
        self.assertEqual(len(self._crons()), 3)
        # renamed and archived crons still count as existing
        hourly = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        hourly.write({'name': 'Renamed by admin', 'active': False})
        self.assertEqual(self.env['whatsapp.sync.service']._ensure_cron_jobs(), [])
        self.assertEqual(len(self._crons()), 3)
        self.assertEqual(hourly.name, 'Renamed by admin')

    def test_create_cron_jobs_recreates_a_deleted_cron(self):
        daily = self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily')
        action = daily.ir_actions_server_id
        daily.unlink()
        action.unlink()
        created = self.env['whatsapp.sync.service']._ensure_cron_jobs()
        self.assertEqual(created, ['WhatsApp Full Data Sync (Daily)'])
        self.assertEqual(len(self._crons()), 3)
        recreated = self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily')
        self.assertEqual(recreated.interval_type, 'days')
        self.assertFalse(recreated.active)

    def test_check_cron_status_lists_each_cron(self):
        action = self.service.check_cron_status()
        message = action['params']['message']
        self.assertIn('WhatsApp Data Sync: active', message)
        self.assertIn('WhatsApp Data Sync (Frequent): inactive', message)
        self.assertIn('WhatsApp Full Data Sync (Daily): inactive', message)
        self.assertIn('next run', message)

    def test_sync_service_record_exists_after_install(self):
        self.assertTrue(self.env.ref('whatsapp_integration.whatsapp_sync_service_default'))

    def test_scheduled_runs_skip_accounts_not_connected(self):
        self.remote_a.add_contacts(2)
        self.config_a.connection_state = 'draft'
        self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync').method_direct_trigger()
        log = self.last_log(self.config_a)
        self.assertEqual(log.state, 'skipped')
        self.assertIn('Test Connection', log.error_message)
        self.assertFalse(self.remote_a.requests)
        self.assertEqual(self.last_log(self.config_b).state, 'success')

    def test_refused_token_stops_scheduled_runs_until_fixed(self):
        from odoo.addons.whatsapp_integration import providers
        self.remote_a.fail_with = providers.AuthenticationError('Invalid or missing API token', 401)
        cron = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        cron.method_direct_trigger()
        self.assertEqual(self.config_a.connection_state, 'error')
        calls = len(self.remote_a.requests)
        cron.method_direct_trigger()
        self.assertEqual(len(self.remote_a.requests), calls, 'no request with a refused token')
        self.assertEqual(self.last_log(self.config_a).state, 'skipped')
        # a manual sync still tries, and success reconnects the account
        self.remote_a.fail_with = None
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(self.config_a.connection_state, 'connected')

    def test_service_form_switches_crons(self):
        service = self.service.with_user(self.manager)
        self.assertTrue(service.cron_hourly_active)
        self.assertFalse(service.cron_daily_active)
        service.write({'cron_daily_active': True, 'cron_hourly_active': False})
        self.assertTrue(self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily').active)
        self.assertFalse(self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync').active)
        from odoo.exceptions import AccessError
        with self.assertRaises(AccessError):
            self.service.with_user(self.user).write({'cron_daily_active': False})

    def test_a_save_sending_every_switch_changes_only_what_changed(self):
        """The web client sends the three switches on each save."""
        service = self.service.with_user(self.manager)
        hourly = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        daily = self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily')
        service.write({'cron_hourly_active': True, 'cron_frequent_active': False, 'cron_daily_active': True})
        self.assertEqual((hourly.active, daily.active), (True, True))
        self.assertTrue(service.cron_daily_active and service.cron_hourly_active)
        service.write({'cron_hourly_active': True, 'cron_frequent_active': False, 'cron_daily_active': False})
        self.assertEqual((hourly.active, daily.active), (True, False))


@tagged('post_install', '-at_install')
class TestCommitDecision(WhatsappCase):
    """A sync commits only the cursor it opened for itself, never its caller's,
    whatever context an RPC caller sends."""

    def test_only_the_syncs_own_cursor_commits(self):
        service = self.service.with_context(whatsapp_sync_commit=True)
        thread = threading.current_thread()
        self.assertFalse(service._commit_allowed(), "the caller's cursor never commits")
        with patch.object(sync_service_module.http, 'request', object()):
            self.assertFalse(service._commit_allowed(), 'not even in a web request asking for it')
            self.assertFalse(service._scheduled_run(), 'nor counts a request as the scheduler')
        with patch.object(thread, 'testing', False, create=True):
            self.assertTrue(service._own_transactions(), 'outside unit tests every account has its own')
        self.assertFalse(service._own_transactions(), 'inside one test transaction it runs in the test cursor')
        self.registry.enter_test_mode(self.cr)
        try:
            with service._own_transaction() as own:
                self.assertIsNot(own.env.cr, self.env.cr)
                self.assertTrue(own._commit_allowed())
        finally:
            self.registry.leave_test_mode()
