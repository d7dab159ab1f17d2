# -*- coding: utf-8 -*-
from odoo import _, api, fields, models

from .local_time import local_time_text

SYNC_KINDS = ('contacts', 'groups', 'members', 'messages')


class WhatsappSyncLog(models.Model):
    """One account's part of one sync run: what it did and what went wrong."""
    _name = 'whatsapp.sync.log'
    _description = 'WhatsApp Sync Log'
    _order = 'started_at desc, id desc'
    _rec_name = 'started_at'

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    trigger = fields.Selection(
        [('cron', 'Scheduled'), ('manual', 'Sync Now'), ('wizard', 'Sync Wizard'), ('webhook', 'Webhook'),
         ('other', 'Shell or Script')],
        default='other', required=True)
    full_sync = fields.Boolean()
    state = fields.Selection(
        [('running', 'Running'), ('success', 'Success'), ('error', 'Error'), ('skipped', 'Skipped')],
        default='running', required=True, index=True)
    started_at = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    ended_at = fields.Datetime()
    duration = fields.Float(string='Duration (s)', digits=(16, 2), group_operator='avg')
    current_step = fields.Char(help='What the running sync is reading now.')

    contacts_created = fields.Integer()
    contacts_updated = fields.Integer()
    contacts_unchanged = fields.Integer()
    groups_created = fields.Integer()
    groups_updated = fields.Integer()
    groups_unchanged = fields.Integer()
    members_created = fields.Integer()
    members_updated = fields.Integer()
    members_unchanged = fields.Integer()
    members_removed = fields.Integer()
    messages_created = fields.Integer()
    messages_updated = fields.Integer()
    messages_unchanged = fields.Integer()
    events_expired = fields.Integer(
        string='Early Events Expired',
        help='Statuses, edits or deletions that arrived before their message and waited for it in vain.')
    skipped_count = fields.Integer(string='Items Skipped', help='Provider items that could not be read.')
    skipped_details = fields.Text(help='Why items were skipped (first ones only).')
    error_message = fields.Text(string='Errors')
    error_details = fields.Text(
        string='Technical Details', help='What the provider or the network said, for whoever debugs: request, '
        'HTTP status, library error.')
    summary = fields.Char(compute='_compute_summary')

    @api.depends('contacts_created', 'contacts_updated', 'groups_created', 'groups_updated',
                 'members_created', 'members_updated', 'members_removed', 'messages_created',
                 'messages_updated', 'skipped_count', 'state', 'error_message')
    def _compute_summary(self):
        for log in self:
            parts = []
            for kind, label in (('contacts', _('contacts')), ('groups', _('groups')),
                                ('members', _('members')), ('messages', _('messages'))):
                created = log['%s_created' % kind]
                updated = log['%s_updated' % kind]
                if created or updated:
                    parts.append(_('%(label)s: %(created)s new, %(updated)s updated') % {
                        'label': label, 'created': created, 'updated': updated})
            if log.members_removed:
                parts.append(_('%s members removed') % log.members_removed)
            if log.skipped_count:
                parts.append(_('%s items skipped') % log.skipped_count)
            if not parts and log.state == 'success':
                parts.append(_('no change'))
            if log.state in ('error', 'skipped') and log.error_message:
                parts.append(log.error_message.splitlines()[0])
            log.summary = '; '.join(parts)

    def name_get(self):
        """'Account · start time' in the reader's zone: the breadcrumb and the form's
        Started At show the same time."""
        return [(log.id, '%s · %s' % (log.configuration_id.name or '', local_time_text(log, log.started_at)))
                for log in self]

    def _add_stats(self, kind, stats):
        """Add an UpsertStats to this log's counters for ``kind``."""
        self.ensure_one()
        self.write({
            '%s_created' % kind: self['%s_created' % kind] + stats.created,
            '%s_updated' % kind: self['%s_updated' % kind] + stats.updated,
            '%s_unchanged' % kind: self['%s_unchanged' % kind] + stats.unchanged,
        })
