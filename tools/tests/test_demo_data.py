"""The demo dataset (tools/demo_data.py) read through the real provider clients, without
Odoo: every kind of message arrives as that kind, with its media details, and a webhook
registered through the client gets new messages the addon's webhook check accepts."""
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import providers  # noqa: E402
from demo_data import DEMO_TYPES, MEDIA, SERVED, demo_accounts  # noqa: E402
from fake_provider_server import FakeProviderServer  # noqa: E402

#: what each demo kind is once a provider client read it ('future_type': a kind WhatsApp
#: added after this version, kept as "Other")
EXPECTED = dict((kind, kind) for kind in DEMO_TYPES)
EXPECTED['future_type'] = 'unknown'
#: Wassenger's documented types name no live location: it comes as a location
EXPECTED_WASSENGER = dict(EXPECTED, live_location='location')
#: how the body of a structured message begins once read
READABLE = {'location': u'\U0001F4CD', 'live_location': u'\U0001F4CD', 'poll': u'\U0001F4CA',
            'contact': u'\U0001F464', 'contact_list': u'\U0001F464'}


@pytest.fixture
def served():
    server = FakeProviderServer().start()
    accounts = demo_accounts()
    for _name, remote in accounts[:SERVED]:
        server.add(remote)
    try:
        yield server, accounts
    finally:
        server.stop()


def client_of(remote):
    return providers.make_client(remote.provider, token=remote.token, base_url=remote.base_url,
                                 device_id=remote.device_id if remote.provider == 'wassenger' else None)


def all_messages(client):
    return [message for page in client.iter_messages() for message in page.items]


@pytest.mark.parametrize('position', range(SERVED))
def test_every_kind_of_message_reads_as_that_kind_with_its_media(served, position):
    _server, accounts = served
    name, remote = accounts[position]
    client = client_of(remote)
    messages = all_messages(client)
    skipped = [item for page in client.iter_messages() for item in page.skipped]
    assert not skipped, skipped
    assert len(messages) == remote.n_messages
    by_id = {message.message_id: message for message in messages}
    seen = set()
    for index in range(remote.n_messages):
        canonical = remote.message(index)
        message = by_id[canonical['id']]
        seen.add(canonical['type'])
        expected = EXPECTED_WASSENGER if remote.provider == 'wassenger' else EXPECTED
        assert message.message_type == expected[canonical['type']], (name, canonical)
        if canonical['type'] == 'reaction':
            # a reaction reads as its emoji, answering the message it reacts to
            assert message.body == '\U0001F44D' and message.quoted_id == remote.message(index - 1)['id']
        elif canonical['type'] in READABLE:
            # a place, a poll with its options, contact cards: stored as text people read
            assert message.body.startswith(READABLE[canonical['type']]), (name, canonical, message.body)
            assert '\n' in message.body or canonical['type'] not in ('poll', 'contact_list'), message.body
        else:
            assert message.body == canonical['body'], (name, canonical)
        if canonical['type'] in MEDIA:
            mime = MEDIA[canonical['type']][0]
            assert message.media is not None and message.media.mime_type == mime, (name, canonical)
            assert message.media.file_size > 0 and message.media.media_id and message.media.url
            if canonical['type'] == 'document':
                assert message.media.file_name.endswith('.pdf')
        else:
            assert message.media is None, (name, canonical)
    assert seen == set(DEMO_TYPES), 'every kind of the demo is in the account'
    assert {message.status for message in messages if message.from_me} >= {'sent', 'delivered', 'read'}


class Receiver(object):
    """A local HTTP server standing for Odoo's webhook route: keeps what it receives."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                received.append((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize('position', range(SERVED))
def test_a_registered_webhook_gets_new_messages_the_addon_accepts(served, position):
    _server, accounts = served
    _name, remote = accounts[position]
    receiver = Receiver()
    try:
        client = client_of(remote)
        url = '%s/whatsapp/webhook/%s/%s' % (receiver.url, remote.provider, 'k' * 32)
        assert remote.deliver(remote.new_inbound()) == [], 'nothing registered, nothing sent'
        registration = client.register_webhook(url, 'our-chosen-secret')
        # Wassenger issues its own secret; WHAPI sends back the header it was given
        secret = registration.secret or 'our-chosen-secret'
        if remote.provider == 'wassenger':
            assert secret != 'our-chosen-secret'
        again = client.register_webhook(url, secret)  # idempotent: one webhook, not two
        secret = again.secret or secret
        assert len(remote.registered_webhooks()) == 1

        message = remote.new_inbound()
        assert remote.deliver(message) == [(url, 200)]
        path, headers, body = receiver.received[-1]
        assert path == url[len(receiver.url):]
        assert providers.verify_webhook(remote.provider, body, headers, secret)
        assert not providers.verify_webhook(remote.provider, body, headers, secret + 'x')
        batch = providers.parse_webhook(remote.provider, body)
        assert [(m.message_id, m.body, m.from_me, m.message_type) for m in batch.messages] == [
            (message['id'], message['body'], False, 'text')]
        # the next sync meets the same message again
        assert message['id'] in {m.message_id for m in all_messages(client)}
    finally:
        receiver.close()


def test_demo_users_share_the_zone_of_the_browser_that_opens_the_demo(monkeypatch):
    from demo_data import demo_time_zone
    monkeypatch.setenv('WHATSAPP_DEMO_TZ', 'Asia/Tokyo')
    assert demo_time_zone() == 'Asia/Tokyo'
    monkeypatch.setenv('WHATSAPP_DEMO_TZ', 'Not/AZone')
    assert demo_time_zone() == 'UTC'
    monkeypatch.delenv('WHATSAPP_DEMO_TZ')
    monkeypatch.setenv('TZ', 'America/Lima')
    assert demo_time_zone() == 'America/Lima'
