"""Procedures of notebook 04's checks (REINFORCE), also used by notebook 05's estimators.

Episodes cross into the box as plain data, ``(states, actions, rewards, terminated)`` per
episode, and are rebuilt here as :class:`rlkit.sampling.Trajectory`. The exact cases call the
student's estimator once per enumerated trajectory (or per outcome of a softmax) and return
the estimates: the judge weights them by their probabilities. The learning run trains with
the student's loss and returns the trained policy's parameters: the judge evaluates them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from autograder.box.calls import CaseProblem, module_state, procedure
from rlkit.sampling import Trajectory


def trajectories(episodes: Sequence[Sequence[Any]]) -> list[Trajectory]:
    """Fresh :class:`Trajectory` objects from ``(states, actions, rewards, terminated)``."""
    return [Trajectory(np.array(states, dtype=np.int64), np.array(actions, dtype=np.int64),
                       np.array(rewards, dtype=np.float64), bool(terminated))
            for states, actions, rewards, terminated in episodes]


def _copies(extra: Sequence[Any]) -> list[Any]:
    return [np.array(arg) if isinstance(arg, np.ndarray) else arg for arg in extra]


@procedure("reinforce.on_episodes")
def episodes_run(fn: Callable, theta: np.ndarray, episodes: list, extra: tuple = ()) -> Any:
    """``fn(theta, episodes, *extra)`` with the episodes rebuilt as trajectories."""
    return fn(np.array(theta), trajectories(episodes), *_copies(extra))


@procedure("reinforce.each_episode")
def each_episode_run(fn: Callable, theta: np.ndarray, episodes: list,
                     extra: tuple = ()) -> list[Any]:
    """``fn(theta, [episode], *extra)`` for every episode, each on private copies."""
    return [fn(np.array(theta), trajectories([episode]), *_copies(extra))
            for episode in episodes]


@procedure("reinforce.each_outcome")
def each_outcome_run(fn: Callable, theta: np.ndarray, f: np.ndarray) -> list[Any]:
    """``fn(theta, f, [x])``, the estimate from the one sample x, for every outcome x."""
    return [fn(np.array(theta), np.array(f), np.array([x])) for x in range(len(theta))]


@procedure("reinforce.loss")
def loss_run(fn: Callable, log_probs: list, weights: list,
             dtype: torch.dtype = torch.float32) -> np.ndarray:
    """``[loss, d loss / d log_probs..., d loss / d weights...]`` (the weights require grad)."""
    lp = torch.tensor(log_probs, dtype=dtype, requires_grad=True)
    w = torch.tensor(weights, dtype=dtype, requires_grad=True)  # e.g. G_t - V_phi(s_t)
    loss = fn(lp, w)
    if not torch.is_tensor(loss) or loss.ndim != 0:
        raise CaseProblem(f"return a scalar (0-dim) torch tensor; got {loss!r}")
    if not loss.requires_grad:
        raise CaseProblem("the loss has no gradient: compute it from log_probs with torch "
                          "operations (no .item(), .numpy() or .detach() of log_probs)")
    loss.backward()
    w_grad = np.zeros(len(weights)) if w.grad is None else w.grad.double().numpy()
    return np.concatenate([[loss.item()], lp.grad.double().numpy(), w_grad])


def cartpole_rewards_to_go(rewards: Any, gamma: float) -> np.ndarray:
    """G_t = (1 - gamma^(T - t)) / (1 - gamma): CartPole pays exactly 1 per step.

    The learning run grades the loss alone, so it cannot take the student's ``reward_to_go``,
    and rlkit's is withheld while notebook 04 is graded; this closed form holds only for
    CartPole's constant reward (it refuses anything else), so it answers no case of
    ``reinforce.reward_to_go``.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if not np.all(rewards == 1.0):
        raise ValueError("only for CartPole's rewards (all 1)")
    steps_left = np.arange(len(rewards), 0, -1)
    return steps_left.astype(np.float64) if gamma == 1.0 else (1 - gamma**steps_left) / (1 - gamma)


def learn_config(settings: dict[str, Any]) -> Any:
    """The learning case's plain ``settings`` as rlkit's ``ReinforceConfig``."""
    from rlkit.agents.reinforce import ReinforceConfig

    return ReinforceConfig(**settings)


def train(loss: Callable, seed: int, settings: dict[str, Any]) -> Any:
    """REINFORCE on CartPole-v1 with ``loss`` (rlkit's trainer): its history."""
    from rlkit.agents.reinforce import train as reinforce_train

    return reinforce_train(learn_config(settings), seed=seed, loss_fn=loss,
                           reward_to_go_fn=cartpole_rewards_to_go)


@procedure("reinforce.learn")
def learn_run(fn: Callable, seed: int, settings: dict[str, Any]) -> dict[str, np.ndarray]:
    """Train with the student's loss; the final policy's parameters (it stops at its target)."""
    return module_state(train(fn, seed, settings).policy)
