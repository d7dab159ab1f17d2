"""Wassenger client (https://api.wassenger.com/v1): paths, envelopes and quirks.

Lists are bare JSON arrays paged with ``page`` (0-based) and ``size``; user
ids are ``<digits>@c.us``; most paths need the device id; sends are queued
and get a 24-hex queue id besides WhatsApp's own id (``waId``).
"""
import itertools
import logging
import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from .base import ProviderClient
from .concurrency import fetch_ordered
from .errors import (
    BadPayloadError, ConfigurationError, NotFoundError, ProviderError, RequestRejectedError,
)
from .http import HttpClientMixin
from .parsing import (
    NOT_A_PERSON, ItemError, MessageStream, as_bool, as_int, as_text, build_page, clean_record,
    check_participant_action, contact_card_text, guess_media_type, invite_link, iso_utc, location_text,
    map_value, parse_time, poll_text, vcard_name, vcard_phones,
    path_segment, read_refusals, require_dict, require_text, resolve_mime_type, same_url,
    settle_outcome, split_person_keys,
)
from .phone import chat_type_of, normalize_phone, parse_jid, person_key, user_id_phone
from .records import (
    MESSAGE_TYPES, AccountInfo, Chat, Contact, Group, GroupCreation, Media, Member, Message,
    NumberCheck, Page, ParticipantsResult, PollOption, SendResult, Skipped, StatusUpdate, WebhookRegistration,
)

_logger = logging.getLogger(__name__)

__all__ = [
    'WassengerClient', 'parse_contact', 'parse_chat', 'parse_group', 'parse_participant',
    'parse_message', 'message_chat_id', 'queued_status', 'queued_failure', 'queued_status_update',
    'map_ack',
    'WASSENGER_SIGNATURE_HEADER', 'WEBHOOK_EVENTS', 'WEBHOOK_NAME',
]

# How many devices to name when telling a user which device ids exist.
_DEVICES_LISTED = 10

_CHAT_TYPES = {'chat': 'contact', 'contact': 'contact', 'user': 'contact', 'group': 'group',
               'broadcast': 'broadcast', 'channel': 'newsletter', 'newsletter': 'newsletter'}
# ``ack`` of chat messages; numeric acks are WhatsApp Web's (-1 error .. 4 played).
_ACKS = {'failed': 'failed', 'error': 'failed', 'pending': 'pending', 'sent': 'sent',
         'delivered': 'delivered', 'read': 'read', 'played': 'played',
         '-1': 'failed', '0': 'pending', '1': 'sent', '2': 'delivered', '3': 'read', '4': 'played'}
# ``deliveryStatus`` and ``status`` of a queued (sent through the API) message.
_DELIVERY_STATUSES = {'queued': 'pending', 'processing': 'pending', 'sent': 'sent',
                      'delivered': 'delivered', 'read': 'read', 'readed': 'read',
                      'played': 'played', 'failed': 'failed', 'cancelled': 'failed',
                      'revoked': 'deleted'}
_QUEUE_STATUSES = {'invalid': 'failed', 'removed': 'failed', 'expired': 'failed',
                   'failed': 'failed', 'queued': 'pending', 'processing': 'pending',
                   'processed': 'sent'}
#: header carrying ``sha256=<hex HMAC-SHA256 of the raw body keyed with the secret>``
#: (S1 only, unconfirmed by the spec); webhooks.webhook_signature checks it
WASSENGER_SIGNATURE_HEADER = 'X-Wassenger-Signature'
# Events our webhook asks for: everything webhooks.parse_webhook reads (S2's names).
# ``message:out:failed``: a queued send that failed (invalid number or media, retries
# exhausted); ``number:session``: the WhatsApp session went online or offline.
WEBHOOK_EVENTS = ('message:in:new', 'message:out:new', 'message:out:ack', 'message:out:failed',
                  'message:update', 'message:reaction', 'group:update', 'contact:update',
                  'number:session')
#: prefix of the ``reference`` we send with each message (S2 ``message.reference``,
#: echoed back on the WhatsApp message: S2 ``ioMessage.reference``, S1)
REFERENCE_PREFIX = 'odoo-'
WEBHOOK_NAME = 'Odoo'
# GET /webhooks: page from 0, size default 20, at most 200 (S2).
_WEBHOOK_PAGE_SIZE = 100
# GET /chat/{deviceId}/messages: at most 50 a page ("default 20, max 50", S1 tools
# reference; Wassenger's own bot asks for 25, S6). A server may cut any size silently.
_MESSAGE_PAGE_SIZE = 50
# chats: at most 100 a page ("default 20, max 100", S1 tools reference, get_whatsapp_chats)
_CHAT_PAGE_SIZE = 100
# Reply keys that may list refused participants (shapes unconfirmed).
_REFUSAL_KEYS = ('failed', 'failedParticipants', 'refused', 'rejected', 'errors')
# Wassenger type words that are ours under another name.
_TYPE_ALIASES = {'ptt': 'voice', 'vcard': 'contact', 'contacts': 'contact_list',
                 'multi_vcard': 'contact_list', 'notification': 'system',
                 'e2e_notification': 'system', 'gp2': 'system', 'call_log': 'call'}


