"""Progress bars of the trainers: a run that stops at its target ends as a success.

The trainers draw a ``tqdm.auto`` bar over their step budget. A run that reaches its target
return stops early, and tqdm's notebook bar turns red when it is closed short of its total
(it takes that for an error or an interrupt). :func:`finish_at_target` makes the bar's total
what was done, so it closes green; a run that raises still closes red.
"""

from __future__ import annotations

from typing import Any


def finish_at_target(bar: Any, steps_done: int) -> None:
    """Mark ``bar`` complete after ``steps_done`` steps: the run stopped because it succeeded.

    Args:
        bar: A tqdm bar (or None, when the run shows no progress).
        steps_done: The steps the run took; the bar shows them as all of its total.

    Example:
        >>> import io
        >>> from tqdm import tqdm
        >>> bar = tqdm(total=100, file=io.StringIO())
        >>> finish_at_target(bar, 14)
        >>> bar.n, bar.total
        (14, 14)

    """
    if bar is None:
        return
    bar.update(steps_done - bar.n)
    bar.total = steps_done
    bar.refresh()
