"""Tests of the compiled minibatch epoch (``sklearn_itds._mlp_kernels``).

The reference is the numpy path (``MLPTrainingMixin._step``, minibatch by
minibatch), which ``tests/test_mlp.py`` checks against MLPClassifier and
hand-written steps; with ``td_gain=0`` the compiled path is also checked
against MLPClassifier directly. Skipped without numba (``pip install
sklearn-itds[fast]``).
"""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from sklearn_itds import ITDSMLPClassifier
from sklearn_itds import _mlp_kernels as kernels
from sklearn_itds import _optimizers

pytest.importorskip("numba")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16.0, y[:240]


def _targets(kind, y):
    if kind == "binary":
        return y % 2
    if kind == "multilabel":
        return np.column_stack([y < 5, y % 2 == 0, np.isin(y, [1, 4, 7])]).astype(int)
    return y


class _Count:
    """Counts calls of ``kernels.epoch`` (to know which path ran)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = kernels.epoch

        def counted(*args):
            self.calls += 1
            return original(*args)

        monkeypatch.setattr(kernels, "epoch", counted)


def _fit_both(monkeypatch, est, X, y, sample_weight=None, calls=None):
    """``est`` fitted by the compiled epoch and by the numpy steps."""
    count = _Count(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = est.__class__(**est.get_params()).fit(X, y, sample_weight=sample_weight)
        assert count.calls == (compiled.n_iter_ if calls is None else calls)
        monkeypatch.setattr(kernels, "ENABLED", False)
        reference = est.__class__(**est.get_params()).fit(X, y,
                                                          sample_weight=sample_weight)
        monkeypatch.setattr(kernels, "ENABLED", True)
    return compiled, reference


def _assert_same_fit(a, b, rtol):
    atol = rtol * 1e-2
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    for x, z in zip(a.coefs_ + a.intercepts_ + [a.echo_coef_, a.echo_intercept_],
                    b.coefs_ + b.intercepts_ + [b.echo_coef_, b.echo_intercept_]):
        assert x.dtype == z.dtype
        np.testing.assert_allclose(x, z, rtol=rtol, atol=atol)
    for key in a.td_history_:
        np.testing.assert_allclose(a.td_history_[key], b.td_history_[key], rtol=rtol,
                                   atol=atol)


SETTINGS = [
    dict(solver="adam"),
    dict(solver="adam", echo="weight_average", td_sign=-1, activation="tanh"),
    dict(solver="sgd", learning_rate_init=0.1),
    dict(solver="sgd", learning_rate_init=0.1, nesterovs_momentum=False,
         activation="logistic", echo="weight_average"),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.2, power_t=0.2,
         activation="identity"),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.1, tol=0.2,
         n_iter_no_change=1),
]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_compiled_epoch_equals_numpy_steps(monkeypatch, digits, settings, kind,
                                           td_gain):
    X, y = digits
    est = ITDSMLPClassifier((12,), max_iter=5, batch_size=32, td_gain=td_gain,
                            td_timescale=5.0, random_state=0, **settings)
    compiled, reference = _fit_both(monkeypatch, est, X, _targets(kind, y))
    _assert_same_fit(compiled, reference, rtol=1e-10)
    assert compiled.loss_curve_[-1] < compiled.loss_curve_[0]  # it learned


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_compiled_epoch_with_sample_weight_and_two_hidden_layers(monkeypatch, digits,
                                                                 solver):
    X, y = digits
    w = np.random.RandomState(0).randint(0, 4, X.shape[0]).astype(float)
    w[:40] = 0  # whole minibatches of zero weight (shuffle=False): skipped
    est = ITDSMLPClassifier((15, 10), solver=solver, max_iter=4, batch_size=20,
                            shuffle=False, random_state=1)
    compiled, reference = _fit_both(monkeypatch, est, X, y, sample_weight=w)
    _assert_same_fit(compiled, reference, rtol=1e-10)


def test_compiled_epoch_in_float32(monkeypatch, digits):
    X, y = digits
    est = ITDSMLPClassifier((20,), max_iter=4, batch_size=32, random_state=0)
    compiled, reference = _fit_both(monkeypatch, est, X.astype(np.float32), y)
    assert compiled.coefs_[0].dtype == np.float32
    _assert_same_fit(compiled, reference, rtol=2e-4)


def test_partial_fit_and_warm_start_continue_alike(monkeypatch, digits):
    X, y = digits
    runs = []
    for enabled in (True, False):
        monkeypatch.setattr(kernels, "ENABLED", enabled)
        m = ITDSMLPClassifier((10,), batch_size=50, random_state=0)
        for _ in range(3):
            m.partial_fit(X, y, classes=np.arange(10))
        m.set_params(warm_start=True, max_iter=3).fit(X, y)
        runs.append(m)
    _assert_same_fit(*runs, rtol=1e-10)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_compiled_td_gain_zero_equals_mlpclassifier(monkeypatch, digits, kind, solver):
    """The ablation on the compiled path, as tests/test_mlp.py on either path."""
    X, y = digits
    y = _targets(kind, y)
    kw = dict(hidden_layer_sizes=(15,), solver=solver, max_iter=8, alpha=1e-3,
              batch_size=64, random_state=3,
              learning_rate_init=0.01 if solver == "adam" else 0.2)
    count = _Count(monkeypatch)
    ours = ITDSMLPClassifier(td_gain=0.0, **kw).fit(X, y)
    assert count.calls == 8
    ref = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-11)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-10, atol=1e-12)


def test_numpy_path_where_the_kernel_does_not_apply(monkeypatch, digits):
    X, y = digits
    count = _Count(monkeypatch)
    ITDSMLPClassifier((8,), max_iter=2, feedback_split=True, random_state=0).fit(X, y)
    ITDSMLPClassifier((8,), max_iter=2, readout_sparsity=0.3, random_state=0).fit(X, y)
    ITDSMLPClassifier((8,), max_iter=2, random_state=0).fit(sparse.csr_matrix(X), y)
    # a large network: per-call overhead no longer matters, BLAS threads do
    ITDSMLPClassifier((2048,), max_iter=1, batch_size=200, random_state=0).fit(X, y)
    assert count.calls == 0
    # an update rule other than the one the kernel implements
    original = _optimizers.Adam.update
    monkeypatch.setattr(_optimizers.Adam, "update",
                        lambda self, p, g: original(self, p, g))
    ITDSMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    assert count.calls == 0


def test_divergence_is_caught_after_a_compiled_epoch(monkeypatch, digits):
    X, y = digits
    count = _Count(monkeypatch)
    m = ITDSMLPClassifier((8,), max_iter=3, random_state=0)
    with pytest.warns(Warning, match="diverged"):
        m.fit(X * 1e300, y)  # the products overflow
    assert count.calls >= 1
    assert all(np.isfinite(c).all() for c in m.coefs_)


def test_epoch_in_blocks_of_minibatches_equals_one_block(monkeypatch, digits):
    """An epoch runs in calls of ``_KERNEL_BATCHES`` minibatches (so that an
    interrupt is not held for a whole epoch): the split changes nothing."""
    from sklearn_itds import _mlp_train

    X, y = digits
    w = np.random.RandomState(2).rand(X.shape[0])
    fits = []
    for blocks in (256, 3, 1):
        monkeypatch.setattr(_mlp_train, "_KERNEL_BATCHES", blocks)
        count = _Count(monkeypatch)
        fits.append(ITDSMLPClassifier((10,), max_iter=3, batch_size=25,
                                      random_state=0).fit(X, y, sample_weight=w))
        assert count.calls == 3 * -(-10 // blocks)  # 10 minibatches per epoch
    for other in fits[1:]:
        _assert_same_fit(other, fits[0], rtol=0)


def test_fortran_ordered_and_read_only_inputs(monkeypatch, digits):
    X, y = digits
    read_only = X.copy()
    read_only.flags.writeable = False  # as joblib's memmaps
    fits = []
    for Xv in (X, np.asfortranarray(X), read_only):
        count = _Count(monkeypatch)
        fits.append(ITDSMLPClassifier((10,), max_iter=2, random_state=0).fit(Xv, y))
        assert count.calls == 2
    for other in fits[1:]:
        _assert_same_fit(other, fits[0], rtol=0)


def test_the_package_switch_turns_the_epoch_off(monkeypatch, digits):
    """``_jit.use_kernels(False)`` and ``SKLEARN_ITDS_NUMBA=0`` reach the MLP
    too; with the variable set when the package is imported numba is not
    imported at all."""
    import subprocess
    import sys

    from sklearn_itds import _jit

    X, y = digits
    count = _Count(monkeypatch)
    kw = dict(hidden_layer_sizes=(20,), batch_size=64, max_iter=2, random_state=0)
    ITDSMLPClassifier(**kw).fit(X, y)
    assert count.calls == 2
    with _jit.use_kernels(False):
        ITDSMLPClassifier(**kw).fit(X, y)
    assert count.calls == 2
    code = ("import sys; import numpy as np; from sklearn_itds import ITDSMLPClassifier; "
            "from sklearn_itds import _mlp_kernels as k; "
            "X = np.random.RandomState(0).rand(60, 4); "
            "ITDSMLPClassifier(max_iter=2, batch_size=16).fit(X, X[:, 0] > 0.5); "
            "print(k.AVAILABLE, 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], text=True,
                         capture_output=True, check=True,
                         env={**__import__("os").environ, "SKLEARN_ITDS_NUMBA": "0"})
    assert out.stdout.split() == ["False", "False"]
