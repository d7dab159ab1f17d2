"""The shared request path: retries, timeouts, error mapping, redaction."""
import email.utils
import logging
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import TOKEN, Reply
from providers import (
    AuthenticationError, BadPayloadError, ConfigurationError, NotFoundError,
    RateLimitedError, RequestRejectedError, TransientError, WassengerClient, WhapiClient,
)
from providers.http import HttpTransport, parse_retry_after

HEALTH_OK = {'status': {'code': 4, 'text': 'AUTH'}, 'start_at': 1, 'uptime': 2}


def whapi(server, sleeps, **settings):
    settings.setdefault('max_retries', 3)
    settings.setdefault('timeout', 5)
    settings.setdefault('connect_timeout', 5)
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append, **settings)


def test_every_call_has_connect_and_read_timeout(server, sleeps):
    seen = {}

    class Spy(object):
        def request(self, method, url, **kwargs):
            seen.update(kwargs)
            raise AssertionError('stop here')

        def close(self):
            pass

    client = WhapiClient(TOKEN, base_url=server.base_url, timeout=7, connect_timeout=3,
                         session=Spy(), sleep=sleeps.append)
    with pytest.raises(AssertionError):
        client.check_connection()
    assert seen['timeout'] == (3.0, 7.0)
    assert seen['allow_redirects'] is False


def test_session_is_reused(server, sleeps):
    server.route('GET', '/health', HEALTH_OK)
    client = whapi(server, sleeps)
    client.check_connection()
    client.check_connection()
    ports = set(call.headers.get('Host') for call in server.calls('GET', '/health'))
    assert len(server.calls('GET', '/health')) == 2 and len(ports) == 1
    assert client._transport.session is client._transport.session


def test_401_is_authentication_error_with_provider_text(server, sleeps):
    server.route('GET', '/health', Reply(401, {'error': {'code': 401, 'message': 'Unauthorized',
                                                         'details': 'token is invalid'}}))
    with pytest.raises(AuthenticationError) as info:
        whapi(server, sleeps).check_connection()
    assert info.value.status == 401
    assert 'Unauthorized: token is invalid' in str(info.value)
    assert len(server.requests) == 1 and sleeps == []


def test_403_is_authentication_error(server, sleeps):
    server.route('GET', '/health', Reply(403, {'error': {'code': 403, 'message': 'Forbidden'}}))
    with pytest.raises(AuthenticationError):
        whapi(server, sleeps).check_connection()


def test_404_is_not_found(server, sleeps):
    server.route('GET', '/messages/.*', Reply(404, {'error': {'code': 404, 'message': 'Message not found'}}))
    with pytest.raises(NotFoundError) as info:
        whapi(server, sleeps).get_message_status('nope-1')
    assert 'Message not found' in str(info.value) and info.value.status == 404


def test_other_4xx_is_rejected_without_retry(server, sleeps):
    server.route('POST', '/messages/text', Reply(402, {'error': {'code': 402, 'message': 'Trial limit exceeded'}}))
    with pytest.raises(RequestRejectedError) as info:
        whapi(server, sleeps).send_text('34600111222', 'hi')
    assert info.value.status == 402 and 'Trial limit' in str(info.value)
    assert len(server.requests) == 1


def test_429_honours_retry_after_seconds(server, sleeps):
    server.route('GET', '/health', [Reply(429, {'error': {'message': 'slow down'}}, headers={'Retry-After': '7'}),
                                    Reply(200, HEALTH_OK)])
    info = whapi(server, sleeps).check_connection()
    assert info.connected and sleeps == [7.0]


def test_429_retry_after_is_capped(server, sleeps):
    server.route('GET', '/health', [Reply(429, headers={'Retry-After': '3600'}), Reply(200, HEALTH_OK)])
    whapi(server, sleeps, max_retry_after=12).check_connection()
    assert sleeps == [12.0]


