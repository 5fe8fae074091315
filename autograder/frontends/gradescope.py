"""Grading on Gradescope's fleet: an autograder zip built from the same check specs.

``python -m autograder gradescope 01_mdps`` writes ``01_mdps-gradescope.zip``, which holds

* ``setup.sh``: run once by Gradescope when it builds the image (Ubuntu, root): installs
  Python 3.11, bubblewrap and the course package (``rlkit`` + ``autograder``, CPU torch) into
  ``/autograder/venv``;
* ``run_autograder``: run for every submission; calls ``python -m autograder gradescope-run``,
  which grades ``/autograder/submission/*.ipynb`` exactly like ``grade`` does (restore against
  the release, run in a sandboxed process, judge in the grader's process) and writes
  ``/autograder/results/results.json``: one test per check cell, with the spec's points, the
  chosen visibility, and the failure report as output (case, expected vs got, hint; never the
  hidden tests). Written answers are left to Gradescope's manual grading;
* the course code (``pyproject.toml``, ``rlkit/``, ``autograder/`` without the sample class),
  ``release/<assignment>.ipynb`` (the student version the submission is restored against) and
  ``gradescope.json`` (assignment, time limit, seed, visibility). No ``solutions/``: the zip
  never holds a model answer.

The seed decides the hidden cases, so the zip carries the instructor's own (``--seed N``, the
one ``grade --seed`` uses for the same grades locally): the checks' built-in seed is in this
repository for anyone to read, and a zip built with it is refused unless asked for
(``--public-seed``, for a try-out), see :func:`zip_seed`.

The box is built as for local grading (:mod:`autograder.box.sandbox`), whatever way the image
holds the course: setup.sh's ``pip install`` leaves a full copy of rlkit in the venv's
site-packages, but the box shows no site-packages entry of the kit itself, only the ``rlkit``
directory the grader imports (``/autograder/source/rlkit``, ``run_autograder`` runs there) with
the notebook's redacted build over it, and of the other installed packages only the kit's
run-time closure (:mod:`autograder.box.packages`): a delegating submission scores what it
scores locally, and a package the image holds beyond the closure is not importable.
``tests/test_autograder_gradescope.py`` runs setup.sh's install step and run_autograder.

A notebook in the upload that is a symbolic link is not read: the submission scores 0 and the
results say why (:func:`autograder.grading.submissions.read_nofollow`); folders that are links are
not searched.

Gradescope runs each submission in a container of its own; if bubblewrap cannot build its box
inside that container (Docker usually forbids it), the runner still runs in its own process as
``nobody`` and is judged from outside, and the results say so; without the box, the installed
copy of rlkit and other packages stay readable (as with ``--unsandboxed``).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from autograder.course.build import notebook_text
from autograder.judge.core import DEFAULT_GRADING_SEED, grading_seed
from autograder.paths import PACKAGE_DIR, REPO_ROOT, SOLUTIONS_DIR

CONFIG = "gradescope.json"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! apt-get install -y python3.11 python3.11-venv; then
  apt-get install -y software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y python3.11 python3.11-venv
fi
apt-get install -y bubblewrap || true   # the sandbox; without it the runner is unsandboxed
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu \\
  /autograder/source
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes /autograder/results/results.json.
cd /autograder/source
exec /autograder/venv/bin/python -m autograder gradescope-run --root /autograder
"""


def _add_tree(archive: zipfile.ZipFile, root: Path, arc_root: str,
              skip: tuple[str, ...] = ()) -> None:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc"
                or any(rel.parts[:len(Path(s).parts)] == Path(s).parts for s in skip)):
            continue
        archive.write(path, f"{arc_root}/{rel.as_posix()}")


def _script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    archive.writestr(info, text)


def zip_seed(seed: int | None, *, public_seed: bool = False) -> int:
    """The grading seed a zip carries: ``seed``, else the grader's (``RLKIT_GRADING_SEED``).

    Args:
        seed: the instructor's seed of the hidden cases; None: the grader's default.
        public_seed: accept the checks' built-in seed, which anyone can read in this
            repository (a try-out zip whose hidden cases are not hidden).

    Raises:
        ValueError: the seed would be the built-in one and ``public_seed`` is not set (says
            what to pass instead).

    Examples:
        >>> zip_seed(8231)
        8231
        >>> zip_seed(DEFAULT_GRADING_SEED, public_seed=True) == DEFAULT_GRADING_SEED
        True

    """
    chosen = grading_seed() if seed is None else seed
    if chosen == DEFAULT_GRADING_SEED and not public_seed:
        raise ValueError(
            f"the zip would carry the checks' built-in grading seed {DEFAULT_GRADING_SEED}, "
            "which is public (anyone with this repository can compute the hidden cases from "
            "it): pass your own private seed with --seed N (the same as `grade --seed N` gives "
            "the same grades locally), or --public-seed to build a try-out zip with it anyway")
    return chosen


