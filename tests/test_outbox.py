# -*- coding: utf-8 -*-
"""Bulk sends through the outbox: queued, paced per account, each recipient once."""
import time
import uuid

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.whatsapp_integration import providers

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestOutbox(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.user_a, self.user_b = self.account_users('out')
        self.partners = self.env['res.partner'].create([
            {'name': 'Customer %d' % number, 'mobile': '+3460010%04d' % number} for number in range(8)])
        self.env['phone.blacklist'].sudo()._add(['+34600100007'])
        self.template = self.env['whatsapp.template'].create({
            'name': 'Sale', 'configuration_id': self.config_a.id,
            'model_id': self.env['ir.model']._get('res.partner').id, 'recipient_field': 'mobile',
            'body': 'Hello ${object.name}: 20% off this week.'})
        self.Outbox = self.env['whatsapp.outbox']
        self.sleeps = []

    def send_queued(self):
        return self.Outbox._send_until(time.monotonic() + 3600, sleep=self.sleeps.append)

    def queue_from_the_action_menu(self):
        wizard = self.env['whatsapp.send.message'].with_user(self.user_a).with_context(
            active_model='res.partner', active_ids=self.partners.ids, default_template_id=self.template.id).create({})
        wizard.action_send()
        return wizard

    def test_many_records_are_queued_then_sent_once_at_the_account_pace(self):
        self.config_a.send_rate_per_minute = 60
        wizard = self.queue_from_the_action_menu()
        self.assertIn('7 messages queued', wizard.result_message)
        self.assertIn('opted out', wizard.result_message)
        self.assertEqual(self.remote_a.sent, [])      # nothing in the user's request
        rows = self.Outbox.search([('configuration_id', '=', self.config_a.id)])
        self.assertEqual(set(rows.mapped('state')), {'queued'})
        self.assertEqual(self.send_queued(), 7)
        self.assertEqual(len(self.remote_a.sent), 7)
        self.assertEqual(len({to for to, _text, _file in self.remote_a.sent}), 7)
        self.assertEqual(set(rows.mapped('state')), {'sent'})
        self.assertTrue(all(rows.mapped('message_id')))
        # 60 per minute: a second between sends
        self.assertEqual(len(self.sleeps), 6)
        for delay in self.sleeps:
            self.assertAlmostEqual(delay, 1.0, delta=0.1)
        # a later run sends nothing again
        self.assertEqual(self.send_queued(), 0)
        self.assertEqual(len(self.remote_a.sent), 7)
        self.assertIn('20% off', self.partners[0].message_ids[0].body)

    def test_a_refused_recipient_fails_alone(self):
        self.remote_a.refuse_sends_to['34600100002'] = 'forbidden to send to this recipient'
        self.queue_from_the_action_menu()
        self.send_queued()
        rows = self.Outbox.search([('configuration_id', '=', self.config_a.id)])
        failed = rows.filtered(lambda row: row.state == 'failed')
        self.assertEqual(failed.number, '34600100002')
        self.assertIn('forbidden', failed.error)
        self.assertEqual(len(rows.filtered(lambda row: row.state == 'sent')), 6)

    def test_a_restarted_worker_never_sends_twice(self):
        self.queue_from_the_action_menu()
        rows = self.Outbox.search([('configuration_id', '=', self.config_a.id)], order='id')
        Ledger = self.env['whatsapp.provider.call'].sudo()
        # row 0: claimed, then its worker was killed before the call: sent once on restart
        # row 1: killed during the call (the ledger knows it started): not repeated, flagged
        # row 2: killed after the call, before its row was marked: the ledger's answer is reused
        old = '2000-01-01 00:00:00'
        rows[:3].write({'state': 'sending', 'claimed_at': old})
        key = 'outbox:%d:0'
        with self.env.registry.cursor() as cr:   # the ledger commits on its own, as the dead worker's did
            cr.execute("INSERT INTO whatsapp_provider_call (key, state) VALUES (%s, 'pending')", (key % rows[1].id,))
        Ledger._call_once(key % rows[2].id, lambda: providers.SendResult(message_id='already-1'))
        self.send_queued()
        self.assertEqual(rows[0].state, 'sent')
        self.assertEqual(rows[1].state, 'unknown')
        self.assertEqual(rows[2].state, 'sent')
        self.assertEqual(rows[2].message_id.message_id, 'already-1')
        sent_to = [to for to, _text, _file in self.remote_a.sent]
        self.assertNotIn(rows[1].number, sent_to)
        self.assertNotIn(rows[2].number, sent_to)
        self.assertEqual(len(sent_to), 5)
        self.assertEqual(len(set(sent_to)), 5)
        # a manager who checked WhatsApp retries the unknown one: a send of its own
        rows[1].action_retry()
        self.send_queued()
        self.assertEqual(rows[1].state, 'sent')

    def test_the_same_request_reaches_a_number_once(self):
        batch = uuid.uuid4().hex
        row = {'number': '34600100001', 'body': 'Hi'}
        self.assertEqual(self.Outbox._enqueue(self.config_a, batch, [row, dict(row)]), 1)
        self.assertEqual(self.Outbox._enqueue(self.config_a, batch, [row]), 0)

    def test_a_thousand_records_are_queued(self):
        rows = [{'number': '346002%05d' % number, 'body': 'Hi %d' % number} for number in range(1000)]
        self.assertEqual(self.Outbox._enqueue(self.config_a, uuid.uuid4().hex, rows), 1000)
        self.assertEqual(self.Outbox.search_count([('configuration_id', '=', self.config_a.id)]), 1000)

    def test_users_of_another_account_see_no_row(self):
        self.queue_from_the_action_menu()
        rows = self.Outbox.search([('configuration_id', '=', self.config_a.id)])
        self.assertEqual(len(self.Outbox.with_user(self.user_a).search([('id', 'in', rows.ids)])), 7)
        self.assertFalse(self.Outbox.with_user(self.user_b).search([('id', 'in', rows.ids)]))
        with self.assertRaises(AccessError):
            rows[:1].with_user(self.user_b).read(['body'])
