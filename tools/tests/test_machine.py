"""tools/machine.sh, which ./run-tests, ./run-demo and .ci/run source: on a PATH without
`odoo` it installs Odoo 14.0 with the project's bundle (../shared/odoo14/install.sh),
PostgreSQL and Chromium with apt-get, websocket-client in Odoo's Python, and says precisely
what to install when it cannot. Every installer here is a stub on a PATH of its own."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASIC_TOOLS = ('bash', 'sed', 'head', 'awk', 'ls', 'sort', 'tail', 'dirname', 'basename', 'cat', 'rm', 'grep',
               'mkdir', 'chmod')

# An Odoo's Python: `-c 'import websocket'` fails until `-m pip install websocket-client` ran.
FAKE_PYTHON = '''#!%(bash)s
echo "python $*" >> "%(log)s"
case "$1" in
    -c) case "$2" in *websocket*) [ -f "%(websocket)s" ] ;; *) exit 0 ;; esac ;;
    -m) : > "%(websocket)s" ;;
    *) echo "Odoo Server 14.0" ;;
esac
'''
# ../shared/odoo14/install.sh: an `odoo` in $ODOO14_BIN_DIR (off PATH, as /usr/local/bin can be)
FAKE_INSTALLER = '''#!%(bash)s
echo "installer $*" >> "%(log)s"
mkdir -p "$ODOO14_BIN_DIR"
printf '#!%%s\\nimport odoo\\n' "%(python)s" > "$ODOO14_BIN_DIR/odoo"
chmod 755 "$ODOO14_BIN_DIR/odoo"
'''
FAKE_APT = '''#!%(bash)s
echo "apt-get $*" >> "%(log)s"
case " $* " in
    *" postgresql "*) mkdir -p "%(pg)s/15/bin" && printf '#!%(bash)s\\n' > "%(pg)s/15/bin/initdb" \
                      && chmod 755 "%(pg)s/15/bin/initdb" ;;
esac
case " $* " in
    *" chromium "*) printf '#!%(bash)s\\n' > "%(stubs)s/chromium" && chmod 755 "%(stubs)s/chromium" ;;
esac
'''


class Machine(object):
    """A copy of tools/machine.sh in <tmp>/repo/tools, with <tmp>/shared/odoo14/ beside the
    repository, and a PATH of basic tools and stubs only."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.log = str(tmp_path / 'calls.log')
        self.stubs = tmp_path / 'stubs'
        self.stubs.mkdir()
        for tool in BASIC_TOOLS:
            found = shutil.which(tool, path='/usr/bin:/bin:/usr/local/bin')
            os.symlink(found, str(self.stubs / tool))
        tools = tmp_path / 'repo' / 'tools'
        tools.mkdir(parents=True)
        for name in ('machine.sh', 'odoo_cluster.sh'):
            shutil.copy(os.path.join(ROOT, 'tools', name), str(tools / name))
        self.script = str(tools / 'machine.sh')
        self.pg = tmp_path / 'postgresql'
        self.pg.mkdir()
        self.odoo_bin_dir = tmp_path / 'odoo-bin'
        self.python = tmp_path / 'odoo-venv' / 'python'
        self.python.parent.mkdir()
        self.values = {'bash': shutil.which('bash'), 'log': self.log, 'websocket': str(tmp_path / 'websocket'),
                       'python': str(self.python), 'pg': str(self.pg), 'stubs': str(self.stubs)}
        self._write(self.python, FAKE_PYTHON)
        self.root(True)
        self.env = {'PATH': str(self.stubs), 'WHATSAPP_PG_ROOT': str(self.pg),
                    'ODOO14_BIN_DIR': str(self.odoo_bin_dir)}

    def _write(self, path, template):
        path.write_text(template % self.values)
        path.chmod(0o755)

    def root(self, is_root):
        (self.stubs / 'id').write_text('#!%s\necho %d\n' % (self.values['bash'], 0 if is_root else 1000))
        (self.stubs / 'id').chmod(0o755)

    def add_installer(self):
        folder = self.tmp / 'shared' / 'odoo14'
        folder.mkdir(parents=True)
        self._write(folder / 'install.sh', FAKE_INSTALLER)
        return str(folder / 'install.sh')

    def add_apt(self):
        self._write(self.stubs / 'apt-get', FAKE_APT)

    def add_odoo(self):
        odoo = self.stubs / 'odoo'
        odoo.write_text('#!%s\nimport odoo\n' % self.python)
        odoo.chmod(0o755)

    def add_postgresql(self):
        (self.pg / '15' / 'bin').mkdir(parents=True)
        self._write(self.pg / '15' / 'bin' / 'initdb', '#!%(bash)s\n')

    def add_chromium(self):
        self._write(self.stubs / 'chromium', '#!%(bash)s\n')

    def add_websocket(self):
        open(self.values['websocket'], 'w').close()

    def run(self, *args, **env):
        script = ('. "$1"; shift; ensure_machine "$@"; status=$?; '
                  'for line in "${machine_missing[@]}"; do echo "missing: $line"; done; '
                  'echo "odoo: $(command -v odoo)"; exit $status')
        result = subprocess.run([self.values['bash'], '-c', script, '_', self.script] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                env=dict(self.env, **env), timeout=60)
        return result

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            return [line.rstrip('\n') for line in handle]


@pytest.fixture
def machine(tmp_path):
    return Machine(tmp_path)


