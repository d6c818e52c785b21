"""ITDSReservoirRegressor: time-series prediction and generation with iTDS."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_is_fitted, validate_data

from ._reservoir_base import ReservoirMixin
from ._threads import single_blas_thread
from ._validation import INT, REAL, check_bool, unchanged_on_error, warn_divergence

__all__ = ["ITDSReservoirRegressor"]

_CHUNK = 1024  # time steps whose input drive is computed together


class ITDSReservoirRegressor(ReservoirMixin, RegressorMixin, BaseEstimator):
    """Echo-state reservoir for time series, with an iTDS-trained readout.

    The rows of ``X`` are consecutive time steps of one series and ``y`` holds
    the target at each step (one or more outputs). The reservoir runs through
    the series and its linear readout on ``[state, 1]`` learns online at every
    ``update_every``-th step after the first ``washout`` steps, with recursive
    least squares (default) or normalized LMS and the iTDS stabilized error
    (see :mod:`sklearn_itds._itds`).

    **State across calls.** ``fit`` starts from the zero state and stores the
    state reached at the end in ``state_`` (and the last output in
    ``last_output_``). ``predict(X)`` continues from there, treating ``X`` as
    the steps that follow the training segment (as in ``TimeSeriesSplit``), and
    never changes the stored state: repeated calls give identical results.
    ``partial_fit`` continues the stream (and learning) from the stored state;
    its first call starts from the zero state and applies ``washout``.
    ``fit`` also accepts a list of 2-D arrays, several independent series that
    each start from the zero state (with their own washout); the stored state
    is then the end of the last series.

    **Output feedback** (``output_feedback=True``, FORCE-style): the reservoir
    also receives the previous output through feedback weights. While learning,
    the fed-back value is the previous target when ``teacher_forcing=True`` and
    the network's own previous output otherwise (as in FORCE learning). In
    ``predict`` it is always the network's own previous prediction, so the
    network generates autonomously: give it constant input rows (or the inputs
    that follow) and it continues the pattern.

    Parameters
    ----------
    n_reservoir : int, default=300
        Number of reservoir units (>= 1).
    spectral_radius : float, default=0.9
        Spectral radius of the recurrent weights (>= 0).
    density : float, default=0.1
        Fraction of non-zero recurrent weights, in (0, 1].
    leak_rate : float, default=0.3
        Leak rate in (0, 1].
    input_scaling : float, default=1.0
        Input weights are uniform in ``[-input_scaling, input_scaling]``.
    bias_scaling : float, default=0.2
        Unit biases are uniform in ``[-bias_scaling, bias_scaling]``.
    learning_rule : {"rls", "lms"}, default="rls"
        Recursive least squares (FORCE) or normalized LMS.
    learning_rate : float, default=0.05
        Normalized LMS step size (> 0); unused by RLS.
    rls_alpha : float, default=1e-4
        RLS prior ``P0 = I / rls_alpha``: the ridge penalty of the equivalent
        least-squares problem (> 0). With ``td_gain > 0`` keep it well above
        1e-6: the huge early RLS gain then amplifies the top-down term.
    washout : int, default=0
        Steps at the start of each series (from the zero state) that drive the
        reservoir but are not learned from.
    update_every : int, default=1
        Learn at every ``update_every``-th step (FORCE often uses 2).
    output_feedback : bool, default=False
        Feed the previous output back into the reservoir.
    feedback_scaling : float, default=1.0
        Feedback weights are uniform in ``[-feedback_scaling, feedback_scaling]``.
    teacher_forcing : bool, default=False
        While learning with output feedback, feed back the previous target
        (True) or the network's own previous output (False, FORCE learning).
        Own-output feedback generated the 4-sine target far better in our
        measurements (see the performance and results pages).
    td_gain : float, default=0.01
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
        The default is deliberately small: with one-pass RLS the top-down term
        never improved regression or generation in our measurements, and larger
        gains bias the fit (RLS never forgets the early pull toward the lagging
        echo). ``td_gain=0.01`` with ``td_timescale=1`` is within noise of plain
        RLS.
    td_timescale : float, default=1.0
        How many times slower the echo readout learns than the readout (> 0).
    feedback_split : bool, default=False
        Sign-split readout ``W = W_pos - W_neg``.
    readout_sparsity : float, default=0.0
        Fraction of readout weights held at zero by a fixed mask, in [0, 1).
    max_iter : int, default=1
        Passes over the series in ``fit`` (each pass restarts from the zero state).
    random_state : int, RandomState instance or None, default=None
        Seeds independent streams for the reservoir weights and the mask.
    verbose : int, default=0
        Print one progress line per pass.
    dtype : {"float64", "float32"} or numpy dtype, default=np.float64
        Floating-point type of the reservoir, the readout and the RLS matrix ``P``. float32
        halves the memory traffic of the per-step updates (the RLS update reads and writes ``P`` at every learning step); results
        agree with float64 to single precision (see ``tests/test_dtype.py``).
        With RLS in float32 keep ``rls_alpha`` moderate (e.g. >= 1e-2): a
        huge initial ``P`` loses the small corrections to rounding.

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.
    n_outputs_ : int
        Number of outputs.
    reservoir_ : Reservoir
        The reservoir weights (``W``, ``W_in``, ``bias``, ``W_fb``).
    readout_ : ITDSReadout
        The readout; ``readout_.W`` (n_reservoir + 1, n_outputs) holds the
        weights with the bias in the last row, ``readout_.P`` the RLS matrix
        (lower triangle).
    state_ : ndarray of shape (n_reservoir,)
        Reservoir state at the end of the last ``fit``/``partial_fit`` call.
    last_output_ : ndarray of shape (n_outputs,)
        Output fed back at the next step (the last target under teacher
        forcing, otherwise the last output).
    td_history_ : dict of ndarray
        iTDS diagnostics per pass (``fit``) or per ``partial_fit`` call.
    loss_curve_ : list of float
        Mean squared a-priori error per pass (``td_history_["loss"]``).
    n_iter_ : int
        Number of passes run.

    See Also
    --------
    ITDSReservoirClassifier : The same reservoir for trial-based classification.

    Notes
    -----
    With ``td_gain=0``, ``learning_rule="rls"`` and one pass, the readout is the
    ridge solution ``(R^T R + rls_alpha I)^{-1} R^T Y`` on the learned states
    ``R`` (bias as a constant column), up to rounding.

    References
    ----------
    .. [1] Pilzak, Pennington & Thivierge, "Intrinsic stabilization of synaptic
       plasticity improves learning and robustness in artificial neural
       networks", Nat Commun 17, 4164 (2026).
    .. [2] Sussillo & Abbott, "Generating coherent patterns of activity from
       chaotic neural networks", Neuron 63, 544-557 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds import ITDSReservoirRegressor
    >>> t = np.arange(1200)
    >>> series = np.sin(2 * np.pi * t / 50)
    >>> X, y = series[:-1, None], series[1:]          # one-step prediction
    >>> model = ITDSReservoirRegressor(n_reservoir=100, washout=50, random_state=0)
    >>> model.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:]) > 0.99
    True
    """

    def __init__(self, n_reservoir: int = 300, *, spectral_radius: float = 0.9,
                 density: float = 0.1, leak_rate: float = 0.3,
                 input_scaling: float = 1.0, bias_scaling: float = 0.2,
                 learning_rule: str = "rls", learning_rate: float = 0.05,
                 rls_alpha: float = 1e-4, washout: int = 0, update_every: int = 1,
                 output_feedback: bool = False, feedback_scaling: float = 1.0,
                 teacher_forcing: bool = False, td_gain: float = 0.01,
                 td_timescale: float = 1.0, feedback_split: bool = False,
                 readout_sparsity: float = 0.0, max_iter: int = 1,
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0,
                 dtype: DTypeLike = np.float64) -> None:
        self.n_reservoir = n_reservoir
        self.spectral_radius = spectral_radius
        self.density = density
        self.leak_rate = leak_rate
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.learning_rule = learning_rule
        self.learning_rate = learning_rate
        self.rls_alpha = rls_alpha
        self.washout = washout
        self.update_every = update_every
        self.output_feedback = output_feedback
        self.feedback_scaling = feedback_scaling
        self.teacher_forcing = teacher_forcing
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # -- validation ----------------------------------------------------------------
    def _check_params(self):
        self._check_reservoir_params({
            "washout": (INT, 0, None, "left"),
            "update_every": (INT, 1, None, "left"),
            "feedback_scaling": (REAL, 0.0, None, "left"),
        })
        check_bool(self.output_feedback, "output_feedback")
        check_bool(self.teacher_forcing, "teacher_forcing")

    def _validate(self, X, y, reset):
        """Validate one series or a list of series; returns lists of (X, Y)."""
        many = isinstance(X, (list, tuple)) and len(X) > 0 and all(
            hasattr(x, "ndim") and x.ndim == 2 for x in X)
        if not many:
            X, y = validate_data(self, X, y, reset=reset, multi_output=True,
                                 y_numeric=True, accept_sparse=("csr", "csc"))
            pairs = [(X, y)]
        else:
            if not isinstance(y, (list, tuple)) or len(y) != len(X):
                raise ValueError("When X is a list of series, y must be a list of "
                                 "targets of the same length.")
            pairs = [validate_data(self, x, t, reset=reset and i == 0,
                                   multi_output=True, y_numeric=True)
                     for i, (x, t) in enumerate(zip(X, y))]
        y_1d = pairs[0][1].ndim == 1
        pairs = [(x, t.reshape(len(t), -1).astype(float)) for x, t in pairs]
        n_outputs = pairs[0][1].shape[1]
        if any(t.shape[1] != n_outputs for _, t in pairs):
            raise ValueError("Every series in y must have the same number of outputs.")
        if not reset and n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} outputs, but this model was fitted "
                             f"with {self.n_outputs_}.")
        return pairs, y_1d

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: ArrayLike | list, y: ArrayLike | list) -> ITDSReservoirRegressor:
        """Learn the readout online, in one or more passes over the series.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_steps, n_features), or list
            of such arrays (independent series)
            Inputs, one row per time step.
        y : array-like of shape (n_steps,) or (n_steps, n_outputs), or list
            Targets at each step.

        Returns
        -------
        self : ITDSReservoirRegressor
        """
        with unchanged_on_error(self):
            self._check_params()
            pairs, y_1d = self._validate(X, y, reset=True)
            self._check_washout(pairs)
        self._initialize(pairs, y_1d)
        for _ in range(self.max_iter):
            if not self._learn_pass(pairs, restart=True):
                break
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> ITDSReservoirRegressor:
        """Continue learning on the steps that follow the last call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_steps, n_features)
        y : array-like of shape (n_steps,) or (n_steps, n_outputs)

        Returns
        -------
        self : ITDSReservoirRegressor
        """
        first = not hasattr(self, "readout_")
        with unchanged_on_error(self):
            self._check_params()
            pairs, y_1d = self._validate(X, y, reset=first)
            if first:
                self._check_washout(pairs)
        if first:
            self._initialize(pairs, y_1d)
        self._learn_pass(pairs, restart=first)
        return self

    def _initialize(self, pairs, y_1d):
        """Build the reservoir and readout for the validated series ``pairs``."""
        self._y_1d = y_1d
        self.n_outputs_ = pairs[0][1].shape[1]
        self._build(self.n_features_in_, self.n_outputs_,
                    self.n_outputs_ if self.output_feedback else 0)
        self.n_iter_ = 0

    def _check_washout(self, pairs):
        shortest = min(x.shape[0] for x, _ in pairs)
        if self.washout >= shortest:
            raise ValueError(
                f"washout={self.washout} leaves no step to learn from in a series "
                f"of {shortest} steps; use washout < {shortest}.")

    def _learn_pass(self, pairs, restart):
        """One pass over the series; False when training diverged."""
        snapshot = self.readout_.snapshot()
        saved = (getattr(self, "state_", None), getattr(self, "last_output_", None))
        if saved[0] is None:  # first pass: diverging keeps the zero start state
            saved = (np.zeros(self.n_reservoir, dtype=self.readout_.W.dtype),
                     np.zeros(self.n_outputs_))
        for X, Y in pairs:
            if restart:
                self.state_ = np.zeros(self.n_reservoir, dtype=self.readout_.W.dtype)
                self.last_output_ = np.zeros(self.n_outputs_)
            _, self.state_, self.last_output_ = self._run(
                X, Y, self.state_, self.last_output_, skip=self.washout if restart else 0)
            if not self.readout_.is_finite():
                self.readout_.restore(snapshot)
                self.state_, self.last_output_ = saved
                warn_divergence(self, self.n_iter_, "Lower learning_rate, raise "
                                "rls_alpha, scale the inputs, or lower spectral_radius "
                                "and feedback_scaling.")
                return False
        self._end_epoch(self.n_iter_ + 1)
        self.n_iter_ += 1
        return True

    def _run(self, X, Y, x, y_prev, skip=0, states=None):
        """Drive the reservoir through ``X``; learn from ``Y`` when given.

        Returns the outputs (a-priori while learning), the final state and the
        value to feed back at the next step. ``x`` and ``y_prev`` are not
        modified.
        """
        with single_blas_thread():  # one tiny BLAS call after another
            return self._run_steps(X, Y, x, y_prev, skip, states)

    def _run_steps(self, X, Y, x, y_prev, skip, states=None):
        res, readout = self.reservoir_, self.readout_
        learn = Y is not None
        feedback = self.output_feedback
        forced = learn and self.teacher_forcing
        every = self.update_every
        N = self.n_reservoir
        W = readout.W
        r = np.ones(N + 1, dtype=W.dtype)
        Z = np.empty((X.shape[0], self.n_outputs_))
        y_prev = np.array(y_prev, dtype=W.dtype)
        for chunk in gen_batches(X.shape[0], _CHUNK):
            drive = res.drive(X[chunk])
            if feedback and forced:
                drive += np.vstack([y_prev, Y[chunk][:-1]]) @ res.W_fb
            for t, step in zip(range(chunk.start, chunk.stop), drive):
                if feedback and not forced:
                    step = step + y_prev @ res.W_fb
                x = res.step(x, step)
                r[:N] = x
                if states is not None:  # (n_steps, N + 1) rows [x, 1]
                    states[t] = r
                if learn and t >= skip and (t - skip) % every == 0:
                    z = readout.update(r, Y[t])
                else:
                    z = r @ W
                Z[t] = z
                y_prev = Y[t] if forced else z
            readout.flush()
        return Z, x, y_prev

    # -- prediction ------------------------------------------------------------------
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Outputs for the steps that follow the fitted segment.

        Starts from ``state_`` and ``last_output_`` (not modified). With
        ``output_feedback=True`` each prediction is fed back at the next step.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_steps, n_features)

        Returns
        -------
        y : ndarray of shape (n_steps,) or (n_steps, n_outputs)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=("csr", "csc"))
        Z, _, _ = self._run(X, None, self.state_, self.last_output_)
        if not np.isfinite(Z).all():
            raise ValueError("The predictions are not finite: the fed-back output "
                             "diverged. Lower spectral_radius or feedback_scaling.")
        return Z[:, 0] if self._y_1d else Z

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the readout update each step would cause now, not applied.

        The reservoir runs through ``X`` exactly as in :meth:`predict` (from
        ``state_``, feeding back its own output when ``output_feedback=True``)
        and, at each step, the state and the target ``y`` give the norm of the
        update ``step(delta, r)`` the iTDS rule would make from the current
        weights and RLS matrix, with ``delta = (y - z) + td_gain (d - z)``
        (see :meth:`ITDSReadout.step_norms
        <sklearn_itds._itds.ITDSReadout.step_norms>`). Nothing is learned and
        the stored state is unchanged. Comparing clean with replaced targets
        (counter-trials) shows how much iTDS damps the response to
        contradictory examples (paper property P3); with ``td_gain=0`` the
        values are the plain supervised update sizes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_steps, n_features)
        y : array-like of shape (n_steps,) or (n_steps, n_outputs)

        Returns
        -------
        norms : ndarray of shape (n_steps,)

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_itds import ITDSReservoirRegressor
        >>> series = np.sin(2 * np.pi * np.arange(700) / 50)
        >>> X, y = series[:-1, None], series[1:]
        >>> model = ITDSReservoirRegressor(n_reservoir=50, washout=50,
        ...                                random_state=0).fit(X[:600], y[:600])
        >>> norms = model.td_step_norms(X[600:], y[600:])
        >>> bool(model.td_step_norms(X[600:], -y[600:]).mean() > norms.mean())
        True
        """
        check_is_fitted(self)
        pairs, _ = self._validate(X, y, reset=False)
        if len(pairs) != 1:
            raise ValueError("td_step_norms takes one series: the steps that follow "
                             "the fitted segment.")
        X, Y = pairs[0]
        R = np.empty((X.shape[0], self.n_reservoir + 1), dtype=self.readout_.W.dtype)
        self._run(X, None, self.state_, self.last_output_, states=R)
        return self.readout_.step_norms(R, Y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

