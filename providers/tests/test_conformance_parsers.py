"""Every parser fed sample payloads in the shapes the providers publish, asserting the
canonical records. Each sample names the schema it is built from (sources: see
``providers/conformance/*.json``). Where the sources are silent or disagree, each
plausible reading is a case of its own.
"""
import json
from datetime import datetime, timezone

import pytest

from providers import Message, wassenger, whapi
from providers.conformance import load_table
from providers.parsing import ItemError
from providers.webhooks import parse_webhook

T = 1767222000
WHEN = datetime.fromtimestamp(T, timezone.utc)
GROUP = '120363012345678901@g.us'
LID = '998877665544332@lid'


def _has(record, **expected):
    for name, value in expected.items():
        actual = getattr(record, name)
        if callable(value):
            assert value(actual), '%s = %r' % (name, actual)
        else:
            assert actual == value, '%s = %r, expected %r' % (name, actual, value)


def _contains(*words):
    return lambda text: bool(text) and all(word in text for word in words)


def _row(provider, row_id):
    for row in load_table(provider)['endpoints']:
        if row['id'] == row_id:
            return row
    raise KeyError(row_id)


# -- WHAPI (W2 openapi.yaml 1.8.7 schemas; W1 for newer fields) -------------------------

def wmsg(type_, content=None, **extra):
    """A W2 ``Message``: required id, type, chat_id, from_me, timestamp."""
    item = {'id': 'p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw', 'type': type_, 'chat_id': '34600111222@s.whatsapp.net',
            'from': '34600111222', 'from_me': False, 'from_name': 'Ana', 'timestamp': T, 'status': 'delivered',
            'source': 'mobile'}
    if content is not None:
        item[type_] = content
    item.update(extra)
    return item


MEDIA = {'id': 'jpeg-0123abcd', 'mime_type': 'image/jpeg', 'file_size': 2048, 'sha256': 'ab' * 32,
         'link': 'https://gate.whapi.cloud/media/jpeg-0123abcd'}

