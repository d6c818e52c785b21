"""ITDSReservoirClassifier: a reservoir whose trial readout learns by iTDS."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._itds import ECHO_READINGS, DecisionEcho
from ._representations import REPRESENTATIONS
from ._reservoir_base import ReservoirMixin
from ._ridge import RidgeSolver
from ._trials import TrialEncoder, readout_width
from ._validation import (
    INT,
    check_bool,
    check_classes,
    check_known_labels,
    check_option,
    check_weights,
    partial_fit_classes,
    unchanged_on_error,
    validate_trials,
)

__all__ = ["ITDSReservoirClassifier"]



class ITDSReservoirClassifier(ReservoirMixin, ClassifierMixin, BaseEstimator):
    """Echo-state reservoir classifier with an iTDS-trained readout.

    Each sample is a *trial*: the reservoir starts from the zero state and is
    driven by the sample (a row of a 2-D ``X`` is held for ``n_steps`` steps;
    a sequence gives one input per step). The trial's state trajectory becomes
    one feature row (by default the mean state over the trial, see
    ``representation``), the features are standardized, and a linear readout
    on ``[features, 1]`` learns toward the one-hot label with the bounded
    iTDS stabilized error (see :mod:`sklearn_itds._itds`).

    By default the readout is ridge regression (one RLS pass from ``P0 = I /
    rls_alpha``) with the penalty of least exact leave-one-out error, and its
    echo is the *decision echo*: over ``max_iter=3`` passes, each training
    trial's target leans toward the readout's own past decision on it,
    ``s = (y + td_gain d) / (1 + td_gain)``, so that labels the readout
    keeps contradicting pull it less. The defaults were chosen by measurement
    on the development data (``benchmarks/select_classifier.py``, numbers in
    ``docs/results.rst``). With ``td_gain=0`` every pass is the same ridge
    fit: the ablation is plain ridge regression on the same features.

    Parameters
    ----------
    n_reservoir : int, default=400
        Number of reservoir units (>= 1).
    representation : {"mean", "last", "mean_last"}, default="mean"
        What the readout reads from a trial: the mean state over its steps,
        the state at its last step, or both side by side.
    bidirectional : bool, default=False
        Also run each sequence backwards and append that representation.
        (A static sample reads the same both ways: its features repeat.)
    input_to_readout : bool, default=False
        Append the same representation of the (scaled) input itself, so that
        the readout contains a linear model of the input.
    n_steps : int, default=8
        Steps a static (2-D) sample is held for; sequences set their own length.
    spectral_radius : float, default=1.0
        Spectral radius of the recurrent weights (>= 0).
    density : float, default=0.05
        Fraction of non-zero recurrent weights, in (0, 1].
    leak_rate : float, default=1.0
        Leak rate in (0, 1]; 1 is a non-leaky reservoir.
    input_scaling : float, default=1.0
        Input weights are uniform in ``[-input_scaling, input_scaling]``
        (applied to the standardized inputs when ``scale_inputs``).
    bias_scaling : float, default=1.0
        Unit biases are uniform in ``[-bias_scaling, bias_scaling]``. Biases
        of the order of the input drive make the units' responses nonlinear
        (a tanh at 0 is nearly linear, and the mean of a linear filter of a
        centred series carries little about its shape).
    scale_inputs : bool, default=True
        Before the input weights, centre each input feature and divide all by
        one common scale (the root mean square of their standard deviations
        over the training data's samples and time steps), so that
        ``input_scaling`` means the same on any data while the features keep
        their relative scales. Sparse input stays sparse (its centring is
        applied to the reservoir's input drive) and gives the same model.
    learning_rule : {"rls", "lms"}, default="rls"
        Recursive least squares (one pass from ``P0 = I / rls_alpha`` is
        ridge regression on the trial features) or normalized LMS (the delta
        rule, over ``max_iter`` passes: use ``max_iter`` of about 150).
    learning_rate_init : float, default=0.05
        Normalized LMS step size (> 0); unused by RLS. The LMS readout has
        no schedule: the step is constant, as MLPClassifier's
        ``learning_rate_init`` with ``learning_rate="constant"``.
    rls_alpha : float or "auto", default="auto"
        RLS prior ``P0 = I / rls_alpha``: the ridge penalty on the standardized
        features (> 0). "auto" chooses, among 33 values from 1e-3 to 1e5, the
        penalty with the least exact leave-one-out squared error of ridge
        toward the one-hot labels on the training rows (the criterion of
        :class:`~sklearn.linear_model.RidgeCV`; in ``partial_fit``, on the
        first call's data); with ``feedback_split`` or ``readout_sparsity``,
        whose readouts are not ridge, it is 10. The value used is
        ``rls_alpha_``.
    td_gain : float, default=2.0
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
    td_timescale : float, default=1.0
        How slowly the echo follows the readout (>= 1). For the decision echo,
        the number of passes over which a trial's echo averages the
        readout's decisions (1: the decisions of the last pass); for the
        learned echo, how many times more slowly the echo readout learns;
        for the weight average, the number of updates it averages over.
    echo : {"decision", "learned", "weight_average"}, default="decision"
        What the echo ``d`` is (equations: :mod:`sklearn_itds._itds`).
        "decision": each training trial's running average (over passes) of
        the readout's decision on it, the one-hot vector of its largest
        output, held fixed during a pass; it starts at the labels, so the
        first pass learns plainly. With RLS every pass of ``fit`` refits the
        readout from its prior: a pass is ridge toward ``(y + td_gain d) /
        (1 + td_gain)``, computed in closed form. ``partial_fit`` passes once
        over trials it has not seen: they have no past decisions, so their
        echo is their labels and the call learns plainly, as ``fit``'s first
        pass does. (The readout echoes, "learned" and "weight_average", do
        act across calls; on digits streams they were no better than plain
        learning: docs/results, "Where iTDS does not help".) "learned": a second readout ``Wbar`` that
        learns to reproduce the readout's output ``z``, ``td_timescale``
        times more slowly (``Wbar += step(z - d, r) / td_timescale``).
        "weight_average": an exponential moving average of the readout's
        weights, moved after every readout update (``Wbar += (W - Wbar) /
        td_timescale``, a "mean teacher"). With ``td_gain=0`` the readout
        learns plainly for every reading.
    td_sign : {1, -1}, default=1
        Sign of the top-down term: the readout learns from ``((y - z) +
        td_sign * td_gain * (d - z)) / (1 + td_gain)``; -1 pushes it away from
        its echo (for ``td_gain >= 1`` it then no longer pulls toward its
        target, and a fit may diverge; with the decision echo that is
        refused). With ``td_gain=0`` the sign has no effect.
    feedback_split : bool, default=False
        Sign-split readout ``W = W_pos - W_neg`` (paper property P5).
    readout_sparsity : float, default=0.0
        Fraction of readout weights held at zero by a fixed random mask, in [0, 1).
    max_iter : int, default=3
        Passes (epochs) over the training data in ``fit``. The features are
        computed once; a pass costs one readout update per sample (a
        closed-form ridge solve for the decision echo with RLS).
    early_stopping : bool, default=True
        Where the passes are closed-form ridge solves (the decision echo with
        RLS and ``td_sign=1``, the default), keep the pass whose
        leave-one-out outputs agree best with the training labels (accuracy;
        ties go to the earlier pass, so the first, plain pass is kept unless
        a later one does better). The leave-one-out outputs are exact and
        free, so no validation split is set aside. Under label noise that
        replaces labels symmetrically, agreement with the noisy labels ranks
        models as agreement with the true ones would; where the readout
        underfits, the decision echo can reinforce its own mistakes, and this
        keeps the plain fit instead. Other readouts run all ``max_iter``
        passes (it has no effect on them).
    shuffle : bool, default=True
        Shuffle the sample order in each epoch of ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds independent streams for the reservoir, the mask and the order.
    verbose : int, default=0
        Print one progress line per epoch.
    dtype : {"float32", "float64"} or numpy dtype, default=np.float32
        Floating-point type of the reservoir, the features and the readout.
        float32 halves the memory traffic, and numpy's float32 ``tanh`` is
        vectorized where its float64 one is not (CPUs without AVX-512): the
        reservoir runs 2-3 times faster. Results agree with float64 to
        single precision (see ``tests/test_dtype.py``); the leave-one-out
        penalty and the closed-form ridge passes are computed in float64
        either way. With per-row RLS updates in float32 (``echo`` other
        than "decision") keep ``rls_alpha`` moderate.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input features (per time step).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.
    reservoir_ : Reservoir
        The reservoir weights (``W``, ``W_in``, ``bias``).
    encoder_ : TrialEncoder
        Trials to readout rows; holds the input and feature statistics
        (``input_scaler_``, ``feature_scaler_``) learned from the training data
        (in ``partial_fit``, from the first call's data).
    readout_ : ITDSReadout
        The readout; ``readout_.W`` (n_readout_inputs, n_classes) holds the
        weights with the bias in the last row, ``readout_.W_echo`` the echo
        readout of the learned and weight-average echoes (zeros for the
        decision echo, which is a memory of the training trials used during
        ``fit`` only).
    rls_alpha_ : float or None
        The RLS penalty used (``rls_alpha``, or the one "auto" chose); None
        with ``learning_rule="lms"``.
    temperature_ : float
        Softmax temperature of :meth:`predict_proba`.
    td_history_ : dict of ndarray
        Per-epoch iTDS diagnostics: ``e_sup``, ``e_td``, ``td_ratio``,
        ``cosine``, ``weight_change``, ``loss`` and ``n_updates``.
    loss_curve_ : list of float
        Per-epoch mean of ``0.5 |e_sup|^2`` over the updates, half the mean
        squared supervised error (``td_history_["loss"]``).
    n_iter_ : int
        Number of passes run by the last call: ``fit``'s, or one for a
        ``partial_fit`` call, as MLPClassifier's and SGDClassifier's (a
        ``partial_fit`` whose pass diverged leaves it, like the rest of the
        model, as it was). ``loss_curve_`` and ``td_history_`` keep every
        call's.
    validation_scores_ : list of float or None
        With ``early_stopping`` (where it applies), each pass's leave-one-out
        accuracy on the training labels; None otherwise.
    best_validation_score_ : float or None
        With ``early_stopping`` (where it applies), the kept pass's score;
        None otherwise.

    See Also
    --------
    ITDSReservoirRegressor : The same reservoir for regression and time series.
    ITDSMLPClassifier : A feedforward network with an iTDS output layer.

    Notes
    -----
    **Input.** ``X`` may be 2-D ``(n_samples, n_features)`` (dense or sparse:
    static samples), 3-D ``(n_samples, n_steps, n_features)`` (sequences), or
    a list of 2-D arrays ``(n_steps_i, n_features)``: sequences of unequal
    lengths. A trial's states depend only on its own steps, so unequal
    lengths need no padding on the user's side; internally they are
    zero-padded at the end and the padding is never read.

    :meth:`predict_proba` is ``softmax(z / temperature_)`` where ``z`` is the
    readout output. ``temperature_`` minimizes the log loss of the *a-priori*
    outputs (before each update) of the last epoch, so it is calibrated on
    predictions the readout made before learning from each sample; for a
    closed-form ridge pass these are the leave-one-out outputs (each trial's
    output from the fit on all the others), which also stand for the
    a-priori outputs in ``td_history_``.

    **What the echo can and cannot add.** For a linear readout, an echo that
    is itself linear in the features (the learned echo, the weight average)
    only shrinks the fit: at its fixed point, ridge toward ``(y + td_gain
    Wbar r) / (1 + td_gain)`` with ``Wbar = W`` is ridge with the penalty
    ``rls_alpha * (1 + td_gain)``, which the leave-one-out choice of
    ``rls_alpha`` already tunes. The decision echo is not linear (it takes the
    largest output), and it is what gains under wrong labels: see
    ``docs/results.rst`` for the measurements, including where it does not
    help.

    **Parameters after fitting.** Prediction (and :meth:`td_step_norms`)
    uses the parameters the model was fitted with: a value changed with
    ``set_params`` takes effect at the next :meth:`fit`, and
    :meth:`partial_fit` refuses to continue a model whose parameters changed.
    A call that is rejected or interrupted (``KeyboardInterrupt`` included)
    leaves the model exactly as it was before the call.

    References
    ----------
    .. [1] Pilzak, Pennington & Thivierge, "Intrinsic stabilization of synaptic
       plasticity improves learning and robustness in artificial neural
       networks", Nat Commun 17, 4164 (2026).
    .. [2] Jaeger, "The echo state approach to analysing and training recurrent
       neural networks", GMD Report 148 (2001).
    .. [3] Bianchi, Scardapane, Løkse & Jenssen, "Reservoir computing approaches
       for representation and classification of multivariate time series",
       IEEE TNNLS 32, 2169-2179 (2021).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_itds import ITDSReservoirClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = ITDSReservoirClassifier(random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.96
    True
    >>> round(clf.rls_alpha_, 1)  # the ridge penalty chosen by leave-one-out
    177.8

    Sequences of unequal lengths, as a list of ``(n_steps_i, n_features)``:

    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.standard_normal((rng.randint(5, 15), 2)) + k for k in (0, 1) * 20]
    >>> y = [0, 1] * 20
    >>> ITDSReservoirClassifier(n_reservoir=50, random_state=0).fit(X, y).score(X, y)
    1.0
    """

    _ECHO_READINGS = ECHO_READINGS
    _LIVE_PARAMS = ReservoirMixin._LIVE_PARAMS + ("early_stopping",)

    def __init__(self, n_reservoir: int = 400, *, representation: str = "mean",
                 bidirectional: bool = False, input_to_readout: bool = False,
                 n_steps: int = 8, spectral_radius: float = 1.0,
                 density: float = 0.05, leak_rate: float = 1.0,
                 input_scaling: float = 1.0, bias_scaling: float = 1.0,
                 scale_inputs: bool = True, learning_rule: str = "rls",
                 learning_rate_init: float = 0.05, rls_alpha: float | str = "auto",
                 td_gain: float = 2.0, td_timescale: float = 1.0,
                 echo: str = "decision", td_sign: int = 1,
                 feedback_split: bool = False, readout_sparsity: float = 0.0,
                 max_iter: int = 3, early_stopping: bool = True,
                 shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, dtype: DTypeLike = np.float32) -> None:
        self.n_reservoir = n_reservoir
        self.representation = representation
        self.bidirectional = bidirectional
        self.input_to_readout = input_to_readout
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
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.echo = echo
        self.td_sign = td_sign
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # -- validation --------------------------------------------------------------
    def _check_params(self):
        self._check_reservoir_params({"n_steps": (INT, 1, None, "left")})
        check_option(self.representation, "representation", REPRESENTATIONS)
        if self.echo == "decision" and self.td_sign == -1 and self.td_gain >= 1:
            raise ValueError(
                f"td_sign=-1 with echo='decision' needs td_gain < 1 (got "
                f"{self.td_gain!r}): from td_gain=1 on the readout no longer learns "
                f"its targets but their disagreement with its own past decisions. "
                f"Lower td_gain, or use td_sign=1.")
        for name in ("bidirectional", "input_to_readout", "scale_inputs", "shuffle",
                     "early_stopping"):
            check_bool(getattr(self, name), name)

    def _validate(self, X, y="no_validation", reset=False):
        return validate_trials(self, X, y, reset=reset)

    # -- fitting -------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike,
            sample_weight: ArrayLike | None = None) -> ITDSReservoirClassifier:
        """Fit the readout over ``max_iter`` passes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
array-like of shape (n_samples, n_steps, n_features), or list of arrays \
of shape (n_steps_i, n_features)
            Static samples (each held for ``n_steps``) or one sequence each.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, one per sample (trial). They weight
            everything the fit learns from the samples: the input and feature
            statistics, the readout's supervised and top-down errors and the
            echo's own learning (an RLS pass is weighted ridge, ``(R^T W R +
            rls_alpha I)^{-1} R^T W S``; an LMS step is multiplied by the
            weight), the leave-one-out errors of ``rls_alpha="auto"``, the log
            loss of ``temperature_`` and ``td_history_``. A sample of weight 0
            changes nothing. See the user guide, "Sample weights in the
            reservoir estimators".

        Returns
        -------
        self : ITDSReservoirClassifier
        """
        with unchanged_on_error(self):  # also if interrupted: see the Notes
            self._check_params()
            trials, y = self._validate(X, y, reset=True)
            sample_weight = check_weights(sample_weight, trials.U)
            classes, y_index = check_classes(self, y, None)
            order_rng = self._initialize(classes)
            rows = self.encoder_.fit(trials, sample_weight)
            targets = self._targets(y_index, rows.dtype)
            self._passes(rows, targets, y_index, order_rng, sample_weight)
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None,
                    sample_weight: ArrayLike | None = None) -> ITDSReservoirClassifier:
        """One online pass over ``(X, y)`` in the given order.

        The first call also learns the input and feature statistics (see
        ``encoder_``) from its data, so it should be representative. Later
        calls continue the fitted model with the parameters it was built
        with: changing one of them (other than ``max_iter``, ``shuffle``,
        ``verbose``, ``random_state`` and ``early_stopping``, which only
        ``fit`` reads) raises ``ValueError``.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call, optional afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit` (on the first call they
            weight the input and feature statistics too).

        Returns
        -------
        self : ITDSReservoirClassifier
        """
        first = not hasattr(self, "classes_")
        with unchanged_on_error(self, deep=() if first else ("readout_",)):
            classes = partial_fit_classes(self, classes)
            self._check_params()
            if not first:
                self._check_continued()
            trials, y = self._validate(X, y, reset=first)
            sample_weight = check_weights(sample_weight, trials.U)
            classes, y_index = check_classes(self, y, classes)
            if first:
                self._initialize(classes)
                rows = self.encoder_.fit(trials, sample_weight)
            else:
                rows = self.encoder_.transform(trials)
            targets = self._targets(y_index, rows.dtype)
            if first:
                self._fit_penalty(rows, targets, sample_weight=sample_weight)
            # The decision echo of trials not seen before: their labels (no past
            # decisions). Their present decisions instead would let a stream's
            # early mistakes outvote its labels (a class-sorted stream never
            # learns its later classes; with wrong labels the model collapses).
            echo = targets if self.echo == "decision" else None
            with self._counting_this_call():
                z_apriori = self._trial_pass(rows, targets, np.arange(len(y_index)), echo,
                                             sample_weight=sample_weight)
            if z_apriori is not None:
                self.temperature_ = _fit_temperature(z_apriori, y_index, sample_weight)
        return self

    def _initialize(self, classes):
        """Build the reservoir, encoder and readout; returns the order stream."""
        self.classes_ = classes
        features = dict(representation=self.representation,
                        bidirectional=self.bidirectional,
                        input_to_readout=self.input_to_readout)
        order_rng = self._build(self.n_features_in_, classes.size, n_readout=readout_width(
            self.n_reservoir, self.n_features_in_, **features))
        self.encoder_ = TrialEncoder(self.reservoir_, n_steps=self.n_steps,
                                     scale_inputs=self.scale_inputs, **features)
        self.n_iter_ = 0
        self.temperature_ = 1.0  # kept if the first epoch diverges
        return order_rng

    def _passes(self, rows, targets, y_index, order_rng, sample_weight):
        """``max_iter`` readout passes over the training rows (``fit``).

        The decision echo remembers each training trial; with RLS every pass
        then refits the readout from its prior (see ``DecisionEcho``), in
        closed form where the rule allows it, and there ``early_stopping``
        keeps the pass whose leave-one-out outputs agree best with the labels.
        Sets the penalty, the validation scores and the temperature.
        """
        echo = (DecisionEcho(targets, self.td_timescale)
                if self.echo == "decision" else None)
        restart = echo is not None and self.learning_rule == "rls"
        closed = restart and self.readout_.ridge_pass_applies()
        solver = RidgeSolver(rows, sample_weight) if closed else None
        self._fit_penalty(rows, targets, solver, sample_weight)
        stopping = closed and self.early_stopping
        self.validation_scores_ = [] if stopping else None
        self.best_validation_score_ = None
        best = None  # early stopping: (score, readout arrays, outputs) of the kept pass
        last = None  # the last completed pass's a-priori outputs, labels and weights
        for _ in range(self.max_iter):
            order = (order_rng.permutation(len(y_index)) if self.shuffle
                     else np.arange(len(y_index)))
            z_apriori = self._trial_pass(rows, targets, order,
                                         None if echo is None else echo.D,
                                         restart=restart and self.n_iter_ > 0,
                                         solver=solver, sample_weight=sample_weight)
            if z_apriori is None:
                break
            last = (z_apriori, y_index[order],
                    None if sample_weight is None else sample_weight[order])
            if stopping:  # leave-one-out accuracy on the labels; ties: the earlier pass
                score = _accuracy(*last)
                self.validation_scores_.append(score)
                if best is None or score > best[0] + _TIE:
                    best = (score, self.readout_.snapshot(), last)
            if echo is not None:
                echo.update(self.readout_.predict(rows))
        if best is not None:
            self.best_validation_score_, kept, last = best
            self.readout_.restore(kept)
        if last is not None:
            self.temperature_ = _fit_temperature(*last)

    def _targets(self, y_index, dtype):
        """One-hot targets of the class indices."""
        return np.eye(self.classes_.size, dtype=dtype)[y_index]

    def _rls_alpha(self):
        if not isinstance(self.rls_alpha, str):
            return self.rls_alpha
        # The leave-one-out choice is that of ridge, which a clipped (split) or
        # masked readout is not: those keep the earlier fixed penalty.
        return 10.0 if self.feedback_split or self.readout_sparsity else None

    # -- prediction ------------------------------------------------------------------
    def _rows(self, X):
        check_is_fitted(self)
        return self.encoder_.transform(self._validate(X))

    def _outputs(self, X):
        rows = self._rows(X)
        Z = self.readout_.predict(rows)
        if not np.isfinite(Z).all():
            raise ValueError("The readout outputs are not finite: the weights are "
                             "too large. Refit with a lower td_gain, a larger "
                             "rls_alpha or (LMS) a lower learning_rate_init.")
        return Z

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Readout outputs.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for
            two classes (the second class's output minus the first's).
        """
        Z = self._outputs(X)
        return Z[:, 1] - Z[:, 0] if self.classes_.size == 2 else Z

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``softmax(z / temperature_)``.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._outputs(X) / self.temperature_, axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        Z = self._outputs(X)
        return self.classes_[np.argmax(Z, axis=1)]

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the readout update each sample would cause now, not applied.

        For each sample, its readout row (the features :meth:`predict` reads)
        and its one-hot label give the norm of the update ``step(delta, r)``
        the iTDS rule would make from the current weights, with the bounded
        ``delta = ((y - z) + td_sign td_gain (d - z)) / (1 + td_gain)`` (see
        :meth:`ITDSReadout.step_norms <sklearn_itds._itds.ITDSReadout.step_norms>`).
        Nothing is learned. Comparing labels that agree with the model with
        wrong labels (counter-trials) shows how much iTDS damps the response to
        contradictory examples (paper property P3); with ``td_gain=0`` the
        values are the plain supervised update sizes. For the decision echo,
        a sample's echo ``d`` is the readout's present decision on it: the
        step a training trial gets in a further pass of ``fit`` whose echo
        keeps the last pass's decisions (``td_timescale=1``). (A
        :meth:`partial_fit` call, whose trials have no past decisions, makes
        the plain step.)

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
        y : array-like of shape (n_samples,)
            Labels (among ``classes_``), e.g. true or deliberately wrong ones.

        Returns
        -------
        norms : ndarray of shape (n_samples,)
            Frobenius norm of each sample's would-be update of ``readout_.W``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn_itds import ITDSReservoirClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = ITDSReservoirClassifier(n_reservoir=50, td_gain=1.0,
        ...                               random_state=0).fit(X, y)
        >>> wrong = (y + 1) % 3
        >>> bool(clf.td_step_norms(X, wrong).mean() > clf.td_step_norms(X, y).mean())
        True
        """
        check_is_fitted(self)
        trials, y = self._validate(X, y)
        check_known_labels(self, y)
        _, y_index = check_classes(self, y, self.classes_)
        rows = self.encoder_.transform(trials)
        return self.readout_.step_norms(rows, self._targets(y_index, rows.dtype))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.three_d_array = True
        return tags


_TIE = 1e-9  # accuracies closer than this are equal (weighted sums round)


def _accuracy(Z, y_index, sample_weight=None):
    """(Weighted) fraction of rows of ``Z`` whose largest output is the label."""
    return float(np.average(np.argmax(Z, axis=1) == y_index, weights=sample_weight))


def _fit_temperature(Z, y_index, sample_weight=None):
    """The temperature T minimizing the (weighted) log loss of ``softmax(Z / T)``."""
    rows = np.arange(len(y_index))

    def log_loss(log_t):
        return -np.average(log_softmax(Z / np.exp(log_t), axis=1)[rows, y_index],
                           weights=sample_weight)

    if not np.isfinite(Z).all():
        return 1.0
    return float(np.exp(minimize_scalar(log_loss, bounds=(-7, 7),
                                        method="bounded").x))
