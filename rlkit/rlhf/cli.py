"""``python -m rlkit rlhf STAGE``: each stage of the RLHF stack standalone, with its figures.

Stages: ``sft``, ``rm`` (the reward model), the RL methods ``reinforce``, ``rloo``, ``ppo``
and ``rebel``, ``dpo``, ``best-of-n`` and ``sweep`` (the over-optimisation sweep over beta).
Every stage after ``rm`` first trains the SFT model (and, if it needs one, the reward model)
with the default settings and the same seed, then prints the SFT policy's figures next to the
method's on the same held-out prompts: proxy and gold reward, KL(pi || pi_SFT), length,
repeats and the gold-reward win rate against SFT. :mod:`rlkit.cli` wires it in.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

from rlkit.rlhf.best_of_n import best_of_n
from rlkit.rlhf.dpo import DPOConfig, train_dpo
from rlkit.rlhf.evaluation import SampleStats, describe, evaluate_policy, win_rate
from rlkit.rlhf.model import CausalLM, RewardModel
from rlkit.rlhf.policy import METHODS, beta_sweep, default_config, train_policy
from rlkit.rlhf.reward_model import RewardModelHistory, train_reward_model
from rlkit.rlhf.sft import train_sft
from rlkit.rlhf.task import (
    FIRST_CONTENT,
    TaskConfig,
    demonstrations,
    gold_reward,
    sample_prompts,
)

__all__ = ["STAGES", "add_arguments", "run"]

STAGES = ("sft", "rm", *METHODS, "dpo", "best-of-n", "sweep")
EXAMPLES = """\
  python -m rlkit rlhf rm --seed 0
      the reward model's held-out accuracy next to the ceiling
  python -m rlkit rlhf rloo --beta 0.1 --k 2
      RLOO with 2 samples per prompt; gold and proxy reward, KL, win rate against SFT
  python -m rlkit rlhf ppo --beta 0 --samples 5
      no KL penalty: watch the samples pad with repeats the gold reward punishes
  python -m rlkit rlhf sweep --betas 1,0.3,0.1,0.03,0.01,0
      the over-optimisation sweep (Gao et al. 2022), with best-of-n on the same KL axis
