"""Items a provider (or a hostile sender's client) can send that the database
cannot store as they are: cleaned, capped or skipped in the parsers."""
import json

import pytest

from providers import parse_webhook
from providers.parsing import MAX_FILE_SIZE, MAX_ID_LENGTH, MAX_NAME_LENGTH, clean_text


def whapi_payload(*messages):
    return json.dumps({'event': {'type': 'messages', 'event': 'post'}, 'channel_id': 'C1',
                       'messages': list(messages)}).encode()


def whapi_message(message_id='m1', **extra):
    item = {'id': message_id, 'type': 'text', 'chat_id': '34600000001@s.whatsapp.net',
            'from': '34600000001', 'from_me': False, 'from_name': 'Ana', 'timestamp': 1767225600,
            'text': {'body': 'hello'}}
    item.update(extra)
    return item


def test_lone_surrogates_and_nul_are_cleaned():
    raw = b'{"event": {"type": "messages", "event": "post"}, "messages": [' \
          b'{"id": "m1", "type": "text", "chat_id": "34600000001@s.whatsapp.net", "from": "34600000001",' \
          b' "from_me": false, "from_name": "A\\ud800na\\u0000", "timestamp": 1767225600,' \
          b' "text": {"body": "bad \\udfff half \\u0000 pair, good \\ud83d\\ude00 pair"}}]}'
    batch = parse_webhook('whapi', raw)
    message = batch.messages[0]
    assert message.body == 'bad \ufffd half  pair, good \U0001F600 pair'
    assert message.sender_name == 'A\ufffdna'
    message.body.encode('utf-8')  # storable


def test_an_id_too_long_skips_the_item_and_keeps_the_others():
    batch = parse_webhook('whapi', whapi_payload(whapi_message('x' * (MAX_ID_LENGTH + 1)), whapi_message('ok')))
    assert [message.message_id for message in batch.messages] == ['ok']
    assert len(batch.skipped) == 1 and 'longer than' in batch.skipped[0].reason


def test_names_are_capped_and_absurd_file_sizes_dropped():
    image = {'id': 'media-1', 'mime_type': 'image/jpeg', 'file_size': MAX_FILE_SIZE + 1, 'caption': 'c'}
    batch = parse_webhook('whapi', whapi_payload(
        whapi_message('m1', from_name='N' * 5000),
        whapi_message('m2', type='image', image=image, text=None),
        whapi_message('m3', type='image', image=dict(image, file_size=2048), text=None)))
    by_id = {message.message_id: message for message in batch.messages}
    assert len(by_id['m1'].sender_name) == MAX_NAME_LENGTH
    assert by_id['m2'].media.file_size is None
    assert by_id['m3'].media.file_size == 2048


@pytest.mark.parametrize('text, expected', [('a\x00b', 'ab'), ('\ud800', '\ufffd'), ('ok', 'ok')])
def test_clean_text(text, expected):
    assert clean_text(text) == expected

