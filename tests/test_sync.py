# -*- coding: utf-8 -*-
import datetime

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.whatsapp_integration import providers

from .common import BASE_TIME, WhatsappCase, media, member


@tagged('post_install', '-at_install')
class TestSync(WhatsappCase):

    def _fill_both(self):
        self.remote_a.add_contacts(60)
        self.remote_a.add_group('120363000000000001@g.us', 'Team A', [
            member('34600000001', 'superadmin'), member('34600000002', 'admin'), member('34600000003')])
        self.remote_a.add_messages(70, chat_id='34600000001')
        self.remote_b.add_contacts(5, prefix='4477009')
        self.remote_b.add_group('120363000000000009@g.us', 'Team B', [member('44770090001')])
        self.remote_b.add_messages(4, chat_id='44770090001', prefix='b')

    def test_two_accounts_keep_their_data_apart(self):
        self._fill_both()
        self.env['whatsapp.sync.service'].cron_sync_all_data(message_limit=0)
        Contact = self.env['whatsapp.contact']
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 60)
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_b)), 5)
        self.assertFalse(Contact.search([('configuration_id', '=', self.config_b.id),
                                         ('contact_id', 'like', '3460000%')]))
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 70)
        self.assertEqual(len(self.stored('whatsapp.message', self.config_b)), 4)
        group_b = self.stored('whatsapp.group', self.config_b)
        self.assertEqual(group_b.name, 'Team B')
        self.assertEqual(group_b.member_ids.contact_id.configuration_id, self.config_b)
        # each account was asked with its own client only
        self.assertIn('contacts', self.remote_a.requests)
        self.assertIn('contacts', self.remote_b.requests)

    def test_records_are_complete(self):
        self.remote_a.add_contacts(3)
        self.remote_a.add_group('120363000000000001@g.us', 'Team', [
            member('34600000000', 'superadmin'), member('34600000001', 'admin'), member('34600000002')])
        messages = self.remote_a.add_messages(2, chat_id='120363000000000001@g.us', chat_type='group',
                                              sender_id='34600000001')
        messages[0].message_type = 'image'
        messages[0].media = media()
        messages[0].body = 'caption 😀 مرحبا'
        messages[1].message_type = 'system'
        messages[1].status = 'played'
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        contact = self.stored('whatsapp.contact', self.config_a).filtered(lambda c: c.contact_id == '34600000001')
        self.assertEqual((contact.name, contact.pushname, contact.phone), ('Contact 1', 'Push 1', '+34600000001'))
        group = self.stored('whatsapp.group', self.config_a)
        self.assertEqual(group.invite_code, 'code-Team')
        roles = {m.contact_id.contact_id: m.role for m in group.member_ids}
        self.assertEqual(roles, {'34600000000': 'superadmin', '34600000001': 'admin', '34600000002': 'member'})
        stored = {m.message_id: m for m in self.stored('whatsapp.message', self.config_a)}
        image = stored[messages[0].message_id]
        self.assertEqual(image.message_type, 'image')
        self.assertEqual(image.body, 'caption 😀 مرحبا')
        self.assertEqual(image.media_mime_type, 'image/jpeg')
        self.assertEqual(image.group_id, group)
        self.assertEqual(image.contact_id, contact)
        self.assertEqual(image.message_date, datetime.datetime(2026, 11, 1, 12, 0))
        self.assertEqual(stored[messages[1].message_id].message_type, 'system')
        self.assertEqual(stored[messages[1].message_id].status, 'played')

    def test_first_sync_imports_the_most_recent_limit(self):
        self.remote_a.add_messages(120)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        stored = self.stored('whatsapp.message', self.config_a)
        self.assertEqual(len(stored), 50)
        self.assertEqual(min(stored.mapped('message_date')), datetime.datetime(2026, 11, 1, 13, 10))
        self.assertEqual(self.config_a.last_message_date, datetime.datetime(2026, 11, 1, 13, 59))

    def test_full_sync_default_limit_is_200(self):
        self.remote_a.add_messages(260)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True)
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 200)

    def test_incremental_sync_skips_nothing_after_a_burst(self):
        self.remote_a.add_messages(30)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 30)
        # a burst far larger than the message limit, and one message inside the overlap window
        self.remote_a.add_messages(500, start_minutes=30, prefix='burst')
        self.remote_a.add_messages(1, start_minutes=27, prefix='late')
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        stored = self.stored('whatsapp.message', self.config_a)
        self.assertEqual(len(stored), 531)
        self.assertEqual(set(stored.mapped('message_id')), {m.message_id for m in self.remote_a.messages})
        self.assertEqual(self.config_a.last_message_date,
                         (BASE_TIME + datetime.timedelta(minutes=529)).replace(tzinfo=None))

    def test_full_history_with_limit_zero(self):
        self.remote_a.add_messages(333)
        self.env['whatsapp.sync.service'].cron_sync_all_data(full=True, message_limit=0)
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 333)

    def test_rerun_with_no_remote_change_writes_nothing(self):
        self._fill_both()
        self.remote_a.list_members = False
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data(full=True, message_limit=0)
        with self.assertNoWrites('whatsapp.contact', 'whatsapp.group', 'whatsapp.group.member',
                                 'whatsapp.message'):
            service.cron_sync_all_data(full=True, message_limit=0)
        log = self.last_log(self.config_a)
        self.assertEqual((log.contacts_created, log.contacts_updated, log.contacts_unchanged), (0, 0, 60))
        self.assertEqual((log.messages_created, log.messages_updated, log.messages_unchanged), (0, 0, 70))
        self.assertEqual(log.state, 'success')
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 60)

    def test_remote_changes_are_updated_only_where_changed(self):
        self.remote_a.add_contacts(10)
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()
        self.remote_a.contacts[3].name = 'Renamed'
        service.cron_sync_all_data()
        log = self.last_log(self.config_a)
        self.assertEqual((log.contacts_created, log.contacts_updated, log.contacts_unchanged), (0, 1, 9))
        renamed = self.stored('whatsapp.contact', self.config_a).filtered(lambda c: c.name == 'Renamed')
        self.assertEqual(renamed.contact_id, self.remote_a.contacts[3].contact_id)

    def test_members_removed_remotely_are_removed_and_contacts_not_duplicated(self):
        group = self.remote_a.add_group('120363000000000001@g.us', 'Team', [
            member('34600000001', 'admin'), member('34600000002'), member('34600000003')])
        self.remote_a.add_messages(3, chat_id=group.group_id, chat_type='group', sender_id='34600000002')
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data(full=True)
        stored_group = self.stored('whatsapp.group', self.config_a)
        self.assertEqual(len(stored_group.member_ids), 3)
        # the sender was met as a member and as a sender: one contact
        self.assertEqual(len(self.env['whatsapp.contact'].search([
            ('configuration_id', '=', self.config_a.id), ('contact_id', '=', '34600000002')])), 1)
        group.members = [member('34600000001', 'superadmin'), member('34600000002')]
        service.cron_sync_all_data(full=True)
        roles = {m.contact_id.contact_id: m.role for m in stored_group.member_ids}
        self.assertEqual(roles, {'34600000001': 'superadmin', '34600000002': 'member'})
        self.assertEqual(self.last_log(self.config_a).members_removed, 1)
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 3)

    def test_members_fetched_per_group_when_listing_lacks_them(self):
        self.remote_a.list_members = False
        self.remote_a.add_group('120363000000000001@g.us', 'One', [member('34600000001')])
        self.remote_a.add_group('120363000000000002@g.us', 'Two', [member('34600000002'), member('34600000003')])
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.group.member', self.config_a)), 3)
        self.assertEqual(self.remote_a.requests.count('group'), 2)
        # hourly runs do not re-read members of groups already synced; the daily full sync does
        service.cron_sync_all_data()
        self.assertEqual(self.remote_a.requests.count('group'), 2)
        service.cron_sync_all_data(full=True)
        self.assertEqual(self.remote_a.requests.count('group'), 4)

    def test_failing_account_does_not_stop_the_other(self):
        self._fill_both()
        self.remote_b.fail_with = providers.AuthenticationError('Invalid or missing API token', 401)
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 60)
        log_b = self.last_log(self.config_b)
        self.assertEqual(log_b.state, 'error')
        self.assertIn('refused the API token', log_b.error_message)
        self.assertIn('Invalid or missing API token', log_b.error_details)
        self.assertNotIn('secret-token-b', log_b.error_message + log_b.error_details)
        self.assertEqual(self.config_b.last_sync_status, 'error')
        self.assertEqual(self.last_log(self.config_a).state, 'success')
        self.assertEqual(service._get_service().sync_status, 'error')
        self.assertIn('Account B', service._get_service().last_sync_message)

    def test_failure_midway_keeps_what_was_stored_and_holds_the_watermark(self):
        self.remote_a.add_messages(100)
        self.remote_a.fail_messages_after_pages = 2
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data(message_limit=0)
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 50)
        self.assertFalse(self.config_a.last_message_date, 'watermark must not pass unstored data')
        self.assertEqual(self.last_log(self.config_a).state, 'error')
        self.remote_a.fail_messages_after_pages = None
        service.cron_sync_all_data(message_limit=0)
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 100)
        self.assertTrue(self.config_a.last_message_date)

    def test_skipped_items_are_counted(self):
        self.remote_a.add_contacts(2)
        self.remote_a.skipped_contacts = [providers.Skipped('contact', 'missing id', None)]
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        log = self.last_log(self.config_a)
        self.assertEqual(log.skipped_count, 1)
        self.assertIn('missing id', log.skipped_details)
        self.assertEqual(log.contacts_created, 2)
        self.assertEqual(log.state, 'success')

    def test_hostile_data_is_stored(self):
        messages = self.remote_a.add_messages(3, chat_id='123456789012345@lid')
        messages[0].body = 'x' * 10000
        messages[1].body = 'nul\x00byte'
        messages[2].message_type = 'unknown'
        messages[2].raw_type = 'brand_new_type'
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        stored = {m.message_id: m for m in self.stored('whatsapp.message', self.config_a)}
        self.assertEqual(len(stored[messages[0].message_id].body), 10000)
        self.assertEqual(stored[messages[1].message_id].body, 'nulbyte')
        self.assertEqual(stored[messages[2].message_id].raw_type, 'brand_new_type')
        lid = self.stored('whatsapp.contact', self.config_a)
        self.assertEqual(lid.contact_id, '123456789012345@lid')
        self.assertFalse(lid.phone_valid)

    def test_status_never_moves_backwards(self):
        message = self.remote_a.add_messages(1)[0]
        message.status = 'read'
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data()
        message.status = 'delivered'
        service.cron_sync_all_data(full=True)
        self.assertEqual(self.stored('whatsapp.message', self.config_a).status, 'read')
        message.status = 'played'
        service.cron_sync_all_data(full=True)
        self.assertEqual(self.stored('whatsapp.message', self.config_a).status, 'played')

    def test_lock_prevents_a_concurrent_run(self):
        self.remote_a.add_contacts(3)
        with self.registry.cursor() as other_cr:
            other_cr.execute('SELECT pg_try_advisory_lock(%s, %s)', (0x57A5, self.config_a.id))
            self.assertTrue(other_cr.fetchone()[0])
            try:
                self.env['whatsapp.sync.service'].cron_sync_all_data()
            finally:
                other_cr.execute('SELECT pg_advisory_unlock(%s, %s)', (0x57A5, self.config_a.id))
        log = self.last_log(self.config_a)
        self.assertEqual(log.state, 'skipped')
        self.assertIn('already running', log.error_message)
        self.assertFalse(self.stored('whatsapp.contact', self.config_a))
        # the other account was not blocked
        self.assertEqual(self.last_log(self.config_b).state, 'success')
        # and once the lock is free the account syncs
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 3)

    def test_archived_account_is_not_synced(self):
        self.remote_a.add_contacts(2)
        self.config_a.active = False
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertFalse(self.remote_a.requests)

    @mute_logger('odoo.sql_db', 'odoo.addons.whatsapp_integration.models.whatsapp_sync_account')
    def test_lock_released_after_a_database_error(self):
        from unittest.mock import patch
        self.remote_a.add_messages(3)
        self.remote_b.add_messages(2, prefix='b')
        Service = type(self.env['whatsapp.sync.service'])

        original = Service._store_messages

        def broken(service, configuration, log, records):
            if configuration == self.config_a:
                service.env.cr.execute('SELECT 1 / 0')
            return original(service, configuration, log, records)
        with patch.object(Service, '_store_messages', broken):
            self.env['whatsapp.sync.service'].cron_sync_all_data()
        log = self.last_log(self.config_a)
        self.assertEqual(log.state, 'error', 'the page rolled back; the error is recorded')
        self.assertIn('database error', log.error_message)
        self.assertEqual(self.last_log(self.config_b).state, 'success', 'the other account still synced')
        with self.registry.cursor() as other_cr:
            other_cr.execute('SELECT pg_try_advisory_lock(%s, %s)', (0x57A5, self.config_a.id))
            self.assertTrue(other_cr.fetchone()[0], 'the account lock was released')
            other_cr.execute('SELECT pg_advisory_unlock(%s, %s)', (0x57A5, self.config_a.id))

    def test_future_timestamp_does_not_carry_the_watermark_away(self):
        message = self.remote_a.add_messages(1)[0]
        message.timestamp = message.timestamp.replace(year=2099)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 1)
        self.assertLess(self.config_a.last_message_date.year, 2099)

    def test_statuses_in_one_batch_keep_the_furthest_and_deleted_is_final(self):
        Message = self.env['whatsapp.message']
        base = {'configuration_id': self.config_a.id, 'message_id': 'm1', 'message_date': '2026-11-01 12:00:00'}
        Message._upsert([dict(base, status='read'), dict(base, status='delivered')])
        stored = self.stored('whatsapp.message', self.config_a)
        self.assertEqual(stored.status, 'read')
        Message._upsert([dict(base, status='deleted')])
        Message._upsert([dict(base, status='played')])
        self.assertEqual(stored.status, 'deleted')

    def test_members_kept_when_some_participants_are_unreadable(self):
        group = self.remote_a.add_group('120363000000000001@g.us', 'Team', [
            member('34600000001'), member('34600000002')])
        service = self.env['whatsapp.sync.service']
        service.cron_sync_all_data(full=True)
        group.members = [member('34600000001')]
        group.skipped = [providers.Skipped('member', 'participant without id', None)]
        service.cron_sync_all_data(full=True)
        self.assertEqual(len(self.stored('whatsapp.group', self.config_a).member_ids), 2,
                         'the unreadable participant may be the one not listed')
        self.assertEqual(self.last_log(self.config_a).skipped_count, 1)

    def test_new_credentials_need_a_new_test(self):
        self.remote_a.add_messages(2)
        self.env['whatsapp.sync.service'].cron_sync_all_data()
        self.config_a.token = 'rotated'
        self.assertEqual(self.config_a.connection_state, 'draft')
        self.assertTrue(self.config_a.last_message_date, 'a rotated token is the same account')
        self.config_b.device_id = 'fedcba9876543210fedcba98'
        self.assertFalse(self.config_b.last_message_date)
