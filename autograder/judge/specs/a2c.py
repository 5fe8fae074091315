"""Check specs of notebook 05's second part: TD errors, GAE, the A2C loss, the learning run.

The spec names share notebook 05's topic prefix ``actor_critic`` (its first part lives in
:mod:`autograder.judge.specs.actor_critic` and
:mod:`autograder.judge.specs.actor_critic_estimators`, the Gaussian log-prob in
:mod:`autograder.judge.specs.a2c_gaussian`). The box procedures that call the student's
functions are :mod:`autograder.box.procedures.a2c`; they return raw outputs (a loss and its
gradients, a trained policy's weights), judged here. Rollouts are ``(T, n_envs)`` arrays as a
vector env gives them, with ``terminated`` and ``truncated`` kept apart: a truncated step
bootstraps from V of its real final observation, a terminated one never does, and both end
the episode, so the GAE sum stops there. Each ``_bug_*`` is a self-contained plausible wrong
implementation with its hint; ``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.procedures.a2c import learn_run, loss_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, numpy_output, register
from autograder.judge.specs.dqn import fields
from autograder.judge.specs.learning_runs import (
    learning_spec,
    on_policy_learning_cases,
    trained_with,
)
from rlkit import advantages
from rlkit.agents import a2c

# --- rollouts


def _rollout(rewards, values, next_values, terminated, truncated=None) -> dict[str, np.ndarray]:
    rewards = np.asarray(rewards, dtype=np.float64)
    return {"rewards": rewards, "values": np.asarray(values, dtype=np.float64),
            "next_values": np.asarray(next_values, dtype=np.float64),
            "terminated": np.asarray(terminated, dtype=bool),
            "truncated": (np.zeros(rewards.shape, dtype=bool) if truncated is None
                          else np.asarray(truncated, dtype=bool))}


def _random_rollout(rng: np.random.Generator, steps: int, n_envs: int) -> dict[str, np.ndarray]:
    """Random rewards and values, episodes that end (either way) at random steps.

    As in every real rollout, ``next_values[t]`` is ``values[t + 1]`` while the episode goes
    on (both are V of the same state): a correct GAE may read either (the lambda-return
    recursion reads the first). Where an episode ends the next value is its own: V of the
    final observation after a truncation, ignored after a termination.
    """
    shape = (steps, n_envs)
    ends = rng.random(shape)
    terminated, truncated = ends < 0.15, (ends >= 0.15) & (ends < 0.25)
    values, next_values = rng.normal(size=shape), rng.normal(size=shape)
    goes_on = ~(terminated | truncated)[:-1]
    next_values[:-1] = np.where(goes_on, values[1:], next_values[:-1])
    return _rollout(rng.normal(size=shape), values, next_values, terminated, truncated)


def _lecture_rollout() -> dict[str, np.ndarray]:
    """Two envs, 4 steps: env 0 terminates after step 1; env 1 is truncated after step 2."""
    return _rollout(rewards=[[1.0, 0.5], [1.0, -1.0], [0.0, 2.0], [1.0, 1.0]],
                    values=[[0.5, 1.0], [0.2, 0.0], [1.5, -0.5], [0.3, 0.8]],
                    next_values=[[0.2, 0.0], [9.0, -0.5], [0.3, 3.0], [0.7, 0.6]],
                    terminated=[[False, False], [True, False], [False, False], [False, False]],
                    truncated=[[False, False], [False, False], [False, True], [False, False]])


# --- td_errors


def _td_case(name: str, rollout: dict[str, np.ndarray], gamma: float) -> Case:
    return Case(name, args=(rollout["rewards"], rollout["values"], rollout["next_values"],
                            rollout["terminated"], gamma))


def _td_cases() -> list[Case]:
    lecture = _lecture_rollout()
    return [
        _td_case("one env, 3 steps, nothing ends, gamma 0.9",
                 _rollout([1.0, 0.0, 2.0], [0.5, 1.0, -1.0], [1.0, -1.0, 0.5], [0, 0, 0]), 0.9),
        _td_case("2 envs x 4 steps: a terminated step (env 0, t = 1) does not bootstrap; a "
                 "truncated one (env 1, t = 2) does, from next_values", lecture, 0.9),
        _td_case("gamma 0: delta = r - V(s)", lecture, 0.0),
        _td_case("gamma 1, the lecture's living reward -0.04",
                 _rollout([-0.04, -0.04, 1.0], [0.7, 0.8, 0.9], [0.8, 0.9, 0.0],
                          [0, 0, 1]), 1.0),
        _td_case("a single step of 3 envs", _rollout([[1.0, 2.0, 3.0]], [[0.0, 1.0, 2.0]],
                                                     [[1.0, 1.0, 1.0]], [[0, 1, 0]]), 0.5),
    ]


def _td_hidden(rng: np.random.Generator) -> list[Case]:
    steps, n_envs = (int(x) for x in rng.integers(2, 12, size=2))
    return [_td_case("hidden: a random rollout", _random_rollout(rng, steps, n_envs),
                     float(rng.uniform(0.8, 1.0)))]


def _bug_td_no_mask(rewards, values, next_values, terminated, gamma):
    return np.asarray(rewards) + gamma * np.asarray(next_values) - np.asarray(values)


def _bug_td_mask_inverted(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return np.asarray(rewards) + gamma * done * np.asarray(next_values) - np.asarray(values)


def _bug_td_target_only(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return np.asarray(rewards) + gamma * (1 - done) * np.asarray(next_values)


def _bug_td_masks_reward(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return ((np.asarray(rewards) + gamma * np.asarray(next_values)) * (1 - done)
            - np.asarray(values))


def _bug_td_reversed(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return np.asarray(values) - np.asarray(rewards) - gamma * (1 - done) * np.asarray(next_values)


def _bug_td_values_twice(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return np.asarray(rewards) + gamma * (1 - done) * np.asarray(values) - np.asarray(values)


def _bug_td_next_row(rewards, values, next_values, terminated, gamma):
    values = np.asarray(values, dtype=float)
    following = np.concatenate([values[1:], np.asarray(next_values, dtype=float)[-1:]])
    done = np.asarray(terminated, dtype=float)
    return np.asarray(rewards) + gamma * (1 - done) * following - values


TD_ERRORS = CheckSpec(
    name="actor_critic.td_errors",
    function="td_errors",
    points=2,
    reference=advantages.td_errors,
    withhold=("rlkit.advantages.td_errors", "rlkit.advantages._td_errors"),
    visible_cases=_td_cases,
    hidden_cases=_td_hidden,
    compare=numpy_output(allclose()),  # "Return a float array": the student's gae uses it
    bugs=(
        Bug("no_terminal_mask", _bug_td_no_mask,
            "A terminated s_{t+1} has no future: delta_t = r_t - V(s_t) there. Multiply the "
            "bootstrap by (1 - terminated) (a truncated step still bootstraps)."),
        Bug("mask_inverted", _bug_td_mask_inverted,
            "The bootstrap is kept where the episode goes on: (1 - terminated), not terminated."),
        Bug("target_not_error", _bug_td_target_only,
            "That is the TD target y_t = r_t + gamma V(s_{t+1}); the TD error subtracts the "
            "critic's own prediction: delta_t = y_t - V(s_t)."),
        Bug("masks_reward", _bug_td_masks_reward,
            "The last reward of an episode still counts: mask only gamma V(s_{t+1})."),
        Bug("reversed_sign", _bug_td_reversed,
            "The sign is flipped: delta_t = r_t + gamma V(s_{t+1}) - V(s_t), positive when the "
            "step went better than the critic expected."),
        Bug("values_for_next_values", _bug_td_values_twice,
            "Bootstrap from the NEXT state's value, next_values[t] = V(s_{t+1}), not from "
            "values[t] = V(s_t)."),
        Bug("next_row_for_next_values", _bug_td_next_row,
            "V(s_{t+1}) is next_values[t], not values[t + 1]: after a truncation the next row "
            "is a new episode's first state, and the real final observation's value is only "
            "in next_values."),
    ),
    hint="delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t), elementwise over the "
    "(T, n_envs) rollout.",
)

# --- gae


def _gae_case(name: str, rollout: dict[str, np.ndarray], gamma: float, lam: float) -> Case:
    return Case(name, args=(rollout["rewards"], rollout["values"], rollout["next_values"],
                            rollout["terminated"], rollout["truncated"], gamma, lam))


def _gae_cases() -> list[Case]:
    lecture = _lecture_rollout()
    steady = 1.0 / (1.0 - 0.9)
    long = _rollout(np.ones(6), np.full(6, steady), np.full(6, steady), np.zeros(6))
    return [
        _gae_case("one env, 4 steps, nothing ends, gamma 0.9, lambda 0.8",
                  _rollout([1.0, 0.0, 2.0, -1.0], [0.5, 1.0, -1.0, 0.0],
                           [1.0, -1.0, 0.0, 0.5], [0, 0, 0, 0]), 0.9, 0.8),
        _gae_case("lambda 0 gives the TD errors", lecture, 0.9, 0.0),
        _gae_case("lambda 1 gives the discounted return (bootstrapped at the end) minus V",
                  lecture, 0.9, 1.0),
        _gae_case("2 envs x 4 steps, lambda 0.95: the sum stops where an episode ends, "
                  "terminated (env 0, t = 1) or truncated (env 1, t = 2)", lecture, 0.9, 0.95),
        _gae_case("reward 1 forever with V = 1 / (1 - gamma) = 10: every advantage is 0",
                  long, 0.9, 0.95),
        _gae_case("a single step: the advantage is the TD error",
                  _rollout([[1.0, -1.0]], [[0.5, 0.5]], [[2.0, 2.0]], [[0, 1]], [[1, 0]]),
                  0.99, 0.95),
        _gae_case("gamma 1, lambda 0.5, the lecture's living reward -0.04, a terminal reward 1",
                  _rollout([-0.04, -0.04, -0.04, 1.0], [0.6, 0.7, 0.8, 0.9],
                           [0.7, 0.8, 0.9, 0.0], [0, 0, 0, 1]), 1.0, 0.5),
    ]


def _gae_hidden(rng: np.random.Generator) -> list[Case]:
    steps, n_envs = int(rng.integers(5, 20)), int(rng.integers(2, 6))
    return [_gae_case("hidden: a random rollout with random episode ends",
                      _random_rollout(rng, steps, n_envs), float(rng.uniform(0.9, 1.0)),
                      float(rng.uniform(0.5, 1.0)))]


def _deltas(rewards, values, next_values, terminated, gamma):
    done = np.asarray(terminated, dtype=float)
    return (np.asarray(rewards, dtype=float) + gamma * (1 - done) * np.asarray(next_values)
            - np.asarray(values))


def _backwards(deltas, keep, decay):
    out = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1:])
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + decay * keep[t] * running
        out[t] = running
    return out


def _bug_gae_forwards(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    out = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1:])
    for t in range(len(deltas)):
        running = deltas[t] + gamma * lam * (keep[t - 1] if t else 1.0) * running
        out[t] = running
    return out


def _bug_gae_crosses_episodes(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    return _backwards(deltas, np.ones_like(deltas), gamma * lam)


def _bug_gae_crosses_truncation(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    return _backwards(deltas, 1.0 - np.asarray(terminated, dtype=float), gamma * lam)


def _bug_gae_truncation_terminal(rewards, values, next_values, terminated, truncated, gamma,
                                 lam):
    ended = np.asarray(terminated) | np.asarray(truncated)
    deltas = _deltas(rewards, values, next_values, ended, gamma)
    return _backwards(deltas, 1.0 - ended, gamma * lam)


def _bug_gae_no_lambda(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma)


def _bug_gae_swapped(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, lam)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma * lam)


def _bug_gae_no_terminal_mask(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, np.zeros_like(terminated), gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma * lam)


def _bug_gae_no_minus_value(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, np.zeros_like(np.asarray(values, dtype=float)), next_values,
                     terminated, gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma * lam)


def _bug_gae_next_row(rewards, values, next_values, terminated, truncated, gamma, lam):
    values = np.asarray(values, dtype=float)
    following = np.concatenate([values[1:], np.asarray(next_values, dtype=float)[-1:]])
    deltas = _deltas(rewards, values, following, terminated, gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma * lam)


def _bug_gae_returns(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    keep = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _backwards(deltas, keep, gamma * lam) + np.asarray(values)


GAE = CheckSpec(
    name="actor_critic.gae",
    function="gae",
    points=3,
    reference=advantages.gae,
    withhold=("rlkit.advantages.gae", "rlkit.advantages._td_errors"),
    visible_cases=_gae_cases,
    hidden_cases=_gae_hidden,
    bugs=(
        Bug("accumulated_forwards", _bug_gae_forwards,
            "A_t sums the TD errors of the steps AFTER t: loop backwards, A_t = delta_t + "
            "gamma lambda A_{t+1}."),
        Bug("crosses_episodes", _bug_gae_crosses_episodes,
            "The sum must stop where an episode ends: the row after an end belongs to a new "
            "episode. Multiply gamma lambda A_{t+1} by (1 - (terminated_t or truncated_t))."),
        Bug("crosses_truncation", _bug_gae_crosses_truncation,
            "A truncated step ends its episode too: the next row is a new episode's first "
            "step, so the sum stops at truncated as well as at terminated."),
        Bug("truncation_as_termination", _bug_gae_truncation_terminal,
            "A truncated step is not terminal: its TD error still bootstraps from V(s_{t+1}) "
            "of the real final observation. Only terminated zeroes the bootstrap."),
        Bug("no_lambda", _bug_gae_no_lambda,
            "The recursion decays by gamma * lambda, not gamma alone: A_t = delta_t + gamma "
            "lambda A_{t+1}."),
        Bug("lambda_gamma_swapped", _bug_gae_swapped,
            "gamma discounts V(s_{t+1}) inside delta_t; lambda only weighs the later TD errors "
            "(the two are swapped)."),
        Bug("no_terminal_mask", _bug_gae_no_terminal_mask,
            "A terminated s_{t+1} has no future: its TD error is r_t - V(s_t), no bootstrap."),
        Bug("no_minus_value", _bug_gae_no_minus_value,
            "Each TD error subtracts the critic's prediction: delta_t = r_t + gamma V(s_{t+1}) "
            "- V(s_t); without the - V(s_t) the advantages are not centred."),
        Bug("next_row_for_next_values", _bug_gae_next_row,
            "V(s_{t+1}) is next_values[t], not values[t + 1]: after a truncation the next row "
            "is a new episode's first state, and the real final observation's value is only "
            "in next_values."),
        Bug("returns_not_advantages", _bug_gae_returns,
            "That is the lambda-return G_t = A_t + V(s_t), the critic's target; gae returns "
            "the advantages A_t themselves."),
    ),
    hint="A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}, backwards from the last step, with "
    "delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t) and done = terminated or "
    "truncated.",
)

# --- a2c_loss


def _loss_case(name: str, n: int, seed: int, value_coef: float = 0.5,
               entropy_coef: float = 0.01, dtype: torch.dtype = torch.float32) -> Case:
    return Case(name, run=loss_run(n, seed, value_coef, entropy_coef, dtype))


def _loss_cases() -> list[Case]:
    return [
        _loss_case("5 steps, value_coef 0.5, entropy_coef 0.01: the loss and its gradients "
                   "(advantages and returns require grad: they must get none)", 5, 501),
        _loss_case("a single step", 1, 502),
        _loss_case("value_coef 1, entropy_coef 0.1, float64", 8, 503, 1.0, 0.1, torch.float64),
        _loss_case("no critic and no entropy term (both coefficients 0)", 6, 504, 0.0, 0.0),
    ]


def _loss_hidden(rng: np.random.Generator) -> list[Case]:
    return [_loss_case("hidden: a random batch", int(rng.integers(2, 40)),
                       int(rng.integers(2**31)), float(rng.uniform(0.1, 1.0)),
                       float(rng.uniform(0.0, 0.1)))]


def _loss_reference(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    return a2c.a2c_loss(log_probs, advantages, values, returns, entropy, value_coef,
                        entropy_coef)


def _bug_loss_advantages_not_detached(log_probs, advantages, values, returns, entropy,
                                      value_coef, entropy_coef):
    actor = -(log_probs * advantages).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def _bug_loss_returns_not_detached(log_probs, advantages, values, returns, entropy, value_coef,
                                   entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def _bug_loss_entropy_sign(log_probs, advantages, values, returns, entropy, value_coef,
                           entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic + entropy_coef * entropy.mean()


def _bug_loss_actor_sign(log_probs, advantages, values, returns, entropy, value_coef,
                         entropy_coef):
    actor = (log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def _bug_loss_probabilities(log_probs, advantages, values, returns, entropy, value_coef,
                            entropy_coef):
    actor = -(log_probs.exp() * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def _bug_loss_sum(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    actor = -(log_probs * advantages.detach()).sum()
    critic = ((returns.detach() - values) ** 2).sum()
    return actor + value_coef * critic - entropy_coef * entropy.sum()


def _bug_loss_no_value_coef(log_probs, advantages, values, returns, entropy, value_coef,
                            entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + critic - entropy_coef * entropy.mean()


def _bug_loss_absolute_error(log_probs, advantages, values, returns, entropy, value_coef,
                             entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = (returns.detach() - values).abs().mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


A2C_LOSS = CheckSpec(
    name="actor_critic.a2c_loss",
    function="a2c_loss",
    points=2,
    reference=_loss_reference,
    withhold=("rlkit.agents.a2c.a2c_loss",),
    uses=("rlkit.agents.reinforce.reinforce_loss", "rlkit.agents.reinforce.value_loss"),
    visible_cases=_loss_cases,
    hidden_cases=_loss_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-6)),
    bugs=(
        Bug("advantages_not_detached", _bug_loss_advantages_not_detached,
            "The advantages are constants of the actor's loss: .detach() them, else the "
            "actor's loss also trains the critic that produced them."),
        Bug("returns_not_detached", _bug_loss_returns_not_detached,
            "The critic's target G_t is a constant: .detach() it, else the critic chases its "
            "own target (G_t = A_t + V(s_t) moves with V)."),
        Bug("entropy_sign", _bug_loss_entropy_sign,
            "The entropy bonus is SUBTRACTED from the loss: minimising -c_e H keeps the policy "
            "exploring; adding it makes the policy collapse faster."),
        Bug("actor_sign", _bug_loss_actor_sign,
            "Gradient DEscent on the loss must be ascent on the return: the actor term is "
            "-mean(log pi(a|s) A)."),
        Bug("probabilities_not_log", _bug_loss_probabilities,
            "Weigh the LOG-probabilities: the gradient of log pi(a|s) is the score of the "
            "policy gradient theorem; exp(log_probs) is pi itself."),
        Bug("sum_not_mean", _bug_loss_sum,
            "Average over the batch (mean), do not sum: the step size would grow with the "
            "rollout's length."),
        Bug("value_coef_ignored", _bug_loss_no_value_coef,
            "Weigh the critic's term by value_coef: L = actor + c_v critic - c_e entropy."),
        Bug("absolute_error", _bug_loss_absolute_error,
            "The lecture's critic loss is the SQUARED error (G_t - V(s_t))^2, not its absolute "
            "value."),
    ),
    hint="L = -mean(log_probs * A.detach()) + value_coef * mean((G.detach() - V)^2) - "
    "entropy_coef * mean(entropy).",
)

# --- the learning run: the student's gae and loss in rlkit's A2C trainer

#: the known bugs that cannot learn CartPole, so the learning check fails them too; the
#: others still learn a short run (their own checks catch them)
LEARNING_FAILS = (
    (GAE, "accumulated_forwards"),
    (GAE, "no_terminal_mask"),
    (GAE, "no_minus_value"),
    (GAE, "returns_not_advantages"),
    (A2C_LOSS, "actor_sign"),
    (A2C_LOSS, "probabilities_not_log"),
)

#: the student's functions the learning run plugs into ``rlkit.agents.a2c.train`` (CartPole's
#: actions are discrete: the Gaussian log-prob is graded by its own check and shown learning
#: Pendulum in the notebook, ungraded)
AGENT = ("gae", "a2c_loss")
_TRAIN_KEYWORDS = {"gae": "gae_fn", "a2c_loss": "loss_fn"}
REFERENCE_AGENT = {"gae": advantages.gae, "a2c_loss": a2c.a2c_loss}
#: A2C on CartPole-v1 from each of LEARN_SEEDS, at most LEARN_STEPS env steps, a greedy
#: evaluation of 5 episodes capped at LEARN_CAP steps every LEARN_EVAL_INTERVAL steps, stopping
#: at the first that reaches LEARN_TARGET. The box returns the trained policy's weights, the
#: judge evaluates them as the trainer does
#: (:func:`~autograder.judge.specs.learning_runs.policy_score`), and the scores' mean minus
#: std must reach LEARN_THRESHOLD (:func:`autograder.judge.core.learning_case`; the figures
#: behind it: ``benchmarks/bench_learning_checks.py``).
LEARN_SEEDS = (0, 1, 2)
LEARN_STEPS = 10_000
LEARN_EVAL_INTERVAL = 500
LEARN_CAP = 100.0
LEARN_TARGET = 75.0
LEARN_THRESHOLD = 40.0


def learn_config() -> a2c.A2CConfig:
    """The learning run's settings, written out in full.

    The figures above were measured with them, and rlkit's defaults may be retuned without
    moving this check.
    """
    return a2c.A2CConfig(env_id="CartPole-v1", total_steps=LEARN_STEPS, n_envs=8, n_steps=5,
                         gamma=0.99, gae_lambda=1.0, advantage="gae", learning_rate=7e-4,
                         final_learning_rate=0.0,
                         optimizer="rmsprop", value_coef=0.5, entropy_coef=0.0,
                         max_grad_norm=0.5, normalize_advantages=False, reward_scale=1.0,
                         hidden_sizes=(64, 64), value_hidden_sizes=(64, 64),
                         eval_interval=LEARN_EVAL_INTERVAL, eval_episodes=5,
                         eval_max_steps=int(LEARN_CAP), eval_deterministic=True,
                         target_return=LEARN_TARGET)


def learning_run(agent: dict[str, Any], seed: int) -> a2c.A2CHistory:
    """A2C on CartPole-v1 with ``agent``'s functions, as the learning check runs it."""
    return trained_with(a2c.train, learn_config(), _TRAIN_KEYWORDS, agent, seed)


def _learning_cases() -> list[Case]:
    return on_policy_learning_cases("A2C on CartPole-v1 with your gae and a2c_loss",
                                    learn_config(), learn_run, LEARN_SEEDS, LEARN_CAP,
                                    LEARN_THRESHOLD, LEARN_STEPS)


LEARNS = learning_spec(
    "actor_critic.a2c_learns", AGENT, REFERENCE_AGENT, 3, _learning_cases, LEARNING_FAILS,
    hint="Your gae and a2c_loss together do not learn CartPole. Make their own checks pass "
    "first; if they do, run the training cell and look at the returns and the losses.",
)

register(TD_ERRORS, GAE, A2C_LOSS, LEARNS)
