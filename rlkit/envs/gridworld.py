r"""The lecture's 4x3 GridWorld (Berkeley CS188 style) as a Gymnasium env with a known model.

Coordinates are the slides' ``(x, y)``: 1-based, ``x`` to the right, ``y`` **up**; the start is
(1,1), the wall (2,2), the +1 exit (4,3) and the -1 exit (4,2)::

    y=3   .  .  .  +1
    y=2   .  #  .  -1
    y=1   S  .  .  .
         x=1 2  3  4

An action moves in its direction with probability ``1 - noise`` and to each perpendicular
direction with ``noise / 2``; bumping into a wall or the border stays put. An exit cell is
not left by moving: *every* action there goes to one absorbing state ``TERMINAL`` and collects
the exit reward, so :math:`V^*(4,3) = 1`. ``TERMINAL`` is terminal in :attr:`GridWorld.mdp`.
"""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from rlkit.mdp import TabularMDP
from rlkit.sampling import sample_categorical

__all__ = ["ACTIONS", "LECTURE_LAYOUT", "TERMINAL_NAME", "GridWorld"]

#: The lecture's world, top row first: ``.`` free, ``#`` wall, ``S`` start, ``+``/``-`` exits.
LECTURE_LAYOUT = "...+\n.#.-\nS..."
#: Action names; index = action id. y points up, so N is +y.
ACTIONS: tuple[str, ...] = ("N", "E", "S", "W")
#: Name of the extra absorbing state (the last state index).
TERMINAL_NAME = "TERMINAL"

_MOVES = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)])  # (dx, dy) for N, E, S, W
_CELL_CHARS = frozenset(".#S+-")
_DEFAULT_EXIT_REWARD = {"+": 1.0, "-": -1.0}

# rgb_array colours
_CELL_PIXELS = 32
_FREE_RGB = (245, 245, 245)
_WALL_RGB = (110, 110, 110)
_GOOD_EXIT_RGB = (80, 180, 90)
_BAD_EXIT_RGB = (210, 70, 60)
_GRID_RGB = (40, 40, 40)
_AGENT_RGB = (50, 90, 220)


def _parse_layout(layout: str) -> list[str]:
    """Split a text map into rows and validate it; raise ValueError saying what to fix."""
    if not isinstance(layout, str):
        raise ValueError(f"layout must be a string map; got {type(layout).__name__}")
    rows = [row.strip() for row in layout.strip().splitlines()]
    if not rows or not rows[0]:
        raise ValueError("layout is empty; give rows like '...+\\n.#.-\\nS...'")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(
            f"layout rows must all have the same length; got lengths {[len(r) for r in rows]}"
        )
    for row_index, row in enumerate(rows):
        unknown = set(row) - _CELL_CHARS
        if unknown:
            raise ValueError(
                f"layout row {row_index + 1} ({row!r}) has unknown character(s) "
                f"{sorted(unknown)}; use '.' free, '#' wall, 'S' start, '+'/'-' exits"
            )
    text = "".join(rows)
    if "S" not in text:
        raise ValueError("layout has no start cell: mark one free cell with 'S'")
    if "+" not in text and "-" not in text:
        raise ValueError("layout has no exit: add at least one '+' or '-' cell")
    return rows


