"""Outbox benchmark (bench/outbox): 1,000 queued sends against a local fake provider.

Run by Odoo's Python. ``setup`` creates the account and 1,000 partners; ``enqueue``
queues a template for them (timed); ``send`` runs the scheduled action's loop until the
outbox is empty (the driver kills one mid-way and starts another); ``driver`` does it
all and prints: the enqueue time, the pace held against the configured rate, and
whether every number received exactly one message.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = 1000
RATE = 600          # messages per minute: 10 per second, so the run takes under two minutes


def odoo_env(args):
    import odoo
    from odoo.tools import config
    config.parse_config(args)
    odoo.netsvc.init_logger()
    return odoo


def step(odoo_args, db, action, url=None):
    odoo = odoo_env(odoo_args)
    registry = odoo.registry(db)
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {'tracking_disable': True})
        if action == 'setup':
            account = env['whatsapp.configuration'].create({
                'name': 'Outbox bench', 'provider': 'whapi', 'token': 'bench-token', 'api_url': url,
                'connection_state': 'connected', 'send_rate_per_minute': RATE})
            env['res.partner'].create([{'name': 'Customer %04d' % n, 'mobile': '+3460050%04d' % n}
                                       for n in range(COUNT)])
            env['whatsapp.template'].create({
                'name': 'Bench', 'configuration_id': account.id, 'recipient_field': 'mobile',
                'model_id': env['ir.model']._get('res.partner').id, 'body': 'Hello ${object.name}'})
            result = {}
        elif action == 'enqueue':
            partners = env['res.partner'].search([('name', '=like', 'Customer %')])
            template = env['whatsapp.template'].search([('name', '=', 'Bench')])
            started = time.monotonic()
            _lines, counts = template._queue_for_records(partners)
            cr.commit()
            result = {'seconds': time.monotonic() - started, 'queued': counts['queued']}
        elif action == 'send':
            print('SENDING', flush=True)
            sent = env['whatsapp.outbox'].with_context(tracking_disable=True)._send_until(
                time.monotonic() + 3600, commit=cr.commit)
            cr.commit()
            result = {'sent': sent}
        elif action == 'states':
            cr.execute('SELECT state, count(*) FROM whatsapp_outbox GROUP BY state')
            result = dict(cr.fetchall())
        cr.commit()
    print('RESULT ' + json.dumps(result), flush=True)


class Provider(object):
    """WHAPI's POST /messages/text, recording who received what and when."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)) or b'{}')
                with provider.lock:
                    provider.received.append((time.monotonic(), body.get('to')))
                    number = len(provider.received)
                payload = json.dumps({'sent': True, 'message': {'id': 'bench-%06d' % number,
                                                                 'status': 'pending'}}).encode()
                self.send_response(201)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]


def run(odoo_args, db, action, url=None):
    output = subprocess.run([sys.executable, __file__, json.dumps([odoo_args, db, action, url])],
                            stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return json.loads([line for line in output.splitlines() if line.startswith('RESULT ')][-1][7:])


def driver(odoo_args, db):
    provider = Provider()
    run(odoo_args, db, 'setup', provider.url)
    enqueue = run(odoo_args, db, 'enqueue')
    print('enqueue: %d records queued in %.2f s (target < 2 s)' % (enqueue['queued'], enqueue['seconds']))
    # a worker sends about half, is killed (SIGKILL), and a new one finishes
    worker = subprocess.Popen([sys.executable, __file__, json.dumps([odoo_args, db, 'send', None])],
                              stdout=subprocess.PIPE, universal_newlines=True)
    while len(provider.received) < COUNT // 2:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    at_kill = len(provider.received)
    started = time.monotonic()
    run(odoo_args, db, 'send')
    restart_seconds = time.monotonic() - started
    states = run(odoo_args, db, 'states')
    numbers = [to for _at, to in provider.received]
    duplicates = len(numbers) - len(set(numbers))
    times = [at for at, _to in provider.received]
    steady = [later - earlier for earlier, later in zip(times[1:at_kill - 1], times[2:at_kill])]
    pace = 60.0 / (sum(steady) / len(steady)) if steady else 0.0
    print('pace: %.0f messages/minute over the first worker\'s %d sends, configured %d (%.1f%% off, target '
          'within 10%%)' % (pace, at_kill, RATE, 100.0 * abs(pace - RATE) / RATE))
    print('kill: the first worker was SIGKILLed after %d sends; the second sent the rest in %.1f s' % (
        at_kill, restart_seconds))
    print('received: %d messages for %d distinct numbers of %d queued, duplicates: %d; outbox states: %s' % (
        len(numbers), len(set(numbers)), COUNT, duplicates, states))
    ok = (enqueue['seconds'] < 2 and abs(pace - RATE) <= RATE * 0.1 and duplicates == 0
          and set(numbers) == {'3460050%04d' % n for n in range(COUNT)} and states.get('sent') == COUNT)
    lost = COUNT - len(set(numbers))
    if lost:
        print('note: %d queued messages never reached the provider (outcome unknown when the kill hit their '
              'call; states above)' % lost)
    print('RESULT: %s' % ('ALL TARGETS MET' if ok else 'A TARGET IS NOT MET'))
    return 0 if ok else 1


if __name__ == '__main__':
    odoo_args, db, action, url = json.loads(sys.argv[1])
    if action == 'driver':
        sys.exit(driver(odoo_args, db))
    step(odoo_args, db, action, url)
