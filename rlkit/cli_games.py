"""The board-game commands: ``solve tictactoe``, ``train alphazero`` and ``play tictactoe``.

``python -m rlkit solve GAME`` (dispatched here by :mod:`rlkit.cli_solve` when ENV names a
game) solves it exactly and prints the counts, ``V*`` of a position and ``Q*`` of each move.
``python -m rlkit train alphazero|alphago`` (from :mod:`rlkit.cli_train`) trains the agent
and prints its exact figures. ``python -m rlkit play GAME`` lets a person play an agent in the
terminal. Every check of the input runs before any work; bad input raises
:class:`~rlkit.cli_errors.BadInput` (exit status 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from rlkit.cli_errors import EXIT_STATUS, BadInput, save_figure
from rlkit.games import GAME_NAMES, GameState, KInARow, Solution, make_game, solve

__all__ = ["AGENTS", "MAX_SOLVED_CELLS", "PLAY_EXAMPLES", "add_play_parser", "game_or_none",
           "parse_moves", "run_play", "solve_game", "train_game"]

MAX_SOLVED_CELLS = 16
"""The largest board (cells) the solver is asked to handle (4 x 4: 42k states, a second)."""
AGENTS = ("perfect", "mcts", "alphazero")
PLAY_EXAMPLES = """\
  python -m rlkit play tictactoe
      you play X against UCT search with rollouts (type a cell 0-8, row by row)
  python -m rlkit play tictactoe --agent perfect --as o
  python -m rlkit play tictactoe --agent alphazero --games 300
      trains AlphaZero for 300 self-play games first (about 7 s of CPU), then plays with its
      search
"""


def game_or_none(name: str) -> KInARow | None:
    """The game called ``name``, or None when it names no game."""
    try:
        return make_game(name)
    except ValueError:
        return None


def _solvable(game: KInARow) -> None:
    if game.n_cells > MAX_SOLVED_CELLS:
        raise BadInput(f"{game} has {game.n_cells} cells, too many to solve exactly here (at "
                       f"most {MAX_SOLVED_CELLS}); try tictactoe or connect3-4x4")


def parse_moves(game: KInARow, text: str | None) -> GameState:
    """The position after the comma-separated ``text`` moves from the start (None: the start)."""
    state = game.initial_state()
    if not text:
        return state
    for item in text.split(","):
        try:
            state = game.next_state(state, int(item))
        except ValueError as error:
            raise BadInput(f"--moves {text!r}: move {item.strip()!r}: {error}") from error
    return state


# --------------------------------------------------------------------------------------------
# solve GAME
# --------------------------------------------------------------------------------------------


def solve_game(game: KInARow, args: argparse.Namespace) -> int:
    """``python -m rlkit solve GAME``: counts, ``V*`` and ``Q*`` of the ``--moves`` position."""
    for flag, value in (("--noise", args.noise), ("--living-reward", args.living_reward),
                        ("--layout", args.layout), ("--horizon", args.horizon),
                        ("--gamma", args.gamma), ("--plot", args.plot)):
        if value is not None:
            raise BadInput(f"{flag} does not apply to a game ({game})")
    if args.env_arg or args.episodes or args.method != "value-iteration":
        raise BadInput(f"--env-arg, --episodes and --method do not apply to a game ({game})")
    _solvable(game)
    state = parse_moves(game, args.moves)
    start = time.process_time()
    solution = solve(game)
    seconds = time.process_time() - start
    print(f"{game}: {len(solution.states):,} reachable states, {solution.positions.size:,} "
          f"positions to move in, {solution.critical.size:,} critical (a move changes the "
          f"result); solved in {seconds:.2f} s")
    print(f"V* of the start: {solution.values[0]:+.0f} for X (+1 win, 0 draw, -1 loss)")
    print(format_position(solution, state))
    return 0


def format_position(solution: Solution, state: GameState) -> str:
    """The board, its ``V*`` and each legal move's ``Q*``, from the view of the player to move."""
    game = solution.game
    mover = "X" if state.player == 1 else "O"
    lines = ["", game.render(state), ""]
    if state.terminal:
        result = {1: "X won", -1: "O won", 0: "a draw"}[state.winner]
        return "\n".join([*lines, f"the game is over: {result}"])
    lines.append(f"{mover} to move; V* = {solution.value(state):+.0f} for {mover}")
    q = solution.q[solution.index[state]]
    best = set(solution.optimal_actions(state))
    lines.append("Q* of each legal move (* optimal): " + ", ".join(
        f"{a}: {q[a]:+.0f}{'*' if a in best else ''}" for a in game.legal_actions(state)))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# train alphazero | alphago
