"""A local HTTP server speaking the WHAPI Cloud and Wassenger API subset the addon uses.

Pure Python (standard library only, no ``odoo`` import): the Odoo resilience tests
(``tests/test_resilience.py``) and the benchmark (``bench/``) both import it.

* One :class:`FakeProviderServer` (``http.server.ThreadingHTTPServer`` on
  127.0.0.1, port 0, served from a daemon thread) hosts any number of
  :class:`FakeAccount` objects, each with its own provider shape, token (and
  Wassenger device id). The token of a request picks the account: a wrong or
  missing token gets 401 in that provider's error shape.
* Data are generated deterministically from a seed (contacts, groups with
  members and roles, messages over D days: 1:1 and group chats, text, link
  preview, image, system and unknown types, several statuses). Messages are
  produced on the fly from their index, so 200,000 of them cost no memory.
  ``append_messages``, ``mutate_message``, ``rename_contact`` and
  ``remove_member`` change the remote data between runs.
* Faults are switchable per account (:attr:`FakeAccount.faults`): 500 once per
  page, 429 with Retry-After once per page, a read timeout every Nth request,
  a dropped connection every Nth request, malformed JSON once, 500 forever,
  and a delay on every request.
* :meth:`FakeAccount.truth` gives what a complete sync must store (canonical
  keys, as the provider layer normalises them), for assertions.

Run it by hand: ``python3 tests/fake_provider_server.py`` prints two accounts' URLs
and tokens and serves until interrupted.
"""
import bisect
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ['FakeProviderServer', 'FakeAccount', 'WASSENGER_PREFIX', 'END_TIME', 'WASSENGER_PAGE_CAPS']

#: path prefix under which Wassenger accounts are served (its base URL ends in /v1)
WASSENGER_PREFIX = '/v1'
#: WhatsApp time (unix seconds) of the newest generated message: 2026-01-01 00:00 UTC
END_TIME = 1767225600

#: the largest ``size`` a Wassenger listing serves; a bigger one is cut to it without a
#: word. Messages 50 and chats 100 (Wassenger's own tool reference, whatsapp-skills
#: tools-reference.md: "default 20, max 50" / "max 100"); webhooks 200 (the Swagger
#: spec's GET /webhooks). The sources give none for the others: 500 assumed.
WASSENGER_PAGE_CAPS = {'messages': 50, 'chats': 100, 'webhooks': 200, 'contacts': 500,
                       'groups': 500, 'participants': 500}

_TYPES = ('text', 'text', 'text', 'text', 'text', 'link_preview', 'image', 'text', 'system',
          'future_type')
_OUT_STATUSES = ('sent', 'delivered', 'read', 'played', 'pending', 'failed')
_RANK_ROLE = {'creator': 'superadmin', 'admin': 'admin', 'member': 'member'}

# Hostile, valid people: (person key, Wassenger "phone" as the provider might format it)
HOSTILE_PEOPLE = [
    ('447911123456', '+44 7911 123456'),         # UK mobile
    ('919876543210', '+91 98765 43210'),         # India
    ('5511987654321', '+55 (11) 98765-4321'),    # Brazil, 9-digit mobile
    ('8613812345678', '+86 138 1234 5678'),      # China
    ('12025550143', '+1 (202) 555-0143'),        # US fictional 555: may be invalid
    ('33612345678', '+33 6 12 34 56 78'),        # France
    ('4915123456789', '+49 151 23456789'),       # Germany
    ('819012345678', '+81 90-1234-5678'),        # Japan
    ('61412345678', '+61 412 345 678'),          # Australia
    ('27821234567', '+27 82 123 4567'),          # South Africa
    ('971501234567', '+971 50 123 4567'),        # UAE (RTL locale)
    ('2348031234567', '+234 803 123 4567'),      # Nigeria
    ('12345', '12345'),                          # too short to be a phone: stored, invalid
    ('998877665544332@lid', None),               # hidden number
]
LONG_TEXT = ('long ' * 2000)[:10000]
RTL_EMOJI = u'\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \U0001F600\U0001F44D\U0001F3FD \u200f\u202e reversed'


def _iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')


class Reply(object):
    def __init__(self, status=200, body=None, raw=None, headers=None):
        self.status = status
        self.body = body
        self.raw = raw
        self.headers = headers or {}


class _Drop(Exception):
    """Close the connection without answering."""


class _Hang(Exception):
    def __init__(self, seconds):
        super().__init__(seconds)
        self.seconds = seconds


