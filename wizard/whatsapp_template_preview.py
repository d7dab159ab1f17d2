# -*- coding: utf-8 -*-
from odoo import _, api, fields, models


class WhatsappTemplatePreview(models.TransientModel):
    """A template rendered on a chosen record, before anyone receives it."""
    _name = 'whatsapp.template.preview'
    _description = 'WhatsApp Template Preview'

    @api.model
    def _selection_models(self):
        """The template's model only, when the preview is opened from a template (the
        record picker then lists that model's records, not every model)."""
        domain = [('transient', '=', False)]
        template = self.env['whatsapp.template'].browse(self.env.context.get('default_template_id')).exists()
        if template.model:
            domain.append(('model', '=', template.model))
        return [(model.model, model.name) for model in self.env['ir.model'].sudo().search(domain)]

    template_id = fields.Many2one('whatsapp.template', required=True, ondelete='cascade')
    resource_ref = fields.Reference(string='Record', selection='_selection_models')
    body = fields.Text(string='Message', compute='_compute_preview')
    recipient = fields.Char(compute='_compute_preview')
    error = fields.Char(compute='_compute_preview')

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        template = self.env['whatsapp.template'].browse(values.get('template_id'))
        if template.model and 'resource_ref' in fields_list:
            record = self.env[template.model].search([], limit=1)
            if record:
                values['resource_ref'] = '%s,%d' % (record._name, record.id)
        return values

    @api.depends('template_id', 'resource_ref')
    def _compute_preview(self):
        for preview in self:
            preview.body = preview.recipient = preview.error = False
            record = preview.resource_ref
            if not record or not preview.template_id or record._name != preview.template_id.model:
                continue
            template = preview.template_id
            preview.body = template._render_bodies(record)[record.id]
            label, number, _partner = template._recipient_of(record)
            preview.recipient = '%s (%s)' % (label, number) if number else label
            if not number:
                preview.error = _('This record has no valid number: it would be skipped.')
            elif number in self.env['phone.blacklist']._whatsapp_blocked([number]):
                preview.error = _('This number opted out: it would be skipped.')
