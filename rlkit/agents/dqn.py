r"""Deep Q-learning (DQN) with experience replay and a fixed Q-target network.

The lecture's Algorithm 1 (Mnih et al., 2013/2015): act epsilon-greedily on
:math:`Q_\theta`, store each transition in the replay memory :math:`\mathcal{D}`, and take
gradient steps on minibatches :math:`\mathcal{B}` drawn from it,

.. math::
    \theta \leftarrow \theta - \eta \nabla_\theta \frac{1}{|\mathcal{B}|}
    \sum_{(s,a,r,s') \in \mathcal{B}} \ell\big(y - Q_\theta(s, a)\big), \qquad
    y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\tilde\theta}(s', a'),

where the target network :math:`\tilde\theta` is a copy of :math:`\theta` refreshed every
:math:`C` gradient steps (the "fixed Q-target").

Termination vs truncation: CartPole-v1 ends when the pole falls (``terminated``: the MDP is
over, :math:`y = r`) or after 500 steps (``truncated``: a time limit outside the MDP; the
target still bootstraps from :math:`s'`). Only ``terminated`` enters the mask.

The math pieces are top-level functions with the glossary's names (:func:`epsilon_greedy_action`,
:func:`td_target`, :func:`dqn_loss`, :func:`update_target`); :func:`train` takes a replacement
for each, so a notebook can run this trainer on a student's own functions.

Order of the file (Spinning Up's): settings, math pieces, history, then :func:`train` in the
steps seed, env, model, buffer, losses, optimiser, update, loop.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch's convention)

from rlkit.buffers import Batch, ReplayBuffer
from rlkit.evaluation import EnvLike, EvalPoint, TrainingEvaluations, make_discrete_env
from rlkit.nets import QNetwork, torch_threads
from rlkit.progress import finish_at_target, progress_bar
from rlkit.qlearning import epsilon_greedy
from rlkit.rollouts import EVAL_SEED_OFFSET, check_settings, float64_array
from rlkit.schedules import LinearSchedule, linear_schedule
from rlkit.seeding import seed_everything

__all__ = [
    "EVAL_SEED_OFFSET",
    "DQNConfig",
    "DQNHistory",
    "PRESETS",
    "default_config",
    "dqn_loss",
    "epsilon_greedy_action",
    "linear_epsilon",
    "sample_batch",
    "td_target",
    "train",
    "update_target",
]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DQNConfig:
    r"""Settings of :func:`train`; the defaults solve CartPole-v1 on a laptop CPU.

    The defaults are the lecture's DQN (replay memory, a target network copied every C
    gradient steps, epsilon-greedy, one gradient step per env step) with three choices that
    make it fast and steady on a CPU:

    - a short target period, C = 64 gradient steps, taken in rounds of 64 after every 64 env
      steps: each copy of the target is one more step of value propagation, so values spread
      over CartPole's ~100-step horizon within ~10k env steps;
    - ``layer_norm``: a LayerNorm in every hidden layer keeps :math:`Q_\theta` near its true
      scale (:math:`\le 1 / (1 - \gamma) = 100`). Without it, such frequent target copies let
      the max in the target inflate the values to 150-200 and the greedy policy collapses;
    - the learning rate decays linearly to 0 over the budget, so that late updates refine the
      small differences between the two actions' values instead of shaking them.

    On CartPole-v1 a greedy evaluation reaches 475+ within 7k-27k env steps (median 13k, about
    12 s of training on one CPU thread, over 5 seeds), and the final policy after 50k steps
    usually stays there. The CartPole-v1 preset (:data:`PRESETS`, :func:`default_config`)
    takes half the gradient steps on batches twice as big. ``benchmarks/bench_dqn.py``
    measures it next to Stable-Baselines3 with the zoo's settings, seeds 0-4 alternated
    (2026-12-07, a quiet machine): first greedy evaluation >= 475 after a median 14k env steps
    (9.5 s of training; SB3 15k, 19.9 s), 5 in a row >= 475 on 5 of 5 seeds from a median 18k
    (12.8 s; SB3 on 2 of 5, 43.5k, 66.4 s), every final at 500 (SB3 4 of 5), 85 % of the
    later evaluations >= 475 (71 % on the worst seed; SB3 35 %, 21 %).

    Example:
        >>> DQNConfig().gamma, DQNConfig(use_target_network=False).use_replay
        (0.99, True)

    """

    env_id: str = "CartPole-v1"
    """Gymnasium id of an env with a Box observation and Discrete actions."""
    total_steps: int = 50_000
    """Budget of environment steps (CartPole-v1: usually solved within 10k to 30k)."""
    gamma: float = 0.99
    """Discount factor gamma in [0, 1]; 0.99 gives an effective horizon of ~100 steps."""
    learning_rate: float = 1e-3
    """Adam step size eta at step 0; typically 1e-4 (Atari) to 2.5e-3 (CartPole)."""
    final_learning_rate: float | None = 0.0
    """eta decays linearly from ``learning_rate`` to this over ``total_steps`` (None: constant
    ``learning_rate``)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden widths of the Q-network (ReLU); 64x64 is plenty for CartPole."""
    layer_norm: bool = True
    """LayerNorm in every hidden layer of the Q-network (see :class:`rlkit.nets.QNetwork`)."""
    buffer_size: int = 100_000
    """Replay memory capacity N; typically 10^4 to 10^6 transitions."""
    batch_size: int = 128
    """Minibatch size |B|; typically 32 to 256."""
    learning_starts: int = 1_000
    """Env steps of pure data collection before the first gradient step."""
    train_freq: int = 64
    """Env steps between two rounds of gradient steps (the DQN paper: 4; 1 = every step)."""
    gradient_steps: int = 64
    """Gradient steps per round. 64 every 64 env steps keeps the lecture's one update per env
    step on average, in rounds that are cheaper on a CPU."""
    target_update_interval: int = 64
    """C: gradient steps between two target-network updates (typically 64 to 10^4: shorter
    propagates values faster, longer is steadier)."""
    tau: float = 1.0
    """Target update rate in (0, 1]: 1 copies (the lecture), < 1 is Polyak averaging."""
    epsilon_start: float = 1.0
    """Exploration rate at step 0 (1 = uniformly random actions)."""
    epsilon_end: float = 0.05
    """Exploration rate after the decay, 0.01 to 0.1 (the DQN paper: 0.1)."""
    epsilon_decay_steps: int = 5_000
    """Env steps over which epsilon decays linearly from start to end."""
    max_grad_norm: float | None = None
    """Clip the global gradient norm to this (None: no clipping; the Huber loss already
    bounds each TD error's pull, as in the DQN paper)."""
    action_gap: float = 0.0
    """alpha in [0, 1): advantage learning (Baird, 1999; Bellemare et al., 2016), the target
    y - alpha (max_a Q~(s, a) - Q~(s, a_taken)). It lowers the value of every action but the
    best by alpha times its gap to the best, which widens the gaps without changing which
    action is best; 0 is the lecture's target."""
    dueling: bool = False
    """The Q-network's dueling head: Q = V + A - mean(A) (see :class:`rlkit.nets.QNetwork`)."""
    double_q: bool = False
    """Double DQN (van Hasselt et al., 2016): the online network picks the next action, the
    target network values it, y = r + gamma (1 - terminated) Q~(s', argmax_a' Q(s', a')).
    The lecture's max picks out the noise that makes one action look best, so its values
    drift upward; letting the other network choose removes most of that bias (one more
    forward pass per gradient step)."""
    use_replay: bool = True
    """Ablation: False trains on the latest transition only (a buffer of one, batch of one)."""
    use_target_network: bool = True
    """Ablation: False computes targets with the online network theta itself."""
    eval_interval: int = 1_000
    """Evaluate the greedy policy every this many env steps (0: only after training)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    eval_max_steps: int | None = None
    """Cap on the steps of an evaluation episode (None: the env's own time limit); a short
    run only needs to show the pole balanced for this long, and a capped evaluation is cheap."""
    target_return: float | None = None
    """Stop early once an evaluation's mean return reaches this (None: use the budget)."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(
            self, at_least_one=("total_steps", "buffer_size", "batch_size", "train_freq",
                                "gradient_steps", "target_update_interval", "eval_episodes",
                                "eval_max_steps"),
            unit_interval=("gamma", "epsilon_start", "epsilon_end"),
            positive=("learning_rate",),
            non_negative=("learning_starts", "epsilon_decay_steps", "eval_interval",
                          "final_learning_rate"),
            optional=("eval_max_steps", "final_learning_rate"),
        )  # fmt: skip
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1]; got {self.tau}")
        if not 0.0 <= self.action_gap < 1.0:
            raise ValueError(f"action_gap must be in [0, 1); got {self.action_gap}")


