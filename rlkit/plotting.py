"""Figures for value functions, convergence, learning curves and deep-RL training histories.

Every function returns a ``matplotlib.figure.Figure`` and never calls ``plt.show()``. Without
``ax`` a new figure is opened through pyplot, so that Jupyter's inline backend shows it at the
end of the cell (and ``plt.show()`` shows it, as the notebooks write); a standalone ``Figure``
would never appear. Close figures you do not show with ``plt.close(figure)``. With ``ax`` the
plot is drawn there and ``ax.figure`` is returned, so several curves can share one axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from rlkit.envs.gridworld import GridWorld

__all__ = [
    "PPODiagnostics",
    "TrainingHistory",
    "plot_convergence",
    "plot_evaluation_bands",
    "plot_gridworld_values",
    "plot_history",
    "plot_learning_curve",
    "plot_loss_curve",
    "plot_ppo_diagnostics",
    "plot_reliability",
    "plot_state_values",
    "plot_training_curve",
]

# Arrow (dx, dy) for N, E, S, W, with y up as on the slides.
_ARROWS = {0: (0.0, 1.0), 1: (1.0, 0.0), 2: (0.0, -1.0), 3: (-1.0, 0.0)}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        try:
            root = ax.get_figure(root=True)  # matplotlib >= 3.10: the top-level Figure
        except TypeError:
            root = ax.figure
        return root, ax  # type: ignore[return-value]
    figure = _new_figure(figsize)
    return figure, figure.add_subplot()


def _new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure pyplot knows about: the inline backend displays it when the cell ends."""
    return plt.figure(figsize=figsize, layout="constrained")


