"""The optimised code paths equal the plain computations they replace.

Each fast path (sparse batched recurrent product, backward pass without the
input gradient, flat-moment Adam, single-thread BLAS context, BLAS thread
choice by timing) is compared with a direct numpy computation written here.
"""

import numpy as np
import pytest

from sklearn_itds import _mlp_base as base
from sklearn_itds._optimizers import Adam
from sklearn_itds._reservoir import Reservoir
from sklearn_itds._threads import AdaptiveBlasThreads, single_blas_thread


@pytest.mark.parametrize("density", [0.1, 0.5])
def test_recurrent_batch_equals_dense_product(density):
    res = Reservoir(3, 60, spectral_radius=0.9, density=density, leak_rate=0.5,
                    input_scaling=1.0, bias_scaling=0.1, random_state=0)
    X = np.random.RandomState(1).standard_normal((7, 60))
    np.testing.assert_allclose(res.recurrent(X), X @ res.W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.recurrent(X[2]), X[2] @ res.W, rtol=1e-12,
                               atol=1e-12)


def test_backward_without_input_gradient_gives_the_same_weight_gradients():
    rng = np.random.RandomState(0)
    coefs, intercepts = base.glorot_init([5, 7, 4, 3], "relu", rng)
    X = rng.standard_normal((6, 5))
    acts = base.forward(X, coefs, intercepts, "relu")
    G = rng.standard_normal((6, 3)) / 6
    full = base.backward(acts, coefs, G, "relu", 0.1, 6)
    fast = base.backward(acts, coefs, G, "relu", 0.1, 6, input_grad=False)
    assert fast[2] is None and full[2].shape == X.shape
    for a, b in zip(full[0] + full[1], fast[0] + fast[1]):
        np.testing.assert_array_equal(a, b)


def test_flat_adam_equals_per_parameter_formula():
    rng = np.random.RandomState(0)
    params = [rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((3, 2))]
    ref = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    opt = Adam(params, 0.01, 0.8, 0.99, 1e-7)
    for t in range(1, 5):
        grads = [rng.standard_normal(p.shape) for p in params]
        opt.update(params, grads)
        lr = 0.01 * np.sqrt(1 - 0.99**t) / (1 - 0.8**t)
        for i, g in enumerate(grads):
            m[i] = 0.8 * m[i] + 0.2 * g
            v[i] = 0.99 * v[i] + 0.01 * g**2
            ref[i] = ref[i] - lr * m[i] / (np.sqrt(v[i]) + 1e-7)
    for got, want in zip(params, ref):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    for got, want in zip(opt.ms + opt.vs, m + v):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_single_blas_thread_restores_the_setting():
    from threadpoolctl import threadpool_info

    before = [info["num_threads"] for info in threadpool_info()
              if info["user_api"] == "blas"]
    with single_blas_thread():
        inside = [info["num_threads"] for info in threadpool_info()
                  if info["user_api"] == "blas"]
        A = np.ones((3, 3))
        np.testing.assert_array_equal(A @ A, 3 * A)
    after = [info["num_threads"] for info in threadpool_info()
             if info["user_api"] == "blas"]
    assert all(n == 1 for n in inside)
    assert after == before


def test_overlapping_single_blas_thread_uses_restore_the_setting():
    # Two fits in two Python threads: the first to leave must not lift the
    # limit under the other, and the last to leave must restore the original.
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info()
                if info["user_api"] == "blas"]

    before = blas_threads()
    a, b = single_blas_thread(), single_blas_thread()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert all(n == 1 for n in blas_threads())
    b.__exit__(None, None, None)
    assert blas_threads() == before


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas"]


