"""Package surface: the factory, the defaults, and the no-Odoo rule."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

import providers
from providers import (
    PROVIDERS, ConfigurationError, ProviderClient, WassengerClient, WhapiClient,
    default_base_url, make_client,
)

PROVIDERS_DIR = os.path.dirname(os.path.abspath(providers.__file__))
REPO_ROOT = os.path.dirname(PROVIDERS_DIR)


def test_make_client_picks_class():
    assert isinstance(make_client('whapi', token='t'), WhapiClient)
    wass = make_client('wassenger', token='t', device_id='d', base_url='https://example.test/v1/')
    assert isinstance(wass, WassengerClient) and wass.base_url == 'https://example.test/v1'
    assert isinstance(wass, ProviderClient)
    assert make_client('whapi', token='t', base_url='').base_url == 'https://gate.whapi.cloud'
    assert set(PROVIDERS) == {'whapi', 'wassenger'}


@pytest.mark.parametrize('name', ['twilio', '', None, 'WHAPI'])
def test_unknown_provider(name):
    with pytest.raises(ConfigurationError):
        make_client(name, token='t')
    with pytest.raises(ConfigurationError):
        default_base_url(name)


def test_default_base_urls():
    assert default_base_url('whapi') == 'https://gate.whapi.cloud'
    assert default_base_url('wassenger') == 'https://api.wassenger.com/v1'


# Methods the base class implements itself, shared by every client (mark_read,
# resolve_hidden_numbers: the base refuses them as unsupported, which is right for a
# provider without read receipts or a way to map hidden numbers).
CONCRETE_BASE_METHODS = {'supports', 'get_groups', 'mark_read', 'resolve_hidden_numbers'}


def test_both_clients_implement_the_whole_interface():
    public = [name for name in vars(ProviderClient) if not name.startswith('_')
              and callable(getattr(ProviderClient, name)) and name not in CONCRETE_BASE_METHODS]
    for client_class in (WhapiClient, WassengerClient):
        for name in public:
            assert getattr(client_class, name) is not getattr(ProviderClient, name), (client_class, name)


def _provider_sources():
    for folder, _dirs, files in os.walk(PROVIDERS_DIR):
        for name in files:
            if name.endswith('.py'):
                yield os.path.join(folder, name)


def test_no_source_under_providers_imports_odoo():
    pattern = re.compile(r'^\s*(from\s+odoo\b|import\s+odoo\b)', re.MULTILINE)
    offenders = []
    for path in _provider_sources():
        with open(path, encoding='utf-8') as handle:
            if pattern.search(handle.read()):
                offenders.append(path)
    assert offenders == []


def test_providers_import_with_poisoned_odoo(tmp_path):
    poison = tmp_path / 'odoo'
    poison.mkdir()
    (poison / '__init__.py').write_text("raise ImportError('providers/ must not import odoo')\n")
    script = textwrap.dedent('''
        import importlib, pkgutil, sys
        import providers
        for info in pkgutil.iter_modules(providers.__path__):
            if info.name != 'tests':
                importlib.import_module('providers.' + info.name)
        assert 'odoo' not in sys.modules
        print('ok')
    ''')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), REPO_ROOT]))
    result = subprocess.run([sys.executable, '-c', script], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'


def test_capabilities_name_known_operations_only():
    from providers import CAPABILITIES
    for client_class in (WhapiClient, WassengerClient):
        assert client_class.capabilities <= CAPABILITIES
        for operation in client_class.capabilities - {'check_numbers_batch'}:
            assert callable(getattr(client_class, operation))
    assert WhapiClient(token='t').supports('check_numbers_batch')
    assert not WassengerClient(token='t').supports('check_numbers_batch')
    assert not WhapiClient(token='t').supports('no_such_operation')
