"""Check specs of notebook 04 (REINFORCE), section 6: the loss and its learning run.

The loss is checked on hand-made fixtures (its value and gradients, in float32 and float64, and
weights that require grad and must not receive a gradient), then in a short seeded learning run
(DESIGN section 5, layer 3): REINFORCE on CartPole-v1 with the student's loss. The box trains
(:func:`autograder.box.procedures.reinforce.learn_run`) and returns the policy's parameters; the
judge evaluates them with rlkit's own evaluation, as the trainer does. The estimators of
sections 3-5 are :mod:`autograder.judge.specs.reinforce_estimators`.

The loss is deterministic given its inputs, so a known bug is diagnosed by matching outputs
(``diagnose=allclose()``). Every ``_bug_*`` is self-contained (torch, which the notebook
imports) so that the sample class can paste its source into a notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from autograder.box.procedures import reinforce as procedures
from autograder.box.procedures.reinforce import learn_run, loss_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, learning_case, register

#: the learning run: REINFORCE on CartPole-v1 from each of LEARN_SEEDS, at most LEARN_STEPS env
#: steps, a greedy evaluation of 5 episodes capped at LEARN_CAP steps after every batch,
#: stopping at the first that reaches LEARN_TARGET; the best evaluations' mean minus std must
#: reach LEARN_THRESHOLD (:func:`autograder.judge.core.learning_case`). Measured
#: (``benchmarks/bench_learning_checks.py``): the reference reached 75-100 within 500-6,300
#: steps on each of the seeds 0-25, every correct loss of ``tests/variants_reinforce.py`` passes,
#: and the flipped sign and the product of means best at 9-54 per seed.
LEARN_SEEDS = (0, 1, 2)
LEARN_STEPS = 8_000
LEARN_CAP = 100.0
LEARN_TARGET = 75.0
LEARN_THRESHOLD = 50.0
#: the loss bugs that cannot learn, so the learning case fails them too; the others of the bank
#: (a missing detach, a sum, normalised weights, probabilities for log-probs) still learn a
#: little CartPole, and the loss's exact cases catch them
LEARNING_FAILS = ("wrong_sign", "product_of_means")
#: rlkit's ``ReinforceConfig`` of the learning run (plain data: it crosses into the box)
LEARN_SETTINGS = {"total_steps": LEARN_STEPS, "batch_size": 500, "learning_rate": 2e-2,
                  "eval_interval": 500, "eval_episodes": 5, "eval_max_steps": int(LEARN_CAP),
                  "target_return": LEARN_TARGET}


def learn_config() -> Any:
    """The learning run's settings."""
    return procedures.learn_config(LEARN_SETTINGS)


def learning_run(loss: Callable, seed: int) -> Any:
    """REINFORCE on CartPole-v1 with ``loss``, as the learning case runs it (the history)."""
    return procedures.train(loss, seed, LEARN_SETTINGS)


def learned_return(state: Any, seed: int) -> float:
    """The greedy evaluation of a trained policy's parameters, as rlkit's trainer evaluates it.

    The same network class, evaluation seed, episodes and step cap as
    :func:`rlkit.agents.reinforce.train`'s evaluations; parameters with other names or shapes
    score 0.
    """
    from rlkit.agents.reinforce import EVAL_SEED_OFFSET
    from rlkit.evaluation import evaluate
    from rlkit.nets import CategoricalPolicy, torch_threads

    config = learn_config()
    policy = CategoricalPolicy(4, 2, config.hidden_sizes)
    wanted = policy.state_dict()
    if not isinstance(state, dict) or set(state) != set(wanted):
        return 0.0
    try:
        loaded = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in state.items()}
    except (TypeError, ValueError):
        return 0.0
    if any(loaded[k].shape != wanted[k].shape or not torch.isfinite(loaded[k]).all()
           for k in wanted):
        return 0.0
    policy.load_state_dict(loaded)
    eval_seed = seed + EVAL_SEED_OFFSET
    with torch_threads(config.torch_threads):
        sampler = torch.Generator().manual_seed(eval_seed)
        greedy = config.eval_deterministic
        result = evaluate(config.env_id, lambda o: policy.act(o, sampler, deterministic=greedy),
                          n_episodes=config.eval_episodes, seed=eval_seed,
                          max_steps=config.eval_max_steps, batched=True)
    return float(result.mean)


