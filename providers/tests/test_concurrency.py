"""A few requests of one account in flight at once: same results, same order."""
import itertools
import random
import threading
import time

import pytest

from conftest import TOKEN, Reply, wassenger_pages, whapi_list
from providers import Failed, NotFoundError, WassengerClient, WhapiClient, fetch_ordered
from providers.http import MAX_CONCURRENCY

DEVICE = '5f9a1b2c3d4e5f6a7b8c9d0e'


class Tracker(object):
    """A fetch that sleeps a random moment and counts how many run at once."""

    def __init__(self, fail=None, missing=()):
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = []
        self.fail = fail
        self.missing = set(missing)

    def __call__(self, key):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls.append(key)
        try:
            time.sleep(random.uniform(0, 0.01))
            if key == self.fail:
                raise RuntimeError('boom at %s' % key)
            if key in self.missing:
                raise NotFoundError('gone', 404)
            return key * 10
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize('window', [1, 2, 4])
def test_results_come_in_key_order_with_at_most_window_in_flight(window):
    fetch = Tracker()
    assert list(fetch_ordered(fetch, range(40), window)) == [(key, key * 10) for key in range(40)]
    assert fetch.most <= window
    if window > 1:
        assert fetch.most > 1, 'requests overlapped'


def test_caught_errors_come_back_per_key_and_the_others_go_on():
    results = dict(fetch_ordered(Tracker(missing={3, 7}), range(10), 4, catch=(NotFoundError,)))
    assert isinstance(results[3], Failed) and isinstance(results[3].error, NotFoundError)
    assert results[8] == 80 and len(results) == 10


def test_other_errors_are_raised_at_their_turn_after_the_earlier_results():
    seen = []
    with pytest.raises(RuntimeError, match='boom at 5'):
        for key, _value in fetch_ordered(Tracker(fail=5), range(10), 4):
            seen.append(key)
    assert seen == [0, 1, 2, 3, 4]


def test_endless_keys_stop_with_the_consumer():
    fetch = Tracker()
    for key, _value in fetch_ordered(fetch, itertools.count(), 3):
        if key == 4:
            break
    assert len(fetch.calls) <= 5 + 3, 'no more than the window is asked for ahead'


def test_concurrency_is_bounded():
    assert WhapiClient(TOKEN, concurrency=1000).concurrency == MAX_CONCURRENCY
    assert WhapiClient(TOKEN, concurrency=0).concurrency == 1


def whapi(server, sleeps, **settings):
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append, **settings)


def wassenger(server, sleeps, **settings):
    return WassengerClient(TOKEN, base_url=server.base_url, device_id=DEVICE, sleep=sleeps.append, **settings)


def items_of(pages):
    return [item.contact_id for page in pages for item in page.items]


def test_whapi_pages_ahead_give_what_one_by_one_gives(server, sleeps):
    contacts = [{'id': str(34600000000 + n)} for n in range(1234)]
    server.route('GET', '/contacts', whapi_list('contacts', contacts))
    one_by_one = items_of(whapi(server, sleeps, page_size=100).iter_contacts())
    server.requests.clear()
    ahead = items_of(whapi(server, sleeps, page_size=100, concurrency=4).iter_contacts())
    assert ahead == one_by_one and len(ahead) == 1234
    assert sorted(int(r.query['offset']) for r in server.requests) == list(range(0, 1234, 100))


def test_whapi_pages_ahead_follow_a_server_that_caps_its_pages(server, sleeps):
    contacts = [{'id': str(34600000000 + n)} for n in range(25)]

    def capped(request):
        offset = int(request.query['offset'])
        return {'contacts': contacts[offset:offset + 10], 'total': 25, 'offset': offset}
    server.route('GET', '/contacts', capped)
    assert len(items_of(whapi(server, sleeps, page_size=100, concurrency=4).iter_contacts())) == 25


def test_whapi_a_429_ahead_is_waited_out_and_nothing_is_lost(server, sleeps):
    contacts = [{'id': str(34600000000 + n)} for n in range(500)]
    listing = whapi_list('contacts', contacts)
    limited = {'done': False}

    def handler(request):
        if request.query['offset'] == '300' and not limited['done']:
            limited['done'] = True
            return Reply(429, {'error': {'message': 'slow down'}}, headers={'Retry-After': '2'})
        return listing(request)
    server.route('GET', '/contacts', handler)
    items = items_of(whapi(server, sleeps, page_size=100, concurrency=4).iter_contacts())
    assert len(items) == 500 and len(set(items)) == 500
    assert 2.0 in sleeps, 'the Retry-After was honoured'


def test_wassenger_pages_ahead_give_what_one_by_one_gives(server, sleeps):
    contacts = [{'wid': '%d@c.us' % (34600000000 + n)} for n in range(1234)]
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages(contacts))
    one_by_one = items_of(wassenger(server, sleeps, page_size=100).iter_contacts())
    sequential_requests = len(server.requests)
    server.requests.clear()
    ahead = items_of(wassenger(server, sleeps, page_size=100, concurrency=4).iter_contacts())
    assert ahead == one_by_one and len(ahead) == 1234
    assert sequential_requests <= len(server.requests) <= sequential_requests + 3, 'at most the window past the end'


def test_wassenger_a_single_page_costs_one_request_more_not_the_window(server, sleeps):
    """A short page is not the end (a server may cut the size silently): the empty
    page 1 is, asked for alone rather than with the whole window."""
    server.route('GET', '/chat/%s/contacts' % DEVICE, wassenger_pages([{'wid': '34600000001@c.us'}]))
    assert len(items_of(wassenger(server, sleeps, page_size=100, concurrency=4).iter_contacts())) == 1
    assert [r.query['page'] for r in server.requests] == ['0', '1']


def test_groups_fetched_a_few_at_a_time_in_order(server, sleeps):
    def group(request):
        key = request.path.rsplit('/', 1)[1]
        if key.startswith('120363000000000003'):
            return Reply(404, {'error': {'message': 'no such group'}})
        return Reply(200, {'id': key, 'name': key[-4:], 'participants': [{'id': '34600000001', 'rank': 'member'}]},
                     delay=random.uniform(0, 0.02))
    server.route('GET', '/groups/.*', group)
    ids = ['12036300000000000%d@g.us' % n for n in range(8)]
    results = list(whapi(server, sleeps, concurrency=4).get_groups(ids))
    assert [key for key, _group in results] == ids
    assert isinstance(results[3][1], Failed)
    assert [group.group_id for key, group in results if not isinstance(group, Failed)] == ids[:3] + ids[4:]
