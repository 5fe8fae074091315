"""rlkit: the tabular core of the RL course kit.

Modules: :mod:`~rlkit.mdp` (the :class:`TabularMDP`), :mod:`~rlkit.dp` (value / policy
iteration), :mod:`~rlkit.sampling` (returns, trajectories, Monte Carlo),
:mod:`~rlkit.qlearning`, :mod:`~rlkit.plotting` and :mod:`~rlkit.envs` (the lecture's
:class:`GridWorld`, registered as ``rlkit/GridWorld-v0`` on import).

Example:
    >>> import rlkit
    >>> result = rlkit.dp.value_iteration(rlkit.GridWorld().mdp)
    >>> result.converged
    True

"""

from rlkit import dp, envs, plotting, qlearning, sampling
from rlkit.envs.gridworld import GridWorld
from rlkit.mdp import TabularMDP

__all__ = ["GridWorld", "TabularMDP", "dp", "envs", "plotting", "qlearning", "sampling"]
__version__ = "0.1.0"
