"""DQN on CartPole-v1: rlkit's reference agent vs Stable-Baselines3 with the zoo's settings.

Run:  .venv/bin/python benchmarks/bench_dqn.py [--seeds 5 --budget 50000 --first-seed 0]

(``--first-seed`` lets two processes share the seeds of one table on a machine with cores to
spare: each still alternates rlkit and SB3 seed by seed.)

Both agents run in this process on one torch thread, seed after seed (rlkit then SB3 for each
seed, so that both see the same load on a shared machine), with the same budget of
environment steps, and are evaluated by the same function (:func:`rlkit.evaluation.evaluate`,
greedy actions, the same evaluation seeds) every ``--eval-interval`` steps. Training seconds
exclude the evaluations. For each seed it prints

- the env steps and training seconds to the first evaluation with a mean return >= 475
  (CartPole-v1's "solved" threshold) and to the stable solve, the first of 5 evaluations in a
  row >= 475 (``solve_table.py``),
- the final evaluation after the budget,
- the share of the later evaluations (after the first >= 475) still >= 475.

Stable-Baselines3 uses rl-baselines3-zoo's tuned CartPole-v1 settings (``hyperparams/dqn.yml``):
lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000, gamma 0.99, target_update_interval 10,
train_freq 256, gradient_steps 128, exploration_fraction 0.16, exploration_final_eps 0.04,
net_arch [256, 256], n_timesteps 5e4. rlkit uses its CartPole-v1 preset
(``dqn.default_config("CartPole-v1")``, tuned on seeds 10-12, never on the seeds 0-4 of this
table). REINFORCE
(rlkit's default ``ReinforceConfig``) is reported alongside on its own budget.

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import torch
from solve_table import HEADER, Run, load_line, print_live, print_ratios, report

from rlkit.agents import dqn, reinforce
from rlkit.evaluation import EvalPoint, evaluate

ENV_ID = "CartPole-v1"

ZOO_DQN_CARTPOLE = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1_000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}


def train_rlkit(
    agent: ModuleType, config: Any, seed: int, budget: int, interval: int, episodes: int
) -> Run:
    """Train rlkit's ``agent`` (a module of rlkit.agents) with ``config``, its budget and
    evaluation replaced by ``budget``, ``interval`` and ``episodes``.
    """  # noqa: D205
    config = dataclasses.replace(
        config, total_steps=budget, eval_interval=interval, eval_episodes=episodes
    )
    history = agent.train(config, seed=seed)
    return Run(seed, history.evaluations, history.train_seconds, history.wall_seconds)


def run_rlkit_dqn(seed: int, budget: int, interval: int, episodes: int) -> Run:
    """Train rlkit's DQN with its CartPole-v1 preset (budget and evaluation aside)."""
    return train_rlkit(dqn, dqn.default_config(ENV_ID), seed, budget, interval, episodes)


def run_rlkit_reinforce(seed: int, budget: int, interval: int, episodes: int) -> Run:
    """Train rlkit's REINFORCE with its default settings (budget and evaluation aside)."""
    config = reinforce.ReinforceConfig(env_id=ENV_ID)
    return train_rlkit(reinforce, config, seed, budget, interval, episodes)


