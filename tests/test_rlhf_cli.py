"""``python -m rlkit rlhf STAGE``, called through ``rlkit.cli.main(argv)``."""

from __future__ import annotations

import re

import pytest

from rlkit.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rlhf", "rloo", "--seed", "-1"], "--seed must be >= 0"),
        (["rlhf", "rloo", "--k", "1"], "rloo compares samples of a prompt: k must be >= 2"),
        (["rlhf", "rebel", "--k", "3"], "k must be even"),
        (["rlhf", "ppo", "--beta", "-1"], "beta must be >= 0"),
        (["rlhf", "sweep", "--betas", "0.1,x"], "--betas must be comma-separated numbers"),
        (["rlhf", "best-of-n", "--n", "0"], "--n >= 1"),
        (["rlhf", "sft", "--eval-prompts", "0"], "--eval-prompts must be >= 1"),
    ],
)
def test_bad_input_fails_before_training_with_a_clear_message(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "rlhf: error:" in err
    assert re.search(message, err)


def test_unknown_stage_and_help(capsys):
    code, _, err = run(capsys, "rlhf", "grpo")
    assert code == 2 and "invalid choice: 'grpo'" in err
    code, out, _ = run(capsys, "rlhf", "--help")
    assert code == 0 and "python -m rlkit rlhf sweep" in out and "win rate" in out


def test_sft_prints_the_gold_reward_next_to_the_demonstrator(capsys):
    code, out, _ = run(capsys, "rlhf", "sft", "--eval-prompts", "200", "--no-progress")
    assert code == 0
    assert "SFT:" in out and "held-out NLL per token" in out
    assert "SFT samples" in out and "demonstrator" in out and "best possible" in out
    assert out.count(" -> ") >= 3 + 1  # 3 samples (and the NLL line)


@pytest.mark.slow
def test_rloo_and_the_sweep_print_their_tables(capsys):
    code, out, _ = run(capsys, "rlhf", "rloo", "--steps", "20", "--k", "2", "--beta", "0.3",
                       "--eval-prompts", "200", "--samples", "2", "--no-progress")
    assert code == 0
    assert "reward model: held-out accuracy" in out and "ceiling" in out
    assert "rloo: beta 0.3, k 2, 20 steps of 64 samples" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in ("SFT", "rloo")}
    assert rows["SFT"][-1] == "0.500"  # SFT against itself
    assert float(rows["rloo"][2]) > float(rows["SFT"][2])  # the gold reward improved
    code, out, _ = run(capsys, "rlhf", "sweep", "--betas", "0.3,0", "--steps", "10",
                       "--n", "1,4", "--eval-prompts", "100", "--no-progress")
    assert code == 0
    assert "beta=0.3" in out and "beta=0" in out and "best-of-4" in out
