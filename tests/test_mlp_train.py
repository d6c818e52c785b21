"""Tests of the MLP's training machinery (``sklearn_itds._mlp_train``).

References: scikit-learn's own ``shuffle`` and ``train_test_split`` (the
epoch order and the early-stopping hold-out), scipy's L-BFGS-B on the
flattened problem and a closed-form least-squares minimum. The estimator-level
behaviour (stopping rule, schedules, early stopping, L-BFGS against
MLPClassifier) is checked in ``tests/test_mlp.py``.
"""

import numpy as np
import pytest
import scipy.optimize
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle

from sklearn_itds._mlp_train import minimize_lbfgs, shuffled, validation_split


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_shuffled_draws_sklearns_permutation(seed):
    order_a, order_b = np.arange(37)[::-1].copy(), np.arange(37)[::-1].copy()
    a, b = np.random.RandomState(seed), np.random.RandomState(seed)
    for _ in range(3):  # successive epochs reshuffle the previous order
        order_a = shuffled(order_a, a)
        order_b = shuffle(order_b, random_state=b)
        np.testing.assert_array_equal(order_a, order_b)
    assert a.randint(1 << 30) == b.randint(1 << 30)  # the same draws consumed


def _encoded(y, n_classes):
    return np.eye(n_classes)[y]


def test_validation_split_is_sklearns_stratified_split():
    rng = np.random.RandomState(0)
    X, y = rng.randn(50, 3), np.arange(50) % 3
    Y, w = _encoded(y, 3), rng.rand(50)
    got = validation_split(X, Y, w, 0.2, "multiclass", np.random.RandomState(5))
    want = train_test_split(X, Y, w, test_size=10, stratify=y,
                            random_state=np.random.RandomState(5))
    for g, x in zip(got, [want[0], want[2], want[4], want[1], want[3], want[5]]):
        np.testing.assert_array_equal(g, x)
    assert got[3].shape[0] == 10  # ceil(0.2 * 50)
    assert sorted(np.bincount(got[4].argmax(1))) == [3, 3, 4]  # stratified


def test_validation_split_binary_multilabel_and_fallbacks():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 2)
    # binary: one 0/1 column, stratified on it
    Yb = (np.arange(20) % 4 == 0).astype(float)[:, None]
    _, Ytr, _, _, Yval, _ = validation_split(X, Yb, None, 0.5, "binary", 0)
    assert Yval.sum() in (2, 3)
    assert Ytr.sum() + Yval.sum() == 5
    # multilabel: never stratified, plain split of the rows
    Ym = rng.randint(0, 2, (20, 3)).astype(float)
    got = validation_split(X, Ym, None, 0.25, "multilabel-indicator", 3)
    want = train_test_split(X, Ym, test_size=5, random_state=3)
    np.testing.assert_array_equal(got[3], want[1])
    assert got[2] is None and got[5] is None
    # a class too small to stratify: unstratified split instead of an error
    y = np.r_[np.zeros(19, int), 1]
    got = validation_split(X, _encoded(y, 2)[:, 1:], None, 0.1, "binary", 0)
    assert got[3].shape[0] == 2
    # too few rows to hold any out (or to keep any): no validation set
    assert validation_split(X[:1], Yb[:1], None, 0.5, "binary", 0)[3] is None
    assert validation_split(X[:2], Yb[:2], None, 0.99, "binary", 0)[3] is None


def test_minimize_lbfgs_solves_least_squares_over_a_list_of_arrays():
    rng = np.random.RandomState(0)
    A, b = rng.randn(30, 6), rng.randn(30)
    shapes = [(2, 2), (2,)]

    def loss_and_grads(arrays):
        x = np.concatenate([a.ravel() for a in arrays])
        r = A @ x - b
        g = A.T @ r
        return 0.5 * r @ r, [g[:4].reshape(2, 2), g[4:]]

    losses = []
    start = [np.zeros(s) for s in shapes]
    arrays, result = minimize_lbfgs(start, loss_and_grads, max_iter=200, max_fun=1000,
                                    tol=1e-12, on_iteration=losses.append)
    assert [a.shape for a in arrays] == shapes
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    # (L-BFGS-B also stops on its relative loss decrease, hence the tolerance)
    np.testing.assert_allclose(np.concatenate([a.ravel() for a in arrays]), x,
                               rtol=1e-4, atol=1e-5)
    assert len(losses) == result.nit and losses == sorted(losses, reverse=True)
    assert not any(np.shares_memory(a, s) for a in arrays for s in start)
    # the same run as scipy's own on the flat problem
    direct = scipy.optimize.minimize(
        lambda x: (0.5 * (A @ x - b) @ (A @ x - b), A.T @ (A @ x - b)), np.zeros(6),
        method="L-BFGS-B", jac=True,
        options={"maxfun": 1000, "maxiter": 200, "gtol": 1e-12})
    np.testing.assert_allclose(result.x, direct.x, rtol=1e-12)
    assert result.nit == direct.nit


def test_minimize_lbfgs_respects_max_fun():
    calls = []

    def loss_and_grads(arrays):
        calls.append(1)
        x = arrays[0]
        return float(np.sum((x - 3.0) ** 4)), [4 * (x - 3.0) ** 3]

    _, result = minimize_lbfgs([np.zeros(3)], loss_and_grads, max_iter=1000, max_fun=5,
                               tol=0.0)
    assert result.status != 0
    assert len(calls) <= 6  # scipy may finish the line search it started
