"""Trials to readout rows: what a trial-based reservoir readout reads.

:class:`TrialEncoder` turns trials (static samples held for ``n_steps``, or
sequences of equal or unequal lengths) into one feature row each: the
inputs scaled (:class:`InputScaler`), the reservoir run from the zero state,
the trajectory reduced by a representation (``_representations.py``),
optionally per-sample normalized (:func:`instance_normalize`), then
standardized with the bias column appended. Used by the classifier and by
the regressor's ``mode="samples"``; a layer-2 piece in ``design.md``'s terms
(it knows nothing about learning).
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import numpy as np
from joblib import cpu_count
from scipy import sparse
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._representations import from_summary, n_features, reverse_trials, trial_features
from ._threads import single_blas_thread

__all__ = ["InputScaler", "TrialEncoder", "instance_normalize", "readout_width"]


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
        rows = self._rows(trials)  # features not yet standardized
        features = rows[:, :-1]
        self.feature_scaler_ = scaler = _blockwise_scaler(features, sample_weight)
        for b in gen_batches(len(rows), _BLOCK):
            features[b] = scaler.transform(features[b])
        return rows

    def transform(self, trials):
        """Readout rows ``(n_samples, n_readout_inputs)`` for validated trials."""
        return self._rows(trials, self.feature_scaler_)

    def _rows(self, trials, scaler=None):
        """Readout rows ``[features, 1]`` in the reservoir's dtype, the
        features standardized by ``scaler`` if given (a chunk of trials at a
        time, as each chunk's features are computed)."""
        U, lengths = trials.U, trials.lengths
        n = U.shape[0]
        T = U.shape[1] if U.ndim == 3 else self.n_steps
        order = None if lengths is None else np.argsort(lengths, kind="stable")
        # Memory per trial: its input steps and a few state vectors (the
        # trajectory itself is reduced on the fly, see Reservoir.trial_summary).
        width = U.shape[-1] if U.ndim == 3 else 0
        per_trial = T * width + 4 * self.reservoir.n_reservoir
        batch = int(np.clip(self._BUDGET // per_trial, 1, 1024))
        threads = self._n_threads(n)
        if threads > 1:  # at least one chunk per thread
            batch = min(batch, -(-n // threads))
        self.reservoir.prepare_runs(n * T * (2 if self.bidirectional and U.ndim == 3 else 1))
        # a chunk: a slice of the trials, or (unequal lengths) indices of
        # trials of similar lengths
        chunks = [c if order is None else order[c] for c in gen_batches(n, batch)]

        dtype = self.reservoir.W.dtype

        def features(idx):
            # in the rows' dtype before any scaling, as fit's rows are
            F = self._chunk_features(U[idx], None if lengths is None else lengths[idx])
            F = F.astype(dtype, copy=False)
            return idx, F if scaler is None else scaler.transform(F)

        rows = np.empty((n, readout_width(
            self.reservoir.n_reservoir, U.shape[-1], representation=self.representation,
            bidirectional=self.bidirectional, input_to_readout=self.input_to_readout)),
            dtype=dtype)
        rows[:, -1] = 1.0
        with ExitStack() as stack:
            if threads > 1:
                # scipy's sparse products (and the compiled ones) release the
                # GIL: trials are independent, so chunks run in threads give
                # the serial features bit for bit.
                stack.enter_context(single_blas_thread())
                pool = stack.enter_context(ThreadPoolExecutor(threads))
                results = pool.map(features, chunks)
            else:
                results = map(features, chunks)
            for idx, F in results:
                rows[idx, :-1] = F
        return rows

    _MAX_THREADS = 4  # threads for the reservoir runs of a large batch of trials
    _MIN_PER_THREAD = 32  # trials below which one thread does it all

    def _n_threads(self, n):
        """Threads for ``n`` trials: several only on the sparse-product path
        (the dense GEMM uses BLAS's own threads)."""
        if self.reservoir.batch_W_T() is None or n < 2 * self._MIN_PER_THREAD:
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


_BLOCK = 4096  # rows per block of the blockwise statistics and standardization


def _blockwise_scaler(X, sample_weight=None):
    """A ``StandardScaler`` fitted to ``X`` a block of rows at a time.

    The same statistics as ``StandardScaler().fit(X, sample_weight=...)`` up
    to the order of the float64 sums, without float64 temporaries of the
    whole of ``X`` (a block of weight 0 adds nothing and is skipped).
    """
    scaler = StandardScaler()
    for b in gen_batches(len(X), _BLOCK):
        weight = None if sample_weight is None else sample_weight[b]
        if weight is None or weight.sum() > 0:
            scaler.partial_fit(X[b], sample_weight=weight)
    return scaler


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
        else:
            stats = _blockwise_scaler(np.asarray(U), sample_weight)
            mean, var = stats.mean_, stats.var_
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
