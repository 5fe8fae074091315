"""The sandbox a submission runs in: what it sees, what it may use, how it ends."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from conftest import REPO_ROOT, require_sandbox, run_cli

from autograder.box.sandbox import Capabilities, Limits, Sandbox, detect, require
from autograder.box.session import Session, SessionEnded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def caps() -> Capabilities:
    require_sandbox()
    return detect()


def session(caps: Capabilities, grace: float = 3.0, **limits) -> Session:
    return Session(Sandbox(caps, Limits(**limits)), seed=1, budget_seconds=120,
                   grace_seconds=grace)


def run(s: Session, source: str, timeout: float = 20) -> dict:
    return s.request("cell", timeout, source=textwrap.dedent(source))


def test_this_machine_can_build_the_sandbox(caps):
    assert caps.sandbox_ok, caps.problems()
    assert "bubblewrap" in caps.describe() and "cgroup" in caps.describe()


def test_the_box_shows_only_the_course_code_read_only_and_no_network(caps, tmp_path):
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
    with session(caps) as s:
        for what, source in probes.items():
            reply = run(s, source)
            assert reply["status"] == "ok", (what, reply)


def test_the_box_does_not_see_the_sandbox_command(caps):
    """PID 1 of the box is bwrap: its command line shows no bind and no host path of it."""
    with session(caps) as s:
        reply = run(s, """
            import os
            seen = open('/proc/1/cmdline', 'rb').read().split(b'\\0')
            assert seen[1:3] == [b'--args', seen[2]] and seen[3] == b'--', seen
            assert not any(b'bind' in part or part.startswith(b'/etc') for part in seen), seen
            fds = []
            for fd in os.listdir('/proc/self/fd'):
                try:
                    fds.append(os.readlink(f'/proc/self/fd/{fd}'))
                except OSError:
                    pass
            assert not any('bwrap-args' in target for target in fds), fds
        """)
        assert reply["status"] == "ok", (reply, s.output_text())
    argv, options = Sandbox(caps, Limits()).launch(["python"], 9)
    assert argv[1:4] == ["--args", "9", "--"] and b"--ro-bind\0/usr\0/usr\0" in options


def test_a_memory_bomb_is_killed_for_memory(caps):
    with session(caps, memory_mb=256) as s, pytest.raises(SessionEnded) as info:
        run(s, "x = []\nwhile True:\n    x.append(b'x' * 2**24)")
    assert info.value.cause == "memory" and "256 MiB" in info.value.detail
    with pytest.raises(SessionEnded):  # every later step fails the same way
        run(s, "pass")


def test_a_fork_bomb_stops_at_the_process_limit(caps):
    with session(caps, pids=24) as s:
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


def test_a_step_past_its_time_limit_is_interrupted_then_killed(caps):
    with session(caps, grace=2) as s:
        assert run(s, "while True: pass", timeout=1)["status"] == "timeout"
        assert run(s, "x = 1")["status"] == "ok"  # the session goes on
        with pytest.raises(SessionEnded) as info:  # a step that ignores the timer
            run(s, "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                   "while True: pass", timeout=1)
    assert info.value.cause == "timeout"


def test_exiting_is_a_crash_with_the_exit_code(caps):
    with session(caps) as s, pytest.raises(SessionEnded) as info:
        run(s, "import os\nos._exit(3)")
    assert info.value.cause == "crash" and "exited with code 3" in info.value.detail


def test_output_is_capped_and_files_are_limited(caps):
    with session(caps, output_kb=4, file_mb=1) as s:
        assert run(s, "print('x' * 10**6)")["status"] == "ok"
        reply = run(s, "open('/scratch/big', 'wb').write(b'x' * 2**21)")
        assert reply["status"] == "error" and "File too large" in reply["error"]
        reply = run(s, "f = open('/scratch/fill', 'wb')\nwhile True:\n    f.write(b'x' * 2**20)")
        assert reply["status"] == "error"
    assert len(s.output) <= 4096 and "more bytes of output dropped" in s.output_text()


def test_forged_replies_are_ignored(caps):
    with session(caps) as s:
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


def test_no_cgroup_or_process_is_left_behind(caps):
    with session(caps) as s:
        run(s, "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)")
        cgroup_dirs = list(s.cgroup.dirs.values())
    assert cgroup_dirs and not any(d.exists() for d in cgroup_dirs)
    assert s.proc.poll() is not None


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
