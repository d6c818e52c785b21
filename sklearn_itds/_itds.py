"""The iTDS learning rule: the one module that holds its equations.

Our reading of Pilzak, Pennington & Thivierge (Nat Commun 17, 4164, 2026) for a
readout ``W`` acting on presynaptic activity ``r`` (the last entry of ``r`` is a
constant 1 for the bias)::

    z     = W r                      current output
    d     = Wbar r                   the echo: a slow learned estimate of z
    e_sup = y - z                    supervised error
    e_td  = d - z                    top-down error
    delta = e_sup + td_gain * e_td   stabilized error that drives plasticity
    W    <- W    + step(delta, r)
    Wbar <- Wbar + step(z - d, r) / td_timescale

``step(err, r)`` is ``gain(r) err^T`` where ``gain`` is the normalized LMS
vector ``learning_rate * r / |r|^2`` or the RLS/FORCE gain ``P r / (1 + r^T P r)``.
For a softmax output trained with cross-entropy, ``z`` and ``d`` are the class
probabilities of the readout and of the echo, and ``-delta`` is the gradient on
the logits (see :class:`SoftmaxEcho`).

With ``td_gain == 0`` the stabilized error *is* the supervised error, bit for
bit, so every estimator is its own plain-learning ablation. The echo still
learns (it is a passive observer then) so that diagnostics stay comparable.

**Bounded step for the reservoir readouts.** :class:`ITDSReadout` divides the
stabilized error by ``1 + td_gain``::

    delta_b = (e_sup + td_gain * e_td) / (1 + td_gain) = s - z,
    s       = (y + td_gain * d) / (1 + td_gain)        the stabilized target

so ``td_gain`` changes *where* the readout is pulled (toward a mix of the target
and the echo) but not *how far* one step goes. Without it, a step that removes
the fraction ``c`` of the a-priori error (``c = learning_rate`` for normalized
LMS, ``c = r^T P r / (1 + r^T P r)``, close to 1 early on, for RLS) removes
``c (1 + td_gain)`` of it: RLS then overshoots its target by ``td_gain`` times
the error at every early step, and the readout-echo pair diverges for
``td_gain`` of about 1 (the linearised error map has an eigenvalue
``(-g - sqrt(g^2 + 4g)) / 2 < -1`` at ``c = 1``, ``td_timescale = 1``). With the
division, the fast error shrinks by ``1 - c`` toward ``s`` and the pair is a
contraction for ``c <= 1`` and ``td_timescale >= 1``. With ``td_gain == 0`` the
division is by 1, bit for bit. (The softmax output of the MLP keeps the
undivided form: Adam rescales its steps anyway.)

**Runaway detection.** A readout can blow up to values that are still finite;
:meth:`ITDSReadout.diverged` also reports an epoch in which the output or the
echo of the *current* weights on recent rows exceeded ``RUNAWAY_FACTOR`` times
the largest target magnitude of that epoch, so that no estimator returns such
a model silently. (A-priori outputs are not used: early in an RLS pass with a
weak prior they can be large while the fit is sound.)

**Readings of the echo.** The paper leaves open what the echo is; the
estimators' ``echo`` parameter picks one reading and ``td_sign`` the sign of
the top-down term (both default to the equations above, bit for bit):

- ``echo="learned"`` (the regressor's and the MLP's default): the echo is a
  second readout that learns to reproduce the output,
  ``Wbar <- Wbar + step(z - d, r) / td_timescale``
  (for the softmax output: the cross-entropy gradient toward ``p``, with the
  network's optimizer, ``td_timescale`` times slower).
- ``echo="weight_average"``: the echo's weights are an exponential moving
  average of the readout's own weights (a "mean teacher"): after every update
  of ``W`` (for the reservoir readouts, every row; for the MLP, every
  optimizer step, on the output layer's coefficients and intercepts)::

      Wbar <- Wbar + (W - Wbar) / td_timescale

  and nothing else changes ``Wbar``. Both readings start from ``Wbar = W``.
- ``echo="decision"`` (the reservoir classifier's default): the echo of a
  training sample is the running average, over ``fit``'s passes, of the
  readout's decisions on it (one-hot of its largest output), held fixed
  during a pass (:class:`DecisionEcho`); the readout is given these rows.
- ``td_sign=-1`` flips the top-down term, ``delta = e_sup - td_gain * e_td``
  (the readout is pushed *away* from its echo); the reservoir readouts keep
  the division by ``1 + td_gain``, so their step is ``delta_b = (e_sup -
  td_gain e_td) / (1 + td_gain)``. The pull of ``delta_b`` toward the
  readout's own output shrinks to ``(1 - td_gain) / (1 + td_gain)``: it
  vanishes at ``td_gain = 1`` (``delta_b = (y - d) / 2``) and reverses
  beyond, where a fit may diverge (and is reported as such).

With ``td_gain == 0`` every reading and sign is the plain learner, bit for
bit: the echo then never enters ``delta``.

Sign-split feedback writes ``W = W_pos - W_neg`` with both parts non-negative:
``W_pos`` learns only from the positive part of ``delta`` and ``W_neg`` only
from its negative part, and both are clipped at zero after every update. A
forced-sparsity mask instead holds a fixed random fraction of the (non-bias)
weights at exactly zero.
"""

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from scipy.linalg import get_blas_funcs
from scipy.special import expit

from . import _jit
from ._blocked import rls_block
from ._history import TDHistory  # here too: pickles of earlier versions name _itds
from ._threads import single_blas_thread

__all__ = [
    "ECHO_READINGS",
    "RUNAWAY_FACTOR",
    "DecisionEcho",
    "ITDSReadout",
    "SoftmaxEcho",
    "clip_split",
    "echo_logit_rows",
    "follow_weight_average",
    "make_sparsity_mask",
    "output_step_norms",
    "rule_matrix",
    "softmax_step_norms",
    "split_error",
    "split_output_gradients",
    "squared_row_norms",
    "stabilized_error",
]


ECHO_READINGS = ("learned", "weight_average", "decision")
"""The values of the estimators' ``echo`` parameter (see the module docstring)."""

TD_SIGNS = (1, -1)
"""The values of the estimators' ``td_sign`` parameter."""

RUNAWAY_FACTOR = 1e3
"""An output or echo larger than this times the largest target magnitude of the
epoch counts as a runaway readout (see :meth:`ITDSReadout.diverged`)."""

_WATCHED_ROWS = 32  # recent rows whose current outputs the runaway watch reads
RLS_BLOCK = 64  # rows per exact block RLS update (see _blocked.rls_block)


