"""The course's grading pipeline on top of nbgrader.

The package reads as the way a submission goes (README, "Layout"): ``cli`` and ``frontends``
(formgrader, Gradescope, the self-check, the sample class) on top; ``grading`` (read, restore,
run in the box, judge, batch, similarity); ``records`` (results, late policy, feedback, exports);
``course`` (build, release, the nbgrader course directory); ``judge`` (check machinery and
specs); ``box`` (the sandbox and everything that touches student code, nothing that knows an
answer). ``autograder.checks`` is the notebooks' one import. Run ``python -m autograder --help``
for the commands.

This package's top level stays import-light: the notebook kernel imports
``autograder.checks`` and should not pay for nbgrader.
"""
