# -*- coding: utf-8 -*-
from odoo import models


class WhatsappRelatedMixin(models.AbstractModel):
    """Stat-button counts and list actions shared by accounts, contacts and groups."""
    _name = 'whatsapp.related.mixin'
    _description = 'WhatsApp records with related lists'

    def _count_related(self, specs):
        """Fill count fields with one grouped query per related model.

        ``specs``: (related model, its many2one to these records, count field).
        """
        for model_name, link_field, count_field in specs:
            data = self.env[model_name].read_group([(link_field, 'in', self.ids)], [link_field], [link_field])
            counts = {row[link_field][0]: row['%s_count' % link_field] for row in data}
            for record in self:
                record[count_field] = counts.get(record.id, 0)

    def _latest_message(self, link_field, target_field):
        """Fill ``target_field`` with the WhatsApp time of each record's newest message,
        in one grouped query."""
        data = self.env['whatsapp.message'].read_group(
            [(link_field, 'in', self.ids)], [link_field, 'message_date:max'], [link_field])
        latest = {row[link_field][0]: row['message_date'] for row in data}
        for record in self:
            record[target_field] = latest.get(record.id, False)

    def _action_open_related(self, model_name, title, domain, context=None):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': title,
            'res_model': model_name,
            'view_mode': 'tree,form',
            'domain': domain,
            'context': context or {},
        }