class _FakeClock:
    """Stands in for the time module in _threads: steps take what a test says."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


@pytest.mark.parametrize("faster", ["one", "default"])
def test_adaptive_blas_threads_keeps_the_faster_setting_and_restores(faster,
                                                                     monkeypatch):
    from threadpoolctl import threadpool_limits

    from sklearn_itds import _threads

    clock = _FakeClock()
    monkeypatch.setattr(_threads, "time", clock)

    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        if max(before, default=1) < 2:
            pytest.skip("BLAS runs one thread here: nothing to choose")
        seen = []
        chooser = AdaptiveBlasThreads(probe=2, every=4)
        with pytest.raises(RuntimeError):
            with chooser:
                for i in range(14):  # two probe-and-run cycles of 8 steps
                    with chooser.step():
                        one = all(n == 1 for n in _blas_threads())
                        seen.append("one" if one else "default")
                        # the slower setting takes 5 time units, the faster 1
                        clock.now += 1.0 if seen[-1] == faster else 5.0
                    if i == 13:
                        raise RuntimeError  # an error inside the loop
        # probes alternate, then the faster setting runs until the next probe
        assert seen[:4] == ["one", "default", "one", "default"]
        assert seen[4:8] == [faster] * 4
        assert seen[8:12] == ["one", "default", "one", "default"]
        assert seen[12:] == [faster] * 2
        assert chooser.choice == faster
        assert _blas_threads() == before  # restored, despite the error


def test_adaptive_blas_threads_is_inert_when_limited_already():
    chooser = AdaptiveBlasThreads(probe=1, every=1)
    with single_blas_thread():
        with chooser:
            for _ in range(4):
                with chooser.step():
                    assert all(n == 1 for n in _blas_threads())
    assert not chooser._active


def test_mlp_fit_with_adaptive_threads_equals_one_thread_fit():
    # Matrices large enough for OpenBLAS to use its threads when allowed.
    from threadpoolctl import threadpool_limits

    from sklearn_itds import ITDSMLPClassifier

    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((600, 256)), rng.randint(4, size=600)
    kw = dict(hidden_layer_sizes=(256,), batch_size=100, max_iter=3, random_state=0)
    with threadpool_limits(2, user_api="blas"):
        adaptive = ITDSMLPClassifier(**kw).fit(X, y)
    with threadpool_limits(1, user_api="blas"):
        single = ITDSMLPClassifier(**kw).fit(X, y)
    for a, b in zip(adaptive.coefs_ + adaptive.intercepts_,
                    single.coefs_ + single.intercepts_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("td_gain", [0.0, 1.0])
def test_rls_updates_allocate_no_n_by_n_array(td_gain):
    # symv/syr/ger update P and the weights in place: a pass of RLS updates
    # must never allocate an array the size of P (tracemalloc sees numpy's
    # allocations), and P must be the textbook P after the updates.
    import tracemalloc

    from sklearn_itds._itds import ITDSReadout

    n = 300
    rng = np.random.RandomState(0)
    R = np.hstack([rng.standard_normal((40, n - 1)) * 0.3, np.ones((40, 1))])
    Y = rng.standard_normal((40, 2))
    ro = ITDSReadout(n, 2, rule="rls", rls_alpha=0.5, td_gain=td_gain)
    # warm caches (BLAS handles, thread controller, and with numba the
    # compiled kernel, loaded or compiled at its first call) on the first rows
    ro.partial_fit(R[:1], Y[:1])
    ro._update(R[1], Y[1])
    P_id = id(ro.P)
    tracemalloc.start()
    base_mem = tracemalloc.get_traced_memory()[0]
    for i in range(2, 40):
        ro._update(R[i], Y[i])
    peak = tracemalloc.get_traced_memory()[1] - base_mem
    tracemalloc.stop()
    assert peak < n * n * 8 / 4, peak
    assert id(ro.P) == P_id and ro.P.flags.f_contiguous
    P = np.eye(n) / 0.5
    for r in R:
        Pr = P @ r
        P -= np.outer(Pr, Pr) / (1.0 + r @ Pr)
    np.testing.assert_allclose(np.tril(ro.P), np.tril(P), rtol=1e-8,
                               atol=1e-10 * np.abs(P).max())


def test_adaptive_blas_threads_probes_less_while_the_choice_holds(monkeypatch):
    from threadpoolctl import threadpool_limits

    from sklearn_itds import _threads

    clock = _FakeClock()
    monkeypatch.setattr(_threads, "time", clock)

    with threadpool_limits(2, user_api="blas"):
        if max(_blas_threads(), default=1) < 2:
            pytest.skip("BLAS runs one thread here: nothing to choose")
        seen = []
        chooser = AdaptiveBlasThreads(probe=1, every=2, max_every=8)
        with chooser:
            for _ in range(40):
                with chooser.step():
                    one = all(n == 1 for n in _blas_threads())
                    seen.append("one" if one else "default")
                    clock.now += 1.0 if one else 5.0  # one thread is faster
    # probes (one, default), then runs of 2, 4, 8, 8 steps on one thread:
    # each probe that confirms the choice doubles the run, up to max_every
    probe = ["one", "default"]
    expected = []
    for run in (2, 4, 8, 8, 8):
        expected += probe + ["one"] * run
    assert seen == expected[:40]


def test_small_mlp_runs_on_one_thread_without_probing(monkeypatch):
    from threadpoolctl import threadpool_limits

    from sklearn_itds import ITDSMLPClassifier
    from sklearn_itds import _mlp_base as mlp_base

    seen = []
    real = mlp_base.forward

    def spy(*args, **kwargs):
        seen.append(max(_blas_threads(), default=1))
        return real(*args, **kwargs)

    monkeypatch.setattr(mlp_base, "forward", spy)
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((120, 8)), rng.randint(3, size=120)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        ITDSMLPClassifier((10,), max_iter=2, batch_size=20).fit(X, y)
        assert _blas_threads() == before
    assert seen and set(seen) == {1}
