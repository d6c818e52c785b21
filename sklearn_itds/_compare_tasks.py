"""Per-task comparisons behind ``sklearn-itds compare --task``.

For every task of :mod:`sklearn_itds.datasets`:

- **classification** tasks (``kind`` "classification" or
  "sequence_classification"): the task's iTDS estimator, its ``td_gain=0``
  ablation, sklearn's ``MLPClassifier`` and ``LogisticRegression``. Each
  iterative model is trained epoch by epoch (``partial_fit`` on a fresh
  permutation of the training set, seeded) for a fixed epoch budget, and
  scored on the held-out 30 % (stratified split) after every epoch.
  ``LogisticRegression`` is fitted once (no learning curve).
- **time-series** tasks (one_step, multi_step, tracking, generation):
  ``ITDSReservoirRegressor`` with the package defaults, its ``td_gain=0``
  ablation, and a **ridge echo-state peer**: the same reservoir (same seed),
  states driven by the inputs (and, for generation tasks, by the previous
  *target* through the feedback weights: teacher forcing), and a
  :class:`sklearn.linear_model.Ridge` readout (``alpha = rls_alpha``)
  fitted on those states after the washout. Generation tasks are scored on
  the autonomous continuation (the readout's own output fed back). The
  learning curve has 10 checkpoints ``k``: after training on rows
  ``[0, k)`` the model predicts rows ``[k, k + n_test)`` (for ``k = n_train``
  this is the test set) and is scored by NRMSE.

Learning speed is the first checkpoint (epoch or training step) at which a
model's score reaches a common threshold: 95 % of the best mean final
accuracy among the compared models, or 1.5 times the best mean final NRMSE
but at most 0.5 (``NRMSE_CAP``; a model above it has not learned the series).
"""

import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from . import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from ._trials import InputScaler
from .datasets import load_task
from .robustness import _seeded, corrupt_labels

__all__ = ["CLASSIFICATION_KINDS", "nrmse", "run_task", "summarize", "task_models"]

CLASSIFICATION_KINDS = ("classification", "sequence_classification")
N_CHECKPOINTS = 10
RIDGE_PEER = "ridge ESN (sklearn Ridge, same reservoir)"
NRMSE_CAP = 0.5  # an NRMSE above this has not learned the series


def nrmse(y_true, y_pred):
    """Root mean squared error divided by the standard deviation of ``y_true``.

    For several outputs: ``sqrt(mean squared error / mean per-column variance)``.
    """
    y_true = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2) / np.mean(y_true.var(axis=0))))


