r"""Copies across the class: per graded function, whose code is most alike, and who copied rlkit.

``python -m autograder similarity SUBMISSIONS`` (and every ``grade`` run, into
``OUT/similarity/``) reads each student's notebooks with the grader's own loader (the same size
cap; symbolic links are not followed), and for every graded function (the single-function check
specs the notebook's check cells name; a learning check of several functions is skipped, its
functions are checked one by one):

1. takes the student's source of that function: the last top-level ``def`` of that name in the
   notebook's code cells, as Python would run them (IPython magics are translated; a cell that
   is still not Python, e.g. with a syntax error, is skipped with a note);
2. normalises it: docstrings dropped, and ``ast.unparse`` drops comments and formatting;
   copydetect's filter then maps every name to one letter (``V``, ``F`` for the function's),
   keeps keywords, operators, literals and builtins, and drops whitespace;
3. fingerprints it (every ``K``-character window of that filtered text, hashed) and drops the
   fingerprints of the release stub (its signature is everyone's);
4. scores every pair of students: the share of each one's fingerprints found in the other's,
   averaged (1.0: the same code once normalised), and each student against rlkit's own
   implementation of the function (:func:`reference_functions`).

A function left as the release stub (``raise NotImplementedError``, or identical to the stub)
is not compared: every such student would match every other.

Why copydetect (MIT; 0.5.0, 2024; numpy, pygments, jinja2, tqdm, matplotlib, all already here),
and how it is used. Its :class:`~copydetect.CodeFingerprint` tokenises and filters code held in
memory (``fp=StringIO``) with pygments and hashes its k-grams: that part is used as it is. Three
things are not: (a) its k-gram hashes are Python's ``hash()``, salted per process, so a
winnowing window > 1 would pick different fingerprints in each run; the window is 1 (every
k-gram kept), so the fingerprint *sets* and all scores are reproducible; (b) its boilerplate
removal (``np.intersect1d(..., assume_unique=True)`` on hashes that repeat) can drop
fingerprints that are not boilerplate, so the stub's fingerprints are subtracted here;
(c) :func:`~copydetect.compare_files` costs 0.13-0.36 ms a pair here, 14-41 s for the 112,140
pairs of a class of 100 on notebooks 01-04 (``benchmarks/bench_similarity.py``; the whole report
takes about 9 s of CPU), and the number of pairs grows with the square of the class, so the
scores are computed for all pairs at once, one sparse product per function, and
``compare_files`` only gives the highlighted slices of the pairs the HTML shows.

What similarity does NOT prove: that anybody copied. Short functions have few ways to be
written (``np.argmax(q, axis=1)``), students follow the same lecture, hints and docstrings, and
look things up in the same places. A high score is a reason to read the two versions side by
side and talk to the students, never a verdict; it never changes a grade.
"""

from __future__ import annotations

import ast
import csv
import html
import inspect
import io
import textwrap
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from nbformat import NotebookNode

from autograder.course.build import CHECK_TAG, graded_cells
from autograder.grading.submissions import find_students, load_submission

#: characters of copydetect's filtered code per fingerprint (its noise threshold): a match
#: shorter than this is not seen. 20 is a line such as ``V=V.V(V.V,0.0,V)`` plus a bit.
K = 20
#: a cell longer than this is not parsed (honest cells are a few kB), noted.
MAX_CELL_CHARS = 200_000
#: a function longer than this is not compared (honest ones are under 3 kB), noted.
MAX_FUNCTION_CHARS = 20_000
#: the pairs and the students closest to the reference shown in the HTML, per function.
DEFAULT_TOP = 10

CSV_FIELDS = ("function", "kind", "rank", "student_a", "student_b", "similarity",
              "share_a", "share_b")
"""``kind`` is ``pair`` (two students) or ``reference`` (``student_b`` is rlkit's function);
``share_a`` is the share of ``student_a``'s fingerprints found in ``student_b``'s."""


# ----------------------------------------------------------------------------- the functions


