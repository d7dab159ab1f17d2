"""Canonical records the provider clients yield.

Everything above ``providers/`` reads these and nothing else, so a field here is
the whole vocabulary shared by WHAPI and Wassenger: ids are already normalised
(person key = bare digits or ``<digits>@lid``; group key = ``<id>@g.us``), times
are aware UTC datetimes, statuses and roles use the values below.
"""
import json
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import List, Optional

# Message statuses, in the order a message moves through them; ``failed`` and
# ``deleted`` are terminal and sit outside the delivery order.
MESSAGE_STATUSES = ('pending', 'sent', 'delivered', 'read', 'played', 'failed', 'deleted')
DELIVERY_ORDER = ('pending', 'sent', 'delivered', 'read', 'played')

MEMBER_ROLES = ('member', 'admin', 'superadmin')

# Message types we name; anything else a provider sends is kept as ``unknown``
# with its original name in ``Message.raw_type``.
MESSAGE_TYPES = (
    'text', 'link_preview', 'image', 'video', 'gif', 'audio', 'voice', 'document',
    'sticker', 'location', 'live_location', 'contact', 'contact_list', 'poll',
    'reaction', 'system', 'call', 'group_invite', 'event', 'interactive', 'order',
    'product', 'story', 'unknown',
)

CHAT_TYPES = ('contact', 'group', 'broadcast', 'newsletter', 'unknown')


@dataclass
class AccountInfo:
    """Who the connected account is and whether it can sync and send now."""
    connected: bool
    status: str                     # provider's own state word, e.g. AUTH / operative+online
    phone: Optional[str] = None     # E.164 when known
    name: Optional[str] = None
    account_id: Optional[str] = None
    detail: str = ''                # a sentence safe to show a user


@dataclass
class Contact:
    contact_id: str                 # bare digits, or '<digits>@lid'
    phone: Optional[str] = None     # E.164 when valid, else the number as given
    phone_valid: bool = False
    name: Optional[str] = None      # address-book name
    pushname: Optional[str] = None  # the person's WhatsApp profile name
    is_business: bool = False
    # the same person's hidden-number id ('<digits>@lid') when the provider gave it
    # next to a phone-based ``contact_id`` (Wassenger ``lid`` fields, a resolution)
    lid: Optional[str] = None


@dataclass
class Member:
    contact_id: str                 # person key, as Contact.contact_id
    role: str = 'member'            # one of MEMBER_ROLES
    name: Optional[str] = None
    phone: Optional[str] = None
    phone_valid: bool = False
    lid: Optional[str] = None       # as Contact.lid


@dataclass
class Group:
    group_id: str                   # '<id>@g.us'
    name: Optional[str] = None
    description: Optional[str] = None
    invite_code: Optional[str] = None
    created_at: Optional[datetime] = None
    # None when the listing did not carry participants (fetch the group then);
    # a list, possibly empty, when it did.
    members: Optional[List[Member]] = None
    # members the provider listed but that could not be read
    skipped: List['Skipped'] = field(default_factory=list)


@dataclass
class Chat:
    chat_id: str                    # person key or group key
    chat_type: str = 'unknown'      # one of CHAT_TYPES
    name: Optional[str] = None
    last_message_at: Optional[datetime] = None


@dataclass
class Media:
    media_id: Optional[str] = None
    mime_type: Optional[str] = None
    file_name: Optional[str] = None
    file_size: Optional[int] = None
    url: Optional[str] = None


@dataclass
class Message:
    message_id: str
    chat_id: str                    # person key (1:1) or group key
    timestamp: datetime             # WhatsApp time, aware UTC
    from_me: bool = False
    chat_type: str = 'contact'      # one of CHAT_TYPES
    sender_id: Optional[str] = None  # person key of the author, when known
    sender_name: Optional[str] = None
    message_type: str = 'unknown'   # one of MESSAGE_TYPES
    raw_type: Optional[str] = None  # provider's own type word
    body: Optional[str] = None      # text, caption or system text
    media: Optional[Media] = None
    status: Optional[str] = None    # one of MESSAGE_STATUSES, None when unknown
    # the message this one answers (a quoted reply) or reacts to, when known
    quoted_id: Optional[str] = None
    # the caller's own reference given with a send, echoed back by the provider
    # (Wassenger ``reference``), so a sent message meets its queued send exactly
    reference: Optional[str] = None
    # An event on another message (``quoted_id``) rather than a message: one of
    # MESSAGE_ACTIONS. Never stored as a row: see :func:`action_events`.
    action: Optional[str] = None
    votes: Optional[List[str]] = None   # a vote's chosen options (action 'vote')
    poll_options: Optional[List['PollOption']] = None  # a poll's options, in order
    # Known only in part (a reaction listed on its message, without who reacted):
    # stored when new, never overwriting a fuller copy.
    partial: bool = False


