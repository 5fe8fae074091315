"""A generated class for the similarity report: independent honest solutions, and copies.

Three graded functions of notebooks 01 and 02 have eight genuinely different correct
implementations each (loops, vectorised, recursive, ...; ``tests/test_similarity.py`` checks that
every one passes its check). Honest student ``hN`` writes variant N of each. Then:

* ``copier`` copies ``h5``'s ``q_from_v`` and ``h4``'s ``discounted_return``, disguised: other
  variable names, comments moved and changed, another docstring, reformatted. Its ``q_from_v``
  also carries hostile HTML in a comment and its docstring (the report must escape it);
* ``rk`` pastes rlkit's own source of ``q_from_v`` and ``trajectory_probability``;
* ``broken`` has a cell with a syntax error and a ``discounted_return`` too long to compare;
* ``stubbed`` submits the release unchanged; ``linked``'s notebook is a symbolic link to
  ``h0``'s (neither is compared).
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import nbformat

#: (check spec, assignment) of each function with variants.
FUNCTIONS = {"discounted_return": ("mdps.discounted_return", "01_mdps"),
             "trajectory_probability": ("mdps.trajectory_probability", "01_mdps"),
             "q_from_v": ("bellman.q_from_v", "02_bellman")}

DISCOUNTED_RETURN = [
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    total = 0.0
    for t, r in enumerate(rewards):
        total += gamma ** t * r
    return total
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    # Horner's scheme, from the last reward back: G_t = r_t + gamma G_{t+1}
    g = 0.0
    for r in reversed(list(rewards)):
        g = r + gamma * g
    return float(g)
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    r = np.asarray(rewards, dtype=float)
    discounts = np.power(gamma, np.arange(r.size))
    return float(discounts @ r)
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    return float(sum(reward * gamma**step for step, reward in enumerate(rewards)))
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    result, discount = 0.0, 1.0
    for reward in rewards:
        result += discount * reward
        discount *= gamma
    return result
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    rewards = list(rewards)
    if not rewards:
        return 0.0
    return float(rewards[0] + gamma * discounted_return(rewards[1:], gamma))
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    coefficients = np.asarray(rewards, dtype=float)[::-1]  # highest power first
    if coefficients.size == 0:
        return 0.0
    return float(np.polyval(coefficients, gamma))
''',
    '''\
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    from functools import reduce

    return float(reduce(lambda acc, r: r + gamma * acc, reversed(list(rewards)), 0.0))
''',
]

TRAJECTORY_PROBABILITY = [
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    p = mdp.mu[states[0]]
    for t in range(len(actions)):
        s, a, s_next = states[t], actions[t], states[t + 1]
        p *= policy[s, a] * mdp.P[s, a, s_next]
    return float(p)
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    prob = float(mdp.mu[states[0]])
    for s, a, s2 in zip(states[:-1], actions, states[1:]):
        prob = prob * policy[s][a] * mdp.P[s][a][s2]
    return prob
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    with np.errstate(divide="ignore"):  # log(0) = -inf is fine: exp(-inf) = 0
        log_p = np.log(mdp.mu[states[0]])
        for t, action in enumerate(actions):
            log_p += np.log(policy[states[t], action])
            log_p += np.log(mdp.P[states[t], action, states[t + 1]])
    return float(np.exp(log_p))
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    s = np.array(states)
    a = np.array(actions, dtype=int)
    agent = policy[s[:-1], a]
    environment = mdp.P[s[:-1], a, s[1:]]
    return float(mdp.mu[s[0]] * agent.prod() * environment.prod())
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    import math

    factors = [policy[states[i], actions[i]] * mdp.P[states[i], actions[i], states[i + 1]]
               for i in range(len(actions))]
    return float(mdp.mu[states[0]] * math.prod(factors))
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    def rest(t):
        if t == len(actions):
            return 1.0
        here = policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]]
        return here * rest(t + 1)

    return float(mdp.mu[states[0]] * rest(0))
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    t = 0
    result = mdp.mu[states[0]]
    while t < len(actions):
        result = result * policy[states[t], actions[t]]
        result = result * mdp.P[states[t], actions[t], states[t + 1]]
        t += 1
    return float(result)
''',
    '''\
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    s = np.asarray(states, dtype=int)
    a = np.asarray(actions, dtype=int)
    steps = np.arange(a.size)
    terms = np.concatenate(([mdp.mu[s[0]]], policy[s[steps], a], mdp.P[s[steps], a, s[steps + 1]]))
    return float(np.multiply.reduce(terms))
''',
]

Q_FROM_V = [
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    S, A = mdp.n_states, mdp.n_actions
    q = np.zeros((S, A))
    for s in range(S):
        if mdp.terminal[s]:
            continue  # the episode is over: Q stays 0
        for a in range(A):
            for s2 in range(S):
                future = 0.0 if mdp.terminal[s2] else values[s2]
                q[s, a] += mdp.P[s, a, s2] * (mdp.R[s, a, s2] + mdp.gamma * future)
    return q
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    v = np.where(mdp.terminal, 0, values)
    out = np.zeros(mdp.P.shape[:2])
    for s in np.flatnonzero(~np.asarray(mdp.terminal)):
        for a in range(mdp.P.shape[1]):
            out[s, a] = np.dot(mdp.P[s, a], mdp.R[s, a] + mdp.gamma * v)
    return out
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    bootstrap = np.asarray(values, dtype=float) * (1 - np.asarray(mdp.terminal, dtype=float))
    expected_r = (mdp.P * mdp.R).sum(axis=2)
    q = expected_r + mdp.gamma * np.tensordot(mdp.P, bootstrap, axes=([2], [0]))
    return q * (1 - np.asarray(mdp.terminal, dtype=float))[:, None]
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    v_next = np.where(mdp.terminal, 0.0, values)  # no bootstrap from terminal states
    targets = mdp.R + mdp.gamma * v_next  # broadcast over s'
    return np.where(mdp.terminal[:, None], 0.0, (mdp.P * targets).sum(-1))
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    future = np.array([0.0 if done else v for v, done in zip(values, mdp.terminal)])
    rows = []
    for s in range(mdp.n_states):
        row = mdp.gamma * (mdp.P[s] @ future) + np.sum(mdp.P[s] * mdp.R[s], axis=1)
        rows.append(row * 0.0 if mdp.terminal[s] else row)
    return np.array(rows)
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    masked = np.asarray(values, float).copy()
    masked[np.asarray(mdp.terminal, bool)] = 0.0
    # expected immediate reward, then the discounted value of s'
    reward_part = np.einsum("ijk,ijk->ij", mdp.P, mdp.R)
    value_part = np.einsum("ijk,k->ij", mdp.P, masked)
    q = reward_part + mdp.gamma * value_part
    q[np.asarray(mdp.terminal, bool)] = 0.0  # nothing happens in a terminal state
    return q
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    g = mdp.gamma
    return np.array([
        [0.0 if mdp.terminal[s] else sum(p * (r + g * (0.0 if mdp.terminal[j] else values[j]))
                                         for j, (p, r) in enumerate(zip(mdp.P[s, a], mdp.R[s, a])))
         for a in range(mdp.n_actions)]
        for s in range(mdp.n_states)])
''',
    '''\
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    keep = ~np.asarray(mdp.terminal, dtype=bool)
    q = mdp.expected_rewards + mdp.gamma * (mdp.P @ (keep * np.asarray(values)))
    return keep[:, None] * q
''',
]

VARIANTS = {"discounted_return": DISCOUNTED_RETURN,
            "trajectory_probability": TRAJECTORY_PROBABILITY, "q_from_v": Q_FROM_V}
HONEST = [f"h{i}" for i in range(8)]

#: what the report must escape.
HOSTILE = "</pre><script>alert('copied')</script>"

#: copier's disguised copies: (the honest student copied, the copy).
COPIES = {
    "q_from_v": ("h5", f'''\
def q_from_v(mdp, values):
    """Q from V by one step of look-ahead. {HOSTILE}"""
    # {HOSTILE}
    v = np.asarray(values, float).copy()
    # zero V at the terminal states first
    v[np.asarray(mdp.terminal, bool)] = 0.0

    r_part = np.einsum(
        'ijk,ijk->ij', mdp.P, mdp.R
    )  # r(s, a)
    v_part = np.einsum('ijk,k->ij',
                       mdp.P, v)
    out = (r_part
           + mdp.gamma * v_part)
    # and Q = 0 where the episode has ended
    out[np.asarray(mdp.terminal, bool)] = 0.0
    return out
'''),
    "discounted_return": ("h4", '''\
def discounted_return(rewards, gamma):
    # a running factor gamma^t, updated as we go
    g, factor = 0.0, 1.0
    for x in rewards:
        g += factor * x    # add the discounted reward
        factor *= gamma
    return g
'''),
}


def rlkit_source(function: str) -> str:
    """rlkit's own source of a graded function, pasted under the student's name."""
    from autograder.grading.similarity import reference_functions
    from autograder.judge import get_spec

    (_, fn), = reference_functions(get_spec(FUNCTIONS[function][0]))
    source = textwrap.dedent(inspect.getsource(fn))
    return source.replace(f"def {fn.__name__}(", f"def {function}(", 1)


def _solution_cell(nb: nbformat.NotebookNode, function: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == function)


def student_functions() -> dict[str, dict[str, str]]:
    """student -> function -> source (the functions each student writes; the rest stay stubs)."""
    students = {name: {f: variants[i] for f, variants in VARIANTS.items()}
                for i, name in enumerate(HONEST)}
    students["copier"] = {f: copy for f, (_, copy) in COPIES.items()}
    students["rk"] = {f: rlkit_source(f) for f in ("q_from_v", "trajectory_probability")}
    long_body = "".join(f"    total_{i} = {i}\n" for i in range(2500))
    students["broken"] = {"discounted_return": "def discounted_return(rewards, gamma):\n"
                                               f"{long_body}    return 0.0\n"}
    students["stubbed"] = {}
    return students


def write_class(root: Path, releases: dict[str, nbformat.NotebookNode]) -> Path:
    """Write the class into ``root/<student>/<assignment>/<assignment>.ipynb``."""
    import copy

    for student, functions in student_functions().items():
        for assignment, release in releases.items():
            nb = copy.deepcopy(release)
            for function, source in functions.items():
                if FUNCTIONS[function][1] == assignment:
                    _solution_cell(nb, function).source = source
            if student == "broken":
                nb.cells.insert(3, nbformat.v4.new_code_cell("def oops(:\n    pass"))
            path = root / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    linked = root / "linked" / "02_bellman"
    linked.mkdir(parents=True)
    (linked / "02_bellman.ipynb").symlink_to("../../h0/02_bellman/02_bellman.ipynb")
    return root
