# -*- coding: utf-8 -*-
import logging
import uuid
import weakref

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
                records.sudo(), firing_key='action:%d:%s' % (self.id, _firing_key(self.env)))
        except UserError as error:
            _logger.warning('Server action %s (%s): nothing sent: %s', self.id, self.name, error)
            return False
        if counts.get('failed') or counts['skipped']:
            _logger.info('Server action %s (%s): %s', self.id, self.name, '; '.join(lines))
        return False


# {job cursor: {scheduled action run: firing state}}: the firings of a scheduled action's
# run, counted in its job's transaction (a rerun has a transaction of its own)
_CRON_FIRINGS = weakref.WeakKeyDictionary()


def _firing_key(env):
    """What tells one firing of an action from another, and is the same when Odoo runs it
    again after a failed attempt: what the first attempt sent is then not sent twice (the
    provider call ledger answers).

    In a request, the request's key; in a scheduled action's run, the run's key (its cron
    and the time the run was due for, see ``ir.cron._callback``). Then the firing's rank in
    its attempt: a retried attempt fires its actions in the same order (its new records may
    get new ids and names, so neither is part of the key), and the rank starts again at its
    rollback. Elsewhere (a shell), nothing runs it again as it was: a key of its own.
    """
    cron_run = env.context.get('whatsapp_cron_run')
    if cron_run:
        state = _CRON_FIRINGS.setdefault(env.cr, {}).setdefault(
            cron_run, {'key': cron_run, 'count': 0, 'armed': False})
    elif request:
        state = request.httprequest.environ.setdefault(
            'whatsapp.firings', {'key': uuid.uuid4().hex, 'count': 0, 'armed': False})
    else:
        return uuid.uuid4().hex
    if not state['armed']:
        state['armed'] = True

        def start_again():  # the attempt failed: the next one fires in the same order
            state.update(count=0, armed=False)

        def disarm():  # committed: a later rollback must find its callback again
            state['armed'] = False
        env.cr.postrollback.add(start_again)
        env.cr.postcommit.add(disarm)
    state['count'] += 1
    return '%s:%d' % (state['key'], state['count'])
