"""Build nbgrader *source* notebooks from the instructor's jupytext sources.

An instructor source ``solutions/NN_topic.py`` is a jupytext ``py:percent`` file. Three cell
tags carry the grading conventions (everything else is a plain cell):

``# %% tags=["solution"]``
    A code cell that defines exactly one student function (its ``grade_id`` is the function's
    name), or plain solution code without a ``def`` (its ``grade_id`` is ``solution_<index>``).
    The answer sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; nbgrader replaces it
    with ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` in the student release.
``# %% tags=["check"]``
    A test cell made of ``check("<spec name>")`` lines (the first line may be a one-line
    docstring). It becomes a locked nbgrader grade cell ``check_<spec name with _ for .>`` worth
    the spec's points: the spec is the single source of truth for points.
``# %% [markdown] tags=["written"] grade_id="written_..." points=3``
    A manually graded written answer; the model answer and the rubric sit between the solution
    delimiters and the student release shows ``YOUR ANSWER HERE`` instead.

The build is pure and deterministic: same source, same bytes. It never uses a jupytext contents
manager, so an answer can never travel back into a student copy.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbformat import NotebookNode

#: nbgrader's solution delimiters, as they must appear on their own line in a solution cell.
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
#: the substrings nbgrader's ClearSolutions reacts to, wherever they appear in a line.
_DELIMITER_WORDS = ("BEGIN SOLUTION", "END SOLUTION")

SOLUTION_TAG, CHECK_TAG, WRITTEN_TAG = "solution", "check", "written"
MARKER_TAGS = (SOLUTION_TAG, CHECK_TAG, WRITTEN_TAG)

#: nbgrader's metadata schema version written into every graded cell.
SCHEMA_VERSION = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}



def language_info() -> dict[str, Any]:
    """The notebook's ``language_info``: exactly what this Python's ipykernel reports.

    JupyterLab writes the kernel's ``language_info`` into the notebook when the kernel starts,
    and a notebook whose metadata it changes opens as modified. With the kernel's own (this
    interpreter's version included) it opens clean in the course's environment; a student on
    another Python micro version still sees it modified once (JupyterLab records the version).
    """
    from ipykernel.ipkernel import IPythonKernel

    return copy.deepcopy(dict(IPythonKernel.language_info))


#: cell metadata only jupytext uses (layout of the text file), dropped from the notebook.
_JUPYTEXT_CELL_KEYS = frozenset(
    {"lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "region_name", "title",
     "comment_questions", "incorrectly_encoded_metadata"}
)
#: cell metadata that our conventions consume (they become nbgrader metadata).
_CONVENTION_KEYS = frozenset({"grade_id", "points"})
_GRADE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BuildError(ValueError):
    """A source violates the cell conventions; the message names the file and the cell."""


@dataclass(frozen=True)
class GradedCell:
    """One nbgrader cell of a built notebook, as the rest of the pipeline needs to know it."""

    grade_id: str
    kind: str
    """``"solution"``, ``"check"`` or ``"written"``."""
    index: int
    """the cell's position in the notebook."""
    points: float | None = None
    """max points of a check or written cell; None for a solution cell."""
    specs: tuple[str, ...] = ()
    """the check specs a check cell runs."""
    function: str | None = None
    """the student function a solution cell defines."""


SpecLookup = Callable[[str], Any]
"""Returns the ``CheckSpec`` of a name or raises ``KeyError``."""


def default_spec_lookup(name: str) -> Any:
    """Look a spec up in the registry of ``autograder.judge``."""
    from autograder.judge import get_spec

    return get_spec(name)


# ----------------------------------------------------------------------------- reading


def read_source(path: Path) -> NotebookNode:
    """Read a jupytext ``py:percent`` source into a notebook (no contents manager involved)."""
    text = Path(path).read_text(encoding="utf-8")
    return jupytext.reads(text, fmt="py:percent")


def _where(origin: str, index: int, cell: NotebookNode) -> str:
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"{origin}, cell {index} ({first[:60]!r})"


def _marker(cell: NotebookNode, where: str) -> str | None:
    markers = [t for t in cell.metadata.get("tags", []) if t in MARKER_TAGS]
    if len(markers) > 1:
        raise BuildError(f"{where}: a cell has one role, got tags {markers}")
    return markers[0] if markers else None


# ----------------------------------------------------------------------------- validation


