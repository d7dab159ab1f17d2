# -*- coding: utf-8 -*-
from odoo import _, api, fields, models
from odoo.tools import plaintext2html

from .. import providers
from .whatsapp_sync_mixin import to_naive_utc

MESSAGE_TYPE_SELECTION = [
    ('text', 'Text'), ('link_preview', 'Link'), ('image', 'Image'), ('video', 'Video'),
    ('gif', 'GIF'), ('audio', 'Audio'), ('voice', 'Voice Note'), ('document', 'Document'),
    ('sticker', 'Sticker'), ('location', 'Location'), ('live_location', 'Live Location'),
    ('contact', 'Contact Card'), ('contact_list', 'Contact Cards'), ('poll', 'Poll'),
    ('reaction', 'Reaction'), ('system', 'System'), ('call', 'Call'),
    ('group_invite', 'Group Invite'), ('event', 'Event'), ('interactive', 'Interactive'),
    ('order', 'Order'), ('product', 'Product'), ('story', 'Story'), ('unknown', 'Other'),
]
STATUS_SELECTION = [
    ('pending', 'Pending'), ('sent', 'Sent'), ('delivered', 'Delivered'), ('read', 'Read'),
    ('played', 'Played'), ('failed', 'Failed'), ('deleted', 'Deleted'),
]


