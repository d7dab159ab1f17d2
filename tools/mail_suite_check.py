"""Compare two runs of Odoo's own mail test suite (``test_mail``): one in a
database without the addon, one in a database where the addon was installed
first. Nothing else differs between the two databases.

Each run's log is read per test (Odoo 14 logs ``Starting Class.test ...`` for
each test it starts, and ``FAIL: `` / ``ERROR: `` records for each failure,
subtests and ``setUpClass`` included). The run with the addon must not do
worse than the run without it:

* a failure or error of the run with the addon that the run without it does
  not have (a test, a subtest or a class set-up) fails the check;
* so does a test that ran without the addon and did not run with it;
* so does an ERROR or CRITICAL record that is not a test result, or a WARNING
  of the addon (``tools/log_problems.py``), logged only with the addon.

Failures both runs share are Odoo's own (query counts, the composer's setup on
this Odoo and Python): they are listed once, as "known in both", and do not fail
the check. Failures of the run without the addon only are listed and do not.

Usage: ``python3 mail_suite_check.py WITHOUT.log WITH.log [MODULE [PATH...]]``:
prints the two counts and the differences, exits 1 when the addon breaks
something, 0 otherwise. No Odoo import.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from log_problems import is_problem, records  # noqa: E402  (run as a script too)

#: "Starting TestClass.test_x ..." logged by the test's own module logger
STARTING = re.compile(r'^Starting (?P<desc>[\w.]+) \.\.\.\s*$')
#: "FAIL: TestClass.test_x", "ERROR: Subtest TestClass.test_x (login='emp')",
#: "ERROR: setUpClass (odoo.addons.test_mail.tests.test_x.TestClass)"
RESULT = re.compile(r'^(?P<flavour>FAIL|ERROR): (?P<desc>.*)$')
SUBTEST = re.compile(r'^Subtest (?P<test>[\w.]+) (?P<sub>.*)$')
HOLDER = re.compile(r'^(?P<hook>\w+) \((?P<where>[\w.]+)\)$')
UNEXPECTED = re.compile(r'^unexpected success for (?P<desc>.*)$')
#: Odoo's own totals: "21 failed, 5 error(s) of 274 tests when loading database 'x'"
TOTALS = re.compile(r'^(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<tests>\d+) tests')
SUMMARY_LOGGERS = ('odoo.tests.runner', 'odoo.modules.loading')
SHOWN = 40  # lines of a list, and of a traceback, printed at most
TRACEBACKS = 5  # tracebacks printed at most (the logs hold them all)


def short_module(dotted):
    """odoo.addons.test_mail.tests.test_mail_channel -> test_mail_channel"""
    return dotted.split('.tests.', 1)[1] if '.tests.' in dotted else dotted


class Run(object):
    """What one log says: the tests started, the failure entries, other problems."""

    def __init__(self, lines, module='whatsapp_integration', paths=()):
        self.started = []          # test ids, in order
        self.failures = {}         # entry -> (flavour, record text)
        self.problems = {}         # normalised key -> record text (not test results)
        self.totals = None         # Odoo's own (failed, errors, tests), summed over its lines
        for level, logger, text_lines in records(lines):
            self._read(level, logger, text_lines, module, paths)

    def _read(self, level, logger, text_lines, module, paths):
        first = text_lines[0].strip()
        match = STARTING.match(first)
        if match and level == 'INFO':
            self.started.append('%s.%s' % (short_module(logger), match.group('desc')))
            return
        match = RESULT.match(first)
        if match and level in ('ERROR', 'CRITICAL'):
            self._fail(self._entry(logger, match.group('desc')), match.group('flavour'), text_lines)
            return
        match = UNEXPECTED.match(first)
        if match and level == 'ERROR':
            self._fail(self._entry(logger, match.group('desc')), 'UNEXPECTED SUCCESS', text_lines)
            return
        if logger in SUMMARY_LOGGERS and level == 'ERROR':
            match = TOTALS.match(first)
            if match and logger == 'odoo.tests.runner':
                found = tuple(int(match.group(k)) for k in ('failed', 'errors', 'tests'))
                self.totals = tuple(a + b for a, b in zip(self.totals or (0, 0, 0), found))
            if match or first.startswith(('Module ', 'At least one test failed')):
                return
        text = '\n'.join(text_lines)
        if is_problem(level, logger, text, module, paths):
            key = '%s %s: %s' % (level, logger, re.sub(r'0x[0-9a-f]+|\d+', '#', first))
            self.problems.setdefault(key, '%s %s: %s' % (level, logger, text))

    def _fail(self, entry, flavour, text_lines):
        # one test may fail twice with the same description (two subtests alike)
        key, seen = entry, 1
        while key in self.failures:
            seen += 1
            key = '%s [%d]' % (entry, seen)
        self.failures[key] = (flavour, '\n'.join(text_lines))

    @staticmethod
    def _entry(logger, desc):
        match = HOLDER.match(desc)
        if match:  # a class or module hook failed: its tests did not run
            return '%s.%s' % (short_module(match.group('where')), match.group('hook'))
        match = SUBTEST.match(desc)
        if match:
            return '%s.%s %s' % (short_module(logger), match.group('test'), match.group('sub'))
        return '%s.%s' % (short_module(logger), desc)

    def counts(self):
        errors = sum(1 for flavour, _text in self.failures.values() if flavour == 'ERROR')
        failed = len(self.failures) - errors
        if self.totals:
            failed, errors, tests = self.totals
        else:
            tests = len(set(self.started))
        return '%d tests, %d failed, %d error(s)' % (tests, failed, errors)


def hook_class(entry):
    """'test_x.TestClass.setUpClass' -> 'test_x.TestClass' for class hooks."""
    head, _dot, hook = entry.rpartition('.')
    return head if hook in ('setUpClass', 'tearDownClass') else None


def compare(without, with_addon):
    """(broken, fixed, known, not_run, new_problems, known_problems), sorted lists."""
    broken = sorted(set(with_addon.failures) - set(without.failures))
    fixed = sorted(set(without.failures) - set(with_addon.failures))
    known = sorted(set(without.failures) & set(with_addon.failures))
    failed_classes = set(filter(None, map(hook_class, with_addon.failures)))
    ran_with = set(with_addon.started)
    not_run = sorted(test for test in set(without.started) - ran_with
                     if test.rpartition('.')[0] not in failed_classes)
    new_problems = sorted(set(with_addon.problems) - set(without.problems))
    known_problems = sorted(set(with_addon.problems) & set(without.problems))
    return broken, fixed, known, not_run, new_problems, known_problems


def listing(title, items, out):
    if not items:
        return
    out.append('%s (%d):' % (title, len(items)))
    out.extend('  ' + item for item in items[:SHOWN])
    if len(items) > SHOWN:
        out.append('  ... and %d more' % (len(items) - SHOWN))


def report(without, with_addon):
    """(exit status, lines to print)."""
    out = ['without the addon: %s' % without.counts(), 'with the addon:    %s' % with_addon.counts()]
    status = 0
    if not without.started:
        out.append('FAILED: no test of the suite ran without the addon (see its log)')
        status = 1
    if not with_addon.started:
        out.append('FAILED: no test of the suite ran with the addon (see its log)')
        status = 1
    broken, fixed, known, not_run, new_problems, known_problems = compare(without, with_addon)
    if broken or not_run or new_problems:
        status = 1
    listing('FAILED: pass without the addon, fail with it', broken, out)
    listing('FAILED: ran without the addon, did not run with it', not_run, out)
    listing('FAILED: logged only with the addon', [with_addon.problems[k].split('\n', 1)[0]
                                                  for k in new_problems], out)
    listing('known in both (Odoo\'s own, not counted)', known, out)
    listing('logged in both (not counted)', known_problems, out)
    listing('fail without the addon only (not counted)', fixed, out)
    for entry in broken[:TRACEBACKS]:
        flavour, text = with_addon.failures[entry]
        lines = text.split('\n')
        out.append('--- with the addon, %s: %s' % (flavour, entry))
        out.extend(lines[1:SHOWN + 1] if len(lines) > 1 else lines)
    for key in new_problems[:TRACEBACKS]:
        out.append('--- logged only with the addon:')
        out.extend(with_addon.problems[key].split('\n')[:SHOWN])
    return status, out


def read(path, module, paths):
    with open(path, encoding='utf-8', errors='replace') as log:
        return Run(log, module, paths)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write('usage: mail_suite_check.py WITHOUT.log WITH.log [MODULE [PATH...]]\n')
        return 2
    module = argv[3] if len(argv) > 3 else 'whatsapp_integration'
    paths = tuple(argv[4:])
    status, out = report(read(argv[1], module, paths), read(argv[2], module, paths))
    print('\n'.join(out))
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
