r"""Schedules: small callables ``step -> value``, e.g. the exploration rate :math:`\epsilon_t`.

DQN explores a lot at first, when its Q-values mean nothing, and less as they improve: the
usual schedule decays :math:`\epsilon` linearly from 1 to a small floor over the first part of
training and then holds it.

Each schedule is a frozen dataclass with ``__call__``, so it prints its settings, compares by
value and pickles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ConstantSchedule",
    "ExponentialSchedule",
    "LinearSchedule",
    "Schedule",
    "constant_schedule",
    "exponential_schedule",
    "linear_schedule",
]


class Schedule(Protocol):
    """Anything callable as ``schedule(step) -> float``."""

    def __call__(self, step: int) -> float:  # noqa: D102
        ...


@dataclass(frozen=True)
class LinearSchedule:
    r"""Linear interpolation from ``start`` to ``end`` over ``duration`` steps, then ``end``.

    .. math:: v_t = v_{start} + \min(1, t / T)\,(v_{end} - v_{start})

    Example:
        >>> epsilon = LinearSchedule(start=1.0, end=0.1, duration=10)
        >>> [round(epsilon(t), 2) for t in (0, 5, 10, 1000)]
        [1.0, 0.55, 0.1, 0.1]

    """

    start: float
    """Value at step 0 (1.0 for epsilon: act uniformly at random)."""
    end: float
    """Value from step ``duration`` on (0.01 to 0.1 for epsilon)."""
    duration: int
    """Steps ``T`` of the decay (>= 0; 0 gives ``end`` from the first step)."""

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError(f"duration must be >= 0; got {self.duration}")

    def __call__(self, step: int) -> float:
        """Return the value at ``step`` (>= 0)."""
        if step >= self.duration:
            return float(self.end)
        fraction = max(0.0, step / self.duration)
        return float(self.start + fraction * (self.end - self.start))


@dataclass(frozen=True)
class ExponentialSchedule:
    r"""Geometric decay from ``start`` towards ``end``: :math:`v_t = \max(v_{end}, v_{start} d^t)`.

    Example:
        >>> epsilon = ExponentialSchedule(start=1.0, end=0.05, decay=0.5)
        >>> [epsilon(t) for t in (0, 1, 2, 10)]
        [1.0, 0.5, 0.25, 0.05]

    """

    start: float
    """Value at step 0."""
    end: float
    """Floor the value never goes below."""
    decay: float
    """Factor ``d`` per step in (0, 1]; e.g. 0.999 halves the distance in ~700 steps."""

    def __post_init__(self) -> None:
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1]; got {self.decay}")

    def __call__(self, step: int) -> float:
        """Return the value at ``step`` (>= 0)."""
        return float(max(self.end, self.start * math.pow(self.decay, max(step, 0))))


@dataclass(frozen=True)
class ConstantSchedule:
    """The same value at every step.

    Example:
        >>> ConstantSchedule(0.1)(12345)
        0.1

    """

    value: float
    """The value."""

    def __call__(self, step: int) -> float:
        """Return the value (whatever ``step``)."""
        return float(self.value)


def linear_schedule(start: float, end: float, duration: int) -> LinearSchedule:
    """Build a :class:`LinearSchedule`: ``start`` to ``end`` over ``duration`` steps, then ``end``.

    Example:
        >>> linear_schedule(1.0, 0.0, 4)(3)
        0.25

    """
    return LinearSchedule(float(start), float(end), int(duration))


def exponential_schedule(start: float, end: float, decay: float) -> ExponentialSchedule:
    """Build an :class:`ExponentialSchedule` (``start * decay**t``, floored at ``end``).

    Example:
        >>> exponential_schedule(1.0, 0.1, 0.9)(1)
        0.9

    """
    return ExponentialSchedule(float(start), float(end), float(decay))


def constant_schedule(value: float) -> ConstantSchedule:
    """Build a :class:`ConstantSchedule`.

    Example:
        >>> constant_schedule(0.05)(0)
        0.05

    """
    return ConstantSchedule(float(value))
