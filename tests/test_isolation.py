# -*- coding: utf-8 -*-
"""Company and owner isolation, as low-privilege users."""
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .common import WhatsappCase

SYNCED_MODELS = ('whatsapp.contact', 'whatsapp.group', 'whatsapp.group.member', 'whatsapp.message',
                 'whatsapp.sync.log')


@tagged('post_install', '-at_install')
class TestCompanyIsolation(WhatsappCase):
    """Account B belongs to company B and is shared with a group that a
    company-A-only user is in: that user still sees and acts on nothing of it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env['res.company'].create({'name': 'WhatsApp Company B'})
        cls.config_a.company_id = cls.company_a
        cls.config_b.company_id = cls.company_b
        cls.config_a.user_ids = [(4, cls.user.id)]
        cls.config_b.group_ids = [(4, cls.env.ref('whatsapp_integration.group_whatsapp_user').id)]
        cls.user.write({'company_id': cls.company_a.id, 'company_ids': [(6, 0, cls.company_a.ids)]})
        cls.manager_a = new_test_user(cls.env, login='wa_manager_a', company_id=cls.company_a.id,
                                      groups='whatsapp_integration.group_whatsapp_manager')

    def _sync_both(self):
        self.remote_a.add_contacts(2)
        self.remote_a.add_group('120363000000000001@g.us', 'Group A', [])
        self.remote_a.add_messages(2)
        self.remote_b.add_contacts(2, prefix='4477009')
        self.remote_b.add_group('120363000000000002@g.us', 'Group B', [])
        self.remote_b.add_messages(2, chat_id='447700900000', prefix='b')
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)

    def test_shared_account_of_another_company_stays_invisible(self):
        self._sync_both()
        for user in (self.user, self.manager_a):
            env = self.env(user=user)
            self.assertFalse(env['whatsapp.configuration'].search([('id', '=', self.config_b.id)]))
            for model in SYNCED_MODELS:
                records = env[model].search([])
                self.assertFalse(records.filtered(lambda r: r.configuration_id == self.config_b),
                                 '%s of company B visible to %s' % (model, user.login))
            self.assertTrue(env['whatsapp.contact'].search([]))
        with self.assertRaises(AccessError):
            self.stored('whatsapp.message', self.config_b)[0].with_user(self.user).read(['body'])
        # still visible to a user of both companies
        self.user.company_ids = [(4, self.company_b.id)]
        self.assertTrue(self.env(user=self.user)['whatsapp.message'].search(
            [('configuration_id', '=', self.config_b.id)]))

    def test_no_action_on_another_companys_records(self):
        self._sync_both()
        contact_b = self.stored('whatsapp.contact', self.config_b)[0]
        group_b = self.stored('whatsapp.group', self.config_b)[0]
        calls_before = len(self.remote_b.requests)
        with self.assertRaises(AccessError):
            contact_b.with_user(self.user).action_refresh()
        with self.assertRaises(AccessError):
            group_b.with_user(self.user).action_refresh()
        with self.assertRaises(AccessError):
            self.env['whatsapp.sync.wizard'].with_user(self.user).create(
                {'sync_type': 'contacts', 'configuration_id': self.config_b.id}).sync_data()
        self.assertEqual(len(self.remote_b.requests), calls_before)


@tagged('post_install', '-at_install')
class TestWizardOwnership(WhatsappCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_a.user_ids = [(4, cls.user.id)]
        cls.other_user = new_test_user(cls.env, login='wa_user_2', groups='whatsapp_integration.group_whatsapp_user')
        cls.config_a.user_ids = [(4, cls.other_user.id)]

    def test_a_wizard_is_readable_by_its_author_only(self):
        wizards = {
            'whatsapp.send.message': {'configuration_id': self.config_a.id, 'body': 'Private offer 42',
                                      'phone': '+34600000001'},
            'whatsapp.sync.wizard': {'sync_type': 'contacts', 'configuration_id': self.config_a.id},
            'whatsapp.group.create': {'configuration_id': self.config_a.id, 'name': 'Secret project'},
        }
        for model, values in wizards.items():
            values = {name: value for name, value in values.items() if name in self.env[model]._fields}
            wizard = self.env[model].with_user(self.user).create(values)
            self.assertTrue(wizard.read())
            self.assertFalse(self.env[model].with_user(self.other_user).search([('id', '=', wizard.id)]))
            with self.assertRaises(AccessError):
                wizard.with_user(self.other_user).read()
            with self.assertRaises(AccessError):
                wizard.with_user(self.manager).read()
        group = self.env['whatsapp.group'].create({'configuration_id': self.config_a.id,
                                                   'group_id': '120363000000000009@g.us', 'name': 'G'})
        participants = self.env['whatsapp.group.participants'].with_user(self.user).create({'group_id': group.id})
        with self.assertRaises(AccessError):
            participants.with_user(self.other_user).read()
