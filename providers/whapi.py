"""WHAPI Cloud client (https://gate.whapi.cloud): paths, envelopes and quirks.

Lists page with ``count``/``offset`` and answer ``{<items>: [...], total}``;
person ids are bare digits, 1:1 chats ``<digits>@s.whatsapp.net``.
"""
import logging
import re

from .base import ProviderClient
from .concurrency import fetch_ordered
from .errors import (
    BadPayloadError, ConfigurationError, NotFoundError, ProviderError, RequestRejectedError, TransientError,
)
from .http import HttpClientMixin
from .parsing import (
    ItemError, MessageStream, as_bool, as_int, as_text, build_page, clean_record, check_participant_action,
    contact_card_text, data_uri, expect_list, guess_media_type, hidden_number_reason, invite_link, location_text,
    map_value, poll_text, read_refusals, vcard_name, vcard_phones,
    resolve_mime_type, parse_time, path_segment, require_dict, require_text, same_url,
    settle_outcome, split_person_keys, to_unix_seconds,
)
from .phone import chat_key, chat_type_of, normalize_phone, parse_jid, person_key, user_id_phone
from .records import (
    MESSAGE_STATUSES, MESSAGE_TYPES, AccountInfo, Chat, Contact, Group, GroupCreation, Media,
    Member, Message, NumberCheck, ParticipantsResult, PollOption, SendResult, Skipped, StatusUpdate,
    WebhookRegistration,
)

_logger = logging.getLogger(__name__)

__all__ = [
    'WhapiClient', 'parse_contact', 'parse_chat', 'parse_group', 'parse_participant',
    'parse_message', 'parse_reactions', 'edited_text', 'message_text', 'map_status', 'WHAPI_SECRET_HEADER', 'WEBHOOK_EVENTS',
    'CHECK_NUMBERS_CHUNK', 'LIDS_CHUNK',
]

# Channel states of GET /health and what to tell the user about each.
_HEALTH_DETAILS = {
    'AUTH': 'Connected: the channel is logged in.',
    'QR': 'The channel waits for a QR code scan: link the phone in the WHAPI dashboard.',
    'INIT': 'The channel is starting; try again in a minute.',
    'LAUNCH': 'The channel is starting; try again in a minute.',
    'NOT_INIT': 'The channel is not started; open it in the WHAPI dashboard.',
    'ERROR': 'The channel reports an error; check it in the WHAPI dashboard.',
}
# status.code values seen for the states above (AUTH = 4 is inferred).
_HEALTH_CODES = {1: 'INIT', 2: 'LAUNCH', 3: 'QR', 4: 'AUTH', 5: 'ERROR'}

_RANKS = {'creator': 'superadmin', 'superadmin': 'superadmin', 'owner': 'superadmin',
          'admin': 'admin', 'member': 'member'}
_CHAT_TYPES = {'contact': 'contact', 'group': 'group', 'broadcast': 'broadcast',
               'newsletter': 'newsletter', 'unknown': 'unknown'}
_STATUSES = dict((status, status) for status in MESSAGE_STATUSES)
# Numeric ``code`` of webhook statuses: the StatusEnum order (failed=0 .. deleted=6).
# Only 4 = read is confirmed by an example; the rest is inferred (unconfirmed).
_STATUS_CODES = dict((str(code), status) for code, status in enumerate(
    ('failed', 'pending', 'sent', 'delivered', 'read', 'played', 'deleted')))
# WHAPI type words that are ours under another name.
_TYPE_ALIASES = {'short': 'video'}
# Types whose content container describes a file.
_MEDIA_TYPES = ('image', 'video', 'gif', 'short', 'audio', 'voice', 'document', 'sticker')

#: WHAPI does not sign callbacks: our secret travels in this header, which
#: register_webhook asks WHAPI to add to every callback (webhooks.webhook_signature checks it).
WHAPI_SECRET_HEADER = 'X-Odoo-Webhook-Secret'
# Callbacks our webhook asks for: everything webhooks.parse_webhook reads.
WEBHOOK_EVENTS = (
    ('messages', 'post'), ('messages', 'put'), ('messages', 'patch'), ('messages', 'delete'),
    ('statuses', 'post'), ('statuses', 'put'),
    ('groups', 'post'), ('groups', 'put'), ('groups', 'patch'),
    ('contacts', 'post'), ('contacts', 'patch'),
    # account health: login / logout, and the channel's state (QR needed, error...)
    ('users', 'post'), ('users', 'delete'), ('channel', 'post'),
)
#: numbers per POST /contacts check: small enough that a blocking check of one
#: chunk answers within the read timeout (the API states no batch limit)
CHECK_NUMBERS_CHUNK = 100
#: phone ids per GET /contacts/lids request (one comma-separated query parameter,
#: so the URL stays short; the API states no limit)
LIDS_CHUNK = 100
#: what WHAPI takes as a participant or path ContactID (``ContactID`` schema of the
#: OpenAPI 1.8.7 and of the MCP ``createGroup`` / ``addGroupParticipant`` bodies)
_CONTACT_ID = re.compile(r'^\d{7,15}$')
#: why a person key outside that pattern is left out of a group request
_NOT_A_WHAPI_ID = 'not a number WHAPI accepts (7 to 15 digits with the country code)'
# Request of each participant action on /groups/{id}/...
_PARTICIPANT_CALLS = {
    'add': ('POST', 'participants'), 'remove': ('DELETE', 'participants'),
    'promote': ('PATCH', 'admins'), 'demote': ('DELETE', 'admins'),
}


