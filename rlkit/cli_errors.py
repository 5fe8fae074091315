"""The user error of ``python -m rlkit``'s commands, and the help line that describes it.

Each command (:mod:`rlkit.cli_solve`, :mod:`rlkit.cli_train`, ``rlhf``) raises
:class:`BadInput` for input it cannot use; :func:`rlkit.cli.main` reports it as
``python -m rlkit COMMAND: error: ...`` after the command's usage, with exit status 2.
"""

from __future__ import annotations

__all__ = ["EXIT_STATUS", "BadInput"]

EXIT_STATUS = "exit status: 0 on success, 2 on bad input (the message says what to fix).\n"
"""The last line of every help epilog."""


class BadInput(Exception):
    """Raised for user errors; reported as ``rlkit solve: error: ...`` with exit code 2."""
