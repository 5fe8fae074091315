"""Learning checks (DESIGN.md section 5, layer 3): seeded runs, scored by mean minus std."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.box.calls import Run
from autograder.judge.spec import Bug, Case, CheckSpec


def learning_case(
    name: str,
    *,
    seeds: Sequence[int],
    cap: float,
    threshold: float,
    steps: int,
    untrained: str,
    run_seed: Callable[[int], Run],
    score: Callable[[Any, int], float],
    measure: str | None = None,
) -> Case:
    """A seeded learning run over ``seeds``, passed by mean - std of the seeds' scores.

    The box trains and the judge scores: ``run_seed(seed)`` is the box procedure's
    :class:`~autograder.box.calls.Run` that trains with the student's functions for at most
    ``steps`` env steps (stopping early at the trainer's target) and returns what was learned
    (the trained parameters as arrays); ``score(output, seed)`` evaluates that here, with
    rlkit's own code, on episodes capped at ``cap`` steps. Patching the trainer, its
    evaluation or the check machinery inside the box gains nothing: nothing there knows the
    threshold or computes the score. The scores' mean minus std over the seeds must reach
    ``threshold``; ``untrained`` says what an untrained policy scores. ``measure`` says what
    the score is when it is not an env's return (a failure's message names it then: notebook
    08 scores a share of a game's positions).

    Seeds stop being trained once no later seed can lift the rule over the threshold
    (:func:`best_rule`): a broken agent costs one training run. A run stops at its target, so
    a correct submission is the cheap one to grade, and what it learned is what reached it.
    """

    def drive(call: Callable[[Run], Any]) -> float:
        scores: list[float] = []
        for seed in seeds:
            scores.append(float(score(call(run_seed(seed)), seed)))
            if best_rule(scores, len(seeds), cap) < threshold:  # no later seed can save it
                break
        return learning_rule(scores, cap)

    def learned(got: Any, expected: Any) -> str | None:
        if not isinstance(got, float) or not got >= expected:  # NaN fails too
            what = measure or (f"within {steps} env steps, the greedy evaluation of what your "
                               f"agent learned (mean return of episodes capped at {cap:g} "
                               "steps)")
            return (f"{what}, mean minus std over seeds {list(seeds)}, is {got!r}: it must "
                    f"reach {expected:g} ({untrained})")
        return None

    return Case(name, drive=drive, expected=threshold, compare=learned, training=True)


def learning_rule(scores: Sequence[float], cap: float) -> float:
    """Mean minus std of the seeds' scores, each capped at ``cap``: a learning case's value."""
    capped = np.minimum(np.asarray(scores, dtype=float), cap)
    return float(capped.mean() - capped.std())


def best_rule(scores: Sequence[float], n_seeds: int, cap: float, grid: int = 21) -> float:
    """An upper bound of the :func:`learning_rule` of ``n_seeds`` scores beginning ``scores``.

    A learning case stops training seeds once this is below its threshold: a broken agent
    then costs one training run, not one per seed, and a correct one is never stopped. Mean
    minus std is not increasing in each score (raising a score far above the others raises
    the std more than the mean), so the bound is the maximum over a grid of the remaining
    scores in ``[0, cap]`` (``grid`` points each) plus the most the rule can change within
    half a grid step: its derivative in one score is at most ``(1 + sqrt(n - 1)) / n``.
    """
    known = np.minimum(np.asarray(scores, dtype=float), cap)
    left = n_seeds - len(known)
    if left <= 0:
        return learning_rule(known, cap)
    values = np.linspace(0.0, cap, grid)
    rest = np.stack(np.meshgrid(*[values] * left, indexing="ij"), axis=-1).reshape(-1, left)
    every = np.concatenate([np.broadcast_to(known, (len(rest), len(known))), rest], axis=1)
    slope = (1 + np.sqrt(n_seeds - 1)) / n_seeds
    within_a_step = left * (values[1] - values[0]) / 2 * slope
    return float((every.mean(axis=1) - every.std(axis=1)).max() + within_a_step)


def broken_agent(reference: Mapping[str, Callable], spec: CheckSpec, bug_name: str) -> Bug:
    """A learning check's broken agent: the reference with one function replaced by a bug.

    ``spec``'s function becomes its bank's bug ``bug_name``; the agent is named
    ``function:bug`` and keeps the bug's hint.
    """
    bug = next(b for b in spec.bugs if b.name == bug_name)
    return Bug(f"{spec.function}:{bug.name}", {**reference, spec.function: bug.fn}, bug.hint)


def best_evaluation(history: Any) -> float:
    """The highest mean return among a training history's evaluations (``EvalPoint``s)."""
    return float(max(point.mean for point in history.evaluations))
