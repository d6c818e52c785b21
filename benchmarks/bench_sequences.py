"""Sequence classification against the field, clean and with wrong training labels.

Usage::

    python benchmarks/bench_sequences.py [--seeds 3] [--noise 0.3]
    python benchmarks/bench_sequences.py --timing     # OSULeaf fit time vs MiniRocket
    python benchmarks/bench_sequences.py --held-out   # the held-out datasets, clean

What is measured: every model is fitted on the official train split of the
three DEVELOPMENT datasets of ``benchmarks/_sequences.py`` (JapaneseVowels,
BasicMotions, ItalyPowerDemand) and scored (accuracy) on the official test
split, for seeds 0, 1, 2, once on clean training labels and once with
``--noise`` (30 %) of the training labels replaced by another class
(``sklearn_itds.robustness.corrupt_labels(y, 0.3, random_state=seed)``); the
test labels are always clean. Fit time is the wall time (``perf_counter``) of
fitting only (for the reservoir peers that includes running the training
sequences through the reservoir; for every model it includes its input
scaling); it is the median over seeds and conditions.

Models and their settings:

- ours: ``ITDSReservoirClassifier(random_state=seed)`` at its defaults (400
  units, mean state, ridge readout with the leave-one-out penalty, decision
  echo with ``td_gain=2`` over 3 passes), and the ablation ``td_gain=0.0``
  (the same model: plain ridge). Both take the lists / 3-D arrays directly.
- reservoirpy 0.4.2 ridge ESN, 400 units: ``Reservoir(400, sr, lr,
  input_scaling, seed=seed)`` run on each sequence from the reset (zero)
  state, inputs standardized per channel with the mean / std of all
  training steps; the last state or, separately, the mean state over the
  sequence feeds reservoirpy's ``Ridge(ridge)`` node on one-hot targets
  (prediction = argmax). Its setting is picked from a small grid (sr in
  {0.9, 1.0}, lr in {0.3, 1.0}, input_scaling in {0.3, 1.0}, ridge in
  {1e-2, 1}) by mean clean accuracy over the three development datasets and
  seeds 0-2, separately for "last" and "mean"; the grid is in the JSON. (The
  development sets are also what our defaults were chosen on, so both sides
  are tuned on the same data.)
- reservoir-computing 1.0.2 ``RC_model(n_internal_units=400)``: the
  documented classification example (``examples/classification_example.py``
  of that project) is the constructor defaults with 500 units (sr 0.99, no
  leak, connectivity 0.3, input_scaling 0.2, mean-state representation,
  ridge readout ``w_ridge=1``); we set 400 units to match the size. It takes
  ``(n, T, V)`` arrays: the standardized sequences are zero-padded at the end
  (as its bundled JapaneseVowels data is) and the targets one-hot encoded.
  It draws its weights from NumPy's global generator, seeded with
  ``np.random.seed(seed)``.
- pyRCN 0.1.0 ``ESNClassifier(hidden_layer_size=400, random_state=seed)``
  at its other defaults (input_scaling 1, bias_scaling 1, spectral_radius 1,
  leakage 1, dense weights, ridge alpha 1e-5, ``decision_strategy=
  "winner_takes_all"``), sequence-to-label mode: ``X`` an object array of the
  standardized ``(T_i, V)`` sequences, ``y`` an object array of one-element
  label arrays. For two classes pyRCN's ``predict`` always answers the
  first class (one binarized output column, argmax over it); there we take
  the binary equivalent of ``winner_takes_all`` (time-mean of the output
  > 0.5) from the fitted model's regressor output.
- sktime MiniRocket: ``MiniRocketMultivariate(random_state=seed)`` (univariate
  data too: it handles one channel) followed by ``RidgeClassifierCV(alphas=
  np.logspace(-3, 3, 10))``, built with ``sktime.pipeline.make_pipeline``
  (scikit-learn's own ``Pipeline`` fails on sktime transformers with
  scikit-learn 1.9), on ``to_sktime(X)`` (unequal lengths padded with the
  last value). Its numba kernels are compiled by one warm-up fit before any
  timing.
- ``LogisticRegression(max_iter=1000)`` after ``StandardScaler`` on the
  flattened ``to_sktime(X)`` series.

``--timing``: OSULeaf (held out; 200 training series of 427 steps, one
channel): fit time of ours (defaults, seed 0) and of MiniRocket (seed 0),
timed alternately in one process (``benchmarks/_timing.alternate``: one
warm-up each, then ours, MiniRocket, ours, ... 3 repeats each); the median of
the per-pair ratios ours / MiniRocket is reported. The OSULeaf test accuracy
of both is printed as information only; nothing is tuned on it.

``--held-out``: the archive datasets that sktime ships and that nothing was
tuned on (``HELD_OUT`` of ``benchmarks/_sequences.py``), clean labels, the
official splits, seeds 0-2: ours (defaults and ``td_gain=0``), the reservoirpy
ridge ESNs with the settings the grid chose on the development sets (read
from ``bench_sequences.json``), MiniRocket and LogisticRegression. Run once
to judge the library, after the defaults were fixed; nothing is tuned on it.

Results: ``benchmarks/results/bench_sequences.json``,
``bench_sequences_timing.json`` and ``bench_sequences_held_out.json``.
"""

