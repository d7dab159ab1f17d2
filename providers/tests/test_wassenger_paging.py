"""Wassenger listings never take a short page for the end.

Wassenger answers bare arrays with no total, and a server may cut ``size`` without
a word (its own tool reference caps message listings at 50). Every listing must
return everything through a server capping at 50, at 20, and one honouring 500;
the end is an empty page (or, with ``after``, a page wholly older than it).
"""
import logging
from datetime import datetime, timedelta, timezone

import pytest

from conftest import TOKEN, Reply, wassenger_messages, wassenger_pages
from providers import TransientError, WassengerClient

DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
GID = '120363000000000001@g.us'
CAPS = [50, 20, 500]
# what the addon asks for (System Parameter page_size 500), the client's own default,
# and overlapped (4 requests at once, as the sync runs) or one after the other
SETTINGS = [dict(page_size=500, concurrency=4), dict(page_size=None, concurrency=1)]


def client_for(server, sleeps, **settings):
    return WassengerClient(TOKEN, base_url=server.base_url, device_id=DEVICE,
                           sleep=sleeps.append, **settings)


def flat(pages):
    items = []
    for page in pages:
        items.extend(page.items)
    return items


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.000Z')


def person(n):
    return '%d@c.us' % (34600000000 + n)


def message(n):
    moment = BASE + timedelta(minutes=n)
    return {'id': 'm%04d' % n, 'type': 'text', 'flow': 'inbound', 'ack': 'read', 'date': iso(moment),
            'from': person(n % 7), 'chat': {'id': person(n % 7)}, 'body': 'hello %d' % n}


def sizes(server, path):
    return [int(r.query['size']) for r in server.calls('GET', path)]


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
def test_contacts_chats_groups_whole_through_a_capping_server(server, sleeps, cap, settings):
    contacts = [{'wid': person(n), 'type': 'user'} for n in range(537)]
    chats = [{'wid': person(n), 'kind': 'chat'} for n in range(211)]
    groups = [{'wid': '120363%012d@g.us' % n, 'kind': 'group', 'name': 'G%d' % n} for n in range(123)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages(contacts, cap))
    server.route('GET', '/chat/%s/chats' % DEVICE, wassenger_pages(chats, cap))
    server.route('GET', '/devices/%s/groups' % DEVICE, wassenger_pages(groups, cap))
    client = client_for(server, sleeps, **settings)
    assert [c.contact_id for c in flat(client.iter_contacts())] == [person(n)[:-5] for n in range(537)]
    assert [c.chat_id for c in flat(client.iter_chats())] == [person(n)[:-5] for n in range(211)]
    assert [g.name for g in flat(client.iter_groups())] == ['G%d' % n for n in range(123)]
    # chats: never more than the published 100 a page
    assert max(sizes(server, '/chat/%s/chats' % DEVICE)) <= 100
    # every page from 0 up to the first empty one (asked for a few at once, so in any order)
    pages = sorted(int(r.query['page']) for r in server.calls('GET', '/chat/%s/contacts' % DEVICE))
    last = 537 // min(cap, client.page_size) + 1
    assert pages[:last + 1] == list(range(last + 1))


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
def test_participants_whole_through_a_capping_server(server, sleeps, cap, settings):
    members = [{'wid': person(n), 'isAdmin': n == 1, 'isSuperAdmin': n == 0} for n in range(173)]
    server.route('GET', '/chat/%s/chats/%s/participants' % (DEVICE, GID), wassenger_pages(members, cap))
    server.route('GET', '/devices/%s/groups/%s' % (DEVICE, GID), {'wid': GID, 'name': 'Team'})
    group = client_for(server, sleeps, **settings).get_group(GID)
    assert [m.contact_id for m in group.members] == [person(n)[:-5] for n in range(173)]
    assert [m.role for m in group.members[:3]] == ['superadmin', 'admin', 'member']


def test_participants_as_one_whole_array(server, sleeps, caplog):
    """The other reading: the endpoint ignores page/size and answers every participant."""
    members = [{'wid': person(n)} for n in range(73)]
    server.route('GET', '/chat/%s/chats/%s/participants' % (DEVICE, GID), members)
    server.route('GET', '/devices/%s/groups/%s' % (DEVICE, GID), {'wid': GID, 'name': 'Team'})
    with caplog.at_level(logging.DEBUG):
        group = client_for(server, sleeps, page_size=500, concurrency=4).get_group(GID)
    assert len(group.members) == 73
    # page 1 repeats page 0: the end, and no more requests than that
    assert len(server.calls('GET', '/chat/.*/participants')) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_groups_as_one_whole_array(server, sleeps, caplog):
    groups = [{'wid': '120363%012d@g.us' % n, 'kind': 'group'} for n in range(30)]
    server.route('GET', '/devices/%s/groups' % DEVICE, groups)
    with caplog.at_level(logging.DEBUG):
        got = flat(client_for(server, sleeps, page_size=500, concurrency=4).iter_groups())
    assert len(got) == 30 and len(server.calls('GET', '/devices/.*/groups')) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', [50, 20, 200])
