"""Provider webhooks: check a delivery is genuine, then read it into records.

Both entry points take the provider name and the raw request body, so the
HTTP controller above stays provider-agnostic:

* :func:`verify_webhook` compares in constant time and never logs the secret;
* :func:`parse_webhook` turns one delivery into a :class:`WebhookBatch`. A body
  that is not JSON or not the provider's top-level shape raises
  BadPayloadError; an item that cannot be read becomes a Skipped; an event we
  do not handle is named in ``ignored_events``.

Items are read with the same parsers the clients use for their listings
(``whapi.parse_message``, ``wassenger.parse_message``...), so a message looks
the same whether it came from a sync or a webhook.
"""
import hashlib
import hmac
import json
import logging
import re

from . import wassenger, whapi
from .wassenger import WASSENGER_SIGNATURE_HEADER
from .whapi import WHAPI_SECRET_HEADER
from .errors import BadPayloadError, ConfigurationError
from .parsing import ItemError, as_bool, as_text, build_page, parse_time, require_dict, require_text
from .phone import chat_key, parse_jid, person_key
from .records import (
    PARTICIPANT_ACTIONS, AccountHealth, Contact, Group, Message, MessageDeletion, MessageEdit,
    ParticipantChange, PollVote, Skipped, StatusUpdate, WebhookBatch, action_events,
)

_logger = logging.getLogger(__name__)

__all__ = [
    'verify_webhook', 'webhook_signature', 'parse_webhook', 'WHAPI_SECRET_HEADER',
    'WASSENGER_SIGNATURE_HEADER', 'WEBHOOK_PROVIDERS', 'SIGNATURE_VALID', 'SIGNATURE_INVALID',
    'SIGNATURE_ABSENT',
]

# Wassenger signs the raw body: ``sha256=<hex HMAC-SHA256 keyed with the secret>``.
_SIGNATURE_SCHEME = 'sha256'

WEBHOOK_PROVIDERS = ('whapi', 'wassenger')
_LABELS = {'whapi': 'WHAPI', 'wassenger': 'Wassenger'}


# -- verification ----------------------------------------------------------------------

#: what :func:`webhook_signature` finds on a delivery
SIGNATURE_VALID, SIGNATURE_INVALID, SIGNATURE_ABSENT = 'valid', 'invalid', 'absent'


def verify_webhook(provider, raw_body, headers, secret):
    """True only when ``headers`` prove the delivery comes from the provider.

    ``headers``: any mapping (or list of pairs); names are matched
    case-insensitively. An empty or missing ``secret`` never verifies.
    """
    return webhook_signature(provider, raw_body, headers, secret) == SIGNATURE_VALID


def webhook_signature(provider, raw_body, headers, secret):
    """``'absent'`` when the delivery carries no signature (WHAPI: no secret header),
    ``'valid'`` when it proves knowledge of ``secret``, else ``'invalid'`` (a
    signature that cannot be checked, for want of a ``secret``, is invalid)."""
    _check_provider(provider)
    name = WHAPI_SECRET_HEADER if provider == 'whapi' else WASSENGER_SIGNATURE_HEADER
    given = _header(headers, name)
    if given is None:
        return SIGNATURE_ABSENT
    if secret and _signature_matches(provider, raw_body, given, _to_bytes(secret)):
        return SIGNATURE_VALID
    return SIGNATURE_INVALID


