"""``python -m rlkit solve ENV``: solve a tabular MDP exactly and print V* and the policy.

The lecture's GridWorld (``--noise``, ``--living-reward``, ``--layout``) or a Gymnasium
toy-text env (``--env-arg``) is turned into a :class:`~rlkit.mdp.TabularMDP`, solved with
:mod:`rlkit.dp` (``--method``), and printed on its grid when it has one: the values, the greedy
policy as arrows, the iterations and the final residual; ``--episodes`` also rolls the policy
out, ``--plot`` writes a PNG. :func:`add_parser` adds the command to :func:`rlkit.cli.main`'s
parser, :func:`run` is its handler.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlkit import cli_games, dp, plotting, sampling
from rlkit.cli_errors import EXIT_STATUS, BadInput, save_figure
from rlkit.envs.gridworld import LECTURE_LAYOUT, GridWorld
from rlkit.mdp import FloatArray, IntArray, TabularMDP
from rlkit.seeding import seed_everything

__all__ = ["EPILOG", "EXAMPLES", "GRIDWORLD_NAMES", "METHODS", "add_parser", "format_gridworld",
           "run"]

METHODS = ("value-iteration", "q-value-iteration", "policy-iteration", "policy-evaluation")
GRIDWORLD_NAMES = ("gridworld", "rlkit/GridWorld-v0")
_ARROW_OF_ACTION = {
    "N": "↑", "Up": "↑", "North": "↑",
    "E": "→", "Right": "→", "East": "→",
    "S": "↓", "Down": "↓", "South": "↓",
    "W": "←", "Left": "←", "West": "←",
}  # fmt: skip
_CELL = 7  # characters per printed grid cell

EXAMPLES = """\
  python -m rlkit solve gridworld
      value iteration on the lecture's 4x3 world (noise 0.2, gamma 0.9)
  python -m rlkit solve gridworld --noise 0 --gamma 1 --horizon 100
      the slide's deterministic case: V*(1,1) = V*(3,3) = 1
  python -m rlkit solve gridworld --method policy-iteration --living-reward -0.04
  python -m rlkit solve gridworld --layout maze.txt --plot values.png
      a custom map ('.' free, '#' wall, 'S' start, '+'/'-' exits, top row first)
  python -m rlkit solve FrozenLake-v1 --env-arg is_slippery=False --gamma 0.9
  python -m rlkit solve CliffWalking-v1 --method q-value-iteration --plot cliff.png
  python -m rlkit solve Taxi-v4 --episodes 100 --seed 1
  python -m rlkit solve tictactoe --moves 4,0
      tic-tac-toe solved exactly (5,478 states): V* and Q* of each move after X 4, O 0
