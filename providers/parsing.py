"""Small helpers both clients use to turn provider items into records.

Kept here so each rule (time parsing, page building, media type guessing)
exists once; the provider-specific field names stay in the client modules.
"""
import base64
import logging
import mimetypes
import re
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from .errors import BadPayloadError
from .phone import person_key
from .records import PARTICIPANT_ACTIONS, InviteLink, Page, Skipped

_logger = logging.getLogger(__name__)

__all__ = [
    'ItemError', 'build_page', 'clean_record', 'clean_text', 'parse_time', 'to_unix_seconds', 'iso_utc', 'as_bool',
    'as_int', 'as_text', 'require_dict', 'require_text', 'guess_media_type', 'data_uri',
    'guess_mime_type', 'resolve_mime_type', 'expect_list', 'path_segment', 'map_value', 'MessageStream', 'MEDIA_SEND_TYPES',
    'same_url', 'invite_link', 'INVITE_URL_PREFIX', 'check_participant_action',
    'split_person_keys', 'read_refusals', 'settle_outcome', 'NOT_A_PERSON', 'hidden_number_reason',
    'poll_text', 'location_text', 'vcard_phones', 'vcard_name', 'contact_card_text',
]

MEDIA_SEND_TYPES = ('image', 'video', 'audio', 'voice', 'document')

# Unix times above this are milliseconds (year 33658 in seconds).
_MILLISECONDS_THRESHOLD = 10 ** 12
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ItemError(ValueError):
    """One item of a page cannot be read; becomes a :class:`Skipped`."""


#: longest id kept: WhatsApp ids are far shorter; longer ones are not WhatsApp's and
#: would not fit a database index entry
MAX_ID_LENGTH = 256
#: names, file names, MIME types and other short texts are cut to this length
MAX_NAME_LENGTH = 1024
#: bodies, captions and descriptions (WhatsApp allows 65,536 characters)
MAX_TEXT_LENGTH = 100000
#: a media size must fit a 32-bit integer column
MAX_FILE_SIZE = 2 ** 31 - 1
_ID_FIELDS = frozenset(('message_id', 'chat_id', 'contact_id', 'group_id', 'sender_id', 'media_id',
                        'whatsapp_message_id', 'quoted_message_id'))
_LONG_TEXT_FIELDS = frozenset(('body', 'description', 'url'))
_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def clean_text(value):
    """Text PostgreSQL can store: no NUL character, no lone UTF-16 surrogate (valid
    JSON such as "\\ud800" decodes to one, and no encoder accepts it)."""
    if '\x00' in value:
        value = value.replace('\x00', '')
    if value.isascii():
        return value
    return _LONE_SURROGATE.sub('\ufffd', value)


def clean_record(record):
    """Make a parsed record storable, in place: clean texts, cap lengths, drop an
    out-of-range file size. An id too long to be WhatsApp's raises ItemError."""
    if isinstance(record, list):
        for item in record:
            clean_record(item)
        return record
    if not is_dataclass(record):
        return record
    for item in dataclass_fields(record):
        name = item.name
        value = getattr(record, name)
        if isinstance(value, str):
            value = clean_text(value)
            if name in _ID_FIELDS:
                if len(value) > MAX_ID_LENGTH:
                    raise ItemError('%s longer than %d characters' % (name, MAX_ID_LENGTH))
            else:
                value = value[:MAX_TEXT_LENGTH if name in _LONG_TEXT_FIELDS else MAX_NAME_LENGTH]
            setattr(record, name, value)
        elif name == 'file_size' and isinstance(value, int) and not 0 <= value <= MAX_FILE_SIZE:
            setattr(record, name, None)
        elif name == 'members' and isinstance(value, list):
            kept = []
            for member in value:
                try:
                    kept.append(clean_record(member))
                except ItemError as exc:
                    record.skipped.append(Skipped('member', str(exc), None))
            record.members = kept
        elif is_dataclass(value) and not isinstance(value, type):
            clean_record(value)
    return record


