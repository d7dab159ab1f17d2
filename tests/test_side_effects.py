# -*- coding: utf-8 -*-
"""Sends and group creations never repeat when Odoo re-runs a request after a
serialization failure, nor when the user clicks the same button twice."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WhatsappCase


class _Retried(Exception):
    """Stands for the serialization failure after which Odoo re-runs the request."""


@tagged('post_install', '-at_install')
class TestSideEffectsOnce(WhatsappCase):

    def _run_twice(self, button):
        """The request's first run is rolled back after its provider call; the second
        runs the same button on the same wizard, as Odoo's retry does."""
        try:
            with self.env.cr.savepoint():
                button()
                raise _Retried()
        except _Retried:
            pass
        self.env['base'].invalidate_cache()
        return button()

    def test_a_retried_send_reaches_whatsapp_once_and_is_stored_once(self):
        wizard = self.env['whatsapp.send.message'].create({
            'configuration_id': self.config_a.id, 'phone': '+34600000077', 'body': 'Once only'})
        self._run_twice(wizard.action_send)
        self.assertEqual(self.remote_a.sent, [('+34600000077', 'Once only', None)])
        messages = self.env['whatsapp.message'].search([('configuration_id', '=', self.config_a.id),
                                                        ('body', '=', 'Once only')])
        self.assertEqual(len(messages), 1)
        self.assertEqual((messages.message_id, messages.status), ('sent-1', 'sent'))
        # a second click on the same wizard sends nothing more either
        wizard.action_send()
        self.assertEqual(len(self.remote_a.sent), 1)
        # a new wizard is a new send
        self.env['whatsapp.send.message'].create({
            'configuration_id': self.config_a.id, 'phone': '+34600000077', 'body': 'Once only'}).action_send()
        self.assertEqual(len(self.remote_a.sent), 2)

    def test_a_retried_group_creation_creates_one_group(self):
        wizard = self.env['whatsapp.group.create'].create({
            'configuration_id': self.config_a.id, 'name': 'Launch', 'phones': '+34600000011'})
        self._run_twice(wizard.action_create)
        self.assertEqual(len(self.remote_a.groups), 1, 'WhatsApp got one creation request')
        self.assertEqual(len(self.stored('whatsapp.group', self.config_a)), 1)

    def test_a_failed_send_can_be_tried_again(self):
        self.remote_a.refuse_sends_to['+34600000088'] = 'not on WhatsApp'
        wizard = self.env['whatsapp.send.message'].create({
            'configuration_id': self.config_a.id, 'phone': '+34600000088', 'body': 'Hi'})
        wizard.action_send()
        del self.remote_a.refuse_sends_to['+34600000088']
        wizard.action_send()
        self.assertEqual(self.remote_a.sent, [('+34600000088', 'Hi', None)])

    def test_a_call_of_unknown_outcome_is_not_repeated(self):
        Ledger = self.env['whatsapp.provider.call']
        with self.registry.cursor() as cr:
            cr.execute("INSERT INTO whatsapp_provider_call (key, state) VALUES ('test:unknown', 'pending')")
        calls = []
        with self.assertRaises(UserError):
            Ledger._call_once('test:unknown', lambda: calls.append(1))
        self.assertEqual(calls, [])