def check_delimiters(source: str, where: str) -> None:
    """Require at least one well-formed ``### BEGIN/END SOLUTION`` region, none nested."""
    inside = False
    regions = 0
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if inside:
                raise BuildError(f"{where}: nested {BEGIN_SOLUTION}")
            inside, regions = True, regions + 1
        elif stripped == END_SOLUTION:
            if not inside:
                raise BuildError(f"{where}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif any(word in line for word in _DELIMITER_WORDS):
            raise BuildError(f"{where}: a solution delimiter must be alone on its line: {line!r}")
    if inside:
        raise BuildError(f"{where}: {BEGIN_SOLUTION} without {END_SOLUTION}")
    if regions == 0:
        raise BuildError(
            f"{where}: a solution cell needs its answer between {BEGIN_SOLUTION} and "
            f"{END_SOLUTION}"
        )


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise BuildError(f"{where}: syntax error on line {exc.lineno}: {exc.msg}") from None


def defined_functions(source: str, where: str = "<cell>") -> list[str]:
    """Return the names of the functions a code cell defines at top level."""
    tree = _parse(source, where)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def check_names(source: str, where: str = "<cell>") -> list[str]:
    """Return the spec names of a check cell's ``check("...")`` lines (nothing else allowed)."""
    body = _parse(source, where).body
    if body and _is_docstring(body[0]):
        body = body[1:]
    names = [_check_call_name(stmt, where) for stmt in body]
    if not names:
        raise BuildError(f"{where}: a check cell needs at least one check(\"...\") line")
    return names


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _check_call_name(stmt: ast.stmt, where: str) -> str:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "check"
        and 1 <= len(call.args) <= 2
        and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ):
        return call.args[0].value
    raise BuildError(
        f"{where}: a check cell holds only check(\"<spec name>\") lines, got "
        f"{ast.unparse(stmt)!r}"
    )