class WassengerClient(HttpClientMixin, ProviderClient):
    """One Wassenger device (an API key can hold several; ``device_id`` picks one)."""

    name = 'wassenger'
    label = 'Wassenger'
    default_base_url = 'https://api.wassenger.com/v1'
    default_page_size = 100
    max_page_size = 500
    # No batch number check: POST /numbers/exists takes one phone (S3).
    capabilities = frozenset((
        'register_webhook', 'create_group', 'update_participants', 'get_invite_code',
        'revoke_invite_code', 'check_numbers', 'get_contact', 'get_message_status',
    ))
    # S2's webhook has no secret and Wassenger's own bot checks none (S6); only S1
    # describes X-Wassenger-Signature: the URL key authenticates, a signature is
    # verified when one comes (webhooks.webhook_signature)
    webhook_signature_optional = True

    def __init__(self, token, *args, **settings):
        super().__init__(token, *args, **settings)
        # group key -> Group from the last listing, so get_group knows names
        self._group_index = {}

    def _auth_headers(self, token):
        return {'Token': token}

    @staticmethod
    def _error_text(body):
        """``{"status", "message", "errorCode", "errors": [...]}``."""
        if not isinstance(body, dict):
            return None
        message = as_text(body.get('message'))
        errors = body.get('errors')
        if not message and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = as_text(errors[0].get('message')) or as_text(errors[0].get('reason'))
        code = as_text(body.get('errorCode'))
        if message and code:
            return '%s [%s]' % (message, code)
        return message or code

    def _device(self):
        if not self.device_id:
            raise ConfigurationError('Wassenger: no device id is set; run the connection '
                                     'check to see the devices of this API key')
        return path_segment(self.device_id)

    def _get(self, path, params=None, expect=dict):
        return self._transport.request('GET', path, params=params, expect=expect)

    # -- connection ------------------------------------------------------------------

    def check_connection(self):
        """Device healthy = status ``operative`` and session ``online``.

        Without a device id, list the API key's devices and raise a
        ConfigurationError naming them, so the user can pick one.
        """
        if not self.device_id:
            raise ConfigurationError(self._missing_device_text())
        try:
            device = self._get('/devices/%s' % self._device())
        except NotFoundError as error:
            # a wrong id: say which devices the key has, so the user can pick one
            error.reason = 'device_unknown'
            try:
                listing = self._missing_device_text(unknown=self.device_id)
            except ProviderError:
                raise error
            raise ConfigurationError('%s %s' % (error, listing), status=error.status, reason='device_unknown')
        status = as_text(device.get('status')) or 'unknown'
        session = device.get('session') if isinstance(device.get('session'), dict) else {}
        session_status = as_text(session.get('status')) or 'unknown'
        connected = status == 'operative' and session_status == 'online'
        if connected:
            detail = 'Connected: the device is operative and its WhatsApp session is online.'
        elif status != 'operative':
            detail = 'The device is %s, not operative; check it in the Wassenger console.' % status
        else:
            detail = ('The WhatsApp session is %s, not online; open the Wassenger console '
                      '(the phone may need to scan a QR code again).' % session_status)
        phone = normalize_phone(device.get('phone')) if device.get('phone') else None
        profile = device.get('profile') if isinstance(device.get('profile'), dict) else {}
        return AccountInfo(
            connected=connected, status='%s/%s' % (status, session_status),
            phone=phone.e164 if phone else None,
            name=as_text(device.get('alias')) or as_text(profile.get('name')),
            account_id=as_text(device.get('id')) or self.device_id,
            detail=detail,
        )

    def _missing_device_text(self, unknown=None):
        devices = self._get('/devices', expect=list)
        problem = ('Wassenger: %s is not a device of this API key' % unknown if unknown
                   else 'Wassenger: no device id is set')
        if not devices:
            return '%s, and this API key has no device yet.' % problem
        described = []
        for device in devices[:_DEVICES_LISTED]:
            if not isinstance(device, dict):
                continue
            parts = [as_text(device.get('phone')), as_text(device.get('alias')),
                     as_text(device.get('status'))]
            extra = ', '.join(part for part in parts if part)
            described.append('%s (%s)' % (as_text(device.get('id')), extra) if extra
                             else str(as_text(device.get('id'))))
        more = ' and %d more' % (len(devices) - _DEVICES_LISTED) if len(devices) > _DEVICES_LISTED else ''
        return '%s. Devices of this API key: %s%s.' % (problem, '; '.join(described), more)

    # -- pagination ------------------------------------------------------------------

    def _iter_numbered_pages(self, path, params=None, page_size=None, paged=True):
        """Yield the raw bare-array pages of a page/size listing, page 0 first.

        The listing gives no total and a server may cut ``size`` without a word,
        so a short page is not the end: an empty page is, or a page identical to
        the previous one (an endpoint that ignores ``page``: logged as a warning
        when the sources say it pages, ``paged``; else the plausible whole-array
        reading, quietly). After a full first page, the next ones are asked for
        ``concurrency`` at a time ahead (at most that many requests past the
        last page); after a short one, page 1 alone first, so a listing that
        fits in one page costs one request more, not ``concurrency``.
        """
        size = page_size or self.page_size

        def fetch(page_number):
            query = dict(params or {})
            query.update(page=page_number, size=size)
            return self._get(path, query, expect=list)

        page_number, items = 0, fetch(0)
        ahead = None
        previous = None
        try:
            while items:
                fingerprint = [_item_id(item) if isinstance(item, dict) else repr(item) for item in items]
                if fingerprint == previous:
                    _logger.log(logging.WARNING if paged else logging.DEBUG,
                                'Wassenger GET %s: page %d repeats the previous page; '
                                'the endpoint seems not to page, stopping', path, page_number)
                    return
                previous = fingerprint
                yield items
                if ahead is None and (page_number > 0 or len(items) >= size):
                    ahead = fetch_ordered(fetch, itertools.count(page_number + 1), self.concurrency)
                if ahead is None:
                    page_number, items = page_number + 1, fetch(page_number + 1)
                else:
                    page_number, items = next(ahead)
        finally:
            if ahead is not None:
                ahead.close()

    def _batched(self, pages, batch_size=None):
        """Parsed Pages merged into batches of at least ``batch_size`` (the client's
        page size) records, the last one aside: a server serving small pages costs
        more requests, not more batches for the caller to store. The next page is
        read only when the batch needs it; when reading one fails, the pages read
        before it are handed over first, then the error is raised."""
        batch_size = batch_size or self.page_size
        batch = Page()
        try:
            for page in pages:
                batch.items.extend(page.items)
                batch.skipped.extend(page.skipped)
                if len(batch.items) + len(batch.skipped) >= batch_size:
                    yield batch
                    batch = Page()
        except Exception:
            if batch.items or batch.skipped:
                yield batch
            raise
        finally:
            pages.close()
        if batch.items or batch.skipped:
            yield batch

    def _iter_listing(self, path, parse, kind, paged=True, page_size=None):
        pages = (build_page(items, parse, kind, _item_id)
                 for items in self._iter_numbered_pages(path, page_size=page_size, paged=paged))
        return self._batched(pages)

    # -- contacts, chats, groups ---------------------------------------------------------

    def iter_contacts(self):
        yield from self._iter_listing('/chat/%s/contacts' % self._device(), parse_contact, 'contact')

    def iter_chats(self):
        yield from self._iter_listing('/chat/%s/chats' % self._device(), parse_chat, 'chat',
                                      page_size=min(self.page_size, _CHAT_PAGE_SIZE))

    def iter_groups(self):
        # paged or one whole array: the sources do not say (S4 reads it whole)
        path = '/devices/%s/groups' % self._device()
        for page in self._iter_listing(path, parse_group, 'group', paged=False):
            for group in page.items:
                self._group_index[group.group_id] = group
            yield page

    def get_group(self, group_id):
        """Members from the participants list; name from the listing or the group.

        The participants come paged or as one whole array (the sources do not
        say; S4 reads it whole): both are read to the end.
        """
        key = _group_key(group_id)
        path = '/chat/%s/chats/%s/participants' % (self._device(), path_segment(key))
        participants = [participant for items in self._iter_numbered_pages(path, paged=False)
                        for participant in items]
        group = self._describe_group(key)
        group.members = []
        group.skipped = []
        for participant in participants:
            try:
                group.members.append(parse_participant(participant))
            except ItemError as exc:
                participant_id = _item_id(participant) if isinstance(participant, dict) else None
                group.skipped.append(Skipped('member', '%s: %s' % (key, exc), participant_id))
        return group

    def _describe_group(self, key):
        """A fresh Group with name/description: cached listing, GET, or a re-listing."""
        known = self._group_index.get(key)
        if known is None:
            known = self._fetch_group(key)
        if known is None:
            for _page in self.iter_groups():
                pass
            known = self._group_index.get(key)
        if known is None:
            return Group(group_id=key)
        return Group(group_id=key, name=known.name, description=known.description,
                     invite_code=known.invite_code, created_at=known.created_at)

    def get_contact(self, contact_id):
        """GET /chat/{deviceId}/contacts/{wid} -> Contact (unconfirmed: the path is the
        original addon's, S5, not the spec's); wid = ``<digits>@c.us``, or the
        ``<digits>@lid`` id as is; 404 when the device does not know the person."""
        self._require('get_contact')
        wid = _contact_wid(contact_id)
        path = '/chat/%s/contacts/%s' % (self._device(), path_segment(wid))
        body = self._get(path)
        where = 'Wassenger GET /chat/{id}/contacts/%s' % wid
        try:
            contact = clean_record(parse_contact(body))
        except ItemError as exc:
            raise BadPayloadError('%s: %s' % (where, exc))
        if contact is None:
            raise BadPayloadError('%s: the answer is not a person' % where)
        return contact

    def _fetch_group(self, key):
        try:
            body = self._get('/devices/%s/groups/%s' % (self._device(), path_segment(key)))
        except (NotFoundError, RequestRejectedError, BadPayloadError) as exc:
            _logger.debug('Wassenger: group %s not readable directly (%s); using the list', key, exc)
            return None
        try:
            return clean_record(parse_group(body))
        except ItemError as exc:
            _logger.debug('Wassenger: group %s answer unreadable (%s); using the list', key, exc)
            return None

    # -- messages -------------------------------------------------------------------

    def iter_messages(self, since=None, limit=None):
        """See ProviderClient; ``limit`` 0 or None with no ``since`` = all history.

        Newest first, at most 50 a page. ``since`` is sent as ``after`` one
        second earlier (``after`` is exclusive); reading stops at an empty page
        or at a page whose messages are all older than ``since``.
        """
        path = '/chat/%s/messages' % self._device()
        params = {}
        if since is not None:
            params['after'] = iso_utc(since - timedelta(seconds=1))
        page_size = min(self.page_size, _MESSAGE_PAGE_SIZE)
        if limit and since is None:
            page_size = min(page_size, limit)
        stream = MessageStream(limit)

        def pages():
            for items in self._iter_numbered_pages(path, params, page_size):
                page = build_page(items, parse_message, 'message', _item_id)
                all_older = False
                if since is not None:
                    recent = [message for message in page.items if message.timestamp >= since]
                    all_older = bool(page.items) and not recent
                    page.items = recent
                yield stream.take(page)
                if stream.done or all_older:
                    return

        yield from self._batched(pages())

    # -- sending ----------------------------------------------------------------------

    def send_text(self, to, body, quoted_id=None):
        self._device()
        payload = _send_target(to)
        payload.update(message=body, device=self.device_id)
        if quoted_id:
            payload['quote'] = quoted_id
        return self._post_message(payload)

    def send_media(self, to, file_bytes=None, file_name=None, mime_type=None,
                   url=None, caption=None, media_type=None, quoted_id=None):
        if (file_bytes is None) == (url is None):
            raise ValueError('send_media needs exactly one of file_bytes or url')
        self._device()
        payload = _send_target(to)
        if quoted_id:
            payload['quote'] = quoted_id
        mime_type = resolve_mime_type(file_bytes, file_name, mime_type, url)
        kind = guess_media_type(media_type, mime_type)
        if url is not None:
            media = {'url': url}
        else:
            media = {'file': self._upload(file_bytes, file_name, mime_type)}
        if file_name:
            media['filename'] = file_name
        if kind == 'voice':
            media['format'] = 'ptt'
        payload.update(media=media, device=self.device_id)
        if caption:
            payload['message'] = caption
        return self._post_message(payload)

    def download_media(self, media, sink, max_bytes=None):
        """``GET /chat/{deviceId}/files/{fileId}/download``.

        Built from the device and the file id; without an id, from the
        message's own download link (a path under the API host).
        """
        if media is not None and media.media_id:
            path = '/chat/%s/files/%s/download' % (self._device(), path_segment(media.media_id))
        else:
            path = _download_link_path(media.url if media is not None else None, self.base_url)
        return self._transport.download(path, sink, max_bytes=max_bytes)

    def _upload(self, file_bytes, file_name, mime_type):
        """POST /files (multipart ``file``) and return the file id."""
        files = {'file': (file_name or 'file', file_bytes, mime_type)}
        reply = self._transport.request('POST', '/files', files=files, expect=(dict, list))
        if isinstance(reply, list):
            reply = reply[0] if reply else None
        file_id = as_text(reply.get('id')) if isinstance(reply, dict) else None
        if not file_id:
            raise BadPayloadError('Wassenger POST /files: no file id in the answer')
        return file_id

    def _post_message(self, payload):
        # Our reference rides along and comes back on the WhatsApp message
        # (``reference``): the queued send meets its message exactly.
        reference = payload.setdefault('reference', REFERENCE_PREFIX + uuid.uuid4().hex)
        reply = self._transport.request('POST', '/messages', json_body=payload, expect=dict)
        queue_id = as_text(reply.get('id'))
        if not queue_id:
            raise BadPayloadError('Wassenger POST /messages: no message id in the answer')
        return SendResult(
            message_id=queue_id,
            status=queued_status(reply) or 'pending',
            timestamp=parse_time(reply.get('createdAt')),
            whatsapp_message_id=as_text(reply.get('waId')),
            reference=as_text(reply.get('reference')) or reference,
        )

    def get_message_status(self, message_id):
        """``GET /messages/{id}`` of a queued message (S2 ``message``): ``deliveryStatus``
        or ``status``, WhatsApp's ``waId`` once known, ``failureReason`` of a failure."""
        self._require('get_message_status')
        reply = self._get('/messages/%s' % path_segment(message_id))
        return queued_status_update(reply, message_id)

    # -- webhooks -------------------------------------------------------------------

    def register_webhook(self, url, secret):
        """POST /webhooks, or PATCH /webhooks/{id} when our URL is registered already.

        Wassenger issues the signing secret itself: it is returned when the
        reply carries one (else None: keep the one you have); ``secret`` is
        not sent (the API names no field for it).
        """
        self._require('register_webhook')
        url = as_text(url)
        if not url:
            raise ConfigurationError('Wassenger: no webhook URL given')
        self._device()  # a webhook is bound to one device
        if secret:
            self._transport.hide(secret)
        body = {'name': WEBHOOK_NAME, 'url': url, 'events': list(WEBHOOK_EVENTS),
                'device': self.device_id}
        existing = self._find_webhook(url)
        if existing is not None:
            reply = self._transport.request('PATCH', '/webhooks/%s' % path_segment(existing),
                                            json_body=body, idempotent=True)
        else:
            reply = self._transport.request('POST', '/webhooks', json_body=body, expect=dict,
                                            idempotent=False)
        reply = reply if isinstance(reply, dict) else {}
        issued = as_text(reply.get('secret'))
        if issued:
            self._transport.hide(issued)
        return WebhookRegistration(webhook_id=as_text(reply.get('id')) or existing,
                                   secret=issued, url=url)

    def _find_webhook(self, url):
        """Id of this device's webhook for ``url`` (or one bound to no device), or None."""
        for items in self._iter_numbered_pages('/webhooks', page_size=_WEBHOOK_PAGE_SIZE):
            for hook in items:
                if not isinstance(hook, dict) or not same_url(hook.get('url'), url):
                    continue
                device = hook.get('device')
                device_id = as_text(device.get('id')) if isinstance(device, dict) else as_text(device)
                if device_id in (None, self.device_id) and as_text(hook.get('id')):
                    return as_text(hook.get('id'))
        return None

    # -- group and contact management -------------------------------------------------
    #
    # Paths and bodies follow the brief and the spec's naming; none of them is
    # confirmed by a source we hold (unconfirmed): replies are read tolerantly.

    def _group_path(self, group_id, tail=''):
        return '/devices/%s/groups/%s%s' % (self._device(), path_segment(_group_key(group_id)), tail)

    def create_group(self, name, participants, description=None):
        """POST /devices/{id}/groups ``{name, participants: [{phone, admin}], description}``."""
        self._require('create_group')
        device = self._device()
        phones, refused = _phone_participants(participants)
        if not phones:
            raise RequestRejectedError('Wassenger: a group needs at least one participant with '
                                       'a valid phone number')
        body = {'name': name,
                'participants': [{'phone': '+' + key, 'admin': False} for key in phones]}
        if description:
            body['description'] = description
        reply = self._transport.request('POST', '/devices/%s/groups' % device, json_body=body,
                                        expect=dict, idempotent=False)
        raw_id = as_text(reply.get('wid')) or as_text(reply.get('id')) or as_text(reply.get('groupId'))
        if parse_jid(raw_id).kind != 'group':
            raise BadPayloadError('Wassenger POST /devices/{id}/groups: no group id in the answer')
        try:
            group = parse_group(dict(reply, wid=raw_id, kind='group'))
        except ItemError as exc:
            raise BadPayloadError('Wassenger POST /devices/{id}/groups: %s' % exc)
        group.name = group.name or name
        group.description = group.description or description
        confirmed = None
        members = reply.get('participants')
        if isinstance(members, list) and members:
            group.members = []
            for member in members:
                try:
                    group.members.append(parse_participant(_with_wid(member)))
                except ItemError:
                    continue
            confirmed = [member.contact_id for member in group.members]
        added, failed = settle_outcome(phones, _wassenger_refusals(reply), confirmed,
                                       'not in the group after creation')
        return GroupCreation(group=group, added=added, refused=refused + failed)

    def update_participants(self, group_id, person_keys, action):
        """POST (add/promote) or DELETE (remove/demote) .../participants or .../admins
        with ``[{phone}]``; an empty 2xx means every participant was done."""
        self._require('update_participants')
        check_participant_action(action)
        resource = '/admins' if action in ('promote', 'demote') else '/participants'
        method = 'POST' if action in ('add', 'promote') else 'DELETE'
        path = self._group_path(group_id, resource)
        phones, refused = _phone_participants(person_keys)
        if not phones:
            return ParticipantsResult(done=[], refused=refused)
        reply = self._transport.request(method, path, idempotent=(action != 'add'),
                                        json_body=[{'phone': '+' + key} for key in phones])
        refusals, confirmed = _wassenger_outcome(reply, phones)
        done, failed = settle_outcome(phones, refusals, confirmed)
        return ParticipantsResult(done=done, refused=refused + failed)

    def get_invite_code(self, group_id):
        """GET .../groups/{wid}/invite (unconfirmed): ``code``/``inviteCode`` or a link."""
        self._require('get_invite_code')
        reply = self._get(self._group_path(group_id, '/invite'))
        link = _invite_of(reply)
        if link is None:
            raise BadPayloadError('Wassenger GET .../groups/%s/invite: no invite code in the answer'
                                  % _group_key(group_id))
        return link

    def revoke_invite_code(self, group_id):
        """DELETE .../groups/{wid}/invite (unconfirmed); read the new code if not returned."""
        self._require('revoke_invite_code')
        reply = self._transport.request('DELETE', self._group_path(group_id, '/invite'))
        link = _invite_of(reply) if isinstance(reply, dict) else None
        return link or self.get_invite_code(group_id)

    def check_numbers(self, phones):
        """POST /numbers/exists ``{phone}`` once per number (no batch endpoint, S3).

        A number the API rejects (400-class) counts as not on WhatsApp; auth,
        rate-limit and transient errors are raised.
        """
        self._require('check_numbers')
        answers = {}
        results = []
        for phone in list(phones or ()):
            jid = parse_jid(phone)
            if jid.kind != 'user':
                results.append(NumberCheck(input=phone, person_key=None, exists=False))
                continue
            if jid.key not in answers:
                answers[jid.key] = self._number_exists(jid.key)
            wa_key = answers[jid.key]
            results.append(NumberCheck(input=phone, person_key=wa_key, exists=wa_key is not None))
        return results

    def _number_exists(self, digits):
        try:
            reply = self._transport.request('POST', '/numbers/exists', expect=dict,
                                            idempotent=True, json_body={'phone': '+' + digits})
        except RequestRejectedError as exc:
            _logger.info('Wassenger: number check refused (%s); counted as not on WhatsApp', exc)
            return None
        if not as_bool(reply.get('exists')):
            return None
        return person_key(reply.get('wid')) or person_key(reply.get('phone')) or digits


