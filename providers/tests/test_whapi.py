"""WHAPI client: every operation against the local fake server."""
import base64
from datetime import datetime, timezone

import pytest

from conftest import TOKEN, Reply, whapi_list
from providers import (
    AccountInfo, AuthenticationError, BadPayloadError, ConfigurationError, Contact, Group,
    Message, NotFoundError, RequestRejectedError, Skipped, TransientError, WassengerClient,
    WhapiClient,
)


def client_for(server, sleeps, **settings):
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append, **settings)


def flat(pages):
    items, skipped = [], []
    for page in pages:
        items.extend(page.items)
        skipped.extend(page.skipped)
    return items, skipped


def msg(message_id, ts, type_='text', chat='34600111222@s.whatsapp.net', **extra):
    item = {'id': message_id, 'type': type_, 'chat_id': chat, 'from_me': False,
            'timestamp': ts, 'from': '34600111222', 'from_name': 'Ana', 'status': 'delivered'}
    if type_ == 'text':
        item['text'] = {'body': 'hello %s' % message_id}
    item.update(extra)
    return item


# -- construction -----------------------------------------------------------------------

def test_missing_token_is_configuration_error():
    for token in (None, '', '   '):
        with pytest.raises(ConfigurationError):
            WhapiClient(token)


def test_defaults_and_repr():
    client = WhapiClient(TOKEN)
    assert client.base_url == 'https://gate.whapi.cloud'
    assert client.page_size == 100
    assert TOKEN not in repr(client) and 'WhapiClient' in repr(client)
    assert WhapiClient(TOKEN, page_size=5000).page_size == 500


def test_bearer_header_sent(server, sleeps):
    server.route('GET', '/health', {'status': {'code': 4, 'text': 'AUTH'}})
    client_for(server, sleeps).check_connection()
    assert server.requests[0].headers['Authorization'] == 'Bearer ' + TOKEN


# -- check_connection ---------------------------------------------------------------------

def test_check_connection_auth(server, sleeps):
    server.route('GET', '/health', {'status': {'code': 4, 'text': 'AUTH'}, 'start_at': 1, 'uptime': 5,
                                    'device_id': 'dev-1',
                                    'user': {'id': '34600111222', 'name': 'Shop', 'pushname': 'Shop'}})
    info = client_for(server, sleeps).check_connection()
    assert isinstance(info, AccountInfo)
    assert info.connected and info.status == 'AUTH'
    assert info.phone == '+34600111222' and info.name == 'Shop' and info.account_id == 'dev-1'


@pytest.mark.parametrize('state, word', [('QR', 'QR code'), ('INIT', 'starting'), ('LAUNCH', 'starting'),
                                         ('ERROR', 'error'), ('NOT_INIT', 'not started'), ('WEIRD', 'Unexpected')])
def test_check_connection_other_states(server, sleeps, state, word):
    server.route('GET', '/health', {'status': {'code': 9, 'text': state}})
    info = client_for(server, sleeps).check_connection()
    assert info.connected is False and info.status == state and word in info.detail


def test_check_connection_code_only(server, sleeps):
    server.route('GET', '/health', {'status': {'code': 4}})
    assert client_for(server, sleeps).check_connection().connected


def test_check_connection_without_status_is_bad_payload(server, sleeps):
    server.route('GET', '/health', {'uptime': 5})
    with pytest.raises(BadPayloadError):
        client_for(server, sleeps).check_connection()


# -- contacts + pagination -----------------------------------------------------------------

def test_contacts_many_pages(server, sleeps):
    contacts = [{'id': str(34600000000 + n), 'name': 'C%d' % n, 'pushname': 'P%d' % n} for n in range(1234)]
    server.route('GET', '/contacts', whapi_list('contacts', contacts))
    pages = list(client_for(server, sleeps, page_size=100).iter_contacts())
    items, skipped = flat(pages)
    assert len(items) == 1234 and not skipped
    assert len(pages) == 13 and len(server.requests) == 13
    assert [int(r.query['offset']) for r in server.requests] == list(range(0, 1234, 100))
    assert all(r.query['count'] == '100' for r in server.requests)
    assert len(set(c.contact_id for c in items)) == 1234
    assert items[0] == Contact(contact_id='34600000000', phone='+34600000000', phone_valid=True,
                               name='C0', pushname='P0', is_business=False)


