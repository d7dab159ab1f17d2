"""What kind of failure a provider error is: the code the Odoo layer explains in one sentence."""
import socket

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from conftest import TOKEN, Reply
from providers import (
    AuthenticationError, BadPayloadError, ConfigurationError, NotFoundError, RateLimitedError,
    RequestRejectedError, TransientError, WhapiClient,
)
from providers.errors import REASONS
from providers.http import network_failure_reason


def closed_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def wrapped(cause):
    """A requests ConnectionError as requests raises it: over urllib3's wrappers."""
    new_connection = NewConnectionError(None, 'Failed to establish a new connection: %s' % cause)
    new_connection.__cause__ = cause
    return requests.exceptions.ConnectionError(MaxRetryError(None, '/health', reason=new_connection))


@pytest.mark.parametrize('exc, reason', [
    (wrapped(socket.gaierror(-2, 'Name or service not known')), 'dns'),
    (wrapped(ConnectionRefusedError(111, 'Connection refused')), 'refused'),
    (requests.exceptions.SSLError('certificate verify failed'), 'tls'),
    (requests.exceptions.ReadTimeout('read timed out'), 'timeout'),
    (requests.exceptions.ConnectTimeout('connect timed out'), 'timeout'),
    (wrapped(ConnectionResetError(104, 'Connection reset by peer')), 'connection'),
])
def test_network_failures_are_told_apart(exc, reason):
    assert network_failure_reason(exc) == reason


def test_a_closed_port_is_a_refused_connection():
    client = WhapiClient(TOKEN, base_url='http://127.0.0.1:%d' % closed_port(), max_retries=0)
    with pytest.raises(TransientError) as info:
        client.check_connection()
    assert info.value.reason == 'refused'
    assert 'connection refused' in str(info.value)


@pytest.mark.parametrize('status, error_class, reason', [
    (401, AuthenticationError, 'token'), (403, AuthenticationError, 'token'),
    (404, NotFoundError, 'not_found'), (429, RateLimitedError, 'rate_limited'),
    (500, TransientError, 'server_error'), (400, RequestRejectedError, 'rejected'),
])
def test_http_answers_carry_their_reason(server, sleeps, status, error_class, reason):
    server.route('GET', '/health', Reply(status, {'error': {'message': 'no'}}))
    client = WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append, max_retries=0)
    with pytest.raises(error_class) as info:
        client.check_connection()
    assert info.value.reason == reason


def test_every_error_class_has_a_known_reason(server, sleeps):
    server.route('GET', '/health', Reply(200, raw='not json'))
    with pytest.raises(BadPayloadError) as info:
        WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append).check_connection()
    assert info.value.reason == 'bad_answer'
    assert ConfigurationError('x').reason == 'settings'
    for error_class in (AuthenticationError, BadPayloadError, ConfigurationError, NotFoundError,
                        RateLimitedError, RequestRejectedError, TransientError):
        assert error_class('x').reason in REASONS


def test_a_refused_request_keeps_the_providers_own_reason(server, sleeps):
    server.route('POST', '/messages/text', Reply(400, {'error': {'message': 'Recipient is not on WhatsApp'}}))
    client = WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append, max_retries=0)
    with pytest.raises(RequestRejectedError) as info:
        client.send_text('34600000001', 'Hi')
    assert 'Recipient is not on WhatsApp' in info.value.provider_text
    assert '/messages' not in info.value.provider_text  # the request is in str(), for whoever debugs
    assert '/messages/text' in str(info.value)
