# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · AlphaGo: policy networks, a value network and Monte-Carlo tree search
#
# This notebook follows the second half of lecture 002 (*Lecture 18: Reinforcement Learning*),
# from slide "Case: AlphaGo" to the four steps of Monte-Carlo tree search (MCTS), and ends where AlphaGo's successor, AlphaZero, went: one
# network trained by self-play with search. Go is far too big for a laptop; **tic-tac-toe** is
# not, and it is *solved exactly* in about a second. So every figure here is exact: the share
# of positions where a player's move is optimal, the number of opponent lines it loses
# (against every possible sequence of opponent moves), the exact value of a policy. Nothing is
# judged by a handful of sampled games.
#
# | you write | lecture object |
# |---|---|
# | `value_targets` | $z_t$: a game's outcome from the view of the player to move at step $t$ |
# | `selfplay_pg_loss` | the RL policy's update $\rho \leftarrow \rho + \eta \nabla_\rho \log p_\rho(a \mid s)\, z$ |
# | `uct_scores`, `puct_scores` | selection: $Q + c\sqrt{\ln N(s) / N(s,a)}$ and $Q + u(P)$, $u \propto P / (1 + N)$ |
# | `select_action` | the legal move with the highest score |
# | `evaluate_leaf` | evaluation: $v = (1-\lambda) V_\theta(s) + \lambda z_\text{rollout}$, from the mover's view |
# | `backup` | backup: $N \mathrel{+}= 1$, $W \mathrel{+}= \pm v$, the sign flipping each ply |
# | `visit_policy` | the move from the root's visit counts, $\pi(a) \propto N(a)^{1/\tau}$ |
# | `mcts_search` | the four steps together |
# | `alphazero_loss` | AlphaZero's $(z - v)^2 - \pi^\top \log p$ over the legal moves |
#
# **Conventions** (rlkit's glossary). Player `+1` (X) moves first, `-1` (O) second. **Every
# value is from the view of the player to move**: $V(s) = +1$ means the player about to move in
# $s$ wins with best play. Most MCTS bugs in the wild are sign and perspective bugs against
# this convention; the checks name each one.
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then the check below it. A
# check prints `✓` when all its cases pass; otherwise it names the failing case, shows expected
# vs. got, and gives a hint. The grader adds hidden cases, so do not special-case the visible
# ones. Keep every name and signature.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import plotting_games
from rlkit.agents import alphago, alphazero
from rlkit.agents.selfplay import evaluate_player, masked_log_softmax
from rlkit.games import TicTacToe, solve
from rlkit.mcts import (
    RolloutEvaluator,
    SearchResult,
    Tree,
    add_root_noise,
)

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. The game, its exact solution, and how to measure a player
#
# A `GameState` is immutable: `board` (9 cells, row-major, `+1` X, `-1` O, `0` empty),
# `player` (to move), `winner` and `terminal`. `game.next_state(state, action)` plays a move;
# `game.legal_mask(state)` says which cells are empty; `game.outcome(state)` of a finished game
# is from the view of the player to move there (`-1` after a win: that player has just lost).
#
# `solve(game)` walks every reachable state and computes $V^*(s)$ and $Q^*(s, a) = -V^*(s')$
# by minimax. Note the minus sign: the next state belongs to the opponent.

# %%
game = TicTacToe()
solution = solve(game)
print(f"{len(solution.states)} states, {len(solution.positions)} positions to move in, "
      f"{len(solution.critical)} critical ones (where some move changes the outcome)")
print("V* of the empty board:", solution.value(game.initial_state()), "(a draw)")

state = game.initial_state()
for move in (0, 4, 8):
    state = game.next_state(state, move)
print(game.render(state))
print("O to move; Q* of each empty cell from O's view:")
print(solution.q[solution.index[state]].reshape(3, 3))

