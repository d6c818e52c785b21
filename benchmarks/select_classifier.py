"""Measure the settings behind ITDSReservoirClassifier's defaults.

Usage::

    python benchmarks/select_classifier.py {features,reservoir,itds,rejected} [--seeds 3]

Development data only: sktime's JapaneseVowels, BasicMotions and
ItalyPowerDemand (official splits) and load_digits (70/30 split per seed);
the archive's other datasets are held out and never used here. Training
labels are corrupted (a fraction replaced by another class, test labels
clean) at 0, 30 and 40 %. Every configuration is the estimator's defaults
with the printed parameters changed; accuracy is the mean over seeds (the
seed sets the reservoir and, for digits, the split and the corruption).

Stages, each run with the choices of the previous ones as the defaults:

- ``features``: representation x bidirectional x input_to_readout;
- ``reservoir``: spectral_radius x leak_rate x input_scaling x rls_alpha;
- ``itds``: td_gain x td_timescale (one RLS pass), and the LMS readout;
- ``lms``: the LMS readout over many passes (learning_rate x max_iter),
  plain and with iTDS, the readout that became the default;
- ``rejected``: representations measured but not offered (states at four
  points, the reservoir model space of Bianchi et al. 2021), computed here
  from the estimator's own reservoir states with a closed-form ridge readout.

Results are printed and written to ``benchmarks/results/select_classifier_<stage>.json``.
"""

import argparse
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sequences import DEVELOPMENT, load  # noqa: E402

from sklearn_itds import ITDSReservoirClassifier  # noqa: E402
from sklearn_itds.robustness import corrupt_labels  # noqa: E402

DATASETS = DEVELOPMENT + ("digits",)
NOISES = (0.0, 0.3, 0.4)
RESULTS = Path(__file__).resolve().parent / "results"


def dataset(name, seed):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return train_test_split(X, y, test_size=0.3, random_state=seed)
    Xtr, ytr, Xte, yte = load(name)
    return Xtr, Xte, ytr, yte


def score(params, name, seed, noise):
    Xtr, Xte, ytr, yte = dataset(name, seed)
    if noise:
        ytr = corrupt_labels(ytr, noise, random_state=seed)
    model = ITDSReservoirClassifier(random_state=seed, **params)
    return model.fit(Xtr, ytr).score(Xte, yte)


def sweep(grid, seeds, noises=NOISES, datasets=DATASETS):
    rows = []
    for params in grid:
        start = time.perf_counter()
        row = {"params": params}
        for name in datasets:
            for noise in noises:
                acc = [score(params, name, s, noise) for s in range(seeds)]
                row[f"{name}@{noise}"] = [float(np.mean(acc)), float(np.std(acc))]
        for noise in noises:
            row[f"mean@{noise}"] = float(np.mean([row[f"{n}@{noise}"][0] for n in datasets]))
        rows.append(row)
        summary = " ".join(f"{noise:.1f}:{row[f'mean@{noise}']:.4f}" for noise in noises)
        detail = " ".join(f"{n[:5]}={row[f'{n}@0.0'][0]:.3f}" for n in datasets)
        print(f"{params} | mean {summary} | clean {detail} | "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    return rows


def grid_of(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def rejected(seeds):
    """Four-point states and the reservoir model space vs the mean state."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import RidgeClassifier

    from sklearn_itds._representations import reverse_trials
    from sklearn_itds._validation import validate_trials

    def states(model, X):
        trials = validate_trials(model, X, reset=False)
        U = model.encoder_.input_scaler_.transform(
            trials.U.reshape(-1, trials.U.shape[2])).reshape(trials.U.shape)
        T = U.shape[1]
        lengths = trials.lengths if trials.lengths is not None else np.full(len(U), T)
        fwd = model.reservoir_.run_trials(U, T, T)
        back = model.reservoir_.run_trials(reverse_trials(U, lengths), T, T)
        return np.concatenate([fwd, back], axis=2), lengths

    def points(S, lengths):
        rows = np.arange(len(S))
        return np.hstack([S[rows, np.ceil(f * lengths).astype(int) - 1]
                          for f in (0.25, 0.5, 0.75, 1.0)])

    def model_space(H, lengths, alpha=10.0):
        out = []
        for h, L in zip(H, lengths):  # per-trial ridge h(t+1) ~ h(t) A + b
            cur, nxt = h[:L - 1], h[1:L]
            mc, mn = cur.mean(0), nxt.mean(0)
            A = np.linalg.solve((cur - mc).T @ (cur - mc) + alpha * np.eye(h.shape[1]),
                                (cur - mc).T @ (nxt - mn))
            out.append(np.concatenate([A.ravel(), mn - mc @ A]))
        return np.array(out)

    rows = []
    for name in DEVELOPMENT:
        acc = {"points": [], "model_space": [], "mean (the estimator)": []}
        for seed in range(seeds):
            Xtr, Xte, ytr, yte = dataset(name, seed)
            model = ITDSReservoirClassifier(random_state=seed).fit(Xtr, ytr)
            acc["mean (the estimator)"].append(model.score(Xte, yte))
            (Str, ltr), (Ste, lte) = states(model, Xtr), states(model, Xte)
            valid = np.arange(Str.shape[1])[None] < ltr[:, None]
            pca = PCA(75, random_state=0).fit(Str[valid])
            H = {k: pca.transform(S.reshape(-1, S.shape[2])).reshape(*S.shape[:2], -1)
                 for k, S in (("tr", Str), ("te", Ste))}
            for kind, Ftr, Fte in (
                    ("points", points(Str, ltr), points(Ste, lte)),
                    ("model_space", model_space(H["tr"], ltr), model_space(H["te"], lte))):
                mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-12
                clf = RidgeClassifier(alpha=10.0).fit((Ftr - mu) / sd, ytr)
                acc[kind].append(clf.score((Fte - mu) / sd, yte))
        row = {"dataset": name, **{k: [float(np.mean(v)), float(np.std(v))]
                                   for k, v in acc.items()}}
        rows.append(row)
        print(row, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["features", "reservoir", "itds", "lms", "rejected"])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.stage == "features":
        rows = sweep(grid_of(representation=["mean", "last", "mean_last"],
                             bidirectional=[False, True],
                             input_to_readout=[False, True]), args.seeds)
    elif args.stage == "reservoir":
        rows = sweep(grid_of(spectral_radius=[0.9, 1.0, 1.2], leak_rate=[0.5, 1.0],
                             input_scaling=[0.1, 0.3, 1.0],
                             rls_alpha=[1.0, 10.0, 100.0]), args.seeds)
    elif args.stage == "itds":
        grid = [{"td_gain": 0.0}] + grid_of(td_gain=[0.5, 1.0, 3.0],
                                            td_timescale=[1.0, 5.0, 20.0])
        lms = [{"learning_rule": "lms", "max_iter": 20, "td_gain": g, "td_timescale": 5.0}
               for g in (0.0, 1.0, 3.0)]
        rows = sweep(grid + lms, args.seeds)
    elif args.stage == "lms":
        passes = [(0.05, 50), (0.05, 150), (0.1, 100), (0.2, 50)]
        itds = [(0.0, 5.0), (1.0, 5.0), (1.0, 20.0)]
        rows = sweep([{"learning_rule": "lms", "learning_rate": lr, "max_iter": n,
                       "td_gain": g, "td_timescale": tau}
                      for (lr, n), (g, tau) in itertools.product(passes, itds)], args.seeds)
    else:
        rows = rejected(args.seeds)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"select_classifier_{args.stage}.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
