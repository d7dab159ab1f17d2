# -*- coding: utf-8 -*-
import hashlib
import hmac
import json
from unittest.mock import patch

import psycopg2
import psycopg2.errorcodes

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.whatsapp_integration import providers

GROUP = '120363000000000001@g.us'
CONTROLLER_LOGGER = 'odoo.addons.whatsapp_integration.controllers.main'


def whapi(event_type, method, **keys):
    return dict(keys, event={'type': event_type, 'event': method}, channel_id='CHANNEL-1')


def whapi_text(message_id, chat, body, from_me=False, sender='34600000001', timestamp=1767225600):
    return {'id': message_id, 'type': 'text', 'chat_id': chat, 'from': sender, 'from_me': from_me,
            'from_name': 'Ana', 'timestamp': timestamp, 'source': 'mobile', 'text': {'body': body},
            'status': 'sent' if from_me else 'delivered'}


class WebhookCase(HttpCase):
    """Two accounts with webhook secrets, and helpers posting through real HTTP."""

    def setUp(self):
        super().setUp()
        Configuration = self.env['whatsapp.configuration']
        self.whapi = Configuration.create({
            'name': 'WHAPI line', 'provider': 'whapi', 'token': 'tok-whapi', 'webhook_secret': 'whapi-secret'})
        self.wassenger = Configuration.create({
            'name': 'Wassenger line', 'provider': 'wassenger', 'token': 'tok-wass',
            'device_id': '0123456789abcdef01234567', 'webhook_secret': 'wass-secret'})
        self.Message = self.env['whatsapp.message']

    # -- helpers -------------------------------------------------------------------------
    def _post(self, configuration, payload, headers=None, raw=None, key=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        url = '/whatsapp/webhook/%s/%s' % (configuration.provider, key or configuration.webhook_key)
        headers = dict(headers or {}, **{'Content-Type': 'application/json'})
        response = self.url_open(url, data=body, headers=headers)
        self.env.cache.invalidate()
        return response

    def _post_whapi(self, payload, secret='whapi-secret', **kwargs):
        return self._post(self.whapi, payload, headers={providers.WHAPI_SECRET_HEADER: secret}, **kwargs)

    def _post_wassenger(self, payload, secret='wass-secret'):
        body = json.dumps(payload).encode()
        signature = 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return self._post(self.wassenger, None, raw=body, headers={'X-Wassenger-Signature': signature})

    def _messages(self, configuration):
        return self.Message.search([('configuration_id', '=', configuration.id)])


@tagged('post_install', '-at_install')
class TestWebhooks(WebhookCase):

    # -- authentication ------------------------------------------------------------------
    @mute_logger(CONTROLLER_LOGGER)
    def test_unauthenticated_calls_write_nothing(self):
        payload = whapi('messages', 'post', messages=[whapi_text('m1', '34600000001@s.whatsapp.net', 'hi')])
        self.assertEqual(self._post_whapi(payload, secret='wrong').status_code, 401)
        self.assertEqual(self._post(self.whapi, payload).status_code, 401, 'no secret header')
        self.assertEqual(self._post_whapi(payload, key='x' * 43).status_code, 404, 'unknown key')
        self.assertEqual(self._post(self.wassenger, payload, key=self.whapi.webhook_key).status_code, 404,
                         'a key works only with its own provider')
        self.assertEqual(self._post_wassenger({'event': 'message:in:new'}, secret='forged').status_code, 401)
        self.assertFalse(self.Message.search([]))

    @mute_logger(CONTROLLER_LOGGER)
    def test_malformed_payload_is_a_400(self):
        response = self._post_whapi(None, raw=b'{not json')
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.Message.search([]))

    # -- WHAPI ---------------------------------------------------------------------------
    def test_whapi_messages_direct_group_and_echo(self):
        payload = whapi('messages', 'post', messages=[
            whapi_text('m1', '34600000001@s.whatsapp.net', 'Hola 😀'),
            whapi_text('m2', GROUP, 'In the group', sender='34600000002'),
            whapi_text('m3', '34600000001@s.whatsapp.net', 'Our reply', from_me=True, sender='34699999999'),
            {'id': 'm4', 'type': 'link_preview', 'chat_id': GROUP, 'from': '34600000002', 'from_me': False,
             'timestamp': 1767225700, 'link_preview': {'body': 'see https://odoo.com', 'url': 'https://odoo.com'}},
        ])
        response = self._post_whapi(payload)
        self.assertEqual(response.status_code, 200, response.text)
        messages = {m.message_id: m for m in self._messages(self.whapi)}
        self.assertEqual(set(messages), {'m1', 'm2', 'm3', 'm4'})
        self.assertEqual(messages['m1'].body, 'Hola 😀')
        self.assertEqual(messages['m1'].contact_id.contact_id, '34600000001')
        self.assertEqual(messages['m2'].group_id.group_id, GROUP)
        self.assertEqual(messages['m2'].contact_id.contact_id, '34600000002')
        self.assertTrue(messages['m3'].from_me)
        self.assertEqual(messages['m4'].message_type, 'link_preview')
        # redelivery is harmless
        self.assertEqual(self._post_whapi(payload).status_code, 200)
        self.assertEqual(len(self._messages(self.whapi)), 4)
        self.assertFalse(self._messages(self.wassenger))

    def test_whapi_statuses_never_move_backwards(self):
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_text('m1', '34600000001@s.whatsapp.net', 'x', from_me=True)]))

        def status(name, stamp):
            return whapi('statuses', 'post', statuses=[
                {'id': 'm1', 'status': name, 'recipient_id': '34600000001', 'timestamp': stamp}])
        self._post_whapi(status('read', '1767225700'))
        self.assertEqual(self._messages(self.whapi).status, 'read')
        self._post_whapi(status('delivered', '1767225650'))
        self.assertEqual(self._messages(self.whapi).status, 'read')
        self._post_whapi(status('played', '1767225800'))
        self.assertEqual(self._messages(self.whapi).status, 'played')
        # a status for a message never stored creates nothing
        self._post_whapi(whapi('statuses', 'post', statuses=[
            {'id': 'unknown', 'status': 'read', 'timestamp': '1767225700'}]))
        self.assertEqual(len(self._messages(self.whapi)), 1)

    def test_whapi_edit_and_delete(self):
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_text('m1', '34600000001@s.whatsapp.net', 'first')]))
        edited = whapi_text('m1', '34600000001@s.whatsapp.net', 'second')
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'm1', 'trigger': {}, 'before_update': whapi_text('m1', '34600000001@s.whatsapp.net', 'first'),
             'after_update': edited, 'changes': ['text']}]))
        self.assertEqual(self._messages(self.whapi).body, 'second')
        self._post_whapi(whapi('messages', 'delete', messages_removed=['m1']))
        self.assertEqual(self._messages(self.whapi).status, 'deleted')

    def test_edits_and_deletions_only_from_the_messages_own_chat_and_sender(self):
        """Message ids are chosen by the sender's client: another chat reusing an id
        reaches nothing."""
        ana, eve = '34600000001@s.whatsapp.net', '34600000666@s.whatsapp.net'
        self._post_whapi(whapi('messages', 'post', messages=[whapi_text('m1', ana, 'original')]))
        forged_edit = whapi_text('m1', eve, 'forged', sender='34600000666')
        self._post_whapi(whapi('messages', 'patch', messages_updates=[
            {'id': 'm1', 'trigger': {}, 'before_update': whapi_text('m1', eve, 'x', sender='34600000666'),
             'after_update': forged_edit, 'changes': ['text']}]))
        action = dict(whapi_text('a1', eve, None, sender='34600000666'), type='action',
                      action={'type': 'delete', 'target': 'm1'})
        self._post_whapi(whapi('messages', 'post', messages=[action]))
        message = self.Message.search([('configuration_id', '=', self.whapi.id), ('message_id', '=', 'm1')])
        self.assertEqual((message.body, message.status), ('original', 'delivered'))
        # from its own chat and sender, the same events apply
        own = dict(whapi_text('a2', ana, None), type='action', action={'type': 'delete', 'target': 'm1'})
        self._post_whapi(whapi('messages', 'post', messages=[own]))
        self.assertEqual(message.status, 'deleted')

    def test_whapi_participant_changes(self):
        Member = self.env['whatsapp.group.member']

        def change(action, ids):
            return self._post_whapi(whapi('groups', 'put', groups_participants=[
                {'group_id': GROUP, 'participants': ids, 'action': action}]))

        def roles():
            return {m.contact_id.contact_id: m.role for m in Member.search([('configuration_id', '=', self.whapi.id)])}
        change('add', ['34600000001', '34600000002'])
        self.assertEqual(roles(), {'34600000001': 'member', '34600000002': 'member'})
        change('promote', ['34600000002'])
        self.assertEqual(roles()['34600000002'], 'admin')
        change('add', ['34600000002'])
        self.assertEqual(roles()['34600000002'], 'admin', 'a redelivered add keeps the role')
        change('demote', ['34600000002'])
        self.assertEqual(roles()['34600000002'], 'member')
        change('remove', ['34600000001'])
        self.assertEqual(roles(), {'34600000002': 'member'})

    def test_webhook_and_sync_meet_on_one_row(self):
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_text('m1', '34600000001@s.whatsapp.net', 'from webhook')]))
        service = self.env['whatsapp.sync.service']
        page_message = providers.Message(
            message_id='m1', chat_id='34600000001', chat_type='contact', timestamp=providers.parsing.parse_time(
                1767225600), sender_id='34600000001', message_type='text', body='from webhook', status='read')
        service._store_messages(self.whapi, None, [page_message])
        messages = self._messages(self.whapi)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages.status, 'read')

    # -- Wassenger -----------------------------------------------------------------------
    def test_wassenger_signed_message_and_ack(self):
        message = {'id': '3EB0ABCDEF', 'type': 'text', 'flow': 'inbound', 'body': 'Hi from Wassenger',
                   'from': '34600000001@c.us', 'fromNumber': '+34600000001',
                   'chat': {'id': '34600000001@c.us', 'type': 'chat'}, 'timestamp': 1767225600,
                   'date': '2026-01-01T00:00:00Z', 'ack': 'delivered'}
        response = self._post_wassenger({'id': 'evt-1', 'object': 'message', 'event': 'message:in:new',
                                         'created': 1767225600, 'device': {'id': self.wassenger.device_id},
                                         'data': message})
        self.assertEqual(response.status_code, 200, response.text)
        stored = self._messages(self.wassenger)
        self.assertEqual((stored.message_id, stored.body), ('3EB0ABCDEF', 'Hi from Wassenger'))
        self.assertEqual(stored.contact_id.contact_id, '34600000001')
        out = dict(message, id='3EB0OUT', flow='outbound', ack='sent', body='reply')
        # a delivery's id is its message's id (S2 examples): the ack, same id, still applies
        self._post_wassenger({'id': '3EB0OUT', 'object': 'message', 'event': 'message:out:new',
                              'device': self.wassenger.device_id, 'data': out})
        self._post_wassenger({'id': '3EB0OUT', 'object': 'message', 'event': 'message:out:ack', 'ack': 'read',
                              'device': {'id': self.wassenger.device_id}, 'data': dict(out, ack='read')})
        reply = self._messages(self.wassenger).filtered(lambda m: m.message_id == '3EB0OUT')
        self.assertTrue(reply.from_me)
        self.assertEqual(reply.status, 'read')

    @mute_logger(CONTROLLER_LOGGER)
    def test_wassenger_unsigned_payload_rejected_once_signed(self):
        # Wassenger may not sign at all (S2, S6): the URL key authenticates until a
        # signed delivery has arrived; from then on, unsigned ones are refused
        self.assertEqual(self._post(self.wassenger, {'event': 'status:update', 'data': {}}).status_code, 200)
        self.assertEqual(self._post_wassenger({'event': 'status:update', 'data': {}}).status_code, 200)
        response = self._post(self.wassenger, {'event': 'message:in:new', 'data': {}})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.Message.search([]))


