"""A compiled minibatch epoch for the MLP (optional: needs numba).

On small networks (digits: 64 inputs, 100 hidden units, batches of 64) each
step of a minibatch is a few microseconds of arithmetic behind a few
microseconds of numpy call overhead, about a hundred calls per minibatch.
:func:`epoch` runs a whole epoch of minibatches in one compiled call: the
same forward pass, loss, echo, backward pass and optimizer update as the
numpy reference (``MLPTrainingMixin._step`` in ``sklearn_itds._mlp_train``),
in the same order, with the matrix products done by BLAS ``gemm`` (numba's
``np.dot``, through scipy's BLAS). The iTDS arithmetic is
:func:`sklearn_itds._itds.echo_logit_rows` and
:func:`~sklearn_itds._itds.follow_weight_average`, compiled here from
``_itds.py``.

Results equal the numpy reference to rounding, not bit for bit: the matrix
products run in scipy's BLAS instead of numpy's, and sums and ``exp`` may
round differently (``tests/test_mlp_kernels.py`` checks whole fits at
``rtol=1e-10``, and ``td_gain=0`` against MLPClassifier as the numpy path is
checked). The kernel serves dense float32/float64 inputs, "adam" and "sgd",
either echo reading, with or without sample weights; the sign split and the
sparsity mask use the numpy path.

``numba`` is an optional dependency (``pip install sklearn-itds[fast]``);
without it, or with ``SKLEARN_ITDS_NUMBA=0`` when the package is imported,
:data:`AVAILABLE` is False and training uses numpy (numba is then not
imported at all). :func:`sklearn_itds._jit.use_kernels` switches the epoch
off too, as it does the reservoir kernels. Compiled code
is cached on disk (numba's ``cache=True``), so only the first fit after an
install compiles (tens of seconds per input dtype and network depth). Set
``ENABLED = False`` to force the numpy path (the tests do, to compare the
two). numba's cache of :func:`epoch` is keyed on this file only: after
editing ``_itds.echo_logit_rows`` or ``_itds.follow_weight_average``, delete
``sklearn_itds/__pycache__/*.nb*`` (or touch this file) so the kernel is
compiled again with them.
"""

import numpy as np

from . import _itds
from ._jit import available as _kernels_on

numba = None
if _kernels_on():  # SKLEARN_ITDS_NUMBA=0: numba is not even imported
    import numba

__all__ = ["AVAILABLE", "ENABLED", "epoch", "usable"]

AVAILABLE = numba is not None
"""Whether numba could be imported."""

ENABLED = True
"""Use the compiled epoch where it applies (False: always the numpy path)."""

ACTIVATION_CODES = {"identity": 0, "logistic": 1, "tanh": 2, "relu": 3}


def usable(X, arrays):
    """Whether :func:`epoch` can train ``arrays`` (the weights, echo and
    optimizer state, all to be updated in place) on ``X``."""
    if not (AVAILABLE and ENABLED and _kernels_on()) or not isinstance(X, np.ndarray):
        return False
    return all(a.dtype == X.dtype and a.flags.c_contiguous for a in arrays)


