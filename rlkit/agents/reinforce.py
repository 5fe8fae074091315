r"""REINFORCE: the Monte Carlo policy gradient (Williams, 1992) with reward-to-go and a baseline.

The lecture's derivation: the log-derivative trick turns the gradient of
:math:`J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta}[R(\tau)]` into an expectation we can
sample, and the transition probabilities drop out of :math:`\nabla_\theta \ln \rho_\theta(\tau)`:

.. math::
    \nabla_\theta J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta} \Big[ \sum_{t=0}^{T-1}
    \nabla_\theta \ln \pi_\theta(a_t|s_t) \, \Psi_t \Big]

with the weight :math:`\Psi_t` one of

- :math:`R(\tau) = \sum_{t'} \gamma^{t'} r_{t'}`, the whole return (``weighting="total_return"``);
- :math:`G_t = \sum_{t' \ge t} \gamma^{t'-t} r_{t'}`, the reward-to-go (an action cannot
  change the rewards before it; same expectation, less variance);
- either minus a baseline :math:`b(s_t)` (the batch mean, or a learned :math:`V_\phi(s_t)`),
  which leaves the expectation unchanged because :math:`\mathbb{E}_a[\nabla \ln \pi] = 0`.

In code, gradient *ascent* on :math:`J` is gradient *descent* on the surrogate loss
:math:`-\frac{1}{N} \sum_t \ln \pi_\theta(a_t|s_t) \Psi_t` (:func:`reinforce_loss`), whose
gradient is the estimator above (up to the 1/N scale).

Truncation: a Monte Carlo return stops where the episode stops. At CartPole's time limit the
episode is truncated, not terminated; with ``baseline="value"`` the reward-to-go is bootstrapped
there with :math:`\gamma^{T-t} V_\phi(s_T)`, otherwise the return is simply cut (with
gamma = 0.99 this matters only for the last ~100 steps of a 500-step episode).

Order of the file (Spinning Up's): settings, math pieces, history, then :func:`train` in the
steps seed, env, model, buffer, losses, optimiser, update, loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

from rlkit.evaluation import EnvLike, EvalPoint, make_discrete_env
from rlkit.nets import CategoricalPolicy, as_obs_tensor, mlp, torch_threads
from rlkit.progress import advance, finish_at_target, progress_bar
from rlkit.rollouts import EVAL_SEED_OFFSET, Evaluator, check_settings
from rlkit.sampling import discounted_returns
from rlkit.seeding import seed_everything

__all__ = [
    "EVAL_SEED_OFFSET",
    "ReinforceConfig",
    "ReinforceHistory",
    "reinforce_loss",
    "returns_weights",
    "reward_to_go",
    "train",
    "value_loss",
]

Weighting = Literal["reward_to_go", "total_return"]
Baseline = Literal["none", "mean", "value"]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReinforceConfig:
    """Settings of :func:`train`; the defaults learn CartPole-v1 on a laptop CPU.

    Example:
        >>> ReinforceConfig().weighting, ReinforceConfig().baseline
        ('reward_to_go', 'mean')

    """

    env_id: str = "CartPole-v1"
    """Gymnasium id of an env with a Box observation and Discrete actions."""
    total_steps: int = 200_000
    """Budget of environment steps (the last batch finishes its episodes, so a bit more)."""
    gamma: float = 0.99
    """Discount factor gamma in [0, 1]; 0.99 weighs the next ~100 rewards."""
    learning_rate: float = 1e-2
    """Adam step size of the policy; typically 1e-3 to 3e-2."""
    hidden_sizes: tuple[int, ...] = (32,)
    """Hidden widths of the policy network (tanh); one layer of 32 is enough for CartPole."""
    batch_size: int = 2_000
    """Env steps per policy update, collected as whole episodes (1,000 to 5,000)."""
    weighting: Weighting = "reward_to_go"
    """Psi_t before the baseline: "reward_to_go" (G_t) or "total_return" (R(tau) at every t)."""
    baseline: Baseline = "mean"
    """b: "none", "mean" (the batch's mean weight) or "value" (a learned V_phi(s_t))."""
    value_learning_rate: float = 1e-2
    """Adam step size of V_phi (baseline="value" only)."""
    value_hidden_sizes: tuple[int, ...] = (32,)
    """Hidden widths of V_phi (baseline="value" only)."""
    value_iters: int = 20
    """Gradient steps on V_phi per batch (baseline="value" only)."""
    eval_interval: int = 10_000
    """Evaluate after the first batch past every multiple of this (0: only at the end)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    eval_max_steps: int | None = None
    """Cap on the steps of an evaluation episode (None: the env's own time limit); a short
    run only needs to show the pole balanced for this long, and a capped evaluation is cheap."""
    eval_deterministic: bool = True
    """Evaluate the most likely action (True) or sample from pi (False)."""
    target_return: float | None = None
    """Stop early once an evaluation's mean return reaches this (None: use the budget)."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(
            self, at_least_one=("total_steps", "batch_size", "value_iters", "eval_episodes",
                                "eval_max_steps"),
            unit_interval=("gamma",),
            positive=("learning_rate", "value_learning_rate"),
            non_negative=("eval_interval",),
            optional=("eval_max_steps",),
        )  # fmt: skip
        if self.weighting not in ("reward_to_go", "total_return"):
            raise ValueError(
                f"weighting must be 'reward_to_go' or 'total_return'; got {self.weighting!r}"
            )
        if self.baseline not in ("none", "mean", "value"):
            raise ValueError(f"baseline must be 'none', 'mean' or 'value'; got {self.baseline!r}")


# --------------------------------------------------------------------------------------------
# Math pieces (a notebook re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


def reward_to_go(rewards: npt.ArrayLike | torch.Tensor, gamma: float) -> Any:
    r"""Reward-to-go :math:`G_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}` of one episode.

    Computed backwards, :math:`G_t = r_t + \gamma G_{t+1}` with :math:`G_T = 0`, by
    :func:`rlkit.sampling.discounted_returns` (one function serves tabular and deep code).

    Args:
        rewards: ``r_0..r_{T-1}`` of one episode, shape ``(T,)``, numpy or torch.
        gamma: Discount factor in ``[0, 1]``.

    Returns:
        ``[G_0, ..., G_{T-1}]``, shape ``(T,)``: a float64 array for numpy input, a tensor of
        the input's dtype for torch input.

    Example:
        >>> reward_to_go(np.array([1.0, 2.0, 3.0]), 0.5)  # [1 + 1 + .75, 2 + 1.5, 3]
        array([2.75, 3.5 , 3.  ])
        >>> reward_to_go(torch.ones(3), 1.0)
        tensor([3., 2., 1.])

    """
    if torch.is_tensor(rewards):
        values = discounted_returns(rewards.detach().cpu().numpy(), gamma)
        return torch.as_tensor(values, dtype=rewards.dtype)
    return discounted_returns(rewards, gamma)


def returns_weights(
    rewards: npt.ArrayLike,
    gamma: float,
    *,
    weighting: Weighting = "reward_to_go",
    reward_to_go_fn: Callable[[Any, float], Any] = reward_to_go,
) -> np.ndarray:
    r"""Compute the policy-gradient weight :math:`\Psi_t` of each step of one episode.

    ``"reward_to_go"``: :math:`\Psi_t = G_t`; ``"total_return"``: :math:`\Psi_t = G_0 =
    R(\tau)` at every step (the lecture's first estimator, with gamma = 1 its undiscounted
    :math:`\sum_h r_h`). No baseline is subtracted here.

    Example:
        >>> rewards = np.array([1.0, 1.0, 1.0])
        >>> returns_weights(rewards, 1.0)
        array([3., 2., 1.])
        >>> returns_weights(rewards, 1.0, weighting="total_return")
        array([3., 3., 3.])

    """
    returns = np.asarray(reward_to_go_fn(np.asarray(rewards, dtype=np.float64), gamma))
    if returns.shape != np.shape(rewards):
        raise ValueError(
            f"reward_to_go_fn returned shape {returns.shape} for rewards of shape "
            f"{np.shape(rewards)}; it must return one G_t per step"
        )
    if weighting == "reward_to_go":
        return returns.astype(np.float64)
    if weighting == "total_return":
        return np.full(returns.shape, float(returns[0]) if returns.size else 0.0)
    raise ValueError(f"weighting must be 'reward_to_go' or 'total_return'; got {weighting!r}")


def reinforce_loss(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    r"""Surrogate loss :math:`L(\theta) = -\frac{1}{N} \sum_t \ln \pi_\theta(a_t|s_t) \Psi_t`.

    Its gradient is minus the policy-gradient estimate, so *descending* it *ascends*
    :math:`J(\theta)`. The sign is the classic bug: without the minus sign, the optimiser
    makes the actions that led to high returns *less* likely. The weights are constants
    (detached here): a gradient through a learned baseline would train the critic through the
    policy loss.

    Args:
        log_probs: :math:`\ln \pi_\theta(a_t|s_t)`, shape ``(N,)``, with gradients.
        weights: :math:`\Psi_t` (returns, rewards-to-go or advantages), shape ``(N,)``.

    Returns:
        A scalar tensor.

    Example:
        >>> log_probs = torch.tensor([-1.0, -2.0], requires_grad=True)
        >>> loss = reinforce_loss(log_probs, torch.tensor([1.0, 2.0]))  # -(-1 * 1 - 2 * 2) / 2
        >>> loss
        tensor(2.5000, grad_fn=<NegBackward0>)
        >>> loss.backward()
        >>> log_probs.grad  # -Psi_t / N: descending raises the log-prob of well-paid actions
        tensor([-0.5000, -1.0000])

    """
    weights = torch.as_tensor(weights, dtype=log_probs.dtype).detach()
    return -(log_probs * weights).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    r"""Regression of the baseline on the returns: :math:`\frac{1}{N}\sum_t (V_\phi(s_t) - G_t)^2`.

    The returns are the regression's targets, constants (detached here): a target computed
    from :math:`V_\phi` itself, such as A2C's :math:`\hat A_t + V_\phi(s_t)`, must not be
    chased by the gradient.

    Example:
        >>> value_loss(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0]))
        tensor(0.5000)

    """
    return ((values - torch.as_tensor(returns, dtype=values.dtype).detach()) ** 2).mean()


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReinforceHistory:
    r"""What :func:`train` returns.

    Attributes:
        episode_returns: Undiscounted return of each training episode.
        episode_lengths: Steps of each training episode.
        episode_end_steps: Env steps taken when each episode ended (x axis of a curve).
        losses: Policy loss of each update.
        value_losses: Baseline regression loss of each update (empty unless baseline="value").
        evaluations: Evaluations ``(step, mean, std, train_seconds)``; the last one is after
            training.
        train_seconds: Wall time of training, evaluations excluded.
        wall_seconds: Wall time of the whole call.
        policy: The trained :class:`~rlkit.nets.CategoricalPolicy`.
        value_network: The trained :math:`V_\phi` (None unless baseline="value").
        config: The settings used.
        seed: The seed used.

    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_end_steps: np.ndarray
    losses: np.ndarray
    value_losses: np.ndarray
    evaluations: tuple[EvalPoint, ...]
    train_seconds: float
    wall_seconds: float
    policy: CategoricalPolicy
    value_network: torch.nn.Module | None
    config: ReinforceConfig
    seed: int

    @property
    def final_evaluation(self) -> EvalPoint:
        """The evaluation after training."""
        return self.evaluations[-1]

    def act(self, obs: npt.ArrayLike) -> int:
        r"""Return the most likely action :math:`\arg\max_a \pi_\theta(a|s)` for one obs."""
        return int(self.policy.act(obs, deterministic=True))


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def train(
    config: ReinforceConfig = ReinforceConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    reward_to_go_fn: Callable[[Any, float], Any] = reward_to_go,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = reinforce_loss,
    env: EnvLike | None = None,
    progress: bool = False,
) -> ReinforceHistory:
    """Train a softmax policy with REINFORCE and return its history.

    Args:
        config: Hyperparameters.
        seed: Seeds torch (initial weights), the action sampler, the env's first reset and the
            evaluations: same seed, same history.
        reward_to_go_fn: Same signature as :func:`reward_to_go`; it receives one episode's
            rewards as a float64 numpy array.
        loss_fn: Same signature as :func:`reinforce_loss`.
        env: An env id or factory to use instead of ``config.env_id``.
        progress: Show a tqdm progress bar over env steps.

    Returns:
        A :class:`ReinforceHistory`.

    Example:
        >>> config = ReinforceConfig(total_steps=400, batch_size=200, eval_episodes=2)
        >>> history = train(config, seed=0)
        >>> len(history.losses), history.evaluations[-1].step >= 400
        (2, True)

    """
    with torch_threads(config.torch_threads):
        return _train(config, seed, reward_to_go_fn, loss_fn, env, progress)


def _train(
    config: ReinforceConfig,
    seed: int,
    reward_to_go_fn: Callable[[Any, float], Any],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    env_like: EnvLike | None,
    progress: bool,
) -> ReinforceHistory:
    start_time = time.perf_counter()

    # 1. Seed: torch's global generator (initial weights), a torch Generator for the actions.
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)

    # 2. Env
    env_spec = config.env_id if env_like is None else env_like
    env = make_discrete_env(env_spec, seed, "this REINFORCE")
    obs_dim, n_actions = int(np.prod(env.observation_space.shape)), int(env.action_space.n)

    # 3. Model: pi_theta, and V_phi if the baseline is learned.
    policy = CategoricalPolicy(obs_dim, n_actions, config.hidden_sizes)
    value_network = None
    if config.baseline == "value":
        value_network = mlp([obs_dim, *config.value_hidden_sizes, 1])

    def values_of(obs: torch.Tensor) -> torch.Tensor:
        assert value_network is not None
        return value_network(obs).squeeze(-1)

    # 4. Buffer: this batch's steps, whole episodes only (REINFORCE is on-policy: each batch
    # is used for one update and thrown away).
    batch_obs: list[np.ndarray] = []
    batch_actions: list[int] = []
    batch_weights: list[np.ndarray] = []

    # 5. Losses
    def compute_loss(
        obs: torch.Tensor, actions: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        if config.baseline == "mean":
            advantages = weights - weights.mean()
        elif config.baseline == "value":
            with torch.no_grad():  # CRUCIAL: b(s_t) is a constant of the policy loss
                advantages = weights - values_of(obs)
        else:
            advantages = weights
        return loss_fn(policy.log_prob(obs, actions), advantages.detach())

    # 6. Optimisers
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    value_optimizer = None
    if value_network is not None:
        value_optimizer = torch.optim.Adam(
            value_network.parameters(), lr=config.value_learning_rate
        )

    # 7. Update: one policy-gradient step on the batch, then fit the baseline to G_t.
    def update() -> tuple[float, float]:
        obs = torch.as_tensor(np.array(batch_obs)).float()
        actions = torch.as_tensor(np.array(batch_actions))
        weights = torch.as_tensor(np.concatenate(batch_weights)).float()
        loss = compute_loss(obs, actions, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        fitted = float("nan")
        if value_optimizer is not None:
            for _ in range(config.value_iters):
                critic_loss = value_loss(values_of(obs), weights)
                value_optimizer.zero_grad()
                critic_loss.backward()
                value_optimizer.step()
            fitted = float(critic_loss.detach())
        return float(loss.detach()), fitted

    # 8. Loop
    returns: list[float] = []
    lengths: list[int] = []
    end_steps: list[int] = []
    losses: list[float] = []
    value_losses: list[float] = []
    # Evaluations start from seed + EVAL_SEED_OFFSET, with a sampler apart from training's.
    run_evaluation = Evaluator(
        env_spec, policy, env.action_space, seed, config.eval_episodes, config.eval_max_steps,
        config.eval_deterministic, start_time,
    )  # fmt: skip
    bar = progress_bar(progress, config.total_steps, "REINFORCE")

    step = 0
    next_eval = config.eval_interval
    obs, _ = env.reset(seed=seed)
    try:
        while step < config.total_steps:
            batch_obs.clear()
            batch_actions.clear()
            batch_weights.clear()
            while len(batch_obs) < config.batch_size:  # whole episodes until the batch is full
                episode_rewards: list[float] = []
                done = truncated = False
                while not done:
                    action = policy.act(obs, generator)
                    next_obs, reward, terminated, truncated, _ = env.step(action)
                    batch_obs.append(obs)
                    batch_actions.append(action)
                    episode_rewards.append(float(reward))
                    obs = next_obs
                    done = terminated or truncated
                rewards = np.array(episode_rewards)
                weights = returns_weights(
                    rewards,
                    config.gamma,
                    weighting=config.weighting,
                    reward_to_go_fn=reward_to_go_fn,
                )
                if truncated and not terminated and value_network is not None:
                    # Time limit, not the end of the MDP: bootstrap with gamma^(T-t) V(s_T).
                    with torch.no_grad():
                        last_value = float(values_of(as_obs_tensor(obs)))
                    tail = last_value * config.gamma ** np.arange(len(rewards), 0, -1)
                    weights = weights + (tail if config.weighting == "reward_to_go" else tail[0])
                batch_weights.append(weights)
                step += len(rewards)
                returns.append(float(rewards.sum()))
                lengths.append(len(rewards))
                end_steps.append(step)
                advance(bar, step)  # the last episode may end past the budget
                obs, _ = env.reset()

            loss, fitted = update()
            losses.append(loss)
            if value_network is not None:
                value_losses.append(fitted)

            last = step >= config.total_steps
            if (config.eval_interval and step >= next_eval) or last:
                while config.eval_interval and next_eval <= step:
                    next_eval += config.eval_interval
                point = run_evaluation(step)
                if bar is not None:
                    bar.set_postfix(eval=f"{point.mean:.1f}")
                if config.target_return is not None and point.mean >= config.target_return:
                    finish_at_target(bar, step)
                    break
    finally:
        env.close()
        if bar is not None:
            bar.close()

    return ReinforceHistory(
        **run_evaluation.evaluations.history_fields(returns, lengths, end_steps),
        losses=np.array(losses, dtype=np.float64),
        value_losses=np.array(value_losses, dtype=np.float64),
        policy=policy,
        value_network=value_network,
        config=config,
        seed=seed,
    )