import argparse
import itertools
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sequences import DEVELOPMENT, HELD_OUT, load, to_sktime  # noqa: E402
from _timing import alternate  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
UNITS = 400
GRID = dict(sr=[0.9, 1.0], lr=[0.3, 1.0], input_scaling=[0.3, 1.0], ridge=[1e-2, 1.0])


# ---------------------------------------------------------------- helpers
def _seqs(X):
    return list(X) if isinstance(X, list) else [x for x in X]


def _standardizer(X):
    steps = np.vstack(_seqs(X))
    mu, sd = steps.mean(axis=0), steps.std(axis=0)
    sd[sd == 0] = 1.0
    return lambda Z: [(z - mu) / sd for z in _seqs(Z)]


def _one_hot(y):
    classes = np.unique(y)
    return classes, (np.asarray(y)[:, None] == classes[None, :]).astype(float)


def _pad_zeros(seqs):
    T = max(len(s) for s in seqs)
    return np.stack([np.vstack([s, np.zeros((T - len(s), s.shape[1]))]) for s in seqs])


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


# ---------------------------------------------------------------- models
# Each returns (accuracy on the test split, fit seconds).
def ours(Xtr, ytr, Xte, yte, seed, **params):
    from sklearn_itds import ITDSReservoirClassifier

    model, fit = _timed(lambda: ITDSReservoirClassifier(random_state=seed, **params)
                        .fit(Xtr, ytr))
    return float(model.score(Xte, yte)), fit


def _rpy_states(scale, X, res):
    if res.initialized:  # every sequence starts from the reset (zero) state
        res.reset()
    states = res.run(scale(X))
    return np.array([s[-1] for s in states]), np.array([s.mean(axis=0) for s in states])


def reservoirpy_features(Xtr, Xte, seed, sr, lr, input_scaling):
    """(last_tr, mean_tr, last_te, mean_te, seconds to standardize + run train)."""
    from reservoirpy.nodes import Reservoir

    start = time.perf_counter()
    scale = _standardizer(Xtr)
    res = Reservoir(UNITS, sr=sr, lr=lr, input_scaling=input_scaling, seed=seed)
    last_tr, mean_tr = _rpy_states(scale, Xtr, res)
    fit = time.perf_counter() - start
    last_te, mean_te = _rpy_states(scale, Xte, res)
    return last_tr, mean_tr, last_te, mean_te, fit


def reservoirpy_readout(F_tr, ytr, F_te, yte, ridge):
    from reservoirpy.nodes import Ridge

    start = time.perf_counter()
    classes, Y = _one_hot(ytr)
    readout = Ridge(ridge=ridge)
    readout.fit(F_tr, Y)
    fit = time.perf_counter() - start
    pred = classes[np.argmax(readout.run(F_te), axis=1)]
    return float(np.mean(pred == yte)), fit


def reservoirpy_esn(Xtr, ytr, Xte, yte, seed, rep, sr, lr, input_scaling, ridge):
    last_tr, mean_tr, last_te, mean_te, t_res = reservoirpy_features(
        Xtr, Xte, seed, sr, lr, input_scaling)
    F_tr, F_te = (last_tr, last_te) if rep == "last" else (mean_tr, mean_te)
    acc, t_ridge = reservoirpy_readout(F_tr, ytr, F_te, yte, ridge)
    return acc, t_res + t_ridge


