"""RLHF on the toy task, seed after seed: SFT, the reward model, and lecture 003's table.

Run:  .venv/bin/python benchmarks/bench_rlhf.py [--seeds 5] [--sweep]

For each seed, on one torch thread, every stage with its default settings:

- SFT (:func:`rlkit.rlhf.sft.train_sft`): training seconds, the held-out demonstrations'
  per-token NLL before and after, the gold reward of its samples next to the demonstrator's
  and the best possible (every prompt token answered once).
- The reward model (:func:`rlkit.rlhf.reward_model.train_reward_model`): held-out accuracy
  next to the ceiling (the labeller's own utility's expected accuracy on the same
  comparisons), their ratio (goal >= 95 %), training seconds (goal <= 10 s), and how often the
  chosen response is the longer one in the training comparisons (the spurious feature).
- The table: for SFT, DPO, REINFORCE, RLOO (k = 2, 4), PPO, REBEL (the presets of
  :mod:`rlkit.rlhf.policy`, beta 0.3) and best-of-16, on 1000 held-out prompts (one sample
  each): the gold-reward *win rate against SFT* (the fraction of prompts where the method's
  response has a higher gold reward than SFT's response to the same prompt, a tie counting
  1/2, so SFT against itself is 0.5 by definition), the gold and proxy reward, the KL to SFT
  (estimated from the samples; best-of-n: exact) and the stage's wall and CPU time (SFT's
  row: its training); then the mean and standard deviation over seeds.
- With ``--sweep``: the over-optimisation sweep of RLOO (k = 4) over beta, final gold and
  proxy reward against sqrt(KL), and best-of-n for n = 1 ... 64 on the same axis.

Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections import defaultdict

import numpy as np
import torch

from rlkit.rlhf.best_of_n import best_of_n
from rlkit.rlhf.dpo import train_dpo
from rlkit.rlhf.evaluation import SampleStats, evaluate_policy, win_rate
from rlkit.rlhf.model import sample_responses
from rlkit.rlhf.policy import beta_sweep, default_config, train_policy
from rlkit.rlhf.reward_model import train_reward_model
from rlkit.rlhf.sft import train_sft
from rlkit.rlhf.task import PAD, TaskConfig, demonstrations, gold_reward, sample_prompts

EVAL_PROMPTS = 1_000
BEST_OF = 16
METHODS = {
    "REINFORCE": default_config("reinforce"),
    "RLOO k=2": default_config("rloo", k=2, prompts_per_step=32),
    "RLOO k=4": default_config("rloo"),
    "PPO": default_config("ppo"),
    "REBEL": default_config("rebel"),
}
SWEEP_BETAS = (1.0, 0.3, 0.1, 0.03, 0.01, 0.0)
SWEEP_NS = (1, 2, 4, 8, 16, 32, 64)


class Clock:
    """Wall and CPU seconds between laps.

    CPU time hardly moves when other jobs share the machine; wall time does.
    """

    def __init__(self) -> None:
        """Start the clock."""
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        """``(wall, cpu)`` seconds since the last lap."""
        wall, cpu = time.perf_counter(), time.process_time()
        lap = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return lap


def mean_std(values: list[float]) -> str:
    """``mean ± std`` over seeds (std with n - 1; 0 for one seed)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.3f} ± {std:5.3f}"


