r"""The tabular MDP: a transition tensor, a reward tensor, a discount and a start distribution.

Notation follows the lecture: :math:`P(s'|s,a)` is ``P[s, a, s']``, :math:`R(s,a,s')` is
``R[s, a, s']`` and the discount is :math:`\gamma`. Terminal states end the episode: nothing is
collected from them and they are never bootstrapped from, so :math:`V(s) = 0` there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from rlkit.seeding import make_rng

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "TabularMDP",
    "random_mdp",
    "reachable_states",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Tolerance on ``sum_s' P[s, a, s'] == 1`` and ``sum_s mu[s] == 1``.
PROBABILITY_ATOL = 1e-8

# Action names of the Gymnasium toy-text envs, from their documentation.
_TOY_TEXT_ACTION_NAMES: dict[str, tuple[str, ...]] = {
    "FrozenLakeEnv": ("Left", "Down", "Right", "Up"),
    "CliffWalkingEnv": ("Up", "Right", "Down", "Left"),
    "TaxiEnv": ("South", "North", "East", "West", "Pickup", "Dropoff"),
}


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class TabularMDP:
    r"""A finite MDP with known model, stored as dense numpy arrays.

    The expected immediate reward of taking ``a`` in ``s`` is

    .. math:: r(s, a) = \sum_{s'} P(s'|s,a) R(s,a,s').

    All arrays are copied to float64 (``terminal`` to bool) and made read-only, so an MDP can
    be shared between students' code and the grader without being changed by either.
    Equality is identity (``eq=False``): comparing numpy arrays element-wise has no single
    truth value.

    Attributes:
        P: Transition tensor, shape ``(S, A, S)``; ``P[s, a, s']`` is :math:`P(s'|s,a)`.
        R: Reward tensor, shape ``(S, A, S)``; ``R[s, a, s']`` is :math:`R(s,a,s')`.
        gamma: Discount factor :math:`\gamma \in [0, 1]`.
        mu: Start-state distribution, shape ``(S,)``.
        terminal: Boolean mask, shape ``(S,)``; entering a terminal state ends the episode.
        state_names: Optional label per state (e.g. grid coordinates).
        action_names: Optional label per action (e.g. ``("N", "E", "S", "W")``).

    Raises:
        ValueError: On mismatched shapes, negative or non-normalised probabilities, a
            discount outside ``[0, 1]`` or names of the wrong length. The message names the
            field and the offending ``(s, a)`` so it can be fixed directly.

    Example:
        A single state that loops on itself with reward 1 (value :math:`1/(1-\gamma)`):

        >>> mdp = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=0.5, mu=[1.0], terminal=[False])
        >>> mdp.n_states, mdp.n_actions
        (1, 1)
        >>> mdp.expected_rewards
        array([[1.]])

    """

    P: FloatArray
    R: FloatArray
    gamma: float
    mu: FloatArray
    terminal: BoolArray
    state_names: tuple[str, ...] | None = None
    action_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # np.array (not asarray) copies, so freezing never touches the caller's arrays.
        transitions = np.array(self.P, dtype=np.float64)
        rewards = np.array(self.R, dtype=np.float64)
        start = np.array(self.mu, dtype=np.float64)
        terminal_raw = np.array(self.terminal)

        if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
            raise ValueError(
                f"P must have shape (S, A, S) with P[s, a, s'] = P(s'|s,a); got shape "
                f"{transitions.shape}"
            )
        n_states, n_actions, _ = transitions.shape
        if n_states == 0 or n_actions == 0:
            raise ValueError(f"P needs at least one state and one action; got {transitions.shape}")
        if rewards.shape != transitions.shape:
            raise ValueError(
                f"R must have the same shape as P, (S, A, S) = {transitions.shape}; "
                f"got R.shape = {rewards.shape}"
            )
        if start.shape != (n_states,):
            raise ValueError(f"mu must have shape (S,) = ({n_states},); got {start.shape}")
        if terminal_raw.shape != (n_states,):
            raise ValueError(
                f"terminal must have shape (S,) = ({n_states},); got {terminal_raw.shape}"
            )
        if terminal_raw.dtype != np.bool_ and not np.isin(terminal_raw, (0, 1)).all():
            raise ValueError("terminal must be a boolean mask (True/False or 1/0 per state)")
        for name, array in (("P", transitions), ("R", rewards), ("mu", start)):
            if not np.isfinite(array).all():
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
                raise ValueError(f"{name} must be finite; {name}{list(index)} = {array[index]}")

        negative = np.argwhere(transitions < 0)
        if negative.size:
            s, a, s_next = (int(i) for i in negative[0])
            raise ValueError(
                f"P[s={s}, a={a}, s'={s_next}] = {transitions[s, a, s_next]:.6g} is negative; "
                "transition probabilities must be >= 0"
            )
        row_sums = transitions.sum(axis=2)
        bad_rows = np.argwhere(np.abs(row_sums - 1.0) > PROBABILITY_ATOL)
        if bad_rows.size:
            s, a = (int(i) for i in bad_rows[0])
            raise ValueError(
                f"P[s={s}, a={a}, :] sums to {row_sums[s, a]:.10g}, not 1 (tolerance "
                f"{PROBABILITY_ATOL:g}); every row must be a distribution over next states "
                f"({len(bad_rows)} bad row(s) in total)"
            )
        gamma = float(self.gamma)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1]; got {self.gamma}")
        if (start < 0).any() or abs(start.sum() - 1.0) > PROBABILITY_ATOL:
            raise ValueError(
                f"mu must be a probability distribution over states (>= 0, sums to 1); got "
                f"sum {start.sum():.10g} and min {start.min():.6g}"
            )
        for name, names, expected in (
            ("state_names", self.state_names, n_states),
            ("action_names", self.action_names, n_actions),
        ):
            if names is not None and len(names) != expected:
                raise ValueError(f"{name} needs {expected} entries; got {len(names)}")

        object.__setattr__(self, "P", _read_only(transitions))
        object.__setattr__(self, "R", _read_only(rewards))
        object.__setattr__(self, "gamma", gamma)
        object.__setattr__(self, "mu", _read_only(start))
        object.__setattr__(self, "terminal", _read_only(terminal_raw.astype(bool)))
        if self.state_names is not None:
            object.__setattr__(self, "state_names", tuple(str(n) for n in self.state_names))
        if self.action_names is not None:
            object.__setattr__(self, "action_names", tuple(str(n) for n in self.action_names))

    @property
    def n_states(self) -> int:
        """Number of states ``S`` (terminal states included)."""
        return int(self.P.shape[0])

    @property
    def n_actions(self) -> int:
        """Number of actions ``A``."""
        return int(self.P.shape[1])

    @cached_property
    def expected_rewards(self) -> FloatArray:
        r"""Expected reward :math:`r(s,a) = \sum_{s'} P(s'|s,a) R(s,a,s')`, shape ``(S, A)``."""
        return _read_only(np.einsum("ijk,ijk->ij", self.P, self.R))

    def __repr__(self) -> str:
        return (
            f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"gamma={self.gamma}, n_terminal={int(self.terminal.sum())})"
        )

    @classmethod
    def from_toy_text(cls, env: Any, *, gamma: float = 0.99) -> TabularMDP:
        """Build the MDP of a Gymnasium toy-text env (FrozenLake, CliffWalking, Taxi).

        Toy-text envs expose their model as ``env.unwrapped.P[s][a]``, a list of
        ``(prob, next_state, reward, terminated)``, and their start distribution as
        ``env.unwrapped.initial_state_distrib``. Duplicate next states are merged (their
        probabilities add up, the reward stored is the probability-weighted mean). A
        transition with ``terminated=True`` enters a state that is marked terminal (a
        FrozenLake hole or the goal); its reward stays on the transition into it.

        Args:
            env: A toy-text env, wrapped or not (e.g. ``gymnasium.make("FrozenLake-v1")``).
            gamma: Discount factor; Gymnasium envs do not define one.

        Returns:
            The equivalent :class:`TabularMDP` (action names filled in for the known envs).

        Raises:
            ValueError: If the env has no tabular model, or if a state is entered both with
                ``terminated=True`` and, from a state reachable from the start,
                ``terminated=False`` (no single terminal mask fits).

        Example:
            >>> import gymnasium as gym
            >>> mdp = TabularMDP.from_toy_text(gym.make("FrozenLake-v1", is_slippery=False))
            >>> mdp.n_states, mdp.n_actions, int(mdp.terminal.sum())
            (16, 4, 5)

        """
        unwrapped = getattr(env, "unwrapped", env)
        model = getattr(unwrapped, "P", None)
        start = getattr(unwrapped, "initial_state_distrib", None)
        if not isinstance(model, dict) or start is None:
            raise ValueError(
                f"{type(unwrapped).__name__} has no tabular model: expected a toy-text env with "
                "env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...] and "
                "env.unwrapped.initial_state_distrib (FrozenLake, CliffWalking, Taxi)"
            )
        n_states = int(unwrapped.observation_space.n)
        n_actions = int(unwrapped.action_space.n)
        transitions = np.zeros((n_states, n_actions, n_states))
        weighted_rewards = np.zeros((n_states, n_actions, n_states))
        enters_terminated = np.zeros(n_states, dtype=bool)
        enters_continuing = np.zeros((n_states, n_states), dtype=bool)  # [s, s']
        for s, per_action in model.items():
            for a, outcomes in per_action.items():
                for prob, s_next, reward, terminated in outcomes:
                    transitions[s, a, s_next] += prob
                    weighted_rewards[s, a, s_next] += prob * reward
                    if terminated:
                        enters_terminated[s_next] = True
                    elif prob > 0:
                        enters_continuing[s, s_next] = True
        # Rewards of merged outcomes: probability-weighted mean; 0 where P = 0.
        rewards = np.divide(
            weighted_rewards,
            transitions,
            out=np.zeros_like(weighted_rewards),
            where=transitions > 0,
        )
        terminal = enters_terminated
        # A conflict only matters in states the agent can actually be in: Taxi, e.g., has
        # "passenger delivered" states that are entered only by the final drop-off, yet move
        # into each other with terminated=False; none of them is reachable from the start.
        live_edges = enters_continuing & ~terminal[:, None]
        reachable = reachable_states(transitions.sum(axis=1) > 0, np.asarray(start) > 0, terminal)
        conflicts = np.argwhere(live_edges & reachable[:, None] & terminal[None, :])
        if conflicts.size:
            s, s_next = (int(i) for i in conflicts[0])
            raise ValueError(
                f"state {s_next} is entered with terminated=True elsewhere but with "
                f"terminated=False from state {s}; a TabularMDP cannot mark it terminal"
            )
        return cls(
            P=transitions,
            R=rewards,
            gamma=gamma,
            mu=np.asarray(start, dtype=np.float64),
            terminal=terminal,
            action_names=_TOY_TEXT_ACTION_NAMES.get(type(unwrapped).__name__),
        )


def reachable_states(
    adjacency: npt.NDArray[np.bool_],
    sources: npt.NDArray[np.bool_],
    blocked: npt.NDArray[np.bool_] | None = None,
) -> BoolArray:
    """States reachable from ``sources`` along edges ``adjacency[s, s']`` (0 or more steps).

    Args:
        adjacency: Boolean ``(S, S)``; ``adjacency[s, s']`` if ``s -> s'`` is possible.
        sources: Boolean ``(S,)`` start set (always reachable).
        blocked: Optional boolean ``(S,)``; these states are reached but not left (e.g.
            terminal states).

    Returns:
        Boolean mask ``(S,)``.

    Example:
        >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
        >>> reachable_states(chain, np.array([True, False, False])).tolist()
        [True, True, True]
        >>> reachable_states(chain, np.array([True, False, False]),
        ...                  blocked=np.array([False, True, False])).tolist()
        [True, True, False]

    """
    edges = adjacency if blocked is None else adjacency & ~blocked[:, None]
    reached = sources.copy()
    # The frontier grows by one step per sweep, so at most S sweeps (usually far fewer).
    for _ in range(len(reached)):
        grown = reached | edges[reached].any(axis=0)
        if (grown == reached).all():
            break
        reached = grown
    return reached


def random_mdp(
    n_states: int,
    n_actions: int,
    *,
    gamma: float,
    rng: np.random.Generator | int,
    n_terminal: int = 0,
    sparsity: float = 0.0,
) -> TabularMDP:
    r"""Draw a random MDP for tests and benchmarks.

    Each row :math:`P(\cdot|s,a)` is Dirichlet(1, ..., 1) over the next states, then a
    fraction ``sparsity`` of its entries is zeroed (at least one survives) and the row is
    renormalised. Rewards are i.i.d. :math:`\mathcal{N}(0, 1)`. ``n_terminal`` states drawn at
    random are terminal (self-loop, reward 0); ``mu`` is uniform over the other states.

    Args:
        n_states: Number of states ``S >= 1``.
        n_actions: Number of actions ``A >= 1``.
        gamma: Discount factor in ``[0, 1]``.
        rng: Generator or seed.
        n_terminal: Number of terminal states, ``0 <= n_terminal < S``.
        sparsity: Fraction of next-state entries set to zero per row, in ``[0, 1)``.

    Returns:
        A valid :class:`TabularMDP`.

    Example:
        >>> mdp = random_mdp(5, 2, gamma=0.9, rng=0, n_terminal=1)
        >>> mdp.P.shape, int(mdp.terminal.sum())
        ((5, 2, 5), 1)

    """
    if n_states < 1 or n_actions < 1:
        raise ValueError(f"need n_states >= 1 and n_actions >= 1; got {n_states}, {n_actions}")
    if not 0 <= n_terminal < n_states:
        raise ValueError(f"n_terminal must be in [0, n_states - 1]; got {n_terminal}")
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1); got {sparsity}")
    generator = make_rng(rng)
    transitions = generator.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    if sparsity > 0:
        keep = generator.random(transitions.shape) >= sparsity
        # One random entry per row always survives, so every row stays a distribution.
        survivor = generator.integers(n_states, size=(n_states, n_actions))
        np.put_along_axis(keep, survivor[..., None], True, axis=2)
        transitions = transitions * keep
        transitions /= transitions.sum(axis=2, keepdims=True)
    rewards = generator.standard_normal((n_states, n_actions, n_states))
    terminal = np.zeros(n_states, dtype=bool)
    terminal[generator.choice(n_states, size=n_terminal, replace=False)] = True
    terminal_ids = np.flatnonzero(terminal)
    transitions[terminal_ids] = 0.0
    transitions[terminal_ids, :, terminal_ids] = 1.0  # absorbing self-loops
    rewards[terminal] = 0.0
    start = (~terminal).astype(np.float64) / (~terminal).sum()
    return TabularMDP(
        P=transitions,
        R=rewards,
        gamma=gamma,
        mu=start,
        terminal=terminal,
    )
