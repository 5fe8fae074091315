"""PPO's settings and the record its trainer returns.

:class:`PPOConfig` (one frozen dataclass, a docstring with the symbol and a typical range under
each field), the presets tuned for CartPole-v1 and Pendulum-v1 (:data:`PRESETS`,
:func:`default_config`) and :class:`PPOHistory`, what :func:`rlkit.agents.ppo.train` returns.
:mod:`rlkit.agents.ppo` re-exports all four; the math pieces and the trainer are there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from rlkit.rollouts import OnPolicyHistory, check_settings

__all__ = ["PRESETS", "PPOConfig", "PPOHistory", "default_config"]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PPOConfig:
    r"""Settings of :func:`~rlkit.agents.ppo.train`; the defaults are the CartPole-v1 preset.

    :func:`default_config` gives the settings tuned for an env (``PRESETS``: CartPole-v1 and
    Pendulum-v1). ``benchmarks/bench_ppo.py`` compares them with Stable-Baselines3's PPO.
    The defaults are rl-baselines3-zoo's CartPole-v1 settings (8 envs, 32 steps, one
    minibatch of 256, 20 epochs, gamma 0.98, lambda 0.8, no entropy bonus, epsilon linear
    from 0.2 to 0) with a step size linear from 2e-3 (the zoo's: 1e-3) to 0. Measured with
    one torch thread over seeds 0-4 (``bench_ppo.py``): the first evaluation >= 475 after a
    median 5k env steps (3.1 s of training; SB3 with the zoo's settings: 10k, 4.6 s), every
    seed at 500 after 100k steps, 91 % of the later evaluations >= 475. Pendulum-v1's preset
    ended 200k steps at -132 to -172 (SB3 with gSDE: -158 to -543).

    One update: a rollout of ``n_steps`` steps in each of ``n_envs`` envs (``N = n_steps *
    n_envs`` samples), its GAE advantages and critic targets computed once with the critic of
    collection time, then ``n_epochs`` passes over the rollout, each a fresh permutation cut
    into ``n_minibatches`` minibatches (:func:`~rlkit.agents.ppo.minibatch_indices`), one Adam
    step per minibatch on :func:`~rlkit.agents.ppo.ppo_loss`.

    Example:
        >>> config = PPOConfig()
        >>> config.n_envs * config.n_steps // config.n_minibatches  # samples per minibatch
        256

    """

    env_id: str = "CartPole-v1"
    """Gymnasium id of an env with a Box observation and Discrete or Box actions."""
    total_steps: int = 100_000
    """Budget of environment steps, summed over the envs (the last rollout may pass it)."""
    n_envs: int = 8
    """Envs stepped side by side (typically 1 to 16)."""
    n_steps: int = 32
    """Rollout length T per env before each update (typically 32 to 2048; GAE sums this far)."""
    n_epochs: int = 20
    """K, passes over each rollout (typically 3 to 20). More epochs reuse the data more, and
    move pi further from pi_old: the clipping (and ``target_kl``) is what keeps that safe."""
    n_minibatches: int = 1
    """Minibatches per epoch (must divide N = n_steps * n_envs; typically 1 to 32)."""
    gamma: float = 0.98
    """Discount factor gamma in [0, 1] (typically 0.9 to 0.999)."""
    gae_lambda: float = 0.8
    """GAE's lambda in [0, 1] (typically 0.8 to 0.98): 0 the TD error, 1 the n-step return."""
    clip_eps: float = 0.2
    """epsilon of L^CLIP, the ratio's clip range [1 - eps, 1 + eps] (typically 0.1 to 0.3)."""
    final_clip_eps: float | None = 0.0
    """epsilon decays linearly to this over ``total_steps`` (None: constant). At 0 the last
    updates leave pi where it is."""
    learning_rate: float = 2e-3
    """Adam's step size at step 0 (typically 1e-4 to 3e-3), for both networks (CartPole-v1:
    2e-3, twice the zoo's, reaches 475 in fewer steps and stays there as often)."""
    final_learning_rate: float | None = 0.0
    """The step size decays linearly to this over ``total_steps`` (None: constant)."""
    target_kl: float | None = None
    """Early stopping: the epochs of an update stop at the first minibatch whose approximate
    KL(pi_old || pi) (``kl_fn``) exceeds this (typically 0.01 to 0.05; None: off)."""
    clip_value: float | None = None
    """Value clipping: V_phi may move at most this far from V_old per update before its error
    stops counting (:func:`~rlkit.agents.ppo.clipped_value_loss`; in the scaled rewards' units;
    None: off)."""
    normalize_advantages: bool = True
    """Standardise the advantages of each MINIBATCH
    (:func:`~rlkit.agents.ppo.normalize_advantages`), as Stable-Baselines3 and CleanRL do: every
    gradient step sees advantages of mean 0 and std 1, whatever the scale of the rewards (with
    one minibatch: the whole rollout)."""
    value_coef: float = 0.5
    """c_v, weight of the critic's loss (typically 0.5 to 1)."""
    entropy_coef: float = 0.0
    """c_e, weight of the entropy bonus (0 to 0.01)."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm to this (None: no clipping)."""
    reward_scale: float = 1.0
    """The learner sees r * reward_scale (the history keeps the env's rewards)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden widths of the actor pi_theta (tanh)."""
    value_hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden widths of the critic V_phi (tanh)."""
    log_std_init: float = 0.0
    """Box actions: initial log sigma of the Gaussian policy (0: sigma = 1)."""
    eval_interval: int = 1_000
    """Evaluate after the first update at or past every multiple of this (0: only at the end)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    eval_max_steps: int | None = None
    """Cap on the steps of an evaluation episode (None: the env's own time limit)."""
    eval_deterministic: bool = True
    """Evaluate the most likely action / the mean (True) or sample from pi (False)."""
    target_return: float | None = None
    """Stop early once an evaluation's mean return reaches this (None: use the budget)."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(
            self, at_least_one=("total_steps", "n_envs", "n_steps", "n_epochs", "n_minibatches",
                                "eval_episodes", "eval_max_steps"),
            unit_interval=("gamma", "gae_lambda"),
            positive=("clip_eps", "learning_rate", "reward_scale", "target_kl", "clip_value",
                      "max_grad_norm"),
            non_negative=("eval_interval", "final_clip_eps", "final_learning_rate",
                          "value_coef", "entropy_coef"),
            optional=("eval_max_steps", "target_kl", "clip_value", "max_grad_norm",
                      "final_clip_eps", "final_learning_rate"),
        )  # fmt: skip
        samples = self.n_envs * self.n_steps
        if samples % self.n_minibatches:
            raise ValueError(
                f"n_minibatches ({self.n_minibatches}) must divide n_steps * n_envs ({samples})"
            )
        if self.normalize_advantages and samples // self.n_minibatches < 2:
            raise ValueError("normalize_advantages needs minibatches of at least 2 samples; "
                             f"got {samples // self.n_minibatches}")


PRESETS: dict[str, PPOConfig] = {
    "CartPole-v1": PPOConfig(),
    "Pendulum-v1": PPOConfig(
        env_id="Pendulum-v1",
        total_steps=200_000,
        n_envs=4,
        n_steps=1024,
        n_epochs=10,
        n_minibatches=16,  # minibatches of 256 (the zoo's 64: 4x the steps, no better here)
        gamma=0.9,  # the swing-up pays within ~10 steps
        gae_lambda=0.95,
        final_clip_eps=None,
        final_learning_rate=None,
        learning_rate=1e-3,
        eval_interval=10_000,
    ),
}
"""Settings tuned per env; :func:`default_config` returns them."""


def default_config(env_id: str = "CartPole-v1", **overrides: Any) -> PPOConfig:
    """The tuned settings of ``env_id`` (``PRESETS``, else the defaults), with ``overrides``.

    Example:
        >>> default_config("Pendulum-v1").gamma, default_config("Acrobot-v1").env_id
        (0.9, 'Acrobot-v1')

    """
    base = PRESETS.get(env_id, PPOConfig(env_id=env_id))
    return dataclasses.replace(base, **overrides)


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PPOHistory(OnPolicyHistory):
    r"""What :func:`~rlkit.agents.ppo.train` returns.

    The fields of :class:`~rlkit.rollouts.OnPolicyHistory` (episodes, evaluations, seconds,
    the networks, the seed) and these, one entry per update:

    Attributes:
        losses: Mean :func:`~rlkit.agents.ppo.ppo_loss` over the update's minibatch steps.
        policy_losses: Mean :func:`~rlkit.agents.ppo.ppo_clip_loss` over them.
        value_losses: Mean value loss over them (scaled rewards' units).
        entropies: Mean entropy of pi over them (falls as pi gets sure).
        approx_kls: KL(pi_old || pi) after the update on the whole rollout, by ``kl_fn`` (the
            low-variance estimator by default): how far one update moved pi.
        clip_fractions: Share of the samples whose ratio was outside [1 - eps, 1 + eps],
            over the update's minibatch steps.
        explained_variances: :math:`1 - \mathrm{Var}(G - V_\text{old}) / \mathrm{Var}(G)` of
            the rollout (1: the critic predicts the targets; 0: no better than their mean).
        epochs: Epochs actually run (fewer than ``n_epochs`` when ``target_kl`` stopped the
            update; fractional when it stopped mid-epoch).
        config: The settings used.

    """

    losses: np.ndarray
    policy_losses: np.ndarray
    value_losses: np.ndarray
    entropies: np.ndarray
    approx_kls: np.ndarray
    clip_fractions: np.ndarray
    explained_variances: np.ndarray
    epochs: np.ndarray
    config: PPOConfig
