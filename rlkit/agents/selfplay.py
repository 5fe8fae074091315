r"""What AlphaGo (:mod:`rlkit.agents.alphago`) and AlphaZero (:mod:`rlkit.agents.alphazero`)
share: value targets, masked move probabilities, the networks and the exact evaluation.

- :func:`value_targets`: a game's outcome as a target for each of its positions, **from the
  view of the player to move there** (:math:`z_t = \text{winner} \cdot \text{player}_t`;
  a draw is 0 for both players, not a loss). A notebook 08 piece.
- :func:`masked_log_softmax`: :math:`\log \pi(a|s)` over the legal moves only.
- :class:`PolicyValueNet`: an MLP trunk with a policy head (logits) and a value head
  (:math:`\tanh`, a value in [-1, 1]); AlphaGo's two networks are one head each.
- :func:`network_predict`: the ``predict`` of :class:`~rlkit.mcts.NetworkEvaluator`.
- :func:`evaluate_player`: the exact figures of a player on a solved game (optimal-move rate
  on all and on the critical positions, lines lost as X and as O).
"""  # noqa: D205

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from rlkit.games import GameState, KInARow, Solution
from rlkit.nets import mlp

__all__ = ["GameEvaluation", "PolicyValueNet", "augment", "encode_states", "evaluate_player",
           "greedy_table", "masked_log_softmax", "network_predict", "value_targets"]


def value_targets(winner: int, players: Sequence[int] | np.ndarray) -> np.ndarray:
    r"""The value target of each position of a finished game, from its mover's view.

    .. math:: z_t = \text{winner} \cdot \text{player}_t \in \{-1, 0, +1\}

    The player to move at step ``t`` alternates, so the targets alternate in sign along a won
    game; a draw (winner 0) gives 0 everywhere.

    Args:
        winner: ``+1`` (X won), ``-1`` (O won) or ``0`` (draw).
        players: The player to move at each recorded position, ``+1`` or ``-1``, ``(T,)``.

    Returns:
        float64 ``(T,)``.

    Example:
        >>> value_targets(-1, [1, -1, 1, -1])  # O won: X's positions lost, O's won
        array([-1.,  1., -1.,  1.])

    """
    return float(winner) * np.asarray(players, dtype=np.float64)


def masked_log_softmax(logits: torch.Tensor, legal_mask: torch.Tensor) -> torch.Tensor:
    r""":math:`\log\pi(a|s)` with the illegal moves removed: ``-inf`` there, the rest sums to 1.

    Example:
        >>> masked_log_softmax(torch.zeros(3), torch.tensor([True, True, False])).exp()
        tensor([0.5000, 0.5000, 0.0000])

    """
    return torch.log_softmax(logits.masked_fill(~legal_mask, -torch.inf), dim=-1)


