"""Helper of tools/screenshots.sh: demo data and browser screenshots.

Two entry points, both driven by tools/screenshots.sh:

* run inside ``odoo shell`` (``runpy.run_path(..., run_name='whatsapp_screenshots_seed')``
  with ``env`` in the globals): fills the database with believable demo data through the
  addon's own sync path. The provider client is replaced by the tests' in-memory
  FakeProviderClient, so nothing touches the network. The ids the capture needs are
  written as JSON to the path in $WA_SEED_OUT.
* run with a Python that has ``websocket-client``:
  ``python screenshots.py capture --chromium PATH --url http://127.0.0.1:PORT --db DB
  --ids ids.json --out static/description``: drives headless Chromium over the Chrome
  DevTools protocol, logs in as admin and saves one PNG per screen.
"""
import json
import os
import sys

VIEWPORT = (1366, 768)


# ----------------------------------------------------------------------------------------
# Demo data (runs inside odoo shell)
# ----------------------------------------------------------------------------------------
def seed(env, out_path):  # noqa: C901 - one linear story, easier to read in one piece
    import datetime
    import random
    import time
    from unittest.mock import patch

    from freezegun import freeze_time

    from odoo.addons.whatsapp_integration import providers
    from odoo.addons.whatsapp_integration.providers import Contact, Media, Member, Message, Skipped
    from odoo.addons.whatsapp_integration.tests.common import FakeAccount, FakeProviderClient

    rng = random.Random(14)
    utc = datetime.timezone.utc
    # the last run is the most recent 17:00 UTC, so the chats happen in daytime
    now = datetime.datetime.now(utc).replace(minute=0, second=0, microsecond=0)
    now = now.replace(hour=17) - datetime.timedelta(days=0 if now.hour >= 17 else 1)

    # -- company, admin, a few users --------------------------------------------------
    spain = env.ref('base.es')
    company = env.ref('base.main_company')
    company.write({'name': 'Costa Verde Travel S.L.', 'country_id': spain.id, 'city': 'Valencia',
                   'email': 'hola@costaverde.example', 'phone': '+34 963 00 12 00'})
    admin = env.ref('base.user_admin')
    admin.write({'password': 'admin', 'tz': 'Europe/Madrid', 'name': 'Elena Vidal',
                 'email': 'elena.vidal@costaverde.example'})
    wa_user = env.ref('whatsapp_integration.group_whatsapp_user')
    users = env['res.users'].with_context(no_reset_password=True)
    marta = users.create({'name': 'Marta Ruiz', 'login': 'marta', 'email': 'marta.ruiz@costaverde.example',
                          'groups_id': [(6, 0, [env.ref('base.group_user').id, wa_user.id])]})
    javier = users.create({'name': 'Javier Soler', 'login': 'javier',
                           'email': 'javier.soler@costaverde.example',
                           'groups_id': [(6, 0, [env.ref('base.group_user').id, wa_user.id])]})
    sales_team = env['res.groups'].create({'name': 'Sales Desk'})

    # a few partners that the sync will link to WhatsApp contacts by phone number
    for name, mobile, city in (('Lucía Fernández', '+34 612 345 678', 'Valencia'),
                               ('Hotel Mar Azul', '+34 655 210 487', 'Dénia'),
                               ('Daniel Ortega', '+34 634 558 120', 'Madrid'),
                               ('Sophie Laurent', '+33 6 12 48 90 37', 'Lyon')):
        env['res.partner'].create({'name': name, 'mobile': mobile, 'city': city,
                                   'is_company': name.startswith('Hotel')})

    # -- two accounts --------------------------------------------------------------------
    Configuration = env['whatsapp.configuration'].with_context(tracking_disable=True)
    sales = Configuration.create({
        'name': 'Sales Line', 'provider': 'whapi', 'token': 'wh_3kP9vQ2LxT7mZr4B8cNf1YhD',
        'user_ids': [(6, 0, [marta.id, javier.id])], 'group_ids': [(6, 0, [sales_team.id])]})
    support = Configuration.create({
        'name': 'Customer Support', 'provider': 'wassenger', 'token': 'wsg_7Hq2Rb9XcV4nJ8kL1mPz',
        'device_id': '65a1f3c9d2b74e0f8a6c1b2d', 'user_ids': [(6, 0, [javier.id])]})
    sales.write({'connection_state': 'connected', 'account_phone': '+34 611 204 318',
                 'connection_message': 'Channel authorised (AUTH)'})
    support.write({'connection_state': 'connected', 'account_phone': '+34 622 907 145',
                   'connection_message': 'Device operative, session online'})

    # -- what each WhatsApp account holds at the provider --------------------------------
    def contact(number, name, pushname=None, business=False):
        return Contact(contact_id=number, phone='+' + number, phone_valid=True, name=name,
                       pushname=pushname, is_business=business)

    sales_contacts = [
        contact('34611204318', 'Costa Verde Travel (Sales)', 'Costa Verde Travel', business=True),
        contact('34612345678', 'Lucía Fernández', 'Lucía F.'),
        contact('34655210487', 'Hotel Mar Azul', 'Hotel Mar Azul Dénia', business=True),
        contact('34634558120', 'Daniel Ortega', 'Dani'),
        contact('34678901234', 'Carmen Navarro', 'Carmen'),
        contact('34699123456', 'Pablo Iglesias Mora', 'Pablo IM'),
        contact('34622481937', 'Alba Serrano', 'Alba'),
        contact('34647330918', 'Jorge Molina', 'Jorge M.'),
        contact('34610772045', 'Nuria Castell', 'Nuria'),
        contact('33612489037', 'Sophie Laurent', 'Sophie'),
        contact('447700900321', 'Oliver Bennett', 'Olly'),
        contact('34687015562', None, 'Rafa Pérez'),
        contact('34661844209', 'Autocares Levante', 'Autocares Levante', business=True),
    ]
    support_contacts = [
        contact('34622907145', 'Costa Verde Travel (Support)', 'Costa Verde Support', business=True),
        contact('34612345678', 'Lucía Fernández', 'Lucía F.'),
        contact('34691520733', 'Miguel Ángel Rubio', 'Miguel Ángel'),
        contact('34645098112', 'Teresa Gil', 'Tere'),
        contact('34638207754', 'Andrés Vidal', 'Andrés'),
        contact('34675340891', 'Irene Campos', 'Irene'),
        contact('4915112345678', 'Lena Hoffmann', 'Lena'),
        contact('34603918245', 'Sergio Blanco', 'Sergio B.'),
        contact('34657781306', None, 'Marina'),
        contact('34620134587', 'Viajes Sol y Mar', 'Viajes Sol y Mar', business=True),
    ]
    our = {'sales': '34611204318', 'support': '34622907145'}

    def member(number, role='member'):
        return Member(contact_id=number, role=role, phone='+' + number, phone_valid=True)

    remote = {sales.id: FakeAccount(page_size=40), support.id: FakeAccount(page_size=40)}
    remote_sales, remote_support = remote[sales.id], remote[support.id]
    remote_sales.contacts = sales_contacts[:11]
    remote_support.contacts = list(support_contacts)
    trips = remote_sales.add_group('120363041586239871@g.us', 'Menorca Trip, June 2026', [
        member(our['sales'], 'superadmin'), member('34612345678', 'admin'), member('34634558120'),
        member('34678901234'), member('34622481937'), member('34647330918'), member('34610772045'),
        member('447700900321')])
    trips.description = ('Group for the travellers of the 12-19 June Menorca trip: timetables, '
                         'documents and meeting points.')
    trips.created_at = now - datetime.timedelta(days=40)
    team = remote_sales.add_group('120363025519874410@g.us', 'Sales Desk', [
        member(our['sales'], 'superadmin'), member('34699123456', 'admin'), member('34655210487'),
        member('34661844209')])
    team.description = 'Daily coordination with hotels and coach partners.'
    team.created_at = now - datetime.timedelta(days=210)
    vip = remote_support.add_group('120363109982741256@g.us', 'VIP Customers', [
        member(our['support'], 'superadmin'), member('34691520733', 'admin'), member('34645098112'),
        member('34638207754'), member('4915112345678')])
    vip.description = 'Priority support for frequent travellers.'
    vip.created_at = now - datetime.timedelta(days=95)
    remote_support.add_group('120363088712093345@g.us', 'Partner Agencies', [
        member(our['support'], 'superadmin'), member('34620134587', 'admin'), member('34603918245')])

    # -- messages: a few per day, several types ------------------------------------------
    counter = [0]

    def msg(account_key, chat, at, body=None, kind='text', from_me=False, sender=None, status=None,
            media=None, group=False):
        counter[0] += 1
        prefix = '3EB0' if account_key == 'sales' else 'true_'
        if status is None:
            status = rng.choice(['read', 'read', 'delivered']) if from_me else 'read'
        return Message(
            message_id='%s%012X' % (prefix, 0x5A17C0DE + counter[0] * 7919), chat_id=chat,
            chat_type='group' if group else 'contact', timestamp=at, from_me=from_me,
            sender_id=our[account_key] if from_me else (sender or chat), message_type=kind,
            raw_type=kind, body=body, status=status, media=media)

    def image(name, size):
        return Media(media_id='media-%s' % name, mime_type='image/jpeg', file_name=name, file_size=size)

    def document(name, size):
        return Media(media_id='media-%s' % name, mime_type='application/pdf', file_name=name, file_size=size)

    def voice(seconds):
        return Media(media_id='voice-%d' % seconds, mime_type='audio/ogg; codecs=opus',
                     file_name=None, file_size=seconds * 2100)

    G_TRIPS, G_TEAM = trips.group_id, team.group_id
    G_VIP = vip.group_id

    def day_messages(day, run_at):
        """(sales messages, support messages) written during the day before ``run_at``."""
        def t(hours_before, minutes=0):
            return run_at - datetime.timedelta(hours=hours_before, minutes=minutes)
        s, w = [], []
        if day == 4:
            s += [
                msg('sales', '34612345678', t(8, 40), 'Hola! Do you still have places for the Menorca trip in June?'),
                msg('sales', '34612345678', t(8, 31), 'Yes, 6 places left. Shall I send you the programme?', from_me=True),
                msg('sales', '34612345678', t(8, 29), 'Please, and the price for two adults.'),
                msg('sales', '34612345678', t(8, 20), 'Programme and prices attached', 'document', True,
                    media=document('Menorca_June_2026.pdf', 842113)),
                msg('sales', '34655210487', t(6, 5), 'Confirmed: 14 double rooms from 12 to 19 June.'),
                msg('sales', '34655210487', t(5, 58), 'Perfect, thank you! Rooming list by Friday.', from_me=True),
                msg('sales', G_TEAM, t(4, 12), 'Coach for Saturday confirmed, 55 seats.', group=True,
                    sender='34661844209'),
                msg('sales', G_TEAM, t(4, 2), 'Great. Departure 7:30 from Plaza del Ayuntamiento.', group=True,
                    from_me=True),
            ]
            w += [
                msg('support', '34691520733', t(7, 15), 'Good morning, I cannot find my booking confirmation.'),
                msg('support', '34691520733', t(7, 2), 'Good morning Miguel Ángel, I am resending it now.',
                    from_me=True),
                msg('support', '34691520733', t(7, 0), 'Booking confirmation CV-24817', 'document', True,
                    media=document('Booking_CV-24817.pdf', 128440)),
                msg('support', '34691520733', t(6, 48), 'Received, thanks a lot!'),
                msg('support', '34645098112', t(3, 30), None, 'voice', media=voice(23)),
                msg('support', '34645098112', t(3, 12), 'Your refund was issued today, 3-5 working days.',
                    from_me=True),
            ]
        elif day == 3:
            s += [
                msg('sales', G_TRIPS, t(9), 'Elena added Jorge Molina', 'system', group=True, status=None),
                msg('sales', G_TRIPS, t(8, 55), 'Welcome everyone to the Menorca trip group!', group=True,
                    from_me=True),
                msg('sales', G_TRIPS, t(8, 30), 'Thanks! Is the ferry included?', group=True, sender='34647330918'),
                msg('sales', G_TRIPS, t(8, 22), 'Yes: ferry Valencia - Mahón, cabin for two.', group=True,
                    from_me=True),
                msg('sales', G_TRIPS, t(8, 20), '\u2764', 'reaction', group=True, sender='34612345678'),
                msg('sales', '34678901234', t(5, 10), 'Can I pay the deposit by bank transfer?'),
                msg('sales', '34678901234', t(5, 1), 'Of course, IBAN and reference below.', from_me=True),
                msg('sales', '33612489037', t(2, 45), 'Bonjour! Is there a guide who speaks French?'),
                msg('sales', '33612489037', t(2, 30), 'Oui, Nuria speaks French. I will put you in touch.',
                    from_me=True),
            ]
            w += [
                msg('support', G_VIP, t(6, 40), 'Reminder: lounge access is included on all June flights.',
                    group=True, from_me=True),
                msg('support', G_VIP, t(6, 12), 'Great news, thank you!', group=True, sender='34638207754'),
                msg('support', '4915112345678', t(4, 5), 'Hello, my flight was moved to 18:40. Is the transfer changed?'),
                msg('support', '4915112345678', t(3, 50), 'Yes Lena, the driver will wait at 19:15, gate B.',
                    from_me=True),
                msg('support', '34675340891', t(1, 20), 'Where do we meet the guide?'),
                msg('support', '34675340891', t(1, 5), 'Meeting point', 'location', True),
            ]
        elif day == 2:
            s += [
                msg('sales', '34622481937', t(7, 40), 'Photo of the passport, as requested', 'image',
                    media=image('IMG-20260602-WA0007.jpg', 214877)),
                msg('sales', '34622481937', t(7, 31), 'Thanks Alba, all set.', from_me=True),
                msg('sales', G_TRIPS, t(6, 5), 'Which day do you prefer for the boat excursion?', 'poll',
                    group=True, from_me=True),
                msg('sales', G_TRIPS, t(5, 48), 'Wednesday works for us', group=True, sender='34610772045'),
                msg('sales', '447700900321', t(3, 15), 'Hi, could you add my wife to the booking?'),
                msg('sales', '447700900321', t(3, 1), 'Sure Oliver, I just need her full name and ID.',
                    from_me=True),
                msg('sales', '34687015562', t(1, 10), 'https://costaverde.example/trips/menorca-june',
                    'link_preview'),
            ]
            w += [
                msg('support', '34603918245', t(5, 25), 'The hotel asks for a voucher, can you send it?'),
                msg('support', '34603918245', t(5, 10), 'Voucher', 'image', True,
                    media=image('voucher-CV-25102.jpg', 98312)),
            ]
        elif day == 1:
            s += [
                msg('sales', G_TRIPS, t(9, 10), 'Final timetable attached. Ferry leaves at 23:00.', 'document',
                    True, group=True, media=document('Timetable_Menorca.pdf', 301554)),
                msg('sales', G_TRIPS, t(8, 50), 'Perfect, see you at the port!', group=True, sender='34678901234'),
                msg('sales', G_TRIPS, t(8, 45), None, 'sticker', group=True, sender='34634558120',
                    media=Media(media_id='stk-1', mime_type='image/webp', file_size=18220)),
                msg('sales', '34699123456', t(6, 20), 'Two new bookings from the website this morning.'),
                msg('sales', '34699123456', t(6, 2), 'Great, I will call them after lunch.', from_me=True),
                msg('sales', '34661844209', t(4, 0), None, 'voice', media=voice(41)),
                msg('sales', '34661844209', t(3, 48), 'Noted: second coach for the 19th.', from_me=True),
                msg('sales', '34610772045', t(2, 0), 'Can you resend the packing list?'),
                msg('sales', '34610772045', t(1, 59), 'Packing list', 'document', True, status='failed',
                    media=document('Packing_list.pdf', 40210)),
                msg('sales', '34610772045', t(1, 30), 'Packing list', 'document', True,
                    media=document('Packing_list.pdf', 40210)),
            ]
            w += [
                msg('support', G_VIP, t(7, 0), 'Is there parking at the airport for the group?', group=True,
                    sender='34645098112'),
                msg('support', G_VIP, t(6, 45), 'Yes, P2 with a 20% discount code: CVT-JUNE.', group=True,
                    from_me=True),
                msg('support', '34657781306', t(4, 15), 'Hi! I would like information about Portugal trips.'),
                msg('support', '34657781306', t(4, 2), 'Hello Marina, I am passing you to our sales line.',
                    from_me=True),
                msg('support', '34620134587', t(2, 10), 'Invoice for May attached', 'document',
                    media=document('Invoice_2026-05.pdf', 77801)),
            ]
        else:
            s += [
                msg('sales', '34612345678', t(5, 20), 'We have just paid the deposit.'),
                msg('sales', '34612345678', t(5, 2), 'Received, thank you Lucía! See you on the 12th.',
                    from_me=True, status='delivered'),
                msg('sales', G_TRIPS, t(3, 30), 'Don\'t forget your ID card for the ferry!', group=True,
                    from_me=True, status='delivered'),
                msg('sales', G_TRIPS, t(3, 10), 'Thanks for the reminder', group=True, sender='34622481937'),
                msg('sales', '34634558120', t(1, 40), 'Is breakfast included at the hotel?'),
                msg('sales', '34634558120', t(1, 30), 'Yes, buffet breakfast every day.', from_me=True,
                    status='sent'),
            ]
            w += [
                msg('support', '34691520733', t(2, 30), 'Could I change my seat to a window?'),
                msg('support', '34691520733', t(2, 12), 'Done: seat 14A on both flights.', from_me=True,
                    status='delivered'),
                msg('support', '34638207754', t(0, 50), 'Photo of the damaged suitcase', 'image',
                    media=image('IMG-20260607-WA0012.jpg', 187230)),
            ]
        return s, w

    class SlowFakeClient(FakeProviderClient):
        """The tests' fake, with a provider's latency so the logs show believable durations."""

        def _call(self, name):
            time.sleep(rng.uniform(0.05, 0.25))
            return super()._call(name)

    def make_client(configuration):
        return SlowFakeClient(remote[configuration.id])

    Service = env['whatsapp.sync.service']
    cron = Service.with_context(whatsapp_sync_commit=True)  # the scheduled actions' context
    with patch.object(type(env['whatsapp.configuration']), '_make_provider_client', make_client):
        for day in (4, 3, 2, 1, 0):
            run_at = now - datetime.timedelta(days=day)
            s, w = day_messages(day, run_at)
            remote_sales.messages.extend(s)
            remote_support.messages.extend(w)
            if day == 3:   # new people and a new member since yesterday
                remote_sales.contacts = list(sales_contacts)
                trips.members.append(member('34699123456'))
                remote_sales.skipped_contacts = [Skipped(
                    kind='contact', reason='no phone number in the contact id', external_id='status@broadcast')]
            if day == 2:   # the Wassenger key was rotated: this run fails for that account only
                remote_sales.skipped_contacts = []
                remote_support.fail_with = providers.AuthenticationError(
                    'GET /v1/devices/%s/contacts: Invalid or expired API key' % support.device_id, 401)
            if day == 1:   # the manager pasted the new key and tested the connection
                remote_support.fail_with = None
                with freeze_time(run_at.replace(tzinfo=None) - datetime.timedelta(hours=15), tick=True):
                    support.write({'token': 'wsg_Tn5Wq8Ue2Ka6Zd3Lp9Xr'})
                    support.action_test_connection()
                support.write({'account_phone': '+34 622 907 145',
                               'connection_message': 'Device operative, session online'})
            frozen = run_at.replace(tzinfo=None)
            with freeze_time(frozen, tick=True):
                cron.cron_sync_all_data(full=True, message_limit=0)
            if day == 0:
                with freeze_time(frozen + datetime.timedelta(minutes=2), tick=True):
                    env['whatsapp.sync.wizard'].create({'sync_type': 'all'}).sync_data()
            env.cr.commit()

    first_contact = env['whatsapp.contact'].search(
        [('configuration_id', '=', sales.id), ('contact_id', '=', '34612345678')], limit=1)
    second_contact = env['whatsapp.contact'].search(
        [('configuration_id', '=', sales.id), ('contact_id', '=', '34634558120')], limit=1)
    group = env['whatsapp.group'].search(
        [('configuration_id', '=', sales.id), ('group_id', '=', trips.group_id)], limit=1)
    ids = {
        'db': env.cr.dbname,
        'account': sales.id,
        'group': group.id,
        'contacts': [first_contact.id, second_contact.id],
        'service': Service._get_service().id,
        'failed_log': env['whatsapp.sync.log'].search([('state', '=', 'error')], limit=1).id,
        'actions': {},
    }
    for key in ('whatsapp_configuration_action', 'whatsapp_contact_action', 'whatsapp_group_action',
                'whatsapp_message_action', 'whatsapp_sync_service_action', 'whatsapp_sync_log_action',
                'whatsapp_sync_wizard_action', 'whatsapp_send_message_action_contact'):
        ids['actions'][key] = env.ref('whatsapp_integration.%s' % key).id
    ids['menu'] = env.ref('whatsapp_integration.whatsapp_menu_root').id
    env.cr.commit()
    counts = {model: env[model].search_count([]) for model in (
        'whatsapp.contact', 'whatsapp.group', 'whatsapp.group.member', 'whatsapp.message', 'whatsapp.sync.log')}
    print('SEED_COUNTS %s' % json.dumps(counts, sort_keys=True))
    with open(out_path, 'w') as handle:
        json.dump(ids, handle)


