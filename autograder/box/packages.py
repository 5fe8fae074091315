"""Which installed Python packages the box shows: the kit's runtime closure and nothing else.

The grading environment holds only what the kit needs at run time (DESIGN.md section 5): a
graded function may use numpy, torch and the helpers its notebook names, never a development
extra such as ``mdptoolbox`` (``pymdptoolbox`` solves MDPs: policy iteration in one call),
``stable_baselines3``, ``hypothesis`` or ``pytest``, even when the grading venv was made with
``pip install -e ".[dev]"``.

How (decided for issue 17):

* **The closure.** :func:`runtime_closure` starts from the ``rl-course-kit`` distribution's
  requirements without extras (``importlib.metadata``; ``pyproject.toml``'s
  ``[project] dependencies`` when the kit is not installed) and follows each installed
  requirement's own requirements (with the extras asked for, markers evaluated for this
  Python), recursively.
* **The view.** Every ``site-packages``/``dist-packages`` directory the box can see (those on
  ``sys.path``, the base interpreter's, Debian's ``/usr/lib/python3/dist-packages``, ...) is
  covered by an empty read-only tmpfs, and the top-level entries the closure's distributions
  install there (their ``RECORD``: packages, single-file modules, extension modules, their
  ``.dist-info``; ``.pth`` hooks only when a closure distribution owns them) are bound back
  read-only one by one. A directory two distributions share (``__pycache__``, a namespace
  package) is descended into. Anything else, a dev extra, an unowned file, another
  distribution's ``.pth`` (an unowned ``.pth`` stays only when all it does is add site
  directories, which are filtered in turn), is absent, so ``import mdptoolbox`` raises
  ``ModuleNotFoundError``, also after ``sys.path.append`` of any directory. An allowlist rather
  than hiding the dev extras one by one: what is not known to be needed is not there, whatever
  else the machine holds (pyenv's or Debian's own site-packages, which a student could put on
  ``sys.path``). Site directories that are not on the grader's ``sys.path`` show nothing.
* **The kit itself** (``rl-course-kit``: ``rlkit``, ``autograder``, an editable install's
  ``.pth`` and finder) is never in the view: the box binds the package directories the grader
  imports (:class:`autograder.box.sandbox.Sandbox`), with the redacted rlkit over the one it
  imports, so however rlkit is installed (a checkout, an editable install, a copy in
  site-packages as on Gradescope) no second, unredacted copy is importable in the box.

Unsandboxed grading (trusted code only) does none of this.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import site
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

#: the distribution whose runtime requirements make the closure.
PROJECT = "rl-course-kit"


def canonical(name: str) -> str:
    """A distribution name normalised as in PEP 503 (``PyYAML`` -> ``pyyaml``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements() -> list[str]:
    """The kit's runtime requirements (its metadata, else ``pyproject.toml``), extras included.

    Raises:
        LookupError: neither is found.

    """
    try:
        requires = metadata.distribution(PROJECT).requires
    except metadata.PackageNotFoundError:
        requires = None
    if requires is not None:
        return list(requires)
    import tomllib

    from autograder.paths import REPO_ROOT

    try:
        data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    except OSError as exc:
        raise LookupError(f"cannot find the requirements of {PROJECT} ({exc})") from exc
    return list(data["project"]["dependencies"])


def runtime_closure(requirements: Iterable[str] | None = None) -> frozenset[str]:
    """Canonical names of the installed distributions the kit needs at run time.

    ``requirements``: the roots (default: :func:`project_requirements`); a requirement whose
    marker needs an extra is left out, a requirement not installed is skipped.
    """
    from packaging.requirements import Requirement

    roots = project_requirements() if requirements is None else list(requirements)
    stack = [r for r in map(Requirement, roots)
             if r.marker is None or r.marker.evaluate({"extra": ""})]
    extras_done: dict[str, set[str]] = {}
    while stack:
        req = stack.pop()
        name = canonical(req.name)
        done = extras_done.get(name)
        wanted = set(req.extras)
        if done is not None and wanted <= done:
            continue
        new = {""} | wanted if done is None else wanted - done
        extras_done[name] = (done or set()) | wanted
        try:
            requires = metadata.distribution(req.name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            sub = Requirement(text)
            if sub.marker is None:
                if done is None:
                    stack.append(sub)
            elif any(sub.marker.evaluate({"extra": extra}) for extra in new):
                stack.append(sub)
    return frozenset(n for n in extras_done if n != canonical(PROJECT))


# ----------------------------------------------------------------------------- the view


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(path))


def _on_path() -> set[Path]:
    return {_real(p) for p in sys.path if p and os.path.isdir(p)}


def site_dirs(roots: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(site directories on ``sys.path``, other site directories under ``roots`` or ``/usr``).

    A site directory is a ``site-packages`` or ``dist-packages`` directory, or one named by
    :func:`site.getsitepackages`.
    """
    on_path = _on_path()
    named = {_real(p) for p in site.getsitepackages() if os.path.isdir(p)}
    found = {p for p in on_path if p.name in ("site-packages", "dist-packages")} | named
    active = sorted(found & on_path)
    others = set(found - on_path)
    for root in [*roots, Path("/usr"), Path("/usr/local")]:
        for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages"):
            others.update(_real(p) for p in glob.glob(str(root / pattern)) if os.path.isdir(p))
    return active, sorted(others - set(active))


def _top_parts(dist: metadata.Distribution) -> list[tuple[str, ...]]:
    """Paths (as parts, relative to its site directory) a distribution installed there."""
    files = dist.files
    if files is not None:
        return [PurePosixPath(f).parts for f in files
                if PurePosixPath(f).parts and PurePosixPath(f).parts[0] != ".."]
    # no RECORD: its top-level names, their modules and its metadata directory
    base = Path(dist.locate_file(""))
    names = (dist.read_text("top_level.txt") or "").split()
    own = getattr(dist, "_path", None)
    parts = [(own.name,)] if isinstance(own, Path) else []
    for entry in os.listdir(base) if base.is_dir() else []:
        stem = entry.split(".", 1)[0]
        if entry in names or stem in names:
            parts.append((entry,))
    return parts


@dataclass
class _Tree:
    """Who installed what below one directory of a site directory."""

    keep: bool = False
    other: bool = False
    children: dict[str, _Tree] = field(default_factory=dict)

    def add(self, parts: tuple[str, ...], keep: bool) -> None:
        node = self
        for part in parts:
            node = node.children.setdefault(part, _Tree())
            if keep:
                node.keep = True
            else:
                node.other = True


@dataclass(frozen=True)
class SiteView:
    """The bwrap arguments that show only the runtime closure's files of the site directories."""

    closure: frozenset[str]
    active: tuple[Path, ...]
    """site directories on ``sys.path``: the closure's entries bound back."""
    hidden: tuple[Path, ...]
    """site directories not on ``sys.path``: shown empty."""
    trees: dict[Path, _Tree] = field(default_factory=dict, compare=False)

    def mounts(self) -> list[str]:
        """The bwrap arguments: each site directory an empty read-only tmpfs, the closure back."""
        cmd: list[str] = []
        for directory in [*self.active, *self.hidden]:
            cmd += ["--perms", "0755", "--tmpfs", str(directory)]
            tree = self.trees.get(directory)
            if tree is not None:
                cmd += _bind_tree(directory, tree)
            cmd += ["--remount-ro", str(directory)]
        return cmd

    def shown(self, directory: Path) -> list[str]:
        """The top-level entries of ``directory`` the box sees (for tests and logs)."""
        tree = self.trees.get(directory)
        return sorted(n for n, t in tree.children.items() if t.keep) if tree else []


def _bind_tree(directory: Path, tree: _Tree) -> list[str]:
    cmd: list[str] = []
    for name, node in sorted(tree.children.items()):
        path = directory / name
        if not node.keep or not os.path.lexists(path):
            continue
        if node.other and path.is_dir() and not path.is_symlink() and node.children:
            cmd += ["--perms", "0755", "--tmpfs", str(path)]
            cmd += _bind_tree(path, node)
        else:
            cmd += ["--ro-bind", str(path), str(path)]
    return cmd


def build_view(roots: Sequence[Path], closure: frozenset[str] | None = None) -> SiteView:
    """The view of every site directory under ``roots`` (and ``/usr``) or on ``sys.path``."""
    closure = runtime_closure() if closure is None else closure
    active, hidden = site_dirs(roots)
    trees: dict[Path, _Tree] = {}
    for directory in active:
        tree = trees[directory] = _Tree()
        for dist in metadata.distributions(path=[str(directory)]):
            name = canonical(dist.metadata["Name"] or "")
            keep = name in closure
            for parts in _top_parts(dist):
                tree.add(parts, keep)
        for pth in sorted(directory.glob("*.pth")):
            if pth.name not in tree.children and _only_adds(pth, active):
                tree.add((pth.name,), True)
    return SiteView(closure, tuple(active), tuple(hidden), trees)


def _only_adds(pth: Path, site_dirs: Sequence[Path]) -> bool:
    """True for a ``.pth`` file no distribution owns that only puts ``site_dirs`` on the path.

    Such a file (``/opt/course-venv/lib/python3.11/site-packages`` in a venv that borrows
    another's packages) runs no code, and what it adds is filtered like any site directory.
    """
    try:
        lines = pth.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    lines = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return all(not line.startswith(("import ", "import\t"))
               and _real(os.path.join(pth.parent, line)) in site_dirs for line in lines)


@functools.cache
def default_view(roots: tuple[Path, ...]) -> SiteView:
    """:func:`build_view` once per process (a few hundred ``RECORD`` files are read)."""
    return build_view(roots)


__all__ = ["PROJECT", "SiteView", "build_view", "canonical", "default_view",
           "project_requirements", "runtime_closure", "site_dirs"]
