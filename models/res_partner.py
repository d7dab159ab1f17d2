# -*- coding: utf-8 -*-
from odoo import _, api, fields, models

from .. import providers


class ResPartner(models.Model):
    _inherit = 'res.partner'

    whatsapp_phone = fields.Char(
        string='WhatsApp Number', compute='_compute_whatsapp_phone', store=True, index=True,
        help='Mobile (or else phone) in E.164, the key WhatsApp contacts are linked by.')
    whatsapp_contact_ids = fields.One2many('whatsapp.contact', 'partner_id', string='WhatsApp Contacts')
    whatsapp_message_count = fields.Integer(compute='_compute_whatsapp_message_count')

    @api.depends('mobile', 'phone', 'country_id')
    def _compute_whatsapp_phone(self):
        company_country = self.env.company.country_id.code
        for partner in self:
            region = partner.country_id.code or company_country
            e164 = False
            for number in (partner.mobile, partner.phone):
                if number:
                    result = providers.normalize_phone(number, default_region=region)
                    if result.valid:
                        e164 = result.e164
                        break
            partner.whatsapp_phone = e164

    def _compute_whatsapp_message_count(self):
        data = self.env['whatsapp.message'].read_group(
            [('contact_id.partner_id', 'in', self.ids)], ['contact_id'], ['contact_id'])
        contact_partner = {
            contact.id: contact.partner_id.id
            for contact in self.env['whatsapp.contact'].browse([row['contact_id'][0] for row in data])}
        counts = {}
        for row in data:
            partner_id = contact_partner.get(row['contact_id'][0])
            counts[partner_id] = counts.get(partner_id, 0) + row['contact_id_count']
        for partner in self:
            partner.whatsapp_message_count = counts.get(partner.id, 0)

    def action_open_whatsapp_messages(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _('WhatsApp Messages'),
            'res_model': 'whatsapp.message',
            'view_mode': 'tree,form',
            'domain': [('contact_id.partner_id', '=', self.id)],
        }

    def action_send_whatsapp(self):
        return self.env['whatsapp.send.message']._action_open(partners=self)
