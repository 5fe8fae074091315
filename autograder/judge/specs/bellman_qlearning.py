"""Check specs of notebook 02 (Bellman backups), part 6: tabular Q-learning without the model.

``epsilon_greedy`` is judged by the frequencies of many draws made in the box
(:func:`autograder.box.procedures.bellman.epsilon_run`) and counted here; as in ``mdps.py``,
every ``_bug_*`` is a self-contained plausible wrong implementation with its hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.box.procedures.bellman import epsilon_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, describe, register
from autograder.judge.specs.mdps_sampling import Unusable, reading
from rlkit import qlearning

# --- epsilon_greedy

_N_DRAWS = 4000
_N_AGAIN = 20  # draws, each with a fresh generator of the case's seed, in each of two runs
_FREQ_TOL = 5 * 0.5 / np.sqrt(_N_DRAWS)  # 5 binomial standard errors at worst (p = 1/2)


def _eps_probabilities(q_row: np.ndarray, epsilon: float) -> np.ndarray:
    best = np.flatnonzero(q_row == q_row.max())
    probs = np.full(len(q_row), epsilon / len(q_row))
    probs[best] += (1 - epsilon) / len(best)
    return probs


def _action(value: Any, n_actions: int) -> int:
    """One draw as an action index, or :class:`Unusable` saying what came instead."""
    try:
        ok = (np.ndim(value) == 0 and float(value) == int(value)
              and 0 <= int(value) < n_actions)
    except Exception:  # noqa: BLE001 - not a number
        ok = False
    if not ok:
        try:
            shown = value.item() if np.ndim(value) == 0 and hasattr(value, "item") else value
        except Exception:  # noqa: BLE001 - a hostile item()
            shown = value
        raise Unusable(f"returned {describe(shown, 80)}; expected an action index "
                       f"0..{n_actions - 1}")
    return int(value)


def _eps_frequencies(n_actions: int) -> Callable[[Any], np.ndarray]:
    """The frequency of each action among the draws (the seeded runs must agree)."""

    def read(raw: Any) -> np.ndarray:
        again = raw.get("again") if isinstance(raw, dict) else None
        if not (isinstance(raw, dict) and set(raw) == {"draws", "again"}
                and isinstance(raw["draws"], list) and len(raw["draws"]) == _N_DRAWS
                and isinstance(again, list) and len(again) == 2
                and all(isinstance(run, list) and len(run) == _N_AGAIN for run in again)):
            raise Unusable("the output did not come back from the case's procedure")
        counts = np.zeros(n_actions)
        for value in raw["draws"]:
            counts[_action(value, n_actions)] += 1
        first, second = ([_action(value, n_actions) for value in run] for run in again)
        if first != second:
            raise Unusable("two runs with generators of the same seed chose different "
                           "actions: draw all randomness from the given `rng`, not "
                           "np.random or random")
        return counts / _N_DRAWS

    return read


def _eps_case(name: str, q_row: list[float], epsilon: float, seed: int) -> Case:
    q = np.asarray(q_row, dtype=float)
    return Case(name, run=epsilon_run([float(x) for x in q], epsilon, seed, _N_DRAWS, _N_AGAIN),
                expected=_eps_probabilities(q, epsilon),
                compare=reading(_eps_frequencies(len(q)), allclose(rtol=0.0, atol=_FREQ_TOL)))


def _eps_cases() -> list[Case]:
    return [
        _eps_case("epsilon 0.1, 4 actions, a unique best", [0.0, 2.0, 1.0, -1.0], 0.1, 1),
        _eps_case("epsilon 0.5, 2 actions", [1.0, 0.0], 0.5, 2),
        _eps_case("epsilon 1: uniformly random", [3.0, 1.0, 2.0], 1.0, 3),
        _eps_case("epsilon 0: always greedy", [0.0, 0.0, 5.0], 0.0, 4),
        _eps_case("epsilon 0 with a tie: break ties at random", [1.0, 1.0, 0.0], 0.0, 5),
    ]


def _eps_hidden(rng: np.random.Generator) -> list[Case]:
    return [_eps_case("hidden: a random Q row", list(np.round(rng.normal(size=5), 1)),
                      float(rng.uniform(0.05, 0.6)), int(rng.integers(1 << 30)))]


def _bug_eps_never_explores(q_row, epsilon, rng):
    best = np.flatnonzero(q_row == q_row.max())
    return int(rng.choice(best))


def _bug_eps_explores_non_greedy(q_row, epsilon, rng):
    best = int(rng.choice(np.flatnonzero(q_row == q_row.max())))
    if rng.random() < epsilon:
        others = [a for a in range(len(q_row)) if a != best]
        return int(rng.choice(others)) if others else best
    return best


def _bug_eps_inverted(q_row, epsilon, rng):
    if rng.random() < 1 - epsilon:
        return int(rng.integers(len(q_row)))
    return int(rng.choice(np.flatnonzero(q_row == q_row.max())))


def _bug_eps_argmin(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmin(q_row))


def _bug_eps_first_tie(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmax(q_row))


def _bug_eps_always_random(q_row, epsilon, rng):
    return int(rng.integers(len(q_row)))


def _bug_eps_excludes_last(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row) - 1))
    best = np.flatnonzero(q_row == q_row.max())
    return int(rng.choice(best))


def _bug_eps_returns_value(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return float(q_row[rng.integers(len(q_row))])
    return float(q_row.max())


EPSILON_GREEDY = CheckSpec(
    name="bellman.epsilon_greedy",
    function="epsilon_greedy",
    points=2,
    reference=qlearning.epsilon_greedy,
    visible_cases=_eps_cases,
    hidden_cases=_eps_hidden,
    compare=allclose(rtol=0.0, atol=_FREQ_TOL),
    bugs=(
        Bug("never_explores", _bug_eps_never_explores,
            "With probability epsilon, pick a uniformly random action."),
        Bug("explores_non_greedy_only", _bug_eps_explores_non_greedy,
            "The random action is drawn from ALL actions, the greedy one included, so the "
            "greedy action has probability 1 - epsilon + epsilon / |A|."),
        Bug("inverted", _bug_eps_inverted,
            "Explore with probability epsilon, exploit with probability 1 - epsilon."),
        Bug("argmin", _bug_eps_argmin, "The greedy action maximises Q."),
        Bug("first_tie", _bug_eps_first_tie,
            "Break ties between equally good actions uniformly at random (np.argmax always "
            "picks the first)."),
        Bug("always_random", _bug_eps_always_random,
            "Only explore with probability epsilon; otherwise act greedily."),
        Bug("excludes_last_action", _bug_eps_excludes_last,
            "rng.integers(0, n) already excludes n: rng.integers(len(q_row) - 1) never "
            "explores the last action; use rng.integers(len(q_row))."),
        Bug("returns_value", _bug_eps_returns_value,
            "Return the action index (an int in 0..|A|-1), not its Q-value."),
    ),
    hint="Compared are the frequencies of each action over 4000 draws with the exact "
    "probabilities epsilon/|A| + (1 - epsilon)/|best| for the best actions. Use `rng`.",
)

# --- q_learning_update


def _update_cases() -> list[Case]:
    rng = np.random.default_rng(107)
    q = np.round(rng.normal(size=(4, 3)), 2)
    return [
        Case("a non-terminal step", (q, 0, 1, 1.0, 2, False, 0.5, 0.9)),
        Case("a terminal step: no bootstrap", (q, 1, 2, -1.0, 3, True, 0.5, 0.9)),
        Case("gamma 0: the target is the reward", (q, 2, 0, 2.0, 1, False, 0.1, 0.0)),
        Case("gamma 1, alpha 1: Q(s,a) becomes the target", (q, 3, 1, 0.5, 0, False, 1.0, 1.0)),
        Case("a self-loop s' = s", (q, 2, 2, 0.3, 2, False, 0.2, 0.95)),
    ]


def _update_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(4):
        q = rng.normal(size=(6, 3))
        s, s2 = (int(x) for x in rng.integers(0, 6, size=2))
        cases.append(Case(f"hidden: a random transition {i}",
                          (q, s, int(rng.integers(3)), float(rng.normal()), s2, bool(i % 2),
                           float(rng.uniform(0.05, 1)), float(rng.uniform(0.5, 1)))))
    return cases


def _bug_ql_no_terminal_mask(q_values, state, action, reward, next_state, terminated, alpha,
                             gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def _bug_ql_same_action(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[next_state, action]
    q[state, action] += alpha * (target - q[state, action])
    return q


def _bug_ql_current_state_row(q_values, state, action, reward, next_state, terminated, alpha,
                              gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def _bug_ql_no_alpha(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    q[state, action] = reward + gamma * (1 - terminated) * q[next_state].max()
    return q


def _bug_ql_forgot_gamma(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + (1 - terminated) * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def _bug_ql_whole_row(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[next_state].max()
    q[state] += alpha * (target - q[state])
    return q


def _bug_ql_wrong_sign(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[next_state].max()
    q[state, action] += alpha * (q[state, action] - target)
    return q


Q_LEARNING_UPDATE = CheckSpec(
    name="bellman.q_learning_update",
    function="q_learning_update",
    points=2,
    reference=qlearning.q_learning_update,
    visible_cases=_update_cases,
    hidden_cases=_update_hidden,
    bugs=(
        Bug("no_terminal_mask", _bug_ql_no_terminal_mask,
            "When `terminated`, the target is just r: multiply the bootstrap by "
            "(1 - terminated)."),
        Bug("same_action", _bug_ql_same_action,
            "Q-learning bootstraps from the best next action, max_{a'} Q(s', a')."),
        Bug("current_state_row", _bug_ql_current_state_row,
            "Bootstrap from the NEXT state: max_{a'} Q(next_state, a'), not the row of "
            "`state`."),
        Bug("no_learning_rate", _bug_ql_no_alpha,
            "Move Q(s,a) a step alpha towards the target; do not overwrite it."),
        Bug("forgot_gamma", _bug_ql_forgot_gamma, "Discount max_{a'} Q(s', a') by gamma."),
        Bug("whole_row", _bug_ql_whole_row, "Update only the entry Q(s, a) that was tried."),
        Bug("wrong_sign", _bug_ql_wrong_sign,
            "The update is Q(s,a) + alpha (target - Q(s,a)): towards the target."),
    ),
    hint="Q(s,a) <- Q(s,a) + alpha [r + gamma (1 - terminated) max_{a'} Q(s',a') - Q(s,a)], "
    "returned as a new (S, A) table.",
)

register(
    EPSILON_GREEDY,
    Q_LEARNING_UPDATE,
)