#: events carried as messages (WHAPI ``type: action``): applied to their target
MESSAGE_ACTIONS = ('edit', 'delete', 'vote', 'ephemeral')


@dataclass
class PollOption:
    name: str
    # who chose it, when the provider lists them (person keys); None when it does not say
    voters: Optional[List[str]] = None


@dataclass
class SendResult:
    message_id: str                 # the id later syncs and webhooks will carry
    status: str = 'pending'         # one of MESSAGE_STATUSES
    timestamp: Optional[datetime] = None
    # WhatsApp's own message id when the provider already knows it: WHAPI's id
    # is one (equal to message_id); Wassenger's queued id differs (its waId).
    whatsapp_message_id: Optional[str] = None
    # our reference sent with the message, when the provider echoes one back
    reference: Optional[str] = None


@dataclass
class DownloadedFile:
    """What a download wrote into its sink."""
    size: int
    content_type: Optional[str] = None   # as the provider served it, without parameters
    file_name: Optional[str] = None      # from Content-Disposition, when given


@dataclass
class Skipped:
    """An item of a page that could not be parsed; kept so callers can count it."""
    kind: str                       # 'contact', 'group', 'member', 'chat', 'message'
    reason: str
    external_id: Optional[str] = None


@dataclass
class Page:
    """One provider page: the records parsed from it and the items skipped."""
    items: list = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)


# -- webhooks ----------------------------------------------------------------------------

#: what a group participant change (webhook or operation) does to its members
PARTICIPANT_ACTIONS = ('add', 'remove', 'promote', 'demote')


@dataclass
class StatusUpdate:
    """A delivery status a webhook reported for one message."""
    message_id: str                 # the id the sync stores (Wassenger sends: the queue id)
    status: str                     # one of MESSAGE_STATUSES
    timestamp: Optional[datetime] = None
    recipient_id: Optional[str] = None  # person or group key the status is about
    error: Optional[str] = None     # provider's failure reason, for ``failed``
    # the message's other id when the provider gives two (Wassenger: WhatsApp's
    # own id next to the queue id), so a caller can match either
    alt_message_id: Optional[str] = None


@dataclass
class MessageEdit:
    """A message's text was edited; ``body`` is the new text."""
    message_id: str
    body: Optional[str]
    timestamp: Optional[datetime] = None
    chat_id: Optional[str] = None   # the chat the edit came from, when the payload says
    sender_id: Optional[str] = None  # who edited, when the payload says


@dataclass
class MessageDeletion:
    """A message was deleted (revoked) for everyone."""
    message_id: str
    chat_id: Optional[str] = None
    sender_id: Optional[str] = None  # who deleted it, when the payload says


@dataclass
class PollVote:
    """Someone's choice on a poll: it replaces their earlier choice (none = withdrawn)."""
    message_id: str                 # the poll's message id
    voter_id: Optional[str]         # person key; None for our own account's vote
    options: List[str] = field(default_factory=list)
    timestamp: Optional[datetime] = None
    chat_id: Optional[str] = None


def action_events(message):
    """The edit, deletion or vote an action message (``message.action``) stands for,
    as a list (empty for an action we do not store, e.g. disappearing-message settings)."""
    target = message.quoted_id
    if not message.action or not target:
        return []
    sender = None if message.from_me else message.sender_id
    if message.action == 'edit':
        if message.body is None:
            return []
        return [MessageEdit(message_id=target, body=message.body, timestamp=message.timestamp,
                            chat_id=message.chat_id, sender_id=sender)]
    if message.action == 'delete':
        return [MessageDeletion(message_id=target, chat_id=message.chat_id, sender_id=sender)]
    if message.action == 'vote':
        return [PollVote(message_id=target, voter_id=sender, options=list(message.votes or []),
                         timestamp=message.timestamp, chat_id=message.chat_id)]
    return []


@dataclass
class ParticipantChange:
    """People were added to, removed from, promoted or demoted in a group."""
    group_id: str                   # '<id>@g.us'
    contact_ids: List[str]          # person keys
    action: str                     # one of PARTICIPANT_ACTIONS


