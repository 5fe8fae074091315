"""A graded function that changes its inputs fails (autograder.judge.inputs), on every spec.

For each spec that records inputs, the reference is wrapped so that it returns its correct output
and then writes into its first mutable argument: the check must fail on the in-place test and
name that argument, judged directly (the self-check) and over the wire (the grader).
"""

from __future__ import annotations

import functools
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from autograder.box import wire
from autograder.box.calls import decode_call, encode_call
from autograder.box.calls import decode_outcome as decode_output
from autograder.box.inputs import input_state
from autograder.box.runner import reply_for
from autograder.grading.notebook import decode_inputs
from autograder.judge import all_specs, get_spec, run_check
from autograder.judge.core import Judge, call_case
from autograder.judge.inputs import changed_arguments
from rlkit.mdp import random_mdp

RECORDING = [s for s in all_specs() if s.records_inputs]
#: checks whose function gets nothing writable (numbers; a TabularMDP's arrays are read-only)
READ_ONLY_INPUTS = {"bellman.policy_iteration", "mdps.expected_rewards", "dqn.linear_epsilon",
                    "ppo.minibatch_indices", "alphago.evaluate_leaf"}
#: losses: writing into a tensor of their graph after the forward pass breaks backward, which
#: fails the case before the in-place test can speak
GRAPH_INPUTS = {"dqn.dqn_loss", "reinforce.reinforce_loss", "actor_critic.a2c_loss",
                "actor_critic.gaussian_log_prob", "ppo.importance_ratio", "ppo.ppo_clip_loss",
                "ppo.ppo_loss", "rlhf.bradley_terry_loss", "rlhf.sequence_log_probs",
                "alphago.selfplay_pg_loss", "alphago.alphazero_loss"}


def _mutate(value, depth=0):
    """Write into ``value`` in place if it holds writable data; True when it did."""
    if isinstance(value, np.random.Generator | gym.Env) or depth > 3:
        return False
    if torch.is_tensor(value) and value.requires_grad:
        return False  # writing into it would break the gradient, not test the rule
    if torch.is_tensor(value):
        if value.numel() == 0:
            return False
        with torch.no_grad():
            value.view(-1)[0] += 1.0 if value.dtype.is_floating_point else 1
        return True
    if isinstance(value, np.ndarray):
        if not value.flags.writeable or value.size == 0 or value.dtype.kind not in "biuf":
            return False
        value.flat[0] = ~value.flat[0] if value.dtype == bool else value.flat[0] + 1
        return True
    if isinstance(value, list):
        value.append(value[-1] if value else 0.0)
        return True
    if isinstance(value, tuple):
        return any(_mutate(v, depth + 1) for v in value)
    if hasattr(value, "__dict__") and not callable(value):
        return any(_mutate(v, depth + 1) for v in vars(value).values())
    return False


def _mutating(reference, mutated: list):
    """The reference, then a write into its first writable argument: on the first call only.

    (A case's first call gets private copies of its data; later calls of a case's own ``run``
    get the case's objects, some shared with other tests of the process, e.g. cached fixtures.)
    """
    calls = []

    @functools.wraps(reference)  # its parameter names, as a student's function has them
    def fn(*args, **kwargs):
        out = reference(*args, **kwargs)  # the right answer first
        calls.append(1)
        if len(calls) > 1:
            return out
        for i, arg in enumerate([*args, *kwargs.values()]):
            if _mutate(arg):
                mutated.append(i)
                break
        return out

    return fn


@pytest.mark.parametrize("spec", RECORDING, ids=lambda s: s.name)
def test_a_function_that_writes_into_an_argument_fails_and_is_told_which(spec):
    mutated: list[int] = []
    fn = _mutating(spec.reference, mutated)
    report = run_check(spec, fn)
    if not mutated:  # nothing it gets can be written to (the MDP's arrays are read-only)
        assert spec.name in READ_ONLY_INPUTS | GRAPH_INPUTS, f"{spec.name}: nothing writable"
        return
    assert not report.passed, report.summary()
    if spec.name in GRAPH_INPUTS:
        return
    problems = [r.problem for r in report.results if r.problem]
    assert f"`{spec.function}` changed its argument `" in problems[0], problems
    # over the wire, as the grader gets it: the same report
    judge = Judge.for_spec(spec, grading=False)
    for i in range(len(judge.cases)):  # the grader computes these in its own process
        judge.expected(i)
    again = _mutating(spec.reference, [])
    replies = [json.loads(json.dumps(reply_for(decode_call(encode_call(case.box_call())), again,
                                               True))) for case in judge.cases]
    wired = judge([decode_output(r) for r in replies], inputs=[decode_inputs(r) for r in replies])
    assert [r.problem for r in wired.results] == [r.problem for r in report.results]
    assert wired.hint == report.hint


def test_the_argument_named_is_the_one_that_changed():
    spec = get_spec("bellman.q_learning_update")

    def update(q_values, state, action, reward, next_state, terminated, alpha, gamma):
        target = reward + (0.0 if terminated else gamma * q_values[next_state].max())
        q_values[state, action] += alpha * (target - q_values[state, action])  # += on the input
        return q_values

    report = run_check(spec, update)
    assert not report.passed
    assert "`q_learning_update` changed its argument `q_values` in place" in (
        report.first_failure.problem)
    assert "demos call your function again" in report.hint


def test_in_place_specs_may_change_their_arguments():
    spec = get_spec("dqn.update_target")
    assert spec.in_place and not spec.records_inputs
    assert run_check(spec, spec.reference).passed


def test_what_changes_by_design_is_not_a_change():
    mdp = random_mdp(3, 2, gamma=0.9, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    before = [input_state(mdp), input_state(rng), input_state(np.array([np.nan, 1.0]))]
    mdp.expected_rewards  # fills a cache attribute  # noqa: B018
    rng.random(5)
    after = [input_state(mdp), input_state(rng), input_state(np.array([np.nan, 1.0]))]
    record = {"names": ["mdp", "rng", "values"], "before": before, "after": after}
    assert changed_arguments(record) == []
    assert changed_arguments(wire.decode(json.loads(json.dumps(wire.encode(record))))) == []
    record["after"][2] = np.array([np.nan, 2.0])
    assert changed_arguments(record) == ["values"]
    assert changed_arguments({"names": ["a"], "before": [1]}) == []  # garbled: no verdict


def test_a_multi_function_check_records_nothing():
    assert not get_spec("dqn.learns").records_inputs
    assert call_case(get_spec("dqn.linear_epsilon").cases(grading=False)[0],
                     get_spec("dqn.linear_epsilon").reference, []) is not None
