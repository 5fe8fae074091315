r"""Dynamic programming on a known tabular MDP: Bellman backups, value and policy iteration.

Every function is vectorised over states and actions (no Python loop over states). Policies
are either deterministic, an int array ``(S,)`` of actions, or stochastic, a matrix ``(S, A)``
with :math:`\pi(a|s)` in row ``s``; :func:`policy_matrix` turns either into the matrix.

Terminal states (``mdp.terminal``) collect nothing and are never bootstrapped from, so
``Q[s] = 0`` and ``V[s] = 0`` there.

The iteration loops follow the lecture's *horizon* indexing: ``V_0 = 0`` and ``V_k`` is the
optimal value with ``k`` steps left,

.. math:: V_k^*(s) = \max_a \sum_{s'} P(s'|s,a) \left(R(s,a,s') + \gamma V_{k-1}^*(s')\right).

The sweep loop those algorithms share and the records they return (``ValueIterationResult``,
``QValueIterationResult``, ``PolicyEvaluationResult``, ``PolicyIterationResult``) live in
:mod:`rlkit.sweeps` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from rlkit.mdp import PROBABILITY_ATOL, FloatArray, IntArray, TabularMDP, reachable_states
from rlkit.sweeps import (
    PolicyEvaluationResult,
    PolicyIterationResult,
    QValueIterationResult,
    ValueIterationResult,
    _check_iteration_args,
    _checked,
    _iterate,
)

__all__ = [
    "Backup",
    "PolicyEvaluationResult",
    "PolicyIterationResult",
    "QValueIterationResult",
    "ValueIterationResult",
    "bellman_expectation_backup",
    "bellman_optimality_backup",
    "greedy_policy",
    "policy_evaluation_exact",
    "policy_evaluation_iterative",
    "policy_iteration",
    "policy_matrix",
    "q_backup",
    "q_from_v",
    "q_value_iteration",
    "v_from_q",
    "value_iteration",
]

#: A value backup ``(mdp, V) -> V`` (or ``(mdp, Q) -> Q`` for Q-value iteration).
Backup = Callable[[TabularMDP, FloatArray], FloatArray]


# --------------------------------------------------------------------------------------------
# Policies and one-step look-ahead
# --------------------------------------------------------------------------------------------


def policy_matrix(policy: npt.ArrayLike, n_actions: int) -> FloatArray:
    r"""Return the ``(S, A)`` matrix :math:`\pi(a|s)` of a deterministic or stochastic policy.

    Args:
        policy: Either an integer array ``(S,)`` with the action taken in each state, or a
            matrix ``(S, A)`` whose rows are distributions over actions.
        n_actions: Number of actions ``A``.

    Returns:
        A float64 array of shape ``(S, A)`` whose rows sum to 1.

    Raises:
        ValueError: If actions are out of range or not integers, or rows are not
            distributions.

    Example:
        >>> policy_matrix(np.array([1, 0]), n_actions=2)
        array([[0., 1.],
               [1., 0.]])

    """
    array = np.asarray(policy)
    if array.ndim == 1:
        if array.dtype.kind not in "iub":
            if array.dtype.kind != "f" or not np.all(np.mod(array, 1) == 0):
                raise ValueError(
                    f"a deterministic policy must hold integer actions; got dtype {array.dtype}"
                )
        actions = array.astype(np.int64)
        out_of_range = np.flatnonzero((actions < 0) | (actions >= n_actions))
        if out_of_range.size:
            s = int(out_of_range[0])
            raise ValueError(f"policy[{s}] = {actions[s]} is not an action in 0..{n_actions - 1}")
        matrix = np.zeros((actions.size, n_actions))
        matrix[np.arange(actions.size), actions] = 1.0
        return matrix
    if array.ndim == 2:
        if array.shape[1] != n_actions:
            raise ValueError(
                f"a stochastic policy must have shape (S, A) with A = {n_actions}; "
                f"got {array.shape}"
            )
        matrix = array.astype(np.float64)
        if (matrix < 0).any() or not np.isfinite(matrix).all():
            s = int(np.argwhere(~(matrix >= 0))[0, 0])
            raise ValueError(f"policy row {s} has a negative or non-finite probability")
        bad = np.flatnonzero(np.abs(matrix.sum(axis=1) - 1.0) > PROBABILITY_ATOL)
        if bad.size:
            s = int(bad[0])
            raise ValueError(f"policy row {s} sums to {matrix[s].sum():.10g}, not 1")
        return matrix
    raise ValueError(
        f"policy must be an int array (S,) or a matrix (S, A); got shape {array.shape}"
    )


def _policy_for(mdp: TabularMDP, policy: npt.ArrayLike) -> FloatArray:
    matrix = policy_matrix(policy, mdp.n_actions)
    if matrix.shape[0] != mdp.n_states:
        raise ValueError(f"policy covers {matrix.shape[0]} states; the MDP has {mdp.n_states}")
    return matrix


def _check_values(mdp: TabularMDP, values: npt.ArrayLike, name: str = "values") -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (mdp.n_states,):
        raise ValueError(f"{name} must have shape (S,) = ({mdp.n_states},); got {array.shape}")
    return array


def q_from_v(mdp: TabularMDP, values: npt.ArrayLike) -> FloatArray:
    r"""One-step look-ahead: Q-values of acting once and then following ``values``.

    .. math::
        Q(s,a) = \sum_{s'} P(s'|s,a)\left[R(s,a,s') + \gamma (1 - \text{terminal}(s')) V(s')\right]

    and ``Q[s] = 0`` for terminal ``s`` (no reward is collected from a terminal state).

    Args:
        mdp: The MDP.
        values: ``V``, shape ``(S,)``; entries at terminal states are ignored.

    Returns:
        ``Q``, shape ``(S, A)``.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.9, mu=[1.0], terminal=[False])
        >>> q_from_v(loop, np.array([10.0]))  # 1 + 0.9 * 10
        array([[10.]])

    """
    v = _check_values(mdp, values)
    # Trap: never bootstrap from a terminal next state, whatever V holds there.
    bootstrap = np.where(mdp.terminal, 0.0, v)
    # One (S*A, S) @ (S,) product: a single BLAS call, much faster than a stacked 3-D matmul.
    next_values = (mdp.P.reshape(-1, mdp.n_states) @ bootstrap).reshape(mdp.P.shape[:2])
    q = mdp.expected_rewards + mdp.gamma * next_values
    q[mdp.terminal] = 0.0
    return q


def v_from_q(q_values: npt.ArrayLike, policy: npt.ArrayLike) -> FloatArray:
    r"""State values from action values: :math:`V^\pi(s) = \sum_a \pi(a|s) Q^\pi(s,a)`.

    Args:
        q_values: ``Q``, shape ``(S, A)``.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.

    Returns:
        ``V``, shape ``(S,)``.

    Example:
        >>> v_from_q(np.array([[1.0, 3.0]]), np.array([[0.5, 0.5]]))
        array([2.])

    """
    q = np.asarray(q_values, dtype=np.float64)
    if q.ndim != 2:
        raise ValueError(f"q_values must have shape (S, A); got {q.shape}")
    pi = policy_matrix(policy, q.shape[1])
    if pi.shape != q.shape:
        raise ValueError(f"policy has shape {pi.shape}; q_values has {q.shape}")
    return np.einsum("sa,sa->s", pi, q)


def bellman_optimality_backup(mdp: TabularMDP, values: npt.ArrayLike) -> FloatArray:
    r"""Bellman optimality operator :math:`(T^*V)(s) = \max_a Q(s,a)`, with ``Q = q_from_v(V)``.

    .. math:: (T^*V)(s) = \max_a \sum_{s'} P(s'|s,a)\left(R(s,a,s') + \gamma V(s')\right)

    Terminal states get 0.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> bellman_optimality_backup(loop, np.zeros(1))
        array([1.])

    """
    return q_from_v(mdp, values).max(axis=1)


def bellman_expectation_backup(
    mdp: TabularMDP, values: npt.ArrayLike, policy: npt.ArrayLike
) -> FloatArray:
    r"""Bellman expectation operator :math:`(T^\pi V)(s) = \sum_a \pi(a|s) Q(s,a)`.

    .. math::
        (T^\pi V)(s) = \sum_a \pi(a|s) \sum_{s'} P(s'|s,a)\left(R(s,a,s') + \gamma V(s')\right)

    Args:
        mdp: The MDP.
        values: ``V``, shape ``(S,)``.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> bellman_expectation_backup(loop, np.array([2.0]), np.array([0]))
        array([2.])

    """
    return np.einsum("sa,sa->s", _policy_for(mdp, policy), q_from_v(mdp, values))


def greedy_policy(mdp: TabularMDP, values: npt.ArrayLike) -> IntArray:
    r"""Greedy (one-step look-ahead) policy :math:`\pi(s) = \arg\max_a Q(s,a)`.

    Ties are broken towards the **lowest action index** (``np.argmax``), so the result is
    deterministic; terminal states get action 0.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.ones((1, 2, 1))
        >>> R = np.array([[[0.0], [1.0]]])
        >>> mdp = TabularMDP(P=P, R=R, gamma=0.0, mu=[1.0], terminal=[False])
        >>> greedy_policy(mdp, np.zeros(1))
        array([1])

    """
    return np.argmax(q_from_v(mdp, values), axis=1).astype(np.int64)


def q_backup(mdp: TabularMDP, q_values: npt.ArrayLike) -> FloatArray:
    r"""Q-value iteration backup.

    .. math::
        Q_{k+1}(s,a) = \sum_{s'} P(s'|s,a)\left(R(s,a,s') + \gamma \max_{a'} Q_k(s',a')\right)

    Terminal states are handled as in :func:`q_from_v`.

    Args:
        mdp: The MDP.
        q_values: ``Q_k``, shape ``(S, A)``.

    Returns:
        ``Q_{k+1}``, shape ``(S, A)``.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> q_backup(loop, np.array([[2.0]]))
        array([[2.]])

    """
    q = np.asarray(q_values, dtype=np.float64)
    if q.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"q_values must have shape (S, A) = ({mdp.n_states}, {mdp.n_actions}); got {q.shape}"
        )
    return q_from_v(mdp, q.max(axis=1))


# --------------------------------------------------------------------------------------------
# Policy evaluation
# --------------------------------------------------------------------------------------------


def _markov_chain(mdp: TabularMDP, policy: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``P_pi[s, s'] = sum_a pi(a|s) P(s'|s,a)`` and ``r_pi[s] = sum_a pi(a|s) r(s,a)``."""
    pi = _policy_for(mdp, policy)
    return np.einsum("sa,sat->st", pi, mdp.P), np.einsum("sa,sa->s", pi, mdp.expected_rewards)


