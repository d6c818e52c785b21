"""The echo-state reservoir (sklearn_itds._reservoir) against plain numpy.

Spectral radii are checked with a dense ``np.linalg.eigvals``, states with a
naive per-sample loop of the leaky-tanh equation written here.
"""

import pickle

import numpy as np
import pytest
from scipy import sparse

from sklearn_itds import _jit, _reservoir
from sklearn_itds._reservoir import Reservoir, spawn_streams

from _kernels import PATHS, needs_numba, path


def _make(n_inputs=3, N=40, seed=0, **kw):
    params = dict(spectral_radius=0.9, density=0.1, leak_rate=0.5,
                  input_scaling=0.5, bias_scaling=0.2)
    params.update(kw)
    return Reservoir(n_inputs, N, random_state=seed, **params)


def naive_states(res, U, n_steps):
    """x(t+1) = (1-a) x(t) + a tanh(u(t) W_in + x(t) W + bias), per sample."""
    a = res.leak_rate
    U = np.asarray(U)
    out = []
    for u in U:
        seq = u if U.ndim == 3 else [u] * n_steps
        x = np.zeros(res.n_reservoir)
        states = []
        for u_t in seq:
            pre = u_t @ res.W_in + x @ res.W + res.bias
            x = (1 - a) * x + a * np.tanh(pre)
            states.append(x)
        out.append(states)
    return np.array(out)


@pytest.mark.parametrize("N, rho", [(30, 0.9), (120, 1.3), (200, 0.5)])
def test_spectral_radius_is_the_requested_one(N, rho):
    res = _make(N=N, spectral_radius=rho, density=0.2)
    assert np.max(np.abs(np.linalg.eigvals(res.W))) == pytest.approx(rho, rel=1e-9)


def test_spectral_radius_on_the_sparse_eigensolver_path(monkeypatch):
    monkeypatch.setattr(_reservoir, "_DENSE_EIG_MAX", 10)  # force ARPACK
    res = _make(N=150, spectral_radius=1.1, density=0.1)
    assert np.max(np.abs(np.linalg.eigvals(res.W))) == pytest.approx(1.1, rel=1e-4)


def test_zero_spectral_radius_gives_zero_recurrent_weights():
    assert not _make(spectral_radius=0.0).W.any()


@pytest.mark.parametrize("density", [0.05, 0.1, 0.5, 1.0])
def test_density(density):
    N = 100
    res = _make(N=N, density=density)
    assert np.count_nonzero(res.W) / N**2 == pytest.approx(density, abs=0.005)


def test_weight_ranges_and_shapes():
    res = _make(n_inputs=4, N=60, input_scaling=0.3, bias_scaling=0.7,
                n_feedback=2, feedback_scaling=1.5)
    assert res.W.shape == (60, 60) and res.W_in.shape == (4, 60)
    assert res.bias.shape == (60,) and res.W_fb.shape == (2, 60)
    assert np.abs(res.W_in).max() <= 0.3 and np.abs(res.W_in).max() > 0.2
    assert np.abs(res.bias).max() <= 0.7 and np.abs(res.bias).max() > 0.5
    assert np.abs(res.W_fb).max() <= 1.5 and np.abs(res.W_fb).max() > 1.0
    assert _make().W_fb is None


def test_independent_random_streams():
    a = _make(n_inputs=2, seed=3)
    b = _make(n_inputs=7, seed=3)  # more inputs: recurrent weights and biases unchanged
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.bias, b.bias)
    c = _make(n_inputs=2, seed=3, n_feedback=3)  # feedback: nothing else changes
    np.testing.assert_array_equal(a.W, c.W)
    np.testing.assert_array_equal(a.W_in, c.W_in)
    np.testing.assert_array_equal(a.bias, c.bias)
    d = _make(n_inputs=2, seed=3)  # same seed: identical
    for name in ("W", "W_in", "bias"):
        np.testing.assert_array_equal(getattr(a, name), getattr(d, name))
    e = _make(n_inputs=2, seed=4)
    assert not np.array_equal(a.W, e.W) and not np.array_equal(a.W_in, e.W_in)
    # A RandomState instance is accepted and consumed like the seed.
    f = _make(n_inputs=2, seed=np.random.RandomState(3))
    np.testing.assert_array_equal(a.W, f.W)


