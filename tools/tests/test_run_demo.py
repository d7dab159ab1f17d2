"""./run-demo without an Odoo: its arguments, its message when Odoo is missing, the
demo's own cleanup of the processes it starts, and ./run-demo's cleanup (processes,
cluster, work directory) on SIGINT and SIGTERM, with a fake `odoo` on PATH."""
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DEMO = os.path.join(ROOT, 'run-demo')


def run_demo(*args, path=None, **extra_env):
    env = dict(os.environ, **extra_env)
    if path is not None:
        env['PATH'] = path
    return subprocess.run([RUN_DEMO] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, timeout=60)


def test_help_prints_usage():
    result = run_demo('--help')
    assert result.returncode == 0
    assert '--keep' in result.stdout and 'Ctrl-C' in result.stdout


@pytest.mark.parametrize('args', [['--bogus'], ['--port'], ['--port', 'eighty'], ['--every', 'often']])
def test_bad_arguments_fail_with_usage(args):
    result = run_demo(*args)
    assert result.returncode == 2
    assert 'run-demo' in result.stderr


def test_without_odoo_it_says_how_to_get_one(tmp_path):
    # a PATH with the basic tools (bash, python3, coreutils) but no `odoo`
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for tool in ('bash', 'python3', 'sed', 'head', 'awk', 'ls', 'sort', 'tail', 'dirname', 'cat', 'mktemp',
                 'rm', 'grep'):
        for folder in ('/usr/bin', '/bin', '/usr/local/bin'):
            if os.path.exists(os.path.join(folder, tool)):
                os.symlink(os.path.join(folder, tool), str(bin_dir / tool))
                break
    # no Odoo bundle either (beside /work/main there is one: it would install Odoo)
    result = run_demo(path=str(bin_dir), WHATSAPP_ODOO_INSTALLER=str(tmp_path / 'no-bundle' / 'install.sh'))
    assert result.returncode == 3, result.stderr
    assert 'run-demo: missing on this machine, and not installed:' in result.stderr
    assert "Odoo 14.0 not found on PATH (no 'odoo' command)" in result.stderr
    assert 'odoo14/install.sh' in result.stderr
    assert 'docker run' in result.stderr and 'odoo:14.0' in result.stderr
    assert '/mnt/extra-addons/whatsapp_integration' in result.stderr
    assert not [name for name in os.listdir('/tmp') if name.startswith('whatsapp-demo.') and
                os.path.getmtime(os.path.join('/tmp', name)) > time.time() - 5], 'nothing was made'


def test_the_demo_stops_its_processes_on_sigterm(tmp_path):
    """tools/demo.py's Children: every process it started, and their children, end."""
    script = tmp_path / 'children.py'
    pids = tmp_path / 'pids'
    script.write_text(textwrap.dedent('''
        import signal, sys, time
        sys.path.insert(0, %r)
        from demo import Children, Stop, _raise_stop
        signal.signal(signal.SIGTERM, _raise_stop)
        children = Children()
        try:
            started = [children.start(['sh', '-c', 'sleep 300 & echo $!; wait']) for _ in range(2)]
            with open(%r, 'w') as handle:
                handle.write(' '.join(str(p.pid) for p in started))
            while True:
                time.sleep(0.1)
        except Stop:
            pass
        finally:
            children.stop(timeout=5)
    ''' % (os.path.join(ROOT, 'tools'), str(pids))))
    process = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 20
    while not (pids.exists() and pids.read_text().strip()) and time.time() < deadline:
        time.sleep(0.05)
    started = [int(pid) for pid in pids.read_text().split()]
    groups = {pid: os.getpgid(pid) for pid in started}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    deadline = time.time() + 10
    while living_members(set(groups.values())) and time.time() < deadline:
        time.sleep(0.1)
    assert not living_members(set(groups.values())), 'no process of those groups is left, the sleeps included'


def living_members(groups):
    """Processes (zombies aside) whose process group is one of ``groups``."""
    living = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp in groups and state != 'Z':
            living.append(int(name))
    return living


# ----------------------------------------------------------------------------------------
# ./run-demo's own cleanup, with a fake Odoo: a real PostgreSQL cluster, no Odoo
# ----------------------------------------------------------------------------------------
def _cluster_available():
    try:
        pwd.getpwnam('postgres')
    except KeyError:
        return False
    return os.geteuid() == 0 and bool(glob.glob('/usr/lib/postgresql/*/bin/initdb'))


