"""Parameter validation shared by the estimators.

Built on the public :func:`sklearn.utils.check_scalar`, which raises
``TypeError`` for a wrong type and ``ValueError`` naming the parameter and its
allowed range.
"""

import copy
import numbers
import warnings
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_consistent_length, check_scalar, column_or_1d
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import FLOAT_DTYPES, _check_sample_weight, validate_data

from ._itds import ECHO_READINGS, RUNAWAY_FACTOR, TD_SIGNS

__all__ = [
    "Trials",
    "check_auto",
    "check_bool",
    "check_classes",
    "check_echo",
    "check_known_labels",
    "check_labels",
    "check_numeric_y",
    "check_option",
    "check_params",
    "check_not_ragged",
    "check_random_state_param",
    "check_unchanged_params",
    "check_series_weights",
    "check_weights",
    "fitted_params",
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
    "td_timescale": (REAL, 1.0, None, "left"),  # a slow echo: 1 follows at once
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
    "learning_rate_init": (REAL, 0.0, None, "neither"),
    "rls_alpha": (REAL, 0.0, None, "neither"),
}


def check_params(estimator, specs, allow_inf=()):
    """Check each ``name: (type, min, max, boundaries)`` in ``specs``.

    On top of :func:`sklearn.utils.check_scalar`: NaN is rejected for every
    real parameter (``check_scalar`` lets it through, since every comparison
    with NaN is False), and so is an infinite value unless the parameter is
    named in ``allow_inf`` (none is today: no parameter gives infinity a
    meaning).
    """
    for name, (kind, lo, hi, bounds) in specs.items():
        value = getattr(estimator, name)
        if kind is INT and name != "verbose" and isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be an int, got {value!r}.")
        if isinstance(value, REAL) and not isinstance(value, INT) and np.isnan(value):
            raise ValueError(f"{name}={value!r} is not a number (NaN); pass a finite "
                             f"{_range_text(lo, hi, bounds)}.")
        check_scalar(value, name, kind, min_val=lo, max_val=hi,
                     include_boundaries=bounds)
        if isinstance(value, REAL) and not isinstance(value, INT) and \
                np.isinf(value) and name not in allow_inf:
            raise ValueError(f"{name}={value!r} is infinite; pass a finite "
                             f"{_range_text(lo, hi, bounds)}.")


def _range_text(lo, hi, bounds):
    """``number >= 0``, ``number in (0, 1]``, ...: the allowed range in words."""
    left = bounds in ("left", "both")
    right = bounds in ("right", "both")
    if lo is not None and hi is not None:
        return f"number in {'[' if left else '('}{lo}, {hi}{']' if right else ')'}"
    if lo is not None:
        return f"number {'>=' if left else '>'} {lo}"
    if hi is not None:
        return f"number {'<=' if right else '<'} {hi}"
    return "number"


def check_random_state_param(value, name="random_state"):
    """Raise unless ``value`` can seed :func:`sklearn.utils.check_random_state`.

    Accepted: None, an int in ``[0, 2**32 - 1]`` or a ``numpy.random.RandomState``
    (numpy's own error for other seeds does not name the parameter).
    """
    if value is None or isinstance(value, np.random.RandomState):
        return
    if isinstance(value, INT) and not isinstance(value, (bool, np.bool_)):
        if 0 <= value <= 2**32 - 1:
            return
        raise ValueError(f"{name}={value!r} is out of range; use an int in "
                         f"[0, 2**32 - 1], a numpy.random.RandomState or None.")
    raise TypeError(f"{name} must be None, an int in [0, 2**32 - 1] or a "
                    f"numpy.random.RandomState, got {value!r}.")


def _same_value(name, a, b):
    if name == "dtype":
        try:
            return np.dtype(a) == np.dtype(b)
        except TypeError:
            return False
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        return np.array_equal(np.atleast_1d(np.asarray(a, dtype=object)),
                              np.atleast_1d(np.asarray(b, dtype=object)))
    try:
        flags = (isinstance(a, (bool, np.bool_)), isinstance(b, (bool, np.bool_)))
        return flags[0] == flags[1] and bool(a == b)
    except (TypeError, ValueError):
        return False


