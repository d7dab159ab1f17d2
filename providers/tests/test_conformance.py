"""Every request each client method makes, checked against the providers' published
descriptions (the conformance table in ``providers/conformance/*.json``).

A local server answers each request with the table row's sample reply (the
published shape) and records it; each recorded request must match a row: a known
endpoint, only published parameters within their limits, required ones present,
only published body fields, the provider's auth header.
"""
import pytest

from conftest import TOKEN, Reply
from providers import ProviderError, WassengerClient, WhapiClient
from providers.conformance import check_request, load_table, match_endpoint

DEVICE = '61b37a069cba0c15d6c89757'
GROUP = '120363012345678901@g.us'
LID = '998877665544332@lid'


def _may_refuse(call):
    """A call the client may refuse before asking the provider (a hidden number it
    cannot resolve): then no request is fine, and so is a ProviderError."""
    def run(client):
        try:
            call(client)
        except ProviderError:
            pass
    run.may_refuse = True
    return run


# -- the recording server: each row's sample, paged as the provider pages -----------------

def _answer(table):
    def handler(request):
        row, _params = match_endpoint(table, request.method, request.path)
        if row is None:
            return Reply(404, table['error_shape']['sample'])
        if row.get('binary'):
            return Reply(200, raw=b'\x89PNG\r\n\x1a\nfake', headers={'Content-Type': 'image/png'})
        sample = row.get('sample')
        if row.get('paged') == 'offset' and int(request.query.get('offset', 0) or 0) > 0:
            sample = dict(sample, **{row['items']: [], 'count': 0, 'offset': int(request.query['offset'])})
        if row.get('paged') == 'page' and int(request.query.get('page', 0) or 0) > 0:
            sample = []
        return Reply(row.get('status', 200), sample)
    return handler


@pytest.fixture
def recorded(server):
    """(server, provider) -> the table's problems with every request made so far."""
    for method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE'):
        server.route(method, r'.*', lambda request: Reply(500, {}))

    def serve(provider):
        table = load_table(provider)
        for method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE'):
            server.route(method, r'.*', _answer(table))
        return table
    return serve


def _problems(server, table):
    problems = []
    for request in server.requests:
        problems.extend(check_request(table, request.method, request.path, request.query,
                                      request.headers, request.body))
    return problems


def _whapi(server):
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=lambda seconds: None)


def _wassenger(server):
    return WassengerClient(TOKEN, base_url=server.base_url, device_id=DEVICE, sleep=lambda seconds: None)


def _drain(pages):
    for _page in pages:
        pass


PNG = b'\x89PNG\r\n\x1a\n' + b'\x00' * 32

