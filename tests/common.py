# -*- coding: utf-8 -*-
"""Shared fixtures: a fake provider client patched in at the client seam.

The fake speaks the provider layer's interface (pages of canonical records),
so these tests exercise every line above ``providers/`` without a network.
"""
import datetime
import os
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests.common import HttpCase, SavepointCase, new_test_user

from odoo.addons.whatsapp_integration import providers
from odoo.addons.whatsapp_integration.providers import (
    Contact, Group, Media, Member, Message, Page)

UTC = datetime.timezone.utc
BASE_TIME = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class FakeAccount(object):
    """One remote account's ground truth, plus switchable faults."""

    def __init__(self, page_size=25):
        self.page_size = page_size
        self.contacts = []
        self.groups = []            # Group records with members
        self.list_members = True    # listing carries participants (WHAPI-like)
        self.messages = []
        self.fail_with = None       # exception raised by every call
        self.fail_messages_after_pages = None
        self.requests = []
        self.skipped_contacts = []  # Skipped entries reported with the first contacts page
        self.sent = []              # (to, body or caption, file name) of each send
        self.refuse_sends_to = {}   # target -> error message
        self.webhook = None         # (url, secret) registered
        self.refuse_participants = {}  # person key -> reason the provider refuses them
        self.whatsapp_numbers = set()  # numbers check_numbers says exist
        self.invite_serial = 0
        self.files = {}             # media id -> (bytes, content type, file name)
        self.file_faults = {}       # media id -> exception raised by its download
        self.downloads = []         # media ids downloaded
        self.sent_quotes = []       # quoted id of each send (None when none)
        self.marked_read = []       # (chat id, message id) marked read
        self.echo_references = False  # sends answer with a reference (as Wassenger's do)
        self.queue_statuses = {}    # sent id -> StatusUpdate get_message_status answers
        self.status_asked = []      # ids get_message_status was asked about
        self.issues_no_secret = False  # register_webhook answers no secret (as Wassenger's spec)

    def add_contacts(self, count, start=0, prefix='3460000'):
        for number in range(start, start + count):
            self.contacts.append(Contact(
                contact_id='%s%04d' % (prefix, number), phone='+%s%04d' % (prefix, number),
                phone_valid=True, name='Contact %d' % number, pushname='Push %d' % number))

    def add_group(self, group_id, name, members):
        group = Group(group_id=group_id, name=name, description='About %s' % name,
                      invite_code='code-%s' % name, members=list(members))
        self.groups.append(group)
        return group

    def add_messages(self, count, start_minutes=0, chat_id='34600000000', chat_type='contact',
                     sender_id=None, prefix='msg'):
        added = []
        for number in range(count):
            minutes = start_minutes + number
            added.append(Message(
                message_id='%s-%d-%d' % (prefix, start_minutes, number), chat_id=chat_id,
                chat_type=chat_type, timestamp=BASE_TIME + datetime.timedelta(minutes=minutes),
                from_me=number % 3 == 0, sender_id=sender_id or chat_id, message_type='text',
                raw_type='text', body='Message %d' % minutes, status='delivered'))
        self.messages.extend(added)
        return added


