"""The demo: its dataset (two believable WhatsApp accounts served by the local fake
provider) and its setup in an Odoo database (accounts, webhooks, users, first sync).

``./run-demo`` (through ``tools/demo.py``) uses it, and so does the screenshot tool
(``tools/screenshots.sh`` shoots ``./run-demo``; ``tools/screenshots.py`` logs in with
:data:`LOGINS`).

The dataset builds on ``tests/fake_provider_server.FakeAccount`` (deterministic data,
both providers' API shapes), with people's names, group names and texts a visitor
recognises, and every kind of message a chat holds (text, link, photo, video, GIF,
audio, voice note, document, sticker, location, live location, contact cards, poll,
reaction, call, group invite, system messages, and a kind this version does not know),
the media ones with their details (type, size, file name). Each account also answers
the provider's webhook registration (WHAPI ``GET``/``PATCH /settings``, Wassenger
``/webhooks``) and :meth:`DemoAccount.deliver` posts a new message to the registered
URL, authenticated as that provider does it.

Importable without Odoo: the setup functions import it when called.
"""
import json
import os
import random
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests'))

from fake_provider_server import (  # noqa: E402
    END_TIME, WASSENGER_PREFIX, FakeAccount, Reply, _wassenger_page)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_files import demo_file  # noqa: E402

FIRST_NAMES = ['Ana', 'Luis', 'Marta', 'Jorge', 'Lucía', 'Pablo', 'Sofía', 'Diego', 'Elena', 'Hugo', 'Carmen',
               'Javier', 'Laura', 'Mateo', 'Paula', 'Daniel', 'Irene', 'Álvaro', 'Noa', 'Raúl', 'Chloé', 'Amir',
               'Priya', 'Kenji', 'Fatima', 'Oliver', 'Emma', 'Lars', 'Ingrid', 'Tomasz']
LAST_NAMES = ['García', 'Martín', 'López', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz', 'Díaz', 'Moreno', 'Muñoz',
              'Dubois', 'Rossi', 'Müller', 'Novak', 'Khan', 'Tanaka', 'Singh', 'Silva', 'Berg', 'Kowalski']
GROUP_NAMES = ['Sales team', 'Support – escalations', 'Warehouse Madrid', 'VIP customers', 'Trade fair 2026',
               'Delivery drivers', 'Product launch', 'Store managers', 'Returns desk', 'Friday lunch']
TEXTS = [
    'Hi! Is the order {n} ready for pickup?', 'Thanks, received!', 'Can you send me the invoice?',
    'The delivery arrived damaged, the box was open.', 'What time do you open on Saturday?',
    'Perfect, see you tomorrow at 10:00.', 'Could we move the meeting to Thursday?',
    'Price list attached, valid until the end of the month.', 'Is the blue model back in stock?',
    'Payment done.', 'I would like to return item {n}.', 'Great service, thank you!',
    'The driver is 10 minutes away.', 'Please call me back when you can.', 'Order {n} confirmed.',
]
CAPTIONS = ['Photo of the damaged box', 'New arrivals in the shop window', 'Is it this one?', None,
            'The label of order {n}', 'Unboxing the new model', 'Stand B12 is ready!', None]
DOCUMENTS = ['Invoice {n}.pdf', 'Price list 2026.pdf', 'Delivery note {n}.pdf', 'Return form {n}.pdf',
             'Catalogue spring.pdf']
PLACES = [('Warehouse Madrid', 'Calle de Alcalá 120, Madrid', 40.4237, -3.6745),
          ('Shop Barcelona', 'Passeig de Gràcia 55, Barcelona', 41.3930, 2.1640),
          ('Trade fair, hall 8', 'Av. del Partenón 5, Madrid', 40.4636, -3.6160)]
POLLS = [('Which day suits you for the store visit?', ['Monday', 'Wednesday', 'Friday']),
         ('Team lunch on Friday?', ['Pizza', 'Sushi', 'Tapas'])]

