# -*- coding: utf-8 -*-
"""Files of messages: which download by themselves, the download step, failures, access."""
import base64
import datetime

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tests.common import Form, new_test_user

from odoo.addons.whatsapp_integration import providers
from odoo.addons.whatsapp_integration.models.whatsapp_message_media import MAX_ATTEMPTS

from .common import Media, Message, WhatsappCase

UTC = datetime.timezone.utc
PHOTO = b'\xff\xd8\xff\xe0' + bytes(range(256)) * 40   # a JPEG start, 10 KB
VOICE = b'OggS' + b'\x01' * 5000


@tagged('post_install', '-at_install')
class TestMedia(WhatsappCase):

    def setUp(self):
        super().setUp()
        self.now = datetime.datetime.now(UTC).replace(microsecond=0)
        self.remote_a.files = {
            'img-1': (PHOTO, 'image/jpeg', 'suitcase.jpg'),
            'voice-1': (VOICE, 'audio/ogg', None),
            'vid-1': (b'\x00\x00\x00\x18ftypmp4' * 100, 'video/mp4', 'clip.mp4'),
            'evil-1': (b'<html><script>alert(1)</script></html>', 'text/html', 'invoice.html'),
        }

    def add(self, message_id, kind, media_id, size=None, minutes_ago=5, mime=None, quoted_id=None):
        record = Message(
            message_id=message_id, chat_id='34600000001', chat_type='contact',
            timestamp=self.now - datetime.timedelta(minutes=minutes_ago), sender_id='34600000001',
            message_type=kind, raw_type=kind, body=None, status='delivered', quoted_id=quoted_id,
            media=Media(media_id=media_id, mime_type=mime or 'application/octet-stream', file_size=size))
        self.remote_a.messages.append(record)
        return record

    def sync(self):
        self.service.cron_sync_all_data(message_limit=0)

    def message(self, message_id):
        return self.env['whatsapp.message'].search([('configuration_id', '=', self.config_a.id),
                                                    ('message_id', '=', message_id)])

    def download(self):
        self.env['whatsapp.message']._cron_download_media()

    def test_kinds_size_and_age_decide_what_downloads_by_itself(self):
        self.add('m-photo', 'image', 'img-1', size=len(PHOTO))
        self.add('m-voice', 'voice', 'voice-1')
        self.add('m-video', 'video', 'vid-1')                      # videos are off by default
        self.add('m-big', 'image', 'img-2', size=50 * 1024 * 1024)   # over the 16 MB cap
        self.add('m-old', 'image', 'img-3', minutes_ago=60 * 24 * 40)  # a whole-history import
        self.sync()
        states = {key: self.message(key).media_state for key in ('m-photo', 'm-voice', 'm-video', 'm-big', 'm-old')}
        self.assertEqual(states, {'m-photo': 'waiting', 'm-voice': 'waiting', 'm-video': 'on_demand',
                                  'm-big': 'on_demand', 'm-old': 'on_demand'})
        # the sync itself downloads nothing: downloads are their own step
        self.assertEqual(self.remote_a.downloads, [])

    def test_download_step_stores_each_file_once_and_resync_keeps_it(self):
        self.add('m-photo', 'image', 'img-1', size=len(PHOTO), mime='image/jpeg')
        self.add('m-voice', 'voice', 'voice-1', mime='audio/ogg; codecs=opus')
        self.add('m-forward', 'image', 'img-1', minutes_ago=2)   # the same file forwarded
        self.sync()
        self.download()
        photo, voice, forward = self.message('m-photo'), self.message('m-voice'), self.message('m-forward')
        for message in (photo, voice, forward):
            self.assertEqual(message.media_state, 'downloaded')
        self.assertEqual(base64.b64decode(photo.attachment_id.datas), PHOTO)
        self.assertEqual(photo.attachment_id.mimetype, 'image/jpeg')
        self.assertEqual(photo.attachment_id.name, 'suitcase.jpg')
        self.assertEqual(photo.attachment_id.file_size, len(PHOTO))
        self.assertEqual(photo.attachment_id.res_model, 'whatsapp.message')
        self.assertEqual(voice.attachment_id.mimetype, 'audio/ogg')
        self.assertIn('<audio', voice.media_html)
        self.assertIn('<img', photo.media_html)
        self.assertEqual(forward.attachment_id, photo.attachment_id)
        self.assertEqual(sorted(self.remote_a.downloads), ['img-1', 'voice-1'])
        # a re-sync and another download run change nothing and fetch nothing
        self.sync()
        self.download()
        self.assertEqual(self.message('m-photo').media_state, 'downloaded')
        self.assertEqual(len(self.remote_a.downloads), 2)

    def test_expired_transient_and_repeated_failures(self):
        self.add('m-gone', 'image', 'img-gone')
        self.add('m-flaky', 'image', 'img-flaky')
        self.remote_a.file_faults['img-flaky'] = providers.TransientError('connection reset', reason='connection')
        self.sync()
        self.download()
        gone, flaky = self.message('m-gone'), self.message('m-flaky')
        self.assertEqual(gone.media_state, 'expired')
        self.assertTrue(gone.media_error)
        self.assertEqual(flaky.media_state, 'waiting')
        self.assertEqual(flaky.media_attempts, 1)
        self.assertGreater(flaky.media_next_try, fields.Datetime.now())
        # not due yet: not tried again
        self.download()
        self.assertEqual(self.message('m-flaky').media_attempts, 1)
        for _attempt in range(MAX_ATTEMPTS):
            flaky.media_next_try = fields.Datetime.now() - datetime.timedelta(seconds=1)
            self.download()
        self.assertEqual(flaky.media_state, 'failed')
        self.assertEqual(flaky.media_attempts, MAX_ATTEMPTS)
        # the messages themselves are whole
        self.assertEqual(len(self.stored('whatsapp.message', self.config_a)), 2)

    def test_too_big_while_streaming_waits_for_a_click_and_the_click_downloads(self):
        self.config_a.media_max_size_mb = 1
        big = b'x' * (1024 * 1024 + 10)
        self.remote_a.files['img-big'] = (big, 'image/png', 'plan.png')
        self.add('m-big', 'image', 'img-big')   # size not announced: found out while downloading
        self.sync()
        self.download()
        message = self.message('m-big')
        self.assertEqual(message.media_state, 'on_demand')
        self.assertIn('bigger', message.media_error)
        message.with_user(self.user_of_a()).action_download_media()
        self.assertEqual(message.media_state, 'downloaded')
        self.assertEqual(message.attachment_id.file_size, len(big))

    def test_a_page_type_is_never_served_as_one(self):
        self.add('m-evil', 'document', 'evil-1')
        self.sync()
        self.download()
        attachment = self.message('m-evil').attachment_id
        self.assertEqual(attachment.mimetype, 'application/octet-stream')

    def test_refused_token_stops_the_account_and_keeps_files_waiting(self):
        self.add('m-1', 'image', 'img-1')
        self.add('m-2', 'voice', 'voice-1')
        self.sync()
        self.remote_a.fail_with = providers.AuthenticationError('Unauthorized', 401)
        self.download()
        states = [self.message('m-1').media_state, self.message('m-2').media_state]
        self.assertEqual(sorted(states), ['waiting', 'waiting'])
        self.assertEqual(self.remote_a.requests.count('download'), 1)

    def user_of_a(self):
        user = new_test_user(self.env, login='wa_user_a', groups='whatsapp_integration.group_whatsapp_user')
        self.config_a.user_ids = [(4, user.id)]
        return user

    def test_files_are_seen_by_the_account_users_only(self):
        self.add('m-photo', 'image', 'img-1')
        self.sync()
        self.download()
        message = self.message('m-photo')
        user_a = self.user_of_a()
        user_b = new_test_user(self.env, login='wa_user_b', groups='whatsapp_integration.group_whatsapp_user')
        self.config_b.user_ids = [(4, user_b.id)]
        attachment = message.attachment_id
        self.assertEqual(base64.b64decode(attachment.with_user(user_a).datas), PHOTO)
        with self.assertRaises(AccessError):
            attachment.with_user(user_b).read(['datas'])
        with self.assertRaises(AccessError):
            message.with_user(user_b).action_download_media()
        self.assertFalse(self.env['whatsapp.message'].with_user(user_b).search([('id', '=', message.id)]))

    def test_download_button_without_file_says_so(self):
        self.remote_a.add_messages(1, start_minutes=0)
        self.sync()
        message = self.stored('whatsapp.message', self.config_a)
        with self.assertRaises(UserError):
            message.action_download_media()

    def test_sent_file_is_kept(self):
        wizard = self.env['whatsapp.send.message'].create({
            'configuration_id': self.config_a.id, 'phone': '+34 600 000 001', 'body': 'Your invoice',
            'attachment': base64.b64encode(b'%PDF-1.4 invoice'), 'attachment_name': 'invoice.pdf'})
        wizard.action_send()
        sent = self.stored('whatsapp.message', self.config_a)
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.media_state, 'downloaded')
        self.assertEqual(base64.b64decode(sent.attachment_id.datas), b'%PDF-1.4 invoice')

    def test_message_form_says_what_is_stored(self):
        # the provider declared a big JPEG; what came (and is stored) is a small PNG
        self.remote_a.files['img-9'] = (b'\x89PNG\r\n\x1a\n' + b'\x00' * 2800, 'image/png', None)
        self.add('m-declared', 'image', 'img-9', size=380493, mime='image/jpeg')
        self.sync()
        self.download()
        self.config_a.user_ids = [(4, self.user.id)]
        message = self.message('m-declared').with_user(self.user)
        form = Form(message)
        self.assertEqual((form.stored_file_type, form.stored_file_size), ('image/png', 2808))
        self.assertTrue(form.stored_file_name)
        self.assertTrue(message.display_name.startswith('+34600000001 · '),
                        'the title is the chat and time, not the WhatsApp id: %s' % message.display_name)
