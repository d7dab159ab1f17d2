# -*- coding: utf-8 -*-
"""The send wizard as the web client fills and saves it (``Form`` on the real view).

The web client saves only the fields its form shows and can write; a wizard created in
Python with every value at hand does not show what a browser user gets.
"""
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import Form

from .common import WhatsappCase

ANA = '34600000001'
LUIS = '34600000002'
VIEW = 'whatsapp_integration.whatsapp_send_message_view_form'


@tagged('post_install', '-at_install')
class TestSendWizardForm(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.user_a, self.user_b = self.account_users('form')
        Partner = self.env['res.partner']
        self.ana = Partner.create({'name': 'Ana', 'mobile': '+' + ANA, 'city': 'Madrid'})
        self.luis = Partner.create({'name': 'Luis', 'mobile': '+' + LUIS})
        self.template = self.env['whatsapp.template'].create({
            'name': 'Spring sale', 'configuration_id': self.config_a.id,
            'model_id': self.env['ir.model']._get('res.partner').id, 'recipient_field': 'mobile',
            'body': 'Hello ${object.name}, we deliver to ${object.city or "your town"}.'})

    def action_menu_form(self, partners):
        """The wizard as Action > Send WhatsApp (Spring sale) opens it on selected partners."""
        self.template.action_create_sidebar_action()
        action = self.template.sidebar_action_id
        context = dict(eval(action.context), active_model='res.partner', active_ids=partners.ids,
                       active_id=partners[:1].id)
        return Form(self.env['whatsapp.send.message'].with_user(self.user_a).with_context(context), view=VIEW)

    def test_action_menu_send_to_several_records(self):
        form = self.action_menu_form(self.ana | self.luis)
        self.assertEqual(form.record_count, 2)
        wizard = form.save()
        wizard.action_send()
        self.assertEqual(sorted(self.remote_a.sent), [
            (ANA, 'Hello Ana, we deliver to Madrid.', None), (LUIS, 'Hello Luis, we deliver to your town.', None)])

    def test_action_menu_send_to_one_record_as_edited(self):
        form = self.action_menu_form(self.ana)
        self.assertEqual(form.body, 'Hello Ana, we deliver to Madrid.')
        form.body = 'Hello ${object.name}, we deliver tomorrow.'  # edited, a placeholder kept
        form.save().action_send()
        self.assertEqual(self.remote_a.sent, [(ANA, 'Hello Ana, we deliver tomorrow.', None)])

    def generic_form(self, **context):
        return Form(self.env['whatsapp.send.message'].with_user(self.user_a).with_context(**context), view=VIEW)

    def test_template_chosen_in_the_wizard_is_rendered_per_partner(self):
        form = self.generic_form(active_model='res.partner', active_ids=(self.ana | self.luis).ids)
        form.configuration_id = self.config_a
        form.template_id = self.template
        form.save().action_send()
        self.assertEqual(sorted(self.remote_a.sent), [
            ('+' + ANA, 'Hello Ana, we deliver to Madrid.', None),
            ('+' + LUIS, 'Hello Luis, we deliver to your town.', None)])

    def test_template_placeholders_never_reach_a_typed_number(self):
        form = self.generic_form()
        form.configuration_id = self.config_a
        form.phone = '+34600000009'
        form.template_id = self.template
        wizard = form.save()
        with self.assertRaises(UserError):
            wizard.action_send()
        self.assertEqual(self.remote_a.sent, [])
        # a placeholder typed by hand is refused as well
        form = self.generic_form()
        form.configuration_id = self.config_a
        form.phone = '+34600000009'
        form.body = 'Hi {{ object.name }}'
        with self.assertRaises(UserError):
            form.save().action_send()
        self.assertEqual(self.remote_a.sent, [])

    def test_default_account_is_where_the_recipient_is_known_else_the_last_working_one(self):
        refused = self.env['whatsapp.configuration'].create({
            'name': 'AAA Old Number', 'provider': 'whapi', 'token': 'old-token', 'user_ids': [(4, self.user_a.id)]})
        refused.write({'connection_state': 'error'})
        self.config_b.user_ids = [(4, self.user_a.id)]
        self.env['whatsapp.contact'].create({'configuration_id': self.config_b.id, 'contact_id': LUIS,
                                            'phone': '+' + LUIS, 'partner_id': self.luis.id})
        # Luis is known on account B only
        form = self.generic_form(active_model='res.partner', active_ids=self.luis.ids)
        self.assertEqual(form.configuration_id, self.config_b)
        # Ana is known nowhere: the first account that works, not the one whose token is refused
        form = self.generic_form(active_model='res.partner', active_ids=self.ana.ids)
        self.assertEqual(form.configuration_id, self.config_a)
        # after a send from B, B is proposed
        form.configuration_id = self.config_b
        form.body = 'Hello'
        form.save().action_send()
        self.assertEqual(self.remote_b.sent, [('+' + ANA, 'Hello', None)])
        form = self.generic_form(active_model='res.partner', active_ids=self.ana.ids)
        self.assertEqual(form.configuration_id, self.config_b)

    def test_a_refused_token_is_said_in_one_plain_sentence(self):
        from odoo.addons.whatsapp_integration import providers
        self.remote_a.fail_with = providers.AuthenticationError(
            'WHAPI POST /messages/text: Unauthorized: invalid token', 401)
        form = self.generic_form(active_model='res.partner', active_ids=self.ana.ids)
        form.configuration_id = self.config_a
        form.body = 'Hello'
        wizard = form.save()
        wizard.action_send()
        self.assertIn('Ana: failed (The provider refused the API token.', wizard.result_message)
        self.assertNotIn('HTTP', wizard.result_message)
        self.assertNotIn('HTTP', wizard.message_ids.error_message)
        self.assertIn('Unauthorized', wizard.message_ids.error_detail)

    def discuss_posts(self, chat):
        channel = self.env['mail.channel'].search([('whatsapp_configuration_id', '=', self.config_a.id),
                                                   ('whatsapp_chat_id', '=', chat)])
        return self.env['mail.message'].search([('model', '=', 'mail.channel'), ('res_id', 'in', channel.ids),
                                                ('message_type', '=', 'comment')], order='id')

    def test_a_message_sent_from_the_wizard_is_in_its_chat_by_its_sender_once(self):
        self.config_a.discuss_enabled = True
        form = self.generic_form(active_model='res.partner', active_ids=self.ana.ids)
        form.configuration_id = self.config_a
        form.body = 'Your parcel left today'
        form.save().action_send()
        sent = self.env['whatsapp.message'].search([('configuration_id', '=', self.config_a.id),
                                                    ('from_me', '=', True)])
        self.assertEqual(sent.status, 'sent')
        posts = self.discuss_posts(ANA)
        self.assertEqual(len(posts), 1)
        self.assertIn('Your parcel left today', posts.body)
        self.assertEqual(posts.author_id, self.user_a.partner_id)
        self.assertEqual(posts.date, sent.message_date)
        # Open Conversation brings nothing twice
        sent.contact_id.with_user(self.user_a).action_open_conversation()
        self.assertEqual(self.discuss_posts(ANA), posts)

    def test_history_brought_in_by_open_conversation_keeps_its_time(self):
        from .common import Message
        import datetime
        when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=5)
        self.remote_a.messages.append(Message(
            message_id='in-form-1', chat_id=ANA, chat_type='contact', sender_id=ANA, sender_name='Ana',
            timestamp=when, message_type='text', raw_type='text', body='Where is my parcel?', status='delivered'))
        self.service.cron_sync_all_data(message_limit=0)
        self.config_a.discuss_enabled = True
        contact = self.env['whatsapp.contact'].search([('configuration_id', '=', self.config_a.id),
                                                       ('contact_id', '=', ANA)])
        contact.with_user(self.user_a).action_open_conversation()
        posts = self.discuss_posts(ANA)
        self.assertEqual(len(posts), 1)
        self.assertEqual(posts.date, when.replace(tzinfo=None))

    def test_a_queued_message_is_posted_by_who_queued_it(self):
        import time
        from odoo.addons.whatsapp_integration.models.whatsapp_outbox import IMMEDIATE_MAX
        self.config_a.discuss_enabled = True
        partners = self.env['res.partner'].create([
            {'name': 'Customer %d' % number, 'mobile': '+3460010%04d' % number} for number in range(IMMEDIATE_MAX + 1)])
        self.action_menu_form(partners).save().action_send()
        self.assertEqual(self.remote_a.sent, [])  # queued
        self.env['whatsapp.outbox']._send_until(time.monotonic() + 3600, sleep=lambda seconds: None)
        self.assertEqual(len(self.remote_a.sent), len(partners))
        channels = self.env['mail.channel'].search([('whatsapp_configuration_id', '=', self.config_a.id)])
        posts = self.env['mail.message'].search([('model', '=', 'mail.channel'), ('res_id', 'in', channels.ids),
                                                 ('message_type', '=', 'comment')])
        self.assertEqual(len(posts), len(partners))
        self.assertEqual(posts.mapped('author_id'), self.user_a.partner_id)
