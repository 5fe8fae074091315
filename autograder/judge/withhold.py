"""Withhold rlkit's own version of each graded function from the notebook being graded.

rlkit holds the reference of almost every graded function under the same name and signature
(the trainers take the student's functions), so ``return rlkit.dp.q_from_v(mdp, values)`` would
otherwise earn the points. The rule (DESIGN.md section 5): a graded function that hands its
work to rlkit's own implementation of the same thing earns nothing for it.

How it holds (decided for issue 8):

* **Grading.** The submission's sandbox sees a *redacted build* of rlkit mounted read-only in
  place of the real package (:func:`redacted_rlkit`): a copy in which the body of every
  function the notebook's checks withhold is replaced by ``raise withheld("rlkit.dp.q_from_v")``
  (:mod:`rlkit._withheld`). The real source is not in the box at all, so no alias, ``getattr``
  with a built string, ``importlib.reload``, re-executing the file from disk or copy of the
  function object made before the check can reach it; the references of *other* notebooks stay
  (notebook 02's policy iteration may call notebook 01's exact policy evaluation). A check whose
  function raised that error fails with a message that names the function it called
  (:func:`autograder.judge.core.withheld_problem`). rlkit's trainers and demos that run the
  student's functions take every graded piece as an argument, so they keep working; a demo
  cell that calls a withheld reference itself fails like any other erroring cell. Unsandboxed
  grading puts the redacted build first on ``PYTHONPATH`` instead (the student could still read
  the real files there: unsandboxed grading is only for trusted code).
* **Self-check.** In the student's own kernel the real rlkit is loaded, so
  :class:`CallWatch` watches, while the student's function runs, for a call of any withheld
  function's code (by identity, or by file, name and line for a reloaded copy) and turns it
  into the same error, so the student reads the same message before submitting. It is advice,
  not enforcement: the grader's redacted build is what counts.

Which functions a check withholds: ``CheckSpec.withhold`` (dotted names such as
``rlkit.dp.q_from_v``, ``rlkit.buffers.ReplayBuffer.sample`` or the property
``rlkit.mdp.TabularMDP.expected_rewards``), by default its reference when that is an rlkit
function. ``CheckSpec.uses`` names the rlkit helpers its notebook tells the function to use;
they must not be withheld in the same notebook (:func:`notebook_withheld` refuses).
"""

from __future__ import annotations

import ast
import atexit
import functools
import importlib
import inspect
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType
from typing import Any

from autograder.judge.registry import topic_specs
from rlkit._withheld import WithheldError

#: the package whose functions are withheld.
PACKAGE = "rlkit"


# ----------------------------------------------------------------------------- which names


def qualified_name(obj: Any) -> str | None:
    """``module.qualname`` of a function (None for anything else, e.g. a lambda or a dict)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    return f"{module}.{qualname}"


def reference_names(spec: Any) -> tuple[str, ...]:
    """The rlkit implementations of ``spec``'s function: its ``withhold``, or its reference."""
    if spec.withhold:
        return tuple(spec.withhold)
    name = qualified_name(spec.reference)
    return (name,) if name and name.startswith(PACKAGE + ".") else ()


def withheld_names(spec: Any) -> tuple[str, ...]:
    """What ``spec`` withholds: its references and rlkit's second implementations.

    :func:`reference_names`, plus the other rlkit functions that compute the same thing
    (:data:`autograder.judge.also_withheld.ALSO_WITHHELD`), minus the spec's ``uses``.
    """
    from autograder.judge.also_withheld import ALSO_WITHHELD

    own = reference_names(spec)
    extra = ALSO_WITHHELD.get(getattr(spec, "name", ""), ())
    return own + tuple(n for n in extra if n not in own and n not in spec.uses)


def notebook_withheld(specs: Iterable[Any]) -> tuple[str, ...]:
    """Everything the checks of one notebook withhold, sorted.

    Raises:
        ValueError: a spec ``uses`` a helper that another spec of the notebook withholds.

    """
    specs = list(specs)
    names = sorted({name for spec in specs for name in withheld_names(spec)})
    for spec in specs:
        clash = set(spec.uses) & set(names)
        if clash:
            raise ValueError(f"{spec.name} is told to use {sorted(clash)}, which this "
                             "notebook's checks withhold")
    return tuple(names)


# ----------------------------------------------------------------------------- finding code


