r"""Small two-player zero-sum board games: :class:`TicTacToe` and :class:`ConnectK`.

Both are k-in-a-row games (an m,n,k-game): two players take turns putting a stone on a
``rows x cols`` board, and the first with ``k`` stones in a row (across, down or diagonally)
wins; a full board is a draw. Tic-tac-toe puts a stone on any empty cell (9 actions, one per
cell); Connect-K drops it into a column, where it falls to the lowest empty cell (``cols``
actions). One class, :class:`KInARow`, holds the rules of both.

Conventions (the glossary's): player ``+1`` (X) moves first, ``-1`` (O) second. A
:class:`GameState` is immutable and hashable (a dict key of the solver and of the search's
caches). Every value is **from the view of the player to move**: :meth:`KInARow.outcome` of a
won terminal state is ``-1`` (the player to move there has just lost), a draw is ``0``.

Example:
    >>> game = TicTacToe()
    >>> state = game.initial_state()
    >>> for action in (4, 0, 2, 6, 3):  # X centre, O corner, X, O, X
    ...     state = game.next_state(state, action)
    >>> print(game.render(state))
    O . X
    X X .
    O . .
    >>> game.legal_actions(state), state.player
    ((1, 5, 7, 8), -1)
    >>> state = game.next_state(state, 5)  # O blocks the row 3-4-5
    >>> game.next_state(game.next_state(state, 8), 1).winner  # X: 8; O: 1 -> no line
    0

"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = ["BoardInfo", "ConnectK", "GameState", "KInARow", "Symmetry", "TicTacToe"]

_MARKS = {1: "X", -1: "O", 0: "."}
_BOARDS_KEPT = 1 << 16
"""Boards a game remembers what it derived from (tic-tac-toe has 5,478 in all)."""


@dataclass(frozen=True, slots=True)
class GameState:
    """A position: the board, the player to move and, once decided, the winner.

    Attributes:
        board: One entry per cell, row-major with row 0 at the top: ``+1`` (X), ``-1`` (O) or
            ``0`` (empty).
        player: The player to move, ``+1`` or ``-1``.
        winner: ``+1`` or ``-1`` once someone has ``k`` in a row, ``0`` otherwise (a full
            board without a line is a draw with winner ``0``).
        terminal: Whether the game is over (a win, or a full board).

    """

    board: tuple[int, ...]
    player: int = 1
    winner: int = 0
    terminal: bool = field(default=False)


class Symmetry(NamedTuple):
    """A symmetry of the board, as two index permutations.

    The transformed board is ``board[cells]`` and the transformed move probabilities are
    ``probs[actions]``: a position and its policy move together.
    """

    cells: np.ndarray
    actions: np.ndarray


class BoardInfo(NamedTuple):
    """What :meth:`KInARow.board_info` derives from a board (and remembers)."""

    x_stones: int
    """X's stones as a bit set: bit ``i`` is set if X has a stone on cell ``i``."""
    o_stones: int
    """O's stones, the same way."""
    empty: tuple[int, ...]
    """The empty cells, in increasing order."""
    legal_mask: np.ndarray
    """The actions open on this board (read-only; ignores whether the game is over)."""
    uniform: np.ndarray
    """The uniform distribution over those actions (read-only): a rollout search's prior."""


