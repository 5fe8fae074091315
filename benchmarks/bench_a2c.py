"""A2C: rlkit's reference agent vs Stable-Baselines3's A2C with the zoo's settings.

Run:  .venv/bin/python benchmarks/bench_a2c.py [--seeds 5 --budget 100000 --pendulum-budget 200000]

CartPole-v1. Both agents run in this process on one torch thread, seed after seed (rlkit then
SB3 for each seed, so that both see the same load on a shared machine), with the same budget of
environment steps (summed over the vector env's copies), and are evaluated by the same function
(:func:`rlkit.evaluation.evaluate`, the most likely action, the same evaluation seeds) every
``--eval-interval`` steps on ``--eval-episodes`` episodes. Training seconds exclude the
evaluations. For each seed: the env steps and training seconds to the first evaluation with a
mean return >= 475 and to the first of 5 in a row (the stable solve), the final evaluation
after the budget, and the share of the later evaluations still >= 475 (``solve_table.py``).

Pendulum-v1 (continuous actions, a Gaussian policy). rlkit's ``PRESETS["Pendulum-v1"]`` and
SB3 with the zoo's settings, after the same budget: the final mean return over
``--eval-episodes`` episodes (deterministic actions), next to a uniformly random policy's.

Stable-Baselines3 uses rl-baselines3-zoo's tuned settings (``hyperparams/a2c.yml``):

- CartPole-v1: n_envs 8, ent_coef 0.0, otherwise SB3's A2C defaults (lr 7e-4 RMSprop, n_steps
  5, gamma 0.99, gae_lambda 1.0, vf_coef 0.5, max_grad_norm 0.5, 64x64 tanh networks with
  orthogonal initialisation); the zoo's budget is 5e5 steps.
- Pendulum-v1: normalize (VecNormalize of observations and rewards, gamma 0.9), n_envs 8,
  n_steps 8, gamma 0.9, gae_lambda 0.9, vf_coef 0.4, ent_coef 0.0, max_grad_norm 0.5,
  RMSprop, no advantage normalisation, learning rate linear from 7e-4 to 0 (here over our
  budget; the zoo's is 1e6 steps), gSDE exploration, log_std_init -2, ortho_init False.

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from bench_dqn import train_rlkit
from solve_table import HEADER, Run, load_line, print_live, print_ratios, report

from rlkit.agents import a2c
from rlkit.evaluation import EvalPoint, evaluate

CARTPOLE = "CartPole-v1"
PENDULUM = "Pendulum-v1"

ZOO_A2C_CARTPOLE = {"n_envs": 8, "ent_coef": 0.0}
ZOO_A2C_PENDULUM = {
    "n_envs": 8,
    "ent_coef": 0.0,
    "max_grad_norm": 0.5,
    "n_steps": 8,
    "gae_lambda": 0.9,
    "vf_coef": 0.4,
    "gamma": 0.9,
    "use_rms_prop": True,
    "normalize_advantage": False,
    "learning_rate": 7e-4,  # linear to 0 over the budget (the zoo's "lin_7e-4")
    "use_sde": True,
    "policy_kwargs": {"log_std_init": -2.0, "ortho_init": False},
}


def rlkit_config(
    env_id: str, budget: int, interval: int, episodes: int, agent: ModuleType = a2c
) -> Any:
    """The tuned settings of rlkit's ``agent`` (a2c, ppo) for ``env_id``, budget and
    evaluation aside.
    """  # noqa: D205
    return agent.default_config(
        env_id, total_steps=budget, eval_interval=interval, eval_episodes=episodes
    )


def run_rlkit(
    env_id: str, seed: int, budget: int, interval: int, episodes: int, agent: ModuleType = a2c
) -> Run:
    """Train rlkit's ``agent`` (a2c, ppo) with its preset for ``env_id``."""
    return train_rlkit(agent, agent.default_config(env_id), seed, budget, interval, episodes)


