# -*- coding: utf-8 -*-
from odoo import models


class ResGroups(models.Model):
    _inherit = 'res.groups'

    def write(self, vals):
        # members of a group an account is shared with read its conversations in Discuss
        before = self.with_context(active_test=False).mapped('users') if 'users' in vals else None
        result = super().write(vals)
        if 'implied_ids' in vals:
            self.env['whatsapp.configuration']._sync_all_discuss_members()
        elif before is not None:
            changed = before | self.with_context(active_test=False).mapped('users')
            self.env['whatsapp.configuration']._sync_all_discuss_members(changed)
        return result