"""
EPILOG = f"examples:\n{EXAMPLES}\n{EXIT_STATUS}"


@dataclass(frozen=True)
class _Problem:
    """What was solved: the MDP, plus the GridWorld or the grid shape used for printing."""

    mdp: TabularMDP
    title: str
    gridworld: GridWorld | None = None
    grid_shape: tuple[int, int] | None = None


def add_parser(commands: Any) -> None:
    """Add the ``solve`` command to the sub-parsers ``commands`` of ``python -m rlkit``."""
    solve = commands.add_parser(
        "solve",
        help="solve a tabular MDP exactly and print V* and the greedy policy",
        description=(
            "Solve the lecture's GridWorld or a Gymnasium toy-text env with dynamic "
            "programming; print V* and the greedy policy, the number of iterations and the "
            "final residual."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    solve.add_argument(
        "env",
        metavar="ENV",
        help="'gridworld', a Gymnasium toy-text id (FrozenLake-v1, FrozenLake8x8-v1, "
        "CliffWalking-v1, Taxi-v4) or a game (tictactoe, connectK-RxC): solved exactly",
    )
    solve.add_argument(
        "--method",
        choices=METHODS,
        default="value-iteration",
        help="algorithm (default: value-iteration); policy-evaluation evaluates the "
        "uniformly random policy exactly",
    )
    solve.add_argument(
        "--gamma",
        type=float,
        default=None,
        help="discount in [0, 1] (default: 0.9 for gridworld, 0.99 for Gymnasium envs)",
    )
    solve.add_argument(
        "--noise",
        type=float,
        default=None,
        help="gridworld only: probability of slipping sideways (default: 0.2)",
    )
    solve.add_argument(
        "--living-reward",
        type=float,
        default=None,
        help="gridworld only: reward of each move between ordinary cells (default: 0)",
    )
    solve.add_argument(
        "--layout",
        type=Path,
        default=None,
        metavar="FILE",
        help="gridworld only: text map, top row first ('.' free, '#' wall, 'S' start, "
        "'+'/'-' exits +1/-1)",
    )
    solve.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Gymnasium envs only: keyword for gymnasium.make, e.g. is_slippery=False "
        "(repeatable; VALUE is a Python literal)",
    )
    solve.add_argument(
        "--tol",
        type=float,
        default=1e-10,
        help="stop when the max-norm change of a sweep is below this (default: 1e-10)",
    )
    solve.add_argument(
        "--horizon",
        type=int,
        default=None,
        help="value-iteration / q-value-iteration: run exactly H sweeps (V_H = optimal "
        "value with H steps left) instead of iterating to convergence",
    )
    solve.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a PNG of the values (gridworld: heatmap with policy arrows)",
    )
    solve.add_argument(
        "--episodes",
        type=int,
        default=0,
        help="also roll out the policy for this many sampled episodes and report the mean "
        "discounted return next to mu . V (default: 0)",
    )
    solve.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the sampled episodes (default: 0)",
    )
    solve.add_argument(
        "--moves",
        default=None,
        metavar="A,B,...",
        help="games only: the moves played so far (e.g. 4,0,8); prints V* and Q* there",
    )
    solve.set_defaults(handler=run, subparser=solve)


# --------------------------------------------------------------------------------------------
# Building the problem
# --------------------------------------------------------------------------------------------


def _parse_env_args(pairs: Sequence[str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            raise BadInput(f"--env-arg needs KEY=VALUE (e.g. is_slippery=False); got {pair!r}")
        try:
            kwargs[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            kwargs[key] = raw  # a bare word such as map_name=8x8 is a string
    return kwargs


def _gridworld_problem(args: argparse.Namespace) -> _Problem:
    if args.env_arg:
        raise BadInput(
            "--env-arg is for Gymnasium envs; gridworld takes --noise, "
            "--living-reward and --layout"
        )
    layout = LECTURE_LAYOUT
    if args.layout is not None:
        try:
            layout = args.layout.read_text(encoding="utf-8")
        except OSError as error:
            raise BadInput(f"cannot read --layout {args.layout}: {error.strerror}") from error
    world = GridWorld(
        layout,
        noise=0.2 if args.noise is None else args.noise,
        gamma=0.9 if args.gamma is None else args.gamma,
        living_reward=0.0 if args.living_reward is None else args.living_reward,
    )
    title = (
        f"GridWorld {world.width}x{world.height}, noise={world.noise:g}, "
        f"gamma={world.gamma:g}, living_reward={world.living_reward:g}"
    )
    return _Problem(mdp=world.mdp, title=title, gridworld=world)


def _gymnasium_problem(args: argparse.Namespace) -> _Problem:
    for flag, value in (
        ("--noise", args.noise), ("--living-reward", args.living_reward),
        ("--layout", args.layout),
    ):  # fmt: skip
        if value is not None:
            raise BadInput(f"{flag} only applies to gridworld, not to {args.env}")
    import gymnasium

    kwargs = _parse_env_args(args.env_arg)
    try:
        env = gymnasium.make(args.env, **kwargs)
    except gymnasium.error.Error as error:
        raise BadInput(
            f"unknown environment {args.env!r} ({error}); use 'gridworld' or a toy-text id "
            "such as FrozenLake-v1, CliffWalking-v1, Taxi-v4"
        ) from error
    except TypeError as error:
        raise BadInput(f"bad --env-arg for {args.env}: {error}") from error
    unwrapped = env.unwrapped
    mdp = TabularMDP.from_toy_text(env, gamma=0.99 if args.gamma is None else args.gamma)
    grid_shape = None
    if hasattr(unwrapped, "nrow") and hasattr(unwrapped, "ncol"):  # FrozenLake
        grid_shape = (int(unwrapped.nrow), int(unwrapped.ncol))
    elif isinstance(getattr(unwrapped, "shape", None), tuple):  # CliffWalking
        grid_shape = tuple(int(n) for n in unwrapped.shape)
    if grid_shape is not None and grid_shape[0] * grid_shape[1] != mdp.n_states:
        grid_shape = None
    env.close()
    return _Problem(mdp=mdp, title=f"{args.env}, gamma={mdp.gamma:g}", grid_shape=grid_shape)


# --------------------------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Solution:
    values: FloatArray
    policy: IntArray | None  # None: policy-evaluation of the uniform policy
    n_iterations: int
    residual: float
    residual_name: str
    converged: bool


def _solve_mdp(mdp: TabularMDP, args: argparse.Namespace) -> _Solution:
    if args.horizon is not None and args.method not in ("value-iteration", "q-value-iteration"):
        raise BadInput("--horizon applies to value-iteration and q-value-iteration only")
    if args.method == "value-iteration":
        vi = dp.value_iteration(mdp, horizon=args.horizon, tol=args.tol)
        last = float(vi.residuals[-1]) if vi.n_iterations else 0.0
        return _Solution(
            vi.values, vi.policy, vi.n_iterations, last, "max_s |V_K(s) - V_K-1(s)|", vi.converged
        )
    if args.method == "q-value-iteration":
        qvi = dp.q_value_iteration(mdp, horizon=args.horizon, tol=args.tol)
        last = float(qvi.residuals[-1]) if qvi.n_iterations else 0.0
        return _Solution(
            qvi.values, qvi.policy, qvi.n_iterations, last, "max_s,a |Q_K - Q_K-1|", qvi.converged
        )
    if args.method == "policy-iteration":
        pi = dp.policy_iteration(mdp)
        residual = np.max(np.abs(dp.bellman_optimality_backup(mdp, pi.values) - pi.values))
        return _Solution(
            pi.values,
            pi.policy,
            pi.n_iterations,
            float(residual),
            "Bellman residual max_s |T*V - V|",
            pi.converged,
        )
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    values = dp.policy_evaluation_exact(mdp, uniform)
    residual = np.max(np.abs(dp.bellman_expectation_backup(mdp, values, uniform) - values))
    return _Solution(
        values,
        None,
        0,
        float(residual),
        "Bellman residual max_s |T^pi V - V| (exact linear solve)",
        True,
    )


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------


def _arrow(mdp: TabularMDP, action: int, width: int = _CELL - 1) -> str:
    name = mdp.action_names[action] if mdp.action_names else str(action)
    return _ARROW_OF_ACTION.get(name, name[:width])


def format_gridworld(world: GridWorld, cells: Sequence[str]) -> str:
    """Lay out one string per state on the grid, y up, with axis labels; walls show ###."""
    header = " " * 5 + "".join(f"{'x=' + str(x):>{_CELL}}" for x in range(1, world.width + 1))
    lines = [header]
    for y in range(world.height, 0, -1):
        row = [
            "###" if (x, y) in world.walls else cells[world.state_index((x, y))]
            for x in range(1, world.width + 1)
        ]
        lines.append(f"y={y:<3}" + "".join(f"{c:>{_CELL}}" for c in row))
    return "\n".join(lines)


