"""Comparators: how an output is matched with the expected one (tolerances relative to scale)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.box.calls import NOT_A_TENSOR, NOT_AN_ARRAY
from autograder.box.wire import Unreadable

Comparator = Callable[[Any, Any], "str | None"]


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def describe(value: Any, max_chars: int = 400) -> str:
    """A short, readable rendering of a value for a failure message."""
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        arr = _as_array(value)
        text = np.array2string(arr, precision=4, suppress_small=True, threshold=40)
        text = f"{text}  (shape {arr.shape}, dtype {arr.dtype})"
    else:
        # numpy scalars as numbers: 0.29, not np.float64(0.29)
        with np.printoptions(legacy="1.25"):
            text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


#: the relative tolerance of a float32 (or float16) output: float32 carries ~7 digits, and a
#: correct sum of a few hundred float32 terms is off by ~1e-5 relative.
FLOAT32_RTOL = 1e-4


def tolerances(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
               ) -> tuple[float, float]:
    """The ``(rtol, atol)`` an output is compared with, relative to the values' magnitude.

    A float32 output (or lower) gets at least :data:`FLOAT32_RTOL`; and ``atol`` grows to
    ``rtol * max|expected|``, so that an entry near 0 in an array of large values may carry the
    rounding error of the large ones (a sum that cancels). An exact comparison (``rtol`` 0)
    keeps its tolerances: it is a statistical bound or a seeded exact sample.
    """
    if rtol <= 0:
        return rtol, atol
    if got.dtype.kind == "f" and got.dtype.itemsize < 8:
        rtol = max(rtol, FLOAT32_RTOL)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = float(finite.max()) if finite.size else 0.0
    return rtol, max(atol, rtol * scale)


def allclose(*, rtol: float = 1e-6, atol: float = 1e-8, integer: bool = False) -> Comparator:
    """Compare numbers or arrays: same shape, finite where expected is, and close.

    Close is relative to the values' magnitude, with the precision of the output's dtype
    (:func:`tolerances`): a correct float32 implementation passes wherever float64 does.
    With ``integer=True`` the values must also be whole numbers (e.g. an action index or a
    deterministic policy), and are compared exactly.
    """

    def compare(got: Any, expected: Any) -> str | None:
        exp = _as_array(expected)
        try:
            arr = _as_array(got)
            if arr.dtype == object or not (
                np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
            ):
                raise TypeError
        except Exception:  # noqa: BLE001 - anything non-numeric is a wrong type
            return f"expected a number or numeric array, got {type_name(got)}"
        if arr.shape != exp.shape:
            return f"wrong shape: expected {exp.shape}, got {arr.shape}"
        if integer:
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                return "expected whole numbers (indices), got fractional values"
            if not np.array_equal(arr.astype(np.int64), exp.astype(np.int64)):
                return "values differ"
            return None
        if np.any(np.isnan(arr) & ~np.isnan(exp)):
            return "the result contains NaN"
        exp_f = exp.astype(float) if exp.dtype.kind in "biuf" else exp
        r, a = tolerances(arr, exp_f, rtol, atol)
        if not np.allclose(arr, exp, rtol=r, atol=a, equal_nan=True):
            return _difference(arr.astype(float), exp.astype(float))
        return None

    return compare


def _difference(got: np.ndarray, expected: np.ndarray) -> str:
    """Say how two float arrays differ, taken only over the entries that are not equal.

    Equal infinities (an unvisited edge's score of ``inf`` in both) are equal, not ``inf - inf``.
    """
    differ = ~((got == expected) | (np.isnan(got) & np.isnan(expected)))
    got, expected = got[differ], expected[differ]
    if np.any(np.isinf(got) | np.isinf(expected)):
        return "values differ (an infinite value where the expected one is finite, or the " \
               "other way round or of the other sign)"
    return f"values differ (largest absolute difference {np.max(np.abs(got - expected)):.3g})"


#: what a notebook promises a function returns, by the mark a procedure puts on another type
PROMISED = {NOT_A_TENSOR: "a torch tensor", NOT_AN_ARRAY: "a float numpy array"}


def promised_type(compare: Comparator) -> Comparator:
    """``compare``, after the output was of the type the notebook promises.

    A procedure reports a function that returned another type (a list where the trainer
    computes with a tensor) as ``{NOT_A_TENSOR: type}`` or ``{NOT_AN_ARRAY: type}``
    (:mod:`autograder.box.calls`); the case then fails with what to return.
    """

    def typed(got: Any, expected: Any) -> str | None:
        for mark, what in PROMISED.items():
            if isinstance(got, dict) and mark in got and not (
                    isinstance(expected, dict) and mark in expected):
                return f"return {what}; got {str(got[mark])[:40]}"
        return compare(got, expected)

    return typed


def type_marked(value: Any) -> bool:
    """Whether ``value`` is a procedure's mark of a type the notebook does not promise."""
    return isinstance(value, dict) and any(mark in value for mark in PROMISED)


def numpy_output(compare: Comparator) -> Comparator:
    """``compare``, after the output (of a plain call) was a numpy array, as promised."""

    def array(got: Any, expected: Any) -> str | None:
        if not isinstance(got, np.ndarray):
            return f"return {PROMISED[NOT_AN_ARRAY]}; got {type_name(got)[:40]}"
        return compare(got, expected)

    return array


def identical(a: Any, b: Any) -> bool:
    """Whether two outputs are the same data: equal arrays (NaN equal to NaN), equal dicts,
    lists or tuples of them, or equal plain values; False for anything it cannot tell.

    The judge's test of "the same result on two runs" must not depend on a comparison that
    rejects the output whatever it is compared with (a shape the spec does not accept).
    """  # noqa: D205
    try:
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
        if isinstance(a, list | tuple) and isinstance(b, list | tuple):
            return (type(a) is type(b) and len(a) == len(b)
                    and all(identical(x, y) for x, y in zip(a, b, strict=True)))
        if isinstance(a, np.ndarray) or hasattr(a, "detach"):
            x, y = _as_array(a), _as_array(b)
            nan = x.dtype.kind in "fc"
            return x.dtype == y.dtype and bool(np.array_equal(x, y, equal_nan=nan))
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - outputs it cannot compare are not known to be the same
        return False


def shown_difference(expected: Any, got: Any, problem: str | None) -> tuple[Any, Any]:
    """What a failure report shows as expected and got: for two dicts of named values (a loss
    and its gradients), only the field the ``problem`` names (``"NAME: ..."``); else both.
    """  # noqa: D205
    if isinstance(expected, dict) and isinstance(got, dict) and problem:
        name = next((k for k in expected if isinstance(k, str) and problem.startswith(f"{k}: ")
                     and k in got), None)
        if name is not None:
            return {name: expected[name]}, {name: got[name]}
    return expected, got


def type_name(value: Any) -> str:
    """The type name to show for an output (the original type for an :class:`Unreadable`)."""
    return value.type_name if isinstance(value, Unreadable) else type(value).__name__