PRESETS: dict[str, DQNConfig] = {
    "CartPole-v1": DQNConfig(
        batch_size=256,
        learning_starts=500,
        train_freq=64,
        gradient_steps=32,  # half the defaults' updates, on batches twice as big
        target_update_interval=32,
        learning_rate=2e-3,
        epsilon_decay_steps=3_000,
    ),
}
"""Settings tuned per env; :func:`default_config` returns them (``python -m rlkit train dqn``).

CartPole-v1: the defaults' one gradient step per env step in rounds of 64 costs about 1 ms
of CPU per env step, most of it the gradient steps (``benchmarks/cost_per_step.py``). The
preset takes half as many on batches twice as big (32 every 64 env steps, batch 256, the
target copied after each round), at twice the step size (2e-3, still decaying to 0), and
explores for less long (epsilon down to 0.05 over 3k steps, learning from step 500). Tuned
on seeds 10-12 only, never on the benchmark's seeds 0-4 (one CPU thread, 50k steps): the
first greedy evaluation >= 475 after 6k / 13k / 15k env steps (the defaults: a median 13k
at twice the cost per step), 5 evaluations in a row >= 475 from 8k / 18k / 15k, every final
evaluation at 500, 93 / 70 / 100 % of the later evaluations >= 475. Tried and dropped there:
16 gradient steps per round (batch 256: first hit at 19k-23k), batch 128 with 32 (9k, 22k;
a final at 367), batch 512 (stable only at 25k-29k), a target copy every other round (23k,
31k), epsilon decayed over 2k steps (seed 10: 14k, final 282).

What keeps the greedy policy solved once it is: nothing tried on seeds 10-14 came near 90 % of
the later evaluations >= 475 on every seed (the preset there: stable on 4 of 5 seeds, finals at
500 on 4, 26-100 % later): ``double_q`` (finals 2 of 5), ``dueling`` (4 of 5, 26-81 %), both
(two finals under 200), Polyak averaging (tau 0.02 every gradient step: 0-100 %), a target copy
every other round, a final epsilon of 0.01, gamma 0.995 (a seed never solved), a step size of
1e-3 (38-94 %), ``action_gap`` 0.5 or 0.9 (stable on 5 of 5, but 51-85 % and 63-68 % later, and
later stable solves: a median 19k and 26k). The values of CartPole's two actions differ by
~0.05 on values near 100 (seed 13 after 50k steps), well under the TD errors of a minibatch, so
which action looks best flips from one round to the next.
"""