def test_429_retry_after_http_date(server, sleeps):
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    header = email.utils.format_datetime(when, usegmt=True)
    server.route('GET', '/health', [Reply(429, headers={'Retry-After': header}), Reply(200, HEALTH_OK)])
    whapi(server, sleeps).check_connection()
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


def test_429_without_retry_after_backs_off_exponentially(server, sleeps):
    server.route('GET', '/health', [Reply(429), Reply(429), Reply(200, HEALTH_OK)])
    whapi(server, sleeps, backoff_factor=1.0).check_connection()
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_429_forever_is_rate_limited_after_bounded_retries(server, sleeps):
    server.route('GET', '/health', Reply(429, {'error': {'message': 'Too many requests'}},
                                         headers={'Retry-After': '2'}))
    with pytest.raises(RateLimitedError) as info:
        whapi(server, sleeps, max_retries=2).check_connection()
    assert len(server.requests) == 3 and sleeps == [2.0, 2.0]
    assert info.value.retry_after == 2.0 and info.value.status == 429


def test_500_then_success(server, sleeps):
    server.route('GET', '/health', [Reply(500, {'error': {'message': 'boom'}}), Reply(200, HEALTH_OK)])
    assert whapi(server, sleeps).check_connection().connected
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_500_forever_is_transient_after_bounded_retries(server, sleeps):
    server.route('GET', '/health', Reply(503, {'error': {'message': 'maintenance'}}))
    with pytest.raises(TransientError) as info:
        whapi(server, sleeps, max_retries=3, backoff_factor=0.5).check_connection()
    assert len(server.requests) == 4 and len(sleeps) == 3
    assert info.value.status == 503 and 'maintenance' in str(info.value)
    # exponential with jitter: each wait within [base/2, base], base doubling
    for attempt, waited in enumerate(sleeps):
        base = 0.5 * 2 ** attempt
        assert base / 2 <= waited <= base


def test_backoff_is_capped_by_max_retry_after(server, sleeps):
    server.route('GET', '/health', Reply(502))
    with pytest.raises(TransientError):
        whapi(server, sleeps, max_retries=6, backoff_factor=10, max_retry_after=15).check_connection()
    assert max(sleeps) <= 15


def test_post_is_not_retried_on_500(server, sleeps):
    """A send that may have gone through must not be sent twice."""
    server.route('POST', '/messages/text', Reply(500, {'error': {'message': 'oops'}}))
    with pytest.raises(TransientError):
        whapi(server, sleeps).send_text('34600111222', 'once')
    assert len(server.calls('POST')) == 1 and sleeps == []


def test_post_is_retried_on_429(server, sleeps):
    server.route('POST', '/messages/text', [Reply(429, headers={'Retry-After': '1'}),
                                            Reply(201, {'sent': True, 'message': {'id': 'abcd-1234', 'status': 'pending'}})])
    result = whapi(server, sleeps).send_text('34600111222', 'hi')
    assert result.message_id == 'abcd-1234' and sleeps == [1.0]


def test_read_timeout_retried_then_transient(server, sleeps):
    server.route('GET', '/health', Reply(200, HEALTH_OK, delay=1.0))
    client = whapi(server, sleeps, timeout=0.2, max_retries=1)
    started = time.time()
    with pytest.raises(TransientError) as info:
        client.check_connection()
    assert 'timed out' in str(info.value)
    assert len(server.requests) == 2 and len(sleeps) == 1
    assert time.time() - started < 5


def test_read_timeout_then_success(server, sleeps):
    server.route('GET', '/health', [Reply(200, HEALTH_OK, delay=1.0), Reply(200, HEALTH_OK)])
    assert whapi(server, sleeps, timeout=0.2).check_connection().connected


def test_dropped_connection_retried_then_transient(server, sleeps):
    server.route('GET', '/health', Reply(drop=True))
    with pytest.raises(TransientError) as info:
        whapi(server, sleeps, max_retries=2).check_connection()
    assert 'connection failed' in str(info.value)
    assert len(server.requests) == 3


