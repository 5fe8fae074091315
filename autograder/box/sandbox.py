"""The box a submission's process runs in: bubblewrap, cgroups and resource limits.

A grading session starts ``python -m autograder.box.runner`` through :meth:`Sandbox.popen`:

* **bubblewrap** (``bwrap``, Debian package ``bubblewrap``) gives the process its own mount,
  PID, network, IPC and UTS namespaces: a read-only view of ``/usr``, the Python installation,
  the virtualenv and the ``rlkit`` and ``autograder`` package directories (with
  ``autograder/frontends/sample_class`` hidden), and nothing else of the machine: not
  ``solutions/``, not the installed packages outside the kit's runtime closure (a dev extra
  such as ``mdptoolbox``; every site-packages shows only the closure's files, see
  :mod:`autograder.box.packages`), not the repository root, not the gradebook or the output
  directory, not the submissions. The only writable places are size-capped tmpfs mounts
  (``/scratch``, its working directory and ``HOME``, ``/tmp`` and ``/dev/shm``), which vanish
  with the sandbox. There is no network (only a loopback device that is down).
  ``--die-with-parent`` ties it to the grader. Run as root, bwrap sets the box up and
  ``setpriv`` drops to an unprivileged user (``nobody``) with no capabilities and
  ``no_new_privs`` before Python starts; run as a normal user, bwrap maps the user to
  ``nobody`` in a user namespace.
* **cgroups** (v1 or v2) limit memory by real use (``memory.limit_in_bytes``/``memory.max``,
  swap included: an address-space limit would break numpy and torch, which reserve far more
  than they use), the number of processes and threads (``pids.max``: a fork bomb stops
  there), and CPU (a quota of one core per submission, so that a busy submission cannot
  slow its neighbours down past their time limits). They also tell an out-of-memory kill from
  other deaths, and let the grader kill every process of a submission, however it detached.
* **rlimits** set in the child before ``exec``: the largest file (``RLIMIT_FSIZE``), CPU
  seconds (``RLIMIT_CPU``, a backstop of the wall-clock limits), no core dumps.

The wall-clock limit of every step, and the capped reading of stdout/stderr, are the
session's job (:mod:`autograder.box.session`). :func:`detect` finds out what this machine offers; a
grader that cannot build the box refuses to grade unless told to run unsandboxed, in which case
the runner still runs in its own process (student code never judges itself) with the rlimits,
and the cgroups when there are any, but sees the whole file system with the grader's rights.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.box.packages import SiteView, default_view

#: the unprivileged user the submission runs as (``nobody`` on Debian).
SANDBOX_UID = SANDBOX_GID = 65534
#: where the scratch directory is inside the box.
SCRATCH = "/scratch"
#: ``AUTOGRADER_BWRAP`` names the bwrap binary (tests point it at nothing to see the refusal).
BWRAP_ENV = "AUTOGRADER_BWRAP"
_MiB = 2**20
_counter = itertools.count()


class SandboxUnavailable(RuntimeError):
    """No sandbox can be built here; the message says what is missing and what to do."""


@dataclass(frozen=True)
class Limits:
    """What one submission's process may use."""

    memory_mb: int = 2048
    """real memory (RSS, page cache and tmpfs pages it writes), swap included."""
    pids: int = 256
    """processes and threads together."""
    cpus: float = 1.0
    """CPU cores' worth of time per scheduling period (a cgroup CPU quota)."""
    scratch_mb: int = 256
    """size of the writable ``/scratch`` (and of ``/tmp`` and ``/dev/shm``, each a quarter)."""
    file_mb: int = 128
    """the largest file it may write (``RLIMIT_FSIZE``)."""
    output_kb: int = 256
    """how much of its stdout/stderr the grader keeps (the rest is read and dropped)."""

    def describe(self) -> str:
        """One line for logs and the README."""
        return (f"memory {self.memory_mb} MiB, {self.pids} processes/threads, "
                f"{self.cpus:g} CPU, scratch {self.scratch_mb} MiB, files <= {self.file_mb} MiB")