class KInARow:
    """The rules of a k-in-a-row game on a ``rows x cols`` board, with or without gravity.

    Args:
        rows: Board height (>= 1).
        cols: Board width (>= 1).
        k: Stones in a row that win (1 <= k <= max(rows, cols)).
        gravity: False: an action is a cell (tic-tac-toe); True: an action is a column and the
            stone falls to its lowest empty cell (Connect-K).
        name: Shown by :meth:`__repr__` and the CLI.

    """

    def __init__(self, rows: int, cols: int, k: int, *, gravity: bool, name: str) -> None:
        for label, value in (("rows", rows), ("cols", cols), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{label} must be an int >= 1; got {value!r}")
        if k > max(rows, cols):
            raise ValueError(f"k = {k} cannot fit on a {rows}x{cols} board; use k <= "
                             f"{max(rows, cols)}")
        self.rows, self.cols, self.k = int(rows), int(cols), int(k)
        self.gravity = gravity
        self.name = name
        self.n_cells = self.rows * self.cols
        self.n_actions = self.cols if gravity else self.n_cells
        self.lines = self._lines()
        # For each cell, the k-cell lines through it as bit sets (bit i: cell i): a move can
        # only complete one of those, and a bit test is the cheapest check in plain Python.
        self._lines_through: list[list[int]] = [[] for _ in range(self.n_cells)]
        for line in self.lines:
            for cell in line:
                self._lines_through[cell].append(sum(1 << i for i in line))
        # board_info's answers: a search asks about the same few boards again and again, and
        # numpy's cost per call, not the arithmetic, is most of its time.
        self._boards: dict[tuple[int, ...], BoardInfo] = {}

    def __repr__(self) -> str:
        return self.name

    def _lines(self) -> list[tuple[int, ...]]:
        lines = []
        for r in range(self.rows):
            for c in range(self.cols):
                for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                    end_r, end_c = r + dr * (self.k - 1), c + dc * (self.k - 1)
                    if 0 <= end_r < self.rows and 0 <= end_c < self.cols:
                        lines.append(tuple((r + dr * i) * self.cols + c + dc * i
                                           for i in range(self.k)))
        return lines

    # ---------------------------------------------------------------------------------------
    # Moves
    # ---------------------------------------------------------------------------------------

    def initial_state(self) -> GameState:
        """The empty board, X (``+1``) to move."""
        return GameState(board=(0,) * self.n_cells)

    def landing_cell(self, board: tuple[int, ...] | list[int], action: int) -> int:
        """The cell a stone played with ``action`` lands on, or -1 if the action is illegal."""
        if self.gravity:
            for row in range(self.rows - 1, -1, -1):
                cell = row * self.cols + action
                if board[cell] == 0:
                    return cell
            return -1
        return action if board[action] == 0 else -1

    def legal_mask(self, state: GameState) -> np.ndarray:
        """Boolean mask of the legal actions, shape ``(n_actions,)``; all False when terminal."""
        if state.terminal:
            return np.zeros(self.n_actions, dtype=bool)
        return self.board_info(state.board).legal_mask.copy()

    def legal_actions(self, state: GameState) -> tuple[int, ...]:
        """The legal actions in increasing order (empty when terminal)."""
        if state.terminal:
            return ()
        if self.gravity:
            return tuple(c for c in range(self.cols) if state.board[c] == 0)
        return tuple(i for i, stone in enumerate(state.board) if stone == 0)

    def board_info(self, board: tuple[int, ...]) -> BoardInfo:
        """Each player's stones as bit sets, the empty cells and the open actions of a board.

        Remembered per board (up to 65,536 boards, then forgotten all at once): the answers
        are what a search and its rollouts ask for at every step.

        Example:
            >>> info = TicTacToe().board_info((1, 0, -1, 1, 0, 0, 0, 0, 0))
            >>> info.x_stones, info.o_stones, info.empty  # X: cells 0, 3 = 2^0 + 2^3
            (9, 4, (1, 4, 5, 6, 7, 8))

        """
        info = self._boards.get(board)
        if info is None:
            if len(self._boards) >= _BOARDS_KEPT:
                self._boards.clear()
            x_stones = o_stones = 0
            empty = []
            for cell, stone in enumerate(board):
                if stone == 1:
                    x_stones |= 1 << cell
                elif stone == -1:
                    o_stones |= 1 << cell
                else:
                    empty.append(cell)
            top = board[: self.cols] if self.gravity else board
            legal = np.array(top) == 0  # gravity: a column is open while its top cell is empty
            uniform = legal / max(np.count_nonzero(legal), 1)
            legal.flags.writeable = uniform.flags.writeable = False
            info = self._boards[board] = BoardInfo(x_stones, o_stones, tuple(empty), legal,
                                                   uniform)
        return info

    def wins(self, stones: int, cell: int) -> bool:
        """Whether one player's ``stones`` (a bit set) hold a line through ``cell``.

        ``stones`` as :meth:`board_info` gives them, plus the stone just played. Only the
        lines through the cell just played are tested: the hot path of a rollout.
        """
        for line in self._lines_through[cell]:
            if stones & line == line:
                return True
        return False

    def next_state(self, state: GameState, action: int) -> GameState:
        """The position after the player to move plays ``action``; ``state`` is unchanged.

        Raises:
            ValueError: If the game is over or ``action`` is not legal in ``state``.

        """
        if state.terminal:
            raise ValueError("the game is over: no move is legal in a terminal state")
        if not (isinstance(action, int | np.integer) and 0 <= action < self.n_actions):
            raise ValueError(f"action must be an int in [0, {self.n_actions}); got {action!r}")
        cell = self.landing_cell(state.board, int(action))
        if cell < 0:
            raise ValueError(f"action {action} is illegal here (legal: "
                             f"{self.legal_actions(state)})")
        info = self.board_info(state.board)
        stones = info.x_stones if state.player == 1 else info.o_stones
        won = self.wins(stones | 1 << cell, cell)
        board = list(state.board)
        board[cell] = state.player
        full = 0 not in board
        return GameState(tuple(board), -state.player, state.player if won else 0, won or full)

    def outcome(self, state: GameState) -> int:
        """The result of a terminal state from the view of its player to move: -1 lost, 0 draw.

        The player to move in a won position is the one who did not make the last move, so a
        win reads ``-1`` (the trap the backup's sign has to get right).

        Raises:
            ValueError: If the state is not terminal.

        """
        if not state.terminal:
            raise ValueError("outcome() needs a terminal state; the game is still on")
        return state.winner * state.player

    # ---------------------------------------------------------------------------------------
    # Encoding, symmetries, printing
    # ---------------------------------------------------------------------------------------

    def encode(self, state: GameState) -> np.ndarray:
        """Network input from the mover's view: planes (mover's stones, opponent's stones).

        Returns:
            float32 array of shape ``(2 * n_cells,)``: the first ``n_cells`` entries mark the
            stones of the player to move, the next ``n_cells`` the opponent's. The same
            network then plays X and O.

        Example:
            >>> game = TicTacToe()
            >>> o_to_move = game.next_state(game.initial_state(), 4)
            >>> game.encode(o_to_move).reshape(2, 9)[:, 4]  # X's stone is O's opponent's
            array([0., 1.], dtype=float32)

        """
        board = np.asarray(state.board, dtype=np.float32) * state.player
        return np.concatenate([board == 1, board == -1]).astype(np.float32)

    def symmetries(self) -> list[Symmetry]:
        """The board's symmetries, the identity first.

        Tic-tac-toe (a square board without gravity): the 8 rotations and reflections.
        Gravity, or a board that is not square, keeps fewer: Connect-K only the left-right
        mirror (gravity pulls down, so no up-down flip), a rectangle without gravity 4.
        """
        index = np.arange(self.n_cells).reshape(self.rows, self.cols)
        grids = [index, index[:, ::-1]]
        if not self.gravity:
            grids += [index[::-1, :], index[::-1, ::-1]]
            if self.rows == self.cols:
                grids += [g.T for g in grids]
        result = []
        for grid in grids:
            cells = grid.reshape(-1)
            actions = grid[0] if self.gravity else cells  # a column maps as its top cell does
            result.append(Symmetry(cells.copy(), actions.copy()))
        return result

    def render(self, state: GameState) -> str:
        """The board as text, row 0 at the top: X, O and ``.`` for an empty cell."""
        return "\n".join(
            " ".join(_MARKS[state.board[r * self.cols + c]] for c in range(self.cols))
            for r in range(self.rows)
        )


class TicTacToe(KInARow):
    """Tic-tac-toe: 3 x 3, three in a row, 9 actions (cell ``3 * row + col``)."""

    def __init__(self) -> None:
        super().__init__(3, 3, 3, gravity=False, name="tictactoe")


class ConnectK(KInARow):
    """Connect-K on a ``rows x cols`` board: drop a stone into a column, ``k`` in a row wins.

    ``ConnectK(6, 7, 4)`` is Connect Four; small boards (e.g. ``ConnectK(4, 4, 3)``) are
    solved in seconds.
    """

    def __init__(self, rows: int = 6, cols: int = 7, k: int = 4) -> None:
        super().__init__(rows, cols, k, gravity=True, name=f"connect{k}-{rows}x{cols}")
