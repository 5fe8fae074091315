r"""Monte-Carlo tree search on an array-based tree (lecture 002, "Case: AlphaGo").

One simulation walks from the root to a leaf and back (the lecture's four steps):

1. **Selection**: at each node pick :math:`\arg\max_a` of a score, :func:`uct_scores`
   (:math:`Q + c\sqrt{\ln N(s) / N(s,a)}`, rollouts only) or :func:`puct_scores`
   (:math:`Q + u`, :math:`u \propto P(s,a) / (1 + N(s,a))`, with the policy network's prior),
   among the legal moves (:func:`select_action`).
2. **Expansion**: the first edge that leads off the tree adds its state as a node, with the
   evaluator's prior :math:`P(s', \cdot)` on its edges.
3. **Evaluation**: the leaf's value from the view of its player to move,
   :math:`v = (1-\lambda) V_\theta(s') + \lambda z_{\text{rollout}}` (:func:`evaluate_leaf`);
   a terminal leaf is worth its outcome.
4. **Backup**: every edge on the path gets :math:`N \mathrel{+}= 1` and
   :math:`W \mathrel{+}= \pm v` (:func:`backup`), **the sign flipping at each ply**: an edge
   is scored from the view of the player who chose it, the opponent of the player to move
   in the node it leads to.

Afterwards the root's visit counts give the move (:func:`visit_policy`: :math:`N^{1/\tau}`,
:math:`\tau \to 0` the most visited).

The pieces a student writes in notebook 08 are the top-level functions (:func:`uct_scores`,
:func:`puct_scores`, :func:`select_action`, :func:`backup`, :func:`evaluate_leaf`,
:func:`visit_policy` and :func:`mcts_search` itself); :func:`mcts_search` takes a replacement
for each piece, and the trainers of :mod:`rlkit.agents.alphago` and
:mod:`rlkit.agents.alphazero` take a replacement ``search_fn``.

Why an array tree, written here: the pieces are numpy functions a student can write and test
on plain arrays, and rows of preallocated arrays (one row per node, one column per action) let
the search score every node a simulation passed through in one batched call (see
:func:`mcts_search`); the games' rules work on bit sets and remember what they derived from
each board (:meth:`~rlkit.games.KInARow.board_info`). On tic-tac-toe with one random rollout
per leaf it runs 1.7 times OpenSpiel's Python MCTS in the same run (32,600 against 18,700
simulations per CPU second; 1.5 times with a new game each search, every board met for the
first time; ``benchmarks/bench_mcts.py``, load average 7). The rest is numpy's cost per call
on 9-element arrays: the one batched call of the score and select pieces per simulation is
about half of the time. Everything random draws from the ``rng`` passed in, so a search is a
function of its seed.

Example:
    >>> from rlkit.games import TicTacToe
    >>> game = TicTacToe()
    >>> state = game.initial_state()
    >>> for action in (0, 4, 1):  # X threatens to complete the top row at 2
    ...     state = game.next_state(state, action)
    >>> result = mcts_search(game, state, RolloutEvaluator(game), n_simulations=200,
    ...                      rng=np.random.default_rng(0), rule="uct")
    >>> int(np.argmax(result.visit_counts))  # O blocks: the only move that does not lose
    2

"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np

from rlkit.games.rules import GameState, KInARow

__all__ = [
    "Leaf",
    "NetworkEvaluator",
    "RolloutEvaluator",
    "SearchResult",
    "Tree",
    "add_root_noise",
    "backup",
    "edge_q",
    "evaluate_leaf",
    "mcts_search",
    "puct_scores",
    "random_rollout",
    "select_action",
    "uct_scores",
    "visit_policy",
]

Rule = Literal["uct", "puct"]


# --------------------------------------------------------------------------------------------
# The pieces (notebook 08 re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


def edge_q(total_values: np.ndarray, visit_counts: np.ndarray) -> np.ndarray:
    """The mean backed-up value :math:`Q = W / N` of each edge, 0 on an unvisited edge.

    Works on one node's edges ``(n_actions,)`` or a batch of nodes ``(..., n_actions)``.

    Example:
        >>> edge_q(np.array([1.0, 0.0, -3.0]), np.array([2, 0, 3]))
        array([ 0.5,  0. , -1. ])

    """
    # An unvisited edge has W = 0, so W / max(N, 1) is 0 there.
    return np.asarray(total_values, dtype=np.float64) / np.maximum(visit_counts, 1)


def uct_scores(q: np.ndarray, visit_counts: np.ndarray, c: float) -> np.ndarray:
    r"""UCT's score of each edge of a node (UCB1 applied to trees, Kocsis & Szepesvari 2006).

    .. math::
        \text{score}(s, a) = Q(s, a) + c \sqrt{\frac{\ln N(s)}{N(s, a)}}, \qquad
        N(s) = \sum_b N(s, b),

    and :math:`+\infty` for an unvisited edge (every move is tried once before any twice).

    Args:
        q: :math:`Q(s, \cdot)` from the view of the player to move, ``(n_actions,)``, or a
            batch of nodes ``(..., n_actions)`` (the sums run over the last axis).
        visit_counts: :math:`N(s, \cdot)`, the same shape.
        c: Exploration weight :math:`c \ge 0` (about 1 to 2 for values in [-1, 1]).

    Returns:
        float64, the shape of ``q``.

    Example:
        >>> uct_scores(np.array([0.5, -0.5, 0.0]), np.array([3, 1, 0]), c=1.0).round(3)
        array([1.18 , 0.677,   inf])

    """
    counts = np.asarray(visit_counts, dtype=np.float64)
    log_total = np.log(np.maximum(counts.sum(axis=-1, keepdims=True), 1.0))  # ln N(s)
    scores = q + c * np.sqrt(log_total / np.maximum(counts, 1.0))
    return np.where(counts.astype(bool), scores, np.inf)  # an unvisited edge first


def puct_scores(q: np.ndarray, visit_counts: np.ndarray, prior: np.ndarray,
                c_puct: float) -> np.ndarray:
    r"""PUCT's score of each edge: :math:`Q + u` with :math:`u \propto P / (1 + N)`.

    .. math::
        \text{score}(s, a) = Q(s, a) + c_{\text{puct}}\, P(s, a)
            \frac{\sqrt{1 + \sum_b N(s, b)}}{1 + N(s, a)}

    (AlphaGo's selection rule; the ``1 +`` under the root counts the visit that expanded the
    node, so the prior already orders the first choice). An unvisited edge has :math:`Q = 0`.

    Args:
        q: :math:`Q(s, \cdot)` from the view of the player to move, ``(n_actions,)``, or a
            batch of nodes ``(..., n_actions)`` (the sums run over the last axis).
        visit_counts: :math:`N(s, \cdot)`, the same shape.
        prior: :math:`P(s, \cdot)`, the policy network's probabilities, the same shape.
        c_puct: Exploration weight :math:`c_{\text{puct}} > 0` (about 1 to 4).

    Example:
        >>> puct_scores(np.zeros(3), np.array([0, 0, 0]), np.array([0.2, 0.5, 0.3]), 2.0)
        array([0.4, 1. , 0.6])

    """
    counts = np.asarray(visit_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * np.sqrt(1.0 + total) * np.asarray(prior) / (1.0 + counts)


def select_action(scores: np.ndarray, legal_mask: np.ndarray) -> int | np.ndarray:
    """The legal action with the highest score; ties go to the lowest index.

    An illegal action is never chosen, whatever its score (even ``inf``); when every legal
    score is ``-inf`` the lowest legal action is. One node (``(n_actions,)`` -> an ``int``)
    or a batch (``(..., n_actions)`` -> an int array of the leading shape).

    Raises:
        ValueError: If a node has no legal action.

    Example:
        >>> select_action(np.array([9.0, 1.0, 3.0, 3.0]), np.array([False, True, True, True]))
        2
        >>> select_action(np.array([[0.0, 1.0], [-np.inf, -np.inf]]), np.array([[1, 1], [0, 1]]))
        array([1, 1])

    """
    legal = np.asarray(legal_mask, dtype=bool)
    masked = np.where(legal, scores, -np.inf)
    best = masked.argmax(axis=-1)  # argmax: the first of a tie
    top = masked.max(axis=-1)
    if top.min() == -np.inf:  # no legal move, or every legal score -inf
        if not legal.any(axis=-1).all():
            raise ValueError("select_action needs at least one legal action in every node")
        best = np.where(top == -np.inf, legal.argmax(axis=-1), best)  # the lowest legal one
    return int(best) if best.ndim == 0 else best


def evaluate_leaf(network_value: float, rollout_winner: int, player: int,
                  mixing: float) -> float:
    r"""AlphaGo's leaf value, from the view of the leaf's player to move.

    .. math:: v = (1 - \lambda)\, V_\theta(s) + \lambda\, z, \qquad z = \text{winner} \cdot
       \text{player}

    The network already answers from the mover's view; a rollout ends with a winner
    (``+1`` X, ``-1`` O, ``0`` draw), which is turned to the mover's view by ``player``
    (a draw stays 0, never a loss).

    Args:
        network_value: :math:`V_\theta(s)` from the view of the player to move in ``s``.
        rollout_winner: The winner of a rollout from ``s``.
        player: The player to move in ``s``, ``+1`` or ``-1``.
        mixing: :math:`\lambda \in [0, 1]`: 0 the value network alone, 1 the rollout alone
            (AlphaGo: 0.5).

    Example:
        >>> evaluate_leaf(0.2, rollout_winner=1, player=-1, mixing=0.5)  # O to move, X won
        -0.4

    """
    return (1.0 - mixing) * float(network_value) + mixing * float(rollout_winner * player)


def backup(visit_counts: np.ndarray, total_values: np.ndarray,
           path: Sequence[tuple[int, int]], value: float) -> None:
    r"""Add one simulation's leaf value to every edge on its path, **in place**.

    ``path`` lists the edges ``(node, action)`` from the root down; the last one leads to the
    leaf, whose value ``value`` is from the view of the leaf's player to move. Each edge is
    scored from the view of the player who chose it, so the last edge gets :math:`-v`, the
    one above it :math:`+v`, and so on (the sign flips each ply):

    .. math:: N(s_i, a_i) \mathrel{+}= 1, \qquad
       W(s_i, a_i) \mathrel{+}= (-1)^{L - i} v \quad (i = 0, \dots, L-1).

    Args:
        visit_counts: :math:`N`, ``(n_nodes, n_actions)``, updated in place.
        total_values: :math:`W`, ``(n_nodes, n_actions)``, updated in place.
        path: The edges from the root to the leaf.
        value: The leaf's value from the view of its player to move.

    Example:
        >>> counts, totals = np.zeros((3, 2), dtype=np.int64), np.zeros((3, 2))
        >>> backup(counts, totals, [(0, 1), (1, 0), (2, 1)], value=1.0)
        >>> totals  # the leaf's mover is happy: the edge into it was a mistake
        array([[ 0., -1.],
               [ 1.,  0.],
               [ 0., -1.]])

    """
    sign = -1.0  # the edge into the leaf was chosen by the leaf mover's opponent
    for node, action in reversed(path):
        visit_counts[node, action] += 1
        total_values[node, action] += sign * value
        sign = -sign


def visit_policy(visit_counts: np.ndarray, temperature: float) -> np.ndarray:
    r"""Move probabilities from the root's visit counts: :math:`\pi(a) \propto N(a)^{1/\tau}`.

    :math:`\tau = 1` follows the counts, :math:`\tau \to 0` the most visited move
    (``temperature=0``: the argmax, ties shared equally, the limit of the formula).

    Example:
        >>> visit_policy(np.array([1, 3, 0, 4]), temperature=1.0)
        array([0.125, 0.375, 0.   , 0.5  ])
        >>> visit_policy(np.array([1, 4, 0, 4]), temperature=0)
        array([0. , 0.5, 0. , 0.5])

    """
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0; got {temperature}")
    if counts.max(initial=0.0) <= 0:
        raise ValueError("visit_policy needs at least one visited action")
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    scaled = (counts / counts.max()) ** (1.0 / temperature)  # / max: no overflow as tau -> 0
    return scaled / scaled.sum()


# --------------------------------------------------------------------------------------------
# Evaluators: prior, network value and rollout winner of a leaf
# --------------------------------------------------------------------------------------------


class Leaf(NamedTuple):
    """What an evaluator says about a new leaf; :func:`evaluate_leaf` mixes the two values."""

    prior: np.ndarray
    """:math:`P(s, \\cdot)` over the actions, 0 on the illegal ones."""
    network_value: float
    """:math:`V_\\theta(s)` from the mover's view (0 without a value network)."""
    rollout_winner: int
    """The winner of a rollout from ``s`` (+1 X, -1 O, 0 draw; 0 without a rollout)."""


