"""Issue 17, part 5: a student's script never reaches the instructor, formgrader runs no code.

- the sanitiser (:mod:`autograder.records.sanitise`) on each way HTML runs a script, and on
  ordinary markdown and LaTeX, which must come through as written;
- the feedback pages escape what a student controls;
- a class with the XSS attacker of the attack bank, graded through the real CLI: the course
  directory's notebooks (what formgrader shows) hold no script, an honest written answer is
  unchanged, and nbgrader's autograde refuses to run, in-process through the course's
  ``nbgrader_config.py`` and through a running formgrader's API (the attacker's notebook
  writes a marker file when executed: it never appears);
- the formgrader's server starts no kernel, writes no file and has no terminal.

The browser half (the attacker's answer opened in formgrader's manual-grading page) is in
``tests/test_browser.py``.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from attacks.bank import XSS_SCRIPT, xss_notebook, xss_payloads
from conftest import EDGE_ASSIGNMENT, GradedBatch, grade_batch

from autograder.paths import SAMPLE_CLASS_DIR
from autograder.records.sanitise import (
    clean_html,
    clean_markdown,
    holds_html,
    render_markdown,
    sanitise_notebook,
    sanitise_output,
)

ATTACKER = "x-xss"
NOTEBOOK = f"{EDGE_ASSIGNMENT}.ipynb"


class Active(HTMLParser):
    """What in an HTML page can run a script: script elements with the attacker's code,
    event handler attributes, javascript:/data: URLs outside raster images, active elements."""

    ACTIVE_TAGS = {"iframe", "object", "embed", "form", "svg", "frame", "frameset", "base",
                   "meta", "link", "math"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag in self.ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = "".join(ch for ch in (value or "") if ord(ch) > 0x20).lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value.startswith(("javascript:", "vbscript:")) or (
                    value.startswith("data:") and not (tag == "img" and name == "src"
                                                        and value.startswith("data:image/png"))):
                self.found.append(f"{tag} {name}={value[:30]}")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self._tag == "script" and "__pwned" in data:
            self.found.append("<script> with the attacker's code")

    @classmethod
    def scan(cls, page: str) -> list[str]:
        parser = cls()
        parser.feed(page)
        parser.close()
        return parser.found


# ----------------------------------------------------------------------------- the sanitiser


@pytest.mark.parametrize("payload", xss_payloads(), ids=lambda p: p.split()[0][:12])
def test_every_payload_is_cleaned_in_markdown_html_and_raw(payload):
    for cleaned in (clean_markdown(payload), clean_html(payload),
                    render_markdown(clean_markdown(payload))):
        assert Active.scan(cleaned) == [], cleaned
        assert "__pwned" not in cleaned and "atob" not in cleaned.replace("&#10;", "")


@pytest.mark.parametrize("payload, gone", [
    ("<script>alert(1)</script>text", "<script"),
    ('<img src="x" onerror="alert(1)">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>', "script:"),
    ("[click](javascript:alert(1))", "javascript:"),
    ('<iframe src="https://example.com"></iframe>', "<iframe"),
    ('<form action="/formgrader/api"><input name="a"></form>', "<form"),
    ('<svg onload="alert(1)"><circle r="1"/></svg>', "onload"),
    ("<style>body { display: none }</style>", "<style"),
    ('<object data="x.swf"></object><embed src="x.swf">', "<object"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:text"),
])
def test_the_sanitiser_strips(payload, gone):
    cleaned = clean_markdown(payload)
    assert gone not in cleaned.lower()
    assert gone not in render_markdown(cleaned).lower()


@pytest.mark.parametrize("source", [
    "The backup $T$ is a $\\gamma$-contraction: $\\|TV - TU\\|_\\infty \\le \\gamma "
    "\\|V - U\\|_\\infty$, and $\\alpha < \\beta$ whenever a > b.",
    "**Policy iteration** needed *fewer* iterations:\n\n- VI: 40\n- PI: 4\n\n"
    "> each PI step solves a linear system\n\n$$V^\\pi = (I - \\gamma P^\\pi)^{-1} r^\\pi$$",
    "| method | iterations |\n|---|---|\n| VI | 40 |\n| PI | 4 |\n\n"
    "See [the notes](https://example.com/notes#vi) and `np.argmax(q, axis=1)`.",
    "```python\nif a < b and b > c:\n    pass\n```\n\nx & y, 3 < 4",
    "# Answer\n\n1. contraction\n2. Banach fixed point, so $V_k \\to V^*$",
])
def test_ordinary_markdown_and_latex_survive_as_written(source):
    assert not holds_html(source)
    assert clean_markdown(source) == source


def test_markdown_with_html_keeps_its_text_and_maths():
    source = ("My answer: $\\gamma < 1$ so a > b, and x<y.\n\n"
              "<b>bold</b> <script>window.__pwned = 1</script>")
    cleaned = clean_markdown(source)
    assert "<script" not in cleaned and "__pwned" not in cleaned
    # one HTML block, passed through by the markdown renderer as it is
    assert render_markdown(cleaned).strip() == cleaned
    text = HTMLText.of(cleaned)
    assert "My answer: $\\gamma < 1$ so a > b, and x<y." in text and "bold" in text
    assert clean_markdown(cleaned) == cleaned  # sanitising twice changes nothing


class HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        parser = cls()
        parser.feed(page)
        return "".join(parser.parts)


def test_outputs_keep_text_and_images_and_lose_active_types():
    out = sanitise_output({"output_type": "display_data", "metadata": {
        "image/png": {"width": '1 onerror="alert(1)"', "height": 20}}, "data": {
        "text/plain": "<script>shown as text</script>", "image/png": "iVBORw0K\nGgo=",
        "text/html": "<table><tr><td>1</td></tr></table><script>alert(1)</script>",
        "application/javascript": "alert(1)", "image/svg+xml": "<svg onload='alert(1)'/>",
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
        "text/markdown": "<img src=x onerror=alert(1)> *md*"}})
    assert set(out["data"]) == {"text/plain", "image/png", "text/html", "text/markdown"}
    assert out["data"]["text/plain"] == "<script>shown as text</script>"  # text stays text
    assert out["data"]["image/png"] == "iVBORw0KGgo="
    assert out["data"]["text/html"] == "<table><tbody><tr><td>1</td></tr></tbody></table>"
    assert "onerror" not in out["data"]["text/markdown"]
    assert out["metadata"] == {"image/png": {"height": 20}}
    assert sanitise_output({"output_type": "stream", "name": 'stdout" onclick="x',
                            "text": ["a", "b"]}) == {"output_type": "stream",
                                                     "name": "stdout", "text": "ab"}
    assert sanitise_output({"output_type": "javascript"}) is None
    gone = sanitise_output({"output_type": "display_data", "data": {
        "application/javascript": "alert(1)"}, "metadata": {}})
    assert gone["data"] == {"text/plain": "[output removed by the grader: "
                                          "application/javascript]"}


def test_a_whole_notebook_is_sanitised_and_valid():
    base = nbformat.read(SAMPLE_CLASS_DIR / "bob" / EDGE_ASSIGNMENT / NOTEBOOK, as_version=4)
    attacked = xss_notebook(json.loads(json.dumps(base)))
    clean = sanitise_notebook(attacked)
    nbformat.validate(clean)
    text = json.dumps(clean)
    assert "__pwned" not in text.replace("<script>window.__pwned = 1</script>", "")
    assert "widgets" not in clean.metadata
    assert all(c.metadata.get("tags", []) == [] for c in clean.cells if c.id == "xss-plain")
    # every cell the attacker left alone is as it was (bob's sources, the release's text)
    for before, attacked_cell, after in zip(base.cells, attacked["cells"], clean.cells,
                                            strict=False):
        if attacked_cell["source"] == before.source:
            assert after.source == before.source


def test_feedback_escapes_what_a_student_controls():
    from autograder.records import feedback
    from autograder.records.report import CellGrade, Mark, NotebookResult

    script = "<script>window.__pwned = 1</script>"
    result = NotebookResult(
        ATTACKER, EDGE_ASSIGNMENT, EDGE_ASSIGNMENT,
        [CellGrade("q_from_v", "check", 0.0, 2.0, "failed", f"got {script}", (script,)),
         CellGrade("written_vi_converges", "written", None, 3.0, "manual")],
        notes=[script], cell_errors=[f"NameError: {script}"])
    page = feedback.render(result, {"written_vi_converges": Mark(comment=script)})
    assert "<script" not in page and "&lt;script&gt;" in page


# ----------------------------------------------------------------------------- a graded class


@dataclass(frozen=True)
class XssClass:
    batch: GradedBatch
    marker: Path

    @property
    def course(self) -> Path:
        return self.batch.out / "course"


def grade_xss_class(root: Path) -> XssClass:
    """alice (honest) and the XSS attacker (built on bob), graded through the real CLI."""
    subs, marker = root / "subs", root / "marker-student-code-ran"
    for name in ("alice", ATTACKER):
        (subs / name / EDGE_ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / NOTEBOOK,
                    subs / "alice" / EDGE_ASSIGNMENT / NOTEBOOK)
    bob = nbformat.read(SAMPLE_CLASS_DIR / "bob" / EDGE_ASSIGNMENT / NOTEBOOK, as_version=4)
    (subs / ATTACKER / EDGE_ASSIGNMENT / NOTEBOOK).write_text(
        json.dumps(xss_notebook(json.loads(json.dumps(bob)), str(marker))), encoding="utf-8")
    batch = grade_batch(subs, root / "out", "--assignments", EDGE_ASSIGNMENT, "--workers", "2")
    assert batch.returncode == 0, batch.stderr[-3000:]
    marker.unlink(missing_ok=True)  # unsandboxed (no bubblewrap here), grading ran it
    return XssClass(batch, marker)


@pytest.fixture(scope="module")
def xss_class(tmp_path_factory) -> XssClass:
    return grade_xss_class(tmp_path_factory.mktemp("xss"))


def _scores(out: Path) -> dict[tuple[str, str], tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        return {(sub.student.id, g.name): (g.auto_score, g.manual_score)
                for sub in gb.assignment_submissions(EDGE_ASSIGNMENT)
                for nb in sub.notebooks for g in nb.grades}


def _formgrader_page(course: Path, student: str) -> str:
    """The manual-grading page formgrader renders from the autograded notebook."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader.handlers import template_path

    from autograder.course.directory import load_config

    config = load_config(course / "nbgrader_config.py")
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [template_path]
    resources = {"base_url": "", "mathjax_url": "", "notebook_id": EDGE_ASSIGNMENT,
                 "submission_id": "s", "assignment_id": EDGE_ASSIGNMENT, "index": 0,
                 "total": 1, "student": student, "last_name": "", "first_name": "",
                 "notebook_path": "x"}
    page, _ = HTMLExporter(config=config).from_filename(
        str(course / "autograded" / student / EDGE_ASSIGNMENT / NOTEBOOK), resources=resources)
    return page


