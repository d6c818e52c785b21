"""Target 4: FORCE generation, N=1000, output feedback, RLS every 2 steps.

14,400 training steps of a 4-sine target with output feedback (own output fed
back, FORCE learning), an RLS update every 2nd step. Target: <= 0.4 ms per step.
For reference the same computation is timed as a straightforward numpy loop
(dense ``P @ r``, ``np.outer`` and a dense recurrent product, all on full
matrices, as in textbook FORCE code), alternating with ours in one process.

Usage::

    python benchmarks/bench_force.py [--repeats 3] [--steps 14400] [--n 1000]
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from _timing import alternate, spread
from sklearn_itds import ITDSReservoirRegressor


def four_sines(n_steps, dt=0.1):
    t = np.arange(n_steps) * dt
    return (np.sin(2 * np.pi * t / 60) + 0.5 * np.sin(4 * np.pi * t / 60)
            + np.sin(6 * np.pi * t / 60) / 6 + np.sin(8 * np.pi * t / 60) / 3) / 1.5


def make(n, dtype=None):
    extra = {} if dtype is None else {"dtype": dtype}
    return ITDSReservoirRegressor(
        n_reservoir=n, spectral_radius=1.5, density=0.1, leak_rate=0.1,
        input_scaling=0.0, bias_scaling=0.0, learning_rule="rls", rls_alpha=1.0,
        update_every=2, output_feedback=True, teacher_forcing=False, td_gain=0.0,
        random_state=0, **extra)


def naive_force(model, X, Y):
    """The textbook numpy FORCE loop on the same reservoir (for reference).

    Run on one BLAS thread, like ours, so that the reference is not slowed down
    by thread wake-ups on a busy machine.
    """
    with threadpool_limits(1, user_api="blas"):
        return _naive_force(model, X, Y)


def _naive_force(model, X, Y):
    res = model.reservoir_
    N = res.W.shape[0]
    W, W_fb, a = res.W, res.W_fb, res.leak_rate
    drive = X @ res.W_in + res.bias
    P = np.eye(N + 1)
    w = np.zeros(N + 1)
    x = np.zeros(N)
    z = 0.0
    r = np.ones(N + 1)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=14400)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dtype", default=None)
    args = parser.parse_args(argv)
    n_steps = args.steps
    y = four_sines(n_steps + 1)
    X, Y = np.zeros((n_steps, 1)), y[1:, None]
    ref = make(args.n).fit(X[:10], Y[:10])  # the reservoir the naive loop uses
    t_ours, t_naive = alternate(lambda: make(args.n, args.dtype).fit(X, Y),
                                lambda: naive_force(ref, X, Y), args.repeats)
    ms_ours = t_ours / n_steps * 1e3
    ms_naive = t_naive / n_steps * 1e3
    print(f"FORCE, N={args.n}, {n_steps} steps, RLS every 2 steps, own-output feedback, "
          f"dtype={args.dtype or 'float64'}")
    print(f"  ours  [ms/step, whole fit incl. build]: {spread(ms_ours)}  "
          f"(target <= 0.4: {'MET' if np.median(ms_ours) <= 0.4 else 'NOT MET'})")
    print(f"  naive numpy loop [ms/step]: {spread(ms_naive)}")
    ratio = t_ours / t_naive
    print(f"  ratio ours/naive: median {np.median(ratio):.3f}, min {ratio.min():.3f}, "
          f"max {ratio.max():.3f}")


if __name__ == "__main__":
    main()