class Evaluator(Protocol):
    """Evaluates a leaf; ``mixing`` is the lambda :func:`evaluate_leaf` gets."""

    mixing: float

    def __call__(self, state: GameState, rng: np.random.Generator) -> Leaf: ...


def random_rollout(game: KInARow, state: GameState, rng: np.random.Generator) -> int:
    """Play uniformly random moves from ``state`` to the end; return the winner (0: draw).

    Works on plain ints (each player's stones as a bit set,
    :meth:`~rlkit.games.KInARow.board_info`) and builds no states: the hot loop of a rollout
    search.
    """
    if state.terminal:
        return state.winner
    info, player = game.board_info(state.board), state.player
    mine, theirs = (info.x_stones, info.o_stones) if player == 1 else (info.o_stones,
                                                                       info.x_stones)
    if not game.gravity:  # every empty cell stays legal until played: one shuffle is a game
        empty = info.empty
        for index in rng.random(len(empty)).argsort().tolist():  # a random order of the cells
            cell = empty[index]
            mine |= 1 << cell
            if game.wins(mine, cell):
                return player
            mine, theirs, player = theirs, mine, -player
        return 0
    board = list(state.board)
    while True:
        columns = [c for c in range(game.cols) if board[c] == 0]
        if not columns:
            return 0
        cell = game.landing_cell(board, columns[int(rng.integers(len(columns)))])
        board[cell] = player
        mine |= 1 << cell
        if game.wins(mine, cell):
            return player
        mine, theirs, player = theirs, mine, -player


