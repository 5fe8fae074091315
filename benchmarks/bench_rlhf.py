"""RLHF on the toy task: the SFT model and the reward model, seed after seed.

Run:  .venv/bin/python benchmarks/bench_rlhf.py [--seeds 5]

For each seed, on one torch thread:

- SFT (:func:`rlkit.rlhf.sft.train_sft`, default settings): training seconds, the held-out
  demonstrations' per-token NLL before and after, and the mean gold reward of 2000 responses
  sampled from the SFT model next to the demonstrator's and the best possible (every prompt
  token answered once).
- The reward model (:func:`rlkit.rlhf.reward_model.train_reward_model`, default settings):
  held-out accuracy next to the ceiling (the gold reward's expected accuracy on the same
  comparisons), their ratio (goal >= 95 %), training seconds (goal <= 10 s), and how often
  the chosen response is the longer one in the training comparisons (the spurious feature).

Not a test: it prints figures. The RL, DPO and best-of-n stages are not built yet.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch

from rlkit.rlhf.model import sample_responses
from rlkit.rlhf.reward_model import train_reward_model
from rlkit.rlhf.sft import train_sft
from rlkit.rlhf.task import PAD, TaskConfig, demonstrations, gold_reward, sample_prompts

EVAL_PROMPTS = 2_000


def main() -> None:
    """Print one line per seed and per stage, then the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    task = TaskConfig()
    prompts = sample_prompts(EVAL_PROMPTS, task, rng=10_000)
    best = float((prompts != PAD).sum(axis=1).mean())
    demo_gold = float(gold_reward(prompts, demonstrations(prompts, task, rng=10_001), task).mean())
    print(f"gold reward on {EVAL_PROMPTS} prompts: best {best:.3f}, demonstrator {demo_gold:.3f}")
    fractions, rm_seconds, sft_seconds, sft_gold = [], [], [], []
    for seed in range(args.seeds):
        model, sft = train_sft(seed=seed)
        samples = sample_responses(model, torch.as_tensor(prompts), task.max_response_len,
                                   torch.Generator().manual_seed(seed))
        gold = float(gold_reward(prompts, samples.responses.numpy(), task).mean())
        sft_seconds.append(sft.seconds)
        sft_gold.append(gold)
        print(f"seed {seed} SFT: {sft.seconds:5.2f} s, held-out NLL/token "
              f"{sft.held_out_nll[0]:.3f} -> {sft.held_out_nll[-1]:.3f}, gold reward {gold:.3f}")
        _, rm = train_reward_model(seed=seed)
        fractions.append(rm.fraction_of_ceiling)
        rm_seconds.append(rm.seconds)
        print(f"seed {seed} reward model: accuracy {rm.held_out_accuracy[-1]:.4f}, ceiling "
              f"{rm.ceiling:.4f} ({100 * rm.fraction_of_ceiling:.1f} %), {rm.seconds:5.2f} s, "
              f"chosen longer in {100 * rm.train_chosen_longer:.1f} % of training pairs")
    print(f"mean over {args.seeds} seeds: SFT {statistics.mean(sft_seconds):.2f} s, gold "
          f"{statistics.mean(sft_gold):.3f}; reward model {100 * statistics.mean(fractions):.1f} "
          f"% of the ceiling (min {100 * min(fractions):.1f} %), "
          f"{statistics.mean(rm_seconds):.2f} s (max {max(rm_seconds):.2f} s)")
    assert np.isfinite(fractions).all()


if __name__ == "__main__":
    main()
