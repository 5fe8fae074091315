"""``python -m rlkit train ALGORITHM``: train a reference deep-RL agent and print its evaluations.

DQN, REINFORCE, A2C or PPO (:mod:`rlkit.agents`) on a Gymnasium env, with the agent's default
settings (DQN, A2C and PPO: the preset of ``--env``) and a few overrides, a progress bar, then the
evaluations and the final one; ``--plot`` writes the learning curve (PPO: and its diagnostics),
``--animation`` an episode of the trained policy. :func:`add_parser` adds the command to
:func:`rlkit.cli.main`'s parser, :func:`run` is its handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rlkit import cli_games, plotting
from rlkit.cli_errors import EXIT_STATUS, BadInput, save_figure

__all__ = ["ALGORITHMS", "EPILOG", "EXAMPLES", "GAME_ALGORITHMS", "add_parser", "run"]

EXAMPLES = """\
  python -m rlkit train dqn --env CartPole-v1 --seed 0
      DQN with the settings tuned for the env (rlkit.agents.dqn.PRESETS: 50,000 steps, a
      greedy evaluation every 1,000)
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
  python -m rlkit train alphazero --game tictactoe --plot alphazero.png
      AlphaZero's self-play with search, measured exactly against the solved game
  python -m rlkit train alphago --game tictactoe
      AlphaGo's pipeline: SL policy, RL policy against a pool, value network
"""
EPILOG = f"examples:\n{EXAMPLES}\n{EXIT_STATUS}"
ALGORITHMS = ("dqn", "reinforce", "a2c", "ppo", "alphazero", "alphago")
GAME_ALGORITHMS = ("alphazero", "alphago")
_NAMES = {"dqn": "DQN", "reinforce": "REINFORCE", "a2c": "A2C", "ppo": "PPO"}


def add_parser(commands: Any) -> None:
    """Add the ``train`` command to the sub-parsers ``commands`` of ``python -m rlkit``."""
    train = commands.add_parser(
        "train",
        help="train DQN, REINFORCE, A2C or PPO on a Gymnasium env, or AlphaZero or AlphaGo on "
        "a board game, and print its evaluations",
        description=(
            "Train a reference agent of rlkit.agents with its default settings (DQN, A2C, PPO: "
            "the ones tuned for --env; override a few below), showing a progress bar; then print "
            "the evaluations of the policy (greedy for DQN, most likely action for REINFORCE, "
            "most likely action or the mean for A2C and PPO) and the final one: mean and standard "
            "deviation of the return over --eval-episodes episodes."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("algorithm", choices=ALGORITHMS,
                       metavar="{dqn,reinforce,a2c,ppo,alphazero,alphago}")
    train.add_argument(
        "--game",
        default="tictactoe",
        help="alphazero, alphago: tictactoe or connectK-RxC with at most 16 cells (default: "
        "tictactoe)",
    )
    train.add_argument(
        "--games",
        type=int,
        default=None,
        metavar="N",
        help="alphazero: self-play games (default: 1500); alphago: RL iterations (default: 150)",
    )
    train.add_argument(
        "--simulations",
        type=int,
        default=None,
        metavar="N",
        help="alphazero: simulations per move of the final search evaluation (default: 25)",
    )
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
    train.set_defaults(handler=run, subparser=train)


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
        raise BadInput("--baseline applies to reinforce only")
    if args.algorithm != "dqn" and (args.no_replay or args.no_target_network):
        raise BadInput("--no-replay and --no-target-network apply to dqn only")
    try:
        if args.algorithm == "dqn":
            overrides["use_replay"] = not args.no_replay
            overrides["use_target_network"] = not args.no_target_network
            return dqn.default_config(**overrides)  # the preset of --env, if it has one
        if args.algorithm == "reinforce":
            if args.baseline is not None:
                overrides["baseline"] = args.baseline
            return reinforce.ReinforceConfig(**overrides)
        agent = {"a2c": a2c, "ppo": ppo}[args.algorithm]
        return agent.default_config(**overrides)  # the preset of --env, if it has one
    except ValueError as error:
        raise BadInput(str(error)) from error


def _refuse_gym_flags(args: argparse.Namespace) -> None:
    """AlphaZero and AlphaGo play a board game: the Gymnasium flags are a mistake there."""
    given = [flag for flag, value in (
        ("--env", args.env != "CartPole-v1"), ("--steps", args.steps is not None),
        ("--eval-interval", args.eval_interval is not None),
        ("--target-return", args.target_return is not None),
        ("--no-replay", args.no_replay), ("--no-target-network", args.no_target_network),
        ("--baseline", args.baseline is not None), ("--animation", args.animation is not None),
    ) if value]
    if given:
        raise BadInput(f"{', '.join(given)} do(es) not apply to {args.algorithm}, which plays "
                       "--game")


def run(args: argparse.Namespace) -> int:
    """Run ``python -m rlkit train`` with the parsed ``args``; return the exit status."""
    import gymnasium

    from rlkit.agents import a2c, dqn, ppo, reinforce

    if args.algorithm in GAME_ALGORITHMS:
        _refuse_gym_flags(args)
        return cli_games.train_game(args)
    for flag, value in (("--games", args.games), ("--simulations", args.simulations)):
        if value is not None:
            raise BadInput(f"{flag} applies to alphazero and alphago only")
    if args.seed < 0:
        raise BadInput(f"--seed must be >= 0; got {args.seed}")
    config = _train_config(args)
    try:
        gymnasium.spec(args.env)
    except gymnasium.error.Error as error:
        raise BadInput(f"unknown environment {args.env!r} ({error})") from error
    module: Any = {"dqn": dqn, "reinforce": reinforce, "a2c": a2c, "ppo": ppo}[args.algorithm]
    name = _NAMES[args.algorithm]
    print(f"{name} on {args.env}, seed {args.seed}, budget {config.total_steps} env steps")
    print(f"settings: {config}", flush=True)
    try:
        history = module.train(config, seed=args.seed, progress=not args.no_progress)
    except ValueError as error:  # e.g. an env with continuous actions
        raise BadInput(str(error)) from error

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
            save_figure(figure, path)
    if args.animation is not None:
        from rlkit.animation import render_episode

        if args.animation.suffix.lower() not in (".gif", ".html", ".htm"):
            raise BadInput(f"--animation must end in .gif or .html; got {args.animation}")
        try:
            animation = render_episode(
                args.env, history.act, seed=args.seed + module.EVAL_SEED_OFFSET
            )
            animation.save(args.animation)
        except OSError as error:
            raise BadInput(f"cannot write --animation {args.animation}: {error}") from error
        except gymnasium.error.DependencyNotInstalled as error:
            raise BadInput(f"cannot render {args.env}: {error}") from error
        print(f"wrote {args.animation} ({animation.caption()})")
    return 0
