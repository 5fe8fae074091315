"""A pre-imported fork server in the sandbox: each submission forked from a warm Python.

A fresh runner pays about 3 s to import torch and 0.7 s for matplotlib before it runs a line of
the student's code. Instead, per grading worker and per redacted rlkit, one sandboxed process
(the *server*, ``python -m autograder.box.forkserver SOCKET_FD``) imports numpy, torch,
matplotlib (Agg), gymnasium, IPython, the box and every module of the redacted rlkit, builds the
runner's IPython shell, and then forks one process tree per submission. What the server holds
is what a fresh runner would import: the box's code and the redacted rlkit, nothing that knows
an answer.

Why this design (and not another):

* **The server runs in the same bubblewrap box as a fresh runner** (the same read-only binds,
  the same redacted rlkit and box package, no network), but as root inside it, keeping only
  ``CAP_SYS_ADMIN``, ``CAP_SETUID``, ``CAP_SETGID``, ``CAP_SETPCAP`` and ``CAP_KILL``: the
  capabilities it needs to give each submission its own namespaces and to drop to ``nobody``.
  So it needs a root grader (bwrap keeps capabilities only for a privileged caller); a grader
  that is not root, or a sandbox that cannot move a process into a cgroup from inside the box,
  runs every submission in a fresh process as before (:func:`usable`).
* **Each submission is an ``init`` and a runner in fresh PID and mount namespaces.** Before
  each fork the server resets its namespace for children (``setns`` to its own PID namespace)
  and unshares a new one (``unshare(CLONE_NEWPID)``; ``os.unshare`` is Python 3.12, so the
  calls go through ``ctypes``), so the child is PID 1 of a namespace of its own. The server
  writes the child's PID into the submission's cgroup (the grader opened the ``cgroup.procs``
  files and passed the descriptors; the submission never holds them) before the child runs a
  line. The child unshares a mount namespace, mounts fresh size-capped tmpfs on ``/scratch``,
  ``/tmp`` and ``/dev/shm`` and a ``/proc`` that shows only its namespace, sets the rlimits,
  drops every capability (bounding set, then ``setresuid``/``setresgid`` to ``nobody``, no
  groups, an empty capability set, ``no_new_privs``: what ``setpriv`` does for a fresh runner),
  then forks the runner (PID 2) and waits for it as its ``init``: the layout of a fresh
  bwrap box, where bwrap is PID 1. When the runner ends, ``init`` exits and the kernel kills
  every process left in the namespace; the grader also kills the whole cgroup, as before.
* **Isolation between submissions comes from ``fork``**: whatever a submission patches (numpy,
  torch, rlkit, the IPython shell) is in its own copy of the memory; the server never runs
  student code. Python's ``random`` and numpy's global generator are reseeded from the OS, as
  in a fresh process, and torch's default generator is put back to the state it had right
  after ``import torch``.
* **The server is out of reach**: it is in a PID namespace the submissions cannot see (no PID
  to signal or ``ptrace``), it runs as another user than the submissions, and it is
  non-dumpable (``PR_SET_DUMPABLE`` 0: no ``ptrace`` and no ``/proc`` access even for a process
  of its own user without ``CAP_SYS_PTRACE``).
* **The limits and statuses are the fresh runner's**: the grader creates the cgroup (memory,
  processes, CPU quota) and keeps the wall-clock deadlines (:mod:`autograder.box.session`);
  ``init`` reports the runner's end as bwrap does (the exit code, or 128 + the signal), so a
  session ends with ``timeout``, ``memory`` or ``crash`` exactly as before.
* **A server that dies is restarted** at the next session (:func:`server_for`); the session it
  was serving ends as a crash, and nothing else is lost. If a server cannot start, the sessions
  run in fresh processes.

Memory: the pages the server touched while importing are charged to the server's own cgroup,
not to the submission's; a submission's memory limit counts what it allocates or copies.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: the capabilities the server keeps in its box (the submissions keep none).
SERVER_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL")
#: modules the server imports before it forks (the notebooks' imports; rlkit: all of it).
WARM_MODULES = ("numpy", "torch", "matplotlib", "matplotlib.pyplot", "gymnasium", "IPython",
                "tqdm", "autograder.box.calls", "autograder.box.wire",
                "autograder.box.procedures", "autograder.checks")
#: and two that load lazily on first use: ``torch._dynamo``, which torch imports when the first
#: optimiser is built (``torch._compile``; 800 modules with sympy, ~1.1 s of every training
#: notebook's submission), and Gymnasium's classic-control envs (``gym.make("CartPole-v1")``).
#: Neither starts a thread; the environment variables they set are taken back, as a fresh
#: process has none of them before its first optimiser.
LAZY_MODULES = ("torch._dynamo", "gymnasium.envs.classic_control")
#: time allowed for the server to import everything and say it is ready.
SERVER_STARTUP_SECONDS = 120.0
#: most servers one grading worker keeps (one per notebook's redacted rlkit).
MAX_SERVERS = 8
_MAX_MESSAGE = 1 << 16

# Linux constants (linux/sched.h, linux/mount.h, linux/prctl.h, linux/capability.h)
CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 1 << 14, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_CAP_VERSION_3 = 0x20080522


# ============================================================================ the box's side


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


class _System:
    """The system calls Python 3.11's ``os`` lacks, through ``ctypes``."""

    def __init__(self) -> None:
        self.libc = _libc()

    def unshare(self, flags: int) -> None:
        _check(self.libc.unshare(flags), "unshare")

    def setns(self, fd: int, kind: int) -> None:
        _check(self.libc.setns(fd, kind), "setns")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        def enc(text: str | None) -> bytes | None:
            return text.encode() if text is not None else None

        _check(self.libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                               enc(data)), f"mount {target}")

    def prctl(self, option: int, value: int) -> None:
        _check(self.libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0),
                               ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl {option}")

    def drop_privileges(self, uid: int, gid: int) -> None:
        """Become ``uid``/``gid`` with no capability at all and ``no_new_privs``."""
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
        for cap in range(last + 1):  # the bounding set first: it needs CAP_SETPCAP
            self.prctl(PR_CAPBSET_DROP, cap)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # clears the permitted, effective and ambient sets
        header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()  # inheritable too: all zero
        _check(self.libc.capset(header, data), "capset")
        self.prctl(PR_SET_NO_NEW_PRIVS, 1)


