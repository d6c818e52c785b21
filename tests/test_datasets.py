"""Tests for sklearn_itds.datasets: every task, its definition and its API."""

import socket

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

import sklearn_itds.datasets as ds
from sklearn_itds.datasets import list_tasks, load_task

# Small sizes so that the whole file runs in a few seconds.
SMALL = {
    "sines4": dict(n_steps=300),
    "sines4_noisy": dict(n_steps=300),
    "sines16": dict(n_steps=480),
    "triangle": dict(n_steps=300),
    "square": dict(n_steps=300),
    "two_timescale": dict(n_steps=600),
    "lorenz": dict(n_steps=300),
    "mackey_glass": dict(n_steps=300),
    "mackey_glass_multistep": dict(n_steps=300, horizon=5),
    "narma10": dict(n_steps=300),
    "mso": dict(n_steps=300),
    "xor": dict(n_copies=5),
    "and": dict(n_copies=5),
    "or": dict(n_copies=5),
    "parity3": dict(n_copies=5),
    "delayed_xor": dict(n_samples=40),
    "flipflop3": dict(n_steps=300),
    "delayed_pulse": dict(n_steps=300),
    "digits": dict(n_class=3),
    "mnist1d": dict(n_samples=50),
}
SEEDED = {"sines4_noisy", "sines16", "lorenz", "mackey_glass",
          "mackey_glass_multistep", "narma10", "xor", "and", "or", "parity3",
          "delayed_xor", "flipflop3", "delayed_pulse", "mnist1d"}
DETERMINISTIC = {"sines4", "triangle", "square", "two_timescale", "mso",
                 "digits"}
EXPECTED = {  # name: (kind, estimator)
    "sines4": ("generation", "ITDSReservoirRegressor"),
    "sines4_noisy": ("generation", "ITDSReservoirRegressor"),
    "sines16": ("generation", "ITDSReservoirRegressor"),
    "triangle": ("generation", "ITDSReservoirRegressor"),
    "square": ("generation", "ITDSReservoirRegressor"),
    "two_timescale": ("generation", "ITDSReservoirRegressor"),
    "lorenz": ("generation", "ITDSReservoirRegressor"),
    "mackey_glass": ("one_step", "ITDSReservoirRegressor"),
    "mackey_glass_multistep": ("multi_step", "ITDSReservoirRegressor"),
    "narma10": ("one_step", "ITDSReservoirRegressor"),
    "mso": ("one_step", "ITDSReservoirRegressor"),
    "xor": ("classification", "ITDSMLPClassifier"),
    "and": ("classification", "ITDSMLPClassifier"),
    "or": ("classification", "ITDSMLPClassifier"),
    "parity3": ("classification", "ITDSMLPClassifier"),
    "delayed_xor": ("sequence_classification", "ITDSReservoirClassifier"),
    "flipflop3": ("tracking", "ITDSReservoirRegressor"),
    "delayed_pulse": ("tracking", "ITDSReservoirRegressor"),
    "digits": ("classification", "ITDSMLPClassifier"),
    "mnist1d": ("classification", "ITDSMLPClassifier"),
}
TIME_ORDERED = {"generation", "one_step", "multi_step", "tracking"}


