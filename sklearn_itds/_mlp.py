"""ITDSMLPClassifier: a feedforward network whose output layer learns by iTDS."""

from __future__ import annotations

import copy
import warnings

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _mlp_base as base
from ._itds import (
    SoftmaxEcho,
    TDHistory,
    make_sparsity_mask,
    output_step_norms,
    softmax,
    split_error,
)
from ._optimizers import make_optimizer
from ._validation import (
    COMMON,
    INT,
    REAL,
    check_bool,
    check_classes,
    check_labels,
    check_not_ragged,
    check_option,
    check_params,
    check_random_state_param,
    check_unchanged_params,
    fitted_params,
    partial_fit_classes,
    unchanged_on_error,
    warn_divergence,
)

__all__ = ["ITDSMLPClassifier"]


class ITDSMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier with an iTDS output layer.

    A :class:`~sklearn.neural_network.MLPClassifier`-style network (same
    parameter names and meanings) with a softmax output trained by
    cross-entropy, where the output layer has an *echo*: a second softmax
    readout of the last hidden layer that learns, ``td_timescale`` times more
    slowly and with the same optimizer, to reproduce the network's own output
    probabilities. The gradient on the logits becomes
    ``(p - y) + td_gain * (p - p_echo)`` (see :mod:`sklearn_itds._itds`), and
    this stabilized error is backpropagated through the hidden layers.

    With ``td_gain=0`` the network is trained exactly as without iTDS; for more
    than two classes it then follows MLPClassifier's updates step for step
    (same initialization, shuffling and optimizer). Two classes use a 2-unit
    softmax rather than MLPClassifier's single logistic unit.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Sizes of the hidden layers (each >= 1).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden-layer activation.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer; the echo uses the same kind.
    alpha : float, default=1e-4
        L2 penalty (>= 0).
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Step size (> 0). The echo's is ``learning_rate_init / td_timescale``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Weight initialization, shuffling, validation split and mask.
    tol : float, default=1e-4
        Improvement threshold for the stopping rule.
    verbose : bool, default=False
        Print one progress line per epoch.
    warm_start : bool, default=False
        Continue from the previous solution in ``fit``.
    momentum : float, default=0.9
        SGD momentum, in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov momentum with SGD.
    early_stopping : bool, default=False
        Stop when the validation accuracy stops improving; keeps the best
        weights. Falls back to an unstratified split when a class is too small
        to stratify, and is ignored when the data are too few to hold out any.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping, in (0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam decay rates, in [0, 1).
    epsilon : float, default=1e-8
        Adam numerical stability constant (> 0).
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
    td_gain : float, default=2.0
        Weight of the top-down error (>= 0); 0 is plain supervised learning.
    td_timescale : float, default=20.0
        How many times slower the echo learns than the network (> 0). The
        defaults were chosen with ``benchmarks/select_defaults.py mlp`` on
        load_digits with 0, 30 and 40 % wrong training labels.
    feedback_split : bool, default=False
        Sign-split output weights ``W = W_pos - W_neg`` (the output biases are
        not split). The L2 penalty ``alpha`` then applies to each part, which
        pulls both toward zero.
    readout_sparsity : float, default=0.0
        Fraction of output weights held at zero by a fixed mask, in [0, 1).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` has string column names.
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape (fan_in, fan_out).
    intercepts_ : list of ndarray
        Bias vectors.
    echo_coef_, echo_intercept_ : ndarray
        The echo readout of the last hidden layer.
    out_activation_ : str
        Always "softmax".
    n_layers_ : int
    n_outputs_ : int
    loss_ : float
        Training loss of the last epoch (cross-entropy against the given labels
        plus the L2 term).
    loss_curve_ : list of float
    best_loss_ : float or None
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    t_ : int
        Number of training samples seen.
    n_iter_ : int
        Number of epochs run.
    td_history_ : dict of ndarray
        Per-epoch iTDS diagnostics: ``e_sup``, ``e_td``, ``td_ratio``,
        ``cosine`` (on the output probabilities), ``weight_change`` (mean norm
        of a sample's output-layer gradient step ``learning_rate_init *
        |[h, 1]| |delta|``), ``loss`` and ``n_updates`` (samples).

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
    (``alpha``, ``batch_size``, ``max_iter``, ``shuffle``, ``random_state``,
    ``tol``, ``verbose``, ``warm_start``, ``early_stopping``,
    ``validation_fraction`` and ``n_iter_no_change`` may change: every call
    reads them afresh). A call that is rejected or interrupted
    (``KeyboardInterrupt`` included) leaves the model exactly as it was
    before the call.

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
    """

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (100,),
                 activation: str = "relu", *, solver: str = "adam",
                 alpha: float = 1e-4, batch_size: int | str = "auto",
                 learning_rate_init: float = 1e-3, max_iter: int = 200,
                 shuffle: bool = True, random_state: int | np.random.RandomState | None = None,
                 tol: float = 1e-4, verbose: bool | int = False,
                 warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8,
                 n_iter_no_change: int = 10, td_gain: float = 2.0,
                 td_timescale: float = 20.0, feedback_split: bool = False,
                 readout_sparsity: float = 0.0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
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
        self.td_gain = td_gain
        self.td_timescale = td_timescale
        self.feedback_split = feedback_split
        self.readout_sparsity = readout_sparsity

    # Read afresh by every fit / partial_fit; the others are part of the fitted
    # model (its layers, optimizer and echo), which a continued call keeps.
    _LIVE_PARAMS = ("alpha", "batch_size", "max_iter", "shuffle", "random_state", "tol",
                    "verbose", "warm_start", "early_stopping", "validation_fraction",
                    "n_iter_no_change")

    # -- validation ----------------------------------------------------------------
    def _check_params(self):
        check_params(self, {
            **COMMON,
            "alpha": (REAL, 0.0, None, "left"),
            "learning_rate_init": (REAL, 0.0, None, "neither"),
            "tol": (REAL, 0.0, None, "left"),
            "momentum": (REAL, 0.0, 1.0, "both"),
            "validation_fraction": (REAL, 0.0, 1.0, "neither"),
            "beta_1": (REAL, 0.0, 1.0, "left"),
            "beta_2": (REAL, 0.0, 1.0, "left"),
            "epsilon": (REAL, 0.0, None, "neither"),
            "n_iter_no_change": (INT, 1, None, "left"),
        })
        check_random_state_param(self.random_state)
        check_option(self.activation, "activation", tuple(base.ACTIVATIONS))
        check_option(self.solver, "solver", ("adam", "sgd"))
        for name in ("shuffle", "warm_start", "nesterovs_momentum",
                     "early_stopping", "feedback_split"):
            check_bool(getattr(self, name), name)
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes, dtype=object))
        if sizes.ndim != 1 or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be a tuple of ints >= 1, got "
                             f"{self.hidden_layer_sizes!r}.")
        if self.batch_size != "auto":
            check_params(self, {"batch_size": (INT, 1, None, "left")})
        return [int(s) for s in sizes]

    def _validate(self, X, y, reset):
        check_not_ragged(X)
        return validate_data(self, X, y, reset=reset, accept_sparse=("csr", "csc"),
                             dtype=(np.float64, np.float32))

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike) -> ITDSMLPClassifier:
        """Train the network for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : ITDSMLPClassifier
        """
        warm = self.warm_start and hasattr(self, "coefs_")
        # Rejected or interrupted: the model is left as it was (see the Notes).
        with unchanged_on_error(self, **(self._CONTINUED if warm else {})):
            return self._fit(X, y, warm)

    # What a continued fit changes in place (for unchanged_on_error): the
    # weights, the echo, the optimizers' moments, the diagnostics (which can
    # checkpoint themselves) and the loss curve (appended to).
    _CONTINUED = dict(deep=("coefs_", "intercepts_", "_split", "_echo", "_optimizer",
                            "_echo_optimizer", "_history"), grow=("loss_curve_",))

    def _fit(self, X, y, warm):
        # Validation first: nothing is built for a rejected call.
        hidden = self._check_params()
        if warm:
            check_unchanged_params(self, self._fitted_params, self._LIVE_PARAMS)
        X, y = self._validate(X, y, reset=not warm)
        classes, y_index = check_classes(self, y, None)
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError(f"warm_start=True needs the same classes as before, "
                             f"{self.classes_.tolist()}; got {classes.tolist()}.")
        if not warm:
            self.classes_ = classes
            self._initialize(X.shape[1], hidden)
        Y = np.eye(classes.size, dtype=X.dtype)[y_index]
        X_val = Y_val = None
        if self.early_stopping:
            X, Y, X_val, Y_val = self._validation_split(X, Y, y_index)
        self.validation_scores_ = [] if X_val is not None else None
        self.best_validation_score_ = -np.inf if X_val is not None else None
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        best = None
        sample_idx = np.arange(X.shape[0])
        for it in range(self.max_iter):
            if self.shuffle:  # reshuffles the previous order, as MLPClassifier does
                sample_idx = shuffle(sample_idx, random_state=self._rng)
            if not self._epoch(X, Y, sample_idx if self.shuffle else None):
                break
            if X_val is not None:
                score = float(np.mean(self._logits(X_val).argmax(1) == Y_val.argmax(1)))
                self.validation_scores_.append(score)
                improved = score > self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best = ([c.copy() for c in self.coefs_],
                            [b.copy() for b in self.intercepts_])
            else:
                improved = self.loss_ < self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_)
            self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
            if self._no_improvement_count > self.n_iter_no_change:
                if self.verbose:
                    print(f"Training stopped: no improvement of at least tol="
                          f"{self.tol} for {self.n_iter_no_change} epochs.")
                break
            if it == self.max_iter - 1:
                warnings.warn(f"Stochastic optimizer: maximum iterations "
                              f"({self.max_iter}) reached and the optimization "
                              f"hasn't converged yet.", ConvergenceWarning)
        if best is not None:
            self.coefs_, self.intercepts_ = best
            self._sync_split()
        if X_val is not None:
            self.best_loss_ = None
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    classes: ArrayLike | None = None) -> ITDSMLPClassifier:
        """One epoch over ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call.

        Returns
        -------
        self : ITDSMLPClassifier
        """
        first = not hasattr(self, "coefs_")
        with unchanged_on_error(self, **({} if first else self._CONTINUED)):
            classes = partial_fit_classes(self, classes)
            hidden = self._check_params()
            if not first:
                check_unchanged_params(self, self._fitted_params, self._LIVE_PARAMS)
            X, y = self._validate(X, y, reset=first)
            classes, y_index = check_classes(self, y, classes)
            if first:
                self.classes_ = classes
                self._initialize(X.shape[1], hidden)
            self._epoch(X, np.eye(classes.size, dtype=X.dtype)[y_index], None)
        return self

    def _initialize(self, n_features, hidden):
        self._fitted_params = fitted_params(self, self._LIVE_PARAMS)
        self._rng = check_random_state(self.random_state)
        sizes = [n_features, *hidden, self.classes_.size]
        self.coefs_, self.intercepts_ = base.glorot_init(sizes, self.activation,
                                                         self._rng)
        self.n_layers_ = len(sizes)
        self.n_outputs_ = self.classes_.size
        self.out_activation_ = "softmax"
        self._echo = SoftmaxEcho(self.coefs_[-1], self.intercepts_[-1], self.td_gain,
                                 self.td_timescale)
        self._mask = make_sparsity_mask((sizes[-2] + 1, sizes[-1]),
                                        self.readout_sparsity, self._rng)
        if self._mask is not None:
            self._mask = self._mask[:-1]  # output biases are never masked
            self.coefs_[-1] *= self._mask
        if self.feedback_split:
            W = self.coefs_[-1]
            self._split = [np.maximum(W, 0), np.maximum(-W, 0)]
            params = self.coefs_[:-1] + self._split + self.intercepts_
        else:
            params = self.coefs_ + self.intercepts_
        self._optimizer = make_optimizer(self, params, self.learning_rate_init)
        self._echo_optimizer = make_optimizer(
            self, [self._echo.coef, self._echo.intercept],
            self._echo.learning_rate(self.learning_rate_init))
        self._history = TDHistory()
        self.loss_curve_ = []
        self.n_iter_ = 0
        self.t_ = 0

    def _validation_split(self, X, Y, y_index):
        """Hold out ``validation_fraction``, stratified when possible."""
        n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
        if n_val < 1 or X.shape[0] - n_val < 1:
            return X, Y, None, None
        try:
            parts = train_test_split(X, Y, test_size=n_val, stratify=y_index,
                                     random_state=self._rng)
        except ValueError:
            parts = train_test_split(X, Y, test_size=n_val, random_state=self._rng)
        return parts[0], parts[2], parts[1], parts[3]

    def _epoch(self, X, Y, order):
        """One pass over minibatches in ``order`` (None: as given).

        Returns False after a divergence.
        """
        n = X.shape[0]
        bs = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        saved = self._snapshot()
        total = 0.0
        for batch in gen_batches(n, bs):
            idx = batch if order is None else order[batch]
            total += self._step(X[idx], Y[idx]) * (batch.stop - batch.start)
        if not (np.isfinite(total) and self._history.is_finite()
                and all(np.isfinite(a).all() for a in self._state_arrays())):
            self._restore(saved)
            warn_divergence(self, self.n_iter_, "Lower learning_rate_init or "
                            "td_gain, or scale the inputs (e.g. StandardScaler).")
            return False
        self.loss_ = total / n
        self.n_iter_ += 1
        self.t_ += n
        self.loss_curve_.append(self.loss_)
        self._history.end_epoch()
        self.td_history_ = self._history.as_dict()
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}, "
                  f"{self._history.describe_last()}")
        return True

    def _step(self, Xb, Yb):
        """One minibatch update; returns the batch loss before the update."""
        n = Xb.shape[0]
        acts = base.forward(Xb, self.coefs_, self.intercepts_, self.activation)
        P = softmax(acts[-1])  # the same operations as scipy's, without its overhead
        loss = base.log_loss(Yb, P)
        penalized = (self.coefs_[:-1] + self._split if self.feedback_split
                     else self.coefs_)
        loss += 0.5 * self.alpha * sum(np.vdot(c, c) for c in penalized) / n
        H = acts[-2]
        grad_logits, echo_grads, e_sup, e_td = self._echo.gradients(H, Yb, P)
        coef_grads, intercept_grads, _ = base.backward(
            acts, self.coefs_, grad_logits, self.activation, self.alpha, n,
            input_grad=False)
        if self.feedback_split:
            # W = W_pos - W_neg: each part descends the loss of its own sign of
            # delta (grad_logits = -delta / n), then both are clipped at zero.
            # Each part has its own L2 decay toward zero, so together they act
            # as an L1-like penalty on W and clipping can leave exact zeros.
            neg_part, pos_part = split_error(grad_logits)  # = (delta-, delta+)/n
            W_pos, W_neg = self._split
            grads = (coef_grads[:-1]
                     + [H.T @ -pos_part + (self.alpha / n) * W_pos,
                        H.T @ -neg_part + (self.alpha / n) * W_neg]
                     + intercept_grads)
            params = self.coefs_[:-1] + self._split + self.intercepts_
        else:
            grads = coef_grads + intercept_grads
            params = self.coefs_ + self.intercepts_
        self._optimizer.update(params, grads)
        self._echo_optimizer.update([self._echo.coef, self._echo.intercept],
                                    list(echo_grads))
        if self.feedback_split or self._mask is not None:
            self._sync_split()
        self._history.record(e_sup, e_td, output_step_norms(
            H, np.linalg.norm(grad_logits, axis=1) * n, self.learning_rate_init))
        return loss

    def _sync_split(self):
        """Apply the clipping/mask and rebuild the output layer from its parts."""
        if self.feedback_split:
            for part in self._split:
                np.maximum(part, 0, out=part)
                if self._mask is not None:
                    part *= self._mask
            np.subtract(*self._split, out=self.coefs_[-1])
        elif self._mask is not None:
            self.coefs_[-1] *= self._mask

    def _learned_arrays(self):
        """Weights, the echo and (with the sign split) the two parts."""
        return (self.coefs_ + self.intercepts_ + [self._echo.coef, self._echo.intercept]
                + (self._split if self.feedback_split else []))

    def _state_arrays(self):
        """Learned arrays and optimizer moments: all must stay finite."""
        arrays = self._learned_arrays()
        for opt in (self._optimizer, self._echo_optimizer):
            for name in ("velocities", "ms", "vs"):
                arrays = arrays + list(getattr(opt, name, []))
        return arrays

    def _snapshot(self):
        # The optimizers' moments are learned state too: a diverged epoch
        # leaves them non-finite, and keeping them would poison later epochs.
        return ([a.copy() for a in self._learned_arrays()],
                copy.deepcopy((self._optimizer, self._echo_optimizer)))

    def _restore(self, saved):
        for a, s in zip(self._learned_arrays(), saved[0]):
            a[...] = s
        self._optimizer, self._echo_optimizer = saved[1]
        self._history.discard_epoch()

    @property
    def echo_coef_(self):
        return self._echo.coef

    @property
    def echo_intercept_(self):
        return self._echo.intercept

    # -- prediction ------------------------------------------------------------------
    @property
    def _fitted_activation(self):
        return self._fitted_params["activation"]  # not set_params after fit

    def _logits(self, X):
        return base.forward(X, self.coefs_, self.intercepts_,
                            self._fitted_activation)[-1]

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

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (softmax of the output layer)."""
        return base.output_probabilities(self._checked_logits(X))

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels."""
        logits = self._checked_logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

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
        _, y_index = check_classes(self, check_labels(self, X, y), self.classes_)
        Y = np.eye(self.classes_.size)[y_index]
        return base.input_gradient(X, Y, self.coefs_, self.intercepts_,
                                   self._fitted_activation)

    def td_step_norms(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Size of the output-layer step each sample would cause now, not applied.

        After a forward pass, each sample's hidden activity ``h`` (last hidden
        layer), output probabilities ``p``, echo probabilities ``p_echo`` and
        one-hot label ``y`` give the norm of its plain gradient step on the
        output layer, ``learning_rate_init * |[h, 1]| * |delta|`` with
        ``delta = (y - p) + td_gain (p_echo - p)`` (see
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
        _, y_index = check_classes(self, check_labels(self, X, y), self.classes_)
        acts = base.forward(X, self.coefs_, self.intercepts_, self._fitted_activation)
        H = acts[-2]
        if hasattr(H, "toarray"):  # no hidden layer and sparse X
            H = H.toarray()
        P = base.output_probabilities(acts[-1])
        Y = np.eye(self.classes_.size)[y_index]
        return self._echo.step_norms(H, Y, P, self._fitted_params["learning_rate_init"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
