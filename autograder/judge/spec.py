"""A check spec and its cases: what is graded, on which inputs, against what, with which bugs.

One :class:`CheckSpec` per graded student function (or a learning run of several). A
:class:`Case` says how to call the function as plain data the box can receive (a
:class:`~autograder.box.calls.Call` or a procedure's :class:`~autograder.box.calls.Run`), or
drives several runs from the judge (a learning check); its expected value and comparison stay
here, in the judge.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.box.calls import (
    NOT_IMPLEMENTED,
    Call,
    CaseProblem,
    Problem,
    Raised,
    Reraised,
    Run,
    call_case,
)
from autograder.judge.compare import Comparator

DEFAULT_GRADING_SEED = 20261121



@dataclass(frozen=True)
class Deferred:
    """A value computed only where a case is judged, never where the student's code runs.

    A case's ``expected`` (or a comparator's bound) often comes from the reference, or from an
    exact computation the submission does not need. The submission's sandbox builds the same
    cases to call the student's function on, but the references of its notebook are withheld
    there (:mod:`autograder.judge.withhold`): anything derived from them is given as
    ``Deferred(lambda: ...)`` and computed in the grader's process only (once per judge).
    """

    compute: Callable[[], Any]


def deferred_compare(make: Callable[[], Comparator]) -> Comparator:
    """A comparator built on first use (e.g. a statistical bound from the reference's moments).

    Comparators run only in the judge, so the reference they need is never called inside the
    submission's sandbox.
    """
    built: list[Comparator] = []

    def compare(got: Any, expected: Any) -> str | None:
        if not built:
            built.append(make())
        return built[0](got, expected)

    return compare


@dataclass(frozen=True)
class Case:
    """One input on which the student's function is compared with the reference.

    How the function is called is plain data the sandbox can receive
    (:mod:`autograder.box.calls`): by default ``fn(*args, **kwargs)``; with ``run``, a
    :class:`~autograder.box.calls.Run` of a registered box procedure (gradients, many draws of
    a random choice). ``expected`` is the exact value to compare with when it is not the
    reference's output (statistical checks compare with the exact value or distribution within
    the case's own ``compare``). A learning run gives ``drive`` instead: a function of
    ``call(run) -> output`` that asks for one or more runs (e.g. one training run per seed) and
    scores what they return in the judge's process (:func:`learning_case`).
    """

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    run: Run | None = None
    expected: Any = None
    """the exact value to compare with, or a :class:`Deferred` that computes it."""
    compare: Comparator | None = None
    """this case's own comparison (e.g. a statistical bound), instead of the spec's"""
    training: bool = False
    """a learning run (:func:`learning_case`): seconds per call, so the judge never runs it
    again, nor runs the known bugs on it to name a failure (the other cases name it)"""
    drive: Callable[[Callable[[Run], Any]], Any] | None = None
    """a judge-side driver of several box runs (see above); None for one call."""

    def box_call(self) -> Call | Run:
        """How the sandbox calls the function on this case (not for a ``drive`` case)."""
        if self.drive is not None:
            raise TypeError(f"case {self.name!r} is driven by the judge, run by run")
        return self.run if self.run is not None else Call(self.args, self.kwargs)

    def call(self, fn: Callable) -> Any:
        """Run ``fn`` on this case here (the self-check, the reference, the known bugs)."""
        if self.drive is not None:
            return self.drive(lambda run: outcome_or_raise(call_case(run, fn)))
        return self.box_call()(fn)


def outcome_or_raise(got: Any) -> Any:
    """A run's output; a raised error, a problem or a stub raises again (a driver stops)."""
    if got is NOT_IMPLEMENTED:
        raise NotImplementedError
    if isinstance(got, Raised):
        raise Reraised(got.error)
    if isinstance(got, Problem):
        raise CaseProblem(got.text)
    return got


@dataclass(frozen=True)
class Bug:
    """A plausible wrong implementation and the hint a student who wrote it should read."""

    name: str
    fn: Callable
    hint: str


class MissingFunction(LookupError):
    """A function a check needs is not defined in the notebook, or is not a function."""

    def __init__(self, check: str, function: str, found: Any = None) -> None:
        self.check, self.function = check, function
        self.found_type = None if found is None else type(found).__name__
        super().__init__(missing_function_message(check, function, self.found_type))


def missing_function_message(check: str, function: str, found_type: str | None) -> str:
    """What a student reads when ``function`` is missing (``found_type`` None) or not callable."""
    if found_type is None:
        return (f"{check}: the function `{function}` is not defined. Did you rename or delete "
                "it, or does its cell fail? Keep the name and signature from the notebook.")
    return f"{check}: `{function}` should be a function, got {found_type[:80]}"


@dataclass(frozen=True)
class CheckSpec:
    """Everything about grading one student function."""

    name: str
    """``<notebook topic>.<function>``, e.g. ``"bellman.q_from_v"``."""
    function: str | tuple[str, ...]
    """the name the student's function has in the notebook; several names for a check of
    several functions together (a learning run of a whole agent): its cases, reference and
    bugs then take a dict ``{name: function}``."""
    points: int
    reference: Callable
    visible_cases: Callable[[], Sequence[Case]]
    """deterministic cases the student sees and can run."""
    hidden_cases: Callable[[np.random.Generator], Sequence[Case]] = lambda rng: ()
    """cases drawn from the grader's seed; they run only when grading."""
    compare: Comparator = field(default=None)  # type: ignore[assignment]
    """returns ``None`` when ``got`` matches ``expected`` and otherwise says how it differs."""
    bugs: tuple[Bug, ...] = ()
    hint: str = ""
    """shown when a case fails and no known bug matches."""
    diagnose: Comparator | None = None
    """how a student's output is matched with a known bug's (default: ``compare``)."""
    learning: bool = False
    """a learning run (DESIGN.md section 5, layer 3): the trainer seeds everything, so a failing
    case is not run again, and the bugs are broken agents that must fail, not matched one by
    one (each would cost a training run): a failure gets ``hint``."""
    withhold: tuple[str, ...] = ()
    """rlkit's own implementations of this function (dotted names, e.g. ``rlkit.dp.q_from_v``,
    ``rlkit.buffers.ReplayBuffer.sample``), unreachable from the notebook's code while it is
    graded (:mod:`autograder.judge.withhold`); by default the reference when it is rlkit's."""
    uses: tuple[str, ...] = ()
    """rlkit helpers the notebook tells the student's function to use (never withheld in the
    same notebook)."""
    in_place: bool = False
    """True when changing an argument is the point (``update_target``); otherwise a function
    that changes one of its inputs fails the case (:mod:`autograder.judge.inputs`)."""

    @property
    def records_inputs(self) -> bool:
        """Whether the cases record the function's arguments before and after its call."""
        return not (self.in_place or self.learning or len(self.functions) > 1)

    def __post_init__(self) -> None:
        if not isinstance(self.function, str) and len(self.function) < 2:
            # the box passes one named function bare and several as a dict: a tuple of one
            # would get a dict here and a bare function in the box
            one = repr(self.function[0]) if self.function else "'name'"
            raise ValueError(f"{self.name}: a check of one function names it as a string "
                             f"(function={one}); a tuple is for two or more")
        if self.compare is None:
            from autograder.judge.compare import allclose

            object.__setattr__(self, "compare", allclose())

    @property
    def functions(self) -> tuple[str, ...]:
        """The names of the student functions this check calls."""
        return (self.function,) if isinstance(self.function, str) else tuple(self.function)

    def student_functions(self, namespace: Mapping[str, Any]) -> Any:
        """The student's function from ``namespace`` (a dict of them for several).

        Raises:
            MissingFunction: if one is not defined or not callable.

        """
        found = {}
        for function in self.functions:
            fn = namespace.get(function)
            if fn is None or not callable(fn):
                raise MissingFunction(self.name, function, fn)
            found[function] = fn
        return found[self.function] if isinstance(self.function, str) else found

    def cases(self, *, grading: bool, seed: int | None = None) -> list[Case]:
        """The visible cases, plus the hidden ones when grading."""
        cases = list(self.visible_cases())
        if grading:
            cases += list(self.hidden_cases(self.hidden_rng(seed)))
        return cases

    def hidden_rng(self, seed: int | None = None) -> np.random.Generator:
        """A generator for this spec's hidden cases, independent across specs."""
        seed = grading_seed() if seed is None else seed
        return np.random.default_rng([seed, zlib.crc32(self.name.encode())])


def grading_seed() -> int:
    """The seed of the hidden cases: the grader's ``RLKIT_GRADING_SEED`` or the default."""
    return int(os.environ.get("RLKIT_GRADING_SEED", DEFAULT_GRADING_SEED))
