# -*- coding: utf-8 -*-
from odoo import _, fields, models
from odoo.exceptions import UserError

ACTIONS = [('add', 'Add'), ('remove', 'Remove'), ('promote', 'Make Admin'), ('demote', 'Remove Admin')]


class WhatsappGroupParticipants(models.TransientModel):
    """Add, remove, promote or demote participants; local members follow the provider's answer."""
    _name = 'whatsapp.group.participants'
    _inherit = ['whatsapp.result.mixin']
    _description = 'Manage WhatsApp Group Participants'

    group_id = fields.Many2one('whatsapp.group', required=True, readonly=True)
    configuration_id = fields.Many2one(related='group_id.configuration_id')
    action = fields.Selection(ACTIONS, required=True, default='add')
    contact_ids = fields.Many2many('whatsapp.contact', string='Contacts')
    phones = fields.Text(string='Other Numbers', help='One number per line.')
    state = fields.Selection([('draft', 'Draft'), ('done', 'Done')], default='draft')
    result_message = fields.Text(readonly=True)

    def action_apply(self):
        self.ensure_one()
        group = self.group_id
        if self.contact_ids.filtered(lambda c: c.configuration_id != group.configuration_id):
            raise UserError(_('Participants must be contacts of the group\'s account.'))
        keys = group.configuration_id._person_keys(self.contact_ids, self.phones)
        if not keys:
            raise UserError(_('Choose at least one person.'))
        result = group._change_participants(keys, self.action)
        label = dict(ACTIONS)[self.action]
        lines = [_('%(action)s: %(count)d done.') % {'action': label, 'count': len(result.done)}]
        lines += self.env['whatsapp.contact'].sudo()._result_lines(
            group.configuration_id.sudo(), result.refused, result.resolved, _('%(person)s refused: %(reason)s'))
        return self._show_result(_('Participants'), '\n'.join(lines))