def policy_evaluation_exact(mdp: TabularMDP, policy: npt.ArrayLike) -> FloatArray:
    r"""Exact :math:`V^\pi` by solving the Bellman expectation equation as a linear system.

    On the non-terminal states ``N`` (``V = 0`` on terminal states):

    .. math:: (I - \gamma P^\pi_{NN}) V_N = r^\pi_N,

    with :math:`P^\pi(s'|s) = \sum_a \pi(a|s) P(s'|s,a)` and
    :math:`r^\pi(s) = \sum_a \pi(a|s) r(s,a)`.

    Args:
        mdp: The MDP.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.

    Returns:
        :math:`V^\pi`, shape ``(S,)``.

    Raises:
        ValueError: If the system is singular: with ``gamma = 1`` a policy that, from some
            state, never reaches a terminal state has no finite value.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.9, mu=[1.0], terminal=[False])
        >>> float(policy_evaluation_exact(loop, [0])[0])  # 1 / (1 - 0.9)
        10.000000000000002

    """
    chain, rewards = _markov_chain(mdp, policy)
    live = ~mdp.terminal
    values = np.zeros(mdp.n_states)
    if not live.any():
        return values
    if mdp.gamma == 1.0:
        _require_proper(chain, mdp.terminal)
    system = np.eye(int(live.sum())) - mdp.gamma * chain[np.ix_(live, live)]
    try:
        values[live] = np.linalg.solve(system, rewards[live])
    except np.linalg.LinAlgError as error:
        raise ValueError(
            "I - gamma * P_pi is singular: with gamma = 1 the policy must reach a terminal "
            "state from every state (a 'proper' policy). Use gamma < 1 or another policy."
        ) from error
    return values