def stabilized_error(target, output, echo, td_gain, bounded=False, td_sign=1):
    """Return ``(delta, e_sup, e_td)`` for one sample or a batch.

    ``delta = (target - output) + td_sign * td_gain * (echo - output)``,
    divided by ``1 + td_gain`` when ``bounded`` (the reservoir readouts' form,
    see the module docstring); with ``td_gain == 0`` it is exactly ``target -
    output`` for either sign.
    """
    e_sup = target - output
    e_td = echo - output
    if td_gain == 0:
        return e_sup, e_sup, e_td
    if td_sign == -1:
        delta = e_sup - td_gain * e_td
    else:
        delta = e_sup + td_gain * e_td
    if bounded:
        delta /= 1.0 + td_gain
    return delta, e_sup, e_td


def split_error(delta):
    """Positive and negative parts of ``delta``: ``delta = pos - neg``."""
    return np.maximum(delta, 0.0), np.maximum(-delta, 0.0)


def split_output_gradients(H, grad_logits, W_pos, W_neg, alpha, n_samples):
    """Sign-split feedback for a gradient-trained output layer ``W = W_pos - W_neg``.

    ``grad_logits`` is ``-delta / n`` (the stabilized error on the logits, as
    :meth:`SoftmaxEcho.gradients` returns it) and ``H`` the last hidden
    layer. ``W_pos`` descends the loss of the positive part of ``delta`` and
    ``W_neg`` that of its negative part; each has its own L2 decay toward
    zero, ``alpha / n_samples`` (as MLPClassifier's), so together they act as
    an L1-like penalty on ``W``, and :func:`clip_split` after the update can
    leave exact zeros. Returns the gradients of ``W_pos`` and ``W_neg``.
    """
    neg_part, pos_part = split_error(grad_logits)  # = (delta-, delta+) / n
    decay = alpha / n_samples
    return H.T @ -pos_part + decay * W_pos, H.T @ -neg_part + decay * W_neg


def clip_split(parts, W, mask=None):
    """After an update of the sign-split parts: both clipped at zero (and
    masked), and ``W = W_pos - W_neg`` written in place."""
    for part in parts:
        np.maximum(part, 0, out=part)
        if mask is not None:
            part *= mask
    np.subtract(*parts, out=W)


def make_sparsity_mask(shape, sparsity, random_state):
    """A fixed mask holding ``round(sparsity * n)`` non-bias weights at zero.

    ``shape`` is ``(n_inputs, n_outputs)`` where the last input row is the bias,
    which is never masked. Returns ``None`` when ``sparsity == 0``.
    """
    if sparsity == 0:
        return None
    n_in, n_out = shape
    n_weights = (n_in - 1) * n_out
    n_zero = int(round(sparsity * n_weights))
    flat = np.ones(n_weights, dtype=bool)
    flat[random_state.permutation(n_weights)[:n_zero]] = False
    mask = np.ones(shape, dtype=bool)
    mask[:-1] = flat.reshape(n_in - 1, n_out)
    return mask


