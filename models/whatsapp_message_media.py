# -*- coding: utf-8 -*-
"""The files of messages: downloaded after the sync, never inside it.

A message with a file is stored whatever happens to the file; its
``media_state`` says where the file is. The download step claims one message
at a time (a short committed write, so no row or account lock is held while
bytes travel), streams the file into the filestore through a temporary file
(never the whole file in memory), and links one ``ir.attachment`` to it.
"""
import datetime
import hashlib
import logging
import mimetypes
import os
import tempfile
import time

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import providers
from .error_messages import explain

_logger = logging.getLogger(__name__)

MEDIA_STATES = [
    ('none', 'No File'),
    ('waiting', 'To Download'),
    ('downloading', 'Downloading'),
    ('on_demand', 'On Demand'),
    ('downloaded', 'Downloaded'),
    ('failed', 'Failed'),
    ('expired', 'No Longer Available'),
]
#: a failed download is tried again this many times, waiting RETRY_MINUTES * 2**attempt
MAX_ATTEMPTS = 5
RETRY_MINUTES = 5
#: a claim older than this was lost with its worker (killed, restarted): claim it again
CLAIM_MINUTES = 15
#: what a person may download with one click (System Parameter whatsapp_integration.media_max_on_demand_mb)
ON_DEMAND_MAX_MB = 100
#: file name extensions of the usual WhatsApp media types (mimetypes' own table varies by system)
EXTENSIONS = {'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp', 'image/gif': '.gif',
              'video/mp4': '.mp4', 'audio/ogg': '.ogg', 'audio/mpeg': '.mp3', 'audio/mp4': '.m4a',
              'audio/aac': '.aac', 'audio/wav': '.wav', 'audio/x-wav': '.wav', 'application/pdf': '.pdf'}
#: MIME types a browser would run as a page: a received file is never served as one
UNSAFE_MIME_WORDS = ('html', 'xml', 'svg', 'javascript', 'ecmascript')


def safe_mimetype(value, file_name=None):
    """The MIME type to store a received file under: its own, or a guess from its
    name; never one a browser would render as a page (stored XSS)."""
    mimetype = (value or '').split(';')[0].strip().lower()
    if not mimetype or mimetype == 'application/octet-stream':
        mimetype = (mimetypes.guess_type(file_name or '')[0] or 'application/octet-stream').lower()
    if any(word in mimetype for word in UNSAFE_MIME_WORDS):
        return 'application/octet-stream'
    return mimetype


class _HashingFile(object):
    """A download sink: writes to a file and hashes what it writes (SHA-1, as the filestore names files)."""

    def __init__(self, handle):
        self.handle = handle
        self.sha1 = hashlib.sha1()

    def write(self, data):
        self.sha1.update(data)
        self.handle.write(data)


