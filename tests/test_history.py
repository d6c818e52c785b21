"""The iTDS diagnostics (sklearn_itds._history.TDHistory) against direct numpy.

The readouts' recording of them is tested in tests/test_itds.py; here the
accumulator alone: blocks of errors in, per-epoch means out.
"""

import numpy as np
import pytest

from sklearn_itds import _itds
from sklearn_itds._history import TDHistory


def _blocks(rng, sizes, K=3):
    return [(rng.standard_normal((n, K)), rng.standard_normal((n, K)), rng.rand(n))
            for n in sizes]


def _expected(blocks, weights=None):
    e_sup = np.vstack([b[0] for b in blocks])
    e_td = np.vstack([b[1] for b in blocks])
    change = np.concatenate([b[2] for b in blocks])
    w = np.ones(len(change)) if weights is None else np.concatenate(weights)
    K = e_sup.shape[1]
    mean_sup = (w @ np.abs(e_sup)).sum() / (w.sum() * K)
    mean_td = (w @ np.abs(e_td)).sum() / (w.sum() * K)
    sw = np.sqrt(w)[:, None]
    return {
        "e_sup": mean_sup,
        "e_td": mean_td,
        "td_ratio": mean_td / mean_sup,
        "cosine": np.sum(w[:, None] * e_sup * e_td)
        / (np.linalg.norm(sw * e_sup) * np.linalg.norm(sw * e_td)),
        "weight_change": (w @ change) / w.sum(),
        "loss": 0.5 * (w @ (e_sup**2).sum(axis=1)) / w.sum(),
        "n_updates": len(change),
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_epochs_are_the_means_of_their_blocks(weighted):
    rng = np.random.RandomState(0)
    epochs = [_blocks(rng, [5, 9]), _blocks(rng, [4])]
    weights = [[rng.uniform(0, 2, len(b[2])) for b in blocks] for blocks in epochs]
    h = TDHistory()
    for blocks, ws in zip(epochs, weights):
        for (e_sup, e_td, change), w in zip(blocks, ws):
            h.record(e_sup, e_td, change, sample_weight=w if weighted else None)
        h.end_epoch()
    h.end_epoch()  # nothing recorded since: a no-op
    got = h.as_dict()
    assert set(got) == set(TDHistory.fields)
    for i, (blocks, ws) in enumerate(zip(epochs, weights)):
        for name, value in _expected(blocks, ws if weighted else None).items():
            np.testing.assert_allclose(got[name][i], value, rtol=1e-12, err_msg=name)


def test_integer_weight_counts_as_copies_of_the_row():
    rng = np.random.RandomState(1)
    e_sup, e_td, change = _blocks(rng, [6])[0]
    w = np.array([1, 3, 0, 2, 1, 1])
    a, b = TDHistory(), TDHistory()
    a.record(e_sup, e_td, change, sample_weight=w)
    rep = np.repeat(np.arange(6), w)
    b.record(e_sup[rep], e_td[rep], change[rep])
    a.end_epoch()
    b.end_epoch()
    for name in ("e_sup", "e_td", "td_ratio", "cosine", "weight_change", "loss"):
        np.testing.assert_allclose(a.epochs[name], b.epochs[name], rtol=1e-12)
    assert a.epochs["n_updates"] == [6]  # rows, not weight


def test_only_zero_weight_rows_give_undefined_means():
    h = TDHistory()
    h.record(np.ones((2, 2)), np.ones((2, 2)), np.ones(2), sample_weight=np.zeros(2))
    h.end_epoch()
    assert h.epochs["n_updates"] == [2]
    for name in ("e_sup", "e_td", "weight_change", "loss"):
        assert np.isnan(h.epochs[name][0]), name


def test_checkpoint_and_rollback():
    rng = np.random.RandomState(2)
    h = TDHistory()
    (a, b, c), (d, e, f) = _blocks(rng, [4, 4])
    h.record(a, b, c)
    h.end_epoch()
    h.record(d, e, f)
    token = h.checkpoint()
    before = h.as_dict()
    h.record(a, b, c)
    h.end_epoch()
    h.end_epoch()
    h.rollback(token)
    h.end_epoch()  # closes the epoch that was open at the checkpoint
    after = h.as_dict()
    for name in TDHistory.fields:
        assert len(after[name]) == len(before[name]) + 1
    np.testing.assert_allclose(after["e_sup"][1], np.abs(d).mean(), rtol=1e-12)


def test_is_finite_and_discard_epoch():
    h = TDHistory()
    h.record(np.full((1, 2), 1e200), np.zeros((1, 2)), np.ones(1))  # its square overflows
    assert not h.is_finite()
    h.discard_epoch()
    assert h.is_finite()
    h.end_epoch()
    assert h.epochs["n_updates"] == []


def test_describe_last_says_when_the_cosine_is_undefined():
    h = TDHistory()
    h.record(np.ones((2, 2)), np.zeros((2, 2)), np.ones(2))
    h.end_epoch()
    assert "undefined (e_td = 0" in h.describe_last()
    h.record(np.array([[1.0, -1.0]]), np.array([[1.0, 1.0]]), np.ones(1))
    h.end_epoch()
    assert "cosine = +0.000" in h.describe_last()


def test_the_rule_module_still_exports_it():
    assert _itds.TDHistory is TDHistory  # pickles of earlier versions name _itds