# -- item parsers (module level: pure functions of one item) ---------------------------

def _item_id(item):
    return item.get('id') or item.get('wid')


def _group_key(group_id):
    jid = parse_jid(group_id)
    if jid.kind == 'group':
        return jid.key
    if jid.kind == 'unknown' and jid.key and '@' not in jid.key:
        # Old-style ids "<creator>-<time>" are sometimes passed without the suffix.
        candidate = parse_jid(jid.key + '@g.us')
        if candidate.kind == 'group':
            return candidate.key
    raise RequestRejectedError('Wassenger: not a group id: %r' % (group_id,))


def _contact_wid(contact_id):
    """Person key / phone / user JID -> ``<digits>@c.us``; ``<digits>@lid`` as is."""
    jid = parse_jid(contact_id)
    if jid.kind == 'user':
        return jid.key + '@c.us'
    if jid.kind == 'lid':
        return jid.key
    raise RequestRejectedError('Wassenger: not a person id: %r' % (contact_id,))


def _with_wid(item):
    """Wassenger parsers read ``wid``; some replies name it ``id`` (or give ``phone``)."""
    if not isinstance(item, dict) or item.get('wid') is not None:
        return item
    raw = item.get('id') or item.get('phone')
    return dict(item, wid=raw) if raw is not None else item


