"""The procedures of notebook 08's checks (AlphaGo): how each case calls the student's functions.

Positions cross into the box as the moves that reach them from the empty tic-tac-toe board;
the search cases build their evaluator here from plain data: :class:`ScriptedEvaluator`, a
fixed, deterministic prior and value that know nothing of the game's solution (so a search
with it is a function of its inputs, and a sign error shows), or rlkit's
:class:`~rlkit.mcts.RolloutEvaluator`. The learning runs train with the student's functions and
return what was learned (the visit counts of each search, the trained network's weights); the
judge compares them with the solver's moves. Nothing here knows a right move or a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from autograder.box.calls import CaseProblem, procedure
from autograder.box.procedures.ppo_clip import loss_and_gradients
from rlkit.games import GameState, KInARow, TicTacToe
from rlkit.mcts import Leaf, RolloutEvaluator


def position(moves: Sequence[int]) -> tuple[TicTacToe, GameState]:
    """Tic-tac-toe and the position the ``moves`` reach from the empty board."""
    game = TicTacToe()
    state = game.initial_state()
    for move in moves:
        state = game.next_state(state, int(move))
    return game, state


@dataclass
class ScriptedEvaluator:
    r"""A deterministic stand-in for a network: a fixed prior and value, no rollout.

    The prior is proportional to ``weights`` over the legal moves; the value, from the view of
    the player to move, is :math:`\tanh(\text{player} \cdot \sum_i w_i b_i)` of the board
    :math:`b`: any fixed function would do, this one changes sign with the mover, so a search
    that mixes up whose view a value is from visits other moves.
    """

    game: KInARow
    weights: np.ndarray
    mixing: float = 0.0

    def __call__(self, state: GameState, rng: np.random.Generator) -> Leaf:
        """The scripted prior and value of ``state`` (``rng`` is not used)."""
        legal = self.game.legal_mask(state)
        prior = np.where(legal, self.weights, 0.0)
        board = np.asarray(state.board, dtype=np.float64)
        value = float(np.tanh(state.player * board @ (self.weights - self.weights.mean())))
        return Leaf(prior / prior.sum(), value, 0)


def _search_output(result: Any, n_actions: int) -> dict[str, np.ndarray]:
    """The root's visit counts and Q of what a search returned (a ``SearchResult``)."""
    try:
        counts = np.asarray(result.visit_counts, dtype=np.float64).reshape(-1)
        q = np.asarray(result.q, dtype=np.float64).reshape(-1)
    except (AttributeError, TypeError, ValueError) as exc:
        raise CaseProblem("return a SearchResult(visit_counts, q, tree): the root's visit "
                          f"counts and Q, each of {n_actions} actions; got {result!r:.100}"
                          ) from exc
    if counts.size != n_actions or q.size != n_actions:
        raise CaseProblem(f"visit_counts and q need one entry per action ({n_actions}); got "
                          f"{counts.size} and {q.size}")
    return {"visit_counts": counts, "q": q}


@procedure("alphago.search")
def search_run(fn: Callable, moves: Sequence[int], weights: Sequence[float],
               n_simulations: int, rule: str, c: float,
               root_noise: tuple[float, float] | None = None, seed: int = 0
               ) -> dict[str, np.ndarray]:
    """``fn`` from the position ``moves`` reach, with a :class:`ScriptedEvaluator`."""
    game, state = position(moves)
    evaluator = ScriptedEvaluator(game, np.asarray(weights, dtype=np.float64))
    result = fn(game, state, evaluator, int(n_simulations), rng=np.random.default_rng(seed),
                rule=rule, c=float(c), root_noise=None if root_noise is None
                else tuple(root_noise))
    return _search_output(result, game.n_actions)


@procedure("alphago.backup")
def backup_run(fn: Callable, n_nodes: int, n_actions: int, path: Sequence[Sequence[int]],
               value: float, start_seed: int = 0) -> dict[str, np.ndarray]:
    """``fn`` on N and W arrays (``start_seed`` > 0: earlier visits in them); both after."""
    rng = np.random.default_rng(start_seed)
    counts = (rng.integers(0, 5, size=(n_nodes, n_actions)).astype(np.float64) if start_seed
              else np.zeros((n_nodes, n_actions)))
    totals = np.round(rng.uniform(-1, 1, size=(n_nodes, n_actions)) * counts, 3)
    fn(counts, totals, [(int(node), int(action)) for node, action in path], float(value))
    return {"visit_counts": counts, "total_values": totals}


@procedure("alphago.alphazero_loss")
def alphazero_loss_run(fn: Callable, logits: Any, values: Any, target_policies: Any,
                       target_values: Any, legal_mask: Any,
                       dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The loss and its gradients with respect to the logits and the values."""
    x = torch.tensor(logits, dtype=dtype, requires_grad=True)
    v = torch.tensor(values, dtype=dtype, requires_grad=True)
    loss = fn(x, v, torch.tensor(target_policies, dtype=dtype),
              torch.tensor(target_values, dtype=dtype), torch.tensor(legal_mask, dtype=torch.bool))
    return loss_and_gradients(loss, {"logits": x, "values": v})


@procedure("alphago.pg_loss")
def pg_loss_run(fn: Callable, log_probs: Any, outcomes: Any,
                dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The loss and its gradient with respect to the log-probabilities."""
    lp = torch.tensor(log_probs, dtype=dtype, requires_grad=True)
    return loss_and_gradients(fn(lp, torch.tensor(outcomes, dtype=dtype)), {"log_probs": lp})


@procedure("alphago.search_positions")
def search_positions_run(fn: Callable, positions: Sequence[Sequence[int]], n_simulations: int,
                         seed: int) -> list[list[float]]:
    """The student's search ``fn`` (UCT, random rollouts) from each position: its root visits.

    Each search draws from its own generator seeded by ``seed``. The judge checks the most
    visited move against the solver's.
    """
    found = []
    for moves in positions:
        game, state = position(moves)
        result = fn(game, state, RolloutEvaluator(game), int(n_simulations),
                    rng=np.random.default_rng(seed), rule="uct", c=1.5)
        found.append(_search_output(result, game.n_actions)["visit_counts"].tolist())
    return found


#: alphazero.train's keyword of each of the student's functions (every graded piece it calls)
TRAIN_KEYWORDS = {"mcts_search": "search_fn", "visit_policy": "visit_policy_fn",
                  "value_targets": "value_targets_fn", "alphazero_loss": "loss_fn"}


@procedure("alphago.alphazero_learn")
def alphazero_learn_run(fn: Callable, seed: int, config: dict[str, Any]
                        ) -> dict[str, np.ndarray]:
    """A short AlphaZero run with the student's functions; the trained network's weights."""
    from rlkit.agents import alphazero

    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    history = alphazero.train(alphazero.AlphaZeroConfig(**settings), seed=seed,
                              **{TRAIN_KEYWORDS[name]: f for name, f in fn.items()})
    return {k: v.detach().double().numpy() for k, v in history.net.state_dict().items()}
