"""Check specs of notebook 08 (AlphaGo), first part: the pieces of Monte-Carlo tree search.

UCT's and PUCT's scores, the selection among the legal moves, AlphaGo's lambda-mixed leaf
value, the signed backup, the visit-count policy and the search itself (lecture 002, "Case:
AlphaGo"). The sign and perspective bugs that recur in every MCTS code base (a backed-up value
not negated for the player to move, a rollout's winner taken from X's view, a draw scored as a
loss, a won terminal position valued for the wrong player) are each a bug of a bank below,
caught by a unit case and named by its hint, not left to a learning run. The self-play losses
and the two learning checks are :mod:`autograder.judge.specs.alphago_selfplay`. The box
procedures are :mod:`autograder.box.procedures.alphago`; they return raw outputs, compared
here. Each ``_bug_*`` is a self-contained plausible wrong implementation with its hint;
``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

import numpy as np

from autograder.box.procedures.alphago import backup_run, search_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, register
from autograder.judge.specs.dqn import fields
from rlkit import mcts
from rlkit.games import TicTacToe

# --- uct_scores

#: a node's statistics the cases share: Q from the mover's view and N per edge
_Q = np.array([0.5, -0.5, 0.0, 0.25])
_N = np.array([3, 1, 0, 4])


def _uct_cases() -> list[Case]:
    rng = np.random.default_rng(801)
    return [
        Case("one node, an unvisited edge (its score is +inf), c = 1", args=(_Q, _N, 1.0)),
        Case("every edge visited, c = 2", args=(np.array([0.1, -0.3, 0.7]),
                                                 np.array([5, 2, 9]), 2.0)),
        Case("c = 0: the scores are Q", args=(_Q, np.array([2, 2, 1, 3]), 0.0)),
        Case("a batch of 3 nodes (n_nodes, n_actions): N(s) sums each node's own row",
             args=(rng.uniform(-1, 1, (3, 5)), rng.integers(1, 20, (3, 5)), 1.4)),
    ]


def _uct_hidden(rng: np.random.Generator) -> list[Case]:
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 10)))
    counts = rng.integers(0, 30, shape)
    counts[:, 0] = np.maximum(counts[:, 0], 1)
    return [Case("hidden: a random batch of nodes", args=(rng.uniform(-1, 1, shape), counts,
                                                           float(rng.uniform(0.5, 2.5))))]


def _bug_uct_edge_log(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=np.float64)
    scores = q + c * np.sqrt(np.log(np.maximum(counts, 1.0)) / np.maximum(counts, 1.0))
    scores[counts == 0] = np.inf
    return scores


def _bug_uct_no_sqrt(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=np.float64)
    log_total = np.log(np.maximum(counts.sum(axis=-1, keepdims=True), 1.0))
    scores = q + c * log_total / np.maximum(counts, 1.0)
    scores[counts == 0] = np.inf
    return scores


def _bug_uct_unvisited_finite(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=np.float64)
    log_total = np.log(np.maximum(counts.sum(axis=-1, keepdims=True), 1.0))
    return q + c * np.sqrt(log_total / np.maximum(counts, 1.0))


def _bug_uct_all_nodes(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=np.float64)
    scores = q + c * np.sqrt(np.log(max(counts.sum(), 1.0)) / np.maximum(counts, 1.0))
    scores[counts == 0] = np.inf
    return scores


def _bug_uct_minus(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=np.float64)
    log_total = np.log(np.maximum(counts.sum(axis=-1, keepdims=True), 1.0))
    scores = q - c * np.sqrt(log_total / np.maximum(counts, 1.0))
    scores[counts == 0] = np.inf
    return scores


UCT_SCORES = CheckSpec(
    name="alphago.uct_scores",
    function="uct_scores",
    points=1,
    reference=mcts.uct_scores,
    visible_cases=_uct_cases,
    hidden_cases=_uct_hidden,
    compare=allclose(rtol=1e-9, atol=1e-12),
    bugs=(
        Bug("log_of_edge_count", _bug_uct_edge_log,
            "The log is of the NODE's visits, N(s) = sum over its edges of N(s, a); only the "
            "denominator is the edge's N(s, a): Q + c sqrt(ln N(s) / N(s, a))."),
        Bug("no_sqrt", _bug_uct_no_sqrt,
            "UCB's bonus is a square root: c * sqrt(ln N(s) / N(s, a))."),
        Bug("unvisited_edge_finite", _bug_uct_unvisited_finite,
            "An unvisited edge (N(s, a) = 0) scores +inf, so that every move is tried once "
            "before any is tried twice."),
        Bug("sums_over_every_node", _bug_uct_all_nodes,
            "In a batch (n_nodes, n_actions), N(s) is each node's own sum: sum over the LAST "
            "axis with keepdims=True, not over the whole array."),
        Bug("bonus_subtracted", _bug_uct_minus,
            "The exploration bonus is ADDED to Q: rarely visited moves get a higher score."),
    ),
    hint="scores = q + c * sqrt(ln N(s) / N(s, a)) with N(s) = visit_counts.sum(axis=-1, "
    "keepdims=True), and +inf where N(s, a) = 0.",
)

# --- puct_scores

_P = np.array([0.1, 0.4, 0.2, 0.3])


def _puct_cases() -> list[Case]:
    rng = np.random.default_rng(802)
    prior = rng.dirichlet(np.ones(5), size=3)
    return [
        Case("a new node (no visits yet): the prior orders the moves, c_puct = 2",
             args=(np.zeros(4), np.zeros(4, dtype=np.int64), _P, 2.0)),
        Case("one node with visits, c_puct = 1.5", args=(_Q, _N, _P, 1.5)),
        Case("c_puct = 0: the scores are Q", args=(_Q, _N, _P, 0.0)),
        Case("a batch of 3 nodes (n_nodes, n_actions)",
             args=(rng.uniform(-1, 1, (3, 5)), rng.integers(0, 20, (3, 5)), prior, 1.0)),
    ]


def _puct_hidden(rng: np.random.Generator) -> list[Case]:
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 10)))
    return [Case("hidden: a random batch of nodes", args=(
        rng.uniform(-1, 1, shape), rng.integers(0, 30, shape),
        rng.dirichlet(np.ones(shape[1]), size=shape[0]), float(rng.uniform(0.5, 4.0))))]


def _bug_puct_no_one_under_root(q, visit_counts, prior, c_puct):
    counts = np.asarray(visit_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * np.sqrt(total) * prior / (1.0 + counts)


def _bug_puct_edge_count(q, visit_counts, prior, c_puct):
    counts = np.asarray(visit_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * np.sqrt(1.0 + total) * prior / np.maximum(counts, 1.0)


def _bug_puct_no_sqrt(q, visit_counts, prior, c_puct):
    counts = np.asarray(visit_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * (1.0 + total) * prior / (1.0 + counts)


def _bug_puct_no_prior(q, visit_counts, prior, c_puct):
    counts = np.asarray(visit_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * np.sqrt(1.0 + total) / (1.0 + counts)


def _bug_puct_all_nodes(q, visit_counts, prior, c_puct):
    counts = np.asarray(visit_counts, dtype=np.float64)
    return q + c_puct * np.sqrt(1.0 + counts.sum()) * prior / (1.0 + counts)


PUCT_SCORES = CheckSpec(
    name="alphago.puct_scores",
    function="puct_scores",
    points=1,
    reference=mcts.puct_scores,
    visible_cases=_puct_cases,
    hidden_cases=_puct_hidden,
    compare=allclose(rtol=1e-9, atol=1e-12),
    bugs=(
        Bug("no_one_under_the_root", _bug_puct_no_one_under_root,
            "Use sqrt(1 + sum_b N(s, b)): without the 1 a new node's bonus is 0 on every "
            "edge, and the prior cannot order its first choice."),
        Bug("divides_by_edge_count", _bug_puct_edge_count,
            "u is proportional to P / (1 + N(s, a)), the lecture's 1 + N: the first visit "
            "already halves the bonus."),
        Bug("no_sqrt", _bug_puct_no_sqrt,
            "The parent's visits enter as a square root: c_puct * P * sqrt(1 + N(s)) / "
            "(1 + N(s, a))."),
        Bug("prior_ignored", _bug_puct_no_prior,
            "Multiply the bonus by the prior P(s, a): the policy network's probabilities are "
            "what PUCT adds to UCT."),
        Bug("sums_over_every_node", _bug_puct_all_nodes,
            "In a batch (n_nodes, n_actions), N(s) is each node's own sum: sum over the LAST "
            "axis with keepdims=True."),
    ),
    hint="scores = q + c_puct * prior * sqrt(1 + N(s)) / (1 + N(s, a)), N(s) = "
    "visit_counts.sum(axis=-1, keepdims=True).",
)

# --- select_action


def _select_cases() -> list[Case]:
    legal = np.array([False, True, True, True])
    return [
        Case("the best score is on an illegal move", args=(np.array([9.0, 1.0, 3.0, 2.0]),
                                                            legal)),
        Case("a tie between two legal moves: the lowest index",
             args=(np.array([9.0, 1.0, 3.0, 3.0]), legal)),
        Case("an illegal move scores +inf (an unvisited edge of a full cell)",
             args=(np.array([np.inf, -1.0, -0.5, -2.0]), legal)),
        Case("every legal score is negative, an illegal one is 0",
             args=(np.array([0.0, -3.0, -0.5, -2.0]), legal)),
        Case("every legal score is -inf: the lowest legal move",
             args=(np.array([5.0, -np.inf, -np.inf, -np.inf]), legal)),
        Case("a batch of 3 nodes: an int array, one move per node",
             args=(np.array([[0.0, 1.0, 1.0], [-np.inf, -np.inf, 2.0], [3.0, 2.0, 1.0]]),
                   np.array([[1, 1, 1], [0, 1, 0], [0, 1, 1]], dtype=bool))),
    ]


def _select_hidden(rng: np.random.Generator) -> list[Case]:
    n_nodes, n_actions = int(rng.integers(2, 6)), int(rng.integers(3, 10))
    scores = np.round(rng.normal(size=(n_nodes, n_actions)), 1)  # ties on purpose
    legal = rng.random((n_nodes, n_actions)) < 0.6
    legal[np.arange(n_nodes), rng.integers(n_actions, size=n_nodes)] = True
    return [Case("hidden: a random batch with ties and illegal moves", args=(scores, legal))]


def _bug_select_no_mask(scores, legal_mask):
    best = np.asarray(scores).argmax(axis=-1)
    return int(best) if best.ndim == 0 else best


def _bug_select_multiplied(scores, legal_mask):
    masked = np.nan_to_num(np.asarray(scores) * legal_mask, posinf=1e300, neginf=-1e300)
    best = masked.argmax(axis=-1)
    return int(best) if best.ndim == 0 else best


def _bug_select_last_tie(scores, legal_mask):
    masked = np.where(legal_mask, scores, -np.inf)[..., ::-1]
    best = masked.shape[-1] - 1 - masked.argmax(axis=-1)
    return int(best) if best.ndim == 0 else best


def _bug_select_stuck(scores, legal_mask):
    best = np.where(legal_mask, scores, -np.inf).argmax(axis=-1)  # all -inf: index 0
    return int(best) if best.ndim == 0 else best


def _bug_select_argmin(scores, legal_mask):
    best = np.where(legal_mask, scores, np.inf).argmin(axis=-1)
    return int(best) if best.ndim == 0 else best


def _bug_select_position_among_legal(scores, legal_mask):
    scores, legal_mask = np.asarray(scores, dtype=float), np.asarray(legal_mask, dtype=bool)
    if scores.ndim == 1:  # the argmax's place in the list of legal moves, not the move
        return int(scores[legal_mask].argmax())
    return np.array([int(row[mask].argmax()) for row, mask in zip(scores, legal_mask,
                                                                       strict=True)])


SELECT_ACTION = CheckSpec(
    name="alphago.select_action",
    function="select_action",
    points=1,
    reference=mcts.select_action,
    visible_cases=_select_cases,
    hidden_cases=_select_hidden,
    compare=allclose(rtol=0, atol=0, integer=True),
    bugs=(
        Bug("ignores_the_mask", _bug_select_no_mask,
            "Never choose an illegal move, whatever its score: set the illegal scores to "
            "-inf before the argmax (np.where(legal_mask, scores, -np.inf))."),
        Bug("multiplies_by_the_mask", _bug_select_multiplied,
            "Multiplying by the mask makes an illegal score 0, which beats negative legal "
            "scores (and inf * 0 is NaN): replace the illegal scores by -inf instead."),
        Bug("ties_to_the_highest_index", _bug_select_last_tie,
            "Ties go to the LOWEST index: np.argmax returns the first of the maxima."),
        Bug("all_minus_inf_picks_illegal", _bug_select_stuck,
            "When every legal score is -inf, argmax of the masked scores is index 0, which "
            "may be illegal: return the lowest LEGAL move then."),
        Bug("position_among_the_legal_moves", _bug_select_position_among_legal,
            "Return the move's index on the board (0 .. n_actions - 1), not its place among the "
            "legal moves: scores[legal_mask].argmax() counts only the legal ones. Mask instead: "
            "np.where(legal_mask, scores, -np.inf).argmax(axis=-1)."),
        Bug("argmin", _bug_select_argmin,
            "Select the HIGHEST score (argmax), the most promising move."),
    ),
    hint="np.where(legal_mask, scores, -np.inf).argmax(axis=-1), and where a node's legal "
    "scores are all -inf its lowest legal move; an int for one node, an int array for a batch.",
)

# --- evaluate_leaf


def _leaf_cases() -> list[Case]:
    return [
        Case("lambda 0: the value network alone", args=(0.3, 1, -1, 0.0)),
        Case("lambda 1, X won the rollout, X to move: +1", args=(0.3, 1, 1, 1.0)),
        Case("lambda 1, X won the rollout, O to move: -1 (O's view)", args=(0.3, 1, -1, 1.0)),
        Case("lambda 0.5, O won the rollout, O to move", args=(-0.2, -1, -1, 0.5)),
        Case("lambda 0.5, a drawn rollout is worth 0, not a loss", args=(0.6, 0, 1, 0.5)),
        Case("lambda 0.25, a drawn rollout, O to move", args=(-0.4, 0, -1, 0.25)),
    ]


def _leaf_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden: winner {w:+d}, player {p:+d}", args=(
        float(rng.uniform(-1, 1)), w, p, float(rng.uniform(0.1, 0.9))))
        for w in (1, 0, -1) for p in (1, -1)]


def _bug_leaf_winner_as_is(network_value, rollout_winner, player, mixing):
    return (1 - mixing) * network_value + mixing * rollout_winner


def _bug_leaf_weights_swapped(network_value, rollout_winner, player, mixing):
    return mixing * network_value + (1 - mixing) * rollout_winner * player


def _bug_leaf_value_turned(network_value, rollout_winner, player, mixing):
    return (1 - mixing) * network_value * player + mixing * rollout_winner * player


def _bug_leaf_draw_lost(network_value, rollout_winner, player, mixing):
    z = rollout_winner * player if rollout_winner != 0 else -1
    return (1 - mixing) * network_value + mixing * z


def _bug_leaf_negated(network_value, rollout_winner, player, mixing):
    return -((1 - mixing) * network_value + mixing * rollout_winner * player)


EVALUATE_LEAF = CheckSpec(
    name="alphago.evaluate_leaf",
    function="evaluate_leaf",
    points=1,
    reference=mcts.evaluate_leaf,
    visible_cases=_leaf_cases,
    hidden_cases=_leaf_hidden,
    compare=allclose(rtol=1e-9, atol=1e-12),
    bugs=(
        Bug("rollout_winner_from_x_view", _bug_leaf_winner_as_is,
            "The rollout's winner is +1 for X, -1 for O; the leaf's value is from the view of "
            "its PLAYER TO MOVE: z = rollout_winner * player."),
        Bug("lambda_weights_swapped", _bug_leaf_weights_swapped,
            "lambda weighs the ROLLOUT: v = (1 - lambda) V_theta(s) + lambda z (lambda = 0: "
            "the value network alone)."),
        Bug("network_value_turned", _bug_leaf_value_turned,
            "The value network already answers from the mover's view: multiply only the "
            "rollout's winner by player."),
        Bug("draw_scored_as_loss", _bug_leaf_draw_lost,
            "A drawn rollout (winner 0) is worth 0 to both players, not -1."),
        Bug("negated", _bug_leaf_negated,
            "Return the value from the view of the player to move at the leaf; backup is the "
            "one that negates it for the edge into the leaf."),
    ),
    hint="v = (1 - mixing) * network_value + mixing * rollout_winner * player, a float.",
)

# --- backup: in place, the sign flipping each ply


def _backup_cases() -> list[Case]:
    return [
        Case("a path of 3 edges, leaf value +1: the edge into the leaf gets -1",
             run=backup_run(3, 2, [(0, 1), (1, 0), (2, 1)], 1.0)),
        Case("a path of 2 edges, leaf value 0.5", run=backup_run(2, 3, [(0, 2), (1, 0)], 0.5)),
        Case("a path of one edge (the root's child is the leaf), value -0.25",
             run=backup_run(1, 4, [(0, 3)], -0.25)),
        Case("a path of 4 edges into arrays that already hold visits, value -1",
             run=backup_run(5, 3, [(0, 0), (2, 1), (3, 2), (4, 0)], -1.0, start_seed=7)),
        Case("a draw (value 0): every edge gets a visit and W unchanged",
             run=backup_run(3, 3, [(0, 1), (1, 1), (2, 2)], 0.0, start_seed=8)),
    ]


def _backup_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for length in (int(rng.integers(2, 6)), int(rng.integers(5, 9))):
        n_nodes, n_actions = length + 2, int(rng.integers(2, 10))
        nodes = rng.permutation(n_nodes)[:length]
        path = [(int(n), int(rng.integers(n_actions))) for n in nodes]
        cases.append(Case(f"hidden: a path of {length} edges", run=backup_run(
            n_nodes, n_actions, path, float(rng.uniform(-1, 1)), int(rng.integers(1, 100)))))
    return cases


def _bug_backup_no_flip(visit_counts, total_values, path, value):
    for node, action in path:
        visit_counts[node, action] += 1
        total_values[node, action] += value


def _bug_backup_leaf_positive(visit_counts, total_values, path, value):
    sign = 1.0
    for node, action in reversed(path):
        visit_counts[node, action] += 1
        total_values[node, action] += sign * value
        sign = -sign


def _bug_backup_from_root(visit_counts, total_values, path, value):
    sign = 1.0  # the root's edge +v, then alternating: right only for odd lengths
    for node, action in path:
        visit_counts[node, action] += 1
        total_values[node, action] += sign * value
        sign = -sign


def _bug_backup_no_counts(visit_counts, total_values, path, value):
    sign = -1.0
    for node, action in reversed(path):
        total_values[node, action] += sign * value
        sign = -sign


def _bug_backup_overwrites(visit_counts, total_values, path, value):
    sign = -1.0
    for node, action in reversed(path):
        visit_counts[node, action] += 1
        total_values[node, action] = sign * value
        sign = -sign


def _bug_backup_leaf_only(visit_counts, total_values, path, value):
    for node, action in path:
        visit_counts[node, action] += 1
    node, action = path[-1]
    total_values[node, action] -= value


BACKUP = CheckSpec(
    name="alphago.backup",
    function="backup",
    points=2,
    reference=mcts.backup,
    visible_cases=_backup_cases,
    hidden_cases=_backup_hidden,
    compare=fields(allclose(rtol=1e-9, atol=1e-12)),
    in_place=True,
    bugs=(
        Bug("sign_not_flipped", _bug_backup_no_flip,
            "The backed-up value changes sign at each ply: an edge is scored from the view of "
            "the player who chose it, and the players alternate. Add -v to the edge into the "
            "leaf, +v to the one above it, and so on."),
        Bug("leaf_edge_positive", _bug_backup_leaf_positive,
            "value is from the view of the player to move AT THE LEAF; the edge into the leaf "
            "was chosen by the other player, so it gets -value (then +, -, ... upwards)."),
        Bug("signs_counted_from_the_root", _bug_backup_from_root,
            "Count the signs from the LEAF: the last edge gets -value whatever the path's "
            "length; starting at the root with +value is right only for odd lengths."),
        Bug("counts_not_updated", _bug_backup_no_counts,
            "Every edge on the path gets a visit: visit_counts[node, action] += 1."),
        Bug("total_overwritten", _bug_backup_overwrites,
            "W is a running SUM over the simulations through the edge: add to it (+=), do "
            "not overwrite it."),
        Bug("leaf_edge_only", _bug_backup_leaf_only,
            "Back the value up along the WHOLE path, root to leaf, not only into the leaf's "
            "edge."),
    ),
    hint="Walk the path from the leaf up: N[node, action] += 1 and W[node, action] += sign * "
    "value, with sign = -1 for the last edge and flipping at each step; change the two arrays "
    "in place and return nothing.",
)

# --- visit_policy


def _policy_cases() -> list[Case]:
    return [
        Case("tau = 1: proportional to the counts", args=(np.array([1, 3, 0, 4]), 1.0)),
        Case("tau = 0.5: N^2, normalised", args=(np.array([1, 3, 0, 4]), 0.5)),
        Case("tau = 2", args=(np.array([2.0, 8.0, 0.0, 18.0]), 2.0)),
        Case("tau = 0: the most visited move", args=(np.array([1, 5, 0, 4]), 0.0)),
        Case("tau = 0 and a tie: shared equally", args=(np.array([1, 4, 0, 4]), 0.0)),
        Case("tau = 0.005 with counts of 800 (a long search): N^200 overflows float64; "
             "divide by the largest count first", args=(np.array([800, 790, 10, 0]), 0.005)),
    ]


def _policy_hidden(rng: np.random.Generator) -> list[Case]:
    counts = rng.integers(0, 200, size=int(rng.integers(3, 10)))
    counts[0] += 1
    return [Case("hidden: random counts", args=(counts, float(tau)))
            for tau in (rng.uniform(0.3, 2.0), rng.uniform(0.005, 0.05))]


def _bug_policy_divided(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    scaled = counts / temperature
    return scaled / scaled.sum()


def _bug_policy_power_tau(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    scaled = counts ** temperature
    return scaled / scaled.sum()


def _bug_policy_overflow(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = counts ** (1.0 / temperature)
        return scaled / scaled.sum()


def _bug_policy_first_argmax(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        return np.eye(counts.size)[counts.argmax()]
    scaled = (counts / counts.max()) ** (1.0 / temperature)
    return scaled / scaled.sum()


def _bug_policy_softmax(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    scaled = np.exp((counts - counts.max()) / temperature)
    return scaled / scaled.sum()


VISIT_POLICY = CheckSpec(
    name="alphago.visit_policy",
    function="visit_policy",
    points=1,
    reference=mcts.visit_policy,
    visible_cases=_policy_cases,
    hidden_cases=_policy_hidden,
    compare=allclose(rtol=1e-7, atol=1e-12),
    bugs=(
        Bug("counts_divided_by_tau", _bug_policy_divided,
            "The temperature is an EXPONENT: pi(a) is proportional to N(a)^(1/tau); N / tau "
            "normalises back to N."),
        Bug("power_tau", _bug_policy_power_tau,
            "The exponent is 1/tau, not tau: a small tau must sharpen the policy towards the "
            "most visited move."),
        Bug("overflows", _bug_policy_overflow,
            "For a small tau, N^(1/tau) overflows to inf (inf / inf is NaN): divide the counts "
            "by their maximum before raising them to 1/tau; the ratios are the same."),
        Bug("tau_zero_first_argmax_only", _bug_policy_first_argmax,
            "tau -> 0 gives the most visited moves equal shares when they tie (the limit of "
            "N^(1/tau)), not all to the first."),
        Bug("softmax_of_counts", _bug_policy_softmax,
            "It is a power of the counts, N^(1/tau), not a softmax exp(N / tau)."),
    ),
    hint="tau = 0: 1 on the most visited moves (ties shared), normalised; otherwise (N / max "
    "N)^(1/tau), normalised to sum to 1.",
)

# --- mcts_search, with a scripted evaluator: the search is a function of its inputs

#: a fixed prior/value weight per cell (ScriptedEvaluator): not symmetric, so ties are rare
_WEIGHTS = (0.9, 0.3, 0.6, 0.4, 1.2, 0.5, 0.7, 0.2, 0.8)
_OPENINGS = {"the empty board": (), "X centre, O corner": (4, 0),
             "X threatens 0-1-2, O to move": (0, 3, 1),
             "a mid-game position, X to move": (4, 0, 8, 2)}


def _search_cases() -> list[Case]:
    return [
        Case("PUCT, 30 simulations from the empty board, c_puct 1.5",
             run=search_run((), _WEIGHTS, 30, "puct", 1.5)),
        Case("PUCT, 60 simulations, X threatens a row and O must move",
             run=search_run(_OPENINGS["X threatens 0-1-2, O to move"], _WEIGHTS, 60, "puct",
                            1.0)),
        Case("UCT, 50 simulations, mid-game (terminal leaves are reached and scored by the "
             "game's outcome)", run=search_run(_OPENINGS["a mid-game position, X to move"],
                                               _WEIGHTS, 50, "uct", 1.4)),
        Case("PUCT with Dirichlet root noise (alpha 0.5, 25 %), seed 3, 40 simulations",
             run=search_run(_OPENINGS["X centre, O corner"], _WEIGHTS, 40, "puct", 1.5,
                            (0.5, 0.25), 3)),
        Case("one simulation: the prior's favourite gets the visit",
             run=search_run((4,), _WEIGHTS, 1, "puct", 1.5)),
    ]


def _search_hidden(rng: np.random.Generator) -> list[Case]:
    game, cases = TicTacToe(), []
    for _ in range(2):
        state, moves = game.initial_state(), []
        for _ in range(int(rng.integers(0, 5))):
            move = int(rng.choice(game.legal_actions(state)))
            state = game.next_state(state, move)
            moves.append(move)
        if state.terminal:
            continue
        rule = str(rng.choice(["uct", "puct"]))
        cases.append(Case(f"hidden: {rule.upper()} from a random position", run=search_run(
            tuple(moves), tuple(rng.uniform(0.1, 1.0, 9)), int(rng.integers(10, 80)), rule,
            float(rng.uniform(0.8, 2.5)))))
    return cases


def _search_with(game, state, evaluator, n_simulations, *, rng, rule="puct", c=1.5,
                 root_noise=None, backup_fn=None, evaluate_leaf_fn=None):
    """The bank's own search, the way a student writes it: a bug replaces one of its pieces.

    Written here, not by calling rlkit's ``mcts_search`` with a piece replaced: that function
    is withheld in notebook 08's box, so a bank bug that called it would raise when graded (as
    a sample student's notebook) instead of behaving like the bug. One path per simulation and
    the pieces inline (the same visit counts as rlkit's batched search, draw for draw: the
    evaluator at the root first, then the noise, then once per new leaf).
    """
    def backup(visit_counts, total_values, path, value):
        sign = -1.0  # the edge into the leaf was chosen by the leaf mover's opponent
        for node, action in reversed(path):
            visit_counts[node, action] += 1
            total_values[node, action] += sign * value
            sign = -sign

    def evaluate_leaf(network_value, rollout_winner, player, mixing):
        return (1.0 - mixing) * network_value + mixing * rollout_winner * player

    backup_fn, evaluate_leaf_fn = backup_fn or backup, evaluate_leaf_fn or evaluate_leaf
    size = n_simulations + 1
    counts, totals = np.zeros((size, game.n_actions)), np.zeros((size, game.n_actions))
    states, priors, children = [state], [], {}

    def choose(node):
        n, w = counts[node], totals[node]
        q = np.divide(w, n, out=np.zeros_like(w), where=n > 0)
        best, best_score = None, -np.inf
        for a in np.flatnonzero(game.legal_mask(states[node])):
            if rule == "uct":
                score = np.inf if n[a] == 0 else q[a] + c * np.sqrt(
                    np.log(max(n.sum(), 1.0)) / n[a])
            else:
                score = q[a] + c * priors[node][a] * np.sqrt(1 + n.sum()) / (1 + n[a])
            if best is None or score > best_score:
                best, best_score = int(a), score
        return best

    prior = evaluator(state, rng).prior
    if root_noise is not None:
        prior = mcts.add_root_noise(prior, game.legal_mask(state), *root_noise, rng)
    priors.append(np.asarray(prior, dtype=float))
    for _ in range(n_simulations):
        node, path = 0, []
        while True:
            action = choose(node)
            path.append((node, action))
            child = children.get((node, action))
            if child is None:
                child_state = game.next_state(states[node], action)
                children[(node, action)] = len(states)
                states.append(child_state)
                if child_state.terminal:
                    priors.append(None)
                    value = game.outcome(child_state)
                else:
                    leaf = evaluator(child_state, rng)
                    priors.append(np.asarray(leaf.prior, dtype=float))
                    value = evaluate_leaf_fn(leaf.network_value, leaf.rollout_winner,
                                             child_state.player, evaluator.mixing)
                break
            if states[child].terminal:
                value = game.outcome(states[child])
                break
            node = child
        backup_fn(counts, totals, path, value)
    q = np.divide(totals[0], counts[0], out=np.zeros_like(totals[0]), where=counts[0] > 0)
    return mcts.SearchResult(counts[0].copy(), q, None)


def _bug_search_no_flip(game, state, evaluator, n_simulations, **kwargs):
    return _search_with(game, state, evaluator, n_simulations, backup_fn=_bug_backup_no_flip,
                        **kwargs)


def _bug_search_leaf_positive(game, state, evaluator, n_simulations, **kwargs):
    return _search_with(game, state, evaluator, n_simulations,
                        backup_fn=_bug_backup_leaf_positive, **kwargs)


def _bug_search_value_turned(game, state, evaluator, n_simulations, **kwargs):
    return _search_with(game, state, evaluator, n_simulations,
                        evaluate_leaf_fn=_bug_leaf_value_turned, **kwargs)


class _WinnerAsOutcome(TicTacToe):
    """Tic-tac-toe whose terminal value is the winner (X's view), not the mover's."""

    def outcome(self, state):  # noqa: D102 - the bug: a won position valued from X's view
        return state.winner


def _bug_search_terminal_x_view(game, state, evaluator, n_simulations, **kwargs):
    return _search_with(_WinnerAsOutcome(), state, evaluator, n_simulations, **kwargs)


def _bug_search_ignores_rule(game, state, evaluator, n_simulations, *, rule="puct", **kwargs):
    return _search_with(game, state, evaluator, n_simulations, rule="uct", **kwargs)


def _bug_search_no_noise(game, state, evaluator, n_simulations, *, root_noise=None, **kwargs):
    return _search_with(game, state, evaluator, n_simulations, **kwargs)


MCTS_SEARCH = CheckSpec(
    name="alphago.mcts_search",
    function="mcts_search",
    points=3,
    reference=mcts.mcts_search,
    visible_cases=_search_cases,
    hidden_cases=_search_hidden,
    compare=fields(allclose(rtol=1e-7, atol=1e-9)),
    bugs=(
        Bug("backup_sign_not_flipped", _bug_search_no_flip,
            "The backed-up value must change sign at each ply (your backup): each edge is "
            "scored from the view of the player who chose it."),
        Bug("leaf_edge_positive", _bug_search_leaf_positive,
            "The leaf's value is from the view of its player to move; the edge into it was "
            "chosen by the opponent and gets -value (your backup)."),
        Bug("leaf_value_turned", _bug_search_value_turned,
            "The evaluator's network_value is already from the leaf mover's view: pass it to "
            "evaluate_leaf as it is, with the leaf's player for the rollout."),
        Bug("terminal_value_from_x_view", _bug_search_terminal_x_view,
            "A terminal leaf is worth game.outcome(state), from the view of the player to move "
            "there (-1 after a win: that player has just lost), not state.winner."),
        Bug("rule_ignored", _bug_search_ignores_rule,
            "rule='puct' scores with puct_scores and the node's prior; 'uct' with uct_scores."),
        Bug("root_noise_ignored", _bug_search_no_noise,
            "With root_noise=(alpha, fraction), mix Dirichlet noise into the ROOT's prior "
            "(rlkit.mcts.add_root_noise) before the first simulation."),
    ),
    hint="Per simulation: from the root, select with your scores and select_action until an "
    "edge leads off the tree (or to a terminal state); expand it with the evaluator's prior; "
    "value it (game.outcome for a terminal state, else evaluate_leaf of the evaluator's leaf); "
    "back it up along the path. Return SearchResult(root visit counts, root Q, tree).",
    uses=("rlkit.mcts.add_root_noise",),
)

register(UCT_SCORES, PUCT_SCORES, SELECT_ACTION, EVALUATE_LEAF, BACKUP, VISIT_POLICY,
         MCTS_SEARCH)
