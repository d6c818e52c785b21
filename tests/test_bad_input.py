"""Bad input: every case raises a clear error, and a rejected call changes nothing.

Each case is run for each estimator it applies to (the ``classes`` / one-class
cases are classifier-only; a constant target is a valid regression problem).
Every test asserts the exception *type* (ValueError, TypeError or
NotFittedError, never a numpy or linear-algebra internal error) and that the
message names the problem. The cases are listed in ``docs/reliability.rst``.
"""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor

from _state import fingerprint, learned_state, outputs

FACTORIES = {
    "mlp": lambda **kw: ITDSMLPClassifier(**{"hidden_layer_sizes": (6,), "max_iter": 3,
                                             "random_state": 0, **kw}),
    "res_clf": lambda **kw: ITDSReservoirClassifier(**{"n_reservoir": 12, "max_iter": 2,
                                                       "random_state": 0, **kw}),
    "res_reg": lambda **kw: ITDSReservoirRegressor(**{"n_reservoir": 12,
                                                      "random_state": 0, **kw}),
}
ALL = tuple(FACTORIES)
CLASSIFIERS = ("mlp", "res_clf")
RESERVOIRS = ("res_clf", "res_reg")
ALLOWED = (ValueError, TypeError, NotFittedError)


def _data(name, n=30):
    rng = np.random.RandomState(0)
    X = rng.randn(n, 3)
    if name == "res_reg":
        y = np.sin(np.arange(n) / 3.0) + 0.1 * X[:, 0]
    else:
        y = np.arange(n) % 3
    return X, y


