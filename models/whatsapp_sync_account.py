# -*- coding: utf-8 -*-
"""Syncing one account: its own transaction and lock, each kind, each page stored."""
import collections
import datetime
import logging
import threading
import time
import weakref
from contextlib import contextmanager

import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INERROR

from odoo import _, api, fields, models

from .. import providers
from .error_messages import explain
from .whatsapp_sync_mixin import to_naive_utc
from .whatsapp_message import SILENT_SEND_CHECKS
from .whatsapp_sync_service import (
    INVITE_LINKS_PER_RUN, MAX_SKIP_DETAILS, MEMBER_FETCH_BATCH, MEMBER_REFRESH_HOURS, SYNC_LOCK_NAMESPACE,
    WATERMARK_OVERLAP_MINUTES,
)

_logger = logging.getLogger(__name__)

#: how long a sync waits for another process's write of its account row before it
#: concludes that its own caller holds that row (see ``_usable``)
USABLE_LOCK_WAIT_SECONDS = 5

#: what one account's run gives back: its log id, its state, and whether its errors
#: were all transient (a queued job tries again later)
RunOutcome = collections.namedtuple('RunOutcome', 'log_id state retryable')


class SyncAlreadyRunning(Exception):
    """Another transaction holds this account's sync lock."""


class WhatsappSyncServiceAccount(models.Model):
    """The sync service, running one account: in a transaction of its own committed
    page by page, under the account's lock, each kind isolated from the others."""
    _inherit = 'whatsapp.sync.service'

    def _own_transactions(self):
        """Whether each account syncs in a transaction of its own: always, except in
        unit tests that run inside one test transaction (HttpCase's test mode hands
        out cursors on that transaction, so there the real path runs)."""
        return self.env.registry.in_test_mode() or not getattr(threading.current_thread(), 'testing', False)

    @contextmanager
    def _own_transaction(self, needs=None, will_write_needs=True):
        """This service on a cursor of its own, committed when the block ends well.

        The caller's transaction is never committed, never left aborted, and
        holds none of the rows written here. Odoo 14 shares one record cache
        and one write buffer among all cursors of a thread: the caller's
        pending writes are flushed to its own cursor first, and the cache is
        dropped afterwards (the caller's snapshot may predate these commits).

        ``needs``: records the block works on. When one of them is not
        committed yet (a script created the account in its own transaction and
        syncs it before committing), or is locked by an uncommitted change (a
        script edited it: the block would wait for the caller, which waits for
        the block), the block runs in the caller's transaction instead, as a
        sync did before, without per-page commits. ``will_write_needs=False``:
        the block only reads or refers to them; their locks do not matter.
        """
        if not self._own_transactions():
            yield self
            return
        self.env['base'].flush()
        cr = self.env.registry.cursor()
        try:
            own = self.with_env(self.env(cr=cr))
            if needs is not None and not _usable(own.env, needs, will_write_needs):
                cr.close()
                cr = None
                yield self
                return
            _OWN_CURSORS.add(cr)
            yield own
            cr.commit()  # pylint: disable=invalid-commit
        finally:
            if cr is not None:
                cr.close()
            self.env['base'].invalidate_cache()

    def _commit_allowed(self):
        """Commit only a sync's own cursor (see ``_own_transaction``), never the caller's."""
        return self.env.cr in _OWN_CURSORS

    def _commit(self):
        if self._commit_allowed():
            # keep every page already stored if a later one fails, and make
            # progress visible to other users
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _sync_configuration(self, configuration, kinds, full, message_limit, trigger, refresh_recent):
        """Sync one account under its lock, in a transaction of its own committed page
        by page; return its ``RunOutcome``.

        The lock is taken before that transaction's first snapshot and released
        after its last commit, so whoever syncs the account next starts from
        everything this run stored.
        """
        not_ready = self._not_ready_reason(configuration) if trigger == 'cron' else None
        if not_ready:
            return self._record_run_outcome(configuration, trigger, full, 'skipped', not_ready)
        try:
            with self._account_lock(configuration):
                with self._own_transaction(needs=configuration) as service:
                    return service._sync_locked(
                        configuration.with_env(service.env), kinds, full, message_limit, trigger, refresh_recent)
        except SyncAlreadyRunning:
            return self._record_run_outcome(
                configuration, trigger, full, 'skipped',
                _('A sync of this account is already running; this run skipped it.'), connection=False)

    def _record_run_outcome(self, configuration, trigger, full, state, message, connection=True):
        """A run that did not sync the account (not ready, already running): its log row."""
        with self._own_transaction(needs=configuration) as service:
            log = service.env['whatsapp.sync.log'].sudo().create({
                'configuration_id': configuration.id, 'trigger': trigger, 'full_sync': full,
                'state': state, 'ended_at': fields.Datetime.now(), 'error_message': message,
            })
            values = {'last_sync_time': fields.Datetime.now(), 'last_sync_status': state}
            if connection:
                values['last_sync_message'] = message
            configuration.with_env(service.env).sudo().write(values)
            return RunOutcome(log.id, state, False)

    def _sync_locked(self, configuration, kinds, full, message_limit, trigger, refresh_recent):
        Log = self.env['whatsapp.sync.log'].sudo()
        started = time.monotonic()
        log = Log.create({'configuration_id': configuration.id, 'trigger': trigger, 'full_sync': full})
        self._commit()
        try:
            errors, refused, retryable = self._sync_kinds(
                configuration, log, kinds, full, message_limit, refresh_recent)
            state = 'error' if errors else 'success'
            if refused:
                # scheduled runs stop trying a refused token until someone fixes it and tests again
                configuration.write({'connection_state': 'error', 'connection_message': errors[-1],
                                     'connection_detail': log.error_details})
            elif not errors:
                configuration.write({'connection_state': 'connected', 'connection_message': False,
                                     'connection_detail': False})
            log.write({
                'state': state,
                'error_message': '\n'.join(errors) or False,
                'ended_at': fields.Datetime.now(),
                'duration': time.monotonic() - started,
                'current_step': False,
            })
        except psycopg2.Error as error:
            if not self._commit_allowed():
                raise  # the (test) transaction is aborted (see _sync_kinds): the call fails whole
            # Pages already committed stay; drop the aborted rest, record why.
            _logger.exception('WhatsApp sync of %s failed in the database', configuration.name)
            self.env.cr.rollback()
            self.env.clear()
            values = {'state': 'error', 'ended_at': fields.Datetime.now(), 'current_step': False,
                      'duration': time.monotonic() - started,
                      'error_message': _('Database error, the sync stopped: %s') % error}
            log = log.exists()
            if log:
                log.write(values)
            else:
                log = Log.create(dict(values, configuration_id=configuration.id, trigger=trigger, full_sync=full))
            state = 'error'
            retryable = False
        configuration.write({
            'last_sync_time': fields.Datetime.now(),
            'last_sync_status': state,
            'last_sync_message': log.error_message or log.summary,
        })
        return RunOutcome(log.id, state, retryable)

    def _account_lock(self, configuration):
        return _AdvisoryLock(self.env, SYNC_LOCK_NAMESPACE, configuration.id)

    def _sync_kinds(self, configuration, log, kinds, full, message_limit, refresh_recent):
        """Run each kind; return the error sentences, whether the provider refused the
        credentials, and whether every error was transient (network, 5xx, 429).

        A provider error ends that kind only, unless it is one every later call
        would repeat (bad token, bad settings). People read one plain sentence
        per error; the technical text goes to the log's technical details.
        """
        errors = []
        details = []
        transient = []

        def failed(kind, error):
            sentence, detail = explain(self.env, error)
            errors.append(_('%(kind)s: %(error)s') % {'kind': kind, 'error': sentence})
            details.append('%s: %s' % (kind, detail))
            log.write({'error_details': '\n'.join(details)})

        try:
            client = configuration._make_provider_client()
        except providers.ProviderError as error:
            failed(_('connection'), error)
            return errors, True, False
        steps = []
        if 'contacts' in kinds:
            steps.append(('contacts', lambda: self._sync_contacts(configuration, client, log)))
        if 'groups' in kinds or 'group_members' in kinds:
            steps.append(('groups', lambda: self._sync_groups(
                configuration, client, log, with_members='group_members' in kinds,
                refresh_members=full or 'groups' not in kinds)))
        if 'messages' in kinds:
            steps.append(('messages', lambda: self._sync_messages(
                configuration, client, log, message_limit, refresh_recent)))
            # sends no status reached (a missed webhook, a queued send that failed)
            steps.append(('statuses', lambda: self._check_silent_sends(configuration, client)))
        for kind, step in steps:
            log.write({'current_step': kind})
            self._commit()  # others see which step runs
            try:
                step()
            except (providers.AuthenticationError, providers.ConfigurationError) as error:
                failed(kind, error)
                return errors, True, False
            except providers.ProviderError as error:
                failed(kind, error)
                transient.append(isinstance(error, (providers.TransientError, providers.RateLimitedError)))
            except psycopg2.Error as error:
                if self.env.cr._cnx.get_transaction_status() == TRANSACTION_STATUS_INERROR:
                    raise  # aborted transaction: _sync_configuration decides what survives
                # the page's savepoint rolled back; the transaction goes on like after any error
                _logger.warning('WhatsApp sync of %s (%s): database error %s', configuration.name, kind, error)
                errors.append(_('%(kind)s: database error: %(error)s') % {'kind': kind, 'error': error})
            except Exception as error:  # recorded, so the next account still syncs
                _logger.exception('WhatsApp sync of %s (%s) failed', configuration.name, kind)
                errors.append(_('%(kind)s: unexpected error: %(error)s') % {'kind': kind, 'error': error})
        # worth another try later only when every error was the network's or the provider's moment
        return errors, False, len(transient) == len(errors) > 0 and all(transient)

    @api.model
    def _not_ready_reason(self, configuration):
        """Why a scheduled run leaves this account alone, or None."""
        if configuration.connection_state == 'draft':
            return _('Not connected yet: open the account and click Test Connection.')
        if configuration.connection_state == 'disconnected' and self._back_online(configuration):
            return None
        if configuration.connection_state == 'disconnected':
            return _('Skipped: the provider reports the WhatsApp session disconnected (%s). Syncs resume when it '
                     'reports the session connected, or after Test Connection.') % (
                configuration.connection_message or _('no detail'))
        if configuration.connection_state == 'error':
            return _('Skipped until the connection works again (%s). Fix the account, then click '
                     'Test Connection.') % (configuration.connection_message or _('last test failed'))
        return None

    @api.model
    def _back_online(self, configuration):
        """Ask the provider whether a session it reported down is up again: the webhook
        saying so may have been lost, and the scheduled syncs must not wait for ever.
        One cheap call per scheduled run of a disconnected account."""
        try:
            info = configuration._make_provider_client().check_connection()
        except providers.ProviderError as error:
            _logger.info('WhatsApp account %s still unreachable: %s', configuration.id, error)
            return False
        if not info.connected:
            return False
        configuration.sudo()._apply_health(providers.AccountHealth(connected=True, reason='online', status=info.status))
        return True

    def _store_page(self, log, page, store, refused=None):
        """Store one provider page, count it and its skipped items.

        Returns what ``store`` returns: the records by key (a dict), or the
        newest message time, unstorable messages included: they are recorded
        as skipped and must not hold the watermark back, or every later run
        would stop on them again.
        """
        results, unstorable = self._store_tolerant(page.items, store)
        if refused is not None:
            refused.extend(rec for rec, _skip in unstorable)
        skipped = list(page.skipped) + [skip for _rec, skip in unstorable]
        self._record_skipped(log, skipped)
        self._commit()
        # Pages of a long history must not pile up in the ORM cache.
        self.env['whatsapp.sync.log'].invalidate_cache()
        for model in ('whatsapp.contact', 'whatsapp.group', 'whatsapp.group.member', 'whatsapp.message'):
            self.env[model].invalidate_cache()
        if any(isinstance(result, dict) for result in results):
            merged = {}
            for result in results:
                merged.update(result or {})
            return merged
        moments = [result for result in results if isinstance(result, datetime.datetime)]
        moments += [to_naive_utc(rec.timestamp) for rec, _skip in unstorable if getattr(rec, 'timestamp', None)]
        return max(moments) if moments else None

    def _store_page_settled(self, configuration, log, page, store, model, key_field):
        """:meth:`_store_page`, then once more for the items another transaction (a webhook
        meeting a new contact or group) inserted after this page's snapshot began.

        The upsert cannot see those rows, so it neither updates nor returns them: the
        listing's names would wait for the next run, and a group's members would not be
        read. The page's commit made them visible: they are stored again now.
        Returns the records by key, those included.
        """
        refused = []
        by_key = self._store_page(log, page, store, refused) or {}
        # refused items are skipped, counted once, and not tried again
        refused_ids = {id(rec) for rec in refused}
        missed = [getattr(rec, key_field) for rec in page.items
                  if id(rec) not in refused_ids and (configuration.id, getattr(rec, key_field)) not in by_key]
        if missed:
            present = set(model.search([('configuration_id', '=', configuration.id),
                                        (key_field, 'in', missed)]).mapped(key_field))
            meanwhile = [rec for rec in page.items if id(rec) not in refused_ids and getattr(rec, key_field) in present]
            if meanwhile:
                by_key.update(self._store_page(log, providers.Page(items=meanwhile), store) or {})
        return by_key

    def _store_tolerant(self, items, store):
        """``store(items)`` in a savepoint; when the database refuses some value,
        store the items one by one and return the refused ones with the reason.

        Returns ``(results, [(item, Skipped)])``. Errors that a retry could
        cure (serialization failures, locks) are not data errors: they go up,
        and so does the first error when every item of several fails alike.
        """
        try:
            with self.env.cr.savepoint():
                return [store(items)], []
        except (psycopg2.Error, ValueError) as error:
            if not _is_unstorable(error):
                raise
            first_error = error
        if len(items) == 1:  # already tried alone
            return [], [(items[0], _unstorable_skip(items[0], first_error))]
        results = []
        unstorable = []
        for item in items:
            try:
                with self.env.cr.savepoint():
                    results.append(store([item]))
            except (psycopg2.Error, ValueError) as error:
                if not _is_unstorable(error):
                    raise
                unstorable.append((item, _unstorable_skip(item, error)))
        if len(unstorable) == len(items) > 1:
            # not a bad item but a failing store (or a wholly bad page): the step's error
            raise first_error
        _logger.info('WhatsApp: %d of %d items could not be stored (%s)', len(unstorable), len(items),
                     _error_line(first_error))
        return results, unstorable

    def _record_skipped(self, log, skipped):
        if not skipped:
            return
        details = (log.skipped_details or '').splitlines()
        for skip in skipped[:max(0, MAX_SKIP_DETAILS - len(details))]:
            details.append('%s %s: %s' % (skip.kind, skip.external_id or '?', skip.reason))
        log.write({'skipped_count': log.skipped_count + len(skipped), 'skipped_details': '\n'.join(details)})

    def _sync_contacts(self, configuration, client, log):
        Contact = self.env['whatsapp.contact'].sudo()

        def store(records):
            by_key, stats = Contact._upsert([Contact._vals_from_record(configuration, rec) for rec in records])
            log._add_stats('contacts', stats)
            return by_key

        for page in client.iter_contacts():
            self._store_page_settled(configuration, log, page, store, Contact, 'contact_id')

    def _sync_groups(self, configuration, client, log, with_members, refresh_members):
        """Groups, and their members when asked: from the listing when it carries
        them, else one request per group that is new, never synced, or due a refresh."""
        Group = self.env['whatsapp.group'].sudo()

        def store_groups(records):
            by_key, stats = Group._upsert([Group._vals_from_record(configuration, rec) for rec in records])
            log._add_stats('groups', stats)
            return by_key

        def store_members(records):
            self._store_members(configuration, log, records)

        refreshed_before = fields.Datetime.now() - datetime.timedelta(hours=MEMBER_REFRESH_HOURS)
        invite_budget = [INVITE_LINKS_PER_RUN if configuration.fetch_invite_links
                         and configuration._provider_supports('get_invite_code') else 0]
        for page in client.iter_groups():
            by_key = self._store_page_settled(configuration, log, page, store_groups, Group, 'group_id')
            if invite_budget[0]:
                self._fetch_new_invite_links(client, log, list(by_key.values()), invite_budget)
            if not with_members:
                continue
            # An hourly run does not re-compare thousands of members: only those of groups
            # never synced or last compared a day ago, or all when a refresh is asked.
            due = [rec for rec in page.items if refresh_members or _members_due(
                by_key.get((configuration.id, rec.group_id)), refreshed_before)]
            listed = [rec for rec in due if rec.members is not None]
            if listed:
                self._store_page(log, providers.Page(items=listed, skipped=_participant_skips(listed)),
                                 store_members)
            to_fetch = [rec.group_id for rec in due if rec.members is None]
            for start in range(0, len(to_fetch), MEMBER_FETCH_BATCH):
                fetched = providers.Page()
                for group_id, group in client.get_groups(to_fetch[start:start + MEMBER_FETCH_BATCH]):
                    if isinstance(group, providers.Failed):
                        # this group's members stay as they were; the others go on
                        fetched.skipped.append(providers.Skipped('group', str(group.error), group_id))
                    else:
                        fetched.items.append(group)
                fetched.skipped.extend(_participant_skips(fetched.items))
                self._store_page(log, fetched, store_members)
        if refresh_members:
            # people met by hidden number: merged into their contact once the provider tells the number
            self.env['whatsapp.contact'].sudo()._resolve_hidden_contacts(configuration, client)

    def _fetch_new_invite_links(self, client, log, groups, budget):
        """Invite links of groups that have none yet, at most ``budget[0]`` per run,
        so a first sync of hundreds of groups does not hammer the provider."""
        skipped = providers.Page()
        for group in groups:
            if budget[0] <= 0:
                break
            if group.invite_fetched_at:
                continue
            budget[0] -= 1
            try:
                link = client.get_invite_code(group.group_id)
            except providers.ProviderError as error:
                skipped.skipped.append(providers.Skipped('invite link', str(error), group.group_id))
                continue
            group.write({'invite_code': link.code, 'invite_link': link.url,
                         'invite_fetched_at': fields.Datetime.now()})
        self._store_page(log, skipped, lambda records: None)

    def _store_members(self, configuration, log, group_records, complete=True):
        """Members of whole groups: upsert them and remove those the group lost.

        ``complete=False`` (a webhook's group update, whose participant list may be
        partial): upsert only; nobody is removed for not being mentioned.
        """
        Group = self.env['whatsapp.group'].sudo()
        Member = self.env['whatsapp.group.member'].sudo()
        Contact = self.env['whatsapp.contact'].sudo()
        group_ids = Group._ensure(configuration, [rec.group_id for rec in group_records])
        seed = {member.contact_id: member for rec in group_records for member in rec.members}
        contact_ids = Contact._ensure(configuration, list(seed), records=seed)
        # A key missing from group_ids / contact_ids was stored meanwhile by a concurrent
        # transaction this one cannot see yet: that group is left to it (and the next run).
        group_records = [rec for rec in group_records if rec.group_id in group_ids]
        vals_list = []
        incomplete = set()
        for rec in group_records:
            for member in rec.members:
                if member.contact_id not in contact_ids:
                    incomplete.add(rec.group_id)
                    continue
                vals_list.append({
                    'group_id': group_ids[rec.group_id],
                    'contact_id': contact_ids[member.contact_id],
                    'configuration_id': configuration.id,
                    'role': member.role if member.role in providers.MEMBER_ROLES else 'member',
                })
        by_key, stats = Member._upsert(vals_list)
        kept = {record.id for record in by_key.values()}
        # A group with unreadable participants keeps its other members: one of them may be those.
        whole = [group_ids[rec.group_id] for rec in group_records
                 if complete and not getattr(rec, 'skipped', None) and rec.group_id not in incomplete]
        stale = Member.search([('group_id', 'in', whole), ('id', 'not in', list(kept))]) if whole else Member
        if log:
            log._add_stats('members', stats)
            log.members_removed += len(stale)
        stale.unlink()
        # written at most daily, so a re-run with no remote change writes nothing
        refreshed_before = fields.Datetime.now() - datetime.timedelta(hours=MEMBER_REFRESH_HOURS)
        due = Group.browse(list(group_ids.values())).filtered(lambda group: _members_due(group, refreshed_before))
        if due and complete:
            due.write({'members_synced_at': fields.Datetime.now()})

    def _sync_messages(self, configuration, client, log, message_limit, refresh_recent):
        """Messages from the watermark (less an overlap), or the most recent ones.

        The watermark moves only once the whole iteration is stored, so a run
        cut short is re-read next time instead of skipped.
        """
        since = configuration._messages_since(WATERMARK_OVERLAP_MINUTES)
        passes = []
        if message_limit == 0:
            passes.append({})
        else:
            if since:
                passes.append({'since': since})
            if not since or refresh_recent:
                passes.append({'limit': message_limit})
        newest = configuration.last_message_date
        # A clock-skewed or bogus future timestamp must not carry the watermark past
        # messages not yet read: it never goes beyond the time this run started.
        ceiling = fields.Datetime.now() + datetime.timedelta(minutes=WATERMARK_OVERLAP_MINUTES)
        for arguments in passes:
            for page in client.iter_messages(**arguments):
                page_newest = self._store_page(
                    log, page, lambda records: self._store_messages(configuration, log, records))
                if page_newest and (not newest or page_newest > newest):
                    newest = page_newest
        newest = min(newest, ceiling) if newest else newest
        if newest and newest != configuration.last_message_date:
            configuration.write({'last_message_date': newest})
        expired = self.env['whatsapp.message.event']._expire(configuration)
        if expired:
            log.write({'events_expired': log.events_expired + expired})

    def _check_silent_sends(self, configuration, client):
        changed = self.env['whatsapp.message'].sudo()._check_silent_sends(
            configuration, client, limit=int(self.env['ir.config_parameter'].sudo().get_param(
                'whatsapp_integration.silent_send_checks', SILENT_SEND_CHECKS)))
        if changed:
            _logger.info('WhatsApp account %s: %d sent messages got their status from the provider',
                         configuration.id, changed)
        self._commit()
        return changed

    def _store_messages(self, configuration, log, records):
        """Upsert messages with their contacts and groups; return the newest time.

        ``log`` (None for webhooks) receives the counts.
        """
        Message = self.env['whatsapp.message'].sudo()
        # edits, deletions and votes sent as messages apply to their target, never a row
        records = Message._apply_actions(configuration, records or [])
        if not records:
            return None
        people = set()
        groups = set()
        for rec in records:
            if rec.chat_type == 'group':
                groups.add(rec.chat_id)
                people.add(rec.sender_id)
            elif rec.chat_type == 'contact':
                people.add(rec.chat_id)
        contact_ids = self.env['whatsapp.contact'].sudo()._ensure(configuration, people)
        group_ids = self.env['whatsapp.group'].sudo()._ensure(configuration, groups)
        Message._adopt_sent_messages(configuration, records)
        vals_list = [Message._vals_from_record(configuration, rec, contact_ids, group_ids) for rec in records]
        by_key, stats = Message._upsert(vals_list)
        if log:
            log._add_stats('messages', stats)
        if stats.created:
            created = set(stats.changed_ids[:stats.created])
            new_ids = [key[1] for key, record in by_key.items() if record.id in created]
            self.env['whatsapp.message.key']._touch(configuration, new_ids)
        # statuses, edits and deletions that overtook these messages
        self.env['whatsapp.message.event']._apply_pending(configuration, [key[1] for key in by_key])
        if configuration.post_to_chatter:
            Message.browse([record.id for record in by_key.values()])._post_on_partners()
        if stats.created:
            created = Message.browse(stats.changed_ids[:stats.created])
            created._apply_opt_keywords()
            if configuration.discuss_enabled:
                created._discuss_candidates()._post_in_channels()
        return max(vals['message_date'] for vals in vals_list)

    def _store_webhook_batch(self, configuration, batch):
        """Apply one verified webhook payload; return counts for the reply and the log line.

        Everything goes through the same upserts as the sync, so a webhook
        and a later sync of the same message meet on one row, and a
        redelivered payload changes nothing. No account lock: a webhook must
        not wait for a long sync, and the unique constraints keep both safe.
        An item the database refuses is recorded as skipped on a sync log row
        (trigger "Webhook") and the rest is stored: the provider gets its 200
        instead of retrying a payload that can never be stored.
        """
        Message = self.env['whatsapp.message'].sudo()
        Contact = self.env['whatsapp.contact'].sudo()
        Group = self.env['whatsapp.group'].sudo()
        counts = {}
        unstorable = []

        def store_contacts(records):
            _by_key, stats = Contact._upsert([Contact._vals_from_record(configuration, rec) for rec in records])
            return stats.created + stats.updated

        def store_groups(records):
            Group._upsert([Group._vals_from_record(configuration, rec) for rec in records])
            with_members = [rec for rec in records if rec.members is not None]
            if with_members:
                self._store_members(configuration, None, with_members, complete=False)
            return len(records)

        def store_messages(records):
            self._store_messages(configuration, None, records)
            return len(records)

        parts = [
            ('contacts', batch.contacts, store_contacts),
            ('groups', batch.groups, store_groups),
            ('messages', batch.messages, store_messages),
            ('statuses', batch.statuses, lambda records: Message._apply_status_updates(configuration, records)),
            ('edits', batch.edits, lambda records: Message._apply_edits(configuration, records)),
            ('votes', batch.votes, lambda records: Message._apply_votes(configuration, records)),
            ('deletions', batch.deletions, lambda records: Message._apply_deletions(configuration, records)),
            ('participants', batch.participant_changes,
             lambda records: self._apply_participant_changes(configuration, records)),
        ]
        for name, records, store in parts:
            if not records:
                continue
            results, refused = self._store_tolerant(records, store)
            counts[name] = sum(result or 0 for result in results)
            unstorable += [skip for _rec, skip in refused]
        if unstorable:
            counts['unstorable'] = len(unstorable)
        if unstorable or batch.skipped:
            self._record_webhook_skips(configuration, list(batch.skipped) + unstorable)
        return counts

    def _record_webhook_skips(self, configuration, skipped):
        """What a webhook delivery carried but could not be read or stored, where
        managers and the account's users look for it: a sync log row."""
        log = self.env['whatsapp.sync.log'].sudo().create({
            'configuration_id': configuration.id, 'trigger': 'webhook', 'state': 'success',
            'ended_at': fields.Datetime.now(), 'current_step': False})
        self._record_skipped(log, skipped)
        return log

    def _apply_participant_changes(self, configuration, changes):
        Group = self.env['whatsapp.group'].sudo()
        Member = self.env['whatsapp.group.member'].sudo()
        group_ids = Group._ensure(configuration, [change.group_id for change in changes])
        contact_ids = self.env['whatsapp.contact'].sudo()._ensure(
            configuration, [key for change in changes for key in change.contact_ids])
        applied = 0
        for change in changes:
            group_id = group_ids.get(change.group_id)
            if not group_id:
                continue  # stored meanwhile by a concurrent transaction; the next sync reconciles
            keys = [contact_ids[key] for key in change.contact_ids if key in contact_ids]
            if change.action == 'remove':
                members = Member.search([('group_id', '=', group_id), ('contact_id', 'in', keys)])
                applied += len(members)
                members.unlink()
                continue
            role = {'add': 'member', 'promote': 'admin', 'demote': 'member'}.get(change.action)
            if not role:
                continue
            vals_list = [{'group_id': group_id, 'contact_id': contact_id,
                          'configuration_id': configuration.id, 'role': role} for contact_id in keys]
            # 'add' keeps the role of someone already there; promote/demote only touch members.
            _by_key, stats = Member._upsert(
                vals_list, update=change.action != 'add', create=change.action == 'add')
            applied += stats.created + stats.updated
        return applied