def _signature_matches(provider, raw_body, given, key):
    if provider == 'whapi':
        return hmac.compare_digest(_to_bytes(given.strip()), key)
    signature = given.strip()
    if '=' in signature:
        scheme, _sep, signature = signature.partition('=')
        if scheme.strip().lower() != _SIGNATURE_SCHEME:
            return False
    expected = hmac.new(key, _to_bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(_to_bytes(signature.strip().lower()), _to_bytes(expected))


def _check_provider(provider):
    if provider not in WEBHOOK_PROVIDERS:
        raise ConfigurationError('Unknown WhatsApp provider %r for a webhook (known: %s)'
                                 % (provider, ', '.join(WEBHOOK_PROVIDERS)))


def _to_bytes(value):
    if value is None:
        return b''
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode('utf-8')


def _header(headers, name):
    """Header value by case-insensitive name (``_`` counts as ``-``); None if absent."""
    if not headers:
        return None
    wanted = name.lower().replace('_', '-')
    pairs = headers.items() if hasattr(headers, 'items') else headers
    for key, value in pairs:
        if str(key).lower().replace('_', '-') != wanted:
            continue
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode('latin-1')
        return None if value is None else str(value)
    return None


# -- parsing: common ---------------------------------------------------------------------

def parse_webhook(provider, raw_body):
    """Read one webhook delivery into a :class:`WebhookBatch` (see the module doc)."""
    _check_provider(provider)
    payload = _decode_json(raw_body, _LABELS[provider])
    if provider == 'whapi':
        batch = _parse_whapi(payload)
    else:
        batch = _parse_wassenger(payload)
    if batch.skipped:
        _logger.info('%s webhook: %d item(s) skipped', _LABELS[provider], len(batch.skipped))
    return batch


#: deeper JSON is refused before it is parsed: no provider nests its events like that,
#: and the parser would otherwise hit Python's recursion limit in the middle of a request
MAX_JSON_DEPTH = 200
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r'[\[\]{}]')


def _nesting_depth(text):
    """The deepest ``[``/``{`` nesting of a JSON text (strings ignored), without recursion."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub('', text)):
        if bracket in '[{':
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _decode_json(raw_body, label):
    if raw_body is None or not _to_bytes(raw_body).strip():
        raise BadPayloadError('%s webhook: the body is empty' % label)
    try:
        text = _to_bytes(raw_body).decode('utf-8-sig')
    except UnicodeDecodeError:
        raise BadPayloadError('%s webhook: the body is not UTF-8 text' % label)
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise BadPayloadError('%s webhook: the JSON is nested too deeply' % label)
    try:
        return json.loads(text)
    except RecursionError:
        raise BadPayloadError('%s webhook: the JSON is nested too deeply' % label)
    except ValueError as exc:
        # The position is enough to debug; the body itself may hold personal data.
        where = ' (line %s, column %s)' % (exc.lineno, exc.colno) if hasattr(exc, 'lineno') else ''
        raise BadPayloadError('%s webhook: the body is not JSON%s' % (label, where))


# Which WebhookBatch list each record type goes to.
_BATCH_LISTS = (
    (Message, 'messages'), (StatusUpdate, 'statuses'), (MessageEdit, 'edits'),
    (MessageDeletion, 'deletions'), (PollVote, 'votes'), (ParticipantChange, 'participant_changes'),
    (Contact, 'contacts'), (Group, 'groups'), (Skipped, 'skipped'),
)


def _add(batch, records):
    """Put a record (or a list of records, None ignored) into its batch list."""
    if records is None:
        return
    if not isinstance(records, list):
        records = [records]
    for record in records:
        for record_type, attribute in _BATCH_LISTS:
            if isinstance(record, record_type):
                getattr(batch, attribute).append(record)
                break
        else:
            raise TypeError('not a webhook record: %r' % (record,))


def _collect(batch, raw_items, parse_item, kind, id_field):
    """Parse a list of items into ``batch``; unreadable ones become Skipped."""
    page = build_page(raw_items, parse_item, kind, id_field)
    for records in page.items:
        _add(batch, records)
    batch.skipped.extend(page.skipped)


def _add_event_id(batch, event_id):
    if event_id and event_id not in batch.event_ids:
        batch.event_ids.append(event_id)


def _error_reason(value):
    """A provider's error as one sentence: string, ``{message|details|title}`` or a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return (as_text(value.get('message')) or as_text(value.get('details'))
                or as_text(value.get('title')) or as_text(value.get('reason'))
                or as_text(value.get('code')))
    return as_text(value)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _raw_id(item):
    if not isinstance(item, dict):
        return as_text(item)
    return as_text(item.get('id')) or as_text(item.get('wid'))


# -- parsing: WHAPI ----------------------------------------------------------------------
#
# Body-mode payload: {"event": {"type", "event"|"method"}, "channel_id", <key>: [...]}.
# The keys below are the ones that carry something we store; any other key
# (chats, presences, calls, labels, health, user...) is an ignored event.

