# -*- coding: utf-8 -*-
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers


class WhatsappGroupCreate(models.TransientModel):
    """Create a real WhatsApp group; the local one exists only once the provider made it."""
    _name = 'whatsapp.group.create'
    _inherit = ['whatsapp.result.mixin']
    _description = 'Create WhatsApp Group'

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True,
        default=lambda self: self.env['whatsapp.configuration'].search([], limit=1))
    name = fields.Char(required=True)
    description = fields.Text()
    contact_ids = fields.Many2many('whatsapp.contact', string='Participants')
    phones = fields.Text(string='Other Numbers', help='One number per line, international form preferred.')
    state = fields.Selection([('draft', 'Draft'), ('done', 'Done')], default='draft')
    group_id = fields.Many2one('whatsapp.group', readonly=True)
    result_message = fields.Text(readonly=True)

    @api.onchange('configuration_id')
    def _onchange_configuration_id(self):
        self.contact_ids = self.contact_ids.filtered(lambda c: c.configuration_id == self.configuration_id)

    def action_create(self):
        self.ensure_one()
        configuration = self.env['whatsapp.configuration'].search([('id', '=', self.configuration_id.id)])
        if not configuration:
            raise UserError(_('You may not use this account.'))
        if self.contact_ids.filtered(lambda c: c.configuration_id != configuration):
            raise UserError(_('Participants must be contacts of the chosen account.'))
        keys = configuration._person_keys(self.contact_ids, self.phones)
        if not keys:
            raise UserError(_('Choose at least one participant: WhatsApp needs one to create a group.'))
        configuration = configuration.sudo()
        client = configuration._client_for('create_group')
        Contact = self.env['whatsapp.contact'].sudo()
        keys, resolved = Contact._resolve_hidden_keys(configuration, keys, client)
        try:
            creation = self.env['whatsapp.provider.call'].sudo()._call_once(
                'create_group:%d' % self.id,
                lambda: client.create_group(self.name, keys, description=self.description or None))
        except providers.ProviderError as error:
            raise UserError(_('WhatsApp did not create the group: %s') % error)
        Contact._record_hidden_numbers(configuration, creation.resolved)
        group_record = creation.group
        if not group_record.name:
            group_record.name = self.name
        if self.description and not group_record.description:
            group_record.description = self.description
        Group = self.env['whatsapp.group'].sudo()
        by_key, _stats = Group._upsert([Group._vals_from_record(configuration, group_record)])
        group = by_key.get((configuration.id, group_record.group_id)) or Group.search(
            [('configuration_id', '=', configuration.id), ('group_id', '=', group_record.group_id)])
        if group_record.members is not None:
            self.env['whatsapp.sync.service'].sudo()._store_members(configuration, None, [group_record])
        elif creation.added:
            self.env['whatsapp.sync.service'].sudo()._apply_participant_changes(configuration, [
                providers.ParticipantChange(group_id=group_record.group_id, contact_ids=list(creation.added),
                                            action='add')])
        lines = [_('Group "%(group)s" created with %(count)d participants.') % {
            'group': group.display_name, 'count': len(creation.added)}]
        lines += Contact._result_lines(configuration, creation.refused, resolved + list(creation.resolved),
                                       _('%(person)s was not added: %(reason)s'))
        return self._show_result(_('Group Created'), '\n'.join(lines), group_id=group.id)

    def action_open_group(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window', 'res_model': 'whatsapp.group', 'res_id': self.group_id.id,
            'view_mode': 'form', 'target': 'current',
        }
