"""Learning checks: pass rate over correct variants, the broken agents' figures, and the cost.

Run: ``python benchmarks/bench_learning_checks.py [--check dqn|reinforce|a2c|ppo|rlhf|all]
[--seed-groups 8] [--variants 0] [--json out.json]``.

A learning check (``dqn.learns``, ``actor_critic.a2c_learns``, ``ppo.ppo_learns``,
``rlhf.reward_model_learns``; the learning case of ``reinforce.reinforce_loss``) must pass
every correct implementation and fail every known broken agent. For each check this prints

* the correct variants of ``tests/variants_{dqn,reinforce,a2c,ppo,rlhf}.py`` (for DQN,
  one per sampling stream): how many pass, and the lowest rule values against the threshold;
* the reference on ``--seed-groups`` other groups of seeds (another group of seeds is another
  draw of runs, as a variant is);
* every broken agent (for REINFORCE: every bug of the loss's bank) with its rule value;
* the CPU and wall seconds of one check (every seed of it), median over the correct runs, and
  the steps a correct run took before it reached its target.

Not a test: it prints figures. ``tests/test_learning_checks.py`` asserts the pass/fail part.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograder.judge.core import best_evaluation, learning_rule
from autograder.judge.specs import a2c as a2c_checks
from autograder.judge.specs import dqn_learning as dqn_checks
from autograder.judge.specs import ppo_clip as ppo_checks
from autograder.judge.specs import reinforce_learning as reinforce_checks
from autograder.judge.specs import rlhf as rlhf_checks

ROOT = Path(__file__).resolve().parents[1]


def load_variants(name: str) -> ModuleType:
    """``tests/<name>.py`` (the tests directory is not a package)."""
    path = ROOT / "tests" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class LearningCheck:
    """What the benchmark needs to know of one learning check."""

    name: str
    train: Callable[[Any, int], Any]
    seeds: tuple[int, ...]
    cap: float
    threshold: float
    reference: Any
    variants: Callable[[], list[tuple[str, Any]]]
    broken: tuple[tuple[str, Any], ...]
    score: Callable[[Any], float] = best_evaluation
    """a training run's score (default: its best greedy evaluation)"""
    steps: Callable[[Any], int] = lambda history: history.evaluations[-1].step
    """the env steps a run took (0 where there are none, as for a reward model)"""


def agent_check(name: str, checks: ModuleType, variants_name: str, cap: float | None = None,
                **options: Any) -> LearningCheck:
    """The whole-agent check ``name`` of a spec module (its ``learning_run``, ``LEARN_SEEDS``,
    ``LEARN_CAP`` unless ``cap`` is given, ``LEARN_THRESHOLD``, ``REFERENCE_AGENT`` and the
    bugs of ``LEARNS``) with the agents of ``tests/<variants_name>.py``; ``options`` are
    more :class:`LearningCheck` fields.
    """  # noqa: D205
    variants = load_variants(variants_name)
    return LearningCheck(
        name, checks.learning_run, checks.LEARN_SEEDS, checks.LEARN_CAP if cap is None else cap,
        checks.LEARN_THRESHOLD, checks.REFERENCE_AGENT,
        lambda: [(variants.agent_name(a), a) for a in variants.agents()],
        tuple((bug.name, bug.fn) for bug in checks.LEARNS.bugs), **options,
    )


def dqn_check() -> LearningCheck:
    """``dqn.learns`` with the whole-agent variants."""
    return agent_check("dqn.learns", dqn_checks, "variants_dqn")


def reinforce_check() -> LearningCheck:
    """The learning case of ``reinforce.reinforce_loss`` with the loss variants."""
    variants = load_variants("variants_reinforce")
    spec = reinforce_checks.REINFORCE_LOSS
    return LearningCheck(
        "reinforce.reinforce_loss (learning case)", reinforce_checks.learning_run,
        reinforce_checks.LEARN_SEEDS, reinforce_checks.LEARN_CAP,
        reinforce_checks.LEARN_THRESHOLD, spec.reference,
        lambda: [(fn.__qualname__, fn) for fn in variants.LOSSES],
        tuple((bug.name, bug.fn) for bug in spec.bugs),
    )


@dataclass
class Run:
    """One function's run of a check: the seeds' scores, steps and seconds."""

    scores: list[float]
    steps: list[int]
    cpu: float
    wall: float


def a2c_check() -> LearningCheck:
    """``actor_critic.a2c_learns`` with the (gae, a2c_loss) variants."""
    return agent_check("actor_critic.a2c_learns", a2c_checks, "variants_a2c")