def _parse_whapi(payload):
    if not isinstance(payload, dict):
        raise BadPayloadError('WHAPI webhook: expected a JSON object, got %s' % _json_type(payload))
    event = payload.get('event')
    if event is not None and not isinstance(event, dict):
        raise BadPayloadError('WHAPI webhook: "event" is not an object')
    present = [key for key, _kind, _parse in _WHAPI_LISTS if payload.get(key) is not None]
    if event is None and not present:
        raise BadPayloadError('WHAPI webhook: not a WHAPI payload (no "event" and no known list)')
    batch = WebhookBatch(account_id=as_text(payload.get('channel_id')))
    for key, kind, parse_item in _WHAPI_LISTS:
        if key not in present:
            continue
        items = payload[key]
        if not isinstance(items, list):
            raise BadPayloadError('WHAPI webhook: "%s" is not a list' % key)
        _collect(batch, items, parse_item, kind, _raw_id)
    batch.health = _whapi_health(payload, event)
    if payload.get('messages_removed_all') is not None:
        # "Clear chat" on our own phone: not a deletion for everyone; nothing to store.
        batch.ignored_events.append('messages.delete (chat cleared)')
    elif not present and batch.health is None:
        batch.ignored_events.append(_whapi_event_name(event))
    for message in batch.messages:
        _add_event_id(batch, message.message_id)
    return batch


# Channel states (W2 ``ChannelStatus``; W6 adds STOP and SYNC_ERROR) that mean the
# account cannot work until someone acts; INIT and LAUNCH are passing states.
_WHAPI_DOWN_STATES = {'QR': 'qr', 'NOT_INIT': 'error', 'ERROR': 'error', 'STOP': 'error',
                      'SYNC_ERROR': 'error'}
# status.code of the texts above, for a payload with a code only (W6 examples; 4 inferred)
_WHAPI_STATE_CODES = {1: 'INIT', 2: 'LAUNCH', 3: 'QR', 4: 'AUTH', 5: 'ERROR'}


def _whapi_health(payload, event):
    """AccountHealth of a ``channel`` event (``health.status``) or a ``users`` event
    (``post`` = logged in, ``delete`` = logged out, W6), else None."""
    event = _dict(event)
    kind = (as_text(event.get('type')) or '').lower()
    method = (as_text(event.get('event')) or as_text(event.get('method')) or '').lower()
    if kind == 'users' or (not kind and isinstance(payload.get('user'), dict)):
        if method == 'delete':
            return AccountHealth(connected=False, reason='logout', status='users.delete')
        if method == 'post':
            return AccountHealth(connected=True, reason='login', status='users.post')
        return None
    health = payload.get('health')
    if not isinstance(health, dict):
        return None
    status = health.get('status')
    if isinstance(status, dict):
        text = as_text(status.get('text'))
        if not text:
            try:
                text = _WHAPI_STATE_CODES.get(int(status.get('code')))
            except (TypeError, ValueError):
                text = None
    else:
        text = as_text(status)
    text = (text or '').strip().upper()
    if text == 'AUTH':
        return AccountHealth(connected=True, reason='online', status=text)
    if text in _WHAPI_DOWN_STATES:
        return AccountHealth(connected=False, reason=_WHAPI_DOWN_STATES[text], status=text)
    return None


def _whapi_event_name(event):
    event = _dict(event)
    kind = as_text(event.get('type')) or 'unknown'
    method = as_text(event.get('event')) or as_text(event.get('method'))
    return '%s.%s' % (kind, method) if method else kind


def _whapi_message(item):
    """A message; an ``action`` message is the edit, deletion or vote it announces
    (nothing for a setting such as disappearing messages), never a message itself."""
    message = whapi.parse_message(item)
    if message.action:
        return action_events(message)
    return message


