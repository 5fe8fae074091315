"""The bundled sample class: six students whose scores are known in advance.

Generated from the student release, the instructor sources and the check specs' bug banks
(``python -m autograder sample-class``) into
``autograder/frontends/sample_class/<student>/<assignment>/ <notebook>.ipynb``:

========  ================================================================================
alice     every function is the reference solution; written answers are the model answers
bob       every other graded function is a known bug from its spec's bank (renamed to the
          student's function), the rest is correct
carol     the unmodified release (``raise NotImplementedError()`` everywhere)
dave      correct, except the last graded function raises, plus a top-level cell that raises
erin      correct, except one function of the first assignment loops forever
frank     a corrupt (non-JSON) file for the first assignment, a correct one for the others
========  ================================================================================

:func:`expected_scores` derives every student's autograded total from the spec points and
the plan, counting a broken function against every check of a function that calls it.
"""

from __future__ import annotations

import ast
import copy
import dis
import inspect
import re
import shutil
import textwrap
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbformat import NotebookNode

from autograder.course.build import BEGIN_SOLUTION, END_SOLUTION, GradedCell, write_notebook
from autograder.course.directory import CODE_STUB
from autograder.course.release import Assignment, load_assignments, release_notebooks
from autograder.paths import SAMPLE_CLASS_DIR, SOLUTIONS_DIR

if TYPE_CHECKING:
    from autograder.judge import CheckSpec

STUDENTS = ("alice", "bob", "carol", "dave", "erin", "frank")
#: what frank submits instead of a notebook.
CORRUPT_TEXT = '{"cells": [ this is not JSON, the upload was cut short\n'
#: the stub line nbgrader leaves in a student function (the last line of ``CODE_STUB``).
_STUB_RAISE = CODE_STUB.splitlines()[-1]


@dataclass(frozen=True)
class Change:
    """How one student's function differs from the reference solution."""

    kind: str
    """``"bug"`` (a known wrong implementation), ``"raise"`` or ``"loop"``."""
    source: str
    """the cell's new source."""
    bug: str = ""
    """for a ``"bug"``: the bank bug's name."""


@dataclass(frozen=True)
class StudentPlan:
    """What one student submits for one assignment."""

    student: str
    assignment: str
    kind: str
    """``"solved"`` (reference plus ``changes``), ``"release"`` or ``"corrupt"``."""
    changes: Mapping[str, Change] = field(default_factory=dict)
    """student function name -> its replacement."""
    raising_cell: bool = False
    """a top-level cell that raises is added after the first solution cell."""


# ----------------------------------------------------------------------------- the plan


def graded_functions(assignment: Assignment) -> list[str]:
    """Return the student functions some check cell grades, in notebook order."""
    from autograder.judge import get_spec

    checked = {f for c in assignment.cells for name in c.specs for f in get_spec(name).functions}
    return [c.function for c in assignment.cells
            if c.kind == "solution" and c.function in checked]


def _specs_of(function: str) -> list[CheckSpec]:
    from autograder.judge import all_specs

    return [spec for spec in all_specs() if spec.function == function]  # its own checks


def _global_names(code: types.CodeType) -> set[str]:
    """The global names ``code`` and the functions nested in it read."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _needs(fn: types.FunctionType, helpers: dict[str, str], imports: dict[str, str]) -> None:
    """Collect what ``fn`` reads from its module: imports, and the helpers' sources (first)."""
    for name in sorted(_global_names(fn.__code__)):
        value = fn.__globals__.get(name)
        if value is None or name in helpers or name in imports:
            continue
        if isinstance(value, types.ModuleType):
            imports[name] = (f"import {value.__name__}" if value.__name__ == name else
                             f"import {value.__name__} as {name}")
        elif isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            helpers[name] = ""  # placeholder: a helper that reads itself is not read twice
            _needs(value, helpers, imports)
            helpers[name] = textwrap.dedent(inspect.getsource(value)).rstrip() + "\n"
        elif getattr(value, "__module__", None) and getattr(value, "__qualname__", "") == name:
            imports[name] = f"from {value.__module__} import {name}"