class ITDSReadout:
    """A linear readout ``W`` and its echo ``Wbar``, trained online by iTDS.

    The readout's error is the bounded stabilized error ``delta = (e_sup +
    td_gain e_td) / (1 + td_gain)`` (see the module docstring).

    ``W`` and ``Wbar`` are stored side by side in one Fortran-ordered array
    ``coef_pair = [W | Wbar]`` so that one product ``r @ coef_pair`` gives
    ``[z, d]`` and one in-place rank-1 BLAS update (``ger``) changes both::

        [delta, (z - d) / td_timescale] = [y / (1 + td_gain), 0] + [z, d] @ mix
        coef_pair += outer(gain(r), [delta, (z - d) / td_timescale])

    where ``mix`` is the ``2K x 2K`` matrix of :func:`rule_matrix`: the rule's
    equations written once as a linear map.

    With ``echo="weight_average"`` the echo columns of ``mix`` are zero (the
    step leaves ``Wbar`` as it is) and each row's update is followed by
    ``Wbar += (W - Wbar) / td_timescale`` (``_follow``).

    :meth:`partial_fit` with RLS (float64, no sign split, no mask) makes the
    same updates ``block_size`` rows at a time
    (:func:`~sklearn_itds._blocked.rls_block`, exact up to rounding; for
    either echo); ``block_size = 0`` gives the per-row reference.

    **Row weights.** :meth:`partial_fit` and :meth:`update` take a
    non-negative weight ``w`` per row (``sample_weight``); without one every
    row counts 1 and the arithmetic is the unweighted one, bit for bit:

    - RLS: the row's update is the RLS update with ``sqrt(w) r`` and the
      targets ``sqrt(w) y`` (for given echo rows, ``sqrt(w) d``), i.e.
      ``denom = 1 + w r^T P r``, ``P -= w P r r^T P / denom`` and
      ``[W | Wbar] += (w / denom) outer(P r, err)`` with the unscaled errors
      ``err = [delta, (z - d) / td_timescale]``. One pass from ``W = 0``,
      ``P0 = I / rls_alpha`` toward fixed targets ``S`` is weighted ridge,
      ``(R^T diag(w) R + rls_alpha I)^{-1} R^T diag(w) S``, and an integer
      weight ``k`` equals the row repeated ``k`` times there.
    - normalized LMS: scaling ``r`` would be undone by the normalization,
      so the weight multiplies the step: ``learning_rate * w * err r^T /
      |r|^2`` (keep ``learning_rate * w`` below 1).
    - the learned echo's step is the same row's gain, so it is weighted
      alike; the weight-average echo counts a row of weight ``w`` as ``w``
      of its steps: ``Wbar += (1 - (1 - 1 / td_timescale)^w) (W - Wbar)``.
    - the diagnostics (:class:`~sklearn_itds._history.TDHistory`) are
      weighted means of the a-priori errors; ``weight_change`` is the
      readout's total change per unit of weight (the sum of the rows' step
      norms over their total weight).

    A row of weight 0 changes nothing (its a-priori output is still
    returned).

    With numba installed (the ``fast`` extra; see ``sklearn_itds._jit``) the
    per-row updates without sign split or mask, LMS and RLS, run in the
    compiled kernel ``_readout_rows``: the same updates, with the same BLAS
    calls for ``P`` and ``[W | Wbar]``, equal to the numpy code up to rounding
    (tested); weighted rows keep the numpy updates.
    ``SKLEARN_ITDS_NUMBA=0`` switches it off.

    Parameters
    ----------
    n_inputs : int
        Length of ``r``, including the trailing constant 1.
    n_outputs : int
        Number of outputs.
    rule : {"lms", "rls"}
        Normalized LMS (delta rule) or recursive least squares (FORCE).
    learning_rate : float
        LMS step size (dimensionless: the fraction of the error removed).
    rls_alpha : float
        RLS prior: ``P0 = I / rls_alpha``, i.e. a ridge penalty ``rls_alpha``.
    td_gain, td_timescale : float
        The iTDS gain and the echo's slowness (in weight updates).
    echo : {"learned", "weight_average", "decision"}
        The reading of the echo (see the module docstring): a readout
        ``Wbar`` for the first two; for "decision" the echo rows are given to
        :meth:`partial_fit` (see :class:`DecisionEcho`) and ``Wbar`` stays 0.
    td_sign : {1, -1}
        The sign of the top-down term in ``delta``.
    feedback_split : bool
        Sign-split readout ``W = W_pos - W_neg``.
    mask : ndarray of bool or None
        Fixed mask; weights where it is False stay at zero.
    dtype : numpy dtype
    """

    # class-level defaults: a readout pickled before these existed reads as the
    # learned echo with the published sign
    echo = "learned"
    td_sign = 1

    def __init__(
        self,
        n_inputs,
        n_outputs,
        *,
        rule="lms",
        learning_rate=0.05,
        rls_alpha=1.0,
        td_gain=0.0,
        td_timescale=5.0,
        echo="learned",
        td_sign=1,
        feedback_split=False,
        mask=None,
        dtype=np.float64,
    ):
        self.rule = rule
        self.learning_rate = learning_rate
        self.rls_alpha = rls_alpha
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.echo = echo
        self.td_sign = td_sign
        self.feedback_split = feedback_split
        self.mask = mask
        self.n_outputs = n_outputs
        self.mix = rule_matrix(n_outputs, td_gain, td_timescale, td_sign,
                               echo).astype(dtype)
        self.block_size = RLS_BLOCK  # rows per exact block update (RLS); <= 1: per row
        self._target_scale = 1.0 / (1.0 + td_gain)  # exactly 1 when td_gain == 0
        self.coef_pair = np.zeros((n_inputs, 2 * n_outputs), dtype=dtype, order="F")
        if feedback_split:
            self.W_pos = np.zeros((n_inputs, n_outputs), dtype=dtype, order="F")
            self.W_neg = np.zeros((n_inputs, n_outputs), dtype=dtype, order="F")
        if rule == "rls":
            # Only the lower triangle of P is stored and updated (BLAS symv/syr),
            # so P is symmetric by construction.
            self.P = np.asfortranarray(np.eye(n_inputs, dtype=dtype) / rls_alpha)
        self.history = TDHistory()
        self._buffer = []
        self._peak_output = self._peak_target = 0.0
        self._last_row = None  # the last row given to update(), until flush()

    def set_prior(self, rls_alpha):
        """Set the RLS prior ``P0 = I / rls_alpha``, before any update.

        For a penalty chosen from the data the readout will learn from (see
        :mod:`sklearn_itds._ridge`), once the rows are known.
        """
        if self.history.epochs["n_updates"] or self._buffer or self.coef_pair.any():
            raise RuntimeError("set_prior is for a readout that has not learned yet")
        self.rls_alpha = rls_alpha
        self.P[...] = np.eye(self.P.shape[0], dtype=self.P.dtype) / rls_alpha

    def restart(self):
        """Start ``W`` (and the echo readout) again from zero and RLS's ``P``
        from its prior; the diagnostics are kept.

        An RLS pass that follows is then exactly ridge regression with
        penalty ``rls_alpha`` toward the pass's stabilized targets (for the
        decision echo, fixed during the pass: see :class:`DecisionEcho`).
        """
        self.coef_pair[...] = 0.0
        if self.feedback_split:
            self.W_pos[...] = 0.0
            self.W_neg[...] = 0.0
        if self.rule == "rls":
            self.P[...] = np.eye(self.P.shape[0], dtype=self.P.dtype) / self.rls_alpha

    @property
    def W(self):
        """The readout weights (n_inputs, n_outputs); bias in the last row."""
        return self.coef_pair[:, :self.n_outputs]

    @property
    def W_echo(self):
        """The echo readout weights, same shape as :attr:`W`."""
        return self.coef_pair[:, self.n_outputs:]

    # -- outputs ---------------------------------------------------------------
    def predict(self, R):
        """Readout output ``R @ W``."""
        return R @ self.W

    # -- learning ----------------------------------------------------------------
    def update(self, r, y, sample_weight=None):
        """One online iTDS update on sample ``r`` with target ``y``.

        Returns the a-priori output ``z = W r`` (before the update). The errors
        are buffered for :attr:`history` until :meth:`flush`. ``sample_weight``:
        the row's weight (see the class docstring), 1 when None.
        """
        zd, gain_norm = self._update(r, y, w=sample_weight)
        self._buffer.append((zd, y, gain_norm, sample_weight))
        self._last_row = r
        return zd[:self.n_outputs]

    def partial_fit(self, R, Y, echo=None, sample_weight=None):
        """Sequential updates on the rows of ``R``; returns a-priori outputs.

        ``echo`` (n_rows, n_outputs): each row's echo ``d``, for the readings
        whose echo is not a readout (``echo="decision"``, see
        :class:`DecisionEcho`); it is held fixed during the call.
        ``sample_weight`` (n_rows,): non-negative row weights (see the class
        docstring); None: every row counts 1.
        """
        n = R.shape[0]
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if (echo is None) != (self.echo != "decision"):
            raise ValueError('echo rows are given exactly when echo="decision"')
        ZD = np.empty((n, self.coef_pair.shape[1]), dtype=self.coef_pair.dtype)
        gain_norms = np.empty(n)
        update = self._update
        block = getattr(self, "block_size", RLS_BLOCK) if self._blockable() else 0
        # Tiny level-1/2 calls: threads only cost. An overflow is not reported
        # here but by diverged(), which the estimators turn into a warning.
        with single_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            plain = not self.feedback_split and self.mask is None
            # the compiled kernel knows no weights
            fast = self._compiled() and w is None
            if self.rule == "lms" and plain and not fast:
                self._lms_pass(R, Y, ZD, gain_norms, echo, w)
            else:
                start = 0
                while block > 1 and n - start >= 2:
                    stop = min(start + block, n)
                    if not self._rls_block(R[start:stop], Y[start:stop],
                                           ZD[start:stop], gain_norms[start:stop],
                                           None if echo is None else echo[start:stop],
                                           None if w is None else w[start:stop]):
                        break  # not positive definite: the per-row updates decide
                    start = stop
                if start < n and fast:
                    self._row_pass(R[start:], Y[start:], ZD[start:], gain_norms[start:],
                                   echo=None if echo is None else echo[start:])
                else:
                    for i in range(start, n):
                        ZD[i], gain_norms[i] = update(R[i], Y[i],
                                                      None if echo is None else echo[i],
                                                      None if w is None else w[i])
            self._record(ZD, Y, gain_norms, w)
            self._watch(R[-_WATCHED_ROWS:], Y)
        return ZD[:, :self.n_outputs]

    def _compiled(self):
        """True when the compiled kernel ``_readout_rows`` makes the per-row
        updates: numba is available (``sklearn_itds._jit``), no sign split, no
        mask."""
        return _jit.available() and not self.feedback_split and self.mask is None

    def _row_pass(self, R, Y, ZD, gain_norms, learn=None, echo=None):
        """The per-row updates of ``_update`` on the rows of ``R``, in order,
        by the compiled kernel ``_readout_rows`` (equal to the numpy updates up
        to rounding; tested). Writes ``[z, d]`` of every row into ``ZD`` (the
        a-priori outputs of the rows it learns from) and ``scale |gain|`` into
        ``gain_norms``; with ``learn`` (bool per row) only the rows where it is
        True are learned from.
        """
        self._run_kernel(R, Y, ZD, gain_norms, learn, echo)

    def _run_kernel(self, R, Y, ZD, gain_norms, learn=None, echo=None):
        """``_readout_rows`` on these rows with this readout's arrays."""
        dtype = self.coef_pair.dtype
        _readout_rows(np.ascontiguousarray(R, dtype=dtype),
                      np.ascontiguousarray(Y, dtype=np.float64).reshape(len(R), -1),
                      np.ones(len(R), dtype=bool) if learn is None else learn,
                      ZD, gain_norms, *self._kernel_args(),
                      _no_echo_rows(self.n_outputs, dtype) if echo is None else
                      np.ascontiguousarray(echo, dtype=dtype).reshape(len(R), -1))

    def _masked_pass(self, R, Y, learn):
        """Learn from the rows of ``R`` where ``learn`` is True, in order; the
        other rows only read the weights as they are then. Compiled (see
        ``_row_pass``); the numpy equivalent is :meth:`update` on the
        learned rows and :meth:`predict` on the others, row by row. Returns
        the outputs of every row (a-priori where it learned)."""
        ZD = np.empty((len(R), self.coef_pair.shape[1]), dtype=self.coef_pair.dtype)
        gain_norms = np.zeros(len(R))
        with single_blas_thread():
            self._row_pass(R, Y, ZD, gain_norms, learn)
        if learn.any():
            self._account(ZD[learn], Y[learn], gain_norms[learn],
                          R[np.flatnonzero(learn)[-1]])
        return ZD[:, :self.n_outputs]

    def _kernel_args(self):
        """The readout's arguments of ``_readout_rows``, after ``gain_norms``."""
        C = self.coef_pair
        rls = self.rule == "rls"
        return (C, self.P if rls else np.zeros((1, 1), C.dtype, order="F"), self.mix,
                rls, self._target_scale, float(self.learning_rate),
                float(self.td_timescale) if self.echo == "weight_average" else 0.0,
                _jit.blas_table(C.dtype))

    def _account(self, ZD, Y, gain_norms, last_row, w=None):
        """Record updates made outside :meth:`update` and :meth:`partial_fit`:
        their a-priori ``[z, d]``, targets, ``scale |gain|`` and weights, and
        the last row for the runaway watch (what :meth:`flush` does for
        :meth:`update`)."""
        Y = Y.reshape(len(ZD), -1)
        self._record(ZD, Y, gain_norms, w)
        self._watch(np.asarray(last_row)[None], Y)

    def _lms_pass(self, R, Y, ZD, gain_norms, echo=None, w=None):
        """Plain normalized-LMS updates on the rows of ``R``, in order.

        The same arithmetic as :meth:`_update` for ``rule="lms"`` without a
        sign split or mask, with the per-row step sizes and target terms
        computed for all rows first (fewer calls per update); tested equal.
        """
        K = self.n_outputs
        ger = _blas(self.coef_pair.dtype).ger
        C, mix = self.coef_pair, self.mix
        norms = np.einsum("ij,ij->i", R, R)
        scales = self.learning_rate / norms
        if w is not None:  # normalized: the weight multiplies the step
            scales = scales * w
        gain_norms[:] = scales * np.sqrt(norms)
        target = np.zeros((R.shape[0], C.shape[1]), dtype=C.dtype)
        target[:, :K] = Y * self._target_scale
        follow = self._follow if self.echo == "weight_average" else None
        for i in range(R.shape[0]):
            r = R[i]
            zd = r @ C
            if echo is not None:
                zd[K:] = echo[i]
            ZD[i] = zd
            ger(scales[i], r, zd @ mix + target[i], a=C, overwrite_a=1)
            if follow is not None:
                follow(None if w is None else w[i])

    def _follow(self, w=None):
        """The weight-average echo after an update of ``W``:
        ``Wbar += (W - Wbar) / td_timescale``; for a row of weight ``w``,
        ``w`` such steps: ``Wbar += (1 - (1 - 1 / td_timescale)^w) (W - Wbar)``."""
        Wbar = self.W_echo
        step = self.W - Wbar
        if w is None:
            step /= self.td_timescale
        else:
            step *= 1.0 - (1.0 - 1.0 / self.td_timescale) ** w
        Wbar += step

    def _update(self, r, y, d=None, w=None):
        """The update itself; returns ``([z, d], |gain|)`` before the update.

        ``d``: the row's echo when it is given (``echo="decision"``); ``w``:
        the row's weight (None: 1, see the class docstring).
        """
        if self._compiled() and w is None:
            zd = np.empty((1, self.coef_pair.shape[1]), dtype=self.coef_pair.dtype)
            gain_norm = np.empty(1)
            self._run_kernel(r[None], np.reshape(y, (1, -1)), zd, gain_norm,
                             echo=None if d is None else np.reshape(d, (1, -1)))
            return zd[0], gain_norm[0]
        K = self.n_outputs
        blas = _blas(self.coef_pair.dtype)
        zd = r @ self.coef_pair
        if d is not None:
            zd[K:] = d
        err = zd @ self.mix
        err[:K] += y * self._target_scale  # err = [delta, (z - d) / td_timescale]
        if self.rule == "rls":
            Pr = blas.symv(1.0, self.P, r, lower=1)
            v = 1.0 if w is None else w  # RLS on sqrt(w) r, sqrt(w) y
            denom = 1.0 + v * (r @ Pr)
            scale = v / denom
            blas.syr(-scale, Pr, lower=1, a=self.P, overwrite_a=1)
            gain = Pr
        else:
            gain = r
            scale = self.learning_rate / (r @ r)
            if w is not None:  # normalized: the weight multiplies the step
                scale *= w
        if self.feedback_split:
            pos, neg = split_error(err[:K])
            blas.ger(scale, gain, pos, a=self.W_pos, overwrite_a=1)
            blas.ger(scale, gain, neg, a=self.W_neg, overwrite_a=1)
            np.maximum(self.W_pos, 0.0, out=self.W_pos)
            np.maximum(self.W_neg, 0.0, out=self.W_neg)
            if self.mask is not None:
                self.W_pos *= self.mask
                self.W_neg *= self.mask
            np.subtract(self.W_pos, self.W_neg, out=self.coef_pair[:, :K])
            blas.ger(scale, gain, err[K:], a=self.coef_pair[:, K:], overwrite_a=1)
        else:
            blas.ger(scale, gain, err, a=self.coef_pair, overwrite_a=1)
            if self.mask is not None:
                self.coef_pair[:, :K] *= self.mask
        if self.echo == "weight_average":
            self._follow(w)
        return zd, scale * np.sqrt(gain @ gain)

    def ridge_pass(self, solver, Y, echo):
        """:meth:`restart` and one RLS pass toward fixed echo rows, in closed form.

        With the echo ``D`` held fixed (``echo="decision"``) and ``td_sign = 1``
        (or ``td_gain == 0``), every row's bounded stabilized error is ``s_i -
        z_i`` with the fixed stabilized target ``s = (y + td_gain d) / (1 +
        td_gain)``, so an RLS pass from ``W = 0``, ``P0 = I / rls_alpha`` ends,
        in any row order, at the ridge solution toward ``S`` with ``P = (R^T R
        + rls_alpha I)^{-1}``: this method sets both directly (equal to the
        per-row pass up to rounding; tested).

        Built with row weights, the solver makes the pass the weighted RLS
        pass (see the class docstring): weighted ridge, with ``P = (R^T
        diag(w) R + rls_alpha I)^{-1}``, and weighted diagnostics.

        Parameters
        ----------
        solver : :class:`~sklearn_itds._ridge.RidgeSolver`
            Built on the rows ``R`` (n_rows, n_inputs), with their weights if any.
        Y, echo : ndarray of shape (n_rows, n_outputs)
            Targets and echo rows, in the order of ``R``.

        Returns
        -------
        Z : ndarray of shape (n_rows, n_outputs)
            Each row's leave-one-out output (the fit on the other rows):
            what stands for the a-priori outputs in the diagnostics.
        """
        K = self.n_outputs
        if not self.ridge_pass_applies():
            raise ValueError("ridge_pass needs rule='rls' with td_sign=1 (or td_gain=0), "
                             "no feedback_split and no mask")
        lam = self.mix[K, 0]
        Y = np.asarray(Y, dtype=np.float64)
        S = Y * self._target_scale + lam * echo  # err = S - z (rule_matrix)
        W = solver.coef(S, self.rls_alpha)
        Z = solver.loo_outputs(S, self.rls_alpha)
        w = None if np.all(solver.weight == 1.0) else solver.weight
        # weight_change: W's change over the call, per row (per unit of weight)
        change = np.linalg.norm(W - self.W) / (len(Y) if w is None else w.sum())
        self.coef_pair[...] = 0.0
        self.coef_pair[:, :K] = W
        self.P[...] = solver.inverse(self.rls_alpha)
        _, e_sup, e_td = stabilized_error(Y, Z, echo, self.td_gain, bounded=True)
        self.history.record(e_sup, e_td, np.full(len(Y), change), sample_weight=w)
        self._watch(solver.R[-_WATCHED_ROWS:].astype(self.coef_pair.dtype), Y)
        return Z

    def ridge_pass_applies(self):
        """True when :meth:`ridge_pass` applies: RLS, no split, no mask, and
        the readout's own output enters ``delta`` as ``-z`` (``td_sign = 1``
        or ``td_gain == 0``)."""
        return (self.rule == "rls" and not self.feedback_split and self.mask is None
                and self.mix[0, 0] == -1.0)

    def _blockable(self):
        """True when ``_rls_block`` applies: RLS, float64, no split, no mask."""
        return (self.rule == "rls" and not self.feedback_split and self.mask is None
                and self.coef_pair.dtype == np.float64)

    def _rls_block(self, R, Y, ZD, gain_norms, echo=None, w=None):
        """The per-row RLS updates of the rows of ``R`` at once, exactly
        (:func:`~sklearn_itds._blocked.rls_block`); False, changing nothing,
        when the block's system is not numerically positive definite."""
        return rls_block(self.P, self.coef_pair, self.mix, self._target_scale, R, Y,
                         ZD, gain_norms, echo=echo, w=w,
                         average=self.td_timescale if self.echo == "weight_average"
                         else None)

    def _record(self, ZD, Y, gain_norms, w=None):
        K = self.n_outputs
        delta, e_sup, e_td = stabilized_error(Y, ZD[:, :K], ZD[:, K:], self.td_gain,
                                              bounded=True, td_sign=self.td_sign)
        change = gain_norms * np.linalg.norm(delta, axis=1)
        if w is not None:  # per unit of weight: the weighted mean is sum(change) / sum(w)
            change = np.divide(change, w, out=np.zeros_like(change), where=w > 0)
        self.history.record(e_sup, e_td, change, sample_weight=w)

    def _watch(self, R, Y):
        """Track the current weights' outputs on rows ``R`` against the targets."""
        if len(R):
            # The echo steers learning only when td_gain > 0; with td_gain == 0
            # it is a diagnostic, and an under-relaxed RLS echo may wander.
            post = R @ (self.coef_pair if self.td_gain > 0 else self.W)
            with np.errstate(invalid="ignore"):
                self._peak_output = max(self._peak_output, float(np.abs(post).max()))
            self._peak_target = max(self._peak_target, float(np.abs(Y).max()))

    def flush(self):
        """Move the errors buffered by :meth:`update` into :attr:`history`."""
        if self._buffer:
            ZD, Y, gain_norms, w = zip(*self._buffer)
            ZD, Y, gain_norms = np.asarray(ZD), np.asarray(Y), np.asarray(gain_norms)
            w = None if all(v is None for v in w) else np.array(
                [1.0 if v is None else v for v in w])
            self._account(ZD, Y, gain_norms, self._last_row, w)
            self._buffer = []
            self._last_row = None

    # -- diagnostics -----------------------------------------------------------------
    def step_norms(self, R, Y):
        """Size of the update each row *would* cause, without applying it.

        For each row ``r`` of ``R`` and target ``y`` of ``Y``, from the current
        state, returns the Frobenius norm of the readout update
        ``step(delta, r) = scale * outer(gain(r), delta)`` with the stabilized
        error ``delta = (y - z) + td_sign td_gain (d - z)``::

            LMS:  learning_rate * |r| |delta| / |r|^2
            RLS:  |P r| / (1 + r^T P r) * |delta|

        (divided by ``1 + td_gain``: the readout's bounded form). For the
        decision echo, a row's echo is the readout's present decision on it.
        Nothing is changed (neither ``W``, ``Wbar`` nor ``P``). With
        ``td_gain == 0`` this is the size of the plain supervised update. With
        ``feedback_split`` or a mask it is the size of the update *before*
        clipping/masking (the rule's step, not the net weight change).

        Parameters
        ----------
        R : ndarray of shape (n_samples, n_inputs)
            Presynaptic rows, each ending with the constant 1.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets.

        Returns
        -------
        norms : ndarray of shape (n_samples,)
        """
        K = self.n_outputs
        ZD = R @ self.coef_pair
        if self.echo == "decision":  # the echo of a new row: the present decision
            ZD[:, K:] = DecisionEcho.decisions(ZD[:, :K])
        delta, _, _ = stabilized_error(Y, ZD[:, :K], ZD[:, K:], self.td_gain,
                                       bounded=True, td_sign=self.td_sign)
        delta_norm = np.linalg.norm(delta, axis=1)
        if self.rule == "rls":
            blas = _blas(self.coef_pair.dtype)
            gain_norm = np.empty(R.shape[0])
            for i, r in enumerate(R):
                Pr = blas.symv(1.0, self.P, r, lower=1)  # reads P only
                gain_norm[i] = np.sqrt(Pr @ Pr) / (1.0 + r @ Pr)
        else:
            gain_norm = self.learning_rate / np.linalg.norm(R, axis=1)
        return gain_norm * delta_norm

    # -- numerical health ----------------------------------------------------------
    def _learned(self):
        names = ["coef_pair"] + (["W_pos", "W_neg"] if self.feedback_split else [])
        return names + (["P"] if self.rule == "rls" else [])

    def is_finite(self):
        """True when every learned array and the open epoch's errors are finite."""
        return self.history.is_finite() and all(
            np.isfinite(getattr(self, name)).all() for name in self._learned())

    def diverged(self):
        """True when the open epoch blew up, to non-finite or to runaway values.

        Runaway: after a block of updates of the open epoch, the output (and,
        when ``td_gain > 0``, the echo) of the current weights on the block's last rows exceeded
        :data:`RUNAWAY_FACTOR` times the largest target magnitude seen in the
        epoch. A readout trained toward its targets stays within a small
        multiple of them; one a thousand times larger has diverged even while
        finite.
        """
        runaway = self._peak_output > RUNAWAY_FACTOR * self._peak_target
        return runaway or not self.is_finite()

    def end_epoch(self):
        """Close the open epoch's diagnostics and its runaway watch."""
        self.history.end_epoch()
        self._peak_output = self._peak_target = 0.0

    def snapshot(self):
        """A copy of the learned arrays, for :meth:`restore`."""
        return {name: getattr(self, name).copy(order="K") for name in self._learned()}

    def checkpoint(self):
        """Everything an update changes, for :meth:`rollback` (an interrupted call).

        Unlike :meth:`snapshot` (the start of an epoch), this also keeps the
        diagnostics and the errors buffered by :meth:`update` and not flushed.
        """
        return (self.snapshot(), self.history.checkpoint(), list(self._buffer),
                self._last_row, self._peak_output, self._peak_target)

    def rollback(self, token):
        """Go back to a :meth:`checkpoint`."""
        arrays, history, buffer, last_row, peak_output, peak_target = token
        for name, value in arrays.items():
            getattr(self, name)[...] = value
        self.history.rollback(history)
        self._buffer = list(buffer)
        self._last_row = last_row
        self._peak_output, self._peak_target = peak_output, peak_target

    def restore(self, snapshot):
        """Go back to a :meth:`snapshot`, discarding the open epoch's diagnostics."""
        for name, value in snapshot.items():
            getattr(self, name)[...] = value
        self._buffer = []
        self._last_row = None
        self.history.discard_epoch()
        self._peak_output = self._peak_target = 0.0


