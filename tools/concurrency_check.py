"""Two syncs of one account at once, from two processes, through each pair of paths.

    <odoo python> tools/concurrency_check.py <odoo options: -d DB, --addons-path, db_*>

Run by ``tools/odoo_tests.sh`` on the test database once the addon is installed. For
every pair of ways a sync starts (Odoo's scheduler, ``odoo shell``,
Sync Now, the Sync Wizard, and a queue_job job when queue_job is installed), it
creates a fresh account against the local fake provider, forks two processes that
start their sync at the same moment, and checks: neither raised or logged an error,
no run ended in error, and the account's rows are exactly the provider's truth,
once each. Exits 1 on any failure; the accounts it made are deleted at the end.
"""
import calendar
import itertools
import logging
import multiprocessing
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402

from fake_provider_server import FakeAccount, FakeProviderServer  # noqa: E402

PATHS = ['cron', 'shell', 'sync_now', 'wizard']
#: small enough for every path's default message limit (50) to import it all
SIZES = dict(contacts=40, groups=4, members=6, messages=45, days=2)
#: added to every fake-provider reply so that both runs are in flight together
DELAY = 0.02


def start_sync(env, path, config_id, user_id):
    """Start one sync of the account the way ``path`` does."""
    if path == 'cron':  # what Odoo's scheduler runs for the hourly scheduled action
        if 'queue.job' in env.registry:
            # it enqueues one job per account; run it at once, as a free runner would
            os.environ['QUEUE_JOB__NO_DELAY'] = '1'
        cron = env.ref('whatsapp_integration.ir_cron_whatsapp_data_sync')
        env['ir.cron']._callback(cron.name, cron.ir_actions_server_id.id, cron.id)
    elif path == 'shell':
        env['whatsapp.sync.service'].cron_sync_all_data()
    elif path == 'sync_now':
        env(user=user_id)['whatsapp.sync.service'].manual_sync_all_data()
    elif path == 'wizard':
        wizard = env(user=user_id)['whatsapp.sync.wizard'].create(
            {'sync_type': 'all', 'configuration_id': config_id, 'message_limit': 0})
        env.cr.commit()  # the web client saves the wizard in its own request before the button's
        wizard.sync_data()
    elif path == 'job':  # what the queue_job runner calls for an enqueued account
        env['whatsapp.sync.service']._get_service()._job_sync_account(
            config_id, ['contacts', 'groups', 'group_members', 'messages'], False, 50, 'cron', False)
    else:
        raise ValueError(path)


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = []

    def emit(self, record):
        self.lines.append('%s: %s' % (record.name, record.getMessage().splitlines()[0]))


def _worker(db, path, config_id, user_id, barrier, results):
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    outcome = None
    try:
        registry = odoo.registry(db)
        with api.Environment.manage():
            barrier.wait(timeout=60)
            with registry.cursor() as cr:
                start_sync(api.Environment(cr, SUPERUSER_ID, {}), path, config_id, user_id)
    except Exception:
        outcome = traceback.format_exc()
    results.put((path, outcome, errors.lines))


def mismatches(cr, config_id, remote):
    """How the account's rows differ from the provider's truth (empty when equal)."""
    truth = remote.truth()
    found = []

    def rows(query):
        cr.execute(query, (config_id,))
        return cr.fetchall()

    def compare(name, stored, expected):
        if len(stored) != len(set(stored)):
            found.append('duplicate %s' % name)
        if set(stored) != set(expected):
            found.append('%s differ: %d missing, %d unexpected' % (
                name, len(set(expected) - set(stored)), len(set(stored) - set(expected))))

    compare('contacts', [row[0] for row in rows(
        'SELECT contact_id FROM whatsapp_contact WHERE configuration_id = %s')], truth['contacts'])
    compare('groups', [row[0] for row in rows(
        'SELECT group_id FROM whatsapp_group WHERE configuration_id = %s')], truth['groups'])
    compare('members', rows(
        'SELECT g.group_id, c.contact_id, m.role FROM whatsapp_group_member m '
        'JOIN whatsapp_group g ON g.id = m.group_id JOIN whatsapp_contact c ON c.id = m.contact_id '
        'WHERE m.configuration_id = %s'), truth['members'])
    messages = [(row[0], (row[1], row[2], row[3], row[4], calendar.timegm(row[5].timetuple()), row[6] or None))
                for row in rows('SELECT message_id, chat_id, from_me, message_type, status, message_date, body '
                                'FROM whatsapp_message WHERE configuration_id = %s')]
    compare('messages', messages, truth['messages'].items())
    return found


