"""How a case calls the student's function: the box's half of a check, with no answer in it.

A check's case (:class:`autograder.judge.core.Case`) says *how* to call the function it grades,
as plain data that can cross into the sandbox:

* :class:`Call`: ``fn(*args, **kwargs)`` on private copies of the arguments;
* :class:`Run`: a named *procedure* (:func:`procedure`) of ``fn`` and plain-data parameters,
  for what one call cannot show: a loss's gradients, many draws of a random choice, a training
  run with the student's functions. Procedures live in :mod:`autograder.box.procedures`, one
  module per notebook topic, and return raw outputs (values, gradients, samples, the trained
  parameters); they hold no expected value, threshold, label or comparison.

The same objects run in both places: in the sandbox on the student's function, and in the
grader (:mod:`autograder.judge`) on the reference and on the known bugs, whose outputs the judge
compares. :func:`call_case` turns what happened into an outcome: the output, a :class:`Raised`,
a :class:`Problem` (a procedure could not use what the function gave, :class:`CaseProblem`) or
:data:`NOT_IMPLEMENTED`. :func:`encode_call` / :func:`decode_call` carry a call across
(:mod:`autograder.box.wire`).
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.box import wire
from autograder.box.inputs import InputRecorder

#: every procedure by name (``"<topic>.<name>"``), registered by :func:`procedure`.
PROCEDURES: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class Call:
    """``fn(*args, **kwargs)``, on private copies: mutating them harms nothing."""

    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, fn: Callable) -> Any:
        """``fn``'s output on copies of the arguments."""
        return fn(*copy.deepcopy(self.args), **copy.deepcopy(dict(self.kwargs)))


@dataclass(frozen=True)
class Run:
    """A registered procedure with its plain-data parameters (see :func:`procedure`)."""

    procedure: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, fn: Any) -> Any:
        """What the procedure gives for ``fn`` (the student's function, or a dict of them)."""
        return find(self.procedure)(fn, **copy.deepcopy(dict(self.params)))


def procedure(name: str) -> Callable[[Callable[..., Any]], Callable[..., Run]]:
    """Register ``func(fn, **params)`` as procedure ``name``; return its :class:`Run` maker.

    The decorated name, called with the parameters (positionally or by keyword, defaults
    filled in), gives a :class:`Run`; ``maker.procedure`` is the function itself::

        @procedure("dqn.td_target")
        def td_run(fn, rewards, next_q, terminated, gamma): ...

        Case("a terminal step", run=td_run([1.0], [[2.0, 3.0]], [True], 0.9))
    """

    def register(func: Callable[..., Any]) -> Callable[..., Run]:
        if name in PROCEDURES and PROCEDURES[name] is not func:
            raise ValueError(f"two procedures are named {name!r}")
        PROCEDURES[name] = func
        signature = inspect.signature(func)
        first = next(iter(signature.parameters))

        @functools.wraps(func)
        def make(*args: Any, **kwargs: Any) -> Run:
            bound = signature.bind(None, *args, **kwargs)
            bound.apply_defaults()
            params = dict(bound.arguments)
            params.pop(first)
            return Run(name, params)

        make.procedure = func  # type: ignore[attr-defined]
        return make

    return register


def find(name: str) -> Callable[..., Any]:
    """The procedure ``name``, importing its topic's module on first use."""
    if name not in PROCEDURES:
        topic = name.split(".", 1)[0]
        if topic.isidentifier():
            try:
                importlib.import_module(f"autograder.box.procedures.{topic}")
            except ImportError:
                pass
    try:
        return PROCEDURES[name]
    except KeyError:
        raise LookupError(f"no procedure named {name!r}") from None


# ----------------------------------------------------------------------------- outcomes


class CaseProblem(Exception):
    """Raised by a procedure that cannot use what the function gave (not "the function raised").

    E.g. a loss that is not a scalar cannot be differentiated. Its message is the case's
    problem as the student reads it. It only ever fails a case: the judge compares outputs.
    """


@dataclass(frozen=True)
class Problem:
    """Stands for "the procedure could not use the output" (a :class:`CaseProblem`)."""

    text: str


@dataclass(frozen=True)
class Raised:
    """Stands for "the function raised this" (its first line) in place of an output."""

    error: str
    where: str = field(default="", compare=False)
    """the line of the student's own code it raised on (:func:`student_line`), or ""; two
    outcomes that raised the same error are the same, wherever it was raised."""


#: the problem of a procedure that could not use what the function gave because it gave None
RETURNED_NONE = "your function returned None"
#: a procedure's output ``{NOT_A_TENSOR: type name}`` stands for "the function did not return
#: the torch tensor its notebook promises" (``NOT_AN_ARRAY``: the numpy array); the judge says so
NOT_A_TENSOR = "not a tensor"
NOT_AN_ARRAY = "not a numpy array"


class Reraised(Exception):  # noqa: N818 - it is the student's error, passed on
    """A :class:`Raised` outcome passed on through a judge's driver, its first line intact."""


class _NotImplementedMarker:
    """Stands for "the function raised NotImplementedError" in place of an output."""

    def __repr__(self) -> str:
        return "NOT_IMPLEMENTED"


#: what :func:`call_case` gives for a function that raises ``NotImplementedError`` (a stub).
NOT_IMPLEMENTED: Any = _NotImplementedMarker()


def first_line(exc: BaseException) -> str:
    """``"TypeName: first line of the message"`` (a hostile ``__str__`` gives the name only)."""
    try:
        text = str(exc).strip().splitlines()
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = []
    name = type(exc).__name__
    return f"{name}: {text[0][:300]}" if text else name


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """The directories of Python, its packages, the kit's ``autograder`` and ``rlkit``."""
    import sys
    import sysconfig

    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib",
                                                     "platlib")}
    roots |= {sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[1])}
    rlkit = importlib.util.find_spec("rlkit")
    if rlkit is not None and rlkit.origin:
        roots.add(str(Path(rlkit.origin).resolve().parent))
    return tuple(os.path.join(r, "") for r in sorted(roots) if r)


