"""Message parsers fed the shapes the providers publish.

Sources (facts only; see the README's provider tables):
* W2 = WHAPI OpenAPI 1.8.7, ``moham96/whapi-php-openapi`` ``openapi.yaml``: ``Message``,
  ``MessageAction``, ``MessageContentPoll`` (+ ``MessagePollResults``, ``PollResults``),
  ``MessageContentLocation``, ``MessageContentLiveLocation``, ``MessageContentContact`` /
  ``MessageContentContacts`` (``VCard``), ``MessageReaction``.
* S2 = Wassenger Swagger copy, ``logg926/wassenger-metrics`` ``specification1.json``:
  ``ioMessage`` (``wid``, ``chatWid``, ``kind``, ``flow`` in/out, ``author`` object,
  ``location{name,address,lat,lon}``, ``poll{name,…}``, ``vcards[]``).
* S6 = ``wassengerhq/whatsapp-chatgpt-bot`` ``bot.js``: ``poll.name`` + ``poll.options[].name``,
  ``contacts[]`` with ``formattedName``/``phones[].number``, ``location.name/address``.
"""
import json

import pytest

from conftest import TOKEN, Reply, whapi_list
from providers import (
    MessageDeletion, MessageEdit, PollVote, WhapiClient, action_events, parse_webhook,
    record_from_json, record_to_json,
)
from providers import wassenger, whapi

VCARD = ('BEGIN:VCARD\nVERSION:3.0\nN:Perez;Ana;;;\nFN:Ana Perez\n'
         'item1.TEL;waid=34600111222:+34 600 11 12 22\nitem1.X-ABLabel:Mobile\nEND:VCARD')
GROUP = '120363025343298878@g.us'


def whapi_item(message_id, type_, content, chat='34600111222@s.whatsapp.net', **extra):
    item = {'id': message_id, 'type': type_, 'chat_id': chat, 'from_me': False, 'timestamp': 1712995200,
            'from': '34600111222', 'from_name': 'Ana', 'status': 'delivered', type_: content}
    item.update(extra)
    return item


def wassenger_io(wid, kind, **extra):
    """An ``ioMessage`` as S2 names its fields."""
    item = {'wid': wid, 'kind': kind, 'flow': 'in', 'chatWid': '34600111222@c.us',
            'from': '34600111222@c.us', 'date': '2024-04-13T08:00:00.000Z', 'ack': 'read'}
    item.update(extra)
    return item


# -- WHAPI -------------------------------------------------------------------------------

def test_whapi_poll_reads_as_a_poll_with_its_options_and_voters():
    item = whapi_item('poll1', 'poll', {
        'title': 'Lunch?', 'options': ['Pizza', 'Salad'], 'vote_limit': 1, 'total': 1,
        'results': [{'id': 'o1', 'name': 'Pizza', 'count': 1, 'voters': ['34600111333']},
                    {'id': 'o2', 'name': 'Salad', 'count': 0, 'voters': []}]})
    message = whapi.parse_message(item)
    assert message.message_type == 'poll'
    assert message.body == u'\U0001F4CA Lunch?\n\u2022 Pizza\n\u2022 Salad'
    assert [(o.name, o.voters) for o in message.poll_options] == [('Pizza', ['34600111333']), ('Salad', [])]
    assert record_from_json(record_to_json(message)) == message


@pytest.mark.parametrize('action, expected', [
    ({'target': 'm1', 'type': 'edit', 'edited_type': 'text', 'edited_content': {'body': 'fixed'}},
     MessageEdit('m1', 'fixed', chat_id='34600111222', sender_id='34600111222')),
    ({'target': 'm1', 'type': 'delete'}, MessageDeletion('m1', '34600111222', sender_id='34600111222')),
    ({'target': 'poll1', 'type': 'vote', 'votes': ['Salad']},
     PollVote('poll1', '34600111222', ['Salad'], chat_id='34600111222')),
])
def test_whapi_action_messages_are_events_on_their_target(action, expected):
    message = whapi.parse_message(whapi_item('act1', 'action', action))
    assert message.action in ('edit', 'delete', 'vote') and message.quoted_id == action['target']
    events = action_events(message)
    for event in events:
        if hasattr(event, 'timestamp'):
            event.timestamp = None
    assert events == [expected]
    batch = parse_webhook('whapi', json.dumps({'messages': [whapi_item('act1', 'action', action)],
                                               'event': {'type': 'messages', 'event': 'post'}}))
    assert batch.messages == []  # never an "unknown" message
    assert len(batch.edits + batch.deletions + batch.votes) == 1


def test_whapi_ephemeral_action_stores_nothing_and_reaction_stays_a_reaction():
    setting = whapi.parse_message(whapi_item('act2', 'action', {'target': '34600111222@s.whatsapp.net',
                                                               'type': 'ephemeral', 'ephemeral': 86400}))
    assert setting.action == 'ephemeral' and action_events(setting) == []
    batch = parse_webhook('whapi', json.dumps({'messages': [whapi_item('act2', 'action', {
        'type': 'ephemeral', 'ephemeral': 86400})]}))
    assert batch.is_empty()
    reaction = whapi.parse_message(whapi_item('act3', 'action', {'target': 'm1', 'type': 'reaction',
                                                                'emoji': u'\U0001F44D'}))
    assert (reaction.message_type, reaction.body, reaction.quoted_id, reaction.action) == (
        'reaction', u'\U0001F44D', 'm1', None)