def _flatten(X):
    """Sequences (n, T, F) to rows (n, T * F), for the static peers."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def task_models(task, quick=False):
    """The estimators compared on ``task`` (a :func:`load_task` Bunch), by name."""
    if task.kind in CLASSIFICATION_KINDS:
        epochs = 60 if quick else 200
        params = dict(task.estimator_params)
        if task.estimator == "ITDSReservoirClassifier":
            n_res = 200 if quick else 400
            itds = ITDSReservoirClassifier(n_reservoir=n_res, **params)
            # partial_fit passes; the default RLS readout continues its
            # recursive ridge fit across them, so a few suffice
            epochs = 5 if quick else 10
        else:
            itds = ITDSMLPClassifier(**params)
        name = type(itds).__name__
        flat = [FunctionTransformer(_flatten)] if task.kind != "classification" else []
        return epochs, {
            name: itds,
            f"{name} (td_gain=0)": clone(itds).set_params(td_gain=0.0),
            "MLPClassifier": make_pipeline(*flat, MLPClassifier()) if flat
            else MLPClassifier(),
            "LogisticRegression": make_pipeline(*flat, StandardScaler(),
                                                LogisticRegression(max_iter=1000)),
        }
    params = dict(task.estimator_params)
    params.setdefault("n_reservoir", 100 if quick else 300)
    params.setdefault("washout", min(100, task.n_train // 5))
    itds = ITDSReservoirRegressor(**params)
    return None, {
        "ITDSReservoirRegressor": itds,
        "ITDSReservoirRegressor (td_gain=0)": clone(itds).set_params(td_gain=0.0),
        RIDGE_PEER: itds,  # the peer reads its reservoir parameters from it
    }


# -- classification -----------------------------------------------------------------
def _classification_unit(task_name, name, model, seed, epochs, noise, options):
    task = load_task(task_name, random_state=seed, **options)
    X_tr, X_te, y_tr, y_te = train_test_split(task.X, task.y, test_size=0.3,
                                              random_state=seed, stratify=task.y)
    if noise:
        y_tr = corrupt_labels(y_tr, noise, random_state=seed)
    model = _seeded(model, seed)
    start = time.perf_counter()
    curve = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "LogisticRegression":
            model.fit(X_tr, y_tr)
            curve.append(model.score(X_te, y_te))
        else:
            rng = np.random.RandomState(seed)
            classes = np.unique(task.y)
            for _ in range(epochs):
                order = rng.permutation(len(y_tr))
                if hasattr(model, "steps"):  # peer pipeline: transform, then learn
                    Xt = model[:-1].fit_transform(X_tr[order])
                    model[-1].partial_fit(Xt, y_tr[order], classes=classes)
                else:
                    model.partial_fit(X_tr[order], y_tr[order], classes=classes)
                curve.append(model.score(X_te, y_te))
    return {"task": task_name, "estimator": name, "seed": seed, "metric": "accuracy",
            "score": float(curve[-1]), "curve": [float(c) for c in curve],
            "checkpoints": list(range(1, len(curve) + 1)), "unit": "epoch",
            "fit_time": time.perf_counter() - start}


# -- time series --------------------------------------------------------------------
def _checkpoints(task, washout):
    ks = np.linspace(task.n_train / N_CHECKPOINTS, task.n_train, N_CHECKPOINTS)
    ks = np.unique(np.maximum(np.round(ks).astype(int), washout + 2))
    return [int(k) for k in ks]


def _itds_series(model, task, ks, n_test):
    """Chunked partial_fit; after each chunk, predict the next n_test rows."""
    X, y = task.X, task.y
    curve, start = [], 0
    for k in ks:
        model.partial_fit(X[start:k], y[start:k])
        start = k
        try:
            curve.append(nrmse(y[k:k + n_test], model.predict(X[k:k + n_test])))
        except ValueError:  # a diverged autonomous continuation
            curve.append(np.inf)
    return curve


def _teacher_states(res, X, Y):
    """Reservoir states over the whole series, feedback = previous target."""
    drive = res.drive(X)
    if res.W_fb is not None:
        drive[1:] += Y[:-1] @ res.W_fb
    S = np.empty((len(X), res.n_reservoir))
    x = np.zeros(res.n_reservoir)
    for t, d in enumerate(drive):
        x = res.step(x, d)
        S[t] = x
    return S


def _ridge_series(params, task, ks, n_test):
    """The ridge echo-state peer: same reservoir and rows, Ridge readout, per checkpoint.

    As the regressor's sequential mode does, the inputs are scaled with the
    training rows' statistics, the targets standardized, and the readout reads
    ``[x(t), u(t)]`` with ``input_to_readout``; states are driven by the
    previous (standardized) target where there is output feedback.
    """
    shell = ITDSReservoirRegressor(**params)
    Y = np.asarray(task.y, dtype=float).reshape(len(task.y), -1)
    X = np.asarray(task.X, dtype=float)
    n = task.n_train
    target = StandardScaler().fit(Y[:n])
    Ys = target.transform(Y)
    U = InputScaler().fit(X[:n]).transform(X) if shell.scale_inputs else X
    feedback = bool(params.get("output_feedback"))
    shell._build(X.shape[1], Y.shape[1], Y.shape[1] if feedback else 0)
    res = shell.reservoir_
    S = _teacher_states(res, U, Ys)
    rows = np.hstack([S, U]) if shell.input_to_readout else S
    washout = params["washout"]
    curve = []
    for k in ks:
        ridge = Ridge(alpha=shell._rls_alpha()).fit(rows[washout:k], Ys[washout:k])
        W = ridge.coef_.reshape(Y.shape[1], -1).T
        b = np.reshape(ridge.intercept_, -1)
        if not feedback:
            Z = rows[k:k + n_test] @ W + b
        else:  # autonomous continuation from the state and target at step k - 1
            x, y_prev = S[k - 1].copy(), Ys[k - 1]
            drive = res.drive(U[k:k + n_test])
            Z = np.empty((len(drive), Y.shape[1]))
            with np.errstate(all="ignore"):
                for t, d in enumerate(drive):
                    x = res.step(x, d + y_prev @ res.W_fb)
                    r = np.concatenate([x, U[k + t]]) if shell.input_to_readout else x
                    Z[t] = y_prev = r @ W + b
        with np.errstate(all="ignore"):
            Z = target.inverse_transform(Z)
        curve.append(nrmse(Y[k:k + n_test], Z) if np.isfinite(Z).all() else np.inf)
    return curve


def _series_unit(task_name, name, model, seed, options):
    task = load_task(task_name, random_state=seed, **options)
    n_test = len(task.y) - task.n_train
    model = _seeded(model, seed)
    ks = _checkpoints(task, model.washout)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == RIDGE_PEER:
            curve = _ridge_series(model.get_params(), task, ks, n_test)
        else:
            curve = _itds_series(model, task, ks, n_test)
    return {"task": task_name, "estimator": name, "seed": seed, "metric": "NRMSE",
            "score": float(curve[-1]), "curve": [float(c) for c in curve],
            "checkpoints": ks, "unit": "step", "fit_time": time.perf_counter() - start}


def run_task(task_name, seeds=3, quick=False, n_jobs=1, noise=0.0, progress=None,
             **options):
    """Compare the models of one task over ``seeds`` seeds; tidy records.

    Each record has ``task``, ``estimator``, ``seed``, ``metric`` ("accuracy"
    or "NRMSE"), ``score`` (final), ``curve`` (score per checkpoint),
    ``checkpoints`` (epochs or training steps), ``unit`` and ``fit_time``
    (seconds, training and checkpoint scoring together). ``noise`` replaces
    that fraction of the training labels of classification tasks.
    ``progress``, if given, is called with each record as it arrives.
    ``options`` are size options of :func:`~sklearn_itds.datasets.load_task`.
    """
    task = load_task(task_name, random_state=0, **options)
    epochs, models = task_models(task, quick)
    if task.kind in CLASSIFICATION_KINDS:
        jobs = (delayed(_classification_unit)(task_name, name, model, seed, epochs,
                                              noise, options)
                for seed in range(seeds) for name, model in models.items())
    else:
        jobs = (delayed(_series_unit)(task_name, name, model, seed, options)
                for seed in range(seeds) for name, model in models.items())
    return run_parallel(jobs, n_jobs, progress)


def run_parallel(jobs, n_jobs, progress=None):
    """``joblib.Parallel`` over ``jobs``, calling ``progress(record)`` as each
    result arrives (in order); returns the list of records."""
    if progress is None:
        return Parallel(n_jobs=n_jobs)(jobs)
    records = []
    for record in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        progress(record)
        records.append(record)
    return records


def _speed(records, threshold, higher_is_better):
    """First checkpoint reaching the threshold per seed (None: never)."""
    out = []
    for r in records:
        reached = [k for k, s in zip(r["checkpoints"], r["curve"])
                   if (s >= threshold if higher_is_better else s <= threshold)]
        out.append(reached[0] if reached else None)
    return out


def summarize(records):
    """Rows (estimator, final mean, final std, speed text, fit time) and the threshold."""
    names = list(dict.fromkeys(r["estimator"] for r in records))
    metric = records[0]["metric"]
    higher = metric == "accuracy"
    finals = {n: [r["score"] for r in records if r["estimator"] == n] for n in names}
    means = {n: float(np.mean(v)) for n, v in finals.items()}
    finite = [m for m in means.values() if np.isfinite(m)]
    best = (max(finite) if higher else min(finite)) if finite else np.nan
    threshold = 0.95 * best if higher else min(1.5 * best, NRMSE_CAP)
    rows = []
    for n in names:
        mine = [r for r in records if r["estimator"] == n]
        if len(mine[0]["curve"]) < 2:
            speed = "-"
        else:
            hits = _speed(mine, threshold, higher)
            got = [h for h in hits if h is not None]
            speed = (f"{np.mean(got):.1f} +- {np.std(got):.1f} ({len(got)}/{len(hits)})"
                     if got else f"never (0/{len(hits)})")
        rows.append((n, means[n], float(np.std(finals[n])), speed,
                     float(np.mean([r["fit_time"] for r in mine]))))
    return rows, threshold
