"""The Gradescope autograder zip, and its run_autograder on a simulated /autograder."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import site
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from attacks.bank import mdptoolbox_notebook
from attacks.delegation import SITE_PACKAGES, delegating_notebook
from conftest import (
    EDGE_ASSIGNMENT,
    REPO_ROOT,
    REQUIRE_SANDBOX,
    require_sandbox,
    run_cli,
    sandbox_problems,
)

from autograder.judge import get_spec
from autograder.paths import SAMPLE_CLASS_DIR

pytestmark = pytest.mark.slow
#: the instructor's private seed the zip carries (`gradescope --seed`).
SEED = 4821


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    proc = run_cli("gradescope", EDGE_ASSIGNMENT, "--out", str(out), "--timeout", "20",
                   "--visibility", "after_published", "--seed", str(SEED))
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_zip_holds_the_scripts_the_course_code_and_the_release_only(zip_path):
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        scripts = {n: archive.getinfo(n) for n in ("setup.sh", "run_autograder")}
        config = json.loads(archive.read("gradescope.json"))
        release = archive.read(f"release/{EDGE_ASSIGNMENT}.ipynb").decode()
    assert all(stat.S_IMODE(i.external_attr >> 16) & 0o111 for i in scripts.values())
    assert "pyproject.toml" in names and "rlkit/dp.py" in names
    assert "autograder/box/runner.py" in names and "autograder/judge/specs/bellman.py" in names
    assert not [n for n in names if n.startswith("solutions/") or "sample_class/" in n]
    assert "BEGIN SOLUTION" not in release and "raise NotImplementedError()" in release
    assert config == {"assignment": EDGE_ASSIGNMENT, "timeout": 20,
                      "visibility": "after_published", "seed": SEED}


def _gradescope_run(zip_path: Path, root: Path, student: str, assignment: str,
                    name: str) -> dict:
    """Unzip ``zip_path`` into ``root``, hand in the sample student's notebook as ``name``,
    run ``gradescope-run`` there; its ``results.json``."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copyfile(SAMPLE_CLASS_DIR / student / assignment / f"{assignment}.ipynb",
                    root / "submission" / name)
    proc = run_cli("gradescope-run", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_writes_results_json(zip_path, tmp_path):
    if sandbox_problems() and REQUIRE_SANDBOX:
        pytest.fail("no sandbox")
    results = _gradescope_run(zip_path, tmp_path, "bob", EDGE_ASSIGNMENT, "my_work.ipynb")
    tests = results["tests"]
    assert [t["name"] for t in tests] == [
        "check_bellman_" + n for n in ("q_from_v", "value_iteration_step", "greedy_policy",
                                       "policy_evaluation_step", "policy_iteration",
                                       "q_value_iteration_step", "epsilon_greedy",
                                       "q_learning_update")]
    for test in tests:
        name = "bellman." + test["name"].removeprefix("check_bellman_")
        assert test["max_score"] == get_spec(name).points
        assert test["visibility"] == "after_published"
    failed = [t for t in tests if t["score"] == 0]
    assert failed and all("hint:" in t["output"] and "expected:" in t["output"] for t in failed)
    assert results["score"] == sum(t["score"] for t in tests) == 9
    assert "graded by hand" in results["output"]


@pytest.mark.parametrize("where", [(f"{EDGE_ASSIGNMENT}.ipynb",), ("work", "my_work.ipynb")],
                         ids=["named", "nested"])
def test_run_autograder_refuses_a_linked_notebook(zip_path, tmp_path, where):
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path / "source")
    outside = tmp_path / "someone_else.ipynb"  # full marks, if it were read
    shutil.copyfile(SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb",
                    outside)
    link = tmp_path.joinpath("submission", *where)
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    proc = run_cli("gradescope-run", "--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"]
    assert all(t["status"] == "failed" for t in results["tests"])
    assert f"{'/'.join(where)} is a symbolic link" in results["output"]
    assert "submit the notebook file itself" in results["tests"][0]["output"]


# ----------------------------------------------------------------------------- the whole route


