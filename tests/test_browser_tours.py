# -*- coding: utf-8 -*-
import datetime

from odoo.tests import tagged

from .common import Media, Message, TourCase


@tagged('post_install', '-at_install')
class TestConversationTours(TourCase):
    """Open Conversation and Discuss's Invite, clicked in headless Chromium."""

    def test_open_conversation_and_invite(self):
        remote = self.fake_remote()
        configuration = self.shop_line()
        agent = self.tour_user('Sales Agent', 'wa_agent', 'whatsapp_integration.group_whatsapp_user')
        configuration.user_ids = [(4, agent.id)]
        self.tour_user('Nosy Clerk', 'nosy')
        manager = self.tour_user('Maria Manager', 'maria', 'whatsapp_integration.group_whatsapp_manager')
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
        remote = self.fake_remote()
        configuration = self.shop_line(discuss_enabled=True, create_partners=False)
        agent = self.tour_user('Sales Agent', 'wa_agent', 'whatsapp_integration.group_whatsapp_user')
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