def _loss_case(name: str, log_probs: Sequence[float], weights: Sequence[float],
               dtype: torch.dtype = torch.float32) -> Case:
    """Return [loss, d loss / d log_probs..., d loss / d weights...] (weights require grad)."""
    return Case(name, run=loss_run([float(x) for x in log_probs], [float(x) for x in weights],
                                   dtype))


def _loss_cases() -> list[Case]:
    rng = np.random.default_rng(407)
    return [
        _loss_case("log_probs [-1, -2], weights [1, 2]: [loss, d/d log_probs, d/d weights]",
                   [-1.0, -2.0], [1.0, 2.0]),
        _loss_case("a single step", [-0.5], [3.0]),
        _loss_case("8 steps, negative weights (advantages) too, float64",
                   list(-rng.exponential(size=8)), list(rng.normal(size=8)), torch.float64),
        _loss_case("the weights (G_t - V_phi(s_t)) require grad: they must get none",
                   list(-rng.exponential(size=5)), list(rng.normal(2.0, 1.0, size=5))),
        learning_case(f"learning: REINFORCE on CartPole-v1 with your loss, up to {LEARN_STEPS} "
                      f"steps from each of the seeds {list(LEARN_SEEDS)} (a few seconds)",
                      seeds=LEARN_SEEDS, cap=LEARN_CAP, threshold=LEARN_THRESHOLD,
                      steps=LEARN_STEPS, untrained="an untrained policy gets 9-20",
                      run_seed=lambda seed: learn_run(seed, LEARN_SETTINGS),
                      score=learned_return),
    ]


def _loss_hidden(rng: np.random.Generator) -> list[Case]:
    return [_loss_case(f"hidden: {n} random steps", list(-rng.exponential(size=n)),
                       list(rng.normal(0.0, 3.0, size=n))) for n in rng.integers(2, 30, size=2)]


def _reference_loss(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    from rlkit.agents.reinforce import reinforce_loss

    return reinforce_loss(log_probs, weights)


def _bug_loss_wrong_sign(log_probs, weights):
    return (log_probs * weights.detach()).mean()


def _bug_loss_no_detach(log_probs, weights):
    return -(log_probs * weights).mean()


def _bug_loss_sum(log_probs, weights):
    return -(log_probs * weights.detach()).sum()


def _bug_loss_probabilities(log_probs, weights):
    return -(torch.exp(log_probs) * weights.detach()).mean()


def _bug_loss_product_of_means(log_probs, weights):
    return -log_probs.mean() * weights.detach().mean()


def _bug_loss_normalised(log_probs, weights):
    w = weights.detach()
    return -(log_probs * (w - w.mean()) / (w.std(correction=0) + 1e-8)).mean()


REINFORCE_LOSS = CheckSpec(
    name="reinforce.reinforce_loss",
    function="reinforce_loss",
    points=3,
    reference=_reference_loss,
    withhold=("rlkit.agents.reinforce.reinforce_loss",),
    visible_cases=_loss_cases,
    hidden_cases=_loss_hidden,
    compare=allclose(rtol=1e-5, atol=1e-6),
    diagnose=allclose(rtol=1e-5, atol=1e-6),
    bugs=(
        Bug("wrong_sign", _bug_loss_wrong_sign,
            "The optimiser DESCENDS the loss, and we want to ASCEND J: the loss is "
            "-mean(log_probs * weights)."),
        Bug("no_detach", _bug_loss_no_detach,
            "The weights are constants of the policy loss: use weights.detach(), or the "
            "gradient flows into the baseline/critic that produced them."),
        Bug("sum_not_mean", _bug_loss_sum,
            "Average over the steps of the batch (.mean()), as rlkit's trainer expects."),
        Bug("probabilities", _bug_loss_probabilities,
            "Use the LOG-probabilities: the gradient of ln pi is the score in the estimator."),
        Bug("product_of_means", _bug_loss_product_of_means,
            "Multiply each step's log-probability by ITS OWN weight, then average: "
            "mean(log_probs * weights), not mean(log_probs) * mean(weights) (which is also "
            "what (B,) times (B, 1) gives, broadcast to a (B, B) matrix)."),
        Bug("normalised_weights", _bug_loss_normalised,
            "Use the weights as given; the trainer already subtracts the baseline."),
    ),
    hint="loss = -(log_probs * weights.detach()).mean(), a scalar tensor whose gradient is minus "
    "the policy-gradient estimate.",
)


register(REINFORCE_LOSS)
