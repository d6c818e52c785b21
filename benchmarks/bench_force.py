"""Target 4: FORCE learning, N=1000, output feedback, RLS every 2 steps, against its floor.

14,400 training steps of a 4-sine target with the network's own output fed
back (FORCE learning) and an RLS update every 2nd step, timed as the whole
``fit`` (including building the reservoir). Target: <= 0.4 ms per step, and
(issue 15) at most 1.2 times the floor.

**The floor** is the arithmetic no implementation of this loop can skip,
each piece as one call on preallocated arrays, one BLAS thread, on the same
reservoir and a ``P`` of the same size: per step the reservoir step, scipy's
CSR kernel ``csr_matvec`` (``W^T x``, the recurrent product) and one in-place
``np.tanh`` of the N pre-activations; and every second step the RLS update,
BLAS ``symv`` (``P r``) and ``syr`` (the rank-1 downdate of the lower
triangle of ``P``): "half an RLS update plus one reservoir step per step".
It leaves out the leak, the input drive, the feedback term, the readout's
output and weight update (O(N) each) and the interpreter. Ours, the floor
and (with ``--reference``) ours on the numpy reference path (no compiled
kernels, ``sklearn_itds._jit.use_kernels(False)``) alternate in one process.

With ``--float32`` ours in float32 is timed too (in the same rounds), and
with ``--textbook`` a straightforward numpy FORCE loop on the same reservoir
(dense ``P @ r``, ``np.outer`` and a dense recurrent product).

Usage::

    python benchmarks/bench_force.py [--repeats 3] [--steps 14400] [--n 1000]
        [--dtype float32] [--reference] [--float32] [--textbook]
"""

import argparse
import time

import numpy as np
from scipy.linalg import get_blas_funcs
from scipy.sparse._sparsetools import csr_matvec
from threadpoolctl import threadpool_limits

from _timing import load, spread
from sklearn_itds import ITDSReservoirRegressor, _jit


def four_sines(n_steps, dt=0.1):
    t = np.arange(n_steps) * dt
    return (np.sin(2 * np.pi * t / 60) + 0.5 * np.sin(4 * np.pi * t / 60)
            + np.sin(6 * np.pi * t / 60) / 6 + np.sin(8 * np.pi * t / 60) / 3) / 1.5


def make(n, dtype=None):
    extra = {} if dtype is None else {"dtype": dtype}
    return ITDSReservoirRegressor(
        n_reservoir=n, mode="sequential", spectral_radius=1.5, density=0.1,
        leak_rate=0.1, input_scaling=0.0, bias_scaling=0.0, learning_rule="rls",
        rls_alpha=1.0, update_every=2, output_feedback=True, teacher_forcing=False,
        td_gain=0.0, random_state=0, **extra)


def floor(model, n_steps, every=2):
    """Seconds of the floor loop (see the module docstring) over ``n_steps``."""
    res = model.reservoir_
    dtype = res.W.dtype
    W_T = res._sparse_W_T()
    N = res.n_reservoir
    P = np.asfortranarray(np.eye(N + 1, dtype=dtype))
    r = (np.random.default_rng(0).standard_normal(N + 1) * 1e-3).astype(dtype)
    x = (np.random.default_rng(1).standard_normal(N) * 0.1).astype(dtype)
    pre = np.empty(N, dtype=dtype)
    symv, syr = get_blas_funcs(("symv", "syr"), dtype=dtype)
    with threadpool_limits(1, user_api="blas"):
        t0 = time.perf_counter()
        for t in range(n_steps):
            pre[:] = 0.0
            csr_matvec(N, N, W_T.indptr, W_T.indices, W_T.data, x, pre)
            np.tanh(pre, out=pre)
            if t % every == 0:
                Pr = symv(1.0, P, r, lower=1)
                syr(-1e-12, Pr, lower=1, a=P, overwrite_a=1)
        return time.perf_counter() - t0


def textbook_force(model, X, Y):
    """The textbook numpy FORCE loop on the same reservoir, one BLAS thread."""
    res = model.reservoir_
    N = res.W.shape[0]
    W, W_fb, a = res.W, res.W_fb, res.leak_rate
    drive = X @ res.W_in + res.bias
    P = np.eye(N + 1)
    w = np.zeros(N + 1)
    x = np.zeros(N)
    z = 0.0
    r = np.ones(N + 1)
    with threadpool_limits(1, user_api="blas"):
        for t in range(len(Y)):
            x = (1 - a) * x + a * np.tanh(drive[t] + x @ W + z * W_fb[0])
            r[:N] = x
            z = r @ w
            if t % 2 == 0:
                Pr = P @ r
                k = Pr / (1 + r @ Pr)
                P -= np.outer(k, Pr)
                w += (Y[t, 0] - z) * k
    return w


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=14400)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--reference", action="store_true",
                        help="also time ours without the compiled kernels")
    parser.add_argument("--float32", action="store_true",
                        help="also time ours in float32 (rls_alpha as in float64)")
    parser.add_argument("--textbook", action="store_true",
                        help="also time a textbook numpy FORCE loop (slow)")
    args = parser.parse_args(argv)
    n_steps = args.steps
    y = four_sines(n_steps + 1)
    X, Y = np.zeros((n_steps, 1)), y[1:, None]
    ref = make(args.n, args.dtype).fit(X[:10], Y[:10])  # the reservoir of the floor
    kernels = _jit.available()

    def ours():
        return make(args.n, args.dtype).fit(X, Y)

    def reference():
        with _jit.use_kernels(False):
            return make(args.n, args.dtype).fit(X, Y)

    runs = {"ours": ours, "floor": lambda: floor(ref, n_steps)}
    if args.reference:
        runs["reference"] = reference
    if args.float32:
        runs["float32"] = lambda: make(args.n, np.float32).fit(X, Y)
    if args.textbook:
        runs["textbook"] = lambda: textbook_force(ref, X, Y)
    for fn in runs.values():  # warm-up (the kernels compile or load here)
        fn()
    times = {name: [] for name in runs}
    loads = [load()]
    for _ in range(args.repeats):
        for name, fn in runs.items():
            times[name].append(fn() if name == "floor" else _timed(fn))
        loads.append(load())
    times = {name: np.array(t) for name, t in times.items()}
    build = np.median([_timed(lambda: make(args.n, args.dtype).fit(X[:1], Y[:1]))
                       for _ in range(3)])
    print(f"FORCE, N={args.n}, {n_steps} steps, RLS every 2 steps, own-output "
          f"feedback, dtype={args.dtype or 'float64'}, compiled kernels: "
          f"{'yes' if kernels else 'no (numba not installed or switched off)'}")
    print(f"  load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f}")
    for name, t in times.items():
        print(f"  {name:9s} [ms/step]: {spread(t / n_steps * 1e3)}")
    print(f"  building the reservoir (a 1-step fit) [s]: {build:.3f}")
    ms = np.median(times["ours"]) / n_steps * 1e3
    print(f"  ours: {ms:.3f} ms/step (target <= 0.4: {'MET' if ms <= 0.4 else 'NOT MET'})")
    for name in runs:
        if name == "floor":
            continue
        ratio = times[name] / times["floor"]
        target = "  (target <= 1.2: " + ("MET" if np.median(ratio) <= 1.2 else
                                         "NOT MET") + ")" if name == "ours" else ""
        print(f"  {name} / floor: median {np.median(ratio):.3f}, min {ratio.min():.3f}, "
              f"max {ratio.max():.3f}{target}")
    return times


if __name__ == "__main__":
    main()
