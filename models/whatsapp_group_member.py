# -*- coding: utf-8 -*-
from odoo import _, fields, models

ROLE_SELECTION = [('member', 'Member'), ('admin', 'Admin'), ('superadmin', 'Owner')]


class WhatsappGroupMember(models.Model):
    """Membership of a contact in a group, with its role."""
    _name = 'whatsapp.group.member'
    _inherit = 'whatsapp.sync.mixin'
    _description = 'WhatsApp Group Member'
    _order = 'group_id, id'
    _upsert_key_fields = ('group_id', 'contact_id')

    group_id = fields.Many2one('whatsapp.group', string='Group', required=True, ondelete='cascade', index=True)
    contact_id = fields.Many2one('whatsapp.contact', string='Contact', required=True, ondelete='cascade', index=True)
    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    role = fields.Selection(ROLE_SELECTION, required=True, default='member')
    phone = fields.Char(related='contact_id.phone')

    def name_get(self):
        """'Contact in Group', for breadcrumbs and links (not ``whatsapp.group.member,9``)."""
        return [(member.id, _('%(contact)s in %(group)s') % {
            'contact': member.contact_id.display_name, 'group': member.group_id.display_name}) for member in self]

    _sql_constraints = [
        ('member_unique', 'UNIQUE(group_id, contact_id)', 'A contact is a member of a group only once.'),
    ]
