"""rlkit.mcts: the pieces on known answers, and the search against the exact solution.

The sign and perspective of the values are checked directly, not through a learning run: a
backup that forgets to negate per ply, or a rollout scored from a fixed player's view, must
lose the forced wins and blocks the solver knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rlkit.games import TicTacToe, solve
from rlkit.mcts import (
    Leaf,
    NetworkEvaluator,
    RolloutEvaluator,
    Tree,
    backup,
    edge_q,
    evaluate_leaf,
    mcts_search,
    puct_scores,
    random_rollout,
    select_action,
    uct_scores,
    visit_policy,
)


@pytest.fixture(scope="module")
def solution():
    return solve(TicTacToe())


# --------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------


def test_uct_scores_known_values_and_unvisited_first():
    scores = uct_scores(np.array([0.5, -0.5, 0.0]), np.array([3, 1, 0]), c=1.0)
    expected = [0.5 + np.sqrt(np.log(4) / 3), -0.5 + np.sqrt(np.log(4))]
    np.testing.assert_allclose(scores[:2], expected)
    assert scores[2] == np.inf
    assert np.all(uct_scores(np.zeros(4), np.zeros(4), c=2.0) == np.inf)


def test_puct_scores_known_values():
    q, counts, prior = np.array([0.2, -0.1, 0.0]), np.array([2, 1, 0]), np.array([.5, .3, .2])
    expected = q + 1.5 * prior * np.sqrt(1 + 3) / (1 + counts)
    np.testing.assert_allclose(puct_scores(q, counts, prior, 1.5), expected)


@given(hnp.arrays(np.float64, (5, 6), elements=st.floats(-1, 1)),
       hnp.arrays(np.int64, (5, 6), elements=st.integers(0, 20)),
       hnp.arrays(np.float64, (5, 6), elements=st.floats(0, 1)))
@settings(max_examples=40, deadline=None)
def test_scores_of_a_batch_equal_the_scores_of_each_node(q, counts, prior):
    rows = list(zip(q, counts, prior, strict=True))
    np.testing.assert_array_equal(uct_scores(q, counts, 1.3),
                                  np.stack([uct_scores(a, b, 1.3) for a, b, _ in rows]))
    np.testing.assert_allclose(puct_scores(q, counts, prior, 2.0),
                               np.stack([puct_scores(a, b, p, 2.0) for a, b, p in rows]))


def test_select_action_ties_go_to_the_lowest_legal_index_and_never_illegal():
    assert select_action(np.array([1.0, 3.0, 3.0, 3.0]), np.array([1, 0, 1, 1], bool)) == 2
    assert select_action(np.array([np.inf, 0.0]), np.array([False, True])) == 1
    assert select_action(np.array([-np.inf, -np.inf, -np.inf]), np.array([0, 0, 1], bool)) == 2
    batch = select_action(np.array([[0.0, 1.0, 1.0], [5.0, 0.0, 0.0]]),
                          np.array([[1, 1, 1], [0, 1, 1]], bool))
    assert batch.tolist() == [1, 1]
    with pytest.raises(ValueError, match="at least one legal action"):
        select_action(np.zeros(3), np.zeros(3, bool))


@given(hnp.arrays(np.float64, 9, elements=st.floats(allow_nan=False)),
       hnp.arrays(bool, 9).filter(lambda m: m.any()))
@settings(max_examples=100, deadline=None)
def test_select_action_is_the_first_legal_maximum(scores, legal):
    action = select_action(scores, legal)
    assert legal[action]
    best = scores[legal].max()
    assert scores[action] == best or best == -np.inf
    assert action == min(a for a in np.flatnonzero(legal) if scores[a] == best)


def test_backup_negates_the_value_each_ply_and_counts_each_edge():
    counts, totals = np.zeros((4, 3)), np.zeros((4, 3))
    backup(counts, totals, [(0, 2), (1, 0), (3, 1)], value=0.5)
    assert counts.sum() == 3 and counts[0, 2] == counts[1, 0] == counts[3, 1] == 1
    # The leaf's mover values it +0.5: the edge into it (chosen by the other player) gets -0.5.
    assert (totals[3, 1], totals[1, 0], totals[0, 2]) == (-0.5, 0.5, -0.5)
    backup(counts, totals, [(0, 2)], value=-1.0)  # a one-ply path: the root's child lost
    assert totals[0, 2] == 0.5 and counts[0, 2] == 2
    np.testing.assert_allclose(edge_q(totals, counts)[0], [0, 0, 0.25])


def test_evaluate_leaf_mixes_from_the_movers_view():
    assert evaluate_leaf(0.3, rollout_winner=-1, player=-1, mixing=0.0) == 0.3
    assert evaluate_leaf(0.3, rollout_winner=-1, player=-1, mixing=1.0) == 1.0  # O to move, O won
    assert evaluate_leaf(0.3, rollout_winner=-1, player=1, mixing=1.0) == -1.0
    assert evaluate_leaf(0.3, rollout_winner=0, player=1, mixing=1.0) == 0.0  # a draw is 0
    assert evaluate_leaf(0.2, rollout_winner=1, player=-1, mixing=0.5) == pytest.approx(-0.4)


def test_visit_policy_temperature():
    counts = np.array([1, 3, 0, 4])
    np.testing.assert_allclose(visit_policy(counts, 1.0), counts / 8)
    np.testing.assert_allclose(visit_policy(counts, 0.5), counts**2 / 26)
    np.testing.assert_array_equal(visit_policy(counts, 0), [0, 0, 0, 1])
    np.testing.assert_array_equal(visit_policy(np.array([2, 5, 5]), 0), [0, 0.5, 0.5])
    small = visit_policy(np.array([300, 301, 2]), 1e-4)  # tau -> 0: towards the argmax
    assert small[1] > 0.99 and np.isfinite(small).all()
    with pytest.raises(ValueError, match="visited"):
        visit_policy(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        visit_policy(counts, -1.0)


def test_rollouts_are_seeded_and_reach_every_result():
    game = TicTacToe()
    state = game.initial_state()
    winners = [random_rollout(game, state, np.random.default_rng(seed)) for seed in range(200)]
    again = [random_rollout(game, state, np.random.default_rng(seed)) for seed in range(200)]
    assert winners == again and {-1, 0, 1} <= set(winners)


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


def _reference_search(game, state, evaluator, n_simulations, rng, c):
    """MCTS written the plain way, scoring each node on the way down (no remembered choices)."""
    tree = Tree(n_simulations + 1, game.n_actions)
    tree.add(game, state, evaluator(state, rng).prior)
    for _ in range(n_simulations):
        node, path = 0, []
        while True:
            action = select_action(uct_scores(tree.q(node), tree.visit_counts[node], c),
                                   tree.legal[node])
            path.append((node, action))
            child = tree.children[node, action]
            if child < 0:
                child_state = game.next_state(tree.states[node], action)
                if child_state.terminal:
                    tree.children[node, action] = tree.add(game, child_state, None)
                    value = game.outcome(child_state)
                else:
                    leaf = evaluator(child_state, rng)
                    tree.children[node, action] = tree.add(game, child_state, leaf.prior)
                    value = leaf.rollout_winner * child_state.player
                break
            node = child
            if tree.states[node].terminal:
                value = game.outcome(tree.states[node])
                break
        backup(tree.visit_counts, tree.total_values, path, value)
    return tree.visit_counts[0]


def test_search_equals_the_plain_search_that_scores_every_node_on_the_way_down():
    game = TicTacToe()
    state = game.next_state(game.initial_state(), 0)
    evaluator = RolloutEvaluator(game)
    ours = mcts_search(game, state, evaluator, 300, rng=np.random.default_rng(3), rule="uct",
                       c=1.4)
    plain = _reference_search(game, state, evaluator, 300, np.random.default_rng(3), 1.4)
    np.testing.assert_array_equal(ours.visit_counts, plain)


def test_search_is_deterministic_from_its_seed_and_never_visits_illegal_moves():
    game = TicTacToe()
    state = game.next_state(game.next_state(game.initial_state(), 4), 0)
    evaluator = RolloutEvaluator(game)
    first = mcts_search(game, state, evaluator, 200, rng=np.random.default_rng(1), rule="uct")
    again = mcts_search(game, state, evaluator, 200, rng=np.random.default_rng(1), rule="uct")
    other = mcts_search(game, state, evaluator, 200, rng=np.random.default_rng(2), rule="uct")
    np.testing.assert_array_equal(first.visit_counts, again.visit_counts)
    assert not np.array_equal(first.visit_counts, other.visit_counts)
    assert first.visit_counts.sum() == 200
    assert first.visit_counts[[0, 4]].sum() == 0
    tree = first.tree
    assert not tree.visit_counts[: len(tree.states)][~tree.legal[: len(tree.states)]].any()


def _search_rate(solution, rows, evaluator, **kwargs):
    """Share of ``rows`` where a 100-simulation UCT search's most visited move is optimal."""
    rng = np.random.default_rng(0)
    actions = [int(np.argmax(mcts_search(solution.game, solution.states[i], evaluator, 100,
                                         rng=rng, rule="uct", **kwargs).visit_counts))
               for i in rows]
    return solution.is_optimal(rows, actions).mean()


