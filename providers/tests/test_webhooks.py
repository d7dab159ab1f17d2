"""Webhooks: verification and parsing of realistic WHAPI and Wassenger deliveries."""
import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone

import pytest

from providers import (
    WASSENGER_SIGNATURE_HEADER, WHAPI_SECRET_HEADER, BadPayloadError, ConfigurationError,
    Group, Message, MessageDeletion, MessageEdit, ParticipantChange, StatusUpdate, WebhookBatch,
    parse_webhook, verify_webhook,
)

SECRET = 'whsec-Very-Secret-42'
UTC = timezone.utc


def body_of(payload):
    return json.dumps(payload).encode('utf-8')


def signed(raw, secret=SECRET, prefix='sha256='):
    return prefix + hmac.new(secret.encode('utf-8'), raw, hashlib.sha256).hexdigest()


# -- WHAPI payloads (shapes of W2/W3/W4) ----------------------------------------------------

def whapi_event(kind, method, **lists):
    payload = {'event': {'type': kind, 'event': method}, 'channel_id': 'MANTIS-M72HC'}
    payload.update(lists)
    return payload


def whapi_text(message_id='PsqXn5SAD5v7HRA-gmAnNHd3', chat='919984351847@s.whatsapp.net',
               from_me=False, body='Hello', **extra):
    item = {'id': message_id, 'from_me': from_me, 'type': 'text', 'chat_id': chat,
            'timestamp': 1712995245, 'source': 'mobile', 'text': {'body': body},
            'from': '919984351847', 'from_name': 'Gerald'}
    item.update(extra)
    return item


# -- verification ------------------------------------------------------------------------

def test_whapi_verify_true_false_missing():
    raw = body_of(whapi_event('messages', 'post', messages=[whapi_text()]))
    assert verify_webhook('whapi', raw, {WHAPI_SECRET_HEADER: SECRET}, SECRET) is True
    assert verify_webhook('whapi', raw, {'x-odoo-webhook-secret': SECRET}, SECRET) is True
    assert verify_webhook('whapi', raw, [('X-ODOO-WEBHOOK-SECRET', SECRET)], SECRET) is True
    assert verify_webhook('whapi', raw, {WHAPI_SECRET_HEADER: SECRET + 'x'}, SECRET) is False
    assert verify_webhook('whapi', raw, {WHAPI_SECRET_HEADER: ''}, SECRET) is False
    assert verify_webhook('whapi', raw, {'Authorization': SECRET}, SECRET) is False
    assert verify_webhook('whapi', raw, {}, SECRET) is False
    assert verify_webhook('whapi', raw, None, SECRET) is False


@pytest.mark.parametrize('provider', ['whapi', 'wassenger'])
@pytest.mark.parametrize('secret', ['', None])
def test_empty_secret_never_verifies(provider, secret):
    raw = b'{}'
    headers = {WHAPI_SECRET_HEADER: '', WASSENGER_SIGNATURE_HEADER: signed(raw, secret='')}
    assert verify_webhook(provider, raw, headers, secret) is False


def test_wassenger_verify_signature_variants():
    raw = body_of({'id': 'evt1', 'event': 'message:in:new', 'data': {}})
    assert verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: signed(raw)}, SECRET)
    # without the prefix, upper-case hex, lower-case header name
    bare = signed(raw, prefix='')
    assert verify_webhook('wassenger', raw, {'x-wassenger-signature': bare}, SECRET)
    assert verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: 'SHA256=' + bare.upper()}, SECRET)
    # wrong scheme, tampered body, wrong secret, missing header
    assert not verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: 'sha1=' + bare}, SECRET)
    assert not verify_webhook('wassenger', raw + b' ', {WASSENGER_SIGNATURE_HEADER: signed(raw)}, SECRET)
    tampered = raw.replace(b'evt1', b'evt2')
    assert not verify_webhook('wassenger', tampered, {WASSENGER_SIGNATURE_HEADER: signed(raw)}, SECRET)
    assert not verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: signed(raw, 'other')}, SECRET)
    assert not verify_webhook('wassenger', raw, {}, SECRET)
    assert not verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: 'garbage'}, SECRET)


def test_verify_unknown_provider():
    with pytest.raises(ConfigurationError):
        verify_webhook('twilio', b'{}', {}, SECRET)
    with pytest.raises(ConfigurationError):
        parse_webhook('twilio', b'{}')