needs_cluster = pytest.mark.skipif(not _cluster_available(),
                                   reason='needs root, a postgres user and PostgreSQL server binaries')

# The fake Odoo's Python: it runs the fake `odoo` script (its interpreter, from the shebang,
# as ./run-demo finds it), answers ./run-demo's `-c` probes, and stands in for tools/demo.py.
FAKE_PYTHON = r"""#!%(python)s
import json, os, signal, sys, time
args = sys.argv[1:]
log = os.environ['FAKE_ODOO_LOG']
def record(**entry):
    with open(log, 'a') as handle:
        handle.write(json.dumps(dict(entry, pid=os.getpid())) + '\n')
if args[0] == '-c':
    if 'odoo.addons' in args[1]:
        print(os.path.dirname(os.path.abspath(__file__)))
    sys.exit(0)
name = os.path.basename(args[0])
if name == 'odoo' and '--version' in args:
    print('Odoo Server 14.0')
    sys.exit(0)
what = name if name != 'odoo' else ('install' if '-i' in args else 'update')
record(what=what, args=args[1:])
if what in ('install', 'update') and os.environ.get('FAKE_ODOO_STAGE') != what:
    sys.exit(0)
# the stage the test stops ./run-demo in: wait to be stopped
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
record(what=what + ' waiting')
while True:
    time.sleep(0.1)
"""


def _fake_odoo(tmp_path):
    bin_dir = tmp_path / 'fake-odoo-bin'
    bin_dir.mkdir()
    python = bin_dir / 'python'
    python.write_text(FAKE_PYTHON % {'python': sys.executable})
    odoo = bin_dir / 'odoo'
    odoo.write_text('#!%s\n# a fake Odoo 14.0: its interpreter does the work\n' % python)
    for script in (python, odoo):
        script.chmod(0o755)
    return bin_dir


