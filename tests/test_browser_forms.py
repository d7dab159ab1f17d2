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
