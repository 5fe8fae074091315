"""rlkit.agents.alphazero and alphago: targets and losses against the solver, short seeded runs.

Value targets are checked on solved self-play games (they must equal V* along a game both
sides play perfectly after a blunder); the losses on known values and the legal mask; the
trainers on short seeded runs (reproducible, the replacement pieces really used). The long
learning runs, with the figures of the closing note, are marked slow.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch

from rlkit.agents import alphago, alphazero
from rlkit.agents.selfplay import augment, evaluate_player, greedy_table, value_targets
from rlkit.cli import main
from rlkit.games import TicTacToe, solve


@pytest.fixture(scope="module")
def solution():
    return solve(TicTacToe())


TINY = alphazero.AlphaZeroConfig(n_games=6, games_per_round=3, updates_per_round=2,
                                 n_simulations=5, batch_size=16, eval_interval=3)


# --------------------------------------------------------------------------------------------
# value_targets against the solver
# --------------------------------------------------------------------------------------------


def test_value_targets_are_from_the_movers_view_and_draws_are_zero():
    np.testing.assert_array_equal(value_targets(1, [1, -1, 1, -1, 1]), [1, -1, 1, -1, 1])
    np.testing.assert_array_equal(value_targets(-1, [1, -1, 1, -1]), [-1, 1, -1, 1])
    np.testing.assert_array_equal(value_targets(0, [1, -1, 1]), [0, 0, 0])


@pytest.mark.parametrize("blunder", [1, 3])
def test_value_targets_equal_v_star_on_a_solved_self_play_game(solution, blunder):
    """Both sides play perfectly except one blunder (the worst move) by O at move ``blunder``."""
    game = solution.game
    state, states = game.initial_state(), []
    while not state.terminal:
        states.append(state)
        q = solution.q[solution.index[state]]
        if len(states) - 1 == blunder:
            action = int(np.nanargmin(q))  # the worst move there is
        else:
            action = solution.optimal_actions(state)[0]
        state = game.next_state(state, action)
    targets = value_targets(state.winner, [s.player for s in states])
    exact = np.array([solution.value(s) for s in states])
    after = blunder + 1  # from the blunder on, perfect play realises V*
    np.testing.assert_array_equal(targets[after:], exact[after:])
    assert state.winner != 0  # the blunder lost the game


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def test_alphazero_loss_known_value_and_the_legal_mask():
    logits = torch.tensor([[1.0, 2.0, 50.0], [0.0, 0.0, 0.0]], requires_grad=True)
    values = torch.tensor([0.5, -0.5], requires_grad=True)
    targets = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])
    z = torch.tensor([1.0, -1.0])
    legal = torch.tensor([[True, True, False], [True, True, True]])
    loss = alphazero.alphazero_loss(logits, values, targets, z, legal)
    log_p0 = torch.log_softmax(torch.tensor([1.0, 2.0]), 0)
    expected = (0.25 + 0.25) / 2 + (-(0.25 * log_p0[0] + 0.75 * log_p0[1]) + np.log(3)) / 2
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-6)
    loss.backward()
    assert logits.grad[0, 2] == 0  # an illegal logit gets no gradient
    changed = logits.detach().clone()
    changed[0, 2] = -7.0
    changed_loss = alphazero.alphazero_loss(changed, values.detach(), targets, z, legal)
    assert float(changed_loss) == pytest.approx(float(loss.detach()))
    with pytest.raises(ValueError):
        alphazero.alphazero_loss(logits, values, targets[:1], z, legal)


def test_selfplay_pg_loss_pushes_up_winning_moves_and_down_losing_ones():
    log_probs = torch.tensor([-1.0, -1.0, -1.0], requires_grad=True)
    loss = alphago.selfplay_pg_loss(log_probs, torch.tensor([1.0, -1.0, 0.0]))
    assert float(loss.detach()) == pytest.approx(0.0)
    loss.backward()
    assert log_probs.grad.tolist() == pytest.approx([-1 / 3, 1 / 3, 0.0])


def test_augment_gives_each_symmetric_position_with_its_q_star(solution):
    game = solution.game
    rows = solution.critical[:20]
    states = [solution.states[i] for i in rows]
    features = np.stack([game.encode(s) for s in states])
    q = np.nan_to_num(solution.q[rows], nan=-9.0)
    legal = np.stack([game.legal_mask(s) for s in states])
    big_features, big_q, big_legal = augment(features, q, legal, game)
    assert big_features.shape == (8 * 20, 18) and big_q.shape == (8 * 20, 9)
    for row in range(len(big_features)):  # each copy is a real position with its own Q*
        planes = big_features[row].reshape(2, 9)
        player = states[row % 20].player
        board = tuple(int(v) for v in (planes[0] - planes[1]) * player)
        j = solution.index[type(states[0])(board, player)]
        np.testing.assert_array_equal(big_q[row], np.nan_to_num(solution.q[j], nan=-9.0))
        np.testing.assert_array_equal(big_legal[row], game.legal_mask(solution.states[j]))


# --------------------------------------------------------------------------------------------
# Trainers: short seeded runs
# --------------------------------------------------------------------------------------------


def test_alphazero_is_reproducible_and_uses_the_replacement_pieces(solution):
    calls = {"search": 0, "visit": 0, "targets": 0, "loss": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    from rlkit.mcts import mcts_search, visit_policy

    first = alphazero.train(TINY, seed=3, solution=solution,
                            search_fn=counted("search", mcts_search),
                            visit_policy_fn=counted("visit", visit_policy),
                            value_targets_fn=counted("targets", value_targets),
                            loss_fn=counted("loss", alphazero.alphazero_loss))
    again = alphazero.train(TINY, seed=3, solution=solution)
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_array_equal(first.winners, again.winners)
    assert calls["search"] == calls["visit"] == first.game_lengths.sum()
    assert calls["targets"] == 6 and calls["loss"] == 4
    assert first.evaluation_games == [3, 6] and len(first.evaluations) == 2
    assert 0 <= first.evaluations[-1].optimal_rate <= 1


def test_value_target_mix_weighs_the_outcome_against_the_search_value():
    """m = 1: the games' outcomes are not used; m = 0: only they are; m = 0.5: both count."""
    def garbage(winner, players):
        return np.full(len(players), 7.0)

    def losses(mix, **pieces):
        config = dataclasses.replace(TINY, value_target_mix=mix, eval_interval=0)
        return alphazero.train(config, seed=0, **pieces).losses

    np.testing.assert_array_equal(losses(1.0), losses(1.0, value_targets_fn=garbage))
    assert not np.array_equal(losses(0.0), losses(0.0, value_targets_fn=garbage))
    assert not np.array_equal(losses(0.5), losses(0.0))
    assert not np.array_equal(losses(0.5), losses(1.0))


