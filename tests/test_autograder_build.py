"""The jupytext -> nbgrader source build: conventions, validation errors, determinism."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import jupytext
import pytest

from autograder.course.build import (
    BuildError,
    build_notebook,
    build_source,
    check_grade_id,
    graded_cells,
    notebook_text,
)
from autograder.paths import SOLUTIONS_DIR, source_files

SPECS = {
    "demo.double": SimpleNamespace(name="demo.double", functions=("double",), points=2),
    "demo.half": SimpleNamespace(name="demo.half", functions=("half",), points=1),
}


def lookup(name: str):
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"no check named {name!r}") from None


HEADER = '''\
# %% [markdown]
# # A demo

# %%
from autograder.judge import check
'''

DOUBLE = '''
# %% tags=["solution"]
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% tags=["check"]
"""Check double."""
check("demo.double")
'''

WRITTEN = '''
# %% [markdown] tags=["written"] grade_id="written_why" points=3
# ### BEGIN SOLUTION
# Because. Rubric: 3 points.
# ### END SOLUTION
'''


def build(text: str):
    return build_notebook(jupytext.reads(textwrap.dedent(text), fmt="py:percent"),
                          origin="demo.py", spec_lookup=lookup)


def test_cells_get_nbgrader_metadata_and_deterministic_ids():
    nb = build(HEADER + DOUBLE + WRITTEN)
    solution, check, written = (c.metadata["nbgrader"] for c in nb.cells[2:5])
    assert solution == {"grade": False, "grade_id": "double", "locked": False,
                        "schema_version": 3, "solution": True}
    assert check == {"grade": True, "grade_id": "check_demo_double", "locked": True,
                     "points": 2, "schema_version": 3, "solution": False}
    assert written["points"] == 3 and written["solution"] and written["grade"]
    assert [c.id for c in nb.cells] == ["cell-000", "cell-001", "double", "check_demo_double",
                                        "written_why"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert "lines_to_next_cell" not in str(nb)


def test_build_is_byte_deterministic():
    assert notebook_text(build(HEADER + DOUBLE)) == notebook_text(build(HEADER + DOUBLE))


def test_graded_cells_describe_the_notebook():
    cells = graded_cells(build(HEADER + DOUBLE + WRITTEN))
    assert [(c.grade_id, c.kind, c.points, c.specs, c.function) for c in cells] == [
        ("double", "solution", None, (), "double"),
        ("check_demo_double", "check", 2, ("demo.double",), None),
        ("written_why", "written", 3, (), None),
    ]


def test_a_check_cell_with_several_checks_sums_their_points():
    half = DOUBLE.replace("double", "half").replace("2 * x", "x / 2")
    nb = build(HEADER + DOUBLE + half + '\n# %% tags=["check"]\ncheck("demo.double")\n'
               'check("demo.half")\n')
    meta = nb.cells[-1].metadata["nbgrader"]
    assert meta["grade_id"] == check_grade_id(["demo.double", "demo.half"])
    assert meta["points"] == 3


def test_plain_solution_code_takes_its_grade_id_from_the_index():
    nb = build(HEADER + '\n# %% tags=["solution"]\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n')
    assert nb.cells[2].metadata["nbgrader"]["grade_id"] == "solution_002"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + DOUBLE.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION\n", ""),
         "needs its answer between"),
        (HEADER + DOUBLE.replace("    ### END SOLUTION\n", ""), "without ### END SOLUTION"),
        (HEADER + DOUBLE + DOUBLE, "duplicate grade_id 'double'"),
        (HEADER + DOUBLE.replace('check("demo.double")', 'check("demo.nope")'),
         "no check named 'demo.nope'"),
        (HEADER + DOUBLE.replace('check("demo.double")', 'check("demo.half")'),
         "no earlier \"solution\" cell defines it"),
        (HEADER + DOUBLE.replace('check("demo.double")', 'assert double(1) == 2'),
         "holds only check"),
        (HEADER + DOUBLE.replace('def double(x):', 'def helper():\n    pass\n\ndef double(x):'),
         "exactly one student function"),
        (HEADER + DOUBLE.replace('tags=["check"]', 'tags=["check"] points=5'),
         "points come from its spec"),
        (HEADER + WRITTEN.replace(" points=3", ""), "needs points="),
        (HEADER + WRITTEN.replace("points=3", "points=0"), "positive number"),
        (HEADER + WRITTEN.replace('"written_why"', '"why not"'), "grade_id must be"),
        (HEADER + "\n# %%\nx = 1  ### BEGIN SOLUTION\n", "not tagged"),
        (HEADER + '\n# %% tags=["solution", "check"]\ncheck("demo.double")\n', "one role"),
        (HEADER + DOUBLE.replace("return 2 * x", "return 2 *"), "syntax error"),
    ],
)
def test_convention_violations_are_clear_errors(text, message):
    with pytest.raises(BuildError, match="demo.py, cell") as info:
        build(text)
    assert message in str(info.value)


def test_unknown_spec_lists_the_known_ones_with_the_real_registry(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(HEADER + DOUBLE.replace("demo.double", "mdps.no_such_check"))
    with pytest.raises(BuildError, match="known checks: .*mdps.discounted_return"):
        build_source(source)


@pytest.mark.parametrize("path", source_files(), ids=lambda p: p.name)
def test_every_instructor_source_builds(path: Path):
    cells = graded_cells(build_source(path))
    checks = [c for c in cells if c.kind == "check"]
    assert checks, f"{path.name} has no check cell"
    assert path.parent == SOLUTIONS_DIR