class WhatsappMessage(models.Model):
    """A WhatsApp message of one account, at its WhatsApp time."""
    _name = 'whatsapp.message'
    _inherit = 'whatsapp.sync.mixin'
    _description = 'WhatsApp Message'
    _order = 'message_date desc, id desc'
    _rec_name = 'message_id'
    _upsert_key_fields = ('configuration_id', 'message_id')

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    message_id = fields.Char(string='WhatsApp Message ID', required=True, index=True)
    chat_id = fields.Char(string='Chat', index=True,
                          help='The other person\'s WhatsApp ID in a 1:1 chat, or the group ID.')
    chat_type = fields.Selection(
        [('contact', 'Direct'), ('group', 'Group'), ('broadcast', 'Broadcast'),
         ('newsletter', 'Channel'), ('unknown', 'Other')], default='contact')
    from_me = fields.Boolean(string='Sent by Us', index=True)
    direction = fields.Selection(
        [('in', 'Received'), ('out', 'Sent')], compute='_compute_direction', store=True)
    sender_id = fields.Char(string='Sender WhatsApp ID')
    sender_name = fields.Char()
    message_type = fields.Selection(MESSAGE_TYPE_SELECTION, string='Type', default='text', index=True)
    raw_type = fields.Char(string='Provider Type')
    body = fields.Text()
    status = fields.Selection(STATUS_SELECTION, index=True)
    message_date = fields.Datetime(string='WhatsApp Time', required=True, index=True)
    media_id = fields.Char()
    media_mime_type = fields.Char(string='Media Type')
    media_file_name = fields.Char(string='File Name')
    media_file_size = fields.Integer(string='File Size')
    media_url = fields.Char(string='Media URL')
    provider_ref = fields.Char(
        string='Provider Reference', index=True,
        help='The provider\'s own id of a message sent from Odoo when it differs from the WhatsApp id '
             '(Wassenger queues messages under an id of its own).')
    error_message = fields.Text(string='Error', help='Why the provider refused to send it.')
    chatter_posted = fields.Boolean(help='Already posted on the partner\'s chatter.')
    contact_id = fields.Many2one('whatsapp.contact', string='Contact', ondelete='set null', index=True)
    group_id = fields.Many2one('whatsapp.group', string='Group', ondelete='set null', index=True)

    _sql_constraints = [
        ('message_unique', 'UNIQUE(configuration_id, message_id)',
         'A WhatsApp message exists only once per account.'),
    ]

    @api.depends('from_me')
    def _compute_direction(self):
        for message in self:
            message.direction = 'out' if message.from_me else 'in'

    def _upsert_same(self, name, stored, new):
        """A status never moves backwards: a late 'delivered' does not undo 'read'."""
        if name == 'status' and stored in providers.DELIVERY_ORDER and new in providers.DELIVERY_ORDER:
            return providers.DELIVERY_ORDER.index(new) <= providers.DELIVERY_ORDER.index(stored)
        return super()._upsert_same(name, stored, new)

    @api.model
    def _vals_from_record(self, configuration, record, contact_ids, group_ids):
        """Values for a providers.Message, linked through already ensured ids."""
        is_group = record.chat_type == 'group'
        person = record.sender_id if is_group else record.chat_id
        media = record.media
        vals = {
            'configuration_id': configuration.id,
            'message_id': record.message_id,
            'chat_id': record.chat_id,
            'chat_type': record.chat_type or 'unknown',
            'from_me': bool(record.from_me),
            'sender_id': record.sender_id or False,
            'message_type': record.message_type or 'unknown',
            'raw_type': record.raw_type or False,
            'body': record.body or False,
            'message_date': to_naive_utc(record.timestamp),
            'contact_id': contact_ids.get(person, False),
            'group_id': group_ids.get(record.chat_id, False) if is_group else False,
        }
        if record.sender_name:
            vals['sender_name'] = record.sender_name
        if record.status:
            vals['status'] = record.status
        if media:
            vals.update({
                'media_id': media.media_id or False,
                'media_mime_type': media.mime_type or False,
                'media_file_name': media.file_name or False,
                'media_file_size': media.file_size or 0,
                'media_url': media.url or False,
            })
        return vals

    @api.model
    def _apply_status_updates(self, configuration, updates):
        """Apply delivery statuses to stored messages; return how many changed.

        A status for a message never stored is dropped: it would be a row with
        no content. Updates naming a message by the provider's own reference
        (Wassenger's queue id of a message sent from Odoo) find it by that,
        and learn its WhatsApp id when the update carries it.
        """
        updates = [update for update in updates if update.status]
        by_key, stats = self._upsert([
            {'configuration_id': configuration.id, 'message_id': update.message_id, 'status': update.status}
            for update in updates], create=False)
        changed = stats.updated
        missing = [update for update in updates if (configuration.id, update.message_id) not in by_key]
        if not missing:
            return changed
        sent = self.search([('configuration_id', '=', configuration.id),
                            ('provider_ref', 'in', [update.message_id for update in missing])])
        sent_by_ref = {message.provider_ref: message for message in sent}
        for update in missing:
            message = sent_by_ref.get(update.message_id)
            if not message:
                continue
            vals = {}
            if not self._upsert_same('status', message.status, update.status):
                vals['status'] = update.status
            alt_id = getattr(update, 'alt_message_id', None)
            if alt_id and alt_id != message.message_id and not self.search_count(
                    [('configuration_id', '=', configuration.id), ('message_id', '=', alt_id)]):
                vals['message_id'] = alt_id
            if vals:
                message.write(vals)
                changed += 1
        return changed

    def _post_on_partners(self):
        """Post received messages of linked contacts on their partner's chatter, once each."""
        to_post = self.filtered(lambda message: (
            not message.from_me and not message.chatter_posted and message.contact_id.partner_id
            and message.configuration_id.post_to_chatter and message.message_type != 'system'
            and message.configuration_id.chatter_since
            and message.message_date >= message.configuration_id.chatter_since))
        for message in to_post:
            body = message.body or _('[%s]') % dict(MESSAGE_TYPE_SELECTION).get(message.message_type, '')
            message.contact_id.partner_id.message_post(
                body=plaintext2html(_('WhatsApp (%(account)s): %(body)s') % {
                    'account': message.configuration_id.name, 'body': body}),
                subtype_xmlid='mail.mt_note', message_type='comment')
        if to_post:
            to_post.write({'chatter_posted': True})