def test_page_size_never_above_500(server, sleeps):
    server.route('GET', '/contacts', whapi_list('contacts', [{'id': '34600111222'}] * 3))
    list(client_for(server, sleeps, page_size=10000).iter_contacts())
    assert server.requests[0].query['count'] == '500'


def test_short_pages_follow_len_items_not_count(server, sleeps):
    """The server caps pages below what we asked; offsets follow len(items)."""
    contacts = [{'id': str(34600000000 + n)} for n in range(25)]

    def capped(request):
        offset = int(request.query['offset'])
        chunk = contacts[offset:offset + 10]
        return {'contacts': chunk, 'count': int(request.query['count']), 'total': 25, 'offset': offset}
    server.route('GET', '/contacts', capped)
    items, _ = flat(client_for(server, sleeps, page_size=100).iter_contacts())
    assert len(items) == 25
    assert [r.query['offset'] for r in server.requests] == ['0', '10', '20']


def test_empty_page_stops_even_if_total_lies(server, sleeps):
    server.route_sequence('GET', '/contacts', [{'contacts': [{'id': '34600111222'}], 'total': 99},
                                      {'contacts': [], 'total': 99}])
    items, _ = flat(client_for(server, sleeps).iter_contacts())
    assert len(items) == 1 and len(server.requests) == 2


def test_contacts_unicode_lid_and_bad_items(server, sleeps):
    server.route('GET', '/contacts', whapi_list('contacts', [
        {'id': '966501234567', 'name': 'محمد العربي', 'pushname': '🌙 مريم'},
        {'id': '4915123456789@s.whatsapp.net', 'name': 'Jürgen 👨‍👩‍👧', 'is_business': True},
        {'id': '123456789012345@lid', 'pushname': 'שלום'},
        {'id': '12345678'},                      # bare digits, not a valid number: kept, flagged
        {'name': 'no id'},                       # bad: skipped
        'not an object',                         # bad: skipped
        {'id': 'garbage!!'},                     # bad: skipped
        {'id': '120363000000000001@g.us'},       # a group among contacts: not a person, ignored
    ]))
    items, skipped = flat(client_for(server, sleeps).iter_contacts())
    by_id = dict((c.contact_id, c) for c in items)
    assert by_id['966501234567'].name == 'محمد العربي' and by_id['966501234567'].pushname == '🌙 مريم'
    assert by_id['4915123456789'].phone == '+4915123456789' and by_id['4915123456789'].is_business
    lid = by_id['123456789012345@lid']
    assert lid.phone is None and lid.phone_valid is False and lid.pushname == 'שלום'
    assert by_id['12345678'].phone == '+12345678' and by_id['12345678'].phone_valid is False  # an id is international
    assert len(items) == 4
    assert [s.kind for s in skipped] == ['contact'] * 3
    assert skipped[2].external_id == 'garbage!!'
    assert all(isinstance(s, Skipped) and s.reason for s in skipped)


@pytest.mark.parametrize('body', [
    {'contacts': 'nope', 'total': 1}, {'items': [], 'total': 0}, {'contacts': [], 'total': 'x'},
])
def test_wrong_envelope_is_bad_payload(server, sleeps, body):
    server.route('GET', '/contacts', body)
    with pytest.raises(BadPayloadError):
        list(client_for(server, sleeps).iter_contacts())


def test_list_401_propagates(server, sleeps):
    server.route('GET', '/contacts', Reply(401, {'error': {'code': 401, 'message': 'Unauthorized'}}))
    with pytest.raises(AuthenticationError):
        list(client_for(server, sleeps).iter_contacts())


def test_failure_mid_listing_keeps_earlier_pages(server, sleeps):
    server.route_sequence('GET', '/contacts', [{'contacts': [{'id': '34600111222'}], 'total': 3},
                                      Reply(500), Reply(500), Reply(500), Reply(500)])
    client = client_for(server, sleeps, page_size=1)
    pages = client.iter_contacts()
    first = next(pages)
    assert len(first.items) == 1
    with pytest.raises(TransientError):
        next(pages)


# -- chats --------------------------------------------------------------------------------

