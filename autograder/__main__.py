"""``python -m autograder``: the instructor's and the student's command line."""

from autograder.cli import main

raise SystemExit(main())
