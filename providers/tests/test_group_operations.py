"""Group and contact management of both clients against the local fake server."""
import pytest

from conftest import TOKEN, Reply
from providers import (
    AuthenticationError, BadPayloadError, GroupCreation, InviteLink, NumberCheck,
    ParticipantsResult, RequestRejectedError, UnsupportedOperation, WassengerClient, WhapiClient,
)
from providers.whapi import CHECK_NUMBERS_CHUNK

DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'
GROUP = '120363025343298878@g.us'


def whapi(server, sleeps):
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append)


def wass(server, sleeps):
    return WassengerClient(TOKEN, base_url=server.base_url, device_id=DEVICE, sleep=sleeps.append)


# -- capabilities ---------------------------------------------------------------------------

class NoManagementWhapi(WhapiClient):
    capabilities = frozenset()


@pytest.mark.parametrize('call', [
    lambda c: c.create_group('x', ['34600111222']),
    lambda c: c.update_participants(GROUP, ['34600111222'], 'add'),
    lambda c: c.get_invite_code(GROUP),
    lambda c: c.revoke_invite_code(GROUP),
    lambda c: c.check_numbers(['34600111222']),
    lambda c: c.register_webhook('https://odoo.example/h', 's'),
])
def test_unsupported_operation_raises_before_any_request(server, sleeps, call):
    client = NoManagementWhapi(TOKEN, base_url=server.base_url, sleep=sleeps.append)
    with pytest.raises(UnsupportedOperation) as caught:
        call(client)
    assert 'WHAPI does not support' in str(caught.value)
    assert server.requests == []


def test_supports():
    assert WhapiClient(TOKEN).supports('create_group')
    assert WhapiClient(TOKEN).supports('check_numbers_batch')
    assert WassengerClient(TOKEN).supports('check_numbers')
    assert not WassengerClient(TOKEN).supports('check_numbers_batch')
    assert not NoManagementWhapi(TOKEN).supports('create_group')


@pytest.mark.parametrize('make', [whapi, wass])
def test_bad_action_is_a_caller_error(server, sleeps, make):
    with pytest.raises(ValueError):
        make(server, sleeps).update_participants(GROUP, ['34600111222'], 'explode')
    assert server.requests == []


# -- WHAPI ----------------------------------------------------------------------------------

def test_whapi_create_group_group_reply(server, sleeps):
    server.route('POST', '/groups', Reply(201, {
        'id': GROUP, 'type': 'group', 'name': 'Team', 'size': 3,
        'participants': [{'id': '34999999999', 'rank': 'creator'}, {'id': '34600111222', 'rank': 'member'}]}))
    server.route('PUT', '/groups/%s' % GROUP, {'success': True})
    result = whapi(server, sleeps).create_group('Team', ['+34 600 111 222', '34600111333@c.us', 'nobody'],
                                                description='About')
    assert isinstance(result, GroupCreation)
    assert result.group.group_id == GROUP and result.group.description == 'About'
    assert result.added == ['34600111222']
    assert result.refused == [('nobody', 'not a phone number or WhatsApp id'),
                              ('34600111333', 'not in the group after creation')]
    assert server.calls('POST', '/groups')[0].json == {'subject': 'Team',
                                                       'participants': ['34600111222', '34600111333']}
    assert server.calls('PUT', '/groups/%s' % GROUP)[0].json == {'description': 'About'}


def test_whapi_create_group_id_reply_with_failed(server, sleeps):
    server.route('POST', '/groups', {'group_id': GROUP, 'failed': [{'id': '34600111333', 'error': 'privacy'}]})
    result = whapi(server, sleeps).create_group('Team', ['34600111222', '34600111333'])
    assert result.group.name == 'Team' and result.group.members is None
    assert result.added == ['34600111222'] and result.refused == [('34600111333', 'privacy')]
    assert server.calls('PUT') == []