def test_chats(server, sleeps):
    server.route('GET', '/chats', whapi_list('chats', [
        {'id': '34600111222@s.whatsapp.net', 'type': 'contact', 'name': 'Ana', 'timestamp': 1700000000},
        {'id': '120363025246125486@g.us', 'type': 'group', 'name': 'Team ⚽'},
        {'id': '120363000000000009@newsletter', 'type': 'newsletter'},
        {'id': 'status@broadcast', 'type': 'broadcast'},
        {'id': '98765432101234@lid'},
        {'type': 'contact'},
    ]))
    items, skipped = flat(client_for(server, sleeps).iter_chats())
    assert [(c.chat_id, c.chat_type) for c in items] == [
        ('34600111222', 'contact'), ('120363025246125486@g.us', 'group'),
        ('120363000000000009@newsletter', 'newsletter'), ('status@broadcast', 'broadcast'),
        ('98765432101234@lid', 'contact')]
    assert items[0].last_message_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert len(skipped) == 1 and skipped[0].kind == 'chat'


# -- groups -------------------------------------------------------------------------------

GROUP = {'id': '120363025246125486@g.us', 'name': 'Équipe 🚀', 'type': 'group', 'size': 4,
         'description': 'desc', 'invite_code': 'AbC123', 'created_at': 1600000000,
         'participants': [{'id': '34600111222', 'rank': 'creator'},
                          {'id': '34600111223', 'rank': 'admin'},
                          {'id': '123456789012345@lid', 'rank': 'member'},
                          {'rank': 'member'}]}


def test_groups_with_participants_and_roles(server, sleeps):
    old_style = {'id': '34600111222-1500000000@g.us', 'name': 'Old', 'participants': []}
    no_participants = {'id': '120363000000000002@g.us', 'name': 'Lazy'}
    server.route('GET', '/groups', whapi_list('groups', [GROUP, old_style, no_participants, {'id': '34600111222'}]))
    items, skipped = flat(client_for(server, sleeps).iter_groups())
    group = items[0]
    assert isinstance(group, Group) and group.group_id == '120363025246125486@g.us'
    assert group.name == 'Équipe 🚀' and group.invite_code == 'AbC123' and group.description == 'desc'
    assert group.created_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=timezone.utc)
    assert [(m.contact_id, m.role) for m in group.members] == [
        ('34600111222', 'superadmin'), ('34600111223', 'admin'), ('123456789012345@lid', 'member')]
    assert group.members[0].phone == '+34600111222'
    assert len(group.skipped) == 1 and group.skipped[0].kind == 'member'
    assert items[1].group_id == '34600111222-1500000000@g.us' and items[1].members == []
    assert items[2].members is None
    assert len(skipped) == 1 and skipped[0].external_id == '34600111222'


def test_get_group(server, sleeps):
    server.route('GET', '/groups/120363025246125486@g.us', GROUP)
    group = client_for(server, sleeps).get_group('120363025246125486@g.us')
    assert len(group.members) == 3 and group.name == 'Équipe 🚀'
    assert server.requests[0].query == {'resync': 'false'}


def test_get_group_404(server, sleeps):
    server.route('GET', '/groups/.*', Reply(404, {'error': {'code': 404, 'message': 'Group not found'}}))
    with pytest.raises(NotFoundError):
        client_for(server, sleeps).get_group('120363000000000000@g.us')


def test_get_group_without_participants_is_a_bad_payload(server, sleeps):
    # an empty member list would make the caller remove every member it stores
    without = {key: value for key, value in GROUP.items() if key != 'participants'}
    server.route('GET', '/groups/120363025246125486@g.us', without)
    with pytest.raises(BadPayloadError):
        client_for(server, sleeps).get_group('120363025246125486@g.us')


def test_get_group_rejects_non_group_id(sleeps):
    with pytest.raises(RequestRejectedError):
        WhapiClient(TOKEN, sleep=sleeps.append).get_group('34600111222')


# -- get_contact ----------------------------------------------------------------------------

@pytest.mark.parametrize('asked', ['34600111222', '+34600111222', '34600111222@s.whatsapp.net',
                                   '34600111222@c.us'])
