# -*- coding: utf-8 -*-
import datetime
import json
import logging
import uuid

from odoo import _, api, fields, models
from odoo.tools import plaintext2html

from .. import providers
from .error_messages import explain
from .local_time import local_time_text
from .whatsapp_sync_mixin import to_naive_utc

_logger = logging.getLogger(__name__)

#: the time given to an edit the provider did not date: older than any dated one
UNTIMED_EDIT = datetime.datetime(1970, 1, 1)

MESSAGE_TYPE_SELECTION = [
    ('text', 'Text'), ('link_preview', 'Link'), ('image', 'Image'), ('video', 'Video'),
    ('gif', 'GIF'), ('audio', 'Audio'), ('voice', 'Voice Note'), ('document', 'Document'),
    ('sticker', 'Sticker'), ('location', 'Location'), ('live_location', 'Live Location'),
    ('contact', 'Contact Card'), ('contact_list', 'Contact Cards'), ('poll', 'Poll'),
    ('reaction', 'Reaction'), ('system', 'System'), ('call', 'Call'),
    ('group_invite', 'Group Invite'), ('event', 'Event'), ('interactive', 'Interactive'),
    ('order', 'Order'), ('product', 'Product'), ('story', 'Story'), ('unknown', 'Other'),
]
#: how far apart a send and its first sight in a sync may be to be the same message
SENT_MATCH_MINUTES = 15
#: a send that heard nothing this long is asked about (GET /messages/{id}) by the scheduled sync
SILENT_SEND_MINUTES = 30
#: ... for this many days after it was sent, at most this many sends per account and run
SILENT_SEND_DAYS = 3
SILENT_SEND_CHECKS = 20
STATUS_SELECTION = [
    ('pending', 'Pending'), ('sent', 'Sent'), ('delivered', 'Delivered'), ('read', 'Read'),
    ('played', 'Played'), ('failed', 'Failed'), ('deleted', 'Deleted'),
]


def _status_moves(stored, new):
    """Whether a message may go from status ``stored`` to ``new``."""
    if stored == new or stored == 'deleted':
        return False
    if new in ('deleted', 'failed'):
        return True
    if stored == 'failed':
        return False
    order = providers.DELIVERY_ORDER
    if stored in order and new in order:
        return order.index(new) > order.index(stored)
    return True


