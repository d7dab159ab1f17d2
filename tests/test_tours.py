# -*- coding: utf-8 -*-
import datetime
import json

from odoo.tests import tagged

from .common import Media, Message, TourCase


@tagged('post_install', '-at_install')
class TestTours(TourCase):
    """What a person does in the browser, in headless Chromium."""

    def test_sync_service_switches_hold(self):
        """Each Scheduled Syncs switch of the Sync Service form changes its cron and no other."""
        service = self.env['whatsapp.sync.service']._get_service()
        crons = {name: self.env.ref('whatsapp_integration.ir_cron_whatsapp_%s' % xml_id)
                 for name, xml_id in (('hourly', 'data_sync'), ('frequent', 'data_sync_frequent'),
                                      ('daily', 'full_sync_daily'))}
        crons['hourly'].active = True
        crons['frequent'].active = False
        crons['daily'].active = False
        self.start_tour('/web#model=whatsapp.sync.service&view_type=form&id=%d' % service.id,
                        'whatsapp_sync_service_switches', login='admin', timeout=180)
        self.assertEqual({name: cron.active for name, cron in crons.items()},
                         {'hourly': False, 'frequent': False, 'daily': True})

    def test_discuss_reply_reaches_whatsapp(self):
        """A WhatsApp user answers a customer from the Discuss channel, then replies to the customer's
        message; the provider gets each text once, the reply quoting that message."""
        remote = self.fake_remote()
        configuration = self.shop_line(discuss_enabled=True)
        user = self.tour_user('Sales Agent', 'wa_agent', 'whatsapp_integration.group_whatsapp_user')
        configuration.user_ids = [(4, user.id)]
        self.env['res.partner'].create({'name': 'Ana Traveller', 'mobile': '+34600000001'})
        configuration.create_partners = False
        remote.messages.append(Message(
            message_id='in-tour-1', chat_id='34600000001', chat_type='contact', sender_id='34600000001',
            sender_name='Ana', timestamp=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1),
            message_type='image', raw_type='image', body='Photo of the damaged suitcase', status='delivered',
            media=Media(media_id='img-tour', mime_type='image/jpeg')))
        self.env['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)
        self.start_tour("/web#action=mail.action_discuss", "whatsapp_discuss_reply", login="wa_agent", timeout=180)
        self.assertEqual(remote.sent, [('34600000001', 'We are sorry! A replacement leaves today.', None),
                                       ('34600000001', 'Is the handle broken too?', None)])
        self.assertEqual(remote.sent_quotes, [None, 'in-tour-1'])

    def test_a_new_chat_arrives_in_discuss_without_an_invitation_popup(self):
        """A customer writes in a new chat while the WhatsApp user has Discuss open: the channel
        shows in the sidebar, without a "You have been invited to" pop-up."""
        from urllib.parse import urlencode

        from odoo.addons.whatsapp_integration import providers

        configuration = self.shop_line(discuss_enabled=True, webhook_secret='tour-secret')
        user = self.tour_user('Sales Agent', 'wa_agent', 'whatsapp_integration.group_whatsapp_user')
        configuration.user_ids = [(4, user.id)]
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        body = {'event': {'type': 'messages', 'event': 'post'}, 'channel_id': 'CHANNEL-1', 'messages': [{
            'id': 'in-new-chat-1', 'type': 'text', 'chat_id': '34600000077@s.whatsapp.net', 'from': '34600000077',
            'from_me': False, 'from_name': 'Nuria Nueva', 'timestamp': now, 'source': 'mobile',
            'text': {'body': 'Hello, do you ship to Lisbon?'}}]}
        query = urlencode({
            'wa_hook': '/whatsapp/webhook/whapi/%s' % configuration.webhook_key,
            'wa_header': providers.WHAPI_SECRET_HEADER, 'wa_secret': 'tour-secret', 'wa_body': json.dumps(body)})
        self.start_tour('/web?%s#action=mail.action_discuss' % query, 'whatsapp_discuss_new_chat',
                        login='wa_agent', timeout=180)
        channel = self.env['mail.channel'].search([('whatsapp_configuration_id', '=', configuration.id)])
        self.assertEqual(channel.channel_partner_ids, user.partner_id)
