"""ITDSReservoirClassifier against an independent re-implementation.

The reference here recomputes every trial's states with a naive per-sample loop
of the leaky-tanh equation and applies plain normalized LMS, one sample-step at
a time, in the estimator's sample order (``shuffle=False``).
"""

import copy

import numpy as np
import pytest
from scipy.special import log_softmax
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_itds import ITDSReservoirClassifier, _reservoir_classifier
from sklearn_itds.robustness import corrupt_labels


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _clf(**kw):
    params = dict(n_reservoir=30, n_steps=4, max_iter=2, shuffle=False,
                  random_state=0, td_gain=0.0, learning_rate=0.1)
    params.update(kw)
    return ITDSReservoirClassifier(**params)


def naive_plain_lms(res, X, y_index, n_classes, n_steps, n_learn, epochs, lr):
    """Plain normalized LMS on naively computed trial states, samples in order.

    Returns the readout (N + 1, K), the a-priori end-of-trial outputs of the
    last epoch and the per-epoch mean of 0.5 |y - z|^2.
    """
    N, a = res.W.shape[0], res.leak_rate
    W = np.zeros((N + 1, n_classes))
    losses = []
    for _ in range(epochs):
        z_end, sq = [], []
        for u, k in zip(X, y_index):
            target = np.eye(n_classes)[k]
            seq = u if X.ndim == 3 else [u] * n_steps
            T = len(seq)
            x = np.zeros(N)
            for t, u_t in enumerate(seq):
                x = (1 - a) * x + a * np.tanh(u_t @ res.W_in + x @ res.W + res.bias)
                if t >= T - n_learn:
                    r = np.append(x, 1.0)
                    z = r @ W
                    e = target - z
                    W = W + lr * np.outer(r, e) / (r @ r)
                    sq.append(0.5 * e @ e)
            z_end.append(z)
        losses.append(np.mean(sq))
    return W, np.array(z_end), losses


@pytest.mark.parametrize("n_learn_steps", [None, 1, 3])
def test_zero_gain_fit_equals_plain_lms_written_out(iris, n_learn_steps):
    X, y = iris
    clf = _clf(n_learn_steps=n_learn_steps).fit(X, y)
    L = 4 if n_learn_steps is None else n_learn_steps
    W, z_end, losses = naive_plain_lms(clf.reservoir_, X, y, 3, 4, L, 2, 0.1)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, losses, rtol=1e-9)
    assert clf.n_iter_ == 2
    np.testing.assert_array_equal(clf.td_history_["n_updates"], [150 * L] * 2)
    # The temperature minimizes the log loss of the last epoch's a-priori
    # end-of-trial outputs (a grid search over T never does better).
    rows = np.arange(len(y))

    def log_loss(T):
        return -log_softmax(z_end / T, axis=1)[rows, y].mean()

    grid = np.exp(np.linspace(-6, 6, 2401))
    best = min(log_loss(T) for T in grid)
    assert log_loss(clf.temperature_) <= best + 1e-7
    assert clf.temperature_ != 1.0


def test_n_learn_steps_longer_than_the_trial_raises(iris):
    X, y = iris
    with pytest.raises(ValueError, match="n_learn_steps"):
        _clf(n_learn_steps=5).fit(X, y)