def resolve(name: str) -> Any:
    """The object a dotted name stands for, a property or method as defined on its class.

    Raises:
        LookupError: nothing of that name exists.

    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = (inspect.getattr_static(obj, attr) if inspect.isclass(obj)
                       else getattr(obj, attr))
        except AttributeError:
            break
        return obj
    raise LookupError(f"withheld function {name!r} does not exist")


def function_of(name: str) -> Callable:
    """The Python function ``name`` stands for (a property's getter, a method's function)."""
    obj = resolve(name)
    if isinstance(obj, property):
        obj = obj.fget
    elif isinstance(obj, functools.cached_property):
        obj = obj.func
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    return inspect.unwrap(obj)


def code_of(name: str) -> CodeType:
    """The code object of the function ``name`` (see :func:`function_of`)."""
    code = getattr(function_of(name), "__code__", None)
    if not isinstance(code, CodeType):
        raise TypeError(f"withheld {name!r} is not a Python function")
    return code


def package_dir() -> Path:
    """The directory of the real rlkit package."""
    return Path(importlib.import_module(PACKAGE).__file__).resolve().parent


# ----------------------------------------------------------------------------- redacted build


def _stub(name: str) -> ast.stmt:
    return ast.parse(f"raise __import__('rlkit._withheld', fromlist=['withheld'])"
                     f".withheld({name!r})").body[0]


def _redact_source(source: str, targets: dict[tuple[str, int], str], where: str) -> str:
    """``source`` with the body of each target function replaced by the withheld stub.

    ``targets`` maps (function name, first line of its code: the ``def`` or first decorator)
    to the dotted name the stub reports.
    """
    tree = ast.parse(source)
    found: set[tuple[str, int]] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = {node.lineno, *(d.lineno for d in node.decorator_list)}
                key = next(((node.name, n) for n in lines if (node.name, n) in targets), None)
                if key is None:
                    continue
                doc = node.body[:1] if ast.get_docstring(node) is not None else []
                node.body = [*doc, _stub(targets[key])]
                found.add(key)

    visit(tree.body)
    missing = set(targets) - found
    if missing:
        raise LookupError(f"cannot find {sorted(targets[k] for k in missing)} in {where}")
    return ast.unparse(tree) + "\n"


def build_redacted(names: Iterable[str], dest: Path) -> Path:
    """Write a copy of rlkit with ``names`` withheld to ``dest/rlkit``; return that path."""
    real = package_dir()
    by_file: dict[Path, dict[tuple[str, int], str]] = {}
    for name in names:
        code = code_of(name)
        path = Path(code.co_filename).resolve()
        if not path.is_relative_to(real):
            raise ValueError(f"withheld {name!r} is not defined in rlkit ({path})")
        by_file.setdefault(path, {})[(code.co_name, code.co_firstlineno)] = name
    target = dest / PACKAGE
    shutil.copytree(real, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path, targets in by_file.items():
        out = target / path.relative_to(real)
        out.write_text(_redact_source(path.read_text(encoding="utf-8"), targets, str(path)),
                       encoding="utf-8")
    for root, _, files in os.walk(dest):  # readable by the sandbox's unprivileged user
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return target


_BUILDS: dict[tuple[str, ...], Path] = {}


def redacted_rlkit(names: Iterable[str]) -> Path:
    """The redacted build for ``names``, made once per process in a temporary directory."""
    key = tuple(sorted(set(names)))
    if key not in _BUILDS:
        dest = Path(tempfile.mkdtemp(prefix="autograder-withheld-"))
        atexit.register(shutil.rmtree, dest, ignore_errors=True)
        _BUILDS[key] = build_redacted(key, dest)
    return _BUILDS[key]


# ----------------------------------------------------------------------------- self-check


class CallWatch:
    """Turns a call of a withheld function, while a student's function runs, into its error.

    It uses ``sys.setprofile`` only for the duration of the student's call (the cases of a
    self-check are small), and compares code objects, plus (file, name, first line) so that a
    copy of the function from ``importlib.reload`` or from compiling its file is recognised too.
    Hand-written because neither the standard library nor a package offers "did this code run
    inside that call"; ``sys.monitoring`` would do it more cheaply from Python 3.12.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.by_code: dict[CodeType, str] = {}
        self.by_place: dict[tuple[str, str, int], str] = {}
        for name in names:
            code = code_of(name)
            self.by_code[code] = name
            self.by_place[(os.path.realpath(code.co_filename), code.co_name,
                           code.co_firstlineno)] = name
        self.function_names = {code.co_name for code in self.by_code}

    def __bool__(self) -> bool:
        return bool(self.by_code)

    def wrap(self, fn: Callable) -> Callable:
        """``fn`` that raises :class:`WithheldError` if a withheld function ran inside it."""
        by_code, by_place, names = self.by_code, self.by_place, self.function_names

        def watched(*args: Any, **kwargs: Any) -> Any:
            hits: list[str] = []

            def profile(frame: Any, event: str, arg: Any) -> None:
                if event != "call":
                    return
                code = frame.f_code
                if code.co_name not in names:
                    return
                name = by_code.get(code) or by_place.get(
                    (os.path.realpath(code.co_filename), code.co_name, code.co_firstlineno))
                if name is not None:
                    hits.append(name)

            previous = sys.getprofile()
            sys.setprofile(profile)
            try:
                out = fn(*args, **kwargs)
            except Exception:
                if hits:  # e.g. it caught nothing and failed later: the call is the news
                    raise WithheldError(hits[0]) from None
                raise
            finally:
                sys.setprofile(previous)
            if hits:
                raise WithheldError(hits[0])
            return out

        return watched


__all__ = [
    "CallWatch",
    "WithheldError",
    "build_redacted",
    "code_of",
    "function_of",
    "notebook_withheld",
    "qualified_name",
    "redacted_rlkit",
    "resolve",
    "topic_specs",
    "reference_names",
    "withheld_names",
]
