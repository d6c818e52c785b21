"""Target 3: ITDSReservoirClassifier throughput and peak memory for one epoch.

60,000 x 784 float32 synthetic inputs (MNIST's shape; uniform in [0, 1)),
10 classes, n_reservoir=1000, n_steps=10, one epoch (max_iter=1). The fit runs
in a fresh subprocess whose peak resident memory (``ru_maxrss``) is reported,
including the input array itself. Throughput is given in sample-steps per
second and compared with the flop limit of the recurrent product (2 N^2 flops
per sample-step) at the GEMM rate measured on this machine for the same shapes.

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
print(json.dumps({{"fit_s": fit_s, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "traced_peak": traced, "n_updates": int(clf.td_history_["n_updates"][-1])}}))
"""


def gemm_rate(N, batch=256, repeats=5):
    """Measured flop/s of the recurrent product's shape (batch x N @ N x N)."""
    rng = np.random.default_rng(0)
    A, W = rng.standard_normal((batch, N)), rng.standard_normal((N, N))
    A @ W
    t0 = time.perf_counter()
    for _ in range(repeats):
        A @ W
    return 2 * batch * N * N * repeats / (time.perf_counter() - t0)


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
    args = parser.parse_args(argv)
    root = str(_timing.Path(_timing.__file__).resolve().parents[1])
    code = CHILD.format(root=root, n=args.n_samples, N=args.n, dtype=args.dtype,
                        trace=args.tracemalloc)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    steps = args.n_samples * 10
    rate = steps / res["fit_s"]
    flops = gemm_rate(args.n)
    limit = flops / (2 * args.n ** 2)
    peak_gib = res["maxrss_kib"] / 2 ** 20
    print(f"ITDSReservoirClassifier one epoch, {args.n_samples} x 784 float32, "
          f"N={args.n}, n_steps=10, dtype={args.dtype}")
    print(f"  fit: {res['fit_s']:.1f} s, {res['n_updates']} readout updates")
    print(f"  peak RSS: {peak_gib:.2f} GiB (target <= 3 GiB: "
          f"{'MET' if peak_gib <= 3 else 'NOT MET'})")
    if res["traced_peak"] is not None:
        print(f"  tracemalloc peak: {res['traced_peak'] / 2 ** 30:.2f} GiB")
    t_rec = sparse_product_time(args.n, steps, args.dtype)
    print(f"  recurrent CSR products alone (same batches): {t_rec:.1f} s = "
          f"{t_rec / res['fit_s']:.0%} of the fit")
    print(f"  throughput: {rate:,.0f} sample-steps/s; recurrent-product limit at the "
          f"measured GEMM rate {flops / 1e9:.1f} GFLOP/s: {limit:,.0f} sample-steps/s "
          f"({rate / limit:.1%} of it); the sparse product (density 0.1) needs "
          f"0.1 x 2 N^2 flops, so the dense bound is not a hard limit")


if __name__ == "__main__":
    main()