def _require_proper(chain: FloatArray, terminal: np.ndarray) -> None:
    """Raise if, under ``chain``, some state cannot reach a terminal state (gamma = 1)."""
    # States that can reach a terminal state = reachable from it in the reversed graph.
    reaches = reachable_states((chain > 0).T, terminal.copy())
    stuck = np.flatnonzero(~reaches)
    if stuck.size:
        raise ValueError(
            f"with gamma = 1 the policy never reaches a terminal state from state(s) "
            f"{stuck[:10].tolist()}, so I - P_pi is singular and V^pi may be infinite. Use "
            "gamma < 1, or a policy that terminates (e.g. as init_policy of policy_iteration)."
        )


def policy_evaluation_iterative(
    mdp: TabularMDP,
    policy: npt.ArrayLike,
    *,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    backup: Callable[[TabularMDP, FloatArray, Any], FloatArray] = bellman_expectation_backup,
) -> PolicyEvaluationResult:
    r"""Evaluate a policy iteratively (the inner loop of the lecture's policy iteration).

    .. math::
        V_{i+1}^{\pi}(s) \leftarrow \sum_{s'} P(s'|s,\pi(s))\left[R(s,\pi(s),s')
        + \gamma V_i^{\pi}(s')\right]

    starting from ``V_0 = 0`` until ``max_s |V_{i+1}(s) - V_i(s)| < tol``.

    Args:
        mdp: The MDP.
        policy: Deterministic ``(S,)`` or stochastic ``(S, A)`` policy.
        tol: Stop when the max-norm change of a sweep is below this.
        max_iterations: Give up (``converged=False``) after this many sweeps.
        backup: ``(mdp, V, policy) -> V``; swap in your own implementation.

    Returns:
        A :class:`PolicyEvaluationResult`.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> result = policy_evaluation_iterative(loop, [0])
        >>> round(float(result.values[0]), 6), result.converged
        (2.0, True)

    """
    _check_iteration_args(tol, max_iterations)
    _policy_for(mdp, policy)  # validate once, before the loop
    values = np.zeros(mdp.n_states)
    residuals: list[float] = []
    for _ in range(max_iterations):
        new_values = _checked(backup(mdp, values, policy), (mdp.n_states,), "backup")
        residuals.append(float(np.max(np.abs(new_values - values))))
        values = new_values
        if residuals[-1] < tol:
            break
    converged = bool(residuals) and residuals[-1] < tol
    return PolicyEvaluationResult(values, np.array(residuals), len(residuals), converged)