WHAPI_MESSAGES = [
    pytest.param(wmsg('text', {'body': 'Hello'}), dict(message_type='text', body='Hello', sender_id='34600111222',
                                                         chat_id='34600111222', chat_type='contact', from_me=False,
                                                         timestamp=WHEN, status='delivered', sender_name='Ana'),
                 id='text'),
    pytest.param(wmsg('link_preview', {'body': 'See https://example.com', 'url': 'https://example.com', 'title': 'Ex'}),
                 dict(message_type='link_preview', body='See https://example.com'), id='link_preview'),
    pytest.param(wmsg('image', dict(MEDIA, caption='Look')),
                 dict(message_type='image', body='Look',
                      media=lambda m: (m.media_id, m.mime_type, m.file_size, m.url) == (
                          'jpeg-0123abcd', 'image/jpeg', 2048, MEDIA['link'])), id='image'),
    pytest.param(wmsg('image', {'id': 'jpeg-0123abcd', 'mime_type': 'image/jpeg', 'file_size': 2048, 'sha256': 'ab'}),
                 dict(message_type='image', body=None, media=lambda m: m.url is None and m.media_id == 'jpeg-0123abcd'),
                 id='image_without_link_or_caption'),
    pytest.param(wmsg('video', dict(MEDIA, id='mp4-01ab', mime_type='video/mp4', seconds=12)),
                 dict(message_type='video'), id='video'),
    pytest.param(wmsg('short', dict(MEDIA, id='mp4-01ac', mime_type='video/mp4')), dict(message_type='video', raw_type='short'),
                 id='short'),
    pytest.param(wmsg('gif', dict(MEDIA, id='mp4-01ad', mime_type='video/mp4')), dict(message_type='gif'), id='gif'),
    pytest.param(wmsg('audio', dict(MEDIA, id='mpeg-01ae', mime_type='audio/mpeg', seconds=3)), dict(message_type='audio'),
                 id='audio'),
    pytest.param(wmsg('voice', dict(MEDIA, id='oga-01af', mime_type='audio/ogg; codecs=opus', seconds=3)),
                 dict(message_type='voice', media=lambda m: m.mime_type.startswith('audio/ogg')), id='voice'),
    # MediaFile names file_name, MessagePropsDocument names filename: either may come
    pytest.param(wmsg('document', dict(MEDIA, id='pdf-01b0', mime_type='application/pdf', file_name='offer.pdf')),
                 dict(message_type='document', media=lambda m: m.file_name == 'offer.pdf'), id='document_file_name'),
    pytest.param(wmsg('document', dict(MEDIA, id='pdf-01b1', mime_type='application/pdf', filename='offer.pdf',
                                       caption='The offer')),
                 dict(message_type='document', body='The offer', media=lambda m: m.file_name == 'offer.pdf'),
                 id='document_filename'),
    pytest.param(wmsg('sticker', dict(MEDIA, id='webp-01b2', mime_type='image/webp', animated=False)),
                 dict(message_type='sticker'), id='sticker'),
    pytest.param(wmsg('system', {'body': 'Ana joined'}, subtype='group_join'), dict(message_type='system', body='Ana joined'),
                 id='system'),
    pytest.param(wmsg('text', {'body': 'In a group'}, chat_id=GROUP),
                 dict(chat_id=GROUP, chat_type='group', sender_id='34600111222'), id='group_text'),
    pytest.param(wmsg('text', {'body': 'Hidden'}, chat_id=LID, **{'from': LID}),
                 dict(chat_id=LID, sender_id=LID), id='hidden_number_sender'),
    pytest.param(wmsg('text', {'body': 'Mine'}, from_me=True, **{'from': '34600000001', 'status': 'read'}),
                 dict(from_me=True, status='read'), id='own_message'),
    pytest.param(wmsg('text', {'body': 'Reply'}, context={'quoted_id': 'p.Q00000000000000-gBgTwl', 'quoted_author': '34600000001',
                                                         'quoted_type': 'text'}),
                 dict(quoted_id='p.Q00000000000000-gBgTwl'), id='quoted_reply'),
    pytest.param(wmsg('action', {'type': 'reaction', 'target': 'p.T00000000000000-gBgTwl', 'emoji': '\U0001F44D'}),
                 dict(message_type='reaction', quoted_id='p.T00000000000000-gBgTwl', body='\U0001F44D'), id='action_reaction'),
    pytest.param(wmsg('hologram', {'x': 1}), dict(message_type='unknown', raw_type='hologram'), id='unknown_type_kept'),
    pytest.param(wmsg('poll', {'title': 'Lunch?', 'options': ['Pizza', 'Sushi'], 'vote_limit': 1, 'total': 0}),
                 dict(message_type='poll', body=_contains('Lunch?', 'Pizza', 'Sushi')), id='poll'),
    pytest.param(wmsg('location', {'latitude': 41.4036, 'longitude': 2.1744, 'name': 'Sagrada Familia',
                                   'address': 'Carrer de Mallorca 401'}),
                 dict(message_type='location', body=_contains('Sagrada Familia')), id='location'),
    pytest.param(wmsg('contact', {'name': 'Bob Smith', 'vcard': 'BEGIN:VCARD\nVERSION:3.0\nFN:Bob Smith\n'
                                                                 'TEL;waid=447911123456:+44 7911 123456\nEND:VCARD'}),
                 dict(message_type='contact', body=_contains('Bob Smith')), id='contact_card'),
]
for _status in ('failed', 'pending', 'sent', 'delivered', 'read', 'played', 'deleted'):  # W2 StatusEnum
    WHAPI_MESSAGES.append(pytest.param(wmsg('text', {'body': 's'}, status=_status), dict(status=_status),
                                       id='status_%s' % _status))


@pytest.mark.parametrize('item,expected', WHAPI_MESSAGES)
def test_whapi_message_shapes(item, expected):
    _has(whapi.parse_message(item), **expected)


@pytest.mark.parametrize('action', [
    {'type': 'edit', 'target': 'p.T00000000000000-gBgTwl', 'edited_type': 'text', 'edited_content': {'body': 'fixed'}},
    {'type': 'delete', 'target': 'p.T00000000000000-gBgTwl'},
    {'type': 'vote', 'target': 'p.T00000000000000-gBgTwl'},
    {'type': 'ephemeral', 'ephemeral': 86400},
], ids=['edit', 'delete', 'vote', 'ephemeral'])
def test_whapi_action_messages_are_not_empty_unknown_messages(action):
    """W2 MessageAction: events on another message, never an empty 'unknown' row."""
    record = whapi.parse_message(wmsg('action', action))
    # an event names its kind and its target; the store applies it and keeps no row for it
    assert record.action == action['type']
    assert record.quoted_id == action.get('target')


