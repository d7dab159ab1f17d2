# -*- coding: utf-8 -*-
"""Opt-out and opt-in by keyword: a customer who writes STOP is not messaged again."""
import datetime
import logging

from odoo import fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

#: a keyword counts in messages of the last hours only: a whole-history import must not
#: replay a STOP written years ago (and the START after it, in the wrong order)
KEYWORD_HOURS = 24


class WhatsappMessage(models.Model):
    _inherit = 'whatsapp.message'

    def _apply_opt_keywords(self):
        """Put on (or take off) Odoo's phone blacklist the numbers whose new message is exactly a
        keyword of their account, and answer with the account's confirmation.

        Called once per message, when it is first stored (a re-sync or a redelivered
        webhook does not answer twice); the answer never repeats (provider call ledger)
        and never stops the message from being stored.
        """
        recent = fields.Datetime.now() - datetime.timedelta(hours=KEYWORD_HOURS)
        candidates = self.sudo().filtered(lambda message: not message.from_me and message.chat_type == 'contact'
                                          and message.message_date >= recent and len(message.body or '') < 40
                                          and message.chat_id and message.chat_id.isdigit()
                                          and message.message_type in ('text', 'link_preview'))
        Blacklist = self.env['phone.blacklist'].sudo()
        for message in candidates.sorted(lambda message: (message.message_date, message.id)):
            configuration = message.configuration_id
            kind = configuration._opt_keyword(message.body)
            if not kind:
                continue
            number = '+' + message.chat_id
            if kind == 'out':
                Blacklist._add([number])
            else:
                Blacklist._remove([number])
            _logger.info('WhatsApp account %s: %s opted %s', configuration.id, number, kind)
            reply = configuration.optout_reply if kind == 'out' else configuration.optin_reply
            if reply:
                message._answer(reply, 'opt%s:%d:%s' % (kind, configuration.id, message.message_id))

    def _answer(self, text, once_key):
        """Send ``text`` back to this message's chat and store it; a failure is logged, not raised."""
        configuration = self.configuration_id.sudo()
        client = configuration._make_provider_client()
        try:
            vals, error = self._send_vals(configuration, client, self.chat_id, body=text, once_key=once_key,
                                          contact_id=self.contact_id.id)
        except UserError as error:  # the ledger refuses an answer in flight: the message is stored anyway
            _logger.warning('WhatsApp account %s: no confirmation sent to %s (%s)', configuration.id, self.chat_id,
                            error)
            return
        finally:
            client.close()
        self._upsert([vals])
        if error:
            _logger.warning('WhatsApp account %s: the confirmation to %s failed (%s)', configuration.id,
                            self.chat_id, error)