def _offline_install(setup_sh: str, root: Path) -> list[str]:
    """setup.sh's ``pip install`` of the course package, offline, into ``root/venv``.

    The same package from the same source, without its dependencies: the scratch venv borrows
    this venv's (torch is never downloaded), and without an index.
    """
    text = setup_sh.replace("\\\n", " ")
    line = next(x for x in text.splitlines() if " install " in x and "/autograder/source" in x)
    args = shlex.split(line)
    rest = args[args.index("install") + 1:]
    targets = [a for i, a in enumerate(rest) if not a.startswith("-")
               and not (i and rest[i - 1] in ("--extra-index-url", "--index-url"))]
    assert targets == ["/autograder/source"], line
    return [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--no-deps",
            "--no-build-isolation", "--no-index", "--quiet",
            *(t.replace("/autograder", str(root)) for t in targets)]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def gradescope_image(tmp_path_factory) -> Path:
    """/autograder as Gradescope's setup.sh leaves it: the course package in a venv.

    A venv of this Python whose site-packages borrows this venv's packages with a ``.pth``
    (dev extras included, as a careless image would hold them), and setup.sh's own ``pip
    install`` of the course package into it: a full, unredacted copy of rlkit in
    site-packages.
    """
    require_sandbox()
    root = tmp_path_factory.mktemp("gs-image")
    out = root / "autograder.zip"
    proc = run_cli("gradescope", EDGE_ASSIGNMENT, "--out", str(out), "--timeout", "60",
                   "--public-seed")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as archive:
        archive.extractall(root / "source")
        setup_sh = archive.read("setup.sh").decode()
    for script in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / script, 0o755)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True)
    (venv_site,) = (root / "venv" / "lib").glob("python3*/site-packages")
    (venv_site / "borrowed.pth").write_text("".join(f"{d}\n" for d in site.getsitepackages()))
    install = subprocess.run(_offline_install(setup_sh, root), capture_output=True, text=True,
                             env=_clean_env(), cwd=root, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    assert (venv_site / "rlkit" / "dp.py").is_file()  # the unredacted copy is installed
    return root


def _run_autograder(image: Path, name: str, nb: dict) -> dict:
    """Grade ``nb`` as Gradescope does: run_autograder (paths moved under ``image``)."""
    root = image / "runs" / name
    (root / "submission").mkdir(parents=True)
    (root / "source").symlink_to(image / "source")
    (root / "submission" / "notebook.ipynb").write_text(json.dumps(nb))
    script = (image / "source" / "run_autograder").read_text()
    script = script.replace("/autograder/venv", "\0venv\0").replace("/autograder", str(root))
    script = script.replace("\0venv\0", str(image / "venv"))
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=_clean_env(), check=False, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


@pytest.fixture(scope="module")
def gradescope_results(gradescope_image) -> dict[str, dict]:
    alice = json.loads((SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT /
                        f"{EDGE_ASSIGNMENT}.ipynb").read_text())
    release = REPO_ROOT / "notebooks" / f"{EDGE_ASSIGNMENT}.ipynb"
    submissions = {
        "honest": alice,
        "delegating": delegating_notebook(release),
        "delegating_to_site_packages": delegating_notebook(release, SITE_PACKAGES),
        "dev_extra_mdptoolbox": mdptoolbox_notebook(alice),
    }
    with ThreadPoolExecutor(2) as pool:
        results = pool.map(lambda item: _run_autograder(gradescope_image, *item),
                           submissions.items())
        return dict(zip(submissions, results, strict=True))


def _scores(results: dict) -> dict[str, float]:
    return {t["name"].removeprefix("check_bellman_"): t["score"] for t in results["tests"]}


def test_gradescope_grades_in_the_box_and_the_honest_notebook_keeps_full_marks(
        gradescope_results):
    honest = gradescope_results["honest"]
    assert "No sandbox" not in honest["output"]
    assert honest["score"] == sum(t["max_score"] for t in honest["tests"]) == 16


@pytest.mark.parametrize("name", ["delegating", "delegating_to_site_packages"])
def test_gradescope_withholds_rlkit_however_it_is_installed(gradescope_results, name):
    results = gradescope_results[name]
    assert "No sandbox" not in results["output"]
    assert results["score"] == 0 and set(_scores(results).values()) == {0.0}
    assert all("the function this check asks you to write" in t["output"]
               for t in results["tests"]), [t["output"] for t in results["tests"]]


def test_gradescope_has_no_dev_extras(gradescope_results):
    results = gradescope_results["dev_extra_mdptoolbox"]
    scores = _scores(results)
    assert scores.pop("policy_iteration") == 0
    assert results["score"] == 16 - 3 and min(scores.values()) > 0
    (pi,) = [t for t in results["tests"] if t["name"].endswith("policy_iteration")]
    assert "No module named 'mdptoolbox'" in pi["output"]


def test_the_last_notebook_grades_on_gradescope_with_full_marks(tmp_path):
    """08's zip (its own withheld rlkit: the search and the trainers) grades alice in full."""
    assignment = "08_alphago"
    out = tmp_path / "autograder.zip"
    proc = run_cli("gradescope", assignment, "--out", str(out), "--timeout", "60",
                   "--seed", str(SEED))
    assert proc.returncode == 0, proc.stderr
    results = _gradescope_run(out, tmp_path / "run", "alice", assignment, "notebook.ipynb")
    assert len(results["tests"]) == 12  # ten functions and two learning checks
    assert all(t["score"] == t["max_score"] > 0 for t in results["tests"]), results["tests"]
