r"""Advantage estimates of actor-critic methods: TD errors, GAE(lambda) and the critic's targets.

All functions work on a rollout of ``T`` steps from ``n_envs`` environments side by side, shape
``(T, n_envs)`` (a single env's ``(T,)`` works too). Row ``t`` holds, for every env, the step
:math:`(s_t, a_t, r_t, s_{t+1})`:

- ``rewards``: :math:`r_t`;
- ``values``: :math:`V(s_t)` of the critic;
- ``next_values``: :math:`V(s_{t+1})` of the *real* next observation. Where a vector env ended
  the episode it hands back the first observation of the next episode instead; the trainer
  must pass :math:`V` of the final observation (Gymnasium's ``info["final_obs"]``) there, never
  :math:`V` of the reset observation;
- ``terminated``: :math:`s_{t+1}` is terminal (the MDP ended): no bootstrap, whatever
  ``next_values`` holds there;
- ``truncated``: the episode was cut outside the MDP (a time limit): :math:`s_{t+1}` still has
  a value, so the TD error bootstraps from ``next_values``; but the *next row* belongs to a new
  episode, so no sum over time runs across it.

The lecture's TD error (lecture 002, "State Value and TD Error") and GAE (Schulman et al.,
2016, eq. 16) are

.. math::
    \delta_t = r_t + \gamma (1 - \text{terminated}_t) V(s_{t+1}) - V(s_t), \qquad
    \hat A_t = \delta_t + \gamma\lambda (1 - \text{done}_t) \hat A_{t+1},

with :math:`\text{done}_t = \text{terminated}_t \lor \text{truncated}_t` and :math:`\hat A_T = 0`
after the last row (the bootstrap at the rollout's end is already in :math:`\delta_{T-1}`).
:math:`\lambda = 0` gives the TD errors (low variance, biased by V), :math:`\lambda = 1` the
discounted return minus :math:`V(s_t)`, bootstrapped where the rollout stops (unbiased, high
variance). The critic regresses on :math:`\hat A_t + V(s_t)`, the lambda-return
(:func:`critic_targets`).

Every function accepts numpy arrays (or lists) and torch tensors and returns the same kind: a
float64 array, or a tensor of the inputs' floating dtype (detached: advantages and targets are
constants of the losses). Inputs are never modified.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

__all__ = ["critic_targets", "gae", "td_errors"]

ArrayLike = npt.ArrayLike | torch.Tensor


# --------------------------------------------------------------------------------------------
# Public functions (a notebook re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


def td_errors(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    terminated: ArrayLike,
    gamma: float,
) -> Any:
    r"""TD errors :math:`\delta_t = r_t + \gamma (1 - \text{terminated}_t) V(s_{t+1}) - V(s_t)`.

    The lecture's TD target is :math:`y_t = r_t + \gamma V(s_{t+1})`; at a terminal
    :math:`s_{t+1}` it is :math:`r_t` alone. A truncated step is *not* terminal: pass
    ``next_values`` of its real final observation and it bootstraps like any other.

    Args:
        rewards: :math:`r_t`, shape ``(T, n_envs)`` or ``(T,)``.
        values: :math:`V(s_t)`, same shape.
        next_values: :math:`V(s_{t+1})` of the real next observation, same shape (ignored where
            ``terminated``).
        terminated: True (or 1) where :math:`s_{t+1}` is terminal, same shape.
        gamma: Discount factor in ``[0, 1]``.

    Returns:
        :math:`\delta`, the inputs' shape; numpy float64 or a tensor (see the module notes).

    Example:
        >>> td_errors([1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [False, True], gamma=0.5)
        array([ 0.5, -1. ])

    """
    arrays = _rollout_arrays(
        rewards=rewards, values=values, next_values=next_values, terminated=terminated
    )
    _check_discount("gamma", gamma)
    return _like_inputs(_td_errors(**arrays, gamma=gamma), rewards, values, next_values)


def gae(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    gamma: float,
    lam: float,
) -> Any:
    r"""Generalized advantage estimates :math:`\hat A_t = \sum_{k \ge 0} (\gamma\lambda)^k
    \delta_{t+k}`, the sum cut at the end of the episode.

    Computed backwards, :math:`\hat A_t = \delta_t + \gamma\lambda (1 - \text{done}_t)
    \hat A_{t+1}`, one step of all envs at a time. ``terminated`` stops the bootstrap *and*
    the sum; ``truncated`` stops only the sum (the TD error of a truncated step still
    bootstraps from ``next_values``, which must be :math:`V` of the real final observation).

    Args:
        rewards: :math:`r_t`, shape ``(T, n_envs)`` or ``(T,)``.
        values: :math:`V(s_t)`, same shape.
        next_values: :math:`V(s_{t+1})` of the real next observation, same shape (ignored where
            ``terminated``).
        terminated: True (or 1) where :math:`s_{t+1}` is terminal, same shape.
        truncated: True (or 1) where the episode was cut after step ``t`` (a time limit),
            same shape.
        gamma: Discount factor :math:`\gamma` in ``[0, 1]``.
        lam: :math:`\lambda` in ``[0, 1]``: 0 gives :func:`td_errors`, 1 the bootstrapped
            discounted return minus :math:`V(s_t)`; typically 0.9 to 0.97.

    Returns:
        :math:`\hat A`, the inputs' shape; numpy float64 or a tensor (see the module notes).

    Example:
        >>> rewards, values = [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]
        >>> ended = [False, True, False]  # the first episode ends after step 1
        >>> gae(rewards, values, [0.0, 0.0, 10.0], ended, [False] * 3, gamma=0.5, lam=1.0)
        array([1.5, 1. , 6. ])
        >>> gae(rewards, values, [0.0, 0.0, 10.0], ended, [False] * 3, gamma=0.5, lam=0.0)
        array([1., 1., 6.])

    """  # noqa: D205
    arrays = _rollout_arrays(
        rewards=rewards, values=values, next_values=next_values, terminated=terminated,
        truncated=truncated,
    )  # fmt: skip
    _check_discount("gamma", gamma)
    _check_discount("lam", lam)
    truncated_steps = arrays.pop("truncated")
    deltas = _td_errors(**arrays, gamma=gamma)
    # The sum over time stops at every episode boundary, terminal or time limit: row t + 1
    # then starts a new episode whose advantages say nothing about step t.
    same_episode_next = 1.0 - np.logical_or(arrays["terminated"], truncated_steps)
    advantages = np.empty_like(deltas)
    running = np.zeros(deltas.shape[1:])
    for t in range(len(deltas) - 1, -1, -1):  # backwards: A_t needs A_{t+1}
        running = deltas[t] + gamma * lam * same_episode_next[t] * running
        advantages[t] = running
    return _like_inputs(advantages, rewards, values, next_values)


def critic_targets(advantages: ArrayLike, values: ArrayLike) -> Any:
    r"""Regression targets of the critic: the lambda-returns :math:`G^\lambda_t = \hat A_t +
    V(s_t)`.

    With :math:`\hat A` from :func:`gae`, :math:`\lambda = 0` gives the lecture's TD target
    :math:`y_t = r_t + \gamma V(s_{t+1})`, :math:`\lambda = 1` the bootstrapped discounted
    return. The critic loss is :math:`(G^\lambda_t - V(s_t))^2` with :math:`G^\lambda_t` held
    fixed (the result is detached).

    Args:
        advantages: :math:`\hat A_t`, shape ``(T, n_envs)`` or ``(T,)``.
        values: :math:`V(s_t)` the advantages were computed with, same shape.

    Returns:
        :math:`G^\lambda_t`, the inputs' shape; numpy float64 or a tensor.

    Example:
        >>> critic_targets(np.array([0.5, -1.0]), np.array([2.0, 2.0]))
        array([2.5, 1. ])

    """  # noqa: D205
    arrays = _rollout_arrays(advantages=advantages, values=values)
    return _like_inputs(arrays["advantages"] + arrays["values"], advantages, values)


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _td_errors(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    gamma: float,
) -> np.ndarray:
    """delta_t on validated float64 arrays (shared by :func:`td_errors` and :func:`gae`)."""
    # np.where, not a multiplication by (1 - terminated): a terminal step never bootstraps,
    # even when its next_values entry is garbage (NaN or inf from a reset observation).
    bootstrap = np.where(terminated, 0.0, next_values)
    return rewards + gamma * bootstrap - values


def _rollout_arrays(**inputs: ArrayLike) -> dict[str, np.ndarray]:
    """Float64 copies-or-views of the inputs, checked: same shape ``(T,)`` or ``(T, n_envs)``.

    ``terminated`` and ``truncated`` come back as bool arrays; they must hold booleans or 0/1.
    """
    arrays: dict[str, np.ndarray] = {}
    for name, value in inputs.items():
        array = value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ):
            raise ValueError(f"{name} must be an array of numbers; got dtype {array.dtype}")
        if name in ("terminated", "truncated"):
            if array.dtype != np.bool_ and not np.isin(array, (0, 1)).all():
                raise ValueError(
                    f"{name} must hold booleans or 0/1; got the values {np.unique(array)}"
                )
            arrays[name] = array.astype(bool)
        else:
            arrays[name] = array.astype(np.float64, copy=False)
    first, *others = arrays
    shape = arrays[first].shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{first} must have shape (T,) or (T, n_envs): one row per time step, one column "
            f"per env; got shape {shape}"
        )
    for name in others:
        if arrays[name].shape != shape:
            raise ValueError(
                f"{name} must have the shape of {first}, {shape} (T, n_envs); got "
                f"{arrays[name].shape}"
            )
    return arrays


def _check_discount(name: str, value: float) -> None:
    if not isinstance(value, int | float | np.floating | np.integer) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")


def _like_inputs(result: np.ndarray, *inputs: ArrayLike) -> Any:
    """``result`` as a tensor if any input was one (their promoted float dtype), else numpy."""
    tensors = [x for x in inputs if torch.is_tensor(x)]
    if not tensors:
        return result
    floats = [x.dtype for x in tensors if x.is_floating_point()]
    dtype = functools.reduce(torch.promote_types, floats) if floats else torch.float32
    return torch.as_tensor(result, dtype=dtype)
