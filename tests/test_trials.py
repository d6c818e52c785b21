"""Trials to readout rows (sklearn_itds._trials) against numpy written out.

The encoder's rows themselves are checked against trial-by-trial reservoir
runs in tests/test_reservoir_classifier.py (``naive_rows``); here the pieces:
the input scaling, the per-sample normalization and the row width.
"""

import numpy as np
import pytest
from scipy import sparse

from sklearn_itds._reservoir import Reservoir
from sklearn_itds._trials import InputScaler, TrialEncoder, instance_normalize, readout_width
from sklearn_itds._validation import Trials


def test_input_scaler_centres_and_divides_by_one_common_scale():
    rng = np.random.RandomState(0)
    U = rng.randn(50, 4) * [1.0, 10.0, 0.1, 3.0] + [5.0, -2.0, 0.0, 1.0]
    scaler = InputScaler().fit(U)
    rms = np.sqrt(np.mean(U.var(axis=0)))  # one scale for all features
    np.testing.assert_allclose(scaler.transform(U), (U - U.mean(axis=0)) / rms, rtol=1e-12)
    w = rng.uniform(0, 2, 50)
    weighted = InputScaler().fit(U, sample_weight=w)
    mean = (w @ U) / w.sum()
    np.testing.assert_allclose(weighted.mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(weighted.scale_,
                               np.sqrt(np.mean((w @ (U - mean) ** 2) / w.sum())), rtol=1e-12)
    S = sparse.csr_matrix(np.where(U > 1, U, 0.0))
    scaled, shift = InputScaler().fit(S).transform_parts(S)
    dense = InputScaler().fit(S.toarray())
    assert sparse.issparse(scaled)  # sparse stays sparse; the centring is apart
    np.testing.assert_allclose(scaled.toarray() + shift, dense.transform(S.toarray()),
                               rtol=1e-12, atol=1e-12)


def test_instance_normalize_rows_and_sequences_by_hand():
    rng = np.random.RandomState(1)
    X = rng.randn(5, 6) * 3 + 2
    X[2] = 4.0  # a constant row becomes zeros, with spread 0
    shape, spread = instance_normalize(X)
    for row, out, s in zip(X, shape, spread):
        sd = row.std()
        np.testing.assert_allclose(out, (row - row.mean()) / sd if sd else 0 * row,
                                   atol=1e-12)
        assert s == pytest.approx(sd)
    U = rng.randn(3, 7, 2)
    lengths = np.array([7, 4, 2])
    shape, spread = instance_normalize(U, lengths)
    for u, n, out, s in zip(U, lengths, shape, spread):
        valid = u[:n]
        sd = valid.std(axis=0)
        np.testing.assert_allclose(out[:n], (valid - valid.mean(axis=0)) / sd, rtol=1e-10)
        assert not out[n:].any()  # the padding stays zero
        assert s == pytest.approx(np.sqrt(np.mean(sd ** 2)))
    with pytest.raises(ValueError, match="needs dense input"):
        instance_normalize(sparse.csr_matrix(X))


@pytest.mark.parametrize("representation", ["mean", "last", "mean_last"])
@pytest.mark.parametrize("bidirectional, input_to_readout", [(False, False), (True, True)])
def test_readout_width_is_the_encoders_row_length(representation, bidirectional,
                                                  input_to_readout):
    rng = np.random.RandomState(2)
    reservoir = Reservoir(3, 12, spectral_radius=0.9, density=0.3, leak_rate=1.0,
                          input_scaling=1.0, bias_scaling=1.0, random_state=0)
    encoder = TrialEncoder(reservoir, n_steps=4, representation=representation,
                           bidirectional=bidirectional, input_to_readout=input_to_readout,
                           scale_inputs=True)
    rows = encoder.fit(Trials(rng.randn(9, 5, 3)))
    assert rows.shape == (9, readout_width(12, 3, representation=representation,
                                           bidirectional=bidirectional,
                                           input_to_readout=input_to_readout))
    np.testing.assert_array_equal(rows[:, -1], 1.0)  # the bias column


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_blockwise_scaler_has_the_weighted_statistics(monkeypatch, dtype, rtol, weighted):
    """The statistics of a blockwise fit against numpy's float64 ones (float32
    input is summed by scikit-learn at about float32's precision, as in one
    ``StandardScaler.fit``)."""
    from sklearn_itds import _trials

    monkeypatch.setattr(_trials, "_BLOCK", 7)  # many blocks, a short last one
    rng = np.random.RandomState(3)
    X = (rng.randn(40, 5) * [1.0, 100.0, 1e-3, 5.0, 0.0] + 3.0).astype(dtype)
    w = rng.uniform(0.5, 2.0, 40) if weighted else np.ones(40)
    if weighted:
        w[7:14] = 0.0  # a whole block of weight 0 is skipped
    scaler = _trials._blockwise_scaler(X, w if weighted else None)
    mean = np.average(X.astype(float), axis=0, weights=w)
    var = np.average((X.astype(float) - mean) ** 2, axis=0, weights=w)
    np.testing.assert_allclose(scaler.mean_, mean, rtol=rtol)
    np.testing.assert_allclose(scaler.var_[:4], var[:4], rtol=10 * rtol)
    assert scaler.var_[4] < 1e-25 and scaler.scale_[4] == 1.0  # the constant column
    np.testing.assert_allclose(scaler.n_samples_seen_, w.sum(), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_fit_rows_equal_transform_rows_bit_for_bit(monkeypatch, dtype, threads):
    """fit standardizes the rows a block at a time after all chunks are run;
    transform standardizes each chunk as it comes: the same rows, in any
    chunking and in threads."""
    from sklearn_itds import _trials

    monkeypatch.setattr(_trials, "_BLOCK", 10)
    monkeypatch.setattr(TrialEncoder, "_BUDGET", 7 * 40)  # chunks of 7 trials
    monkeypatch.setattr(TrialEncoder, "_MIN_PER_THREAD", 5)
    monkeypatch.setattr(TrialEncoder, "_MAX_THREADS", threads)
    rng = np.random.RandomState(4)
    reservoir = Reservoir(3, 10, spectral_radius=0.9, density=0.2, leak_rate=0.5,
                          input_scaling=1.0, bias_scaling=1.0, random_state=0, dtype=dtype)
    encoder = TrialEncoder(reservoir, n_steps=4, representation="mean_last",
                           bidirectional=False, input_to_readout=True, scale_inputs=True)
    X = rng.randn(45, 3) * 4 + 1
    rows = encoder.fit(Trials(X))
    assert rows.dtype == dtype
    np.testing.assert_array_equal(encoder.transform(Trials(X)), rows)
    np.testing.assert_array_equal(encoder.transform(Trials(X[11:30])), rows[11:30])
    # and the rows are standardized with the statistics of the features
    features = rows[:, :-1].astype(float)
    scale = encoder.feature_scaler_.scale_
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(features.std(axis=0)[scale != 1.0], 1.0, rtol=1e-4)