class WhapiClient(HttpClientMixin, ProviderClient):
    """One WHAPI channel (one token = one WhatsApp number)."""

    name = 'whapi'
    label = 'WHAPI'
    default_base_url = 'https://gate.whapi.cloud'
    default_page_size = 100
    max_page_size = 500
    capabilities = frozenset((
        'register_webhook', 'create_group', 'update_participants', 'get_invite_code',
        'revoke_invite_code', 'check_numbers', 'check_numbers_batch', 'get_contact', 'mark_read',
        'get_message_status', 'resolve_hidden_numbers',
    ))
    # SenderAudio, SenderVoice and the sticker send have no ``caption`` (W2)
    captionless_media_types = frozenset(('audio', 'voice', 'sticker'))

    def _auth_headers(self, token):
        return {'Authorization': 'Bearer %s' % token}

    @staticmethod
    def _error_text(body):
        """``{"error": {"code", "message", "details"}}``; tolerate a flat message."""
        if not isinstance(body, dict):
            return None
        error = body.get('error')
        if isinstance(error, dict):
            parts = [as_text(error.get('message')), as_text(error.get('details'))]
            return ': '.join(part for part in parts if part) or None
        return as_text(error) or as_text(body.get('message'))

    def _get(self, path, params=None):
        return self._transport.request('GET', path, params=params, expect=dict)

    # -- connection ------------------------------------------------------------------

    def check_connection(self):
        health = self._get('/health')
        status = health.get('status')
        if isinstance(status, dict):
            state = as_text(status.get('text'))
            if not state:
                state = _HEALTH_CODES.get(as_int(status.get('code')))
        else:
            state = as_text(status)
        if not state:
            raise BadPayloadError('WHAPI GET /health: no channel status in the answer')
        state = state.strip().upper()
        user = health.get('user') if isinstance(health.get('user'), dict) else {}
        phone = normalize_phone(person_key(user.get('id'))) if user.get('id') else None
        detail = _HEALTH_DETAILS.get(state, 'Unexpected channel state %s; check the WHAPI dashboard.' % state)
        return AccountInfo(
            connected=(state == 'AUTH'), status=state,
            phone=phone.e164 if phone else None,
            name=as_text(user.get('name')) or as_text(user.get('pushname')),
            account_id=as_text(health.get('device_id')) or as_text(user.get('id')),
            detail=detail,
        )

    # -- pagination ------------------------------------------------------------------

    def _iter_offset_pages(self, path, items_key, params=None, page_size=None):
        """Yield the raw item lists of a count/offset listing, page by page.

        Stops when ``offset`` reaches ``total`` or a page comes back empty
        (``count`` in the envelope is not trusted; ``len(items)`` is). Once the
        first page tells the total, the next pages are asked for
        ``concurrency`` at a time, and still yielded in order.
        """
        size = page_size or self.page_size
        where = 'WHAPI GET %s' % path

        def fetch(offset):
            query = dict(params or {})
            query.update(count=size, offset=offset)
            body = self._get(path, query)
            if items_key not in body:
                raise BadPayloadError('%s: no "%s" list in the answer' % (where, items_key))
            items = expect_list(body[items_key], '%s "%s"' % (where, items_key))
            total = body.get('total')
            if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
                raise BadPayloadError('%s: "total" is not a number' % where)
            return items, total

        items, total = fetch(0)
        offset = 0
        while items:
            yield items
            offset += len(items)
            if total is None:
                if len(items) < size:
                    return
            elif offset >= total:
                return
            elif self.concurrency > 1:
                # the total is known, so are the next offsets (at the page length the server keeps to)
                ahead = fetch_ordered(fetch, range(offset, total, len(items)), self.concurrency)
                for page_offset, (items, _total) in ahead:
                    if page_offset != offset:
                        break  # a page came back short: go on from where it ended, one by one
                    if not items:
                        return
                    yield items
                    offset += len(items)
                ahead.close()
                if offset >= total:
                    return
            items, total = fetch(offset)

    # -- contacts, chats, groups ---------------------------------------------------------

    def iter_contacts(self):
        for items in self._iter_offset_pages('/contacts', 'contacts'):
            yield build_page(items, parse_contact, 'contact', _item_id)

    def iter_chats(self):
        for items in self._iter_offset_pages('/chats', 'chats'):
            yield build_page(items, parse_chat, 'chat', _item_id)

    def iter_groups(self):
        for items in self._iter_offset_pages('/groups', 'groups'):
            yield build_page(items, parse_group, 'group', _item_id)

    def get_group(self, group_id):
        key = _group_key(group_id)
        body = self._get('/groups/%s' % path_segment(key), {'resync': 'false'})
        try:
            group = clean_record(parse_group(body))
        except ItemError as exc:
            raise BadPayloadError('WHAPI GET /groups/%s: %s' % (key, exc))
        if group.members is None:
            # Removing members no list mentions would empty the group locally.
            raise BadPayloadError('WHAPI GET /groups/%s: the reply has no participants list' % key)
        return group

    def get_contact(self, contact_id):
        """GET /contacts/{ContactID} -> Contact; 404 when WHAPI does not know the person.

        ContactID is digits only (``^\\d{7,15}$``). A hidden-number id is resolved to
        its phone number first (:meth:`resolve_hidden_numbers`) and the contact
        returned carries it in ``lid``; one WHAPI cannot resolve is a
        RequestRejectedError saying so, never a request WHAPI would refuse.
        """
        self._require('get_contact')
        key = _contact_key(contact_id)
        lid = None
        if key.endswith('@lid'):
            lid = key
            key = self.resolve_hidden_numbers([lid]).get(lid)
            if key is None:
                raise RequestRejectedError(
                    'WHAPI: %s is a hidden number: WhatsApp does not share this person\'s phone '
                    'number and WHAPI could not match it to one, so the contact cannot be read' % lid)
        if not _CONTACT_ID.match(key):
            raise RequestRejectedError('WHAPI: %s is %s' % (key, _NOT_A_WHAPI_ID))
        path = '/contacts/%s' % path_segment(key)
        body = self._get(path)
        try:
            contact = clean_record(parse_contact(body))
        except ItemError as exc:
            raise BadPayloadError('WHAPI GET %s: %s' % (path, exc))
        if contact is None:
            raise BadPayloadError('WHAPI GET %s: the answer is not a person' % path)
        if lid and contact.contact_id != lid:
            contact.lid = lid
        return contact

    def resolve_hidden_numbers(self, hidden_ids, candidates=()):
        """Phone person keys of hidden-number ids, as far as WHAPI can tell.

        * ``GET /contacts/ids/{ContactLID}`` per hidden id (``getIdByLid`` of WHAPI's
          newer MCP description; its reply is not described: ``{"id": ...}`` and the
          other plausible shapes are read, 404/400 mean "unknown");
        * for those still unknown, ``GET /contacts/lids?ContactIDList=<ids>`` over
          ``candidates`` (``getLidByIds``, OpenAPI: a map ``{<contact id>: {"lid"}}``),
          read backwards.
        """
        self._require('resolve_hidden_numbers')
        wanted = []
        for value in hidden_ids or ():
            jid = parse_jid(value)
            if jid.kind == 'lid' and jid.key not in wanted:
                wanted.append(jid.key)
        found = {}
        for lid, phone in fetch_ordered(self._phone_of_hidden, wanted, self.concurrency):
            if phone:
                found[lid] = phone
        missing = set(wanted) - set(found)
        phones = []
        for value in candidates or ():
            jid = parse_jid(value)
            if jid.kind == 'user' and _CONTACT_ID.match(jid.key) and jid.key not in phones:
                phones.append(jid.key)
        for start in range(0, len(phones) if missing else 0, LIDS_CHUNK):
            chunk = phones[start:start + LIDS_CHUNK]
            try:
                reply = self._transport.request('GET', '/contacts/lids', params={'ContactIDList': ','.join(chunk)},
                                                expect=(dict, list))
            except (NotFoundError, RequestRejectedError, BadPayloadError) as exc:
                _logger.info('WHAPI: hidden ids of %d contacts not readable (%s)', len(chunk), exc)
                continue
            for phone, lid in read_lid_map(reply):
                if lid in missing and phone in chunk:
                    found[lid] = phone
                    missing.discard(lid)
            if not missing:
                break
        return found

    def _phone_of_hidden(self, lid):
        """GET /contacts/ids/{lid} -> the phone person key, or None when WHAPI cannot tell."""
        try:
            reply = self._transport.request('GET', '/contacts/ids/%s' % path_segment(lid))
        except (NotFoundError, RequestRejectedError, BadPayloadError, TransientError) as exc:
            _logger.info('WHAPI: hidden number %s not resolved (%s)', lid, exc)
            return None
        phone = _phone_in_reply(reply)
        if phone is not None and phone == lid.split('@')[0]:
            # the hidden id's own digits are no phone number (an undocumented reply read wrongly)
            _logger.info('WHAPI: hidden number %s answered with its own digits; not resolved', lid)
            return None
        return phone

    # -- messages -------------------------------------------------------------------

    def iter_messages(self, since=None, limit=None):
        """See ProviderClient; ``limit`` 0 or None with no ``since`` = all history.

        ``since``: time_from + oldest first (new arrivals append at the end, so
        offsets stay stable); ``limit``: newest first, stop after ``limit``;
        both: the first ``limit`` messages from ``since`` on. System messages
        are always included (``normal_types=false``).
        """
        params = {'normal_types': 'false'}
        if since is not None:
            params.update(time_from=to_unix_seconds(since), sort='asc')
        elif limit:
            params['sort'] = 'desc'
        else:
            params['sort'] = 'asc'
        page_size = min(self.page_size, limit) if limit else None
        stream = MessageStream(limit)
        for items in self._iter_offset_pages('/messages/list', 'messages', params, page_size):
            if stream.remaining is not None:
                items = items[:stream.remaining]
            page = stream.take(build_page(items, parse_message, 'message', _item_id))
            _add_listed_reactions(page, items, stream)
            yield page
            if stream.done:
                return

    # -- sending ----------------------------------------------------------------------

    def send_text(self, to, body, quoted_id=None):
        payload = {'to': _send_target(to), 'body': body}
        if quoted_id:
            payload['quoted'] = quoted_id
        reply = self._transport.request('POST', '/messages/text', json_body=payload, expect=dict)
        return _parse_send_reply(reply, '/messages/text')

    def send_media(self, to, file_bytes=None, file_name=None, mime_type=None,
                   url=None, caption=None, media_type=None, quoted_id=None):
        if (file_bytes is None) == (url is None):
            raise ValueError('send_media needs exactly one of file_bytes or url')
        mime_type = resolve_mime_type(file_bytes, file_name, mime_type, url)
        kind = guess_media_type(media_type, mime_type)
        payload = {'to': _send_target(to)}
        if quoted_id:
            payload['quoted'] = quoted_id
        payload['media'] = url if url is not None else data_uri(file_bytes, mime_type)
        # Fields as each Sender* schema declares them (W2): ``caption`` on images,
        # videos, GIFs and documents only (a caller sends an audio's caption as a
        # text of its own: see captionless_media_types); ``filename`` on documents only.
        if caption and kind not in self.captionless_media_types:
            payload['caption'] = caption
        if file_name and kind == 'document':
            payload['filename'] = file_name
        if mime_type:
            payload['mime_type'] = mime_type
        path = '/messages/%s' % kind
        reply = self._transport.request('POST', path, json_body=payload, expect=dict)
        return _parse_send_reply(reply, path)

    def get_message_status(self, message_id):
        """``GET /messages/{MessageID}`` -> StatusUpdate of its ``status``."""
        self._require('get_message_status')
        body = self._get('/messages/%s' % path_segment(message_id))
        return StatusUpdate(message_id=as_text(body.get('id')) or message_id,
                            status=map_status(body.get('status')))

    def download_media(self, media, sink, max_bytes=None):
        """``GET /media/{MediaID}``: the id of the message's media container."""
        if media is None or not media.media_id:
            raise NotFoundError('WHAPI: this message has no media id to download')
        return self._transport.download('/media/%s' % path_segment(media.media_id), sink, max_bytes=max_bytes)

    def mark_read(self, chat_id, message_id):
        """``PUT /messages/{MessageID}``: the message, and the chat up to it, read."""
        self._transport.request('PUT', '/messages/%s' % path_segment(message_id))

    # -- webhooks -------------------------------------------------------------------

    def register_webhook(self, url, secret):
        """Add or replace our entry in the channel's ``webhooks`` settings.

        WHAPI does not sign callbacks, so ``secret`` rides in our own header
        (WHAPI_SECRET_HEADER) on each callback. Other webhooks of the channel
        are kept as they are.
        """
        self._require('register_webhook')
        url = as_text(url)
        if not url:
            raise ConfigurationError('WHAPI: no webhook URL given')
        if not secret:
            raise ConfigurationError('WHAPI: a webhook secret is required (callbacks are '
                                     'checked against it)')
        self._transport.hide(secret)
        settings = self._get('/settings')
        current = settings.get('webhooks')
        entry = {
            'url': url, 'mode': 'body',
            'events': [{'type': kind, 'method': method} for kind, method in WEBHOOK_EVENTS],
            'headers': {WHAPI_SECRET_HEADER: str(secret)},
        }
        webhooks, placed = [], False
        for hook in current if isinstance(current, list) else []:
            if isinstance(hook, dict) and same_url(hook.get('url'), url):
                if not placed:
                    webhooks.append(entry)  # replace in place, keeping the order
                    placed = True
                continue
            webhooks.append(hook)
        if not placed:
            webhooks.append(entry)
        # The whole list is sent each time, so repeating the request is harmless.
        self._transport.request('PATCH', '/settings', json_body={'webhooks': webhooks},
                                idempotent=True)
        return WebhookRegistration(webhook_id=None, secret=str(secret), url=url)

    # -- group and contact management -------------------------------------------------

    def create_group(self, name, participants, description=None):
        """POST /groups ``{subject, participants}``; description set afterwards.

        The reply is the new Group (201); a ``group_id`` reply and a ``failed``
        list of participants are tolerated (unconfirmed shapes).
        """
        self._require('create_group')
        keys, invalid, resolved = self._participant_ids(participants)
        if not keys:
            raise RequestRejectedError('WHAPI: a group needs at least one participant with a phone '
                                       'number WHAPI accepts; none was left: %s'
                                       % '; '.join('%s: %s' % pair for pair in invalid))
        reply = self._transport.request('POST', '/groups', expect=dict, idempotent=False,
                                        json_body={'subject': name, 'participants': keys})
        group_id = as_text(reply.get('group_id')) or as_text(reply.get('id'))
        if parse_jid(group_id).kind != 'group':
            raise BadPayloadError('WHAPI POST /groups: no group id in the answer')
        try:
            group = parse_group(dict(reply, id=group_id))
        except ItemError as exc:
            raise BadPayloadError('WHAPI POST /groups: %s' % exc)
        if group.name is None:
            group.name = name
        confirmed = None
        if group.members is not None:
            confirmed = [member.contact_id for member in group.members]
        confirmed = _merge_confirmed(confirmed, reply.get('processed'))
        added, refused = settle_outcome(keys, _whapi_refusals(reply), confirmed,
                                        'not in the group after creation')
        if description:
            group.description = self._set_group_description(group.group_id, description)
        return GroupCreation(group=group, added=added, refused=invalid + refused, resolved=resolved)

    def _set_group_description(self, group_id, description):
        """PUT /groups/{id} ``{description}``; the group exists already, so a failure
        here is logged and the description left unset rather than raised."""
        try:
            self._transport.request('PUT', '/groups/%s' % path_segment(group_id),
                                    json_body={'description': description})
        except ProviderError as exc:
            _logger.warning('WHAPI: group %s created, but its description was not set: %s',
                            group_id, exc)
            return None
        return description

    def update_participants(self, group_id, person_keys, action):
        """add: POST, remove: DELETE .../participants; promote: PATCH, demote: DELETE
        .../admins; body ``{participants}``. Reply ``{success, failed, processed}``
        (add) or ``{success}``; an empty 2xx means every participant was done."""
        self._require('update_participants')
        check_participant_action(action)
        key = _group_key(group_id)
        keys, invalid, resolved = self._participant_ids(person_keys)
        if not keys:
            return ParticipantsResult(done=[], refused=invalid, resolved=resolved)
        method, resource = _PARTICIPANT_CALLS[action]
        reply = self._transport.request(method, '/groups/%s/%s' % (path_segment(key), resource),
                                        json_body={'participants': keys},
                                        idempotent=(action != 'add'))
        reply = reply if isinstance(reply, dict) else {}
        refusals = _whapi_refusals(reply)
        if reply.get('success') is False and not refusals:
            refusals = [(person, 'refused by WHAPI') for person in keys]
        confirmed = _merge_confirmed(None, reply.get('processed'))
        done, refused = settle_outcome(keys, refusals, confirmed)
        return ParticipantsResult(done=done, refused=invalid + refused, resolved=resolved)

    def _participant_ids(self, values):
        """``(ids to send, refused, resolved)`` for a group request: WHAPI takes digits
        only (``ContactID``), so hidden numbers are resolved first and left out, each
        with its reason, when they cannot be; one never fails the others."""
        keys, refused = split_person_keys(values)
        hidden = [key for key in keys if key.endswith('@lid')]
        phones = self.resolve_hidden_numbers(hidden) if hidden else {}
        ids, resolved = [], []
        for key in keys:
            if key in phones:
                resolved.append((key, phones[key]))
                key = phones[key]
            elif key.endswith('@lid'):
                refused.append((key, hidden_number_reason('WHAPI')))
                continue
            if not _CONTACT_ID.match(key):
                refused.append((key, _NOT_A_WHAPI_ID))
            elif key not in ids:
                ids.append(key)
        return ids, refused, resolved

    def get_invite_code(self, group_id):
        self._require('get_invite_code')
        key = _group_key(group_id)
        body = self._get('/groups/%s/invite' % path_segment(key))
        link = invite_link(body.get('invite_code'))
        if link is None:
            raise BadPayloadError('WHAPI GET /groups/%s/invite: no invite_code in the answer' % key)
        return link

    def revoke_invite_code(self, group_id):
        """DELETE /groups/{id}/invite answers only ``{success}``: read the new code after."""
        self._require('revoke_invite_code')
        key = _group_key(group_id)
        reply = self._transport.request('DELETE', '/groups/%s/invite' % path_segment(key))
        link = invite_link(reply.get('invite_code')) if isinstance(reply, dict) else None
        return link or self.get_invite_code(key)

    def check_numbers(self, phones):
        """POST /contacts ``{contacts, force_check: false, blocking: wait}`` per chunk.

        Answers ``{contacts: [{input, status: valid|invalid, wa_id}]}``, matched
        back on ``input`` (by position when an input is not echoed).
        """
        self._require('check_numbers')
        phones = list(phones or ())
        keys = [_checkable_key(phone) for phone in phones]
        wanted = []
        for key in keys:
            if key is not None and key not in wanted:
                wanted.append(key)
        found = {}
        for start in range(0, len(wanted), CHECK_NUMBERS_CHUNK):
            chunk = wanted[start:start + CHECK_NUMBERS_CHUNK]
            reply = self._transport.request(
                'POST', '/contacts', expect=dict, idempotent=True,
                json_body={'contacts': chunk, 'force_check': False, 'blocking': 'wait'})
            entries = reply.get('contacts')
            if not isinstance(entries, list):
                raise BadPayloadError('WHAPI POST /contacts: no "contacts" list in the answer')
            found.update(_read_checks(chunk, entries))
        results = []
        for phone, key in zip(phones, keys):
            wa_key = found.get(key) if key is not None else None
            results.append(NumberCheck(input=phone, person_key=wa_key, exists=wa_key is not None))
        return results