def test_spawn_streams_are_reproducible_and_distinct():
    s1 = [rng.rand(5) for rng in spawn_streams(0, 3)]
    s2 = [rng.rand(5) for rng in spawn_streams(0, 3)]
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(s1[0], s1[1])


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("density", [0.1, 0.15, 0.5])  # CSR; CSR or dense; dense
@pytest.mark.parametrize("leak_rate", [0.3, 1.0])
@pytest.mark.parametrize("learn_steps", [1, 3, 6])
def test_run_trials_equals_the_naive_loop(leak_rate, learn_steps, density, compiled):
    rng = np.random.RandomState(0)
    res = _make(n_inputs=3, N=30, leak_rate=leak_rate, spectral_radius=1.2,
                density=density)
    with path(compiled):
        _run_trials_against_the_naive_loop(res, rng, learn_steps)


@pytest.mark.parametrize("compiled", PATHS)
def test_batches_go_dense_where_scipys_kernel_is_slower(compiled):
    """Up to density 0.1 a run of trials uses the CSR copy of ``W^T``; between
    0.1 and 0.2 only with the compiled kernel (without it the dense GEMM is
    faster there); above 0.2 never. Single states keep the CSR copy up to 0.2."""
    with path(compiled):
        for density, batch_sparse in [(0.1, True), (0.15, compiled), (0.2, compiled),
                                      (0.25, False)]:
            res = _make(N=30, density=density)
            assert (res.batch_W_T() is not None) is batch_sparse, density
            assert (res._sparse_W_T() is not None) is (density <= 0.2)


def _run_trials_against_the_naive_loop(res, rng, learn_steps):
    U = rng.standard_normal((5, 3))
    states = res.run_trials(U, 6, learn_steps)
    assert states.shape == (5, learn_steps, 30)
    expected = naive_states(res, U, 6)[:, 6 - learn_steps:]
    np.testing.assert_allclose(states, expected, rtol=1e-12, atol=1e-14)
    # Sequences (3-D input): one input per step.
    U3 = rng.standard_normal((4, 7, 3))
    states3 = res.run_trials(U3, 999, learn_steps)  # n_steps is ignored
    expected3 = naive_states(res, U3, None)[:, 7 - learn_steps:]
    np.testing.assert_allclose(states3, expected3, rtol=1e-12, atol=1e-14)


def test_static_input_equals_a_sequence_of_the_repeated_row():
    rng = np.random.RandomState(1)
    res = _make(n_inputs=4, N=25)
    U = rng.standard_normal((6, 4))
    U3 = np.repeat(U[:, None, :], 5, axis=1)
    np.testing.assert_allclose(res.run_trials(U, 5, 5), res.run_trials(U3, 5, 5),
                               rtol=1e-14, atol=0)


