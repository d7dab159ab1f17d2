"""Provider layer: WHAPI Cloud and Wassenger clients yielding canonical records.

Pure Python (``requests`` + ``phonenumbers``); it never imports Odoo, so it
can be used and tested on its own. Build a client with :func:`make_client`.
"""
from .errors import (
    AuthenticationError, BadPayloadError, ConfigurationError, NotFoundError,
    ProviderError, RateLimitedError, RequestRejectedError, TransientError,
    UnsupportedOperation,
)
from .phone import (
    Jid, PhoneResult, chat_key, chat_type_of, normalize_phone, parse_jid, person_key, user_id_phone,
)
from .records import (
    CHAT_TYPES, DELIVERY_ORDER, MEMBER_ROLES, MESSAGE_STATUSES, MESSAGE_TYPES,
    PARTICIPANT_ACTIONS, AccountHealth, AccountInfo, Chat, Contact, Group, GroupCreation, InviteLink,
    Media, Member, Message, MessageDeletion, MessageEdit, NumberCheck, Page,
    ParticipantChange, ParticipantsResult, SendResult, Skipped, StatusUpdate, WebhookBatch,
    WebhookRegistration, record_from_json, record_to_json,
    MESSAGE_ACTIONS, PollOption, PollVote, action_events,
)
from .base import CAPABILITIES, ProviderClient
from .concurrency import Failed, fetch_ordered
from .whapi import WhapiClient
from .wassenger import WassengerClient
from .webhooks import (
    SIGNATURE_ABSENT, SIGNATURE_INVALID, SIGNATURE_VALID, WASSENGER_SIGNATURE_HEADER,
    WHAPI_SECRET_HEADER, parse_webhook, verify_webhook, webhook_signature,
)

#: provider technical name -> client class
PROVIDERS = {
    WhapiClient.name: WhapiClient,
    WassengerClient.name: WassengerClient,
}


def _client_class(provider):
    try:
        return PROVIDERS[provider]
    except (KeyError, TypeError):
        raise ConfigurationError('Unknown WhatsApp provider %r (known: %s)'
                                 % (provider, ', '.join(sorted(PROVIDERS))))


def default_base_url(provider):
    """The provider's public API base URL (used when none is configured)."""
    return _client_class(provider).default_base_url


def make_client(provider, **settings):
    """Build the client for ``provider`` ('whapi' / 'wassenger') from plain settings.

    ``settings`` are the ProviderClient constructor arguments (token,
    base_url, device_id, timeout, ...); an empty ``base_url`` means the default.
    """
    return _client_class(provider)(**settings)


__all__ = [
    'PROVIDERS', 'make_client', 'Failed', 'fetch_ordered', 'default_base_url', 'ProviderClient',
    'WhapiClient', 'WassengerClient',
    'ProviderError', 'ConfigurationError', 'AuthenticationError', 'NotFoundError',
    'RateLimitedError', 'TransientError', 'BadPayloadError', 'RequestRejectedError',
    'UnsupportedOperation',
    'normalize_phone', 'user_id_phone', 'PhoneResult', 'parse_jid', 'Jid', 'person_key', 'chat_key',
    'chat_type_of',
    'AccountInfo', 'Contact', 'Member', 'Group', 'Chat', 'Media', 'Message', 'SendResult',
    'Skipped', 'Page', 'MESSAGE_STATUSES', 'DELIVERY_ORDER', 'MEMBER_ROLES', 'MESSAGE_TYPES',
    'CHAT_TYPES',
    # webhooks
    'verify_webhook', 'webhook_signature', 'SIGNATURE_VALID', 'SIGNATURE_INVALID', 'SIGNATURE_ABSENT',
    'parse_webhook', 'WHAPI_SECRET_HEADER', 'WASSENGER_SIGNATURE_HEADER', 'AccountHealth',
    'StatusUpdate', 'MessageEdit', 'MessageDeletion', 'ParticipantChange', 'WebhookBatch',
    'WebhookRegistration', 'PARTICIPANT_ACTIONS',
    'MESSAGE_ACTIONS', 'PollOption', 'PollVote', 'action_events',
    # group and contact management
    'CAPABILITIES', 'GroupCreation', 'ParticipantsResult', 'InviteLink', 'NumberCheck',
    'record_to_json', 'record_from_json',
]