def bug_source(bug_fn: Callable[..., Any], function: str) -> str | None:
    """Return a bug-bank function's source renamed to ``function`` (None: not a plain def).

    The source stands on its own in a student's cell: the modules and names it reads from its
    spec module are imported, and the module's helpers it calls (e.g. a2c's ``_deltas``) are
    written out before it, so that the cell runs as the bug and not as a ``NameError``.
    """
    try:
        source = textwrap.dedent(inspect.getsource(bug_fn))
    except (OSError, TypeError):
        return None
    renamed, count = re.subn(r"\Adef\s+\w+", f"def {function}", source)
    if not count:
        return None
    helpers: dict[str, str] = {}
    imports: dict[str, str] = {}
    if isinstance(bug_fn, types.FunctionType):
        _needs(bug_fn, helpers, imports)
    parts = ["\n".join(sorted(imports.values())) + "\n"] if imports else []
    return "\n\n".join([*parts, *helpers.values(), renamed.rstrip() + "\n"])


def _bug_change(function: str) -> Change | None:
    """Return the first usable bug of ``function``'s specs as bob's version of it."""
    for spec in _specs_of(function):
        for bug in spec.bugs:
            source = bug_source(bug.fn, function)
            if source:
                header = f"# a known bug from the bank of {spec.name}: {bug.name}\n"
                return Change("bug", header + source, bug.name)
    return None


def _stub_change(release_cell: NotebookNode, kind: str) -> Change:
    body = {"raise": 'raise RuntimeError("dave: I will finish this later")',
            "loop": "while True:  # erin: an infinite loop\n    pass"}[kind]
    lines = []
    for line in release_cell.source.splitlines():
        if line.strip() == _STUB_RAISE:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + part for part in body.splitlines()]
        else:
            lines.append(line)
    return Change(kind, "\n".join(lines))


