# -*- coding: utf-8 -*-
from odoo import models


class WhatsappResultMixin(models.AbstractModel):
    """Wizards that stay open after their action to show what happened."""
    _name = 'whatsapp.result.mixin'
    _description = 'WhatsApp wizard showing its result'

    def _show_result(self, title, message, **values):
        """Store the result (``state`` done, ``result_message``) and reopen this wizard."""
        self.ensure_one()
        self.write(dict(values, state='done', result_message=message))
        return {
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'target': 'new',
            'name': title,
        }
