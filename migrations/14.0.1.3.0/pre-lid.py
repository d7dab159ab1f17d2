# -*- coding: utf-8 -*-
"""14.0.1.3.0: a contact records the hidden number (``<digits>@lid``) WhatsApp uses
for it, once known, so a person met by hidden number and by phone is one contact.

The column starts empty: contacts stored so far under a hidden number are merged
into their phone contact when a sync, a group operation or a webhook first tells
which number it is. Created here, before the module's tables are updated, so the
unique constraint on (configuration_id, lid) is added to an existing column.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute('ALTER TABLE whatsapp_contact ADD COLUMN IF NOT EXISTS lid VARCHAR')
