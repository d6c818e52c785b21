"""The compiled per-step loop of a sequential run whose own output is fed back.

With the network's own output fed back (FORCE learning, and prediction with
output feedback) every reservoir step waits for the previous output, so the
reservoir step and the readout update alternate step by step. The numpy
reference is that loop in ``run_sequence`` (``_sequence.py``): per step
one ``Reservoir.step`` and one ``ITDSReadout.update`` or output. Here the same
loop runs compiled (``sklearn_itds._jit``, with numba): per step the reservoir
kernel ``_leaky_steps`` and the readout kernel ``_readout_rows``, each defined
beside its numpy reference, with no interpreter in between. This module holds
no equation of its own: it feeds each step's output into the next step's drive.
"""

import numpy as np

from . import _jit
from ._itds import _readout_rows
from ._reservoir import _leaky_steps

__all__ = ["applies", "feedback_chunk"]


def applies(reservoir, readout, drive):
    """True when :func:`feedback_chunk` can run this reservoir and readout."""
    return (_jit.available() and readout._compiled()
            and reservoir._kernel_args(drive) is not None
            and drive.dtype == readout.coef_pair.dtype)


def feedback_chunk(reservoir, readout, x, y_prev, drive, rows, Y, learn):
    """Run the steps of one chunk with the own output fed back, compiled.

    ``drive`` (n_steps, N) is the input drive, ``rows`` (n_steps, n_inputs)
    the readout rows with their input and bias columns filled in (the state
    columns are written here), ``Y`` (n_steps, K) the targets (read where
    ``learn`` is True), ``x`` and ``y_prev`` the state and the output before
    the first step. Learns where ``learn`` is True, records those updates'
    diagnostics in the readout and returns the outputs ``[z, d]`` of every
    step (a-priori where it learned), as the numpy loop does.
    """
    n = len(drive)
    ZD = np.empty((n, readout.coef_pair.shape[1]), dtype=readout.coef_pair.dtype)
    gain_norms = np.zeros(n)
    _feedback_loop(np.ascontiguousarray(x, dtype=drive.dtype),
                   np.asarray(y_prev, dtype=drive.dtype), drive,
                   reservoir.W_fb.astype(drive.dtype, copy=False), rows,
                   np.ascontiguousarray(Y, dtype=np.float64), learn, ZD, gain_norms,
                   *reservoir._kernel_args(drive), *readout._kernel_args())
    if learn.any():
        readout._account(ZD[learn], Y[learn], gain_norms[learn],
                         rows[np.flatnonzero(learn)[-1]])
    return ZD


@_jit.kernel
def _feedback_loop(x, y_prev, drive, W_fb, rows, Y, learn, ZD, gain_norms,
                   indptr, indices, data, a, keep,
                   C, P, mix, rls, target_scale, lms_rate, follow_tau, blas):
    """Compiled core of :func:`feedback_chunk`: for each step ``t``, the drive
    ``drive[t] + y W_fb`` of the previous output ``y``, one reservoir step into
    ``rows[t]``, then the readout's update on that row (or only its output
    where ``learn[t]`` is False), whose output ``z`` is fed back next."""
    n_steps, N = drive.shape
    K = y_prev.size
    no_echo = np.empty((0, K), dtype=C.dtype)  # the readout's own echo, no given rows
    step_drive = np.empty((1, N), dtype=drive.dtype)
    state = x.copy()
    fed = y_prev.copy()
    for t in range(n_steps):
        for i in range(N):
            f = 0.0
            for k in range(K):
                f += fed[k] * W_fb[k, i]
            step_drive[0, i] = drive[t, i] + f
        _leaky_steps(state, step_drive, rows[t:t + 1], indptr, indices, data, a, keep)
        for i in range(N):
            state[i] = rows[t, i]
        _readout_rows(rows[t:t + 1], Y[t:t + 1], learn[t:t + 1], ZD[t:t + 1],
                      gain_norms[t:t + 1], C, P, mix, rls, target_scale, lms_rate,
                      follow_tau, blas, no_echo)
        for k in range(K):
            fed[k] = ZD[t, k]
