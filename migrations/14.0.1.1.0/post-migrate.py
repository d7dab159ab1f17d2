# -*- coding: utf-8 -*-
"""14.0.1.1.0: account secrets move to whatsapp.credential (managers only)."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env['whatsapp.credential']._adopt_legacy_columns()