WHAPI_CALLS = [
    pytest.param(lambda c: c.check_connection(), id='check_connection'),
    pytest.param(lambda c: _drain(c.iter_contacts()), id='iter_contacts'),
    pytest.param(lambda c: _drain(c.iter_chats()), id='iter_chats'),
    pytest.param(lambda c: _drain(c.iter_groups()), id='iter_groups'),
    pytest.param(lambda c: c.get_group(GROUP), id='get_group'),
    pytest.param(lambda c: list(c.get_groups([GROUP, GROUP])), id='get_groups'),
    pytest.param(lambda c: c.get_contact('34600111222'), id='get_contact'),
    pytest.param(lambda c: c.send_text(LID, 'To a hidden number'), id='send_text_hidden_number'),
    pytest.param(_may_refuse(lambda c: c.get_contact(LID)), id='get_contact_hidden_number'),
    pytest.param(lambda c: _drain(c.iter_messages(limit=30)), id='iter_messages_recent'),
    pytest.param(lambda c: _drain(c.iter_messages(since=_moment())), id='iter_messages_since'),
    pytest.param(lambda c: _drain(c.iter_messages(limit=0)), id='iter_messages_all'),
    pytest.param(lambda c: c.send_text('34600111222', 'Hi', quoted_id='p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw'), id='send_text'),
    pytest.param(lambda c: c.send_text(GROUP, 'Hi all'), id='send_text_group'),
    pytest.param(lambda c: c.send_media('34600111222', file_bytes=b'%PDF-1.4 x', file_name='a.pdf',
                                        mime_type='application/pdf', caption='The offer'), id='send_document'),
    pytest.param(lambda c: c.send_media('34600111222', url='https://example.com/p.png', mime_type='image/png',
                                        caption='Look'), id='send_image_url'),
    pytest.param(lambda c: c.send_media('34600111222', file_bytes=PNG, file_name='p.png', mime_type='image/png'),
                 id='send_image_with_file_name'),
    pytest.param(lambda c: c.send_media('34600111222', file_bytes=b'OggS' + b'\x00' * 20, mime_type='audio/ogg',
                                        media_type='voice'), id='send_voice'),
    pytest.param(lambda c: c.send_media('34600111222', file_bytes=b'ID3' + b'\x00' * 20, mime_type='audio/mpeg',
                                        media_type='audio', caption='Listen'), id='send_audio_with_caption'),
    pytest.param(lambda c: c.get_message_status('p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw'), id='get_message_status'),
    pytest.param(lambda c: c.download_media(_media('jpeg-0123abcd'), bytearray_sink()), id='download_media'),
    pytest.param(lambda c: c.mark_read('34600111222@s.whatsapp.net', 'p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw'), id='mark_read'),
    pytest.param(lambda c: c.register_webhook('https://odoo.example.com/whatsapp/webhook/k', 's3cr3t'), id='register_webhook'),
    pytest.param(lambda c: c.create_group('New group', ['34600111222', '+44 7911 123456'], description='About'),
                 id='create_group'),
    pytest.param(_may_refuse(lambda c: c.create_group('New group', ['34600111222', LID])), id='create_group_hidden_number'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'add'), id='add_participants'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'remove'), id='remove_participants'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'promote'), id='promote'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'demote'), id='demote'),
    pytest.param(_may_refuse(lambda c: c.update_participants(GROUP, ['34600111222', LID], 'add')),
                 id='add_participants_hidden_number'),
    pytest.param(lambda c: c.get_invite_code(GROUP), id='get_invite_code'),
    pytest.param(lambda c: c.revoke_invite_code(GROUP), id='revoke_invite_code'),
    pytest.param(lambda c: c.check_numbers(['+34 600 111 222', '447911123456']), id='check_numbers'),
]

WASSENGER_CALLS = [
    pytest.param(lambda c: c.check_connection(), id='check_connection'),
    pytest.param(lambda c: _drain(c.iter_contacts()), id='iter_contacts'),
    pytest.param(lambda c: _drain(c.iter_chats()), id='iter_chats'),
    pytest.param(lambda c: _drain(c.iter_groups()), id='iter_groups'),
    pytest.param(lambda c: c.get_group(GROUP), id='get_group'),
    pytest.param(lambda c: list(c.get_groups([GROUP])), id='get_groups'),
    pytest.param(lambda c: c.get_contact('34600111222'), id='get_contact'),
    pytest.param(lambda c: c.get_contact(LID), id='get_contact_hidden_number'),
    pytest.param(_may_refuse(lambda c: WassengerClient(TOKEN, base_url=c.base_url,
                                                       sleep=lambda seconds: None).check_connection()),
                 id='check_connection_lists_devices'),
    pytest.param(lambda c: _drain(c.iter_messages(limit=30)), id='iter_messages_recent'),
    pytest.param(lambda c: _drain(c.iter_messages(since=_moment())), id='iter_messages_since'),
    pytest.param(lambda c: _drain(c.iter_messages(limit=0)), id='iter_messages_all'),
    pytest.param(lambda c: c.send_text('34600111222', 'Hi', quoted_id='3EB03EBAF8863B70BA00AF'), id='send_text'),
    pytest.param(lambda c: c.send_text(GROUP, 'Hi all'), id='send_text_group'),
    pytest.param(lambda c: c.send_media('34600111222', file_bytes=PNG, file_name='p.png', mime_type='image/png',
                                        caption='Look'), id='send_image_upload'),
    pytest.param(lambda c: c.send_media('34600111222', url='https://example.com/v.ogg', mime_type='audio/ogg',
                                        media_type='voice'), id='send_voice_url'),
    pytest.param(lambda c: c.get_message_status('64b0f0c0a1b2c3d4e5f60718'), id='get_message_status'),
    pytest.param(lambda c: c.download_media(_media('64b0f0c0a1b2c3d4e5f60719'), bytearray_sink()), id='download_media'),
    pytest.param(lambda c: c.download_media(_link('/v1/chat/%s/files/64b0f0c0a1b2c3d4e5f60719/download' % DEVICE),
                                            bytearray_sink()), id='download_media_by_link'),
    pytest.param(lambda c: c.register_webhook('https://odoo.example.com/whatsapp/webhook/k', 's3cr3t'),
                 id='register_webhook_new'),
    pytest.param(lambda c: c.register_webhook('https://other.example.com/hook', 's3cr3t'), id='register_webhook_again'),
    pytest.param(lambda c: c.create_group('New group', ['34600111222', '447911123456'], description='About'),
                 id='create_group'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'add'), id='add_participants'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'remove'), id='remove_participants'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'promote'), id='promote'),
    pytest.param(lambda c: c.update_participants(GROUP, ['34600111222'], 'demote'), id='demote'),
    pytest.param(lambda c: c.get_invite_code(GROUP), id='get_invite_code'),
    pytest.param(lambda c: c.revoke_invite_code(GROUP), id='revoke_invite_code'),
    pytest.param(lambda c: c.check_numbers(['+34 600 111 222']), id='check_numbers'),
]