class FakeProviderClient(object):
    """Pages through a FakeAccount the way the real clients page through a provider."""

    def __init__(self, account):
        self.account = account

    def _call(self, name):
        self.account.requests.append(name)
        if self.account.fail_with is not None:
            raise self.account.fail_with

    def _pages(self, name, items):
        size = self.account.page_size
        self._call(name)
        yield Page(items=list(items[:size]))
        for start in range(size, len(items), size):
            self._call(name)
            yield Page(items=list(items[start:start + size]))

    def close(self):
        pass

    def check_connection(self):
        self._call('health')
        return providers.AccountInfo(connected=True, status='AUTH', phone='+34600999999', name='Fake')

    def iter_contacts(self):
        for number, page in enumerate(self._pages('contacts', self.account.contacts)):
            if number == 0:
                page.skipped = list(self.account.skipped_contacts)
            yield page

    def iter_groups(self):
        groups = self.account.groups
        if not self.account.list_members:
            groups = [Group(group_id=g.group_id, name=g.name, description=g.description,
                            invite_code=g.invite_code, members=None) for g in groups]
        return self._pages('groups', groups)

    get_groups = providers.ProviderClient.get_groups  # the real one, over this get_group

    def get_group(self, group_id):
        self._call('group')
        for group in self.account.groups:
            if group.group_id == group_id:
                return group
        raise providers.NotFoundError('Group not found', 404)

    def iter_messages(self, since=None, limit=None):
        messages = sorted(self.account.messages, key=lambda m: m.timestamp, reverse=True)
        if since is not None:
            messages = [m for m in messages if m.timestamp >= since]
        elif limit:
            messages = messages[:limit]
        for number, page in enumerate(self._pages('messages', messages)):
            failing = self.account.fail_messages_after_pages
            if failing is not None and number >= failing:
                raise providers.TransientError('Provider unavailable', 503)
            yield page


    def send_text(self, to, body, quoted_id=None):
        return self._send(to, body, None, quoted_id)

    def send_media(self, to, file_bytes=None, file_name=None, mime_type=None, url=None, caption=None,
                   media_type=None, quoted_id=None):
        return self._send(to, caption, file_name, quoted_id)

    def _send(self, to, text, file_name, quoted_id=None):
        self._call('send')
        if to in self.account.refuse_sends_to:
            raise providers.RequestRejectedError(self.account.refuse_sends_to[to], 403)
        self.account.sent.append((to, text, file_name))
        self.account.sent_quotes.append(quoted_id)
        number = len(self.account.sent)
        return providers.SendResult(message_id='sent-%d' % number, status='pending',
                                    reference='ref-%d' % number if self.account.echo_references else None)

    def get_message_status(self, message_id):
        self._call('message_status')
        self.account.status_asked.append(message_id)
        if message_id not in self.account.queue_statuses:
            raise providers.NotFoundError('Message not found', 404)
        return self.account.queue_statuses[message_id]

    def download_media(self, media, sink, max_bytes=None):
        """As the real clients: streamed in chunks, the cap enforced, faults per media id."""
        self._call('download')
        key = media.media_id or media.url
        self.account.downloads.append(key)
        if key in self.account.file_faults:
            raise self.account.file_faults[key]
        if key not in self.account.files:
            raise providers.NotFoundError('Media not found', 404)
        data, content_type, file_name = self.account.files[key]
        if max_bytes is not None and len(data) > max_bytes:
            raise providers.errors.FileTooLargeError('too big', 200)
        for start in range(0, len(data), 4096):
            sink.write(data[start:start + 4096])
        return providers.records.DownloadedFile(size=len(data), content_type=content_type, file_name=file_name)

    def mark_read(self, chat_id, message_id):
        self._call('mark_read')
        self.account.marked_read.append((chat_id, message_id))

    def register_webhook(self, url, secret):
        self._call('register_webhook')
        self.account.webhook = (url, secret)
        return providers.WebhookRegistration(
            webhook_id='hook-1', secret=None if self.account.issues_no_secret else secret, url=url)


    def get_contact(self, contact_id):
        self._call('contact')
        for contact in self.account.contacts:
            if contact.contact_id == contact_id:
                return contact
        raise providers.NotFoundError('Contact not found', 404)

    def resolve_hidden_numbers(self, hidden_ids, candidates=()):
        """``account.hidden_numbers`` ({hidden id: phone key}) says who is behind them."""
        self._call('resolve_hidden_numbers')
        known = getattr(self.account, 'hidden_numbers', {})
        return {lid: known[lid] for lid in hidden_ids if lid in known}

    def create_group(self, name, participants, description=None):
        self._call('create_group')
        added = [key for key in participants if key not in self.account.refuse_participants]
        refused = [(key, self.account.refuse_participants[key]) for key in participants
                   if key in self.account.refuse_participants]
        group = self.account.add_group('120363%09d@g.us' % (len(self.account.groups) + 1), name,
                                       [Member(contact_id=key) for key in added])
        group.description = description
        return providers.GroupCreation(group=Group(group_id=group.group_id, name=name), added=added,
                                       refused=refused)

    def update_participants(self, group_id, person_keys, action):
        self._call('participants')
        group = self.get_group(group_id)
        done = [key for key in person_keys if key not in self.account.refuse_participants]
        refused = [(key, self.account.refuse_participants[key]) for key in person_keys
                   if key in self.account.refuse_participants]
        if action == 'add':
            group.members.extend(Member(contact_id=key) for key in done)
        elif action == 'remove':
            group.members = [m for m in group.members if m.contact_id not in done]
        else:
            for m in group.members:
                if m.contact_id in done:
                    m.role = 'admin' if action == 'promote' else 'member'
        return providers.ParticipantsResult(done=done, refused=refused)

    def get_invite_code(self, group_id):
        self._call('invite')
        code = 'INV%d%s' % (self.account.invite_serial, group_id[-8:-5])
        return providers.InviteLink(code=code, url='https://chat.whatsapp.com/%s' % code)

    def revoke_invite_code(self, group_id):
        self.account.invite_serial += 1
        return self.get_invite_code(group_id)

    def check_numbers(self, phones):
        self._call('check_numbers')
        return [providers.NumberCheck(input=phone, person_key=phone.lstrip('+') if phone in
                                      self.account.whatsapp_numbers else None,
                                      exists=phone in self.account.whatsapp_numbers) for phone in phones]


