# -*- coding: utf-8 -*-
import datetime
import ipaddress
import logging
import secrets
import urllib.parse

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import plaintext2html

from .. import providers
from .error_messages import explain
from .whatsapp_credential import new_webhook_key

_logger = logging.getLogger(__name__)

PROVIDER_SELECTION = [('whapi', 'WHAPI Cloud'), ('wassenger', 'Wassenger')]
#: kept in whatsapp.credential, which only WhatsApp managers can access
SECRET_FIELDS = ('token', 'webhook_key', 'webhook_secret')
#: changing these makes the account untested again
CREDENTIAL_FIELDS = ('token', 'provider', 'api_url', 'device_id')
#: changing these may point the account at another WhatsApp number
ACCOUNT_IDENTITY_FIELDS = ('provider', 'api_url', 'device_id')


#: changing these changes who may read the account, hence who is in its Discuss channels
DISCUSS_MEMBER_FIELDS = {'user_ids', 'group_ids', 'company_id'}

#: which account switch lets a message type download by itself
AUTO_KIND_FIELD = {
    'image': 'media_download_images', 'gif': 'media_download_images',
    'voice': 'media_download_audio', 'audio': 'media_download_audio',
    'document': 'media_download_documents',
    'video': 'media_download_video',
    'sticker': 'media_download_stickers',
}