# %% [markdown]
# AlphaGo was measured by games against other programs and professionals: each game is one
# sample of a noisy outcome, and a player that loses one line in a thousand rarely shows it.
# On a solved game we measure a deterministic player **exactly**: `evaluate_player` asks it for
# its move in every position and gives the share of optimal moves (over all positions and over
# the critical ones) and the number of opponent lines, over *every* possible sequence of
# opponent moves, that it loses as X and as O. A random player, and a player that takes the
# first empty cell, for scale:

# %%
if not is_nbgrader():  # a measurement: skipped while grading
    first_empty = lambda s: int(np.flatnonzero(game.legal_mask(s))[0])  # noqa: E731
    print("first empty cell:", evaluate_player(solution, first_empty))
    print("the solver itself:",
          evaluate_player(solution, lambda s: solution.optimal_actions(s)[0]))

# %% [markdown]
# ## 2. The SL policy network: imitating a flawed expert
#
# AlphaGo's first network learns to predict the moves of human experts, 30 million positions,
# by maximum likelihood, $\sigma \leftarrow \sigma + \eta \nabla_\sigma \log p_\sigma(a \mid
# s)$; it predicted 57 % of held-out expert moves. Our "expert" plays an optimal move, except
# that a quarter of its moves are random: the data is good but not perfect, like KGS games.
# `rlkit.agents.alphago.train` runs AlphaGo's three stages; the SL stage is plain
# classification (cross-entropy over the legal moves), so you write the two pieces that are
# particular to self-play first (section 3) and run the three stages together after them.

# %%
rng = np.random.default_rng(0)
games = alphago.expert_games(solution, 3, error=0.25, rng=rng)
for positions, moves in games:
    optimal = [move in solution.optimal_actions(s)
               for s, move in zip(positions, moves, strict=True)]
    print("expert's moves:", moves, " optimal:", "".join("✓" if o else "✗" for o in optimal))

# %% [markdown]
# ## 3. The RL policy: policy gradient by self-play, with the outcome $z$
#
# The RL policy network starts from the SL one and plays games against an earlier version of
# itself (drawn from a pool, so it does not overfit to its current self). After a game, every
# move the learner made is pushed up or down by the game's outcome $z$, from the learner's
# view: the lecture's $\rho \leftarrow \rho + \eta \nabla_\rho \log p_\rho(a \mid s)\, z$.
#
# First the outcome. Write `value_targets(winner, players)`: for a finished game with winner
# `+1`, `-1` or `0` (a draw), and the player to move at each recorded position, return
# $z_t = \text{winner} \cdot \text{player}_t$ as a float array: $+1$ where the player to move
# went on to win, $-1$ where they lost, and $0$ for **both** players after a draw. The same
# targets train the value network (section 4) and AlphaZero (section 6).

# %% tags=["solution"]
def value_targets(winner, players):
    """Return z_t = winner * players[t], float64, one target per recorded position."""
    ### BEGIN SOLUTION
    return float(winner) * np.asarray(players, dtype=np.float64)
    ### END SOLUTION


# %% tags=["check"]
check("alphago.value_targets")

# %% [markdown]
# Write `selfplay_pg_loss(log_probs, outcomes)`: the loss whose gradient step is the lecture's
# update averaged over the learner's moves, $L(\rho) = -\frac1T \sum_t \log p_\rho(a_t \mid
# s_t)\, z_t$ (a scalar tensor; `outcomes` are constants).

# %% tags=["solution"]
def selfplay_pg_loss(log_probs, outcomes):
    """Return -mean(log_probs * outcomes)."""
    ### BEGIN SOLUTION
    return -(log_probs * outcomes.detach()).mean()
    ### END SOLUTION


# %% tags=["check"]
check("alphago.selfplay_pg_loss")

