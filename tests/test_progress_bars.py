"""A training run that stops at its target ends its notebook progress bar full and green.

tqdm's notebook bar turns red ("danger") when it is closed short of its total, which is what an
early stop at the target return looked like; and its widget keeps the maximum it was made with
unless it is set too, so a green "100%" bar was drawn about a third full. The trainers'
``tqdm.auto`` bar is replaced by the notebook bar (ipywidgets renders nothing here, but the bar
keeps its widget) and read after the run: the widget's value against its maximum, and its
colour. The interrupted run keeps its red, partial bar; a run past its budget (REINFORCE's last
episode) keeps a total.
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("ipywidgets")
import tqdm.auto  # noqa: E402
from test_rlkit_deep_agents import TINY_DQN, TINY_REINFORCE, Bandit  # noqa: E402
from tqdm.notebook import tqdm as notebook_tqdm  # noqa: E402

from rlkit.agents import a2c, dqn, ppo, reinforce  # noqa: E402


@pytest.fixture
def bars(monkeypatch) -> list[notebook_tqdm]:
    made: list[notebook_tqdm] = []

    class Recorded(notebook_tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorded)
    return made


def style(bar: notebook_tqdm) -> str:
    return bar.container.children[1].bar_style


def drawn(bar: notebook_tqdm) -> tuple[float, float]:
    """The notebook widget's value and maximum: what the student sees filled, of what."""
    widget = bar.container.children[1]
    return widget.value, widget.max


def test_dqn_bar_ends_green_when_the_target_stops_it_early(bars):
    config = dataclasses.replace(TINY_DQN, eval_interval=100, target_return=1.0)
    history = dqn.train(config, seed=0, env=Bandit, progress=True)
    assert history.final_evaluation.step < config.total_steps  # it did stop early
    (bar,) = bars
    assert (bar.n, bar.total) == (history.final_evaluation.step,) * 2
    assert drawn(bar) == (history.final_evaluation.step,) * 2
    assert style(bar) == "success"


def test_reinforce_bar_ends_green_when_the_target_stops_it_early(bars):
    config = dataclasses.replace(TINY_REINFORCE, eval_interval=200, target_return=0.9)
    history = reinforce.train(config, seed=0, env=Bandit, progress=True)
    assert history.final_evaluation.step < config.total_steps
    (bar,) = bars
    assert bar.n == bar.total == history.final_evaluation.step
    assert drawn(bar) == (history.final_evaluation.step,) * 2
    assert style(bar) == "success"


def test_a2c_bar_ends_green_when_the_target_stops_it_early(bars):
    config = a2c.A2CConfig(total_steps=20_000, n_envs=4, hidden_sizes=(8,), learning_rate=5e-3,
                           optimizer="adam", eval_interval=200, eval_episodes=2,
                           target_return=1.0)
    history = a2c.train(config, seed=0, env=Bandit, progress=True)
    assert history.final_evaluation.step < config.total_steps
    (bar,) = bars
    assert bar.n == bar.total == history.final_evaluation.step
    assert drawn(bar) == (history.final_evaluation.step,) * 2
    assert style(bar) == "success"


def test_ppo_bar_ends_green_when_the_target_stops_it_early(bars):
    config = ppo.PPOConfig(total_steps=20_000, n_envs=4, n_steps=16, n_minibatches=2,
                           hidden_sizes=(8,), learning_rate=5e-3, eval_interval=200,
                           eval_episodes=2, target_return=1.0)
    history = ppo.train(config, seed=0, env=Bandit, progress=True)
    assert history.final_evaluation.step < config.total_steps
    (bar,) = bars
    assert bar.n == bar.total == history.final_evaluation.step
    assert drawn(bar) == (history.final_evaluation.step,) * 2
    assert style(bar) == "success"


def test_an_interrupted_run_still_ends_red(bars):
    def interrupt(step, start, end, decay_steps):
        if step == 50:
            raise KeyboardInterrupt
        return 1.0

    with pytest.raises(KeyboardInterrupt):
        dqn.train(TINY_DQN, seed=0, env=Bandit, progress=True, epsilon_fn=interrupt)
    assert style(bars[0]) == "danger"
    value, maximum = drawn(bars[0])
    assert (value, maximum) == (bars[0].n, TINY_DQN.total_steps)
    assert 0 < value < maximum  # partial: drawn where it stopped


def test_a_bar_run_past_its_budget_ends_full_with_its_total(bars):
    """REINFORCE collects whole episodes, so its last one ends past the budget (was "3042/?")."""
    config = dataclasses.replace(TINY_REINFORCE, total_steps=300, batch_size=100)
    history = reinforce.train(config, seed=0, env="CartPole-v1", progress=True)
    assert history.episode_end_steps[-1] > config.total_steps  # it did run past
    (bar,) = bars
    assert bar.n == bar.total == config.total_steps
    assert "/?" not in str(bar)
    assert drawn(bar) == (config.total_steps,) * 2
    assert style(bar) == "success"
