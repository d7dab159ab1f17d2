"""Hidden numbers (``<digits>@lid``) in group operations and contact look-ups.

WHAPI takes participants and ContactIDs as digits only (OpenAPI 1.8.7 ``ContactID``:
``^([\\d]{7,15})?$``): the stateful fake answers 400 to anything else, as WHAPI does, so
a request carrying a hidden number fails here the way it fails against the real API.
"""
import os
import sys

import pytest

from conftest import TOKEN, Reply
from providers import Contact, Member, RequestRejectedError, WassengerClient, WhapiClient
from providers.wassenger import parse_contact as wassenger_contact, parse_participant as wassenger_participant
from providers.whapi import read_lid_map

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from fake_provider_server import FakeAccount, FakeProviderServer  # noqa: E402

HIDDEN = '123456789012345@lid'
BEHIND = '34699000111'          # the phone number behind HIDDEN, when the provider knows it
STRANGER = '987654321098765@lid'  # a hidden number nobody can resolve
DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'


@pytest.fixture
def whapi_remote():
    server = FakeProviderServer().start()
    try:
        remote = server.add(FakeAccount('whapi', 'whapi-token', contacts=20, groups=1, members=4, messages=5))
        remote.hide(BEHIND, HIDDEN)
        yield remote
    finally:
        server.stop()


def whapi_client(remote):
    return WhapiClient(remote.token, base_url=remote.base_url, sleep=lambda seconds: None)


def numbered(remote, *indexes):
    return [remote.contact_key(index) for index in indexes]


# -- the fake keeps to the published pattern ---------------------------------------------------

def test_fake_whapi_refuses_a_hidden_number_participant_like_whapi(whapi_remote):
    """The request today's code sent: a 400 in WHAPI's error shape, for the whole group."""
    import requests
    reply = requests.post(whapi_remote.base_url + '/groups', headers={'Authorization': 'Bearer whapi-token'},
                          json={'subject': 'Team', 'participants': numbered(whapi_remote, 0, 1) + [HIDDEN]},
                          timeout=5)
    assert reply.status_code == 400
    assert reply.json()['error']['code'] == 400 and 'participants' in reply.json()['error']['details']


# -- WHAPI: resolved first, left out and reported otherwise ------------------------------------

def test_whapi_group_with_a_resolvable_hidden_number_gets_all_three(whapi_remote):
    people = numbered(whapi_remote, 0, 1) + [HIDDEN]
    result = whapi_client(whapi_remote).create_group('Team', people)
    assert result.added == numbered(whapi_remote, 0, 1) + [BEHIND]
    assert result.refused == [] and result.resolved == [(HIDDEN, BEHIND)]
    made = whapi_remote.group_state[whapi_remote.created_groups[0]]
    assert {person for person, _rank in made['members']} == {whapi_remote.own, BEHIND} | set(people[:2])


def test_whapi_group_with_an_unresolvable_hidden_number_made_with_the_others(whapi_remote):
    people = numbered(whapi_remote, 0, 1) + [STRANGER]
    result = whapi_client(whapi_remote).create_group('Team', people)
    assert result.group.group_id.endswith('@g.us')
    assert result.added == numbered(whapi_remote, 0, 1)
    assert [key for key, _reason in result.refused] == [STRANGER]
    assert result.refused[0][1].startswith('hidden number: WhatsApp does not share')


def test_whapi_hidden_number_resolved_from_the_lids_map_of_known_contacts(whapi_remote):
    """Without GET /contacts/ids, GET /contacts/lids over the caller's contacts finds it."""
    whapi_remote._hidden_state()['lid_lookup'] = False
    client = whapi_client(whapi_remote)
    assert client.resolve_hidden_numbers([HIDDEN]) == {}
    candidates = numbered(whapi_remote, *range(10)) + ['+' + BEHIND, 'not a phone', STRANGER]
    assert client.resolve_hidden_numbers([HIDDEN, STRANGER], candidates) == {HIDDEN: BEHIND}
    lid_of_generated = whapi_remote.hidden_id(whapi_remote.contact_key(2))
    assert client.resolve_hidden_numbers([lid_of_generated], candidates) == {
        lid_of_generated: whapi_remote.contact_key(2)}


def test_whapi_all_hidden_and_unresolvable_refused_before_any_group_request(whapi_remote):
    whapi_remote.reset_counters()
    with pytest.raises(RequestRejectedError) as caught:
        whapi_client(whapi_remote).create_group('Team', [STRANGER, '12345'])
    assert 'hidden number' in str(caught.value) and '12345' in str(caught.value)
    assert '/groups' not in whapi_remote.by_endpoint


@pytest.mark.parametrize('action', ['add', 'remove', 'promote', 'demote'])
def test_whapi_participant_changes_send_digits_only(whapi_remote, action):
    client = whapi_client(whapi_remote)
    group = client.create_group('Team', numbered(whapi_remote, 4)).group.group_id
    people = numbered(whapi_remote, 0, 1, 3) + [HIDDEN, STRANGER]
    if action != 'add':
        client.update_participants(group, numbered(whapi_remote, 0, 1, 3) + [BEHIND], 'add')
    result = client.update_participants(group, people, action)
    assert result.done == numbered(whapi_remote, 0, 1, 3) + [BEHIND]
    assert result.resolved == [(HIDDEN, BEHIND)]
    assert [key for key, _reason in result.refused] == [STRANGER]


