r"""Solve a small game exactly, and measure a player against the solution.

:func:`solve` enumerates every position reachable from the start and computes, by negamax,

.. math::
    V^*(s) = \max_a Q^*(s, a), \qquad Q^*(s, a) = -V^*(s'_{s,a}),

both from the view of the player to move in ``s`` (a terminal state is worth its
:meth:`~rlkit.games.KInARow.outcome`: -1 lost, 0 drawn). The minus sign is the whole of
two-player zero-sum play: what is good for the opponent in ``s'`` is bad for the mover in ``s``.
Tic-tac-toe has 5,478 reachable states, 4,520 of them with a move to make; it is a draw
(:math:`V^*(s_0) = 0`).

Why exhaustive figures instead of games against a sparring partner: a deterministic agent
against a deterministic opponent plays one game, however often it is repeated. The
:class:`Solution` measures a player on every position (:meth:`Solution.optimal_move_rate`),
against every line an opponent can play (:meth:`Solution.lost_lines`) and, for a stochastic
policy, exactly (:meth:`Solution.policy_values`).

Example:
    >>> from rlkit.games import TicTacToe
    >>> solution = solve(TicTacToe())
    >>> len(solution.states), len(solution.positions), solution.value(solution.states[0])
    (5478, 4520, 0.0)
    >>> int(solution.critical.size)  # positions where some legal move changes the outcome
    3191

"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rlkit.games.rules import GameState, KInARow

__all__ = ["LineCount", "Solution", "solve"]

Player = Callable[[GameState], int]
"""A deterministic player: the position to move in -> the action it plays."""


class LineCount(NamedTuple):
    """Games of a deterministic agent against every line of play of its opponent."""

    lost: int
    drawn: int
    won: int

    @property
    def total(self) -> int:
        """All lines: every sequence of the opponent's legal moves, each one game."""
        return self.lost + self.drawn + self.won