def test_whapi_listing_sample_rows_parse():
    """The table's own samples (what the fake and the recorder serve) read as records."""
    contacts = [whapi.parse_contact(item) for item in _row('whapi', 'list_contacts')['sample']['contacts']]
    _has(contacts[0], contact_id='34600111222', phone='+34600111222', name='Ana Garcia', pushname='Ana',
         is_business=False)
    _has(contacts[1], contact_id='447911123456', name=None, pushname='Bob')  # W8: name absent when unsaved
    chats = [whapi.parse_chat(item) for item in _row('whapi', 'list_chats')['sample']['chats']]
    assert [(chat.chat_id, chat.chat_type) for chat in chats] == [('34600111222', 'contact'), (GROUP, 'group')]
    group = whapi.parse_group(_row('whapi', 'get_group')['sample'])
    _has(group, group_id=GROUP, name='Team', description='Our team', invite_code='AbCdEf123456')
    assert [(m.contact_id, m.role) for m in group.members] == [('34600111222', 'superadmin'), ('447911123456', 'admin')]
    messages = [whapi.parse_message(item) for item in _row('whapi', 'list_messages')['sample']['messages']]
    _has(messages[0], message_type='text', body='Hello', chat_id='34600111222')


@pytest.mark.parametrize('chat_type', ['contact', 'group', 'broadcast', 'newsletter', 'unknown'])
def test_whapi_chat_types(chat_type):
    chat_id = {'group': GROUP, 'newsletter': '120363000000000001@newsletter',
               'broadcast': '1767222000@broadcast'}.get(chat_type, '34600111222@s.whatsapp.net')
    _has(whapi.parse_chat({'id': chat_id, 'type': chat_type}), chat_type=chat_type)


@pytest.mark.parametrize('participant,expected', [
    ({'id': '34600111222', 'rank': 'creator'}, ('34600111222', 'superadmin')),
    ({'id': '34600111222', 'rank': 'admin'}, ('34600111222', 'admin')),
    ({'id': '34600111222', 'rank': 'member'}, ('34600111222', 'member')),
    # W9: hidden numbers appear as participants (placement unconfirmed)
    ({'id': LID, 'rank': 'member'}, (LID, 'member')),
    ({'id': '34600111222@s.whatsapp.net', 'rank': 'member'}, ('34600111222', 'member')),
])
def test_whapi_participant_shapes(participant, expected):
    member = whapi.parse_participant(participant)
    assert (member.contact_id, member.role) == expected


def test_whapi_send_reply_and_error_shapes():
    from providers.whapi import WhapiClient, _parse_send_reply
    result = _parse_send_reply(_row('whapi', 'send_text')['sample'], '/messages/text')
    _has(result, message_id='PsqXn5SAD5v7HRA-wHNB9hYY', status='pending', timestamp=WHEN)
    error = load_table('whapi')['error_shape']['sample']
    assert WhapiClient._error_text(error) == 'Wrong request parameters: count must be <= 500'


def test_whapi_webhook_shapes():
    """W3: messages.post carries Message objects; statuses.post {id, code, status, recipient_id, timestamp: string}."""
    body = {'messages': [wmsg('text', {'body': 'Hi'})], 'event': {'type': 'messages', 'event': 'post'},
            'channel_id': 'MANTIS-M72HC'}
    batch = parse_webhook('whapi', json.dumps(body).encode())
    assert [(m.message_id, m.body) for m in batch.messages] == [('p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw', 'Hi')]
    body = {'statuses': [{'id': 'p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw', 'code': 4, 'status': 'read',
                          'recipient_id': '34600111222', 'timestamp': str(T)}],
            'event': {'type': 'statuses', 'event': 'post'}, 'channel_id': 'MANTIS-M72HC'}
    batch = parse_webhook('whapi', json.dumps(body).encode())
    assert [(s.message_id, s.status) for s in batch.statuses] == [('p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw', 'read')]


