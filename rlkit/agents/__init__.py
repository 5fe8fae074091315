"""Reference agents, one readable module each: :mod:`~rlkit.agents.dqn` and
:mod:`~rlkit.agents.reinforce`.

Each module has a frozen settings dataclass, its math pieces as top-level functions, and a
``train(config, *, seed, ..., progress=False)`` that accepts a replacement for each math piece
and returns a history the :mod:`rlkit.plotting` helpers draw.
"""  # noqa: D205

from rlkit.agents import dqn, reinforce

__all__ = ["dqn", "reinforce"]
