"""The providers' published API descriptions, as data, and a checker for requests.

``whapi.json`` and ``wassenger.json`` hold one row per endpoint the clients call:
method, path, query parameters with their published limits, body fields, the
response fields the parsers read, a reply in the published shape, the source each
fact comes from, and an ``assumption`` note where the sources are silent.

:func:`check_request` says what is wrong with one request against a table: an
endpoint or parameter the provider does not publish, a missing required value, a
value past a limit or off its pattern, a body field the provider does not take.
The tests (``providers/tests/test_conformance.py``) run every client method
through it, and the test fake (``tests/fake_provider_server.py``) answers 400 to
requests it refuses, as the provider would.

Pure standard library; nothing here is used by the clients at run time.
"""
import json
import os
import re
from urllib.parse import unquote

__all__ = ['load_table', 'match_endpoint', 'check_request', 'check_value', 'TABLE_DIR']

TABLE_DIR = os.path.dirname(os.path.abspath(__file__))
_TABLES = {}


def load_table(provider):
    """The conformance table of ``provider`` ('whapi' or 'wassenger'), parsed once."""
    table = _TABLES.get(provider)
    if table is None:
        with open(os.path.join(TABLE_DIR, '%s.json' % provider), encoding='utf-8') as handle:
            table = json.load(handle)
        for row in table['endpoints']:
            row['_regex'] = _path_regex(row['path'])
        _TABLES[provider] = table
    return table


def _path_regex(template):
    parts = re.split(r'(\{[^}]+\})', template)
    pattern = ''
    for part in parts:
        if part.startswith('{') and part.endswith('}'):
            pattern += '(?P<%s>[^/]+)' % part[1:-1]
        else:
            pattern += re.escape(part)
    return re.compile('^%s$' % pattern)


def match_endpoint(table, method, path):
    """``(row, path parameters)`` of the row serving ``method path``, else ``(None, None)``.

    Literal rows win over templated ones (``/contacts/lids`` before
    ``/contacts/{ContactID}``).
    """
    candidates = []
    for row in table['endpoints']:
        if row['method'] != method.upper():
            continue
        found = row['_regex'].match(path)
        if found:
            params = dict((key, unquote(value)) for key, value in found.groupdict().items())
            candidates.append((len(params), row, params))
    if not candidates:
        return None, None
    candidates.sort(key=lambda item: item[0])
    return candidates[0][1], candidates[0][2]


def _pattern(spec, table):
    if 'pattern' in spec:
        return spec['pattern']
    if 'pattern_ref' in spec:
        return table['patterns'][spec['pattern_ref']]
    return None


def _parse_query_value(spec, text):
    kind = spec.get('type', 'string')
    if kind == 'integer':
        return int(text)
    if kind == 'number':
        return float(text)
    if kind == 'boolean':
        if text not in ('true', 'false'):
            raise ValueError('not true/false')
        return text == 'true'
    return text


_JSON_TYPES = {
    'string': (str,), 'integer': (int,), 'number': (int, float), 'boolean': (bool,),
    'array': (list,), 'object': (dict,),
}


def check_value(spec, value, where, table):
    """Problems of one JSON value against a field ``spec`` (list of strings)."""
    problems = []
    kind = spec.get('type', 'any')
    if kind != 'any':
        allowed = _JSON_TYPES[kind]
        wrong = not isinstance(value, allowed) or (kind in ('integer', 'number') and isinstance(value, bool))
        if wrong:
            return ['%s: %r is not of type %s' % (where, value, kind)]
    if 'enum' in spec and value not in spec['enum']:
        problems.append('%s: %r is not one of %s' % (where, value, spec['enum']))
    pattern = _pattern(spec, table)
    if pattern is not None and isinstance(value, str) and not re.search(pattern, value):
        problems.append('%s: %r does not match %s' % (where, value, pattern))
    if 'min' in spec and isinstance(value, (int, float)) and value < spec['min']:
        problems.append('%s: %r is below the minimum %s' % (where, value, spec['min']))
    if 'max' in spec and isinstance(value, (int, float)) and value > spec['max']:
        problems.append('%s: %r is past the maximum %s' % (where, value, spec['max']))
    if kind == 'array':
        if 'min_items' in spec and len(value) < spec['min_items']:
            problems.append('%s: %d items, at least %d needed' % (where, len(value), spec['min_items']))
        if 'max_items' in spec and len(value) > spec['max_items']:
            problems.append('%s: %d items, at most %d allowed' % (where, len(value), spec['max_items']))
        if 'items' in spec:
            for position, item in enumerate(value):
                problems.extend(check_value(spec['items'], item, '%s[%d]' % (where, position), table))
    if kind == 'object' and 'fields' in spec:
        problems.extend(_check_object(spec, value, where, table))
    return problems


