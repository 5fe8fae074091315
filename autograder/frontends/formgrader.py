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

What a student wrote reaches this server's pages only sanitised (the grader writes the course
directory's notebooks through :mod:`autograder.records.sanitise`), and nothing the server offers
runs a submission outside the sandbox, even when asked through its API directly:

* nbgrader's autograde (the Autograde button, ``POST formgrader/api/submission/.../autograde``)
  is refused by the course's ``nbgrader_config.py`` (:class:`autograder.course.directory.
  AutogradeRefused`), which formgrader reads on every API call;
* nbgrader's other server extensions are off (``validate_assignment`` would execute any
  notebook it is pointed at), and so are terminals;
* the server starts no kernel (:class:`NoKernels`) and writes no file (:class:`ReadOnlyContents`:
  no upload, edit, rename or delete through its contents API, so not of ``nbgrader_config.py``
  either). Manual grades go to the gradebook, which formgrader writes itself.

Generate Feedback runs nbconvert on the sanitised notebooks (no code); the feedback students
get is ``python -m autograder feedback DIR``'s.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from autograder.course.directory import graded_course, jupyter_environment, kernel_env

#: the server extension that serves the formgrader.
EXTENSION = "nbgrader.server_extensions.formgrader"
#: nbgrader's other server extensions, off here (validate_assignment executes notebooks).
OFF_EXTENSIONS = ("nbgrader.server_extensions.validate_assignment",
                  "nbgrader.server_extensions.assignment_list",
                  "nbgrader.server_extensions.course_list")
REFUSED = "the formgrader's server {} (python -m autograder formgrader)"


@functools.cache
def _no_kernels() -> type:
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado.web import HTTPError

    class NoKernels(AsyncMappingKernelManager):
        """``ServerApp.kernel_manager_class``: no kernel starts (403), whoever asks."""

        async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
            raise HTTPError(403, REFUSED.format("starts no kernel"))

    return NoKernels


@functools.cache
def _read_only_contents() -> type:
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from tornado.web import HTTPError

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise HTTPError(403, REFUSED.format("writes no file"))

    class ReadOnlyContents(AsyncLargeFileManager):
        """``ServerApp.contents_manager_class``: files can be read, never written."""

        async def save(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def delete_file(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def rename_file(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def create_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def restore_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

        async def delete_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            refuse()

    return ReadOnlyContents


def __getattr__(name: str) -> type:
    # built on first use: the other commands do not import jupyter_server
    if name == "NoKernels":
        return _no_kernels()
    if name == "ReadOnlyContents":
        return _read_only_contents()
    raise AttributeError(name)
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
        *(f"--ServerApp.jpserver_extensions={name}=False" for name in OFF_EXTENSIONS),
        "--ServerApp.terminals_enabled=False",
        f"--ServerApp.kernel_manager_class={__name__}.NoKernels",
        f"--ServerApp.contents_manager_class={__name__}.ReadOnlyContents",
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