class DecisionEcho:
    """The decision echo: each training sample's running average of the
    readout's past decisions on it (``echo="decision"``, classifiers).

    The readout's outputs on the training samples are one-hot targets; its
    *decision* on a sample is the one-hot vector of its largest output. The
    echo ``D`` (one row per training sample) starts at the targets and, after
    every pass of ``fit``, moves toward the decisions of the readout as the
    pass left it::

        D <- D + (onehot(argmax z) - D) / td_timescale

    During the next pass a sample's row of ``D`` is its echo ``d``, held
    fixed, and the readout learns from the bounded stabilized error
    ``delta = (e_sup + td_sign td_gain (d - z)) / (1 + td_gain)`` (see the
    module docstring) with ``e_sup = y - z``. With ``td_sign = 1`` this is
    ``s - z`` with the stabilized target ``s = (y + td_gain d) / (1 +
    td_gain)``: where the readout's own past decision contradicts a label,
    the target leans toward the decision. The first pass learns from ``d =
    y``, i.e. plainly; with ``td_gain == 0`` every pass does, bit for bit.

    Unlike the readout echoes, ``D`` is not a function of the features: it is
    a memory of the training samples, so it exists for ``fit``'s passes only.
    Samples seen for the first time (a ``partial_fit`` call's) have no past
    decisions: their echo is their targets, and they are learned plainly.
    :meth:`decisions` serves the diagnostics that probe a sample's step as
    the readout now stands (``ITDSReadout.step_norms``).

    Parameters
    ----------
    targets : ndarray of shape (n_samples, n_outputs)
        One-hot targets of the training samples, in their order.
    td_timescale : float
        Passes over which the echo averages the decisions (>= 1: 1 keeps the
        last pass's decisions only).
    """

    def __init__(self, targets, td_timescale):
        self.D = np.array(targets, dtype=np.float64)
        self.td_timescale = td_timescale

    @staticmethod
    def decisions(Z):
        """One-hot rows of the largest output of each row of ``Z``."""
        hot = np.zeros(Z.shape, dtype=Z.dtype)
        hot[np.arange(Z.shape[0]), np.argmax(Z, axis=1)] = 1.0
        return hot

    def update(self, Z):
        """After a pass: ``Z`` are the readout's outputs on the training samples."""
        self.D += (self.decisions(Z) - self.D) / self.td_timescale