def _check_object(spec, value, where, table):
    problems = []
    fields = spec.get('fields', {})
    for name in spec.get('required', ()):
        if name not in value:
            problems.append('%s: required field "%s" is missing' % (where, name))
    group = spec.get('exactly_one')
    if group:
        present = [name for name in group if name in value]
        if len(present) != 1:
            problems.append('%s: exactly one of %s is needed, got %s' % (where, group, present))
    for name, item in value.items():
        if name not in fields:
            problems.append('%s: field "%s" is not in the published description' % (where, name))
            continue
        problems.extend(check_value(fields[name], item, '%s.%s' % (where, name), table))
    return problems


def check_request(table, method, path, query=None, headers=None, body=b'', content_type=None):
    """Problems of one request against ``table`` (an empty list when it conforms).

    ``path`` is relative to the provider's base URL; ``query`` a dict of the last
    value of each parameter; ``headers`` a dict (case-insensitive names);
    ``body`` the raw bytes sent.
    """
    where = '%s %s' % (method.upper(), path)
    row, path_params = match_endpoint(table, method, path)
    if row is None:
        return ['%s: no such endpoint in the %s description' % (where, table['provider'])]
    problems = []
    headers = dict((str(key).lower(), value) for key, value in (headers or {}).items())
    auth = table.get('auth')
    if auth:
        value = headers.get(auth['header'].lower())
        if value is None or not re.search(auth['pattern'], value):
            problems.append('%s: no %s header as the provider takes it' % (where, auth['header']))
    for name, spec in (row.get('path_params') or {}).items():
        problems.extend(check_value(spec, path_params.get(name), '%s path {%s}' % (where, name), table))
    published = row.get('query') or {}
    for name, text in (query or {}).items():
        spec = published.get(name)
        if spec is None:
            problems.append('%s: query parameter "%s" is not in the published description' % (where, name))
            continue
        try:
            value = _parse_query_value(spec, text)
        except ValueError:
            problems.append('%s: query %s=%r is not of type %s' % (where, name, text, spec.get('type')))
            continue
        problems.extend(check_value(spec, value, '%s query %s' % (where, name), table))
    for name, spec in published.items():
        if spec.get('required') and name not in (query or {}):
            problems.append('%s: required query parameter "%s" is missing' % (where, name))
    problems.extend(_check_body(table, row, where, body or b'', content_type or headers.get('content-type')))
    return problems


def _check_body(table, row, where, body, content_type):
    if row.get('multipart'):
        if not (content_type or '').startswith('multipart/form-data'):
            return ['%s: a multipart/form-data body is expected' % where]
        names = set(re.findall(rb'Content-Disposition: *form-data; *name="([^"]+)"', body, re.I))
        names = set(name.decode('utf-8', 'replace') for name in names)
        problems = ['%s: multipart field "%s" is not in the published description' % (where, name)
                    for name in sorted(names - set(row['multipart']))]
        problems += ['%s: multipart field "%s" is missing' % (where, name)
                     for name in row['multipart'] if name not in names]
        return problems
    spec = row.get('body')
    if not body.strip():
        if spec and (spec.get('required') or spec.get('exactly_one') or spec.get('type') == 'array'):
            return ['%s: a JSON body is required' % where]
        return []
    if spec is None:
        return ['%s: a body is sent, the provider describes none' % where]
    try:
        value = json.loads(body.decode('utf-8'))
    except ValueError:
        return ['%s: the body is not JSON' % where]
    return check_value(spec, value, '%s body' % where, table)