# --------------------------------------------------------------------------------------------
# Value iteration and Q-value iteration
# --------------------------------------------------------------------------------------------


def value_iteration(
    mdp: TabularMDP,
    *,
    horizon: int | None = None,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    backup: Backup = bellman_optimality_backup,
    init: npt.ArrayLike | None = None,
) -> ValueIterationResult:
    r"""Value iteration, as on the lecture's slide.

    Start with :math:`V_0^*(s) = 0` for all s. For k = 1, ..., H:

    .. math::
        V_k^*(s) \leftarrow \max_a \sum_{s'} P(s'|s,a)\left(R(s,a,s') + \gamma V_{k-1}^*(s')\right)

    ``history[k]`` is therefore the optimal value with ``k`` steps left.

    Args:
        mdp: The MDP.
        horizon: If given, run exactly this many sweeps (``H`` on the slide) and ignore
            ``tol`` for stopping; otherwise iterate until
            ``max_s |V_k(s) - V_{k-1}(s)| < tol``.
        tol: Stopping threshold on the max-norm residual.
        max_iterations: Upper bound on sweeps when ``horizon`` is None.
        backup: ``(mdp, V) -> V``; plug in your own Bellman backup here. Its output shape
            is checked.
        init: ``V_0`` (default zeros), shape ``(S,)``.

    Returns:
        A :class:`ValueIterationResult`; ``converged`` is whether the last residual is
        below ``tol`` (also reported when ``horizon`` is given).

    Raises:
        ValueError: On bad arguments or a backup returning the wrong shape.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> value_iteration(loop, horizon=3).history[:, 0]  # 0, 1, 1.5, 1.75
        array([0.  , 1.  , 1.5 , 1.75])
        >>> round(float(value_iteration(loop).values[0]), 8)  # 1 / (1 - 0.5)
        2.0

    """
    _check_iteration_args(tol, max_iterations, horizon)
    start = np.zeros(mdp.n_states) if init is None else _check_values(mdp, init, "init")
    history, residuals, converged = _iterate(
        lambda v: _checked(backup(mdp, v), (mdp.n_states,), "backup"),
        start,
        horizon=horizon,
        tol=tol,
        max_iterations=max_iterations,
    )
    values = history[-1]
    return ValueIterationResult(
        values=values,
        history=history,
        residuals=residuals,
        n_iterations=len(residuals),
        converged=converged,
        mdp=mdp,
    )


