# -*- coding: utf-8 -*-
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers


class ResPartner(models.Model):
    _inherit = 'res.partner'

    whatsapp_phone = fields.Char(
        string='WhatsApp Number', compute='_compute_whatsapp_phone', store=True, index=True,
        help='Mobile (or else phone) in E.164, the key WhatsApp contacts are linked by.')
    whatsapp_contact_ids = fields.One2many('whatsapp.contact', 'partner_id', string='WhatsApp Contacts')
    whatsapp_message_count = fields.Integer(compute='_compute_whatsapp_message_count')
    whatsapp_on_whatsapp = fields.Selection(
        [('unknown', 'Not Checked'), ('yes', 'On WhatsApp'), ('no', 'Not on WhatsApp')],
        string='Has WhatsApp', default='unknown', readonly=True, copy=False)
    whatsapp_checked_at = fields.Datetime(string='WhatsApp Checked', readonly=True, copy=False)

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

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners._link_whatsapp_contacts()
        for partner, vals in zip(partners, vals_list):
            if vals.get('channel_ids'):
                partner.sudo().channel_ids._whatsapp_check_members(partner)
        return partners

    def write(self, vals):
        # ``channel_ids`` writes Discuss's membership table directly, past mail.channel's own
        # checks: a WhatsApp chat's channel admits only people who may read its account
        before = {partner.id: partner.sudo().channel_ids for partner in self} if vals.get('channel_ids') else None
        result = super().write(vals)
        if {'mobile', 'phone', 'country_id'} & set(vals):
            self._link_whatsapp_contacts()
        if before is not None:
            for partner in self:
                (partner.sudo().channel_ids - before[partner.id])._whatsapp_check_members(partner)
        return result

    def _link_whatsapp_contacts(self):
        """A partner given a number links the WhatsApp contacts of that number that
        have no partner yet; one query however many partners."""
        by_phone = {}
        for partner in self.filtered('whatsapp_phone'):
            by_phone.setdefault(partner.whatsapp_phone, partner.id)
        if not by_phone:
            return
        contacts = self.env['whatsapp.contact'].sudo().search(
            [('phone', 'in', list(by_phone)), ('partner_id', '=', False)])
        for phone in set(contacts.mapped('phone')):
            partner = self.browse(by_phone[phone])
            # a company's partner links only its company's accounts' contacts
            matching = contacts.filtered(lambda contact: contact.phone == phone and (
                not partner.company_id or contact.configuration_id.company_id == partner.company_id))
            if matching:
                matching.write({'partner_id': partner.id})

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

    def action_open_whatsapp_conversation(self):
        """The partner's WhatsApp chat in Discuss: on the first of the user's accounts that has
        conversations on and knows this partner."""
        self.ensure_one()
        contacts = self.env['whatsapp.contact'].search([('partner_id', '=', self.id)])
        contact = contacts.filtered(lambda contact: contact.configuration_id.discuss_enabled)[:1] or contacts[:1]
        if not contact:
            raise UserError(_('%s is on none of your WhatsApp accounts yet: send a first message, or sync.')
                            % self.display_name)
        return contact.action_open_conversation()

    def action_send_whatsapp(self):
        return self.env['whatsapp.send.message']._action_open(partners=self)

    def action_check_whatsapp(self):
        """Check which of these partners' numbers have WhatsApp, through the account
        chosen in context or the user's first, in one batched call where possible."""
        Configuration = self.env['whatsapp.configuration']
        Configuration.check_access_rights('read')
        self.check_access_rule('read')
        # searched, not browsed: the user's record rules decide which accounts they may use
        wanted = self.env.context.get('whatsapp_configuration_id')
        configuration = Configuration.search([('id', '=', wanted)] if wanted else [], limit=1)
        if not configuration:
            raise UserError(_('No WhatsApp account you may use.'))
        with_number = self.filtered('whatsapp_phone')
        checks = configuration.sudo()._check_numbers(with_number.mapped('whatsapp_phone'))
        now = fields.Datetime.now()
        for status in ('yes', 'no'):
            matching = with_number.filtered(lambda partner: checks.get(partner.whatsapp_phone) == status)
            if matching:
                matching.sudo().write({'whatsapp_on_whatsapp': status, 'whatsapp_checked_at': now})
        return configuration._notify(_('Numbers checked'), _(
            '%(yes)d on WhatsApp, %(no)d not, %(none)d without a valid number.') % {
                'yes': sum(1 for value in checks.values() if value == 'yes'),
                'no': sum(1 for value in checks.values() if value == 'no'),
                'none': len(self - with_number)}, 'success')
