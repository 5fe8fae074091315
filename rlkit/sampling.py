r"""Returns, trajectories and Monte Carlo estimates on a tabular MDP.

The return of a trajectory is :math:`G_0 = \sum_{t=0}^{T-1} \gamma^t r_t`, and its reward-to-go
:math:`G_t = r_t + \gamma G_{t+1}` (with :math:`G_T = 0`). All sampling takes an explicit
``np.random.Generator`` (or a seed).
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from rlkit.dp import policy_matrix
from rlkit.mdp import FloatArray, IntArray, TabularMDP
from rlkit.seeding import make_rng

__all__ = [
    "Trajectory",
    "discounted_return",
    "discounted_returns",
    "monte_carlo_value",
    "monte_carlo_values",
    "run_episode",
    "sample_categorical",
    "sample_trajectory",
    "trajectory_probability",
]


class Trajectory(NamedTuple):
    """One episode ``s_0, a_0, r_0, s_1, ..., s_T``.

    Attributes:
        states: ``s_0..s_T``, int array of length ``T + 1``.
        actions: ``a_0..a_{T-1}``, int array of length ``T``.
        rewards: ``r_0..r_{T-1}`` with ``r_t = R(s_t, a_t, s_{t+1})``, float array of length
            ``T``.
        terminated: True if ``s_T`` is terminal; False if the episode was cut at
            ``max_steps`` (truncated: ``s_T`` still has a value to bootstrap from).

    """

    states: IntArray
    actions: IntArray
    rewards: FloatArray
    terminated: bool


def discounted_returns(rewards: npt.ArrayLike, gamma: float) -> FloatArray:
    r"""Reward-to-go :math:`G_t = \sum_{k \ge t} \gamma^{k-t} r_k` for every ``t``.

    Computed backwards with :math:`G_t = r_t + \gamma G_{t+1}`, :math:`G_T = 0`.

    Args:
        rewards: ``r_0..r_{T-1}``, shape ``(T,)``.
        gamma: Discount factor in ``[0, 1]``.

    Returns:
        ``[G_0, ..., G_{T-1}]``, shape ``(T,)``.

    Example:
        >>> discounted_returns([1.0, 1.0, 1.0], 0.5)  # [1 + .5 + .25, 1 + .5, 1]
        array([1.75, 1.5 , 1.  ])

    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"rewards must be 1-D (one per step); got shape {r.shape}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1]; got {gamma}")
    returns = np.zeros_like(r)
    future = 0.0
    for t in range(len(r) - 1, -1, -1):
        future = r[t] + gamma * future
        returns[t] = future
    return returns


def discounted_return(rewards: npt.ArrayLike, gamma: float) -> float:
    r"""Discounted return :math:`G_0 = \sum_{t=0}^{T-1} \gamma^t r_t` (0 for no rewards).

    Example:
        >>> discounted_return([0.0, 0.0, 1.0], 0.9)  # 0.9 ** 2
        0.81

    """
    returns = discounted_returns(rewards, gamma)
    return float(returns[0]) if returns.size else 0.0


def sample_categorical(probabilities: npt.ArrayLike, rng: np.random.Generator) -> int:
    """Draw one index from a probability vector (inverse-CDF, one uniform draw).

    Example:
        >>> sample_categorical([0.0, 1.0, 0.0], np.random.default_rng(0))
        1

    """
    cdf = np.cumsum(probabilities)
    # Clip guards against cdf[-1] landing a hair below 1 through rounding.
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(cdf) - 1))


