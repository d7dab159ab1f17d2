"""One Odoo-side step of the benchmark, in its own process (run by Odoo's Python).

Usage (bench/driver.py does this): ``python worker.py '<json>'`` with keys
``odoo_args`` (list), ``db``, ``action`` and the action's arguments. Prints one
line ``BENCH_RESULT <json>`` on stdout. A fresh process per step keeps peak
RSS per phase honest and lets the driver kill a sync mid-way.

Actions:
* ``setup``: create configurations, optionally deactivate the others;
* ``activate``: only the given configurations stay active;
* ``sync``: ``cron_sync_all_data(full, message_limit)`` on the cron path
  (context ``whatsapp_sync_commit``: commit per page, as the scheduled action);
* ``naive``: the baseline: a per-record search-then-create loop over the same
  provider pages, committing per page like the cron.

Measured: wall seconds of the action, SQL statements sent through
``odoo.sql_db.Cursor.execute`` (by verb, and INSERT/UPDATE/DELETE per table),
RSS at start and peak (sampled every 10 ms, and VmHWM after resetting it).
"""
import cProfile
import io
import json
import os
import pstats
import re
import sys
import threading
import time

SYNCED_TABLES = ('whatsapp_contact', 'whatsapp_group', 'whatsapp_group_member', 'whatsapp_message')
_VERB = re.compile(r'\s*(\w+)')
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.I)


class QueryCounter(object):
    def __init__(self):
        self.active = False
        self.total = 0
        self.verbs = {}
        self.writes = {}

    def reset(self):
        self.total = 0
        self.verbs = {}
        self.writes = {}

    def add(self, query):
        text = query if isinstance(query, str) else str(query)
        self.total += 1
        match = _VERB.match(text)
        verb = match.group(1).upper() if match else '?'
        self.verbs[verb] = self.verbs.get(verb, 0) + 1
        if verb in ('INSERT', 'UPDATE', 'DELETE'):
            table = _WRITE.match(text)
            key = '%s %s' % (verb, table.group(1) if table else '?')
            self.writes[key] = self.writes.get(key, 0) + 1

    def install(self):
        import odoo.sql_db
        counter = self
        original = odoo.sql_db.Cursor.execute

        def execute(cr, query, params=None, log_exceptions=None):
            if counter.active:
                counter.add(query)
            return original(cr, query, params, log_exceptions)
        odoo.sql_db.Cursor.execute = execute

    def snapshot(self):
        synced = sum(count for key, count in self.writes.items() if key.split(' ', 1)[1] in SYNCED_TABLES)
        return {'queries': self.total, 'verbs': self.verbs, 'writes': self.writes,
                'writes_synced': synced,
                'writes_other': sum(self.writes.values()) - synced}


def _status_kb(field):
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


class RssSampler(object):
    def __init__(self, interval=0.01):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kb('VmRSS'))
            self._stop.wait(self.interval)

    def start(self):
        try:
            with open('/proc/self/clear_refs', 'w') as handle:
                handle.write('5')  # reset VmHWM to the current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.start_kb = _status_kb('VmRSS')
        self.peak = self.start_kb
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        peak = max(self.peak, _status_kb('VmRSS'))
        if self.hwm_reset:
            peak = max(peak, _status_kb('VmHWM'))
        return {'rss_start_mb': self.start_kb / 1024.0, 'rss_peak_mb': peak / 1024.0,
                'rss_growth_mb': (peak - self.start_kb) / 1024.0, 'hwm_reset': self.hwm_reset}


def _invalidate(env):
    env['base'].flush()
    env.cache.invalidate()


# -- actions ------------------------------------------------------------------------------

def action_setup(env, args):
    Configuration = env['whatsapp.configuration'].with_context(active_test=False)
    if args.get('deactivate_others'):
        Configuration.search([]).write({'active': False})
    ids = []
    for values in args['configurations']:
        configuration = Configuration.create(values)
        # Scheduled runs skip accounts never tested: test them as an administrator would
        # (real HTTP to the fake server's /health or /devices/{id}).
        configuration.action_test_connection()
        if configuration.connection_state != 'connected':
            raise RuntimeError('%s: connection test failed: %s' % (values['name'], configuration.connection_message))
        ids.append(configuration.id)
    return {'ids': ids}


def action_activate(env, args):
    Configuration = env['whatsapp.configuration'].with_context(active_test=False)
    keep = set(args['ids'])
    for configuration in Configuration.search([]):
        configuration.active = configuration.id in keep
    return {'active': sorted(keep)}


def _log_rows(env, after_id):
    logs = env['whatsapp.sync.log'].search([('id', '>', after_id)], order='id')
    rows = []
    for log in logs:
        row = {'configuration': log.configuration_id.name, 'configuration_id': log.configuration_id.id,
               'state': log.state, 'error': log.error_message or '', 'skipped': log.skipped_count,
               'duration': log.duration}
        for kind in ('contacts', 'groups', 'members', 'messages'):
            for what in ('created', 'updated', 'unchanged'):
                row['%s_%s' % (kind, what)] = log['%s_%s' % (kind, what)]
        row['members_removed'] = log.members_removed
        rows.append(row)
    return rows