def check_pair(registry, server, index, pair, user_id):
    """Run one pair; return its failures."""
    provider = ('whapi', 'wassenger')[index % 2]
    remote = server.add(FakeAccount(provider, 'race-token-%d' % index, seed=40 + index, **SIZES))
    remote.faults['delay'] = DELAY
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['whatsapp.configuration'].search([]).write({'active': False})
        config_id = env['whatsapp.configuration'].create({
            'name': 'Race %d %s+%s' % (index, pair[0], pair[1]), 'provider': provider, 'token': remote.token,
            'device_id': remote.device_id if provider == 'wassenger' else False, 'api_url': remote.base_url,
            'connection_state': 'connected', 'user_ids': [(6, 0, [user_id])],
        }).id
    odoo.sql_db.close_all()  # no connection crosses the fork
    context = multiprocessing.get_context('fork')
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(registry.db_name, path, config_id, user_id, barrier, results))
                 for path in pair]
    for process in processes:
        process.start()
    failures = []
    reports = []
    for _process in processes:
        try:
            reports.append(results.get(timeout=180))
        except Exception:
            failures.append('a process gave no result within 180 s')
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            failures.append('a process did not end')
    for path, outcome, errors in reports:
        if outcome:
            failures.append('%s raised:\n%s' % (path, outcome))
        failures.extend('%s logged ERROR %s' % (path, line) for line in errors)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        states = env['whatsapp.sync.log'].search([('configuration_id', '=', config_id)]).mapped('state')
        if 'success' not in states or set(states) - {'success', 'skipped'}:
            failures.append('run states %s' % states)
        failures.extend(mismatches(cr, config_id, remote))
        env['whatsapp.configuration'].browse(config_id).write({'active': False})
    server.remove(remote)
    return failures, states


def check_script_before_commit(registry, server):
    """A script creates an account and syncs it before committing (as odoo shell users
    do): the sync cannot run in a transaction of its own, which would not see the
    account, so it runs in the script's, and works. The same when the script edited
    a committed account: a transaction of its own would wait for the script's lock."""
    remote = server.add(FakeAccount('whapi', 'race-token-script', seed=39, **SIZES))
    failures = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['whatsapp.configuration'].search([]).write({'active': False})
        account = env['whatsapp.configuration'].create({
            'name': 'Script account', 'provider': 'whapi', 'token': remote.token, 'api_url': remote.base_url})
        try:
            env['whatsapp.sync.service'].cron_sync_all_data()
        except Exception:
            failures.append('the sync raised:\n%s' % traceback.format_exc())
        else:
            log = env['whatsapp.sync.log'].search([('configuration_id', '=', account.id)])
            if log.mapped('state') != ['success']:
                failures.append('run states %s' % log.mapped('state'))
            failures.extend(mismatches(cr, account.id, remote))
            # committed now, then edited and synced again before the next commit: the sync must
            # not wait for the script's lock on the account row while the script waits for it
            cr.commit()
            account.write({'name': 'Script account (edited)'})
            remote.append_messages(3)
            try:
                env['whatsapp.sync.service'].cron_sync_all_data()
            except Exception:
                failures.append('the second sync raised:\n%s' % traceback.format_exc())
            failures.extend(mismatches(cr, account.id, remote))
            account.active = False
    server.remove(remote)
    return failures


def main(argv):
    odoo.tools.config.parse_config(argv)
    db = odoo.tools.config['db_name']
    registry = odoo.registry(db)
    server = FakeProviderServer().start()
    created = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        already = env['whatsapp.configuration'].with_context(active_test=False).search([]).ids
        active = env['whatsapp.configuration'].search([]).ids
        user = env['res.users'].create({
            'name': 'Race User', 'login': 'race-user-%d' % os.getpid(),
            'groups_id': [(6, 0, [env.ref('base.group_user').id,
                                  env.ref('whatsapp_integration.group_whatsapp_user').id])]})
        paths = PATHS + (['job'] if env['ir.module.module'].search(
            [('name', '=', 'queue_job'), ('state', '=', 'installed')]) else [])
    failed = 0
    try:
        failures = check_script_before_commit(registry, server)
        print('%s: a script syncs an account it has not committed yet%s' % (
            'FAILED' if failures else 'ok', ''.join('\n    ' + f for f in failures)))
        failed += bool(failures)
        for index, pair in enumerate(itertools.combinations_with_replacement(paths, 2)):
            failures, states = check_pair(registry, server, index, pair, user.id)
            print('%s: %s + %s (runs: %s)%s' % ('FAILED' if failures else 'ok', pair[0], pair[1],
                                                ', '.join(sorted(states)), ''.join('\n    ' + f for f in failures)))
            failed += bool(failures)
    finally:
        server.stop()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Configuration = env['whatsapp.configuration'].with_context(active_test=False)
            created = Configuration.search([('id', 'not in', already)])
            created.unlink()
            Configuration.browse(active).write({'active': True})
            env['res.users'].browse(user.id).unlink()
    print('concurrency: %d pairs of paths, %d failed' % (index + 1, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    with api.Environment.manage():
        status = main(sys.argv[1:])
    sys.exit(status)
