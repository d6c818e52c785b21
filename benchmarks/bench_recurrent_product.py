"""The classifier's batched recurrent product: CSR ``W^T X^T`` against a dense GEMM.

``Reservoir.run_trials`` computes, per trial step, the product of the
recurrent weights with a batch of states kept transposed, (N, B). With
density 0.1 it goes through a CSR copy of ``W^T`` (10 times fewer flops than
the dense product). This script times, alternately in one process, that CSR
product against the dense BLAS product ``W^T @ X`` of the same shape, with
one BLAS thread and with the default number of threads, and reports
dense / CSR (above 1: CSR is faster). A third line compares the two as the
classifier would run them on a batch of trials: the CSR product on one chunk
of the batch per core, in threads (``TrialEncoder`` does this), against one
dense product of the whole batch with the default BLAS threads.

Usage::

    python benchmarks/bench_recurrent_product.py [--n 1000] [--batch 256] [--repeats 7]
"""

import argparse
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from _timing import alternate, spread
from sklearn_itds._reservoir import Reservoir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    res = Reservoir(1, args.n, spectral_radius=1.0, density=args.density, leak_rate=1.0,
                    input_scaling=1.0, bias_scaling=1.0, random_state=0)
    W_T_csr = res._sparse_W_T()
    W_T = np.ascontiguousarray(res.W.T)
    X = np.random.default_rng(0).standard_normal((args.n, args.batch))

    def csr():
        for _ in range(10):
            W_T_csr @ X

    def dense():
        for _ in range(10):
            W_T @ X

    for threads in (1, None):
        with threadpool_limits(threads, user_api="blas"):
            t_dense, t_csr = alternate(dense, csr, args.repeats)
        label = "1 BLAS thread" if threads == 1 else "default BLAS threads"
        flops = 2 * args.n ** 2 * args.batch * 10
        print(f"N={args.n}, batch {args.batch}, density {args.density}, {label}: "
              f"dense [ms] {spread(t_dense * 100)}, CSR [ms] {spread(t_csr * 100)}; "
              f"dense / CSR median {np.median(t_dense / t_csr):.2f} "
              f"(min {np.min(t_dense / t_csr):.2f}, max {np.max(t_dense / t_csr):.2f}); "
              f"dense GEMM {flops / np.median(t_dense) / 1e9:.1f} GFLOP/s")

    threads = os.cpu_count() or 1
    chunks = np.array_split(np.arange(args.batch), threads)
    parts = [np.ascontiguousarray(X[:, c]) for c in chunks]
    pool = ThreadPoolExecutor(threads)

    def csr_threads():
        def one(part):
            for _ in range(10):
                W_T_csr @ part
        list(pool.map(one, parts))

    # scipy's CSR product is its own C loop, not BLAS: no thread limit needed
    t_dense, t_csr = alternate(dense, csr_threads, args.repeats)
    pool.shutdown()
    print(f"N={args.n}, batch {args.batch}: CSR in {threads} threads (one chunk each) "
          f"[ms] {spread(t_csr * 100)} vs dense, default BLAS threads [ms] "
          f"{spread(t_dense * 100)}; dense / CSR median {np.median(t_dense / t_csr):.2f} "
          f"(min {np.min(t_dense / t_csr):.2f}, max {np.max(t_dense / t_csr):.2f})")


if __name__ == "__main__":
    main()
