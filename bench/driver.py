"""Benchmark driver: fake provider server, phases, correctness checks, report.

Started by ``bench/run`` (which owns the PostgreSQL cluster and the databases)
with Odoo's Python; it never imports odoo itself: every Odoo step runs in a
fresh ``bench/worker.py`` process, and the driver checks the databases with
psycopg2 against the fake server's ground truth. Only prints; exit status 1
only when a correctness check failed or a step crashed.
"""
import argparse
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

from fake_provider_server import FakeAccount, FakeProviderServer  # noqa: E402

import psycopg2  # noqa: E402  (Odoo's Python has it)

FULL = dict(contacts=2000, groups=200, members=50, messages=20000, days=60, new_messages=500,
            big_messages=200000, kill_messages=20000, kill_new=3000, concurrent_new=2000)
QUICK = dict(contacts=200, groups=20, members=10, messages=2000, days=60, new_messages=100,
             big_messages=20000, kill_messages=3000, kill_new=600, concurrent_new=400)

TARGETS = {
    'a_rate': 4000.0, 'b_floor_ratio': 1.3, 'f_latency_ratio': 2.0, 'f_latency': 0.15, 'a_qpr': 1.2, 'b_rate': 20000.0, 'b_qpr': 0.05, 'c_seconds': 2.0,
    'd_rss': 200.0, 'e_speedup': 4.0, 'g_discuss_ratio': 0.9,
}