def run_sb3_dqn(seed: int, budget: int, interval: int, episodes: int) -> Run:
    """Train SB3's DQN with the zoo settings, evaluated by rlkit's evaluate in a callback."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    evaluations: list[EvalPoint] = []
    eval_seconds = 0.0
    start = time.perf_counter()

    class EvalEvery(BaseCallback):
        def _on_step(self) -> bool:
            nonlocal eval_seconds
            if self.num_timesteps % interval == 0 or self.num_timesteps == budget:
                t0 = time.perf_counter()
                model = self.model
                result = evaluate(
                    ENV_ID,
                    lambda obs: int(model.predict(obs, deterministic=True)[0]),
                    n_episodes=episodes,
                    seed=seed + dqn.EVAL_SEED_OFFSET,  # the same episodes as rlkit's
                )
                eval_seconds += time.perf_counter() - t0
                train = time.perf_counter() - start - eval_seconds
                evaluations.append(EvalPoint(self.num_timesteps, result.mean, result.std, train))
            return True

    model = DQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", verbose=0, **ZOO_DQN_CARTPOLE)
    model.learn(total_timesteps=budget, callback=EvalEvery())
    wall = time.perf_counter() - start
    return Run(seed, tuple(evaluations), wall - eval_seconds, wall)


def warm_up(skip: Sequence[str]) -> None:
    """Pay torch's and gymnasium's one-time start-up costs before anything is timed."""
    if "rlkit" not in skip or "reinforce" not in skip:
        config = dataclasses.replace(
            dqn.default_config(ENV_ID), total_steps=600, learning_starts=100, eval_episodes=1
        )
        dqn.train(config, seed=0)
    if "sb3" not in skip:
        from stable_baselines3 import DQN

        model = DQN("MlpPolicy", ENV_ID, seed=0, device="cpu", **ZOO_DQN_CARTPOLE)
        model.learn(total_timesteps=1_300)


def main() -> None:
    """Parse the options, run every agent on every seed, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default: 5)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="start the seeds here: FIRST..FIRST+N-1 (default: 0)")
    parser.add_argument("--budget", type=int, default=50_000, help="DQN env steps (both)")
    parser.add_argument(
        "--reinforce-budget", type=int, default=200_000, help="REINFORCE env steps"
    )
    parser.add_argument("--eval-interval", type=int, default=1_000)
    parser.add_argument("--reinforce-eval-interval", type=int, default=5_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--skip", nargs="*", default=[], choices=["rlkit", "sb3", "reinforce"])
    args = parser.parse_args()

    torch.set_num_threads(1)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    warm_up(skip=args.skip)
    print(
        f"CartPole-v1, {args.seeds} seeds, torch {torch.__version__} on "
        f"{torch.get_num_threads()} thread; evaluation every {args.eval_interval} steps on "
        f"{args.eval_episodes} episodes (greedy); training seconds exclude evaluation; "
        f"{load_line()}"
    )
    print(f"rlkit DQN preset: {dqn.default_config(ENV_ID)}")
    # Seed by seed, rlkit then SB3, so that both see the same load on a shared machine.
    print(f"{'':8}{HEADER}")
    rlkit_runs: list[Run] = []
    sb3_runs: list[Run] = []
    for seed in seeds:
        if "rlkit" not in args.skip:
            rlkit_runs.append(print_live("rlkit", run_rlkit_dqn(
                seed, args.budget, args.eval_interval, args.eval_episodes)))
        if "sb3" not in args.skip:
            sb3_runs.append(print_live("sb3", run_sb3_dqn(
                seed, args.budget, args.eval_interval, args.eval_episodes)))
    summaries = {}
    if rlkit_runs:
        summaries["rlkit"] = report("rlkit DQN (default_config('CartPole-v1'))", rlkit_runs,
                                    args.budget)
    if sb3_runs:
        import stable_baselines3

        summaries["sb3"] = report(
            f"Stable-Baselines3 {stable_baselines3.__version__} DQN (rl-baselines3-zoo settings)",
            sb3_runs,
            args.budget,
        )
    if "rlkit" in summaries and "sb3" in summaries:
        print()
        print_ratios(summaries["rlkit"], summaries["sb3"])
    if "reinforce" not in args.skip:
        print(f"\nrlkit ReinforceConfig: {reinforce.ReinforceConfig()}")
        runs = [
            run_rlkit_reinforce(
                s, args.reinforce_budget, args.reinforce_eval_interval, args.eval_episodes
            )
            for s in seeds
        ]
        report("rlkit REINFORCE (default ReinforceConfig)", runs, args.reinforce_budget)


if __name__ == "__main__":
    main()
