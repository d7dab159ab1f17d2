# -*- coding: utf-8 -*-
import logging
import uuid

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

_logger = logging.getLogger(__name__)


class IrActionsServer(models.Model):
    """A "Send WhatsApp" server action: usable in automated actions (base_automation) and
    scheduled actions, e.g. "when a sale order is confirmed, send the customer its confirmation"."""
    _inherit = 'ir.actions.server'

    state = fields.Selection(selection_add=[('whatsapp', 'Send WhatsApp')], ondelete={'whatsapp': 'cascade'})
    whatsapp_template_id = fields.Many2one(
        'whatsapp.template', string='WhatsApp Template', ondelete='restrict',
        domain="[('model_id', '=', model_id)]")

    @api.constrains('state', 'model_id', 'whatsapp_template_id')
    def _check_whatsapp_template(self):
        for action in self.filtered(lambda action: action.state == 'whatsapp'):
            if not action.whatsapp_template_id:
                raise ValidationError(_('Choose the WhatsApp template the action sends.'))
            if action.whatsapp_template_id.model_id != action.model_id:
                raise ValidationError(_('The WhatsApp template applies to %(template)s, not to %(action)s.') % {
                    'template': action.whatsapp_template_id.model_id.name, 'action': action.model_id.name})

    def _run_action_whatsapp_multi(self, eval_context=None):
        """Send the template to the records the action runs on; skipped and failed sends
        are logged on each record's chatter and in the server log, never raised: an
        automated action must not undo the business event that fired it."""
        records = (eval_context or {}).get('records') or (eval_context or {}).get('record')
        if not records or self._is_recompute():
            return False
        # configured by an administrator, it sends whoever's action fired it (a salesperson
        # confirming an order need not be a WhatsApp user)
        template = self.whatsapp_template_id.sudo()
        try:
            lines, counts = template._send_or_queue(
                records.sudo(), firing_key='action:%d:%s' % (self.id, _firing_key(self.env.cr)))
        except UserError as error:
            _logger.warning('Server action %s (%s): nothing sent: %s', self.id, self.name, error)
            return False
        if counts.get('failed') or counts['skipped']:
            _logger.info('Server action %s (%s): %s', self.id, self.name, '; '.join(lines))
        return False


def _firing_key(cr):
    """What tells one firing of an action from another in a request, and is the same when
    Odoo runs the request again after a serialization failure: what the first attempt sent
    is then not sent twice (the provider call ledger answers).

    The request's key, and the firing's rank in its attempt: a retried attempt fires its
    actions in the same order (its new records may get new ids and names, so neither is
    part of the key), and the rank starts again at its rollback.
    """
    if not request:  # a scheduled action or a shell: nothing runs it again as it was
        return uuid.uuid4().hex
    state = request.httprequest.environ.setdefault(
        'whatsapp.firings', {'key': uuid.uuid4().hex, 'count': 0, 'armed': False})
    if not state['armed']:
        state['armed'] = True

        def start_again():  # the attempt failed: the next one fires in the same order
            state.update(count=0, armed=False)

        def disarm():  # committed: a later rollback must find its callback again
            state['armed'] = False
        cr.postrollback.add(start_again)
        cr.postcommit.add(disarm)
    state['count'] += 1
    return '%s:%d' % (state['key'], state['count'])