def test_a_bare_machine_gets_everything_installed(machine):
    installer = machine.add_installer()
    machine.add_apt()
    result = machine.run('run-tests', 'tours')
    assert result.returncode == 0, result.stdout
    calls = [call for call in machine.calls() if not call.startswith('python -c')]
    assert calls == [
        'installer ',
        'apt-get update -qq',
        'apt-get install -y -qq postgresql',
        'apt-get install -y -qq chromium',
        'python -m pip install -q --disable-pip-version-check websocket-client',
    ]
    out = result.stdout
    assert "run-tests: no 'odoo' on PATH: installing Odoo 14.0 with %s" % installer in out
    assert 'run-tests: adding %s' % machine.odoo_bin_dir in out, "the installer's bin folder joins PATH"
    assert 'odoo: %s/odoo' % machine.odoo_bin_dir in out
    assert 'installing PostgreSQL' in out and 'installing Chromium' in out
    assert "run-tests: installing websocket-client in Odoo's Python (%s" % machine.python in out
    assert 'missing:' not in out

    again = machine.run('run-tests', 'tours', PATH='%s:%s' % (machine.odoo_bin_dir, machine.stubs))
    assert again.returncode == 0 and 'installing' not in again.stdout, 'a second run installs nothing'


def test_the_installer_named_by_the_environment(machine, tmp_path):
    other = tmp_path / 'elsewhere'
    other.mkdir()
    machine.add_postgresql()
    installer = machine.add_installer()
    shutil.move(installer, str(other / 'install.sh'))
    result = machine.run('run-demo', WHATSAPP_ODOO_INSTALLER=str(other / 'install.sh'))
    assert result.returncode == 0, result.stdout
    assert machine.calls()[:1] == ['installer ']
    assert 'installing Odoo 14.0 with %s/install.sh' % other in result.stdout


def test_without_installer_nor_root_it_says_what_to_install(machine):
    machine.add_apt()
    machine.root(False)
    result = machine.run('run-demo', 'tours')
    assert result.returncode == 1
    assert machine.calls() == [], 'nothing tried: no installer, apt-get only as root'
    missing = [line for line in result.stdout.splitlines() if line.startswith('missing: ')]
    assert len(missing) == 2, result.stdout
    assert "Odoo 14.0 as an 'odoo' command on PATH" in missing[0]
    assert '../shared/odoo14/install.sh (not found at %s/shared/odoo14/install.sh)' % machine.tmp in missing[0]
    assert 'https://www.odoo.com/documentation/14.0/administration/install.html' in missing[0]
    assert 'PostgreSQL' in missing[1] and 'apt-get install postgresql' in missing[1]


def test_an_odoo_without_chromium_nor_apt_gets_the_tours_pieces_named(machine):
    machine.add_odoo()
    machine.add_postgresql()
    result = machine.run('CI', 'tours')  # root, but no apt-get; pip fails: nothing is importable
    assert result.returncode == 1
    missing = [line for line in result.stdout.splitlines() if line.startswith('missing: ')]
    assert 'apt-get install chromium' in missing[0]
    assert missing[1:] == []  # the fake pip installs websocket-client
    machine.root(False)
    machine.add_chromium()
    os.remove(machine.values['websocket'])
    machine._write(machine.python, FAKE_PYTHON.replace(': > "%(websocket)s"', 'exit 1'))
    result = machine.run('CI', 'tours')
    missing = [line for line in result.stdout.splitlines() if line.startswith('missing: ')]
    assert missing == ["missing: websocket-client in Odoo's Python for the browser tours: "
                       "%s -m pip install websocket-client" % machine.python]


def test_an_odoo_on_path_is_left_alone(machine):
    """A (fake) odoo already there: no installer run, no apt-get, and without `tours`
    (./run-demo) neither Chromium nor websocket-client is looked at."""
    machine.add_installer()
    machine.add_apt()
    machine.add_odoo()
    machine.add_postgresql()
    result = machine.run('run-demo')
    assert result.returncode == 0, result.stdout
    assert machine.calls() == []
    assert 'odoo: %s/odoo' % machine.stubs in result.stdout


def test_skipped_by_the_environment(machine):
    machine.add_installer()
    machine.add_apt()
    result = machine.run('run-tests', 'tours', WHATSAPP_SKIP_SETUP='1')
    assert result.returncode == 0
    assert machine.calls() == []


def test_ci_fails_on_a_missing_piece(machine):
    """.ci/run sources the same helper and stops with its reasons."""
    ci = machine.tmp / 'repo' / '.ci'
    ci.mkdir()
    shutil.copy(os.path.join(ROOT, '.ci', 'run'), str(ci / 'run'))
    (machine.tmp / 'repo' / 'run-tests').write_text('#!%s\necho RUN-TESTS RAN\n' % machine.values['bash'])
    (machine.tmp / 'repo' / 'run-tests').chmod(0o755)
    machine.root(False)
    result = subprocess.run([machine.values['bash'], str(ci / 'run')], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, env=machine.env, timeout=60)
    assert result.returncode == 1
    assert 'CI: FAIL: missing on this machine, and not installed:' in result.stdout
    assert "Odoo 14.0 as an 'odoo' command on PATH" in result.stdout
    assert 'RUN-TESTS RAN' not in result.stdout

    machine.add_odoo()
    machine.add_postgresql()
    machine.add_chromium()
    machine.add_websocket()
    result = subprocess.run([machine.values['bash'], str(ci / 'run')], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, env=machine.env, timeout=60)
    assert result.returncode == 0 and 'RUN-TESTS RAN' in result.stdout, result.stdout
