"""One RLS pass of ITDSReservoirRegressor against reservoirpy's offline ``Reservoir >> Ridge``.

Mackey-Glass from ``sklearn_itds.datasets.load_task("mackey_glass",
n_steps=6000)``, one-step prediction: the first 5000 steps train, the last
1000 test (each model continues from the state reached at the end of fit).
Both sides: N units, spectral radius 1.25, leak rate 0.3, recurrent density
0.1, ridge / RLS prior 1e-6, 100 washout steps; ours in
``mode="sequential"``, ``learning_rule="rls"``, ``td_gain=0`` (one RLS pass
from ``P0 = I / rls_alpha`` is ridge regression), reservoirpy 0.4 with
``Reservoir >> Ridge(ridge=1e-6)`` and ``fit(warmup=100)``.

Each timed run builds and fits a fresh model; ours and the peer alternate
(ours, peer, ours, peer, ...) so that load on the shared machine hits both
alike; the ratio is per pair. With ``--per-row`` a third run per round
fits ours with the per-row RLS updates (block size 0, the reference the
block update is tested equal to), to show what the block update changed.
The floor is the time of the bare BLAS pair
of a per-row RLS update (``symv`` + ``syr`` on the same ``(N+1) x (N+1)``
matrix, one thread) times the number of updates.

Usage::

    python benchmarks/bench_regressor_fit.py [--repeats 3] [--sizes 500 1000] [--per-row]
        [--block-size 64]
"""

import argparse
import time

import numpy as np
from scipy.linalg import get_blas_funcs
from threadpoolctl import threadpool_limits

from _timing import alternate, report, spread
import sklearn_itds._itds as itds
from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

from reservoirpy.nodes import Reservoir, Ridge

N_TRAIN, N_TEST, WASHOUT, ALPHA = 5000, 1000, 100, 1e-6


def data():
    task = load_task("mackey_glass", random_state=0, n_steps=N_TRAIN + N_TEST)
    X, y = task.X, task.y.reshape(-1, 1)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def nrmse(y, z):
    return float(np.sqrt(np.mean((y.ravel() - z.ravel()) ** 2)) / np.std(y))


def ours(n, seed=0):
    model = ITDSReservoirRegressor(
        n_reservoir=n, mode="sequential", learning_rule="rls", td_gain=0.0,
        rls_alpha=ALPHA, spectral_radius=1.25, leak_rate=0.3, density=0.1,
        washout=WASHOUT, random_state=seed)
    return model


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--block-size", type=int, default=None,
                        help="rows per block RLS update (default: the package's)")
    parser.add_argument("--per-row", action="store_true",
                        help="also time ours with the per-row RLS updates")
    args = parser.parse_args(argv)
    if args.block_size is not None:
        itds.RLS_BLOCK = args.block_size
    print(f"block RLS updates of {itds.RLS_BLOCK} rows")
    X, Y, Xt, Yt = data()
    n_updates = N_TRAIN - WASHOUT
    summary = []
    for N in args.sizes:
        t_rows = []

        def run_peer():
            peer(N).fit(X, Y, warmup=WASHOUT)
            if args.per_row:  # same round, after the peer: ours, peer, ours per row
                block, itds.RLS_BLOCK = itds.RLS_BLOCK, 0
                t0 = time.perf_counter()
                ours(N).fit(X, Y.ravel())
                t_rows.append(time.perf_counter() - t0)
                itds.RLS_BLOCK = block

        t_ours, t_peer = alternate(lambda: ours(N).fit(X, Y.ravel()), run_peer,
                                   args.repeats)
        if args.per_row:
            t_rows = np.array(t_rows[1:])  # without the warm-up round
            t_peer = t_peer - t_rows
            print(f"ours with per-row RLS updates [s]: {spread(t_rows)}; "
                  f"block / per-row median {np.median(t_ours / t_rows):.3f}; "
                  f"per-row / reservoirpy Ridge median {np.median(t_rows / t_peer):.3f}")
        ratio = report(f"fit: ITDSReservoirRegressor (sequential, rls, td_gain=0) / "
                       f"reservoirpy Reservoir >> Ridge, N={N}, {N_TRAIN} steps",
                       t_ours, t_peer, 1.0)
        floors = np.array([blas_floor(N + 1, n_updates) for _ in range(args.repeats)])
        floor = np.median(floors)
        print(f"  floor (symv + syr x {n_updates}, one thread) [s]: {spread(floors)}; "
              f"ours / floor = {np.median(t_ours) / floor:.3f}, "
              f"peer / floor = {np.median(t_peer) / floor:.3f}")
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
        summary.append((N, np.median(ratio), np.median(t_ours) / floor,
                        np.median(e[:, 0] / e[:, 1])))
    print("\nsummary (medians): N, fit ours/reservoirpy Ridge, fit ours/floor, "
          "NRMSE ours/peer")
    for row in summary:
        print("  N={}: {:.3f}  {:.3f}  {:.3f}".format(*row))
    return summary


if __name__ == "__main__":
    main()
