# -*- coding: utf-8 -*-
import datetime

from odoo import api, fields, models

#: a key row matters only while two transactions about its message may be open
KEEP_HOURS = 1


class WhatsappMessageKey(models.Model):
    """One row per message id recently stored or waited for.

    A message stored by one request and an event kept for it by another, at the
    same moment, would each commit without seeing the other: the event would wait
    for a message that is already there. Both write this row; under Odoo's
    REPEATABLE READ the second writer fails to serialize, Odoo re-runs it, and the
    re-run sees the first one's work.
    """
    _name = 'whatsapp.message.key'
    _description = 'WhatsApp Message Key'
    _log_access = False

    configuration_id = fields.Many2one('whatsapp.configuration', required=True, ondelete='cascade')
    message_id = fields.Char(required=True)
    touched_at = fields.Datetime(required=True)

    _sql_constraints = [('key_unique', 'UNIQUE(configuration_id, message_id)', 'One row per message id.')]

    @api.model
    def _touch(self, configuration, message_ids):
        message_ids = sorted(set(message_ids))  # one order for every writer: no deadlock
        if not message_ids:
            return
        # A serialization failure here is expected and retried by Odoo: not an error to log.
        self.env.cr.execute("""
            INSERT INTO whatsapp_message_key (configuration_id, message_id, touched_at)
            SELECT %s, key, now() at time zone 'UTC' FROM unnest(%s::varchar[]) AS key
            ON CONFLICT (configuration_id, message_id) DO UPDATE SET touched_at = EXCLUDED.touched_at
        """, (configuration.id, message_ids), log_exceptions=False)

    @api.model
    def _prune(self, configuration):
        limit = fields.Datetime.now() - datetime.timedelta(hours=KEEP_HOURS)
        self.env.cr.execute('DELETE FROM whatsapp_message_key WHERE configuration_id = %s AND touched_at < %s',
                            (configuration.id, limit))