def build_page(raw_items, parse_item, kind, id_field=None):
    """Parse every raw item into a Page, turning unreadable ones into Skipped.

    ``parse_item`` returns a record, or None for an item that is deliberately
    not ours (e.g. a channel in a group list); ItemError means "bad item".
    ``id_field`` is a callable returning the item's id for the Skipped record.
    """
    page = Page()
    for raw in raw_items:
        try:
            record = clean_record(parse_item(raw))
        except ItemError as exc:
            external_id = _safe_id(raw, id_field)
            page.skipped.append(Skipped(kind=kind, reason=str(exc), external_id=external_id))
            _logger.debug('Skipped %s %s: %s', kind, external_id, exc)
            continue
        if record is not None:
            page.items.append(record)
    return page


def _safe_id(raw, id_field):
    if id_field is None or not isinstance(raw, dict):
        return None
    try:
        value = id_field(raw)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def require_dict(value, what):
    """An item must be a JSON object."""
    if not isinstance(value, dict):
        raise ItemError('%s is not an object' % what)
    return value


def require_text(item, key, what=None):
    """A required non-empty string (numbers are accepted and stringified)."""
    value = item.get(key)
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise ItemError('missing or invalid %s' % (what or key))
    text = str(value).strip()
    if not text:
        raise ItemError('missing or invalid %s' % (what or key))
    return text


def as_text(value):
    """Optional string: None for missing, empty or non-scalar values."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value)
    return text if text.strip() else None


def as_bool(value, default=False):
    """Booleans as providers send them: true/false, 1/0, 'true'/'false'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ('true', '1', 'yes'):
            return True
        if lowered in ('false', '0', 'no', ''):
            return False
    return default


