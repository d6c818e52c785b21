"""The ``sklearn-itds`` command line.

``sklearn-itds compare`` (the main job) trains the iTDS estimators, their
``td_gain=0`` ablations and standard scikit-learn classifiers on
``load_digits`` with a fraction of the training labels replaced by a wrong
class, and prints clean test accuracy as mean +- std over seeds.
"""

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ITDSMLPClassifier, ITDSReservoirClassifier
from .robustness import corrupt_labels

__all__ = ["main"]


def default_models(quick=False):
    """The estimators of the default comparison, by display name."""
    mlp_iter = 60 if quick else 200
    res_iter = 5 if quick else 15
    n_res = 200 if quick else 400
    return {
        "ITDSMLPClassifier": ITDSMLPClassifier(max_iter=mlp_iter),
        "ITDSMLPClassifier (td_gain=0)": ITDSMLPClassifier(max_iter=mlp_iter, td_gain=0.0),
        "ITDSReservoirClassifier": ITDSReservoirClassifier(n_reservoir=n_res,
                                                           max_iter=res_iter),
        "ITDSReservoirClassifier (td_gain=0)": ITDSReservoirClassifier(
            n_reservoir=n_res, max_iter=res_iter, td_gain=0.0),
        "MLPClassifier": MLPClassifier(max_iter=mlp_iter),
        "LogisticRegression": make_pipeline(StandardScaler(),
                                            LogisticRegression(max_iter=1000)),
        "SGDClassifier": make_pipeline(StandardScaler(), SGDClassifier()),
    }


def _fit_score(name, model, seed, noise):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    y_noisy = corrupt_labels(y_train, noise, random_state=seed)
    model = clone(model)
    model.set_params(**{k: seed for k in model.get_params() if k.endswith("random_state")})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter convergence warnings
        model.fit(X_train, y_noisy)
    elapsed = time.perf_counter() - start
    return {"estimator": name, "seed": seed, "score": model.score(X_test, y_test),
            "fit_time": elapsed}


def compare(seeds=3, noise=0.3, n_jobs=1, quick=False):
    """Run the default comparison and return tidy records (list of dicts)."""
    models = default_models(quick)
    tasks = [(name, model, seed, noise) for seed in range(seeds)
             for name, model in models.items()]
    return Parallel(n_jobs=n_jobs)(delayed(_fit_score)(*task) for task in tasks)


def format_table(records, title):
    """A plain-text table of mean +- std score and fit time per estimator."""
    names = list(dict.fromkeys(r["estimator"] for r in records))
    width = max(len(n) for n in names)
    lines = [title, f"{'estimator':<{width}}  {'accuracy (mean +- std)':>24}  "
                    f"{'fit time [s]':>12}"]
    lines.append("-" * len(lines[1]))
    for name in names:
        scores = [r["score"] for r in records if r["estimator"] == name]
        times = [r["fit_time"] for r in records if r["estimator"] == name]
        lines.append(f"{name:<{width}}  {np.mean(scores):>14.3f} +- {np.std(scores):.3f}  "
                     f"{np.mean(times):>12.2f}")
    return "\n".join(lines)


def main(argv=None):
    """Entry point of the ``sklearn-itds`` console script."""
    parser = argparse.ArgumentParser(prog="sklearn-itds", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="iTDS vs ablations vs scikit-learn on noisy labels")
    cmp.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    cmp.add_argument("--noise", type=float, default=0.3,
                     help="fraction of training labels replaced (default 0.3)")
    cmp.add_argument("--jobs", type=int, default=1, help="parallel jobs (joblib)")
    cmp.add_argument("--quick", action="store_true", help="smaller models, fewer epochs")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if not 0 <= args.noise < 1:
        parser.error("--noise must be in [0, 1)")
    records = compare(args.seeds, args.noise, args.jobs, args.quick)
    title = (f"load_digits, {args.noise:.0%} of training labels replaced by a wrong "
             f"class; clean test accuracy over {args.seeds} seed(s)")
    print(format_table(records, title))
    return 0
