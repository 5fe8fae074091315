"""The similarity report through the real CLI, on a generated class with known copies.

The class (``tests/attacks/copies.py``): eight honest students with genuinely different correct
implementations of three graded functions, one disguised copy of two honest students' work, one
student pasting rlkit's own code, and students the report must skip (a syntax error, a function
too long, the bare release, a symbolic link). The report runs twice, in two processes, to show
that the scores do not depend on Python's per-process hash salt.
"""

from __future__ import annotations

import ast
import csv
import html
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
from attacks.copies import COPIES, FUNCTIONS, HONEST, HOSTILE, VARIANTS, write_class
from conftest import run_cli

from autograder.grading import similarity
from autograder.judge import get_spec, run_check
from autograder.paths import NOTEBOOKS_DIR

ASSIGNMENTS = ("01_mdps", "02_bellman")


@dataclass(frozen=True)
class Run:
    out: Path
    stdout: str
    stderr: str
    returncode: int

    def rows(self, spec: str, kind: str) -> list[dict[str, str]]:
        with (self.out / "similarity.csv").open(encoding="utf-8") as f:
            return [r for r in csv.DictReader(f) if r["function"] == spec and r["kind"] == kind]

    @property
    def html(self) -> str:
        return (self.out / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Run, Run]:
    root = tmp_path_factory.mktemp("copies")
    write_class(root / "subs", similarity.releases_from(NOTEBOOKS_DIR, ASSIGNMENTS))
    out = []
    for n in (1, 2):
        proc = run_cli("similarity", str(root / "subs"), "--out", str(root / f"out{n}"),
                       "--assignments", ",".join(ASSIGNMENTS), "--top", "5")
        out.append(Run(root / f"out{n}", proc.stdout, proc.stderr, proc.returncode))
    return out[0], out[1]


@pytest.fixture(scope="module")
def report(runs) -> Run:
    assert runs[0].returncode == 0, runs[0].stderr[-3000:]
    return runs[0]


@pytest.mark.parametrize(("function", "index"),
                         [(f, i) for f, v in VARIANTS.items() for i in range(len(v))])
def test_every_honest_variant_is_correct(function, index):
    namespace = {"np": np}
    exec(VARIANTS[function][index], namespace)  # noqa: S102 - our own test code
    spec = get_spec(FUNCTIONS[function][0])
    assert run_check(spec, namespace[function], grading=True).passed


@pytest.mark.parametrize("function", sorted(COPIES))
def test_the_disguised_copy_ranks_first_and_honest_pairs_below(report, function):
    victim, copy = COPIES[function]
    original = VARIANTS[function][HONEST.index(victim)]
    names = [{n.id for n in ast.walk(ast.parse(s)) if isinstance(n, ast.Name)}
             for s in (original, copy)]
    assert names[0] != names[1]  # renamed
    assert not set(original.splitlines()[2:]) & set(copy.splitlines()[2:])  # no line kept
    rows = report.rows(FUNCTIONS[function][0], "pair")
    first, rest = rows[0], rows[1:]
    assert {first["student_a"], first["student_b"]} == {"copier", victim}
    assert float(first["similarity"]) >= 0.95
    honest = [r for r in rest if {r["student_a"], r["student_b"]} <= set(HONEST)]
    assert len(honest) == len(HONEST) * (len(HONEST) - 1) // 2
    assert max(float(r["similarity"]) for r in rest) < 0.5


@pytest.mark.parametrize("function", ["q_from_v", "trajectory_probability"])
def test_the_rlkit_copier_tops_the_similarity_to_the_reference(report, function):
    rows = report.rows(FUNCTIONS[function][0], "reference")
    assert rows[0]["student_a"] == "rk" and float(rows[0]["similarity"]) >= 0.95
    assert rows[0]["student_b"].startswith("rlkit.")
    assert {r["student_a"] for r in rows[1:]} >= set(HONEST)
    assert max(float(r["similarity"]) for r in rows[1:]) < 0.5


