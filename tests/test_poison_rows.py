# -*- coding: utf-8 -*-
"""An item the database refuses is skipped and recorded; the rest of its page,
the watermark and every later run go on."""
import json
import secrets
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.whatsapp_integration import providers

from .common import WhatsappCase, media
from .test_webhooks import WebhookCase, whapi, whapi_text

SERVICE_LOGGER = 'odoo.addons.whatsapp_integration.models.whatsapp_sync_account'


@tagged('post_install', '-at_install')
class TestPoisonRows(WhatsappCase):

    def _poison(self):
        good = self.remote_a.add_messages(4)
        too_big = good[1]
        too_big.message_type, too_big.media = 'image', media()
        too_big.media.file_size = 2 ** 31  # an int4 column cannot hold it
        # an id past what a database index entry holds (random, so compression cannot shrink it)
        good[2].message_id = secrets.token_urlsafe(6000)
        return good

    @mute_logger(SERVICE_LOGGER, 'odoo.sql_db')
    def test_unstorable_messages_are_skipped_and_the_rest_stored(self):
        items = self._poison()
        self.service.cron_sync_all_data()
        stored = self.stored('whatsapp.message', self.config_a)
        self.assertEqual(sorted(stored.mapped('message_id')), sorted([items[0].message_id, items[3].message_id]))
        log = self.last_log(self.config_a)
        self.assertEqual(log.state, 'success')
        self.assertEqual(log.skipped_count, 2)
        self.assertIn(items[1].message_id, log.skipped_details)
        self.assertIn(items[2].message_id, log.skipped_details)
        self.assertIn('could not be stored', log.skipped_details)
        newest = max(item.timestamp for item in items).replace(tzinfo=None)
        self.assertEqual(self.config_a.last_message_date, newest, 'the watermark moves past them')
        # the next run is not stuck on the same page
        more = self.remote_a.add_messages(1, start_minutes=60, prefix='later')
        self.service.cron_sync_all_data()
        self.assertEqual(self.last_log(self.config_a).state, 'success')
        self.assertIn(more[0].message_id, self.stored('whatsapp.message', self.config_a).mapped('message_id'))


@tagged('post_install', '-at_install')
class TestPoisonWebhooks(WebhookCase):

    @mute_logger(SERVICE_LOGGER, 'odoo.sql_db')
    def test_a_poison_event_gets_200_and_is_recorded(self):
        raw = json.dumps(whapi('messages', 'post', messages=[
            whapi_text('ok-1', '34600000001@s.whatsapp.net', 'fine'),
            dict(whapi_text('big-1', '34600000001@s.whatsapp.net', None), type='document', text=None,
                 document={'id': 'doc-1', 'mime_type': 'application/pdf', 'file_size': 1}),
        ]))
        original = providers.parse_webhook

        def parse_then_poison(provider, body):
            batch = original(provider, body)
            for message in batch.messages:
                if message.message_id == 'big-1':
                    message.media.file_size = 2 ** 40
            return batch
        with patch.object(providers, 'parse_webhook', parse_then_poison):
            response = self._post_whapi(None, raw=raw.encode())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self._messages(self.whapi).mapped('message_id'), ['ok-1'])
        log = self.env['whatsapp.sync.log'].search([('configuration_id', '=', self.whapi.id)])
        self.assertEqual(log.trigger, 'webhook')
        self.assertEqual(log.skipped_count, 1)
        self.assertIn('big-1', log.skipped_details)

    def test_a_partial_participant_list_removes_nobody(self):
        group = '120363000000000001@g.us'
        self.env['whatsapp.sync.service'].sudo()._store_members(self.wassenger, None, [providers.Group(
            group_id=group, name='Team', members=[providers.Member('34600000001'), providers.Member('34600000002')])])
        payload = {'id': 'evt-g', 'object': 'group', 'event': 'group:update',
                   'device': {'id': self.wassenger.device_id},
                   'data': {'id': group, 'name': 'Team renamed',
                            'participants': [{'id': '34600000003@c.us', 'isAdmin': False}]}}
        response = self._post_wassenger(payload)
        self.assertEqual(response.status_code, 200, response.text)
        members = self.env['whatsapp.group.member'].search([('configuration_id', '=', self.wassenger.id)])
        self.assertEqual(sorted(members.mapped('contact_id.contact_id')), ['34600000001', '34600000002', '34600000003'])
