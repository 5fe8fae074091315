r"""AlphaZero (Silver et al., 2017/2018) on a small board game: self-play with search.

One network :math:`f_\theta(s) = (\mathbf{p}, v)` gives the prior of :func:`~rlkit.mcts.
puct_scores` and the leaf value (:math:`\lambda = 0`: no rollouts). Self-play plays each move by
a search from the current position (Dirichlet noise on the root's prior, so that every move is
tried) and records the root's visit counts :math:`\pi_t = N(s_t, \cdot) / \sum_b N(s_t, b)`;
when the game ends, each position gets the outcome from its mover's view
(:func:`~rlkit.agents.selfplay.value_targets`). The network then learns to predict both:

.. math::
    L(\theta) = \frac1B \sum_t \Big[ (z_t - v_\theta(s_t))^2
        - \sum_a \pi_t(a) \log p_\theta(a|s_t) \Big]

(:func:`alphazero_loss`; the policy's softmax runs over the legal moves only, and an L2 penalty
on the weights comes from the optimiser's weight decay). Each recorded position is stored with
its symmetric copies (8 on tic-tac-toe), which multiplies the data for free. The improved
search targets teach the network, and the better network makes the next searches better: policy
iteration, with the search as the improvement step.

Measured on tic-tac-toe (``benchmarks/bench_alphazero.py``, one core): see
:class:`AlphaZeroConfig`. Order of the file (Spinning Up's): settings, math pieces, history,
then :func:`train` in the steps seed, game, model, buffer, losses, optimiser, update, loop.
"""  # noqa: D205

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rlkit.agents.selfplay import (
    GameEvaluation,
    PolicyValueNet,
    augment,
    evaluate_player,
    greedy_table,
    masked_log_softmax,
    network_predict,
    value_targets,
)
from rlkit.games import GameState, KInARow, Solution, make_game, solve
from rlkit.mcts import NetworkEvaluator, mcts_search, visit_policy
from rlkit.nets import require_same_shape, torch_threads
from rlkit.progress import progress_bar
from rlkit.schedules import linear_schedule