# %% [markdown]
# Now the three stages, with your two functions: the SL policy on the expert's games, the RL
# policy by self-play against the pool, and the value network (section 4). About 10 s.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a training run and its figures: skipped while grading
        history = alphago.train(alphago.AlphaGoConfig(), seed=0, solution=solution,
                                pg_loss_fn=selfplay_pg_loss, value_targets_fn=value_targets,
                                progress=True)
        print(f"SL policy: predicts {100 * history.sl_accuracy:.1f} % of the held-out expert "
              f"moves (AlphaGo: 57 %); its top move is optimal in "
              f"{100 * history.sl_optimal_rate:.1f} % of all positions")
        print(f"RL policy: optimal in {100 * history.rl_optimal_rate:.1f} % of all positions; its "
              f"exact expected outcome against the SL policy: {history.rl_vs_sl:+.3f} "
              "(AlphaGo: won 80 % of its games against SL)")
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot(history.rl_scores)
        ax.set_xlabel("RL iteration")
        ax.set_ylabel("mean outcome z of the learner")
        ax.set_title("Self-play against the pool")
        plt.show()

# %% [markdown]
# Two figures for the SL policy, and they say different things. Its **move accuracy** (the
# lecture's 57 % for AlphaGo) is capped by the data: the expert picks uniformly among several
# optimal moves and plays a random move a quarter of the time, and no network can predict a
# coin. Its **optimal-move rate** is what matters for play: the network learns the expert's
# *average* choice in each position, the random quarter averages out, and the student ends up
# a cleaner player than its teacher's moves suggest.
#
# ## 4. The value network: regression on self-play outcomes
#
# AlphaGo's value network regresses the outcome of self-play games of the RL policy on their
# positions, $L = \|z - V_\theta(s)\|^2$ (one position per game, to keep the samples
# independent). So it learns $V^{p_\rho}$, the value of the **RL policy playing itself**, not
# $V^*$. On tic-tac-toe we have both exactly: `solution.policy_values(probs)` is the exact
# value of a stochastic policy in every state.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a figure of the run above: skipped while grading
        predicted = history.values()[solution.positions]
        exact_optimal = solution.values[solution.positions]
        print(f"value network: RMS error {history.value_rmse_policy:.3f} against the RL policy's "
              f"exact self-play value, {history.value_rmse_optimal:.3f} against V*")
        fig, ax = plt.subplots(figsize=(5, 4))
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, exact_optimal.size)
        ax.scatter(exact_optimal + jitter, predicted, s=2, alpha=0.3)
        ax.set_xlabel("V* (exact, perfect play; jittered)")
        ax.set_ylabel(r"$V_\theta$ (value network)")
        ax.set_title("The value network against the solver")
        plt.show()

# %% [markdown]
# ## 5. Monte-Carlo tree search
#
# A search grows a tree from the position to move in. Each edge $(s, a)$ holds a visit count
# $N(s, a)$, a total value $W(s, a)$ and the mean $Q = W / N$, **from the view of the player to
# move in $s$** (`rlkit.mcts.Tree` holds them as arrays, one row per node). One simulation:
#
# 1. **Selection**: from the root, take the legal move with the highest score until an edge
#    leads off the tree (or into a finished game);
# 2. **Expansion**: add the new state as a node, its edges' priors $P$ from the policy network;
# 3. **Evaluation**: value the new leaf, by the value network and/or a rollout;
# 4. **Backup**: add the value to every edge on the path, with the sign of the player who
#    chose that edge.
#
# **Selection.** UCT (UCB1 applied to trees) needs no network: $\text{score}(s, a) = Q(s, a) +
# c\sqrt{\ln N(s) / N(s, a)}$ with $N(s) = \sum_b N(s, b)$, and $+\infty$ for an unvisited edge.
# Write `uct_scores(q, visit_counts, c)`. It must also work on a batch of nodes, arrays of
# shape `(n_nodes, n_actions)` (sum over the last axis).