def student_line(exc: BaseException) -> str:
    """Where in the student's own code ``exc`` was raised: the innermost frame outside Python,
    its packages and the kit, as ``"`name`, line N of the cell: SOURCE"``, or "".

    The text is the student's code: one line, printable characters only, at most 160 of them.
    """  # noqa: D205
    import linecache
    import traceback

    roots = _library_roots()
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename  # a cell is "<ipython-input-...>" or a file of the kernel's
        library = (name.startswith("<frozen") if name.startswith("<")
                   else os.path.realpath(name).startswith(roots))
        if not library:
            found = frame
    if found is None:
        return ""
    text = (found.line or linecache.getline(found.filename, found.lineno or 0)).strip()
    text = "".join(c if c.isprintable() else " " for c in text)[:160]
    cell = "<ipython-input" in found.filename or "ipykernel_" in found.filename
    place = "the cell" if cell else Path(found.filename).name[:60]
    where = f"`{found.name[:60]}`, line {found.lineno} of {place}"
    return f"{where}: {text}" if text else where


def call_case(call: Any, fn: Callable, inputs: list | None = None) -> Any:
    """``call(fn)``: the output, a :class:`Raised`, a :class:`Problem` or NOT_IMPLEMENTED.

    ``call`` is a :class:`Call`, a :class:`Run` or anything with ``call(fn)`` (a judge's case).
    With ``inputs`` (a list), the first call of ``fn`` is recorded (:class:`InputRecorder`)
    and its record, or None, appended. A procedure that fails after the function returned
    None gives the problem :data:`RETURNED_NONE` (a missing ``return``), whatever it tripped
    on. Only ``Exception`` is caught; ``KeyboardInterrupt``, ``SystemExit`` and the like go on.
    """
    recorder = InputRecorder(fn) if inputs is not None else None
    target = recorder or fn
    gave_none: list[bool] = []
    if callable(target):
        inner = target

        @functools.wraps(fn)
        def target(*args: Any, **kwargs: Any) -> Any:
            out = inner(*args, **kwargs)
            gave_none.append(out is None)
            return out

    try:
        with np.errstate(all="ignore"):
            return call.call(target) if hasattr(call, "call") else call(target)
    except NotImplementedError:
        return NOT_IMPLEMENTED
    except CaseProblem as problem:
        return Problem(RETURNED_NONE if any(gave_none) else str(problem))
    except Reraised as raised:
        return Raised(str(raised))
    except Exception as exc:  # noqa: BLE001 - a raised error is an outcome to report
        if any(gave_none) and not isinstance(call, Call):
            return Problem(RETURNED_NONE)  # the procedure tripped on the None
        return Raised(first_line(exc), student_line(exc))
    finally:
        if recorder is not None and inputs is not None:
            inputs.append(recorder.record)


# ----------------------------------------------------------------------------- crossing


def encode_call(call: Call | Run) -> dict[str, Any]:
    """A call as plain data for the sandbox (:func:`decode_call` rebuilds it there)."""
    if isinstance(call, Run):
        return {"run": call.procedure, "params": wire.encode_input(dict(call.params))}
    if isinstance(call, Call):
        return {"args": wire.encode_input(list(call.args)),
                "kwargs": wire.encode_input(dict(call.kwargs))}
    raise TypeError(f"not a Call or a Run: {type(call).__name__}")


def decode_call(data: Mapping[str, Any]) -> Call | Run:
    """The call :func:`encode_call` encoded."""
    if "run" in data:
        return Run(str(data["run"]), wire.decode_input(data["params"]))
    return Call(tuple(wire.decode_input(data["args"])), wire.decode_input(data["kwargs"]))


def encode_outcome(got: Any) -> dict[str, Any]:
    """What :func:`call_case` gave, as a reply's plain data."""
    if got is NOT_IMPLEMENTED:
        return {"ni": True}
    if isinstance(got, Raised):
        return {"raised": str(got.error)[:1000], "at": str(got.where)[:300]}
    if isinstance(got, Problem):
        return {"problem": str(got.text)[:1000]}
    return {"v": wire.encode(got)}


def decode_outcome(item: Any) -> Any:
    """One outcome of a reply as the judge takes it (plain data only; garbled is Unreadable)."""
    if not isinstance(item, Mapping):
        return wire.Unreadable("output", "garbled")
    if item.get("ni") is True:
        return NOT_IMPLEMENTED
    if "raised" in item:
        where = "".join(c if c.isprintable() else " " for c in str(item.get("at", ""))[:300])
        return Raised(str(item["raised"])[:1000], where)
    if "problem" in item:
        return Problem(str(item["problem"])[:1000])
    try:
        return wire.decode(item["v"])
    except Exception:  # noqa: BLE001 - garbled or forged data is a wrong output
        return wire.Unreadable("output", "garbled")


def module_state(module: Any) -> dict[str, np.ndarray]:
    """A torch module's parameters and buffers as float arrays (what a learning run returns)."""
    return {str(k): v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


__all__ = [
    "NOT_AN_ARRAY",
    "NOT_A_TENSOR",
    "NOT_IMPLEMENTED",
    "PROCEDURES",
    "Call",
    "CaseProblem",
    "Problem",
    "Raised",
    "RETURNED_NONE",
    "Reraised",
    "Run",
    "call_case",
    "decode_call",
    "decode_outcome",
    "encode_call",
    "encode_outcome",
    "find",
    "first_line",
    "module_state",
    "procedure",
    "student_line",
]
