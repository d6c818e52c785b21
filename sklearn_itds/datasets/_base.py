"""Shared helpers for the task generators: option checks and time bases.

Every generator in this package is a plain function that takes
``random_state`` plus keyword-only size options and returns a dict with
``X``, ``y``, ``n_train`` and ``description`` (and, for a few tasks, extra
arrays).  :func:`sklearn_itds.datasets.load_task` turns that dict into a
:class:`sklearn.utils.Bunch`.
"""

import numbers

import numpy as np
from sklearn.utils import check_scalar

#: The task kinds used in ``Bunch.kind``.
KINDS = (
    "classification",  # i.i.d. static samples, X 2-D, one label per row
    "sequence_classification",  # X 3-D (n_samples, n_steps, n_features)
    "one_step",  # one series, y(t) = next value of the input series
    "multi_step",  # one series, y(t) = value of the series h steps ahead
    "tracking",  # one series, y(t) is a function of the input history
    "generation",  # X is a column of ones, y is a signal to self-generate
)

REGRESSOR = "ITDSReservoirRegressor"
CLASSIFIER = "ITDSReservoirClassifier"
MLP = "ITDSMLPClassifier"


def check_int(value, name, min_val, max_val=None):
    """Validate an integer option; raise ``ValueError`` naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, numbers.Integral
    ):
        raise ValueError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__})."
        )
    try:
        return int(check_scalar(value, name, numbers.Integral, min_val=min_val,
                                max_val=max_val))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Invalid option {name}: {exc}") from None


def check_float(value, name, min_val, max_val=None, include_min=True):
    """Validate a real-valued option; raise ``ValueError`` naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a real number, got {value!r} "
            f"({type(value).__name__})."
        )
    bounds = "both" if include_min else "right"
    try:
        return float(check_scalar(value, name, numbers.Real, min_val=min_val,
                                  max_val=max_val,
                                  include_boundaries=bounds))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Invalid option {name}: {exc}") from None


def resolve_n_train(n_train, n_rows, fraction):
    """Default ``n_train`` to ``fraction`` of the rows; check it otherwise.

    Either way at least one row is left for training and one for testing.
    """
    if n_rows < 2:
        raise ValueError(f"Invalid option n_steps: the task has {n_rows} row(s); it "
                         f"needs at least 2 (one to train on, one to test).")
    if n_train is None:
        return int(np.clip(round(fraction * n_rows), 1, n_rows - 1))
    return check_int(n_train, "n_train", 1, n_rows - 1)


def as_column(values):
    """Return a 1-D series as a 2-D ``(n_steps, 1)`` float array."""
    return np.asarray(values, dtype=float).reshape(-1, 1)
