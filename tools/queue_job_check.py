"""Syncs on OCA queue_job, end to end: a real Odoo server with its job runner.

    <odoo python> tools/queue_job_check.py [--accounts N] [--contacts N] [--groups N]
        [--members N] [--messages N] [--workers N] [--compare-sequential] -- <odoo options>

The database (``-d``) has queue_job and the addon installed. The check creates N
accounts against local fake provider processes, starts ``odoo`` with ``--workers`` HTTP
workers and queue_job's runner (channel ``root.whatsapp`` with one slot per worker),
runs the hourly scheduled action's code (it enqueues one job per account), waits
for every job to finish and compares each account's rows with the provider's
truth. ``--compare-sequential`` then empties the accounts and syncs them again the
built-in way (one after the other in this process) and prints both times: the
benchmark of ``bench/run --queue-job``. Exits 1 on any failure.
"""
import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))
sys.path.insert(0, HERE)

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402

from concurrency_check import mismatches  # noqa: E402
from fake_provider_server import WASSENGER_PREFIX, FakeAccount, FakeProviderServer  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def make_remotes(options):
    return [FakeAccount(('whapi', 'wassenger')[index % 2], 'queue-token-%d' % index, seed=70 + index,
                        contacts=options.contacts, groups=options.groups, members=options.members,
                        messages=options.messages, days=30) for index in range(options.accounts)]


def _serve(options, share, count, urls, stop):
    """A fake provider process serving every ``count``-th account from ``share`` on."""
    server = FakeProviderServer().start()
    for remote in make_remotes(options)[share::count]:
        server.add(remote)
    urls.put((share, server.url))
    stop.wait()
    server.stop()


def start_providers(options):
    """Fake provider processes (``--servers``): a real provider is not one Python process
    that both workers' requests queue behind. Returns (stop event, processes, url per account)."""
    context = multiprocessing.get_context('fork')
    urls, stop = context.Queue(), context.Event()
    processes = [context.Process(target=_serve, args=(options, share, options.servers, urls, stop), daemon=True)
                 for share in range(options.servers)]
    for process in processes:
        process.start()
    by_share = dict(urls.get(timeout=30) for _process in processes)
    return stop, processes, [by_share[index % options.servers] for index in range(options.accounts)]


def create_accounts(registry, remotes, urls):
    by_config = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['whatsapp.configuration'].search([]).write({'active': False})
        for index, (remote, url) in enumerate(zip(remotes, urls)):
            config = env['whatsapp.configuration'].create({
                'name': 'Queued %d' % index, 'provider': remote.provider, 'token': remote.token,
                'device_id': remote.device_id if remote.provider == 'wassenger' else False,
                'api_url': url + (WASSENGER_PREFIX if remote.provider == 'wassenger' else ''),
                'connection_state': 'connected'})
            by_config[config.id] = remote
    return by_config


def start_server(odoo_args, workers, port):
    env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS='root:%d,root.whatsapp:%d' % (workers, workers),
               ODOO_QUEUE_JOB_HOST='127.0.0.1', ODOO_QUEUE_JOB_PORT=str(port))
    command = ['odoo'] + odoo_args + ['--load=base,web,queue_job', '--workers=%d' % workers,
                                      '--max-cron-threads=0', '--http-port=%d' % port,
                                      '--http-interface=127.0.0.1', '--log-level=warn']
    return subprocess.Popen(command, env=env, start_new_session=True)


def wait_for_jobs(registry, since_id, timeout):
    """Wait until every job created after ``since_id`` is done or failed; return their states."""
    deadline = time.monotonic() + timeout
    while True:
        with registry.cursor() as cr:
            cr.execute("SELECT state, count(*) FROM queue_job WHERE id > %s AND model_name = 'whatsapp.sync.service' "
                       "GROUP BY state", (since_id,))
            states = dict(cr.fetchall())
        if states and set(states) <= {'done', 'failed'}:
            return states
        if time.monotonic() > deadline:
            return states
        time.sleep(0.2)


def reset_accounts(registry, config_ids):
    with registry.cursor() as cr:
        for table in ('whatsapp_message', 'whatsapp_group_member', 'whatsapp_group', 'whatsapp_contact',
                      'whatsapp_sync_log'):
            cr.execute('DELETE FROM %s WHERE configuration_id IN %%s' % table, (tuple(config_ids),))
        cr.execute('UPDATE whatsapp_configuration SET last_message_date = NULL WHERE id IN %s',
                   (tuple(config_ids),))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--accounts', type=int, default=4)
    parser.add_argument('--contacts', type=int, default=60)
    parser.add_argument('--groups', type=int, default=5)
    parser.add_argument('--members', type=int, default=6)
    parser.add_argument('--messages', type=int, default=40)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--servers', type=int, default=2, help='fake provider processes')
    parser.add_argument('--timeout', type=float, default=300)
    parser.add_argument('--compare-sequential', action='store_true')
    options, odoo_args = parser.parse_known_args()
    odoo_args = [arg for arg in odoo_args if arg != '--']
    odoo.tools.config.parse_config(odoo_args)
    registry = odoo.registry(odoo.tools.config['db_name'])
    stop, providers_processes, urls = start_providers(options)
    failures = []
    process = None
    try:
        remotes = create_accounts(registry, make_remotes(options), urls)
        odoo.sql_db.close_all()
        port = free_port()
        process = start_server(odoo_args, options.workers, port)
        time.sleep(6)  # the workers and the runner start
        with registry.cursor() as cr:
            cr.execute('SELECT coalesce(max(id), 0) FROM queue_job')
            since_id = cr.fetchone()[0]
        started = time.monotonic()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # the hourly scheduled action's code, as the scheduler runs it: it enqueues
            env['whatsapp.sync.service'].with_context(whatsapp_sync_commit=True).cron_sync_all_data(message_limit=0)
        states = wait_for_jobs(registry, since_id, options.timeout)
        queued_seconds = time.monotonic() - started
        if states != {'done': options.accounts}:
            failures.append('jobs ended as %s, expected %d done' % (states, options.accounts))
        with registry.cursor() as cr:
            for config_id, remote in remotes.items():
                failures.extend('account %d: %s' % (config_id, problem)
                                for problem in mismatches(cr, config_id, remote))
        items = sum(len(t['contacts']) + len(t['groups']) + len(t['members']) + len(t['messages'])
                    for t in (remote.truth() for remote in remotes.values()))
        print('queue_job: %d accounts, %d jobs %s in %.1f s with %d workers (%d records, %.0f records/s)' % (
            options.accounts, sum(states.values()), states, queued_seconds, options.workers, items,
            items / queued_seconds))
        if options.compare_sequential:
            reset_accounts(registry, list(remotes))
            started = time.monotonic()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)  # inline, one after the other
            sequential_seconds = time.monotonic() - started
            print('sequential: %d accounts in %.1f s; queue_job with %d workers is %.2f times faster' % (
                options.accounts, sequential_seconds, options.workers, sequential_seconds / queued_seconds))
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        stop.set()
        for provider_process in providers_processes:
            provider_process.join(timeout=10)
    for failure in failures:
        print('FAILED: %s' % failure)
    return 1 if failures else 0


if __name__ == '__main__':
    with api.Environment.manage():
        status = main()
    sys.exit(status)