def reservoir_computing(Xtr, ytr, Xte, yte, seed):
    from reservoir_computing.modules import RC_model

    np.random.seed(seed)
    start = time.perf_counter()
    scale = _standardizer(Xtr)
    classes, Y = _one_hot(ytr)
    model = RC_model(n_internal_units=UNITS)
    model.fit(_pad_zeros(scale(Xtr)), Y, verbose=False)
    fit = time.perf_counter() - start
    pred = classes[model.predict(_pad_zeros(scale(Xte)))]
    return float(np.mean(pred == yte)), fit


def _objects(items):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def pyrcn_esn(Xtr, ytr, Xte, yte, seed):
    from pyrcn.echo_state_network import ESNClassifier

    start = time.perf_counter()
    scale = _standardizer(Xtr)
    model = ESNClassifier(hidden_layer_size=UNITS, random_state=seed)
    model.fit(_objects(scale(Xtr)), _objects([np.atleast_1d(v) for v in ytr]))
    fit = time.perf_counter() - start
    classes = model._encoder.classes_
    if len(classes) == 2:
        # pyRCN 0.1.0 binarizes two classes to ONE output column, and its
        # winner_takes_all (argmax of the outputs summed over time) then always
        # answers the first class. Its binary equivalent, used here: the second
        # class when the time-mean of that single output exceeds 0.5.
        from pyrcn.echo_state_network import ESNRegressor

        out = ESNRegressor.predict(model, _objects(scale(Xte)))
        pred = classes[np.array([float(np.mean(o)) > 0.5 for o in out], dtype=int)]
    else:
        # sequence-to-label predictions are indices into the binarizer's classes
        idx = np.array([int(np.ravel(p)[0]) for p in model.predict(_objects(scale(Xte)))])
        pred = classes[idx]
    return float(np.mean(pred == yte)), fit


def _minirocket(seed):
    from sklearn.linear_model import RidgeClassifierCV
    from sktime.pipeline import make_pipeline
    from sktime.transformations.panel.rocket import MiniRocketMultivariate

    return make_pipeline(MiniRocketMultivariate(random_state=seed),
                         RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))


def minirocket(Xtr, ytr, Xte, yte, seed):
    Ztr, Zte = to_sktime(Xtr), to_sktime(Xte)
    model, fit = _timed(lambda: _minirocket(seed).fit(Ztr, ytr))
    return float(np.mean(model.predict(Zte) == yte)), fit


