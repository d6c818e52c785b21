"""Tests of the feedforward maths in ``sklearn_itds._mlp_base``.

Every check compares against an independent computation: central finite
differences of a loss written out in the test, scikit-learn's own fitted
``MLPClassifier`` (its ``predict_proba`` and its initial weights) and
``sklearn.metrics.log_loss``.
"""

import warnings

import numpy as np
import pytest
from scipy.special import expit
from scipy.special import softmax as sp_softmax
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.neural_network import MLPClassifier

from sklearn_itds import _mlp_base as base

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _naive_act(name, Z):
    """Hidden activations written out independently of the module."""
    if name == "identity":
        return Z
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    return np.where(Z > 0, Z, 0.0)


def _naive_logits(X, coefs, intercepts, activation):
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        A = A @ W + b
        if i < len(coefs) - 1:
            A = _naive_act(activation, A)
    return A


def _per_sample_ce(X, Y, coefs, intercepts, activation, out_activation="softmax"):
    """Cross-entropy of each sample, from a naive forward pass."""
    Z = _naive_logits(X, coefs, intercepts, activation)
    if out_activation == "logistic":
        p = 1.0 / (1.0 + np.exp(-Z))
        return -np.sum(Y * np.log(p) + (1 - Y) * np.log(1 - p), axis=1)
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -np.sum(Y * logp, axis=1)


def _objective(X, Y, coefs, intercepts, activation, alpha):
    n = X.shape[0]
    reg = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / n
    return _per_sample_ce(X, Y, coefs, intercepts, activation).mean() + reg


