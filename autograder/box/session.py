"""The grader's end of one submission's runner: start it in the sandbox, talk, time, kill.

A :class:`Session` starts the runner (forked from the worker's pre-imported fork server,
:mod:`autograder.box.forkserver`, where the machine allows it; else a fresh
``python -m autograder.box.runner`` through the :class:`Sandbox`, see
:meth:`Sandbox.fresh_process`), sends it one command at a time and waits for the reply
carrying the command's nonce, with a
wall-clock deadline per step (the step's time limit plus a grace period, after which the whole
sandbox is killed: the runner's own timer could not stop the step). The submission's stdout
and stderr are read all the time so it never blocks on a full pipe, but only the first
``Limits.output_kb`` are kept. When the process dies or is killed, :class:`SessionEnded` says
why: ``timeout``, ``memory`` (the cgroup's OOM killer), or ``crash`` (it exited or was killed
otherwise, e.g. ``os._exit``), and every later request fails the same way at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autograder.box import forkserver
from autograder.box.forkserver import Forked, ForkServer
from autograder.box.sandbox import Cgroup, Sandbox

#: the largest reply accepted (a check's outputs); a bigger one is a protocol violation.
MAX_REPLY_BYTES = 64 * 2**20
#: time allowed for the runner to start (Python, numpy, IPython) before the first command.
STARTUP_SECONDS = 60.0
#: reasons a session ends.
TIMEOUT, MEMORY, CRASH = "timeout", "memory", "crash"


class SessionEnded(Exception):
    """The runner is gone; ``cause`` is ``timeout``, ``memory`` or ``crash``."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail


def _nonblocking(fd: int) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


