"""DQN on CartPole-v1: rlkit's reference agent vs Stable-Baselines3 with the zoo's settings.

Run:  .venv/bin/python benchmarks/bench_dqn.py [--seeds 5 --budget 50000]

Both agents run in this process on one torch thread, seed after seed (rlkit then SB3 for each
seed, so that both see the same load on a shared machine), with the same budget of
environment steps, and are evaluated by the same function (:func:`rlkit.evaluation.evaluate`,
greedy actions, the same evaluation seeds) every ``--eval-interval`` steps. Training seconds
exclude the evaluations. For each seed it prints

- the env steps and training seconds to the first evaluation with a mean return >= 475
  (CartPole-v1's "solved" threshold),
- the final evaluation after the budget,
- the share of the later evaluations (after the first >= 475) still >= 475.

Stable-Baselines3 uses rl-baselines3-zoo's tuned CartPole-v1 settings (``hyperparams/dqn.yml``):
lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000, gamma 0.99, target_update_interval 10,
train_freq 256, gradient_steps 128, exploration_fraction 0.16, exploration_final_eps 0.04,
net_arch [256, 256], n_timesteps 5e4. rlkit uses its default ``DQNConfig``. REINFORCE
(rlkit's default ``ReinforceConfig``) is reported alongside on its own budget.

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import torch

from rlkit.agents import dqn, reinforce
from rlkit.evaluation import EvalPoint, evaluate

SOLVED = 475.0
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


@dataclasses.dataclass(frozen=True)
class Run:
    """The evaluations of one seed."""

    seed: int
    evaluations: tuple[EvalPoint, ...]
    train_seconds: float
    wall_seconds: float

    @property
    def first_solved(self) -> EvalPoint | None:
        """Return the first evaluation with a mean >= 475, if any."""
        return next((e for e in self.evaluations if e.mean >= SOLVED), None)

    @property
    def later_share(self) -> float:
        """Return the share of the evaluations after the first solved one that are >= 475."""
        first = self.first_solved
        if first is None:
            return float("nan")
        later = [e for e in self.evaluations if e.step > first.step]
        return float(np.mean([e.mean >= SOLVED for e in later])) if later else float("nan")


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
    """Train rlkit's DQN with its default settings (budget and evaluation aside)."""
    return train_rlkit(dqn, dqn.DQNConfig(env_id=ENV_ID), seed, budget, interval, episodes)


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
            dqn.DQNConfig(), total_steps=600, learning_starts=100, eval_episodes=1
        )
        dqn.train(config, seed=0)
    if "sb3" not in skip:
        from stable_baselines3 import DQN

        model = DQN("MlpPolicy", ENV_ID, seed=0, device="cpu", **ZOO_DQN_CARTPOLE)
        model.learn(total_timesteps=1_300)


def report(name: str, runs: Sequence[Run], budget: int) -> dict[str, float]:
    """Print one line per seed and a summary; return the medians."""
    print(f"\n{name}")
    print(
        f"{'seed':>4} {'steps to >=475':>15} {'train s to >=475':>17} {'final eval':>16} "
        f"{'later >=475':>12} {'train s (all)':>14} {'wall s':>8}"
    )
    for run in runs:
        first = run.first_solved
        final = run.evaluations[-1]
        print(
            f"{run.seed:>4} {first.step if first else '-':>15} "
            f"{f'{first.train_seconds:.1f}' if first else '-':>17} "
            f"{f'{final.mean:.1f} +/- {final.std:.1f}':>16} "
            f"{'-' if np.isnan(run.later_share) else f'{run.later_share:.0%}':>12} "
            f"{run.train_seconds:>14.1f} {run.wall_seconds:>8.1f}"
        )
    solved = [r.first_solved for r in runs if r.first_solved is not None]
    finals = [r.evaluations[-1].mean for r in runs]
    shares = [r.later_share for r in runs if not np.isnan(r.later_share)]
    summary = {
        "median_steps": statistics.median(e.step for e in solved) if solved else float("nan"),
        "median_seconds": (
            statistics.median(e.train_seconds for e in solved) if solved else float("nan")
        ),
    }
    print(
        f"  reached >= {SOLVED:g}: {len(solved)}/{len(runs)} seeds; median "
        f"{summary['median_steps']:.0f} steps, {summary['median_seconds']:.1f} s of training "
        f"(over the seeds that got there)"
    )
    share = f"{np.mean(shares):.0%} on average" if shares else "-"
    print(
        f"  final evaluation after {budget} steps >= {SOLVED:g}: "
        f"{sum(f >= SOLVED for f in finals)}/{len(runs)} seeds (finals: "
        f"{', '.join(f'{f:.0f}' for f in finals)}); later evaluations >= {SOLVED:g}: {share}"
    )
    return summary


def main() -> None:
    """Parse the options, run every agent on every seed, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default: 5)")
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
    seeds = range(args.seeds)
    warm_up(skip=args.skip)
    print(
        f"CartPole-v1, {args.seeds} seeds, torch {torch.__version__} on "
        f"{torch.get_num_threads()} thread; evaluation every {args.eval_interval} steps on "
        f"{args.eval_episodes} episodes (greedy); training seconds exclude evaluation"
    )
    print(f"rlkit DQNConfig: {dqn.DQNConfig()}")
    # Seed by seed, rlkit then SB3, so that both see the same load on a shared machine.
    rlkit_runs: list[Run] = []
    sb3_runs: list[Run] = []
    for seed in seeds:
        if "rlkit" not in args.skip:
            rlkit_runs.append(
                run_rlkit_dqn(seed, args.budget, args.eval_interval, args.eval_episodes)
            )
        if "sb3" not in args.skip:
            sb3_runs.append(run_sb3_dqn(seed, args.budget, args.eval_interval, args.eval_episodes))
    summaries = {}
    if rlkit_runs:
        summaries["rlkit"] = report("rlkit DQN (default DQNConfig)", rlkit_runs, args.budget)
    if sb3_runs:
        import stable_baselines3

        summaries["sb3"] = report(
            f"Stable-Baselines3 {stable_baselines3.__version__} DQN (rl-baselines3-zoo settings)",
            sb3_runs,
            args.budget,
        )
    if "rlkit" in summaries and "sb3" in summaries:
        ratio = summaries["rlkit"]["median_seconds"] / summaries["sb3"]["median_seconds"]
        steps = summaries["rlkit"]["median_steps"] / summaries["sb3"]["median_steps"]
        print(
            f"\nrlkit / SB3, median training seconds to the first evaluation >= {SOLVED:g}: "
            f"{ratio:.2f}; median env steps: {steps:.2f}"
        )
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
