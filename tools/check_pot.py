#!/usr/bin/env python3
"""Check that the committed translation template lists every term of the module.

    python3 tools/check_pot.py EXPORTED.pot COMMITTED.pot

EXPORTED.pot is a fresh ``odoo --i18n-export`` of the installed module (see
tools/export_pot.sh); COMMITTED.pot is i18n/whatsapp_integration.pot. Exits 1 and
lists the msgids that are in the export but missing from the committed file;
header, comments and reference lines (``#:``, ``#.``) are ignored. Terms only in the
committed file are reported as a note (stale, harmless to Odoo) and do not fail.
Exit 2 on an unreadable file. Standard library only, Python 3.7+.
"""
import ast
import sys


def _unquote(text, path, number):
    text = text.strip()
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        raise ValueError('%s:%d: expected a quoted string, got %r' % (path, number, text))
    # PO strings use C escapes; a Python string literal reads the ones gettext writes
    return ast.literal_eval(text)


def read_msgids(path):
    """The set of (msgctxt, msgid) of the non-obsolete entries of a .po/.pot file."""
    entries = set()
    current = {}
    key = None

    def flush():
        if 'msgid' in current and current['msgid'] != '':
            entries.add((current.get('msgctxt'), current['msgid']))
        current.clear()

    with open(path, encoding='utf-8') as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line:
                flush()
                key = None
                continue
            if line.startswith('#'):   # comments, references, flags, obsolete (#~) entries
                if key is not None and key != 'msgctxt':
                    flush()
                    key = None
                continue
            if line.startswith('"'):
                if key is None:
                    raise ValueError('%s:%d: continuation line outside an entry' % (path, number))
                current[key] += _unquote(line, path, number)
                continue
            word, _sep, rest = line.partition(' ')
            if word.startswith('msgstr'):
                key = word
                current[key] = _unquote(rest, path, number)
            elif word in ('msgctxt', 'msgid', 'msgid_plural'):
                if word in ('msgctxt', 'msgid') and ('msgstr' in current or 'msgstr[0]' in current):
                    flush()  # a new entry without a blank line before it
                key = word
                current[key] = _unquote(rest, path, number)
            else:
                raise ValueError('%s:%d: unexpected line %r' % (path, number, line))
    flush()
    return entries


def _label(entry):
    context, msgid = entry
    text = msgid if len(msgid) <= 120 else msgid[:117] + '...'
    text = text.replace('\n', '\\n')
    return '[%s] %s' % (context, text) if context else text


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    exported_path, committed_path = argv
    try:
        exported = read_msgids(exported_path)
        committed = read_msgids(committed_path)
    except (OSError, ValueError, SyntaxError) as error:
        print('check_pot: cannot read: %s' % error)
        return 2
    if not exported:
        print('check_pot: %s has no msgid: was the module installed when it was exported?' % exported_path)
        return 2
    missing = sorted(exported - committed, key=lambda entry: (entry[1], entry[0] or ''))
    stale = committed - exported
    if missing:
        print('%s lacks %d term(s) of the module; regenerate it with tools/export_pot.sh:'
              % (committed_path, len(missing)))
        for entry in missing:
            print('  msgid %s' % _label(entry))
    if stale:
        print('note: %d term(s) of %s are no longer in the module (harmless; tools/export_pot.sh drops them)'
              % (len(stale), committed_path))
    if missing:
        return 1
    print('ok: %s has all %d terms of the module' % (committed_path, len(exported)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
