"""The judge's half of the in-place test: whether a graded function changed its inputs.

DESIGN.md section 5: a graded function leaves its inputs as it got them unless its spec says
in-place is the point. The box records each case's first call (snapshots of the arguments
before and after it, :class:`autograder.box.inputs.InputRecorder`); they arrive here as plain
data and :func:`changed_arguments` compares them in the grader's own process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def _differs(before: Any, after: Any) -> bool:
    if before is None:
        return False
    if isinstance(before, np.ndarray):
        try:
            after = np.asarray(after)
        except Exception:  # noqa: BLE001 - unreadable: it changed
            return True
        return (after.shape != before.shape
                or not np.array_equal(after, before, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, list):
        return (not isinstance(after, list | tuple) or len(after) != len(before)
                or any(_differs(b, a) for b, a in zip(before, after, strict=True)))
    if isinstance(before, dict):  # keys added during the call (a cache) are not a change
        return not isinstance(after, dict) or any(
            _differs(v, after.get(k)) if k in after else v is not None
            for k, v in before.items())
    if isinstance(before, float) and isinstance(after, float):
        return not (before == after or (before != before and after != after))
    return before != after


def changed_arguments(record: Any) -> list[str]:
    """The names of the arguments a recorded call changed (``record`` from the recorder)."""
    if not isinstance(record, Mapping):
        return []
    names, before, after = record.get("names"), record.get("before"), record.get("after")
    if not (isinstance(names, list | tuple) and isinstance(before, list | tuple)
            and isinstance(after, list | tuple) and len(names) == len(before) == len(after)):
        return []
    return [str(name) for name, b, a in zip(names, before, after, strict=True)
            if _differs(b, a)]


def in_place_problem(function: str, changed: list[str]) -> str:
    """The failure a student reads when their function changed its arguments."""
    names = ", ".join(f"`{n}`" for n in changed)
    return (f"`{function}` changed its argument {names} in place: the caller's data must stay "
            "as it was (work on a copy, e.g. `x = np.array(x, dtype=float)`, or build a new "
            "array instead of writing into the input)")