def test_whapi_create_group_description_failure_keeps_group(server, sleeps):
    server.route('POST', '/groups', Reply(201, {'group_id': GROUP}))
    server.route('PUT', '/groups/%s' % GROUP, Reply(403, {'error': {'code': 403, 'message': 'no permission'}}))
    result = whapi(server, sleeps).create_group('Team', ['34600111222'], description='About')
    assert result.group.group_id == GROUP and result.group.description is None


def test_whapi_create_group_errors(server, sleeps):
    client = whapi(server, sleeps)
    with pytest.raises(RequestRejectedError):
        client.create_group('Team', ['nobody'])
    assert server.requests == []
    server.route('POST', '/groups', {'success': True})
    with pytest.raises(BadPayloadError):
        client.create_group('Team', ['34600111222'])


@pytest.mark.parametrize('action, method, resource', [
    ('add', 'POST', 'participants'), ('remove', 'DELETE', 'participants'),
    ('promote', 'PATCH', 'admins'), ('demote', 'DELETE', 'admins')])
def test_whapi_update_participants_paths(server, sleeps, action, method, resource):
    path = '/groups/%s/%s' % (GROUP, resource)
    server.route(method, path, {'success': True})
    result = whapi(server, sleeps).update_participants(GROUP, ['34600111222', '+34600111333'], action)
    assert result == ParticipantsResult(done=['34600111222', '34600111333'], refused=[])
    assert server.calls(method, path)[0].json == {'participants': ['34600111222', '34600111333']}


@pytest.mark.parametrize('reply, done, refused', [
    (Reply(200, raw=b''), ['34600111222', '34600111333'], []),
    ({'success': True, 'failed': ['34600111333'], 'processed': ['34600111222']},
     ['34600111222'], [('34600111333', 'refused by the provider')]),
    ({'success': True, 'processed': ['34600111222']},
     ['34600111222'], [('34600111333', 'not confirmed by the provider')]),
    ({'success': False}, [], [('34600111222', 'refused by WHAPI'), ('34600111333', 'refused by WHAPI')]),
    ({'failed': {'34600111333': 'not-authorized'}}, ['34600111222'], [('34600111333', 'not-authorized')]),
])
def test_whapi_update_participants_refusal_shapes(server, sleeps, reply, done, refused):
    server.route('POST', '/groups/%s/participants' % GROUP, reply)
    result = whapi(server, sleeps).update_participants(GROUP, ['34600111222', '34600111333'], 'add')
    assert (result.done, result.refused) == (done, refused)


def test_whapi_update_participants_errors(server, sleeps):
    client = whapi(server, sleeps)
    result = client.update_participants(GROUP, ['nobody'], 'remove')
    assert result.done == [] and result.refused == [('nobody', 'not a phone number or WhatsApp id')]
    with pytest.raises(RequestRejectedError):
        client.update_participants('34600111222', ['34600111333'], 'add')
    assert server.requests == []
    server.route('POST', '/groups/%s/participants' % GROUP,
                 Reply(409, {'error': {'code': 409, 'message': 'Specified participant already in group'}}))
    with pytest.raises(RequestRejectedError) as caught:
        client.update_participants(GROUP, ['34600111222'], 'add')
    assert 'already in group' in str(caught.value)


def test_whapi_invite_code_get_and_revoke(server, sleeps):
    codes = iter(['AbCdEf123', 'NeWcOdE456'])
    server.route('GET', '/groups/%s/invite' % GROUP, lambda request: Reply(200, {'invite_code': next(codes)}))
    server.route('DELETE', '/groups/%s/invite' % GROUP, {'success': True})
    client = whapi(server, sleeps)
    assert client.get_invite_code(GROUP) == InviteLink('AbCdEf123', 'https://chat.whatsapp.com/AbCdEf123')
    assert client.revoke_invite_code(GROUP) == InviteLink('NeWcOdE456', 'https://chat.whatsapp.com/NeWcOdE456')
    assert [r.method for r in server.requests] == ['GET', 'DELETE', 'GET']


def test_whapi_invite_code_missing(server, sleeps):
    server.route('GET', '/groups/%s/invite' % GROUP, {'success': True})
    with pytest.raises(BadPayloadError):
        whapi(server, sleeps).get_invite_code(GROUP)


