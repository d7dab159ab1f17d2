# -*- coding: utf-8 -*-
from odoo import api, models


class PhoneBlacklist(models.Model):
    """Odoo's phone blacklist is the opt-out list WhatsApp sends respect too."""
    _inherit = 'phone.blacklist'

    @api.model
    def _whatsapp_blocked(self, numbers):
        """The numbers (+E.164) of ``numbers`` that opted out."""
        numbers = [number for number in numbers if number]
        if not numbers:
            return set()
        return set(self.sudo().search([('number', 'in', numbers)]).mapped('number'))