def _format_rows(shape: tuple[int, int], cells: Sequence[str]) -> str:
    rows, cols = shape
    lines = [" " * 6 + "".join(f"{'c' + str(c):>{_CELL}}" for c in range(cols))]
    for r in range(rows):
        line = "".join(f"{cells[r * cols + c]:>{_CELL}}" for c in range(cols))
        lines.append(f"r{r:<5}" + line)
    return "\n".join(lines)


def _format_table(mdp: TabularMDP, solution: _Solution, n_columns: int = 4) -> str:
    entries = []
    for s in range(mdp.n_states):
        action = (
            "T"
            if mdp.terminal[s]
            else ("" if solution.policy is None else _arrow(mdp, int(solution.policy[s]), width=8))
        )
        entries.append(f"{s:>5} {solution.values[s]:>9.3f} {action:<8}")
    header = f"{'s':>5} {'V':>9} {'action':<8}"
    lines = ["  ".join([header] * min(n_columns, len(entries))).rstrip()]
    for start in range(0, len(entries), n_columns):
        lines.append("  ".join(entries[start : start + n_columns]).rstrip())
    return "\n".join(lines)


def _report(problem: _Problem, solution: _Solution, method: str) -> str:
    mdp = problem.mdp
    status = "converged" if solution.converged else "NOT converged"
    lines = [
        problem.title,
        f"method: {method}; iterations: {solution.n_iterations} ({status}); "
        f"final residual: {solution.residual:.3g} [{solution.residual_name}]",
        "",
    ]
    label = "V* (optimal values)" if solution.policy is not None else "V^pi (uniform policy)"
    values = [f"{v:.2f}" for v in solution.values]
    if solution.policy is not None:
        policy = [
            "T" if mdp.terminal[s] else _arrow(mdp, int(a)) for s, a in enumerate(solution.policy)
        ]
    if problem.gridworld is not None:
        world = problem.gridworld
        lines += [label + ":", format_gridworld(world, values), ""]
        if solution.policy is not None:
            for cell, reward in world.exits.items():
                policy[world.state_index(cell)] = f"{reward:+.2f}"
            lines += [
                "greedy policy (exits show their reward):",
                format_gridworld(world, policy),
                "",
            ]
    elif problem.grid_shape is not None:
        lines += [label + " (row 0 at the top):", _format_rows(problem.grid_shape, values), ""]
        if solution.policy is not None:
            lines += [
                "greedy policy (T = terminal):",
                _format_rows(problem.grid_shape, policy),
                "",
            ]
    else:
        lines += [label + " and greedy action (T = terminal):", _format_table(mdp, solution), ""]
    lines.append(
        f"expected value of the start distribution, mu . V = {float(mdp.mu @ solution.values):.4f}"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m rlkit solve`` with the parsed ``args``; return the exit status."""
    game = cli_games.game_or_none(args.env)
    if game is not None:
        return cli_games.solve_game(game, args)
    if args.moves is not None:
        raise BadInput("--moves applies to games only (tictactoe, connectK-RxC)")
    try:
        if args.env.lower() in GRIDWORLD_NAMES or args.env in GRIDWORLD_NAMES:
            problem = _gridworld_problem(args)
        else:
            problem = _gymnasium_problem(args)
        solution = _solve_mdp(problem.mdp, args)
    except ValueError as error:
        raise BadInput(str(error)) from error
    if args.episodes < 0:
        raise BadInput(f"--episodes must be >= 0; got {args.episodes}")
    print(_report(problem, solution, args.method))

    if args.episodes > 0:
        rng = seed_everything(args.seed)
        mdp = problem.mdp
        policy = (
            np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
            if solution.policy is None
            else solution.policy
        )
        returns = np.array(
            [
                sampling.discounted_return(
                    sampling.sample_trajectory(mdp, policy, rng).rewards, mdp.gamma
                )
                for _ in range(args.episodes)
            ]
        )
        error = returns.std(ddof=1) / np.sqrt(returns.size) if returns.size > 1 else 0.0
        print(
            f"sampled {args.episodes} episodes (seed {args.seed}): mean discounted return "
            f"{returns.mean():.4f} +/- {error:.4f} (standard error)"
        )

    if args.plot is not None:
        name = "V*" if solution.policy is not None else "V^pi"
        if problem.gridworld is not None:
            figure = plotting.plot_gridworld_values(
                problem.gridworld,
                solution.values,
                solution.policy,
                title=f"{name}: {problem.title}",
            )
        else:
            figure = plotting.plot_state_values(
                solution.values, shape=problem.grid_shape, title=f"{name}: {problem.title}"
            )
        save_figure(figure, args.plot)
    return 0