# %% tags=["solution"]
def uct_scores(q, visit_counts, c):
    """Return Q + c sqrt(ln N(s) / N(s, a)), +inf where N(s, a) = 0; float64."""
    ### BEGIN SOLUTION
    counts = np.asarray(visit_counts, dtype=np.float64)
    parent = np.maximum(counts.sum(axis=-1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # N(s, a) = 0: replaced below
        bonus = c * np.sqrt(np.log(parent) / counts)
    return np.where(counts == 0, np.inf, q + bonus)
    ### END SOLUTION


# %% tags=["check"]
check("alphago.uct_scores")

# %% [markdown]
# AlphaGo's selection adds the policy network's prior: $\text{score} = Q + u$ with
# $u(s, a) = c_\text{puct}\, P(s, a) \frac{\sqrt{1 + \sum_b N(s, b)}}{1 + N(s, a)}$: the lecture's
# $u \propto P / (1 + N)$ (the $1+$ under the root lets the prior order the first choice of a
# new node). Write `puct_scores(q, visit_counts, prior, c_puct)` (one node or a batch).

# %% tags=["solution"]
def puct_scores(q, visit_counts, prior, c_puct):
    """Return Q + c_puct * P * sqrt(1 + N(s)) / (1 + N(s, a)); float64."""
    ### BEGIN SOLUTION
    counts = np.asarray(visit_counts, dtype=np.float64)
    parent = counts.sum(axis=-1, keepdims=True)
    return q + c_puct * np.asarray(prior) * np.sqrt(1.0 + parent) / (1.0 + counts)
    ### END SOLUTION


# %% tags=["check"]
check("alphago.puct_scores")

# %% [markdown]
# Write `select_action(scores, legal_mask)`: the legal move with the highest score, never an
# illegal one whatever its score, ties to the lowest index; if every legal score is
# $-\infty$, the lowest legal move. One node (`(n_actions,)`, return an `int`) or a batch
# (`(n_nodes, n_actions)`, return an int array).

# %% tags=["solution"]
def select_action(scores, legal_mask):
    """Return the highest-scoring legal action per node (ties: lowest index)."""
    ### BEGIN SOLUTION
    legal = np.asarray(legal_mask, dtype=bool)
    masked = np.where(legal, scores, -np.inf)
    best = masked.argmax(axis=-1)
    stuck = np.isneginf(masked.max(axis=-1))
    best = np.where(stuck, legal.argmax(axis=-1), best)
    return int(best) if best.ndim == 0 else best
    ### END SOLUTION


# %% tags=["check"]
check("alphago.select_action")

# %% [markdown]
# **Evaluation.** AlphaGo valued a leaf by both its value network and a fast rollout, mixed by
# $\lambda$: $v = (1 - \lambda) V_\theta(s) + \lambda z$. The network answers from the view of
# the leaf's player to move already; a rollout ends with a *winner* (`+1` X, `-1` O, `0` draw),
# which you turn to the mover's view: $z = \text{winner} \cdot \text{player}$. Write
# `evaluate_leaf(network_value, rollout_winner, player, mixing)` (a float).

# %% tags=["solution"]
def evaluate_leaf(network_value, rollout_winner, player, mixing):
    """Return (1 - mixing) * network_value + mixing * rollout_winner * player."""
    ### BEGIN SOLUTION
    return (1.0 - mixing) * float(network_value) + mixing * float(rollout_winner * player)
    ### END SOLUTION


# %% tags=["check"]
check("alphago.evaluate_leaf")

# %% [markdown]
# **Backup.** `path` lists the edges `(node, action)` from the root down to the leaf, and
# `value` is the leaf's value from the view of *its* player to move. The edge into the leaf was
# chosen by the other player, so it gets $-v$; the edge above it $+v$, and so on: the sign
# flips at each ply. Every edge also gets a visit. Write `backup(visit_counts, total_values,
# path, value)`, changing the two `(n_nodes, n_actions)` arrays **in place** (return nothing).

# %% tags=["solution"]
def backup(visit_counts, total_values, path, value):
    """Add one simulation's value to the edges of ``path``, in place, -v on the last edge."""
    ### BEGIN SOLUTION
    for depth, (node, action) in enumerate(path):
        plies_above_leaf = len(path) - depth
        visit_counts[node, action] += 1
        total_values[node, action] += value if plies_above_leaf % 2 == 0 else -value
    ### END SOLUTION


# %% tags=["check"]
check("alphago.backup")

# %% [markdown]
# **The move.** After the search, the root's visit counts give the move probabilities
# $\pi(a) \propto N(a)^{1/\tau}$: $\tau = 1$ follows the counts (self-play's exploration),
# $\tau \to 0$ the most visited move. Write `visit_policy(visit_counts, temperature)`; at
# `temperature=0` return the limit (the most visited moves share the probability equally).
# For a small $\tau$, $N^{1/\tau}$ overflows: divide the counts by their maximum first.

# %% tags=["solution"]
def visit_policy(visit_counts, temperature):
    """Return pi(a) proportional to N(a)^(1/temperature) (temperature 0: the argmax)."""
    ### BEGIN SOLUTION
    counts = np.asarray(visit_counts, dtype=np.float64)
    if temperature == 0:
        best = (counts == counts.max()).astype(np.float64)
        return best / best.sum()
    scaled = np.power(counts / counts.max(), 1.0 / temperature)
    return scaled / scaled.sum()
    ### END SOLUTION


# %% tags=["check"]
check("alphago.visit_policy")

# %% [markdown]
# **The search.** Put the four steps together in `mcts_search(game, state, evaluator,
# n_simulations, *, rng, rule="puct", c=1.5, root_noise=None)`, with your functions above:
#
# - `tree = Tree(n_simulations + 1, game.n_actions)` (each simulation adds at most one node);
#   `tree.add(game, state, prior)` adds a node and returns its index (`prior=None` for a
#   finished game); `tree.visit_counts`, `tree.total_values`, `tree.prior`, `tree.children`
#   (`-1` until expanded), `tree.legal` and `tree.states` are indexed by node; `tree.q(node)`
#   is $Q = W / N$ of a node's edges;
# - `evaluator(state, rng)` gives a `Leaf(prior, network_value, rollout_winner)`; the root's
#   prior comes from it too, mixed with Dirichlet noise when `root_noise=(alpha, fraction)` is
#   given (`add_root_noise(prior, legal_mask, alpha, fraction, rng)`); `evaluator.mixing` is
#   the $\lambda$ for `evaluate_leaf`;
# - select with `uct_scores` (`rule="uct"`, ignoring the prior) or `puct_scores`; an edge into
#   a finished game is worth `game.outcome(...)` of that state (also when it is reached again);
# - return `SearchResult(visit_counts of the root (a copy), tree.q(0), tree)`.

# %% tags=["solution"]
def mcts_search(game, state, evaluator, n_simulations, *, rng, rule="puct", c=1.5,
                root_noise=None):
    """Run n_simulations of MCTS from state; return SearchResult(N(root), Q(root), tree)."""
    ### BEGIN SOLUTION
    tree = Tree(n_simulations + 1, game.n_actions)
    prior = evaluator(state, rng).prior
    if root_noise is not None:
        prior = add_root_noise(prior, game.legal_mask(state), *root_noise, rng)
    tree.add(game, state, prior)
    for _ in range(n_simulations):
        node, path = 0, []
        while True:  # 1. selection
            counts = tree.visit_counts[node]
            if rule == "uct":
                scores = uct_scores(tree.q(node), counts, c)
            else:
                scores = puct_scores(tree.q(node), counts, tree.prior[node], c)
            action = select_action(scores, tree.legal[node])
            path.append((node, action))
            child = int(tree.children[node, action])
            if child < 0 or tree.states[child].terminal:
                break
            node = child
        if child >= 0:  # a finished game reached again
            value = game.outcome(tree.states[child])
        else:  # 2. expansion and 3. evaluation
            new_state = game.next_state(tree.states[node], action)
            if new_state.terminal:
                tree.children[node, action] = tree.add(game, new_state, None)
                value = game.outcome(new_state)
            else:
                leaf = evaluator(new_state, rng)
                tree.children[node, action] = tree.add(game, new_state, leaf.prior)
                value = evaluate_leaf(leaf.network_value, leaf.rollout_winner,
                                      new_state.player, evaluator.mixing)
        backup(tree.visit_counts, tree.total_values, path, value)  # 4. backup
    return SearchResult(tree.visit_counts[0].copy(), tree.q(0), tree)
    ### END SOLUTION


# %% tags=["check"]
check("alphago.mcts_search")

# %% [markdown]
# UCT with random rollouts, no network at all: X threatens the middle column, and O's one move
# that does not lose is the block at 1.
# The tree below is the most visited part of **your** search: $N$ and $Q$ on each edge, $Q$
# from the view of the player who chose the edge.

# %%
with skip_if_unwritten():
    state = game.initial_state()
    for move in (4, 6, 7):
        state = game.next_state(state, move)
    result = mcts_search(game, state, RolloutEvaluator(game), 200,
                         rng=np.random.default_rng(0), rule="uct", c=1.5)
    print(game.render(state))
    print("visits:", result.visit_counts.astype(int), " most visited:",
          int(np.argmax(result.visit_counts)), " solver:", solution.optimal_actions(state))
    if not is_nbgrader():  # a figure: skipped while grading
        plotting_games.plot_search_tree(game, result, depth=2, branches=3)
        plt.show()

# %% [markdown]
# The first learning check: your search in 8 positions with a win in one and 8 where one move
# blocks the opponent's line. The grader compares its most visited move with the solver's.

# %% tags=["check"]
check("alphago.search_finds_moves")

# %% [markdown]
# **Play quality against simulations, and AlphaGo's $\lambda$.** On the critical positions
# (where a move changes the outcome), the share where the most visited move is optimal, for
# UCT with rollouts and for PUCT with the SL policy's prior and the value network (the
# AlphaGo run of section 2), as the search gets longer; then the $\lambda$ sweep of AlphaGo's
# mixed evaluation at a fixed budget. About 40 s.

# %%
def search_player(evaluator, n_simulations, rule):
    """The most visited move of your search, one fixed seed per position."""
    def play(s):
        found = mcts_search(game, s, evaluator, n_simulations,
                            rng=np.random.default_rng(0), rule=rule, c=1.5)
        return int(np.argmax(found.visit_counts))
    return play


def critical_rate(player, n_positions=300):
    """The share of a fixed sample of critical positions where ``player``'s move is optimal."""
    rows = np.random.default_rng(1).choice(solution.critical, n_positions, replace=False)
    moves = [player(solution.states[i]) for i in rows]
    return float(solution.is_optimal(rows, moves).mean())


with skip_if_unwritten():
    if not is_nbgrader():  # measurements and figures: skipped while grading
        simulations = (4, 16, 64)
        rates = {"UCT, rollouts": [critical_rate(search_player(RolloutEvaluator(game), n, "uct"))
                                   for n in simulations],
                 "PUCT, SL prior + value net": [
                     critical_rate(search_player(history.evaluator(mixing=0.0), n, "puct"))
                     for n in simulations]}
        plotting_games.plot_quality_vs_simulations(simulations, rates)
        plt.show()
        mixings = (0.0, 0.5, 1.0)
        sweep = {"16 simulations": [critical_rate(search_player(history.evaluator(mixing=m), 16,
                                                                "puct")) for m in mixings]}
        plotting_games.plot_lambda_sweep(mixings, sweep)
        plt.show()

# %% [markdown]
# ## 6. AlphaZero: one network, trained by its own search
#
# AlphaZero drops the expert data, the rollouts and the separate networks: one network
# $f_\theta(s) = (p, v)$ gives the prior and the leaf value; self-play games are played with
# search (PUCT, Dirichlet noise at the root, moves drawn from `visit_policy`); each position
# is stored with the search's visit distribution $\pi$ and the game's outcome $z$ from its
# mover's view (your `value_targets`). The network then minimises
# $$L = \frac1B \sum_t (z_t - v_t)^2 - \frac1B \sum_t \sum_{a \text{ legal}} \pi_t(a) \log
# p_\theta(a \mid s_t):$$
# the search is a policy-improvement operator, and the network learns to predict what it found.
#
# Write `alphazero_loss(logits, values, target_policies, target_values, legal_mask)`: the log
# of the policy is a log-softmax over the **legal** moves only (`masked_log_softmax(logits,
# legal_mask)` puts $-\infty$ on the illegal ones); leave the illegal moves out of the sum
# (their target is 0, and $0 \cdot (-\infty)$ is NaN). A scalar tensor.

# %% tags=["solution"]
def alphazero_loss(logits, values, target_policies, target_values, legal_mask):
    """Return mean((z - v)^2) - mean(sum over legal a of pi(a) log p(a))."""
    ### BEGIN SOLUTION
    log_probs = masked_log_softmax(logits, legal_mask)
    cross_entropy = -torch.where(legal_mask, target_policies * log_probs,
                                 torch.zeros_like(log_probs)).sum(dim=-1)
    return ((target_values - values) ** 2).mean() + cross_entropy.mean()
    ### END SOLUTION


# %% tags=["check"]
check("alphago.alphazero_loss")

# %% [markdown]
# Your search, visit policy, targets and loss in rlkit's AlphaZero trainer: self-play with
# 25 simulations per move, evaluated exactly every 100 games; your value targets alone teach
# the value head (rlkit's defaults also mix in the search's root value). About 40 s.

# %%
YOUR_ALPHAZERO_PIECES = {"search_fn": mcts_search, "visit_policy_fn": visit_policy,
                         "value_targets_fn": value_targets, "loss_fn": alphazero_loss}
with skip_if_unwritten():
    if not is_nbgrader():  # a training run: skipped while grading
        az_config = alphazero.AlphaZeroConfig(n_games=400, noise_fraction=0.4,
                                              updates_per_round=20, value_target_mix=0.0)
        az_history = alphazero.train(az_config, seed=0, solution=solution, progress=True,
                                     **YOUR_ALPHAZERO_PIECES)
        print("raw network:", az_history.evaluations[-1])
        plotting_games.plot_game_learning_curve(az_history)
        plt.show()

# %% [markdown]
# The second learning check: a short seeded AlphaZero run with your pieces; the grader
# measures the raw network's moves in every position against the solver.

# %% tags=["check"]
check("alphago.alphazero_learns")

# %% [markdown]
# ## 7. Play against your agent
#
# Set `PLAY = True` and run the cell: you are X, type a cell number 0-8 (row by row) at each
# move; your AlphaZero network with 25 simulations of your search answers. (`python -m rlkit
# play tictactoe` does the same in a terminal.)

# %%
PLAY = False
with skip_if_unwritten():
    if PLAY and not is_nbgrader():
        agent = alphazero.search_player(game, az_history.predict, 25, search_fn=mcts_search)
        state = game.initial_state()
        while not state.terminal:
            print(game.render(state))
            if state.player == 1:
                move = int(input(f"your move {game.legal_actions(state)}: "))
                if move not in game.legal_actions(state):
                    print("not a legal move")
                    continue
            else:
                move = agent(state)
                print("agent plays", move)
            state = game.next_state(state, move)
        winner = {1: "you", -1: "the agent", 0: "nobody"}[state.winner]
        print(game.render(state), "\nwinner:", winner)

# %% [markdown]
# ## 8. Written answers (graded by hand)
#
# **Question 1 (2 points).** Why does the backed-up value change sign at each ply? Say what
# would go wrong in the search of section 5 if `backup` added $+v$ to every edge.

# %% [markdown] tags=["written"] grade_id="written_backup_sign" points=2
# ### BEGIN SOLUTION
# *Model answer.* Tic-tac-toe (like Go) is a two-player zero-sum game with alternating moves:
# a position worth $v$ to the player to move is worth $-v$ to the opponent. Each edge's $Q$ is
# read by the player who chooses it (selection takes the argmax at every node, for whichever
# player moves there), so it must be from that player's view; along a path the choosers
# alternate, so the leaf's value enters with $-v$ on the edge into the leaf, $+v$ one ply
# up, and so on. With $+v$ everywhere, half the nodes would maximise their opponent's value:
# the search would steer towards the moves that help the opponent (it plays to lose on every
# other ply), so it misses wins in one and forced blocks, as the first learning check shows.
#
# *Rubric (2 points).* 1 point: zero-sum and alternating, so a value for one player is its
# negative for the other, and each edge is scored for the player who chooses it. 1 point:
# without the flip, the players at alternate depths optimise the wrong side's value (the
# search picks moves good for the opponent / misses wins and blocks).
# ### END SOLUTION

# %% [markdown]
# **Question 2 (2 points).** AlphaGo's search used the **SL** policy as its prior, although the
# RL policy beat the SL policy in 80 % of games. Why was the SL policy the better prior? Use
# what section 3 showed of the RL policy on tic-tac-toe.

# %% [markdown] tags=["written"] grade_id="written_sl_prior" points=2
# ### BEGIN SOLUTION
# *Model answer.* The prior is used to decide where the search looks (breadth), not to choose
# the move: it should spread probability over the several plausible moves so that the search
# examines them. The SL policy, trained to imitate many experts, is broad: it assigns mass to
# all moves a strong player might consider. The RL policy is optimised to win against its pool:
# policy gradient makes it sharp (nearly deterministic on its favourite move) and specialised
# against the opponents it met, so as a prior it starves the alternatives of simulations and the
# search cannot correct its blind spots. On tic-tac-toe the RL policy concentrates on lines that
# beat its pool while its optimal-move rate over all positions barely changes or drops: a strong
# player is not the same as a good guide to where to search. (AlphaGo's paper: "presumably
# because humans select a diverse beam of promising moves, whereas RL optimizes for the single
# best move".) The RL policy was still useful: it generated the games for the value network.
#
# *Rubric (2 points).* 1 point: the prior's job is to direct exploration (breadth) over
# plausible moves, which needs a diverse distribution. 1 point: the RL policy is sharper /
# specialised against its pool (low entropy), so the search under-explores; referring to the
# notebook's figures (optimal-move rate or the RL-vs-SL outcome) counts.
# ### END SOLUTION

# %% [markdown]
# **Question 3 (2 points).** Section 4 compared the value network with the exact values. What
# does it approximate, $V^*$ or something else, and what does its error against $V^*$ say
# about using it in the search?

# %% [markdown] tags=["written"] grade_id="written_value_error" points=2
# ### BEGIN SOLUTION
# *Model answer.* It regresses the outcomes of the RL policy's self-play games, so it estimates
# $V^{p_\rho}$, the expected outcome when the RL policy plays both sides, not $V^*$ (perfect
# play): its RMS error against $V^{p_\rho}$ is smaller than against $V^*$. Where the RL policy
# blunders (misses a block), positions that are draws under perfect play look won or lost; in
# the scatter the network's values spread across each column of $V^*$. In the search its
# errors are errors of the leaf evaluation: mixing with rollouts ($\lambda > 0$) averages two
# different errors, and deeper search reduces the weight of any single leaf; AlphaZero fixes
# the mismatch by training the value on games played *with search*, whose outcomes approach
# $V^*$ as the search improves.
#
# *Rubric (2 points).* 1 point: it approximates the self-play policy's value $V^{p_\rho}$ (its
# error is smaller against that than against V*). 1 point: a consequence for the search (biased
# leaf values where the policy errs; why mixing with rollouts or deeper search or AlphaZero's
# search-generated targets help).
# ### END SOLUTION