def test_stubs_links_and_unreadable_code_are_skipped_with_notes(report):
    compared = set()
    for spec, _ in FUNCTIONS.values():
        for kind in ("pair", "reference"):
            for r in report.rows(spec, kind):
                compared |= {r["student_a"], r["student_b"]}
    assert {"broken", "stubbed", "linked"}.isdisjoint(compared)
    assert set(HONEST) | {"copier", "rk"} <= compared
    page = report.html
    assert "broken/01_mdps: cell 4: syntax error" in page
    assert "discounted_return: 52,833 characters, not compared" in page
    assert "linked/02_bellman: not graded: linked/02_bellman/02_bellman.ipynb is a symbolic " \
           "link" in page


def test_student_code_is_escaped_in_the_html(report):
    page = report.html
    assert HOSTILE not in page and "<script" not in page
    assert html.escape(HOSTILE) in page  # shown, as text: the copy is on top


def test_the_cli_prints_the_top_pairs_and_the_files(report):
    assert "copier ~ h5" in report.stdout and "rk ~ rlkit.dp.q_from_v" in report.stdout
    assert f"csv: {report.out / 'similarity.csv'}" in report.stdout


def test_the_report_does_not_depend_on_the_process(runs):
    first, second = ((r.out / "similarity.csv").read_text() for r in runs)
    assert first == second


# ----------------------------------------------------------------------------- units


def test_the_last_top_level_def_wins_and_magics_are_read():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\ndef f(x):\n    return 1"),
        nbformat.v4.new_code_cell("def g():\n    def f(x):\n        return 2\n"),
        nbformat.v4.new_code_cell("def f(y):\n    # the one Python runs\n    return 3"),
        nbformat.v4.new_code_cell("def f(:"),
    ])
    found, notes = similarity.function_defs(nb, {"f"})
    assert found["f"][0] == "def f(y):\n    # the one Python runs\n    return 3"
    assert notes == ["cell 4: syntax error (line 1), not read"]


def test_normalising_drops_docstrings_comments_and_formatting():
    a = 'def f(x):\n    """Doc."""\n    # why\n    return (x +\n            1)  # one\n'
    b = "def f(x):\n    return x + 1\n"
    assert similarity.normalise(ast.parse(a).body[0]) == similarity.normalise(
        ast.parse(b).body[0]) == "def f(x):\n    return x + 1"


@pytest.mark.parametrize(("source", "stub"), [
    ('def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()', True),
    ("def f(x):\n    raise NotImplementedError", True),
    ("def f(x):\n    pass", True),
    ("def f(x):\n    raise ValueError()", False),
    ("def f(x):\n    y = 1\n    raise NotImplementedError()", False),
])
def test_release_stubs_are_recognised(source, stub):
    assert similarity.is_stub(ast.parse(source).body[0]) is stub


@pytest.mark.parametrize(("spec", "expected"), [
    ("bellman.q_from_v", ["rlkit.dp.q_from_v"]),
    ("dqn.td_target", ["rlkit.agents.dqn.td_target"]),  # a thin wrapper in the checks
    ("dqn.sample_batch", ["rlkit.agents.dqn.sample_batch", "rlkit.buffers.ReplayBuffer.sample"]),
    ("mdps.expected_rewards", ["rlkit.mdp.TabularMDP.expected_rewards"]),  # a cached property
    ("reinforce.reward_to_go", ["rlkit.agents.reinforce.reward_to_go",
                                "rlkit.sampling.discounted_returns"]),
])
def test_the_reference_is_rlkit_s_own_function(spec, expected):
    found = similarity.reference_functions(get_spec(spec))
    assert [name for name, _ in found] == expected  # what the grader withholds
    assert all(callable(fn) for _, fn in found)


def test_a_withhold_name_that_names_nothing_is_an_error():
    from types import SimpleNamespace

    with pytest.raises(LookupError):
        similarity.reference_functions(SimpleNamespace(withhold=("rlkit.dp.nope",)))


def test_a_failing_report_never_stops_grading(tmp_path):
    from autograder.course.directory import Course, GradingSettings
    from autograder.grading.batch import similarity_section

    lines = []
    gradebook = f"sqlite:///{tmp_path / 'no such directory' / 'gradebook.db'}"
    similarity_section(Course(tmp_path / "course", gradebook, GradingSettings()),
                       tmp_path / "similarity", lines.append)
    assert len(lines) == 1 and lines[0].startswith("warning: no similarity report")
    assert "the grades are unaffected" in lines[0]
