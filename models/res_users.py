# -*- coding: utf-8 -*-
from odoo import api, fields, models

# Changes to a user that change which WhatsApp accounts they may read (the user form writes
# its group checkboxes as in_group_<id> / sel_groups_<ids> before turning them into groups_id).
ACCESS_FIELDS = {'groups_id', 'active', 'company_ids', 'share'}


def changes_access(vals):
    return bool(set(vals) & ACCESS_FIELDS) or any(
        name.startswith(('in_group_', 'sel_groups_')) for name in vals)


class ResUsers(models.Model):
    _inherit = 'res.users'

    whatsapp_last_configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Last WhatsApp Account', ondelete='set null', copy=False,
        groups='base.group_system',
        help='The account this user last sent from successfully: the send wizard proposes it.')

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        if any(changes_access(vals) for vals in vals_list):
            self.env['whatsapp.configuration']._sync_all_discuss_members(users)
        return users

    def write(self, vals):
        result = super().write(vals)
        if changes_access(vals):
            self.env['whatsapp.configuration']._sync_all_discuss_members(self)
        return result