# ----------------------------------------------------------------------------- cgroups


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, super options) of every mount, from ``/proc/self/mountinfo``."""
    out = []
    for line in _read(Path("/proc/self/mountinfo")).splitlines():
        left, _, right = line.partition(" - ")
        parts, rparts = left.split(), right.split()
        if len(parts) >= 5 and len(rparts) >= 3:
            out.append((parts[4].replace("\\040", " "), rparts[0], rparts[2]))
    return out


def _own_cgroups() -> dict[str, str]:
    """Controller (``""`` for v2) -> this process's cgroup path (``/proc/self/cgroup``)."""
    out = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(","):
            out[name] = path
    return out


def _writable_dir(parent: Path) -> bool:
    probe = parent / f"autograder-probe-{os.getpid()}-{next(_counter)}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        probe.rmdir()
    except OSError:
        pass
    return True


@dataclass(frozen=True)
class CgroupSupport:
    """Where this grader may create the cgroups of its sandboxes."""

    version: int
    parents: dict[str, Path] = field(default_factory=dict)
    """v1: controller -> parent directory; v2: ``{"": parent}``."""

    def describe(self) -> str:
        """e.g. ``cgroup v1 (memory, pids, cpu)``."""
        names = ", ".join(self.parents) if self.version == 1 else "memory, pids, cpu"
        return f"cgroup v{self.version} ({names})"

    def create(self, limits: Limits) -> Cgroup:
        """A fresh cgroup (one per controller on v1) with ``limits`` written."""
        name = f"autograder-{os.getpid()}-{next(_counter)}"
        return Cgroup(self, name, limits)


def _detect_cgroups() -> tuple[CgroupSupport | None, str | None]:
    mounts = _mounts()
    own = _own_cgroups()
    v1: dict[str, Path] = {}
    for controller in ("memory", "pids", "cpu"):
        mount = next((m for m, fstype, opts in mounts if fstype == "cgroup"
                      and controller in opts.split(",")), None)
        if mount is None or controller not in own:
            continue
        parent = Path(mount) / own[controller].lstrip("/")
        if _writable_dir(parent):
            v1[controller] = parent
    if "memory" in v1 and "pids" in v1:
        return CgroupSupport(1, v1), None
    v2_mount = next((m for m, fstype, _ in mounts if fstype == "cgroup2"), None)
    if v2_mount is not None:
        root = Path(v2_mount)
        enabled = _read(root / "cgroup.subtree_control").split()
        if {"memory", "pids"} <= set(enabled) and _writable_dir(root):
            return CgroupSupport(2, {"": root}), None
    why = ("cannot create cgroups with the memory and pids controllers "
           "(run the grader as root on a machine with cgroup v1 memory+pids, or cgroup v2 with "
           "memory and pids enabled at the root)")
    return None, why


