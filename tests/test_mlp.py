"""Tests of ITDSMLPClassifier.

References used: scikit-learn's own MLPClassifier (the ``td_gain=0`` ablation
must follow it step for step), a one-hidden-layer network written out by hand
in this file (the iTDS logit gradient, the echo update, the sign split and the
diagnostics), and central finite differences (input gradients).
"""

import re

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_itds import ITDSMLPClassifier
from sklearn_itds.robustness import corrupt_labels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits300():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _assert_same_weights(a, b, rtol=1e-10, atol=1e-12):
    assert len(a.coefs_) == len(b.coefs_)
    for x, z in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(x, z, rtol=rtol, atol=atol)


# -- the ablation: td_gain=0 is scikit-learn's MLPClassifier ---------------------------
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("hidden", [(20,), (15, 10)])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_td_gain_zero_reproduces_mlpclassifier(digits300, solver, hidden, shuffle):
    X, y = digits300
    kw = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=6, shuffle=shuffle,
              learning_rate_init=0.01 if solver == "adam" else 0.2, alpha=1e-3,
              batch_size=64, random_state=7)
    ref = MLPClassifier(**kw).fit(X, y)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ == 6
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    _assert_same_weights(ours, ref)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # the weights really moved: this is not a comparison of two initializations
    assert ref.loss_curve_[-1] < 0.7 * ref.loss_curve_[0]


def test_td_gain_zero_partial_fit_reproduces_mlpclassifier(digits300):
    X, y = digits300
    kw = dict(hidden_layer_sizes=(12,), shuffle=False, learning_rate_init=0.01,
              batch_size=50, random_state=1)
    ref, ours = MLPClassifier(**kw), ITDSMLPClassifier(td_gain=0.0, **kw)
    for _ in range(3):  # the Adam state carries over between calls in both
        ref.partial_fit(X, y, classes=np.arange(10))
        ours.partial_fit(X, y, classes=np.arange(10))
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    _assert_same_weights(ours, ref)


def _problem(kind, digits300):
    X, y = digits300
    if kind == "binary":
        return X, np.where(y < 5, "low", "high")  # string labels, one logistic unit
    if kind == "multilabel":
        return X, np.column_stack([y < 5, y % 2 == 0, np.isin(y, [1, 4, 7])]).astype(int)
    return X, y


SCHEDULES = [
    dict(solver="adam", learning_rate_init=0.01),
    dict(solver="sgd", learning_rate="constant", learning_rate_init=0.2),
    dict(solver="sgd", learning_rate="invscaling", power_t=0.3, learning_rate_init=0.5),
    # tol and n_iter_no_change such that the step is divided by 5 within the run
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.2, tol=0.2,
         n_iter_no_change=1),
]


@pytest.mark.parametrize("schedule", SCHEDULES,
                         ids=["adam", "sgd-constant", "sgd-invscaling", "sgd-adaptive"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_td_gain_zero_equals_mlpclassifier_on_every_target_kind(digits300, kind,
                                                                 schedule):
    X, y = _problem(kind, digits300)
    kw = dict(hidden_layer_sizes=(15,), max_iter=8, alpha=1e-3, batch_size=64,
              random_state=3, **schedule)
    ref = MLPClassifier(**kw).fit(X, y)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y)
    assert ours.out_activation_ == ref.out_activation_
    assert ours.n_outputs_ == ref.n_outputs_
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-11)
    _assert_same_weights(ours, ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ref.loss_curve_[-1] < 0.9 * ref.loss_curve_[0]  # it learned
    if schedule.get("learning_rate") in ("invscaling", "adaptive"):
        # the schedule really changed the step, in both
        assert ours._optimizer.learning_rate == pytest.approx(
            ref._optimizer.learning_rate, rel=1e-12)
        assert ref._optimizer.learning_rate < schedule["learning_rate_init"]


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_td_gain_zero_partial_fit_with_shuffle_equals_mlpclassifier(digits300, kind):
    X, y = _problem(kind, digits300)
    kw = dict(hidden_layer_sizes=(12,), learning_rate_init=0.01, batch_size=50,
              random_state=2)  # shuffle=True: partial_fit shuffles its batch
    ref, ours = MLPClassifier(**kw), ITDSMLPClassifier(td_gain=0.0, **kw)
    # for multilabel y, MLPClassifier takes the label columns as classes
    classes = np.arange(y.shape[1]) if kind == "multilabel" else np.unique(y)
    for _ in range(3):
        ref.partial_fit(X, y, classes=classes)
        ours.partial_fit(X, y, classes=classes)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-11)
    _assert_same_weights(ours, ref, rtol=1e-11, atol=1e-12)
    assert ours.n_iter_ == ref.n_iter_ == 1


def test_binary_uses_one_logistic_unit_and_its_echo(digits300):
    X, y = _problem("binary", digits300)
    m = ITDSMLPClassifier((7,), max_iter=3, random_state=0).fit(X, y)
    assert m.out_activation_ == "logistic" and m.n_outputs_ == 1
    assert m.coefs_[-1].shape == (7, 1) and m.echo_coef_.shape == (7, 1)
    H = np.maximum(X @ m.coefs_[0] + m.intercepts_[0], 0)
    p = 1 / (1 + np.exp(-(H @ m.coefs_[1] + m.intercepts_[1])))
    np.testing.assert_allclose(m.predict_proba(X), np.hstack([1 - p, p]), rtol=1e-12)
    np.testing.assert_array_equal(m.predict(X), m.classes_[(p[:, 0] > 0.5).astype(int)])


