r"""Experience replay: a fixed-size numpy ring buffer of transitions :math:`(s, a, r, s')`.

The lecture's replay memory :math:`\mathcal{D}` of capacity :math:`N`: each step stores one
transition, the oldest is overwritten once the buffer is full, and a minibatch is drawn
uniformly from what is stored. Sampling from a large memory breaks the correlation between
consecutive transitions that would otherwise make each minibatch look like one short stretch of
one episode.

``terminated`` and ``truncated`` are stored apart (gymnasium's two flags): a terminated
transition ends the MDP and its target does not bootstrap; a truncated one (a time limit) does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Batch", "ReplayBuffer"]


class Batch(NamedTuple):
    """A minibatch of transitions; every field has the batch size ``B`` as its first axis.

    The fields are numpy arrays (the buffer's storage types); :meth:`to_torch` turns them into
    tensors for a loss.

    Attributes:
        obs: ``s``, shape ``(B, *obs_shape)``, the buffer's ``obs_dtype``.
        actions: ``a``, shape ``(B, *action_shape)``, the buffer's ``action_dtype``.
        rewards: ``r``, float32 ``(B,)``.
        next_obs: ``s'``, like ``obs``.
        terminated: bool ``(B,)``: ``s'`` is terminal (no bootstrap).
        truncated: bool ``(B,)``: the episode was cut after this step by a time limit
            (``s'`` still has a value; it is kept for diagnostics and never masks a target).

    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    def to_torch(self) -> Batch:
        """Convert the batch to torch tensors, ready for a loss.

        Observations and rewards become float32, integer actions int64 (what ``gather`` and
        ``Categorical.log_prob`` index with), and ``terminated``/``truncated`` float32 0/1 so
        that ``1 - terminated`` works (torch refuses ``1 - bool_tensor``).

        Example:
            >>> buffer = ReplayBuffer(4, obs_shape=(2,))
            >>> buffer.add([0.0, 1.0], 1, 1.0, [1.0, 1.0], terminated=True, truncated=False)
            >>> batch = buffer.sample(2, np.random.default_rng(0)).to_torch()
            >>> batch.actions.dtype, batch.terminated
            (torch.int64, tensor([1., 1.]))

        """
        import torch

        actions = torch.as_tensor(self.actions)
        actions = actions.long() if not actions.is_floating_point() else actions.float()
        return Batch(
            obs=torch.as_tensor(self.obs).float(),
            actions=actions,
            rewards=torch.as_tensor(self.rewards).float(),
            next_obs=torch.as_tensor(self.next_obs).float(),
            terminated=torch.as_tensor(self.terminated).float(),
            truncated=torch.as_tensor(self.truncated).float(),
        )


class ReplayBuffer:
    """Ring buffer of the last ``capacity`` transitions, sampled uniformly with replacement.

    Args:
        capacity: Maximum number of transitions ``N`` (typically 10^4 to 10^6; 1 keeps only
            the latest transition: "no replay").
        obs_shape: Shape of one observation, e.g. ``(4,)`` for CartPole.
        obs_dtype: Storage type of observations (``np.float32``; ``np.uint8`` for images).
        action_shape: Shape of one action: ``()`` for a discrete action, ``(act_dim,)`` for a
            continuous one.
        action_dtype: Storage type of actions (``np.int64`` discrete, ``np.float32`` continuous).

    Example:
        >>> buffer = ReplayBuffer(capacity=2, obs_shape=(1,))
        >>> for t in range(3):  # the third transition overwrites the first
        ...     buffer.add([t], 0, float(t), [t + 1], terminated=False, truncated=t == 2)
        >>> len(buffer), sorted(buffer.rewards[: len(buffer)].tolist())
        (2, [1.0, 2.0])
        >>> batch = buffer.sample(4, np.random.default_rng(0))
        >>> batch.obs.shape, batch.rewards.dtype, batch.truncated.dtype
        ((4, 1), dtype('float32'), dtype('bool'))

    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        obs_dtype: npt.DTypeLike = np.float32,
        *,
        action_shape: tuple[int, ...] = (),
        action_dtype: npt.DTypeLike = np.int64,
    ) -> None:
        if int(capacity) < 1:
            raise ValueError(f"capacity must be >= 1; got {capacity}")
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((self.capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.truncated = np.zeros(self.capacity, dtype=bool)
        self._next = 0  # the slot the next transition goes to
        self._size = 0

    def __len__(self) -> int:
        """Return the number of transitions stored (at most ``capacity``)."""
        return self._size

    def add(
        self,
        obs: npt.ArrayLike,
        action: npt.ArrayLike,
        reward: float,
        next_obs: npt.ArrayLike,
        terminated: bool,
        truncated: bool,
    ) -> None:
        """Store one transition, overwriting the oldest when full.

        Pass the env's ``next_obs`` as returned by ``step`` even when the episode ended (not the
        observation of the next ``reset``): after a truncation the target bootstraps from it.
        """
        i = self._next
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = terminated
        self.truncated[i] = truncated
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Draw ``batch_size`` stored transitions uniformly, with replacement, using ``rng``.

        Args:
            batch_size: Number ``B`` of transitions (may exceed ``len(self)``).
            rng: The generator of the indices; the same state gives the same batch.

        Returns:
            A :class:`Batch` of numpy arrays (copies; the buffer is not aliased).

        Raises:
            ValueError: If the buffer is empty or ``batch_size < 1``.

        """
        if self._size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer; add transitions first")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        indices = rng.integers(0, self._size, size=batch_size)
        return Batch(
            obs=self.obs[indices],
            actions=self.actions[indices],
            rewards=self.rewards[indices],
            next_obs=self.next_obs[indices],
            terminated=self.terminated[indices],
            truncated=self.truncated[indices],
        )