@dataclass(frozen=True)
class Target:
    """One graded function of one assignment, and what its students are compared with."""

    spec: str
    """the check spec's name, e.g. ``bellman.q_from_v``."""
    function: str
    assignment: str
    stub: str | None
    """the release's version, normalised (None when the release has no def of it)."""
    references: tuple[tuple[str, str], ...]
    """(dotted name, normalised source) of rlkit's own implementation(s)."""


def reference_functions(spec: Any) -> list[tuple[str, Callable]]:
    """Rlkit's own implementation(s) of a spec's function, with their dotted names.

    Its ``withhold`` names, or its reference when that is rlkit's
    (:func:`autograder.judge.withhold.reference_names`; the second implementations the grader
    also withholds are not what a copier pastes).

    Raises:
        LookupError: a ``withhold`` name names nothing.

    """
    from autograder.judge.withhold import function_of, reference_names

    return [(name, function_of(name)) for name in reference_names(spec)]


# ----------------------------------------------------------------------------- normalising


class _DropDocstrings(ast.NodeTransformer):
    def _visit_body(self, node: Any) -> Any:
        self.generic_visit(node)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_body


def normalise(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The function without docstrings, comments and formatting (``ast.unparse``)."""
    return ast.unparse(ast.fix_missing_locations(_DropDocstrings().visit(node)))


def _is_stub_statement(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # a docstring or ``...``
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the body only passes, holds a docstring or raises ``NotImplementedError``."""
    return all(_is_stub_statement(s) for s in node.body)


def _parse_cell(source: str) -> tuple[str, ast.Module]:
    """The cell as Python and its AST; IPython's magics are translated when plain Python fails.

    Raises:
        SyntaxError: not Python, even with the magics translated.
        ValueError, RecursionError, MemoryError: the cell cannot be parsed (null bytes, too
            deeply nested, ...).

    """
    try:
        return source, ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        try:
            python = TransformerManager().transform_cell(source)
        except Exception:  # noqa: BLE001 - hostile input: report the plain syntax error
            python = source
        return python, ast.parse(python)


def function_defs(nb: NotebookNode, names: Iterable[str]
                  ) -> tuple[dict[str, tuple[str, ast.FunctionDef]], list[str]]:
    """The last top-level ``def`` of each of ``names`` in the code cells, and notes.

    Only the cells with a ``def`` in them are parsed (no other cell can define a function).

    Returns:
        name -> (its source as written, its AST), and one note per such cell that was skipped.

    """
    wanted, found, notes = set(names), {}, []
    for number, cell in enumerate(nb.cells, 1):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type != "code" or "def" not in source:
            continue
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"cell {number}: {len(source):,} characters, not read")
            continue
        try:
            python, tree = _parse_cell(source)
        except SyntaxError as exc:
            notes.append(f"cell {number}: syntax error (line {exc.lineno}), not read")
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            notes.append(f"cell {number}: not parsed ({type(exc).__name__}: {exc})"[:200])
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted:
                found[node.name] = (ast.get_source_segment(python, node) or "", node)
    return found, notes


# ----------------------------------------------------------------------------- fingerprints


@dataclass
class Version:
    """One student's (or the reference's) version of one function."""

    owner: str
    source: str
    """as written (what the HTML shows under 'as written')."""
    code: str
    """normalised: what is fingerprinted and shown side by side."""
    fingerprint: Any = field(repr=False)
    """copydetect's :class:`~copydetect.CodeFingerprint` of ``code``."""
    hashes: frozenset = frozenset()
    """the fingerprints compared: those of the stub removed."""


def fingerprint(owner: str, source: str, code: str, boilerplate: frozenset = frozenset(),
                cache: dict[str, Any] | None = None) -> Version:
    """Fingerprint normalised ``code`` with copydetect (window 1: see the module docstring).

    ``cache`` (normalised code -> fingerprint) saves fingerprinting the same code twice.
    """
    from copydetect import CodeFingerprint

    fp = None if cache is None else cache.get(code)
    if fp is None:
        fp = CodeFingerprint("code.py", K, 1, fp=io.StringIO(code), language="python")
        if cache is not None:
            cache[code] = fp
    return Version(owner, source, code, fp, frozenset(fp.hashes) - boilerplate)


