r"""Small torch networks: an MLP builder, categorical and Gaussian policy heads, a Q-network.

Every network takes a batch of observations ``obs`` of shape ``(B, obs_dim)`` (a single
observation of shape ``(obs_dim,)`` works too and gives outputs without the batch axis).

- :class:`QNetwork`: :math:`s \mapsto Q_\theta(s, \cdot)`, one value per discrete action (DQN).
- :class:`CategoricalPolicy`: :math:`\pi_\theta(a|s) = \mathrm{softmax}(f_\theta(s))_a`,
  the lecture's neural softmax policy (REINFORCE on CartPole).
- :class:`GaussianPolicy`: :math:`\pi_\theta(a|s) = \mathcal{N}(a;\,\mu_\theta(s),
  \mathrm{diag}(\sigma^2))` with a state-independent, learned :math:`\log\sigma`
  (continuous actions).

Sampling takes an optional ``torch.Generator`` so that it can be reproduced without touching
torch's global random state. :func:`torch_threads` runs a block on a fixed number of CPU
threads: tiny networks are fastest on one thread, and one thread keeps float sums in the same
order, so a seeded run repeats exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

__all__ = [
    "CategoricalPolicy",
    "GaussianPolicy",
    "QNetwork",
    "as_obs_tensor",
    "mlp",
    "torch_threads",
]


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
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.n_actions = int(n_actions)
        self.net = mlp(
            [self.obs_dim, *hidden_sizes, self.n_actions], activation, layer_norm=layer_norm
        )

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        """Q-values, shape ``(B, A)`` (or ``(A,)`` for one observation)."""
        return self.net(as_obs_tensor(obs))


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


class GaussianPolicy(nn.Module):
    r"""Diagonal Gaussian policy :math:`\mathcal{N}(\mu_\theta(s), \mathrm{diag}(\sigma^2))`.

    The mean is an MLP of the observation; :math:`\log\sigma` is one learned parameter per
    action dimension, the same in every state (as in Spinning Up's VPG/PPO).

    Args:
        obs_dim: Size of a (flat) observation.
        act_dim: Number of action dimensions.
        hidden_sizes: Widths of the hidden layers of the mean network.
        activation: Hidden activation class.
        log_std_init: Initial :math:`\log\sigma`; -0.5 (sigma ~ 0.6) is a common start.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> policy = GaussianPolicy(3, 2, hidden_sizes=(8,))
        >>> policy.log_prob(torch.zeros(5, 3), torch.zeros(5, 2)).shape  # summed over dims
        torch.Size([5])
        >>> policy.act(np.zeros(3, dtype=np.float32), generator=torch.Generator()).shape
        (2,)

    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (64,),
        activation: type[nn.Module] = nn.Tanh,
        log_std_init: float = -0.5,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        self.mean_net = mlp([self.obs_dim, *hidden_sizes, self.act_dim], activation)
        self.log_std = nn.Parameter(torch.full((self.act_dim,), float(log_std_init)))

    def forward(self, obs: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        r"""Means :math:`\mu_\theta(s)`, shape ``(B, act_dim)``."""
        return self.mean_net(as_obs_tensor(obs))

    def distribution(self, obs: npt.ArrayLike | torch.Tensor) -> Independent:
        r""":math:`\pi_\theta(\cdot|s)`; its ``log_prob`` sums over the action dimensions."""
        return Independent(Normal(self(obs), self.log_std.exp()), 1)

    def log_prob(
        self, obs: npt.ArrayLike | torch.Tensor, actions: npt.ArrayLike | torch.Tensor
    ) -> torch.Tensor:
        r"""Return :math:`\log \pi_\theta(a|s)`, shape ``(B,)``.

        The dimensions are independent, so their log-densities add up:
        :math:`\log \pi_\theta(a|s) = \sum_i \log \mathcal{N}(a_i; \mu_i, \sigma_i^2)`.
        """
        return self.distribution(obs).log_prob(as_obs_tensor(actions))

    @torch.no_grad()
    def act(
        self,
        obs: npt.ArrayLike | torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        deterministic: bool = False,
    ) -> np.ndarray:
        r"""Sample :math:`a = \mu_\theta(s) + \sigma \xi` with :math:`\xi \sim \mathcal{N}(0, I)`.

        Returns a float32 array shaped like the means (the mean itself if ``deterministic``).
        """
        mean = self(obs)
        if deterministic:
            return mean.numpy()
        noise = torch.randn(mean.shape, generator=generator)
        return (mean + self.log_std.exp() * noise).numpy()


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
