"""Trial representations: what a readout reads from a trial's state trajectory.

Each representation is a pure function of a batch of trajectories ``S`` of
shape ``(B, T, N)`` (trial ``i`` is valid for its first ``lengths[i]`` steps;
later rows are padding and never read) to a feature matrix ``(B, F)``:

- ``"last"``: the state at the trial's last step, ``x(T_i)``.
- ``"mean"``: the mean state over the trial, ``mean_t x(t)``.
- ``"mean_last"``: both, ``[mean_t x(t), x(T_i)]``.

Measured on the development datasets (``benchmarks/select_defaults.py
representation``), the states at several points and the reservoir model space
of Bianchi et al. (2021) did not beat the mean state, so they are not offered.

Bidirectional reservoirs (:func:`reverse_trials`) run each trial a second
time backwards; the estimators concatenate the two representations.

These functions know nothing about learning; the estimators choose one and
pass the features to the iTDS readout (:mod:`sklearn_itds._itds`).
"""

import numpy as np

__all__ = ["REPRESENTATIONS", "from_summary", "n_features", "reverse_trials",
           "trial_features"]

REPRESENTATIONS = ("mean", "last", "mean_last")


def n_features(kind, n_units):
    """Length of one trial's feature row for ``n_units`` state units."""
    return n_units * (2 if kind == "mean_last" else 1)


def trial_features(S, lengths, kind):
    """Features ``(B, F)`` of the trajectories ``S`` (B, T, N).

    Parameters
    ----------
    S : ndarray of shape (B, T, N)
        States; trial ``i`` is valid for its first ``lengths[i]`` steps.
    lengths : ndarray of int, shape (B,), or None
        Trial lengths, each in ``[1, T]``; None: all ``T``.
    kind : str
        One of :data:`REPRESENTATIONS`.

    Returns
    -------
    features : ndarray of shape (B, n_features(kind, N))
    """
    B, T = S.shape[:2]
    if lengths is None:
        lengths = np.full(B, T)
    rows = np.arange(B)
    if kind == "last":
        return S[rows, lengths - 1]
    if kind == "mean":
        return _masked_mean(S, lengths)
    if kind == "mean_last":
        return np.hstack([_masked_mean(S, lengths), S[rows, lengths - 1]])
    raise ValueError(f"unknown representation {kind!r}")


def from_summary(mean, last, kind):
    """Features from each trial's mean and last state (both ``(B, N)``).

    Equal to :func:`trial_features` on the full trajectories, for the
    representations offered; the reservoir computes the two summaries on the
    fly (``Reservoir.trial_summary``) without storing the trajectory.
    """
    if kind == "mean":
        return mean
    if kind == "last":
        return last
    if kind == "mean_last":
        return np.hstack([mean, last])
    raise ValueError(f"unknown representation {kind!r}")


def _masked_mean(S, lengths):
    T = S.shape[1]
    if np.all(lengths == T):
        return S.mean(axis=1)
    valid = (np.arange(T)[None, :] < lengths[:, None]).astype(S.dtype)
    return np.einsum("bt,btn->bn", valid, S) / lengths[:, None]


def reverse_trials(U, lengths):
    """Each trial's valid steps in reverse order (padding stays at the end)."""
    B, T = U.shape[:2]
    if lengths is None or np.all(lengths == T):
        return U[:, ::-1]
    idx = lengths[:, None] - 1 - np.arange(T)[None, :]
    valid = idx >= 0
    out = U[np.arange(B)[:, None], np.where(valid, idx, 0)]
    out[~valid] = 0.0
    return out
