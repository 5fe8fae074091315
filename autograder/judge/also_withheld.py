"""rlkit's second implementations of graded functions, withheld with the references (issue 17).

A check withholds its reference (:func:`autograder.judge.withhold.withheld_names`); a student
could still hand the work to *another* rlkit function that returns the same thing
(``weighted_scores`` with the estimator's weights, ``gae`` with ``lam=1`` for the
reward-to-go). :data:`ALSO_WITHHELD` names them per check, found by the sweep in
``benchmarks/sweep_second_implementations.py`` (``tests/test_second_implementations.py`` fails
on a new one), plus the rlkit functions a reference is built on that do the graded work.
:func:`~autograder.judge.withhold.withheld_names` adds them to the check's own; a check's
``uses`` is never withheld.

:data:`LEFT_REACHABLE` lists what the sweep finds and is deliberately *not* withheld, with why
(a trainer or demo of the same notebook runs it in the grading box, or a spec builds its
cases with it there): the sweep's test accepts exactly these.
"""

from __future__ import annotations

#: check -> rlkit functions withheld with its reference, each with why.
ALSO_WITHHELD: dict[str, tuple[str, ...]] = {
    # 01: no trainer and no policy-gradient demo runs in notebook 01's box
    "mdps.discounted_return": (
        "rlkit.advantages.gae",  # gae(rewards, 0, 0, no ends, gamma, lam=1)[0] is G_0
    ),
    "mdps.trajectory_probability": (
        # exp of ln rho(tau) with theta = log(policy) (trajectory_probabilities calls it)
        "rlkit.enumeration.trajectory_log_probabilities",
    ),
    # 03: the reference is built on it; linear_schedule(start, end, decay)(step) is the answer.
    # dqn.train schedules its learning rate with LinearSchedule directly, so the learning
    # check keeps working (see LEFT_REACHABLE for LinearSchedule itself)
    "dqn.linear_epsilon": (
        "rlkit.schedules.linear_schedule",
    ),
    # 04: reinforce.train and the notebook's demos (exact_moments, expected_return,
    # exact_gradient) never call these
    "reinforce.reinforce_gradient": (
        # the three references are built on it: weights R(tau) at every step
        "rlkit.policy_gradient.weighted_scores",
    ),
    "reinforce.reward_to_go_gradient": (
        "rlkit.policy_gradient.weighted_scores",  # weights: the reward-to-go
    ),
    "reinforce.baseline_gradient": (
        "rlkit.policy_gradient.weighted_scores",  # weights: the reward-to-go minus b(s_h)
    ),
    "reinforce.reward_to_go": (
        "rlkit.advantages.gae",  # computes reward-to-go with values 0 and lam=1
    ),
    # 05: weighted_scores(theta, episodes, weights) with Q, A or the TD residual as weights is
    # each answer. The six-weightings table, which runs notebook 04's rlkit estimators (built
    # on it), is a measurement skipped while grading; no trainer of 05 calls it
    **{name: ("rlkit.policy_gradient.weighted_scores",)
       for name in ("actor_critic.action_value_gradient", "actor_critic.advantage_gradient",
                    "actor_critic.td_residual_gradient")},
    # 06: J(theta) - J(theta_old) by expected_return is the answer; the notebook's demos of the
    # identity with rlkit's J (and exact_gradient, built on it) are skipped while grading
    "ppo.performance_difference": (
        "rlkit.enumeration.expected_return",
    ),
    # 08: -mean(log_probs * weights) is the answer with the outcomes as weights; AlphaGo's
    # trainer takes the student's loss and never calls it
    "alphago.selfplay_pg_loss": (
        "rlkit.agents.reinforce.reinforce_loss",
    ),
}

#: check -> {rlkit function the sweep finds that stays reachable: why}.
LEFT_REACHABLE: dict[str, dict[str, str]] = {
    "dqn.linear_epsilon": {
        "rlkit.schedules.LinearSchedule":
            "LinearSchedule(start, end, decay)(step) is the answer (1 point), but dqn.train, "
            "which notebook 03's learning check runs in the box, decays its learning rate "
            "with it; a copy of the formula in the trainer would be the same logic twice, and "
            "any other rate arithmetic changes the seeded runs the 54 correct DQN variants "
            "are measured on",
    },
}
