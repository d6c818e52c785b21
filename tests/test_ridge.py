"""RidgeSolver and loo_alpha against refits written out and scikit-learn's RidgeCV."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV

from sklearn_itds._ridge import RIDGE_ALPHAS, RidgeSolver, loo_alpha

ALPHAS = np.logspace(-2, 3, 11)


def _data(n, q, seed=0):
    rng = np.random.RandomState(seed)
    R = rng.randn(n, q)
    Y = R[:, :3] @ rng.randn(3, 3) + rng.randn(n, 3)
    return R, Y


def _weights(n, seed=1):
    w = np.random.RandomState(seed).uniform(0.2, 2.0, n)
    w[:3] = 0.0  # rows outside the fit
    return w


def _ridge(R, Y, alpha, w):
    return np.linalg.solve((R * w[:, None]).T @ R + alpha * np.eye(R.shape[1]),
                           (R * w[:, None]).T @ Y)


def _naive_loo(R, Y, alpha, w):
    """Each row predicted by the weighted ridge fit on all the other rows."""
    out = np.empty_like(Y)
    for i in range(len(R)):
        keep = np.arange(len(R)) != i
        out[i] = R[i] @ _ridge(R[keep], Y[keep], alpha, w[keep])
    return out


@pytest.mark.parametrize("n, q", [(25, 40), (60, 12)])  # fewer rows than columns, and more
@pytest.mark.parametrize("weighted", [False, True])
def test_fits_and_leave_one_out_equal_the_refits(n, q, weighted):
    R, Y = _data(n, q)
    w = _weights(n) if weighted else np.ones(n)
    solver = RidgeSolver(R, w if weighted else None)
    for alpha in (0.05, 3.0, 200.0):
        np.testing.assert_allclose(solver.coef(Y, alpha), _ridge(R, Y, alpha, w),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            solver.inverse(alpha),
            np.linalg.inv((R * w[:, None]).T @ R + alpha * np.eye(q)), rtol=1e-9,
            atol=1e-12)
        loo = _naive_loo(R, Y, alpha, w)
        fitted = w > 0  # a row of weight 0 is outside every fit: its output is the full fit's
        np.testing.assert_allclose(solver.loo_outputs(Y, alpha)[fitted], loo[fitted],
                                   rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(solver.loo_outputs(Y, alpha)[~fitted],
                                   R[~fitted] @ _ridge(R, Y, alpha, w), rtol=1e-9,
                                   atol=1e-12)
    errors = solver.loo_errors(Y, ALPHAS)
    naive = [np.sum(w[:, None] * (Y - _naive_loo(R, Y, a, w)) ** 2) / (w.sum() * 3)
             for a in ALPHAS]
    np.testing.assert_allclose(errors, naive, rtol=1e-8)


@pytest.mark.parametrize("n, q", [(25, 40), (60, 12)])
def test_loo_alpha_is_ridgecv_alpha(n, q):
    R, Y = _data(n, q, seed=2)
    for w in (None, _weights(n)):
        expected = RidgeCV(alphas=RIDGE_ALPHAS, fit_intercept=False).fit(
            R, Y, sample_weight=w).alpha_
        assert loo_alpha(RidgeSolver(R, w), Y) == expected


def test_loo_alpha_breaks_ties_toward_the_larger_penalty():
    R, _ = _data(20, 5)
    Y = np.zeros((20, 2))  # every penalty predicts 0 exactly
    assert loo_alpha(RidgeSolver(R), Y, ALPHAS) == ALPHAS[-1]


def test_float32_rows_are_solved_in_float64():
    R, Y = _data(30, 10)
    solver = RidgeSolver(R.astype(np.float32))
    W = solver.coef(Y, 1.0)
    assert W.dtype == np.float64
    np.testing.assert_allclose(W, _ridge(R.astype(np.float32).astype(float), Y, 1.0,
                                         np.ones(30)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n, q", [(25, 40), (60, 12)])
def test_row_blocks_do_not_change_the_leave_one_out(monkeypatch, n, q):
    """The leave-one-out passes (and the tall case's U = Rw V) run over
    blocks of rows: blocks of one and of a few rows give the single block's
    numbers."""
    from sklearn_itds import _ridge

    R, Y = _data(n, q, seed=5)
    w = _weights(n)
    whole = RidgeSolver(R, w)
    expected = (whole.loo_errors(Y, ALPHAS), whole.loo_outputs(Y, 2.0), whole.coef(Y, 2.0))
    for values in (1, 3 * max(q, 3 * len(ALPHAS))):
        monkeypatch.setattr(_ridge, "_BLOCK_VALUES", values)
        blocked = RidgeSolver(R, w)
        got = (blocked.loo_errors(Y, ALPHAS), blocked.loo_outputs(Y, 2.0), blocked.coef(Y, 2.0))
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
