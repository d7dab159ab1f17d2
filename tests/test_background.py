# -*- coding: utf-8 -*-
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestBackground(WhatsappCase):
    """From the browser without queue_job, long syncs are queued for the cron instead of running
    in the request."""

    def setUp(self):
        super().setUp()
        self.remote_a.add_contacts(5)
        self.remote_a.add_messages(60)
        self.config_a.user_ids = [(4, self.user.id)]
        Service = type(self.env['whatsapp.sync.service'])
        patcher = patch.object(Service, '_in_web_request', lambda self: True)
        patcher.start()
        self.addCleanup(patcher.stop)
        # the built-in queue, also where OCA queue_job is installed (tests/test_queue_job.py)
        patcher = patch.object(Service, '_queue_jobs_available', lambda self: False)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.Request = self.env['whatsapp.sync.request']

    def test_first_sync_from_sync_now_is_queued_then_run_by_the_cron(self):
        action = self.service.with_user(self.user).manual_sync_all_data()
        self.assertIn('background', action['params']['title'])
        self.assertFalse(self.stored('whatsapp.contact', self.config_a), 'nothing ran inside the request')
        request = self.Request.search([])
        self.assertEqual((request.state, request.user_id), ('pending', self.user))
        hourly = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        self.assertLessEqual(hourly.nextcall, fields.Datetime.now(), 'the cron is brought forward')
        self.run_scheduler()
        self.assertEqual(request.state, 'done')
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 5)
        self.assertIn('Account A', request.result)
        notification = self.env['mail.message'].search(
            [('model', '=', 'whatsapp.sync.service'), ('subject', '=', 'WhatsApp sync finished')], limit=1)
        self.assertIn(self.user.partner_id, notification.partner_ids)

    def run_scheduler(self):
        """What the sync cron runs: its context, outside any web request."""
        Service = type(self.env['whatsapp.sync.service'])
        with patch.object(Service, '_in_web_request', lambda self: False):
            self.env['whatsapp.sync.service'].with_context(whatsapp_sync_commit=True).cron_sync_all_data()

    def test_a_queued_sync_does_not_bring_the_scheduled_sync_of_every_account_forward(self):
        hourly = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        hourly.nextcall = fields.Datetime.add(fields.Datetime.now(), minutes=40)
        self.service.with_user(self.user).manual_sync_all_data()
        Log = self.env['whatsapp.sync.log']
        self.run_scheduler()
        self.assertEqual(Log.search([]).configuration_id, self.config_a, 'the woken run synced the request only')
        self.assertEqual(len(Log.search([])), 1, 'and no account twice')
        self.run_scheduler()  # the next run, when due, is the scheduled sync of every account
        self.assertEqual(Log.search([]).configuration_id, self.config_a | self.config_b)

    def test_second_start_while_queued_says_so(self):
        self.service.with_user(self.user).manual_sync_all_data()
        action = self.service.with_user(self.user).manual_sync_all_data()
        self.assertEqual(action['params']['title'], 'Sync already started')
        self.assertEqual(self.Request.search_count([]), 1)

    def test_quick_incremental_sync_runs_inline(self):
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.remote_a.add_messages(3, start_minutes=100, prefix='new')
        action = self.service.with_user(self.user).manual_sync_all_data()
        self.assertEqual(action['params']['title'], 'Sync finished')
        self.assertFalse(self.Request.search([]))
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 53)

    def test_wizard_full_history_is_queued(self):
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        wizard = self.env['whatsapp.sync.wizard'].with_user(self.user).create(
            {'sync_type': 'messages', 'message_limit': 0, 'configuration_id': self.config_a.id})
        wizard.sync_data()
        self.assertIn('background', wizard.result_message)
        request = self.Request.search([])
        self.assertEqual((request.kinds, request.message_limit, request.trigger), ('messages', 0, 'wizard'))
        self.env['whatsapp.sync.service']._get_service()._process_sync_requests()
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 60)