@dataclass
class RolloutEvaluator:
    """Uniform prior over the legal moves, the value of one random rollout (lambda = 1)."""

    game: KInARow
    mixing: float = 1.0

    def __call__(self, state: GameState, rng: np.random.Generator) -> Leaf:
        """The uniform prior (0 everywhere in a finished game) and a rollout's winner."""
        prior = (np.zeros(self.game.n_actions) if state.terminal
                 else self.game.board_info(state.board).uniform.copy())
        return Leaf(prior, 0.0, random_rollout(self.game, state, rng))


@dataclass
class NetworkEvaluator:
    r"""Prior and value from a network, mixed with a rollout when ``mixing`` > 0.

    Args:
        game: The game.
        predict: ``states -> (probs, values)``: move probabilities ``(B, n_actions)`` (0 on
            illegal moves) and :math:`V_\theta` from each mover's view ``(B,)``.
        mixing: :math:`\lambda` of :func:`evaluate_leaf` (0: the network's value alone).
        cache: Remember each state's answer. The network does not change during a search or
            a round of self-play, and a small game has few states, so most leaves are seen
            before; call :meth:`clear` after each update of the network.

    """

    game: KInARow
    predict: Callable[[list[GameState]], tuple[np.ndarray, np.ndarray]]
    mixing: float = 0.0
    cache: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.mixing <= 1.0:
            raise ValueError(f"mixing (lambda) must be in [0, 1]; got {self.mixing}")
        self._memory: dict[GameState, tuple[np.ndarray, float]] = {}

    def clear(self) -> None:
        """Forget the cached answers (the network changed)."""
        self._memory.clear()

    def __call__(self, state: GameState, rng: np.random.Generator) -> Leaf:
        """The network's prior and value of ``state`` (and a rollout's winner if mixing)."""
        answer = self._memory.get(state)
        if answer is None:
            probs, values = self.predict([state])
            answer = (np.asarray(probs[0], dtype=np.float64), float(values[0]))
            if self.cache:
                self._memory[state] = answer
        winner = random_rollout(self.game, state, rng) if self.mixing > 0 else 0
        return Leaf(answer[0], answer[1], winner)