def q_value_iteration(
    mdp: TabularMDP,
    *,
    horizon: int | None = None,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    backup: Backup = q_backup,
) -> QValueIterationResult:
    r"""Q-value iteration from :math:`Q_0 = 0`.

    .. math::
        Q_{k+1}^*(s,a) \leftarrow \sum_{s'} P(s'|s,a)\left(R(s,a,s')
        + \gamma \max_{a'} Q_k^*(s',a')\right)

    Args:
        mdp: The MDP.
        horizon: If given, run exactly this many sweeps; else stop on ``tol``.
        tol: Stopping threshold on ``max_{s,a} |Q_k - Q_{k-1}|``.
        max_iterations: Upper bound on sweeps when ``horizon`` is None.
        backup: ``(mdp, Q) -> Q`` (default :func:`q_backup`); its output shape is checked.

    Returns:
        A :class:`QValueIterationResult`.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> loop = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> round(float(q_value_iteration(loop).q_values[0, 0]), 8)
        2.0

    """
    _check_iteration_args(tol, max_iterations, horizon)
    shape = (mdp.n_states, mdp.n_actions)
    history, residuals, converged = _iterate(
        lambda q: _checked(backup(mdp, q), shape, "backup"),
        np.zeros(shape),
        horizon=horizon,
        tol=tol,
        max_iterations=max_iterations,
    )
    q_values = history[-1]
    return QValueIterationResult(
        q_values=q_values,
        values=q_values.max(axis=1),
        policy=np.argmax(q_values, axis=1).astype(np.int64),
        history=history,
        residuals=residuals,
        n_iterations=len(residuals),
        converged=converged,
    )


# --------------------------------------------------------------------------------------------
# Policy iteration
# --------------------------------------------------------------------------------------------


