"""Wassenger client: every operation against the local fake server."""
from datetime import datetime, timedelta, timezone

import re

import pytest

from conftest import TOKEN, Reply, wassenger_messages, wassenger_pages
from providers import (
    AuthenticationError, BadPayloadError, ConfigurationError, NotFoundError,
    RequestRejectedError, TransientError, WassengerClient,
)

DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)


def client_for(server, sleeps, device_id=DEVICE, **settings):
    return WassengerClient(TOKEN, base_url=server.base_url, device_id=device_id,
                           sleep=sleeps.append, **settings)


def flat(pages):
    items, skipped = [], []
    for page in pages:
        items.extend(page.items)
        skipped.extend(page.skipped)
    return items, skipped


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.000Z')


def wmsg(message_id, moment, type_='text', flow='inbound', chat='34600111222@c.us', **extra):
    item = {'id': message_id, 'type': type_, 'flow': flow, 'ack': 'delivered', 'date': iso(moment),
            'from': chat if flow == 'inbound' else '34999999999@c.us',
            'to': '34999999999@c.us' if flow == 'inbound' else chat,
            'chat': {'id': chat, 'name': 'Ana', 'type': 'group' if chat.endswith('@g.us') else 'chat'},
            'body': 'hello %s' % message_id, 'meta': {'notifyName': 'Ana'}}
    item.update(extra)
    return item


# -- construction and connection ----------------------------------------------------------

def test_missing_token_is_configuration_error():
    with pytest.raises(ConfigurationError):
        WassengerClient('', device_id=DEVICE)


def test_defaults_repr_and_token_header(server, sleeps):
    client = WassengerClient(TOKEN, device_id=DEVICE)
    assert client.base_url == 'https://api.wassenger.com/v1'
    assert TOKEN not in repr(client) and DEVICE in repr(client)
    server.route('GET', '/devices/%s' % DEVICE, {'id': DEVICE, 'status': 'operative', 'session': {'status': 'online'}})
    client_for(server, sleeps).check_connection()
    assert server.requests[0].headers['Token'] == TOKEN
    assert 'Authorization' not in server.requests[0].headers


def test_missing_device_id_blocks_device_calls(sleeps):
    client = WassengerClient(TOKEN, sleep=sleeps.append)
    for call in (lambda: list(client.iter_contacts()), lambda: list(client.iter_messages()),
                 lambda: client.send_text('34600111222', 'x'), lambda: client.get_group('1@g.us')):
        with pytest.raises(ConfigurationError):
            call()


def test_check_connection_without_device_lists_devices(server, sleeps):
    server.route('GET', '/devices', [{'id': 'a' * 24, 'phone': '+34600111222', 'alias': 'Sales', 'status': 'operative'},
                                     {'id': 'b' * 24, 'status': 'pending'}])
    with pytest.raises(ConfigurationError) as info:
        client_for(server, sleeps, device_id=None).check_connection()
    text = str(info.value)
    assert 'a' * 24 in text and '+34600111222' in text and 'Sales' in text and 'b' * 24 in text


def test_check_connection_without_device_and_no_devices(server, sleeps):
    server.route('GET', '/devices', [])
    with pytest.raises(ConfigurationError) as info:
        client_for(server, sleeps, device_id=None).check_connection()
    assert 'no device yet' in str(info.value)


def test_check_connection_online(server, sleeps):
    server.route('GET', '/devices/%s' % DEVICE, {'id': DEVICE, 'phone': '+34600111222', 'alias': 'Shop 🛍️',
                                                 'status': 'operative', 'session': {'status': 'online'}})
    info = client_for(server, sleeps).check_connection()
    assert info.connected and info.status == 'operative/online'
    assert info.phone == '+34600111222' and info.name == 'Shop 🛍️' and info.account_id == DEVICE


@pytest.mark.parametrize('status, session, word', [
    ('operative', 'offline', 'offline'), ('operative', 'timeout', 'timeout'),
    ('pending', 'online', 'pending'), ('banned', 'offline', 'banned'),
])
def test_check_connection_not_ready(server, sleeps, status, session, word):
    server.route('GET', '/devices/%s' % DEVICE, {'id': DEVICE, 'status': status, 'session': {'status': session}})
    info = client_for(server, sleeps).check_connection()
    assert info.connected is False and word in info.detail


