"""Reference agents, one readable module each: :mod:`~rlkit.agents.dqn`,
:mod:`~rlkit.agents.reinforce`, :mod:`~rlkit.agents.a2c` and :mod:`~rlkit.agents.ppo` (the last
two share their rollouts, networks and evaluations through :mod:`rlkit.rollouts`).

Each module has a frozen settings dataclass, its math pieces as top-level functions, and a
``train(config, *, seed, ..., progress=False)`` that accepts a replacement for each math piece
and returns a history the :mod:`rlkit.plotting` helpers draw.
"""  # noqa: D205

from rlkit.agents import a2c, dqn, ppo, reinforce

__all__ = ["a2c", "dqn", "ppo", "reinforce"]
