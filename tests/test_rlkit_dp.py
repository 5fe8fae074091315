"""Dynamic programming: the lecture's worked GridWorld values, agreement between methods,
Bellman-operator properties (hypothesis) and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rlkit import dp
from rlkit.envs.gridworld import ACTIONS, GridWorld
from rlkit.mdp import TabularMDP, random_mdp

N, E, S, W = (ACTIONS.index(a) for a in "NESW")


def reference_gridworld_values(noise: float, gamma: float, sweeps: int = 2000) -> dict:
    """Independent value iteration on the 4x3 world, written from the rules on the slides with
    plain dicts and loops (no rlkit code), to check rlkit's vectorised model against."""
    walls, exits = {(2, 2)}, {(4, 3): 1.0, (4, 2): -1.0}
    cells = [(x, y) for x in range(1, 5) for y in range(1, 4) if (x, y) not in walls]
    moves = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}
    sideways = {"N": "EW", "S": "EW", "E": "NS", "W": "NS"}

    def land(cell, direction):
        x, y = cell[0] + moves[direction][0], cell[1] + moves[direction][1]
        return (x, y) if (x, y) in cells else cell  # walls and the border: stay put

    values = dict.fromkeys(cells, 0.0)
    for _ in range(sweeps):
        new = {}
        for cell in cells:
            if cell in exits:  # exiting collects the reward and ends the episode
                new[cell] = exits[cell]
                continue
            new[cell] = max(
                (1 - noise) * gamma * values[land(cell, a)]
                + sum(noise / 2 * gamma * values[land(cell, b)] for b in sideways[a])
                for a in "NESW"
            )
        values = new
    return values


@pytest.fixture(scope="module")
def lecture_world() -> GridWorld:
    return GridWorld(noise=0.2, gamma=0.9)


@pytest.fixture(scope="module")
def lecture_solution(lecture_world) -> dp.ValueIterationResult:
    return dp.value_iteration(lecture_world.mdp)


# ---------------------------------------------------------------------------------------------
# The lecture's worked examples
# ---------------------------------------------------------------------------------------------


def test_slide_deterministic_gamma_1_horizon_100():
    # Slide: "actions deterministically successful, gamma = 1, H = 100".
    world = GridWorld(noise=0.0, gamma=1.0)
    result = dp.value_iteration(world.mdp, horizon=100)
    v = {cell: result.values[world.state_index(cell)] for cell in world.coords[:-1]}
    assert v[(4, 3)] == 1.0
    assert v[(3, 3)] == 1.0
    assert v[(2, 3)] == 1.0
    assert v[(1, 1)] == 1.0
    assert v[(4, 2)] == -1.0
    assert result.n_iterations == 100
    assert result.history.shape == (101, world.n_states)
    assert result.residuals.shape == (100,)


def test_horizon_means_steps_left():
    # (1,1) is 5 moves from (4,3), plus the exit action: it needs 6 steps left to collect +1.
    world = GridWorld(noise=0.0, gamma=1.0)
    history = dp.value_iteration(world.mdp, horizon=7).history
    start, corner = world.state_index((1, 1)), world.state_index((3, 3))
    np.testing.assert_array_equal(history[0], 0.0)  # V_0 = 0
    assert history[5, start] == 0.0
    assert history[6, start] == 1.0
    assert history[1, corner] == 0.0 and history[2, corner] == 1.0  # E, then exit


def test_cs188_values_noise_02_gamma_09(lecture_world, lecture_solution):
    reference = reference_gridworld_values(noise=0.2, gamma=0.9)
    for cell, value in reference.items():
        assert lecture_solution.values[lecture_world.state_index(cell)] == pytest.approx(
            value, abs=1e-8
        )
    # The classic CS188 picture (values rounded to 2 decimals).
    expected = {
        (1, 3): 0.64, (2, 3): 0.74, (3, 3): 0.85, (4, 3): 1.00,
        (1, 2): 0.57, (3, 2): 0.57, (4, 2): -1.00,
        (1, 1): 0.49, (2, 1): 0.43, (3, 1): 0.48, (4, 1): 0.28,
    }  # fmt: skip
    for cell, value in expected.items():
        assert round(lecture_solution.values[lecture_world.state_index(cell)], 2) == value
    assert lecture_solution.converged