def _moment():
    from datetime import datetime, timezone
    return datetime(2026, 1, 1, tzinfo=timezone.utc)


def _media(media_id):
    from providers import Media
    return Media(media_id=media_id, mime_type='image/png')


def _link(url):
    from providers import Media
    return Media(url=url)


def bytearray_sink():
    import io
    return io.BytesIO()


@pytest.mark.parametrize('call', WHAPI_CALLS)
def test_whapi_requests_follow_the_published_description(server, recorded, call):
    table = recorded('whapi')
    call(_whapi(server))
    assert server.requests or getattr(call, 'may_refuse', False), 'the call made no request'
    assert _problems(server, table) == []


@pytest.mark.parametrize('call', WASSENGER_CALLS)
def test_wassenger_requests_follow_the_published_description(server, recorded, call):
    table = recorded('wassenger')
    call(_wassenger(server))
    assert server.requests or getattr(call, 'may_refuse', False), 'the call made no request'
    assert _problems(server, table) == []


def test_wassenger_asks_for_at_most_50_messages_a_page(server, recorded):
    """S1 tools-reference: message listings 'default 20, max 50'."""
    table = recorded('wassenger')
    _drain(_wassenger(server).iter_messages(limit=0))
    sizes = [int(request.query['size']) for request in server.requests if request.path.endswith('/messages')]
    assert sizes and max(sizes) <= 50
    assert _problems(server, table) == []


@pytest.mark.parametrize('send', [
    lambda c: c.send_text('34600111222', 'Hi'),
    lambda c: c.send_media('34600111222', url='https://example.com/p.png', mime_type='image/png'),
], ids=['text', 'media'])
def test_wassenger_sends_carry_a_reference(server, recorded, send):
    """The issue's rule (S1: 'reference' is echoed back on the message): every send has one."""
    recorded('wassenger')
    send(_wassenger(server))
    bodies = [request.json for request in server.requests if request.path == '/messages']
    assert bodies and all(body.get('reference') for body in bodies)


def test_every_row_cites_its_source_and_has_a_sample():
    for provider in ('whapi', 'wassenger'):
        table = load_table(provider)
        assert table['sources']
        seen = set()
        for row in table['endpoints']:
            key = (row['method'], row['path'])
            assert key not in seen, 'two rows for %s %s' % key
            seen.add(key)
            assert row.get('source'), row['id']
            assert 'reads' in row and 'sample' in row, row['id']
            if row.get('sample') is not None and row.get('body') is None and row['method'] == 'GET':
                assert isinstance(row['sample'], (dict, list)), row['id']
            for spec in list((row.get('query') or {}).values()) + list((row.get('path_params') or {}).values()):
                if 'pattern_ref' in spec:
                    assert spec['pattern_ref'] in table['patterns'], row['id']


# -- the checker itself: each kind of mistake is caught, with a clear message -----------------

WHAPI_AUTH = {'Authorization': 'Bearer t'}
WASSENGER_AUTH = {'Token': 't'}


