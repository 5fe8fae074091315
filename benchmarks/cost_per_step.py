"""CPU time per env step and per gradient step: rlkit's DQN and A2C vs Stable-Baselines3's.

Run:  .venv/bin/python benchmarks/cost_per_step.py [--steps 6000]

Time to solve = env steps to solve x cost per env step; this script measures the second
factor, so that a gap to SB3 can be read as sample efficiency or speed. It counts CPU seconds
(``time.process_time``), which a shared machine's load inflates much less than wall seconds,
on one torch thread, with the settings of ``bench_dqn.py`` and ``bench_a2c.py`` (CartPole-v1):

- DQN: a run with no gradient step (``learning_starts`` past the budget) gives the cost of an
  env step (acting, env, replay memory); a run with the usual start adds the gradient steps,
  and the difference divided by their number is the cost of one.
- A2C: the rollout collection is timed by wrapping the library's collect function (rlkit's
  ``RolloutCollector.collect``, SB3's ``collect_rollouts``); the rest of the run (updates)
  divided by the number of updates is the cost of one.

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from bench_dqn import ENV_ID, ZOO_DQN_CARTPOLE
from solve_table import load_line

from rlkit import rollouts
from rlkit.agents import a2c, dqn


def cpu_seconds(run: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of ``run()`` and what it returned."""
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def line(name: str, per_env_step: float, per_update: float, updates_per_step: float) -> str:
    """One row: microseconds per env step, per gradient step, and both per env step."""
    total = per_env_step + per_update * updates_per_step
    return (f"{name:<22} {per_env_step * 1e6:>9.0f} {per_update * 1e6:>13.0f} "
            f"{updates_per_step:>16.3f} {total * 1e6:>16.0f}")


def no_evaluation(config: Any, steps: int) -> Any:
    """``config`` with a budget of ``steps`` and one 10-step evaluation at the end only."""
    return dataclasses.replace(config, total_steps=steps, eval_interval=0, eval_episodes=1,
                               eval_max_steps=10)


def rlkit_dqn(steps: int, base: dqn.DQNConfig | None = None, name: str = "rlkit DQN") -> str:
    """The row of rlkit's DQN with ``base`` (default: the CartPole-v1 preset)."""
    config = no_evaluation(base or dqn.default_config(ENV_ID), steps)
    acting, _ = cpu_seconds(lambda: dqn.train(
        dataclasses.replace(config, learning_starts=steps + 1), seed=1))
    total, history = cpu_seconds(lambda: dqn.train(config, seed=1))
    updates = len(history.losses)
    return line(name, acting / steps, (total - acting) / updates, updates / steps)


def sb3_dqn(steps: int) -> str:
    """The row of SB3's DQN with the zoo's settings."""
    from stable_baselines3 import DQN

    def run(learning_starts: int) -> Any:
        settings = dict(ZOO_DQN_CARTPOLE, learning_starts=learning_starts)
        return DQN("MlpPolicy", ENV_ID, seed=1, device="cpu", **settings).learn(steps)

    acting, _ = cpu_seconds(lambda: run(steps + 1))
    total, model = cpu_seconds(lambda: run(ZOO_DQN_CARTPOLE["learning_starts"]))
    updates = model._n_updates
    return line("SB3 DQN (zoo)", acting / steps, (total - acting) / updates, updates / steps)


def rlkit_a2c(steps: int, base: a2c.A2CConfig | None = None, name: str = "rlkit A2C") -> str:
    """The row of rlkit's A2C with ``base`` (default: the CartPole-v1 preset)."""
    collecting = [0.0]
    collect = rollouts.RolloutCollector.collect

    def timed_collect(self: rollouts.RolloutCollector, *args: Any) -> rollouts.Rollout:
        seconds, rollout = cpu_seconds(lambda: collect(self, *args))
        collecting[0] += seconds
        return rollout

    config = no_evaluation(base or a2c.default_config(ENV_ID), steps)
    rollouts.RolloutCollector.collect = timed_collect  # type: ignore[method-assign]
    try:
        total, history = cpu_seconds(lambda: a2c.train(config, seed=1))
    finally:
        rollouts.RolloutCollector.collect = collect  # type: ignore[method-assign]
    updates = len(history.losses)
    env_steps = updates * config.n_envs * config.n_steps  # one update per rollout
    return line(name, collecting[0] / env_steps, (total - collecting[0]) / updates,
                updates / env_steps)


def sb3_a2c(steps: int) -> str:
    """The row of SB3's A2C with the zoo's settings (8 envs, no entropy bonus)."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    seconds = {"collect": 0.0, "train": 0.0}

    class TimedA2C(A2C):
        def collect_rollouts(self, *args: Any, **kwargs: Any) -> bool:
            spent, result = cpu_seconds(lambda: super(TimedA2C, self).collect_rollouts(
                *args, **kwargs))
            seconds["collect"] += spent
            return result

        def train(self) -> None:
            spent, _ = cpu_seconds(super().train)
            seconds["train"] += spent

    model = TimedA2C("MlpPolicy", make_vec_env(ENV_ID, n_envs=8, seed=1), seed=1,
                     device="cpu", ent_coef=0.0).learn(steps)
    return line("SB3 A2C (zoo)", seconds["collect"] / model.num_timesteps,
                seconds["train"] / model._n_updates, model._n_updates / model.num_timesteps)


def main() -> None:
    """Parse the options, warm up, print one row per agent."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6_000, help="DQN env steps (A2C: 4x)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["rlkit", "sb3"])
    parser.add_argument("--before", action="store_true",
                        help="add rows for DQNConfig() and A2CConfig(), the settings before "
                             "the CartPole presets")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [("rlkit", rlkit_dqn, args.steps), ("sb3", sb3_dqn, args.steps),
            ("rlkit", rlkit_a2c, 4 * args.steps), ("sb3", sb3_a2c, 4 * args.steps)]
    if args.before:  # the settings the benchmarks ran before the presets, in the same run
        rows[1:1] = [("rlkit", partial(rlkit_dqn, base=dqn.DQNConfig(),
                                       name="rlkit DQN (defaults)"), args.steps)]
        rows[-1:-1] = [("rlkit", partial(rlkit_a2c, base=a2c.A2CConfig(),
                                         name="rlkit A2C (defaults)"), 4 * args.steps)]
    rows = [row for row in rows if row[0] not in args.skip]
    for _, measure, _ in rows:  # torch's and gymnasium's one-time costs, untimed
        measure(1_200)
    print(f"CartPole-v1, CPU microseconds, one torch thread ({load_line()})")
    print(f"{'':<22} {'env step':>9} {'gradient step':>13} {'updates/env step':>16} "
          f"{'all per env step':>16}")
    for _, measure, steps in rows:
        print(measure(steps), flush=True)


if __name__ == "__main__":
    main()