# -- Wassenger (S2 definitions; S2 webhook examples; S6) -----------------------------------

def smsg(**fields):
    """A message as in S2's message:in:new example (id, type, flow inbound|outbound, chat{...})."""
    item = {'id': '3EB03EBAF8863B70BA00AF', 'type': 'text', 'flow': 'inbound', 'ack': 'delivered',
            'from': '34600111222@c.us', 'fromNumber': '+34600111222', 'to': '34600000001@c.us',
            'date': '2025-12-31T23:00:00.000Z', 'timestamp': T, 'body': 'Hello',
            'chat': {'id': '34600111222@c.us', 'name': 'Ana', 'type': 'chat'}, 'meta': {'notifyName': 'Ana'}}
    item.update(fields)
    return item


def spec_msg(**fields):
    """A message as S2's ``ioMessage`` names it (wid, chatWid, kind, flow in|out)."""
    item = {'wid': '3EB03EBAF8863B70BA00AF', 'chatWid': '34600111222@c.us', 'kind': 'text', 'flow': 'in',
            'ack': 'delivered', 'from': '34600111222@c.us', 'date': '2025-12-31T23:00:00.000Z', 'body': 'Hello'}
    item.update(fields)
    return item


GROUP_MSG = dict(chat={'id': GROUP, 'type': 'group'}, **{'from': GROUP})
SMEDIA = {'id': '64b0f0c0a1b2c3d4e5f60719', 'type': 'image', 'mime': 'image/jpeg', 'size': 2048, 'filename': 'p.jpg',
          'format': 'native', 'caption': 'Look',
          'links': {'download': '/v1/chat/61b37a069cba0c15d6c89757/files/64b0f0c0a1b2c3d4e5f60719/download'}}

WASSENGER_MESSAGES = [
    pytest.param(smsg(), dict(message_id='3EB03EBAF8863B70BA00AF', message_type='text', body='Hello', chat_id='34600111222',
                              chat_type='contact', from_me=False, sender_id='34600111222', timestamp=WHEN,
                              status='delivered', sender_name='Ana'), id='example_text'),
    pytest.param(smsg(flow='outbound', ack='read', **{'from': '34600000001@c.us', 'to': '34600111222@c.us'}),
                 dict(from_me=True, status='read', chat_id='34600111222'), id='example_outbound'),
    pytest.param(smsg(timestamp=None), dict(timestamp=WHEN), id='date_only'),
    pytest.param(smsg(author='447911123456@c.us', **GROUP_MSG), dict(chat_id=GROUP, sender_id='447911123456'),
                 id='group_author_string'),
    pytest.param(smsg(author={'wid': '447911123456@c.us', 'name': 'Bob'}, **GROUP_MSG),
                 dict(chat_id=GROUP, sender_id='447911123456'), id='group_author_object_wid'),
    pytest.param(smsg(author={'id': '447911123456@c.us'}, **GROUP_MSG),
                 dict(chat_id=GROUP, sender_id='447911123456'), id='group_author_object_id'),
    pytest.param(smsg(author={'phone': '+447911123456'}, **GROUP_MSG),
                 dict(chat_id=GROUP, sender_id='447911123456'), id='group_author_object_phone'),
    pytest.param(smsg(type='image', body='Look', media=SMEDIA),
                 dict(message_type='image', body='Look', media=lambda m: (m.media_id, m.mime_type, m.file_size, m.file_name) == (
                     SMEDIA['id'], 'image/jpeg', 2048, 'p.jpg')), id='image'),
    pytest.param(smsg(type='image', body=None, media=SMEDIA), dict(body='Look'), id='image_caption_in_media'),
    pytest.param(smsg(type='audio', body=None, media=dict(SMEDIA, type='audio', mime='audio/ogg', format='ptt')),
                 dict(message_type='voice'), id='voice_note'),
    pytest.param(smsg(type='video', body=None, media=dict(SMEDIA, type='video', mime='video/mp4', format='gif')),
                 dict(message_type='gif'), id='gif'),
    pytest.param(smsg(meta={'isLinkPreview': True}, linkPreview={'title': 'Ex', 'canonicalUrl': 'https://example.com'},
                      body='See https://example.com'), dict(message_type='link_preview'), id='link_preview'),
    pytest.param(smsg(meta={'isRevoked': True}), dict(status='deleted'), id='revoked'),
    pytest.param(smsg(quoted={'wid': '3EB0AAAA', 'body': 'Earlier'}), dict(quoted_id='3EB0AAAA'), id='quoted_wid'),
    pytest.param(smsg(quoted={'id': '3EB0AAAA'}), dict(quoted_id='3EB0AAAA'), id='quoted_id'),
    pytest.param(smsg(chat=LID, **{'from': LID}), dict(chat_id=LID, sender_id=LID), id='hidden_number'),
    pytest.param(spec_msg(), dict(message_id='3EB03EBAF8863B70BA00AF', message_type='text', chat_id='34600111222',
                                  from_me=False, body='Hello'), id='spec_names_kind_wid_chatWid'),
    pytest.param(spec_msg(type='text', flow='out'), dict(from_me=True), id='spec_flow_out'),
    pytest.param(smsg(type='poll', body=None, poll={'name': 'Lunch?', 'options': [{'name': 'Pizza'}, {'name': 'Sushi'}]}),
                 dict(message_type='poll', body=_contains('Lunch?', 'Pizza', 'Sushi')), id='poll'),
    pytest.param(smsg(type='location', body=None, location={'name': 'Sagrada Familia', 'address': 'Carrer de Mallorca 401',
                                                            'lat': 41.4036, 'lon': 2.1744}),
                 dict(message_type='location', body=_contains('Sagrada Familia')), id='location'),
]
for _ack in ('failed', 'error', 'pending', 'sent', 'delivered', 'read', 'played'):  # S2 ioMessage.ack
    WASSENGER_MESSAGES.append(pytest.param(smsg(ack=_ack), dict(status='failed' if _ack == 'error' else _ack),
                                           id='ack_%s' % _ack))


