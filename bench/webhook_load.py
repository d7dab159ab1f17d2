"""Client side of bench/webhook_load: signed WHAPI webhook calls from several threads."""
import argparse
import collections
import json
import queue
import random
import threading
import time

import requests

HEADER = 'X-Odoo-Webhook-Secret'  # providers.WHAPI_SECRET_HEADER, without importing the addon


def calls(count):
    """Per message: the message twice (a provider retry), then 'delivered' and 'read'."""
    for number in range(count):
        message_id = 'load-%05d' % number
        message = {'id': message_id, 'type': 'text', 'chat_id': '346%08d@s.whatsapp.net' % (number % 50),
                   'from': '34600000000', 'from_me': True, 'timestamp': 1767225600 + number,
                   'text': {'body': 'Message %d' % number}, 'status': 'sent'}
        body = {'event': {'type': 'messages', 'event': 'post'}, 'channel_id': 'LOAD', 'messages': [message]}
        yield json.dumps(body)
        yield json.dumps(body)
        for status in ('delivered', 'read'):
            yield json.dumps({'event': {'type': 'statuses', 'event': 'post'}, 'channel_id': 'LOAD',
                              'statuses': [{'id': message_id, 'status': status, 'timestamp': str(1767225700 + number)}]})


def latency(options):
    """One new customer message at a time, each in its own chat; the webhook answers once the
    message is stored and posted in its Discuss channel (same transaction), so the round trip
    is the time a message takes to reach its channel."""
    session = requests.Session()
    headers = {'Content-Type': 'application/json', HEADER: options.secret}
    now = int(time.time())
    times = []
    for number in range(options.latency):
        message = {'id': 'discuss-%05d' % number, 'type': 'text', 'chat_id': '347%08d@s.whatsapp.net' % (number % 25),
                   'from': '347%08d' % (number % 25), 'from_name': 'Customer %d' % (number % 25), 'from_me': False,
                   'timestamp': now + number, 'text': {'body': 'Where is my order %d?' % number}, 'status': 'delivered'}
        body = json.dumps({'event': {'type': 'messages', 'event': 'post'}, 'channel_id': 'LOAD', 'messages': [message]})
        started = time.monotonic()
        code = session.post(options.url, data=body, headers=headers, timeout=60).status_code
        times.append(time.monotonic() - started)
        if code != 200:
            print('HTTP %s for message %d' % (code, number))
            return 1
    times.sort()
    print('webhook message to its Discuss channel: %d messages (25 chats, a channel created for each first one), '
          'median %.0f ms, p95 %.0f ms, max %.0f ms (target < 1000 ms)' % (
              len(times), 1000 * times[len(times) // 2], 1000 * times[int(len(times) * 0.95) - 1], 1000 * times[-1]))
    return 0 if times[-1] < 1.0 else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', required=True)
    parser.add_argument('--secret', required=True)
    parser.add_argument('--messages', type=int, default=1500)
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--order', choices=('random', 'ordered'), default='random')
    parser.add_argument('--latency', type=int, default=0, help='measure N messages to Discuss, one at a time')
    options = parser.parse_args()
    if options.latency:
        return latency(options)
    bodies = list(calls(options.messages))
    if options.order == 'random':
        random.Random(42).shuffle(bodies)
    work = queue.Queue()
    for body in bodies:
        work.put(body)
    statuses = collections.Counter()
    lock = threading.Lock()

    def client():
        session = requests.Session()
        headers = {'Content-Type': 'application/json', HEADER: options.secret}
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            try:
                code = session.post(options.url, data=body, headers=headers, timeout=120).status_code
            except requests.RequestException as error:
                code = type(error).__name__
            with lock:
                statuses[code] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(options.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print('requests: %d in %.1f s, %.0f requests/s, %d clients, %s order'
          % (len(bodies), elapsed, len(bodies) / elapsed, options.clients, options.order))
    print('HTTP statuses: %s' % dict(statuses))
    return 0 if set(statuses) == {200} else 1


if __name__ == '__main__':
    raise SystemExit(main())
