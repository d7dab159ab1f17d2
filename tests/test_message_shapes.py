# -*- coding: utf-8 -*-
"""Messages in the shapes the providers publish, through webhooks and syncs: a Wassenger
group message's sender from its ``author`` object, polls with their options and votes,
WHAPI action messages applied to their target (never rows of their own), places and
contact cards as text."""
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import SavepointCase

from odoo.addons.whatsapp_integration import providers

from .common import ServedCase
from .fake_provider_server import FakeAccount
from .test_webhooks import GROUP, WebhookCase, whapi, whapi_text

ANA = '34600000001'
BEA = '34600000002'
POLL_TEXT = u'\U0001F4CA Lunch?\n\u2022 Pizza\n\u2022 Salad'


def whapi_item(message_id, kind, content, chat=ANA + '@s.whatsapp.net', sender=ANA, timestamp=1767225600, **extra):
    item = dict(whapi_text(message_id, chat, None, sender=sender, timestamp=timestamp), type=kind)
    item.pop('text')
    item[kind] = content
    item.update(extra)
    return item


def vote(message_id, voter, options, timestamp):
    return whapi_item(message_id, 'action', {'type': 'vote', 'target': 'poll-1', 'votes': options},
                      chat=GROUP, sender=voter, timestamp=timestamp)


