# -*- coding: utf-8 -*-
"""14.0.1.2.0: files of messages are downloaded into Odoo.

Messages stored before carry a media id or link but no file state: they become
On Demand, so each shows its Download File button, and the download step
does not fetch a whole history of files by itself.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        UPDATE whatsapp_message
           SET media_state = 'on_demand'
         WHERE ((media_id IS NOT NULL AND media_id != '') OR (media_url IS NOT NULL AND media_url != ''))
           AND (media_state IS NULL OR media_state = 'none')
    """)
