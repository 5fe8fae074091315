"""The student's and the instructor's day in a real browser: JupyterLab driven by Chromium.

Headless Chromium (Debian's ``chromium``, driven by Playwright through ``executable_path``; no
browser is downloaded) opens JupyterLab as ``make lab`` starts it (the student configuration in
``jupyter/student/``) on a copy of the release, and:

- the notebook opens unmodified, with no nbgrader error on the page;
- a correct function in a solution cell, its cell and its check cell run: the check shows ``✓``;
- a wrong one: the check shows ``✗`` with its hint, and raises nothing (Run All goes on);
- Run All on the solved ``02_bellman``: every figure cell shows an image, the kernel survives;
- Run All on a fresh ``05_actor_critic`` (every function still a stub) runs every cell and
  reaches the last check cell, which shows its report;
- a training run's progress widget ends with its value equal to its maximum (a run stopped at
  its target is complete, not 14 % full);
- JupyterLab's news pop-up is off in the student configuration;
- the formgrader on a tiny graded class lists the assignments on its manual-grading page;
- the XSS attacker's answer (``tests/attacks/bank.py``), opened in formgrader's manual-grading
  page, runs no script: its payload, which does run on a plain page, neither marks the page nor
  changes a grade nor autogrades anything.

The cells are filled through JupyterLab's own model (``window.jupyterapp``, exposed by
``LabApp.expose_app_in_browser``) and run with its commands; everything asserted is what the
browser rendered. Without Chromium or Playwright the tests are skipped with the reason, except
under ``AUTOGRADER_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, TEST_TIMEOUT
from test_autograder_incremental import Server, free_port

from autograder.paths import SAMPLE_CLASS_DIR

#: set (by .ci/run) to fail, not skip, when no browser can be driven.
REQUIRE_BROWSER = os.environ.get("AUTOGRADER_REQUIRE_BROWSER") == "1"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
TOKEN = "browser-test-token"
#: the notebook the check and Run All tests use (the smaller one, with three figure cells).
NOTEBOOK = "02_bellman"
#: the fresh release whose Run All must reach the last check (issue 22: it stopped at cell 5).
FRESH = "05_actor_critic"
#: a training run that stops at its target return (05's A2C cell): its bar must end full.
PROGRESS_CELL = """\
from rlkit.agents import a2c
config = a2c.A2CConfig(target_return=475)
history = a2c.train(config, seed=0, progress=True)
print("stopped early:", history.final_evaluation.step < config.total_steps)
"""
WAIT_MS = 60_000

pytestmark = pytest.mark.browser


def _chromium() -> str:
    """The Chromium binary, or skip (fail under CI) saying what is missing."""
    problems = []
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        problems.append("no chromium on PATH (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("no playwright (pip install -e '.[dev]')")
    if problems:
        message = "cannot drive a browser: " + "; ".join(problems)
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    return str(path)


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {proc.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def class_graded(tmp_path_factory) -> Iterator[tuple[subprocess.Popen, Path]]:
    """alice's two small notebooks, graded in the background while the lab tests run."""
    subs, out = tmp_path_factory.mktemp("subs"), tmp_path_factory.mktemp("graded")
    for assignment in ("01_mdps", NOTEBOOK):
        target = subs / "alice" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copyfile(SAMPLE_CLASS_DIR / "alice" / assignment / f"{assignment}.ipynb", target)
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
         "--timeout", str(TEST_TIMEOUT), "--unsandboxed", "--workers", "1",
         "--assignments", f"01_mdps,{NOTEBOOK}"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield proc, out
    if proc.poll() is None:
        _stop(proc)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, class_graded):
    """One headless Chromium with a fresh profile for the module."""
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium,
            headless=True, args=CHROMIUM_FLAGS, chromium_sandbox=False)
        yield context
        context.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser) -> Iterator[str]:
    """JupyterLab as ``make lab`` starts it, on a copy of the release; yields its base URL.

    The solved ``02_bellman`` sits next to the release as ``solved.ipynb``.
    """
    from autograder.course.release import load_assignments
    from autograder.frontends.sample_class import solved_notebook

    root = tmp_path_factory.mktemp("lab")
    for notebook in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        shutil.copyfile(notebook, root / notebook.name)
    (assignment,) = load_assignments(only=[NOTEBOOK])
    release = nbformat.read(root / f"{NOTEBOOK}.ipynb", as_version=4)
    nbformat.write(solved_notebook(assignment, release), root / "solved.ipynb")
    progress = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROGRESS_CELL)],
                                        metadata=release.metadata)  # its kernel: no dialog
    nbformat.write(progress, root / "progress.ipynb")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           "JUPYTER_CONFIG_PATH": str(REPO_ROOT / "jupyter" / "student")}
    env.pop("NBGRADER_EXECUTION", None)
    root_ok = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False",
         "--LabApp.expose_app_in_browser=True",
         f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('workspaces')}", *root_ok],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/api/status?token={TOKEN}", proc)
        yield base
    finally:
        _stop(proc)


