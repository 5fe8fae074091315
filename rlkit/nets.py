r"""Small torch networks: an MLP builder, categorical and Gaussian policies, Q- and V-networks.

Every network takes a batch of observations ``obs`` of shape ``(B, obs_dim)`` (a single
observation of shape ``(obs_dim,)`` works too and gives outputs without the batch axis).

- :class:`QNetwork`: :math:`s \mapsto Q_\theta(s, \cdot)`, one value per discrete action (DQN).
- :class:`CategoricalPolicy`: :math:`\pi_\theta(a|s) = \mathrm{softmax}(f_\theta(s))_a`,
  the lecture's neural softmax policy (REINFORCE on CartPole).
- :class:`GaussianPolicy`: :math:`\pi_\theta(a|s) = \mathcal{N}(a;\,\mu_\theta(s),
  \mathrm{diag}(\sigma^2))` with a learned, bounded :math:`\log\sigma` (a parameter, or a
  head of the state), for continuous actions; its math is in the top-level
  :func:`gaussian_log_prob` and :func:`gaussian_entropy`.
- :class:`ValueNetwork`: :math:`s \mapsto V_\phi(s)`, the critic of actor-critic methods.

Sampling takes an optional ``torch.Generator`` so that it can be reproduced without touching
torch's global random state. :func:`torch_threads` runs a block on a fixed number of CPU
threads: tiny networks are fastest on one thread, and one thread keeps float sums in the same
order, so a seeded run repeats exactly.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

__all__ = [
    "LOG_STD_BOUNDS",
    "CategoricalPolicy",
    "GaussianPolicy",
    "QNetwork",
    "ValueNetwork",
    "as_obs_tensor",
    "bound_log_std",
    "gaussian_entropy",
    "gaussian_log_prob",
    "mlp",
    "torch_threads",
]


def require_same_shape(reference_name: str, reference: Any, **others: Any) -> None:
    """Raise a ValueError that names the argument whose shape differs from ``reference``'s.

    The math pieces (A2C's and PPO's losses, the RLHF losses) take several per-sample tensors
    that must line up; broadcasting would silently mix a ``(N,)`` with an ``(N, 1)``.

    Example:
        >>> require_same_shape("log_probs", torch.zeros(3), advantages=torch.zeros(3, 1))
        Traceback (most recent call last):
        ...
        ValueError: advantages must have the shape of log_probs, (3,); got (3, 1)

    """
    expected = tuple(torch.as_tensor(reference).shape)
    for name, tensor in others.items():
        got = tuple(torch.as_tensor(tensor).shape)
        if got != expected:
            raise ValueError(f"{name} must have the shape of {reference_name}, {expected}; "
                             f"got {got}")


def mlp(
    sizes: Sequence[int],
    activation: type[nn.Module] = nn.Tanh,
    output_activation: type[nn.Module] | None = None,
    *,
    layer_norm: bool = False,
) -> nn.Sequential:
    """Build a fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    ``activation`` follows every hidden layer; ``output_activation`` (default: none, a linear
    output as logits, Q-values and means need) follows the last one.

    Args:
        sizes: Layer widths, input first; at least two entries.
        activation: Class of the hidden activation, e.g. ``nn.Tanh`` or ``nn.ReLU``.
        output_activation: Class of the output activation, or None for a linear output.
        layer_norm: Put an ``nn.LayerNorm`` after every hidden ``Linear`` (before the
            activation).

    Returns:
        An ``nn.Sequential``.

    Example:
        >>> net = mlp([4, 32, 2], activation=nn.ReLU)
        >>> net
        Sequential(
          (0): Linear(in_features=4, out_features=32, bias=True)
          (1): ReLU()
          (2): Linear(in_features=32, out_features=2, bias=True)
        )
        >>> net(torch.zeros(5, 4)).shape
        torch.Size([5, 2])

    """
    if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
        raise ValueError(f"sizes needs >= 2 positive widths (input first); got {list(sizes)}")
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(int(sizes[i]), int(sizes[i + 1])))
        last = i == len(sizes) - 2
        if not last:
            if layer_norm:
                layers.append(nn.LayerNorm(int(sizes[i + 1])))
            layers.append(activation())
        elif output_activation is not None:
            layers.append(output_activation())
    return nn.Sequential(*layers)


def as_obs_tensor(obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
    """Observations as a float32 tensor (numpy arrays are wrapped without a copy when possible).

    Example:
        >>> as_obs_tensor(np.zeros(4)).dtype
        torch.float32

    """
    return torch.as_tensor(np.asarray(obs) if not torch.is_tensor(obs) else obs).float()


class QNetwork(nn.Module):
    r"""Action values :math:`Q_\theta(s, \cdot)`: an MLP from ``obs_dim`` to ``n_actions``.

    Args:
        obs_dim: Size of a (flat) observation.
        n_actions: Number of discrete actions ``A``.
        hidden_sizes: Widths of the hidden layers; CartPole needs no more than ``(64, 64)``.
        activation: Hidden activation class (ReLU is the DQN paper's choice).
        layer_norm: Normalise every hidden layer (``nn.LayerNorm`` before the activation).
            It keeps the features, and so :math:`Q_\theta`, bounded: TD learning with a
            network and bootstrapped targets then does not drift into overestimated values,
            which makes DQN much steadier (Ball et al., 2023; Gallici et al., 2024).
        dueling: The dueling head (Wang et al., 2016): the last layer outputs a state value
            :math:`V(s)` and advantages :math:`A(s, a)`, and
            :math:`Q(s, a) = V(s) + A(s, a) - \frac{1}{|\mathcal{A}|}\sum_{a'} A(s, a')`.
            Where the actions' values differ by little next to :math:`V` (CartPole: about
            0.05 on values near 100), the advantages are learned apart from the value.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> q = QNetwork(4, 2)
        >>> q(torch.zeros(3, 4)).shape  # one row Q(s, .) per observation
        torch.Size([3, 2])
        >>> q(np.zeros(4, dtype=np.float32)).shape  # a single observation
        torch.Size([2])

    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.ReLU,
        *,
        layer_norm: bool = False,
        dueling: bool = False,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.n_actions = int(n_actions)
        self.dueling = bool(dueling)
        outputs = self.n_actions + 1 if self.dueling else self.n_actions  # dueling: V, then A
        self.net = mlp([self.obs_dim, *hidden_sizes, outputs], activation, layer_norm=layer_norm)

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        """Q-values, shape ``(B, A)`` (or ``(A,)`` for one observation)."""
        out = self.net(as_obs_tensor(obs))
        if not self.dueling:
            return out
        value, advantages = out[..., :1], out[..., 1:]
        return value + advantages - advantages.mean(dim=-1, keepdim=True)