def _phone_participants(values):
    """Phone-number person keys to send as ``+E164``; other inputs refused up front.

    Hidden-number ids (``@lid``) have no phone to send (unconfirmed whether the
    API takes a wid instead; Wassenger offers no way to resolve one), so they
    are refused, each with its reason in plain words; the others go on.
    """
    from .parsing import hidden_number_reason
    keys, refused = split_person_keys(values)
    phones = []
    for key in keys:
        if key.endswith('@lid'):
            refused.append((key, hidden_number_reason('Wassenger')))
        else:
            phones.append(key)
    return phones, refused


def _wassenger_refusals(reply):
    refusals = []
    for key in _REFUSAL_KEYS:
        refusals.extend(read_refusals(reply.get(key)))
    return refusals


def _wassenger_outcome(reply, phones):
    """``(refusals, confirmed)`` of a participants reply (all shapes unconfirmed).

    * a list of per-participant results ``[{phone|wid, success?|status?|error?}]``;
    * an object with a refusal list (``failed``, ``errors``...) and/or ``participants``;
    * nothing: every participant was done.
    """
    if isinstance(reply, list):
        refusals, confirmed = [], []
        for entry in reply:
            if not isinstance(entry, dict):
                continue
            key = person_key(entry.get('phone')) or person_key(entry.get('wid')) or person_key(entry.get('id'))
            if key is None:
                continue
            status = (as_text(entry.get('status')) or '').lower()
            error = entry.get('error') or entry.get('reason')
            if entry.get('success') is False or error or status in ('failed', 'error', 'rejected'):
                reason = read_refusals([dict(entry, id=key)])
                refusals.append(reason[0] if reason else (key, 'refused by Wassenger'))
            else:
                confirmed.append(key)
        return refusals, (confirmed if refusals or confirmed else None)
    if isinstance(reply, dict):
        refusals = _wassenger_refusals(reply)
        if reply.get('success') is False and not refusals:
            reason = as_text(reply.get('message')) or 'refused by Wassenger'
            refusals = [(key, reason) for key in phones]
        return refusals, None
    return [], None