def _stub_hashes(stub: str | None) -> frozenset:
    return frozenset() if stub is None else fingerprint("stub", stub, stub).hashes


@dataclass(frozen=True)
class Match:
    """How alike two versions of one function are."""

    spec: str
    a: str
    b: str
    """a student, or (for a reference match) rlkit's function's dotted name."""
    similarity: float
    """the mean of ``share_a`` and ``share_b``: 1.0 when the normalised code is the same."""
    share_a: float
    """the share of ``a``'s fingerprints found in ``b``'s."""
    share_b: float
    size: int = 0
    """the smaller version's number of fingerprints (a longer common code says more)."""


def _sort_key(m: Match) -> tuple:
    return (-m.similarity, -m.size, m.a, m.b)


def match_all(spec: str, versions: Sequence[Version], others: Sequence[Version] | None = None
              ) -> list[Match]:
    """Score every pair of ``versions`` (or each of them against each of ``others``).

    One sparse product over the fingerprint sets: ``|A & B|`` for all pairs at once.
    """
    from scipy import sparse

    both = list(versions) + list(others or ())
    column: dict[int, int] = {}
    rows, cols = [], []
    for row, version in enumerate(both):
        for h in version.hashes:
            rows.append(row)
            cols.append(column.setdefault(h, len(column)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                               shape=(len(both), max(len(column), 1)))
    common = (matrix @ matrix.T).toarray()
    sizes = np.maximum(np.diag(common), 1)
    n = len(versions)
    i, j = (np.triu_indices(n, 1) if others is None else
            (np.repeat(np.arange(n), len(both) - n), np.tile(np.arange(n, len(both)), n)))
    share_a = np.round(common[i, j] / sizes[i], 4)
    share_b = np.round(common[i, j] / sizes[j], 4)
    mean = np.round((share_a + share_b) / 2, 4)
    size = np.minimum(sizes[i], sizes[j])
    out = [Match(spec, both[a].owner, both[b].owner, *values)
           for a, b, *values in zip(i.tolist(), j.tolist(), mean.tolist(), share_a.tolist(),
                                    share_b.tolist(), size.tolist(), strict=True)]
    return sorted(out, key=_sort_key)


# ----------------------------------------------------------------------------- the report


@dataclass
class Report:
    """The similarity of every graded function across a class."""

    targets: list[Target]
    versions: dict[str, dict[str, Version]]
    """spec -> student -> version (compared ones only)."""
    references: dict[str, list[Version]]
    pairs: dict[str, list[Match]]
    """spec -> every pair of students, most alike first."""
    closest: dict[str, list[Match]]
    """spec -> each student's best match with a reference, most alike first."""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def top_pairs(self, n: int = 3) -> list[Match]:
        """The ``n`` most alike pairs over all functions (those sharing anything)."""
        return _top(self.pairs, n)

    def top_reference(self, n: int = 3) -> list[Match]:
        """The ``n`` students closest to rlkit's own code, over all functions."""
        return _top(self.closest, n)

    def summary(self, n: int = 3) -> str:
        """One line: the most alike pairs and the closest to rlkit."""
        def show(m: Match) -> str:
            return f"{m.spec} {m.a}~{m.b} {m.similarity:.0%}"

        pairs = ", ".join(map(show, self.top_pairs(n))) or "none"
        refs = ", ".join(map(show, self.top_reference(n))) or "none"
        compared = sum(len(v) for v in self.versions.values())
        return (f"{compared} function versions compared in {self.seconds:.1f} s; most alike: "
                f"{pairs}; closest to rlkit: {refs}")


def _top(matches: Mapping[str, list[Match]], n: int) -> list[Match]:
    found = sorted((m for ms in matches.values() for m in ms[:n]), key=_sort_key)
    return [m for m in found[:n] if m.similarity > 0]


def graded_targets(releases: Mapping[str, NotebookNode]) -> tuple[list[Target], list[str]]:
    """The single-function check specs each release's check cells name, and notes."""
    from autograder.judge import get_spec

    targets, notes, seen = [], [], set()
    for assignment, release in releases.items():
        specs = [get_spec(name) for cell in graded_cells(release) if cell.kind == CHECK_TAG
                 for name in cell.specs]
        singles = [s for s in specs if len(s.functions) == 1]
        stubs, _ = function_defs(release, {s.function for s in singles})
        for spec in singles:
            if (assignment, spec.function) in seen:
                continue
            seen.add((assignment, spec.function))
            stub = stubs.get(spec.function)
            references = []
            try:
                for name, fn in reference_functions(spec):
                    node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
                    references.append((name, normalise(node)))
            except (LookupError, OSError, TypeError, SyntaxError, IndexError) as exc:
                notes.append(f"{spec.name}: no reference source ({exc})")
            targets.append(Target(spec.name, spec.function, assignment,
                                  None if stub is None else normalise(stub[1]),
                                  tuple(references)))
    return targets, notes


def _student_version(target: Target, student: str, found: Mapping[str, tuple[str, Any]],
                     boilerplate: frozenset, notes: list[str], cache: dict[str, Any]
                     ) -> Version | None:
    if target.function not in found:
        return None
    source, node = found[target.function]
    where = f"{student}/{target.assignment}: {target.function}"
    if len(source) > MAX_FUNCTION_CHARS:
        notes.append(f"{where}: {len(source):,} characters, not compared")
        return None
    if is_stub(node):
        return None
    try:
        code = normalise(node)
    except (RecursionError, ValueError, MemoryError) as exc:
        notes.append(f"{where}: not normalised ({type(exc).__name__}), not compared")
        return None
    if code == target.stub:
        return None
    version = fingerprint(student, source, code, boilerplate, cache)
    if not version.hashes:
        notes.append(f"{where}: shorter than one fingerprint ({K} characters once "
                     "normalised), not compared")
        return None
    return version


def analyse(submissions_dir: Path, releases: Mapping[str, NotebookNode], *,
            max_bytes: int | None = None, students: Sequence[str] | None = None) -> Report:
    """Compare every graded function of ``releases`` across the class in ``submissions_dir``.

    Args:
        submissions_dir: ``<student>/<assignment>/<notebook>.ipynb`` (the notebook is named
            like the assignment, as :mod:`autograder.course.release` makes them).
        releases: assignment id -> its student release (check cells and stubs).
        max_bytes: a bigger notebook is not read (the grader's cap).
        students: these students only (default: every student folder).

    """
    start = time.perf_counter()
    targets, notes = graded_targets(releases)
    students = find_students(submissions_dir) if students is None else list(students)
    by_assignment: dict[str, list[Target]] = {}
    for target in targets:
        by_assignment.setdefault(target.assignment, []).append(target)
    versions: dict[str, dict[str, Version]] = {t.spec: {} for t in targets}
    boilerplate = {t.spec: _stub_hashes(t.stub) for t in targets}
    cache: dict[str, Any] = {}
    for assignment, chosen in by_assignment.items():
        for student in students:
            submission = load_submission(submissions_dir, student, assignment, assignment,
                                         max_bytes)
            if submission.nb is None:
                if submission.problem != "no submission":
                    notes.append(f"{student}/{assignment}: {submission.problem}")
                continue
            found, cell_notes = function_defs(submission.nb, {t.function for t in chosen})
            notes += [f"{student}/{assignment}: {n}" for n in cell_notes]
            for target in chosen:
                version = _student_version(target, student, found, boilerplate[target.spec],
                                           notes, cache)
                if version is not None:
                    versions[target.spec][student] = version
    references = {t.spec: [fingerprint(name, code, code, boilerplate[t.spec])
                           for name, code in t.references] for t in targets}
    pairs, closest = {}, {}
    for target in targets:
        mine = list(versions[target.spec].values())
        pairs[target.spec] = match_all(target.spec, mine)
        refs = [r for r in references[target.spec] if r.hashes]
        best: dict[str, Match] = {}
        for m in match_all(target.spec, mine, refs) if refs and mine else []:
            best.setdefault(m.a, m)  # sorted: the first is each student's closest
        closest[target.spec] = sorted(best.values(), key=_sort_key)
    return Report(targets, versions, references, pairs, closest, notes,
                  time.perf_counter() - start)


# ----------------------------------------------------------------------------- writing


def write_csv(report: Report, path: Path) -> Path:
    """One row per function and pair of students, and per student against the reference."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        for target in report.targets:
            for kind, matches in (("pair", report.pairs[target.spec]),
                                  ("reference", report.closest[target.spec])):
                for rank, m in enumerate(matches, 1):
                    writer.writerow((m.spec, kind, rank, m.a, m.b, f"{m.similarity:.4f}",
                                     f"{m.share_a:.4f}", f"{m.share_b:.4f}"))
    return path


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
pre { background: #f6f6f6; padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere;
      font-size: .85rem; margin: .3rem 0; }
mark { background: #ffe08a; }
.note { color: #555; }
"""
_CAVEAT = (
    "Similarity is not proof of copying: short functions have few ways to be written, and "
    "students follow the same lecture, docstrings and hints. Read the two versions and talk to "
    "the students; this report never changes a grade. Code is compared once normalised "
    "(names, comments, docstrings and formatting removed); highlighted: what the two share.")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _highlighted(doc: str, slices: Any) -> str:
    """``doc`` escaped, with the copied ``slices`` (2 x N start/end offsets) marked."""
    out, at = [], 0
    pairs = zip(*slices, strict=True) if len(slices) == 2 else ()  # no overlap: empty arrays
    for start, end in pairs:
        start, end = max(int(start), at), int(end)
        out += [_e(doc[at:start]), "<mark>", _e(doc[start:end]), "</mark>"]
        at = max(at, end)
    return "".join(out) + _e(doc[at:])


def _side_by_side(left: Version, right: Version, title: str, anchor: str) -> str:
    from copydetect import compare_files

    _, _, (slices_l, slices_r) = compare_files(left.fingerprint, right.fingerprint)
    blocks = []
    for version, slices in ((left, slices_l), (right, slices_r)):
        written = ("" if version.source == version.code else
                   f"<details><summary>as written</summary><pre>{_e(version.source)}</pre>"
                   "</details>")
        blocks.append(f"<div><b>{_e(version.owner)}</b>"
                      f"<pre>{_highlighted(version.code, slices)}</pre>{written}</div>")
    return (f'<h4 id="{anchor}">{_e(title)}</h4><div class="side">{"".join(blocks)}</div>')


def _match_table(matches: Sequence[Match], anchors: Sequence[str], head: tuple[str, str]) -> str:
    rows = "".join(
        f'<tr><td>{rank}</td><td>{_e(m.a)}</td><td>{_e(m.b)}</td>'
        f'<td><a href="#{anchor}">{m.similarity:.0%}</a></td>'
        f"<td>{m.share_a:.0%} / {m.share_b:.0%}</td><td>{m.size}</td></tr>"
        for rank, (m, anchor) in enumerate(zip(matches, anchors, strict=True), 1))
    return (f"<table><tr><th>#</th><th>{head[0]}</th><th>{head[1]}</th><th>similarity</th>"
            "<th>shares (a in b / b in a)</th><th>fingerprints</th></tr>"
            f"{rows}</table>")


def _shown(matches: Sequence[Match], top: int) -> list[Match]:
    """The first ``top`` matches that share anything (0 % says nothing worth a look)."""
    return [m for m in matches[:top] if m.similarity > 0]


def _overview(report: Report) -> str:
    """One row per function: how many were compared, the most alike pair, the closest to rlkit."""
    def best(matches: Sequence[Match], anchor: str) -> str:
        if not matches or matches[0].similarity == 0:
            return "<td></td>"
        m = matches[0]
        return f'<td><a href="#{anchor}">{m.similarity:.0%}</a> {_e(m.a)} ~ {_e(m.b)}</td>'

    rows = "".join(
        f'<tr><td><a href="#f{n}">{_e(t.spec)}</a></td><td>{len(report.versions[t.spec])}</td>'
        f"{best(report.pairs[t.spec], f'f{n}-p0')}{best(report.closest[t.spec], f'f{n}-r0')}"
        "</tr>" for n, t in enumerate(report.targets))
    return ("<table><tr><th>function</th><th>compared</th><th>most alike pair</th>"
            f"<th>closest to rlkit</th></tr>{rows}</table>")


def render_html(report: Report, top: int = DEFAULT_TOP) -> str:
    """The report page: per function, the top pairs and the students closest to rlkit."""
    parts = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
             f"<title>Similarity report</title><style>{_STYLE}</style></head><body>",
             "<h1>Similarity report</h1>", f"<p>{_e(_CAVEAT)}</p>",
             f"<p>{_e(report.summary())}</p>", _overview(report)]
    for n, target in enumerate(report.targets):
        versions = report.versions[target.spec]
        refs = {r.owner: r for r in report.references[target.spec]}
        pairs, closest = (_shown(report.pairs[target.spec], top),
                          _shown(report.closest[target.spec], top))
        names = ", ".join(name for name, _ in target.references) or "none"
        parts.append(f'<h2 id="f{n}">{_e(target.spec)} <small>({_e(target.assignment)}: '
                     f"{len(versions)} students compared; reference: {_e(names)})</small></h2>")
        if not versions:
            continue
        pair_ids = [f"f{n}-p{i}" for i in range(len(pairs))]
        ref_ids = [f"f{n}-r{i}" for i in range(len(closest))]
        parts += [f"<h3>Most alike pairs ({len(pairs)} shown of "
                  f"{len(report.pairs[target.spec])})</h3>",
                  _match_table(pairs, pair_ids, ("student a", "student b"))]
        if closest:
            parts += [f"<h3>Closest to rlkit's own code (top {len(closest)})</h3>",
                      _match_table(closest, ref_ids, ("student", "rlkit"))]
        parts += [_side_by_side(versions[m.a], versions[m.b],
                                f"{target.spec}: {m.a} and {m.b}, {m.similarity:.0%}", anchor)
                  for m, anchor in zip(pairs, pair_ids, strict=True)]
        parts += [_side_by_side(versions[m.a], refs[m.b],
                                f"{target.spec}: {m.a} and {m.b}, {m.similarity:.0%}", anchor)
                  for m, anchor in zip(closest, ref_ids, strict=True)]
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(
            f'<li class="note">{_e(note)}</li>' for note in report.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


@dataclass(frozen=True)
class Written:
    """The files a report was written to."""

    html: Path
    csv: Path


def write(report: Report, out_dir: Path, top: int = DEFAULT_TOP) -> Written:
    """Write ``out_dir/index.html`` and ``out_dir/similarity.csv``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "index.html"
    page.write_text(render_html(report, top), encoding="utf-8")
    return Written(page, write_csv(report, out_dir / "similarity.csv"))


def releases_from(release_dir: Path, assignments: Sequence[str] | None = None
                  ) -> dict[str, NotebookNode]:
    """The student release notebooks ``release_dir/<assignment>.ipynb`` (all, or these).

    Raises:
        ValueError: an assignment has no notebook in ``release_dir``.

    """
    import nbformat

    found = {p.stem: p for p in sorted(Path(release_dir).glob("*.ipynb"))}
    wanted = sorted(found) if assignments is None else list(assignments)
    unknown = [a for a in wanted if a not in found]
    if unknown or not wanted:
        raise ValueError(f"no release notebook for {unknown or 'any assignment'} in "
                         f"{release_dir}; known: {sorted(found)}")
    return {a: nbformat.read(found[a], as_version=4) for a in wanted}