# --------------------------------------------------------------------------------------------


def train_game(args: argparse.Namespace) -> int:
    """``python -m rlkit train alphazero|alphago --game GAME``: train, print the figures."""
    from rlkit.agents import alphago, alphazero

    game = game_or_none(args.game)
    if game is None:
        raise BadInput(f"unknown --game {args.game!r}; use {GAME_NAMES}")
    _solvable(game)
    if args.seed < 0:
        raise BadInput(f"--seed must be >= 0; got {args.seed}")
    if args.simulations is not None and args.simulations < 1:
        raise BadInput(f"--simulations must be >= 1; got {args.simulations}")
    if args.simulations is not None and args.algorithm == "alphago":
        raise BadInput("--simulations applies to alphazero only")
    overrides: dict[str, Any] = {"game": args.game}
    try:
        if args.algorithm == "alphazero":
            if args.games is not None:
                overrides["n_games"] = args.games
            config: Any = alphazero.AlphaZeroConfig(**overrides)
        else:
            if args.games is not None:
                overrides["rl_iterations"] = args.games
            config = alphago.AlphaGoConfig(**overrides)
    except ValueError as error:
        raise BadInput(str(error)) from error
    if args.plot is not None and args.plot.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise BadInput(f"--plot must end in .png, .pdf or .svg; got {args.plot}")
    print(f"{args.algorithm} on {game}, seed {args.seed}", flush=True)
    print(f"settings: {config}", flush=True)
    solution = solve(game)
    if args.algorithm == "alphago":
        history = alphago.train(config, seed=args.seed, solution=solution,
                                progress=not args.no_progress)
        _print_alphago(history)
        figure = None
    else:
        history = alphazero.train(config, seed=args.seed, solution=solution,
                                  progress=not args.no_progress)
        _print_alphazero(history, solution, args.simulations or config.n_simulations)
        from rlkit.plotting_games import plot_game_learning_curve

        figure = plot_game_learning_curve(history, title=f"AlphaZero on {game}")
    if args.plot is not None and figure is not None:
        save_figure(figure, args.plot)
    return 0


def _print_alphazero(history: Any, solution: Solution, simulations: int) -> None:
    from rlkit.agents.alphazero import search_player
    from rlkit.agents.selfplay import evaluate_player

    print("raw network (its most likely legal move), measured exactly on every position:")
    print(f"{'games':>7} {'CPU s':>7} {'optimal':>8} {'critical':>9} {'lost as X':>10} "
          f"{'lost as O':>10}")
    for games, seconds, e in zip(history.evaluation_games, history.evaluation_seconds,
                                 history.evaluations, strict=True):
        print(f"{games:>7} {seconds:>7.1f} {100 * e.optimal_rate:>7.1f}% "
              f"{100 * e.critical_rate:>8.1f}% {e.lost_as_x:>10} {e.lost_as_o:>10}")
    player = search_player(solution.game, history.predict, simulations)
    searched = evaluate_player(solution, player, critical_only=True)
    print(f"with {simulations} simulations per move: optimal on "
          f"{100 * searched.critical_rate:.1f}% of the critical positions; lines lost "
          f"{searched.lost_as_x} as X, {searched.lost_as_o} as O")


def _print_alphago(history: Any) -> None:
    print(f"SL policy: {100 * history.sl_accuracy:.1f}% of the held-out expert moves "
          f"(AlphaGo: 57%), optimal on {100 * history.sl_optimal_rate:.1f}% of the positions")
    print(f"RL policy: optimal on {100 * history.rl_optimal_rate:.1f}% of the positions; "
          f"expected outcome against the SL policy {history.rl_vs_sl:+.3f} (exact)")
    print(f"value network: RMS error {history.value_rmse_policy:.3f} against the RL policy's "
          f"exact values, {history.value_rmse_optimal:.3f} against V*")


