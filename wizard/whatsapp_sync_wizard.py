# -*- coding: utf-8 -*-
from odoo import _, api, fields, models
from odoo.exceptions import UserError

KINDS_BY_TYPE = {
    'all': ('contacts', 'groups', 'group_members', 'messages'),
    'contacts': ('contacts',),
    'groups': ('groups',),
    'messages': ('messages',),
    'group_members': ('group_members',),
}


class WhatsappSyncWizard(models.TransientModel):
    """Sync chosen kinds of data of one or all of the user's accounts, now."""
    _name = 'whatsapp.sync.wizard'
    _inherit = ['whatsapp.result.mixin']
    _description = 'WhatsApp Sync Wizard'

    sync_type = fields.Selection(
        [('all', 'Everything'), ('contacts', 'Contacts'), ('groups', 'Groups'),
         ('messages', 'Messages'), ('group_members', 'Group Members'), ('custom', 'Custom')],
        required=True, default='all')
    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account',
        help='Leave empty to sync every account you may sync.')
    message_limit = fields.Integer(
        string='Number of Messages', default=50,
        help='How many recent messages to read; 0 reads the whole history the provider holds.')
    sync_contacts = fields.Boolean(string='Contacts', default=True)
    sync_groups = fields.Boolean(string='Groups', default=True)
    sync_group_members = fields.Boolean(string='Group Members', default=True)
    sync_messages = fields.Boolean(string='Messages', default=True)
    state = fields.Selection([('draft', 'Draft'), ('done', 'Done')], default='draft')
    result_message = fields.Text(readonly=True)
    log_ids = fields.Many2many('whatsapp.sync.log', string='Sync Logs', readonly=True)

    @api.constrains('message_limit')
    def _check_message_limit(self):
        if any(wizard.message_limit < 0 for wizard in self):
            raise UserError(_('The number of messages cannot be negative (0 means the whole history).'))

    def _kinds(self):
        self.ensure_one()
        if self.sync_type != 'custom':
            return KINDS_BY_TYPE[self.sync_type]
        kinds = tuple(kind for kind, wanted in (
            ('contacts', self.sync_contacts), ('groups', self.sync_groups),
            ('group_members', self.sync_group_members), ('messages', self.sync_messages)) if wanted)
        if not kinds:
            raise UserError(_('Choose at least one kind of data to sync.'))
        return kinds

    def sync_data(self):
        """Run the sync (in the background when long) and show what happened."""
        self.ensure_one()
        service = self.env['whatsapp.sync.service']
        configurations = service._configurations_for_user(self.configuration_id or None)
        if self.configuration_id and not configurations:
            raise UserError(_('You may not sync the account %s, or it is archived.') % self.configuration_id.name)
        service = service._get_service()
        logs, action = service._start(configurations, self._kinds(), self.message_limit, 'wizard')
        title = _('Sync Result')
        message = '%s\n%s' % (action['params']['title'], action['params']['message'])
        # The logs were committed by the accounts' own transactions, after this
        # request's snapshot began: the result is written where they are visible,
        # unless this wizard itself is not committed yet (created in the same
        # transaction, as a script may do): then here, with the logs it can see.
        with service._own_transaction() as fresh:
            wizard = self.with_env(self.env(cr=fresh.env.cr)).exists()
            if wizard:
                return wizard._show_result(title, message, log_ids=[(6, 0, logs.ids)])
        return self._show_result(title, message, log_ids=[(6, 0, logs.exists().ids)])
