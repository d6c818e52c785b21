"""The per-sample weight-change diagnostic (P3): td_step_norms / step_norms.

Each predicted norm is checked against the weight change that one real update,
applied to a copy, actually makes; with td_gain=0 against a naive computation
of the plain supervised update size written here.
"""

import copy
import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import load_digits, load_iris

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from sklearn_itds._itds import DecisionEcho, ITDSReadout


def _trained_readout(rule, td_gain, rng, n_in=12, n_out=3, n_warm=40):
    readout = ITDSReadout(n_in, n_out, rule=rule, learning_rate=0.3, rls_alpha=0.5,
                          td_gain=td_gain, td_timescale=3.0)
    R = np.hstack([rng.standard_normal((n_warm, n_in - 1)), np.ones((n_warm, 1))])
    readout.partial_fit(R, rng.standard_normal((n_warm, n_out)))
    return readout


def _rows(rng, n, n_in=12, n_out=3):
    R = np.hstack([rng.standard_normal((n, n_in - 1)), np.ones((n, 1))])
    return R, rng.standard_normal((n, n_out))


@pytest.mark.parametrize("rule", ["lms", "rls"])
@pytest.mark.parametrize("td_gain", [0.0, 1.5])
def test_readout_step_norms_match_one_real_update(rule, td_gain):
    rng = np.random.RandomState(0)
    readout = _trained_readout(rule, td_gain, rng)
    R, Y = _rows(rng, 8)
    before = copy.deepcopy(readout)
    norms = readout.step_norms(R, Y)
    # Nothing changed (W, echo, P).
    for name in before._learned():
        np.testing.assert_array_equal(getattr(readout, name), getattr(before, name))
    for r, y, norm in zip(R, Y, norms):
        trial = copy.deepcopy(readout)
        trial.update(r, y)
        np.testing.assert_allclose(norm, np.linalg.norm(trial.W - readout.W),
                                   rtol=1e-10)


@pytest.mark.parametrize("rule", ["lms", "rls"])
def test_readout_step_norms_plain_without_td(rule):
    rng = np.random.RandomState(1)
    readout = _trained_readout(rule, 0.0, rng)
    R, Y = _rows(rng, 6)
    W = readout.W.copy()
    err = np.linalg.norm(Y - R @ W, axis=1)
    if rule == "lms":
        expected = 0.3 * np.linalg.norm(R, axis=1) * err / np.sum(R**2, axis=1)
    else:
        P = np.tril(readout.P) + np.tril(readout.P, -1).T  # stored lower triangle
        PR = R @ P
        expected = (np.linalg.norm(PR, axis=1) / (1 + np.sum(PR * R, axis=1))) * err
    np.testing.assert_allclose(readout.step_norms(R, Y), expected, rtol=1e-10)


@pytest.mark.parametrize("echo", ["learned", "decision"])
@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_reservoir_classifier_matches_one_real_update(td_gain, echo):
    X, y = load_iris(return_X_y=True)
    clf = ITDSReservoirClassifier(n_reservoir=30, n_steps=4, learning_rule="rls",
                                  max_iter=2, td_gain=td_gain, echo=echo,
                                  dtype=np.float64, random_state=0)
    clf.fit(X, y)
    idx = [0, 60, 120, 10]
    labels = np.array([0, 2, 1, 0])  # two wrong, two right
    norms = clf.td_step_norms(X[idx], labels)
    rows = clf.encoder_.transform(clf._validate(X[idx]))
    for k, (i, label, norm) in enumerate(zip(idx, labels, norms)):
        trial = copy.deepcopy(clf)
        if echo == "decision":  # a further pass's update: the echo is the decision
            r, t = rows[k:k + 1], np.eye(3)[[label]]
            trial.readout_.partial_fit(r, t, DecisionEcho.decisions(clf.readout_.predict(r)))
        else:
            trial.partial_fit(X[i:i + 1], [label])  # exactly one update per trial
        np.testing.assert_allclose(
            norm, np.linalg.norm(trial.readout_.W - clf.readout_.W), rtol=1e-9)
    if echo == "decision":  # partial_fit's new trials: the plain RLS step, d = y
        P = np.tril(clf.readout_.P) + np.tril(clf.readout_.P, -1).T
        for k, (i, label) in enumerate(zip(idx, labels)):
            r = rows[k]
            plain = (np.linalg.norm(P @ r) / (1 + r @ P @ r)
                     * np.linalg.norm(np.eye(3)[label] - r @ clf.readout_.W))
            trial = copy.deepcopy(clf)
            trial.partial_fit(X[i:i + 1], [label])
            np.testing.assert_allclose(
                np.linalg.norm(trial.readout_.W - clf.readout_.W), plain, rtol=1e-9)


