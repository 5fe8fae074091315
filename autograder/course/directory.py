"""A throw-away nbgrader course directory, driven in-process through ``NbGraderAPI``.

nbgrader generates the assignments (and records them in the gradebook) and keeps the gradebook;
it never executes student code (see :mod:`autograder.grading.batch`). The grader writes each
submission under ``submitted/`` and its restored, annotated copy under ``autograded/``, so that
nbgrader's formgrader (:mod:`autograder.frontends.formgrader`) can show them for manual grading of
the written answers.

The course directory is kept across runs and updated in place, never deleted: a formgrader may
be serving it while the grader regrades one assignment, and a server whose directory vanishes
answers 500. Each run rewrites the configuration and the kernelspec (when they changed),
regenerates only the assignments whose source changed, and replaces the files of the
submissions it grades. The course directory holds:

* ``nbgrader_config.py``: written by :func:`config_text`, the single place where nbgrader is
  configured (solution stubs, cell overwriting, the kernel of the self-check), and where
  nbgrader's own ``autograde`` is refused (:class:`AutogradeRefused`);
* ``share/jupyter/kernels/<KERNEL_NAME>/kernel.json``: a kernelspec that runs *this* Python
  (``sys.executable``) with the repository on ``PYTHONPATH`` so notebooks import ``rlkit`` and
  ``autograder``, and with the grader's seed for the hidden cases;
* nbgrader's usual ``source/``, ``release/``, ``submitted/``, ``autograded/``, ``feedback/``.

An instructor opens the course with ``python -m autograder formgrader DIR`` (JupyterLab in the
course directory, then Nbgrader > Formgrader) to grade the written answers by hand; the
gradebook keeps manual grades across re-runs.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from autograder.box.sandbox import Limits
from autograder.course.build import notebook_text, write_notebook
from autograder.paths import REPO_ROOT

#: the kernelspec every notebook runs with while grading or self-checking.
KERNEL_NAME = "rlkit-autograder"
#: default per-cell timeout in seconds.
DEFAULT_TIMEOUT = 60
#: default time budget of a whole notebook in seconds, start-up included: a correct notebook
#: of this course grades in under 10 s on a quiet machine (``grade``'s log), so a hopeless one
#: (a loop in every cell) is stopped long before its steps' limits add up.
DEFAULT_BUDGET = 180
#: the largest notebook file graded (bigger ones score 0 as "too large"), in MiB.
DEFAULT_MAX_NOTEBOOK_MB = 20
#: stderr output matching this is dropped before grading. nbgrader zeroes a test cell with ANY
#: stderr output, but our check cells report failure by raising, never through stderr; what
#: reaches stderr is noise (numpy/torch warnings, progress bars, logging). So all of it goes.
DEFAULT_STDERR_PATTERN = r"[\s\S]"
#: what nbgrader puts in place of a solution in the student release.
#: jupyter_client's policy for the kernel's sockets; "auto": CurveZMQ keys when supported.
TRANSPORT_ENCRYPTION = "auto"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"


class NbGraderError(RuntimeError):
    """An nbgrader step failed; the message holds nbgrader's log and traceback."""


@dataclass(frozen=True)
class GradingSettings:
    """How notebooks are executed when graded."""

    timeout: int = DEFAULT_TIMEOUT
    """time limit of each step, in seconds: one of the student's cells, or one check (all
    its cases); a step that runs longer is interrupted and scores 0."""
    budget: float = DEFAULT_BUDGET
    """wall-clock limit of a whole notebook, in seconds, start-up included: its process is
    then stopped; checks judged before keep their points, the rest score 0 with the reason."""
    seed: int | None = None
    """the seed of the hidden cases (``RLKIT_GRADING_SEED``); None: the checks' default."""
    stderr_pattern: str = DEFAULT_STDERR_PATTERN
    """stderr output matching this regular expression is ignored (self-check only)."""
    limits: Limits = Limits()
    """what one submission's sandboxed process may use."""
    max_notebook_mb: float = DEFAULT_MAX_NOTEBOOK_MB
    """a bigger submitted file is not read (it scores 0 as too large)."""