class Cgroup:
    """The cgroup(s) of one sandboxed process tree: limits, membership, kill, OOM record."""

    def __init__(self, support: CgroupSupport, name: str, limits: Limits) -> None:
        self.version = support.version
        self.dirs: dict[str, Path] = {}
        try:
            for controller, parent in support.parents.items():
                path = parent / name
                path.mkdir()
                self.dirs[controller] = path
            self._write_limits(limits)
        except OSError:
            self.remove()
            raise

    def _write_limits(self, limits: Limits) -> None:
        memory = str(limits.memory_mb * _MiB)
        quota = str(int(100_000 * limits.cpus))
        if self.version == 1:
            mem = self.dirs["memory"]
            (mem / "memory.limit_in_bytes").write_text(memory)
            if (mem / "memory.memsw.limit_in_bytes").exists():
                (mem / "memory.memsw.limit_in_bytes").write_text(memory)
            (self.dirs["pids"] / "pids.max").write_text(str(limits.pids))
            if "cpu" in self.dirs:
                (self.dirs["cpu"] / "cpu.cfs_period_us").write_text("100000")
                (self.dirs["cpu"] / "cpu.cfs_quota_us").write_text(quota)
        else:
            path = self.dirs[""]
            (path / "memory.max").write_text(memory)
            if (path / "memory.swap.max").exists():
                (path / "memory.swap.max").write_text("0")
            (path / "pids.max").write_text(str(limits.pids))
            if (path / "cpu.max").exists():
                (path / "cpu.max").write_text(f"{quota} 100000")

    @property
    def proc_files(self) -> list[str]:
        """The ``cgroup.procs`` files a new process joins (from ``preexec_fn``)."""
        return [str(path / "cgroup.procs") for path in self.dirs.values()]

    def pids(self) -> set[int]:
        """Every process still in the cgroup."""
        found: set[int] = set()
        for path in self.dirs.values():
            found |= {int(p) for p in _read(path / "cgroup.procs").split()}
        return found

    def oom_killed(self) -> bool:
        """True when the kernel killed a process of this cgroup for going over its memory."""
        if self.version == 1:
            path = self.dirs["memory"]
            match = re.search(r"oom_kill (\d+)", _read(path / "memory.oom_control"))
            if match:
                return int(match.group(1)) > 0
            return _read(path / "memory.failcnt").strip() not in ("", "0")
        match = re.search(r"oom_kill (\d+)", _read(self.dirs[""] / "memory.events"))
        return bool(match and int(match.group(1)) > 0)

    def pids_limit_events(self) -> int:
        """How many forks or thread creations were refused for the process limit."""
        path = self.dirs.get("pids") or self.dirs.get("")
        match = re.search(r"max (\d+)", _read(path / "pids.events")) if path else None
        return int(match.group(1)) if match else 0

    def pids_limit_hit(self) -> bool:
        """True when a fork or thread creation was refused for the process limit."""
        return self.pids_limit_events() > 0

    def peak_memory_mb(self) -> float | None:
        """The highest memory use seen (v1 only; None when unknown)."""
        if self.version == 1:
            text = _read(self.dirs["memory"] / "memory.max_usage_in_bytes").strip()
            return int(text) / _MiB if text else None
        text = _read(self.dirs[""] / "memory.peak").strip()
        return int(text) / _MiB if text else None

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup until none is left (a fork bomb included)."""
        if self.version == 2 and (self.dirs[""] / "cgroup.kill").exists():
            try:
                (self.dirs[""] / "cgroup.kill").write_text("1")
            except OSError:
                pass
        end = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > end:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Delete the cgroup directories (after :meth:`kill_all`)."""
        for path in self.dirs.values():
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs = {}


# ----------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class Capabilities:
    """What this machine offers for sandboxing."""

    bwrap: str | None
    bwrap_problem: str | None
    cgroups: CgroupSupport | None
    cgroup_problem: str | None
    root: bool

    @property
    def sandbox_ok(self) -> bool:
        """True when a full sandbox (bubblewrap and cgroups) can be built."""
        return self.bwrap is not None and self.cgroups is not None

    def problems(self) -> list[str]:
        """What is missing, one sentence each."""
        return [p for p in (self.bwrap_problem, self.cgroup_problem) if p]

    def describe(self) -> str:
        """One line: what the sandbox will be made of."""
        if not self.sandbox_ok:
            return "no sandbox: " + "; ".join(self.problems())
        user = "setpriv to nobody" if self.root else "user namespace as nobody"
        assert self.cgroups is not None
        return f"bubblewrap ({self.bwrap}, {user}) + {self.cgroups.describe()}"


def find_bwrap() -> str | None:
    """The bwrap binary: ``$AUTOGRADER_BWRAP`` if set, else ``bwrap`` on ``PATH``."""
    named = os.environ.get(BWRAP_ENV)
    if named is not None:
        return named if named and os.access(named, os.X_OK) else None
    return shutil.which("bwrap")