class Session:
    """One runner process for one submission; use as a context manager."""

    def __init__(self, sandbox: Sandbox, seed: int, budget_seconds: float,
                 grace_seconds: float = 5.0) -> None:
        self.sandbox = sandbox
        self.seed = seed
        self.grace = grace_seconds
        self.budget = budget_seconds
        """the whole session's wall-clock limit (s), counted from its start."""
        self._end_by = float("inf")
        self._limit = f"the start-up time limit of {STARTUP_SECONDS:g} s"
        self._pids_hits = 0
        self.output = bytearray()
        self.output_dropped = 0
        self.ended: SessionEnded | None = None
        self.pids_limit_hit = False
        """True when the submission tried to go past its process limit (set by ``close``)."""
        self.peak_memory_mb: float | None = None
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        """the runner's process: a fresh one, or one forked from the fork server."""
        self.cgroup: Cgroup | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._reply = bytearray()
        self._selector = selectors.DefaultSelector()
        self._fds: dict[str, int] = {}

    # -- lifecycle

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the runner and wait until it is ready (or raise :class:`SessionEnded`)."""
        cmd_r, cmd_w = os.pipe()
        reply_r, reply_w = os.pipe()
        out_r, out_w = os.pipe()
        scratch = None
        if not self.sandbox.isolate:
            self._scratch = tempfile.TemporaryDirectory(prefix="autograder-scratch-")
            scratch = Path(self._scratch.name)
            (scratch / "tmp").mkdir()
            if self.sandbox.drop_privileges:
                from autograder.box.sandbox import SANDBOX_GID, SANDBOX_UID

                for path in (scratch, scratch / "tmp"):
                    os.chown(path, SANDBOX_UID, SANDBOX_GID)
        if self.sandbox.cgroups is not None:
            self.cgroup = self.sandbox.cgroups.create(self.sandbox.limits)
        args_fd = -1
        try:
            server = self._server()  # started (once per worker) before the budget counts
            self._end_by = time.monotonic() + self.budget
            self.proc = self._fork(server, (cmd_r, reply_w, out_w)) if server else None
            if self.proc is None:
                # bwrap's options travel on a memory file (--args), off the box's
                # /proc/1/cmdline
                args_fd = os.memfd_create("bwrap-args") if self.sandbox.isolate else -1
                self.proc = self._popen(scratch, (cmd_r, reply_w, out_w), args_fd)
        except BaseException:
            for fd in (cmd_r, cmd_w, reply_r, reply_w, out_r, out_w):
                os.close(fd)
            if args_fd >= 0:
                os.close(args_fd)
            self._cleanup_cgroup()
            raise
        for fd in (cmd_r, reply_w, out_w):
            os.close(fd)
        if args_fd >= 0:
            os.close(args_fd)
        for fd in (cmd_w, reply_r, out_r):
            _nonblocking(fd)
        self._fds = {"cmd": cmd_w, "reply": reply_r, "out": out_r}
        self._selector.register(reply_r, selectors.EVENT_READ, "reply")
        self._selector.register(out_r, selectors.EVENT_READ, "out")
        ready = self._wait(None, b"", time.monotonic() + STARTUP_SECONDS, "starting up")
        if ready.get("op") != "ready":
            self._end(CRASH, "the runner did not start properly")

    def _popen(self, scratch: Path | None, fds: tuple[int, int, int],
               args_fd: int) -> subprocess.Popen[bytes]:
        """A fresh runner (in bwrap when isolating)."""
        cmd_r, reply_w, out_w = fds
        reap = ["--reap"] if self.sandbox.isolate else []
        argv, options = self.sandbox.launch(
            [sys.executable, "-m", "autograder.box.runner", str(cmd_r), str(reply_w), *reap],
            args_fd)
        if options is not None:
            os.write(args_fd, options)
            os.lseek(args_fd, 0, os.SEEK_SET)
        passed = (cmd_r, reply_w) if args_fd < 0 else (cmd_r, reply_w, args_fd)
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
            pass_fds=passed, cwd=str(scratch) if scratch else "/",
            env=self.sandbox.environment(self.seed, scratch),
            preexec_fn=self.sandbox.preexec(self.cgroup, int(self.budget) + 30),
            start_new_session=True,
        )

    def _server(self) -> ForkServer | None:
        """The worker's fork server for the sandbox (None: a fresh process per session)."""
        return forkserver.server_for(self.sandbox) if forkserver.usable(self.sandbox) else None

    def _fork(self, server: ForkServer, fds: tuple[int, int, int]) -> Forked | None:
        """The runner forked from the fork server (None: it is gone; start a fresh one)."""
        assert self.cgroup is not None
        try:
            return server.spawn(self.seed, self.sandbox.limits, int(self.budget) + 30, fds,
                                self.cgroup.proc_files)
        except (forkserver.ServerGone, OSError) as exc:  # restarted at the next session
            forkserver.forget(self.sandbox, refused=isinstance(exc, forkserver.ForkRefused))
            return None

    def close(self) -> None:
        """Kill the runner and everything it started, remove its cgroup and scratch.

        No polite exit: nothing of the runner's is needed any more, and a Python with numpy
        and torch loaded takes longer to shut down than to kill.
        """
        self._kill()
        if "out" in self._fds:  # what it printed last, up to the cap
            for _ in range(64):
                if not self._drain_once():
                    break
        for fd in self._fds.values():
            try:
                self._selector.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)
        self._fds = {}
        self._selector.close()
        self._cleanup_cgroup()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            if isinstance(proc, subprocess.Popen):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                proc.kill()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a process that will not die
                pass

    def _cleanup_cgroup(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.pids_limit_hit = self.cgroup.pids_limit_hit()
            self.peak_memory_mb = self.cgroup.peak_memory_mb()
            self.cgroup.remove()
            self.cgroup = None

    # -- talking

    def request(self, op: str, timeout: float, label: str = "", **fields: Any) -> dict[str, Any]:
        """Send one command and return its reply (``timeout``: the step's time limit, s).

        ``label`` names the step in messages (e.g. ``cell 4``); the default is ``op``.

        Raises:
            SessionEnded: the runner died, or was killed at the deadline (``timeout`` + the
                grace period), now or earlier.

        """
        if self.ended is not None:
            raise self.ended
        reply = self._request(op, timeout, label or op, **fields)
        if self.sandbox.isolate and self._fork_bomb():
            self._request("reap", 10.0, "cleaning up after a fork bomb")
        return reply

    def _request(self, op: str, timeout: float, label: str, **fields: Any) -> dict[str, Any]:
        nonce = secrets.token_hex(12)
        line = json.dumps({"op": op, "nonce": nonce, "timeout": timeout, **fields}) + "\n"
        deadline = time.monotonic() + timeout + self.grace
        self._limit = f"its {timeout:g} s time limit"
        if deadline > self._end_by:
            deadline = self._end_by
            self._limit = f"the notebook's total time budget of {self.budget:.0f} s"
        return self._wait(nonce, line.encode(), deadline, label)

    def _fork_bomb(self) -> bool:
        """True when the process limit was hit since the last look (then the runner reaps)."""
        if self.cgroup is None:
            return False
        hits = self.cgroup.pids_limit_events()
        new, self._pids_hits = hits > self._pids_hits, hits
        return new

    def _wait(self, nonce: str | None, pending: bytes, deadline: float,
              what: str) -> dict[str, Any]:
        cmd_fd = self._fds["cmd"]
        if pending:
            self._selector.register(cmd_fd, selectors.EVENT_WRITE, "cmd")
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._end(TIMEOUT, f"{what} did not stop at {self._limit}; the "
                                       "notebook's process was killed")
                for key, _ in self._selector.select(min(left, 1.0)):
                    if key.data == "cmd":
                        try:
                            pending = pending[os.write(cmd_fd, pending):]
                        except BlockingIOError:
                            continue
                        except OSError:
                            pending = b""
                        if not pending:
                            self._selector.unregister(cmd_fd)
                    elif key.data == "out":
                        self._read_output()
                    else:
                        reply = self._read_reply(nonce, what)
                        if reply is not None:
                            return reply
        finally:
            if pending:
                self._selector.unregister(cmd_fd)

    def _read_output(self) -> None:
        if not self._drain_once():
            try:
                self._selector.unregister(self._fds["out"])
            except (KeyError, ValueError):
                pass

    def _drain_once(self) -> bool:
        """Read one chunk of the submission's output; False at its end (or nothing there)."""
        try:
            chunk = os.read(self._fds["out"], 1 << 20)
        except BlockingIOError:
            return False
        if not chunk:
            return False
        keep = max(self.sandbox.limits.output_kb * 1024 - len(self.output), 0)
        self.output += chunk[:keep]
        self.output_dropped += max(len(chunk) - keep, 0)
        return True

    def _read_reply(self, nonce: str | None, what: str) -> dict[str, Any] | None:
        try:
            chunk = os.read(self._fds["reply"], 1 << 20)
        except BlockingIOError:
            return None
        if not chunk:
            self._died(what)
        self._reply += chunk
        while b"\n" in self._reply:
            raw, _, rest = bytes(self._reply).partition(b"\n")
            self._reply = bytearray(rest)
            try:
                message = json.loads(raw)
            except (ValueError, RecursionError):
                continue  # not ours: garbage written to the reply pipe by the submission
            if isinstance(message, dict) and message.get("nonce") == nonce:
                return message
        if len(self._reply) > MAX_REPLY_BYTES:
            self._end(CRASH, "the runner sent a reply larger than the grader accepts")
        return None

    def _died(self, what: str) -> None:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if self.cgroup is not None and self.cgroup.oom_killed():
            self._end(MEMORY, f"the notebook's process went over the "
                              f"{self.sandbox.limits.memory_mb} MiB memory limit during "
                              f"{what} and was killed")
        if code is None:
            detail = "closed its reply channel"
        elif code >= 128 or code < 0:
            number = code - 128 if code >= 128 else -code
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            detail = f"was killed by {name}"
            if number == signal.SIGXCPU:
                detail += " (its CPU time limit)"
        else:
            detail = f"exited with code {code}"
        self._end(CRASH, f"the notebook's process {detail} during {what}")

    def _end(self, cause: str, detail: str) -> None:
        self._kill()
        self.ended = SessionEnded(cause, detail)
        raise self.ended

    # -- what the submission printed

    def output_text(self) -> str:
        """The kept part of the submission's stdout and stderr."""
        text = self.output.decode("utf-8", errors="replace")
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes of output dropped]\n"
        return text
