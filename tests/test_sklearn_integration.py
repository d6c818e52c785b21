"""The three estimators inside scikit-learn's tooling.

Each composed result is checked against the same computation done by hand
(a manual loop over the splits, a scaler applied by hand, a fresh estimator
fitted on the same data), not only for running without error.
"""

import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _mlp(**kw):
    return ITDSMLPClassifier((8,), max_iter=100, learning_rate_init=0.02,
                             random_state=0, **kw)


def _reservoir_clf(**kw):
    return ITDSReservoirClassifier(n_reservoir=30, max_iter=3, random_state=0, **kw)


def _regressor(**kw):
    return ITDSReservoirRegressor(n_reservoir=30, washout=20, random_state=0, **kw)


CLASSIFIERS = [_mlp, _reservoir_clf]
ALL = CLASSIFIERS + [_regressor]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def series():
    t = np.arange(600)
    s = np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 13)
    return s[:-1, None], s[1:]


def _data(make, iris, series):
    if make is _regressor:
        return series
    X, y = iris
    return StandardScaler().fit_transform(X), y


def _outputs(est, X):
    """Every prediction method the estimator has."""
    out = [est.predict(X)]
    for name in ("predict_proba", "decision_function"):
        if hasattr(est, name):
            out.append(getattr(est, name)(X))
    return out


# -- clone ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL)
def test_clone_keeps_params_and_is_unfitted(make, iris, series):
    X, y = _data(make, iris, series)
    est = make(td_gain=0.7, td_timescale=3.0)
    fitted = clone(est).fit(X, y)
    for src in (est, fitted):
        copy = clone(src)
        assert copy is not src
        assert copy.get_params() == est.get_params()
        assert copy.td_gain == 0.7 and copy.td_timescale == 3.0
        with pytest.raises(NotFittedError):
            copy.predict(X)
    # a clone fitted on the same data is the same model
    for a, b in zip(_outputs(fitted, X), _outputs(clone(fitted).fit(X, y), X)):
        np.testing.assert_array_equal(a, b)


# -- Pipeline -------------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL)
def test_pipeline_with_scaler_equals_scaling_by_hand(make, iris, series):
    X, y = iris if make is not _regressor else series
    X = X * 3.0 + 1.0
    pipe = make_pipeline(StandardScaler(), make()).fit(X, y)
    scaler = StandardScaler().fit(X)
    est = make().fit(scaler.transform(X), y)
    for a, b in zip(_outputs(pipe, X), _outputs(est, scaler.transform(X))):
        np.testing.assert_array_equal(a, b)
    assert pipe.score(X, y) == est.score(scaler.transform(X), y)


# -- cross-validation and grid search ------------------------------------------------
def _cv(make):
    if make is _regressor:
        return TimeSeriesSplit(n_splits=3)
    return StratifiedKFold(n_splits=3, shuffle=True, random_state=0)


def _manual_cv_scores(est, X, y, cv):
    scores = []
    for train, test in cv.split(X, y):
        model = clone(est).fit(X[train], y[train])
        scores.append(model.score(X[test], y[test]))
    return np.array(scores)


@pytest.mark.parametrize("make", ALL)
def test_cross_val_score_equals_a_manual_loop(make, iris, series):
    X, y = _data(make, iris, series)
    est, cv = make(), _cv(make)
    scores = cross_val_score(est, X, y, cv=cv)
    np.testing.assert_array_equal(scores, _manual_cv_scores(est, X, y, cv))
    assert np.isfinite(scores).all()
    # the models learned something (chance is 1/3 for iris, R^2 = 0 for the series)
    assert scores.mean() > (0.7 if make is not _regressor else 0.9)


@pytest.mark.parametrize("make", ALL)
def test_grid_search_over_td_gain_and_timescale(make, iris, series):
    X, y = _data(make, iris, series)
    gains = [0.0, 0.5] if make is _regressor else [0.0, 2.0]
    grid = {"td_gain": gains, "td_timescale": [2.0, 10.0]}
    search = GridSearchCV(make(), grid, cv=_cv(make)).fit(X, y)
    assert search.best_params_["td_gain"] in grid["td_gain"]
    assert search.best_params_["td_timescale"] in grid["td_timescale"]
    means = search.cv_results_["mean_test_score"]
    assert means.shape == (4,) and np.isfinite(means).all()
    assert search.best_score_ == means.max()
    # one grid point recomputed by hand
    params = search.cv_results_["params"][1]
    manual = _manual_cv_scores(make(**params), X, y, _cv(make))
    np.testing.assert_allclose(means[1], manual.mean(), rtol=1e-12)
    # the refitted best model is the best estimator fitted on all the data
    best = make(**search.best_params_).fit(X, y)
    np.testing.assert_array_equal(search.predict(X), best.predict(X))