class GridWorld(gymnasium.Env[int, int]):
    r"""Gridworld with noisy moves, exit cells and a known tabular model.

    States are the non-wall cells in reading order (top row first, left to right), then
    ``TERMINAL`` (index ``n_states - 1``). Moves between ordinary cells give
    ``living_reward``; from an exit cell every action goes to ``TERMINAL`` with the exit
    reward.

    Args:
        layout: Text map, top row first (see :data:`LECTURE_LAYOUT`). Several ``S`` cells
            give a uniform start distribution over them.
        noise: Probability of slipping; each perpendicular direction gets ``noise / 2``.
        gamma: Discount factor stored in :attr:`mdp`.
        living_reward: Reward of every move between ordinary cells.
        exit_rewards: Overrides exit rewards by ``(x, y)`` coordinate, e.g.
            ``{(4, 3): 10.0}``.
        max_episode_steps: If given, ``step`` reports ``truncated=True`` after this many
            steps (``gymnasium.make`` adds a 100-step TimeLimit instead).
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"``.

    Raises:
        ValueError: On a malformed layout, ``noise`` or ``gamma`` outside ``[0, 1]``, or an
            ``exit_rewards`` key that is not an exit cell.

    Example:
        >>> env = GridWorld()
        >>> env.n_states, env.coords[env.state_index((1, 1))]
        (12, (1, 1))
        >>> float(env.mdp.P[env.state_index((3, 3)), ACTIONS.index("E"), env.state_index((4, 3))])
        0.8

    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        layout: str = LECTURE_LAYOUT,
        *,
        noise: float = 0.2,
        gamma: float = 0.9,
        living_reward: float = 0.0,
        exit_rewards: dict[tuple[int, int], float] | None = None,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        rows = _parse_layout(layout)
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise must be in [0, 1]; got {noise}")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1]; got {gamma}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}; "
                f"got {render_mode!r}"
            )
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None; got {max_episode_steps}")
        self.layout = "\n".join(rows)
        self.noise = float(noise)
        self.gamma = float(gamma)
        self.living_reward = float(living_reward)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.height = len(rows)
        self.width = len(rows[0])

        cells: list[tuple[int, int]] = []
        chars: list[str] = []
        walls: list[tuple[int, int]] = []
        for row_index, row in enumerate(rows):
            y = self.height - row_index  # top row has the largest y
            for column, char in enumerate(row):
                if char == "#":
                    walls.append((column + 1, y))
                else:
                    cells.append((column + 1, y))
                    chars.append(char)
        self.walls: frozenset[tuple[int, int]] = frozenset(walls)
        self.coords: tuple[tuple[int, int] | None, ...] = (*cells, None)
        self._index = {cell: i for i, cell in enumerate(cells)}
        self._chars = tuple(chars)

        exits = {
            cell: _DEFAULT_EXIT_REWARD[c]
            for cell, c in zip(cells, chars, strict=True)
            if c in "+-"
        }
        for cell, reward in (exit_rewards or {}).items():
            cell = (int(cell[0]), int(cell[1]))
            if cell not in exits:
                raise ValueError(
                    f"exit_rewards key {cell} is not an exit cell; exits are {sorted(exits)}"
                )
            exits[cell] = float(reward)
        #: Exit reward per exit coordinate.
        self.exits: dict[tuple[int, int], float] = exits

        self.n_states = len(self.coords)
        self.terminal_state = self.n_states - 1
        self.observation_space = spaces.Discrete(self.n_states)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self._mdp: TabularMDP | None = None
        self._state = self.terminal_state
        self._elapsed_steps = 0

    # ----------------------------------------------------------------------------------------
    # The model
    # ----------------------------------------------------------------------------------------

    def state_index(self, coord: tuple[int, int]) -> int:
        """Return the state index of cell ``(x, y)``.

        Raises:
            ValueError: If ``(x, y)`` is a wall or outside the grid.

        """
        cell = (int(coord[0]), int(coord[1]))
        if cell in self._index:
            return self._index[cell]
        where = "a wall" if cell in self.walls else "outside the grid"
        raise ValueError(
            f"cell {cell} is {where}; valid x in 1..{self.width}, y in 1..{self.height}, "
            f"walls {sorted(self.walls)}"
        )

    @property
    def mdp(self) -> TabularMDP:
        """The tabular model (built once, then cached)."""
        if self._mdp is None:
            self._mdp = self._build_mdp()
        return self._mdp

    def _moves(self) -> np.ndarray:
        """``next_cell[s, d]``: the cell index reached from cell ``s`` moving in direction d."""
        xy = np.array(self.coords[:-1])  # (n_cells, 2)
        target = xy[:, None, :] + _MOVES[None, :, :]  # (n_cells, 4, 2)
        index_grid = np.full((self.width + 2, self.height + 2), -1)  # padded: border = -1
        index_grid[xy[:, 0], xy[:, 1]] = np.arange(len(xy))
        reached = index_grid[target[..., 0], target[..., 1]]
        # Walls and the border are -1: bumping into them stays put.
        return np.where(reached >= 0, reached, np.arange(len(xy))[:, None])

    def _build_mdp(self) -> TabularMDP:
        n_cells = self.n_states - 1
        n_actions = len(ACTIONS)
        # Direction actually moved when action a is chosen: a, or a perpendicular one.
        slip = np.zeros((n_actions, n_actions))  # slip[a, d] = P(move d | action a)
        for action in range(n_actions):
            slip[action, action] += 1.0 - self.noise
            slip[action, (action + 1) % n_actions] += self.noise / 2
            slip[action, (action - 1) % n_actions] += self.noise / 2

        transitions = np.zeros((self.n_states, n_actions, self.n_states))
        cell_ids = np.arange(n_cells)[:, None, None]
        actions = np.arange(n_actions)[None, :, None]
        np.add.at(transitions, (cell_ids, actions, self._moves()[:, None, :]), slip[None])
        rewards = np.zeros_like(transitions)
        rewards[:n_cells] = self.living_reward

        exit_ids = np.array([self._index[cell] for cell in self.exits], dtype=np.int64)
        transitions[exit_ids] = 0.0
        transitions[exit_ids, :, self.terminal_state] = 1.0
        rewards[exit_ids] = 0.0
        rewards[exit_ids, :, self.terminal_state] = np.array(list(self.exits.values()))[:, None]
        transitions[self.terminal_state, :, self.terminal_state] = 1.0  # absorbing, reward 0

        starts = np.array([c == "S" for c in self._chars] + [False], dtype=np.float64)
        terminal = np.zeros(self.n_states, dtype=bool)
        terminal[self.terminal_state] = True
        names = tuple(f"({x},{y})" for x, y in self.coords[:-1]) + (TERMINAL_NAME,)
        return TabularMDP(
            P=transitions,
            R=rewards,
            gamma=self.gamma,
            mu=starts / starts.sum(),
            terminal=terminal,
            state_names=names,
            action_names=ACTIONS,
        )

    # ----------------------------------------------------------------------------------------
    # Gymnasium API
    # ----------------------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        return {"coords": self.coords[self._state]}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Start an episode in a cell drawn from ``mdp.mu``.

        Args:
            seed: Seeds ``self.np_random`` (the only randomness of the env).
            options: ``{"start": (x, y)}`` starts in that cell instead.

        Returns:
            ``(state, {"coords": (x, y)})``.

        """
        super().reset(seed=seed)
        if options and "start" in options:
            self._state = self.state_index(options["start"])
        else:
            self._state = sample_categorical(self.mdp.mu, self.np_random)
        self._elapsed_steps = 0
        return self._state, self._info()

    def step(self, action: int) -> tuple[int, SupportsFloat, bool, bool, dict[str, Any]]:
        """Take ``action`` (0..3 = N, E, S, W); ``terminated`` when TERMINAL is entered."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in 0..3 (N, E, S, W); got {action!r}")
        state = self._state
        next_state = sample_categorical(self.mdp.P[state, action], self.np_random)
        reward = float(self.mdp.R[state, action, next_state])
        self._state = next_state
        self._elapsed_steps += 1
        terminated = next_state == self.terminal_state
        truncated = (
            self.max_episode_steps is not None and self._elapsed_steps >= self.max_episode_steps
        )
        return next_state, reward, terminated, bool(truncated and not terminated), self._info()

    def render(self) -> str | np.ndarray | None:  # type: ignore[override]
        """Render the current state as text (``"ansi"``) or an RGB image (``"rgb_array"``)."""
        if self.render_mode == "ansi":
            return self._render_text()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        gymnasium.logger.warn(
            "GridWorld.render() called without a render_mode; pass render_mode='ansi' or "
            "'rgb_array' to the constructor or gymnasium.make."
        )
        return None

    def _cell_symbol(self, cell: tuple[int, int]) -> str:
        if cell in self.walls:
            return "#"
        if cell in self.exits:
            return f"{self.exits[cell]:+g}"
        return "."

    def _render_text(self) -> str:
        agent = self.coords[self._state]
        lines = []
        for y in range(self.height, 0, -1):
            symbols = [
                "A" if (x, y) == agent else self._cell_symbol((x, y))
                for x in range(1, self.width + 1)
            ]
            lines.append(" ".join(f"{s:>3}" for s in symbols))
        if agent is None:
            lines.append("(episode over: agent is in TERMINAL)")
        return "\n".join(lines) + "\n"

    def _render_rgb(self) -> np.ndarray:
        size = _CELL_PIXELS
        image = np.empty((self.height * size, self.width * size, 3), dtype=np.uint8)
        for y in range(1, self.height + 1):
            for x in range(1, self.width + 1):
                colour = _FREE_RGB
                if (x, y) in self.walls:
                    colour = _WALL_RGB
                elif (x, y) in self.exits:
                    colour = _GOOD_EXIT_RGB if self.exits[(x, y)] >= 0 else _BAD_EXIT_RGB
                row = (self.height - y) * size  # y up: y = height is the top pixel row
                image[row : row + size, (x - 1) * size : x * size] = colour
        image[::size, :] = _GRID_RGB
        image[:, ::size] = _GRID_RGB
        image[-1, :] = _GRID_RGB
        image[:, -1] = _GRID_RGB
        agent = self.coords[self._state]
        if agent is not None:
            x, y = agent
            centre_row = (self.height - y) * size + size // 2
            centre_col = (x - 1) * size + size // 2
            rows, cols = np.ogrid[: image.shape[0], : image.shape[1]]
            disc = (rows - centre_row) ** 2 + (cols - centre_col) ** 2 <= (size // 3) ** 2
            image[disc] = _AGENT_RGB
        return image