def default_config(env_id: str = "CartPole-v1", **overrides: Any) -> DQNConfig:
    """The tuned settings of ``env_id`` (``PRESETS``, else the defaults), with ``overrides``.

    Example:
        >>> default_config().batch_size, default_config("Acrobot-v1") == DQNConfig("Acrobot-v1")
        (256, True)
        >>> default_config("CartPole-v1", total_steps=1_000).total_steps
        1000

    """
    base = PRESETS.get(env_id, DQNConfig(env_id=env_id))
    return dataclasses.replace(base, **overrides)


# --------------------------------------------------------------------------------------------
# Math pieces (a notebook re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    r"""Exploration rate at env step ``step``: linear from ``start`` to ``end``, then ``end``.

    .. math:: \epsilon(t) = \epsilon_\text{start} + (\epsilon_\text{end} - \epsilon_\text{start})
        \min(1, t / T_\text{decay})

    Example:
        >>> [round(linear_epsilon(t, 1.0, 0.1, 10), 2) for t in (0, 5, 10, 99)]
        [1.0, 0.55, 0.1, 0.1]

    """
    return linear_schedule(start, end, decay_steps)(step)


def sample_batch(buffer: ReplayBuffer, batch_size: int, rng: np.random.Generator) -> Batch:
    """Experience replay: ``batch_size`` transitions drawn uniformly from the filled buffer.

    Indices are drawn with replacement from ``[0, len(buffer))`` and index every field, so
    ``(s, a, r, s', terminated, truncated)`` of a row belong together. Returns numpy arrays
    (:meth:`rlkit.buffers.Batch.to_torch` converts them).

    Example:
        >>> buffer = ReplayBuffer(8, obs_shape=(1,))
        >>> buffer.add([0.0], 1, 2.0, [1.0], terminated=False, truncated=False)
        >>> sample_batch(buffer, 3, np.random.default_rng(0)).rewards
        array([2., 2., 2.], dtype=float32)

    """
    return buffer.sample(batch_size, rng)


def epsilon_greedy_action(
    q_values: npt.ArrayLike | torch.Tensor, epsilon: float, rng: np.random.Generator
) -> int | np.ndarray:
    r"""Epsilon-greedy action(s) from :math:`Q(s, \cdot)`.

    .. math:: a = \begin{cases} \text{uniform over } \mathcal{A} & \text{with probability }
        \epsilon \\ \arg\max_a Q(s, a) & \text{otherwise} \end{cases}

    so the greedy action is taken with probability :math:`1 - \epsilon + \epsilon / |\mathcal{A}|`.
    Ties in the argmax are broken at random. One row is the tabular
    :func:`rlkit.qlearning.epsilon_greedy`; a batch applies it to each row.

    Args:
        q_values: One row ``(A,)`` or a batch ``(B, A)`` (numpy or torch).
        epsilon: Exploration probability in ``[0, 1]``.
        rng: The generator every random choice comes from.

    Returns:
        An ``int`` for a row, an int64 array ``(B,)`` for a batch.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> epsilon_greedy_action(np.array([0.5, 2.0]), 0.0, rng)
        1
        >>> epsilon_greedy_action(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 0.0, rng)
        array([0, 1])

    """
    q = q_values.detach().cpu().numpy() if torch.is_tensor(q_values) else np.asarray(q_values)
    if q.ndim == 1:
        return epsilon_greedy(q, epsilon, rng)
    if q.ndim != 2:
        raise ValueError(f"q_values must be (A,) or (B, A); got shape {q.shape}")
    return np.array([epsilon_greedy(row, epsilon, rng) for row in q], dtype=np.int64)


def td_target(
    rewards: torch.Tensor,
    next_q_values: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    r"""Compute the TD target of a batch of transitions.

    .. math:: y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\tilde\theta}(s', a')

    Pass ``terminated`` only: after a truncation (a time limit) the next state still has a
    value, so the target bootstraps. Call it under ``torch.no_grad()`` (:func:`train` does):
    the target is a constant of the loss.

    Args:
        rewards: ``r``, shape ``(B,)``.
        next_q_values: :math:`Q_{\tilde\theta}(s', \cdot)` from the target network, ``(B, A)``.
        terminated: 1/True where ``s'`` is terminal, shape ``(B,)`` (float or bool).
        gamma: Discount factor in ``[0, 1]``.

    Returns:
        ``y``, shape ``(B,)``, the dtype of ``rewards``.

    Example:
        >>> rewards = torch.tensor([1.0, 1.0])
        >>> next_q = torch.tensor([[2.0, 3.0], [2.0, 3.0]])
        >>> td_target(rewards, next_q, torch.tensor([0.0, 1.0]), gamma=0.9)  # 1 + .9 * 3; 1
        tensor([3.7000, 1.0000])

    """
    rewards = torch.as_tensor(rewards)
    not_terminal = 1.0 - torch.as_tensor(terminated).to(rewards.dtype)  # bool-safe mask
    return rewards + gamma * not_terminal * torch.as_tensor(next_q_values).max(dim=-1).values


def dqn_loss(q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Huber loss between :math:`Q_\theta(s, a)` of the taken actions and the targets ``y``.

    .. math::
        L(\theta) = \frac{1}{B} \sum_j \ell(y_j - Q_\theta(s_j, a_j)), \qquad
        \ell(x) = \begin{cases} x^2/2 & |x| \le 1 \\ |x| - 1/2 & \text{otherwise} \end{cases}

    Near the target this is the lecture's squared error :math:`(y - Q)^2` (halved); far from
    it the gradient stays bounded by 1, which is the error clipping of Mnih et al. (2015) and
    keeps the early, large TD errors from blowing up the step.

    Args:
        q_values: :math:`Q_\theta(s, \cdot)` of the online network, ``(B, A)``, with gradients.
        actions: Actions taken, int64 ``(B,)``.
        targets: ``y``, ``(B,)``, a constant (no gradient).

    Returns:
        A scalar tensor.

    Example:
        >>> q = torch.tensor([[1.0, 2.0], [0.0, 5.0]], requires_grad=True)
        >>> dqn_loss(q, torch.tensor([1, 0]), torch.tensor([2.5, 3.0]))  # (.5 * .5^2 + 2.5) / 2
        tensor(1.3125, grad_fn=<SmoothL1LossBackward0>)

    """
    index = torch.as_tensor(actions).long().unsqueeze(-1)
    chosen = q_values.gather(-1, index).squeeze(-1)  # Q(s_j, a_j)
    return F.smooth_l1_loss(chosen, torch.as_tensor(targets, dtype=chosen.dtype))


