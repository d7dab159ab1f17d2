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

    def test_a_redelivered_original_never_undoes_its_edit(self):
        self._post_whapi(whapi('messages', 'post', messages=[whapi_text('in-5', ANA, 'typo')]))
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'in-5', 'trigger': {'timestamp': 1767225650}, 'before_update': whapi_text('in-5', ANA, 'typo'),
             'after_update': whapi_text('in-5', ANA, 'fixed'), 'changes': ['text']}]))
        # the provider delivers the original again (a retry, an offline backlog with messages.put)
        self._post_whapi(whapi('messages', 'put', messages=[whapi_text('in-5', ANA, 'typo')]))
        self.assertEqual(self._message('in-5').body, 'fixed', 'the newest content wins')
        # an older edit delivered late does not undo a newer one either
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'in-5', 'trigger': {'timestamp': 1767225900}, 'before_update': whapi_text('in-5', ANA, 'typo'),
             'after_update': whapi_text('in-5', ANA, 'fixed again'),
             'changes': ['text']}]))
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'in-5', 'trigger': {'timestamp': 1767225700}, 'before_update': whapi_text('in-5', ANA, 'typo'),
             'after_update': whapi_text('in-5', ANA, 'first fix'),
             'changes': ['text']}]))
        self.assertEqual(self._message('in-5').body, 'fixed again')

    def test_early_edits_keep_their_time_the_newest_wins(self):
        for serial, (edited_at, text) in enumerate(((1767225900, 'second fix'), (1767225700, 'first fix'))):
            self._post_whapi(whapi('messages', 'patch', messages_updates=[
                {'id': 'in-6', 'trigger': {'timestamp': edited_at}, 'before_update': whapi_text('in-6', ANA, 'typo'),
                 'after_update': whapi_text('in-6', ANA, text), 'changes': ['text']}]))
        self._post_whapi(whapi('messages', 'post', messages=[whapi_text('in-6', ANA, 'typo')]))
        self.assertEqual(self._message('in-6').body, 'second fix', 'the newest edit, not the last delivered')

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
        gone = self.remote_a.add_messages(1, start_minutes=5, prefix='gone')[0]
        Message._apply_deletions(self.config_a, [providers.MessageDeletion(gone.message_id, gone.chat_id)])
        self.service.cron_sync_all_data()
        stored = self.stored('whatsapp.message', self.config_a)
        first = stored.filtered(lambda m: m.message_id == message.message_id)
        self.assertEqual((first.status, first.body), ('read', 'edited text'))
        self.assertEqual(stored.filtered(lambda m: m.message_id == gone.message_id).status, 'deleted')

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


@tagged('post_install', '-at_install')
class TestEventMessageRace(WhatsappCase):
    """A status kept by one transaction while another stores its message: the
    later writer must fail to serialize (Odoo then re-runs it), never commit
    an event that waits for a message already there. Real, committed
    transactions, cleaned up afterwards."""

    def test_concurrent_message_and_status_never_leave_the_status_behind(self):
        import psycopg2
        import psycopg2.errorcodes

        from odoo import SUPERUSER_ID, api
        from odoo.addons.whatsapp_integration import providers

        with self.registry.cursor() as cr:
            config_id = api.Environment(cr, SUPERUSER_ID, {})['whatsapp.configuration'].create(
                {'name': 'Race', 'provider': 'whapi', 'token': 'race-token'}).id
        self.addCleanup(self._drop_account, config_id)
        record = providers.Message(message_id='race-1', chat_id='34600000001', from_me=True, status='sent',
                                   timestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
                                   sender_id='34600000001', message_type='text', body='hi')
        status_cr = self.registry.cursor()
        try:
            status_env = api.Environment(status_cr, SUPERUSER_ID, {})
            status_cr.execute('SELECT 1 FROM whatsapp_message LIMIT 1')  # its snapshot starts now
            with self.registry.cursor() as message_cr:
                env = api.Environment(message_cr, SUPERUSER_ID, {})
                config = env['whatsapp.configuration'].browse(config_id)
                env['whatsapp.sync.service']._store_messages(config, None, [record])
            with self.assertRaises(psycopg2.OperationalError) as caught:
                status_env['whatsapp.message']._apply_status_updates(
                    status_env['whatsapp.configuration'].browse(config_id),
                    [providers.StatusUpdate('race-1', 'read')])
            self.assertEqual(caught.exception.pgcode, psycopg2.errorcodes.SERIALIZATION_FAILURE)
        finally:
            status_cr.rollback()
            status_cr.close()
        # what Odoo's retry of the status request does
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['whatsapp.message']._apply_status_updates(
                env['whatsapp.configuration'].browse(config_id), [providers.StatusUpdate('race-1', 'read')])
            message = env['whatsapp.message'].search([('configuration_id', '=', config_id)])
            self.assertEqual(message.status, 'read')
            self.assertFalse(env['whatsapp.message.event'].search([('configuration_id', '=', config_id)]))

    def _drop_account(self, config_id):
        from odoo import SUPERUSER_ID, api
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})['whatsapp.configuration'].browse(config_id).unlink()
