"""Errors of the provider layer.

Each carries the HTTP status (None when no answer came), a ``reason`` code that
says what kind of failure it was (what the Odoo layer turns into one plain
sentence for people), and a technical message that never contains the token or
a full request URL.
"""

#: the ``reason`` codes of ProviderError
REASONS = (
    'dns',             # the provider's host name did not resolve
    'refused',         # nothing listens at that address and port
    'tls',             # the HTTPS handshake or certificate failed
    'timeout',         # no answer in time
    'connection',      # another network failure (reset, dropped)
    'invalid_url',     # the base URL is not a usable address
    'token',           # the provider refused the credentials (401/403)
    'device_unknown',  # Wassenger: the device id is not one of this key's devices
    'settings',        # the account's settings cannot work (no token, no device id...)
    'not_found',       # 404 on a resource
    'rate_limited',    # 429 after the retries
    'server_error',    # the provider answered 5xx after the retries
    'bad_answer',      # an answer that cannot be read
    'rejected',        # another 4xx
    'unsupported',     # the provider has no such operation
    'too_large',       # a file is bigger than the size it may have
)


class ProviderError(Exception):
    """Base class: anything that went wrong talking to a provider."""

    #: default ``reason`` of the class
    reason = 'rejected'

    def __init__(self, message, status=None, reason=None):
        super().__init__(message)
        self.message = message
        self.status = status
        if reason:
            self.reason = reason

    def __str__(self):
        if self.status:
            return '%s (HTTP %s)' % (self.message, self.status)
        return self.message


class ConfigurationError(ProviderError):
    """The settings cannot work (no token, no device id, unknown provider)."""
    reason = 'settings'


class AuthenticationError(ProviderError):
    """The token was refused (401/403), or the session is not logged in."""
    reason = 'token'


class NotFoundError(ProviderError):
    """The resource (chat, group, message, device) does not exist (404)."""
    reason = 'not_found'


class RateLimitedError(ProviderError):
    """429 still answered after the retries; ``retry_after`` in seconds if given."""

    reason = 'rate_limited'

    def __init__(self, message, status=429, retry_after=None):
        super().__init__(message, status)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """Timeouts, dropped connections and 5xx that outlasted the retries."""
    reason = 'server_error'


class BadPayloadError(ProviderError):
    """The provider answered something we cannot read (non-JSON, wrong shape)."""
    reason = 'bad_answer'


class RequestRejectedError(ProviderError):
    """A 4xx other than the above: the provider refused this request."""


class UnsupportedOperation(ProviderError):
    """The provider has no such operation."""
    reason = 'unsupported'


class FileTooLargeError(ProviderError):
    """A download outgrew the size it was allowed (announced or streamed)."""
    reason = 'too_large'
