"""ITDSReservoirClassifier against an independent re-implementation.

The reference here scales the inputs with plain numpy, recomputes every
trial's states with a naive per-trial loop of the leaky-tanh equation (each
sequence at its own length, no padding), forms the representation by hand,
standardizes the features with numpy and then solves ridge in closed form
(one RLS pass with td_gain=0) or applies the bounded iTDS rule one trial at a
time with ``np.outer`` (LMS / RLS with td_gain > 0).
"""

import copy

import numpy as np
import pytest
from joblib import cpu_count
from scipy import sparse
from scipy.special import log_softmax
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

from sklearn_itds import ITDSReservoirClassifier, _reservoir_classifier
from sklearn_itds.robustness import corrupt_labels

from _naive import bounded_delta, naive_gain, naive_given_echo


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def sequences():
    """Two classes of noisy sequences of 3-11 steps, 2 channels."""
    rng = np.random.RandomState(0)
    X, y = [], []
    for i in range(60):
        k = i % 2
        T = rng.randint(3, 12)
        t = np.arange(T)[:, None]
        X.append(np.hstack([np.sin(t * (0.5 + k)), np.cos(t)]) + 0.3 * rng.randn(T, 2))
        y.append(k)
    return X, np.array(y)


def _clf(**kw):
    """A small model; one plain RLS pass (ridge) unless the test says otherwise
    (the learned echo, float64, a fixed penalty, every pass kept: what the
    naive references do)."""
    params = dict(n_reservoir=30, n_steps=4, shuffle=False, random_state=0,
                  leak_rate=0.5, learning_rule="rls", max_iter=1, td_gain=0.0,
                  td_timescale=5.0, echo="learned", rls_alpha=10.0, dtype=np.float64,
                  early_stopping=False)
    params.update(kw)
    return ITDSReservoirClassifier(**params)


def _as_list(X, n_steps):
    """Trials as a list of (T_i, F) arrays; a static row is held n_steps."""
    if isinstance(X, list):
        return [np.asarray(x, dtype=float) for x in X]
    X = np.asarray(X, dtype=float)
    if X.ndim == 3:
        return list(X)
    return [np.repeat(row[None], n_steps, axis=0) for row in X]


def naive_rows(clf, X_fit, X=None, representation="mean", bidirectional=False,
               input_to_readout=False, sample_weight=None):
    """Readout rows [standardized features, 1] computed trial by trial.

    With ``sample_weight`` the statistics are weighted means over the
    trials (every step of a trial with the trial's weight).
    """
    res = clf.reservoir_
    a = res.leak_rate
    fit_trials = _as_list(X_fit, clf.n_steps)
    steps = np.vstack(fit_trials)
    w = sample_weight
    w_steps = None if w is None else np.concatenate(
        [np.full(len(u), wi) for u, wi in zip(fit_trials, w)])
    mean = np.average(steps, axis=0, weights=w_steps)
    scale = np.sqrt(np.average((steps - mean) ** 2, axis=0, weights=w_steps).mean())

    def features(trials):
        out = []
        for u in trials:
            u = (u - mean) / scale
            parts = []
            for seq in ([u, u[::-1]] if bidirectional else [u]):
                x = np.zeros(res.W.shape[0])
                states = []
                for u_t in seq:
                    x = (1 - a) * x + a * np.tanh(u_t @ res.W_in + x @ res.W + res.bias)
                    states.append(x)
                parts.append(_represent(np.array(states), representation))
            if input_to_readout:
                parts.append(_represent(u, representation))
            out.append(np.concatenate(parts))
        return np.array(out)

    F_fit = features(fit_trials)
    mu = np.average(F_fit, axis=0, weights=w)
    sd = np.sqrt(np.average((F_fit - mu) ** 2, axis=0, weights=w))
    sd[sd == 0] = 1.0
    F = F_fit if X is None else features(_as_list(X, clf.n_steps))
    return np.hstack([(F - mu) / sd, np.ones((len(F), 1))])


def _represent(S, kind):
    return {"mean": S.mean(axis=0), "last": S[-1],
            "mean_last": np.concatenate([S.mean(axis=0), S[-1]])}[kind]


def ridge(R, Y, alpha):
    return np.linalg.solve(R.T @ R + alpha * np.eye(R.shape[1]), R.T @ Y)


def naive_itds(R, Y, rule, td_gain, td_timescale, lr, alpha, epochs, echo="learned",
               td_sign=1):
    """The bounded rule, one trial at a time, dense P (each reading of the echo)."""
    W = np.zeros((R.shape[1], Y.shape[1]))
    Wbar = np.zeros_like(W)
    P = np.eye(R.shape[1]) / alpha
    for _ in range(epochs):
        for r, y in zip(R, Y):
            z, d = r @ W, r @ Wbar
            gain, P = naive_gain(r, P, rule, lr)
            W = W + np.outer(gain, bounded_delta(y, z, d, td_gain, td_sign))
            if echo == "learned":
                Wbar = Wbar + np.outer(gain, z - d) / td_timescale
            else:  # the weight average
                Wbar = Wbar + (W - Wbar) / td_timescale
    return W, Wbar


