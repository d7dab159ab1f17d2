# -*- coding: utf-8 -*-
from odoo.tests import HttpCase, tagged


@tagged('post_install', '-at_install')
class TestTours(HttpCase):
    """What a person does in the browser, in headless Chromium."""

    def test_sync_service_switches_hold(self):
        """Each Scheduled Syncs switch of the Sync Service form changes its cron and no other."""
        service = self.env['whatsapp.sync.service']._get_service()
        crons = {name: self.env.ref('whatsapp_integration.ir_cron_whatsapp_%s' % xml_id)
                 for name, xml_id in (('hourly', 'data_sync'), ('frequent', 'data_sync_frequent'),
                                      ('daily', 'full_sync_daily'))}
        crons['hourly'].active = True
        crons['frequent'].active = False
        crons['daily'].active = False
        self.start_tour('/web#model=whatsapp.sync.service&view_type=form&id=%d' % service.id,
                        'whatsapp_sync_service_switches', login='admin')
        self.assertEqual({name: cron.active for name, cron in crons.items()},
                         {'hourly': False, 'frequent': False, 'daily': True})
