# -*- coding: utf-8 -*-
"""Fault injection: full syncs against a real local HTTP server, real provider clients.

Unlike ``common.WhatsappCase`` (which patches ``_make_provider_client`` with an
in-memory fake), these tests point both accounts' ``api_url`` at
``fake_provider_server`` and let the real WHAPI / Wassenger clients talk HTTP to
it. Only two things are patched, in ``providers.make_client``: the client's
timeouts (so a read timeout costs 0.5 s, not 30 s: ``_make_provider_client``
offers no way to set them) and its ``sleep`` (retry waits are recorded, not
slept). After each faulty run the database is compared with the server's
ground truth: nothing lost, nothing duplicated, status and sync log honest.
"""
import calendar
import logging
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import SavepointCase

from odoo.addons.whatsapp_integration import providers
from odoo.addons.whatsapp_integration.models.whatsapp_sync_service import SYNC_LOCK_NAMESPACE

from .fake_provider_server import FakeAccount, FakeProviderServer

TOKEN_A = 'tokA-whapi-S3cr3t-0123456789abcdef'
TOKEN_B = 'tokB-wassenger-S3cr3t-fedcba9876543210'
DEVICE_B = '5f0c0ffee0c0ffee0c0ffee0'
SIZES = dict(contacts=300, groups=10, members=8, messages=600, days=30)
CLIENT_TIMEOUT = 0.5
HTTP_LOGGER = 'odoo.addons.whatsapp_integration.providers.http'


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@tagged('post_install', '-at_install')
class TestResilience(SavepointCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = FakeProviderServer().start()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Configuration = cls.env['whatsapp.configuration']
        Configuration.search([]).write({'active': False})
        cls.config_a = Configuration.create({
            'name': 'Resilience A', 'provider': 'whapi', 'token': TOKEN_A, 'api_url': cls.server.url})
        cls.config_b = Configuration.create({
            'name': 'Resilience B', 'provider': 'wassenger', 'token': TOKEN_B, 'device_id': DEVICE_B,
            'api_url': cls.server.url + '/v1'})
        if 'connection_state' in Configuration._fields:  # scheduled runs skip untested accounts
            (cls.config_a | cls.config_b).write({'connection_state': 'connected'})
        cls.service = cls.env['whatsapp.sync.service']._get_service()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.remote_a = self.server.add(FakeAccount('whapi', TOKEN_A, seed=11, **SIZES))
        self.remote_b = self.server.add(FakeAccount('wassenger', TOKEN_B, seed=12, device_id=DEVICE_B, **SIZES))
        self.sleeps = []
        original = providers.make_client

        def make_client(provider, **settings):
            # small pages: more pages, so more faults per run
            settings.update(timeout=CLIENT_TIMEOUT, connect_timeout=CLIENT_TIMEOUT, sleep=self.sleeps.append,
                            page_size=100)
            return original(provider, **settings)

        patcher = patch.object(providers, 'make_client', make_client)
        patcher.start()
        self.addCleanup(patcher.stop)

    # -- helpers ------------------------------------------------------------------------
    def sync(self, full=True, message_limit=0):
        """One run; the transport's retry warnings are collected in ``self.retries``
        (expected here, they would otherwise fail the harness's log check)."""
        logger = logging.getLogger(HTTP_LOGGER)
        handler = _Collect()
        logger.addHandler(handler)
        propagate, logger.propagate = logger.propagate, False
        try:
            self.env['whatsapp.sync.service'].cron_sync_all_data(full=full, message_limit=message_limit)
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate
        self.retries = [record.getMessage() for record in handler.records]
        self.assertNoSecrets(*self.retries)
        self.env['base'].flush()

    def last_log(self, configuration):
        return self.env['whatsapp.sync.log'].search([('configuration_id', '=', configuration.id)], limit=1)

    def rows(self, query, configuration):
        self.env['base'].flush()
        self.env.cr.execute(query, (configuration.id,))
        return self.env.cr.fetchall()

    def stored_messages(self, configuration):
        rows = self.rows('SELECT message_id, chat_id, from_me, message_type, status, message_date, body '
                         'FROM whatsapp_message WHERE configuration_id = %s', configuration)
        ids = [row[0] for row in rows]
        self.assertEqual(len(ids), len(set(ids)), 'duplicate messages')
        return {row[0]: (row[1], row[2], row[3], row[4], calendar.timegm(row[5].timetuple()), row[6] or None)
                for row in rows}

    def assertMatchesTruth(self, configuration, remote, messages=True):
        """The account's rows are exactly the remote's ground truth, once each."""
        truth = remote.truth()
        contacts = [row[0] for row in self.rows(
            'SELECT contact_id FROM whatsapp_contact WHERE configuration_id = %s', configuration)]
        self.assertEqual(len(contacts), len(set(contacts)), 'duplicate contacts')
        if messages:
            self.assertEqual(set(contacts), truth['contacts'])
        else:  # contacts met only in messages not read yet may be missing
            self.assertTrue(truth['listed_contacts'] | {m[1] for m in truth['members']} <= set(contacts))
            self.assertTrue(set(contacts) <= truth['contacts'])
        groups = [row[0] for row in self.rows(
            'SELECT group_id FROM whatsapp_group WHERE configuration_id = %s', configuration)]
        self.assertEqual(len(groups), len(set(groups)), 'duplicate groups')
        self.assertEqual(set(groups), truth['groups'])
        members = self.rows(
            'SELECT g.group_id, c.contact_id, m.role FROM whatsapp_group_member m '
            'JOIN whatsapp_group g ON g.id = m.group_id JOIN whatsapp_contact c ON c.id = m.contact_id '
            'WHERE m.configuration_id = %s', configuration)
        self.assertEqual(len(members), len(set(members)), 'duplicate members')
        self.assertEqual(set(members), truth['members'])
        # every member row belongs to this account's own group and contact
        cross = self.rows(
            'SELECT count(*) FROM whatsapp_group_member m JOIN whatsapp_group g ON g.id = m.group_id '
            'JOIN whatsapp_contact c ON c.id = m.contact_id WHERE m.configuration_id = %s '
            'AND (g.configuration_id != m.configuration_id OR c.configuration_id != m.configuration_id)',
            configuration)
        self.assertEqual(cross[0][0], 0)
        if messages:
            stored = self.stored_messages(configuration)
            self.assertEqual(set(stored), set(truth['messages']), 'message ids differ from the provider')
            wrong = {key: (stored[key], value) for key, value in truth['messages'].items() if stored[key] != value}
            self.assertFalse(wrong, 'messages stored with wrong values (first ones): %s' % list(wrong.items())[:3])
            newest = max(value[4] for value in truth['messages'].values())
            self.assertEqual(calendar.timegm(configuration.last_message_date.timetuple()), newest)

    def assertLogSuccess(self, configuration, remote, first_import=True):
        log = self.last_log(configuration)
        self.assertEqual(log.state, 'success', log.error_message)
        self.assertFalse(log.error_message)
        self.assertEqual(log.skipped_count, remote.hostile_skipped, log.skipped_details)
        truth = remote.truth()
        if first_import:
            self.assertEqual(log.messages_created, len(truth['messages']))
            self.assertEqual(log.groups_created, len(truth['groups']))
            self.assertEqual(log.members_created, len(truth['members']))
        self.assertEqual(configuration.last_sync_status, 'success')
        return log

    def assertNoSecrets(self, *texts):
        for text in texts:
            for token in (TOKEN_A, TOKEN_B):
                self.assertNotIn(token, text or '')

    # -- tests --------------------------------------------------------------------------
    def test_clean_run_then_rerun_changes_nothing(self):
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            self.assertLogSuccess(configuration, remote)
        self.assertEqual(self.service.sync_status, 'success')
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            log = self.assertLogSuccess(configuration, remote, first_import=False)
            for kind in ('contacts', 'groups', 'members', 'messages'):
                self.assertEqual((log['%s_created' % kind], log['%s_updated' % kind]), (0, 0), kind)
            self.assertEqual(log.members_removed, 0)

    def test_500_once_per_page(self):
        for remote in (self.remote_a, self.remote_b):
            remote.faults['fail_once_per_page'] = True
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertGreater(remote.faults_injected.get('500_once', 0), 5)
            self.assertMatchesTruth(configuration, remote)
            self.assertLogSuccess(configuration, remote)
        injected = self.remote_a.faults_injected['500_once'] + self.remote_b.faults_injected['500_once']
        self.assertEqual(len(self.sleeps), injected, 'one backoff wait per failed request')
        self.assertEqual(len(self.retries), injected, 'each retry is logged')

    def test_429_honours_retry_after_capped(self):
        self.remote_a.faults.update(rate_limit_once_per_page=True, retry_after='1')
        self.remote_b.faults.update(rate_limit_once_per_page=True, retry_after='3600')
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            self.assertLogSuccess(configuration, remote)
        self.assertEqual(self.sleeps.count(1.0), self.remote_a.faults_injected['429'])
        # the client never waits longer than its cap (60 s) whatever Retry-After says
        self.assertEqual(self.sleeps.count(60.0), self.remote_b.faults_injected['429'])
        self.assertEqual(len(self.sleeps), self.remote_a.faults_injected['429'] + self.remote_b.faults_injected['429'])

    def test_read_timeout_every_nth_request(self):
        for remote in (self.remote_a, self.remote_b):
            remote.faults.update(timeout_every=5, timeout_delay=CLIENT_TIMEOUT * 3)
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertGreater(remote.faults_injected.get('timeout', 0), 0)
            self.assertTrue(any('ReadTimeout' in text for text in self.retries))
            self.assertMatchesTruth(configuration, remote)
            self.assertLogSuccess(configuration, remote)

    def test_dropped_connections(self):
        for remote in (self.remote_a, self.remote_b):
            remote.faults['drop_every'] = 3
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertGreater(remote.faults_injected.get('drop', 0), 2)
            self.assertMatchesTruth(configuration, remote)
            self.assertLogSuccess(configuration, remote)

    def test_malformed_json_once_keeps_what_was_read_and_holds_the_watermark(self):
        for remote in (self.remote_a, self.remote_b):
            remote.faults.update(malformed_once='messages', malformed_skip=1)  # the 2nd messages request
        kept = {}
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertEqual(remote.faults_injected.get('malformed'), 1)
            log = self.last_log(configuration)
            self.assertEqual(log.state, 'error')
            self.assertIn('messages: The provider answered something that could not be read', log.error_message)
            self.assertIn('not JSON', log.error_details, 'the technical detail is kept apart')
            self.assertNotIn('not JSON', log.error_message)
            self.assertNoSecrets(log.error_message, configuration.last_sync_message)
            self.assertEqual(configuration.last_sync_status, 'error')
            # contacts, groups and members were complete before the broken page
            self.assertMatchesTruth(configuration, remote, messages=False)
            # the pages before the broken one are kept, and nothing more (pages are asked for a few
            # at a time, so the broken request may be the 2nd or a later page); Wassenger's
            # message pages hold at most 50
            stored = self.stored_messages(configuration)
            kept[configuration] = len(stored)
            per_page = 50 if remote.provider == 'wassenger' else 100
            self.assertIn(len(stored), range(per_page, len(remote.truth()['messages']), per_page))
            self.assertTrue(set(stored) <= set(remote.truth()['messages']))
            # the watermark did not move past messages that were never stored
            self.assertFalse(configuration.last_message_date)
        self.assertEqual(self.service.sync_status, 'error')
        self.sync()
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            log = self.assertLogSuccess(configuration, remote, first_import=False)
            self.assertEqual(log.messages_created, len(remote.truth()['messages']) - kept[configuration])
        self.assertEqual(self.service.sync_status, 'success')

    def test_500_forever_on_one_account_the_other_completes(self):
        self.remote_b.faults['fail_forever'] = True
        self.sync()
        self.assertMatchesTruth(self.config_a, self.remote_a)
        self.assertLogSuccess(self.config_a, self.remote_a)
        log = self.last_log(self.config_b)
        self.assertEqual(log.state, 'error')
        for kind in ('contacts', 'groups', 'messages'):
            self.assertIn("%s: The provider's server had an error. Try again later" % kind, log.error_message)
            self.assertIn('%s: Wassenger GET' % kind, log.error_details)
        self.assertIn('HTTP 500', log.error_details)
        self.assertIn('after 4 attempts', log.error_details)
        # the provider's error text echoes the token: it must be redacted everywhere
        self.assertIn('***', log.error_details)
        self.assertNoSecrets(log.error_message, log.error_details, log.summary, self.config_b.last_sync_message,
                             self.service.last_sync_message)
        self.assertEqual(self.config_b.last_sync_status, 'error')
        self.assertEqual(self.service.sync_status, 'error')
        self.assertFalse(self.rows('SELECT id FROM whatsapp_contact WHERE configuration_id = %s', self.config_b))
        self.assertFalse(self.config_b.last_message_date)
        self.assertEqual(self.remote_b.requests, 12, '3 kinds x (1 try + 3 retries)')

    def test_refused_token_stops_the_account_only(self):
        self.config_b.token = 'not-the-right-token'
        self.sync()
        self.assertMatchesTruth(self.config_a, self.remote_a)
        log = self.last_log(self.config_b)
        self.assertEqual(log.state, 'error')
        self.assertIn('The provider refused the API token. Copy the token again', log.error_message)
        self.assertIn('401', log.error_details)
        self.assertNotIn('groups:', log.error_message, 'a refused token ends the account, not only one kind')
        self.assertNoSecrets(log.error_message, log.error_details)
        self.assertNotIn('not-the-right-token', log.error_details)
        self.assertEqual(self.config_b.connection_state, 'error')
        self.assertIn('refused the API token', self.config_b.connection_message)
        self.assertIn('401', self.config_b.connection_detail)
        self.assertEqual(self.server.unauthorized, 1)

    def test_concurrent_sync_of_one_account_is_skipped(self):
        other = self.registry.cursor()
        try:
            other.execute('SELECT pg_try_advisory_lock(%s, %s)', (SYNC_LOCK_NAMESPACE, self.config_a.id))
            self.assertTrue(other.fetchone()[0])
            self.sync()
            log_a = self.last_log(self.config_a)
            self.assertEqual(log_a.state, 'skipped')
            self.assertIn('already running', log_a.error_message)
            self.assertEqual(self.config_a.last_sync_status, 'skipped')
            self.assertEqual(self.remote_a.requests, 0, 'the skipped run must not call the provider')
            self.assertFalse(self.rows('SELECT id FROM whatsapp_message WHERE configuration_id = %s',
                                       self.config_a))
            self.assertMatchesTruth(self.config_b, self.remote_b)
            self.assertLogSuccess(self.config_b, self.remote_b)
        finally:
            other.execute('SELECT pg_advisory_unlock(%s, %s)', (SYNC_LOCK_NAMESPACE, self.config_a.id))
            other.close()
        self.sync()
        self.assertMatchesTruth(self.config_a, self.remote_a)
        self.assertLogSuccess(self.config_a, self.remote_a)
        self.sync()
        self.assertMatchesTruth(self.config_a, self.remote_a)
        self.assertEqual(self.last_log(self.config_a).messages_created, 0)

    def test_hostile_data_is_stored_or_skipped_with_a_reason(self):
        self.remote_a = self.server.add(FakeAccount('whapi', TOKEN_A, seed=11, hostile=True, **SIZES))
        self.remote_b = self.server.add(FakeAccount('wassenger', TOKEN_B, seed=12, device_id=DEVICE_B,
                                                    hostile=True, **SIZES))
        self.sync()
        Contact = self.env['whatsapp.contact']
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            log = self.last_log(configuration)
            self.assertEqual(log.state, 'success', log.error_message)
            details = log.skipped_details or ''
            for reason in ('contact', 'message', 'member'):
                self.assertIn(reason, details)
            self.assertEqual(log.skipped_count, remote.hostile_skipped, details)
            contacts = {contact.contact_id: contact for contact in Contact.search(
                [('configuration_id', '=', configuration.id)])}
            for key, e164 in (('447911123456', '+447911123456'), ('5511987654321', '+5511987654321'),
                              ('919876543210', '+919876543210'), ('4915123456789', '+4915123456789'),
                              ('971501234567', '+971501234567')):
                self.assertEqual((contacts[key].phone, contacts[key].phone_valid), (e164, True), key)
            self.assertFalse(contacts['12345'].phone_valid)
            hidden = contacts['998877665544332@lid']
            self.assertFalse(hidden.phone_valid)
            self.assertFalse(hidden.phone)
            self.assertNotIn('\x00', ''.join(contact.name or '' for contact in contacts.values()))
            messages = self.env['whatsapp.message'].search([('configuration_id', '=', configuration.id)])
            self.assertEqual(max(len(body or '') for body in messages.mapped('body')), 10000)
            unknown = messages.filtered(lambda message: message.raw_type == 'hologram_v9')
            self.assertEqual(unknown.message_type, 'unknown')
            from_hidden = messages.filtered(lambda message: message.chat_id == '998877665544332@lid')
            self.assertEqual(from_hidden.contact_id, hidden)

    def test_remote_changes_are_followed(self):
        self.sync()
        for remote in (self.remote_a, self.remote_b):
            remote.append_messages(40)
            remote.mutate_message(598, status='read')     # was 'delivered': recent, re-read by the full sync
            remote.rename_contact(5, 'Renamed Five')
            remote.remove_member(3, 4)
        self.sync(full=True, message_limit=None)
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            self.assertMatchesTruth(configuration, remote)
            log = self.last_log(configuration)
            self.assertEqual(log.state, 'success', log.error_message)
            self.assertEqual(log.messages_created, 40)
            self.assertGreaterEqual(log.messages_updated, 1)
            self.assertEqual(log.members_removed, 1)
            self.assertGreaterEqual(log.contacts_updated, 1)