def test_webhook_found_past_a_capped_page(server, sleeps, cap, settings):
    hooks = [{'id': 'w%d' % n, 'url': 'https://x.example/%d' % n, 'device': DEVICE} for n in range(230)]
    hooks.append({'id': 'mine', 'url': 'https://odoo.example/h', 'device': DEVICE})
    server.route('GET', '/webhooks', wassenger_pages(hooks, cap))
    server.route('PATCH', '/webhooks/mine', {'id': 'mine', 'url': 'https://odoo.example/h'})
    result = client_for(server, sleeps, **settings).register_webhook('https://odoo.example/h', None)
    assert result.webhook_id == 'mine' and server.calls('POST', '/webhooks') == []
    # the published maximum is 200 (Swagger GET /webhooks), the first page is 0
    assert max(sizes(server, '/webhooks')) <= 200
    assert min(int(r.query['page']) for r in server.calls('GET', '/webhooks')) == 0


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
def test_whole_history_through_a_capping_server(server, sleeps, cap, settings):
    items = [message(n) for n in range(631)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items, cap))
    got = flat(client_for(server, sleeps, **settings).iter_messages())
    assert [m.message_id for m in got] == ['m%04d' % n for n in reversed(range(631))]
    asked = sizes(server, '/chat/%s/messages' % DEVICE)
    assert asked and max(asked) <= 50  # never more than Wassenger's published maximum


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
def test_since_through_a_capping_server(server, sleeps, cap, settings):
    """The hourly sync after 120 new messages gets all 120."""
    items = [message(n) for n in range(500)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items, cap))
    since = BASE + timedelta(minutes=380)
    got = flat(client_for(server, sleeps, **settings).iter_messages(since=since))
    assert sorted(m.message_id for m in got) == ['m%04d' % n for n in range(380, 500)]
    assert max(sizes(server, '/chat/%s/messages' % DEVICE)) <= 50


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
def test_since_stops_at_a_page_wholly_older_when_after_is_ignored(server, sleeps, cap, settings):
    items = [message(n) for n in range(900)]
    ordered = sorted(items, key=lambda m: m['date'], reverse=True)
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_pages(ordered, cap))
    since = BASE + timedelta(minutes=830)
    got = flat(client_for(server, sleeps, **settings).iter_messages(since=since))
    assert sorted(m.message_id for m in got) == ['m%04d' % n for n in range(830, 900)]
    # not the whole history: it stopped at the first page older than ``since``
    # (plus at most the pages already asked for ahead of it)
    per_page = min(cap, 50)
    assert len(server.requests) <= 70 // per_page + 2 + settings['concurrency']


@pytest.mark.parametrize('settings', SETTINGS)
@pytest.mark.parametrize('cap', CAPS)
@pytest.mark.parametrize('limit', [50, 200])
def test_most_recent_through_a_capping_server(server, sleeps, cap, settings, limit):
    items = [message(n) for n in range(400)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items, cap))
    got = flat(client_for(server, sleeps, **settings).iter_messages(limit=limit))
    assert [m.message_id for m in got] == ['m%04d' % n for n in reversed(range(400 - limit, 400))]
    assert max(sizes(server, '/chat/%s/messages' % DEVICE)) <= 50


def test_short_pages_are_merged_into_batches_of_the_page_size(server, sleeps):
    """20 a page from the server; the caller still gets batches of its page size,
    so a sync stores (and commits) as many times as with a generous server."""
    items = [message(n) for n in range(450)]
    server.route('GET', '/chat/%s/messages' % DEVICE, wassenger_messages(items, 20))
    pages = list(client_for(server, sleeps, page_size=200, concurrency=4).iter_messages())
    assert [len(page.items) for page in pages] == [200, 200, 50]


def test_an_empty_first_page_is_the_end(server, sleeps):
    server.route('GET', '/chat/%s/contacts' % DEVICE, [])
    assert flat(client_for(server, sleeps, concurrency=4).iter_contacts()) == []
    assert len(server.requests) == 1


def test_a_short_first_page_asks_one_more_before_overlapping(server, sleeps):
    """A listing that fits in one page costs one extra request, not ``concurrency``."""
    contacts = [{'wid': person(n)} for n in range(30)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages(contacts))
    got = flat(client_for(server, sleeps, page_size=500, concurrency=4).iter_contacts())
    assert len(got) == 30
    assert [int(r.query['page']) for r in server.requests] == [0, 1]


def test_pages_read_before_a_failure_are_handed_over_first(server, sleeps):
    """A batch holds several small pages: when a later page fails, the ones read
    before it still reach the caller (to be stored), then the error is raised."""
    items = [message(n) for n in range(400)]
    listing = wassenger_messages(items, 50)

    def handler(request):
        if request.query['page'] == '3':
            return Reply(500, {'status': 500, 'message': 'down'})
        return listing(request)
    server.route('GET', '/chat/%s/messages' % DEVICE, handler)
    got = []
    with pytest.raises(TransientError):
        for page in client_for(server, sleeps, page_size=500, concurrency=4, max_retries=0).iter_messages():
            got.extend(page.items)
    assert [m.message_id for m in got] == ['m%04d' % n for n in reversed(range(250, 400))]