#: the kinds of message of the demo, in the order they come back (one message of 30 is each
#: rare kind; texts, photos, voice notes and documents are the most common ones)
DEMO_TYPES = ('text', 'image', 'text', 'voice', 'link_preview', 'text', 'document', 'text', 'video',
              'sticker', 'text', 'location', 'image', 'reaction', 'text', 'audio', 'poll', 'contact',
              'text', 'gif', 'system', 'text', 'live_location', 'call', 'document', 'group_invite',
              'contact_list', 'voice', 'future_type', 'text')
#: delivery statuses of the messages sent, in turn (most were read)
OUT_STATUSES = ('read', 'delivered', 'read', 'read', 'sent', 'read', 'delivered', 'read', 'pending', 'read',
                'read', 'failed')
#: media kinds: (MIME type, file extension, smallest and largest size in bytes, seconds)
MEDIA = {
    'image': ('image/jpeg', 'jpg', 60000, 400000, None),
    'video': ('video/mp4', 'mp4', 900000, 12000000, (5, 90)),
    'gif': ('video/mp4', 'mp4', 150000, 900000, (2, 6)),
    'audio': ('audio/mpeg', 'mp3', 500000, 4000000, (30, 240)),
    'voice': ('audio/ogg; codecs=opus', 'ogg', 6000, 90000, (2, 75)),
    'document': ('application/pdf', 'pdf', 40000, 900000, None),
    'sticker': ('image/webp', 'webp', 12000, 60000, None),
}
#: who can log in to the demo: (login, password, what they see)
LOGINS = [('admin', 'admin', 'WhatsApp manager: every account, settings, tokens'),
          ('demo-user', 'demo-user', 'WhatsApp user of "Demo Shop (WHAPI)" only')]


def _stable(*parts):
    """A number that depends only on ``parts`` (``hash()`` of a str changes per process)."""
    return zlib.crc32('|'.join(str(part) for part in parts).encode('utf-8'))


