"""The submission's side of grading: ``python -m autograder.box.runner CMD_FD REPLY_FD``.

This process runs one student's notebook inside the sandbox. It holds no grade and judges
nothing: the grader sends it commands, one at a time, on ``CMD_FD`` and reads one reply per
command on ``REPLY_FD`` (JSON lines; the notebook's own stdout and stderr go elsewhere, so
printing cannot fake a reply):

``{"op": "cell", "source": ...}``
    run one of the student's code cells in an IPython shell (magics and ``display`` work); the
    reply says ok, or the error's first line, or that the cell hit its time limit.
``{"op": "calls", "functions": [NAME, ...], "calls": [CALL, ...], "record": BOOL}``
    look the named functions up in the notebook's namespace (one name: that function; several:
    a dict of them) and make each call (:func:`autograder.box.calls.decode_call`: the
    arguments, or a named procedure and its parameters, as plain data); the reply holds each
    outcome as plain data, and with ``record`` the arguments of each first call before and
    after it. The box knows nothing of the check: not its cases' expected values, not how
    outputs are compared.
``{"op": "rerun", "case": I}``
    call the function on case I of the last check once more (the grader's determinism test).
``{"op": "reap"}``
    kill every other process of the sandbox (sent after a fork bomb hit the process limit;
    only with ``--reap``, i.e. inside the sandbox's own PID namespace).

Every command carries a ``nonce`` the reply must echo and a ``timeout``: a ``SIGALRM`` timer
interrupts the step (the grader also kills the whole sandbox a little later if that does not
work). Test cells are never executed and nothing here decides a score, so patching numpy,
``assert``, builtins or IPython, or exiting, only changes what the student's own functions
return.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

from autograder.box.calls import first_line

#: the longest command line read (a cell's source is sent whole).
MAX_COMMAND = 64 * 2**20


class StepTimeout(BaseException):
    """Raised by the ``SIGALRM`` timer when a step runs past its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise StepTimeout("the step ran past its time limit")


