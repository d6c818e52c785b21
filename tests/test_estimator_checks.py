"""scikit-learn's estimator checks for all three estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor

# Rows of X are consecutive time steps for the regressor: a prediction depends on
# the steps before it, so predicting a subset, or the rows in another order, gives
# different (correct) outputs. Nothing else is excused.
TIME_SERIES_EXCUSES = {
    "check_methods_subset_invariance":
        "rows are consecutive time steps: each prediction depends on the earlier rows",
    "check_methods_sample_order_invariance":
        "rows are consecutive time steps: reordering them changes the series",
}


def expected_failed_checks(estimator):
    if isinstance(estimator, ITDSReservoirRegressor):
        return TIME_SERIES_EXCUSES
    return {}


@parametrize_with_checks(
    [
        ITDSMLPClassifier(max_iter=50),
        ITDSReservoirClassifier(n_reservoir=50, max_iter=5),
        ITDSReservoirRegressor(n_reservoir=50),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