@dataclass(frozen=True)
class _Request:
    """What the grader sends to fork one submission (JSON) and the descriptors with it."""

    id: int
    seed: int
    cpu_seconds: int
    file_mb: int
    scratch_mb: int
    cmd_fd: int
    reply_fd: int
    out_fd: int
    procs: tuple[int, ...]


def _unescape(field: str) -> str:
    r"""A path of ``/proc/self/mountinfo``, its octal escapes (``\040`` a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _bound_below(targets: Sequence[str]) -> list[str]:
    """The entries of ``targets`` (``/tmp``...) that hold mounts of the box, e.g. a venv.

    A checkout or venv that lives under ``/tmp`` (a CI clone) is bound into the server's box
    on top of its ``/tmp``; a fresh tmpfs on ``/tmp`` would hide it from the submission, and
    every module not imported yet would be gone. Each such top-level entry is bound again on
    top of the fresh tmpfs (:meth:`Server.init`): it holds only bwrap's root-owned directories
    and read-only binds, nothing a submission could write.
    """
    with open("/proc/self/mountinfo") as f:
        points = [_unescape(line.split()[4]) for line in f]
    kept = []
    for target in targets:
        for point in points:
            if point.startswith(target + "/"):
                entry = target + "/" + point[len(target) + 1:].split("/")[0]
                if entry not in kept:
                    kept.append(entry)
    return kept


def _close_all_but(keep: set[int]) -> None:
    start = 3
    for fd in sorted(keep | {1 << 16}):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1


def _exit_code(status: int) -> int:
    """A wait status as bwrap reports it: the exit code, or 128 + the signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 255


