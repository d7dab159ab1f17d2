# -*- coding: utf-8 -*-
"""Messages in their chat's Discuss channel, each exactly once.

A message is posted when it is first stored (``mail_message_id`` records the
post, so a re-sync or a redelivered webhook posts nothing), when the account's
"Conversations in Discuss" was on at its WhatsApp time; older ones only come
in through a conversation's backfill. Edits and deletions change the posted
message; a file downloaded later joins it.
"""
import logging

import psycopg2
from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import plaintext2html

from .mail_channel import CHANNEL_LOCK_NAMESPACE, ChannelCreatedMeanwhile
from .whatsapp_message import MESSAGE_TYPE_SELECTION

_logger = logging.getLogger(__name__)

#: messages a conversation brings in when it is opened
BACKFILL_MESSAGES = 20
#: characters of a quoted message shown above a reply
QUOTE_LENGTH = 120
#: attempts to post messages whose channel another transaction was creating, and the
#: longest wait for that transaction's commit in each
POST_AFTER_COMMIT_TRIES = 5
POST_AFTER_COMMIT_LOCK_SECONDS = 5


class WhatsappMessage(models.Model):
    _inherit = 'whatsapp.message'

    mail_message_id = fields.Many2one('mail.message', string='Posted in Discuss', ondelete='set null',
                                      index=True, copy=False, readonly=True)

    @api.model
    def _upsert(self, vals_list, update=True, create=True):
        """A message sent from Odoo (the send wizard, a template, the outbox) is posted in its
        chat's channel as it is stored, by who sent it; one written in the channel is there already."""
        by_key, stats = super()._upsert(vals_list, update=update, create=create)
        if stats.created and not self.env.context.get('whatsapp_posted_already'):
            created = set(stats.changed_ids[:stats.created])
            sent = self.browse([
                record.id for vals in vals_list if vals.get('sent_by_id') and vals.get('status') != 'failed'
                for record in [by_key.get((vals.get('configuration_id'), vals.get('message_id')))]
                if record and record.id in created])
            sent._discuss_candidates()._post_in_channels()
        return by_key, stats

    def _discuss_candidates(self):
        """The messages of ``self`` that belong in Discuss now."""
        def wanted(message):
            configuration = message.configuration_id
            return (configuration.discuss_enabled and configuration.discuss_since
                    and message.message_date >= configuration.discuss_since
                    and not message.mail_message_id and message.message_type != 'system'
                    and message.chat_type in ('contact', 'group') and message.chat_id)
        return self.filtered(wanted)

    def _post_in_channels(self, create_channels=True):
        """Post these messages in their chats' channels, oldest first, once each.

        Returns the messages left waiting for a channel another transaction is creating;
        they are posted right after this transaction commits (:meth:`_post_after_commit`).
        """
        messages = self.sudo().filtered(lambda message: not message.mail_message_id and message.chat_id
                                        and message.message_type != 'system')
        left = self.browse()
        for configuration in messages.mapped('configuration_id'):
            mine = messages.filtered(lambda message: message.configuration_id == configuration)
            chats = {}
            for message in mine:
                chats.setdefault(message.chat_id, (message.chat_type, message._chat_display_name()))
            channels = self.env['mail.channel']._whatsapp_channels(configuration, chats, create=create_channels)
            quoted_posts = self._posted_by_whatsapp_id(configuration, mine.mapped('quoted_message_id'))
            waiting = self.browse()
            for message in mine.sorted(lambda message: (message.message_date, message.id)):
                channel = channels.get(message.chat_id)
                if channel:
                    posted = message._post_in(channel, quoted_posts.get(message.quoted_message_id))
                    quoted_posts[message.message_id] = posted
                elif create_channels:
                    waiting |= message
            if waiting and not self.env.context.get('whatsapp_posting_after_commit'):
                waiting._post_after_commit(configuration)
            left |= waiting
        return left

    def _post_after_commit(self, configuration):
        """Post these messages once this transaction has committed, in a transaction that
        sees the channels another one was creating."""
        registry, configuration_id, message_ids = self.pool, configuration.id, self.ids

        def post():
            # runs inside the caller's commit(), which has succeeded: nothing may escape from here
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {'whatsapp_posting_after_commit': True})
                    left = env['whatsapp.message'].browse(message_ids)._post_waiting(configuration_id)
                if left:
                    _logger.warning('WhatsApp account %s: messages %s not posted in Discuss (their channel was '
                                    'not ready in time; Open Conversation brings them in)', configuration_id, left)
            except Exception:
                _logger.exception('WhatsApp account %s: messages %s not posted in Discuss (Open Conversation '
                                  'brings them in)', configuration_id, message_ids)

        self.env.cr.postcommit.add(post)

    def _post_waiting(self, configuration_id):
        """Post these messages, each attempt in a transaction of its own begun after the
        account's channel creator committed; return the ids still not posted.

        A serialization failure (a webhook posting in the same new channel, a status update
        of the same message) or a wait past ``lock_timeout`` is tried again, as Odoo does
        with a request; never waiting forever, since a webhook's answer waits for this.
        """
        cr = self.env.cr
        pending = self.ids
        for attempt in range(1, POST_AFTER_COMMIT_TRIES + 1):
            try:
                cr.execute("SET LOCAL lock_timeout = '%ds'" % POST_AFTER_COMMIT_LOCK_SECONDS)
                cr.execute('SELECT pg_advisory_xact_lock(%s, %s)', (CHANNEL_LOCK_NAMESPACE, configuration_id))
                cr.commit()  # the lock was free: the creator has committed, and the next snapshot sees it
                messages = self.browse(pending).exists().filtered(lambda message: not message.mail_message_id)
                pending = messages._post_in_channels().ids
                cr.commit()
            except psycopg2.OperationalError as error:
                cr.rollback()
                self.env.clear()
                if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY or attempt == POST_AFTER_COMMIT_TRIES:
                    raise
                continue
            if not pending:
                break
        return pending

    def _chat_display_name(self):
        if self.chat_type == 'group':
            return self.group_id.name or self.chat_id
        contact = self.contact_id
        return (contact.partner_id.name or contact.name or contact.pushname or contact.phone
                or self.sender_name or self.chat_id) if contact else (self.sender_name or self.chat_id)

    @api.model
    def _posted_by_whatsapp_id(self, configuration, whatsapp_ids):
        """{WhatsApp id: its mail.message} for already posted messages."""
        whatsapp_ids = [whatsapp_id for whatsapp_id in whatsapp_ids if whatsapp_id]
        if not whatsapp_ids:
            return {}
        return {message.message_id: message.mail_message_id for message in self.sudo().search([
            ('configuration_id', '=', configuration.id), ('message_id', 'in', whatsapp_ids),
            ('mail_message_id', '!=', False)])}

    def _post_in(self, channel, parent=None):
        """Post this message in ``channel`` as its sender; return the mail.message."""
        self.ensure_one()
        author = self.sudo().sent_by_id.partner_id if self.from_me else self.contact_id.partner_id
        name = self._sender_label()
        values = {
            'body': self._discuss_body(),
            'message_type': 'comment',
            'subtype_xmlid': 'mail.mt_comment',
            'attachment_ids': [self.attachment_id.id] if self.attachment_id else [],
            # its WhatsApp time, also when it comes in later (Open Conversation)
            'date': self.message_date,
        }
        if parent:
            values['parent_id'] = parent.id
        if author:
            values['author_id'] = author.id
        else:
            values.update(author_id=None, email_from=name)
        posted = channel.sudo().with_context(whatsapp_from_whatsapp=True, mail_create_nosubscribe=True) \
            .message_post(**values)
        self.write({'mail_message_id': posted.id})
        if '<audio' in values['body']:
            self._set_post_body(posted, values['body'])
        return posted

    @api.model
    def _set_post_body(self, mail_message, html):
        """Write a posted copy's body as built here: the sanitizer of mail.message bodies
        drops the ``controls`` of an audio player, which then shows nothing. Every part of
        this HTML is escaped text or an attachment id (``_discuss_body``)."""
        mail_message.flush(['body'])
        self.env.cr.execute('UPDATE mail_message SET body = %s WHERE id = %s', (str(html), mail_message.id))
        mail_message.invalidate_cache(['body'])

    def _discuss_body(self):
        """HTML of the message as Discuss shows it: the message it quotes, its text (or what
        it is when it has none), and a player for a voice note or audio file."""
        label = dict(MESSAGE_TYPE_SELECTION).get(self.message_type, '')
        if self.status == 'deleted':
            return Markup('<p><i>%s</i></p>') % _('This message was deleted.')
        if self.message_type == 'reaction':
            return Markup('<p>%s</p>') % (_('Reacted %s') % (self.body or ''))
        html = Markup('')
        quoted = self._quoted_message()
        if quoted and self.message_type != 'reaction':
            html += quoted._quote_html()
        if self.body:
            html += Markup(plaintext2html(self.body))  # it escapes the text itself
            if self.message_type == 'poll' and self.poll_results:
                html += Markup('<p><i>%s</i></p>') % _('Votes') + Markup(plaintext2html(self.poll_results))
        elif self.media_file_name:
            html += Markup('<p><i>%s</i></p>') % ('%s: %s' % (label, self.media_file_name))
        else:
            html += Markup('<p><i>%s</i></p>') % label
        attachment = self.attachment_id
        if attachment and (attachment.mimetype or '').startswith('audio/'):
            html += Markup('<p><audio controls="controls" preload="none" src="/web/content/%d"></audio></p>') \
                % attachment.id
        return html

    def _quote_html(self):
        """This message as a reply shows it above its own text."""
        text = self.body or dict(MESSAGE_TYPE_SELECTION).get(self.message_type, '')
        if len(text) > QUOTE_LENGTH:
            text = text[:QUOTE_LENGTH] + '\u2026'
        return Markup('<div class="o_whatsapp_quote"><b>%s</b>: %s</div>') % (self._sender_label(), text)

    def _quoted_message(self):
        if not self.quoted_message_id:
            return self.browse()
        return self.sudo().search([('configuration_id', '=', self.configuration_id.id),
                                   ('message_id', '=', self.quoted_message_id)], limit=1)

    def _sender_label(self):
        """Who wrote this message, as a person reads it."""
        if self.from_me and self.sudo().sent_by_id:
            return self.sudo().sent_by_id.name
        if self.from_me:
            return _('%s (from the phone)') % self.configuration_id.name
        return (self.contact_id.partner_id.name or self.sender_name or self.contact_id.name or self.contact_id.pushname
                or ('+%s' % self.sender_id if self.sender_id else self.chat_id))

    def _refresh_posts(self):
        """Edits and deletions reach the posted copies."""
        for message in self.sudo().filtered('mail_message_id'):
            self._set_post_body(message.mail_message_id, message._discuss_body())

    def _media_downloaded(self):
        super()._media_downloaded()
        for message in self.sudo().filtered(lambda message: message.mail_message_id and message.attachment_id):
            message.mail_message_id.write({'attachment_ids': [(4, message.attachment_id.id)]})
            self._set_post_body(message.mail_message_id, message._discuss_body())

    # ------------------------------------------------------------------
    # Edits and deletions
    # ------------------------------------------------------------------
    @api.model
    def _apply_edits(self, configuration, edits, keep_missing=True):
        updated = super()._apply_edits(configuration, edits, keep_missing)
        self._refresh_posts_of(configuration, [edit.message_id for edit in edits])
        return updated

    @api.model
    def _apply_deletions(self, configuration, deletions, keep_missing=True):
        updated = super()._apply_deletions(configuration, deletions, keep_missing)
        self._refresh_posts_of(configuration, [deletion.message_id for deletion in deletions])
        return updated

    @api.model
    def _apply_votes(self, configuration, votes, keep_missing=True):
        updated = super()._apply_votes(configuration, votes, keep_missing)
        self._refresh_posts_of(configuration, [vote.message_id for vote in votes])
        return updated

    @api.model
    def _refresh_posts_of(self, configuration, whatsapp_ids):
        if whatsapp_ids and configuration.discuss_enabled:
            self.sudo().search([('configuration_id', '=', configuration.id), ('message_id', 'in', whatsapp_ids),
                                ('mail_message_id', '!=', False)])._refresh_posts()

    # ------------------------------------------------------------------
    # Open Conversation
    # ------------------------------------------------------------------
    @api.model
    def _open_conversation(self, configuration, chat_id, chat_type, name):
        """The chat's channel, with its recent history posted, opened in Discuss."""
        configuration.check_access_rights('read')
        configuration.check_access_rule('read')
        configuration = configuration.sudo()
        if not configuration.discuss_enabled:
            raise UserError(_('Conversations in Discuss are off for %s: a WhatsApp manager turns them on in the '
                              'account (Files and Conversations).') % configuration.name)
        channel = self.env['mail.channel']._whatsapp_channels(configuration, {chat_id: (chat_type, name)}).get(chat_id)
        if not channel:
            # another transaction is creating it: Odoo runs this request again, which then sees it
            raise ChannelCreatedMeanwhile('WhatsApp chat %s of account %s: its Discuss channel is being created'
                                          % (chat_id, configuration.id))
        if self.env.user.partner_id not in channel.channel_partner_ids:
            # a membership as Discuss's join makes it (pinned in the sidebar)
            channel.sudo().write({'channel_last_seen_partner_ids': [(0, 0, {'partner_id': self.env.user.partner_id.id})]})
        recent = self.sudo().search([('configuration_id', '=', configuration.id), ('chat_id', '=', chat_id),
                                     ('message_type', '!=', 'system')],
                                    order='message_date desc, id desc', limit=BACKFILL_MESSAGES)
        recent.filtered(lambda message: not message.mail_message_id)._post_in_channels()
        return {
            'type': 'ir.actions.client',
            'tag': 'mail.widgets.discuss',
            'name': _('Discuss'),
            'context': {'active_id': 'mail.channel_%d' % channel.id},
            'params': {'default_active_id': 'mail.channel_%d' % channel.id},
        }
