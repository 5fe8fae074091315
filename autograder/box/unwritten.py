"""``with skip_if_unwritten():``, for a notebook cell that needs a function still to write.

A fresh release holds each student function as nbgrader's stub, ``raise NotImplementedError()``.
A demo cell that calls one would raise, and JupyterLab's *Run All* stops at the first error. A
cell whose body sits under ``with skip_if_unwritten():`` instead prints one line naming the
function to write first and lets the notebook go on::

    with skip_if_unwritten():
        q_0 = action_values(mdp, theta_0, H)
        print(q_0)

    ⏭ skipped: write `action_values` first (its cell `def action_values(...)` is above), then
      run this cell again

(one line in the notebook). It is narrow on purpose, so that it never hides a real error:

- a ``NotImplementedError`` is skipped only when it was raised *in* a function defined at the
  top level of the notebook (the student's stub, named from the traceback's last frame); one
  raised by rlkit, numpy or torch, or by a method, propagates as usual;
- a ``NameError`` is skipped only for a name that an earlier skipped block would have bound
  (``q_0`` above), so that the cells after a skipped one go on too; it names the function that
  the first skipped block waited for. Any other ``NameError``, and every other exception, goes
  through.

It lives in the box's package, not in the judge, because it knows no answer: the notebook API
(:mod:`autograder.checks` and its stand-in in the box, :mod:`autograder.box.notebook_api`)
re-exports this one implementation. Written by hand because nothing in IPython or nbgrader
tells a stub's ``NotImplementedError`` from any other, or lets a cell fail without stopping
*Run All*.
"""

from __future__ import annotations

import ast
import linecache
import sys
from types import FrameType, TracebackType

#: a name that a skipped block would have bound -> the unwritten function that block waited for.
_WAITING: dict[str, str] = {}


class skip_if_unwritten:  # noqa: N801 (used as a statement: ``with skip_if_unwritten():``)
    """Skip the rest of the block when it needs a student function that is still a stub.

    Examples:
        >>> def gae(rewards):
        ...     raise NotImplementedError()
        >>> with skip_if_unwritten():
        ...     advantages = gae([1.0])
        ⏭ skipped: write `gae` first (its cell `def gae(...)` is above), then run this cell again
        >>> with skip_if_unwritten():
        ...     print(advantages)
        ⏭ skipped: this cell needs `advantages`, which waits for `gae`: write `gae` first
        >>> with skip_if_unwritten():
        ...     [].pop()
        Traceback (most recent call last):
        IndexError: pop from empty list

    """

    def __enter__(self) -> skip_if_unwritten:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        if error is None:
            return False
        cell = sys._getframe(1)  # the frame that runs the ``with`` statement
        if isinstance(error, NotImplementedError):
            stub = _stub_name(traceback, cell)
            if stub is None:
                return False
            print(f"\u23ed skipped: write `{stub}` first (its cell `def {stub}(...)` is above), "
                  "then run this cell again")
        elif type(error) is NameError and error.name in _WAITING:
            stub = _WAITING[error.name]
            print(f"\u23ed skipped: this cell needs `{error.name}`, which waits for `{stub}`: "
                  f"write `{stub}` first")
        else:
            return False
        _WAITING.update(dict.fromkeys(_bound_names(cell), stub))
        return True


def _stub_name(traceback: TracebackType | None, cell: FrameType) -> str | None:
    """The name of the notebook function that raised, or None when something else raised."""
    last = None
    while traceback is not None:
        last, traceback = traceback.tb_frame, traceback.tb_next
    if last is None or last.f_globals is not cell.f_globals:
        return None  # raised in a library, not in the notebook
    name = last.f_code.co_name
    function = cell.f_globals.get(name)
    if getattr(function, "__code__", None) is not last.f_code:
        return None  # a method, a nested function, or the cell itself
    return name


def _bound_names(cell: FrameType) -> set[str]:
    """The names the ``with`` block running in ``cell`` binds (empty if its source is unknown).

    Function and class bodies and comprehensions are not entered: their names are local.
    """
    source = "".join(linecache.getlines(cell.f_code.co_filename))
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.With)
              and node.lineno <= cell.f_lineno <= (node.end_lineno or node.lineno)]
    if not blocks:
        return set()
    names: set[str] = set()
    pending: list[ast.AST] = list(blocks[-1].body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp
                        | ast.GeneratorExp):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return names