__all__ = ["AlphaZeroConfig", "AlphaZeroHistory", "alphazero_loss",
           "search_player", "train", "value_targets"]


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaZeroConfig:
    """Settings of :func:`train`; the defaults learn tic-tac-toe in under a minute of CPU.

    Measured on one core (``benchmarks/bench_alphazero.py``, under a load average of 7 to 9
    from other processes): after 1,800 games (47.9, 58.0, 50.8, 47.2 and 46.3 s of CPU for
    seeds 0 to 4) the raw network plays an optimal move in 97.2, 98.3, 98.3, 97.1 and 98.4 %
    of the 4,520 positions; with 25 simulations per move it is optimal on 99.1, 99.4, 99.6,
    99.5 and 99.6 % of the 3,191 critical positions and loses no line as X or as O.

    Tuned on seeds 10 to 14: the former defaults (1,500 games, outcome targets alone, noise
    40 %, 20 updates a round) reached 99 % searched on none of them (98.5 to 98.9 %); more
    games or updates alone did not either (2,000 games and 40 updates a round: seed 11 98.8 %,
    seed 12 98.3 % and 6 lines lost as O). What did: value targets that mix the game's outcome
    with the search's root value (``value_target_mix``: the outcome of one noisy self-play
    game is a poor estimate of a position's value) and stronger root noise (50 %). These
    defaults gave seeds 10 to 14 97.3 to 98.5 % raw and 98.6 (seed 10), 99.2, 99.7, 99.3 and
    99.8 % searched, no line lost, in 47 to 61 s.

    Broad exploration is what it needs most: the whole game sampled at tau = 1 and strong
    root noise; with tau = 1 for 3 moves only it reached 89 % after 600 games, 97 % with the
    whole game (and with 2,000 games, tau = 1 for 6 moves gave seed 11 98.6 % searched
    instead of 98.8 %).

    Example:
        >>> AlphaZeroConfig().n_games, AlphaZeroConfig().n_simulations
        (1800, 25)

    """

    game: str = "tictactoe"
    """The game (:func:`rlkit.games.make_game`): tictactoe, connect4, connectK-RxC."""
    n_games: int = 1_800
    """Budget of self-play games."""
    n_simulations: int = 25
    """Simulations of the search per self-play move (AlphaZero: 800 on Go; 25 to 100 here)."""
    c_puct: float = 1.5
    """c_puct of :func:`~rlkit.mcts.puct_scores` (about 1 to 4)."""
    dirichlet_alpha: float = 0.5
    """alpha of the root noise Dir(alpha); AlphaZero: 0.3 on chess, 0.03 on Go (smaller:
    the noise lands on fewer moves)."""
    noise_fraction: float = 0.5
    """epsilon: the root prior is (1 - epsilon) P + epsilon Dir(alpha) (AlphaZero: 0.25;
    more here, so that self-play reaches the odd positions the measure counts too)."""
    temperature: float = 1.0
    """tau of the self-play moves, N^(1/tau), for the first ``temperature_moves`` moves."""
    temperature_moves: int = 9
    """Moves sampled with ``temperature``; later ones take the most visited (tau -> 0).
    Tic-tac-toe: the whole game, so that the games reach many positions."""
    value_target_mix: float = 0.5
    """m: each position's value target is (1 - m) z + m v, with z the game's outcome from the
    mover's view (AlphaZero's target, m = 0) and v the search's value of the root (its
    visit-weighted Q); v tells the value of good play where z is one noisy self-play game."""
    games_per_round: int = 10
    """Self-play games between two rounds of updates (the network is fixed within a round)."""
    updates_per_round: int = 30
    """Gradient steps after each round of self-play."""
    batch_size: int = 256
    """Positions per gradient step, drawn from the buffer (with their symmetric copies)."""
    buffer_size: int = 40_000
    """Positions kept (after augmentation); the oldest go first."""
    use_symmetries: bool = True
    """Store each position with its symmetric copies (8 on tic-tac-toe, 2 on Connect-K)."""
    learning_rate: float = 2e-3
    """Adam's step size (1e-4 to 3e-3)."""
    final_learning_rate: float | None = 0.0
    """The step size decays linearly to this over ``n_games`` (None: constant); late updates
    then stop shaking a network that has learned."""
    weight_decay: float = 1e-4
    """The L2 penalty c ||theta||^2 of the AlphaZero loss, as Adam's weight decay."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Widths of the trunk (ReLU)."""
    eval_interval: int = 100
    """Measure the raw network against the solver every this many games and at the end (0:
    never; a game the solver can handle, such as tic-tac-toe or small Connect-K boards)."""
    cpu_seconds: float | None = None
    """Stop when self-play and training have used this much CPU time (None: the game budget
    only). Not reproducible: the number of games then depends on the machine."""
    torch_threads: int | None = 1
    """torch CPU threads (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        for name in ("n_games", "n_simulations", "games_per_round", "updates_per_round",
                     "batch_size", "buffer_size", "hidden_sizes"):
            value = getattr(self, name)
            if (min(value) if isinstance(value, tuple) and value else value) < 1:
                raise ValueError(f"{name} must be >= 1; got {value!r}")
        for name in ("c_puct", "dirichlet_alpha", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        for name in ("noise_fraction", "value_target_mix"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.final_learning_rate is not None and self.final_learning_rate < 0:
            raise ValueError(f"final_learning_rate must be >= 0; got {self.final_learning_rate}")
        for name in ("temperature", "temperature_moves", "weight_decay", "eval_interval"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)!r}")
        make_game(self.game)  # a ValueError names the valid games


# --------------------------------------------------------------------------------------------
# Math pieces (notebook 08 re-implements these; value_targets lives in rlkit.agents.selfplay)
# --------------------------------------------------------------------------------------------


def alphazero_loss(logits: torch.Tensor, values: torch.Tensor, target_policies: torch.Tensor,
                   target_values: torch.Tensor, legal_mask: torch.Tensor) -> torch.Tensor:
    r"""AlphaZero's loss: the value's squared error plus the policy's cross-entropy.

    .. math::
        L = \frac1B \sum_t (z_t - v_t)^2 - \frac1B \sum_t \sum_{a\ \text{legal}}
            \pi_t(a) \log p_\theta(a|s_t)

    with :math:`\log p_\theta` the log-softmax of the logits over the **legal** moves only
    (an illegal move's logit must not take probability from the legal ones; its target is 0,
    and it is left out of the sum rather than multiplied as :math:`0 \cdot (-\infty)`).

    Args:
        logits: ``(B, n_actions)``, with gradients.
        values: :math:`v_\theta(s_t)`, ``(B,)``, with gradients.
        target_policies: :math:`\pi_t`, the searches' visit distributions, ``(B, n_actions)``.
        target_values: :math:`z_t` from the mover's view, ``(B,)``.
        legal_mask: ``(B, n_actions)`` bool.

    Returns:
        A scalar tensor.

    Example:
        >>> logits = torch.zeros(1, 3, requires_grad=True)
        >>> loss = alphazero_loss(logits, torch.zeros(1), torch.tensor([[0.5, 0.5, 0.0]]),
        ...                       torch.ones(1), torch.tensor([[True, True, False]]))
        >>> round(float(loss.detach()), 4)  # (1 - 0)^2 + ln 2
        1.6931

    """
    require_same_shape("logits", logits, target_policies=target_policies,
                       legal_mask=legal_mask)
    require_same_shape("values", values, target_values=target_values)
    log_probs = masked_log_softmax(logits, legal_mask)
    policy_loss = -(target_policies * log_probs.masked_fill(~legal_mask, 0.0)).sum(-1).mean()
    return F.mse_loss(values, target_values) + policy_loss


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AlphaZeroHistory:
    """What :func:`train` returns.

    Attributes:
        net: The trained :class:`~rlkit.agents.selfplay.PolicyValueNet`.
        game: The game.
        losses: :func:`alphazero_loss` of each gradient step.
        game_lengths: Moves of each self-play game.
        winners: Winner of each self-play game (+1 X, -1 O, 0 draw).
        evaluation_games: Games played at each evaluation.
        evaluation_seconds: CPU seconds used at each evaluation (the evaluations excluded).
        evaluations: The raw network's :class:`~rlkit.agents.selfplay.GameEvaluation`.
        cpu_seconds: CPU seconds of self-play and training (evaluations excluded).
        config: The settings used.
        seed: The seed.

    """

    net: PolicyValueNet
    game: KInARow
    losses: np.ndarray
    game_lengths: np.ndarray
    winners: np.ndarray
    evaluation_games: list[int]
    evaluation_seconds: list[float]
    evaluations: list[GameEvaluation]
    cpu_seconds: float
    config: AlphaZeroConfig
    seed: int
    _solution: Solution | None = field(default=None, repr=False)

    def predict(self, states: list[GameState]) -> tuple[np.ndarray, np.ndarray]:
        """Move probabilities and values of the trained network (a ``NetworkEvaluator`` input)."""
        return network_predict(self.game, self.net)(states)

    def act(self, state: GameState) -> int:
        """The raw network's move: its most likely legal move."""
        probs, _ = self.predict([state])
        return int(np.argmax(probs[0]))