@pytest.mark.parametrize("make", [_mlp, _regressor])
def test_grid_search_n_jobs_gives_identical_results(make, iris, series):
    X, y = _data(make, iris, series)
    grid = {"td_gain": [0.0, 0.5, 2.0]}
    one = GridSearchCV(make(), grid, cv=_cv(make), n_jobs=1).fit(X, y)
    two = GridSearchCV(make(), grid, cv=_cv(make), n_jobs=2).fit(X, y)
    for key in one.cv_results_:
        if "test_score" in key:
            np.testing.assert_array_equal(one.cv_results_[key], two.cv_results_[key])


def test_time_series_split_test_segment_continues_the_training_state(series):
    X, y = series
    train, test = next(iter(TimeSeriesSplit(n_splits=2).split(X)))
    assert train[-1] + 1 == test[0]
    model = _regressor(mode="sequential").fit(X[train], y[train])
    pred = model.predict(X[test])
    # predicting the test segment after a cold start (a fresh state) is worse
    # over the first steps, which shows that predict continues from state_
    cold = clone(model).fit(X[train], y[train])
    cold.state_ = np.zeros_like(cold.state_)
    cold_pred = cold.predict(X[test])
    head = slice(0, 10)
    assert (np.abs(pred[head] - y[test][head]).mean()
            < 0.5 * np.abs(cold_pred[head] - y[test][head]).mean())
    np.testing.assert_array_equal(model.predict(X[test]), pred)  # state unchanged


# -- persistence ---------------------------------------------------------------------
def _round_trips(est):
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    return [pickle.loads(pickle.dumps(est)), joblib.load(buf)]


def _partial_fit(est, X, y):
    if est is not None and isinstance(est, ITDSReservoirRegressor):
        return est.partial_fit(X, y)
    return est.partial_fit(X, y, classes=np.unique(y)) if not hasattr(
        est, "classes_") else est.partial_fit(X, y)


@pytest.mark.parametrize("make", ALL)
def test_pickle_and_joblib_round_trips(make, iris, series):
    X, y = _data(make, iris, series)
    est = make().fit(X, y)
    expected = _outputs(est, X)
    for copy in _round_trips(est):
        for a, b in zip(_outputs(copy, X), expected):
            np.testing.assert_array_equal(a, b)
    # learning goes on identically after a round trip
    half = len(y) // 2
    for copy in _round_trips(est):
        _partial_fit(copy, X[:half], y[:half])
        ref = _partial_fit(pickle.loads(pickle.dumps(est)), X[:half], y[:half])
        for a, b in zip(_outputs(copy, X), _outputs(ref, X)):
            np.testing.assert_array_equal(a, b)
        # and partial_fit did change the model
        assert not np.array_equal(_outputs(copy, X)[-1], expected[-1])


# -- labels and randomness -----------------------------------------------------------
@pytest.mark.parametrize("make", CLASSIFIERS)
def test_string_labels(make, iris):
    X, y = _data(make, iris, None)
    names = np.array(["setosa", "versicolor", "virginica"])  # sorted like 0, 1, 2
    by_int = make().fit(X, y)
    by_str = make().fit(X, names[y])
    assert by_str.classes_.tolist() == names.tolist()
    pred = by_str.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    np.testing.assert_array_equal(pred, names[by_int.predict(X)])
    np.testing.assert_array_equal(by_str.predict_proba(X), by_int.predict_proba(X))
    assert by_str.score(X, names[y]) == by_int.score(X, y)
    # partial_fit with string classes too
    pf = make().partial_fit(X, names[y], classes=names)
    assert set(pf.predict(X)) <= set(names)
    with pytest.raises(ValueError, match="not in classes"):
        pf.partial_fit(X[:2], np.array(["setosa", "rose"]))


@pytest.mark.parametrize("make", ALL)
def test_random_state_controls_the_fit(make, iris, series):
    X, y = _data(make, iris, series)
    a = make().fit(X, y)
    b = make().fit(X, y)
    c = make().set_params(random_state=1).fit(X, y)
    out_a, out_b, out_c = (_outputs(m, X)[-1] for m in (a, b, c))
    np.testing.assert_array_equal(out_a, out_b)
    assert not np.allclose(out_a, out_c)
    # a RandomState instance is consumed, an int is not
    rs = np.random.RandomState(0)
    d = make().set_params(random_state=rs).fit(X, y)
    e = make().set_params(random_state=rs).fit(X, y)
    assert not np.allclose(_outputs(d, X)[-1], _outputs(e, X)[-1])