def _sample(solution, kind, size=60):
    rows = solution.forced_positions(kind) if kind != "critical" else solution.critical
    assert rows.size > 100  # enough positions of the kind to mean something
    return np.random.default_rng(0).choice(rows, size, replace=False)


@pytest.mark.parametrize("kind", ["win", "block"])
def test_uct_with_rollouts_finds_the_forced_wins_and_blocks(solution, kind):
    assert _search_rate(solution, _sample(solution, kind), RolloutEvaluator(solution.game)) == 1


def test_a_backup_without_the_sign_flip_misses_forced_wins(solution):
    rate = _search_rate(solution, _sample(solution, "win"), RolloutEvaluator(solution.game),
                        backup_fn=_unsigned_backup)
    assert rate < 0.5


@dataclass
class ExactRollout:
    """A rollout that plays perfectly: its winner is V*(s) seen from X (mixing 1)."""

    solution: object
    mixing: float = 1.0

    def __call__(self, state, rng):
        legal = self.solution.game.legal_mask(state)
        return Leaf(legal / legal.sum(), 0.0, int(self.solution.value(state) * state.player))


def _fixed_view(network_value, rollout_winner, player, mixing):
    return (1 - mixing) * network_value + mixing * rollout_winner  # X's view, whoever moves


def _draw_is_a_loss(network_value, rollout_winner, player, mixing):
    return (1 - mixing) * network_value + mixing * (rollout_winner * player or -1.0)


