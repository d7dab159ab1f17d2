# -*- coding: utf-8 -*-
"""What people read on the sync screens: who waits in the background, each account's
last result, times in their own zone, titles that say what a record is."""
import datetime
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import Form

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestSyncScreens(WhatsappCase):

    def setUp(self):
        super().setUp()
        Service = type(self.env['whatsapp.sync.service'])
        for name, value in (('_in_web_request', True), ('_queue_jobs_available', False)):
            patcher = patch.object(Service, name, lambda self, _value=value: _value)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.remote_a.add_contacts(3)
        self.remote_a.add_messages(5)
        self.remote_b.add_contacts(2)
        self.remote_b.add_messages(4)

    def first_sync(self):
        with patch.object(type(self.env['whatsapp.sync.service']), '_in_web_request', lambda self: False):
            self.env['whatsapp.sync.service'].cron_sync_all_data()

    def test_sync_now_runs_the_quick_accounts_and_queues_only_the_slow_one(self):
        self.first_sync()
        self.last_log(self.config_b).duration = 42  # B took long last time: it goes to the background
        self.remote_a.add_messages(2, start_minutes=100, prefix='new')
        action = self.service.with_user(self.manager).manual_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 7, 'A ran at once')
        request = self.env['whatsapp.sync.request'].search([])
        self.assertEqual(request.configuration_ids, self.config_b, 'only B waits')
        message = action['params']['message']
        self.assertIn('Account A:', message)
        self.assertIn('Account B: in the background', message)

    def test_a_queued_sync_shows_at_once_on_the_sync_service(self):
        self.config_a.user_ids = [(4, self.user.id)]
        self.service.with_user(self.user).manual_sync_all_data()  # a first sync: queued
        screen = Form(self.service.with_user(self.user))
        self.assertEqual(len(screen.waiting_request_ids), 1, 'Waiting to Start lists it before the cron runs')
        self.assertEqual(screen.waiting_request_ids[0].configuration_ids[:], self.config_a)
        other = Form(self.service.with_user(self.manager))
        self.assertEqual(len(other.waiting_request_ids), 1, 'managers see every waiting sync')

    def test_a_users_sync_of_one_account_keeps_the_others_result_for_managers(self):
        self.first_sync()
        self.config_a.user_ids = [(4, self.user.id)]
        self.service.with_user(self.user).manual_sync_all_data()
        text = self.service.with_user(self.manager).last_sync_message
        self.assertIn('Account A:', text)
        self.assertIn('Account B:', text, "the user's run of A does not hide B's last result")

    def test_switching_a_scheduled_sync_on_plans_its_next_run_ahead(self):
        frequent = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync_frequent')
        frequent.nextcall = fields.Datetime.now() - datetime.timedelta(days=3)
        screen = Form(self.service.with_user(self.manager))
        screen.cron_frequent_active = True
        screen.save()
        self.assertTrue(frequent.active)
        self.assertGreater(frequent.nextcall, fields.Datetime.now(), 'the next run is not a past time')
        self.assertIn('next run %s' % self.service._local_time(frequent.nextcall), self.service.cron_status)

    def test_titles_say_the_account_or_chat_and_the_time_in_the_readers_zone(self):
        self.first_sync()
        reader = self.manager
        reader.tz = 'Asia/Tokyo'  # UTC+9, no summer time
        log = self.last_log(self.config_a)
        log.started_at = datetime.datetime(2026, 11, 2, 20, 30)
        self.assertEqual(log.with_user(reader).display_name, 'Account A · 2026-11-03 05:30 JST')
        message = self.stored('whatsapp.message', self.config_a)[:1]
        message.message_date = datetime.datetime(2026, 11, 2, 23, 15)
        self.assertEqual(message.with_user(reader).display_name,
                         '%s · 2026-11-03 08:15 JST' % message.contact_id.display_name)

    def test_template_preview_offers_the_templates_model_only(self):
        template = self.env['whatsapp.template'].create({
            'name': 'Hello', 'model_id': self.env['ir.model']._get('res.partner').id, 'body': 'Hi ${object.name}',
            'recipient_field': 'mobile'})
        preview = template.action_preview()
        Preview = self.env['whatsapp.template.preview'].with_context(preview['context'])
        models = [model for model, _label in Preview._fields['resource_ref']._description_selection(Preview.env)]
        self.assertEqual(models, ['res.partner'])
