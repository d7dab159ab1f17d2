# -*- coding: utf-8 -*-
import logging

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

from .local_time import local_time_text

_logger = logging.getLogger(__name__)

MODULE = 'whatsapp_integration'
#: first key of the PostgreSQL advisory lock taken per account while it syncs
SYNC_LOCK_NAMESPACE = 0x57A5
#: minutes re-read before the watermark; the upsert absorbs what was already stored
WATERMARK_OVERLAP_MINUTES = 5
#: how many skip reasons a log row keeps
MAX_SKIP_DETAILS = 20
#: invite links fetched per account and run when the account asks for them
INVITE_LINKS_PER_RUN = 20
#: scheduled runs re-compare a group's members when last compared longer ago than this
MEMBER_REFRESH_HOURS = 24
#: groups whose members are fetched one by one, stored together
MEMBER_FETCH_BATCH = 20

#: a queued sync older than this no longer blocks a new one (its cron died)
STALE_REQUEST_HOURS = 6
#: a user's sync runs inline only when every account's last one took less than this
QUICK_SYNC_SECONDS = 5
DEFAULT_MESSAGE_LIMIT = 50
FULL_MESSAGE_LIMIT = 200
ALL_KINDS = ('contacts', 'groups', 'group_members', 'messages')

# The three scheduled actions of the public contract: XML id -> values.
CRON_JOBS = [
    ('ir_cron_whatsapp_data_sync', {
        'name': 'WhatsApp Data Sync',
        'code': 'model.with_context(whatsapp_sync_commit=True).cron_sync_all_data()',
        'interval_number': 1, 'interval_type': 'hours', 'active': True,
    }),
    ('ir_cron_whatsapp_data_sync_frequent', {
        'name': 'WhatsApp Data Sync (Frequent)',
        'code': 'model.with_context(whatsapp_sync_commit=True).cron_sync_all_data()',
        'interval_number': 30, 'interval_type': 'minutes', 'active': False,
    }),
    ('ir_cron_whatsapp_full_sync_daily', {
        'name': 'WhatsApp Full Data Sync (Daily)',
        'code': 'model.with_context(whatsapp_sync_commit=True).cron_sync_all_data(full=True)',
        'interval_number': 1, 'interval_type': 'days', 'active': False,
    }),
]


#: which service field switches which cron on and off
CRON_FLAG_FIELDS = [
    ('ir_cron_whatsapp_data_sync', 'cron_hourly_active'),
    ('ir_cron_whatsapp_data_sync_frequent', 'cron_frequent_active'),
    ('ir_cron_whatsapp_full_sync_daily', 'cron_daily_active'),
]