def test_reservoir_regressor_matches_one_real_update():
    series = np.sin(2 * np.pi * np.arange(400) / 37)
    X, y = series[:-1, None], series[1:]
    model = ITDSReservoirRegressor(n_reservoir=40, mode="sequential", washout=20,
                                   td_gain=0.5,
                                   td_timescale=2.0, output_feedback=True,
                                   feedback_scaling=0.3, random_state=0)
    model.fit(X[:300], y[:300])
    state = model.state_.copy()
    norms = model.td_step_norms(X[300:304], y[300:304] + 0.5)
    np.testing.assert_array_equal(model.state_, state)
    trial = copy.deepcopy(model)
    trial.partial_fit(X[300:301], y[300:301] + 0.5)  # one RLS step from state_
    np.testing.assert_allclose(
        norms[0], np.linalg.norm(trial.readout_.W - model.readout_.W), rtol=1e-9)
    assert norms.shape == (4,)


@pytest.mark.parametrize("rule", ["rls", "lms"])
def test_reservoir_regressor_samples_mode_matches_one_real_update(rule):
    series = np.sin(2 * np.pi * np.arange(400) / 37)
    X = np.lib.stride_tricks.sliding_window_view(series, 6)[:-1]
    y = series[6:]
    model = ITDSReservoirRegressor(n_reservoir=40, learning_rule=rule, td_gain=0.5,
                                   random_state=0).fit(X[:300], y[:300])
    norms = model.td_step_norms(X[300:304], y[300:304] + 0.5)
    for i, norm in enumerate(norms):
        trial = copy.deepcopy(model)
        trial.partial_fit(X[300 + i:301 + i], y[300 + i:301 + i] + 0.5)  # one update
        np.testing.assert_allclose(
            norm, np.linalg.norm(trial.readout_.W - model.readout_.W), rtol=1e-9)


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_mlp_matches_one_real_sgd_step(td_gain):
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    clf = ITDSMLPClassifier(hidden_layer_sizes=(20,), solver="sgd", momentum=0.0,
                            alpha=0.0, batch_size=1, learning_rate_init=0.05,
                            max_iter=3, td_gain=td_gain, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    labels = np.array([y[0], (y[1] + 3) % 10, y[2]])
    norms = clf.td_step_norms(X[:3], labels)
    for i, (label, norm) in enumerate(zip(labels, norms)):
        trial = copy.deepcopy(clf)
        trial.partial_fit(X[i:i + 1], [label])
        change = np.vstack([trial.coefs_[-1] - clf.coefs_[-1],
                            trial.intercepts_[-1] - clf.intercepts_[-1]])
        np.testing.assert_allclose(norm, np.linalg.norm(change), rtol=1e-9)


def test_mlp_plain_step_without_td():
    X, y = load_iris(return_X_y=True)
    clf = ITDSMLPClassifier(hidden_layer_sizes=(7,), activation="tanh", max_iter=30,
                            td_gain=0.0, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    H = np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0])  # naive forward pass
    P = softmax(H @ clf.coefs_[1] + clf.intercepts_[1], axis=1)
    Y = np.eye(3)[y]
    expected = 0.01 * np.sqrt(np.sum(H**2, axis=1) + 1) * np.linalg.norm(Y - P, axis=1)
    np.testing.assert_allclose(clf.td_step_norms(X, y), expected, rtol=1e-10)


def test_td_step_norms_needs_a_fitted_model_and_known_labels():
    from sklearn.exceptions import NotFittedError
    X, y = load_iris(return_X_y=True)
    with pytest.raises(NotFittedError):
        ITDSMLPClassifier().td_step_norms(X, y)
    with pytest.raises(NotFittedError):
        ITDSReservoirClassifier().td_step_norms(X, y)
    clf = ITDSReservoirClassifier(n_reservoir=10, max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[7\] that the model was not fitted on"):
        clf.td_step_norms(X[:2], [0, 7])
