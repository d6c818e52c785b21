"""The compiled loop of a sequential run with its own output fed back (sklearn_itds._fused).

FORCE learning and generation, run by the compiled loop (the reservoir kernel
and the readout kernel alternating step by step), against the same fit on the
numpy reference path (``Reservoir.step`` and ``ITDSReadout.update`` per step).
An independent check against a naive FORCE loop written out with a dense P is
``test_force_with_own_output_feedback_equals_a_naive_force_loop`` in
test_reservoir_regressor.py, run on both paths.
"""

import numpy as np
import pytest

from sklearn_itds import ITDSReservoirRegressor, _fused

from _kernels import needs_numba, path

pytestmark = needs_numba


def _series(n, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n + 1)
    u = np.column_stack([np.sin(2 * np.pi * t / 29), rng.uniform(-1, 1, n + 1)])
    y = np.column_stack([np.sin(2 * np.pi * t / 29 + 1.0), np.cos(2 * np.pi * t / 41)])
    return u[:-1], y[1:]


def _force(**kw):
    params = dict(n_reservoir=50, mode="sequential", output_feedback=True,
                  spectral_radius=1.1, leak_rate=0.4, feedback_scaling=0.5,
                  rls_alpha=1e-2, td_gain=0.4, washout=20, random_state=0)
    params.update(kw)
    return ITDSReservoirRegressor(**params)


def _both(X, Y, **kw):
    """The same fit on the numpy path and compiled, and a prediction of each."""
    out = []
    for compiled in (False, True):
        with path(compiled):
            model = _force(**kw).fit(X, Y)
            out.append((model, model.predict(X[:150])))
    return out


def _assert_same(a, b, rtol):
    (ma, pa), (mb, pb) = a, b
    np.testing.assert_allclose(mb.readout_.coef_pair, ma.readout_.coef_pair,
                               rtol=rtol, atol=rtol)
    if ma.readout_.rule == "rls":
        np.testing.assert_allclose(np.tril(mb.readout_.P), np.tril(ma.readout_.P),
                                   rtol=rtol, atol=rtol)
    np.testing.assert_allclose(mb.state_, ma.state_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(mb.last_output_, ma.last_output_, rtol=rtol, atol=rtol)
    for name, values in ma.td_history_.items():
        np.testing.assert_allclose(mb.td_history_[name], values, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(mb.loss_curve_, ma.loss_curve_, rtol=rtol)
    np.testing.assert_allclose(pb, pa, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("kw", [
    {},
    {"learning_rule": "lms", "learning_rate_init": 0.2},
    {"update_every": 3},
    {"echo": "weight_average", "td_sign": -1},
    {"input_to_readout": True, "max_iter": 2},
    {"td_gain": 0.0, "washout": 0},
], ids=["rls", "lms", "every-3", "weight-average", "inputs-2-passes", "plain"])
def test_compiled_force_equals_the_numpy_loop(kw):
    X, Y = _series(1300)  # more than one chunk of steps
    numpy_fit, compiled_fit = _both(X, Y, **kw)
    _assert_same(numpy_fit, compiled_fit, rtol=1e-8)
    model = compiled_fit[0]
    every = kw.get("update_every", 1)
    assert model.td_history_["n_updates"][-1] == len(range(model.washout, 1300, every))


def test_compiled_force_float32_equals_the_numpy_loop_to_single_precision():
    X, Y = _series(400)
    numpy_fit, compiled_fit = _both(X, Y, dtype=np.float32, rls_alpha=1.0)
    _assert_same(numpy_fit, compiled_fit, rtol=2e-4)
    assert compiled_fit[0].readout_.W.dtype == np.float32


def test_partial_fit_continues_the_compiled_stream():
    X, Y = _series(600)
    with path(True):
        whole = _force().fit(X, Y)
        parts = _force()
        parts.partial_fit(X[:250], Y[:250])
    # the second call runs with the first call's target statistics: compare
    # with the numpy path's partial_fit, which does the same
    with path(False):
        ref = _force()
        ref.partial_fit(X[:250], Y[:250])
        ref.partial_fit(X[250:], Y[250:])
    with path(True):
        parts.partial_fit(X[250:], Y[250:])
    np.testing.assert_allclose(parts.readout_.coef_pair, ref.readout_.coef_pair,
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(parts.state_, ref.state_, rtol=1e-8, atol=1e-10)
    assert parts.td_history_["n_updates"].tolist() == [230, 350]
    assert whole.td_history_["n_updates"].tolist() == [580]


@pytest.mark.parametrize("kw", [{"feedback_split": True}, {"readout_sparsity": 0.3},
                                {"density": 0.5}])
def test_split_mask_and_dense_reservoirs_keep_the_numpy_loop(monkeypatch, kw):
    """The compiled loop has no sign split or mask and reads sparse weights;
    those fits run the numpy loop (and give the numpy path's result)."""
    calls = []
    monkeypatch.setattr(_fused, "feedback_chunk",
                        lambda *a, **k: calls.append(1) or None)
    X, Y = _series(200)
    with path(True):
        model = _force(**kw).fit(X, Y)
    with path(False):
        ref = _force(**kw).fit(X, Y)
    assert calls == []
    if "density" in kw:  # the readout's updates are still compiled, one per step
        np.testing.assert_allclose(model.readout_.coef_pair, ref.readout_.coef_pair,
                                   rtol=1e-8, atol=1e-10)
    else:
        np.testing.assert_array_equal(model.readout_.coef_pair, ref.readout_.coef_pair)


def test_runaway_force_is_reported_not_raised():
    """Overflow in the compiled loop gives inf/nan silently; the fit warns of
    divergence and keeps its start, as on the numpy path."""
    X, Y = _series(300)
    for compiled in (False, True):
        with path(compiled), pytest.warns(Warning, match="diverged"):
            model = _force(spectral_radius=3.0, feedback_scaling=1e6, rls_alpha=1e-8,
                           td_gain=10.0, td_sign=-1).fit(X, Y)
        assert model.n_iter_ == 0
        assert np.isfinite(model.readout_.coef_pair).all()