@dataclass(frozen=True, eq=False)
class Solution:
    r"""The exact solution of a game: every reachable state, ``V*`` and ``Q*``.

    Attributes:
        game: The game solved.
        states: Every reachable state, the start first (index ``i`` is row ``i`` of the
            arrays below).
        index: ``state -> i``.
        children: ``(n_states, n_actions)`` int, the index of the state after each action,
            ``-1`` where the action is illegal.
        values: :math:`V^*(s)` from the view of the player to move, ``(n_states,)``.
        q: :math:`Q^*(s, a) = -V^*(s')` from the view of the player to move in ``s``,
            ``(n_states, n_actions)``, NaN for an illegal action.
        positions: Indices of the non-terminal states (the positions to move in).
        critical: Indices of the positions where the legal moves do not all have the same
            :math:`Q^*`: some move changes the outcome under perfect play.

    """

    game: KInARow
    states: list[GameState]
    index: dict[GameState, int]
    children: np.ndarray
    values: np.ndarray
    q: np.ndarray
    positions: np.ndarray
    critical: np.ndarray

    def value(self, state: GameState) -> float:
        """:math:`V^*` of ``state`` from its mover's view."""
        return float(self.values[self.index[state]])

    def optimal_actions(self, state: GameState) -> tuple[int, ...]:
        r"""The moves that keep :math:`V^*`: :math:`\arg\max_a Q^*(s, a)` (all of them)."""
        row = self.q[self.index[state]]
        return tuple(int(a) for a in np.flatnonzero(row == np.nanmax(row)))

    def forced_positions(self, kind: str) -> np.ndarray:
        """Indices of the positions with a forced move: ``"win"`` or ``"block"``.

        ``"win"``: the player to move can win at once. ``"block"``: it cannot, the opponent
        threatens to win at once, and exactly one move keeps :math:`V^*` (the block). A
        search with correct signs finds these; a sign or perspective bug loses many.

        Example:
            >>> from rlkit.games import TicTacToe
            >>> solution = solve(TicTacToe())
            >>> len(solution.forced_positions("win")), len(solution.forced_positions("block"))
            (1904, 820)

        """
        if kind not in ("win", "block"):
            raise ValueError(f"kind must be 'win' or 'block'; got {kind!r}")
        game, found = self.game, []
        for i in self.critical:
            state = self.states[i]
            children = {a: game.next_state(state, a) for a in game.legal_actions(state)}
            can_win = any(child.winner == state.player for child in children.values())
            if kind == "win":
                if can_win:
                    found.append(i)
                continue
            best = self.optimal_actions(state)
            threatened = any(grandchild == -state.player  # the opponent wins next move
                             for a, child in children.items() if a not in best
                             for grandchild in (game.next_state(child, b).winner
                                                for b in game.legal_actions(child)))
            if not can_win and len(best) == 1 and threatened:
                found.append(i)
        return np.array(found, dtype=np.int64)

    def is_optimal(self, state_indices: Sequence[int] | np.ndarray,
                   actions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Whether each action is optimal in its state (False for an illegal one)."""
        rows = np.asarray(state_indices, dtype=np.int64)
        actions = np.asarray(actions, dtype=np.int64)
        chosen = self.q[rows, actions]
        return chosen == self.values[rows]  # NaN (illegal) compares False

    def optimal_move_rate(self, player: Player | np.ndarray, *, critical: bool = False
                          ) -> float:
        """The share of positions where ``player``'s move is optimal.

        Args:
            player: A function ``state -> action``, or the actions already chosen, one per
                position of ``self.positions`` (or of ``self.critical`` with ``critical``).
            critical: Count the critical positions only (where a move can change the result).

        Example:
            >>> from rlkit.games import TicTacToe
            >>> solution = solve(TicTacToe())
            >>> solution.optimal_move_rate(lambda s: solution.optimal_actions(s)[0])
            1.0

        """
        rows = self.critical if critical else self.positions
        actions = (np.asarray(player) if isinstance(player, np.ndarray | list | tuple)
                   else np.array([player(self.states[i]) for i in rows]))
        if actions.shape != rows.shape:
            raise ValueError(f"need one action per position, {rows.size}; got shape "
                             f"{actions.shape}")
        return float(self.is_optimal(rows, actions).mean())

    def lost_lines(self, player: Player, *, as_player: int) -> LineCount:
        """Play ``player`` against every line of the opponent; count the lost, drawn, won.

        The agent plays ``as_player`` (``+1``: X, moving first; ``-1``: O) and moves by
        ``player``; at each of the opponent's turns every legal move is tried, so each leaf of
        that tree is one line. An agent that never loses scores ``lost == 0``.

        Example:
            >>> from rlkit.games import TicTacToe
            >>> solution = solve(TicTacToe())
            >>> first_legal = lambda s: solution.game.legal_actions(s)[0]
            >>> solution.lost_lines(first_legal, as_player=-1).lost > 0
            True

        """
        if as_player not in (1, -1):
            raise ValueError(f"as_player must be +1 (X) or -1 (O); got {as_player!r}")
        counts = {-1: 0, 0: 0, 1: 0}
        game = self.game
        stack = [self.states[0]]
        while stack:
            state = stack.pop()
            if state.terminal:
                counts[state.winner * as_player] += 1
            elif state.player == as_player:
                stack.append(game.next_state(state, int(player(state))))
            else:
                stack.extend(game.next_state(state, a) for a in game.legal_actions(state))
        return LineCount(lost=counts[-1], drawn=counts[0], won=counts[1])

    def policy_values(self, probs: np.ndarray) -> np.ndarray:
        r"""The exact value of a stochastic policy in every state, from the mover's view.

        .. math:: V^\pi(s) = \sum_a \pi(a|s) \big(-V^\pi(s')\big),

        both players moving by ``probs`` (self-play; to pit two policies against each other,
        take each row from the policy of the state's player to move). This is what a value
        network regressed on self-play outcomes learns: the value of the self-play policy,
        not :math:`V^*`.

        Args:
            probs: ``(n_states, n_actions)`` move probabilities, one row per state of
                ``self.states`` (terminal rows are ignored; illegal moves must have 0).

        Example:
            >>> from rlkit.games import TicTacToe
            >>> solution = solve(TicTacToe())
            >>> uniform = np.array([solution.game.legal_mask(s) for s in solution.states])
            >>> uniform = uniform / np.maximum(uniform.sum(1, keepdims=True), 1)
            >>> round(float(solution.policy_values(uniform)[0]), 4)  # X wins 58.5 %, O 28.8 %
            0.2968

        """
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape != self.q.shape:
            raise ValueError(f"probs must have shape {self.q.shape}; got {probs.shape}")
        illegal = self.children < 0
        rows = self.positions
        if np.any(probs[rows][illegal[rows]] != 0):
            raise ValueError("probs gives an illegal move a probability above 0")
        if not np.allclose(probs[rows].sum(axis=1), 1.0):
            raise ValueError("each position's probs must sum to 1")
        values = np.zeros(len(self.states))
        for i in reversed(range(len(self.states))):  # children come after their parents
            state = self.states[i]
            if state.terminal:
                values[i] = self.game.outcome(state)
            else:
                legal = ~illegal[i]
                values[i] = -probs[i, legal] @ values[self.children[i, legal]]
        return values


def solve(game: KInARow) -> Solution:
    """Enumerate the reachable states of ``game`` and solve them by negamax.

    The states are numbered in breadth-first order (by the number of stones), so a state's
    children always come after it: one backward sweep computes any value.
    """
    start = game.initial_state()
    states, index = [start], {start: 0}
    child_rows: list[list[int]] = []
    for state in states:  # breadth first; the list grows while it is read
        row = [-1] * game.n_actions
        for action in game.legal_actions(state):
            child = game.next_state(state, action)
            if child not in index:
                index[child] = len(states)
                states.append(child)
            row[action] = index[child]
        child_rows.append(row)
    children = np.array(child_rows, dtype=np.int64)
    values = np.zeros(len(states))
    q = np.full(children.shape, np.nan)
    for i in reversed(range(len(states))):
        if states[i].terminal:
            values[i] = game.outcome(states[i])
            continue
        legal = children[i] >= 0
        q[i, legal] = 0.0 - values[children[i, legal]]  # the opponent's value, negated (+0)
        values[i] = q[i, legal].max()
    terminal = np.array([s.terminal for s in states])
    positions = np.flatnonzero(~terminal)
    spread = np.nanmax(q[positions], axis=1) - np.nanmin(q[positions], axis=1)
    return Solution(game, states, index, children, values, q, positions,
                    positions[spread > 0])
