"""Check specs of notebook 01 (MDPs) that sample episodes: run_episode, monte_carlo_value.

Their cases run box procedures (:mod:`autograder.box.procedures.mdps`) that call the student's
function twice with the same seed and return both what it gave and what the judge needs to tell
a function that ignores its seed; :func:`reading` judges such raw outputs here. As in
``mdps.py``, every ``_bug_*`` is a self-contained plausible wrong implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.box.procedures.mdps import episode_run, twice_run
from autograder.judge import fixtures
from autograder.judge.core import (
    Bug,
    Case,
    CheckSpec,
    Comparator,
    Deferred,
    allclose,
    deferred_compare,
    register,
    type_name,
)
from autograder.judge.specs.mdps import _east_policy
from rlkit import dp, sampling
from rlkit.mdp import TabularMDP

# --- judging what a procedure returned


class Unusable(Exception):
    """A raw output the judge cannot use (e.g. two seeded runs disagree); says why."""


def _raw(value: Any) -> bool:
    return isinstance(value, dict | tuple | list)


def reading(read: Callable[[Any], Any], compare: Comparator,
            raw: Callable[[Any], bool] = _raw) -> Comparator:
    """A comparator of raw outputs: the judge's ``read`` of each, then ``compare``.

    ``read`` turns what the function (or a procedure) gave into the value to compare, or raises
    :class:`Unusable`, whose message is the case's problem. ``got`` is always read (the box
    may send anything); ``expected`` is read when ``raw(expected)`` (by default: a dict, tuple
    or list), i.e. when it is the reference's or a known bug's output, computed here, not an
    exact value. Two outputs unusable for the same reason match: a bug is named by the problem
    it causes.
    """

    def judged(got: Any, expected: Any) -> str | None:
        try:
            value = read(got)
        except Unusable as problem:
            if raw(expected):
                try:
                    read(expected)
                except Unusable as other:
                    return None if str(other) == str(problem) else str(problem)
            return str(problem)
        if raw(expected):
            try:
                expected = read(expected)
            except Unusable as other:
                return f"the output is usable where this one is not ({other})"
        return compare(value, expected)

    return judged


# --- monte_carlo_value


def _return_std(mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
    """The exact standard deviation of the discounted return from each state.

    The second moment M(s) = E[G^2 | s_0 = s] solves the Bellman-like system
    M(s) = sum_a pi sum_s' P [R^2 + 2 gamma R V(s') + gamma^2 M(s')] (0 at terminals).
    """
    v = dp.policy_evaluation_exact(mdp, policy)
    keep = ~mdp.terminal
    w = np.einsum("sa,sat->sat", policy, mdp.P)
    p_pi = w.sum(axis=1)[np.ix_(keep, keep)]
    rhs = np.einsum("sat,sat->s", w, mdp.R**2 + 2 * mdp.gamma * mdp.R * v[None, None, :])[keep]
    m = np.zeros(mdp.n_states)
    m[keep] = np.linalg.solve(np.eye(keep.sum()) - mdp.gamma**2 * p_pi, rhs)
    return np.sqrt(np.maximum(m - v**2, 0.0))


def _same_estimates(raw: Any) -> Any:
    """The first estimate of a run done twice with the same seed (they must be equal)."""
    if not isinstance(raw, dict) or set(raw) != {"estimate", "again"}:
        raise Unusable("the output did not come back from the case's procedure")
    first, again = raw["estimate"], raw["again"]
    try:
        same = np.array_equal(np.asarray(first), np.asarray(again))
    except Exception:  # noqa: BLE001 - not comparable: told by the comparison below
        same = True
    if not same:
        raise Unusable("two runs with generators of the same seed gave different estimates: "
                       "draw every episode from the given `rng`")
    return first


def _mc_case(name: str, mdp: TabularMDP, policy: np.ndarray, state: int, n: int,
             seed: int, twice: bool = False) -> Case:
    # The exact value and the bound are computed by the judge only (Deferred): the exact
    # evaluation is this notebook's own graded function, withheld in the submission's sandbox.
    # 5 standard errors (plus a little for the 1000-step cut-off): the reference passes
    # with probability > 1 - 1e-6, a biased estimator does not.
    compare = deferred_compare(lambda: allclose(
        rtol=0.0, atol=5.0 * _return_std(mdp, policy)[state] / np.sqrt(n) + 1e-3))
    return Case(
        name,
        args=() if twice else (mdp, policy, state, n, np.random.default_rng(seed)),
        run=twice_run(mdp, policy, state, n, seed) if twice else None,
        expected=Deferred(lambda: dp.policy_evaluation_exact(mdp, policy)[state]),
        compare=reading(_same_estimates, compare) if twice else compare,
    )


def _mc_cases() -> list[Case]:
    mdp, policy = _east_policy()
    gw = fixtures.gridworld()
    rng = np.random.default_rng(41)
    small = fixtures.small_mdp(rng, gamma=0.8)
    return [
        _mc_case("GridWorld, the good policy, from (1,1), 2000 episodes", mdp, policy,
                 gw.state_index((1, 1)), 2000, 1),
        _mc_case("GridWorld, the good policy, from (3,2), 2000 episodes", mdp, policy,
                 gw.state_index((3, 2)), 2000, 2),
        _mc_case("a random 'small' MDP, 3000 episodes", small,
                 fixtures.stochastic_policy(rng, small.n_states, small.n_actions),
                 int(np.flatnonzero(~small.terminal)[0]), 3000, 3),
        _mc_case("a single episode (the mean of one return)", mdp, policy,
                 gw.state_index((1, 1)), 1, 4),
        _mc_case("20 episodes, run twice with generators of the same seed", mdp, policy,
                 gw.state_index((1, 1)), 20, 5, twice=True),
    ]


def _mc_hidden(rng: np.random.Generator) -> list[Case]:
    mdp = fixtures.small_mdp(rng, gamma=0.8)
    policy = fixtures.stochastic_policy(rng, mdp.n_states, mdp.n_actions)
    state = int(rng.choice(np.flatnonzero(~mdp.terminal)))
    return [_mc_case("hidden: random MDP, 3000 episodes", mdp, policy, state, 3000,
                     int(rng.integers(1 << 30)))]


def _bug_mc_undiscounted(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total = 0.0
    for _ in range(n_episodes):
        total += float(np.sum(sample_trajectory(mdp, policy, rng, start_state=state).rewards))
    return total / n_episodes


# The bugs discount by hand, as a student would: rlkit's discounted_return is withheld while
# notebook 01 is graded.


def _bug_mc_starts_from_mu(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    returns = [np.polynomial.polynomial.polyval(mdp.gamma, sample_trajectory(
        mdp, policy, rng).rewards) for _ in range(n_episodes)]
    return float(np.mean(returns))


def _bug_mc_first_reward(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    returns = [sample_trajectory(mdp, policy, rng, start_state=state).rewards[0]
               for _ in range(n_episodes)]
    return float(np.mean(returns))


def _bug_mc_sum_not_mean(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total = 0.0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        total += sum(mdp.gamma**t * r for t, r in enumerate(rewards))
    return float(total)


def _bug_mc_one_episode(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
    return float(sum(mdp.gamma**t * r for t, r in enumerate(rewards)))


def _bug_mc_mean_over_steps(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total, steps = 0.0, 0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        total += float(np.sum(mdp.gamma ** np.arange(len(rewards)) * rewards))
        steps += len(rewards)
    return total / steps


def _bug_mc_last_episode(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    g = 0.0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        g = float(np.sum(mdp.gamma ** np.arange(len(rewards)) * rewards))
    return g


MONTE_CARLO_VALUE = CheckSpec(
    name="mdps.monte_carlo_value",
    function="monte_carlo_value",
    points=2,
    reference=sampling.monte_carlo_value,
    visible_cases=_mc_cases,
    hidden_cases=_mc_hidden,
    compare=allclose(atol=0.0, rtol=0.0),
    bugs=(
        Bug("undiscounted", _bug_mc_undiscounted,
            "Average the DISCOUNTED return G_0 = sum_t gamma^t r_t of each episode."),
        Bug("starts_from_mu", _bug_mc_starts_from_mu,
            "Start every episode in the given `state` (start_state=state), not from mu."),
        Bug("first_reward", _bug_mc_first_reward,
            "The return adds up the rewards of the whole episode, not just the first one."),
        Bug("sum_not_mean", _bug_mc_sum_not_mean,
            "Divide by the number of episodes: the estimate is the sample MEAN of returns."),
        Bug("one_episode", _bug_mc_one_episode,
            "One episode is a very noisy estimate: average over all n_episodes."),
        Bug("mean_over_steps", _bug_mc_mean_over_steps,
            "Divide by the number of episodes, not by the number of steps: the estimate is "
            "the mean of one return per episode."),
        Bug("last_episode", _bug_mc_last_episode,
            "You kept only the last episode's return: average the returns of all n_episodes "
            "episodes."),
    ),
    hint="The estimate must be within 5 standard errors of the exact V^pi(state) (the case's "
    "'expected'). Use the given rng for all sampling.",
)

# --- run_episode


def _episode_rewards(raw: Any) -> np.ndarray:
    """The rewards of the first of two episodes with the same seed (they must match)."""
    if not isinstance(raw, dict) or set(raw) != {"rewards", "visited"}:
        raise Unusable("the output did not come back from the case's procedure")
    visited = raw["visited"]
    if not (isinstance(visited, list) and len(visited) == 2 and visited[0] == visited[1]):
        raise Unusable("two runs with the same seed gave different episodes: reset the env "
                       "with env.reset(seed=seed)")
    try:
        return np.asarray(raw["rewards"], dtype=float)
    except Exception:  # noqa: BLE001 - not numbers
        raise Unusable(f"expected the episode's rewards as a 1-D array of numbers, got "
                       f"{type_name(raw['rewards'])}") from None


def _episode_case(name: str, policy: np.ndarray, seed: int, max_episode_steps: int = 100,
                  noise: float = 0.2, living_reward: float = 0.0) -> Case:
    # Two runs with the same seed on fresh envs must visit the same states: an episode that
    # ignores the seed would otherwise pass now and then by luck.
    return Case(name, run=episode_run(policy, seed, max_episode_steps, noise, living_reward))


def _wandering_policy() -> np.ndarray:
    """A fixed policy that rarely exits, so its episodes differ a lot from seed to seed."""
    return np.random.default_rng(5).integers(0, 4, size=fixtures.lecture_mdp().n_states)


def _episode_cases() -> list[Case]:
    _, good = _east_policy()
    good_actions = good.argmax(axis=1)
    stuck = np.full(good.shape[0], 3)  # always W: bumps into the west wall forever
    return [  # the wandering case first: its episodes tell a seeded loop from an unseeded one
        _episode_case("GridWorld, a wandering policy, seed 3", _wandering_policy(), 3),
        _episode_case("GridWorld, the good policy, seed 0", good_actions, 0),
        _episode_case("GridWorld, the good policy, seed 7", good_actions, 7),
        _episode_case("deterministic moves: (1,1) to the +1 exit in 5 moves + exit",
                      good_actions, 0, noise=0.0),
        _episode_case("a policy that never reaches an exit, time limit 15 (truncation)",
                      stuck, 1, max_episode_steps=15),
        _episode_case("the lecture's living reward -0.04 on every move, the good policy",
                      good_actions, 4, living_reward=-0.04),
    ]


def _episode_hidden(rng: np.random.Generator) -> list[Case]:
    policy = rng.integers(0, 4, size=fixtures.lecture_mdp().n_states)
    return [_episode_case(f"hidden: a random policy, seed {s}", policy, int(s),
                          max_episode_steps=int(rng.integers(10, 40)))
            for s in rng.integers(1 << 30, size=2)]


def _bug_episode_no_seed(env, policy, seed):
    obs, _ = env.reset()
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        rewards.append(reward)
        if terminated or truncated:
            return np.array(rewards)


def _bug_episode_ignores_truncation(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        rewards.append(reward)
        if terminated:
            return np.array(rewards)


def _bug_episode_drops_last(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        if terminated or truncated:
            return np.array(rewards)
        rewards.append(reward)


def _bug_episode_stale_obs(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    first = obs
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[first]))
        rewards.append(reward)
        if terminated or truncated:
            return np.array(rewards)


def _bug_episode_one_step(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
    return np.array([reward])


RUN_EPISODE = CheckSpec(
    name="mdps.run_episode",
    function="run_episode",
    points=2,
    reference=sampling.run_episode,
    visible_cases=_episode_cases,
    hidden_cases=_episode_hidden,
    compare=reading(_episode_rewards, allclose()),
    bugs=(
        Bug("no_seed", _bug_episode_no_seed,
            "Call env.reset(seed=seed) so that the episode is reproducible."),
        Bug("ignores_truncation", _bug_episode_ignores_truncation,
            "An episode also ends when `truncated` is True (the time limit)."),
        Bug("drops_last_reward", _bug_episode_drops_last,
            "Record the reward of the last step too, before leaving the loop."),
        Bug("stale_obs", _bug_episode_stale_obs,
            "Choose each action from the NEW observation that step() returned."),
        Bug("one_step", _bug_episode_one_step,
            "Loop until the episode ends: `terminated or truncated`."),
    ),
    hint="obs, info = env.reset(seed=seed); then repeat obs, r, terminated, truncated, info = "
    "env.step(int(policy[obs])) and keep every r, until terminated or truncated.",
)

register(
    MONTE_CARLO_VALUE,
    RUN_EPISODE,
)
