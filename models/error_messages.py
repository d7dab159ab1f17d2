# -*- coding: utf-8 -*-
"""Provider errors in plain words: one sentence that says what happened and what to do.

The provider layer classifies each failure (``ProviderError.reason``); people see
the sentence here, and the technical text (``str(error)``: which request, which
HTTP status, the library's words) is kept beside it, one click away, for whoever
debugs.
"""
from odoo import _

from .. import providers


def explain(env, error):
    """``(sentence, technical detail)`` of a provider error, in the user's language."""
    context = env.context  # noqa: F841 - read by _() for the language
    cr = env.cr  # noqa: F841 - read by _() for the translations
    reason = getattr(error, 'reason', None)
    sentences = {
        'dns': _('The provider\'s server name could not be found. Check the Base URL of the account and the '
                 'Odoo server\'s internet connection (DNS).'),
        'refused': _('The provider\'s server refused the connection. Check the Base URL (address and port); '
                     'if it is right, the provider may be down: try again later.'),
        'tls': _('The secure connection (HTTPS) to the provider failed: its certificate was not accepted. '
                 'Check the Base URL, and the date and certificates of the Odoo server.'),
        'timeout': _('The provider did not answer in time. It may be slow or down: scheduled syncs try again '
                     'later. If it lasts, check the provider\'s status page.'),
        'connection': _('The connection to the provider failed. Check the Odoo server\'s internet connection '
                        'and the Base URL, then try again.'),
        'invalid_url': _('The Base URL of the account is not a valid web address. Correct it (for example '
                         'https://gate.whapi.cloud), then click Test Connection.'),
        'token': _('The provider refused the API token. Copy the token again from the provider\'s dashboard '
                   'into the account, then click Test Connection.'),
        'device_unknown': _('The provider does not know this Device ID for this API key. Pick one of the '
                            'devices listed in the technical details, then click Test Connection.'),
        'not_found': _('The provider does not know what was asked for: it may have been deleted on WhatsApp, '
                       'or the account\'s settings point elsewhere.'),
        'rate_limited': _('The provider asks to slow down (too many requests). The sync goes on later by '
                          'itself.'),
        'server_error': _('The provider\'s server had an error. Try again later; if it lasts, contact the '
                          'provider.'),
        'bad_answer': _('The provider answered something that could not be read. Try again later; if it lasts, '
                        'send the technical details to your administrator.'),
        'rejected': _('The provider refused the request. The technical details give its reason.'),
        'unsupported': _('This provider does not offer this operation.'),
        'too_large': _('The file is bigger than the size this account downloads by itself. Download it from '
                       'the message, or raise the account\'s size limit.'),
    }
    detail = str(error)
    listed = detail.partition('Devices of this API key:')[2].strip()
    if reason == 'device_unknown' and listed:
        return _('The provider does not know this Device ID for this API key. Its devices: %s Copy one into '
                 'Device ID, then click Test Connection.') % listed, detail
    if reason == 'settings':
        # the provider layer's own text is already the plain explanation
        return _('The account\'s settings cannot work: %s') % detail, detail
    sentence = sentences.get(reason)
    if sentence is None:
        sentence = _('The provider could not be reached or refused the request.') \
            if isinstance(error, providers.ProviderError) else str(error)
    return sentence, detail
