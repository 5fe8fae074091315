"""Correct float32, loop and list implementations pass: tolerances follow the values' magnitude."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.judge import get_spec, run_check
from autograder.judge.core import allclose


def _rtg_float32_loop(rewards, gamma):
    out = np.zeros(len(rewards), dtype=np.float32)
    future = np.float32(0.0)
    for t in reversed(range(len(rewards))):
        future = np.float32(rewards[t]) + np.float32(gamma) * future
        out[t] = future
    return out


def _rtg_float32_powers(rewards, gamma):
    rewards = np.asarray(rewards, dtype=np.float32)
    n = len(rewards)
    powers = np.float32(gamma) ** np.arange(n, dtype=np.float32)
    return np.array([np.sum(powers[: n - t] * rewards[t:]) for t in range(n)], dtype=np.float32)


def _rtg_torch_float32(rewards, gamma):
    r = torch.as_tensor(np.asarray(rewards), dtype=torch.float32)
    out = torch.zeros_like(r)
    future = torch.tensor(0.0)
    for t in reversed(range(len(r))):
        future = r[t] + gamma * future
        out[t] = future
    return out.numpy()


def _rtg_list(rewards, gamma):
    out, future = [], 0.0
    for r in reversed(list(rewards)):
        future = r + gamma * future
        out.insert(0, future)
    return np.array(out)


def _return_float32(rewards, gamma):
    total = np.float32(0.0)
    for t, r in enumerate(rewards):
        total += np.float32(gamma) ** t * np.float32(r)
    return total


def _v_from_q_loop_float32(q_values, policy):
    out = np.zeros(len(q_values), dtype=np.float32)
    for s in range(len(q_values)):
        for a in range(len(q_values[s])):
            out[s] += np.float32(policy[s][a]) * np.float32(q_values[s][a])
    return out


VARIANTS = [
    ("reinforce.reward_to_go", _rtg_float32_loop),
    ("reinforce.reward_to_go", _rtg_float32_powers),
    ("reinforce.reward_to_go", _rtg_torch_float32),
    ("reinforce.reward_to_go", _rtg_list),
    ("mdps.discounted_return", _return_float32),
    ("mdps.v_from_q", _v_from_q_loop_float32),
]


@pytest.mark.parametrize(("name", "fn"), VARIANTS, ids=[f.__name__ for _, f in VARIANTS])
def test_correct_float32_and_loop_variants_get_full_marks(name, fn):
    for grading in (False, True):
        report = run_check(get_spec(name), fn, grading=grading)
        assert report.passed, report.summary()


def test_float32_tolerance_is_relative_and_still_catches_a_percent():
    compare = allclose()
    expected = np.array([99.34, 50.0, 1.0])
    assert compare((expected * (1 + 5e-5)).astype(np.float32), expected) is None
    assert compare(expected * (1 + 5e-5), expected) is not None  # float64: 1e-6 relative
    assert compare((expected * 0.99).astype(np.float32), expected) is not None
    # an entry near 0 among large values may carry their rounding error, not more
    near_zero = np.array([100.0, 0.0])
    assert compare(np.array([100.0, 5e-5]), near_zero) is None
    assert compare(np.array([100.0, 1e-3]), near_zero) is not None
    # exact comparisons (rtol 0: statistical bounds, seeded samples) are untouched
    assert allclose(rtol=0.0, atol=0.0)(np.float32(1.0000001), 1.0) is not None


def test_infinite_entries_are_compared_without_inf_minus_inf():
    """An unvisited edge's score is ``inf`` in both outputs: equal, and no NaN in the report."""
    compare = allclose()
    inf = np.inf
    with np.errstate(all="raise"):  # inf - inf would raise here
        assert compare(np.array([inf, 1.0, 2.0]), np.array([inf, 1.0, 2.0])) is None
        assert "difference 1" in compare(np.array([inf, 1.0, 2.0]), np.array([inf, 1.0, 3.0]))
        assert "infinite" in compare(np.array([5.0, 1.0]), np.array([inf, 1.0]))
        assert "infinite" in compare(np.array([-inf, 1.0]), np.array([inf, 1.0]))
