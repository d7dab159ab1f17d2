# -*- coding: utf-8 -*-
import datetime
import json

from odoo import api, fields, models

from .. import providers

#: hours a kept event waits for its message (System Parameter to change it)
DEFAULT_PENDING_HOURS = 72
PENDING_HOURS_PARAM = 'whatsapp_integration.pending_event_hours'


class WhatsappMessageEvent(models.Model):
    """A status, edit, deletion or poll vote that arrived before its message.

    Providers deliver in any order (retries, parallel workers): such an event is
    kept here, keyed by account and message id, and applied by the same rules
    the moment the message is stored, whether by webhook or by sync.
    """
    _name = 'whatsapp.message.event'
    _description = 'WhatsApp Event Waiting for its Message'
    _order = 'id'

    configuration_id = fields.Many2one('whatsapp.configuration', string='Account', required=True,
                                       ondelete='cascade', index=True)
    message_id = fields.Char(string='WhatsApp Message ID', required=True, index=True)
    kind = fields.Selection([('status', 'Status'), ('edit', 'Edit'), ('deletion', 'Deletion'), ('vote', 'Poll Vote')],
                            required=True)
    status = fields.Char()
    body = fields.Text()
    chat_id = fields.Char()
    sender_id = fields.Char()
    recipient_id = fields.Char()
    error = fields.Text()
    alt_message_id = fields.Char()
    event_time = fields.Char(help='When a vote was cast or a text edited (ISO 8601, UTC): the last vote of a '
                                  'voter, and the newest edit, count.')

    @api.model
    def _keep(self, configuration, events):
        """Store events (providers records) whose message is not there yet."""
        vals_list = []
        for event in events:
            if isinstance(event, providers.StatusUpdate):
                vals = {'kind': 'status', 'status': event.status, 'recipient_id': event.recipient_id,
                        'error': event.error, 'alt_message_id': event.alt_message_id}
            elif isinstance(event, providers.MessageEdit):
                # the edit's time orders it against the message's other edits (the newest wins)
                vals = {'kind': 'edit', 'body': event.body, 'chat_id': event.chat_id, 'sender_id': event.sender_id,
                        'event_time': event.timestamp.isoformat() if event.timestamp else None}
            elif isinstance(event, providers.PollVote):
                # the vote's time orders it against later votes of the same voter
                vals = {'kind': 'vote', 'body': json.dumps(list(event.options)), 'chat_id': event.chat_id,
                        'sender_id': event.voter_id,
                        'event_time': event.timestamp.isoformat() if event.timestamp else None}
            else:
                vals = {'kind': 'deletion', 'chat_id': event.chat_id, 'sender_id': event.sender_id}
            vals.update(configuration_id=configuration.id, message_id=event.message_id)
            vals_list.append({name: value if value is not None else False for name, value in vals.items()})
        if vals_list:
            # a re-sync meets the same action messages again: keep each event once
            fields_compared = ('kind', 'status', 'body', 'chat_id', 'sender_id', 'recipient_id', 'error',
                               'alt_message_id', 'event_time')
            waiting = self.sudo().search([('configuration_id', '=', configuration.id),
                                          ('message_id', 'in', [vals['message_id'] for vals in vals_list])])
            known = {(event.message_id,) + tuple(event[name] or False for name in fields_compared)
                     for event in waiting}
            fresh = []
            for vals in vals_list:
                key = (vals['message_id'],) + tuple(vals.get(name) or False for name in fields_compared)
                if key not in known:
                    known.add(key)
                    fresh.append(vals)
            vals_list = fresh
        return self.sudo().create(vals_list) if vals_list else self.sudo()

    @api.model
    def _apply_pending(self, configuration, message_ids):
        """Apply, then forget, the kept events of messages just stored."""
        if not message_ids:
            return 0
        pending = self.sudo().search([('configuration_id', '=', configuration.id),
                                      ('message_id', 'in', list(message_ids))])
        if not pending:
            return 0
        Message = self.env['whatsapp.message'].sudo()
        statuses = [providers.StatusUpdate(
            message_id=event.message_id, status=event.status, recipient_id=event.recipient_id or None,
            error=event.error or None, alt_message_id=event.alt_message_id or None)
            for event in pending if event.kind == 'status']
        edits = [providers.MessageEdit(message_id=event.message_id, body=event.body or None,
                                       chat_id=event.chat_id or None, sender_id=event.sender_id or None,
                                       timestamp=_vote_time(event.event_time))
                 for event in pending if event.kind == 'edit']
        deletions = [providers.MessageDeletion(message_id=event.message_id, chat_id=event.chat_id or None,
                                               sender_id=event.sender_id or None)
                     for event in pending if event.kind == 'deletion']
        votes = [providers.PollVote(message_id=event.message_id, voter_id=event.sender_id or None,
                                    options=json.loads(event.body or '[]'), chat_id=event.chat_id or None,
                                    timestamp=_vote_time(event.event_time))
                 for event in pending if event.kind == 'vote']
        pending.unlink()
        # deletions last: a message edited and then deleted ends deleted
        return (Message._apply_status_updates(configuration, statuses, keep_missing=False)
                + Message._apply_edits(configuration, edits, keep_missing=False)
                + Message._apply_votes(configuration, votes, keep_missing=False)
                + Message._apply_deletions(configuration, deletions, keep_missing=False))

    @api.model
    def _expire(self, configuration):
        """Forget events that waited longer than their message could plausibly take."""
        hours = int(self.env['ir.config_parameter'].sudo().get_param(PENDING_HOURS_PARAM, DEFAULT_PENDING_HOURS))
        limit = fields.Datetime.now() - datetime.timedelta(hours=hours)
        expired = self.sudo().search([('configuration_id', '=', configuration.id), ('create_date', '<', limit)])
        count = len(expired)
        expired.unlink()
        self.env['whatsapp.message.key']._prune(configuration)
        return count


def _vote_time(text):
    try:
        return datetime.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
