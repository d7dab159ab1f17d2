# -*- coding: utf-8 -*-
"""Messages that belong to a business event, written once and rendered per record.

The body is rendered by Odoo 14's own template rendering (``mail.render.mixin``,
as mail.template does: ``${object.name}`` placeholders, sandboxed, with the
reading user's access rights). A template sends from the send wizard, from the
Action menu of its model's records, and from the "Send WhatsApp" server action
(automated and scheduled actions).
"""
import hashlib
import uuid

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import plaintext2html

from .. import providers
from .whatsapp_outbox import IMMEDIATE_MAX


class WhatsappTemplate(models.Model):
    _name = 'whatsapp.template'
    _inherit = ['mail.render.mixin']
    _description = 'WhatsApp Template'
    _order = 'name, id'

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', ondelete='set null',
        help='The account it sends from; empty: the account chosen when sending (or the user\'s first).')
    model_id = fields.Many2one('ir.model', string='Applies to', required=True, ondelete='cascade',
                               domain=[('transient', '=', False)])
    model = fields.Char(related='model_id.model', string='Model', store=True, index=True, readonly=True)
    body = fields.Text(
        required=True, translate=True,
        help='The message. Placeholders are replaced per record, e.g. "Hello ${object.partner_id.name}, your '
             'order ${object.name} is confirmed."; "${object.date_order or \'\'}" leaves a missing value empty.')
    recipient_field = fields.Char(
        string='Recipient Field Name', required=True, compute='_compute_recipient_field', store=True,
        readonly=False,
        help='The field of the record the message goes to: a partner (e.g. partner_id), whose mobile or phone is '
             'used, or a phone number field (e.g. mobile). By default the partner itself on contacts, partner_id '
             'where the model has it, else its first phone field.')
    recipient_field_id = fields.Many2one(
        'ir.model.fields', string='Recipient', compute='_compute_recipient_field_id',
        inverse='_inverse_recipient_field_id',
        help='The field of the record the message goes to: a partner ("Self" on contacts: the contact itself), '
             'whose mobile or phone is used, or a phone number field.')
    recipient_field_ids = fields.Many2many(
        'ir.model.fields', string='Possible Recipients', compute='_compute_recipient_field_ids',
        help='The fields of the model a message can go to: its partner fields and its phone fields.')
    report_id = fields.Many2one('ir.actions.report', string='Attach Report', domain="[('model', '=', model)]",
                                help='Sent as a PDF with the message as its caption.')
    sidebar_action_id = fields.Many2one('ir.actions.act_window', string='Action Menu Entry', readonly=True,
                                        copy=False)

    @api.depends('model_id')
    def _compute_recipient_field(self):
        for template in self:
            names = _recipient_field_names(self.env[template.model]) if template.model in self.env else []
            if template.recipient_field not in names:
                template.recipient_field = _default_recipient(names) or False

    @api.depends('model_id')
    def _compute_recipient_field_ids(self):
        Fields = self.env['ir.model.fields'].sudo()
        for template in self:
            names = _recipient_field_names(self.env[template.model]) if template.model in self.env else []
            template.recipient_field_ids = Fields.search(
                [('model', '=', template.model), ('name', 'in', names)]) if names else Fields

    @api.depends('model_id', 'recipient_field')
    def _compute_recipient_field_id(self):
        for template in self:
            template.recipient_field_id = self.env['ir.model.fields'].sudo()._get(
                template.model, template.recipient_field) if template.model and template.recipient_field else False

    def _inverse_recipient_field_id(self):
        for template in self:
            if template.recipient_field_id:
                template.recipient_field = template.recipient_field_id.name

    @api.constrains('recipient_field', 'model_id')
    def _check_recipient_field(self):
        for template in self:
            field = self.env[template.model]._fields.get(template.recipient_field) if template.model else None
            usable = field is not None and (
                (field.type == 'many2one' and field.comodel_name == 'res.partner') or field.type == 'char')
            if not usable:
                raise ValidationError(_('%(field)s is not a partner or phone field of %(model)s.') % {
                    'field': template.recipient_field, 'model': template.model_id.name})

    @api.model_create_multi
    def create(self, vals_list):
        # the column is NOT NULL: set the recipient chosen in the form, or the model's default, before
        # the insert (a stored compute would only run after it)
        for vals in vals_list:
            if vals.get('recipient_field') or not vals.get('model_id'):
                continue
            if vals.get('recipient_field_id'):
                vals['recipient_field'] = self.env['ir.model.fields'].browse(vals['recipient_field_id']).name
            else:
                model = self.env['ir.model'].browse(vals['model_id']).model
                vals['recipient_field'] = _default_recipient(
                    _recipient_field_names(self.env[model]) if model in self.env else [])
        return super().create(vals_list)

    def unlink(self):
        self.sudo().mapped('sidebar_action_id').unlink()
        return super().unlink()

    # ------------------------------------------------------------------
    # Action menu of the model's records
    # ------------------------------------------------------------------
    def action_create_sidebar_action(self):
        view = self.env.ref('whatsapp_integration.whatsapp_send_message_view_form')
        for template in self.filtered(lambda template: not template.sidebar_action_id):
            action = self.env['ir.actions.act_window'].sudo().create({
                'name': _('Send WhatsApp (%s)') % template.name,
                'res_model': 'whatsapp.send.message',
                'view_mode': 'form',
                'view_id': view.id,
                'target': 'new',
                'binding_model_id': template.model_id.id,
                'context': "{'default_template_id': %d}" % template.id,
            })
            template.write({'sidebar_action_id': action.id})
        return True

    def action_unlink_sidebar_action(self):
        self.sudo().mapped('sidebar_action_id').unlink()
        return True

    def action_preview(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _('Preview of %s') % self.name,
            'res_model': 'whatsapp.template.preview',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_template_id': self.id},
        }

    # ------------------------------------------------------------------
    # Rendering and recipients
    # ------------------------------------------------------------------
    def _render_bodies(self, records):
        """{record id: text} rendered as the current user (who must be able to read the records)."""
        self.ensure_one()
        records.check_access_rights('read')
        records.check_access_rule('read')
        return self._render_field('body', records.ids)

    def _render_text(self, text, records):
        """{record id: ``text`` rendered for it}, like the body (``text``: the body as the sender
        edited it), as the current user, who must be able to read the records."""
        self.ensure_one()
        records.check_access_rights('read')
        records.check_access_rule('read')
        return self._render_template(text, records._name, records.ids)

    def _recipient_of(self, record):
        """``(label, +E.164 or None, partner or empty)`` of the record's recipient."""
        self.ensure_one()
        value = record[self.recipient_field]
        if isinstance(value, models.BaseModel):
            partner = value[:1]
            return partner.display_name or _('(no partner)'), partner.whatsapp_phone or None, partner
        region = self.env.company.country_id.code
        result = providers.normalize_phone(value or '', default_region=region) if value else None
        return value or _('(no number)'), result.e164 if result and result.valid else None, \
            self.env['res.partner']

    def _report_media(self, record):
        """The report of the record as a file to send, or None."""
        if not self.report_id:
            return None
        report = self.report_id.sudo()
        pdf, _format = report._render_qweb_pdf(record.ids)
        name = '%s.pdf' % (record.display_name or report.name).replace('/', '_')
        return pdf, name, 'application/pdf', 'document'

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _send_to_records(self, records, configuration=None, bodies=None, once_prefix=None, firing_key=None):
        """Send the rendered message to each record's recipient; return ``(lines, counts)``.

        Opted-out numbers (Odoo's phone blacklist) and records without a usable
        number are skipped with their reason. What was sent is logged on the
        record's chatter, when it has one. ``bodies``: {record id: text} edited
        by the sender, instead of the rendering.
        """
        self.ensure_one()
        configuration = self._sending_account(configuration)
        texts = self._render_bodies(records)
        texts.update(bodies or {})
        blacklisted = self.env['phone.blacklist'].sudo()._whatsapp_blocked(
            [self._recipient_of(record)[1] for record in records])
        Message = self.env['whatsapp.message'].sudo()
        client = configuration._make_provider_client()
        lines = []
        counts = {'sent': 0, 'failed': 0, 'skipped': 0}
        try:
            for record in records:
                label, number, partner = self._recipient_of(record)
                refusal = None
                if not number:
                    refusal = _('no valid mobile or phone number')
                elif number in blacklisted:
                    refusal = _('opted out (phone blacklist)')
                if refusal:
                    counts['skipped'] += 1
                    lines.append(_('%(record)s (%(recipient)s): skipped, %(reason)s') % {
                        'record': record.display_name, 'recipient': label, 'reason': refusal})
                    continue
                text = texts.get(record.id) or ''
                contact_ids = self.env['whatsapp.contact'].sudo()._ensure(configuration, [number.lstrip('+')])
                vals, error = Message._send_vals(
                    configuration, client, number.lstrip('+'), body=text, media=self._report_media(record),
                    contact_id=contact_ids.get(number.lstrip('+'), False),
                    once_key=_once_key(once_prefix, firing_key, record, number, text))
                by_key, _stats = Message._upsert([vals])
                counts['failed' if error else 'sent'] += 1
                lines.append(_('%(record)s (%(recipient)s): %(result)s') % {
                    'record': record.display_name, 'recipient': label,
                    'result': _('failed (%s)') % error if error else _('sent')})
                self._log_on_chatter(record, configuration, text, error)
        finally:
            client.close()
        return lines, counts

    def _queue_for_records(self, records, configuration=None, bodies=None):
        """Queue one message per record in the outbox (sent at the account's pace by a scheduled
        action); return ``(lines, counts)`` like :meth:`_send_to_records`."""
        self.ensure_one()
        configuration = self._sending_account(configuration)
        texts = self._render_bodies(records)
        texts.update(bodies or {})
        recipients = {record.id: self._recipient_of(record) for record in records}
        blacklisted = self.env['phone.blacklist'].sudo()._whatsapp_blocked(
            [number for _label, number, _partner in recipients.values()])
        lines = []
        rows = []
        counts = {'queued': 0, 'skipped': 0}
        for record in records:
            label, number, _partner = recipients[record.id]
            refusal = _('no valid mobile or phone number') if not number else \
                _('opted out (phone blacklist)') if number in blacklisted else None
            if refusal:
                counts['skipped'] += 1
                lines.append(_('%(record)s (%(recipient)s): skipped, %(reason)s') % {
                    'record': record.display_name, 'recipient': label, 'reason': refusal})
                continue
            rows.append({'template_id': self.id, 'res_model': record._name, 'res_id': record.id,
                         'record_name': record.display_name, 'recipient': label, 'number': number.lstrip('+'),
                         'body': texts.get(record.id) or ''})
        counts['queued'] = self.env['whatsapp.outbox'].sudo()._enqueue(configuration, uuid.uuid4().hex, rows)
        lines.insert(0, _('%(count)d messages queued: %(account)s sends %(rate)d per minute (WhatsApp > Outbox).') % {
            'count': counts['queued'], 'account': configuration.name, 'rate': configuration.send_rate_per_minute})
        return lines, counts

    def _sending_account(self, configuration=None):
        """The account to send from, checked against the user's record rules (sudo'ed)."""
        configuration = configuration or self.configuration_id or \
            self.env['whatsapp.configuration'].search([], limit=1)
        if not configuration:
            raise UserError(_('No WhatsApp account to send from: choose one on the template.'))
        if not self.env['whatsapp.configuration'].search([('id', '=', configuration.id)]):
            raise UserError(_('You may not send from %s.') % configuration.name)
        return configuration.sudo()

    def _send_or_queue(self, records, configuration=None, bodies=None, once_prefix=None, firing_key=None):
        """A few records at once; more through the outbox, at the account's pace.

        ``once_prefix``: what identifies this send request (a wizard), so that sending it again
        (a double click) reaches each recipient once with the same text. ``firing_key``: one
        firing of an automated action, the same when Odoo runs its request again: each number
        gets one message of it, whatever the records became in the new attempt.
        """
        if len(records) > IMMEDIATE_MAX:
            return self._queue_for_records(records, configuration, bodies)
        return self._send_to_records(records, configuration, bodies, once_prefix, firing_key)

    def _log_on_chatter(self, record, configuration, text, error):
        if not hasattr(record, 'message_post'):
            return
        if error:
            summary = _('WhatsApp message to send through %(account)s failed: %(error)s') % {
                'account': configuration.name, 'error': error}
        else:
            summary = _('WhatsApp message sent through %s:') % configuration.name
        # a fact about the record, logged whoever sent it (posting needs write access on most models)
        record.sudo().message_post(body=Markup('<p>%s</p>') % summary + Markup(plaintext2html(text)),
                                   subtype_xmlid='mail.mt_note', message_type='comment',
                                   author_id=self.env.user.partner_id.id)