def test_alphazero_config_refuses_bad_settings():
    with pytest.raises(ValueError, match="n_simulations must be >= 1"):
        alphazero.AlphaZeroConfig(n_simulations=0)
    with pytest.raises(ValueError, match="noise_fraction must be in"):
        alphazero.AlphaZeroConfig(noise_fraction=1.5)
    with pytest.raises(ValueError, match=r"value_target_mix must be in \[0, 1\]"):
        alphazero.AlphaZeroConfig(value_target_mix=-0.1)
    with pytest.raises(ValueError, match="unknown game"):
        alphazero.AlphaZeroConfig(game="go")


def test_evaluate_player_of_the_solver_is_perfect(solution):
    perfect = evaluate_player(solution, lambda s: solution.optimal_actions(s)[0])
    assert perfect == (1.0, 1.0, 0, 0)
    uniform = greedy_table(solution, lambda x: torch.zeros(len(x), 9))  # the first legal move
    naive = evaluate_player(solution, uniform)
    assert naive.optimal_rate < 0.9 and naive.lost_as_o > 0


def test_alphago_stages_run_and_report_exact_figures(solution):
    config = alphago.AlphaGoConfig(expert_games=40, sl_epochs=3, rl_iterations=3, rl_games=4,
                                   value_games=30, value_epochs=2)
    history = alphago.train(config, seed=0, solution=solution)
    again = alphago.train(config, seed=0, solution=solution)
    np.testing.assert_array_equal(history.rl_losses, again.rl_losses)
    assert 0 <= history.sl_accuracy <= 1 and 0 <= history.sl_optimal_rate <= 1
    assert -1 <= history.rl_vs_sl <= 1
    assert history.value_rmse_policy >= 0 and history.value_rmse_optimal >= 0
    evaluator = history.evaluator(mixing=0.5)
    leaf = evaluator(solution.states[1], np.random.default_rng(0))
    assert leaf.prior.sum() == pytest.approx(1) and -1 <= leaf.network_value <= 1