def test_get_contact(server, sleeps, asked):
    server.route('GET', '/contacts/34600111222', {'id': '34600111222', 'name': 'Ana García',
                                                 'pushname': 'Ana 🌸', 'is_business': True,
                                                 'saved': True})
    contact = client_for(server, sleeps).get_contact(asked)
    assert contact == Contact(contact_id='34600111222', phone='+34600111222', phone_valid=True,
                              name='Ana García', pushname='Ana 🌸', is_business=True)
    assert [(r.method, r.path) for r in server.requests] == [('GET', '/contacts/34600111222')]
    assert server.requests[0].headers['Authorization'] == 'Bearer ' + TOKEN


def test_get_contact_404(server, sleeps):
    server.route('GET', '/contacts/.*', Reply(404, {'error': {'code': 404, 'message': 'Contact not found'}}))
    with pytest.raises(NotFoundError):
        client_for(server, sleeps).get_contact('34600000000')
    assert len(server.requests) == 1  # a 404 is not retried


def test_get_contact_lid_resolved_first(server, sleeps):
    """ContactID is digits only: a hidden number is resolved, then read by its phone."""
    server.route('GET', '/contacts/ids/123456789012345@lid', {'id': '34600111222@s.whatsapp.net'})
    server.route('GET', '/contacts/34600111222', {'id': '34600111222', 'pushname': 'שלום'})
    contact = client_for(server, sleeps).get_contact('123456789012345@lid')
    assert contact.contact_id == '34600111222' and contact.pushname == 'שלום'
    assert contact.lid == '123456789012345@lid' and contact.phone == '+34600111222'
    assert [r.path for r in server.requests] == ['/contacts/ids/123456789012345@lid', '/contacts/34600111222']


def test_get_contact_lid_unresolved_is_a_clear_error(server, sleeps):
    server.route('GET', '/contacts/ids/123456789012345@lid',
                 Reply(404, {'error': {'code': 404, 'message': 'Specified user not found'}}))
    with pytest.raises(RequestRejectedError) as caught:
        client_for(server, sleeps).get_contact('123456789012345@lid')
    assert 'hidden number' in str(caught.value)
    assert [r.path for r in server.requests] == ['/contacts/ids/123456789012345@lid']


@pytest.mark.parametrize('reply', [
    Reply(200, raw=b'{not json'),
    Reply(200, raw=b''),
    Reply(200, [{'id': '34600111222'}]),           # a list, not a Contact
    Reply(200, {'name': 'no id'}),
    Reply(200, {'id': 'garbage!!'}),
    Reply(200, {'id': '120363000000000001@g.us'}),  # not a person
])
def test_get_contact_malformed_reply(server, sleeps, reply):
    server.route('GET', '/contacts/34600111222', reply)
    with pytest.raises(BadPayloadError):
        client_for(server, sleeps).get_contact('34600111222')


@pytest.mark.parametrize('asked', ['120363000000000001@g.us', '0612345678', 'abc', '', None])
def test_get_contact_rejects_non_person_id(server, sleeps, asked):
    with pytest.raises(RequestRejectedError):
        client_for(server, sleeps).get_contact(asked)
    assert server.requests == []


def test_get_contact_is_a_capability(server, sleeps):
    from providers import CAPABILITIES, UnsupportedOperation
    assert 'get_contact' in CAPABILITIES and WhapiClient(TOKEN).supports('get_contact')

    class NoContactWhapi(WhapiClient):
        capabilities = WhapiClient.capabilities - {'get_contact'}

    client = NoContactWhapi(TOKEN, base_url=server.base_url, sleep=sleeps.append)
    with pytest.raises(UnsupportedOperation):
        client.get_contact('34600111222')
    assert server.requests == []


# -- messages -----------------------------------------------------------------------------

