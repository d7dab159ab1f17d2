# -*- coding: utf-8 -*-
"""A WhatsApp chat's Discuss channel holds only people who may read its account, however they are added."""
import datetime

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import Message, WhatsappCase

ANA = '34600000001'


@tagged('post_install', '-at_install')
class TestChatMembership(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.user_a, self.user_b = self.account_users('members')
        # an employee as Odoo creates them by default: Contact Creation included (base.default_user)
        self.clerk = new_test_user(self.env, login='members_clerk', groups='base.group_user,base.group_partner_manager',
                                   name='Nosy Clerk')
        self.config_a.discuss_enabled = True
        self.remote_a.messages.append(Message(
            message_id='in-members-1', chat_id=ANA, chat_type='contact', sender_id=ANA, sender_name='Ana',
            timestamp=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1),
            message_type='text', raw_type='text', body='My card number is 4111...', status='delivered'))
        self.service.cron_sync_all_data(message_limit=0)
        self.channel = self.env['mail.channel'].search([
            ('whatsapp_configuration_id', '=', self.config_a.id), ('whatsapp_chat_id', '=', ANA)])
        self.assertIn(self.user_a.partner_id, self.channel.channel_partner_ids)
        self.mine = self.channel.with_user(self.user_a)

    def assertRefused(self, call, *args, **kwargs):
        """The call fails, and what it did is undone (as Odoo rolls back a failed request)."""
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            call(*args, **kwargs)

    def assertOutside(self, user):
        self.assertNotIn(user.partner_id, self.channel.with_context(active_test=False).channel_partner_ids)
        self.assertFalse(self.env['mail.channel'].with_user(user).search([('id', '=', self.channel.id)]))

    def test_invite_refuses_who_may_not_read_the_account(self):
        for user in (self.clerk, self.user_b):  # no WhatsApp rights; another account's user
            self.assertRefused(self.mine.channel_invite, [user.partner_id.id])
            self.assertOutside(user)

    def test_every_other_way_in_is_refused(self):
        clerk = self.clerk.partner_id
        self.assertRefused(self.mine.write, {'channel_partner_ids': [(4, clerk.id)]})
        self.assertRefused(self.mine.write, {'channel_last_seen_partner_ids': [(0, 0, {'partner_id': clerk.id})]})
        self.assertRefused(self.env['mail.channel.partner'].with_user(self.user_a).create,
                           {'channel_id': self.channel.id, 'partner_id': clerk.id})
        # even an administrator's RPC
        self.assertRefused(self.env['mail.channel.partner'].create,
                           {'channel_id': self.channel.id, 'partner_id': clerk.id})
        self.assertRefused(self.channel.with_user(self.clerk).sudo().channel_join_and_get_info)
        self.assertRefused(self.mine.message_subscribe, partner_ids=clerk.ids)
        self.assertFalse(self.env['mail.followers'].search([('res_model', '=', 'mail.channel'),
                                                            ('res_id', '=', self.channel.id),
                                                            ('partner_id', '=', clerk.id)]))
        self.assertOutside(self.clerk)

    def test_a_partner_cannot_put_itself_in_a_chat(self):
        # res.partner.channel_ids writes the same membership table, without mail.channel's hooks;
        # any employee may edit their own contact
        mine = self.clerk.partner_id.with_user(self.clerk)
        self.assertRefused(mine.write, {'channel_ids': [(4, self.channel.id)]})
        self.assertRefused(mine.write, {'channel_ids': [(6, 0, [self.channel.id])]})
        self.assertRefused(self.env['res.partner'].with_user(self.clerk).create,
                           {'name': 'Sneaky', 'channel_ids': [(4, self.channel.id)]})
        self.assertOutside(self.clerk)
        # a partner who may read the account keeps Odoo's behaviour
        manager = new_test_user(self.env, login='members_manager2', groups='whatsapp_integration.group_whatsapp_manager')
        manager.partner_id.write({'channel_ids': [(4, self.channel.id)]})
        self.assertIn(manager.partner_id, self.channel.channel_partner_ids)

    def test_invite_offers_only_who_may_read_the_account(self):
        manager = new_test_user(self.env, login='members_manager', name='Maria Manager',
                                groups='whatsapp_integration.group_whatsapp_manager')
        names = [found['name'] for found in self.mine.whatsapp_invite_search('')]
        self.assertIn('Maria Manager', names)
        self.assertNotIn('Nosy Clerk', names)
        self.assertNotIn(self.user_b.name, names)
        self.assertNotIn(self.user_a.name, names)  # already in
        # who may read the account is welcome
        self.mine.channel_invite([manager.partner_id.id])
        self.assertIn(manager.partner_id, self.channel.channel_partner_ids)

    def test_other_channels_keep_odoo_behaviour(self):
        channel = self.env['mail.channel'].with_user(self.user_a).create({'name': 'Team', 'public': 'private'})
        channel.channel_invite([self.clerk.partner_id.id])
        self.assertIn(self.clerk.partner_id, channel.channel_partner_ids)

    def test_a_reply_is_announced_with_its_quote(self):
        """Discuss shows a new post as the bus announces it: a reply's post carries its quote from the
        start, not only after a reload."""
        answered = self.env['mail.message'].search([('model', '=', 'mail.channel'), ('res_id', '=', self.channel.id),
                                                    ('message_type', '=', 'comment')])
        self.assertEqual(len(answered), 1)
        # what the composer's Send does, Reply on the customer's message
        self.mine.message_post(body='<p>Is the card blocked?</p>', message_type='comment',
                               subtype_xmlid='mail.mt_comment', parent_id=answered.id)
        self.assertEqual(self.remote_a.sent, [(ANA, 'Is the card blocked?', None)])
        self.assertEqual(self.remote_a.sent_quotes, ['in-members-1'])
        announced = [notification.message for notification in self.env['bus.bus'].search([])
                     if 'Is the card blocked?' in notification.message]
        self.assertTrue(announced)
        self.assertTrue(all('o_whatsapp_quote' in message and 'My card number' in message for message in announced),
                        announced)
