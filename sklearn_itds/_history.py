"""The iTDS diagnostics: per-epoch means of the two errors and of the steps.

:class:`TDHistory` is filled by the readouts of :mod:`sklearn_itds._itds` and
by the MLP's training loop; estimators expose it as ``td_history_``. It
records what the rule did and never changes it.
"""

import numpy as np

__all__ = ["TDHistory"]


class TDHistory:
    """Accumulate the iTDS diagnostics and close them per epoch.

    Recorded per epoch:

    - ``e_sup``: mean ``|y - z|`` over outputs and updates;
    - ``e_td``: mean ``|d - z|``;
    - ``td_ratio``: ``e_td / e_sup``;
    - ``cosine``: cosine between the stacked e_sup and e_td vectors of the epoch
      (positive: the two errors reinforce, negative: they cancel);
    - ``weight_change``: mean Frobenius norm of the update ``step(delta, r)``;
    - ``loss``: mean squared supervised error per update, ``0.5 |e_sup|^2``
      summed over outputs (for softmax outputs, on the probabilities);
    - ``n_updates``: number of weight updates in the epoch.
    """

    fields = ("e_sup", "e_td", "td_ratio", "cosine", "weight_change", "loss",
              "n_updates")

    def __init__(self):
        self.epochs = {name: [] for name in self.fields}
        self._clear()

    def _clear(self):
        self._abs_sup = self._abs_td = 0.0
        self._dot = self._sq_sup = self._sq_td = 0.0
        self._n_values = 0
        self._change = 0.0
        self._n_updates = 0
        self._weight = 0.0  # total weight of the rows (1 each when unweighted)

    def record(self, e_sup, e_td, change_norms, sample_weight=None):
        """Add a block of errors (n_updates, n_outputs) and update norms.

        With ``sample_weight`` (one non-negative weight per row) every mean
        and sum is weighted, so a row of integer weight ``k`` counts as ``k``
        copies of it; ``n_updates`` still counts rows.
        """
        if sample_weight is None:
            self._abs_sup += float(np.abs(e_sup).sum())
            self._abs_td += float(np.abs(e_td).sum())
            self._dot += float(np.vdot(e_sup, e_td))
            self._sq_sup += float(np.vdot(e_sup, e_sup))
            self._sq_td += float(np.vdot(e_td, e_td))
            self._n_values += e_sup.size
            self._change += float(np.sum(change_norms))
            self._weight += np.size(change_norms)
        else:
            w = np.asarray(sample_weight, dtype=float)
            self._abs_sup += float(w @ np.abs(e_sup).sum(axis=1))
            self._abs_td += float(w @ np.abs(e_td).sum(axis=1))
            self._dot += float(w @ np.einsum("ij,ij->i", e_sup, e_td))
            self._sq_sup += float(w @ np.einsum("ij,ij->i", e_sup, e_sup))
            self._sq_td += float(w @ np.einsum("ij,ij->i", e_td, e_td))
            self._n_values += float(w.sum()) * e_sup.shape[1]
            self._change += float(w @ np.asarray(change_norms, dtype=float))
            self._weight += float(w.sum())
        self._n_updates += np.size(change_norms)

    def is_finite(self):
        """True when the errors recorded in the open epoch are all finite.

        A-priori errors so large that their squares overflow mean the weights
        blew up even if they are still (barely) finite.
        """
        return bool(np.isfinite([self._abs_sup, self._abs_td, self._sq_sup,
                                 self._sq_td, self._change]).all())

    def discard_epoch(self):
        """Forget what was recorded since the last :meth:`end_epoch`."""
        self._clear()

    def checkpoint(self):
        """A token for :meth:`rollback`: the epochs' count and the open epoch."""
        return ({name: len(v) for name, v in self.epochs.items()},
                {k: v for k, v in vars(self).items() if k != "epochs"})

    def rollback(self, token):
        """Go back to a :meth:`checkpoint` (epochs closed since are dropped)."""
        counts, accumulators = token
        for name, values in self.epochs.items():
            del values[counts[name]:]
        vars(self).update(accumulators)

    def end_epoch(self):
        """Close the current epoch; a no-op when nothing was recorded."""
        if self._n_updates == 0:
            return
        if self._n_values == 0:  # only rows of zero weight
            e_sup = e_td = np.nan
        else:
            e_sup = self._abs_sup / self._n_values
            e_td = self._abs_td / self._n_values
        norm = np.sqrt(self._sq_sup * self._sq_td)
        total = self._weight
        row = {
            "e_sup": e_sup,
            "e_td": e_td,
            "td_ratio": e_td / e_sup if e_sup > 0 else np.nan,
            "cosine": self._dot / norm if norm > 0 else np.nan,
            "weight_change": self._change / total if total > 0 else np.nan,
            "loss": 0.5 * self._sq_sup / total if total > 0 else np.nan,
            "n_updates": self._n_updates,
        }
        for name in self.fields:
            self.epochs[name].append(row[name])
        self._clear()

    def describe_last(self):
        """The last epoch as a progress-line fragment."""
        cosine = self.epochs["cosine"][-1]
        # The cosine is undefined while e_td is exactly 0 (the echo still
        # equals the readout, e.g. a first epoch of one batch): say so.
        if np.isfinite(cosine):
            cosine = f"{cosine:+.3f}"
        elif self.epochs["e_td"][-1] == 0:
            cosine = "undefined (e_td = 0: the echo equals the output)"
        else:
            cosine = "undefined (an error is exactly 0)"
        return (f"e_sup = {self.epochs['e_sup'][-1]:.5f}, "
                f"e_td = {self.epochs['e_td'][-1]:.5f}, "
                f"cosine = {cosine}")

    def as_dict(self):
        """The per-epoch diagnostics as a dict of 1-D arrays."""
        return {name: np.asarray(values) for name, values in self.epochs.items()}