# ------------------------------------------------------------------ JupyterLab, through its model

#: JavaScript: the current notebook panel.
_PANEL = "window.jupyterapp.shell.currentWidget"


def open_notebook(browser, base: str, name: str):
    """A new page with ``name`` open, its kernel idle."""
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}/lab/tree/{name}?token={TOKEN}")
    page.wait_for_function(f"window.jupyterapp && {_PANEL} && {_PANEL}.content "
                           f"&& {_PANEL}.context && {_PANEL}.context.path.endsWith('{name}')")
    page.wait_for_function(f"{_PANEL}.sessionContext.session?.kernel?.status === 'idle'")
    return page


def cell_index(page, grade_id: str) -> int:
    """The index of the cell with nbgrader ``grade_id``."""
    index = page.evaluate(
        f"() => {_PANEL}.content.widgets.findIndex("
        f"c => (c.model.getMetadata('nbgrader') || {{}}).grade_id === {json.dumps(grade_id)})")
    assert index >= 0, f"no cell {grade_id} in the notebook"
    return index


def set_source(page, index: int, source: str) -> None:
    page.evaluate(f"([i, s]) => {_PANEL}.content.widgets[i].model.sharedModel.setSource(s)",
                  [index, source])


def run_cell(page, index: int) -> str:
    """Run cell ``index`` with JupyterLab's command and return the text it rendered."""
    page.evaluate(f"""async (i) => {{
        const panel = {_PANEL};
        panel.content.activeCellIndex = i;
        panel.content.widgets[i].model.executionCount = null;
        await window.jupyterapp.commands.execute('notebook:run-cell');
    }}""", index)
    page.wait_for_function(f"""(i) => {{
        const cell = {_PANEL}.content.widgets[i];
        return cell.model.executionCount !== null && !cell.node.querySelector('.jp-mod-running')
               && {_PANEL}.sessionContext.session.kernel.status === 'idle';
    }}""", arg=index)
    return page.evaluate(f"(i) => {_PANEL}.content.widgets[i].node"
                         ".querySelector('.jp-Cell-outputWrapper').innerText", index)


def check_cell_after(page, index: int) -> int:
    """The first check cell after cell ``index``."""
    return page.evaluate(f"""(i) => {_PANEL}.content.widgets.findIndex((c, j) => j > i
        && c.model.type === 'code'
        && c.model.sharedModel.getSource().trimStart().startsWith('check('))""", index)


def run_all(page, timeout_ms: int = 300_000) -> None:
    """Run All with JupyterLab's command; wait until every code cell ran and the kernel idles."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(f"""() => {{
        const panel = {_PANEL};
        const code = panel.content.widgets.filter(c => c.model.type === 'code');
        return code.every(c => c.model.executionCount !== null)
               && panel.sessionContext.session.kernel.status === 'idle';
    }}""", timeout=timeout_ms)


def code_cells(page) -> list[dict]:
    """Each code cell's source, output text, rendered images and error outputs."""
    return page.evaluate(f"""() => {_PANEL}.content.widgets
        .filter(c => c.model.type === 'code')
        .map(c => ({{source: c.model.sharedModel.getSource(),
                     text: c.model.outputs.toJSON().map(o => o.text
                           || (o.data && o.data['text/plain']) || '').join(''),
                     images: c.node.querySelectorAll('.jp-OutputArea-output img').length,
                     errors: c.model.outputs.toJSON()
                                 .filter(o => o.output_type === 'error').length}}))""")