def _fit(name, **params):
    X, y = _data(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at tiny max_iter
        return FACTORIES[name](**params).fit(X, y)


def _partial_fit(est, X, y, classes=None, **kw):
    if isinstance(est, ITDSReservoirRegressor):
        return est.partial_fit(X, y, **kw)
    return est.partial_fit(X, y, classes=classes, **kw)


def _weights(n=30, i=None, value=None):
    w = np.linspace(0.5, 2.0, n)
    if i is not None:
        w[i] = value
    return w


def _sequential(e):
    return e.set_params(mode="sequential")


def _with(X, i, j, value):
    X = np.array(X, dtype=float)
    X[i, j] = value
    return X


def _with_none(y, i):
    y = np.array(y, dtype=object)
    y[i] = None
    return y


def _with_y(y, i, value):
    y = np.array(y, dtype=float)
    y[i] = value
    return y


# -- cases: (id, estimators, needs_fitted, call(est, X, y), exception, match) ------
# ``call`` receives a fresh unfitted estimator (needs_fitted=False) or a fitted one.
CASES = [
    ("nan_in_X", ALL, False, lambda e, X, y: e.fit(_with(X, 3, 1, np.nan), y),
     ValueError, "Input X contains NaN"),
    ("inf_in_X", ALL, False, lambda e, X, y: e.fit(_with(X, 3, 1, np.inf), y),
     ValueError, "Input X contains infinity"),
    ("neg_inf_in_X", ALL, False, lambda e, X, y: e.fit(_with(X, 0, 0, -np.inf), y),
     ValueError, "Input X contains infinity"),
    ("nan_in_y", ALL, False, lambda e, X, y: e.fit(X, _with_y(y, 2, np.nan)),
     ValueError, "Input y contains NaN"),
    ("inf_in_y", ALL, False, lambda e, X, y: e.fit(X, _with_y(y, 2, np.inf)),
     ValueError, "Input y contains infinity"),
    ("empty_X", ALL, False, lambda e, X, y: e.fit(X[:0], y[:0]),
     ValueError, r"0 sample\(s\)"),
    ("X_1d", ALL, False, lambda e, X, y: e.fit(X[:, 0], y),
     ValueError, "Expected 2D array, got 1D array"),
    ("X_3d_not_a_sequence_model", ("mlp",), False,
     lambda e, X, y: e.fit(X[:, :, None], y), ValueError, "dim 3"),
    ("X_3d_in_sequential_mode", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential").fit(X[:, :, None], y), ValueError,
     "dim 3"),
    ("mismatched_lengths", ALL, False, lambda e, X, y: e.fit(X, y[:-1]),
     ValueError, "inconsistent numbers of samples"),
    ("non_numeric_X", ALL, False,
     lambda e, X, y: e.fit(np.array([["a", "b", "c"]] * len(y)), y),
     ValueError, "string"),
    ("predict_before_fit", ALL, False, lambda e, X, y: e.predict(X),
     NotFittedError, "not fitted yet"),
    ("wrong_n_features_predict", ALL, True, lambda e, X, y: e.predict(X[:, :2]),
     ValueError, "X has 2 features, but .* is expecting 3 features"),
    ("wrong_n_features_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, np.hstack([X, X]), y),
     ValueError, "X has 6 features, but .* is expecting 3 features"),
    ("wrong_n_features_fit_predict", ALL, False,
     lambda e, X, y: e.fit(X[:, :2], y).predict(X), ValueError, "features"),
    ("nan_at_predict", ALL, True, lambda e, X, y: e.predict(_with(X, 1, 1, np.nan)),
     ValueError, "Input X contains NaN"),
    ("inf_at_predict", ALL, True, lambda e, X, y: e.predict(_with(X, 1, 1, np.inf)),
     ValueError, "Input X contains infinity"),
    ("nan_at_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, _with(X, 1, 1, np.nan), y),
     ValueError, "Input X contains NaN"),
    ("partial_fit_without_classes", CLASSIFIERS, False,
     lambda e, X, y: e.partial_fit(X, y), ValueError,
     "classes must be passed on the first call to partial_fit"),
    ("partial_fit_label_not_in_classes", CLASSIFIERS, False,
     lambda e, X, y: e.partial_fit(X, y, classes=[0, 1]), ValueError,
     r"labels \[2\] that are not in classes"),
    ("partial_fit_new_label_later", CLASSIFIERS, True,
     lambda e, X, y: e.partial_fit(X, np.where(y == 2, 7, y)), ValueError,
     r"labels \[7\] that are not in classes"),
    ("partial_fit_changed_classes", CLASSIFIERS, True,
     lambda e, X, y: e.partial_fit(X, y, classes=[0, 1, 2, 3]), ValueError,
     "differs from the classes of the first partial_fit call"),
    ("one_class_only", CLASSIFIERS, False, lambda e, X, y: e.fit(X, np.zeros(len(y))),
     ValueError, "at least 2 classes"),
    # Rejected only after X passed validation (which already reset
    # n_features_in_): the model must be restored.
    ("one_class_after_new_X", CLASSIFIERS, True,
     lambda e, X, y: e.fit(X[:, :2], np.zeros(len(y))), ValueError, "at least 2 classes"),
    ("unknown_representation_after_new_X", ("res_clf", "res_reg"), True,
     lambda e, X, y: e.set_params(representation="max").fit(X[:, :2], y), ValueError,
     "representation='max' is not valid"),
    ("washout_too_long_after_new_X", ("res_reg",), True,
     lambda e, X, y: e.set_params(mode="sequential", washout=len(y)).fit(X[:, :2], y),
     ValueError, "washout=30 leaves no step"),
    ("continuous_target_for_classifier", CLASSIFIERS, False,
     lambda e, X, y: e.fit(X, X[:, 0]), ValueError, "Unknown label type"),
    ("regressor_wrong_n_outputs_partial_fit", ("res_reg",), True,
     lambda e, X, y: e.partial_fit(X, np.c_[y, y]), ValueError,
     "y has 2 outputs, but this model was fitted with 1"),
    ("regressor_washout_too_long", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential", washout=len(y)).fit(X, y),
     ValueError, "washout=30 leaves no step"),
    ("output_feedback_in_samples_mode", ("res_reg",), True,
     lambda e, X, y: e.set_params(output_feedback=True).fit(X, y), ValueError,
     "output_feedback=True needs mode='sequential'"),
    ("unknown_mode", ("res_reg",), True,
     lambda e, X, y: e.set_params(mode="online").fit(X, y), ValueError,
     "mode='online' is not valid"),
    # Issue 12: NaN written as None in an object array (validate_data converts
    # it to NaN only after its finiteness check), as scikit-learn's Ridge says.
    ("nan_in_y_written_as_None", ("res_reg",), False,
     lambda e, X, y: e.fit(X, _with_none(y, 3)), ValueError, "Input y contains NaN"),
    ("nan_in_y_written_as_None_sequential", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential").fit(X, _with_none(y, 3)),
     ValueError, "Input y contains NaN"),
    ("nan_in_y_written_as_None_partial_fit", ("res_reg",), True,
     lambda e, X, y: e.partial_fit(X, _with_none(y, 3)), ValueError,
     "Input y contains NaN"),
    # Issue 12: a list of series at partial_fit is refused (it used to restart
    # each series on the first call but chain them on later calls).
    ("partial_fit_list_of_series", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential").partial_fit(
         [X[:10], X[10:]], [y[:10], y[10:]]), ValueError, "partial_fit takes one series"),
    # Issue 12: errors that came from inside numpy.
    ("ragged_nested_list", ALL, False,
     lambda e, X, y: e.fit([[1.0, 2.0], [3.0]], [0, 1]), ValueError,
     "nested list whose rows have different lengths"),
    ("ragged_nested_list_sequential", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential").fit(
         [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]], [0, 1]), ValueError,
     "nested list whose rows have different lengths"),
    ("ragged_nested_list_predict", ("mlp",), True,
     lambda e, X, y: e.predict([[1.0, 2.0, 3.0], [3.0]]), ValueError,
     "nested list whose rows have different lengths"),
    ("td_step_norms_short_y", ALL, True, lambda e, X, y: e.td_step_norms(X, y[:-1]),
     ValueError, "inconsistent numbers of samples"),
    ("td_step_norms_2d_y", CLASSIFIERS, True,
     lambda e, X, y: e.td_step_norms(X, np.c_[y, y]), ValueError, "y should be a 1d array"),
    ("input_gradient_short_y", ("mlp",), True,
     lambda e, X, y: e.input_gradient(X, y[:-1]), ValueError,
     "inconsistent numbers of samples"),
    ("input_gradient_2d_y", ("mlp",), True,
     lambda e, X, y: e.input_gradient(X, np.c_[y, y]), ValueError,
     "y should be a 1d array"),
    # Issue 12: partial_fit continues the fitted model and refuses changed parameters.
    ("partial_fit_after_changed_parameter", RESERVOIRS, True,
     lambda e, X, y: _partial_fit(e.set_params(n_reservoir=7), X, y), ValueError,
     "n_reservoir was changed from 12 to 7 after the model was fitted"),
    ("partial_fit_after_changed_output_feedback", ("res_reg",), False,
     lambda e, X, y: e.set_params(mode="sequential").fit(X, y).set_params(
         output_feedback=True).partial_fit(X, y), ValueError,
     "output_feedback was changed from False to True"),
    ("partial_fit_after_changed_activation", ("mlp",), True,
     lambda e, X, y: e.set_params(activation="tanh").partial_fit(X, y), ValueError,
     "activation was changed from 'relu' to 'tanh'"),
    # Issue 11: sample weights, in fit and partial_fit, of samples and of steps.
    ("sample_weight_negative", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=_weights(i=4, value=-1.0)), ValueError,
     "Negative values in data passed to `sample_weight`"),
    ("sample_weight_nan", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=_weights(i=4, value=np.nan)), ValueError,
     "Input sample_weight contains NaN"),
    ("sample_weight_inf", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=_weights(i=4, value=np.inf)), ValueError,
     "Input sample_weight contains infinity"),
    ("sample_weight_wrong_length", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=_weights(29)), ValueError,
     r"sample_weight.shape == \(29,\), expected \(30,\)"),
    ("sample_weight_2d", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=np.ones((30, 2))), ValueError,
     "Sample weights must be 1D array or scalar"),
    ("sample_weight_all_zero", ALL, False,
     lambda e, X, y: e.fit(X, y, sample_weight=np.zeros(30)), ValueError,
     "Sample weights must contain at least one non-zero number"),
    ("sample_weight_negative_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, X, y, sample_weight=_weights(i=0, value=-2.0)),
     ValueError, "Negative values in data passed to `sample_weight`"),
    ("sample_weight_nan_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, X, y, sample_weight=_weights(i=0, value=np.nan)),
     ValueError, "Input sample_weight contains NaN"),
    ("sample_weight_wrong_length_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, X, y, sample_weight=_weights(31)), ValueError,
     r"sample_weight.shape == \(31,\), expected \(30,\)"),
    ("sample_weight_all_zero_partial_fit", ALL, True,
     lambda e, X, y: _partial_fit(e, X, y, sample_weight=np.zeros(30)), ValueError,
     "Sample weights must contain at least one non-zero number"),
    ("sample_weight_negative_sequential", ("res_reg",), True,
     lambda e, X, y: _sequential(e).fit(X, y, sample_weight=_weights(i=3, value=-1.0)),
     ValueError, "Negative values in data passed to `sample_weight`"),
    ("sample_weight_wrong_length_sequential_partial_fit", ("res_reg",), False,
     lambda e, X, y: _sequential(e).fit(X, y).partial_fit(X, y, sample_weight=_weights(20)),
     ValueError, r"sample_weight.shape == \(20,\), expected \(30,\)"),
    ("sample_weight_not_a_list_for_series", ("res_reg",), True,
     lambda e, X, y: _sequential(e).fit([X[:10], X[10:]], [y[:10], y[10:]],
                                        sample_weight=_weights()),
     ValueError, "When X is a list of 2 series, sample_weight must be a list of 2 arrays"),
    ("sample_weight_short_for_one_series", ("res_reg",), True,
     lambda e, X, y: _sequential(e).fit([X[:10], X[10:]], [y[:10], y[10:]],
                                        sample_weight=[np.ones(10), np.ones(19)]),
     ValueError, r"sample_weight.shape == \(19,\), expected \(20,\)"),
    ("sample_weight_zero_in_every_series", ("res_reg",), True,
     lambda e, X, y: _sequential(e).fit([X[:10], X[10:]], [y[:10], y[10:]],
                                        sample_weight=[np.zeros(10), np.zeros(20)]),
     ValueError, "sample_weight is zero at every step of every series"),
    ("warm_start_after_changed_layers", ("mlp",), True,
     lambda e, X, y: e.set_params(warm_start=True, hidden_layer_sizes=(4,)).fit(X, y),
     ValueError, r"hidden_layer_sizes was changed from \(6,\) to \(4,\)"),
]

