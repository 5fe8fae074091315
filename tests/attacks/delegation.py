"""Submissions that hand every graded function to rlkit's own implementation of it.

:func:`delegating_notebook` fills each solution cell of a release notebook with a one-line body
that calls rlkit's reference (``return rlkit.dp.q_from_v(mdp, values)``, ...): nothing written,
and before the integrity fix it scored 53 of the 57 autograded points of notebooks 01-04.
:data:`ROUTES` are the other ways a student could reach the reference at run time, each applied
to ``q_from_v`` of an honest notebook 02 (``tests/attacks/bank.py`` grades them with the
attacks); the grader must give each of them 0 on that check and a message naming the reference.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

#: function -> the body that delegates it to rlkit (the release's parameter names).
DELEGATES = {
    # 01 MDPs
    "run_episode": "return rlkit.sampling.run_episode(env, policy, seed)",
    "expected_rewards": "return mdp.expected_rewards",
    "trajectory_probability":
        "return rlkit.sampling.trajectory_probability(mdp, states, actions, policy)",
    "discounted_return": "return rlkit.sampling.discounted_return(rewards, gamma)",
    "v_from_q": "return rlkit.dp.v_from_q(q_values, policy)",
    "evaluate_policy_exact": "return rlkit.dp.policy_evaluation_exact(mdp, policy)",
    "monte_carlo_value":
        "return rlkit.sampling.monte_carlo_value(mdp, policy, state, n_episodes, rng)",
    # 02 Bellman
    "q_from_v": "return rlkit.dp.q_from_v(mdp, values)",
    "value_iteration_step": "return rlkit.dp.bellman_optimality_backup(mdp, values)",
    "greedy_policy": "return rlkit.dp.greedy_policy(mdp, values)",
    "policy_evaluation_step": "return rlkit.dp.bellman_expectation_backup(mdp, values, policy)",
    "policy_iteration": "r = rlkit.dp.policy_iteration(mdp)\n    return r.policy, r.values",
    "q_value_iteration_step": "return rlkit.dp.q_backup(mdp, q_values)",
    "epsilon_greedy": "return rlkit.qlearning.epsilon_greedy(q_row, epsilon, rng)",
    "q_learning_update": "return rlkit.qlearning.q_learning_update(q_values, state, action, "
                         "reward, next_state, terminated, alpha, gamma)",
    # 03 DQN
    "linear_epsilon": "return rlkit.agents.dqn.linear_epsilon(step, start, end, decay_steps)",
    "sample_batch": "return buffer.sample(batch_size, rng)",
    "td_target": "return rlkit.agents.dqn.td_target(rewards, next_q_values, terminated, gamma)",
    "dqn_loss": "return rlkit.agents.dqn.dqn_loss(q_values, actions, targets)",
    "update_target": "return rlkit.agents.dqn.update_target(online, target, tau)",
    # 04 REINFORCE
    "grad_log_softmax": "return rlkit.policy_gradient.grad_log_softmax(theta, action)",
    "score_function_gradient":
        "return rlkit.policy_gradient.score_function_gradient(theta, f, samples)",
    "grad_log_softmax_linear":
        "return rlkit.policy_gradient.grad_log_softmax_linear(theta, features, action)",
    "reinforce_gradient": "return rlkit.policy_gradient.reinforce_gradient(theta, episodes)",
    "reward_to_go": "return rlkit.agents.reinforce.reward_to_go(rewards, gamma)",
    "reward_to_go_gradient":
        "return rlkit.policy_gradient.reward_to_go_gradient(theta, episodes)",
    "baseline_gradient":
        "return rlkit.policy_gradient.baseline_gradient(theta, episodes, baseline)",
    "reinforce_loss": "return rlkit.agents.reinforce.reinforce_loss(log_probs, weights)",
    # 05 actor-critic
    "action_values": "return rlkit.weightings.action_values(mdp, theta, horizon)",
    "action_value_gradient":
        "return rlkit.weightings.action_value_gradient(theta, episodes, q_values)",
    "advantage_gradient":
        "return rlkit.weightings.advantage_gradient(theta, episodes, q_values, values)",
    "td_residual_gradient":
        "return rlkit.weightings.td_residual_gradient(theta, episodes, values)",
    "td_errors":
        "return rlkit.advantages.td_errors(rewards, values, next_values, terminated, gamma)",
    "gae": "return rlkit.advantages.gae(rewards, values, next_values, terminated, truncated, "
           "gamma, lam)",
    "a2c_loss": "return rlkit.agents.a2c.a2c_loss(log_probs, advantages, values, returns, "
                "entropy, value_coef, entropy_coef)",
    "gaussian_log_prob": "return rlkit.nets.gaussian_log_prob(actions, mean, log_std)",
    # 06 PPO
    "advantage_table": "return rlkit.policy_improvement.advantage_table(mdp, theta, horizon)",
    "state_distribution":
        "return rlkit.policy_improvement.state_distribution(mdp, theta, horizon)",
    "performance_difference": "return rlkit.policy_improvement.performance_difference("
                              "mdp, theta, theta_old, horizon)",
    "surrogate": "return rlkit.policy_improvement.surrogate(mdp, theta, theta_old, horizon)",
    "importance_ratio": "return rlkit.agents.ppo.importance_ratio(log_probs, old_log_probs)",
    "ppo_clip_loss": "return rlkit.agents.ppo.ppo_clip_loss(ratio, advantages, clip_eps)",
    "clipped_value_loss": "return rlkit.agents.ppo.clipped_value_loss(values, old_values, "
                          "returns, clip_eps)",
    "ppo_loss": "return rlkit.agents.ppo.ppo_loss(clip_loss, critic_loss, entropy, value_coef, "
                "entropy_coef)",
    "approx_kl": "return rlkit.agents.ppo.approx_kl(log_probs, old_log_probs)",
    "approx_kl_low_variance":
        "return rlkit.agents.ppo.approx_kl_low_variance(log_probs, old_log_probs)",
    "normalize_advantages": "return rlkit.agents.ppo.normalize_advantages(advantages, eps)",
    "minibatch_indices": "return rlkit.agents.ppo.minibatch_indices(n, n_minibatches, rng)",
    # 07 RLHF
    "ranking_pairs": "return rlkit.rlhf.losses.ranking_pairs(ranking)",
    "bradley_terry_loss":
        "return rlkit.rlhf.losses.bradley_terry_loss(chosen_rewards, rejected_rewards)",
    "preference_accuracy":
        "return rlkit.rlhf.losses.preference_accuracy(chosen_rewards, rejected_rewards)",
    "sequence_log_probs": "return rlkit.rlhf.losses.sequence_log_probs(logits, tokens, mask)",
    "kl_penalized_rewards": "return rlkit.rlhf.losses.kl_penalized_rewards(score, log_probs, "
                            "ref_log_probs, mask, beta)",
    "rloo_advantages": "return rlkit.rlhf.losses.rloo_advantages(rewards)",
    "dpo_loss": "return rlkit.rlhf.losses.dpo_loss(policy_chosen_logps, policy_rejected_logps, "
                "ref_chosen_logps, ref_rejected_logps, beta)",
    "rebel_loss": "return rlkit.rlhf.losses.rebel_loss(log_ratio_a, log_ratio_b, reward_a, "
                  "reward_b, eta)",
    # 08 AlphaGo
    "value_targets": "return rlkit.agents.selfplay.value_targets(winner, players)",
    "selfplay_pg_loss": "return rlkit.agents.alphago.selfplay_pg_loss(log_probs, outcomes)",
    "uct_scores": "return rlkit.mcts.uct_scores(q, visit_counts, c)",
    "puct_scores": "return rlkit.mcts.puct_scores(q, visit_counts, prior, c_puct)",
    "select_action": "return rlkit.mcts.select_action(scores, legal_mask)",
    "evaluate_leaf":
        "return rlkit.mcts.evaluate_leaf(network_value, rollout_winner, player, mixing)",
    "backup": "return rlkit.mcts.backup(visit_counts, total_values, path, value)",
    "visit_policy": "return rlkit.mcts.visit_policy(visit_counts, temperature)",
    "mcts_search": "return rlkit.mcts.mcts_search(game, state, evaluator, n_simulations, "
                   "rng=rng, rule=rule, c=c, root_noise=root_noise)",
    "alphazero_loss": "return rlkit.agents.alphazero.alphazero_loss(logits, values, "
                      "target_policies, target_values, legal_mask)",
}

#: the imports every delegating body needs, put in a cell at the top.
IMPORTS = ("import importlib, types\nimport rlkit, rlkit.dp, rlkit.sampling, rlkit.qlearning\n"
           "import rlkit.agents.dqn, rlkit.agents.reinforce, rlkit.policy_gradient\n"
           "import rlkit.weightings, rlkit.advantages, rlkit.agents.a2c, rlkit.nets\n"
           "import rlkit.policy_improvement, rlkit.agents.ppo, rlkit.rlhf.losses\n"
           "import rlkit.mcts, rlkit.agents.selfplay, rlkit.agents.alphago\n"
           "import rlkit.agents.alphazero\n")

#: put every site directory first on the path and import rlkit again: a copy of rlkit
#: installed in site-packages (Gradescope's ``pip install``) would be the unredacted one.
SITE_PACKAGES = ("import site, sys\nsys.path[:0] = site.getsitepackages()\n"
                 "for _m in [m for m in sys.modules if m.split('.')[0] == 'rlkit']:\n"
                 "    del sys.modules[_m]\n" + IMPORTS)

#: route -> (a cell put at the top, the body of ``q_from_v``): other ways to reach
#: ``rlkit.dp.q_from_v`` at run time.
ROUTES = {
    "alias": ("from rlkit.dp import q_from_v as _qv\n", "return _qv(mdp, values)"),
    "getattr": ("", 'return getattr(importlib.import_module("rlkit." + "dp"), "q_" + "from_v")'
                    "(mdp, values)"),
    "reload": ("", "return importlib.reload(rlkit.dp).q_from_v(mdp, values)"),
    "exec_file": ("", "ns = {}\n    exec(compile(open(rlkit.dp.__file__).read(), "
                      "rlkit.dp.__file__, 'exec'), ns)\n    return ns['q_from_v'](mdp, values)"),
    "copied_before": ("_saved = types.FunctionType(rlkit.dp.q_from_v.__code__, "
                      "rlkit.dp.q_from_v.__globals__)\n", "return _saved(mdp, values)"),
    "via_other_module": ("", "return rlkit.dp.bellman_optimality_backup.__globals__"
                             "['q_from_v'](mdp, values)"),
    "site_packages": (SITE_PACKAGES, "return rlkit.dp.q_from_v(mdp, values)"),
}

#: issue 17, one per known route: function -> (notebook, a body that hands the work to *another*
#: rlkit function that returns the same thing). ``tests/test_second_implementations.py`` grades
#: each in its notebook: 0 points, except where ``LEFT_REACHABLE`` documents why it stays.
SECOND_IMPLEMENTATIONS = {
    "trajectory_probability": ("01_mdps", (
        "import numpy as np\n    from rlkit.sampling import Trajectory\n"
        "    with np.errstate(divide='ignore'):\n"
        "        theta = np.log(np.asarray(policy, dtype=float))\n"
        "    t = Trajectory(np.asarray(states), np.asarray(actions), "
        "np.zeros(len(actions)), True)\n"
        "    return float(rlkit.policy_gradient.trajectory_log_probabilities("
        "mdp, theta, [t]).exp()[0])")),
    "discounted_return": ("01_mdps", (
        "import numpy as np\n    if len(rewards) == 0:\n        return 0.0\n"
        "    z = np.zeros(len(rewards))\n"
        "    return float(rlkit.advantages.gae(rewards, z, z, z > 0, z > 0, gamma, 1.0)[0])")),
    "linear_epsilon": ("03_dqn", (
        "import rlkit.schedules\n"
        "    return rlkit.schedules.linear_schedule(start, end, decay_steps)(step)")),
    "reinforce_gradient": ("04_reinforce", (
        "import numpy as np\n    return rlkit.policy_gradient.weighted_scores(theta, episodes, "
        "lambda e: np.full(len(e.actions), float(np.sum(e.rewards))))")),
    "reward_to_go": ("04_reinforce", (
        "import numpy as np\n    z = np.zeros(len(rewards))\n"
        "    return rlkit.advantages.gae(rewards, z, z, z > 0, z > 0, gamma, 1.0)")),
    "action_value_gradient": ("05_actor_critic", (
        "import numpy as np\n    q = np.asarray(q_values)\n"
        "    def w(e):\n        a = np.asarray(e.actions)\n"
        "        return q[np.arange(len(a)), np.asarray(e.states)[:len(a)], a]\n"
        "    return rlkit.policy_gradient.weighted_scores(theta, episodes, w)")),
    "performance_difference": ("06_ppo", (
        "return float(rlkit.policy_gradient.expected_return(mdp, theta, horizon)\n"
        "                 - rlkit.policy_gradient.expected_return(mdp, theta_old, horizon))")),
}

STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"


def _with_imports(nb: dict, top: str) -> dict:
    first_code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    nb["cells"].insert(first_code + 1, {"cell_type": "code", "execution_count": None,
                                        "metadata": {}, "outputs": [],
                                        "source": IMPORTS + top})
    return nb


def _cells_defining(nb: dict, names) -> list[tuple[dict, str]]:
    found = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        match = re.search(r"^def (\w+)\(", source, re.M)
        if cell["cell_type"] == "code" and match and match.group(1) in names:
            found.append((cell, match.group(1)))
    return found


def delegating_notebook(release: Path, top: str = "") -> dict:
    """The release notebook with every graded function handed to rlkit's own.

    ``top``: more code for the imports cell (e.g. :data:`SITE_PACKAGES`).
    """
    nb = json.loads(release.read_text())
    for cell, name in _cells_defining(nb, DELEGATES):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = source.replace(STUB, "    " + DELEGATES[name])
    left = [match.group(1) for cell in nb["cells"] if cell["cell_type"] == "code"
            and STUB in (src := "".join(cell["source"]))
            and (match := re.search(r"^def (\w+)\(", src, re.M))]
    if left:
        raise KeyError(f"{release.name}: no delegating body for {left}: add them to DELEGATES")
    return _with_imports(nb, top)


def route_notebook(honest: dict, route: str) -> dict:
    """An honest notebook 02 (JSON) whose ``q_from_v`` (only) reaches rlkit's by ``route``."""
    top, body = ROUTES[route]
    nb = copy.deepcopy(honest)
    for cell, _ in _cells_defining(nb, {"q_from_v"}):
        cell["source"] = f"def q_from_v(mdp, values):\n    {body}\n"
    return _with_imports(nb, top)


def second_implementation_notebook(release: Path, function: str) -> dict:
    """The release notebook with only ``function`` written, by its second implementation."""
    nb = json.loads(release.read_text())
    _, body = SECOND_IMPLEMENTATIONS[function]
    for cell, _ in _cells_defining(nb, {function}):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if STUB not in source:
            raise KeyError(f"{release.name}: no stub in {function}")
        cell["source"] = source.replace(STUB, "    " + body)
    return _with_imports(nb, "")
