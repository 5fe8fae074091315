"""Correct ways of writing notebook 08's functions other than the reference's.

Each must get full marks from its own check (``tests/test_alphago_checks.py``); the searches
also from the learning checks, alone (:data:`SEARCHES`) and in AlphaZero's trainer
(:func:`agents`). A node-object search with recursion is another program than rlkit's batched
array search: its visit counts must still be the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from rlkit.mcts import SearchResult, add_root_noise

# --- uct_scores / puct_scores


def uct_loops(q, visit_counts, c):
    q, counts = np.atleast_2d(q), np.atleast_2d(visit_counts)
    out = np.empty(q.shape)
    for i in range(q.shape[0]):
        parent = max(float(np.sum(counts[i])), 1.0)
        for a in range(q.shape[1]):
            n = float(counts[i, a])
            out[i, a] = math.inf if n == 0 else q[i, a] + c * math.sqrt(math.log(parent) / n)
    return out.reshape(np.shape(visit_counts))


def uct_divide_where(q, visit_counts, c):
    counts = np.asarray(visit_counts, dtype=float)
    parent = np.log(np.clip(counts.sum(-1, keepdims=True), 1, None))
    ratio = np.divide(parent, counts, out=np.zeros_like(counts), where=counts > 0)
    scores = q + c * np.sqrt(ratio)
    scores[counts == 0] = np.inf
    return scores


def puct_loops(q, visit_counts, prior, c_puct):
    q, counts, prior = np.atleast_2d(q), np.atleast_2d(visit_counts), np.atleast_2d(prior)
    out = np.empty(q.shape)
    for i in range(q.shape[0]):
        root = math.sqrt(1 + sum(float(n) for n in counts[i]))
        for a in range(q.shape[1]):
            out[i, a] = q[i, a] + c_puct * prior[i, a] * root / (1 + counts[i, a])
    return out.reshape(np.shape(visit_counts))


def puct_float32(q, visit_counts, prior, c_puct):
    counts = torch.as_tensor(np.asarray(visit_counts), dtype=torch.float32)
    u = c_puct * torch.as_tensor(np.asarray(prior), dtype=torch.float32) * torch.sqrt(
        1 + counts.sum(-1, keepdim=True)) / (1 + counts)
    return (torch.as_tensor(np.asarray(q), dtype=torch.float32) + u).numpy()


# --- select_action


def select_loops(scores, legal_mask):
    one_node = np.ndim(scores) == 1
    chosen = []
    for row, ok in zip(np.atleast_2d(scores), np.atleast_2d(legal_mask), strict=True):
        best, best_score = None, None
        for a in range(len(row)):
            if ok[a] and (best is None or row[a] > best_score):
                best, best_score = a, row[a]
        chosen.append(best)
    return chosen[0] if one_node else np.array(chosen)


def select_sorted(scores, legal_mask):
    scores = np.asarray(scores, dtype=float)
    legal = np.asarray(legal_mask, dtype=bool)
    keys = np.where(legal, scores, -np.inf)
    # lexsort: by score (descending), then legality, then index: the first is the choice
    order = np.lexsort((np.arange(keys.shape[-1]) + np.zeros_like(keys), ~legal, -keys),
                       axis=-1)
    best = order[..., 0]
    return int(best) if best.ndim == 0 else best


# --- evaluate_leaf / backup / visit_policy


def leaf_branches(network_value, rollout_winner, player, mixing):
    if rollout_winner == 0:
        z = 0.0
    else:
        z = 1.0 if rollout_winner == player else -1.0
    return network_value + mixing * (z - network_value)


def backup_powers(visit_counts, total_values, path, value):
    length = len(path)
    for i, (node, action) in enumerate(path):
        visit_counts[node][action] += 1
        total_values[node][action] += (-1) ** (length - i) * value


def backup_recursive(visit_counts, total_values, path, value):
    def add(edges, signed_value):  # the last edge gets -value, then the sign flips upwards
        if edges:
            node, action = edges[-1]
            visit_counts[node, action] += 1
            total_values[node, action] -= signed_value
            add(edges[:-1], -signed_value)

    add(list(path), value)


def policy_log_space(visit_counts, temperature):
    counts = np.asarray(visit_counts, dtype=float)
    if temperature == 0:
        best = np.flatnonzero(counts == counts.max())
        out = np.zeros_like(counts)
        out[best] = 1 / len(best)
        return out
    with np.errstate(divide="ignore"):
        logits = np.log(counts) / temperature
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


# --- the search, as node objects and recursion


def search_nodes(game, state, evaluator, n_simulations, *, rng, rule="puct", c=1.5,
                 root_noise=None):
    """MCTS with a dict per node and a recursive simulation (returns the value for the mover).

    Self-contained (its scores and selection written inline, numpy only: a nested function's
    modules are not seen by the bench that writes it into a notebook), so that it can stand in
    a notebook in place of the student's ``mcts_search``.
    """
    def new_node(node_state, prior):
        return {"state": node_state, "prior": prior, "n": np.zeros(game.n_actions),
                "w": np.zeros(game.n_actions), "children": {}}

    def choose(node):
        n, w = node["n"], node["w"]
        q = np.divide(w, n, out=np.zeros_like(w), where=n > 0)
        legal = game.legal_mask(node["state"])
        best, best_score = None, -np.inf
        for a in np.flatnonzero(legal):
            if rule == "uct":
                score = np.inf if n[a] == 0 else q[a] + c * np.sqrt(
                    np.log(max(n.sum(), 1.0)) / n[a])
            else:
                score = q[a] + c * node["prior"][a] * np.sqrt(1 + n.sum()) / (1 + n[a])
            if best is None or score > best_score:
                best, best_score = int(a), score
        return best

    def simulate(node):  # the value of node's state for its player to move
        action = choose(node)
        child = node["children"].get(action)
        if child is None:
            next_state = game.next_state(node["state"], action)
            if next_state.terminal:
                node["children"][action] = new_node(next_state, None)
                value = game.outcome(next_state)
            else:
                leaf = evaluator(next_state, rng)
                node["children"][action] = new_node(next_state, np.asarray(leaf.prior))
                z = leaf.rollout_winner * next_state.player
                value = leaf.network_value + evaluator.mixing * (z - leaf.network_value)
        elif child["state"].terminal:
            value = game.outcome(child["state"])
        else:
            value = simulate(child)
        node["n"][action] += 1
        node["w"][action] -= value  # the edge is the mover's; the child's value the opponent's
        return -value

    prior = evaluator(state, rng).prior
    if root_noise is not None:
        prior = add_root_noise(prior, game.legal_mask(state), *root_noise, rng)
    root = new_node(state, np.asarray(prior, dtype=float))
    for _ in range(n_simulations):
        simulate(root)
    q = np.divide(root["w"], root["n"], out=np.zeros_like(root["w"]), where=root["n"] > 0)
    return SearchResult(root["n"].copy(), q, root)


# --- value_targets, selfplay_pg_loss, alphazero_loss


def targets_loop(winner, players):
    return np.array([0.0 if winner == 0 else (1.0 if p == winner else -1.0) for p in players])


def pg_sum_over_len(log_probs, outcomes):
    return -torch.sum(log_probs * outcomes) / len(outcomes)


def az_logsumexp(logits, values, target_policies, target_values, legal_mask):
    logits64 = logits.double().masked_fill(~legal_mask, -math.inf)
    log_norm = torch.logsumexp(logits64, dim=-1, keepdim=True)
    picked = torch.where(legal_mask, logits64 - log_norm, torch.zeros_like(logits64))
    policy = -(target_policies.double() * picked).sum(-1).mean()
    return (F.mse_loss(values.double(), target_values.double()) + policy).float()


def az_loop(logits, values, target_policies, target_values, legal_mask):
    total = 0.0
    for i in range(logits.shape[0]):
        legal = torch.nonzero(legal_mask[i]).flatten()
        log_p = torch.log_softmax(logits[i, legal], dim=0)
        total = total + (target_values[i] - values[i]) ** 2 - (target_policies[i, legal]
                                                              * log_p).sum()
    return total / logits.shape[0]


#: function name -> correct variants (each also passes its own check)
VARIANTS: dict[str, list[Callable]] = {
    "uct_scores": [uct_loops, uct_divide_where],
    "puct_scores": [puct_loops, puct_float32],
    "select_action": [select_loops, select_sorted],
    "evaluate_leaf": [leaf_branches],
    "backup": [backup_powers, backup_recursive],
    "visit_policy": [policy_log_space],
    "mcts_search": [search_nodes],
    "value_targets": [targets_loop],
    "selfplay_pg_loss": [pg_sum_over_len],
    "alphazero_loss": [az_logsumexp, az_loop],
}


def agents(reference: dict[str, Callable]) -> list[dict[str, Callable]]:
    """AlphaZero agents for the learning check: the reference with one or all pieces replaced."""
    out = [{**reference, "mcts_search": search_nodes},
           {**reference, "value_targets": targets_loop, "visit_policy": policy_log_space,
            "alphazero_loss": az_logsumexp},
           {"mcts_search": search_nodes, "value_targets": targets_loop,
            "visit_policy": policy_log_space, "alphazero_loss": az_loop}]
    return out