# ----------------------------------------------------------------------------- kernel


def _prepend(path: str | Path, current: str | None) -> str:
    return os.pathsep.join([str(path), *filter(None, [current])])


def kernel_env(seed: int | None = None) -> dict[str, str]:
    """Return the environment the grading kernel adds: the repository on the path, and the seed."""
    env = {"PYTHONPATH": _prepend(REPO_ROOT, os.environ.get("PYTHONPATH"))}
    if seed is not None:
        env["RLKIT_GRADING_SEED"] = str(seed)
    return env


def write_kernelspec(data_dir: Path, seed: int | None = None) -> Path:
    """Write the ``KERNEL_NAME`` kernelspec (this interpreter) under ``data_dir/kernels``."""
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (rlkit autograder)",
        "language": "python",
        "env": kernel_env(seed),
        # curve: jupyter_client then encrypts the kernel's sockets (and ipykernel stops warning)
        "metadata": {"debugger": False, "supported_encryption": ["curve"]},
    }
    kernel_dir = Path(data_dir) / "kernels" / KERNEL_NAME
    write_if_changed(kernel_dir / "kernel.json", json.dumps(spec, indent=1))
    return kernel_dir


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; True if it wrote."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


@contextmanager
def patched_environ(changes: dict[str, str | None]) -> Iterator[None]:
    """Set (or with None, unset) environment variables; restore them on exit."""
    saved = {key: os.environ.get(key) for key in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def jupyter_environment(data_dir: Path, **extra: str | None) -> Iterator[None]:
    """Set up the environment nbgrader and the grading kernel need; undone on exit.

    This venv's ``bin`` goes on ``PATH`` (nbgrader runs ``alembic`` by name) and ``data_dir``
    first on ``JUPYTER_PATH`` (so ``KERNEL_NAME`` resolves to our kernelspec).

    ``extra`` sets (or with None, unsets) more variables for the same span.
    """
    changes = {
        "PATH": _prepend(Path(sys.executable).parent, os.environ.get("PATH")),
        "JUPYTER_PATH": _prepend(data_dir, os.environ.get("JUPYTER_PATH")),
        **extra,
    }
    with patched_environ(changes):
        yield


# ----------------------------------------------------------------------------- refusal

#: why nbgrader's autograde is refused in a course directory the grader wrote.
REFUSAL = ("nbgrader's autograde is turned off in this course: it would run the student's "
           "notebook with your rights, outside the sandbox. Grade with `python -m autograder "
           "grade SUBMISSIONS --out DIR` instead.")


class AutogradeRefused(RuntimeError):
    """nbgrader's ``autograde`` was asked for in a course directory the grader wrote."""


@functools.cache
def _refusing_exporter() -> type:
    from nbconvert.exporters import NotebookExporter

    class RefusingExporter(NotebookExporter):
        """``c.Autograde.exporter_class``: raises when built, before autograde touches a file.

        nbgrader's ``Autograde.start`` only lists the submitted notebooks before it builds its
        exporter; everything that writes (deleting ``autograded/``, the gradebook's student
        and submission, the copies, the execution) comes after.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AutogradeRefused(REFUSAL)

    return RefusingExporter


@functools.cache
def _refusing_preprocessor() -> type:
    from nbconvert.preprocessors import Preprocessor

    class RefuseToExecute(Preprocessor):
        """``c.Autograde.autograde_preprocessors``: no ``Execute`` even past the exporter."""

        def __call__(self, nb: Any, resources: Any) -> Any:  # whether enabled or not
            raise AutogradeRefused(REFUSAL)

    return RefuseToExecute


def __getattr__(name: str) -> type:
    # built on first use, so that importing this module does not import nbconvert
    if name == "RefusingExporter":
        return _refusing_exporter()
    if name == "RefuseToExecute":
        return _refusing_preprocessor()
    raise AttributeError(name)


# ----------------------------------------------------------------------------- config


def config_text(root: Path, db_url: str, settings: GradingSettings) -> str:
    """Return a course's ``nbgrader_config.py``: every nbgrader setting the pipeline relies on."""
    lines = [
        "# Written by autograder.course.directory; rewritten by every grading run, do not edit.",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(root)!r}",
        f"c.CourseDirectory.db_url = {db_url!r}",
        "# no exchange is used; a private one keeps nbgrader from probing /usr/local/share",
        f"c.Exchange.root = {str(root / 'exchange')!r}",
        "# the per-cell timeout: a hanging cell is interrupted, scores 0, the notebook goes on",
        f"c.Execute.timeout = {int(settings.timeout)}",
        "c.Execute.interrupt_on_timeout = True",
        f"c.Execute.kernel_name = {KERNEL_NAME!r}",
        "# encrypt the kernel's sockets (our kernelspec declares curve support)",
        f"c.KernelManager.transport_encryption = {TRANSPORT_ENCRYPTION!r}",
        "# any stderr output zeroes a test cell; warnings and progress bars must not",
        "c.IgnorePattern.enabled = True",
        f"c.IgnorePattern.pattern = {settings.stderr_pattern!r}",
        f"c.ClearSolutions.code_stub = {{'python': {CODE_STUB!r}}}",
        f"c.ClearSolutions.text_stub = {TEXT_STUB!r}",
        "c.ClearSolutions.begin_solution_delimeter = 'BEGIN SOLUTION'",
        "c.ClearSolutions.end_solution_delimeter = 'END SOLUTION'",
        "c.ClearSolutions.enforce_metadata = True",
        "# restore locked and grade cells from the gradebook (tampered or deleted test cells)",
        "c.OverwriteCells.enabled = True",
        "c.OverwriteCells.add_missing_cells = True",
        "c.Autograde.create_student = True",
        "# nbgrader's autograde (formgrader's Autograde button, its API, `nbgrader autograde`)",
        "# would run the submission with your rights outside the sandbox: it is refused before",
        "# it touches a file, and it has nothing that executes anyway",
        f"c.Autograde.exporter_class = '{__name__}.RefusingExporter'",
        f"c.Autograde.autograde_preprocessors = ['{__name__}.RefuseToExecute']",
        "# formgrader's pages clean the HTML of outputs too (the grader sanitises the notebooks)",
        "c.HTMLExporter.sanitize_html = True",
    ]
    return "\n".join(lines) + "\n"