@pytest.mark.slow
def test_the_course_notebooks_hold_no_script(xss_class):
    for step in ("submitted", "autograded"):
        path = xss_class.course / step / ATTACKER / EDGE_ASSIGNMENT / NOTEBOOK
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type != "code":
                assert Active.scan(render_markdown(cell.source)) == [], cell.source
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                assert not set(data) - {"text/plain", "text/html", "text/markdown",
                                        "image/png", "image/jpeg", "text/latex"}
                for kind in ("text/html", "text/markdown"):
                    assert Active.scan(data.get(kind, "")) == []
        assert "widgets" not in nb.metadata
    page = _formgrader_page(xss_class.course, ATTACKER)
    # the template's own scripts, links and handlers only: what an honest student's page has
    assert Active.scan(page) == Active.scan(_formgrader_page(xss_class.course, "alice"))
    assert "__pwned" not in page
    assert "My answer: $\\gamma &lt; 1$ and a &gt; b." in page or \
        "My answer: $\\gamma < 1$ and a > b." in HTMLText.of(page)


@pytest.mark.slow
def test_an_honest_written_answer_is_shown_as_written(xss_class):
    submitted = nbformat.read(SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / NOTEBOOK,
                              as_version=4)
    shown = nbformat.read(xss_class.course / "autograded" / "alice" / EDGE_ASSIGNMENT
                          / NOTEBOOK, as_version=4)
    written = {c.metadata["nbgrader"]["grade_id"]: c.source for c in submitted.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")}
    assert written
    for cell in shown.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in written:
            assert cell.source == written[grade_id]


@pytest.mark.slow
def test_nbgrader_autograde_is_refused_through_the_course_config(xss_class):
    from nbgrader.apps import NbGraderAPI

    from autograder.course.directory import REFUSAL, Course, course_db_url, load_config

    before = _scores(xss_class.batch.out)
    autograded = xss_class.course / "autograded" / ATTACKER / EDGE_ASSIGNMENT / NOTEBOOK
    shown = autograded.read_bytes()
    course = Course(xss_class.course, course_db_url(xss_class.course), None)
    with course.environment():
        result = course.api().autograde(EDGE_ASSIGNMENT, ATTACKER)
    assert result["success"] is False and REFUSAL in result["error"]
    assert "Creating/updating student" not in result.get("log", "")  # refused before any step
    assert not xss_class.marker.exists()
    assert autograded.read_bytes() == shown and _scores(xss_class.batch.out) == before

    # the second layer: with nbgrader's own exporter back, still nothing executes
    config = load_config(course.config_file)
    config.Autograde.exporter_class = "nbconvert.exporters.NotebookExporter"
    with course.environment():
        result = NbGraderAPI(config=config).autograde(EDGE_ASSIGNMENT, ATTACKER)
    assert result["success"] is False and REFUSAL in result["log"] + result["error"]
    assert not xss_class.marker.exists()
    autograded.parent.mkdir(parents=True, exist_ok=True)  # nbgrader removed its failed copy
    autograded.write_bytes(shown)


def _call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
    from test_autograder_incremental import TOKEN

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_the_formgrader_server_runs_nothing_even_through_its_api(xss_class):
    from test_autograder_incremental import Server

    before = _scores(xss_class.batch.out)
    config = (xss_class.course / "nbgrader_config.py").read_bytes()
    server = Server(xss_class.batch.out)
    server.start()
    try:
        port = server.port
        status, body = _call(port, "POST",
                             f"formgrader/api/submission/{EDGE_ASSIGNMENT}/{ATTACKER}/autograde")
        assert status == 200 and json.loads(body)["success"] is False
        assert "autograde is turned off" in json.loads(body)["error"]
        assert _call(port, "POST", "api/kernels", {"name": "python3"})[0] == 403
        assert _call(port, "POST", "api/sessions", {
            "path": f"submitted/{ATTACKER}/{EDGE_ASSIGNMENT}/{NOTEBOOK}", "type": "notebook",
            "kernel": {"name": "python3"}})[0] in (403, 500)
        assert _call(port, "PUT", "api/contents/nbgrader_config.py", {
            "type": "file", "format": "text", "content": "import os"})[0] == 403
        assert _call(port, "DELETE", "api/contents/nbgrader_config.py")[0] == 403
        assert _call(port, "PATCH", "api/contents/nbgrader_config.py",
                     {"path": "moved.py"})[0] == 403
        assert _call(port, "POST", "api/terminals")[0] == 404
        assert _call(port, "POST", "assignments/validate", {
            "path": f"submitted/{ATTACKER}/{EDGE_ASSIGNMENT}/{NOTEBOOK}"})[0] == 404
        assert _call(port, "GET", "formgrader/api/status")[0] == 200  # still serving
    finally:
        server.stop()
    assert not xss_class.marker.exists()
    assert (xss_class.course / "nbgrader_config.py").read_bytes() == config
    assert _scores(xss_class.batch.out) == before
    assert XSS_SCRIPT  # the script the browser test checks never ran