class WhatsappMessage(models.Model):
    """A WhatsApp message of one account, at its WhatsApp time."""
    _name = 'whatsapp.message'
    _inherit = 'whatsapp.sync.mixin'
    _description = 'WhatsApp Message'
    _order = 'message_date desc, id desc'
    _rec_name = 'message_id'
    _upsert_key_fields = ('configuration_id', 'message_id')

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    message_id = fields.Char(string='WhatsApp Message ID', required=True, index=True)
    chat_id = fields.Char(string='Chat', index=True,
                          help='The other person\'s WhatsApp ID in a 1:1 chat, or the group ID.')
    chat_type = fields.Selection(
        [('contact', 'Direct'), ('group', 'Group'), ('broadcast', 'Broadcast'),
         ('newsletter', 'Channel'), ('unknown', 'Other')], default='contact')
    from_me = fields.Boolean(string='Sent by Us', index=True)
    direction = fields.Selection(
        [('in', 'Received'), ('out', 'Sent')], required=True, default='in',
        help='Set with "Sent by Us" by every writer (sync, webhook, send); a stored column '
             'rather than a computed field so that imports insert rows in batches.')
    sender_id = fields.Char(string='Sender WhatsApp ID')
    sender_name = fields.Char()
    message_type = fields.Selection(MESSAGE_TYPE_SELECTION, string='Type', default='text', index=True)
    raw_type = fields.Char(string='Provider Type')
    body = fields.Text()
    status = fields.Selection(STATUS_SELECTION, index=True)
    message_date = fields.Datetime(string='WhatsApp Time', required=True, index=True)
    media_id = fields.Char(string='Media ID', help='The provider\'s id of the message\'s file, to download it.')
    media_mime_type = fields.Char(string='Media Type')
    media_file_name = fields.Char(string='File Name')
    media_file_size = fields.Integer(string='File Size')
    media_url = fields.Char(string='Media URL')
    provider_ref = fields.Char(
        string='Provider Reference', index=True,
        help='The provider\'s own id of a message sent from Odoo when it differs from the WhatsApp id '
             '(Wassenger queues messages under an id of its own).')
    send_reference = fields.Char(
        index=True, copy=False,
        help='The reference Odoo sent with the message; the provider echoes it on the WhatsApp message, '
             'which ties the two exactly (Wassenger).')
    error_message = fields.Text(string='Error', help='Why the provider refused to send it.')
    edited_at = fields.Datetime(
        string='Edited At', readonly=True, copy=False,
        help='When the text shown was edited on WhatsApp: a later delivery of the original, or an '
             'older edit, does not replace it.')
    error_detail = fields.Text(string='Technical Details', help='What the provider said, for whoever debugs.')
    sent_by_id = fields.Many2one('res.users', string='Sent By', ondelete='set null', readonly=True,
                                 help='The Odoo user who sent it from Odoo (empty: written on the phone, or '
                                      'received).')
    chatter_posted = fields.Boolean(help='Already posted on the partner\'s chatter.')
    contact_id = fields.Many2one('whatsapp.contact', string='Contact', ondelete='set null', index=True)
    group_id = fields.Many2one('whatsapp.group', string='Group', ondelete='set null', index=True)
    poll_options = fields.Text(help='A poll\'s options, in order (JSON list).')
    poll_votes = fields.Text(help='A poll\'s current choices per voter (JSON: WhatsApp id, or "me", to options).')
    poll_results = fields.Text(string='Poll Results', help='Votes per option, as people read them.')

    _sql_constraints = [
        ('message_unique', 'UNIQUE(configuration_id, message_id)',
         'A WhatsApp message exists only once per account.'),
    ]

    def _upsert_same(self, name, stored, new):
        """A status never moves backwards: a late 'delivered' does not undo 'read',
        and nothing undoes 'deleted'."""
        if name == 'status' and stored and new and not _status_moves(stored, new):
            return True
        return super()._upsert_same(name, stored, new)

    @api.model
    def _upsert(self, vals_list, update=True, create=True):
        """Two values for one message in a batch (a webhook carrying 'read' then a
        late 'delivered') keep the furthest status, not merely the last one."""
        vals_list = [dict(vals) for vals in vals_list]
        furthest = {}
        for vals in vals_list:
            key = (vals.get('configuration_id'), vals.get('message_id'))
            status = vals.get('status')
            if status and (key not in furthest or _status_moves(furthest[key], status)):
                furthest[key] = status
        for vals in vals_list:
            key = (vals.get('configuration_id'), vals.get('message_id'))
            if vals.get('status') and furthest.get(key) != vals['status']:
                vals['status'] = furthest[key]
        self._keep_edited_texts(vals_list)
        return super()._upsert(vals_list, update=update, create=create)

    def _keep_edited_texts(self, vals_list):
        """A message delivered again (a retry, a backlog, a re-sync) never undoes an edit
        applied since: its text gives way to the edited one. Edits carry ``edited_at``."""
        keys = {}
        for vals in vals_list:
            if 'body' in vals and 'edited_at' not in vals and vals.get('configuration_id') and vals.get('message_id'):
                keys.setdefault(vals['configuration_id'], set()).add(vals['message_id'])
        if not keys:
            return
        self.flush(['edited_at'])
        edited = set()
        for configuration_id, message_ids in keys.items():
            self.env.cr.execute('SELECT message_id FROM whatsapp_message WHERE configuration_id = %s '
                                'AND message_id IN %s AND edited_at IS NOT NULL',
                                (configuration_id, tuple(message_ids)))
            edited.update((configuration_id, row[0]) for row in self.env.cr.fetchall())
        if edited:
            for vals in vals_list:
                if 'edited_at' not in vals and (vals.get('configuration_id'), vals.get('message_id')) in edited:
                    vals.pop('body', None)

    @api.model
    def _vals_from_record(self, configuration, record, contact_ids, group_ids):
        """Values for a providers.Message, linked through already ensured ids."""
        is_group = record.chat_type == 'group'
        person = record.sender_id if is_group else record.chat_id
        media = record.media
        vals = {
            'configuration_id': configuration.id,
            'message_id': record.message_id,
            'chat_id': record.chat_id,
            'chat_type': record.chat_type or 'unknown',
            'from_me': bool(record.from_me),
            'direction': 'out' if record.from_me else 'in',
            'sender_id': record.sender_id or False,
            'message_type': record.message_type or 'unknown',
            'raw_type': record.raw_type or False,
            'body': record.body or False,
            'message_date': to_naive_utc(record.timestamp),
            'contact_id': contact_ids.get(person, False),
            'group_id': group_ids.get(record.chat_id, False) if is_group else False,
        }
        if record.sender_name:
            vals['sender_name'] = record.sender_name
        if record.poll_options is not None:
            options = [option.name for option in record.poll_options]
            vals['poll_options'] = json.dumps(options)
            if any(option.voters is not None for option in record.poll_options):
                votes = {}
                for option in record.poll_options:
                    for voter in option.voters or ():
                        votes.setdefault(voter, []).append(option.name)
                vals.update(self._poll_vote_vals(options, votes))
        if record.status:
            vals['status'] = record.status
        if media:
            vals.update({
                'media_id': media.media_id or False,
                'media_mime_type': media.mime_type or False,
                'media_file_name': media.file_name or False,
                'media_file_size': media.file_size or 0,
                'media_url': media.url or False,
            })
        return vals

    @api.model
    def _send_vals(self, configuration, client, target, body=None, media=None, quoted_id=None, once_key=None,
                   contact_id=False, group_id=False, refusal=None):
        """Send one message through the account; return the values to store it with,
        sent or failed, and the error (None when sent).

        ``media``: (bytes, file name, MIME type, message type). ``once_key``: the
        send never repeats under this key, even when Odoo retries the transaction.
        """
        vals = {
            'configuration_id': configuration.id,
            # stored as syncs store it (person key, not '+E.164'), so the two meet
            'chat_id': target.lstrip('+') if target else False,
            'chat_type': 'group' if group_id or (target or '').endswith('@g.us') else 'contact',
            'from_me': True,
            'direction': 'out',
            'message_type': media[3] if media else 'text',
            'body': body or False,
            'message_date': fields.Datetime.now(),
            'contact_id': contact_id,
            'group_id': group_id,
            'quoted_message_id': quoted_id or False,
            'sent_by_id': self.env.uid,
        }
        if media:
            vals.update({'media_file_name': media[1], 'media_mime_type': media[2], 'media_file_size': len(media[0])})
        error = refusal
        # A caption the provider would drop (WHAPI audio, voice notes) goes as a text right after.
        caption_apart = bool(media and body and not refusal and configuration._caption_sent_apart(media[2]))
        if not error:
            if media:
                def send():
                    return client.send_media(target, file_bytes=media[0], file_name=media[1], mime_type=media[2],
                                             caption=None if caption_apart else (body or None), quoted_id=quoted_id)
            else:
                def send():
                    return client.send_text(target, body, quoted_id=quoted_id)
            try:
                if once_key:
                    result = self.env['whatsapp.provider.call'].sudo()._call_once(once_key, send)
                else:
                    result = send()
            except providers.ProviderError as exc:
                error, vals['error_detail'] = self._send_error(exc)
            except ValueError as exc:
                error = str(exc)
        if error:
            vals.update({'message_id': 'failed-%s' % uuid.uuid4().hex, 'status': 'failed', 'error_message': error})
        else:
            # A provider that queues first (Wassenger) answers only with its own id: it is
            # kept as provider_ref, equal to message_id until a status update or a sync
            # names the WhatsApp id, and the row is renamed then.
            whatsapp_id = getattr(result, 'whatsapp_message_id', None)
            vals.update({'message_id': whatsapp_id or result.message_id, 'status': 'sent',
                         'provider_ref': result.message_id if whatsapp_id != result.message_id else False,
                         'send_reference': getattr(result, 'reference', None) or False})
            if caption_apart:
                # the file went without its text (a failed send keeps it, to show what was meant)
                vals['body'] = False
                caption_vals, _caption_error = self._send_vals(
                    configuration, client, target, body=body, once_key=once_key and once_key + ':caption',
                    contact_id=contact_id, group_id=group_id)
                self._upsert([caption_vals])
        return vals, error

    @api.model
    def _send_error(self, error):
        """``(sentence, technical detail)`` of a refused send: what happened and what to do in plain
        words; a refusal of this one message (a 4xx other than the token) says the provider's reason."""
        if error.reason == 'rejected':
            words = getattr(error, 'provider_text', None) or getattr(error, 'message', None) or str(error)
            return _('The provider refused to send it: %s') % words, str(error)
        return explain(self.env, error)

    def write(self, vals):
        if 'from_me' in vals and 'direction' not in vals:
            vals = dict(vals, direction='out' if vals['from_me'] else 'in')
        return super().write(vals)

    @api.model
    def _apply_status_updates(self, configuration, updates, keep_missing=True):
        """Apply delivery statuses to stored messages; return how many changed.

        A status for a message not stored yet is kept (whatsapp.message.event)
        and applied when the message arrives. A message sent from Odoo may be
        known by the provider's own reference (Wassenger's queue id); an update
        carrying both ids renames it to its WhatsApp id, so the next sync meets
        the same row.
        """
        updates = [update for update in updates if update.status]
        if not updates:
            return 0
        self._adopt_whatsapp_ids(configuration, updates)
        updates = self._events_to_apply(configuration, updates, keep_missing)
        vals_list = []
        for update in updates:
            vals = {'configuration_id': configuration.id, 'status': update.status,
                    'message_id': getattr(update, 'alt_message_id', None) or update.message_id}
            if update.status == 'failed' and update.error:
                vals['error_message'] = update.error
            vals_list.append(vals)
        _by_key, stats = self._upsert(vals_list, create=False)
        return stats.updated

    @api.model
    def _apply_edits(self, configuration, edits, keep_missing=True):
        """New texts of stored messages (kept for later when the message is not there)."""
        edits = self._events_to_apply(configuration, [edit for edit in edits if edit.body is not None], keep_missing)
        if not edits:
            return 0
        # the newest edit wins, whatever order the provider delivers them in; one whose time
        # the provider did not give counts as the oldest (any timed edit wins over it)
        newest = {}
        for edit in edits:
            at = to_naive_utc(edit.timestamp) if edit.timestamp else UNTIMED_EDIT
            if edit.message_id not in newest or at >= newest[edit.message_id][0]:
                newest[edit.message_id] = (at, edit.body)
        self.flush(['edited_at'])
        self.env.cr.execute('SELECT message_id, edited_at FROM whatsapp_message WHERE configuration_id = %s '
                            'AND message_id IN %s AND edited_at IS NOT NULL', (configuration.id, tuple(newest)))
        stored = dict(self.env.cr.fetchall())
        _by_key, stats = self._upsert([
            {'configuration_id': configuration.id, 'message_id': message_id, 'body': body, 'edited_at': at}
            for message_id, (at, body) in newest.items()
            if message_id not in stored or at >= stored[message_id]], create=False)
        return stats.updated

    @api.model
    def _apply_deletions(self, configuration, deletions, keep_missing=True):
        deletions = self._events_to_apply(configuration, deletions, keep_missing)
        _by_key, stats = self._upsert([
            {'configuration_id': configuration.id, 'message_id': deletion.message_id, 'status': 'deleted'}
            for deletion in deletions], create=False)
        return stats.updated

    @api.model
    def _poll_vote_vals(self, options, votes):
        """Stored values of a poll's choices: per voter, and as readable counts."""
        counts = dict((option, 0) for option in options)
        for chosen in votes.values():
            for option in chosen:
                counts[option] = counts.get(option, 0) + 1
        lines = [_('%(option)s: %(count)s') % {'option': option, 'count': count} for option, count in counts.items()]
        return {'poll_votes': json.dumps(votes, sort_keys=True) if votes else False,
                'poll_results': '\n'.join(lines) or False}

    @api.model
    def _apply_actions(self, configuration, records):
        """Apply the action messages among ``records`` (edits, deletions, votes on another
        message) and return the records to store as messages.

        A reaction known only from its message's summary (``partial``) is kept only when
        no reaction of that message with that emoji is stored yet: the full copy a
        webhook stored wins, and a re-sync changes nothing.
        """
        events, kept, partial = [], [], []
        for record in records:
            if getattr(record, 'action', None):
                events.extend(providers.action_events(record))
            elif getattr(record, 'partial', False):
                partial.append(record)
            else:
                kept.append(record)
        if partial:
            self.flush(['message_id', 'quoted_message_id', 'message_type', 'body'])
            self.env.cr.execute("""SELECT message_id, quoted_message_id, body FROM whatsapp_message
                                    WHERE configuration_id = %s AND (message_id = ANY(%s)
                                          OR (message_type = 'reaction' AND quoted_message_id = ANY(%s)))""",
                                (configuration.id, [rec.message_id for rec in partial],
                                 [rec.quoted_id for rec in partial]))
            ids, reactions = set(), set()
            for message_id, quoted, body in self.env.cr.fetchall():
                ids.add(message_id)
                reactions.add((quoted, body))
            ids.update(rec.message_id for rec in kept)
            reactions.update((rec.quoted_id, rec.body) for rec in kept if rec.message_type == 'reaction')
            for rec in partial:
                if rec.message_id not in ids and (rec.quoted_id, rec.body) not in reactions:
                    ids.add(rec.message_id)
                    reactions.add((rec.quoted_id, rec.body))
                    kept.append(rec)
        if events:
            edits = [event for event in events if isinstance(event, providers.MessageEdit)]
            deletions = [event for event in events if isinstance(event, providers.MessageDeletion)]
            votes = [event for event in events if isinstance(event, providers.PollVote)]
            self._apply_edits(configuration, edits)
            self._apply_votes(configuration, votes)
            self._apply_deletions(configuration, deletions)
        return kept

    @api.model
    def _apply_votes(self, configuration, votes, keep_missing=True):
        """A vote replaces its voter's earlier choice on the poll (none chosen: withdrawn);
        a vote for a poll not stored yet waits for it. Returns the polls changed."""
        votes = self._events_to_apply(configuration, votes, keep_missing)
        if not votes:
            return 0
        polls = self.search([('configuration_id', '=', configuration.id),
                             ('message_id', 'in', list({vote.message_id for vote in votes}))])
        by_id = {poll.message_id: poll for poll in polls}
        changed = self.browse()
        # the last vote counts (a vote without a time is taken as the oldest)
        ordered = sorted(votes, key=lambda vote: (vote.timestamp is not None, vote.timestamp))
        for poll_id in {vote.message_id for vote in ordered}:
            poll = by_id.get(poll_id)
            if poll is None:
                continue
            current = json.loads(poll.poll_votes) if poll.poll_votes else {}
            for vote in ordered:
                if vote.message_id != poll_id:
                    continue
                voter = vote.voter_id or 'me'
                if vote.options:
                    current[voter] = list(vote.options)
                else:
                    current.pop(voter, None)
            options = json.loads(poll.poll_options) if poll.poll_options else []
            vals = self._poll_vote_vals(options, current)
            if any((poll[name] or False) != value for name, value in vals.items()):
                poll.write(vals)
                changed |= poll
        return len(changed)

    @api.model
    def _events_to_apply(self, configuration, events, keep_missing):
        """The events (status, edit, deletion) to apply now, read in one query.

        An event whose message is not stored yet is kept (whatsapp.message.event)
        for when it arrives. WhatsApp message ids are chosen by the sending
        client, so an id alone could reach another chat's message: an event naming
        a chat must match the stored message's chat; one naming who made it must
        match the sender of a message we received; a status naming its recipient
        must match a direct chat's person. An event naming none of these comes
        from the provider alone (e.g. a list of removed ids).
        """
        if not events:
            return []
        ids = set()
        for event in events:
            ids.add(event.message_id)
            if getattr(event, 'alt_message_id', None):
                ids.add(event.alt_message_id)
        self.flush(['message_id', 'provider_ref', 'chat_id', 'chat_type', 'from_me', 'sender_id'])
        self.env.cr.execute("""SELECT message_id, provider_ref, chat_id, chat_type, from_me, sender_id
                                 FROM whatsapp_message
                                WHERE configuration_id = %s AND (message_id = ANY(%s) OR provider_ref = ANY(%s))""",
                            (configuration.id, list(ids), list(ids)))
        stored = {}
        for row in self.env.cr.dictfetchall():
            stored[row['message_id']] = row
            if row['provider_ref']:
                stored.setdefault(row['provider_ref'], row)
        to_apply, missing = [], []
        for event in events:
            message = stored.get(event.message_id) or stored.get(getattr(event, 'alt_message_id', None))
            if message is None:
                missing.append(event)
                continue
            chat = getattr(event, 'chat_id', None)
            sender = getattr(event, 'sender_id', None)
            recipient = getattr(event, 'recipient_id', None)
            if ((chat and message['chat_id'] and chat != message['chat_id'])
                    or (sender and not message['from_me'] and message['sender_id']
                        and sender != message['sender_id'])
                    or (recipient and message['chat_type'] == 'contact' and message['chat_id']
                        and recipient != message['chat_id'])):
                _logger.info('WhatsApp account %s: %s for message %s ignored: it comes from another chat '
                             'or sender', configuration.id, type(event).__name__, event.message_id)
                continue
            to_apply.append(event)
        if missing and keep_missing:
            self.env['whatsapp.message.key']._touch(configuration, [event.message_id for event in missing])
            self.env['whatsapp.message.event']._keep(configuration, missing)
        return to_apply

    @api.model
    def _adopt_whatsapp_ids(self, configuration, updates):
        """Rename rows stored under a provider reference to the WhatsApp id an update names."""
        pairs = {update.message_id: update.alt_message_id for update in updates
                 if getattr(update, 'alt_message_id', None) and update.alt_message_id != update.message_id}
        if not pairs:
            return
        candidates = self.search([('configuration_id', '=', configuration.id), '|',
                                  ('message_id', 'in', list(pairs)), ('provider_ref', 'in', list(pairs))])
        taken = set(self.search([('configuration_id', '=', configuration.id),
                                 ('message_id', 'in', list(pairs.values()))]).mapped('message_id'))
        for message in candidates:
            reference = message.provider_ref if message.provider_ref in pairs else message.message_id
            whatsapp_id = pairs.get(reference)
            if not whatsapp_id or message.message_id == whatsapp_id:
                continue
            if whatsapp_id in taken:
                # A sync or webhook stored it first: that row is the message; the queued
                # copy only lends it the reference and the send error, if any.
                twin = self.search([('configuration_id', '=', configuration.id), ('message_id', '=', whatsapp_id)])
                twin.write({'provider_ref': reference, 'error_message': twin.error_message or message.error_message})
                message.unlink()
            else:
                message.write({'message_id': whatsapp_id, 'provider_ref': reference})
                taken.add(whatsapp_id)

    @api.model
    def _adopt_sent_messages(self, configuration, records):
        """Give messages sent from Odoo their WhatsApp id when a sync first meets them.

        A provider that queues sends (Wassenger) answers with its own id; the
        message is stored under it until a status update or this sync names
        the WhatsApp id. Matched on chat and text within a few minutes of the
        send, oldest first; one query per page, only for pages with our own
        messages.
        """
        outgoing = sorted((rec for rec in records if rec.from_me), key=lambda rec: rec.timestamp)
        if not outgoing:
            return
        self.flush(['message_id', 'provider_ref', 'chat_id', 'body', 'message_date'])
        self.env.cr.execute("""SELECT message_id FROM whatsapp_message
                                WHERE configuration_id = %s AND message_id = ANY(%s)""",
                            (configuration.id, [rec.message_id for rec in outgoing]))
        stored = {row[0] for row in self.env.cr.fetchall()}
        outgoing = [rec for rec in outgoing if rec.message_id not in stored]
        outgoing = self._adopt_by_reference(configuration, outgoing)
        if not outgoing:
            return
        window = datetime.timedelta(minutes=SENT_MATCH_MINUTES)
        times = [to_naive_utc(rec.timestamp) for rec in outgoing]
        self.env.cr.execute("""
            SELECT id, chat_id, body, message_date FROM whatsapp_message
             WHERE configuration_id = %s AND from_me AND provider_ref = message_id
               AND message_date BETWEEN %s AND %s
             ORDER BY message_date, id""", (configuration.id, min(times) - window, max(times) + window))
        waiting = self.env.cr.fetchall()
        for rec, sent_at in zip(outgoing, times):
            for index, (row_id, chat_id, body, sent) in enumerate(waiting):
                if chat_id == rec.chat_id and (body or '') == (rec.body or '') and abs(sent - sent_at) <= window:
                    self.browse(row_id).write({'message_id': rec.message_id})
                    del waiting[index]
                    break

    def name_get(self):
        """'Chat · WhatsApp time' in the reader's zone, not the opaque WhatsApp id."""
        return [(message.id, '%s · %s' % (
            message.group_id.name or message.contact_id.display_name or message.chat_id or message.message_id,
            local_time_text(message, message.message_date))) for message in self]

    @api.model
    def _adopt_by_reference(self, configuration, outgoing):
        """Messages whose echoed reference names a send still under the provider's own id:
        that row takes the WhatsApp id (exact, whatever the time or text). Returns the
        records left for the approximate match."""
        by_reference = {rec.reference: rec for rec in outgoing if getattr(rec, 'reference', None)}
        if not by_reference:
            return outgoing
        waiting = self.search([('configuration_id', '=', configuration.id), ('from_me', '=', True),
                               ('send_reference', 'in', list(by_reference))])
        adopted = set()
        for message in waiting:
            rec = by_reference[message.send_reference]
            if message.message_id != rec.message_id and message.provider_ref == message.message_id:
                message.write({'message_id': rec.message_id})
            adopted.add(rec.message_id)
        return [rec for rec in outgoing if rec.message_id not in adopted]

    @api.model
    def _check_silent_sends(self, configuration, client, limit=SILENT_SEND_CHECKS):
        """Ask the provider about sends that heard nothing since they were sent.

        A send still under the provider's own queue id (no status named its WhatsApp
        message), or still pending, after SILENT_SEND_MINUTES and within
        SILENT_SEND_DAYS: at most ``limit`` per call, least recently asked first.
        Returns how many changed.
        """
        if not configuration._provider_supports('get_message_status'):
            return 0
        now = fields.Datetime.now()
        self.flush(['message_id', 'provider_ref', 'status', 'from_me', 'message_date'])
        self.env.cr.execute("""
            SELECT id FROM whatsapp_message
             WHERE configuration_id = %s AND from_me
               AND (provider_ref = message_id OR status = 'pending')
               AND COALESCE(status, 'pending') IN ('pending', 'sent')
               AND message_date BETWEEN %s AND %s
             ORDER BY write_date, id
             LIMIT %s""", (configuration.id, now - datetime.timedelta(days=SILENT_SEND_DAYS),
                            now - datetime.timedelta(minutes=SILENT_SEND_MINUTES), limit))
        silent = self.browse([row[0] for row in self.env.cr.fetchall()])
        updates = []
        for message in silent:
            try:
                update = client.get_message_status(message.provider_ref or message.message_id)
            except providers.NotFoundError:
                _logger.info('WhatsApp account %s: the provider no longer knows sent message %s',
                             configuration.id, message.message_id)
                continue
            if update.status:
                updates.append(update)
        if silent:
            # asked: the next runs ask the others first
            # the clock, not the transaction's start or a time cut to the second: later than
            # any row's write_date, even one written in this very transaction
            self.env.cr.execute("UPDATE whatsapp_message SET write_date = clock_timestamp() AT TIME ZONE 'UTC' "
                                "WHERE id IN %s", (tuple(silent.ids),))
            silent.invalidate_cache(['write_date'])
        return self._apply_status_updates(configuration, updates, keep_missing=False)

    def _post_on_partners(self):
        """Post received messages of linked contacts on their partner's chatter, once each."""
        single_company = self.env['res.company'].sudo().search_count([]) == 1
        everyone = self.env.ref('base.group_user')

        def audience_allowed(message):
            # what a note on the partner exposes must not reach further than the account
            configuration = message.configuration_id
            partner_company = message.contact_id.partner_id.company_id
            same_company = partner_company == configuration.company_id or (single_company and not partner_company)
            return everyone in configuration.group_ids and same_company

        to_post = self.filtered(lambda message: (
            not message.from_me and not message.chatter_posted and message.contact_id.partner_id
            and message.configuration_id.post_to_chatter and message.message_type != 'system'
            and message.configuration_id.chatter_since
            and message.message_date >= message.configuration_id.chatter_since
            and audience_allowed(message)))
        for message in to_post:
            body = message.body or _('[%s]') % dict(MESSAGE_TYPE_SELECTION).get(message.message_type, '')
            message.contact_id.partner_id.message_post(
                body=plaintext2html(_('WhatsApp (%(account)s): %(body)s') % {
                    'account': message.configuration_id.name, 'body': body}),
                subtype_xmlid='mail.mt_note', message_type='comment')
        if to_post:
            to_post.write({'chatter_posted': True})
