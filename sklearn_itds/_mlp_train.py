"""Training the MLP: the minibatch loop, the stopping rule and step schedules,
early stopping and L-BFGS.

- :class:`MLPTrainingMixin`: the training half of
  :class:`~sklearn_itds.ITDSMLPClassifier` (scikit-learn's
  ``BaseMultilayerPerceptron`` plays this part for MLPClassifier). It builds
  the network, its echo (``_itds.SoftmaxEcho``) and optimizers
  (``_optimizers``), runs the epochs with MLPClassifier's shuffling, stopping
  rule, schedules and early stopping, and keeps every learned array in the
  estimator's attributes (so pickles keep their layout). Each minibatch step
  is :meth:`MLPTrainingMixin._step` (numpy, the reference); on small dense
  problems a whole epoch runs in the compiled kernel of
  ``sklearn_itds._mlp_kernels`` when numba is installed.
- :func:`validation_split`: the early-stopping hold-out.
- :func:`minimize_lbfgs`: full-batch L-BFGS-B over a list of arrays.

The maths of the network is ``_mlp_base``'s, the rule's ``_itds``'s; nothing
here computes either.
"""

import copy
import warnings

import numpy as np
import scipy.optimize
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches

from . import _mlp_base as base
from ._history import TDHistory
from ._itds import (SoftmaxEcho, clip_split, make_sparsity_mask, output_step_norms,
                    softmax, split_output_gradients, squared_row_norms,
                    stabilized_error)
from ._optimizers import SGD, Adam, make_optimizer
from ._threads import AdaptiveBlasThreads
from ._validation import fitted_params, warn_divergence

__all__ = ["MLPTrainingMixin", "minimize_lbfgs", "shuffled", "validation_split"]


_KERNEL_BATCHES = 256  # minibatches per call of the compiled epoch

# What the compiled epoch is a copy of, as defined at import. When one of them
# is replaced (an optimizer subclass, a wrapper, a patched function), the
# numpy path runs instead, minibatch by minibatch, and honours it.
_KERNEL_MIRRORS = [(owner, name, getattr(owner, name)) for owner, name in (
    (Adam, "update"), (SGD, "update"), (base, "forward"), (base, "backward"),
    (base, "log_loss"), (SoftmaxEcho, "gradients"), (SoftmaxEcho, "follow"))]


def _kernels():
    """``_mlp_kernels``, imported at the first fit that could use it: importing
    numba takes about half a second, which ``import sklearn_itds`` should not."""
    from . import _mlp_kernels

    return _mlp_kernels


def shuffled(order, random_state):
    """``sklearn.utils.shuffle(order, random_state=random_state)``: the same
    permutation from the same draws (MLPClassifier's epoch order), without
    its per-call validation (a millisecond per epoch)."""
    perm = np.arange(order.shape[0])
    random_state.shuffle(perm)
    return order[perm]


def validation_split(X, Y, sample_weight, fraction, y_type, random_state):
    """Hold out ``ceil(fraction * n)`` rows for early stopping.

    Stratified by class (binary and multiclass ``Y``) when every class can be
    split, unstratified otherwise; multilabel ``Y`` is never stratified.
    Returns ``(X, Y, sample_weight, X_val, Y_val, sw_val)``, the last three
    None when the data are too few to hold any row out (or to keep any).
    """
    n_val = int(np.ceil(fraction * X.shape[0]))
    if n_val < 1 or X.shape[0] - n_val < 1:
        return X, Y, sample_weight, None, None, None
    arrays = [X, Y] + ([] if sample_weight is None else [sample_weight])
    strata = None if y_type == "multilabel-indicator" else Y.argmax(1)
    if y_type == "binary":
        strata = Y[:, 0]
    try:
        parts = train_test_split(*arrays, test_size=n_val, stratify=strata,
                                 random_state=random_state)
    except ValueError:
        parts = train_test_split(*arrays, test_size=n_val, random_state=random_state)
    if sample_weight is None:
        parts += [None, None]
    return parts[0], parts[2], parts[4], parts[1], parts[3], parts[5]


