"""The bounded iTDS rule written out one row at a time, with ``np.outer`` and a
dense RLS matrix ``P``: the method page's equations, independent of
``sklearn_itds``.

Shared by tests/test_itds.py (the readout) and tests/test_reservoir_classifier.py
(the estimator's passes), which build their naive references from these.
"""

import numpy as np


def naive_gain(r, P, rule, lr):
    """One row's gain vector and the next ``P``: normalized LMS or RLS."""
    if rule == "rls":
        Pr = P @ r
        gain = Pr / (1.0 + r @ Pr)
        return gain, P - np.outer(gain, Pr)
    return lr * r / (r @ r), P


def bounded_delta(y, z, d, td_gain, td_sign=1):
    """``(e_sup + td_sign * td_gain * e_td) / (1 + td_gain)``."""
    return ((y - z) + td_sign * td_gain * (d - z)) / (1.0 + td_gain)


def naive_given_echo(R, Y, D, rule, td_gain, td_sign=1, W=None, P=None, *, lr, alpha):
    """One pass with a fixed echo row per sample. Returns ``W, P``.

    ``W`` starts at zero and ``P`` at ``I / alpha`` unless given.
    """
    W = np.zeros((R.shape[1], Y.shape[1])) if W is None else W.copy()
    P = np.eye(R.shape[1]) / alpha if P is None else P.copy()
    for r, y, d in zip(R, Y, D):
        z = r @ W
        gain, P = naive_gain(r, P, rule, lr)
        W = W + np.outer(gain, bounded_delta(y, z, d, td_gain, td_sign))
    return W, P