def test_whapi_unprocessed_participants_of_the_reply_are_refused(whapi_remote):
    whapi_remote._hidden_state()['refused'][whapi_remote.contact_key(1)] = 'privacy'
    result = whapi_client(whapi_remote).create_group('Team', numbered(whapi_remote, 0, 1))
    assert result.added == numbered(whapi_remote, 0)
    # read from the reply's own list, not guessed from who is missing
    assert result.refused == [(whapi_remote.contact_key(1), 'refused by the provider')]


@pytest.mark.parametrize('reply, expected', [
    ({'34600111222': {'lid': '1234567@lid'}}, [('34600111222', '1234567@lid')]),          # published
    ({'34600111222@s.whatsapp.net': {'lid': '1234567'}}, [('34600111222', '1234567@lid')]),
    ({'34600111222': '1234567@lid'}, [('34600111222', '1234567@lid')]),
    ([{'id': '34600111222', 'lid': '1234567@lid'}], [('34600111222', '1234567@lid')]),
    ({'34600111222': {}, 'junk': {'lid': '1@lid'}, '34600111333': {'lid': 'abc'}}, []),
])
def test_lids_map_readings(reply, expected):
    assert read_lid_map(reply) == expected


def test_whapi_ids_reply_readings(server, sleeps):
    client = WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append)
    server.route('GET', '/contacts/ids/1111111@lid', {'id': '34600111222@s.whatsapp.net'})
    server.route('GET', '/contacts/ids/2222222@lid', {'contact_id': '34600111333'})
    server.route('GET', '/contacts/ids/3333333@lid', Reply(200, '34600111444'))
    server.route('GET', '/contacts/ids/4444444@lid', {'id': '4444444@lid'})
    server.route('GET', '/contacts/ids/5555555@lid', Reply(400, {'error': {'code': 400, 'message': 'bad'}}))
    # the hidden id's own digits as a bare id: not a phone number (merging on it could not be undone)
    server.route('GET', '/contacts/ids/215134817280082@lid', {'id': '215134817280082'})
    assert client.resolve_hidden_numbers(['1111111@lid', '2222222@lid', '3333333@lid', '4444444@lid',
                                          '5555555@lid', '215134817280082@lid', '34600111555']) == {
        '1111111@lid': '34600111222', '2222222@lid': '34600111333', '3333333@lid': '34600111444'}


def test_whapi_short_number_left_out_not_sent(server, sleeps):
    server.route('POST', '/groups', {'id': '120363025343298878@g.us', 'type': 'group', 'name': 'T',
                                     'participants': [{'id': '34600111222', 'rank': 'member'}]})
    result = WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append).create_group(
        'T', ['34600111222', '123456'])
    assert server.calls('POST', '/groups')[0].json['participants'] == ['34600111222']
    assert result.refused[0][0] == '123456' and '7 to 15 digits' in result.refused[0][1]


# -- Wassenger: ``lid`` beside the phone id -------------------------------------------------------

def test_wassenger_participant_and_contact_carry_their_hidden_id():
    member = wassenger_participant({'wid': '34600111222@c.us', 'lid': HIDDEN, 'isAdmin': True})
    assert (member.contact_id, member.lid, member.role) == ('34600111222', HIDDEN, 'admin')
    assert wassenger_participant({'wid': '34600111222@c.us', 'lid': '123456789012345'}).lid == HIDDEN
    hidden_only = wassenger_participant({'wid': HIDDEN})
    assert (hidden_only.contact_id, hidden_only.lid) == (HIDDEN, None)
    known = wassenger_participant({'wid': HIDDEN, 'phone': '+34 699 000 111'})
    assert (known.contact_id, known.lid, known.phone) == (BEHIND, HIDDEN, '+' + BEHIND)
    contact = wassenger_contact({'wid': '34600111222@c.us', 'lid': HIDDEN, 'type': 'user'})
    assert isinstance(contact, Contact) and contact.lid == HIDDEN
    assert isinstance(member, Member)


def test_wassenger_group_members_listed_with_their_hidden_ids():
    server = FakeProviderServer().start()
    try:
        remote = server.add(FakeAccount('wassenger', 'wass-token', contacts=40, groups=2, members=8,
                                        messages=5, device_id=DEVICE))
        client = WassengerClient(remote.token, base_url=remote.base_url, device_id=DEVICE,
                                 sleep=lambda seconds: None)
        group = client.get_group(remote.group_key(1))
    finally:
        server.stop()
    with_lid = [m for m in group.members if m.lid]
    assert with_lid and all(m.lid == remote.hidden_id(m.contact_id) for m in group.members)


def test_wassenger_hidden_number_refused_in_plain_words_the_others_sent(server, sleeps):
    path = '/devices/%s/groups' % DEVICE
    server.route('POST', path, Reply(201, {'wid': '120363025343298878@g.us', 'name': 'Team'}))
    result = WassengerClient(TOKEN, base_url=server.base_url, device_id=DEVICE, sleep=sleeps.append).create_group(
        'Team', ['34600111222', HIDDEN])
    assert result.added == ['34600111222']
    assert result.refused == [(HIDDEN, result.refused[0][1])]
    assert result.refused[0][1].startswith('hidden number: WhatsApp does not share')
    assert server.calls('POST', path)[0].json['participants'] == [{'phone': '+34600111222', 'admin': False}]
