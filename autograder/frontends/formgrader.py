"""nbgrader's formgrader on a graded course: ``python -m autograder formgrader DIR``.

nbgrader 0.9 has no ``nbgrader formgrader`` command (``nbgrader formgrader`` prints the list of
subcommands). The formgrader is a Jupyter server extension,
``nbgrader.server_extensions.formgrader``: any Jupyter server that loads it serves the
formgrader's pages under ``/formgrader`` (Manage Assignments, Gradebook, Manual Grading,
Manage Students) and their JSON API under ``/formgrader/api/`` (e.g. ``api/assignments``), and
JupyterLab's Nbgrader > Formgrader menu opens the same pages in a tab. The extension reads
``nbgrader_config.py`` from the server's working directory and needs the course directory
inside the server's root directory. So this starts JupyterLab with the course directory
``DIR/course`` as both (the command nbgrader's docs amount to: ``cd DIR/course && jupyter
lab``), with the formgrader extension enabled whatever the user's Jupyter configuration says
(a student setup may disable nbgrader's extensions), bound to 127.0.0.1 with a token, and
opening ``/formgrader`` directly.

The formgrader's Autograde and Generate Feedback buttons run nbgrader's own steps: Autograde
executes the submission with your rights (do not use it; ``python -m autograder grade``
sandboxes it), and the feedback students get is ``python -m autograder feedback DIR``'s.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from autograder.course.directory import graded_course, jupyter_environment, kernel_env

#: the server extension that serves the formgrader.
EXTENSION = "nbgrader.server_extensions.formgrader"
DEFAULT_IP, DEFAULT_PORT = "127.0.0.1", 8888


def command(root: Path, *, ip: str = DEFAULT_IP, port: int = DEFAULT_PORT, token: str,
            open_browser: bool = False) -> list[str]:
    """The JupyterLab command line that serves the formgrader of the course at ``root``.

    As root (a grading VM) the server needs ``allow_root``; it is bound to ``ip`` only.
    """
    root_ok = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    return [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not a silent other port
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
        "--ServerApp.default_url=/formgrader",
        f"--ServerApp.jpserver_extensions={EXTENSION}=True",
        *root_ok,
    ]


def url(ip: str, port: int, token: str, path: str = "formgrader") -> str:
    """The address of a page of the server, with its token."""
    return f"http://{ip}:{port}/{path}?token={token}"


def run(out_dir: Path, *, ip: str = DEFAULT_IP, port: int = DEFAULT_PORT,
        token: str | None = None, open_browser: bool = False) -> None:
    """Replace this process with the formgrader's JupyterLab (stop it with Ctrl-C).

    Raises:
        FileNotFoundError: no graded course in ``out_dir``.

    """
    root = graded_course(out_dir)
    token = token or secrets.token_hex(24)
    print(f"formgrader:  {url(ip, port, token)}\n"
          f"JupyterLab:  {url(ip, port, token, 'lab')} (Nbgrader > Formgrader)\n"
          f"course:      {root}\nstop with Ctrl-C", flush=True)
    argv = command(root, ip=ip, port=port, token=token, open_browser=open_browser)
    # the server runs alembic by name, and imports rlkit/autograder for the kernels it starts
    with jupyter_environment(root / "share" / "jupyter", **kernel_env()):
        os.chdir(root)  # the formgrader reads nbgrader_config.py from here
        os.execve(sys.executable, argv, dict(os.environ))
