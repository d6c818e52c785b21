"""Target 3: ITDSReservoirClassifier throughput and peak memory for one epoch.

60,000 x 784 float32 synthetic inputs (MNIST's shape; uniform in [0, 1)),
10 classes, n_reservoir=1000, n_steps=10, one epoch (max_iter=1). The fit and
then ``predict`` on the same rows run in a fresh subprocess whose peak resident
memory (``ru_maxrss``) is reported, including the input array itself.

Throughput is reported against this machine's measured peak: a large dense
``float64`` GEMM (3000 x 3000, default BLAS threads), timed just before and
just after the fit in the same run (the larger of the two rates is the peak;
both are printed). Two counts of the work:

* **executed**: the flops the fit and predict actually perform. The reservoir:
  ``2 nnz(W)`` per sample-step for the CSR product plus ``2 d N`` per sample
  for the input drive (a static sample's drive is computed once per trial).
  The fit's closed-form readout (the defaults: one ridge pass with the
  leave-one-out penalty): the Gram matrix ``2 n q^2``, the rotated rows
  ``U = R V`` another ``2 n q^2``, the leave-one-out grid ``2 n q (A K + A)``
  (``A`` penalties, ``K`` classes), the pass's own leave-one-out outputs
  ``2 n q (K + 1)`` and the echo's decisions ``2 n q K``; the eigen-
  decomposition of the Gram matrix is not counted. ``predict`` adds its
  readout's ``2 n q K``.
* **dense-equivalent**: the reservoir counted as a *dense* one (``2 N^2`` per
  sample-step), how the fit compares with a dense reservoir run at the peak.

The child also times the readout rows alone (``_rows``: the reservoir run,
its reduction and the standardization) right after ``predict``, so that
``predict`` can be compared with the reservoir run it rests on.

Usage::

    python benchmarks/bench_classifier.py [--n-samples 60000] [--n 1000] [--dtype float64]
"""

import argparse
import json
import subprocess
import sys
import time

import numpy as np

import _timing  # noqa: F401  (puts the package on the path)

CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
import numpy as np
from sklearn_itds import ITDSReservoirClassifier
n, N, dtype, trace = {n}, {N}, {dtype!r}, {trace}
rng = np.random.default_rng(0)
X = rng.random((n, 784), dtype=np.float32)
y = rng.integers(0, 10, n)
kw = {{}} if dtype == "default" else {{"dtype": dtype}}
clf = ITDSReservoirClassifier(n_reservoir=N, n_steps=10, max_iter=1, random_state=0, **kw)
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
clf.fit(X, y)
fit_s = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1] if trace else None
t0 = time.perf_counter()
clf.predict(X)
predict_s = time.perf_counter() - t0
t0 = time.perf_counter()
q = clf._rows(X).shape[1]
rows_s = time.perf_counter() - t0
from sklearn_itds._ridge import RIDGE_ALPHAS
print(json.dumps({{"fit_s": fit_s, "predict_s": predict_s, "rows_s": rows_s, "q": q,
                  "n_alphas": len(RIDGE_ALPHAS) if clf.rls_alpha == "auto" else 0,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "traced_peak": traced, "n_updates": int(clf.td_history_["n_updates"][-1]),
                  "nnz": int(np.count_nonzero(clf.reservoir_.W))}}))
"""


def dgemm_peak(size=3000, repeats=3):
    """Measured flop/s of a large float64 GEMM (default BLAS threads)."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    A @ B
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        A @ B
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dtype", default="default")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also report tracemalloc's peak (slower)")
    parser.add_argument("--json", help="write the measurements to this file")
    parser.add_argument("--peak-size", type=int, default=3000,
                        help="side of the square GEMM that measures the peak")
    args = parser.parse_args(argv)
    root = str(_timing.Path(_timing.__file__).resolve().parents[1])
    code = CHILD.format(root=root, n=args.n_samples, N=args.n, dtype=args.dtype,
                        trace=args.tracemalloc)
    peak_before = dgemm_peak(args.peak_size)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    peak_after = dgemm_peak(args.peak_size)
    res = json.loads(out.strip().splitlines()[-1])
    N, steps, n = args.n, args.n_samples * 10, args.n_samples
    peak = max(peak_before, peak_after)
    d, K, q, A = 784, 10, res["q"], res["n_alphas"]
    reservoir = 2 * res["nnz"] * steps + 2 * d * N * n
    readout_fit = (4 * n * q ** 2 + 2 * n * q * (A * K + A)
                   + 2 * n * q * (K + 1) + 2 * n * q * K)
    executed = {"fit": reservoir + readout_fit, "predict": reservoir + 2 * n * q * K}
    # Dense-equivalent work: the recurrent product of every sample-step plus
    # the input drive of every (static) sample, computed once per trial.
    dense = 2 * N ** 2 * steps + 2 * d * N * n
    peak_gib = res["maxrss_kib"] / 2 ** 20
    print(f"ITDSReservoirClassifier one epoch, {n} x {d} float32, "
          f"N={N}, n_steps=10, dtype={args.dtype}")
    print(f"  machine peak ({args.peak_size}^2 DGEMM, default threads): "
          f"{peak_before / 1e9:.1f} GFLOP/s "
          f"before, {peak_after / 1e9:.1f} after the fit")
    rows = {}
    for name in ("fit", "predict"):
        t = res[f"{name}_s"]
        rate = executed[name] / t
        rows[name] = {"seconds": t, "sample_steps_per_s": steps / t,
                      "executed_gflop": executed[name] / 1e9,
                      "executed_gflops": rate / 1e9, "fraction_of_peak": rate / peak,
                      "reservoir_gflops": reservoir / t / 1e9,
                      "dense_equiv_gflops": dense / t / 1e9,
                      "dense_equiv_fraction": dense / t / peak}
        print(f"  {name}: {t:.1f} s, {steps / t:,.0f} sample-steps/s; executed "
              f"{executed[name] / 1e9:.0f} GFLOP at {rate / 1e9:.1f} GFLOP/s = "
              f"{rate / peak:.0%} of the peak (target >= 25 %: "
              f"{'MET' if rate / peak >= 0.25 else 'NOT MET'}), of which the reservoir "
              f"{reservoir / 1e9:.0f} GFLOP ({reservoir / t / 1e9:.1f} GFLOP/s); "
              f"dense-equivalent {dense / t / 1e9:.1f} GFLOP/s = {dense / t / peak:.0%}")
    print(f"  readout rows alone (reservoir run and standardization): {res['rows_s']:.1f} s;"
          f" predict / rows {res['predict_s'] / res['rows_s']:.2f}")
    print(f"  {res['n_updates']} readout updates")
    print(f"  peak RSS: {peak_gib:.2f} GiB (target <= 3 GiB: "
          f"{'MET' if peak_gib <= 3 else 'NOT MET'})")
    if res["traced_peak"] is not None:
        print(f"  tracemalloc peak: {res['traced_peak'] / 2 ** 30:.2f} GiB")
    if args.json:
        record = {"n_samples": args.n_samples, "n_reservoir": N, "dtype": args.dtype,
                  "peak_gflops": [peak_before / 1e9, peak_after / 1e9],
                  "peak_rss_gib": peak_gib, "rows_alone_s": res["rows_s"],
                  "density": res["nnz"] / N ** 2, **rows}
        _timing.Path(args.json).write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
