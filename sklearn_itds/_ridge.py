"""Ridge fits of a readout's rows, and their exact leave-one-out errors.

One RLS pass from ``W = 0``, ``P0 = I / alpha`` toward targets ``S`` that do
not change during the pass is ridge regression with the penalty ``alpha`` on
every column of the readout rows ``R`` (the bias column included)::

    W(alpha) = (R^T R + alpha I)^{-1} R^T S

With row weights ``w`` (the RLS update of row ``i`` made with ``sqrt(w_i) r_i``
and ``sqrt(w_i) s_i``) it is weighted ridge, ``R^T diag(w) R`` and ``R^T
diag(w) S`` in place of ``R^T R`` and ``R^T S``.

:class:`RidgeSolver` eigen-decomposes the smaller Gram matrix of the rows once
(``R R^T`` when there are fewer rows than columns, else ``R^T R``); every fit
for new targets or a new penalty then costs a few matrix products. Its
leave-one-out residuals need no refits: with the hat matrix ``H(alpha) = R
(R^T R + alpha I)^{-1} R^T``, row ``i`` left out is predicted with the
residual ``(s_i - z_i) / (1 - H_ii)`` (Allen's PRESS identity), so a whole grid
of penalties costs about one fit. Choosing the penalty with the least mean
squared leave-one-out error is the criterion of scikit-learn's
:class:`~sklearn.linear_model.RidgeCV`, here for the readout's own
parametrization.

This module solves least-squares problems for the readout; it holds none of
the iTDS equations (the stabilized targets come from :mod:`sklearn_itds._itds`).
"""

from contextlib import nullcontext

import numpy as np
from scipy.linalg import eigh
from sklearn.utils import gen_batches

from ._threads import single_blas_thread

__all__ = ["RIDGE_ALPHAS", "RidgeSolver", "loo_alpha"]

RIDGE_ALPHAS = np.logspace(-3, 5, 33)
"""The penalties :func:`loo_alpha` chooses from by default: 1e-3 to 1e5 in
quarter decades (the readout rows are standardized features, so a penalty of
``n_samples`` weighs as much as the data on a unit-variance direction)."""

_THREADED_GRAM = 1 << 24  # rows x columns above which the Gram product uses threads
_BLOCK_VALUES = 1 << 22  # values per block of rows in the row-wise passes (32 MiB)