#: SQLSTATE classes of values the database refuses whatever the moment: data
#: exceptions (22), integrity violations (23, a concurrent unique insert aside),
#: program limits such as an index entry too large (54)
_UNSTORABLE_CLASSES = ('22', '23', '54')


#: the cursors ``_own_transaction`` opened: the only ones a sync commits
_OWN_CURSORS = weakref.WeakSet()


def _usable(env, records, will_write=True):
    """Whether a new transaction (``env``) sees ``records`` and could write them.

    A row another process is writing right now (a skipped run's outcome, a user
    saving the account) is waited for, a few seconds at most; a row the caller
    itself changed without committing would be waited for forever, so after
    the wait the answer is no. The probe's row lock goes with its savepoint: no
    sync holds the account's row for its whole duration.
    """
    records = records.with_env(env)
    if not records:
        return True
    for _attempt in range(3):
        if records.exists() != records:
            return False
        if not will_write:
            return True
        env.cr.execute('SAVEPOINT whatsapp_usable_probe')
        try:
            env.cr.execute("SET LOCAL lock_timeout = '%ds'" % USABLE_LOCK_WAIT_SECONDS)
            env.cr.execute('SELECT id FROM "%s" WHERE id IN %%s FOR NO KEY UPDATE' % records._table,
                           (tuple(records.ids),), log_exceptions=False)
            return True
        except psycopg2.errors.LockNotAvailable:
            return False
        except psycopg2.extensions.TransactionRollbackError:
            # written and committed by another process since this snapshot: look again afresh
            env.cr.execute('ROLLBACK TO SAVEPOINT whatsapp_usable_probe')
            env.cr.rollback()
            continue
        finally:
            if not env.cr._cnx.closed and env.cr._cnx.get_transaction_status() != TRANSACTION_STATUS_IDLE:
                env.cr.execute('ROLLBACK TO SAVEPOINT whatsapp_usable_probe')
                env.cr.execute('RELEASE SAVEPOINT whatsapp_usable_probe')
    return False