def test_sequences_equal_the_naive_loop(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    X3 = X[:, None, :] + 0.3 * rng.standard_normal((len(X), 5, X.shape[1]))
    clf = _clf(n_learn_steps=2).fit(X3, y)
    assert clf.n_features_in_ == 4
    W, _, _ = naive_plain_lms(clf.reservoir_, X3, y, 3, None, 2, 2, 0.1)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_results_do_not_depend_on_the_chunk_size(iris, monkeypatch, td_gain):
    X, y = iris
    fits = {}
    for chunk in (7, 256):
        monkeypatch.setattr(_reservoir_classifier, "_CHUNK", chunk)
        clf = _clf(td_gain=td_gain, shuffle=True).fit(X, y)
        fits[chunk] = (clf.readout_.W.copy(), clf.readout_.W_echo.copy(),
                       clf.predict_proba(X), clf.temperature_)
    for a, b in zip(fits[7], fits[256]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_repeated_rows_as_sequences_equal_static_input(iris, td_gain):
    X, y = iris
    X3 = np.repeat(X[:, None, :], 4, axis=1)
    a = _clf(td_gain=td_gain).fit(X, y)
    b = _clf(td_gain=td_gain, n_steps=99).fit(X3, y)  # a 3-D X sets its own length
    np.testing.assert_allclose(b.readout_.W, a.readout_.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.predict_proba(X3), a.predict_proba(X),
                               rtol=1e-10, atol=1e-14)


def test_predict_proba_predict_and_decision_function(iris):
    X, y = iris
    clf = _clf(td_gain=2.0, max_iter=3).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (proba > 0).all()
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    scores = clf.decision_function(X)
    # The readout at the end of a naively computed trial.
    res = clf.reservoir_
    x = np.zeros((len(X), res.W.shape[0]))
    for _ in range(4):
        x = 0.5 * x + 0.5 * np.tanh(X @ res.W_in + x @ res.W + res.bias)
    Z = np.hstack([x, np.ones((len(X), 1))]) @ clf.readout_.W
    np.testing.assert_allclose(scores, Z, rtol=1e-10, atol=1e-12)
    e = np.exp((Z - Z.max(axis=1, keepdims=True)) / clf.temperature_)
    np.testing.assert_allclose(proba, e / e.sum(axis=1, keepdims=True), rtol=1e-9)


def test_binary_decision_function(iris):
    X, y = iris
    mask = y < 2
    clf = _clf().fit(X[mask], y[mask])
    scores = clf.decision_function(X[mask])
    assert scores.shape == (mask.sum(),)
    Z = clf.readout_.predict(np.hstack([clf.reservoir_.run_trials(X[mask], 4, 1)[:, 0],
                                        np.ones((mask.sum(), 1))]))
    np.testing.assert_allclose(scores, Z[:, 1] - Z[:, 0], rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X[mask]), (scores > 0).astype(int))


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_partial_fit_in_order_equals_one_epoch_of_fit(iris, td_gain):
    X, y = iris
    fitted = _clf(td_gain=td_gain, max_iter=1).fit(X, y)
    online = _clf(td_gain=td_gain, max_iter=1)
    for start in range(0, 150, 40):
        online.partial_fit(X[start:start + 40], y[start:start + 40], classes=[0, 1, 2])
    for name in ("W", "W_echo"):
        np.testing.assert_array_equal(getattr(online.readout_, name),
                                      getattr(fitted.readout_, name))
    np.testing.assert_array_equal(online.reservoir_.W, fitted.reservoir_.W)
    assert online.n_iter_ == 4  # one per call


def test_string_labels_equal_integer_labels(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    a = _clf(td_gain=2.0).fit(X, y)
    b = _clf(td_gain=2.0).fit(X, names)
    np.testing.assert_array_equal(b.classes_, ["setosa", "versicolor", "virginica"])
    np.testing.assert_array_equal(a.readout_.W, b.readout_.W)
    np.testing.assert_array_equal(b.predict(X), b.classes_[a.predict(X)])
    c = _clf(td_gain=2.0).partial_fit(X, names, classes=np.unique(names))
    with pytest.raises(ValueError, match="not in classes"):
        c.partial_fit(X[:3], ["rose", "setosa", "setosa"])


def test_td_gain_changes_the_fit_and_zero_gain_ignores_td_timescale(iris):
    X, y = iris
    a = _clf(td_gain=0.0, td_timescale=2.0).fit(X, y)
    b = _clf(td_gain=0.0, td_timescale=50.0).fit(X, y)
    c = _clf(td_gain=2.0).fit(X, y)
    np.testing.assert_array_equal(a.readout_.W, b.readout_.W)
    assert not np.allclose(a.readout_.W, c.readout_.W)


def test_P3_counter_trials_move_the_readout_less(iris):
    """A wrong-label trial after fitting clean data changes W less with iTDS.

    Measured with this setup (n_steps=8, so 8 updates per trial): the mean
    |dW| over 30 counter-trials with iTDS (td_gain=2, td_timescale=5) is
    0.726-0.780 x that of the td_gain=0 fit over seeds 0-5.
    """
    X, y = iris
    rng = np.random.RandomState(0)
    idx = rng.choice(len(y), 30, replace=False)
    wrong = (y[idx] + rng.randint(1, 3, size=30)) % 3
    for seed in range(3):
        sizes = {}
        for g in (2.0, 0.0):
            clf = _clf(td_gain=g, td_timescale=5.0, n_steps=8, max_iter=5,
                       learning_rate=0.05, shuffle=True, random_state=seed).fit(X, y)
            changes = []
            for i, label in zip(idx, wrong):
                trial = copy.deepcopy(clf)
                trial.partial_fit(X[i:i + 1], [label])
                changes.append(np.linalg.norm(trial.readout_.W - clf.readout_.W))
            sizes[g] = np.mean(changes)
        assert sizes[2.0] < 0.85 * sizes[0.0], (seed, sizes[2.0] / sizes[0.0])


def test_itds_beats_plain_lms_on_digits_with_wrong_labels():
    """The iTDS benefit (P4) under 30 % counter-trials on load_digits.

    A small, fast setup: 500 training / 500 test digits (stratified), 60 units,
    4-step trials, 6 epochs, learning_rate=0.15. The rate is 3x the default
    because with so little training the default 0.05 barely lets the wrong
    labels hurt plain LMS: at 0.05 (100 units, 600 digits, 5 or 8 epochs) the
    gain was only +0.4 / +0.9 points on average over 5 seeds, with one seed
    worse, too small to assert.
    Measured with this setup, clean test accuracy, iTDS (default td_gain=2,
    td_timescale=5) vs td_gain=0, seeds 0-3: differences +0.160, +0.050,
    +0.106, +0.152 (means 0.787 vs 0.670).
    """
    X, y = load_digits(return_X_y=True)
    gains = []
    for seed in range(3):
        Xtr, Xte, ytr, yte = train_test_split(X / 16, y, train_size=500, test_size=500,
                                              random_state=seed, stratify=y)
        noisy = corrupt_labels(ytr, 0.3, random_state=seed)
        assert np.mean(noisy != ytr) == pytest.approx(0.3)
        scores = {}
        for g in (2.0, 0.0):
            clf = ITDSReservoirClassifier(n_reservoir=60, n_steps=4, max_iter=6,
                                          learning_rate=0.15, td_gain=g,
                                          random_state=seed).fit(Xtr, noisy)
            scores[g] = clf.score(Xte, yte)
        gains.append(scores[2.0] - scores[0.0])
    assert np.mean(gains) > 0.05, gains
    assert min(gains) > 0, gains
