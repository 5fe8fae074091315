"""Where a DQN or A2C run's CPU time goes: rlkit next to Stable-Baselines3, part by part.

Run:  .venv/bin/python benchmarks/profile_agents.py [--steps 6000] [--agent dqn a2c]

``cost_per_step.py`` gives the totals (per env step, per gradient step); this script splits
them. It runs each agent under cProfile on CartPole-v1 (one torch thread, no evaluation, the
settings of ``bench_dqn.py`` and ``bench_a2c.py``; rlkit's defaults as well as its presets,
so that the split before and after the presets is one run) and prints, for each part, the
cumulative CPU microseconds per env step and per gradient step. The parts overlap (an update
contains its backward pass) and cProfile inflates Python-heavy code more than torch's kernels,
so read the shares, not the absolute figures (``cost_per_step.py`` has those). py-spy gives
the same picture without the overhead, but needs ptrace rights a container may not grant.

Not a test: it prints figures. Needs the dev extra (stable-baselines3).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Callable
from typing import Any

import torch
from bench_a2c import ZOO_A2C_CARTPOLE
from bench_dqn import ENV_ID, ZOO_DQN_CARTPOLE
from cost_per_step import no_evaluation
from solve_table import load_line

from rlkit.agents import a2c, dqn

#: part name -> (a substring of the file's path, the function's name); both libraries' code
PARTS: dict[str, tuple[str, str]] = {
    "env.step (CartPole)": ("cartpole.py", "step"),
    "vector env step": ("sync_vector_env.py", "step"),
    "acting: rlkit policy.act": ("rlkit/nets.py", "act"),
    "acting: SB3 predict": ("stable_baselines3/common/policies.py", "predict"),
    "rollout collection: rlkit": ("rlkit/rollouts.py", "collect"),
    "rollout collection: SB3": ("on_policy_algorithm.py", "collect_rollouts"),
    "buffer add: rlkit": ("rlkit/buffers.py", "add"),
    "buffer add: SB3": ("stable_baselines3/common/buffers.py", "add"),
    "replay sample: rlkit": ("rlkit/buffers.py", "sample"),
    "replay sample: SB3": ("stable_baselines3/common/buffers.py", "sample"),
    "update: rlkit DQN": ("rlkit/agents/dqn.py", "update"),
    "update: rlkit A2C": ("rlkit/agents/a2c.py", "update"),
    "update: SB3 train()": ("stable_baselines3/", "train"),
    "  loss (forward, targets)": ("rlkit/agents/", "compute_loss"),
    "  backward": ("torch/_tensor.py", "backward"),
    "  optimizer.step": ("torch/optim/optimizer.py", "wrapper"),
    "  zero_grad": ("torch/optim/optimizer.py", "zero_grad"),
    "  clip_grad_norm_": ("torch/nn/utils/clip_grad.py", "clip_grad_norm_"),
    "  target update: SB3 polyak": ("stable_baselines3/common/utils.py", "polyak_update"),
}


def profile(run: Callable[[], Any]) -> tuple[pstats.Stats, Any]:
    """Run ``run()`` under cProfile; its statistics and what it returned."""
    profiler = cProfile.Profile()
    profiler.enable()
    result = run()
    profiler.disable()
    return pstats.Stats(profiler), result


def cumulative(stats: pstats.Stats, where: str, name: str) -> float:
    """Seconds spent in (and under) the functions ``name`` of the files matching ``where``."""
    return sum(entry[3] for (path, _, function), entry in stats.stats.items()  # type: ignore[attr-defined]
               if function == name and where in path.replace("\\", "/"))


def print_split(title: str, stats: pstats.Stats, env_steps: int, updates: int) -> None:
    """One block: the whole run and each part that ran, per env step and per gradient step."""
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\n{title}: {env_steps} env steps, {updates} gradient steps, {total:.2f} s "
          "profiled")
    print(f"  {'part':<30} {'us/env step':>12} {'us/gradient step':>17} {'share':>6}")
    print(f"  {'everything':<30} {total / env_steps * 1e6:>12.0f} "
          f"{total / updates * 1e6:>17.0f} {100:>5.0f}%")
    for part, (where, name) in PARTS.items():
        seconds = cumulative(stats, where, name)
        if seconds:
            print(f"  {part:<30} {seconds / env_steps * 1e6:>12.0f} "
                  f"{seconds / updates * 1e6:>17.0f} {100 * seconds / total:>5.0f}%")


def rlkit_run(agent: Any, config: Any, steps: int) -> tuple[pstats.Stats, int]:
    """Profile rlkit's ``agent`` with ``config``; the statistics and the gradient steps."""
    agent.train(no_evaluation(config, 1_200), seed=1)  # one-time costs, untimed
    stats, history = profile(lambda: agent.train(no_evaluation(config, steps), seed=1))
    return stats, len(history.losses)


def sb3_run(algorithm: str, steps: int) -> tuple[pstats.Stats, int]:
    """Profile SB3's DQN or A2C with the zoo's settings; the statistics and the updates."""
    from stable_baselines3 import A2C, DQN
    from stable_baselines3.common.env_util import make_vec_env

    def make() -> Any:
        if algorithm == "dqn":
            return DQN("MlpPolicy", ENV_ID, seed=1, device="cpu", **ZOO_DQN_CARTPOLE)
        settings = dict(ZOO_A2C_CARTPOLE)
        venv = make_vec_env(ENV_ID, n_envs=settings.pop("n_envs"), seed=1)
        return A2C("MlpPolicy", venv, seed=1, device="cpu", **settings)

    make().learn(1_300)
    stats, model = profile(lambda: make().learn(steps))
    return stats, model._n_updates


def main() -> None:
    """Parse the options, profile each agent, print the splits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6_000, help="DQN env steps (A2C: 4x)")
    parser.add_argument("--agent", nargs="*", default=["dqn", "a2c"], choices=["dqn", "a2c"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"CartPole-v1 under cProfile, one torch thread ({load_line()})")
    if "dqn" in args.agent:
        for title, config in (("rlkit DQN, CartPole-v1 preset", dqn.default_config(ENV_ID)),
                              ("rlkit DQN, DQNConfig() defaults", dqn.DQNConfig())):
            stats, updates = rlkit_run(dqn, config, args.steps)
            print_split(title, stats, args.steps, updates)
        stats, updates = sb3_run("dqn", args.steps)
        print_split("SB3 DQN, zoo settings", stats, args.steps, updates)
    if "a2c" in args.agent:
        steps = 4 * args.steps
        for title, config in (("rlkit A2C, CartPole-v1 preset", a2c.default_config(ENV_ID)),
                              ("rlkit A2C, A2CConfig() defaults", a2c.A2CConfig())):
            stats, updates = rlkit_run(a2c, config, steps)
            print_split(title, stats, updates * config.n_envs * config.n_steps, updates)
        stats, updates = sb3_run("a2c", steps)
        print_split("SB3 A2C, zoo settings", stats, steps, updates)


if __name__ == "__main__":
    main()
