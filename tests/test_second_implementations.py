"""No other rlkit function hands a student the graded answer while the notebook is graded.

Issue 17 ("a second implementation"): ``benchmarks/sweep_second_implementations.py`` calls
every public rlkit function on every check's grading cases, directly and through the adapters
a student would write, and reports each that reproduces the expected output on every case;
where the notebook's withheld functions raise (the call watch of the grading box), each must
be withheld or call a withheld one, unless ``LEFT_REACHABLE`` documents why it stays.
"""

from __future__ import annotations

import pytest

from autograder.judge.also_withheld import ALSO_WITHHELD, LEFT_REACHABLE
from autograder.judge.withhold import code_of, notebook_withheld, topic_specs
from benchmarks.sweep_second_implementations import sweep


@pytest.fixture(scope="module")
def findings():
    return sweep(limit=None)  # no time guard: the machine's load must not decide the test


def test_every_second_implementation_is_withheld_or_documented(findings):
    reachable = {(f.spec, f.candidate) for f in findings if f.status == "REACHABLE"}
    documented = {(spec, name) for spec, names in LEFT_REACHABLE.items() for name in names}
    assert reachable == documented, sorted(reachable ^ documented)


def test_the_known_routes_are_found(findings):
    # the routes of issue 17: the sweep must keep seeing them (withheld or documented)
    found = {(f.spec, f.candidate) for f in findings}
    for route in [("reinforce.reinforce_gradient", "rlkit.policy_gradient.weighted_scores"),
                  ("actor_critic.advantage_gradient", "rlkit.policy_gradient.weighted_scores"),
                  ("reinforce.reward_to_go", "rlkit.advantages.gae"),
                  ("mdps.discounted_return", "rlkit.advantages.gae"),
                  ("mdps.trajectory_probability",
                   "rlkit.enumeration.trajectory_log_probabilities"),
                  ("dqn.linear_epsilon", "rlkit.schedules.linear_schedule"),
                  ("ppo.performance_difference", "rlkit.enumeration.expected_return")]:
        assert route in found, route


def test_the_table_names_rlkit_functions_no_notebook_is_told_to_use():
    for spec_name, names in ALSO_WITHHELD.items():
        for name in names:
            assert code_of(name).co_filename.endswith(".py"), name
        notebook_withheld(topic_specs(spec_name))  # raises when a spec `uses` one
    for spec_name, names in LEFT_REACHABLE.items():
        for name in names:
            assert name not in notebook_withheld(topic_specs(spec_name)), name


# --- through the grader's CLI


@pytest.mark.slow
def test_the_second_implementation_routes_earn_nothing_unless_documented(tmp_path):
    import json

    from attacks.delegation import SECOND_IMPLEMENTATIONS, second_implementation_notebook
    from conftest import grade_batch, require_sandbox

    from autograder.judge import all_specs
    from autograder.paths import REPO_ROOT

    require_sandbox()
    for function, (notebook, _) in SECOND_IMPLEMENTATIONS.items():
        target = tmp_path / "subs" / f"second-{function}" / notebook / f"{notebook}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(second_implementation_notebook(
            REPO_ROOT / "notebooks" / f"{notebook}.ipynb", function)))
    notebooks = sorted({notebook for notebook, _ in SECOND_IMPLEMENTATIONS.values()})
    batch = grade_batch(tmp_path / "subs", tmp_path / "out", "--workers", "2",
                        "--assignments", ",".join(notebooks))
    assert batch.returncode == 0, batch.stderr[-3000:]
    spec_of = {spec.function: spec.name for spec in all_specs()
               if isinstance(spec.function, str)}
    for function, (_, body) in SECOND_IMPLEMENTATIONS.items():
        rows = [r for r in batch.rows if r["student"] == f"second-{function}"
                and r["grade_id"] == "check_" + spec_of[function].replace(".", "_")]
        assert len(rows) == 1, (function, [r["grade_id"] for r in batch.rows][:20])
        documented = any(name in body for name in LEFT_REACHABLE.get(spec_of[function], {}))
        if documented:
            assert float(rows[0]["score"]) == float(rows[0]["max_score"]), rows[0]
        else:
            assert float(rows[0]["score"]) == 0, rows[0]
            assert "calls `rlkit." in rows[0]["reason"], rows[0]