def test_logistic_output_step_matches_hand_computation(digits300):
    """One full-batch SGD step with iTDS on logistic outputs (multilabel)."""
    X, y = _problem("multilabel", digits300)
    X, y = X[:40], y[:40]
    Y = y.astype(float)
    lr, g, tau, alpha = 0.5, 2.0, 4.0, 1e-2
    m = ITDSMLPClassifier((6,), activation="tanh", solver="sgd", momentum=0.0,
                          learning_rate_init=lr, batch_size=40, alpha=alpha,
                          td_gain=g, td_timescale=tau, random_state=0, shuffle=False)
    for _ in range(3):
        m.partial_fit(X, y, classes=[0, 1, 2])
    W0, b0, W1, b1, We, be = (a.copy() for a in _state(m))
    assert np.abs(W1 - We).max() > 1e-3
    n = X.shape[0]
    H = np.tanh(X @ W0 + b0)
    P = 1 / (1 + np.exp(-(H @ W1 + b1)))
    Pe = 1 / (1 + np.exp(-(H @ We + be)))
    G = ((P - Y) + g * (P - Pe)) / n
    D = (G @ W1.T) * (1 - H**2)
    Ge = (Pe - P) / n
    want = (W0 - lr * (X.T @ D + alpha * W0 / n), b0 - lr * D.sum(0),
            W1 - lr * (H.T @ G + alpha * W1 / n), b1 - lr * G.sum(0),
            We - lr / tau * H.T @ Ge, be - lr / tau * Ge.sum(0))
    m.partial_fit(X, y)
    for got, w in zip(_state(m), want):
        np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-13)
    loss = -np.mean(np.sum(Y * np.log(P) + (1 - Y) * np.log(1 - P), axis=1))
    loss += 0.5 * alpha * (np.sum(W0**2) + np.sum(W1**2)) / n
    assert m.loss_curve_[-1] == pytest.approx(loss, rel=1e-12)
    assert m.predict(X).shape == Y.shape and set(np.unique(m.predict(X))) <= {0, 1}


