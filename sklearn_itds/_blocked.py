"""Exact block RLS: a block of :class:`~sklearn_itds._itds.ITDSReadout`'s
per-row RLS updates done at once with level-3 BLAS.

The per-row updates in ``_itds.py`` are the reference; :func:`rls_block` gives
the same ``W``, echo, ``P`` and a-priori outputs up to rounding (tested in
tests/test_blocked.py and tests/test_itds.py), for both readings of the echo
that are readouts (``"learned"``, ``"weight_average"``) and for given echo
rows (``"decision"``). It knows the rule only through the readout's
``rule_matrix`` (``mix``) and target scale, so the equations stay in
``_itds.py``.

The state it updates in place: ``P`` (n, n; only its lower triangle is read
and written) and ``C = [W | Wbar]`` (n, 2K).
"""

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from scipy.linalg import get_blas_funcs, get_lapack_funcs, solve_triangular

__all__ = ["rls_block"]


@lru_cache(maxsize=None)
def _block_blas(dtype):
    symm, syrk, trsm = get_blas_funcs(("symm", "syrk", "trsm"), dtype=dtype)
    potrf, = get_lapack_funcs(("potrf",), dtype=dtype)
    return SimpleNamespace(symm=symm, syrk=syrk, trsm=trsm, potrf=potrf)


def rls_block(P, C, mix, target_scale, R, Y, ZD, gain_norms, echo=None, w=None,
              average=None):
    """The per-row RLS updates of the ``b`` rows of ``R``, done at once, exactly.

    With ``P`` and ``C = [W | Wbar]`` at the block start, ``q_i = P_i r_i``
    and ``denom_i = 1 + r_i^T P_i r_i`` (``P_i``: ``P`` after the rows
    before ``i``) do not depend on the targets: they come from the LDL
    factorization ``S = I + R P R^T = L D L^T`` (``D_ii = denom_i``,
    ``L_ij = r_i^T q_j / denom_j``) as ``Q = P R^T L^{-T}``. The a-priori
    outputs then follow from the earlier errors of the block,
    ``[z_i, d_i] = r_i C + sum_{j<i} L_ij err_j``, and the rule's errors
    are affine in them, ``err_i = [z_i, d_i] @ mix + [y_i * target_scale, 0]``
    (:func:`~sklearn_itds._itds.rule_matrix`), so all errors solve one unit
    lower triangular system. Then ``C += Q D^{-1} E`` and ``P -= Q D^{-1}
    Q^T`` (level-3 BLAS on the lower triangle of ``P``). The result equals
    ``b`` per-row updates up to rounding.

    Row weights ``w``: the factorization is that of the rows ``sqrt(w_i)
    r_i`` (``q_i``, ``denom_i`` and ``P`` of the weighted updates, see
    :class:`~sklearn_itds._itds.ITDSReadout`) and the errors stay unscaled,
    with the gains ``g_j = w_j q_j / denom_j`` of the weighted updates:
    ``L_ij = r_i^T g_j``, read off ``R Qt^T`` (a row of weight 0 has ``g =
    0`` but an output).

    Parameters
    ----------
    P : ndarray of shape (n, n), Fortran order
        The RLS matrix; its lower triangle is updated in place.
    C : ndarray of shape (n, 2 K)
        ``[W | Wbar]``, updated in place.
    mix : ndarray of shape (2 K, 2 K)
        The readout's rule matrix.
    target_scale : float
        ``1 / (1 + td_gain)``: the targets' weight in the bounded error.
    R, Y : ndarray of shape (b, n) and (b, K)
        The block's rows and targets.
    ZD, gain_norms : ndarray of shape (b, 2 K) and (b,)
        Written: the a-priori ``[z, d]`` rows and ``|gain|`` of each row.
    echo : ndarray of shape (b, K), optional
        Given echo rows (the echo columns of ``mix`` are then zero).
    w : ndarray of shape (b,), optional
        Row weights.
    average : float, optional
        The echo's ``td_timescale`` for the weight-average echo (see
        ``_average_block`` below); None for the learned echo or given rows.

    Returns
    -------
    done : bool
        False, changing nothing, when ``S`` is not numerically positive
        definite (the caller then falls back to the per-row updates).
    """
    K = C.shape[1] // 2
    b = R.shape[0]
    lin = _block_blas(C.dtype)
    Rw = R if w is None else R * np.sqrt(w)[:, None]
    RP = lin.symm(1.0, P, Rw, side=1, lower=1)  # R P, (b, n), F order
    S = RP @ Rw.T
    S.flat[::b + 1] += 1.0
    Lc, info = lin.potrf(S, lower=1, clean=1, overwrite_a=1)  # S = Lc Lc^T
    sd = np.diag(Lc).copy()  # sqrt(denom_i)
    if info != 0 or not np.all(sd > 0):
        return False
    Qt = lin.trsm(1.0, Lc, RP, lower=1, overwrite_b=1)  # Lc^{-1} R P = (Q D^-1/2)^T
    if w is None:
        L_strict = np.tril(Lc, -1) / sd  # L - I
    else:  # from here on sd is sqrt(denom / w): g_j = Qt_j / sd_j (0 where w = 0)
        with np.errstate(divide="ignore"):
            sd = sd / np.sqrt(w)
        L_strict = np.tril(R @ Qt.T, -1) / sd
    lin.syrk(-1.0, Qt, beta=1.0, c=P, trans=1, lower=1, overwrite_c=1)
    gain_norms[...] = np.sqrt(np.einsum("ij,ij->i", Qt, Qt)) / sd
    if average is not None:
        _average_block(C, mix, target_scale, average, R, Y, ZD, Qt, sd, L_strict, w)
        return True
    zd0 = R @ C
    if echo is not None:  # a given echo: constant, the echo columns of mix are 0
        zd0[:, K:] = echo
    rhs = zd0 @ mix
    rhs[:, :K] += Y * target_scale
    # err_i = (zd0_i + sum_j L_ij err_j) mix + t_i, with mix = kron(m, I_K):
    # for each output k the pairs (delta_ik, echo_ik) of all rows solve
    # (I - kron(L - I, m^T)) v = rhs, unit lower triangular (2b x 2b).
    m_T = mix[::K, ::K].T  # mix = kron(m, I_K): its 2 x 2 m
    A = (L_strict[:, None, :, None] * -m_T[None, :, None, :]).reshape(2 * b, 2 * b)
    A.flat[::2 * b + 1] = 1.0
    E = solve_triangular(A, rhs.reshape(2 * b, K), lower=True, unit_diagonal=True,
                         check_finite=False).reshape(b, 2 * K)
    ZD[...] = zd0 + L_strict @ E
    C += Qt.T @ (E / sd[:, None])
    return True


