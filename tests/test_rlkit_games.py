"""rlkit.games: the rules (immutable states, legal masks, symmetries) and the exact solver."""

from __future__ import annotations

import numpy as np
import pytest

from rlkit.games import ConnectK, GameState, TicTacToe, make_game, solve


@pytest.fixture(scope="module")
def solution():
    return solve(TicTacToe())


def play(game, moves):
    state = game.initial_state()
    for action in moves:
        state = game.next_state(state, action)
    return state


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


def test_a_move_leaves_the_state_unchanged_and_alternates_the_player():
    game = TicTacToe()
    start = game.initial_state()
    after = game.next_state(start, 4)
    assert start.board == (0,) * 9 and start.player == 1
    assert after.board[4] == 1 and after.player == -1 and not after.terminal
    with pytest.raises(AttributeError):
        after.player = 1  # frozen
    assert hash(play(game, [4, 0])) == hash(play(game, [4, 0]))


def test_illegal_moves_raise_a_message_that_says_what_is_legal():
    game = TicTacToe()
    state = play(game, [4])
    with pytest.raises(ValueError, match=r"action 4 is illegal here \(legal: \(0, 1, 2, 3, 5"):
        game.next_state(state, 4)
    with pytest.raises(ValueError, match=r"action must be an int in \[0, 9\)"):
        game.next_state(state, 9)
    won = play(game, [0, 3, 1, 4, 2])
    with pytest.raises(ValueError, match="the game is over"):
        game.next_state(won, 5)


def test_a_win_is_a_loss_for_the_player_to_move_and_a_draw_is_zero():
    game = TicTacToe()
    won = play(game, [0, 3, 1, 4, 2])  # X: top row
    assert won.terminal and won.winner == 1 and won.player == -1
    assert game.outcome(won) == -1  # O is to move and has lost
    o_won = play(game, [0, 3, 1, 4, 8, 5])  # O: middle row
    assert o_won.winner == -1 and game.outcome(o_won) == -1
    draw = play(game, [0, 4, 8, 1, 7, 6, 2, 5, 3])
    assert draw.terminal and draw.winner == 0 and game.outcome(draw) == 0
    assert not game.legal_mask(draw).any() and game.legal_actions(draw) == ()
    with pytest.raises(ValueError, match="terminal"):
        game.outcome(play(game, [4]))


def test_every_line_wins_and_connect_four_has_69_lines():
    game = TicTacToe()
    for line in game.lines:  # X plays the line, O two cells off it
        others = [c for c in range(9) if c not in line]
        state = play(game, [line[0], others[0], line[1], others[1], line[2]])
        assert state.terminal and state.winner == 1
    assert len(game.lines) == 8
    assert len(ConnectK(6, 7, 4).lines) == 69


def test_connect_k_stones_fall_and_full_columns_are_illegal():
    game = ConnectK(3, 4, 3)
    state = play(game, [1, 1, 1])
    assert state.board[2 * 4 + 1] == 1 and state.board[1 * 4 + 1] == -1
    assert state.board[1] == 1  # the top cell
    assert game.legal_actions(state) == (0, 2, 3)
    assert game.legal_mask(state).tolist() == [True, False, True, True]
    with pytest.raises(ValueError, match="illegal"):
        game.next_state(state, 1)
    vertical = play(game, [0, 1, 0, 1, 0])
    assert vertical.winner == 1


def _lines_held(game, board, player):
    """The lines of ``game`` all of whose cells hold ``player``'s stones (the plain check)."""
    return [line for line in game.lines if all(board[i] == player for i in line)]