def test_message_parsing_all_types(server, sleeps):
    items = [
        msg('t1', 1700000000),
        msg('lp1', 1700000001, 'link_preview', link_preview={'body': 'see https://x.io', 'url': 'https://x.io'}),
        msg('sys1', 1700000002, 'system', chat='120363025246125486@g.us', system={'body': 'Ana joined'},
            subtype='add', status=None),
        msg('img1', 1700000003, 'image', image={'id': 'jpeg-abc', 'mime_type': 'image/jpeg', 'file_size': 1024,
                                                'link': 'https://cdn/x.jpg', 'caption': 'nice 📷'}),
        msg('v1', 1700000004, 'voice', voice={'id': 'oga-1', 'mime_type': 'audio/ogg; codecs=opus', 'seconds': 3},
            status='played'),
        msg('d1', 1700000005, 'document', document={'id': 'pdf-1', 'filename': 'a.pdf', 'mime_type': 'application/pdf'}),
        msg('del1', 1700000006, 'revoked', status='deleted'),
        msg('u1', 1700000007, 'hsm'),
        msg('lid1', 1700000008, chat='123456789012345@lid', **{'from': '123456789012345@lid'}),
        msg('me1', 1700000009, from_me=True, status='read', **{'from': '34999999999'}),
        msg('f1', 1700000010, status='failed'),
        msg('s1', 1700000011, 'short', short={'id': 'mp4-1', 'mime_type': 'video/mp4'}),
    ]
    server.route('GET', '/messages/list', whapi_list('messages', items))
    got, skipped = flat(client_for(server, sleeps).iter_messages())
    assert not skipped
    by_id = dict((m.message_id, m) for m in got)
    text = by_id['t1']
    assert isinstance(text, Message)
    assert (text.chat_id, text.chat_type, text.sender_id, text.sender_name, text.body, text.status) == (
        '34600111222', 'contact', '34600111222', 'Ana', 'hello t1', 'delivered')
    assert text.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert by_id['lp1'].message_type == 'link_preview' and by_id['lp1'].body == 'see https://x.io'
    system = by_id['sys1']
    assert (system.message_type, system.chat_type, system.chat_id, system.body) == (
        'system', 'group', '120363025246125486@g.us', 'Ana joined')
    image = by_id['img1']
    assert image.body == 'nice 📷' and image.media.mime_type == 'image/jpeg'
    assert image.media.file_size == 1024 and image.media.url == 'https://cdn/x.jpg'
    assert image.media.media_id == 'jpeg-abc'
    assert by_id['v1'].message_type == 'voice' and by_id['v1'].status == 'played'
    assert by_id['d1'].media.file_name == 'a.pdf'
    assert by_id['del1'].status == 'deleted' and by_id['del1'].message_type == 'unknown'
    assert by_id['del1'].raw_type == 'revoked'
    assert by_id['u1'].message_type == 'unknown' and by_id['u1'].raw_type == 'hsm'
    assert by_id['lid1'].chat_id == '123456789012345@lid' and by_id['lid1'].sender_id == '123456789012345@lid'
    assert by_id['me1'].from_me is True and by_id['me1'].status == 'read'
    assert by_id['f1'].status == 'failed'
    assert by_id['s1'].message_type == 'video'
    assert server.requests[0].query['normal_types'] == 'false'


def test_message_single_bad_item_is_skipped(server, sleeps):
    items = [msg('ok1', 1700000000),
             {'id': 'nots', 'type': 'text', 'chat_id': '34600111222@s.whatsapp.net', 'from_me': False},
             {'id': 'badts', 'type': 'text', 'chat_id': '1@s.whatsapp.net', 'from_me': False, 'timestamp': 'yesterday'},
             {'type': 'text', 'chat_id': '34600111222@s.whatsapp.net', 'from_me': False, 'timestamp': 1},
             {'id': 'nochat', 'type': 'text', 'from_me': False, 'timestamp': 1},
             {'id': 'nodir', 'type': 'text', 'chat_id': '34600111222@s.whatsapp.net', 'timestamp': 1},
             None, 42]
    server.route('GET', '/messages/list', whapi_list('messages', items))
    got, skipped = flat(client_for(server, sleeps).iter_messages())
    assert [m.message_id for m in got] == ['ok1']
    assert len(skipped) == 7
    assert set(s.external_id for s in skipped) >= {'nots', 'badts', 'nochat', 'nodir'}
    assert all(s.kind == 'message' for s in skipped)


def test_iter_messages_since_uses_time_from_and_asc(server, sleeps):
    items = [msg('m%d' % n, 1700000000 + n) for n in range(250)]
    server.route('GET', '/messages/list', whapi_list('messages', items))
    since = datetime(2023, 11, 14, 22, 13, 20, 900000, tzinfo=timezone.utc)
    got, _ = flat(client_for(server, sleeps, page_size=100).iter_messages(since=since))
    assert len(got) == 250 and len(server.requests) == 3
    query = server.requests[0].query
    assert query['time_from'] == '1700000000' and query['sort'] == 'asc' and query['normal_types'] == 'false'