class Channel:
    """The two protocol pipes, read and written with raw ``os`` calls only."""

    def __init__(self, cmd_fd: int, reply_fd: int) -> None:
        self.cmd_fd, self.reply_fd = cmd_fd, reply_fd
        self._buffer = b""

    def read(self) -> dict[str, Any] | None:
        """The next command (None at the end of the pipe)."""
        while b"\n" not in self._buffer:
            chunk = os.read(self.cmd_fd, 1 << 20)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > MAX_COMMAND:
                raise ValueError("command too long")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def write(self, message: dict[str, Any]) -> None:
        """Send one reply."""
        data = memoryview(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        while data:
            data = data[os.write(self.reply_fd, data):]


class Runner:
    """Executes the commands of one grading session."""

    def __init__(self, may_reap: bool = False) -> None:
        self.may_reap = may_reap
        self.shell = _make_shell()
        self.last: tuple[list[Any], Any] | None = None  # the last check's cases and function

    # -- steps

    def cell(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run one of the student's cells."""
        result = self.shell.run_cell(str(message["source"]), store_history=False)
        error = result.error_before_exec or result.error_in_exec
        if isinstance(error, StepTimeout):
            return {"status": "timeout"}
        if error is not None:
            return {"status": "error", "error": first_line(error)}
        return {"status": "ok"}

    def calls(self, message: dict[str, Any]) -> dict[str, Any]:
        """Make the grader's calls of the student's functions; return the raw outcomes."""
        from autograder.box.calls import decode_call

        self.last = None
        names = [str(n) for n in message["functions"]]
        found = {}
        for name in names:
            fn = self.shell.user_ns.get(name)
            if fn is None or not callable(fn):
                if fn is None:
                    return {"status": "undefined", "function": name}
                return {"status": "not_callable", "function": name, "type": type(fn).__name__}
            found[name] = fn
        fn = found[names[0]] if len(names) == 1 else found
        calls = [decode_call(c) for c in message["calls"]]
        self.last = (calls, fn)
        record = bool(message.get("record"))
        return {"status": "ok", "outputs": [reply_for(call, fn, record) for call in calls]}

    def reap(self, message: dict[str, Any]) -> dict[str, Any]:
        """Kill every other process of the sandbox's PID namespace; say how many were left."""
        if not self.may_reap:
            return {"status": "error", "error": "not in a sandbox"}
        for _ in range(200):
            try:
                os.kill(-1, signal.SIGKILL)  # on Linux: every process but init and this one
            except ProcessLookupError:
                pass
            _collect_children()
            others = [p for p in os.listdir("/proc") if p.isdigit()
                      and int(p) not in (1, os.getpid())]
            if not others:
                return {"status": "ok"}
            time.sleep(0.005)
        return {"status": "ok", "left": len(others)}

    def rerun(self, message: dict[str, Any]) -> dict[str, Any]:
        """Call the function of the last check on one of its cases again."""
        if self.last is None:
            return {"status": "error", "error": "no check to run again"}
        cases, fn = self.last
        case = cases[int(message["case"])]
        from autograder.box.calls import call_case, encode_outcome

        return {"status": "ok", "output": encode_outcome(_guarded(call_case, case, fn, None))}


def reply_for(call: Any, fn: Any, record: bool) -> dict[str, Any]:
    """One call's reply: its outcome as plain data, with ``record`` its arguments' record."""
    from autograder.box.calls import call_case, encode_outcome
    from autograder.box.wire import encode

    inputs: list | None = [] if record else None
    reply = encode_outcome(_guarded(call_case, call, fn, inputs))
    if inputs and "v" in reply:
        reply["in"] = encode(inputs[0])
    return reply


def _guarded(call_case: Any, call: Any, fn: Any, inputs: list | None) -> Any:
    """``call_case``, with what escapes it (``SystemExit``, ...) as a raised error."""
    from autograder.box.calls import Raised, first_line, student_line

    try:
        return call_case(call, fn, inputs)
    except StepTimeout:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit and the like: the case raised
        return Raised(first_line(exc), student_line(exc))


def _make_shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


def ended_children() -> Iterator[tuple[int, int]]:
    """(PID, wait status) of every child that has ended, collected without waiting."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status


def _collect_children() -> None:
    for _ in ended_children():
        pass


def serve(channel: Channel, runner: Runner) -> int:
    """Answer commands until ``exit`` or the end of the command pipe."""
    channel.write({"op": "ready", "pid": os.getpid()})
    handlers = {"cell": runner.cell, "calls": runner.calls, "rerun": runner.rerun,
                "reap": runner.reap}
    while True:
        message = channel.read()
        if message is None or message.get("op") == "exit":
            return 0
        handler = handlers.get(message.get("op"))
        reply: dict[str, Any]
        try:
            limit = float(message.get("timeout") or 0)
            if limit > 0:
                signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                reply = handler(message) if handler else {"status": "error", "error": "bad op"}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except StepTimeout:
            reply = {"status": "timeout"}
        except Exception as exc:  # noqa: BLE001 - reported, the session goes on
            reply = {"status": "error", "error": first_line(exc)}
        channel.write({**reply, "nonce": message.get("nonce")})


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``CMD_FD REPLY_FD [--reap]``."""
    args = sys.argv[1:] if argv is None else argv
    cmd_fd, reply_fd = int(args[0]), int(args[1])
    # kill(-1) is only safe in the sandbox's own PID namespace, never as root
    may_reap = "--reap" in args[2:] and os.getuid() != 0 and os.getpid() < 100
    prepare_process()
    return serve(Channel(cmd_fd, reply_fd), Runner(may_reap))


def prepare_process() -> None:
    """The runner's process settings: the step timer, no stdin, no ``SIGXFSZ`` kill.

    Also run in a submission forked from :mod:`autograder.box.forkserver`.
    """
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big file is an error, not a kill
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.argv = [""]


if __name__ == "__main__":
    sys.exit(main())