# -- item parsers (module level: pure functions of one item) ---------------------------

def _item_id(item):
    return item.get('id')


def _group_key(group_id):
    jid = parse_jid(group_id)
    if jid.kind != 'group':
        raise RequestRejectedError('WHAPI: not a group id: %r' % (group_id,))
    return jid.key


def _contact_key(contact_id):
    """Person key to ask WHAPI about: bare digits, or ``<digits>@lid`` as is."""
    jid = parse_jid(contact_id)
    if jid.kind not in ('user', 'lid'):
        raise RequestRejectedError('WHAPI: not a person id: %r' % (contact_id,))
    return jid.key


def parse_contact(item):
    item = require_dict(item, 'contact')
    jid = parse_jid(require_text(item, 'id'))
    if jid.kind in ('group', 'newsletter', 'broadcast'):
        return None  # not a person: chats/groups carry these
    if jid.kind not in ('user', 'lid'):
        raise ItemError('unrecognised contact id')
    phone = user_id_phone(jid.key) if jid.kind == 'user' else None
    return Contact(
        contact_id=jid.key,
        phone=phone.value if phone else None,
        phone_valid=bool(phone and phone.valid),
        name=as_text(item.get('name')),
        pushname=as_text(item.get('pushname')),
        is_business=as_bool(item.get('is_business')),
    )