def test_list_tasks():
    names = list_tasks()
    assert len(names) >= 16
    assert names == sorted(names)
    assert set(names) == set(EXPECTED) == set(SMALL) == SEEDED | DETERMINISTIC
    assert not SEEDED & DETERMINISTIC
    for name in names:  # the module docstring's table covers every task
        assert name in ds.__doc__


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_task_loads(name):
    task = load_task(name, random_state=0, **SMALL[name])
    assert isinstance(task, Bunch)
    kind, estimator = EXPECTED[name]
    assert task.name == name and task.kind == kind and kind in ds.KINDS
    assert task.estimator == estimator
    X, y = np.asarray(task.X), np.asarray(task.y)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
    assert X.shape[0] == y.shape[0] > 0
    assert isinstance(task.description, str) and len(task.description) > 80
    assert set(SMALL[name]) <= set(task.options)
    for option, value in SMALL[name].items():
        assert task.options[option] == value
    if kind in TIME_ORDERED:
        assert X.ndim == 2 and y.ndim in (1, 2)
        assert 0 < task.n_train < X.shape[0]
        assert task.options["n_train"] == task.n_train
    else:
        assert task.n_train is None
        assert y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
        assert X.ndim == (3 if kind == "sequence_classification" else 2)
    if kind == "generation":
        assert X.shape == (y.shape[0], 1) and np.all(X == 1.0)
        assert task.estimator_params == {"mode": "sequential", "output_feedback": True,
                                         "leak_rate": 0.3}
    elif task.estimator == "ITDSReservoirRegressor":  # one series, step by step
        assert task.estimator_params == {"mode": "sequential"}
    # return_X_y gives the same arrays
    X2, y2 = load_task(name, random_state=0, return_X_y=True, **SMALL[name])
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_estimator_params_is_a_fresh_dict():
    load_task("sines4", n_steps=10).estimator_params["output_feedback"] = 0
    assert load_task("sines4", n_steps=10).estimator_params == {
        "mode": "sequential", "output_feedback": True, "leak_rate": 0.3}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_seeded_tasks_are_reproducible(name):
    a = load_task(name, random_state=3, **SMALL[name])
    b = load_task(name, random_state=3, **SMALL[name])
    c = load_task(name, random_state=4, **SMALL[name])
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not (np.array_equal(a.X, c.X) and np.array_equal(a.y, c.y))
    rs = np.random.RandomState(3)  # a RandomState instance works too
    np.testing.assert_array_equal(load_task(name, rs, **SMALL[name]).y, a.y)


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_tasks_ignore_random_state(name):
    a = load_task(name, random_state=1, **SMALL[name])
    b = load_task(name, random_state=2, **SMALL[name])
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="sines4.*xor"):
        load_task("no_such_task")
    with pytest.raises(ValueError, match="Unknown task"):
        load_task(["xor"])


@pytest.mark.parametrize("name, options, option", [
    ("sines4", dict(n_step=10), "n_step"),
    ("sines4", dict(n_steps=0), "n_steps"),
    ("sines4", dict(n_steps=10.5), "n_steps"),
    ("sines4", dict(n_steps=10, n_train=10), "n_train"),
    ("sines4_noisy", dict(noise=-1.0), "noise"),
    ("lorenz", dict(dt=0.0), "dt"),
    ("mso", dict(n_oscillators=9), "n_oscillators"),
    ("mackey_glass_multistep", dict(horizon=0), "horizon"),
    ("xor", dict(n_copies=True), "n_copies"),
    ("xor", dict(n_steps=10), "n_steps"),
    ("delayed_xor", dict(n_steps=5, delay=5), "n_steps"),
    ("flipflop3", dict(pulse_prob=0.0), "pulse_prob"),
    ("digits", dict(n_class=11), "n_class"),
    ("mnist1d", dict(n_samples=5), "n_samples"),
])
def test_invalid_size_options(name, options, option):
    with pytest.raises(ValueError, match=option):
        load_task(name, **options)


def test_no_network_access(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in list_tasks():
        assert load_task(name, random_state=0, **SMALL[name]).X.size > 0


# --- task definitions -------------------------------------------------------

def test_sines4_formula():
    task = load_task("sines4")
    t = np.arange(1200)
    expected = np.zeros(1200)
    for amplitude, harmonic in [(1.3, 1), (0.65, 2), (1.3 / 6, 3),
                                (1.3 / 3, 4)]:
        expected += amplitude * np.sin(harmonic * np.pi * t / 60.0)
    np.testing.assert_allclose(task.y, expected / 1.5, rtol=0, atol=1e-12)
    assert task.n_train == 800
    # spot value by hand: t = 30 -> [1.3 + 0 - 1.3/6 + 0] / 1.5
    assert task.y[30] == pytest.approx((1.3 - 1.3 / 6) / 1.5)


def test_sines4_noisy_noise_level():
    task = load_task("sines4_noisy", random_state=0, noise=0.2)
    np.testing.assert_allclose(task.y_clean, load_task("sines4").y)
    residual = task.y - task.y_clean
    assert residual.std() == pytest.approx(0.2, rel=0.1)
    assert abs(residual.mean()) < 0.05


def test_sines16_is_periodic_sum_of_16_harmonics():
    task = load_task("sines16", random_state=0, period=64, n_steps=640)
    y = task.y
    np.testing.assert_allclose(y[64:], y[:-64], atol=1e-12)
    assert np.abs(y).max() == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(y[:640]))  # exactly 10 periods
    harmonics = spectrum[10 * np.arange(1, 17)]
    assert np.all(harmonics > 1e-3)  # all 16 harmonics present
    other = np.delete(spectrum, 10 * np.arange(1, 17))
    assert other.max() < 1e-8


