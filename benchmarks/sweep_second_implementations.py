"""Which rlkit functions reproduce a graded function: the sweep behind issue 17 (part 2).

Run: ``python benchmarks/sweep_second_implementations.py [--all]``.

For every check spec (learning runs aside) and every public function of rlkit (walked with
``pkgutil``; public methods and properties of rlkit's classes, and its callable classes, too),
it calls the function on each of the spec's grading cases in place of the student's, directly
and through the adapters a student would write (:data:`ADAPTERS`: the arguments reordered or
matched by name, ``gamma`` with ``lam=1``, ``log(policy)`` as ``theta``, ``f(theta) -
f(theta_old)``, ``exp`` of a log-probability, the first entry, a built object called on the
rest, ``weighted_scores`` with the estimator's weights), and reports each function that
reproduces the expected output on *every* case. Each finding is then run again in the
notebook's grading conditions (:class:`autograder.judge.withhold.CallWatch` on everything the
notebook withholds): ``withheld`` (the function itself), ``blocked`` (it calls a withheld one)
or ``REACHABLE``. It prints one table per notebook; with ``--all`` also the withheld ones.

``tests/test_second_implementations.py`` runs the same sweep and fails on a reachable one that
:data:`autograder.judge.also_withheld.LEFT_REACHABLE` does not document. It takes seconds:
trainers, plots, CLIs and seeding are skipped by name, and a call that takes more than
:data:`CALL_LIMIT` seconds is cut (counted as not reproducing: the guard never decides a test).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import inspect
import itertools
import pkgutil
import re
import signal
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

#: seconds a candidate's call may take before it is cut (a trainer that slipped the filter).
CALL_LIMIT = 0.2

#: modules never swept: CLIs, plots, animations, progress bars, environment factories.
SKIP_MODULES = re.compile(r"^rlkit\.(cli|animation|plotting|progress|evaluation|rlhf\.cli|"
                          r"_withheld|__main__)(\.|$)")
#: functions never swept: trainers, runs, global seeding, rendering.
SKIP_NAMES = re.compile(r"(^|_)(train|main|run|sweep|render|seed_everything|make_env|"
                        r"make_vector_env|collect|beta_sweep|best_of_n|q_learning|"
                        r"value_iteration|q_value_iteration|policy_iteration_demo)($|_)")


@dataclass(frozen=True)
class Candidate:
    """One public rlkit callable: ``name`` is its dotted name (``rlkit.module.f``)."""

    name: str
    fn: Callable


@dataclass(frozen=True)
class Finding:
    """``candidate`` reproduces ``spec`` on every case through ``adapter``."""

    spec: str
    candidate: str
    adapter: str
    status: str
    """``withheld``, ``blocked`` (a function it calls is withheld) or ``REACHABLE``."""
    detail: str = ""


class Skip(Exception):
    """The candidate cannot take these arguments this way."""


class TooSlow(BaseException):
    """A call ran past :data:`CALL_LIMIT` (a BaseException: candidates' ``except`` misses it)."""


# ----------------------------------------------------------------------------- candidates


def candidates() -> list[Candidate]:
    """Every public function, method, property and callable class defined in rlkit."""
    import rlkit

    found: dict[str, Candidate] = {}
    modules = [m.name for m in pkgutil.walk_packages(rlkit.__path__, "rlkit.")]
    for module_name in ["rlkit", *modules]:
        if SKIP_MODULES.match(module_name):
            continue
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
                continue
            dotted = f"{module_name}.{name}"
            if inspect.isfunction(obj):
                if not SKIP_NAMES.search(name):
                    found[dotted] = Candidate(dotted, obj)
            elif inspect.isclass(obj):
                if "__call__" in vars(obj) and not SKIP_NAMES.search(name):
                    found[dotted] = Candidate(dotted, obj)
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or SKIP_NAMES.search(attr):
                        continue
                    if isinstance(member, property) and member.fget is not None:
                        found[f"{dotted}.{attr}"] = Candidate(f"{dotted}.{attr}", member.fget)
                    elif inspect.isfunction(member):
                        found[f"{dotted}.{attr}"] = Candidate(f"{dotted}.{attr}", member)
    return sorted(found.values(), key=lambda c: c.name)


# ----------------------------------------------------------------------------- adapters


@functools.cache
def _signature(fn: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _bound(fn: Callable, args: tuple, kwargs: dict) -> None:
    sig = _signature(fn)
    if sig is None:
        raise Skip
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        raise Skip from None


def _positional(fn: Callable, args: tuple, kwargs: dict) -> Any:
    _bound(fn, args, kwargs)
    return fn(*args, **kwargs)


Attempt = tuple[str, Callable[[], Any]]


def _posts(name: str, call: Callable[[], Any]) -> Iterator[Attempt]:
    """``call`` as it is, and its first entry, its exp and the first entry of its exp."""
    yield name, call
    yield f"{name}, [0]", lambda: _first(call())
    yield f"{name}, exp", lambda: _exp(call())
    yield f"{name}, exp [0]", lambda: _exp(call())[0]


def _binds(fn: Callable, args: tuple, kwargs: dict) -> bool:
    try:
        _bound(fn, args, kwargs)
    except Skip:
        return False
    return True


def _reordered(fn: Callable, args: tuple, kwargs: dict) -> Iterator[Attempt]:
    if len(args) > 4:
        return
    for order in itertools.permutations(range(len(args))):
        moved = tuple(args[i] for i in order)
        if list(order) != sorted(order) and _binds(fn, moved, kwargs):
            yield "arguments reordered", lambda moved=moved: fn(*moved, **kwargs)


def _built_then_called(fn: Callable, args: tuple, kwargs: dict) -> Iterator[Attempt]:
    # linear_schedule(start, end, decay)(step): a built object called on the argument left
    for i in range(len(args)):
        rest = args[:i] + args[i + 1:]
        if _binds(fn, rest, kwargs):
            yield "built, then called on the rest", lambda i=i, rest=rest: fn(*rest,
                                                                                **kwargs)(args[i])


def _student_names(spec: Any, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """The student's arguments by the names the notebook gives them (the reference's)."""
    sig = _signature(spec.reference)
    if sig is None:
        return None
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return dict(bound.arguments)


def _derived(names: dict[str, Any]) -> dict[str, Any]:
    """What a student would build from the arguments to call another rlkit function."""
    from rlkit.sampling import Trajectory

    ns = dict(names)
    policy = ns.get("policy")
    if policy is not None and "theta" not in ns:
        matrix = np.asarray(policy)
        n_actions = (ns["mdp"].n_actions if "mdp" in ns
                     else np.shape(ns["q_values"])[-1] if "q_values" in ns else None)
        if matrix.ndim == 1 and n_actions is not None:
            matrix = np.eye(n_actions)[matrix.astype(int)]
        with np.errstate(divide="ignore"):
            ns["theta"] = np.log(np.asarray(matrix, dtype=float))
    if "states" in ns and "actions" in ns:
        states, actions = np.asarray(ns["states"]), np.asarray(ns["actions"])
        episode = Trajectory(states, actions, np.zeros(len(actions)), True)
        ns.setdefault("trajectories", [episode])
        ns.setdefault("episodes", [episode])
        ns.setdefault("trajectory", episode)
        ns.setdefault("episode", episode)
    if "rewards" in ns:
        rewards = ns["rewards"]
        zeros = np.zeros(np.shape(rewards))
        for key in ("values", "next_values"):
            ns.setdefault(key, zeros)
        for key in ("terminated", "truncated"):
            ns.setdefault(key, zeros.astype(bool))
        ns.setdefault("lam", 1.0)
        ns.setdefault("gae_lambda", 1.0)
    if "q_values" in ns:
        ns.setdefault("q", ns["q_values"])
    return ns


def _by_name_kwargs(fn: Callable, ns: dict[str, Any]) -> tuple[list, dict] | None:
    sig = _signature(fn)
    if sig is None:
        return None
    kwargs = {}
    for name, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in ns:
            kwargs[name] = ns[name]
        elif param.default is param.empty:
            return None
    positional = [n for n, p in sig.parameters.items() if p.kind == p.POSITIONAL_ONLY]
    return [kwargs.pop(n) for n in positional], kwargs


def _by_name(fn: Callable, ns: dict[str, Any]) -> Callable[[], Any] | None:
    bound = _by_name_kwargs(fn, ns)
    if bound is None:
        return None
    args, kwargs = bound
    return lambda: fn(*args, **kwargs)


def _weights_menu(ns: dict[str, Any]) -> Iterator[Callable]:
    """Per-step weights of the estimators of notebooks 04 and 05, from the student's inputs."""

    def steps(e: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.asarray(e.actions, dtype=int)
        return np.arange(len(a)), np.asarray(e.states, dtype=int)[: len(a)], a

    def rtg(e: Any) -> np.ndarray:
        return np.cumsum(np.asarray(e.rewards, dtype=float)[::-1])[::-1]

    def at(table: np.ndarray, e: Any, with_action: bool) -> np.ndarray:
        h, s, a = steps(e)
        table = np.asarray(table, dtype=float)
        if with_action:
            return table[h, s, a] if table.ndim == 3 else table[s, a]
        return table[h, s] if table.ndim == 2 else table[s]

    yield lambda e: np.full(len(e.actions), float(np.sum(e.rewards)))
    yield rtg
    for key in ("baseline", "values"):
        if key in ns:
            yield lambda e, b=ns[key]: rtg(e) - at(b, e, False)
    if "q_values" in ns:
        q = ns["q_values"]
        yield lambda e: at(q, e, True)
        if "values" in ns:
            yield lambda e: at(q, e, True) - at(ns["values"], e, False)
    if "values" in ns:
        v = np.asarray(ns["values"], dtype=float)

        def td(e: Any) -> np.ndarray:
            h, s, _ = steps(e)
            states = np.asarray(e.states, dtype=int)
            if v.ndim == 2:
                nxt = np.append(v[h[1:], states[1:-1]], 0.0) if len(h) else np.zeros(0)
                here = v[h, s]
            else:
                nxt, here = v[states[1:]].copy(), v[s]
            if e.terminated and len(nxt):
                nxt[-1] = 0.0
            return np.asarray(e.rewards, dtype=float) + nxt - here

        yield td


def _named(fn: Callable, spec: Any, args: tuple, kwargs: dict) -> Iterator[Attempt]:
    names = _student_names(spec, args, kwargs)
    if names is None:
        return
    ns = _derived(names)
    call = _by_name(fn, ns)
    if call is not None:
        yield from _posts("by name", call)
    if "theta" in ns and "theta_old" in ns:
        new, old = _by_name(fn, ns), _by_name(fn, {**ns, "theta": ns["theta_old"]})
        if new is not None and old is not None:
            yield "f(theta) - f(theta_old)", lambda: new() - old()
    sig = _signature(fn)
    if sig is not None and "weights_of" in sig.parameters and "episodes" in ns:
        for i, weights in enumerate(_weights_menu(ns)):
            call = _by_name(fn, {**ns, "weights_of": weights})
            if call is not None:
                yield f"by name, weights_of #{i}", call


def _first(value: Any) -> Any:
    """The first entry, 0.0 for an empty result (the return of no rewards)."""
    return value[0] if len(value) else 0.0


def _exp(value: Any) -> Any:
    if hasattr(value, "detach"):
        return value.detach().exp()
    return np.exp(np.asarray(value, dtype=float))


def attempts(fn: Callable, spec: Any, args: tuple, kwargs: dict) -> Iterator[Attempt]:
    """``(adapter, call)`` of every way :data:`ADAPTERS` call ``fn`` with these arguments."""
    if _binds(fn, args, kwargs):
        yield from _posts("direct", lambda: fn(*args, **kwargs))
    yield from _reordered(fn, args, kwargs)
    yield from _built_then_called(fn, args, kwargs)
    yield from _named(fn, spec, args, kwargs)


#: the adapters, as the table names them.
ADAPTERS = ("direct", "arguments reordered", "built, then called on the rest", "by name",
            "f(theta) - f(theta_old)", "by name, weights_of #i", "... , [0]", "... , exp",
            "... , exp [0]")


# ----------------------------------------------------------------------------- the sweep


@contextlib.contextmanager
def _limit(seconds: float | None) -> Iterator[None]:
    if seconds is None:
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _keyed(attempts_: Iterator[Attempt]) -> Iterator[tuple[tuple[str, int], Callable]]:
    """Each attempt under a key that names it alike on every case: (adapter, k-th of it)."""
    seen: dict[str, int] = {}
    for name, call in attempts_:
        seen[name] = seen.get(name, -1) + 1
        yield (name, seen[name]), call


class _Adapted:
    """The student's function: the candidate through the adapter ``key``."""

    def __init__(self, candidate: Candidate, spec: Any, key: tuple[str, int],
                 wrap: Callable[[Callable], Callable] | None = None) -> None:
        self.candidate, self.spec, self.key, self.wrap = candidate, spec, key, wrap
        self.keys: list[tuple[str, int]] = []
        self.calls: dict[tuple, Callable | None] = {}  # a statistical case calls it 1000s of times

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        same = (*map(id, args), *((k, id(v)) for k, v in kwargs.items()))
        if same not in self.calls:
            found = _keyed(attempts(self.candidate.fn, self.spec, args, kwargs))
            self.calls[same] = next((call for key, call in found if key == self.key), None)
            self.inputs = (args, kwargs)  # alive as long as the ids are cached
        call = self.calls[same]
        if call is None:
            raise Skip
        call = self.wrap(call) if self.wrap is not None else call
        with _limit(_LIMIT[0]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()


class _Recorder:
    """A student's function that records its first arguments and fails."""

    def __init__(self) -> None:
        self.args: tuple[tuple, dict] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.args is None:
            self.args = (args, kwargs)
        raise Skip


def first_call(case: Any) -> tuple[tuple, dict] | None:
    """The arguments a case gives the student's function first (None: it never calls it)."""
    recorder = _Recorder()
    with contextlib.suppress(Exception):
        case.call(recorder)
    return recorder.args


def _keys(spec: Any, first: tuple[tuple, dict] | None, candidate: Candidate,
          ) -> list[tuple[str, int]]:
    if first is None:
        return []
    try:
        return [key for key, _ in _keyed(attempts(candidate.fn, spec, *first))]
    except Exception:  # noqa: BLE001 - e.g. a derived input the arguments cannot give
        return []


def _reproduces(spec: Any, cases: list, expected: Callable[[int], Any], candidate: Candidate,
                first: tuple[tuple, dict] | None) -> str | None:
    """The first adapter by which ``candidate`` gives the expected output on every case."""
    for key in _keys(spec, first, candidate):
        adapted = _Adapted(candidate, spec, key)
        for number, case in enumerate(cases):
            try:
                got = case.call(adapted)
                ok = (case.compare or spec.compare)(got, expected(number)) is None
            except (Exception, TooSlow):  # noqa: BLE001 - any failure: not a reproduction
                ok = False
            if not ok:
                break
        else:
            return f"{key[0]}" + (f" ({key[1] + 1})" if key[1] else "")
    return None


def _in_the_box(spec: Any, cases: list, candidate: Candidate, adapter: str,
                withheld: tuple[str, ...]) -> tuple[str, str]:
    """How the finding fares where the notebook's withheld functions raise."""
    from autograder.judge.withhold import CallWatch, WithheldError

    if candidate.name in withheld:
        return "withheld", ""
    name, _, nth = adapter.partition(" (")
    key = (name, int(nth.rstrip(")")) - 1 if nth else 0)
    watch = CallWatch(withheld)
    adapted = _Adapted(candidate, spec, key, wrap=watch.wrap if watch else None)
    try:
        cases[0].call(adapted)  # the first case is enough to meet a withheld callee
    except WithheldError as exc:
        return "blocked", f"calls {exc.name}"
    except (Exception, TooSlow):  # noqa: BLE001
        pass
    return "REACHABLE", ""


_LIMIT: list[float | None] = [CALL_LIMIT]


def sweep(specs: list | None = None, seed: int = 1, names: list[str] | None = None,
          limit: float | None = CALL_LIMIT) -> list[Finding]:
    """Every (spec, rlkit function) where the function reproduces the spec on every case.

    ``limit``: seconds a call may take (None: no guard; a test passes None, so that the
    machine's load never decides what it finds).
    """
    _LIMIT[0] = limit
    from autograder.judge import all_specs
    from autograder.judge.core import expected_output
    from autograder.judge.withhold import notebook_withheld, topic_specs

    pool = candidates()
    if names is not None:
        pool = [c for c in pool if c.name in names]
    findings = []
    for spec in specs if specs is not None else all_specs():
        if spec.learning or not isinstance(spec.function, str):
            continue
        cases = spec.cases(grading=True, seed=seed)
        if any(case.training for case in cases):
            continue
        cache: dict[int, Any] = {}

        def expected(number: int, spec: Any = spec, cases: list = cases,
                     cache: dict = cache) -> Any:
            if number not in cache:
                cache[number] = expected_output(spec, cases[number])
            return cache[number]

        withheld = notebook_withheld(topic_specs(spec.name))
        first = first_call(cases[0])
        for candidate in pool:
            adapter = _reproduces(spec, cases, expected, candidate, first)
            if adapter is None:
                continue
            status, detail = _in_the_box(spec, cases, candidate, adapter, withheld)
            findings.append(Finding(spec.name, candidate.name, adapter, status, detail))
    return findings


NOTEBOOKS = {"mdps": "01_mdps", "bellman": "02_bellman", "dqn": "03_dqn",
             "reinforce": "04_reinforce", "actor_critic": "05_actor_critic",
             "a2c": "05_actor_critic", "ppo": "06_ppo", "ppo_clip": "06_ppo",
             "rlhf": "07_rlhf", "rlhf_policy": "07_rlhf", "alphago": "08_alphago",
             "alphago_selfplay": "08_alphago"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true",
                        help="also list the withheld and blocked findings")
    parser.add_argument("--seed", type=int, default=1, help="grader seed of the hidden cases")
    args = parser.parse_args()
    findings = sweep(seed=args.seed)
    by_notebook: dict[str, list[Finding]] = {}
    for f in findings:
        by_notebook.setdefault(NOTEBOOKS.get(f.spec.split(".")[0], "?"), []).append(f)
    for notebook in sorted(set(NOTEBOOKS.values())):
        rows = [f for f in by_notebook.get(notebook, []) if args.all or f.status == "REACHABLE"]
        print(f"\n{notebook}: {len(rows)} finding(s)"
              f"{'' if args.all else ' reachable while graded'}")
        for f in rows:
            print(f"  {f.spec:38} {f.candidate:55} {f.adapter:30} {f.status} {f.detail}")


if __name__ == "__main__":
    main()
