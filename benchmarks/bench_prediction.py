"""One-step prediction against a reservoirpy ridge ESN of the same size.

Usage::

    python benchmarks/bench_prediction.py [--seeds 3] [--units 300]
    python benchmarks/bench_prediction.py --grid      # the regressor's defaults

Tasks (rows are consecutive steps, ``mode="sequential"``):

- NARMA10 from reservoirpy's generator (order 10, a1=0.3, a2=0.05, b=1.5,
  c=0.1), 4000 training and 1000 test steps, 100 washout steps;
- Mackey-Glass one-step prediction (``sklearn_itds.datasets``, 1500/500).

Peer: reservoirpy 0.4.2 ``Reservoir(units, sr=0.9, lr=1.0) >> Ridge(1e-6)``,
fitted with the same washout and run on the test steps from the state reached
at the end of training, as ours. Both are fitted and scored side by side in
one run, seed after seed; NRMSE = RMSE / std(test targets). ``--grid`` prints
the selection behind the regressor's sequential-mode defaults.
"""

import argparse
import itertools
import json
import time
import warnings
from pathlib import Path

import numpy as np

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

RESULTS = Path(__file__).resolve().parent / "results"


def narma10(seed, n=5000):
    from reservoirpy.datasets import narma

    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 0.5, size=(n + 10, 1))
    _, y = narma(n_timesteps=n, order=10, a1=0.3, a2=0.05, b=1.5, c=0.1, u=u)
    return u[10:], y, 4000


def mackey_glass(seed):
    task = load_task("mackey_glass", random_state=seed)
    return task.X, task.y.reshape(-1, 1), task.n_train


TASKS = {"narma10": narma10, "mackey_glass": mackey_glass}
WASHOUT = 100


def nrmse(pred, y):
    pred, y = np.ravel(pred), np.ravel(y)
    return float(np.sqrt(np.mean((pred - y) ** 2)) / np.std(y))


def ours(X, y, n, seed, units, **params):
    model = ITDSReservoirRegressor(units, mode="sequential", washout=WASHOUT,
                                   random_state=seed, **params)
    start = time.perf_counter()
    model.fit(X[:n], y[:n, 0])
    fit = time.perf_counter() - start
    return nrmse(model.predict(X[n:]), y[n:]), fit


def reservoirpy_ridge(X, y, n, seed, units):
    from reservoirpy.nodes import Reservoir, Ridge

    esn = Reservoir(units, sr=0.9, lr=1.0, seed=seed) >> Ridge(ridge=1e-6)
    start = time.perf_counter()
    esn.fit(X[:n], y[:n], warmup=WASHOUT)
    fit = time.perf_counter() - start
    return nrmse(esn.run(X[n:]), y[n:]), fit


def side_by_side(seeds, units):
    rows = []
    for task, make in TASKS.items():
        res = {"ours (defaults)": [], "reservoirpy Ridge ESN": []}
        times = {k: [] for k in res}
        for seed in range(seeds):
            X, y, n = make(seed)
            for name, run in (("ours (defaults)", ours), ("reservoirpy Ridge ESN",
                                                          reservoirpy_ridge)):
                err, fit = run(X, y, n, seed, units)
                res[name].append(err)
                times[name].append(fit)
        for name in res:
            row = {"task": task, "model": name, "nrmse": [float(np.mean(res[name])),
                                                          float(np.std(res[name]))],
                   "per_seed": res[name], "fit_s": float(np.median(times[name]))}
            rows.append(row)
            print(f"{task:13s} {name:24s} NRMSE {row['nrmse'][0]:.4f} +- "
                  f"{row['nrmse'][1]:.4f}  fit {row['fit_s']:.2f} s", flush=True)
        ratio = np.mean(res["ours (defaults)"]) / np.mean(res["reservoirpy Ridge ESN"])
        print(f"{task:13s} ratio ours / reservoirpy: {ratio:.3f}", flush=True)
        rows.append({"task": task, "ratio": float(ratio)})
    return rows


def grid(seeds, units):
    rows = []
    axes = dict(spectral_radius=[0.9, 1.0], leak_rate=[0.3, 1.0],
                input_scaling=[0.1, 0.3, 1.0], rls_alpha=[1e-5, 1e-4, 1e-2],
                input_to_readout=[True, False])
    for values in itertools.product(*axes.values()):
        params = dict(zip(axes, values))
        row = {"params": params}
        for task, make in TASKS.items():
            errs = [ours(*make(seed), seed, units, **params)[0] for seed in range(seeds)]
            row[task] = [float(np.mean(errs)), float(np.std(errs))]
        rows.append(row)
        print(params, {t: round(row[t][0], 4) for t in TASKS}, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = grid(args.seeds, args.units) if args.grid else side_by_side(args.seeds,
                                                                       args.units)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("select_prediction.json" if args.grid else "bench_prediction.json")
    out.write_text(json.dumps({"seeds": args.seeds, "units": args.units, "rows": rows},
                              indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