def test_secret_never_in_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)
    raw = body_of(whapi_event('messages', 'post', messages=[whapi_text(), {'id': SECRET}]))
    verify_webhook('whapi', raw, {WHAPI_SECRET_HEADER: 'wrong'}, SECRET)
    verify_webhook('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: 'sha256=00'}, SECRET)
    texts = []
    for bad in (b'not json', b'[1]', b'', b'\xff\xfe'):
        for provider in ('whapi', 'wassenger'):
            try:
                parse_webhook(provider, bad)
            except BadPayloadError as exc:
                texts.append(str(exc))
    assert texts
    assert all(SECRET not in text for text in texts)
    assert SECRET not in caplog.text


# -- parsing: malformed bodies ------------------------------------------------------------

@pytest.mark.parametrize('provider', ['whapi', 'wassenger'])
@pytest.mark.parametrize('raw', [b'', b'   ', b'not json', b'{"event": ', b'\xff\xfe\x00'])
def test_not_json_is_bad_payload(provider, raw):
    with pytest.raises(BadPayloadError) as caught:
        parse_webhook(provider, raw)
    assert ('WHAPI' if provider == 'whapi' else 'Wassenger') in str(caught.value)


@pytest.mark.parametrize('payload', [
    [whapi_text()],                                           # a JSON array
    'text', 42, None,                                         # scalars
    {'foo': 'bar'},                                           # no event, no known list
    {'event': 'messages.post', 'messages': []},               # event not an object
    whapi_event('messages', 'post', messages={'id': 'x'}),    # list of the wrong type
    whapi_event('statuses', 'post', statuses='read'),
])
def test_whapi_wrong_shapes(payload):
    with pytest.raises(BadPayloadError):
        parse_webhook('whapi', body_of(payload))


@pytest.mark.parametrize('payload', ['text', 42, None, {'id': 'e1', 'data': {}},
                                     {'event': 12, 'data': {}}])
def test_wassenger_wrong_shapes(payload):
    with pytest.raises(BadPayloadError):
        parse_webhook('wassenger', body_of(payload))


def test_body_may_be_str_or_bytearray():
    payload = whapi_event('messages', 'post', messages=[whapi_text()])
    assert len(parse_webhook('whapi', json.dumps(payload)).messages) == 1
    assert len(parse_webhook('whapi', bytearray(body_of(payload))).messages) == 1


# -- parsing: WHAPI -------------------------------------------------------------------------

def test_whapi_incoming_text():
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'post', messages=[whapi_text()])))
    assert isinstance(batch, WebhookBatch)
    [message] = batch.messages
    assert isinstance(message, Message)
    assert message.message_id == 'PsqXn5SAD5v7HRA-gmAnNHd3' and message.chat_id == '919984351847'
    assert message.chat_type == 'contact' and message.from_me is False
    assert message.body == 'Hello' and message.sender_id == '919984351847'
    assert message.timestamp == datetime.fromtimestamp(1712995245, UTC)
    assert batch.event_ids == ['PsqXn5SAD5v7HRA-gmAnNHd3']
    assert batch.account_id == 'MANTIS-M72HC'
    assert batch.skipped == [] and batch.ignored_events == [] and not batch.is_empty()


def test_whapi_group_message_echo_link_preview_system_image():
    items = [
        whapi_text('g1', chat='120363025343298878@g.us', body='hi group'),
        whapi_text('out1', from_me=True, body='our reply', status='sent', source='api'),
        {'id': 'lp1', 'type': 'link_preview', 'chat_id': '919984351847@s.whatsapp.net',
         'from_me': False, 'timestamp': 1712995300, 'from': '919984351847',
         'link_preview': {'body': 'see https://example.com', 'url': 'https://example.com',
                          'title': 'Example'}},
        {'id': 'sys1', 'type': 'system', 'subtype': 'group_participant_add',
         'chat_id': '120363025343298878@g.us', 'from_me': False, 'timestamp': 1712995301,
         'system': {'body': 'Ana joined'}},
        {'id': 'img1', 'type': 'image', 'chat_id': '919984351847@s.whatsapp.net', 'from_me': False,
         'timestamp': 1712995302, 'from': '919984351847',
         'image': {'id': 'jpeg-4b1d', 'mime_type': 'image/jpeg', 'file_size': 1234,
                   'caption': 'look', 'link': 'https://files.example/x.jpg'}},
    ]
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'post', messages=items)))
    by_id = dict((message.message_id, message) for message in batch.messages)
    assert set(by_id) == {'g1', 'out1', 'lp1', 'sys1', 'img1'}
    assert by_id['g1'].chat_id == '120363025343298878@g.us' and by_id['g1'].chat_type == 'group'
    assert by_id['out1'].from_me is True and by_id['out1'].status == 'sent'
    assert by_id['lp1'].message_type == 'link_preview' and by_id['lp1'].body.startswith('see')
    assert by_id['sys1'].message_type == 'system' and by_id['sys1'].body == 'Ana joined'
    assert by_id['img1'].message_type == 'image' and by_id['img1'].body == 'look'
    assert by_id['img1'].media.mime_type == 'image/jpeg'


