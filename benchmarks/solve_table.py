"""The CartPole-v1 table of bench_dqn, bench_a2c and bench_ppo: when is an agent solved.

CartPole-v1 counts as solved at a mean return of 475. Two moments of a run answer "when":

- the first hit: the first evaluation with a mean >= 475. It rewards a lucky spike (an agent
  can hit 500 once and end the budget at 17);
- the stable solve: the first of ``STREAK`` (5) consecutive evaluations >= 475, the moment a
  user would call the agent solved and staying so.

For each, the table gives the env steps and the training seconds (evaluations excluded) of
that evaluation, per seed and as medians over the seeds that got there, and the share of seeds
that got there within the budget. Beside them: the final evaluation, and the share of the
evaluations after the first hit that are still >= 475.

Every figure is read from a :class:`Run`'s evaluations, so that rlkit and Stable-Baselines3
are judged by the same code. Timings are wall-clock on whatever machine runs them: the header
line gives the load average so that a loaded run can be read as one.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Sequence

import numpy as np

from rlkit.evaluation import EvalPoint

SOLVED = 475.0
STREAK = 5


@dataclasses.dataclass(frozen=True)
class Run:
    """The evaluations of one seed."""

    seed: int
    evaluations: tuple[EvalPoint, ...]
    train_seconds: float
    wall_seconds: float

    @property
    def first_solved(self) -> EvalPoint | None:
        """Return the first evaluation with a mean >= 475, if any."""
        return next((e for e in self.evaluations if e.mean >= SOLVED), None)

    @property
    def stable_solved(self) -> EvalPoint | None:
        """Return the first of ``STREAK`` consecutive evaluations >= 475, if any.

        Example:
            >>> points = [EvalPoint(i, m, 0.0, i / 10) for i, m in enumerate([500, 9] + [480] * 5)]
            >>> Run(0, tuple(points), 1.0, 1.0).stable_solved.step
            2

        """
        solved = [e.mean >= SOLVED for e in self.evaluations]
        for i in range(len(solved) - STREAK + 1):
            if all(solved[i : i + STREAK]):
                return self.evaluations[i]
        return None

    @property
    def later_share(self) -> float:
        """Return the share of the evaluations after the first solved one that are >= 475."""
        first = self.first_solved
        if first is None:
            return float("nan")
        later = [e for e in self.evaluations if e.step > first.step]
        return float(np.mean([e.mean >= SOLVED for e in later])) if later else float("nan")


def load_line() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, for the header of a table."""
    one, five, fifteen = os.getloadavg()
    return (f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs "
            "(timings are loaded if it exceeds the CPU count)")


def _cell(point: EvalPoint | None) -> tuple[str, str]:
    return (str(point.step), f"{point.train_seconds:.1f}") if point else ("-", "-")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


HEADER = (f"{'seed':>4} {'first >=475: steps':>19} {'train s':>8} {'stable: steps':>14} "
          f"{'train s':>8} {'final eval':>16} {'later >=475':>12} {'train s (all)':>14} "
          f"{'wall s':>8}")
"""The column names of :func:`row`."""


def row(run: Run) -> str:
    """One seed's line of the table (see ``HEADER``)."""
    final = run.evaluations[-1]
    first, stable = _cell(run.first_solved), _cell(run.stable_solved)
    later = "-" if np.isnan(run.later_share) else f"{run.later_share:.0%}"
    return (f"{run.seed:>4} {first[0]:>19} {first[1]:>8} {stable[0]:>14} {stable[1]:>8} "
            f"{f'{final.mean:.1f} +/- {final.std:.1f}':>16} {later:>12} "
            f"{run.train_seconds:>14.1f} {run.wall_seconds:>8.1f}")


def print_live(name: str, run: Run) -> Run:
    """Print ``run``'s line as soon as it is done (a long benchmark shows its progress)."""
    print(f"{f'[{name}]':<8}{row(run)}  [{load_line()}]", flush=True)
    return run


def report(name: str, runs: Sequence[Run], budget: int) -> dict[str, float]:
    """Print one line per seed and a summary; return the medians of the two moments.

    Returns:
        ``{"first_steps", "first_seconds", "stable_steps", "stable_seconds"}``: medians over
        the seeds that got there (nan if none did).

    """
    print(f"\n{name}  [{load_line()}]")
    print(HEADER)
    for run in runs:
        print(row(run))
    summary = {}
    for moment, points in (("first", [r.first_solved for r in runs]),
                           ("stable", [r.stable_solved for r in runs])):
        reached = [p for p in points if p is not None]
        summary[f"{moment}_steps"] = _median([p.step for p in reached])
        summary[f"{moment}_seconds"] = _median([p.train_seconds for p in reached])
        label = ("first evaluation" if moment == "first"
                 else f"stable solve ({STREAK} evaluations in a row)")
        print(f"  {label} >= {SOLVED:g}: {len(reached)}/{len(runs)} seeds; median "
              f"{summary[f'{moment}_steps']:.0f} steps, {summary[f'{moment}_seconds']:.1f} s "
              "of training (over the seeds that got there)")
    finals = [r.evaluations[-1].mean for r in runs]
    shares = [r.later_share for r in runs if not np.isnan(r.later_share)]
    share = f"{np.mean(shares):.0%} on average, {min(shares):.0%} at worst" if shares else "-"
    print(f"  final evaluation after {budget} steps >= {SOLVED:g}: "
          f"{sum(f >= SOLVED for f in finals)}/{len(runs)} seeds (finals: "
          f"{', '.join(f'{f:.0f}' for f in finals)}); later evaluations >= {SOLVED:g}: {share}")
    return summary


def print_ratios(rlkit: dict[str, float], sb3: dict[str, float]) -> None:
    """Print rlkit / SB3 of the median seconds and steps to the first hit and the stable solve
    (the goal: <= 0.5 on both).
    """  # noqa: D205
    for moment, label in (("first", "first evaluation"), ("stable", "stable solve")):
        seconds = rlkit[f"{moment}_seconds"] / sb3[f"{moment}_seconds"]
        steps = rlkit[f"{moment}_steps"] / sb3[f"{moment}_steps"]
        print(f"rlkit / SB3, median to the {label} >= {SOLVED:g}: training seconds "
              f"{seconds:.2f}, env steps {steps:.2f}")
