"""One place for randomness: every rlkit function that samples takes a Generator or a seed.

Tabular code never touches the global numpy state; it takes an explicit
``np.random.Generator`` (or an ``int`` seed, turned into one by :func:`make_rng`).
:func:`seed_everything` is for notebooks and scripts that also use libraries drawing from
global state (python ``random``, legacy ``np.random``, torch).
"""

from __future__ import annotations

import importlib.util
import random

import numpy as np

__all__ = ["make_rng", "seed_everything"]


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a ``np.random.Generator`` for ``seed``.

    Args:
        seed: An ``int`` seed (reproducible stream), an existing Generator (returned as is,
            so the caller's stream advances), or ``None`` (fresh OS entropy: not
            reproducible, avoid it in tests and graded work).

    Returns:
        A numpy Generator.

    Raises:
        TypeError: If ``seed`` is of another type (e.g. a float or the legacy
            ``np.random.RandomState``).

    Example:
        >>> rng = make_rng(0)
        >>> make_rng(rng) is rng
        True
        >>> int(make_rng(0).integers(100)) == int(make_rng(0).integers(100))
        True

    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(
        f"seed must be an int, a np.random.Generator or None; got {type(seed).__name__}. "
        "Use np.random.default_rng(seed) to build a Generator."
    )


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python ``random``, numpy's legacy global state and torch (if installed).

    Args:
        seed: A non-negative integer seed.

    Returns:
        ``np.random.default_rng(seed)``, the Generator rlkit code should be handed.

    Raises:
        ValueError: If ``seed`` is negative or not an integer.

    Example:
        >>> rng = seed_everything(0)
        >>> isinstance(rng, np.random.Generator)
        True

    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # legacy global state, for third-party code that still uses it
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    return np.random.default_rng(seed)
