"""Progress bars of the trainers: full when a run ends, green when it stops at its target.

The trainers draw a ``tqdm.auto`` bar over their step budget (:func:`progress_bar`) and move
it with :func:`advance`, which never takes it past its total (tqdm drops a total it has passed
and shows ``20116/?``; an episode or a rollout often ends past the budget). A run that reaches
its target return stops early, and tqdm's notebook bar turns red when it is closed short of its
total (it takes that for an error or an interrupt): :func:`finish_at_target` makes the bar's
total what was done, in the text and in the notebook widget alike, so it closes full and green;
a run that raises still closes red and partial.
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


def advance(bar: Any, steps_done: int) -> None:
    """Move ``bar`` to ``steps_done`` steps, at most its total (None: no bar, nothing to do).

    Example:
        >>> import io
        >>> from tqdm import tqdm
        >>> bar = tqdm(total=100, file=io.StringIO())
        >>> advance(bar, 60)
        >>> advance(bar, 130)  # the last episode ran past the budget
        >>> bar.n, bar.total
        (100, 100)

    """
    if bar is not None:
        bar.update(min(steps_done, bar.total) - bar.n)


def finish_at_target(bar: Any, steps_done: int) -> None:
    """Mark ``bar`` complete after ``steps_done`` steps: the run stopped because it succeeded.

    tqdm's text bar reads its ``total``; the notebook bar draws an ``ipywidgets`` progress
    widget whose maximum tqdm sets only when the bar is made or ``reset``, so it is set here
    too (``reset(total=...)`` would also restart the bar's clock and rate).

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
    container = getattr(bar, "container", None)  # tqdm.notebook's (label, widget, text) box
    if container is not None:
        container.children[1].max = steps_done
    bar.refresh()
