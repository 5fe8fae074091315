"""PPO: rlkit's reference agent vs Stable-Baselines3's PPO with the zoo's settings.

Run:  .venv/bin/python benchmarks/bench_ppo.py [--seeds 5 --budget 100000 --pendulum-budget 200000]

The protocol of ``bench_a2c.py``: both agents run in this process on one torch thread, seed
after seed (rlkit then SB3 for each seed, so that both see the same load on a shared machine),
with the same budget of environment steps, evaluated by the same function
(:func:`rlkit.evaluation.evaluate`, the most likely action or the mean, the same evaluation
seeds) every ``--eval-interval`` steps on ``--eval-episodes`` episodes. Training seconds
exclude the evaluations.

CartPole-v1, per seed: the env steps and training seconds to the first evaluation with a mean
return >= 475 and to the first of 5 in a row (the stable solve), the final evaluation after the
budget, and the share of the later evaluations still >= 475 (``solve_table.py``).
Pendulum-v1: the final mean return after the
budget (deterministic actions) with the training seconds, evaluated every
``--pendulum-eval-interval`` steps as well (the first evaluation >= -250 is reported).

Stable-Baselines3 uses rl-baselines3-zoo's tuned settings (``hyperparams/ppo.yml``), which
rlkit's presets copy where they can:

- CartPole-v1: n_envs 8, n_steps 32, batch_size 256, gae_lambda 0.8, gamma 0.98, n_epochs 20,
  ent_coef 0.0, learning rate linear from 1e-3 to 0 and clip range linear from 0.2 to 0
  (over our budget; the zoo's budget is 1e5 steps too), otherwise SB3's defaults (vf_coef 0.5,
  max_grad_norm 0.5, advantage normalisation per minibatch, no value clipping, separate 64x64
  tanh networks with orthogonal initialisation).
- Pendulum-v1: n_envs 4, n_steps 1024, batch_size 64 (SB3's default), gae_lambda 0.95,
  gamma 0.9, n_epochs 10, ent_coef 0.0, learning rate 1e-3, clip range 0.2, gSDE exploration
  (use_sde, sde_sample_freq 4); the zoo's budget is 1e5 steps. rlkit has no gSDE: its
  Gaussian policy has one learned log-std per action dimension (initial ``log_std_init``)
  and draws fresh noise every step; otherwise its preset is the zoo's (see ``PRESETS``).

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import functools
import statistics

import bench_a2c
from bench_a2c import (  # bench_dqn's table, bench_a2c's protocol
    bench_arguments,
    compare_on_cartpole,
    random_return,
    start,
    train_sb3,
)
from solve_table import Run

from rlkit.agents import ppo

CARTPOLE = "CartPole-v1"
PENDULUM = "Pendulum-v1"
SWUNG_UP = -250.0

ZOO_PPO_CARTPOLE = {
    "n_envs": 8,
    "n_steps": 32,
    "batch_size": 256,
    "gae_lambda": 0.8,
    "gamma": 0.98,
    "n_epochs": 20,
    "ent_coef": 0.0,
    "learning_rate": 1e-3,  # linear to 0 over the budget (the zoo's "lin_0.001")
    "clip_range": 0.2,  # linear to 0 over the budget (the zoo's "lin_0.2")
}
ZOO_PPO_PENDULUM = {
    "n_envs": 4,
    "n_steps": 1024,
    "gae_lambda": 0.95,
    "gamma": 0.9,
    "n_epochs": 10,
    "ent_coef": 0.0,
    "learning_rate": 1e-3,
    "clip_range": 0.2,
    "use_sde": True,
    "sde_sample_freq": 4,
}


rlkit_config = functools.partial(bench_a2c.rlkit_config, agent=ppo)
"""The tuned settings of rlkit's PPO for ``env_id``, budget and evaluation aside."""
run_rlkit = functools.partial(bench_a2c.run_rlkit, agent=ppo)
"""Train rlkit's PPO with its preset for ``env_id`` (``(env_id, seed, budget, interval,
episodes) -> Run``)."""


