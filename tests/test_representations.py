"""Trial representations, against trajectories stored and reduced by hand."""

import numpy as np
import pytest

from sklearn_itds._representations import (
    REPRESENTATIONS,
    from_summary,
    n_features,
    reverse_trials,
    trial_features,
)
from sklearn_itds._reservoir import Reservoir


@pytest.fixture
def batch():
    rng = np.random.RandomState(0)
    S = rng.standard_normal((4, 6, 3))
    return S, np.array([6, 1, 3, 5])


@pytest.mark.parametrize("kind", REPRESENTATIONS)
def test_trial_features_by_hand(batch, kind):
    S, lengths = batch
    F = trial_features(S, lengths, kind)
    for i, L in enumerate(lengths):
        mean, last = S[i, :L].mean(axis=0), S[i, L - 1]
        expected = {"mean": mean, "last": last, "mean_last": np.r_[mean, last]}[kind]
        np.testing.assert_allclose(F[i], expected, rtol=1e-12)
    assert F.shape == (4, n_features(kind, 3))
    # Padding is never read.
    S2 = S.copy()
    S2[np.arange(6)[None, :] >= lengths[:, None]] = 1e9
    np.testing.assert_allclose(trial_features(S2, lengths, kind), F, rtol=1e-12)


def test_reverse_trials_reverses_the_valid_steps_only(batch):
    U, lengths = batch
    R = reverse_trials(U, lengths)
    for i, L in enumerate(lengths):
        np.testing.assert_array_equal(R[i, :L], U[i, :L][::-1])
        assert not R[i, L:].any()


@pytest.mark.parametrize("leak_rate", [1.0, 0.4])
@pytest.mark.parametrize("sequences", [True, False])
def test_reservoir_summary_equals_the_stored_trajectory(leak_rate, sequences):
    """trial_summary reduces on the fly what run_trials stores, step by step."""
    rng = np.random.RandomState(1)
    res = Reservoir(2, 20, spectral_radius=0.9, density=0.2, leak_rate=leak_rate,
                    input_scaling=1.0, bias_scaling=0.2, random_state=0)
    U = rng.standard_normal((5, 7, 2)) if sequences else rng.standard_normal((5, 2))
    lengths = np.array([7, 2, 5, 1, 7]) if sequences else None
    S = res.run_trials(U, 7, 7)
    mean, last = res.trial_summary(U, 7, lengths)
    for kind in REPRESENTATIONS:
        np.testing.assert_allclose(from_summary(mean, last, kind),
                                   trial_features(S, lengths, kind), rtol=1e-12)
    # and run_trials is the naive loop
    x = np.zeros((5, 20))
    for t in range(7):
        u = U[:, t] if sequences else U
        x = (1 - leak_rate) * x + leak_rate * np.tanh(u @ res.W_in + x @ res.W + res.bias)
        np.testing.assert_allclose(S[:, t], x, rtol=1e-10, atol=1e-12)