def _unsigned_backup(visit_counts, total_values, path, value):
    for node, action in path:
        visit_counts[node, action] += 1
        total_values[node, action] += value


def test_one_visit_per_move_with_exact_rollouts_gives_q_star(solution):
    """UCT tries each legal move once first; with exact leaf values, Q(s, a) must be Q*(s, a).

    This pins the sign of every term: the backup's flip, the leaf's mover's view, draws 0.
    """
    game, evaluator = solution.game, ExactRollout(solution)
    rows = _sample(solution, "critical", 200)
    broken = {"fixed view": 0, "draw is a loss": 0, "unsigned backup": 0}
    for i in rows:
        state = solution.states[i]
        legal = game.legal_mask(state)
        n = int(legal.sum())

        def q(state=state, n=n, legal=legal, **kwargs):
            return mcts_search(game, state, evaluator, n, rng=np.random.default_rng(0),
                               rule="uct", **kwargs).q[legal]

        np.testing.assert_array_equal(q(), solution.q[i][legal])
        broken["fixed view"] += not np.array_equal(q(evaluate_leaf_fn=_fixed_view),
                                                   solution.q[i][legal])
        broken["draw is a loss"] += not np.array_equal(q(evaluate_leaf_fn=_draw_is_a_loss),
                                                       solution.q[i][legal])
        broken["unsigned backup"] += not np.array_equal(q(backup_fn=_unsigned_backup),
                                                        solution.q[i][legal])
    assert min(broken.values()) > len(rows) // 3, broken