def test_triangle_and_square_waves():
    tri = load_task("triangle", period=8, n_steps=16).y
    np.testing.assert_allclose(tri[:9], [-1, -0.5, 0, 0.5, 1, 0.5, 0, -0.5, -1])
    sq = load_task("square", period=6, n_steps=12).y
    np.testing.assert_array_equal(sq, [1, 1, 1, -1, -1, -1] * 2)


def test_two_timescale_formula():
    task = load_task("two_timescale", slow_period=100, fast_period=10,
                     n_steps=300)
    t = np.arange(300)
    expected = (np.sin(2 * np.pi * t / 100)
                + 0.5 * np.sin(2 * np.pi * t / 10)) / 1.5
    np.testing.assert_allclose(task.y, expected, atol=1e-12)


def test_lorenz_range_and_equations():
    task = load_task("lorenz", random_state=1, n_steps=3000, dt=0.001)
    assert np.abs(task.y).max() < 2.5
    assert np.abs(task.y).max() > 0.5  # on the attractor, not at a fixed point
    np.testing.assert_allclose(task.y, task.trajectory[:, 0] / 10.0)
    x, y, z = task.trajectory.T
    dt = 0.001
    # central finite differences against the Lorenz vector field
    derivative = (task.trajectory[2:] - task.trajectory[:-2]) / (2 * dt)
    x, y, z = x[1:-1], y[1:-1], z[1:-1]
    field = np.column_stack([10 * (y - x), x * (28 - z) - y,
                             x * y - 8 / 3 * z])
    error = np.abs(derivative - field).max()
    assert error < 1e-3 * np.abs(field).max()  # rho = 27 would give ~7e-2
    # default sampling: dt = 0.02 and the attractor's range for x/10
    task = load_task("lorenz", random_state=2)
    assert 1.5 < np.abs(task.y).max() < 2.5


def _mackey_glass_rate(x, x_delayed):
    return 0.2 * x_delayed / (1 + x_delayed ** 10) - 0.1 * x


def test_mackey_glass_range_and_shift():
    task = load_task("mackey_glass", random_state=0, n_steps=1000)
    series = task.X[:, 0]
    assert 0.2 < series.min() and series.max() < 1.4
    assert series.max() - series.min() > 0.5  # chaotic, not a fixed point
    np.testing.assert_array_equal(task.y[:-1], series[1:])
    # The series obeys the delay equation with tau = 17: the trapezoid rule
    # over one time unit predicts each increment to ~1e-3, whereas a delay of
    # 16 or 18 gives errors of ~2e-2.
    t = np.arange(17, 999)
    increment = series[t + 1] - series[t]
    predicted = 0.5 * (_mackey_glass_rate(series[t], series[t - 17])
                       + _mackey_glass_rate(series[t + 1], series[t - 16]))
    assert np.corrcoef(increment, predicted)[0, 1] > 0.999
    assert np.abs(increment - predicted).max() < 0.005


def test_mackey_glass_multistep_shares_the_series():
    one = load_task("mackey_glass", random_state=5, n_steps=200)
    multi = load_task("mackey_glass_multistep", random_state=5, n_steps=200,
                      horizon=7)
    np.testing.assert_array_equal(one.X, multi.X)
    np.testing.assert_array_equal(multi.y[:-7], multi.X[7:, 0])
    h1 = load_task("mackey_glass_multistep", random_state=5, n_steps=200,
                   horizon=1)
    np.testing.assert_array_equal(h1.y, one.y)


def test_narma10_recurrence():
    task = load_task("narma10", random_state=0, n_steps=1000)
    u, out = task.X[:, 0], task.y  # out[t] = y(t+1)
    assert u.min() >= 0 and u.max() <= 0.5
    for t in range(10, 1000):
        y_t = out[t - 1]
        history = out[t - 10:t]  # y(t), ..., y(t-9)
        expected = (0.3 * y_t + 0.05 * y_t * history.sum()
                    + 1.5 * u[t - 9] * u[t] + 0.1)
        assert out[t] == pytest.approx(expected, abs=1e-12)


