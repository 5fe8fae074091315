"""The held-out corpus (tests/heldout_bugs.py): every bug is caught, and most hints name it.

The thresholds are the figures measured when the diagnosis (autograder/judge/diagnose.py) and
the banks' new categories landed: 139 of 139 caught, 123 named (88 %); with notebook 05's 21 bugs,
160 of 160 caught, 144 named (90 %); with 39 more bugs of 01-04 (issue 22: wrong axes, int casts,
missing masks, off-by-one loops, broadcast shapes, in-place edits, a division by zero), 199 of 199
caught, 193 named (97 %; 01 41/41, 02 47/49, 03 34/35, 04 50/53) (see
benchmarks/heldout_hints.py, which prints them per notebook). A diagnosis line must be right or
absent: the tests below pin the lines that used to mislead.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from benchmarks.heldout_hints import NOTEBOOKS, grade

#: measured: 199/199 caught, 193/199 named (97 %) with the grader's default seed
MIN_NAMED_SHARE = 0.9
#: and in every notebook (the goal of issue 22)
MIN_NAMED_PER_NOTEBOOK = 0.9


@pytest.mark.slow  # 199 bugs, each judged on every case with the hidden ones: minutes
def test_every_heldout_bug_is_caught_and_most_hints_name_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's broadcasting warning from a buggy loss
        outcomes = grade()
    missed = [f"{o.spec} / {o.label}" for o in outcomes if not o.caught]
    assert not missed, f"not caught: {missed}"
    named = sum(o.named for o in outcomes) / len(outcomes)
    assert named >= MIN_NAMED_SHARE, f"only {named:.0%} of the hints name the bug"
    for topic in NOTEBOOKS:
        group = [o for o in outcomes if o.spec.split(".")[0] == topic]
        share = sum(o.named for o in group) / len(group)
        assert share >= MIN_NAMED_PER_NOTEBOOK, f"{topic}: only {share:.0%} named"


def test_a_missing_return_is_told_it_returned_none():
    from autograder.judge import get_spec, run_check
    from tests.heldout_bugs import reward_to_go_no_return

    report = run_check(get_spec("reinforce.reward_to_go"), reward_to_go_no_return)
    assert "returned None" in report.summary()
    assert "different results" not in report.summary()


def _hint(spec_name: str, fn) -> str:
    from autograder.judge import get_spec, run_check

    report = run_check(get_spec(spec_name), fn)
    assert not report.passed
    return report.summary()


def test_an_argmax_over_the_wrong_axis_is_not_told_to_check_its_loop():
    from tests.heldout_bugs import greedy_policy_argmax_over_states, v_from_q_mean_over_states

    text = _hint("bellman.greedy_policy", greedy_policy_argmax_over_states)
    assert "range of your loop" not in text
    assert "one per index of the MDP's actions" in text and "wrong axis" in text
    assert "range of your loop" not in _hint("mdps.v_from_q", v_from_q_mean_over_states)


def test_a_length_one_off_with_no_other_input_axis_is_a_loop_bound():
    from autograder.judge.diagnose import explain
    from autograder.judge.spec import Case

    case = Case("rewards", (np.array([1.0, 2.0, 3.0]), 0.9))
    assert "range of your loop" in explain(case, np.zeros(2), np.zeros(3))
    assert "loop" not in explain(case, np.zeros(7), np.zeros(3))  # only stated


def test_an_unnormalised_softmax_is_not_called_a_truncation():
    from tests.heldout_bugs import discounted_return_int, grad_log_softmax_not_normalised

    text = _hint("reinforce.grad_log_softmax", grad_log_softmax_not_normalised)
    assert "truncat" not in text and "fractional part" not in text
    assert "Normalise the softmax" in text
    assert "truncat" in _hint("mdps.discounted_return", discounted_return_int)  # still said


def test_a_batch_with_merged_done_flags_is_not_told_its_fields_are_misaligned():
    from autograder.judge import get_spec, run_check
    from tests.heldout_bugs import sample_batch_done_merged

    report = run_check(get_spec("dqn.sample_batch"), sample_batch_done_merged)
    assert not report.passed
    problems = " ".join(r.problem or "" for r in report.results)
    assert "different transitions" not in problems
    assert "terminated" in problems and "truncated" in report.hint


@pytest.mark.parametrize(("spec_name", "bug", "words"), [
    ("dqn.linear_epsilon", "linear_epsilon_divides_by_zero", "decay_steps = 0"),
    ("dqn.dqn_loss", "dqn_loss_column_minus_row", "broadcasts to (B, B)"),
    ("mdps.discounted_return", "discounted_return_int_rewards", "cast to integers"),
    ("bellman.q_from_v", "q_from_v_masks_current_state", "terminal NEXT state"),
])  # fmt: skip
def test_the_bugs_issue_22_lists_get_a_hint_that_names_them(spec_name, bug, words):
    import tests.heldout_bugs as heldout

    assert words in _hint(spec_name, getattr(heldout, bug))
