"""The box shows only the kit's runtime closure of the installed packages (no dev extras).

``autograder/box/packages.py``: the closure of ``rl-course-kit``'s requirements without extras,
and the view of every site directory (an empty tmpfs, the closure's entries bound back).
"""

from __future__ import annotations

import site
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import require_sandbox

from autograder.box.packages import build_view, canonical, runtime_closure
from autograder.box.sandbox import Limits, Sandbox, _python_dirs, detect
from autograder.box.session import Session

#: the `[dev]` extra's distributions that no runtime requirement pulls in (pyyaml is one of
#: the dev extras too, but jupyter-events, hence jupyterlab and nbgrader, need it at run time).
DEV_ONLY = ("pytest", "pytest-xdist", "hypothesis", "ruff", "pymdptoolbox",
            "stable-baselines3", "playwright")
#: their import names.
DEV_MODULES = ("mdptoolbox", "stable_baselines3", "hypothesis", "pytest", "_pytest", "xdist",
               "ruff", "playwright", "execnet")
RUNTIME_MODULES = ("numpy", "torch", "scipy", "gymnasium", "matplotlib", "IPython", "tqdm",
                   "pygame", "nbformat", "yaml", "rlkit", "autograder.box.runner")


def test_the_closure_is_the_runtime_requirements_without_the_dev_extra():
    closure = runtime_closure()
    assert {"numpy", "torch", "scipy", "gymnasium", "matplotlib", "nbgrader", "ipykernel",
            "ipython", "copydetect", "jupyterlab"} <= closure
    assert not set(DEV_ONLY) & closure
    assert canonical("rl-course-kit") not in closure  # the kit itself is bound, not viewed


def _dist(site_dir: Path, name: str, requires: list[str] = (), files: list[str] = (),
          extras: list[str] = ()) -> None:
    info = site_dir / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0"]
    meta += [f"Provides-Extra: {e}" for e in extras]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n")
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in record))
    for f in files:
        if f.startswith(".."):
            continue
        path = site_dir / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


@pytest.fixture
def fake_site(tmp_path, monkeypatch) -> Path:
    """A site-packages on sys.path with a kept distribution, a dev extra and strays."""
    site_dir = tmp_path / "lib" / "python3.11" / "site-packages"
    site_dir.mkdir(parents=True)
    _dist(site_dir, "root-kit", ["dep-b>=1", "dep-c[fast]", "dev-d; extra == 'dev'",
                                 "win-e; sys_platform == 'win32'"], extras=["dev"])
    _dist(site_dir, "dep-b", files=["dep_b/__init__.py", "single.py",
                                    "__pycache__/single.cpython-311.pyc", "ns/a/__init__.py",
                                    "../../../bin/dep-b"])
    _dist(site_dir, "dep-c", ["dep-f; extra == 'fast'", "dep-g; extra == 'slow'"],
          files=["dep_c.cpython-311-x86_64-linux-gnu.so"], extras=["fast", "slow"])
    _dist(site_dir, "dep-f", files=["dep_f.py"])
    _dist(site_dir, "dep-g", files=["dep_g.py"])
    _dist(site_dir, "dev-d", files=["dev_d/__init__.py", "dev_d.pth", "dev_single.py",
                                    "__pycache__/dev_single.cpython-311.pyc", "ns/b/__init__.py"])
    (site_dir / "dev_d.pth").write_text("import dev_d\n")
    (site_dir / "stray.py").write_text("")
    (site_dir / "runs_code.pth").write_text("import os; os.system('true')\n")
    (site_dir / "adds_a_site_dir.pth").write_text(f"{site_dir}\n")
    monkeypatch.syspath_prepend(str(site_dir))
    return site_dir


def test_the_closure_follows_extras_and_markers_but_not_the_roots_extras(fake_site):
    assert runtime_closure(["root-kit"]) == {"root-kit", "dep-b", "dep-c", "dep-f"}
    assert runtime_closure(["root-kit[dev]"]) == {"root-kit", "dep-b", "dep-c", "dep-f",
                                                  "dev-d"}