def test_whapi_location_live_location_and_contact_cards_are_readable():
    location = whapi.parse_message(whapi_item('l1', 'location', {
        'latitude': 41.3851, 'longitude': 2.1734, 'name': 'Cafe Sol', 'address': 'Carrer Major 1'}))
    assert location.body == u'\U0001F4CD Cafe Sol, Carrer Major 1 (41.3851, 2.1734)'
    live = whapi.parse_message(whapi_item('l2', 'live_location', {
        'latitude': 41.5, 'longitude': 2.25, 'caption': 'on my way'}))
    assert live.body == u'\U0001F4CD Live location (41.5, 2.25)\non my way'
    card = whapi.parse_message(whapi_item('c1', 'contact', {'name': 'Ana Perez', 'vcard': VCARD}))
    assert card.body == u'\U0001F464 Ana Perez: +34 600 11 12 22'
    cards = whapi.parse_message(whapi_item('c2', 'contact_list', {'list': [
        {'name': 'Ana Perez', 'vcard': VCARD}, {'vcard': VCARD.replace('Ana Perez', 'Bea')}]}))
    assert cards.message_type == 'contact_list'
    assert cards.body == u'\U0001F464 Ana Perez: +34 600 11 12 22\n\U0001F464 Bea: +34 600 11 12 22'


def test_whapi_listed_reactions_become_reactions_of_their_message(server, sleeps):
    target = whapi_item('m1', 'text', {'body': 'hello'}, reactions=[
        {'id': 'r-own-id', 'emoji': u'\u2764\ufe0f', 't': 1712995300, 'count': 1},
        {'emoji': u'\U0001F44D', 'count': 2, 'unread': False}])
    server.route('GET', '/messages/list', whapi_list('messages', [target]))
    client = WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append)
    items = [item for page in client.iter_messages(limit=10) for item in page.items]
    assert [(m.message_id, m.message_type, m.body, m.quoted_id, m.partial) for m in items] == [
        ('m1', 'text', 'hello', None, False),
        ('r-own-id', 'reaction', u'\u2764\ufe0f', 'm1', True),
        (u'm1~\U0001F44D', 'reaction', u'\U0001F44D', 'm1', True),
    ]
    assert items[1].chat_id == '34600111222' and items[1].timestamp.year == 2024


# -- Wassenger ---------------------------------------------------------------------------

@pytest.mark.parametrize('author', [
    {'wid': '34600111333@c.us', 'displayName': 'Bea'},   # S2: an object (fields undocumented)
    {'id': '34600111333@c.us'},
    {'phone': '+34600111333'},
    '34600111333@c.us',                                   # webhook examples: a string
])
def test_wassenger_group_message_author_object_gives_the_sender(author):
    item = wassenger_io('3EB0A1', 'text', chatWid=GROUP, body='hi all', author=author, to=GROUP)
    del item['from']
    message = wassenger.parse_message(item)
    assert (message.chat_id, message.chat_type, message.sender_id) == (GROUP, 'group', '34600111333')
    assert message.message_type == 'text' and message.from_me is False and message.status == 'read'


def test_wassenger_io_message_names_and_webhook_names_read_alike():
    io = wassenger.parse_message(wassenger_io('3EB0A2', 'text', body='hello', flow='out',
                                              to='34600111222@c.us', **{'from': '34999999999@c.us'}))
    hook = wassenger.parse_message({'id': '3EB0A2', 'type': 'text', 'flow': 'outbound', 'body': 'hello',
                                    'chat': {'id': '34600111222@c.us', 'type': 'chat'}, 'ack': 'read',
                                    'date': '2024-04-13T08:00:00.000Z', 'from': '34999999999@c.us'})
    assert io == hook
    assert (io.message_id, io.chat_id, io.from_me, io.message_type) == ('3EB0A2', '34600111222', True, 'text')


def test_wassenger_poll_location_and_contact_cards():
    poll = wassenger.parse_message(wassenger_io('3EB0A3', 'poll', poll={
        'name': 'Lunch?', 'options': [{'name': 'Pizza'}, {'name': 'Salad'}], 'count': 0, 'max': 1}))
    assert (poll.message_type, poll.body) == ('poll', u'\U0001F4CA Lunch?\n\u2022 Pizza\n\u2022 Salad')
    assert [option.name for option in poll.poll_options] == ['Pizza', 'Salad']
    bare = wassenger.parse_message(wassenger_io('3EB0A4', 'poll', poll={'name': 'Only a name', 'count': 3}))
    assert bare.body == u'\U0001F4CA Only a name'
    place = wassenger.parse_message(wassenger_io('3EB0A5', 'location', location={
        'name': 'Cafe Sol', 'address': 'Carrer Major 1', 'lat': 41.3851, 'lon': 2.1734}))
    assert place.body == u'\U0001F4CD Cafe Sol, Carrer Major 1 (41.3851, 2.1734)'
    cards = wassenger.parse_message(wassenger_io('3EB0A6', 'contacts', contacts=[
        {'formattedName': 'Ana Perez', 'phones': [{'number': '+34 600 11 12 22', 'waid': '34600111222'}]},
        {'firstName': 'Bea', 'phones': [{'waid': '34600111333'}]}]))
    assert cards.message_type == 'contact_list'
    assert cards.body == u'\U0001F464 Ana Perez: +34 600 11 12 22\n\U0001F464 Bea: +34600111333'
    vcard = wassenger.parse_message(wassenger_io('3EB0A7', 'vcard', vcards=[
        {'formattedName': 'Ana Perez', 'vcard': VCARD}]))
    assert (vcard.message_type, vcard.body) == ('contact', u'\U0001F464 Ana Perez: +34 600 11 12 22')
