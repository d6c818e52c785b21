"""Hypothesis fuzzing of fit / predict / partial_fit on the three estimators.

Random shapes, dtypes, scales, label sets (ints, strings), parameter values and
sparse or dense input. Each example must either raise a clean error
(ValueError, TypeError, NotFittedError) or give finite outputs of the right
shape, with predicted labels among the training classes. Budget: 50 examples
per test, 4 tests, derandomized (about 15 s in total on one core).
"""

import traceback
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_itds import (  # noqa: E402
    ITDSMLPClassifier,
    ITDSReservoirClassifier,
    ITDSReservoirRegressor,
)

ALLOWED = (ValueError, TypeError, NotFittedError)
BUDGET = settings(max_examples=50, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.data_too_large])


@st.composite
def data(draw, classification):
    n = draw(st.integers(1, 25))
    f = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    scale = draw(st.sampled_from([1e-8, 1e-3, 1.0, 1e3, 1e8]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = (rng.standard_normal((n, f)) * scale).astype(dtype)
    if draw(st.booleans()):
        X[rng.rand(n, f) < 0.5] = 0
        X = sparse.csr_matrix(X)
    if classification:
        labels = draw(st.sampled_from([
            [0, 1], [-1, 1], [3, 7, 11], ["a", "b"], ["cat", "dog", "emu", "fox"],
            [True, False], [0]]))
        y = np.asarray(labels)[rng.randint(len(labels), size=n)]
    else:
        y = rng.standard_normal((n,) if draw(st.booleans()) else (n, 2)) * scale
    return X, y


common = dict(td_gain=st.sampled_from([0.0, 0.5, 2.0, 50.0]),
              td_timescale=st.sampled_from([1.0, 2.5, 20.0]),
              readout_sparsity=st.sampled_from([0.0, 0.5, 0.95]),
              echo=st.sampled_from(["learned", "weight_average"]),
              td_sign=st.sampled_from([1, -1]),
              feedback_split=st.booleans())
reservoir = dict(n_reservoir=st.integers(1, 12),
                 spectral_radius=st.sampled_from([0.0, 0.9, 3.0]),
                 leak_rate=st.sampled_from([0.1, 0.5, 1.0]),
                 learning_rule=st.sampled_from(["lms", "rls"]),
                 learning_rate_init=st.sampled_from([1e-3, 0.5, 1.9, 10.0]))
# In about one example in four, one parameter is out of range.
BAD_COMMON = [("td_gain", -1.0), ("td_timescale", 0.5), ("readout_sparsity", 1.0),
              ("feedback_split", 1), ("echo", "bogus"), ("td_sign", 0)]
BAD_RESERVOIR = BAD_COMMON + [("n_reservoir", 0), ("spectral_radius", -0.1),
                              ("leak_rate", 0.0), ("leak_rate", 1.5),
                              ("learning_rule", "bogus")]


def _maybe_bad(bad_list):
    return st.one_of(st.none(), st.none(), st.none(), st.sampled_from(bad_list))


STATS = {"ok": 0, "rejected": 0}


def _clean(exc):
    """The error was raised by our validation or sklearn's, not deep in numpy/scipy."""
    origin = traceback.extract_tb(exc.__traceback__)[-1].filename
    assert "sklearn_itds" in origin or "/sklearn/" in origin, (origin, repr(exc))


def _check_outputs(est, X, n, classes=None):
    pred = est.predict(X)
    assert pred.shape[0] == n
    if classes is not None:
        assert set(np.unique(pred)) <= set(classes)
        proba = est.predict_proba(X)
        assert proba.shape == (n, len(classes))
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    else:
        assert np.isfinite(pred).all()


def _run(make, X, y, classes=None):
    """fit, predict, partial_fit, predict: clean errors or sane outputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, RuntimeWarning
        try:
            est = make().fit(X, y)
        except ALLOWED as exc:
            _clean(exc)
            STATS["rejected"] += 1
            return
        STATS["ok"] += 1
        try:
            _check_outputs(est, X, X.shape[0], classes)
        except ALLOWED as exc:  # e.g. refusing to predict from overflowed weights
            _clean(exc)
            assert "finite" in str(exc) or "overflowed" in str(exc)
            return
        try:
            if classes is None:
                est.partial_fit(X, y)
            else:
                est.partial_fit(X, y, classes=classes)
        except ALLOWED as exc:
            _clean(exc)
            return
        try:
            _check_outputs(est, X, X.shape[0], classes)
        except ALLOWED as exc:
            _clean(exc)
            assert "finite" in str(exc) or "overflowed" in str(exc)


@BUDGET
@given(d=data(True), params=st.fixed_dictionaries(common),
       hidden=st.sampled_from([(3,), (4, 2), 5]),
       solver=st.sampled_from(["adam", "sgd"]),
       activation=st.sampled_from(["relu", "tanh", "logistic", "identity"]),
       lr=st.sampled_from([1e-4, 1e-2, 1.0, 1e3]),
       bad=_maybe_bad(BAD_COMMON + [("hidden_layer_sizes", (3, 0)),
                                    ("solver", "lbfgs"), ("activation", "softplus")]))
def test_fuzz_mlp(d, params, hidden, solver, activation, lr, bad):
    X, y = d
    if bad:
        params = {**params, bad[0]: bad[1]}
    params = {"hidden_layer_sizes": hidden, "solver": solver, "activation": activation,
              **params}
    _run(lambda: ITDSMLPClassifier(learning_rate_init=lr, max_iter=3, random_state=0,
                                   **params),
         X, y, classes=np.unique(y))


@BUDGET
@given(d=data(True), params=st.fixed_dictionaries({**common, **reservoir}),
       n_steps=st.integers(1, 6), three_d=st.booleans(), bad=_maybe_bad(BAD_RESERVOIR))
def test_fuzz_reservoir_classifier(d, params, n_steps, three_d, bad):
    X, y = d
    if bad:
        params = {**params, bad[0]: bad[1]}
    if three_d and not sparse.issparse(X):
        X = np.repeat(X[:, None, :], n_steps, axis=1)  # (n, n_steps, f) sequences
    _run(lambda: ITDSReservoirClassifier(n_steps=n_steps, max_iter=2, random_state=0,
                                         **params),
         X, y, classes=np.unique(y))


@BUDGET
@given(d=data(False), params=st.fixed_dictionaries({**common, **reservoir}),
       washout=st.integers(0, 5), feedback=st.booleans(),
       mode=st.sampled_from(["samples", "sequential"]),
       rls_alpha=st.sampled_from([1e-8, 1e-4, 1.0]), bad=_maybe_bad(BAD_RESERVOIR))
def test_fuzz_reservoir_regressor(d, params, washout, feedback, mode, rls_alpha, bad):
    X, y = d
    if bad:
        params = {**params, bad[0]: bad[1]}
    feedback = feedback and mode == "sequential"  # samples mode rejects it
    _run(lambda: ITDSReservoirRegressor(mode=mode, washout=washout,
                                        output_feedback=feedback,
                                        rls_alpha=rls_alpha, max_iter=2,
                                        random_state=0, **params),
         X, y)


@BUDGET
@given(d=data(True), which=st.sampled_from(["mlp", "res_clf", "res_reg"]),
       n_bad=st.integers(1, 3))
def test_fuzz_rejected_calls_keep_fitted_model(d, which, n_bad):
    """Wrong-width X after a good fit: a clean error and unchanged predictions."""
    X, y = d
    X = X.toarray() if sparse.issparse(X) else X
    if which == "res_reg":
        y = np.arange(len(y), dtype=float)
        make = lambda: ITDSReservoirRegressor(8, random_state=0)  # noqa: E731
    elif which == "mlp":
        make = lambda: ITDSMLPClassifier((3,), max_iter=2, random_state=0)  # noqa: E731
    else:
        make = lambda: ITDSReservoirClassifier(8, max_iter=1, random_state=0)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est = make().fit(X, y)
        except ALLOWED:
            return
        before = est.predict(X)
        X_bad = np.hstack([X, np.ones((X.shape[0], n_bad))])
        for call in (lambda: est.predict(X_bad),
                     lambda: est.partial_fit(X_bad, y) if which == "res_reg"
                     else est.partial_fit(X_bad, y, classes=np.unique(y))):
            with pytest.raises(ValueError, match="features"):
                call()
        np.testing.assert_array_equal(est.predict(X), before)


def test_fuzz_reached_both_outcomes():
    """The fuzzing above exercised successful fits, not only rejections."""
    if STATS["ok"] + STATS["rejected"] == 0:
        pytest.skip("run together with the fuzz tests")
    assert STATS["ok"] >= 60 and STATS["rejected"] >= 15, STATS
