"""Downloading a message's file: both providers, through the one streamed request path."""
import io

import pytest

from conftest import TOKEN, Reply
from providers import Media, NotFoundError, TransientError, WassengerClient, WhapiClient
from providers.errors import FileTooLargeError
from providers.http import DOWNLOAD_CHUNK

DEVICE = '0123456789abcdef01234567'
#: a few chunks, so streaming is really exercised
FILE = bytes(range(256)) * (3 * DOWNLOAD_CHUNK // 256 + 7)


class CountingSink(object):
    """Records the size of every write, so a test can see the file was never held whole."""

    def __init__(self):
        self.buffer = io.BytesIO()
        self.writes = []

    def write(self, data):
        self.writes.append(len(data))
        self.buffer.write(data)


def whapi(server, sleeps):
    return WhapiClient(TOKEN, base_url=server.base_url, sleep=sleeps.append)


def wassenger(server, sleeps):
    return WassengerClient(TOKEN, base_url=server.base_url + '/v1', device_id=DEVICE, sleep=sleeps.append)


def file_reply(**extra):
    headers = {'Content-Type': 'image/jpeg', 'Content-Disposition': 'attachment; filename="suitcase.jpg"'}
    return Reply(200, raw=FILE, headers=headers, **extra)


WHAPI_PATH = '/media/img-1'
WASSENGER_PATH = '/v1/chat/%s/files/file-1/download' % DEVICE
CASES = [
    ('whapi', whapi, WHAPI_PATH, Media(media_id='img-1', file_size=len(FILE))),
    ('wassenger', wassenger, WASSENGER_PATH, Media(media_id='file-1', file_size=len(FILE))),
]


@pytest.mark.parametrize('name,make,path,media', CASES)
def test_download_streams_the_file(server, sleeps, name, make, path, media):
    server.route('GET', path, file_reply())
    sink = CountingSink()
    result = make(server, sleeps).download_media(media, sink)
    assert sink.buffer.getvalue() == FILE
    assert result.size == len(FILE)
    assert result.content_type == 'image/jpeg'
    assert result.file_name == 'suitcase.jpg'
    assert max(sink.writes) <= DOWNLOAD_CHUNK and len(sink.writes) >= 3
    request = server.calls('GET', path)[0]
    if name == 'whapi':
        assert request.headers['Authorization'] == 'Bearer %s' % TOKEN
    else:
        assert request.headers['Token'] == TOKEN


@pytest.mark.parametrize('name,make,path,media', CASES)
def test_expired_file_is_not_found(server, sleeps, name, make, path, media):
    server.route('GET', path, Reply(404, {'error': {'code': 404, 'message': 'Media not found'}}))
    sink = CountingSink()
    with pytest.raises(NotFoundError) as caught:
        make(server, sleeps).download_media(media, sink)
    assert caught.value.reason == 'not_found'
    assert sink.writes == []
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize('name,make,path,media', CASES)
def test_announced_size_over_the_cap_reads_nothing(server, sleeps, name, make, path, media):
    server.route('GET', path, file_reply())
    sink = CountingSink()
    with pytest.raises(FileTooLargeError) as caught:
        make(server, sleeps).download_media(media, sink, max_bytes=len(FILE) - 1)
    assert caught.value.reason == 'too_large'
    assert sink.writes == []


def test_streamed_size_over_the_cap_stops_reading(server, sleeps):
    """No Content-Length (chunked): the cap is enforced while reading."""
    def chunked(request):
        return Reply(200, raw=FILE, headers={'Content-Type': 'video/mp4'})
    server.route('GET', WHAPI_PATH, chunked)
    client = whapi(server, sleeps)
    sink = CountingSink()
    original = client._transport.session.request

    def without_length(*args, **kwargs):
        response = original(*args, **kwargs)
        response.headers.pop('Content-Length', None)
        return response
    client._transport.session.request = without_length
    with pytest.raises(FileTooLargeError):
        client.download_media(Media(media_id='img-1'), sink, max_bytes=DOWNLOAD_CHUNK + 10)
    assert sum(sink.writes) <= DOWNLOAD_CHUNK + 10


@pytest.mark.parametrize('name,make,path,media', CASES)
def test_interrupted_stream_is_transient(server, sleeps, name, make, path, media):
    server.route('GET', path, file_reply(cut_after=DOWNLOAD_CHUNK + 100))
    sink = CountingSink()
    with pytest.raises(TransientError) as caught:
        make(server, sleeps).download_media(media, sink)
    assert caught.value.reason == 'connection'
    assert 'stopped arriving' in str(caught.value)
    assert sum(sink.writes) < len(FILE)


def test_server_error_before_the_file_is_retried(server, sleeps):
    server.route_sequence('GET', WHAPI_PATH, [Reply(503, {'error': {'message': 'busy'}}), file_reply()])
    sink = CountingSink()
    whapi(server, sleeps).download_media(Media(media_id='img-1'), sink)
    assert sink.buffer.getvalue() == FILE
    assert len(sleeps) == 1


def test_huge_error_page_is_not_read_whole(server, sleeps):
    server.route('GET', WHAPI_PATH, Reply(400, raw=b'x' * (5 * 1024 * 1024)))
    with pytest.raises(Exception) as caught:
        whapi(server, sleeps).download_media(Media(media_id='img-1'), CountingSink())
    assert caught.value.status == 400
    assert len(str(caught.value)) < 1000


def test_media_without_id_is_not_found(server, sleeps):
    with pytest.raises(NotFoundError):
        whapi(server, sleeps).download_media(Media(), CountingSink())
    assert server.requests == []


def test_wassenger_uses_its_download_link_without_an_id(server, sleeps):
    server.route('GET', WASSENGER_PATH, file_reply())
    sink = CountingSink()
    wassenger(server, sleeps).download_media(Media(url='/v1/chat/%s/files/file-1/download' % DEVICE), sink)
    assert sink.buffer.getvalue() == FILE


@pytest.mark.parametrize('link', ['https://evil.example/steal', '/v1/devices/x', '//evil.example/chat/a/files/b/download',
                                  '/v1/chat/a/files/b/download?token=x', None])
def test_wassenger_refuses_a_link_elsewhere(server, sleeps, link):
    with pytest.raises(NotFoundError):
        wassenger(server, sleeps).download_media(Media(url=link), CountingSink())
    assert server.requests == []


def test_file_name_from_rfc2231_disposition(server, sleeps):
    server.route('GET', WHAPI_PATH, Reply(200, raw=b'%PDF-1.4', headers={
        'Content-Type': 'application/pdf; charset=binary',
        'Content-Disposition': "attachment; filename*=UTF-8''factura%20n%C2%BA%201.pdf"}))
    result = whapi(server, sleeps).download_media(Media(media_id='img-1'), CountingSink())
    assert result.file_name == 'factura n\u00ba 1.pdf'
    assert result.content_type == 'application/pdf'


def test_quoted_reply_is_sent(server, sleeps):
    server.route('POST', '/messages/text', Reply(201, {'sent': True, 'message': {'id': 'new-1', 'status': 'pending'}}))
    whapi(server, sleeps).send_text('34600111222', 'Yes, it is', quoted_id='old-1')
    assert server.calls('POST', '/messages/text')[0].json['quoted'] == 'old-1'
    server.route('POST', '/v1/messages', Reply(201, {'id': 'a' * 24, 'status': 'queued'}))
    wassenger(server, sleeps).send_text('34600111222', 'Yes, it is', quoted_id='old-2')
    assert server.calls('POST', '/v1/messages')[0].json['quote'] == 'old-2'


def test_mark_read_only_where_the_provider_offers_it(server, sleeps):
    server.route('PUT', '/messages/in-1', Reply(200, {'success': True}))
    client = whapi(server, sleeps)
    assert client.supports('mark_read')
    client.mark_read('34600111222', 'in-1')
    assert len(server.calls('PUT', '/messages/in-1')) == 1
    other = wassenger(server, sleeps)
    assert not other.supports('mark_read')
    with pytest.raises(Exception) as caught:
        other.mark_read('34600111222', 'in-1')
    assert caught.value.reason == 'unsupported'
