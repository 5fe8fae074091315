"""What a notebook imports to check itself: ``from autograder.checks import check, is_nbgrader``.

The notebooks' one import from the grader. It names the self-check API of :mod:`autograder.judge`
(the check machinery and the specs live there); inside the grader's box a stand-in of this
module is mounted instead (:mod:`autograder.box.notebook_api`), so that a notebook that runs
there imports nothing that knows an answer. ``skip_if_unwritten`` (a demo cell that needs a
function still to write says which and lets *Run All* go on) is one implementation for both,
:mod:`autograder.box.unwritten`: it knows no answer.
"""

from autograder.box.unwritten import skip_if_unwritten
from autograder.judge import CHECK_MIME, check, is_grading, is_nbgrader

__all__ = ["CHECK_MIME", "check", "is_grading", "is_nbgrader", "skip_if_unwritten"]