@torch.no_grad()
def update_target(online: nn.Module, target: nn.Module, tau: float = 1.0) -> None:
    r"""Move the target network towards the online one: :math:`\tilde\theta \leftarrow
    \tau \theta + (1 - \tau) \tilde\theta` (in place).

    ``tau = 1`` copies (the lecture's "update every C steps"); a small ``tau`` every step is
    Polyak averaging.

    Example:
        >>> online, target = nn.Linear(1, 1), nn.Linear(1, 1)
        >>> update_target(online, target)
        >>> torch.equal(online.weight, target.weight)
        True

    """  # noqa: D205
    for param, target_param in zip(online.parameters(), target.parameters(), strict=True):
        if tau == 1.0:
            target_param.copy_(param)
        else:
            target_param.lerp_(param, tau)


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DQNHistory:
    r"""What :func:`train` returns.

    Attributes:
        episode_returns: Undiscounted return of each finished training episode.
        episode_lengths: Steps of each training episode.
        episode_end_steps: Env steps taken when each episode ended (x axis of a curve).
        epsilons: Exploration rate at the start of each episode.
        losses: Loss of each gradient step.
        evaluations: Greedy-policy evaluations ``(step, mean, std, train_seconds)``; the last
            one is after training.
        train_seconds: Wall time of training, evaluations excluded.
        wall_seconds: Wall time of the whole call.
        q_network: The trained online network :math:`Q_\theta`.
        config: The settings used.
        seed: The seed used.

    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_end_steps: np.ndarray
    epsilons: np.ndarray
    losses: np.ndarray
    evaluations: tuple[EvalPoint, ...]
    train_seconds: float
    wall_seconds: float
    q_network: QNetwork
    config: DQNConfig
    seed: int

    @property
    def final_evaluation(self) -> EvalPoint:
        """The evaluation after training."""
        return self.evaluations[-1]

    def act(self, obs: npt.ArrayLike) -> int:
        r"""Return the greedy action :math:`\arg\max_a Q_\theta(s, a)` for one observation."""
        return int(_greedy_action(self.q_network, obs))


def _greedy_action(q_network: nn.Module, obs: npt.ArrayLike) -> Any:
    """Return argmax_a Q(s, a): an ``int`` for one observation, an array for a batch."""
    with torch.no_grad():
        actions = q_network(obs).argmax(dim=-1)
    return int(actions) if actions.ndim == 0 else actions.numpy()


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def train(
    config: DQNConfig = DQNConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    td_target_fn: Callable[..., torch.Tensor] = td_target,
    loss_fn: Callable[..., torch.Tensor] = dqn_loss,
    policy_fn: Callable[..., Any] = epsilon_greedy_action,
    update_target_fn: Callable[..., None] = update_target,
    epsilon_fn: Callable[..., float] = linear_epsilon,
    sample_fn: Callable[..., Batch] = sample_batch,
    env: EnvLike | None = None,
    progress: bool = False,
) -> DQNHistory:
    """Train a Q-network with DQN and return its history.

    Args:
        config: Hyperparameters and ablation switches.
        seed: Seeds torch (network initialisation), the numpy Generator (exploration and
            minibatches), the env's first reset and the evaluations: same seed, same history.
        td_target_fn: Same signature as :func:`td_target`.
        loss_fn: Same signature as :func:`dqn_loss`.
        policy_fn: Same signature as :func:`epsilon_greedy_action`; it receives one numpy row
            ``Q(s, .)``.
        update_target_fn: Same signature as :func:`update_target`.
        epsilon_fn: Same signature as :func:`linear_epsilon`; called with the config's
            ``epsilon_start``, ``epsilon_end`` and ``epsilon_decay_steps``.
        sample_fn: Same signature as :func:`sample_batch`.
        env: An env id or factory to use instead of ``config.env_id``.
        progress: Show a tqdm progress bar over env steps.

    Returns:
        A :class:`DQNHistory`.

    Example:
        >>> config = DQNConfig(total_steps=300, learning_starts=100, train_freq=1,
        ...                    gradient_steps=1, eval_episodes=2)
        >>> history = train(config, seed=0)
        >>> len(history.losses), history.evaluations[-1].step  # updates at steps 100..300
        (201, 300)

    """
    with torch_threads(config.torch_threads):
        pieces = _Pieces(td_target_fn, loss_fn, policy_fn, update_target_fn, epsilon_fn,
                         sample_fn)
        return _train(config, seed, pieces, env, progress)


@dataclass(frozen=True)
class _Pieces:
    """The math pieces :func:`train` runs: rlkit's or a student's."""

    td_target: Callable[..., torch.Tensor]
    loss: Callable[..., torch.Tensor]
    policy: Callable[..., Any]
    update_target: Callable[..., None]
    epsilon: Callable[..., float]
    sample: Callable[..., Batch]


def _train(
    config: DQNConfig, seed: int, pieces: _Pieces, env_like: EnvLike | None, progress: bool
) -> DQNHistory:
    start_time = time.perf_counter()

    # 1. Seed: torch's global generator (initial weights), one numpy Generator for the rest.
    rng = seed_everything(seed)

    # 2. Env
    env_spec = config.env_id if env_like is None else env_like
    env = make_discrete_env(env_spec, seed, "DQN")
    obs_shape = env.observation_space.shape
    obs_dim, n_actions = int(np.prod(obs_shape)), int(env.action_space.n)

    # 3. Model: the online network theta and the target network theta~ (a frozen copy).
    q_network = QNetwork(obs_dim, n_actions, config.hidden_sizes, layer_norm=config.layer_norm,
                         dueling=config.dueling)
    if config.use_target_network:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    else:
        target_network = q_network  # ablation: targets move with every step

    # 4. Buffer: without replay, a memory of one transition and a minibatch of one.
    buffer = ReplayBuffer(config.buffer_size if config.use_replay else 1, obs_shape)
    batch_size = config.batch_size if config.use_replay else 1

    def epsilon_at(step: int) -> float:
        return float(pieces.epsilon(
            step, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps
        ))  # fmt: skip

    # 5. Losses
    def compute_loss(batch: Any) -> torch.Tensor:
        # CRUCIAL: the target y is a constant; no gradient may flow into it (and so into
        # theta~, or into theta through the target when use_target_network=False).
        with torch.no_grad():
            if config.action_gap:  # one call of the target network for s' and s
                both = target_network(torch.cat([batch.next_obs, batch.obs]))
                next_q_values, q_now = both.split(len(batch.next_obs))
            else:
                next_q_values = target_network(batch.next_obs)
            if config.double_q:  # Q~(s', argmax_a' Q(s', a')) as one column: its max is itself
                chosen = q_network(batch.next_obs).argmax(dim=-1, keepdim=True)
                next_q_values = next_q_values.gather(-1, chosen)
            targets = pieces.td_target(
                batch.rewards, next_q_values, batch.terminated, config.gamma
            )
            if config.action_gap:
                taken = q_now.gather(-1, batch.actions.long().unsqueeze(-1)).squeeze(-1)
                targets = targets - config.action_gap * (q_now.max(dim=-1).values - taken)
        # The mask uses batch.terminated only: batch.truncated (time limit) must bootstrap.
        return pieces.loss(q_network(batch.obs), batch.actions, targets)

    # 6. Optimiser (fused: one kernel for all parameters, ~30% faster on tiny CPU nets)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=config.learning_rate, fused=True)
    final_rate = config.final_learning_rate
    # LinearSchedule, not linear_schedule: notebook 03 withholds linear_schedule (it is a
    # second linear_epsilon), and this trainer runs in its grading box
    learning_rate_at = LinearSchedule(
        float(config.learning_rate),
        float(config.learning_rate if final_rate is None else final_rate),
        int(config.total_steps),
    )

    # 7. Update: one gradient step on a minibatch from the replay memory. The loss stays a
    # tensor (one conversion to numpy at the end, not one .item() per gradient step).
    def update() -> torch.Tensor:
        batch = Batch(*pieces.sample(buffer, batch_size, rng)).to_torch()
        loss = compute_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        if config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)
        optimizer.step()
        return loss.detach()

    # 8. Loop
    eval_seed = seed + EVAL_SEED_OFFSET
    returns: list[float] = []
    lengths: list[int] = []
    end_steps: list[int] = []
    epsilons: list[float] = []
    losses: list[torch.Tensor] = []
    evaluations = TrainingEvaluations(
        env_spec, eval_seed, config.eval_episodes, config.eval_max_steps, start_time
    )

    def run_evaluation(step: int) -> EvalPoint:
        return evaluations(step, lambda observations: _greedy_action(q_network, observations))

    bar = progress_bar(progress, config.total_steps, "DQN")

    obs, _ = env.reset(seed=seed)
    episode_return, episode_length = 0.0, 0
    epsilons.append(epsilon_at(0))
    n_updates = 0
    step = 0
    try:
        while step < config.total_steps:
            epsilon = epsilon_at(step)
            with torch.no_grad():
                q_row = q_network(obs).numpy()
            action = pieces.policy(q_row, epsilon, rng)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            # Store next_obs as the env returned it, also at a time limit (bootstrap from it).
            buffer.add(obs, action, float(reward), next_obs, terminated, truncated)
            obs = next_obs
            episode_return += float(reward)
            episode_length += 1
            step += 1
            if terminated or truncated:
                returns.append(episode_return)
                lengths.append(episode_length)
                end_steps.append(step)
                epsilons.append(epsilon_at(step))
                obs, _ = env.reset()
                episode_return, episode_length = 0.0, 0

            if step >= config.learning_starts and step % config.train_freq == 0:
                for group in optimizer.param_groups:  # eta decays over the budget
                    group["lr"] = learning_rate_at(step)
                for _ in range(config.gradient_steps):
                    losses.append(update())
                    n_updates += 1
                    sync = n_updates % config.target_update_interval == 0
                    if config.use_target_network and sync:  # the fixed Q-target, every C steps
                        pieces.update_target(q_network, target_network, config.tau)

            last = step == config.total_steps
            if (config.eval_interval and step % config.eval_interval == 0) or last:
                point = run_evaluation(step)
                if bar is not None:
                    bar.set_postfix(eval=f"{point.mean:.1f}", epsilon=f"{epsilon:.3f}")
                if config.target_return is not None and point.mean >= config.target_return:
                    finish_at_target(bar, step)
                    break
            if bar is not None:
                bar.update(1)
    finally:
        env.close()
        if bar is not None:
            bar.close()

    return DQNHistory(
        **evaluations.history_fields(returns, lengths, end_steps),
        epsilons=np.array(epsilons[: len(returns)], dtype=np.float64),
        losses=float64_array(losses),
        q_network=q_network,
        config=config,
        seed=seed,
    )