def check_unchanged_params(estimator, fitted, live=()):
    """Raise if a parameter the fitted model was built with has been changed.

    ``fitted`` is the ``get_params(deep=False)`` of the fit that built the
    model; ``live`` names the parameters that may change between calls
    (read afresh by every call, e.g. ``max_iter``). Used by ``partial_fit``
    (and a warm-started ``fit``), which continue the fitted model.
    """
    current = estimator.get_params(deep=False)
    for name, old in fitted.items():
        if name in live:
            continue
        new = current[name]
        if not _same_value(name, old, new):
            raise ValueError(
                f"{name} was changed from {old!r} to {new!r} after the model was "
                f"fitted, but it is part of the fitted model, which this call "
                f"continues. Set it back to {old!r}, or call fit"
                f"{' (without warm_start)' if hasattr(estimator, 'warm_start') else ''} "
                f"to start again with the new value.")


def fitted_params(estimator, live=()):
    """The parameters a fitted model is built with (all but ``live``)."""
    return {k: v for k, v in estimator.get_params(deep=False).items() if k not in live}


def check_numeric_y(estimator, y):
    """A regression target as floats, rejecting NaN and inf like scikit-learn.

    ``validate_data(..., y_numeric=True)`` converts an object array to float
    *after* its finiteness check, so a ``None`` in an object array became NaN
    silently; this checks the converted values.
    """
    return check_array(y, ensure_2d=False, dtype=FLOAT_DTYPES, input_name="y",
                       estimator=estimator)


def check_labels(estimator, X, y):
    """``y`` as a 1-D array of one label per row of ``X`` (for diagnostics)."""
    y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y",
                                 estimator=estimator), warn=False)
    check_consistent_length(X, y)
    return y


def check_known_labels(estimator, y):
    """Raise if 1-D labels ``y`` (for diagnostics of a fitted classifier)
    hold a label outside ``classes_``."""
    unseen = np.setdiff1d(np.unique(y), estimator.classes_)
    if unseen.size:
        raise ValueError(f"y contains labels {unseen.tolist()} that the model was "
                         f"not fitted on (classes_ = {estimator.classes_.tolist()}).")