# -- sample weights through metadata routing (issue 11) -------------------------------
def _sequential(**kw):
    return _regressor(mode="sequential", **kw)


ROUTED = [_reservoir_clf, _regressor, _sequential]


def _weighted_data(make, iris, series):
    X, y = series if make is _sequential else _data(make, iris, series)
    w = np.random.RandomState(4).uniform(0.0, 2.0, len(y))
    w[::10] = 0.0
    return X, y, w


@pytest.mark.parametrize("make", ROUTED)
def test_sample_weight_is_routed_by_cross_validate(make, iris, series):
    import sklearn
    from sklearn.model_selection import cross_validate

    X, y, w = _weighted_data(make, iris, series)
    cv = TimeSeriesSplit(n_splits=3) if make is _sequential else _cv(make)
    with sklearn.config_context(enable_metadata_routing=True):
        est = make().set_fit_request(sample_weight=True).set_score_request(
            sample_weight=True)
        res = cross_validate(est, X, y, cv=cv, params={"sample_weight": w},
                             return_estimator=True)
        for fitted, score, (train, test) in zip(res["estimator"], res["test_score"],
                                                cv.split(X, y)):
            by_hand = make().fit(X[train], y[train], sample_weight=w[train])
            for a, b in zip(_outputs(fitted, X[test]), _outputs(by_hand, X[test])):
                np.testing.assert_array_equal(a, b)
            # the test scores are weighted too (score request True)
            assert score == by_hand.score(X[test], y[test], sample_weight=w[test])
        unweighted = make().fit(X[train], y[train])
        assert not np.allclose(unweighted.readout_.W, by_hand.readout_.W, rtol=1e-4)
        # without the request, passing weights is an error, not silently ignored
        with pytest.raises(ValueError, match="sample_weight"):
            cross_validate(make(), X, y, cv=cv, params={"sample_weight": w})


@pytest.mark.parametrize("make", ROUTED)
def test_grid_search_fit_routes_sample_weight(make, iris, series):
    import sklearn

    X, y, w = _weighted_data(make, iris, series)
    cv = TimeSeriesSplit(n_splits=3) if make is _sequential else _cv(make)
    grid = {"td_gain": [0.0, 0.5]}
    with sklearn.config_context(enable_metadata_routing=True):
        est = make().set_fit_request(sample_weight=True).set_score_request(
            sample_weight=False)
        search = GridSearchCV(est, grid, cv=cv).fit(X, y, sample_weight=w)
        # each grid point: fits with the training folds' weights, unweighted scores
        for params, mean in zip(search.cv_results_["params"],
                                search.cv_results_["mean_test_score"]):
            manual = [make(**params).fit(X[tr], y[tr], sample_weight=w[tr]).score(
                X[te], y[te]) for tr, te in cv.split(X, y)]
            np.testing.assert_allclose(mean, np.mean(manual), rtol=1e-12)
        best = make(**search.best_params_).fit(X, y, sample_weight=w)
        np.testing.assert_array_equal(search.predict(X), best.predict(X))
        with pytest.raises(ValueError, match="sample_weight"):
            GridSearchCV(make(), grid, cv=cv).fit(X, y, sample_weight=w)


@pytest.mark.parametrize("make", [_reservoir_clf, _regressor])
def test_partial_fit_request_routes_sample_weight(make, iris, series):
    """set_partial_fit_request: MultiOutput*'s partial_fit hands each output's
    estimator the weights."""
    import sklearn
    from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor

    X, y, w = _weighted_data(make, iris, series)
    Y = np.column_stack([y, y[::-1]])
    classifier = make is _reservoir_clf
    kw = {"classes": [np.unique(y)] * 2} if classifier else {}
    with sklearn.config_context(enable_metadata_routing=True):
        est = make().set_partial_fit_request(sample_weight=True)
        if classifier:
            est.set_partial_fit_request(classes=True)
        multi = (MultiOutputClassifier if classifier else MultiOutputRegressor)(est)
        multi.partial_fit(X, Y, sample_weight=w, **kw)
        for j, fitted in enumerate(multi.estimators_):
            extra = {"classes": np.unique(y)} if classifier else {}
            by_hand = make().partial_fit(X, Y[:, j], sample_weight=w, **extra)
            np.testing.assert_array_equal(fitted.predict(X), by_hand.predict(X))
            np.testing.assert_array_equal(fitted.readout_.W, by_hand.readout_.W)
        plain = make().partial_fit(X, Y[:, 0], **({"classes": np.unique(y)}
                                                  if classifier else {}))
        assert not np.array_equal(plain.readout_.W, multi.estimators_[0].readout_.W)