def _points(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise BuildError(f"{where}: points must be a positive number, got {value!r}")
    return value


def _grade_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _GRADE_ID.match(value):
        raise BuildError(
            f"{where}: grade_id must be 1-64 letters, digits, '_' or '-', got {value!r}"
        )
    return value


def check_grade_id(spec_names: Iterable[str]) -> str:
    """Return the grade id of a check cell: ``check_`` + the spec names, dots replaced by ``_``."""
    return "check_" + "__".join(name.replace(".", "_") for name in spec_names)


# ----------------------------------------------------------------------------- cells


def _nbgrader_meta(
    grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _plain_metadata(cell: NotebookNode) -> dict[str, Any]:
    """Return the cell's metadata without jupytext layout keys, convention keys and marker tags."""
    meta = {
        k: v for k, v in cell.metadata.items()
        if k not in _JUPYTEXT_CELL_KEYS and k not in _CONVENTION_KEYS and k != "tags"
    }
    tags = [t for t in cell.metadata.get("tags", []) if t not in MARKER_TAGS]
    if tags:
        meta["tags"] = tags
    return meta


def _no_convention_keys(cell: NotebookNode, where: str, role: str) -> None:
    stray = sorted(k for k in _CONVENTION_KEYS if k in cell.metadata)
    if stray:
        raise BuildError(
            f"{where}: {role} cells take no {stray} (a check's points come from its spec)"
        )


class _Builder:
    """Turns the cells of one source into nbgrader cells, validating as it goes."""

    def __init__(self, origin: str, spec_lookup: SpecLookup) -> None:
        self.origin = origin
        self.spec_lookup = spec_lookup
        self.functions: set[str] = set()
        self.grade_ids: dict[str, int] = {}

    def cell(self, index: int, cell: NotebookNode) -> NotebookNode:
        where = _where(self.origin, index, cell)
        role = _marker(cell, where)
        meta = _plain_metadata(cell)
        if role is None:
            _no_convention_keys(cell, where, "plain")
            self._no_stray_delimiters(cell, where)
            return _new_cell(cell.cell_type, cell.source, f"cell-{index:03d}", meta)
        if role == SOLUTION_TAG:
            nbgrader = self._solution(index, cell, where)
        elif role == CHECK_TAG:
            nbgrader = self._check(cell, where)
        else:
            nbgrader = self._written(cell, where)
        self._claim(nbgrader["grade_id"], index, where)
        meta["nbgrader"] = nbgrader
        return _new_cell(cell.cell_type, cell.source, nbgrader["grade_id"], meta)

    def _claim(self, grade_id: str, index: int, where: str) -> None:
        if grade_id in self.grade_ids:
            raise BuildError(
                f"{where}: duplicate grade_id {grade_id!r} (cell {self.grade_ids[grade_id]} "
                "has it too)"
            )
        self.grade_ids[grade_id] = index

    @staticmethod
    def _no_stray_delimiters(cell: NotebookNode, where: str) -> None:
        if any(word in cell.source for word in _DELIMITER_WORDS):
            raise BuildError(
                f"{where}: solution delimiters in a cell not tagged \"solution\" or \"written\""
            )

    def _solution(self, index: int, cell: NotebookNode, where: str) -> dict[str, Any]:
        if cell.cell_type != "code":
            raise BuildError(f"{where}: a \"solution\" cell is a code cell (use \"written\")")
        _no_convention_keys(cell, where, "solution")
        check_delimiters(cell.source, where)
        functions = defined_functions(cell.source, where)
        if len(functions) > 1:
            raise BuildError(
                f"{where}: a solution cell defines exactly one student function, got {functions}"
            )
        grade_id = functions[0] if functions else f"solution_{index:03d}"
        self.functions.update(functions)
        return _nbgrader_meta(_grade_id(grade_id, where), grade=False, solution=True,
                              locked=False)

    def _check(self, cell: NotebookNode, where: str) -> dict[str, Any]:
        if cell.cell_type != "code":
            raise BuildError(f"{where}: a \"check\" cell is a code cell")
        _no_convention_keys(cell, where, "check")
        self._no_stray_delimiters(cell, where)
        names = check_names(cell.source, where)
        points: float = 0  # an int when every spec's points are
        for name in names:
            try:
                spec = self.spec_lookup(name)
            except KeyError as exc:
                raise BuildError(f"{where}: {exc.args[0]}") from None
            for function in spec.functions:
                if function not in self.functions:
                    raise BuildError(
                        f"{where}: check {name!r} grades `{function}`, but no earlier "
                        "\"solution\" cell defines it"
                    )
            points += spec.points
        return _nbgrader_meta(_grade_id(check_grade_id(names), where), grade=True,
                              solution=False, locked=True, points=points)

    def _written(self, cell: NotebookNode, where: str) -> dict[str, Any]:
        if cell.cell_type != "markdown":
            raise BuildError(f"{where}: a \"written\" cell is a markdown cell")
        for key in sorted(_CONVENTION_KEYS):
            if key not in cell.metadata:
                raise BuildError(f"{where}: a written answer needs {key}=... on its %% line")
        check_delimiters(cell.source, where)
        return _nbgrader_meta(
            _grade_id(cell.metadata["grade_id"], where),
            grade=True, solution=True, locked=False,
            points=_points(cell.metadata["points"], where),
        )


def _new_cell(cell_type: str, source: str, cell_id: str, metadata: dict[str, Any]) -> NotebookNode:
    if cell_type == "code":
        return nbformat.v4.new_code_cell(source, id=cell_id, metadata=metadata)
    if cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(source, id=cell_id, metadata=metadata)
    return nbformat.v4.new_raw_cell(source, id=cell_id, metadata=metadata)


# ----------------------------------------------------------------------------- notebooks


def build_notebook(
    source: NotebookNode, origin: str = "<source>", spec_lookup: SpecLookup | None = None
) -> NotebookNode:
    """Turn a parsed jupytext source into an nbgrader source notebook.

    Args:
        source: the notebook jupytext read from the ``py:percent`` file.
        origin: the file name, for error messages.
        spec_lookup: resolves a check's spec name (default: the ``autograder.judge`` registry).

    Raises:
        BuildError: when a cell breaks the conventions (see the module docstring).

    """
    builder = _Builder(origin, spec_lookup or default_spec_lookup)
    cells = [builder.cell(i, cell) for i, cell in enumerate(source.cells)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.nbformat_minor = 5
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": language_info()}
    _validate(nb, origin)
    return nb


def _validate(nb: NotebookNode, origin: str) -> None:
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    try:
        nbformat.validate(nb)
        MetadataValidator().validate_nb(nb)
    except (ValidationError, nbformat.ValidationError) as exc:  # a bug of ours, not the source's
        raise BuildError(f"{origin}: the built notebook does not validate: {exc}") from exc


def build_source(path: Path, spec_lookup: SpecLookup | None = None) -> NotebookNode:
    """Read and build one instructor source file into an nbgrader source notebook."""
    return build_notebook(read_source(path), origin=Path(path).name, spec_lookup=spec_lookup)


def graded_cells(nb: NotebookNode) -> list[GradedCell]:
    """Return the solution, check and written cells of a built (or released) notebook, in order."""
    cells: list[GradedCell] = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta or not (meta.get("grade") or meta.get("solution")):
            continue
        if cell.cell_type == "markdown":
            cells.append(GradedCell(meta["grade_id"], WRITTEN_TAG, index, meta.get("points")))
        elif meta.get("grade"):
            specs = tuple(check_names(cell.source))
            cells.append(GradedCell(meta["grade_id"], CHECK_TAG, index, meta["points"], specs))
        else:
            functions = defined_functions(cell.source)
            cells.append(GradedCell(meta["grade_id"], SOLUTION_TAG, index,
                                    function=functions[0] if functions else None))
    return cells


def notebook_text(nb: NotebookNode) -> str:
    """Return the notebook as canonical JSON (sorted keys, one-space indent, final newline)."""
    return nbformat.writes(nb, version=4) + "\n"


def write_notebook(nb: NotebookNode, path: Path) -> Path:
    """Write ``nb`` to ``path`` as canonical JSON, so that a rebuild gives identical bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(nb), encoding="utf-8")
    return path
