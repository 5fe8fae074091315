"""The Gradescope autograder zip, and its run_autograder on a simulated /autograder."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile

import pytest
from conftest import EDGE_ASSIGNMENT, REQUIRE_SANDBOX, run_cli, sandbox_problems

from autograder.judge import get_spec
from autograder.paths import SAMPLE_CLASS_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    proc = run_cli("gradescope", EDGE_ASSIGNMENT, "--out", str(out), "--timeout", "20",
                   "--visibility", "after_published")
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
    assert "autograder/runner.py" in names and "autograder/checks/bellman.py" in names
    assert not [n for n in names if n.startswith("solutions/") or "sample_class/" in n]
    assert "BEGIN SOLUTION" not in release and "raise NotImplementedError()" in release
    assert config == {"assignment": EDGE_ASSIGNMENT, "timeout": 20,
                      "visibility": "after_published", "seed": config["seed"]}


def test_run_autograder_writes_results_json(zip_path, tmp_path):
    if sandbox_problems() and REQUIRE_SANDBOX:
        pytest.fail("no sandbox")
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path / "source")
    (tmp_path / "submission").mkdir()
    shutil.copyfile(SAMPLE_CLASS_DIR / "bob" / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb",
                    tmp_path / "submission" / "my_work.ipynb")
    proc = run_cli("gradescope-run", "--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
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