"""
EVAL_SEED_OFFSET = 10_000
"""The held-out prompts and their samples are seeded with ``seed + EVAL_SEED_OFFSET``."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``python -m rlkit rlhf``."""
    parser.add_argument("stage", choices=STAGES, metavar="{" + ",".join(STAGES) + "}")
    parser.add_argument("--seed", type=int, default=0, help="seed of every stage (default: 0)")
    parser.add_argument("--beta", type=float, default=None,
                        help="KL coefficient (default: the RL preset's, "
                        "rlkit.rlhf.policy.PRESETS; dpo: 0.3)")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="RL steps (default: the method's preset, rlkit.rlhf.policy.PRESETS)")
    parser.add_argument("--k", type=int, default=None,
                        help="samples per prompt (default: reinforce, ppo 1; rloo 4; rebel 2); "
                             "the responses per step stay the preset's")
    parser.add_argument("--size", choices=("full", "notebook"), default="full",
                        help="RL, sweep: the preset's size (notebook: fewer steps, ~2 s a run)")
    parser.add_argument("--method", choices=METHODS, default="rloo",
                        help="sweep: the RL method swept (default: rloo)")
    parser.add_argument("--betas", default="1,0.3,0.1,0.03,0",
                        help="sweep: comma-separated betas (default: 1,0.3,0.1,0.03,0)")
    parser.add_argument("--n", default="1,2,4,8,16", metavar="N[,N...]",
                        help="best-of-n, sweep: the n values (default: 1,2,4,8,16)")
    parser.add_argument("--eval-prompts", type=int, default=1_000, metavar="N",
                        help="held-out prompts of the evaluation (default: 1000)")
    parser.add_argument("--samples", type=int, default=3, metavar="N",
                        help="print N sampled responses of the final policy (default: 3)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _numbers(text: str, name: str, kind: type) -> list[Any]:
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(f"{name} must be comma-separated numbers; got {text!r}") from error
    if not values:
        raise ValueError(f"{name} needs at least one value")
    return values


def _overrides(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The PolicyConfig fields given on the command line."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _stats_line(name: str, stats: SampleStats, win: float | None = None) -> str:
    win_text = "" if win is None else f" {win:>6.3f}"
    return (f"{name:<14} {stats.proxy:>7.3f} {stats.gold:>7.3f} {stats.kl:>7.3f} "
            f"{math.sqrt(max(stats.kl, 0.0)):>7.3f} {stats.length:>6.2f} {stats.repeats:>6.2f} "
            f"{stats.off_topic:>6.2f}{win_text}")


_HEADER = (f"{'':<14} {'proxy':>7} {'gold':>7} {'KL':>7} {'sqrtKL':>7} {'length':>6} "
           f"{'repeat':>6} {'offtop':>6} {'win':>6}")


class _Stack:
    """The SFT model and the reward model of a seed, trained once, and the held-out prompts."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.task = args, TaskConfig()
        self.progress = not args.no_progress
        self.prompts = sample_prompts(args.eval_prompts, self.task,
                                      rng=args.seed + EVAL_SEED_OFFSET)
        self._sft: CausalLM | None = None
        self._reward_model: RewardModel | None = None
        self.rm_history: RewardModelHistory | None = None

    @property
    def sft(self) -> CausalLM:
        if self._sft is None:
            self._sft, history = train_sft(seed=self.args.seed, progress=self.progress)
            print(f"SFT: {history.seconds:.1f} s, held-out NLL per token "
                  f"{history.held_out_nll[0]:.3f} -> {history.held_out_nll[-1]:.3f}")
        return self._sft

    @property
    def reward_model(self) -> RewardModel:
        if self._reward_model is None:
            self._reward_model, self.rm_history = train_reward_model(seed=self.args.seed,
                                                                     progress=self.progress)
            history = self.rm_history
            print(f"reward model: held-out accuracy {history.held_out_accuracy[-1]:.4f}, "
                  f"ceiling {history.ceiling:.4f} ({100 * history.fraction_of_ceiling:.1f} %), "
                  f"{history.seconds:.1f} s; chosen longer in "
                  f"{100 * history.train_chosen_longer:.1f} % of the training pairs")
        return self._reward_model

    def evaluate(self, model: CausalLM) -> tuple[SampleStats, np.ndarray]:
        return evaluate_policy(model, self.sft, self.reward_model, self.prompts, self.task,
                               self.args.seed + EVAL_SEED_OFFSET)

    def print_samples(self, responses: np.ndarray) -> None:
        for row in range(min(self.args.samples, len(responses))):
            print(f"  {describe(self.prompts[row], responses[row], self.task)}")


def run(args: argparse.Namespace) -> int:
    """Run ``args.stage`` and print its figures; a ValueError means bad input."""
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0; got {args.seed}")
    if args.eval_prompts < 1 or args.samples < 0:
        raise ValueError("--eval-prompts must be >= 1 and --samples >= 0")
    betas, ns = _numbers(args.betas, "--betas", float), _numbers(args.n, "--n", int)
    if min(betas) < 0 or min(ns) < 1:
        raise ValueError(f"--betas must be >= 0 and --n >= 1; got {args.betas!r}, {args.n!r}")
    if args.stage in METHODS:  # a bad setting fails before anything is trained
        default_config(args.stage, args.size, **_overrides(args, ("beta", "steps", "k")))
    stack = _Stack(args)
    if args.stage == "sft":
        _sft(stack)
    elif args.stage == "rm":
        stack.reward_model  # noqa: B018 (trains and prints)
    elif args.stage in METHODS:
        _rl(stack, args.stage)
    elif args.stage == "dpo":
        _dpo(stack)
    elif args.stage == "best-of-n":
        _best_of_n(stack, ns)
    else:
        _sweep(stack, betas, ns)
    return 0


def _sft(stack: _Stack) -> None:
    task, prompts = stack.task, stack.prompts
    demo = gold_reward(prompts, demonstrations(prompts, task, rng=stack.args.seed), task)
    stats, responses = evaluate_policy(stack.sft, stack.sft, None, prompts, task,
                                       stack.args.seed + EVAL_SEED_OFFSET)
    best = float((prompts >= FIRST_CONTENT).sum(axis=1).mean())
    print(f"gold reward on {len(prompts)} held-out prompts: SFT samples {stats.gold:.3f}, "
          f"demonstrator {demo.mean():.3f}, best possible {best:.3f}; SFT length "
          f"{stats.length:.2f}, repeats {stats.repeats:.2f}")
    stack.print_samples(responses)


def _sft_row(stack: _Stack) -> np.ndarray:
    stats, responses = stack.evaluate(stack.sft)
    print(_HEADER)
    print(_stats_line("SFT", stats, 0.5))
    return responses


def _rl(stack: _Stack, method: str) -> None:
    overrides = _overrides(stack.args, ("beta", "steps", "k"))
    if "k" in overrides:  # the same responses per step as the preset, over more or fewer prompts
        preset = default_config(method, stack.args.size)
        responses = preset.prompts_per_step * preset.k
        overrides["prompts_per_step"] = max(responses // overrides["k"], 1)
    config = default_config(method, stack.args.size, **overrides)
    args = stack.args
    sft, reward_model = stack.sft, stack.reward_model
    start = time.perf_counter()
    policy, history = train_policy(sft, reward_model, config, seed=args.seed,
                                   progress=stack.progress)
    seconds = time.perf_counter() - start
    print(f"{method}: beta {config.beta:g}, k {config.k}, {config.steps} steps of "
          f"{config.prompts_per_step * config.k} samples, {seconds:.1f} s")
    print(f"{'step':>6} {'proxy':>7} {'gold':>7} {'KL':>7} {'length':>6} {'repeat':>6}")
    for step in sorted({*range(0, config.steps, max(config.steps // 10, 1)), config.steps - 1}):
        print(f"{step:>6} {history.proxy_rewards[step]:>7.3f} {history.gold_rewards[step]:>7.3f}"
              f" {history.kls[step]:>7.3f} {history.lengths[step]:>6.2f} "
              f"{history.repeats[step]:>6.2f}")
    sft_responses = _sft_row(stack)
    stats, responses = stack.evaluate(policy)
    print(_stats_line(method, stats, win_rate(stack.prompts, responses, sft_responses,
                                              stack.task)))
    stack.print_samples(responses)


def _dpo(stack: _Stack) -> None:
    args = stack.args
    config = DPOConfig() if args.beta is None else DPOConfig(beta=args.beta)
    policy, history = train_dpo(stack.sft, config, seed=args.seed, progress=stack.progress)
    print(f"DPO: beta {config.beta:g}, {len(history.losses)} steps, {history.seconds:.1f} s; "
          f"loss {history.losses[0]:.4f} (ln 2 = {math.log(2):.4f}) -> "
          f"{np.mean(history.losses[-10:]):.4f}, implicit-reward accuracy "
          f"{np.mean(history.reward_accuracies[-10:]):.3f}")
    sft_responses = _sft_row(stack)
    stats, responses = stack.evaluate(policy)
    print(_stats_line("DPO", stats, win_rate(stack.prompts, responses, sft_responses,
                                             stack.task)))
    stack.print_samples(responses)


def _best_of_n(stack: _Stack, ns: list[int], header: bool = True) -> None:
    sft_responses = _sft_row(stack) if header else None
    for n in ns:
        stats, responses = best_of_n(stack.sft, stack.reward_model, stack.prompts, n,
                                     stack.task, seed=stack.args.seed + EVAL_SEED_OFFSET)
        win = None if sft_responses is None else win_rate(stack.prompts, responses,
                                                          sft_responses, stack.task)
        print(_stats_line(f"best-of-{n}", stats, win))


def _sweep(stack: _Stack, betas: list[float], ns: list[int]) -> None:
    args = stack.args
    config = default_config(args.method, args.size, **_overrides(args, ("steps", "k")))
    sft, reward_model = stack.sft, stack.reward_model
    start = time.perf_counter()
    histories = beta_sweep(sft, reward_model, tuple(betas), config, seed=args.seed,
                           progress=stack.progress)
    print(f"sweep of {args.method} over beta, {config.steps} steps each, "
          f"{time.perf_counter() - start:.1f} s; final policy on {config.n_eval_prompts} "
          f"held-out prompts:")
    print(_HEADER)
    for beta, history in zip(betas, histories, strict=True):
        assert history.final is not None
        print(_stats_line(f"beta={beta:g}", history.final))
    print("best-of-n (KL exact: log n - (n - 1) / n):")
    _best_of_n(stack, ns, header=False)
