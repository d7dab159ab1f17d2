# -*- coding: utf-8 -*-
from odoo import fields, models


class IrCron(models.Model):
    _inherit = 'ir.cron'

    def _callback(self, cron_name, server_action_id, job_id):
        """Run a scheduled action with its run's key in the context (``whatsapp_cron_run``):
        the cron and the time the run was due for. Odoo moves a cron's next call on only
        when its run's transaction commits: a run that failed on the way (its process
        stopped, its commit failed) is run again for the same time, and its WhatsApp sends
        get the keys of the failed run's (``ir.actions.server._firing_key``)."""
        nextcall = self.sudo().browse(job_id).nextcall
        run = 'cron:%d:%s' % (job_id, fields.Datetime.to_string(nextcall) if nextcall else '')
        return super(IrCron, self.with_context(whatsapp_cron_run=run))._callback(
            cron_name, server_action_id, job_id)