@tagged('post_install', '-at_install')
class TestMessageShapesWebhook(WebhookCase):

    def _message(self, configuration, message_id):
        return self.Message.search([('configuration_id', '=', configuration.id), ('message_id', '=', message_id)])

    def test_wassenger_group_message_with_an_author_object_has_its_sender(self):
        data = {'wid': '3EB0AA01', 'kind': 'text', 'flow': 'in', 'chatWid': GROUP, 'body': 'hello group',
                'author': {'wid': BEA + '@c.us'}, 'date': '2026-01-01T00:00:00.000Z', 'ack': 'delivered',
                'to': GROUP}
        response = self._post_wassenger({'id': '3EB0AA01', 'event': 'message:in:new', 'object': 'message',
                                         'device': {'id': self.wassenger.device_id}, 'data': data})
        self.assertEqual(response.status_code, 200)
        message = self._message(self.wassenger, '3EB0AA01')
        self.assertEqual((message.chat_type, message.sender_id, message.direction), ('group', BEA, 'in'))
        self.assertEqual(message.contact_id.contact_id, BEA)
        self.assertEqual(message.group_id.group_id, GROUP)

    def test_whapi_poll_votes_and_actions_apply_to_their_messages(self):
        poll = whapi_item('poll-1', 'poll', {'title': 'Lunch?', 'options': ['Pizza', 'Salad']}, chat=GROUP)
        self._post_whapi(whapi('messages', 'post', messages=[
            poll, whapi_text('m1', ANA + '@s.whatsapp.net', 'tpyo'), whapi_text('m2', ANA + '@s.whatsapp.net', 'oops')]))
        stored = self._message(self.whapi, 'poll-1')
        self.assertEqual((stored.message_type, stored.body), ('poll', POLL_TEXT))
        self.assertFalse(stored.poll_results)
        self._post_whapi(whapi('messages', 'post', messages=[
            vote('v1', ANA, ['Pizza'], 1767225700), vote('v2', BEA, ['Pizza'], 1767225701),
            vote('v3', BEA, ['Salad'], 1767225702),  # Bea changes her mind: her last vote counts
            whapi_item('a1', 'action', {'type': 'edit', 'target': 'm1', 'edited_type': 'text',
                                        'edited_content': {'body': 'typo'}}),
            whapi_item('a2', 'action', {'type': 'delete', 'target': 'm2'}),
            whapi_item('a3', 'action', {'type': 'reaction', 'target': 'm1', 'emoji': u'\U0001F44D'}),
            whapi_item('a4', 'action', {'type': 'ephemeral', 'target': ANA + '@s.whatsapp.net', 'ephemeral': 86400}),
        ]))
        self.assertEqual(stored.poll_results, 'Pizza: 1\nSalad: 1')
        self.assertEqual(self._message(self.whapi, 'm1').body, 'typo')
        self.assertEqual(self._message(self.whapi, 'm2').status, 'deleted')
        rows = self._messages(self.whapi)
        self.assertEqual(sorted(rows.mapped('message_id')), ['a3', 'm1', 'm2', 'poll-1'],
                         'votes, edits, deletions and settings are no rows')
        self.assertFalse(rows.filtered(lambda message: message.message_type == 'unknown'))
        reaction = self._message(self.whapi, 'a3')
        self.assertEqual((reaction.message_type, reaction.body, reaction.quoted_message_id),
                         ('reaction', u'\U0001F44D', 'm1'))
        # a withdrawn vote (no option) takes the voter out
        self._post_whapi(whapi('messages', 'post', messages=[vote('v4', ANA, [], 1767225703)]))
        self.assertEqual(stored.poll_results, 'Pizza: 0\nSalad: 1')

    def test_a_vote_before_its_poll_waits_for_it(self):
        Event = self.env['whatsapp.message.event']
        for _delivery in range(2):  # a redelivery (or a re-sync) keeps it once
            self._post_whapi(whapi('messages', 'post', messages=[vote('v1', BEA, ['Salad'], 1767225700)]))
        self.assertFalse(self._messages(self.whapi))
        self.assertEqual(Event.search_count([('configuration_id', '=', self.whapi.id)]), 1)
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_item('poll-1', 'poll', {'title': 'Lunch?', 'options': ['Pizza', 'Salad']}, chat=GROUP)]))
        self.assertEqual(self._message(self.whapi, 'poll-1').poll_results, 'Pizza: 0\nSalad: 1')
        self.assertFalse(self.env['whatsapp.message.event'].search([('configuration_id', '=', self.whapi.id)]))

    def test_places_and_contact_cards_are_readable(self):
        vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ana Perez\nitem1.TEL;waid=34600000001:+34 600 00 00 01\nEND:VCARD'
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_item('l1', 'location', {'latitude': 41.3851, 'longitude': 2.1734, 'name': 'Cafe Sol',
                                          'address': 'Carrer Major 1'}),
            whapi_item('c1', 'contact', {'name': 'Ana Perez', 'vcard': vcard})]))
        self.assertEqual(self._message(self.whapi, 'l1').body,
                         u'\U0001F4CD Cafe Sol, Carrer Major 1 (41.3851, 2.1734)')
        self.assertEqual(self._message(self.whapi, 'c1').body, u'\U0001F464 Ana Perez: +34 600 00 00 01')
        base = {'flow': 'in', 'chatWid': ANA + '@c.us', 'date': '2026-01-01T00:00:00.000Z', 'ack': 'delivered'}
        for wid, extra in (('3EB0BB01', {'kind': 'location', 'location': {
                               'name': 'Cafe Sol', 'address': 'Carrer Major 1', 'lat': 41.3851, 'lon': 2.1734}}),
                           ('3EB0BB02', {'kind': 'contacts', 'contacts': [{
                               'formattedName': 'Ana Perez', 'phones': [{'number': '+34 600 00 00 01'}]}]}),
                           ('3EB0BB03', {'kind': 'poll', 'poll': {
                               'name': 'Lunch?', 'options': [{'name': 'Pizza'}, {'name': 'Salad'}]}})):
            self._post_wassenger({'id': wid, 'event': 'message:in:new', 'device': {'id': self.wassenger.device_id},
                                  'data': dict(base, wid=wid, **extra)})
        self.assertEqual(self._message(self.wassenger, '3EB0BB01').body,
                         u'\U0001F4CD Cafe Sol, Carrer Major 1 (41.3851, 2.1734)')
        self.assertEqual(self._message(self.wassenger, '3EB0BB02').body, u'\U0001F464 Ana Perez: +34 600 00 00 01')
        self.assertEqual((self._message(self.wassenger, '3EB0BB03').message_type,
                          self._message(self.wassenger, '3EB0BB03').body), ('poll', POLL_TEXT))

    def test_a_poll_post_in_discuss_shows_its_options_and_votes(self):
        self.whapi.write({'discuss_enabled': True})
        self._post_whapi(whapi('messages', 'post', messages=[
            whapi_item('poll-1', 'poll', {'title': 'Lunch?', 'options': ['Pizza', 'Salad']}, chat=GROUP,
                       timestamp=2000000000)]))
        post = self._message(self.whapi, 'poll-1').mail_message_id
        self.assertTrue(post)
        self.assertIn('Lunch?', post.body)
        self.assertIn(u'\u2022 Pizza<br>', post.body.replace('<br/>', '<br>'))
        self._post_whapi(whapi('messages', 'post', messages=[vote('v1', BEA, ['Salad'], 2000000001)]))
        post.invalidate_cache()
        self.assertIn('Salad: 1', post.body)


