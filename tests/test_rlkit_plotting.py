"""Plotting helpers return Figures (Agg backend) and never show them."""

from __future__ import annotations

import inspect
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rlkit import dp, plotting  # noqa: E402
from rlkit.envs.gridworld import GridWorld  # noqa: E402


@pytest.fixture
def solved():
    world = GridWorld()
    return world, dp.value_iteration(world.mdp)


def test_gridworld_heatmap_has_values_walls_and_arrows(solved):
    world, result = solved
    figure = plotting.plot_gridworld_values(world, result.values, result.policy, title="V*")
    try:
        assert isinstance(figure, Figure)
        axes = figure.axes[0]
        texts = [t.get_text() for t in axes.texts]
        assert "0.85" in texts and "1.00" in texts and "-1.00" in texts and "wall" in texts
        # One arrow per ordinary cell: 11 cells - 2 exits.
        assert sum(1 for t in axes.texts if t.get_text() == "" and t.arrow_patch) == 9
        assert axes.get_title() == "V*"
        # Slide coordinates: x = 1..4 left to right, y = 1..3 bottom to top.
        assert axes.get_ylim()[0] < axes.get_ylim()[1]
        figure.canvas.draw()
    finally:
        plt.close(figure)


def test_gridworld_heatmap_on_given_axes_without_policy(solved):
    world, result = solved
    figure, (left, right) = plt.subplots(1, 2)
    try:
        returned = plotting.plot_gridworld_values(world, result.values, ax=right)
        assert returned is figure
        assert len(right.texts) == 11 + 1  # values and the wall label
        assert not left.texts
    finally:
        plt.close(figure)


def test_gridworld_heatmap_rejects_wrong_shapes(solved):
    world, result = solved
    with pytest.raises(ValueError, match=r"values must have shape \(12,\)"):
        plotting.plot_gridworld_values(world, result.values[:-1])
    with pytest.raises(ValueError, match="policy must be deterministic"):
        plotting.plot_gridworld_values(world, result.values, np.ones((12, 4)) / 4)


def test_convergence_plot_log_axis_and_several_curves():
    world = GridWorld()
    figure = plotting.plot_convergence(dp.value_iteration(world.mdp).residuals, label="VI")
    try:
        axes = figure.axes[0]
        plotting.plot_convergence(dp.q_value_iteration(world.mdp).residuals, label="Q-VI", ax=axes)
        assert axes.get_yscale() == "log"
        assert [line.get_label() for line in axes.lines] == ["VI", "Q-VI"]
        figure.canvas.draw()
    finally:
        plt.close(figure)


def test_convergence_plot_handles_exact_zero_residuals():
    world = GridWorld(noise=0.0, gamma=1.0)
    figure = plotting.plot_convergence(dp.value_iteration(world.mdp, horizon=20).residuals)
    try:
        figure.canvas.draw()  # zeros are hidden, not an error on a log axis
    finally:
        plt.close(figure)


def test_learning_curve_raw_and_moving_average():
    returns = np.random.default_rng(0).normal(size=100)
    figure = plotting.plot_learning_curve(returns, window=10)
    try:
        raw, average = figure.axes[0].lines
        assert len(raw.get_xdata()) == 100 and len(average.get_xdata()) == 91
        np.testing.assert_allclose(average.get_ydata()[0], returns[:10].mean())
    finally:
        plt.close(figure)
    short = plotting.plot_learning_curve(returns[:5], window=10)  # too short to average
    assert len(short.axes[0].lines) == 1
    plt.close(short)
    with pytest.raises(ValueError, match="window must be >= 1"):
        plotting.plot_learning_curve(returns, window=0)


def test_state_values_heatmap_and_bars():
    for figure in (
        plotting.plot_state_values(np.arange(16.0), shape=(4, 4), title="lake"),
        plotting.plot_state_values(np.arange(7.0)),
    ):
        assert isinstance(figure, Figure)
        plt.close(figure)
    with pytest.raises(ValueError, match=r"shape \(3, 3\) does not hold 16 states"):
        plotting.plot_state_values(np.arange(16.0), shape=(3, 3))


def test_no_plt_show_in_the_library():
    import rlkit.cli
    import rlkit.cli_solve
    import rlkit.cli_train

    for module in (plotting, rlkit.cli, rlkit.cli_solve, rlkit.cli_train):
        assert not re.search(r"^\s*(plt|pyplot)\.show\(", inspect.getsource(module), re.M)


def test_reliability_diagram_puts_a_calibrated_predictor_on_the_diagonal():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=5_000)
    figure = plotting.plot_reliability(p, p, n_bins=10)
    points = figure.axes[0].collections[0].get_offsets()
    assert len(points) == 10
    assert np.allclose(points[:, 0], points[:, 1])  # mean predicted == mean actual per bin
    over_confident = plotting.plot_reliability(p, 0.5 + 0.5 * (p - 0.5), n_bins=5)
    flat = over_confident.axes[0].collections[0].get_offsets()
    assert np.all(np.abs(flat[:, 1] - 0.5) < np.abs(flat[:, 0] - 0.5))
    plt.close("all")


def test_reliability_diagram_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="one length"):
        plotting.plot_reliability([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="n_bins"):
        plotting.plot_reliability([0.1], [0.1], n_bins=0)