class Bench(object):
    def __init__(self, options):
        self.options = options
        self.sizes = QUICK if options.quick else FULL
        self.server = FakeProviderServer().start()
        self.results = {}
        self.failures = []     # correctness problems
        self.notes = []

    # -- plumbing ---------------------------------------------------------------------
    def odoo_args(self):
        return ['--addons-path=%s' % self.options.addons_path, '--db_host=%s' % self.options.db_host,
                '--db_port=%s' % self.options.db_port, '--db_user=odoo',
                '--data-dir=%s' % os.path.join(self.options.work, 'data'), '--log-level=warn',
                '--without-demo=all']

    def worker_command(self, db, action, **kwargs):
        payload = dict(kwargs, odoo_args=self.odoo_args(), db=db, action=action)
        return [sys.executable, os.path.join(HERE, 'worker.py'), json.dumps(payload)]

    def run_worker(self, label, db, action, **kwargs):
        log_path = os.path.join(self.options.work, 'worker-%s.log' % label)
        with open(log_path, 'w') as log:
            completed = subprocess.run(self.worker_command(db, action, **kwargs), stdout=subprocess.PIPE,
                                       stderr=log, universal_newlines=True)
        for line in completed.stdout.splitlines():
            if line.startswith('BENCH_RESULT '):
                return json.loads(line[len('BENCH_RESULT '):])
        with open(log_path) as handle:
            tail = handle.read()[-4000:]
        raise RuntimeError('worker %s (%s) failed with exit %s:\n%s' % (label, action, completed.returncode, tail))

    def spawn_worker(self, label, db, action, **kwargs):
        log = open(os.path.join(self.options.work, 'worker-%s.log' % label), 'w')
        process = subprocess.Popen(self.worker_command(db, action, **kwargs), stdout=subprocess.PIPE,
                                   stderr=log, universal_newlines=True)
        process.bench_log = log
        return process

    def finish_worker(self, process):
        out, _err = process.communicate()
        process.bench_log.close()
        for line in (out or '').splitlines():
            if line.startswith('BENCH_RESULT '):
                return json.loads(line[len('BENCH_RESULT '):])
        return None

    def connect(self, db):
        connection = psycopg2.connect(dbname=db, host=self.options.db_host, port=self.options.db_port, user='odoo')
        connection.autocommit = True
        return connection

    def account(self, provider, token, seed, **overrides):
        sizes = dict(contacts=self.sizes['contacts'], groups=self.sizes['groups'], members=self.sizes['members'],
                     messages=self.sizes['messages'], days=self.sizes['days'])
        sizes.update(overrides)
        return self.server.add(FakeAccount(provider, token, seed=seed, **sizes))

    @staticmethod
    def config_values(name, account):
        values = {'name': name, 'provider': account.provider, 'token': account.token, 'api_url': account.base_url}
        if account.provider == 'wassenger':
            values['device_id'] = account.device_id
        return values

    def setup_configs(self, db, pairs, deactivate_others=False):
        label = 'setup-%s-%s' % (db, re.sub(r'\W+', '_', pairs[0][0]).strip('_'))
        result = self.run_worker(label, db, 'setup',
                                 configurations=[self.config_values(name, acc) for name, acc in pairs],
                                 deactivate_others=deactivate_others)
        return result['ids']

    # -- correctness ------------------------------------------------------------------
    def verify(self, db, config_id, account, label, check_fields=True, complete=True):
        """Compare one configuration's rows with the account's truth; record problems."""
        truth = account.truth()
        problems = []
        connection = self.connect(db)
        cursor = connection.cursor()
        cursor.execute('SELECT contact_id FROM whatsapp_contact WHERE configuration_id = %s', (config_id,))
        contacts = [row[0] for row in cursor.fetchall()]
        if len(contacts) != len(set(contacts)):
            problems.append('duplicate contacts')
        required = truth['contacts'] if complete else truth['listed_contacts'] | {m[1] for m in truth['members']}
        if not required <= set(contacts) or not set(contacts) <= truth['contacts']:
            # after an interrupted run, contacts met only in unread messages may be missing
            problems.append('contacts differ: %d missing, %d extra' % (
                len(required - set(contacts)), len(set(contacts) - truth['contacts'])))
        cursor.execute('SELECT group_id FROM whatsapp_group WHERE configuration_id = %s', (config_id,))
        groups = [row[0] for row in cursor.fetchall()]
        if len(groups) != len(set(groups)) or set(groups) != truth['groups']:
            problems.append('groups differ')
        cursor.execute('SELECT g.group_id, c.contact_id, m.role FROM whatsapp_group_member m '
                       'JOIN whatsapp_group g ON g.id = m.group_id JOIN whatsapp_contact c ON c.id = m.contact_id '
                       'WHERE m.configuration_id = %s', (config_id,))
        members = cursor.fetchall()
        if len(members) != len(set(members)) or set(members) != truth['members']:
            problems.append('members differ: %d missing, %d extra' % (
                len(truth['members'] - set(members)), len(set(members) - truth['members'])))
        cursor.execute('SELECT message_id, chat_id, from_me, message_type, status, message_date, body '
                       'FROM whatsapp_message WHERE configuration_id = %s', (config_id,))
        rows = cursor.fetchall()
        stored = {}
        for row in rows:
            stored[row[0]] = (row[1], row[2], row[3], row[4], calendar.timegm(row[5].timetuple()), row[6] or None)
        if len(stored) != len(rows):
            problems.append('duplicate messages')
        missing = set(truth['messages']) - set(stored)
        extra = set(stored) - set(truth['messages'])
        if complete and (missing or extra):
            problems.append('messages differ: %d missing, %d extra' % (len(missing), len(extra)))
        elif extra:
            problems.append('%d messages the provider does not have' % len(extra))
        if check_fields:
            wrong = [key for key, value in stored.items() if key in truth['messages'] and truth['messages'][key] != value]
            if wrong:
                problems.append('%d messages with wrong values, e.g. %s: stored %s, expected %s' % (
                    len(wrong), wrong[0], stored[wrong[0]], truth['messages'][wrong[0]]))
        cursor.execute('SELECT last_message_date FROM whatsapp_configuration WHERE id = %s', (config_id,))
        watermark = cursor.fetchone()[0]
        if complete:
            newest = max(value[4] for value in truth['messages'].values())
            if watermark is None or calendar.timegm(watermark.timetuple()) != newest:
                problems.append('watermark %s is not the newest message time' % watermark)
        problems.extend(self.watermark_problems(stored, truth, watermark))
        connection.close()
        if problems:
            self.failures.append('%s: %s' % (label, '; '.join(problems)))
        return problems

    @staticmethod
    def watermark_problems(stored, truth, watermark):
        """The watermark never passes a message that was not stored."""
        if watermark is None:
            return []
        limit = calendar.timegm(watermark.timetuple())
        unstored = [key for key, value in truth['messages'].items() if value[4] <= limit and key not in stored]
        if unstored:
            return ['watermark %s passes %d messages that were not stored' % (watermark, len(unstored))]
        return []

    def check_logs(self, result, label, expect_state='success'):
        for row in result['logs']:
            if row['state'] != expect_state:
                self.failures.append('%s: log of %s is %s (%s)' % (label, row['configuration'], row['state'],
                                                                   row['error'][:300]))

    # -- phases -------------------------------------------------------------------------
    def http_delta(self, accounts, before):
        return sum(account.requests for account in accounts) - before

    def timed_sync(self, label, db, accounts, **kwargs):
        before = sum(account.requests for account in accounts)
        profile = os.path.join(self.options.work, 'profile-%s.prof' % label) if self.options.profile else None
        result = self.run_worker(label, db, 'sync', profile=profile, **kwargs)
        result['http'] = self.http_delta(accounts, before)
        if profile:
            self.notes.append('cProfile of %s: %s.txt' % (label, profile))
        return result

    def run(self):
        sizes = self.sizes
        o = self.options
        print('dataset per account: %(contacts)d contacts, %(groups)d groups x %(members)d members, '
              '%(messages)d messages over %(days)d days' % sizes)
        self.acc_a = self.account('whapi', 'bench-whapi-token-A', 1)
        self.acc_b = self.account('wassenger', 'bench-wassenger-token-B', 2)
        pair = [self.acc_a, self.acc_b]
        ids = self.setup_configs(o.db, [('Bench A (WHAPI)', self.acc_a), ('Bench B (Wassenger)', self.acc_b)],
                                 deactivate_others=True)
        self.ids = ids

        print('\n(a) first full-history import of both accounts: cron_sync_all_data(full=True, message_limit=0)')
        a = self.timed_sync('a', o.db, pair, full=True, message_limit=0)
        self.check_logs(a, '(a)')
        for config_id, account, name in ((ids[0], self.acc_a, 'A'), (ids[1], self.acc_b, 'B')):
            self.verify(o.db, config_id, account, '(a) account %s' % name)
        self.results['a'] = a
        self.print_phase(a)

        print('\n(b) the same call again, no remote change')
        floor = self.run_worker('b-floor', o.db, 'read', concurrency=1)
        ahead = self.run_worker('b-floor-ahead', o.db, 'read')
        self.results['b_floor'] = floor
        self.results['b_floor_ahead'] = ahead
        for label, result in (('one request at a time', floor), ('requests overlapped as the sync does', ahead)):
            print('  floor: the provider layer alone, %s, reads %d items in %.2f s (%.0f items/s)' % (
                label, result['records'], result['seconds'],
                result['records'] / result['seconds'] if result['seconds'] else 0))
        b = self.timed_sync('b', o.db, pair, full=True, message_limit=0)
        self.check_logs(b, '(b)')
        for config_id, account, name in ((ids[0], self.acc_a, 'A'), (ids[1], self.acc_b, 'B')):
            self.verify(o.db, config_id, account, '(b) account %s' % name, check_fields=False)
        self.results['b'] = b
        self.print_phase(b)

        new = sizes['new_messages']
        print('\n(c) incremental run after %d new messages (%d per account): cron_sync_all_data()' % (2 * new, new))
        for account in pair:
            account.append_messages(new)
        c = self.timed_sync('c', o.db, pair)
        self.check_logs(c, '(c)')
        for config_id, account, name in ((ids[0], self.acc_a, 'A'), (ids[1], self.acc_b, 'B')):
            self.verify(o.db, config_id, account, '(c) account %s' % name)
        created = sum(row['messages_created'] for row in c['logs'])
        if created != 2 * new:
            self.failures.append('(c): %d messages created, expected %d' % (created, 2 * new))
        self.results['c'] = c
        self.print_phase(c)

        print('\n(d) %d messages on one account (Wassenger, newest first): peak RSS' % sizes['big_messages'])
        self.acc_d = self.account('wassenger', 'bench-wassenger-token-D', 3, messages=sizes['big_messages'])
        id_d = self.setup_configs(o.db, [('Bench D (big)', self.acc_d)], deactivate_others=True)[0]
        d = self.timed_sync('d', o.db, [self.acc_d], full=True, message_limit=0)
        self.check_logs(d, '(d)')
        self.verify(o.db, id_d, self.acc_d, '(d) account D')
        self.results['d'] = d
        self.print_phase(d)

        print('\n(e) naive per-record loop (search, then create) over the data of (a), fresh configurations')
        naive_a = self.account('whapi', 'bench-naive-token-A', 1)
        naive_b = self.account('wassenger', 'bench-naive-token-B', 2)
        naive_ids = self.setup_configs(o.db_naive, [('Naive A', naive_a), ('Naive B', naive_b)],
                                       deactivate_others=True)
        before = naive_a.requests + naive_b.requests
        e = self.run_worker('e', o.db_naive, 'naive')
        e['http'] = naive_a.requests + naive_b.requests - before
        for config_id, account, name in ((naive_ids[0], naive_a, 'A'), (naive_ids[1], naive_b, 'B')):
            self.verify(o.db_naive, config_id, account, '(e) naive account %s' % name)
        self.results['e'] = e
        self.print_phase(e)

        self.latency_check()
        self.discuss_check()
        self.kill_check()
        self.concurrent_check()
        self.server.stop()
        return self.report()

    def latency_check(self):
        """(f) the first import of (a) again, every fake-provider reply %d ms late."""
        o = self.options
        print('\n(f) the first import of (a) with %d ms added to every provider reply (fresh accounts)'
              % (TARGETS['f_latency'] * 1000))
        late = [self.account('whapi', 'bench-late-token-A', 1), self.account('wassenger', 'bench-late-token-B', 2)]
        for account in late:
            account.faults.update(delay=TARGETS['f_latency'])
        late_ids = self.setup_configs(o.db_latency, [('Late A', late[0]), ('Late B', late[1])],
                                      deactivate_others=True)
        f = self.timed_sync('f', o.db_latency, late, full=True, message_limit=0)
        self.check_logs(f, '(f)')
        for config_id, account, name in zip(late_ids, late, 'AB'):
            self.verify(o.db_latency, config_id, account, '(f) account %s' % name)
        self.results['f'] = f
        self.print_phase(f)

    def discuss_check(self):
        """(g) the first import of (a) again, with Conversations in Discuss on for both accounts."""
        o = self.options
        print('\n(g) the first import of (a) with Conversations in Discuss on (fresh accounts)')
        pair = [self.account('whapi', 'bench-discuss-token-A', 1), self.account('wassenger', 'bench-discuss-token-B', 2)]
        values = [dict(self.config_values(name, account), discuss_enabled=True)
                  for name, account in (('Discuss A', pair[0]), ('Discuss B', pair[1]))]
        discuss_ids = self.run_worker('setup-discuss', o.db_discuss, 'setup', configurations=values,
                                      deactivate_others=True)['ids']
        g = self.timed_sync('g', o.db_discuss, pair, full=True, message_limit=0)
        self.check_logs(g, '(g)')
        for config_id, account, name in zip(discuss_ids, pair, 'AB'):
            self.verify(o.db_discuss, config_id, account, '(g) account %s' % name)
        connection = self.connect(o.db_discuss)
        try:
            with connection.cursor() as cr:
                cr.execute('SELECT count(*) FROM whatsapp_message WHERE mail_message_id IS NOT NULL')
                g['posted'] = cr.fetchone()[0]
        finally:
            connection.close()
        if g['posted']:
            self.failures.append('(g): the history import posted %d messages in Discuss' % g['posted'])
        self.results['g'] = g
        self.print_phase(g)

    def print_phase(self, result):
        records = result['records']
        seconds = result['seconds']
        print('  records %d | %.2f s | %.0f records/s | %d SQL (%.3f/record) | writes to synced tables %d, '
              'bookkeeping writes %d | HTTP requests %d | RSS start %.0f MB, peak %.0f MB, growth %.0f MB' % (
                  records, seconds, records / seconds if seconds else 0, result['queries'],
                  result['queries'] / float(records) if records else 0, result['writes_synced'],
                  result['writes_other'], result['http'], result['rss_start_mb'], result['rss_peak_mb'],
                  result['rss_growth_mb']))
        verbs = ', '.join('%s %d' % item for item in sorted(result['verbs'].items(), key=lambda i: -i[1]))
        print('  SQL by verb: %s' % verbs)
        for row in result.get('logs', []):
            print('  log %-22s %-8s contacts %d/%d/%d groups %d/%d/%d members %d/%d/%d (-%d) messages %d/%d/%d '
                  '(created/updated/unchanged) skipped %d %s' % (
                      row['configuration'], row['state'], row['contacts_created'], row['contacts_updated'],
                      row['contacts_unchanged'], row['groups_created'], row['groups_updated'],
                      row['groups_unchanged'], row['members_created'], row['members_updated'],
                      row['members_unchanged'], row['members_removed'], row['messages_created'],
                      row['messages_updated'], row['messages_unchanged'], row['skipped'], row['error'][:200]))

    # -- process killed mid-sync ----------------------------------------------------------
    def message_count(self, db, config_id):
        connection = self.connect(db)
        cursor = connection.cursor()
        cursor.execute('SELECT count(*) FROM whatsapp_message WHERE configuration_id = %s', (config_id,))
        count = cursor.fetchone()[0]
        connection.close()
        return count

    def kill_when(self, process, db, config_id, threshold, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if process.poll() is not None:
                return False
            if self.message_count(db, config_id) >= threshold:
                process.send_signal(signal.SIGKILL)
                process.wait()
                process.bench_log.close()
                return True
            time.sleep(0.05)
        process.kill()
        process.wait()
        return False

    def kill_check(self):
        o = self.options
        sizes = self.sizes
        print('\nkill check: a sync process killed with SIGKILL mid-way, then run again (database %s)' % o.db_kill)
        failures_before = len(self.failures)
        ka = self.account('whapi', 'bench-kill-token-A', 4, messages=sizes['kill_messages'])
        kb = self.account('wassenger', 'bench-kill-token-B', 5, messages=sizes['kill_messages'])
        for account in (ka, kb):  # slow message pages down so the kill lands mid-stream
            account.faults.update(delay=0.02, delay_path='messages')
        ida, idb = self.setup_configs(o.db_kill, [('Kill A (WHAPI)', ka), ('Kill B (Wassenger)', kb)],
                                      deactivate_others=True)
        self.kill_ids = (ida, idb)
        steps = []
        # round 1: full-history import, killed while account A (WHAPI, oldest first) streams messages
        process = self.spawn_worker('kill-1', o.db_kill, 'sync', full=True, message_limit=0)
        killed = self.kill_when(process, o.db_kill, ida, int(len(ka.truth()['messages']) * 0.4))
        problems = self.verify(o.db_kill, ida, ka, 'kill round 1 after the kill (A)', complete=False)
        steps.append('round 1: killed=%s, A had %d messages at the kill, invariants %s' % (
            killed, self.message_count(o.db_kill, ida), 'ok' if not problems else problems))
        if not killed:
            self.failures.append('kill round 1: the sync ended before it could be killed')
        rerun = self.run_worker('kill-1-rerun', o.db_kill, 'sync', full=True, message_limit=0)
        self.check_logs(rerun, 'kill round 1 rerun')
        self.verify(o.db_kill, ida, ka, 'kill round 1 rerun (A)')
        self.verify(o.db_kill, idb, kb, 'kill round 1 rerun (B)')
        steps.append('round 1 rerun: %s' % ', '.join('%s %s' % (r['configuration'], r['state']) for r in rerun['logs']))
        # round 2: new messages, incremental run killed while B (Wassenger, newest first) reads them
        new = sizes['kill_new']
        for account in (ka, kb):
            account.append_messages(new)
        before_b = self.message_count(o.db_kill, idb)
        process = self.spawn_worker('kill-2', o.db_kill, 'sync')
        killed = self.kill_when(process, o.db_kill, idb, before_b + new // 3)
        pa = self.verify(o.db_kill, ida, ka, 'kill round 2 after the kill (A)', complete=False)
        pb = self.verify(o.db_kill, idb, kb, 'kill round 2 after the kill (B)', complete=False)
        steps.append('round 2: killed=%s, B had %d of %d new messages at the kill, invariants %s' % (
            killed, self.message_count(o.db_kill, idb) - before_b, new, 'ok' if not (pa or pb) else pa + pb))
        if not killed:
            self.failures.append('kill round 2: the sync ended before it could be killed')
        rerun = self.run_worker('kill-2-rerun', o.db_kill, 'sync')
        self.check_logs(rerun, 'kill round 2 rerun')
        self.verify(o.db_kill, ida, ka, 'kill round 2 rerun (A)')
        self.verify(o.db_kill, idb, kb, 'kill round 2 rerun (B)')
        steps.append('round 2 rerun: %s' % ', '.join('%s %s' % (r['configuration'], r['state']) for r in rerun['logs']))
        for step in steps:
            print('  ' + step)
        self.results['kill'] = len(self.failures) == failures_before
        print('  kill check: %s' % ('PASS' if self.results['kill'] else 'FAIL'))
        self.kill_accounts = (ka, kb)

    def concurrent_check(self):
        o = self.options
        print('\nconcurrency check: two processes run cron_sync_all_data() at the same time (database %s)' % o.db_kill)
        failures_before = len(self.failures)
        ka, kb = self.kill_accounts
        for account in (ka, kb):
            account.append_messages(self.sizes['concurrent_new'])
        connection = self.connect(o.db_kill)
        cursor = connection.cursor()
        cursor.execute('SELECT coalesce(max(id), 0) FROM whatsapp_sync_log')
        last_log = cursor.fetchone()[0]
        first = self.spawn_worker('concurrent-1', o.db_kill, 'sync')
        second = self.spawn_worker('concurrent-2', o.db_kill, 'sync')
        results = [self.finish_worker(first), self.finish_worker(second)]
        if None in results:
            self.failures.append('concurrency check: a worker crashed (see worker-concurrent-*.log)')
        else:
            # the log rows of exactly these two runs (each worker also sees the other's)
            cursor.execute('SELECT c.name, l.state, coalesce(l.error_message, \'\') FROM whatsapp_sync_log l '
                           'JOIN whatsapp_configuration c ON c.id = l.configuration_id WHERE l.id > %s', (last_log,))
            states = {}
            for name, state, error in cursor.fetchall():
                states.setdefault(name, []).append(state)
                if state == 'error':
                    self.failures.append('concurrency check: %s error: %s' % (name, error))
            for name, seen in sorted(states.items()):
                print('  %s: runs %s' % (name, ', '.join(sorted(seen))))
                if sorted(seen) not in (['skipped', 'success'], ['success', 'success']):
                    self.failures.append('concurrency check: %s states %s' % (name, seen))
            skipped = sum(seen.count('skipped') for seen in states.values())
            print('  %d account runs skipped as "already running"' % skipped)
        connection.close()
        self.verify(o.db_kill, self.kill_ids[0], ka, 'concurrency check (A)')
        self.verify(o.db_kill, self.kill_ids[1], kb, 'concurrency check (B)')
        self.results['concurrent'] = len(self.failures) == failures_before
        print('  concurrency check: %s' % ('PASS' if self.results['concurrent'] else 'FAIL'))

    # -- report -----------------------------------------------------------------------------
    def report(self):
        r = self.results
        rate = lambda x: x['records'] / x['seconds'] if x['seconds'] else 0.0  # noqa: E731
        qpr = lambda x: x['queries'] / float(x['records']) if x['records'] else 0.0  # noqa: E731
        rows = []

        def row(name, target, measured, met):
            rows.append((name, target, measured, 'MET' if met else 'NOT MET'))

        a, b, c, d, e = r['a'], r['b'], r['c'], r['d'], r['e']
        row('(a) first import throughput', '>= %d rec/s' % TARGETS['a_rate'], '%.0f rec/s (%d rec, %.1f s)' % (
            rate(a), a['records'], a['seconds']), rate(a) >= TARGETS['a_rate'])
        row('(a) SQL per record', '<= %.2f' % TARGETS['a_qpr'], '%.3f' % qpr(a), qpr(a) <= TARGETS['a_qpr'])
        row('(b) no-change rerun throughput', '>= %d rec/s' % TARGETS['b_rate'], '%.0f rec/s (%.2f s)' % (
            rate(b), b['seconds']), rate(b) >= TARGETS['b_rate'])
        row('(b) SQL per record', '<= %.2f' % TARGETS['b_qpr'], '%.3f' % qpr(b), qpr(b) <= TARGETS['b_qpr'])
        floor, ahead = r['b_floor'], r['b_floor_ahead']
        row('(b) vs provider layer alone', '<= %.1fx' % TARGETS['b_floor_ratio'],
            '%.2fx (floor %.2f s, %.0f items/s; %.2fx of the overlapped floor, %.2f s)' % (
                b['seconds'] / floor['seconds'], floor['seconds'], floor['records'] / floor['seconds'],
                b['seconds'] / ahead['seconds'], ahead['seconds']),
            b['seconds'] <= TARGETS['b_floor_ratio'] * floor['seconds'])
        f = r['f']
        row('(f) (a) with %d ms per reply' % (TARGETS['f_latency'] * 1000), '<= %.0fx (a)' % TARGETS['f_latency_ratio'],
            '%.2fx (%.1f s, %d HTTP)' % (f['seconds'] / a['seconds'], f['seconds'], f['http']),
            f['seconds'] <= TARGETS['f_latency_ratio'] * a['seconds'])
        g = r['g']
        row('(g) (a) with Discuss on', '>= %.0f%% of (a) speed' % (100 * TARGETS['g_discuss_ratio']),
            '%.0f%% (%.1f s, %d history messages posted)' % (100 * a['seconds'] / g['seconds'], g['seconds'],
                                                            g['posted']),
            a['seconds'] / g['seconds'] >= TARGETS['g_discuss_ratio'])
        row('(b) writes to synced tables', '0', '%d (bookkeeping %d)' % (b['writes_synced'], b['writes_other']),
            b['writes_synced'] == 0)
        row('(c) incremental run', '< %.0f s' % TARGETS['c_seconds'], '%.2f s (%d HTTP)' % (c['seconds'], c['http']),
            c['seconds'] < TARGETS['c_seconds'])
        row('(d) peak RSS growth, %d msgs' % self.sizes['big_messages'], '< %d MB' % TARGETS['d_rss'],
            '%.0f MB (%.1f s, %.0f rec/s)' % (d['rss_growth_mb'], d['seconds'], rate(d)),
            d['rss_growth_mb'] < TARGETS['d_rss'])
        speedup = e['seconds'] / a['seconds'] if a['seconds'] else 0.0
        row('(e) (a) vs naive loop', '>= %.0fx' % TARGETS['e_speedup'], '%.1fx (naive %.1f s, %.0f rec/s, %.2f SQL/rec)' % (
            speedup, e['seconds'], rate(e), qpr(e)), speedup >= TARGETS['e_speedup'])
        row('kill mid-sync, rerun', 'PASS', 'PASS' if r.get('kill') else 'FAIL', r.get('kill'))
        row('two concurrent syncs', 'PASS', 'PASS' if r.get('concurrent') else 'FAIL', r.get('concurrent'))
        row('data == provider truth', 'PASS', 'PASS' if not self.failures else 'FAIL (%d)' % len(self.failures),
            not self.failures)
        widths = [max(len(str(item[i])) for item in rows + [('check', 'target', 'measured', 'result')]) for i in range(4)]
        print('\n' + '=' * (sum(widths) + 9))
        print('%s | %s | %s | %s' % tuple(title.ljust(width) for title, width in zip(
            ('check', 'target', 'measured', 'result'), widths)))
        print('-' * (sum(widths) + 9))
        for item in rows:
            print('%s | %s | %s | %s' % tuple(str(value).ljust(width) for value, width in zip(item, widths)))
        print('=' * (sum(widths) + 9))
        for note in self.notes:
            print(note)
        if self.failures:
            print('\nCORRECTNESS FAILURES:')
            for failure in self.failures:
                print('  - ' + failure)
            return 1
        return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--profile', action='store_true', help='cProfile the timed syncs (slower)')
    parser.add_argument('--work', required=True)
    parser.add_argument('--db-host', required=True)
    parser.add_argument('--db-port', required=True)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--db', default='bench')
    parser.add_argument('--db-naive', default='bench_naive')
    parser.add_argument('--db-kill', default='bench_kill')
    parser.add_argument('--db-latency', default='bench_latency')
    parser.add_argument('--db-discuss', default='bench_discuss')
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows while phases run
    bench = Bench(options)
    try:
        status = bench.run()
    except Exception:
        bench.server.stop()
        raise
    sys.exit(status)


if __name__ == '__main__':
    main()
