"""Notebook 08's checks: the reference on 20 grader seeds in a row, correct solutions written
differently (``tests/variants_alphago.py``), every known bug caught and named (each sign and
perspective bug of issue 20 by a unit case, not a learning run), the inputs-unchanged rule,
the release's stubs scored 0 without a crash, and the two learning checks: the reference and
the written-otherwise searches pass, the broken agents fail, and the box returns only visit
counts and weights."""  # noqa: D205

from __future__ import annotations

import numpy as np
import pytest
import variants_alphago

from autograder.box.calls import Run
from autograder.judge.core import run_check
from autograder.judge.specs import alphago, alphago_selfplay
from rlkit import mcts

EXACT = [alphago.UCT_SCORES, alphago.PUCT_SCORES, alphago.SELECT_ACTION,
         alphago.EVALUATE_LEAF, alphago.BACKUP, alphago.VISIT_POLICY, alphago.MCTS_SEARCH,
         alphago_selfplay.VALUE_TARGETS, alphago_selfplay.PG_LOSS,
         alphago_selfplay.ALPHAZERO_LOSS]
LEARNING = [alphago_selfplay.SEARCH_FINDS, alphago_selfplay.LEARNS]


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_the_reference_passes_20_grader_seeds_in_a_row(spec):
    for seed in range(20):
        report = run_check(spec, spec.reference, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_every_bug_fails_visible_and_hidden_cases_and_is_named(spec):
    assert len(spec.bugs) >= 5
    for bug in spec.bugs:
        for grading in (False, True):
            report = run_check(spec, bug.fn, grading=grading, seed=3)
            assert not report.passed and report.score == 0, bug.name
            assert report.bug == bug.name, f"{bug.name}: {report.summary()}"


#: issue 20's sign and perspective bugs, each caught by a unit check whose hint names it
SIGN_AND_PERSPECTIVE = [
    (alphago.BACKUP, "sign_not_flipped", "changes sign at each ply"),
    (alphago.BACKUP, "leaf_edge_positive", "-value"),
    (alphago.MCTS_SEARCH, "backup_sign_not_flipped", "change sign at each ply"),
    (alphago.MCTS_SEARCH, "terminal_value_from_x_view", "view of the player to move"),
    (alphago.EVALUATE_LEAF, "rollout_winner_from_x_view", "view of its PLAYER TO MOVE"),
    (alphago.EVALUATE_LEAF, "draw_scored_as_loss", "not -1"),
    (alphago_selfplay.VALUE_TARGETS, "fixed_player_view", "view of ITS player to move"),
    (alphago_selfplay.VALUE_TARGETS, "draw_scored_as_loss", "not -1"),
    (alphago_selfplay.PG_LOSS, "draw_scored_as_loss", "draw"),
]


@pytest.mark.parametrize(("spec", "bug_name", "words"), SIGN_AND_PERSPECTIVE,
                         ids=[f"{s.name}:{b}" for s, b, _ in SIGN_AND_PERSPECTIVE])
def test_each_sign_and_perspective_bug_is_named_by_a_unit_check(spec, bug_name, words):
    bug = next(b for b in spec.bugs if b.name == bug_name)
    assert not spec.learning and words in bug.hint
    report = run_check(spec, bug.fn, grading=False)
    assert report.bug == bug_name and bug.hint in report.summary()


@pytest.mark.parametrize("spec", [*EXACT, *LEARNING], ids=lambda s: s.name)
def test_a_release_stub_scores_zero_without_a_crash(spec):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    fn = dict.fromkeys(spec.functions, stub) if len(spec.functions) > 1 else stub
    report = run_check(spec, fn, grading=True)
    assert report.score == 0 and not report.passed
    assert "NotImplementedError" in report.summary() or "not implemented" in report.summary()


VARIANTS = [(spec, fn) for spec in EXACT
            for fn in variants_alphago.VARIANTS[spec.functions[0]]]


@pytest.mark.parametrize(("spec", "fn"), VARIANTS, ids=[f.__name__ for _, f in VARIANTS])
def test_a_correct_solution_written_differently_gets_full_marks(spec, fn):
    for seed in (0, 1, 2):
        report = run_check(spec, fn, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


def test_every_graded_function_has_a_variant():
    assert {spec.functions[0] for spec in EXACT} == set(variants_alphago.VARIANTS)


# --- the inputs-unchanged rule, and backup's in-place contract


def test_a_function_that_changes_its_input_fails():
    def uct_in_place(q, visit_counts, c):
        scores = mcts.uct_scores(q, visit_counts, c)
        q[...] = 0.0  # returns the right scores, but wipes the caller's Q
        return scores

    report = run_check(alphago.UCT_SCORES, uct_in_place, grading=False)
    assert not report.passed and report.score == 0
    assert "q" in report.summary()


def test_a_backup_that_returns_new_arrays_instead_of_updating_them_fails():
    def backup_copy(visit_counts, total_values, path, value):
        counts, totals = visit_counts.copy(), total_values.copy()
        mcts.backup(counts, totals, path, value)
        return counts, totals

    report = run_check(alphago.BACKUP, backup_copy, grading=False)
    assert not report.passed and report.score == 0


# --- the learning checks: the box returns raw data, the judge knows the moves


def test_the_search_check_sends_positions_and_gets_visit_counts_only():
    (case,) = alphago_selfplay.SEARCH_FINDS.visible_cases()
    calls = []

    def call(run: Run):
        calls.append(run)
        return run(mcts.mcts_search)

    assert case.drive(call) >= alphago_selfplay.SEARCH_THRESHOLD
    sent = repr([run.params for run in calls])
    solution = alphago_selfplay.tictactoe_solution()
    assert str(alphago_selfplay.SEARCH_THRESHOLD) not in sent
    assert "optimal" not in sent and "solution" not in sent
    assert {run.procedure for run in calls} == {"alphago.search_positions"}
    counts = calls[0](mcts.mcts_search)
    assert np.shape(counts) == (16, 9)
    # what is not a list of visit counts finds nothing
    assert alphago_selfplay.found_rate("garbage", 0) == 0.0
    assert solution.critical.size == 3191


def test_the_forced_positions_have_one_optimal_move_that_the_solver_names():
    solution = alphago_selfplay.tictactoe_solution()
    from autograder.box.procedures.alphago import position

    for moves in alphago_selfplay.FORCED_WINS + alphago_selfplay.FORCED_BLOCKS:
        _, state = position(moves)
        assert not state.terminal
        assert len(solution.optimal_actions(state)) == 1
        assert len(solution.optimal_actions(state)) < len(solution.game.legal_actions(state))


def test_the_search_check_passes_correct_searches_and_fails_the_broken_ones():
    spec = alphago_selfplay.SEARCH_FINDS
    for fn in [spec.reference, variants_alphago.search_nodes]:
        report = run_check(spec, fn, grading=True)
        assert report.passed, report.summary()
    assert len(spec.bugs) >= 3
    for bug in spec.bugs:
        report = run_check(spec, bug.fn, grading=True)
        assert not report.passed and report.score == 0, bug.name
        assert "share of the positions" in report.summary()


@pytest.mark.slow
def test_alphazero_learns_with_correct_pieces_and_not_with_broken_ones():
    # 1.2-1.8 s of CPU per agent; the measured figures are in alphago_selfplay
    spec = alphago_selfplay.LEARNS
    for agent in [spec.reference, *variants_alphago.agents(spec.reference)]:
        report = run_check(spec, agent, grading=True)
        assert report.passed, report.summary()
    for bug in spec.bugs:
        report = run_check(spec, bug.fn, grading=True)
        assert not report.passed and report.score == 0, bug.name
        assert "critical positions" in report.summary()


def test_alphazero_check_scores_weights_in_the_judge_only():
    (case,) = alphago_selfplay.LEARNS.visible_cases()
    runs = []
    case.drive(lambda run: runs.append(run) or {})  # no weights: nothing learned
    assert {run.procedure for run in runs} == {"alphago.alphazero_learn"}
    assert str(alphago_selfplay.LEARN_THRESHOLD) not in repr([r.params for r in runs])
    assert alphago_selfplay.critical_rate({}, 0) == 0.0
    assert alphago_selfplay.critical_rate({"trunk.0.weight": np.zeros(3)}, 0) == 0.0
