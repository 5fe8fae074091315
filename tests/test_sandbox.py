"""The sandbox a submission runs in: what it sees, what it may use, how it ends."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from conftest import REPO_ROOT, grade_batch, require_sandbox, run_cli, sample_assignments

from autograder.box import forkserver
from autograder.box.sandbox import Capabilities, Limits, Sandbox, detect, require
from autograder.box.session import Session, SessionEnded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def caps() -> Capabilities:
    require_sandbox()
    return detect()


@pytest.fixture(params=["forked", "fresh"])
def how(request) -> str:
    """How the runner starts: forked from the fork server (the default), or fresh."""
    return request.param


def session(caps: Capabilities, grace: float = 3.0, how: str = "forked", **limits) -> Session:
    sandbox = Sandbox(caps, Limits(**limits))
    if how == "fresh":
        sandbox = sandbox.fresh_process()
    return Session(sandbox, seed=1, budget_seconds=120, grace_seconds=grace)


def run(s: Session, source: str, timeout: float = 20) -> dict:
    return s.request("cell", timeout, source=textwrap.dedent(source))


def test_this_machine_can_build_the_sandbox(caps):
    assert caps.sandbox_ok, caps.problems()
    assert "bubblewrap" in caps.describe() and "cgroup" in caps.describe()


def test_the_box_shows_only_the_course_code_read_only_and_no_network(caps, how, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's file")
    probes = {
        "an unprivileged user": "import os\nassert os.getuid() == 65534 and os.geteuid() == 65534",
        "no capabilities": "assert open('/proc/self/status').read().split('CapEff:')[1]"
                           ".split()[0] == '0000000000000000'",
        "no solutions/": f"import os\nassert not os.path.exists({str(REPO_ROOT / 'solutions')!r})",
        "no grader files": f"import os\nassert not os.path.exists({str(secret)!r})",
        "only the packages and the venv of the repository":
            f"import os\nassert set(os.listdir({str(REPO_ROOT)!r})) <= "
            "{'rlkit', 'autograder', '.venv'}",
        "no sample class": "import os, autograder\nd = os.path.join(os.path.dirname("
                           "autograder.__file__), 'frontends', 'sample_class')\n"
                           "assert os.listdir(d) == []",
        "read-only code": "import rlkit, os\ntry:\n    open(os.path.join(os.path.dirname("
                          "rlkit.__file__), 'x.py'), 'w')\nexcept OSError as e:\n"
                          "    assert e.errno == 30\nelse:\n    raise AssertionError",
        "a writable scratch": "open('/scratch/a', 'w').write('x'); open('/tmp/b', 'w')",
        "no network": "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), 2)\n"
                      "except OSError:\n    pass\nelse:\n    raise AssertionError",
        "its own pid namespace": "import os\nassert os.getpid() < 10",
        "grading mode": "import os\nassert os.environ['NBGRADER_EXECUTION'] == 'autograde'",
    }
    with session(caps, how=how) as s:
        for what, source in probes.items():
            reply = run(s, source)
            assert reply["status"] == "ok", (what, reply)


def test_the_box_does_not_see_the_sandbox_command(caps, how):
    """PID 1 of the box (bwrap, or the fork server's init) shows no bind and no host path."""
    first = ("seen[1:3] == [b'--args', seen[2]] and seen[3] == b'--'" if how == "fresh" else
             "seen[1:3] == [b'-m', b'autograder.box.forkserver']")
    with session(caps, how=how) as s:
        reply = run(s, f"""
            import os
            seen = open('/proc/1/cmdline', 'rb').read().split(b'\\0')
            assert {first}, seen
            assert not any(b'bind' in part or part.startswith(b'/etc') for part in seen), seen
            fds = []
            for fd in os.listdir('/proc/self/fd'):
                try:
                    fds.append(os.readlink(f'/proc/self/fd/{{fd}}'))
                except OSError:
                    pass
            assert not any('bwrap-args' in target for target in fds), fds
        """)
        assert reply["status"] == "ok", (reply, s.output_text())
    argv, options = Sandbox(caps, Limits()).launch(["python"], 9)
    assert argv[1:4] == ["--args", "9", "--"] and b"--ro-bind\0/usr\0/usr\0" in options


def test_a_memory_bomb_is_killed_for_memory(caps, how):
    with session(caps, how=how, memory_mb=256) as s, pytest.raises(SessionEnded) as info:
        run(s, "x = []\nwhile True:\n    x.append(b'x' * 2**24)")
    assert info.value.cause == "memory" and "256 MiB" in info.value.detail
    with pytest.raises(SessionEnded):  # every later step fails the same way
        run(s, "pass")


def test_a_fork_bomb_stops_at_the_process_limit(caps, how):
    with session(caps, how=how, pids=24) as s:
        reply = run(s, """
            import os, time
            children = 0
            for _ in range(200):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
            assert children < 24, children
        """)
        assert reply["status"] == "ok", reply
        reply = run(s, "import os\nassert [p for p in os.listdir('/proc') if p.isdigit()]"
                       " == ['1', str(os.getpid())] or sorted(map(int, [p for p in "
                       "os.listdir('/proc') if p.isdigit()])) == [1, os.getpid()]")
        assert reply["status"] == "ok", reply  # the grader had the runner reap the bomb
    assert s.pids_limit_hit


def test_a_notebook_has_a_total_time_budget(caps):
    s = Session(Sandbox(caps, Limits()), seed=1, budget_seconds=4, grace_seconds=30)
    with s, pytest.raises(SessionEnded) as info:
        for _ in range(10):
            run(s, "import time\ntime.sleep(1.5)")
    assert info.value.cause == "timeout" and "total time budget" in info.value.detail


def test_a_step_past_its_time_limit_is_interrupted_then_killed(caps, how):
    with session(caps, grace=2, how=how) as s:
        assert run(s, "while True: pass", timeout=1)["status"] == "timeout"
        assert run(s, "x = 1")["status"] == "ok"  # the session goes on
        with pytest.raises(SessionEnded) as info:  # a step that ignores the timer
            run(s, "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                   "while True: pass", timeout=1)
    assert info.value.cause == "timeout"


def test_exiting_is_a_crash_with_the_exit_code(caps, how):
    with session(caps) as s, pytest.raises(SessionEnded) as info:
        run(s, "import os\nos._exit(3)")
    assert info.value.cause == "crash" and "exited with code 3" in info.value.detail


def test_output_is_capped_and_files_are_limited(caps, how):
    with session(caps, how=how, output_kb=4, file_mb=1) as s:
        assert run(s, "print('x' * 10**6)")["status"] == "ok"
        reply = run(s, "open('/scratch/big', 'wb').write(b'x' * 2**21)")
        assert reply["status"] == "error" and "File too large" in reply["error"]
        reply = run(s, "f = open('/scratch/fill', 'wb')\nwhile True:\n    f.write(b'x' * 2**20)")
        assert reply["status"] == "error"
    assert len(s.output) <= 4096 and "more bytes of output dropped" in s.output_text()


def test_forged_replies_are_ignored(caps, how):
    with session(caps, how=how) as s:
        reply = run(s, """
            import os
            for fd in range(3, 12):
                try:
                    os.write(fd, b'{"status": "ok", "nonce": "guess"}\\n{"broken\\n')
                except OSError:
                    pass
        """)
        assert reply["status"] == "ok"
        assert run(s, "1/0")["status"] == "error"


def test_no_cgroup_or_process_is_left_behind(caps, how):
    with session(caps, how=how) as s:
        run(s, "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)")
        cgroup_dirs = list(s.cgroup.dirs.values())
    assert cgroup_dirs and not any(d.exists() for d in cgroup_dirs)
    assert s.proc.poll() is not None


# ----------------------------------------------------------------------------- the fork server


def server_pid(s: Session) -> int:
    """The host PID of the fork server that forked ``s``'s runner."""
    server = s.proc.server
    found = [pid for pid in server.cgroup.pids()
             if _cmdline(str(pid)).split(b"\0")[1:3] == [b"-m", b"autograder.box.forkserver"]]
    assert len(found) == 1, found
    return found[0]


def test_a_submission_leaves_nothing_for_the_next_one(caps, tmp_path):
    """Patched modules, files, environment and processes all end with their submission."""
    marker = f"autograder-leftover-{os.getpid()}"
    with session(caps) as first:
        assert isinstance(first.proc, forkserver.Forked)
        server = server_pid(first)
        reply = run(first, f"""
            import os, subprocess, sys
            import numpy as np, torch, rlkit, rlkit.mdp, autograder.box.calls as calls
            np.allclose = lambda *a, **k: True
            np.zeros = lambda *a, **k: 'patched'
            torch.zeros = lambda *a, **k: 'patched'
            rlkit.mdp.TabularMDP = None
            rlkit.PATCHED = calls.PATCHED = True
            sys.modules['math'].pi = 3
            os.environ['LEFT_BEHIND'] = '1'
            for d in ('/scratch', '/tmp', '/dev/shm'):
                open(os.path.join(d, '{marker}'), 'w').write('x')
            subprocess.Popen(['sleep', '600', '{marker}'], start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                os.execvp('sleep', ['sleep', '601', '{marker}'])
        """)
        assert reply["status"] == "ok", (reply, first.output_text())
    with session(caps) as second:
        assert server_pid(second) == server  # the same server forked it
        reply = run(second, """
            import math, os, subprocess, sys
            import numpy as np, torch, rlkit, rlkit.mdp, autograder.box.calls as calls
            assert not np.allclose([0.0], [1.0]) and np.zeros(2).shape == (2,)
            assert torch.zeros(2).shape == (2,) and rlkit.mdp.TabularMDP is not None
            assert not hasattr(rlkit, 'PATCHED') and not hasattr(calls, 'PATCHED')
            assert math.pi > 3.14 and 'LEFT_BEHIND' not in os.environ
            for d in ('/scratch', '/tmp', '/dev/shm'):
                assert os.listdir(d) in ([], ['.matplotlib']), (d, os.listdir(d))
            seen = [p for p in os.listdir('/proc') if p.isdigit()]
            assert sorted(seen, key=int) == ['1', '2'], seen
        """)
        assert reply["status"] == "ok", (reply, second.output_text())
    leftovers = [pid for pid in os.listdir("/proc") if pid.isdigit()
                 and marker.encode() in _cmdline(pid)]
    assert leftovers == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_the_fork_server_is_out_of_reach(caps):
    """No signal, ptrace or namespace reaches the server or the submission's init."""
    with session(caps) as s:
        server = server_pid(s)
        reply = run(s, """
            import ctypes, os, signal
            libc = ctypes.CDLL(None, use_errno=True)
            assert os.getppid() == 1 and os.getpid() == 2
            for pid in (1, -1, 0):  # init ignores them; -1 and 0: only this namespace
                try:
                    os.kill(pid, signal.SIGKILL if pid == 1 else signal.SIGCONT)
                except OSError:
                    pass
            assert libc.ptrace(16, 1, None, None) == -1  # PTRACE_ATTACH to init
            assert ctypes.get_errno() == 1  # EPERM: another user's, non-dumpable
            for ns in ('mnt', 'pid', 'user'):
                fd = os.open(f'/proc/1/ns/{ns}', os.O_RDONLY) if os.access(
                    f'/proc/1/ns/{ns}', os.R_OK) else -1
                assert fd < 0 or libc.setns(fd, 0) == -1
            assert libc.umount2(b'/scratch', 2) == -1 and libc.unshare(0x20000) == -1
        """)
        assert reply["status"] == "ok", (reply, s.output_text())
        assert run(s, "pass")["status"] == "ok"
    # the server is non-dumpable: root with the server's capabilities but CAP_SYS_PTRACE
    # cannot ptrace it, while it can ptrace a dumpable process with the same capabilities
    import subprocess
    import sys

    same_caps = ["setpriv", "--inh-caps=-all", "--bounding-set=-all," + ",".join(
        "+" + cap.removeprefix("CAP_").lower() for cap in forkserver.SERVER_CAPS)]
    probe = ("import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "sys.exit(libc.ptrace(16, int(sys.argv[1]), None, None) and ctypes.get_errno())")

    def traceable(pid: int) -> bool:
        return subprocess.run([*same_caps, sys.executable, "-c", probe, str(pid)],
                              check=False).returncode == 0

    dumpable = subprocess.Popen([*same_caps, sys.executable, "-c",
                                 "import time\ntime.sleep(60)"])
    try:
        assert traceable(dumpable.pid) and not traceable(server)
    finally:
        dumpable.kill()
        dumpable.wait()
    with session(caps) as s:
        assert server_pid(s) == server and run(s, "pass")["status"] == "ok"


def test_a_dead_server_is_restarted_and_costs_only_its_session(caps):
    import signal

    with session(caps) as s:
        assert run(s, "x = 1")["status"] == "ok"
        server = server_pid(s)
        os.kill(server, signal.SIGKILL)
        with pytest.raises(SessionEnded) as info:
            run(s, "import time\ntime.sleep(5)")
    assert info.value.cause == "crash"
    with session(caps) as s:
        assert isinstance(s.proc, forkserver.Forked) and server_pid(s) != server
        assert run(s, "import numpy\nx = numpy.ones(3).sum()")["status"] == "ok"


def test_a_forked_runner_looks_like_a_fresh_one(caps):
    """What student code can see of its process is the same forked and fresh."""
    probe = """
        import json, os, resource, sys
        import gymnasium, matplotlib.pyplot, numpy, rlkit, torch  # their side effects alike
        streams = {name: (s.seekable(), s.encoding, s.errors, s.line_buffering,
                          s.write_through, type(s.buffer).__name__, s.mode)
                   for name, s in (("out", sys.stdout), ("err", sys.stderr))}
        sys.stdout.reconfigure(errors="surrogatepass")  # seeks a stream it thinks seekable
        limits = {n: resource.getrlimit(getattr(resource, n))
                  for n in ("RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NOFILE", "RLIMIT_NPROC")}
        print(json.dumps({"streams": streams, "limits": limits, "env": dict(os.environ),
                          "argv": sys.argv, "cwd": os.getcwd(), "ids": os.getresuid(),
                          "groups": os.getgroups(), "umask": os.umask(0o22),
                          "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                          "stdin": os.readlink("/proc/self/fd/0"),
                          "flags": str(sys.flags), "main": sys.modules["__main__"].__name__}))
    """
    seen = {}
    for how in ("forked", "fresh"):
        with session(caps, how=how) as s:
            assert run(s, probe)["status"] == "ok", s.output_text()
            seen[how] = json.loads(s.output_text().strip().splitlines()[-1])
    for key in seen["fresh"]:
        assert seen["forked"][key] == seen["fresh"][key], key


def test_a_server_that_cannot_fork_here_leaves_fresh_processes(caps, monkeypatch):
    """A fork the server refuses (here: a cgroup the child cannot join) is graded fresh."""
    cpuset = Path("/sys/fs/cgroup/cpuset")
    if not (cpuset / "cgroup.procs").is_file():
        pytest.skip("needs cgroup v1's cpuset (an empty cpuset refuses every process)")
    empty = cpuset / f"autograder-test-{os.getpid()}"
    empty.mkdir()
    spawn = forkserver.ForkServer.spawn
    monkeypatch.setattr(forkserver, "_BROKEN", set())
    monkeypatch.setattr(forkserver.ForkServer, "spawn", lambda self, *args: spawn(
        self, *args[:-1], [*args[-1], str(empty / "cgroup.procs")]))
    try:
        for _ in range(2):
            with session(caps) as s:
                assert not isinstance(s.proc, forkserver.Forked)
                assert run(s, "import numpy")["status"] == "ok"
        assert len(forkserver._BROKEN) == 1  # not tried again
    finally:
        empty.rmdir()


def test_forked_and_fresh_processes_grade_the_sample_class_alike(graded_class, tmp_path):
    """Every row of the sample class, graded forked (the default) and ``--fresh-process``."""
    from autograder.paths import SAMPLE_CLASS_DIR

    require_sandbox()
    fresh = grade_batch(SAMPLE_CLASS_DIR, tmp_path / "fresh", "--workers", "2",
                        "--assignments", ",".join(sample_assignments()), "--fresh-process")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "forked from a pre-imported fork server" in graded_class.stderr
    assert "a fresh process per notebook" in fresh.stderr
    assert len(fresh.rows) == len(graded_class.rows) > 0
    for forked_row, fresh_row in zip(graded_class.rows, fresh.rows, strict=True):
        assert forked_row == fresh_row


def test_unsandboxed_runs_in_its_own_process_without_the_box():
    s = Session(Sandbox(None, Limits(), isolate=False), seed=1, budget_seconds=60)
    with s:
        reply = run(s, f"import os\nassert os.path.exists({str(REPO_ROOT / 'solutions')!r})\n"
                       f"assert os.getppid() == {os.getpid()}")
        assert reply["status"] == "ok"


def test_without_a_sandbox_the_grader_refuses_unless_told(tmp_path):
    caps = Capabilities(None, "bubblewrap is not installed", None, "no cgroups", False)
    with pytest.raises(Exception, match="--unsandboxed"):
        require(caps, unsandboxed=False)
    require(caps, unsandboxed=True)
    subs = tmp_path / "subs" / "carol" / "02_bellman"
    subs.mkdir(parents=True)
    release = REPO_ROOT / "notebooks" / "02_bellman.ipynb"
    (subs / "02_bellman.ipynb").write_bytes(release.read_bytes())
    env_before = os.environ.get("AUTOGRADER_BWRAP")
    os.environ["AUTOGRADER_BWRAP"] = str(tmp_path / "no-bwrap-here")
    try:
        refused = run_cli("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                          "--assignments", "02_bellman")
        graded = run_cli("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                         "--assignments", "02_bellman", "--unsandboxed")
    finally:
        if env_before is None:
            del os.environ["AUTOGRADER_BWRAP"]
        else:
            os.environ["AUTOGRADER_BWRAP"] = env_before
    assert refused.returncode == 2
    assert "cannot build a sandbox" in refused.stderr and "--unsandboxed" in refused.stderr
    assert "bubblewrap is not installed" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists() or graded.returncode == 0
    assert graded.returncode == 0, graded.stderr
    assert "UNSANDBOXED" in graded.stderr
    assert Path(tmp_path / "out" / "grades.csv").is_file()


def test_a_kit_that_lives_under_tmp_stays_in_sight(caps, how, tmp_path):
    """A checkout or venv under ``/tmp`` (a CI clone) is still there under the fresh ``/tmp``.

    The kit is copied into ``tmp_path`` (under ``/tmp``) and the box imports it from there:
    a module imported only after the submission started must still be found, read-only.
    """
    import shutil

    kit = tmp_path / "clone"
    for name in ("rlkit", "autograder"):
        shutil.copytree(Path(__import__(name).__file__).parent, kit / name,
                        ignore=shutil.ignore_patterns("__pycache__", "sample_class"))
    assert str(kit).startswith("/tmp/")
    sandbox = Sandbox(caps, Limits())
    sandbox.packages = [kit / "rlkit", kit / "autograder"]
    if how == "fresh":
        sandbox = sandbox.fresh_process()
    with Session(sandbox, seed=1, budget_seconds=120, grace_seconds=3.0) as s:
        reply = run(s, f"""
            import os, rlkit, rlkit.games.solver
            assert rlkit.__file__.startswith({str(kit)!r}), rlkit.__file__
            open(os.path.join(os.path.dirname(rlkit.__file__), 'games', 'solver.py')).read()
            open('/tmp/mine', 'w').write('a fresh /tmp is still writable')
            try:
                open(os.path.join(os.path.dirname(rlkit.__file__), 'x.py'), 'w')
            except OSError as e:
                assert e.errno == 30
            else:
                raise AssertionError('the kit is writable')
            """)
        assert reply["status"] == "ok", reply


def test_the_fork_servers_imports_start_no_thread():
    """Forking is safe only from a one-threaded process: what the server imports starts none."""
    import subprocess
    import sys

    code = ("import importlib, threading\n"
            "from autograder.box.forkserver import LAZY_MODULES, WARM_MODULES\n"
            "for name in WARM_MODULES + LAZY_MODULES:\n"
            "    importlib.import_module(name)\n"
            "print(threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO_ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.stdout.split() == ["1"]


def test_a_forked_submissions_collector_skips_the_servers_imports(caps):
    """The server's imported objects are frozen: a submission's full collection skips them."""
    with session(caps, how="forked") as s:
        assert isinstance(s.proc, forkserver.Forked)
        reply = run(s, "import gc\nassert gc.get_freeze_count() > 50_000, gc.get_freeze_count()")
        assert reply["status"] == "ok", reply
