"""Numerical health of RLS over a long stationary stream (issue 5).

Runs ``--steps`` online RLS updates of an ``ITDSReservoirRegressor`` readout
(via ``partial_fit`` in blocks, so the estimator's own code path is measured)
on a stationary stream: one-step prediction of a noisy AR(2) process. Every
``--block`` steps it records

- the mean squared a-priori error of the block (should settle, not drift up);
- the smallest and largest eigenvalue of P, symmetrised from the stored lower
  triangle (P must stay positive definite);
- whether all weights are finite.

Usage::

    python benchmarks/rls_long_run.py --steps 1000000 --seeds 0 1 2

Prints one summary line per seed and a final table; ``--out`` writes the
per-block records as CSV.
"""

import argparse
import time

import numpy as np

from sklearn_itds import ITDSReservoirRegressor


def ar2_stream(n, rng, noise=0.1):
    """A stationary AR(2) process x_t = 1.6 x_{t-1} - 0.8 x_{t-2} + noise."""
    x = np.zeros(n + 2)
    e = rng.normal(scale=noise, size=n + 2)
    for t in range(2, n + 2):
        x[t] = 1.6 * x[t - 1] - 0.8 * x[t - 2] + e[t]
    return x[2:]


def sym_eigs(P):
    """Eigenvalues of P symmetrised from its stored lower triangle."""
    L = np.tril(P)
    return np.linalg.eigvalsh(L + np.tril(L, -1).T)


def run(seed, steps, block, n_reservoir, td_gain):
    rng = np.random.RandomState(seed)
    series = ar2_stream(steps + 1, rng)
    X, y = series[:-1, None], series[1:]
    model = ITDSReservoirRegressor(n_reservoir=n_reservoir, mode="sequential",
                                   td_gain=td_gain, random_state=seed)
    rows = []
    start = time.perf_counter()
    for b in range(0, steps, block):
        model.partial_fit(X[b:b + block], y[b:b + block])
        eig = sym_eigs(model.readout_.P)
        rows.append((b + block, model.loss_curve_[-1] * 2,  # loss = 0.5 |e|^2
                     eig.min(), eig.max(),
                     bool(model.readout_.is_finite())))
    elapsed = time.perf_counter() - start
    return np.array(rows, dtype=float), elapsed, float(np.var(y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--block", type=int, default=10_000)
    parser.add_argument("--n-reservoir", type=int, default=50)
    parser.add_argument("--td-gain", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    print(f"RLS long run: {args.steps} steps, n_reservoir={args.n_reservoir}, "
          f"td_gain={args.td_gain}, block={args.block}")
    summary = []
    for seed in args.seeds:
        rows, elapsed, var_y = run(seed, args.steps, args.block, args.n_reservoir,
                                   args.td_gain)
        mse = rows[:, 1]
        n10 = max(1, len(rows) // 10)
        early, late = mse[1:1 + n10].mean(), mse[-n10:].mean()
        # Drift: slope of block MSE against block index over the second half,
        # relative to the mean MSE (per 100 blocks).
        half = rows[len(rows) // 2:]
        slope = np.polyfit(np.arange(len(half)), half[:, 1], 1)[0]
        line = dict(seed=seed, seconds=elapsed, var_y=var_y, mse_first_10pct=early,
                    mse_last_10pct=late, rel_slope_per_100_blocks=100 * slope / late,
                    min_eig_P=rows[:, 2].min(), max_eig_P=rows[:, 3].max(),
                    final_min_eig=rows[-1, 2], final_max_eig=rows[-1, 3],
                    all_finite=bool(rows[:, 4].all()))
        summary.append(line)
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in line.items()), flush=True)
        if args.out:
            np.savetxt(f"{args.out}.seed{seed}.csv", rows, delimiter=",",
                       header="step,block_mse,min_eig_P,max_eig_P,finite")
    return summary


if __name__ == "__main__":
    main()