def test_whapi_put_backlog_is_messages_too():
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'put', messages=[whapi_text()])))
    assert len(batch.messages) == 1


def test_whapi_bad_message_is_skipped_not_fatal():
    items = [whapi_text('ok1'), {'id': 'bad1', 'type': 'text'}, 'not an object']
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'post', messages=items)))
    assert [message.message_id for message in batch.messages] == ['ok1']
    assert len(batch.skipped) == 2
    assert batch.skipped[0].kind == 'message' and batch.skipped[0].external_id == 'bad1'


def test_whapi_statuses_string_timestamp_and_codes():
    statuses = [
        {'id': 'm1', 'code': 4, 'status': 'read', 'recipient_id': '919984351847@s.whatsapp.net',
         'timestamp': '1712995245'},
        {'id': 'm2', 'code': 5, 'status': 'played', 'recipient_id': '919984351847@s.whatsapp.net',
         'timestamp': '1712995246'},
        {'id': 'm3', 'code': 3, 'recipient_id': '120363025343298878@g.us',
         'viewer_id': '34600111222', 'timestamp': '1712995247'},
        {'id': 'm4', 'code': 0, 'status': 'failed', 'timestamp': '1712995248',
         'errors': [{'code': 470, 'message': 'Re-engagement message'}]},
        {'id': 'm5', 'status': 'teleported', 'timestamp': '1712995249'},
    ]
    batch = parse_webhook('whapi', body_of(whapi_event('statuses', 'post', statuses=statuses)))
    by_id = dict((status.message_id, status) for status in batch.statuses)
    assert isinstance(by_id['m1'], StatusUpdate)
    assert by_id['m1'].status == 'read' and by_id['m1'].recipient_id == '919984351847'
    assert by_id['m1'].timestamp == datetime.fromtimestamp(1712995245, UTC)
    assert by_id['m2'].status == 'played'
    assert by_id['m3'].status == 'delivered' and by_id['m3'].recipient_id == '34600111222'
    assert by_id['m4'].status == 'failed' and by_id['m4'].error == 'Re-engagement message'
    assert 'm5' not in by_id
    assert [(s.kind, s.external_id) for s in batch.skipped] == [('status', 'm5')]
    assert batch.event_ids == []  # statuses do not de-duplicate on the message id


def test_whapi_edit_via_messages_updates():
    update = {'id': 'm1', 'trigger': {'id': 'act1', 'type': 'action', 'chat_id': '919984351847@s.whatsapp.net',
                                      'timestamp': 1712995400,
                                      'action': {'target': 'm1', 'type': 'edit', 'edited_type': 'text',
                                                 'edited_content': {'body': 'Hello, edited'}}},
              'before_update': whapi_text('m1', body='Hello'),
              'after_update': whapi_text('m1', body='Hello, edited'),
              'changes': ['text']}
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'patch', messages_updates=[update])))
    [edit] = batch.edits
    assert isinstance(edit, MessageEdit)
    assert edit.message_id == 'm1' and edit.body == 'Hello, edited'
    assert edit.timestamp == datetime.fromtimestamp(1712995400, UTC)
    assert batch.messages == [] and batch.deletions == []


def test_whapi_update_without_text_change_is_nothing():
    update = {'id': 'm1', 'before_update': whapi_text('m1'),
              'after_update': dict(whapi_text('m1'), reactions=[{'emoji': 'x'}]), 'changes': ['reactions']}
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'patch', messages_updates=[update])))
    assert batch.edits == [] and batch.skipped == [] and batch.is_empty()