class WhatsappConfiguration(models.Model):
    """One WhatsApp account: its provider, credentials and sync watermark."""
    _name = 'whatsapp.configuration'
    _inherit = ['whatsapp.related.mixin']
    _description = 'WhatsApp Account'
    _order = 'sequence, name, id'

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    provider = fields.Selection(PROVIDER_SELECTION, required=True, default='whapi')
    token = fields.Char(
        string='API Token', groups='whatsapp_integration.group_whatsapp_manager', copy=False,
        compute='_compute_credentials', inverse='_inverse_token', search='_search_token',
        help='WHAPI channel token, or Wassenger API key. Only WhatsApp managers can read it.')
    api_url = fields.Char(
        string='API Base URL', compute='_compute_api_url', store=True, readonly=False,
        help='Leave the default unless the provider gave you another endpoint.')
    device_id = fields.Char(
        string='Device ID', help='Wassenger only: the id of the WhatsApp device (24 hexadecimal characters).')
    user_ids = fields.Many2many(
        'res.users', 'whatsapp_configuration_res_users_rel', 'configuration_id', 'user_id',
        string='Allowed Users', help='WhatsApp users who see and sync this account.')
    group_ids = fields.Many2many(
        'res.groups', 'whatsapp_configuration_res_groups_rel', 'configuration_id', 'group_id',
        string='Allowed Groups', help='Members of these groups see and sync this account.')
    company_id = fields.Many2one('res.company', default=lambda self: self.env.company)

    connection_state = fields.Selection(
        [('draft', 'Not tested'), ('connected', 'Connected'), ('disconnected', 'Disconnected'),
         ('error', 'Error')],
        default='draft', readonly=True, copy=False,
        help='Disconnected: the provider reported the WhatsApp session logged out, offline or waiting '
             'for a QR code scan. Scheduled syncs wait until it reports the session back.')
    connection_message = fields.Char(readonly=True, copy=False)
    connection_detail = fields.Text(
        string='Technical Details', readonly=True, copy=False,
        help='What the provider or the network said at the last failed test or sync, for whoever debugs.')
    account_phone = fields.Char(readonly=True, copy=False)

    last_message_date = fields.Datetime(
        string='Messages Synced Up To', readonly=True, copy=False,
        help='WhatsApp time of the newest message stored; the next sync asks for messages from '
             'a few minutes before it.')
    last_sync_time = fields.Datetime(readonly=True, copy=False)
    last_sync_status = fields.Selection(
        [('success', 'Success'), ('error', 'Error'), ('skipped', 'Skipped')], readonly=True, copy=False)
    last_sync_message = fields.Text(readonly=True, copy=False)

    create_partners = fields.Boolean(
        string='Create Partners',
        help='Create a partner for every WhatsApp contact with a valid number that matches no partner. '
             'Off: contacts are only linked to existing partners with the same mobile or phone.')
    post_to_chatter = fields.Boolean(
        string='Log Messages on Partners',
        help='Post each message received from a linked contact on the partner\'s chatter, as a note. '
             'Notes on partners are readable by every employee who can open the partner, so the account '
             'must be shared with all internal users, and only partners of the account\'s company (or '
             'shared ones, in a single-company database) get the notes.')
    chatter_since = fields.Datetime(
        readonly=True, copy=False,
        help='Messages received since this time are posted on partners; set when the option is enabled.')
    webhook_key = fields.Char(
        groups='whatsapp_integration.group_whatsapp_manager', copy=False, readonly=True,
        compute='_compute_credentials', search='_search_webhook_key',
        help='The unguessable part of this account\'s webhook URL.')
    webhook_secret = fields.Char(
        groups='whatsapp_integration.group_whatsapp_manager', copy=False,
        compute='_compute_credentials', inverse='_inverse_webhook_secret', search='_search_webhook_secret',
        help='Authenticates the provider\'s calls: the WHAPI custom header value (filled by Register '
             'Webhook), or the Wassenger signing secret (paste it from Wassenger when its deliveries are '
             'signed).')
    webhook_url = fields.Char(string='Webhook URL', compute='_compute_webhook_url', groups='whatsapp_integration.group_whatsapp_manager')
    webhook_authentication = fields.Selection(
        [('url_key', 'URL key only (deliveries not signed)'), ('signature', 'URL key and signature')],
        compute='_compute_webhook_authentication', groups='whatsapp_integration.group_whatsapp_manager',
        help='How Odoo knows a webhook call comes from the provider. URL key only: the provider does not '
             'sign its calls (yet); the secret key in the webhook URL is the proof. URL key and signature: '
             'calls must also carry the secret (WHAPI: the header Odoo registered; Wassenger: from the first '
             'signed call on, every call must be signed).')
    webhook_registered_at = fields.Datetime(readonly=True, copy=False)

    media_download_images = fields.Boolean(string='Images', default=True)
    media_download_audio = fields.Boolean(string='Voice Notes and Audio', default=True)
    media_download_documents = fields.Boolean(string='Documents', default=True)
    media_download_video = fields.Boolean(string='Videos', default=False)
    media_download_stickers = fields.Boolean(string='Stickers', default=True)
    media_max_size_mb = fields.Integer(
        string='Largest Automatic Download (MB)', default=16,
        help='Bigger files, and kinds not ticked, are downloaded on demand from their message. 0: no limit.')
    media_max_age_days = fields.Integer(
        string='Download Files of the Last (Days)', default=30,
        help='Files of older messages (a whole-history import) are downloaded on demand only. 0: any age.')
    discuss_enabled = fields.Boolean(
        string='Conversations in Discuss',
        help='Each WhatsApp chat gets a private Discuss channel of the account\'s users when its first message '
             'arrives (or from Open Conversation). Writing in that channel sends to WhatsApp.')
    discuss_since = fields.Datetime(
        readonly=True, copy=False,
        help='Messages since this time are posted in Discuss; set when the option is enabled.')
    mark_read_in_whatsapp = fields.Boolean(
        string='Mark Read on WhatsApp',
        help='Reading a conversation in Discuss marks it read on the WhatsApp phone too (blue ticks).')
    can_mark_read = fields.Boolean(compute='_compute_capabilities')

    send_rate_per_minute = fields.Integer(
        string='Bulk Sends per Minute', default=20,
        help='A send to more than a few records is queued and sent at this pace: WhatsApp bans numbers that send '
             'too much too fast.')
    optout_keywords = fields.Char(
        string='Opt-out Keywords', default='STOP, STOP ALL, UNSUBSCRIBE, CANCEL, END, QUIT, BAJA, ARRET, ARRÊT, STOPP',
        help='A received message that is exactly one of these words (any case) puts its number on Odoo\'s phone '
             'blacklist: templates, automated actions and bulk sends skip it from then on.')
    optin_keywords = fields.Char(
        string='Opt-in Keywords', default='START, UNSTOP, SUBSCRIBE, ALTA',
        help='A received message that is exactly one of these words takes its number off the phone blacklist.')
    optout_reply = fields.Text(
        string='Opt-out Confirmation', translate=True,
        default=lambda self: _('You will not receive our messages anymore. Reply START to receive them again.'),
        help='Sent back after an opt-out keyword; empty: no answer.')
    optin_reply = fields.Text(
        string='Opt-in Confirmation', translate=True,
        default=lambda self: _('Welcome back! You will receive our messages again.'),
        help='Sent back after an opt-in keyword; empty: no answer.')

    fetch_invite_links = fields.Boolean(
        string='Fetch Invite Links',
        help='Fetch the invite link of newly synced groups, a limited number per sync to stay gentle '
             'with the provider.')
    can_manage_groups = fields.Boolean(compute='_compute_capabilities')
    can_use_invite_links = fields.Boolean(compute='_compute_capabilities')
    can_check_numbers = fields.Boolean(compute='_compute_capabilities')
    can_refresh_contacts = fields.Boolean(compute='_compute_capabilities')

    contact_count = fields.Integer(compute='_compute_counts')
    group_count = fields.Integer(compute='_compute_counts')
    message_count = fields.Integer(compute='_compute_counts')
    sync_log_ids = fields.One2many('whatsapp.sync.log', 'configuration_id', readonly=True)

    @api.constrains('provider', 'device_id', 'active')
    def _check_device_id(self):
        for config in self:
            if config.active and config.provider == 'wassenger' and not (config.device_id or '').strip():
                raise ValidationError(_('The Wassenger account "%s" needs its device ID.') % config.name)

    @api.constrains('post_to_chatter', 'group_ids')
    def _check_chatter_audience(self):
        everyone = self.env.ref('base.group_user')
        for config in self:
            if config.post_to_chatter and everyone not in config.group_ids:
                raise ValidationError(_(
                    '"Log Messages on Partners" shows message texts to every employee who can open the partner. '
                    'Add "Internal User" to the Allowed Groups of "%s" first, or leave the option off.') % config.name)

    @api.depends('provider')
    def _compute_api_url(self):
        for config in self:
            defaults = [providers.default_base_url(code) for code, _label in PROVIDER_SELECTION]
            if not config.api_url or config.api_url in defaults:
                config.api_url = providers.default_base_url(config.provider) if config.provider else False

    # ------------------------------------------------------------------
    # Secrets: stored in whatsapp.credential (managers only), shown here
    # ------------------------------------------------------------------
    def _credential(self):
        """This account's credentials row, created when missing; for server-side use only."""
        self.ensure_one()
        Credential = self.env['whatsapp.credential'].sudo()
        credential = Credential.search([('configuration_id', '=', self.id)], limit=1)
        return credential or Credential.create({'configuration_id': self.id})

    @api.depends_context('uid')
    def _compute_credentials(self):
        # Read as the current user, never as superuser: a caller without access to the
        # credentials (an onchange or an export reaching these fields) gets nothing.
        Credential = self.env['whatsapp.credential']
        by_config = {}
        if self.ids and Credential.check_access_rights('read', raise_exception=False):
            by_config = {credential.configuration_id.id: credential for credential in Credential.search(
                [('configuration_id', 'in', self.ids)])}
        for config in self:
            credential = by_config.get(config.id)
            for name in SECRET_FIELDS:
                config[name] = credential[name] if credential else False

    def _write_credential(self, name):
        # one field per inverse: the other secret may not be in the cache yet
        self.env['whatsapp.credential'].check_access_rights('write')
        for config in self:
            config._credential().write({name: config[name] or False})

    def _inverse_token(self):
        self._write_credential('token')

    def _inverse_webhook_secret(self):
        self._write_credential('webhook_secret')

    def _search_credential(self, name, operator, value):
        # as the current user: refused for anyone who may not read credentials
        credentials = self.env['whatsapp.credential'].search([(name, operator, value)])
        return [('id', 'in', credentials.mapped('configuration_id').ids)]

    def _search_token(self, operator, value):
        return self._search_credential('token', operator, value)

    def _search_webhook_key(self, operator, value):
        return self._search_credential('webhook_key', operator, value)

    def _search_webhook_secret(self, operator, value):
        return self._search_credential('webhook_secret', operator, value)

    @api.depends('provider')
    def _compute_webhook_authentication(self):
        signed = set(self.env['whatsapp.credential'].sudo().search(
            [('configuration_id', 'in', self.ids), ('webhook_signed', '=', True)]).mapped('configuration_id').ids)
        for config in self:
            provider_class = providers.PROVIDERS.get(config.provider)
            optional = bool(provider_class and provider_class.webhook_signature_optional)
            config.webhook_authentication = 'url_key' if optional and config.id not in signed else 'signature'

    def _authenticate_webhook(self, raw_body, headers):
        """Why a delivery to this account's URL (whose key already matched) is refused,
        or None when it is genuine.

        A signature that arrives is verified against the secret. A provider whose
        signatures are optional (the URL key authenticates) may send none, until
        one signed delivery has arrived: from then on, signatures are required.
        """
        self.ensure_one()
        credential = self._credential()
        state = providers.webhook_signature(self.provider, raw_body, headers, credential.webhook_secret)
        if state == providers.SIGNATURE_VALID:
            if not credential.webhook_signed:
                credential.write({'webhook_signed': True})
                _logger.info('WhatsApp account %s: its webhook deliveries are signed; from now on '
                             'unsigned ones are refused', self.id)
            return None
        if state == providers.SIGNATURE_ABSENT:
            if providers.PROVIDERS[self.provider].webhook_signature_optional and not credential.webhook_signed:
                return None
            return 'no signature, and this account requires one'
        if not credential.webhook_secret:
            return 'a signature came but no webhook secret is set (copy it from the provider into the account)'
        return 'the signature does not match the webhook secret'

    @api.model
    def _find_by_webhook_key(self, provider, key):
        """The account a webhook URL names, archived ones included (server side)."""
        credential = self.env['whatsapp.credential'].sudo().search([('webhook_key', '=', key)], limit=1)
        configuration = credential.configuration_id.sudo().with_context(active_test=False)
        return configuration if configuration.provider == provider else self.browse()

    def action_rotate_webhook_key(self):
        """A new webhook URL (managers): the old one stops working at once."""
        self.check_access_rights('write')
        self.check_access_rule('write')
        for config in self:
            config._credential().write({'webhook_key': new_webhook_key()})
        self.sudo().write({'webhook_registered_at': False})
        self.invalidate_cache(['webhook_key', 'webhook_url'])
        return self._notify(_('Webhook URL changed'), _(
            'The previous webhook URL no longer works. Register the webhook again (or paste the new '
            'URL in the provider\'s dashboard) so the provider calls the new one.'), 'warning')

    @api.depends('provider', 'webhook_key')
    def _compute_webhook_url(self):
        base_url = self.env['ir.config_parameter'].sudo().get_param('web.base.url', '')
        for config in self:
            if config.provider and config.webhook_key:
                config.webhook_url = '%s/whatsapp/webhook/%s/%s' % (
                    base_url.rstrip('/'), config.provider, config.webhook_key)
            else:
                config.webhook_url = False

    @api.depends('provider')
    def _compute_capabilities(self):
        for config in self:
            config.can_manage_groups = config._provider_supports('create_group', 'update_participants')
            config.can_use_invite_links = config._provider_supports('get_invite_code', 'revoke_invite_code')
            config.can_check_numbers = config._provider_supports('check_numbers')
            config.can_refresh_contacts = config._provider_supports('get_contact')
            config.can_mark_read = config._provider_supports('mark_read')

    def _opt_keyword(self, text):
        """'out', 'in' or None: whether ``text`` is exactly one of this account's keywords."""
        word = ' '.join((text or '').split()).strip(' .!').upper()
        if not word:
            return None
        for kind, keywords in (('out', self.optout_keywords), ('in', self.optin_keywords)):
            if word in {' '.join(keyword.split()).upper() for keyword in (keywords or '').split(',') if keyword.strip()}:
                return kind
        return None

    def _discuss_member_partners(self):
        """Partners of the users this account is shared with who may read it: its Discuss channels' members.

        Being in an allowed group is not enough: the user must also be a WhatsApp user of the
        account's company, or a member would read conversations the account's rules hide.
        """
        self.ensure_one()
        whatsapp_user = self.env.ref('whatsapp_integration.group_whatsapp_user')
        users = (self.user_ids | self.group_ids.users).filtered(
            lambda user: user.active and not user.share and whatsapp_user in user.groups_id
            and (not self.company_id or self.company_id in user.company_ids))
        return users.mapped('partner_id')

    def _discuss_allowed_partners(self):
        """Partners who may be in this account's Discuss channels: its members
        (:meth:`_discuss_member_partners`), WhatsApp managers of its company (they read every
        account) and the system (OdooBot), which creates the channels."""
        self.ensure_one()
        return self._discuss_member_partners() | self._company_managers().mapped('partner_id') \
            | self.env['res.users'].sudo().browse(SUPERUSER_ID).partner_id

    @api.model
    def _sync_all_discuss_members(self, users=None):
        """After a change to users or groups: every account with Discuss channels, for ``users``."""
        groups = self.env['mail.channel'].sudo().read_group(
            [('whatsapp_configuration_id', '!=', False)], ['whatsapp_configuration_id'], ['whatsapp_configuration_id'])
        self.browse([group['whatsapp_configuration_id'][0] for group in groups])._sync_discuss_members(users)

    def _sync_discuss_members(self, users=None):
        """Bring the members of the accounts' channels in step with who may read each account.

        Users newly allowed join every channel of the account; members who may no longer read
        it leave them. WhatsApp managers who joined a chat themselves (Open Conversation) stay
        while they may read the account. ``users``: only their memberships are compared (a
        change to some users need not read every membership of thousands of channels).
        """
        Membership = self.env['mail.channel.partner'].sudo()
        Channel = self.env['mail.channel'].sudo().with_context(active_test=False)
        manager = self.env.ref('whatsapp_integration.group_whatsapp_manager')
        concerned = users.with_context(active_test=False).mapped('partner_id') if users is not None else None
        for configuration in self.sudo():
            channel_ids = Channel.search([('whatsapp_configuration_id', '=', configuration.id)]).ids
            if not channel_ids:
                continue
            wanted = configuration._discuss_member_partners()
            domain = [('channel_id', 'in', channel_ids)]
            if concerned is not None:
                wanted &= concerned
                domain.append(('partner_id', 'in', concerned.ids))
            memberships = Membership.search(domain)
            staying = wanted | memberships.mapped('partner_id').filtered(lambda partner: any(
                user.active and manager in user.groups_id
                and (not configuration.company_id or configuration.company_id in user.company_ids)
                for user in partner.user_ids))
            memberships.filtered(lambda membership: membership.partner_id not in staying).unlink()
            present = {(membership.channel_id.id, membership.partner_id.id) for membership in memberships.exists()}
            Membership.create([{'channel_id': channel_id, 'partner_id': partner.id}
                               for partner in wanted for channel_id in channel_ids
                               if (channel_id, partner.id) not in present])
            Channel.invalidate_cache(['channel_partner_ids', 'channel_last_seen_partner_ids'], channel_ids)

    def _downloads_by_itself(self, message_type, file_size, message_date):
        """Whether a received file of this kind, size and age downloads without a click."""
        switch = AUTO_KIND_FIELD.get(message_type)
        if not switch or not self[switch]:
            return False
        if self.media_max_size_mb > 0 and file_size and file_size > self.media_max_size_mb * 1024 * 1024:
            return False
        if self.media_max_age_days > 0 and message_date:
            oldest = fields.Datetime.now() - datetime.timedelta(days=self.media_max_age_days)
            if fields.Datetime.to_datetime(message_date) < oldest:
                return False
        return True

    def _provider_supports(self, *operations):
        client_class = providers.PROVIDERS.get(self.provider)
        return bool(client_class) and all(operation in client_class.capabilities for operation in operations)

    def _client_for(self, operation):
        """This account's client, after checking the provider offers ``operation``:
        refused here with a clear message rather than failing at the provider."""
        self.ensure_one()
        if not self._provider_supports(operation):
            raise UserError(_('%(provider)s does not offer this operation (%(operation)s).') % {
                'provider': dict(PROVIDER_SELECTION).get(self.provider, self.provider), 'operation': operation})
        return self._make_provider_client()

    def _person_keys(self, contacts=None, phones_text=None):
        """Person keys of chosen contacts and typed numbers, one number per line.

        Numbers go through the one normaliser; an invalid one is refused
        before any request, naming it.
        """
        keys = list(contacts.mapped('contact_id')) if contacts else []
        invalid = []
        region = self.company_id.country_id.code or self.env.company.country_id.code
        for line in (phones_text or '').replace(',', '\n').splitlines():
            if not line.strip():
                continue
            result = providers.normalize_phone(line.strip(), default_region=region)
            if result.valid:
                keys.append(result.e164.lstrip('+'))
            else:
                invalid.append(line.strip())
        if invalid:
            raise UserError(_('Not valid phone numbers: %s. Use the international form, e.g. +34 600 111 222.')
                            % ', '.join(invalid))
        return list(dict.fromkeys(keys))

    def _check_numbers(self, numbers):
        """{number: 'yes' / 'no'} for the given numbers, in as few requests as the
        provider allows (its client batches where the API can)."""
        self.ensure_one()
        numbers = [number for number in dict.fromkeys(numbers) if number]
        if not numbers:
            return {}
        client = self._client_for('check_numbers')
        try:
            checks = client.check_numbers(numbers)
        except providers.ProviderError as error:
            raise UserError(_('%(account)s: the number check failed (%(error)s).') % {'account': self.name, 'error': error})
        return {check.input: 'yes' if check.exists else 'no' for check in checks}

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get('post_to_chatter'):
                vals.setdefault('chatter_since', fields.Datetime.now())
            if vals.get('discuss_enabled'):
                vals.setdefault('discuss_since', fields.Datetime.now())
        configurations = super().create(vals_list)
        for configuration in configurations:
            configuration._credential()  # every account gets its own webhook key
        return configurations

    def write(self, vals):
        if vals.get('post_to_chatter') and 'chatter_since' not in vals:
            vals = dict(vals, chatter_since=fields.Datetime.now())
        if vals.get('discuss_enabled') and 'discuss_since' not in vals:
            vals = dict(vals, discuss_since=fields.Datetime.now())
        changed = [name for name in CREDENTIAL_FIELDS if name in vals and any(
            (config.sudo()[name] or False) != (vals[name] or False) for config in self)]
        if changed and 'connection_state' not in vals:
            # New credentials are untested: scheduled syncs wait for Test Connection.
            vals = dict(vals, connection_state='draft', connection_message=False)
            if set(changed) & set(ACCOUNT_IDENTITY_FIELDS):
                # Possibly another WhatsApp number: its history is not ours to skip.
                vals['last_message_date'] = False
        result = super().write(vals)
        if set(vals) & DISCUSS_MEMBER_FIELDS:
            self._sync_discuss_members()
        if vals.get('create_partners'):
            self.env['whatsapp.contact'].sudo().search([
                ('configuration_id', 'in', self.ids), ('partner_id', '=', False), ('phone_valid', '=', True),
            ])._link_partners()
        return result

    def _compute_counts(self):
        self._count_related([('whatsapp.contact', 'configuration_id', 'contact_count'),
                             ('whatsapp.group', 'configuration_id', 'group_count'),
                             ('whatsapp.message', 'configuration_id', 'message_count')])

    # ------------------------------------------------------------------
    # Provider client
    # ------------------------------------------------------------------
    def _make_provider_client(self):
        """Build this account's provider client from its own credentials."""
        self.ensure_one()
        config = self.sudo()
        params = self.env['ir.config_parameter'].sudo()
        return providers.make_client(
            config.provider,
            token=config._credential().token,
            base_url=config.api_url or None,
            device_id=config.device_id or None,
            # Tunable without a code change (System Parameters). Large pages mean
            # fewer requests and fewer per-page queries on big accounts.
            timeout=float(params.get_param('whatsapp_integration.http_timeout', 30.0)),
            connect_timeout=float(params.get_param('whatsapp_integration.http_connect_timeout', 10.0)),
            page_size=int(params.get_param('whatsapp_integration.page_size', 500)),
            # requests of one account in flight at once (pages ahead, groups' members)
            concurrency=int(params.get_param('whatsapp_integration.provider_concurrency', 4)),
        )

    def action_test_connection(self):
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        try:
            info = self._make_provider_client().check_connection()
        except providers.ProviderError as error:
            sentence, detail = explain(self.env, error)
            self.sudo().write({'connection_state': 'error', 'connection_message': sentence,
                               'connection_detail': detail})
            return self._notify(_('Connection failed'), sentence, 'danger')
        values = {
            'connection_state': 'connected' if info.connected else 'error',
            'connection_message': info.detail or info.status,
            'connection_detail': False,
            'account_phone': info.phone or False,
        }
        self.sudo().write(values)
        if info.connected:
            return self._notify(_('Connected'), _('%(account)s is connected (%(who)s).') % {
                'account': self.name, 'who': info.phone or info.name or info.status}, 'success')
        return self._notify(_('Not ready'), info.detail or info.status, 'warning')

    @api.model
    def _notify(self, title, message, kind):
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {'title': title, 'message': message, 'type': kind, 'sticky': kind != 'success'},
        }

    def action_register_webhook(self):
        """Configure the provider to call this account's webhook URL (managers)."""
        self.ensure_one()
        self.check_access_rights('write')
        self.check_access_rule('write')
        config = self.sudo()
        unreachable = _unreachable_reason(config.webhook_url or '')
        if unreachable:
            return self._notify(_('Webhook not registered'), _(
                'The provider could not call %(url)s: %(reason)s. Set Settings > Technical > System Parameters > '
                'web.base.url to the public HTTPS address of this Odoo (a domain, a reverse proxy or, while '
                'testing, a tunnel), then register again.') % {'url': config.webhook_url, 'reason': unreachable},
                'warning')
        credential = config._credential()
        secret = credential.webhook_secret or secrets.token_urlsafe(32)
        try:
            registration = config._make_provider_client().register_webhook(config.webhook_url, secret)
        except providers.ProviderError as error:
            return self._notify(_('Webhook not registered'), _(
                'The provider refused: %s. If Odoo is not reachable from the internet yet, expose it '
                '(public URL or tunnel) and set the provider\'s webhook to:\n%s') % (error, config.webhook_url),
                'danger')
        # The secret deliveries are checked with: the one we chose (WHAPI) or the one the
        # provider issued; a provider that issued none keeps whatever a manager pasted.
        credential.write({'webhook_secret': registration.secret or credential.webhook_secret or False})
        config.write({'webhook_registered_at': fields.Datetime.now()})
        config.invalidate_cache(['webhook_secret', 'webhook_authentication'])
        if config.webhook_authentication == 'url_key':
            return self._notify(_('Webhook registered'), _(
                'The provider now calls %s. Its calls are accepted on the secret key in that URL; if the provider '
                'signs them, paste its signing secret into Webhook Secret: once a signed call has arrived, '
                'unsigned ones are refused.') % config.webhook_url, 'success')
        return self._notify(_('Webhook registered'), _('The provider now calls %s') % config.webhook_url, 'success')

    def _process_webhook(self, batch):
        """Store what a verified webhook payload carries, through the sync's own upserts."""
        self.ensure_one()
        counts = self.env['whatsapp.sync.service'].sudo()._store_webhook_batch(self.sudo(), batch)
        if batch.health is not None and self.sudo()._apply_health(batch.health):
            counts['health'] = 1
        return counts

    # ------------------------------------------------------------------
    # Account health reported by the provider
    # ------------------------------------------------------------------
    def _health_sentence(self, health):
        reasons = {
            'logout': _('the WhatsApp number was logged out of the provider'),
            'qr': _('the provider waits for the QR code to be scanned with the phone'),
            'offline': _('the WhatsApp session went offline'),
            'error': _('the provider reports an error on the channel'),
        }
        reason = reasons.get(health.reason, _('the WhatsApp session is down'))
        return _('Disconnected: %(reason)s (%(status)s). Reconnect the number in the provider\'s dashboard; '
                 'syncs resume when the provider reports it connected.') % {
            'reason': reason, 'status': health.status or health.reason}

    def _apply_health(self, health):
        """Mark the account as the provider reports its session (providers.AccountHealth);
        tell its managers in Discuss when that changes the account's state. Returns
        whether it did.

        A session back online reconnects an account that was disconnected or in error;
        an account never tested stays so (its credentials are still unchecked).
        """
        self.ensure_one()
        if health.connected:
            if self.connection_state not in ('disconnected', 'error'):
                return False
            values = {'connection_state': 'connected', 'connection_message': False, 'connection_detail': False}
            text = _('WhatsApp account %(account)s is connected again (%(status)s).') % {
                'account': self.name, 'status': health.status or health.reason}
        else:
            if self.connection_state == 'disconnected':
                return False
            sentence = self._health_sentence(health)
            values = {'connection_state': 'disconnected', 'connection_message': sentence,
                      'connection_detail': False}
            text = _('WhatsApp account %(account)s: %(sentence)s') % {'account': self.name, 'sentence': sentence}
        self.write(values)
        self._notify_managers(text)
        return True

    def _company_managers(self):
        """Active WhatsApp managers of the account's company: they read every account, and
        are told of its health."""
        managers = self.env.ref('whatsapp_integration.group_whatsapp_manager').sudo().users
        return managers.filtered(lambda user: user.active and not user.share and (
            not self.company_id or self.company_id in user.company_ids))

    def _notify_managers(self, text):
        """A direct message from OdooBot to each manager, in Discuss (one chat each, as
        Odoo's own bot writes)."""
        bot = self.env.ref('base.partner_root')
        Channel = self.env['mail.channel'].sudo().with_user(SUPERUSER_ID)
        body = plaintext2html(text)
        for user in self._company_managers():
            if user.partner_id == bot:
                continue
            info = Channel.channel_get([user.partner_id.id], pin=False)
            channel = Channel.browse(info['id'])
            channel.message_post(body=body, author_id=bot.id, message_type='comment',
                                 subtype_xmlid='mail.mt_comment')

    def _caption_sent_apart(self, mime_type):
        """True when this account's provider drops a caption on such a file: the text
        is then sent as a message of its own, right after the file."""
        self.ensure_one()
        provider_class = providers.PROVIDERS.get(self.provider)
        return bool(provider_class and provider_class.caption_sent_apart(mime_type))

    # ------------------------------------------------------------------
    # Stat buttons
    # ------------------------------------------------------------------
    def _open_related(self, model_name, title):
        return self._action_open_related(model_name, title, [('configuration_id', '=', self.id)],
                                         {'default_configuration_id': self.id})

    def action_open_contacts(self):
        return self._open_related('whatsapp.contact', _('Contacts'))

    def action_open_groups(self):
        return self._open_related('whatsapp.group', _('Groups'))

    def action_open_messages(self):
        return self._open_related('whatsapp.message', _('Messages'))

    # ------------------------------------------------------------------
    # Watermark
    # ------------------------------------------------------------------
    def _messages_since(self, overlap_minutes):
        """Time to ask messages from: the watermark less an overlap."""
        self.ensure_one()
        if not self.last_message_date:
            return None
        since = self.last_message_date - datetime.timedelta(minutes=overlap_minutes)
        return since.replace(tzinfo=datetime.timezone.utc)


def _unreachable_reason(url):
    """Why a provider on the internet cannot call ``url``, or None."""
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or '').lower()
    if parsed.scheme != 'https':
        return _('the address is not HTTPS')
    if not host or host == 'localhost' or host.endswith(('.localhost', '.local', '.internal', '.lan')):
        return _('%s is a local name') % (host or _('an empty host'))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
        return _('%s is a private address') % host
    return None