# -- out-of-range parameters: (id, estimators, params, exception, match) ----------
PARAMS = [
    ("td_gain_negative", ALL, {"td_gain": -0.1}, ValueError, "td_gain == -0.1, must be >= 0"),
    ("td_gain_not_a_number", ALL, {"td_gain": "big"}, TypeError, "td_gain must be an instance"),
    ("td_timescale_zero", ALL, {"td_timescale": 0.0}, ValueError, "td_timescale == 0.0, must be >= 1"),
    ("td_timescale_negative", ALL, {"td_timescale": -3}, ValueError, "td_timescale == -3, must be >= 1"),
    ("td_timescale_faster_than_the_readout", ALL, {"td_timescale": 0.5}, ValueError, "td_timescale == 0.5, must be >= 1"),
    ("readout_sparsity_one", ALL, {"readout_sparsity": 1.0}, ValueError,
     "readout_sparsity == 1.0, must be < 1"),
    ("readout_sparsity_negative", ALL, {"readout_sparsity": -0.2}, ValueError,
     "readout_sparsity == -0.2, must be >= 0"),
    # Issue 14: the echo readings and the sign of the top-down term.
    ("unknown_echo", ALL, {"echo": "average"}, ValueError,
     "echo='average' is not valid; use one of 'learned', 'weight_average'"),
    ("echo_not_a_string", ALL, {"echo": 1}, ValueError, "echo=1 is not valid"),
    ("decision_echo_outside_the_classifier", ("mlp", "res_reg"), {"echo": "decision"},
     ValueError, "echo='decision' is a reading for classifiers whose samples are revisited"),
    ("decision_echo_flipped_at_unit_gain", ("res_clf",),
     {"echo": "decision", "td_sign": -1, "td_gain": 1.0}, ValueError,
     "td_sign=-1 with echo='decision' needs td_gain < 1"),
    ("td_sign_zero", ALL, {"td_sign": 0}, ValueError,
     r"td_sign=0 is not valid; use 1 \(the default rule\) or -1 \(the top-down "
     r"term flipped\)"),
    ("td_sign_two", ALL, {"td_sign": 2}, ValueError, "td_sign=2 is not valid"),
    ("td_sign_float", ALL, {"td_sign": -1.0}, ValueError, r"td_sign=-1\.0 is not valid"),
    ("td_sign_bool", ALL, {"td_sign": True}, ValueError, "td_sign=True is not valid"),
    ("td_sign_string", ALL, {"td_sign": "-1"}, ValueError, "td_sign='-1' is not valid"),
    ("td_sign_nan", ALL, {"td_sign": float("nan")}, ValueError, "td_sign=nan is not valid"),
    ("max_iter_zero", ALL, {"max_iter": 0}, ValueError, "max_iter == 0, must be >= 1"),
    ("n_reservoir_zero", RESERVOIRS, {"n_reservoir": 0}, ValueError, "n_reservoir == 0, must be >= 1"),
    ("n_reservoir_float", RESERVOIRS, {"n_reservoir": 10.5}, TypeError,
     "n_reservoir must be an instance of int"),
    ("spectral_radius_negative", RESERVOIRS, {"spectral_radius": -0.5}, ValueError,
     "spectral_radius == -0.5, must be >= 0"),
    ("leak_rate_zero", RESERVOIRS, {"leak_rate": 0.0}, ValueError, "leak_rate == 0.0, must be > 0"),
    ("leak_rate_above_one", RESERVOIRS, {"leak_rate": 1.5}, ValueError, "leak_rate == 1.5, must be <= 1"),
    ("learning_rate_zero", RESERVOIRS, {"learning_rate_init": 0.0}, ValueError,
     "learning_rate_init == 0.0, must be > 0"),
    ("rls_alpha_zero", RESERVOIRS, {"rls_alpha": 0.0}, ValueError, "rls_alpha == 0.0, must be > 0"),
    ("rls_alpha_other_string", RESERVOIRS, {"rls_alpha": "Auto"}, ValueError,
     "rls_alpha='Auto' is not valid; use 'auto' or a number > 0"),
    ("batch_size_other_string", ("mlp",), {"batch_size": "big"}, ValueError,
     "batch_size='big' is not valid; use 'auto' or an int >= 1"),
    ("unknown_learning_rule", RESERVOIRS, {"learning_rule": "sgd"}, ValueError,
     "learning_rule='sgd' is not valid; use one of 'lms', 'rls'"),
    ("feedback_split_not_bool", RESERVOIRS, {"feedback_split": "yes"}, TypeError,
     "feedback_split must be True or False"),
    ("hidden_layer_sizes_with_zero", ("mlp",), {"hidden_layer_sizes": (5, 0)}, ValueError,
     r"hidden_layer_sizes must be a tuple of ints >= 1, got \(5, 0\)"),
    ("hidden_layer_sizes_negative", ("mlp",), {"hidden_layer_sizes": -3}, ValueError,
     "hidden_layer_sizes must be a tuple of ints >= 1"),
    ("unknown_solver", ("mlp",), {"solver": "newton"}, ValueError,
     "solver='newton' is not valid; use one of 'adam', 'sgd', 'lbfgs'"),
    ("unknown_learning_rate", ("mlp",), {"learning_rate": "cosine"}, ValueError,
     "learning_rate='cosine' is not valid; use one of 'constant', 'invscaling', "
     "'adaptive'"),
    ("negative_power_t", ("mlp",), {"power_t": -0.5}, ValueError, "power_t == -0.5"),
    ("unknown_activation", ("mlp",), {"activation": "softplus"}, ValueError,
     "activation='softplus' is not valid"),
    ("learning_rate_init_zero", ("mlp",), {"learning_rate_init": 0.0}, ValueError,
     "learning_rate_init == 0.0, must be > 0"),
    # Issue 12: NaN everywhere, inf where it has no meaning (nowhere), seeds, dtype.
    ("td_gain_nan", ALL, {"td_gain": float("nan")}, ValueError, 'td_gain=nan is not a number \\(NaN\\)'),
    ("td_timescale_nan", ALL, {"td_timescale": float("nan")}, ValueError, 'td_timescale=nan is not a number \\(NaN\\)'),
    ("readout_sparsity_nan", ALL, {"readout_sparsity": float("nan")}, ValueError, 'readout_sparsity=nan is not a number \\(NaN\\)'),
    ("td_gain_inf", ALL, {"td_gain": float("inf")}, ValueError, 'td_gain=inf is infinite'),
    ("td_timescale_inf", ALL, {"td_timescale": float("inf")}, ValueError, 'td_timescale=inf is infinite'),
    ("spectral_radius_nan", RESERVOIRS, {"spectral_radius": float("nan")}, ValueError, 'spectral_radius=nan is not a number \\(NaN\\)'),
    ("density_nan", RESERVOIRS, {"density": float("nan")}, ValueError, 'density=nan is not a number \\(NaN\\)'),
    ("leak_rate_nan", RESERVOIRS, {"leak_rate": float("nan")}, ValueError, 'leak_rate=nan is not a number \\(NaN\\)'),
    ("input_scaling_nan", RESERVOIRS, {"input_scaling": float("nan")}, ValueError, 'input_scaling=nan is not a number \\(NaN\\)'),
    ("bias_scaling_nan", RESERVOIRS, {"bias_scaling": float("nan")}, ValueError, 'bias_scaling=nan is not a number \\(NaN\\)'),
    ("learning_rate_nan", RESERVOIRS, {"learning_rate_init": float("nan")}, ValueError, 'learning_rate_init=nan is not a number \\(NaN\\)'),
    ("rls_alpha_nan", RESERVOIRS, {"rls_alpha": float("nan")}, ValueError, 'rls_alpha=nan is not a number \\(NaN\\)'),
    ("spectral_radius_inf", RESERVOIRS, {"spectral_radius": float("inf")}, ValueError, 'spectral_radius=inf is infinite'),
    ("input_scaling_inf", RESERVOIRS, {"input_scaling": float("inf")}, ValueError, 'input_scaling=inf is infinite'),
    ("bias_scaling_inf", RESERVOIRS, {"bias_scaling": float("inf")}, ValueError, 'bias_scaling=inf is infinite'),
    ("learning_rate_inf", RESERVOIRS, {"learning_rate_init": float("inf")}, ValueError, 'learning_rate_init=inf is infinite'),
    ("rls_alpha_inf", RESERVOIRS, {"rls_alpha": float("inf")}, ValueError, 'rls_alpha=inf is infinite'),
    ("input_scaling_neg_inf", RESERVOIRS, {"input_scaling": -float("inf")}, ValueError, 'input_scaling == -inf, must be >= 0'),
    ("density_inf", RESERVOIRS, {"density": float("inf")}, ValueError, 'density == inf, must be <= 1'),
    ("feedback_scaling_nan", ("res_reg",), {"feedback_scaling": float("nan")}, ValueError, 'feedback_scaling=nan is not a number \\(NaN\\)'),
    ("feedback_scaling_inf", ("res_reg",), {"feedback_scaling": float("inf")}, ValueError, 'feedback_scaling=inf is infinite'),
    ("alpha_nan", ("mlp",), {"alpha": float("nan")}, ValueError, 'alpha=nan is not a number \\(NaN\\)'),
    ("learning_rate_init_nan", ("mlp",), {"learning_rate_init": float("nan")}, ValueError, 'learning_rate_init=nan is not a number \\(NaN\\)'),
    ("beta_1_nan", ("mlp",), {"beta_1": float("nan")}, ValueError, 'beta_1=nan is not a number \\(NaN\\)'),
    ("beta_2_nan", ("mlp",), {"beta_2": float("nan")}, ValueError, 'beta_2=nan is not a number \\(NaN\\)'),
    ("epsilon_nan", ("mlp",), {"epsilon": float("nan")}, ValueError, 'epsilon=nan is not a number \\(NaN\\)'),
    ("tol_nan", ("mlp",), {"tol": float("nan")}, ValueError, 'tol=nan is not a number \\(NaN\\)'),
    ("momentum_nan", ("mlp",), {"momentum": float("nan")}, ValueError, 'momentum=nan is not a number \\(NaN\\)'),
    ("validation_fraction_nan", ("mlp",), {"validation_fraction": float("nan")}, ValueError, 'validation_fraction=nan is not a number \\(NaN\\)'),
    ("alpha_inf", ("mlp",), {"alpha": float("inf")}, ValueError, 'alpha=inf is infinite'),
    ("learning_rate_init_inf", ("mlp",), {"learning_rate_init": float("inf")}, ValueError, 'learning_rate_init=inf is infinite'),
    ("epsilon_inf", ("mlp",), {"epsilon": float("inf")}, ValueError, 'epsilon=inf is infinite'),
    ("tol_inf", ("mlp",), {"tol": float("inf")}, ValueError, 'tol=inf is infinite'),
    ("random_state_negative", ALL, {"random_state": -1}, ValueError, 'random_state=-1 is out of range; use an int in \\[0, 2\\*\\*32 - 1\\]'),
    ("random_state_too_large", ALL, {"random_state": 2**32}, ValueError, 'random_state=4294967296 is out of range'),
    ("random_state_not_a_seed", ALL, {"random_state": "seed"}, TypeError, 'random_state must be None, an int'),
    ("dtype_none", RESERVOIRS, {"dtype": None}, TypeError, 'dtype=None is not supported'),
]