@pytest.mark.parametrize('provider,method,path,query,headers,body,expected', [
    ('whapi', 'GET', '/contacts', {'count': '100'}, WHAPI_AUTH, b'', None),
    ('whapi', 'GET', '/contacts/all', {}, WHAPI_AUTH, b'', 'path {ContactID}'),
    ('whapi', 'GET', '/nothing', {}, WHAPI_AUTH, b'', 'no such endpoint'),
    ('whapi', 'POST', '/health', {}, WHAPI_AUTH, b'', 'no such endpoint'),
    ('whapi', 'GET', '/contacts', {'count': '501'}, WHAPI_AUTH, b'', 'past the maximum 500'),
    ('whapi', 'GET', '/contacts', {'count': '0'}, WHAPI_AUTH, b'', 'below the minimum'),
    ('whapi', 'GET', '/contacts', {'limit': '10'}, WHAPI_AUTH, b'', 'query parameter "limit" is not'),
    ('whapi', 'GET', '/messages/list', {'sort': 'up'}, WHAPI_AUTH, b'', "is not one of"),
    ('whapi', 'GET', '/messages/list', {'normal_types': '0'}, WHAPI_AUTH, b'', 'not of type boolean'),
    ('whapi', 'GET', '/contacts', {}, {}, b'', 'no Authorization header'),
    ('whapi', 'GET', '/contacts', {}, {'Authorization': 'Token t'}, b'', 'no Authorization header'),
    ('whapi', 'GET', '/contacts/lids', {}, WHAPI_AUTH, b'', 'required query parameter "ContactIDList"'),
    ('whapi', 'POST', '/groups', {}, WHAPI_AUTH, b'{"subject": "x", "participants": ["998877665544332@lid"]}',
     'does not match'),
    ('whapi', 'POST', '/groups', {}, WHAPI_AUTH, b'{"subject": "x"}', 'required field "participants"'),
    ('whapi', 'POST', '/messages/audio', {}, WHAPI_AUTH, b'{"to": "34600111222", "media": "x", "caption": "c"}',
     'field "caption" is not in the published description'),
    ('whapi', 'POST', '/messages/text', {}, WHAPI_AUTH, b'{"to": "34600111222", "body": 5}', 'not of type string'),
    ('whapi', 'PUT', '/messages/p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw', {}, WHAPI_AUTH, b'{"x": 1}', 'describes none'),
    ('whapi', 'GET', '/groups/12345@g.us/invite', {}, WHAPI_AUTH, b'', 'path {GroupID}'),
    ('wassenger', 'GET', '/chat/%s/messages' % DEVICE, {'size': '50', 'page': '0'}, WASSENGER_AUTH, b'', None),
    ('wassenger', 'GET', '/chat/%s/messages' % DEVICE, {'size': '100'}, WASSENGER_AUTH, b'', 'past the maximum 50'),
    ('wassenger', 'GET', '/chat/%s/messages' % DEVICE, {'after': 'yesterday'}, WASSENGER_AUTH, b'', 'does not match'),
    ('wassenger', 'GET', '/chat/not-a-device/contacts', {}, WASSENGER_AUTH, b'', 'path {deviceId}'),
    ('wassenger', 'GET', '/webhooks', {'size': '201'}, WASSENGER_AUTH, b'', 'past the maximum 200'),
    ('wassenger', 'GET', '/webhooks', {'page': '51'}, WASSENGER_AUTH, b'', 'past the maximum 50'),
    ('wassenger', 'POST', '/messages', {}, WASSENGER_AUTH, b'{"message": "hi"}', 'exactly one of'),
    ('wassenger', 'POST', '/messages', {}, WASSENGER_AUTH, b'{"phone": "+34600111222", "group": "1@g.us"}',
     'exactly one of'),
    ('wassenger', 'POST', '/messages', {}, WASSENGER_AUTH, b'{"phone": "34600111222", "message": "hi"}',
     'does not match'),
    ('wassenger', 'POST', '/messages', {}, WASSENGER_AUTH, b'{"phone": "+34600111222", "text": "hi"}',
     'field "text" is not in the published description'),
    ('wassenger', 'POST', '/messages', {}, WASSENGER_AUTH,
     b'{"phone": "+34600111222", "media": {"file": "f", "format": "voice"}}', 'is not one of'),
    ('wassenger', 'POST', '/webhooks', {}, WASSENGER_AUTH, b'{"url": "u", "events": ["message:out:read"]}',
     'is not one of'),
    ('wassenger', 'GET', '/devices', {}, {'Authorization': 'Bearer t'}, b'', 'no Token header'),
    ('wassenger', 'POST', '/files', {}, dict(WASSENGER_AUTH, **{'Content-Type': 'application/json'}), b'{}',
     'multipart/form-data body is expected'),
])
def test_checker_names_each_mistake(provider, method, path, query, headers, body, expected):
    problems = check_request(load_table(provider), method, path, query, headers, body)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems
