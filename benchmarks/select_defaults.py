"""Measure the settings behind the estimators' iTDS defaults.

Usage: python benchmarks/select_defaults.py {mlp,reservoir,regressor} [--seeds N]

Prints, per configuration, clean-test accuracy (classifiers; load_digits 70/30,
training labels corrupted at the given rate) or NRMSE/MAE (regressor), as
mean +- std over seeds.
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from sklearn_itds.datasets import load_task
from sklearn_itds.robustness import corrupt_labels


def digits_split(seed, noise):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16, y, test_size=0.3, random_state=seed)
    return Xtr, Xte, corrupt_labels(ytr, noise, random_state=seed), yte


def sweep_classifier(make, grid, seeds, noises):
    for noise in noises:
        for params in grid:
            scores = []
            for seed in range(seeds):
                Xtr, Xte, ytr, yte = digits_split(seed, noise)
                scores.append(make(seed, **params).fit(Xtr, ytr).score(Xte, yte))
            print(f"noise={noise:.1f} {params}: {np.mean(scores):.3f} +- "
                  f"{np.std(scores):.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["mlp", "reservoir", "regressor"])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.which == "mlp":
        grid = [{"td_gain": 0.0}] + [{"td_gain": g, "td_timescale": t}
                                     for g in (1.0, 2.0) for t in (5.0, 20.0, 100.0)]
        sweep_classifier(lambda s, **p: ITDSMLPClassifier(random_state=s, **p),
                         grid, args.seeds, (0.0, 0.3, 0.4))
    elif args.which == "reservoir":
        grid = [{"td_gain": 0.0}] + [{"td_gain": g, "td_timescale": t}
                                     for g in (1.0, 2.0, 3.0) for t in (5.0, 20.0)]
        sweep_classifier(lambda s, **p: ITDSReservoirClassifier(random_state=s, **p),
                         grid, args.seeds, (0.0, 0.3, 0.4))
    else:
        task = load_task("mackey_glass", random_state=0)
        n = task.n_train
        for g, t in [(0.0, 1.0), (0.01, 1.0), (0.01, 5.0), (0.1, 5.0)]:
            err = []
            for seed in range(args.seeds):
                m = ITDSReservoirRegressor(td_gain=g, td_timescale=t, washout=100,
                                           random_state=seed)
                pred = m.fit(task.X[:n], task.y[:n]).predict(task.X[n:])
                err.append(np.sqrt(np.mean((pred - task.y[n:]) ** 2)) / np.std(task.y[n:]))
            print(f"mackey_glass td_gain={g} td_timescale={t}: NRMSE "
                  f"{np.mean(err):.4f} +- {np.std(err):.4f}", flush=True)
        gen = load_task("sines4")
        n = gen.n_train
        for tf in (False, True):
            for g, t in [(0.0, 1.0), (0.01, 1.0), (0.1, 5.0)]:
                err = []
                for seed in range(args.seeds):
                    m = ITDSReservoirRegressor(output_feedback=True, teacher_forcing=tf,
                                               spectral_radius=1.2, washout=100,
                                               td_gain=g, td_timescale=t,
                                               random_state=seed)
                    pred = m.fit(gen.X[:n], gen.y[:n]).predict(gen.X[n:])
                    err.append(np.mean(np.abs(pred - gen.y[n:])))
                print(f"sines4 teacher_forcing={tf} td_gain={g} td_timescale={t}: "
                      f"MAE {np.mean(err):.4f} +- {np.std(err):.4f}", flush=True)


if __name__ == "__main__":
    main()