CORRECT_Q_FROM_V = """\
def q_from_v(mdp, values):
    future = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * future[None, None, :])
    return np.where(mdp.terminal[:, None], 0.0, q)
"""
#: a known bug of the bank: the discount is forgotten.
WRONG_Q_FROM_V = CORRECT_Q_FROM_V.replace("mdp.gamma * ", "")


def test_a_check_shows_its_report_in_the_browser(browser, lab):
    page = open_notebook(browser, lab, f"{NOTEBOOK}.ipynb")
    try:
        assert page.evaluate(f"{_PANEL}.context.model.dirty") is False, "opened as modified"
        body = page.inner_text("body")
        assert "Error fetching courses" not in body and "exchange" not in body.lower()
        assert page.locator(".jp-MenuBar").get_by_text("Nbgrader").count() == 0
        assert page.get_by_text("Validate", exact=True).count() >= 1  # nbgrader's button stays
        # no news pop-up over the figures: the announcements plugin is off, no feed is fetched
        config = json.loads(page.inner_text("#jupyter-config-data"))
        assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
        assert config["news"]["disabled"] is True
        assert "official Jupyter news" not in page.inner_text("body")
        # the course-bound server extensions are off too
        assert page.request.get(f"{lab}/formgrader?token={TOKEN}").status == 404
        setup = page.evaluate(f"() => {_PANEL}.content.widgets.findIndex("
                              "c => c.model.sharedModel.getSource().includes('import rlkit'))")
        run_cell(page, setup)
        solution = cell_index(page, "q_from_v")
        check = check_cell_after(page, solution)
        set_source(page, solution, CORRECT_Q_FROM_V)
        run_cell(page, solution)
        passed = run_cell(page, check)
        assert "\u2713 bellman.q_from_v: all" in passed, passed

        set_source(page, solution, WRONG_Q_FROM_V)
        run_cell(page, solution)
        failed = run_cell(page, check)
        assert "\u2717 bellman.q_from_v" in failed and "hint:" in failed, failed
        assert "Traceback" not in failed  # a report, not an exception
    finally:
        page.close()


def test_run_all_shows_every_figure_and_the_kernel_survives(browser, lab):
    page = open_notebook(browser, lab, "solved.ipynb")
    try:
        run_all(page, timeout_ms=120_000)
        cells = code_cells(page)
        figures = [c for c in cells if "plt.show()" in c["source"]]
        assert len(figures) >= 3
        assert [c["images"] for c in figures] == [1] * len(figures), [
            c["source"][:60] for c in figures if c["images"] != 1]
        assert sum(c["errors"] for c in cells) == 0
        assert page.evaluate(f"{_PANEL}.sessionContext.session.kernel.status") == "idle"
    finally:
        page.close()


def test_run_all_on_a_fresh_release_reaches_the_last_check(browser, lab):
    page = open_notebook(browser, lab, f"{FRESH}.ipynb")
    try:
        run_all(page)
        cells = code_cells(page)
        assert sum(c["errors"] for c in cells) == 0
        checks = [c for c in cells if c["source"].lstrip().startswith("check(")]
        assert len(checks) >= 8
        # the last check cell, scrolled into view (JupyterLab renders only what is near the
        # view), shows its report
        last = page.evaluate(f"""async () => {{
            const panel = {_PANEL};
            const index = panel.content.widgets.findLastIndex(c => c.model.type === 'code'
                && c.model.sharedModel.getSource().trimStart().startsWith('check('));
            panel.content.activeCellIndex = index;
            await panel.content.scrollToItem(index, 'center');
            return index;
        }}""")
        page.wait_for_function(f"""(i) => {_PANEL}.content.widgets[i].node
            .querySelector('.jp-Cell-outputWrapper').innerText.includes('\u2717')""", arg=last)
        shown = page.evaluate(f"(i) => {_PANEL}.content.widgets[i].node"
                              ".querySelector('.jp-Cell-outputWrapper').innerText", last)
        assert "\u2717 actor_critic." in shown, shown
        skipped = [c["text"] for c in cells if "\u23ed skipped" in c["text"]]
        assert skipped and all("write `" in text for text in skipped)
    finally:
        page.close()