def test_dropped_connection_then_success(server, sleeps):
    server.route('GET', '/health', [Reply(drop=True), Reply(200, HEALTH_OK)])
    assert whapi(server, sleeps).check_connection().connected


def test_connection_refused_is_transient(sleeps):
    import socket
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    client = WhapiClient(TOKEN, base_url='http://127.0.0.1:%d' % port, sleep=sleeps.append, max_retries=1)
    with pytest.raises(TransientError):
        client.check_connection()
    assert len(sleeps) == 1


def test_malformed_json_is_bad_payload(server, sleeps):
    server.route('GET', '/health', Reply(200, raw=b'{"status": {"text": "AU'))
    with pytest.raises(BadPayloadError) as info:
        whapi(server, sleeps).check_connection()
    assert 'not JSON' in str(info.value)


def test_html_error_page_is_readable(server, sleeps):
    server.route('GET', '/health', Reply(400, raw=b'<html><body>Bad gateway thing</body></html>'))
    with pytest.raises(RequestRejectedError) as info:
        whapi(server, sleeps).check_connection()
    assert 'Bad gateway thing' in str(info.value)


def test_wrong_envelope_type_is_bad_payload(server, sleeps):
    server.route('GET', '/health', ['not', 'an', 'object'])
    with pytest.raises(BadPayloadError):
        whapi(server, sleeps).check_connection()


def test_empty_success_body_is_bad_payload_when_json_expected(server, sleeps):
    server.route('GET', '/health', Reply(200, raw=b''))
    with pytest.raises(BadPayloadError):
        whapi(server, sleeps).check_connection()


def test_redirect_is_not_followed(server, sleeps):
    server.route('GET', '/health', Reply(302, headers={'Location': 'http://example.invalid/'}))
    with pytest.raises(RequestRejectedError) as info:
        whapi(server, sleeps).check_connection()
    assert 'redirect' in str(info.value)
    assert len(server.requests) == 1


def test_long_provider_error_text_is_truncated(server, sleeps):
    server.route('GET', '/health', Reply(400, {'error': {'message': 'x' * 5000}}))
    with pytest.raises(RequestRejectedError) as info:
        whapi(server, sleeps).check_connection()
    assert len(str(info.value)) < 500


def test_wassenger_error_body_is_read(server, sleeps):
    server.route('GET', '/devices/.*', Reply(401, {'status': 401, 'message': 'Invalid or missing API token',
                                                   'errorCode': 'error:auth'}))
    client = WassengerClient(TOKEN, base_url=server.base_url, device_id='a' * 24, sleep=sleeps.append)
    with pytest.raises(AuthenticationError) as info:
        client.check_connection()
    assert 'Invalid or missing API token [error:auth]' in str(info.value)


def test_bad_base_url_is_configuration_error():
    with pytest.raises(ConfigurationError):
        WhapiClient(TOKEN, base_url='ftp://example.com')


