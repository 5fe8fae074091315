"""Command line: ``python -m rlkit solve ENV``, ``train ALGORITHM`` and ``rlhf STAGE``.

``solve`` solves the lecture's GridWorld or a Gymnasium toy-text env exactly and prints ``V*``
and the greedy policy. ``train`` trains a reference deep-RL agent (:mod:`rlkit.agents`) on a
Gymnasium env, showing a progress bar, and prints its evaluations and the final one (mean and
standard deviation of the return over N episodes). ``rlhf`` runs a stage of the toy RLHF stack
(:mod:`rlkit.rlhf.cli`). :func:`main` takes ``argv`` and returns the
exit code (0 ok, 2 bad input), so tests can call it directly.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlkit import dp, plotting, sampling
from rlkit.envs.gridworld import LECTURE_LAYOUT, GridWorld
from rlkit.mdp import FloatArray, IntArray, TabularMDP
from rlkit.seeding import seed_everything

__all__ = ["build_parser", "format_gridworld", "main"]

METHODS = ("value-iteration", "q-value-iteration", "policy-iteration", "policy-evaluation")
GRIDWORLD_NAMES = ("gridworld", "rlkit/GridWorld-v0")
_ARROW_OF_ACTION = {
    "N": "↑", "Up": "↑", "North": "↑",
    "E": "→", "Right": "→", "East": "→",
    "S": "↓", "Down": "↓", "South": "↓",
    "W": "←", "Left": "←", "West": "←",
}  # fmt: skip
_CELL = 7  # characters per printed grid cell

_SOLVE_EXAMPLES = """\
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
"""
_TRAIN_EXAMPLES = """\
  python -m rlkit train dqn --env CartPole-v1 --seed 0
      DQN with the default settings (50,000 steps, a greedy evaluation every 1,000)
  python -m rlkit train dqn --steps 20000 --plot dqn.png --animation dqn.gif
  python -m rlkit train dqn --no-target-network --steps 20000
      an ablation of the lecture: targets from the online network
  python -m rlkit train reinforce --seed 1 --baseline value --plot reinforce.png
  python -m rlkit train a2c --env CartPole-v1 --plot a2c.png
      A2C with the settings tuned for the env (rlkit.agents.a2c.PRESETS)
  python -m rlkit train a2c --env Pendulum-v1 --seed 1
      continuous actions: a Gaussian policy
  python -m rlkit train ppo --env CartPole-v1 --plot ppo.png
      PPO with the settings tuned for the env (rlkit.agents.ppo.PRESETS); the plot's
      diagnostics (approximate KL, clip fraction, ...) go to ppo-diagnostics.png
  python -m rlkit train ppo --env Pendulum-v1 --seed 1