def rule_matrix(n_outputs, td_gain, td_timescale, td_sign=1, echo="learned"):
    """The bounded iTDS rule as a linear map.

    ``[delta, echo_err] = [y / (1 + td_gain), 0] + [z, d] @ M`` with the
    bounded stabilized error ``delta = (y - z + td_gain (d - z)) / (1 +
    td_gain)`` and ``echo_err = (z - d) / td_timescale``; writing ``lam =
    td_gain / (1 + td_gain)``::

        M = [[   -I,  I / td_timescale],
             [lam I, -I / td_timescale]]

    With ``td_sign=-1``, ``delta = (y - z - td_gain (d - z)) / (1 +
    td_gain)``: the first block column is ``[-(1 - td_gain) / (1 + td_gain)
    I, -lam I]``. For every echo but "learned" the second block column is
    zero: the weight average follows ``W`` instead (``ITDSReadout._follow``),
    and the decision echo's rows are given, not learned.

    With ``td_gain == 0`` the first block column is ``[-I, 0]`` and the target
    is divided by 1, so ``delta = y - z`` exactly, for either sign.
    """
    eye = np.eye(n_outputs)
    inv_t = 1.0 / td_timescale if echo == "learned" else 0.0  # others: no Wbar learning
    lam = td_gain / (1.0 + td_gain)
    own = -1.0
    if td_sign == -1 and td_gain != 0:
        own, lam = -(1.0 - td_gain) / (1.0 + td_gain), -lam
    return np.block([[own * eye, inv_t * eye],
                     [lam * eye, -inv_t * eye]])


