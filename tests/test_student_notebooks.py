"""The student's notebooks, executed: every promised figure appears, Run All reaches every check.

Figures: each notebook, filled with the reference (as the sample class builds alice's), runs in
a real kernel with ``NBGRADER_EXECUTION=validate``, which skips the training demos (the cells
under ``if not is_nbgrader()``: 01's Monte Carlo error plot, 02's Q-learning curves, 03's DQN
history, CartPole animation and ablation, 04's variance figures, REINFORCE history, animation
and comparison, 05's sampled variances and gradient-ascent runs). Every other cell that calls
``plt.show()`` must show exactly one image, and no other cell any. The plots of the skipped
cells (``plot_history``, ``plot_training_curve``, ...) are covered by running each
:mod:`rlkit.plotting` helper as the notebooks call it in a kernel.
No printed output may show a numpy scalar's repr (``np.float64(0.8)``).

Run All: in a kernel a failing ``check()`` shows its report and does not raise, so the
self-check (``python -m autograder check``, which runs the notebook without ``validate``) sees
every check: a release fails all of them, a solved notebook passes all, one bug fails its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, TEST_TIMEOUT

from autograder.course.release import Assignment
from autograder.frontends.sample_class import bug_source, solved_notebook
from autograder.frontends.selfcheck import execute, format_report, self_check
from autograder.records.report import FAILED, OK

NUMPY_REPR = re.compile(r"\bnp\.(float|int|uint|bool|complex)\w*\(")


def release(name: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / "notebooks" / f"{name}.ipynb", as_version=4)


def assignment_of(assignments, name: str) -> Assignment:
    return next(a for a in assignments if a.id == name)


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("name", ["01_mdps", "02_bellman", "03_dqn", "04_reinforce",
                                  "05_actor_critic", "07_rlhf", "08_alphago"])
def test_every_promised_figure_appears(name, assignments, tmp_path):
    nb = solved_notebook(assignment_of(assignments, name), release(name))
    executed = execute(nb, tmp_path, timeout=300, skip_slow=True)
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [(c.source[:60], o.get("ename")) for c in code for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    shown = {i: _images(c) for i, c in enumerate(code)}
    promised = {i for i, c in enumerate(code)
                if "plt.show()" in c.source and "is_nbgrader()" not in c.source}
    assert {i: shown[i] for i in promised} == dict.fromkeys(promised, 1), [
        code[i].source[:80] for i in promised if shown[i] != 1]
    assert {i: n for i, n in shown.items() if i not in promised and n} == {}
    leaks = [_text(c)[:200] for c in code if NUMPY_REPR.search(_text(c))]
    assert not leaks


#: every plotting helper, called as the notebooks do: ``fig = plotting.plot_...; plt.show()``.
HELPERS = """
import matplotlib.pyplot as plt
import numpy as np
from types import SimpleNamespace
from rlkit import GridWorld, plotting
history = SimpleNamespace(episode_returns=np.arange(30.0), episode_end_steps=np.arange(30) + 1,
                          losses=np.linspace(1.0, 0.1, 50), evaluations=[(10, 1.0, 0.5, 0.1)])