def _average_block(C, mix, target_scale, td_timescale, R, Y, ZD, Qt, sd, L_strict,
                   w=None):
    """The ``W``/``Wbar`` part of :func:`rls_block` for the weight-average echo.

    With ``a = 1 - 1 / td_timescale`` and ``g_j = q_j / denom_j`` (so that
    ``W_{j+1} = W_j + outer(g_j, delta_j)`` and ``r_i^T g_j = L_ij``), the
    per-row ``Wbar <- Wbar + (W - Wbar) / td_timescale`` gives, before row
    ``i`` of the block and at its end (``i = b``)::

        Wbar_i = a^i Wbar_0 + (1 - a^i) W_0 + sum_{j<i} (1 - a^(i-j)) outer(g_j, delta_j)

    so ``d_i = a^i r_i Wbar_0 + (1 - a^i) r_i W_0 + sum_{j<i} (1 - a^(i-j))
    L_ij delta_j`` is affine in the earlier errors as ``z_i`` is, and the
    errors ``delta_i = y_i / (1 + td_gain) + own z_i + lam d_i`` (``own``,
    ``lam``: the first block column of ``mix``) solve one unit lower
    triangular system. It is the learned case's system with the echo's
    unknowns at zero and the ``delta``-``delta`` coupling ``-(own + lam (1 -
    a^(i-j))) L_ij``, so with ``td_gain == 0`` ``W`` is bit for bit the
    learned echo's. Equal to the per-row updates up to rounding (tested).

    With row weights the echo takes ``w_j`` steps after row ``j``, so the
    powers count weight instead of rows: ``i`` becomes ``c_i = sum_{j<i}
    w_j`` and ``b`` the block's total weight.
    """
    K = C.shape[1] // 2
    b = R.shape[0]
    a = 1.0 - 1.0 / td_timescale
    rows = np.arange(b)
    total = b  # the echo's steps before each row, and in the block
    if w is not None:
        rows = np.concatenate(([0.0], np.cumsum(w[:-1])))
        total = rows[-1] + w[-1]
    lag = rows[:, None] - rows[None, :]
    reach = np.where(lag > 0, 1.0 - a ** np.maximum(lag, 0), 0.0)  # 1 - a^(i-j), j < i
    start = a ** rows  # a^i
    zd0 = R @ C
    zd0[:, K:] = start[:, None] * zd0[:, K:] + (1.0 - start)[:, None] * zd0[:, :K]
    rhs = zd0 @ mix  # echo columns of mix are zero: rhs[:, K:] == 0
    rhs[:, :K] += Y * target_scale
    m_T = mix[::K, ::K].T
    A4 = L_strict[:, None, :, None] * -m_T[None, :, None, :]
    A4[:, 0, :, 0] = L_strict * -(m_T[0, 0] + m_T[0, 1] * reach)
    A = A4.reshape(2 * b, 2 * b)
    A.flat[::2 * b + 1] = 1.0
    E = solve_triangular(A, rhs.reshape(2 * b, K), lower=True, unit_diagonal=True,
                         check_finite=False).reshape(b, 2 * K)
    ZD[:, :K] = zd0[:, :K] + (L_strict @ E)[:, :K]
    ZD[:, K:] = zd0[:, K:] + (L_strict * reach) @ E[:, :K]
    E[:, K:] = (1.0 - a ** (total - rows))[:, None] * E[:, :K]
    U = Qt.T @ (E / sd[:, None])
    W, Wbar = C[:, :K], C[:, K:]
    end = a ** total
    Wbar *= end
    Wbar += (1.0 - end) * W
    Wbar += U[:, K:]
    W += U[:, :K]
