"""Parameter validation shared by the estimators.

Built on the public :func:`sklearn.utils.check_scalar`, which raises
``TypeError`` for a wrong type and ``ValueError`` naming the parameter and its
allowed range.
"""

import numbers
import warnings
from contextlib import contextmanager

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_consistent_length, check_scalar, column_or_1d
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

__all__ = [
    "check_bool",
    "check_classes",
    "check_option",
    "check_params",
    "partial_fit_classes",
    "unchanged_on_error",
    "validate_trials",
    "warn_divergence",
]

REAL = numbers.Real
INT = numbers.Integral

# (type, min, max, include_boundaries) for the parameters every estimator has.
COMMON = {
    "td_gain": (REAL, 0.0, None, "left"),
    "td_timescale": (REAL, 0.0, None, "neither"),
    "readout_sparsity": (REAL, 0.0, 1.0, "left"),
    "max_iter": (INT, 1, None, "left"),
    "verbose": (INT, 0, None, "left"),
}

RESERVOIR = {
    "n_reservoir": (INT, 1, None, "left"),
    "spectral_radius": (REAL, 0.0, None, "left"),
    "density": (REAL, 0.0, 1.0, "right"),
    "leak_rate": (REAL, 0.0, 1.0, "right"),
    "input_scaling": (REAL, 0.0, None, "left"),
    "bias_scaling": (REAL, 0.0, None, "left"),
    "learning_rate": (REAL, 0.0, None, "neither"),
    "rls_alpha": (REAL, 0.0, None, "neither"),
}


def check_params(estimator, specs):
    """Check each ``name: (type, min, max, boundaries)`` in ``specs``."""
    for name, (kind, lo, hi, bounds) in specs.items():
        value = getattr(estimator, name)
        if kind is INT and name != "verbose" and isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be an int, got {value!r}.")
        check_scalar(value, name, kind, min_val=lo, max_val=hi,
                     include_boundaries=bounds)


def check_option(value, name, options):
    """Raise ``ValueError`` unless ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name}={value!r} is not valid; use one of {allowed}.")


def check_bool(value, name):
    """Raise ``TypeError`` unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def warn_divergence(estimator, epoch, hint):
    """Warn that training diverged and the last finite weights were kept."""
    warnings.warn(
        f"{type(estimator).__name__} diverged in epoch {epoch + 1}: the weights "
        f"or the training errors became non-finite. Training stopped and the "
        f"weights from the start of that epoch were kept. {hint}",
        ConvergenceWarning,
        stacklevel=3,
    )


@contextmanager
def unchanged_on_error(estimator):
    """Restore the estimator's attributes if the block raises.

    Used around input validation, which may set ``n_features_in_`` before a
    later check rejects the call: a rejected call must leave a fitted model
    exactly as it was.
    """
    saved = estimator.__dict__.copy()
    try:
        yield
    except Exception:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _is_3d(X):
    if sparse.issparse(X):
        return False
    if hasattr(X, "ndim"):
        return X.ndim == 3
    return isinstance(X, (list, tuple)) and np.ndim(X) == 3


def validate_trials(estimator, X, y="no_validation", *, reset):
    """Validate 2-D samples or 3-D sequences ``(n_samples, n_steps, n_features)``.

    A 3-D array is checked as the 2-D stack of its time steps, so
    ``n_features_in_`` counts the features of one time step. Returns ``X``, or
    ``(X, y)`` when ``y`` is given (pass ``y`` in ``fit``, even if None).
    """
    if not _is_3d(X):
        return validate_data(estimator, X, y, reset=reset,
                             accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES)
    X = check_array(X, allow_nd=True, dtype=FLOAT_DTYPES,
                    input_name="X", estimator=estimator)
    n, T, F = X.shape
    if T < 1:
        raise ValueError("X has 0 time steps; each sequence needs at least one.")
    validate_data(estimator, X.reshape(n * T, F), reset=reset)
    if isinstance(y, str) and y == "no_validation":
        return X
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but "
                         f"the target y is None.")
    y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"),
                     warn=True)
    check_consistent_length(X, y)
    return X, y


def check_classes(estimator, y, classes):
    """Labels to class indices for ``fit`` (``classes=None``) or ``partial_fit``.

    Returns ``(classes_, y_index)``. Rejects regression targets, a single class,
    a changed ``classes`` and labels outside ``classes``.
    """
    check_classification_targets(y)
    if classes is None:
        classes_, y_index = np.unique(y, return_inverse=True)
    else:
        classes_ = unique_labels(np.asarray(classes))
        unseen = np.setdiff1d(np.unique(y), classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} that are not in classes="
                f"{classes_.tolist()}; pass every label in `classes` on the first "
                f"call to partial_fit.")
        y_index = np.searchsorted(classes_, y)
    if classes_.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; "
            f"got one class only: {classes_.tolist()}.")
    return classes_, y_index


def partial_fit_classes(estimator, classes):
    """The ``classes`` to use in ``partial_fit``; checks first-call rules."""
    if not hasattr(estimator, "classes_"):
        if classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, e.g. "
                "partial_fit(X, y, classes=np.unique(y_all)).")
        return classes
    if classes is not None and not np.array_equal(
            unique_labels(np.asarray(classes)), estimator.classes_):
        raise ValueError(
            f"classes={np.asarray(classes).tolist()} differs from the classes of "
            f"the first partial_fit call, {estimator.classes_.tolist()}.")
    return estimator.classes_
