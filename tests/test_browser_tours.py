# -*- coding: utf-8 -*-
import datetime
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .common import FakeAccount, FakeProviderClient, Media, Message


@tagged('post_install', '-at_install')
class TestConversationTours(HttpCase):
    """Open Conversation and Discuss's Invite, clicked in headless Chromium."""

    def test_open_conversation_and_invite(self):
        remote = FakeAccount()
        patcher = patch.object(type(self.env['whatsapp.configuration']), '_make_provider_client',
                               lambda configuration: FakeProviderClient(remote))
        patcher.start()
        self.addCleanup(patcher.stop)
        configuration = self.env['whatsapp.configuration'].create({
            'name': 'Shop line', 'provider': 'whapi', 'token': 'tok-tour', 'connection_state': 'connected'})
        groups = lambda *xml_ids: [(6, 0, [self.env.ref(xml_id).id for xml_id in ('base.group_user',) + xml_ids])]
        agent = self.env['res.users'].create({
            'name': 'Sales Agent', 'login': 'wa_agent', 'password': 'wa_agent', 'email': 'agent@example.com',
            'groups_id': groups('whatsapp_integration.group_whatsapp_user')})
        configuration.user_ids = [(4, agent.id)]
        self.env['res.users'].create({'name': 'Nosy Clerk', 'login': 'nosy', 'password': 'nosy',
                                      'email': 'nosy@example.com', 'groups_id': groups()})
        manager = self.env['res.users'].create({
            'name': 'Maria Manager', 'login': 'maria', 'password': 'maria', 'email': 'maria@example.com',
            'groups_id': groups('whatsapp_integration.group_whatsapp_manager')})
        remote.messages.append(Message(
            message_id='in-open-1', chat_id='34600000001', chat_type='contact', sender_id='34600000001',
            sender_name='Ana Martín', timestamp=datetime.datetime.now(datetime.timezone.utc)
            - datetime.timedelta(hours=1), message_type='text', raw_type='text', body='Is my order ready?',
            status='delivered'))
        self.env['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)
        # Discuss turned on after the message came: its channel does not exist before the click
        configuration.discuss_enabled = True
        contact = self.env['whatsapp.contact'].search([('configuration_id', '=', configuration.id)])
        self.assertFalse(self.env['mail.channel'].search([('whatsapp_configuration_id', '=', configuration.id)]))
        self.start_tour('/web#model=whatsapp.contact&view_type=form&id=%d' % contact.id,
                        'whatsapp_open_conversation', login='wa_agent', timeout=180)
        channel = self.env['mail.channel'].search([('whatsapp_configuration_id', '=', configuration.id)])
        self.assertEqual(sorted(channel.channel_partner_ids.mapped('name')), ['Maria Manager', 'Sales Agent'])
        self.assertIn(manager.partner_id, channel.channel_partner_ids)

    def test_reply_to_a_message_that_follows_another(self):
        remote = FakeAccount()
        patcher = patch.object(type(self.env['whatsapp.configuration']), '_make_provider_client',
                               lambda configuration: FakeProviderClient(remote))
        patcher.start()
        self.addCleanup(patcher.stop)
        configuration = self.env['whatsapp.configuration'].create({
            'name': 'Shop line', 'provider': 'whapi', 'token': 'tok-tour', 'connection_state': 'connected',
            'discuss_enabled': True, 'create_partners': False})
        agent = self.env['res.users'].create({
            'name': 'Sales Agent', 'login': 'wa_agent', 'password': 'wa_agent', 'email': 'agent@example.com',
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id,
                                  self.env.ref('whatsapp_integration.group_whatsapp_user').id])]})
        configuration.user_ids = [(4, agent.id)]
        self.env['res.partner'].create({'name': 'Ana Traveller', 'mobile': '+34600000001'})
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
        for serial, (kind, body) in enumerate((('text', 'The suitcase arrived broken'),
                                               ('image', 'And here is the photo'))):
            remote.messages.append(Message(
                message_id='in-follow-%d' % serial, chat_id='34600000001', chat_type='contact',
                sender_id='34600000001', sender_name='Ana', timestamp=now + datetime.timedelta(seconds=serial * 10),
                message_type=kind, raw_type=kind, body=body, status='delivered',
                media=Media(media_id='img-follow', mime_type='image/jpeg') if kind == 'image' else None))
        self.env['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)
        self.start_tour('/web#action=mail.action_discuss', 'whatsapp_reply_to_followup', login='wa_agent',
                        timeout=180)
        self.assertEqual(remote.sent, [('34600000001', 'Thanks, we see the crack.', None)])
        self.assertEqual(remote.sent_quotes, ['in-follow-1'])