def minimize_lbfgs(arrays, loss_and_grads, max_iter, max_fun, tol, on_iteration=None):
    """L-BFGS-B (scipy) over the concatenated ``arrays``, as MLPClassifier runs it.

    ``loss_and_grads(arrays)`` returns the loss and one gradient per array.
    ``on_iteration(loss)`` is called after each iteration with the loss at
    the new point. Returns ``(arrays, result)``: new arrays of the same shapes
    (views of one flat copy of the solution) and scipy's ``OptimizeResult``.
    """
    shapes = [a.shape for a in arrays]
    bounds = np.cumsum([0] + [a.size for a in arrays])

    def unpack(packed):
        return [packed[a:b].reshape(shape)
                for a, b, shape in zip(bounds[:-1], bounds[1:], shapes)]

    last = {}

    def objective(packed):
        loss, grads = loss_and_grads(unpack(packed))
        last["x"], last["loss"] = packed, loss
        return loss, np.concatenate([np.ravel(g) for g in grads])

    def callback(xk):
        if on_iteration is not None and "x" in last and np.array_equal(xk, last["x"]):
            on_iteration(last["loss"])

    result = scipy.optimize.minimize(
        objective, np.concatenate([a.ravel() for a in arrays]),
        method="L-BFGS-B", jac=True, callback=callback,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol})
    return unpack(result.x.copy()), result