def run_sb3(env_id: str, seed: int, budget: int, interval: int, episodes: int) -> Run:
    """Train SB3's A2C with the zoo settings, evaluated by rlkit's evaluate in a callback."""
    from stable_baselines3 import A2C

    settings = dict(ZOO_A2C_CARTPOLE if env_id == CARTPOLE else ZOO_A2C_PENDULUM)
    if env_id == PENDULUM:
        start_rate = settings.pop("learning_rate")
        settings["learning_rate"] = lambda progress_remaining: progress_remaining * start_rate
    return train_sb3(A2C, env_id, seed, budget, interval, episodes, settings,
                     normalize=env_id == PENDULUM)


def train_sb3(
    algorithm: type,
    env_id: str,
    seed: int,
    budget: int,
    interval: int,
    episodes: int,
    settings: dict[str, Any],
    *,
    normalize: bool = False,
) -> Run:
    """Train an SB3 algorithm (A2C, PPO) with ``settings`` (``n_envs`` among them), evaluated
    every ``interval`` steps by rlkit's evaluate (the most likely action, the same episodes
    as rlkit's) in a callback; ``normalize`` wraps the envs in VecNormalize(gamma).
    """  # noqa: D205
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    settings = dict(settings)
    venv = make_vec_env(env_id, n_envs=settings.pop("n_envs"), seed=seed)
    if normalize:
        venv = VecNormalize(venv, gamma=settings["gamma"])

    evaluations: list[EvalPoint] = []
    eval_seconds = 0.0
    start = time.perf_counter()
    next_eval = interval if interval else budget

    def policy(obs: np.ndarray) -> np.ndarray:
        if normalize:  # the policy sees normalised observations (frozen statistics)
            obs = venv.normalize_obs(obs)
        return model.predict(obs, deterministic=True)[0]

    def run_evaluation(step: int) -> None:
        nonlocal eval_seconds
        t0 = time.perf_counter()
        result = evaluate(env_id, policy, n_episodes=episodes, seed=seed + a2c.EVAL_SEED_OFFSET,
                          batched=True)  # the same episodes as rlkit's
        eval_seconds += time.perf_counter() - t0
        train = time.perf_counter() - start - eval_seconds
        evaluations.append(EvalPoint(step, result.mean, result.std, train))

    class EvalEvery(BaseCallback):
        def _on_step(self) -> bool:
            nonlocal next_eval
            if self.num_timesteps >= next_eval and self.num_timesteps < budget:
                run_evaluation(self.num_timesteps)
                while next_eval <= self.num_timesteps:
                    next_eval += interval if interval else budget
            return True

    model = algorithm("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **settings)
    model.learn(total_timesteps=budget, callback=EvalEvery())
    run_evaluation(model.num_timesteps)  # after the last update
    wall = time.perf_counter() - start
    return Run(seed, tuple(evaluations), wall - eval_seconds, wall)


def random_return(env_id: str, seed: int, episodes: int) -> float:
    """Mean return of uniformly random actions on the evaluation episodes of ``seed``."""
    space = gym.make(env_id).action_space
    space.seed(seed)
    return evaluate(env_id, lambda obs: space.sample(), n_episodes=episodes,
                    seed=seed + a2c.EVAL_SEED_OFFSET).mean


def warm_up(skip: list[str]) -> None:
    """Pay torch's and gymnasium's one-time start-up costs before anything is timed."""
    if "rlkit" not in skip:
        for env_id in (CARTPOLE, PENDULUM):
            a2c.train(rlkit_config(env_id, 800, 0, 1), seed=0)
    if "sb3" not in skip:
        for env_id in (CARTPOLE, PENDULUM):
            run_sb3(env_id, 0, 800, 0, 1)


def pendulum_table(seeds: range, budget: int, episodes: int, skip: list[str]) -> None:
    """Final mean return of rlkit, SB3 and a random policy on Pendulum-v1, seed by seed."""
    print(f"\nPendulum-v1, budget {budget} env steps, final evaluation on {episodes} episodes "
          "(deterministic actions); training seconds in brackets")
    print(f"rlkit preset: {a2c.PRESETS[PENDULUM]}")
    print(f"{'seed':>4} {'rlkit A2C':>18} {'SB3 A2C (zoo)':>18} {'random':>10}")
    columns: dict[str, list[float]] = {"rlkit": [], "sb3": [], "random": []}
    for seed in seeds:
        cells = []
        for name, runner in (("rlkit", run_rlkit), ("sb3", run_sb3)):
            if name in skip:
                cells.append("-")
                continue
            run = runner(PENDULUM, seed, budget, 0, episodes)
            final = run.evaluations[-1]
            columns[name].append(final.mean)
            cells.append(f"{final.mean:.0f} +/- {final.std:.0f} [{run.train_seconds:.0f}s]")
        columns["random"].append(random_return(PENDULUM, seed, episodes))
        print(f"{seed:>4} {cells[0]:>18} {cells[1]:>18} {columns['random'][-1]:>10.0f}")
    means = {k: f"{statistics.mean(v):.0f}" if v else "-" for k, v in columns.items()}
    print(f"mean {means['rlkit']:>18} {means['sb3']:>18} {means['random']:>10}")


def compare_on_cartpole(
    agent: str,
    rlkit_runner: Callable[..., Run],
    sb3_runner: Callable[..., Run],
    seeds: range,
    args: argparse.Namespace,
) -> None:
    """Run rlkit's and SB3's ``agent`` on CartPole-v1 seed by seed; print both tables and
    the ratios of their medians (solve_table.print_ratios).
    """  # noqa: D205
    runs: dict[str, list[Run]] = {"rlkit": [], "sb3": []}
    print(f"{'':8}{HEADER}")
    for seed in seeds:  # seed by seed, rlkit then SB3: both see the same load
        for name, runner in (("rlkit", rlkit_runner), ("sb3", sb3_runner)):
            if name not in args.skip:
                runs[name].append(print_live(name, runner(
                    CARTPOLE, seed, args.budget, args.eval_interval, args.eval_episodes)))
    summaries = {}
    if runs["rlkit"]:
        summaries["rlkit"] = report(f"rlkit {agent} (default_config('CartPole-v1'))",
                                    runs["rlkit"], args.budget)
    if runs["sb3"]:
        import stable_baselines3

        summaries["sb3"] = report(
            f"Stable-Baselines3 {stable_baselines3.__version__} {agent} (rl-baselines3-zoo "
            "settings)", runs["sb3"], args.budget)
    if len(summaries) == 2:
        print()
        print_ratios(summaries["rlkit"], summaries["sb3"])


def bench_arguments(description: str) -> argparse.ArgumentParser:
    """The options of bench_a2c and bench_ppo: seeds, budgets, evaluations, what to skip."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default: 5)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="start the seeds here: FIRST..FIRST+N-1 (default: 0)")
    parser.add_argument("--budget", type=int, default=100_000, help="CartPole env steps (both)")
    parser.add_argument("--pendulum-budget", type=int, default=200_000,
                        help="Pendulum env steps (both)")
    parser.add_argument("--eval-interval", type=int, default=1_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["rlkit", "sb3", "cartpole", "pendulum"])
    return parser


def start(args: argparse.Namespace, warm_up: Callable[[list[str]], None]) -> range:
    """One torch thread, the warm-up, the header line; the seeds to run."""
    torch.set_num_threads(1)
    warm_up(args.skip)
    print(
        f"{args.seeds} seeds, torch {torch.__version__} on {torch.get_num_threads()} thread; "
        f"CartPole-v1 evaluation every {args.eval_interval} steps on {args.eval_episodes} "
        f"episodes (most likely action); training seconds exclude evaluation; {load_line()}"
    )
    return range(args.first_seed, args.first_seed + args.seeds)


def main() -> None:
    """Parse the options, run every agent on every seed, print the tables."""
    args = bench_arguments(__doc__.splitlines()[0]).parse_args()
    seeds = start(args, warm_up)
    if "cartpole" not in args.skip:
        config = rlkit_config(CARTPOLE, args.budget, args.eval_interval, args.eval_episodes)
        print(f"rlkit A2CConfig: {config}")
        compare_on_cartpole("A2C", run_rlkit, run_sb3, seeds, args)
    if "pendulum" not in args.skip:
        pendulum_table(seeds, args.pendulum_budget, args.eval_episodes, args.skip)


if __name__ == "__main__":
    main()
