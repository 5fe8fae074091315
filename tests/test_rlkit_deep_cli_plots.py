"""``python -m rlkit train``, the history plots and the episode animation."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import rlkit  # noqa: E402
from rlkit import plotting  # noqa: E402
from rlkit.agents import dqn, reinforce  # noqa: E402
from rlkit.animation import EpisodeAnimation, render_episode  # noqa: E402
from rlkit.cli import main  # noqa: E402


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def dqn_history() -> dqn.DQNHistory:
    config = dataclasses.replace(
        dqn.DQNConfig(), total_steps=1_200, learning_starts=200, eval_interval=400, eval_episodes=2
    )
    return dqn.train(config, seed=0)


# ------------------------------------------------------------------------------ CLI


def test_train_dqn_smoke(capsys, tmp_path):
    target = tmp_path / "dqn.png"
    code, out, _ = run(
        capsys, "train", "dqn", "--env", "CartPole-v1", "--seed", "0", "--steps", "600",
        "--eval-interval", "300", "--eval-episodes", "2", "--plot", str(target), "--no-progress",
    )  # fmt: skip
    assert code == 0
    assert "DQN on CartPole-v1, seed 0, budget 600 env steps" in out
    assert re.search(r"^\s+300\s+\d+\.\d\s+\d+\.\d", out, re.M)
    assert re.search(r"final evaluation after 600 steps: \d+\.\d \+/- \d+\.\d", out)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_reinforce_smoke_with_progress_bar_and_animation(capsys, tmp_path):
    gif = tmp_path / "episode.gif"
    code, out, err = run(
        capsys, "train", "reinforce", "--steps", "400", "--eval-episodes", "1",
        "--baseline", "value", "--animation", str(gif),
    )  # fmt: skip
    assert code == 0
    assert "REINFORCE on CartPole-v1" in out and "baseline='value'" in out
    assert "final evaluation after" in out
    assert "REINFORCE" in err  # the tqdm bar goes to stderr
    assert gif.read_bytes()[:6] == b"GIF89a" and f"wrote {gif}" in out


@pytest.mark.parametrize(
    ("agent", "steps", "interval", "plots", "pendulum_steps", "pendulum_preset", "pendulum_done"),
    [
        # A2C: 64 steps per update; Pendulum-v1's preset has gamma 0.9.
        ("a2c", 768, 384, ("a2c.png",), 320, "gamma=0.9,", 320),
        # PPO: 256 steps per update; Pendulum-v1's preset takes rollouts of 4 x 1024 steps.
        ("ppo", 512, 256, ("ppo.png", "ppo-diagnostics.png"), 100, "n_steps=1024,", 4096),
    ],
)
def test_train_on_cartpole_and_pendulum(capsys, tmp_path, agent, steps, interval, plots,
                                        pendulum_steps, pendulum_preset, pendulum_done):
    name, target = agent.upper(), tmp_path / f"{agent}.png"
    code, out, _ = run(
        capsys, "train", agent, "--steps", str(steps), "--eval-interval", str(interval),
        "--eval-episodes", "2", "--plot", str(target), "--no-progress",
    )  # fmt: skip
    assert code == 0
    assert f"{name} on CartPole-v1, seed 0, budget {steps} env steps" in out
    assert re.search(rf"^\s+{interval}\s+\d+\.\d\s+\d+\.\d", out, re.M)
    assert re.search(rf"final evaluation after {steps} steps: \d+\.\d \+/- \d+\.\d", out)
    for path in (tmp_path / plot for plot in plots):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {path}" in out
    code, out, err = run(capsys, "train", agent, "--env", "Pendulum-v1", "--steps",
                         str(pendulum_steps), "--eval-episodes", "1", "--seed", "1")
    assert code == 0
    assert f"{name} on Pendulum-v1, seed 1" in out and pendulum_preset in out
    assert re.search(rf"final evaluation after {pendulum_done} steps: -\d+\.\d", out)
    assert name in err  # the progress bar


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "a2c", "--baseline", "mean"], "--baseline applies to reinforce only"),
        (["train", "a2c", "--no-target-network"], "apply to dqn only"),
        (["train", "a2c", "--env", "FrozenLake-v1", "--steps", "10"], "Box observation space"),
        (["train", "dqn", "--steps", "0"], "total_steps must be >= 1"),
        (["train", "dqn", "--baseline", "mean"], "--baseline applies to reinforce only"),
        (["train", "reinforce", "--no-replay"], "apply to dqn only"),
        (["train", "dqn", "--env", "NoSuchEnv-v0"], "unknown environment 'NoSuchEnv-v0'"),
        (["train", "dqn", "--env", "Pendulum-v1", "--steps", "10"], "Discrete action space"),
        (["train", "dqn", "--seed", "-1"], "--seed must be >= 0"),
        (["train", "sac"], "invalid choice"),
        (["train", "ppo", "--env", "FrozenLake-v1", "--steps", "10"], "PPO needs a Box"),
        (["train", "ppo", "--baseline", "mean"], "--baseline applies to reinforce only"),
        (["train", "dqn", "--steps", "10", "--animation", "x.mp4"], "must end in .gif or .html"),
    ],
)
def test_train_bad_input_exits_2(capsys, argv, message):
    code, _, err = run(capsys, *argv, "--no-progress")
    assert code == 2
    assert re.search(message, err), err


def test_train_help_and_solve_still_listed(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    for text in ("--steps", "--plot", "--seed", "--env", "--no-replay", "--baseline", "examples:",
                 "a2c", "ppo", "Pendulum-v1"):
        assert text in out
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "solve" in out and "train" in out


def test_python_dash_m_train():
    completed = subprocess.run(
        [sys.executable, "-m", "rlkit", "train", "dqn", "--steps", "300", "--eval-episodes", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "final evaluation after 300 steps" in completed.stdout


# ------------------------------------------------------------------------------ plots


def test_training_curve_draws_episodes_average_and_evaluations(dqn_history):
    figure = plotting.plot_training_curve(dqn_history, window=5)
    try:
        assert isinstance(figure, Figure)
        axes = figure.axes[0]
        labels = [line.get_label() for line in axes.lines]
        assert labels == ["episode return", "moving average (5)", "evaluation mean"]
        evaluation = axes.lines[2]
        assert evaluation.get_xdata().tolist() == [400, 800, 1200]
        np.testing.assert_allclose(
            evaluation.get_ydata(), [e.mean for e in dqn_history.evaluations]
        )
        assert axes.collections  # the +/- std band
        figure.canvas.draw()
    finally:
        plt.close(figure)


def test_curves_of_several_runs_share_an_axes(dqn_history):
    figure, axes = plt.subplots()
    try:
        plotting.plot_training_curve(dqn_history, label="seed 0", show_episodes=False, ax=axes)
        plotting.plot_training_curve(dqn_history, label="again", show_episodes=False, ax=axes)
        assert [line.get_label() for line in axes.lines][::2] == [
            "seed 0: moving average (20)",
            "again: moving average (20)",
        ]
    finally:
        plt.close(figure)
    with pytest.raises(ValueError, match="window"):
        plotting.plot_training_curve(dqn_history, window=0)


def test_loss_curve_and_history_panels(dqn_history):
    figure = plotting.plot_loss_curve(dqn_history, window=50, log_scale=True)
    try:
        axes = figure.axes[0]
        assert axes.get_yscale() == "log" and len(axes.lines) == 2
        assert len(axes.lines[0].get_xdata()) == len(dqn_history.losses)
    finally:
        plt.close(figure)
    both = plotting.plot_history(dqn_history, title="DQN")
    try:
        assert len(both.axes) == 2 and both._suptitle.get_text() == "DQN"
        both.canvas.draw()
    finally:
        plt.close(both)


def test_history_plot_of_reinforce_with_negative_losses():
    config = dataclasses.replace(
        reinforce.ReinforceConfig(), total_steps=600, batch_size=200, eval_episodes=1
    )
    history = reinforce.train(config, seed=0)
    figure = plotting.plot_history(history)
    try:
        assert figure.axes[1].get_yscale() == "linear"  # a surrogate loss can be negative
        figure.canvas.draw()
    finally:
        plt.close(figure)


# ------------------------------------------------------------------------------ animation


def test_render_episode_of_a_trained_policy(dqn_history, tmp_path):
    animation = render_episode("CartPole-v1", dqn_history.act, seed=1, max_steps=30)
    assert isinstance(animation, EpisodeAnimation)
    assert animation.frames.dtype == np.uint8 and animation.frames.shape[1:] == (200, 300, 3)
    assert len(animation) == 1 + animation.n_steps // 2 + animation.n_steps % 2
    html = animation._repr_html_()
    assert html.startswith("<figure") and "data:image/gif;base64," in html
    assert "return" in html
    gif = animation.save(tmp_path / "run.gif")
    assert gif.read_bytes()[:6] == b"GIF89a"
    page = animation.save(tmp_path / "run.html")
    assert "data:image/gif;base64," in page.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=".gif or .html"):
        animation.save(tmp_path / "run.mp4")


def test_render_episode_full_size_and_errors():
    import gymnasium as gym

    animation = render_episode(
        "CartPole-v1", lambda obs: 0, seed=0, every=1, scale=1.0, max_steps=3
    )
    assert animation.frames.shape == (4, 400, 600, 3)
    with pytest.raises(ValueError, match="rgb_array"):
        render_episode(lambda: gym.make("CartPole-v1"), lambda obs: 0, seed=0)
    with pytest.raises(ValueError, match="scale"):
        render_episode("CartPole-v1", lambda obs: 0, seed=0, scale=0.0)


def test_rendering_prints_nothing_without_a_display():
    """pygame's greeting and SDL's display warnings would pollute a notebook (and stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)
    env.pop("PYGAME_HIDE_SUPPORT_PROMPT", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from rlkit.animation import render_episode\n"
            "a = render_episode('CartPole-v1', lambda o: 0, seed=0, max_steps=5)\n"
            "assert len(a.to_gif()) > 100",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "" and completed.stderr == ""


def test_package_exports():
    for name in ("agents", "buffers", "nets", "schedules", "evaluation", "animation"):
        assert hasattr(rlkit, name)
    assert rlkit.ReplayBuffer is rlkit.buffers.ReplayBuffer
