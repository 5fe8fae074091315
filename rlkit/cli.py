"""Command line: ``python -m rlkit solve ENV``, ``train ALGORITHM``, ``play GAME``, ``rlhf STAGE``.

``solve`` solves the lecture's GridWorld or a Gymnasium toy-text env exactly and prints ``V*``
and the greedy policy. ``train`` trains a reference deep-RL agent (:mod:`rlkit.agents`) on a
Gymnasium env, showing a progress bar, and prints its evaluations and the final one (mean and
standard deviation of the return over N episodes). ``rlhf`` runs a stage of the toy RLHF stack
(:mod:`rlkit.rlhf.cli`). :func:`main` takes ``argv`` and returns the
exit code (0 ok, 2 bad input), so tests can call it directly.

The commands live one module each: :mod:`rlkit.cli_solve` (``solve``), :mod:`rlkit.cli_train`
(``train``), :mod:`rlkit.cli_games` (``play``, and the board games of ``solve`` and ``train``)
and :mod:`rlkit.rlhf.cli` (``rlhf``); this module builds the parser from them and
dispatches. ``METHODS``, ``GRIDWORLD_NAMES``, ``EPILOG``, ``format_gridworld`` (from
``cli_solve``), ``ALGORITHMS`` and ``TRAIN_EPILOG`` (from ``cli_train``) are re-exported here.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rlkit import cli_games, cli_solve, cli_train
from rlkit.cli_errors import EXIT_STATUS, BadInput
from rlkit.cli_solve import EPILOG, GRIDWORLD_NAMES, METHODS, format_gridworld
from rlkit.cli_train import ALGORITHMS
from rlkit.cli_train import EPILOG as TRAIN_EPILOG

__all__ = ["ALGORITHMS", "EPILOG", "GRIDWORLD_NAMES", "METHODS", "TRAIN_EPILOG", "build_parser",
           "format_gridworld", "main"]

_MAIN_EPILOG = (f"examples:\n{cli_solve.EXAMPLES}{cli_train.EXAMPLES}{cli_games.PLAY_EXAMPLES}\n"
                f"{EXIT_STATUS}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m rlkit``."""
    parser = argparse.ArgumentParser(
        prog="python -m rlkit",
        description="rlkit: the RL helpers of the course kit.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_solve.add_parser(commands)
    cli_train.add_parser(commands)
    cli_games.add_play_parser(commands)
    _add_rlhf_parser(commands)
    return parser


def _add_rlhf_parser(commands: Any) -> None:
    from rlkit.rlhf import cli as rlhf_cli

    rlhf = commands.add_parser(
        "rlhf",
        help="run a stage of the toy RLHF stack (sft, rm, reinforce, rloo, ppo, rebel, dpo, "
        "best-of-n, sweep) and print its figures",
        description=(
            "Run one stage of rlkit.rlhf on the synthetic task (SFT and the reward model first, "
            "when the stage needs them), then print the figures: the reward model's accuracy "
            "next to the ceiling; for a policy, the proxy (reward-model) and gold reward, "
            "KL(pi || pi_SFT), length, repeats, off-topic tokens and the gold-reward win rate "
            "against SFT on held-out prompts."
        ),
        epilog=f"examples:\n{rlhf_cli.EXAMPLES}\n{EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rlhf_cli.add_arguments(rlhf)
    rlhf.set_defaults(handler=_rlhf, subparser=rlhf)


def _rlhf(args: argparse.Namespace) -> int:
    from rlkit.rlhf import cli as rlhf_cli

    try:
        return rlhf_cli.run(args)
    except ValueError as error:
        raise BadInput(str(error)) from error


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Example:
        >>> main(["solve", "gridworld", "--noise", "0", "--gamma", "1", "--horizon", "3"])
        ... # doctest: +ELLIPSIS
        GridWorld 4x3, noise=0, gamma=1, living_reward=0
        method: value-iteration; iterations: 3 (NOT converged); ...
        y=3     0.00   1.00   1.00   1.00
        ...
        0

    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        try:
            return int(args.handler(args))
        except BadInput as error:
            args.subparser.error(str(error))  # prints usage + message, exits 2
    except SystemExit as exit_:  # argparse exits on --help (0) and on errors (2)
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 2  # pragma: no cover
