"""The live part of ``./run-demo``: fake provider, demo accounts, Odoo server, live messages.

    <odoo python> tools/demo.py --port PORT [--every SECONDS] -- <odoo options with -d DB>

Run by ``./run-demo`` once the database exists with the addon installed. It serves
the demo dataset from the local fake provider and sets the demo up in the database
(``tools/demo_data.py``: accounts, their webhooks, users; again on every start, so a
kept database follows the new ports), runs the first sync, starts Odoo on
``127.0.0.1:PORT``, prints the URL and logins, then, every few seconds, the fake
provider posts a new inbound message to the webhook an account registered,
authenticated as that provider does it. SIGINT or SIGTERM stops Odoo and the fake
provider; nothing is left running.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import demo_data  # noqa: E402
from demo_data import LOGINS  # noqa: E402


class Children(object):
    """The processes this run started, stopped together (their whole process groups)."""

    def __init__(self):
        self.processes = []

    def start(self, command, **kwargs):
        process = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.processes.append(process)
        return process

    def stop(self, timeout=20):
        for process in self.processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


class Stop(Exception):
    """SIGINT or SIGTERM arrived."""


_stopping = []


def _raise_stop(_signum, _frame):
    # Ctrl-C reaches this process and ./run-demo, which then sends SIGTERM too: the
    # second signal must not interrupt the cleanup the first one started.
    if not _stopping:
        _stopping.append(True)
        raise Stop()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='tools/demo.py', description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True, help='HTTP port of the demo Odoo')
    parser.add_argument('--every', type=float, default=8.0, help='seconds between two live messages (0: none)')
    parser.add_argument('--slow-messages', type=float, default=0,
                        help='seconds the fake provider takes per message page (to watch a sync in progress)')
    parser.add_argument('--ready-file', help='write {"url", "db"} as JSON there once Odoo serves (for tools)')
    options, odoo_args = parser.parse_known_args(argv)
    options.odoo_args = [arg for arg in odoo_args if arg != '--']
    return options


def wait_for_http(url, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('Odoo stopped while starting (exit %s)' % process.returncode)
        try:
            with urllib.request.urlopen(url + '/web/login', timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError('Odoo did not answer on %s within %d s' % (url, timeout))


def main(argv):
    options = parse_args(argv)
    import odoo
    from odoo import api

    from fake_provider_server import FakeProviderServer

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    odoo.tools.config.parse_config(options.odoo_args + ['--log-level=warn'])
    odoo.netsvc.init_logger()
    registry = odoo.registry(odoo.tools.config['db_name'])
    base_url = 'http://127.0.0.1:%d' % options.port
    server = FakeProviderServer().start()
    children = Children()
    try:
        with api.Environment.manage():
            accounts = demo_data.configure(registry, server, base_url, options.slow_messages)
            print('demo: fake provider on %s, webhooks registered; first sync of the demo accounts...'
                  % server.url, flush=True)
            started = time.monotonic()
            demo_data.first_sync(registry)
            print('demo: first sync done in %.1f s' % (time.monotonic() - started), flush=True)
        odoo.sql_db.close_all()
        odoo_process = children.start(['odoo'] + options.odoo_args + [
            '--http-port=%d' % options.port, '--http-interface=127.0.0.1', '--workers=0',
            '--max-cron-threads=1', '--log-level=warn'])
        wait_for_http(base_url, odoo_process)
        with api.Environment.manage():
            statuses = demo_data.live_conversations(registry, accounts)
        odoo.sql_db.close_all()
        print('demo: a customer of each account wrote in (webhooks: %s); see Discuss' % (
            ', '.join(str(status) for status in sorted(set(statuses), key=str))), flush=True)
        if options.ready_file:
            with open(options.ready_file, 'w') as handle:
                json.dump({'url': base_url, 'db': odoo.tools.config['db_name']}, handle)
        print('\n  WhatsApp Integration demo: %s\n' % base_url, flush=True)
        for login, password, what in LOGINS:
            print('  login %-10s password %-10s %s' % (login, password, what))
        print('\n  A new message arrives through a webhook every %g s. Ctrl-C stops everything.\n'
              % options.every, flush=True)
        rng = random.Random(7)
        count = 0
        while True:
            if options.every <= 0:
                time.sleep(3600)
                continue
            time.sleep(options.every)
            if odoo_process.poll() is not None:
                print('demo: Odoo stopped (exit %s)' % odoo_process.returncode, flush=True)
                return 1
            _account_id, remote = accounts[count % len(accounts)]
            count += 1
            message = remote.new_inbound(rng)
            for url, status in remote.deliver(message):
                print('demo: %s webhook -> %s: "%s"' % (remote.provider, status, message['body']), flush=True)
    except Stop:
        print('\ndemo: stopping', flush=True)
        return 0
    finally:
        children.stop()
        server.stop()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
