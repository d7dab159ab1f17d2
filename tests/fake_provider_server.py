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
* The operations the clients make are served with state, in the providers' published
  shapes (``providers/conformance/*.json``): text and media sends (stored as outgoing
  messages, status pending), group creation, participants add/remove/promote/demote
  (WHAPI refuses ids off its published pattern with 400), invite codes, WHAPI settings
  and read marks, Wassenger webhooks and file uploads, number checks. What they change
  shows in later GETs; :meth:`FakeAccount.reset_state` forgets it.
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
import secrets
import socket
import threading
import time
import zlib
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
POLL_OPTIONS = ('Pizza', 'Salad', 'Sushi')
#: how a poll reads once stored (W2 MessageContentPoll / S6 poll.name + options)
POLL_TEXT = u'\U0001F4CA Lunch?\n' + u'\n'.join(u'\u2022 %s' % option for option in POLL_OPTIONS)
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
        self.reset_state()
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

    def _pushname(self, person):
        """The profile name a message from ``person`` carries: the contact's own, else a
        stranger's placeholder."""
        names = getattr(self, '_pushnames', None)
        if names is None:
            names = self._pushnames = dict((self.contact_key(index), self.contact(index)['pushname'])
                                           for index in range(self.n_contacts))
        return names.get(person, 'Push')

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
        state = self.group_state.get(self.group_key(index))
        if state is not None:  # changed by a group operation
            return dict(state, members=list(state['members']))
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
        if kind == 'contact' and self.provider == 'wassenger':
            return 'contact_list'  # served as ``contacts[]`` (S6)
        if kind == 'action' and message['action']['type'] == 'reaction':
            return 'reaction'
        if kind in ('text', 'link_preview', 'image', 'system', 'poll', 'video', 'audio', 'document',
                    'location', 'contact'):
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
        # a delivery's own id is its message's id (S2 examples): never one to de-duplicate on
        body = json.dumps({'id': message['id'], 'event': event, 'device': {'id': self.device_id},
                           'data': self._wassenger_message(message)}).encode()
        return body, _wassenger_headers(body, secret)

    # -- provider events beyond messages (issue 23): each a small function ------------------
    def queue_message(self, phone, text, status='queued', delivery_status='queued', wa_id=None,
                      failure_reason=None, reference=None):
        """A Wassenger queued message (S2 ``message``), as ``GET /messages/{id}`` serves it;
        returns its 24-hex id."""
        queued = _queued_messages(self)
        queue_id = '%024x' % (0x5bf612faa893b00016c00000 + len(queued) + 1)
        queued[queue_id] = {'id': queue_id, 'phone': phone, 'message': text, 'status': status,
                            'deliveryStatus': delivery_status, 'waId': wa_id, 'reference': reference,
                            'failureReason': failure_reason, 'createdAt': _iso(END_TIME),
                            'device': {'id': self.device_id}}
        return queue_id

    def update_queued(self, queue_id, **fields):
        _queued_messages(self)[queue_id].update(fields)

    def failed_send_delivery(self, queue_id, reason=None, secret=None):
        """Wassenger's ``message:out:failed`` as S2 shows it: payload B, an array of
        ``{event, date, entity, entityId, entityUrl, user, data}`` (data: the queued
        message). Unsigned unless ``secret`` is given."""
        self.update_queued(queue_id, status='failed', deliveryStatus='failed', failureReason=reason,
                           failedAt=_iso(END_TIME + 60))
        data = dict((key, value) for key, value in _queued_messages(self)[queue_id].items() if value is not None)
        body = json.dumps([{'event': 'message:out:failed', 'date': _iso(END_TIME + 60), 'entity': 'message',
                            'entityId': queue_id, 'entityUrl': 'https://api.wassenger.com/v1/messages/' + queue_id,
                            'user': '5bd75ab235623e00162a73dc', 'data': data}]).encode()
        return body, _wassenger_headers(body, secret)

    def session_delivery(self, session_status, secret=None):
        """Wassenger's ``number:session`` (S2 names the event only: this shape, payload A with
        the device's ``session.status`` in ``data``, is an assumption)."""
        body = json.dumps({'id': 'evt-session-%s' % session_status, 'object': 'device', 'event': 'number:session',
                           'created': END_TIME, 'device': {'id': self.device_id, 'phone': '+' + self.own},
                           'data': {'id': self.device_id, 'session': {'status': session_status}}}).encode()
        return body, _wassenger_headers(body, secret)

    def health_delivery(self, secret, status_text=None, user_method=None):
        """WHAPI's account events (W6): ``channel.post`` with ``health.status{code, text}``, or
        ``users.post`` (login) / ``users.delete`` (logout) with ``user{id, name}``."""
        if user_method:
            payload = {'user': {'id': self.own, 'name': 'Fake %d' % self.seed},
                       'event': {'type': 'users', 'event': user_method}}
        else:
            codes = {'INIT': 1, 'LAUNCH': 2, 'QR': 3, 'AUTH': 4, 'ERROR': 5}
            payload = {'health': {'start_at': END_TIME - 60, 'uptime': 60, 'version': 'fake',
                                  'status': {'code': codes.get(status_text, 0), 'text': status_text}},
                       'event': {'type': 'channel', 'event': 'post'}}
        payload['channel_id'] = 'FAKE-%d' % self.seed
        body = json.dumps(payload).encode()
        return body, {'Content-Type': 'application/json', 'X-Odoo-Webhook-Secret': secret}

    def _wassenger_queued(self, queue_id):
        """``GET /messages/{id}``: the queued message (S2 ``message``), 404 when unknown."""
        queued = _queued_messages(self).get(queue_id)
        if queued is None:
            return self._error(404, 'Message not found')
        return Reply(200, dict((key, value) for key, value in queued.items() if value is not None))

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
                           'from_me': False, 'sender': lid, 'type': 'poll', 'body': POLL_TEXT,
                           'poll': {'title': 'Lunch?', 'options': list(POLL_OPTIONS),
                                    'voters': {'Pizza': [self.contact_key(1)]}},
                           'status': 'read', 'ts': base + 11})
        result.append({'id': self._message_id(8000012), 'chat': self.contact_key(2), 'chat_type': 'contact',
                       'from_me': True, 'sender': self.own, 'type': 'hologram_v9', 'body': None,
                       'status': 'sent', 'ts': base + 12})
        result += self._shaped_messages(base + 20, group)
        for number, (person, _phone) in enumerate(HOSTILE_PEOPLE):
            result.append({'id': self._message_id(8000100 + number), 'chat': person, 'chat_type': 'contact',
                           'from_me': number % 2 == 0, 'sender': self.own if number % 2 == 0 else person,
                           'type': 'text', 'body': 'hello %s' % person, 'status': 'read',
                           'ts': base + 100 + number})
        return result

    def _shaped_messages(self, base, group):
        """Messages in the providers' published shapes (hostile set): a place, a contact
        card and, on WHAPI, action messages (edit, deletion, reaction, vote) on earlier
        messages and reactions listed on a message (``reactions[]``)."""
        person = self.contact_key(1)
        common = {'chat': person, 'chat_type': 'contact', 'from_me': False, 'sender': person, 'status': 'read'}
        result = [
            dict(common, id=self._message_id(8000020), type='location', ts=base,
                 place={'name': 'Cafe Sol', 'address': 'Carrer Major 1', 'lat': 41.3851, 'lng': 2.1734},
                 body=u'\U0001F4CD Cafe Sol, Carrer Major 1 (41.3851, 2.1734)'),
            dict(common, id=self._message_id(8000021), type='contact', ts=base + 1,
                 card={'name': 'Ana Perez', 'number': '+34 600 11 12 22', 'waid': '34600111222'},
                 body=u'\U0001F464 Ana Perez: +34 600 11 12 22'),
        ]
        if self.provider != 'whapi':
            return result
        edited, deleted = self._message_id(8000022), self._message_id(8000023)
        result += [
            dict(common, id=edited, type='text', ts=base + 2, body='tpyo',
                 reactions=[{'id': self._message_id(8000026), 'emoji': u'\U0001F44D'},
                            {'emoji': u'\u2764\ufe0f', 't': base + 9, 'count': 1}]),
            dict(common, id=deleted, type='text', ts=base + 3, body='regret'),
            dict(common, id=self._message_id(8000024), type='action', ts=base + 4, body=None,
                 action={'type': 'edit', 'target': edited, 'edited_type': 'text',
                         'edited_content': {'body': 'typo fixed'}}),
            dict(common, id=self._message_id(8000025), type='action', ts=base + 5, body=None,
                 action={'type': 'delete', 'target': deleted}),
            dict(common, id=self._message_id(8000026), type='action', ts=base + 6, body=u'\U0001F44D',
                 action={'type': 'reaction', 'target': edited, 'emoji': u'\U0001F44D'}),
            dict(common, id=self._message_id(8000027), type='action', ts=base + 7, body=None,
                 action={'type': 'ephemeral', 'target': person + '@s.whatsapp.net', 'ephemeral': 604800}),
        ]
        if group:
            result.append({'id': self._message_id(8000028), 'chat': group, 'chat_type': 'group', 'from_me': False,
                           'sender': self.contact_key(2), 'status': 'read', 'type': 'action', 'ts': base + 8,
                           'body': None, 'action': {'type': 'vote', 'target': self._message_id(8000011),
                                                    'votes': ['Sushi']}})
        return result

    def poll_voters(self, poll_message):
        """{option: [person keys]} of a poll: its first voters and the WHAPI vote messages."""
        votes = dict((name, list(voters)) for name, voters in poll_message['poll']['voters'].items())
        for other in self._hostile_messages:
            action = other.get('action') or {}
            if action.get('type') == 'vote' and action.get('target') == poll_message['id']:
                for option in votes:
                    if other['sender'] in votes[option]:
                        votes[option].remove(other['sender'])
                for chosen in action['votes']:
                    votes.setdefault(chosen, []).append(other['sender'])
        return votes

    def poll_results(self):
        """{poll message id: its votes as the account must show them} (WHAPI lists its voters;
        Wassenger's published poll has none)."""
        results = {}
        if self.provider != 'whapi':
            return results
        for message in self._hostile_messages:
            if message['type'] == 'poll':
                votes = self.poll_voters(message)
                results[message['id']] = '\n'.join('%s: %d' % (option, len(votes.get(option, ())))
                                                   for option in message['poll']['options'])
        return results

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
        groups = {group['id'] for group in self._groups()}
        members = set()
        for group in self._groups():
            for person, rank in group['members']:
                members.add((group['id'], person, _RANK_ROLE[rank]))
        if self.hostile and self.n_groups:
            members.add((self.group_key(0), '998877665544332@lid', 'member'))
        contacts = set(listed)
        contacts.update(person for _group, person, _role in members)
        messages = {}
        sequence = self._ordered()
        edits, deleted = {}, set()
        for position in range(len(sequence)):
            message = sequence.get(position)
            if message is None:
                continue  # a broken item: skipped by the reader
            action = message.get('action') or {}
            if message['type'] == 'action' and action.get('type') != 'reaction':
                # an event on another message: applied to it, never a row of its own
                if action['type'] == 'edit':
                    edits[action['target']] = action['edited_content']['body']
                elif action['type'] == 'delete':
                    deleted.add(action['target'])
                continue
            if message['chat_type'] == 'group':
                if message['sender']:
                    contacts.add(message['sender'])
            else:
                contacts.add(message['chat'])
            body = message['body'].replace('\x00', '') if message['body'] else None
            messages[message['id']] = (message['chat'], message['from_me'], self.expected_type(message),
                                       message['status'], message['ts'], body)
            for reaction in message.get('reactions') or ():
                if 'id' not in reaction:  # listed only on its message (WHAPI reactions[]): no reactor
                    messages['%s~%s' % (message['id'], reaction['emoji'])] = (
                        message['chat'], False, 'reaction', None, reaction.get('t', message['ts']),
                        reaction['emoji'])
        for target, body in edits.items():
            if target in messages:
                messages[target] = messages[target][:5] + (body,)
        for target in deleted:
            if target in messages:
                messages[target] = messages[target][:3] + ('deleted',) + messages[target][4:]
        return {'contacts': contacts, 'listed_contacts': listed, 'groups': groups,
                'members': members, 'messages': messages}

    # -- HTTP handling -----------------------------------------------------------------
    def handle(self, method, path, query, headers, body=b''):
        """Answer one request of this account (auth already checked) as a Reply.
        ``body``: the request's bytes (read by the operations, see ``_stateful``)."""
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
        reply = self._hidden_number_lookup(method, path, query)
        if reply is None:
            reply = self._stateful(method, path, query, headers, body)
        if reply is None and method != 'GET':
            return self._error(405 if self._known_path(path) else 404, 'No %s on %s' % (method, path))
        if reply is None and self.provider == 'whapi':
            reply = self._whapi(path, query)
        elif reply is None:
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
            items = [self._whapi_group(group) for group in self._groups()]
            return _whapi_envelope('groups', items, count, offset)
        match = re.match(r'^/groups/([^/]+)$', path)
        if match:
            group = self._find_group(unquote(match.group(1)))
            if group is not None:
                return Reply(200, self._whapi_group(group))
            return self._error(404, 'Group not found')
        if path == '/chats':
            items = [{'id': group['id'], 'type': 'group', 'name': group['name']} for group in self._groups()]
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
                'from': message['sender'], 'from_name': self._pushname(message['sender']) if not message['from_me'] else None,
                'timestamp': message['ts'], 'status': message['status'], 'source': 'mobile'}
        body = message['body']
        if message.get('reactions'):
            item['reactions'] = [dict(reaction, count=reaction.get('count', 1)) for reaction in message['reactions']]
        if kind == 'action':  # W2 MessageAction: an event on another message
            item[kind] = dict(message['action'])
        elif kind == 'poll' and 'poll' in message:  # W2 MessageContentPoll: title, options, results
            poll, voters = message['poll'], self.poll_voters(message)
            results = [{'id': 'opt%d' % number, 'name': option, 'count': len(voters.get(option, ())),
                        'voters': list(voters.get(option, ()))}
                       for number, option in enumerate(poll['options'])]
            item[kind] = {'title': poll['title'], 'options': list(poll['options']), 'vote_limit': 1,
                          'total': sum(result['count'] for result in results), 'results': results}
        elif kind == 'location' and 'place' in message:  # W2 MessageContentLocation
            place = message['place']
            item[kind] = {'latitude': place['lat'], 'longitude': place['lng'], 'name': place['name'],
                          'address': place['address']}
        elif kind == 'contact' and 'card' in message:  # W2 MessageContentContact: a VCard
            card = message['card']
            item[kind] = {'name': card['name'], 'vcard': 'BEGIN:VCARD\nVERSION:3.0\nFN:%s\nitem1.TEL;waid=%s:%s\n'
                                                         'END:VCARD' % (card['name'], card['waid'], card['number'])}
        elif kind == 'image':
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
                items = [self._wassenger_group(group) for group in self._groups()]
                items.insert(min(1, len(items)), {'wid': '1203630000000001@newsletter', 'kind': 'channel',
                                                   'name': 'A channel, not a group'})
                if self.whole_arrays:
                    return Reply(200, items)
                return _wassenger_page(items, query, self._page_cap('groups'))
            group_match = re.match(r'^/groups/([^/]+)$', rest)
            if group_match:
                group = self._find_group(unquote(group_match.group(1)))
                if group is None:
                    return self._error(404, 'Group not found')
                return Reply(200, self._wassenger_group(group))
            return self._error(404, 'No such endpoint %s' % path)
        if rest == '/contacts':
            items = [self._wassenger_contact(self.contact(i)) for i in range(self.n_contacts)]
            if self.hostile:
                items += self._hostile_contacts_raw()
            return _wassenger_page(items, query, self._page_cap('contacts'))
        participants = re.match(r'^/chats/([^/]+)/participants$', rest)
        if participants:
            group = self._find_group(unquote(participants.group(1)))
            if group is None:
                return self._error(404, 'Chat not found')
            index = self._group_index(group['id'])
            items = []
            for person, rank in group['members']:
                items.append({'wid': person + '@c.us', 'phone': '+' + person, 'isAdmin': rank in ('creator', 'admin'),
                              'isSuperAdmin': rank == 'creator', 'name': 'Member %s' % person, 'isContact': True})
                if self.hidden_id(person):
                    items[-1]['lid'] = self.hidden_id(person)  # groupParticipant.lid (S2)
            if self.hostile and index == 0:
                items.append({'wid': '998877665544332@lid', 'isAdmin': False, 'isSuperAdmin': False})
                items.append({'isAdmin': True})  # no wid: skipped
            if self.whole_arrays:
                return Reply(200, items)
            return _wassenger_page(items, query, self._page_cap('participants'))
        if rest == '/chats':
            items = [{'wid': group['id'], 'kind': 'group', 'name': group['name']} for group in self._groups()]
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
        kind = {'link_preview': 'text', 'contact': 'contacts' if 'card' in message else kind}.get(kind, kind)
        if sum(map(ord, message['id'])) % 2:
            # S2 ioMessage names: wid, kind, flow in/out, chatWid
            item = {'wid': message['id'], 'kind': kind, 'flow': 'out' if message['from_me'] else 'in',
                    'chatWid': chat}
        else:
            # webhook examples and S6: id, type, flow inbound/outbound, chat{}
            item = {'id': message['id'], 'type': kind, 'flow': 'outbound' if message['from_me'] else 'inbound',
                    'chat': {'id': chat, 'type': 'group' if message['chat_type'] == 'group' else 'chat'}}
        item.update({'ack': message['status'], 'timestamp': message['ts'], 'date': _iso(message['ts']),
                     'meta': {'isGroup': message['chat_type'] == 'group', 'notifyName': self._pushname(message['sender']),
                              'isLinkPreview': message['type'] == 'link_preview'}})
        kind = message['type']
        if message['from_me']:
            item.update({'from': own, 'to': chat})
        else:
            item.update({'from': chat if message['chat_type'] != 'group' else sender_wid, 'to': own})
            if message['chat_type'] == 'group':
                item['author'] = {'wid': sender_wid}  # S2: "optional group message author", an object
        if kind == 'poll' and 'poll' in message:  # S2 poll.name; S6 poll.options[].name; not in body
            item['poll'] = {'name': message['poll']['title'], 'count': 0,
                            'options': [{'name': option} for option in message['poll']['options']]}
        elif kind == 'location' and 'place' in message:  # S2 ioMessage.location
            place = message['place']
            item['location'] = {'name': place['name'], 'address': place['address'], 'lat': place['lat'],
                                'lon': place['lng']}
        elif kind == 'contact' and 'card' in message:  # S6 contacts[]
            card = message['card']
            item['contacts'] = [{'formattedName': card['name'],
                                 'phones': [{'number': card['number'], 'waid': card['waid']}]}]
        elif message['body'] is not None:
            item['body'] = message['body']
        if kind == 'image':
            file_id = 'f%023x' % (zlib.crc32(message['id'].encode()) & 0xffffff)
            # links.download: the API path of the file, under /v1 (S4; Wassenger's own sample bot)
            item['media'] = {'id': file_id, 'type': 'image',
                             'mime': 'image/jpeg', 'size': 12345, 'filename': 'photo.jpg', 'format': 'native',
                             'caption': message['body'],
                             'links': {'download': '%s/chat/%s/files/%s/download' % (
                                 WASSENGER_PREFIX, self.device_id, file_id)}}
        elif kind == 'link_preview':
            item['linkPreview'] = {'title': 'Example', 'canonicalUrl': 'https://example.com'}
        if message['ts'] % 5 == 0 and 'timestamp' in item and message['id'].startswith('3EB0'):
            del item['timestamp']  # some items carry only the ISO date
        return item

    # -- stateful operations: sends, groups, settings, webhooks, read marks, number checks --
    #
    # Served in the providers' published shapes (providers/conformance/*.json); what they
    # change shows in later GETs (sent messages in the message listings, groups and
    # members in the group listings, settings, webhooks).

    #: WHAPI ContactID (W2 parameters.ContactID): what group operations take as participants
    WHAPI_PARTICIPANT = re.compile(r'^([\d]{7,15})?$')
    _WHAPI_SEND_KINDS = ('text', 'image', 'video', 'gif', 'audio', 'voice', 'document', 'sticker')

    def reset_state(self):
        """Forget what operations changed: sends, created or changed groups, settings..."""
        self.group_state = {}          # group key -> group dict changed by an operation
        self.created_groups = []       # keys of groups created through the API, in order
        self.sent = {}                 # message id (and Wassenger queue id) -> canonical message
        self.queued = {}               # Wassenger queue id -> queued message reply
        self.read_marks = []           # WHAPI message ids marked read
        self.settings = {'callback_persist': True, 'media': {'auto_download': ['image', 'document']},
                         'webhooks': []}
        self.webhooks = {}             # Wassenger webhook id -> webhook (with its secret)
        self.files = {}                # Wassenger file id -> file record
        self.not_on_whatsapp = set()   # digits that number checks call invalid
        self._serial = 0

    def _next(self):
        with self.server.lock if self.server is not None else _NoLock():
            self._serial += 1
            return self._serial

    def _groups(self):
        """Every group of the account as dicts (generated, then created through the API)."""
        groups = [self.group(index) for index in range(self.n_groups)]
        for key in self.created_groups:
            state = self.group_state[key]
            groups.append(dict(state, members=list(state['members'])))
        return groups

    def _find_group(self, key):
        index = self._group_index(key)
        if index is not None:
            return self.group(index)
        state = self.group_state.get(key)
        return dict(state, members=list(state['members'])) if state is not None else None

    def _changing_group(self, key):
        """The stored state of group ``key`` to change in place (None if unknown)."""
        if key not in self.group_state:
            group = self._find_group(key)
            if group is None:
                return None
            self.group_state[key] = dict(group, members=[list(member) for member in group['members']])
        state = self.group_state[key]
        state['members'] = [list(member) for member in state['members']]
        return state

    def _known_path(self, path):
        return bool(re.match(r'^(/v1)?/(messages|groups|contacts|chats|settings|webhooks|files|numbers|'
                             r'devices|chat|health|media)(/|$)', path))

    def _json_body(self, body):
        try:
            return json.loads(body.decode('utf-8')) if body else None
        except ValueError:
            return None

    def _stateful(self, method, path, query, headers, body):
        """Reply of an operation this fake serves with state, or None (then the GETs of
        generated data answer, and any other method is refused)."""
        if self.provider == 'whapi':
            return self._whapi_operation(method, path, query, headers, body)
        if not path.startswith(WASSENGER_PREFIX + '/'):
            return None
        return self._wassenger_operation(method, path[len(WASSENGER_PREFIX):], query, headers, body)

    def _store_sent(self, chat, kind, text, message_id):
        """Append an outgoing message (status pending) to the account's messages."""
        chat_type = 'group' if chat.endswith('@g.us') else 'contact'
        message = {'id': message_id, 'chat': chat, 'chat_type': chat_type, 'from_me': True,
                   'sender': self.own, 'type': kind, 'body': text, 'status': 'pending',
                   'ts': max(self._last_ts() + 1, int(time.time()))}
        self.extra_messages.append(message)
        self.sent[message_id] = message
        return message

    def _message_by_id(self, message_id):
        if message_id in self.sent:
            return self.sent[message_id]
        sequence = self._ordered()
        for position in range(len(sequence)):
            message = sequence.get(position)
            if message is not None and message['id'] == message_id:
                return message
        return None

    @staticmethod
    def _new_invite_code():
        return secrets.token_urlsafe(16)[:22]

    def _new_group(self, name, description, participants):
        number = self._next()
        key = '120363%06d9%05d@g.us' % (self.seed % 1000000, number)
        members = [[self.own, 'creator']] + [[person, 'member'] for person in participants if person != self.own]
        self.group_state[key] = {'id': key, 'name': name, 'description': description,
                                 'invite_code': self._new_invite_code(), 'created_at': int(time.time()),
                                 'members': members}
        self.created_groups.append(key)
        return self.group_state[key]

    @staticmethod
    def _change_members(state, people, action):
        """Apply ``action`` to ``people`` (person keys); return (done, failed)."""
        members = state['members']
        present = dict((member[0], member) for member in members)
        done, failed = [], []
        for person in people:
            member = present.get(person)
            if action == 'add':
                if member is not None:
                    failed.append(person)
                    continue
                member = [person, 'member']
                members.append(member)
                present[person] = member
            elif member is None or member[1] == 'creator':
                failed.append(person)
                continue
            elif action == 'remove':
                members.remove(member)
                del present[person]
            elif action == 'promote':
                member[1] = 'admin'
            elif action == 'demote':
                member[1] = 'member'
            done.append(person)
        return done, failed

    def _number_exists(self, digits):
        return bool(re.match(r'^[1-9]\d{6,14}$', digits or '')) and digits not in self.not_on_whatsapp

    # WHAPI operations -----------------------------------------------------------------
    def _whapi_operation(self, method, path, query, headers, body):
        send = re.match(r'^/messages/(%s)$' % '|'.join(self._WHAPI_SEND_KINDS), path)
        if send and method == 'POST':
            return self._whapi_send(send.group(1), self._json_body(body))
        message = re.match(r'^/messages/([^/]+)$', path)
        if message and message.group(1) != 'list':
            message_id = unquote(message.group(1))
            found = self._message_by_id(message_id)
            if found is None:
                return self._error(404, 'Specified message not found')
            if method == 'PUT':
                self.read_marks.append(message_id)
                return Reply(200, {'success': True})
            if method == 'GET':
                return Reply(200, self._whapi_message(found))
            return None
        if path == '/contacts' and method == 'POST':
            return self._whapi_check_numbers(self._json_body(body))
        contact = re.match(r'^/contacts/(\d+)$', path)
        if contact and method == 'GET':
            key = contact.group(1)
            for index in range(self.n_contacts):
                if self.contact_key(index) == key:
                    return Reply(200, self._whapi_contact(self.contact(index)))
            return self._error(404, 'Specified contact not found')
        if path == '/settings':
            return self._whapi_settings_call(method, self._json_body(body))
        if path == '/groups' and method == 'POST':
            return self._whapi_create_group(self._json_body(body))
        group = re.match(r'^/groups/([^/]+)(/participants|/admins|/invite)?$', path)
        if group and (method != 'GET' or group.group(2) == '/invite'):
            return self._whapi_group_call(method, unquote(group.group(1)), group.group(2) or '',
                                          self._json_body(body))
        return None

    def _whapi_send(self, kind, fields):
        if not isinstance(fields, dict) or not fields.get('to'):
            return self._error(400, 'Wrong request parameters: "to" is required')
        if kind == 'text' and not isinstance(fields.get('body'), str):
            return self._error(400, 'Wrong request parameters: "body" is required')
        if kind != 'text' and not fields.get('media'):
            return self._error(400, 'Wrong request parameters: "media" is required')
        to = str(fields['to'])
        if not re.match(r'^[\d-]{9,31}(@[\w\.]{1,})?$', to):
            return self._error(400, 'Wrong request parameters: "to" is not a phone number or chat id')
        chat = to.split('@')[0] if to.endswith('@s.whatsapp.net') or '@' not in to else to
        text = fields.get('body') if kind == 'text' else fields.get('caption')
        message = self._store_sent(chat, kind, text, self._message_id(900000000 + self._next()))
        return Reply(201, {'sent': True, 'message': self._whapi_message(message)})

    def _whapi_check_numbers(self, fields):
        if not isinstance(fields, dict) or not isinstance(fields.get('contacts'), list):
            return self._error(400, 'Wrong request parameters: "contacts" is required')
        answers = []
        for value in fields['contacts']:
            digits = re.sub(r'\D', '', str(value))
            valid = self._number_exists(digits)
            answer = {'input': value, 'status': 'valid' if valid else 'invalid'}
            if valid:
                answer['wa_id'] = digits
            answers.append(answer)
        return Reply(200, {'contacts': answers})

    def _whapi_settings_call(self, method, fields):
        if method == 'GET':
            return Reply(200, json.loads(json.dumps(self.settings)))
        if method != 'PATCH':
            return None
        if not isinstance(fields, dict) or not isinstance(fields.get('webhooks', []), list):
            return self._error(400, 'Wrong settings format')
        before = json.loads(json.dumps(self.settings))
        self.settings.update(fields)
        return Reply(200, {'before_update': before, 'after_update': json.loads(json.dumps(self.settings)),
                           'changes': sorted(fields)})

    def _whapi_participants(self, fields, required=True):
        """(participant keys, error Reply): WHAPI takes digits only (ContactID pattern)."""
        people = fields.get('participants') if isinstance(fields, dict) else None
        if not isinstance(people, list) or (required and not people):
            return None, self._error(400, 'Wrong request parameters: "participants" is required')
        wrong = [person for person in people if not isinstance(person, str) or not self.WHAPI_PARTICIPANT.match(person)]
        if wrong:
            return None, self._bad_participants(wrong)
        return people, None

    def _whapi_create_group(self, fields):
        if not isinstance(fields, dict) or not isinstance(fields.get('subject'), str):
            return self._error(400, 'Wrong request parameters: "subject" is required')
        people, error = self._whapi_participants(fields)
        if error is not None:
            return error
        refused = [person for person in people if person in self._hidden_state()['refused']]
        group = self._new_group(fields['subject'], None, [person for person in people if person not in refused])
        reply = self._whapi_group(dict(group))
        if refused:
            reply['unprocessed_participants'] = refused  # GroupCreate (newer WHAPI spec)
        return Reply(201, reply)

    def _whapi_group_call(self, method, key, tail, fields):
        if self._find_group(key) is None:
            return self._error(404, 'Specified group not found')
        if tail == '/invite':
            if method == 'GET':
                return Reply(200, {'invite_code': self._find_group(key)['invite_code']})
            if method == 'DELETE':
                self._changing_group(key)['invite_code'] = self._new_invite_code()
                return Reply(200, {'success': True})
            return None
        if tail == '':
            if method != 'PUT' or not isinstance(fields, dict):
                return None if method != 'PUT' else self._error(400, 'Wrong request parameters')
            state = self._changing_group(key)
            if isinstance(fields.get('subject'), str):
                state['name'] = fields['subject']
            if isinstance(fields.get('description'), str):
                state['description'] = fields['description']
            return Reply(200, {'success': True})
        action = {('POST', '/participants'): 'add', ('DELETE', '/participants'): 'remove',
                  ('PATCH', '/admins'): 'promote', ('DELETE', '/admins'): 'demote'}.get((method, tail))
        if action is None:
            return None
        people, error = self._whapi_participants(fields)
        if error is not None:
            return error
        refused = [person for person in people if person in self._hidden_state()['refused']]
        done, failed = self._change_members(self._changing_group(key), [p for p in people if p not in refused], action)
        failed += refused
        if action == 'add':
            return Reply(200, {'success': not failed, 'failed': failed, 'processed': done})
        return Reply(200, {'success': not failed})

    # Wassenger operations ---------------------------------------------------------------
    def _wassenger_operation(self, method, path, query, headers, body):
        if path == '/messages' and method == 'POST':
            return self._wassenger_send(self._json_body(body))
        queued = re.match(r'^/messages/([0-9a-fA-F]{24})$', path)
        if queued and method == 'GET':
            return self._wassenger_queued(queued.group(1))
        if path == '/files' and method == 'POST':
            return self._wassenger_upload(headers, body)
        if path == '/numbers/exists' and method in ('POST', 'GET'):
            fields = self._json_body(body) if method == 'POST' else query
            phone = fields.get('phone') if isinstance(fields, dict) else None
            if not phone:
                return self._error(400, 'phone is required')
            digits = re.sub(r'\D', '', str(phone))
            exists = self._number_exists(digits)
            reply = {'exists': exists, 'phone': '+' + digits}
            if exists:
                reply['wid'] = digits + '@c.us'
            return Reply(200, reply)
        if path == '/webhooks' or path.startswith('/webhooks/'):
            return self._wassenger_webhook_call(method, path[len('/webhooks'):].strip('/'), query,
                                                self._json_body(body))
        groups = re.match(r'^/devices/([^/]+)/groups(?:/([^/]+)(/participants|/admins|/invite)?)?$', path)
        if groups and (method != 'GET' or groups.group(3) == '/invite'):
            if unquote(groups.group(1)) != self.device_id:
                return self._error(404, 'Device not found')
            fields = self._json_body(body)
            if groups.group(2) is None:
                return self._wassenger_create_group(fields) if method == 'POST' else None
            return self._wassenger_group_call(method, unquote(groups.group(2)), groups.group(3) or '', fields)
        return None

    def _wassenger_send(self, fields):
        if not isinstance(fields, dict):
            return self._error(400, 'Invalid body')
        targets = [name for name in ('phone', 'group', 'channel', 'chat') if fields.get(name)]
        if len(targets) != 1:
            return self._error(400, 'Exactly one of phone, group, channel or chat is required')
        if fields.get('device') and fields['device'] != self.device_id:
            return self._error(404, 'Device not found')
        media = fields.get('media') if isinstance(fields.get('media'), dict) else None
        if not fields.get('message') and media is None:
            return self._error(400, 'message or media is required')
        if media is not None and media.get('file') and media['file'] not in self.files:
            return self._error(404, 'File not found')
        target = str(fields[targets[0]])
        if targets[0] == 'phone':
            chat = re.sub(r'\D', '', target)
        elif targets[0] == 'group' and not target.endswith('@g.us'):
            chat = target + '@g.us'
        else:
            chat = target.split('@')[0] if target.endswith('@c.us') else target
        kind = 'text'
        if media is not None:
            mime = (self.files.get(media.get('file')) or {}).get('mime') or ''
            kind = 'voice' if media.get('format') == 'ptt' else (mime.split('/')[0] if mime else 'document')
            kind = kind if kind in ('image', 'video', 'audio', 'voice') else 'document'
        wa_id = self._message_id(900000000 + self._next())
        self._store_sent(chat, kind, fields.get('message'), wa_id)
        queue_id = '%024x' % (0xface000000000000000000 + self._next())
        reply = {'id': queue_id, 'waId': wa_id, targets[0]: fields[targets[0]], 'status': 'queued',
                 'deliveryStatus': 'queued', 'createdAt': _iso(int(time.time())),
                 'device': {'id': self.device_id}}
        for name in ('message', 'reference', 'media'):
            if name in fields:
                reply[name] = fields[name]
        self.queued[queue_id] = reply
        return Reply(201, reply)

    def _wassenger_upload(self, headers, body):
        content_type = headers.get('Content-Type') or ''
        if not content_type.startswith('multipart/form-data') or b'name="file"' not in body:
            return self._error(400, 'A multipart "file" field is required')
        name = re.search(rb'filename="([^"]*)"', body)
        mime = re.search(rb'name="file"[^\r\n]*\r\nContent-Type: *([^\r\n]+)', body)
        record = {'id': '%024x' % (0xf11e000000000000000000 + self._next()),
                  'filename': name.group(1).decode('utf-8', 'replace') if name else 'file',
                  'mime': mime.group(1).decode('ascii', 'replace') if mime else 'application/octet-stream',
                  'size': len(body), 'status': 'active', 'origin': 'upload'}
        self.files[record['id']] = record
        return Reply(201, [record])

    def _wassenger_webhook_call(self, method, webhook_id, query, fields):
        public = lambda hook: dict((key, value) for key, value in hook.items() if key != 'secret')  # noqa: E731
        if not webhook_id:
            if method == 'GET':
                return _wassenger_page([public(hook) for hook in self.webhooks.values()], query,
                                       self._page_cap('webhooks'))
            if method != 'POST':
                return None
            if not isinstance(fields, dict) or not fields.get('url'):
                return self._error(400, 'url is required')
            hook = {'id': '%024x' % (0xbeef000000000000000000 + self._next()), 'name': fields.get('name') or 'Webhook',
                    'url': fields['url'], 'events': list(fields.get('events') or []), 'status': 'active',
                    'device': {'id': fields.get('device') or self.device_id},
                    'createdAt': _iso(int(time.time())), 'secret': secrets.token_hex(24)}
            self.webhooks[hook['id']] = hook
            return Reply(201, dict(hook))
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            return self._error(404, 'Webhook not found')
        if method == 'PATCH':
            if not isinstance(fields, dict):
                return self._error(400, 'Invalid body')
            hook.update(dict((key, fields[key]) for key in ('name', 'url', 'events') if key in fields))
        elif method == 'DELETE':
            del self.webhooks[webhook_id]
        elif method != 'GET':
            return None
        return Reply(200, public(hook))

    def _wassenger_people(self, entries):
        """Person keys of ``[{phone: '+E164'}]`` (None when the body is not that)."""
        if not isinstance(entries, list) or not entries:
            return None
        people = []
        for entry in entries:
            phone = entry.get('phone') if isinstance(entry, dict) else None
            if not isinstance(phone, str) or not re.match(r'^\+\d{6,16}$', phone):
                return None
            people.append(phone[1:])
        return people

    def _wassenger_participant(self, person, rank):
        return {'wid': person + '@c.us', 'phone': '+' + person, 'isAdmin': rank in ('creator', 'admin'),
                'isSuperAdmin': rank == 'creator'}

    def _wassenger_create_group(self, fields):
        if not isinstance(fields, dict) or not isinstance(fields.get('name'), str):
            return self._error(400, 'name is required')
        people = self._wassenger_people(fields.get('participants'))
        if people is None:
            return self._error(400, 'participants must be a list of {phone: "+<E.164>"}')
        group = self._new_group(fields['name'], fields.get('description'), people)
        reply = self._wassenger_group(dict(group))
        reply['participants'] = [self._wassenger_participant(person, rank) for person, rank in group['members']]
        return Reply(201, reply)

    def _wassenger_group_call(self, method, key, tail, fields):
        if self._find_group(key) is None:
            return self._error(404, 'Group not found')
        if tail == '/invite':
            if method == 'DELETE':
                self._changing_group(key)['invite_code'] = self._new_invite_code()
            elif method != 'GET':
                return None
            code = self._find_group(key)['invite_code']
            return Reply(200, {'inviteCode': code, 'inviteLink': 'https://chat.whatsapp.com/%s' % code})
        action = {('POST', '/participants'): 'add', ('DELETE', '/participants'): 'remove',
                  ('POST', '/admins'): 'promote', ('DELETE', '/admins'): 'demote'}.get((method, tail))
        if action is None:
            return None
        people = self._wassenger_people(fields)
        if people is None:
            return self._error(400, 'the body must be a list of {phone: "+<E.164>"}')
        done, failed = self._change_members(self._changing_group(key), people, action)
        return Reply(200, [{'phone': '+' + person, 'wid': person + '@c.us', 'success': person in done}
                           for person in people])


    # -- hidden numbers ----------------------------------------------------------------
    #
    # WHAPI's hidden-number lookups, in their published shapes; group operations (digits
    # only, OpenAPI 1.8.7 ``ContactID``) are the stateful operations above.

    def hidden_id(self, person):
        """The hidden-number id WhatsApp gives ``person`` (a phone person key), for about
        one person in four of the generated ones, plus those set with :meth:`hide`."""
        known = self._hidden_state()['by_phone'].get(person)
        if known or not person.isdigit() or int(person) % 4 != 2:
            return known
        return '88%013d@lid' % (int(person) % 10 ** 13)

    def hide(self, phone, lid):
        """Make ``phone`` the person behind the hidden number ``lid``."""
        state = self._hidden_state()
        state['by_phone'][phone] = lid
        state['by_lid'][lid] = phone

    def _hidden_state(self):
        state = getattr(self, '_hidden', None)
        if state is None:
            # lid_lookup: whether GET /contacts/ids/{lid} is served (newer WHAPI only)
            # refused: person key -> why the provider leaves that person out of a group operation
            state = self._hidden = {'by_phone': {}, 'by_lid': {}, 'lid_lookup': True, 'refused': {}}
        return state

    def _phone_of_hidden(self, lid):
        state = self._hidden_state()
        if lid in state['by_lid']:
            return state['by_lid'][lid]
        for index in range(self.n_contacts):
            if self.hidden_id(self.contact_key(index)) == lid:
                return self.contact_key(index)
        return None

    def _hidden_number_lookup(self, method, path, query):
        """WHAPI's hidden-number lookups (and one contact by id); None for any other request.
        Group creation and participant changes are the stateful operations above."""
        if self.provider != 'whapi':
            return None
        state = self._hidden_state()
        if method == 'GET' and path == '/contacts/lids':
            ids = [value for value in query.get('ContactIDList', '').split(',') if value]
            if not ids or any(not _WHAPI_CONTACT_ID.match(value) for value in ids):
                return self._bad_participants(ids)
            # OpenAPI ``Lids``: a map from user id to ``Lid`` ({"lid"}); people without one are left out
            return Reply(200, {value: {'lid': self.hidden_id(value)} for value in ids if self.hidden_id(value)})
        match = re.match(r'^/contacts/ids/([^/]+)$', path)
        if method == 'GET' and match:
            phone = self._phone_of_hidden(unquote(match.group(1))) if state['lid_lookup'] else None
            if phone is None:
                return self._error(404, 'Specified user not found')
            return Reply(200, {'id': phone + '@s.whatsapp.net'})
        match = re.match(r'^/contacts/([^/]+)$', path)
        if method == 'GET' and match and match.group(1) != 'lids':
            contact_id = unquote(match.group(1))
            if not _WHAPI_CONTACT_ID.match(contact_id):
                return self._bad_participants([contact_id])
            for index in range(self.n_contacts):
                if self.contact_key(index) == contact_id:
                    return Reply(200, self._whapi_contact(self.contact(index)))
            return self._error(404, 'Specified user not found')
        return None

    def _bad_participants(self, participants):
        return Reply(400, {'error': {'code': 400, 'message': 'Wrong request parameters',
                                     'details': 'participants must match ^([\\d]{7,15})?$: %s'
                                                % json.dumps(participants)}})


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


#: WHAPI ``ContactID`` (OpenAPI 1.8.7): digits only
_WHAPI_CONTACT_ID = re.compile(r'^([\d]{7,15})?$')


def _valid_participants(participants):
    """``participants``: a non-empty list of ContactIDs (minItems 1)."""
    return (isinstance(participants, list) and participants
            and all(isinstance(value, str) and _WHAPI_CONTACT_ID.match(value) for value in participants))


def _json_or_none(body):
    try:
        return json.loads(body.decode('utf-8')) if body else None
    except ValueError:
        return None


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


def _queued_messages(account):
    """The Wassenger queued messages of an account (queue id -> S2 ``message``): the
    sends it took (``_wassenger_send``) and those a test queued (``queue_message``)."""
    return account.queued


def _wassenger_headers(body, secret):
    """A Wassenger delivery's headers: signed (S1's scheme) only when a secret is given,
    as S2 and Wassenger's own bot describe none."""
    headers = {'Content-Type': 'application/json'}
    if secret:
        headers['X-Wassenger-Signature'] = 'sha256=' + hmac.new(
            secret.encode(), body, hashlib.sha256).hexdigest()
    return headers


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
