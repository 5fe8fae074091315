r"""AlphaGo's training pipeline (Silver et al., 2016) on a small board game, in three stages.

Lecture 002, "Training AlphaGo":

1. **SL policy network** :math:`p_\sigma`: classification of an expert's moves,
   :math:`\sigma \leftarrow \sigma + \eta \nabla_\sigma \log p_\sigma(a|s)`. Here the expert is
   a flawed one: it plays an optimal move (one of them, at random) but, with probability
   ``expert_error``, a random legal move instead. AlphaGo's 57 % is its move accuracy on
   held-out human positions; ours is measured the same way (:attr:`AlphaGoHistory.sl_accuracy`).
2. **RL policy network** :math:`p_\rho`, initialised to :math:`p_\sigma`, by policy gradient on
   games against a **pool** of its own earlier versions (so that it does not overfit to beating
   its latest self): :math:`\rho \leftarrow \rho + \eta \nabla_\rho \log p_\rho(a_t|s_t)\, z_t`
   with :math:`z_t = \pm 1` (0 for a draw) from the learner's view (:func:`selfplay_pg_loss`).
3. **Value network** :math:`v_\theta`, regressed on the outcomes of the RL policy's self-play,
   :math:`\theta \leftarrow \theta + \eta \nabla_\theta v_\theta(s) (z - v_\theta(s))`. It
   learns the value of *that* policy, :math:`V^{p_\rho}`, not :math:`V^*`: the history holds
   its error against both, computed exactly (:meth:`~rlkit.games.Solution.policy_values`).

:meth:`AlphaGoHistory.evaluator` combines them for :func:`~rlkit.mcts.mcts_search`: the SL
policy's prior (AlphaGo found it a better prior than the RL policy's: it spreads its
probability over more good moves) and the value network mixed with a rollout,
:math:`v = (1-\lambda) v_\theta + \lambda z` (AlphaGo: :math:`\lambda = 0.5`).

Order of the file: settings, math pieces, history, then :func:`train`, one stage after another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlkit.agents.selfplay import (
    encode_states,
    greedy_table,
    masked_log_softmax,
    network_predict,
    value_targets,
)
from rlkit.games import GameState, KInARow, Solution, make_game, solve
from rlkit.mcts import NetworkEvaluator
from rlkit.nets import mlp, require_same_shape, torch_threads
from rlkit.progress import progress_bar

__all__ = ["AlphaGoConfig", "AlphaGoHistory", "expert_games", "selfplay_pg_loss", "train",
           "value_targets"]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaGoConfig:
    """Settings of :func:`train`; the defaults run the three stages on tic-tac-toe in ~15 s.

    Measured with seed 0 on one core (14 s of CPU): the SL policy matches 49 % of the held-out
    expert moves (AlphaGo: 57 %) and plays an optimal move in 81 % of the positions; the RL
    policy 82 %, with an exact expected outcome of +0.23 against the SL policy; the value
    network's RMS error is 0.53 against the RL policy's exact values and 0.70 against V*.

    Example:
        >>> AlphaGoConfig().expert_error
        0.25

    """

    game: str = "tictactoe"
    """The game (:func:`rlkit.games.make_game`); it must be small enough to solve, since the
    expert and the measurements use the solution."""
    expert_games: int = 400
    """Games of the flawed expert against itself, the SL data (AlphaGo: 160,000 KGS games)."""
    expert_error: float = 0.25
    """Probability that the expert plays a random legal move instead of an optimal one."""
    held_out_fraction: float = 0.2
    """Share of the expert's games kept aside to measure the SL policy's move accuracy."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Widths of each network (ReLU)."""
    sl_epochs: int = 40
    """Passes over the expert's training positions."""
    sl_batch_size: int = 128
    """Positions per SL gradient step."""
    sl_learning_rate: float = 3e-3
    """Adam's step size for the SL policy."""
    rl_iterations: int = 150
    """Policy-gradient iterations, each on ``rl_games`` games against the pool."""
    rl_games: int = 32
    """Games per iteration; the learner plays X in half of them and O in the other half."""
    rl_learning_rate: float = 5e-4
    """Adam's step size for the RL policy (small: it starts from the SL policy)."""
    pool_interval: int = 10
    """Add a frozen copy of the learner to the opponent pool every this many iterations."""
    value_games: int = 2_000
    """Self-play games of the RL policy whose positions and outcomes train the value net."""
    value_epochs: int = 20
    """Passes over the value net's positions."""
    value_batch_size: int = 256
    """Positions per value-net gradient step."""
    value_learning_rate: float = 3e-3
    """Adam's step size for the value network."""
    torch_threads: int | None = 1
    """torch CPU threads (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        for name in ("expert_games", "sl_epochs", "sl_batch_size", "rl_iterations", "rl_games",
                     "pool_interval", "value_games", "value_epochs", "value_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)!r}")
        for name in ("expert_error", "held_out_fraction"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1); got {getattr(self, name)!r}")
        for name in ("sl_learning_rate", "rl_learning_rate", "value_learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes needs widths >= 1; got {self.hidden_sizes!r}")
        make_game(self.game)  # a ValueError names the valid games


# --------------------------------------------------------------------------------------------
# Math pieces (notebook 08 re-implements these; value_targets lives in rlkit.agents.selfplay)
# --------------------------------------------------------------------------------------------


def selfplay_pg_loss(log_probs: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
    r"""The policy-gradient loss of self-play: minus the mean of :math:`\log p(a_t|s_t)\, z_t`.

    .. math:: L(\rho) = -\frac1T \sum_t \log p_\rho(a_t|s_t)\, z_t

    Its gradient step is the lecture's :math:`\rho \leftarrow \rho + \eta \nabla_\rho
    \log p_\rho(a|s) z` averaged over the learner's moves; :math:`z_t` is the game's outcome
    from the view of the player who made move ``t`` (the learner), 0 for a draw.

    Args:
        log_probs: :math:`\log p_\rho(a_t|s_t)` of the learner's moves, ``(T,)``, with
            gradients.
        outcomes: :math:`z_t \in \{-1, 0, 1\}`, ``(T,)``.

    Example:
        >>> selfplay_pg_loss(torch.tensor([-1.0, -2.0]), torch.tensor([1.0, -1.0]))
        tensor(-0.5000)

    """
    require_same_shape("log_probs", log_probs, outcomes=outcomes)
    return -(log_probs * outcomes.detach()).mean()


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AlphaGoHistory:
    r"""What :func:`train` returns: the three networks and the figures of each stage.

    Attributes:
        game: The game.
        solution: Its exact solution.
        sl_policy: The SL policy network (features -> logits).
        rl_policy: The RL policy network.
        value_net: The value network (features -> :math:`v` in [-1, 1], mover's view).
        sl_losses: Cross-entropy of each SL epoch (training positions).
        sl_accuracy: Share of held-out expert moves the SL policy's top move matches.
        sl_optimal_rate: Share of all positions where the SL policy's top move is optimal.
        rl_losses: :func:`selfplay_pg_loss` of each RL iteration.
        rl_scores: Mean outcome of each iteration's games for the learner (+1 all won).
        rl_optimal_rate: Share of positions where the RL policy's top move is optimal.
        rl_vs_sl: The RL policy's exact expected outcome against the SL policy, sampling both,
            averaged over playing X and playing O (+1: always wins).
        value_losses: Mean squared error of each value epoch (training positions).
        value_rmse_policy: RMS error of the value net against :math:`V^{p_\\rho}`, the exact
            value of the RL policy's self-play, over all positions.
        value_rmse_optimal: RMS error against :math:`V^*`.
        config: The settings used.
        seed: The seed.

    """

    game: KInARow
    solution: Solution
    sl_policy: nn.Module
    rl_policy: nn.Module
    value_net: nn.Module
    sl_losses: np.ndarray
    sl_accuracy: float
    sl_optimal_rate: float
    rl_losses: np.ndarray
    rl_scores: np.ndarray
    rl_optimal_rate: float
    rl_vs_sl: float
    value_losses: np.ndarray
    value_rmse_policy: float
    value_rmse_optimal: float
    config: AlphaGoConfig
    seed: int

    def values(self) -> np.ndarray:
        """The value network on every state of the solution (mover's view; terminal: 0)."""
        return _value_table(self.solution, self.value_net)

    def evaluator(self, *, mixing: float = 0.5, prior: str = "sl") -> NetworkEvaluator:
        """AlphaGo's leaf evaluator: a policy's prior, the value net mixed with a rollout.

        Args:
            mixing: lambda of :func:`~rlkit.mcts.evaluate_leaf` (0: value net only, 1: rollout
                only; AlphaGo: 0.5).
            prior: ``"sl"`` or ``"rl"``: which policy network gives the prior.

        """
        if prior not in ("sl", "rl"):
            raise ValueError(f"prior must be 'sl' or 'rl'; got {prior!r}")
        policy = self.sl_policy if prior == "sl" else self.rl_policy
        predict = network_predict(self.game,
                                  lambda x: (policy(x), self.value_net(x).squeeze(-1)))
        return NetworkEvaluator(self.game, predict, mixing=mixing)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def expert_games(solution: Solution, n_games: int, error: float,
                 rng: np.random.Generator) -> list[tuple[list[GameState], list[int]]]:
    """Games of the flawed expert against itself: ``(positions, moves)`` of each game.

    The expert plays one of the optimal moves (uniformly), or with probability ``error`` a
    uniformly random legal move.
    """
    game, games = solution.game, []
    for _ in range(n_games):
        state, positions, moves = game.initial_state(), [], []
        while not state.terminal:
            if rng.random() < error:
                choices = game.legal_actions(state)
            else:
                choices = solution.optimal_actions(state)
            action = int(choices[int(rng.integers(len(choices)))])
            positions.append(state)
            moves.append(action)
            state = game.next_state(state, action)
        games.append((positions, moves))
    return games


def _policy_net(game: KInARow, config: AlphaGoConfig) -> nn.Module:
    return mlp([2 * game.n_cells, *config.hidden_sizes, game.n_actions], activation=nn.ReLU)


def _sample_probs(net: nn.Module, game: KInARow, state: GameState) -> np.ndarray:
    features, legal = encode_states(game, [state])
    with torch.no_grad():
        probs = masked_log_softmax(net(features), legal).exp()[0].double().numpy()
    return probs / probs.sum()


def _play(game: KInARow, nets: dict[int, nn.Module], rng: np.random.Generator
          ) -> tuple[list[GameState], list[int], int]:
    """One game, each player sampling its moves from its network: positions, moves, winner."""
    state, positions, moves = game.initial_state(), [], []
    while not state.terminal:
        probs = _sample_probs(nets[state.player], game, state)
        action = int(rng.choice(game.n_actions, p=probs))
        positions.append(state)
        moves.append(action)
        state = game.next_state(state, action)
    return positions, moves, state.winner


def _value_table(solution: Solution, value_net: nn.Module) -> np.ndarray:
    """The value network on every state of the solution (terminal rows 0)."""
    table = np.zeros(len(solution.states))
    rows = solution.positions
    features, _ = encode_states(solution.game, [solution.states[i] for i in rows])
    with torch.no_grad():
        table[rows] = value_net(features).squeeze(-1).double().numpy()
    return table


def _policy_table(solution: Solution, net: nn.Module) -> np.ndarray:
    """The network's move probabilities in every state of the solution (terminal rows 0)."""
    table = np.zeros(solution.q.shape)
    rows = solution.positions
    features, legal = encode_states(solution.game, [solution.states[i] for i in rows])
    with torch.no_grad():
        table[rows] = masked_log_softmax(net(features), legal).exp().double().numpy()
    return table / np.maximum(table.sum(axis=1, keepdims=True), 1e-300)


def train(
    config: AlphaGoConfig = AlphaGoConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    pg_loss_fn: Callable[..., torch.Tensor] = selfplay_pg_loss,
    value_targets_fn: Callable[..., np.ndarray] = value_targets,
    solution: Solution | None = None,
    progress: bool = False,
) -> AlphaGoHistory:
    """Run AlphaGo's three stages (SL policy, RL policy, value network); return the history.

    Args:
        config: Hyperparameters.
        seed: Seeds torch (initial weights), the expert's games and every sampled move.
        pg_loss_fn: Same signature as :func:`selfplay_pg_loss`.
        value_targets_fn: Same signature as :func:`~rlkit.agents.selfplay.value_targets`,
            used for the RL games' outcomes and the value net's targets.
        solution: The solved game (None: solved here).
        progress: Show a tqdm progress bar over the RL iterations.

    Example:
        >>> config = AlphaGoConfig(expert_games=20, sl_epochs=2, rl_iterations=2, rl_games=4,
        ...                        value_games=20, value_epochs=2)
        >>> history = train(config, seed=0)
        >>> len(history.sl_losses), len(history.rl_losses), len(history.value_losses)
        (2, 2, 2)

    """
    with torch_threads(config.torch_threads):
        return _train(config, seed, pg_loss_fn, value_targets_fn, solution, progress)


def _fit(net: nn.Module, loss_of: Callable[[np.ndarray], torch.Tensor], n_rows: int,
         epochs: int, batch_size: int, learning_rate: float, rng: np.random.Generator
         ) -> np.ndarray:
    """Minibatch Adam on ``loss_of(rows)``; the mean loss of each epoch."""
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    losses = []
    for _ in range(epochs):
        order, total = rng.permutation(n_rows), 0.0
        for start in range(0, n_rows, batch_size):
            rows = order[start:start + batch_size]
            loss = loss_of(rows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        losses.append(total / n_rows)
    return np.array(losses)


def _train(config: AlphaGoConfig, seed: int, pg_loss_fn: Callable[..., torch.Tensor],
           value_targets_fn: Callable[..., np.ndarray], solution: Solution | None,
           progress: bool) -> AlphaGoHistory:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    game = make_game(config.game)
    solution = solve(game) if solution is None else solution

    # Stage 1: SL policy from the flawed expert's games, held-out games for the accuracy.
    games = expert_games(solution, config.expert_games, config.expert_error, rng)
    n_held_out = int(round(config.held_out_fraction * len(games)))
    train_games, held_out = games[n_held_out:], games[:n_held_out]
    positions = [s for states, _ in train_games for s in states]
    features, legal = encode_states(game, positions)
    moves = torch.tensor([a for _, actions in train_games for a in actions])
    sl_policy = _policy_net(game, config)
    sl_losses = _fit(
        sl_policy, lambda rows: F.nll_loss(masked_log_softmax(sl_policy(features[rows]),
                                                              legal[rows]), moves[rows]),
        len(positions), config.sl_epochs, config.sl_batch_size, config.sl_learning_rate, rng)
    sl_accuracy = float("nan")
    if held_out:
        held_features, held_legal = encode_states(game, [s for st, _ in held_out for s in st])
        with torch.no_grad():
            guesses = masked_log_softmax(sl_policy(held_features), held_legal).argmax(-1)
        held_moves = torch.tensor([a for _, actions in held_out for a in actions])
        sl_accuracy = float((guesses == held_moves).double().mean())

    # Stage 2: RL policy, policy gradient against a pool of its earlier versions.
    rl_policy = copy.deepcopy(sl_policy)
    pool = [copy.deepcopy(sl_policy)]
    optimizer = torch.optim.Adam(rl_policy.parameters(), lr=config.rl_learning_rate)
    rl_losses, rl_scores = [], []
    bar = progress_bar(progress, config.rl_iterations, "AlphaGo RL")
    for iteration in range(config.rl_iterations):
        learner_states, learner_moves, learner_outcomes = [], [], []
        for g in range(config.rl_games):
            side = 1 if g % 2 == 0 else -1  # the learner plays X, then O
            opponent = pool[int(rng.integers(len(pool)))]
            states, actions, winner = _play(game, {side: rl_policy, -side: opponent}, rng)
            players = np.array([s.player for s in states])
            z = np.asarray(value_targets_fn(winner, players), dtype=np.float64)
            mine = players == side
            learner_states += [s for s, m in zip(states, mine, strict=True) if m]
            learner_moves += [a for a, m in zip(actions, mine, strict=True) if m]
            learner_outcomes.append(z[mine])
        outcomes = np.concatenate(learner_outcomes)
        features_rl, legal_rl = encode_states(game, learner_states)
        log_probs = masked_log_softmax(rl_policy(features_rl), legal_rl).gather(
            1, torch.tensor(learner_moves)[:, None]).squeeze(1)
        loss = pg_loss_fn(log_probs, torch.from_numpy(outcomes).float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        rl_losses.append(float(loss.detach()))
        rl_scores.append(float(np.mean([z[0] for z in learner_outcomes if z.size])))
        if (iteration + 1) % config.pool_interval == 0:
            pool.append(copy.deepcopy(rl_policy))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()

    # Stage 3: the value network, regressed on the outcomes of the RL policy's self-play.
    value_states, value_z = [], []
    for _ in range(config.value_games):
        states, _, winner = _play(game, {1: rl_policy, -1: rl_policy}, rng)
        value_states += states
        value_z.append(np.asarray(value_targets_fn(winner, [s.player for s in states])))
    value_features, _ = encode_states(game, value_states)
    targets = torch.from_numpy(np.concatenate(value_z)).float()
    value_net = mlp([2 * game.n_cells, *config.hidden_sizes, 1], activation=nn.ReLU,
                    output_activation=nn.Tanh)
    value_losses = _fit(
        value_net, lambda rows: F.mse_loss(value_net(value_features[rows]).squeeze(-1),
                                           targets[rows]),
        len(value_states), config.value_epochs, config.value_batch_size,
        config.value_learning_rate, rng)

    # The exact figures.
    sl_table, rl_table = _policy_table(solution, sl_policy), _policy_table(solution, rl_policy)
    players = np.array([s.player for s in solution.states])
    rl_vs_sl = 0.0
    for side in (1, -1):  # the RL policy plays side, the SL policy the other
        mixed = np.where((players == side)[:, None], rl_table, sl_table)
        rl_vs_sl += side * solution.policy_values(mixed)[0] / 2  # X's view -> RL's view
    rows = solution.positions
    predicted = _value_table(solution, value_net)[rows]
    exact_policy = solution.policy_values(rl_table)[rows]  # V of the RL policy's self-play
    return AlphaGoHistory(
        game=game, solution=solution, sl_policy=sl_policy, rl_policy=rl_policy,
        value_net=value_net, sl_losses=sl_losses, sl_accuracy=sl_accuracy,
        sl_optimal_rate=solution.optimal_move_rate(greedy_table(solution, sl_policy)[rows]),
        rl_losses=np.array(rl_losses), rl_scores=np.array(rl_scores),
        rl_optimal_rate=solution.optimal_move_rate(greedy_table(solution, rl_policy)[rows]),
        rl_vs_sl=float(rl_vs_sl), value_losses=value_losses,
        value_rmse_policy=float(np.sqrt(np.mean((predicted - exact_policy) ** 2))),
        value_rmse_optimal=float(np.sqrt(np.mean((predicted - solution.values[rows]) ** 2))),
        config=config, seed=seed)