world = GridWorld()
calls = [
    lambda: plotting.plot_gridworld_values(world, np.zeros(world.n_states)),
    lambda: plotting.plot_state_values(np.arange(4.0), shape=(2, 2)),
    lambda: plotting.plot_state_values(np.arange(4.0)),
    lambda: plotting.plot_convergence(0.9 ** np.arange(1, 20)),
    lambda: plotting.plot_learning_curve(np.arange(40.0)),
    lambda: plotting.plot_training_curve(history),
    lambda: plotting.plot_loss_curve(history),
    lambda: plotting.plot_history(history, title="DQN"),
]
"""


def test_every_plotting_helper_shows_its_figure_in_a_kernel(tmp_path):
    n = HELPERS.count("lambda:")
    cells = [nbformat.v4.new_code_cell(HELPERS)] + [
        nbformat.v4.new_code_cell(f"fig = calls[{i}]()\nplt.show()") for i in range(n)] + [
        nbformat.v4.new_code_cell("fig = calls[-1]()\ntype(fig).__name__")]
    executed = execute(nbformat.v4.new_notebook(cells=cells), tmp_path, timeout=120)
    assert [_images(c) for c in executed.cells[1:-1]] == [1] * n
    last = executed.cells[-1]  # the returned Figure API is kept, and it is shown once
    assert _images(last) == 1 and "'Figure'" in _text(last)


# ---------------------------------------------------------------------------- the self-check

SELF_CHECKED = "01_mdps"


def _self_check(nb: nbformat.NotebookNode, tmp_path: Path):
    path = tmp_path / f"{SELF_CHECKED}.ipynb"
    nbformat.write(nb, path)
    return path, self_check(path, timeout=TEST_TIMEOUT).reports


def _checks(assignment: Assignment) -> dict[str, float]:
    return {c.grade_id: c.points for c in assignment.cells if c.kind == "check"}


def test_self_check_of_a_release_reports_every_check_failed(assignments, tmp_path):
    assignment = assignment_of(assignments, SELF_CHECKED)
    path, reports = _self_check(release(SELF_CHECKED), tmp_path)
    checks = {r.grade_id: r for r in reports if r.grade_id in _checks(assignment)}
    assert set(checks) == set(_checks(assignment))  # every check, not just the first
    assert {r.status for r in checks.values()} == {FAILED}
    assert all(r.points == 0 and r.message.startswith("\u2717") for r in checks.values())
    text = format_report(path, reports)
    assert f"Total: 0/{assignment.autograded_points:g} autograded points" in text
    assert text.count("FAILED") == len(checks)


def test_self_check_of_a_solved_notebook_is_full_marks(assignments, tmp_path):
    assignment = assignment_of(assignments, SELF_CHECKED)
    path, reports = _self_check(solved_notebook(assignment, release(SELF_CHECKED)), tmp_path)
    checks = [r for r in reports if r.grade_id in _checks(assignment)]
    assert len(checks) == len(_checks(assignment))
    assert all(r.status == OK and r.points == r.max_points for r in checks)
    total = assignment.autograded_points
    assert f"Total: {total:g}/{total:g} autograded points" in format_report(path, reports)


def test_self_check_with_one_bug_fails_only_its_check(assignments, tmp_path):
    from autograder.judge import get_spec

    assignment = assignment_of(assignments, SELF_CHECKED)
    spec = get_spec("mdps.discounted_return")
    bug = next(b for b in spec.bugs if bug_source(b.fn, spec.function))
    nb = solved_notebook(assignment, release(SELF_CHECKED))
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == spec.function)
    cell.source = bug_source(bug.fn, spec.function)
    path, reports = _self_check(nb, tmp_path)
    failed = {r.grade_id: r for r in reports if r.status != OK and r.points is not None}
    own = next(c.grade_id for c in assignment.cells if c.kind == "check" and spec.name in c.specs)
    assert own in failed and "hint:" in failed[own].message and failed[own].points == 0
    earned = sum(r.points or 0 for r in reports)
    assert earned == assignment.autograded_points - sum(r.max_points for r in failed.values())
    assert len(failed) < len(_checks(assignment))  # the other checks still ran and passed


# ---------------------------------------------------------------------------- progress

TRAINERS = {("dqn", "train"), ("reinforce", "train"), ("a2c", "train"), ("ppo", "train"),
            ("qlearning", "q_learning"), ("sft", "train_sft"), ("rm", "train_reward_model"),
            ("rl", "train_policy"), ("dpo", "train_dpo")}


@pytest.mark.parametrize("source", sorted((REPO_ROOT / "solutions").glob("*.py")),
                         ids=lambda p: p.stem)
def test_every_training_run_of_a_notebook_shows_progress(source):
    """Each call of a trainer in a notebook passes ``progress=True``: long cells show a bar."""
    import ast

    calls = [node for node in ast.walk(ast.parse(source.read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name)
             and (node.func.value.id, node.func.attr) in TRAINERS]
    silent = [node.lineno for node in calls
              if not any(k.arg == "progress" and getattr(k.value, "value", None) is True
                         for k in node.keywords)]
    assert not silent, f"{source.name}: trainer calls without progress=True at lines {silent}"


# ---------------------------------------------------------------------------- Run All, fresh

NOTEBOOKS = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
SKIPPED = re.compile(r"\u23ed skipped: (write `(\w+)` first|this cell needs `\w+`, "
                     r"which waits for `(\w+)`)")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_on_a_fresh_release_reaches_every_cell(name, assignments, tmp_path):
    """A demo cell that needs an unwritten function says which in one line; nothing stops."""
    executed = execute(release(name), tmp_path, timeout=300)
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [(i, c.source[:60], o.get("ename")) for i, c in enumerate(code) for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    assert all(c.get("execution_count") for c in code)
    students = {c.function for c in assignment_of(assignments, name).cells
                if c.kind == "solution" and c.function}
    named = [m.group(2) or m.group(3) for c in code for m in SKIPPED.finditer(_text(c))]
    assert named, "no cell of a fresh release needs a student function?"
    assert set(named) <= students  # each line names a function the student writes
    # one line, the last the cell printed: what it printed before its call stays above it
    printed = ["".join(o.get("text", "") for o in c.outputs if o.get("name") == "stdout")
               for c in code]
    skipped = [text.splitlines() for text in printed if SKIPPED.search(text)]
    assert all(SKIPPED.match(lines[-1]) for lines in skipped)
    assert all(sum(bool(SKIPPED.match(line)) for line in lines) == 1 for lines in skipped)


def _cells(*sources: str) -> dict:
    """Run ``sources`` as notebook cells do: one namespace, each cell's source in linecache."""
    import linecache

    namespace = {"__name__": "__main__"}
    for i, source in enumerate(sources):
        filename = f"<cell-{i}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_skip_if_unwritten_names_the_stub_and_lets_the_cells_after_it_go_on(capsys):
    _cells("def gae(rewards):\n    raise NotImplementedError()\n",
           "def a2c_loss(x):\n    return gae(x) + 1\n",
           "from autograder.checks import skip_if_unwritten\n"
           "with skip_if_unwritten():\n    loss = a2c_loss([1.0])\n    seen = 1\n",
           "with skip_if_unwritten():\n    doubled = 2 * loss\n",
           "with skip_if_unwritten():\n    print(doubled)\n")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "\u23ed skipped: write `gae` first (its cell `def gae(...)` is above), then run this "
        "cell again",
        "\u23ed skipped: this cell needs `loss`, which waits for `gae`: write `gae` first",
        "\u23ed skipped: this cell needs `doubled`, which waits for `gae`: write `gae` first"]


@pytest.mark.parametrize("cell, error", [
    # a library's NotImplementedError (torch's Module without forward) is not the student's stub
    ("import torch\nwith skip_if_unwritten():\n    torch.nn.Module()(1)\n", NotImplementedError),
    # nor one raised by a method of a class defined in the notebook
    ("class Agent:\n    def act(self):\n        raise NotImplementedError()\n"
     "with skip_if_unwritten():\n    Agent().act()\n", NotImplementedError),
    # a NameError of a name no skipped block would have bound is a real typo
    ("with skip_if_unwritten():\n    print(never_defined_anywhere)\n", NameError),
    ("with skip_if_unwritten():\n    [].pop()\n", IndexError),
])
def test_skip_if_unwritten_hides_no_other_error(cell, error, capsys):
    with pytest.raises(error):
        _cells("from autograder.checks import skip_if_unwritten\n" + cell)
    assert "skipped" not in capsys.readouterr().out


def test_the_notebook_api_and_its_stand_in_in_the_box_offer_the_same_names():
    from autograder import checks
    from autograder.box import notebook_api

    assert checks.__all__ == notebook_api.__all__
    assert checks.skip_if_unwritten is notebook_api.skip_if_unwritten