@dataclass
class AccountHealth:
    """The provider says the WhatsApp session went up or down (a webhook)."""
    connected: bool
    # why, one of: 'online', 'login' (connected); 'offline', 'logout', 'qr', 'error' (not)
    reason: str
    status: Optional[str] = None    # the provider's own word, e.g. QR, offline, users.delete


@dataclass
class WebhookBatch:
    """Everything one webhook delivery carried, as canonical records.

    ``event_ids`` are ids a caller may de-duplicate retried deliveries on;
    ``ignored_events`` names the events we do not handle (never an error).
    """
    event_ids: List[str] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    statuses: List[StatusUpdate] = field(default_factory=list)
    edits: List[MessageEdit] = field(default_factory=list)
    deletions: List[MessageDeletion] = field(default_factory=list)
    votes: List[PollVote] = field(default_factory=list)
    participant_changes: List[ParticipantChange] = field(default_factory=list)
    contacts: List[Contact] = field(default_factory=list)
    groups: List[Group] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)
    ignored_events: List[str] = field(default_factory=list)
    # the account the delivery is for (WHAPI channel_id, Wassenger device id), so
    # a caller can check it reached the right configuration
    account_id: Optional[str] = None
    # the session's state when the delivery reports it (the last report wins)
    health: Optional[AccountHealth] = None

    def is_empty(self):
        """True when the delivery carried nothing to store."""
        return not (self.messages or self.statuses or self.edits or self.deletions or self.votes
                    or self.participant_changes or self.contacts or self.groups
                    or self.health)


@dataclass
class WebhookRegistration:
    """Outcome of registering our webhook URL with a provider."""
    webhook_id: Optional[str] = None  # provider's id of the webhook, when it has one
    secret: Optional[str] = None      # the secret to verify deliveries with
    url: Optional[str] = None


# -- group and contact management --------------------------------------------------------

@dataclass
class GroupCreation:
    """A new group, and which of the requested people are in it."""
    group: Group
    added: List[str] = field(default_factory=list)       # person keys
    refused: List[tuple] = field(default_factory=list)   # (person key, reason)
    # (hidden-number id, phone person key) pairs the provider resolved on the way:
    # the person was sent (and is in ``added``) under the phone key
    resolved: List[tuple] = field(default_factory=list)


@dataclass
class ParticipantsResult:
    """Outcome of one add/remove/promote/demote request."""
    done: List[str] = field(default_factory=list)        # person keys
    refused: List[tuple] = field(default_factory=list)   # (person key, reason)
    resolved: List[tuple] = field(default_factory=list)  # as GroupCreation.resolved


@dataclass
class InviteLink:
    code: str
    url: str                        # https://chat.whatsapp.com/<code>


@dataclass
class NumberCheck:
    """Whether one phone number has a WhatsApp account."""
    input: str                      # the value as the caller gave it
    person_key: Optional[str] = None  # WhatsApp's key for it, when it exists
    exists: bool = False


# -- a record as JSON, and back ------------------------------------------------------------

def record_to_json(record):
    """A record (or list, tuple, datetime, plain value) as JSON text; read back with
    :func:`record_from_json`. Lets the layer above remember a provider's answer."""
    return json.dumps(_to_jsonable(record), sort_keys=True)


def record_from_json(text):
    return _from_jsonable(json.loads(text))


def _to_jsonable(value):
    if is_dataclass(value) and not isinstance(value, type):
        return {'__record__': type(value).__name__,
                'fields': {item.name: _to_jsonable(getattr(value, item.name)) for item in fields(value)}}
    if isinstance(value, datetime):
        return {'__datetime__': value.isoformat()}
    if isinstance(value, tuple):
        return {'__tuple__': [_to_jsonable(item) for item in value]}
    if isinstance(value, list):
        return [_to_jsonable(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError('not a record value: %r' % (value,))


def _from_jsonable(value):
    if isinstance(value, list):
        return [_from_jsonable(item) for item in value]
    if isinstance(value, dict):
        if '__datetime__' in value:
            return datetime.fromisoformat(value['__datetime__'])
        if '__tuple__' in value:
            return tuple(_from_jsonable(item) for item in value['__tuple__'])
        record_class = _RECORD_CLASSES.get(value.get('__record__'))
        if record_class is None:
            raise ValueError('unknown record type %r' % value.get('__record__'))
        return record_class(**{name: _from_jsonable(item) for name, item in value['fields'].items()})
    return value


_RECORD_CLASSES = {
    cls.__name__: cls for cls in list(globals().values())
    if isinstance(cls, type) and is_dataclass(cls) and cls.__module__ == __name__
}
