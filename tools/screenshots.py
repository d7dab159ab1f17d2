"""Helper of tools/screenshots.sh: screenshots of the demo (``./run-demo``) in headless Chromium.

Run with a Python that has ``websocket-client``:
``python screenshots.py capture --chromium PATH --url http://127.0.0.1:PORT --db DB --out DIR``.
It drives headless Chromium over the Chrome DevTools protocol, logs in as the demo's
manager (``tools/demo_data.LOGINS``), finds the records to show through JSON-RPC (the
demo's first account, its biggest group, two contacts, a failed run) and saves one PNG
per screen.
"""
import json
import os
import sys
import time

VIEWPORT = (1366, 768)


# ----------------------------------------------------------------------------------------
# Screenshots (runs in a venv with websocket-client)
# ----------------------------------------------------------------------------------------
class Browser(object):
    """A minimal Chrome DevTools protocol client over one page target."""

    def __init__(self, chromium, profile_dir, timezone=None):
        import socket
        import subprocess
        import time
        import urllib.request

        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        args = [
            chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--user-data-dir=%s' % profile_dir, '--remote-debugging-address=127.0.0.1',
            '--remote-debugging-port=%d' % port, '--window-size=%d,%d' % VIEWPORT,
            '--hide-scrollbars', '--force-device-scale-factor=1', '--lang=en-US', 'about:blank']
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.devtools = 'http://127.0.0.1:%d' % port
        # the zone the demo gave its users (tools/screenshots.sh sets it for both)
        self.timezone = timezone or os.environ.get('WHATSAPP_DEMO_TZ') or 'Europe/Madrid'
        self.ws = None
        self.target_id = None
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.devtools + '/json/version', timeout=2):
                    break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError('Chromium did not open its DevTools port')
                time.sleep(0.3)
        self.new_page()

    def _devtools_get(self, path, method='GET'):
        import urllib.request
        request = urllib.request.Request(self.devtools + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def new_page(self):
        """Work in a fresh tab: nothing of the previous screen (dialog, unsaved form) is left."""
        import websocket
        target = json.loads(self._devtools_get('/json/new?about:blank', method='PUT'))
        self._close_page()
        self.target_id = target['id']
        self.ws = websocket.create_connection(target['webSocketDebuggerUrl'], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0
        self.send('Page.enable')
        self.send('Runtime.enable')
        self.send('Emulation.setDeviceMetricsOverride', width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=1, mobile=False)
        self.send('Emulation.setTimezoneOverride', timezoneId=self.timezone)

    def _close_page(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - best effort
                pass
            self.ws = None
        if self.target_id:
            try:
                self._devtools_get('/json/close/%s' % self.target_id)
            except OSError:
                pass
            self.target_id = None

    def send(self, method, **params):
        self.next_id += 1
        call_id = self.next_id
        self.ws.send(json.dumps({'id': call_id, 'method': method, 'params': params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get('method') == 'Page.javascriptDialogOpening':
                # "leave this page?" from a form with unsaved changes: yes
                self.next_id += 1
                self.ws.send(json.dumps({'id': self.next_id, 'method': 'Page.handleJavaScriptDialog',
                                         'params': {'accept': True}}))
            if reply.get('id') == call_id:
                if 'error' in reply:
                    raise RuntimeError('%s: %s' % (method, reply['error']))
                return reply.get('result', {})

    def evaluate(self, expression, await_promise=False):
        result = self.send('Runtime.evaluate', expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if result.get('exceptionDetails'):
            raise RuntimeError('JS error in %r: %s' % (expression[:80], result['exceptionDetails']))
        return result.get('result', {}).get('value')

    def goto(self, url):
        self.send('Page.navigate', url=url)

    def wait_for(self, expression, timeout=30, settle=1.5):
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(expression):
                    time.sleep(settle)
                    return True
            except RuntimeError:
                pass
            time.sleep(0.25)
        raise RuntimeError('timed out waiting for %s' % expression)

    def screenshot(self, path):
        import base64
        data = self.send('Page.captureScreenshot', format='png')['data']
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(data))

    def close(self):
        self._close_page()
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:  # noqa: BLE001
            self.process.kill()


# the web client has finished loading the current action: a view controller is there,
# nothing is loading, and no list/graph is still waiting for its data
READY = """(() => {
    const busy = document.querySelector('.o_loading, .o_blockUI');
    if (busy && busy.offsetParent !== null) { return false; }
    return !!document.querySelector('.o_action_manager .o_view_controller, .o_action_manager .o_action');
})()"""
# Discuss shows the channel with its files, and the composer answers the customer's last
# message (Reply on it)
DISCUSS_REPLYING_READY = """(() => {
    const images = Array.from(document.querySelectorAll('.o_Discuss_thread img'));
    return !!document.querySelector('.o_Discuss_thread .o_whatsapp_replying')
        && !!document.querySelector('.o_Discuss_thread audio, .o_Discuss_thread .o_Attachment')
        && images.every(image => image.complete);
})()"""
# Reply on the customer's last message once Discuss shows the channel
DISCUSS_REPLY = """(function reply() {
    const arrows = document.querySelectorAll('.o_Discuss_thread .o_whatsapp_reply');
    if (!arrows.length) { setTimeout(reply, 200); return; }
    arrows[arrows.length - 1].click();
    // the banner takes room under the thread: show its end again
    setTimeout(() => {
        const list = document.querySelector('.o_Discuss_thread .o_ThreadView_messageList');
        if (list) { list.scrollTop = list.scrollHeight; }
    }, 500);
})()"""
DIALOG_READY = """(() => {
    const busy = document.querySelector('.o_loading, .o_blockUI');
    if (busy && busy.offsetParent !== null) { return false; }
    return !!document.querySelector('.modal.show .o_form_view');
})()"""


def capture(options):
    import shutil
    import tempfile

    base = options.url.rstrip('/')
    os.makedirs(options.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix='wa-chromium-')
    try:
        browser = Browser(options.chromium, profile)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        # log in: the JSON-RPC authenticate call sets the session cookie in the browser
        browser.goto(base + '/web/login')
        browser.wait_for("!!document.querySelector('form.oe_login_form')", settle=0.3)
        # the demo's WhatsApp manager (tools/demo_data.py)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from demo_data import LOGINS
        manager, password, _what = LOGINS[0]
        login = browser.evaluate("""fetch('/web/session/authenticate', {
            method: 'POST', headers: {'Content-Type': 'application/json'}, credentials: 'same-origin',
            body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: %s})
        }).then(r => r.json()).then(j => j.result ? j.result.uid : JSON.stringify(j.error))""" % json.dumps(
            {'db': options.db, 'login': manager, 'password': password}), await_promise=True)
        if not isinstance(login, int):
            raise RuntimeError('login failed: %s' % login)

        def rpc(model, method, *args, **kwargs):
            answer = browser.evaluate("""fetch('/web/dataset/call_kw', {
                method: 'POST', headers: {'Content-Type': 'application/json'}, credentials: 'same-origin',
                body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: %s})
            }).then(r => r.json()).then(j => JSON.stringify(j))""" % json.dumps(
                {'model': model, 'method': method, 'args': list(args), 'kwargs': kwargs}), await_promise=True)
            answer = json.loads(answer)
            if 'error' in answer:
                raise RuntimeError('%s.%s: %s' % (model, method, answer['error']))
            return answer['result']

        def first_id(model, domain, order=None):
            found = rpc(model, 'search', domain, limit=1, order=order) if order else rpc(model, 'search', domain, limit=1)
            if not found:
                raise RuntimeError('no %s matching %s in the demo' % (model, domain))
            return found[0]

        def xml_id(name):
            return rpc('ir.model.data', 'xmlid_to_res_id', 'whatsapp_integration.%s' % name)

        account = first_id('whatsapp.configuration', [], order='id')
        groups = rpc('whatsapp.group', 'search_read', [('configuration_id', '=', account)], ['member_count'])
        ids = {
            'account': account,
            'group': max(groups, key=lambda group: group['member_count'])['id'],
            'contacts': rpc('whatsapp.contact', 'search', [('configuration_id', '=', account),
                                                           ('partner_id', '!=', False)], limit=2),
            'service': first_id('whatsapp.sync.service', []),
            'failed_log': first_id('whatsapp.sync.log', [('state', '=', 'error')]),
            'menu': xml_id('whatsapp_menu_root'),
            'actions': {key: xml_id(key) for key in (
                'whatsapp_configuration_action', 'whatsapp_contact_action', 'whatsapp_group_action',
                'whatsapp_message_action', 'whatsapp_sync_service_action', 'whatsapp_sync_log_action',
                'whatsapp_sync_wizard_action', 'whatsapp_send_message_action_contact', 'whatsapp_template_action',
                'whatsapp_outbox_action')},
        }
        actions = ids['actions']

        def page(name, fragment, ready=READY, settle=2.0, script=None, before_script=READY):
            # a fresh load per screen, so no dialog or breadcrumb of the previous one remains
            browser.new_page()
            browser.goto('%s/web#%s' % (base, fragment))
            browser.wait_for(before_script if script else ready, timeout=60, settle=settle)
            if script:
                browser.evaluate(script)
                browser.wait_for(ready, timeout=30, settle=settle)
            path = os.path.join(options.out, 'screenshot_%s.png' % name)
            browser.screenshot(path)
            # fail loudly if we got the login page instead of the screen
            if browser.evaluate("!!document.querySelector('form.oe_login_form')"):
                raise RuntimeError('%s: got the login page' % name)
            print('saved %s' % path)

        menu = 'menu_id=%d' % ids['menu']
        page('account', 'id=%d&action=%d&model=whatsapp.configuration&view_type=form&%s'
             % (ids['account'], actions['whatsapp_configuration_action'], menu))
        page('contacts', 'action=%d&model=whatsapp.contact&view_type=list&%s'
             % (actions['whatsapp_contact_action'], menu))
        page('group', 'id=%d&action=%d&model=whatsapp.group&view_type=form&%s'
             % (ids['group'], actions['whatsapp_group_action'], menu))
        page('messages', 'action=%d&model=whatsapp.message&view_type=list&%s'
             % (actions['whatsapp_message_action'], menu))
        page('sync_service', 'id=%d&action=%d&model=whatsapp.sync.service&view_type=form&%s'
             % (ids['service'], actions['whatsapp_sync_service_action'], menu))
        page('sync_log_error', 'id=%d&action=%d&model=whatsapp.sync.log&view_type=form&%s'
             % (ids['failed_log'], actions['whatsapp_sync_log_action'], menu))
        page('messages_graph', 'action=%d&model=whatsapp.message&view_type=graph&%s'
             % (actions['whatsapp_message_action'], menu), settle=3.0)
        # dialogs: open the action the menu (or the list's Action menu) opens, over its usual screen
        do_action = ("odoo.__DEBUG__.services['web.web_client'].do_action(%d, "
                     "{additional_context: %s})")
        page('sync_wizard', 'id=%d&action=%d&model=whatsapp.sync.service&view_type=form&%s'
             % (ids['service'], actions['whatsapp_sync_service_action'], menu), ready=DIALOG_READY,
             script=do_action % (actions['whatsapp_sync_wizard_action'], '{}'))
        send_context = json.dumps({
            'active_model': 'whatsapp.contact', 'active_ids': ids['contacts'],
            'default_body': 'Hello! Your order is ready for pickup at the shop, open until 20:00 today. '
                            'The invoice is attached. See you soon!'})
        page('send_message', 'action=%d&model=whatsapp.contact&view_type=list&%s'
             % (actions['whatsapp_contact_action'], menu), ready=DIALOG_READY,
             script=do_action % (actions['whatsapp_send_message_action_contact'], send_context))
        # Discuss: the conversation a customer of the shop started while the demo began
        channel = first_id('mail.channel', [('whatsapp_configuration_id', '=', ids['account'])], order='id')
        discuss = rpc('ir.model.data', 'xmlid_to_res_id', 'mail.action_discuss')
        page('discuss', 'action=%d&active_id=mail.channel_%d' % (discuss, channel), ready=DISCUSS_REPLYING_READY,
             settle=2.5, script=DISCUSS_REPLY, before_script="!!document.querySelector('.o_Discuss')")
        photo = first_id('whatsapp.message', [('configuration_id', '=', ids['account']),
                                              ('media_state', '=', 'downloaded'), ('message_type', '=', 'image')])
        page('message_photo', 'id=%d&action=%d&model=whatsapp.message&view_type=form&%s'
             % (photo, actions['whatsapp_message_action'], menu), settle=2.0)
        page('message_files', 'action=%d&model=whatsapp.message&view_type=kanban&%s'
             % (actions['whatsapp_message_action'], menu), settle=2.5,
             script="odoo.__DEBUG__.services['web.web_client'].do_action(%d, {additional_context: "
                    "{search_default_filter_files_downloaded: 1}, view_type: 'kanban'})"
                    % actions['whatsapp_message_action'])
        # templates: one for the shop's customers, in the partners' Action menu; a send to a
        # dozen of them goes through the outbox (sent at the account's pace by its scheduled action)
        contacts = rpc('whatsapp.contact', 'search_read', [('configuration_id', '=', ids['account']),
                                                           ('phone', '!=', False)], ['name', 'phone'], limit=12)
        customers = rpc('res.partner', 'create', [{'name': contact['name'], 'mobile': contact['phone'],
                                                    'city': 'Madrid'} for contact in contacts])
        partner_model = rpc('ir.model', 'search', [('model', '=', 'res.partner')])[0]
        template = rpc('whatsapp.template', 'create', {
            'name': 'Spring sale', 'configuration_id': ids['account'], 'model_id': partner_model,
            'recipient_field': 'mobile',
            'body': 'Hello ${object.name}! Our spring sale starts tomorrow in ${object.city or "our shops"}: '
                    '20% off every suitcase. Reply STOP to stop receiving our offers.'})
        rpc('whatsapp.template', 'action_create_sidebar_action', [template])
        page('template', 'id=%d&action=%d&model=whatsapp.template&view_type=form&%s'
             % (template, actions['whatsapp_template_action'], menu))
        bulk_context = json.dumps({'active_model': 'res.partner', 'active_ids': customers,
                                   'default_template_id': template})
        contacts_action = rpc('ir.model.data', 'xmlid_to_res_id', 'contacts.action_contacts')
        page('template_send', 'action=%d&model=res.partner&view_type=list' % contacts_action, ready=DIALOG_READY,
             script="odoo.__DEBUG__.services['web.web_client'].do_action({type: 'ir.actions.act_window', "
                    "res_model: 'whatsapp.send.message', views: [[false, 'form']], target: 'new', context: %s})"
                    % bulk_context)
        wizard = rpc('whatsapp.send.message', 'create', {}, context={
            'active_model': 'res.partner', 'active_ids': customers, 'default_template_id': template})
        rpc('whatsapp.send.message', 'action_send', [wizard])
        time.sleep(70)  # the outbox's scheduled action runs every minute
        page('outbox', 'action=%d&model=whatsapp.outbox&view_type=list&%s' % (actions['whatsapp_outbox_action'], menu))
        # a real sync in progress: a whole-history import from the wizard goes to the
        # background (the demo's fake provider takes seconds per message page); the
        # cron picks it up within a minute, and the Sync Service shows it running
        wizard = rpc('whatsapp.sync.wizard', 'create', {'sync_type': 'messages', 'configuration_id': ids['account'],
                                                        'message_limit': 0})
        rpc('whatsapp.sync.wizard', 'sync_data', [wizard])
        deadline = time.time() + 150
        while not rpc('whatsapp.sync.log', 'search_count', [('state', '=', 'running')]):
            if time.time() > deadline:
                raise RuntimeError('the queued sync did not start within 150 s')
            time.sleep(0.5)
        page('sync_progress', 'id=%d&action=%d&model=whatsapp.sync.service&view_type=form&%s'
             % (ids['service'], actions['whatsapp_sync_service_action'], menu), settle=1.0)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    cap = sub.add_parser('capture', help='take the screenshots')
    cap.add_argument('--chromium', required=True)
    cap.add_argument('--url', required=True, help='Odoo base URL, e.g. http://127.0.0.1:8069')
    cap.add_argument('--db', required=True, help='the demo database')
    cap.add_argument('--out', required=True, help='folder for the PNG files')
    options = parser.parse_args(argv)
    if options.command == 'capture':
        capture(options)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
