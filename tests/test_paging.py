# -*- coding: utf-8 -*-
"""Wassenger history through servers that cut page sizes without saying so.

The real Wassenger client talks HTTP to ``fake_provider_server``, which serves
Wassenger's listings as bare arrays with no total and cuts ``size`` silently: at
the published maxima (messages 50), at 20 on every listing, or honouring up to
500. The whole-history sync, the hourly (incremental) sync after 120 new
messages and the daily full sync must each store exactly the provider's data.
"""
from odoo.tests import tagged

from . import test_resilience
from .common import ServedCase
from .fake_provider_server import FakeAccount

TOKEN = 'tokP-wassenger-S3cr3t-0123456789abcdef'
DEVICE = '5f0c0ffee0c0ffee0c0ffe11'
# more contacts, groups and members than one page of 20 or 50, messages over many pages
SIZES = dict(contacts=131, groups=23, members=27, messages=630, days=20)


@tagged('post_install', '-at_install')
class TestWassengerPaging(ServedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.served_account('Paging', 'wassenger', TOKEN, DEVICE)

    # the ground-truth comparison of the resilience tests
    rows = test_resilience.TestResilience.rows
    stored_messages = test_resilience.TestResilience.stored_messages
    assertMatchesTruth = test_resilience.TestResilience.assertMatchesTruth

    def remote(self, page_cap=None, whole_arrays=False):
        remote = self.server.add(FakeAccount('wassenger', TOKEN, seed=21, device_id=DEVICE, **SIZES))
        remote.page_cap = page_cap
        remote.whole_arrays = whole_arrays
        return remote

    def sync(self, **arguments):
        self.env['whatsapp.sync.service'].cron_sync_all_data(**arguments)
        self.env['base'].flush()
        log = self.env['whatsapp.sync.log'].search([('configuration_id', '=', self.config.id)], limit=1)
        self.assertEqual(log.state, 'success', log.error_message)
        return log

    def check_syncs(self, remote):
        # the whole history (the wizard's "full history")
        log = self.sync(full=True, message_limit=0)
        self.assertMatchesTruth(self.config, remote)
        self.assertEqual(log.messages_created, 630)
        self.assertEqual(log.members_created, len(remote.truth()['members']))
        # the hourly run after 120 new messages
        remote.append_messages(120)
        log = self.sync()
        self.assertMatchesTruth(self.config, remote)
        self.assertEqual(log.messages_created, 120)
        # the daily full run: new messages, a recent one changed, a renamed contact, a member gone
        remote.append_messages(70)
        remote.mutate_message(SIZES['messages'] - 3, status='read', body='edited on the phone')
        remote.rename_contact(5, 'Renamed on the phone')
        remote.remove_member(4, 22)  # on the second page of 20
        log = self.sync(full=True)
        self.assertMatchesTruth(self.config, remote)
        self.assertEqual(log.messages_created, 70)
        self.assertEqual(log.members_removed, 1)

    def test_server_capping_at_the_published_sizes(self):
        """Messages cut at 50 (Wassenger's tool reference), the other listings at 500."""
        self.check_syncs(self.remote())

    def test_server_capping_every_listing_at_20(self):
        self.check_syncs(self.remote(page_cap=20))

    def test_server_honouring_500(self):
        self.check_syncs(self.remote(page_cap=500))

    def test_groups_and_participants_as_whole_arrays(self):
        """The other reading the sources leave open: no paging on those two."""
        self.check_syncs(self.remote(page_cap=20, whole_arrays=True))
