# -*- coding: utf-8 -*-
"""Statuses, edits and deletions that overtake their message are kept and applied
when it arrives, through the webhook route or a sync page."""
import datetime

from odoo import fields
from odoo.tests import tagged

from .common import WhatsappCase
from .test_webhooks import WebhookCase, whapi, whapi_text

ANA = '34600000001@s.whatsapp.net'


@tagged('post_install', '-at_install')
class TestEventsBeforeMessageWebhook(WebhookCase):

    def _message(self, message_id):
        return self.Message.search([('configuration_id', '=', self.whapi.id), ('message_id', '=', message_id)])

    def test_status_before_its_message(self):
        for status in ('read', 'delivered'):  # and in reverse order: it never moves backwards
            self.assertEqual(self._post_whapi(whapi('statuses', 'post', statuses=[
                {'id': 'out-1', 'status': status, 'timestamp': '1767225700'}])).status_code, 200)
        self.assertFalse(self._message('out-1'))
        self._post_whapi(whapi('messages', 'post', messages=[whapi_text('out-1', ANA, 'sent by us', from_me=True)]))
        self.assertEqual(self._message('out-1').status, 'read')
        self.assertFalse(self.env['whatsapp.message.event'].search([('configuration_id', '=', self.whapi.id)]))

    def test_edit_and_deletion_before_their_messages(self):
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'in-1', 'trigger': {}, 'before_update': whapi_text('in-1', ANA, 'typo'),
             'after_update': whapi_text('in-1', ANA, 'fixed'), 'changes': ['text']}]))
        self._post_whapi(whapi('messages', 'delete', messages_removed=['in-2']))
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_text('in-1', ANA, 'typo'), whapi_text('in-2', ANA, 'regret')]))
        self.assertEqual(self._message('in-1').body, 'fixed')
        self.assertEqual(self._message('in-2').status, 'deleted')

    def test_an_early_edit_from_another_chat_is_not_applied(self):
        eve = '34600000666@s.whatsapp.net'
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'in-3', 'trigger': {}, 'before_update': whapi_text('in-3', eve, 'x', sender='34600000666'),
             'after_update': whapi_text('in-3', eve, 'forged', sender='34600000666'), 'changes': ['text']}]))
        self._post_whapi(whapi('messages', 'post', messages=[whapi_text('in-3', ANA, 'genuine')]))
        self.assertEqual(self._message('in-3').body, 'genuine')


@tagged('post_install', '-at_install')
class TestEventsBeforeMessageSync(WhatsappCase):

    def test_kept_events_apply_when_a_sync_page_brings_the_message(self):
        from odoo.addons.whatsapp_integration import providers
        message = self.remote_a.add_messages(1)[0]
        message.from_me, message.status = True, 'sent'
        Message = self.env['whatsapp.message'].sudo()
        Message._apply_status_updates(self.config_a, [providers.StatusUpdate(message.message_id, 'read')])
        Message._apply_edits(self.config_a, [providers.MessageEdit(message.message_id, 'edited text')])
        self.service.cron_sync_all_data()
        stored = self.stored('whatsapp.message', self.config_a)
        self.assertEqual((stored.status, stored.body), ('read', 'edited text'))

    def test_events_that_never_find_their_message_expire_and_are_counted(self):
        from odoo.addons.whatsapp_integration import providers
        Message = self.env['whatsapp.message'].sudo()
        Message._apply_status_updates(self.config_a, [providers.StatusUpdate('ghost', 'read')])
        Event = self.env['whatsapp.message.event']
        self.assertEqual(Event.search_count([('configuration_id', '=', self.config_a.id)]), 1)
        self.env.cr.execute("UPDATE whatsapp_message_event SET create_date = %s",
                            (fields.Datetime.now() - datetime.timedelta(hours=73),))
        Event.invalidate_cache()
        self.service.cron_sync_all_data()
        self.assertEqual(self.last_log(self.config_a).events_expired, 1)
        self.assertFalse(Event.search_count([('configuration_id', '=', self.config_a.id)]))
