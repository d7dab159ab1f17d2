# -*- coding: utf-8 -*-
from odoo import SUPERUSER_ID, api


def post_init_hook(cr, registry):
    """Create the sync crons through the ORM, as the Create Cron Jobs button does.

    They are not XML records so that an administrator's edits (interval,
    active flag) survive upgrades; the same idempotent method serves both paths.
    """
    env = api.Environment(cr, SUPERUSER_ID, {})
    env['whatsapp.sync.service']._ensure_cron_jobs()


def uninstall_hook(cr, registry):
    """Remove the templates' Action menu entries: created at run time, they have no XML id
    of the module, and would otherwise stay on other models' records, opening a wizard
    that no longer exists."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env['whatsapp.template'].with_context(active_test=False).search([]).action_unlink_sidebar_action()
