# -*- coding: utf-8 -*-
"""Bulk sends, one row per recipient, sent in the background at a per-account rate.

WhatsApp bans numbers that blast: a send to many records is queued here and a
scheduled action sends it at the account's pace (messages per minute). Each row
is claimed by a row lock held until its outcome is committed, and the send goes
through the provider call ledger (committed on its own) under the row's key: a
worker killed at any point releases its row at once, and the next one never
sends it twice (the ledger's answer is reused; a send whose outcome was lost
with its worker is marked so, to be checked, rather than repeated).
"""
import datetime
import logging
import time

from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

#: sends of at most this many records go at once, in the user's request
IMMEDIATE_MAX = 5
#: a row left "sending" longer than this (a claim committed by an older version) is taken again
CLAIM_MINUTES = 10


class WhatsappOutbox(models.Model):
    _name = 'whatsapp.outbox'
    _description = 'WhatsApp Outbox'
    _order = 'id desc'

    configuration_id = fields.Many2one('whatsapp.configuration', string='Account', required=True,
                                       ondelete='cascade', index=True)
    batch = fields.Char(required=True, index=True, readonly=True, help='One send request (one click, one action run).')
    template_id = fields.Many2one('whatsapp.template', ondelete='set null', readonly=True)
    res_model = fields.Char(string='Record Model', readonly=True)
    res_id = fields.Integer(string='Record ID', readonly=True)
    record_name = fields.Char(string='Record', readonly=True)
    recipient = fields.Char(readonly=True)
    number = fields.Char(required=True, readonly=True)
    body = fields.Text(readonly=True)
    state = fields.Selection([('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'),
                              ('unknown', 'Outcome Unknown')], default='queued', required=True, index=True,
                             readonly=True)
    error = fields.Char(readonly=True)
    attempts = fields.Integer(readonly=True, help='Retries asked by a person; each is a send of its own.')
    claimed_at = fields.Datetime(readonly=True)
    sent_at = fields.Datetime(readonly=True, index=True)
    message_id = fields.Many2one('whatsapp.message', string='Message', ondelete='set null', readonly=True)

    _sql_constraints = [
        ('batch_number_unique', 'UNIQUE(batch, number)', 'A send request reaches each number once.'),
    ]

    @api.model
    def _enqueue(self, configuration, batch, rows):
        """Queue ``rows`` (dicts: template_id, res_model, res_id, record_name, recipient, number, body)
        in one insert; a number already in the batch is not queued again. Returns how many were."""
        if not rows:
            return 0
        now = fields.Datetime.now()
        values = [(configuration.id, batch, row.get('template_id'), row.get('res_model'), row.get('res_id'),
                   row.get('record_name'), row.get('recipient'), row['number'], row.get('body'), 'queued', 0,
                   self.env.uid, self.env.uid, now, now)
                  for row in rows]
        self.flush()
        inserted = execute_values(self.env.cr._obj, """
            INSERT INTO whatsapp_outbox (configuration_id, batch, template_id, res_model, res_id, record_name,
                                         recipient, number, body, state, attempts, create_uid, write_uid,
                                         create_date, write_date)
            VALUES %s ON CONFLICT (batch, number) DO NOTHING RETURNING id""", values, page_size=1000, fetch=True)
        return len(inserted)

    # ------------------------------------------------------------------
    # Sending, at the account's pace
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_queued(self, time_budget=55):
        """Send queued rows for up to ``time_budget`` seconds, each account at its own rate,
        on a transaction of its own committed row by row."""
        deadline = time.monotonic() + time_budget
        with self.env['whatsapp.sync.service'].sudo()._own_transaction() as service:
            service.env['whatsapp.outbox']._send_until(deadline, commit=service._commit)

    @api.model
    def _send_until(self, deadline, commit=lambda: None, sleep=time.sleep):
        self.flush()
        self.env.cr.execute("""SELECT DISTINCT configuration_id FROM whatsapp_outbox
                                WHERE state = 'queued' OR (state = 'sending' AND claimed_at < %s)""",
                            (fields.Datetime.now() - datetime.timedelta(minutes=CLAIM_MINUTES),))
        accounts = self.env['whatsapp.configuration'].browse([row[0] for row in self.env.cr.fetchall()]).filtered(
            lambda account: account.active and account.connection_state == 'connected')
        if not accounts:
            return 0
        # each account's next slot: its last send plus its interval, or now
        slots = {}
        for account in accounts:
            self.env.cr.execute('SELECT max(sent_at) FROM whatsapp_outbox WHERE configuration_id = %s', (account.id,))
            last = self.env.cr.fetchone()[0]
            interval = 60.0 / max(1, account.send_rate_per_minute)
            wait = max(0.0, interval - (fields.Datetime.now() - last).total_seconds()) if last else 0.0
            slots[account.id] = time.monotonic() + wait
        clients = {}
        sent = 0
        try:
            while slots:
                account_id = min(slots, key=slots.get)
                if slots[account_id] >= deadline:
                    break
                account = accounts.browse(account_id)
                # the claim is a row lock held until the row's outcome is committed: a worker
                # killed meanwhile releases it at once, and the ledger keeps the send from repeating
                row = self._claim(account)
                if not row:
                    del slots[account_id]
                    continue
                delay = slots[account_id] - time.monotonic()
                if delay > 0:
                    sleep(delay)
                if account_id not in clients:
                    clients[account_id] = account.sudo()._make_provider_client()
                slots[account_id] = time.monotonic() + 60.0 / max(1, account.send_rate_per_minute)
                row._send(clients[account_id])
                sent += 1
                commit()
        finally:
            for client in clients.values():
                client.close()
        return sent

    @api.model
    def _claim(self, account):
        """The account's oldest queued row (or one whose claim was lost), claimed by a write."""
        now = fields.Datetime.now()
        self.env.cr.execute("""
            UPDATE whatsapp_outbox SET state = 'sending', claimed_at = %s
             WHERE id = (SELECT id FROM whatsapp_outbox
                          WHERE configuration_id = %s
                            AND (state = 'queued' OR (state = 'sending' AND claimed_at < %s))
                          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id""", (now, account.id, now - datetime.timedelta(minutes=CLAIM_MINUTES)))
        row = self.env.cr.fetchone()
        self.invalidate_cache(['state', 'claimed_at'])
        return self.browse(row[0]) if row else self.browse()

    def _send(self, client):
        """Send this row once (the ledger key is the row); store the message and the outcome."""
        self.ensure_one()
        configuration = self.configuration_id.sudo()
        Message = self.env['whatsapp.message'].sudo()
        contact_ids = self.env['whatsapp.contact'].sudo()._ensure(configuration, [self.number])
        try:
            vals, error = Message._send_vals(configuration, client, self.number, body=self.body,
                                             contact_id=contact_ids.get(self.number, False),
                                             once_key='outbox:%d:%d' % (self.id, self.attempts))
        except UserError as unknown:
            # the ledger: this row's send started in a worker that died before knowing its outcome
            self.write({'state': 'unknown', 'error': str(unknown)[:250]})
            return
        vals['sent_by_id'] = self.create_uid.id  # who queued it, not the scheduled action that sends it
        by_key, _stats = Message._upsert([vals])
        record = next(iter(by_key.values()), None)
        self.write({'state': 'failed' if error else 'sent', 'error': (error or '')[:250] or False,
                    'sent_at': fields.Datetime.now(), 'message_id': record.id if record else False})
        template = self.template_id
        if template and self.res_model and self.res_id:
            target = self.env[self.res_model].browse(self.res_id).exists()
            if target:
                template._log_on_chatter(target, configuration, self.body or '', error)

    def action_retry(self):
        """Queue failed rows again (a person checked they did not arrive)."""
        for row in self.filtered(lambda row: row.state in ('failed', 'unknown')):
            row.write({'state': 'queued', 'error': False, 'attempts': row.attempts + 1})
        return True
