"""One series step by step (sklearn_itds._sequence.run_sequence) against the
loop written out: the leaky reservoir update and the readout's own per-row
rule (tests/_naive.py), one step at a time.

The regressor's sequential-mode tests (tests/test_reservoir_regressor.py)
check the same path through the estimator: ridge equality, teacher forcing,
the worker thread that computes states ahead, interruptions.
"""

import numpy as np
import pytest

from sklearn_itds import _sequence
from sklearn_itds._itds import ITDSReadout
from sklearn_itds._reservoir import Reservoir

from _naive import bounded_delta, naive_gain


def _parts(n_in=2, N=15, K=1, rule="rls", td_gain=0.0, n_feedback=0, lr=0.2):
    reservoir = Reservoir(n_in, N, spectral_radius=0.9, density=0.3, leak_rate=0.6,
                          input_scaling=0.8, bias_scaling=0.3, n_feedback=n_feedback,
                          feedback_scaling=0.5, random_state=0)
    readout = ITDSReadout(N + n_in + 1, K, rule=rule, learning_rate=lr, rls_alpha=0.5,
                          td_gain=td_gain, td_timescale=3.0)
    return reservoir, readout


def naive_run(reservoir, U, Y, rule, td_gain, lr, skip, feedback=False):
    """States r = [x, u, 1] step by step; W and the echo learn from step skip on."""
    N, K = reservoir.W.shape[0], Y.shape[1]
    n = N + U.shape[1] + 1
    W, Wbar, P = np.zeros((n, K)), np.zeros((n, K)), np.eye(n) / 0.5
    x, y_prev, Z = np.zeros(N), np.zeros(K), []
    for t, (u, y) in enumerate(zip(U, Y)):
        drive = u @ reservoir.W_in + reservoir.bias
        if feedback:
            drive = drive + y_prev @ reservoir.W_fb
        x = reservoir.step(x, drive)
        r = np.concatenate([x, u, [1.0]])
        z, d = r @ W, r @ Wbar
        if t >= skip:
            gain, P = naive_gain(r, P, rule, lr)
            W = W + np.outer(gain, bounded_delta(y, z, d, td_gain))
            Wbar = Wbar + np.outer(gain, z - d) / 3.0
        Z.append(z)
        y_prev = z
    return np.array(Z), x, W


@pytest.mark.parametrize("rule, td_gain", [("rls", 0.0), ("rls", 1.5), ("lms", 0.7)])
@pytest.mark.parametrize("feedback", [False, True])
def test_run_sequence_is_the_step_by_step_loop(rule, td_gain, feedback):
    rng = np.random.RandomState(0)
    U, Y = rng.randn(300, 2), rng.randn(300, 1)
    reservoir, readout = _parts(rule=rule, td_gain=td_gain, n_feedback=1 if feedback else 0)
    N = reservoir.W.shape[0]
    Z, x, y_prev = _sequence.run_sequence(
        reservoir, readout, U, Y, np.zeros(N), np.zeros(1), skip=20, feedback=feedback,
        input_to_readout=True)
    Z_naive, x_naive, W = naive_run(reservoir, U, Y, rule, td_gain, 0.2, 20, feedback)
    np.testing.assert_allclose(Z, Z_naive, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(x, x_naive, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(readout.W, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(y_prev, Z_naive[-1], rtol=1e-8, atol=1e-10)