class _SerializationFailure(psycopg2.OperationalError):
    """What PostgreSQL raises when two transactions update one row at once."""

    @property
    def pgcode(self):
        return psycopg2.errorcodes.SERIALIZATION_FAILURE


@tagged('post_install', '-at_install')
class TestWebhookRetries(WebhookCase):
    """Odoo re-runs a request whose transaction hit a serialization failure."""

    def _fail_first_call(self):
        calls = []
        original = type(self.env['whatsapp.configuration'])._process_webhook

        def flaky(configuration, batch):
            calls.append(len(batch.messages) + len(batch.statuses))
            result = original(configuration, batch)
            if len(calls) == 1:
                raise _SerializationFailure('could not serialize access due to concurrent update')
            return result
        patcher = patch.object(type(self.env['whatsapp.configuration']), '_process_webhook', flaky)
        patcher.start()
        self.addCleanup(patcher.stop)
        return calls

    @mute_logger('odoo.service.model')
    def test_a_retried_webhook_reads_its_body_again_and_stores_once(self):
        calls = self._fail_first_call()
        payload = whapi('messages', 'post', messages=[whapi_text('r1', '34600000001@s.whatsapp.net', 'retry me')])
        response = self._post_whapi(payload)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(calls, [1, 1], 'the retry saw the same event')
        self.assertEqual(self._messages(self.whapi).mapped('body'), ['retry me'])

    @mute_logger('odoo.service.model')
    def test_a_retried_signed_webhook_still_verifies(self):
        calls = self._fail_first_call()
        payload = {'id': 'evt-r', 'object': 'message', 'event': 'message:in:new',
                   'device': {'id': self.wassenger.device_id}, 'data': {
                       'id': 'WS1', 'type': 'text', 'flow': 'inbound', 'body': 'signed retry',
                       'from': '34600000001@c.us', 'fromNumber': '+34600000001',
                       'chat': {'id': '34600000001@c.us', 'type': 'chat'}, 'timestamp': 1767225600,
                       'date': '2026-01-01T00:00:00Z', 'ack': 'delivered'}}
        response = self._post_wassenger(payload)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(len(calls), 2)
        self.assertEqual(len(self._messages(self.wassenger)), 1)

    @mute_logger(CONTROLLER_LOGGER)
    def test_json_nested_too_deeply_is_a_400(self):
        response = self._post_whapi(None, raw=b'[' * 100000 + b']' * 100000)
        self.assertEqual(response.status_code, 400)
