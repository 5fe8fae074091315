r"""Seeded evaluation: the mean and spread of the return of a fixed policy over N episodes.

Training curves mix learning with exploration noise; an evaluation runs the current policy
(usually its greedy version) on fresh episodes and reports

.. math:: \hat J = \frac{1}{N} \sum_{i=1}^{N} G^{(i)}, \qquad
    \hat\sigma = \sqrt{\frac{1}{N} \sum_{i=1}^{N} (G^{(i)} - \hat J)^2},

with :math:`G^{(i)}` the undiscounted return of episode :math:`i` (CartPole-v1: the number of
steps the pole stayed up, at most 500). Episode ``i`` starts from ``reset(seed=seed + i)``, so
the same seed gives the same start states, and two policies evaluated with one seed are
compared on the same episodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

__all__ = [
    "EnvLike",
    "EvalPoint",
    "EvalResult",
    "TrainingEvaluations",
    "evaluate",
    "make_discrete_env",
    "make_env",
]

EnvLike = str | Callable[[], gym.Env]
"""A registered Gymnasium id such as ``"CartPole-v1"``, or a function returning a new env."""


class EvalResult(NamedTuple):
    """Returns of an evaluation.

    Attributes:
        mean: Mean return over the episodes.
        std: Standard deviation of the returns (population, ``ddof=0``, as Stable-Baselines3's
            ``evaluate_policy`` reports it).
        returns: Return of each episode, float64 ``(n_episodes,)``.
        lengths: Steps of each episode, int64 ``(n_episodes,)``.

    """

    mean: float
    std: float
    returns: np.ndarray
    lengths: np.ndarray


class EvalPoint(NamedTuple):
    """One evaluation during training, as stored in a training history.

    Attributes:
        step: Environment steps taken by the trainer when it evaluated.
        mean: Mean evaluation return.
        std: Standard deviation of the evaluation returns.
        train_seconds: Wall time spent training up to this point, evaluations excluded.

    """

    step: int
    mean: float
    std: float
    train_seconds: float


@dataclass
class TrainingEvaluations:
    """The evaluations of one training run, their wall time kept out of the training time.

    ``evaluations(step, act)`` runs :func:`evaluate` with the batched policy ``act`` on the
    episodes seeded ``seed + i``, appends the :class:`EvalPoint` to ``points`` and returns it.
    DQN and REINFORCE call it in their loops.

    Attributes:
        env_spec: The env id or factory to evaluate on.
        seed: Seed of the first evaluation episode (the run's seed + ``EVAL_SEED_OFFSET``).
        episodes: Episodes per evaluation.
        max_steps: Cap on the steps of an episode (None: the env's own limit).
        start_time: ``time.perf_counter()`` at the start of the run.
        points: The evaluations so far.
        seconds: Wall time spent evaluating.

    """

    env_spec: EnvLike
    seed: int
    episodes: int
    max_steps: int | None
    start_time: float
    points: list[EvalPoint] = field(default_factory=list)
    seconds: float = 0.0

    def __call__(self, step: int, act: Callable[[Any], Any]) -> EvalPoint:
        """Evaluate ``act`` now, after ``step`` env steps."""
        t0 = time.perf_counter()
        result = evaluate(
            self.env_spec,
            act,
            n_episodes=self.episodes,
            seed=self.seed,
            max_steps=self.max_steps,
            batched=True,  # all episodes side by side: one forward pass per step
        )
        self.seconds += time.perf_counter() - t0
        point = EvalPoint(
            step, result.mean, result.std, time.perf_counter() - self.start_time - self.seconds
        )
        self.points.append(point)
        return point

    def history_fields(
        self, returns: npt.ArrayLike, lengths: npt.ArrayLike, end_steps: npt.ArrayLike
    ) -> dict[str, Any]:
        """The fields every training history has, at the end of the run.

        Args:
            returns: Undiscounted return of each finished training episode.
            lengths: Steps of each training episode.
            end_steps: Env steps taken when each episode ended.

        Returns:
            ``episode_returns``, ``episode_lengths``, ``episode_end_steps`` (numpy arrays),
            ``evaluations`` (the points), ``train_seconds`` (evaluations excluded) and
            ``wall_seconds`` (since ``start_time``).

        """
        wall = time.perf_counter() - self.start_time
        return {
            "episode_returns": np.array(returns, dtype=np.float64),
            "episode_lengths": np.array(lengths, dtype=np.int64),
            "episode_end_steps": np.array(end_steps, dtype=np.int64),
            "evaluations": tuple(self.points),
            "train_seconds": wall - self.seconds,
            "wall_seconds": wall,
        }


def make_discrete_env(env: EnvLike, seed: int, agent: str) -> gym.Env:
    """A new env with a Box observation space and Discrete actions, its action space seeded.

    Args:
        env: An env id or factory.
        seed: Seeds the env's action space (the first reset is the trainer's).
        agent: Who needs these spaces, for the error message.

    Returns:
        The env; a clear ValueError unless its spaces are Box and Discrete.

    """
    built = make_env(env)
    if not isinstance(built.observation_space, spaces.Box) or not isinstance(
        built.action_space, spaces.Discrete
    ):
        raise ValueError(
            f"{agent} needs a Box observation space and a Discrete action space; got "
            f"{built.observation_space} and {built.action_space}"
        )
    built.action_space.seed(seed)
    return built


def make_env(env: EnvLike, **kwargs: Any) -> gym.Env:
    """Build a new env from an id (``gymnasium.make(env, **kwargs)``) or a factory (``env()``).

    Example:
        >>> make_env("CartPole-v1").spec.max_episode_steps
        500

    """
    if isinstance(env, str):
        return gym.make(env, **kwargs)
    if kwargs:
        raise TypeError("keyword arguments apply to an env id only, not to a factory")
    return env()


def evaluate(
    env: EnvLike,
    policy_fn: Callable[[np.ndarray], Any],
    *,
    n_episodes: int,
    seed: int,
    max_steps: int | None = None,
    batched: bool = False,
) -> EvalResult:
    """Run ``policy_fn`` for ``n_episodes`` episodes on a new env and summarise the returns.

    Args:
        env: An env id or a factory; a new env is built and closed here.
        policy_fn: Maps one observation to one action (e.g. a greedy ``argmax_a Q(s, a)``).
        n_episodes: Number of episodes ``N`` (>= 1); 10 is a common compromise.
        seed: Episode ``i`` starts from ``reset(seed=seed + i)``; the action space is seeded
            with ``seed`` too, for policies that sample from it.
        max_steps: Optional cap on the steps of an episode on top of the env's own limit.
        batched: If True, ``policy_fn`` maps a batch of observations ``(n, *obs_shape)`` to
            ``n`` actions, and the ``N`` episodes run side by side in ``N`` envs: one policy
            call per step for all of them, several times faster for a neural policy. The
            episodes and, for a deterministic policy, the returns are the same as one by one.

    Returns:
        An :class:`EvalResult`.

    Example:
        >>> result = evaluate("CartPole-v1", lambda obs: 0, n_episodes=3, seed=0)
        >>> result.returns  # always pushing left: the pole falls within ~10 steps
        array([11., 10.,  9.])
        >>> round(result.mean, 3), round(result.std, 3)
        (10.0, 0.816)

    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1; got {n_episodes}")
    if batched:
        return _evaluate_side_by_side(env, policy_fn, n_episodes, seed, max_steps)
    environment = make_env(env)
    environment.action_space.seed(seed)
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    try:
        for i in range(n_episodes):
            obs, _ = environment.reset(seed=seed + i)
            total, steps, done = 0.0, 0, False
            while not done and (max_steps is None or steps < max_steps):
                obs, reward, terminated, truncated, _ = environment.step(policy_fn(obs))
                total += float(reward)
                steps += 1
                done = terminated or truncated
            returns[i], lengths[i] = total, steps
    finally:
        environment.close()
    return EvalResult(float(returns.mean()), float(returns.std()), returns, lengths)


def _evaluate_side_by_side(
    env: EnvLike,
    policy_fn: Callable[[np.ndarray], Any],
    n_episodes: int,
    seed: int,
    max_steps: int | None,
) -> EvalResult:
    """Run the episodes of :func:`evaluate` in lockstep, one batched policy call per step."""
    environments = [make_env(env) for _ in range(n_episodes)]
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    try:
        observations = []
        for i, environment in enumerate(environments):
            environment.action_space.seed(seed + i)
            observations.append(environment.reset(seed=seed + i)[0])
        running = list(range(n_episodes))
        while running:
            actions = np.asarray(policy_fn(np.stack([observations[i] for i in running])))
            if actions.shape[:1] != (len(running),):
                raise ValueError(
                    f"a batched policy_fn must return one action per observation: got shape "
                    f"{actions.shape} for {len(running)} observations"
                )
            still_running = []
            for i, action in zip(running, actions, strict=True):
                obs, reward, terminated, truncated, _ = environments[i].step(
                    action.item() if action.ndim == 0 else action
                )
                observations[i] = obs
                returns[i] += float(reward)
                lengths[i] += 1
                capped = max_steps is not None and lengths[i] >= max_steps
                if not (terminated or truncated or capped):
                    still_running.append(i)
            running = still_running
    finally:
        for environment in environments:
            environment.close()
    return EvalResult(float(returns.mean()), float(returns.std()), returns, lengths)