@pytest.mark.parametrize('value, expected', [
    ('5', 5.0), ('0', 0.0), ('-3', 0.0), ('1.5', 1.5), ('', None), (None, None), ('soon', None),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_date_in_past_is_zero():
    assert parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT') == 0.0


# -- token secrecy ----------------------------------------------------------------------

def _assert_no_token(*texts):
    for text in texts:
        assert TOKEN not in text
        assert TOKEN.lower() not in text.lower()


def test_token_never_in_logs_exceptions_or_reprs(server, sleeps, caplog):
    echo = 'you sent token=%s with Authorization: Bearer %s to /health?token=%s' % (TOKEN, TOKEN, TOKEN)
    server.route('GET', '/health', [Reply(500, {'error': {'message': echo}}),
                                    Reply(401, {'error': {'message': echo, 'details': TOKEN}})])
    server.route('GET', '/devices/.*', Reply(400, {'message': echo, 'errorCode': TOKEN}))
    server.route('GET', '/contacts', Reply(200, raw='garbage ' + TOKEN))
    caplog.set_level(logging.DEBUG)
    client = whapi(server, sleeps)
    wass = WassengerClient(TOKEN, base_url=server.base_url, device_id='d' * 24, sleep=sleeps.append)
    errors = []
    for call in (client.check_connection, wass.check_connection, lambda: list(client.iter_contacts())):
        with pytest.raises(Exception) as info:
            call()
        errors.append(info.value)
    texts = [str(error) for error in errors] + [repr(error) for error in errors]
    texts += [getattr(error, 'message', '') for error in errors]
    texts += [repr(client), repr(wass), repr(client._transport), repr(wass._transport),
              repr(client._transport._credentials), str(vars(client)), str(vars(wass)),
              str(vars(client._transport))]
    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    _assert_no_token(*texts)
    assert '***' in str(errors[0])
    # and the token did go out, in the header only
    assert server.requests[0].headers['Authorization'] == 'Bearer ' + TOKEN
    assert all(TOKEN not in call.path and TOKEN not in str(call.query) for call in server.requests)


def test_token_url_encoded_echo_is_redacted(server, sleeps):
    token = 'a+b/c=d secret'
    server.route('GET', '/health', Reply(400, {'error': {'message': 'url was /health?token=a%2Bb%2Fc%3Dd%20secret or a%2Bb%2Fc%3Dd+secret'}}))
    client = WhapiClient(token, base_url=server.base_url, sleep=sleeps.append)
    with pytest.raises(RequestRejectedError) as info:
        client.check_connection()
    assert 'a%2Bb%2Fc%3Dd%20secret' not in str(info.value)
    assert 'a%2Bb%2Fc%3Dd+secret' not in str(info.value)


def test_token_hidden_in_connection_error_text(sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    client = WhapiClient(TOKEN, base_url='http://127.0.0.1:9/%s' % TOKEN, sleep=sleeps.append,
                         max_retries=1, connect_timeout=0.5)
    with pytest.raises(TransientError) as info:
        client.check_connection()
    _assert_no_token(str(info.value), caplog.text)


def test_transport_direct_use_and_expect_types(server, sleeps):
    server.route('GET', '/list', [1, 2, 3])
    transport = HttpTransport('X', server.base_url, {'Token': TOKEN}, [TOKEN], sleep=sleeps.append)
    assert transport.request('GET', '/list', expect=list) == [1, 2, 3]
    with pytest.raises(BadPayloadError):
        transport.request('GET', '/list', expect=dict)
    assert server.requests[0].headers['Token'] == TOKEN
    assert TOKEN not in repr(transport)


def test_max_retries_zero_means_one_attempt(server, sleeps):
    server.route('GET', '/health', Reply(500))
    with pytest.raises(TransientError):
        whapi(server, sleeps, max_retries=0).check_connection()
    assert len(server.requests) == 1 and sleeps == []


def test_injected_session_with_responses(sleeps):
    """Narrow unit case with ``responses``: an injected Session is used as is."""
    import requests
    import responses

    session = requests.Session()
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, 'https://api.wassenger.com/v1/devices/dev1',
                   json={'id': 'dev1', 'status': 'operative', 'session': {'status': 'online'}})
        client = WassengerClient(TOKEN, device_id='dev1', session=session, sleep=sleeps.append)
        assert client._transport.session is session
        assert client.check_connection().connected
        assert mocked.calls[0].request.headers['Token'] == TOKEN
    client.close()  # a session we did not create stays open for its owner
    assert session.adapters


def test_429_http_date_retry_after_is_capped(server, sleeps):
    when = datetime.now(timezone.utc) + timedelta(hours=2)
    header = email.utils.format_datetime(when, usegmt=True)
    server.route('GET', '/health', [Reply(429, headers={'Retry-After': header}), Reply(200, HEALTH_OK)])
    whapi(server, sleeps, max_retry_after=30).check_connection()
    assert sleeps == [30.0]
