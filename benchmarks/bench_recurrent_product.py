"""The classifier's batched recurrent product: the sparse path against a dense GEMM.

``Reservoir._trajectory`` computes, per trial step, ``drive + W^T X`` for a
batch of states kept transposed, ``X`` (N, B). With ``density <= 0.2`` it goes
through a CSR copy of ``W^T``: the compiled ``_csr_states`` when numba is
installed, else scipy's own ``csr_matvecs`` (the same sums in the same order).
This script times, alternately in one process, that sparse product against
the dense BLAS product ``np.matmul(W^T, X) + drive`` of the same shape and
dtype, and reports dense / sparse (above 1: the sparse path is faster):

* in one thread each (one BLAS thread for the GEMM);
* as the classifier runs them on a batch of trials: the sparse product on one
  chunk of the batch per core, in threads (``TrialEncoder`` does this),
  against one dense product of the whole batch with the default BLAS threads.

Usage::

    python benchmarks/bench_recurrent_product.py [--n 1000] [--batch 1024]
        [--density 0.05] [--dtype float32] [--repeats 7]
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from _timing import alternate, spread
from sklearn_itds import _jit
from sklearn_itds._reservoir import Reservoir, sparse_batch_product
from sklearn_itds._threads import single_blas_thread


def _paused(func, seconds=0.5):
    """``func`` timed after a pause and one untimed call (which wakes its threads)."""
    def timed():
        time.sleep(seconds)
        func()
        t0 = time.perf_counter()
        func()
        return time.perf_counter() - t0
    return timed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype)
    res = Reservoir(1, args.n, spectral_radius=1.0, density=args.density, leak_rate=1.0,
                    input_scaling=1.0, bias_scaling=1.0, random_state=0, dtype=dtype)
    W_T_csr = res._sparse_W_T()
    if W_T_csr is None:
        parser.error("--density above 0.2: the library uses the dense product there")
    W_T = np.ascontiguousarray(res.W.T)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.batch)).astype(dtype)
    drive = rng.standard_normal((args.n, args.batch)).astype(dtype)
    compiled = _jit.available()
    kind = "compiled CSR" if compiled else "scipy CSR"
    flops = 2 * args.n ** 2 * args.batch * 10
    head = f"N={args.n}, batch {args.batch}, density {args.density}, {dtype.name}"

    def dense(X=X, drive=drive, out=np.empty_like(X)):
        for _ in range(10):
            np.matmul(W_T, X, out=out)
            out += drive

    def sparse(X=X, drive=drive, out=np.empty_like(X)):
        for _ in range(10):
            sparse_batch_product(W_T_csr, X, drive, out, compiled)

    sparse()  # compiles (or loads) the kernel
    with threadpool_limits(1, user_api="blas"):
        t_dense, t_sparse = alternate(dense, sparse, args.repeats)
    ratio = t_dense / t_sparse
    print(f"{head}, one thread each: dense [ms] {spread(t_dense * 100)}, {kind} [ms] "
          f"{spread(t_sparse * 100)}; dense / sparse median {np.median(ratio):.2f} "
          f"(min {np.min(ratio):.2f}, max {np.max(ratio):.2f}); dense GEMM "
          f"{flops / np.median(t_dense) / 1e9:.1f} GFLOP/s")

    threads = os.cpu_count() or 1
    chunks = np.array_split(np.arange(args.batch), threads)
    parts = [(np.ascontiguousarray(X[:, c]), np.ascontiguousarray(drive[:, c]))
             for c in chunks]
    outs = [np.empty_like(x) for x, _ in parts]
    pool = ThreadPoolExecutor(threads)

    def sparse_threads():  # as TrialEncoder runs them: BLAS held to one thread
        with single_blas_thread():
            list(pool.map(lambda k: sparse(*parts[k], outs[k]), range(threads)))

    # Alternately again, each after a pause and one untimed call: BLAS worker
    # threads spin for a while after a threaded GEMM, and would otherwise take
    # a core from the sparse product's threads that run next (in the
    # classifier no threaded GEMM runs between its steps).
    dense_alone, sparse_alone = _paused(dense), _paused(sparse_threads)
    t_dense, t_sparse = (np.array(t) for t in zip(*[(dense_alone(), sparse_alone())
                                                    for _ in range(args.repeats)]))
    pool.shutdown()
    ratio = t_dense / t_sparse
    print(f"{head}: {kind} in {threads} threads (one chunk each) [ms] "
          f"{spread(t_sparse * 100)} vs dense, default BLAS threads [ms] "
          f"{spread(t_dense * 100)}; dense / sparse median {np.median(ratio):.2f} "
          f"(min {np.min(ratio):.2f}, max {np.max(ratio):.2f})")


if __name__ == "__main__":
    main()