def main() -> None:
    """Print one line per seed and per stage, then the table over seeds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="also run the beta sweep")
    args = parser.parse_args()
    task = TaskConfig()
    prompts = sample_prompts(EVAL_PROMPTS, task, rng=10_000)
    best = float((prompts != PAD).sum(axis=1).mean())
    demo_gold = float(gold_reward(prompts, demonstrations(prompts, task, rng=10_001), task).mean())
    print(f"gold reward on {EVAL_PROMPTS} prompts: best {best:.3f}, demonstrator {demo_gold:.3f}")
    fractions, rm_seconds, sft_seconds = [], [], []
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for seed in range(args.seeds):
        clock = Clock()
        sft_model, sft = train_sft(seed=seed)
        sft_time = clock.lap()
        sft_seconds.append(sft.seconds)
        samples = sample_responses(sft_model, torch.as_tensor(prompts), task.max_response_len,
                                   torch.Generator().manual_seed(seed))
        gold = float(gold_reward(prompts, samples.responses.numpy(), task).mean())
        print(f"seed {seed} SFT: {sft.seconds:5.2f} s, held-out NLL/token "
              f"{sft.held_out_nll[0]:.3f} -> {sft.held_out_nll[-1]:.3f}, gold reward {gold:.3f}")
        clock.lap()
        reward_model, rm = train_reward_model(seed=seed)
        rm_time = clock.lap()
        fractions.append(rm.fraction_of_ceiling)
        rm_seconds.append(rm.seconds)
        print(f"seed {seed} reward model: accuracy {rm.held_out_accuracy[-1]:.4f}, ceiling "
              f"{rm.ceiling:.4f} ({100 * rm.fraction_of_ceiling:.1f} %), {rm.seconds:5.2f} s "
              f"(train_reward_model in all: {rm_time[0]:.2f} s, {rm_time[1]:.2f} s CPU), "
              f"chosen longer in {100 * rm.train_chosen_longer:.1f} % of training pairs")

        eval_seed = seed + 10_000
        sft_stats, sft_responses = evaluate_policy(sft_model, sft_model, reward_model, prompts,
                                                   task, eval_seed)

        def record(name: str, stats: SampleStats, responses: np.ndarray,
                   seconds: tuple[float, float], seed: int = seed,
                   baseline: np.ndarray = sft_responses) -> None:
            row = table[name]
            row["win"].append(win_rate(prompts, responses, baseline, task))
            row["gold"].append(stats.gold)
            row["proxy"].append(stats.proxy)
            row["kl"].append(stats.kl)
            row["length"].append(stats.length)
            row["seconds"].append(seconds[0])
            row["cpu"].append(seconds[1])
            print(f"seed {seed} {name:<11} win {row['win'][-1]:.3f}  gold {stats.gold:6.3f}  "
                  f"proxy {stats.proxy:6.3f}  KL {stats.kl:6.3f}  length {stats.length:4.2f}  "
                  f"{seconds[0]:5.2f} s ({seconds[1]:5.2f} s CPU)", flush=True)

        record("SFT", sft_stats, sft_responses, sft_time)
        clock.lap()
        policy, _ = train_dpo(sft_model, seed=seed)
        seconds = clock.lap()
        record("DPO", *evaluate_policy(policy, sft_model, reward_model, prompts, task,
                                       eval_seed), seconds)
        for name, config in METHODS.items():
            clock.lap()
            policy, _ = train_policy(sft_model, reward_model, config, seed=seed)
            seconds = clock.lap()
            record(name, *evaluate_policy(policy, sft_model, reward_model, prompts, task,
                                          eval_seed), seconds)
        clock.lap()
        stats, responses = best_of_n(sft_model, reward_model, prompts, BEST_OF, task, eval_seed)
        record(f"best-of-{BEST_OF}", stats, responses, clock.lap())

        if args.sweep:
            start = time.perf_counter()
            histories = beta_sweep(sft_model, reward_model, SWEEP_BETAS, seed=seed)
            print(f"seed {seed} sweep of RLOO k=4 over beta ({time.perf_counter() - start:.1f} "
                  "s): beta, sqrt(KL), gold, proxy, length, repeats")
            for beta, history in zip(SWEEP_BETAS, histories, strict=True):
                final = history.final
                print(f"  beta {beta:<5g} {math.sqrt(max(final.kl, 0.0)):6.3f} "
                      f"{final.gold:6.3f} {final.proxy:6.3f} {final.length:5.2f} "
                      f"{final.repeats:5.2f}")
            print(f"seed {seed} best-of-n: n, sqrt(KL), gold, proxy")
            for n in SWEEP_NS:
                stats, _ = best_of_n(sft_model, reward_model, prompts, n, task, eval_seed)
                print(f"  n {n:<4} {math.sqrt(stats.kl):6.3f} {stats.gold:6.3f} "
                      f"{stats.proxy:6.3f}")

    print(f"\nmean over {args.seeds} seeds: SFT {statistics.mean(sft_seconds):.2f} s; reward "
          f"model {100 * statistics.mean(fractions):.1f} % of the ceiling (min "
          f"{100 * min(fractions):.1f} %), {statistics.mean(rm_seconds):.2f} s (max "
          f"{max(rm_seconds):.2f} s)")
    print(f"{'method':<12} {'win rate vs SFT':>15} {'gold':>15} {'proxy':>15} {'KL':>15} "
          f"{'seconds':>15} {'CPU seconds':>15}")
    for name, row in table.items():
        columns = ("win", "gold", "proxy", "kl", "seconds", "cpu")
        print(f"{name:<12} " + " ".join(f"{mean_std(row[key]):>15}" for key in columns))
    assert np.isfinite(fractions).all()


if __name__ == "__main__":
    main()