def test_iter_messages_limit_newest_first_and_stops(server, sleeps):
    items = [msg('m%d' % n, 1700000000 - n) for n in range(1000)]
    server.route('GET', '/messages/list', whapi_list('messages', items))
    got, _ = flat(client_for(server, sleeps, page_size=100).iter_messages(limit=250))
    assert len(got) == 250 and [m.message_id for m in got[:2]] == ['m0', 'm1']
    assert len(server.requests) == 3
    assert all(r.query['sort'] == 'desc' for r in server.requests)
    assert 'time_from' not in server.requests[0].query


def test_iter_messages_small_limit_asks_small_page(server, sleeps):
    server.route('GET', '/messages/list', whapi_list('messages', [msg('m%d' % n, 1) for n in range(100)]))
    got, _ = flat(client_for(server, sleeps).iter_messages(limit=5))
    assert len(got) == 5 and server.requests[0].query['count'] == '5' and len(server.requests) == 1


def test_iter_messages_all_history(server, sleeps):
    items = [msg('m%d' % n, 1600000000 + n) for n in range(777)]
    server.route('GET', '/messages/list', whapi_list('messages', items))
    got, _ = flat(client_for(server, sleeps, page_size=500).iter_messages())
    assert len(got) == 777 and len(server.requests) == 2
    assert all('time_from' not in r.query for r in server.requests)
    got_zero, _ = flat(client_for(server, sleeps, page_size=500).iter_messages(limit=0))
    assert len(got_zero) == 777


def test_iter_messages_dedupes_within_a_call(server, sleeps):
    """A message arriving mid-read shifts a desc listing: ids repeat, yielded once."""
    pages = [{'messages': [msg('a', 5), msg('b', 4)], 'total': 5},
             {'messages': [msg('b', 4), msg('c', 3)], 'total': 5},
             {'messages': [msg('d', 2)], 'total': 5}]
    server.route_sequence('GET', '/messages/list', pages)
    got, _ = flat(client_for(server, sleeps, page_size=2).iter_messages())
    assert [m.message_id for m in got] == ['a', 'b', 'c', 'd']


# -- sending ------------------------------------------------------------------------------

SENT = {'sent': True, 'message': {'id': 'PsqXn5SAD5v7HRA-wHqB9tMeGZ', 'status': 'pending', 'timestamp': 1700000000}}


@pytest.mark.parametrize('to, expected', [
    ('34600111222', '34600111222'), ('+34 600 11 12 22', '34600111222'),
    ('34600111222@s.whatsapp.net', '34600111222'), ('34600111222@c.us', '34600111222'),
    ('120363025246125486@g.us', '120363025246125486@g.us'), ('123456789012345@lid', '123456789012345@lid'),
])
def test_send_text_targets(server, sleeps, to, expected):
    server.route('POST', '/messages/text', Reply(201, SENT))
    result = client_for(server, sleeps).send_text(to, 'Hola 👋 مرحبا')
    assert server.requests[0].json == {'to': expected, 'body': 'Hola 👋 مرحبا'}
    assert result.message_id == 'PsqXn5SAD5v7HRA-wHqB9tMeGZ' and result.status == 'pending'
    assert result.whatsapp_message_id == result.message_id
    assert result.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def test_send_text_accepts_200(server, sleeps):
    server.route('POST', '/messages/text', Reply(200, SENT))
    assert client_for(server, sleeps).send_text('34600111222', 'x').message_id


def test_send_text_bad_target(sleeps):
    with pytest.raises(RequestRejectedError):
        WhapiClient(TOKEN, sleep=sleeps.append).send_text('not a number', 'x')


def test_send_provider_errors(server, sleeps):
    server.route('POST', '/messages/text', [
        Reply(401, {'error': {'code': 401, 'message': 'need channel authorization'}}),
        Reply(200, {'sent': False}), Reply(201, {'sent': True}), Reply(201, raw=b'oops')])
    client = client_for(server, sleeps)
    with pytest.raises(AuthenticationError) as info:
        client.send_text('34600111222', 'x')
    assert 'need channel authorization' in str(info.value)
    with pytest.raises(RequestRejectedError):
        client.send_text('34600111222', 'x')
    with pytest.raises(BadPayloadError):
        client.send_text('34600111222', 'x')
    with pytest.raises(BadPayloadError):
        client.send_text('34600111222', 'x')


