"""ITDSReservoirClassifier: a reservoir whose readout learns online by iTDS."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_is_fitted

from ._reservoir_base import ReservoirMixin, with_bias
from ._validation import (
    INT,
    check_bool,
    check_classes,
    partial_fit_classes,
    unchanged_on_error,
    validate_trials,
    warn_divergence,
)

__all__ = ["ITDSReservoirClassifier"]

_CHUNK = 256  # trials whose states are computed together; bounds memory


class ITDSReservoirClassifier(ReservoirMixin, ClassifierMixin, BaseEstimator):
    """Echo-state reservoir classifier with an iTDS-trained readout.

    Each sample is presented as a *trial*: the reservoir starts from the zero
    state and is driven for ``n_steps`` steps by the sample (a row of a 2-D
    ``X`` is held constant; a 3-D ``X`` of shape ``(n_samples, n_steps,
    n_features)`` gives one input per step). During every trial the linear
    readout on ``[state, 1]`` learns online towards the one-hot label at each
    of the last ``n_learn_steps`` steps, with the iTDS stabilized error (see
    :mod:`sklearn_itds._itds`). Prediction reads the readout at the end of the
    trial.

    Trial states are computed for chunks of samples at once (they do not depend
    on the readout), and the readout updates are then applied one sample-step
    at a time, in order: this is exact per-step online learning.

    Parameters
    ----------
    n_reservoir : int, default=400
        Number of reservoir units (>= 1).
    n_steps : int, default=8
        Steps per trial for 2-D input (a 3-D input sets its own length).
    n_learn_steps : int or None, default=None
        Learn at the last ``n_learn_steps`` steps of each trial; None: every step.
    spectral_radius : float, default=0.9
        Spectral radius of the recurrent weights (>= 0).
    density : float, default=0.1
        Fraction of non-zero recurrent weights, in (0, 1].
    leak_rate : float, default=0.5
        Leak rate in (0, 1]; 1 is a non-leaky reservoir.
    input_scaling : float, default=0.5
        Input weights are uniform in ``[-input_scaling, input_scaling]``.
    bias_scaling : float, default=0.2
        Unit biases are uniform in ``[-bias_scaling, bias_scaling]``.
    learning_rule : {"lms", "rls"}, default="lms"
        Normalized LMS (delta rule) or recursive least squares.
    learning_rate : float, default=0.05
        Normalized LMS step size (> 0).
    rls_alpha : float, default=1.0
        RLS prior ``P0 = I / rls_alpha`` (> 0).
    td_gain : float, default=2.0
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
    td_timescale : float, default=5.0
        How many times slower the echo readout learns than the readout (> 0).
        The defaults were chosen with ``benchmarks/select_defaults.py
        reservoir`` on load_digits with 0, 30 and 40 % wrong training labels.
    feedback_split : bool, default=False
        Sign-split readout ``W = W_pos - W_neg`` (paper property P5).
    readout_sparsity : float, default=0.0
        Fraction of readout weights held at zero by a fixed random mask, in [0, 1).
    max_iter : int, default=15
        Passes (epochs) over the training data in ``fit``.
    shuffle : bool, default=True
        Shuffle the sample order in each epoch of ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds independent streams for the reservoir, the mask and the order.
    verbose : int, default=0
        Print one progress line per epoch.
    dtype : {"float64", "float32"} or numpy dtype, default=np.float64
        Floating-point type of the reservoir, the readout and the trial states. float32
        halves the memory traffic of the per-step updates and of the batched reservoir products; results
        agree with float64 to single precision (see ``tests/test_dtype.py``).
        With ``learning_rule="rls"`` in float32 keep ``rls_alpha`` moderate.

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
    readout_ : ITDSReadout
        The readout; ``readout_.W`` (n_reservoir + 1, n_classes) holds the
        weights with the bias in the last row, ``readout_.W_echo`` the echo.
    temperature_ : float
        Softmax temperature of :meth:`predict_proba`.
    td_history_ : dict of ndarray
        Per-epoch iTDS diagnostics: ``e_sup``, ``e_td``, ``td_ratio``,
        ``cosine``, ``weight_change``, ``loss`` and ``n_updates``.
    loss_curve_ : list of float
        Per-epoch mean squared supervised error (``td_history_["loss"]``).
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    ITDSReservoirRegressor : The same reservoir for time series.
    ITDSMLPClassifier : A feedforward network with an iTDS output layer.

    Notes
    -----
    :meth:`predict_proba` is ``softmax(z / temperature_)`` where ``z`` is the
    readout at the end of the trial. ``temperature_`` minimizes the log loss of
    the *a-priori* (before each update) end-of-trial outputs seen in the last
    epoch of training, so it is calibrated on predictions the readout made
    before learning from each sample.

    References
    ----------
    .. [1] Pilzak, Pennington & Thivierge, "Intrinsic stabilization of synaptic
       plasticity improves learning and robustness in artificial neural
       networks", Nat Commun 17, 4164 (2026).
    .. [2] Jaeger, "The echo state approach to analysing and training recurrent
       neural networks", GMD Report 148 (2001).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_itds import ITDSReservoirClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ITDSReservoirClassifier(n_reservoir=200, max_iter=5, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.85
    True
    """

    def __init__(self, n_reservoir: int = 400, *, n_steps: int = 8,
                 n_learn_steps: int | None = None, spectral_radius: float = 0.9,
                 density: float = 0.1, leak_rate: float = 0.5,
                 input_scaling: float = 0.5, bias_scaling: float = 0.2,
                 learning_rule: str = "lms", learning_rate: float = 0.05,
                 rls_alpha: float = 1.0, td_gain: float = 2.0,
                 td_timescale: float = 5.0, feedback_split: bool = False,
                 readout_sparsity: float = 0.0, max_iter: int = 15,
                 shuffle: bool = True, random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, dtype: DTypeLike = np.float64) -> None:
        self.n_reservoir = n_reservoir
        self.n_steps = n_steps
        self.n_learn_steps = n_learn_steps
        self.spectral_radius = spectral_radius
        self.density = density
        self.leak_rate = leak_rate
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.learning_rule = learning_rule
        self.learning_rate = learning_rate
        self.rls_alpha = rls_alpha
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # -- validation --------------------------------------------------------------
    def _check_params(self):
        extra = {"n_steps": (INT, 1, None, "left")}
        if self.n_learn_steps is not None:
            extra["n_learn_steps"] = (INT, 1, None, "left")
        self._check_reservoir_params(extra)
        check_bool(self.shuffle, "shuffle")

    def _trial_steps(self, X):
        """(trial length, number of learning steps) for input ``X``."""
        T = X.shape[1] if X.ndim == 3 else self.n_steps
        L = T if self.n_learn_steps is None else self.n_learn_steps
        if L > T:
            raise ValueError(
                f"n_learn_steps={L} exceeds the trial length {T}; use "
                f"n_learn_steps <= {T} or None.")
        return T, L

    # -- fitting -------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike) -> ITDSReservoirClassifier:
        """Fit the readout online over ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