def _release_cell(release: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in release.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def plan_class(
    assignments: Sequence[Assignment], releases: Mapping[str, NotebookNode]
) -> list[StudentPlan]:
    """Every student's plan for every assignment (deterministic)."""
    plans = []
    for position, assignment in enumerate(assignments):
        functions = graded_functions(assignment)
        release = releases[assignment.id]
        first = position == 0
        # bugs in functions nobody calls, so that bob keeps the points of the others
        callers = function_callers(assignment)
        leaves = [f for f in functions if not callers[f]]
        bugs = {f: change for f in leaves[::2] if (change := _bug_change(f))}
        last = functions[-1:]
        plans += [
            StudentPlan("alice", assignment.id, "solved"),
            StudentPlan("bob", assignment.id, "solved", bugs),
            StudentPlan("carol", assignment.id, "release"),
            StudentPlan("dave", assignment.id, "solved",
                        {f: _stub_change(_release_cell(release, f), "raise") for f in last},
                        raising_cell=True),
            StudentPlan("erin", assignment.id, "solved",
                        {f: _stub_change(_release_cell(release, f), "loop")
                         for f in (last if first else [])}),
            StudentPlan("frank", assignment.id, "corrupt" if first else "solved"),
        ]
    return plans


# ----------------------------------------------------------------------------- expected scores


def function_callers(assignment: Assignment) -> dict[str, set[str]]:
    """Map each function to the student functions whose reference source mentions it."""
    sources = {c.function: assignment.nb.cells[c.index].source
               for c in assignment.cells if c.kind == "solution" and c.function}
    callers: dict[str, set[str]] = {f: set() for f in sources}
    for caller, source in sources.items():
        names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
        for callee in names & set(sources) - {caller}:
            callers[callee].add(caller)
    return callers


def broken_functions(assignment: Assignment, changed: Sequence[str]) -> set[str]:
    """Return the changed functions and, transitively, every student function that calls one."""
    callers = function_callers(assignment)
    broken, todo = set(), list(changed)
    while todo:
        function = todo.pop()
        if function not in broken:
            broken.add(function)
            todo += callers.get(function, ())
    return broken


def _passes(spec: CheckSpec, broken: set[str], changes: Mapping[str, Change]) -> bool:
    """Whether a check passes when ``broken`` functions are wrong.

    A function check fails when any of its functions is broken. A learning check fails only
    when one of its broken agents (``function:bug``) is among the changes, or a function of its
    agent raises, hangs or calls a broken one: most bank bugs still learn a short run (their
    own checks catch them), and the grading tests confirm that these do.
    """
    involved = broken.intersection(spec.functions)
    if not spec.learning or not involved:
        return not involved
    failing = {bug.name for bug in spec.bugs}
    return all(function in changes and changes[function].kind == "bug"
               and f"{function}:{changes[function].bug}" not in failing
               for function in involved)


def _check_points(cell: GradedCell, broken: set[str], changes: Mapping[str, Change]) -> float:
    """The points of a check cell: each of its checks earns its own points, all or nothing."""
    from autograder.judge import get_spec

    return float(sum(get_spec(s).points for s in cell.specs
                     if _passes(get_spec(s), broken, changes)))


def expected_score(assignment: Assignment, plan: StudentPlan) -> float:
    """Return the autograded points ``plan`` must earn on ``assignment`` (written excluded)."""
    if plan.kind != "solved":
        return 0.0
    broken = broken_functions(assignment, list(plan.changes))
    return sum(_check_points(c, broken, plan.changes) for c in assignment.cells
               if c.kind == "check")


def expected_scores(
    assignments: Sequence[Assignment] | None = None,
    releases: Mapping[str, NotebookNode] | None = None,
) -> dict[tuple[str, str], float]:
    """(student, assignment) -> expected autograded points of the sample class."""
    assignments = load_assignments() if assignments is None else assignments
    releases = release_notebooks(assignments) if releases is None else releases
    by_id = {a.id: a for a in assignments}
    return {(p.student, p.assignment): expected_score(by_id[p.assignment], p)
            for p in plan_class(assignments, releases)}


# ----------------------------------------------------------------------------- notebooks


def strip_delimiters(source: str) -> str:
    """Return a solution cell's source as the reference: the delimiter lines removed."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def solved_notebook(assignment: Assignment, release: NotebookNode) -> NotebookNode:
    """Return the release with every solution (code and written) filled in from the source."""
    nb = copy.deepcopy(release)
    answers = {c.grade_id: strip_delimiters(assignment.nb.cells[c.index].source)
               for c in assignment.cells if c.kind in ("solution", "written")}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def _raising_cell() -> NotebookNode:
    import nbformat

    return nbformat.v4.new_code_cell(
        "# dave's scratch cell: a typo at top level\nprint(total_reward)", id="dave-scratch"
    )


def student_notebook(
    assignment: Assignment, release: NotebookNode, plan: StudentPlan
) -> NotebookNode | str:
    """Return the notebook ``plan`` describes (a string for a corrupt file)."""
    if plan.kind == "corrupt":
        return CORRUPT_TEXT
    if plan.kind == "release":
        return copy.deepcopy(release)
    nb = solved_notebook(assignment, release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in plan.changes:
            cell.source = plan.changes[grade_id].source
    if plan.raising_cell:
        first = next(i for i, c in enumerate(nb.cells)
                     if c.metadata.get("nbgrader", {}).get("solution"))
        nb.cells.insert(first + 1, _raising_cell())
    return nb


def write_sample_class(
    out_dir: Path = SAMPLE_CLASS_DIR,
    solutions_dir: Path = SOLUTIONS_DIR,
    assignments: Sequence[Assignment] | None = None,
    releases: Mapping[str, NotebookNode] | None = None,
) -> list[Path]:
    """(Re)generate the sample class in ``out_dir``; returns the files written.

    ``assignments`` and ``releases`` default to building ``solutions_dir`` and releasing it.
    """
    assignments = load_assignments(solutions_dir) if assignments is None else assignments
    releases = release_notebooks(assignments) if releases is None else releases
    by_id = {a.id: a for a in assignments}
    for student in STUDENTS:  # only our students' folders: never wipe a wrong out_dir
        shutil.rmtree(Path(out_dir) / student, ignore_errors=True)
    written = []
    for plan in plan_class(assignments, releases):
        assignment = by_id[plan.assignment]
        path = Path(out_dir) / plan.student / assignment.id / f"{assignment.notebook}.ipynb"
        content = student_notebook(assignment, releases[assignment.id], plan)
        if isinstance(content, str):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        else:
            write_notebook(content, path)
        written.append(path)
    return written
