"""The one request path both provider clients use.

It owns what every call needs and no provider should re-implement: a pooled
``requests.Session``, a (connect, read) timeout on every call, bounded retries
with exponential backoff and jitter, ``Retry-After`` on 429, the mapping of
answers onto :mod:`.errors`, and redaction of the token from everything that
can leave this module (logs, exception texts, reprs).
"""
import email.message
import email.utils
import json
import logging
import os
import random
import socket
import ssl
import time
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus

import requests

from urllib3 import exceptions as urllib3_exceptions

from .errors import (
    AuthenticationError, BadPayloadError, ConfigurationError, FileTooLargeError, NotFoundError,
    RateLimitedError, RequestRejectedError, TransientError,
)
from .records import DownloadedFile


_logger = logging.getLogger(__name__)

__all__ = ['HttpTransport', 'HttpClientMixin', 'parse_retry_after', 'REDACTED', 'MAX_ERROR_TEXT']

REDACTED = '***'
#: longest provider error text we pass on (the rest is cut, it is for humans)
MAX_ERROR_TEXT = 300
#: most bytes of an error page read from a streamed answer
MAX_ERROR_BODY = 64 * 1024
#: bytes read at a time from a downloaded file
DOWNLOAD_CHUNK = 64 * 1024
_IDEMPOTENT_METHODS = ('GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE')