array-like of shape (n_samples, n_steps, n_features)
            Static samples (each held for ``n_steps``) or one sequence each.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).

        Returns
        -------
        self : ITDSReservoirClassifier
        """
        with unchanged_on_error(self):
            self._check_params()
            X, y = validate_trials(self, X, y, reset=True)
            classes, y_index = check_classes(self, y, None)
            steps = self._trial_steps(X)
        order_rng = self._initialize(classes)
        for _ in range(self.max_iter):
            order = order_rng.permutation(len(y)) if self.shuffle else None
            if not self._epoch(X, y_index, order, steps):
                break
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    classes: ArrayLike | None = None) -> ITDSReservoirClassifier:
        """One online pass over ``(X, y)`` in the given order.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call, optional afterwards.

        Returns
        -------
        self : ITDSReservoirClassifier
        """
        first = not hasattr(self, "classes_")
        with unchanged_on_error(self):
            classes = partial_fit_classes(self, classes)
            self._check_params()
            X, y = validate_trials(self, X, y, reset=first)
            classes, y_index = check_classes(self, y, classes)
            steps = self._trial_steps(X)
        if first:
            self._initialize(classes)
        self._epoch(X, y_index, None, steps)
        return self

    def _initialize(self, classes):
        """Build the reservoir and readout; returns the sample-order stream."""
        self.classes_ = classes
        order_rng = self._build(self.n_features_in_, classes.size)
        self.n_iter_ = 0
        self.temperature_ = 1.0  # kept if the first epoch diverges
        return order_rng

    def _epoch(self, X, y_index, order, steps):
        """One pass; returns False when training diverged and was stopped."""
        T, L = steps
        readout = self.readout_
        targets = np.eye(self.classes_.size, dtype=readout.W.dtype)[y_index]
        order = np.arange(len(y_index)) if order is None else order
        snapshot = readout.snapshot()
        z_end = np.empty((len(order), self.classes_.size))
        for batch in gen_batches(len(order), _CHUNK):
            idx = order[batch]
            S = self.reservoir_.run_trials(X[idx], T, L, bias=True)
            R = S.reshape(-1, S.shape[-1])
            Z = readout.partial_fit(R, np.repeat(targets[idx], L, axis=0))
            z_end[batch] = Z[L - 1::L]
            if not readout.is_finite():
                readout.restore(snapshot)
                warn_divergence(self, self.n_iter_, "Lower learning_rate or "
                                "td_gain, or scale the inputs (e.g. StandardScaler).")
                return False
        self._end_epoch(self.n_iter_ + 1)
        self.n_iter_ += 1
        self.temperature_ = _fit_temperature(z_end, y_index[order])
        return True

    # -- prediction ------------------------------------------------------------------
    def _end_outputs(self, X):
        check_is_fitted(self)
        X = validate_trials(self, X, reset=False)
        T, _ = self._trial_steps(X)
        Z = np.empty((X.shape[0], self.classes_.size))
        for batch in gen_batches(X.shape[0], _CHUNK):
            S = self.reservoir_.run_trials(X[batch], T, 1)[:, 0]
            Z[batch] = self.readout_.predict(with_bias(S))
        if not np.isfinite(Z).all():
            raise ValueError("The readout outputs are not finite: the weights are "
                             "too large. Refit with a lower learning_rate or td_gain.")
        return Z

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Readout at the end of each trial.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for
            two classes (the second class's output minus the first's).
        """
        Z = self._end_outputs(X)
        return Z[:, 1] - Z[:, 0] if self.classes_.size == 2 else Z

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``softmax(z / temperature_)``."""
        return softmax(self._end_outputs(X) / self.temperature_, axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels."""
        Z = self._end_outputs(X)
        return self.classes_[np.argmax(Z, axis=1)]

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the readout update each sample would cause now, not applied.

        For each sample, the readout at the end of its trial (the state
        :meth:`predict` reads) and its one-hot label give the norm of the
        update ``step(delta, r)`` the iTDS rule would make from the current
        weights, with ``delta = (y - z) + td_gain (d - z)`` (see
        :meth:`ITDSReadout.step_norms <sklearn_itds._itds.ITDSReadout.step_norms>`).
        Nothing is learned. Comparing labels that agree with the model with
        wrong labels (counter-trials) shows how much iTDS damps the response to
        contradictory examples (paper property P3); with ``td_gain=0`` the
        values are the plain supervised update sizes.

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
        >>> clf = ITDSReservoirClassifier(n_reservoir=50, max_iter=3,
        ...                               random_state=0).fit(X, y)
        >>> wrong = (y + 1) % 3
        >>> bool(clf.td_step_norms(X, wrong).mean() > clf.td_step_norms(X, y).mean())
        True
        """
        check_is_fitted(self)
        X, y = validate_trials(self, X, y, reset=False)
        _, y_index = check_classes(self, y, self.classes_)
        T, _ = self._trial_steps(X)
        targets = np.eye(self.classes_.size, dtype=self.readout_.W.dtype)[y_index]
        norms = np.empty(X.shape[0])
        for batch in gen_batches(X.shape[0], _CHUNK):
            S = self.reservoir_.run_trials(X[batch], T, 1)[:, 0]
            norms[batch] = self.readout_.step_norms(with_bias(S), targets[batch])
        return norms

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.three_d_array = True
        return tags


def _fit_temperature(Z, y_index):
    """The temperature T minimizing the log loss of ``softmax(Z / T)``."""
    rows = np.arange(len(y_index))

    def log_loss(log_t):
        return -log_softmax(Z / np.exp(log_t), axis=1)[rows, y_index].mean()

    if not np.isfinite(Z).all():
        return 1.0
    return float(np.exp(minimize_scalar(log_loss, bounds=(-7, 7),
                                        method="bounded").x))
