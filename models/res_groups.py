# -*- coding: utf-8 -*-
from odoo import models


class ResGroups(models.Model):
    _inherit = 'res.groups'

    def write(self, vals):
        result = super().write(vals)
        if {'users', 'implied_ids'} & set(vals):
            # members of a group an account is shared with read its conversations in Discuss
            self.env['whatsapp.configuration']._sync_all_discuss_members()
        return result
