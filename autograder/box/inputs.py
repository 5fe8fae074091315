"""The box's half of the in-place test: snapshots of a function's arguments around its call.

DESIGN.md section 5: a graded function leaves its inputs as it got them unless its spec says
in-place is the point. :class:`InputRecorder` wraps the student's function for one case: on its
first call it takes a snapshot of every argument (:func:`input_state`: plain data, arrays
copied), runs the function, and takes another. Both snapshots travel with the output as plain
data (:mod:`autograder.box.wire`), and the judge compares them in its own process
(:func:`autograder.judge.inputs.changed_arguments`): nothing here decides anything. Only the
first call of a case is recorded: a mutation is systematic, and a case may call the function
thousands of times.

What is not data, or changes by design, is left out of the snapshot: random generators (drawing
from the given ``rng`` is the point), Gymnasium environments (stepping them is), functions and
modules. An object's snapshot is its attributes as they were before the call, so a cache filled
during the call (``TabularMDP.expected_rewards``) is not a change.
"""

from __future__ import annotations

import copy
import inspect
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

MAX_DEPTH = 4


def _is_env(value: Any) -> bool:
    try:
        import gymnasium
    except ImportError:  # pragma: no cover - gymnasium is a dependency
        return False
    return isinstance(value, gymnasium.Env | gymnasium.vector.VectorEnv)


def input_state(value: Any, depth: int = 0) -> Any:
    """A plain-data snapshot of an argument (None for what is not compared)."""
    if value is None or isinstance(value, bool | int | float | complex | str | np.generic):
        return value
    if isinstance(value, np.random.Generator | np.random.RandomState | random.Random):
        return None
    if isinstance(value, np.ndarray):
        return value.copy() if value.dtype.kind in "biufc" else None
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy().copy()
    if depth >= MAX_DEPTH or callable(value) or inspect.ismodule(value) or _is_env(value):
        return None
    if isinstance(value, list | tuple):
        return [input_state(v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): input_state(v, depth + 1) for k, v in value.items()}
    state_dict = getattr(value, "state_dict", None)
    if callable(state_dict):  # a torch module or optimiser
        return input_state(dict(state_dict()), depth + 1)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return {k: input_state(v, depth + 1) for k, v in attributes.items()
                if not k.startswith("__")}
    return None


def _private(value: Any) -> Any:
    """A copy of numpy data (arrays, containers of plain data, rlkit's data objects).

    Tensors, networks, generators and environments are passed as they are: gradients must
    reach the caller's tensors and draws must advance the caller's generator.
    """
    plain = isinstance(value, np.ndarray | list | tuple | dict) or (
        type(value).__module__.startswith("rlkit.") and not callable(value))
    if not plain or _holds_tensor(value):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - what cannot be copied is passed as it is
        return value


def _holds_tensor(value: Any, depth: int = 0) -> bool:
    if hasattr(value, "detach") or depth > MAX_DEPTH:
        return True
    if isinstance(value, list | tuple):
        return any(_holds_tensor(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_holds_tensor(v, depth + 1) for v in value.values())
    attributes = getattr(value, "__dict__", None)
    return isinstance(attributes, dict) and any(_holds_tensor(v, depth + 1)
                                                  for v in attributes.values())


class InputRecorder:
    """Wraps a function; ``record`` holds the first call's arguments before and after it."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.record: dict[str, Any] | None = None

    def _names(self, n_args: int) -> list[str]:
        try:
            params = list(inspect.signature(self.fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        positional = [p.name for p in params
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:n_args]
        return positional + [f"argument {i + 1}" for i in range(len(positional), n_args)]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function; on the first call, record its arguments before and after."""
        if self.record is not None:
            return self.fn(*args, **kwargs)
        # The function gets private copies of the case's numpy data: a case that runs the
        # function on shared fixtures (its own ``run``) keeps them intact for the next case.
        args = tuple(_private(v) for v in args)
        kwargs = {k: _private(v) for k, v in kwargs.items()}
        values = [*args, *kwargs.values()]
        names = self._names(len(args)) + list(kwargs)
        before = [input_state(v) for v in values]
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.record = {"names": names, "before": before,
                           "after": [input_state(v) for v in values]}