def build_zip(assignment: str, out: Path, *, solutions_dir: Path = SOLUTIONS_DIR,
              timeout: int = 60, visibility: str = "visible", seed: int | None = None,
              public_seed: bool = False) -> Path:
    """Write the Gradescope autograder zip of ``assignment`` to ``out``.

    ``seed`` and ``public_seed`` are :func:`zip_seed`'s; a refused seed raises ValueError
    before anything is built or written.
    """
    from autograder.course.release import load_assignments, release_notebooks

    seed = zip_seed(seed, public_seed=public_seed)
    chosen = load_assignments(solutions_dir, [assignment])
    release = release_notebooks(chosen)[assignment]
    config = {"assignment": assignment, "timeout": timeout, "visibility": visibility,
              "seed": seed}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _script(archive, "setup.sh", SETUP_SH)
        _script(archive, "run_autograder", RUN_AUTOGRADER)
        archive.writestr(CONFIG, json.dumps(config, indent=1) + "\n")
        archive.writestr(f"release/{assignment}.ipynb", notebook_text(release))
        archive.write(REPO_ROOT / "pyproject.toml", "pyproject.toml")
        if (REPO_ROOT / "README.md").is_file():
            archive.write(REPO_ROOT / "README.md", "README.md")
        _add_tree(archive, REPO_ROOT / "rlkit", "rlkit")
        _add_tree(archive, PACKAGE_DIR, "autograder", skip=("frontends/sample_class",))
    return out


def _find_notebook(submission: Path, assignment: str) -> tuple[str, ...] | None:
    """The path below ``submission`` of the notebook to grade (a link included: it is refused).

    ``<assignment>.ipynb`` if there is one, else the first ``*.ipynb`` found (folders that are
    symbolic links are not searched).
    """
    named = f"{assignment}.ipynb"
    if os.path.lexists(submission / named):
        return (named,)
    found = []
    for folder, dirs, files in os.walk(submission):  # never descends into a linked folder
        dirs.sort()
        rel = Path(folder).relative_to(submission).parts
        found += [(*rel, name) for name in sorted(files) if name.endswith(".ipynb")]
    return min(found) if found else None


def run_autograder(root: Path) -> Path:
    """Grade ``root/submission`` and write ``root/results/results.json`` (Gradescope layout)."""
    import nbformat

    from autograder.box.sandbox import Sandbox, SandboxUnavailable, can_drop_privileges
    from autograder.course.directory import GradingSettings
    from autograder.grading.batch import make_sandbox
    from autograder.grading.notebook import Job, grade_notebook, missing_result
    from autograder.grading.submissions import read_nofollow

    root = Path(root)
    source = root / "source"
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    assignment = config["assignment"]
    release = nbformat.read(source / "release" / f"{assignment}.ipynb", as_version=4)
    settings = GradingSettings(timeout=int(config["timeout"]))
    notes = []
    try:
        # one submission per container: a fork server would only add its start-up, and it
        # pre-imports rlkit from where the grader's machine has it, not from the container's
        # site-packages install, so every submission here starts in a fresh process
        sandbox = make_sandbox(settings, unsandboxed=False).fresh_process()
    except SandboxUnavailable as exc:
        drop = can_drop_privileges()
        sandbox = Sandbox(None, settings.limits, isolate=False, drop_privileges=drop)
        why = str(exc).splitlines()[1].strip(" -")
        notes.append(f"No sandbox in this container ({why}): the notebook ran in its own "
                     f"process{' as nobody' if drop else ''}, judged from outside.")
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        target = Path(tmp) / "student" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        job = Job("student", assignment, assignment, Path(tmp), release, settings,
                  int(config["seed"]), sandbox)
        found = _find_notebook(root / "submission", assignment)
        refused = None
        if found is not None:
            try:  # the upload's links are not followed (see autograder.grading.submissions)
                target.write_bytes(read_nofollow(
                    root / "submission", found,
                    max_bytes=int(settings.max_notebook_mb * 2**20)))
            except FileNotFoundError:
                pass
            except ValueError as exc:  # a link, not a regular file, too large
                refused = str(exc)
        result = grade_notebook(job) if refused is None else missing_result(job, refused)
    results = results_json(result, config.get("visibility", "visible"), notes)
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return path


def results_json(result: Any, visibility: str, notes: list[str] | None = None) -> dict:
    """Gradescope's ``results.json`` for one graded notebook (checks only)."""
    tests = []
    for cell in result.cells:
        if cell.kind != "check":
            continue
        output = "passed" if cell.status == "ok" else "\n\n".join(cell.reports or (cell.reason,))
        tests.append({"name": cell.grade_id, "score": cell.score or 0.0,
                      "max_score": cell.max_score, "visibility": visibility,
                      "status": "passed" if cell.status == "ok" else "failed",
                      "output": output})
    lines = list(notes or [])
    if result.status:
        lines.append(f"This submission could not be graded: {result.reason}.")
    if result.ended:
        lines.append(f"The notebook's process was stopped early: {result.ended}.")
    lines += [f"Error in your cell {e}" for e in result.cell_errors]
    written = [c for c in result.cells if c.kind == "written"]
    if written:
        lines.append("Written answers (" + ", ".join(c.grade_id for c in written)
                     + ") are graded by hand.")
    return {"score": sum(t["score"] for t in tests), "tests": tests,
            "output": "\n".join(lines), "visibility": visibility,
            "stdout_visibility": "hidden"}
