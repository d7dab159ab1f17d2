# -*- coding: utf-8 -*-
"""A WhatsApp chat as a private Discuss channel of its account's users.

What arrives from WhatsApp is posted by ``whatsapp.message`` (with the
``whatsapp_from_whatsapp`` context key, so it is not sent back); what a user
writes in the channel is sent to WhatsApp through the account here.
"""
import base64
import logging

import psycopg2
import psycopg2.errors
from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import html2plaintext, plaintext2html

from .. import providers
from ..providers.parsing import guess_media_type

_logger = logging.getLogger(__name__)


#: first key of the PostgreSQL advisory lock a transaction holds, per account, while it
#: creates that account's channels (the sync's own lock uses 0x57A5)
CHANNEL_LOCK_NAMESPACE = 0x57A6


class ChannelCreatedMeanwhile(psycopg2.errors.SerializationFailure):
    """Another transaction created the chat's channel after ours began, so ours cannot see it.

    A serialization failure by its code: Odoo runs the request (a webhook) again, in a new
    transaction that finds the channel; a sync records it and posts at its next run.
    """
    pgcode = '40001'


class MailChannel(models.Model):
    _inherit = 'mail.channel'

    whatsapp_configuration_id = fields.Many2one(
        'whatsapp.configuration', string='WhatsApp Account', ondelete='cascade', index=True, readonly=True)
    whatsapp_chat_id = fields.Char(string='WhatsApp Chat', index=True, readonly=True)
    whatsapp_chat_type = fields.Selection([('contact', 'Direct'), ('group', 'Group')], readonly=True)
    whatsapp_read_up_to = fields.Char(readonly=True, copy=False,
                                      help='WhatsApp id of the last message marked read on the phone.')

    _sql_constraints = [
        ('whatsapp_chat_unique', 'UNIQUE(whatsapp_configuration_id, whatsapp_chat_id)',
         'A WhatsApp chat has one Discuss channel per account.'),
    ]

    # ------------------------------------------------------------------
    # Channel of a chat
    # ------------------------------------------------------------------
    @api.model
    def _whatsapp_channels(self, configuration, chats, create=True):
        """{chat id: channel} of an account, created for chats without one when ``create``.

        ``chats``: {chat id: (chat type, display name)}. Members: the users the
        account is shared with, nobody else (a private channel). A chat whose
        channel another transaction is creating, or created after this one
        began (so this one cannot see it), is left out: see
        :meth:`_whatsapp_creatable`.
        """
        # created by the system: Odoo makes the creating user a member, and whoever made a message arrive
        # (a sync, a webhook, a send) is not for that a member of the chat
        Channel = self.with_user(SUPERUSER_ID).with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
        # an archived channel is still the chat's one channel (the unique key counts it)
        found = {channel.whatsapp_chat_id: channel for channel in Channel.with_context(active_test=False).search([
            ('whatsapp_configuration_id', '=', configuration.id), ('whatsapp_chat_id', 'in', list(chats))])}
        missing = [chat for chat in chats if chat not in found]
        if missing and create:
            missing = self._whatsapp_creatable(configuration, missing)
        if missing and create:
            partners = configuration._discuss_member_partners()
            # with several accounts, the sidebar says which one a chat is on
            several = self.env['whatsapp.configuration'].sudo().search_count([]) > 1
            for chat in missing:
                chat_type, name = chats[chat]
                title = _('WhatsApp: %s') % (name or chat)
                if several:
                    title = _('%(title)s (%(account)s)') % {'title': title, 'account': configuration.name}
                found[chat] = self._whatsapp_create_channel(Channel, {
                    'name': title,
                    'description': _('WhatsApp %(kind)s on %(account)s') % {
                        'kind': _('group') if chat_type == 'group' else _('chat'), 'account': configuration.name},
                    'public': 'private',
                    'channel_type': 'channel',
                    'email_send': False,
                    # memberships made as Odoo makes them (pinned in the sidebar), not bare relation rows
                    'channel_last_seen_partner_ids': [(0, 0, {'partner_id': partner_id}) for partner_id in partners.ids],
                    'whatsapp_configuration_id': configuration.id,
                    'whatsapp_chat_id': chat,
                    'whatsapp_chat_type': 'group' if chat_type == 'group' else 'contact',
                })
        return found

    @api.model
    def _whatsapp_creatable(self, configuration, chats):
        """The chats whose channel this transaction may create now, without meeting another's.

        A webhook and a sync storing the first messages of a new chat at the same time
        would both create its channel, and the second insert would fail on the unique
        constraint, failing its whole webhook or sync page. So whoever creates channels
        of an account holds a transaction lock for it until its commit, and also skips the
        channels committed since its own snapshot began (seen from a fresh cursor).
        """
        cr = self.env.cr
        cr.execute('SELECT pg_try_advisory_xact_lock(%s, %s)', (CHANNEL_LOCK_NAMESPACE, configuration.id))
        if not cr.fetchone()[0]:
            return []
        if self.env.registry.in_test_mode():
            return chats  # the registry's cursor is this very transaction
        with self.pool.cursor() as fresh:
            fresh.execute('SELECT whatsapp_chat_id FROM mail_channel '
                          'WHERE whatsapp_configuration_id = %s AND whatsapp_chat_id IN %s',
                          (configuration.id, tuple(chats)))
            meanwhile = {row[0] for row in fresh.fetchall()}
        return [chat for chat in chats if chat not in meanwhile]

    @api.model
    def _whatsapp_create_channel(self, Channel, vals):
        root = self.env['res.users'].sudo().browse(SUPERUSER_ID).partner_id
        members = [command[2]['partner_id'] for command in vals['channel_last_seen_partner_ids']]
        try:
            with self.env.cr.savepoint():
                channel = Channel.create(vals)
                # Odoo makes its creator, the system here, a member: the chat's members are its account's users
                if root.id not in members:
                    channel.sudo().channel_last_seen_partner_ids.filtered(
                        lambda membership: membership.partner_id == root).unlink()
                return channel
        except psycopg2.errors.UniqueViolation as error:
            if 'whatsapp_chat_unique' not in str(error):
                raise
            raise ChannelCreatedMeanwhile(
                'WhatsApp chat %s of account %s: its Discuss channel was created by another transaction meanwhile'
                % (vals['whatsapp_chat_id'], vals['whatsapp_configuration_id'])) from error

    # ------------------------------------------------------------------
    # Members: only who may read the account's messages
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels._whatsapp_check_members()
        return channels

    def write(self, vals):
        if 'whatsapp_configuration_id' in vals:
            result = super().write(vals)
            self._whatsapp_check_members()
            return result
        if not {'channel_partner_ids', 'channel_last_seen_partner_ids'} & set(vals):
            return super().write(vals)
        # only who joins now is checked: a member who just lost the right leaves on its own
        chats = self.sudo().with_context(active_test=False).filtered('whatsapp_configuration_id')
        before = {channel.id: channel.channel_partner_ids for channel in chats}
        result = super().write(vals)
        chats.invalidate_cache(['channel_partner_ids', 'channel_last_seen_partner_ids'])
        for channel in chats:
            channel._whatsapp_check_members(channel.channel_partner_ids - before[channel.id])
        return result

    def message_subscribe(self, partner_ids=None, channel_ids=None, subtype_ids=None):
        # a follower of a channel is notified of its messages, like a member
        if partner_ids:
            self._whatsapp_check_members(self.env['res.partner'].browse(partner_ids))
        return super().message_subscribe(partner_ids=partner_ids, channel_ids=channel_ids, subtype_ids=subtype_ids)

    def _whatsapp_check_members(self, partners=None):
        """Refuse members (``partners``, else every member) of WhatsApp chats' channels who may not
        read the chat's account: whatever adds them (Invite, join, an RPC), they would read it."""
        for channel in self.sudo().filtered('whatsapp_configuration_id'):
            members = partners if partners is not None else \
                channel.with_context(active_test=False).channel_partner_ids
            refused = members.sudo() - channel.whatsapp_configuration_id._discuss_allowed_partners()
            if refused:
                raise AccessError(_('%(people)s may not read the WhatsApp account %(account)s, so they cannot be '
                                    'in its chat %(chat)s.') % {
                    'people': ', '.join(refused.mapped('display_name')),
                    'account': channel.whatsapp_configuration_id.name, 'chat': channel.name})

    def whatsapp_invite_search(self, name, limit=20):
        """Who Discuss's Invite offers for a WhatsApp chat's channel: people who may read its account
        and are not in it yet, as ``res.partner.im_search`` returns them."""
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        channel = self.sudo()
        if not channel.whatsapp_configuration_id:
            return self.env['res.partner'].im_search(name, limit=limit)
        allowed = channel.whatsapp_configuration_id._discuss_allowed_partners().filtered('user_ids') \
            - channel.with_context(active_test=False).channel_partner_ids - self.env.user.partner_id \
            - self.env['res.users'].sudo().browse(SUPERUSER_ID).partner_id
        found = self.env['res.partner'].sudo().search(
            [('id', 'in', allowed.ids), ('name', 'ilike', name or '')], limit=limit, order='name')
        statuses = {partner.id: partner.im_status for partner in found}
        return [{'id': partner.id, 'name': partner.name, 'im_status': statuses[partner.id],
                 'user_id': partner.user_ids[:1].id} for partner in found]

    # ------------------------------------------------------------------
    # Writing in the channel sends to WhatsApp
    # ------------------------------------------------------------------
    def channel_info(self, extra_info=False):
        """Discuss knows a WhatsApp chat's channel: its messages get a Reply button."""
        infos = super().channel_info(extra_info=extra_info)
        chats = {channel.id: bool(channel.whatsapp_chat_id) for channel in self.sudo()}
        for info in infos:
            info['whatsapp_chat'] = chats.get(info.get('id'), False)
        return infos

    @api.returns('mail.message', lambda value: value.id)
    def message_post(self, *, message_type='notification', **kwargs):
        sending = (len(self) == 1 and self.whatsapp_configuration_id and message_type == 'comment'
                   and not self.env.context.get('whatsapp_from_whatsapp'))
        # the post's parent_id may be moved up a level by mail.thread: quote what was answered
        answered_id = kwargs.get('parent_id')
        text = None
        if sending and answered_id:
            quoted = self._whatsapp_quoted(answered_id)
            text = html2plaintext(kwargs.get('body') or '').strip()
            if quoted and text:
                # the post shows what it answers from the start (Discuss shows the post it is told of
                # at once), as received replies do
                kwargs['body'] = quoted._quote_html() + Markup(kwargs.get('body') or '')
        message = super().message_post(message_type=message_type, **kwargs)
        if sending and message.author_id and message.author_id == self.env.user.partner_id:
            self._whatsapp_send(message, answered_id=answered_id, text=text)
        return message

    def _whatsapp_quoted(self, answered_id):
        """The WhatsApp message of this chat's account posted as ``answered_id``, or an empty record."""
        quoted = self.env['whatsapp.message'].sudo().search([('mail_message_id', '=', answered_id)], limit=1)
        return quoted if quoted.configuration_id == self.sudo().whatsapp_configuration_id else quoted.browse()

    def _whatsapp_send(self, mail_message, answered_id=None, text=None):
        """Send what a user wrote here (text, then each file) and store it; a refusal is said in the channel.

        ``answered_id``: the post the user answered (Reply): the send quotes its WhatsApp
        message, and the user's post shows it above the text, as received replies do.
        ``text``: what the user wrote, when the post shows more (the quote).
        """
        self.ensure_one()
        configuration = self.env['whatsapp.configuration'].search([('id', '=', self.whatsapp_configuration_id.id)])
        if not configuration:
            self._whatsapp_note(_('Not sent to WhatsApp: you may not send from the account of this chat.'))
            return
        configuration = configuration.sudo()
        Message = self.env['whatsapp.message'].sudo()
        answered_id = answered_id or mail_message.parent_id.id
        quoted = self._whatsapp_quoted(answered_id) if answered_id else Message
        quoted_id = quoted.message_id or None
        if text is None:
            text = html2plaintext(mail_message.body or '').strip()
        files = mail_message.attachment_ids.sudo()
        parts = []
        if text:
            parts.append((text, None))
        for attachment in files:
            mimetype = attachment.mimetype or 'application/octet-stream'
            parts.append((None, (base64.b64decode(attachment.datas or b''), attachment.name or 'file', mimetype,
                                 guess_media_type(None, mimetype), attachment)))
        target = self.whatsapp_chat_id
        contact = self.env['whatsapp.contact'].sudo().search([
            ('configuration_id', '=', configuration.id), '|', ('contact_id', '=', target), ('lid', '=', target)],
            limit=1) \
            if self.whatsapp_chat_type == 'contact' else None
        group = self.env['whatsapp.group'].sudo().search([
            ('configuration_id', '=', configuration.id), ('group_id', '=', target)], limit=1) \
            if self.whatsapp_chat_type == 'group' else None
        client = configuration._make_provider_client()
        errors = []
        try:
            for index, (body, media) in enumerate(parts):
                vals, error = Message._send_vals(
                    configuration, client, target, body=body, media=media[:4] if media else None,
                    quoted_id=quoted_id if index == 0 else None,
                    contact_id=contact.id if contact else False, group_id=group.id if group else False,
                    once_key='discuss:%d:%d' % (mail_message.id, index))
                vals['mail_message_id'] = mail_message.id if index == 0 else False
                by_key, _stats = Message.with_context(whatsapp_posted_already=True)._upsert([vals])
                record = next(iter(by_key.values()), None)
                if media and record:
                    record.write({'attachment_id': media[4].id, 'media_state': 'downloaded'})
                if index == 0 and body and record and quoted_id and not error:
                    Message._set_post_body(mail_message, record._discuss_body())
                if error:
                    errors.append(error)
        finally:
            client.close()
        if errors:
            sentence = '\n'.join(errors)
            self._whatsapp_note(_('Not sent to WhatsApp: %s') % sentence)

    def _whatsapp_note(self, text):
        """A line in the channel from the system, never sent to WhatsApp."""
        self.sudo().with_context(whatsapp_from_whatsapp=True).message_post(
            body=plaintext2html(text), author_id=self.env.ref('base.partner_root').id,
            message_type='comment', subtype_xmlid='mail.mt_comment')

    # ------------------------------------------------------------------
    # Reading the channel marks the chat read on WhatsApp
    # ------------------------------------------------------------------
    def channel_seen(self, last_message_id=None):
        result = super().channel_seen(last_message_id=last_message_id)
        if len(self) == 1 and self.whatsapp_configuration_id:
            self._whatsapp_mark_read(last_message_id)
        return result

    def _whatsapp_mark_read(self, last_message_id=None):
        configuration = self.sudo().whatsapp_configuration_id
        if not (configuration.mark_read_in_whatsapp and configuration._provider_supports('mark_read')):
            return
        domain = [('configuration_id', '=', configuration.id), ('chat_id', '=', self.whatsapp_chat_id),
                  ('from_me', '=', False), ('mail_message_id', '!=', False)]
        if last_message_id:
            domain.append(('mail_message_id', '<=', last_message_id))
        newest = self.env['whatsapp.message'].sudo().search(domain, order='message_date desc, id desc', limit=1)
        if not newest or newest.message_id == self.sudo().whatsapp_read_up_to:
            return
        client = configuration._make_provider_client()
        try:
            client.mark_read(self.whatsapp_chat_id, newest.message_id)
        except providers.ProviderError as error:
            # reading in Odoo works even when the provider does not answer; the next read tries again
            _logger.info('WhatsApp account %s: could not mark chat %s read (%s)', configuration.id,
                         self.whatsapp_chat_id, error)
            return
        finally:
            client.close()
        self.sudo().write({'whatsapp_read_up_to': newest.message_id})


class MailChannelPartner(models.Model):
    _inherit = 'mail.channel.partner'

    @api.model_create_multi
    def create(self, vals_list):
        memberships = super().create(vals_list)
        for membership in memberships:
            membership.channel_id._whatsapp_check_members(membership.partner_id)
        return memberships

    def write(self, vals):
        result = super().write(vals)
        if {'channel_id', 'partner_id'} & set(vals):
            for membership in self:
                membership.channel_id._whatsapp_check_members(membership.partner_id)
        return result
