"""Small two-player zero-sum games and their exact solution (notebook 08).

:mod:`~rlkit.games.rules` has the games (:class:`TicTacToe`, :class:`ConnectK`), immutable
:class:`GameState`, legal-move masks and symmetries; :mod:`~rlkit.games.solver` solves a game
exactly (:func:`solve`: ``V*`` and ``Q*`` of every reachable position, the critical positions,
the exact value of a stochastic policy and the lines a player loses).

Example:
    >>> game = make_game("tictactoe")
    >>> game.n_actions, len(game.symmetries())
    (9, 8)
    >>> make_game("connect4").rows, make_game("connect3-4x4").k
    (6, 3)

"""

from __future__ import annotations

import re

from rlkit.games.rules import ConnectK, GameState, KInARow, Symmetry, TicTacToe
from rlkit.games.solver import LineCount, Solution, solve

__all__ = ["GAME_NAMES", "ConnectK", "GameState", "KInARow", "LineCount", "Solution",
           "Symmetry", "TicTacToe", "make_game", "solve"]

GAME_NAMES = "tictactoe, connect4 (6x7) or connectK-RxC (e.g. connect3-4x4)"


def make_game(name: str) -> KInARow:
    """The game called ``name``: ``tictactoe``, ``connect4`` or ``connectK-RxC``.

    Raises:
        ValueError: For any other name (the message lists the valid ones).

    """
    key = name.strip().lower()
    if key in ("tictactoe", "tic_tac_toe", "tic-tac-toe"):
        return TicTacToe()
    if key == "connect4":
        return ConnectK(6, 7, 4)
    match = re.fullmatch(r"connect(\d+)-(\d+)x(\d+)", key)
    if match is None:
        raise ValueError(f"unknown game {name!r}; use {GAME_NAMES}")
    k, rows, cols = (int(g) for g in match.groups())
    return ConnectK(rows, cols, k)