# --------------------------------------------------------------------------------------------
# The tree and the search
# --------------------------------------------------------------------------------------------


class Tree:
    """A search tree as arrays: row ``i`` holds node ``i``'s edges (one column per action).

    Attributes:
        states: The state of each node.
        prior: :math:`P(s, a)`, ``(capacity, n_actions)``.
        visit_counts: :math:`N(s, a)` (whole numbers, stored as float64).
        total_values: :math:`W(s, a)`, the sum of the values backed up through the edge, from
            the view of the player to move in ``s``.
        children: The child node of each edge, ``-1`` until it is expanded.
        legal: The legal-move mask of each node.
        edges: ``(capacity, 3, n_actions)``: the three arrays above (views of it), side by
            side.

    """

    def __init__(self, capacity: int, n_actions: int) -> None:
        self.states: list[GameState] = []
        # N, W and P side by side: one fancy index fetches all three for a batch of nodes.
        self.edges = np.zeros((capacity, 3, n_actions))
        self.visit_counts = self.edges[:, 0]  # views: writing them writes self.edges
        self.total_values = self.edges[:, 1]
        self.prior = self.edges[:, 2]
        self.children = np.full((capacity, n_actions), -1, dtype=np.int64)
        self.legal = np.zeros((capacity, n_actions), dtype=bool)

    def add(self, game: KInARow, state: GameState, prior: np.ndarray | None) -> int:
        """Add ``state`` as a node with edge priors ``prior`` (None: terminal); its index."""
        node = len(self.states)
        self.states.append(state)
        if prior is not None:
            self.prior[node] = prior
            self.legal[node] = game.board_info(state.board).legal_mask  # a copy into the row
        return node

    def q(self, node: int) -> np.ndarray:
        r""":math:`Q(s, \cdot) = W / N` of a node's edges (0 where unvisited)."""
        return edge_q(self.total_values[node], self.visit_counts[node])