# --------------------------------------------------------------------------------------------
# play GAME
# --------------------------------------------------------------------------------------------


def add_play_parser(commands: Any) -> None:
    """Add the ``play`` command to the sub-parsers ``commands`` of ``python -m rlkit``."""
    play = commands.add_parser(
        "play",
        help="play a board game against an agent in the terminal",
        description="Play GAME against an agent: type the number of a cell (tic-tac-toe, row "
        "by row from 0) or of a column (Connect-K) when asked; q quits.",
        epilog=f"examples:\n{PLAY_EXAMPLES}\n{EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    play.add_argument("game", metavar="GAME", help=GAME_NAMES)
    play.add_argument("--agent", choices=AGENTS, default="mcts",
                      help="perfect (the solver), mcts (UCT with random rollouts) or "
                      "alphazero (trained first, then with its search) (default: mcts)")
    play.add_argument("--as", dest="side", choices=("x", "o"), default="x",
                      help="your side; X moves first (default: x)")
    play.add_argument("--simulations", type=int, default=200, metavar="N",
                      help="mcts, alphazero: simulations per move (default: 200)")
    play.add_argument("--games", type=int, default=300, metavar="N",
                      help="alphazero: self-play games to train on first (default: 300)")
    play.add_argument("--seed", type=int, default=0, help="seed of the agent (default: 0)")
    play.set_defaults(handler=run_play, subparser=play)


def _agent(game: KInARow, args: argparse.Namespace) -> Callable[[GameState], int]:
    from rlkit.mcts import RolloutEvaluator, mcts_search

    if args.agent == "perfect":
        solution = solve(game)
        return lambda state: solution.optimal_actions(state)[0]
    if args.agent == "alphazero":
        from rlkit.agents import alphazero

        print(f"training AlphaZero for {args.games} self-play games ...", flush=True)
        history = alphazero.train(alphazero.AlphaZeroConfig(game=args.game, n_games=args.games,
                                                            eval_interval=0), seed=args.seed)
        return alphazero.search_player(game, history.predict, args.simulations, seed=args.seed)
    evaluator, rng = RolloutEvaluator(game), np.random.default_rng(args.seed)
    return lambda state: int(np.argmax(mcts_search(game, state, evaluator, args.simulations,
                                                   rng=rng, rule="uct").visit_counts))


def run_play(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """Run ``python -m rlkit play``: alternate the person's moves (from stdin) and the agent's."""
    stdin = sys.stdin if stdin is None else stdin
    game = game_or_none(args.game)
    if game is None:
        raise BadInput(f"unknown game {args.game!r}; use {GAME_NAMES}")
    if args.agent == "perfect":
        _solvable(game)
    for flag, value in (("--simulations", args.simulations), ("--games", args.games)):
        if value < 1:
            raise BadInput(f"{flag} must be >= 1; got {value}")
    if args.seed < 0:
        raise BadInput(f"--seed must be >= 0; got {args.seed}")
    agent = _agent(game, args)
    you = 1 if args.side == "x" else -1
    state = game.initial_state()
    while not state.terminal:
        print("\n" + game.render(state))
        if state.player != you:
            action = agent(state)
            print(f"agent plays {action}")
        else:
            legal = game.legal_actions(state)
            print(f"your move {list(legal)} (q quits): ", end="", flush=True)
            line = stdin.readline()
            if not line or line.strip().lower() in ("q", "quit"):
                print("\nbye")
                return 0
            try:
                action = int(line)
            except ValueError:
                print(f"not a number: {line.strip()!r}")
                continue
            if action not in legal:
                print(f"{action} is not legal here")
                continue
        state = game.next_state(state, action)
    print("\n" + game.render(state))
    print({you: "you won", -you: "the agent won", 0: "a draw"}[state.winner])
    return 0
