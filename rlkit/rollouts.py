r"""On-policy rollouts on Gymnasium vector envs, shared by :mod:`rlkit.agents.a2c` and
:mod:`rlkit.agents.ppo`.

Both agents repeat the same loop: step ``n_envs`` envs ``n_steps`` times with the current
policy into a :class:`Rollout`, update the networks on it, evaluate now and then. Everything
of that loop except the update lives here, written once:

- :func:`make_vector_env`: the envs in a ``gymnasium.vector.SyncVectorEnv`` with
  ``autoreset_mode=AutoresetMode.SAME_STEP``. A sub-env whose episode ends is reset within the
  same ``step``, which returns the *new* episode's first observation and puts the ended
  episode's last one in ``info["final_obs"]``; so every row of the rollout is a real
  transition, and :math:`V(s_{t+1})` of a truncated step (CartPole's 500-step limit, every
  Pendulum episode) is taken on ``final_obs``, never on the reset observation.
- :func:`make_networks`: the actor :math:`\pi_\theta` (:class:`~rlkit.nets.CategoricalPolicy`
  for Discrete actions, :class:`~rlkit.nets.GaussianPolicy` for Box ones) and the critic
  :math:`V_\phi`, sized from the env's spaces.
- :class:`RolloutCollector`: fills the rollout, keeps ``terminated`` and ``truncated`` apart
  (down to :func:`~rlkit.advantages.gae`), and does the episode bookkeeping. A sampled Box
  action is clipped to the box only on its way to the env (:func:`to_env`); the rollout, and
  so the log-prob, keeps the action pi drew.
- :func:`log_probs_and_entropy`: :math:`\log\pi_\theta(a_t|s_t)` and :math:`H_t` of a batch,
  through a student's Gaussian log-prob where one is given.
- :class:`Evaluator` and :func:`run`: the seeded evaluations (apart from training's random
  draws, their seconds kept out of the training time), the progress bar, the early stop at a
  target return.
- :func:`set_up` and :func:`run_and_finish`: the steps both agents take in the same way
  (seed, env, model, buffer; the loop and the history's common fields), around their own
  losses, optimiser and update.
"""  # noqa: D205

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from torch.distributions import Categorical

from rlkit.evaluation import EnvLike, EvalPoint, TrainingEvaluations, make_env
from rlkit.nets import CategoricalPolicy, GaussianPolicy, ValueNetwork, gaussian_entropy
from rlkit.progress import advance, finish_at_target, progress_bar
from rlkit.seeding import seed_everything

__all__ = [
    "EVAL_SEED_OFFSET",
    "Evaluator",
    "OnPolicyHistory",
    "OnPolicySetup",
    "Policy",
    "Rollout",
    "RolloutCollector",
    "log_probs_and_entropy",
    "make_networks",
    "check_settings",
    "finished",
    "float64_array",
    "make_vector_env",
    "rollout_result",
    "run_and_finish",
    "set_up",
    "run",
    "to_env",
    "to_flat",
]

EVAL_SEED_OFFSET = 10_000
"""Evaluation episodes of a run with seed ``s`` start from ``reset(seed=s + 10_000 + i)``."""

Policy = CategoricalPolicy | GaussianPolicy


# --------------------------------------------------------------------------------------------
# Settings, env and model
# --------------------------------------------------------------------------------------------


