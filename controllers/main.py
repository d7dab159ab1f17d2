# -*- coding: utf-8 -*-
import json
import logging

from werkzeug.wrappers import Response

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import providers

_logger = logging.getLogger(__name__)

#: the providers retry for a day; a payload larger than this is not theirs
MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
WEBHOOK_PATH_PREFIX = '/whatsapp/webhook/'


def _webhook_aware_get_request(original):
    """Odoo 14 treats every ``application/json`` POST as JSON-RPC, answers it with
    its own envelope and status 200, and refuses it on a ``type='http'`` route.
    Provider callbacks are plain JSON and need real status codes (401, 400), so
    requests to the webhook path, and only those, stay plain HTTP requests."""
    def get_request(self, httprequest):
        if httprequest.path.startswith(WEBHOOK_PATH_PREFIX):
            return http.HttpRequest(httprequest)
        return original(self, httprequest)
    get_request.whatsapp_webhook_aware = True
    return get_request


if not getattr(http.Root.get_request, 'whatsapp_webhook_aware', False):
    http.Root.get_request = _webhook_aware_get_request(http.Root.get_request)


def _reply(status, **body):
    return Response(json.dumps(body), status=status, content_type='application/json')


class WhatsappWebhookController(http.Controller):
    """Receives provider callbacks for one account, identified by a key in the URL."""

    @http.route(WEBHOOK_PATH_PREFIX + '<string:provider>/<string:key>', type='http', auth='public',
                methods=['POST'], csrf=False, save_session=False)
    def receive(self, provider, key, **_params):
        """Authenticate, parse, store, answer: all within the provider's patience.

        Unknown account or bad signature: 4xx and nothing written. Malformed
        payload: 400 and a log line, never a 500 the provider would retry.
        The URL's key names and authenticates the account; a signature is
        checked as the account requires (``_authenticate_webhook``).
        """
        if provider not in providers.PROVIDERS or len(key) < 20:
            return _reply(404, error='unknown webhook')
        length = request.httprequest.content_length
        if length is not None and length > MAX_WEBHOOK_BYTES:
            return _reply(413, error='payload too large')
        # Both providers send a Content-Length; a chunked body reads as empty and fails
        # the signature check below. Cached: when Odoo re-runs this request after a
        # serialization failure, the retry reads the same body again.
        raw_body = request.httprequest.get_data(cache=True)
        if len(raw_body) > MAX_WEBHOOK_BYTES:
            return _reply(413, error='payload too large')
        # As superuser, not as the public user: partners and notes it creates belong to Odoo.
        configuration = request.env['whatsapp.configuration'].with_user(SUPERUSER_ID)._find_by_webhook_key(
            provider, key)
        if not configuration:
            return _reply(404, error='unknown webhook')
        refusal = configuration._authenticate_webhook(raw_body, request.httprequest.headers)
        if refusal:
            _logger.warning('WhatsApp webhook for account %s rejected: %s', configuration.id, refusal)
            return _reply(401, error='invalid signature')
        try:
            batch = providers.parse_webhook(provider, raw_body)
        except providers.BadPayloadError as error:
            _logger.warning('WhatsApp webhook for account %s: malformed payload (%s)', configuration.id, error)
            return _reply(400, error='malformed payload')
        if not configuration.active:
            return _reply(200, ok=True, ignored='account archived')
        if batch.account_id and configuration.device_id and batch.account_id != configuration.device_id:
            # a call for another device of the same Wassenger key: not this account's data
            return _reply(200, ok=True, ignored='another device')
        counts = configuration._process_webhook(batch)
        if batch.skipped:
            _logger.info('WhatsApp webhook for account %s: %d items skipped (%s)', configuration.id,
                         len(batch.skipped), '; '.join(item.reason for item in batch.skipped[:5]))
        return _reply(200, ok=True, stored=counts, skipped=len(batch.skipped))