def run_sb3(env_id: str, seed: int, budget: int, interval: int, episodes: int) -> Run:
    """Train SB3's PPO with the zoo settings, evaluated by rlkit's evaluate in a callback."""
    from stable_baselines3 import PPO

    settings = dict(ZOO_PPO_CARTPOLE if env_id == CARTPOLE else ZOO_PPO_PENDULUM)
    if env_id == CARTPOLE:  # the zoo's lin_ schedules: SB3 passes the progress remaining
        for name in ("learning_rate", "clip_range"):
            start = settings[name]
            settings[name] = lambda progress_remaining, start=start: progress_remaining * start
    return train_sb3(PPO, env_id, seed, budget, interval, episodes, settings)


def warm_up(skip: list[str]) -> None:
    """Pay torch's and gymnasium's one-time start-up costs before anything is timed."""
    for env_id in (CARTPOLE, PENDULUM):
        if "rlkit" not in skip:
            ppo.train(ppo.default_config(env_id, total_steps=256, n_steps=32, n_envs=8,
                                         n_minibatches=4, n_epochs=2, eval_interval=0,
                                         eval_episodes=1), seed=0)  # fmt: skip
        if "sb3" not in skip:
            settings = dict(ZOO_PPO_CARTPOLE, n_epochs=2)
            from stable_baselines3 import PPO

            train_sb3(PPO, env_id, 0, 256, 0, 1, settings)


def pendulum_table(seeds: range, budget: int, interval: int, episodes: int,
                   skip: list[str]) -> None:
    """Final mean return of rlkit, SB3 and a random policy on Pendulum-v1, seed by seed."""
    print(f"\nPendulum-v1, budget {budget} env steps, evaluation every {interval} steps on "
          f"{episodes} episodes (deterministic actions); final mean +/- std [training "
          f"seconds] (env steps to the first evaluation >= {SWUNG_UP:g})")
    print(f"rlkit preset: {ppo.PRESETS[PENDULUM]}")
    print(f"{'seed':>4} {'rlkit PPO':>28} {'SB3 PPO (zoo, gSDE)':>28} {'random':>8}")
    columns: dict[str, list[float]] = {"rlkit": [], "sb3": [], "random": []}
    seconds: dict[str, list[float]] = {"rlkit": [], "sb3": []}
    for seed in seeds:
        cells = []
        for name, runner in (("rlkit", run_rlkit), ("sb3", run_sb3)):
            if name in skip:
                cells.append("-")
                continue
            run = runner(PENDULUM, seed, budget, interval, episodes)
            final = run.evaluations[-1]
            columns[name].append(final.mean)
            seconds[name].append(run.train_seconds)
            first = next((e.step for e in run.evaluations if e.mean >= SWUNG_UP), None)
            cells.append(f"{final.mean:.0f} +/- {final.std:.0f} [{run.train_seconds:.0f}s] "
                         f"({first if first is not None else 'never'})")
        columns["random"].append(random_return(PENDULUM, seed, episodes))
        print(f"{seed:>4} {cells[0]:>28} {cells[1]:>28} {columns['random'][-1]:>8.0f}",
              flush=True)
    for name in ("rlkit", "sb3"):
        if columns[name]:
            reached = sum(mean >= SWUNG_UP for mean in columns[name])
            print(f"{name}: final mean {statistics.mean(columns[name]):.0f}, median "
                  f"{statistics.median(columns[name]):.0f}, {reached} of {len(columns[name])} "
                  f"seeds >= {SWUNG_UP:g}; median training seconds "
                  f"{statistics.median(seconds[name]):.1f}")


def main() -> None:
    """Parse the options, run every agent on every seed, print the tables."""
    parser = bench_arguments(__doc__.splitlines()[0])
    parser.add_argument("--pendulum-eval-interval", type=int, default=10_000)
    args = parser.parse_args()
    seeds = start(args, warm_up)
    if "cartpole" not in args.skip:
        config = rlkit_config(CARTPOLE, args.budget, args.eval_interval, args.eval_episodes)
        print(f"rlkit PPOConfig: {config}")
        compare_on_cartpole("PPO", run_rlkit, run_sb3, seeds, args)  # goal: ratio <= 0.5
    if "pendulum" not in args.skip:
        pendulum_table(seeds, args.pendulum_budget, args.pendulum_eval_interval,
                       args.eval_episodes, args.skip)


if __name__ == "__main__":
    main()
