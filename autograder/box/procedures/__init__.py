"""The procedures of each notebook's checks, one module per topic.

See :mod:`autograder.box.calls`.

A procedure calls the student's function the way a case needs (with tensors that require grad,
many times with one generator, inside rlkit's trainer) and returns what came out as raw data.
Nothing here knows what the output should be: the judge compares it in the grader's process.
"""
