"""Check specs of notebook 05's second part, continuous actions: the Gaussian log-prob.

The spec name shares notebook 05's topic prefix ``actor_critic``; the critic, GAE and A2C checks
are :mod:`autograder.judge.specs.a2c`. The box procedure that calls the student's function,
with tensors that require grad, is :mod:`autograder.box.procedures.a2c`'s
``a2c.gaussian_log_prob``; it returns the log-probs and gradients, compared here. Each
``_bug_*`` is a self-contained plausible wrong implementation with its hint;
``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from autograder.box.procedures.a2c import gauss_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, promised_type, register
from autograder.judge.specs.dqn import fields
from rlkit.nets import gaussian_log_prob

# --- gaussian_log_prob


_GAUSS_COMPARE = promised_type(fields(allclose(rtol=1e-6, atol=1e-8)))


def _one_per_action(actions) -> Any:
    """The log-prob's comparison: one value per action vector (the sum over the last axis)."""
    shape = np.shape(actions)

    def compare(got: Any, expected: Any) -> str | None:
        log_prob = got.get("log_prob") if isinstance(got, dict) else None
        if log_prob is not None and "d/d mean" in got and np.shape(log_prob) != shape[:-1]:
            return (f"one log-probability per action vector: shape {shape[:-1]} for actions "
                    f"of shape {shape}; got {np.shape(log_prob)} (sum over the last axis)")
        return _GAUSS_COMPARE(got, expected)

    return compare


def _gauss_case(name: str, actions, mean, log_std, as_tensors: bool = True) -> Case:
    return Case(name, run=gauss_run(actions, mean, log_std, as_tensors),
                compare=_one_per_action(actions))


def _gauss_cases() -> list[Case]:
    rng = np.random.default_rng(505)
    mean = rng.normal(size=(4, 2))
    return [
        _gauss_case("one 1-D action at the mean, sigma 1: -log(2 pi) / 2", [[0.0]], [[0.0]],
                    [0.0]),
        _gauss_case("4 actions of 2 dims, one log_std per dim (shape (2,))",
                    mean + rng.normal(size=(4, 2)), mean, [0.3, -0.7]),
        _gauss_case("a log_std per state and dim (shape (4, 2))", mean + rng.normal(size=(4, 2)),
                    mean, rng.normal(0.0, 0.5, size=(4, 2))),
        _gauss_case("numpy inputs: a float array back", rng.normal(size=(3, 1)),
                    np.zeros((3, 1)), [math.log(2.0)], as_tensors=False),
        _gauss_case("an action far outside the box (never clipped in the log-prob)",
                    [[5.0], [-4.0]], [[0.0], [0.5]], [-1.0]),
    ]


def _gauss_hidden(rng: np.random.Generator) -> list[Case]:
    n, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    mean = rng.normal(size=(n, d))
    return [_gauss_case("hidden: random actions", mean + rng.normal(size=(n, d)), mean,
                        rng.normal(0.0, 0.5, size=d))]


def _bug_gauss_no_log_sigma(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)


def _bug_gauss_std_as_log_std(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions - mean) / log_std
    return (-0.5 * z**2 - torch.log(log_std.abs()) - 0.5 * math.log(2 * math.pi)).sum(-1)


def _bug_gauss_mean_over_dims(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).mean(-1)


def _bug_gauss_no_half(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions - mean) / log_std.exp()
    return (-(z**2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def _bug_gauss_no_constant(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std).sum(-1)


def _bug_gauss_variance_not_squared(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    return (-0.5 * (actions - mean) ** 2 / log_std.exp() - log_std
            - 0.5 * math.log(2 * math.pi)).sum(-1)


def _bug_gauss_clipped(actions, mean, log_std):
    actions, mean, log_std = (torch.as_tensor(x, dtype=torch.float64)
                              for x in (actions, mean, log_std))
    z = (actions.clamp(-2.0, 2.0) - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


GAUSSIAN_LOG_PROB = CheckSpec(
    name="actor_critic.gaussian_log_prob",
    function="gaussian_log_prob",
    points=2,
    reference=gaussian_log_prob,
    withhold=("rlkit.nets.gaussian_log_prob",),
    visible_cases=_gauss_cases,
    hidden_cases=_gauss_hidden,
    compare=_GAUSS_COMPARE,
    bugs=(
        Bug("no_log_sigma", _bug_gauss_no_log_sigma,
            "The density's normaliser has 1/sigma: log N includes -log sigma for each "
            "dimension."),
        Bug("log_std_used_as_std", _bug_gauss_std_as_log_std,
            "log_std is log sigma: sigma = exp(log_std)."),
        Bug("mean_over_dims", _bug_gauss_mean_over_dims,
            "Independent dimensions multiply their densities, so the log-probs ADD: sum over "
            "the last axis, not mean."),
        Bug("no_half", _bug_gauss_no_half,
            "The exponent is -(a - mu)^2 / (2 sigma^2): mind the 1/2."),
        Bug("no_constant", _bug_gauss_no_constant,
            "Each dimension also contributes -log(2 pi) / 2; without it the values are off by "
            "a constant (the gradients happen to be right)."),
        Bug("sigma_not_squared", _bug_gauss_variance_not_squared,
            "Divide by the VARIANCE sigma^2 = exp(2 log_std), not by sigma."),
        Bug("clips_the_action", _bug_gauss_clipped,
            "Evaluate the log-prob at the action the policy drew; clip only what is sent to "
            "the env."),
    ),
    hint="log N(a; mu, sigma) = sum over the last axis of -(a - mu)^2 / (2 sigma^2) - log sigma "
    "- log(2 pi) / 2, with sigma = exp(log_std).",
)

register(GAUSSIAN_LOG_PROB)
