# -*- coding: utf-8 -*-
import logging

import psycopg2

from odoo import _, api, fields, http, models
from odoo.tools import plaintext2html

from .whatsapp_sync_service import QUICK_SYNC_SECONDS, STALE_REQUEST_HOURS, _summary_lines

_logger = logging.getLogger(__name__)

#: queue_job channel of the per-account sync jobs; its capacity is set in the
#: server configuration (``[queue_job] channels = root:4,root.whatsapp:2``)
JOB_CHANNEL = 'root.whatsapp'
#: a job whose errors were all transient is tried again, at most this often
JOB_MAX_RETRIES = 5
#: seconds before the first retry; doubled at each one, capped at an hour
JOB_RETRY_SECONDS = 60


class WhatsappSyncServiceDispatch(models.Model):
    """Where a sync runs: inline, in OCA queue_job jobs (one per account, so several
    workers or servers sync accounts in parallel), or, without queue_job, in the
    built-in queue of UI requests that the sync cron runs."""
    _inherit = 'whatsapp.sync.service'

    wake_for_requests_until = fields.Datetime(
        readonly=True, groups='base.group_system',
        help='Set when a queued UI sync brought the sync cron forward: until this time (when the cron was '
             'due), the cron runs the queued syncs only, not a scheduled sync of every account.')

    # ------------------------------------------------------------------
    # OCA queue_job
    # ------------------------------------------------------------------
    @api.model
    def _queue_jobs_available(self):
        """OCA queue_job is installed in this database (not merely on disk)."""
        return 'queue.job' in self.env.registry and hasattr(self, 'with_delay')

    def _enqueue_accounts(self, configurations, kinds, full, message_limit, trigger, refresh_recent,
                          notify_user=None):
        """One job per account. A job still waiting to sync the same account the same
        way absorbs a new request instead of queueing a second one."""
        self.ensure_one()
        self._write_status({'sync_status': 'running', 'last_run_log_ids': [(5, 0, 0)],
                            'last_run_empty': not configurations})
        jobs = []
        for configuration in configurations:
            identity = 'whatsapp-sync:%d:%s:%s:%s' % (configuration.id, ','.join(kinds), int(bool(full)),
                                                      message_limit)
            jobs.append(self.with_delay(
                channel=JOB_CHANNEL, max_retries=JOB_MAX_RETRIES, identity_key=identity,
                description=_('WhatsApp sync of %s') % configuration.name,
            )._job_sync_account(configuration.id, list(kinds), full, message_limit, trigger, refresh_recent,
                                notify_user.id if notify_user else False))
        return jobs

    def _job_sync_account(self, configuration_id, kinds, full, message_limit, trigger, refresh_recent,
                          notify_user_id=False):
        """A queue_job job: sync one account (in its own transaction, under its lock).

        Errors that were all transient (network, provider 5xx, 429) make the
        job try again later with a growing delay; a refused token or a bad
        setting never does: the log says what to fix.
        """
        from odoo.addons.queue_job.exception import RetryableJobError  # only loaded with queue_job

        configuration = self.env['whatsapp.configuration'].sudo().browse(configuration_id).exists()
        if not configuration.active:
            return _('The account was archived or deleted: nothing to sync.')
        not_ready = self._not_ready_reason(configuration) if trigger == 'cron' else None
        if not_ready:
            outcome = self._record_run_outcome(configuration, trigger, full, 'skipped', not_ready)
        else:
            outcome = self._sync_configuration(configuration, tuple(kinds), full, message_limit, trigger,
                                               refresh_recent)
        summary = '\n'.join(self._read_logs(self.env['whatsapp.sync.log'].browse(outcome.log_id), _summary_lines))
        self._write_job_status(outcome)
        if outcome.state == 'error' and outcome.retryable:
            retry = self.env['queue.job'].sudo().search([('uuid', '=', self.env.context.get('job_uuid'))]).retry
            raise RetryableJobError(summary, seconds=min(JOB_RETRY_SECONDS * 2 ** (retry or 0), 3600))
        if notify_user_id:
            with self._own_transaction() as service:
                service.message_notify(
                    partner_ids=service.env['res.users'].browse(notify_user_id).partner_id.ids,
                    subject=_('WhatsApp sync finished'), body=plaintext2html(summary))
        return summary

    def _write_job_status(self, outcome):
        """One account's job ended: add its log to the last run's, and say error
        while any of them failed."""
        with self._own_transaction() as service:
            service = service.sudo()
            failed = 'error' in service.last_run_log_ids.mapped('state') or outcome.state == 'error'
        self._write_status({'sync_status': 'error' if failed else 'success', 'last_sync_time': fields.Datetime.now(),
                            'last_run_log_ids': [(4, outcome.log_id)]})

    # ------------------------------------------------------------------
    # User syncs: inline, or queued
    # ------------------------------------------------------------------
    def _start(self, configurations, kinds, message_limit, trigger):
        """Run a user's sync inline when no web request waits on it (shell, tests); from
        the browser without queue_job, run the quick accounts at once and hand only the
        others to the background (the built-in queue run by the sync cron); with
        queue_job, one job per account.

        Returns the logs of what ran inline and a client action telling the user what
        happened.
        """
        self.ensure_one()
        Log = self.env['whatsapp.sync.log']
        if self._in_web_request() and self._queue_jobs_available():
            self._enqueue_accounts(configurations, kinds, False, message_limit, trigger,
                                   refresh_recent=trigger == 'wizard', notify_user=self.env.user)
            return Log, self.env['whatsapp.configuration']._notify(
                _('Sync started in the background'), _(
                    'Syncing %s, one job per account. Follow it in WhatsApp > Sync > Sync Logs; '
                    'you will be notified when each account is done.')
                % ', '.join(configurations.mapped('name')), 'info')
        if not self._in_web_request():
            slow = configurations.browse()
        else:
            slow = configurations.filtered(lambda config: not self._is_quick_account(config, message_limit))
        quick = configurations - slow
        if not slow:
            logs = self._run(quick, kinds, full=False, message_limit=message_limit, trigger=trigger,
                             refresh_recent=trigger == 'wizard')
            return logs, self._notify_result(logs)
        Request = self.env['whatsapp.sync.request'].sudo()
        stale_before = fields.Datetime.subtract(fields.Datetime.now(), hours=STALE_REQUEST_HOURS)
        busy = Request.search([('state', 'in', ('pending', 'running')), ('create_date', '>', stale_before),
                               ('configuration_ids', 'in', slow.ids)], limit=1)
        if busy and not quick:
            shared = busy.configuration_ids & slow  # name only accounts this user may see
            return Log, self.env['whatsapp.configuration']._notify(
                _('Sync already started'), _(
                    'A sync of %(accounts)s started on %(date)s is still %(state)s; '
                    'its result will be in Sync Logs.') % {
                    'accounts': ', '.join(shared.mapped('name')),
                    'date': self._local_time(busy.create_date),
                    'state': dict(busy._fields['state']._description_selection(self.env))[busy.state].lower()},
                'warning')
        if not busy:
            Request.create({
                'user_id': self.env.uid,
                'configuration_ids': [(6, 0, slow.ids)],
                'kinds': ','.join(kinds),
                'message_limit': message_limit,
                'trigger': trigger,
            })
            self._bring_cron_forward()
        logs = Log
        if quick:
            # the quick accounts need not wait for a slow one: they run now, in this request
            logs = self._run(quick, kinds, full=False, message_limit=message_limit, trigger=trigger,
                             refresh_recent=trigger == 'wizard')
        background = _('%s: in the background (queued at %s). Follow it in WhatsApp > Sync > Sync Service '
                       '(Waiting and Running Now); you will be notified when it ends.') % (
            ', '.join(slow.mapped('name')), self._local_time(fields.Datetime.now()))
        if not logs:
            return logs, self.env['whatsapp.configuration']._notify(
                _('Sync started in the background'), background, 'info')

        def notification(logs):
            errors = logs.filtered(lambda log: log.state == 'error')
            return self.env['whatsapp.configuration']._notify(
                _('Sync finished with errors') if errors else _('Sync finished'),
                '\n'.join(_summary_lines(logs) + [background]), 'warning' if errors else 'success')
        return logs, self._read_logs(logs, notification)

    @api.model
    def _in_web_request(self):
        """Only a browser request has a time limit to fear."""
        return bool(http.request)

    @api.model
    def _is_quick_account(self, configuration, message_limit):
        """Quick enough to keep the browser waiting: no whole-history import asked, and
        the account connected, synced before, and its last run a success that took a
        few seconds. An account that failed last time (an unreachable server retries
        for seconds) goes to the background, where its progress shows."""
        if message_limit == 0:
            return False
        if not configuration.last_message_date or configuration.connection_state != 'connected':
            return False
        last = self.env['whatsapp.sync.log'].sudo().search(
            [('configuration_id', '=', configuration.id), ('trigger', '!=', 'webhook')], limit=1)
        return bool(last) and last.state == 'success' and last.duration <= QUICK_SYNC_SECONDS

    def _bring_cron_forward(self):
        """Make the first active sync cron due now; Odoo's cron runner picks it up within a minute.

        The time it was due is kept: until then, it runs the queued syncs only,
        so a user's click never costs a scheduled sync of every account.
        """
        crons = [cron for cron in self._cron_records().values() if cron and cron.active]
        for cron in crons:
            try:
                with self.env.cr.savepoint():
                    service = self.sudo()
                    if not service.wake_for_requests_until and cron.nextcall > fields.Datetime.now():
                        service.wake_for_requests_until = cron.nextcall
                    # NOWAIT: a cron running right now holds its row; it runs queued requests when it ends.
                    self.env.cr.execute('SELECT id FROM ir_cron WHERE id = %s FOR UPDATE NOWAIT', (cron.id,),
                                        log_exceptions=False)
                    cron.write({'nextcall': fields.Datetime.now()})
                return True
            except psycopg2.OperationalError:
                continue
        if not crons:
            _logger.warning('No active WhatsApp sync cron: queued syncs wait until one is activated.')
        return False

    def _woken_for_requests(self):
        """Whether this scheduled run only came early for queued UI syncs (the cron
        was brought forward before it was due); clears the mark."""
        service = self.sudo()
        until = service.wake_for_requests_until
        if not until:
            return False
        service._write_status({'wake_for_requests_until': False})
        return fields.Datetime.now() < until

    def _process_sync_requests(self):
        """Run the queued UI syncs, oldest first, and notify each user of the result.

        Each request's state lives in short transactions of its own, so it never
        stays "running" because the caller's transaction failed.
        """
        stale_before = fields.Datetime.subtract(fields.Datetime.now(), hours=STALE_REQUEST_HOURS)
        with self._own_transaction() as service:
            service.env['whatsapp.sync.request'].sudo().search(
                [('state', '=', 'running'), ('write_date', '<', stale_before)]).write({
                    'state': 'done', 'result': _('Interrupted (the server stopped while it ran); its sync logs '
                                                 'tell what was stored.')})
        while True:
            request = self._take_sync_request()
            if not request:
                return
            try:
                configurations = self.env['whatsapp.configuration'].sudo().browse(
                    request['configuration_ids']).exists().filtered('active')
                logs = self._run(configurations, tuple(request['kinds'].split(',')), full=False,
                                 message_limit=request['message_limit'], trigger=request['trigger'],
                                 refresh_recent=request['trigger'] == 'wizard')
                failed = None
            except Exception as error:  # recorded on the request; it must not stay "running"
                _logger.exception('Queued WhatsApp sync %s failed', request['id'])
                if not self._own_transactions():
                    raise
                logs = self.env['whatsapp.sync.log']
                failed = _('The sync failed: %s') % error
            with self._own_transaction() as service:
                request = service.env['whatsapp.sync.request'].sudo().browse(request['id'])
                logs = logs.with_env(service.env)
                summary = failed or '\n'.join(_summary_lines(logs)) or _('No active WhatsApp account to sync.')
                request.write({'state': 'done', 'log_ids': [(6, 0, logs.ids)], 'result': summary})
                service.message_notify(
                    partner_ids=request.user_id.partner_id.ids,
                    subject=_('WhatsApp sync finished'),
                    body=plaintext2html(summary),
                )

    def _take_sync_request(self):
        """The oldest pending request, marked running and committed, as plain values;
        None when there is none."""
        with self._own_transaction() as service:
            # SKIP LOCKED: two crons running at once never take the same request
            try:
                with service.env.cr.savepoint():
                    service.env.cr.execute("""SELECT id FROM whatsapp_sync_request WHERE state = 'pending'
                                              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                                           log_exceptions=False)
                    row = service.env.cr.fetchone()
            except psycopg2.OperationalError:
                return None  # another cron took one after this snapshot began: it runs it
            if not row:
                return None
            request = service.env['whatsapp.sync.request'].sudo().browse(row[0])
            request.write({'state': 'running'})
            # plain values: the caller's snapshot may predate this request
            return {'id': request.id, 'configuration_ids': request.configuration_ids.ids, 'kinds': request.kinds,
                    'message_limit': request.message_limit, 'trigger': request.trigger}

