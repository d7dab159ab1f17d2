"""The one interface both provider clients implement.

Iterators yield :class:`~.records.Page` objects, one per provider page, so a
caller can upsert a page at a time and memory stays flat on large accounts.
"""


class ProviderClient(object):
    """Talks to one WhatsApp account of one provider."""

    #: provider technical name, 'whapi' or 'wassenger'
    name = None
    #: default base URL, overridable by the ``base_url`` setting
    default_base_url = None

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

    def iter_messages(self, since=None, limit=None):
        """Yield pages of :class:`Message` across all chats.

        ``since`` (aware datetime): every message with timestamp >= since, all
        pages, any order. ``limit`` (int, with since None): the ``limit`` most
        recent. Neither: the whole history the provider holds. Within one call
        a message id is yielded at most once.
        """
        raise NotImplementedError

    def send_text(self, to, body):
        """Send a text; ``to`` is a person key, E.164 phone or group key."""
        raise NotImplementedError

    def send_media(self, to, file_bytes=None, file_name=None, mime_type=None,
                   url=None, caption=None, media_type=None):
        """Send a file (bytes + name) or a URL, with an optional caption.

        ``media_type``: image / video / audio / voice / document; guessed from
        ``mime_type`` when None.
        """
        raise NotImplementedError

    def get_message_status(self, message_id):
        """Return the canonical status of one message."""
        raise NotImplementedError