def _recipient_field_names(model):
    """The fields of ``model`` a template can send to, the default first: the partner itself
    on partners (``self``), ``partner_id``, its phone fields (the mobile ones first), its
    other partner fields. A phone field is a text field whose name says phone or mobile
    (a stored or related one: not a search helper)."""
    partners, phones, mobiles = [], [], []
    for name, field in model._fields.items():
        if field.type == 'many2one' and field.comodel_name == 'res.partner':
            partners.append(name)
        elif field.type == 'char' and (field.store or field.related) and ('phone' in name or 'mobile' in name):
            (mobiles if 'mobile' in name else phones).append(name)
    first = [name for name in ('self', 'partner_id') if name in partners and (
        name == 'partner_id' or model._name == 'res.partner')]
    return first + mobiles + phones + [name for name in partners if name not in first]


def _default_recipient(names):
    """The recipient a template of a model starts with, among its ``_recipient_field_names``:
    the partner itself, ``partner_id``, else the first phone field."""
    for name in names:
        if name in ('self', 'partner_id') or 'phone' in name or 'mobile' in name:
            return name
    return names[0] if names else None


def _once_key(once_prefix, firing_key, record, number, text):
    """The provider call ledger key of one send, or None (no protection asked)."""
    if firing_key:
        return '%s:%s' % (firing_key, number)
    if once_prefix:
        return '%s:%s:%d:%s:%s' % (once_prefix, record._name, record.id, number, _digest(text))
    return None


def _digest(text):
    """A short fingerprint of a message text for its send key: another text is another message."""
    return hashlib.sha1((text or '').encode('utf-8')).hexdigest()[:16]