@pytest.mark.parametrize('item,expected', WASSENGER_MESSAGES)
def test_wassenger_message_shapes(item, expected):
    item = dict((key, value) for key, value in item.items() if value is not None)
    _has(wassenger.parse_message(item), **expected)


def test_wassenger_listing_sample_rows_parse():
    contacts = [wassenger.parse_contact(item) for item in _row('wassenger', 'list_contacts')['sample']]
    _has(contacts[0], contact_id='34600111222', phone='+34600111222', name='Ana Garcia', pushname='Ana', is_business=False)
    _has(contacts[1], contact_id=LID, phone=None, pushname='Hidden')  # S2 ioContact.lid, meta.isPhoneHidden
    chats = [wassenger.parse_chat(item) for item in _row('wassenger', 'list_chats')['sample']]
    assert [(chat.chat_id, chat.chat_type) for chat in chats] == [('34600111222', 'contact'), (GROUP, 'group')]
    groups = [wassenger.parse_group(item) for item in _row('wassenger', 'list_groups')['sample']]
    _has(groups[0], group_id=GROUP, name='Team', description='Our team', invite_code='AbCdEf123456')
    assert groups[1] is None  # kind 'channel': not a group
    members = [wassenger.parse_participant(item) for item in _row('wassenger', 'list_participants')['sample']]
    assert [(m.contact_id, m.role) for m in members] == [('34600111222', 'superadmin'), ('447911123456', 'member')]
    messages = [wassenger.parse_message(item) for item in _row('wassenger', 'list_messages')['sample']]
    _has(messages[0], message_type='text', body='Hello', chat_id='34600111222')


@pytest.mark.parametrize('participant,role', [
    ({'wid': '34600111222@c.us', 'isAdmin': True, 'isSuperAdmin': True}, 'superadmin'),
    # whether the owner also has isAdmin is not published: both readings
    ({'wid': '34600111222@c.us', 'isAdmin': False, 'isSuperAdmin': True}, 'superadmin'),
    ({'wid': '34600111222@c.us', 'isAdmin': True, 'isSuperAdmin': False}, 'admin'),
    ({'wid': '34600111222@c.us'}, 'member'),
    ({'wid': LID, 'lid': LID, 'isAdmin': False}, 'member'),
])
def test_wassenger_participant_shapes(participant, role):
    assert wassenger.parse_participant(participant).role == role


