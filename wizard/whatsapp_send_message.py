# -*- coding: utf-8 -*-
import base64
import logging
import mimetypes
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

from .. import providers
from ..providers.parsing import guess_media_type

_logger = logging.getLogger(__name__)

#: a template placeholder left in a text: ``${...}`` (Odoo 14 templates) or ``{{...}}``
PLACEHOLDER = re.compile(r'\$\{.*?\}|\{\{.*?\}\}', re.DOTALL)


class WhatsappSendMessage(models.TransientModel):
    """Send a text or a file to contacts, groups, partners or a typed number."""
    _name = 'whatsapp.send.message'
    _inherit = ['whatsapp.result.mixin']
    _description = 'Send WhatsApp Message'

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True,
        default=lambda self: self._default_configuration())
    contact_ids = fields.Many2many('whatsapp.contact', string='Contacts')
    group_ids = fields.Many2many('whatsapp.group', string='Groups')
    partner_ids = fields.Many2many('res.partner', string='Partners')
    phone = fields.Char(string='Number', help='Any number, in international form (+...) or in your country\'s.')
    body = fields.Text(string='Message', help='The text, or the caption of the file.')
    attachment = fields.Binary(string='File', attachment=False)
    template_id = fields.Many2one('whatsapp.template', string='Template',
                                 help='Fills the message; opened from records of its model, it sends to each record\'s '
                                      'recipient, rendered for that record.')
    res_model = fields.Char(string='Records Of', readonly=True)
    res_ids = fields.Char(string='Record IDs', readonly=True, help='Comma-separated ids of the records sent to.')
    record_count = fields.Integer(compute='_compute_record_count')
    optout_warning = fields.Text(compute='_compute_optout_warning')
    caption_warning = fields.Text(compute='_compute_caption_warning')
    attachment_name = fields.Char(string='File Name')
    state = fields.Selection([('draft', 'Draft'), ('done', 'Done')], default='draft')
    result_message = fields.Text(readonly=True)
    message_ids = fields.Many2many('whatsapp.message', string='Messages', readonly=True)

    @api.model
    def _default_configuration(self):
        """The account of the contacts or groups the wizard was opened on; else the account its
        partners are known on; else the account the user last sent from that works; else the
        user's first working account (one whose token the provider refuses comes last)."""
        context = self.env.context
        for model, key in (('whatsapp.contact', 'default_contact_ids'), ('whatsapp.group', 'default_group_ids')):
            ids = context.get(key) or (context.get('active_ids') if context.get('active_model') == model else None)
            if ids:
                return self.env[model].browse(ids[:1]).configuration_id
        Configuration = self.env['whatsapp.configuration']
        partner_ids = context.get('default_partner_ids') or (
            context.get('active_ids') if context.get('active_model') == 'res.partner' else None)
        if partner_ids:
            known = self.env['whatsapp.contact'].search([('partner_id', 'in', partner_ids)]).mapped('configuration_id')
            known = known.sorted(lambda account: account.connection_state != 'connected')
            if known:
                return known[:1]
        accounts = Configuration.search([])
        last = self.env.user.sudo().whatsapp_last_configuration_id
        if last in accounts and last.connection_state == 'connected':
            return last
        return accounts.sorted(lambda account: account.connection_state == 'error')[:1]

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get('active_model')
        ids = self.env.context.get('active_ids') or []
        template = self.env['whatsapp.template'].browse(values.get('template_id'))
        if template and model == template.model and ids:
            # opened from the Action menu of the template's records
            values.update(res_model=model, res_ids=','.join(str(record_id) for record_id in ids))
            if template.configuration_id:
                values['configuration_id'] = template.configuration_id.id
            values['body'] = template._render_bodies(self.env[model].browse(ids[:1]))[ids[0]]
            return values
        field = {'whatsapp.contact': 'contact_ids', 'whatsapp.group': 'group_ids',
                 'res.partner': 'partner_ids'}.get(model)
        if field and field in fields_list and ids and not values.get(field):
            values[field] = [(6, 0, ids)]
        return values

    def _records(self):
        if not self.res_model or not self.res_ids:
            return None
        return self.env[self.res_model].browse([int(record_id) for record_id in self.res_ids.split(',') if record_id])

    @api.depends('res_ids')
    def _compute_record_count(self):
        for wizard in self:
            records = wizard._records()
            wizard.record_count = len(records) if records is not None else 0

    @api.onchange('template_id')
    def _onchange_template_id(self):
        if not self.template_id:
            return
        records = self._records()
        if records:
            self.body = self.template_id._render_bodies(records[:1])[records[:1].id]
        else:
            self.body = self.template_id.body
        if self.template_id.configuration_id:
            self.configuration_id = self.template_id.configuration_id

    @api.depends('partner_ids', 'contact_ids', 'phone', 'res_ids', 'template_id')
    def _compute_optout_warning(self):
        Blacklist = self.env['phone.blacklist']
        region = self.env.company.country_id.code
        for wizard in self:
            numbers = {}
            for partner in wizard.partner_ids:
                numbers[partner.whatsapp_phone] = partner.display_name
            for contact in wizard.contact_ids:
                numbers[contact.phone] = contact.display_name
            if wizard.phone:
                result = providers.normalize_phone(wizard.phone, default_region=region)
                numbers[result.e164 if result.valid else None] = wizard.phone
            records = wizard._records()
            if records is not None and wizard.template_id:
                for record in records:
                    label, number, _partner = wizard.template_id._recipient_of(record)
                    numbers[number] = label
            blocked = Blacklist._whatsapp_blocked([number for number in numbers if number])
            wizard.optout_warning = _('Opted out of messages (phone blacklist): %s. Send only if they asked you to.') \
                % ', '.join('%s (%s)' % (numbers[number], number) for number in sorted(blocked)) if blocked else False

    @api.depends('configuration_id', 'attachment', 'attachment_name', 'body')
    def _compute_caption_warning(self):
        for wizard in self:
            media = wizard._media() if wizard.attachment and (wizard.body or '').strip() else None
            if media and wizard.configuration_id and wizard.configuration_id._caption_sent_apart(media[2]):
                wizard.caption_warning = _(
                    'WhatsApp shows no caption under an audio file or a voice note with this account\'s provider: '
                    'your text will be sent as a separate message right after the file.')
            else:
                wizard.caption_warning = False

    @api.model
    def _action_open(self, partners=None, contacts=None, groups=None):
        context = {}
        if partners:
            context['default_partner_ids'] = partners.ids
        if contacts:
            context['default_contact_ids'] = contacts.ids
        if groups:
            context['default_group_ids'] = groups.ids
        return {
            'type': 'ir.actions.act_window',
            'name': _('Send WhatsApp Message'),
            'res_model': self._name,
            'view_mode': 'form',
            'target': 'new',
            'context': context,
        }

    # ------------------------------------------------------------------
    def _recipients(self):
        """(label, send target, contact id or False, group id or False, refusal or None) per recipient.

        Every number is normalised before any HTTP call; an unusable one is
        refused here, with a reason, and costs no request.
        """
        self.ensure_one()
        configuration = self.configuration_id
        region = self.env.company.country_id.code
        recipients = []
        foreign = (self.contact_ids.mapped('configuration_id') | self.group_ids.mapped('configuration_id')) \
            - configuration
        if foreign:
            raise UserError(_('Some recipients belong to another account (%s). Send from that account.')
                            % ', '.join(foreign.mapped('name')))
        for contact in self.contact_ids:
            recipients.append((contact.display_name, contact.contact_id, contact.id, False, None))
        for group in self.group_ids:
            recipients.append((group.display_name, group.group_id, False, group.id, None))
        numbers = []
        for partner in self.partner_ids:
            if partner.whatsapp_phone:
                numbers.append((partner.display_name, partner.whatsapp_phone))
            else:
                recipients.append((partner.display_name, None, False, False,
                                   _('no valid mobile or phone number')))
        if self.phone:
            result = providers.normalize_phone(self.phone, default_region=region)
            if not result.valid:
                raise UserError(_('"%s" is not a valid phone number. Use the international form, e.g. '
                                  '+34 600 111 222.') % self.phone)
            numbers.append((self.phone, result.e164))
        if numbers:
            contact_ids = self.env['whatsapp.contact'].sudo()._ensure(
                configuration, [e164.lstrip('+') for _label, e164 in numbers])
            for label, e164 in numbers:
                recipients.append((label, e164, contact_ids.get(e164.lstrip('+'), False), False, None))
        if not recipients:
            raise UserError(_('Choose at least one recipient.'))
        return recipients

    def _rendered_texts(self, recipients):
        """{send target: text} when the text has template placeholders, rendered for each
        recipient's partner; a placeholder never reaches anyone: without a partner to fill
        it from (a group, a typed number) the send is refused."""
        if not PLACEHOLDER.search(self.body or ''):
            return {}
        template = self.template_id
        partners = {}
        for partner in self.partner_ids:
            if partner.whatsapp_phone:
                partners[partner.whatsapp_phone] = partner
        for contact in self.contact_ids:
            if contact.partner_id:
                partners[contact.contact_id] = contact.partner_id
        unfilled = [label for label, target, _contact, _group, refusal in recipients
                    if not refusal and target not in partners]
        placeholder = PLACEHOLDER.search(self.body).group(0)
        if not template or template.model != 'res.partner':
            raise UserError(_('The message still has a placeholder, %s: replace it with the text to send, or send '
                              'the template from the Action menu of its records.') % placeholder)
        if unfilled:
            raise UserError(_('The message has placeholders such as %(placeholder)s, filled only for recipients '
                              'who are contacts (partners); not for %(recipients)s. Send them the text without '
                              'placeholders.') % {'placeholder': placeholder, 'recipients': ', '.join(unfilled)})
        records = self.env['res.partner'].union(*partners.values())
        rendered = template._render_text(self.body, records)
        return {target: rendered[partner.id] for target, partner in partners.items()}

    def _remember_account(self, configuration, vals_list):
        """The account a send went out through, for the next wizard of this user."""
        if any(vals.get('status') != 'failed' for vals in vals_list) and \
                self.env.user.sudo().whatsapp_last_configuration_id != configuration:
            self.env.user.sudo().write({'whatsapp_last_configuration_id': configuration.id})

    def _media(self):
        """File bytes, name, MIME type and message type of the attachment, if any."""
        if not self.attachment:
            return None
        data = base64.b64decode(self.attachment)
        name = self.attachment_name or 'file'
        mime_type = guess_mimetype(data, default='application/octet-stream')
        if mime_type == 'application/octet-stream':
            mime_type = mimetypes.guess_type(name)[0] or mime_type
        return data, name, mime_type, guess_media_type(None, mime_type)

    def action_send(self):
        """Send to each recipient; record every attempt, sent or failed, and go on past failures."""
        self.ensure_one()
        configuration = self.env['whatsapp.configuration'].search([('id', '=', self.configuration_id.id)])
        if not configuration:
            raise UserError(_('You may not send from this account.'))
        records = self._records()
        if records is not None and self.template_id:
            if self.template_id.model != records._name:
                raise UserError(_('The template %(template)s applies to another kind of record than %(model)s.') % {
                    'template': self.template_id.name, 'model': records._description})
            # one message per record, rendered for it (the text typed here replaces it for one record)
            bodies = {records.id: self.body or ''} if len(records) == 1 else None
            if bodies and PLACEHOLDER.search(bodies[records.id]):
                bodies = self.template_id._render_text(bodies[records.id], records)
            lines, counts = self.template_id._send_or_queue(
                records, configuration, bodies=bodies, once_prefix='send:%d' % self.id)
            if counts.get('sent') or counts.get('queued'):
                self._remember_account(configuration, [{'status': 'sent'}])
            return self._show_result(_('Send Result'), '\n'.join(lines))
        media = self._media()
        if not media and not (self.body or '').strip():
            raise UserError(_('Write a message or attach a file.'))
        recipients = self._recipients()
        texts = self._rendered_texts(recipients)
        configuration = configuration.sudo()
        client = configuration._make_provider_client()
        Message = self.env['whatsapp.message'].sudo()
        lines = []
        vals_list = []
        for label, target, contact_id, group_id, refusal in recipients:
            vals, error = Message._send_vals(
                configuration, client, target, body=texts.get(target, self.body), media=media,
                contact_id=contact_id,
                group_id=group_id, refusal=refusal, once_key='send:%d:%s' % (self.id, target))
            if error:
                lines.append(_('%(recipient)s: failed (%(reason)s)') % {'recipient': label, 'reason': error})
            else:
                lines.append(_('%(recipient)s: sent') % {'recipient': label})
            vals_list.append(vals)
        by_key, _stats = Message._upsert(vals_list)
        self._remember_account(configuration, vals_list)
        if media:
            Message.browse([record.id for record in by_key.values()])._keep_sent_file(media)
        return self._show_result(_('Send Result'), '\n'.join(lines),
                                 message_ids=[(6, 0, [record.id for record in by_key.values()])])