def test_whapi_deletion_as_update_and_as_removed_and_as_action():
    update = {'id': 'm1', 'before_update': whapi_text('m1'),
              'after_update': dict(whapi_text('m1'), status='deleted'), 'changes': ['status']}
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'patch', messages_updates=[update])))
    assert batch.deletions == [MessageDeletion('m1', '919984351847')] and batch.edits == []

    batch = parse_webhook('whapi', body_of(whapi_event(
        'messages', 'delete', messages_removed=['m2', {'id': 'm3', 'chat_id': '120363025343298878@g.us'}, 7.5, None])))
    assert [d.message_id for d in batch.deletions] == ['m2', 'm3', '7.5']
    assert batch.deletions[1].chat_id == '120363025343298878@g.us'
    assert len(batch.skipped) == 1

    action = {'id': 'act2', 'type': 'action', 'chat_id': '919984351847@s.whatsapp.net', 'from_me': False,
              'timestamp': 1712995500, 'from': '919984351847', 'action': {'target': 'm4', 'type': 'delete'}}
    edit = dict(action, id='act3', action={'target': 'm5', 'type': 'edited', 'edited_type': 'text',
                                           'edited_content': {'text': {'body': 'new'}}})
    batch = parse_webhook('whapi', body_of(whapi_event('messages', 'post', messages=[action, edit])))
    assert batch.messages == []  # events on other messages, not messages (W2 MessageAction)
    assert batch.deletions == [MessageDeletion('m4', '919984351847', sender_id='919984351847')]
    assert batch.edits[0].message_id == 'm5' and batch.edits[0].body == 'new'


def test_whapi_chat_cleared_is_ignored():
    batch = parse_webhook('whapi', body_of(whapi_event(
        'messages', 'delete', messages_removed_all='919984351847@s.whatsapp.net')))
    assert batch.is_empty() and batch.ignored_events == ['messages.delete (chat cleared)']


@pytest.mark.parametrize('action', ['add', 'remove', 'promote', 'demote'])
def test_whapi_group_participants(action):
    change = {'group_id': '120363025343298878@g.us', 'participants': ['34600111222', '34600111333@s.whatsapp.net'],
              'action': action}
    batch = parse_webhook('whapi', body_of(whapi_event('groups', 'put', groups_participants=[change])))
    assert batch.participant_changes == [ParticipantChange(
        '120363025343298878@g.us', ['34600111222', '34600111333'], action)]


def test_whapi_group_participants_bad_items():
    changes = [
        {'group_id': '120363025343298878@g.us', 'participants': ['34600111222', 'nobody'], 'action': 'add'},
        {'group_id': '120363025343298878@g.us', 'participants': ['34600111222'], 'action': 'explode'},
        {'group_id': 'not-a-group', 'participants': ['34600111222'], 'action': 'add'},
        {'group_id': '120363025343298878@g.us', 'participants': 'x', 'action': 'add'},
    ]
    batch = parse_webhook('whapi', body_of(whapi_event('groups', 'put', groups_participants=changes)))
    assert [c.contact_ids for c in batch.participant_changes] == [['34600111222']]
    kinds = sorted(s.kind for s in batch.skipped)
    assert kinds == ['member', 'participant_change', 'participant_change', 'participant_change']


def test_whapi_groups_and_contacts():
    group = {'id': '120363025343298878@g.us', 'name': 'Team', 'type': 'group', 'size': 2,
             'participants': [{'id': '34600111222', 'rank': 'creator'}, {'id': '34600111333', 'rank': 'member'}]}
    batch = parse_webhook('whapi', body_of(whapi_event('groups', 'post', groups=[group])))
    [parsed] = batch.groups
    assert isinstance(parsed, Group) and parsed.name == 'Team'
    assert [(m.contact_id, m.role) for m in parsed.members] == [('34600111222', 'superadmin'),
                                                                  ('34600111333', 'member')]
    update = {'before_update': dict(group, name='Old'), 'after_update': group, 'changes': ['name']}
    batch = parse_webhook('whapi', body_of(whapi_event('groups', 'patch', groups_updates=[update])))
    assert batch.groups[0].name == 'Team'

    contacts = [{'id': '34600111222', 'name': 'Ana', 'pushname': 'Ani'}]
    updates = [{'before_update': {'id': '34600111333'}, 'after_update': {'id': '34600111333', 'pushname': 'Bo'},
                'changes': ['pushname']}]
    batch = parse_webhook('whapi', body_of(whapi_event('contacts', 'patch', contacts=contacts,
                                                       contacts_updates=updates)))
    assert [(c.contact_id, c.phone, c.pushname) for c in batch.contacts] == [
        ('34600111222', '+34600111222', 'Ani'), ('34600111333', '+34600111333', 'Bo')]


@pytest.mark.parametrize('payload, name', [
    (whapi_event('chats', 'post', chats=[{'id': '34600111222@s.whatsapp.net', 'type': 'contact'}]), 'chats.post'),
    (whapi_event('presences', 'post', presences=[{'contact_id': '34600111222', 'status': 'online'}]), 'presences.post'),
    # a passing state (W6: LAUNCH = connecting) changes nothing
    (whapi_event('channel', 'post', health={'status': {'code': 2, 'text': 'LAUNCH'}}), 'channel.post'),
    ({'event': {'type': 'calls', 'method': 'post'}, 'calls': []}, 'calls.post'),
])
def test_whapi_unknown_events_are_ignored(payload, name):
    batch = parse_webhook('whapi', body_of(payload))
    assert batch.is_empty() and batch.ignored_events == [name] and batch.skipped == []