@lru_cache(maxsize=None)
def _blas(dtype):
    funcs = get_blas_funcs(("symv", "syr", "ger"), dtype=dtype)
    return SimpleNamespace(symv=funcs[0], syr=funcs[1], ger=funcs[2])


class SoftmaxEcho:
    """The echo readout of a softmax output layer trained by cross-entropy.

    The fast output layer produces probabilities ``p = softmax(H W + b)``; the
    echo produces ``p_echo = softmax(H Wbar + bbar)``. :meth:`gradients` returns
    the gradient on the fast logits, ``-delta = (p - y) + td_gain (p - p_echo)``
    (cross-entropy against the soft target ``(y + td_gain p_echo)/(1+td_gain)``,
    scaled by ``1 + td_gain``), and the cross-entropy gradient that teaches the
    echo to reproduce ``p``. The caller applies the echo gradient with the same
    optimizer as the network, ``td_timescale`` times slower.

    ``td_sign=-1`` flips the top-down term: ``-delta = (p - y) - td_gain (p -
    p_echo)``. With ``echo="weight_average"`` the echo has no gradient
    (:meth:`params` is empty, :meth:`gradients` returns ``()`` for it) and
    the caller calls :meth:`follow` with the output layer after every
    optimizer step: ``Wbar += (W - Wbar) / td_timescale``, likewise ``bbar``.

    With ``out_activation="logistic"`` (independent sigmoid outputs trained by
    binary cross-entropy: a binary problem's single unit, or each label of a
    multilabel problem) the same formulas hold unit by unit, with
    ``p = expit(H W + b)`` and ``p_echo = expit(H Wbar + bbar)``.
    """

    echo = "learned"  # class-level defaults, as ITDSReadout's
    td_sign = 1

    def __init__(self, coef, intercept, td_gain, td_timescale=1.0,
                 out_activation="softmax", echo="learned", td_sign=1):
        self.coef = coef.copy()
        self.intercept = intercept.copy()
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.out_activation = out_activation
        self.echo = echo
        self.td_sign = td_sign

    def params(self):
        """The arrays an optimizer trains: the echo's, unless it is a weight average."""
        return [self.coef, self.intercept] if self.echo == "learned" else []

    def follow(self, coef, intercept):
        """After an optimizer step of the output layer ``(coef, intercept)``: the
        weight-average echo moves ``1 / td_timescale`` of the way to it (a
        no-op for the learned echo)."""
        if self.echo == "weight_average":
            for mine, fast in ((self.coef, coef), (self.intercept, intercept)):
                step = fast - mine
                step /= self.td_timescale
                mine += step

    def learning_rate(self, network_learning_rate):
        """The echo's step size: ``td_timescale`` times smaller than the network's."""
        return network_learning_rate / self.td_timescale

    def probabilities(self, H):
        """Echo probabilities ``softmax(H Wbar + bbar)`` (or the logistic of it)."""
        Z = H @ self.coef + self.intercept
        if self.out_activation == "logistic":
            return expit(Z, out=Z)
        return softmax(Z)

    def gradients(self, H, Y, P, sample_weight=None):
        """Return ``(grad_logits, (grad_coef, grad_intercept), e_sup, e_td)``.

        Gradients are averaged over the batch (rows of ``H``), weighted by
        ``sample_weight`` when given: each row's error is multiplied by its
        weight and the sum divided by the total weight, for the fast output
        and for the echo alike (as scikit-learn weights its MLP loss). The
        echo's gradients are ``()`` for the weight-average echo.
        """
        P_echo = self.probabilities(H)
        delta, e_sup, e_td = stabilized_error(Y, P, P_echo, self.td_gain,
                                              td_sign=self.td_sign)
        learned = self.echo == "learned"
        if sample_weight is None:
            n = H.shape[0]
            grad_logits = delta / -n
            # gradient of CE(p_echo; soft target p)
            echo_err = (P_echo - P) / n if learned else None
        else:
            scale = (sample_weight / np.sum(sample_weight))[:, None]
            grad_logits = delta * -scale
            echo_err = (P_echo - P) * scale if learned else None
        if not learned:
            return grad_logits, (), e_sup, e_td
        return grad_logits, (H.T @ echo_err, echo_err.sum(axis=0)), e_sup, e_td

    def step_norms(self, H, Y, P, learning_rate):
        """Per-sample size of the output-layer step; see :func:`softmax_step_norms`."""
        return softmax_step_norms(H, Y, P, self.probabilities(H), self.td_gain,
                                  learning_rate, self.td_sign)