class _Credentials(object):
    """Auth headers plus the strings to hide; never shows them in its repr."""

    __slots__ = ('_headers', '_secrets')

    def __init__(self, headers, secrets):
        self._headers = dict(headers or {})
        self._secrets = []
        self.add_secrets(secrets)

    def add_secrets(self, secrets):
        """Also hide ``secrets`` (raw and URL-encoded) from now on."""
        variants = set(self._secrets)
        for secret in secrets or ():
            if not secret:
                continue
            secret = str(secret)
            variants.update((secret, quote(secret, safe=''), quote_plus(secret)))
        # Longest first, so a secret containing another is hidden whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def headers(self):
        return dict(self._headers)

    def redact(self, text):
        if text is None:
            return text
        text = str(text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __repr__(self):
        return '<credentials %s>' % REDACTED


class HttpTransport(object):
    """Sends requests for one provider client and returns decoded JSON.

    ``error_text`` is the client's function reading its provider's error body
    (decoded JSON or None) into one human sentence, or None when it has none.
    """

    def __init__(self, label, base_url, auth_headers, secrets, error_text=None,
                 timeout=30.0, connect_timeout=10.0, max_retries=3, backoff_factor=0.5,
                 max_retry_after=60.0, sleep=None, session=None, jitter=None,
                 user_agent='whatsapp_integration-odoo'):
        if not base_url or not str(base_url).lower().startswith(('http://', 'https://')):
            raise ConfigurationError('%s: the base URL must start with http:// or https://' % label)
        self.label = label
        self.base_url = str(base_url).rstrip('/')
        self._credentials = _Credentials(auth_headers, secrets)
        self._error_text = error_text or (lambda body: None)
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff_factor = max(0.0, float(backoff_factor))
        self.max_retry_after = max(0.0, float(max_retry_after))
        self._sleep = sleep or time.sleep
        self._jitter = jitter or random.random
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.user_agent = user_agent

    def __repr__(self):
        return '<HttpTransport %s %s>' % (self.label, self.base_url)

    def close(self):
        """Release pooled connections (only of a session we created)."""
        if self._owns_session:
            self.session.close()

    def redact(self, text):
        """Hide the token (raw and URL-encoded) in ``text``."""
        return self._credentials.redact(text)

    def hide(self, secret):
        """Redact ``secret`` too (e.g. a webhook secret sent in a request body)."""
        self._credentials.add_secrets([secret])

    # -- public entry point --------------------------------------------------------

    def request(self, method, path, params=None, json_body=None, files=None,
                expect=None, idempotent=None):
        """Send one request, retrying what is safe to retry, and return its JSON.

        ``expect``: a type or tuple of types the decoded body must be
        (``dict``, ``list``); None accepts anything, including an empty body.
        ``idempotent``: False means a timeout or 5xx is not retried (the
        request may have been executed, e.g. a message sent); defaults from
        the method. 429 and connect timeouts are always retried: the provider
        did not act on them.
        """
        where, response, body, attempt = self._exchange(method, path, params, json_body, files, idempotent)
        return self._decode(where, response, body, expect, attempt)

    def download(self, path, sink, max_bytes=None, params=None):
        """Stream a file into ``sink.write`` and return :class:`DownloadedFile`.

        The same retries and error mapping as :meth:`request` apply until the
        file starts arriving; from then on nothing is retried here (``sink``
        already holds part of it): a cut stream raises TransientError and the
        caller starts over. Never more than ``max_bytes`` (when given) is
        read: a larger announced or streamed size raises FileTooLargeError.
        """
        where, response, body, attempt = self._exchange('GET', path, params, None, None, True, stream=True)
        if body is not None:
            response.close()
            self._decode(where, response, body, None, attempt)  # raises: not a 2xx answer
            raise BadPayloadError('%s: unexpected answer' % where, response.status_code)
        try:
            announced = _content_length(response)
            if max_bytes is not None and announced is not None and announced > max_bytes:
                raise FileTooLargeError('%s: the file has %d bytes, more than the %d allowed'
                                        % (where, announced, max_bytes), response.status_code)
            size = 0
            try:
                for chunk in response.raw.stream(DOWNLOAD_CHUNK, decode_content=True):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLargeError('%s: the file grew past the %d bytes allowed'
                                                % (where, max_bytes), response.status_code)
                    sink.write(chunk)
                received = response.raw.tell()
            except (requests.exceptions.RequestException, urllib3_exceptions.HTTPError, OSError) as exc:
                raise TransientError('%s: the file stopped arriving after %d bytes [%s]'
                                     % (where, size, self._describe(exc)), reason='connection')
            if announced is not None and received < announced:
                raise TransientError('%s: the file stopped arriving after %d of %d bytes'
                                     % (where, received, announced), reason='connection')
        finally:
            response.close()
        return DownloadedFile(
            size=size,
            content_type=(response.headers.get('Content-Type') or '').split(';')[0].strip().lower() or None,
            file_name=_disposition_file_name(response.headers.get('Content-Disposition')))

    def _exchange(self, method, path, params, json_body, files, idempotent, stream=False):
        """The retry loop both entry points share; ``(where, response, body, attempt)``.

        ``body`` is the answer's bytes, except for a 2xx answer to a ``stream``
        request: None, the caller reads it.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        url = self.base_url + path
        where = '%s %s %s' % (self.label, method, self.redact(path))
        attempt = 0
        while True:
            started = time.time()
            try:
                response = self.session.request(
                    method, url, params=params, json=json_body, files=files,
                    headers=self._headers(), timeout=(self.connect_timeout, self.timeout),
                    allow_redirects=False, stream=stream,
                )
            except requests.exceptions.RequestException as exc:
                retry = self._retryable_exception(exc, idempotent)
                if retry and attempt < self.max_retries:
                    delay = self._backoff(attempt)
                    _logger.warning('%s: %s; retry %d/%d in %.1fs', where, self._describe(exc),
                                    attempt + 1, self.max_retries, delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise self._exception_error(where, exc, idempotent, attempt)
            status = response.status_code
            if stream and 200 <= status < 300:
                return where, response, None, attempt
            if stream:
                # an error page: small, but never trust its size
                try:
                    body = response.raw.read(MAX_ERROR_BODY, decode_content=True) or b''
                except (requests.exceptions.RequestException, urllib3_exceptions.HTTPError, OSError):
                    body = b''
                response.close()
            else:
                body = response.content  # read it all so the connection can be reused
            _logger.debug('%s -> HTTP %s in %.2fs (%d bytes)', where, status,
                          time.time() - started, len(body or b''))
            if status == 429 and attempt < self.max_retries:
                delay = self._retry_after(response)
                if delay is None:
                    delay = self._backoff(attempt)
                _logger.warning('%s: rate limited (HTTP 429); retry %d/%d in %.1fs',
                                where, attempt + 1, self.max_retries, delay)
                self._sleep(delay)
                attempt += 1
                continue
            if status >= 500 and idempotent and attempt < self.max_retries:
                delay = self._backoff(attempt)
                _logger.warning('%s: HTTP %s; retry %d/%d in %.1fs', where, status,
                                attempt + 1, self.max_retries, delay)
                self._sleep(delay)
                attempt += 1
                continue
            return where, response, body, attempt

    # -- helpers -------------------------------------------------------------------

    def _headers(self):
        headers = {'Accept': 'application/json', 'User-Agent': self.user_agent}
        headers.update(self._credentials.headers())
        return headers

    @staticmethod
    def _retryable_exception(exc, idempotent):
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return True  # nothing reached the provider
        if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
            return idempotent
        return False

    def _describe(self, exc):
        """Short, redacted text for a requests exception (its text may hold a URL)."""
        text = self.redact(str(exc))
        if len(text) > MAX_ERROR_TEXT:
            text = text[:MAX_ERROR_TEXT] + '...'
        return '%s: %s' % (type(exc).__name__, text)

    def _exception_error(self, where, exc, idempotent, attempt):
        tries = ' after %d attempts' % (attempt + 1) if attempt else ''
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                            requests.exceptions.InvalidSchema)):
            return ConfigurationError('%s: invalid URL (%s)' % (where, self._describe(exc)),
                                      reason='invalid_url')
        reason = network_failure_reason(exc)
        what = {'dns': 'host name not found', 'refused': 'connection refused', 'tls': 'TLS/certificate failure',
                'timeout': 'timed out'}.get(reason, 'connection failed')
        unsure = '' if idempotent else ' (the provider may or may not have acted on it)'
        return TransientError('%s: %s%s%s [%s]' % (where, what, tries, unsure, self._describe(exc)),
                              reason=reason)

    def _backoff(self, attempt):
        """Exponential delay with jitter (half fixed, half random), capped."""
        delay = self.backoff_factor * (2 ** attempt)
        delay = delay / 2.0 + self._jitter() * delay / 2.0
        return min(delay, self.max_retry_after)

    def _retry_after(self, response):
        """Seconds asked by Retry-After (delta or HTTP date), capped; None if absent."""
        seconds = parse_retry_after(response.headers.get('Retry-After'))
        if seconds is None:
            return None
        return min(seconds, self.max_retry_after)

    def _decode(self, where, response, body, expect, attempt):
        status = response.status_code
        if 200 <= status < 300:
            return self._decode_success(where, status, body, expect)
        if 300 <= status < 400:
            raise RequestRejectedError('%s: unexpected redirect; check the base URL' % where, status)
        detail = self._error_detail(response, body)
        message = '%s: %s' % (where, detail)
        if status in (401, 403):
            raise AuthenticationError(message, status)
        if status == 404:
            raise NotFoundError(message, status)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get('Retry-After'))
            raise RateLimitedError('%s (still rate limited after %d attempts)' % (message, attempt + 1),
                                   status, retry_after=retry_after)
        if status >= 500:
            tries = ' after %d attempts' % (attempt + 1) if attempt else ''
            raise TransientError('%s%s' % (message, tries), status)
        error = RequestRejectedError(message, status)
        error.provider_text = detail  # the provider's own reason, without the request
        raise error

    def _decode_success(self, where, status, body, expect):
        if not body or not body.strip():
            if expect is None:
                return None
            raise BadPayloadError('%s: empty answer' % where, status)
        try:
            data = json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            raise BadPayloadError('%s: the answer is not JSON (%s)'
                                  % (where, self._snippet(body)), status)
        if expect is not None and not isinstance(data, expect):
            raise BadPayloadError('%s: expected %s, got %s'
                                  % (where, _type_names(expect), type(data).__name__), status)
        return data

    def _error_detail(self, response, body):
        """Provider's own error sentence, redacted and truncated; else the reason."""
        decoded = None
        if body:
            try:
                decoded = json.loads(body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                decoded = None
        text = None
        if decoded is not None:
            try:
                text = self._error_text(decoded)
            except (AttributeError, KeyError, TypeError, ValueError):
                text = None
        if not text and body and decoded is None:
            text = self._snippet(body)
        if not text:
            text = response.reason or 'HTTP error'
        text = self.redact(' '.join(str(text).split()))
        if len(text) > MAX_ERROR_TEXT:
            text = text[:MAX_ERROR_TEXT] + '...'
        return text

    def _snippet(self, body):
        text = body[:MAX_ERROR_TEXT].decode('utf-8', 'replace')
        return self.redact(' '.join(text.split())) or 'empty'


def network_failure_reason(exc):
    """The ``reason`` code of a requests exception: dns, refused, tls, timeout or connection.

    requests wraps the socket error a few levels deep (ConnectionError >
    MaxRetryError > NewConnectionError > OSError): the chain and the texts
    are searched, since the wrapping differs between versions.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return 'tls'
    if isinstance(exc, requests.exceptions.Timeout):
        return 'timeout'
    seen = []
    pending = [exc]
    while pending and len(seen) < 10:
        current = pending.pop()
        if current is None or any(current is other for other in seen):
            continue
        seen.append(current)
        if isinstance(current, socket.gaierror):
            return 'dns'
        if isinstance(current, ConnectionRefusedError):
            return 'refused'
        if isinstance(current, ssl.SSLError):
            return 'tls'
        pending += [getattr(current, 'reason', None), current.__cause__, current.__context__]
        pending += [arg for arg in getattr(current, 'args', ()) if isinstance(arg, BaseException)]
    text = ' '.join(str(item) for item in seen).lower()
    if 'name or service not known' in text or 'nodename nor servname' in text or 'name resolution' in text \
            or 'getaddrinfo failed' in text or 'no address associated' in text:
        return 'dns'
    if 'connection refused' in text or 'errno 111' in text:
        return 'refused'
    if 'certificate' in text or 'ssl' in text:
        return 'tls'
    return 'connection'


def _content_length(response):
    try:
        length = int(response.headers.get('Content-Length'))
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


def _disposition_file_name(value):
    """The file name of a Content-Disposition header (``filename*=`` or ``filename=``), or None."""
    if not value:
        return None
    message = email.message.Message()
    message['Content-Disposition'] = value
    name = message.get_filename()
    if not name:
        return None
    name = os.path.basename(name.replace('\\', '/')).strip()
    return name or None


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        seconds = (moment - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _type_names(expect):
    if isinstance(expect, tuple):
        return ' or '.join(_json_name(kind) for kind in expect)
    return _json_name(expect)


def _json_name(kind):
    return {dict: 'an object', list: 'a list'}.get(kind, kind.__name__)


#: upper bound of ``concurrency``: a provider sees at most this many requests of one account at once
MAX_CONCURRENCY = 16


class HttpClientMixin(object):
    """Constructor wiring shared by the HTTP provider clients.

    Subclasses set ``label``, ``default_base_url``, ``default_page_size``,
    ``max_page_size`` and implement ``_auth_headers(token)`` and
    ``_error_text(body)``. The token lives only inside the transport's
    credentials, so no attribute or repr of the client shows it.
    """

    label = None
    default_base_url = None
    default_page_size = 100
    max_page_size = 500

    def __init__(self, token, base_url=None, device_id=None, timeout=30.0,
                 connect_timeout=10.0, max_retries=3, backoff_factor=0.5,
                 max_retry_after=60.0, page_size=None, sleep=None, session=None, concurrency=1):
        token = (str(token).strip() if token is not None else '')
        if not token:
            raise ConfigurationError('%s: no API token is set' % self.label)
        self.base_url = str(base_url or self.default_base_url).rstrip('/')
        self.device_id = (str(device_id).strip() if device_id else None) or None
        # independent requests (pages ahead, one group after another) in flight at once
        self.concurrency = max(1, min(int(concurrency or 1), MAX_CONCURRENCY))
        if page_size is None:
            self.page_size = self.default_page_size
        else:
            self.page_size = max(1, min(int(page_size), self.max_page_size))
        self._transport = HttpTransport(
            self.label, self.base_url, self._auth_headers(token), [token],
            error_text=self._error_text, timeout=timeout, connect_timeout=connect_timeout,
            max_retries=max_retries, backoff_factor=backoff_factor,
            max_retry_after=max_retry_after, sleep=sleep, session=session,
        )

    def __repr__(self):
        device = ', device_id=%r' % self.device_id if self.device_id else ''
        return '<%s base_url=%r%s>' % (type(self).__name__, self.base_url, device)

    def close(self):
        """Release pooled HTTP connections."""
        self._transport.close()

    def _auth_headers(self, token):
        raise NotImplementedError

    @staticmethod
    def _error_text(body):
        return None
