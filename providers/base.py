"""The one interface both provider clients implement.

Iterators yield :class:`~.records.Page` objects, one per provider page, so a
caller can upsert a page at a time and memory stays flat on large accounts.

Operations not every provider offers are named in ``capabilities``; callers
ask :meth:`ProviderClient.supports` first, and calling an unsupported one
raises UnsupportedOperation instead of failing somewhere in the provider.
"""
from .concurrency import fetch_ordered
from .errors import BadPayloadError, NotFoundError, UnsupportedOperation
from .parsing import guess_media_type

#: every optional operation a client may list in ``capabilities``
CAPABILITIES = frozenset((
    'register_webhook',
    'create_group',
    'update_participants',
    'get_invite_code',
    'revoke_invite_code',
    'check_numbers',
    # check_numbers asks about many numbers in one request (else one per number)
    'check_numbers_batch',
    # re-read one person (contact) from the provider
    'get_contact',
    # mark a chat read up to a message, on the phone too
    'mark_read',
    # ask the provider for one sent message's delivery status (get_message_status)
    'get_message_status',
    # map hidden-number ids (<digits>@lid) to phone-based person keys
    'resolve_hidden_numbers',
))


class ProviderClient(object):
    """Talks to one WhatsApp account of one provider."""

    #: provider technical name, 'whapi' or 'wassenger'
    name = None
    #: default base URL, overridable by the ``base_url`` setting
    default_base_url = None
    #: the optional operations (names from CAPABILITIES) this provider supports
    capabilities = frozenset()
    #: media types the provider sends without a caption (its send has no such field):
    #: a caption for them goes as a text message right after the file
    captionless_media_types = frozenset()
    #: False: every genuine webhook delivery carries the secret (we configure it).
    #: True: the provider may not sign (the URL key authenticates); a signature that
    #: arrives is verified, and once one has, signatures are required.
    webhook_signature_optional = False

    @classmethod
    def caption_sent_apart(cls, mime_type, media_type=None):
        """True when a file of this type cannot carry a caption with this provider."""
        return guess_media_type(media_type, mime_type) in cls.captionless_media_types

    def supports(self, operation):
        """True when this provider offers ``operation`` (a CAPABILITIES name)."""
        return operation in self.capabilities

    def _require(self, operation):
        """Raise UnsupportedOperation unless ``operation`` is in ``capabilities``."""
        if operation not in self.capabilities:
            raise UnsupportedOperation('%s does not support %s' % (
                getattr(self, 'label', None) or self.name or type(self).__name__,
                operation.replace('_', ' ')))

    def __init__(self, token, base_url=None, device_id=None, timeout=30.0,
                 connect_timeout=10.0, max_retries=3, backoff_factor=0.5,
                 max_retry_after=60.0, page_size=None, sleep=None, session=None):
        raise NotImplementedError

    def check_connection(self):
        """Return :class:`AccountInfo`; raise AuthenticationError etc. on failure."""
        raise NotImplementedError

    def iter_contacts(self):
        """Yield pages of :class:`Contact`."""
        raise NotImplementedError

    def iter_chats(self):
        """Yield pages of :class:`Chat`."""
        raise NotImplementedError

    def iter_groups(self):
        """Yield pages of :class:`Group` (``members`` None when not listed)."""
        raise NotImplementedError

    def get_group(self, group_id):
        """Return one :class:`Group` with its ``members`` filled."""
        raise NotImplementedError

    def get_groups(self, group_ids):
        """Yield ``(group id, Group)`` for each id, in order, ``concurrency`` requests
        at a time; a group the provider no longer knows or answers garbled for comes
        as ``(group id, Failed(error))`` and the others go on."""
        return fetch_ordered(self.get_group, group_ids, getattr(self, 'concurrency', 1),
                             catch=(NotFoundError, BadPayloadError))

    def iter_messages(self, since=None, limit=None):
        """Yield pages of :class:`Message` across all chats.

        ``since`` (aware datetime): every message with timestamp >= since, all
        pages, any order. ``limit`` (int, with since None): the ``limit`` most
        recent. Neither: the whole history the provider holds. Within one call
        a message id is yielded at most once.
        """
        raise NotImplementedError

    def send_text(self, to, body, quoted_id=None):
        """Send a text; ``to`` is a person key, E.164 phone or group key.

        ``quoted_id``: the WhatsApp id of the message this one answers.
        """
        raise NotImplementedError

    def send_media(self, to, file_bytes=None, file_name=None, mime_type=None,
                   url=None, caption=None, media_type=None, quoted_id=None):
        """Send a file (bytes + name) or a URL, with an optional caption.

        ``media_type``: image / video / audio / voice / document; guessed from
        ``mime_type`` when None.
        """
        raise NotImplementedError

    def download_media(self, media, sink, max_bytes=None):
        """Stream the file of a message's :class:`Media` into ``sink.write``.

        Returns :class:`DownloadedFile`. NotFoundError when the provider no
        longer has it, FileTooLargeError past ``max_bytes``, TransientError
        when the stream is cut (``sink`` then holds a part: start over).
        """
        raise NotImplementedError

    def mark_read(self, chat_id, message_id):
        """Mark a chat read up to ``message_id`` (capability ``mark_read``)."""
        self._require('mark_read')

    def get_message_status(self, message_id):
        """Ask the provider about one sent message (capability ``get_message_status``).

        ``message_id``: the id the send answered with (SendResult.message_id).
        Returns a :class:`StatusUpdate` (``status`` None when the answer names
        none we know; ``alt_message_id``: WhatsApp's id when it differs;
        ``error``: the provider's reason for a failure). NotFoundError when
        the provider does not know the message.
        """
        raise NotImplementedError

    # -- webhooks -------------------------------------------------------------------

    def register_webhook(self, url, secret):
        """Point the provider's webhook at ``url``; return :class:`WebhookRegistration`.

        Idempotent: an existing webhook with the same URL is updated, not
        duplicated. ``secret`` is what deliveries will be verified with where
        the provider lets us choose it (WHAPI); a provider that issues its own
        returns it in ``WebhookRegistration.secret`` (Wassenger, when it does).
        """
        raise NotImplementedError

    # -- group and contact management -------------------------------------------------

    def create_group(self, name, participants, description=None):
        """Create a group with ``participants`` (person keys or phones).

        Return :class:`GroupCreation`; people WhatsApp would not add (privacy
        settings, unknown numbers) are in ``refused`` with the reason.
        """
        raise NotImplementedError

    def update_participants(self, group_id, person_keys, action):
        """``action`` (PARTICIPANT_ACTIONS) on people of a group -> ParticipantsResult."""
        raise NotImplementedError

    def get_invite_code(self, group_id):
        """Return the group's current :class:`InviteLink`."""
        raise NotImplementedError

    def revoke_invite_code(self, group_id):
        """Invalidate the group's invite link; return the new :class:`InviteLink`."""
        raise NotImplementedError

    def check_numbers(self, phones):
        """Which phones have WhatsApp: one :class:`NumberCheck` per input, in order."""
        raise NotImplementedError

    def resolve_hidden_numbers(self, hidden_ids, candidates=()):
        """``{hidden id: phone person key}`` for the hidden-number ids (``<digits>@lid``)
        the provider can match to a phone number; the others are absent, never an error.

        ``candidates``: phone person keys the caller knows of; a provider that can
        only tell the hidden id of a phone number checks these (capability
        ``resolve_hidden_numbers``).
        """
        self._require('resolve_hidden_numbers')
        return {}

    def get_contact(self, contact_id):
        """Re-read one person from the provider; return :class:`Contact`.

        ``contact_id``: a person key (digits or ``<digits>@lid``), an E.164
        phone or a user JID. Not a person id: RequestRejectedError, before any
        request. Unknown to the provider: NotFoundError; an answer that is not
        a readable person: BadPayloadError.
        """
        raise NotImplementedError
