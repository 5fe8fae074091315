"""Value iteration on a random dense MDP: rlkit vs pymdptoolbox, same MDP, same stopping rule.

Run:  .venv/bin/python benchmarks/bench_value_iteration.py [--states 2000 --actions 8 --gamma 0.99]

Two measurements, both on the same MDP, both solvers' values compared:

1. *Solve*: pymdptoolbox's ``ValueIteration`` with its own stopping rule (the span of
   V_k - V_{k-1} below epsilon (1 - gamma) / gamma); rlkit then runs exactly as many sweeps
   (``horizon=``). Timed twice: the iterations alone, and end to end from the (S, A, S) arrays
   (pymdptoolbox's set-up computes an iteration bound; rlkit's validates the model).
2. *Per sweep*: both run a fixed number of sweeps (``--sweeps``), so per-sweep cost is not
   hidden behind a stopping rule that ends after a handful of sweeps on a dense random MDP.

Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from rlkit import dp
from rlkit.mdp import TabularMDP, random_mdp


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    """The best wall time of ``repeats`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2000)
    parser.add_argument("--actions", type=int, default=8)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--sweeps", type=int, default=100, help="fixed sweeps for part 2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="best of N timings")
    args = parser.parse_args()

    import mdptoolbox.mdp  # dev extra: pymdptoolbox

    # pymdptoolbox demands rows summing to 1 within 10 ulp, which 2000 float64 Dirichlet
    # probabilities miss by rounding alone; rlkit's TabularMDP has validated the rows already.
    mdptoolbox.mdp._util.check = lambda P, R: None

    mdp = random_mdp(args.states, args.actions, gamma=args.gamma, rng=args.seed)
    print(f"random dense MDP: S={args.states} A={args.actions} gamma={args.gamma}")
    # pymdptoolbox wants P[a, s, s'] and takes the expected reward r[s, a].
    transitions = np.ascontiguousarray(mdp.P.transpose(1, 0, 2))
    rewards = np.ascontiguousarray(mdp.expected_rewards)
    P, R = np.array(mdp.P), np.array(mdp.R)

    def toolbox(sweeps: int | None = None) -> tuple[float, float, object]:
        """(set-up seconds, iteration seconds, solver); ``sweeps`` forces a fixed count."""
        t0 = time.perf_counter()
        vi = mdptoolbox.mdp.ValueIteration(transitions, rewards, args.gamma,
                                           epsilon=args.epsilon, max_iter=100_000)
        t1 = time.perf_counter()
        if sweeps is not None:  # its set-up overwrites max_iter with a bound: set it after
            vi.max_iter, vi.thresh = sweeps, -1.0
        vi.run()
        return t1 - t0, time.perf_counter() - t1, vi

    def best_toolbox(sweeps: int | None = None) -> tuple[float, float, object]:
        runs = [toolbox(sweeps) for _ in range(args.repeats)]
        return min(r[1] for r in runs), min(r[0] + r[1] for r in runs), runs[-1][2]

    # 1. solve with pymdptoolbox's stopping rule
    t_tb_run, t_tb_total, vi = best_toolbox()
    sweeps = int(vi.iter)
    t_rl_run, result = best_of(args.repeats, lambda: dp.value_iteration(mdp, horizon=sweeps))
    t_rl_total, _ = best_of(args.repeats, lambda: dp.value_iteration(
        TabularMDP(P=P, R=R, gamma=args.gamma, mu=mdp.mu, terminal=mdp.terminal),
        horizon=sweeps))
    diff = float(np.max(np.abs(np.asarray(vi.V) - result.values)))
    print(f"\n1. solve, pymdptoolbox's stopping rule: {sweeps} sweeps")
    print(f"   {'':22s}{'iterations':>12s}{'end to end':>12s}")
    print(f"   {'pymdptoolbox':22s}{t_tb_run:11.3f}s{t_tb_total:11.3f}s")
    print(f"   {'rlkit':22s}{t_rl_run:11.3f}s{t_rl_total:11.3f}s")
    print(f"   speed-up: {t_tb_run / t_rl_run:.1f}x iterations, {t_tb_total / t_rl_total:.1f}x "
          f"end to end;  max |V_rlkit - V_toolbox| = {diff:.1e}")

    # 2. per-sweep cost over a fixed number of sweeps
    t_tb, _, vi = best_toolbox(sweeps=args.sweeps)
    assert int(vi.iter) == args.sweeps, vi.iter
    t_rl, result = best_of(args.repeats, lambda: dp.value_iteration(mdp, horizon=args.sweeps))
    diff2 = float(np.max(np.abs(np.asarray(vi.V) - result.values)))
    print(f"\n2. {args.sweeps} sweeps each (iterations only)")
    print(f"   pymdptoolbox {t_tb / args.sweeps * 1e3:7.2f} ms/sweep")
    print(f"   rlkit        {t_rl / args.sweeps * 1e3:7.2f} ms/sweep   "
          f"speed-up {t_tb / t_rl:.1f}x;  max |V_rlkit - V_toolbox| = {diff2:.1e}")
    if max(diff, diff2) > 1e-8:
        raise SystemExit("the two solvers disagree")


if __name__ == "__main__":
    main()