def test_sparse_input_drive_equals_dense():
    rng = np.random.RandomState(2)
    res = _make(n_inputs=5, N=20)
    U = rng.standard_normal((4, 5)) * (rng.rand(4, 5) < 0.5)
    np.testing.assert_allclose(res.drive(sparse.csr_matrix(U)), res.drive(U),
                               rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("density", [0.05, 0.2, 0.6])
def test_single_state_sparse_path_equals_the_dense_product(density):
    rng = np.random.RandomState(3)
    res = _make(N=80, density=density)
    x = rng.standard_normal(80)
    np.testing.assert_allclose(res.recurrent(x), x @ res.W, rtol=1e-12, atol=1e-14)
    assert (res._W_sparse_T is not None) == (density <= 0.2)  # the CSR cache is used
    drive = res.drive(rng.standard_normal(3))
    batch = np.vstack([x, x])
    np.testing.assert_allclose(res.step(x, drive), res.step(batch, drive)[0],
                               rtol=1e-12, atol=1e-14)


def test_pickling_drops_the_cache_and_still_works():
    rng = np.random.RandomState(4)
    res = _make(N=50, density=0.1)
    x = rng.standard_normal(50)
    before = res.recurrent(x)
    assert res._W_sparse_T is not None
    clone = pickle.loads(pickle.dumps(res))
    assert clone._W_sparse_T is None
    assert res._W_sparse_T is not None  # the original keeps its cache
    np.testing.assert_array_equal(clone.W, res.W)
    np.testing.assert_allclose(clone.recurrent(x), before, rtol=1e-14)
    U = rng.standard_normal((3, 3))
    np.testing.assert_array_equal(clone.run_trials(U, 4, 2), res.run_trials(U, 4, 2))


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("density", [0.1, 0.5])
@pytest.mark.parametrize("leak_rate", [0.3, 1.0])
def test_run_steps_equals_the_naive_loop_from_a_given_state(density, leak_rate, compiled):
    res = _make(N=30, density=density, leak_rate=leak_rate)
    rng = np.random.RandomState(1)
    U = rng.uniform(-1, 1, (25, 3))
    x0 = rng.uniform(-0.5, 0.5, 30)
    rows = np.full((25, 32), 7.0)  # the states go into a view, the rest is kept
    with path(compiled):
        last = res.run_steps(x0.copy(), res.drive(U), rows[:, :30])
    a, x, expected = res.leak_rate, x0, []
    for u in U:
        x = (1 - a) * x + a * np.tanh(u @ res.W_in + x @ res.W + res.bias)
        expected.append(x)
    np.testing.assert_allclose(rows[:, :30], expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(rows[:, 30:], 7.0)
    np.testing.assert_array_equal(last, rows[-1, :30])


def test_run_steps_without_the_raw_csr_kernel_gives_the_same_states(monkeypatch):
    # run_steps calls scipy's CSR kernel directly when it can; the public
    # ``csr @ x`` path (used if scipy moves the kernel) gives the same states.
    res = _make(N=50, density=0.1, leak_rate=0.4)
    rng = np.random.RandomState(2)
    drive = res.drive(rng.uniform(-1, 1, (40, 3)))
    fast = np.empty((40, 50))
    with path(False):  # the numpy path, not the compiled kernel
        res.run_steps(np.zeros(50), drive, fast)
        monkeypatch.setattr(_reservoir, "_csr_matvec", None)
        slow = np.empty((40, 50))
        res.run_steps(np.zeros(50), drive, slow)
    np.testing.assert_allclose(fast, slow, rtol=1e-13, atol=1e-15)


@needs_numba
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-13, 1e-15),
                                               (np.float32, 1e-5, 1e-6)])
@pytest.mark.parametrize("leak_rate", [0.3, 1.0])
@pytest.mark.parametrize("n_feedback", [0, 2])
def test_compiled_steps_equal_the_numpy_steps(dtype, rtol, atol, leak_rate, n_feedback):
    """The kernel ``_leaky_steps`` sums in scipy's order; only ``tanh`` (libm's
    against numpy's) may differ in the last bit."""
    res = _make(N=60, density=0.1, leak_rate=leak_rate, n_feedback=n_feedback,
                dtype=dtype, spectral_radius=1.2)
    rng = np.random.RandomState(3)
    drive = res.drive(rng.uniform(-1, 1, (300, 3)).astype(dtype))
    fed = rng.uniform(-1, 1, (300, n_feedback)).astype(dtype) if n_feedback else None
    x0 = rng.uniform(-0.5, 0.5, 60).astype(dtype)
    out = {}
    for compiled in (False, True):
        rows = np.full((300, 63), 7.0, dtype=dtype)
        with path(compiled):
            last = res.run_steps(x0, drive, rows[:, :60], feedback=fed)
        np.testing.assert_array_equal(last, rows[-1, :60])
        np.testing.assert_array_equal(rows[:, 60:], 7.0)
        assert last.dtype == rows.dtype
        out[compiled] = rows
    np.testing.assert_allclose(out[True], out[False], rtol=rtol, atol=atol)
    # ... and the feedback term is the drive's: an independent loop
    if n_feedback:
        a, x, expected = res.leak_rate, x0.astype(float), []
        for d, f in zip(drive, fed):
            x = (1 - a) * x + a * np.tanh(d + f @ res.W_fb + x @ res.W)
            expected.append(x)
        np.testing.assert_allclose(out[True][:, :60], expected, rtol=10 * rtol,
                                   atol=10 * atol)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, B, density", [(50, 700, 0.2), (9, 3, 0.2), (200, 64, 0.05)])