def parse_chat(item):
    item = require_dict(item, 'chat')
    raw_id = require_text(item, 'id')
    return Chat(
        chat_id=chat_key(raw_id),
        chat_type=map_value(item.get('type'), _CHAT_TYPES) or chat_type_of(raw_id),
        name=as_text(item.get('name')),
        last_message_at=parse_time(item.get('timestamp')),
    )


def parse_group(item):
    item = require_dict(item, 'group')
    jid = parse_jid(require_text(item, 'id'))
    if jid.kind != 'group':
        raise ItemError('not a group id')
    group = Group(
        group_id=jid.key,
        name=as_text(item.get('name')),
        description=as_text(item.get('description')),
        invite_code=as_text(item.get('invite_code')),
        created_at=parse_time(item.get('created_at')),
    )
    if 'participants' in item and item['participants'] is not None:
        participants = item['participants']
        if not isinstance(participants, list):
            raise ItemError('participants is not a list')
        group.members = []
        for participant in participants:
            try:
                group.members.append(parse_participant(participant))
            except ItemError as exc:
                participant_id = participant.get('id') if isinstance(participant, dict) else participant
                group.skipped.append(Skipped('member', '%s: %s' % (jid.key, exc),
                                             as_text(participant_id)))
    return group


def parse_participant(participant):
    if isinstance(participant, dict):
        raw_id, rank = participant.get('id'), participant.get('rank')
    else:
        raw_id, rank = participant, None
    key = person_key(raw_id)
    if not key:
        raise ItemError('participant id is not a person')
    role = map_value(rank, _RANKS, 'member') if rank is not None else 'member'
    phone = user_id_phone(key) if not key.endswith('@lid') else None
    return Member(contact_id=key, role=role,
                  phone=phone.value if phone else None,
                  phone_valid=bool(phone and phone.valid))


