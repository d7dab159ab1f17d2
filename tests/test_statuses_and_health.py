# -*- coding: utf-8 -*-
"""Issue 23, items 4-7: statuses that never lie, unsigned Wassenger deliveries, account
health from the provider, and WHAPI media captions."""
import base64
import datetime
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.whatsapp_integration import providers

from .common import FakeAccount, FakeProviderClient, WhatsappCase
from .fake_provider_server import FakeAccount as FakeRemote
from .test_webhooks import CONTROLLER_LOGGER, WebhookCase

QUEUE_ID = '5bf612faa893b00016c0f13d'


def chats_of(partner):
    """Direct-message channels of a partner with OdooBot, and their messages' texts."""
    bot = partner.env.ref('base.partner_root')
    channels = partner.env['mail.channel'].sudo().search([
        ('channel_type', '=', 'chat'), ('channel_partner_ids', 'in', partner.ids),
        ('channel_partner_ids', 'in', bot.ids)])
    return channels.mapped('message_ids').filtered(lambda m: m.author_id == bot).mapped('body')


@tagged('post_install', '-at_install')
class TestUnsignedWassenger(WebhookCase):
    """Only S1 describes X-Wassenger-Signature; S2 has no secret and S6 checks none."""

    def setUp(self):
        super().setUp()
        self.remote = FakeRemote('wassenger', 'tok-wass', device_id=self.wassenger.device_id,
                                 contacts=1, groups=0, members=0, messages=1)

    def _queued_send(self, queue_id=QUEUE_ID):
        """A message sent from Odoo, still under Wassenger's queue id."""
        return self.Message.create({
            'configuration_id': self.wassenger.id, 'message_id': queue_id, 'provider_ref': queue_id,
            'chat_id': '34600111222', 'from_me': True, 'status': 'sent', 'body': 'Hello',
            'message_date': fields.Datetime.now()})

    def test_unsigned_deliveries_keep_arriving_and_a_failed_send_ends_failed_with_its_reason(self):
        self.assertEqual(self.wassenger.webhook_authentication, 'url_key')
        queue_id = self.remote.queue_message('+34600111222', 'Hello')
        sent = self._queued_send(queue_id)
        body, headers = self.remote.failed_send_delivery(queue_id, reason='Phone number does not exist')
        self.assertNotIn('X-Wassenger-Signature', headers)
        response = self._post(self.wassenger, None, raw=body, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual((sent.status, sent.error_message), ('failed', 'Phone number does not exist'))
        # and the next unsigned delivery is still welcome
        body, headers = self.remote.session_delivery('online')
        self.assertEqual(self._post(self.wassenger, None, raw=body, headers=headers).status_code, 200)

    def test_the_specs_failed_example_without_a_reason_still_says_it_failed(self):
        sent = self._queued_send()
        payload = [{'event': 'message:out:failed', 'date': '2018-12-08T15:01:48.518Z', 'entity': 'message',
                    'entityId': QUEUE_ID, 'entityUrl': 'https://api.wassenger.com/v1/messages/' + QUEUE_ID,
                    'user': '5bd75ab235623e00162a73dc',
                    'data': {'id': QUEUE_ID, 'phone': '+34600111222', 'status': 'failed',
                             'deliveryStatus': 'failed', 'failedAt': None, 'message': 'Hello'}}]
        self.assertEqual(self._post(self.wassenger, payload).status_code, 200)
        self.assertEqual(sent.status, 'failed')
        self.assertTrue(sent.error_message)

    @mute_logger(CONTROLLER_LOGGER)
    def test_signed_once_signed_always(self):
        body, _headers = self.remote.session_delivery('online')
        self.assertEqual(self._post(self.wassenger, None, raw=body).status_code, 200, 'unsigned: the URL key')
        self.assertEqual(self._post(self.wassenger, None, raw=body, headers=self.remote.session_delivery(
            'online', secret='forged')[1]).status_code, 401, 'a signature that arrives is verified')
        self.assertEqual(self.wassenger.webhook_authentication, 'url_key', 'a forged one changes nothing')
        signed = self.remote.session_delivery('online', secret='wass-secret')
        self.assertEqual(self._post(self.wassenger, None, raw=signed[0], headers=signed[1]).status_code, 200)
        self.assertEqual(self.wassenger.webhook_authentication, 'signature')
        self.assertEqual(self._post(self.wassenger, None, raw=body).status_code, 401, 'unsigned after signed')
        self.assertEqual(self._post(self.wassenger, None, raw=signed[0], headers=signed[1]).status_code, 200)

    @mute_logger(CONTROLLER_LOGGER)
    def test_a_signature_without_a_secret_is_refused(self):
        self.wassenger.webhook_secret = False
        body, headers = self.remote.session_delivery('online', secret='whatever')
        self.assertEqual(self._post(self.wassenger, None, raw=body, headers=headers).status_code, 401)
        self.assertEqual(self.wassenger.webhook_authentication, 'url_key')

    def test_whapi_shows_signature_required(self):
        self.assertEqual(self.whapi.webhook_authentication, 'signature')


@tagged('post_install', '-at_install')
class TestAccountHealth(WebhookCase):
    """WHAPI users/channel events and Wassenger number:session mark the account at once."""

    def setUp(self):
        super().setUp()
        self.manager = new_test_user(self.env, login='wa_health_manager',
                                     groups='whatsapp_integration.group_whatsapp_manager')
        (self.whapi | self.wassenger).write({'connection_state': 'connected'})
        self.whapi_remote = FakeRemote('whapi', 'tok-whapi', contacts=1, groups=0, members=0, messages=1)
        self.wass_remote = FakeRemote('wassenger', 'tok-wass', device_id=self.wassenger.device_id,
                                      contacts=1, groups=0, members=0, messages=1)

    def _whapi_health(self, **kwargs):
        body, headers = self.whapi_remote.health_delivery('whapi-secret', **kwargs)
        response = self._post(self.whapi, None, raw=body, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)

    def test_whapi_logout_and_login_notify_managers_once_per_change(self):
        self._whapi_health(user_method='delete')
        self.assertEqual(self.whapi.connection_state, 'disconnected')
        self.assertIn('logged out', self.whapi.connection_message)
        notes = chats_of(self.manager.partner_id)
        self.assertEqual(len(notes), 1)
        self.assertIn('WHAPI line', notes[0])
        self._whapi_health(status_text='QR')  # still down: no second message
        self.assertEqual(len(chats_of(self.manager.partner_id)), 1)
        self._whapi_health(user_method='post')
        self.assertEqual(self.whapi.connection_state, 'connected')
        notes = chats_of(self.manager.partner_id)
        self.assertEqual(len(notes), 2)
        self.assertIn('connected again', notes[-1] + notes[0])

    def test_whapi_qr_needed_disconnects_and_a_passing_state_changes_nothing(self):
        self._whapi_health(status_text='LAUNCH')
        self.assertEqual(self.whapi.connection_state, 'connected')
        self._whapi_health(status_text='QR')
        self.assertEqual(self.whapi.connection_state, 'disconnected')
        self.assertIn('QR', self.whapi.connection_message)
        self._whapi_health(status_text='AUTH')
        self.assertEqual(self.whapi.connection_state, 'connected')

    def test_wassenger_number_session(self):
        body, headers = self.wass_remote.session_delivery('offline')
        self.assertEqual(self._post(self.wassenger, None, raw=body, headers=headers).status_code, 200)
        self.assertEqual(self.wassenger.connection_state, 'disconnected')
        self.assertEqual(len(chats_of(self.manager.partner_id)), 1)
        body, headers = self.wass_remote.session_delivery('online')
        self._post(self.wassenger, None, raw=body, headers=headers)
        self.assertEqual(self.wassenger.connection_state, 'connected')

    def test_untested_account_stays_untested_when_the_session_comes_online(self):
        self.wassenger.connection_state = 'draft'
        body, headers = self.wass_remote.session_delivery('online')
        self._post(self.wassenger, None, raw=body, headers=headers)
        self.assertEqual(self.wassenger.connection_state, 'draft')
        self.assertFalse(chats_of(self.manager.partner_id))

    def test_scheduled_sync_waits_while_disconnected_and_asks_if_it_came_back(self):
        remote = FakeAccount()
        patcher = patch.object(type(self.env['whatsapp.configuration']), '_make_provider_client',
                               lambda configuration: FakeProviderClient(remote))
        patcher.start()
        self.addCleanup(patcher.stop)
        self._whapi_health(user_method='delete')
        service = self.env['whatsapp.sync.service']
        remote.fail_with = providers.AuthenticationError('need channel authorization (HTTP 401)')
        self.assertIn('disconnected', service._not_ready_reason(self.whapi))
        # the 'back online' event was lost: the scheduled run asks the provider, which says connected
        remote.fail_with = None
        self.assertIsNone(service._not_ready_reason(self.whapi))
        self.assertEqual(self.whapi.connection_state, 'connected')
        self.assertTrue(any('connected again' in body for body in chats_of(self.manager.partner_id)))


@tagged('post_install', '-at_install')
class TestSendStatuses(WhatsappCase):

    def _sent(self, configuration, body='Hello', minutes_ago=60, target='34600000001'):
        client = configuration._make_provider_client()
        Message = self.env['whatsapp.message'].sudo()
        vals, error = Message._send_vals(configuration, client, target, body=body)
        self.assertFalse(error)
        vals['message_date'] = fields.Datetime.now() - datetime.timedelta(minutes=minutes_ago)
        by_key, _stats = Message._upsert([vals])
        return next(iter(by_key.values()))

    def test_a_silent_queued_send_is_asked_about_by_the_scheduled_sync(self):
        failed = self._sent(self.config_b, 'one')
        delivered = self._sent(self.config_b, 'two')
        fresh = self._sent(self.config_b, 'three', minutes_ago=1)
        self.assertEqual((failed.message_id, failed.provider_ref), ('sent-1', 'sent-1'))
        self.remote_b.queue_statuses = {
            'sent-1': providers.StatusUpdate(message_id='sent-1', status='failed', error='Invalid phone number'),
            'sent-2': providers.StatusUpdate(message_id='sent-2', status='delivered', alt_message_id='3EB0WA2'),
        }
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(sorted(self.remote_b.status_asked), ['sent-1', 'sent-2'], 'the fresh one waits')
        self.assertEqual((failed.status, failed.error_message), ('failed', 'Invalid phone number'))
        self.assertEqual((delivered.status, delivered.message_id, delivered.provider_ref),
                         ('delivered', '3EB0WA2', 'sent-2'))
        self.assertEqual((fresh.status, fresh.message_id), ('sent', 'sent-3'))

    def test_silent_sends_are_asked_about_a_bounded_number_per_run(self):
        for number in range(5):
            self._sent(self.config_b, 'text %d' % number)
        changed = self.env['whatsapp.message'].sudo()._check_silent_sends(
            self.config_b, self.config_b._make_provider_client(), limit=3)
        self.assertEqual((changed, len(self.remote_b.status_asked)), (0, 3))
        self.env['whatsapp.message'].sudo()._check_silent_sends(
            self.config_b, self.config_b._make_provider_client(), limit=3)
        self.assertEqual(len(set(self.remote_b.status_asked)), 5, 'the next run asks the others first')

    def test_the_echoed_reference_ties_the_send_to_its_whatsapp_message(self):
        self.remote_b.echo_references = True
        sent = self._sent(self.config_b, 'Hello', minutes_ago=0)
        self.assertEqual(sent.send_reference, 'ref-1')
        # the message as a later sync lists it: another time and text than the fuzzy match allows
        listed = providers.Message(
            message_id='3EB0LISTED', chat_id='34600000001', chat_type='contact', from_me=True,
            timestamp=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2),
            message_type='text', body='Hello (edited)', status='read', reference='ref-1')
        self.env['whatsapp.sync.service']._store_messages(self.config_b, None, [listed])
        rows = self.stored('whatsapp.message', self.config_b)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows.message_id, rows.provider_ref, rows.status), ('3EB0LISTED', 'sent-1', 'read'))


