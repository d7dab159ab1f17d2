"""The one phone normaliser and JID parser."""
from datetime import datetime, timedelta, timezone

import pytest

from providers import chat_key, chat_type_of, normalize_phone, parse_jid, person_key, user_id_phone
from providers.parsing import iso_utc, parse_time, to_unix_seconds


@pytest.mark.parametrize('raw, region, e164', [
    ('34600111222', None, '+34600111222'),                 # Spain, WhatsApp bare digits
    ('+34 600 11 12 22', None, '+34600111222'),
    ('0034600111222', None, '+34600111222'),               # 00 international prefix
    ('447911123456', None, '+447911123456'),               # UK mobile
    ('+44 (0)7911 123456', None, '+447911123456'),
    ('07911 123456', 'GB', '+447911123456'),               # national form with region
    ('16502530000', None, '+16502530000'),                 # US
    ('(650) 253-0000', 'US', '+16502530000'),
    ('+1-650-253-0000', None, '+16502530000'),
    ('919984351847', None, '+919984351847'),               # India
    ('966501234567', None, '+966501234567'),               # Saudi Arabia
    ('+971 50 123 4567', None, '+971501234567'),           # UAE
    ('+20 10 12345678', None, '+201012345678'),            # Egypt
    ('5511987654321', None, '+5511987654321'),             # Brazil, 9-digit mobile
    ('+52 55 1234 5678', None, '+525512345678'),           # Mexico
    ('+86 138 0013 8000', None, '+8613800138000'),         # China
    ('+7 912 345-67-89', None, '+79123456789'),            # Russia
    ('+49 1512 3456789', None, '+4915123456789'),          # Germany
    ('06 12 34 56 78', 'FR', '+33612345678'),              # France national
    ('+61 412 345 678', None, '+61412345678'),             # Australia
    ('2348031234567', None, '+2348031234567'),             # Nigeria
    ('34600111222@c.us', None, '+34600111222'),            # a user JID
    ('34600111222:7@s.whatsapp.net', None, '+34600111222'),
    ('\u202a+34 600 111 222\u202c', None, '+34600111222'),  # bidi marks from RTL UIs
])
def test_valid_numbers(raw, region, e164):
    result = normalize_phone(raw, default_region=region)
    assert result.valid is True and result.e164 == e164 and result.raw == raw
    assert result.value == e164


@pytest.mark.parametrize('raw, region', [
    ('12345', None),              # too short
    ('0612345678', None),         # national form, no region: not guessed
    ('(650) 253-0000', None),     # formatted local, no region: not guessed
    ('999999999999999', None),    # no such country
    ('+34 123', None),
    ('hello', None), ('hello', 'US'),
    ('123456789012345@lid', None),  # hidden number: not a phone
    ('120363000000000001@g.us', None),
    ('', None), ('   ', None),
])
def test_invalid_numbers_are_kept_and_flagged(raw, region):
    result = normalize_phone(raw, default_region=region)
    assert result.valid is False and result.e164 is None and result.raw == raw
    assert result.value == (raw.strip() or None)


def test_none_phone():
    result = normalize_phone(None)
    assert (result.e164, result.valid, result.raw, result.value) == (None, False, None, None)


@pytest.mark.parametrize('value, kind, key', [
    ('34600111222', 'user', '34600111222'),
    ('+34600111222', 'user', '34600111222'),
    ('+34 600 111 222', 'user', '34600111222'),
    ('34600111222@s.whatsapp.net', 'user', '34600111222'),
    ('34600111222@c.us', 'user', '34600111222'),
    ('34600111222@C.US', 'user', '34600111222'),
    ('34600111222:12@s.whatsapp.net', 'user', '34600111222'),
    ('34600111222.0:3@s.whatsapp.net', 'user', '34600111222'),
    (' 34600111222@c.us ', 'user', '34600111222'),
    (34600111222, 'user', '34600111222'),
    ('123456789012345@lid', 'lid', '123456789012345@lid'),
    ('123456789012345:4@lid', 'lid', '123456789012345@lid'),
    ('120363025246125486@g.us', 'group', '120363025246125486@g.us'),
    ('34600111222-1500000000@g.us', 'group', '34600111222-1500000000@g.us'),
    ('120363000000000009@newsletter', 'newsletter', '120363000000000009@newsletter'),
    ('status@broadcast', 'broadcast', 'status@broadcast'),
    ('abc@c.us', 'unknown', 'abc@c.us'),
    ('x@lid', 'unknown', 'x@lid'),
    ('foo@bar', 'unknown', 'foo@bar'),
    ('0612345678', 'unknown', '0612345678'),
    ('hello', 'unknown', 'hello'),
    ('', 'unknown', None),
    (None, 'unknown', None),
])
def test_parse_jid(value, kind, key):
    jid = parse_jid(value)
    assert (jid.kind, jid.key) == (kind, key)


def test_person_and_chat_keys():
    assert person_key('34600111222@c.us') == person_key('34600111222@s.whatsapp.net') == '34600111222'
    assert person_key('+34600111222') == '34600111222'
    assert person_key('1@lid') == '1@lid'
    assert person_key('120363025246125486@g.us') is None
    assert person_key(None) is None
    assert chat_key('120363025246125486@g.us') == '120363025246125486@g.us'
    assert chat_key('34600111222@c.us') == '34600111222'
    assert chat_type_of('34600111222@c.us') == 'contact'
    assert chat_type_of('1@lid') == 'contact'
    assert chat_type_of('1@g.us') == 'group'
    assert chat_type_of('zzz') == 'unknown'


@pytest.mark.parametrize('value, expected', [
    (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
    ('1700000000', datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
    (1700000000123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)),
    ('2024-01-01T10:00:00Z', datetime(2024, 1, 1, 10, tzinfo=timezone.utc)),
    ('2024-01-01T10:00:00.5Z', datetime(2024, 1, 1, 10, 0, 0, 500000, tzinfo=timezone.utc)),
    ('2024-01-01T12:00:00+02:00', datetime(2024, 1, 1, 10, tzinfo=timezone.utc)),
    ('2024-01-01T10:00:00', datetime(2024, 1, 1, 10, tzinfo=timezone.utc)),
    ('yesterday', None), (None, None), (True, None), ({}, None), (-5, None),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_time_helpers():
    moment = datetime(2024, 1, 1, 0, 0, 1, 999999, tzinfo=timezone.utc)
    assert to_unix_seconds(moment) == 1704067201
    assert iso_utc(moment) == '2024-01-01T00:00:01.999Z'
    other_zone = moment.astimezone(timezone(timedelta(hours=5)))
    assert iso_utc(other_zone) == '2024-01-01T00:00:01.999Z'


@pytest.mark.parametrize('key, value, valid', [
    ('34600111222', '+34600111222', True),
    ('34600111222@s.whatsapp.net', '+34600111222', True),
    ('447618258013', '+447618258013', False),     # unknown to the metadata, still international
    ('447618258013@c.us', '+447618258013', False),
    ('123456789012345@lid', None, False),          # hidden number
    ('120363000000000001@g.us', None, False),
    ('0612345678', None, False),                   # national form: not an id
    ('1234', None, False), ('', None, False), (None, None, False),
])
def test_a_user_id_is_its_international_number(key, value, valid):
    result = user_id_phone(key)
    assert (result.value, result.valid) == (value, valid)