def parse_message(item):
    item = require_dict(item, 'message')
    message_id = require_text(item, 'id')
    raw_type = require_text(item, 'type')
    raw_chat = require_text(item, 'chat_id')
    timestamp = parse_time(item.get('timestamp'))
    if timestamp is None:
        raise ItemError('missing or invalid timestamp')
    if 'from_me' not in item:
        raise ItemError('missing from_me')
    lowered = raw_type.lower()
    message_type = _TYPE_ALIASES.get(lowered, lowered)
    if message_type not in MESSAGE_TYPES:
        message_type = 'unknown'
    container = _content(item, raw_type)
    media = None
    if lowered in _MEDIA_TYPES and container:
        media = Media(
            media_id=as_text(container.get('id')),
            mime_type=as_text(container.get('mime_type')),
            file_name=as_text(container.get('file_name')) or as_text(container.get('filename')),
            file_size=as_int(container.get('file_size')),
            url=as_text(container.get('link')),
        )
    body = _container_text(container)
    context = item.get('context')
    quoted_id = as_text(context.get('quoted_id')) if isinstance(context, dict) else None
    action = votes = poll_options = None
    if lowered == 'action':
        # an event on another message (W2 MessageAction): a reaction is kept as a
        # reaction; an edit, deletion, vote or setting is applied to its target
        action_type = (as_text(container.get('type')) or '').lower()
        quoted_id = as_text(container.get('target')) or quoted_id
        if action_type == 'reaction':
            message_type, body = 'reaction', as_text(container.get('emoji'))
        else:
            action = _ACTION_WORDS.get(action_type, action_type or 'unknown')
            body = edited_text(container) if action == 'edit' else None
            if action == 'vote':
                votes = [as_text(vote) for vote in _list(container.get('votes')) if as_text(vote)]
    elif message_type == 'reaction':
        # a reaction under its own type (providers.md 3b, unconfirmed)
        quoted_id = as_text(container.get('message_id')) or as_text(container.get('target')) or quoted_id
        body = as_text(container.get('emoji')) or body
    elif message_type == 'poll':
        poll_options = _poll_options(container)
        body = poll_text(as_text(container.get('title')), [option.name for option in poll_options])
    elif message_type in ('location', 'live_location'):
        body = _location_body(container, message_type)
    elif message_type == 'contact':
        body = _card_text(container)
    elif message_type == 'contact_list':
        cards = [_card_text(card) for card in _list(container.get('list')) if isinstance(card, dict)]
        body = '\n'.join(card for card in cards if card) or None
    return Message(
        message_id=message_id,
        chat_id=chat_key(raw_chat),
        timestamp=timestamp,
        from_me=as_bool(item.get('from_me')),
        chat_type=chat_type_of(raw_chat),
        sender_id=person_key(item.get('from')),
        sender_name=as_text(item.get('from_name')),
        message_type=message_type,
        raw_type=raw_type,
        body=body,
        media=media,
        status=map_status(item.get('status')),
        quoted_id=quoted_id,
        action=action,
        votes=votes,
        poll_options=poll_options,
    )


