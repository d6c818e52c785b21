"""ITDSReservoirRegressor: regression and time series with an iTDS readout."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ._representations import REPRESENTATIONS
from ._reservoir_base import ReservoirMixin
from ._sequence import run_sequence
from ._trials import InputScaler, TrialEncoder, readout_width
from ._validation import (INT, REAL, check_bool, check_not_ragged, check_numeric_y,
                          check_option, check_series_weights, check_weights,
                          unchanged_on_error, validate_trials, warn_divergence)

__all__ = ["ITDSReservoirRegressor"]

_MODES = ("samples", "sequential")
_ONE_SERIES = ("one series as a 2-D array of shape (n_steps, n_features), or (in "
               "fit) a list of such numpy arrays, one per series")


class ITDSReservoirRegressor(ReservoirMixin, RegressorMixin, BaseEstimator):
    """Echo-state reservoir regressor with an iTDS-trained readout.

    Two ways to read ``X``, chosen by ``mode``:

    - ``mode="samples"`` (default): every row of ``X`` (or every sequence of
      a 3-D ``X`` or a list of sequences) is an independent sample, run as a
      *trial* from the zero state exactly as in
      :class:`ITDSReservoirClassifier` (a row is held for ``n_steps`` steps).
      Predictions do not depend on the order or the chunking of the rows,
      which is what forecasting tools assume (skforecast's
      ``ForecasterRecursive``, sktime's ``make_reduction``: each row is a lag
      window).
    - ``mode="sequential"``: the rows are consecutive time steps of one
      series. The reservoir runs through the series and the readout learns
      online at every ``update_every``-th step after the first ``washout``
      steps; ``predict`` continues from the state reached at the end of
      ``fit``. Output feedback (FORCE-style generation) lives here.

    In both modes the readout is linear on ``[features, 1]``, where the
    features are the reservoir's (the trial representation, or the state at
    the step) and, with ``input_to_readout``, the (scaled) input too: the
    model then contains a linear model of the input. The targets are
    standardized with their training mean and standard deviation, and the
    readout learns by recursive least squares (default; one pass with
    ``td_gain=0`` is ridge regression) or normalized LMS, with the bounded
    iTDS stabilized error (see :mod:`sklearn_itds._itds`).

    Parameters
    ----------
    n_reservoir : int, default=300
        Number of reservoir units (>= 1).
    mode : {"samples", "sequential"}, default="samples"
        Rows are independent samples, or consecutive steps of a series.
    representation : {"mean", "last", "mean_last"}, default="mean"
        What the readout reads from a trial (``mode="samples"``).
    bidirectional : bool, default=False
        Also run each sequence backwards (``mode="samples"``).
    input_to_readout : bool, default=True
        The readout also reads the (scaled) input.
    instance_norm : bool, default=True
        ``mode="samples"``: the reservoir reads each sample centred and scaled
        by its own mean and standard deviation (over a row's features, or a
        sequence's steps per channel), and its features are multiplied back by
        that standard deviation (reversible instance normalization [3]_). The
        reservoir then sees the shape of a lag window, its features scale with
        the window's amplitude, and the input's level reaches the readout
        through ``input_to_readout``: forecasts of a trending series
        extrapolate as a linear model's do. Meant for rows whose features
        share units (lag windows, sequences); set False for tabular data with
        heterogeneous features. A row of a single feature has no spread of its
        own and is read as it is.
    n_steps : int, default=8
        Steps a row is held for (``mode="samples"``, 2-D ``X``).
    spectral_radius : float, default=1.0
        Spectral radius of the recurrent weights (>= 0).
    density : float, default=0.1
        Fraction of non-zero recurrent weights, in (0, 1].
    leak_rate : float, default=1.0
        Leak rate in (0, 1].
    input_scaling : float, default=0.1
        Input weights are uniform in ``[-input_scaling, input_scaling]``
        (applied to the scaled inputs when ``scale_inputs``).
    bias_scaling : float, default=0.5
        Unit biases are uniform in ``[-bias_scaling, bias_scaling]``. The
        reservoir defaults were chosen on NARMA10 and Mackey-Glass
        (``mode="sequential"``) and in forecasting tools (``mode="samples"``);
        see docs/results.
    scale_inputs : bool, default=True
        Centre each input feature and divide all by one common scale learned
        from the training data (see :class:`ITDSReservoirClassifier`).
    learning_rule : {"rls", "lms"}, default="rls"
        Recursive least squares (FORCE) or normalized LMS.
    learning_rate_init : float, default=0.05
        Normalized LMS step size (> 0); unused by RLS. The LMS readout has
        no schedule: the step is constant, as MLPClassifier's
        ``learning_rate_init`` with ``learning_rate="constant"``.
    rls_alpha : float or "auto", default="auto"
        RLS prior ``P0 = I / rls_alpha``: the ridge penalty (> 0). "auto" is
        10 for ``mode="samples"`` (a penalty on standardized features, for
        sample counts of about 100 to 10000) and 1e-5 for ``mode="sequential"``
        (on raw reservoir states over long series; 1e-2 in float32, where a
        huge ``P0`` loses the small corrections to rounding). Chosen with
        ``benchmarks/bench_forecasting.py --grid`` and
        ``benchmarks/bench_prediction.py --grid``.
    washout : int, default=0
        Steps at the start of each series that drive the reservoir but are not
        learned from (``mode="sequential"``).
    update_every : int, default=1
        Learn at every ``update_every``-th step (``mode="sequential"``).
    output_feedback : bool, default=False
        Feed the previous output back into the reservoir
        (``mode="sequential"`` only).
    feedback_scaling : float, default=1.0
        Feedback weights are uniform in ``[-feedback_scaling, feedback_scaling]``.
    teacher_forcing : bool, default=False
        While learning with output feedback, feed back the previous target
        (True) or the network's own previous output (False, FORCE learning).
    td_gain : float, default=0.0
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
        In our measurements no ``td_gain > 0`` improved prediction or
        forecasting (docs/results), so the default is off.
    td_timescale : float, default=5.0
        How slowly the echo follows the readout (>= 1): for the learned echo,
        how many times more slowly the echo readout learns; for the weight
        average, the number of updates it averages over.
    echo : {"learned", "weight_average"}, default="learned"
        What the echo readout ``Wbar`` is. "learned": a second readout that
        learns to reproduce the readout's output ``z``, ``td_timescale``
        times more slowly (``Wbar += step(z - d, r) / td_timescale``).
        "weight_average": an exponential moving average of the readout's
        weights, moved after every readout update (``Wbar += (W - Wbar) /
        td_timescale``, a "mean teacher"). With ``td_gain=0`` the readout is
        the same for either. Equations: :mod:`sklearn_itds._itds`.
    td_sign : {1, -1}, default=1
        Sign of the top-down term: the readout learns from ``((y - z) +
        td_sign * td_gain * (d - z)) / (1 + td_gain)``; -1 pushes it away from
        its echo (for ``td_gain >= 1`` it then no longer pulls toward its
        target, and a fit may diverge). With ``td_gain=0`` the sign has no
        effect.
    feedback_split : bool, default=False
        Sign-split readout ``W = W_pos - W_neg``.
    readout_sparsity : float, default=0.0
        Fraction of readout weights held at zero by a fixed mask, in [0, 1).
    max_iter : int, default=1
        Passes over the data in ``fit`` (in ``mode="sequential"`` each pass
        restarts from the zero state).
    shuffle : bool, default=True
        Shuffle the sample order in each pass (``mode="samples"``).
    random_state : int, RandomState instance or None, default=None
        Seeds independent streams for the reservoir, the mask and the order.
    verbose : int, default=0
        Print one progress line per pass.
    dtype : {"float64", "float32"} or numpy dtype, default=np.float64
        Floating-point type of the reservoir, the readout and the RLS matrix
        ``P``. With RLS in float32 keep ``rls_alpha`` moderate (>= 1e-2).

    Attributes
    ----------
    n_features_in_ : int
        Number of input features (per time step).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.
    n_outputs_ : int
        Number of outputs.
    reservoir_ : Reservoir
        The reservoir weights (``W``, ``W_in``, ``bias``, ``W_fb``).
    encoder_ : TrialEncoder
        ``mode="samples"``: trials to readout rows, with the input and feature
        statistics learned from the training data.
    input_scaler_ : InputScaler or None
        ``mode="sequential"``: the input scaling learned from the training data.
    target_scaler_ : StandardScaler
        The targets' training mean and standard deviation; the readout learns
        and outputs standardized targets.
    readout_ : ITDSReadout
        The readout; ``readout_.W`` holds the weights (bias in the last row),
        ``readout_.P`` the RLS matrix (lower triangle).
    state_ : ndarray of shape (n_reservoir,)
        ``mode="sequential"``: reservoir state at the end of the last
        ``fit``/``partial_fit`` call.
    last_output_ : ndarray of shape (n_outputs,)
        ``mode="sequential"``: output fed back at the next step, in
        standardized target units (the last target under teacher forcing,
        otherwise the last output).
    rls_alpha_ : float or None
        The RLS penalty used: ``rls_alpha``, or the value "auto" stands for
        (10 in samples mode; 1e-5, or 1e-2 in float32, in sequential mode);
        None with ``learning_rule="lms"``.
    td_history_ : dict of ndarray
        iTDS diagnostics per pass (``fit``) or per ``partial_fit`` call.
    loss_curve_ : list of float
        Mean of ``0.5 |e_sup|^2`` (half the squared a-priori error) per pass,
        in standardized target units.
    n_iter_ : int
        Number of passes run by the last call: ``fit``'s, or one for a
        ``partial_fit`` call, as MLPClassifier's and SGDClassifier's (a
        ``partial_fit`` whose pass diverged leaves it, like the rest of the
        model, as it was). ``loss_curve_`` and ``td_history_`` keep every
        call's.

    See Also
    --------
    ITDSReservoirClassifier : The same reservoir and trials for classification.

    Notes
    -----
    With ``td_gain=0``, ``learning_rule="rls"`` and one pass the readout is the
    ridge solution ``(R^T R + rls_alpha I)^{-1} R^T Y`` on the readout rows
    ``R`` (bias as a constant column) and the standardized targets ``Y``, up
    to rounding.

    **Parameters after fitting.** Prediction (and :meth:`td_step_norms`)
    uses the parameters the model was fitted with (in ``mode="sequential"``
    that includes ``output_feedback``, ``teacher_forcing`` and
    ``input_to_readout``): a value changed with ``set_params`` takes effect
    at the next :meth:`fit`, and :meth:`partial_fit` refuses to continue a
    model whose parameters changed. A call that is rejected or interrupted
    (``KeyboardInterrupt`` included) leaves the model exactly as it was
    before the call.

    References
    ----------
    .. [1] Pilzak, Pennington & Thivierge, "Intrinsic stabilization of synaptic
       plasticity improves learning and robustness in artificial neural
       networks", Nat Commun 17, 4164 (2026).
    .. [2] Sussillo & Abbott, "Generating coherent patterns of activity from
       chaotic neural networks", Neuron 63, 544-557 (2009).
    .. [3] Kim, Kim, Tae, Park, Choi & Choo, "Reversible instance normalization
       for accurate time-series forecasting against distribution shift",
       ICLR (2022).

    Examples
    --------
    Rows as samples (the default): lag windows of a series, as a forecasting
    tool builds them.

    >>> import numpy as np
    >>> from sklearn_itds import ITDSReservoirRegressor
    >>> series = np.sin(2 * np.pi * np.arange(600) / 50)
    >>> lags = np.lib.stride_tricks.sliding_window_view(series, 10)
    >>> X, y = lags[:-1], series[10:]                 # the next value
    >>> model = ITDSReservoirRegressor(n_reservoir=100, random_state=0)
    >>> model.fit(X[:500], y[:500]).score(X[500:], y[500:]) > 0.99
    True

    Rows as consecutive steps, continuing from the end of ``fit``:

    >>> X, y = series[:-1, None], series[1:]          # one-step prediction
    >>> model = ITDSReservoirRegressor(n_reservoir=100, mode="sequential",
    ...                                washout=50, random_state=0)
    >>> model.fit(X[:500], y[:500]).score(X[500:], y[500:]) > 0.99
    True
    """

    def __init__(self, n_reservoir: int = 300, *, mode: str = "samples",
                 representation: str = "mean", bidirectional: bool = False,
                 input_to_readout: bool = True, instance_norm: bool = True,
                 n_steps: int = 8,
                 spectral_radius: float = 1.0, density: float = 0.1,
                 leak_rate: float = 1.0, input_scaling: float = 0.1,
                 bias_scaling: float = 0.5, scale_inputs: bool = True,
                 learning_rule: str = "rls", learning_rate_init: float = 0.05,
                 rls_alpha: float | str = "auto", washout: int = 0,
                 update_every: int = 1,
                 output_feedback: bool = False, feedback_scaling: float = 1.0,
                 teacher_forcing: bool = False, td_gain: float = 0.0,
                 td_timescale: float = 5.0, echo: str = "learned",
                 td_sign: int = 1, feedback_split: bool = False,
                 readout_sparsity: float = 0.0, max_iter: int = 1,
                 shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, dtype: DTypeLike = np.float64) -> None:
        self.n_reservoir = n_reservoir
        self.mode = mode
        self.representation = representation
        self.bidirectional = bidirectional
        self.input_to_readout = input_to_readout
        self.instance_norm = instance_norm
        self.n_steps = n_steps
        self.spectral_radius = spectral_radius
        self.density = density
        self.leak_rate = leak_rate
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.scale_inputs = scale_inputs
        self.learning_rule = learning_rule
        self.learning_rate_init = learning_rate_init
        self.rls_alpha = rls_alpha
        self.washout = washout
        self.update_every = update_every
        self.output_feedback = output_feedback
        self.feedback_scaling = feedback_scaling
        self.teacher_forcing = teacher_forcing
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.echo = echo
        self.td_sign = td_sign
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # -- validation ----------------------------------------------------------------
    def _check_params(self):
        self._check_reservoir_params({
            "n_steps": (INT, 1, None, "left"),
            "washout": (INT, 0, None, "left"),
            "update_every": (INT, 1, None, "left"),
            "feedback_scaling": (REAL, 0.0, None, "left"),
        })
        check_option(self.mode, "mode", _MODES)
        check_option(self.representation, "representation", REPRESENTATIONS)
        for name in ("bidirectional", "input_to_readout", "instance_norm",
                     "scale_inputs", "shuffle", "output_feedback", "teacher_forcing"):
            check_bool(getattr(self, name), name)
        if self.output_feedback and self.mode == "samples":
            raise ValueError("output_feedback=True needs mode='sequential': independent "
                             "samples have no previous output to feed back.")

    @property
    def _sequential(self):
        return self.mode == "sequential"

    def _rls_alpha(self):
        if not (isinstance(self.rls_alpha, str) and self.rls_alpha == "auto"):
            return self.rls_alpha
        if not self._sequential:
            return 10.0
        return 1e-2 if np.dtype(self.dtype) == np.float32 else 1e-5

    def _validate(self, X, y, reset, sample_weight=None):
        """Validated data and weights: a Trials, y and the weights (samples), or
        a list of (X, Y) series, y and a list of per-step weights (sequential)."""
        if not self._sequential:
            trials, y = validate_trials(self, X, y, reset=reset, y_numeric=True)
            return trials, y, check_weights(sample_weight, trials.U)
        many = isinstance(X, (list, tuple)) and len(X) > 0 and all(
            hasattr(x, "ndim") and x.ndim == 2 for x in X)
        pairs, y = self._validate_series(X, y, reset, many)
        return pairs, y, check_series_weights(sample_weight, pairs, many)

    def _validate_series(self, X, y, reset, many):
        if not many:
            check_not_ragged(X, _ONE_SERIES)
            X, y = validate_data(self, X, y, reset=reset, multi_output=True,
                                 y_numeric=True, accept_sparse=("csr", "csc"),
                                 dtype=FLOAT_DTYPES)
            y = check_numeric_y(self, y)
            return [(X, y)], y
        if not isinstance(y, (list, tuple)) or len(y) != len(X):
            raise ValueError("When X is a list of series, y must be a list of "
                             "targets of the same length.")
        pairs = [validate_data(self, x, t, reset=reset and i == 0, multi_output=True,
                               y_numeric=True, dtype=FLOAT_DTYPES)
                 for i, (x, t) in enumerate(zip(X, y))]
        pairs = [(x, check_numeric_y(self, t)) for x, t in pairs]
        return pairs, pairs[0][1]

    def _targets(self, y, reset):
        """2-D float targets; checks the number of outputs against the fit."""
        Y = np.asarray(y, dtype=float)
        Y = Y.reshape(len(Y), -1)
        if reset:
            self._y_1d = np.ndim(y) == 1
            self.n_outputs_ = Y.shape[1]
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} outputs, but this model was fitted "
                             f"with {self.n_outputs_}.")
        return Y

    def _check_series(self, pairs):
        widths = {np.shape(t.reshape(len(t), -1))[1] for _, t in pairs}
        if len(widths) > 1:
            raise ValueError("Every series in y must have the same number of outputs.")
        shortest = min(x.shape[0] for x, _ in pairs)
        if self.washout >= shortest:
            raise ValueError(
                f"washout={self.washout} leaves no step to learn from in a series "
                f"of {shortest} steps; use washout < {shortest}.")

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: ArrayLike | list, y: ArrayLike | list,
            sample_weight: ArrayLike | list | None = None) -> ITDSReservoirRegressor:
        """Learn the readout, in one or more passes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
array-like of shape (n_samples, n_steps, n_features), or list of arrays
            ``mode="samples"``: one sample per row (or one sequence each).
            ``mode="sequential"``: one row per time step, or a list of
            independent series ``(n_steps_i, n_features)`` (dense arrays).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), or list
            Targets (``mode="sequential"`` with a list of series: a list).
        sample_weight : array-like of shape (n_samples,), or list, default=None
            Non-negative weights. ``mode="samples"``: one per sample; they
            weight the input, feature and target statistics and the readout's
            updates (an RLS pass is weighted ridge, ``(R^T W R + rls_alpha
            I)^{-1} R^T W Y``; an LMS step is multiplied by the weight), the
            echo's learning and ``td_history_``. ``mode="sequential"``: one
            per time step (with a list of series, a list of such arrays), the
            weight of the readout's update at that step and of its target in
            the target statistics; every step still drives the reservoir (and
            counts in the input scaling), and the weights of the ``washout``
            steps and of the steps between two updates (``update_every``) are
            unused. A weight of 0 means no update. See the user guide, "Sample
            weights in the reservoir estimators".

        Returns
        -------
        self : ITDSReservoirRegressor
        """
        with unchanged_on_error(self):  # also if interrupted: see the Notes
            self._check_params()
            data, y_all, weights = self._validate(X, y, reset=True,
                                                  sample_weight=sample_weight)
            if self._sequential:
                self._check_series(data)
                self._fit_sequential(data, weights)
            else:
                self._fit_samples(data, y_all, weights)
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    sample_weight: ArrayLike | None = None) -> ITDSReservoirRegressor:
        """Continue learning on more data.

        ``mode="samples"``: one pass over the new samples (the first call also
        learns the input, feature and target statistics from its data).
        ``mode="sequential"``: the steps that follow the last call, continuing
        from the stored state (the first call starts from the zero state and
        applies ``washout``). Later calls continue the fitted model with the
        parameters it was built with: changing one of them (other than
        ``max_iter``, ``shuffle``, ``verbose`` and ``random_state``, which only
        ``fit`` reads) raises ``ValueError``.

        Parameters
        ----------
        X : {array-like, sparse matrix}, as in :meth:`fit` (one series)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, one per sample or time step, as in
            :meth:`fit` (the statistics only on the first call).

        Returns
        -------
        self : ITDSReservoirRegressor
        """
        first = not hasattr(self, "readout_")
        with unchanged_on_error(self, deep=() if first else ("readout_",)):
            self._check_params()
            if not first and self._sequential != hasattr(self, "state_"):
                raise ValueError("mode was changed after the model was fitted; set it "
                                 "back, or call fit to start again in the new mode.")
            if not first:
                self._check_continued()
            data, y_all, weights = self._validate(X, y, reset=first,
                                                  sample_weight=sample_weight)
            if self._sequential:
                if len(data) != 1:
                    raise ValueError("partial_fit takes one series: the steps that "
                                     "follow the last call.")
                if first:
                    self._check_series(data)
            Y = self._targets(y_all, reset=first)
            if not self._sequential:
                if first:
                    rows = self._initialize_samples(data, Y, weights)
                else:
                    rows = self.encoder_.transform(data)
                with self._counting_this_call():
                    self._samples_pass(rows, self.target_scaler_.transform(Y), None,
                                       weights)
                return self
            if first:
                self._initialize_sequential(data, weights)
            (Xs, _), = data
            with self._counting_this_call():
                self._sequential_pass([(Xs, self.target_scaler_.transform(Y))],
                                      restart=first, weights=weights)
        return self

    # -- mode="samples" --------------------------------------------------------------
    def _fit_samples(self, trials, y, sample_weight):
        Y = self._targets(y, reset=True)
        rows = self._initialize_samples(trials, Y, sample_weight)
        Ys = self.target_scaler_.transform(Y)
        order_rng = self._order_rng
        for _ in range(self.max_iter):
            order = order_rng.permutation(len(Ys)) if self.shuffle else None
            if not self._samples_pass(rows, Ys, order, sample_weight):
                break

    def _initialize_samples(self, trials, Y, sample_weight):
        features = dict(representation=self.representation,
                        bidirectional=self.bidirectional,
                        input_to_readout=self.input_to_readout)
        self._order_rng = self._build(self.n_features_in_, Y.shape[1],
                                      n_readout=readout_width(
                                          self.n_reservoir, self.n_features_in_,
                                          **features))
        self.encoder_ = TrialEncoder(self.reservoir_, n_steps=self.n_steps,
                                     scale_inputs=self.scale_inputs,
                                     instance_norm=self.instance_norm, **features)
        self.target_scaler_ = StandardScaler().fit(Y, sample_weight=sample_weight)
        self.n_iter_ = 0
        for stale in ("state_", "last_output_", "input_scaler_"):  # of a sequential fit
            self.__dict__.pop(stale, None)
        return self.encoder_.fit(trials, sample_weight)

    def _samples_pass(self, rows, Y, order, sample_weight=None):
        """One pass; False when it diverged (see ``_trial_pass``)."""
        order = np.arange(len(Y)) if order is None else order
        return self._trial_pass(rows, Y.astype(rows.dtype, copy=False), order,
                                sample_weight=sample_weight) is not None

    # -- mode="sequential" -----------------------------------------------------------
    def _fit_sequential(self, pairs, weights):
        for i, (_, t) in enumerate(pairs):
            self._targets(t, reset=i == 0)
        self._initialize_sequential(pairs, weights)
        scaled = [(x, self.target_scaler_.transform(t.reshape(len(t), -1)))
                  for x, t in pairs]
        for _ in range(self.max_iter):
            if not self._sequential_pass(scaled, restart=True, weights=weights):
                break

    def _initialize_sequential(self, pairs, weights):
        n_in = self.n_features_in_ if self.input_to_readout else 0
        self._build(self.n_features_in_, self.n_outputs_,
                    self.n_outputs_ if self.output_feedback else 0,
                    n_readout=self.n_reservoir + n_in + 1)
        Xs = [x for x, _ in pairs]
        self.input_scaler_ = None
        if self.scale_inputs:
            stacked = sparse.vstack(Xs) if sparse.issparse(Xs[0]) else np.vstack(Xs)
            self.input_scaler_ = InputScaler().fit(stacked)
        # the targets' statistics weighted by the steps' weights (the inputs
        # are not: every step drives the reservoir)
        step_weights = None
        if any(w is not None for w in weights):
            step_weights = np.concatenate([np.ones(len(t)) if w is None else w
                                           for (_, t), w in zip(pairs, weights)])
        targets = np.vstack([t.reshape(len(t), -1) for _, t in pairs])
        self.target_scaler_ = StandardScaler().fit(targets, sample_weight=step_weights)
        self.n_iter_ = 0
        for stale in ("state_", "last_output_", "encoder_"):  # of an earlier fit
            self.__dict__.pop(stale, None)

    def _scaled(self, X):
        return X if self.input_scaler_ is None else self.input_scaler_.transform(X)

    def _run(self, X, Y, x, y_prev, skip=0, states=None, sample_weight=None):
        built = self._fitted_params  # not set_params after fit: see the Notes
        return run_sequence(self.reservoir_, self.readout_, self._scaled(X), Y, x,
                            y_prev, skip=skip, every=built["update_every"],
                            feedback=built["output_feedback"],
                            forced=built["teacher_forcing"],
                            input_to_readout=built["input_to_readout"], states=states,
                            sample_weight=sample_weight)

    def _sequential_pass(self, pairs, restart, weights):
        """One pass over the (X, standardized Y) series; False when it diverged."""
        snapshot = self.readout_.snapshot()
        dtype = self.readout_.W.dtype
        saved = (getattr(self, "state_", None), getattr(self, "last_output_", None))
        if saved[0] is None:  # first pass: diverging keeps the zero start state
            saved = (np.zeros(self.n_reservoir, dtype=dtype), np.zeros(self.n_outputs_))
        for (X, Y), w in zip(pairs, weights):
            if restart:
                self.state_ = np.zeros(self.n_reservoir, dtype=dtype)
                self.last_output_ = np.zeros(self.n_outputs_)
            _, self.state_, self.last_output_ = self._run(
                X, Y, self.state_, self.last_output_, skip=self.washout if restart else 0,
                sample_weight=w)
            if self.readout_.diverged():
                self.readout_.restore(snapshot)
                self.state_, self.last_output_ = saved
                warn_divergence(self, len(self.loss_curve_), "Lower learning_rate_init or "
                                "td_gain, raise rls_alpha, or lower spectral_radius and "
                                "feedback_scaling.")
                return False
        self._end_epoch(len(self.loss_curve_) + 1)
        self.n_iter_ += 1
        return True

    # -- prediction ------------------------------------------------------------------
    @property
    def _fitted_sequential(self):
        return hasattr(self, "state_")

    def _outputs(self, X, keep_rows=False):
        """Standardized outputs for ``X``, and its readout rows when asked."""
        if self._fitted_sequential:
            check_not_ragged(X, _ONE_SERIES)
            X = validate_data(self, X, reset=False, accept_sparse=("csr", "csc"),
                              dtype=FLOAT_DTYPES)
            R = (np.empty((X.shape[0], self.readout_.W.shape[0]),
                          dtype=self.readout_.W.dtype) if keep_rows else None)
            Z, _, _ = self._run(X, None, self.state_, self.last_output_, states=R)
            return Z, R
        R = self.encoder_.transform(validate_trials(self, X, reset=False))
        return self.readout_.predict(R), R

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions for independent samples, or for the steps that follow.

        ``mode="samples"``: one prediction per sample, independent of the
        others. ``mode="sequential"``: the steps that follow the fitted
        segment, from ``state_`` and ``last_output_`` (not modified); with
        ``output_feedback=True`` each prediction is fed back at the next step.

        Parameters
        ----------
        X : {array-like, sparse matrix}, as in :meth:`fit` (one series)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        Z, _ = self._outputs(X)
        if not np.isfinite(Z).all():
            raise ValueError("The predictions are not finite: the readout or the "
                             "fed-back output diverged. Lower spectral_radius or "
                             "feedback_scaling, or refit with a larger rls_alpha.")
        Z = self.target_scaler_.inverse_transform(Z)
        return Z[:, 0] if self._y_1d else Z

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the readout update each sample or step would cause now.

        The readout rows are computed exactly as in :meth:`predict` and, with
        the (standardized) targets ``y``, give the norm of the update
        ``step(delta, r)`` the iTDS rule would make from the current weights
        and RLS matrix, with the bounded ``delta = ((y - z) + td_sign td_gain (d -
        z)) / (1 + td_gain)`` (see :meth:`ITDSReadout.step_norms
        <sklearn_itds._itds.ITDSReadout.step_norms>`). Nothing is learned and
        the stored state is unchanged. Comparing clean with replaced targets
        (counter-trials) shows how much iTDS damps the response to
        contradictory examples (paper property P3).

        Parameters
        ----------
        X : {array-like, sparse matrix}, as in :meth:`predict`
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        norms : ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_itds import ITDSReservoirRegressor
        >>> series = np.sin(2 * np.pi * np.arange(700) / 50)
        >>> X, y = series[:-1, None], series[1:]
        >>> model = ITDSReservoirRegressor(n_reservoir=50, mode="sequential",
        ...                                washout=50, random_state=0)
        >>> model.fit(X[:600], y[:600])
        ITDSReservoirRegressor(mode='sequential', n_reservoir=50, random_state=0,
                               washout=50)
        >>> norms = model.td_step_norms(X[600:], y[600:])
        >>> bool(model.td_step_norms(X[600:], -y[600:]).mean() > norms.mean())
        True
        """
        check_is_fitted(self)
        if self._fitted_sequential and isinstance(X, (list, tuple)) and X and \
                all(getattr(x, "ndim", 0) == 2 for x in X):
            raise ValueError("td_step_norms takes one series: the steps that follow "
                             "the fitted segment.")
        _, R = self._outputs(X, keep_rows=True)
        y = check_array(y, ensure_2d=False, dtype=FLOAT_DTYPES, input_name="y")
        check_consistent_length(R, y)
        Y = self.target_scaler_.transform(self._targets(y, reset=False))
        return self.readout_.step_norms(R, Y.astype(R.dtype, copy=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.three_d_array = self.mode != "sequential"
        tags.target_tags.multi_output = True
        return tags