def test_target_kind_mismatch_is_rejected(digits300):
    X, y = _problem("multilabel", digits300)
    m = ITDSMLPClassifier((4,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="multilabel"):
        m.fit(X, y[:, 0])
    with pytest.raises(ValueError, match="labels"):
        m.fit(X, y[:, :2])
    with pytest.raises(ValueError, match="multilabel indicator matrix"):
        ITDSMLPClassifier((4,), max_iter=2).fit(X, np.column_stack([y[:, 0] * 3 + 2,
                                                                   y[:, 1]]))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_positive_td_gain_changes_the_updates(digits300, solver):
    X, y = digits300
    kw = dict(hidden_layer_sizes=(20,), solver=solver, max_iter=6,
              learning_rate_init=0.01, batch_size=64, random_state=7)
    ref = MLPClassifier(**kw).fit(X, y)
    ours = ITDSMLPClassifier(td_gain=2.0, td_timescale=20.0, **kw).fit(X, y)
    # the first minibatch sees echo == readout, so the two start identically ...
    diff = max(np.abs(a - b).max() for a, b in zip(ours.coefs_, ref.coefs_))
    # ... but after six epochs the top-down term has moved the weights
    assert diff > 1e-3
    assert not np.allclose(ours.loss_curve_[1:], ref.loss_curve_[1:], rtol=1e-6)


READINGS = [("learned", -1), ("weight_average", 1), ("weight_average", -1)]


@pytest.mark.parametrize("echo, td_sign", READINGS)
@pytest.mark.parametrize("solver, extra", [("adam", {}), ("sgd", {}),
                                           ("adam", {"feedback_split": True}),
                                           ("sgd", {"readout_sparsity": 0.3})],
                         ids=["adam", "sgd", "adam-split", "sgd-mask"])
def test_td_gain_zero_every_reading_and_sign_is_the_plain_network(digits300, echo,
                                                                  td_sign, solver, extra):
    """Issue 14: with td_gain=0 the readings and the sign change nothing, bit for bit
    (and without a split or mask, that is MLPClassifier)."""
    X, y = digits300
    kw = dict(hidden_layer_sizes=(15,), solver=solver, max_iter=5, alpha=1e-3,
              learning_rate_init=0.01 if solver == "adam" else 0.2, batch_size=64,
              random_state=7)
    plain = ITDSMLPClassifier(td_gain=0.0, **kw, **extra).fit(X, y)
    other = ITDSMLPClassifier(td_gain=0.0, echo=echo, td_sign=td_sign, **kw,
                              **extra).fit(X, y)
    for a, b in zip(other.coefs_ + other.intercepts_, plain.coefs_ + plain.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(other.loss_curve_, plain.loss_curve_)
    np.testing.assert_array_equal(other.predict_proba(X), plain.predict_proba(X))
    if not extra:
        ref = MLPClassifier(**kw).fit(X, y)
        _assert_same_weights(other, ref)
        np.testing.assert_allclose(other.loss_curve_, ref.loss_curve_, rtol=1e-10)
    if echo == "weight_average":  # the echo is a different thing
        assert not np.allclose(other.echo_coef_, plain.echo_coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("extra", [{}, {"feedback_split": True, "readout_sparsity": 0.3}],
                         ids=["plain", "split-mask"])
def test_weight_average_echo_is_an_ema_of_the_recorded_output_layer(digits300, solver,
                                                                     extra):
    """The echo after n optimizer steps, from the output layer recorded after each."""
    X, y = digits300
    X, y = X[:60], y[:60]
    tau = 5.0
    m = ITDSMLPClassifier((8,), solver=solver, batch_size=60, td_gain=1.0,
                          td_timescale=tau, echo="weight_average", random_state=0,
                          learning_rate_init=0.05, **extra)
    m.partial_fit(X, y, classes=np.arange(10))  # one minibatch: one step
    start = (m.echo_coef_.copy(), m.echo_intercept_.copy())
    recorded = []
    for _ in range(12):
        m.partial_fit(X, y)
        recorded.append((m.coefs_[-1].copy(), m.intercepts_[-1].copy()))
    a, n = 1.0 - 1.0 / tau, len(recorded)
    for part in (0, 1):
        want = a**n * start[part] + sum((1 - a) * a ** (n - k) * rec[part]
                                        for k, rec in enumerate(recorded, start=1))
        got = m.echo_coef_ if part == 0 else m.echo_intercept_
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    assert not np.allclose(m.echo_coef_, m.coefs_[-1], rtol=1e-3, atol=1e-4)


# -- the rule at the output layer, checked against a hand-written step ------------------
def _hand_step(X, Y, state, td_gain, td_timescale, lr, alpha, echo="learned", td_sign=1):
    """One full-batch SGD (momentum 0) step of a tanh network with one hidden
    layer and an iTDS softmax output, written out from the method page (each
    reading of the echo, each sign)."""
    W0, b0, W1, b1, We, be = (a.copy() for a in state)
    n = X.shape[0]
    H = np.tanh(X @ W0 + b0)
    P = softmax(H @ W1 + b1, axis=1)
    Pe = softmax(H @ We + be, axis=1)
    G = ((P - Y) + td_sign * td_gain * (P - Pe)) / n  # gradient on the logits
    dW1 = H.T @ G + alpha * W1 / n
    db1 = G.sum(0)
    D = (G @ W1.T) * (1 - H**2)
    dW0 = X.T @ D + alpha * W0 / n
    db0 = D.sum(0)
    Ge = (Pe - P) / n  # cross-entropy gradient teaching the echo to output P
    new = (W0 - lr * dW0, b0 - lr * db0, W1 - lr * dW1, b1 - lr * db1,
           We - lr / td_timescale * (H.T @ Ge), be - lr / td_timescale * Ge.sum(0))
    if echo == "weight_average":  # the output layer's moving average
        new = new[:4] + (We + (new[2] - We) / td_timescale,
                         be + (new[3] - be) / td_timescale)
    e_sup, e_td = Y - P, Pe - P
    delta = e_sup + td_sign * td_gain * e_td
    diag = {
        "e_sup": np.abs(e_sup).mean(),
        "e_td": np.abs(e_td).mean(),
        "cosine": np.sum(e_sup * e_td) / np.sqrt(np.sum(e_sup**2) * np.sum(e_td**2)),
        "weight_change": lr * np.mean(np.sqrt((H**2).sum(1) + 1)
                                      * np.linalg.norm(delta, axis=1)),
        "n_updates": n,
    }
    return new, diag


@pytest.mark.parametrize("echo, td_sign", READINGS)
def test_each_reading_and_sign_matches_hand_computation(digits300, echo, td_sign):
    X, y = digits300[0][:40], digits300[1][:40]
    Y = np.eye(10)[y]
    lr, tau, alpha, g = 0.5, 4.0, 1e-2, 1.5
    m = ITDSMLPClassifier((6,), activation="tanh", solver="sgd", momentum=0.0,
                          learning_rate_init=lr, batch_size=40, alpha=alpha,
                          td_gain=g, td_timescale=tau, random_state=0,
                          echo=echo, td_sign=td_sign)
    for _ in range(3):  # move the readout away from its echo first
        m.partial_fit(X, y, classes=np.arange(10))
    before = [a.copy() for a in _state(m)]
    assert np.abs(before[2] - before[4]).max() > 1e-3
    expected, diag = _hand_step(X, Y, before, g, tau, lr, alpha, echo, td_sign)
    m.partial_fit(X, y)
    for got, want in zip(_state(m), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    for key, value in diag.items():
        assert m.td_history_[key][-1] == pytest.approx(value, rel=1e-9)
    # the reading and the sign are material
    default, _ = _hand_step(X, Y, before, g, tau, lr, alpha)
    assert not np.allclose(default[2 if td_sign == -1 else 4],
                           expected[2 if td_sign == -1 else 4], rtol=1e-6, atol=1e-9)


def _state(m):
    return (m.coefs_[0], m.intercepts_[0], m.coefs_[1], m.intercepts_[1],
            m.echo_coef_, m.echo_intercept_)


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_logit_gradient_and_echo_update_match_hand_computation(digits300, td_gain):
    X, y = digits300[0][:40], digits300[1][:40]
    Y = np.eye(10)[y]
    lr, tau, alpha = 0.5, 4.0, 1e-2
    m = ITDSMLPClassifier((6,), activation="tanh", solver="sgd", momentum=0.0,
                          learning_rate_init=lr, batch_size=40, alpha=alpha,
                          td_gain=td_gain, td_timescale=tau, random_state=0)
    for _ in range(3):  # move the readout away from its echo first
        m.partial_fit(X, y, classes=np.arange(10))
    before = [a.copy() for a in _state(m)]
    assert np.abs(before[2] - before[4]).max() > 1e-2
    expected, diag = _hand_step(X, Y, before, td_gain, tau, lr, alpha)
    m.partial_fit(X, y)
    for got, want in zip(_state(m), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    for key, value in diag.items():
        assert m.td_history_[key][-1] == pytest.approx(value, rel=1e-9)
    if td_gain > 0:
        # the top-down term is material: the plain-gradient step is different
        plain, _ = _hand_step(X, Y, before, 0.0, tau, lr, alpha)
        assert np.abs(plain[2] - expected[2]).max() > 1e-4
        assert not np.allclose(m.coefs_[1], plain[2], rtol=1e-6)


def test_echo_learns_slower_by_td_timescale(digits300):
    # Same data and network, two timescales: the echo's step is proportional
    # to 1 / td_timescale while the network's own step is unchanged (td_gain=0).
    X, y = digits300[0][:40], digits300[1][:40]
    steps = {}
    for tau in (2.0, 8.0):
        m = ITDSMLPClassifier((6,), solver="sgd", momentum=0.0, batch_size=40,
                              learning_rate_init=0.3, td_gain=0.0, td_timescale=tau,
                              random_state=0)
        m.partial_fit(X, y, classes=np.arange(10))
        m.partial_fit(X, y)  # first step with p != p_echo
        e0 = m.echo_coef_.copy()
        m.partial_fit(X, y)
        steps[tau] = m.echo_coef_ - e0
    # with td_gain=0 the network (hence p) is identical; only the echo step differs
    # by the ratio of timescales, up to the echo's own (different) position.
    ratio = np.linalg.norm(steps[2.0]) / np.linalg.norm(steps[8.0])
    assert 3.0 < ratio < 5.0


def test_input_gradient_matches_finite_differences(digits300):
    X, y = digits300
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                       "eight", "nine"])[y]  # string labels too
    m = ITDSMLPClassifier((10,), activation="tanh", max_iter=15, random_state=0)
    m.fit(X, labels)
    Xs, ls = X[:4], labels[:4]
    grad = m.input_gradient(Xs, ls)
    col = np.searchsorted(m.classes_, ls)
    h = 1e-6
    fd = np.empty_like(Xs)
    for i in range(Xs.shape[0]):
        for j in range(Xs.shape[1]):
            up, down = Xs[i].copy(), Xs[i].copy()
            up[j] += h
            down[j] -= h
            fd[i, j] = (-np.log(m.predict_proba(up[None])[0, col[i]])
                        + np.log(m.predict_proba(down[None])[0, col[i]])) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match=r"labels \['eleven'\] that the model was not fitted on"):
        m.input_gradient(Xs[:1], ["eleven"])


# -- early stopping --------------------------------------------------------------------
def test_early_stopping_keeps_the_best_epoch(digits300):
    X, y = digits300
    kw = dict(hidden_layer_sizes=(10,), early_stopping=True, n_iter_no_change=2,
              learning_rate_init=0.02, max_iter=200, random_state=3)
    m = ITDSMLPClassifier(**kw).fit(X, y)
    scores = np.asarray(m.validation_scores_)
    assert scores.size == m.n_iter_ < 200
    assert m.best_validation_score_ == scores.max()
    assert m.best_loss_ is None
    best_epoch = int(np.argmax(scores)) + 1
    # stopped after n_iter_no_change + 1 epochs without improvement (accuracy on
    # 30 validation samples moves in steps of 1/30 > tol)
    assert m.n_iter_ == best_epoch + kw["n_iter_no_change"] + 1
    # The kept weights are those at the best epoch: training the same model for
    # exactly that many epochs (same split, same draws) ends on the same weights.
    again = ITDSMLPClassifier(**{**kw, "max_iter": best_epoch}).fit(X, y)
    _assert_same_weights(m, again, rtol=0, atol=0)
    # One epoch more (same split and draws) and the restored weights are still
    # those of the best epoch, though training went on.
    more = ITDSMLPClassifier(**{**kw, "max_iter": best_epoch + 1}).fit(X, y)
    assert more.n_iter_ == best_epoch + 1
    assert more.validation_scores_[-1] < more.best_validation_score_
    _assert_same_weights(more, again, rtol=0, atol=0)


def test_early_stopping_tiny_data_fallbacks():
    X = np.arange(12.0).reshape(6, 2) / 12
    y = np.array([0, 0, 1, 1, 2, 2])
    # one validation sample cannot be stratified over 3 classes: plain split
    m = ITDSMLPClassifier((3,), early_stopping=True, max_iter=4, random_state=0,
                          n_iter_no_change=100).fit(X, y)
    assert len(m.validation_scores_) == m.n_iter_ == 4
    assert all(s in (0.0, 1.0) for s in m.validation_scores_)  # one sample
    # nothing left to train on after holding out: early stopping is ignored
    m = ITDSMLPClassifier((3,), early_stopping=True, validation_fraction=0.95,
                          max_iter=3, random_state=0).fit(X, y)
    assert m.validation_scores_ is None and m.n_iter_ == 3
    assert m.predict(X).shape == (6,)


# -- warm start and partial_fit ---------------------------------------------------------
def test_warm_start_continues_from_the_previous_fit(digits300):
    X, y = digits300
    # SGD without momentum and without shuffling has no state but the weights
    # (and the echo), so 3 + 2 warm-started epochs must equal 5 epochs at once.
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", momentum=0.0, shuffle=False,
              learning_rate_init=0.05, batch_size=64, n_iter_no_change=100,
              random_state=0)
    warm = ITDSMLPClassifier(warm_start=True, max_iter=3, **kw).fit(X, y)
    first_coefs = [c.copy() for c in warm.coefs_]
    warm.set_params(max_iter=2).fit(X, y)
    once = ITDSMLPClassifier(max_iter=5, **kw).fit(X, y)
    _assert_same_weights(warm, once, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(warm.loss_curve_, once.loss_curve_, rtol=1e-12)
    # without warm_start the second fit starts over
    cold = ITDSMLPClassifier(max_iter=3, **kw).fit(X, y)
    for a, b in zip(cold.coefs_, first_coefs):
        np.testing.assert_array_equal(a, b)
    cold.set_params(max_iter=2).fit(X, y)
    assert not np.allclose(cold.coefs_[0], warm.coefs_[0])
    assert len(cold.loss_curve_) == 2


def test_warm_start_adam_starts_from_previous_loss(digits300):
    X, y = digits300
    m = ITDSMLPClassifier((10,), warm_start=True, max_iter=20, learning_rate_init=0.01,
                          random_state=0).fit(X, y)
    first = list(m.loss_curve_)
    m.fit(X, y)
    second = m.loss_curve_[len(first):]
    assert second[0] < 0.5 * first[0]
    assert second[0] < 1.2 * first[-1]
    with pytest.raises(ValueError, match="same classes"):
        m.fit(X[y < 5], y[y < 5])


def test_partial_fit_in_order_equals_one_unshuffled_epoch(digits300):
    X, y = digits300
    kw = dict(hidden_layer_sizes=(10,), batch_size=50, random_state=4)  # td_gain=2
    # partial_fit shuffles when shuffle=True, as MLPClassifier's does (tested
    # against it below); in the given order it is one unshuffled epoch.
    pf = ITDSMLPClassifier(shuffle=False, **kw)
    for _ in range(2):
        pf.partial_fit(X, y, classes=np.unique(y))
    fit = ITDSMLPClassifier(max_iter=2, shuffle=False, n_iter_no_change=100,
                            **kw).fit(X, y)
    _assert_same_weights(pf, fit, rtol=0, atol=0)
    np.testing.assert_array_equal(pf.echo_coef_, fit.echo_coef_)
    np.testing.assert_array_equal(pf.loss_curve_, fit.loss_curve_)


def test_partial_fit_needs_classes_and_rejects_unseen_labels(digits300):
    X, y = digits300
    m = ITDSMLPClassifier((5,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        m.partial_fit(X, y)
    assert not hasattr(m, "coefs_")
    m.partial_fit(X[y < 8], y[y < 8], classes=np.arange(9))  # 8 seen later
    m.partial_fit(X[y == 8], y[y == 8])
    assert m.classes_.tolist() == list(range(9))
    saved = [c.copy() for c in m.coefs_]
    with pytest.raises(ValueError, match=r"labels \[9\]"):
        m.partial_fit(X, y)
    for a, b in zip(m.coefs_, saved):  # a rejected call changes nothing
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="differs from the classes"):
        m.partial_fit(X[y < 3], y[y < 3], classes=[0, 1, 2])


# -- sign split and forced sparsity -----------------------------------------------------
def test_feedback_split_parts_are_nonnegative_and_learn_from_their_sign(digits300):
    X, y = digits300[0][:40], digits300[1][:40]
    Y = np.eye(10)[y]
    lr, g, tau = 0.5, 2.0, 4.0
    m = ITDSMLPClassifier((6,), activation="tanh", solver="sgd", momentum=0.0,
                          batch_size=40, learning_rate_init=lr, alpha=0.0,
                          td_gain=g, td_timescale=tau, feedback_split=True,
                          random_state=0)
    for _ in range(3):
        m.partial_fit(X, y, classes=np.arange(10))
    W_pos, W_neg = (p.copy() for p in m._split)
    assert (W_pos >= 0).all() and (W_neg >= 0).all()
    np.testing.assert_array_equal(m.coefs_[-1], W_pos - W_neg)
    assert (W_pos == 0).any() and (W_neg == 0).any()

    # one more step, by hand: W_pos follows delta+, W_neg follows delta-, then clip
    H = np.tanh(X @ m.coefs_[0] + m.intercepts_[0])
    P = softmax(H @ m.coefs_[1] + m.intercepts_[1], axis=1)
    Pe = softmax(H @ m.echo_coef_ + m.echo_intercept_, axis=1)
    delta = (Y - P) + g * (Pe - P)
    n = X.shape[0]
    want_pos = np.maximum(W_pos + lr * H.T @ np.maximum(delta, 0) / n, 0)
    want_neg = np.maximum(W_neg + lr * H.T @ np.maximum(-delta, 0) / n, 0)
    m.partial_fit(X, y)
    np.testing.assert_allclose(m._split[0], want_pos, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m._split[1], want_neg, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(m.coefs_[-1], m._split[0] - m._split[1])


@pytest.mark.parametrize("feedback_split", [False, True])
def test_readout_sparsity_keeps_masked_output_weights_at_zero(digits300, feedback_split):
    X, y = digits300
    m = ITDSMLPClassifier((20,), readout_sparsity=0.4, max_iter=5, random_state=0,
                          feedback_split=feedback_split).fit(X, y)
    W = m.coefs_[-1]
    zero = W == 0
    assert zero.sum() >= round(0.4 * W.size)
    mask_zero = ~m._mask
    assert mask_zero.sum() == round(0.4 * W.size)
    assert np.all(W[mask_zero] == 0)
    for _ in range(3):
        m.partial_fit(X, y)
    assert np.all(m.coefs_[-1][mask_zero] == 0)
    assert np.all(m.intercepts_[-1] != 0)  # biases are never masked
    assert np.count_nonzero(m.coefs_[0]) == m.coefs_[0].size  # only the readout
    if feedback_split:
        for part in m._split:
            assert np.all(part[mask_zero] == 0)


# -- diagnostics and progress lines -----------------------------------------------------
def test_td_history_one_row_per_epoch(digits300):
    X, y = digits300
    m = ITDSMLPClassifier((10,), max_iter=7, n_iter_no_change=100, random_state=0)
    m.fit(X, y)
    keys = {"e_sup", "e_td", "td_ratio", "cosine", "weight_change", "loss", "n_updates"}
    assert set(m.td_history_) == keys
    for key in keys:
        values = np.asarray(m.td_history_[key])
        assert values.shape == (m.n_iter_,) == (7,)
        assert np.isfinite(values).all()
    np.testing.assert_array_equal(m.td_history_["n_updates"], 300)
    np.testing.assert_allclose(m.td_history_["td_ratio"],
                               m.td_history_["e_td"] / m.td_history_["e_sup"])
    assert np.all(np.abs(m.td_history_["cosine"]) <= 1)
    assert np.all(m.td_history_["e_td"] > 0) and np.all(m.td_history_["e_sup"] > 0)


def test_verbose_prints_one_line_per_epoch(digits300, capsys):
    X, y = digits300
    m = ITDSMLPClassifier((5,), max_iter=4, n_iter_no_change=100, verbose=True,
                          random_state=0).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    matches = [re.match(r"Iteration (\d+), loss = ([0-9.]+)", ln) for ln in lines]
    assert len(lines) == 4 and all(matches)
    assert [int(mt.group(1)) for mt in matches] == [1, 2, 3, 4]
    np.testing.assert_allclose([float(mt.group(2)) for mt in matches], m.loss_curve_,
                               atol=1e-8)
    ITDSMLPClassifier((5,), max_iter=2, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


# -- the benefit on noisy labels ------------------------------------------------------
def _digits_accuracy(noise, seed, td_gain):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    y_train = corrupt_labels(y_train, noise, random_state=seed)
    # A smaller, faster-memorizing network than the default, for test speed;
    # td_gain=2 and td_timescale=20 are the estimator's defaults.
    m = ITDSMLPClassifier((64,), learning_rate_init=0.01, max_iter=40,
                          td_gain=td_gain, random_state=seed)
    return m.fit(X_train, y_train).score(X_test, y_test)


def test_itds_helps_on_noisy_digits_and_costs_little_on_clean():
    # Measured (this network, load_digits 70/30, 30 % wrong training labels),
    # iTDS minus td_gain=0 test accuracy, seeds 0..5:
    #   +0.011 +0.007 +0.032 +0.009 +0.002 +0.044   (mean +0.018)
    # clean labels: +0.009 0.000 +0.013 -0.002 +0.011 -0.007   (mean +0.004).
    # With the estimator's full defaults ((100,), 200 epochs) the noisy-label gain
    # over seeds 0..5 was +0.020 +0.020 -0.006 -0.007 +0.024 +0.037 (mean +0.015).
    seeds = (0, 1, 2)
    noisy = np.array([[_digits_accuracy(0.3, s, g) for g in (0.0, 2.0)] for s in seeds])
    gain = noisy[:, 1] - noisy[:, 0]
    assert gain.mean() >= 0.005, gain
    assert gain.min() >= -0.005, gain
    clean = np.array([[_digits_accuracy(0.0, s, g) for g in (0.0, 2.0)] for s in seeds])
    assert clean[:, 1].mean() >= clean[:, 0].mean() - 0.015, clean


# -- sample_weight ------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_td_gain_zero_with_sample_weight_equals_mlpclassifier(digits300, kind, solver):
    X, y = _problem(kind, digits300)
    w = np.random.RandomState(0).uniform(0.0, 3.0, X.shape[0])
    kw = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=5, batch_size=64,
              learning_rate_init=0.01 if solver == "adam" else 0.1, random_state=5)
    ref = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-11)
    _assert_same_weights(ours, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-10, atol=1e-12)
    # and the weights mattered
    plain = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y)
    assert np.abs(plain.coefs_[0] - ours.coefs_[0]).max() > 1e-4


def _weighted_vs_repeated(X, y, w, method, **kw):
    # batch_size="auto" holds every row here: full-batch updates on both sides
    kw = dict(hidden_layer_sizes=(8,), shuffle=False, td_gain=2.0, td_timescale=5.0,
              random_state=1, **kw)
    weighted = ITDSMLPClassifier(**kw)
    repeated = ITDSMLPClassifier(**kw)
    Xr, yr = np.repeat(X, w, axis=0), np.repeat(y, w, axis=0)
    assert Xr.shape[0] <= 200
    if method == "fit":
        weighted.fit(X, y, sample_weight=w)
        repeated.fit(Xr, yr)
    else:
        for _ in range(4):
            weighted.partial_fit(X, y, sample_weight=w, classes=np.unique(y))
            repeated.partial_fit(Xr, yr, classes=np.unique(y))
    return weighted, repeated


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_integer_weights_equal_repeated_rows_with_itds(digits300, solver, method):
    X, y = digits300[0][:60], digits300[1][:60]
    w = np.random.RandomState(2).randint(0, 4, 60)  # zeros too
    weighted, repeated = _weighted_vs_repeated(X, y, w, method, solver=solver,
                                               max_iter=6, learning_rate_init=0.05)
    _assert_same_weights(weighted, repeated, rtol=1e-9, atol=1e-12)
    # the echo learned with the same weights as the network
    np.testing.assert_allclose(weighted.echo_coef_, repeated.echo_coef_,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.echo_intercept_, repeated.echo_intercept_,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    # the diagnostics are weighted means too; n_updates counts rows
    for key in ("e_sup", "e_td", "td_ratio", "cosine", "weight_change", "loss"):
        np.testing.assert_allclose(weighted.td_history_[key][1:],
                                   repeated.td_history_[key][1:], rtol=1e-8,
                                   err_msg=key)
    assert weighted.td_history_["n_updates"][-1] == 60
    assert repeated.td_history_["n_updates"][-1] == w.sum()
    # the top-down term was active
    assert np.abs(weighted.coefs_[-1] - weighted.echo_coef_).max() > 1e-3


def test_zero_weight_equals_dropping_the_row(digits300):
    X, y = digits300[0][:80], digits300[1][:80]
    w = np.ones(80)
    w[::7] = 0.0
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, td_gain=1.5, td_timescale=4.0,
              shuffle=False, learning_rate_init=0.05, random_state=0)
    weighted = ITDSMLPClassifier(**kw).fit(X, y, sample_weight=w)
    dropped = ITDSMLPClassifier(**kw).fit(X[w > 0], y[w > 0])
    _assert_same_weights(weighted, dropped, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(weighted.echo_coef_, dropped.echo_coef_, rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-12)


def test_bad_sample_weight_is_rejected(digits300):
    X, y = digits300
    m = ITDSMLPClassifier((4,), max_iter=2)
    with pytest.raises(ValueError, match="sample_weight"):
        m.fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="[Nn]egative"):
        m.fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="non-zero"):
        m.fit(X, y, sample_weight=np.zeros(X.shape[0]))
    assert not hasattr(m, "coefs_")


def test_sample_weight_is_routed_by_cross_validate_and_grid_search(digits300):
    import sklearn
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate

    X, y = digits300[0][:150], digits300[1][:150]
    w = np.random.RandomState(4).uniform(0.1, 2.0, 150)
    base = ITDSMLPClassifier((8,), max_iter=4, learning_rate_init=0.02, random_state=0)
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        est = clone(base).set_fit_request(sample_weight=True).set_score_request(
            sample_weight=False)
        res = cross_validate(est, X, y, cv=cv, params={"sample_weight": w},
                             return_estimator=True)
        for fitted, (train, _) in zip(res["estimator"], cv.split(X)):
            by_hand = clone(base).fit(X[train], y[train], sample_weight=w[train])
            _assert_same_weights(fitted, by_hand, rtol=0, atol=0)
        unweighted = clone(base).fit(X[train], y[train])
        assert np.abs(unweighted.coefs_[0] - by_hand.coefs_[0]).max() > 1e-4

        grid = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=cv)
        grid.fit(X, y, sample_weight=w)
        refit = clone(base).set_params(**grid.best_params_).fit(X, y, sample_weight=w)
        _assert_same_weights(grid.best_estimator_, refit, rtol=0, atol=0)

        # without the request, passing weights is an error, not silently ignored
        with pytest.raises(ValueError, match="sample_weight"):
            GridSearchCV(clone(base), {"alpha": [1e-4]}, cv=cv).fit(
                X, y, sample_weight=w)