class RidgeSolver:
    """Ridge regressions of the rows ``R`` for any targets and penalties.

    Parameters
    ----------
    R : ndarray of shape (n_samples, n_inputs)
        Readout rows (the bias column, if any, is penalized like the others).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative row weights (see the module docstring); a row of weight
        0 takes no part in the fits and does not count in the errors.

    Notes
    -----
    Computed in float64 whatever the dtype of ``R``.
    """

    def __init__(self, R, sample_weight=None):
        R = np.asarray(R)
        n, q = R.shape
        self.R = R  # kept as given: rows of weight 0, and the readout's runaway watch
        self.weight = (np.ones(n) if sample_weight is None
                       else np.asarray(sample_weight, dtype=np.float64))
        root = np.sqrt(self.weight)
        Rw = R.astype(np.float64)  # a float64 copy, scaled in place
        Rw *= root[:, None]
        self._root = root
        self._wide = n <= q
        # BLAS threads pay off only on large products (on a busy machine they
        # cost); the eigh is of at most a few thousand.
        self._threads = (nullcontext if n * q > _THREADED_GRAM else single_blas_thread)
        with self._threads():
            gram = Rw @ Rw.T if self._wide else Rw.T @ Rw
        with single_blas_thread():
            lam, vec = eigh(gram, overwrite_a=True, check_finite=False)
        self._lam = np.clip(lam, 0.0, None)
        if self._wide:  # H = U diag(lam / (lam + a)) U^T,  U: (n, n)
            self._U = vec
            self._Rw = Rw
        else:  # H = RV diag(1 / (lam + a)) RV^T,  V: (q, q), RV = Rw V: (n, q)
            self._V = vec
            # Rw is not needed beyond U = Rw V: U overwrites it, a block of
            # rows at a time (one n x q array in all, not three).
            block = np.empty((min(n, _block_rows(q)), q))
            with self._threads():
                for rows in gen_batches(n, len(block)):
                    part = block[:rows.stop - rows.start]
                    np.matmul(Rw[rows], vec, out=part)
                    Rw[rows] = part
            self._U = Rw
        self._inverses = {}

    def _filter(self, alpha):
        lam = self._lam
        return lam / (lam + alpha) if self._wide else 1.0 / (lam + alpha)

    def _project(self, S):
        S = np.asarray(S, dtype=np.float64).reshape(self.R.shape[0], -1)
        with self._threads():
            return S, self._U.T @ (S * self._root[:, None])

    def coef(self, S, alpha):
        """Ridge weights ``(n_inputs, n_outputs)`` toward the targets ``S``."""
        _, US = self._project(S)
        with self._threads():
            if self._wide:  # W = Rw^T (Rw Rw^T + a I)^-1 Sw
                return self._Rw.T @ (self._U @ (US / (self._lam + alpha)[:, None]))
            return self._V @ (self._filter(alpha)[:, None] * US)

    def inverse(self, alpha):
        """``(R^T diag(w) R + alpha I)^{-1}`` (n_inputs, n_inputs): the RLS
        ``P`` after one pass over the rows from ``P0 = I / alpha`` (computed
        once per penalty; do not modify it)."""
        if alpha not in self._inverses:
            with self._threads():
                if self._wide:  # Woodbury: (I - Rw^T (Rw Rw^T + a I)^-1 Rw) / a
                    B = self._Rw.T @ self._U
                    inv = -(B / (self._lam + alpha)) @ B.T
                    inv.flat[::inv.shape[0] + 1] += 1.0
                    inv /= alpha
                else:
                    inv = (self._V / (self._lam + alpha)) @ self._V.T
            self._inverses[alpha] = inv
        return self._inverses[alpha]

    def _scaled_residuals(self, S, alphas):
        """Yield ``(rows, E)`` block by block: ``E[i, a]`` is ``sqrt(w_i) (s_i
        - loo_i)`` for penalty ``alphas[a]``, shape (block, n_alphas, n_outputs).

        The fitted outputs of every penalty come from one product per block,
        ``U_b [f_1 * U^T Sw, ..., f_A * U^T Sw]``, and the leverages ``h_i =
        sum_j U_ij^2 f_j`` from ``U_b^2 [f_1, ..., f_A]``: ``U`` is read once
        for the whole grid, and ``U^2`` is never stored whole.
        """
        S, US = self._project(S)
        Sw = S * self._root[:, None]
        n, K = S.shape
        filters = np.stack([self._filter(a) for a in alphas], axis=1)  # (q, A)
        coefs = (filters[:, :, None] * US[:, None, :]).reshape(len(filters), -1)
        tiny = np.finfo(float).tiny
        size = _block_rows(max(self._U.shape[1], coefs.shape[1]))
        with self._threads():
            for rows in gen_batches(n, size):
                U = self._U[rows]
                Z = (U @ coefs).reshape(len(U), len(alphas), K)  # sqrt(w_i) z_i
                h = np.square(U) @ filters
                yield rows, (Sw[rows, None, :] - Z) / np.maximum(1.0 - h, tiny)[:, :, None]

    def loo_outputs(self, S, alpha):
        """Each row's output by the ridge fit on all the other rows.

        A row of weight 0 is outside every fit: its output is that of the
        fit on all rows.
        """
        S = np.asarray(S, dtype=np.float64).reshape(self.R.shape[0], -1)
        out = np.empty_like(S)
        fitted = self.weight > 0
        for rows, E in self._scaled_residuals(S, [alpha]):
            keep, block = fitted[rows], out[rows]  # block: a view of out's rows
            block[keep] = S[rows][keep] - E[keep, 0] / self._root[rows][keep, None]
        if not fitted.all():
            out[~fitted] = self.R[~fitted].astype(np.float64) @ self.coef(S, alpha)
        return out

    def loo_errors(self, S, alphas=RIDGE_ALPHAS):
        """Mean squared leave-one-out error for each penalty.

        Returns ``sum_i w_i |s_i - loo_i|^2 / (sum_i w_i * n_outputs)``, an
        array of shape (n_alphas,).
        """
        S = np.asarray(S, dtype=np.float64).reshape(self.R.shape[0], -1)
        total = max(self.weight.sum(), np.finfo(float).tiny) * S.shape[1]
        out = np.zeros(len(alphas))
        for _, E in self._scaled_residuals(S, alphas):  # 0 for a row of weight 0
            out += np.einsum("iak,iak->a", E, E)
        return out / total


def _block_rows(width):
    """Rows per block of a row-wise pass over ``width`` float64 columns
    (about ``_BLOCK_VALUES`` values, at least one row)."""
    return max(1, _BLOCK_VALUES // max(width, 1))


def loo_alpha(solver, S, alphas=RIDGE_ALPHAS):
    """The penalty of ``alphas`` with the least leave-one-out error.

    Ties go to the larger penalty.

    Parameters
    ----------
    solver : RidgeSolver
    S : ndarray of shape (n_samples, n_outputs)
        Targets.
    alphas : array-like of shape (n_alphas,)
        Penalties, each > 0.

    Returns
    -------
    alpha : float
    """
    alphas = np.asarray(alphas, dtype=float)
    errors = solver.loo_errors(S, alphas)
    best = np.flatnonzero(errors <= errors.min())
    return float(alphas[best[np.argmax(alphas[best])]])