@pytest.mark.slow
def test_alphago_rl_beats_sl_and_the_value_net_learns_the_policys_value(solution):
    history = alphago.train(alphago.AlphaGoConfig(), seed=0, solution=solution)
    assert 0.4 < history.sl_accuracy < 0.95  # a flawed expert: not every move is learnable
    assert history.rl_vs_sl > 0
    assert history.value_rmse_policy < history.value_rmse_optimal  # V^rho, not V*


@pytest.mark.slow
def test_alphazero_default_run_plays_well(solution):
    history = alphazero.train(alphazero.AlphaZeroConfig(), seed=0, solution=solution)
    raw = history.evaluations[-1]  # the closing note's figures (seed 0: 97.2 %, 99.1 %)
    assert raw.optimal_rate >= 0.97 and raw.lost_as_x == 0
    player = alphazero.search_player(solution.game, history.predict, 25)
    searched = evaluate_player(solution, player, critical_only=True)
    assert searched.critical_rate >= 0.99 and searched.lost_as_x == searched.lost_as_o == 0


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_solve_tictactoe_prints_the_counts_and_q_star(capsys):
    assert main(["solve", "tictactoe", "--moves", "0,4,1"]) == 0
    out = capsys.readouterr().out
    assert "5,478 reachable states, 4,520 positions to move in, 3,191 critical" in out
    assert "O to move; V* = +0 for O" in out
    assert "2: +0*" in out and "3: -1" in out


@pytest.mark.slow
def test_cli_train_alphazero_prints_exact_figures(capsys, tmp_path):
    plot = tmp_path / "az.png"
    code = main(["train", "alphazero", "--game", "tictactoe", "--games", "10",
                 "--simulations", "2", "--no-progress", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0 and plot.exists()
    assert "raw network" in out and "with 2 simulations per move" in out


def test_cli_play_a_game_from_stdin(capsys):
    from rlkit.cli import build_parser
    from rlkit.cli_games import run_play

    args = build_parser().parse_args(["play", "tictactoe", "--agent", "perfect"])
    assert run_play(args, stdin=io.StringIO("x\n4\n4\n2\n3\n7\n8\n")) == 0
    out = capsys.readouterr().out
    assert "not a number" in out and "4 is not legal here" in out
    assert "a draw" in out or "the agent won" in out
    assert "you won" not in out  # the perfect agent never loses


@pytest.mark.parametrize(("argv", "message"), [
    (["solve", "chess"], "unknown environment 'chess'"),
    (["solve", "tictactoe", "--moves", "4,4"], "move '4': action 4 is illegal"),
    (["solve", "tictactoe", "--noise", "0.1"], "--noise does not apply to a game"),
    (["solve", "connect4"], "too many to solve exactly"),
    (["solve", "gridworld", "--moves", "1"], "--moves applies to games only"),
    (["train", "alphazero", "--game", "go"], "unknown --game 'go'"),
    (["train", "alphazero", "--steps", "10"], "--steps do(es) not apply to alphazero"),
    (["train", "alphazero", "--games", "0"], "n_games must be >= 1"),
    (["train", "dqn", "--games", "5"], "--games applies to alphazero and alphago only"),
    (["play", "chess"], "unknown game 'chess'"),
    (["play", "tictactoe", "--simulations", "0"], "--simulations must be >= 1"),
])
def test_cli_bad_input_exits_2_before_any_work(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_plots_of_notebook_08(solution):
    import matplotlib.pyplot as plt

    from rlkit.plotting_games import (
        plot_game_learning_curve,
        plot_lambda_sweep,
        plot_quality_vs_simulations,
    )

    history = alphazero.train(TINY, seed=0, solution=solution)
    figure = plot_game_learning_curve(history)
    lines = figure.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), history.evaluation_seconds)
    np.testing.assert_allclose(lines[0].get_ydata(),
                               [100 * e.optimal_rate for e in history.evaluations])
    assert [list(line.get_ydata()) for line in figure.axes[1].get_lines()] == [
        [e.lost_as_x for e in history.evaluations], [e.lost_as_o for e in history.evaluations]]
    quality = plot_quality_vs_simulations([4, 16], {"UCT": [0.5, 0.75]})
    assert list(quality.axes[0].get_lines()[0].get_ydata()) == [50.0, 75.0]
    sweep = plot_lambda_sweep([0.0, 1.0], {"25": [0.9, 0.8]})
    assert list(sweep.axes[0].get_lines()[0].get_xdata()) == [0.0, 1.0]
    for fig in (figure, quality, sweep):
        plt.close(fig)
