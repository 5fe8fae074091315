"""Nothing that decides a grade is in, or sent into, the box (issue 17, DESIGN.md section 5).

The box receives each case's call as plain data and returns raw outputs; the judge keeps the
expected values, thresholds, labels and comparisons. These tests hold the line statically (what
the box package can import) and for every spec (what crosses).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from autograder.box import calls, wire
from autograder.box.sandbox import box_package
from autograder.judge import all_specs
from autograder.judge.core import outcome_or_raise

BOX = Path(calls.__file__).parent
SPECS = all_specs()


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("path", sorted(BOX.rglob("*.py")), ids=lambda p: p.name)
def test_the_box_imports_nothing_of_the_judge(path):
    judged = {m for m in _imports(path) if m.startswith("autograder.")
              and not m.startswith(("autograder.box", "autograder.paths"))}
    assert not judged, f"{path.name} imports {sorted(judged)}"


def test_the_box_package_holds_the_box_and_the_notebook_api_only():
    root = box_package()
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py"))
    assert "checks.py" in files and "__init__.py" in files
    assert all(f.startswith("box/") or f in ("checks.py", "__init__.py") for f in files), files
    assert not (root / "judge").exists() and not (root / "frontends").exists()
    assert "def check(" in (root / "checks.py").read_text()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_case_crosses_as_plain_data_and_says_nothing_of_its_answer(spec):
    for case in spec.cases(grading=True, seed=7):
        if case.drive is not None:  # a learning check: the runs it asks for cross one by one
            runs = []

            def record(run, runs=runs):
                runs.append(run)
                raise calls.Reraised("stop")  # only the first run's shape matters here

            with pytest.raises(calls.Reraised):
                case.drive(record)
            sent = calls.encode_call(runs[0])
        else:
            sent = calls.encode_call(case.box_call())
        text = json.dumps(sent)
        assert json.loads(text) == sent
        again = calls.decode_call(sent)
        assert type(again) is type(case.box_call() if case.drive is None else runs[0])
        expected = case.expected
        if isinstance(expected, np.ndarray) and expected.size > 3 and expected.dtype.kind in "fc":
            assert json.dumps(wire.encode(expected))[6:-2] not in text  # its bytes: not sent


def test_a_driven_run_passes_the_students_error_on():
    with pytest.raises(calls.Reraised, match="ValueError: no"):
        outcome_or_raise(calls.Raised("ValueError: no"))
    assert calls.call_case(lambda fn: outcome_or_raise(calls.Raised("ValueError: no")),
                           None) == calls.Raised("ValueError: no")
