"""The user error of ``python -m rlkit``'s commands, and the help line that describes it.

Each command (:mod:`rlkit.cli_solve`, :mod:`rlkit.cli_train`, ``rlhf``) raises
:class:`BadInput` for input it cannot use; :func:`rlkit.cli.main` reports it as
``python -m rlkit COMMAND: error: ...`` after the command's usage, with exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["EXIT_STATUS", "BadInput", "save_figure"]

EXIT_STATUS = "exit status: 0 on success, 2 on bad input (the message says what to fix).\n"
"""The last line of every help epilog."""


class BadInput(Exception):
    """Raised for user errors; reported as ``rlkit solve: error: ...`` with exit code 2."""


def save_figure(figure: Any, path: Path) -> None:
    """Write ``figure`` to the ``--plot`` ``path`` and say so (a failure is :class:`BadInput`)."""
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise BadInput(f"cannot write --plot {path}: {error.strerror}") from error
    print(f"wrote {path}")
