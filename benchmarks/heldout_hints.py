"""How many held-out bugs the checks catch, and how many hints name the mistake.

Run:  .venv/bin/python benchmarks/heldout_hints.py [--seed 20261121] [--misses]

Grades every function of ``tests/heldout_bugs.py`` (plausible bugs written from the notebooks'
text, none taken from the checks' banks) as the grader does (visible and hidden cases) and prints,
per notebook: bugs caught (the check fails), and the share of the caught ones whose hint names the
mistake (contains the keywords listed with the bug). ``--misses`` also lists each bug that is not
caught or not named, with the hint it got. Not a test: it prints figures
(``tests/test_heldout_bugs.py`` asserts the thresholds).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.judge import get_spec, run_check  # noqa: E402
from tests.heldout_bugs import HELDOUT  # noqa: E402

NOTEBOOKS = {"mdps": "01", "bellman": "02", "dqn": "03", "reinforce": "04", "actor_critic": "05",
             "ppo": "06", "rlhf": "07", "alphago": "08"}


@dataclass(frozen=True)
class Outcome:
    """How one held-out bug was graded."""

    spec: str
    label: str
    caught: bool
    named: bool
    hint: str


def grade(seed: int | None = None) -> list[Outcome]:
    """Grade every held-out bug; ``named`` means its hint holds all the bug's keywords."""
    outcomes = []
    for name, bugs in HELDOUT.items():
        spec = get_spec(name)
        for label, fn, keywords in bugs:
            report = run_check(spec, fn, grading=True, seed=seed)
            hint = report.hint or ""
            named = not report.passed and all(k.lower() in hint.lower() for k in keywords)
            outcomes.append(Outcome(name, label, not report.passed, named, hint))
    return outcomes


def summary(outcomes: list[Outcome]) -> list[str]:
    """Lines with caught and named per notebook, then overall."""
    lines = []
    groups = {nb: [o for o in outcomes if o.spec.split(".")[0] == topic]
              for topic, nb in NOTEBOOKS.items()}
    groups["all"] = outcomes
    for nb, group in groups.items():
        caught = [o for o in group if o.caught]
        named = sum(o.named for o in caught)
        share = named / len(caught) if caught else 0.0
        lines.append(f"{nb:>4}: caught {len(caught)}/{len(group)}, named {named}/{len(caught)} "
                     f"({100 * share:.0f} %)")
    return lines


def main() -> None:
    """Print the figures (and the misses with ``--misses``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="grading seed (default: grader)")
    parser.add_argument("--misses", action="store_true", help="list bugs not caught or not named")
    args = parser.parse_args()
    outcomes = grade(args.seed)
    if args.misses:
        for o in outcomes:
            if not o.named:
                status = "NOT CAUGHT" if not o.caught else "not named"
                print(f"{status}: {o.spec} / {o.label}\n    hint: {o.hint[:300]}")
    print("\n".join(summary(outcomes)))


if __name__ == "__main__":
    main()