def _whapi_message_update(item):
    """``messages_updates[]``: an edit (new text) or a deletion; None if neither."""
    item = require_dict(item, 'message update')
    after = _dict(item.get('after_update'))
    trigger = _dict(item.get('trigger'))
    message_id = as_text(item.get('id')) or as_text(after.get('id'))
    if not message_id:
        raise ItemError('missing or invalid id')
    chat = as_text(after.get('chat_id')) or as_text(trigger.get('chat_id'))
    if _whapi_is_deletion(item, after, trigger):
        return MessageDeletion(message_id=message_id, chat_id=chat_key(chat) if chat else None)
    if not after and not trigger:
        raise ItemError('no after_update')
    body = whapi.message_text(after)
    if body is None and isinstance(trigger.get('action'), dict):
        body = whapi.edited_text(trigger['action'])
    before = item.get('before_update')
    if body is None or (isinstance(before, dict) and whapi.message_text(before) == body):
        return None  # reactions, labels, stars...: no text change to store
    return MessageEdit(message_id=message_id, body=body,
                       timestamp=parse_time(trigger.get('timestamp')), chat_id=chat_key(chat) if chat else None)


def _whapi_is_deletion(item, after, trigger):
    if whapi.map_status(after.get('status')) == 'deleted':
        return True
    if (as_text(after.get('type')) or '').lower() in ('revoked', 'deleted'):
        return True
    changes = item.get('changes')
    if isinstance(changes, list) and any(
            (as_text(change) or '').lower() in ('deleted', 'revoked', 'delete') for change in changes):
        return True
    action = _dict(trigger.get('action'))
    return (as_text(action.get('type')) or '').lower() == 'delete'


def _whapi_removed(item):
    """``messages_removed[]``: message ids (objects with ``id``/``chat_id`` tolerated)."""
    if isinstance(item, dict):
        message_id = require_text(item, 'id')
        chat = as_text(item.get('chat_id'))
        return MessageDeletion(message_id=message_id, chat_id=chat_key(chat) if chat else None)
    message_id = as_text(item)
    if not message_id:
        raise ItemError('missing or invalid message id')
    return MessageDeletion(message_id=message_id.strip())


def _whapi_status(item):
    """``statuses[]``: ``timestamp`` is a string; ``code`` backs up ``status``."""
    item = require_dict(item, 'status')
    message_id = require_text(item, 'id')
    status = whapi.map_status(item.get('status'), item.get('code'))
    if status is None:
        raise ItemError('unknown status %r' % (as_text(item.get('status')) or item.get('code'),))
    recipient = person_key(item.get('viewer_id'))
    if recipient is None and as_text(item.get('recipient_id')):
        recipient = chat_key(item.get('recipient_id'))
    return StatusUpdate(message_id=message_id, status=status,
                        timestamp=parse_time(item.get('timestamp')),
                        recipient_id=recipient, error=_error_reason(item.get('errors')))


def _whapi_participants(item):
    """``groups_participants[]``: ``{group_id, participants: [ids], action}``."""
    item = require_dict(item, 'participant change')
    return _participant_change(item.get('group_id'), item.get('participants'), item.get('action'))


def _after_update(parse_item):
    """Parser of ``{before_update, after_update, changes}`` items (plain items tolerated)."""
    def parse(item):
        item = require_dict(item, 'update')
        after = item.get('after_update')
        return parse_item(after if isinstance(after, dict) else item)
    return parse


_WHAPI_LISTS = (
    ('messages', 'message', _whapi_message),
    ('messages_updates', 'message_update', _whapi_message_update),
    ('messages_removed', 'message_removed', _whapi_removed),
    ('statuses', 'status', _whapi_status),
    ('groups', 'group', whapi.parse_group),
    ('groups_updates', 'group', _after_update(whapi.parse_group)),
    ('groups_participants', 'participant_change', _whapi_participants),
    ('contacts', 'contact', whapi.parse_contact),
    ('contacts_updates', 'contact', _after_update(whapi.parse_contact)),
)


# -- participant changes (both providers) ----------------------------------------------

# Words providers use for a participant change; WHAPI's are the four canonical ones,
# the others are WhatsApp Web notification subtypes Wassenger may pass on (unconfirmed).
_PARTICIPANT_ACTION_WORDS = {
    'add': 'add', 'invite': 'add', 'join': 'add', 'joined': 'add', 'added': 'add',
    'remove': 'remove', 'leave': 'remove', 'left': 'remove', 'kick': 'remove',
    'removed': 'remove', 'promote': 'promote', 'promoted': 'promote',
    'demote': 'demote', 'demoted': 'demote',
}