class SearchResult(NamedTuple):
    """What :func:`mcts_search` returns: the root's edge statistics and the whole tree."""

    visit_counts: np.ndarray
    """:math:`N(s_0, \\cdot)`, ``(n_actions,)``."""
    q: np.ndarray
    """:math:`Q(s_0, \\cdot)` from the view of the player to move at the root."""
    tree: Tree


def add_root_noise(prior: np.ndarray, legal_mask: np.ndarray, alpha: float, fraction: float,
                   rng: np.random.Generator) -> np.ndarray:
    r"""AlphaZero's exploration at the root: :math:`(1-\epsilon) P + \epsilon\, \eta`,
    :math:`\eta \sim \mathrm{Dir}(\alpha)` over the legal moves.

    Example:
        >>> noisy = add_root_noise(np.array([1.0, 0, 0]), np.array([True, True, False]),
        ...                        alpha=1.0, fraction=0.25, rng=np.random.default_rng(0))
        >>> float(noisy.sum()), float(noisy[2])
        (1.0, 0.0)

    """  # noqa: D205
    legal = np.flatnonzero(legal_mask)
    noisy = np.array(prior, dtype=np.float64) * (1.0 - fraction)
    noisy[legal] += fraction * rng.dirichlet(np.full(legal.size, alpha))
    return noisy