def detect() -> Capabilities:
    """Find bwrap, check that it can build our box here, and find writable cgroups."""
    root = os.geteuid() == 0
    bwrap = find_bwrap()
    problem = None
    if bwrap is None:
        problem = ("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap; "
                   f"or set {BWRAP_ENV} to its path)")
    else:
        sandbox = Sandbox(Capabilities(bwrap, None, None, None, root), Limits())
        probe = sandbox.command([sys.executable, "-c", "import numpy, rlkit, autograder"])
        try:
            result = subprocess.run(probe, capture_output=True, text=True, timeout=60,
                                    env=sandbox.environment(0), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            result = None
            problem = f"bubblewrap cannot start here ({exc})"
        if result is not None and result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
            problem = f"bubblewrap cannot build the sandbox here: {detail}"
    cgroups, cgroup_problem = _detect_cgroups()
    return Capabilities(bwrap if problem is None else None, problem, cgroups, cgroup_problem,
                        root)


# ----------------------------------------------------------------------------- the box


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable(f"cannot find the {name} package")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _python_dirs() -> list[Path]:
    """The directories the Python interpreter and its packages live in."""
    dirs = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
            Path(sys.executable).resolve().parent.parent,
            Path(os.path.realpath(sys.executable)).parent.parent}
    keep = sorted(d for d in dirs if d != Path("/"))
    return [d for d in keep if not any(d != o and d.is_relative_to(o) for o in keep)
            and not d.is_relative_to("/usr")]


def _ancestors(paths: Sequence[Path]) -> list[Path]:
    seen: set[Path] = set()
    for path in paths:
        seen.update(p for p in path.parents if p != Path("/"))
    return sorted(seen, key=lambda p: (len(p.parts), str(p)))


