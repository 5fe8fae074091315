r"""Text from a submission made safe to write anywhere: files, JSON, HTML, a terminal.

Everything a submission's process prints or raises reaches the grader's files (logs, stored
results, feedback, ``grades.csv``, the annotated notebook). Two kinds of character must not
survive the trip:

* a **lone surrogate** (``"\ud800"``: a Python string can hold one, e.g. from
  ``print("\ud800")`` or ``json.loads('"\\ud800"')``, but no UTF-8 file can), which makes every
  strict ``encode("utf-8")`` raise: it becomes U+FFFD;
* **terminal control sequences** (``ESC [ 2 J`` clears the screen, ``ESC ] 0 ; title BEL`` sets
  the window title, others rewrite what an instructor's ``cat logs/*.log`` shows, or worse):
  escape sequences are removed and every other control character except newline and tab (C0,
  DEL and the C1 range, whose ``\x9b`` is a one-byte CSI) is dropped.

:func:`safe_text` does both; :func:`scrub` applies it to every string inside plain data or a
notebook; :func:`clean_result` to a whole graded notebook before anything is written.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: ESC sequences: CSI (``ESC [ ... final``), OSC/DCS/SOS/PM/APC strings (ended by BEL or
#: ``ESC \\``, or unterminated), and two-character escapes; the 8-bit CSI and OSC too.
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def no_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (it can then be encoded)."""
    return _SURROGATE.sub("\ufffd", text)


def safe_text(text: object) -> str:
    r"""``text`` as a string without lone surrogates, escape sequences or control characters.

    Newlines and tabs stay; a carriage return is dropped too (it rewrites a terminal line).

    >>> safe_text("a\x1b[2Jb\x1b]0;title\x07c\ud800\r\n") == "abc\ufffd\n"
    True
    """
    return _CONTROL.sub("", _ESCAPE.sub("", no_surrogates(str(text))))


def scrub(value: Any) -> Any:
    """``value`` with :func:`safe_text` applied to every string in it (dicts, lists, tuples).

    A notebook (``NotebookNode``, a dict) keeps its type; keys are cleaned like values.
    """
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        out = type(value)() if type(value) is not dict else {}
        for key, item in value.items():
            out[scrub(key)] = scrub(item)
        return out
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def clean_result(result: Any) -> Any:
    """Clean, in place, every text of a graded notebook (``NotebookResult``) and return it.

    Cells, reasons, reports, notes, cell errors, the captured output and the restored notebook:
    all that the grader writes to its files afterwards.
    """
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if f.name == "cells":
            value = [dataclasses.replace(cell, **{
                g.name: scrub(getattr(cell, g.name)) for g in dataclasses.fields(cell)
                if isinstance(getattr(cell, g.name), str | tuple)}) for cell in value]
        elif isinstance(value, str | list | tuple | dict):
            value = scrub(value)
        setattr(result, f.name, value)
    return result
