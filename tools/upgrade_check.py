# -*- coding: utf-8 -*-
"""Upgrade from the last release: data stored by the old code survives today's code.

tools/odoo_tests.sh installs the release (a commit of main) in its own database,
runs ``seed(env)`` there with the release's code, upgrades the database with
today's code (``-u``), then runs ``check(env)`` with today's code. Both run in
``odoo shell``; ``check`` prints one ``UPGRADE_CHECK ok`` line or raises.
"""
import datetime

MODULE = 'whatsapp_integration'
TOKEN = 'release-token-kept-across-the-upgrade'


def seed(env):
    """What an account of the release holds: an account with its token, a contact, a group, messages."""
    configuration = env['whatsapp.configuration'].create({
        'name': 'Release account', 'provider': 'whapi', 'token': TOKEN})
    env['whatsapp.contact'].create({
        'configuration_id': configuration.id, 'contact_id': '34600000001', 'name': 'Ana', 'phone': '+34600000001',
        'phone_valid': True})
    env['whatsapp.group'].create({'configuration_id': configuration.id, 'group_id': '120363000000000001@g.us',
                                  'name': 'Release group'})
    when = datetime.datetime(2026, 1, 15, 10, 0, 0)
    env['whatsapp.message'].create([{
        'configuration_id': configuration.id, 'message_id': 'release-text', 'chat_id': '34600000001',
        'message_type': 'text', 'body': 'Hello from the release', 'message_date': when,
    }, {
        'configuration_id': configuration.id, 'message_id': 'release-photo', 'chat_id': '34600000001',
        'message_type': 'image', 'body': 'A photo', 'message_date': when, 'media_id': 'media-release-1',
        'media_mime_type': 'image/jpeg', 'media_file_size': 2048,
    }, {
        'configuration_id': configuration.id, 'message_id': 'release-link', 'chat_id': '34600000001',
        'message_type': 'document', 'message_date': when, 'media_url': 'https://files.example.com/quote.pdf',
        'media_file_name': 'quote.pdf',
    }])
    env.cr.commit()
    print('UPGRADE_SEED ok')


def check(env):
    """The upgraded database: same records, token kept, new dependency installed, old files on demand."""
    module = env['ir.module.module'].search([('name', '=', MODULE)])
    assert module.state == 'installed', module.state
    manifest_version = module.get_module_info(MODULE)['version']
    assert module.latest_version == manifest_version, (module.latest_version, manifest_version)
    dependency = env['ir.module.module'].search([('name', '=', 'phone_validation')])
    assert dependency.state == 'installed', 'phone_validation is %s' % dependency.state
    configuration = env['whatsapp.configuration'].search([('name', '=', 'Release account')])
    assert len(configuration) == 1, configuration
    assert configuration.token == TOKEN, 'the token was not kept'
    assert configuration.optout_keywords, 'accounts of the release have no opt-out keywords'
    assert not configuration.discuss_enabled, 'conversations in Discuss must stay off until turned on'
    for model, count in (('whatsapp.contact', 1), ('whatsapp.group', 1), ('whatsapp.message', 3)):
        found = env[model].search_count([('configuration_id', '=', configuration.id)])
        assert found == count, '%s: %d records, expected %d' % (model, found, count)
    messages = {message.message_id: message for message in env['whatsapp.message'].search([
        ('configuration_id', '=', configuration.id)])}
    assert messages['release-text'].media_state == 'none', messages['release-text'].media_state
    assert messages['release-photo'].media_state == 'on_demand', messages['release-photo'].media_state
    assert messages['release-link'].media_state == 'on_demand', messages['release-link'].media_state
    assert not env['mail.channel'].search_count([('whatsapp_configuration_id', '=', configuration.id)])
    for xml_id in ('ir_cron_whatsapp_data_sync', 'ir_cron_whatsapp_data_sync_frequent',
                   'ir_cron_whatsapp_full_sync_daily', 'ir_cron_whatsapp_download_media',
                   'ir_cron_whatsapp_send_queued'):
        assert env.ref('%s.%s' % (MODULE, xml_id), raise_if_not_found=False), 'missing cron %s' % xml_id
    print('UPGRADE_CHECK ok')