@pytest.mark.parametrize('chat,expected', [
    ({'wid': '34600111222@c.us', 'kind': 'chat'}, ('34600111222', 'contact')),   # S2 ioChat
    ({'id': '34600111222@c.us', 'type': 'chat'}, ('34600111222', 'contact')),     # S2 webhook example chat{}
    ({'wid': GROUP, 'kind': 'group'}, (GROUP, 'group')),
    ({'wid': '34600111222@c.us'}, ('34600111222', 'contact')),                    # no kind: from the id
])
def test_wassenger_chat_shapes(chat, expected):
    parsed = wassenger.parse_chat(chat)
    assert (parsed.chat_id, parsed.chat_type) == expected


@pytest.mark.parametrize('contact,expected', [
    ({'wid': '34600111222@c.us', 'phone': '+34600111222', 'name': 'Ana'}, '34600111222'),  # no 'type': spec
    ({'wid': '34600111222@c.us', 'type': 'user'}, '34600111222'),                         # S4 reads type
    ({'wid': GROUP, 'groupId': GROUP}, None),
])
def test_wassenger_contact_shapes(contact, expected):
    parsed = wassenger.parse_contact(contact)
    assert (parsed.contact_id if parsed else None) == expected


def test_wassenger_send_reply_and_error_shapes(server):
    from conftest import TOKEN, Reply
    from providers.wassenger import WassengerClient
    server.route('POST', r'/messages', Reply(201, _row('wassenger', 'send_message')['sample']))
    client = WassengerClient(TOKEN, base_url=server.base_url, device_id='61b37a069cba0c15d6c89757')
    result = client.send_text('34600111222', 'Hi')
    _has(result, message_id='64b0f0c0a1b2c3d4e5f60718', status='pending', whatsapp_message_id='3EB0C0FFEE0000000001')
    error = load_table('wassenger')['error_shape']['sample']
    assert WassengerClient._error_text(error) == 'Invalid query or body request data [error:generic]'


def test_wassenger_webhook_shapes():
    """S2: Platform events are one object with data{...}; Gateway events an array of
    {event, entity, entityId, data: <queued message>}."""
    event = {'id': '3EB03EBAF8863B70BA00AF', 'object': 'message', 'event': 'message:in:new', 'created': T,
             'device': {'id': '61b37a069cba0c15d6c89757', 'phone': '+34600000001'}, 'data': smsg()}
    batch = parse_webhook('wassenger', json.dumps(event).encode())
    assert [(m.message_id, m.body, m.chat_id) for m in batch.messages] == [('3EB03EBAF8863B70BA00AF', 'Hello', '34600111222')]
    assert batch.account_id == '61b37a069cba0c15d6c89757'
    ack = dict(event, event='message:out:ack', ack='read', data=smsg(flow='outbound', ack='read'))
    batch = parse_webhook('wassenger', json.dumps(ack).encode())
    assert [(s.message_id, s.status) for s in batch.statuses] == [('3EB03EBAF8863B70BA00AF', 'read')]
    failed = [{'event': 'message:out:failed', 'date': '2025-12-31T23:00:00.000Z', 'entity': 'message',
               'entityId': '64b0f0c0a1b2c3d4e5f60718',
               'data': {'id': '64b0f0c0a1b2c3d4e5f60718', 'phone': '+34600111222', 'status': 'failed',
                        'deliveryStatus': 'failed', 'failureReason': 'Phone number not on WhatsApp'}}]
    batch = parse_webhook('wassenger', json.dumps(failed).encode())
    assert [(s.message_id, s.status, s.error) for s in batch.statuses] == [
        ('64b0f0c0a1b2c3d4e5f60718', 'failed', 'Phone number not on WhatsApp')]


def test_item_errors_are_reported_not_raised_as_crashes():
    """A sample missing a required field (W2 Message requires timestamp) is an ItemError."""
    with pytest.raises(ItemError):
        whapi.parse_message({'id': 'x', 'type': 'text', 'chat_id': '34600111222@s.whatsapp.net', 'from_me': False})
