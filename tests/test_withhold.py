"""rlkit's references are out of reach of the notebook being graded (autograder.judge.withhold).

The redacted build is checked in a fresh interpreter that imports it in place of rlkit (as the
sandbox does): every withheld function raises, nothing else changed, every check's cases still
build there. The self-check's call watch is checked on each route to the reference. The whole
route through the grader's CLI is ``tests/test_attacks_delegation.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder.judge import all_specs, fixtures, get_spec, run_check
from autograder.judge.withhold import (
    code_of,
    notebook_withheld,
    redacted_rlkit,
    topic_specs,
    withheld_names,
)
from rlkit import dp

TOPICS = sorted({spec.name.split(".", 1)[0] for spec in all_specs()})


def _run_redacted(topic: str, script: str) -> list:
    """Run ``script`` against the redacted rlkit of ``topic``; it prints one JSON list."""
    build = redacted_rlkit(notebook_withheld(topic_specs(f"{topic}.x")))
    from autograder.paths import REPO_ROOT

    env = {"PYTHONPATH": f"{build.parent}:{REPO_ROOT}", "PATH": "/usr/bin:/bin",
           "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script), topic], env=env,
                          cwd="/", capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_function_check_withholds_rlkit_code_that_exists():
    for spec in all_specs():
        if spec.learning:
            continue
        names = withheld_names(spec)
        assert names, f"{spec.name} withholds nothing"
        for name in names:
            assert name.startswith("rlkit."), name
            assert code_of(name).co_filename.endswith(".py")


@pytest.mark.parametrize("topic", TOPICS)
def test_helpers_a_notebook_tells_students_to_use_stay_available(topic):
    withheld = notebook_withheld(topic_specs(f"{topic}.x"))  # raises on a clash
    for spec in topic_specs(f"{topic}.x"):
        assert not set(spec.uses) & set(withheld)


@pytest.mark.parametrize("living_reward", sorted(fixtures.LECTURE_OPTIMAL_POLICIES))
def test_the_lecture_v_star_of_the_fixtures_is_optimal(living_reward):
    mdp = fixtures.lecture_mdp(living_reward=living_reward)
    v_star = dp.value_iteration(mdp, tol=1e-13).values
    np.testing.assert_allclose(fixtures.lecture_v_star(living_reward), v_star, atol=1e-9)
    np.testing.assert_allclose(fixtures.first_sweep(mdp),
                               dp.bellman_optimality_backup(mdp, np.zeros(mdp.n_states)))


@pytest.mark.parametrize("topic", TOPICS)
def test_in_the_redacted_build_every_withheld_function_raises_and_nothing_else_changed(topic):
    out = _run_redacted(topic, """
        import inspect, json, sys, rlkit
        from rlkit._withheld import WithheldError
        from autograder.judge.withhold import resolve, notebook_withheld, topic_specs
        assert "autograder-withheld" in rlkit.__file__, rlkit.__file__
        from rlkit.mdp import random_mdp
        import numpy as np
        mdp = random_mdp(3, 2, gamma=0.9, rng=np.random.default_rng(0))
        report = []
        for name in notebook_withheld(topic_specs(sys.argv[1] + ".x")):
            obj = resolve(name)
            try:
                if hasattr(obj, "func") or isinstance(obj, property):  # a (cached) property
                    getattr(mdp, name.rsplit(".", 1)[1])
                else:
                    fn = getattr(obj, "__func__", obj)
                    code = inspect.unwrap(fn).__code__
                    keywords = code.co_varnames[code.co_argcount:
                                                code.co_argcount + code.co_kwonlyargcount]
                    fn(*[None] * code.co_argcount, **dict.fromkeys(keywords))
                report.append([name, "returned"])
            except WithheldError as exc:
                report.append([name, "withheld" if exc.name == name else exc.name])
        # what is not withheld still works, e.g. the MDP tools every notebook uses
        report.append(["random_mdp", str(mdp.P.shape)])
        print(json.dumps(report))
    """)
    assert out[-1] == ["random_mdp", "(3, 2, 3)"]
    assert all(outcome == "withheld" for _, outcome in out[:-1]), out
    assert len(out) - 1 == len(notebook_withheld(topic_specs(f"{topic}.x")))


def test_the_redacted_build_holds_no_body_of_a_withheld_function():
    build = redacted_rlkit(notebook_withheld(topic_specs("bellman.x")))
    source = (build / "dp.py").read_text()
    start = source.index("def q_from_v(")
    q_from_v = source[start:source.index("\ndef ", start)]
    assert "withheld('rlkit.dp.q_from_v')" in q_from_v
    assert "einsum" not in q_from_v and "expected_rewards" not in q_from_v
    assert not list(build.rglob("__pycache__")) and not list(build.rglob("*.pyc"))
    from autograder.judge.withhold import package_dir  # a file with nothing withheld is a copy

    assert (build / "mdp.py").read_text() == (package_dir() / "mdp.py").read_text()


@pytest.mark.parametrize("topic", TOPICS)
def test_no_bank_bug_calls_a_withheld_reference(topic):
    # a bank bug stands for a student's code: one that called rlkit's withheld function would
    # meet that error when graded, and never be matched to its hint
    out = _run_redacted(topic, """
        import json, sys
        from autograder.judge.core import Raised, call_case
        from autograder.judge.withhold import topic_specs
        hit = []
        for spec in topic_specs(sys.argv[1] + ".x"):
            if spec.learning:
                continue
            case = spec.cases(grading=False)[0]
            for bug in spec.bugs:
                got = call_case(case, bug.fn)
                if isinstance(got, Raised) and got.error.startswith("WithheldError"):
                    hit.append(f"{spec.name}:{bug.name}")
        print(json.dumps(hit))
    """)
    assert out == []


@pytest.mark.parametrize("topic", TOPICS)
def test_every_check_builds_its_cases_where_the_references_are_withheld(topic):
    out = _run_redacted(topic, """
        import json, sys
        from autograder.judge.withhold import topic_specs
        print(json.dumps({s.name: [c.name for c in s.cases(grading=True, seed=11)]
                          for s in topic_specs(sys.argv[1] + ".x")}))
    """)
    for spec in topic_specs(f"{topic}.x"):
        assert out[spec.name] == [c.name for c in spec.cases(grading=True, seed=11)]


# --- the self-check's call watch


SELF_CHECK_ROUTES = {
    "plain": "import rlkit.dp\ndef q_from_v(mdp, values):\n"
             "    return rlkit.dp.q_from_v(mdp, values)",
    "alias": "from rlkit.dp import q_from_v as _q\ndef q_from_v(mdp, values):\n"
             "    return _q(mdp, values)",
    "getattr": "import importlib\ndef q_from_v(mdp, values):\n    return getattr("
               "importlib.import_module('rlkit.' + 'dp'), 'q_' + 'from_v')(mdp, values)",
    "reload": "import importlib, rlkit.dp\ndef q_from_v(mdp, values):\n"
              "    return importlib.reload(rlkit.dp).q_from_v(mdp, values)",
    "exec_file": "import rlkit.dp\ndef q_from_v(mdp, values):\n    ns = {}\n"
                 "    exec(compile(open(rlkit.dp.__file__).read(), rlkit.dp.__file__, 'exec'), ns)"
                 "\n    return ns['q_from_v'](mdp, values)",
    "copied_before": "import types, rlkit.dp\n_saved = types.FunctionType("
                     "rlkit.dp.q_from_v.__code__, rlkit.dp.q_from_v.__globals__)\n"
                     "def q_from_v(mdp, values):\n    return _saved(mdp, values)",
    "caught": "import rlkit.dp\ndef q_from_v(mdp, values):\n    try:\n"
              "        return rlkit.dp.q_from_v(mdp, values)\n    except Exception:\n"
              "        return None",
}


@pytest.mark.parametrize("route", sorted(SELF_CHECK_ROUTES))
def test_the_self_check_names_the_reference_a_function_calls(route):
    # in a fresh interpreter: a reload must not replace this process's rlkit.dp
    script = SELF_CHECK_ROUTES[route] + textwrap.dedent("""

        from autograder.judge import get_spec, run_check
        report = run_check(get_spec("bellman.q_from_v"), q_from_v, watch=True)
        print(report.passed, report.summary().replace("\\n", " | "))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("False"), proc.stdout
    assert ("`q_from_v` calls `rlkit.dp.q_from_v`, the function this check asks you to write"
            in proc.stdout), proc.stdout


