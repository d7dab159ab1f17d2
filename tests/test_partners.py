# -*- coding: utf-8 -*-
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestPartners(WhatsappCase):

    def test_contacts_link_to_partners_by_normalised_phone(self):
        spain = self.env.ref('base.es')
        national = self.env['res.partner'].create({'name': 'National', 'phone': '600 00 00 01', 'country_id': spain.id})
        international = self.env['res.partner'].create({'name': 'Intl', 'mobile': '+34 (600) 000-002'})
        self.remote_a.add_contacts(4)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        by_id = {c.contact_id: c for c in self.stored('whatsapp.contact', self.config_a)}
        self.assertEqual(by_id['34600000001'].partner_id, national)
        self.assertEqual(by_id['34600000002'].partner_id, international)
        self.assertFalse(by_id['34600000003'].partner_id, 'no partner is created unless the account says so')
        self.assertEqual(national.whatsapp_contact_ids, by_id['34600000001'])

    def test_partners_created_when_the_account_asks(self):
        self.config_a.create_partners = True
        self.remote_a.add_contacts(3)
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()
        contacts = self.stored('whatsapp.contact', self.config_a)
        self.assertTrue(all(contacts.mapped('partner_id')))
        self.assertEqual(contacts[0].partner_id.mobile, contacts[0].phone)
        partners = contacts.mapped('partner_id')
        service.cron_sync_all_data()
        self.assertEqual(self.stored('whatsapp.contact', self.config_a).mapped('partner_id'), partners,
                         're-sync creates no second partner')

    def test_inbound_messages_posted_once_on_the_partner(self):
        partner = self.env['res.partner'].create({'name': 'Chatty', 'mobile': '+34600000000'})
        self.config_a.group_ids = [(4, self.env.ref('base.group_user').id)]
        self.config_a.post_to_chatter = True
        self.config_a.chatter_since = '2026-01-01 00:00:00'
        messages = self.remote_a.add_messages(3)  # message 0 is from us, 1 and 2 are received
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()

        def notes():
            return self.env['mail.message'].search([
                ('model', '=', 'res.partner'), ('res_id', '=', partner.id), ('body', 'ilike', 'WhatsApp (')])
        self.assertEqual(len(notes()), 2)
        self.assertIn(messages[1].body, ' '.join(notes().mapped('body')))
        service.cron_sync_all_data(full=True)
        self.assertEqual(len(notes()), 2, 're-sync posts nothing twice')

    def test_chatter_posts_only_where_the_account_is_readable(self):
        with self.assertRaises(ValidationError):
            self.config_a.post_to_chatter = True  # the account is not shared with every employee
        self.config_a.write({'group_ids': [(4, self.env.ref('base.group_user').id)], 'post_to_chatter': True,
                             'chatter_since': '2026-01-01 00:00:00', 'company_id': self.env.company.id})
        other_company = self.env['res.company'].create({'name': 'Other Co'})
        foreign = self.env['res.partner'].create({'name': 'Foreign', 'mobile': '+34600000000',
                                                  'company_id': other_company.id})
        self.remote_a.add_messages(3)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        contact = self.stored('whatsapp.contact', self.config_a).filtered(lambda c: c.phone == '+34600000000')
        self.assertNotEqual(contact.partner_id, foreign, 'contacts link only to partners of their company')
        contact.partner_id = foreign  # even when linked by hand
        self.env['whatsapp.message'].search([('contact_id', '=', contact.id)])._post_on_partners()
        self.assertFalse(self.env['mail.message'].search([
            ('model', '=', 'res.partner'), ('res_id', '=', foreign.id), ('body', 'ilike', 'WhatsApp (')]))

    def test_no_chatter_post_when_disabled(self):
        partner = self.env['res.partner'].create({'name': 'Quiet', 'mobile': '+34600000000'})
        self.remote_a.add_messages(2)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertFalse(self.env['mail.message'].search([
            ('model', '=', 'res.partner'), ('res_id', '=', partner.id), ('body', 'ilike', 'WhatsApp (')]))

    def test_partner_smart_button_counts_messages(self):
        partner = self.env['res.partner'].create({'name': 'Counted', 'mobile': '+34600000000'})
        self.remote_a.add_messages(4)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(partner.whatsapp_message_count, 4)
        action = partner.action_open_whatsapp_messages()
        self.assertEqual(self.env['whatsapp.message'].search_count(action['domain']), 4)
