"""One RLS pass of ITDSReservoirRegressor against reservoirpy's offline ``Reservoir >> Ridge``.

Mackey-Glass from ``sklearn_itds.datasets.load_task("mackey_glass",
n_steps=6000)``, one-step prediction: the first 5000 steps train, the last
1000 test (each model continues from the state reached at the end of fit).
Both sides: N units, spectral radius 1.25, leak rate 0.3, recurrent density
0.1, ridge / RLS prior 1e-6, 100 washout steps; ours in
``mode="sequential"``, ``learning_rule="rls"``, ``td_gain=0`` (one RLS pass
from ``P0 = I / rls_alpha`` is ridge regression), reservoirpy 0.4 with
``Reservoir >> Ridge(ridge=1e-6)`` and ``fit(warmup=100)``.

Each timed run builds and fits a fresh model. In every round ours, the peer
and the floor run one after the other (ours, peer, floor, ours, peer, ...),
so that load on the shared machine hits all alike; the ratios are per round.
**The floor** is the time of the bare BLAS pair of a per-row RLS update
(``symv`` + ``syr`` on the same ``(N+1) x (N+1)`` matrix, one thread, each
one f2py call) times the number of updates (4900): what a one-pass RLS fit
costs in its level-2 arithmetic alone, with nothing else (no reservoir, no
readout weights, no interpreter between steps).

Options add runs to each round: ``--per-row`` ours with the per-row RLS
updates (block size 0, the reference the block update is tested equal to),
``--reference`` ours on the numpy reference path (no compiled kernels,
``sklearn_itds._jit.use_kernels(False)``), ``--serial`` ours without the
worker thread that computes the next chunk's reservoir states while the
readout learns (``_sequence.STATES_AHEAD``), ``--float32`` ours in
float32 (with ``rls_alpha=1e-2``, as the estimator recommends for float32).

Usage::

    python benchmarks/bench_regressor_fit.py [--repeats 3] [--sizes 500 1000] [--per-row]
        [--reference] [--serial] [--float32] [--block-size 64]
"""

import argparse
import time

import numpy as np
from scipy.linalg import get_blas_funcs
from threadpoolctl import threadpool_limits

from _timing import load, report, spread
import sklearn_itds._itds as itds
import sklearn_itds._sequence as base
from sklearn_itds import ITDSReservoirRegressor, _jit
from sklearn_itds.datasets import load_task

from reservoirpy.nodes import Reservoir, Ridge

N_TRAIN, N_TEST, WASHOUT, ALPHA = 5000, 1000, 100, 1e-6


def data():
    task = load_task("mackey_glass", random_state=0, n_steps=N_TRAIN + N_TEST)
    X, y = task.X, task.y.reshape(-1, 1)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def nrmse(y, z):
    return float(np.sqrt(np.mean((y.ravel() - z.ravel()) ** 2)) / np.std(y))


def ours(n, seed=0, **kw):
    params = dict(n_reservoir=n, mode="sequential", learning_rule="rls", td_gain=0.0,
                  rls_alpha=ALPHA, spectral_radius=1.25, leak_rate=0.3, density=0.1,
                  washout=WASHOUT, random_state=seed)
    params.update(kw)
    return ITDSReservoirRegressor(**params)


def peer(n, seed=0):
    return Reservoir(n, sr=1.25, lr=0.3, rc_connectivity=0.1, seed=seed) \
        >> Ridge(ridge=ALPHA)


