# -*- coding: utf-8 -*-
"""Templates, the Action menu, the "Send WhatsApp" server action and opt-out by keyword."""
import datetime
import uuid
from types import SimpleNamespace

from odoo.exceptions import AccessError
from odoo.http import _request_stack
from odoo.tests import tagged
from odoo.tests.common import Form, new_test_user

from odoo.addons.whatsapp_integration import providers

from .common import Message, WhatsappCase

UTC = datetime.timezone.utc
ANA = '34600000001'
LUIS = '34600000002'


@tagged('post_install', '-at_install')
class TestTemplates(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.user_a, self.user_b = self.account_users('tpl')
        Partner = self.env['res.partner']
        self.ana = Partner.create({'name': 'Ana', 'mobile': '+' + ANA, 'city': 'Madrid'})
        self.luis = Partner.create({'name': 'Luis', 'mobile': '+' + LUIS})
        self.nobody = Partner.create({'name': 'No Phone'})
        self.template = self.env['whatsapp.template'].create({
            'name': 'Greeting', 'configuration_id': self.config_a.id,
            'model_id': self.env['ir.model']._get('res.partner').id, 'recipient_field': 'mobile',
            'body': 'Hello ${object.name}, we deliver to ${object.city or "your town"}.'})
        self.serial = 0
        self.run_key = uuid.uuid4().hex[:12]

    def inbound(self, body, number=ANA, hours_ago=0):
        self.serial += 1
        # unique across tests: the provider call ledger behind the confirmations commits on its own
        return Message(message_id='opt-%s-%d' % (self.run_key, self.serial), chat_id=number, chat_type='contact', sender_id=number,
                       timestamp=datetime.datetime.now(UTC) - datetime.timedelta(hours=hours_ago),
                       message_type='text', raw_type='text', body=body, status='delivered')

    def test_rendering_fills_placeholders_and_missing_values(self):
        bodies = self.template._render_bodies(self.ana | self.luis)
        self.assertEqual(bodies[self.ana.id], 'Hello Ana, we deliver to Madrid.')
        self.assertEqual(bodies[self.luis.id], 'Hello Luis, we deliver to your town.')
        preview = self.env['whatsapp.template.preview'].create({
            'template_id': self.template.id, 'resource_ref': 'res.partner,%d' % self.luis.id})
        self.assertEqual(preview.body, 'Hello Luis, we deliver to your town.')
        self.assertIn('+%s' % LUIS, preview.recipient)
        self.assertFalse(preview.error)

    def test_a_record_the_user_may_not_read_is_not_rendered(self):
        template = self.env['whatsapp.template'].create({
            'name': 'Secret', 'model_id': self.env['ir.model']._get('ir.config_parameter').id,
            'recipient_field': 'key', 'body': '${object.value}'})
        parameter = self.env['ir.config_parameter'].search([], limit=1)
        with self.assertRaises(AccessError):
            template.with_user(self.user_a)._render_bodies(parameter.with_user(self.user_a))

    def test_a_contacts_template_with_its_defaults_saves_and_sends(self):
        """Its recipient is the contact itself (it was partner_id, which a contact has not)."""
        form = Form(self.env['whatsapp.template'].with_user(self.manager))
        form.name = 'Welcome'
        form.model_id = self.env['ir.model']._get('res.partner')
        form.configuration_id = self.config_a
        form.body = 'Welcome ${object.name}'
        template = form.save()
        self.assertEqual(template.recipient_field, 'self')
        self.assertEqual(template.recipient_field_id, self.env['ir.model.fields']._get('res.partner', 'self'))
        lines, counts = template._send_to_records(self.ana)
        self.assertEqual(counts['sent'], 1, lines)
        self.assertEqual(self.remote_a.sent, [(ANA, 'Welcome Ana', None)])

    def test_the_recipient_offered_follows_the_model(self):
        form = Form(self.env['whatsapp.template'])
        form.name = 'Follow'
        form.body = 'Hi'
        model = self.env['ir.model']._get
        form.model_id = model('res.partner')
        offered = {field.name for field in form.recipient_field_ids}
        self.assertTrue({'self', 'mobile', 'phone', 'parent_id'} <= offered, offered)
        self.assertFalse({'name', 'email', 'phone_mobile_search'} & offered, 'only partner and phone fields')
        form.model_id = model('res.users')  # it has partner_id
        self.assertEqual(form.recipient_field_id.name, 'partner_id')
        form.model_id = model('res.bank')  # no partner field: its first phone field
        self.assertEqual(form.recipient_field_id.name, 'phone')
        self.assertEqual([field.name for field in form.recipient_field_ids], ['phone'])
        form.model_id = model('res.partner')
        form.recipient_field_id = self.env['ir.model.fields']._get('res.partner', 'mobile')
        template = form.save()
        self.assertEqual(template.recipient_field, 'mobile')

    def test_a_template_keeps_its_recipient_through_the_form(self):
        form = Form(self.template)
        self.assertEqual(form.recipient_field_id, self.env['ir.model.fields']._get('res.partner', 'mobile'))
        form.body = 'Hello ${object.name}'
        form.save()
        self.assertEqual(self.template.recipient_field, 'mobile')
        legacy = self.env['whatsapp.template'].create({
            'name': 'Legacy', 'model_id': self.env['ir.model']._get('ir.config_parameter').id,
            'recipient_field': 'key', 'body': 'x'})
        self.assertEqual(legacy.recipient_field, 'key', 'a text field given on create stays (API)')

    def test_action_menu_binding(self):
        self.template.action_create_sidebar_action()
        action = self.template.sidebar_action_id
        self.assertEqual(action.binding_model_id.model, 'res.partner')
        self.assertEqual(action.res_model, 'whatsapp.send.message')
        self.template.action_unlink_sidebar_action()
        self.assertFalse(action.exists())

    def test_send_from_the_action_menu_renders_each_record_and_logs_on_its_chatter(self):
        Wizard = self.env['whatsapp.send.message'].with_user(self.user_a).with_context(
            active_model='res.partner', active_ids=[self.ana.id, self.luis.id, self.nobody.id],
            default_template_id=self.template.id)
        wizard = Wizard.create({})
        self.assertEqual(wizard.body, 'Hello Ana, we deliver to Madrid.')
        self.assertEqual(wizard.record_count, 3)
        wizard.action_send()
        self.assertEqual(sorted(self.remote_a.sent), [
            (ANA, 'Hello Ana, we deliver to Madrid.', None), (LUIS, 'Hello Luis, we deliver to your town.', None)])
        self.assertIn('No Phone', wizard.result_message)
        self.assertIn('skipped', wizard.result_message)
        note = self.ana.message_ids[0]
        self.assertIn('WhatsApp message sent through Account A', note.body)
        self.assertIn('we deliver to Madrid', note.body)

    def test_one_record_sends_the_text_as_edited(self):
        wizard = self.env['whatsapp.send.message'].with_user(self.user_a).with_context(
            active_model='res.partner', active_ids=[self.ana.id], default_template_id=self.template.id).create({})
        wizard.body = 'Hello Ana, we deliver tomorrow at 10:00.'
        wizard.action_send()
        self.assertEqual(self.remote_a.sent, [(ANA, 'Hello Ana, we deliver tomorrow at 10:00.', None)])

    def test_server_action_sends_even_for_a_user_without_whatsapp_rights(self):
        action = self.env['ir.actions.server'].create({
            'name': 'Greet', 'model_id': self.env['ir.model']._get('res.partner').id, 'state': 'whatsapp',
            'whatsapp_template_id': self.template.id})
        # Odoo runs a server action only for a user who may write its records: a contacts clerk
        employee = new_test_user(self.env, login='plain_employee', groups='base.group_user,base.group_partner_manager')
        action.with_user(employee).with_context(active_model='res.partner', active_ids=[self.ana.id]).run()
        self.assertEqual(self.remote_a.sent, [(ANA, 'Hello Ana, we deliver to Madrid.', None)])
        sent = self.env['whatsapp.message'].search([('configuration_id', '=', self.config_a.id), ('from_me', '=', True)])
        self.assertEqual((sent.chat_id, sent.status), (ANA, 'sent'))

    def test_server_action_run_again_by_a_retried_request_sends_once(self):
        """Odoo runs an HTTP request again after a serialization failure: what the first attempt
        sent (the provider call ledger committed it) is not sent twice, even when the record the
        action fired on is a new one in the new attempt; another firing, or request, sends again."""
        action = self.env['ir.actions.server'].create({
            'name': 'Greet', 'model_id': self.env['ir.model']._get('res.partner').id, 'state': 'whatsapp',
            'whatsapp_template_id': self.template.id})

        def fire(environ, partner):
            fake = SimpleNamespace(httprequest=SimpleNamespace(environ=environ))
            _request_stack.push(fake)
            try:
                action.with_context(active_model='res.partner', active_ids=[partner.id]).run()
            finally:
                _request_stack.pop()

        request = {}
        fire(request, self.ana)
        self.assertEqual(len(self.remote_a.sent), 1)
        # the attempt fails after the send: Odoo rolls back and runs the request again, where
        # the on-create action fires on the record created anew (another id)
        self.env.cr.postrollback.run()
        fire(request, self.ana.copy())
        self.assertEqual(len(self.remote_a.sent), 1)
        # a second firing in the same attempt is another message
        fire(request, self.ana)
        self.assertEqual(len(self.remote_a.sent), 2)
        # and so is the next request
        fire({}, self.ana)
        self.assertEqual(len(self.remote_a.sent), 3)

    def test_a_scheduled_action_run_again_after_a_failed_run_sends_once(self):
        """A scheduled action whose run fails after sending (its transaction lost: the process
        stopped, or its commit failed) keeps its next call, and Odoo runs it again: what the
        failed run sent is not sent again. Two firings in one run, and the next run, send."""
        action = self.env['ir.actions.server'].create({
            'name': 'Greet', 'model_id': self.env['ir.model']._get('res.partner').id, 'state': 'whatsapp',
            'whatsapp_template_id': self.template.id})
        cron = self.env['ir.cron'].create({
            'name': 'Greet every day', 'model_id': self.env['ir.model']._get('res.partner').id, 'state': 'code',
            'code': "env['ir.actions.server'].browse(%d).with_context(active_model='res.partner', "
                    "active_ids=%r).run()" % (action.id, (self.ana | self.luis).ids),
            'interval_number': 1, 'interval_type': 'days', 'numbercall': -1,
            'nextcall': datetime.datetime(2026, 12, 1, 8, 0)})

        def run():  # what Odoo's cron worker does for each run it is due for (ir.cron._process_job)
            self.env['ir.cron']._callback(cron.cron_name, cron.ir_actions_server_id.id, cron.id)

        run()
        self.assertEqual(sorted(number for number, _text, _media in self.remote_a.sent), [ANA, LUIS])
        # the run fails after its sends: its transaction is rolled back, its next call stays
        self.env.cr.postrollback.run()
        run()
        self.assertEqual(len(self.remote_a.sent), 2, 'the rerun sends nothing again')
        # a second firing in the same run (doall catching up) is another message
        run()
        self.assertEqual(len(self.remote_a.sent), 4)
        # and so is the next run, due a day later
        self.env.cr.postrollback.run()
        cron.nextcall = datetime.datetime(2026, 12, 2, 8, 0)
        run()
        self.assertEqual(len(self.remote_a.sent), 6)

    def test_opt_out_and_opt_in_by_keyword(self):
        stop = self.inbound('  stop ')
        self.config_a._process_webhook(providers.WebhookBatch(messages=[stop]))
        self.assertTrue(self.env['phone.blacklist'].search([('number', '=', '+' + ANA)]))
        self.assertEqual(self.remote_a.sent[-1][0], ANA)
        self.assertIn('START', self.remote_a.sent[-1][1])
        # a redelivered webhook answers nothing more
        self.config_a._process_webhook(providers.WebhookBatch(messages=[stop]))
        sends = len(self.remote_a.sent)
        self.assertEqual(sends, 1)
        # templates skip the number, with the reason
        lines, counts = self.template._send_to_records(self.ana | self.luis)
        self.assertEqual((counts['sent'], counts['skipped']), (1, 1))
        self.assertIn('opted out', '\n'.join(lines))
        self.assertEqual(len(self.remote_a.sent), sends + 1)
        # a person sending by hand is warned and may still send
        wizard = self.env['whatsapp.send.message'].create({
            'configuration_id': self.config_a.id, 'partner_ids': [(6, 0, self.ana.ids)], 'body': 'Your refund is done'})
        self.assertIn('+' + ANA, wizard.optout_warning)
        wizard.action_send()
        self.assertEqual(self.remote_a.sent[-1], ('+' + ANA, 'Your refund is done', None))
        # START takes it off the list
        self.config_a._process_webhook(providers.WebhookBatch(messages=[self.inbound('Start')]))
        self.assertFalse(self.env['phone.blacklist'].search([('number', '=', '+' + ANA)]))
        self.assertIn('Welcome back', self.remote_a.sent[-1][1])

    def test_redelivered_stop_answers_once_and_old_stop_in_history_counts_not(self):
        stop = self.inbound('STOP')
        self.config_a._process_webhook(providers.WebhookBatch(messages=[stop]))
        self.config_a._process_webhook(providers.WebhookBatch(messages=[stop]))
        self.assertEqual(len(self.remote_a.sent), 1)
        self.remote_a.messages.append(self.inbound('stop', number=LUIS, hours_ago=24 * 400))
        self.service.cron_sync_all_data(message_limit=0)
        self.assertFalse(self.env['phone.blacklist'].search([('number', '=', '+' + LUIS)]))
        # a sentence that merely contains the word is no keyword
        self.config_a._process_webhook(providers.WebhookBatch(messages=[self.inbound('please stop by the shop', LUIS)]))
        self.assertFalse(self.env['phone.blacklist'].search([('number', '=', '+' + LUIS)]))

    def test_templates_of_another_account_are_not_seen(self):
        shared = self.template.copy({'name': 'Shared', 'configuration_id': False})
        Template = self.env['whatsapp.template'].with_user(self.user_b)
        self.assertEqual(Template.search([('id', 'in', (self.template | shared).ids)]), shared.with_user(self.user_b))
        with self.assertRaises(AccessError):
            self.template.with_user(self.user_b).read(['body'])
        # the shared one sends from B's own account, never from A's
        wizard = self.env['whatsapp.send.message'].with_user(self.user_b).with_context(
            active_model='res.partner', active_ids=[self.luis.id], default_template_id=shared.id).create(
            {'configuration_id': self.config_b.id})
        wizard.action_send()
        self.assertEqual(self.remote_b.sent, [(LUIS, 'Hello Luis, we deliver to your town.', None)])
        self.assertEqual(self.remote_a.sent, [])