class CategoricalPolicy(nn.Module):
    r"""Softmax policy :math:`\pi_\theta(a|s) \propto \exp f_\theta(s)_a` over discrete actions.

    The network outputs the logits :math:`f_\theta(s)`; :meth:`distribution` wraps them in a
    ``torch.distributions.Categorical``.

    Args:
        obs_dim: Size of a (flat) observation.
        n_actions: Number of discrete actions ``A``.
        hidden_sizes: Widths of the hidden layers.
        activation: Hidden activation class.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> policy = CategoricalPolicy(4, 2, hidden_sizes=(16,))
        >>> obs = torch.zeros(3, 4)
        >>> policy.log_prob(obs, torch.tensor([0, 1, 1])).shape
        torch.Size([3])
        >>> torch.allclose(policy.distribution(obs).probs.sum(dim=-1), torch.ones(3))
        True
        >>> policy.act(obs[0], generator=torch.Generator().manual_seed(0)) in (0, 1)
        True

    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        hidden_sizes: Sequence[int] = (64,),
        activation: type[nn.Module] = nn.Tanh,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.n_actions = int(n_actions)
        self.logits_net = mlp([self.obs_dim, *hidden_sizes, self.n_actions], activation)

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r"""Logits :math:`f_\theta(s)`, shape ``(B, A)``."""
        return self.logits_net(as_obs_tensor(obs))

    def distribution(self, obs: npt.ArrayLike | torch.Tensor) -> Categorical:
        r""":math:`\pi_\theta(\cdot|s)` as a ``Categorical`` over the ``A`` actions."""
        return Categorical(logits=self(obs))

    def log_prob(
        self, obs: npt.ArrayLike | torch.Tensor, actions: npt.ArrayLike | torch.Tensor
    ) -> torch.Tensor:
        r""":math:`\log \pi_\theta(a_t|s_t)` per row, shape ``(B,)`` (differentiable in theta)."""
        return self.distribution(obs).log_prob(torch.as_tensor(actions))

    def entropy(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r"""Entropy :math:`-\sum_a \pi_\theta(a|s) \log \pi_\theta(a|s)` per row, ``(B,)``."""
        return self.distribution(obs).entropy()

    @torch.no_grad()
    def act(
        self,
        obs: npt.ArrayLike | torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        deterministic: bool = False,
    ) -> int | np.ndarray:
        r"""Sample :math:`a \sim \pi_\theta(\cdot|s)` (or the most likely action).

        Args:
            obs: One observation ``(obs_dim,)`` or a batch ``(B, obs_dim)``.
            generator: Source of the draw (torch's global one when None).
            deterministic: Return :math:`\arg\max_a \pi_\theta(a|s)` instead of sampling.

        Returns:
            An ``int`` for one observation, an int64 array ``(B,)`` for a batch.

        """
        logits = self(obs)
        if deterministic:
            actions = logits.argmax(dim=-1)
        else:
            probs = torch.softmax(logits, dim=-1).reshape(-1, self.n_actions)
            actions = torch.multinomial(probs, 1, generator=generator).reshape(logits.shape[:-1])
        return int(actions) if actions.ndim == 0 else actions.numpy()


LOG_STD_BOUNDS = (-5.0, 2.0)
r"""Default range of :math:`\log\sigma` of :class:`GaussianPolicy`: sigma in [0.0067, 7.39]."""


def gaussian_log_prob(
    actions: npt.ArrayLike | torch.Tensor,
    mean: npt.ArrayLike | torch.Tensor,
    log_std: npt.ArrayLike | torch.Tensor,
) -> Any:
    r"""Log-density of a diagonal Gaussian, summed over the action dimensions.

    .. math::
        \log \mathcal{N}(a;\, \mu, \mathrm{diag}(\sigma^2)) = \sum_{i=1}^{d} \Big[
        -\frac{(a_i - \mu_i)^2}{2 \sigma_i^2} - \log \sigma_i - \tfrac12 \log 2\pi \Big],
        \qquad \sigma_i = e^{\log\sigma_i}

    The dimensions are independent, so their log-densities add up (the last axis is the
    action axis). Evaluate it at the action the policy *sampled*, before any clipping to the
    action box: the clipped action is what the env gets, not what pi drew.

    Args:
        actions: :math:`a`, shape ``(..., d)``.
        mean: :math:`\mu_\theta(s)`, the shape of ``actions``.
        log_std: :math:`\log\sigma`, broadcastable to it: ``(d,)`` for a state-independent
            sigma, ``(..., d)`` for one per state.

    Returns:
        Shape ``(...)``: a tensor (differentiable in ``mean`` and ``log_std``) if any input is
        a tensor, else a float64 array.

    Example:
        >>> gaussian_log_prob(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(2))  # -log(2 pi)
        array([-1.83787707])
        >>> mean = torch.zeros(1, 2, requires_grad=True)
        >>> gaussian_log_prob(torch.tensor([[1.0, 0.0]]), mean, torch.zeros(2)).backward()
        >>> mean.grad  # (a - mu) / sigma^2
        tensor([[1., 0.]])

    """
    tensor_in = any(torch.is_tensor(x) for x in (actions, mean, log_std))
    a, mu, log_sigma = (_float_tensor(x) for x in (actions, mean, log_std))
    if a.ndim < 1 or a.shape != mu.shape:
        raise ValueError(
            f"actions and mean must have the same shape (..., act_dim); got {tuple(a.shape)} "
            f"and {tuple(mu.shape)}"
        )
    try:
        broadcast = torch.broadcast_shapes(log_sigma.shape, mu.shape)
    except RuntimeError:
        broadcast = None
    if broadcast != mu.shape:
        raise ValueError(
            f"log_std must broadcast to the shape of mean {tuple(mu.shape)}: (act_dim,) or "
            f"(..., act_dim); got {tuple(log_sigma.shape)}"
        )
    z = (a - mu) * torch.exp(-log_sigma)  # (a - mu) / sigma
    log_density = -0.5 * z**2 - log_sigma - 0.5 * math.log(2 * math.pi)
    result = log_density.sum(dim=-1)
    return result if tensor_in else result.numpy()


def gaussian_entropy(log_std: npt.ArrayLike | torch.Tensor) -> Any:
    r"""Entropy of a diagonal Gaussian: :math:`H = \sum_i \big(\log\sigma_i + \tfrac12
    \log 2\pi e\big)` (it does not depend on the mean).

    Args:
        log_std: :math:`\log\sigma`, shape ``(..., d)``.

    Returns:
        Shape ``(...)``: a tensor for a tensor input, else a float64 array.

    Example:
        >>> round(float(gaussian_entropy(np.zeros(1))), 4)  # 0.5 * log(2 pi e)
        1.4189

    """  # noqa: D205
    log_sigma = _float_tensor(log_std)
    if log_sigma.ndim < 1:
        raise ValueError(f"log_std must have shape (..., act_dim); got {tuple(log_sigma.shape)}")
    result = (log_sigma + 0.5 * math.log(2 * math.pi * math.e)).sum(dim=-1)
    return result if torch.is_tensor(log_std) else result.numpy()


def bound_log_std(raw: torch.Tensor, low: float, high: float) -> torch.Tensor:
    r"""Squash an unbounded :math:`x` into ``(low, high)``: :math:`\log\sigma = l + \tfrac12
    (h - l)(\tanh x + 1)`.

    A bounded :math:`\log\sigma` keeps sigma from collapsing to 0 (log-densities of +inf, the
    policy stops exploring) or exploding. tanh rather than a clamp: a clamped parameter that
    steps past a bound gets no gradient back, and stays there.

    Example:
        >>> bound_log_std(torch.tensor([-100.0, 0.0, 100.0]), -5.0, 2.0)
        tensor([-5.0000, -1.5000,  2.0000])

    """  # noqa: D205
    return low + 0.5 * (high - low) * (torch.tanh(raw) + 1.0)


def _unbound_log_std(log_std: float, low: float, high: float) -> float:
    """The ``x`` with ``bound_log_std(x, low, high) == log_std``."""
    if not low < log_std < high:
        raise ValueError(f"log_std_init must lie inside log_std_bounds ({low}, {high}); "
                         f"got {log_std}")
    return math.atanh(2.0 * (log_std - low) / (high - low) - 1.0)


def _float_tensor(x: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
    """A tensor as it is (floats kept, ints to float32), anything else as float64."""
    if torch.is_tensor(x):
        return x if x.is_floating_point() else x.float()
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


class GaussianPolicy(nn.Module):
    r"""Diagonal Gaussian policy :math:`\pi_\theta(a|s) = \mathcal{N}(a;\, \mu_\theta(s),
    \mathrm{diag}(\sigma_\theta(s)^2))` for continuous (Box) actions.

    The mean is an MLP of the observation. :math:`\log\sigma` is either one learned parameter
    per action dimension, the same in every state (``state_dependent_std=False``, as in
    Spinning Up's VPG/PPO and Stable-Baselines3's A2C), or a second MLP head of the
    observation. Either way it is squashed into ``log_std_bounds`` by :func:`bound_log_std`.

    Samples are *not* clipped to the action box: the env gets ``np.clip(a, low, high)``, while
    the log-prob is evaluated at the sampled ``a`` itself (clipping inside the log-prob would
    change the density and bias the gradient).

    Args:
        obs_dim: Size of a (flat) observation.
        act_dim: Number of action dimensions ``d``.
        hidden_sizes: Widths of the hidden layers of the mean network (and of the log-std head).
        activation: Hidden activation class.
        log_std_init: Initial :math:`\log\sigma` (in every state); -0.5 (sigma ~ 0.6) is a
            common start, -2 to 0 for actions in [-1, 1] to [-2, 2].
        state_dependent_std: Learn :math:`\log\sigma_\theta(s)` with an MLP head instead of
            one parameter per dimension.
        log_std_bounds: ``(low, high)`` of :math:`\log\sigma`; the default (-5, 2) allows
            sigma from 0.0067 to 7.4.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> policy = GaussianPolicy(3, 2, hidden_sizes=(8,))
        >>> policy.log_prob(torch.zeros(5, 3), torch.zeros(5, 2)).shape  # summed over dims
        torch.Size([5])
        >>> mean, log_std = policy.mean_and_log_std(torch.zeros(5, 3))
        >>> mean.shape, log_std.shape, round(log_std[0].item(), 4)
        (torch.Size([5, 2]), torch.Size([2]), -0.5)
        >>> policy.act(np.zeros(3, dtype=np.float32), generator=torch.Generator()).shape
        (2,)

    """  # noqa: D205

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (64,),
        activation: type[nn.Module] = nn.Tanh,
        log_std_init: float = -0.5,
        *,
        state_dependent_std: bool = False,
        log_std_bounds: tuple[float, float] = LOG_STD_BOUNDS,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        low, high = (float(b) for b in log_std_bounds)
        if not low < high:
            raise ValueError(f"log_std_bounds must be (low, high) with low < high; got "
                             f"{log_std_bounds}")
        self.log_std_bounds = (low, high)
        raw_init = _unbound_log_std(float(log_std_init), low, high)
        self.mean_net = mlp([self.obs_dim, *hidden_sizes, self.act_dim], activation)
        self.log_std_net: nn.Sequential | None = None
        self.raw_log_std: nn.Parameter | None = None
        if state_dependent_std:
            self.log_std_net = mlp([self.obs_dim, *hidden_sizes, self.act_dim], activation)
            with torch.no_grad():  # start at log_std_init in every state
                self.log_std_net[-1].weight.zero_()
                self.log_std_net[-1].bias.fill_(raw_init)
        else:
            self.raw_log_std = nn.Parameter(torch.full((self.act_dim,), raw_init))

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r"""Means :math:`\mu_\theta(s)`, shape ``(B, act_dim)``."""
        return self.mean_net(as_obs_tensor(obs))

    def mean_and_log_std(
        self, obs: npt.ArrayLike | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\mu_\theta(s)`, ``(B, d)``, and the bounded :math:`\log\sigma`: ``(d,)``
        for a state-independent sigma, ``(B, d)`` for the head.
        """  # noqa: D205
        obs = as_obs_tensor(obs)
        raw = self.raw_log_std if self.log_std_net is None else self.log_std_net(obs)
        return self.mean_net(obs), bound_log_std(raw, *self.log_std_bounds)

    def distribution(self, obs: npt.ArrayLike | torch.Tensor) -> Independent:
        r""":math:`\pi_\theta(\cdot|s)`; its ``log_prob`` sums over the action dimensions."""
        mean, log_std = self.mean_and_log_std(obs)
        return Independent(Normal(mean, log_std.exp().expand_as(mean)), 1)

    def log_prob(
        self, obs: npt.ArrayLike | torch.Tensor, actions: npt.ArrayLike | torch.Tensor
    ) -> torch.Tensor:
        r""":math:`\log \pi_\theta(a|s)` by :func:`gaussian_log_prob`, shape ``(B,)``."""
        mean, log_std = self.mean_and_log_std(obs)
        return gaussian_log_prob(as_obs_tensor(actions), mean, log_std)

    def entropy(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r"""Entropy of :math:`\pi_\theta(\cdot|s)` by :func:`gaussian_entropy`, shape ``(B,)``."""
        mean, log_std = self.mean_and_log_std(obs)
        return gaussian_entropy(log_std).expand(mean.shape[:-1])

    @torch.no_grad()
    def act(
        self,
        obs: npt.ArrayLike | torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        deterministic: bool = False,
    ) -> np.ndarray:
        r"""Sample :math:`a = \mu_\theta(s) + \sigma_\theta(s) \xi` with :math:`\xi \sim
        \mathcal{N}(0, I)`, unclipped.

        Returns a float32 array shaped like the means (the mean itself if ``deterministic``).
        """  # noqa: D205
        mean, log_std = self.mean_and_log_std(obs)
        if deterministic:
            return mean.numpy()
        noise = torch.randn(mean.shape, generator=generator)
        return (mean + log_std.exp() * noise).numpy()


class ValueNetwork(nn.Module):
    r"""State values :math:`V_\phi(s)`: an MLP from ``obs_dim`` to one number (the critic).

    Args:
        obs_dim: Size of a (flat) observation.
        hidden_sizes: Widths of the hidden layers.
        activation: Hidden activation class.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> critic = ValueNetwork(4, hidden_sizes=(8,))
        >>> critic(torch.zeros(3, 4)).shape, critic(np.zeros(4)).shape
        (torch.Size([3]), torch.Size([]))

    """

    def __init__(
        self,
        obs_dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.net = mlp([self.obs_dim, *hidden_sizes, 1], activation)

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r""":math:`V_\phi(s)`, shape ``(B,)`` (a scalar for one observation)."""
        return self.net(as_obs_tensor(obs)).squeeze(-1)


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n_threads)``; restore the old count after.

    ``None`` leaves torch's setting alone.

    Example:
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True

    """
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