# MessageAction.type words -> records.MESSAGE_ACTIONS
_ACTION_WORDS = {'edit': 'edit', 'edited': 'edit', 'delete': 'delete', 'vote': 'vote',
                 'ephemeral': 'ephemeral'}


def _list(value):
    return value if isinstance(value, list) else []


def _poll_options(container):
    """``poll.options`` (names) with their ``results[].voters`` when listed."""
    voters = {}
    for result in _list(container.get('results')):
        if isinstance(result, dict) and as_text(result.get('name')) and isinstance(result.get('voters'), list):
            voters[as_text(result['name'])] = [key for key in map(person_key, result['voters']) if key]
    names = [as_text(option) for option in _list(container.get('options')) if as_text(option)]
    if not names:
        names = list(voters)
    return [PollOption(name=name, voters=voters.get(name) if voters else None) for name in names]


def _location_body(container, message_type):
    label = 'Live location' if message_type == 'live_location' else None
    text = location_text(container.get('name'), container.get('address'),
                         container.get('latitude'), container.get('longitude'), label)
    note = as_text(container.get('comment')) or as_text(container.get('caption'))
    return '\n'.join(part for part in (text, note) if part) or None


def _card_text(card):
    """A ``VCard`` ``{name, vcard}`` as a readable line."""
    vcard = as_text(card.get('vcard'))
    return contact_card_text(as_text(card.get('name')) or vcard_name(vcard), vcard_phones(vcard))