def test_the_view_binds_back_only_the_closures_files(fake_site):
    view = build_view([], closure=runtime_closure(["root-kit"]))
    assert fake_site in view.active
    assert view.shown(fake_site) == [
        "__pycache__", "adds_a_site_dir.pth", "dep_b", "dep_b-1.0.dist-info",
        "dep_c-1.0.dist-info", "dep_c.cpython-311-x86_64-linux-gnu.so", "dep_f-1.0.dist-info",
        "dep_f.py", "ns", "root_kit-1.0.dist-info", "single.py"]
    mounts = view.mounts()
    binds = {mounts[i + 1] for i, a in enumerate(mounts) if a == "--ro-bind"}
    tmpfs = {mounts[i + 1] for i, a in enumerate(mounts) if a == "--tmpfs"}
    mine = {str(Path(p).relative_to(fake_site)) for p in binds | tmpfs
            if Path(p).is_relative_to(fake_site) and Path(p) != fake_site}
    # a directory shared with a hidden distribution is a tmpfs with the kept entries bound
    assert {"__pycache__", "ns"} <= {str(Path(p).relative_to(fake_site)) for p in tmpfs
                                      if Path(p).is_relative_to(fake_site)
                                      and Path(p) != fake_site}
    assert "__pycache__/single.cpython-311.pyc" in mine and "ns/a" in mine
    for hidden in ("dev_d", "dev_d.pth", "dev_single.py", "__pycache__/dev_single."
                   "cpython-311.pyc", "ns/b", "stray.py", "runs_code.pth", "dep_g.py"):
        assert hidden not in mine
    i = mounts.index(str(fake_site))
    assert mounts[i - 1] == "--tmpfs"
    assert mounts.index("--remount-ro", i) > max(mounts.index(str(fake_site / n))
                                                  for n in ("dep_b", "single.py"))


def test_other_site_directories_show_nothing():
    view = build_view(_python_dirs())
    base = Path(sys.base_prefix).resolve()
    for hidden in view.hidden:
        assert hidden not in view.active and view.shown(hidden) == []
    if base != Path(sys.prefix).resolve():  # a venv: the base interpreter's packages
        assert any(d.is_relative_to(base) for d in view.hidden)
    assert {Path(p).resolve() for p in site.getsitepackages()} <= set(view.active)


# ----------------------------------------------------------------------------- in the box


@pytest.fixture(scope="module")
def caps():
    require_sandbox()
    return detect()


@pytest.mark.slow
def test_in_the_box_no_dev_extra_imports_even_from_other_site_directories(caps):
    view = build_view(_python_dirs())
    every_site_dir = [str(d) for d in (*view.active, *view.hidden)]
    source = textwrap.dedent(f"""\
        import importlib, sys
        def tries(names):
            out = {{}}
            for name in names:
                try:
                    importlib.import_module(name)
                    out[name] = "ok"
                except ImportError as exc:
                    out[name] = type(exc).__name__
            return out
        first = tries({DEV_MODULES!r})
        runtime = tries({RUNTIME_MODULES!r})
        sys.path.extend({every_site_dir!r})
        again = tries({DEV_MODULES!r})
        """)
    with Session(Sandbox(caps, Limits()), seed=1, budget_seconds=120) as s:
        assert s.request("cell", 60, source=source)["status"] == "ok"
        for name in ("first", "again"):
            reply = s.request("cell", 20, source=f"assert set({name}.values()) == "
                                                 "{'ModuleNotFoundError'}, " + name)
            assert reply["status"] == "ok", reply
        reply = s.request("cell", 20, source="assert set(runtime.values()) == {'ok'}, runtime")
        assert reply["status"] == "ok", reply


@pytest.mark.slow
def test_in_the_box_the_only_rlkit_is_the_bound_one(caps, tmp_path):
    build = tmp_path / "build" / "rlkit"
    build.mkdir(parents=True)
    (build / "__init__.py").write_text("REDACTED = True\n")
    sandbox = Sandbox(caps, Limits()).withholding(build)
    view = build_view(_python_dirs())
    dirs = [str(d) for d in (*view.active, *view.hidden)]
    source = textwrap.dedent(f"""\
        import importlib.metadata, os, sys
        import rlkit
        assert rlkit.REDACTED
        found = [os.path.join(d, e) for d in {{*sys.path, *{dirs!r}}} if os.path.isdir(d)
                 for e in os.listdir(d) if e == "rlkit" or "rl_course_kit" in e]
        assert found == [os.path.dirname(os.path.dirname(rlkit.__file__)) + "/rlkit"], found
        assert not [d for d in importlib.metadata.distributions()
                    if d.metadata["Name"] == "rl-course-kit"]
        """)
    with Session(sandbox, seed=1, budget_seconds=120) as s:
        reply = s.request("cell", 60, source=source)
        assert reply["status"] == "ok", reply