def _is_unstorable(error):
    if isinstance(error, psycopg2.Error):
        code = error.pgcode or ''
        return code[:2] in _UNSTORABLE_CLASSES and code != '23505'
    return isinstance(error, ValueError)  # text the driver cannot encode


def _error_line(error):
    text = (getattr(error, 'pgerror', None) or str(error) or type(error).__name__).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _unstorable_skip(record, error):
    """The skipped-item line of a provider record the database refused."""
    external_id = next((getattr(record, name) for name in ('message_id', 'group_id', 'contact_id', 'chat_id')
                        if getattr(record, name, None)), None)
    return providers.Skipped(type(record).__name__.lower(), _('could not be stored: %s') % _error_line(error),
                             external_id)


def _members_due(group, refreshed_before):
    """Whether a group's member list is to be compared again (never, or over a day ago)."""
    return group is not None and (not group.members_synced_at or group.members_synced_at < refreshed_before)


def _participant_skips(group_records):
    """Participants the provider layer could not read, for the log's skip count."""
    return [skipped for rec in group_records for skipped in (getattr(rec, 'skipped', None) or [])]


class _AdvisoryLock(object):
    """Session-level PostgreSQL advisory lock on a connection of its own.

    Session-level, so it outlives the per-page commits of the cron path and is
    seen by every worker and server on the database. Its own connection, in
    autocommit (never "idle in transaction", so it holds back no VACUUM), runs
    nothing but lock and unlock: an aborted sync transaction cannot keep the
    lock, and a dead process drops its connection and the lock with it.
    Under HttpCase the registry hands out the test cursor itself, so there the
    lock is a transaction lock on the sync's own cursor.
    """

    def __init__(self, env, namespace, key):
        self.env = env
        self.keys = (namespace, key)
        self.cr = None

    def __enter__(self):
        if self.env.registry.in_test_mode():
            self.env.cr.execute('SELECT pg_try_advisory_xact_lock(%s, %s)', self.keys)
            if not self.env.cr.fetchone()[0]:
                raise SyncAlreadyRunning()
            return self
        self.cr = self.env.registry.cursor()
        try:
            self.cr.autocommit(True)
            self.cr.execute('SELECT pg_try_advisory_lock(%s, %s)', self.keys)
            locked = self.cr.fetchone()[0]
        except Exception:
            self.cr.close()
            raise
        if not locked:
            self.cr.close()
            raise SyncAlreadyRunning()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self.cr is None:
            return False
        try:
            self.cr.execute('SELECT pg_advisory_unlock(%s, %s)', self.keys)
        except psycopg2.Error as error:
            # closing the connection below releases the lock all the same
            _logger.warning('WhatsApp sync lock %s not released explicitly: %s', self.keys, error)
        finally:
            self.cr.close()
        return False