if AVAILABLE:
    _jit = numba.njit(cache=True, nogil=True)
    _echo_logit_rows = _jit(_itds.echo_logit_rows)
    _follow = _jit(_itds.follow_weight_average)

    @_jit
    def _activate(Z, code):
        """The hidden activation, in place (as ``_mlp_base.ACTIVATIONS``)."""
        if code == 0:
            return
        for i in range(Z.shape[0]):
            for j in range(Z.shape[1]):
                z = Z[i, j]
                if code == 1:
                    Z[i, j] = 1.0 / (1.0 + np.exp(-z))
                elif code == 2:
                    Z[i, j] = np.tanh(z)
                elif z < 0:  # relu; NaN stays NaN, as np.maximum
                    Z[i, j] = 0.0

    @_jit
    def _derivative(D, A, code):
        """``D *= f'(A)`` in place (as ``_mlp_base._derivative``)."""
        if code == 0:
            return
        for i in range(D.shape[0]):
            for j in range(D.shape[1]):
                a = A[i, j]
                if code == 1:
                    D[i, j] *= a * (1 - a)
                elif code == 2:
                    D[i, j] *= 1 - a * a
                else:
                    D[i, j] *= 1.0 if a > 0 else 0.0

    @_jit
    def _output(Z, softmax):
        """Output probabilities in place: row softmax or the logistic."""
        for i in range(Z.shape[0]):
            if softmax:
                m = Z[i, 0]
                for k in range(1, Z.shape[1]):
                    if Z[i, k] > m:
                        m = Z[i, k]
                s = 0.0
                for k in range(Z.shape[1]):
                    Z[i, k] = np.exp(Z[i, k] - m)
                    s += Z[i, k]
                for k in range(Z.shape[1]):
                    Z[i, k] /= s
            else:
                for k in range(Z.shape[1]):
                    Z[i, k] = 1.0 / (1.0 + np.exp(-Z[i, k]))

    @_jit
    def _log_loss(Y, P, w, softmax):
        """``_mlp_base.log_loss``: mean (or ``w``-weighted mean) cross-entropy."""
        eps = np.finfo(P.dtype).eps
        total = 0.0
        for i in range(P.shape[0]):
            row = 0.0
            for k in range(P.shape[1]):
                p = min(max(P[i, k], eps), 1 - eps)
                if softmax:
                    row += Y[i, k] * np.log(p)
                else:
                    row += Y[i, k] * np.log(p) + (1 - Y[i, k]) * np.log(1 - p)
            total += -row * (1.0 if w.shape[0] == 0 else w[i])
        return total

    @_jit
    def _add_scaled(G, c, W):
        """``G += c * W`` (the L2 term of a weight gradient)."""
        for i in range(G.shape[0]):
            for j in range(G.shape[1]):
                G[i, j] += c * W[i, j]

    @_jit
    def _column_sums(D, out):
        out[:] = 0
        for i in range(D.shape[0]):
            for j in range(D.shape[1]):
                out[j] += D[i, j]

    @_jit
    def epoch(X, Y, sw, order, batch_size, coefs, intercepts, echo_coef,
              echo_intercept, params, state1, state2, rates, lr_base, act, softmax,
              learned, weight_average, td_gain, td_sign, td_timescale, alpha, adam,
              beta_1, beta_2, epsilon, t, total, momentum, nesterov, E_sup, E_td,
              h_sq):
        """Minibatch updates over the rows ``order`` (in that order); returns
        ``(total + sum of batch loss x rows, Adam's step count after them)``.

        ``coefs``/``intercepts`` are the network's layers (updated in place);
        ``params`` the flat views of every optimized array in gradient order
        (coefficients, intercepts, then the learned echo's two), ``state1`` /
        ``state2`` the optimizer's per-array state (Adam's moments, or SGD's
        velocities twice) and ``rates`` each array's step: for Adam the
        multiplier of the base step ``lr_base``, for SGD its learning rate.
        ``order`` holds the row order (the identity when not shuffled), ``sw``
        the sample weights of all rows of ``X`` (empty: unweighted). The
        ``i``-th row of
        ``order`` writes its ``e_sup``, ``e_td`` and squared hidden norm to
        row ``i`` of ``E_sup``, ``E_td`` and ``h_sq``.
        """
        n, n_in = order.shape[0], X.shape[1]
        n_layers = len(coefs)
        n_out = Y.shape[1]
        weighted = sw.shape[0] > 0
        grads = [np.empty_like(p) for p in params]
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            nb = stop - start
            idx = order[start:stop]
            if weighted:
                w = sw[idx]
                n_eff = 0.0
                for r in range(nb):
                    n_eff += w[r]
                if n_eff == 0:  # all weights zero: nothing to learn here
                    continue
                scale = w / n_eff
            else:
                w = sw
                n_eff = float(nb)
                scale = np.full(1, n_eff)
            Xb = np.empty((nb, n_in), X.dtype)
            Yb = np.empty((nb, n_out), Y.dtype)
            for r in range(nb):
                Xb[r] = X[idx[r]]
                Yb[r] = Y[idx[r]]
            # forward pass
            acts = [Xb]
            for i in range(n_layers):
                Z = np.dot(acts[i], coefs[i])
                b = intercepts[i]
                for r in range(nb):
                    for j in range(Z.shape[1]):
                        Z[r, j] += b[j]
                if i < n_layers - 1:
                    _activate(Z, act)
                acts.append(Z)
            P = acts[n_layers]
            _output(P, softmax)
            H = acts[n_layers - 1]
            # loss before the update (cross-entropy and L2 penalty)
            loss = _log_loss(Yb, P, w, softmax) / n_eff
            sq = 0.0
            for i in range(n_layers):
                W = coefs[i]
                for a in range(W.shape[0]):
                    for c in range(W.shape[1]):
                        sq += W[a, c] * W[a, c]
            loss += 0.5 * alpha * sq / n_eff
            total += loss * nb
            # the echo and the stabilized error on the logits (_itds)
            Pe = np.dot(H, echo_coef)
            for r in range(nb):
                for k in range(n_out):
                    Pe[r, k] += echo_intercept[k]
            _output(Pe, softmax)
            D = np.empty_like(P)
            Ge = np.empty_like(P)
            es = np.empty_like(P)
            et = np.empty_like(P)
            _echo_logit_rows(Yb, P, Pe, scale, td_gain, td_sign, learned, D, Ge,
                             es, et)
            for r in range(nb):
                row = start + r
                hs = 0.0
                for j in range(H.shape[1]):
                    hs += H[r, j] * H[r, j]
                h_sq[row] = hs
                for k in range(n_out):
                    E_sup[row, k] = es[r, k]
                    E_td[row, k] = et[r, k]
            # backward pass: gradients of every array before any update
            for i in range(n_layers - 1, -1, -1):
                gW = grads[i].reshape(coefs[i].shape)
                np.dot(acts[i].T, D, gW)
                _add_scaled(gW, alpha / n_eff, coefs[i])
                _column_sums(D, grads[n_layers + i])
                if i > 0:
                    D = np.dot(D, coefs[i].T)
                    _derivative(D, acts[i], act)
            if learned:
                np.dot(H.T, Ge, grads[2 * n_layers].reshape(echo_coef.shape))
                _column_sums(Ge, grads[2 * n_layers + 1])
            # optimizer update, array by array (as _optimizers.Adam / SGD)
            if adam:
                t += 1
                lr = (lr_base * np.sqrt(1 - beta_2 ** np.float64(t))
                      / (1 - beta_1 ** np.float64(t)))
                for k in range(len(params)):
                    p, g, m, v = params[k], grads[k], state1[k], state2[k]
                    c = rates[k]
                    for j in range(p.shape[0]):
                        m[j] = m[j] * beta_1 + g[j] * (1 - beta_1)
                        v[j] = v[j] * beta_2 + (g[j] * g[j]) * (1 - beta_2)
                        p[j] -= (m[j] * lr) * c / (np.sqrt(v[j]) + epsilon)
            else:
                for k in range(len(params)):
                    p, g, vel = params[k], grads[k], state1[k]
                    lr = rates[k]
                    for j in range(p.shape[0]):
                        vel[j] = vel[j] * momentum - lr * g[j]
                        if nesterov:
                            p[j] += momentum * vel[j] - lr * g[j]
                        else:
                            p[j] += vel[j]
            if weight_average:
                _follow(echo_coef.reshape(echo_coef.size),
                        coefs[n_layers - 1].reshape(echo_coef.size), td_timescale)
                _follow(echo_intercept, intercepts[n_layers - 1], td_timescale)
        return total, t