@pytest.mark.parametrize("game", [TicTacToe(), ConnectK(4, 5, 3)], ids=repr)
def test_board_info_and_the_win_test_agree_with_the_board(game):
    """Random playouts: the bit sets, empty cells, masks and each move's win against the board."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        state = game.initial_state()
        while not state.terminal:
            info = game.board_info(state.board)
            assert info.x_stones == sum(1 << i for i, v in enumerate(state.board) if v == 1)
            assert info.o_stones == sum(1 << i for i, v in enumerate(state.board) if v == -1)
            assert info.empty == tuple(i for i, v in enumerate(state.board) if v == 0)
            np.testing.assert_array_equal(info.legal_mask, game.legal_mask(state))
            np.testing.assert_allclose(info.uniform, info.legal_mask / info.legal_mask.sum())
            with pytest.raises(ValueError, match="read-only"):
                info.legal_mask[0] = not info.legal_mask[0]
            mask = game.legal_mask(state)
            mask[:] = False  # legal_mask hands out a copy: the remembered one stays
            assert game.legal_mask(state).any()
            mover = state.player
            state = game.next_state(state, int(rng.choice(game.legal_actions(state))))
            assert (state.winner == mover) == bool(_lines_held(game, state.board, mover))


def test_board_info_forgets_all_at_once_past_its_bound(monkeypatch):
    from rlkit.games import rules

    monkeypatch.setattr(rules, "_BOARDS_KEPT", 3)
    game = TicTacToe()
    boards = [play(TicTacToe(), moves).board for moves in ([], [0], [1], [2], [3])]
    infos = [game.board_info(board) for board in boards]
    assert len(game._boards) == 2  # the 4th board cleared the three before it
    assert game.board_info(boards[4]) is infos[4]
    again = game.board_info(boards[0])  # forgotten, worked out again: the same answer
    assert again is not infos[0] and again[:3] == infos[0][:3]


def test_encode_is_from_the_movers_view():
    game = TicTacToe()
    x_to_move = play(game, [4, 0])
    o_to_move = play(game, [4])
    planes = game.encode(x_to_move).reshape(2, 9)
    assert planes[0, 4] == 1 and planes[1, 0] == 1  # X's stones first: X is to move
    planes = game.encode(o_to_move).reshape(2, 9)
    assert planes[0].sum() == 0 and planes[1, 4] == 1  # O to move: X's stone is the opponent's


def test_tictactoe_has_8_symmetries_and_connect_k_2():
    game = TicTacToe()
    symmetries = game.symmetries()
    assert len(symmetries) == 8
    assert len({tuple(s.cells) for s in symmetries}) == 8
    assert np.array_equal(symmetries[0].cells, np.arange(9))
    assert all(sorted(s.cells) == list(range(9)) for s in symmetries)
    lines = {frozenset(line) for line in game.lines}
    for sym in symmetries:  # a symmetry maps lines onto lines
        inverse = np.argsort(sym.cells)
        assert {frozenset(int(inverse[c]) for c in line) for line in game.lines} == lines
    connect = ConnectK(4, 5, 3)
    assert [s.actions.tolist() for s in connect.symmetries()] == [[0, 1, 2, 3, 4],
                                                                 [4, 3, 2, 1, 0]]
    assert len(KInARowRectangle().symmetries()) == 4


def KInARowRectangle():  # noqa: N802
    from rlkit.games import KInARow

    return KInARow(3, 4, 3, gravity=False, name="3x4")


def test_make_game_names_and_bad_arguments():
    assert make_game("tictactoe").n_actions == 9
    game = make_game("connect3-4x5")
    assert (game.rows, game.cols, game.k) == (4, 5, 3)
    with pytest.raises(ValueError, match="unknown game 'chess'; use tictactoe"):
        make_game("chess")
    with pytest.raises(ValueError, match="k = 5 cannot fit"):
        ConnectK(3, 4, 5)
    with pytest.raises(ValueError, match="rows must be an int >= 1"):
        ConnectK(0, 4, 3)


# --------------------------------------------------------------------------------------------
# Solver
# --------------------------------------------------------------------------------------------


def test_tictactoe_counts_and_value(solution):
    assert len(solution.states) == 5478
    assert solution.positions.size == 4520
    assert solution.critical.size == 3191
    assert solution.value(TicTacToe().initial_state()) == 0.0
    assert not np.signbit(solution.values[0])  # a draw is +0, not -0


def test_q_is_minus_the_value_of_the_child_and_v_the_max(solution):
    rows = solution.positions
    for i in rows[::37]:
        for a in np.flatnonzero(solution.children[i] >= 0):
            assert solution.q[i, a] == -solution.values[solution.children[i, a]]
        assert solution.values[i] == np.nanmax(solution.q[i])
    assert np.isnan(solution.q[rows][solution.children[rows] < 0]).all()


def test_known_positions(solution):
    game = TicTacToe()
    win_now = play(game, [0, 3, 1, 4])  # X wins at 2
    assert solution.value(win_now) == 1 and solution.optimal_actions(win_now) == (2,)
    must_block = play(game, [0, 4, 1])  # O must take 2, and then holds the draw
    assert solution.optimal_actions(must_block) == (2,) and solution.value(must_block) == 0
    lost_anyway = play(game, [0, 3, 1])  # O blocks or not: X's fork wins, all moves equal
    assert solution.value(lost_anyway) == -1 and len(solution.optimal_actions(lost_anyway)) == 6
    corner_reply = play(game, [0])  # against a corner, only the centre draws
    assert solution.optimal_actions(corner_reply) == (4,)
    index = solution.index[corner_reply]
    assert index in set(solution.critical.tolist())
    all_draw = play(game, [0, 4, 8, 1, 7, 6, 2, 5])  # one move left
    assert solution.index[all_draw] not in set(solution.critical.tolist())


def test_symmetric_positions_have_the_same_value_and_permuted_q(solution):
    game = solution.game
    rng = np.random.default_rng(0)
    for i in rng.choice(solution.positions, 50, replace=False):
        state = solution.states[i]
        for sym in game.symmetries():
            image = GameState(tuple(state.board[c] for c in sym.cells), state.player)
            j = solution.index[image]
            assert solution.values[j] == solution.values[i]
            np.testing.assert_array_equal(solution.q[j], solution.q[i][sym.actions])


def test_policy_values_of_random_play_and_of_perfect_play(solution):
    game = solution.game
    uniform = np.array([game.legal_mask(s) for s in solution.states], dtype=float)
    uniform /= np.maximum(uniform.sum(1, keepdims=True), 1)
    values = solution.policy_values(uniform)
    # Random tic-tac-toe: X wins 737/1260 = 58.49 %, O 363/1260 = 28.81 % of the games.
    assert values[0] == pytest.approx(737 / 1260 - 363 / 1260, abs=1e-12)
    optimal = np.nan_to_num(solution.q == solution.values[:, None]).astype(float)
    optimal /= np.maximum(optimal.sum(1, keepdims=True), 1)
    np.testing.assert_allclose(solution.policy_values(optimal), solution.values, atol=1e-12)


def test_policy_values_refuses_bad_probabilities(solution):
    probs = np.zeros(solution.q.shape)
    with pytest.raises(ValueError, match="must sum to 1"):
        solution.policy_values(probs)
    probs[:, 0] = 1.0
    with pytest.raises(ValueError, match="illegal move"):
        solution.policy_values(probs)
    with pytest.raises(ValueError, match="shape"):
        solution.policy_values(np.zeros((3, 9)))


def test_lost_lines_perfect_player_never_loses_and_a_naive_one_does(solution):
    def perfect(state):
        return solution.optimal_actions(state)[0]

    for side in (1, -1):
        count = solution.lost_lines(perfect, as_player=side)
        assert count.lost == 0 and count.total == count.drawn + count.won > 0
    naive = solution.lost_lines(lambda s: solution.game.legal_actions(s)[0], as_player=1)
    assert naive.lost > 0
    # X opens in the corner with the perfect player: 8 replies of O, every line counted.
    assert solution.lost_lines(perfect, as_player=1).total >= 8
    with pytest.raises(ValueError, match="as_player"):
        solution.lost_lines(perfect, as_player=0)


def test_optimal_move_rate_takes_a_player_or_actions(solution):
    def perfect(state):
        return solution.optimal_actions(state)[-1]

    assert solution.optimal_move_rate(perfect) == 1.0
    assert solution.optimal_move_rate(perfect, critical=True) == 1.0
    first = np.array([solution.game.legal_actions(solution.states[i])[0]
                      for i in solution.critical])
    rate = solution.optimal_move_rate(first, critical=True)
    assert 0 < rate < 1
    with pytest.raises(ValueError, match="one action per position"):
        solution.optimal_move_rate(first[:5], critical=True)


def test_connect3_on_4x4_is_a_first_player_win():
    solution = solve(ConnectK(4, 4, 3))
    assert solution.values[0] == 1.0
    assert len(solution.states) == 41750


# --------------------------------------------------------------------------------------------
# Cross-check with OpenSpiel (a dev extra): random playouts, the same legal moves and results
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "ours"), [("tic_tac_toe", TicTacToe()),
                                           ("connect_four", ConnectK(6, 7, 4))])
def test_rules_agree_with_openspiel_on_random_playouts(name, ours):
    pyspiel = pytest.importorskip("pyspiel")
    theirs = pyspiel.load_game(name)
    rng = np.random.default_rng(0)
    endings = {1: 0, -1: 0, 0: 0}
    for _ in range(300):
        state, their_state = ours.initial_state(), theirs.new_initial_state()
        while True:
            assert state.terminal == their_state.is_terminal()
            if state.terminal:
                returns = their_state.returns()
                assert (returns[0], returns[1]) == (state.winner, -state.winner)
                endings[state.winner] += 1
                break
            assert their_state.current_player() == (0 if state.player == 1 else 1)
            assert list(ours.legal_actions(state)) == their_state.legal_actions()
            action = int(rng.choice(ours.legal_actions(state)))
            state = ours.next_state(state, action)
            their_state.apply_action(action)
    if name == "tic_tac_toe":
        assert min(endings.values()) > 0  # wins, losses and draws all compared


def test_forced_positions(solution):
    game = solution.game
    wins = set(solution.forced_positions("win").tolist())
    blocks = set(solution.forced_positions("block").tolist())
    assert solution.index[play(game, [0, 3, 1, 4])] in wins
    assert solution.index[play(game, [0, 4, 1])] in blocks
    assert solution.index[play(game, [0, 3, 1])] not in blocks  # lost whatever O does
    assert not wins & blocks
    for i in blocks:
        assert len(solution.optimal_actions(solution.states[i])) == 1
    with pytest.raises(ValueError, match="kind must be 'win' or 'block'"):
        solution.forced_positions("fork")