def _participant_change(raw_group, participants, raw_action):
    """A ParticipantChange, plus a Skipped per participant id that is no person."""
    group = parse_jid(raw_group)
    if group.kind != 'group':
        raise ItemError('missing or invalid group id')
    action = _PARTICIPANT_ACTION_WORDS.get((as_text(raw_action) or '').strip().lower())
    if action not in PARTICIPANT_ACTIONS:
        raise ItemError('unknown participant action %r' % (as_text(raw_action),))
    if not isinstance(participants, list):
        raise ItemError('participants is not a list')
    keys, skipped = [], []
    for participant in participants:
        raw = participant
        if isinstance(participant, dict):
            raw = (participant.get('id') or participant.get('wid')
                   or participant.get('phone'))
        key = person_key(raw)
        if key is None:
            skipped.append(Skipped('member', '%s: participant id is not a person' % group.key,
                                   as_text(raw)))
        elif key not in keys:
            keys.append(key)
    if not keys:
        raise ItemError('no readable participant')
    return [ParticipantChange(group_id=group.key, contact_ids=keys, action=action)] + skipped


# -- parsing: Wassenger ------------------------------------------------------------------
#
# Payload A (platform events): one object {id, object, event, created, device, data}.
# Payload B (gateway events): an array of {event, date, entity, entityId, user, data}.
# Skill-pack shape: {id, event, createdAt, device: "<id>", data: {message, chat}}.

def _parse_wassenger(payload):
    batch = WebhookBatch()
    if isinstance(payload, list):
        for item in payload:
            _wassenger_event(batch, item)
    elif isinstance(payload, dict):
        if _event_name(payload) is None:
            raise BadPayloadError('Wassenger webhook: no "event" name in the payload')
        _wassenger_event(batch, payload)
    else:
        raise BadPayloadError('Wassenger webhook: expected a JSON object or array, got %s'
                              % _json_type(payload))
    return batch


def _wassenger_event(batch, item):
    """Dispatch one event by name; a bad event becomes a Skipped of its kind."""
    event = _event_name(item)
    if event is None:
        batch.skipped.append(Skipped('event', 'not an event object', _raw_id(item)))
        return
    event_id = as_text(item.get('id'))
    _add_event_id(batch, event_id)
    if batch.account_id is None:
        batch.account_id = _wassenger_device_id(item.get('device'))
    handler = _WASSENGER_HANDLERS.get(event)
    if handler is None and event.startswith('message:out:'):
        handler = ('status', _wassenger_status)
    if handler is None:
        batch.ignored_events.append(event)
        return
    kind, parse = handler
    if kind == 'health':
        health = parse(event, item)
        if health is None:
            batch.ignored_events.append(event)
        else:
            batch.health = health
        return
    try:
        _add(batch, parse(event, item))
    except ItemError as exc:
        data = item.get('data')
        external_id = _raw_id(_wassenger_message_data(data)) if isinstance(data, dict) else None
        batch.skipped.append(Skipped(kind, '%s: %s' % (event, exc), external_id or event_id))


def _event_name(item):
    """Lower-cased ``event`` of an event object; None when it has no string one."""
    if not isinstance(item, dict) or not isinstance(item.get('event'), str):
        return None
    return item['event'].strip().lower() or None


def _wassenger_device_id(device):
    if isinstance(device, dict):
        return as_text(device.get('id'))
    return as_text(device)


def _wassenger_message_data(data):
    """The message of an event: ``data``, or ``data.message`` (with ``data.chat``)."""
    message = data.get('message')
    if isinstance(message, dict):
        merged = dict(message)
        if merged.get('chat') is None and isinstance(data.get('chat'), dict):
            merged['chat'] = data['chat']
        return merged
    return data


def _wassenger_data(item, what):
    return _wassenger_message_data(require_dict(item.get('data'), what))


def _wassenger_new_message(event, item):
    data = _wassenger_data(item, 'message')
    if 'fromMe' not in data and 'flow' not in data:
        data = dict(data, flow='outbound' if event.startswith('message:out:') else 'inbound')
    return wassenger.parse_message(data)