def test_whapi_check_numbers_batched(server, sleeps):
    def reply(request):
        answers = []
        for number in request.json['contacts']:
            valid = not number.endswith('9')
            entry = {'input': '+' + number, 'status': 'valid' if valid else 'invalid'}
            if valid:
                entry['wa_id'] = number
            answers.append(entry)
        return Reply(200, {'contacts': answers})
    server.route('POST', '/contacts', reply)
    phones = ['+34 600 111 222', '34600111229', 'not a phone', '0034600111222']
    phones += ['3460020%04d' % n for n in range(CHECK_NUMBERS_CHUNK + 5)]
    results = whapi(server, sleeps).check_numbers(phones)
    assert len(results) == len(phones) and all(isinstance(r, NumberCheck) for r in results)
    assert results[0] == NumberCheck('+34 600 111 222', '34600111222', True)
    assert results[1] == NumberCheck('34600111229', None, False)
    assert results[2] == NumberCheck('not a phone', None, False)
    assert results[3] == NumberCheck('0034600111222', '34600111222', True)
    posts = server.calls('POST', '/contacts')
    assert len(posts) == 2 and len(posts[0].json['contacts']) == CHECK_NUMBERS_CHUNK
    assert posts[0].json['blocking'] == 'wait' and posts[0].json['force_check'] is False
    assert sum(len(p.json['contacts']) for p in posts) == CHECK_NUMBERS_CHUNK + 7  # de-duplicated


def test_whapi_check_numbers_positional_and_other_wa_id(server, sleeps):
    server.route('POST', '/contacts', {'contacts': [{'status': 'valid', 'wa_id': '5511988887777'},
                                                    {'status': 'invalid'}]})
    results = whapi(server, sleeps).check_numbers(['551188887777', '34600111222'])
    assert results == [NumberCheck('551188887777', '5511988887777', True),
                       NumberCheck('34600111222', None, False)]


def test_whapi_check_numbers_bad_reply_and_empty(server, sleeps):
    client = whapi(server, sleeps)
    assert client.check_numbers([]) == []
    assert server.requests == []
    server.route('POST', '/contacts', {'result': 'ok'})
    with pytest.raises(BadPayloadError):
        client.check_numbers(['34600111222'])


# -- Wassenger ------------------------------------------------------------------------------

GROUPS_PATH = '/devices/%s/groups' % DEVICE


def test_wassenger_create_group(server, sleeps):
    server.route('POST', GROUPS_PATH, Reply(201, {
        'wid': GROUP, 'name': 'Team', 'description': 'About', 'inviteCode': 'AbC',
        'participants': [{'wid': '34999999999@c.us', 'isSuperAdmin': True},
                         {'wid': '34600111222@c.us', 'isAdmin': False}]}))
    result = wass(server, sleeps).create_group('Team', ['34600111222', '+34600111333', '123@lid', 'x'],
                                               description='About')
    assert result.group.group_id == GROUP and result.group.invite_code == 'AbC'
    assert result.added == ['34600111222']
    assert [key for key, _reason in result.refused] == ['x', '123@lid', '34600111333']
    assert result.refused[2][1] == 'not in the group after creation'
    assert server.calls('POST', GROUPS_PATH)[0].json == {
        'name': 'Team', 'description': 'About',
        'participants': [{'phone': '+34600111222', 'admin': False}, {'phone': '+34600111333', 'admin': False}]}


def test_wassenger_create_group_minimal_and_failed_reply(server, sleeps):
    server.route('POST', GROUPS_PATH, {'id': GROUP, 'failedParticipants': [{'phone': '+34600111333',
                                                                           'reason': 'privacy settings'}]})
    result = wass(server, sleeps).create_group('Team', ['34600111222', '34600111333'])
    assert result.group.name == 'Team'
    assert result.added == ['34600111222'] and result.refused == [('34600111333', 'privacy settings')]
    assert 'description' not in server.calls('POST', GROUPS_PATH)[0].json