def mcts_search(
    game: KInARow,
    state: GameState,
    evaluator: Evaluator,
    n_simulations: int,
    *,
    rng: np.random.Generator,
    rule: Rule = "puct",
    c: float = 1.5,
    root_noise: tuple[float, float] | None = None,
    uct_scores_fn: Callable[..., np.ndarray] = uct_scores,
    puct_scores_fn: Callable[..., np.ndarray] = puct_scores,
    select_fn: Callable[..., Any] = select_action,
    evaluate_leaf_fn: Callable[..., float] = evaluate_leaf,
    backup_fn: Callable[..., None] = backup,
) -> SearchResult:
    """Run ``n_simulations`` simulations of MCTS from ``state``; return the root's statistics.

    A node's choice depends only on its own edges, which change only when a simulation
    passes through it. So after each backup this search scores the nodes on the path (and the
    new leaf) in one batched call of the score and select pieces, and remembers each node's
    choice; the walk down is then a look-up per ply. Same result as scoring every node on the
    way down, for several times fewer numpy calls (the replacement pieces must accept a batch
    of nodes, ``(n_nodes, n_actions)``, as rlkit's do).

    Args:
        game: The game.
        state: The root, a non-terminal state.
        evaluator: Gives a new leaf's prior and values (:class:`RolloutEvaluator`,
            :class:`NetworkEvaluator`).
        n_simulations: Simulations (root to leaf and back) to run (>= 1).
        rng: Every random draw of the search (rollouts, root noise).
        rule: ``"uct"`` (:func:`uct_scores`, ignores the prior) or ``"puct"``
            (:func:`puct_scores`).
        c: The exploration weight of the rule (``c`` or ``c_puct``).
        root_noise: ``(alpha, fraction)`` of Dirichlet noise on the root's prior
            (AlphaZero's self-play), or None.
        uct_scores_fn: Replaces :func:`uct_scores` (same signature, and a batch of nodes).
        puct_scores_fn: Replaces :func:`puct_scores` (the same).
        select_fn: Replaces :func:`select_action` (the same).
        evaluate_leaf_fn: Replaces :func:`evaluate_leaf`.
        backup_fn: Replaces :func:`backup`.

    Returns:
        A :class:`SearchResult`; the move to play is the most visited root edge.

    """
    if state.terminal:
        raise ValueError("mcts_search needs a state with a move to make; this one is terminal")
    if int(n_simulations) < 1:
        raise ValueError(f"n_simulations must be >= 1; got {n_simulations}")
    if rule not in ("uct", "puct"):
        raise ValueError(f"rule must be 'uct' or 'puct'; got {rule!r}")
    tree = Tree(int(n_simulations) + 1, game.n_actions)
    prior = evaluator(state, rng).prior  # the root's prior (its value is not backed up)
    if root_noise is not None:
        prior = add_root_noise(prior, game.legal_mask(state), *root_noise, rng)
    tree.add(game, state, prior)
    counts, totals, children = tree.visit_counts, tree.total_values, tree.children
    choice = [0] * (int(n_simulations) + 1)  # each non-terminal node's selected action

    def choose(nodes: list[int]) -> None:  # 1. Selection, for every node of a simulation
        rows = np.array(nodes)
        edges = tree.edges.take(rows, axis=0)  # (n_nodes, 3, n_actions): N, W, P
        node_counts = edges[:, 0]
        q = edge_q(edges[:, 1], node_counts)
        if rule == "uct":
            scores = uct_scores_fn(q, node_counts, c)
        else:
            scores = puct_scores_fn(q, node_counts, edges[:, 2], c)
        actions = np.asarray(select_fn(scores, tree.legal.take(rows, axis=0))).tolist()
        for node, action in zip(nodes, actions, strict=True):
            choice[node] = action

    # children[node, action] as a flat list: the walk down reads it at every ply, and a list
    # reads faster than a numpy array; written together with children at each expansion.
    n_actions = game.n_actions
    child_of = [-1] * ((int(n_simulations) + 1) * n_actions)
    choose([0])
    for _ in range(int(n_simulations)):
        node, path = 0, []
        while True:
            action = choice[node]
            path.append((node, action))
            child = child_of[node * n_actions + action]
            if child < 0:
                break
            node = child
            if tree.states[child].terminal:
                break
        if child >= 0:  # a known end of the game: its outcome again
            value, new_nodes = float(game.outcome(tree.states[child])), []
        else:  # 2. Expansion, 3. evaluation (a terminal leaf is worth its outcome)
            child_state = game.next_state(tree.states[node], action)
            if child_state.terminal:
                new_node = tree.add(game, child_state, None)
                value, new_nodes = float(game.outcome(child_state)), []
            else:
                leaf = evaluator(child_state, rng)
                new_node = tree.add(game, child_state, leaf.prior)
                value = float(evaluate_leaf_fn(leaf.network_value, leaf.rollout_winner,
                                               child_state.player, evaluator.mixing))
                new_nodes = [new_node]
            children[node, action] = child_of[node * n_actions + action] = new_node
        # 4. Backup, the sign flipping each ply; then the path's nodes choose again.
        backup_fn(counts, totals, path, value)
        choose([n for n, _ in path] + new_nodes)
    return SearchResult(counts[0].copy(), tree.q(0), tree)