def load_config(config_file: Path) -> Any:
    """Load an ``nbgrader_config.py`` into a traitlets ``Config``."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()


# ----------------------------------------------------------------------------- course


def graded_course(out_dir: Path) -> Path:
    """``out_dir/course``, checked to be the course directory ``grade`` wrote.

    Raises:
        FileNotFoundError: there is no graded course in ``out_dir`` (says what to run first).

    """
    root = Path(out_dir).resolve() / "course"
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"no graded course in {out_dir} (no course/nbgrader_config.py):"
                                f" run `python -m autograder grade SUBMISSIONS --out {out_dir}` "
                                "first")
    return root


def course_db_url(root: Path) -> str:
    """The gradebook URL a course directory's ``nbgrader_config.py`` names."""
    return str(load_config(Path(root) / "nbgrader_config.py").CourseDirectory.db_url)



class Course:
    """An nbgrader course directory with its gradebook, driven through ``NbGraderAPI``."""

    def __init__(self, root: Path, db_url: str, settings: GradingSettings) -> None:
        self.root = Path(root).resolve()
        self.db_url = db_url
        self.settings = settings
        self._api: Any = None
        self.config_changed = True
        """False when :meth:`open` found the configuration as it would write it."""

    @classmethod
    def open(cls, root: Path, db_url: str, settings: GradingSettings | None = None) -> Course:
        """Lay out the course at ``root`` (created if missing), keeping what is there.

        The config and the kernelspec are rewritten for ``db_url`` and ``settings``; nothing
        is deleted (see the module docstring).
        """
        course = cls(root, db_url, settings or GradingSettings())
        course.root.mkdir(parents=True, exist_ok=True)
        course.config_changed = write_if_changed(
            course.config_file, config_text(course.root, db_url, course.settings))
        write_kernelspec(course.data_dir, course.settings.seed)
        return course

    @property
    def config_file(self) -> Path:
        """The course's ``nbgrader_config.py``."""
        return self.root / "nbgrader_config.py"

    @property
    def data_dir(self) -> Path:
        """The Jupyter data directory holding the grading kernelspec."""
        return self.root / "share" / "jupyter"

    def api(self) -> Any:
        """Return the ``NbGraderAPI`` configured by this course's ``nbgrader_config.py``."""
        if self._api is None:
            from nbgrader.apps import NbGraderAPI

            self._api = NbGraderAPI(config=load_config(self.config_file))
        return self._api

    @contextmanager
    def environment(self) -> Iterator[None]:
        """Set up the process environment nbgrader needs (see ``jupyter_environment``)."""
        from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning
        from sqlalchemy.exc import SAWarning

        with jupyter_environment(self.data_dir), warnings.catch_warnings():
            # harmless noise: nbgrader's Gradebook.add_submission builds objects under
            # autoflush (SQLAlchemy warns on every new submission), and the cells nbgrader
            # restores into a submission have no cell id (nbformat warns)
            for category in (SAWarning, MissingIDFieldWarning, DuplicateCellId):
                warnings.simplefilter("ignore", category=category)
            yield

    # -- paths in nbgrader's layout

    def path(self, step: str, student: str | None, assignment: str, notebook: str,
             ext: str = ".ipynb") -> Path:
        """``<root>/<step>/[<student>/]<assignment>/<notebook><ext>``."""
        parts = [step, *([student] if student else []), assignment, notebook + ext]
        return self.root.joinpath(*parts)

    # -- steps

    def add_source(self, assignment: str, notebook: str, nb: NotebookNode) -> Path:
        """Put a built source notebook where ``generate_assignment`` reads it."""
        return write_notebook(nb, self.path("source", None, assignment, notebook))

    def generate_assignment(self, assignment: str) -> Path:
        """Run ``generate_assignment`` (records the assignment in the gradebook too)."""
        self._run("generate_assignment", assignment)
        return self.root / "release" / assignment

    def is_generated(self, assignment: str, notebook: str, nb: NotebookNode) -> bool:
        """True when ``nb`` is already this course's source, released and in the gradebook.

        Then ``generate_assignment`` has nothing to do (and would only delete and rewrite
        ``release/<assignment>`` under a running formgrader). A changed configuration (e.g.
        the solution stubs) makes every assignment count as not generated.
        """
        from nbgrader.api import Gradebook, MissingEntry

        source = self.path("source", None, assignment, notebook)
        released = self.path("release", None, assignment, notebook)
        if self.config_changed or not (
                source.is_file() and released.is_file()
                and source.read_text(encoding="utf-8") == notebook_text(nb)):
            return False
        with self.environment(), Gradebook(self.db_url) as gb:
            try:
                gb.find_notebook(notebook, assignment)
            except MissingEntry:
                return False
        return True

    def _run(self, step: str, *args: str) -> None:
        with self.environment():
            result = getattr(self.api(), step)(*args)
        if not result.get("success"):
            detail = "\n".join(filter(None, [result.get("log"), result.get("error")]))
            raise NbGraderError(f"nbgrader {step} {' '.join(args)} failed:\n{detail}")