def ppo_check() -> LearningCheck:
    """``ppo.ppo_learns`` with the agents of six PPO pieces' variants."""
    return agent_check("ppo.ppo_learns", ppo_checks, "variants_ppo")


def rlhf_check() -> LearningCheck:
    """``rlhf.reward_model_learns``: held-out accuracy of reward models, no env steps."""
    return agent_check("rlhf.reward_model_learns", rlhf_checks, "variants_rlhf", cap=1.0,
                       score=float, steps=lambda accuracy: 0)


def timed(check: LearningCheck, fn: Any, seeds: Sequence[int]) -> Run:
    """Train ``fn`` on each of ``seeds`` as the check does."""
    cpu, wall = time.process_time(), time.perf_counter()
    histories = [check.train(fn, seed) for seed in seeds]
    return Run([check.score(h) for h in histories], [check.steps(h) for h in histories],
               time.process_time() - cpu, time.perf_counter() - wall)


def measure(check: LearningCheck, seed_groups: int, max_variants: int) -> dict[str, Any]:
    """Run everything for one check and print it as it comes."""
    print(f"\n== {check.name}: seeds {list(check.seeds)}, best evaluations capped at "
          f"{check.cap:g}, pass when mean - std >= {check.threshold:g}", flush=True)
    digits = 3 if check.cap <= 1 else 1  # accuracies, not returns
    correct: list[Run] = []
    reference = timed(check, check.reference, check.seeds)
    correct.append(reference)
    print(f"reference: scores {np.round(reference.scores, digits).tolist()}, rule "
          f"{learning_rule(reference.scores, check.cap):.{digits}f}, steps {reference.steps}",
          flush=True)

    variants = check.variants()[: max_variants or None]
    rows = {}
    for name, fn in variants:
        run = timed(check, fn, check.seeds)
        correct.append(run)
        rows[name] = run.scores
    rules = {name: learning_rule(s, check.cap) for name, s in rows.items()}
    passed = sum(r >= check.threshold for r in rules.values())
    low = sorted(rules.items(), key=lambda item: item[1])[:3]
    print(f"correct variants: {passed} of {len(rows)} pass ({100 * passed / len(rows):.1f} %); "
          "lowest rule values " + ", ".join(f"{r:.{digits}f} ({n})" for n, r in low), flush=True)

    groups = {}
    for g in range(1, seed_groups + 1):
        seeds = tuple(range(g * 100, g * 100 + len(check.seeds)))
        run = timed(check, check.reference, seeds)
        correct.append(run)
        groups[str(seeds)] = run.scores
    if groups:
        group_rules = [learning_rule(s, check.cap) for s in groups.values()]
        n_pass = sum(r >= check.threshold for r in group_rules)
        print(f"reference on {len(groups)} other seed groups: {n_pass} pass; rule min "
              f"{min(group_rules):.{digits}f}, median "
              f"{statistics.median(group_rules):.{digits}f}", flush=True)

    broken = {}
    for name, fn in check.broken:
        run = timed(check, fn, check.seeds)
        broken[name] = run.scores
        rule = learning_rule(run.scores, check.cap)
        verdict = "fails" if rule < check.threshold else "PASSES (its own checks must catch it)"
        print(f"broken {name}: scores {np.round(run.scores, digits).tolist()}, rule "
              f"{rule:.{digits}f} ({verdict})", flush=True)

    cpu = statistics.median(r.cpu for r in correct)
    wall = statistics.median(r.wall for r in correct)
    steps = [s for r in correct for s in r.steps]
    print(f"one correct check run: {cpu:.2f} s CPU, {wall:.2f} s wall (median of "
          f"{len(correct)}); steps to the target per seed: median {statistics.median(steps):g}, "
          f"max {max(steps)}")
    return {"check": check.name, "threshold": check.threshold, "reference": reference.scores,
            "variants": rows, "seed_groups": groups, "broken": broken,
            "seconds": {"cpu": cpu, "wall": wall}}


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", choices=("dqn", "reinforce", "a2c", "ppo", "rlhf", "all"),
                        default="all")
    parser.add_argument("--seed-groups", type=int, default=8,
                        help="other groups of seeds to run the reference on")
    parser.add_argument("--variants", type=int, default=0,
                        help="only the first N variants (0: all)")
    parser.add_argument("--json", type=Path, help="also write every score here")
    args = parser.parse_args()
    checks = {"dqn": [dqn_check], "reinforce": [reinforce_check], "a2c": [a2c_check],
              "ppo": [ppo_check], "rlhf": [rlhf_check],
              "all": [dqn_check, reinforce_check, a2c_check, ppo_check, rlhf_check]}[args.check]
    results = [measure(make(), args.seed_groups, args.variants) for make in checks]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