def check_option(value, name, options):
    """Raise ``ValueError`` unless ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name}={value!r} is not valid; use one of {allowed}.")


def check_auto(estimator, name, specs):
    """For a parameter that takes a number or "auto": True for "auto", which
    is then dropped from ``specs`` (the estimator resolves it); any other
    string is a ``ValueError`` that names both forms."""
    value = getattr(estimator, name)
    if not isinstance(value, str):
        return False
    if value != "auto":
        kind, *limits = specs[name]
        allowed = _range_text(*limits).replace("number", "an int" if kind is INT
                                               else "a number")
        raise ValueError(f"{name}={value!r} is not valid; use 'auto' or {allowed}.")
    del specs[name]
    return True


def check_echo(estimator, readings=("learned", "weight_average")):
    """Check the ``echo`` and ``td_sign`` parameters every estimator has.

    ``echo`` is one of ``readings`` (a subset of
    :data:`sklearn_itds._itds.ECHO_READINGS`: the decision echo is the
    reservoir classifier's); ``td_sign`` is the int 1 or -1 (not a bool or a
    float: it is a sign, not a gain).
    """
    if (isinstance(estimator.echo, str) and estimator.echo in ECHO_READINGS
            and estimator.echo not in readings):
        raise ValueError(f"echo={estimator.echo!r} is a reading for classifiers "
                         f"whose samples are revisited by fit "
                         f"(ITDSReservoirClassifier); {type(estimator).__name__} "
                         f"takes echo in {list(readings)}.")
    check_option(estimator.echo, "echo", readings)
    value = estimator.td_sign
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, INT)
            or value not in TD_SIGNS):
        raise ValueError(f"td_sign={value!r} is not valid; use 1 (the default "
                         f"rule) or -1 (the top-down term flipped).")


def check_weights(sample_weight, X):
    """``sample_weight`` for the samples of ``X``, validated (None stays None).

    scikit-learn's ``_check_sample_weight``: one finite, non-negative weight
    per sample, not all zero (a number is a weight for every sample); its
    errors name ``sample_weight`` and what is wrong. Returns float64 (the
    caller's array is never written to).
    """
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, X, dtype=np.float64,
                                ensure_non_negative=True)


def check_series_weights(sample_weight, series, many):
    """Per-step weights for each series of ``series`` (a list of ``(X, y)``).

    One series (``many`` False): ``sample_weight`` is one weight per step.
    A list of series: a list of such weights (or None), one per series; only
    all the steps together must have a non-zero weight. Returns a list with
    one float64 array (or None) per series.
    """
    if sample_weight is None:
        return [None] * len(series)
    if not many:
        return [check_weights(sample_weight, series[0][0])]
    if not isinstance(sample_weight, (list, tuple)) or len(sample_weight) != len(series):
        raise ValueError(f"When X is a list of {len(series)} series, sample_weight must "
                         f"be a list of {len(series)} arrays: one weight per time step "
                         f"of each series.")
    weights = [None if w is None else _check_sample_weight(
        w, X, dtype=np.float64, ensure_non_negative=True, allow_all_zero_weights=True)
        for w, (X, _) in zip(sample_weight, series)]
    if all(w is not None and not w.any() for w in weights):
        raise ValueError("sample_weight is zero at every step of every series: there "
                         "is nothing to learn from.")
    return weights


def check_bool(value, name):
    """Raise ``TypeError`` unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def warn_divergence(estimator, epoch, hint, runaway=True):
    """Warn that training diverged and the last finite weights were kept.

    ``runaway``: the estimator also watches for finite outputs that ran away
    (the reservoir readouts, :data:`~sklearn_itds._itds.RUNAWAY_FACTOR`).
    """
    ran_away = (f", or its outputs ran away to over {RUNAWAY_FACTOR:g} times the "
                f"targets" if runaway else "")
    warnings.warn(
        f"{type(estimator).__name__} diverged in epoch {epoch + 1}: the weights "
        f"or the training errors became non-finite{ran_away}. Training stopped and "
        f"the weights from the start of that epoch were kept. {hint}",
        ConvergenceWarning,
        stacklevel=3,
    )


@contextmanager
def unchanged_on_error(estimator, deep=(), grow=()):
    """Restore the estimator's attributes if the block raises or is interrupted.

    Wraps a whole ``fit`` / ``partial_fit``: validation (which may set
    ``n_features_in_`` before a later check rejects the call), building and
    learning. On any exception, ``KeyboardInterrupt`` included, the
    attributes are put back as they were and the exception propagates: a
    rejected or interrupted call leaves a fitted model exactly as it was (an
    unfitted one unfitted).

    The attributes are saved by reference, which is enough for a call that
    builds new objects (a ``fit``). ``deep`` names the attributes a call
    changes in place (a ``partial_fit``'s readout or weights): an object with
    ``checkpoint()`` / ``rollback(token)`` methods (the readout, the
    diagnostics) is saved by them, others are deep-copied. ``grow`` names
    lists the call only appends to (``loss_curve_``), restored by truncation,
    so that saving costs nothing however long they get. A
    ``numpy.random.RandomState`` held by the estimator (``random_state``, or
    a stream derived from it) keeps its identity and gets its state back.
    """
    saved = estimator.__dict__.copy()
    rngs = {id(v): (v, v.get_state()) for v in saved.values()
            if isinstance(v, np.random.RandomState)}
    memo = {key: rng for key, (rng, _) in rngs.items()}  # shared, not copied
    present = [name for name in deep if name in saved]
    tokens = {name: saved[name].checkpoint() for name in present
              if hasattr(saved[name], "checkpoint")}
    copies = copy.deepcopy({name: saved[name] for name in present
                            if name not in tokens}, memo)
    lengths = {name: len(saved[name]) for name in grow if name in saved}
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        estimator.__dict__.update(copies)
        for name, token in tokens.items():
            saved[name].rollback(token)
        for name, n in lengths.items():
            del saved[name][n:]
        for rng, state in rngs.values():
            rng.set_state(state)
        raise


def check_not_ragged(X, expected="a 2-D array of shape (n_samples, n_features)"):
    """Raise a clear ``ValueError`` for a nested list numpy cannot make an array of.

    (numpy's own message, "inhomogeneous shape after 2 dimensions", does not
    say what to pass instead.)
    """
    if not isinstance(X, (list, tuple)) or not len(X):
        return
    try:
        np.asarray(X)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc):
            raise
        raise ValueError(f"X is a nested list whose rows have different lengths (or a "
                         f"list of sequences of different shapes); pass {expected}."
                         ) from None