class DemoAccount(FakeAccount):
    """A FakeAccount whose people, groups and messages read like a real business's, that
    takes webhook registrations and posts new messages to the registered webhooks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the messages span the days up to today (midnight UTC), not up to the tests' fixed date
        self._start = int(time.time()) // 86400 * 86400 - self.days * 86400
        self.whapi_webhooks = []       # WHAPI: the channel settings' ``webhooks`` entries
        self.sends = 0                 # messages sent to this account (answers from Discuss)
        self.wassenger_webhooks = {}   # Wassenger: webhook id -> webhook (its secret included)

    # -- people, groups, messages ----------------------------------------------------
    def contact(self, index):
        contact = super().contact(index)
        if index not in self.contact_names:
            # every (first, last) pair once for the first few hundred people
            contact['name'] = '%s %s' % (
                FIRST_NAMES[index % len(FIRST_NAMES)],
                LAST_NAMES[(index // len(FIRST_NAMES) + index * 7 + self.seed) % len(LAST_NAMES)])
        contact['pushname'] = contact['name'].split()[0]
        return contact

    def group(self, index):
        group = super().group(index)
        group['name'] = GROUP_NAMES[(index + self.seed) % len(GROUP_NAMES)]
        group['description'] = 'WhatsApp group of the %s' % group['name'].lower()
        return group

    def _person_name(self, key):
        for index in range(self.n_contacts):
            if self.contact_key(index) == key:
                return self.contact(index)['name']
        return '+' + key

    def message(self, index):
        message = super().message(index)
        if index >= self.n_messages:
            return message
        kind = DEMO_TYPES[(index + self.seed) % len(DEMO_TYPES)]
        order = 'S%05d' % (index + 100)
        body = None
        if kind == 'text':
            body = TEXTS[(index * 5 + self.seed) % len(TEXTS)].format(n=order)
        elif kind in ('image', 'video', 'gif'):
            caption = CAPTIONS[(index + self.seed) % len(CAPTIONS)]
            body = caption.format(n=order) if caption else None
        elif kind == 'link_preview':
            body = 'Our new catalogue: https://example.com/catalogue/%d' % (index % 7 + 1)
        elif kind == 'live_location':
            body = 'On my way to the shop'
        elif kind == 'group_invite':
            body = 'Join the group "%s"' % GROUP_NAMES[(index + self.seed) % len(GROUP_NAMES)]
        elif kind == 'system':
            if message['chat_type'] == 'group':
                body = '%s joined using this group\'s invite link' % self._person_name(message['sender'])
            else:
                body = 'Messages and calls are end-to-end encrypted.'
            message.update(from_me=False, status=None)
            if message['chat_type'] != 'group':
                message['sender'] = message['chat']
        message.update(type=kind, body=body)
        if message['from_me'] and kind != 'system':
            status = OUT_STATUSES[(index // 4 + self.seed) % len(OUT_STATUSES)]
            if status == 'read' and kind in ('voice', 'audio', 'video') and index % 3:
                status = 'played'  # only what plays is "played"
            message['status'] = status
        return message

    def new_inbound(self, rng=random):
        """A new text from one of the account's people, now: appended to the provider's
        data (a later sync meets it again) and returned."""
        message = self.append_messages(1)[0]
        person = self.contact_key(rng.randrange(self.n_contacts))
        message.update(chat=person, chat_type='contact', sender=person, from_me=False, type='text',
                       status='delivered', body=rng.choice(TEXTS).format(n='S%05d' % rng.randrange(100000)),
                       ts=max(message['ts'], int(time.time())))
        return message

    def conversation(self):
        """A customer's live exchange for Discuss, newest messages of the account: a text, a
        photo, a voice note (WHAPI) or a document (Wassenger), the shop's question from the
        phone, and the customer's answer quoting it. Appended to the provider's data (a later
        sync meets them again) and returned in order."""
        person = self.contact_key(PARTNER_CONTACTS[0] if self.provider == 'whapi' else 1)
        whapi = self.provider == 'whapi'
        script = [
            (False, 'text', 'Hi! My suitcase arrived damaged \U0001F61E' if whapi else 'Hello, I was charged twice.'),
            (False, 'image', 'Photo of the damaged suitcase') if whapi else (False, 'document', None),
            (False, 'voice', None) if whapi else (False, 'text', 'Here is the invoice, see the two lines.'),
            (True, 'text', 'So sorry! Is the handle broken too?' if whapi else 'Thanks, checking. Was it by card?'),
            (False, 'text', 'Yes, the handle too.' if whapi else 'Yes, the same card both times.'),
        ]
        messages = self.append_messages(len(script))
        now = int(time.time()) + 1  # after the accounts turned Conversations in Discuss on
        for number, (message, (from_me, kind, body)) in enumerate(zip(messages, script)):
            message.update(chat=person, chat_type='contact', sender=self.own if from_me else person, from_me=from_me,
                           type=kind, body=body, status='read' if from_me else 'delivered', ts=now + number)
        messages[-1]['quoted'] = messages[-2]['id']
        return messages

    # -- each kind of message, in each provider's shape ---------------------------------
    def _media(self, message):
        kind = message['type']
        mime, extension, smallest, largest, seconds = MEDIA[kind]
        number = _stable(self.seed, message['id'])
        details = {'id': '%s-%016x' % (extension, _stable(message['id'], 'media') << 32 | number),
                   'mime': mime, 'size': smallest + number % (largest - smallest),
                   'link': 'https://media.example.com/%s/%s.%s' % (self.provider, message['id'], extension)}
        if seconds:
            details['seconds'] = seconds[0] + number % (seconds[1] - seconds[0])
        if kind == 'document':
            details['filename'] = DOCUMENTS[number % len(DOCUMENTS)].format(n='S%05d' % (number % 90000 + 100))
        return details

    def _extras(self, message):
        """What a kind without media carries: [(WHAPI container), (Wassenger type, fields)]."""
        kind = message['type']
        number = _stable(self.seed, message['id'])
        if kind in ('location', 'live_location'):
            name, address, latitude, longitude = PLACES[number % len(PLACES)]
            whapi = {'latitude': latitude, 'longitude': longitude}
            if kind == 'location':
                whapi.update(name=name, address=address)
            else:
                whapi.update(accuracy=12, speed=4, caption=message['body'])
            # Wassenger's documented types name no live location: a location, marked live
            return whapi, ('location', {'location': dict(whapi, coordinates=[latitude, longitude],
                                                         live=kind == 'live_location')})
        if kind == 'poll':
            title, options = POLLS[number % len(POLLS)]
            votes = [{'name': option, 'count': (number >> shift) % 5} for shift, option in enumerate(options)]
            return ({'title': title, 'options': [option['name'] for option in votes], 'results': votes},
                    ('poll', {'poll': {'name': title, 'options': votes}}))
        if kind == 'reaction':
            target = self._message_id(max(0, self._index_of(message) - 1))
            return {'message_id': target, 'emoji': '\U0001F44D'}, ('reaction', {'reaction': {
                'emoji': '\U0001F44D', 'message': target}})
        if kind in ('contact', 'contact_list'):
            people = [self.contact((number + step) % self.n_contacts) for step in range(1 if kind == 'contact' else 3)]
            cards = [{'name': person['name'], 'vcard': 'BEGIN:VCARD\nVERSION:3.0\nFN:%s\nTEL;type=CELL;waid=%s:+%s\n'
                      'END:VCARD' % (person['name'], person['id'], person['id'])} for person in people]
            if kind == 'contact':
                return cards[0], ('vcard', {'contacts': cards})
            return {'list': cards}, ('multi_vcard', {'contacts': cards})
        if kind == 'call':
            return {'status': 'missed', 'video': bool(number % 2)}, ('call_log', {'call': {'status': 'missed'}})
        if kind == 'group_invite':
            code = 'Inv%08x' % number
            return ({'body': message['body'], 'url': 'https://chat.whatsapp.com/%s' % code, 'title': 'Group invite'},
                    ('group_invite', {'invite': {'code': code}}))
        return None, None

    def _index_of(self, message):
        for index in range(self.n_messages):
            if self._message_id(index) == message['id']:
                return index
        return 0

    def _whapi_message(self, message):
        item = super()._whapi_message(message)
        kind = message['type']
        if kind in MEDIA:
            media = self._media(message)
            container = {'id': media['id'], 'mime_type': media['mime'], 'file_size': media['size'],
                         'sha256': '%064x' % _stable(media['id']), 'link': media['link']}
            if 'seconds' in media:
                container['seconds'] = media['seconds']
            if 'filename' in media:
                container['file_name'] = media['filename']
            if message['body']:
                container['caption'] = message['body']
            item[kind] = container
        elif kind in ('text', 'link_preview', 'system'):
            pass
        else:
            whapi, _wassenger = self._extras(message)
            if whapi is not None:
                item[kind] = whapi
        if message.get('quoted'):
            item['context'] = {'quoted_id': message['quoted'], 'quoted_type': 'text'}
        return item

    def _wassenger_message(self, message):
        item = super()._wassenger_message(message)
        kind = message['type']
        if kind in MEDIA:
            media = self._media(message)
            item['type'] = {'voice': 'audio', 'gif': 'video'}.get(kind, kind)
            item['media'] = {'id': media['id'], 'type': item['type'], 'mime': media['mime'], 'size': media['size'],
                             'format': {'voice': 'ptt', 'gif': 'gif'}.get(kind, 'native'),
                             'extension': media['link'].rsplit('.', 1)[1], 'links': {'download': media['link']}}
            if 'filename' in media:
                item['media']['filename'] = media['filename']
            if 'seconds' in media:
                item['media']['duration'] = media['seconds']
            if message['body']:
                item['media']['caption'] = message['body']
        elif kind not in ('text', 'link_preview', 'system'):
            _whapi, wassenger = self._extras(message)
            if wassenger is not None:
                item['type'] = wassenger[0]
                item.update(wassenger[1])
        if message.get('quoted'):
            item['quoted'] = {'id': message['quoted'], 'wid': message['quoted'], 'type': 'text'}
        return item

    # -- webhook registration, as each provider takes it ---------------------------------
    def handle(self, method, path, query, headers, body=b''):
        if self.provider == 'whapi' and path == '/settings':
            return self._whapi_settings(method, body)
        served = self._conversation_call(method, path, body)
        if served is not None:
            return served
        if self.provider == 'wassenger' and (path == WASSENGER_PREFIX + '/webhooks'
                                             or path.startswith(WASSENGER_PREFIX + '/webhooks/')):
            return self._wassenger_webhooks(method, path[len(WASSENGER_PREFIX + '/webhooks'):], query, body)
        return super().handle(method, path, query, headers, body)

    def _conversation_call(self, method, path, body):
        """What answering from Discuss needs: media files, sends, read marks; None for the rest."""
        whapi = self.provider == 'whapi'
        prefix = '' if whapi else WASSENGER_PREFIX
        media = re.match(r'^/media/([^/]+)$', path) if whapi else re.match(
            r'^%s/chat/[^/]+/files/([^/]+)/download$' % WASSENGER_PREFIX, path)
        if media and method == 'GET':
            served = demo_file(media.group(1))
            if served is None:
                return self._error(404, 'Media not found')
            return Reply(200, raw=served[0], headers={'Content-Type': served[1]})
        if whapi and method == 'PUT' and re.match(r'^/messages/[^/]+$', path):
            return Reply(200, {'success': True})
        if method == 'POST' and (whapi and path.startswith('/messages/') or path == prefix + '/messages'):
            self.sends += 1
            if whapi:
                return Reply(201, {'sent': True, 'message': {'id': 'demo-out-%06d' % self.sends, 'status': 'pending',
                                                             'timestamp': int(time.time())}})
            return Reply(201, {'id': '%024x' % secrets.randbits(96), 'waId': 'DEMO%016X' % self.sends,
                               'status': 'queued', 'deliveryStatus': 'queued'})
        if not whapi and method == 'POST' and path == prefix + '/files':
            return Reply(201, [{'id': '%024x' % secrets.randbits(96)}])
        return None

    def _json(self, body):
        try:
            value = json.loads(body.decode('utf-8') or 'null')
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _whapi_settings(self, method, body):
        settings = {'webhooks': list(self.whapi_webhooks), 'callback_persist': True,
                    'media': {'auto_download': ['image', 'document']}}
        if method == 'GET':
            return Reply(200, settings)
        changes = self._json(body)
        if method != 'PATCH' or changes is None or not isinstance(changes.get('webhooks', []), list):
            return self._error(400, 'Invalid settings')
        if 'webhooks' in changes:
            self.whapi_webhooks = [hook for hook in changes['webhooks'] if isinstance(hook, dict)]
        return Reply(200, {'before_update': settings, 'changes': sorted(changes),
                           'after_update': dict(settings, webhooks=list(self.whapi_webhooks))})

    def _wassenger_webhooks(self, method, rest, query, body):
        listed = [{key: value for key, value in hook.items() if key != 'secret'}
                  for hook in self.wassenger_webhooks.values()]
        if rest == '' and method == 'GET':
            return _wassenger_page(listed, query)
        fields = self._json(body) if method in ('POST', 'PATCH') else {}
        if fields is None:
            return self._error(400, 'Invalid JSON body')
        if rest == '' and method == 'POST':
            if not fields.get('url'):
                return self._error(400, 'url is required')
            hook = {'id': '%024x' % secrets.randbits(96), 'name': fields.get('name') or 'Webhook',
                    'url': fields['url'], 'events': list(fields.get('events') or []), 'status': 'active',
                    'device': {'id': fields.get('device') or self.device_id},
                    'createdAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                    'secret': secrets.token_hex(24)}
            self.wassenger_webhooks[hook['id']] = hook
            return Reply(201, dict(hook))
        hook = self.wassenger_webhooks.get(rest.strip('/'))
        if hook is None:
            return self._error(404, 'Webhook not found')
        if method == 'PATCH':
            hook.update({key: fields[key] for key in ('name', 'url', 'events') if key in fields})
        elif method == 'DELETE':
            del self.wassenger_webhooks[hook['id']]
        elif method != 'GET':
            return self._error(405, 'Method not allowed')
        return Reply(200, {key: value for key, value in hook.items() if key != 'secret'})

    def registered_webhooks(self):
        """[(URL, secret or None, extra headers)] the provider calls for a new inbound message."""
        if self.provider == 'whapi':
            return [(hook.get('url'), None, dict(hook.get('headers') or {})) for hook in self.whapi_webhooks
                    if hook.get('url') and {'type': 'messages', 'method': 'post'} in (hook.get('events') or [])]
        return [(hook['url'], hook['secret'], {}) for hook in self.wassenger_webhooks.values()
                if 'message:in:new' in hook['events']]

    def deliver(self, message, timeout=30):
        """POST ``message`` to every registered webhook as this provider does (WHAPI: the
        registration's own headers; Wassenger: signed with the secret it issued);
        return [(URL, HTTP status)]."""
        delivered = []
        for url, secret, extra_headers in self.registered_webhooks():
            body, headers = self.webhook_delivery(message, secret or '')
            if self.provider == 'whapi':
                headers = dict({'Content-Type': 'application/json'}, **extra_headers)
            request = urllib.request.Request(url, data=body, headers=headers, method='POST')
            try:
                with urllib.request.urlopen(request, timeout=timeout) as reply:
                    delivered.append((url, reply.status))
            except urllib.error.HTTPError as error:
                delivered.append((url, error.code))
            except (urllib.error.URLError, OSError) as error:
                delivered.append((url, str(getattr(error, 'reason', error))))
        return delivered


def demo_accounts():
    """The demo accounts: [(display name, DemoAccount)]. The provider serves the first
    :data:`SERVED`; the last one's token was revoked (the provider refuses it), to show
    how an account in trouble looks."""
    return [
        ('Demo Shop (WHAPI)', DemoAccount('whapi', 'demo-whapi-token', seed=1, contacts=120, groups=6,
                                          members=10, messages=400, days=14)),
        ('Demo Support (Wassenger)', DemoAccount('wassenger', 'demo-wassenger-token', seed=2, contacts=80,
                                                 groups=4, members=8, messages=300, days=14)),
        ('Demo Old Number (WHAPI)', DemoAccount('whapi', 'demo-revoked-token', seed=3, contacts=5, groups=1,
                                                members=3, messages=10, days=14)),
    ]


#: the provider serves these demo accounts (the others' tokens are refused)
SERVED = 2

#: people of the first demo account who are partners in Odoo already (linked by number)
PARTNER_CONTACTS = (0, 3, 7, 12, 20)


# ----------------------------------------------------------------------------------------
# Setup in an Odoo database (called from Odoo's Python, with the addon installed)
# ----------------------------------------------------------------------------------------
def configure(registry, server, base_url, slow_messages=0):
    """Accounts, their webhooks, users and partners of the demo, against ``server`` (a
    running FakeProviderServer), for an Odoo that will serve on ``base_url``. Run again
    on every start: a kept database follows the new ports. Returns [(account id,
    DemoAccount)] of the served accounts."""
    from odoo import SUPERUSER_ID, api

    accounts = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {'tracking_disable': True})
        env['ir.config_parameter'].set_param('web.base.url', base_url)
        env['ir.config_parameter'].set_param('web.base.url.freeze', 'True')
        env.ref('base.user_admin').write({'password': LOGINS[0][1], 'tz': demo_time_zone()})
        Configuration = env['whatsapp.configuration'].with_context(active_test=False)
        for index, (name, remote) in enumerate(demo_accounts()):
            if index < SERVED:
                server.add(remote)
                if slow_messages:
                    remote.faults.update(delay=slow_messages, delay_path='messages')
            else:
                remote.server = server  # its base URL; the server refuses its token
            values = {'name': name, 'provider': remote.provider, 'token': remote.token,
                      'api_url': remote.base_url, 'active': True, 'post_to_chatter': False,
                      'discuss_enabled': True, 'mark_read_in_whatsapp': True,
                      'user_ids': [(4, env.ref('base.user_admin').id)]}
            if remote.provider == 'wassenger':
                values['device_id'] = remote.device_id
            account = Configuration.search([('name', '=', name)], limit=1)
            if account:
                account.write(values)
            else:
                account = Configuration.create(values)
            accounts.append((account, remote))
        login, password, _what = LOGINS[1]
        user = env['res.users'].with_context(active_test=False).search([('login', '=', login)])
        if not user:
            user = env['res.users'].create({
                'name': 'Demo User', 'login': login, 'email': '%s@example.com' % login,
                'groups_id': [(6, 0, [env.ref('base.group_user').id,
                                      env.ref('whatsapp_integration.group_whatsapp_user').id])]})
        user.write({'password': password, 'active': True, 'tz': demo_time_zone()})
        accounts[0][0].write({'user_ids': [(4, user.id)]})
        shop = accounts[0][1]
        Partner = env['res.partner']
        for index in PARTNER_CONTACTS:
            mobile = '+' + shop.contact_key(index)
            if not Partner.search([('mobile', '=', mobile)], limit=1):
                Partner.create({'name': shop.contact(index)['name'], 'mobile': mobile})
        cr.commit()
        # as a manager does it: Test Connection, then Register Webhook (served accounts)
        for position, (account, _remote) in enumerate(accounts):
            account.action_test_connection()
            if position < SERVED:
                register_webhook(account)
        return [(account.id, remote) for account, remote in accounts[:SERVED]]


def demo_time_zone():
    """The demo users' time zone: $WHATSAPP_DEMO_TZ, else this machine's (the browser
    that opens the demo usually runs here), else UTC. Odoo 14's web client shows times
    in the browser's zone and the server writes texts in the user's: the two agree."""
    wanted = os.environ.get('WHATSAPP_DEMO_TZ') or os.environ.get('TZ', '').lstrip(':')
    if not wanted:
        try:
            target = os.path.realpath('/etc/localtime')
            wanted = target.split('/zoneinfo/', 1)[1] if '/zoneinfo/' in target else ''
        except OSError:
            wanted = ''
    try:
        import pytz  # Odoo's own list of zones, in Odoo's Python
        known = wanted in pytz.all_timezones_set
    except ImportError:
        known = bool(wanted) and os.path.isfile(os.path.join('/usr/share/zoneinfo', wanted))
    return wanted if known else 'UTC'


def register_webhook(account):
    """The account's Register Webhook button, against the local fake provider. The button
    refuses a URL a provider on the internet could not call (this demo's is on
    127.0.0.1); the local provider can call it, so that check is lifted here."""
    from unittest import mock

    from odoo.addons.whatsapp_integration.models import whatsapp_configuration

    with mock.patch.object(whatsapp_configuration, '_unreachable_reason', return_value=None):
        result = account.action_register_webhook()
    params = result.get('params', {})
    if params.get('type') != 'success':
        raise RuntimeError('%s: %s: %s' % (account.name, params.get('title'), params.get('message')))


def live_conversations(registry, accounts):
    """Each served account's customer writes in (through its webhook, as the provider does),
    then the download step fetches the files: Discuss shows a live conversation."""
    from odoo import SUPERUSER_ID, api

    delivered = []
    for _account_id, remote in accounts:
        for message in remote.conversation():
            delivered += [status for _url, status in remote.deliver(message)]
    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})['whatsapp.message']._cron_download_media(time_budget=60)
    return delivered


def first_sync(registry):
    """The first full sync of every account, as the scheduled sync does it."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)


__all__ = ['DemoAccount', 'demo_accounts', 'configure', 'register_webhook', 'first_sync', 'live_conversations',
           'LOGINS', 'SERVED',
           'PARTNER_CONTACTS', 'END_TIME']
