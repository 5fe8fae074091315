"""Notebook 05's critic and A2C checks through the grader: the reference on 20 grader seeds in a
row, and correct solutions written differently from it (the GAE and loss variants live in
``tests/variants_a2c.py`` and ``tests/test_learning_checks.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograder.judge.core import run_check
from autograder.judge.specs import a2c as specs
from autograder.judge.specs.a2c_gaussian import GAUSSIAN_LOG_PROB

EXACT = [specs.TD_ERRORS, specs.GAE, specs.A2C_LOSS, GAUSSIAN_LOG_PROB]


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_the_reference_passes_20_grader_seeds_in_a_row(spec):
    for seed in range(20):
        report = run_check(spec, spec.reference, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


def td_loop(rewards, values, next_values, terminated, gamma):
    r = np.asarray(rewards, dtype=float)
    out = np.zeros_like(r)
    for index in np.ndindex(r.shape):
        bootstrap = 0.0 if terminated[index] else gamma * next_values[index]
        out[index] = r[index] + bootstrap - values[index]
    return out


def td_float32(rewards, values, next_values, terminated, gamma):
    r, v, nv = (np.asarray(x, dtype=np.float32) for x in (rewards, values, next_values))
    return r + np.float32(gamma) * (1 - np.asarray(terminated, np.float32)) * nv - v


def td_torch(rewards, values, next_values, terminated, gamma):
    """Computed in torch, returned as the float array the notebook asks for."""
    r, v, nv = (torch.as_tensor(np.asarray(x, dtype=float)) for x in (rewards, values,
                                                                         next_values))
    delta = torch.where(torch.as_tensor(np.asarray(terminated, bool)), r, r + gamma * nv) - v
    return delta.numpy()


def gauss_distributions(actions, mean, log_std):
    tensors = any(torch.is_tensor(x) for x in (actions, mean, log_std))
    a, mu, log_sigma = (x if torch.is_tensor(x) else torch.as_tensor(x, dtype=torch.float64)
                        for x in (actions, mean, log_std))
    normal = torch.distributions.Normal(mu, log_sigma.exp().expand_as(mu))
    result = torch.distributions.Independent(normal, 1).log_prob(a)
    return result if tensors else result.numpy()


def gauss_loop_over_dims(actions, mean, log_std):
    tensors = any(torch.is_tensor(x) for x in (actions, mean, log_std))
    a, mu, log_sigma = (x if torch.is_tensor(x) else torch.as_tensor(x, dtype=torch.float64)
                        for x in (actions, mean, log_std))
    log_sigma = log_sigma.expand_as(mu)
    total = torch.zeros(mu.shape[:-1], dtype=mu.dtype)
    for i in range(mu.shape[-1]):
        var = torch.exp(2 * log_sigma[..., i])
        total = total - (a[..., i] - mu[..., i]) ** 2 / (2 * var) - 0.5 * torch.log(
            2 * math.pi * var)
    return total if tensors else total.numpy()


@pytest.mark.parametrize(("spec", "fn"), [
    (specs.TD_ERRORS, td_loop), (specs.TD_ERRORS, td_float32), (specs.TD_ERRORS, td_torch),
    (GAUSSIAN_LOG_PROB, gauss_distributions),
    (GAUSSIAN_LOG_PROB, gauss_loop_over_dims),
], ids=lambda x: getattr(x, "__name__", None) or x.name)
def test_a_correct_solution_written_differently_gets_full_marks(spec, fn):
    report = run_check(spec, fn, grading=True)
    assert report.passed and report.score == spec.points, report.summary()
