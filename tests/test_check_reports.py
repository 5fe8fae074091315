"""What a failing check tells the student, notebooks 05-07 (issue 22, items 4 and 5).

A check that passes must not be followed by a cell that rejects the function: where the
notebook promises a type its trainer needs, the check fails another type with what to return.
A report names what differs: the gradient of a loss that reaches a constant (and the
``.detach()``), the line of the student's own code a function raised on (read from the
traceback in the box, sent back as plain text), a missing ``return`` whatever the procedure
tripped on.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from autograder.box.calls import decode_outcome, encode_call
from autograder.box.runner import Runner
from autograder.judge import get_spec, load_all
from autograder.judge.core import Judge, run_check
from rlkit import advantages, qlearning
from rlkit.agents import ppo
from rlkit.nets import gaussian_log_prob
from rlkit.rlhf import losses

load_all()


# --- item 4: the type the notebook promises


def rloo_as_list(rewards):
    return losses.rloo_advantages(rewards).tolist()


def td_errors_as_list(rewards, values, next_values, terminated, gamma):
    return advantages.td_errors(rewards, values, next_values, terminated, gamma).tolist()


def gaussian_tensor_for_numpy(actions, mean, log_std):
    return gaussian_log_prob(*(torch.as_tensor(x) for x in (actions, mean, log_std)))


def normalize_as_numpy(advantages, eps=1e-8):
    return ppo.normalize_advantages(advantages, eps).numpy()


@pytest.mark.parametrize(("name", "fn", "promise"), [
    ("rlhf.rloo_advantages", rloo_as_list, "a torch tensor"),
    ("ppo.normalize_advantages", normalize_as_numpy, "a torch tensor"),
    ("actor_critic.td_errors", td_errors_as_list, "a float numpy array"),
    ("actor_critic.gaussian_log_prob", gaussian_tensor_for_numpy, "a float numpy array"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_the_right_values_in_another_type_fail_with_what_to_return(name, fn, promise):
    report = run_check(get_spec(name), fn)
    assert not report.passed and report.bug is None
    assert report.first_failure.problem.startswith(f"return {promise}; got ")
    assert f"eturn {promise} as the notebook says" in report.hint, report.summary()


def test_a_trainer_rejects_what_the_check_rejects():
    config = ppo.PPOConfig(env_id="CartPole-v1", total_steps=64, n_envs=2, n_steps=16,
                           n_epochs=1, eval_interval=10_000, torch_threads=1)
    with pytest.raises(ValueError, match="normalize_fn must return a tensor of shape"):
        ppo.train(config, seed=0, normalize_fn=normalize_as_numpy)


def q_learning_update_as_list(q_values, state, action, reward, next_state, terminated, alpha,
                              gamma):
    return qlearning.q_learning_update(q_values, state, action, reward, next_state, terminated,
                                       alpha, gamma).tolist()


def test_a_trainer_accepts_what_the_check_accepts():
    """02's Q-learning cell plots `learned.q_values.argmax(axis=1)`: a list of rows, which its
    check accepts, must come out of the trainer as the table it stands for."""  # noqa: D209
    assert run_check(get_spec("bellman.q_learning_update"), q_learning_update_as_list).passed
    learned = qlearning.q_learning(gym.make("FrozenLake-v1"),
                                   qlearning.QLearningConfig(n_episodes=5), seed=0,
                                   update_fn=q_learning_update_as_list)
    assert isinstance(learned.q_values, np.ndarray) and learned.q_values.shape == (16, 4)


# --- item 5: reports that name what differs


def a2c_loss_without_detach(log_probs, advantages, values, returns, entropy, value_coef,
                            entropy_coef):
    actor = -(log_probs * advantages).mean()
    critic = ((returns - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def test_a_loss_without_detach_names_the_constants_and_shows_only_their_gradient():
    summary = run_check(get_spec("actor_critic.a2c_loss"), a2c_loss_without_detach).summary()
    assert "`advantages` and `returns`" in summary and ".detach()" in summary
    expected, got = (line for line in summary.splitlines()
                     if line.lstrip().startswith(("expected:", "got:")))
    for line in (expected, got):  # the one field that differs, not two cut dicts
        assert "d loss / d advantages" in line and "..." not in line and "'loss'" not in line


@pytest.mark.parametrize(("name", "fn"), [
    ("ppo.ppo_clip_loss", lambda ratio, advantages, clip_eps: -torch.min(
        ratio * advantages, ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantages).mean()),
    ("ppo.clipped_value_loss", lambda values, old_values, returns, clip_eps: torch.max(
        (values - returns.detach()) ** 2, (old_values + (values - old_values).clamp(
            -(clip_eps or 0), clip_eps or 0) - returns.detach()) ** 2).mean()
        if clip_eps else ((values - returns.detach()) ** 2).mean()),
])
def test_constants_that_require_grad_catch_a_missing_detach(name, fn):
    report = run_check(get_spec(name), fn, grading=True)
    assert not report.passed and "detach" in report.hint, report.summary()


def test_a_function_that_raises_shows_its_own_line_from_the_box():
    runner = Runner()
    source = ("def td_errors(rewards, values, next_values, terminated, gamma):\n"
              "    bootstrap = gamma * next_value\n"
              "    return rewards + bootstrap - values\n")
    assert runner.cell({"source": source})["status"] == "ok"
    judge = Judge.for_spec(get_spec("actor_critic.td_errors"), grading=False)
    reply = runner.calls({"functions": ["td_errors"],
                          "calls": [encode_call(case.box_call()) for case in judge.cases]})
    problem = judge([decode_outcome(o) for o in reply["outputs"]]).first_failure.problem
    assert problem == ("your function raised NameError: name 'next_value' is not defined (in "
                       "`td_errors`, line 2 of the cell: bootstrap = gamma * next_value)")


def test_a_line_that_says_more_than_one_line_is_cleaned():
    outcome = decode_outcome({"raised": "ValueError: x", "at": "line 1: a\x1b[2J\nb" + "c" * 900})
    assert outcome.where.isprintable() and len(outcome.where) <= 300


def ranking_pairs_without_return(ranking):
    pairs = []
    for i, a in enumerate(ranking):
        for b in list(ranking)[i + 1:]:
            pairs.append((int(a), int(b)))


def sequence_log_probs_without_return(logits, tokens, mask):
    torch.log_softmax(logits, dim=-1)


@pytest.mark.parametrize(("name", "fn"), [
    ("rlhf.ranking_pairs", ranking_pairs_without_return),  # the procedure trips on None
    ("rlhf.sequence_log_probs", sequence_log_probs_without_return),  # "not a tensor: None"
])
def test_a_missing_return_is_told_so_whatever_the_procedure_did_with_it(name, fn):
    report = run_check(get_spec(name), fn)
    assert "no `return` statement" in report.hint, report.summary()
    assert "different results" not in report.summary()


def test_the_same_rejected_output_twice_is_not_called_random():
    def per_sample(log_probs, old_log_probs):
        return old_log_probs - log_probs

    report = run_check(get_spec("ppo.approx_kl"), per_sample)
    assert not report.passed and "different results" not in report.summary()


def test_a_type_check_does_not_cost_a_correct_list_where_lists_are_allowed():
    def gae_as_list(*args):
        return advantages.gae(*args).tolist()

    assert run_check(get_spec("actor_critic.gae"), gae_as_list, grading=True).passed
    np.testing.assert_equal(np.ones(1), np.ones(1))
