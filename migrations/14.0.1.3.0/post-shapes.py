# -*- coding: utf-8 -*-
"""14.0.1.3.0 (message shapes): WHAPI action messages are no longer messages.

An edit, deletion, vote or disappearing-messages setting that WHAPI sends as a
message of type ``action`` used to be stored as an empty message of type Other.
Those rows, and their posts in Discuss, are removed: they carry nothing but the id of
the message they acted on, and the next sync applies what they stand for to it.
Reactions stay: they were already stored as reactions.
"""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    actions = env['whatsapp.message'].with_context(active_test=False).search([
        ('raw_type', '=', 'action'), ('message_type', '=', 'unknown')])
    if 'mail_message_id' in actions._fields:
        actions.mapped('mail_message_id').unlink()
    actions.unlink()
