"""rlkit: the helper package of the RL course kit.

Tabular core: :mod:`~rlkit.mdp` (the :class:`TabularMDP`), :mod:`~rlkit.dp` (value / policy
iteration), :mod:`~rlkit.sampling` (returns, trajectories, Monte Carlo),
:mod:`~rlkit.qlearning`, :mod:`~rlkit.plotting` and :mod:`~rlkit.envs` (the lecture's
:class:`GridWorld`, registered as ``rlkit/GridWorld-v0`` on import).

Deep RL: :mod:`~rlkit.nets` (MLP, policy heads, Q- and V-networks), :mod:`~rlkit.buffers`
(the :class:`ReplayBuffer`), :mod:`~rlkit.advantages` (TD errors, GAE(lambda)),
:mod:`~rlkit.schedules`, :mod:`~rlkit.evaluation` (seeded :func:`evaluate`),
:mod:`~rlkit.animation` (:func:`render_episode`) and the reference agents
:mod:`rlkit.agents.dqn`, :mod:`rlkit.agents.reinforce` and :mod:`rlkit.agents.a2c`;
:mod:`rlkit.rlhf` is notebook 07's RLHF stack. The modules that import torch (``nets``,
``advantages``, ``agents``, ``rlhf``) load on first use, so ``import rlkit`` stays light for
tabular work.

Example:
    >>> import rlkit
    >>> result = rlkit.dp.value_iteration(rlkit.GridWorld().mdp)
    >>> result.converged
    True
    >>> rlkit.agents.dqn.DQNConfig().env_id
    'CartPole-v1'

"""

from __future__ import annotations

import importlib
from typing import Any

from rlkit import (
    animation,
    buffers,
    dp,
    envs,
    evaluation,
    plotting,
    qlearning,
    sampling,
    schedules,
)
from rlkit.animation import render_episode
from rlkit.buffers import Batch, ReplayBuffer
from rlkit.envs.gridworld import GridWorld
from rlkit.evaluation import EvalResult, evaluate
from rlkit.mdp import TabularMDP
from rlkit.schedules import linear_schedule

_LAZY_MODULES = ("advantages", "agents", "nets", "rlhf")

__all__ = [
    "Batch",
    "EvalResult",
    "GridWorld",
    "ReplayBuffer",
    "TabularMDP",
    "advantages",
    "agents",
    "animation",
    "buffers",
    "dp",
    "envs",
    "evaluate",
    "evaluation",
    "linear_schedule",
    "nets",
    "plotting",
    "qlearning",
    "render_episode",
    "rlhf",
    "sampling",
    "schedules",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the torch-based submodules on first access (PEP 562)."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"rlkit.{name}")
    raise AttributeError(f"module 'rlkit' has no attribute {name!r}")
