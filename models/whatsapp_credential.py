# -*- coding: utf-8 -*-
import secrets

import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

#: columns where versions before 14.0.1.1.0 kept the secrets, on whatsapp_configuration
LEGACY_COLUMNS = ('token', 'webhook_key', 'webhook_secret')


def new_webhook_key():
    return secrets.token_urlsafe(32)


class WhatsappCredential(models.Model):
    """An account's secrets, in a table only WhatsApp managers can reach.

    Keeping them off ``whatsapp.configuration`` is what makes them safe: no
    read, read_group spec, search, order, export or onchange on the account
    (which WhatsApp users may read) can touch a column that is not there.
    """
    _name = 'whatsapp.credential'
    _description = 'WhatsApp Account Credentials'
    _rec_name = 'configuration_id'

    configuration_id = fields.Many2one(
        'whatsapp.configuration', required=True, ondelete='cascade', index=True)
    token = fields.Char(string='API Token')
    webhook_key = fields.Char(required=True, default=lambda self: new_webhook_key(), index=True,
                              help='The unguessable part of the account\'s webhook URL.')
    webhook_secret = fields.Char(help='Authenticates the provider\'s webhook calls.')
    webhook_signed = fields.Boolean(
        readonly=True, copy=False,
        help='A webhook delivery signed with the secret has arrived: from then on, deliveries '
             'without a valid signature are refused.')

    _sql_constraints = [
        ('configuration_unique', 'UNIQUE(configuration_id)', 'An account has one set of credentials.'),
        ('webhook_key_unique', 'UNIQUE(webhook_key)', 'Two accounts cannot share a webhook key.'),
    ]

    @api.model
    def _adopt_legacy_columns(self):
        """Move secrets kept on the account table by earlier versions into this
        model, then drop those columns. Accounts that shared a webhook key (they
        all got the same default when the field was added) get one each. Safe to
        run twice: it does nothing once the columns are gone."""
        cr = self.env.cr
        cr.execute("""SELECT column_name FROM information_schema.columns
                       WHERE table_name = 'whatsapp_configuration' AND column_name IN %s""", (LEGACY_COLUMNS,))
        present = {row[0] for row in cr.fetchall()}
        if not present:
            return 0
        selected = ', '.join(name if name in present else 'NULL' for name in LEGACY_COLUMNS)
        cr.execute("""SELECT c.id, %s FROM whatsapp_configuration c
                       WHERE NOT EXISTS (SELECT 1 FROM whatsapp_credential w WHERE w.configuration_id = c.id)
                       ORDER BY c.id""" % selected)
        rows = cr.fetchall()
        cr.execute("SELECT webhook_key FROM whatsapp_credential")
        keys_taken = {row[0] for row in cr.fetchall()}
        renewed = 0
        for configuration_id, token, webhook_key, webhook_secret in rows:
            if not webhook_key or webhook_key in keys_taken:
                if webhook_key:
                    renewed += 1
                    cr.execute("UPDATE whatsapp_configuration SET webhook_registered_at = NULL WHERE id = %s",
                               (configuration_id,))
                webhook_key = new_webhook_key()
            keys_taken.add(webhook_key)
            cr.execute("""INSERT INTO whatsapp_credential
                              (configuration_id, token, webhook_key, webhook_secret,
                               create_uid, write_uid, create_date, write_date)
                          VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')""",
                       (configuration_id, token, webhook_key, webhook_secret, self.env.uid, self.env.uid))
        for name in sorted(present):
            cr.execute('ALTER TABLE whatsapp_configuration DROP COLUMN "%s"' % name)
        self.invalidate_cache()
        _logger.info('WhatsApp credentials of %d accounts moved to whatsapp.credential; %d shared webhook '
                     'keys renewed (those accounts must register their webhook again).', len(rows), renewed)
        return len(rows)