class Server:
    """The server's loop: fork a submission per request, report each one's end."""

    def __init__(self, sock: socket.socket) -> None:
        from autograder.box.runner import Runner

        self.sock = sock
        self.sys = _System()
        self.sys.prctl(PR_SET_DUMPABLE, 0)
        self.torch_state = _warm_up()
        self.runner = Runner(may_reap=True)
        # Everything imported so far lives as long as the server: out of the collector's
        # sight, so that a submission's full collections do not walk the 50,000+ objects of
        # torch, matplotlib and co. (nor write to their pages, which the forks share).
        gc.collect()
        gc.freeze()
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
        self.children: dict[int, int] = {}
        """PID (in the server's namespace) of each submission's init -> request id."""
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def send(self, message: dict[str, Any]) -> None:
        """One message to the grader."""
        self.sock.send(json.dumps(message).encode())

    def serve(self) -> int:
        """Answer until the grader closes its end of the socket."""
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "sock")
        selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.send({"op": "ready", "pid": os.getpid()})
        while True:
            for key, _ in selector.select():
                if key.data == "wake":
                    os.read(self.wake_r, 4096)
                    self.reap()
                    continue
                data, fds, _, _ = socket.recv_fds(self.sock, _MAX_MESSAGE, 16)
                if not data:
                    for pid in self.children:
                        os.kill(pid, signal.SIGKILL)
                    return 0
                self.handle(json.loads(data), fds)

    def handle(self, message: dict[str, Any], fds: list[int]) -> None:
        """One request: ``fork`` (with its descriptors) or ``kill``."""
        op = message.get("op")
        if op == "fork":
            try:
                request = _Request(int(message["id"]), int(message["seed"]),
                                   int(message["cpu_seconds"]), int(message["file_mb"]),
                                   int(message["scratch_mb"]), fds[0], fds[1], fds[2],
                                   tuple(fds[3:]))
                self.send({"op": "started", "id": request.id, "pid": self.fork(request)})
            except Exception as exc:  # noqa: BLE001 - reported: the grader runs it fresh
                self.send({"op": "error", "id": message.get("id"), "error": str(exc)})
            finally:
                for fd in fds:
                    os.close(fd)
        elif op == "kill":
            for pid, ident in self.children.items():
                if ident == message.get("id"):
                    os.kill(pid, signal.SIGKILL)

    def reap(self) -> None:
        """Report every submission whose init has ended."""
        from autograder.box.runner import ended_children

        for pid, status in ended_children():
            ident = self.children.pop(pid, None)
            if ident is not None:
                self.send({"op": "exited", "id": ident, "code": _exit_code(status)})

    def fork(self, request: _Request) -> int:
        """Fork the submission's init into a fresh PID namespace, in its cgroup; its PID."""
        self.sys.setns(self.own_pid_ns, CLONE_NEWPID)  # unshare works once per namespace
        self.sys.unshare(CLONE_NEWPID)
        go_r, go_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (PID 1 of its namespace) never returns
            code = 127
            try:
                os.close(go_w)
                code = self.init(request, go_r)
            finally:
                os._exit(code)
        os.close(go_r)
        try:
            for fd in request.procs:
                os.write(fd, str(pid).encode())
        except OSError:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(go_w)
            raise
        self.children[pid] = request.id
        os.write(go_w, b"1")
        os.close(go_w)
        return pid

    # -- the child: init (PID 1) of the submission's namespaces, then the runner (PID 2)

    def init(self, request: _Request, go_r: int) -> int:
        """Set the submission's box up, fork the runner, wait for it; its exit code."""
        from autograder.box.sandbox import SANDBOX_GID, SANDBOX_UID, SCRATCH

        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        os.read(go_r, 1)  # in the submission's cgroup from here on
        keep = {request.cmd_fd, request.reply_fd, request.out_fd}
        _close_all_but(keep)
        os.setsid()
        self.sys.unshare(CLONE_NEWNS)
        self.sys.mount(None, "/", None, MS_REC | MS_PRIVATE)
        quarter = max(request.scratch_mb // 4, 8)
        fresh = ((SCRATCH, "0777", request.scratch_mb), ("/tmp", "1777", quarter),
                 ("/dev/shm", "1777", quarter))
        kept = {entry: (os.open(entry, os.O_PATH), os.path.isdir(entry))
                for entry in _bound_below([target for target, _, _ in fresh])}
        for target, mode, size in fresh:
            self.sys.mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
                           f"size={size}m,mode={mode}")
        for entry, (fd, is_dir) in kept.items():  # back on top of the fresh tmpfs, read-only
            if is_dir:
                os.mkdir(entry)
            else:
                os.close(os.open(entry, os.O_CREAT | os.O_WRONLY))
            os.chmod(entry, 0o755 if is_dir else 0o644)
            self.sys.mount(f"/proc/self/fd/{fd}", entry, None, MS_BIND | MS_REC)
            self.sys.mount(None, entry, None,
                           MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            os.close(fd)
        self.sys.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _set_rlimits(request.file_mb, request.cpu_seconds)
        self.sys.drop_privileges(SANDBOX_UID, SANDBOX_GID)
        self.sys.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the server gone: so is this box
        runner = os.fork()
        if runner == 0:
            code = 127
            try:
                code = self.run(request)
            finally:
                os._exit(code)
        for fd in keep:
            os.close(fd)
        while True:  # init: collect every orphan, end with the runner
            pid, status = os.wait()
            if pid == runner:
                return _exit_code(status)

    def run(self, request: _Request) -> int:
        """The runner's process: the runner's loop on the request's pipes."""
        from autograder.box.runner import Channel, prepare_process, serve

        self.sys.prctl(PR_SET_DUMPABLE, 1)  # as after exec: the student's own process
        os.chdir("/scratch")
        os.environ["RLKIT_GRADING_SEED"] = str(request.seed)
        os.dup2(request.out_fd, 1)
        os.dup2(request.out_fd, 2)
        os.close(request.out_fd)
        sys.stdout = sys.__stdout__ = _stdio_like(sys.stdout, 1)
        sys.stderr = sys.__stderr__ = _stdio_like(sys.stderr, 2)
        _reseed(self.torch_state)
        prepare_process()
        code = serve(Channel(request.cmd_fd, request.reply_fd), self.runner)
        sys.stdout.flush()
        sys.stderr.flush()
        return code


def _stdio_like(stream: Any, fd: int) -> Any:
    """A new text stream on ``fd`` made as Python makes its stdout or stderr.

    The server's own streams were made on its log file, which is seekable: the submission's
    output pipe is not, and a stream keeps what it found when made (``reconfigure`` would
    try to seek the pipe: "Illegal seek", the attack bank's ``surrogates_and_escapes``).
    """
    import io

    unbuffered = isinstance(stream.buffer, io.FileIO)  # PYTHONUNBUFFERED: no buffer layer
    binary = (io.FileIO(fd, "w", closefd=False) if unbuffered else
              open(fd, "wb", closefd=False))  # noqa: SIM115 - lives as long as sys.stdout
    text = io.TextIOWrapper(binary, encoding=stream.encoding, errors=stream.errors,
                            line_buffering=stream.line_buffering,
                            write_through=stream.write_through)
    text.mode = "w"
    return text


def _set_rlimits(file_mb: int, cpu_seconds: int) -> None:
    import resource

    file_bytes = file_mb * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _warm_up() -> Any:
    """Import what the notebooks import; torch's generator state right after its import."""
    import importlib
    import pkgutil

    import torch

    state = torch.get_rng_state()
    for name in WARM_MODULES:
        importlib.import_module(name)
    environment = dict(os.environ)  # torch._inductor sets TORCHINDUCTOR_CACHE_DIR on import
    for name in LAZY_MODULES:
        importlib.import_module(name)
    os.environ.clear()
    os.environ.update(environment)
    import rlkit

    for info in pkgutil.walk_packages(rlkit.__path__, "rlkit."):
        if ".__main__" in info.name or info.name.endswith(".cli"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001,S112 - withheld or optional: the notebook imports it
            continue
    return state


def _reseed(torch_state: Any) -> None:
    """Each submission's generators as in a fresh process (not shared with the next one)."""
    import random

    import numpy as np
    import torch

    random.seed()
    np.random.seed()
    torch.set_rng_state(torch_state)


def main(argv: list[str] | None = None) -> int:
    """Entry point in the box: ``SOCKET_FD``."""
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return Server(sock).serve()


# ============================================================================ the grader's side


def usable(sandbox: Any) -> bool:
    """True when ``sandbox`` can fork its submissions from a server (see the docstring)."""
    caps = sandbox.caps
    return bool(sandbox.isolate and sandbox.fork_server and caps is not None and caps.root
                and sandbox.cgroups is not None)


class ServerGone(Exception):
    """The server died or stopped answering."""


class ForkRefused(ServerGone):
    """The server could not set a submission up here (e.g. join its cgroup from the box)."""


class Forked:
    """One forked submission, as the session sees its process (a ``Popen``'s few methods)."""

    def __init__(self, server: ForkServer, ident: int) -> None:
        self.server, self.id = server, ident
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code (bwrap's convention), or None while it runs."""
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.id, 0.0)
        return self.returncode

    def wait(self, timeout: float) -> int:
        """Wait for its end (raises ``subprocess.TimeoutExpired``)."""
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.id, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("forked runner", timeout)
        return self.returncode

    def kill(self) -> None:
        """Ask the server to SIGKILL its init (the grader also kills its cgroup)."""
        if self.returncode is None:
            try:
                self.server.send({"op": "kill", "id": self.id})
            except ServerGone:
                pass  # and so is the submission, with the server's box


class ForkServer:
    """The grader's handle on one server: start, fork a submission, read its end, close."""

    def __init__(self, sandbox: Any) -> None:
        from autograder.box.sandbox import Limits

        self.sandbox = sandbox
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.cgroup = sandbox.cgroups.create(Limits(pids=64))
        self.exits: dict[int, int] = {}
        self.pending: list[dict[str, Any]] = []
        self._ids = 0
        self.log = tempfile.TemporaryFile()
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = parent
        args_fd = os.memfd_create("bwrap-args")
        try:
            argv, options = self.sandbox.launch(
                [sys.executable, "-m", "autograder.box.forkserver", str(child.fileno())],
                args_fd, keep_caps=SERVER_CAPS)
            assert options is not None
            os.write(args_fd, options)
            os.lseek(args_fd, 0, os.SEEK_SET)
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                pass_fds=(child.fileno(), args_fd), cwd="/", env=self.sandbox.environment(0),
                preexec_fn=self.sandbox.preexec(self.cgroup, 7 * 24 * 3600),
                start_new_session=True)
        finally:
            os.close(args_fd)
            child.close()
        ready = self._receive(time.monotonic() + SERVER_STARTUP_SECONDS)
        if ready.get("op") != "ready":
            raise ServerGone(f"the fork server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        """The last lines the server printed (for the grader's message)."""
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "no message"

    def alive(self) -> bool:
        """True while the server runs."""
        return self.sock is not None and self.proc is not None and self.proc.poll() is None

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        """One message (and descriptors) to the server."""
        if self.sock is None:
            raise ServerGone("the fork server is closed")
        try:
            socket.send_fds(self.sock, [json.dumps(message).encode()], list(fds))
        except OSError as exc:
            raise ServerGone(f"the fork server is gone ({exc})") from exc

    def _receive(self, deadline: float) -> dict[str, Any]:
        """The next message, or ``{}`` at the deadline; raises ServerGone at its end."""
        assert self.sock is not None
        left = deadline - time.monotonic()
        self.sock.settimeout(max(left, 0.0))
        try:
            data = self.sock.recv(_MAX_MESSAGE)
        except (TimeoutError, BlockingIOError):
            return {}
        except OSError as exc:
            raise ServerGone(f"the fork server is gone ({exc})") from exc
        if not data:
            raise ServerGone(f"the fork server ended ({self.log_tail()})")
        message = json.loads(data)
        if message.get("op") == "exited":
            self.exits[int(message["id"])] = int(message["code"])
        return message

    def spawn(self, seed: int, limits: Any, cpu_seconds: int, fds: tuple[int, int, int],
              procs: list[str]) -> Forked:
        """Fork one submission: ``fds`` are its command, reply and output pipe ends.

        Raises:
            ServerGone: the server died or refused (then grade this one fresh).

        """
        self._ids += 1
        ident = self._ids
        opened = [os.open(path, os.O_WRONLY) for path in procs]
        try:
            self.send({"op": "fork", "id": ident, "seed": seed, "cpu_seconds": cpu_seconds,
                       "file_mb": limits.file_mb, "scratch_mb": limits.scratch_mb},
                      (*fds, *opened))
        finally:
            for fd in opened:
                os.close(fd)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = self._receive(deadline)
            if reply.get("id") != ident or reply.get("op") == "exited":
                continue
            if reply.get("op") == "started":
                return Forked(self, ident)
            raise ForkRefused(f"the fork server could not fork: {reply.get('error')}")
        raise ServerGone("the fork server did not answer")

    def exit_code(self, ident: int, timeout: float) -> int | None:
        """The exit code of submission ``ident`` once known (-9 if the server is gone)."""
        deadline = time.monotonic() + timeout
        while ident not in self.exits:
            if self.sock is None:
                return -signal.SIGKILL
            try:
                if not self._receive(deadline) and time.monotonic() >= deadline:
                    return None
            except ServerGone:
                self.sock = None
                return -signal.SIGKILL
        return self.exits.pop(ident)

    def close(self) -> None:
        """Stop the server and everything in its box; remove its cgroup."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.cgroup.kill_all()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self.cgroup.remove()
        self.log.close()


_SERVERS: dict[tuple[str, ...], ForkServer] = {}
_BROKEN: set[tuple[str, ...]] = set()


def _server_sandbox(sandbox: Any) -> Any:
    """``sandbox`` with the default limits: one server whatever a submission's limits are.

    They are the submission's cgroup and its own mounts and rlimits.
    """
    import copy

    from autograder.box.sandbox import Limits

    other = copy.copy(sandbox)
    other.limits = Limits()
    return other


def _key(sandbox: Any) -> tuple[str, ...]:
    return tuple(_server_sandbox(sandbox).command(["server"]))


def server_for(sandbox: Any) -> ForkServer | None:
    """The worker's server for ``sandbox`` (started, or restarted if it died; None: none).

    A server that cannot start is not tried again for the same sandbox in this process: its
    sessions run in fresh processes.
    """
    key = _key(sandbox)
    server = _SERVERS.get(key)
    if server is not None and not server.alive():
        server.close()
        del _SERVERS[key]
        server = None
    if server is None and key not in _BROKEN:
        while len(_SERVERS) >= MAX_SERVERS:
            _SERVERS.pop(next(iter(_SERVERS))).close()
        try:
            server = _SERVERS[key] = ForkServer(_server_sandbox(sandbox))
        except (ServerGone, OSError) as exc:
            print(f"warning: no fork server ({exc}); fresh processes instead", file=sys.stderr)
            _BROKEN.add(key)
    return server


def forget(sandbox: Any, refused: bool = False) -> None:
    """Close the server of ``sandbox`` (a session found it gone, or it ``refused`` to fork).

    A server that refused is not started again in this process: forking cannot work here.
    """
    key = _key(sandbox)
    server = _SERVERS.pop(key, None)
    if server is not None:
        server.close()
    if refused:
        print("warning: the fork server cannot fork here; fresh processes instead",
              file=sys.stderr)
        _BROKEN.add(key)


def close_all() -> None:
    """Stop every server of this process (at exit)."""
    while _SERVERS:
        _SERVERS.popitem()[1].close()


atexit.register(close_all)


if __name__ == "__main__":
    sys.exit(main())
