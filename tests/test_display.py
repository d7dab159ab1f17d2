# -*- coding: utf-8 -*-
"""What people read: schedules in their time zone, no dead ends, names that say something."""
from odoo import fields
from odoo.tests import tagged

from .common import WhatsappCase, member


@tagged('post_install', '-at_install')
class TestDisplay(WhatsappCase):

    def test_cron_status_in_the_readers_time_zone_and_plain_intervals(self):
        hourly = self.env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        daily = self.env.ref('whatsapp_integration.ir_cron_whatsapp_full_sync_daily')
        hourly.write({'active': True, 'nextcall': '2026-12-03 23:30:00'})
        daily.write({'active': False, 'nextcall': '2020-01-01 00:00:00'})
        self.env.user.tz = 'Europe/Madrid'
        text = self.service.with_user(self.env.user)._cron_status_text()
        self.assertIn('WhatsApp Data Sync: active, every hour; next run 2026-12-04 00:30 CET', text)
        self.assertIn('WhatsApp Data Sync (Frequent): inactive (every 30 minutes when active)', text)
        self.assertIn('WhatsApp Full Data Sync (Daily): inactive (every day when active)', text)
        self.assertNotIn('2020-01-01', text, 'an inactive job has no next run to show')
        self.assertNotIn('every 1 ', text)

    def test_a_skipped_run_says_why_in_its_summary(self):
        self.config_a.connection_state = 'draft'
        self.env['whatsapp.sync.service'].with_context(whatsapp_sync_commit=True).cron_sync_all_data()
        log = self.last_log(self.config_a)
        self.assertEqual(log.state, 'skipped')
        self.assertIn('Test Connection', log.summary)

    def test_a_membership_is_named_after_its_contact_and_group(self):
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [member('34600000001')])
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)
        membership = self.env['whatsapp.group.member'].search([('configuration_id', '=', self.config_a.id)])
        self.assertEqual(membership.display_name, '%s in Team' % membership.contact_id.display_name)

    def test_link_partner_says_when_no_partner_matches(self):
        self.remote_a.add_contacts(1)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        contact = self.stored('whatsapp.contact', self.config_a)
        contact.partner_id = False
        action = contact.action_link_partner()
        self.assertEqual(action['params']['title'], 'No partner linked')
        self.env['res.partner'].create({'name': 'Known', 'mobile': contact.phone})
        action = contact.action_link_partner()
        self.assertEqual(action['params']['title'], 'Partners linked')
        self.assertTrue(contact.partner_id)

    def test_removing_someone_in_no_group_says_nothing_was_removed(self):
        self.remote_a.add_contacts(1)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        action = self.stored('whatsapp.contact', self.config_a).action_remove_from_all_groups()
        self.assertEqual(action['params']['title'], 'Nothing to remove')

    def test_contacts_and_groups_show_their_last_message(self):
        self.remote_a.add_contacts(1)
        self.remote_a.add_messages(3)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        contact = self.stored('whatsapp.contact', self.config_a).filtered(lambda c: c.contact_id == '34600000000')
        newest = max(self.stored('whatsapp.message', self.config_a).mapped('message_date'))
        self.assertEqual(contact.last_message_at, newest)
        self.assertIsInstance(contact.last_message_at, type(fields.Datetime.now()))
