"""The command line: help, errors, the student self-check, the kernel it runs."""

from __future__ import annotations

import sys

import nbformat
import pytest
from conftest import TEST_TIMEOUT

from autograder.cli import build_parser, main
from autograder.paths import SAMPLE_CLASS_DIR


def sample(student: str, assignment: str = "02_bellman"):
    return SAMPLE_CLASS_DIR / student / assignment / f"{assignment}.ipynb"


def test_help_documents_every_command_and_option(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("release", "grade", "feedback", "formgrader", "check", "sample-class",
                    "demo", "gradescope", "exit codes"):
        assert command in text
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = capsys.readouterr().out
    for option in ("--out", "--db", "--timeout", "--budget", "--seed", "--assignments",
                   "--solutions", "--workers", "--memory", "--unsandboxed", "--late"):
        assert option in text
    assert "(default 180;" in " ".join(text.split())  # --budget's
    with pytest.raises(SystemExit):
        main(["feedback", "--help"])
    text = capsys.readouterr().out
    assert "without running any student code" in text and "--db" in text and "--late" in text
    with pytest.raises(SystemExit):
        main(["formgrader", "--help"])
    text = capsys.readouterr().out
    for option in ("--ip", "--port", "--token", "--browser"):
        assert option in text


def test_arguments_are_validated():
    parser = build_parser()
    args = parser.parse_args(["grade", "subs", "--out", "o", "--assignments", "01_mdps, 02_x"])
    assert args.assignments == ["01_mdps", "02_x"]
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "subs", "--out", "o", "--timeout", "0"])
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "subs", "--out", "o", "--workers", "0"])
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "subs", "--out", "o", "--budget", "0"])
    assert parser.parse_args(["grade", "subs", "--out", "o", "--budget", "90"]).budget == 90
    args = parser.parse_args(["grade", "subs", "--out", "o", "--workers", "3", "--unsandboxed"])
    assert args.workers == 3 and args.unsandboxed


def test_an_unknown_assignment_is_a_clear_error(tmp_path, capsys):
    code = main(["grade", str(SAMPLE_CLASS_DIR), "--out", str(tmp_path),
                 "--assignments", "99_nope"])
    assert code == 2
    assert "unknown assignment(s) ['99_nope']" in capsys.readouterr().err


def test_a_broken_source_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "01_bad.py").write_text('# %% tags=["solution"]\ndef f():\n    return 1\n')
    assert main(["release", "--solutions", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "01_bad.py, cell 0" in capsys.readouterr().err


def test_self_check_of_a_correct_notebook(capsys, assignments):
    code = main(["check", str(sample("alice")), "--timeout", str(TEST_TIMEOUT), "--skip-slow"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "check_bellman_q_from_v" in out and "passed" in out
    points = next(a for a in assignments if a.id == "02_bellman").autograded_points
    assert f"Total: {points:g}/{points:g} autograded points (+" in out


def test_self_check_reports_the_failing_case_and_hint(capsys):
    code = main(["check", str(sample("bob")), "--timeout", str(TEST_TIMEOUT), "--skip-slow"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out and "case:" in out and "hint:" in out


def test_self_check_says_which_of_the_other_cells_errored_or_were_cut(tmp_path, capsys):
    nb = nbformat.read(sample("alice"), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell("raise ValueError('my demo broke')"))
    path = tmp_path / "02_bellman.ipynb"
    nbformat.write(nb, path)
    main(["check", str(path), "--timeout", "5", "--skip-slow"])
    out = capsys.readouterr().out
    assert "of your other cells did not finish" in out, out
    assert f"cell {first + 2}: ValueError: my demo broke" in out
    assert f"cell {first + 3}: CellTimeoutError: interrupted at the 5 s" in out


def test_self_check_of_a_corrupt_notebook(capsys):
    assert main(["check", str(sample("frank", "01_mdps"))]) == 2
    assert "corrupt notebook: not valid JSON" in capsys.readouterr().err


def test_the_grading_kernel_is_this_python_and_imports_the_course(tmp_path):
    from autograder.frontends.selfcheck import execute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, rlkit, autograder.judge\nprint(sys.executable)")])
    out = execute(nb, tmp_path, timeout=60).cells[0].outputs
    assert [o.get("text", "").strip() for o in out] == [sys.executable]