def _expand(cases):
    return [pytest.param(name, case, id=f"{case[0]}-{name}")
            for case in cases for name in case[1]]


@pytest.mark.parametrize("name, case", _expand(CASES))
def test_bad_input_raises_clear_error(name, case):
    _, _, needs_fitted, call, exc, match = case
    X, y = _data(name)
    est = _fit(name) if needs_fitted else FACTORIES[name]()
    with pytest.raises(exc, match=match) as info:
        call(est, X, y)
    assert type(info.value).__module__ in ("builtins", "sklearn.exceptions")


@pytest.mark.parametrize("name, case", _expand(PARAMS))
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_out_of_range_parameter(name, case, method):
    _, _, params, exc, match = case
    X, y = _data(name)
    est = FACTORIES[name](**params)
    with pytest.raises(exc, match=match):
        if method == "fit":
            est.fit(X, y)
        else:
            _partial_fit(est, X, y, classes=np.unique(y))
    assert not hasattr(est, "n_features_in_")  # nothing was learned


def _rejected_on_fitted():
    """Every case that can be applied to a fitted model, data and parameters."""
    out = []
    for case in CASES:
        if case[0] in ("predict_before_fit", "wrong_n_features_fit_predict",
                       "partial_fit_without_classes",
                       "partial_fit_after_changed_output_feedback",
                       "sample_weight_wrong_length_sequential_partial_fit"):
            continue  # not rejections on a fitted model (first-call-only, or refits)
        for name in case[1]:
            out.append(pytest.param(name, case[3], case[0], id=f"{case[0]}-{name}"))
    for pid, names, params, exc, _ in PARAMS:
        for name in names:
            for method in ("fit", "partial_fit"):
                call = (lambda p, m: lambda e, X, y: (
                    e.set_params(**p).fit(X, y) if m == "fit"
                    else _partial_fit(e.set_params(**p), X, y)))(params, method)
                out.append(pytest.param(name, call, params, id=f"{pid}-{method}-{name}"))
    return out


