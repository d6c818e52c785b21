"""scikit-learn's estimator checks for all three estimators.

The regressor runs twice: in its default ``mode="samples"`` (rows are
independent samples) every check must pass; in ``mode="sequential"`` rows are
consecutive time steps and two checks are excused for that reason alone.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor

# In sequential mode a prediction depends on the steps before it, so predicting
# a subset, or the rows in another order, gives different (correct) outputs.
TIME_SERIES_EXCUSES = {
    "check_methods_subset_invariance":
        "rows are consecutive time steps: each prediction depends on the earlier rows",
    "check_methods_sample_order_invariance":
        "rows are consecutive time steps: reordering them changes the series",
}


def expected_failed_checks(estimator):
    if isinstance(estimator, ITDSReservoirRegressor) and estimator.mode == "sequential":
        return TIME_SERIES_EXCUSES
    return {}


@parametrize_with_checks(
    [
        ITDSMLPClassifier(max_iter=50),
        ITDSReservoirClassifier(n_reservoir=50, max_iter=5),
        ITDSReservoirRegressor(n_reservoir=50),
        ITDSReservoirRegressor(n_reservoir=50, mode="sequential"),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