def test_a_progress_widget_ends_full(browser, lab):
    page = open_notebook(browser, lab, "progress.ipynb")
    try:
        run_all(page, timeout_ms=180_000)
        # the widget models of the cell's output: tqdm's bar is an HBox whose children hold
        # the FloatProgress (value, max, bar_style)
        bars = page.evaluate(f"""() => {{
            const found = [];
            const walk = (w) => {{
                const model = w._view && w._view.model;
                for (const child of (model && model.get('children')) || []) {{
                    if (child.get('max') !== undefined && child.get('bar_style') !== undefined) {{
                        found.push({{value: child.get('value'), max: child.get('max'),
                                    style: child.get('bar_style')}});
                    }}
                }}
                for (const inner of (w.widgets || [])) walk(inner);
            }};
            walk({_PANEL}.content.widgets[0].outputArea);
            return found;
        }}""")
        assert "stopped early: True" in code_cells(page)[0]["text"]  # short of its budget
        assert len(bars) == 1, bars
        (bar,) = bars
        assert bar["max"] > 0 and bar["value"] == bar["max"], bar  # full, not 14 of 100
        assert bar["style"] == "success", bar
    finally:
        page.close()


def test_the_formgrader_lists_the_assignments_for_manual_grading(browser, class_graded):
    proc, out = class_graded
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    server = Server(out)
    server.start()
    try:
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        from test_autograder_incremental import TOKEN as FORMGRADER_TOKEN

        page.goto(f"http://127.0.0.1:{server.port}/formgrader/gradebook"
                  f"?token={FORMGRADER_TOKEN}")
        page.wait_for_selector("text=01_mdps")
        body = page.inner_text("body")
        assert "01_mdps" in body and NOTEBOOK in body, body[:2000]
        page.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def xss_graded(tmp_path_factory, browser):
    """alice and the XSS attacker, graded (sandboxed when bubblewrap is there)."""
    from test_formgrader_xss import grade_xss_class

    return grade_xss_class(tmp_path_factory.mktemp("xss-browser"))


def test_the_formgrader_runs_no_script_of_a_student(browser, xss_graded):
    from attacks.bank import xss_payloads
    from test_autograder_incremental import TOKEN as FORMGRADER_TOKEN
    from test_formgrader_xss import ATTACKER, _scores

    # the payload is real: on a plain page it runs
    control = browser.new_page()
    control.set_content("\n".join(xss_payloads()))
    control.wait_for_function("window.__pwned > 0")
    control.close()

    before = _scores(xss_graded.batch.out)
    server = Server(xss_graded.batch.out)
    server.start()
    try:
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        base = f"http://127.0.0.1:{server.port}"
        listing = page.request.get(f"{base}/formgrader/api/submitted_notebooks/{NOTEBOOK}/"
                                   f"{NOTEBOOK}?token={FORMGRADER_TOKEN}").json()
        (submission,) = [s["id"] for s in listing if s["student"] == ATTACKER]
        page.goto(f"{base}/formgrader/submissions/{submission}/?token={FORMGRADER_TOKEN}")
        # the page is complete: every inline script has run and every image has loaded or
        # failed (an onerror would have run). (formgrader's own init needs MathJax from its
        # CDN, so offline its grade inputs stay empty; the attacker's code needs nothing.)
        page.wait_for_function("document.readyState === 'complete'")
        body = page.inner_text("body")
        assert "My answer:" in body and "click me" in body  # the answer is shown, as text
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("iframe, object, embed, form, svg script").count() == 0
        # the student's text reached the page without its scripts
        assert page.evaluate("Array.from(document.scripts).some(s => s.text.includes('__pwned'))"
                             ) is False
        page.close()
    finally:
        server.stop()
    assert _scores(xss_graded.batch.out) == before  # no grade changed, nothing autograded
    assert not xss_graded.marker.exists()
