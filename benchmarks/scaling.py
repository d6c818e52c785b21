"""Target 5: fit time versus reservoir size N and versus data length.

Measures, with fitted log-log exponents (time ~ c * size^k):

- ITDSReservoirRegressor (RLS, one pass over Mackey-Glass): time vs N at
  2000 steps, and vs steps at N=300;
- ITDSReservoirClassifier (LMS, one epoch, n_steps=10, 784 float32 features):
  time vs N at 1000 samples, and vs samples at N=400.

These are whole ``fit`` calls, so the fixed cost of building the reservoir
(e.g. its spectral radius) flattens the curves at small sizes; the local
exponent between the two largest sizes is printed too.

Each point is the median of ``--repeats`` fits (spread printed). Writes
``docs/images/performance_scaling.png`` and prints an RST table.

Usage::

    python benchmarks/scaling.py [--repeats 3] [--out docs/images/performance_scaling.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from _timing import timeit  # noqa: E402
from sklearn_itds import ITDSReservoirClassifier, ITDSReservoirRegressor  # noqa: E402
from sklearn_itds.datasets._prediction import mackey_glass_series  # noqa: E402


def regressor_time(N, n_steps, repeats):
    s = mackey_glass_series(n_steps + 1, 1.2)
    s = (s - s.mean()) / s.std()
    X, y = s[:-1, None], s[1:]
    model = ITDSReservoirRegressor(n_reservoir=N, mode="sequential", spectral_radius=1.25,
                                   leak_rate=0.3, rls_alpha=1e-6, td_gain=0.0,
                                   random_state=0)
    return timeit(lambda: model.fit(X, y), repeats)


def classifier_time(N, n_samples, repeats):
    rng = np.random.default_rng(0)
    X = rng.random((n_samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, n_samples)
    model = ITDSReservoirClassifier(n_reservoir=N, n_steps=10, max_iter=1, random_state=0)
    return timeit(lambda: model.fit(X, y), repeats)


def fit_exponent(sizes, times):
    k, logc = np.polyfit(np.log(sizes), np.log(times), 1)
    return k


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="docs/images/performance_scaling.png")
    args = parser.parse_args(argv)
    r = args.repeats
    Ns = [100, 200, 400, 800, 1600]
    lengths = [1000, 2000, 4000, 8000]
    panels = [
        ("Regressor (RLS): time vs N, 2000 steps", "N", Ns,
         lambda n: regressor_time(n, 2000, r)),
        ("Regressor (RLS): time vs steps, N=300", "steps", lengths,
         lambda n: regressor_time(300, n, r)),
        ("Classifier (LMS): time vs N, 1000 samples x 10 steps", "N", Ns,
         lambda n: classifier_time(n, 1000, r)),
        ("Classifier (LMS): time vs samples, N=400, 10 steps", "samples", lengths,
         lambda n: classifier_time(400, n, r)),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    print(".. list-table::\n   :header-rows: 1\n\n   * - curve\n     - sizes\n"
          "     - median time [s] (min-max)\n     - fitted exponent k (all points)\n"
          "     - local exponent (two largest sizes)")
    for ax, (title, xlabel, sizes, fn) in zip(axes.ravel(), panels):
        runs = [fn(n) for n in sizes]
        med = np.array([np.median(t) for t in runs])
        lo = np.array([t.min() for t in runs])
        hi = np.array([t.max() for t in runs])
        k = fit_exponent(sizes, med)
        ax.errorbar(sizes, med, yerr=[med - lo, hi - med], fmt="o", capsize=3,
                    label="measured (median, min-max)")
        fit = np.exp(np.polyval(np.polyfit(np.log(sizes), np.log(med), 1), np.log(sizes)))
        ax.plot(sizes, fit, "--", label=f"fit: time ~ {xlabel}^{k:.2f} (all points)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes], minor=False)
        ax.set_xticks([], minor=True)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fit time [s]")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=9)
        cells = ", ".join(f"{m:.3g} ({a:.3g}-{b:.3g})" for m, a, b in zip(med, lo, hi))
        k_last = np.log(med[-1] / med[-2]) / np.log(sizes[-1] / sizes[-2])
        print(f"   * - {title}\n     - {', '.join(map(str, sizes))}\n     - {cells}\n"
              f"     - {k:.2f}\n     - {k_last:.2f}")
    fig.suptitle("sklearn-itds fit time scaling (log-log; 2-core machine)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
