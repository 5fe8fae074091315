"""nbgrader's formgrader on a graded course: ``python -m autograder formgrader DIR``.

nbgrader 0.9 has no ``nbgrader formgrader`` command (``nbgrader formgrader`` prints the list of
subcommands). The formgrader is a Jupyter server extension,
``nbgrader.server_extensions.formgrader``: any Jupyter server that loads it serves the
formgrader's pages under ``/formgrader`` (Manage Assignments, Gradebook, Manual Grading,
Manage Students) and their JSON API under ``/formgrader/api/`` (e.g. ``api/assignments``), and
JupyterLab's Nbgrader > Formgrader menu opens the same pages in a tab. The extension reads
``nbgrader_config.py`` from the server's working directory and needs the course directory
inside the server's root directory. So this starts JupyterLab with the course directory
``DIR/course`` as both (the command nbgrader's docs amount to: ``cd DIR/course && jupyter
lab``), with the formgrader extension enabled whatever the user's Jupyter configuration says
(a student setup may disable nbgrader's extensions), bound to 127.0.0.1 with a token, and
opening ``/formgrader`` directly.

What a student wrote reaches this server's pages only sanitised (the grader writes the course
directory's notebooks through :mod:`autograder.records.sanitise`), and nothing the server offers
runs a submission outside the sandbox, even when asked through its API directly:

* nbgrader's autograde (the Autograde button, ``POST formgrader/api/submission/.../autograde``)
  is refused by the course's ``nbgrader_config.py`` (:class:`autograder.course.directory.
  AutogradeRefused`), which formgrader reads on every API call;
* nbgrader's other server extensions are off (``validate_assignment`` would execute any
  notebook it is pointed at), and so are terminals;
* the server starts no kernel (:class:`NoKernels`) and writes no file (:class:`ReadOnlyContents`:
  no upload, edit, rename or delete through its contents API, so not of ``nbgrader_config.py``
  either). Manual grades go to the gradebook, which formgrader writes itself.

The server loads this module as its extension (:func:`_load_jupyter_server_extension`), which
loads nbgrader's formgrader and then adapts its pages to a course the grader keeps (nbgrader's
own templates, with a few blocks of ours over them: :data:`PAGES`):

* the files come in through ``grade``, not nbgrader's exchange, and the feedback students get is
  ``python -m autograder feedback DIR``'s: Manage Assignments shows no exchange or course-id
  banner (nbgrader shows one whenever its exchange is not set up) and no Release, Collect,
  Generate Feedback or Release Feedback buttons, Manage Submissions no Autograde or feedback
  buttons; every page says what to run instead, and so does nbgrader's feedback API
  (``POST formgrader/api/assignment/.../generate_feedback``, ``release_feedback``), which
  writes nothing here;
* nbgrader's lists show the points before the late penalty (its ``score`` is the sum of the
  grades; the penalty the grader stores per submitted notebook, ``late_submission_penalty``, is
  never subtracted there): every page says so, and an assignment's Manage Submissions page
  lists its late submissions with the penalty and the score the feedback shows;
* LaTeX is typeset by MathJax, which nbgrader's manual-grading page loads from a CDN: no copy
  ships with the Python packages (JupyterLab's is compiled into its own bundle), so offline
  the page says why the formulas show as source and links the notebook in JupyterLab, which
  typesets them.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.course.directory import graded_course, jupyter_environment, kernel_env
from autograder.records.late import Lateness, LatePolicy

#: the server extension that serves the formgrader: this module, which loads nbgrader's.
EXTENSION = __name__
#: nbgrader's formgrader extension, loaded by ours (never on its own: its handlers would win).
NBGRADER_EXTENSION = "nbgrader.server_extensions.formgrader"
#: nbgrader's server extensions, off here (validate_assignment executes notebooks).
OFF_EXTENSIONS = (NBGRADER_EXTENSION, "nbgrader.server_extensions.validate_assignment",
                  "nbgrader.server_extensions.assignment_list",
                  "nbgrader.server_extensions.course_list")
REFUSED = "the formgrader's server {} (python -m autograder formgrader)"


@functools.cache
def _no_kernels() -> type:
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado.web import HTTPError

    class NoKernels(AsyncMappingKernelManager):
        """``ServerApp.kernel_manager_class``: no kernel starts (403), whoever asks."""

        async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
            raise HTTPError(403, REFUSED.format("starts no kernel"))

    return NoKernels


@functools.cache
def _read_only_contents() -> type:
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from tornado.web import HTTPError

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise HTTPError(403, REFUSED.format("writes no file"))

    class ReadOnlyContents(AsyncLargeFileManager):
        """``ServerApp.contents_manager_class``: files can be read, never written."""

        async def save(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def delete_file(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def rename_file(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def create_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def restore_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def delete_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

    return ReadOnlyContents


def __getattr__(name: str) -> type:
    # built on first use: the other commands do not import jupyter_server
    if name == "NoKernels":
        return _no_kernels()
    if name == "ReadOnlyContents":
        return _read_only_contents()
    raise AttributeError(name)


# ----------------------------------------------------------------------------- the pages

#: said on every formgrader page (nbgrader's ``base.tpl``, which they all extend).
NOTE = """\
<div class="alert alert-info" id="autograder-note">
This course is graded by <code>python -m autograder grade</code>: give the written answers
their points under <a href="{{ base_url }}/formgrader/gradebook">Manual Grading</a>, then run
<code>python -m autograder feedback DIR</code> (the feedback pages, grades.csv, the exports).
<b>Scores on these pages are before the late penalty</b>: nbgrader's lists never subtract it;
the feedback, grades.csv and the exports do, and an assignment's submissions page lists its
late submissions.
</div>
"""


def _hide_columns(*numbers: int) -> str:
    """A style that hides the main table's columns ``numbers`` (1-based), header and rows.

    nbgrader's scripts build every row of its table (``<tbody id="main-table">``) with all its
    cells; hidden, the table keeps its shape.
    """
    cells = ", ".join(f"{where}:nth-child({n})" for n in numbers
                      for where in ("thead th", "#main-table td"))
    return f"<style>{cells} {{ display: none; }}</style>"


#: our templates over nbgrader's (which stay reachable as ``nbgrader/<name>``).
PAGES = {
    "base.tpl": """\
{%- extends "nbgrader/base.tpl" -%}
{%- block body -%}""" + NOTE + """{{ super() }}{%- endblock -%}""",
    # no exchange or course-id banner, no instructions about releasing and collecting;
    # Release, Collect, Generate Feedback and Release Feedback hidden
    "manage_assignments.tpl": """\
{%- extends "nbgrader/manage_assignments.tpl" -%}
{%- block messages -%}""" + _hide_columns(7, 8, 10, 11) + """
<p>The submissions come in through <code>python -m autograder grade</code>, not nbgrader's
exchange, so Release and Collect are not offered here, and the feedback students get is
<code>python -m autograder feedback DIR</code>'s.</p>
{%- endblock -%}""",
    # no Autograde (refused anyway), Generate Feedback or Release Feedback; the late ones
    "manage_submissions.tpl": """\
{%- extends "nbgrader/manage_submissions.tpl" -%}
{%- block messages -%}""" + _hide_columns(6, 7, 8) + """
{%- if late %}
<table class="table table-condensed" id="late-submissions">
<caption>Late submissions: nbgrader's score below is before the late penalty; the feedback,
grades.csv and the exports show the score after it (once <code>python -m autograder feedback
DIR</code> has run since the last hand grade)</caption>
<tr><td><b>student</b></td><td><b>score</b></td><td><b>late penalty</b></td>
<td><b>after the penalty</b></td><td><b>why</b></td></tr>
{%- for row in late %}
<tr><td>{{ row.student | e }}</td>
<td>{{ "%g / %g" | format(row.score, row.max_score) }}</td>
<td>&minus;{{ "%g" | format(row.penalty) }}</td>
<td>{{ "%g / %g" | format(row.score - row.penalty, row.max_score) }}</td>
<td>{{ row.lateness.describe() | e }}</td></tr>
{%- endfor %}
</table>
{%- else %}
<p id="late-submissions">No submission of this assignment lost points to the late penalty.</p>
{%- endif %}
{%- endblock -%}""",
}

#: the manual-grading page (nbconvert's, template ``formgrade``), for when MathJax is missing.
#: nbgrader's page loads MathJax from its CDN, and its own script (``formgrade.js``, run on the
#: window's load event) calls ``MathJax.Hub`` unguarded: offline it stops there and the page's
#: score inputs stay empty. So on ``readystatechange`` to complete, which comes just before
#: the load event, a page without MathJax gets the two calls nbgrader makes (the typesetting's
#: "End" signal comes at once) and a note that says why the formulas show as LaTeX source.
SUBMISSION_PAGE = "autograder_formgrade.html.j2"
SUBMISSION_TEMPLATE = """\
{%- extends "index.html.j2" -%}
{%- block header -%}
{{ super() }}
<script>
document.addEventListener("readystatechange", function () {
  if (document.readyState !== "complete" || window.MathJax) { return; }
  window.MathJax = {Hub: {Queue: function () {}, Startup: {signal: {Interest: function (f) {
    setTimeout(function () { f("End"); }, 0);
  }}}}};
  var note = document.createElement("div");
  note.id = "mathjax-missing";
  note.className = "alert alert-warning";
  var lab = "{{ resources.base_url }}/lab/tree/{{ resources.notebook_path | urlencode }}";
  note.innerHTML = "Formulas show as LaTeX source: MathJax, which typesets them, loads from "
    + "cdnjs.cloudflare.com and this browser cannot reach it (no copy ships with the Python "
    + "packages). JupyterLab has its own: open <a target='_blank' href='" + lab + "'>this "
    + "notebook in JupyterLab</a> to read them typeset (it starts no kernel: close the "
    + "message that says so).";
  document.body.insertBefore(note, document.body.firstChild);
});
</script>
{%- endblock header -%}
"""


@dataclass(frozen=True)
class LateRow:
    """A late submission as Manage Submissions lists it."""

    student: str
    score: float
    """the points earned before the penalty (what nbgrader's lists show)."""
    max_score: float
    lateness: Lateness
    """how late, and the share of the points earned the penalty takes."""

    @property
    def penalty(self) -> float:
        """The points the penalty takes: its share of the points earned, hand grades included."""
        return self.lateness.fraction * self.score


def late_rows(gradebook: Any, assignment: str, out_dir: Path) -> list[LateRow]:
    """The submissions of ``assignment`` the late penalty takes points from, by student.

    The lateness is the feedback's (:meth:`LatePolicy.lateness` on the gradebook's times, under
    ``out_dir``'s kept policy), applied to the points the gradebook holds now, so a hand grade
    given since the last ``feedback`` run counts. An assignment the gradebook does not hold has
    no rows (nbgrader's page says it is unknown).
    """
    from nbgrader.api import MissingEntry

    try:
        submissions = gradebook.assignment_submissions(assignment)
    except MissingEntry:
        return []
    policy = LatePolicy.for_output(out_dir)
    rows = [LateRow(sub.student.id, float(sub.score or 0.0), float(sub.max_score or 0.0),
                    policy.lateness(assignment, sub.timestamp, sub.duedate,
                                    sub.total_seconds_late))
            for sub in sorted(submissions, key=lambda sub: sub.student.id)]
    return [row for row in rows if row.penalty]


@functools.cache
def _manage_submissions() -> type:
    from nbgrader.server_extensions.formgrader.handlers import ManageSubmissionsHandler

    class ManageSubmissions(ManageSubmissionsHandler):
        """nbgrader's Manage Submissions, whose page gets the assignment's late rows too."""

        def render(self, name: str, **ns: Any) -> str:
            out_dir = Path(self.coursedir.root).parent  # the course is OUT/course
            return super().render(
                name, late=late_rows(self.gradebook, ns["assignment_id"], out_dir), **ns)

    return ManageSubmissions


#: the answer of nbgrader's Generate / Release Feedback API here.
FEEDBACK_ELSEWHERE = ("the feedback students get is written by `python -m autograder feedback "
                      "DIR` (DIR/feedback/, with the failure reports, hand grades and late "
                      "penalty), not by nbgrader's feedback or its exchange")
#: nbgrader's feedback API (``formgrader/api/assignment/<assignment>[/<student>]/...``).
FEEDBACK_API = ("formgrader/api/assignment/([^/]+)/(generate|release)_feedback",
                "formgrader/api/assignment/([^/]+)/([^/]+)/(generate|release)_feedback")


@functools.cache
def _feedback_elsewhere() -> type:
    from nbgrader.server_extensions.formgrader.base import BaseApiHandler, check_xsrf
    from tornado import web

    class FeedbackElsewhere(BaseApiHandler):
        """nbgrader's Generate / Release Feedback: answered with what to run instead."""

        @web.authenticated
        @check_xsrf
        def post(self, *args: str) -> None:
            self.write({"success": False, "error": FEEDBACK_ELSEWHERE})

    return FeedbackElsewhere


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Load nbgrader's formgrader with our pages over its own (see the module docstring).

    Our handlers go in first: tornado tries the handlers in the order they were added.
    """
    from jinja2 import ChoiceLoader, DictLoader, Environment, PrefixLoader
    from jupyter_server.utils import url_path_join
    from nbgrader.server_extensions.formgrader.formgrader import load_jupyter_server_extension

    webapp = serverapp.web_app
    ours = [("formgrader/manage_submissions/([^/]+)/?", _manage_submissions()),
            *((pattern, _feedback_elsewhere()) for pattern in FEEDBACK_API)]
    webapp.add_handlers(".*$", [(url_path_join(webapp.settings["base_url"], pattern), handler)
                                for pattern, handler in ours])
    load_jupyter_server_extension(serverapp)
    theirs = webapp.settings["nbgrader_jinja2_env"].loader
    webapp.settings["nbgrader_jinja2_env"] = Environment(loader=ChoiceLoader(
        [DictLoader(PAGES), PrefixLoader({"nbgrader": theirs}), theirs]))
    exporter = webapp.settings["nbgrader_exporter"]
    exporter.extra_loaders = [DictLoader({SUBMISSION_PAGE: SUBMISSION_TEMPLATE})]
    exporter.template_file = SUBMISSION_PAGE


# ----------------------------------------------------------------------------- the server

DEFAULT_IP, DEFAULT_PORT = "127.0.0.1", 8888


def command(root: Path, *, ip: str = DEFAULT_IP, port: int = DEFAULT_PORT, token: str,
            open_browser: bool = False) -> list[str]:
    """The JupyterLab command line that serves the formgrader of the course at ``root``.

    As root (a grading VM) the server needs ``allow_root``; it is bound to ``ip`` only.
    """
    root_ok = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    return [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not a silent other port
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
        "--ServerApp.default_url=/formgrader",
        f"--ServerApp.jpserver_extensions={EXTENSION}=True",
        *(f"--ServerApp.jpserver_extensions={name}=False" for name in OFF_EXTENSIONS),
        "--ServerApp.terminals_enabled=False",
        f"--ServerApp.kernel_manager_class={__name__}.NoKernels",
        f"--ServerApp.contents_manager_class={__name__}.ReadOnlyContents",
        *root_ok,
    ]


def url(ip: str, port: int, token: str, path: str = "formgrader") -> str:
    """The address of a page of the server, with its token."""
    return f"http://{ip}:{port}/{path}?token={token}"


def run(out_dir: Path, *, ip: str = DEFAULT_IP, port: int = DEFAULT_PORT,
        token: str | None = None, open_browser: bool = False) -> None:
    """Replace this process with the formgrader's JupyterLab (stop it with Ctrl-C).

    Raises:
        FileNotFoundError: no graded course in ``out_dir``.

    """
    root = graded_course(out_dir)
    token = token or secrets.token_hex(24)
    print(f"formgrader:  {url(ip, port, token)}\n"
          f"JupyterLab:  {url(ip, port, token, 'lab')} (Nbgrader > Formgrader)\n"
          f"course:      {root}\nstop with Ctrl-C", flush=True)
    argv = command(root, ip=ip, port=port, token=token, open_browser=open_browser)
    # the server runs alembic by name, and imports rlkit/autograder for the kernels it starts
    with jupyter_environment(root / "share" / "jupyter", **kernel_env()):
        os.chdir(root)  # the formgrader reads nbgrader_config.py from here
        os.execve(sys.executable, argv, dict(os.environ))