class WhatsappSyncService(models.Model):
    """Runs syncs: one run locks each account, syncs it, isolates its failure
    and records the outcome here and on a sync log row."""
    _name = 'whatsapp.sync.service'
    _inherit = ['mail.thread']
    _description = 'WhatsApp Sync Service'

    name = fields.Char(required=True, default='WhatsApp Auto Sync Service')
    sync_status = fields.Selection(
        [('idle', 'Idle'), ('running', 'Running'), ('success', 'Success'), ('error', 'Error')],
        default='idle', required=True, readonly=True)
    last_sync_time = fields.Datetime(readonly=True)
    last_sync_message = fields.Text(
        compute='_compute_last_sync_message', groups='whatsapp_integration.group_whatsapp_manager',
        help='Outcome per account of the last run; users see their own accounts\' runs below.')
    # The last run's outcome is read from its logs, as the reader: no text column that a
    # read_group aggregate could expose to someone who may not see every account's runs.
    last_run_log_ids = fields.Many2many(
        'whatsapp.sync.log', 'whatsapp_sync_service_last_run_rel', 'service_id', 'log_id',
        readonly=True, groups='whatsapp_integration.group_whatsapp_manager')
    last_run_empty = fields.Boolean(readonly=True, groups='whatsapp_integration.group_whatsapp_manager')
    cron_status = fields.Text(compute='_compute_cron_status', string='Scheduled Syncs')
    # Switches of the crons: read from them, written to them by write() below.
    cron_hourly_active = fields.Boolean(string='Hourly Sync', compute='_compute_cron_flags', readonly=False)
    cron_frequent_active = fields.Boolean(
        string='Frequent Sync (30 min)', compute='_compute_cron_flags', readonly=False)
    cron_daily_active = fields.Boolean(string='Daily Full Sync', compute='_compute_cron_flags', readonly=False)
    running_log_ids = fields.Many2many(
        'whatsapp.sync.log', compute='_compute_log_ids', string='Running Now')
    recent_log_ids = fields.Many2many(
        'whatsapp.sync.log', compute='_compute_log_ids', string='Recent Runs')
    waiting_request_ids = fields.Many2many(
        'whatsapp.sync.request', compute='_compute_log_ids', string='Waiting to Start',
        help='Syncs asked for from Sync Now or the Sync Wizard that the sync cron has not started yet.')

    # ------------------------------------------------------------------
    # Public contract
    # ------------------------------------------------------------------
    @api.model
    def cron_sync_all_data(self, full=False, message_limit=None):
        """Sync every active account: the scheduled actions and ``odoo shell`` call this.

        ``full``: also re-read every group's members and the most recent
        messages. ``message_limit``: messages imported by an account with no
        watermark yet (None: 50, or 200 when ``full``); 0 imports the whole
        history the provider holds. Called by ``odoo shell`` or a script, it
        syncs every account right away, each in its own transaction; run by a
        scheduled action, it enqueues one queue_job job per account when
        queue_job is installed, else runs the syncs queued from the UI first.
        """
        if not (self.env.su or self.env.user.has_group('whatsapp_integration.group_whatsapp_manager')):
            raise AccessError(_('Only the scheduler and WhatsApp managers sync every account.'))
        if message_limit is None:
            message_limit = FULL_MESSAGE_LIMIT if full else DEFAULT_MESSAGE_LIMIT
        service = self._get_service()
        configurations = self.env['whatsapp.configuration'].sudo().search([('active', '=', True)])
        if not self._scheduled_run():
            service._run(configurations, ALL_KINDS, full=full, message_limit=message_limit, trigger='other')
            return True
        if service._queue_jobs_available():
            # one job per account: the workers of every server share them out
            service._enqueue_accounts(configurations, ALL_KINDS, full, message_limit, 'cron', refresh_recent=full)
            service._process_sync_requests()  # queued before queue_job was installed
            return True
        woken_early = service._woken_for_requests()
        service._process_sync_requests()
        if woken_early:
            return True  # brought forward for queued syncs: the scheduled one is not due yet
        service._run(configurations, ALL_KINDS, full=full, message_limit=message_limit, trigger='cron')
        # a request queued while this run was busy must not wait for the next one
        service._process_sync_requests()
        return True

    def manual_sync_all_data(self):
        """Sync Now: every account the current user may sync; long ones in the background."""
        configurations = self._configurations_for_user()
        _logs, action = self._get_service()._start(configurations, ALL_KINDS, DEFAULT_MESSAGE_LIMIT, 'manual')
        return action

    def init_cron_jobs(self):
        """Create Cron Jobs: recreate whichever of the three crons is missing."""
        self._check_manager()
        created = self._ensure_cron_jobs()
        if created:
            message = _('Created: %s.') % ', '.join(created)
        else:
            message = _('All three WhatsApp scheduled actions already exist; nothing was created.')
        return self.env['whatsapp.configuration']._notify(_('Scheduled actions'), message, 'success')

    def check_cron_status(self):
        """Check Cron Status: each cron's state, interval and next run."""
        if not self.env.user.has_group('whatsapp_integration.group_whatsapp_user'):
            raise AccessError(_('Only WhatsApp users can see the scheduled syncs.'))
        return self.env['whatsapp.configuration']._notify(
            _('Scheduled actions'), self._cron_status_text(), 'info')

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------
    @api.model
    def _cron_records(self):
        """The three crons by XML id, archived ones included; None where missing."""
        imd = self.env['ir.model.data'].sudo()
        result = {}
        for xml_id, _values in CRON_JOBS:
            data = imd.search([('module', '=', MODULE), ('name', '=', xml_id), ('model', '=', 'ir.cron')], limit=1)
            cron = self.env['ir.cron'].sudo().with_context(active_test=False).browse(data.res_id).exists() \
                if data else None
            result[xml_id] = cron or None
        return result

    @api.model
    def _ensure_cron_jobs(self):
        """Create the missing crons with XML ids of this module; return their names.

        Found by XML id, never by name, so a renamed or archived cron counts
        as existing and is left as the administrator set it. A dangling XML id
        (its cron deleted by hand) is replaced.
        """
        existing = self._cron_records()
        model = self.env['ir.model']._get(self._name)
        data_list = []
        for xml_id, values in CRON_JOBS:
            if existing[xml_id]:
                continue
            stale = self.env['ir.model.data'].sudo().search(
                [('module', '=', MODULE), ('name', 'in', (xml_id, xml_id + '_ir_actions_server'))])
            # the server action a hand-deleted cron leaves behind would outlive an uninstall
            orphan_ids = [data.res_id for data in stale if data.model == 'ir.actions.server']
            self.env['ir.actions.server'].sudo().browse(orphan_ids).exists().unlink()
            stale.unlink()
            data_list.append({
                'xml_id': '%s.%s' % (MODULE, xml_id),
                'noupdate': True,
                'values': dict(values, model_id=model.id, state='code', numbercall=-1,
                               doall=False, user_id=SUPERUSER_ID),
            })
        if data_list:
            self.env['ir.cron'].sudo()._load_records(data_list)
            _logger.info('Created WhatsApp scheduled actions: %s', ', '.join(d['values']['name'] for d in data_list))
        return [data['values']['name'] for data in data_list]

    def _compute_cron_flags(self):
        crons = self._cron_records()
        for service in self:
            for xml_id, field_name in CRON_FLAG_FIELDS:
                service[field_name] = bool(crons[xml_id] and crons[xml_id].active)

    def write(self, vals):
        """The switches go to their crons, each exactly as given.

        Not an inverse: the web client sends all three switches on every save,
        and an inverse reads the ones not written from a recompute that may
        run mid-write; here every switch sent is applied and no other.
        """
        flags = {name: vals.pop(name) for _xml_id, name in CRON_FLAG_FIELDS if name in vals}
        if flags:
            self._set_cron_flags(flags)
        return super().write(vals) if vals else True

    def _set_cron_flags(self, flags):
        self._check_manager()
        crons = self._cron_records()
        for xml_id, field_name in CRON_FLAG_FIELDS:
            cron = crons[xml_id]
            if field_name in flags and cron and cron.active != bool(flags[field_name]):
                values = {'active': bool(flags[field_name])}
                now = fields.Datetime.now()
                if values['active'] and cron.nextcall < now:
                    # switched on after a long pause: its next run is one interval from now, not a past time
                    values['nextcall'] = now + _interval_delta(cron.interval_number, cron.interval_type)
                cron.write(values)
        self.invalidate_cache([field_name for _xml_id, field_name in CRON_FLAG_FIELDS])

    def _compute_log_ids(self):
        Log = self.env['whatsapp.sync.log']
        running = Log.search([('state', '=', 'running')])
        recent = Log.search([('state', '!=', 'running')], limit=10)
        # record rules: a user's own requests, every request for managers
        waiting = self.env['whatsapp.sync.request'].search([('state', '=', 'pending')])
        for service in self:
            service.running_log_ids = running
            service.recent_log_ids = recent
            service.waiting_request_ids = waiting

    def _compute_cron_status(self):
        text = self._cron_status_text()
        for service in self:
            service.cron_status = text

    @api.model
    def _cron_status_text(self):
        lines = []
        crons = self._cron_records()
        for xml_id, values in CRON_JOBS:
            cron = crons[xml_id]
            if not cron:
                lines.append(_('%s: missing (use Create Cron Jobs)') % values['name'])
                continue
            values = {'name': cron.name, 'every': self._interval_text(cron.interval_number, cron.interval_type),
                      'next': self._local_time(cron.nextcall), 'last': self._local_time(cron.lastcall) or _('never')}
            if cron.active:
                lines.append(_('%(name)s: active, %(every)s; next run %(next)s, last run %(last)s') % values)
            else:
                lines.append(_('%(name)s: inactive (%(every)s when active); last run %(last)s') % values)
        return '\n'.join(lines)

    def _interval_text(self, number, unit):
        """'every hour', 'every 30 minutes', 'every day'..."""
        singular = {'minutes': _('every minute'), 'hours': _('every hour'), 'days': _('every day'),
                    'weeks': _('every week'), 'months': _('every month')}
        plural = {'minutes': _('every %s minutes'), 'hours': _('every %s hours'), 'days': _('every %s days'),
                  'weeks': _('every %s weeks'), 'months': _('every %s months')}
        if number == 1 and unit in singular:
            return singular[unit]
        return plural.get(unit, '%s ' + unit) % number

    def _local_time(self, moment):
        """A stored (UTC) time as the reader's clock shows it, with its time zone."""
        return local_time_text(self, moment)

    # ------------------------------------------------------------------
    # Running a sync
    # ------------------------------------------------------------------
    @api.model
    def _get_service(self):
        service = self.sudo().search([], limit=1)
        if not service:
            service = self.sudo().create({'name': 'WhatsApp Auto Sync Service'})
        return service

    @api.model
    def _configurations_for_user(self, configuration=None):
        """The accounts the current user may sync (record rules decide), as superuser."""
        if not self.env.user.has_group('whatsapp_integration.group_whatsapp_user'):
            raise AccessError(_('Only WhatsApp users can run a sync.'))
        domain = [('active', '=', True)]
        if configuration:
            domain.append(('id', '=', configuration.id))
        return self.env['whatsapp.configuration'].search(domain).sudo()

    def _check_manager(self):
        if not self.env.user.has_group('whatsapp_integration.group_whatsapp_manager'):
            raise AccessError(_('Only WhatsApp managers can manage the scheduled actions.'))

    def _scheduled_run(self):
        """Whether this is the scheduler's run (or a server-side script's that asked for it).

        The scheduled actions set ``whatsapp_sync_commit``; a context is also
        what any RPC caller controls, so inside a web request it counts for
        nothing: the commit decision stays on the server side.
        """
        return bool(self.env.context.get('whatsapp_sync_commit')) and not self._in_web_request()

    def _run(self, configurations, kinds, full, message_limit, trigger, refresh_recent=None):
        """Sync each account in turn; one account's failure never stops the next.

        ``refresh_recent``: also re-read the ``message_limit`` most recent
        messages of accounts that have a watermark (default: when ``full``).
        Returns the logs; each was committed by its account's own transaction,
        which the caller's snapshot may predate: read them with ``_read_logs``.
        """
        self.ensure_one()
        if refresh_recent is None:
            refresh_recent = full
        self._write_status({'sync_status': 'running'})
        log_ids = []
        states = []
        for configuration in configurations:
            outcome = self._sync_configuration(configuration, kinds, full, message_limit, trigger, refresh_recent)
            log_ids.append(outcome.log_id)
            states.append(outcome.state)
        self._write_status({
            'sync_status': 'error' if 'error' in states else 'success',
            'last_sync_time': fields.Datetime.now(),
            'last_run_log_ids': [(6, 0, log_ids)],
            'last_run_empty': not configurations,
        })
        return self.env['whatsapp.sync.log'].browse(log_ids)

    def _write_status(self, values):
        """Record the run's status in a short transaction of its own, unless a
        concurrent run holds the row: that run must neither block this one nor
        abort it with a serialization failure."""
        logs = self.env['whatsapp.sync.log'].browse(
            [command[1] for command in values.get('last_run_log_ids', []) if command[0] == 4]
            + [log_id for command in values.get('last_run_log_ids', []) if command[0] == 6 for log_id in command[2]])
        try:
            with self._own_transaction(needs=logs, will_write_needs=False) as service, service.env.cr.savepoint():
                service.env.cr.execute('SELECT id FROM whatsapp_sync_service WHERE id = %s FOR UPDATE NOWAIT',
                                       (service.id,), log_exceptions=False)
                service.write(values)
        except psycopg2.OperationalError as error:
            _logger.info('WhatsApp sync status not recorded (%s); another run is writing it.', error)

    def _read_logs(self, logs, reader):
        """``reader(logs)`` on a snapshot that sees the logs the accounts' own
        transactions committed."""
        with self._own_transaction(needs=logs, will_write_needs=False) as service:
            return reader(logs.with_env(service.env))

    @api.depends('last_run_log_ids', 'last_run_empty')
    @api.depends_context('uid')
    def _compute_last_sync_message(self):
        """The last finished run of each active account the reader may see: a user's
        sync of one account does not hide the others' outcome from a manager."""
        self.env['whatsapp.sync.log'].flush(['configuration_id', 'trigger', 'state', 'started_at'])
        self.env.cr.execute("""SELECT DISTINCT ON (configuration_id) id FROM whatsapp_sync_log
                               WHERE trigger != 'webhook' AND state != 'running'
                               ORDER BY configuration_id, started_at DESC, id DESC""")
        latest = [row[0] for row in self.env.cr.fetchall()]
        # as the reader: record rules drop the runs of accounts they may not see
        logs = self.env['whatsapp.sync.log'].search(
            [('id', 'in', latest), ('configuration_id.active', '=', True)], order='started_at desc, id desc')
        for service in self:
            if not logs and service.sudo().last_run_empty:
                service.last_sync_message = _('No active WhatsApp account to sync.')
                continue
            service.last_sync_message = '\n'.join(_summary_lines(logs)) or False

    def _notify_result(self, logs):
        def notification(logs):
            errors = logs.filtered(lambda log: log.state == 'error')
            lines = _summary_lines(logs) or [_('No active WhatsApp account to sync.')]
            return self.env['whatsapp.configuration']._notify(
                _('Sync finished with errors') if errors else _('Sync finished'),
                '\n'.join(lines), 'warning' if errors else 'success')
        return self._read_logs(logs, notification)


def _interval_delta(number, unit):
    """An ir.cron interval as a relativedelta."""
    return relativedelta(**{unit: number})


def _summary_lines(logs):
    """One 'Account: summary' line per run log."""
    return ['%s: %s' % (log.configuration_id.name, log.summary) for log in logs]
