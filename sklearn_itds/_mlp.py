"""ITDSMLPClassifier: a feedforward network whose output layer learns by iTDS."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from . import _mlp_base as base
from ._mlp_train import MLPTrainingMixin
from ._validation import (
    COMMON,
    INT,
    REAL,
    check_auto,
    check_bool,
    check_classes,
    check_echo,
    check_known_labels,
    check_labels,
    check_not_ragged,
    check_option,
    check_params,
    check_random_state_param,
    check_unchanged_params,
    partial_fit_classes,
    unchanged_on_error,
)

__all__ = ["ITDSMLPClassifier"]


def _stochastic_solver(estimator):
    if estimator.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic "
                             "optimizers; solver='lbfgs' is not stochastic.")
    return True


class ITDSMLPClassifier(MLPTrainingMixin, ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier with an iTDS output layer.

    A drop-in for :class:`~sklearn.neural_network.MLPClassifier` (scikit-learn
    1.9: the same parameters, attributes, targets and ``sample_weight``) whose
    output layer has an *echo*: a second readout of the last hidden layer that
    learns, ``td_timescale`` times more slowly and with the same optimizer and
    learning-rate schedule, to reproduce the network's own output
    probabilities. The gradient on the output pre-activations becomes
    ``(p - y) + td_gain * (p - p_echo)`` (see :mod:`sklearn_itds._itds`), and
    this stabilized error is backpropagated through the hidden layers.

    The output layer is MLPClassifier's: a softmax over the classes for more
    than two classes, a single logistic unit for two, and one logistic unit
    per label for a multilabel indicator ``y``; the echo has the same form.
    With ``td_gain=0`` the network is trained exactly as MLPClassifier trains
    it (same initialization, shuffling, optimizer, schedule and stopping
    rule): ``coefs_``, ``loss_curve_`` and ``predict_proba`` agree to rounding
    (about 1e-11; tested for binary, multiclass and multilabel ``y``, adam,
    sgd with each schedule, lbfgs, and sample weights).

    Minibatch training runs small products (up to about a million
    multiply-adds per minibatch) on one BLAS thread and picks the thread count
    of larger ones by timing: it alternates one thread and the caller's
    setting for a few minibatches and keeps the faster (see
    ``sklearn_itds._threads.AdaptiveBlasThreads``). With OpenBLAS the
    results do not depend on the choice. With numba installed
    (``pip install sklearn-itds[fast]``) the small case runs each epoch in one
    compiled call (``sklearn_itds._mlp_kernels``), about twice as fast on
    load_digits; its results equal the numpy path's to rounding.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Sizes of the hidden layers (each >= 1).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden-layer activation.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Optimizer; with "adam" and "sgd" the echo uses the same kind.
        "lbfgs" is full-batch L-BFGS-B on the plain loss and needs
        ``td_gain=0`` and ``feedback_split=False`` (a ValueError otherwise):
        the echo acts through the sequence of minibatch updates, which L-BFGS
        does not have, and at full-batch convergence the echo's own loss is
        minimised where the echo equals the readout, so the top-down error
        vanishes there. After an L-BFGS fit the echo is set to that fixed
        point (equal to the output layer).
    alpha : float, default=1e-4
        L2 penalty (>= 0), divided by the (weighted) sample count of each
        minibatch as in MLPClassifier.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``. Not used by "lbfgs".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of "sgd", as MLPClassifier: "invscaling" sets the
        step to ``learning_rate_init / (t + 1) ** power_t`` after each epoch
        (``t`` the number of samples seen); "adaptive" divides it by 5 where
        the stopping rule would otherwise stop, until it falls below 1e-6. The
        echo's step is always the network's divided by ``td_timescale``.
    learning_rate_init : float, default=1e-3
        Initial step size (> 0). The echo's is ``learning_rate_init /
        td_timescale``.
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule (>= 0).
    max_iter : int, default=200
        Maximum number of epochs ("adam", "sgd") or of L-BFGS iterations.
    shuffle : bool, default=True
        Shuffle samples in each epoch, in ``partial_fit`` too (as
        MLPClassifier).
    random_state : int, RandomState instance or None, default=None
        Weight initialization, shuffling, validation split and mask. As in
        MLPClassifier, every ``fit`` or ``partial_fit`` call starts a fresh
        generator from it.
    tol : float, default=1e-4
        Improvement threshold for the stopping rule.
    verbose : bool, default=False
        Print one progress line per epoch (loss and the iTDS diagnostics).
    warm_start : bool, default=False
        Continue from the previous solution in ``fit``; as in MLPClassifier the
        optimizers (and Adam's moments) start anew.
    momentum : float, default=0.9
        SGD momentum, in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov momentum with SGD.
    early_stopping : bool, default=False
        Stop when the (weighted) validation accuracy stops improving; keeps
        the best weights. Three differences from MLPClassifier: the split is
        stratified for multiclass ``y`` too (MLPClassifier stratifies binary
        ``y`` only), it falls back to an unstratified split when a class is too
        small to stratify and is ignored when the data are too few to hold out
        any (MLPClassifier raises), and ``partial_fit`` ignores it
        (MLPClassifier raises). Not used by "lbfgs".
    validation_fraction : float, default=0.1
        Fraction held out for early stopping, in (0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam decay rates, in [0, 1).
    epsilon : float, default=1e-8
        Adam numerical stability constant (> 0).
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping (or, with
        ``learning_rate="adaptive"``, before the step is divided by 5).
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs" (>= 1).
    td_gain : float, default=2.0
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
    td_timescale : float, default=20.0
        How many times slower the echo learns than the network (>= 1). The
        defaults were chosen with ``benchmarks/select_defaults.py mlp`` on
        load_digits with 0, 30 and 40 % wrong training labels.
    echo : {"learned", "weight_average"}, default="learned"
        What the echo output layer is. "learned": a second output layer
        trained by the cross-entropy gradient to reproduce ``p``, with the
        network's optimizer, ``td_timescale`` times more slowly.
        "weight_average": an exponential moving average of the output layer's
        weights and biases, moved after every optimizer step (``Wbar += (W -
        Wbar) / td_timescale``, a "mean teacher"). With ``td_gain=0`` the
        network is the same for either. Equations: :mod:`sklearn_itds._itds`.
    td_sign : {1, -1}, default=1
        Sign of the top-down term: the gradient on the output pre-activations
        is ``(p - y) + td_sign * td_gain * (p - p_echo)``; -1 pushes the
        output away from its echo. With ``td_gain=0`` the sign has no effect.
    feedback_split : bool, default=False
        Sign-split output weights ``W = W_pos - W_neg`` (the output biases are
        not split). The L2 penalty ``alpha`` then applies to each part, which
        pulls both toward zero.
    readout_sparsity : float, default=0.0
        Fraction of output weights held at zero by a fixed mask, in [0, 1).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for multilabel ``y``, the label columns ``0 ..
        n_labels - 1``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape (fan_in, fan_out).
    intercepts_ : list of ndarray
        Bias vectors.
    echo_coef_, echo_intercept_ : ndarray
        The echo readout of the last hidden layer.
    out_activation_ : {"softmax", "logistic"}
        "softmax" for more than two classes, "logistic" for two (one output
        unit) and for multilabel ``y`` (one unit per label).
    n_layers_ : int
    n_outputs_ : int
    loss_ : float
        Training loss of the last epoch (cross-entropy against the given labels,
        weighted by ``sample_weight``, plus the L2 term); NaN if no epoch
        completed (the first one diverged).
    loss_curve_ : list of float
        One loss per epoch; with "lbfgs", one per L-BFGS iteration
        (MLPClassifier keeps none for "lbfgs").
    best_loss_ : float or None
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    t_ : int
        Number of training samples seen by the stochastic solvers.
    n_iter_ : int
        Number of epochs (or L-BFGS iterations) run by the last ``fit`` or
        ``partial_fit`` call, as in scikit-learn 1.9.
    td_history_ : dict of ndarray
        Per-epoch iTDS diagnostics of the stochastic solvers: ``e_sup``,
        ``e_td``, ``td_ratio``, ``cosine`` (on the output probabilities; NaN
        while ``e_td`` is exactly zero, e.g. a first epoch of one minibatch),
        ``weight_change`` (mean norm of a sample's output-layer gradient step
        ``learning_rate * |[h, 1]| |delta|`` at the current step size),
        ``loss`` (mean ``0.5 |e_sup|^2`` on the probabilities: not
        ``loss_curve_``'s cross-entropy) and ``n_updates`` (samples). With
        ``sample_weight`` the means are weighted; ``n_updates`` counts rows.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network without iTDS.
    ITDSReservoirClassifier : A reservoir with an iTDS readout.

    Notes
    -----
    **Parameters after fitting.** Prediction, :meth:`input_gradient` and
    :meth:`td_step_norms` use the parameters the network was fitted with: a
    value changed with ``set_params`` takes effect at the next :meth:`fit`.
    :meth:`partial_fit` and a warm-started :meth:`fit` continue the fitted
    network and raise ``ValueError`` if one of its parameters changed
    (``alpha``, ``batch_size``, ``max_iter``, ``max_fun``, ``shuffle``,
    ``random_state``, ``tol``, ``verbose``, ``warm_start``, ``early_stopping``,
    ``validation_fraction`` and ``n_iter_no_change`` may change: every call
    reads them afresh). A call that is rejected or interrupted
    (``KeyboardInterrupt`` included) leaves the model exactly as it was.

    References
    ----------
    .. [1] Pilzak, Pennington & Thivierge, "Intrinsic stabilization of synaptic
       plasticity improves learning and robustness in artificial neural
       networks", Nat Commun 17, 4164 (2026).
    .. [2] Kingma & Ba, "Adam: A method for stochastic optimization", ICLR (2015).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_itds import ITDSMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ITDSMLPClassifier(max_iter=50, random_state=0).fit(X_train, y_train)
    >>> clf.score(X_test, y_test) > 0.95
    True

    Binary and multilabel targets use logistic outputs, as MLPClassifier:

    >>> import numpy as np
    >>> Y = np.column_stack([y_train < 5, y_train % 2 == 0]).astype(int)
    >>> multi = ITDSMLPClassifier(max_iter=50, random_state=0).fit(X_train, Y)
    >>> multi.out_activation_, multi.predict(X_test[:2]).shape
    ('logistic', (2, 2))
    """

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (100,),
                 activation: str = "relu", *, solver: str = "adam",
                 alpha: float = 1e-4, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 1e-3,
                 power_t: float = 0.5, max_iter: int = 200,
                 shuffle: bool = True, random_state: int | np.random.RandomState | None = None,
                 tol: float = 1e-4, verbose: bool | int = False,
                 warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8,
                 n_iter_no_change: int = 10, max_fun: int = 15000,
                 td_gain: float = 2.0, td_timescale: float = 20.0,
                 echo: str = "learned", td_sign: int = 1,
                 feedback_split: bool = False, readout_sparsity: float = 0.0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.echo = echo
        self.td_sign = td_sign
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity

    # -- validation ----------------------------------------------------------------
    def _check_params(self):
        check_params(self, {
            **COMMON,
            "alpha": (REAL, 0.0, None, "left"),
            "learning_rate_init": (REAL, 0.0, None, "neither"),
            "power_t": (REAL, 0.0, None, "left"),
            "tol": (REAL, 0.0, None, "left"),
            "momentum": (REAL, 0.0, 1.0, "both"),
            "validation_fraction": (REAL, 0.0, 1.0, "neither"),
            "beta_1": (REAL, 0.0, 1.0, "left"),
            "beta_2": (REAL, 0.0, 1.0, "left"),
            "epsilon": (REAL, 0.0, None, "neither"),
            "n_iter_no_change": (INT, 1, None, "left"),
            "max_fun": (INT, 1, None, "left"),
        })
        check_random_state_param(self.random_state)
        check_echo(self)
        check_option(self.activation, "activation", tuple(base.ACTIVATIONS))
        check_option(self.solver, "solver", ("adam", "sgd", "lbfgs"))
        check_option(self.learning_rate, "learning_rate",
                     ("constant", "invscaling", "adaptive"))
        for name in ("shuffle", "warm_start", "nesterovs_momentum",
                     "early_stopping", "feedback_split"):
            check_bool(getattr(self, name), name)
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes, dtype=object))
        if sizes.ndim != 1 or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be a tuple of ints >= 1, got "
                             f"{self.hidden_layer_sizes!r}.")
        batch = {"batch_size": (INT, 1, None, "left")}
        if not check_auto(self, "batch_size", batch):
            check_params(self, batch)
        if self.solver == "lbfgs" and (self.td_gain != 0 or self.feedback_split):
            raise ValueError(
                f"solver='lbfgs' needs td_gain=0 and feedback_split=False (got "
                f"td_gain={self.td_gain!r}, feedback_split={self.feedback_split!r}): "
                f"the echo and the sign split act through the sequence of "
                f"minibatch updates, which a full-batch L-BFGS fit does not have "
                f"(see the solver parameter). Use solver='adam' or 'sgd' for iTDS.")
        return [int(s) for s in sizes]

    def _validate(self, X, y, reset):
        check_not_ragged(X)
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=("csr", "csc"),
                             dtype=(np.float64, np.float32), multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _encode(self, y, classes, dtype, fitted):
        """``(classes_, y_type, Y)``: the targets as the output layer sees them.

        ``Y`` is one-hot for more than two classes (softmax output), one 0/1
        column for two classes and the indicator matrix itself for multilabel
        ``y`` (logistic outputs), as in MLPClassifier. ``classes`` is None in
        ``fit`` and the known classes in ``partial_fit`` (see
        :func:`check_classes`); ``fitted`` says whether ``y`` must match the
        kind of target the model was fitted on.
        """
        y_type = type_of_target(y, input_name="y")
        multilabel = y_type == "multilabel-indicator"
        if fitted and multilabel != (self._y_type == "multilabel-indicator"):
            raise ValueError(
                f"y is {'a multilabel indicator' if multilabel else 'a label vector'}"
                f", but the model was fitted on "
                f"{'multilabel' if not multilabel else 'single-label'} targets.")
        if multilabel:
            if classes is not None and not np.array_equal(
                    unique_labels(np.asarray(classes)), np.arange(y.shape[1])):
                raise ValueError(
                    f"For multilabel y the classes are its label columns, "
                    f"classes={list(range(y.shape[1]))}; got "
                    f"{np.asarray(classes).tolist()}.")
            if fitted and len(self.classes_) != y.shape[1]:
                raise ValueError(f"y has {y.shape[1]} labels, but the model was "
                                 f"fitted with {len(self.classes_)}.")
            return np.arange(y.shape[1]), y_type, np.asarray(y, dtype=dtype)
        if y.ndim == 2:
            raise ValueError(
                f"{type(self).__name__} accepts labels of shape (n_samples,) or a "
                f"multilabel indicator matrix of 0/1 columns; got y of type "
                f"{y_type!r} and shape {y.shape}.")
        classes_, y_index = check_classes(self, y, classes)
        if classes_.size == 2:
            return classes_, "binary", y_index.astype(dtype)[:, None]
        return classes_, "multiclass", np.eye(classes_.size, dtype=dtype)[y_index]

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike,
            sample_weight: ArrayLike | None = None) -> ITDSMLPClassifier:
        """Train the network for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights. Each sample's supervised and top-down errors
            and the echo's own error are multiplied by its weight and each
            minibatch average divides by the batch's total weight, as
            MLPClassifier does. A minibatch whose weights are all zero makes no
            update.

        Returns
        -------
        self : ITDSMLPClassifier
        """
        return self._fit(X, y, sample_weight, None, incremental=False)

    @available_if(_stochastic_solver)
    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    sample_weight: ArrayLike | None = None,
                    classes: ArrayLike | None = None) -> ITDSMLPClassifier:
        """One epoch over ``(X, y)`` (shuffled when ``shuffle=True``, as MLPClassifier).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call (for multilabel ``y`` the
            labels are the columns of ``y``).

        Returns
        -------
        self : ITDSMLPClassifier
        """
        return self._fit(X, y, sample_weight, classes, incremental=True)

    # Read afresh by every call; the other parameters are part of the fitted
    # network (layers, optimizers, echo), which a continued call keeps.
    _LIVE_PARAMS = ("alpha", "batch_size", "max_iter", "max_fun", "shuffle",
                    "random_state", "tol", "verbose", "warm_start", "early_stopping",
                    "validation_fraction", "n_iter_no_change")

    # What a continued call changes in place (for unchanged_on_error): the
    # weights, the echo, the optimizers' moments, the diagnostics (which can
    # checkpoint themselves) and the curves (appended to).
    _CONTINUED = dict(deep=("coefs_", "intercepts_", "_split", "_echo", "_optimizer",
                            "_echo_optimizer", "_history", "validation_scores_"),
                      grow=("loss_curve_",))

    def _fit(self, X, y, sample_weight, classes, incremental):
        first = not hasattr(self, "coefs_") or not (self.warm_start or incremental)
        # Rejected or interrupted (KeyboardInterrupt included): the model is
        # left exactly as it was before the call.
        with unchanged_on_error(self, **({} if first else self._CONTINUED)):
            if incremental:
                classes = partial_fit_classes(self, classes)
            hidden = self._check_params()
            if not first:
                check_unchanged_params(self, self._fitted_params, self._LIVE_PARAMS)
            X, y = self._validate(X, y, reset=first)
            classes_, y_type, Y = self._encode(y, classes if incremental else None,
                                               X.dtype, fitted=not first)
            if not first and not incremental and not np.array_equal(classes_,
                                                                    self.classes_):
                raise ValueError(f"warm_start=True needs the same classes as before, "
                                 f"{self.classes_.tolist()}; got {classes_.tolist()}.")
            if sample_weight is not None:
                sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                     ensure_non_negative=True)
            # A fresh generator from random_state at every call, as MLPClassifier.
            rng = check_random_state(self.random_state)
            if first:
                self.classes_, self._y_type = classes_, y_type
                self._initialize(X.shape[1], hidden, Y.shape[1], rng, X.dtype)
            if self.solver == "lbfgs":
                return self._fit_lbfgs(X, Y, sample_weight)
            if first or not incremental:  # MLPClassifier starts new optimizers then
                self._make_optimizers()
            return self._fit_stochastic(X, Y, sample_weight, incremental, rng)

    @property
    def echo_coef_(self):
        return self._echo.coef

    @property
    def echo_intercept_(self):
        return self._echo.intercept

    # -- prediction ------------------------------------------------------------------
    @property
    def _fitted_activation(self):
        return self._fitted_params["activation"]  # not a set_params after fit

    def _logits(self, X):
        return base.forward(X, self.coefs_, self.intercepts_, self._fitted_activation)[-1]

    def _checked_logits(self, X):
        """Logits for prediction; never silently non-finite."""
        logits = self._logits(self._checked(X))
        if not np.isfinite(logits).all():
            raise ValueError(
                "The network's outputs overflowed (non-finite logits): the weights "
                "are too large for this input. Scale the inputs (e.g. "
                "StandardScaler) or refit with a lower learning_rate_init.")
        return logits

    def _checked(self, X):
        check_is_fitted(self)
        check_not_ragged(X)
        return validate_data(self, X, reset=False, accept_sparse=("csr", "csc"),
                             dtype=(np.float64, np.float32))

    def _predict_encoded(self, logits):
        """Predictions as 0/1 columns in the encoding of :meth:`_encode`."""
        if self._y_type == "multiclass":  # softmax keeps the order: no need for it
            return np.eye(logits.shape[1], dtype=bool)[np.argmax(logits, axis=1)]
        P = base.output_probabilities(logits, self.out_activation_)
        if self._y_type == "binary":
            return P[:, 1:] > 0.5
        return P > 0.5

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax outputs for more than two classes; ``[1 - p, p]`` of the
            single logistic unit for two; one logistic probability per label
            for multilabel ``y``.
        """
        return base.output_probabilities(self._checked_logits(X), self.out_activation_)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``np.log(predict_proba(X))``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The class of the largest output (more than two classes), of the
            logistic output above 0.5 (two classes), or, for a multilabel
            ``y``, the indicator matrix of the outputs above 0.5.
        """
        logits = self._checked_logits(X)
        if self._y_type == "multiclass":  # the largest logit is the largest softmax
            return self.classes_[np.argmax(logits, axis=1)]
        encoded = self._predict_encoded(logits)
        if self._y_type == "multilabel-indicator":
            return encoded.astype(int)
        return self.classes_[encoded[:, 0].astype(int)]  # binary

    def input_gradient(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Gradient of each sample's cross-entropy loss with respect to its input.

        Used for FGSM adversarial examples: ``X + eps * sign(input_gradient(X, y))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels (must be among ``classes_``).

        Returns
        -------
        grad : ndarray of shape (n_samples, n_features)
        """
        X = self._checked(X)
        if hasattr(X, "toarray"):
            X = X.toarray()
        Y = self._encode_known(self._diagnostic_labels(X, y))
        return base.input_gradient(X, Y, self.coefs_, self.intercepts_,
                                   self._fitted_activation, self.out_activation_)

    def _diagnostic_labels(self, X, y):
        """``y`` checked against ``X``: one label per row, or an indicator row."""
        if self._y_type == "multilabel-indicator":
            y = check_array(y, input_name="y")
            check_consistent_length(X, y)
            return y
        return check_labels(self, X, y)

    def _encode_known(self, y):
        """Targets among the fitted classes, encoded for the output layer."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim == 1 and self._y_type != "multilabel-indicator":
            check_known_labels(self, y)
        return self._encode(y, self.classes_, np.float64, fitted=True)[2]

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the output-layer step each sample would cause now, not applied.

        After a forward pass, each sample's hidden activity ``h`` (last hidden
        layer), output probabilities ``p``, echo probabilities ``p_echo`` and
        one-hot label ``y`` give the norm of its plain gradient step on the
        output layer, ``learning_rate_init * |[h, 1]| * |delta|`` with
        ``delta = (y - p) + td_sign td_gain (p_echo - p)`` (see
        :func:`sklearn_itds._itds.softmax_step_norms`). It is the step of SGD
        without momentum on a batch of one; Adam rescales steps per weight.
        Nothing is learned. Comparing true with wrong labels (counter-trials)
        shows how much iTDS damps the response to contradictory examples
        (paper property P3); with ``td_gain=0`` the values are the plain
        cross-entropy step sizes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels (among ``classes_``), e.g. true or deliberately wrong ones.

        Returns
        -------
        norms : ndarray of shape (n_samples,)

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn_itds import ITDSMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = ITDSMLPClassifier(max_iter=300, random_state=0).fit(X, y)
        >>> wrong = (y + 1) % 3
        >>> bool(clf.td_step_norms(X, wrong).mean() > clf.td_step_norms(X, y).mean())
        True
        """
        X = self._checked(X)
        Y = self._encode_known(self._diagnostic_labels(X, y))
        acts = base.forward(X, self.coefs_, self.intercepts_, self._fitted_activation)
        H = acts[-2]
        if hasattr(H, "toarray"):  # no hidden layer and sparse X
            H = H.toarray()
        P = base.OUTPUT_ACTIVATIONS[self.out_activation_](acts[-1])
        return self._echo.step_norms(H, Y, P, self._fitted_params["learning_rate_init"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