def test_mso_definition():
    task = load_task("mso", n_steps=100, n_oscillators=3)
    t = np.arange(101)
    series = np.sin(0.2 * t) + np.sin(0.311 * t) + np.sin(0.42 * t)
    np.testing.assert_allclose(task.X[:, 0], series[:-1], atol=1e-12)
    np.testing.assert_allclose(task.y, series[1:], atol=1e-12)


@pytest.mark.parametrize("name, n_bits, rule", [
    ("xor", 2, lambda b: b[:, 0] ^ b[:, 1]),
    ("and", 2, lambda b: b[:, 0] & b[:, 1]),
    ("or", 2, lambda b: b[:, 0] | b[:, 1]),
    ("parity3", 3, lambda b: b[:, 0] ^ b[:, 1] ^ b[:, 2]),
])
def test_boolean_labels(name, n_bits, rule):
    task = load_task(name, random_state=0, noise=0.1, n_copies=30)
    assert task.X.shape == (30 * 2 ** n_bits, n_bits)
    bits = (task.X > 0.5).astype(int)  # noise 0.1: rounding recovers bits
    np.testing.assert_array_equal(task.y, rule(bits))
    # each pattern appears exactly n_copies times
    codes = bits @ (2 ** np.arange(n_bits))
    np.testing.assert_array_equal(np.bincount(codes), [30] * 2 ** n_bits)
    assert 0.05 < np.abs(task.X - bits).std() < 0.15


def test_delayed_xor_labels():
    task = load_task("delayed_xor", random_state=0, n_samples=100,
                     n_steps=15, delay=8, noise=0.0)
    X = task.X[:, :, 0]
    assert task.X.shape == (100, 15, 1)
    pulses = np.flatnonzero(np.abs(X).sum(axis=0))
    np.testing.assert_array_equal(pulses, [2, 10])
    first, second = X[:, 2] > 0, X[:, 10] > 0
    np.testing.assert_array_equal(task.y, first ^ second)
    assert 0 < task.y.mean() < 1


def test_flipflop3_holds_sign_of_last_pulse():
    task = load_task("flipflop3", random_state=0, n_steps=1500,
                     pulse_prob=0.05)
    X, y = task.X, task.y
    assert set(np.unique(X)) == {-1.0, 0.0, 1.0}
    expected = np.zeros_like(X)
    state = np.zeros(3)
    for t in range(len(X)):
        for j in range(3):
            if X[t, j] != 0:
                state[j] = np.sign(X[t, j])
        expected[t] = state
    np.testing.assert_array_equal(y, expected)
    assert (np.abs(X) > 0).mean() == pytest.approx(0.05, abs=0.015)


def test_delayed_pulse_timing():
    task = load_task("delayed_pulse", random_state=0, n_steps=600, delay=7,
                     width=2)
    x, y = task.X[:, 0], task.y
    onsets = np.flatnonzero(x)
    assert len(onsets) >= 10 and np.all(np.diff(onsets) >= 18)
    expected = np.zeros(600)
    for t in onsets:
        expected[t + 7:t + 9] = 1.0
    np.testing.assert_array_equal(y, expected[:600])


def test_digits_scaled():
    task = load_task("digits")
    assert task.X.shape == (1797, 64)
    assert task.X.min() == 0.0 and task.X.max() == 1.0
    assert sorted(np.unique(task.y)) == list(range(10))


def test_mnist1d_shape_balance_and_learnability():
    X, y = load_task("mnist1d", random_state=0, n_samples=2000,
                     return_X_y=True)
    assert X.shape == (2000, 40)
    np.testing.assert_array_equal(np.bincount(y), [200] * 10)
    assert abs(X.mean()) < 1e-10 and X.std() == pytest.approx(1.0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25,
                                          random_state=0, stratify=y)
    score = LogisticRegression(max_iter=2000).fit(Xtr, ytr).score(Xte, yte)
    assert score > 0.2  # chance is 0.1; the published linear baseline ~0.32


def test_every_series_keeps_a_test_row_and_a_pulse():
    task = load_task("mackey_glass", n_steps=3)
    assert 1 <= task.n_train <= len(task.y) - 1
    with pytest.raises(ValueError, match="Invalid option delay"):
        load_task("delayed_pulse", delay=5000)
    for seed in range(20):  # the shortest series allowed holds a pulse and its response
        task = load_task("delayed_pulse", n_steps=39, delay=10, width=3, random_state=seed)
        assert task.X.sum() >= 1 and task.y.sum() >= 3  # the first response whole
