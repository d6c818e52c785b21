"""What the two reservoir estimators share: parameter checks and construction.

The estimators keep their constructor arguments untouched; everything built
here goes into trailing-underscore attributes.
"""

import numpy as np

from ._itds import ITDSReadout, make_sparsity_mask
from ._reservoir import Reservoir, spawn_streams
from ._validation import COMMON, RESERVOIR, check_bool, check_option, check_params

__all__ = ["ReservoirMixin"]

_LEARNING_RULES = ("lms", "rls")


class ReservoirMixin:
    """Parameter checks and reservoir/readout construction."""

    def _check_reservoir_params(self, extra=None):
        check_params(self, {**COMMON, **RESERVOIR, **(extra or {})})
        check_option(self.learning_rule, "learning_rule", _LEARNING_RULES)
        check_bool(self.feedback_split, "feedback_split")
        check_dtype(self.dtype)

    def _build(self, n_inputs, n_outputs, n_feedback=0):
        """Set ``reservoir_`` and ``readout_`` and return the shuffle stream.

        ``random_state`` is split into independent streams for the reservoir,
        the readout mask and the sample order.
        """
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
        shape = (self.n_reservoir + 1, n_outputs)
        self.readout_ = ITDSReadout(
            *shape,
            rule=self.learning_rule,
            learning_rate=self.learning_rate,
            rls_alpha=self.rls_alpha,
            td_gain=self.td_gain,
            td_timescale=self.td_timescale,
            feedback_split=self.feedback_split,
            mask=make_sparsity_mask(shape, self.readout_sparsity, mask_rng),
            dtype=dtype,
        )
        return order_rng

    def _end_epoch(self, epoch):
        """Close the epoch's diagnostics and print progress when verbose."""
        history = self.readout_.history
        history.end_epoch()
        self.td_history_ = history.as_dict()
        self.loss_curve_ = list(self.td_history_["loss"])
        if self.verbose:
            print(f"Iteration {epoch}, loss = {self.loss_curve_[-1]:.8f}, "
                  f"{history.describe_last()}")


def check_dtype(dtype):
    """The numpy dtype named by ``dtype``; float32 and float64 only."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be np.float64 or np.float32 (or their names), "
                        f"got {dtype!r}.") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype={dtype!r} is not supported; use np.float64 "
                         f"(default) or np.float32.")
    return dt


def with_bias(S):
    """Append the constant-1 bias column to states ``S`` (n, N)."""
    return np.hstack([S, np.ones((S.shape[0], 1), dtype=S.dtype)])