def test_check_connection_unknown_device_lists_the_devices_of_the_key(server, sleeps):
    server.route('GET', '/devices/.*', Reply(404, {'status': 404, 'message': 'Device not found'}))
    server.route('GET', '/devices', [{'id': 'aaaabbbbccccddddeeeeffff', 'phone': '+34600111222',
                                      'alias': 'Shop', 'status': 'operative'}])
    with pytest.raises(ConfigurationError) as info:
        client_for(server, sleeps).check_connection()
    assert info.value.reason == 'device_unknown'
    assert 'Device not found' in str(info.value) and 'is not a device of this API key' in str(info.value)
    assert 'aaaabbbbccccddddeeeeffff (+34600111222, Shop, operative)' in str(info.value)


def test_check_connection_unknown_device_when_the_listing_fails_too(server, sleeps):
    server.route('GET', '/devices/.*', Reply(404, {'status': 404, 'message': 'Device not found'}))
    server.route('GET', '/devices', Reply(500, {'message': 'oops'}))
    with pytest.raises(NotFoundError) as info:
        client_for(server, sleeps).check_connection()
    assert info.value.reason == 'device_unknown' and 'Device not found' in str(info.value)


# -- contacts + pagination -----------------------------------------------------------------

def test_contacts_many_pages(server, sleeps):
    contacts = [{'wid': '%d@c.us' % (34600000000 + n), 'phone': '+%d' % (34600000000 + n),
                 'name': 'N%d' % n, 'displayName': 'D%d' % n, 'type': 'user'} for n in range(1234)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages(contacts))
    pages = list(client_for(server, sleeps, page_size=100).iter_contacts())
    items, skipped = flat(pages)
    assert len(items) == 1234 and not skipped
    # a short page is not the end (a server may cut the size silently): an empty one is
    assert len(server.requests) == 14
    assert [int(r.query['page']) for r in server.requests] == list(range(14))
    assert items[5].contact_id == '34600000005' and items[5].phone == '+34600000005'
    assert items[5].name == 'N5' and items[5].pushname == 'D5'


def test_contacts_exact_multiple_needs_one_empty_page(server, sleeps):
    contacts = [{'wid': '%d@c.us' % (34600000000 + n)} for n in range(200)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages(contacts))
    items, _ = flat(client_for(server, sleeps, page_size=100).iter_contacts())
    assert len(items) == 200 and len(server.requests) == 3


def test_endpoint_ignoring_page_does_not_loop(server, sleeps):
    same = [{'wid': '%d@c.us' % (34600000000 + n)} for n in range(10)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, same)
    items, _ = flat(client_for(server, sleeps, page_size=10).iter_contacts())
    assert len(items) == 10 and len(server.requests) == 2


def test_contacts_filters_lid_unicode_and_bad_items(server, sleeps):
    server.route('GET', '/chat/%s/contacts' % DEVICE, [
        {'wid': '966501234567@c.us', 'name': 'محمد', 'displayName': 'מרים 🌙', 'meta': {'isBusiness': True}},
        {'wid': '123456789012345@lid', 'lid': '123456789012345@lid', 'displayName': 'Hidden'},
        {'wid': '120363000000000001@g.us', 'type': 'group', 'groupId': '120363000000000001@g.us'},
        {'wid': '120363000000000009@newsletter', 'type': 'channel'},
        {'wid': '34600111222@c.us', 'phone': '34600111222'},
        {'wid': '1234@c.us'},
        {'name': 'no wid'},
        ['not', 'a', 'dict'],
    ])
    items, skipped = flat(client_for(server, sleeps).iter_contacts())
    by_id = dict((c.contact_id, c) for c in items)
    assert set(by_id) == {'966501234567', '123456789012345@lid', '34600111222'}
    assert by_id['966501234567'].is_business and by_id['966501234567'].pushname == 'מרים 🌙'
    assert by_id['966501234567'].phone == '+966501234567'
    assert by_id['123456789012345@lid'].phone is None
    assert by_id['34600111222'].phone == '+34600111222'
    assert len(skipped) == 3 and all(s.kind == 'contact' for s in skipped)


def test_contacts_wrong_envelope(server, sleeps):
    server.route('GET', '/chat/%s/contacts' % DEVICE, {'data': []})
    with pytest.raises(BadPayloadError):
        list(client_for(server, sleeps).iter_contacts())


def test_contacts_401(server, sleeps):
    server.route('GET', '/chat/%s/contacts' % DEVICE, Reply(401, {'status': 401, 'message': 'Invalid API key'}))
    with pytest.raises(AuthenticationError):
        list(client_for(server, sleeps).iter_contacts())


# -- chats and groups --------------------------------------------------------------------

def test_chats(server, sleeps):
    server.route('GET', '/chat/%s/chats' % DEVICE, [
        {'wid': '34600111222@c.us', 'kind': 'chat', 'name': 'Ana', 'lastMessageAt': '2024-01-01T10:00:00.000Z'},
        {'id': '120363000000000001@g.us', 'type': 'group', 'name': 'G'},
        {'wid': '120363000000000009@newsletter', 'kind': 'channel'},
        {'wid': '98765432101234@lid', 'contact': {'displayName': 'Lid person'}},
        {'kind': 'chat'},
    ])
    items, skipped = flat(client_for(server, sleeps).iter_chats())
    assert [(c.chat_id, c.chat_type, c.name) for c in items] == [
        ('34600111222', 'contact', 'Ana'), ('120363000000000001@g.us', 'group', 'G'),
        ('120363000000000009@newsletter', 'newsletter', None), ('98765432101234@lid', 'contact', 'Lid person')]
    assert items[0].last_message_at == datetime(2024, 1, 1, 10, tzinfo=timezone.utc)
    assert len(skipped) == 1


GROUPS = [
    {'wid': '120363000000000001@g.us', 'kind': 'group', 'name': 'Team ⚽', 'description': 'd',
     'inviteCode': 'XyZ', 'createdAt': '2023-05-01T00:00:00Z'},
    {'wid': '120363000000000002@g.us', 'name': 'No kind'},
    {'wid': '120363000000000009@newsletter', 'kind': 'channel'},
    {'wid': '120363000000000010@g.us', 'kind': 'community'},
    {'wid': '34600111222@c.us'},
    {'kind': 'group'},
]


def test_groups_filter_kinds(server, sleeps):
    server.route('GET', '/devices/%s/groups' % DEVICE, GROUPS)
    items, skipped = flat(client_for(server, sleeps).iter_groups())
    assert [g.group_id for g in items] == ['120363000000000001@g.us', '120363000000000002@g.us']
    assert items[0].name == 'Team ⚽' and items[0].invite_code == 'XyZ'
    assert items[0].created_at == datetime(2023, 5, 1, tzinfo=timezone.utc)
    assert all(g.members is None for g in items)
    assert len(skipped) == 1 and skipped[0].kind == 'group'
    assert server.requests[0].query['page'] == '0'


PARTICIPANTS = [
    {'wid': '34600111222@c.us', 'isSuperAdmin': True, 'isAdmin': True, 'name': 'Owner'},
    {'wid': '34600111223@c.us', 'isAdmin': True, 'phone': '+34600111223'},
    {'wid': '123456789012345@lid', 'lid': '123456789012345@lid'},
    {'wid': '34600111224@c.us'},
    {'isAdmin': True},
]


def test_get_group_after_listing_uses_cached_name(server, sleeps):
    gid = '120363000000000001@g.us'
    server.route('GET', '/devices/%s/groups' % DEVICE, GROUPS)
    server.route('GET', '/chat/%s/chats/%s/participants' % (DEVICE, gid), PARTICIPANTS)
    client = client_for(server, sleeps)
    list(client.iter_groups())
    group = client.get_group(gid)
    assert group.name == 'Team ⚽'
    assert [(m.contact_id, m.role) for m in group.members] == [
        ('34600111222', 'superadmin'), ('34600111223', 'admin'),
        ('123456789012345@lid', 'member'), ('34600111224', 'member')]
    assert group.members[1].phone == '+34600111223' and group.members[0].name == 'Owner'
    assert len(group.skipped) == 1 and group.skipped[0].kind == 'member'
    assert len(server.calls('GET', '/devices/.*/groups/.*')) == 0


def test_get_group_fetches_group_when_not_cached(server, sleeps):
    gid = '120363000000000001@g.us'
    server.route('GET', '/chat/%s/chats/%s/participants' % (DEVICE, gid), PARTICIPANTS)
    server.route('GET', '/devices/%s/groups/%s' % (DEVICE, gid), {'wid': gid, 'name': 'Fetched'})
    group = client_for(server, sleeps).get_group(gid)
    assert group.name == 'Fetched' and len(group.members) == 4


def test_get_group_falls_back_to_listing(server, sleeps):
    gid = '120363000000000001@g.us'
    server.route('GET', '/chat/%s/chats/%s/participants' % (DEVICE, gid), PARTICIPANTS)
    server.route('GET', '/devices/%s/groups/%s' % (DEVICE, gid), Reply(404, {'message': 'Not found'}))
    server.route('GET', '/devices/%s/groups' % DEVICE, GROUPS)
    group = client_for(server, sleeps).get_group(gid)
    assert group.name == 'Team ⚽'


def test_get_group_unknown(server, sleeps):
    server.route('GET', '/chat/.*/participants', Reply(404, {'status': 404, 'message': 'Chat not found'}))
    with pytest.raises(NotFoundError):
        client_for(server, sleeps).get_group('120363000000000077@g.us')


def test_get_group_participants_wrong_envelope(server, sleeps):
    server.route('GET', '/chat/.*/participants', {'participants': 'x'})
    with pytest.raises(BadPayloadError):
        client_for(server, sleeps).get_group('120363000000000077@g.us')


# -- get_contact ----------------------------------------------------------------------------

@pytest.mark.parametrize('asked', ['34600111222', '+34600111222', '34600111222@c.us',
                                   '34600111222@s.whatsapp.net'])
def test_get_contact(server, sleeps, asked):
    server.route('GET', '/chat/%s/contacts/34600111222@c.us' % DEVICE, {
        'wid': '34600111222@c.us', 'phone': '+34600111222', 'countryCode': 'ES', 'type': 'user',
        'name': 'Ana García', 'displayName': 'Ana 🌸', 'meta': {'isBusiness': True}})
    contact = client_for(server, sleeps).get_contact(asked)
    assert contact.contact_id == '34600111222' and contact.phone == '+34600111222'
    assert contact.phone_valid and contact.is_business
    assert contact.name == 'Ana García' and contact.pushname == 'Ana 🌸'
    assert [(r.method, r.path) for r in server.requests] == [
        ('GET', '/chat/%s/contacts/34600111222@c.us' % DEVICE)]
    assert server.requests[0].headers['Token'] == TOKEN


def test_get_contact_404(server, sleeps):
    server.route('GET', '/chat/.*/contacts/.*', Reply(404, {'status': 404, 'message': 'Contact not found'}))
    with pytest.raises(NotFoundError):
        client_for(server, sleeps).get_contact('34600000000')
    assert len(server.requests) == 1


def test_get_contact_lid_sent_as_is(server, sleeps):
    server.route('GET', '/chat/%s/contacts/123456789012345@lid' % DEVICE, {
        'wid': '123456789012345@lid', 'lid': '123456789012345@lid', 'displayName': 'Hidden'})
    contact = client_for(server, sleeps).get_contact('123456789012345@lid')
    assert contact.contact_id == '123456789012345@lid' and contact.pushname == 'Hidden'
    assert contact.phone is None and contact.phone_valid is False
    assert server.requests[0].path == '/chat/%s/contacts/123456789012345@lid' % DEVICE


@pytest.mark.parametrize('reply', [
    Reply(200, raw=b'<html>oops</html>'),
    Reply(200, raw=b''),
    Reply(200, [{'wid': '34600111222@c.us'}]),     # a list, not an ioContact
    Reply(200, {'name': 'no wid'}),
    Reply(200, {'wid': 'garbage!!'}),
    Reply(200, {'wid': '120363000000000001@g.us', 'type': 'group'}),  # not a person
])
def test_get_contact_malformed_reply(server, sleeps, reply):
    server.route('GET', '/chat/%s/contacts/34600111222@c.us' % DEVICE, reply)
    with pytest.raises(BadPayloadError):
        client_for(server, sleeps).get_contact('34600111222')


@pytest.mark.parametrize('asked', ['120363000000000001@g.us', '0612345678', 'abc', '', None])
def test_get_contact_rejects_non_person_id(server, sleeps, asked):
    with pytest.raises(RequestRejectedError):
        client_for(server, sleeps).get_contact(asked)
    assert server.requests == []


def test_get_contact_needs_device(server, sleeps):
    assert WassengerClient(TOKEN).supports('get_contact')
    with pytest.raises(ConfigurationError):
        client_for(server, sleeps, device_id=None).get_contact('34600111222')
    assert server.requests == []


# -- messages -----------------------------------------------------------------------------

def test_message_parsing(server, sleeps):
    group = '120363000000000001@g.us'
    items = [
        wmsg('t1', BASE),
        wmsg('lp1', BASE + timedelta(seconds=1), meta={'isLinkPreview': True},
             linkPreview={'title': 'x', 'matchedUrl': 'https://x.io'}, body='https://x.io'),
        wmsg('v1', BASE + timedelta(seconds=2), 'audio', ack='played', body=None,
             media={'id': 'm1', 'mime': 'audio/ogg', 'format': 'ptt', 'size': 99,
                    'links': {'download': '/v1/chat/dev/files/m1/download'}}),
        wmsg('a1', BASE + timedelta(seconds=3), 'audio', media={'mime': 'audio/mpeg', 'format': 'native'}),
        wmsg('i1', BASE + timedelta(seconds=4), 'image', body=None,
             media={'id': 'm2', 'mime': 'image/jpeg', 'filename': 'p.jpg', 'caption': 'cap 📷'}),
        wmsg('g1', BASE + timedelta(seconds=5), 'text', chat=group, author='34600111225@c.us',
             **{'from': group}),
        dict(wmsg('o1', BASE + timedelta(seconds=6), flow='outbound', ack='read', chat='34600111226@c.us'),
             chat=None),
        wmsg('s1', BASE + timedelta(seconds=7), 'system', chat=group, body='Ana joined', ack=None),
        wmsg('e1', BASE + timedelta(seconds=8), ack='error'),
        wmsg('x1', BASE + timedelta(seconds=9), 'event'),
        wmsg('z1', BASE + timedelta(seconds=10), 'weird_new_type'),
        wmsg('r1', BASE + timedelta(seconds=11), meta={'isRevoked': True}),
        wmsg('f1', BASE + timedelta(seconds=12), flow='out', fromMe=True),
        wmsg('ts1', BASE, date=None, timestamp=1704067213),
        {'wid': 'w1', 'type': 'text', 'flow': 'in', 'chatWid': '123456789012345@lid', 'timestamp': 1704067214,
         'from': '123456789012345@lid', 'body': 'lid hi'},
    ]
    server.route('GET', '/chat/%s/messages' % DEVICE, items)
    got, skipped = flat(client_for(server, sleeps).iter_messages())
    assert not skipped
    by_id = dict((m.message_id, m) for m in got)
    t1 = by_id['t1']
    assert (t1.chat_id, t1.chat_type, t1.sender_id, t1.sender_name, t1.body, t1.status, t1.from_me) == (
        '34600111222', 'contact', '34600111222', 'Ana', 'hello t1', 'delivered', False)
    assert t1.timestamp == BASE
    assert by_id['lp1'].message_type == 'link_preview'
    voice = by_id['v1']
    assert voice.message_type == 'voice' and voice.status == 'played' and voice.raw_type == 'audio'
    assert voice.media.mime_type == 'audio/ogg' and voice.media.file_size == 99
    assert voice.media.url == '/v1/chat/dev/files/m1/download'
    assert by_id['a1'].message_type == 'audio'
    assert by_id['i1'].body == 'cap 📷' and by_id['i1'].media.file_name == 'p.jpg'
    g1 = by_id['g1']
    assert g1.chat_id == group and g1.chat_type == 'group' and g1.sender_id == '34600111225'
    o1 = by_id['o1']
    assert o1.from_me and o1.chat_id == '34600111226' and o1.status == 'read'
    assert by_id['s1'].message_type == 'system' and by_id['s1'].body == 'Ana joined'
    assert by_id['e1'].status == 'failed'
    assert by_id['x1'].message_type == 'event'
    assert by_id['z1'].message_type == 'unknown' and by_id['z1'].raw_type == 'weird_new_type'
    assert by_id['r1'].status == 'deleted'
    assert by_id['f1'].from_me is True
    assert by_id['ts1'].timestamp == datetime(2024, 1, 1, 0, 0, 13, tzinfo=timezone.utc)
    assert by_id['w1'].chat_id == '123456789012345@lid' and by_id['w1'].sender_id == '123456789012345@lid'


def test_message_bad_items_skipped(server, sleeps):
    items = [wmsg('ok', BASE),
             {'id': 'nodate', 'type': 'text', 'flow': 'inbound', 'chat': '34600111222@c.us'},
             {'id': 'noflow', 'type': 'text', 'date': iso(BASE), 'chat': '34600111222@c.us'},
             {'id': 'nochat', 'type': 'text', 'flow': 'outbound', 'date': iso(BASE)},
             {'type': 'text', 'flow': 'inbound', 'date': iso(BASE), 'chat': '34600111222@c.us'},
             'string item']
    server.route('GET', '/chat/%s/messages' % DEVICE, items)
    got, skipped = flat(client_for(server, sleeps).iter_messages())
    assert [m.message_id for m in got] == ['ok']
    assert [s.external_id for s in skipped] == ['nodate', 'noflow', 'nochat', None, None]


def test_iter_messages_since_sends_after_minus_one_second_and_pages(server, sleeps):
    items = [wmsg('m%03d' % n, BASE + timedelta(minutes=n)) for n in range(300)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items))
    since = BASE + timedelta(minutes=100)
    got, _ = flat(client_for(server, sleeps, page_size=50).iter_messages(since=since))
    assert len(got) == 200
    assert min(m.timestamp for m in got) == since
    assert server.requests[0].query['after'] == '2024-01-01T01:39:59.000Z'
    assert len(server.requests) == 5  # 4 full pages + 1 empty


def test_iter_messages_since_stops_when_server_ignores_after(server, sleeps):
    items = [wmsg('m%03d' % n, BASE + timedelta(minutes=n)) for n in range(300)]
    ordered = sorted(items, key=lambda m: m['date'], reverse=True)
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_pages(ordered))
    since = BASE + timedelta(minutes=280)
    got, _ = flat(client_for(server, sleeps, page_size=50).iter_messages(since=since))
    assert len(got) == 20 and len(server.requests) == 2


def test_iter_messages_limit(server, sleeps):
    items = [wmsg('m%03d' % n, BASE + timedelta(minutes=n)) for n in range(300)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items))
    got, _ = flat(client_for(server, sleeps, page_size=100).iter_messages(limit=150))
    assert len(got) == 150 and got[0].message_id == 'm299'
    # at most 50 a page (Wassenger's published maximum), no page past the limit
    assert len(server.requests) == 3 and 'after' not in server.requests[0].query
    assert {r.query['size'] for r in server.requests} == {'50'}


def test_iter_messages_all_history(server, sleeps):
    items = [wmsg('m%03d' % n, BASE + timedelta(minutes=n)) for n in range(321)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items))
    got, _ = flat(client_for(server, sleeps, page_size=100).iter_messages())
    assert len(got) == 321 and len(server.requests) == 8  # 7 pages of 50 or less, then an empty one


def test_iter_messages_dedupes_shifted_pages(server, sleeps):
    server.route_sequence('GET', '/chat/%s/messages' % DEVICE, [
        [wmsg('c', BASE + timedelta(seconds=3)), wmsg('b', BASE + timedelta(seconds=2))],
        [wmsg('b', BASE + timedelta(seconds=2)), wmsg('a', BASE + timedelta(seconds=1))],
        [wmsg('z', BASE)],
    ])
    got, _ = flat(client_for(server, sleeps, page_size=2).iter_messages())
    assert [m.message_id for m in got] == ['c', 'b', 'a', 'z']


def test_iter_messages_500_then_success(server, sleeps):
    server.route_sequence('GET', '/chat/%s/messages' % DEVICE, [Reply(500), [wmsg('a', BASE)]])
    got, _ = flat(client_for(server, sleeps).iter_messages())
    assert [m.message_id for m in got] == ['a'] and len(sleeps) == 1


# -- sending ------------------------------------------------------------------------------

QUEUED = {'id': '65a1b2c3d4e5f6a7b8c9d0e1', 'waId': '3EB03EBAF8863B70BA00AF', 'status': 'queued',
          'deliveryStatus': 'queued', 'createdAt': '2024-01-01T00:00:00.000Z'}


@pytest.mark.parametrize('to, target', [
    ('34600111222', {'phone': '+34600111222'}),
    ('+34600111222', {'phone': '+34600111222'}),
    ('34600111222@c.us', {'phone': '+34600111222'}),
    ('34600111222@s.whatsapp.net', {'phone': '+34600111222'}),
    ('120363000000000001@g.us', {'group': '120363000000000001@g.us'}),
    ('123456789012345@lid', {'chat': '123456789012345@lid'}),
])
def test_send_text_targets(server, sleeps, to, target):
    server.route('POST', '/messages', Reply(201, QUEUED))
    result = client_for(server, sleeps).send_text(to, 'Hola 👋 שלום')
    sent = dict(server.requests[0].json)
    reference = sent.pop('reference')
    assert sent == dict(target, message='Hola 👋 שלום', device=DEVICE)
    # our own reference rides along, and is what the send answers with
    assert re.match(r'^odoo-[0-9a-f]{32}$', reference) and result.reference == reference
    assert result.message_id == '65a1b2c3d4e5f6a7b8c9d0e1'
    assert result.whatsapp_message_id == '3EB03EBAF8863B70BA00AF'
    assert result.status == 'pending' and result.timestamp == BASE