class Sandbox:
    """Builds the command and the environment of a sandboxed (or unsandboxed) runner."""

    def __init__(self, caps: Capabilities | None, limits: Limits, *,
                 isolate: bool = True, drop_privileges: bool = False) -> None:
        self.caps = caps
        self.limits = limits
        self.isolate = isolate and caps is not None and caps.bwrap is not None
        self.drop_privileges = drop_privileges and not self.isolate and os.geteuid() == 0
        """unsandboxed, but still run as ``nobody`` (root only)."""
        self.packages = [_package_dir("rlkit"), _package_dir("autograder")]
        self.rlkit_build: Path | None = None
        """a redacted build of rlkit seen in place of the real one
        (:mod:`autograder.judge.withhold`)."""
        self.autograder_build: Path | None = None
        """the box's own ``autograder`` package (:func:`box_package`) seen in place of the
        real one: the judge, the specs and the course side are not in the box."""
        self.fork_server = True
        """fork each submission from a pre-imported server (:mod:`autograder.box.forkserver`)
        where this machine allows it; False: a fresh process per submission."""

    def withholding(self, rlkit_build: Path | None) -> Sandbox:
        """A copy of the sandbox with ``rlkit_build`` mounted over rlkit (None: this one).

        Unsandboxed, the build comes first on ``PYTHONPATH`` instead of being mounted.
        """
        if rlkit_build is None:
            return self
        other = copy.copy(self)
        other.rlkit_build = Path(rlkit_build)
        return other

    def boxed(self) -> Sandbox:
        """A copy that sees :func:`box_package` in place of the whole ``autograder``."""
        other = copy.copy(self)
        other.autograder_build = box_package()
        return other

    def fresh_process(self) -> Sandbox:
        """A copy that starts every submission in a fresh process (no fork server)."""
        other = copy.copy(self)
        other.fork_server = False
        return other

    @property
    def cgroups(self) -> CgroupSupport | None:
        """Where the cgroups go (None: no cgroup limits)."""
        return self.caps.cgroups if self.caps is not None else None

    def describe(self) -> str:
        """One line for the grader's log."""
        if self.isolate:
            from autograder.box.forkserver import usable

            assert self.caps is not None
            how = ("forked from a pre-imported fork server" if usable(self) else
                   "a fresh process per notebook")
            return (f"sandboxed: {self.caps.describe()}; {how}; "
                    f"limits: {self.limits.describe()}")
        cg = self.cgroups.describe() if self.cgroups else "no cgroups"
        who = ("as nobody; it can read what nobody can" if self.drop_privileges else
               "student code can read and write what the grader can")
        return (f"UNSANDBOXED (own process, rlimits, {cg}; {who}); "
                f"limits: {self.limits.describe()}")

    def environment(self, seed: int, scratch: Path | None = None) -> dict[str, str]:
        """The whole environment of the runner (nothing of the grader's leaks in)."""
        home = SCRATCH if self.isolate or scratch is None else str(scratch)
        tmp = "/tmp" if self.isolate or scratch is None else str(scratch / "tmp")
        bindir = str(Path(sys.executable).parent)
        parents = [str(p.parent) for p in self.packages]
        for build in (self.autograder_build, self.rlkit_build):
            if build is not None and not self.isolate:
                parents.insert(0, str(build.parent))
        python_path = os.pathsep.join(dict.fromkeys(parents))
        return {
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home, "TMPDIR": tmp, "USER": "student", "LOGNAME": "student",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONPATH": python_path, "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib",
            "IPYTHONDIR": f"{home}/.ipython", "XDG_CACHE_HOME": f"{home}/.cache",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1", "TQDM_DISABLE": "1",
            "NBGRADER_EXECUTION": "autograde", "RLKIT_GRADING_SEED": str(seed),
        }

    def command(self, argv: Sequence[str], keep_caps: Sequence[str] = ()) -> list[str]:
        """``argv`` wrapped in bwrap (and setpriv when root); unchanged when not isolating.

        ``keep_caps`` (root only): run ``argv`` as root in the box with these capabilities
        instead of as ``nobody`` with none (the fork server, :mod:`autograder.box.forkserver`).
        """
        if not self.isolate:
            return [*self._setpriv(), *argv] if self.drop_privileges else list(argv)
        assert self.caps is not None and self.caps.bwrap is not None
        lim = self.limits
        python = _python_dirs()
        view = self.site_view(python)
        # a site directory on sys.path outside the Python installation (a .pth points at it)
        python += [d for d in view.active if not any(d.is_relative_to(p) for p in python)]
        binds = [*python, *self.packages]
        cmd = [self.caps.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net",
               "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
               "--hostname", "sandbox"]
        if not self.caps.root:
            cmd += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                cmd += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                cmd += ["--ro-bind", str(path), str(path)]
        for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts",
                    "alternatives", "mime.types"):
            cmd += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
        # The fresh /tmp comes BEFORE the binds: a checkout or venv that lives under /tmp (a CI
        # clone, say) is bound on top of it instead of being hidden by it.
        quarter = max(lim.scratch_mb // 4, 8) * _MiB
        cmd += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "0777", "--size", str(lim.scratch_mb * _MiB), "--tmpfs", SCRATCH,
                "--perms", "1777", "--size", str(quarter), "--tmpfs", "/tmp",
                "--perms", "1777", "--size", str(quarter), "--tmpfs", "/dev/shm"]
        mounted = {Path("/tmp"), Path("/dev/shm"), Path(SCRATCH)}
        for parent in _ancestors(binds):  # bwrap would create them 0700: nobody could pass
            if parent not in mounted and not any(parent == b or parent.is_relative_to(b)
                                                 for b in binds):
                cmd += ["--perms", "0755", "--dir", str(parent)]
        for path in python:
            cmd += ["--ro-bind", str(path), str(path)]
        # every site-packages: only the runtime closure's files, never a dev extra or the kit
        cmd += view.mounts()
        for path in self.packages:  # the kit, as the grader imports it (after the view)
            cmd += ["--ro-bind", str(path), str(path)]
        if self.rlkit_build is not None:  # on top of the real one, which is then out of sight
            cmd += ["--ro-bind", str(self.rlkit_build), str(self.packages[0])]
        if self.autograder_build is not None:  # likewise: the judge is out of sight
            cmd += ["--ro-bind", str(self.autograder_build), str(self.packages[1])]
        hidden = _package_dir("autograder") / "frontends" / "sample_class"
        if hidden.is_dir() and self.autograder_build is None:
            cmd += ["--tmpfs", str(hidden)]
        cmd += ["--chdir", SCRATCH]
        if keep_caps and self.caps.root:  # as root, bwrap would keep every capability
            cmd += ["--cap-drop", "ALL"]
            for cap in keep_caps:
                cmd += ["--cap-add", cap]
            return [*cmd, "--", *argv]
        if self.caps.root:
            return [*cmd, "--", *self._setpriv(), *argv]
        return [*cmd, "--", *argv]

    def launch(self, argv: Sequence[str], args_fd: int,
               keep_caps: Sequence[str] = ()) -> tuple[list[str], bytes | None]:
        """The command that starts ``argv`` in the box, and what to write on ``args_fd``.

        bwrap's options (every host path it binds, the redacted build's among them) go through
        ``args_fd`` (bwrap's ``--args FD``), not its command line: PID 1 of the box's PID
        namespace is bwrap itself, and anything in the box can read its ``/proc/1/cmdline``.
        What stays visible is ``bwrap --args FD -- argv``. The caller hands bwrap a descriptor
        open for reading at ``args_fd`` holding the bytes returned (None: not isolating, then
        the command is :meth:`command`'s and ``args_fd`` is unused).
        """
        full = self.command(argv, keep_caps)
        if not self.isolate:
            return full, None
        end = full.index("--")
        options = full[1:end]
        data = b"".join(option.encode() + b"\0" for option in options)
        return [full[0], "--args", str(args_fd), *full[end:]], data

    @staticmethod
    def site_view(python_dirs: Sequence[Path]) -> SiteView:
        """What of the installed packages the box shows (:mod:`autograder.box.packages`).

        Raises:
            SandboxUnavailable: the kit's runtime requirements cannot be found.

        """
        try:
            return default_view(tuple(python_dirs))
        except LookupError as exc:
            raise SandboxUnavailable(f"cannot tell the kit's runtime packages: {exc}") from exc

    @staticmethod
    def _setpriv() -> list[str]:
        return [shutil.which("setpriv") or "/usr/bin/setpriv",
                "--reuid", str(SANDBOX_UID), "--regid", str(SANDBOX_GID), "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]

    def preexec(self, cgroup: Cgroup | None, cpu_seconds: int):
        """The function run in the child before ``exec``: join the cgroup, set rlimits."""
        procs = cgroup.proc_files if cgroup is not None else []
        file_bytes = self.limits.file_mb * _MiB

        def setup() -> None:  # runs between fork and exec: keep it to plain system calls
            for path in procs:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, str(os.getpid()).encode())
                finally:
                    os.close(fd)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        return setup


