"""The course's grading pipeline on top of nbgrader.

``autograder.judge`` holds the check specs a notebook's test cells run. The rest of the
package turns the instructor's jupytext sources (``solutions/*.py``) into nbgrader notebooks,
releases the student versions (``notebooks/``), autogrades a batch of submissions into a
gradebook with feedback and a ``grades.csv``, and lets a student self-check a notebook.
Run ``python -m autograder --help`` for the commands.

This package's top level stays import-light: the notebook kernel imports
``autograder.judge`` and should not pay for nbgrader.
"""
