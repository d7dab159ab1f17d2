# -*- coding: utf-8 -*-
"""What people read when the provider cannot be reached or refuses: one plain
sentence, the technical text one click away (Technical Details)."""
import socket
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import SavepointCase
from odoo.tools import mute_logger

from odoo.addons.whatsapp_integration import providers

from .fake_provider_server import FakeAccount, FakeProviderServer

HTTP_LOGGER = 'odoo.addons.whatsapp_integration.providers.http'
TOKEN = 'tok-errors-S3cr3t-0123456789abcdef'
RAW_LIBRARY_WORDS = ('HTTPConnectionPool', 'Max retries', 'NewConnectionError', 'Errno', 'WHAPI GET')


def closed_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@tagged('post_install', '-at_install')
class TestErrorMessages(SavepointCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = FakeProviderServer().start()
        cls.remote = cls.server.add(FakeAccount('whapi', TOKEN, seed=31, contacts=5, groups=1, members=2,
                                                messages=5))
        cls.env['whatsapp.configuration'].search([]).write({'active': False})
        cls.account = cls.env['whatsapp.configuration'].create({
            'name': 'Errors', 'provider': 'whapi', 'token': TOKEN, 'api_url': cls.server.url})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        original = providers.make_client

        def make_client(provider, **settings):
            settings.update(sleep=lambda seconds: None, timeout=2, connect_timeout=2)
            return original(provider, **settings)
        patcher = patch.object(providers, 'make_client', make_client)
        patcher.start()
        self.addCleanup(patcher.stop)

    def assertPlain(self, text, *expected):
        for words in expected:
            self.assertIn(words, text)
        for words in RAW_LIBRARY_WORDS:
            self.assertNotIn(words, text, 'library words reach people')

    @mute_logger(HTTP_LOGGER)
    def test_an_unreachable_server(self):
        self.account.api_url = 'http://127.0.0.1:%d' % closed_port()
        action = self.account.action_test_connection()
        self.assertEqual(action['params']['title'], 'Connection failed')
        self.assertPlain(action['params']['message'], "The provider's server refused the connection",
                         'Check the Base URL')
        self.assertPlain(self.account.connection_message, 'refused the connection')
        self.assertIn('connection refused', self.account.connection_detail)
        self.assertIn('WHAPI GET /health', self.account.connection_detail, 'the detail says which request')
        # a sync says the same, per kind, with the details on its log
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        log = self.env['whatsapp.sync.log'].search([('configuration_id', '=', self.account.id)], limit=1)
        self.assertEqual(log.state, 'error')
        self.assertPlain(log.error_message, "contacts: The provider's server refused the connection")
        self.assertIn('connection refused', log.error_details)
        self.assertPlain(log.summary, 'refused the connection')

    @mute_logger(HTTP_LOGGER)
    def test_a_refused_token(self):
        self.account.token = 'not-the-token'
        action = self.account.action_test_connection()
        self.assertPlain(action['params']['message'], 'The provider refused the API token',
                         'then click Test Connection')
        self.assertIn('401', self.account.connection_detail)
        self.assertNotIn('not-the-token', self.account.connection_detail)
        self.assertEqual(self.account.connection_state, 'error')

    def test_a_working_account_clears_the_details(self):
        self.account.write({'connection_state': 'error', 'connection_detail': 'old failure'})
        action = self.account.action_test_connection()
        self.assertEqual(action['params']['title'], 'Connected')
        self.assertFalse(self.account.connection_detail)

    def test_every_reason_has_its_own_sentence(self):
        from odoo.addons.whatsapp_integration.models.error_messages import explain
        sentences = {}
        for reason in providers.errors.REASONS:
            sentence, detail = explain(self.env, providers.ProviderError('technical text', reason=reason))
            if reason != 'settings':  # there the provider layer's text is the explanation
                self.assertNotIn('technical text', sentence)
            self.assertEqual(detail, 'technical text')
            sentences[reason] = sentence
        self.assertEqual(len(set(sentences.values())), len(sentences), 'one sentence per reason')
