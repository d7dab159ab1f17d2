"""The comparison of Odoo's mail suite without and with the addon (tools/mail_suite_check.py)."""
from tools.mail_suite_check import Run, main, report

STAMP = '2026-12-07 23:38:03,525 4242'
CHANNEL = 'odoo.addons.test_mail.tests.test_mail_channel'
PERF = 'odoo.addons.test_mail.tests.test_performance'
COMPOSER = 'odoo.addons.test_mail.tests.test_mail_composer'


def line(level, logger, message, db='mail_suite_with'):
    return '%s %s %s %s: %s\n' % (STAMP, level, db, logger, message)


def started(logger, test):
    return line('INFO', logger, 'Starting %s ...' % test)


def failed(logger, flavour, desc, trace='AssertionError: 3 != 2'):
    return [line('INFO', logger, '=' * 70), line('ERROR', logger, '%s: %s' % (flavour, desc)),
            'Traceback (most recent call last):\n', '  File "x.py", line 1, in test\n', trace + '\n']


def totals(failed_count, errors, tests):
    return [line('ERROR', 'odoo.modules.loading', 'Module test_mail: %d failures, %d errors of %d tests'
                 % (failed_count, errors, tests)),
            line('ERROR', 'odoo.modules.loading', 'At least one test failed when loading the modules.'),
            line('ERROR', 'odoo.tests.runner', "%d failed, %d error(s) of %d tests when loading database 'x'"
                 % (failed_count, errors, tests))]


def baseline():
    """Two channel tests that pass, a query count subtest and a class set-up that fail (Odoo's own)."""
    return ([started(CHANNEL, 'TestChannelFeatures.test_channel_post'),
             started(CHANNEL, 'TestChannelFeatures.test_channel_members'),
             started(PERF, 'TestMailAPIPerformance.test_mail_composer')]
            + failed(PERF, 'FAIL', "Subtest TestMailAPIPerformance.test_mail_composer (login='emp')")
            + failed('unittest.suite', 'ERROR', 'setUpClass (%s.TestComposerForm)' % COMPOSER)
            + totals(1, 1, 3))


def test_same_failures_in_both_runs_pass_and_are_listed_once_as_known():
    status, out = report(Run(baseline()), Run(baseline()))
    assert status == 0
    assert out[0] == 'without the addon: 3 tests, 1 failed, 1 error(s)'
    assert out[1] == 'with the addon:    3 tests, 1 failed, 1 error(s)'
    assert "  test_performance.TestMailAPIPerformance.test_mail_composer (login='emp')" in out
    assert '  test_mail_composer.TestComposerForm.setUpClass' in out
    assert sum('test_mail_composer (login' in text for text in out) == 1
    assert not any(text.startswith('FAILED') for text in out)


def test_a_test_passing_without_the_addon_and_failing_with_it_fails_with_its_traceback():
    broken = baseline() + failed(CHANNEL, 'ERROR', 'TestChannelFeatures.test_channel_post',
                                 "TypeError: message_post() got an unexpected keyword argument 'body'")
    status, out = report(Run(baseline()), Run(broken))
    assert status == 1
    assert 'FAILED: pass without the addon, fail with it (1):' in out
    assert '  test_mail_channel.TestChannelFeatures.test_channel_post' in out
    assert '--- with the addon, ERROR: test_mail_channel.TestChannelFeatures.test_channel_post' in out
    assert "TypeError: message_post() got an unexpected keyword argument 'body'" in out


def test_one_more_failing_subtest_of_a_test_already_failing_counts():
    more = baseline() + failed(PERF, 'FAIL', "Subtest TestMailAPIPerformance.test_mail_composer (login='__system__')")
    status, out = report(Run(baseline()), Run(more))
    assert status == 1
    assert "  test_performance.TestMailAPIPerformance.test_mail_composer (login='__system__')" in out


def test_the_same_subtest_failing_twice_with_the_addon_but_once_without_counts():
    twice = baseline() + failed(PERF, 'FAIL', "Subtest TestMailAPIPerformance.test_mail_composer (login='emp')")
    status, out = report(Run(baseline()), Run(twice))
    assert status == 1
    assert "  test_performance.TestMailAPIPerformance.test_mail_composer (login='emp') [2]" in out


def test_a_class_set_up_failing_only_with_the_addon_fails_without_listing_its_tests_again():
    without = baseline()
    with_addon = [text for text in baseline() if 'TestChannelFeatures' not in text] + failed(
        'unittest.suite', 'ERROR', 'setUpClass (%s.TestChannelFeatures)' % CHANNEL)
    status, out = report(Run(without), Run(with_addon))
    assert status == 1
    assert '  test_mail_channel.TestChannelFeatures.setUpClass' in out
    assert not any('did not run' in text for text in out)


def test_tests_that_did_not_run_with_the_addon_fail():
    cut = baseline()[:1]  # the install stopped after the first test
    status, out = report(Run(baseline()), Run(cut))
    assert status == 1
    assert 'FAILED: ran without the addon, did not run with it (2):' in out
    assert '  test_mail_channel.TestChannelFeatures.test_channel_members' in out


def test_no_test_at_all_fails_even_when_both_runs_are_empty():
    status, out = report(Run([]), Run([]))
    assert status == 1
    assert 'FAILED: no test of the suite ran with the addon (see its log)' in out


def test_an_error_logged_by_the_addon_only_with_it_fails_but_one_in_both_runs_does_not():
    addon_error = line('ERROR', 'odoo.addons.whatsapp_integration.models.mail_channel',
                       'WhatsApp send failed for channel 42')
    odoo_noise = line('ERROR', 'odoo.addons.mail.models.mail_mail', 'Some Odoo error 7')
    without = baseline() + [odoo_noise.replace(' 7', ' 8')]
    with_addon = baseline() + [odoo_noise, addon_error]
    status, out = report(Run(without), Run(with_addon))
    assert status == 1
    assert 'FAILED: logged only with the addon (1):' in out
    assert '  ERROR odoo.addons.whatsapp_integration.models.mail_channel: WhatsApp send failed for channel 42' in out
    assert 'logged in both (not counted) (1):' in out


def test_a_warning_of_the_addon_only_with_it_fails_and_a_foreign_warning_does_not():
    warnings = [line('WARNING', 'py.warnings', '/opt/odoo/addons/mail/models/x.py:1: DeprecationWarning')]
    status, _out = report(Run(baseline()), Run(baseline() + warnings))
    assert status == 0
    own = [line('WARNING', 'odoo.addons.whatsapp_integration.models.mail_channel', 'no account')]
    status, _out = report(Run(baseline()), Run(baseline() + own))
    assert status == 1


def test_a_failure_without_the_addon_only_is_listed_and_does_not_fail():
    without = baseline() + failed(CHANNEL, 'FAIL', 'TestChannelFeatures.test_channel_members')
    status, out = report(Run(without), Run(baseline()))
    assert status == 0
    assert 'fail without the addon only (not counted) (1):' in out


def test_command_line_reads_the_two_logs(tmp_path, capsys):
    without, with_addon = tmp_path / 'without.log', tmp_path / 'with.log'
    without.write_text(''.join(baseline()))
    with_addon.write_text(''.join(baseline() + failed(CHANNEL, 'FAIL', 'TestChannelFeatures.test_channel_post')))
    assert main(['mail_suite_check.py', str(without), str(without)]) == 0
    assert main(['mail_suite_check.py', str(without), str(with_addon), 'whatsapp_integration']) == 1
    assert '  test_mail_channel.TestChannelFeatures.test_channel_post' in capsys.readouterr().out