def test_the_call_watch_passes_honest_code_and_rlkit_helpers_the_notebook_allows():
    spec = get_spec("bellman.policy_iteration")
    assert "rlkit.dp.policy_evaluation_exact" in spec.uses

    def greedy(mdp, values):
        future = np.where(mdp.terminal, 0.0, values)
        q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * future[None, None, :])
        return q.argmax(axis=1)

    def policy_iteration(mdp):
        policy = np.zeros(mdp.n_states, dtype=int)
        while True:
            values = dp.policy_evaluation_exact(mdp, policy)
            better = greedy(mdp, values)
            if np.array_equal(better, policy):
                return policy, values
            policy = better

    report = run_check(spec, policy_iteration, watch=True)
    assert report.passed, report.summary()


def test_a_learning_check_names_the_function_whose_reference_it_reached():
    from autograder.judge.core import withheld_problem

    spec = get_spec("dqn.learns")
    problem = withheld_problem(spec, "WithheldError: rlkit's own `rlkit.buffers.ReplayBuffer"
                                     ".sample` is not available while this notebook is graded")
    assert problem.startswith("`sample_batch` calls `rlkit.buffers.ReplayBuffer.sample`, rlkit's")
    assert withheld_problem(spec, "ValueError: rlkit's own") is None


def test_the_delegating_submission_covers_every_graded_function_of_every_notebook():
    from attacks.delegation import delegating_notebook

    from autograder.paths import REPO_ROOT

    for release in sorted((REPO_ROOT / "notebooks").glob("0*.ipynb")):
        nb = delegating_notebook(release)  # raises on a stub it has no body for
        assert any("rlkit." in "".join(c["source"]) for c in nb["cells"]), release.name


# --- through the grader's CLI


@pytest.mark.slow
def test_a_submission_that_delegates_everything_to_rlkit_earns_nothing(tmp_path):
    from attacks.delegation import delegating_notebook
    from conftest import grade_batch, require_sandbox, sample_assignments

    from autograder.paths import REPO_ROOT

    require_sandbox()
    assignments = sample_assignments()
    for name in assignments:
        target = tmp_path / "subs" / "delegator" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(delegating_notebook(REPO_ROOT / "notebooks"
                                                         / f"{name}.ipynb")))
    batch = grade_batch(tmp_path / "subs", tmp_path / "out", "--workers", "2",
                        "--assignments", ",".join(assignments))
    assert batch.returncode == 0, batch.stderr[-3000:]
    checks = [r for r in batch.rows if r["grade_id"].startswith("check_")]
    assert {r["assignment"] for r in checks} == set(assignments)
    for row in checks:
        assert float(row["score"]) == 0, row
        assert "calls `rlkit." in row["reason"], row
    html = (tmp_path / "out" / "feedback" / "delegator" / "02_bellman"
            / "02_bellman.html").read_text()
    assert ("`q_from_v` calls `rlkit.dp.q_from_v`, the function this check asks you to write"
            in html)