class Trials(NamedTuple):
    """Validated trials.

    ``U`` is either a 2-D array or sparse matrix of static samples
    (``lengths`` is None: each is held for the estimator's ``n_steps``) or a
    3-D array ``(n_samples, n_steps, n_features)`` of sequences, zero-padded
    at the end when ``lengths`` (the true length of each) is given.
    """

    U: object
    lengths: object = None


def _sequence_list(X):
    """True for a non-empty list/tuple (or 1-D object array, as pandas and
    cleanlab hold sequences) whose items are all 2-D (one per sequence)."""
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
        X = list(X)
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    return all(getattr(x, "ndim", None) == 2 or
               (isinstance(x, (list, tuple)) and len(x) > 0 and
                all(isinstance(row, (list, tuple, np.ndarray)) for row in x))
               for x in X)


def _validate_sequence_list(estimator, X):
    """A list of (n_steps_i, n_features) sequences -> zero-padded 3-D + lengths."""
    seqs = []
    for i, x in enumerate(X):
        try:
            x = check_array(x, dtype=FLOAT_DTYPES, input_name=f"X[{i}]",
                            estimator=estimator)
        except ValueError as exc:
            raise ValueError(f"Sequence X[{i}] is not a valid 2-D array of shape "
                             f"(n_steps, n_features): {exc}") from None
        seqs.append(x)
    widths = {x.shape[1] for x in seqs}
    if len(widths) > 1:
        raise ValueError(f"Every sequence in X must have the same number of features "
                         f"(columns); got {sorted(widths)}.")
    lengths = np.array([x.shape[0] for x in seqs])
    dtype = np.result_type(*seqs)
    U = np.zeros((len(seqs), lengths.max(), seqs[0].shape[1]), dtype=dtype)
    for i, x in enumerate(seqs):
        U[i, :len(x)] = x
    return U, lengths


def _is_3d(X):
    if sparse.issparse(X):
        return False
    if hasattr(X, "ndim"):
        return X.ndim == 3
    if not isinstance(X, (list, tuple)):
        return False
    try:
        return np.ndim(X) == 3
    except ValueError:  # ragged nested lists: numpy cannot tell the shape
        return False


def _check_input_kind(estimator, sequences, reset):
    """Record (``reset``) or check that X holds sequences or static samples."""
    if reset:
        estimator._sequence_input = sequences
        return
    fitted = getattr(estimator, "_sequence_input", None)  # None: an older pickle
    if fitted is None or fitted == sequences:
        return
    if fitted:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on sequences (a 3-D array or a "
            f"list of 2-D arrays), but X is 2-D, which it would read as static "
            f"samples, one per row. Pass sequences: for one sequence seq of shape "
            f"(n_steps, n_features), use [seq] or seq[np.newaxis].")
    raise ValueError(
        f"{type(estimator).__name__} was fitted on static samples (a 2-D array), "
        f"but X holds sequences (a 3-D array or a list of 2-D arrays). Pass a 2-D "
        f"array (n_samples, n_features), or refit on sequences.")


