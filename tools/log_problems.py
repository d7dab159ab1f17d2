"""Find the real problems in an Odoo log, for the test harness.

Odoo logs one record per line, continued on following lines that do not start
with a timestamp (tracebacks, view errors). A record is a problem when:

* its level is ERROR or CRITICAL, whatever module logged it (a failing test,
  a traceback, a broken SQL statement), except Odoo's own notice that it skips
  sending e-mail under test;
* its level is WARNING and it is about this module: logged by one of its
  loggers (``odoo.addons.whatsapp_integration...``) or naming one of its files,
  XML ids or models (``whatsapp.message``: Odoo's own registry warnings, such as
  two fields with one label, name the model only). The database name column is
  ignored, so a database named after the module does not make every foreign
  warning count.

Usage: ``python3 log_problems.py LOGFILE [MODULE [PATH...]]`` (PATH: the
module's folder, when it is not named after the module): prints the problem records
and exits 1 when there is at least one, 0 otherwise. No Odoo import.
"""
import re
import sys

# "2026-12-03 08:55:00,123 4242 WARNING dbname odoo.some.logger: message"
RECORD_START = re.compile(
    r'^(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (?P<pid>\d+) '
    r'(?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^\s:]+): ?(?P<message>.*)$'
)
IGNORED_ERRORS = ('skip sending email',)
#: the module's models are named whatsapp.<something>
MODEL_NAME = re.compile(r'(^|[^\w.])whatsapp\.[a-z][a-z_.]*[a-z]', re.M)


def records(lines):
    """Group log lines into (level, logger, text) records."""
    current = None
    for line in lines:
        match = RECORD_START.match(line)
        if match:
            if current:
                yield current
            current = [match.group('level'), match.group('logger'), [match.group('message')]]
        elif current:
            current[2].append(line.rstrip('\n'))
    if current:
        yield current


def is_problem(level, logger, text, module, paths=()):
    if level in ('ERROR', 'CRITICAL'):
        return not any(ignored in text for ignored in IGNORED_ERRORS)
    if level != 'WARNING':
        return False
    own_logger = logger == 'odoo.addons.' + module or logger.startswith('odoo.addons.%s.' % module)
    mentions_module = re.search(r'(^|[^\w])%s([./:]|$)' % re.escape(module), text, re.M)
    mentions_path = any(path in text for path in paths)
    mentions_model = module == 'whatsapp_integration' and MODEL_NAME.search(text)
    return bool(own_logger or mentions_module or mentions_path or mentions_model)


def problems(lines, module='whatsapp_integration', paths=()):
    found = []
    for level, logger, text_lines in records(lines):
        text = '\n'.join(text_lines)
        if is_problem(level, logger, text, module, paths):
            found.append('%s %s: %s' % (level, logger, text))
    return found


def main(argv):
    if len(argv) < 2:
        sys.stderr.write('usage: log_problems.py LOGFILE [MODULE [PATH...]]\n')
        return 2
    module = argv[2] if len(argv) > 2 else 'whatsapp_integration'
    with open(argv[1], encoding='utf-8', errors='replace') as log:
        found = problems(log, module, tuple(argv[3:]))
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