# -- parsing: Wassenger ---------------------------------------------------------------------

DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'


def wass_message(message_id='3EB03EBAF8863B70BA00AF', flow='inbound', chat='34600111222@c.us', **extra):
    data = {'id': message_id, 'type': 'text', 'flow': flow, 'ack': 'delivered',
            'from': chat if flow == 'inbound' else '34999999999@c.us',
            'fromNumber': '+34600111222', 'to': '34999999999@c.us' if flow == 'inbound' else chat,
            'date': '2024-04-13T08:00:45.000Z', 'timestamp': 1712995245, 'body': 'Hola',
            'chat': {'id': chat, 'name': 'Ana', 'type': 'group' if chat.endswith('@g.us') else 'chat',
                     'contact': {'wid': chat, 'name': 'Ana', 'displayName': 'Ani', 'phone': '+34600111222'}},
            'meta': {'isGroup': chat.endswith('@g.us'), 'notifyName': 'Ani'}}
    data.update(extra)
    return data


def wass_event(event, data, event_id='6617d0f0a1b2c3d4e5f60718', device=None, **extra):
    payload = {'id': event_id, 'object': 'message', 'event': event, 'created': 1712995246,
               'device': device if device is not None else {'id': DEVICE, 'phone': '+34999999999',
                                                            'alias': 'Shop', 'plan': 'platform'},
               'data': data}
    payload.update(extra)
    return payload


@pytest.mark.parametrize('device', [{'id': DEVICE, 'phone': '+34999999999'}, DEVICE])
def test_wassenger_incoming_message_device_object_or_string(device):
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', wass_message(), device=device)))
    [message] = batch.messages
    assert message.message_id == '3EB03EBAF8863B70BA00AF' and message.chat_id == '34600111222'
    assert message.from_me is False and message.body == 'Hola' and message.sender_id == '34600111222'
    assert batch.event_ids == ['6617d0f0a1b2c3d4e5f60718'] and batch.account_id == DEVICE


def test_wassenger_outgoing_echo_and_group_and_image():
    out = parse_webhook('wassenger', body_of(wass_event('message:out:new', wass_message('OUT1', flow='outbound'))))
    assert out.messages[0].from_me is True and out.messages[0].chat_id == '34600111222'
    group = wass_message('G1', chat='120363025343298878@g.us', author='34600111333@c.us')
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', group)))
    assert batch.messages[0].chat_type == 'group' and batch.messages[0].sender_id == '34600111333'
    image = wass_message('IMG1', type='image', body='',
                         media={'id': 'f1', 'mime': 'image/jpeg', 'caption': 'look', 'size': 10,
                                'links': {'download': 'https://x/y.jpg'}})
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', image)))
    assert batch.messages[0].message_type == 'image' and batch.messages[0].body == 'look'
    preview = wass_message('LP1', meta={'isLinkPreview': True}, body='see https://example.com',
                           linkPreview={'title': 'Example'})
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', preview)))
    assert batch.messages[0].message_type == 'link_preview'


def test_wassenger_skill_pack_shape():
    payload = {'id': 'evt-sp-1', 'event': 'message:in:new', 'createdAt': '2024-04-13T08:00:46Z',
               'device': DEVICE,
               'data': {'message': {'id': 'SP1', 'from': '34600111222@c.us', 'to': '34999999999@c.us',
                                    'fromMe': False, 'type': 'text', 'body': 'hi', 'timestamp': 1712995245},
                        'chat': {'id': '34600111222@c.us', 'name': 'Ana'}}}
    batch = parse_webhook('wassenger', body_of(payload))
    [message] = batch.messages
    assert message.message_id == 'SP1' and message.chat_id == '34600111222' and message.body == 'hi'
    assert batch.event_ids == ['evt-sp-1'] and batch.account_id == DEVICE


def test_wassenger_skill_pack_without_direction_uses_event_name():
    message = {'id': 'SP2', 'to': '34600111222@c.us', 'type': 'text', 'body': 'sent', 'timestamp': 1712995245}
    batch = parse_webhook('wassenger', body_of({'id': 'e2', 'event': 'message:out:new', 'device': DEVICE,
                                                'data': {'message': message}}))
    assert batch.messages[0].from_me is True and batch.messages[0].chat_id == '34600111222'