def action_sync(env, args, counter, profile_path=None):
    env.cr.execute('SELECT coalesce(max(id), 0) FROM whatsapp_sync_log')
    last_log = env.cr.fetchone()[0]
    env.cr.commit()
    service = env['whatsapp.sync.service'].with_context(whatsapp_sync_commit=True)
    kwargs = {'full': bool(args.get('full'))}
    if 'message_limit' in args:
        kwargs['message_limit'] = args['message_limit']
    profiler = cProfile.Profile() if profile_path else None
    sampler = RssSampler().start()
    counter.reset()
    counter.active = True
    started = time.monotonic()
    if profiler:
        profiler.enable()
    service.cron_sync_all_data(**kwargs)
    env.cr.commit()
    if profiler:
        profiler.disable()
    seconds = time.monotonic() - started
    counter.active = False
    result = {'seconds': seconds}
    result.update(sampler.stop())
    result.update(counter.snapshot())
    _invalidate(env)
    result['logs'] = _log_rows(env, last_log)
    result['records'] = sum(row['%s_%s' % (kind, what)] for row in result['logs']
                            for kind in ('contacts', 'groups', 'members', 'messages')
                            for what in ('created', 'updated', 'unchanged'))
    if profiler:
        profiler.dump_stats(profile_path)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats('cumulative').print_stats(45)
        stats.sort_stats('tottime').print_stats(30)
        with open(profile_path + '.txt', 'w') as handle:
            handle.write(text.getvalue())
    return result


def action_read(env, args, counter):
    """The floor of a no-change re-run: the provider layer alone reading what a full
    re-run reads (every listing, every group's members, the whole message history),
    with no database work."""
    started = time.monotonic()
    items = 0
    for configuration in env['whatsapp.configuration'].search([]):
        client = configuration._make_provider_client()
        if args.get('concurrency'):
            client.concurrency = args['concurrency']
        items += sum(len(page.items) for page in client.iter_contacts())
        to_fetch = []
        for page in client.iter_groups():
            items += len(page.items) + sum(len(group.members or ()) for group in page.items)
            to_fetch += [group.group_id for group in page.items if group.members is None]
        for _group_id, group in client.get_groups(to_fetch):
            items += len(getattr(group, 'members', None) or ())
        items += sum(len(page.items) for page in client.iter_messages())
    return {'seconds': time.monotonic() - started, 'records': items}


def action_naive(env, args, counter):
    """Baseline: per record, search the row, then create it (or write it)."""
    Contact = env['whatsapp.contact']
    Group = env['whatsapp.group']
    Member = env['whatsapp.group.member']
    Message = env['whatsapp.message']
    sampler = RssSampler().start()
    counter.reset()
    counter.active = True
    started = time.monotonic()
    records = 0

    def get_or_create(model, domain, vals):
        found = model.search(domain, limit=1)
        if found:
            found.write(vals)
            return found
        return model.create(vals)

    def end_page():
        env.cr.commit()
        _invalidate(env)

    for configuration in env['whatsapp.configuration'].search([]):
        client = configuration._make_provider_client()
        cid = configuration.id
        for page in client.iter_contacts():
            for rec in page.items:
                get_or_create(Contact, [('configuration_id', '=', cid), ('contact_id', '=', rec.contact_id)],
                              Contact._vals_from_record(configuration, rec))
                records += 1
            end_page()

        def contact_of(key, seed=None):
            found = Contact.search([('configuration_id', '=', cid), ('contact_id', '=', key)], limit=1)
            if found:
                return found
            if seed is not None:
                return Contact.create(Contact._vals_from_record(configuration, seed))
            return Contact.create({'configuration_id': cid, 'contact_id': key})

        def group_of(key):
            found = Group.search([('configuration_id', '=', cid), ('group_id', '=', key)], limit=1)
            return found or Group.create({'configuration_id': cid, 'group_id': key})

        for page in client.iter_groups():
            for rec in page.items:
                group = get_or_create(Group, [('configuration_id', '=', cid), ('group_id', '=', rec.group_id)],
                                      Group._vals_from_record(configuration, rec))
                records += 1
                members = rec.members if rec.members is not None else client.get_group(rec.group_id).members
                for member in members:
                    contact = contact_of(member.contact_id, member)
                    get_or_create(Member, [('group_id', '=', group.id), ('contact_id', '=', contact.id)],
                                  {'group_id': group.id, 'contact_id': contact.id, 'configuration_id': cid,
                                   'role': member.role})
                    records += 1
                end_page()
        newest = None
        for page in client.iter_messages():
            for rec in page.items:
                contact_ids, group_ids = {}, {}
                person = rec.sender_id if rec.chat_type == 'group' else rec.chat_id
                if rec.chat_type in ('group', 'contact') and person:
                    contact_ids[person] = contact_of(person).id
                if rec.chat_type == 'group':
                    group_ids[rec.chat_id] = group_of(rec.chat_id).id
                vals = Message._vals_from_record(configuration, rec, contact_ids, group_ids)
                get_or_create(Message, [('configuration_id', '=', cid), ('message_id', '=', rec.message_id)], vals)
                records += 1
                if newest is None or vals['message_date'] > newest:
                    newest = vals['message_date']
            end_page()
        if newest:
            configuration.write({'last_message_date': newest})
        end_page()
    seconds = time.monotonic() - started
    counter.active = False
    result = {'seconds': seconds, 'records': records}
    result.update(sampler.stop())
    result.update(counter.snapshot())
    return result


def main():
    args = json.loads(sys.argv[1])
    import odoo
    from odoo.tools import config
    config.parse_config(args['odoo_args'])
    odoo.netsvc.init_logger()
    counter = QueryCounter()
    counter.install()
    registry = odoo.registry(args['db'])
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {'tracking_disable': True})
        action = args['action']
        if action == 'setup':
            result = action_setup(env, args)
        elif action == 'activate':
            result = action_activate(env, args)
        elif action == 'sync':
            result = action_sync(env, args, counter, args.get('profile'))
        elif action == 'naive':
            result = action_naive(env, args, counter)
        elif action == 'read':
            result = action_read(env, args, counter)
        else:
            raise SystemExit('unknown action %r' % action)
        cr.commit()
    sys.stdout.write('BENCH_RESULT %s\n' % json.dumps(result))
    sys.stdout.flush()


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
