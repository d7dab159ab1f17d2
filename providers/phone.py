"""The one phone normaliser and the one WhatsApp id (JID) parser.

Both clients and everything above them go through these functions, so a
person met as ``34600111222``, ``+34600111222``, ``34600111222@c.us`` or
``34600111222:3@s.whatsapp.net`` always gets the same key.
"""
import functools
import re
from collections import namedtuple

import phonenumbers

__all__ = [
    'PhoneResult', 'normalize_phone', 'user_id_phone', 'Jid', 'parse_jid', 'person_key', 'chat_key',
    'chat_type_of', 'JID_KINDS',
]

JID_KINDS = ('user', 'lid', 'group', 'newsletter', 'broadcast', 'unknown')

# Servers WhatsApp uses for phone-number users: WHAPI/multi-device and WA-Web/Wassenger.
_USER_SERVERS = ('s.whatsapp.net', 'c.us')
# Characters people put between digits; stripped before deciding what a number is.
_SEPARATORS = re.compile(r'[\s\-().\/\u00a0\u200e\u200f\u202a-\u202e]')
_DIGITS = re.compile(r'^\d+$')
_GROUP_USER = re.compile(r'^[\d-]+$')
# Shortest and longest digit strings we accept as a phone-based person id
# (E.164 allows at most 15 digits; WHAPI's ContactID pattern is 7-15).
_MIN_PERSON_DIGITS = 5
_MAX_PERSON_DIGITS = 15


class PhoneResult(namedtuple('PhoneResult', 'e164 valid raw')):
    """Outcome of :func:`normalize_phone`.

    ``e164`` is set only for numbers ``phonenumbers`` says are valid; an invalid
    number keeps ``raw`` as given and ``valid`` False, so nothing is guessed.
    """
    __slots__ = ()

    @property
    def value(self):
        """What to store: the E.164 form when valid, else the input as given."""
        if self.e164:
            return self.e164
        if self.raw is None:
            return None
        text = str(self.raw).strip()
        return text or None


def normalize_phone(raw, default_region=None):
    """Return a :class:`PhoneResult` for ``raw`` (a phone number or a user JID).

    Bare digits, the way WhatsApp ids carry numbers, are read as international
    (country code first). ``00`` counts as the international prefix. Numbers in
    national form (leading trunk ``0`` or formatted without ``+``) need
    ``default_region`` (ISO country code such as ``'FR'``) to be parsed.

    Memoised: a sync meets the same senders on every page, and ``phonenumbers``
    costs a fraction of a millisecond per call. Results are immutable.
    """
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return _normalize_phone_cached(raw, default_region)
    return _normalize_phone(raw, default_region)


@functools.lru_cache(maxsize=50000)
def _normalize_phone_cached(raw, default_region):
    return _normalize_phone(raw, default_region)


def _normalize_phone(raw, default_region=None):
    """:func:`normalize_phone`, uncached."""
    if raw is None:
        return PhoneResult(None, False, None)
    text = str(raw).strip()
    if not text:
        return PhoneResult(None, False, raw)
    if '@' in text:
        jid = parse_jid(text)
        if jid.kind != 'user':
            return PhoneResult(None, False, raw)
        text = jid.key
    compact = _SEPARATORS.sub('', text)
    candidate, region = _candidate_and_region(text, compact, default_region)
    if candidate is None:
        return PhoneResult(None, False, raw)
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return PhoneResult(None, False, raw)
    if not phonenumbers.is_valid_number(number):
        return PhoneResult(None, False, raw)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneResult(e164, True, raw)


def user_id_phone(key):
    """The phone of a WhatsApp user id (``447618258013`` or its JID).

    WhatsApp builds these ids from international numbers, so the result's
    ``value`` is ``+<digits>`` even when ``phonenumbers``' metadata does not know
    the number (``valid`` then says False). Anything that is not a phone-based
    user id (``@lid``, groups, junk) gives an empty, invalid result.
    """
    result = normalize_phone(key)
    if result.valid:
        return result
    text = str(key or '').strip()
    digits = parse_jid(text).key if '@' in text else text
    if (_DIGITS.match(digits or '') and not digits.startswith('0')
            and _MIN_PERSON_DIGITS <= len(digits) <= _MAX_PERSON_DIGITS):
        return PhoneResult(None, False, '+' + digits)
    return PhoneResult(None, False, None)