# -- exactness ------------------------------------------------------------------------


@pytest.mark.parametrize("representation", ["mean", "last", "mean_last"])
@pytest.mark.parametrize("bidirectional, input_to_readout",
                         [(False, False), (True, False), (False, True)])
def test_zero_gain_rls_pass_equals_closed_form_ridge(sequences, representation,
                                                     bidirectional, input_to_readout):
    """Each representation's readout is ridge on the same features (td_gain=0)."""
    X, y = sequences
    kw = dict(representation=representation, bidirectional=bidirectional,
              input_to_readout=input_to_readout)
    clf = _clf(rls_alpha=2.0, **kw).fit(X, y)
    R = naive_rows(clf, X, **kw)
    np.testing.assert_allclose(clf.encoder_.transform(clf._validate(X)), R,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(clf.readout_.W, ridge(R, np.eye(2)[y], 2.0),
                               rtol=1e-8, atol=1e-10)


def test_static_input_and_sparse_input_equal_the_naive_rows(iris):
    X, y = iris
    clf = _clf(rls_alpha=0.5).fit(X, y)
    R = naive_rows(clf, X)
    np.testing.assert_allclose(clf.readout_.W, ridge(R, np.eye(3)[y], 0.5),
                               rtol=1e-8, atol=1e-10)
    # Sparse input stays sparse; its centring goes into the reservoir's drive,
    # so it gives the model of the dense input.
    sp = _clf(rls_alpha=0.5).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(sp.readout_.W, clf.readout_.W, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(sp.decision_function(sparse.csr_matrix(X)),
                               clf.decision_function(X), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("rule, td_gain", [("lms", 0.0), ("lms", 2.0), ("rls", 1.5)])
def test_readout_follows_the_naive_bounded_rule(sequences, rule, td_gain):
    X, y = sequences
    clf = _clf(learning_rule=rule, td_gain=td_gain, td_timescale=3.0, max_iter=3,
               learning_rate_init=0.2, rls_alpha=1.0).fit(X, y)
    R = naive_rows(clf, X)
    W, Wbar = naive_itds(R, np.eye(2)[y], rule, td_gain, 3.0, 0.2, 1.0, 3)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(clf.readout_.W_echo, Wbar, rtol=1e-8, atol=1e-10)


READINGS = [("learned", -1), ("weight_average", 1), ("weight_average", -1)]


@pytest.mark.parametrize("rule", ["lms", "rls"])
@pytest.mark.parametrize("echo, td_sign", READINGS)
def test_each_reading_and_sign_follows_the_naive_rule(sequences, rule, echo, td_sign):
    """Issue 14: the echo readings and the flipped sign, through fit."""
    X, y = sequences
    kw = dict(learning_rule=rule, td_gain=0.7, td_timescale=3.0, max_iter=3,
              learning_rate_init=0.2, rls_alpha=1.0)
    clf = _clf(echo=echo, td_sign=td_sign, **kw).fit(X, y)
    R = naive_rows(clf, X)
    W, Wbar = naive_itds(R, np.eye(2)[y], rule, 0.7, 3.0, 0.2, 1.0, 3, echo, td_sign)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(clf.readout_.W_echo, Wbar, rtol=1e-8, atol=1e-10)
    default = _clf(**kw).fit(X, y)
    assert not np.allclose(clf.readout_.W, default.readout_.W, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("rule", ["lms", "rls"])
@pytest.mark.parametrize("echo, td_sign", READINGS)
def test_zero_gain_every_reading_and_sign_is_the_plain_fit(iris, rule, echo, td_sign):
    X, y = iris
    kw = dict(learning_rule=rule, max_iter=3 if rule == "lms" else 1, td_gain=0.0)
    plain = _clf(**kw).fit(X, y)
    other = _clf(echo=echo, td_sign=td_sign, **kw).fit(X, y)
    np.testing.assert_array_equal(other.readout_.W, plain.readout_.W)
    np.testing.assert_array_equal(other.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(other.decision_function(X), plain.decision_function(X))
    np.testing.assert_array_equal(other.td_step_norms(X, y), plain.td_step_norms(X, y))


def naive_decision(R, Y, td_gain, td_timescale, alpha, passes, rule="rls", td_sign=1,
                   lr=0.2):
    """The decision echo written out: each pass learns toward the labels and
    each trial's running average of the readout's past decisions on it.

    RLS passes restart from the prior (each is ridge toward the stabilized
    targets when td_sign=1); LMS passes continue. Returns W and the echo D.
    """
    D = Y.copy()
    W = np.zeros((R.shape[1], Y.shape[1]))
    for _ in range(passes):
        W, _ = naive_given_echo(R, Y, D, rule, td_gain, td_sign,
                                W=None if rule == "rls" else W, lr=lr, alpha=alpha)
        decisions = np.eye(Y.shape[1])[np.argmax(R @ W, axis=1)]
        D = D + (decisions - D) / td_timescale
    return W, D


@pytest.mark.parametrize("rule, td_sign, td_gain", [("rls", 1, 1.0), ("rls", 1, 2.5),
                                                    ("rls", -1, 0.5), ("lms", 1, 1.0)])
def test_decision_echo_follows_the_naive_passes(iris, rule, td_sign, td_gain):
    """echo="decision": the closed-form ridge passes (RLS, td_sign=1), the
    per-row RLS passes (td_sign=-1) and LMS all equal the loop written out."""
    X, y = iris
    y = y.copy()
    y[::7] = (y[::7] + 1) % 3  # wrong labels, so the decisions differ from them
    clf = _clf(echo="decision", learning_rule=rule, td_gain=td_gain, td_sign=td_sign,
               td_timescale=2.0, max_iter=4, rls_alpha=0.5, learning_rate_init=0.2).fit(X, y)
    R = naive_rows(clf, X)
    Y = np.eye(3)[y]
    W, D = naive_decision(R, Y, td_gain, 2.0, 0.5, 4, rule, td_sign)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-7, atol=1e-9)
    if rule == "rls" and td_sign == 1:  # every pass is ridge toward (Y + g D) / (1 + g)
        _, D3 = naive_decision(R, Y, td_gain, 2.0, 0.5, 3)
        np.testing.assert_allclose(W, ridge(R, (Y + td_gain * D3) / (1 + td_gain), 0.5),
                                   rtol=1e-8, atol=1e-10)
    assert not np.allclose(D, Y)  # the echo did disagree with some labels
    plain = _clf(learning_rule=rule, max_iter=4, rls_alpha=0.5, learning_rate_init=0.2).fit(X, y)
    assert not np.allclose(clf.readout_.W, plain.readout_.W, rtol=1e-6, atol=1e-8)


def _naive_loo_accuracy(R, S, y, alpha):
    """Leave-one-out accuracy on the labels of ridge toward S, by refits."""
    hits = [np.argmax(R[i] @ ridge(np.delete(R, i, 0), np.delete(S, i, 0), alpha)) == y[i]
            for i in range(len(R))]
    return float(np.mean(hits))


@pytest.mark.parametrize("n_reservoir, noisy", [(30, True), (6, False)])
def test_early_stopping_keeps_the_pass_with_the_best_leave_one_out_accuracy(
        iris, n_reservoir, noisy):
    """Each pass's score is the accuracy on the labels of its fit's
    leave-one-out outputs (by refits here); the kept readout is the first pass
    with the best score, and the temperature is that pass's."""
    X, y = iris
    y = y.copy()
    if noisy:
        y[::5] = (y[::5] + 1) % 3
    kw = dict(n_reservoir=n_reservoir, echo="decision", td_gain=2.0, td_timescale=1.0,
              max_iter=4, rls_alpha=0.5)
    clf = _clf(early_stopping=True, **kw).fit(X, y)
    R = naive_rows(clf, X)
    Y = np.eye(3)[y]
    D, scores, fits = Y.copy(), [], []
    for _ in range(4):
        S = (Y + 2.0 * D) / 3.0
        W = ridge(R, S, 0.5)
        scores.append(_naive_loo_accuracy(R, S, y, 0.5))
        fits.append(W)
        D = np.eye(3)[np.argmax(R @ W, axis=1)]
    np.testing.assert_allclose(clf.validation_scores_, scores, rtol=1e-12)
    best = int(np.argmax(scores))
    assert clf.best_validation_score_ == scores[best]
    np.testing.assert_allclose(clf.readout_.W, fits[best], rtol=1e-7, atol=1e-9)
    everything = _clf(early_stopping=False, **kw).fit(X, y)
    np.testing.assert_allclose(everything.readout_.W, fits[-1], rtol=1e-7, atol=1e-9)
    assert everything.validation_scores_ is None
    if best != 3:  # the kept pass is not the last one: the two fits differ
        assert not np.allclose(clf.readout_.W, everything.readout_.W)


def test_early_stopping_applies_only_to_closed_form_passes(iris):
    X, y = iris
    for kw in (dict(learning_rule="lms", max_iter=3), dict(echo="learned", max_iter=2),
               dict(echo="decision", td_sign=-1, td_gain=0.5, max_iter=2)):
        on = _clf(early_stopping=True, **kw).fit(X, y)
        off = _clf(early_stopping=False, **kw).fit(X, y)
        assert on.validation_scores_ is None
        np.testing.assert_array_equal(on.readout_.W, off.readout_.W)


@pytest.mark.parametrize("rule", ["lms", "rls"])
def test_decision_echo_with_zero_gain_is_the_plain_fit(iris, rule):
    X, y = iris
    kw = dict(learning_rule=rule, max_iter=3, td_gain=0.0, rls_alpha=0.5)
    plain = _clf(**kw).fit(X, y)
    other = _clf(echo="decision", **kw).fit(X, y)
    if rule == "rls":  # every restarted pass is the same ridge fit
        np.testing.assert_allclose(other.readout_.W,
                                   ridge(naive_rows(other, X), np.eye(3)[y], 0.5),
                                   rtol=1e-8, atol=1e-10)
    else:  # the echo never enters delta: the plain passes, bit for bit
        np.testing.assert_array_equal(other.readout_.W, plain.readout_.W)


def test_auto_penalty_is_ridgecv_on_the_same_rows(sequences, iris):
    """rls_alpha="auto": the penalty RidgeCV's leave-one-out picks on the
    readout rows (every column penalized, as by RLS), and W is ridge with it."""
    from sklearn.linear_model import RidgeCV

    from sklearn_itds._ridge import RIDGE_ALPHAS

    for X, y in (sequences, iris):
        clf = _clf(rls_alpha="auto").fit(X, y)
        R = naive_rows(clf, X)
        Y = np.eye(np.unique(y).size)[y]
        alpha = RidgeCV(alphas=RIDGE_ALPHAS, fit_intercept=False).fit(R, Y).alpha_
        assert clf.rls_alpha_ == alpha
        np.testing.assert_allclose(clf.readout_.W, ridge(R, Y, alpha), rtol=1e-7,
                                   atol=1e-9)
    assert _clf(learning_rule="lms").fit(X, y).rls_alpha_ is None
    assert _clf(rls_alpha=3.0).fit(X, y).rls_alpha_ == 3.0


def test_decision_echo_in_partial_fit_learns_new_trials_plainly(iris):
    """partial_fit's trials have no past decisions: their echo is their labels,
    so every call is the td_gain=0 call (the target (y + g y) / (1 + g) is y)."""
    X, y = iris
    kw = dict(echo="decision", learning_rule="lms", td_gain=2.0, learning_rate_init=0.2)
    clf = _clf(**kw).partial_fit(X, y, classes=[0, 1, 2])
    plain = _clf(**{**kw, "td_gain": 0.0}).partial_fit(X, y, classes=[0, 1, 2])
    wrong = (y + 1) % 3
    for model in (clf, plain):
        model.partial_fit(X[::2], wrong[::2])
    np.testing.assert_allclose(clf.readout_.W, plain.readout_.W, rtol=1e-10,
                               atol=1e-12)
    R = naive_rows(plain, X, X[::2])  # statistics of the first call
    W0 = _clf(**kw).partial_fit(X, y, classes=[0, 1, 2]).readout_.W
    W, _ = naive_given_echo(R, np.eye(3)[wrong[::2]], np.eye(3)[wrong[::2]], "lms",
                            2.0, W=W0, lr=0.2, alpha=1.0)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_decision_echo_streams_learn_like_the_ablation(noise):
    """A class-sorted stream, and a shuffled one with wrong labels, in batches of
    partial_fit at the defaults: the model learns every class as td_gain=0 does.
    (When a call's echo was the readout's present decision, the early
    mistakes outvoted the labels: 0.04 accuracy on both.)"""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    order = (np.argsort(y_tr, kind="stable") if noise == 0.0
             else np.random.RandomState(0).permutation(len(y_tr)))
    labels = corrupt_labels(y_tr, noise, random_state=0) if noise else y_tr
    scores = []
    for td_gain in (2.0, 0.0):
        clf = ITDSReservoirClassifier(n_reservoir=100, td_gain=td_gain, random_state=0)
        for start in range(0, len(order), 100):
            rows = order[start:start + 100]
            clf.partial_fit(X_tr[rows], labels[rows], classes=np.arange(10))
        scores.append(clf.score(X_te, y_te))
    assert scores[0] == pytest.approx(scores[1], abs=0.01)
    assert scores[0] > (0.5 if noise == 0.0 else 0.8)


def test_decision_echo_rejects_the_flipped_sign_at_unit_gain(iris):
    X, y = iris
    before = _clf(echo="decision", td_gain=0.5, td_sign=-1).fit(X, y)
    snapshot = copy.deepcopy(before.readout_.W)
    with pytest.raises(ValueError, match="td_gain < 1"):
        before.set_params(td_gain=1.0).fit(X, y)
    np.testing.assert_array_equal(before.readout_.W, snapshot)


def test_unequal_lengths_equal_each_trial_run_alone(sequences):
    """A list of sequences gives each trial exactly the rows of running it alone."""
    X, y = sequences
    clf = _clf().fit(X, y)
    together = clf.encoder_.transform(clf._validate(X))
    alone = np.vstack([clf.encoder_.transform(clf._validate([x])) for x in X])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-13)
    # ...and not what zero-padding at the end by hand would give: padded steps
    # of a 3-D array are real (zero) inputs.
    T = max(len(x) for x in X)
    padded = np.stack([np.vstack([x, np.zeros((T - len(x), 2))]) for x in X])
    assert not np.allclose(clf.encoder_.transform(clf._validate(padded)), together)
    # Equal-length lists are the 3-D array.
    same = [x[:3] for x in X]
    np.testing.assert_array_equal(clf.encoder_.transform(clf._validate(same)),
                                  clf.encoder_.transform(clf._validate(np.stack(same))))


def test_results_do_not_depend_on_the_state_budget(sequences, monkeypatch):
    X, y = sequences
    fits = {}
    for budget in (40, 1 << 22):  # 40 values: one trial at a time
        monkeypatch.setattr(_reservoir_classifier.TrialEncoder, "_BUDGET", budget)
        clf = _clf(td_gain=2.0, shuffle=True).fit(X, y)
        fits[budget] = (clf.readout_.W.copy(), clf.predict_proba(X), clf.temperature_)
    for a, b in zip(*fits.values()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_threaded_reservoir_runs_equal_the_serial_ones(monkeypatch):
    """Chunks of trials run in threads give the serial features bit for bit."""
    rng = np.random.RandomState(0)
    X = [rng.standard_normal((rng.randint(5, 30), 2)) for _ in range(150)]
    y = np.arange(150) % 3
    fits = {}
    for threads in (1, 3):
        monkeypatch.setattr(_reservoir_classifier.TrialEncoder, "_MAX_THREADS", threads)
        monkeypatch.setattr(_reservoir_classifier.TrialEncoder, "_MIN_PER_THREAD", 16)
        clf = _clf(n_reservoir=40, density=0.1).fit(X, y)
        assert clf.encoder_._n_threads(150) == (1 if threads == 1 else
                                                 min(3, cpu_count()))
        fits[threads] = clf.encoder_.transform(clf._validate(X))
    np.testing.assert_array_equal(fits[1], fits[3])


def test_repeated_rows_as_sequences_equal_static_input(iris):
    X, y = iris
    X3 = np.repeat(X[:, None, :], 4, axis=1)
    a = _clf(td_gain=2.0).fit(X, y)
    b = _clf(td_gain=2.0, n_steps=99).fit(X3, y)  # a 3-D X sets its own length
    np.testing.assert_allclose(b.readout_.W, a.readout_.W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.predict_proba(X3), a.predict_proba(X),
                               rtol=1e-10, atol=1e-12)


def test_temperature_minimizes_the_a_priori_log_loss(iris):
    X, y = iris
    clf = _clf(learning_rule="lms", max_iter=2, learning_rate_init=0.1).fit(X, y)
    R = naive_rows(clf, X)
    W = np.zeros((R.shape[1], 3))
    z = []
    for epoch in range(2):  # the last epoch's a-priori outputs
        z = []
        for r, k in zip(R, y):
            z.append(r @ W)
            W = W + 0.1 * np.outer(r, np.eye(3)[k] - r @ W) / (r @ r)
    z = np.array(z)
    rows = np.arange(len(y))

    def log_loss(T):
        return -log_softmax(z / T, axis=1)[rows, y].mean()

    grid = np.exp(np.linspace(-6, 6, 2401))
    assert log_loss(clf.temperature_) <= min(log_loss(T) for T in grid) + 1e-7
    assert clf.temperature_ != 1.0


# -- outputs -------------------------------------------------------------------------


def test_predict_proba_predict_and_decision_function(iris):
    X, y = iris
    clf = _clf(td_gain=2.0, max_iter=3).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (proba > 0).all()
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    Z = naive_rows(clf, X) @ clf.readout_.W
    np.testing.assert_allclose(clf.decision_function(X), Z, rtol=1e-8, atol=1e-10)
    e = np.exp((Z - Z.max(axis=1, keepdims=True)) / clf.temperature_)
    np.testing.assert_allclose(proba, e / e.sum(axis=1, keepdims=True), rtol=1e-8)


def test_binary_decision_function(iris):
    X, y = iris
    mask = y < 2
    clf = _clf().fit(X[mask], y[mask])
    scores = clf.decision_function(X[mask])
    assert scores.shape == (mask.sum(),)
    Z = naive_rows(clf, X[mask]) @ clf.readout_.W
    np.testing.assert_allclose(scores, Z[:, 1] - Z[:, 0], rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X[mask]), (scores > 0).astype(int))


@pytest.mark.parametrize("td_gain", [0.0, 2.0])
def test_partial_fit_in_order_equals_one_epoch_of_fit(iris, td_gain):
    """partial_fit learns the statistics on its first call, then continues."""
    X, y = iris
    rng = np.random.RandomState(0)
    order = rng.permutation(150)
    X, y = X[order], y[order]
    fitted = _clf(td_gain=td_gain).fit(X[:60], y[:60])
    online = _clf(td_gain=td_gain).partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    np.testing.assert_array_equal(online.readout_.W, fitted.readout_.W)
    online.partial_fit(X[60:], y[60:])
    R = naive_rows(fitted, X[:60], X)  # statistics of the first call
    W, _ = naive_itds(R, np.eye(3)[y], "rls", td_gain, 5.0, None, 10.0, 1)
    np.testing.assert_allclose(online.readout_.W, W, rtol=1e-8, atol=1e-10)
    assert online.n_iter_ == 1  # the last call's pass, as MLPClassifier's
    assert len(online.loss_curve_) == 2  # every call's


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


def test_malformed_sequence_lists_get_clear_errors(sequences):
    X, y = sequences
    clf = _clf().fit(X, y)
    with pytest.raises(ValueError, match="same number of features"):
        clf.predict([np.zeros((4, 2)), np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"X\[1\]"):
        clf.predict([np.zeros((4, 2)), np.full((4, 2), np.nan)])
    with pytest.raises(ValueError, match="2 features"):
        clf.predict([np.zeros((4, 3))] * 2)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        clf.fit(X, y[:-1])


def test_an_object_array_of_sequences_is_the_list(sequences):
    """pandas and cleanlab hold sequences of unequal lengths in object arrays."""
    X, y = sequences
    held = np.empty(len(X), dtype=object)
    held[:] = X
    a, b = _clf().fit(X, y), _clf().fit(held, y)
    np.testing.assert_array_equal(a.readout_.W, b.readout_.W)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(held[::-1])[::-1])


def test_sequences_and_static_samples_are_not_mixed(sequences, iris):
    """A model fitted on sequences rejects a 2-D X (one sequence alone would be
    read as one static sample per time step), and the reverse; a rejected
    partial_fit leaves the model as it was."""
    X, y = sequences
    clf = _clf().fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on sequences.*\[seq\]"):
        clf.predict(X[0])
    np.testing.assert_array_equal(clf.predict([X[0]]), clf.predict(X)[:1])
    W = clf.readout_.W.copy()
    with pytest.raises(ValueError, match="fitted on sequences"):
        clf.partial_fit(X[0], np.zeros(len(X[0]), dtype=int))
    np.testing.assert_array_equal(clf.readout_.W, W)
    X2, y2 = iris
    static = _clf().fit(X2[:, :2], y2)
    with pytest.raises(ValueError, match="fitted on static samples"):
        static.predict(X[:5])
    assert static.predict(X2[:5, :2]).shape == (5,)


# -- what iTDS does ----------------------------------------------------------------------


def test_P3_counter_trials_move_the_readout_less(iris):
    """A wrong-label trial after fitting clean data changes W less with iTDS.

    LMS readout (3 passes, learning_rate_init 0.05), td_gain=2 vs 0: the mean |dW|
    over 30 counter-trials, measured over seeds 0-5, is 0.325-0.327 x that of
    the td_gain=0 fit. The bounded rule divides every step by 1 + td_gain = 3;
    the rest (ratio x 3 = 0.976-0.981) is the echo pulling away from the
    wrong label: small, but below 1 on every seed.
    """
    X, y = iris
    rng = np.random.RandomState(0)
    idx = rng.choice(len(y), 30, replace=False)
    wrong = (y[idx] + rng.randint(1, 3, size=30)) % 3
    for seed in range(3):
        sizes = {}
        for g in (2.0, 0.0):
            clf = _clf(learning_rule="lms", td_gain=g, td_timescale=5.0, max_iter=3,
                       learning_rate_init=0.05, shuffle=True, random_state=seed).fit(X, y)
            changes = []
            for i, label in zip(idx, wrong):
                trial = copy.deepcopy(clf)
                trial.partial_fit(X[i:i + 1], [label])
                changes.append(np.linalg.norm(trial.readout_.W - clf.readout_.W))
            sizes[g] = np.mean(changes)
        assert sizes[2.0] < 0.34 * sizes[0.0], (seed, sizes[2.0] / sizes[0.0])
        assert 3 * sizes[2.0] < 0.99 * sizes[0.0], (seed, 3 * sizes[2.0] / sizes[0.0])


def test_defaults_classify_digits_and_itds_helps_under_label_noise():
    """The defaults are a ridge-quality learner, and iTDS earns its place.

    Measured (seed 0, 70/30 split): clean 0.967, the same as the td_gain=0
    ablation (ridge with the leave-one-out penalty); with 40 % wrong training
    labels 0.948 against 0.909 for the ablation.
    """
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    clf = ITDSReservoirClassifier(random_state=0).fit(Xtr, ytr)
    plain = ITDSReservoirClassifier(td_gain=0.0, random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.96
    assert clf.score(Xte, yte) > plain.score(Xte, yte) - 0.01
    noisy = corrupt_labels(ytr, 0.4, random_state=0)
    itds = ITDSReservoirClassifier(random_state=0).fit(Xtr, noisy).score(Xte, yte)
    plain = ITDSReservoirClassifier(td_gain=0.0, random_state=0).fit(
        Xtr, noisy).score(Xte, yte)
    assert itds > 0.94 and itds > plain + 0.03, (itds, plain)


# -- sample weights (issue 11) -------------------------------------------------------


def weighted_ridge(R, Y, w, alpha):
    """(R^T W R + alpha I)^{-1} R^T W Y."""
    return np.linalg.solve(R.T @ (w[:, None] * R) + alpha * np.eye(R.shape[1]),
                           R.T @ (w[:, None] * Y))


def naive_weighted_decision(R, Y, w, td_gain, td_timescale, alpha, passes):
    """Decision-echo passes, each the weighted ridge fit toward the stabilized
    targets (a weighted RLS pass from the prior). Returns W and the last
    pass's targets."""
    D = Y.copy()
    for _ in range(passes):
        S = (Y + td_gain * D) / (1 + td_gain)
        W = weighted_ridge(R, S, w, alpha)
        D = D + (np.eye(Y.shape[1])[np.argmax(R @ W, axis=1)] - D) / td_timescale
    return W, S


@pytest.mark.parametrize("data", ["iris", "sequences"])
def test_weighted_default_fit_equals_the_weighted_reference(iris, sequences, data):
    """The default path with weights: weighted input and feature statistics,
    RidgeCV's weighted leave-one-out penalty, weighted ridge passes toward
    the decision echo, and the temperature of the weighted log loss of the
    last pass's leave-one-out outputs."""
    from sklearn.linear_model import RidgeCV

    from sklearn_itds._ridge import RIDGE_ALPHAS

    X, y = iris if data == "iris" else sequences
    y = y.copy()
    y[::7] = (y[::7] + 1) % (y.max() + 1)  # wrong labels: decisions that differ
    rng = np.random.RandomState(1)
    w = rng.uniform(0.0, 3.0, len(y))
    w[::9] = 0.0
    kw = dict(rls_alpha="auto", echo="decision", td_gain=2.0, td_timescale=1.0,
              max_iter=3, shuffle=True)
    clf = _clf(**kw).fit(X, y, sample_weight=w)
    R = naive_rows(clf, X, sample_weight=w)
    Y = np.eye(np.unique(y).size)[y]
    alpha = RidgeCV(alphas=RIDGE_ALPHAS, fit_intercept=False).fit(
        R, Y, sample_weight=w).alpha_
    assert clf.rls_alpha_ == alpha
    W, S = naive_weighted_decision(R, Y, w, 2.0, 1.0, alpha, 3)
    np.testing.assert_allclose(clf.readout_.W, W, rtol=1e-7, atol=1e-9)
    Z = R @ W
    np.testing.assert_allclose(clf.decision_function(X),
                               Z[:, 1] - Z[:, 0] if Y.shape[1] == 2 else Z,
                               rtol=1e-7, atol=1e-9)
    # temperature: weighted log loss of the leave-one-out outputs (weight > 0)
    fitted = np.flatnonzero(w > 0)
    Z = np.array([R[i] @ weighted_ridge(np.delete(R, i, 0), np.delete(S, i, 0),
                                        np.delete(w, i), alpha) for i in fitted])

    def log_loss(T):
        return -np.average(log_softmax(Z / T, axis=1)[np.arange(len(fitted)), y[fitted]],
                           weights=w[fitted])

    grid = np.exp(np.linspace(-6, 6, 2401))
    assert log_loss(clf.temperature_) <= min(log_loss(T) for T in grid) + 1e-7
    # the diagnostics are weighted: the last pass's loss over the weight
    np.testing.assert_allclose(clf.td_history_["loss"][-1],
                               0.5 * np.sum(w[fitted, None] * (Y[fitted] - Z) ** 2)
                               / w.sum(), rtol=1e-7)
    # and the weights mattered
    plain = _clf(**kw).fit(X, y)
    assert not np.allclose(plain.readout_.W, clf.readout_.W, rtol=1e-4)


CONFIGS = {
    "defaults": dict(n_reservoir=30, random_state=0),  # float32, auto, decision, shuffled
    "lms_learned": dict(learning_rule="lms", td_gain=1.0, max_iter=3, learning_rate_init=0.2),
    "rls_learned": dict(td_gain=1.0, max_iter=2),
    "rls_weight_average": dict(echo="weight_average", td_gain=1.0, td_timescale=3.0),
    "lms_decision": dict(echo="decision", learning_rule="lms", td_gain=1.0, max_iter=3,
                         learning_rate_init=0.2),
}


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_zero_weight_sample_changes_nothing(iris, config, method):
    X, y = iris
    kw = CONFIGS[config]
    make = (lambda: ITDSReservoirClassifier(**kw)) if config == "defaults" else (
        lambda: _clf(**kw))
    rng = np.random.RandomState(2)
    w = rng.uniform(0.2, 2.0, len(y))
    # an extra, far-off sample with a wrong label, in the middle
    X0 = np.insert(X, 70, X.max(axis=0) * 3.0, axis=0)
    y0 = np.insert(y, 70, 0)
    w0 = np.insert(w, 70, 0.0)
    if method == "fit":
        a = make().fit(X, y, sample_weight=w)
        b = make().fit(X0, y0, sample_weight=w0)
    else:
        a = make().partial_fit(X[:100], y[:100], classes=[0, 1, 2], sample_weight=w[:100])
        b = make().partial_fit(X0[:101], y0[:101], classes=[0, 1, 2], sample_weight=w0[:101])
        a.partial_fit(X[100:], y[100:], sample_weight=w[100:])
        b.partial_fit(X0[101:], y0[101:], sample_weight=w0[101:])
    rtol = 1e-5 if config == "defaults" else 1e-8  # float32 / float64
    np.testing.assert_allclose(b.decision_function(X), a.decision_function(X),
                               rtol=rtol, atol=rtol)
    np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=rtol,
                               atol=rtol)
    assert b.rls_alpha_ == a.rls_alpha_
    for name in ("e_sup", "e_td", "loss", "cosine"):
        np.testing.assert_allclose(b.td_history_[name], a.td_history_[name], rtol=rtol,
                                   err_msg=name)


@pytest.mark.parametrize("config", ["rls_decision", "rls_learned", "lms_learned"])
def test_constant_weights_rescale_the_penalty_or_the_step(iris, config):
    """Weights c everywhere: weighted RLS is RLS with rls_alpha / c, weighted
    normalized LMS is LMS with learning_rate_init * c (same statistics, same
    temperature)."""
    X, y = iris
    c = 2.5
    kw = {"rls_decision": dict(echo="decision", td_gain=2.0, td_timescale=1.0, max_iter=3,
                               rls_alpha=1.0),
          "rls_learned": dict(td_gain=1.0, max_iter=2, rls_alpha=1.0),
          "lms_learned": dict(learning_rule="lms", td_gain=1.0, max_iter=3,
                              learning_rate_init=0.1)}[config]
    weighted = _clf(**kw).fit(X, y, sample_weight=np.full(len(y), c))
    if config == "lms_learned":
        kw["learning_rate_init"] *= c
    else:
        kw["rls_alpha"] /= c
    rescaled = _clf(**kw).fit(X, y)
    np.testing.assert_allclose(weighted.readout_.coef_pair, rescaled.readout_.coef_pair,
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(weighted.predict_proba(X), rescaled.predict_proba(X),
                               rtol=1e-7, atol=1e-9)


def test_integer_weights_equal_repeated_samples_with_a_fixed_penalty(iris):
    """What scikit-learn's sample-weight equivalence check asks, for the
    readout: with a fixed rls_alpha the default decision-echo passes (shuffled)
    are equivalent. (The leave-one-out choices of rls_alpha="auto" and of the
    temperature are not: see tests/test_estimator_checks.py.)"""
    X, y = iris
    y = y.copy()
    y[::7] = (y[::7] + 1) % 3
    k = np.random.RandomState(3).randint(0, 4, len(y))
    kw = dict(n_reservoir=30, rls_alpha=1.0, random_state=0, dtype=np.float64,
              early_stopping=False)  # leave-one-out choices are not repetition-invariant
    weighted = ITDSReservoirClassifier(**kw).fit(X, y, sample_weight=k)
    repeated = ITDSReservoirClassifier(**kw).fit(np.repeat(X, k, axis=0),
                                                 np.repeat(y, k))
    np.testing.assert_allclose(weighted.decision_function(X),
                               repeated.decision_function(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))