def _invite_of(reply):
    """InviteLink from ``code``/``inviteCode``/``invite_code`` or ``url``/``inviteLink``."""
    if not isinstance(reply, dict):
        return None
    for key in ('code', 'inviteCode', 'invite_code', 'inviteLink', 'url', 'link'):
        link = invite_link(reply.get(key))
        if link is not None:
            return link
    return None


def queued_status(reply):
    """Canonical status of a queued message (``deliveryStatus``, else ``status``).

    A terminal queue ``status`` (failed, invalid, expired, removed) wins over a
    ``deliveryStatus`` still at its default ``queued``.
    """
    queue = map_value(reply.get('status'), _QUEUE_STATUSES)
    if queue == 'failed':
        return queue
    return map_value(reply.get('deliveryStatus'), _DELIVERY_STATUSES) or queue


def queued_failure(reply):
    """Why a queued message failed, as one sentence: ``failureReason`` (S2), else an
    ``error`` object or text, else the queue status words (the spec's failed example
    carries no reason at all)."""
    error = reply.get('error')
    if isinstance(error, dict):
        error = as_text(error.get('message')) or as_text(error.get('reason')) or as_text(error.get('code'))
    reason = as_text(reply.get('failureReason')) or as_text(error)
    if reason:
        return reason
    words = [as_text(reply.get(key)) for key in ('status', 'deliveryStatus')]
    words = [word for word in dict.fromkeys(words) if word]
    return 'Wassenger could not deliver the message (%s)' % (', '.join(words) or 'failed')


def queued_status_update(reply, message_id=None):
    """A StatusUpdate of a queued message (S2 ``message``), keyed on its queue id."""
    status = queued_status(reply)
    return StatusUpdate(
        message_id=as_text(reply.get('id')) or message_id, status=status,
        timestamp=parse_time(reply.get('failedAt') if status == 'failed' else reply.get('sentAt')),
        alt_message_id=as_text(reply.get('waId')),
        error=queued_failure(reply) if status == 'failed' else None)


def map_ack(word):
    """A chat ``ack`` or a delivery status word (``readed``, ``revoked``...) -> canonical."""
    return map_value(word, _ACKS) or map_value(word, _DELIVERY_STATUSES)


def _dict_field(item, key):
    value = item.get(key)
    return value if isinstance(value, dict) else {}


def _phone_of(item, jid):
    """E.164 of a user id's digits (an international number by construction), else
    from ``phone`` when given."""
    if jid.kind == 'user':
        phone = user_id_phone(jid.key)
        if phone.value:
            return phone
    raw = as_text(item.get('phone'))
    return normalize_phone(raw) if raw else None


def _hidden_and_person(item, jid):
    """``(person jid, hidden id)`` of a contact or participant.

    Wassenger gives the hidden-number id in ``lid`` next to a phone ``wid``
    (S2 ``groupParticipant.lid``, ``ioChat.lid``; ``ioContact`` does not list it,
    read when present). A ``wid`` that is itself ``@lid`` with a phone number
    beside it names a person whose number is known: keyed by the number.
    """
    raw = item.get('lid')
    raw = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ''
    if raw.isdigit():
        raw += '@lid'  # the hidden id given without its suffix
    hidden = parse_jid(raw) if raw else None
    hidden = hidden.key if hidden is not None and hidden.kind == 'lid' else None
    if jid.kind == 'lid':
        phone = normalize_phone(as_text(item.get('phone'))) if as_text(item.get('phone')) else None
        if phone is not None and phone.valid:
            return parse_jid(phone.e164), jid.key
        return jid, None
    return jid, hidden