class FakeAccount(object):
    """One remote WhatsApp account, its generated data, faults and counters.

    ``provider``: 'whapi' or 'wassenger'. Sizes: ``contacts`` people in the
    address book, ``groups`` x ``members`` (about 1 in 8 members is not in the
    address book), ``messages`` over ``days`` days ending at :data:`END_TIME`.
    ``hostile``: add the hostile items (long/emoji/RTL/NUL text, many phone
    formats, @lid ids, unknown types) and broken items that must be skipped.

    Wassenger pages (set on the account, e.g. ``account.page_cap = 20``):
    ``page_cap`` None cuts every listing's ``size`` silently at
    :data:`WASSENGER_PAGE_CAPS`; a number cuts every listing at it (500: a server
    that honours what is asked up to the 500 the fake accepts at all).
    ``whole_arrays``: groups and participants ignore ``page``/``size`` and come
    whole (the other reading the sources leave open).
    """

    page_cap = None
    whole_arrays = False

    def __init__(self, provider, token, seed=1, contacts=300, groups=10, members=8,
                 messages=600, days=30, device_id=None, hostile=False):
        assert provider in ('whapi', 'wassenger')
        assert members <= contacts
        self.provider = provider
        self.token = token
        self.seed = int(seed)
        self.n_contacts = contacts
        self.n_groups = groups
        self.n_members = members
        self.n_messages = messages
        self.days = days
        self.device_id = device_id or ('%024x' % (0xabc000 + self.seed))
        self.hostile = hostile
        self.own = '3491%07d' % self.seed
        self.server = None
        # remote changes
        self.contact_names = {}        # index -> new name
        self.message_changes = {}      # message index -> {'status':..., 'body':...}
        self.removed_members = set()   # (group index, member slot)
        self.extra_messages = []       # appended canonical dicts, timestamps ascending
        self.faults = {}
        self.reset_faults()
        self.reset_counters()
        span = days * 86400
        self._start = END_TIME - span
        self._step = float(span) / max(1, messages)
        self._hostile_messages = self._build_hostile_messages() if hostile else []
        self._hostile_ts = [m['ts'] for m in self._hostile_messages]

    # -- faults and counters --------------------------------------------------------
    def reset_faults(self):
        self.faults = {
            'fail_once_per_page': False,  # 500 on the first request of each distinct page
            'rate_limit_once_per_page': False,  # 429 + Retry-After on the first request of each page
            'retry_after': '1',
            'timeout_every': 0,           # every Nth request hangs for timeout_delay seconds
            'timeout_delay': 2.0,
            'drop_every': 0,              # every Nth request: connection closed, no answer
            'malformed_once': None,       # substring of a path: its (skip+1)th request gets bad JSON
            'malformed_skip': 0,
            'fail_forever': False,        # every request answers 500 (error text holds the token)
            'delay': 0.0,                 # seconds added to every request
            'delay_path': None,           # only requests whose path contains this
        }
        self._seen_pages = set()
        self._malformed_done = False

    def reset_counters(self):
        self.requests = 0
        self.by_endpoint = {}
        self.faults_injected = {}

    def _count_fault(self, name):
        self.faults_injected[name] = self.faults_injected.get(name, 0) + 1

    @property
    def base_url(self):
        if self.server is None:
            raise RuntimeError('account not added to a running server')
        prefix = WASSENGER_PREFIX if self.provider == 'wassenger' else ''
        return self.server.url + prefix

    def spec(self):
        """Constructor arguments (JSON-able), to rebuild the same account elsewhere."""
        return {'provider': self.provider, 'token': self.token, 'seed': self.seed,
                'contacts': self.n_contacts, 'groups': self.n_groups, 'members': self.n_members,
                'messages': self.n_messages, 'days': self.days, 'device_id': self.device_id,
                'hostile': self.hostile}

    # -- generated data (canonical) ---------------------------------------------------
    def contact_key(self, index):
        return '346%02d%06d' % (self.seed % 100, index)

    def stranger_key(self, index):
        return '347%02d%06d' % (self.seed % 100, index)

    def group_key(self, index):
        return '120363%06d%06d@g.us' % (self.seed, index)

    def contact(self, index):
        return {
            'id': self.contact_key(index),
            'name': self.contact_names.get(index, 'Contact %d-%d' % (self.seed, index)),
            'pushname': 'Push %d' % index,
            'is_business': index % 17 == 0,
        }

    def group(self, index):
        return {
            'id': self.group_key(index),
            'name': 'Group %d-%d' % (self.seed, index),
            'description': 'About group %d' % index,
            'invite_code': 'inv%d%05d' % (self.seed, index),
            'created_at': self._start - 86400 + index,
            'members': self.group_members(index),
        }

    def group_members(self, index):
        """[(person key, rank)], rank creator/admin/member; slot 0 creates the group."""
        result = []
        for slot in range(self.n_members):
            if (index, slot) in self.removed_members:
                continue
            if slot % 8 == 7:
                person = self.stranger_key(index * self.n_members + slot)
            else:
                person = self.contact_key((index * 7 + slot * 13) % self.n_contacts)
            rank = 'creator' if slot == 0 else ('admin' if slot == 1 else 'member')
            result.append((person, rank))
        seen = set()
        unique = []
        for person, rank in result:
            if person not in seen:
                seen.add(person)
                unique.append((person, rank))
        return unique

    def _message_id(self, index):
        if self.provider == 'whapi':
            return 'p.S%02dM%07d-gB%04d' % (self.seed % 100, index, index % 9973)
        return '3EB0%02X%014X' % (self.seed % 256, index)

    def message(self, index):
        """Canonical message ``index`` (generated, or appended when >= n_messages)."""
        if index >= self.n_messages:
            return self.extra_messages[index - self.n_messages]
        kind = _TYPES[index % len(_TYPES)]
        from_me = index % 4 == 0
        if index % 3 == 0 and self.n_groups:
            group_index = (index // 3) % self.n_groups
            members = self.group_members(group_index)
            chat = self.group_key(group_index)
            chat_type = 'group'
            sender = self.own if from_me else members[index % len(members)][0]
        else:
            if index % 50 == 1:
                chat = self.stranger_key(900000 + index % 997)
            else:
                chat = self.contact_key((index * 7) % self.n_contacts)
            chat_type = 'contact'
            sender = self.own if from_me else chat
        status = _OUT_STATUSES[index % len(_OUT_STATUSES)] if from_me else ('read' if index % 2 else 'delivered')
        body = 'Message %d of account %d' % (index, self.seed)
        if kind == 'link_preview':
            body = 'See https://example.com/%d' % index
        elif kind == 'system':
            body = 'Member %d joined' % index
        elif kind == 'image':
            body = 'Caption %d' % index
        message = {
            'id': self._message_id(index), 'chat': chat, 'chat_type': chat_type, 'from_me': from_me,
            'sender': sender, 'type': kind, 'body': body, 'status': status,
            'ts': int(self._start + index * self._step),
        }
        change = self.message_changes.get(index)
        if change:
            message.update(change)
        return message

    def expected_type(self, message):
        kind = message['type']
        if kind in ('text', 'link_preview', 'image', 'system', 'poll', 'video', 'audio', 'document'):
            return kind
        return 'unknown'

    @property
    def message_count(self):
        return self.n_messages + len(self.extra_messages) + len(self._hostile_messages)

    def append_messages(self, count, step=7):
        """Add ``count`` new messages after every existing one; return them."""
        last = self._last_ts()
        added = []
        base = self.n_messages + len(self.extra_messages)
        for number in range(count):
            message = self.message(number % max(1, self.n_messages))
            message = dict(message, id=self._message_id(base + number), ts=last + (number + 1) * step,
                           body='New message %d' % (base + number))
            added.append(message)
        self.extra_messages.extend(added)
        return added

    def webhook_delivery(self, message, secret):
        """What this provider POSTs to a webhook for a new ``message`` (canonical):
        ``(body bytes, headers)``, authenticated with ``secret`` its way."""
        if self.provider == 'whapi':
            body = json.dumps({'messages': [self._whapi_message(message)],
                               'event': {'type': 'messages', 'event': 'post'}}).encode()
            return body, {'Content-Type': 'application/json', 'X-Odoo-Webhook-Secret': secret}
        event = 'message:out:new' if message['from_me'] else 'message:in:new'
        body = json.dumps({'id': 'evt-%s' % message['id'], 'event': event, 'device': {'id': self.device_id},
                           'data': self._wassenger_message(message)}).encode()
        signature = 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {'Content-Type': 'application/json', 'X-Wassenger-Signature': signature}

    def mutate_message(self, index, **changes):
        """Change a generated message (e.g. status='read', body='edited')."""
        self.message_changes.setdefault(index, {}).update(changes)

    def rename_contact(self, index, name):
        self.contact_names[index] = name

    def remove_member(self, group_index, slot):
        self.removed_members.add((group_index, slot))

    def _last_ts(self):
        last = int(self._start + (self.n_messages - 1) * self._step) if self.n_messages else self._start
        if self.extra_messages:
            last = max(last, self.extra_messages[-1]['ts'])
        if self._hostile_ts:
            last = max(last, self._hostile_ts[-1])
        return last

    def _ordered(self):
        """(timestamps, getter) of every message, oldest first.

        Generated messages are ordered by index; hostile ones sit right after
        them, then appended ones (their times are later by construction).
        """
        return _MessageSequence(self)

    # -- hostile items -------------------------------------------------------------
    def _build_hostile_messages(self):
        base = END_TIME + 60
        group = self.group_key(0) if self.n_groups else None
        lid = '998877665544332@lid'
        texts = [LONG_TEXT, RTL_EMOJI, u'nul\x00inside\x00text', u'\U0001F9D1\u200d\U0001F4BB ' * 50]
        result = []
        for number, text in enumerate(texts):
            result.append({'id': self._message_id(8000000 + number), 'chat': self.contact_key(1),
                           'chat_type': 'contact', 'from_me': False, 'sender': self.contact_key(1),
                           'type': 'text', 'body': text, 'status': 'read', 'ts': base + number})
        result.append({'id': self._message_id(8000010), 'chat': lid, 'chat_type': 'contact',
                       'from_me': False, 'sender': lid, 'type': 'text', 'body': 'from a hidden number',
                       'status': 'delivered', 'ts': base + 10})
        if group:
            result.append({'id': self._message_id(8000011), 'chat': group, 'chat_type': 'group',
                           'from_me': False, 'sender': lid, 'type': 'poll', 'body': 'Lunch?',
                           'status': 'read', 'ts': base + 11})
        result.append({'id': self._message_id(8000012), 'chat': self.contact_key(2), 'chat_type': 'contact',
                       'from_me': True, 'sender': self.own, 'type': 'hologram_v9', 'body': None,
                       'status': 'sent', 'ts': base + 12})
        for number, (person, _phone) in enumerate(HOSTILE_PEOPLE):
            result.append({'id': self._message_id(8000100 + number), 'chat': person, 'chat_type': 'contact',
                           'from_me': number % 2 == 0, 'sender': self.own if number % 2 == 0 else person,
                           'type': 'text', 'body': 'hello %s' % person, 'status': 'read',
                           'ts': base + 100 + number})
        return result

    def _hostile_broken_messages(self):
        """Raw items a reader must skip (with a reason), per provider."""
        if self.provider == 'whapi':
            return [
                {'id': 'broken.no.timestamp-1', 'type': 'text', 'chat_id': self.contact_key(3) + '@s.whatsapp.net',
                 'from_me': False, 'text': {'body': 'no time'}},
                {'type': 'text', 'chat_id': self.contact_key(3) + '@s.whatsapp.net', 'from_me': False,
                 'timestamp': END_TIME, 'text': {'body': 'no id'}},
                'not an object',
            ]
        return [
            {'id': '3EBBROKEN0001', 'type': 'text', 'flow': 'inbound', 'body': 'no time',
             'chat': {'id': self.contact_key(3) + '@c.us'}},
            {'type': 'text', 'flow': 'inbound', 'timestamp': END_TIME, 'body': 'no id',
             'chat': {'id': self.contact_key(3) + '@c.us'}},
            'not an object',
        ]

    def _hostile_contacts_raw(self):
        items = []
        for number, (person, phone) in enumerate(HOSTILE_PEOPLE):
            name = [RTL_EMOJI, u'Nul\x00Name', LONG_TEXT, u'\U0001F600'][number % 4]
            if self.provider == 'whapi':
                items.append({'id': person, 'name': name, 'pushname': u'\u202eevil'})
            else:
                wid = person if person.endswith('@lid') else person + '@c.us'
                item = {'wid': wid, 'name': name, 'displayName': u'\u202eevil', 'type': 'user'}
                if phone and not person.endswith('@lid'):
                    item['phone'] = phone
                items.append(item)
        if self.provider == 'whapi':
            items += [{'name': 'no id'}, 'a string', {'id': 'abc@weird.server'}]
        else:
            items += [{'name': 'no wid'}, 'a string', {'wid': 'abc@weird.server'}]
        return items

    @property
    def hostile_skipped(self):
        """How many items the hostile set contains that must be skipped: contacts,
        group members and messages (3 + 1 + 3)."""
        return 7 if self.hostile else 0

    # -- ground truth ----------------------------------------------------------------
    def truth(self):
        """What a complete sync stores: canonical keys as the provider layer gives them.

        ``contacts``: every person key (address book, members, 1:1 chats, group
        senders); ``listed_contacts``: those in the contact listing;
        ``groups``; ``members``: {(group key, person key, role)}; ``messages``:
        {message id: (chat key, from_me, expected type, status, unix ts, body)}.
        """
        listed = {self.contact_key(i) for i in range(self.n_contacts)}
        if self.hostile:
            listed.update(person for person, _phone in HOSTILE_PEOPLE)
        groups = {self.group_key(i) for i in range(self.n_groups)}
        members = set()
        for index in range(self.n_groups):
            for person, rank in self.group_members(index):
                members.add((self.group_key(index), person, _RANK_ROLE[rank]))
        if self.hostile and self.n_groups:
            members.add((self.group_key(0), '998877665544332@lid', 'member'))
        contacts = set(listed)
        contacts.update(person for _group, person, _role in members)
        messages = {}
        sequence = self._ordered()
        for position in range(len(sequence)):
            message = sequence.get(position)
            if message is None:
                continue  # a broken item: skipped by the reader
            if message['chat_type'] == 'group':
                if message['sender']:
                    contacts.add(message['sender'])
            else:
                contacts.add(message['chat'])
            body = message['body'].replace('\x00', '') if message['body'] else None
            messages[message['id']] = (message['chat'], message['from_me'], self.expected_type(message),
                                       message['status'], message['ts'], body)
        return {'contacts': contacts, 'listed_contacts': listed, 'groups': groups,
                'members': members, 'messages': messages}

    # -- HTTP handling -----------------------------------------------------------------
    def handle(self, method, path, query, headers, body=b''):
        """Answer one request of this account (auth already checked) as a Reply.
        ``body``: the request's bytes (only GET is faked here; subclasses may use it)."""
        with self.server.lock:
            self.requests += 1
            number = self.requests
            endpoint = re.sub(r'/[0-9a-f]{24}(?=/|$)|/[^/]*@[^/]*|/\d+(?=/|$)', '/{id}', path)
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1
            faults = dict(self.faults)
            page_key = (path, tuple(sorted(query.items())))
            first_of_page = page_key not in self._seen_pages
            self._seen_pages.add(page_key)
            malformed = False
            if faults['malformed_once'] and not self._malformed_done and faults['malformed_once'] in path:
                if self.faults_injected.get('malformed_seen', 0) >= faults['malformed_skip']:
                    malformed = True
                    self._malformed_done = True
                self._count_fault('malformed_seen')
        if faults['delay'] and (not faults['delay_path'] or faults['delay_path'] in path):
            time.sleep(faults['delay'])
        if faults['fail_forever']:
            self._count_fault('fail_forever')
            return self._error(500, 'Internal failure while serving key %s' % self.token)
        if faults['timeout_every'] and number % faults['timeout_every'] == 0:
            self._count_fault('timeout')
            raise _Hang(faults['timeout_delay'])
        if faults['drop_every'] and number % faults['drop_every'] == 0:
            self._count_fault('drop')
            raise _Drop()
        if faults['fail_once_per_page'] and first_of_page:
            self._count_fault('500_once')
            return self._error(500, 'Temporary failure, try again')
        if faults['rate_limit_once_per_page'] and first_of_page:
            self._count_fault('429')
            reply = self._error(429, 'Too many requests, slow down')
            reply.headers['Retry-After'] = str(faults['retry_after'])
            return reply
        if method != 'GET':
            return self._error(405, 'Only GET is faked')
        if self.provider == 'whapi':
            reply = self._whapi(path, query)
        else:
            reply = self._wassenger(path, query)
        if malformed and reply.status == 200:
            self._count_fault('malformed')
            text = json.dumps(reply.body)
            return Reply(200, raw=text[:max(1, len(text) // 2)] + ' <html>oops')
        return reply

    def _error(self, status, message):
        if self.provider == 'whapi':
            return Reply(status, {'error': {'code': status, 'message': message}})
        return Reply(status, {'status': status, 'message': message, 'errorCode': 'error:%d' % status})

    # WHAPI ---------------------------------------------------------------------------
    def _whapi(self, path, query):
        if path == '/health':
            return Reply(200, {'start_at': END_TIME - 3600, 'uptime': 3600,
                               'status': {'code': 4, 'text': 'AUTH'}, 'version': 'fake',
                               'user': {'id': self.own, 'name': 'Fake %d' % self.seed}})
        paging = _whapi_paging(query)
        if isinstance(paging, Reply):
            return paging
        count, offset = paging
        if path == '/contacts':
            items = [self._whapi_contact(self.contact(i)) for i in range(self.n_contacts)]
            if self.hostile:
                items += self._hostile_contacts_raw()
            return _whapi_envelope('contacts', items, count, offset)
        if path == '/groups':
            items = [self._whapi_group(self.group(i)) for i in range(self.n_groups)]
            return _whapi_envelope('groups', items, count, offset)
        match = re.match(r'^/groups/([^/]+)$', path)
        if match:
            key = unquote(match.group(1))
            for i in range(self.n_groups):
                if self.group_key(i) == key:
                    return Reply(200, self._whapi_group(self.group(i)))
            return self._error(404, 'Group not found')
        if path == '/chats':
            items = [{'id': self.group_key(i), 'type': 'group', 'name': self.group(i)['name']}
                     for i in range(self.n_groups)]
            items += [{'id': self.contact_key(i) + '@s.whatsapp.net', 'type': 'contact'}
                      for i in range(self.n_contacts)]
            return _whapi_envelope('chats', items, count, offset)
        if path == '/messages/list':
            return self._whapi_messages(query, count, offset)
        return self._error(404, 'No such endpoint %s' % path)

    def _whapi_contact(self, contact):
        return {'id': contact['id'], 'name': contact['name'], 'pushname': contact['pushname'],
                'saved': True, 'is_business': contact['is_business']}

    def _whapi_group(self, group):
        participants = [{'id': person, 'rank': rank} for person, rank in group['members']]
        if self.hostile and group['id'] == self.group_key(0):
            participants.append({'id': '998877665544332@lid', 'rank': 'member'})
            participants.append({'rank': 'admin'})  # no id: skipped
        return {'id': group['id'], 'type': 'group', 'name': group['name'],
                'description': group['description'], 'invite_code': group['invite_code'],
                'created_at': group['created_at'], 'created_by': group['members'][0][0] if group['members'] else None,
                'size': len(participants), 'participants': participants}

    def _whapi_messages(self, query, count, offset):
        sequence = self._ordered()
        start, stop = 0, len(sequence)
        if 'time_from' in query:
            start = sequence.first_at_or_after(int(float(query['time_from'])))
        if 'time_to' in query:
            stop = sequence.first_at_or_after(int(float(query['time_to'])) + 1)
        total = max(0, stop - start)
        descending = query.get('sort', 'desc') != 'asc'
        hide_system = query.get('normal_types', 'true') != 'false'
        positions = range(offset, min(offset + count, total))
        items = []
        for position in positions:
            index = (stop - 1 - position) if descending else (start + position)
            message = sequence.get(index)
            if message is None:
                items.append(sequence.raw(index))
                continue
            if hide_system and message['type'] == 'system':
                continue
            items.append(self._whapi_message(message))
        return Reply(200, {'messages': items, 'count': len(items), 'total': total, 'offset': offset})

    def _whapi_message(self, message):
        kind = message['type']
        if message['chat_type'] == 'group' or message['chat'].endswith('@lid'):
            chat_id = message['chat']
        else:
            chat_id = message['chat'] + '@s.whatsapp.net'
        item = {'id': message['id'], 'type': kind, 'chat_id': chat_id, 'from_me': message['from_me'],
                'from': message['sender'], 'from_name': 'Push' if not message['from_me'] else None,
                'timestamp': message['ts'], 'status': message['status'], 'source': 'mobile'}
        body = message['body']
        if kind == 'image':
            item[kind] = {'id': 'jpeg-%x' % (hash(message['id']) & 0xffffff), 'mime_type': 'image/jpeg',
                          'file_size': 12345, 'sha256': 'ab' * 16, 'caption': body,
                          'link': 'https://example.com/media/%s.jpg' % message['id']}
        elif kind == 'link_preview':
            item[kind] = {'body': body, 'url': 'https://example.com', 'title': 'Example'}
        elif body is not None:
            item[kind] = {'body': body}
        else:
            item[kind] = {'payload': [1, 2, 3]}
        return item

    # Wassenger -----------------------------------------------------------------------
    def _wassenger(self, path, query):
        if not path.startswith(WASSENGER_PREFIX + '/'):
            return self._error(404, 'Not found')
        path = path[len(WASSENGER_PREFIX):]
        device = self.device_id
        if path == '/devices':
            return Reply(200, [self._wassenger_device()])
        match = re.match(r'^/devices/([^/]+)(/.*)?$', path) or re.match(r'^/chat/([^/]+)(/.*)?$', path)
        if not match:
            return self._error(404, 'No such endpoint %s' % path)
        if unquote(match.group(1)) != device:
            return self._error(404, 'Device not found')
        rest = match.group(2) or ''
        if path.startswith('/devices/'):
            if rest == '':
                return Reply(200, self._wassenger_device())
            if rest == '/groups':
                items = [self._wassenger_group(self.group(i)) for i in range(self.n_groups)]
                items.insert(min(1, len(items)), {'wid': '1203630000000001@newsletter', 'kind': 'channel',
                                                   'name': 'A channel, not a group'})
                if self.whole_arrays:
                    return Reply(200, items)
                return _wassenger_page(items, query, self._page_cap('groups'))
            group_match = re.match(r'^/groups/([^/]+)$', rest)
            if group_match:
                index = self._group_index(unquote(group_match.group(1)))
                if index is None:
                    return self._error(404, 'Group not found')
                return Reply(200, self._wassenger_group(self.group(index)))
            return self._error(404, 'No such endpoint %s' % path)
        if rest == '/contacts':
            items = [self._wassenger_contact(self.contact(i)) for i in range(self.n_contacts)]
            if self.hostile:
                items += self._hostile_contacts_raw()
            return _wassenger_page(items, query, self._page_cap('contacts'))
        participants = re.match(r'^/chats/([^/]+)/participants$', rest)
        if participants:
            index = self._group_index(unquote(participants.group(1)))
            if index is None:
                return self._error(404, 'Chat not found')
            items = []
            for person, rank in self.group_members(index):
                items.append({'wid': person + '@c.us', 'phone': '+' + person, 'isAdmin': rank in ('creator', 'admin'),
                              'isSuperAdmin': rank == 'creator', 'name': 'Member %s' % person, 'isContact': True})
            if self.hostile and index == 0:
                items.append({'wid': '998877665544332@lid', 'isAdmin': False, 'isSuperAdmin': False})
                items.append({'isAdmin': True})  # no wid: skipped
            if self.whole_arrays:
                return Reply(200, items)
            return _wassenger_page(items, query, self._page_cap('participants'))
        if rest == '/chats':
            items = [{'wid': self.group_key(i), 'kind': 'group', 'name': self.group(i)['name']}
                     for i in range(self.n_groups)]
            return _wassenger_page(items, query, self._page_cap('chats'))
        if rest == '/messages':
            return self._wassenger_messages(query)
        return self._error(404, 'No such endpoint %s' % path)

    def _page_cap(self, listing):
        return self.page_cap if self.page_cap else WASSENGER_PAGE_CAPS[listing]

    def _group_index(self, key):
        for i in range(self.n_groups):
            if self.group_key(i) == key:
                return i
        return None

    def _wassenger_device(self):
        return {'id': self.device_id, 'phone': '+' + self.own, 'wid': self.own + '@c.us',
                'alias': 'Fake %d' % self.seed, 'status': 'operative', 'session': {'status': 'online'}}

    def _wassenger_contact(self, contact):
        return {'wid': contact['id'] + '@c.us', 'phone': '+' + contact['id'], 'name': contact['name'],
                'displayName': contact['pushname'], 'type': 'user',
                'meta': {'isBusiness': contact['is_business'], 'isContact': True}}

    def _wassenger_group(self, group):
        return {'wid': group['id'], 'kind': 'group', 'name': group['name'],
                'description': group['description'], 'inviteCode': group['invite_code'],
                'createdAt': _iso(group['created_at']), 'totalParticipants': len(group['members'])}

    def _wassenger_messages(self, query):
        paging = _wassenger_paging(query, self._page_cap('messages'))
        if isinstance(paging, Reply):
            return paging
        page, size = paging
        sequence = self._ordered()
        stop = len(sequence)
        start = 0
        if 'after' in query:
            after = _parse_iso(query['after'])
            if after is None:
                return self._error(400, 'invalid after date')
            start = sequence.first_at_or_after(int(after) + 1)  # exclusive
        total = max(0, stop - start)
        items = []
        for position in range(page * size, min((page + 1) * size, total)):
            index = stop - 1 - position  # newest first
            message = sequence.get(index)
            items.append(sequence.raw(index) if message is None else self._wassenger_message(message))
        return Reply(200, items)

    def _wassenger_message(self, message):
        kind = message['type']
        own = self.own + '@c.us'
        chat = message['chat'] if (message['chat_type'] == 'group' or message['chat'].endswith('@lid')) \
            else message['chat'] + '@c.us'
        sender = message['sender']
        sender_wid = sender if (sender or '').endswith('@lid') else (sender + '@c.us' if sender else None)
        item = {'id': message['id'], 'type': 'text' if kind == 'link_preview' else kind,
                'flow': 'outbound' if message['from_me'] else 'inbound', 'ack': message['status'],
                'timestamp': message['ts'], 'date': _iso(message['ts']),
                'chat': {'id': chat, 'type': 'group' if message['chat_type'] == 'group' else 'chat'},
                'meta': {'isGroup': message['chat_type'] == 'group', 'notifyName': 'Push',
                         'isLinkPreview': kind == 'link_preview'}}
        if message['from_me']:
            item.update({'from': own, 'to': chat})
        else:
            item.update({'from': chat if message['chat_type'] != 'group' else sender_wid, 'to': own})
            if message['chat_type'] == 'group':
                item['author'] = sender_wid
        if message['body'] is not None:
            item['body'] = message['body']
        if kind == 'image':
            item['media'] = {'id': 'f%023x' % (hash(message['id']) & 0xffffff), 'type': 'image',
                             'mime': 'image/jpeg', 'size': 12345, 'filename': 'photo.jpg', 'format': 'native',
                             'caption': message['body'],
                             'links': {'download': 'https://example.com/media/%s.jpg' % message['id']}}
        elif kind == 'link_preview':
            item['linkPreview'] = {'title': 'Example', 'canonicalUrl': 'https://example.com'}
        if message['ts'] % 5 == 0 and 'timestamp' in item and message['id'].startswith('3EB0'):
            del item['timestamp']  # some items carry only the ISO date
        return item


class _MessageSequence(object):
    """Every message of an account oldest first: generated, hostile (valid and
    broken), appended. Broken hostile items carry no time; they sit right after
    the generated ones with the time of the first hostile message."""

    def __init__(self, account):
        self.account = account
        self.n_generated = account.n_messages
        self.hostile = account._hostile_messages
        self.broken = account._hostile_broken_messages() if account.hostile else []
        self.extra = account.extra_messages
        base = account._start
        step = account._step
        self.n_hostile = len(self.hostile) + len(self.broken)
        self._first_hostile_ts = self.hostile[0]['ts'] if self.hostile else None
        self._generated_ts = (base, step)

    def __len__(self):
        return self.n_generated + self.n_hostile + len(self.extra)

    def _ts(self, position):
        if position < self.n_generated:
            base, step = self._generated_ts
            return int(base + position * step)
        position -= self.n_generated
        if position < len(self.broken):
            return self._first_hostile_ts
        position -= len(self.broken)
        if position < len(self.hostile):
            return self.hostile[position]['ts']
        return self.extra[position - len(self.hostile)]['ts']

    def get(self, position):
        """Canonical message at ``position``, or None for a broken raw item."""
        if position < self.n_generated:
            return self.account.message(position)
        rest = position - self.n_generated
        if rest < len(self.broken):
            return None
        rest -= len(self.broken)
        if rest < len(self.hostile):
            return self.hostile[rest]
        return self.extra[rest - len(self.hostile)]

    def raw(self, position):
        return self.broken[position - self.n_generated]

    def first_at_or_after(self, ts):
        """Position of the first message with time >= ts (times never decrease)."""
        return bisect.bisect_left(_TsView(self), ts)


class _TsView(object):
    def __init__(self, sequence):
        self.sequence = sequence

    def __len__(self):
        return len(self.sequence)

    def __getitem__(self, position):
        return self.sequence._ts(position)


def _parse_iso(text):
    try:
        text = text.strip()
        if text.endswith('Z'):
            text = text[:-1] + '+00:00'
        if '.' in text:
            head, tail = text.split('.', 1)
            digits = re.match(r'\d*', tail).group(0)
            text = head + '.' + (digits + '000000')[:6] + tail[len(digits):]
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _whapi_paging(query):
    try:
        count = int(query.get('count', 100))
        offset = int(query.get('offset', 0))
    except ValueError:
        return Reply(400, {'error': {'code': 400, 'message': 'count and offset must be numbers'}})
    if count < 1 or count > 500 or offset < 0:
        return Reply(400, {'error': {'code': 400, 'message': 'count must be 1..500, offset >= 0'}})
    return count, offset


def _whapi_envelope(key, items, count, offset):
    chunk = items[offset:offset + count]
    return Reply(200, {key: chunk, 'count': len(chunk), 'total': len(items), 'offset': offset})


def _wassenger_paging(query, cap=None):
    """``(page, size)`` of a Wassenger listing (``page`` from 0, ``size`` default 20),
    ``size`` cut silently at ``cap`` (None: honoured); or a 400 Reply."""
    try:
        page = int(query.get('page', 0))
        size = int(query.get('size', 20))
    except ValueError:
        return Reply(400, {'status': 400, 'message': 'page and size must be numbers'})
    if page < 0 or size < 1 or size > 500:
        return Reply(400, {'status': 400, 'message': 'invalid page or size'})
    return page, min(size, cap or size)


def _wassenger_page(items, query, cap=None):
    """One page of a bare-array listing, as Wassenger serves it: no total, no word
    when ``size`` was cut."""
    paging = _wassenger_paging(query, cap)
    if isinstance(paging, Reply):
        return paging
    page, size = paging
    return Reply(200, items[page * size:(page + 1) * size])


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """Clients that time out or are killed reset connections: not worth a traceback."""
        import sys
        if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class FakeProviderServer(object):
    """The HTTP server hosting the fake accounts. ``start()``/``stop()``, or ``with``."""

    def __init__(self):
        self.accounts = {}
        self.lock = threading.Lock()
        self.unauthorized = 0
        self._httpd = None
        self._thread = None

    def add(self, account):
        """Host ``account`` (replacing one with the same token); return it."""
        account.server = self
        with self.lock:
            self.accounts[account.token] = account
        return account

    def remove(self, account):
        with self.lock:
            self.accounts.pop(account.token, None)

    @property
    def total_requests(self):
        return sum(account.requests for account in list(self.accounts.values()))

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self._httpd.server_address[1]

    def _account_for(self, handler, query):
        token = None
        auth = handler.headers.get('Authorization') or ''
        if auth.lower().startswith('bearer '):
            token = auth[7:].strip()
        token = token or handler.headers.get('Token') or query.get('token')
        account = self.accounts.get(token) if token else None
        path = urlsplit(handler.path).path
        wants_wassenger = path.startswith(WASSENGER_PREFIX + '/')
        if account is not None and (account.provider == 'wassenger') != wants_wassenger:
            account = None
        if account is None:
            with self.lock:
                self.unauthorized += 1
            if wants_wassenger:
                return Reply(401, {'status': 401, 'message': 'Invalid or missing API token',
                                   'errorCode': 'error:auth'})
            return Reply(401, {'error': {'code': 401, 'message': 'Unauthorized',
                                         'details': 'Invalid or missing channel token'}})
        return account

    def _dispatch(self, handler):
        split = urlsplit(handler.path)
        query = dict((key, values[-1]) for key, values in parse_qs(split.query, keep_blank_values=True).items())
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else b''
        target = self._account_for(handler, query)
        try:
            if isinstance(target, Reply):
                reply = target
            else:
                reply = target.handle(handler.command, split.path, query, handler.headers, body)
        except _Drop:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except _Hang as hang:
            time.sleep(hang.seconds)
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if reply.raw is not None:
            payload = reply.raw if isinstance(reply.raw, bytes) else reply.raw.encode('utf-8')
        else:
            payload = json.dumps(reply.body).encode('utf-8')
        try:
            handler.send_response(reply.status)
            if 'Content-Type' not in reply.headers:
                handler.send_header('Content-Type', 'application/json; charset=utf-8')
            handler.send_header('Content-Length', str(len(payload)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # headers and body go out in two writes: without TCP_NODELAY, Nagle plus the
            # client's delayed ACK add ~40 ms to every keep-alive request
            disable_nagle_algorithm = True

            def _any(self):
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args):
                pass

        self._httpd = _QuietServer(('127.0.0.1', 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.05},
                                        name='fake-provider-server', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _main():
    server = FakeProviderServer().start()
    whapi = server.add(FakeAccount('whapi', 'whapi-demo-token', seed=1))
    wassenger = server.add(FakeAccount('wassenger', 'wassenger-demo-token', seed=2))
    print('WHAPI     %s token=%s' % (whapi.base_url, whapi.token))
    print('Wassenger %s token=%s device=%s' % (wassenger.base_url, wassenger.token, wassenger.device_id))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == '__main__':
    _main()
