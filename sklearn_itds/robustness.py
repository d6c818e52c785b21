"""Perturbations for robustness comparisons, and :func:`robustness_curve`.

The perturbations are plain seeded functions (defined in
:mod:`sklearn_itds._perturbations`): :func:`gaussian_noise`,
:func:`rotate_images`, :func:`corrupt_labels` / :func:`corrupt_targets`
(counter-trials) and :func:`fgsm` (adversarial examples, through
:func:`input_gradient`). :func:`robustness_curve` scores any scikit-learn
estimators against a grid of perturbation levels and seeds, in parallel
through joblib.
"""

from __future__ import annotations

import numbers
import time
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split

from ._perturbations import (corrupt_labels, corrupt_targets, fgsm, gaussian_noise,
                             input_gradient, rotate_images, supports_input_gradient)

__all__ = ["PERTURBATIONS", "corrupt_labels", "corrupt_targets", "fgsm",
           "gaussian_noise", "input_gradient", "robustness_curve", "rotate_images",
           "supports_input_gradient"]

#: The named perturbations of :func:`robustness_curve`.
PERTURBATIONS = ("noise", "rotation", "counter", "fgsm")


def _seeded(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` parameter set to ``seed``."""
    model = clone(estimator)
    params = {k: seed for k in model.get_params()
              if k == "random_state" or k.endswith("__random_state")}
    return model.set_params(**params)


def _split(X, y, test_size, seed, stratify, shuffle):
    return train_test_split(X, y, test_size=test_size, random_state=seed,
                            shuffle=shuffle,
                            stratify=y if (stratify and shuffle) else None)


def _fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of short runs
        model.fit(X, y)
    return time.perf_counter() - start


def _run_unit(name, estimator, X, y, perturbation, levels, seed, opts):
    """Fit once (or once per level for "counter") and score; returns records.

    Module-level and free of lambdas so that joblib (and dask) can ship it.
    """
    X_train, X_test, y_train, y_test = _split(X, y, opts["test_size"], seed,
                                              opts["classification"], opts["shuffle"])
    label = perturbation if isinstance(perturbation, str) else getattr(
        perturbation, "__name__", "custom")
    records = []

    def record(level, model, X_eval, fit_time):
        scorer = check_scoring(model, scoring=opts["scoring"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = float(scorer(model, X_eval, y_test))
        records.append({"estimator": name, "perturbation": label, "level": level,
                        "seed": seed, "score": score, "fit_time": fit_time})

    if perturbation == "counter":
        corrupt = corrupt_labels if opts["classification"] else corrupt_targets
        for level in levels:
            model = _seeded(estimator, seed)
            fit_time = _fit(model, X_train, corrupt(y_train, level, random_state=seed))
            record(level, model, X_test, fit_time)
        return records
    model = _seeded(estimator, seed)
    fit_time = _fit(model, X_train, y_train)
    for level in levels:
        if perturbation == "noise":
            X_eval = gaussian_noise(X_test, level, random_state=seed)
        elif perturbation == "rotation":
            X_eval = rotate_images(X_test, level, opts["image_shape"])
        elif perturbation == "fgsm":
            X_eval = fgsm(model, X_test, y_test, level)
        else:
            X_eval = perturbation(X_test, level, random_state=seed)
        record(level, model, X_eval, fit_time)
    return records


def robustness_curve(estimators: dict, X: ArrayLike, y: ArrayLike, *,
                     perturbation: str | Callable, levels: ArrayLike,
                     n_seeds: int = 5, test_size: float = 0.3,
                     n_jobs: int | None = None, random_state: int = 0,
                     scoring: str | Callable | None = None,
                     image_shape: tuple[int, ...] = (8, 8), shuffle: bool = True,
                     on_unsupported: str = "warn", verbose: int = 0) -> list[dict]:
    """Score estimators on perturbed data, over levels and seeds.

    For each seed ``s`` in ``random_state, random_state + 1, ...,
    random_state + n_seeds - 1`` and each estimator:

    1. ``X, y`` are split by :func:`~sklearn.model_selection.train_test_split`
       with ``random_state=s`` (stratified when the estimators are
       classifiers), the same split for every estimator;
    2. a clone of the estimator, with every parameter named ``random_state``
       or ``*__random_state`` set to ``s``, is fitted on the training set;
    3. it is scored on the test set, perturbed at each level.

    The perturbation of the *test inputs* (``"noise"``, ``"rotation"``,
    ``"fgsm"`` and callables) is applied to a model fitted once per seed on
    clean data. ``"counter"`` instead replaces a fraction ``level`` of the
    *training* labels (:func:`corrupt_labels` for classifiers,
    :func:`corrupt_targets` for regressors, seeded with ``s``), refits for
    every level, and scores on the clean test set.

    Parameters
    ----------
    estimators : dict of str -> estimator
        Display name to (unfitted) scikit-learn estimator; each is cloned for
        every fit. All classifiers or all regressors.
    X : array-like of shape (n_samples, n_features)
        Inputs (i.i.d. samples; for a time series use ``shuffle=False``).
    y : array-like of shape (n_samples,)
        Targets.
    perturbation : {"noise", "rotation", "counter", "fgsm"} or callable
        - ``"noise"``: :func:`gaussian_noise`, level = sigma;
        - ``"rotation"``: :func:`rotate_images`, level = angle in degrees;
        - ``"counter"``: counter-trials, level = fraction of training targets
          replaced;
        - ``"fgsm"``: :func:`fgsm` against each fitted model, level = eps;
        - a callable ``f(X_test, level, random_state=seed) -> X_perturbed``
          applied to the test inputs. With a process or dask backend it must
          be picklable: a module-level function, not a lambda.
    levels : sequence of float
        Perturbation levels; include the unperturbed level (0) to get the
        clean score.
    n_seeds : int, default=5
        Number of seeds (>= 1).
    test_size : float or int, default=0.3
        Passed to :func:`~sklearn.model_selection.train_test_split`.
    n_jobs : int or None, default=None
        Number of joblib workers; one task is one (estimator, seed) pair (one
        per level as well for ``"counter"``). ``None`` follows the active
        joblib backend, so ``with joblib.parallel_backend("dask"):`` spreads
        the work over a dask cluster. Results do not depend on ``n_jobs``.
    random_state : int, default=0
        First seed.
    scoring : str, callable or None, default=None
        A scikit-learn scorer; None uses the estimator's ``score`` (accuracy
        for classifiers, R^2 for regressors).
    image_shape : tuple of int, default=(8, 8)
        Image shape for ``"rotation"``; must multiply to ``n_features``.
    shuffle : bool, default=True
        Shuffle before splitting. With False the test set is the last
        ``test_size`` of the rows for every seed (time series), and only the
        model seeds vary.
    on_unsupported : {"warn", "raise"}, default="warn"
        For ``"fgsm"``, what to do with an estimator that cannot give input
        gradients (see :func:`supports_input_gradient`): skip it with a
        ``UserWarning``, or raise ``TypeError``. Decided before any fit.
    verbose : int, default=0
        joblib verbosity.

    Returns
    -------
    records : list of dict
        One dict per (estimator, level, seed), in the order estimator, seed,
        level, with keys ``estimator`` (name), ``perturbation`` (the name, or
        the callable's ``__name__``), ``level``, ``seed``, ``score`` and
        ``fit_time`` (seconds; shared by the levels of one fit for input
        perturbations). ``pandas.DataFrame(records)`` gives a tidy table.

    Raises
    ------
    ValueError
        For an unknown perturbation, empty ``levels`` or ``estimators``,
        ``n_seeds < 1``, mixed classifiers and regressors, or an
        ``image_shape`` that does not match ``X``.
    TypeError
        For ``"fgsm"`` with an unsupported estimator and
        ``on_unsupported="raise"``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_itds import ITDSMLPClassifier
    >>> from sklearn_itds.robustness import robustness_curve
    >>> X, y = load_digits(return_X_y=True)
    >>> models = {"iTDS": ITDSMLPClassifier(max_iter=20),
    ...           "logistic": LogisticRegression(max_iter=200)}
    >>> records = robustness_curve(models, X[:500] / 16, y[:500],
    ...                            perturbation="noise", levels=[0.0, 0.5],
    ...                            n_seeds=2)
    >>> len(records), sorted(records[0])
    (8, ['estimator', 'fit_time', 'level', 'perturbation', 'score', 'seed'])
    >>> import numpy as np
    >>> def mean_score(name, level):
    ...     return np.mean([r["score"] for r in records
    ...                     if r["estimator"] == name and r["level"] == level])
    >>> bool(mean_score("iTDS", 0.5) < mean_score("iTDS", 0.0))
    True
    """
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name -> estimator.")
    if not (callable(perturbation) or perturbation in PERTURBATIONS):
        raise ValueError(f"perturbation={perturbation!r} must be one of "
                         f"{', '.join(PERTURBATIONS)} or a callable "
                         f"f(X, level, random_state=seed).")
    levels = [float(v) for v in np.atleast_1d(np.asarray(levels, dtype=float))]
    if not levels:
        raise ValueError("levels must contain at least one level.")
    if not isinstance(n_seeds, numbers.Integral) or n_seeds < 1:
        raise ValueError(f"n_seeds={n_seeds!r} must be an int >= 1.")
    if not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state={random_state!r} must be an int (the first "
                         f"seed).")
    if on_unsupported not in ("warn", "raise"):
        raise ValueError(f"on_unsupported={on_unsupported!r} must be 'warn' or 'raise'.")
    kinds = {is_classifier(e) for e in estimators.values()}
    if len(kinds) > 1:
        raise ValueError("estimators mixes classifiers and other estimators; compare "
                         "classifiers and regressors in separate calls.")
    classification = kinds.pop()
    if not classification and not all(is_regressor(e) for e in estimators.values()):
        raise ValueError("estimators must all be classifiers or all regressors.")
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}.")
    if perturbation == "rotation":
        shape = tuple(np.atleast_1d(image_shape))
        if X.ndim != 2 or X.shape[1] != np.prod(shape):
            raise ValueError(f"perturbation='rotation' needs X of shape (n_samples, "
                             f"{int(np.prod(shape))}) for image_shape={shape}; got "
                             f"{X.shape}. Pass the image_shape of your images.")
    if perturbation == "fgsm":
        unsupported = [n for n, e in estimators.items() if not supports_input_gradient(e)]
        if unsupported and on_unsupported == "raise":
            raise TypeError(f"perturbation='fgsm' needs input gradients, which "
                            f"{', '.join(unsupported)} cannot give (supported: "
                            f"ITDSMLPClassifier, MLPClassifier, or a Pipeline of "
                            f"linear scalers ending in one of them).")
        if unsupported:
            warnings.warn(f"perturbation='fgsm': skipping {', '.join(unsupported)}, "
                          f"which cannot give input gradients.", UserWarning,
                          stacklevel=2)
        estimators = {n: e for n, e in estimators.items() if n not in unsupported}
    opts = {"test_size": test_size, "classification": classification,
            "shuffle": bool(shuffle), "scoring": scoring,
            "image_shape": tuple(np.atleast_1d(image_shape))}
    seeds = [int(random_state) + i for i in range(n_seeds)]
    if perturbation == "counter":  # one fit per level: one task per level
        units = [(name, est, [level], seed) for name, est in estimators.items()
                 for seed in seeds for level in levels]
    else:
        units = [(name, est, levels, seed) for name, est in estimators.items()
                 for seed in seeds]
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_run_unit)(name, est, X, y, perturbation, lv, seed, opts)
        for name, est, lv, seed in units)
    return [r for chunk in results for r in chunk]