@pytest.mark.parametrize('action, method, resource', [
    ('add', 'POST', 'participants'), ('remove', 'DELETE', 'participants'),
    ('promote', 'POST', 'admins'), ('demote', 'DELETE', 'admins')])
def test_wassenger_update_participants_paths(server, sleeps, action, method, resource):
    path = '%s/%s/%s' % (GROUPS_PATH, GROUP, resource)
    server.route(method, path, Reply(200, raw=b''))
    result = wass(server, sleeps).update_participants(GROUP, ['34600111222@c.us'], action)
    assert result == ParticipantsResult(done=['34600111222'], refused=[])
    assert server.calls(method, path)[0].json == [{'phone': '+34600111222'}]


@pytest.mark.parametrize('reply, done, refused', [
    ([{'phone': '+34600111222', 'success': True}, {'phone': '+34600111333', 'success': False,
                                                    'error': 'not allowed'}],
     ['34600111222'], [('34600111333', 'not allowed')]),
    ([{'wid': '34600111222@c.us', 'status': 'added'}],
     ['34600111222'], [('34600111333', 'not confirmed by the provider')]),
    ({'errors': [{'phone': '+34600111333', 'message': 'invalid number'}]},
     ['34600111222'], [('34600111333', 'invalid number')]),
    ({'success': False, 'message': 'group is read-only'},
     [], [('34600111222', 'group is read-only'), ('34600111333', 'group is read-only')]),
    ([], ['34600111222', '34600111333'], []),
])
def test_wassenger_update_participants_refusal_shapes(server, sleeps, reply, done, refused):
    server.route('POST', '%s/%s/participants' % (GROUPS_PATH, GROUP), reply)
    result = wass(server, sleeps).update_participants(GROUP, ['34600111222', '34600111333'], 'add')
    assert (result.done, result.refused) == (done, refused)


def test_wassenger_invite_code(server, sleeps):
    path = '%s/%s/invite' % (GROUPS_PATH, GROUP)
    server.route('GET', path, [Reply(200, {'inviteLink': 'https://chat.whatsapp.com/AbC'}),
                               Reply(200, {'code': 'NeW'})])
    server.route('DELETE', path, Reply(200, raw=b''))
    client = wass(server, sleeps)
    assert client.get_invite_code(GROUP) == InviteLink('AbC', 'https://chat.whatsapp.com/AbC')
    assert client.revoke_invite_code(GROUP).code == 'NeW'
    server.route('DELETE', path, {'inviteCode': 'Direct'})
    assert client.revoke_invite_code(GROUP).url == 'https://chat.whatsapp.com/Direct'
    server.route('GET', path, {'nothing': True})
    with pytest.raises(BadPayloadError):
        client.get_invite_code(GROUP)


def test_wassenger_check_numbers_one_request_each(server, sleeps):
    def reply(request):
        phone = request.json['phone']
        if phone.endswith('0'):
            return Reply(400, {'status': 400, 'message': 'Invalid phone number'})
        exists = phone.endswith('2')
        body = {'exists': exists}
        if exists:
            body['wid'] = phone[1:] + '@c.us'
        return Reply(200, body)
    server.route('POST', '/numbers/exists', reply)
    results = wass(server, sleeps).check_numbers(['34600111222', '+34600111223', '34600111220', 'abc',
                                                  '+34 600 111 222'])
    assert results == [NumberCheck('34600111222', '34600111222', True),
                       NumberCheck('+34600111223', None, False),
                       NumberCheck('34600111220', None, False),
                       NumberCheck('abc', None, False),
                       NumberCheck('+34 600 111 222', '34600111222', True)]
    assert [r.json['phone'] for r in server.calls('POST', '/numbers/exists')] == [
        '+34600111222', '+34600111223', '+34600111220']


def test_wassenger_check_numbers_auth_error_raises(server, sleeps):
    server.route('POST', '/numbers/exists', Reply(401, {'status': 401, 'message': 'Invalid API key'}))
    with pytest.raises(AuthenticationError):
        wass(server, sleeps).check_numbers(['34600111222'])