def test_send_text_accepts_200_without_waid(server, sleeps):
    server.route('POST', '/messages', Reply(200, {'id': '65a1b2c3d4e5f6a7b8c9d0e1', 'status': 'processed'}))
    result = client_for(server, sleeps).send_text('34600111222', 'x')
    assert result.whatsapp_message_id is None and result.status == 'sent'


def test_send_provider_errors(server, sleeps):
    server.route_sequence('POST', '/messages', [
        Reply(400, {'status': 400, 'message': 'Invalid phone number', 'errorCode': 'error:invalid_phone'}),
        Reply(201, {'status': 'queued'}),
        Reply(503, {'status': 503, 'message': 'Temporarily unavailable'})])
    client = client_for(server, sleeps)
    with pytest.raises(RequestRejectedError) as info:
        client.send_text('34600111222', 'x')
    assert 'Invalid phone number [error:invalid_phone]' in str(info.value)
    with pytest.raises(BadPayloadError):
        client.send_text('34600111222', 'x')
    with pytest.raises(TransientError):
        client.send_text('34600111222', 'x')
    assert len(server.calls('POST', '/messages')) == 3  # no send retried


def test_send_media_url_with_caption(server, sleeps):
    server.route('POST', '/messages', Reply(201, QUEUED))
    client_for(server, sleeps).send_media('120363000000000001@g.us', url='https://x.io/a.jpg', caption='cap ✨')
    sent = server.requests[0].json
    assert sent.pop('reference').startswith('odoo-')
    assert sent == {'group': '120363000000000001@g.us', 'device': DEVICE,
                    'media': {'url': 'https://x.io/a.jpg'}, 'message': 'cap ✨'}


def test_send_media_bytes_uploads_first(server, sleeps):
    server.route('POST', '/files', Reply(201, [{'id': 'f' * 24, 'filename': 'note.ogg'}]))
    server.route('POST', '/messages', Reply(201, QUEUED))
    result = client_for(server, sleeps).send_media('34600111222', file_bytes=b'OggS\x00data',
                                                   file_name='note.ogg', media_type='voice')
    upload = server.calls('POST', '/files')[0]
    assert upload.headers['Content-Type'].startswith('multipart/form-data')
    assert b'name="file"; filename="note.ogg"' in upload.body and b'OggS\x00data' in upload.body
    sent = server.calls('POST', '/messages')[0].json
    assert sent.pop('reference').startswith('odoo-')
    assert sent == {'phone': '+34600111222', 'device': DEVICE,
                    'media': {'file': 'f' * 24, 'filename': 'note.ogg', 'format': 'ptt'}}
    assert result.message_id == QUEUED['id']


def test_upload_reply_object_and_missing_id(server, sleeps):
    server.route_sequence('POST', '/files', [Reply(201, {'id': 'e' * 24}), Reply(201, [])])
    server.route('POST', '/messages', Reply(201, QUEUED))
    client = client_for(server, sleeps)
    client.send_media('34600111222', file_bytes=b'x', file_name='a.pdf')
    assert server.calls('POST', '/messages')[0].json['media']['file'] == 'e' * 24
    with pytest.raises(BadPayloadError):
        client.send_media('34600111222', file_bytes=b'x', file_name='a.pdf')


def test_upload_rejected(server, sleeps):
    server.route('POST', '/files', Reply(413, {'status': 413, 'message': 'File too large'}))
    with pytest.raises(RequestRejectedError) as info:
        client_for(server, sleeps).send_media('34600111222', file_bytes=b'x' * 10, file_name='big.mp4')
    assert 'File too large' in str(info.value)
    assert not server.calls('POST', '/messages')


# -- status -------------------------------------------------------------------------------

