"""Issue 23: what the published descriptions say providers send about sends and sessions,
read through the local fake provider (``tests/fake_provider_server.py``) by the real clients."""
import importlib.util
import os

import pytest

from providers import WassengerClient, parse_webhook, webhook_signature

_FAKE = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fake_provider_server.py')
_spec = importlib.util.spec_from_file_location('fake_provider_server', _FAKE)
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


@pytest.fixture
def wassenger():
    server = fake.FakeProviderServer().start()
    account = fake.FakeAccount('wassenger', 'tok-wass-events', contacts=3, groups=1, members=2, messages=5)
    server.add(account)
    client = WassengerClient(token=account.token, base_url=account.base_url, device_id=account.device_id,
                             max_retries=0)
    yield account, client
    client.close()
    server.stop()


def test_a_queued_send_that_fails_reads_failed_with_its_reason(wassenger):
    account, client = wassenger
    queue_id = account.queue_message('+34600111222', 'Hello', reference='odoo-1')
    assert client.get_message_status(queue_id).status == 'pending'
    body, headers = account.failed_send_delivery(queue_id, reason='Phone number is not on WhatsApp')
    # S2 and Wassenger's own bot sign nothing: the delivery carries no signature
    assert webhook_signature('wassenger', body, headers, None) == 'absent'
    [update] = parse_webhook('wassenger', body).statuses
    assert (update.message_id, update.status, update.error) == (
        queue_id, 'failed', 'Phone number is not on WhatsApp')
    asked = client.get_message_status(queue_id)
    assert (asked.status, asked.error) == ('failed', 'Phone number is not on WhatsApp')


def test_a_queued_send_delivered_names_its_whatsapp_id(wassenger):
    account, client = wassenger
    queue_id = account.queue_message('+34600111222', 'Hello')
    account.update_queued(queue_id, status='processed', deliveryStatus='delivered', waId='3EB0FAKEWAID')
    asked = client.get_message_status(queue_id)
    assert (asked.message_id, asked.status, asked.alt_message_id) == (queue_id, 'delivered', '3EB0FAKEWAID')


def test_session_and_health_deliveries(wassenger):
    account, _client = wassenger
    body, _headers = account.session_delivery('offline')
    batch = parse_webhook('wassenger', body)
    assert (batch.health.connected, batch.account_id) == (False, account.device_id)
    whapi = fake.FakeAccount('whapi', 'tok-whapi-events', contacts=1, groups=0, members=0, messages=1)
    body, headers = whapi.health_delivery('s3cret', user_method='delete')
    assert webhook_signature('whapi', body, headers, 's3cret') == 'valid'
    assert parse_webhook('whapi', body).health.reason == 'logout'
    body, _headers = whapi.health_delivery('s3cret', status_text='QR')
    assert parse_webhook('whapi', body).health.reason == 'qr'
