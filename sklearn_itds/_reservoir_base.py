"""What the two reservoir estimators share: checks, construction and features.

- :class:`ReservoirMixin`: parameter checks, building ``reservoir_`` and
  ``readout_``, closing an epoch's diagnostics;
- :class:`TrialEncoder` (with :class:`InputScaler`): trials (static samples or
  sequences) to readout rows, for the classifier and the regressor's
  ``mode="samples"``;
- :func:`run_sequence`: one series, step by step, learning online as it goes
  (the regressor's ``mode="sequential"``).

The estimators keep their constructor arguments untouched; everything built
here goes into trailing-underscore attributes.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import numpy as np
from joblib import cpu_count
from scipy import sparse
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches
from sklearn.utils.sparsefuncs import mean_variance_axis

from . import _fused
from ._itds import ITDSReadout, make_sparsity_mask
from ._representations import from_summary, n_features, reverse_trials, trial_features
from ._reservoir import Reservoir, spawn_streams
from ._ridge import RidgeSolver, loo_alpha
from ._threads import single_blas_thread
from ._validation import (
    COMMON,
    RESERVOIR,
    check_auto,
    check_bool,
    check_echo,
    check_option,
    check_params,
    check_random_state_param,
    check_unchanged_params,
    fitted_params,
    warn_divergence,
)

__all__ = ["InputScaler", "ReservoirMixin", "TrialEncoder", "readout_width", "run_sequence"]

_LEARNING_RULES = ("lms", "rls")
_SEQ_CHUNK = 1024  # time steps whose input drive is computed together
STATES_AHEAD = True  # compute the next chunk's states in a worker thread (_states_ahead)
_PASS_BLOCK = 1024  # readout updates between two divergence checks (trial passes)


class ReservoirMixin:
    """Parameter checks and reservoir/readout construction.

    The parameters a model is built with are recorded in ``_fitted_params``
    when it is built; prediction reads those (a parameter changed with
    ``set_params`` takes effect at the next ``fit``) and ``partial_fit``
    refuses to continue a model whose parameters were changed, except the
    ones in ``_LIVE_PARAMS``, which only ``fit`` reads.
    """

    _LIVE_PARAMS = ("max_iter", "shuffle", "verbose", "random_state")
    _ECHO_READINGS = ("learned", "weight_average")  # see check_echo

    def _check_continued(self):
        """Raise if a parameter of the fitted model was changed since its fit."""
        check_unchanged_params(self, self._fitted_params, self._LIVE_PARAMS)

    def _check_reservoir_params(self, extra=None):
        specs = {**COMMON, **RESERVOIR, **(extra or {})}
        check_auto(self, "rls_alpha", specs)  # "auto": see _rls_alpha
        check_params(self, specs)
        check_option(self.learning_rule, "learning_rule", _LEARNING_RULES)
        check_bool(self.feedback_split, "feedback_split")
        check_echo(self, self._ECHO_READINGS)
        check_random_state_param(self.random_state)
        check_dtype(self.dtype)

    def _build(self, n_inputs, n_outputs, n_feedback=0, n_readout=None):
        """Set ``reservoir_`` and ``readout_`` and return the shuffle stream.

        ``random_state`` is split into independent streams for the reservoir,
        the readout mask and the sample order. The readout reads ``n_readout``
        inputs (default: the reservoir state and the bias, ``n_reservoir + 1``).
        """
        self._fitted_params = fitted_params(self, self._LIVE_PARAMS)
        res_rng, mask_rng, order_rng = spawn_streams(self.random_state, 3)
        dtype = check_dtype(self.dtype)
        self.reservoir_ = Reservoir(
            n_inputs,
            self.n_reservoir,
            spectral_radius=self.spectral_radius,
            density=self.density,
            leak_rate=self.leak_rate,
            input_scaling=self.input_scaling,
            bias_scaling=self.bias_scaling,
            n_feedback=n_feedback,
            feedback_scaling=getattr(self, "feedback_scaling", 1.0),
            random_state=res_rng,
            dtype=dtype,
        )
        shape = (self.n_reservoir + 1 if n_readout is None else n_readout, n_outputs)
        alpha = self._rls_alpha()
        self.readout_ = ITDSReadout(
            *shape,
            rule=self.learning_rule,
            learning_rate=self.learning_rate_init,
            rls_alpha=alpha if alpha is not None else 1.0,  # None: see _fit_penalty
            td_gain=self.td_gain,
            td_timescale=self.td_timescale,
            echo=self.echo,
            td_sign=self.td_sign,
            feedback_split=self.feedback_split,
            mask=make_sparsity_mask(shape, self.readout_sparsity, mask_rng),
            dtype=dtype,
        )
        # the penalty in use (None: LMS, or "auto" still to be chosen by
        # _fit_penalty from the data)
        self.rls_alpha_ = alpha if self.learning_rule == "rls" else None
        # no epoch yet (and none if the first diverges): empty, but present
        self.td_history_ = self.readout_.history.as_dict()
        self.loss_curve_ = []
        return order_rng

    def _rls_alpha(self):
        """The RLS prior to use (an estimator may resolve an "auto" default), or
        None: chosen from the training rows by :meth:`_fit_penalty`."""
        return self.rls_alpha

    def _fit_penalty(self, rows, targets, solver=None, sample_weight=None):
        """Set ``rls_alpha_``, choosing it by leave-one-out if needed.

        When :meth:`_rls_alpha` is None (``rls_alpha="auto"`` where the
        estimator chooses it from the data), the penalty with the least exact
        leave-one-out error of ridge toward ``targets`` on ``rows`` (see
        :mod:`sklearn_itds._ridge`; ``solver``, a ``RidgeSolver`` of the rows
        if one was built, with the weights) becomes the RLS prior of the
        readout, which has not learned yet; with ``sample_weight`` the fits
        and their leave-one-out errors are weighted. ``rls_alpha_`` is None
        with LMS (unused).
        """
        alpha = self._rls_alpha()
        if self.learning_rule != "rls":
            alpha = None
        elif alpha is None:
            if solver is None:
                solver = RidgeSolver(rows, sample_weight)
            alpha = loo_alpha(solver, targets)
            self.readout_.set_prior(alpha)
        self.rls_alpha_ = alpha

    def _trial_pass(self, rows, targets, order, echo=None, restart=False, solver=None,
                    sample_weight=None):
        """One pass of readout updates over ``rows[order]``.

        ``sample_weight``: the rows' weights, in the order of ``rows`` (a
        ``solver`` carries its own).

        ``echo``: the echo rows in the order of ``rows`` (``echo="decision"``);
        with ``restart`` the readout starts the pass afresh
        (:meth:`ITDSReadout.restart`), and with a ``solver`` (a
        :class:`~sklearn_itds._ridge.RidgeSolver` of ``rows``) it does so in
        closed form (:meth:`ITDSReadout.ridge_pass`; the order is then
        immaterial). The updates run in blocks of ``_PASS_BLOCK`` rows with a
        divergence check after each; a diverged pass is undone (the readout
        goes back to its state at the start of the pass, before any restart)
        and warned about. Returns the a-priori outputs (leave-one-out outputs
        for a closed-form pass) in ``order``, or None when the pass diverged.
        """
        readout = self.readout_
        snapshot = readout.snapshot()
        if solver is not None:
            Z = readout.ridge_pass(solver, targets, echo)[order]
            diverged = readout.diverged()
        else:
            if restart:
                readout.restart()
            Z = np.empty((len(order), targets.shape[1]))
            diverged = False
            for block in gen_batches(len(order), _PASS_BLOCK):
                idx = order[block]
                Z[block] = readout.partial_fit(
                    rows[idx], targets[idx], None if echo is None else echo[idx],
                    None if sample_weight is None else sample_weight[idx])
                if readout.diverged():
                    diverged = True
                    break
        if diverged:
            readout.restore(snapshot)
            warn_divergence(self, self.n_iter_, "Lower learning_rate_init or td_gain, "
                            "or raise rls_alpha.")
            return None
        self._end_epoch(self.n_iter_ + 1)
        self.n_iter_ += 1
        return Z

    def _end_epoch(self, epoch):
        """Close the epoch's diagnostics and print progress when verbose."""
        history = self.readout_.history
        self.readout_.end_epoch()
        self.td_history_ = history.as_dict()
        self.loss_curve_ = list(self.td_history_["loss"])
        if self.verbose:
            print(f"Iteration {epoch}, loss = {self.loss_curve_[-1]:.8f}, "
                  f"{history.describe_last()}")


