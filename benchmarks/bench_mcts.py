"""MCTS on tic-tac-toe: rlkit's array search against OpenSpiel's Python and C++ MCTS.

Run:  .venv/bin/python benchmarks/bench_mcts.py [--simulations 1000 --searches 10 --repeats 5]
      .venv/bin/python benchmarks/bench_mcts.py --quality    # and play quality vs simulations

1. *Speed*: simulations per second of UCT with one random rollout per leaf, from the empty
   board (each search a fresh tree), for rlkit (:func:`rlkit.mcts.mcts_search`) and
   OpenSpiel's ``open_spiel.python.algorithms.mcts.MCTSBot`` (the same rule, c = 1.4, one
   rollout) in the same process, interleaved, best of ``--repeats`` rounds of CPU time (one
   torch/numpy thread; other processes on the machine slow both alike). OpenSpiel's C++
   ``pyspiel.MCTSBot`` is printed too, for honesty: compiled code is another league.
2. *Quality* (``--quality``): the share of tic-tac-toe's critical positions where UCT with
   rollouts picks an optimal move (``rlkit.games.solve``), by simulations per move.

AlphaZero's figures (trained, then measured exactly on several seeds) are
``benchmarks/bench_alphazero.py``'s.

OpenSpiel is a dev extra (``pip install open_spiel``); without it part 1 prints rlkit alone.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: numpy's and torch's threads

import numpy as np  # noqa: E402

from rlkit.games import TicTacToe, solve  # noqa: E402
from rlkit.mcts import RolloutEvaluator, mcts_search  # noqa: E402

UCT_C = 1.4


def cpu_rate(searches: int, simulations: int, search: Callable[[], object]) -> float:
    """Simulations per CPU second of ``searches`` calls of ``search``."""
    start = time.process_time()
    for _ in range(searches):
        search()
    return searches * simulations / (time.process_time() - start)


def rlkit_search(simulations: int, seed: int, *, new_game: bool) -> Callable[[], object]:
    """The search of rlkit; ``new_game``: a new game object each search (nothing remembered).

    A game remembers what it derived from each board (:meth:`rlkit.games.KInARow.board_info`),
    as it does across the searches of self-play or of an evaluation: the first figure. With a
    new game each search, every board is met for the first time: the second.
    """
    rng = np.random.default_rng(seed)

    def search() -> object:
        game = TicTacToe() if new_game else shared
        return mcts_search(game, game.initial_state(), RolloutEvaluator(game), simulations,
                           rng=rng, rule="uct", c=UCT_C)

    shared = TicTacToe()
    return search


def openspiel_searches(simulations: int, seed: int) -> dict[str, Callable[[], object]]:
    try:
        import pyspiel
        from open_spiel.python.algorithms import mcts
    except ImportError:
        print("open_spiel is not installed (pip install open_spiel): rlkit's figure alone")
        return {}
    game = pyspiel.load_game("tic_tac_toe")
    state = game.new_initial_state()
    rng = np.random.RandomState(seed)
    python_bot = mcts.MCTSBot(game, UCT_C, simulations, mcts.RandomRolloutEvaluator(1, rng),
                              random_state=rng, solve=False)
    cpp_bot = pyspiel.MCTSBot(game, pyspiel.RandomRolloutEvaluator(1, seed), UCT_C, simulations,
                              1000, False, seed, False)
    return {"OpenSpiel Python MCTSBot": lambda: python_bot.mcts_search(state),
            "OpenSpiel C++ MCTSBot": lambda: cpp_bot.step(state)}


def speed(args: argparse.Namespace) -> None:
    searches = {"rlkit mcts_search": rlkit_search(args.simulations, args.seed, new_game=False),
                "rlkit, a new game each": rlkit_search(args.simulations, args.seed,
                                                       new_game=True),
                **openspiel_searches(args.simulations, args.seed)}
    best = dict.fromkeys(searches, 0.0)
    for _ in range(args.repeats):  # interleaved rounds: a busy spell slows every search
        for name, search in searches.items():
            best[name] = max(best[name], cpu_rate(args.searches, args.simulations, search))
    print(f"UCT, c = {UCT_C}, one random rollout per leaf, {args.simulations} simulations from "
          f"the empty board; best of {args.repeats} rounds of {args.searches} searches (CPU s)")
    for name, rate in best.items():
        print(f"  {name:<26} {rate:>10,.0f} simulations/s")
    python = best.get("OpenSpiel Python MCTSBot")
    if python:
        print(f"  rlkit / OpenSpiel Python: {best['rlkit mcts_search'] / python:.2f}x "
              f"({best['rlkit, a new game each'] / python:.2f}x with a new game each search)")
    print("  load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def quality(args: argparse.Namespace) -> None:
    game = TicTacToe()
    solution = solve(game)
    evaluator = RolloutEvaluator(game)
    print(f"UCT with rollouts: optimal moves on the {solution.critical.size} critical positions")
    for simulations in (4, 16, 64):
        rng = np.random.default_rng(args.seed)
        actions = [int(np.argmax(mcts_search(game, solution.states[i], evaluator, simulations,
                                             rng=rng, rule="uct", c=UCT_C).visit_counts))
                   for i in solution.critical]
        rate = solution.optimal_move_rate(np.array(actions), critical=True)
        print(f"  {simulations:>4} simulations: {100 * rate:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=10, help="searches per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quality", action="store_true", help="also play quality vs sims")
    parser.add_argument("--no-speed", action="store_true", help="skip part 1")
    args = parser.parse_args()
    if not args.no_speed:
        speed(args)
    if args.quality:
        quality(args)


if __name__ == "__main__":
    main()
