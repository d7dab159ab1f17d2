# -*- coding: utf-8 -*-
from odoo import _, api, fields, models

from .whatsapp_sync_mixin import to_naive_utc


class WhatsappGroup(models.Model):
    """A WhatsApp group the account belongs to."""
    _name = 'whatsapp.group'
    _inherit = 'whatsapp.sync.mixin'
    _description = 'WhatsApp Group'
    _order = 'name, group_id'
    _upsert_key_fields = ('configuration_id', 'group_id')

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    group_id = fields.Char(string='WhatsApp Group ID', required=True, index=True)
    name = fields.Char()
    description = fields.Text()
    invite_code = fields.Char()
    group_created_at = fields.Datetime(string='Created on WhatsApp')
    member_ids = fields.One2many('whatsapp.group.member', 'group_id', string='Members')
    member_count = fields.Integer(compute='_compute_counts')
    message_count = fields.Integer(compute='_compute_counts')
    members_synced_at = fields.Datetime(
        string='Members Synced Since', readonly=True,
        help='When the members of this group were first read; scheduled syncs re-read them daily.')

    _sql_constraints = [
        ('group_unique', 'UNIQUE(configuration_id, group_id)',
         'A WhatsApp group exists only once per account.'),
    ]

    def name_get(self):
        return [(group.id, group.name or group.group_id) for group in self]

    def _compute_counts(self):
        for model_name, field_name in (('whatsapp.group.member', 'member_count'),
                                       ('whatsapp.message', 'message_count')):
            data = self.env[model_name].read_group(
                [('group_id', 'in', self.ids)], ['group_id'], ['group_id'])
            counts = {row['group_id'][0]: row['group_id_count'] for row in data}
            for group in self:
                group[field_name] = counts.get(group.id, 0)

    def action_open_members(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _('Members'),
            'res_model': 'whatsapp.group.member',
            'view_mode': 'tree,form',
            'domain': [('group_id', '=', self.id)],
        }

    def action_open_messages(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _('Messages'),
            'res_model': 'whatsapp.message',
            'view_mode': 'tree,form',
            'domain': [('group_id', '=', self.id)],
        }

    @api.model
    def _vals_from_record(self, configuration, record):
        vals = {'configuration_id': configuration.id, 'group_id': record.group_id}
        for name in ('name', 'description', 'invite_code'):
            value = getattr(record, name)
            if value:
                vals[name] = value
        if record.created_at:
            vals['group_created_at'] = to_naive_utc(record.created_at)
        return vals

    @api.model
    def _ensure(self, configuration, group_ids):
        """Create the groups met only in messages, once; names come from the next group sync."""
        vals_list = [{'configuration_id': configuration.id, 'group_id': group_id}
                     for group_id in set(group_ids) if group_id]
        by_key, _stats = self._upsert(vals_list, update=False)
        return {key[1]: record.id for key, record in by_key.items()}