def _wassenger_ack(event, item):
    """``message:out:ack``: the status is the top-level ``ack`` (or ``data.ack``)."""
    data = _wassenger_data(item, 'status')
    message_id = _raw_id(data)
    if not message_id:
        raise ItemError('missing or invalid id')
    ack = item.get('ack') if item.get('ack') is not None else data.get('ack')
    status = wassenger.map_ack(ack)
    if status is None:
        raise ItemError('unknown ack %r' % (as_text(ack),))
    return StatusUpdate(message_id=message_id, status=status,
                        timestamp=_wassenger_event_time(item),
                        recipient_id=_wassenger_recipient(data),
                        error=_error_reason(data.get('error')))


def _wassenger_status(event, item):
    """``message:out:<status>``: a gateway item (queued message) or a chat message.

    A queued message is keyed on its 24-hex queue id (what SendResult.message_id
    holds), with WhatsApp's ``waId`` as ``alt_message_id``.
    """
    data = _wassenger_data(item, 'status')
    suffix = event[len('message:out:'):]
    status = wassenger.map_ack(suffix)
    queued = ('entity' in item or 'entityId' in item or 'waId' in data
              or 'deliveryStatus' in data)
    if status is None:
        status = (wassenger.map_ack(item.get('ack')) or wassenger.map_ack(data.get('ack'))
                  or (wassenger.queued_status(data) if queued else None))
    if status is None:
        raise ItemError('unknown status')
    alt_id = None
    if queued:
        message_id = as_text(data.get('id')) or as_text(item.get('entityId'))
        alt_id = as_text(data.get('waId'))
        if not message_id:
            message_id, alt_id = alt_id, None
    else:
        message_id = _raw_id(data)
    if not message_id:
        raise ItemError('missing or invalid id')
    error = (_error_reason(data.get('error')) or as_text(data.get('failureReason'))
             or _error_reason(data.get('errors')))
    if status == 'failed' and not error and queued:
        error = wassenger.queued_failure(data)
    return StatusUpdate(message_id=message_id, status=status,
                        timestamp=_wassenger_event_time(item), recipient_id=_wassenger_recipient(data),
                        error=error if status == 'failed' else None, alt_message_id=alt_id)


def _wassenger_event_time(item):
    for key in ('created', 'date', 'createdAt'):
        moment = parse_time(item.get(key))
        if moment is not None:
            return moment
    return None


def _wassenger_recipient(data):
    """Who an outgoing message went to: queued ``phone``/``group``, else its chat."""
    if as_text(data.get('phone')):
        return person_key(data['phone'])
    group = as_text(data.get('group'))
    if group:
        # The send field takes a group id with or without its suffix.
        return chat_key(group if '@' in group else group + '@g.us')
    raw = wassenger.message_chat_id(data, True)
    return chat_key(raw) if raw else None


def _wassenger_update(event, item):
    """``message:update``: a revoke (deletion) or an edit (new ``body``)."""
    data = _wassenger_data(item, 'message update')
    message_id = _raw_id(data)
    if not message_id:
        raise ItemError('missing or invalid id')
    meta = _dict(data.get('meta'))
    words = [(as_text(data.get(key)) or '').lower() for key in ('type', 'ack', 'deliveryStatus', 'status')]
    if as_bool(meta.get('isRevoked')) or as_bool(data.get('isRevoked')) or 'revoked' in words:
        raw_chat = wassenger.message_chat_id(data, as_bool(data.get('fromMe')))
        return MessageDeletion(message_id=message_id, chat_id=chat_key(raw_chat) if raw_chat else None)
    body = as_text(data.get('body')) or as_text(_dict(data.get('media')).get('caption'))
    if body is None:
        return None  # an update with no text (reaction, ack...): nothing to store
    raw_chat = wassenger.message_chat_id(data, as_bool(data.get('fromMe')))
    return MessageEdit(message_id=message_id, body=body,
                       timestamp=parse_time(data.get('editedAt')) or _wassenger_event_time(item),
                       chat_id=chat_key(raw_chat) if raw_chat else None)


