# -*- coding: utf-8 -*-
"""Times as the reader's clock shows them: one zone, the user's, in every text the
server writes (titles, summaries, the scheduled syncs)."""
from odoo import fields


def local_time_text(record, moment, seconds=False):
    """A stored (UTC) time in the reader's time zone (UTC without one), with its zone."""
    if not moment:
        return False
    local = fields.Datetime.context_timestamp(record, moment)
    return '%s %s' % (local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M'), local.tzname() or 'UTC')