def test_wassenger_ack_top_level_and_in_data():
    data = wass_message('OUT1', flow='outbound', ack='sent')
    batch = parse_webhook('wassenger', body_of(wass_event('message:out:ack', data, ack='read')))
    [status] = batch.statuses
    assert status.message_id == 'OUT1' and status.status == 'read'
    assert status.recipient_id == '34600111222' and status.alt_message_id is None
    assert status.timestamp == datetime.fromtimestamp(1712995246, UTC)
    batch = parse_webhook('wassenger', body_of(wass_event('message:out:ack', dict(data, ack='played'))))
    assert batch.statuses[0].status == 'played'
    batch = parse_webhook('wassenger', body_of(wass_event('message:out:ack', dict(data, ack='weird'))))
    assert batch.statuses == [] and batch.skipped[0].kind == 'status'


@pytest.mark.parametrize('event, expected', [('message:out:sent', 'sent'), ('message:out:delivered', 'delivered'),
                                             ('message:out:read', 'read'), ('message:out:played', 'played'),
                                             ('message:out:failed', 'failed')])
def test_wassenger_out_status_events_single_object(event, expected):
    batch = parse_webhook('wassenger', body_of(wass_event(event, wass_message('OUT2', flow='outbound'))))
    assert [(s.message_id, s.status) for s in batch.statuses] == [('OUT2', expected)]


def gateway_item(event, queue_id, wa_id=None, **data):
    queued = {'id': queue_id, 'phone': '+34600111222', 'message': 'Hi', 'status': 'processed',
              'deliveryStatus': event.rsplit(':', 1)[1], 'createdAt': '2024-04-13T08:00:40Z',
              'device': {'id': DEVICE}}
    if wa_id:
        queued['waId'] = wa_id
    queued.update(data)
    return {'event': event, 'date': '2024-04-13T08:00:47.000Z', 'entity': 'message',
            'entityId': queue_id, 'entityUrl': 'https://api.wassenger.com/v1/messages/' + queue_id,
            'user': '5f0000000000000000000001', 'data': queued}


def test_wassenger_gateway_array():
    payload = [
        gateway_item('message:out:sent', '6617aaaaaaaaaaaaaaaaaaaa', wa_id='3EB0AAAA'),
        gateway_item('message:out:failed', '6617bbbbbbbbbbbbbbbbbbbb', failureReason='Number not on WhatsApp'),
        gateway_item('message:out:sent', '6617cccccccccccccccccccc', group='120363025343298878', phone=None),
        'garbage',
        {'event': 'message:out:sent', 'data': 'not an object'},
        {'event': 'device:status', 'data': {}},
    ]
    batch = parse_webhook('wassenger', body_of(payload))
    sent, failed, group = batch.statuses
    assert (sent.message_id, sent.alt_message_id, sent.status) == ('6617aaaaaaaaaaaaaaaaaaaa', '3EB0AAAA', 'sent')
    assert sent.recipient_id == '34600111222' and sent.error is None
    assert sent.timestamp == datetime(2024, 4, 13, 8, 0, 47, tzinfo=UTC)
    assert (failed.status, failed.error, failed.alt_message_id) == ('failed', 'Number not on WhatsApp', None)
    assert group.recipient_id == '120363025343298878@g.us'
    assert sorted(s.kind for s in batch.skipped) == ['event', 'status']
    assert batch.ignored_events == ['device:status']


def test_wassenger_empty_array_is_empty_batch():
    batch = parse_webhook('wassenger', b'[]')
    assert batch.is_empty() and batch.skipped == [] and batch.ignored_events == []


def test_wassenger_message_update_edit_and_revoke():
    edit = wass_message('M1', body='Hola, editado', editedAt='2024-04-13T08:05:00Z')
    batch = parse_webhook('wassenger', body_of(wass_event('message:update', edit)))
    assert batch.edits == [MessageEdit('M1', 'Hola, editado', datetime(2024, 4, 13, 8, 5, tzinfo=UTC), chat_id='34600111222')]
    revoked = wass_message('M2', body='', meta={'isRevoked': True})
    batch = parse_webhook('wassenger', body_of(wass_event('message:update', revoked)))
    assert batch.deletions == [MessageDeletion('M2', '34600111222')] and batch.edits == []
    revoked_type = {'id': 'M3', 'type': 'revoked', 'chat': '120363025343298878@g.us'}
    batch = parse_webhook('wassenger', body_of(wass_event('message:update', revoked_type)))
    assert batch.deletions == [MessageDeletion('M3', '120363025343298878@g.us')]
    batch = parse_webhook('wassenger', body_of(wass_event('message:update', {'type': 'text'})))
    assert batch.skipped[0].kind == 'message_update'