def sample_trajectory(
    mdp: TabularMDP,
    policy: npt.ArrayLike,
    rng: np.random.Generator | int,
    *,
    max_steps: int = 1000,
    start_state: int | None = None,
) -> Trajectory:
    r"""Roll out ``policy`` in ``mdp`` and return the episode.

    :math:`s_0 \sim \mu`, :math:`a_t \sim \pi(\cdot|s_t)`, :math:`s_{t+1} \sim P(\cdot|s_t,a_t)`.

    The episode stops on entering a terminal state (``terminated=True``) or after
    ``max_steps`` steps (``terminated=False``). Starting in a terminal state gives an empty
    episode.

    Args:
        mdp: The MDP.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.
        rng: Generator or seed.
        max_steps: Maximum number of steps ``T``.
        start_state: ``s_0``; drawn from ``mdp.mu`` when None.

    Returns:
        A :class:`Trajectory`.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])  # state 0 -> state 1 (terminal)
        >>> mdp = TabularMDP(P=P, R=np.ones((2, 1, 2)), gamma=0.9, mu=[1.0, 0.0],
        ...                  terminal=[False, True])
        >>> trajectory = sample_trajectory(mdp, [0, 0], rng=0)
        >>> trajectory.states.tolist(), trajectory.rewards.tolist(), trajectory.terminated
        ([0, 1], [1.0], True)

    """
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0; got {max_steps}")
    generator = make_rng(rng)
    pi = policy_matrix(policy, mdp.n_actions)
    if pi.shape[0] != mdp.n_states:
        raise ValueError(f"policy covers {pi.shape[0]} states; the MDP has {mdp.n_states}")
    if start_state is None:
        state = sample_categorical(mdp.mu, generator)
    elif 0 <= start_state < mdp.n_states:
        state = int(start_state)
    else:
        raise ValueError(f"start_state must be in 0..{mdp.n_states - 1}; got {start_state}")
    states, actions, rewards = [state], [], []
    terminated = bool(mdp.terminal[state])
    while not terminated and len(actions) < max_steps:
        action = sample_categorical(pi[state], generator)
        next_state = sample_categorical(mdp.P[state, action], generator)
        actions.append(action)
        rewards.append(float(mdp.R[state, action, next_state]))
        states.append(next_state)
        state = next_state
        terminated = bool(mdp.terminal[state])
    return Trajectory(
        states=np.array(states, dtype=np.int64),
        actions=np.array(actions, dtype=np.int64),
        rewards=np.array(rewards, dtype=np.float64),
        terminated=terminated,
    )


def trajectory_probability(
    mdp: TabularMDP, states: npt.ArrayLike, actions: npt.ArrayLike, policy: npt.ArrayLike
) -> float:
    r"""Probability of a trajectory under ``policy``.

    .. math:: p(\tau) = \mu(s_0) \prod_{t=0}^{T-1} \pi(a_t|s_t) P(s_{t+1}|s_t,a_t)

    Args:
        mdp: The MDP.
        states: ``s_0..s_T``, length ``T + 1``.
        actions: ``a_0..a_{T-1}``, length ``T``.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.full((2, 1, 2), 0.5)
        >>> mdp = TabularMDP(P=P, R=np.zeros((2, 1, 2)), gamma=0.9, mu=[1.0, 0.0],
        ...                  terminal=[False, False])
        >>> trajectory_probability(mdp, [0, 1, 1], [0, 0], [0, 0])  # 1 * 0.5 * 0.5
        0.25

    """
    s = np.asarray(states, dtype=np.int64)
    a = np.asarray(actions, dtype=np.int64)
    if s.ndim != 1 or a.ndim != 1 or len(s) != len(a) + 1:
        raise ValueError(
            f"need len(states) == len(actions) + 1; got {len(s)} states and {len(a)} actions"
        )
    if s.size == 0:
        raise ValueError("states must contain at least s_0")
    if ((s < 0) | (s >= mdp.n_states)).any() or ((a < 0) | (a >= mdp.n_actions)).any():
        raise ValueError("states or actions out of range for this MDP")
    pi = policy_matrix(policy, mdp.n_actions)
    steps = pi[s[:-1], a] * mdp.P[s[:-1], a, s[1:]]
    return float(mdp.mu[s[0]] * np.prod(steps))


