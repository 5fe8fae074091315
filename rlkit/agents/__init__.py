"""Reference agents, one readable module each: :mod:`~rlkit.agents.dqn`,
:mod:`~rlkit.agents.reinforce`, :mod:`~rlkit.agents.a2c` and :mod:`~rlkit.agents.ppo` (the last
two share their rollouts, networks and evaluations through :mod:`rlkit.rollouts`); on board
games, :mod:`~rlkit.agents.alphago` and :mod:`~rlkit.agents.alphazero` (sharing
:mod:`~rlkit.agents.selfplay`; their ``train`` takes ``seed`` and replacement pieces too).

Each module has a frozen settings dataclass, its math pieces as top-level functions, and a
``train(config, *, seed, ..., progress=False)`` that accepts a replacement for each math piece
and returns a history the :mod:`rlkit.plotting` helpers draw.
"""  # noqa: D205

from rlkit.agents import a2c, alphago, alphazero, dqn, ppo, reinforce, selfplay

__all__ = ["a2c", "alphago", "alphazero", "dqn", "ppo", "reinforce", "selfplay"]