def test_slide_equation_for_v33_holds_at_the_fixed_point(lecture_world, lecture_solution):
    v = lambda cell: lecture_solution.values[lecture_world.state_index(cell)]  # noqa: E731
    # V*(3,3) = 0.8*0.9*V*(4,3) + 0.1*0.9*V*(3,3) + 0.1*0.9*V*(3,2): moving E, the North slip
    # bumps the border and stays at (3,3); the South slip lands on (3,2).
    rhs = 0.8 * 0.9 * v((4, 3)) + 0.1 * 0.9 * v((3, 3)) + 0.1 * 0.9 * v((3, 2))
    assert v((3, 3)) == pytest.approx(rhs, abs=1e-9)
    # Solving that equation by hand with V*(4,3) = 1: V*(3,3) = (0.72 + 0.09 V*(3,2)) / 0.91.
    assert v((3, 3)) == pytest.approx((0.72 + 0.09 * v((3, 2))) / 0.91, abs=1e-9)
    assert lecture_solution.policy[lecture_world.state_index((3, 3))] == E


def test_cs188_optimal_policy(lecture_world, lecture_solution):
    policy = {
        c: ACTIONS[lecture_solution.policy[lecture_world.state_index(c)]]
        for c in [(1, 3), (2, 3), (3, 3), (1, 2), (3, 2), (1, 1), (2, 1), (3, 1), (4, 1)]
    }
    assert policy == {
        (1, 3): "E", (2, 3): "E", (3, 3): "E",
        (1, 2): "N", (3, 2): "N",
        (1, 1): "N", (2, 1): "W", (3, 1): "N", (4, 1): "W",
    }  # fmt: skip


def test_exit_and_terminal_values(lecture_world, lecture_solution):
    assert lecture_solution.values[-1] == 0.0
    np.testing.assert_array_equal(lecture_solution.q_values[-1], 0.0)
    np.testing.assert_allclose(lecture_solution.q_values[lecture_world.state_index((4, 3))], 1.0)


def test_living_reward_changes_policy():
    # A strongly negative living reward makes the agent jump into the -1 exit from (3,2).
    world = GridWorld(living_reward=-2.0)
    result = dp.value_iteration(world.mdp)
    assert result.policy[world.state_index((3, 2))] == E


# ---------------------------------------------------------------------------------------------
# Methods agree
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_terminal", [0, 2])
@pytest.mark.parametrize("seed", range(4))
def test_all_methods_agree_on_random_mdps(seed, n_terminal):
    mdp = random_mdp(8, 3, gamma=0.9, rng=seed, n_terminal=n_terminal, sparsity=0.3)
    vi = dp.value_iteration(mdp, tol=1e-12)
    qvi = dp.q_value_iteration(mdp, tol=1e-12)
    pi = dp.policy_iteration(mdp)
    pi_iterative = dp.policy_iteration(mdp, evaluate=dp.policy_evaluation_iterative)
    exact = dp.policy_evaluation_exact(mdp, pi.policy)
    for values in (qvi.values, pi.values, pi_iterative.values, exact):
        np.testing.assert_allclose(values, vi.values, atol=1e-8)
    np.testing.assert_array_equal(vi.policy, pi.policy)
    np.testing.assert_array_equal(qvi.policy, pi.policy)
    np.testing.assert_allclose(qvi.q_values, vi.q_values, atol=1e-8)
    assert vi.converged and qvi.converged and pi.converged
    # Policy iteration is exact after finitely many improvements; the last one repeats.
    np.testing.assert_array_equal(pi.policies[-1], pi.policy)
    assert pi.policies.shape == (pi.n_iterations + 1, mdp.n_states)
    if n_terminal:
        assert (vi.values[mdp.terminal] == 0).all()


def test_iterative_and_exact_policy_evaluation_agree():
    mdp = random_mdp(7, 3, gamma=0.95, rng=11, n_terminal=1)
    stochastic = np.random.default_rng(0).dirichlet(np.ones(3), size=7)
    result = dp.policy_evaluation_iterative(mdp, stochastic, tol=1e-12)
    assert result.converged
    assert result.residuals.shape == (result.n_iterations,)
    np.testing.assert_allclose(
        result.values, dp.policy_evaluation_exact(mdp, stochastic), atol=1e-9
    )