"""
_EXIT_STATUS = "exit status: 0 on success, 2 on bad input (the message says what to fix).\n"
EPILOG = f"examples:\n{_SOLVE_EXAMPLES}\n{_EXIT_STATUS}"
TRAIN_EPILOG = f"examples:\n{_TRAIN_EXAMPLES}\n{_EXIT_STATUS}"
_MAIN_EPILOG = f"examples:\n{_SOLVE_EXAMPLES}{_TRAIN_EXAMPLES}\n{_EXIT_STATUS}"
ALGORITHMS = ("dqn", "reinforce", "a2c", "ppo")
_NAMES = {"dqn": "DQN", "reinforce": "REINFORCE", "a2c": "A2C", "ppo": "PPO"}


@dataclass(frozen=True)
class _Problem:
    """What was solved: the MDP, plus the GridWorld or the grid shape used for printing."""

    mdp: TabularMDP
    title: str
    gridworld: GridWorld | None = None
    grid_shape: tuple[int, int] | None = None


class _BadInput(Exception):
    """Raised for user errors; reported as ``rlkit solve: error: ...`` with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m rlkit``."""
    parser = argparse.ArgumentParser(
        prog="python -m rlkit",
        description="rlkit: the RL helpers of the course kit.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
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
        help="'gridworld' or a Gymnasium toy-text id: FrozenLake-v1, FrozenLake8x8-v1, "
        "CliffWalking-v1, Taxi-v4",
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
    solve.set_defaults(handler=_solve, subparser=solve)
    _add_train_parser(commands)
    _add_rlhf_parser(commands)
    return parser


def _add_rlhf_parser(commands: Any) -> None:
    from rlkit.rlhf import cli as rlhf_cli

    rlhf = commands.add_parser(
        "rlhf",
        help="run a stage of the toy RLHF stack (sft, rm, reinforce, rloo, ppo, rebel, dpo, "
        "best-of-n, sweep) and print its figures",
        description=(
            "Run one stage of rlkit.rlhf on the synthetic task (SFT and the reward model first, "
            "when the stage needs them), then print the figures: the reward model's accuracy "
            "next to the ceiling; for a policy, the proxy (reward-model) and gold reward, "
            "KL(pi || pi_SFT), length, repeats, off-topic tokens and the gold-reward win rate "
            "against SFT on held-out prompts."
        ),
        epilog=f"examples:\n{rlhf_cli.EXAMPLES}\n{_EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rlhf_cli.add_arguments(rlhf)
    rlhf.set_defaults(handler=_rlhf, subparser=rlhf)


def _rlhf(args: argparse.Namespace) -> int:
    from rlkit.rlhf import cli as rlhf_cli

    try:
        return rlhf_cli.run(args)
    except ValueError as error:
        raise _BadInput(str(error)) from error


def _add_train_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train DQN, REINFORCE, A2C or PPO on a Gymnasium env and print its evaluations",
        description=(
            "Train a reference agent of rlkit.agents with its default settings (A2C, PPO: the "
            "ones tuned for --env; override a few below), showing a progress bar; then print the "
            "evaluations of the policy (greedy for DQN, most likely action for REINFORCE, "
            "most likely action or the mean for A2C and PPO) and the final one: mean and standard "
            "deviation of the return over --eval-episodes episodes."
        ),
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("algorithm", choices=ALGORITHMS, metavar="{dqn,reinforce,a2c,ppo}")
    train.add_argument(
        "--env",
        default="CartPole-v1",
        help="Gymnasium id with a Box observation and Discrete actions (a2c, ppo: Discrete or "
        "Box, e.g. Pendulum-v1) (default: CartPole-v1)",
    )
    train.add_argument("--seed", type=int, default=0, help="seed of the run (default: 0)")
    train.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="budget of environment steps (default: 50000 for dqn, 200000 for reinforce; "
        "a2c, ppo: the preset's, 100000 on CartPole-v1, 200000 on Pendulum-v1)",
    )
    train.add_argument(
        "--eval-interval",
        type=int,
        default=None,
        metavar="N",
        help="evaluate every N env steps (default: 1000 for dqn, 10000 for reinforce; a2c, "
        "ppo: 1000 on CartPole-v1, 10000 on Pendulum-v1)",
    )
    train.add_argument(
        "--eval-episodes",
        type=int,
        default=10,
        metavar="N",
        help="episodes per evaluation (default: 10)",
    )
    train.add_argument(
        "--target-return",
        type=float,
        default=None,
        metavar="R",
        help="stop as soon as an evaluation's mean return reaches R (default: use the budget)",
    )
    train.add_argument(
        "--no-replay",
        action="store_true",
        help="dqn ablation: learn from the latest transition only",
    )
    train.add_argument(
        "--no-target-network",
        action="store_true",
        help="dqn ablation: compute targets with the online network",
    )
    train.add_argument(
        "--baseline",
        choices=("none", "mean", "value"),
        default=None,
        help="reinforce: baseline subtracted from the reward-to-go (default: mean)",
    )
    train.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a PNG of the learning curve (with the evaluations) and the loss (ppo: "
        "and FILE-diagnostics: approximate KL, clip fraction, explained variance, entropy)",
    )
    train.add_argument(
        "--animation",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a .gif (or .html) of one episode of the trained policy (needs pygame)",
    )
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(handler=_train, subparser=train)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Example:
        >>> main(["solve", "gridworld", "--noise", "0", "--gamma", "1", "--horizon", "3"])
        ... # doctest: +ELLIPSIS
        GridWorld 4x3, noise=0, gamma=1, living_reward=0
        method: value-iteration; iterations: 3 (NOT converged); ...
        y=3     0.00   1.00   1.00   1.00
        ...
        0

    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        try:
            return int(args.handler(args))
        except _BadInput as error:
            args.subparser.error(str(error))  # prints usage + message, exits 2
    except SystemExit as exit_:  # argparse exits on --help (0) and on errors (2)
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 2  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Building the problem
# --------------------------------------------------------------------------------------------


def _parse_env_args(pairs: Sequence[str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            raise _BadInput(f"--env-arg needs KEY=VALUE (e.g. is_slippery=False); got {pair!r}")
        try:
            kwargs[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            kwargs[key] = raw  # a bare word such as map_name=8x8 is a string
    return kwargs


def _gridworld_problem(args: argparse.Namespace) -> _Problem:
    if args.env_arg:
        raise _BadInput(
            "--env-arg is for Gymnasium envs; gridworld takes --noise, "
            "--living-reward and --layout"
        )
    layout = LECTURE_LAYOUT
    if args.layout is not None:
        try:
            layout = args.layout.read_text(encoding="utf-8")
        except OSError as error:
            raise _BadInput(f"cannot read --layout {args.layout}: {error.strerror}") from error
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
            raise _BadInput(f"{flag} only applies to gridworld, not to {args.env}")
    import gymnasium

    kwargs = _parse_env_args(args.env_arg)
    try:
        env = gymnasium.make(args.env, **kwargs)
    except gymnasium.error.Error as error:
        raise _BadInput(
            f"unknown environment {args.env!r} ({error}); use 'gridworld' or a toy-text id "
            "such as FrozenLake-v1, CliffWalking-v1, Taxi-v4"
        ) from error
    except TypeError as error:
        raise _BadInput(f"bad --env-arg for {args.env}: {error}") from error
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
        raise _BadInput("--horizon applies to value-iteration and q-value-iteration only")
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


def _solve(args: argparse.Namespace) -> int:
    try:
        if args.env.lower() in GRIDWORLD_NAMES or args.env in GRIDWORLD_NAMES:
            problem = _gridworld_problem(args)
        else:
            problem = _gymnasium_problem(args)
        solution = _solve_mdp(problem.mdp, args)
    except ValueError as error:
        raise _BadInput(str(error)) from error
    if args.episodes < 0:
        raise _BadInput(f"--episodes must be >= 0; got {args.episodes}")
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
        try:
            figure.savefig(args.plot, dpi=120)
        except OSError as error:
            raise _BadInput(f"cannot write --plot {args.plot}: {error.strerror}") from error
        print(f"wrote {args.plot}")
    return 0


# --------------------------------------------------------------------------------------------
# Training deep-RL agents
# --------------------------------------------------------------------------------------------


def _train_config(args: argparse.Namespace) -> Any:
    """Build the agent's default config with the command line's overrides."""
    from rlkit.agents import a2c, dqn, ppo, reinforce

    overrides: dict[str, Any] = {"env_id": args.env, "eval_episodes": args.eval_episodes}
    for name, value in (
        ("total_steps", args.steps),
        ("eval_interval", args.eval_interval),
        ("target_return", args.target_return),
    ):
        if value is not None:
            overrides[name] = value
    if args.algorithm != "reinforce" and args.baseline is not None:
        raise _BadInput("--baseline applies to reinforce only")
    if args.algorithm != "dqn" and (args.no_replay or args.no_target_network):
        raise _BadInput("--no-replay and --no-target-network apply to dqn only")
    try:
        if args.algorithm == "dqn":
            overrides["use_replay"] = not args.no_replay
            overrides["use_target_network"] = not args.no_target_network
            return dqn.DQNConfig(**overrides)
        if args.algorithm == "reinforce":
            if args.baseline is not None:
                overrides["baseline"] = args.baseline
            return reinforce.ReinforceConfig(**overrides)
        agent = {"a2c": a2c, "ppo": ppo}[args.algorithm]
        return agent.default_config(**overrides)  # the preset of --env, if it has one
    except ValueError as error:
        raise _BadInput(str(error)) from error


def _train(args: argparse.Namespace) -> int:
    import gymnasium

    from rlkit.agents import a2c, dqn, ppo, reinforce

    if args.seed < 0:
        raise _BadInput(f"--seed must be >= 0; got {args.seed}")
    config = _train_config(args)
    try:
        gymnasium.spec(args.env)
    except gymnasium.error.Error as error:
        raise _BadInput(f"unknown environment {args.env!r} ({error})") from error
    module: Any = {"dqn": dqn, "reinforce": reinforce, "a2c": a2c, "ppo": ppo}[args.algorithm]
    name = _NAMES[args.algorithm]
    print(f"{name} on {args.env}, seed {args.seed}, budget {config.total_steps} env steps")
    print(f"settings: {config}", flush=True)
    try:
        history = module.train(config, seed=args.seed, progress=not args.no_progress)
    except ValueError as error:  # e.g. an env with continuous actions
        raise _BadInput(str(error)) from error

    policy = {"dqn": "greedy", "reinforce": "most likely action",
              "a2c": "most likely action or mean", "ppo": "most likely action or mean"}[
                  args.algorithm]
    print(f"evaluations ({policy}, {config.eval_episodes} episodes each):")
    print(f"{'step':>8} {'mean':>8} {'std':>8} {'train s':>8}")
    for point in history.evaluations:
        print(f"{point.step:>8} {point.mean:>8.1f} {point.std:>8.1f} {point.train_seconds:>8.1f}")
    final = history.final_evaluation
    print(
        f"final evaluation after {final.step} steps: {final.mean:.1f} +/- {final.std:.1f} "
        f"(mean +/- std of the return over {config.eval_episodes} episodes); "
        f"{len(history.episode_returns)} training episodes, "
        f"{history.train_seconds:.1f} s training, {history.wall_seconds:.1f} s in all"
    )

    if args.plot is not None:
        title = f"{name} on {args.env}, seed {args.seed}"
        figures = [(args.plot, plotting.plot_history(history, title=title))]
        if args.algorithm == "ppo":
            diagnostics = args.plot.with_name(f"{args.plot.stem}-diagnostics{args.plot.suffix}")
            figures.append((diagnostics, plotting.plot_ppo_diagnostics(history, title=title)))
        for path, figure in figures:
            try:
                figure.savefig(path, dpi=120)
            except OSError as error:
                raise _BadInput(f"cannot write --plot {path}: {error.strerror}") from error
            print(f"wrote {path}")
    if args.animation is not None:
        from rlkit.animation import render_episode

        if args.animation.suffix.lower() not in (".gif", ".html", ".htm"):
            raise _BadInput(f"--animation must end in .gif or .html; got {args.animation}")
        try:
            animation = render_episode(
                args.env, history.act, seed=args.seed + module.EVAL_SEED_OFFSET
            )
            animation.save(args.animation)
        except OSError as error:
            raise _BadInput(f"cannot write --animation {args.animation}: {error}") from error
        except gymnasium.error.DependencyNotInstalled as error:
            raise _BadInput(f"cannot render {args.env}: {error}") from error
        print(f"wrote {args.animation} ({animation.caption()})")
    return 0