def echo_logit_rows(Y, P, P_echo, scale, td_gain, td_sign, learned, G, G_echo,
                    E_sup, E_td):
    """:meth:`SoftmaxEcho.gradients` on the logits, element by element.

    The same arithmetic, in the same order, written as loops so that a
    compiled minibatch kernel (``sklearn_itds._mlp_kernels``) can use it;
    plain Python runs it too. Writes ``E_sup = y - p``, ``E_td = p_echo - p``,
    the gradient on the fast logits ``G = -delta / n`` and, when ``learned``,
    the echo's ``G_echo = (p_echo - p) / n``. ``scale`` is ``[n]`` for
    unweighted rows, or one factor ``w_i / sum(w)`` per row, which then
    multiplies instead of ``1 / n``.
    """
    unweighted = scale.shape[0] == 1
    for i in range(P.shape[0]):
        s = scale[0] if unweighted else scale[i]
        for k in range(P.shape[1]):
            e_sup = Y[i, k] - P[i, k]
            e_td = P_echo[i, k] - P[i, k]
            if td_gain == 0:
                delta = e_sup
            elif td_sign == -1:
                delta = e_sup - td_gain * e_td
            else:
                delta = e_sup + td_gain * e_td
            E_sup[i, k] = e_sup
            E_td[i, k] = e_td
            if unweighted:
                G[i, k] = delta / -s
                if learned:
                    G_echo[i, k] = e_td / s
            else:
                G[i, k] = delta * -s
                if learned:
                    G_echo[i, k] = e_td * s


