"""ITDSReservoirRegressor inside forecasting tools: skforecast and sktime.

Both tools fit the regressor on lag windows and forecast recursively, calling
``predict`` on one window at a time and feeding each forecast back as the
newest lag. With ``mode="samples"`` (the default) a window's prediction does
not depend on the calls before it, so each tool's forecast must equal the
same recursion written out by hand on a model fitted to the same windows.
The accuracy against Ridge in the same tools is measured in
``benchmarks/bench_forecasting.py``.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

from sklearn_itds import ITDSReservoirRegressor

pd = pytest.importorskip("pandas")

LAGS, STEPS = 6, 10


@pytest.fixture
def series():
    t = np.arange(120)
    return pd.Series(np.sin(0.3 * t) + 0.02 * t)


def _windows(values):
    W = np.lib.stride_tricks.sliding_window_view(values, LAGS + 1)
    return W[:, :-1], W[:, -1]  # oldest lag first, and the value that follows


def _recursion(model, values, newest_first):
    """Forecast STEPS values, one window at a time, by hand."""
    history, out = list(values), []
    for _ in range(STEPS):
        window = np.array(history[-LAGS:])
        z = model.predict((window[::-1] if newest_first else window)[None])[0]
        out.append(z)
        history.append(z)
    return np.array(out)


def test_skforecast_forecaster_recursive_equals_the_recursion_by_hand(series):
    recursive = pytest.importorskip("skforecast.recursive")
    est = ITDSReservoirRegressor(n_reservoir=40, random_state=0)
    forecaster = recursive.ForecasterRecursive(estimator=est, lags=LAGS)
    forecaster.fit(y=series)
    forecast = np.asarray(forecaster.predict(steps=STEPS))
    X, y = _windows(series.to_numpy())
    model = clone(est).fit(X[:, ::-1], y)  # skforecast puts lag 1 (newest) first
    np.testing.assert_allclose(forecast, _recursion(model, series.to_numpy(), True),
                               rtol=1e-10, atol=1e-12)
    # A real forecast: closer to the continuation than Ridge in the same tool
    # (measured MAE over the 10 steps: 0.67 against Ridge's 1.15).
    t = np.arange(120, 120 + STEPS)
    truth = np.sin(0.3 * t) + 0.02 * t
    ridge = recursive.ForecasterRecursive(estimator=Ridge(), lags=LAGS)
    ridge.fit(y=series)
    ridge_forecast = np.asarray(ridge.predict(steps=STEPS))
    assert np.abs(forecast - truth).mean() < np.abs(ridge_forecast - truth).mean()


def test_sktime_make_reduction_equals_the_recursion_by_hand(series):
    compose = pytest.importorskip("sktime.forecasting.compose")
    est = ITDSReservoirRegressor(n_reservoir=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sktime's own deprecation notices
        forecaster = compose.make_reduction(est, window_length=LAGS, strategy="recursive")
        forecaster.fit(series)
        forecast = np.asarray(forecaster.predict(fh=np.arange(1, STEPS + 1)))
    X, y = _windows(series.to_numpy())
    model = clone(est).fit(X, y)
    np.testing.assert_allclose(forecast, _recursion(model, series.to_numpy(), False),
                               rtol=1e-10, atol=1e-12)
