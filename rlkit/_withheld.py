"""The error rlkit's own version of a graded function raises while its notebook is graded.

rlkit holds the reference of almost every function a notebook asks the student to write, under
the same name and signature, so that the student's function plugs into rlkit's trainers. While
a notebook is graded, its submission runs against a *redacted build* of rlkit (made by
``autograder.judge.withhold``) in which the body of each of those references is replaced by
``raise withheld("rlkit.dp.q_from_v")``: a graded function that hands its work to rlkit's own
gets this error instead of the answer. Nothing in the normal package raises it.
"""

from __future__ import annotations

#: the first words of every message, which the grader recognises in a reported error.
MARKER = "rlkit's own"


class WithheldError(RuntimeError):
    """rlkit's implementation of a function the notebook being graded asks you to write."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{MARKER} `{name}` is not available while this notebook is graded: "
                         "it is a function the notebook asks you to write")


def withheld(name: str) -> WithheldError:
    """The error the redacted ``name`` raises (``name``: its dotted path in rlkit)."""
    return WithheldError(name)