def search_player(game: KInARow, predict: Callable[[list[GameState]],
                  tuple[np.ndarray, np.ndarray]], n_simulations: int, *, seed: int = 0,
                  c_puct: float = 1.5, search_fn: Callable[..., Any] = mcts_search
                  ) -> Callable[[GameState], int]:
    """A player that searches ``n_simulations`` from each position and plays the most visited.

    Each search draws from its own generator seeded by ``seed`` (no noise, no rollouts), so
    the player is a deterministic function of the position.
    """
    evaluator = NetworkEvaluator(game, predict)

    def play(state: GameState) -> int:
        result = search_fn(game, state, evaluator, n_simulations,
                           rng=np.random.default_rng(seed), rule="puct", c=c_puct)
        return int(np.argmax(result.visit_counts))

    return play


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def train(
    config: AlphaZeroConfig = AlphaZeroConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    search_fn: Callable[..., Any] = mcts_search,
    visit_policy_fn: Callable[..., np.ndarray] = visit_policy,
    value_targets_fn: Callable[..., np.ndarray] = value_targets,
    loss_fn: Callable[..., torch.Tensor] = alphazero_loss,
    solution: Solution | None = None,
    progress: bool = False,
) -> AlphaZeroHistory:
    """Train a policy-value network by AlphaZero's self-play; return the history.

    Args:
        config: Hyperparameters.
        seed: Seeds torch (initial weights), the searches and the move sampling.
        search_fn: Same signature as :func:`~rlkit.mcts.mcts_search`.
        visit_policy_fn: Same signature as :func:`~rlkit.mcts.visit_policy`.
        value_targets_fn: Same signature as :func:`~rlkit.agents.selfplay.value_targets`.
        loss_fn: Same signature as :func:`alphazero_loss`.
        solution: The solved game for the evaluations (None: solved here when
            ``eval_interval`` > 0; pass it to save the second of solving).
        progress: Show a tqdm progress bar over games.

    Example:
        >>> config = AlphaZeroConfig(n_games=4, games_per_round=2, updates_per_round=1,
        ...                          n_simulations=4, eval_interval=0, batch_size=8)
        >>> history = train(config, seed=0)
        >>> history.winners.size, history.losses.size
        (4, 2)

    """
    with torch_threads(config.torch_threads):
        return _train(config, seed, search_fn, visit_policy_fn, value_targets_fn, loss_fn,
                      solution, progress)


