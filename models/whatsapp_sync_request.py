# -*- coding: utf-8 -*-
from odoo import fields, models


class WhatsappSyncRequest(models.Model):
    """A sync asked for from the UI, too long for a web request, run by the next cron.

    Odoo kills a request after ``limit_time_real``; a first import of a large
    account takes longer. Sync Now and the wizard queue it here, bring the sync
    cron forward, and the cron runs it and notifies the user who asked.
    """
    _name = 'whatsapp.sync.request'
    _description = 'WhatsApp Sync Request'
    _order = 'id desc'

    user_id = fields.Many2one('res.users', required=True, default=lambda self: self.env.user, ondelete='cascade')
    configuration_ids = fields.Many2many('whatsapp.configuration', string='Accounts')
    kinds = fields.Char(required=True, help='Comma-separated kinds: contacts, groups, group_members, messages.')
    message_limit = fields.Integer(default=50)
    trigger = fields.Selection([('manual', 'Sync Now'), ('wizard', 'Sync Wizard')], default='manual', required=True)
    state = fields.Selection(
        [('pending', 'Pending'), ('running', 'Running'), ('done', 'Done')], default='pending', required=True,
        index=True)
    log_ids = fields.Many2many('whatsapp.sync.log', string='Sync Logs')
    result = fields.Text()