def monte_carlo_values(
    mdp: TabularMDP,
    policy: npt.ArrayLike,
    rng: np.random.Generator | int,
    *,
    n_episodes: int,
    max_steps: int = 1000,
) -> FloatArray:
    r"""Monte Carlo estimate of :math:`V^\pi(s)`: the mean return of episodes started in ``s``.

    For each non-terminal state ``s``, ``n_episodes`` episodes start at ``s`` and
    :math:`\hat V^\pi(s) = \frac{1}{n} \sum_i G_0^{(i)}` (the first visit of ``s`` is at
    ``t = 0``). Terminal states get 0. Episodes cut at ``max_steps`` are biased towards 0
    when ``gamma`` is close to 1.

    Args:
        mdp: The MDP.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.
        rng: Generator or seed.
        n_episodes: Episodes per state.
        max_steps: Step limit per episode.

    Returns:
        The estimate, shape ``(S,)``.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
        >>> mdp = TabularMDP(P=P, R=np.ones((2, 1, 2)), gamma=0.9, mu=[1.0, 0.0],
        ...                  terminal=[False, True])
        >>> monte_carlo_values(mdp, [0, 0], rng=0, n_episodes=3)
        array([1., 0.])

    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1; got {n_episodes}")
    generator = make_rng(rng)
    values = np.zeros(mdp.n_states)
    for state in np.flatnonzero(~mdp.terminal):
        values[state] = monte_carlo_value(
            mdp, policy, int(state), n_episodes, generator, max_steps=max_steps
        )
    return values


def monte_carlo_value(
    mdp: TabularMDP,
    policy: npt.ArrayLike,
    state: int,
    n_episodes: int,
    rng: np.random.Generator | int,
    *,
    max_steps: int = 1000,
) -> float:
    r"""Monte Carlo estimate of :math:`V^\pi(s)` for one state: the mean discounted return.

    .. math:: \hat V^\pi(s) = \frac{1}{N} \sum_{i=1}^{N} G_0^{(i)}, \quad s_0^{(i)} = s

    Its standard error shrinks like :math:`1/\sqrt{N}`.

    Args:
        mdp: The MDP.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.
        state: The start state ``s``.
        n_episodes: ``N``, at least 1.
        rng: Generator or seed; all sampling draws from it.
        max_steps: Step limit per episode.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
        >>> mdp = TabularMDP(P=P, R=np.ones((2, 1, 2)), gamma=0.9, mu=[1.0, 0.0],
        ...                  terminal=[False, True])
        >>> monte_carlo_value(mdp, [0, 0], 0, 5, rng=0)
        1.0

    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1; got {n_episodes}")
    generator = make_rng(rng)
    returns = [
        discounted_return(
            sample_trajectory(
                mdp, policy, generator, max_steps=max_steps, start_state=int(state)
            ).rewards,
            mdp.gamma,
        )
        for _ in range(n_episodes)
    ]
    return float(np.mean(returns))


def run_episode(env: gym.Env, policy: npt.ArrayLike, seed: int | None) -> FloatArray:
    """Play one episode of a Gymnasium env with a deterministic tabular policy.

    The agent-environment loop: ``reset(seed=seed)``, then act with ``policy[obs]`` on the
    latest observation until ``terminated or truncated``.

    Args:
        env: A Gymnasium env with a ``Discrete`` observation space.
        policy: One action index per observation, shape ``(S,)``.
        seed: Seed for ``env.reset``; makes the episode reproducible.

    Returns:
        The rewards ``r_0, ..., r_{T-1}``, the last one included.

    Example:
        >>> import gymnasium as gym
        >>> import rlkit
        >>> env = gym.make("rlkit/GridWorld-v0", noise=0.0)
        >>> policy = np.full(env.observation_space.n, 1)  # always E: from (1,1) to (4,1)...
        >>> rewards = run_episode(env, policy, seed=0)  # ...never exits: cut at 100 steps
        >>> len(rewards), float(rewards.sum())
        (100, 0.0)

    """
    actions = np.asarray(policy)
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(actions[obs]))
        rewards.append(float(reward))
        if terminated or truncated:
            return np.array(rewards, dtype=np.float64)
