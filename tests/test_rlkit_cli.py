"""The ``python -m rlkit`` command line, called through ``main(argv)``."""

from __future__ import annotations

import re
import subprocess
import sys

import matplotlib
import pytest

from rlkit.cli import main

matplotlib.use("Agg")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_gridworld_value_iteration_prints_the_grid(capsys):
    code, out, _ = run(capsys, "solve", "gridworld", "--method", "value-iteration")
    assert code == 0
    lines = out.splitlines()
    # V* with y up: the top row is y = 3 and holds V*(3,3) = 0.85.
    assert "y=3     0.64   0.74   0.85   1.00" in lines
    assert "y=2     0.57    ###   0.57  -1.00" in lines
    assert "y=1     0.49   0.43   0.48   0.28" in lines
    assert "y=3        →      →      →  +1.00" in lines  # the policy, exits show their reward
    assert "y=1        ↑      ←      ↑      ←" in lines
    assert "iterations:" in out and "final residual:" in out and "(converged)" in out


@pytest.mark.parametrize("method", ["q-value-iteration", "policy-iteration"])
def test_other_methods_give_the_same_grid(capsys, method):
    code, out, _ = run(capsys, "solve", "gridworld", "--method", method)
    assert code == 0
    assert "y=3     0.64   0.74   0.85   1.00" in out.splitlines()


def test_slide_case_deterministic_gamma_1(capsys):
    code, out, _ = run(
        capsys, "solve", "gridworld", "--noise", "0", "--gamma", "1", "--horizon", "100"
    )
    assert code == 0
    assert "y=1     1.00   1.00   1.00   1.00" in out.splitlines()
    assert "iterations: 100" in out


def test_policy_evaluation_of_uniform_policy(capsys):
    code, out, _ = run(capsys, "solve", "gridworld", "--method", "policy-evaluation")
    assert code == 0
    assert "V^pi (uniform policy)" in out and "greedy policy" not in out


def test_custom_layout_file_and_living_reward(capsys, tmp_path):
    layout = tmp_path / "maze.txt"
    layout.write_text("S..+\n.##.\n...-\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "solve", "gridworld", "--layout", str(layout), "--living-reward", "-0.1"
    )
    assert code == 0
    assert "GridWorld 4x3" in out and "living_reward=-0.1" in out
    assert out.count("###") == 4  # two walls in each of the two grids


def test_plot_writes_png(capsys, tmp_path):
    target = tmp_path / "values.png"
    code, out, _ = run(capsys, "solve", "gridworld", "--plot", str(target))
    assert code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {target}" in out


def test_frozenlake_deterministic(capsys, tmp_path):
    target = tmp_path / "lake.png"
    code, out, _ = run(
        capsys,
        "solve",
        "FrozenLake-v1",
        "--env-arg",
        "is_slippery=False",
        "--gamma",
        "0.9",
        "--plot",
        str(target),
        "--episodes",
        "5",
    )
    assert code == 0
    assert "r0       0.59   0.66   0.73   0.66" in out.splitlines()  # V*(0) = 0.9 ** 5
    assert "mu . V = 0.5905" in out
    assert "mean discounted return 0.5905" in out  # deterministic: every episode is optimal
    assert target.exists()


def test_taxi_table(capsys):
    code, out, _ = run(capsys, "solve", "Taxi-v4", "--method", "policy-iteration")
    assert code == 0
    assert "Dropoff" in out and "Pickup" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["solve", "FrozenLake-v1", "--noise", "0.1"], "--noise only applies to gridworld"),
        (["solve", "FrozenLake-v1", "--layout", "x.txt"], "--layout only applies to gridworld"),
        (["solve", "NoSuchEnv-v0"], "unknown environment 'NoSuchEnv-v0'"),
        (["solve", "CartPole-v1"], "has no tabular model"),
        (["solve", "gridworld", "--gamma", "2"], r"gamma must be in \[0, 1\]"),
        (["solve", "gridworld", "--noise", "-1"], "noise must be in"),
        (["solve", "gridworld", "--layout", "/does/not/exist.txt"], "cannot read --layout"),
        (
            ["solve", "gridworld", "--method", "policy-iteration", "--horizon", "3"],
            "--horizon applies to value-iteration",
        ),
        (
            ["solve", "gridworld", "--method", "policy-iteration", "--gamma", "1", "--noise", "0"],
            "never reaches a terminal state",
        ),
        (["solve", "gridworld", "--env-arg", "a=1"], "--env-arg is for Gymnasium envs"),
        (["solve", "FrozenLake-v1", "--env-arg", "nonsense"], "KEY=VALUE"),
        (["solve", "FrozenLake-v1", "--env-arg", "no_such_kwarg=1"], "bad --env-arg"),
        (["solve", "gridworld", "--method", "magic"], "invalid choice"),
        (["solve"], "required: ENV"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "error:" in err
    assert re.search(message, err), err


def test_bad_layout_file_exits_2(capsys, tmp_path):
    layout = tmp_path / "bad.txt"
    layout.write_text("S..\n.#\n", encoding="utf-8")
    code, _, err = run(capsys, "solve", "gridworld", "--layout", str(layout))
    assert code == 2 and "same length" in err


def test_help_exits_0_and_has_examples(capsys):
    code, out, _ = run(capsys, "solve", "--help")
    assert code == 0
    for text in (
        "--method",
        "--gamma",
        "--noise",
        "--living-reward",
        "--layout",
        "--tol",
        "--horizon",
        "--plot",
        "--seed",
        "examples:",
        "Taxi-v4",
    ):
        assert text in out
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "solve" in out


def test_no_command_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage" in err


def test_python_dash_m_entry_point():
    completed = subprocess.run(
        [sys.executable, "-m", "rlkit", "solve", "gridworld", "--horizon", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "y=3" in completed.stdout