def plot_gridworld_values(
    gridworld: GridWorld,
    values: npt.ArrayLike,
    policy: npt.ArrayLike | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Heatmap of ``values`` over the grid, with slide coordinates (x right, y up).

    Walls are grey, each cell shows its value, and if ``policy`` is given an arrow shows its
    action (none on exits and TERMINAL, where every action is the same).

    Args:
        gridworld: The :class:`~rlkit.envs.gridworld.GridWorld` the values belong to.
        values: One value per state (TERMINAL included), shape ``(n_states,)``.
        policy: Optional deterministic policy, shape ``(n_states,)``.
        title: Axes title.
        ax: Draw on this axes instead of a new figure.

    Returns:
        The figure.

    Example:
        >>> from rlkit.envs.gridworld import GridWorld
        >>> world = GridWorld()
        >>> figure = plot_gridworld_values(world, np.zeros(world.n_states))
        >>> type(figure).__name__
        'Figure'

    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (gridworld.n_states,):
        raise ValueError(f"values must have shape ({gridworld.n_states},); got {v.shape}")
    actions = None if policy is None else np.asarray(policy)
    if actions is not None and actions.shape != (gridworld.n_states,):
        raise ValueError(
            f"policy must be deterministic with shape ({gridworld.n_states},); got {actions.shape}"
        )
    figure, axes = _axes(ax, (1.4 * gridworld.width + 1.2, 1.4 * gridworld.height))
    grid = np.full((gridworld.height, gridworld.width), np.nan)  # grid[y - 1, x - 1]
    cells = [c for c in gridworld.coords if c is not None]
    xs, ys = np.array(cells).T
    grid[ys - 1, xs - 1] = v[: len(cells)]
    limit = max(float(np.nanmax(np.abs(grid))), 1e-12)
    cmap = mpl.colormaps["RdYlGn"].with_extremes(bad="0.55")
    image = axes.imshow(
        np.ma.masked_invalid(grid),
        origin="lower",  # row 0 is y = 1: y grows upwards as on the slides
        extent=(0.5, gridworld.width + 0.5, 0.5, gridworld.height + 0.5),
        cmap=cmap,
        vmin=-limit,
        vmax=limit,
    )
    figure.colorbar(image, ax=axes, shrink=0.8, label="V(s)")
    for state, (x, y) in enumerate(cells):
        on_exit = (x, y) in gridworld.exits
        offset = 0.0 if actions is None or on_exit else -0.25
        colour = "white" if abs(v[state]) > 0.7 * limit else "black"  # readable on dark cells
        axes.text(
            x, y + offset, f"{v[state]:.2f}", ha="center", va="center", fontsize=10, color=colour
        )
        if actions is not None and not on_exit:
            dx, dy = _ARROWS[int(actions[state])]
            axes.annotate(
                "",
                xy=(x + 0.3 * dx, y + 0.1 + 0.3 * dy),
                xytext=(x, y + 0.1),
                arrowprops={"arrowstyle": "->", "lw": 1.5},
            )
    for x, y in gridworld.walls:
        axes.text(x, y, "wall", ha="center", va="center", color="white", fontsize=9)
    axes.set_xticks(np.arange(1, gridworld.width + 1))
    axes.set_yticks(np.arange(1, gridworld.height + 1))
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    if title is not None:
        axes.set_title(title)
    return figure


def plot_state_values(
    values: npt.ArrayLike,
    *,
    shape: tuple[int, int] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot values of an MDP without a GridWorld: a heatmap if ``shape`` is given, else bars.

    Args:
        values: One value per state, shape ``(S,)``.
        shape: ``(rows, cols)`` of a row-major grid (e.g. FrozenLake's ``(4, 4)``); row 0 is
            drawn at the top, as Gymnasium renders it.
        title: Axes title.
        ax: Draw on this axes instead of a new figure.

    Example:
        >>> type(plot_state_values(np.arange(4.0), shape=(2, 2))).__name__
        'Figure'

    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D, one per state; got shape {v.shape}")
    if shape is not None:
        if shape[0] * shape[1] != v.size:
            raise ValueError(f"shape {shape} does not hold {v.size} states")
        figure, axes = _axes(ax, (max(4.0, 0.6 * shape[1] + 1.5), max(3.0, 0.6 * shape[0])))
        image = axes.imshow(v.reshape(shape), cmap="viridis")
        figure.colorbar(image, ax=axes, label="V(s)")
        axes.set_xlabel("column")
        axes.set_ylabel("row")
    else:
        figure, axes = _axes(ax, (8.0, 3.5))
        axes.bar(np.arange(v.size), v, width=1.0)
        axes.set_xlabel("state")
        axes.set_ylabel("V(s)")
    if title is not None:
        axes.set_title(title)
    return figure


def plot_convergence(
    residuals: npt.ArrayLike, *, label: str | None = None, ax: Axes | None = None
) -> Figure:
    """Max-norm residual ``max_s |V_k(s) - V_{k-1}(s)|`` per sweep ``k`` on a log y axis.

    Value iteration contracts by ``gamma`` per sweep, so the curve is (at most) a straight
    line of slope ``log10(gamma)``. Call again with ``ax=`` to compare several runs.

    Example:
        >>> figure = plot_convergence(0.9 ** np.arange(1, 50), label="gamma = 0.9")
        >>> figure.axes[0].get_yscale()
        'log'

    """
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"residuals must be 1-D (one per sweep); got shape {r.shape}")
    figure, axes = _axes(ax, (6.0, 4.0))
    sweeps = np.arange(1, r.size + 1)
    # A residual of exactly 0 (finite-horizon problems converge exactly) has no log; hide it.
    axes.plot(sweeps, np.where(r > 0, r, np.nan), marker=".", label=label)
    axes.set_yscale("log")
    axes.set_xlabel("sweep k")
    axes.set_ylabel(r"$\max_s |V_k(s) - V_{k-1}(s)|$")
    if label is not None:
        axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    return figure


def plot_learning_curve(
    episode_returns: npt.ArrayLike, *, window: int = 20, ax: Axes | None = None
) -> Figure:
    """Return per episode (faint) and its moving average over ``window`` episodes.

    Example:
        >>> figure = plot_learning_curve(np.arange(100.0), window=10)
        >>> len(figure.axes[0].lines)
        2

    """
    returns = np.asarray(episode_returns, dtype=np.float64)
    if returns.ndim != 1:
        raise ValueError(f"episode_returns must be 1-D; got shape {returns.shape}")
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}")
    figure, axes = _axes(ax, (6.0, 4.0))
    episodes = np.arange(returns.size)
    axes.plot(episodes, returns, alpha=0.3, label="return")
    if returns.size >= window:
        average = np.convolve(returns, np.ones(window) / window, mode="valid")
        # The mean of episodes e-window+1..e is drawn at episode e.
        axes.plot(episodes[window - 1 :], average, label=f"moving average ({window})")
    axes.set_xlabel("episode")
    axes.set_ylabel("return")
    axes.legend()
    return figure


class TrainingHistory(Protocol):
    """What the history plots read; :class:`rlkit.agents.dqn.DQNHistory`,
    :class:`rlkit.agents.reinforce.ReinforceHistory` and :class:`rlkit.agents.a2c.A2CHistory`
    have it.
    """  # noqa: D205

    episode_returns: np.ndarray
    episode_end_steps: np.ndarray
    losses: np.ndarray
    evaluations: Sequence[tuple[int, float, float, float]]


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_training_curve(
    history: TrainingHistory,
    *,
    window: int = 20,
    label: str | None = None,
    show_episodes: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Learning curve over environment steps: training episodes and evaluation points.

    Draws the return of each training episode at the step it ended (faint, exploration
    included), their moving average over ``window`` episodes, and each evaluation's mean
    return with a band of plus/minus one standard deviation. Call again with ``ax=`` and a
    ``label`` to compare runs (e.g. the DQN ablations).

    Args:
        history: A training history (see :class:`TrainingHistory`).
        window: Episodes in the moving average (>= 1).
        label: Prefix of the legend entries.
        show_episodes: Also draw the raw per-episode returns.
        ax: Draw on this axes instead of a new figure.

    Example:
        >>> from types import SimpleNamespace
        >>> history = SimpleNamespace(
        ...     episode_returns=np.arange(30.0), episode_end_steps=np.arange(30) * 10 + 10,
        ...     losses=np.ones(5), evaluations=[(100, 20.0, 2.0, 0.1), (300, 40.0, 1.0, 0.3)])
        >>> figure = plot_training_curve(history, window=10)
        >>> [line.get_label() for line in figure.axes[0].lines]
        ['episode return', 'moving average (10)', 'evaluation mean']

    """
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}")
    returns = np.asarray(history.episode_returns, dtype=np.float64)
    steps = np.asarray(history.episode_end_steps, dtype=np.float64)
    if returns.shape != steps.shape:
        raise ValueError(
            f"episode_returns {returns.shape} and episode_end_steps {steps.shape} differ"
        )
    figure, axes = _axes(ax, (7.0, 4.0))
    prefix = f"{label}: " if label else ""
    if show_episodes and returns.size:
        axes.plot(steps, returns, alpha=0.25, linewidth=0.8, label=f"{prefix}episode return")
    if returns.size >= window:
        axes.plot(
            steps[window - 1 :],
            _moving_average(returns, window),
            label=f"{prefix}moving average ({window})",
        )
    evaluations = np.asarray(history.evaluations, dtype=np.float64).reshape(-1, 4)
    if evaluations.size:
        eval_steps, means, stds = evaluations[:, 0], evaluations[:, 1], evaluations[:, 2]
        (line,) = axes.plot(
            eval_steps, means, marker="o", markersize=3, label=f"{prefix}evaluation mean"
        )
        axes.fill_between(
            eval_steps, means - stds, means + stds, alpha=0.2, color=line.get_color()
        )
    axes.set_xlabel("environment steps")
    axes.set_ylabel("return")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    return figure


def plot_loss_curve(
    history: TrainingHistory,
    *,
    window: int = 100,
    log_scale: bool = False,
    label: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Loss of each update (faint) and its moving average over ``window`` updates.

    DQN logs one loss per gradient step; REINFORCE and A2C one per batch (a policy-gradient
    surrogate loss is not a measure of progress: it can fall while the return falls too).

    Example:
        >>> from types import SimpleNamespace
        >>> history = SimpleNamespace(losses=np.linspace(1.0, 0.1, 500))
        >>> figure = plot_loss_curve(history, window=50, log_scale=True)
        >>> figure.axes[0].get_yscale(), len(figure.axes[0].lines)
        ('log', 2)

    """
    figure, axes = _axes(ax, (7.0, 4.0))
    _plot_per_update(axes, history.losses, window, label, "loss")
    if log_scale:
        axes.set_yscale("log")
    return figure


def _plot_per_update(
    axes: Axes, values: npt.ArrayLike, window: int, label: str | None, name: str
) -> None:
    """One value per update (faint) and its moving average over ``window`` updates."""
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}")
    values = np.asarray(values, dtype=np.float64)
    prefix = f"{label}: " if label else ""
    updates = np.arange(1, values.size + 1)
    axes.plot(updates, values, alpha=0.25, linewidth=0.8, label=f"{prefix}{name}")
    if values.size >= window:
        axes.plot(
            updates[window - 1 :],
            _moving_average(values, window),
            label=f"{prefix}moving average ({window})",
        )
    axes.set_xlabel("update")
    axes.set_ylabel(name)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")


class PPODiagnostics(Protocol):
    """What :func:`plot_ppo_diagnostics` reads; :class:`rlkit.agents.ppo.PPOHistory` has it."""

    approx_kls: np.ndarray
    clip_fractions: np.ndarray
    explained_variances: np.ndarray
    entropies: np.ndarray


def plot_ppo_diagnostics(
    history: PPODiagnostics,
    *,
    window: int | None = None,
    target_kl: float | None = None,
    title: str | None = None,
) -> Figure:
    """Four panels, one value per PPO update: approximate KL, clip fraction, explained
    variance and entropy, each with its moving average (the style of :func:`plot_loss_curve`).

    What to look for: a KL that climbs past ~0.02-0.05 and a clip fraction past ~0.3 say the
    updates move pi too far (fewer epochs, a smaller step size or ``target_kl``); an explained
    variance near 0 or below says the critic does not predict the returns; an entropy that
    collapses early says pi stopped exploring.

    Args:
        history: A :class:`rlkit.agents.ppo.PPOHistory` (or anything with the four arrays).
        window: Updates in the moving averages (None: a tenth of the updates, 1 to 50).
        target_kl: Draw this KL as a dashed line (None: the history's ``config.target_kl``,
            if it has one).
        title: The figure's title.

    Example:
        >>> from types import SimpleNamespace
        >>> history = SimpleNamespace(approx_kls=np.full(30, 0.01), clip_fractions=np.ones(30),
        ...     explained_variances=np.zeros(30), entropies=np.ones(30))
        >>> [ax.get_ylabel() for ax in plot_ppo_diagnostics(history, window=5).axes]
        ['approximate KL', 'clip fraction', 'explained variance', 'entropy']

    """  # noqa: D205
    panels = (("approx_kls", "approximate KL"), ("clip_fractions", "clip fraction"),
              ("explained_variances", "explained variance"), ("entropies", "entropy"))  # fmt: skip
    size = np.asarray(history.approx_kls).size
    if window is None:
        window = max(1, min(50, size // 10))
    if target_kl is None:
        target_kl = getattr(getattr(history, "config", None), "target_kl", None)
    figure = _new_figure((12.0, 7.0))
    for axes, (field, name) in zip(figure.subplots(2, 2).flat, panels, strict=True):
        _plot_per_update(axes, getattr(history, field), window, None, name)
        if field == "approx_kls" and target_kl is not None:
            axes.axhline(target_kl, color="black", linestyle="--", linewidth=0.8,
                         label=f"target KL {target_kl:g}")
            axes.legend(loc="best", fontsize="small")
    if title is not None:
        figure.suptitle(title)
    return figure


def plot_evaluation_bands(
    runs: Mapping[str, Sequence[TrainingHistory]],
    *,
    points: int = 50,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Evaluation return against env steps, one line per algorithm: the mean over its seeds,
    with a band of one standard deviation.

    The seeds of one algorithm may be evaluated at different steps (a run that stops at its
    ``target_return`` ends early), so each run's evaluations are interpolated onto a common
    grid of ``points`` steps up to the shortest run's last evaluation.

    Args:
        runs: Algorithm name -> the histories of its seeds (anything with ``evaluations`` of
            ``(step, mean, std, seconds)``).
        points: Grid points per curve.
        title: The axes' title.
        ax: Axes to draw on (None: a new figure).

    Example:
        >>> from types import SimpleNamespace
        >>> run = lambda k: SimpleNamespace(evaluations=[(0, 0.0, 0, 0), (100, k, 0, 0)])
        >>> figure = plot_evaluation_bands({"A": [run(1.0), run(3.0)], "B": [run(2.0)]})
        >>> [line.get_label() for line in figure.axes[0].lines]
        ['A (2 seeds)', 'B (1 seed)']

    """  # noqa: D205
    if not runs or any(len(histories) == 0 for histories in runs.values()):
        raise ValueError("runs must map each name to at least one history")
    figure, axes = _axes(ax, (7.0, 4.0))
    for name, histories in runs.items():
        curves = [np.asarray([(p[0], p[1]) for p in h.evaluations], dtype=np.float64)
                  for h in histories]
        end = min(curve[-1, 0] for curve in curves)
        grid = np.linspace(min(curve[0, 0] for curve in curves), end, points)
        values = np.stack([np.interp(grid, curve[:, 0], curve[:, 1]) for curve in curves])
        mean, std = values.mean(axis=0), values.std(axis=0)
        seeds = f"{len(histories)} seed{'s' if len(histories) > 1 else ''}"
        (line,) = axes.plot(grid, mean, label=f"{name} ({seeds})")
        axes.fill_between(grid, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    axes.set_xlabel("env steps")
    axes.set_ylabel("evaluation return")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    if title is not None:
        axes.set_title(title)
    return figure


def plot_history(
    history: TrainingHistory, *, title: str | None = None, window: int = 20
) -> Figure:
    """Two panels: :func:`plot_training_curve` (left) and :func:`plot_loss_curve` (right).

    Example:
        >>> from types import SimpleNamespace
        >>> history = SimpleNamespace(
        ...     episode_returns=np.ones(5), episode_end_steps=np.arange(1, 6),
        ...     losses=np.ones(5), evaluations=[(5, 1.0, 0.0, 0.01)])
        >>> len(plot_history(history, title="DQN").axes)
        2

    """
    figure = _new_figure((12.0, 4.0))
    left, right = figure.subplots(1, 2)
    plot_training_curve(history, window=window, ax=left)
    losses = np.asarray(history.losses, dtype=np.float64)
    positive = bool(losses.size) and bool(np.all(losses > 0))
    plot_loss_curve(
        history, window=max(1, min(100, losses.size // 10 or 1)), log_scale=positive, ax=right
    )
    if title is not None:
        figure.suptitle(title)
    return figure


def plot_reliability(
    predicted: npt.ArrayLike,
    actual: npt.ArrayLike,
    *,
    n_bins: int = 10,
    label: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""A reliability (calibration) diagram: predicted probabilities against the true ones.

    The pairs are sorted by ``predicted`` into ``n_bins`` bins of equal width on [0, 1]; each
    non-empty bin is a point at (mean predicted, mean actual), its size growing with the pairs
    it holds. A calibrated predictor lies on the diagonal. For a reward model (notebook 07)
    ``predicted`` is :math:`\sigma(r_\theta(x, y_w) - r_\theta(x, y_l))` and ``actual`` the
    gold preference probability :math:`\sigma(\beta_h (g_w - g_l))`.

    Args:
        predicted: ``(N,)`` predicted probabilities in [0, 1].
        actual: ``(N,)`` the true probabilities (or 0/1 outcomes) of the same events.
        n_bins: Bins on [0, 1] (5 to 20).
        label: Legend label of the points.
        ax: Axes to draw on (None: a new figure).

    Example:
        >>> p = np.linspace(0.01, 0.99, 200)
        >>> figure = plot_reliability(p, p, n_bins=5, label="calibrated")
        >>> len(figure.axes[0].collections[0].get_offsets())  # one point per non-empty bin
        5

    """
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    actual = np.asarray(actual, dtype=np.float64).reshape(-1)
    if predicted.shape != actual.shape or predicted.size == 0:
        raise ValueError(f"predicted and actual must be non-empty and of one length; got "
                         f"{predicted.shape} and {actual.shape}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1; got {n_bins}")
    bins = np.minimum((predicted * n_bins).astype(np.int64), n_bins - 1).clip(0)
    counts = np.bincount(bins, minlength=n_bins)
    full = counts > 0
    mean_predicted = np.bincount(bins, predicted, n_bins)[full] / counts[full]
    mean_actual = np.bincount(bins, actual, n_bins)[full] / counts[full]
    figure, axes = _axes(ax, (4.5, 4.5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    sizes = 20 + 200 * counts[full] / counts.max()
    axes.scatter(mean_predicted, mean_actual, s=sizes, alpha=0.8, label=label, zorder=3)
    axes.plot(mean_predicted, mean_actual, alpha=0.5, zorder=2)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_aspect("equal")
    axes.set_xlabel("predicted probability")
    axes.set_ylabel("true probability")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return figure
