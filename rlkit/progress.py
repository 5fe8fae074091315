"""Progress bars of the trainers: a run that stops at its target ends as a success.

The trainers draw a ``tqdm.auto`` bar over their step budget (:func:`progress_bar`). A run
that reaches its target return stops early, and tqdm's notebook bar turns red when it is
closed short of its total (it takes that for an error or an interrupt).
:func:`finish_at_target` makes the bar's total what was done, so it closes green; a run that
raises still closes red.
"""

from __future__ import annotations

from typing import Any


def progress_bar(show: bool, total: int, name: str) -> Any:
    """A ``tqdm.auto`` bar over ``total`` steps labelled ``name``, or None when ``show`` is False.

    Example:
        >>> progress_bar(False, 1_000, "DQN") is None
        True

    """
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="step", mininterval=0.5)


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