class MLPTrainingMixin:
    """Building and training the network of an MLP estimator.

    The estimator provides the scikit-learn side (parameters, validation,
    target encoding, prediction: ``_predict_encoded`` and ``_logits``, used
    by early stopping); this mixin fills in the fitted attributes
    (``coefs_``, ``intercepts_``, ``loss_curve_``, ...) and the private state
    the training continues from (``_echo``, ``_optimizer``,
    ``_echo_optimizer``, ``_split``, ``_mask``, ``_history``).
    """

    # -- construction --------------------------------------------------------------
    def _initialize(self, n_features, hidden, n_outputs, rng, dtype):
        self._fitted_params = fitted_params(self, self._LIVE_PARAMS)
        sizes = [n_features, *hidden, n_outputs]
        coefs, intercepts = base.glorot_init(sizes, self.activation, rng)
        # in the dtype of X (float32 or float64), as MLPClassifier
        self.coefs_ = [c.astype(dtype, copy=False) for c in coefs]
        self.intercepts_ = [b.astype(dtype, copy=False) for b in intercepts]
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_outputs
        self.out_activation_ = "softmax" if self._y_type == "multiclass" else "logistic"
        self._echo = SoftmaxEcho(self.coefs_[-1], self.intercepts_[-1], self.td_gain,
                                 self.td_timescale, self.out_activation_,
                                 self.echo, self.td_sign)
        self._mask = make_sparsity_mask((sizes[-2] + 1, sizes[-1]),
                                        self.readout_sparsity, rng)
        if self._mask is not None:
            self._mask = self._mask[:-1]  # output biases are never masked
            self.coefs_[-1] *= self._mask
        if self.feedback_split:
            W = self.coefs_[-1]
            self._split = [np.maximum(W, 0), np.maximum(-W, 0)]
        self._history = TDHistory()
        self.td_history_ = self._history.as_dict()  # empty until an epoch ends
        self.loss_curve_ = []
        self.loss_ = np.nan  # no epoch yet (or the first one diverged)
        self.n_iter_ = 0
        self.t_ = 0
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        self.validation_scores_ = self.best_validation_score_ = None

    def _params(self):
        """The arrays the network's optimizer updates, in gradient order."""
        if self.feedback_split:
            return self.coefs_[:-1] + self._split + self.intercepts_
        return self.coefs_ + self.intercepts_

    def _make_optimizers(self):
        net = self._params()
        if self.solver == "adam":
            # One Adam for the network and its echo, the echo's steps scaled by
            # the echo's rate for a unit network rate (1 / td_timescale): the
            # same elementwise arithmetic as two optimizers, one call fewer.
            scales = [1.0] * len(net) + [self._echo.learning_rate(1.0)] * len(
                self._echo_params())
            self._optimizer = make_optimizer(self, net + self._echo_params(),
                                             self.learning_rate_init, scales)
            self._echo_optimizer = None
        else:
            self._optimizer = make_optimizer(self, net, self.learning_rate_init)
            self._echo_optimizer = make_optimizer(
                self, self._echo_params(),
                self._echo.learning_rate(self.learning_rate_init))

    def _echo_params(self):
        return self._echo.params()

    def _sync_echo_rate(self):
        """The echo's step follows the network's schedule, td_timescale times smaller."""
        if self._echo_optimizer is not None:
            self._echo_optimizer.learning_rate = self._echo.learning_rate(
                self._optimizer.learning_rate)

    # -- L-BFGS ----------------------------------------------------------------------
    def _fit_lbfgs(self, X, Y, sample_weight):
        """Full-batch L-BFGS-B on the plain loss, as MLPClassifier (td_gain=0)."""
        n_layers = len(self.coefs_)

        def loss_and_grads(arrays):
            with threads.step():
                # the current point is the model's (an interrupt leaves it there)
                self.coefs_, self.intercepts_ = arrays[:n_layers], arrays[n_layers:]
                loss, grads = base.loss_and_gradients(
                    X, Y, self.coefs_, self.intercepts_, self.activation,
                    self.out_activation_, self.alpha, sample_weight)
                if self._mask is not None:  # masked weights have no gradient
                    grads[n_layers - 1] = grads[n_layers - 1] * self._mask
                return loss, grads

        with AdaptiveBlasThreads(probe=2, every=30) as threads:
            arrays, result = minimize_lbfgs(
                self.coefs_ + self.intercepts_, loss_and_grads, self.max_iter,
                self.max_fun, self.tol, on_iteration=self.loss_curve_.append)
        self.coefs_, self.intercepts_ = arrays[:n_layers], arrays[n_layers:]
        self.n_iter_ = min(result.nit, self.max_iter)
        self.loss_ = float(result.fun)
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} "
                          f"iteration(s) (status={result.status}): {result.message}. "
                          f"Increase max_iter or max_fun, or scale the data.",
                          ConvergenceWarning)
        # The echo's own loss is minimised where it equals the readout: its
        # full-batch fixed point, where the top-down error is zero.
        self._echo.coef[...] = self.coefs_[-1]
        self._echo.intercept[...] = self.intercepts_[-1]
        if self.verbose:
            print(f"L-BFGS: {self.n_iter_} iterations, loss = {self.loss_:.8f}")
        return self

    # -- minibatch training ------------------------------------------------------------
    def _fit_stochastic(self, X, Y, sample_weight, incremental, rng):
        X_val = Y_val = sw_val = None
        if self.early_stopping and not incremental:
            X, Y, sample_weight, X_val, Y_val, sw_val = validation_split(
                X, Y, sample_weight, self.validation_fraction, self._y_type, rng)
            if X_val is not None and self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample "
                              "size. It is going to be clipped")
            batch_size = min(self.batch_size, n)
        previous_n_iter = self.n_iter_
        self.n_iter_ = 0  # epochs of this call, as MLPClassifier (1.9)
        sizes = [c.shape[0] for c in self.coefs_] + [self.n_outputs_]
        work = base.largest_product(batch_size, sizes)
        compiled = (work <= base.COMPILED_EPOCH_WORK
                    and self._compiled_epoch_applies(X, Y, sample_weight))
        # the compiled epoch runs on one BLAS thread, as small numpy products do
        small = compiled or work <= base.SINGLE_THREAD_WORK
        threads = AdaptiveBlasThreads.single() if small else AdaptiveBlasThreads()
        with threads:
            best = self._run_epochs(X, Y, sample_weight, X_val, Y_val, sw_val,
                                    incremental, rng, batch_size, threads, compiled)
        if self.n_iter_ == 0:  # diverged at once: the model is left as it was
            self.n_iter_ = previous_n_iter
        if best is not None:
            self.coefs_, self.intercepts_ = best
            self._sync_split()
        if X_val is not None:
            self.best_loss_ = None
        return self

    def _run_epochs(self, X, Y, sample_weight, X_val, Y_val, sw_val, incremental,
                    rng, batch_size, threads, compiled=False):
        """Up to ``max_iter`` epochs (one for partial_fit); returns the best
        weights under early stopping, else None. ``compiled``: run each epoch
        in the compiled kernel."""
        best = None
        sample_idx = np.arange(X.shape[0])
        if compiled:  # one memory layout for the kernel (each is compiled apart)
            X = np.ascontiguousarray(X)
        for _ in range(self.max_iter):
            if self.shuffle:  # reshuffles the previous order, as MLPClassifier does
                sample_idx = shuffled(sample_idx, rng)
            if not self._epoch(X, Y, sample_weight,
                               sample_idx if self.shuffle else None, batch_size,
                               threads, compiled):
                break
            if X_val is not None and self._score_validation(X_val, Y_val, sw_val):
                best = ([c.copy() for c in self.coefs_],
                        [b.copy() for b in self.intercepts_])
            if self._stop_now(X_val is not None):
                break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic optimizer: maximum iterations "
                              f"({self.max_iter}) reached and the optimization "
                              f"hasn't converged yet.", ConvergenceWarning)
        return best

    def _score_validation(self, X_val, Y_val, sw_val):
        """Record the validation accuracy; True when it is the best so far."""
        hit = np.all(self._predict_encoded(self._logits(X_val)) == (Y_val > 0.5),
                     axis=1)
        score = float(np.average(hit, weights=sw_val))
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    def _stop_now(self, validating):
        """MLPClassifier's end-of-epoch rule: stopping, and the step schedule."""
        if not validating:
            if self.loss_ > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_)
        self._optimizer.iteration_ends(self.t_)
        self._sync_echo_rate()
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        what = "Validation score" if validating else "Training loss"
        msg = (f"{what} did not improve more than tol={self.tol:f} for "
               f"{self.n_iter_no_change} consecutive epochs.")
        if self._optimizer.trigger_stopping(msg, self.verbose):
            return True
        self._sync_echo_rate()
        self._no_improvement_count = 0
        return False

    def _epoch(self, X, Y, sample_weight, order, batch_size, threads, compiled=False):
        """One pass over minibatches in ``order`` (None: as given), each step
        on the BLAS thread count ``threads`` (an AdaptiveBlasThreads) picks,
        or all of them in one compiled call when ``compiled``.

        Returns False after a divergence.
        """
        n = X.shape[0]
        saved = self._snapshot()
        # Per-row errors of the epoch, reduced into the diagnostics once at
        # the end (a dozen small numpy calls per minibatch fewer).
        diag = (np.zeros(Y.shape), np.zeros(Y.shape), np.zeros(n))
        if compiled:
            total = self._compiled_epoch(X, Y, sample_weight, order, batch_size, diag)
        else:
            total = 0.0
            for batch in gen_batches(n, batch_size):
                idx = batch if order is None else order[batch]
                sw = None if sample_weight is None else sample_weight[idx]
                with threads.step():
                    total += (self._step(X[idx], Y[idx], sw, diag, batch)
                              * (batch.stop - batch.start))
        e_sup, e_td, h_sq = diag
        # delta from the two errors: (y - z) + td_sign td_gain (d - z), here
        # with target e_sup, output 0 and echo e_td
        delta, _, _ = stabilized_error(e_sup, 0.0, e_td, self._echo.td_gain,
                                       td_sign=self._echo.td_sign)
        self._history.record(e_sup, e_td, output_step_norms(
            None, np.linalg.norm(delta, axis=1), self._optimizer.learning_rate, h_sq),
            None if sample_weight is None else (
                sample_weight if order is None else sample_weight[order]))
        if not (np.isfinite(total) and self._history.is_finite()
                and all(np.isfinite(a).all() for a in self._state_arrays())):
            self._restore(saved)
            warn_divergence(self, len(self.loss_curve_),
                            "Lower learning_rate_init or td_gain, or scale the inputs "
                            "(e.g. StandardScaler).", runaway=False)
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

    def _compiled_epoch_applies(self, X, Y, sample_weight):
        """Whether ``_mlp_kernels.epoch`` can run this fit's epochs: numba
        installed, dense X, no sign split or mask, the optimizers' own update
        rules and :meth:`_step`, every array contiguous in X's dtype."""
        if self.feedback_split or self._mask is not None:
            return False
        if type(self)._step is not MLPTrainingMixin._step or not all(
                getattr(owner, name) is original
                for owner, name, original in _KERNEL_MIRRORS):
            return False  # a step the kernel does not know: see _KERNEL_MIRRORS
        if type(self._echo) is not SoftmaxEcho or any(
                opt is not None and type(opt) not in (Adam, SGD)
                for opt in (self._optimizer, self._echo_optimizer)):
            return False
        arrays = [Y] + self._learned_arrays() + self._optimizer_state()[0]
        if sample_weight is not None:
            arrays.append(sample_weight)
        return _kernels().usable(X, arrays)

    def _optimizer_state(self):
        """``(state1, state2, rates, base)`` per optimized array (network then
        echo) in the compiled epoch's form (see ``_mlp_kernels.epoch``)."""
        opt, echo_opt = self._optimizer, self._echo_optimizer
        n_net = len(self._params())
        if echo_opt is None:  # one Adam for both
            ms, vs = opt.ms, opt.vs
            rates = np.ones(len(ms))
            for i, c in opt._scaled:
                rates[i] = c
            return ms, vs, rates, opt.learning_rate_init
        vel = opt.velocities + echo_opt.velocities
        rates = np.array([opt.learning_rate] * n_net
                         + [echo_opt.learning_rate] * len(echo_opt.velocities))
        return vel, vel, rates, 0.0

    def _compiled_epoch(self, X, Y, sample_weight, order, batch_size, diag):
        """The epoch in one call of ``_mlp_kernels.epoch``; returns the loss
        sum over rows. Same updates as :meth:`_step` batch after batch."""
        state1, state2, rates, lr_base = self._optimizer_state()
        params = self._params() + self._echo_params()
        opt = self._optimizer
        adam = self._echo_optimizer is None and self.solver == "adam"
        flat = lambda arrays: tuple(a.reshape(-1) for a in arrays)  # noqa: E731
        kernels = _kernels()
        order = np.arange(X.shape[0]) if order is None else order
        args = (X, Y, np.empty(0, X.dtype) if sample_weight is None else sample_weight)
        settings = (
            batch_size, tuple(self.coefs_), tuple(self.intercepts_), self._echo.coef,
            self._echo.intercept, flat(params), flat(state1), flat(state2), rates,
            lr_base, kernels.ACTIVATION_CODES[self.activation],
            self.out_activation_ == "softmax", self._echo.echo == "learned",
            self._echo.echo == "weight_average", float(self._echo.td_gain),
            int(self._echo.td_sign), float(self._echo.td_timescale),
            float(self.alpha), adam, float(getattr(opt, "beta_1", 0.0)),
            float(getattr(opt, "beta_2", 0.0)), float(getattr(opt, "epsilon", 1.0)))
        sgd = (float(getattr(opt, "momentum", 0.0)), bool(getattr(opt, "nesterov", False)))
        t, total = int(getattr(opt, "t", 0)), 0.0
        # Blocks of minibatches: Python (a KeyboardInterrupt, above all) gets
        # control back every _KERNEL_BATCHES minibatches, not once per epoch.
        step = batch_size * _KERNEL_BATCHES
        for a in range(0, X.shape[0], step):
            rows = slice(a, a + step)
            total, t = kernels.epoch(*args, order[rows], *settings, t, total, *sgd,
                                     *(d[rows] for d in diag))
        if adam:
            opt.t = t
        return total

    def _step(self, Xb, Yb, sw, diag, rows):
        """One minibatch update; returns the batch loss before the update.

        Stores the batch's ``e_sup``, ``e_td`` and squared hidden norms in
        ``diag[k][rows]`` for the epoch's diagnostics.
        """
        n = Xb.shape[0]
        n_eff = n if sw is None else float(np.sum(sw))
        if n_eff == 0:  # all weights zero: nothing to learn from this batch
            return 0.0
        acts = base.forward(Xb, self.coefs_, self.intercepts_, self.activation)
        if self.out_activation_ == "softmax":
            P = softmax(acts[-1])  # the same operations as scipy's, without its overhead
        else:
            P = expit(acts[-1])
        loss = base.log_loss(Yb, P, sw, self.out_activation_)
        penalized = (self.coefs_[:-1] + self._split if self.feedback_split
                     else self.coefs_)
        loss += 0.5 * self.alpha * sum(np.vdot(c, c) for c in penalized) / n_eff
        H = acts[-2]
        grad_logits, echo_grads, e_sup, e_td = self._echo.gradients(H, Yb, P, sw)
        coef_grads, intercept_grads, _ = base.backward(
            acts, self.coefs_, grad_logits, self.activation, self.alpha, n_eff,
            input_grad=False)
        if self.feedback_split:  # W = W_pos - W_neg, each part its sign of delta
            grads = (coef_grads[:-1]
                     + list(split_output_gradients(H, grad_logits, *self._split,
                                                   self.alpha, n_eff))
                     + intercept_grads)
        else:
            grads = coef_grads + intercept_grads
        if self._echo_optimizer is None:  # Adam: one update for both
            self._optimizer.update(self._params() + self._echo_params(),
                                   grads + list(echo_grads))
        else:
            self._optimizer.update(self._params(), grads)
            self._echo_optimizer.update(self._echo_params(), list(echo_grads))
        if self.feedback_split or self._mask is not None:
            self._sync_split()
        self._echo.follow(self.coefs_[-1], self.intercepts_[-1])
        diag[0][rows] = e_sup
        diag[1][rows] = e_td
        diag[2][rows] = squared_row_norms(H)
        return loss

    def _sync_split(self):
        """Apply the clipping/mask and rebuild the output layer from its parts."""
        if self.feedback_split:
            clip_split(self._split, self.coefs_[-1], self._mask)
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
            if opt is None:
                continue
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
