#!/usr/bin/env python3
"""Static checks of the addon, run by ./run-tests before the tests.

(a) every XML file parses; (b) __manifest__.py is a literal dict with the
keys Odoo 14 and this addon need, and lists only files that exist;
(c) vermin: the code runs on Python 3.7+; (d) everything byte-compiles.
Exit status 1 when any check fails.
"""
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Folders that are not the addon's own code.
EXCLUDED_DIRS = {'.git', '.venv', '.venv-test', 'venv', 'node_modules', '__pycache__', '.pytest_cache'}
REQUIRED_DEPENDS = ('base', 'mail', 'contacts')
REQUIRED_PYTHON_DEPENDENCIES = ('requests', 'phonenumbers')
MIN_PYTHON = '3.7'


def addon_files(suffix):
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith('.venv'))
        for name in sorted(files):
            if name.endswith(suffix):
                yield os.path.join(folder, name)


def relative(path):
    return os.path.relpath(path, ROOT)


def check_xml():
    try:
        from lxml import etree

        def parse(path):
            etree.parse(path)
        errors_caught = (etree.XMLSyntaxError, OSError)
    except ImportError:
        import xml.etree.ElementTree as etree_std

        def parse(path):
            etree_std.parse(path)
        errors_caught = (etree_std.ParseError, OSError)
    problems = []
    count = 0
    for path in addon_files('.xml'):
        count += 1
        try:
            parse(path)
        except errors_caught as exc:
            problems.append('%s: %s' % (relative(path), exc))
    return problems, '%d XML files parse' % count


def check_manifest():
    path = os.path.join(ROOT, '__manifest__.py')
    if not os.path.isfile(path):
        return ['__manifest__.py does not exist'], None
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    try:
        manifest = ast.literal_eval(source)
    except (SyntaxError, ValueError) as exc:
        return ['__manifest__.py is not a Python literal: %s' % exc], None
    if not isinstance(manifest, dict):
        return ['__manifest__.py is not a dict'], None
    problems = []
    for key in ('name', 'version', 'depends', 'data', 'license', 'external_dependencies'):
        if key not in manifest:
            problems.append('__manifest__.py: missing key %r' % key)
    version = manifest.get('version')
    if not isinstance(version, str) or not version.startswith('14.0.'):
        problems.append('__manifest__.py: version %r does not start with "14.0."' % (version,))
    depends = manifest.get('depends') or []
    for module in REQUIRED_DEPENDS:
        if module not in depends:
            problems.append('__manifest__.py: depends lacks %r' % module)
    external = manifest.get('external_dependencies') or {}
    python_deps = external.get('python') if isinstance(external, dict) else None
    for package in REQUIRED_PYTHON_DEPENDENCIES:
        if not python_deps or package not in python_deps:
            problems.append('__manifest__.py: external_dependencies.python lacks %r' % package)
    listed = 0
    for key in ('data', 'demo'):
        files = manifest.get(key, [])
        if not isinstance(files, list):
            problems.append('__manifest__.py: %r is not a list' % key)
            continue
        for name in files:
            listed += 1
            if not os.path.isfile(os.path.join(ROOT, name)):
                problems.append('__manifest__.py: %s file %r does not exist' % (key, name))
    return problems, '__manifest__.py valid, %d data/demo files exist' % listed


def check_python_versions():
    files = [relative(path) for path in addon_files('.py')]
    vermin = os.path.join(os.path.dirname(sys.executable), 'vermin')
    if not os.path.isfile(vermin):
        vermin = shutil.which('vermin')
    if not vermin:
        return ['vermin is not installed (pip install -r requirements-test.txt)'], None
    command = [vermin, '-t=%s-' % MIN_PYTHON, '--no-tips',
               '--violations', '--no-parse-comments'] + files
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    if result.returncode != 0:
        return ['vermin (Python %s+) reports:\n%s' % (MIN_PYTHON, result.stdout.strip())], None
    return [], '%d Python files run on Python %s+ (vermin)' % (len(files), MIN_PYTHON)


def check_compile():
    """Byte-compile everything; the .pyc files go to a temporary prefix, not the repo."""
    skip = r'[\\/](%s)([\\/]|$)' % '|'.join(
        [re.escape(d) for d in sorted(EXCLUDED_DIRS)] + [r'\.venv[^\\/]*'])
    with tempfile.TemporaryDirectory() as prefix:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=prefix)
        result = subprocess.run([sys.executable, '-m', 'compileall', '-q', '-x', skip, ROOT],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True)
    if result.returncode != 0:
        return ['compileall reports:\n%s' % result.stdout.strip()], None
    return [], 'everything byte-compiles'


CHECKS = [
    ('xml', check_xml),
    ('manifest', check_manifest),
    ('vermin', check_python_versions),
    ('compileall', check_compile),
]


def main():
    failed = 0
    for name, check in CHECKS:
        problems, summary = check()
        if problems:
            failed += 1
            print('FAIL %-10s' % name)
            for problem in problems:
                print('     - %s' % problem)
        else:
            print('ok   %-10s %s' % (name, summary))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