def test_q_value_iteration_history_shape():
    mdp = random_mdp(4, 2, gamma=0.5, rng=0)
    result = dp.q_value_iteration(mdp, horizon=3)
    assert result.history.shape == (4, 4, 2)
    np.testing.assert_array_equal(result.history[0], 0.0)
    assert result.n_iterations == 3


def test_policy_iteration_with_gamma_1_needs_a_proper_policy():
    world = GridWorld(noise=0.0, gamma=1.0)
    # Action 0 (N) everywhere bumps the top border forever: no finite linear solution.
    with pytest.raises(ValueError, match="never reaches a terminal state"):
        dp.policy_iteration(world.mdp)
    # From a proper policy it works, and ties never switch to a looping action.
    proper = dp.value_iteration(GridWorld(noise=0.0, gamma=0.9).mdp).policy
    result = dp.policy_iteration(world.mdp, init_policy=proper)
    np.testing.assert_allclose(result.values, dp.value_iteration(world.mdp, horizon=100).values)
    dp.policy_evaluation_exact(world.mdp, result.policy)  # still proper


def test_greedy_policy_breaks_ties_to_lowest_action():
    P = np.ones((1, 3, 1))
    R = np.array([[[0.0], [1.0], [1.0]]])
    mdp = TabularMDP(P=P, R=R, gamma=0.0, mu=[1.0], terminal=[False])
    assert dp.greedy_policy(mdp, np.zeros(1)).tolist() == [1]


def test_q_from_v_ignores_values_stored_at_terminal_states():
    mdp = random_mdp(5, 2, gamma=0.9, rng=3, n_terminal=2)
    values = np.random.default_rng(0).normal(size=5)
    garbage = values.copy()
    garbage[mdp.terminal] = 1e6
    np.testing.assert_allclose(dp.q_from_v(mdp, values), dp.q_from_v(mdp, garbage))
    np.testing.assert_array_equal(dp.q_from_v(mdp, values)[mdp.terminal], 0.0)


# ---------------------------------------------------------------------------------------------
# Bellman operators: contraction and fixed points (hypothesis)
# ---------------------------------------------------------------------------------------------


@st.composite
def mdp_and_two_value_vectors(draw):
    n_states = draw(st.integers(1, 6))
    n_actions = draw(st.integers(1, 3))
    gamma = draw(st.floats(0.0, 0.99))
    n_terminal = draw(st.integers(0, n_states - 1))
    mdp = random_mdp(
        n_states, n_actions, gamma=gamma, rng=draw(st.integers(0, 2**32 - 1)),
        n_terminal=n_terminal, sparsity=draw(st.floats(0.0, 0.9)),
    )  # fmt: skip
    values = arrays(np.float64, n_states, elements=st.floats(-100, 100))
    return mdp, draw(values), draw(values)


@settings(max_examples=60, deadline=None)
@given(mdp_and_two_value_vectors())
def test_bellman_optimality_operator_is_a_gamma_contraction(case):
    mdp, v, u = case
    gap = np.max(
        np.abs(dp.bellman_optimality_backup(mdp, v) - dp.bellman_optimality_backup(mdp, u))
    )
    assert gap <= mdp.gamma * np.max(np.abs(v - u)) + 1e-9


@settings(max_examples=60, deadline=None)
@given(mdp_and_two_value_vectors(), st.integers(0, 2**32 - 1))
def test_bellman_expectation_operator_is_a_gamma_contraction(case, policy_seed):
    mdp, v, u = case
    policy = np.random.default_rng(policy_seed).dirichlet(np.ones(mdp.n_actions), mdp.n_states)
    tv = dp.bellman_expectation_backup(mdp, v, policy)
    tu = dp.bellman_expectation_backup(mdp, u, policy)
    assert np.max(np.abs(tv - tu)) <= mdp.gamma * np.max(np.abs(v - u)) + 1e-9


@settings(max_examples=40, deadline=None)
@given(mdp_and_two_value_vectors(), st.integers(0, 2**32 - 1))
def test_value_functions_are_fixed_points(case, policy_seed):
    mdp, _, _ = case
    v_star = dp.value_iteration(mdp, tol=1e-12).values
    np.testing.assert_allclose(dp.bellman_optimality_backup(mdp, v_star), v_star, atol=1e-9)
    policy = np.random.default_rng(policy_seed).dirichlet(np.ones(mdp.n_actions), mdp.n_states)
    v_pi = dp.policy_evaluation_exact(mdp, policy)
    np.testing.assert_allclose(dp.bellman_expectation_backup(mdp, v_pi, policy), v_pi, atol=1e-9)
    assert (v_pi <= v_star + 1e-9).all()  # no policy beats V*