def follow_weight_average(echo, fast, td_timescale):
    """:meth:`SoftmaxEcho.follow` on one flat array, element by element:
    ``echo += (fast - echo) / td_timescale`` (for compiled kernels)."""
    for j in range(echo.shape[0]):
        echo[j] += (fast[j] - echo[j]) / td_timescale


def softmax_step_norms(H, Y, P, P_echo, td_gain, learning_rate, td_sign=1):
    """Size of each sample's output-layer gradient step, without applying it.

    For a softmax output layer (weights and bias) on hidden activity ``h``,
    one sample's plain gradient step is ``learning_rate * outer([h, 1],
    delta)`` with ``delta = (y - p) + td_sign td_gain (p_echo - p)``; its Frobenius
    norm is ``learning_rate * |[h, 1]| * |delta|``. With ``td_gain == 0`` this
    is the size of the plain cross-entropy step. (With adaptive optimizers
    such as Adam the actual step differs; this is the plain-SGD step.)

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_hidden)
    Y : ndarray of shape (n_samples, n_classes)
        One-hot targets.
    P, P_echo : ndarray of shape (n_samples, n_classes)
        Class probabilities of the readout and of the echo.
    td_gain, learning_rate : float
    td_sign : {1, -1}, default=1

    Returns
    -------
    norms : ndarray of shape (n_samples,)
    """
    delta, _, _ = stabilized_error(Y, P, P_echo, td_gain, td_sign=td_sign)
    return output_step_norms(H, np.linalg.norm(delta, axis=1), learning_rate)


def squared_row_norms(H):
    """``|h|^2`` per row of ``H`` (dense, or sparse: the input itself when
    the network has no hidden layer)."""
    if hasattr(H, "multiply"):
        return np.asarray(H.multiply(H).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", H, H)


def output_step_norms(H, delta_norms, learning_rate, h_sq=None):
    """``learning_rate * |[h, 1]| * |delta|`` per sample: the norm of the
    output-layer step ``learning_rate * outer([h, 1], delta)``. ``h_sq``: the
    :func:`squared_row_norms` of ``H`` when already known (``H`` unused)."""
    if h_sq is None:
        h_sq = squared_row_norms(H)
    return learning_rate * np.sqrt(h_sq + 1.0) * delta_norms


def softmax(Z):
    """Row-wise softmax, stable for large logits."""
    Z = Z - Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def _no_echo_rows(n_outputs, dtype):
    """The empty ``D`` of :func:`_readout_rows`: no given echo rows."""
    return np.empty((0, n_outputs), dtype=dtype)


@_jit.kernel
def _readout_rows(R, Y, learn, ZD, gain_norms, C, P, mix, rls, target_scale, lms_rate,
                  follow_tau, blas, D):
    """Compiled per-row updates: ``ITDSReadout._update`` for each row of ``R``.

    For each row ``r = R[i]`` (``C = [W | Wbar]`` and ``P`` as they are then)::

        [z, d] = r C                                      (into ZD[i])
        err    = [z, d] @ mix + [Y[i] * target_scale, 0]
        RLS (rls True):       q = P r (symv), denom = 1 + r.q,
                              P -= q q^T / denom (syr), gain = q, scale = 1 / denom
        LMS:                  gain = r, scale = lms_rate / (r.r)
        C += scale * outer(gain, err)                     (ger)
        Wbar += (W - Wbar) / follow_tau                   (follow_tau > 0: the
                                                           weight-average echo)

    and ``gain_norms[i] = scale |gain|``. Rows with ``learn[i]`` False only get
    ``ZD[i]`` (the current weights' outputs). ``D`` (n, K): given echo rows
    (``echo="decision"``) that replace ``d``; empty (0 rows): none. ``R`` is C-contiguous, ``C``
    and ``P`` Fortran-ordered (only the lower triangle of ``P`` is used);
    ``blas`` holds the addresses of ``symv``, ``syr`` and ``ger`` for their
    dtype (``sklearn_itds._jit.blas_table``). No sign split, no mask.
    """
    n, m = R.shape
    K2 = C.shape[1]
    K = K2 // 2
    dtype = C.dtype
    zd = np.empty(K2, dtype=dtype)
    err = np.empty(K2, dtype=dtype)
    q = np.empty(m, dtype=dtype)
    scalars = np.zeros(3, dtype=dtype)  # alpha, beta, syr's alpha for BLAS
    ints = np.empty(4, dtype=np.int32)  # m, 1, 2K, 'L'
    ints[0], ints[1], ints[2], ints[3] = m, 1, K2, 76
    size, one, width, lower = (ints.ctypes.data, ints[1:].ctypes.data,
                               ints[2:].ctypes.data, ints[3:].ctypes.data)
    for i in range(n):
        r = R[i]
        zd[:] = 0.0
        for j in range(m):  # each column summed in order, the columns side by side
            rj = r[j]
            for c in range(K2):
                zd[c] += rj * C[j, c]
        if D.shape[0]:
            for c in range(K):
                zd[K + c] = D[i, c]
        for c in range(K2):
            ZD[i, c] = zd[c]
        if not learn[i]:
            continue
        for c in range(K2):
            s = 0.0
            for j in range(K2):
                s += zd[j] * mix[j, c]
            if c < K:
                s = s + Y[i, c] * target_scale
            err[c] = s
        if rls:
            scalars[0], scalars[1] = 1.0, 0.0
            blas_call(blas[0], lower, size, scalars.ctypes.data, P.ctypes.data, size,  # noqa: F821
                   r.ctypes.data, one, scalars[1:].ctypes.data, q.ctypes.data, one)
            rq = 0.0
            for j in range(m):
                rq += r[j] * q[j]
            denom = 1.0 + rq
            scalars[2] = -1.0 / denom
            blas_call(blas[1], lower, size, scalars[2:].ctypes.data, q.ctypes.data, one,  # noqa: F821
                  P.ctypes.data, size)
            scale = 1.0 / denom
            gain = q
        else:
            rr = 0.0
            for j in range(m):
                rr += r[j] * r[j]
            scale = lms_rate / rr
            gain = r
        scalars[0] = scale
        blas_call(blas[2], size, width, scalars.ctypes.data, gain.ctypes.data, one,  # noqa: F821
              err.ctypes.data, one, C.ctypes.data, size)
        if follow_tau > 0.0:
            for c in range(K):
                for j in range(m):
                    step = C[j, c] - C[j, K + c]
                    step /= follow_tau
                    C[j, K + c] += step
        gg = 0.0
        for j in range(m):
            gg += gain[j] * gain[j]
        gain_norms[i] = scale * np.sqrt(gg)