def logistic(Xtr, ytr, Xte, yte, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    flat = lambda X: to_sktime(X).reshape(len(X), -1)  # noqa: E731
    Ftr, Fte = flat(Xtr), flat(Xte)
    if Fte.shape[1] != Ftr.shape[1]:  # unequal lengths: pad / cut to the train length
        T, C = to_sktime(Xtr).shape[2], to_sktime(Xtr).shape[1]
        Z = to_sktime(Xte)
        Z = Z[:, :, :T] if Z.shape[2] >= T else np.concatenate(
            [Z, np.repeat(Z[:, :, -1:], T - Z.shape[2], axis=2)], axis=2)
        Fte = Z.reshape(len(Z), C * T)
    model, fit = _timed(lambda: make_pipeline(StandardScaler(),
                                              LogisticRegression(max_iter=1000))
                        .fit(Ftr, ytr))
    return float(model.score(Fte, yte)), fit


# ---------------------------------------------------------------- runs
def select_reservoirpy(seeds):
    """Grid on the development sets (clean labels); best setting per representation."""
    rows = []
    for sr, lr, isc in itertools.product(GRID["sr"], GRID["lr"], GRID["input_scaling"]):
        accs = {(rep, ridge): [] for rep in ("last", "mean") for ridge in GRID["ridge"]}
        for name in DEVELOPMENT:
            Xtr, ytr, Xte, yte = load(name)
            for seed in range(seeds):
                last_tr, mean_tr, last_te, mean_te, _ = reservoirpy_features(
                    Xtr, Xte, seed, sr, lr, isc)
                for (rep, ridge), acc in accs.items():
                    F = (last_tr, last_te) if rep == "last" else (mean_tr, mean_te)
                    acc.append(reservoirpy_readout(F[0], ytr, F[1], yte, ridge)[0])
        for (rep, ridge), acc in accs.items():
            row = dict(rep=rep, sr=sr, lr=lr, input_scaling=isc, ridge=ridge,
                       mean_clean_accuracy=float(np.mean(acc)))
            rows.append(row)
            print(f"  grid {rep:4s} sr={sr} lr={lr} is={isc} ridge={ridge}: "
                  f"{row['mean_clean_accuracy']:.4f}", flush=True)
    best = {}
    for rep in ("last", "mean"):
        cands = [r for r in rows if r["rep"] == rep]
        b = max(cands, key=lambda r: r["mean_clean_accuracy"])
        best[rep] = {k: b[k] for k in ("sr", "lr", "input_scaling", "ridge")}
    return rows, best


def models(best):
    out = {
        "ours (defaults)": ours,
        "ours ablation (td_gain=0)": lambda *a: ours(*a, td_gain=0.0),
    }
    for rep in ("last", "mean"):
        out[f"reservoirpy ridge ESN ({rep} state)"] = (
            lambda *a, rep=rep: reservoirpy_esn(*a, rep=rep, **best[rep]))
    out.update({"reservoir-computing RC_model": reservoir_computing,
                "pyRCN ESNClassifier": pyrcn_esn,
                "sktime MiniRocket + RidgeClassifierCV": minirocket,
                "LogisticRegression (flattened)": logistic})
    return out


def side_by_side(seeds, noise, best, datasets=DEVELOPMENT, table=None):
    """Each model on each dataset, clean and (``noise`` not None) noisy labels."""
    from sklearn_itds.robustness import corrupt_labels

    rows, failures = [], {}
    table = models(best) if table is None else table
    conditions = ("clean",) if noise is None else ("clean", "noisy")
    for name in datasets:
        Xtr, ytr, Xte, yte = load(name)
        for model, run in table.items():
            if model in failures:
                continue
            res = {cond: [] for cond in conditions}
            times = []
            try:
                for seed in range(seeds):
                    for cond in conditions:
                        y = ytr if cond == "clean" else corrupt_labels(
                            ytr, noise, random_state=seed)
                        acc, fit = run(Xtr, y, Xte, yte, seed)
                        res[cond].append(acc)
                        times.append(fit)
            except Exception as exc:  # record why a peer cannot run; do not fake it
                failures[model] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                continue
            row = {"dataset": name, "model": model, "seeds": seeds,
                   "fit_s": float(np.median(times))}
            for cond, accs in res.items():
                row[cond] = [float(np.mean(accs)), float(np.std(accs))]
                row[f"{cond}_per_seed"] = accs
            rows.append(row)
            accs = "  ".join(f"{cond} {row[cond][0]:.3f} +- {row[cond][1]:.3f}"
                             for cond in conditions)
            print(f"{name:17s} {model:38s} {accs}  fit {row['fit_s']:.3f} s", flush=True)
    return rows, failures


def print_table(rows):
    print("\n| dataset | model | clean acc | 30 % wrong labels | fit [s] |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['model']} | {r['clean'][0]:.3f} ± {r['clean'][1]:.3f}"
              f" | {r['noisy'][0]:.3f} ± {r['noisy'][1]:.3f} | {r['fit_s']:.3f} |")
    print("\n| model | mean clean | mean noisy |")
    print("|---|---|---|")
    for m in dict.fromkeys(r["model"] for r in rows):
        sel = [r for r in rows if r["model"] == m]
        print(f"| {m} | {np.mean([r['clean'][0] for r in sel]):.3f} | "
              f"{np.mean([r['noisy'][0] for r in sel]):.3f} |")


def held_out(seeds):
    """The held-out datasets, clean labels, against the main peers."""
    dev = json.loads((RESULTS / "bench_sequences.json").read_text())
    best = dev["reservoirpy_grid"]["selected"]
    table = {k: v for k, v in models(best).items()
             if k.startswith(("ours", "reservoirpy", "sktime", "Logistic"))}
    rows, failures = side_by_side(seeds, None, best, HELD_OUT, table)
    return {"datasets": list(HELD_OUT), "seeds": seeds, "units": UNITS,
            "reservoirpy_selected_on_development": best, "rows": rows,
            "failures": failures}


def held_out_rst(res):
    """The held-out table as an rst fragment (docs/results.rst includes it)."""
    models = list(dict.fromkeys(r["model"] for r in res["rows"]))
    lines = [".. list-table:: Held-out archive datasets, clean labels: test accuracy, "
             f"mean ± std over {res['seeds']} seeds (median fit time)",
             "   :header-rows: 1", "", "   * - dataset"]
    lines += [f"     - {m}" for m in models]
    means = {m: [] for m in models}
    for name in res["datasets"]:
        lines.append(f"   * - {name}")
        for m in models:
            r = [r for r in res["rows"] if r["dataset"] == name and r["model"] == m]
            if r:
                means[m].append(r[0]["clean"][0])
                lines.append(f"     - {r[0]['clean'][0]:.3f} ± {r[0]['clean'][1]:.3f} "
                             f"({r[0]['fit_s']:.2f} s)")
            else:
                lines.append("     - n/a")
    lines.append("   * - mean")
    lines += [f"     - {np.mean(v):.3f}" if len(v) == len(res["datasets"]) else "     - n/a"
              for v in means.values()]
    return "\n".join(lines) + "\n"


def timing(repeats=3):
    from sklearn_itds import ITDSReservoirClassifier

    Xtr, ytr, Xte, yte = load("OSULeaf")
    Ztr, Zte = to_sktime(Xtr), to_sktime(Xte)
    fitted = {}

    def run_ours():
        fitted["ours"] = ITDSReservoirClassifier(random_state=0).fit(Xtr, ytr)

    def run_peer():
        fitted["peer"] = _minirocket(0).fit(Ztr, ytr)

    t_ours, t_peer = alternate(run_ours, run_peer, repeats, warmup=1)
    ratio = t_ours / t_peer
    acc_ours = float(fitted["ours"].score(Xte, yte))
    acc_peer = float(np.mean(fitted["peer"].predict(Zte) == yte))
    print(f"OSULeaf fit  ours {np.median(t_ours):.3f} s   MiniRocket "
          f"{np.median(t_peer):.3f} s   median ratio ours/MiniRocket "
          f"{np.median(ratio):.3f} (min {ratio.min():.3f}, max {ratio.max():.3f})")
    print(f"OSULeaf test accuracy (information only): ours {acc_ours:.3f}, "
          f"MiniRocket {acc_peer:.3f}")
    return {"dataset": "OSULeaf", "repeats": repeats,
            "fit_s_ours": t_ours.tolist(), "fit_s_minirocket": t_peer.tolist(),
            "ratio_ours_over_minirocket": ratio.tolist(),
            "median_ratio": float(np.median(ratio)),
            "test_accuracy_information_only": {"ours": acc_ours, "minirocket": acc_peer}}


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("sklearn-itds", "scikit-learn", "numpy", "reservoirpy",
                 "reservoir-computing", "PyRCN", "torch", "sktime", "numba"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--held-out", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    RESULTS.mkdir(exist_ok=True)
    if args.held_out:
        Xw, yw = load("BasicMotions")[:2]
        _minirocket(0).fit(to_sktime(Xw), yw)  # compile before timing
        load0, start = os.getloadavg(), time.perf_counter()
        res = held_out(args.seeds)
        fragment = held_out_rst(res)
        print(fragment)
        (RESULTS / "bench_sequences_held_out.rst").write_text(fragment)
        out = RESULTS / "bench_sequences_held_out.json"
        out.write_text(json.dumps({**res, "versions": versions(),
                                   "total_s": time.perf_counter() - start,
                                   "loadavg_1min_start_end": [load0[0], os.getloadavg()[0]]},
                                  indent=1))
        print(f"wrote {out}")
        return
    if args.timing:
        out = RESULTS / "bench_sequences_timing.json"
        load0 = os.getloadavg()
        res = timing()
        out.write_text(json.dumps({**res, "versions": versions(),
                                   "loadavg_1min_start_end": [load0[0], os.getloadavg()[0]]},
                                  indent=1))
        print(f"wrote {out}")
        return
    # compile MiniRocket's numba kernels before anything is timed
    Xw, yw = load("BasicMotions")[:2]
    _minirocket(0).fit(to_sktime(Xw), yw)
    load0 = os.getloadavg()
    start = time.perf_counter()
    print("reservoirpy grid (development sets, clean labels):", flush=True)
    grid_rows, best = select_reservoirpy(args.seeds)
    print(f"selected: {best}", flush=True)
    rows, failures = side_by_side(args.seeds, args.noise, best)
    print_table(rows)
    for model, why in failures.items():
        print(f"could not run {model}: {why}")
    out = RESULTS / "bench_sequences.json"
    out.write_text(json.dumps({
        "datasets": list(DEVELOPMENT), "seeds": args.seeds, "noise": args.noise,
        "units": UNITS, "reservoirpy_grid": {"axes": GRID, "rows": grid_rows,
                                             "selected": best},
        "rows": rows, "failures": failures, "versions": versions(),
        "total_s": time.perf_counter() - start,
        # fit times are wall times on a shared 2-core machine: read them with this
        "loadavg_1min_start_end": [load0[0], os.getloadavg()[0]]}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