def parse_reactions(item, message):
    """The reactions listed on a message (``reactions[]``, W2 MessageReaction) as
    reaction messages, so a sync stores those a webhook missed.

    W2 gives ``{id, emoji, t, count, group_key}`` and no reactor: the reaction keeps
    its ``id`` when given (a reaction's own message id, as a webhook carries it:
    unconfirmed) and else gets one made of the message id and the emoji.
    """
    records = []
    for reaction in _list(item.get('reactions')):
        if not isinstance(reaction, dict):
            continue
        emoji = as_text(reaction.get('emoji'))
        if not emoji:
            continue
        reaction_id = as_text(reaction.get('id')) or '%s~%s' % (message.message_id, emoji)
        records.append(Message(
            message_id=reaction_id, chat_id=message.chat_id, chat_type=message.chat_type,
            timestamp=parse_time(reaction.get('t')) or message.timestamp,
            message_type='reaction', raw_type='reaction', body=emoji, quoted_id=message.message_id,
            partial=True))
    return records


def edited_text(action):
    """New text of an edit action: ``edited_content`` as text, content or container."""
    content = action.get('edited_content')
    if isinstance(content, dict):
        edited_type = as_text(action.get('edited_type'))
        nested = content.get(edited_type) if edited_type else None
        if isinstance(nested, dict):
            content = nested
        return as_text(content.get('body')) or as_text(content.get('caption'))
    return as_text(content)


def _add_listed_reactions(page, items, stream):
    """Reaction messages for the ``reactions[]`` of the page's messages (once per call)."""
    parsed = {message.message_id: message for message in page.items}
    for item in items:
        if not isinstance(item, dict) or not item.get('reactions'):
            continue
        message = parsed.get(as_text(item.get('id')))
        if message is None:
            continue
        for reaction in clean_record(parse_reactions(item, message)):
            if reaction.message_id not in stream.seen:
                stream.seen.add(reaction.message_id)
                page.items.append(reaction)


