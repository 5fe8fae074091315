"""Figures of notebook 08: search quality, a search tree, the lambda sweep, AlphaZero's curve.

Same conventions as :mod:`rlkit.plotting` (a ``Figure`` returned, never shown; ``ax`` to draw
into an existing axes). Each takes measured numbers, not agents, so the notebook decides what
to measure (e.g. :meth:`rlkit.games.Solution.optimal_move_rate` of a search player).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from rlkit.games import KInARow
from rlkit.mcts import SearchResult
from rlkit.plotting import _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_game_learning_curve", "plot_lambda_sweep", "plot_quality_vs_simulations",
           "plot_search_tree"]


def plot_quality_vs_simulations(
    simulations: Sequence[int],
    rates: Mapping[str, Sequence[float]],
    *,
    title: str = "Play quality against simulations per move",
    ax: Axes | None = None,
) -> Figure:
    """Optimal-move rate (e.g. on the critical positions) of each searcher against simulations.

    Args:
        simulations: Simulations per move, the x values (log scale).
        rates: ``label -> rate for each entry of simulations``, rates in [0, 1].
        title: The axes title.
        ax: Draw on this axes instead of a new figure.

    Example:
        >>> figure = plot_quality_vs_simulations([4, 16, 64], {"UCT": [0.66, 0.91, 0.97]})
        >>> figure.axes[0].get_xscale()
        'log'

    """
    figure = _rate_curves(simulations, rates, "simulations per move", title, ax)
    axes = figure.axes[0] if ax is None else ax
    axes.set_xscale("log")
    axes.set_xticks(list(simulations), [str(s) for s in simulations])
    return figure


def plot_lambda_sweep(
    mixings: Sequence[float],
    rates: Mapping[str, Sequence[float]],
    *,
    title: str = r"Leaf evaluation $v = (1-\lambda) v_\theta + \lambda z$",
    ax: Axes | None = None,
) -> Figure:
    """Optimal-move rate against the mixing lambda (0: value network, 1: rollout).

    Args:
        mixings: The lambdas, the x values.
        rates: ``label -> rate for each lambda``, rates in [0, 1].
        title: The axes title.
        ax: Draw on this axes instead of a new figure.

    Example:
        >>> figure = plot_lambda_sweep([0, 0.5, 1], {"25 simulations": [0.9, 0.95, 0.93]})
        >>> figure.axes[0].get_xlabel()
        'lambda (0: value network only, 1: rollout only)'

    """
    return _rate_curves(mixings, rates, "lambda (0: value network only, 1: rollout only)",
                        title, ax)


def _rate_curves(xs: Sequence[float], rates: Mapping[str, Sequence[float]], xlabel: str,
                 title: str, ax: Axes | None) -> Figure:
    figure, axes = _axes(ax, (6.0, 4.0))
    for label, values in rates.items():
        axes.plot(xs, 100 * np.asarray(values, dtype=float), marker="o", label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("optimal moves (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def plot_game_learning_curve(history: Any, *, title: str = "AlphaZero",
                             ax: Axes | None = None) -> Figure:
    """The raw network's optimal-move rates and lost lines against CPU seconds of training.

    Args:
        history: An :class:`~rlkit.agents.alphazero.AlphaZeroHistory` (``evaluation_seconds``
            and ``evaluations``).
        title: The axes title.
        ax: Draw on this axes instead of a new figure.

    """
    figure, axes = _axes(ax, (7.0, 4.0))
    seconds = history.evaluation_seconds
    evaluations = history.evaluations
    axes.plot(seconds, [100 * e.optimal_rate for e in evaluations], marker="o",
              label="optimal, all positions")
    axes.plot(seconds, [100 * e.critical_rate for e in evaluations], marker="s",
              label="optimal, critical positions")
    axes.set_xlabel("CPU seconds of self-play and training")
    axes.set_ylabel("optimal moves of the raw network (%)")
    axes.grid(alpha=0.3)
    lines = axes.twinx()
    lines.plot(seconds, [e.lost_as_x for e in evaluations], color="tab:red", ls="--",
               label="lines lost as X")
    lines.plot(seconds, [e.lost_as_o for e in evaluations], color="tab:purple", ls=":",
               label="lines lost as O")
    lines.set_ylabel("opponent lines lost")
    handles = axes.get_legend_handles_labels()
    more = lines.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="center right")
    axes.set_title(title)
    return figure


def plot_search_tree(
    game: KInARow,
    result: SearchResult,
    *,
    depth: int = 2,
    branches: int = 3,
    title: str = "Search tree: N and Q on each edge (Q from the view of the player who moves)",
    ax: Axes | None = None,
) -> Figure:
    """Draw the most visited part of a search tree: boards as nodes, N and Q on the edges.

    Args:
        game: The game searched.
        result: What :func:`~rlkit.mcts.mcts_search` returned (its ``tree``).
        depth: Plies drawn below the root.
        branches: The most visited edges drawn at each node.
        title: The axes title.
        ax: Draw on this axes instead of a new figure.

    Example:
        >>> from rlkit.games import TicTacToe
        >>> from rlkit.mcts import RolloutEvaluator, mcts_search
        >>> game = TicTacToe()
        >>> result = mcts_search(game, game.initial_state(), RolloutEvaluator(game), 50,
        ...                      rng=np.random.default_rng(0), rule="uct")
        >>> len(plot_search_tree(game, result, depth=1).axes[0].texts) > 3
        True

    """
    tree = result.tree
    layers: list[list[tuple[int, int, int, int]]] = [[(0, -1, -1, 0)]]  # node, parent, action
    for _ in range(depth):
        layer = []
        for index, (node, *_rest) in enumerate(layers[-1]):
            counts = tree.visit_counts[node]
            for action in np.argsort(-counts, kind="stable")[:branches]:
                child = int(tree.children[node, action])
                if counts[action] > 0 and child >= 0:
                    layer.append((child, index, int(action), node))
        if not layer:
            break
        layers.append(layer)
    width = max(len(layer) for layer in layers)
    figure, axes = _axes(ax, (max(6.0, 1.6 * width), 2.4 * len(layers)))
    positions: list[list[tuple[float, float]]] = []
    for row, layer in enumerate(layers):
        xs = np.linspace(0, 1, len(layer) + 2)[1:-1]
        positions.append([(float(x), -float(row)) for x in xs])
        for (node, parent, action, parent_node), (x, y) in zip(layer, positions[-1],
                                                               strict=True):
            axes.text(x, y, game.render(tree.states[node]), ha="center", va="center",
                      family="monospace", fontsize=9,
                      bbox={"boxstyle": "round", "fc": "white", "ec": "0.5"})
            if parent < 0:
                continue
            px, py = positions[row - 1][parent]
            axes.annotate("", (x, y + 0.28), (px, py - 0.28),
                          arrowprops={"arrowstyle": "->", "color": "0.4"})
            n = int(tree.visit_counts[parent_node, action])
            q = tree.q(parent_node)[action]
            axes.text((x + px) / 2, (y + py) / 2, f"a={action}\nN={n}\nQ={q:+.2f}",
                      ha="center", va="center", fontsize=7, color="tab:blue")
    axes.set_xlim(-0.05, 1.05)
    axes.set_ylim(-len(layers) + 0.5, 0.5)
    axes.axis("off")
    axes.set_title(title, fontsize=9)
    return figure
