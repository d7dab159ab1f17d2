"""A real local HTTP server standing in for WHAPI / Wassenger in tests.

Each test scripts routes (method + path regex -> replies), then reads the
request log. Replies can be delayed (read timeouts), dropped mid-request
(connection resets) or be any raw bytes (malformed JSON).
"""
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

TOKEN = 'tok-SECRET-1234567890abcdef'


class Reply(object):
    """What the fake answers: JSON ``body`` (or ``raw`` bytes), status, headers, faults."""

    def __init__(self, status=200, body=None, raw=None, headers=None, delay=0.0, drop=False, cut_after=None):
        self.status = status
        self.body = body
        self.raw = raw
        self.headers = headers or {}
        self.delay = delay
        self.drop = drop
        # announce the whole body, send only its first ``cut_after`` bytes, then hang up
        self.cut_after = cut_after


class Recorded(object):
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        return '<%s %s %s>' % (self.method, self.path, self.query)


class FakeProvider(object):
    def __init__(self):
        self.routes = []
        self.requests = []
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    # -- scripting -----------------------------------------------------------------
    def route(self, method, path, replies):
        """``replies``: a Reply, a JSON-able value, a callable(request) or a list
        of those played in turn (the last one repeats)."""
        if not isinstance(replies, list) or not replies or not _is_reply(replies[0]):
            replies = [replies]
        self.routes.insert(0, [method.upper(), re.compile(path), list(replies)])

    def route_sequence(self, method, path, replies):
        """Play ``replies`` (Reply, JSON-able value or callable) in turn; the last repeats."""
        self.routes.insert(0, [method.upper(), re.compile(path), list(replies)])

    def calls(self, method=None, path=None):
        return [r for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or re.fullmatch(path, r.path))]

    # -- serving -------------------------------------------------------------------
    def dispatch(self, handler):
        split = urlsplit(handler.path)
        query = dict((key, values[-1]) for key, values in parse_qs(split.query, keep_blank_values=True).items())
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else b''
        request = Recorded(handler.command, split.path, query, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(request)
            reply = None
            for method, pattern, replies in self.routes:
                if method == handler.command and pattern.fullmatch(split.path):
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                    break
        if reply is None:
            reply = Reply(418, {'error': {'message': 'no fake route for %s %s' % (handler.command, split.path)}})
        if callable(reply) and not isinstance(reply, Reply):
            reply = reply(request)
        if not isinstance(reply, Reply):
            reply = Reply(200, reply)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if reply.raw is not None:
            payload = reply.raw if isinstance(reply.raw, bytes) else reply.raw.encode('utf-8')
        elif reply.body is None:
            payload = b''
        else:
            payload = json.dumps(reply.body).encode('utf-8')
        try:
            handler.send_response(reply.status)
            if 'Content-Type' not in reply.headers:
                handler.send_header('Content-Type', 'application/json')
            handler.send_header('Content-Length', str(len(payload)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            if reply.cut_after is not None:
                handler.wfile.write(payload[:reply.cut_after])
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout tests)

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def _any(self):
                fake.dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args):
                pass

        self._httpd = _QuietServer(('127.0.0.1', 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self._httpd.server_address[1]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client hanging up on an unread body (a refused or cut download) resets the socket
        pass


def _is_reply(value):
    return isinstance(value, Reply) or callable(value)


@pytest.fixture
def server():
    fake = FakeProvider().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sleeps():
    """Injected instead of time.sleep: records the waits, never sleeps."""
    return []


# -- paged handlers shaped like each provider -------------------------------------------

def whapi_list(key, items, extra=None):
    """A WHAPI count/offset listing over ``items``."""
    def handler(request):
        count = int(request.query.get('count', 100))
        offset = int(request.query.get('offset', 0))
        if count < 1 or count > 500 or offset < 0:
            return Reply(400, {'error': {'code': 400, 'message': 'bad count/offset'}})
        chunk = items[offset:offset + count]
        body = {key: chunk, 'count': len(chunk), 'total': len(items), 'offset': offset}
        body.update(extra or {})
        return Reply(200, body)
    return handler


def wassenger_pages(items, cap=None):
    """A Wassenger page/size listing over ``items`` (bare arrays, ``page`` from 0,
    ``size`` default 20); ``cap``: a larger ``size`` is cut to it without a word."""
    def handler(request):
        page = int(request.query.get('page', 0))
        size = int(request.query.get('size', 20))
        if cap:
            size = min(size, cap)
        return Reply(200, items[page * size:(page + 1) * size])
    return handler


def wassenger_messages(items, cap=None):
    """Wassenger's message listing over ``items``: newest first, an exclusive ``after``,
    page/size; ``cap``: a larger ``size`` is cut to it without a word."""
    ordered = sorted(items, key=lambda m: m['date'], reverse=True)

    def handler(request):
        rows = ordered
        after = request.query.get('after')
        if after:
            rows = [m for m in rows if m['date'] > after]
        page = int(request.query.get('page', 0))
        size = int(request.query.get('size', 20))
        if cap:
            size = min(size, cap)
        return Reply(200, rows[page * size:(page + 1) * size])
    return handler