if __name__ == 'whatsapp_screenshots_seed':
    seed(env, os.environ['WA_SEED_OUT'])  # noqa: F821 - env comes from odoo shell


# ----------------------------------------------------------------------------------------
# Screenshots (runs in a venv with websocket-client)
# ----------------------------------------------------------------------------------------
class Browser(object):
    """A minimal Chrome DevTools protocol client over one page target."""

    def __init__(self, chromium, profile_dir, timezone='Europe/Madrid'):
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
        self.timezone = timezone
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
DIALOG_READY = """(() => {
    const busy = document.querySelector('.o_loading, .o_blockUI');
    if (busy && busy.offsetParent !== null) { return false; }
    return !!document.querySelector('.modal.show .o_form_view');
})()"""


def capture(options):
    import shutil
    import tempfile

    with open(options.ids) as handle:
        ids = json.load(handle)
    actions = ids['actions']
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
        login = browser.evaluate("""fetch('/web/session/authenticate', {
            method: 'POST', headers: {'Content-Type': 'application/json'}, credentials: 'same-origin',
            body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: {db: %s, login: 'admin', password: 'admin'}})
        }).then(r => r.json()).then(j => j.result ? j.result.uid : JSON.stringify(j.error))""" % json.dumps(ids['db']),
            await_promise=True)
        if not isinstance(login, int):
            raise RuntimeError('login failed: %s' % login)

        def page(name, fragment, ready=READY, settle=2.0, script=None):
            # a fresh load per screen, so no dialog or breadcrumb of the previous one remains
            browser.new_page()
            browser.goto('%s/web#%s' % (base, fragment))
            browser.wait_for(READY, timeout=60, settle=settle)
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
        page('sync_logs_graph', 'action=%d&model=whatsapp.sync.log&view_type=graph&%s'
             % (actions['whatsapp_sync_log_action'], menu), settle=3.0)
        # dialogs: open the action the menu (or the list's Action menu) opens, over its usual screen
        do_action = ("odoo.__DEBUG__.services['web.web_client'].do_action(%d, "
                     "{additional_context: %s})")
        page('sync_wizard', 'id=%d&action=%d&model=whatsapp.sync.service&view_type=form&%s'
             % (ids['service'], actions['whatsapp_sync_service_action'], menu), ready=DIALOG_READY,
             script=do_action % (actions['whatsapp_sync_wizard_action'], '{}'))
        send_context = json.dumps({
            'active_model': 'whatsapp.contact', 'active_ids': ids['contacts'],
            'default_body': 'Hello! Your Menorca trip documents are ready: ferry tickets, hotel voucher '
                            'and the final timetable. See you on 12 June!'})
        page('send_message', 'action=%d&model=whatsapp.contact&view_type=list&%s'
             % (actions['whatsapp_contact_action'], menu), ready=DIALOG_READY,
             script=do_action % (actions['whatsapp_send_message_action_contact'], send_context))
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
    cap.add_argument('--ids', required=True, help='JSON written by the seed step')
    cap.add_argument('--out', required=True, help='folder for the PNG files')
    options = parser.parse_args(argv)
    if options.command == 'capture':
        capture(options)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