def check_settings(
    settings: Any,
    *,
    at_least_one: tuple[str, ...] = (),
    unit_interval: tuple[str, ...] = (),
    positive: tuple[str, ...] = (),
    non_negative: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> None:
    """Raise a ValueError naming the first field of ``settings`` outside its range.

    Fields in ``optional`` may also be None.

    Example:
        >>> from types import SimpleNamespace
        >>> check_settings(SimpleNamespace(n_envs=0), at_least_one=("n_envs",))
        Traceback (most recent call last):
        ...
        ValueError: n_envs must be >= 1; got 0

    """
    rules = ((at_least_one, lambda v: v >= 1, ">= 1"),
             (unit_interval, lambda v: 0.0 <= v <= 1.0, "in [0, 1]"),
             (positive, lambda v: v > 0, "> 0"),
             (non_negative, lambda v: v >= 0, ">= 0"))  # fmt: skip
    for names, within, text in rules:
        for name in names:
            value = getattr(settings, name)
            if value is None and name in optional:
                continue
            if value is None or not within(value):
                alternative = " or None" if name in optional else ""
                raise ValueError(f"{name} must be {text}{alternative}; got {value}")


def make_vector_env(env_spec: EnvLike, n_envs: int, seed: int, agent: str) -> SyncVectorEnv:
    """``n_envs`` copies of an env, reset within the step that ends an episode.

    Args:
        env_spec: An env id or factory.
        n_envs: Copies stepped side by side.
        seed: Seeds the vector env's action space (the first resets are the collector's).
        agent: The agent's name, for the error message.

    Returns:
        The vector env; it raises a clear error (and is closed) unless the observations are a
        Box and the actions Discrete or a Box.

    """
    envs = SyncVectorEnv(
        [lambda: make_env(env_spec)] * n_envs, autoreset_mode=AutoresetMode.SAME_STEP
    )
    obs_space, action_space = envs.single_observation_space, envs.single_action_space
    if not isinstance(obs_space, spaces.Box) or not isinstance(
        action_space, spaces.Discrete | spaces.Box
    ):
        envs.close()
        raise ValueError(
            f"{agent} needs a Box observation space and a Discrete or Box action space; got "
            f"{obs_space} and {action_space}"
        )
    envs.action_space.seed(seed)
    return envs


def make_networks(
    obs_space: spaces.Space,
    action_space: spaces.Space,
    hidden_sizes: tuple[int, ...],
    value_hidden_sizes: tuple[int, ...],
    *,
    log_std_init: float,
    state_dependent_std: bool = False,
) -> tuple[Policy, ValueNetwork]:
    """The actor pi_theta and the critic V_phi (two networks, tanh) for an env's spaces.

    Args:
        obs_space: A Box of observations (flattened).
        action_space: Discrete (a :class:`~rlkit.nets.CategoricalPolicy`) or a Box (a
            :class:`~rlkit.nets.GaussianPolicy`).
        hidden_sizes: Hidden widths of the actor.
        value_hidden_sizes: Hidden widths of the critic.
        log_std_init: Box actions: the initial log sigma.
        state_dependent_std: Box actions: log sigma from a head of the state.

    Returns:
        ``(policy, critic)``, initialised from torch's global generator.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> policy, critic = make_networks(spaces.Box(-1, 1, (3,)), spaces.Discrete(2), (8,),
        ...                                (8,), log_std_init=0.0)
        >>> type(policy).__name__, critic(np.zeros(3, np.float32)).shape
        ('CategoricalPolicy', torch.Size([]))

    """
    obs_dim = int(np.prod(obs_space.shape))
    policy: Policy
    if isinstance(action_space, spaces.Box):
        policy = GaussianPolicy(
            obs_dim, int(np.prod(action_space.shape)), hidden_sizes,
            log_std_init=log_std_init, state_dependent_std=state_dependent_std,
        )  # fmt: skip
    else:
        policy = CategoricalPolicy(obs_dim, int(action_space.n), hidden_sizes)
    return policy, ValueNetwork(obs_dim, value_hidden_sizes)


def to_env(actions: Any, action_space: spaces.Space) -> Any:
    """Actions as the env takes them: Box actions clipped to the box (only here).

    Example:
        >>> to_env(np.array([[3.0], [-0.5]]), spaces.Box(-2.0, 2.0, (1,))).tolist()
        [[2.0], [-0.5]]

    """
    if isinstance(action_space, spaces.Box):
        return np.clip(actions, action_space.low, action_space.high)
    return actions


# --------------------------------------------------------------------------------------------
# Buffer and collection
# --------------------------------------------------------------------------------------------


@dataclass
class Rollout:
    """One rollout: ``n_steps`` rows by ``n_envs`` columns, overwritten after each update.

    ``next_obs`` holds the REAL :math:`s_{t+1}` of every row: ``final_obs`` where an episode
    ended. ``actions`` are the ones pi drew (unclipped).
    """

    obs: np.ndarray
    next_obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    @classmethod
    def empty(cls, n_steps: int, n_envs: int, obs_dim: int, action_space: spaces.Space) -> Rollout:
        """Zeros of the right shapes and types."""
        shape = (n_steps, n_envs)
        continuous = isinstance(action_space, spaces.Box)
        obs = np.zeros((*shape, obs_dim), dtype=np.float32)
        return cls(
            obs=obs,
            next_obs=np.zeros_like(obs),
            actions=np.zeros(
                (*shape, *action_space.shape), dtype=np.float32 if continuous else np.int64
            ),
            rewards=np.zeros(shape),
            terminated=np.zeros(shape, dtype=bool),
            truncated=np.zeros(shape, dtype=bool),
        )

    def flat_obs(self, next_obs: bool = False) -> torch.Tensor:
        """Observations (or the next ones) as a float32 tensor ``(n_steps * n_envs, obs_dim)``."""
        obs = self.next_obs if next_obs else self.obs
        return torch.as_tensor(obs.reshape(-1, obs.shape[-1]))

    def flat_actions(self) -> torch.Tensor:
        """Actions as a tensor ``(n_steps * n_envs, *action_shape)``."""
        return torch.as_tensor(self.actions.reshape(-1, *self.actions.shape[2:]))


@dataclass
class RolloutCollector:
    """Steps the vector env into a :class:`Rollout` and keeps the finished episodes.

    Attributes:
        envs: The vector env (:func:`make_vector_env`), reset with ``seed`` (env ``i`` with
            ``seed + i``) when the collector is made.
        n_steps: Rows per rollout.
        seed: Seed of the first resets.
        step: Env steps taken so far, summed over the envs.
        episode_returns: Return of each finished training episode, in the order they ended.
        episode_lengths: Their lengths.
        episode_end_steps: ``step`` when each ended.

    """

    envs: SyncVectorEnv
    n_steps: int
    seed: int
    step: int = 0
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.action_space = self.envs.single_action_space
        self.obs_dim = int(np.prod(self.envs.single_observation_space.shape))
        self.rollout = Rollout.empty(self.n_steps, self.envs.num_envs, self.obs_dim,
                                     self.action_space)
        self._running_returns = np.zeros(self.envs.num_envs)
        self._running_lengths = np.zeros(self.envs.num_envs, dtype=np.int64)
        self._obs, _ = self.envs.reset(seed=self.seed)

    def collect(self, policy: Policy, generator: torch.Generator) -> Rollout:
        """Step every env ``n_steps`` times with actions sampled from ``policy``."""
        rollout = self.rollout
        for t in range(self.n_steps):
            actions = policy.act(self._obs, generator)  # sampled, unclipped
            next_obs, rewards, terminated, truncated, infos = self.envs.step(
                to_env(actions, self.action_space)  # clipped only on the way to the env
            )
            rollout.obs[t] = self._obs
            rollout.actions[t] = actions
            rollout.rewards[t] = rewards
            rollout.terminated[t] = terminated
            rollout.truncated[t] = truncated
            rollout.next_obs[t] = next_obs
            # CRUCIAL: where an episode ended, next_obs is already the NEXT episode's first
            # observation; s_{t+1} of this step is in final_obs.
            ended = np.flatnonzero(terminated | truncated)
            for i in ended:
                rollout.next_obs[t, i] = infos["final_obs"][i]
            self._obs = next_obs

            self.step += self.envs.num_envs
            self._running_returns += rewards
            self._running_lengths += 1
            for i in ended:
                self.episode_returns.append(float(self._running_returns[i]))
                self.episode_lengths.append(int(self._running_lengths[i]))
                self.episode_end_steps.append(self.step)
                self._running_returns[i], self._running_lengths[i] = 0.0, 0
        return rollout


# --------------------------------------------------------------------------------------------
# Log-probs of a batch, and the checks on a student's outputs
# --------------------------------------------------------------------------------------------


def log_probs_and_entropy(
    policy: Policy,
    obs: torch.Tensor,
    actions: torch.Tensor,
    log_prob_fn: Callable[..., torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\log\pi_\theta(a_t|s_t)` and :math:`H[\pi_\theta(\cdot|s_t)]` per row, ``(N,)``.

    Box actions go through ``log_prob_fn`` (the signature of
    :func:`~rlkit.nets.gaussian_log_prob`; a student's), at the UNclipped actions; Discrete
    ones take ``torch.distributions.Categorical``'s log-prob.
    """
    if isinstance(policy, GaussianPolicy):
        mean, log_std = policy.mean_and_log_std(obs)
        log_probs = log_prob_fn(actions, mean, log_std)
        if not torch.is_tensor(log_probs) or log_probs.shape != mean.shape[:-1]:
            raise ValueError(
                f"log_prob_fn must return a tensor of shape {tuple(mean.shape[:-1])} (one "
                f"log-density per row, summed over the action axis); got "
                f"{getattr(log_probs, 'shape', type(log_probs).__name__)}"
            )
        return log_probs, gaussian_entropy(log_std).expand(mean.shape[:-1])
    # policy.distribution(obs) without torch's argument checks (a tenth of a PPO step).
    distribution = Categorical(logits=policy(obs), validate_args=False)
    return distribution.log_prob(actions), distribution.entropy()


def rollout_result(result: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A piece's output as a float64 array of the rollout's shape, or a clear error.

    Example:
        >>> rollout_result(torch.ones(2, 3), "gae_fn", (2, 3)).dtype
        dtype('float64')

    """
    if torch.is_tensor(result):
        result = result.detach().cpu().numpy()
    array = np.asarray(result, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(
            f"{name} returned shape {array.shape} for a rollout of shape {shape} "
            "(n_steps, n_envs); it must return one value per step and env"
        )
    return array


# --------------------------------------------------------------------------------------------
# Evaluation and the loop
# --------------------------------------------------------------------------------------------


@dataclass
class Evaluator:
    """Seeded evaluations of the policy during training (:func:`rlkit.evaluation.evaluate`).

    The timing and the points are a :class:`~rlkit.evaluation.TrainingEvaluations`'s; this
    adds the policy's seeded sampler and the clipping of Box actions.

    Attributes:
        env_spec: The env id or factory to evaluate on.
        policy: The actor being trained.
        action_space: Box actions are clipped to it.
        seed: The run's seed; the episodes start from ``seed + EVAL_SEED_OFFSET + i``.
        episodes: Episodes per evaluation.
        max_steps: Cap on the steps of an episode (None: the env's own limit).
        deterministic: The most likely action / the mean (True) or a sample.
        start_time: ``time.perf_counter()`` at the start of the run.
        evaluations: The evaluations so far (``points``) and their wall time (``seconds``).

    """

    env_spec: EnvLike
    policy: Policy
    action_space: spaces.Space
    seed: int
    episodes: int
    max_steps: int | None
    deterministic: bool
    start_time: float
    evaluations: TrainingEvaluations = field(init=False)

    def __post_init__(self) -> None:
        self.evaluations = TrainingEvaluations(
            self.env_spec, self.seed + EVAL_SEED_OFFSET, self.episodes, self.max_steps,
            self.start_time,
        )  # fmt: skip

    @property
    def points(self) -> list[EvalPoint]:
        """The evaluations so far."""
        return self.evaluations.points

    @property
    def seconds(self) -> float:
        """Wall time spent evaluating (kept out of the training seconds)."""
        return self.evaluations.seconds

    def __call__(self, step: int) -> EvalPoint:
        """Evaluate now, after ``step`` env steps; the point is appended to ``points``."""
        sampler = torch.Generator().manual_seed(self.evaluations.seed)  # apart from training's
        return self.evaluations(
            step,
            lambda o: to_env(
                self.policy.act(o, sampler, deterministic=self.deterministic), self.action_space
            ),
        )


@dataclass(frozen=True, eq=False)
class OnPolicyHistory:
    r"""The part of a training history A2C's and PPO's share.

    Attributes:
        episode_returns: Undiscounted return of each finished training episode (the env's
            rewards, before any ``reward_scale``), in the order they ended.
        episode_lengths: Steps of each training episode.
        episode_end_steps: Env steps taken (all envs) when each episode ended.
        evaluations: Evaluations ``(step, mean, std, train_seconds)``; the last one is after
            training.
        train_seconds: Wall time of training, evaluations excluded.
        wall_seconds: Wall time of the whole call.
        policy: The trained actor (:class:`~rlkit.nets.CategoricalPolicy` or
            :class:`~rlkit.nets.GaussianPolicy`).
        value_network: The trained critic :math:`V_\phi`.
        action_space: The env's action space (:meth:`act` clips Box actions to it).
        seed: The seed used.

    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_end_steps: np.ndarray
    evaluations: tuple[EvalPoint, ...]
    train_seconds: float
    wall_seconds: float
    policy: Policy
    value_network: ValueNetwork
    action_space: spaces.Space
    seed: int

    @property
    def final_evaluation(self) -> EvalPoint:
        """The evaluation after training."""
        return self.evaluations[-1]

    def act(self, obs: npt.ArrayLike) -> Any:
        """The most likely action (Discrete) or the clipped mean (Box) for one observation."""
        action = self.policy.act(obs, deterministic=True)
        return to_env(action, self.action_space)


def run(
    collector: RolloutCollector,
    generator: torch.Generator,
    update: Callable[[Rollout, int], None],
    evaluator: Evaluator,
    *,
    total_steps: int,
    eval_interval: int,
    target_return: float | None,
    progress: bool,
    name: str,
) -> None:
    """The on-policy loop: collect, update, evaluate, until the budget or the target.

    Evaluates after the first update at or past every multiple of ``eval_interval`` (0: only
    at the end) and after the last one. The vector env is closed at the end.

    Args:
        collector: Collects each rollout with ``evaluator.policy``.
        generator: Source of the training actions.
        update: ``update(rollout, step)`` trains the networks on a rollout, ``step`` env steps
            into the run.
        evaluator: Evaluates the policy.
        total_steps: Budget of env steps (the last rollout may pass it).
        eval_interval: Env steps between evaluations (0: only at the end).
        target_return: Stop once an evaluation's mean return reaches this (None: never).
        progress: Show a tqdm progress bar over env steps.
        name: The bar's label.

    """
    bar = progress_bar(progress, total_steps, name)
    next_eval = eval_interval
    try:
        while collector.step < total_steps:
            rollout = collector.collect(evaluator.policy, generator)
            step = collector.step
            advance(bar, step)
            update(rollout, step)

            last = step >= total_steps
            if (eval_interval and step >= next_eval) or last:
                while eval_interval and next_eval <= step:
                    next_eval += eval_interval
                point = evaluator(step)
                if bar is not None:
                    bar.set_postfix(eval=f"{point.mean:.1f}")
                if target_return is not None and point.mean >= target_return:
                    finish_at_target(bar, step)
                    break
    finally:
        collector.envs.close()
        if bar is not None:
            bar.close()


def finished(
    collector: RolloutCollector, evaluator: Evaluator, critic: ValueNetwork, seed: int
) -> dict[str, Any]:
    """The :class:`OnPolicyHistory` fields of a run that :func:`run` has finished."""
    return {
        **evaluator.evaluations.history_fields(
            collector.episode_returns, collector.episode_lengths, collector.episode_end_steps
        ),
        "policy": evaluator.policy,
        "value_network": critic,
        "action_space": evaluator.action_space,
        "seed": seed,
    }


def float64_array(scalars: list[torch.Tensor]) -> np.ndarray:
    """Scalar tensors recorded during training (losses, diagnostics) as one float64 array.

    A trainer keeps each step's loss as a detached tensor and converts them all here once:
    a ``float(loss)`` per gradient step costs a conversion each, in the innermost loop.

    Example:
        >>> float64_array([torch.tensor(0.5), torch.tensor([1.5])])
        array([0.5, 1.5])
        >>> float64_array([]).shape
        (0,)

    """
    if not scalars:
        return np.zeros(0, dtype=np.float64)
    return torch.stack([value.reshape(()) for value in scalars]).double().numpy()


def to_flat(array: npt.ArrayLike) -> torch.Tensor:
    """A rollout-shaped float64 array as a flat float32 tensor ``(n_steps * n_envs,)``."""
    return torch.as_tensor(np.asarray(array).reshape(-1), dtype=torch.float32)


# --------------------------------------------------------------------------------------------
# The steps A2C and PPO share: seed, env, model, buffer; then the loop and its end
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnPolicySetup:
    """What :func:`set_up` makes for A2C or PPO before their losses.

    Attributes:
        env_spec: The env id or factory trained (and evaluated) on.
        seed: The run's seed.
        name: The agent's name (error messages, the progress bar).
        start_time: ``time.perf_counter()`` at the start of the run.
        generator: Source of the training actions, seeded with ``seed``.
        policy: The actor pi_theta.
        critic: The critic V_phi.
        collector: The rollout collector over ``n_envs`` envs.

    """

    env_spec: EnvLike
    seed: int
    name: str
    start_time: float
    generator: torch.Generator
    policy: Policy
    critic: ValueNetwork
    collector: RolloutCollector


def set_up(
    config: Any, seed: int, env_like: EnvLike | None, name: str, **network_options: Any
) -> OnPolicySetup:
    """Steps 1 to 4 of an on-policy actor-critic: seed, env, model, buffer.

    1. Seed: torch's global generator (initial weights), a torch Generator for the actions.
    2. Env: ``n_envs`` copies, reset within the step that ends an episode
       (:func:`make_vector_env`).
    3. Model: the actor pi_theta and the critic V_phi, two networks (:func:`make_networks`).
    4. Buffer: one rollout of ``n_steps`` rows x ``n_envs`` columns, overwritten after each
       update; its next_obs holds the REAL s_{t+1} (final_obs where an episode ended).

    Args:
        config: The agent's settings; reads ``env_id``, ``n_envs``, ``n_steps``,
            ``hidden_sizes``, ``value_hidden_sizes`` and ``log_std_init``.
        seed: The run's seed.
        env_like: An env id or factory to use instead of ``config.env_id``.
        name: The agent's name.
        **network_options: More keywords of :func:`make_networks`.

    Returns:
        An :class:`OnPolicySetup`.

    """
    start_time = time.perf_counter()
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    env_spec = config.env_id if env_like is None else env_like
    envs = make_vector_env(env_spec, config.n_envs, seed, name)
    policy, critic = make_networks(
        envs.single_observation_space, envs.single_action_space, config.hidden_sizes,
        config.value_hidden_sizes, log_std_init=config.log_std_init, **network_options,
    )  # fmt: skip
    collector = RolloutCollector(envs, config.n_steps, seed)
    return OnPolicySetup(env_spec, seed, name, start_time, generator, policy, critic, collector)


def run_and_finish(
    setup: OnPolicySetup, config: Any, update: Callable[[Rollout, int], None], progress: bool
) -> dict[str, Any]:
    """Step 8 of an on-policy actor-critic: the loop (:func:`run`), then the history's fields.

    Args:
        setup: What :func:`set_up` made.
        config: The agent's settings; reads ``total_steps``, ``eval_interval``,
            ``eval_episodes``, ``eval_max_steps``, ``eval_deterministic`` and
            ``target_return``.
        update: ``update(rollout, step)`` trains the networks on a rollout.
        progress: Show a tqdm progress bar over env steps.

    Returns:
        The :class:`OnPolicyHistory` fields (:func:`finished`).

    """
    evaluator = Evaluator(
        setup.env_spec, setup.policy, setup.collector.action_space, setup.seed,
        config.eval_episodes, config.eval_max_steps, config.eval_deterministic, setup.start_time,
    )  # fmt: skip
    run(
        setup.collector, setup.generator, update, evaluator, total_steps=config.total_steps,
        eval_interval=config.eval_interval, target_return=config.target_return,
        progress=progress, name=setup.name,
    )  # fmt: skip
    return finished(setup.collector, evaluator, setup.critic, setup.seed)