class PolicyValueNet(nn.Module):
    r"""An MLP trunk with a policy head (logits over the actions) and a value head.

    ``forward`` returns ``(logits (B, n_actions), value (B,))``, the value
    :math:`\tanh`-squashed into [-1, 1] and from the view of the player to move.

    Args:
        n_inputs: Features of :meth:`~rlkit.games.KInARow.encode`.
        n_actions: Actions of the game.
        hidden_sizes: Widths of the trunk (ReLU).

    """

    def __init__(self, n_inputs: int, n_actions: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.trunk = mlp([n_inputs, *hidden_sizes], activation=nn.ReLU, output_activation=nn.ReLU)
        self.policy_head = nn.Linear(hidden_sizes[-1], n_actions)
        self.value_head = nn.Linear(hidden_sizes[-1], 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(B, n_actions)`` and values ``(B,)`` of a batch of encoded positions."""
        hidden = self.trunk(features)
        return self.policy_head(hidden), torch.tanh(self.value_head(hidden)).squeeze(-1)


def encode_states(game: KInARow, states: Sequence[GameState]) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
    """The network inputs ``(B, 2 * n_cells)`` and legal masks ``(B, n_actions)`` of states."""
    features = np.stack([game.encode(s) for s in states])
    legal = np.stack([game.legal_mask(s) for s in states])
    return torch.from_numpy(features), torch.from_numpy(legal)


def network_predict(
    game: KInARow,
    forward: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]],
) -> Callable[[list[GameState]], tuple[np.ndarray, np.ndarray]]:
    """``states -> (probs, values)`` for :class:`~rlkit.mcts.NetworkEvaluator`.

    Args:
        game: The game.
        forward: Features ``(B, n_in)`` -> logits ``(B, n_actions)`` and values ``(B,)`` from
            the mover's view, or None for the values (then 0): one call per batch, so a
            :class:`PolicyValueNet` runs once for both heads.

    Example:
        >>> from rlkit.games import TicTacToe
        >>> game = TicTacToe()
        >>> predict = network_predict(game, lambda x: (torch.zeros(len(x), 9), None))
        >>> probs, values = predict([game.initial_state()])
        >>> probs.round(3).tolist(), values.tolist()  # uniform over the 9 empty cells
        ([[0.111, 0.111, 0.111, 0.111, 0.111, 0.111, 0.111, 0.111, 0.111]], [0.0])

    """

    def predict(states: list[GameState]) -> tuple[np.ndarray, np.ndarray]:
        features, legal = encode_states(game, states)
        with torch.inference_mode():
            logits, values = forward(features)
            probs = masked_log_softmax(logits, legal).exp().double().numpy()
        return probs, (np.zeros(len(states)) if values is None
                       else values.double().numpy().reshape(len(states)))

    return predict


def augment(features: np.ndarray, targets: np.ndarray, legal: np.ndarray,
            game: KInARow) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every symmetric copy of a batch of positions: the boards, the move targets, the masks.

    Args:
        features: ``(B, 2 * n_cells)`` from :meth:`~rlkit.games.KInARow.encode`.
        targets: ``(B, n_actions)`` move probabilities (or one-hot moves).
        legal: ``(B, n_actions)`` legal masks.
        game: The game (its :meth:`~rlkit.games.KInARow.symmetries`).

    Returns:
        The three arrays with ``len(game.symmetries()) * B`` rows, the identity first.

    """
    planes = features.reshape(len(features), 2, game.n_cells)
    copies = [(planes[:, :, sym.cells].reshape(len(features), -1), targets[:, sym.actions],
               legal[:, sym.actions]) for sym in game.symmetries()]
    return tuple(np.concatenate(parts) for parts in zip(*copies, strict=True))  # type: ignore


class GameEvaluation(NamedTuple):
    """A player measured exactly on a solved game."""

    optimal_rate: float
    """Share of all positions where its move is optimal."""
    critical_rate: float
    """Share of the critical positions (where a move can change the result)."""
    lost_as_x: int
    """Lines lost as X against every line of the opponent."""
    lost_as_o: int
    """Lines lost as O."""


def greedy_table(solution: Solution, logits_fn: Callable[[torch.Tensor], torch.Tensor],
                 batch_size: int = 8192) -> np.ndarray:
    """The most likely legal move of a policy network in every state of ``solution``.

    Returns:
        int64 ``(n_states,)``; ``-1`` for a terminal state.

    """
    moves = np.full(len(solution.states), -1, dtype=np.int64)
    rows = solution.positions
    for start in range(0, rows.size, batch_size):
        chunk = rows[start:start + batch_size]
        features, legal = encode_states(solution.game, [solution.states[i] for i in chunk])
        with torch.no_grad():
            log_probs = masked_log_softmax(logits_fn(features), legal)
        moves[chunk] = log_probs.argmax(dim=-1).numpy()
    return moves


def evaluate_player(solution: Solution, player: Callable[[GameState], int] | np.ndarray,
                    *, critical_only: bool = False) -> GameEvaluation:
    """Measure a deterministic player exactly: optimal moves, lines lost as X and as O.

    Args:
        solution: The solved game.
        player: ``state -> action``, or a table of moves per state of ``solution.states``
            (:func:`greedy_table`).
        critical_only: Skip the rate over all positions (NaN) and ask ``player`` about the
            critical positions only, which saves a search per position.

    """
    if isinstance(player, np.ndarray):
        table = player
        player = lambda state: int(table[solution.index[state]])  # noqa: E731
    cache: dict[GameState, int] = {}

    def remembered(state: GameState) -> int:  # a search player is asked once per position
        if state not in cache:
            cache[state] = int(player(state))
        return cache[state]

    rate = (float("nan") if critical_only
            else solution.optimal_move_rate(remembered))
    return GameEvaluation(
        optimal_rate=rate,
        critical_rate=solution.optimal_move_rate(remembered, critical=True),
        lost_as_x=solution.lost_lines(remembered, as_player=1).lost,
        lost_as_o=solution.lost_lines(remembered, as_player=-1).lost,
    )
