"""Inputs shared by the check specs: the lecture's GridWorld and random MDPs and policies.

Inputs are built inside the submission's sandbox too, where the references of the notebook
being graded are withheld (:mod:`autograder.judge.withhold`), so no input here may come from one of
them: V* of the lecture's worlds is the exact value of their known optimal policies (exact
policy evaluation is notebook 01's, never withheld with notebook 02's Bellman backups;
``tests/test_withhold.py`` checks the policies are optimal).
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np

from rlkit import GridWorld, TabularMDP, dp
from rlkit.mdp import random_mdp


@cache
def gridworld(noise: float = 0.2, gamma: float = 0.9, living_reward: float = 0.0) -> GridWorld:
    """The lecture's 4x3 GridWorld (cached: it is read-only)."""
    return GridWorld(noise=noise, gamma=gamma, living_reward=living_reward)


def lecture_mdp(noise: float = 0.2, gamma: float = 0.9, living_reward: float = 0.0) -> TabularMDP:
    """The lecture's GridWorld as a ``TabularMDP`` (success 0.8, slips 0.1/0.1, gamma 0.9)."""
    return gridworld(noise, gamma, living_reward).mdp


def small_mdp(
    rng: np.random.Generator, *, gamma: float | None = None, n_terminal: int = 1
) -> TabularMDP:
    """A random MDP with 3-7 states, 2-4 actions and some terminal states."""
    n_states = int(rng.integers(3, 8))
    n_actions = int(rng.integers(2, 5))
    gamma = float(rng.uniform(0.5, 0.95)) if gamma is None else gamma
    return random_mdp(n_states, n_actions, gamma=gamma, rng=rng, n_terminal=n_terminal)


def rewarding_terminal_mdp(seed: int = 7) -> TabularMDP:
    """A random MDP (gamma 0.8) whose terminal states' own transitions carry rewards.

    Those rewards are never earned (an episode ends on entering a terminal state): a backup or
    an evaluation must give V = 0 there whatever ``R`` holds in their rows.
    """
    rng = np.random.default_rng(seed)
    mdp = small_mdp(rng, gamma=0.8, n_terminal=2)
    rewards = np.array(mdp.R, dtype=float)
    rewards[mdp.terminal] = rng.uniform(1.0, 3.0, size=rewards[mdp.terminal].shape)
    return dataclasses.replace(mdp, R=rewards)


def stochastic_policy(rng: np.random.Generator, n_states: int, n_actions: int) -> np.ndarray:
    """A random stochastic policy pi[s, a] (rows sum to 1)."""
    return rng.dirichlet(np.ones(n_actions), size=n_states)


def deterministic_policy(rng: np.random.Generator, n_states: int, n_actions: int) -> np.ndarray:
    """A random deterministic policy: one action index per state."""
    return rng.integers(0, n_actions, size=n_states)


def values(rng: np.random.Generator, mdp: TabularMDP, scale: float = 1.0) -> np.ndarray:
    """A random value vector, non-zero at terminal states too.

    A backup must ignore whatever a value vector holds at terminal states (they never
    bootstrap), so the checks feed such vectors on purpose.
    """
    return rng.normal(0.0, scale, size=mdp.n_states)


#: an optimal policy of the lecture's GridWorld (noise 0.2, gamma 0.9) by living reward.
LECTURE_OPTIMAL_POLICIES = {
    0.0: (1, 1, 1, 0, 0, 0, 0, 0, 3, 0, 3, 0),
    -2.0: (1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0),
}


def lecture_v_star(living_reward: float = 0.0) -> np.ndarray:
    """V* of the lecture's GridWorld: the exact value of its optimal policy."""
    policy = np.array(LECTURE_OPTIMAL_POLICIES[living_reward])
    return dp.policy_evaluation_exact(lecture_mdp(living_reward=living_reward), policy)


def first_sweep(mdp: TabularMDP) -> np.ndarray:
    """V_1 = max_a r(s, a) (0 at terminal states): value iteration's first sweep from V_0 = 0."""
    return np.where(mdp.terminal, 0.0, mdp.expected_rewards.max(axis=1))