class WhatsappCase(SavepointCase):
    """Two accounts (one per provider), a fake remote per account, and users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Configuration = cls.env['whatsapp.configuration']
        cls.config_a = Configuration.create({
            'name': 'Account A', 'provider': 'whapi', 'token': 'secret-token-a'})
        cls.config_b = Configuration.create({
            'name': 'Account B', 'provider': 'wassenger', 'token': 'secret-token-b',
            'device_id': '0123456789abcdef01234567'})
        (cls.config_a | cls.config_b).write({'connection_state': 'connected'})
        cls.user = new_test_user(cls.env, login='wa_user', groups='whatsapp_integration.group_whatsapp_user')
        cls.manager = new_test_user(
            cls.env, login='wa_manager', groups='whatsapp_integration.group_whatsapp_manager')
        cls.service = cls.env['whatsapp.sync.service']._get_service()

    def setUp(self):
        super().setUp()
        self.remote = remote = {self.config_a.id: FakeAccount(), self.config_b.id: FakeAccount()}

        def make_client(configuration):
            return FakeProviderClient(remote[configuration.id])

        patcher = patch.object(type(self.env['whatsapp.configuration']), '_make_provider_client', make_client)
        patcher.start()
        self.addCleanup(patcher.stop)
        if 'queue.job' in self.env.registry:
            # The CI's queue_job pass: every job the tests enqueue runs at once, in the
            # test transaction, so each scheduled-run test goes through the job method.
            environ = patch.dict(os.environ, QUEUE_JOB__NO_DELAY='1')
            environ.start()
            self.addCleanup(environ.stop)

    def account_users(self, prefix):
        """A WhatsApp user of account A and one of account B, each allowed on their own account only."""
        users = []
        for suffix, configuration in (('a', self.config_a), ('b', self.config_b)):
            user = new_test_user(self.env, login='%s_%s' % (prefix, suffix),
                                 groups='whatsapp_integration.group_whatsapp_user')
            configuration.user_ids = [(4, user.id)]
            users.append(user)
        return users

    @property
    def remote_a(self):
        return self.remote[self.config_a.id]

    @property
    def remote_b(self):
        return self.remote[self.config_b.id]

    def stored(self, model, configuration):
        return self.env[model].search([('configuration_id', '=', configuration.id)])

    def last_log(self, configuration):
        return self.env['whatsapp.sync.log'].search([('configuration_id', '=', configuration.id)], limit=1)

    @contextmanager
    def assertNoWrites(self, *model_names):
        """Fail if any of these models gets a create or write inside the block."""
        calls = []
        patches = []
        for name in model_names:
            model_class = type(self.env[name])
            for method in ('create', 'write'):
                original = getattr(model_class, method)

                def spy(records, *args, _original=original, _label='%s.%s' % (name, method), **kwargs):
                    calls.append(_label)
                    return _original(records, *args, **kwargs)
                patches.append(patch.object(model_class, method, spy))
        for patcher in patches:
            patcher.start()
        try:
            yield calls
        finally:
            for patcher in patches:
                patcher.stop()
        self.assertEqual(calls, [], 'expected no create/write, got %s' % calls)


def member(contact_id, role='member'):
    return Member(contact_id=contact_id, role=role, phone='+%s' % contact_id, phone_valid=True)


def media(mime='image/jpeg'):
    return Media(media_id='media-1', mime_type=mime, file_name='photo.jpg', file_size=1234)


class ServedCase(SavepointCase):
    """Accounts whose real provider clients talk HTTP to a local fake provider server
    (``fake_provider_server``), the only other accounts archived. Subclasses add their
    remote accounts with ``cls.server.add(FakeAccount(...))``."""

    @classmethod
    def setUpClass(cls):
        from .fake_provider_server import FakeProviderServer
        super().setUpClass()
        cls.server = FakeProviderServer().start()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env['whatsapp.configuration'].search([]).write({'active': False})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    @classmethod
    def served_account(cls, name, provider, token, device_id=None):
        """An account on the fake server, connected (scheduled runs skip untested accounts)."""
        values = {'name': name, 'provider': provider, 'token': token, 'connection_state': 'connected',
                  'api_url': cls.server.url if provider == 'whapi' else cls.server.url + '/v1'}
        if device_id:
            values['device_id'] = device_id
        return cls.env['whatsapp.configuration'].create(values)


class TourCase(HttpCase):
    """Browser tours on an account whose provider is a FakeAccount, and its users."""

    def fake_remote(self):
        """The remote account every configuration's client talks to, for this test."""
        remote = FakeAccount()
        patcher = patch.object(type(self.env['whatsapp.configuration']), '_make_provider_client',
                               lambda configuration: FakeProviderClient(remote))
        patcher.start()
        self.addCleanup(patcher.stop)
        return remote

    def shop_line(self, **values):
        """The tours' WHAPI account, connected."""
        return self.env['whatsapp.configuration'].create(dict(
            {'name': 'Shop line', 'provider': 'whapi', 'token': 'tok-tour', 'connection_state': 'connected'},
            **values))

    def tour_user(self, name, login, *group_xml_ids):
        """An internal user who logs in with ``login`` as password, in these groups too."""
        groups = [self.env.ref(xml_id).id for xml_id in ('base.group_user',) + group_xml_ids]
        return self.env['res.users'].create({'name': name, 'login': login, 'password': login,
                                             'email': '%s@example.com' % login, 'groups_id': [(6, 0, groups)]})
