"""Two syncs of one account at once, from two processes, through each pair of paths.

    <odoo python> tools/concurrency_check.py <odoo options: -d DB, --addons-path, db_*>

Run by ``tools/odoo_tests.sh`` on the test database once the addon is installed. For
every pair of ways a sync starts (Odoo's scheduler, ``odoo shell``,
Sync Now, the Sync Wizard, and a queue_job job when queue_job is installed), and for
the provider's webhook deliveries of the same messages beside each of them, it
creates a fresh account against the local fake provider (with Conversations in
Discuss on for its whole history), forks two processes that start at the same
moment, and checks: neither raised or logged an error, no run ended in error, the
account's rows are exactly the provider's truth, once each, and each message is
posted in its chat's one Discuss channel exactly once. Exits 1 on any failure; the
accounts it made are deleted at the end.
"""
import calendar
import datetime
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
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY  # noqa: E402
from psycopg2 import OperationalError  # noqa: E402

from fake_provider_server import FakeAccount, FakeProviderServer  # noqa: E402

PATHS = ['cron', 'shell', 'sync_now', 'wizard']
#: the provider delivering the account's messages to its webhook, one request each
WEBHOOK = 'webhook'
#: times Odoo runs a request again after a serialization failure (odoo.service.model)
REQUEST_TRIES = 5
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
    elif path == WEBHOOK:
        deliver_webhooks(env, config_id)
    elif path == 'job':  # what the queue_job runner calls for an enqueued account
        env['whatsapp.sync.service']._get_service()._job_sync_account(
            config_id, ['contacts', 'groups', 'group_members', 'messages'], False, 50, 'cron', False)
    else:
        raise ValueError(path)


def deliver_webhooks(env, config_id):
    """Each message of the account as the provider's webhook request carries it, stored the
    way the controller stores it once the request is authenticated, each request in its own
    transaction and run again on a serialization failure, as Odoo does."""
    from odoo.addons.whatsapp_integration import providers
    remote = _REMOTES[config_id]
    for index in range(remote.n_messages):
        body, _headers = remote.webhook_delivery(remote.message(index), 'unused')
        batch = providers.parse_webhook(remote.provider, body)
        for attempt in range(1, REQUEST_TRIES + 1):
            try:
                env['whatsapp.configuration'].browse(config_id)._process_webhook(batch)
                env.cr.commit()
                break
            except OperationalError as error:
                env.cr.rollback()
                env.clear()
                if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY or attempt == REQUEST_TRIES:
                    raise


#: the fake provider account of each account made here (the forked workers inherit it)
_REMOTES = {}


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
    found.extend(discuss_mismatches(cr, config_id))
    return found


def discuss_mismatches(cr, config_id):
    """How the account's Discuss channels break "each message posted once, in its chat's one channel"."""
    found = []
    cr.execute('SELECT count(*) FROM whatsapp_message WHERE configuration_id = %s', (config_id,))
    if not cr.fetchone()[0]:
        return found
    cr.execute("""SELECT count(*) FROM whatsapp_message m JOIN whatsapp_configuration a ON a.id = m.configuration_id
                   WHERE m.configuration_id = %s AND m.mail_message_id IS NULL AND m.message_type != 'system'
                     AND m.chat_type IN ('contact', 'group') AND m.message_date >= a.discuss_since""", (config_id,))
    unposted = cr.fetchone()[0]
    if unposted:
        found.append('%d messages not posted in Discuss' % unposted)
    cr.execute("""SELECT count(mail_message_id), count(DISTINCT mail_message_id) FROM whatsapp_message
                   WHERE configuration_id = %s""", (config_id,))
    linked, distinct = cr.fetchone()
    cr.execute("""SELECT count(*) FROM mail_message p JOIN mail_channel c ON p.model = 'mail.channel' AND p.res_id = c.id
                   WHERE c.whatsapp_configuration_id = %s AND p.message_type = 'comment'""", (config_id,))
    posts = cr.fetchone()[0]
    if not linked == distinct == posts:
        found.append('Discuss posts: %d in the channels for %d messages (%d distinct posts)' % (posts, linked, distinct))
    cr.execute("""SELECT count(*) FROM (SELECT whatsapp_chat_id FROM mail_channel WHERE whatsapp_configuration_id = %s
                   GROUP BY whatsapp_chat_id HAVING count(*) > 1) twice""", (config_id,))
    if cr.fetchone()[0]:
        found.append('a chat has more than one Discuss channel')
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
            # every message, synced or delivered, belongs in Discuss
            'discuss_enabled': True,
            'discuss_since': datetime.datetime.utcfromtimestamp(remote._start) - datetime.timedelta(minutes=1),
        }).id
    _REMOTES[config_id] = remote
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
        states = env['whatsapp.sync.log'].search([
            ('configuration_id', '=', config_id), ('trigger', '!=', 'webhook')]).mapped('state')
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
        pairs = list(itertools.combinations_with_replacement(paths, 2)) + [(WEBHOOK, path) for path in paths]
        for index, pair in enumerate(pairs):
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