def test_verbose_first_epoch_of_one_batch_prints_no_nan(digits300, capsys):
    X, y = digits300[0][:100], digits300[1][:100]
    ITDSMLPClassifier((5,), max_iter=2, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert "nan" not in lines[0].lower()
    assert "e_td = 0.00000, cosine = undefined (e_td = 0" in lines[0]
    assert re.search(r"cosine = [+-]\d\.\d{3}$", lines[1])


# -- L-BFGS -------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_lbfgs_with_td_gain_zero_equals_mlpclassifier(digits300, kind, weighted):
    X, y = _problem(kind, digits300)
    w = np.random.RandomState(1).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    kw = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=30, alpha=1e-3,
              random_state=0)
    ref = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-10)
    _assert_same_weights(ours, ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-8, atol=1e-10)
    # one loss per L-BFGS iteration (MLPClassifier keeps no curve for lbfgs)
    assert len(ours.loss_curve_) == ours.n_iter_
    assert ours.loss_curve_[-1] == pytest.approx(ours.loss_, rel=1e-12)
    # the echo sits at its full-batch fixed point, the readout itself
    np.testing.assert_array_equal(ours.echo_coef_, ours.coefs_[-1])
    assert not np.shares_memory(ours.echo_coef_, ours.coefs_[-1])