class WhatsappMessage(models.Model):
    _inherit = 'whatsapp.message'

    quoted_message_id = fields.Char(
        string='Answers Message', index=True,
        help='WhatsApp id of the message this one quotes, or reacts to for a reaction.')
    media_state = fields.Selection(MEDIA_STATES, string='File', default='none', index=True, copy=False)
    attachment_id = fields.Many2one('ir.attachment', string='Stored File', ondelete='set null', copy=False)
    # what is stored, which may differ from what the provider declared (a converted or replaced file)
    stored_file_name = fields.Char(related='attachment_id.name', string='Stored File Name')
    stored_file_type = fields.Char(related='attachment_id.mimetype', string='Stored File Type')
    stored_file_size = fields.Integer(related='attachment_id.file_size', string='Stored File Size')
    media_attempts = fields.Integer(copy=False)
    media_next_try = fields.Datetime(copy=False)
    media_error = fields.Char(string='File Error', copy=False)
    media_error_reason = fields.Char(copy=False, help='The provider error reason of the last failed download.')
    media_html = fields.Html(string='Media', compute='_compute_media_html', sanitize=False)

    def _upsert_same(self, name, stored, new):
        """Where a file is, only the download step knows: a re-sync never moves it back."""
        if name == 'media_state' and stored and stored != 'none':
            return True
        return super()._upsert_same(name, stored, new)

    @api.model
    def _vals_from_record(self, configuration, record, contact_ids, group_ids):
        vals = super()._vals_from_record(configuration, record, contact_ids, group_ids)
        if record.quoted_id:
            vals['quoted_message_id'] = record.quoted_id
        media = record.media
        if media and (media.media_id or media.url):
            vals['media_state'] = 'waiting' if configuration._downloads_by_itself(
                record.message_type, media.file_size, vals['message_date']) else 'on_demand'
        return vals

    @api.depends('attachment_id', 'media_state', 'message_type')
    def _compute_media_html(self):
        for message in self:
            attachment = message.attachment_id
            if not attachment:
                message.media_html = False
                continue
            url = '/web/content/%d' % attachment.id
            mimetype = attachment.mimetype or ''
            name = escape(attachment.name or _('file'))
            if mimetype.startswith('image/'):
                html = Markup('<a href="%s" target="_blank"><img src="/web/image/%d" alt="%s" '
                              'style="max-width: 100%%; max-height: 480px;"/></a>') % (url, attachment.id, name)
            elif mimetype.startswith('audio/'):
                html = Markup('<audio controls="controls" preload="none" src="%s"></audio>') % url
            elif mimetype.startswith('video/'):
                html = Markup('<video controls="controls" preload="none" style="max-width: 100%%;" '
                              'src="%s"></video>') % url
            else:
                html = Markup('')
            html += Markup('<div><a href="%s?download=true"><i class="fa fa-download"/> %s</a></div>') % (url, name)
            message.media_html = html

    def _keep_sent_file(self, media):
        """The file these messages carried from Odoo, stored once and shown as a received one is."""
        if not self:
            return
        data, name, mimetype = media[0], media[1], media[2]
        attachment = self.env['ir.attachment'].sudo().create({
            'name': name, 'raw': data, 'mimetype': safe_mimetype(mimetype, name),
            'res_model': self._name, 'res_id': self[0].id})
        self.sudo().write({'attachment_id': attachment.id, 'media_state': 'downloaded'})
        self._media_downloaded()

    # ------------------------------------------------------------------
    # One click
    # ------------------------------------------------------------------
    def action_download_media(self):
        """Download this message's file now, whatever its size or kind (up to the on-demand cap)."""
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        message = self.sudo()
        if not (message.media_id or message.media_url):
            raise UserError(_('This message has no file to download.'))
        if message.attachment_id:
            return True
        params = self.env['ir.config_parameter'].sudo()
        cap = int(params.get_param('whatsapp_integration.media_max_on_demand_mb', ON_DEMAND_MAX_MB)) * 1024 * 1024
        client = message.configuration_id._make_provider_client()
        try:
            message._download_file(client, cap)
        finally:
            client.close()
        if message.media_state != 'downloaded':
            raise UserError(message.media_error or _('The file could not be downloaded.'))
        return True

    # ------------------------------------------------------------------
    # The download step
    # ------------------------------------------------------------------
    @api.model
    def _cron_download_media(self, time_budget=240):
        """Download waiting files of every active account, newest first, for up to
        ``time_budget`` seconds; each account on a transaction of its own, committed
        file by file (never the caller's: "Run Manually" runs in a browser request)."""
        deadline = time.monotonic() + time_budget
        accounts = self.env['whatsapp.configuration'].sudo().search(
            [('active', '=', True), ('connection_state', '=', 'connected')])
        for configuration in accounts:
            if time.monotonic() >= deadline:
                break
            with self.env['whatsapp.sync.service'].sudo()._own_transaction() as service:
                service.env['whatsapp.message']._download_waiting(
                    configuration.with_env(service.env), deadline, commit=service._commit)

    @api.model
    def _download_waiting(self, configuration, deadline=None, limit=None, commit=lambda: None):
        """Download the waiting files of one account; return how many were stored.

        ``commit`` makes each claim and each file durable on its own (a crash
        loses at most the file in flight; another worker skips claimed ones).
        """
        client = None
        stored = 0
        cap = configuration.media_max_size_mb * 1024 * 1024 if configuration.media_max_size_mb > 0 else None
        try:
            while (deadline is None or time.monotonic() < deadline) and (limit is None or stored < limit):
                message = self._claim_waiting(configuration)
                if not message:
                    break
                commit()
                if client is None:
                    client = configuration._make_provider_client()
                message._download_file(client, cap)
                if message.media_state == 'downloaded':
                    stored += 1
                commit()
                if message.media_state == 'waiting' and message.media_error_reason in ('token', 'device_unknown',
                                                                                       'settings'):
                    break  # every other file of this account would fail alike
        finally:
            if client is not None:
                client.close()
        return stored

    @api.model
    def _claim_waiting(self, configuration):
        """The next waiting message of the account, claimed by a committed write so that
        no other worker downloads it too and no lock is held while it downloads."""
        now = fields.Datetime.now()
        self.flush(['media_state', 'media_next_try'])
        self.env.cr.execute("""
            UPDATE whatsapp_message SET media_state = 'downloading', media_next_try = %s
             WHERE id = (SELECT id FROM whatsapp_message
                          WHERE configuration_id = %s
                            AND ((media_state = 'waiting' AND (media_next_try IS NULL OR media_next_try <= %s))
                                 OR (media_state = 'downloading' AND media_next_try <= %s))
                          ORDER BY message_date DESC, id DESC
                          LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id""", (now + datetime.timedelta(minutes=CLAIM_MINUTES), configuration.id, now, now))
        row = self.env.cr.fetchone()
        self.invalidate_cache(['media_state', 'media_next_try'])
        return self.browse(row[0]) if row else self.browse()

    def _download_file(self, client, max_bytes):
        """Fetch this message's file and record where it stands; never raises a provider error."""
        self.ensure_one()
        twin = self.search([('configuration_id', '=', self.configuration_id.id), ('media_id', '=', self.media_id),
                            ('attachment_id', '!=', False), ('id', '!=', self.id)], limit=1) \
            if self.media_id else self.browse()
        if twin:
            # the same file forwarded again: one stored copy
            self.write({'attachment_id': twin.attachment_id.id, 'media_state': 'downloaded', 'media_error': False,
                        'media_error_reason': False})
            return
        media = providers.Media(media_id=self.media_id or None, mime_type=self.media_mime_type or None,
                                file_name=self.media_file_name or None, file_size=self.media_file_size or None,
                                url=self.media_url or None)
        Attachment = self.env['ir.attachment'].sudo()
        folder = Attachment._full_path('whatsapp_incoming')
        os.makedirs(folder, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=folder, delete=False)
        try:
            sink = _HashingFile(handle)
            with handle:
                if max_bytes is not None and self.media_file_size and self.media_file_size > max_bytes:
                    raise providers.errors.FileTooLargeError(
                        'the message announces %d bytes, more than the %d allowed' % (self.media_file_size, max_bytes))
                downloaded = client.download_media(media, sink, max_bytes=max_bytes)
            attachment = self._store_file(handle.name, sink.sha1.hexdigest(), downloaded)
        except providers.ProviderError as error:
            self._record_download_failure(error)
            return
        finally:
            if os.path.exists(handle.name):
                os.unlink(handle.name)
        self.write({'attachment_id': attachment.id, 'media_state': 'downloaded', 'media_error': False,
                    'media_error_reason': False, 'media_next_try': False})
        self._media_downloaded()

    def _media_downloaded(self):
        """Hook: the file of these messages is now stored (Discuss shows it)."""

    def _record_download_failure(self, error):
        sentence, _detail = explain(self.env, error)
        reason = getattr(error, 'reason', None)
        vals = {'media_error': sentence[:250], 'media_error_reason': reason, 'media_attempts': self.media_attempts + 1}
        if reason == 'not_found':
            vals.update(media_state='expired', media_next_try=False)
        elif reason == 'too_large':
            vals.update(media_state='on_demand', media_next_try=False)
        elif vals['media_attempts'] >= MAX_ATTEMPTS:
            vals.update(media_state='failed', media_next_try=False)
        else:
            vals.update(media_state='waiting', media_next_try=fields.Datetime.now() + datetime.timedelta(
                minutes=RETRY_MINUTES * 2 ** (vals['media_attempts'] - 1)))
        _logger.info('WhatsApp message %s: file not downloaded (%s)', self.id, error)
        self.write(vals)

    def _store_file(self, path, sha1, downloaded):
        """An attachment of this message for the file at ``path`` (moved into the filestore,
        or read into the database when attachments live there)."""
        Attachment = self.env['ir.attachment'].sudo()
        content_type = (downloaded.content_type or self.media_mime_type or '').split(';')[0].strip().lower()
        name = downloaded.file_name or self.media_file_name or '%s %s%s' % (
            dict(self._fields['message_type'].selection).get(self.message_type, _('File')),
            fields.Datetime.to_string(self.message_date).replace(':', '-')[:16],
            EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or '')
        mimetype = safe_mimetype(content_type, name)
        values = {'name': name, 'mimetype': mimetype, 'res_model': self._name, 'res_id': self.id, 'type': 'binary'}
        if Attachment._storage() != 'file':
            with open(path, 'rb') as handle:
                return Attachment.create(dict(values, raw=handle.read()))
        fname = sha1[:2] + '/' + sha1
        if os.path.isfile(Attachment._full_path(sha1[:3] + '/' + sha1)):
            fname = sha1[:3] + '/' + sha1  # where older Odoo versions put it
        full_path = Attachment._full_path(fname)
        if not os.path.isfile(full_path):
            os.makedirs(os.path.dirname(full_path), exist_ok=True)
            os.replace(path, full_path)
            # garbage-collected if this transaction never commits
            Attachment._mark_for_gc(fname)
        attachment = Attachment.create(values)
        # ir.attachment computes these from bytes in memory; the file is already in place
        self.env.cr.execute("UPDATE ir_attachment SET store_fname = %s, file_size = %s, checksum = %s WHERE id = %s",
                            (fname, downloaded.size, sha1, attachment.id))
        attachment.invalidate_cache(['store_fname', 'file_size', 'checksum', 'datas', 'raw'])
        return attachment