def _content(item, raw_type):
    """The content container named after the message type (``text``, ``image``...)."""
    container = item.get(raw_type) if raw_type else None
    return container if isinstance(container, dict) else {}


def _container_text(container):
    return as_text(container.get('body')) or as_text(container.get('caption'))


def message_text(item):
    """Text of a raw WHAPI message: text/link_preview/system body or media caption."""
    if not isinstance(item, dict):
        return None
    return _container_text(_content(item, as_text(item.get('type'))))


def map_status(word, code=None):
    """WHAPI status word (or, failing that, numeric ``code``) -> canonical status."""
    status = map_value(word, _STATUSES)
    if status is None and code is not None:
        status = map_value(as_int(code), _STATUS_CODES)
    return status


def _whapi_refusals(reply):
    """Refused participants of a group reply: ``failed`` (participants calls),
    ``unprocessed_participants`` (``GroupCreate`` of the newer OpenAPI), ids or objects."""
    refusals = []
    for key in ('failed', 'unprocessed_participants', 'participants_failed', 'errors'):
        refusals.extend(read_refusals(reply.get(key)))
    return refusals


def _merge_confirmed(confirmed, processed):
    """Keys a reply confirms: the group's members and/or a ``processed`` id list."""
    if not isinstance(processed, list):
        return confirmed
    keys = [person_key(value) for value in processed]
    return list(confirmed or []) + [key for key in keys if key]


def read_lid_map(reply):
    """``[(phone person key, hidden id)]`` of a ``GET /contacts/lids`` reply.

    Published (OpenAPI ``Lids``): ``{<contact id>: {"lid": ...}}``. Also read:
    ``{<contact id>: "<lid>"}`` and a list of ``{"id"|"contact_id", "lid"}``.
    Entries whose key is no phone id or whose lid is no hidden id are dropped.
    """
    entries = []
    if isinstance(reply, dict):
        entries = list(reply.items())
    elif isinstance(reply, list):
        for entry in reply:
            if isinstance(entry, dict):
                entries.append((entry.get('id') or entry.get('contact_id') or entry.get('wa_id'), entry))
    pairs = []
    for raw_phone, value in entries:
        lid = value.get('lid') if isinstance(value, dict) else value
        lid = as_text(str(lid)) if isinstance(lid, (str, int)) and not isinstance(lid, bool) else None
        if lid and lid.isdigit():
            lid += '@lid'  # the hidden id given without its suffix
        phone_jid, lid_jid = parse_jid(raw_phone), parse_jid(lid)
        if phone_jid.kind == 'user' and lid_jid.kind == 'lid':
            pairs.append((phone_jid.key, lid_jid.key))
    return pairs


def _phone_in_reply(reply):
    """The phone person key of a ``GET /contacts/ids/{lid}`` reply: ``{"id"}`` (or
    ``contact_id``, ``wa_id``, ``phone``), or the id as a bare string."""
    values = [reply]
    if isinstance(reply, dict):
        values = [reply.get(name) for name in ('id', 'contact_id', 'wa_id', 'phone')]
    for value in values:
        jid = parse_jid(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if jid is not None and jid.kind == 'user':
            return jid.key
    return None


def _checkable_key(phone):
    """Digits to ask WHAPI about; None for what is no phone number (never asked)."""
    jid = parse_jid(phone)
    return jid.key if jid.kind == 'user' else None


def _read_checks(asked, entries):
    """``{asked key: WhatsApp person key}`` for the numbers WHAPI calls valid."""
    found = {}
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        asked_key = person_key(entry.get('input'))
        if asked_key not in asked and len(entries) == len(asked):
            asked_key = asked[position]
        if asked_key not in asked:
            continue
        if (as_text(entry.get('status')) or '').lower() == 'valid':
            found[asked_key] = person_key(entry.get('wa_id')) or asked_key
    return found


def _send_target(to):
    """Person key, E.164 phone or chat id -> WHAPI ``to`` (digits or full id)."""
    jid = parse_jid(to)
    if jid.kind in ('user', 'lid', 'group', 'newsletter'):
        return jid.key
    raise RequestRejectedError('WHAPI: cannot send to %r: not a phone number or chat id' % (to,))


def _parse_send_reply(reply, path):
    where = 'WHAPI POST %s' % path
    if reply.get('sent') is False:
        raise RequestRejectedError('%s: the provider did not accept the message' % where)
    message = reply.get('message')
    if not isinstance(message, dict) or not as_text(message.get('id')):
        raise BadPayloadError('%s: no message id in the answer' % where)
    message_id = as_text(message.get('id'))
    return SendResult(
        message_id=message_id,
        status=map_value(message.get('status'), _STATUSES, 'pending'),
        timestamp=parse_time(message.get('timestamp')),
        whatsapp_message_id=message_id,
    )