def _records(log):
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _processes_mentioning(text):
    """Pids (zombies aside) whose command line contains ``text``."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as handle:
                cmdline = handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
        except OSError:
            continue
        if text in cmdline and _alive(int(name)):
            found.append(int(name))
    return found


class DemoRun(object):
    """./run-demo started with the fake Odoo first on PATH, stopped by a signal."""

    def __init__(self, tmp_path, bin_dir, stage, args=(), env=None, ignore_sigint=False):
        self.log = str(tmp_path / ('odoo-%s-%d.log' % (stage, time.monotonic_ns())))
        self.out = tmp_path / ('run-demo-%d.out' % time.monotonic_ns())
        environ = dict(os.environ, PATH='%s:%s' % (bin_dir, os.environ['PATH']), FAKE_ODOO_LOG=self.log,
                       FAKE_ODOO_STAGE=stage, **(env or {}))
        environ.pop('RUN_DEMO_SIGINT_RESET', None)

        def start():
            os.setsid()  # its own process group, as a terminal's foreground job
            if ignore_sigint:  # as `./run-demo &` in a script: SIGINT ignored on entry
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        with open(str(self.out), 'w') as out:
            self.process = subprocess.Popen([RUN_DEMO, '--every', '0'] + list(args), stdout=out,
                                            stderr=subprocess.STDOUT, env=environ, preexec_fn=start)
        self.stage = stage

    def output(self):
        return self.out.read_text()

    def wait_for_stage(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            waiting = [r for r in _records(self.log) if r['what'] == self.stage + ' waiting']
            if waiting:
                return waiting[0]['pid']
            assert self.process.poll() is None, 'run-demo ended early:\n' + self.output()
            time.sleep(0.1)
        raise AssertionError('run-demo did not reach %s:\n%s' % (self.stage, self.output()))

    def work_dir(self):
        for line in self.output().splitlines():
            if line.startswith('run-demo: working in '):
                return line[len('run-demo: working in '):].split(' (')[0]
        raise AssertionError('no work directory printed:\n' + self.output())

    def force_cleanup(self):
        """After a failed test: what the run left, gone (its process group, its cluster)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        try:
            work = self.work_dir()
        except AssertionError:
            return
        pg_ctl = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))[-1]
        if os.path.isdir(os.path.join(work, 'pg')):
            subprocess.run(['su', 'postgres', '-s', '/bin/sh', '-c', "'%s' -D '%s/pg' -m immediate stop" % (
                pg_ctl, work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if work.startswith('/tmp/whatsapp-demo.'):
            shutil.rmtree(work, ignore_errors=True)

    def stop(self, signum, whole_group=False):
        if whole_group:  # Ctrl-C in a terminal: every process of the foreground job
            os.killpg(self.process.pid, signum)
        else:  # kill -INT / -TERM <pid of ./run-demo>
            self.process.send_signal(signum)
        return self.process.wait(timeout=30)


@pytest.fixture
def demo_runs():
    """Start DemoRuns through this; whatever a failing test leaves is stopped."""
    runs = []

    def start(*args, **kwargs):
        run = DemoRun(*args, **kwargs)
        runs.append(run)
        return run
    yield start
    for run in runs:
        run.force_cleanup()


def _assert_left_nothing(run, work, fake_pid):
    deadline = time.time() + 10
    while (_alive(fake_pid) or _processes_mentioning(work)) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(fake_pid), 'the stage ./run-demo was in is stopped'
    assert not _processes_mentioning(work), 'no process of the run is left (PostgreSQL included)'


@needs_cluster
@pytest.mark.parametrize('stage, signum, whole_group, ignore_sigint', [
    ('demo.py', signal.SIGINT, True, False),    # Ctrl-C while the demo serves
    ('demo.py', signal.SIGTERM, False, False),  # kill <pid>
    ('demo.py', signal.SIGINT, False, True),    # kill -INT <pid> of a demo started with `&` in a script
    ('install', signal.SIGINT, False, False),   # interrupted while it creates the database
])
def test_a_signal_stops_everything_and_removes_the_work_directory(demo_runs, tmp_path, stage, signum,
                                                                  whole_group, ignore_sigint):
    run = demo_runs(tmp_path, _fake_odoo(tmp_path), stage, ignore_sigint=ignore_sigint)
    fake_pid = run.wait_for_stage()
    work = run.work_dir()
    assert work.startswith('/tmp/whatsapp-demo.') and os.path.isdir(os.path.join(work, 'pg'))
    assert _processes_mentioning(work), 'the cluster runs'
    started = time.time()
    assert run.stop(signum, whole_group) == 130, run.output()
    assert time.time() - started < 15, 'stopped at once, not after the running step'
    _assert_left_nothing(run, work, fake_pid)
    assert not os.path.exists(work), 'the work directory is removed'


@pytest.fixture
def kept_dir():
    """A WHATSAPP_DEMO_DIR the `postgres` user can reach, removed after the test."""
    kept = tempfile.mkdtemp(prefix='whatsapp-demo-test.', dir='/tmp')
    os.chmod(kept, 0o755)
    yield kept
    shutil.rmtree(kept, ignore_errors=True)


@needs_cluster
def test_keep_keeps_the_database_for_the_next_run(kept_dir, demo_runs, tmp_path):
    bin_dir = _fake_odoo(tmp_path)
    env = {'WHATSAPP_DEMO_DIR': kept_dir}
    first = demo_runs(tmp_path, bin_dir, 'demo.py', ['--keep'], env)
    fake_pid = first.wait_for_stage()
    assert first.work_dir() == kept_dir
    assert [r['what'] for r in _records(first.log)][:1] == ['install']
    assert first.stop(signal.SIGTERM) == 130
    _assert_left_nothing(first, kept_dir, fake_pid)
    assert 'database kept in %s' % kept_dir in first.output()
    assert os.path.isfile(os.path.join(kept_dir, 'pg', 'PG_VERSION'))

    second = demo_runs(tmp_path, bin_dir, 'demo.py', ['--keep'], env)
    fake_pid = second.wait_for_stage()
    assert [r['what'] for r in _records(second.log)][:1] == ['update'], 'the kept database is reused'
    assert 'updating the kept demo database' in second.output()
    assert second.stop(signal.SIGINT, whole_group=True) == 130
    _assert_left_nothing(second, kept_dir, fake_pid)
    assert os.path.isfile(os.path.join(kept_dir, 'pg', 'PG_VERSION'))


def test_keep_refuses_a_directory_that_is_not_a_demo_one(demo_runs, tmp_path):
    foreign = tmp_path / 'my-files'
    foreign.mkdir()
    (foreign / 'precious.txt').write_text('keep me')
    run = demo_runs(tmp_path, _fake_odoo(tmp_path), 'demo.py', ['--keep'], {'WHATSAPP_DEMO_DIR': str(foreign)})
    assert run.process.wait(timeout=30) == 1
    assert 'not a demo directory' in run.output()
    assert (foreign / 'precious.txt').read_text() == 'keep me'
    assert sorted(os.listdir(str(foreign))) == ['precious.txt']