def validate_trials(estimator, X, y="no_validation", *, reset, y_numeric=False):
    """Validate trials: 2-D samples, 3-D sequences, or a list of sequences.

    - 2-D ``(n_samples, n_features)`` (dense or sparse): static samples;
    - 3-D ``(n_samples, n_steps, n_features)``: equal-length sequences;
    - a list of 2-D arrays ``(n_steps_i, n_features)``: sequences of unequal
      lengths, stored zero-padded at the end with their lengths (the padding
      is never read: a trial's states only depend on its own steps).

    A sequence's ``n_features_in_`` counts the features of one time step.
    ``reset`` records which kind the model is fitted on; later calls must
    pass the same kind (a single sequence, a 2-D array, would otherwise be
    read as static samples, one per time step). Returns a :class:`Trials`, or ``(trials, y)`` when ``y`` is given (pass
    ``y`` in ``fit``, even if None). ``y_numeric`` validates a regression target
    (1-D or 2-D, numeric) instead of class labels.
    """
    lengths = None
    if _sequence_list(X):
        X, lengths = _validate_sequence_list(estimator, X)
        if np.all(lengths == X.shape[1]):
            lengths = None  # equal lengths: a plain 3-D array
    elif isinstance(X, (list, tuple)) and not _is_3d(X) and len(X) and \
            isinstance(X[0], (list, tuple, np.ndarray)) and np.ndim(X[0]) >= 2:
        raise ValueError("X looks like a list of sequences of different shapes; pass "
                         "a list of 2-D arrays, each of shape (n_steps_i, n_features).")
    _check_input_kind(estimator, _is_3d(X), reset)
    if not _is_3d(X):
        check_not_ragged(X, "a 2-D array (n_samples, n_features), a 3-D array "
                            "(n_samples, n_steps, n_features) or a list of 2-D arrays "
                            "(n_steps_i, n_features)")
        if isinstance(y, str) and y == "no_validation":
            return Trials(validate_data(estimator, X, reset=reset,
                                        accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES))
        X, y = validate_data(estimator, X, y, reset=reset, accept_sparse=("csr", "csc"),
                             dtype=FLOAT_DTYPES, multi_output=y_numeric,
                             y_numeric=y_numeric)
        return Trials(X), check_numeric_y(estimator, y) if y_numeric else y
    X = check_array(X, allow_nd=True, dtype=FLOAT_DTYPES,
                    input_name="X", estimator=estimator)
    n, T, F = X.shape
    if T < 1:
        raise ValueError("X has 0 time steps; each sequence needs at least one.")
    validate_data(estimator, X.reshape(n * T, F), reset=reset)
    trials = Trials(X, lengths)
    if isinstance(y, str) and y == "no_validation":
        return trials
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but "
                         f"the target y is None.")
    if y_numeric:
        y = check_array(y, ensure_2d=False, dtype=FLOAT_DTYPES, input_name="y")
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    else:
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"),
                         warn=True)
    check_consistent_length(X, y)
    return trials, y


def check_classes(estimator, y, classes):
    """Labels to class indices for ``fit`` (``classes=None``) or ``partial_fit``.

    Returns ``(classes_, y_index)``. Rejects regression targets, a single class
    and labels outside ``classes`` (a changed ``classes`` is
    :func:`partial_fit_classes`'s to reject).
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
                "classes must be passed on the first call to partial_fit, by "
                "keyword: partial_fit(X, y, classes=np.unique(y_all)).")
        return classes
    if classes is not None and not np.array_equal(
            unique_labels(np.asarray(classes)), estimator.classes_):
        raise ValueError(
            f"classes={np.asarray(classes).tolist()} differs from the classes of "
            f"the first partial_fit call, {estimator.classes_.tolist()}.")
    return estimator.classes_