def parse_contact(item):
    item = require_dict(item, 'contact')
    jid = parse_jid(require_text(item, 'wid'))
    entry_type = as_text(item.get('type'))
    if entry_type is not None and entry_type.lower() != 'user':
        return None  # groups, channels, broadcast lists listed among contacts
    if any(item.get(key) for key in ('groupId', 'channelId', 'broadcastId')):
        return None
    if jid.kind in ('group', 'newsletter', 'broadcast'):
        return None
    if jid.kind not in ('user', 'lid'):
        raise ItemError('unrecognised contact id')
    jid, hidden = _hidden_and_person(item, jid)
    phone = _phone_of(item, jid)
    return Contact(
        contact_id=jid.key,
        phone=phone.value if phone else None,
        phone_valid=bool(phone and phone.valid),
        name=as_text(item.get('name')),
        pushname=as_text(item.get('displayName')),
        is_business=as_bool(_dict_field(item, 'meta').get('isBusiness')),
        lid=hidden,
    )


def parse_chat(item):
    item = require_dict(item, 'chat')
    raw_id = as_text(item.get('wid')) or as_text(item.get('id'))
    if not raw_id:
        raise ItemError('missing or invalid wid')
    kind = item.get('kind') if item.get('kind') is not None else item.get('type')
    contact = _dict_field(item, 'contact')
    return Chat(
        chat_id=parse_jid(raw_id).key,
        chat_type=map_value(kind, _CHAT_TYPES) or chat_type_of(raw_id),
        name=(as_text(item.get('name')) or as_text(contact.get('name'))
              or as_text(contact.get('displayName'))),
        last_message_at=parse_time(item.get('lastMessageAt')),
    )


def parse_group(item):
    item = require_dict(item, 'group')
    wid = require_text(item, 'wid')
    kind = as_text(item.get('kind'))
    jid = parse_jid(wid)
    if kind is not None and kind.lower() != 'group':
        return None  # channels, communities, contacts share this list
    if jid.kind != 'group':
        if kind is None:
            return None  # no kind and not an @g.us id: not a group
        raise ItemError('group has a non-group id')
    return Group(
        group_id=jid.key,
        name=as_text(item.get('name')),
        description=as_text(item.get('description')),
        invite_code=as_text(item.get('inviteCode')),
        created_at=parse_time(item.get('createdAt')),
    )


def parse_participant(item):
    item = require_dict(item, 'participant')
    jid = parse_jid(require_text(item, 'wid'))
    if jid.kind not in ('user', 'lid'):
        raise ItemError('participant id is not a person')
    if as_bool(item.get('isSuperAdmin')):
        role = 'superadmin'
    elif as_bool(item.get('isAdmin')):
        role = 'admin'
    else:
        role = 'member'
    jid, hidden = _hidden_and_person(item, jid)
    phone = _phone_of(item, jid)
    return Member(contact_id=jid.key, role=role, name=as_text(item.get('name')),
                  phone=phone.value if phone else None,
                  phone_valid=bool(phone and phone.valid), lid=hidden)


def message_chat_id(item, from_me):
    """Chat of a message: ``chat`` object or id, ``chatWid``, else the other party."""
    chat = item.get('chat')
    if isinstance(chat, dict):
        raw = as_text(chat.get('id')) or as_text(chat.get('wid'))
    else:
        raw = as_text(chat)
    raw = raw or as_text(item.get('chatWid'))
    if not raw:
        raw = as_text(item.get('to')) if from_me else as_text(item.get('from'))
    return raw


def _message_type(raw_type, meta, media):
    lowered = raw_type.lower()
    media_format = (as_text(media.get('format')) or '').lower()
    if lowered == 'text' and as_bool(meta.get('isLinkPreview')):
        return 'link_preview'
    if lowered == 'audio' and media_format == 'ptt':
        return 'voice'
    if lowered == 'video' and media_format == 'gif':
        return 'gif'
    lowered = _TYPE_ALIASES.get(lowered, lowered)
    return lowered if lowered in MESSAGE_TYPES else 'unknown'


