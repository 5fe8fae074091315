"""How a wrong output differs from the expected one, said in the student's terms.

A check's bank of known bugs names the mistakes its authors foresaw. A bug no bank holds still
often leaves a recognisable trace in the output: a whole number where a float was expected (a
truncating cast), a ``(B, B)`` array where ``(B,)`` was expected (a ``(B, 1)`` column broadcast
against a row), every value off by the same factor (a ``gamma`` too many or too few, a sum where
a mean was meant), the sign flipped, the values shifted by one index, wrong only at the terminal
states of the case's MDP, NaN, the input handed back, or ``None`` (a missing ``return``).
A line is said only when the output shows it: a length that is another axis of the same input
is an axis mix-up, not a loop bound (that is one entry too many or too few); a truncation
keeps the whole part of a value of size >= 1 (``e_a - 1`` is whole but truncates nothing).
:func:`explain` looks for these in order and returns one sentence, or None; the
:class:`~autograder.judge.core.Judge` puts it in front of the spec's own hint when no known bug
matches. Hand-written: the patterns are about this course's outputs, no library has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.box.calls import NOT_A_TENSOR, NOT_AN_ARRAY, RETURNED_NONE, Problem
from autograder.judge.compare import PROMISED, _as_array
from autograder.judge.spec import Case

#: what every pattern compares with: a little looser than the checks (float32 outputs, sums).
_RTOL, _ATOL = 1e-4, 1e-8

Diagnosis = Callable[[np.ndarray, np.ndarray, Case], "str | None"]


def returned_none(got: Any, expected: Any) -> bool:
    """True when the function returned None where a value was expected (a missing ``return``),
    also where a procedure could not use the None (:data:`~autograder.box.calls.RETURNED_NONE`,
    or a ``{"not a tensor": "NoneType"}`` output).
    """  # noqa: D205
    if isinstance(got, Problem):
        return got.text == RETURNED_NONE
    if isinstance(got, dict) and got.get(NOT_A_TENSOR) == "NoneType":
        return True
    return got is None and expected is not None


NONE_HINT = ("Your function returned None: it has no `return` statement on this path (or "
             "returns the result of an in-place method such as `list.append`).")


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL * max(
        1.0, float(np.max(np.abs(b), initial=0.0)))))


def _numeric(value: Any) -> np.ndarray | None:
    try:
        arr = _as_array(value)
    except Exception:  # noqa: BLE001 - not an array: no numeric diagnosis
        return None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        return None
    return arr.astype(float) if arr.dtype.kind == "b" else arr


def _gamma(case: Case) -> float | None:
    """The discount of the case: an argument named gamma, a float in (0, 1), or an MDP's."""
    if "gamma" in case.kwargs:
        return float(case.kwargs["gamma"])
    for arg in case.args:
        if hasattr(arg, "gamma") and hasattr(arg, "terminal"):
            return float(arg.gamma)
    floats = [a for a in case.args if isinstance(a, float) and 0.0 < a < 1.0]
    return floats[-1] if len(floats) == 1 else None


