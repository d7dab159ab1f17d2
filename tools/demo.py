"""The live part of ``./run-demo``: fake provider, demo accounts, Odoo server, live messages.

    <odoo python> tools/demo.py --port PORT [--every SECONDS] -- <odoo options with -d DB>

Run by ``./run-demo`` once the database exists with the addon installed. It serves
the demo dataset (``tools/demo_data.py``) from the local fake provider, configures
the two demo accounts and the demo users (again on every start, so a kept
database follows the new ports), runs the first sync, starts Odoo on
``127.0.0.1:PORT``, prints the URL and logins, then posts a new inbound message
through an account's webhook every few seconds, signed as that provider signs
it. SIGINT or SIGTERM stops Odoo and the fake provider; nothing is left running.
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

from demo_data import PARTNER_CONTACTS, SERVED, demo_accounts  # noqa: E402

LOGINS = [('admin', 'admin', 'WhatsApp manager: every account, settings, tokens'),
          ('demo-user', 'demo-user', 'WhatsApp user of "Demo Shop (WHAPI)" only')]


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


def configure(registry, api, SUPERUSER_ID, server, base_url, slow_messages=0):
    """Accounts, users and settings of the demo; return [(account id, remote, secret, key)]."""
    accounts = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {'tracking_disable': True})
        env['ir.config_parameter'].set_param('web.base.url', base_url)
        env['ir.config_parameter'].set_param('web.base.url.freeze', 'True')
        env.ref('base.user_admin').write({'password': 'admin', 'tz': 'Europe/Madrid'})
        Configuration = env['whatsapp.configuration'].with_context(active_test=False)
        for index, (name, remote, secret) in enumerate(demo_accounts()):
            if index < SERVED:
                server.add(remote)
                if slow_messages:
                    remote.faults.update(delay=slow_messages, delay_path='messages')
            else:
                remote.server = server  # its base URL; the server refuses its token
            values = {'name': name, 'provider': remote.provider, 'token': remote.token,
                      'api_url': remote.base_url, 'active': True, 'connection_state': 'connected',
                      'webhook_secret': secret, 'post_to_chatter': False}
            if remote.provider == 'wassenger':
                values['device_id'] = remote.device_id
            account = Configuration.search([('name', '=', name)], limit=1)
            if account:
                account.write(values)
            else:
                account = Configuration.create(values)
            accounts.append((account.id, remote, secret, account.sudo()._credential().webhook_key))
        user = env['res.users'].with_context(active_test=False).search([('login', '=', 'demo-user')])
        if not user:
            user = env['res.users'].create({
                'name': 'Demo User', 'login': 'demo-user', 'email': 'demo-user@example.com',
                'groups_id': [(6, 0, [env.ref('base.group_user').id,
                                      env.ref('whatsapp_integration.group_whatsapp_user').id])]})
        user.write({'password': 'demo-user', 'active': True})
        Configuration.browse(accounts[0][0]).write({'user_ids': [(4, user.id)]})
        shop = accounts[0][1]
        Partner = env['res.partner']
        for index in PARTNER_CONTACTS:
            mobile = '+' + shop.contact_key(index)
            if not Partner.search([('mobile', '=', mobile)], limit=1):
                Partner.create({'name': shop.contact(index)['name'], 'mobile': mobile})
    return accounts[:SERVED]


def first_sync(registry, api, SUPERUSER_ID):
    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)


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


def deliver(base_url, account, rng):
    """One new inbound message, through the account's webhook; returns the reply status."""
    _account_id, remote, secret, key = account
    message = remote.new_inbound(rng)
    body, headers = remote.webhook_delivery(message, secret)
    request = urllib.request.Request('%s/whatsapp/webhook/%s/%s' % (base_url, remote.provider, key),
                                     data=body, headers=headers, method='POST')
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, message
    except urllib.error.HTTPError as error:
        return error.code, message


def main(argv):
    options = parse_args(argv)
    import odoo
    from odoo import SUPERUSER_ID, api

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
            accounts = configure(registry, api, SUPERUSER_ID, server, base_url, options.slow_messages)
            print('demo: fake provider on %s; first sync of the demo accounts...' % server.url, flush=True)
            started = time.monotonic()
            first_sync(registry, api, SUPERUSER_ID)
            print('demo: first sync done in %.1f s' % (time.monotonic() - started), flush=True)
        odoo.sql_db.close_all()
        odoo_process = children.start(['odoo'] + options.odoo_args + [
            '--http-port=%d' % options.port, '--http-interface=127.0.0.1', '--workers=0',
            '--max-cron-threads=1', '--log-level=warn'])
        wait_for_http(base_url, odoo_process)
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
            status, message = deliver(base_url, accounts[count % len(accounts)], rng)
            count += 1
            print('demo: webhook %s -> %d: "%s"' % (accounts[(count - 1) % len(accounts)][1].provider, status,
                                                    message['body']), flush=True)
    except Stop:
        print('\ndemo: stopping', flush=True)
        return 0
    finally:
        children.stop()
        server.stop()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