def test_send_media_bytes_as_data_uri(server, sleeps):
    server.route('POST', '/messages/image', Reply(201, SENT))
    data = b'\x89PNG\r\n\x1a\nfake'
    result = client_for(server, sleeps).send_media('120363025246125486@g.us', file_bytes=data,
                                                    file_name='pic.png', caption='look 👀')
    body = server.requests[0].json
    assert body['to'] == '120363025246125486@g.us' and body['caption'] == 'look 👀'
    assert body['mime_type'] == 'image/png'
    assert 'filename' not in body, 'SenderImage declares no filename (W2)'
    assert body['media'] == 'data:image/png;base64,' + base64.b64encode(data).decode()
    assert result.status == 'pending'


@pytest.mark.parametrize('kwargs, path, fields', [
    # W2 SenderDocument: caption and filename
    (dict(file_name='offer.pdf', mime_type='application/pdf'), '/messages/document', {'caption', 'filename'}),
    # W2 SenderImage / SenderVideo: caption, no filename
    (dict(file_name='clip.mp4', mime_type='video/mp4'), '/messages/video', {'caption'}),
    # W2 SenderAudio / SenderVoice: neither caption nor filename
    (dict(file_name='song.mp3', mime_type='audio/mpeg'), '/messages/audio', set()),
    (dict(file_name='note.ogg', mime_type='audio/ogg', media_type='voice'), '/messages/voice', set()),
])
def test_send_media_fields_as_each_sender_schema_declares(server, sleeps, kwargs, path, fields):
    server.route('POST', '/messages/.*', Reply(201, SENT))
    client_for(server, sleeps).send_media('34600111222', file_bytes=b'data', caption='see this', **kwargs)
    body = server.requests[0].json
    assert server.requests[0].path == path
    assert set(body) & {'caption', 'filename'} == fields


def test_audio_and_voice_captions_go_apart():
    """The layer above asks before sending: WHAPI drops an audio's or a voice note's
    caption, an image keeps it."""
    assert WhapiClient.caption_sent_apart('audio/ogg')
    assert WhapiClient.caption_sent_apart('audio/ogg', 'voice')
    assert not WhapiClient.caption_sent_apart('image/jpeg')
    assert not WhapiClient.caption_sent_apart('application/pdf')
    assert not WassengerClient.caption_sent_apart('audio/ogg')


@pytest.mark.parametrize('kwargs, path', [
    (dict(url='https://x.io/a.mp4'), '/messages/video'),
    (dict(url='https://x.io/a.pdf?sig=1'), '/messages/document'),
    (dict(url='https://x.io/blob', mime_type='audio/mpeg'), '/messages/audio'),
    (dict(url='https://x.io/note.ogg', media_type='voice'), '/messages/voice'),
    (dict(file_bytes=b'abc', file_name='x.bin'), '/messages/document'),
    (dict(file_bytes=b'abc'), '/messages/document'),
])
def test_send_media_paths(server, sleeps, kwargs, path):
    server.route('POST', '/messages/.*', Reply(201, SENT))
    client_for(server, sleeps).send_media('34600111222', **kwargs)
    assert server.requests[0].path == path
    if 'url' in kwargs:
        assert server.requests[0].json['media'] == kwargs['url']


def test_send_media_needs_exactly_one_source(sleeps):
    client = WhapiClient(TOKEN, sleep=sleeps.append)
    with pytest.raises(ValueError):
        client.send_media('34600111222')
    with pytest.raises(ValueError):
        client.send_media('34600111222', file_bytes=b'x', url='https://x')
    with pytest.raises(ValueError):
        client.send_media('34600111222', url='https://x', media_type='hologram')


def test_send_media_provider_error(server, sleeps):
    server.route('POST', '/messages/image', Reply(413, {'error': {'code': 413, 'message': 'Too large'}}))
    with pytest.raises(RequestRejectedError) as info:
        client_for(server, sleeps).send_media('34600111222', url='https://x.io/a.jpg')
    assert info.value.status == 413


# -- status -------------------------------------------------------------------------------

