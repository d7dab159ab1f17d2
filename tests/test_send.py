# -*- coding: utf-8 -*-
import base64
import datetime

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.whatsapp_integration import providers

from .common import BASE_TIME, WhatsappCase, member

# the smallest valid PNG: 1x1 transparent pixel
PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==')


@tagged('post_install', '-at_install')
class TestSend(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.remote_a.add_contacts(2)
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [member('34600000001')])
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.contacts = self.stored('whatsapp.contact', self.config_a).sorted('contact_id')
        self.group = self.stored('whatsapp.group', self.config_a)

    def _send(self, **values):
        values.setdefault('configuration_id', self.config_a.id)
        wizard = self.env['whatsapp.send.message'].create(values)
        wizard.action_send()
        return wizard

    def test_text_to_contact_creates_an_outgoing_message(self):
        wizard = self._send(contact_ids=[(6, 0, self.contacts[:1].ids)], body='Hello 👋')
        self.assertEqual(self.remote_a.sent, [('34600000000', 'Hello 👋', None)])
        message = wizard.message_ids
        self.assertEqual((message.status, message.from_me, message.message_id), ('sent', True, 'sent-1'))
        self.assertEqual(message.contact_id, self.contacts[0])
        self.assertEqual(message.body, 'Hello 👋')

    def test_media_to_group_detects_the_type(self):
        wizard = self._send(group_ids=[(6, 0, self.group.ids)], body='See this',
                            attachment=base64.b64encode(PNG), attachment_name='dot.png')
        self.assertEqual(self.remote_a.sent, [('120363000000000001@g.us', 'See this', 'dot.png')])
        message = wizard.message_ids
        self.assertEqual((message.message_type, message.media_mime_type), ('image', 'image/png'))
        self.assertEqual(message.group_id, self.group)
        self.assertEqual(message.chat_type, 'group')

    def test_bulk_send_continues_past_failures_and_records_them(self):
        self.remote_a.refuse_sends_to['34600000000'] = 'Recipient blocked you'
        wizard = self._send(contact_ids=[(6, 0, self.contacts.ids)], body='Hi')
        self.assertEqual(len(self.remote_a.sent), 1)
        failed = wizard.message_ids.filtered(lambda m: m.status == 'failed')
        self.assertEqual(len(failed), 1)
        self.assertIn('Recipient blocked you', failed.error_message)
        self.assertEqual(failed.contact_id, self.contacts[0])
        self.assertIn('failed', wizard.result_message)
        self.assertEqual(len(wizard.message_ids.filtered(lambda m: m.status == 'sent')), 1)

    def test_invalid_number_is_refused_before_any_request(self):
        requests_before = len(self.remote_a.requests)
        with self.assertRaises(UserError):
            self._send(phone='12', body='Hi')
        self.assertEqual(len(self.remote_a.requests), requests_before)

    def test_typed_number_is_normalised_and_gets_a_contact(self):
        wizard = self._send(phone='+44 7911 123456', body='Hi')
        self.assertEqual(self.remote_a.sent[0][0], '+447911123456')
        self.assertEqual(wizard.message_ids.contact_id.contact_id, '447911123456')

    def test_partner_without_number_is_reported_not_sent(self):
        partner = self.env['res.partner'].create({'name': 'No phone'})
        with_phone = self.env['res.partner'].create({'name': 'Phone', 'mobile': '+34 600 000 001'})
        wizard = self._send(partner_ids=[(6, 0, (partner | with_phone).ids)], body='Hi')
        self.assertEqual([sent[0] for sent in self.remote_a.sent], ['+34600000001'])
        self.assertIn('no valid mobile', wizard.result_message)
        self.assertEqual(wizard.message_ids.filtered(lambda m: m.status == 'sent').contact_id, self.contacts[1])

    def test_recipient_of_another_account_is_refused(self):
        with self.assertRaises(UserError):
            self._send(configuration_id=self.config_b.id, contact_ids=[(6, 0, self.contacts[:1].ids)], body='x')
        self.assertFalse(self.remote_b.sent)

    def test_user_sends_only_from_assigned_accounts(self):
        wizard = self.env['whatsapp.send.message'].with_user(self.user).create(
            {'configuration_id': self.config_a.id, 'phone': '+34600000001', 'body': 'x'})
        with self.assertRaises(UserError):
            wizard.action_send()
        self.config_a.user_ids = [(4, self.user.id)]
        wizard.action_send()
        self.assertEqual(len(self.remote_a.sent), 1)

    def test_opened_from_a_partner(self):
        partner = self.env['res.partner'].create({'name': 'P', 'mobile': '+34600000001'})
        action = partner.action_send_whatsapp()
        wizard = self.env['whatsapp.send.message'].with_context(action['context']).create({'body': 'x'})
        self.assertEqual(wizard.partner_ids, partner)
        self.assertTrue(wizard.configuration_id)

    def test_register_webhook_stores_the_secret_and_shows_the_url(self):
        self.env['ir.config_parameter'].set_param('web.base.url', 'https://odoo.example.com')
        self.config_a.action_register_webhook()
        url, secret = self.remote_a.webhook
        self.assertTrue(url.endswith('/whatsapp/webhook/whapi/%s' % self.config_a.webhook_key))
        self.assertEqual(self.config_a.webhook_secret, secret)
        self.assertGreaterEqual(len(secret), 32)
        self.assertTrue(self.config_a.webhook_registered_at)
        other = self.env['whatsapp.configuration'].create({'name': 'Other', 'provider': 'whapi', 'token': 't'})
        self.assertNotEqual(other.webhook_key, self.config_a.webhook_key)

    def test_register_webhook_refuses_an_address_the_provider_cannot_reach(self):
        Parameters = self.env['ir.config_parameter']
        for base_url in ('http://127.0.0.1:8069', 'https://localhost', 'https://192.168.1.20:8069',
                         'http://odoo.example.com', 'https://odoo.local'):
            Parameters.set_param('web.base.url', base_url)
            action = self.config_a.action_register_webhook()
            self.assertEqual(action['params']['type'], 'warning', base_url)
            self.assertIn('web.base.url', action['params']['message'])
        self.assertFalse(self.remote_a.webhook)
        self.assertFalse(self.config_a.webhook_registered_at)

    def test_wassenger_queue_id_becomes_the_whatsapp_id(self):
        self.remote_b.add_contacts(1, prefix='4477009')
        wizard = self._send(configuration_id=self.config_b.id, phone='+34600000001', body='Hola')
        sent = wizard.message_ids
        self.assertEqual((sent.message_id, sent.provider_ref), ('sent-1', 'sent-1'))
        Message = self.env['whatsapp.message']
        Message._apply_status_updates(self.config_b, [providers.StatusUpdate(
            message_id='sent-1', status='delivered', alt_message_id='3EB0WHATSAPPID')])
        self.assertEqual((sent.message_id, sent.status), ('3EB0WHATSAPPID', 'delivered'))
        # the next sync reads it under its WhatsApp id: same row
        self.env['whatsapp.sync.service']._store_messages(self.config_b, None, [providers.Message(
            message_id='3EB0WHATSAPPID', chat_id='34600000001', timestamp=BASE_TIME, from_me=True,
            message_type='text', body='Hola', status='read')])
        self.assertEqual(Message.search_count([('configuration_id', '=', self.config_b.id),
                                               ('body', '=', 'Hola')]), 1)
        self.assertEqual(sent.status, 'read')

    def test_queued_send_adopted_by_the_next_sync(self):
        wizard = self._send(configuration_id=self.config_b.id, phone='+34600000001', body='See you at 6')
        sent = wizard.message_ids
        self.assertEqual(sent.chat_id, '34600000001')
        synced = providers.Message(
            message_id='3EB0SYNCED', chat_id='34600000001',
            timestamp=sent.message_date.replace(tzinfo=datetime.timezone.utc), from_me=True,
            message_type='text', body='See you at 6', status='delivered')
        self.env['whatsapp.sync.service']._store_messages(self.config_b, None, [synced])
        self.assertEqual(sent.message_id, '3EB0SYNCED')
        self.assertEqual(sent.status, 'delivered')
        self.assertEqual(self.env['whatsapp.message'].search_count(
            [('configuration_id', '=', self.config_b.id), ('body', '=', 'See you at 6')]), 1)

    def test_identical_sends_are_adopted_one_to_one(self):
        first = self._send(configuration_id=self.config_b.id, phone='+34600000001', body='OK').message_ids
        second = self._send(configuration_id=self.config_b.id, phone='+34600000001', body='OK').message_ids

        def synced(message_id, message):
            return providers.Message(
                message_id=message_id, chat_id='34600000001', from_me=True, message_type='text', body='OK',
                timestamp=message.message_date.replace(tzinfo=datetime.timezone.utc), status='sent')
        store = self.env['whatsapp.sync.service']._store_messages
        store(self.config_b, None, [synced('W1', first)])
        self.assertEqual(first.message_id, 'W1')
        # the next page holds both: W1 is already stored, W2 is the second send
        store(self.config_b, None, [synced('W1', first), synced('W2', second)])
        self.assertEqual(second.message_id, 'W2')
        self.assertEqual(self.env['whatsapp.message'].search_count(
            [('configuration_id', '=', self.config_b.id), ('body', '=', 'OK')]), 2)
