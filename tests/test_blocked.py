"""The exact block RLS (sklearn_itds._blocked) against the per-row rule written out.

The reference is the bounded iTDS rule one row at a time with a dense ``P``
(tests/_naive.py), started from a random readout, echo and positive definite
``P``, as a block meets them in the middle of a pass.
"""

import numpy as np
import pytest

from sklearn_itds._blocked import rls_block
from sklearn_itds._itds import rule_matrix

from _naive import bounded_delta

TAU = 3.0


def naive_rls_rows(P, W, Wbar, R, Y, td_gain, td_sign, echo, D=None, w=None):
    """Per-row weighted RLS updates of W and of each reading's echo."""
    P, W, Wbar = P.copy(), W.copy(), Wbar.copy()
    a = 1.0 - 1.0 / TAU
    ZD, norms = [], []
    for i, (r, y) in enumerate(zip(R, Y)):
        wi = 1.0 if w is None else w[i]
        z = r @ W
        d = D[i] if echo == "decision" else r @ Wbar
        Pr = P @ r
        denom = 1.0 + wi * (r @ Pr)
        gain = wi * Pr / denom
        P = P - wi * np.outer(Pr, Pr) / denom
        W = W + np.outer(gain, bounded_delta(y, z, d, td_gain, td_sign))
        if echo == "learned":
            Wbar = Wbar + np.outer(gain, z - d) / TAU
        elif echo == "weight_average":  # w_i steps of the average
            Wbar = W + a ** wi * (Wbar - W)
        ZD.append(np.concatenate([z, d]))
        norms.append(np.linalg.norm(gain))
    return P, W, Wbar, np.array(ZD), np.array(norms)


def _state(rng, n, K):
    A = rng.standard_normal((n, n))
    P = np.asfortranarray(A @ A.T / n + 0.5 * np.eye(n))
    C = rng.standard_normal((n, 2 * K)) * 0.3
    return P, C


@pytest.mark.parametrize("echo, td_sign", [("learned", 1), ("learned", -1),
                                           ("weight_average", 1), ("decision", 1),
                                           ("decision", -1)])
@pytest.mark.parametrize("td_gain", [0.0, 1.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("K", [1, 3])
def test_block_equals_the_per_row_updates(echo, td_sign, td_gain, weighted, K):
    rng = np.random.RandomState(3)
    n, b = 12, 40  # more rows than inputs: P loses rank directions within the block
    P, C = _state(rng, n, K)
    R = np.hstack([rng.standard_normal((b, n - 1)), np.ones((b, 1))])
    Y = rng.standard_normal((b, K))
    D = rng.standard_normal((b, K)) if echo == "decision" else None
    w = None
    if weighted:
        w = rng.uniform(0.0, 3.0, b)
        w[::7] = 0.0
    mix = rule_matrix(K, td_gain, TAU, td_sign, echo)
    ZD, norms = np.empty((b, 2 * K)), np.empty(b)
    P_block, C_block = P.copy(order="F"), C.copy()
    done = rls_block(P_block, C_block, mix, 1.0 / (1.0 + td_gain), R, Y, ZD, norms,
                     echo=D, w=w, average=TAU if echo == "weight_average" else None)
    assert done
    P_ref, W, Wbar, ZD_ref, norms_ref = naive_rls_rows(
        P, C[:, :K], C[:, K:], R, Y, td_gain, td_sign, echo, D, w)
    np.testing.assert_allclose(ZD, ZD_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(norms, norms_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(C_block[:, :K], W, rtol=1e-8, atol=1e-10)
    if echo != "decision":  # given rows: nothing learns the echo, Wbar stays
        np.testing.assert_allclose(C_block[:, K:], Wbar, rtol=1e-8, atol=1e-10)
    else:
        np.testing.assert_array_equal(C_block[:, K:], C[:, K:])
    np.testing.assert_allclose(np.tril(P_block), np.tril(P_ref), rtol=1e-8, atol=1e-10)
    assert not np.allclose(C_block, C)  # the block did learn


def test_not_positive_definite_changes_nothing():
    rng = np.random.RandomState(4)
    n, K = 6, 2
    P = np.asfortranarray(-np.eye(n))  # S = I - R R^T: indefinite for these rows
    C = rng.standard_normal((n, 2 * K))
    R = rng.standard_normal((10, n)) * 2.0
    ZD, norms = np.empty((10, 2 * K)), np.empty(10)
    P0, C0 = P.copy(), C.copy()
    assert not rls_block(P, C, rule_matrix(K, 1.0, TAU), 0.5, R,
                         rng.standard_normal((10, K)), ZD, norms)
    np.testing.assert_array_equal(P, P0)
    np.testing.assert_array_equal(C, C0)