def _shape(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    if got.shape == exp.shape:
        return None
    if exp.ndim == 1 and got.shape == (exp.shape[0], exp.shape[0]):
        return (f"Your result has shape {got.shape} where {exp.shape} was expected: a "
                f"({exp.shape[0]}, 1) column met a ({exp.shape[0]},) row and broadcast to a "
                "matrix. Squeeze the column (`.squeeze(1)`, `[:, 0]`) before combining them.")
    if got.size == exp.size and got.size > 1:
        return (f"Your result has the right values count but shape {got.shape}, not "
                f"{exp.shape}: reshape or squeeze it, and check which axis you reduced over.")
    if exp.ndim == 0 and got.ndim >= 1:
        return ("A single number was expected and you returned an array: reduce it (sum or "
                "mean), or index the entry asked for.")
    if exp.ndim == 1 and got.ndim == 1:
        return _length(got.shape[0], exp.shape[0], case)
    if got.ndim == exp.ndim + 1 and got.shape[:exp.ndim] == exp.shape:
        return (f"Your result has shape {got.shape} where {exp.shape} was expected: one axis "
                "too many. Reduce over the last axis (sum or max over actions).")
    if got.ndim == exp.ndim and exp.ndim >= 1:
        return (f"Your result has shape {got.shape} where {exp.shape} was expected: you "
                "reduced over the wrong axis (check the `axis=` of your sum/max/mean).")
    if exp.ndim >= 1 and got.ndim == exp.ndim - 1:
        return (f"Your result has shape {got.shape} where {exp.shape} was expected: you "
                "reduced over an axis that must stay (check the `axis=` of your sum/max/mean).")
    return None


def _axes(case: Case) -> list[tuple[int, str, int]]:
    """Each axis of the case's array inputs: (which input, the axis in words, its length).

    An MDP counts as its states and actions (the axes of its ``P[s, a, s']``).
    """
    axes = []
    for position, arg in enumerate(case.args):
        if hasattr(arg, "n_states") and hasattr(arg, "n_actions"):
            axes += [(position, "the MDP's states", arg.n_states),
                     (position, "the MDP's actions", arg.n_actions)]
            continue
        arr = _numeric(arg) if hasattr(arg, "shape") or isinstance(arg, list | tuple) else None
        if arr is not None:
            axes += [(position, f"argument {position + 1}" if arr.ndim == 1
                      else f"axis {axis} of argument {position + 1}", n)
                     for axis, n in enumerate(arr.shape)]
    return axes


def _length(got: int, exp: int, case: Case) -> str | None:
    """Why a 1-D result has ``got`` entries where ``exp`` were expected, when the inputs say.

    As many entries as another axis of the same input is an axis mix-up (a reduction, argmax
    or index over the wrong axis); as many as another input has, a loop or reduction over the
    wrong input; one entry too many or too few, a loop bound; anything else is only stated.
    """
    axes = _axes(case)
    pairs = [(a, b) for a in axes for b in axes if a[2] == got and b[2] == exp]
    mine, meant = min(pairs, key=lambda pair: pair[0][0] != pair[1][0], default=(None, None))
    if mine is not None and meant is not None and mine[0] == meant[0]:
        return (f"Your result has {got} entries, one per index of {mine[1]}, where {exp} were "
                f"expected, one per index of {meant[1]}: you reduced, took the argmax or "
                "indexed over the wrong axis (check `axis=` / `dim=`).")
    if mine is not None and meant is not None:
        return (f"Your result has {got} entries, as many as {mine[1]}, where {exp} were "
                f"expected, as many as {meant[1]}: check which axis you reduced over and "
                "which input your loop runs over.")
    if abs(got - exp) == 1:
        return (f"Your result has {got} entries where {exp} were expected: check the range "
                "of your loop (one too many or too few steps?).")
    return f"Your result has {got} entries where {exp} were expected."


def _nan(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    if got.dtype.kind == "f" and np.any(np.isnan(got) & ~np.isnan(exp)):
        return ("Your result has NaN where a number was expected: look for 0/0 (a mean over "
                "nothing, a count that is 0) or inf - inf (np.exp overflowing: subtract the "
                "max first).")
    if got.dtype.kind == "f" and np.any(np.isinf(got) & np.isfinite(exp)):
        return ("Your result has an infinite value where a finite one was expected: a "
                "division by zero or an overflowing np.exp.")
    return None


def _truncated(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    fractional = exp.dtype.kind == "f" and np.any(exp != np.round(exp))
    if got.dtype.kind in "iu" and fractional:
        return ("Your result holds whole numbers where fractions were expected: a truncating "
                "cast (`astype(int)`, `int(...)`, `//`, or an array created from integer "
                "input, e.g. `np.zeros_like` of an int array) drops the fractional part.")
    # a cast keeps the whole part: only an entry of size >= 1 shows it (e_a - 1 is also whole)
    kept = np.any((exp != np.round(exp)) & (np.abs(exp) >= 1.0))
    if got.dtype.kind == "f" and kept and np.all(got == np.trunc(got)) and (
            _close(np.trunc(exp), got) or _close(np.floor(exp), got)):
        return ("Your result is the expected one with the fractional part cut off: an "
                "integer cast or `//` somewhere truncates.")
    return None


def _returned_input(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    for position, arg in enumerate(case.args):
        if hasattr(arg, "shape") or isinstance(arg, list | tuple):
            arr = _numeric(arg)
            if arr is None or arr.size < 2 or np.all(arr == arr.flat[0]):
                continue  # a constant input (all zeros) says nothing about where got came from
            if _close(got, arr) and not _close(exp, arr):
                return (f"Your function returned its input (argument {position + 1}) "
                        "unchanged: compute a new value from it and return that.")
    return None


def _sign(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    if np.any(exp != 0) and _close(-got, exp):
        return ("Your result has the right size but the opposite sign everywhere: check the "
                "order of a subtraction or a leading minus (a loss is minus the objective).")
    return None


def _shift(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    if exp.ndim != 1 or exp.size < 3 or np.allclose(exp, exp[0]):
        return None
    if _close(got[1:], exp[:-1]) or _close(got[:-1], exp[1:]):
        return ("Your values are the expected ones shifted by one index (entry t holds what "
                "belongs at t - 1 or t + 1): check where the loop writes relative to what it "
                "adds.")
    if _close(got, exp[::-1]):
        return ("Your values are the expected ones in reverse order: a backwards loop must "
                "store entry t at index t.")
    return None


def _terminal(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    mdp = next((a for a in case.args if hasattr(a, "terminal") and hasattr(a, "P")), None)
    if mdp is None or exp.ndim == 0 or exp.shape[0] != len(mdp.terminal):
        return None
    terminal = np.asarray(mdp.terminal, dtype=bool)
    if not terminal.any() or terminal.all():
        return None
    wrong = ~np.isclose(got, exp, rtol=_RTOL, atol=1e-8)
    rows = wrong.reshape(len(terminal), -1).any(axis=1)
    if rows.any() and not rows[~terminal].any():
        return ("Your result is right at every non-terminal state and wrong at the terminal "
                "ones: an episode ends there, so nothing is earned or bootstrapped from them.")
    return None


def _factor(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    big = np.abs(exp) > 1e-9 * max(1.0, float(np.abs(exp).max(initial=0.0)))
    if not big.any() or np.any((np.abs(got) > 1e-12) & ~big):
        return None
    ratios = got[big] / exp[big]
    c = float(np.median(ratios))
    if not np.allclose(ratios, c, rtol=1e-4) or np.isclose(c, 1.0) or c == 0.0:
        return None
    gamma = _gamma(case)
    if exp.size < 2 and not (gamma is not None and gamma not in (0.0, 1.0) and any(
            np.isclose(c, gamma**p, rtol=1e-4) for p in (-2, -1, 1, 2))):
        return None  # one number is always some factor off: say nothing
    if gamma is not None and gamma not in (0.0, 1.0):
        for power in (1, 2):
            if np.isclose(c, gamma**power, rtol=1e-4):
                return (f"Every value is {c:.4g} times the expected one (gamma^{power}): you "
                        "discount one step too many (the first term gets gamma^0 = 1).")
            if np.isclose(c, gamma**-power, rtol=1e-4):
                return (f"Every value is {c:.4g} times the expected one (1 / gamma^{power}): "
                        "a discount factor gamma is missing somewhere.")
    return (f"Every value is {c:.4g} times the expected one: a constant factor is wrong (a "
            "count you divide by, a sum where a mean is taken, or a weight).")


def _missing_term(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    for arg in case.args:
        arr = _numeric(arg) if hasattr(arg, "shape") or isinstance(arg, list) else None
        if arr is None or arr.shape != exp.shape or not np.any(arr):
            continue
        if _close(got + arr, exp):
            return ("Each entry t lacks the input's own entry t: a sum from step t on "
                    "includes r_t, the reward of that step itself.")
        if _close(got - arr, exp):
            return ("Each entry t counts the input's own entry t twice (the reward r_t of "
                    "that step is added once).")
    return None


def _offset(got: np.ndarray, exp: np.ndarray, case: Case) -> str | None:
    if exp.size < 2:
        return None
    delta = got - exp
    if np.allclose(delta, delta.flat[0], rtol=0, atol=1e-6 * max(1.0, float(
            np.abs(exp).max()))) and abs(delta.flat[0]) > 1e-9:
        return (f"Every value is off by the same amount ({delta.flat[0]:+.4g}): a constant "
                "term (a reward, a baseline, a +1) is added or missing.")
    return None


#: the patterns, most specific first
PATTERNS: tuple[Diagnosis, ...] = (
    _shape, _nan, _truncated, _returned_input, _terminal, _sign, _shift, _missing_term,
    _factor, _offset,
)


#: how a procedure marks the gradient of a constant input, which must be 0 (e.g.
#: ``"d loss / d advantages (a constant: 0)"``, ``"d / d old_log_probs (must be 0)"``)
_CONSTANT_MARKS = ("(a constant", "(must be 0)")


def _type_hint(what: str, got_type: str, right: bool = False) -> str:
    """Return ``what`` the notebook promises, where the student returned a ``got_type``."""
    values = "Your values are right, but r" if right else "R"
    return (f"{values}eturn {what} as the notebook says (you returned a {got_type[:40]}): "
            "its own cells and rlkit's trainer compute with what your function returns.")


def _gradient_input(field: str) -> str | None:
    """The input a field named ``"d loss / d NAME (...)"`` or ``"d / d NAME"`` is about."""
    for head in ("d loss / d ", "d / d "):
        if field.startswith(head):
            return field[len(head):].split(" (", 1)[0]
    return None


def _gradients(got: dict, expected: dict) -> str | None:
    """Gradients that reach a constant (a missing ``.detach()``), or miss an input."""
    leaks, missing = [], []
    for field, value in expected.items():
        name = _gradient_input(str(field))
        arr, exp = (_numeric(got.get(field)), _numeric(value)) if name else (None, None)
        if arr is None or exp is None or arr.shape != exp.shape:
            continue
        if any(mark in str(field) for mark in _CONSTANT_MARKS):
            if np.any(np.abs(arr) > 1e-9):
                leaks.append(name)
        elif exp.size > 1 and np.any(exp) and not np.any(arr):
            missing.append(name)  # a whole batch without gradient: not clipping, a cut graph
    if leaks:
        names = " and ".join(f"`{n}`" for n in leaks)
        return (f"A gradient reaches {names}, which must get none: "
                f"{'they are constants' if len(leaks) > 1 else 'it is a constant'} of this "
                f"loss (targets, the old policy's or the critic's outputs). .detach() "
                f"{'them' if len(leaks) > 1 else 'it'} where you use "
                f"{'them' if len(leaks) > 1 else 'it'}.")
    if missing:
        names = " and ".join(f"`{n}`" for n in missing)
        return (f"No gradient reaches {names}: compute the result from "
                f"{'them' if len(missing) > 1 else 'it'} with torch operations (no .detach(), "
                ".item(), numpy or a new tensor on the way).")
    return None


def explain(case: Case, got: Any, expected: Any) -> str | None:
    """One sentence on how ``got`` differs from ``expected`` on ``case``, or None.

    For outputs compared field by field (dicts of named values), the first field that differs
    is explained.
    """
    if returned_none(got, expected):
        return NONE_HINT
    for mark, what in PROMISED.items():  # a procedure's mark of another type than promised
        if isinstance(got, dict) and mark in got and not (
                isinstance(expected, dict) and mark in expected):
            return _type_hint(what, str(got[mark]))
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return None
        text = _gradients(got, expected)
        if text is not None:
            return text
        for name, value in expected.items():
            if name in got:
                arr, exp = _numeric(got[name]), _numeric(value)
                if arr is not None and exp is not None and _close(arr, exp.astype(float)):
                    continue  # a field that matches: its rounding noise explains nothing
                text = explain(case, got[name], value)
                if text is not None:
                    return text
        return None
    exp = _numeric(expected)
    arr = _numeric(got)
    if exp is None or arr is None:
        return None
    exp = exp.astype(float)
    promised = (PROMISED[NOT_A_TENSOR] if hasattr(expected, "detach") else
                PROMISED[NOT_AN_ARRAY] if isinstance(expected, np.ndarray) else None)
    if promised and type(got) is not type(expected) and _close(arr.astype(float), exp):
        return _type_hint(promised, type(got).__name__, right=True)  # another container
    try:
        with np.errstate(all="ignore"):
            for pattern in PATTERNS:
                if pattern is not _shape and arr.shape != exp.shape:
                    return None
                text = pattern(arr, exp, case)
                if text is not None:
                    return text
    except (ValueError, TypeError, IndexError):  # an odd output: no diagnosis, no crash
        return None
    return None
