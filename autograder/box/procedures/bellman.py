"""The procedures of notebook 02's checks (Bellman backups): policy iteration, epsilon-greedy.

Each returns what the student's function gave, raw; the judge
(:mod:`autograder.judge.specs.bellman`, :mod:`autograder.judge.specs.bellman_qlearning`)
evaluates it and compares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.box.calls import procedure


@procedure("bellman.policy_iteration")
def policy_iteration_run(fn: Any, mdp: Any) -> dict[str, Any]:
    """``policy_iteration(mdp)``'s policy and values, by name (the whole output if not a pair)."""
    output = fn(mdp)
    try:
        policy, values = output
    except Exception:  # noqa: BLE001 - not a pair: the judge says so
        return {"output": output}
    return {"policy": policy, "values": values}


@procedure("bellman.epsilon_draws")
def epsilon_run(fn: Any, q_row: list[float], epsilon: float, seed: int, n_draws: int,
                n_again: int) -> dict[str, Any]:
    """Many draws of ``epsilon_greedy`` with one generator, and two seeded runs of a few.

    ``"draws"``: ``n_draws`` actions, all drawn with one generator of ``seed`` (their
    frequencies are judged); ``"again"``: twice ``n_again`` actions, each drawn with a fresh
    generator of ``seed`` (the two runs must agree).
    """
    q = np.asarray(q_row, dtype=float)
    rng = np.random.default_rng(seed)
    draws = [fn(q.copy(), epsilon, rng) for _ in range(n_draws)]
    again = [[fn(q.copy(), epsilon, np.random.default_rng(seed)) for _ in range(n_again)]
             for _ in range(2)]
    return {"draws": draws, "again": again}
