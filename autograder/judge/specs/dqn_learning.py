"""Check specs of notebook 03 (DQN), the learning run: the five functions in rlkit's trainer.

The functions' own checks are :mod:`autograder.judge.specs.dqn`; this one plugs the student's
five into ``rlkit.agents.dqn.train`` (DESIGN section 5, layer 3). The box trains
(:func:`autograder.box.procedures.dqn.learn_run`) and returns the Q-network's weights; the
judge evaluates them itself (:func:`learned_score`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from autograder.box.procedures.dqn import TRAIN_KEYWORDS, learn_run
from autograder.judge.core import Case, learning_case, register
from autograder.judge.specs.dqn import DQN_LOSS, SAMPLE_BATCH, TD_TARGET, UPDATE_TARGET
from autograder.judge.specs.learning_runs import learning_spec, trained_with
from rlkit.agents import dqn

#: the student's functions the learning run plugs into ``rlkit.agents.dqn.train``
AGENT = ("linear_epsilon", "sample_batch", "td_target", "dqn_loss", "update_target")
REFERENCE_AGENT = {"linear_epsilon": dqn.linear_epsilon, "sample_batch": dqn.sample_batch,
                   "td_target": dqn.td_target, "dqn_loss": dqn.dqn_loss,
                   "update_target": dqn.update_target}
#: DQN on CartPole-v1 from each of LEARN_SEEDS, at most LEARN_STEPS env steps, a greedy
#: evaluation of 5 episodes capped at LEARN_CAP steps every LEARN_EVAL_INTERVAL steps, stopping
#: at the first evaluation that reaches LEARN_CAP. The box returns the trained Q-network's
#: weights; the judge evaluates that network greedily itself (:func:`learned_score`, the
#: trainer's own evaluation: same episodes, seeds and cap), and the scores' mean minus std
#: (with two seeds: the smaller one) must reach LEARN_THRESHOLD
#: (:func:`autograder.judge.core.learning_case`). Measured
#: (``benchmarks/bench_learning_checks.py``): the reference reaches 100 within 1,500-2,000
#: steps on each of the seeds 0-9, 57 correct variants of the five functions with 57 different
#: sampling streams all pass, the six broken agents below best at 9-51 on seeds 0 and 1, and
#: an untrained network scores 8-10. Some bugs do not stop a short run from learning (sampling
#: only the newest transitions, or only the first slots): their own checks catch them.
LEARN_SEEDS = (0, 1)
LEARN_STEPS = 5_000
LEARN_EVAL_INTERVAL = 500
LEARN_CAP = 100.0
LEARN_THRESHOLD = 75.0


def learn_config() -> dqn.DQNConfig:
    """The learning run's settings: the defaults, on a short budget with half the updates."""
    return dqn.DQNConfig(total_steps=LEARN_STEPS, learning_starts=500, epsilon_decay_steps=2_000,
                         gradient_steps=32, target_update_interval=32,
                         eval_interval=LEARN_EVAL_INTERVAL, eval_episodes=5,
                         eval_max_steps=int(LEARN_CAP), target_return=LEARN_CAP)


def learning_run(agent: dict[str, Any], seed: int) -> dqn.DQNHistory:
    """DQN on CartPole-v1 with ``agent``'s functions, as the learning check runs it."""
    return trained_with(dqn.train, learn_config(), TRAIN_KEYWORDS, agent, seed)


def learned_score(state: Any, seed: int) -> float:
    """The greedy evaluation of a trained Q-network's weights, as the trainer evaluates it."""
    from rlkit.evaluation import evaluate
    from rlkit.nets import QNetwork

    config = learn_config()
    network = QNetwork(4, 2, config.hidden_sizes, layer_norm=config.layer_norm)
    try:
        network.load_state_dict({k: torch.as_tensor(np.asarray(v, dtype=np.float32))
                                 for k, v in dict(state).items()})
    except Exception:  # noqa: BLE001 - not this network's weights: nothing learned
        return 0.0

    def greedy(observations: Any) -> Any:
        with torch.no_grad():
            return network(torch.as_tensor(observations, dtype=torch.float32)).argmax(-1).numpy()

    return float(evaluate(config.env_id, greedy, n_episodes=config.eval_episodes,
                          seed=seed + dqn.EVAL_SEED_OFFSET, max_steps=config.eval_max_steps,
                          batched=True).mean)


def _learning_cases() -> list[Case]:
    config = dataclasses.asdict(learn_config())
    return [learning_case(f"learning: DQN on CartPole-v1 with your five functions, up to "
                          f"{LEARN_STEPS} env steps from each of the seeds {list(LEARN_SEEDS)}",
                          seeds=LEARN_SEEDS, cap=LEARN_CAP, threshold=LEARN_THRESHOLD,
                          steps=LEARN_STEPS, untrained="an untrained network gets 8-10",
                          run_seed=lambda seed: learn_run(seed, config), score=learned_score)]


LEARNS = learning_spec(
    "dqn.learns", AGENT, REFERENCE_AGENT, 3, _learning_cases, (
        (SAMPLE_BATCH, "whole_capacity"),
        (TD_TARGET, "no_terminal_mask"),
        (TD_TARGET, "argmax_not_max"),
        (DQN_LOSS, "max_action"),
        (UPDATE_TARGET, "reversed"),
        (UPDATE_TARGET, "rebinds_local_name"),
    ),
    hint="Your functions together do not learn CartPole. Make each of the five checks above "
    "pass first; if they do, run the training cell and look at the loss and the returns.",
)

register(LEARNS)
