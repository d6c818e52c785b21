"""What the two reservoir estimators share: checks, construction, passes.

:class:`ReservoirMixin`: parameter checks, building ``reservoir_`` and
``readout_``, choosing the penalty, one pass over the trials' rows with its
divergence check, closing an epoch's diagnostics. The features the readout
reads are built in ``_trials.py`` (trials to rows) and ``_sequence.py`` (one
series step by step).

The estimators keep their constructor arguments untouched; everything built
here goes into trailing-underscore attributes.
"""

from contextlib import contextmanager

import numpy as np
from sklearn.utils import gen_batches

from ._itds import ITDSReadout, make_sparsity_mask
from ._reservoir import Reservoir, spawn_streams
from ._ridge import RidgeSolver, loo_alpha
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

__all__ = ["ReservoirMixin", "check_dtype"]

_LEARNING_RULES = ("lms", "rls")
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
            warn_divergence(self, len(self.loss_curve_), "Lower learning_rate_init or "
                            "td_gain, or raise rls_alpha.")
            return None
        self._end_epoch(len(self.loss_curve_) + 1)
        self.n_iter_ += 1
        return Z

    @contextmanager
    def _counting_this_call(self):
        """``n_iter_`` counts the passes of this ``partial_fit`` call, as
        MLPClassifier's and SGDClassifier's do; a call whose pass diverged
        (warned, the model kept as it was) leaves it unchanged as well."""
        previous = getattr(self, "n_iter_", 0)
        self.n_iter_ = 0
        yield
        if self.n_iter_ == 0:
            self.n_iter_ = previous

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
