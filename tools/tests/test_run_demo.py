"""./run-demo without an Odoo: its arguments, its message when Odoo is missing, and
the demo's own cleanup of the processes it starts."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DEMO = os.path.join(ROOT, 'run-demo')


def run_demo(*args, path=None):
    env = dict(os.environ)
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
    result = run_demo(path=str(bin_dir))
    assert result.returncode == 3, result.stderr
    assert 'install.sh' in result.stderr and 'odoo:14.0' in result.stderr
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
