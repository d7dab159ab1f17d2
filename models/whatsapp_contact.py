# -*- coding: utf-8 -*-
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers

_logger = logging.getLogger(__name__)

#: at most this many phone contacts are offered to a provider that finds hidden
#: numbers only from phone numbers (WHAPI GET /contacts/lids, 100 per request)
HIDDEN_NUMBER_CANDIDATES = 1000
#: hidden-number contacts a full sync asks the provider about, at most (one request each)
HIDDEN_NUMBERS_PER_RUN = 200


def is_hidden(key):
    """Whether a person key is a hidden number (``<digits>@lid``)."""
    return bool(key) and key.endswith('@lid')


class WhatsappContact(models.Model):
    """A person seen by one WhatsApp account (address book, chat or group)."""
    _name = 'whatsapp.contact'
    _inherit = ['whatsapp.sync.mixin', 'whatsapp.related.mixin']
    _description = 'WhatsApp Contact'
    _order = 'name, pushname, contact_id'
    _upsert_key_fields = ('configuration_id', 'contact_id')

    configuration_id = fields.Many2one(
        'whatsapp.configuration', string='Account', required=True, ondelete='cascade', index=True)
    contact_id = fields.Char(
        string='WhatsApp ID', required=True, index=True,
        help='Phone digits with country code, or <digits>@lid for a hidden number.')
    lid = fields.Char(
        string='Hidden Number ID', readonly=True, copy=False,
        help='The id WhatsApp uses for this person where it hides their number (<digits>@lid), once '
             'known to belong to this phone number. Messages and groups met under it land on this contact.')
    phone = fields.Char(help='E.164 when the number is valid, otherwise as WhatsApp gave it.')
    phone_valid = fields.Boolean(string='Valid Phone')
    name = fields.Char(help='Name in the account\'s address book.')
    pushname = fields.Char(string='Profile Name', help='The name the person set in WhatsApp.')
    is_business = fields.Boolean(string='Business Account')
    partner_id = fields.Many2one('res.partner', string='Partner', ondelete='set null', index=True)
    on_whatsapp = fields.Selection(
        [('unknown', 'Not Checked'), ('yes', 'On WhatsApp'), ('no', 'Not on WhatsApp')],
        string='On WhatsApp', default='unknown', readonly=True,
        help='Whether the number has WhatsApp, as the last number check said.')
    checked_at = fields.Datetime(string='Number Checked', readonly=True)
    can_refresh = fields.Boolean(related='configuration_id.can_refresh_contacts')
    group_member_ids = fields.One2many('whatsapp.group.member', 'contact_id', string='Group Memberships')
    message_ids = fields.One2many('whatsapp.message', 'contact_id', string='Messages')
    group_count = fields.Integer(compute='_compute_counts')
    message_count = fields.Integer(compute='_compute_counts')
    last_message_at = fields.Datetime(string='Last Message', compute='_compute_last_message')

    _sql_constraints = [
        ('contact_unique', 'UNIQUE(configuration_id, contact_id)',
         'A WhatsApp contact exists only once per account.'),
        ('contact_lid_unique', 'UNIQUE(configuration_id, lid)',
         'A hidden number belongs to one WhatsApp contact per account.'),
    ]


    def name_get(self):
        return [(contact.id, contact.name or contact.pushname or contact.phone or contact.contact_id)
                for contact in self]

    @api.model
    def _name_search(self, name, args=None, operator='ilike', limit=100, name_get_uid=None):
        args = list(args or [])
        if name:
            args = ['|', '|', '|', '|', ('name', operator, name), ('pushname', operator, name),
                    ('phone', operator, name), ('contact_id', operator, name), ('lid', operator, name)] + args
        return self._search(args, limit=limit, access_rights_uid=name_get_uid)

    def _compute_counts(self):
        self._count_related([('whatsapp.group.member', 'contact_id', 'group_count'),
                             ('whatsapp.message', 'contact_id', 'message_count')])

    def _compute_last_message(self):
        self._latest_message('contact_id', 'last_message_at')

    def action_open_messages(self):
        return self._action_open_related('whatsapp.message', _('Messages'), [('contact_id', '=', self.id)])

    def action_open_conversation(self):
        """This person's chat in Discuss, with its recent messages."""
        self.ensure_one()
        return self.env['whatsapp.message']._open_conversation(
            self.configuration_id, self.contact_id, 'contact', self.partner_id.name or self.name or self.pushname
            or self.phone)

    def action_open_groups(self):
        return self._action_open_related('whatsapp.group', _('Groups'), [('member_ids.contact_id', '=', self.id)])

    @api.model
    def _upsert(self, vals_list, update=True, create=True):
        """Every contact stored, however it was met, gets its partner link; a person
        met by hidden number and by phone number is one contact.

        The returned dict also holds, under ``(configuration id, <digits>@lid)``, the
        phone contact a hidden number belongs to, so callers that met the person by
        hidden number link to that contact.
        """
        vals_list, aliases, merged = self._settle_hidden_numbers(vals_list)
        by_key, stats = super()._upsert(vals_list, update=update, create=create)
        for alias, key in aliases.items():
            if key in by_key:
                by_key[alias] = by_key[key]
        # Only rows created or changed now can need a new link: a re-run with no remote
        # change must not search partners page after page. Partners created later
        # link themselves (res.partner create/write).
        changed = set(stats.changed_ids) | set(merged)
        if changed:
            self.browse(sorted(changed)).exists()._link_partners()
        return by_key, stats

    @api.model
    def _settle_hidden_numbers(self, vals_list):
        """Map hidden numbers to the phone contacts they belong to, before the upsert.

        * values keyed by a hidden number whose phone contact is known (its ``lid``)
          are stored on that contact, and the hidden key becomes an alias of it;
        * values of a phone contact carrying its ``lid``: a contact stored under that
          hidden number so far is merged into the phone contact (messages, group
          memberships and partner kept), or renamed to it when there is none yet.

        Costs one indexed query per batch, and only for batches that name a hidden
        number. Returns ``(values, {alias key: key}, ids of contacts merged or renamed)``.
        """
        hidden_keys, phone_keys = set(), set()
        for vals in vals_list:
            if is_hidden(vals.get('contact_id')):
                hidden_keys.add(vals['contact_id'])
            elif vals.get('lid'):
                hidden_keys.add(vals['lid'])
                phone_keys.add(vals['contact_id'])
        if not hidden_keys:
            return vals_list, {}, []
        self.flush(['contact_id', 'lid'])
        configurations = list({vals['configuration_id'] for vals in vals_list})
        self.env.cr.execute(
            'SELECT id, configuration_id, contact_id, lid FROM whatsapp_contact '
            'WHERE configuration_id = ANY(%s) AND (contact_id = ANY(%s) OR lid = ANY(%s))',
            (configurations, list(hidden_keys | phone_keys), list(hidden_keys)))
        by_contact, by_lid = {}, {}
        for row_id, configuration_id, contact_id, lid in self.env.cr.fetchall():
            by_contact[(configuration_id, contact_id)] = row_id
            if lid:
                by_lid[(configuration_id, lid)] = (row_id, contact_id)
        merged = []
        # phone contacts that carry their hidden number: record it, merge or rename
        for vals in vals_list:
            lid = vals.get('lid')
            if not lid or is_hidden(vals['contact_id']):
                continue
            configuration_id = vals['configuration_id']
            phone_id = by_contact.get((configuration_id, vals['contact_id']))
            hidden_id = by_contact.get((configuration_id, lid))
            owner = by_lid.get((configuration_id, lid))
            if owner and owner[0] != phone_id:
                # the hidden number moved to another phone contact: the newest answer wins
                self.browse(owner[0]).write({'lid': False})
                self.flush(['lid'])
            if hidden_id and phone_id and hidden_id != phone_id:
                self.browse(hidden_id)._merge_into(self.browse(phone_id))
                merged.append(phone_id)
            elif hidden_id and not phone_id:
                renamed = {'contact_id': vals['contact_id'], 'lid': lid}
                for name in ('phone', 'phone_valid'):
                    if name in vals:
                        renamed[name] = vals[name]
                self.browse(hidden_id).write(renamed)
                phone_id = hidden_id
                merged.append(hidden_id)
                _logger.info('WhatsApp contact %s: hidden number %s resolved to %s',
                             hidden_id, lid, vals['contact_id'])
            if phone_id and (not owner or owner[0] != phone_id):
                self.browse(phone_id).write({'lid': lid})
            by_contact.pop((configuration_id, lid), None)
            if phone_id:
                by_contact[(configuration_id, vals['contact_id'])] = phone_id
            by_lid[(configuration_id, lid)] = (phone_id, vals['contact_id'])
        # values met under a hidden number that belongs to a phone contact
        aliases = {}
        settled, rekeyed = [], []
        for vals in vals_list:
            key = (vals['configuration_id'], vals.get('contact_id'))
            owner = by_lid.get(key) if is_hidden(vals.get('contact_id')) else None
            if owner is None or not owner[1]:
                settled.append(vals)
                continue
            aliases[key] = (vals['configuration_id'], owner[1])
            # what a hidden-number sighting knows of a person is never more than its
            # phone contact knows: only names, and before the richer values of the batch
            rekeyed.append(dict({name: vals[name] for name in ('name', 'pushname') if vals.get(name)},
                                configuration_id=vals['configuration_id'], contact_id=owner[1]))
        return rekeyed + settled, aliases, merged

    def _merge_into(self, target):
        """Fold this contact (met by hidden number) into ``target`` (the same person
        by phone): its messages, group memberships, partner and names move, then it goes."""
        self.ensure_one()
        target.ensure_one()
        Member = self.env['whatsapp.group.member'].sudo()
        self.env['whatsapp.message'].flush(['contact_id'])
        self.env.cr.execute('UPDATE whatsapp_message SET contact_id = %s WHERE contact_id = %s',
                            (target.id, self.id))
        self.env['whatsapp.message'].invalidate_cache(['contact_id'])
        ranks = {'member': 0, 'admin': 1, 'superadmin': 2}
        theirs = {member.group_id.id: member for member in Member.search([('contact_id', '=', target.id)])}
        for membership in Member.search([('contact_id', '=', self.id)]):
            kept = theirs.get(membership.group_id.id)
            if kept is None:
                membership.write({'contact_id': target.id})
                continue
            if ranks.get(membership.role, 0) > ranks.get(kept.role, 0):
                kept.write({'role': membership.role})
            membership.unlink()
        values = {}
        if self.partner_id and not target.partner_id:
            values['partner_id'] = self.partner_id.id
        for name in ('name', 'pushname'):
            if self[name] and not target[name]:
                values[name] = self[name]
        lid = self.contact_id
        self.unlink()
        values['lid'] = lid
        target.write(values)
        _logger.info('WhatsApp contact %s: hidden number %s merged into %s', target.id, lid, target.contact_id)

    @api.model
    def _record_hidden_numbers(self, configuration, pairs):
        """Store what a provider said: each ``(hidden id, phone person key)`` is one person."""
        vals_list = []
        for lid, key in pairs or ():
            if not is_hidden(lid) or is_hidden(key):
                continue
            phone = providers.user_id_phone(key)
            vals_list.append({'configuration_id': configuration.id, 'contact_id': key, 'lid': lid,
                              'phone': phone.value or False, 'phone_valid': phone.valid})
        if vals_list:
            self._upsert(vals_list, update=False)

    @api.model
    def _resolve_hidden_contacts(self, configuration, client):
        """Ask the provider which phone numbers stand behind the account's hidden-number
        contacts, and merge each one it names into its phone contact (the daily full
        sync does this). Nothing is written when it names none. Returns how many."""
        if not configuration._provider_supports('resolve_hidden_numbers'):
            return 0
        hidden = self.search([('configuration_id', '=', configuration.id), ('contact_id', '=like', '%@lid')],
                             limit=HIDDEN_NUMBERS_PER_RUN, order='id desc')
        if not hidden:
            return 0
        try:
            found = client.resolve_hidden_numbers(hidden.mapped('contact_id'))
        except providers.ProviderError as error:
            _logger.info('WhatsApp account %s: hidden numbers not resolved (%s)', configuration.id, error)
            return 0
        self._record_hidden_numbers(configuration, found.items())
        return len(found)

    @api.model
    def _resolve_hidden_keys(self, configuration, keys, client):
        """Person keys to send for a group request: a hidden number whose phone number is
        known (stored, or found by the provider now) becomes that number; the others stay
        hidden, for the provider to refuse with its reason. Returns ``(keys, [(hidden id,
        phone key)])``."""
        hidden = [key for key in keys if is_hidden(key)]
        if not hidden:
            return list(keys), []
        rows = self.search_read([('configuration_id', '=', configuration.id), ('lid', 'in', hidden)],
                                ['lid', 'contact_id'])
        phone_of = {row['lid']: row['contact_id'] for row in rows}
        missing = [key for key in hidden if key not in phone_of]
        if missing and configuration._provider_supports('resolve_hidden_numbers'):
            candidates = self.search_read([('configuration_id', '=', configuration.id), ('lid', '=', False),
                                           ('phone_valid', '=', True)], ['contact_id'],
                                          limit=HIDDEN_NUMBER_CANDIDATES, order='write_date desc')
            try:
                found = client.resolve_hidden_numbers(missing, [row['contact_id'] for row in candidates])
            except providers.ProviderError as error:
                _logger.info('WhatsApp account %s: hidden numbers not resolved (%s)', configuration.id, error)
                found = {}
            self._record_hidden_numbers(configuration, found.items())
            phone_of.update(found)
        resolved = [(key, phone_of[key]) for key in hidden if key in phone_of]
        return list(dict.fromkeys(phone_of.get(key, key) for key in keys)), resolved

    @api.model
    def _result_lines(self, configuration, refused, resolved, refused_text):
        """Lines telling a user, person by person, what a group request left out and why,
        and which hidden numbers were matched to a phone number on the way."""
        keys = [key for key, _reason in refused] + [key for pair in resolved for key in pair]
        names = self._describe_people(configuration, keys)
        lines = []
        for lid, key in resolved:
            lines.append(_('%(person)s: hidden number %(lid)s matched to +%(phone)s.') % {
                'person': names.get(key, key), 'lid': lid, 'phone': key})
        for key, reason in refused:
            lines.append(refused_text % {'person': names.get(key, key), 'reason': reason})
        return lines

    @api.model
    def _describe_people(self, configuration, keys):
        """``{person key: "Name (key)"}`` for a result shown to a user."""
        names = {}
        contacts = self.search(['&', ('configuration_id', '=', configuration.id),
                                '|', ('contact_id', 'in', list(keys)), ('lid', 'in', list(keys))])
        for contact in contacts:
            for key in (contact.contact_id, contact.lid):
                if key in keys and contact.display_name != key:
                    names[key] = '%s (%s)' % (contact.display_name, key)
        return {key: names.get(key, key) for key in keys}

    def _link_partners(self):
        """Link contacts without a partner to the partner with the same E.164 number,
        or create one where the account asks for it."""
        candidates = self.filtered(lambda contact: not contact.partner_id and contact.phone_valid and contact.phone)
        if not candidates:
            return
        Partner = self.env['res.partner'].sudo()
        partner_by_phone = {}
        companies = candidates.mapped('configuration_id.company_id').ids
        for row in Partner.search_read([('whatsapp_phone', 'in', list(set(candidates.mapped('phone')))),
                                        ('company_id', 'in', [False] + companies)],
                                       ['whatsapp_phone', 'company_id'], order='id'):
            company = row['company_id'] and row['company_id'][0]
            partner_by_phone.setdefault((row['whatsapp_phone'], company), row['id'])
        def partner_of(contact):
            # a partner of the account's company, else a partner shared by all companies
            company = contact.configuration_id.company_id.id
            return partner_by_phone.get((contact.phone, company)) or partner_by_phone.get((contact.phone, False))

        to_create = candidates.filtered(
            lambda contact: not partner_of(contact) and contact.configuration_id.create_partners)
        if to_create:
            new_vals = {}
            for contact in to_create:
                new_vals.setdefault((contact.phone, contact.configuration_id.company_id.id), {
                    'name': contact.name or contact.pushname or contact.phone,
                    'mobile': contact.phone,
                    'company_id': contact.configuration_id.company_id.id,
                })
            keys = list(new_vals)
            for key, partner in zip(keys, Partner.create([new_vals[key] for key in keys])):
                partner_by_phone[(key[0], partner.company_id.id or False)] = partner.id
        by_partner = {}
        for contact in candidates:
            partner_id = partner_of(contact)
            if partner_id:
                by_partner.setdefault(partner_id, self.browse())
                by_partner[partner_id] |= contact
        for partner_id, contacts in by_partner.items():
            contacts.write({'partner_id': partner_id})

    def action_link_partner(self):
        """Link these contacts to partners now (by phone, creating them if the account says
        so), and say how many found one."""
        contacts = self._checked()
        contacts._link_partners()
        linked = contacts.filtered('partner_id')
        configuration = self.env['whatsapp.configuration']
        if not linked:
            return configuration._notify(_('No partner linked'), _(
                'No partner has the phone number of %s. Create the partner (or add the number to '
                'one), or let the account create partners (Webhook and Partners tab).')
                % ', '.join(contacts.mapped('display_name')[:5]), 'warning')
        return configuration._notify(_('Partners linked'), _('%(linked)d of %(total)d contacts have a partner.') % {
            'linked': len(linked), 'total': len(contacts)}, 'success')

    @api.model
    def _vals_from_record(self, configuration, record):
        """Values for a providers.Contact or providers.Member.

        Names absent from the provider's answer are left out rather than
        cleared: a group listing knows less of a person than the address book.
        """
        vals = {
            'configuration_id': configuration.id,
            'contact_id': record.contact_id,
            'phone_valid': bool(record.phone_valid),
        }
        if record.phone:
            vals['phone'] = record.phone
        for name in ('name', 'pushname'):
            value = getattr(record, name, None)
            if value:
                vals[name] = value
        if getattr(record, 'is_business', None) is not None:
            vals['is_business'] = bool(record.is_business)
        if getattr(record, 'lid', None) and not is_hidden(record.contact_id):
            vals['lid'] = record.lid
        return vals

    @api.model
    def _ensure(self, configuration, contact_ids, records=None):
        """Create the contacts met in passing (as senders, chats, members) once.

        Existing contacts are not touched. ``records`` may give, per contact
        id, a Member record whose name and phone seed the new contact.
        """
        records = records or {}
        vals_list = []
        for contact_id in set(contact_ids):
            if not contact_id:
                continue
            if contact_id in records:
                vals_list.append(self._vals_from_record(configuration, records[contact_id]))
            else:
                phone = providers.user_id_phone(contact_id)
                vals_list.append({'configuration_id': configuration.id, 'contact_id': contact_id,
                                  'phone': phone.value or False,
                                  'phone_valid': phone.valid})
        by_key, _stats = self._upsert(vals_list, update=False)
        return {key[1]: record.id for key, record in by_key.items()}

    # ------------------------------------------------------------------
    # Actions on the provider
    # ------------------------------------------------------------------
    def _checked(self):
        """These contacts as superuser, once the user's own rules allowed them."""
        self.check_access_rights('read')
        self.check_access_rule('read')
        return self.sudo()

    def action_refresh(self):
        """Re-read this contact from the provider now."""
        self.ensure_one()
        contact = self._checked()
        configuration = contact.configuration_id
        try:
            record = configuration._client_for('get_contact').get_contact(contact.contact_id)
        except providers.ProviderError as error:
            raise UserError(_('Could not refresh %(contact)s: %(error)s') % {
                'contact': contact.display_name, 'error': error})
        by_key, _stats = contact._upsert([contact._vals_from_record(configuration, record)])
        # a hidden number the provider resolved is now the contact of its phone number
        contact = by_key.get((configuration.id, record.contact_id)) or contact
        return configuration._notify(_('Contact refreshed'), contact.display_name, 'success')

    def action_check_numbers(self):
        """Check which of these contacts have WhatsApp: one batched call per account
        where the provider has one."""
        contacts = self._checked()
        results = []
        for configuration in contacts.mapped('configuration_id'):
            of_account = contacts.filtered(lambda contact: contact.configuration_id == configuration)
            checks = configuration._check_numbers(of_account.mapped(lambda c: c.phone or c.contact_id))
            now = fields.Datetime.now()
            for status in ('yes', 'no'):
                matching = of_account.filtered(lambda c: checks.get(c.phone or c.contact_id) == status)
                if matching:
                    matching.write({'on_whatsapp': status, 'checked_at': now})
            results.append(_('%(account)s: %(yes)d on WhatsApp, %(no)d not') % {
                'account': configuration.name,
                'yes': sum(1 for value in checks.values() if value == 'yes'),
                'no': sum(1 for value in checks.values() if value == 'no')})
        return self.env['whatsapp.configuration']._notify(_('Numbers checked'), '\n'.join(results), 'success')

    def action_remove_from_all_groups(self):
        """Remove this person from every group of its account, group by group, and
        report each group's answer; memberships the provider kept stay."""
        self.ensure_one()
        contact = self._checked()
        lines = []
        failed = False
        for membership in contact.group_member_ids:
            group = membership.group_id
            try:
                result = group.with_user(self.env.user)._change_participants([contact.contact_id], 'remove')
            except UserError as error:
                failed = True
                lines.append(str(error.args[0]))
                continue
            if result.refused:
                failed = True
                lines.append(_('%(group)s: refused (%(reason)s)') % {
                    'group': group.display_name, 'reason': result.refused[0][1]})
            else:
                lines.append(_('%s: removed') % group.display_name)
        if not lines:
            return contact.configuration_id._notify(
                _('Nothing to remove'), _('%s is in no group.') % contact.display_name, 'info')
        return contact.configuration_id._notify(
            _('Some removals failed') if failed else _('Removed from groups'), '\n'.join(lines),
            'warning' if failed else 'success')