def check_dtype(dtype):
    """The numpy dtype named by ``dtype``; float32 and float64 only."""
    if dtype is None:  # np.dtype(None) would silently be float64
        raise TypeError("dtype=None is not supported; use np.float64 (default) or "
                        "np.float32 (or their names).")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be np.float64 or np.float32 (or their names), "
                        f"got {dtype!r}.") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype={dtype!r} is not supported; use np.float64 "
                         f"(default) or np.float32.")
    return dt


class TrialEncoder:
    """Trials to readout rows ``[features, 1]``: what a trial-based readout reads.

    The steps, in order: the inputs are scaled with the training data's
    statistics (``scale_inputs``, see :class:`InputScaler`); the reservoir runs each trial from the zero state (a static
    sample is held for ``n_steps`` steps); the trajectory becomes one feature
    row by the chosen representation (:mod:`sklearn_itds._representations`),
    backwards as well when ``bidirectional``, with the same representation
    of the (scaled) input appended when ``input_to_readout``. With
    ``instance_norm`` the reservoir reads each sample normalized by its own
    statistics and its features are multiplied by the sample's spread (see
    :func:`instance_normalize`; the readout's copy of the input is not
    normalized). Finally every
    feature is standardized with the training rows' statistics and the
    constant 1 of the readout's bias is appended.

    The statistics are learned by :meth:`fit` and fixed afterwards.
    """

    _BUDGET = 1 << 22  # values held per chunk of trials: 32 MiB in float64

    def __init__(self, reservoir, *, n_steps, representation, bidirectional,
                 input_to_readout, scale_inputs, instance_norm=False):
        self.reservoir = reservoir
        self.instance_norm = instance_norm
        self.n_steps = n_steps
        self.representation = representation
        self.bidirectional = bidirectional
        self.input_to_readout = input_to_readout
        self.scale_inputs = scale_inputs

    def fit(self, trials, sample_weight=None):
        """Learn the input and feature statistics; returns the training rows.

        With ``sample_weight`` (one per trial) both are weighted: every time
        step of a trial counts with the trial's weight, so a trial of weight 0
        takes no part and one of integer weight ``k`` counts as ``k`` copies.
        """
        U, w = trials.U, sample_weight
        self.input_scaler_ = None
        if self.scale_inputs:
            if U.ndim == 3 and w is not None:
                w = np.repeat(w, U.shape[1] if trials.lengths is None else trials.lengths)
            self.input_scaler_ = InputScaler().fit(
                U if U.ndim == 2 else _valid_steps(U, trials.lengths), w)
        F = self._features(trials)
        self.feature_scaler_ = StandardScaler().fit(F, sample_weight=sample_weight)
        return self._rows(F)

    def transform(self, trials):
        """Readout rows ``(n_samples, n_readout_inputs)`` for validated trials."""
        return self._rows(self._features(trials))

    def _rows(self, F):
        dtype = self.reservoir.W.dtype
        rows = np.empty((F.shape[0], F.shape[1] + 1), dtype=dtype)
        rows[:, :-1] = self.feature_scaler_.transform(F)
        rows[:, -1] = 1.0
        return rows

    def _features(self, trials):
        U, lengths = trials.U, trials.lengths
        n = U.shape[0]
        T = U.shape[1] if U.ndim == 3 else self.n_steps
        order = np.arange(n) if lengths is None else np.argsort(lengths, kind="stable")
        # Memory per trial: its input steps and a few state vectors (the
        # trajectory itself is reduced on the fly, see Reservoir.trial_summary).
        width = U.shape[-1] if U.ndim == 3 else 0
        per_trial = T * width + 4 * self.reservoir.n_reservoir
        batch = int(np.clip(self._BUDGET // per_trial, 1, 1024))
        threads = self._n_threads(n)
        if threads > 1:  # at least one chunk per thread
            batch = min(batch, -(-n // threads))
        chunks = [order[c] for c in gen_batches(n, batch)]

        def features(idx):
            return idx, self._chunk_features(U[idx], None if lengths is None else lengths[idx])

        if threads > 1:
            # scipy's sparse products release the GIL: trials are independent,
            # so chunks run in threads give the serial features bit for bit.
            with single_blas_thread(), ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(features, chunks))
        else:
            results = map(features, chunks)
        out = None
        for idx, F in results:
            if out is None:
                out = np.empty((n, F.shape[1]), dtype=F.dtype)
            out[idx] = F
        return out

    _MAX_THREADS = 4  # threads for the reservoir runs of a large batch of trials
    _MIN_PER_THREAD = 32  # trials below which one thread does it all

    def _n_threads(self, n):
        """Threads for ``n`` trials: several only on the sparse-product path."""
        if self.reservoir._sparse_W_T() is None or n < 2 * self._MIN_PER_THREAD:
            return 1
        return int(min(self._MAX_THREADS, cpu_count(only_physical_cores=False),
                       n // self._MIN_PER_THREAD))

    def _chunk_features(self, U, lengths):
        if lengths is not None:
            U = U[:, :lengths.max()]  # the chunk's own longest trial
        shift = None  # a centring still to apply: sparse input stays sparse
        if self.input_scaler_ is not None:
            U, shift = self.input_scaler_.transform_parts(U)
        if shift is not None and (self.instance_norm and U.shape[1] > 1
                                  or self.input_to_readout):
            U, shift = U.toarray() + shift, None  # a chunk of rows, densified
        elif sparse.issparse(U) and self.instance_norm and U.shape[1] > 1:
            U = U.toarray()  # each row is centred on its own: dense anyway
        dtype = self.reservoir.W.dtype
        _check_representable(U, dtype)
        kind = self.representation
        T = U.shape[1] if U.ndim == 3 else self.n_steps
        # A one-feature row has no spread of its own: it is read as it is.
        normalize = self.instance_norm and (U.ndim == 3 or U.shape[1] > 1)
        shape, level = instance_normalize(U, lengths) if normalize else (U, None)
        offset = None if shift is None else shift @ self.reservoir.W_in
        res = self.reservoir
        parts = [from_summary(*res.trial_summary(shape, T, lengths, drive_offset=offset),
                              kind)]
        if self.bidirectional and U.ndim == 3:
            back = reverse_trials(shape, lengths)
            parts.append(from_summary(*res.trial_summary(back, T, lengths), kind))
        elif self.bidirectional:  # a static sample reads the same both ways
            parts.append(parts[0])
        if level is not None:  # reservoir features scale with the sample's spread
            parts = [p * level[:, None] for p in parts]
        if self.input_to_readout:
            if U.ndim == 3:
                parts.append(trial_features(U.astype(dtype, copy=False), lengths, kind))
            else:
                dense = U.toarray() if sparse.issparse(U) else np.asarray(U)
                parts.append(np.tile(dense.astype(dtype, copy=False),
                                     n_features(kind, 1)))
        return np.hstack(parts)


def _check_representable(U, dtype):
    """Raise if a (scaled) input would overflow the reservoir's dtype."""
    values = U.data if sparse.issparse(U) else U
    if values.size == 0 or np.dtype(values.dtype).itemsize <= np.dtype(dtype).itemsize:
        return
    top = np.finfo(dtype).max
    if values.max() >= top or values.min() <= -top:
        name = np.dtype(dtype).name
        raise ValueError(
            f"X has values too large for the reservoir's dtype {name} (above "
            f"{top:.3g} after scaling): they would become infinite. Rescale X, or "
            f"use dtype=np.float64.")


def instance_normalize(U, lengths=None):
    """Each sample centred and scaled by its own statistics; returns ``(U', s)``.

    A 2-D row is centred by its mean over the features and divided by their
    standard deviation; a sequence is centred per channel over its valid time
    steps and divided by each channel's standard deviation. ``s`` is the
    sample's spread (a row's standard deviation; for a sequence the root mean
    square of its channels' standard deviations). A constant sample becomes
    zeros (and has ``s = 0``).
    """
    if sparse.issparse(U):
        raise ValueError("instance_norm=True needs dense input; pass X.toarray() or "
                         "set instance_norm=False.")
    U = np.asarray(U)
    if U.ndim == 2:
        mean = U.mean(axis=1, keepdims=True)
        std = U.std(axis=1, keepdims=True)
        spread = std[:, 0]
    else:
        T = U.shape[1]
        valid = (np.ones((U.shape[0], T)) if lengths is None else
                 (np.arange(T)[None, :] < lengths[:, None]).astype(U.dtype))[..., None]
        n = valid.sum(axis=1, keepdims=True)
        mean = (U * valid).sum(axis=1, keepdims=True) / n
        std = np.sqrt((((U - mean) * valid) ** 2).sum(axis=1, keepdims=True) / n)
        spread = np.sqrt(np.mean(std[:, 0, :] ** 2, axis=1))
    shape = (U - mean) / np.where(std > 0, std, 1.0)
    if U.ndim == 3 and lengths is not None:
        shape *= valid  # the padding stays zero
    return shape.astype(U.dtype, copy=False), spread.astype(U.dtype, copy=False)


class InputScaler:
    """Centre each input feature and divide all by one common scale.

    The common scale is the root mean square of the features' standard
    deviations (over samples and time steps of the training data), so the
    inputs have unit variance *on average* while their relative scales are
    kept. Standardizing each feature separately instead blows up features
    that are nearly constant: on load_digits (near-empty border pixels) it
    costs 0.9 points of accuracy, and 3.6 with 30 % wrong labels (measured
    while choosing the classifier's defaults). Sparse input is scaled and
    stays sparse; its centring is applied to the reservoir's input drive
    instead (:meth:`transform_parts`), so sparse and dense input give the
    same model. With ``sample_weight`` (one per row of ``U``) the means and
    variances are weighted.
    """

    def fit(self, U, sample_weight=None):
        if sparse.issparse(U):
            mean, var = mean_variance_axis(U.tocsr().astype(np.float64), axis=0,
                                           weights=sample_weight)
        elif sample_weight is None:
            U = np.asarray(U, dtype=np.float64)
            mean, var = U.mean(axis=0), U.var(axis=0)
        else:
            U = np.asarray(U, dtype=np.float64)
            mean = np.average(U, axis=0, weights=sample_weight)
            var = np.average((U - mean) ** 2, axis=0, weights=sample_weight)
        self.mean_ = mean
        rms = float(np.sqrt(np.mean(var))) if var.size else 0.0
        self.scale_ = rms if rms > 0 and np.isfinite(rms) else 1.0
        return self

    def transform(self, U):
        """Centred and scaled copy of ``U`` (2-D or 3-D with features last; dense)."""
        if sparse.issparse(U):
            U = U.toarray()
        return (U - self.mean_) / self.scale_

    def transform_parts(self, U):
        """``(U', shift)`` with ``U' + shift`` the transform of ``U``.

        Dense input: the transform itself and ``shift = None``. Sparse input:
        ``U / scale`` (still sparse) and the centring ``-mean / scale``.
        """
        if sparse.issparse(U):
            return U * (1.0 / self.scale_), -self.mean_ / self.scale_
        return self.transform(U), None


def readout_width(n_reservoir, n_inputs, *, representation, bidirectional,
                  input_to_readout):
    """Length of a :class:`TrialEncoder` row, bias included."""
    per = n_features(representation, 1)
    n = per * n_reservoir * (2 if bidirectional else 1)
    return n + (per * n_inputs if input_to_readout else 0) + 1


def _valid_steps(U, lengths):
    """The (n_valid_steps, n_features) stack of the valid steps of 3-D trials."""
    if lengths is None:
        return U.reshape(-1, U.shape[2])
    return U[np.arange(U.shape[1])[None, :] < lengths[:, None]]


def run_sequence(reservoir, readout, U, Y, x, y_prev, *, skip=0, every=1,
                 feedback=False, forced=False, input_to_readout=False, states=None,
                 sample_weight=None):
    """Drive ``reservoir`` through the rows of ``U``; learn from ``Y`` if given.

    The readout reads ``r = [x(t), u(t), 1]`` (``u(t)`` only with
    ``input_to_readout``) and learns at every ``every``-th step from step
    ``skip`` on. With ``feedback`` the previous output enters the reservoir
    through ``W_fb``: the previous target when ``forced`` (teacher forcing,
    learning only), else the network's own previous output.

    Returns the outputs (a-priori where it learned), the final state and the
    value to feed back next. ``x`` and ``y_prev`` are not modified; ``states``
    (n_steps, len(r)), if given, receives each step's ``r``. ``sample_weight``
    (n_steps,): the weight of each step's update (see :class:`ITDSReadout`).
    """
    sw = sample_weight
    learn = Y is not None
    forced = learn and forced
    N = reservoir.n_reservoir
    W = readout.W
    n_in = W.shape[0] - N - 1
    Z = np.empty((U.shape[0], W.shape[1]))
    y_prev = np.array(y_prev, dtype=W.dtype)
    # Without the network's own output fed back, the states do not depend on
    # the readout: a chunk's states are computed first (one chunk ahead, in a
    # worker thread: _states_ahead) and the readout learns from them as a
    # block (ITDSReadout.partial_fit: the same updates, up to rounding). With
    # own-output feedback each step waits for the last output (compiled:
    # _fused.feedback_chunk; the numpy reference: the loop below).
    batched = not (feedback and not forced)

    buffers = {}  # reused from chunk to chunk: fresh arrays cost page faults

    def prepare(chunk, fed, slot=0):
        """A chunk's input drive (``fed``: the output fed back before it) and
        its readout rows with the input and bias columns filled in, in the
        buffers ``slot`` (two alternate while a worker runs ahead)."""
        n = chunk.stop - chunk.start
        if slot not in buffers:
            size = min(_SEQ_CHUNK, U.shape[0])
            buffers[slot] = (np.empty((size, N), dtype=W.dtype),
                             np.ones((size, W.shape[0]), dtype=W.dtype))
        drive = reservoir.drive(U[chunk], out=buffers[slot][0][:n])
        if feedback and forced:
            drive += np.vstack([fed, Y[chunk][:-1]]) @ reservoir.W_fb
        rows = buffers[slot][1][:n]
        if input_to_readout:
            inputs = U[chunk].toarray() if sparse.issparse(U) else U[chunk]
            rows[:, N:N + n_in] = inputs
        return drive, rows

    chunks = list(gen_batches(U.shape[0], _SEQ_CHUNK))
    # One tiny BLAS call after another; an overflow is reported by the
    # readout's diverged(), which the estimator turns into a warning.
    with single_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
        if batched:
            with closing(_states_ahead(reservoir, prepare, chunks, x, y_prev,
                                       Y if forced else None)) as ahead:
                for chunk, rows, x in ahead:
                    if states is not None:
                        states[chunk] = rows
                    y_prev = _learn_rows(readout, rows, Y, Z, chunk, skip, every,
                                         forced, y_prev, sw)
            return Z, x, y_prev
        for chunk in chunks:
            drive, rows = prepare(chunk, y_prev)
            # the loop below, compiled (it knows no weights)
            if sw is None and _fused.applies(reservoir, readout, drive):
                t = np.arange(chunk.start, chunk.stop)
                learns = (t >= skip) & ((t - skip) % every == 0) if learn else t < 0
                targets = Y[chunk] if learn else np.zeros((len(t), W.shape[1]))
                ZD = _fused.feedback_chunk(reservoir, readout, x, y_prev, drive, rows,
                                           targets, learns)
                Z[chunk] = ZD[:, :W.shape[1]]
                if states is not None:
                    states[chunk] = rows
                x, y_prev = rows[-1, :N].copy(), ZD[-1, :W.shape[1]].copy()
                continue
            for i, t in enumerate(range(chunk.start, chunk.stop)):
                x = reservoir.step(x, drive[i] + y_prev @ reservoir.W_fb)
                r = rows[i]
                r[:N] = x
                if states is not None:
                    states[t] = r
                if learn and t >= skip and (t - skip) % every == 0:
                    z = readout.update(r, Y[t], None if sw is None else sw[t])
                else:
                    z = r @ W
                Z[t] = z
                y_prev = z
            readout.flush()
    return Z, x, y_prev


def _states_ahead(reservoir, prepare, chunks, x, fed, Y_fed):
    """Yield ``(chunk, rows, last state)`` for each chunk, the reservoir states
    written into ``rows`` (``prepare(chunk, fed, slot)`` gives the drive and
    rows, in the buffers ``slot``; the caller is done with a chunk's rows when
    it asks for the next one).

    The states do not depend on the readout, so with more than one chunk and
    more than one core they are computed in a worker thread one chunk ahead,
    while the caller learns from the previous chunk (the compiled reservoir
    kernel and BLAS release the GIL). ``Y_fed``: the targets fed back (teacher
    forcing), whose last value before a chunk enters its drive; None: ``fed``
    for every chunk. Closing the generator waits for the worker.
    """
    N = reservoir.n_reservoir

    def produce(i, x):
        with np.errstate(over="ignore", invalid="ignore"):  # per thread
            drive, rows = prepare(chunks[i], fed_before(i), slot=i % 2)
            return rows, reservoir.run_steps(x, drive, rows[:, :N])

    def fed_before(i):
        if Y_fed is None or i == 0:
            return fed
        return Y_fed[chunks[i].start - 1].astype(fed.dtype)

    if len(chunks) < 2 or not STATES_AHEAD or cpu_count(only_physical_cores=False) < 2:
        for i, chunk in enumerate(chunks):
            rows, x = produce(i, x)
            yield chunk, rows, x
        return
    pool = ThreadPoolExecutor(1)
    try:
        pending = pool.submit(produce, 0, x)
        for i, chunk in enumerate(chunks):
            rows, x = pending.result()
            if i + 1 < len(chunks):  # into the other buffers: the last chunk's are done
                pending = pool.submit(produce, i + 1, x)
            yield chunk, rows, x
    finally:
        pool.shutdown(wait=True)


def _learn_rows(readout, rows, Y, Z, chunk, skip, every, forced, y_prev, sw=None):
    """Outputs (into ``Z[chunk]``) and learning for a chunk of precomputed rows.

    Steps before ``skip`` read the weights as they are; with ``every == 1``
    the rest learn as one :meth:`ITDSReadout.partial_fit` call, otherwise one
    :meth:`ITDSReadout.update` at a time. Returns the value to feed back next.
    """
    t = np.arange(chunk.start, chunk.stop)
    if Y is None:
        Z[chunk] = rows @ readout.W
        return Z[chunk.stop - 1].astype(y_prev.dtype)
    first = int(np.searchsorted(t, skip))
    Z[chunk.start:chunk.start + first] = rows[:first] @ readout.W
    if first < len(t) and every == 1:
        Z[chunk.start + first:chunk.stop] = readout.partial_fit(
            rows[first:], Y[chunk.start + first:chunk.stop],
            sample_weight=None if sw is None else sw[chunk.start + first:chunk.stop])
    elif first < len(t) and readout._compiled() and sw is None:  # the loop below, compiled
        learns = (t[first:] - skip) % every == 0
        Z[chunk.start + first:chunk.stop] = readout._masked_pass(
            rows[first:], Y[chunk.start + first:chunk.stop], learns)
    elif first < len(t):
        for i in range(first, len(t)):
            if (t[i] - skip) % every == 0:
                Z[t[i]] = readout.update(rows[i], Y[t[i]],
                                         None if sw is None else sw[t[i]])
            else:
                Z[t[i]] = rows[i] @ readout.W
        readout.flush()
    return (Y if forced else Z)[chunk.stop - 1].astype(y_prev.dtype)