def as_int(value):
    """Optional integer; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_time(value):
    """Unix seconds (number or digit string, ms tolerated) or ISO-8601 -> aware UTC.

    Returns None when ``value`` is absent or unreadable.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _from_unix(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _from_unix(float(text))
    except ValueError:
        pass
    return _from_iso(text)


def _from_unix(number):
    if number != number or number < 0:  # NaN or negative
        return None
    if number > _MILLISECONDS_THRESHOLD:
        number = number / 1000.0
    try:
        return _EPOCH + timedelta(seconds=number)
    except OverflowError:
        return None


def _from_iso(text):
    if text.endswith(('Z', 'z')):
        text = text[:-1] + '+00:00'
    # Python 3.7's fromisoformat wants exactly 3 or 6 fraction digits.
    text = _normalise_fraction(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _normalise_fraction(text):
    if '.' not in text:
        return text
    head, tail = text.split('.', 1)
    digits = ''
    for char in tail:
        if not char.isdigit():
            break
        digits += char
    rest = tail[len(digits):]
    if not digits:
        return text
    return '%s.%s%s' % (head, (digits + '000000')[:6], rest)


def to_unix_seconds(moment):
    """Aware datetime -> whole unix seconds (floor), naive read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return delta.days * 86400 + delta.seconds


def iso_utc(moment):
    """Aware datetime -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def guess_mime_type(file_name, mime_type=None):
    """The given MIME type, else one guessed from the file name, else octet-stream."""
    if mime_type:
        return mime_type
    if file_name:
        guessed = mimetypes.guess_type(file_name)[0]
        if guessed:
            return guessed
    return 'application/octet-stream'


def resolve_mime_type(file_bytes, file_name, mime_type, url):
    """MIME type of a file to send: given, else from the name or URL.

    Bytes always get one (octet-stream at worst) since they travel inline.
    """
    if file_bytes is not None:
        return guess_mime_type(file_name, mime_type)
    if mime_type:
        return mime_type
    return mimetypes.guess_type(file_name or (url or '').split('?', 1)[0])[0]


def guess_media_type(media_type, mime_type):
    """The send type: given one (checked) or derived from the MIME family."""
    if media_type:
        if media_type not in MEDIA_SEND_TYPES:
            raise ValueError('media_type must be one of %s, not %r' % (', '.join(MEDIA_SEND_TYPES), media_type))
        return media_type
    family = (mime_type or '').split('/', 1)[0].lower()
    if family in ('image', 'video', 'audio'):
        return family
    return 'document'


def data_uri(file_bytes, mime_type):
    """``data:<mime>;base64,<payload>`` for providers taking inline files."""
    payload = base64.b64encode(file_bytes).decode('ascii')
    return 'data:%s;base64,%s' % (mime_type, payload)


def expect_list(value, what):
    """A page's list of items; anything else means the envelope is wrong."""
    if not isinstance(value, list):
        raise BadPayloadError('%s: expected a list, got %s' % (what, type(value).__name__))
    return value


def path_segment(value):
    """One URL path segment: ids such as ``…@g.us`` keep their ``@``."""
    return quote(str(value), safe='@:')


def map_value(value, mapping, default=None):
    """Look a provider word up case-insensitively in ``mapping``."""
    if value is None or isinstance(value, (bool, dict, list)):
        return default
    return mapping.get(str(value).strip().lower(), default)


class MessageStream(object):
    """Per-call bookkeeping of ``iter_messages``: de-duplication and the limit.

    Pages shift while new messages arrive, so the same id can come twice in
    one call; only its first occurrence is kept. ``limit`` counts messages
    actually yielded (None or 0: no limit).
    """

    def __init__(self, limit=None):
        self.seen = set()
        self.remaining = limit if limit else None

    def take(self, page):
        """Drop repeated ids and cut the page at the limit; return the page."""
        fresh = []
        for message in page.items:
            if message.message_id in self.seen:
                continue
            self.seen.add(message.message_id)
            fresh.append(message)
        if self.remaining is not None:
            fresh = fresh[:self.remaining]
            self.remaining -= len(fresh)
        page.items = fresh
        return page

    @property
    def done(self):
        return self.remaining is not None and self.remaining <= 0


# -- group and contact management ------------------------------------------------------

INVITE_URL_PREFIX = 'https://chat.whatsapp.com/'
#: reason given for an input that is neither a phone number nor a WhatsApp person id
NOT_A_PERSON = 'not a phone number or WhatsApp id'


def hidden_number_reason(provider_label):
    """Why a hidden-number person (``<digits>@lid``) was left out of a group request."""
    return ('hidden number: WhatsApp does not share this person\'s phone number and %s '
            'could not match it to one; group changes need the phone number (ask the person '
            'for it, or share the group\'s invite link)' % provider_label)


def same_url(first, second):
    """Two webhook URLs name the same endpoint (whitespace and a final ``/`` aside)."""
    first, second = as_text(first), as_text(second)
    if not first or not second:
        return False
    return first.strip().rstrip('/') == second.strip().rstrip('/')


def invite_link(value):
    """InviteLink from a bare code or a ``chat.whatsapp.com`` URL; None when empty."""
    text = as_text(value)
    if not text:
        return None
    code = text.strip().rstrip('/').rsplit('/', 1)[-1]
    if not code:
        return None
    return InviteLink(code=code, url=INVITE_URL_PREFIX + code)


def check_participant_action(action):
    """The action, if it is one of PARTICIPANT_ACTIONS; else ValueError (a caller bug)."""
    if action not in PARTICIPANT_ACTIONS:
        raise ValueError('action must be one of %s, not %r' % (', '.join(PARTICIPANT_ACTIONS), action))
    return action


def split_person_keys(values):
    """Person keys of ``values`` (deduplicated, in order) and the inputs that are none.

    Returns ``(keys, refused)``; ``refused`` holds ``(input as given, reason)``
    so a caller can report them without asking the provider.
    """
    if isinstance(values, (str, bytes)):
        values = [values]
    keys, refused = [], []
    for value in values or ():
        key = person_key(value)
        if key is None:
            refused.append((str(value), NOT_A_PERSON))
        elif key not in keys:
            keys.append(key)
    return keys, refused


# Keys providers (may) use for a per-participant reason, in the order we trust them.
_REASON_KEYS = ('reason', 'error', 'message', 'status', 'code')
_ID_KEYS = ('id', 'wid', 'phone', 'participant', 'input', 'wa_id')


def read_refusals(value, default_reason='refused by the provider'):
    """``[(person key, reason)]`` from a provider's list of refused participants.

    Tolerates ids (``["3460..."]``) and objects (``[{"id"|"wid"|"phone",
    "reason"|"error"|"message"...}]``); entries without a person id are dropped.
    """
    if isinstance(value, dict):
        # {"<id>": "<reason>"} maps
        value = [{'id': key, 'reason': reason} for key, reason in value.items()]
    if not isinstance(value, list):
        return []
    refusals = []
    for entry in value:
        reason = None
        raw = entry
        if isinstance(entry, dict):
            raw = next((entry[key] for key in _ID_KEYS if as_text(entry.get(key))), None)
            for key in _REASON_KEYS:
                found = entry.get(key)
                if isinstance(found, dict):
                    found = found.get('message') or found.get('code')
                reason = as_text(found)
                if reason:
                    break
        key = person_key(raw)
        if key is not None:
            refusals.append((key, reason or default_reason))
    return refusals


def settle_outcome(requested, refusals, confirmed=None, missing_reason=None):
    """Split ``requested`` person keys into ``(done, refused)``.

    ``refusals``: ``(key, reason)`` the provider reported. ``confirmed``: keys
    the provider says it processed, or None when it did not say (then every
    key not refused counts as done: a 2xx with nothing to add means success).
    A key missing from a given ``confirmed`` is refused with ``missing_reason``.
    """
    reasons = dict(refusals)
    confirmed_set = set(confirmed) if confirmed is not None else None
    done, refused = [], []
    for key in requested:
        if key in reasons:
            refused.append((key, reasons[key]))
        elif confirmed_set is None or key in confirmed_set:
            done.append(key)
        else:
            refused.append((key, missing_reason or 'not confirmed by the provider'))
    return done, refused


# -- readable bodies of structured messages (polls, places, contact cards) -------------

def poll_text(title, options):
    """``📊 Title`` and one ``• option`` line per option."""
    lines = [u'\U0001F4CA %s' % (title or '')]
    lines += [u'\u2022 %s' % option for option in options if option]
    return '\n'.join(lines).strip()


def location_text(name=None, address=None, latitude=None, longitude=None, label=None):
    """``📍 name, address (lat, lng)``; ``label`` stands in when there is no name."""
    words = ', '.join(part for part in (as_text(name), as_text(address)) if part) or (label or '')
    coordinates = ''
    if _is_number(latitude) and _is_number(longitude):
        coordinates = '(%s, %s)' % (_coordinate(latitude), _coordinate(longitude))
    text = ' '.join(part for part in (words, coordinates) if part)
    return (u'\U0001F4CD ' + text) if text else None


def _is_number(value):
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _coordinate(value):
    return ('%.6f' % float(value)).rstrip('0').rstrip('.')


_VCARD_NAME = re.compile(r'^FN[;:](?:[^:\r\n]*:)?(.*)$', re.MULTILINE)
_VCARD_TEL = re.compile(r'^(?:item\d+\.)?TEL([^:\r\n]*):(.*)$', re.MULTILINE | re.IGNORECASE)
_VCARD_WAID = re.compile(r'waid=(\d+)', re.IGNORECASE)


def vcard_phones(vcard):
    """Phone numbers of a vCard's TEL lines, as written there (``waid`` digits when the
    line has no number)."""
    phones = []
    for params, number in _VCARD_TEL.findall(vcard or ''):
        number = number.strip()
        if not number:
            waid = _VCARD_WAID.search(params)
            number = '+' + waid.group(1) if waid else ''
        if number and number not in phones:
            phones.append(number)
    return phones


def vcard_name(vcard):
    found = _VCARD_NAME.search(vcard or '')
    return found.group(1).strip() if found else None


def contact_card_text(name, phones):
    """``👤 Name: +34 600 111 222, …`` for one contact card."""
    phones = [phone for phone in phones or () if phone]
    text = (name or '').strip()
    if phones:
        text = '%s: %s' % (text, ', '.join(phones)) if text else ', '.join(phones)
    return (u'\U0001F464 ' + text) if text else None