def test_wassenger_group_update_participants_and_info():
    data = {'wid': '120363025343298878@g.us', 'name': 'Team', 'description': 'About',
            'action': 'promote', 'participants': ['34600111222@c.us', {'wid': '34600111333@c.us'}]}
    batch = parse_webhook('wassenger', body_of(wass_event('group:update', data)))
    assert batch.groups[0].group_id == '120363025343298878@g.us' and batch.groups[0].name == 'Team'
    assert batch.participant_changes == [ParticipantChange(
        '120363025343298878@g.us', ['34600111222', '34600111333'], 'promote')]
    # a change alone does not produce a group record (it would blank the name)
    only_change = {'id': '120363025343298878@g.us', 'type': 'leave', 'participants': ['34600111222@c.us']}
    batch = parse_webhook('wassenger', body_of(wass_event('group:update', only_change)))
    assert batch.groups == [] and batch.participant_changes[0].action == 'remove'
    # the member list without an action
    members = {'wid': '120363025343298878@g.us', 'name': 'Team',
               'participants': [{'wid': '34600111222@c.us', 'isSuperAdmin': True}, {'wid': 'x'}]}
    batch = parse_webhook('wassenger', body_of(wass_event('group:update', members)))
    assert [(m.contact_id, m.role) for m in batch.groups[0].members] == [('34600111222', 'superadmin')]
    assert batch.skipped[0].kind == 'member'
    batch = parse_webhook('wassenger', body_of(wass_event('group:update', {'wid': '34600111222@c.us'})))
    assert batch.skipped[0].kind == 'group'


def test_wassenger_contact_update():
    data = {'id': '34600111222@c.us', 'phone': '+34600111222', 'name': 'Ana', 'displayName': 'Ani'}
    batch = parse_webhook('wassenger', body_of(wass_event('contact:update', data)))
    assert [(c.contact_id, c.phone, c.name, c.pushname) for c in batch.contacts] == [
        ('34600111222', '+34600111222', 'Ana', 'Ani')]


def test_wassenger_unknown_event_is_ignored():
    batch = parse_webhook('wassenger', body_of(wass_event('status:update', wass_message())))
    assert batch.is_empty() and batch.ignored_events == ['status:update']
    assert batch.event_ids == ['6617d0f0a1b2c3d4e5f60718']


def test_wassenger_bad_message_is_skipped():
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', {'id': 'X1', 'body': 'no type'})))
    assert batch.messages == [] and [(s.kind, s.external_id) for s in batch.skipped] == [('message', 'X1')]
    batch = parse_webhook('wassenger', body_of(wass_event('message:in:new', 'not an object')))
    assert batch.skipped[0].kind == 'message'


@pytest.mark.parametrize('provider', ['whapi', 'wassenger'])
def test_json_nested_too_deeply_is_a_bad_payload(provider):
    with pytest.raises(BadPayloadError, match='nested too deeply'):
        parse_webhook(provider, b'[' * 100000 + b']' * 100000)


def test_brackets_inside_strings_do_not_count_as_nesting():
    from providers.webhooks import _nesting_depth
    assert _nesting_depth('{"a": "[[[[{{{{\\"]]", "b": [1, {"c": []}]}') == 4


# -- issue 23: statuses, signatures and account health --------------------------------------

def spec_failed_item(queue_id='5bf612faa893b00016c0f13d', **data):
    """S2's ``message:out:failed`` example (payload B): no reason field at all."""
    queued = {'id': queue_id, 'phone': '+1234567890', 'status': 'failed', 'deliveryStatus': 'failed',
              'createdAt': '2022-11-22T02:22:50.955Z', 'failedAt': None, 'webhookStatus': 'pending',
              'message': 'This is an automated message sent from the API', 'priority': 'normal',
              'retry': {'count': 1, 'lastRetryAt': '2022-11-22T02:25:58.414Z'},
              'device': {'id': '3bf5d1ff2ff2bd001696ac42', 'session': {'status': 'online'}}}
    queued.update(data)
    return {'event': 'message:out:failed', 'date': '2018-12-08T15:01:48.518Z', 'entity': 'message',
            'entityId': queue_id, 'entityUrl': 'https://api.wassenger.com/v1/messages/' + queue_id,
            'user': '5bd75ab235623e00162a73dc', 'data': queued}


