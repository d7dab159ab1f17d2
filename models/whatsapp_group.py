# -*- coding: utf-8 -*-
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers

from .whatsapp_sync_mixin import to_naive_utc


class WhatsappGroup(models.Model):
    """A WhatsApp group the account belongs to."""
    _name = 'whatsapp.group'
    _inherit = ['whatsapp.sync.mixin', 'whatsapp.related.mixin']
    _description = 'WhatsApp Group'
    _order = 'name, group_id'
    _upsert_key_fields = ('configuration_id', 'group_id')

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    group_id = fields.Char(string='WhatsApp Group ID', required=True, index=True)
    name = fields.Char()
    description = fields.Text()
    invite_code = fields.Char()
    group_created_at = fields.Datetime(string='Created on WhatsApp')
    member_ids = fields.One2many('whatsapp.group.member', 'group_id', string='Members')
    member_count = fields.Integer(compute='_compute_counts')
    message_count = fields.Integer(compute='_compute_counts')
    last_message_at = fields.Datetime(string='Last Message', compute='_compute_last_message')
    invite_link = fields.Char(readonly=True, copy=False)
    invite_fetched_at = fields.Datetime(string='Invite Link Fetched', readonly=True, copy=False)
    can_manage = fields.Boolean(related='configuration_id.can_manage_groups')
    can_use_invite_links = fields.Boolean(related='configuration_id.can_use_invite_links')
    members_synced_at = fields.Datetime(
        string='Members Checked', readonly=True,
        help='When the members of this group were last compared with WhatsApp; scheduled syncs compare '
             'them again once a day.')

    _sql_constraints = [
        ('group_unique', 'UNIQUE(configuration_id, group_id)',
         'A WhatsApp group exists only once per account.'),
    ]

    def name_get(self):
        return [(group.id, group.name or group.group_id) for group in self]

    def _compute_counts(self):
        self._count_related([('whatsapp.group.member', 'group_id', 'member_count'),
                             ('whatsapp.message', 'group_id', 'message_count')])

    def _compute_last_message(self):
        self._latest_message('group_id', 'last_message_at')

    def action_open_members(self):
        return self._action_open_related('whatsapp.group.member', _('Members'), [('group_id', '=', self.id)])

    def action_open_conversation(self):
        """This group's chat in Discuss, with its recent messages."""
        self.ensure_one()
        return self.env['whatsapp.message']._open_conversation(self.configuration_id, self.group_id, 'group', self.name)

    def action_open_messages(self):
        return self._action_open_related('whatsapp.message', _('Messages'), [('group_id', '=', self.id)])

    @api.model
    def _vals_from_record(self, configuration, record):
        vals = {'configuration_id': configuration.id, 'group_id': record.group_id}
        for name in ('name', 'description', 'invite_code'):
            value = getattr(record, name)
            if value:
                vals[name] = value
        if record.created_at:
            vals['group_created_at'] = to_naive_utc(record.created_at)
        return vals

    @api.model
    def _ensure(self, configuration, group_ids):
        """Create the groups met only in messages, once; names come from the next group sync."""
        vals_list = [{'configuration_id': configuration.id, 'group_id': group_id}
                     for group_id in set(group_ids) if group_id]
        by_key, _stats = self._upsert(vals_list, update=False)
        return {key[1]: record.id for key, record in by_key.items()}

    # ------------------------------------------------------------------
    # Actions on the provider (the group's own account, its own rights)
    # ------------------------------------------------------------------
    def _checked(self):
        """The group, re-read with the user's record rules, then as superuser:
        a WhatsApp user acts only on groups of the accounts assigned to them."""
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        return self.sudo()

    def action_refresh(self):
        """Re-read this group and its members from the provider now."""
        group = self._checked()
        configuration = group.configuration_id
        try:
            record = configuration._make_provider_client().get_group(group.group_id)
        except providers.ProviderError as error:
            raise UserError(_('Could not refresh %(group)s: %(error)s') % {'group': group.display_name, 'error': error})
        group._upsert([group._vals_from_record(configuration, record)])
        if record.members is not None:
            self.env['whatsapp.sync.service'].sudo()._store_members(configuration, None, [record])
        return configuration._notify(_('Group refreshed'), _('%(group)s: %(count)d members.') % {
            'group': group.display_name, 'count': len(group.member_ids)}, 'success')

    def action_fetch_invite_link(self):
        group = self._checked()
        group._fetch_invite_links(group.configuration_id._client_for('get_invite_code'))
        return True

    def _fetch_invite_links(self, client):
        """Fetch and cache the invite links of these groups (already access-checked)."""
        for group in self:
            try:
                link = client.get_invite_code(group.group_id)
            except providers.ProviderError as error:
                raise UserError(_('Could not get the invite link of %(group)s: %(error)s') % {
                    'group': group.display_name, 'error': error})
            group.write({'invite_code': link.code, 'invite_link': link.url,
                         'invite_fetched_at': fields.Datetime.now()})

    def action_revoke_invite_link(self):
        """Revoke the current link; the provider issues a new one, which is stored."""
        group = self._checked()
        client = group.configuration_id._client_for('revoke_invite_code')
        try:
            link = client.revoke_invite_code(group.group_id)
        except providers.ProviderError as error:
            raise UserError(_('Could not revoke the invite link of %(group)s: %(error)s') % {
                'group': group.display_name, 'error': error})
        group.write({'invite_code': link.code, 'invite_link': link.url, 'invite_fetched_at': fields.Datetime.now()})
        return group.configuration_id._notify(_('Invite link revoked'), _(
            'The old link of %(group)s no longer works. New link: %(url)s') % {
                'group': group.display_name, 'url': link.url}, 'success')

    def _change_participants(self, person_keys, action):
        """Ask the provider to add/remove/promote/demote people, then mirror exactly
        what it did. Returns the ParticipantsResult."""
        group = self._checked()
        configuration = group.configuration_id
        client = configuration._client_for('update_participants')
        Contact = self.env['whatsapp.contact'].sudo()
        person_keys, resolved = Contact._resolve_hidden_keys(configuration, person_keys, client)
        try:
            result = client.update_participants(group.group_id, person_keys, action)
        except providers.ProviderError as error:
            raise UserError(_('%(group)s: the provider refused (%(error)s). Nothing was changed.') % {
                'group': group.display_name, 'error': error})
        Contact._record_hidden_numbers(configuration, result.resolved)
        result.resolved = resolved + list(result.resolved)
        if result.done:
            self.env['whatsapp.sync.service'].sudo()._apply_participant_changes(
                configuration, [providers.ParticipantChange(group_id=group.group_id, contact_ids=list(result.done),
                                                            action=action)])
        return result

    def action_open_participants_wizard(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _('Manage Participants'),
            'res_model': 'whatsapp.group.participants',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_group_id': self.id, 'default_action': self.env.context.get('participant_action',
                                                                                             'add')},
        }