@pytest.mark.parametrize("name, call, info", _rejected_on_fitted())
def test_rejected_call_changes_nothing(name, call, info):
    """A fitted model's learned state and predictions are byte-identical after."""
    X, y = _data(name)
    est = _fit(name)
    params = est.get_params(deep=False)
    before_state = learned_state(est)
    before_out = fingerprint(outputs(est, X))
    with pytest.raises(ALLOWED):
        call(est, X, y)
    est.set_params(**params)  # undo set_params of the parameter cases
    assert learned_state(est) == before_state
    assert fingerprint(outputs(est, X)) == before_out


# -- accepted inputs -------------------------------------------------------------------
def _scores(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "csr_array"])
@pytest.mark.parametrize("name", ALL)
def test_sparse_input_equals_dense(name, fmt):
    X, y = _data(name)
    X[np.abs(X) < 0.7] = 0.0
    Xs = sparse.csr_array(X) if fmt == "csr_array" else getattr(sparse, f"{fmt}_matrix")(X)
    # float64 throughout (the reservoir classifier computes in float32 by default)
    kw = {"dtype": np.float64} if name == "res_clf" else {}
    dense, sparse_ = _fit_on(name, X, y, **kw), _fit_on(name, Xs, y, **kw)
    # Only the summation order of X @ W_in differs; RLS (P0 = I / 1e-4) amplifies
    # that 1e-16 rounding to ~1e-12, far below any modelling difference.
    np.testing.assert_allclose(_scores(sparse_, Xs), _scores(dense, X), rtol=1e-8, atol=1e-10)
    if name != "res_reg":
        np.testing.assert_array_equal(sparse_.predict(Xs), dense.predict(X))


