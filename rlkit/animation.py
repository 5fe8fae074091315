"""Render an episode of a policy to an animation that a notebook shows inline.

The env draws each step into an ``rgb_array`` frame (no display or window needed);
:class:`EpisodeAnimation` turns the frames into an animated GIF (Pillow, which matplotlib
already depends on). Ending a notebook cell with the animation shows it, because it has a
``_repr_html_``; :meth:`EpisodeAnimation.save` writes it to a ``.gif`` or ``.html`` file.

Example (in a notebook)::

    history = rlkit.agents.dqn.train(seed=0)
    rlkit.animation.render_episode("CartPole-v1", history.act, seed=0)

Gymnasium's classic-control envs draw with pygame (``pip install pygame``, part of the
kit's dependencies). Before the first frame this module sets pygame's video driver to
``dummy`` when there is no display and hides pygame's greeting, so rendering prints nothing.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.evaluation import EnvLike, make_env

__all__ = ["EpisodeAnimation", "render_episode"]


@dataclass(frozen=True, eq=False)
class EpisodeAnimation:
    """Frames of one rendered episode, shown inline by Jupyter as an animated GIF.

    Attributes:
        frames: RGB frames, uint8 ``(n_frames, height, width, 3)``: the start state and the
            state after each (kept) step.
        fps: Frames per second of playback.
        total_return: Undiscounted return of the episode.
        n_steps: Steps of the episode.
        terminated: True if the episode ended in a terminal state (CartPole: the pole fell),
            False if it was truncated or cut at ``max_steps``.

    Example:
        >>> frames = np.zeros((3, 8, 12, 3), dtype=np.uint8)
        >>> animation = EpisodeAnimation(frames, fps=10, total_return=2.0, n_steps=2,
        ...                              terminated=True)
        >>> animation.to_gif()[:6]
        b'GIF89a'
        >>> '<img src="data:image/gif;base64,' in animation._repr_html_()
        True

    """

    frames: np.ndarray
    fps: int
    total_return: float
    n_steps: int
    terminated: bool

    def __len__(self) -> int:
        """Return the number of frames."""
        return int(self.frames.shape[0])

    @functools.cached_property
    def _gif(self) -> bytes:
        from PIL import Image

        # A fixed palette without dithering: ~5 ms a frame, where an adaptive palette per
        # frame costs ~35 ms; the classic-control drawings have only a few flat colours.
        images = [
            Image.fromarray(frame).convert(
                "P", palette=Image.Palette.WEB, dither=Image.Dither.NONE
            )
            for frame in self.frames
        ]
        buffer = io.BytesIO()
        images[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=max(1, round(1000 / self.fps)),
            loop=0,
        )
        return buffer.getvalue()

    def to_gif(self) -> bytes:
        """Return the animation as the bytes of a looping GIF (built once, then cached)."""
        return self._gif

    def caption(self) -> str:
        """Return a one-line summary: return, steps and how the episode ended."""
        ending = "terminated" if self.terminated else "not terminated"
        return f"return {self.total_return:g} in {self.n_steps} steps ({ending})"

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.to_gif()).decode("ascii")
        return (
            f'<figure style="margin: 0"><img src="data:image/gif;base64,{data}" '
            f'alt="episode animation"/><figcaption>{html.escape(self.caption())}'
            "</figcaption></figure>"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the animation to ``path``: a ``.gif`` file, or an ``.html`` page embedding it.

        Returns:
            The path written.

        Raises:
            ValueError: For another suffix.

        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".gif":
            target.write_bytes(self.to_gif())
        elif suffix in (".html", ".htm"):
            page = f"<!DOCTYPE html>\n<html><body>\n{self._repr_html_()}\n</body></html>\n"
            target.write_text(page, encoding="utf-8")
        else:
            raise ValueError(f"save() writes .gif or .html files; got {target.name!r}")
        return target


def _quiet_headless_pygame() -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # Without a display SDL looks for one and complains on stderr; rgb_array needs none.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _resized(frame: Any, scale: float) -> np.ndarray:
    image = np.asarray(frame, dtype=np.uint8)
    if scale == 1.0:
        return image
    from PIL import Image

    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


def render_episode(
    env: EnvLike,
    policy_fn: Callable[[np.ndarray], Any],
    *,
    seed: int,
    max_steps: int | None = None,
    fps: int = 25,
    every: int = 2,
    scale: float = 0.5,
) -> EpisodeAnimation:
    """Run one episode of ``policy_fn`` and keep the env's ``rgb_array`` frames.

    Args:
        env: An env id (made with ``render_mode="rgb_array"``) or a factory returning an env
            made that way.
        policy_fn: Maps one observation to one action, e.g. ``history.act`` of a trainer.
        seed: The episode starts from ``reset(seed=seed)`` (as episode 0 of
            :func:`rlkit.evaluation.evaluate` with the same seed).
        max_steps: Optional cap on the episode's steps.
        fps: Playback speed in frames per second.
        every: Keep every ``every``-th frame. CartPole simulates 50 steps a second, so the
            defaults (every 2nd frame at 25 fps) play it in real time.
        scale: Resize factor of the frames; the default 0.5 keeps a 500-step CartPole
            episode at ~45 MB of frames in memory and ~0.1 MB of GIF.

    Returns:
        An :class:`EpisodeAnimation`.

    Raises:
        ValueError: If the env does not render ``rgb_array`` frames.

    Example:
        >>> animation = render_episode("CartPole-v1", lambda obs: 0, seed=0, max_steps=4)
        >>> len(animation), animation.frames.shape[1:], animation.n_steps  # 600x400, halved
        (3, (200, 300, 3), 4)

    """
    if fps < 1 or every < 1:
        raise ValueError(f"fps and every must be >= 1; got fps={fps}, every={every}")
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"scale must be in (0, 1]; got {scale}")
    _quiet_headless_pygame()
    environment = make_env(env, render_mode="rgb_array") if isinstance(env, str) else env()
    try:
        if environment.render_mode != "rgb_array":
            raise ValueError(
                "the env must render rgb_array frames; build it with "
                f"gymnasium.make(..., render_mode='rgb_array') (got {environment.render_mode!r})"
            )
        obs, _ = environment.reset(seed=seed)
        environment.action_space.seed(seed)
        frames = [_resized(environment.render(), scale)]
        total, steps, terminated, done = 0.0, 0, False, False
        while not done and (max_steps is None or steps < max_steps):
            obs, reward, terminated, truncated, _ = environment.step(policy_fn(obs))
            total += float(reward)
            steps += 1
            done = terminated or truncated
            if steps % every == 0 or done:
                frames.append(_resized(environment.render(), scale))
    finally:
        environment.close()
    return EpisodeAnimation(
        frames=np.stack(frames),
        fps=int(fps),
        total_return=total,
        n_steps=steps,
        terminated=bool(terminated),
    )