def blas_floor(n, steps):
    """Seconds of ``steps`` bare symv + syr pairs on an n x n P (one thread)."""
    P = np.asfortranarray(np.eye(n) * 1e6)
    r = np.random.default_rng(0).standard_normal(n) * 1e-3
    symv, syr = get_blas_funcs(("symv", "syr"), dtype=np.float64)
    with threadpool_limits(1, user_api="blas"):
        t0 = time.perf_counter()
        for _ in range(steps):
            Pr = symv(1.0, P, r, lower=1)
            syr(-1e-12, Pr, lower=1, a=P, overwrite_a=1)
        return time.perf_counter() - t0


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _per_row(fit):
    block, itds.RLS_BLOCK = itds.RLS_BLOCK, 0
    try:
        return _timed(fit)
    finally:
        itds.RLS_BLOCK = block


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--block-size", type=int, default=None,
                        help="rows per block RLS update (default: the package's)")
    parser.add_argument("--per-row", action="store_true",
                        help="also time ours with the per-row RLS updates")
    parser.add_argument("--reference", action="store_true",
                        help="also time ours without the compiled kernels")
    parser.add_argument("--serial", action="store_true",
                        help="also time ours without the worker thread that computes "
                             "the next chunk's states")
    parser.add_argument("--float32", action="store_true",
                        help="also time ours in float32 (rls_alpha=1e-2)")
    args = parser.parse_args(argv)
    if args.block_size is not None:
        itds.RLS_BLOCK = args.block_size
    print(f"block RLS updates of {itds.RLS_BLOCK} rows; compiled kernels: "
          f"{'yes' if _jit.available() else 'no (numba not installed or switched off)'}")
    X, Y, Xt, Yt = data()
    n_updates = N_TRAIN - WASHOUT
    summary = []
    for N in args.sizes:
        runs = {
            "ours": lambda: _timed(lambda: ours(N).fit(X, Y.ravel())),
            "peer": lambda: _timed(lambda: peer(N).fit(X, Y, warmup=WASHOUT)),
            "floor": lambda: blas_floor(N + 1, n_updates),
        }
        if args.per_row:
            runs["per-row"] = lambda: _per_row(lambda: ours(N).fit(X, Y.ravel()))
        if args.serial:
            def serial():
                base.STATES_AHEAD = False
                try:
                    return _timed(lambda: ours(N).fit(X, Y.ravel()))
                finally:
                    base.STATES_AHEAD = True
            runs["serial"] = serial
        if args.float32:
            runs["float32"] = lambda: _timed(lambda: ours(
                N, dtype=np.float32, rls_alpha=1e-2).fit(X, Y.ravel()))
        if args.reference:
            def reference():
                with _jit.use_kernels(False):
                    return _timed(lambda: ours(N).fit(X, Y.ravel()))
            runs["reference"] = reference
        for fn in runs.values():  # warm-up round
            fn()
        times = {name: [] for name in runs}
        loads = [load()]
        for _ in range(args.repeats):
            for name, fn in runs.items():
                times[name].append(fn())
            loads.append(load())
        t = {name: np.array(v) for name, v in times.items()}
        print(f"\nN={N}, {N_TRAIN} steps, {n_updates} updates; load average (1 min) "
              f"{min(loads):.2f}-{max(loads):.2f}")
        for name, v in t.items():
            print(f"  {name:9s} [s]: {spread(v)}")
        ratio = report(f"fit: ITDSReservoirRegressor (sequential, rls, td_gain=0) / "
                       f"reservoirpy Reservoir >> Ridge, N={N}", t["ours"], t["peer"], 1.0)
        for name in [n for n in t if n not in ("peer", "floor")]:
            r = t[name] / t["floor"]
            print(f"  {name} / floor: median {np.median(r):.3f}, min {r.min():.3f}, "
                  f"max {r.max():.3f}" + ("  (target <= 1.3)" if name == "ours" else ""))
            if name != "ours":
                q = t[name] / t["peer"]
                print(f"  {name} / reservoirpy Ridge: median {np.median(q):.3f}, "
                      f"min {q.min():.3f}, max {q.max():.3f}")
        errs = []
        for seed in range(3):
            m = ours(N, seed).fit(X, Y.ravel())
            e_ours = nrmse(Yt, m.predict(Xt))
            esn = peer(N, seed).fit(X, Y, warmup=WASHOUT)
            e_peer = nrmse(Yt, esn.run(Xt))
            errs.append((e_ours, e_peer))
            print(f"  seed {seed}: held-out NRMSE ours {e_ours:.3e}, "
                  f"reservoirpy Ridge {e_peer:.3e}, ours/peer {e_ours / e_peer:.3f}")
        e = np.array(errs)
        summary.append((N, np.median(ratio), np.median(t["ours"] / t["floor"]),
                        np.median(e[:, 0] / e[:, 1]), min(loads), max(loads)))
    print("\nsummary (medians): N, fit ours/reservoirpy Ridge, fit ours/floor, "
          "NRMSE ours/peer, load")
    for row in summary:
        print("  N={}: {:.3f}  {:.3f}  {:.3f}  load {:.2f}-{:.2f}".format(*row))
    return summary


if __name__ == "__main__":
    main()