def test_wassenger_failed_send_without_reason_still_says_why():
    batch = parse_webhook('wassenger', body_of([spec_failed_item()]))
    [failed] = batch.statuses
    assert (failed.message_id, failed.status) == ('5bf612faa893b00016c0f13d', 'failed')
    assert failed.error and 'failed' in failed.error
    batch = parse_webhook('wassenger', body_of([spec_failed_item(failureReason='Invalid phone number')]))
    assert batch.statuses[0].error == 'Invalid phone number'


def test_wassenger_reaction_event_is_a_reaction_message():
    reaction = wass_message('3EB0REACT', type='reaction', body='',
                            reaction={'message': '3EB0TARGET', 'emoji': '👍'})
    batch = parse_webhook('wassenger', body_of(wass_event('message:reaction', reaction)))
    [message] = batch.messages
    assert (message.message_type, message.quoted_id, message.body) == ('reaction', '3EB0TARGET', '👍')
    assert batch.ignored_events == []


def test_wassenger_echoed_reference_is_read():
    batch = parse_webhook('wassenger', body_of(wass_event(
        'message:out:new', wass_message('3EB0OUT', flow='outbound', reference='odoo-abc'))))
    assert batch.messages[0].reference == 'odoo-abc'


@pytest.mark.parametrize('data, connected, reason', [
    ({'status': 'offline'}, False, 'offline'),
    ({'session': 'online'}, True, 'online'),
    ({'session': {'status': 'authorize'}}, False, 'qr'),
    ({'device': {'id': DEVICE, 'session': {'status': 'timeout'}}}, False, 'offline'),
    ({}, True, 'online'),  # read from the delivery's own device object
])
def test_wassenger_number_session(data, connected, reason):
    device = {'id': DEVICE, 'session': {'status': 'online'}}
    batch = parse_webhook('wassenger', body_of(wass_event('number:session', data, device=device)))
    assert (batch.health.connected, batch.health.reason) == (connected, reason)
    assert not batch.is_empty() and batch.ignored_events == []


def test_wassenger_number_session_passing_state_changes_nothing():
    batch = parse_webhook('wassenger', body_of(wass_event('number:session', {'status': 'loading'},
                                                          device=DEVICE)))
    assert batch.health is None and batch.ignored_events == ['number:session']


@pytest.mark.parametrize('payload, connected, reason', [
    # W6 examples: users.post = login, users.delete = logout
    (whapi_event('users', 'post', user={'id': '61371989950', 'name': 'Jonathan'}), True, 'login'),
    (whapi_event('users', 'delete', user={'id': '61371989950', 'name': 'Jonathan'}), False, 'logout'),
    # channel.post with health.status (W2 ChannelStatus, W6)
    (whapi_event('channel', 'post', health={'start_at': 1713774883, 'uptime': 78,
                                            'status': {'code': 3, 'text': 'QR'}}), False, 'qr'),
    (whapi_event('channel', 'post', health={'status': {'code': 5, 'text': 'ERROR'}}), False, 'error'),
    (whapi_event('channel', 'post', health={'status': {'code': 4}}), True, 'online'),
    (whapi_event('channel', 'post', health={'status': {'text': 'STOP'}}), False, 'error'),
])
def test_whapi_account_health(payload, connected, reason):
    batch = parse_webhook('whapi', body_of(payload))
    assert (batch.health.connected, batch.health.reason) == (connected, reason)
    assert batch.ignored_events == [] and not batch.is_empty()


def test_webhook_signature_absent_valid_invalid():
    from providers import webhook_signature
    raw = body_of([spec_failed_item()])
    assert webhook_signature('wassenger', raw, {}, SECRET) == 'absent'
    assert webhook_signature('wassenger', raw, {}, None) == 'absent'
    assert webhook_signature('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: signed(raw)}, SECRET) == 'valid'
    assert webhook_signature('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: signed(raw, 'x')}, SECRET) == 'invalid'
    # a signature we cannot check (no secret known) is not taken on trust
    assert webhook_signature('wassenger', raw, {WASSENGER_SIGNATURE_HEADER: signed(raw)}, None) == 'invalid'
    assert webhook_signature('whapi', raw, {WHAPI_SECRET_HEADER: SECRET}, SECRET) == 'valid'
    assert webhook_signature('whapi', raw, {WHAPI_SECRET_HEADER: 'nope'}, SECRET) == 'invalid'
    assert webhook_signature('whapi', raw, {}, SECRET) == 'absent'


def test_signature_policy_per_provider():
    """WHAPI's header is ours (set at registration): always required. Wassenger may not
    sign at all (S2, S6): optional until a signed delivery arrives."""
    from providers import WassengerClient, WhapiClient
    assert WassengerClient.webhook_signature_optional is True
    assert WhapiClient.webhook_signature_optional is False