def test_a_perspective_bug_costs_optimal_moves(solution):
    rows, evaluator = _sample(solution, "critical", 80), ExactRollout(solution)

    def rate(**kwargs):
        rng = np.random.default_rng(0)
        actions = [int(np.argmax(mcts_search(solution.game, solution.states[i], evaluator, 10,
                                             rng=rng, rule="uct", **kwargs).visit_counts))
                   for i in rows]
        return solution.is_optimal(rows, actions).mean()

    assert rate() == 1.0
    assert rate(evaluate_leaf_fn=_fixed_view) < 0.9


def test_puct_with_the_exact_value_as_network_plays_optimally(solution):
    """An oracle network (V*, uniform prior): the search's sign conventions agree with V*."""
    game = solution.game

    def oracle(states):
        legal = np.array([game.legal_mask(s) for s in states], dtype=float)
        return legal / legal.sum(1, keepdims=True), np.array([solution.value(s) for s in states])

    evaluator = NetworkEvaluator(game, oracle)
    rng = np.random.default_rng(0)
    rows = solution.critical[::10]
    actions = [int(np.argmax(mcts_search(game, solution.states[i], evaluator, 30, rng=rng,
                                         c=1.0).visit_counts)) for i in rows]
    assert solution.is_optimal(rows, actions).mean() >= 0.97
    root = mcts_search(game, solution.states[solution.critical[0]], evaluator, 30, rng=rng)
    best = int(np.argmax(root.visit_counts))
    assert root.q[best] == pytest.approx(solution.q[solution.critical[0], best], abs=0.35)


def test_root_noise_is_seeded_and_keeps_illegal_moves_at_zero():
    game = TicTacToe()
    state = game.next_state(game.initial_state(), 4)
    evaluator = RolloutEvaluator(game)
    result = mcts_search(game, state, evaluator, 20, rng=np.random.default_rng(0),
                         root_noise=(0.3, 0.25))
    assert result.tree.prior[0, 4] == 0 and result.tree.prior[0].sum() == pytest.approx(1)
    assert not np.allclose(result.tree.prior[0][game.legal_mask(state)], 1 / 8)


def test_search_refuses_bad_input():
    game = TicTacToe()
    evaluator = RolloutEvaluator(game)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="terminal"):
        won = game.initial_state()
        for a in (0, 3, 1, 4, 2):
            won = game.next_state(won, a)
        mcts_search(game, won, evaluator, 10, rng=rng)
    with pytest.raises(ValueError, match="n_simulations must be >= 1"):
        mcts_search(game, game.initial_state(), evaluator, 0, rng=rng)
    with pytest.raises(ValueError, match="rule must be 'uct' or 'puct'"):
        mcts_search(game, game.initial_state(), evaluator, 5, rng=rng, rule="ucb")
    with pytest.raises(ValueError, match=r"mixing \(lambda\) must be in \[0, 1\]"):
        NetworkEvaluator(game, lambda states: None, mixing=1.5)


def test_plot_search_tree_labels_each_edge_with_its_visits_and_q():
    import matplotlib.pyplot as plt

    from rlkit.plotting_games import plot_search_tree

    game = TicTacToe()
    state = game.next_state(game.next_state(game.initial_state(), 0), 4)
    result = mcts_search(game, state, RolloutEvaluator(game), 60, rng=np.random.default_rng(0),
                         rule="uct")
    figure = plot_search_tree(game, result, depth=2, branches=2)
    labels = [t.get_text() for t in figure.axes[0].texts if t.get_text().startswith("a=")]
    assert len(labels) == 2 + 4  # two edges from the root, two from each child
    best = int(np.argmax(result.visit_counts))
    first = labels[0].split("\n")
    assert first[0] == f"a={best}" and first[1] == f"N={int(result.visit_counts[best])}"
    assert first[2] == f"Q={result.q[best]:+.2f}"
    plt.close(figure)