def test_lbfgs_rejects_itds_and_has_no_partial_fit(digits300):
    X, y = digits300
    with pytest.raises(ValueError, match="td_gain=0"):
        ITDSMLPClassifier(solver="lbfgs").fit(X, y)  # default td_gain=2
    with pytest.raises(ValueError, match="feedback_split"):
        ITDSMLPClassifier(solver="lbfgs", td_gain=0.0, feedback_split=True).fit(X, y)
    m = ITDSMLPClassifier(solver="lbfgs", td_gain=0.0)
    assert not hasattr(m, "partial_fit")
    with pytest.raises(ValueError, match="max_fun"):
        ITDSMLPClassifier(solver="lbfgs", td_gain=0.0, max_fun=0).fit(X, y)


def test_lbfgs_max_fun_limits_the_evaluations(digits300):
    X, y = digits300
    kw = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=500, max_fun=7,
              random_state=0)
    ref = MLPClassifier(**kw)
    with pytest.warns(ConvergenceWarning):
        ref.fit(X, y)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        ours.fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ <= 7 < 500
    _assert_same_weights(ours, ref, rtol=1e-10, atol=1e-12)


def test_lbfgs_keeps_masked_readout_weights_at_zero(digits300):
    X, y = digits300
    m = ITDSMLPClassifier((12,), solver="lbfgs", td_gain=0.0, readout_sparsity=0.5,
                          max_iter=40, random_state=0).fit(X, y)
    assert np.all(m.coefs_[-1][~m._mask] == 0)
    assert np.count_nonzero(m.coefs_[-1][m._mask]) == m._mask.sum()
    assert m.score(X, y) > 0.8


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_input_gradient_and_step_norms_on_logistic_outputs(digits300, kind):
    X, y = _problem(kind, digits300)
    m = ITDSMLPClassifier((10,), activation="tanh", max_iter=10, random_state=0)
    m.fit(X, y)
    Xs, ys = X[:3], y[:3]

    def loss(x, t):
        p = m.predict_proba(x[None])[0]
        if kind == "binary":
            p, t = p[1:], np.array([float(t == m.classes_[1])])
        return -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p))

    grad = m.input_gradient(Xs, ys)
    h = 1e-6
    for i in range(3):
        for j in (0, 10, 30):
            up, down = Xs[i].copy(), Xs[i].copy()
            up[j] += h
            down[j] -= h
            fd = (loss(up, ys[i]) - loss(down, ys[i])) / (2 * h)
            assert grad[i, j] == pytest.approx(fd, rel=1e-5, abs=1e-8)
    norms = m.td_step_norms(Xs, ys)
    assert norms.shape == (3,) and np.all(norms > 0)


def test_early_stopping_with_sample_weight_scores_weighted_accuracy(digits300):
    X, y = digits300
    w = np.where(y < 5, 3.0, 0.5)
    m = ITDSMLPClassifier((10,), early_stopping=True, max_iter=8, n_iter_no_change=100,
                          learning_rate_init=0.02, random_state=0)
    m.fit(X, y, sample_weight=w)
    assert len(m.validation_scores_) == m.n_iter_ == 8
    assert m.best_validation_score_ == max(m.validation_scores_)
    # the scores are weighted means of 0/1 hits: not all multiples of 1/n_val
    n_val = int(np.ceil(0.1 * X.shape[0]))
    assert any(abs(s * n_val - round(s * n_val)) > 1e-9 for s in m.validation_scores_)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_inputs_train_in_float32_as_mlpclassifier(digits300, solver):
    X, y = digits300
    X = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=5, random_state=0)
    ref = MLPClassifier(**kw).fit(X, y)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y)
    # float32 for the stochastic solvers; L-BFGS (scipy) returns float64 in both
    want = np.float32 if solver == "adam" else np.float64
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.dtype == b.dtype == want
    _assert_same_weights(ours, ref, rtol=1e-4, atol=1e-6)