@tagged('post_install', '-at_install')
class TestMessageShapesSync(ServedCase):
    """Both clients over HTTP against the fake provider's published shapes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_a = cls.served_account('Shapes A', 'whapi', 'shapes-token-a')
        cls.config_b = cls.served_account('Shapes B', 'wassenger', 'shapes-token-b', '5f0c0ffee0c0ffee0c0ff00d')

    def setUp(self):
        super().setUp()
        sizes = dict(contacts=40, groups=3, members=5, messages=60, days=5, hostile=True)
        self.remote_a = self.server.add(FakeAccount('whapi', 'shapes-token-a', seed=21, **sizes))
        self.remote_b = self.server.add(FakeAccount('wassenger', 'shapes-token-b', seed=22,
                                                    device_id='5f0c0ffee0c0ffee0c0ff00d', **sizes))
        self.addCleanup(self.server.remove, self.remote_a)
        self.addCleanup(self.server.remove, self.remote_b)
        original = providers.make_client

        def make_client(provider, **settings):
            settings.update(sleep=lambda seconds: None)
            return original(provider, **settings)

        patcher = patch.object(providers, 'make_client', make_client)
        patcher.start()
        self.addCleanup(patcher.stop)

    def messages(self, configuration):
        return self.env['whatsapp.message'].search([('configuration_id', '=', configuration.id)])

    def test_sync_stores_the_published_shapes_as_the_provider_holds_them(self):
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        for configuration, remote in ((self.config_a, self.remote_a), (self.config_b, self.remote_b)):
            truth = remote.truth()['messages']
            stored = self.messages(configuration)
            by_id = {message.message_id: message for message in stored}
            self.assertEqual(set(by_id), set(truth), 'no row for an action, none missing')
            for message_id, (chat, from_me, kind, status, _ts, body) in truth.items():
                message = by_id[message_id]
                self.assertEqual((message.chat_id, message.from_me, message.message_type, message.status or None,
                                  message.body or None), (chat, from_me, kind, status, body), message_id)
            # every received group message has its sender (Wassenger: from the author object)
            group_in = stored.filtered(lambda message: message.chat_type == 'group' and not message.from_me
                                       and message.message_type != 'system')
            self.assertTrue(group_in)
            self.assertFalse(group_in.filtered(lambda message: not message.sender_id or not message.contact_id))
            self.assertFalse(stored.filtered(lambda message: message.raw_type == 'action'
                                             and message.message_type == 'unknown'))
            for poll_id, results in remote.poll_results().items():
                self.assertEqual(by_id[poll_id].poll_results, results)
        polls = self.messages(self.config_b).filtered(lambda message: message.message_type == 'poll')
        self.assertTrue(polls)
        # a second run finds the same and keeps nothing waiting
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.assertEqual(len(self.messages(self.config_a)), len(self.remote_a.truth()['messages']))
        self.assertFalse(self.env['whatsapp.message.event'].search([('configuration_id', '=', self.config_a.id)]))


@tagged('post_install', '-at_install')
class TestMessageShapesUpgrade(SavepointCase):

    def test_upgrade_removes_the_empty_rows_action_messages_left(self):
        import importlib.util
        import os
        path = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'migrations', '14.0.1.3.0', 'post-shapes.py')
        spec = importlib.util.spec_from_file_location('whatsapp_post_shapes', path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        configuration = self.env['whatsapp.configuration'].create({
            'name': 'Upgraded', 'provider': 'whapi', 'token': 'tok-upgraded'})
        Message = self.env['whatsapp.message']
        common = {'configuration_id': configuration.id, 'chat_id': ANA, 'message_date': '2026-01-01 00:00:00'}
        Message.create([dict(common, message_id='edit-1', raw_type='action', message_type='unknown'),
                        dict(common, message_id='react-1', raw_type='action', message_type='reaction', body='x'),
                        dict(common, message_id='odd-1', raw_type='hologram', message_type='unknown')])
        migration.migrate(self.env.cr, '14.0.1.2.0')
        left = Message.search([('configuration_id', '=', configuration.id)])
        self.assertEqual(sorted(left.mapped('message_id')), ['odd-1', 'react-1'])