def test_compiled_batch_product_is_scipys_bit_for_bit(dtype, N, B, density):
    """``_csr_states`` (panels of states, four nonzeros per pass) sums each
    element in the order of scipy's ``csr_matvecs``: the same result exactly,
    across a panel boundary (B=700) and for rows of any number of nonzeros."""
    res = _make(N=N, density=density, dtype=dtype)
    W_T = res._sparse_W_T()
    assert W_T is not None and np.unique(np.diff(W_T.indptr)).size > 1
    rng = np.random.RandomState(0)
    xT = rng.standard_normal((N, B)).astype(dtype)
    drive = rng.standard_normal((N, B)).astype(dtype)
    expected = drive.copy()
    _reservoir._csr_matvecs(N, N, B, W_T.indptr, W_T.indices, W_T.data, xT, expected)
    out = np.full((N, B), np.nan, dtype=dtype)
    _reservoir._csr_states(W_T.indptr.view(np.uint32), W_T.indices.view(np.uint32),
                           W_T.data, xT, drive, out)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(out, drive + (xT.T.astype(float) @ res.W).T,
                               rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


@needs_numba
def test_the_compiled_batch_product_is_loaded_only_for_large_runs(monkeypatch):
    """``prepare_runs`` loads ``_csr_states`` from about 8.6e9 multiply-adds
    (numba's start-up would cost small runs more than it saves); a run uses
    it once loaded, and the rows are the same bit for bit either way."""
    monkeypatch.setattr(_reservoir._csr_states, "_compiled", None)  # not loaded yet
    monkeypatch.setitem(_jit._switch, "on", True)  # whatever SKLEARN_ITDS_NUMBA says
    res = _make(n_inputs=3, N=40, density=0.1, dtype=np.float32)
    U = np.random.RandomState(0).standard_normal((64, 3)).astype(np.float32)
    nnz = res.batch_W_T().nnz
    res.prepare_runs(_reservoir._COMPILED_RUN_WORK // nnz - 1)
    assert not _reservoir._csr_states.loaded()
    scipy_rows = res.trial_summary(U, 7)
    res.prepare_runs(_reservoir._COMPILED_RUN_WORK // nnz + 1)
    assert _reservoir._csr_states.loaded()
    calls = []
    compiled = _reservoir._csr_states.compiled()
    monkeypatch.setattr(_reservoir._csr_states, "_compiled",
                        lambda *a: calls.append(1) or compiled(*a))
    kernel_rows = res.trial_summary(U, 7)
    assert len(calls) == 7  # one product per step
    for a, b in zip(kernel_rows, scipy_rows):
        np.testing.assert_array_equal(a, b)
    with path(False):  # switched off: loaded or not, scipy's kernel runs
        assert not _reservoir._csr_states.loaded()


def test_a_small_classifier_fit_does_not_start_numba():
    """Importing numba and loading a kernel take about 0.7 s: a small fit
    (here load_digits) must not pay them for the batch product."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from sklearn.datasets import load_digits\n"
            "from sklearn_itds import ITDSReservoirClassifier\n"
            "X, y = load_digits(return_X_y=True)\n"
            "ITDSReservoirClassifier(random_state=0).fit(X, y).predict(X)\n"
            "print('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