def _with_wid(data):
    """Wassenger parsers read ``wid``; webhook data may name it ``id``."""
    if data.get('wid') is None and data.get('id') is not None:
        return dict(data, wid=data['id'])
    return data


def _wassenger_group(event, item):
    """``group:update`` (shape unconfirmed): group fields and/or a participant change.

    Read: ``data`` or ``data.group`` as the group; ``action``/``type`` plus
    ``participants`` as a change; participants without an action as the
    member list.
    """
    data = require_dict(item.get('data'), 'group')
    source = _with_wid(data['group'] if isinstance(data.get('group'), dict) else data)
    raw_id = as_text(source.get('wid')) or as_text(data.get('chat'))
    if parse_jid(raw_id).kind != 'group':
        raise ItemError('missing or invalid group id')
    source = dict(source, wid=raw_id)
    records = []
    action = data.get('action') or data.get('type') or data.get('subtype')
    participants = data.get('participants')
    if action is not None and as_text(action) and as_text(action).lower() in _PARTICIPANT_ACTION_WORDS:
        records.extend(_participant_change(raw_id, participants, action))
        participants = None
    # Only a payload describing the group makes a Group record: one with just a
    # participant change would otherwise blank the stored name.
    described = any(source.get(key) is not None for key in ('name', 'description', 'inviteCode'))
    group = wassenger.parse_group(source) if described else None
    if group is not None:
        if isinstance(participants, list) and all(isinstance(p, dict) for p in participants):
            group.members = []
            for participant in participants:
                try:
                    group.members.append(wassenger.parse_participant(_with_wid(participant)))
                except ItemError as exc:
                    records.append(Skipped('member', '%s: %s' % (group.group_id, exc),
                                           _raw_id(participant)))
        records.insert(0, group)
    return records


def _wassenger_contact(event, item):
    data = require_dict(item.get('data'), 'contact')
    source = data['contact'] if isinstance(data.get('contact'), dict) else data
    return wassenger.parse_contact(_with_wid(source))


# ``number:session`` words (S2 device ``session.status``) for a session that works
# and for one that needs someone; the others (loading, authorizing, new,
# timeout_sync...) pass by themselves and change nothing.
_SESSION_UP = ('online',)
_SESSION_DOWN = {'offline': 'offline', 'timeout': 'offline', 'disconnected': 'offline',
                 'conflict': 'offline', 'blocked': 'error', 'error': 'error',
                 'authorize': 'qr', 'unpaired': 'qr', 'removed': 'error'}


def _wassenger_session(event, item):
    """``number:session`` (payload shape unconfirmed: S2 names the event only).

    Read the session state from ``data.status``, ``data.session`` (text or
    ``{status}``), ``data.session.status`` of a device object, or the
    delivery's ``device.session.status``.
    """
    data = _dict(item.get('data'))
    candidates = [data.get('status'), data.get('session'), _dict(data.get('device')).get('session'),
                  _dict(item.get('device')).get('session'), item.get('session')]
    for value in candidates:
        if isinstance(value, dict):
            value = value.get('status')
        word = (as_text(value) or '').strip().lower()
        if word in _SESSION_UP:
            return AccountHealth(connected=True, reason='online', status=word)
        if word in _SESSION_DOWN:
            return AccountHealth(connected=False, reason=_SESSION_DOWN[word], status=word)
    return None


_WASSENGER_HANDLERS = {
    'message:in:new': ('message', _wassenger_new_message),
    'message:out:new': ('message', _wassenger_new_message),
    # a reaction is a message of type ``reaction`` naming the message it reacts to
    'message:reaction': ('message', _wassenger_new_message),
    'number:session': ('health', _wassenger_session),
    'message:out:ack': ('status', _wassenger_ack),
    'message:update': ('message_update', _wassenger_update),
    'group:update': ('group', _wassenger_group),
    'contact:update': ('contact', _wassenger_contact),
}


def _json_type(value):
    if isinstance(value, list):
        return 'an array'
    if isinstance(value, dict):
        return 'an object'
    if value is None:
        return 'null'
    return 'a %s' % type(value).__name__
