"""The ``dtype`` option of the reservoir estimators: float32 runs in float32 and
agrees with the float64 fit to single precision.

The reference is the same estimator in float64 (same random_state, hence the
same weights up to rounding): differences must be of the order of float32
rounding amplified by the learning, far below the size of the outputs.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_itds import ITDSReservoirClassifier, ITDSReservoirRegressor


def _series(n=700):
    t = np.arange(n + 1)
    s = np.sin(2 * np.pi * t / 37) + 0.5 * np.sin(2 * np.pi * t / 11)
    return s[:-1, None], s[1:]


@pytest.mark.parametrize("mode", ["sequential", "samples"])
@pytest.mark.parametrize("rule", ["rls", "lms"])
def test_regressor_float32_close_to_float64(rule, mode):
    X, y = _series()
    if mode == "samples":  # lag windows of 6 steps predict the next one
        X = np.lib.stride_tricks.sliding_window_view(X[:, 0], 6)
        y = y[5:]
    kw = dict(n_reservoir=60, mode=mode, learning_rule=rule, rls_alpha=1.0,
              learning_rate_init=0.2, washout=50, td_gain=0.5, td_timescale=3.0,
              random_state=0)
    m64 = ITDSReservoirRegressor(**kw).fit(X[:500], y[:500])
    m32 = ITDSReservoirRegressor(dtype=np.float32, **kw).fit(X[:500], y[:500])
    assert m32.readout_.W.dtype == np.float32 and m64.readout_.W.dtype == np.float64
    assert m32.reservoir_.W.dtype == np.float32
    if mode == "sequential":
        assert m32.state_.dtype == np.float32
    if rule == "rls":
        assert m32.readout_.P.dtype == np.float32
    scale = np.abs(m64.readout_.W).max()
    np.testing.assert_allclose(m32.readout_.W, m64.readout_.W, atol=1e-3 * scale)
    p64, p32 = m64.predict(X[500:]), m32.predict(X[500:])
    np.testing.assert_allclose(p32, p64, atol=1e-3 * np.abs(y).max())
    # the float32 fit is a real fit, not a constant
    assert m32.score(X[500:], y[500:]) > (0.9 if rule == "rls" else 0.5)
    for key in ("e_sup", "e_td", "cosine", "loss"):
        np.testing.assert_allclose(m32.td_history_[key], m64.td_history_[key],
                                   rtol=1e-3, atol=1e-6)


def test_regressor_feedback_float32_close_to_float64():
    X, y = _series(400)
    kw = dict(n_reservoir=50, mode="sequential", spectral_radius=0.8, output_feedback=True,
              update_every=2, rls_alpha=1.0, td_gain=0.0, random_state=1)
    m64 = ITDSReservoirRegressor(**kw).fit(X[:300], y[:300])
    m32 = ITDSReservoirRegressor(dtype="float32", **kw).fit(X[:300], y[:300])
    np.testing.assert_allclose(m32.predict(X[300:330]), m64.predict(X[300:330]),
                               atol=2e-3)


def test_classifier_float32_close_to_float64():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16.0, y[:200]
    kw = dict(n_reservoir=80, n_steps=4, max_iter=2, random_state=0)
    c64 = ITDSReservoirClassifier(**kw).fit(X, y)
    c32 = ITDSReservoirClassifier(dtype=np.float32, **kw).fit(X, y)
    assert c32.readout_.W.dtype == np.float32
    d64, d32 = c64.decision_function(X), c32.decision_function(X)
    np.testing.assert_allclose(d32, d64, atol=1e-3 * np.abs(d64).max())
    assert np.mean(c32.predict(X) == c64.predict(X)) >= 0.98
    assert c32.score(X, y) > 0.5


@pytest.mark.parametrize("Est", [ITDSReservoirClassifier, ITDSReservoirRegressor])
@pytest.mark.parametrize("dtype, error", [(np.int64, ValueError), ("float16", ValueError),
                                          ("nonsense", TypeError), (object, ValueError)])
def test_bad_dtype_is_rejected(Est, dtype, error):
    X, y = np.random.RandomState(0).rand(30, 2), np.arange(30) % 2
    with pytest.raises(error, match="dtype"):
        Est(n_reservoir=5, dtype=dtype).fit(X, y)


def test_inputs_beyond_float32_get_a_clear_error():
    """Finite float64 inputs that overflow float32 after scaling: an error that
    names the dtype, not non-finite outputs blamed on the weights."""
    X, y = load_digits(return_X_y=True)
    clf = ITDSReservoirClassifier(n_reservoir=20, random_state=0).fit(X, y)
    before = clf.predict(X[:5])
    with pytest.raises(ValueError, match="too large for the reservoir's dtype float32"):
        clf.predict(X * 1e50)
    np.testing.assert_array_equal(clf.predict(X[:5]), before)
    wide = ITDSReservoirClassifier(n_reservoir=20, random_state=0,
                                   dtype=np.float64).fit(X, y)
    assert np.isfinite(wide.predict_proba(X * 1e50)).all()  # float64 holds them
