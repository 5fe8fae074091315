"""Every example command the CLI's help texts and the README's command blocks show parses.

Issue 22 item 15: ``python -m autograder --help`` suggested ``gradescope --out autograder.zip``,
which argparse refused (ASSIGNMENT is required). Each example is parsed here by the real
argument parser (:func:`autograder.cli.build_parser`); a placeholder standing for an option's
value (``--seed N``, ``--workers N``) is given a sample value first. A ``gradescope`` example
must also carry a seed the zip accepts (:func:`autograder.frontends.gradescope.zip_seed`).
"""

from __future__ import annotations

import argparse
import re
import shlex

import pytest
from conftest import REPO_ROOT, run_cli

from autograder.cli import build_parser
from autograder.frontends.gradescope import zip_seed
from autograder.judge.core import DEFAULT_GRADING_SEED

PROGRAM = "python -m autograder "
#: an example ends at the end of its line, at a comment, or at the backtick closing inline code.
EXAMPLE = re.compile(re.escape(PROGRAM) + r"([^\n#`]*)")


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def _help_texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = []
    for one in _parsers(parser):
        texts += [one.description or "", one.epilog or ""]
        texts += [action.help or "" for action in one._actions]
    return texts


def _readme_blocks() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def _examples(texts: list[str]) -> list[str]:
    return sorted({m.group(1).strip() for text in texts for m in EXAMPLE.finditer(text)
                   if m.group(1).strip()})


HELP_EXAMPLES = _examples(_help_texts(build_parser()))
README_EXAMPLES = _examples(_readme_blocks())


def _with_sample_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` with each option's metavar placeholder (``--seed N``) given a sample value."""
    metavars = {option: action.metavar for one in _parsers(parser)
                for action in one._actions if action.metavar
                for option in action.option_strings}
    return [("1" if i and metavars.get(argv[i - 1]) == token else token)
            for i, token in enumerate(argv)]


def parse_example(example: str) -> argparse.Namespace:
    """Parse one example with the real parser; raises SystemExit when argparse refuses it."""
    parser = build_parser()
    args = parser.parse_args(_with_sample_values(parser, shlex.split(example)))
    if args.command == "gradescope":
        zip_seed(args.seed, public_seed=args.public_seed)
    return args


def test_the_help_and_the_readme_show_examples_of_every_main_command():
    commands = {parse_example(e).command for e in HELP_EXAMPLES + README_EXAMPLES}
    assert {"release", "grade", "formgrader", "feedback", "gradescope", "check",
            "demo"} <= commands


@pytest.mark.parametrize("example", HELP_EXAMPLES + README_EXAMPLES)
def test_an_example_parses_with_the_real_parser(example):
    parse_example(example)


@pytest.mark.parametrize("example", ["gradescope --out autograder.zip",
                                     "gradescope 01_mdps",
                                     "gradescope 01_mdps --seed N --public-seed",
                                     "grade --out grading/"])
def test_a_broken_example_is_caught(example, monkeypatch):
    monkeypatch.delenv("RLKIT_GRADING_SEED", raising=False)
    with pytest.raises((SystemExit, ValueError)):
        parse_example(example)


def test_the_gradescope_zip_refuses_the_public_seed_unless_told(monkeypatch):
    monkeypatch.delenv("RLKIT_GRADING_SEED", raising=False)
    with pytest.raises(ValueError, match="--seed N .* or --public-seed"):
        zip_seed(None)
    with pytest.raises(ValueError, match="built-in grading seed"):
        zip_seed(DEFAULT_GRADING_SEED)
    assert zip_seed(None, public_seed=True) == DEFAULT_GRADING_SEED
    assert zip_seed(8231) == 8231
    monkeypatch.setenv("RLKIT_GRADING_SEED", "77")
    assert zip_seed(None) == 77  # the grader's own seed, as `grade` would use it


def test_the_cli_refuses_a_zip_with_the_public_seed_before_writing_it(tmp_path):
    out = tmp_path / "autograder.zip"
    proc = run_cli("gradescope", "01_mdps", "--out", str(out))
    assert proc.returncode == 2
    assert "--seed N" in proc.stderr and "--public-seed" in proc.stderr
    assert not out.exists()