def _random_net(rng, sizes, scale=0.7):
    coefs = [rng.normal(scale=scale, size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.normal(scale=scale, size=b) for b in sizes[1:]]
    return coefs, intercepts


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences(activation):
    rng = np.random.RandomState(0)
    n, sizes, alpha = 7, [4, 6, 5, 3], 0.3
    X = rng.normal(size=(n, sizes[0]))
    Y = np.eye(sizes[-1])[rng.randint(0, sizes[-1], n)]
    coefs, intercepts = _random_net(rng, sizes)

    acts = base.forward(X, coefs, intercepts, activation)
    P = sp_softmax(acts[-1], axis=1)
    coef_grads, intercept_grads, _ = base.backward(
        acts, coefs, (P - Y) / n, activation, alpha, n)

    h = 1e-6
    for params, grads in ((coefs, coef_grads), (intercepts, intercept_grads)):
        for p, g in zip(params, grads):
            fd = np.empty_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                up = _objective(X, Y, coefs, intercepts, activation, alpha)
                p[idx] = old - h
                down = _objective(X, Y, coefs, intercepts, activation, alpha)
                p[idx] = old
                fd[idx] = (up - down) / (2 * h)
            assert g.shape == p.shape
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


def test_backward_l2_term_scales_with_alpha_over_n():
    # Zero logit gradient: the weight gradients are exactly alpha * W / n.
    rng = np.random.RandomState(1)
    coefs, intercepts = _random_net(rng, [3, 4, 2])
    X = rng.normal(size=(5, 3))
    acts = base.forward(X, coefs, intercepts, "tanh")
    cg, ig, _ = base.backward(acts, coefs, np.zeros((5, 2)), "tanh", 2.0, 5)
    for g, W in zip(cg, coefs):
        np.testing.assert_allclose(g, 2.0 * W / 5)
    for g in ig:
        np.testing.assert_array_equal(g, 0.0)


def _fd_input_gradient(X, loss_of_row, h=1e-6):
    fd = np.empty_like(X)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            x = X[i].copy()
            x[j] += h
            up = loss_of_row(i, x)
            x[j] -= 2 * h
            down = loss_of_row(i, x)
            fd[i, j] = (up - down) / (2 * h)
    return fd


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_input_gradient_softmax_matches_finite_differences(activation):
    rng = np.random.RandomState(2)
    coefs, intercepts = _random_net(rng, [5, 8, 4])
    X = rng.normal(size=(6, 5))
    Y = np.eye(4)[rng.randint(0, 4, 6)]
    grad = base.input_gradient(X, Y, coefs, intercepts, activation)

    def loss_of_row(i, x):
        return _per_sample_ce(x[None], Y[i:i + 1], coefs, intercepts, activation)[0]

    assert grad.shape == X.shape
    np.testing.assert_allclose(grad, _fd_input_gradient(X, loss_of_row),
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("n_classes, out_activation", [(2, "logistic"), (3, "softmax")])
def test_input_gradient_of_fitted_sklearn_mlp(n_classes, out_activation):
    # The helper must apply to scikit-learn's own network; the loss is taken
    # from scikit-learn's predict_proba, so nothing of our forward pass is used.
    X, y = make_classification(n_samples=80, n_features=5, n_informative=4,
                               n_redundant=0, n_classes=n_classes, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((7,), activation="tanh", max_iter=30,
                            random_state=0).fit(X, y)
    assert mlp.out_activation_ == out_activation
    Xs, ys = X[:6], y[:6]
    if out_activation == "logistic":
        Y = ys[:, None].astype(float)
    else:
        Y = np.eye(n_classes)[ys]
    grad = base.input_gradient(Xs, Y, mlp.coefs_, mlp.intercepts_, mlp.activation,
                               mlp.out_activation_)

    def loss_of_row(i, x):
        return -np.log(mlp.predict_proba(x[None])[0, ys[i]])

    np.testing.assert_allclose(grad, _fd_input_gradient(Xs, loss_of_row),
                               rtol=1e-5, atol=1e-8)


def test_forward_and_output_probabilities_match_sklearn_predict_proba():
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((6, 5), activation="relu", max_iter=20,
                            random_state=1).fit(X, y)
    logits = base.forward(X, mlp.coefs_, mlp.intercepts_, mlp.activation)[-1]
    np.testing.assert_allclose(base.output_probabilities(logits, "softmax"),
                               mlp.predict_proba(X), rtol=1e-12, atol=1e-15)
    # logistic output: two columns [1 - p, p]
    z = np.linspace(-3, 3, 7)[:, None]
    np.testing.assert_allclose(base.output_probabilities(z, "logistic"),
                               np.hstack([1 - expit(z), expit(z)]))


def _sklearn_initial_weights(sizes, activation, seed):
    """MLPClassifier's initial weights: one SGD epoch with a step so small
    (1e-300) that no weight changes in float64."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(20, sizes[0]))
    y = np.arange(20) % sizes[-1]
    mlp = MLPClassifier(tuple(sizes[1:-1]), activation=activation, solver="sgd",
                        momentum=0.0, learning_rate_init=1e-300, max_iter=1,
                        shuffle=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    return mlp.coefs_, mlp.intercepts_


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_glorot_init_draws_exactly_as_mlpclassifier(activation):
    sizes = [5, 7, 4, 3]
    sk_coefs, sk_intercepts = _sklearn_initial_weights(sizes, activation, seed=3)
    coefs, intercepts = base.glorot_init(sizes, activation, np.random.RandomState(3))
    for a, b in zip(coefs + intercepts, sk_coefs + sk_intercepts):
        np.testing.assert_array_equal(a, b)
    # and the bound is the Glorot one (factor 2 for logistic, 6 otherwise)
    factor = 2.0 if activation == "logistic" else 6.0
    for W, (fi, fo) in zip(coefs, zip(sizes[:-1], sizes[1:])):
        assert np.abs(W).max() <= np.sqrt(factor / (fi + fo))
        assert np.abs(W).max() > 0.5 * np.sqrt(factor / (fi + fo))


def test_log_loss_matches_sklearn_metrics():
    rng = np.random.RandomState(4)
    P = sp_softmax(rng.normal(size=(30, 4)) * 2, axis=1)
    y = rng.randint(0, 4, 30)
    Y = np.eye(4)[y]
    assert base.log_loss(Y, P) == pytest.approx(
        sk_log_loss(y, P, labels=np.arange(4)), rel=1e-12)
    # a probability of exactly 0 for the true class is clipped, not infinite
    P0 = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert np.isfinite(base.log_loss(np.array([[0.0, 1.0], [1.0, 0.0]]), P0))


@pytest.mark.parametrize("out_activation", ["softmax", "logistic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_and_gradients_match_a_written_out_loss_and_finite_differences(
        out_activation, weighted):
    """The L-BFGS objective: weighted cross-entropy plus ``alpha |W|^2 / 2 n_eff``."""
    rng = np.random.RandomState(2)
    n, sizes, alpha = 9, [3, 5, 3], 0.2
    X = rng.normal(size=(n, sizes[0]))
    if out_activation == "softmax":
        Y = np.eye(3)[rng.randint(0, 3, n)]
    else:
        Y = rng.randint(0, 2, (n, 3)).astype(float)
    w = rng.rand(n) * 2 if weighted else None
    coefs, intercepts = _random_net(rng, sizes)

    def written_out():
        per_sample = _per_sample_ce(X, Y, coefs, intercepts, "tanh", out_activation)
        n_eff = n if w is None else w.sum()
        reg = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / n_eff
        return np.average(per_sample, weights=w) + reg

    loss, grads = base.loss_and_gradients(X, Y, coefs, intercepts, "tanh",
                                          out_activation, alpha, w)
    assert loss == pytest.approx(written_out(), rel=1e-12)
    assert len(grads) == 4
    h = 1e-6
    for p, g in zip(coefs + intercepts, grads):
        fd = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = written_out()
            p[idx] = old - h
            down = written_out()
            p[idx] = old
            fd[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
