"""Errors of the provider layer.

Each carries the HTTP status (None when no answer came) and a message that is
safe to show a user: it never contains the token or a full request URL.
"""


class ProviderError(Exception):
    """Base class: anything that went wrong talking to a provider."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self):
        if self.status:
            return '%s (HTTP %s)' % (self.message, self.status)
        return self.message


class ConfigurationError(ProviderError):
    """The settings cannot work (no token, no device id, unknown provider)."""


class AuthenticationError(ProviderError):
    """The token was refused (401/403), or the session is not logged in."""


class NotFoundError(ProviderError):
    """The resource (chat, group, message, device) does not exist (404)."""


class RateLimitedError(ProviderError):
    """429 still answered after the retries; ``retry_after`` in seconds if given."""

    def __init__(self, message, status=429, retry_after=None):
        super().__init__(message, status)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """Timeouts, dropped connections and 5xx that outlasted the retries."""


class BadPayloadError(ProviderError):
    """The provider answered something we cannot read (non-JSON, wrong shape)."""


class RequestRejectedError(ProviderError):
    """A 4xx other than the above: the provider refused this request."""


class UnsupportedOperation(ProviderError):
    """The provider has no such operation."""
