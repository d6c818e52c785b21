"""scikit-learn's estimator checks for all three estimators.

The regressor runs twice: in its default ``mode="samples"`` (rows are
independent samples) every check must pass; in ``mode="sequential"`` rows are
consecutive time steps and four checks are excused for that reason alone.

The reservoir classifier is excused from the two checks that fitting with
integer sample weights equals fitting with repeated rows, for one reason: its
default ``rls_alpha="auto"`` and its ``temperature_`` are chosen from
leave-one-out outputs, and leaving out a sample of weight ``k`` removes all of
its weight where leaving out one of ``k`` repeated copies keeps the other
``k - 1`` (RidgeCV's leave-one-out criterion behaves the same way). With a
fixed ``rls_alpha`` the readout, hence ``decision_function`` and ``predict``,
is equivalent (tests/test_reservoir_classifier.py).
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
    **{f"check_sample_weight_equivalence_on_{kind}_data":
       "rows are consecutive time steps: repeating a step changes the series the "
       "reservoir runs through (and a step of weight 0 still drives it)"
       for kind in ("dense", "sparse")},
}

LEAVE_ONE_OUT_EXCUSES = {
    f"check_sample_weight_equivalence_on_{kind}_data":
        "rls_alpha='auto' and temperature_ come from leave-one-out outputs: leaving "
        "out a sample of weight k removes all its weight, leaving out one of k "
        "repeated copies keeps k - 1 (as RidgeCV); with a fixed rls_alpha the readout "
        "is equivalent (tests/test_reservoir_classifier.py)"
    for kind in ("dense", "sparse")
}


def expected_failed_checks(estimator):
    if isinstance(estimator, ITDSReservoirRegressor) and estimator.mode == "sequential":
        return TIME_SERIES_EXCUSES
    if isinstance(estimator, ITDSReservoirClassifier):
        return LEAVE_ONE_OUT_EXCUSES
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
