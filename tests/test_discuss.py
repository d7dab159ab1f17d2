# -*- coding: utf-8 -*-
"""Conversations in Discuss: channels, posting once, answering from Odoo, reads, access."""
import base64
import datetime
from unittest.mock import patch

import psycopg2
import psycopg2.errors

from odoo.exceptions import AccessError, UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tests import new_test_user, tagged

from odoo.addons.whatsapp_integration import providers
from odoo.addons.whatsapp_integration.models.mail_channel import ChannelCreatedMeanwhile

from .common import Media, Message, WhatsappCase

UTC = datetime.timezone.utc
ANA = '34600000001'
GROUP = '120363000000000001@g.us'


@tagged('post_install', '-at_install')
class TestDiscuss(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.user_a, self.user_b = self.account_users('discuss')
        self.now = datetime.datetime.now(UTC).replace(microsecond=0)
        self.serial = 0

    def enable(self, configuration=None, **extra):
        (configuration or self.config_a).write(dict({'discuss_enabled': True}, **extra))

    def incoming(self, body, chat=ANA, minutes=1, quoted_id=None, kind='text', media=None, remote=None,
                 from_me=False):
        self.serial += 1
        record = Message(
            message_id='in-%d' % self.serial, chat_id=chat, chat_type='group' if chat.endswith('@g.us') else 'contact',
            timestamp=self.now + datetime.timedelta(minutes=minutes, seconds=self.serial), sender_id=ANA,
            sender_name='Ana', message_type=kind, raw_type=kind, body=body, status='delivered', from_me=from_me,
            quoted_id=quoted_id, media=media)
        (remote or self.remote_a).messages.append(record)
        return record

    def sync(self):
        self.service.cron_sync_all_data(message_limit=0)

    def channel(self, chat=ANA, configuration=None):
        return self.env['mail.channel'].search([
            ('whatsapp_configuration_id', '=', (configuration or self.config_a).id), ('whatsapp_chat_id', '=', chat)])

    def posts(self, channel):
        return self.env['mail.message'].search([('model', '=', 'mail.channel'), ('res_id', '=', channel.id),
                                                ('message_type', '=', 'comment')], order='id')

    def stored(self, message_id, configuration=None):
        return self.env['whatsapp.message'].search([
            ('configuration_id', '=', (configuration or self.config_a).id), ('message_id', '=', message_id)])

    def test_a_new_message_gets_its_channel_and_is_posted_once(self):
        self.incoming('Old news', minutes=-60)     # before the option: history, not Discuss
        self.enable()
        self.incoming('Hello, is my order ready?')
        self.sync()
        channel = self.channel()
        self.assertEqual(len(channel), 1)
        self.assertEqual(channel.public, 'private')
        self.assertIn(self.user_a.partner_id, channel.channel_partner_ids)
        self.assertNotIn(self.user_b.partner_id, channel.channel_partner_ids)
        posts = self.posts(channel)
        self.assertEqual(len(posts), 1)
        self.assertIn('<p>Hello, is my order ready?</p>', posts.body)
        self.assertNotIn('&lt;', posts.body)
        self.assertEqual(posts.email_from, 'Ana')
        # a re-sync, and the same message again through a webhook, post nothing
        self.sync()
        self.config_a._process_webhook(providers.WebhookBatch(messages=[self.remote_a.messages[-1]]))
        self.assertEqual(len(self.posts(channel)), 1)

    def test_with_several_accounts_the_channel_name_says_which(self):
        self.enable()
        self.incoming('Hello')
        self.sync()
        self.assertIn('(Account A)', self.channel().name, 'two accounts: the sidebar tells them apart')
        (self.config_b | self.env['whatsapp.configuration'].search([('id', '!=', self.config_a.id)])).unlink()
        self.incoming('Hi from a group', chat=GROUP)
        self.sync()
        self.assertNotIn('(Account A)', self.channel(GROUP).name, 'one account: no need to say it')

    def test_linked_partner_is_the_author(self):
        partner = self.env['res.partner'].create({'name': 'Ana Customer', 'mobile': '+' + ANA})
        self.enable()
        self.incoming('Hi')
        self.sync()
        contact = self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id),
                                                       ('contact_id', '=', ANA)])
        contact.partner_id = partner
        self.incoming('It is me again')
        self.sync()
        self.assertEqual(self.posts(self.channel())[-1].author_id, partner)

    def test_quoted_reply_and_reaction_answer_their_message(self):
        self.enable()
        first = self.incoming('Is it blue?')
        self.incoming('I mean the suitcase', quoted_id=first.message_id)
        self.incoming('\U0001F44D', kind='reaction', quoted_id=first.message_id)
        self.sync()
        first_post, reply, reaction = self.posts(self.channel())
        self.assertEqual(reply.parent_id, first_post)
        # Discuss shows the quoted message above the reply, as WhatsApp does
        self.assertIn('o_whatsapp_quote', reply.body)
        self.assertIn('Is it blue?', reply.body)
        self.assertIn('<p>I mean the suitcase</p>', reply.body)
        self.assertEqual(reaction.parent_id, first_post)
        self.assertIn('\U0001F44D', reaction.body)

    def test_edit_and_deletion_change_the_post(self):
        self.enable()
        record = self.incoming('See you at 10')
        self.sync()
        self.config_a._process_webhook(providers.WebhookBatch(
            edits=[providers.MessageEdit(message_id=record.message_id, body='See you at 11')]))
        post = self.posts(self.channel())
        self.assertIn('See you at 11', post.body)
        self.config_a._process_webhook(providers.WebhookBatch(
            deletions=[providers.MessageDeletion(message_id=record.message_id)]))
        self.assertIn('deleted', post.body)

    def test_writing_in_the_channel_sends_to_whatsapp(self):
        self.enable()
        first = self.incoming('Can you call me?')
        self.sync()
        channel = self.channel().with_user(self.user_a)
        post = channel.message_post(body='<p>Calling you in 5 minutes</p>', message_type='comment',
                                    subtype_xmlid='mail.mt_comment')
        self.assertEqual(self.remote_a.sent, [(ANA, 'Calling you in 5 minutes', None)])
        sent = self.env['whatsapp.message'].search([('mail_message_id', '=', post.id)])
        self.assertEqual((sent.from_me, sent.status, sent.chat_id), (True, 'sent', ANA))
        # answering a posted message quotes it on WhatsApp
        quoted_post = self.posts(channel)[0]
        channel.message_post(body='Yes', message_type='comment', subtype_xmlid='mail.mt_comment',
                             parent_id=quoted_post.id)
        self.assertEqual(self.remote_a.sent_quotes[-1], first.message_id)
        # answering a reply quotes that reply, though mail.thread moves the post's parent up a level;
        # the user's post shows what it answers, as received replies do
        reply = self.incoming('It is urgent', quoted_id=first.message_id)
        self.sync()
        reply_post = self.stored(reply.message_id).mail_message_id
        self.assertTrue(reply_post.parent_id)
        answer = channel.message_post(body='On my way', message_type='comment', subtype_xmlid='mail.mt_comment',
                                      parent_id=reply_post.id)
        self.assertEqual(self.remote_a.sent_quotes[-1], reply.message_id)
        self.assertIn('o_whatsapp_quote', answer.body)
        self.assertIn('It is urgent', answer.body)
        self.assertIn('On my way', answer.body)
        # a file goes as a file, and is kept on the message
        attachment = self.env['ir.attachment'].with_user(self.user_a).create({
            'name': 'quote.pdf', 'datas': base64.b64encode(b'%PDF-1.4 quote'), 'res_model': 'mail.compose.message',
            'res_id': 0, 'mimetype': 'application/pdf'})
        channel.message_post(body='', attachment_ids=[attachment.id], message_type='comment',
                             subtype_xmlid='mail.mt_comment')
        self.assertEqual(self.remote_a.sent[-1], (ANA, None, 'quote.pdf'))
        self.assertEqual(len(self.remote_a.sent), 4)
        # what the sync meets later is not posted again
        self.sync()
        self.assertEqual(len(self.posts(channel)), 6)

    def test_a_refused_send_says_why_in_the_channel(self):
        self.enable()
        self.incoming('Hello')
        self.sync()
        self.remote_a.refuse_sends_to[ANA] = 'forbidden to send to this recipient'
        channel = self.channel().with_user(self.user_a)
        channel.message_post(body='Hi Ana', message_type='comment', subtype_xmlid='mail.mt_comment')
        note = self.posts(channel)[-1]
        self.assertIn('Not sent to WhatsApp', note.body)
        self.assertIn('forbidden to send', note.body)
        self.assertTrue(self.env['whatsapp.message'].search([('status', '=', 'failed'), ('body', '=', 'Hi Ana')]))
        self.assertEqual(self.remote_a.sent, [])

    def test_open_conversation_brings_the_recent_history(self):
        for number in range(30):
            self.incoming('Old %d' % number, minutes=-600 + number)
        self.sync()
        self.enable()
        contact = self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id),
                                                       ('contact_id', '=', ANA)])
        action = contact.with_user(self.user_a).action_open_conversation()
        channel = self.channel()
        self.assertEqual(action['params']['default_active_id'], 'mail.channel_%d' % channel.id)
        posts = self.posts(channel)
        self.assertEqual(len(posts), 20)
        self.assertIn('Old 10', posts[0].body)
        self.assertIn('Old 29', posts[-1].body)
        # opening again adds nothing
        contact.with_user(self.user_a).action_open_conversation()
        self.assertEqual(len(self.posts(channel)), 20)

    def test_open_conversation_needs_the_option(self):
        self.incoming('Hi')
        self.sync()
        group = self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id)], limit=1)
        with self.assertRaises(UserError):
            group.with_user(self.user_a).action_open_conversation()

    def test_group_chat_and_file_downloaded_after_the_post(self):
        self.enable()
        self.remote_a.files['img-1'] = (b'\xff\xd8\xff' + b'1' * 500, 'image/jpeg', 'damage.jpg')
        self.incoming('Photo of the damaged suitcase', chat=GROUP, kind='image',
                      media=Media(media_id='img-1', mime_type='image/jpeg'))
        self.sync()
        channel = self.channel(GROUP)
        self.assertEqual(channel.whatsapp_chat_type, 'group')
        post = self.posts(channel)
        self.assertFalse(post.attachment_ids)
        self.env['whatsapp.message']._cron_download_media()
        self.assertEqual(post.attachment_ids.name, 'damage.jpg')
        # the channel's members read the file
        self.assertTrue(post.attachment_ids.with_user(self.user_a).datas)

    def test_voice_note_plays_in_the_channel(self):
        self.enable()
        self.remote_a.files['voice-1'] = (b'OggS' + b'2' * 900, 'audio/ogg', None)
        self.incoming(None, kind='voice', media=Media(media_id='voice-1', mime_type='audio/ogg; codecs=opus'))
        self.sync()
        post = self.posts(self.channel())
        self.assertNotIn('<audio', post.body)
        self.env['whatsapp.message']._cron_download_media()
        self.assertIn('<audio controls="controls"', post.body)
        self.assertIn('/web/content/%d' % post.attachment_ids.id, post.body)
        self.assertTrue(post.attachment_ids.name.endswith('.ogg'))

    def test_reading_marks_read_where_the_provider_can(self):
        self.enable(mark_read_in_whatsapp=True)
        self.enable(self.config_b, mark_read_in_whatsapp=True)
        record = self.incoming('Read me')
        self.incoming('Read me too', remote=self.remote_b)
        self.sync()
        channel = self.channel().with_user(self.user_a)
        channel.channel_seen(self.posts(channel)[-1].id)
        self.assertEqual(self.remote_a.marked_read, [(ANA, record.message_id)])
        channel.channel_seen(self.posts(channel)[-1].id)   # nothing new: no second call
        self.assertEqual(len(self.remote_a.marked_read), 1)
        self.assertFalse(self.config_b.can_mark_read)
        channel_b = self.channel(configuration=self.config_b).with_user(self.user_b)
        channel_b.channel_seen(self.posts(channel_b)[-1].id)
        self.assertEqual(self.remote_b.marked_read, [])

    def test_users_of_another_account_see_nothing(self):
        self.enable()
        self.incoming('Private')
        self.sync()
        channel = self.channel()
        self.assertFalse(self.env['mail.channel'].with_user(self.user_b).search([('id', '=', channel.id)]))
        with self.assertRaises(AccessError):
            self.posts(channel).with_user(self.user_b).read(['body'])
        with self.assertRaises(AccessError):
            channel.with_user(self.user_b).message_post(body='intrusion', message_type='comment',
                                                        subtype_xmlid='mail.mt_comment')
        self.assertEqual(self.remote_a.sent, [])

    def test_members_follow_who_may_read_the_account(self):
        """Channels already open gain the account's new users and lose those who may no longer read it."""
        self.enable()
        self.incoming('Hello')
        self.sync()
        channel = self.channel()
        sales = self.env['res.groups'].create({'name': 'WhatsApp sales desk'})
        plain = new_test_user(self.env, login='discuss_plain', groups='base.group_user')
        newcomer = new_test_user(self.env, login='discuss_new', groups='whatsapp_integration.group_whatsapp_user')
        self.config_a.group_ids = [(4, sales.id)]
        # a group member who is no WhatsApp user does not join: the account's rules would hide it from them
        sales.users = [(4, plain.id), (4, newcomer.id)]
        self.assertIn(newcomer.partner_id, channel.channel_partner_ids)
        self.assertNotIn(plain.partner_id, channel.channel_partner_ids)
        self.assertIn('Hello', self.posts(channel).with_user(newcomer).read(['body'])[0]['body'])
        # losing the WhatsApp group, leaving the account, or being archived: out of the channel
        newcomer.groups_id = [(3, self.env.ref('whatsapp_integration.group_whatsapp_user').id)]
        self.assertNotIn(newcomer.partner_id, channel.channel_partner_ids)
        self.config_a.user_ids = [(3, self.user_a.id)]
        self.assertNotIn(self.user_a.partner_id, channel.channel_partner_ids)
        self.assertFalse(self.env['mail.channel'].with_user(self.user_a).search([('id', '=', channel.id)]))
        self.config_a.user_ids = [(4, self.user_a.id)]
        self.assertIn(self.user_a.partner_id, channel.channel_partner_ids)
        self.user_a.active = False
        self.assertNotIn(self.user_a.partner_id, channel.channel_partner_ids)
        # a WhatsApp manager who opened the conversation stays; the other account's user never joins
        manager = new_test_user(self.env, login='discuss_manager', groups='whatsapp_integration.group_whatsapp_manager')
        self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id), ('contact_id', '=', ANA)]) \
            .with_user(manager).action_open_conversation()
        self.config_a.user_ids = [(4, newcomer.id)]
        self.assertIn(manager.partner_id, channel.channel_partner_ids)
        self.assertNotIn(self.user_b.partner_id, channel.channel_partner_ids)

    def test_a_channel_created_meanwhile_makes_odoo_run_the_request_again(self):
        """Two transactions creating a new chat's channel at once: the one that loses cannot see the
        winner's channel (its snapshot is older), so it fails as a serialization failure, which
        Odoo answers by running the request again, instead of a unique violation and a 500."""
        self.enable()
        Channel = type(self.env['mail.channel'])
        race = psycopg2.errors.UniqueViolation(
            'duplicate key value violates unique constraint "mail_channel_whatsapp_chat_unique"')
        with patch.object(Channel, 'create', side_effect=race):
            with self.assertRaises(ChannelCreatedMeanwhile) as caught:
                self.env['mail.channel']._whatsapp_channels(self.config_a, {ANA: ('contact', 'Ana')})
        self.assertIsInstance(caught.exception, psycopg2.OperationalError)
        self.assertIn(caught.exception.pgcode, PG_CONCURRENCY_ERRORS_TO_RETRY)
        # another unique violation is not a race for the channel: it goes up as it is
        other = psycopg2.errors.UniqueViolation('duplicate key value violates unique constraint "other_unique"')
        with patch.object(Channel, 'create', side_effect=other):
            with self.assertRaises(psycopg2.errors.UniqueViolation) as caught:
                self.env['mail.channel']._whatsapp_channels(self.config_a, {ANA: ('contact', 'Ana')})
        self.assertNotIsInstance(caught.exception, ChannelCreatedMeanwhile)
        # without a race the channel is made, once
        channels = self.env['mail.channel']._whatsapp_channels(self.config_a, {ANA: ('contact', 'Ana')})
        self.assertEqual(self.env['mail.channel']._whatsapp_channels(self.config_a, {ANA: ('contact', 'Ana')}),
                         channels)

    def test_a_chat_whose_channel_another_transaction_creates_is_posted_after_commit(self):
        """While another transaction creates the chat's channel (it holds the account's channel
        lock), the message is stored and its post waits for this transaction's commit instead of
        failing the webhook or the sync page on the channel's unique constraint."""
        self.enable()
        self.incoming('Hello from a brand-new chat')
        pending = len(self.env.cr.postcommit._funcs)
        with patch.object(type(self.env['mail.channel']), '_whatsapp_creatable', return_value=[]):
            self.sync()
        stored = self.stored('in-1')
        self.assertTrue(stored)
        self.assertFalse(stored.mail_message_id)
        self.assertFalse(self.channel())
        self.assertEqual(len(self.env.cr.postcommit._funcs), pending + 1)
        self.env.cr.postcommit._funcs.pop()     # the test's transaction never commits
        # Open Conversation cannot wait: Odoo runs its request again, which then sees the channel
        contact = self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id),
                                                       ('contact_id', '=', ANA)])
        with patch.object(type(self.env['mail.channel']), '_whatsapp_creatable', return_value=[]):
            with self.assertRaises(ChannelCreatedMeanwhile):
                contact.with_user(self.user_a).action_open_conversation()