@pytest.mark.parametrize('reply, expected', [
    ({'deliveryStatus': 'queued'}, 'pending'), ({'deliveryStatus': 'sent'}, 'sent'),
    ({'deliveryStatus': 'delivered'}, 'delivered'), ({'deliveryStatus': 'readed'}, 'read'),
    ({'deliveryStatus': 'played'}, 'played'), ({'deliveryStatus': 'failed'}, 'failed'),
    ({'deliveryStatus': 'revoked'}, 'deleted'), ({'status': 'expired'}, 'failed'),
    ({'status': 'processed'}, 'sent'), ({}, None),
])
def test_get_message_status(server, sleeps, reply, expected):
    server.route('GET', '/messages/.*', dict(reply, id=QUEUED['id']))
    update = client_for(server, sleeps).get_message_status(QUEUED['id'])
    assert (update.message_id, update.status) == (QUEUED['id'], expected)
    assert server.requests[0].path == '/messages/' + QUEUED['id']


def test_get_message_status_names_the_whatsapp_id_and_the_failure():
    """S2 ``message``: ``waId`` once delivered; ``failureReason`` of a failed send; a
    failed queue ``status`` wins over a ``deliveryStatus`` left at ``queued``."""
    from providers.wassenger import queued_status_update
    sent = queued_status_update(dict(QUEUED, status='processed', deliveryStatus='delivered'))
    assert (sent.message_id, sent.status, sent.alt_message_id, sent.error) == (
        QUEUED['id'], 'delivered', QUEUED['waId'], None)
    failed = queued_status_update({'id': QUEUED['id'], 'status': 'failed', 'deliveryStatus': 'queued',
                                   'failureReason': 'Phone number does not exist on WhatsApp'})
    assert (failed.status, failed.error) == ('failed', 'Phone number does not exist on WhatsApp')
    silent = queued_status_update({'id': QUEUED['id'], 'status': 'invalid', 'deliveryStatus': 'failed'})
    assert silent.status == 'failed' and 'invalid' in silent.error


def test_get_message_status_404(server, sleeps):
    server.route('GET', '/messages/.*', Reply(404, {'status': 404, 'message': 'Message not found'}))
    with pytest.raises(NotFoundError):
        client_for(server, sleeps).get_message_status('nope')


# -- register_webhook ---------------------------------------------------------------------

ISSUED_SECRET = 'wass-issued-SECRET-555'


def test_register_webhook_creates(server, sleeps):
    server.route('GET', '/webhooks', wassenger_pages([{'id': 'w0', 'url': 'https://other.example/h',
                                                      'device': DEVICE}]))
    server.route('POST', '/webhooks', Reply(201, {'id': 'wh1', 'url': 'https://odoo.example/h', 'name': 'Odoo',
                                                   'status': 'active', 'secret': ISSUED_SECRET}))
    result = client_for(server, sleeps).register_webhook('https://odoo.example/h', 'ignored')
    assert (result.webhook_id, result.secret, result.url) == ('wh1', ISSUED_SECRET, 'https://odoo.example/h')
    [post] = server.calls('POST', '/webhooks')
    assert post.json == {'name': 'Odoo', 'url': 'https://odoo.example/h', 'device': DEVICE,
                         'events': ['message:in:new', 'message:out:new', 'message:out:ack',
                                    'message:out:failed', 'message:update', 'message:reaction',
                                    'group:update', 'contact:update', 'number:session']}
    assert server.calls('GET', '/webhooks')[0].query['page'] == '0'


def test_register_webhook_patches_existing_same_url(server, sleeps):
    hooks = [{'id': 'w%d' % n, 'url': 'https://x.example/%d' % n, 'device': DEVICE} for n in range(100)]
    hooks.append({'id': 'other-device', 'url': 'https://odoo.example/h', 'device': {'id': 'f' * 24}})
    hooks.append({'id': 'mine', 'url': 'https://odoo.example/h/', 'device': {'id': DEVICE}})
    server.route('GET', '/webhooks', wassenger_pages(hooks))
    server.route('PATCH', '/webhooks/mine', {'id': 'mine', 'url': 'https://odoo.example/h'})
    result = client_for(server, sleeps).register_webhook('https://odoo.example/h', None)
    assert result.webhook_id == 'mine' and result.secret is None
    assert server.calls('POST', '/webhooks') == []
    assert server.calls('PATCH', '/webhooks/mine')[0].json['url'] == 'https://odoo.example/h'
    assert [r.query['page'] for r in server.calls('GET', '/webhooks')] == ['0', '1']


def test_register_webhook_needs_device_and_url(server, sleeps):
    with pytest.raises(ConfigurationError):
        client_for(server, sleeps, device_id=None).register_webhook('https://odoo.example/h', 's')
    with pytest.raises(ConfigurationError):
        client_for(server, sleeps).register_webhook(' ', 's')
    assert server.requests == []