@pytest.mark.parametrize('status', ['pending', 'sent', 'delivered', 'read', 'played', 'failed', 'deleted'])
def test_get_message_status(server, sleeps, status):
    server.route('GET', '/messages/.*', msg('abc', 1, status=status))
    update = client_for(server, sleeps).get_message_status('abc.def-1')
    assert (update.message_id, update.status) == ('abc', status)
    assert server.requests[0].path == '/messages/abc.def-1'


def test_get_message_status_unknown_word(server, sleeps):
    server.route('GET', '/messages/.*', msg('abc', 1, status='teleported'))
    assert client_for(server, sleeps).get_message_status('abc').status is None


# -- register_webhook ---------------------------------------------------------------------

WEBHOOK_SECRET = 'hook-SECRET-abcdef987'


def test_register_webhook_adds_entry_and_keeps_others(server, sleeps):
    other = {'url': 'https://other.example/hook', 'events': [{'type': 'messages', 'method': 'post'}],
             'mode': 'body'}
    server.route('GET', '/settings', {'webhooks': [other], 'callback_persist': True})
    server.route('PATCH', '/settings', {'before_update': {}, 'after_update': {}, 'changes': ['webhooks']})
    result = client_for(server, sleeps).register_webhook('https://odoo.example/wa/hook/1', WEBHOOK_SECRET)
    assert result.url == 'https://odoo.example/wa/hook/1' and result.secret == WEBHOOK_SECRET
    assert result.webhook_id is None
    [patch] = server.calls('PATCH', '/settings')
    hooks = patch.json['webhooks']
    assert hooks[0] == other
    entry = hooks[1]
    assert entry['url'] == 'https://odoo.example/wa/hook/1' and entry['mode'] == 'body'
    assert entry['headers'] == {'X-Odoo-Webhook-Secret': WEBHOOK_SECRET}
    events = set((event['type'], event['method']) for event in entry['events'])
    assert ('messages', 'patch') in events and ('statuses', 'put') in events and ('groups', 'put') in events
    # account health (W2 Event types ``users``: login/logout, ``channel``: status changed)
    assert {('users', 'post'), ('users', 'delete'), ('channel', 'post')} <= events
    assert len(events) == 14
    assert [r.method for r in server.requests] == ['GET', 'PATCH']


def test_register_webhook_replaces_same_url(server, sleeps):
    old = {'url': 'https://odoo.example/wa/hook/1/', 'events': [], 'headers': {'X-Odoo-Webhook-Secret': 'old'}}
    other = {'url': 'https://other.example/hook'}
    server.route('GET', '/settings', {'webhooks': [old, other, dict(old)]})
    server.route('PATCH', '/settings', {})
    client_for(server, sleeps).register_webhook('https://odoo.example/wa/hook/1', WEBHOOK_SECRET)
    hooks = server.calls('PATCH', '/settings')[0].json['webhooks']
    assert len(hooks) == 2 and hooks[1] == other
    assert hooks[0]['headers']['X-Odoo-Webhook-Secret'] == WEBHOOK_SECRET


def test_register_webhook_without_webhooks_setting(server, sleeps):
    server.route('GET', '/settings', {'proxy': None})
    server.route('PATCH', '/settings', Reply(200, raw=b''))
    client_for(server, sleeps).register_webhook('https://odoo.example/h', WEBHOOK_SECRET)
    assert len(server.calls('PATCH', '/settings')[0].json['webhooks']) == 1


def test_register_webhook_needs_url_and_secret(server, sleeps):
    client = client_for(server, sleeps)
    with pytest.raises(ConfigurationError):
        client.register_webhook('https://odoo.example/h', '')
    with pytest.raises(ConfigurationError):
        client.register_webhook('', WEBHOOK_SECRET)
    assert server.requests == []


def test_register_webhook_error_hides_secret(server, sleeps, caplog):
    server.route('GET', '/settings', {'webhooks': []})
    server.route('PATCH', '/settings', Reply(400, {'error': {'code': 400, 'message': 'Wrong settings format',
                                                           'details': 'header %s too long' % WEBHOOK_SECRET}}))
    with pytest.raises(RequestRejectedError) as caught:
        client_for(server, sleeps).register_webhook('https://odoo.example/h', WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in str(caught.value) and 'Wrong settings format' in str(caught.value)
    assert WEBHOOK_SECRET not in caplog.text and TOKEN not in caplog.text