def parse_message(item):
    """A message in either published shape: ``ioMessage`` (S2: ``wid``, ``chatWid``,
    ``kind``, ``flow`` in/out, ``author`` object) or the webhook and bot one (S2
    examples, S6: ``id``, ``chat{}``, ``type``, ``flow`` inbound/outbound)."""
    item = require_dict(item, 'message')
    message_id = as_text(item.get('id')) or as_text(item.get('wid'))
    if not message_id:
        raise ItemError('missing or invalid id')
    raw_type = as_text(item.get('type')) or as_text(item.get('kind'))
    if not raw_type:
        raise ItemError('missing or invalid type')
    raw_type = raw_type.strip()
    timestamp = parse_time(item.get('timestamp'))
    if timestamp is None:
        timestamp = parse_time(item.get('date'))
    if timestamp is None:
        raise ItemError('missing or invalid timestamp/date')
    if 'fromMe' in item:
        from_me = as_bool(item.get('fromMe'))
    else:
        flow = (as_text(item.get('flow')) or '').lower()
        if flow not in ('in', 'inbound', 'out', 'outbound'):
            raise ItemError('missing or invalid flow')
        from_me = flow in ('out', 'outbound')
    raw_chat = message_chat_id(item, from_me)
    if not raw_chat:
        raise ItemError('missing chat')
    meta = _dict_field(item, 'meta')
    media_info = _dict_field(item, 'media')
    media = None
    if media_info:
        links = _dict_field(media_info, 'links')
        media = Media(
            media_id=as_text(media_info.get('id')),
            mime_type=as_text(media_info.get('mime')),
            file_name=as_text(media_info.get('filename')),
            file_size=as_int(media_info.get('size')),
            url=as_text(links.get('download')) or as_text(media_info.get('url')),
        )
    status = 'deleted' if as_bool(meta.get('isRevoked')) else map_value(item.get('ack'), _ACKS)
    message_type = _message_type(raw_type, meta, media_info)
    body = as_text(item.get('body')) or as_text(media_info.get('caption'))
    quoted = _dict_field(item, 'quoted')
    quoted_id = as_text(quoted.get('id')) or as_text(quoted.get('wid'))
    poll_options = None
    if message_type == 'reaction':
        reaction = _dict_field(item, 'reaction')
        quoted_id = (as_text(reaction.get('message')) or as_text(reaction.get('msgId'))
                     or as_text(reaction.get('id')) or quoted_id)
        body = as_text(reaction.get('emoji')) or body
    elif message_type == 'poll':
        poll = _dict_field(item, 'poll')
        poll_options = _poll_options(poll)
        title = as_text(poll.get('name')) or as_text(poll.get('title')) or body
        body = poll_text(title, [option.name for option in poll_options])
    elif message_type in ('location', 'live_location'):
        body = _location_body(_dict_field(item, 'location'), message_type) or body
    elif message_type in ('contact', 'contact_list'):
        body = _cards_text(item) or body
    return Message(
        message_id=message_id,
        chat_id=parse_jid(raw_chat).key,
        timestamp=timestamp,
        from_me=from_me,
        chat_type=chat_type_of(raw_chat),
        sender_id=_sender_of(item),
        sender_name=as_text(meta.get('notifyName')) or _author_name(item.get('author')),
        message_type=message_type,
        raw_type=raw_type,
        body=body,
        media=media,
        status=status,
        quoted_id=quoted_id,
        reference=as_text(item.get('reference')),
        poll_options=poll_options,
    )


def _person_of(value):
    """Person key of a sender given as an id string or an object (S2 ``author``: fields
    undocumented, so ``wid``, ``id`` and ``phone`` are read)."""
    if isinstance(value, dict):
        for key in ('wid', 'id', 'phone'):
            found = person_key(value.get(key)) if as_text(value.get(key)) else None
            if found:
                return found
        return None
    return person_key(value) if as_text(value) else None


def _sender_of(item):
    return _person_of(item.get('author')) or _person_of(item.get('from'))


def _author_name(author):
    if not isinstance(author, dict):
        return None
    return (as_text(author.get('displayName')) or as_text(author.get('name'))
            or as_text(author.get('pushname')))


def _poll_options(poll):
    """``poll.options``: objects with a ``name`` (S6) or plain names (unconfirmed)."""
    options = []
    for option in poll.get('options') if isinstance(poll.get('options'), list) else ():
        name = as_text(option.get('name')) or as_text(option.get('title')) if isinstance(option, dict) \
            else as_text(option)
        if name:
            options.append(PollOption(name=name))
    return options


def _location_body(location, message_type):
    label = 'Live location' if message_type == 'live_location' else None
    latitude = location.get('lat') if location.get('lat') is not None else location.get('latitude')
    longitude = location.get('lon') if location.get('lon') is not None else location.get('longitude')
    return location_text(location.get('name'), location.get('address'), latitude, longitude, label)


def _cards_text(item):
    """Contact cards: ``contacts[]`` (S6: ``formattedName``/``name``/``firstName``,
    ``phones[{number, waid}]``) or ``vcards[]`` (S2 ioMessage: names and ``vcard``)."""
    lines = []
    for key in ('contacts', 'vcards'):
        cards = item.get(key)
        for card in cards if isinstance(cards, list) else ():
            if not isinstance(card, dict):
                continue
            vcard = as_text(card.get('vcard'))
            name = (as_text(card.get('formattedName')) or as_text(card.get('name'))
                    or ' '.join(part for part in (as_text(card.get('firstName')),
                                                  as_text(card.get('lastName'))) if part)
                    or vcard_name(vcard))
            phones = []
            for phone in card.get('phones') if isinstance(card.get('phones'), list) else ():
                if isinstance(phone, dict):
                    number = as_text(phone.get('number')) or (
                        '+' + as_text(phone.get('waid')) if as_text(phone.get('waid')) else None)
                else:
                    number = as_text(phone)
                if number:
                    phones.append(number)
            line = contact_card_text(name, phones or vcard_phones(vcard))
            if line:
                lines.append(line)
        if lines:
            break
    return '\n'.join(lines) or None


def _send_target(to):
    """Person key / E.164 phone / chat id -> the one Wassenger target field."""
    jid = parse_jid(to)
    if jid.kind == 'user':
        return {'phone': '+' + jid.key}
    if jid.kind == 'group':
        return {'group': jid.key}
    if jid.kind == 'lid':
        return {'chat': jid.key}
    if jid.kind == 'newsletter':
        return {'channel': jid.key}
    raise RequestRejectedError('Wassenger: cannot send to %r: not a phone number or chat id' % (to,))


def _download_link_path(link, base_url):
    """``media.links.download`` (``/v1/chat/<device>/files/<id>/download``) as a path
    under ``base_url``; never another host."""
    link = as_text(link)
    if not link or not re.match(r'^(/v1)?/chat/[^/?#]+/files/[^/?#]+/download$', link):
        raise NotFoundError('Wassenger: this message has no file id or download link')
    base_path = urlsplit(base_url).path.rstrip('/')
    if base_path and link.startswith(base_path + '/'):
        link = link[len(base_path):]
    elif link.startswith('/v1/'):
        link = link[len('/v1'):]
    return link