def _candidate_and_region(text, compact, default_region):
    """Decide how ``phonenumbers`` should read the input; (None, None) = unreadable."""
    if compact.startswith('+'):
        return compact, None
    if compact.startswith('00') and _DIGITS.match(compact):
        return '+' + compact[2:], None
    if _DIGITS.match(compact):
        if compact.startswith('0'):
            # National number with trunk prefix: only a region can make sense of it.
            return (compact, default_region) if default_region else (None, None)
        if compact == text or not default_region:
            # Bare digits (WhatsApp style) or no region to lean on: international.
            return '+' + compact, None
        # Formatted local number such as "(202) 555-0123" with a region given.
        return compact, default_region
    if default_region:
        # Letters or other marks (extensions, vanity numbers): let the library judge.
        return text, default_region
    return None, None


class Jid(namedtuple('Jid', 'kind key raw')):
    """Outcome of :func:`parse_jid`: ``kind`` in JID_KINDS and the canonical ``key``."""
    __slots__ = ()


def parse_jid(value):
    """Classify a WhatsApp id and return its canonical key.

    * phone users (``d``, ``+d``, ``d@s.whatsapp.net``, ``d@c.us``, device
      suffixes ``d:12@…``): kind ``user``, key = the bare digits;
    * hidden-number users: kind ``lid``, key ``<digits>@lid``;
    * groups: kind ``group``, key ``<id>@g.us``;
    * channels: ``newsletter``; ``…@broadcast``: ``broadcast``;
    * anything else: ``unknown`` with the stripped input as key (None if empty).
    """
    if value is None or isinstance(value, bool):
        return Jid('unknown', None, value)
    text = str(value).strip()
    if not text:
        return Jid('unknown', None, value)
    if '@' not in text:
        digits = _SEPARATORS.sub('', text)
        if digits.startswith('+'):
            digits = digits[1:]
        elif digits.startswith('00'):
            digits = digits[2:]  # international call prefix
        elif digits.startswith('0') or digits != text:
            # National forms ("06 12...", "(650) 253-0000") carry no country code.
            return Jid('unknown', text, value)
        if _is_person_digits(digits):
            return Jid('user', digits, value)
        return Jid('unknown', text, value)
    user, server = text.rsplit('@', 1)
    server = server.lower()
    if server in _USER_SERVERS:
        digits = _strip_device(user)
        if digits.startswith('+'):
            digits = digits[1:]
        if _is_person_digits(digits):
            return Jid('user', digits, value)
        return Jid('unknown', text, value)
    if server == 'lid':
        digits = _strip_device(user)
        if _DIGITS.match(digits):
            return Jid('lid', digits + '@lid', value)
        return Jid('unknown', text, value)
    if server == 'g.us':
        if user and _GROUP_USER.match(user):
            return Jid('group', user + '@g.us', value)
        return Jid('unknown', text, value)
    if server == 'newsletter':
        return Jid('newsletter', user + '@newsletter', value)
    if server == 'broadcast':
        return Jid('broadcast', user + '@broadcast', value)
    return Jid('unknown', text, value)


def _strip_device(user):
    """Drop the multi-device part: ``d:12`` and ``d.0:12`` both become ``d``."""
    return user.split(':', 1)[0].split('.', 1)[0]


def _is_person_digits(digits):
    return bool(_DIGITS.match(digits)) and _MIN_PERSON_DIGITS <= len(digits) <= _MAX_PERSON_DIGITS


def person_key(value):
    """Person key (bare digits or ``<digits>@lid``) or None when ``value`` is no person."""
    jid = parse_jid(value)
    if jid.kind in ('user', 'lid'):
        return jid.key
    return None


def chat_key(value):
    """Chat key: person key for 1:1 chats, the full id for groups and channels.

    Unknown shapes are kept stripped rather than dropped, so no chat is lost.
    """
    return parse_jid(value).key


_CHAT_TYPE_BY_KIND = {
    'user': 'contact', 'lid': 'contact', 'group': 'group',
    'newsletter': 'newsletter', 'broadcast': 'broadcast', 'unknown': 'unknown',
}


def chat_type_of(value):
    """Canonical chat type (records.CHAT_TYPES) implied by an id's shape."""
    return _CHAT_TYPE_BY_KIND[parse_jid(value).kind]