# ---------------------------------------------------------------------------------------------
# Argument checks (messages say what to fix)
# ---------------------------------------------------------------------------------------------


def test_student_backup_with_wrong_shape_is_reported():
    mdp = random_mdp(4, 2, gamma=0.9, rng=0)

    def forgot_the_max(mdp, values):
        return dp.q_from_v(mdp, values)  # (S, A) instead of (S,)

    with pytest.raises(
        ValueError,
        match=r"backup returned an array of shape \(4, 2\); "
        r"expected \(4,\)",
    ):
        dp.value_iteration(mdp, backup=forgot_the_max)


def test_custom_backup_is_used():
    mdp = random_mdp(4, 2, gamma=0.9, rng=0)
    calls = []

    def counting_backup(mdp, values):
        calls.append(1)
        return dp.bellman_optimality_backup(mdp, values)

    result = dp.value_iteration(mdp, backup=counting_backup, horizon=5)
    assert len(calls) == 5 and result.n_iterations == 5


def test_max_iterations_reports_not_converged():
    mdp = random_mdp(4, 2, gamma=0.99, rng=0)
    result = dp.value_iteration(mdp, max_iterations=3)
    assert not result.converged and result.n_iterations == 3


def test_init_values_are_used():
    mdp = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
    assert dp.value_iteration(mdp, init=[2.0], horizon=1).values[0] == 2.0  # already V*
    with pytest.raises(ValueError, match=r"init must have shape \(S,\) = \(1,\)"):
        dp.value_iteration(mdp, init=[0.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tol": 0.0}, "tol must be > 0"),
        ({"max_iterations": 0}, "max_iterations must be"),
        ({"horizon": -1}, "horizon must be"),
        ({"horizon": 2.5}, "horizon must be"),
    ],
)
def test_value_iteration_argument_checks(kwargs, message):
    mdp = random_mdp(2, 2, gamma=0.9, rng=0)
    with pytest.raises(ValueError, match=message):
        dp.value_iteration(mdp, **kwargs)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (np.array([0, 2]), r"policy\[1\] = 2 is not an action in 0..1"),
        (np.array([0.5, 1.0]), "integer actions"),
        (np.array([[0.5, 0.4], [1.0, 0.0]]), "policy row 0 sums to 0.9"),
        (np.array([[1.5, -0.5], [1.0, 0.0]]), "policy row 0 has a negative"),
        (np.ones((2, 3)) / 3, r"shape \(S, A\) with A = 2"),
        (np.zeros((2, 2, 2)), "int array"),
    ],
)
def test_policy_matrix_validation(policy, message):
    with pytest.raises(ValueError, match=message):
        dp.policy_matrix(policy, n_actions=2)


def test_policy_matrix_accepts_integer_floats_and_checks_state_count():
    np.testing.assert_array_equal(dp.policy_matrix(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])
    mdp = random_mdp(3, 2, gamma=0.9, rng=0)
    with pytest.raises(ValueError, match="policy covers 2 states; the MDP has 3"):
        dp.policy_evaluation_exact(mdp, [0, 1])


def test_v_from_q_closes_the_bellman_loop():
    mdp = random_mdp(6, 3, gamma=0.9, rng=4, n_terminal=1)
    policy = np.random.default_rng(2).dirichlet(np.ones(3), size=6)
    v_pi = dp.policy_evaluation_exact(mdp, policy)
    q_pi = dp.q_from_v(mdp, v_pi)
    np.testing.assert_allclose(dp.v_from_q(q_pi, policy), v_pi, atol=1e-10)
    deterministic = np.array([0, 2, 1, 0, 1, 2])
    np.testing.assert_array_equal(
        dp.v_from_q(q_pi, deterministic), q_pi[np.arange(6), deterministic]
    )
    with pytest.raises(ValueError, match=r"q_values must have shape \(S, A\)"):
        dp.v_from_q(np.zeros(3), deterministic)
    with pytest.raises(ValueError, match="policy has shape"):
        dp.v_from_q(q_pi, deterministic[:4])