def _train(config: AlphaZeroConfig, seed: int, search_fn: Callable[..., Any],
           visit_policy_fn: Callable[..., np.ndarray], value_targets_fn: Callable[..., Any],
           loss_fn: Callable[..., torch.Tensor], solution: Solution | None,
           progress: bool) -> AlphaZeroHistory:
    # 1-2. Seed, game.
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    game = make_game(config.game)
    if solution is None and config.eval_interval:
        solution = solve(game)
    # 3. Model: one network, a policy head and a value head.
    net = PolicyValueNet(2 * game.n_cells, game.n_actions, config.hidden_sizes)
    evaluator = NetworkEvaluator(game, network_predict(game, net))
    # 4. Buffer: (features, target policy, legal mask, target value), the newest last.
    buffer: list[np.ndarray] = []
    # 5-6. Losses (loss_fn), optimiser.
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate,
                                 weight_decay=config.weight_decay)
    final_rate = config.final_learning_rate
    learning_rate_at = linear_schedule(
        config.learning_rate, config.learning_rate if final_rate is None else final_rate,
        config.n_games)
    losses: list[float] = []
    lengths: list[int] = []
    winners: list[int] = []
    evaluation_games: list[int] = []
    evaluation_seconds: list[float] = []
    evaluations: list[GameEvaluation] = []

    def self_play_game() -> tuple[np.ndarray, ...]:
        state = game.initial_state()
        features, policies, legal, players, root_values = [], [], [], [], []
        while not state.terminal:
            result = search_fn(game, state, evaluator, config.n_simulations, rng=rng,
                               rule="puct", c=config.c_puct,
                               root_noise=(config.dirichlet_alpha, config.noise_fraction))
            counts = np.asarray(result.visit_counts, dtype=np.float64)
            tau = config.temperature if len(players) < config.temperature_moves else 0.0
            probs = np.asarray(visit_policy_fn(counts, tau), dtype=np.float64)
            features.append(game.encode(state))
            policies.append(counts / counts.sum())  # the target: the visit distribution
            if config.value_target_mix:  # the root's value from its mover's view
                root_values.append(policies[-1] @ np.asarray(result.q, dtype=np.float64))
            legal.append(game.legal_mask(state))
            players.append(state.player)
            state = game.next_state(state, int(rng.choice(game.n_actions, p=probs / probs.sum())))
        lengths.append(len(players))
        winners.append(state.winner)
        targets = np.asarray(value_targets_fn(state.winner, np.array(players)), dtype=np.float64)
        if config.value_target_mix:  # 0: the outcome alone, as AlphaZero (no float change)
            targets = ((1 - config.value_target_mix) * targets
                       + config.value_target_mix * np.array(root_values))
        rows = (np.stack(features), np.stack(policies), np.stack(legal))
        if config.use_symmetries:
            rows = augment(*rows, game)
        copies = len(rows[0]) // len(players)
        return (*rows, np.tile(targets, copies))

    # 7. Update: gradient steps on minibatches drawn from the buffer.
    def update() -> None:
        features, policies, legal, targets = (np.concatenate(parts) for parts in zip(*buffer,
                                                                                 strict=True))
        for _ in range(config.updates_per_round):
            rows = rng.integers(len(features), size=min(config.batch_size, len(features)))
            logits, values = net(torch.from_numpy(features[rows]))
            loss = loss_fn(logits, values, torch.from_numpy(policies[rows]).float(),
                           torch.from_numpy(targets[rows]).float(),
                           torch.from_numpy(legal[rows]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        evaluator.clear()  # the network changed: its cached answers are stale

    def evaluate(games: int, seconds: float) -> None:
        assert solution is not None
        evaluation_games.append(games)
        evaluation_seconds.append(seconds)
        evaluations.append(evaluate_player(solution, greedy_table(solution,
                                                                  lambda x: net(x)[0])))

    # 8. Loop: rounds of self-play, then updates; evaluations outside the CPU clock.
    bar = progress_bar(progress, config.n_games, "AlphaZero")
    cpu, games = 0.0, 0
    while games < config.n_games and (config.cpu_seconds is None or cpu < config.cpu_seconds):
        start = time.process_time()
        n_round = min(config.games_per_round, config.n_games - games)
        for _ in range(n_round):
            buffer.append(self_play_game())
        while sum(len(part[0]) for part in buffer) > config.buffer_size and len(buffer) > 1:
            buffer.pop(0)
        rate = learning_rate_at(games)
        for group in optimizer.param_groups:
            group["lr"] = rate
        update()
        cpu += time.process_time() - start
        before, games = games, games + n_round
        if bar is not None:
            bar.update(n_round)
        if config.eval_interval and games // config.eval_interval > before // config.eval_interval:
            evaluate(games, cpu)
    if bar is not None:
        bar.close()
    if config.eval_interval and (not evaluation_games or evaluation_games[-1] != games):
        evaluate(games, cpu)
    return AlphaZeroHistory(net, game, np.array(losses), np.array(lengths), np.array(winners),
                            evaluation_games, evaluation_seconds, evaluations, cpu, config,
                            seed, solution)