def _keep_tied_actions(
    mdp: TabularMDP, values: FloatArray, policy: IntArray, new_policy: IntArray
) -> IntArray:
    """Keep ``policy[s]`` where ``new_policy[s]`` only ties with it in Q (see policy_iteration)."""
    q = q_from_v(mdp, values)
    states = np.arange(mdp.n_states)
    tied = np.isclose(q[states, policy], q[states, new_policy], rtol=1e-12, atol=1e-12)
    return np.where(tied, policy, new_policy)


def policy_iteration(
    mdp: TabularMDP,
    *,
    evaluate: Callable[[TabularMDP, Any], Any] = policy_evaluation_exact,
    improve: Callable[[TabularMDP, FloatArray], IntArray] = greedy_policy,
    init_policy: npt.ArrayLike | None = None,
    max_iterations: int = 1000,
) -> PolicyIterationResult:
    r"""Policy iteration: alternate evaluation and greedy improvement until stable.

    .. math::
        \pi_{k+1}(s) \leftarrow \arg\max_a \sum_{s'} P(s'|s,a)\left[R(s,a,s')
        + \gamma V^{\pi_k}(s')\right]

    Stops when :math:`\pi_{k+1} = \pi_k`, or when :math:`V^{\pi_{k+1}} = V^{\pi_k}` (within
    1e-10 relative): with tied actions the policy may keep changing while its value does not.
    Where the improved action only *ties* with the current one (equal Q-values), the current
    action is kept; otherwise, with ``gamma = 1``, switching between tied actions can turn a
    policy that reaches the exit into one that loops forever (value 0 from a loop ties with
    value 0 from the exit), and exact evaluation of that policy is singular.

    Args:
        mdp: The MDP.
        evaluate: ``(mdp, policy) -> V`` (an array, or a result with ``.values`` such as
            :func:`policy_evaluation_iterative`'s).
        improve: ``(mdp, V) -> policy``.
        init_policy: ``pi_0`` (default: action 0 everywhere). With ``gamma = 1`` it must
            reach a terminal state from every state, or exact evaluation fails.
        max_iterations: Upper bound on improvement steps.

    Returns:
        A :class:`PolicyIterationResult`.

    Example:
        >>> from rlkit.mdp import TabularMDP
        >>> P = np.ones((1, 2, 1))
        >>> R = np.array([[[0.0], [1.0]]])
        >>> mdp = TabularMDP(P=P, R=R, gamma=0.5, mu=[1.0], terminal=[False])
        >>> result = policy_iteration(mdp)
        >>> result.policy, result.values, result.n_iterations
        (array([1]), array([2.]), 2)

    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1; got {max_iterations}")
    if init_policy is None:
        policy = np.zeros(mdp.n_states, dtype=np.int64)
    else:
        policy = np.asarray(init_policy)
        if policy.shape != (mdp.n_states,):
            raise ValueError(
                f"init_policy must be a deterministic policy of shape (S,) = "
                f"({mdp.n_states},); got {policy.shape}"
            )
        _policy_for(mdp, policy)
        policy = policy.astype(np.int64)

    def evaluated(pi: IntArray) -> FloatArray:
        out = evaluate(mdp, pi)
        return _checked(getattr(out, "values", out), (mdp.n_states,), "evaluate")

    values = evaluated(policy)
    policies = [policy]
    converged = False
    for _ in range(max_iterations):
        new_policy = _checked(improve(mdp, values), (mdp.n_states,), "improve").astype(np.int64)
        _policy_for(mdp, new_policy)
        new_policy = _keep_tied_actions(mdp, values, policy, new_policy)
        new_values = evaluated(new_policy)
        policies.append(new_policy)
        stable = np.array_equal(new_policy, policy) or np.allclose(
            new_values, values, rtol=1e-10, atol=1e-10
        )
        policy, values = new_policy, new_values
        if stable:
            converged = True
            break
    return PolicyIterationResult(
        values=values,
        policy=policy,
        policies=np.stack(policies),
        n_iterations=len(policies) - 1,
        converged=converged,
    )
