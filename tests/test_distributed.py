"""Grid search on a real dask.distributed cluster equals the local run.

Starts a two-process ``LocalCluster`` on 127.0.0.1 and runs a small
``GridSearchCV`` over an iTDS estimator through joblib's dask backend; the
estimators are pickled to the worker processes and back.
"""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")


def _search():
    X, y = load_task("xor", random_state=0, n_copies=10, return_X_y=True)
    grid = {"td_gain": [0.0, 2.0], "td_timescale": [2.0, 5.0]}
    model = ITDSReservoirClassifier(n_reservoir=30, max_iter=3, random_state=0)
    return GridSearchCV(model, grid, cv=KFold(3, shuffle=True, random_state=0),
                        n_jobs=-1), X, y


def test_grid_search_on_local_cluster_equals_local_run():
    local, X, y = _search()
    local.set_params(n_jobs=1).fit(X, y)

    remote, X, y = _search()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        with joblib.parallel_backend("dask"):
            remote.fit(X, y)

    for key in ["mean_test_score", "std_test_score", "params"]:
        for a, b in zip(local.cv_results_[key], remote.cv_results_[key]):
            assert a == b, key
    for k in range(3):
        np.testing.assert_array_equal(local.cv_results_[f"split{k}_test_score"],
                                      remote.cv_results_[f"split{k}_test_score"])
    assert local.best_params_ == remote.best_params_
    np.testing.assert_array_equal(local.best_estimator_.readout_.W,
                                  remote.best_estimator_.readout_.W)
    np.testing.assert_array_equal(local.predict_proba(X), remote.predict_proba(X))


@pytest.mark.parametrize("make", [
    lambda: ITDSMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
    lambda: ITDSReservoirClassifier(n_reservoir=20, max_iter=2, feedback_split=True,
                                    random_state=0),
    lambda: ITDSReservoirRegressor(n_reservoir=20, mode="sequential", output_feedback=True,
                                   random_state=0),
], ids=["mlp", "reservoir_classifier", "reservoir_regressor"])
def test_fitted_estimators_pickle_round_trip(make):
    # What the dask backend does to every fitted estimator: pickle it, unpickle
    # it elsewhere, and use it. The copy must predict identically, and keep
    # learning identically (no lambdas, no open resources in the fitted state).
    X, y = load_task("xor", random_state=0, n_copies=5, return_X_y=True)
    model = make().fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.predict(X), copy.predict(X))
    model.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(model.predict(X), copy.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(model.predict_proba(X), copy.predict_proba(X))
