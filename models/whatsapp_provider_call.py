# -*- coding: utf-8 -*-
import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers

#: ledger rows are kept this long: far longer than any retried request lives
KEEP_DAYS = 7


class WhatsappProviderCall(models.Model):
    """A ledger of provider calls with a side effect (a send, a group creation).

    Odoo re-runs a whole request after a serialization failure; the ledger is
    written on a cursor of its own, committed before the call, so the re-run
    finds the call and reuses its answer instead of sending twice. It also
    makes a second click on the same wizard harmless.
    """
    _name = 'whatsapp.provider.call'
    _description = 'WhatsApp Provider Call'
    _order = 'id desc'

    key = fields.Char(required=True, readonly=True)
    state = fields.Selection([('pending', 'Started'), ('done', 'Done')], required=True, readonly=True)
    result = fields.Text(readonly=True, help='The provider\'s answer, to reuse when the request is re-run.')

    _sql_constraints = [('key_unique', 'UNIQUE(key)', 'One ledger row per provider call.')]

    @api.model
    def _call_once(self, key, call):
        """``call()`` once for ``key``, ever: a repeat returns the first answer.

        A failed call leaves no row, so trying again is possible; a call whose
        outcome is unknown (its process died mid-call, or it runs right now in
        another request) is refused rather than repeated.
        """
        with self.pool.cursor() as cr:
            # no create_uid: the user may exist only in the caller's uncommitted transaction
            cr.execute("""INSERT INTO whatsapp_provider_call (key, state, create_date, write_date)
                          VALUES (%s, 'pending', now() at time zone 'UTC', now() at time zone 'UTC')
                          ON CONFLICT (key) DO NOTHING RETURNING id""", (key,))
            started = cr.fetchone()
            previous = None
            if not started:
                cr.execute('SELECT state, result FROM whatsapp_provider_call WHERE key = %s', (key,))
                previous = cr.fetchone()
        if previous:
            state, result = previous
            if state == 'done':
                return providers.record_from_json(result)
            raise UserError(_('This was already sent to WhatsApp moments ago and its outcome is not known yet. '
                              'Check the conversation on WhatsApp before trying again.'))
        try:
            outcome = call()
        except Exception:
            with self.pool.cursor() as cr:
                cr.execute('DELETE FROM whatsapp_provider_call WHERE key = %s', (key,))
            raise
        with self.pool.cursor() as cr:
            cr.execute("""UPDATE whatsapp_provider_call SET state = 'done', result = %s,
                                 write_date = now() at time zone 'UTC' WHERE key = %s""",
                       (providers.record_to_json(outcome), key))
        return outcome

    @api.autovacuum
    def _gc_old_calls(self):
        limit = fields.Datetime.now() - datetime.timedelta(days=KEEP_DAYS)
        self.sudo().search([('create_date', '<', limit)]).unlink()
