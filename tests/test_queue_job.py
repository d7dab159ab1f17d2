# -*- coding: utf-8 -*-
import os
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.whatsapp_integration import providers

from .common import WhatsappCase


@tagged('post_install', '-at_install')
class TestQueueJob(WhatsappCase):
    """With OCA queue_job installed, syncs run as one job per account. The CI runs
    this class in its pass with queue_job installed; without it there is nothing
    to test here."""

    def setUp(self):
        super().setUp()
        if 'queue.job' not in self.env.registry:
            self.skipTest('OCA queue_job is not installed in this database')
        os.environ.pop('QUEUE_JOB__NO_DELAY', None)  # restored by the common setUp's patch
        from odoo.addons.queue_job.job import Job
        self.Job = Job
        self.remote_a.add_contacts(3)
        self.remote_b.add_contacts(2)
        self.config_a.user_ids = [(4, self.user.id)]
        self.Service = type(self.env['whatsapp.sync.service'])

    def jobs(self):
        return self.env['queue.job'].search([('model_name', '=', 'whatsapp.sync.service')], order='id')

    def perform(self, job_record):
        self.Job.load(self.env, job_record.uuid).perform()

    def scheduler(self):
        with patch.object(self.Service, '_in_web_request', lambda self: False):
            self.env['whatsapp.sync.service'].with_context(whatsapp_sync_commit=True).cron_sync_all_data()

    def test_a_scheduled_run_enqueues_one_job_per_account_and_each_job_syncs_its_account(self):
        self.scheduler()
        jobs = self.jobs()
        self.assertEqual(len(jobs), 2)
        self.assertEqual(set(jobs.mapped('channel')), {'root.whatsapp'})
        self.assertEqual(set(jobs.mapped('method_name')), {'_job_sync_account'})
        self.assertEqual(set(jobs.mapped('state')), {'pending'})
        self.assertFalse(self.stored('whatsapp.contact', self.config_a), 'nothing synced inside the cron')
        for job in jobs:
            self.perform(job)
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 3)
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_b)), 2)
        self.assertEqual(self.last_log(self.config_a).trigger, 'cron')
        self.assertEqual(self.service.sync_status, 'success')
        self.assertEqual(self.service.last_run_log_ids.configuration_id, self.config_a | self.config_b)

    def test_a_second_request_for_a_waiting_account_collapses_into_the_first(self):
        with patch.object(self.Service, '_in_web_request', lambda self: True):
            action = self.service.with_user(self.user).manual_sync_all_data()
            self.service.with_user(self.user).manual_sync_all_data()
        self.assertIn('background', action['params']['title'])
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, 'one waiting job per account and request kind')
        self.assertIn('whatsapp-sync:%d:' % self.config_a.id, jobs.identity_key)
        self.perform(jobs)
        self.assertEqual(len(self.stored('whatsapp.contact', self.config_a)), 3)
        self.assertFalse(self.stored('whatsapp.contact', self.config_b), 'the user may sync account A only')
        notification = self.env['mail.message'].search(
            [('model', '=', 'whatsapp.sync.service'), ('subject', '=', 'WhatsApp sync finished')], limit=1)
        self.assertIn(self.user.partner_id, notification.partner_ids)

    def test_transient_errors_are_retried_a_refused_token_never(self):
        from odoo.addons.queue_job.exception import RetryableJobError
        self.scheduler()
        job_a = self.jobs().filtered(lambda job: job.args[0] == self.config_a.id)
        self.remote_a.fail_with = providers.TransientError('connection reset', status=503)
        with self.assertRaises(RetryableJobError) as caught:
            self.perform(job_a)
        self.assertEqual(caught.exception.seconds, 60, 'the first retry waits a minute')
        self.assertEqual(self.last_log(self.config_a).state, 'error', 'the failed try is logged')
        self.remote_a.fail_with = providers.AuthenticationError('token refused', status=401)
        self.perform(job_a)  # no retry: a person has to fix the token
        self.assertEqual(self.config_a.connection_state, 'error')
