"""Target 3: ITDSReservoirClassifier throughput and peak memory for one epoch.

60,000 x 784 float32 synthetic inputs (MNIST's shape; uniform in [0, 1)),
10 classes, n_reservoir=1000, n_steps=10, one epoch (max_iter=1). The fit and
then ``predict`` on the same rows run in a fresh subprocess whose peak resident
memory (``ru_maxrss``) is reported, including the input array itself.

Throughput is reported against this machine's measured peak: a large dense
``float64`` GEMM (3000 x 3000, default BLAS threads), timed just before and
just after the fit in the same run (the larger of the two rates is the peak;
both are printed). The work of a sample-step is counted as a *dense*
reservoir's: ``2 N^2`` flops for the recurrent product (plus ``2 d N`` per
sample for the input drive of a static sample, computed once per trial). The
library's CSR product executes only ``density`` times the recurrent flops, so
this "dense-equivalent GFLOP/s" says how the fit compares with a dense reservoir
running at the machine's peak; the flops actually executed are printed too.

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
print(json.dumps({{"fit_s": fit_s, "predict_s": predict_s,
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


def sparse_product_time(N, n_sample_steps, dtype, batch=256, repeats=5):
    """Seconds that the recurrent products alone take for one epoch: the
    library's own CSR product on batches of 256 states, times the batch count."""
    from sklearn_itds._reservoir import Reservoir

    res = Reservoir(1, N, spectral_radius=0.9, density=0.1, leak_rate=0.5,
                    input_scaling=0.5, bias_scaling=0.2, random_state=0,
                    dtype=np.float64 if dtype == "default" else dtype)
    X = np.random.default_rng(0).standard_normal((batch, N)).astype(res.W.dtype)
    res.recurrent(X)
    t0 = time.perf_counter()
    for _ in range(repeats):
        res.recurrent(X)
    per_batch = (time.perf_counter() - t0) / repeats
    return per_batch * n_sample_steps / batch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dtype", default="default")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also report tracemalloc's peak (slower)")
    parser.add_argument("--json", help="write the measurements to this file")
    args = parser.parse_args(argv)
    root = str(_timing.Path(_timing.__file__).resolve().parents[1])
    code = CHILD.format(root=root, n=args.n_samples, N=args.n, dtype=args.dtype,
                        trace=args.tracemalloc)
    peak_before = dgemm_peak()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    peak_after = dgemm_peak()
    res = json.loads(out.strip().splitlines()[-1])
    N, steps = args.n, args.n_samples * 10
    peak = max(peak_before, peak_after)
    # Dense-equivalent work: the recurrent product of every sample-step plus
    # the input drive of every (static) sample, computed once per trial.
    work = 2 * N ** 2 * steps + 2 * 784 * N * args.n_samples
    executed = 2 * res["nnz"] * steps + 2 * 784 * N * args.n_samples
    peak_gib = res["maxrss_kib"] / 2 ** 20
    print(f"ITDSReservoirClassifier one epoch, {args.n_samples} x 784 float32, "
          f"N={N}, n_steps=10, dtype={args.dtype}")
    print(f"  machine peak (3000^2 DGEMM, default threads): {peak_before / 1e9:.1f} GFLOP/s "
          f"before, {peak_after / 1e9:.1f} after the fit")
    rows = {}
    for name in ("fit", "predict"):
        t = res[f"{name}_s"]
        rate = work / t
        rows[name] = {"seconds": t, "sample_steps_per_s": steps / t,
                      "dense_equiv_gflops": rate / 1e9, "fraction_of_peak": rate / peak,
                      "executed_gflops": executed / t / 1e9}
        print(f"  {name}: {t:.1f} s, {steps / t:,.0f} sample-steps/s, dense-equivalent "
              f"{rate / 1e9:.1f} GFLOP/s = {rate / peak:.0%} of the peak (target >= 25 %: "
              f"{'MET' if rate / peak >= 0.25 else 'NOT MET'}); executed "
              f"{executed / t / 1e9:.1f} GFLOP/s (CSR, density {res['nnz'] / N ** 2:.2f})")
    print(f"  {res['n_updates']} readout updates")
    print(f"  peak RSS: {peak_gib:.2f} GiB (target <= 3 GiB: "
          f"{'MET' if peak_gib <= 3 else 'NOT MET'})")
    if res["traced_peak"] is not None:
        print(f"  tracemalloc peak: {res['traced_peak'] / 2 ** 30:.2f} GiB")
    t_rec = sparse_product_time(N, steps, args.dtype)
    print(f"  recurrent CSR products alone (batches of 256, one thread): {t_rec:.1f} s")
    if args.json:
        record = {"n_samples": args.n_samples, "n_reservoir": N, "dtype": args.dtype,
                  "peak_gflops": [peak_before / 1e9, peak_after / 1e9],
                  "peak_rss_gib": peak_gib, "csr_products_alone_s": t_rec, **rows}
        _timing.Path(args.json).write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