@tagged('post_install', '-at_install')
class TestWebhookRegistration(WhatsappCase):

    def test_wassenger_without_an_issued_secret_stores_none_and_says_so(self):
        self.env['ir.config_parameter'].set_param('web.base.url', 'https://odoo.example.com')
        self.remote_b.issues_no_secret = True
        action = self.config_b.action_register_webhook()
        # no invented secret: Wassenger would never sign with it, and its signed calls would be refused
        self.assertFalse(self.config_b.webhook_secret)
        self.assertEqual(self.config_b.webhook_authentication, 'url_key')
        self.assertIn('secret key in that URL', action['params']['message'])
        # a secret a manager pasted is kept
        self.config_b.webhook_secret = 'pasted-from-dashboard'
        self.config_b.action_register_webhook()
        self.assertEqual(self.config_b.webhook_secret, 'pasted-from-dashboard')


OGG = b'OggS\x00\x02' + b'\x00' * 64


@tagged('post_install', '-at_install')
class TestAudioCaptions(WhatsappCase):
    """WHAPI's SenderAudio and SenderVoice have no caption: the text goes right after."""

    def _wizard(self, configuration, attachment, name, body='Listen to this'):
        return self.env['whatsapp.send.message'].create({
            'configuration_id': configuration.id, 'phone': '+34600000001', 'body': body,
            'attachment': base64.b64encode(attachment), 'attachment_name': name})

    def test_a_voice_caption_goes_as_a_following_text_and_the_person_is_told(self):
        wizard = self._wizard(self.config_a, OGG, 'note.ogg')
        self.assertTrue(wizard.caption_warning)
        wizard.action_send()
        self.assertEqual([sent[1:] for sent in self.remote_a.sent], [(None, 'note.ogg'), ('Listen to this', None)])
        rows = self.stored('whatsapp.message', self.config_a).sorted('message_id')
        self.assertEqual([(row.message_type, row.body) for row in rows],
                         [('audio', False), ('text', 'Listen to this')])

    def test_other_files_and_other_providers_keep_their_caption(self):
        pdf = self._wizard(self.config_a, b'%PDF-1.4 fake', 'offer.pdf')
        self.assertFalse(pdf.caption_warning)
        wassenger = self._wizard(self.config_b, OGG, 'note.ogg')
        self.assertFalse(wassenger.caption_warning)
        wassenger.action_send()
        self.assertEqual([sent[1:] for sent in self.remote_b.sent], [('Listen to this', 'note.ogg')])

    def test_a_voice_note_that_fails_keeps_its_text_and_sends_none(self):
        self.remote_a.refuse_sends_to['+34600000001'] = 'Recipient blocked you'
        self._wizard(self.config_a, OGG, 'note.ogg').action_send()
        self.assertEqual(self.remote_a.sent, [])
        row = self.stored('whatsapp.message', self.config_a)
        self.assertEqual((row.status, row.body), ('failed', 'Listen to this'))