def _fit_on(name, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FACTORIES[name](**kw).fit(X, y)


@pytest.mark.parametrize("name", ALL)
def test_integer_X_equals_float_X(name):
    X, y = _data(name)
    Xi = np.round(X * 10).astype(np.int64)
    a, b = _fit_on(name, Xi, y), _fit_on(name, Xi.astype(np.float64), y)
    assert np.array_equal(_scores(a, Xi), _scores(b, Xi.astype(np.float64)))


@pytest.mark.parametrize("name", ALL)
def test_float32_X(name):
    X, y = _data(name)
    X32 = X.astype(np.float32)
    a, b = _fit_on(name, X32, y), _fit_on(name, X32.astype(np.float64), y)
    sa, sb = _scores(a, X32), _scores(b, X32.astype(np.float64))
    assert np.isfinite(sa).all() and sa.shape == sb.shape
    # float32 storage of the same values: same model up to float32 rounding.
    np.testing.assert_allclose(sa, sb, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_dataframe_feature_names_like_sklearn(name):
    pd = pytest.importorskip("pandas")
    X, y = _data(name)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = _fit_on(name, df, y)
    ref = LogisticRegression().fit(df, np.arange(len(y)) % 2)  # sklearn's own behaviour
    np.testing.assert_array_equal(est.feature_names_in_, ref.feature_names_in_)
    # A DataFrame gives the same model as its values.
    assert np.array_equal(_scores(est, df), _scores(_fit_on(name, X, y), X))
    # Fitted with names, predicted without: sklearn warns.
    for model in (est, ref):
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            model.predict(X)
    # Wrong or reordered names: sklearn raises.
    for bad in (df.rename(columns={"a": "z"}), df[["b", "a", "c"]]):
        for model in (est, ref):
            with pytest.raises(ValueError, match="feature names should match"):
                model.predict(bad)
    # Fitted without names, predicted with names: sklearn warns.
    plain = _fit_on(name, X, y)
    assert not hasattr(plain, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but"):
        plain.predict(df)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_string_labels(name):
    X, y = _data(name)
    labels = np.array(["cat", "dog", "emu"])[y]
    est = _fit_on(name, X, labels)
    np.testing.assert_array_equal(est.classes_, ["cat", "dog", "emu"])
    assert set(est.predict(X)) <= set(labels)


def test_constant_target_is_valid_regression():
    """The regressor's counterpart of 'one class only': not an error."""
    X, _ = _data("res_reg")
    y = np.full(len(X), 2.5)
    pred = _fit_on("res_reg", X, y).predict(X)
    assert np.isfinite(pred).all()
    # RLS from P0 = I / rls_alpha converges to the constant quickly.
    assert np.abs(pred[-5:] - 2.5).max() < 0.1


# -- parameters changed after fit (issue 12) -------------------------------------------
# Prediction and the diagnostics use the parameters the model was fitted with;
# set_params takes effect at the next fit (and partial_fit refuses to continue,
# see CASES). Before, n_steps=0 made decision_function return uninitialised
# memory, and output_feedback=True made the sequential regressor fail in matmul.
NAN = float("nan")
CHANGED_AFTER_FIT = [
    ("mlp", {}, {"activation": "tanh"}),
    ("mlp", {}, {"learning_rate_init": 1.0, "td_gain": NAN}),
    ("mlp", {}, {"hidden_layer_sizes": (3, 3), "solver": "sgd"}),
    ("res_clf", {}, {"n_steps": 0}),
    ("res_clf", {}, {"n_steps": 3, "representation": "last", "bidirectional": True}),
    ("res_clf", {}, {"n_reservoir": 5, "input_to_readout": True, "scale_inputs": False}),
    ("res_clf", {}, {"spectral_radius": NAN, "td_gain": NAN, "dtype": np.float32}),
    ("res_reg", {}, {"n_steps": 0, "instance_norm": False}),
    ("res_reg", {}, {"mode": "sequential", "input_to_readout": False}),
    ("res_reg", {"mode": "sequential"}, {"output_feedback": True, "teacher_forcing": True}),
    ("res_reg", {"mode": "sequential"}, {"input_to_readout": False, "update_every": 0}),
    ("res_reg", {"mode": "sequential"}, {"mode": "samples", "n_reservoir": 3}),
    ("mlp", {}, {"echo": "weight_average", "td_sign": -1}),
    ("res_clf", {}, {"echo": "weight_average", "td_sign": -1}),
    ("res_reg", {"td_gain": 0.5}, {"echo": "weight_average", "td_sign": -1}),
]


def _diagnostics(est, X, y):
    out = outputs(est, X) + [est.td_step_norms(X, y)]
    if hasattr(est, "decision_function"):
        out.append(est.decision_function(X))
    if hasattr(est, "input_gradient"):
        out.append(est.input_gradient(X, y))
    return fingerprint(out)


@pytest.mark.parametrize("name, fit_params, changed", CHANGED_AFTER_FIT,
                         ids=lambda v: "-".join(v) if isinstance(v, dict) else str(v))
def test_prediction_uses_fitted_parameters(name, fit_params, changed):
    X, y = _data(name)
    est = _fit(name, **fit_params)
    before = _diagnostics(est, X, y)
    est.set_params(**changed)
    assert _diagnostics(est, X, y) == before
    assert _diagnostics(est, X, y) == before  # deterministic: no stale memory
    with pytest.raises(ALLOWED):  # continuing is refused (or the value rejected)
        _partial_fit(est, X, y)
    assert _diagnostics(est, X, y) == before


def test_mlp_without_hidden_layers_takes_sparse_input():
    """Issue 12: hidden_layer_sizes=() with CSR input failed inside einsum."""
    X, y = _data("mlp")
    X[np.abs(X) < 0.7] = 0.0
    kw = dict(hidden_layer_sizes=(), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = ITDSMLPClassifier(**kw).fit(X, y)
        sparse_ = ITDSMLPClassifier(**kw).fit(sparse.csr_matrix(X), y)
    Xs = sparse.csr_matrix(X)
    np.testing.assert_allclose(sparse_.predict_proba(Xs), dense.predict_proba(X),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse_.td_step_norms(Xs, y), dense.td_step_norms(X, y),
                               rtol=1e-10)
    np.testing.assert_allclose(sparse_.td_history_["weight_change"],
                               dense.td_history_["weight_change"], rtol=1e-10)


@pytest.mark.parametrize("name, params", [("mlp", {}), ("res_clf", {}), ("res_reg", {}),
                                          ("res_reg", {"mode": "sequential"})])
def test_numeric_strings_like_floats(name, params):
    """Issue 12: the sequential regressor rejected numeric-string ('<U') arrays
    that the other estimators read as numbers; now all read them alike."""
    X, y = _data(name)
    Xs = np.round(X, 3).astype(str)
    Xf = Xs.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = FACTORIES[name](**params).fit(Xs, y)
        b = FACTORIES[name](**params).fit(Xf, y)
    assert _scores(a, Xs).tobytes() == _scores(b, Xf).tobytes()
