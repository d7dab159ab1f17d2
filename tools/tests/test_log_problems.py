"""The harness's log filter: real problems fail the run, foreign noise does not."""
from tools.log_problems import problems

STAMP = '2026-12-03 08:55:00,123 4242'


def line(level, logger, message, db='whatsapp_test'):
    return '%s %s %s %s: %s\n' % (STAMP, level, db, logger, message)


def test_foreign_module_warning_passes_even_in_a_database_named_after_the_module():
    log = [
        line('WARNING', 'py.warnings', '/opt/odoo/odoo/addons/mail/models/mail_thread.py:12: '
             'DeprecationWarning: invalid escape sequence'),
        line('WARNING', 'odoo.addons.base.models.ir_cron', 'Skipping database whatsapp_test'),
        line('INFO', 'odoo.addons.whatsapp_integration.tests.test_sync', 'Starting TestSync.test_x ...'),
    ]
    assert problems(log) == []


def test_this_modules_warning_fails():
    log = [line('WARNING', 'odoo.addons.whatsapp_integration.models.whatsapp_message', 'bad thing')]
    assert len(problems(log)) == 1


def test_warning_naming_a_file_of_the_module_fails_also_on_a_continuation_line():
    log = [
        line('WARNING', 'odoo.addons.base.models.ir_ui_view', 'A <i> with fa class must have title'),
        'View error context:\n',
        "{'file': '/tmp/x/addons/whatsapp_integration/views/whatsapp_contact_views.xml'}\n",
        line('WARNING', 'py.warnings', '/work/main/models/whatsapp_contact.py:3: DeprecationWarning'),
    ]
    assert len(problems(log)) == 1
    assert len(problems(log, paths=('/work/main/',))) == 2


def test_error_of_any_module_fails_except_the_mail_notice():
    log = [
        line('ERROR', 'odoo.sql_db', 'bad query: INSERT INTO "res_partner"'),
        line('ERROR', 'odoo.addons.mail.models.mail_mail', 'skip sending email in test mode'),
        line('CRITICAL', 'odoo.service.server', 'Failed to initialize database'),
    ]
    found = problems(log)
    assert len(found) == 2
    assert 'bad query' in found[0]


def test_other_module_names_that_contain_ours_do_not_count():
    log = [line('WARNING', 'odoo.addons.whatsapp_integration_extra', 'not ours'),
           line('WARNING', 'odoo.modules.loading', 'module my_whatsapp_integration2: x')]
    assert problems(log) == []


def test_warning_naming_a_model_of_the_module_fails():
    log = [line('WARNING', 'odoo.addons.base.models.ir_model',
                'Two fields (media_html, media_id) of whatsapp.message() have the same label: Media.'),
           line('WARNING', 'odoo.addons.base.models.ir_model', 'Two fields (a, b) of mail.channel() have the same label'),
           line('WARNING', 'odoo.addons.base.models.ir_cron', 'no whatsapp. here, nor in mywhatsapp.thing')]
    found = problems(log)
    assert len(found) == 1
    assert 'whatsapp.message' in found[0]