def can_drop_privileges() -> bool:
    """True when we are root and Python, numpy and the course still import as ``nobody``."""
    if os.geteuid() != 0:
        return False
    probe = [*Sandbox._setpriv(), sys.executable, "-c", "import numpy, rlkit, autograder"]
    env = Sandbox(None, Limits(), isolate=False).environment(0)
    try:
        return subprocess.run(probe, capture_output=True, timeout=60, env=env, cwd="/",
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require(caps: Capabilities, unsandboxed: bool) -> None:
    """Refuse to grade without a sandbox, unless ``unsandboxed`` says to go on without one.

    Raises:
        SandboxUnavailable: with what is missing and the two ways out.

    """
    if caps.sandbox_ok or unsandboxed:
        return
    raise SandboxUnavailable(
        "cannot build a sandbox for student code on this machine:\n  - "
        + "\n  - ".join(caps.problems())
        + "\nStudent code would run with your rights (it could read solutions/ and write the "
        "gradebook) and without memory or process limits. Fix the above, or pass "
        "--unsandboxed to grade anyway (only for code you trust)."
    )


_BOX_PACKAGE: list[Path] = []


def box_package() -> Path:
    """The ``autograder`` package the box sees: ``autograder.box`` and the notebook API only.

    A copy, made once per process in a temporary directory, of ``autograder/box/`` plus
    ``autograder/checks.py`` from :mod:`autograder.box.notebook_api` (a notebook's one
    import), so that nothing of the judge (specs, expected values, thresholds, comparisons)
    is importable from student code, however it searches.
    """
    if not _BOX_PACKAGE:
        import atexit
        import tempfile

        real = _package_dir("autograder")
        dest = Path(tempfile.mkdtemp(prefix="autograder-box-")) / "autograder"
        atexit.register(shutil.rmtree, dest.parent, ignore_errors=True)
        shutil.copytree(real / "box", dest / "box",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (dest / "__init__.py").write_text('"""The grader\'s box: see autograder.box."""\n')
        shutil.copyfile(real / "box" / "notebook_api.py", dest / "checks.py")
        for root, _, files in os.walk(dest.parent):  # readable by the unprivileged user
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        _BOX_PACKAGE.append(dest)
    return _BOX_PACKAGE[0]
