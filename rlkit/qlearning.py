r"""Tabular Q-learning with epsilon-greedy exploration for Gymnasium envs with Discrete spaces.

Q-learning turns the Q-value iteration backup into a sampled, incremental update:

.. math::
    Q(s,a) \leftarrow Q(s,a) + \alpha\left[r + \gamma (1 - \text{terminated})
    \max_{a'} Q(s',a') - Q(s,a)\right]

Order of the file: settings, exploration, update, training loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.mdp import FloatArray, IntArray

__all__ = [
    "QLearningConfig",
    "QLearningResult",
    "epsilon_greedy",
    "linear_epsilon",
    "q_learning",
    "q_learning_update",
]


@dataclass(frozen=True)
class QLearningConfig:
    """Settings of :func:`q_learning`.

    Example:
        >>> QLearningConfig(n_episodes=50).alpha
        0.1

    """

    n_episodes: int = 500
    """Number of training episodes (hundreds for the 4x3 GridWorld, thousands for Taxi)."""
    alpha: float = 0.1
    """Learning rate alpha in (0, 1]; typically 0.05 to 0.5."""
    gamma: float = 0.9
    """Discount factor gamma in [0, 1]; typically 0.9 to 0.99."""
    epsilon_start: float = 1.0
    """Exploration rate epsilon at episode 0, in [0, 1] (1.0 = act uniformly at random)."""
    epsilon_end: float = 0.05
    """Final exploration rate epsilon, in [0, 1]; typically 0.01 to 0.1."""
    epsilon_decay_episodes: int = 300
    """Episodes over which epsilon decays linearly from start to end (>= 0)."""
    max_steps: int = 200
    """Step limit per episode; hitting it truncates (the last update still bootstraps)."""

    def __post_init__(self) -> None:
        if self.n_episodes < 1:
            raise ValueError(f"n_episodes must be >= 1; got {self.n_episodes}")
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1]; got {self.alpha}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1]; got {self.gamma}")
        for name in ("epsilon_start", "epsilon_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.epsilon_decay_episodes < 0:
            raise ValueError(
                f"epsilon_decay_episodes must be >= 0; got {self.epsilon_decay_episodes}"
            )
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1; got {self.max_steps}")


@dataclass(frozen=True, eq=False)
class QLearningResult:
    """Output of :func:`q_learning`.

    Attributes:
        q_values: Learned table ``Q``, shape ``(S, A)``.
        episode_returns: Undiscounted sum of rewards per episode, shape ``(n_episodes,)``.
        episode_lengths: Steps per episode, shape ``(n_episodes,)``.
        epsilons: Exploration rate used in each episode, shape ``(n_episodes,)``.

    """

    q_values: FloatArray
    episode_returns: FloatArray
    episode_lengths: IntArray
    epsilons: FloatArray


def linear_epsilon(episode: int, config: QLearningConfig) -> float:
    r"""Linearly decayed exploration rate.

    .. math:: \epsilon_e = \epsilon_{start} + \min(1, e / E)(\epsilon_{end} - \epsilon_{start})

    with ``E = config.epsilon_decay_episodes`` (``E = 0``: always ``epsilon_end``).

    Example:
        >>> config = QLearningConfig(epsilon_start=1.0, epsilon_end=0.0, epsilon_decay_episodes=4)
        >>> [linear_epsilon(e, config) for e in range(6)]
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]

    """
    if config.epsilon_decay_episodes == 0:
        return float(config.epsilon_end)
    fraction = min(1.0, episode / config.epsilon_decay_episodes)
    return float(config.epsilon_start + fraction * (config.epsilon_end - config.epsilon_start))


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Pick an action epsilon-greedily from one row ``Q(s, .)``.

    With probability ``epsilon`` a uniformly random action; otherwise a greedy one, with ties
    broken uniformly at random (an all-zero initial table would otherwise always pick
    action 0 and never explore when ``epsilon`` is small).

    Args:
        q_row: ``Q(s, .)``, shape ``(A,)``.
        epsilon: Exploration probability in ``[0, 1]``.
        rng: The Generator all choices are drawn from.

    Returns:
        An action index.

    Example:
        >>> epsilon_greedy(np.array([0.0, 2.0, 1.0]), 0.0, np.random.default_rng(0))
        1

    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1]; got {epsilon}")
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == np.max(q_row))
    return int(rng.choice(best))


def q_learning_update(
    q_values: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminated: bool,
    alpha: float,
    gamma: float,
) -> np.ndarray:
    r"""One Q-learning step; returns a **new** table (the input is not modified).

    .. math::
        Q(s,a) \leftarrow Q(s,a) + \alpha\left[r + \gamma (1 - \text{terminated})
        \max_{a'} Q(s',a') - Q(s,a)\right]

    Pass ``terminated`` only (never ``truncated``): after a time limit the next state still
    has a value, so the target bootstraps.

    Example:
        >>> q = np.zeros((2, 2)); q[1] = [1.0, 3.0]
        >>> q_learning_update(q, 0, 1, 1.0, 1, False, alpha=0.5, gamma=0.9)[0]  # .5*(1+.9*3)
        array([0.  , 1.85])
        >>> q_learning_update(q, 0, 1, 1.0, 1, True, alpha=0.5, gamma=0.9)[0]  # no bootstrap
        array([0. , 0.5])

    """
    td_target = reward + gamma * (1.0 - float(terminated)) * np.max(q_values[next_state])
    updated = np.array(q_values, dtype=np.float64, copy=True)
    updated[state, action] += alpha * (td_target - updated[state, action])
    return updated


def q_learning(
    env: Any,
    config: QLearningConfig = QLearningConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    update_fn: Callable[..., np.ndarray] = q_learning_update,
    policy_fn: Callable[[np.ndarray, float, np.random.Generator], int] = epsilon_greedy,
    progress: bool = False,
) -> QLearningResult:
    """Train a Q-table on ``env`` with epsilon-greedy Q-learning.

    Steps: seed (env reset on the first episode with ``seed``, actions from
    ``np.random.default_rng(seed)``), table, then for each episode: act, step, update,
    until terminated, truncated or ``config.max_steps``.

    Args:
        env: A Gymnasium env with ``Discrete`` observation and action spaces.
        config: Hyperparameters.
        seed: Makes the run reproducible.
        update_fn: Same signature as :func:`q_learning_update` (plug in your own).
        policy_fn: Same signature as :func:`epsilon_greedy`.
        progress: Show a tqdm progress bar over episodes.

    Returns:
        A :class:`QLearningResult`.

    Raises:
        ValueError: If the env's spaces are not ``Discrete``.

    Example:
        >>> from rlkit.envs.gridworld import GridWorld
        >>> result = q_learning(GridWorld(noise=0.0), QLearningConfig(n_episodes=20), seed=0)
        >>> result.q_values.shape, result.episode_returns.shape
        ((12, 4), (20,))

    """
    if not isinstance(env.observation_space, spaces.Discrete) or not isinstance(
        env.action_space, spaces.Discrete
    ):
        raise ValueError(
            "q_learning needs Discrete observation and action spaces; got "
            f"{env.observation_space} and {env.action_space}"
        )
    rng = np.random.default_rng(seed)
    n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)
    q_values = np.zeros((n_states, n_actions))
    returns = np.zeros(config.n_episodes)
    lengths = np.zeros(config.n_episodes, dtype=np.int64)
    epsilons = np.zeros(config.n_episodes)

    episodes: Any = range(config.n_episodes)
    if progress:
        from tqdm.auto import tqdm

        episodes = tqdm(episodes, desc="Q-learning", unit="episode")
    for episode in episodes:
        epsilon = linear_epsilon(episode, config)
        state, _ = env.reset(seed=seed if episode == 0 else None)
        total_reward, n_steps = 0.0, 0
        for _ in range(config.max_steps):
            action = policy_fn(q_values[state], epsilon, rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            # CRUCIAL: only `terminated` stops bootstrapping; a truncated episode (time limit)
            # still has value in next_state.
            updated = update_fn(
                q_values,
                state,
                action,
                float(reward),
                next_state,
                bool(terminated),
                config.alpha,
                config.gamma,
            )
            # a table is a table: a student's list of rows is taken as the array it stands for
            q_values = np.asarray(updated, dtype=np.float64)
            if q_values.shape != (n_states, n_actions):
                raise ValueError(f"update_fn must return the ({n_states}, {n_actions}) Q table; "
                                 f"got shape {q_values.shape}")
            total_reward += float(reward)
            n_steps += 1
            state = next_state
            if terminated or truncated:
                break
        returns[episode], lengths[episode], epsilons[episode] = total_reward, n_steps, epsilon
    return QLearningResult(q_values, returns, lengths, epsilons)
