"""ITDSReservoirRegressor against independent computations.

States are recomputed here with a naive loop of the leaky-tanh equation from
the fitted weights; readouts are checked against closed-form ridge
(``np.linalg.solve``), a naive normalized-LMS loop and a naive FORCE/RLS loop
with a dense ``P``, all on targets standardized here with numpy. Most tests
are of ``mode="sequential"`` (rows are consecutive steps); those of
``mode="samples"`` (rows are independent trials) are at the end.
"""

import copy

import numpy as np
import pytest
from sklearn.model_selection import TimeSeriesSplit, cross_val_score

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

from _kernels import PATHS, path

ALPHA = 1e-3


def _series(n=300, seed=0):
    """Two inputs, two outputs: a nonlinear, delayed function of the inputs."""
    rng = np.random.RandomState(seed)
    t = np.arange(n + 3)
    u = np.column_stack([np.sin(2 * np.pi * t / 37), rng.uniform(-1, 1, n + 3)])
    Y = np.column_stack([u[2:-1, 0] * u[1:-2, 1], np.tanh(u[:-3, 0] + u[3:, 1])])
    return u[3:], Y


def _reg(**kw):
    """Sequential mode, reading the bare state, unscaled inputs (the naive loops)."""
    params = dict(n_reservoir=40, mode="sequential", td_gain=0.0, rls_alpha=ALPHA,
                  leak_rate=0.3, input_scaling=1.0, input_to_readout=False,
                  scale_inputs=False, random_state=0)
    params.update(kw)
    return ITDSReservoirRegressor(**params)


def standardize(Y, fit=None, weights=None):
    """``(Y - mean) / std`` with the statistics of ``fit`` (default ``Y``),
    weighted by ``weights`` (one per row of ``fit``) if given."""
    ref = Y if fit is None else fit
    if weights is None:
        return (Y - ref.mean(axis=0)) / ref.std(axis=0)
    mean = np.average(ref, axis=0, weights=weights)
    return (Y - mean) / np.sqrt(np.average((ref - mean) ** 2, axis=0, weights=weights))


def naive_states(model, X, x0=None, feedback=None):
    """States from ``x0`` (zero), optionally fed back ``feedback[t]`` at step t."""
    res = model.reservoir_
    a = res.leak_rate
    x = np.zeros(res.W.shape[0]) if x0 is None else x0.copy()
    out = []
    for t, u in enumerate(X):
        pre = u @ res.W_in + x @ res.W + res.bias
        if feedback is not None:
            pre = pre + feedback[t] @ res.W_fb
        x = (1 - a) * x + a * np.tanh(pre)
        out.append(x)
    return np.array(out)


def ridge(S, Y, alpha=ALPHA, weights=None):
    """Ridge on ``[S, 1]``; with ``weights``, ``(R^T W R + alpha I)^{-1} R^T W Y``."""
    R = np.hstack([S, np.ones((len(S), 1))])
    Rw = R if weights is None else R * weights[:, None]
    return np.linalg.solve(Rw.T @ R + alpha * np.eye(R.shape[1]), Rw.T @ Y)


def _outputs(S, W):
    return np.hstack([S, np.ones((len(S), 1))]) @ W


@pytest.mark.parametrize("washout", [0, 30])
def test_zero_gain_rls_is_ridge_on_independently_computed_states(washout):
    X, Y = _series()
    model = _reg(washout=washout).fit(X, Y)
    S = naive_states(model, X)
    Ys = standardize(Y)
    np.testing.assert_allclose(model.readout_.W, ridge(S[washout:], Ys[washout:]),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.state_, S[-1], rtol=1e-12, atol=1e-14)
    assert model.td_history_["n_updates"][0] == len(X) - washout
    # Including the washout rows would give a different readout.
    if washout:
        assert not np.allclose(model.readout_.W, ridge(S, Ys), rtol=1e-3)


@pytest.mark.parametrize("td_gain", [0.0, 1.0])
@pytest.mark.parametrize("extra", [{}, {"output_feedback": True, "teacher_forcing": True},
                                   {"input_to_readout": True, "scale_inputs": True}])
def test_sequential_block_updates_equal_the_per_step_updates(monkeypatch, td_gain,
                                                             extra):
    # The default learns a chunk of states as exact RLS blocks; with the block
    # size 0 every step is one update (the reference). Same outputs, weights,
    # P and diagnostics, for a series longer than one chunk of states.
    import sklearn_itds._itds as itds

    X, Y = _series(n=1500)
    fast = _reg(washout=37, td_gain=td_gain, max_iter=2, **extra).fit(X, Y)
    monkeypatch.setattr(itds, "RLS_BLOCK", 0)
    ref = _reg(washout=37, td_gain=td_gain, max_iter=2, **extra).fit(X, Y)
    assert ref.readout_.block_size == 0 and fast.readout_.block_size > 1
    np.testing.assert_allclose(fast.readout_.coef_pair, ref.readout_.coef_pair,
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.tril(fast.readout_.P), np.tril(ref.readout_.P),
                               rtol=1e-8, atol=1e-12)
    for name, values in ref.td_history_.items():
        np.testing.assert_allclose(fast.td_history_[name], values, rtol=1e-8)
    np.testing.assert_allclose(fast.predict(X[:50]), ref.predict(X[:50]),
                               rtol=1e-8, atol=1e-10)


def test_one_output_and_the_1d_target():
    X, Y = _series()
    model = _reg(washout=10).fit(X, Y[:, 0])
    S = naive_states(model, X)
    np.testing.assert_allclose(model.readout_.W[:, 0],
                               ridge(S[10:], standardize(Y[:, 0])[10:]),
                               rtol=1e-7, atol=1e-9)
    assert model.predict(X[:5]).shape == (5,)


def test_predict_continues_from_the_stored_state():
    X, Y = _series()
    n = 200
    model = _reg(washout=20, td_gain=0.5).fit(X[:n], Y[:n])
    S = naive_states(model, X)  # the whole series from scratch, same weights
    mean, std = Y[:n].mean(axis=0), Y[:n].std(axis=0)
    expected = _outputs(S[n:], model.readout_.W) * std + mean
    np.testing.assert_allclose(model.predict(X[n:]), expected, rtol=1e-10, atol=1e-12)
    # A cold start would not give these predictions.
    cold = _outputs(naive_states(model, X[n:]), model.readout_.W) * std + mean
    assert not np.allclose(model.predict(X[n:]), cold, atol=1e-3)


def test_predict_does_not_change_the_state():
    X, Y = _series()
    model = _reg(output_feedback=True, td_gain=0.5).fit(X[:200], Y[:200])
    state, last = model.state_.copy(), model.last_output_.copy()
    first = model.predict(X[200:])
    second = model.predict(X[200:])
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(model.state_, state)
    np.testing.assert_array_equal(model.last_output_, last)


@pytest.mark.parametrize("td_gain", [0.0, 0.5])
def test_partial_fit_twice_equals_fit_on_the_concatenation(td_gain):
    """Continuing the stream equals one pass; the target statistics are the
    first call's, so the whole series is given with those statistics."""
    X, Y = _series()
    parts = _reg(washout=15, td_gain=td_gain)
    parts.partial_fit(X[:170], Y[:170]).partial_fit(X[170:], Y[170:])
    whole = _reg(washout=15, td_gain=td_gain).fit(X, Y)
    S = naive_states(whole, X)
    np.testing.assert_allclose(parts.state_, whole.state_, rtol=1e-12, atol=1e-14)
    Ys = standardize(Y, fit=Y[:170])
    W, Wbar, _ = naive_rls(S[15:], Ys[15:], td_gain, whole.td_timescale)
    np.testing.assert_allclose(parts.readout_.W, W, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(parts.readout_.W_echo, Wbar, rtol=1e-7, atol=1e-9)
    if td_gain == 0:
        np.testing.assert_allclose(parts.readout_.W, ridge(S[15:], Ys[15:]),
                                   rtol=1e-7, atol=1e-9)


def naive_rls(S, Y, td_gain, td_timescale, alpha=ALPHA):
    """The bounded iTDS rule with RLS gains, one row at a time, dense P."""
    R = np.hstack([S, np.ones((len(S), 1))])
    W = np.zeros((R.shape[1], Y.shape[1]))
    Wbar, P = np.zeros_like(W), np.eye(R.shape[1]) / alpha
    for r, y in zip(R, Y):
        z, d = r @ W, r @ Wbar
        Pr = P @ r
        k = Pr / (1 + r @ Pr)
        P = P - np.outer(k, Pr)
        W = W + np.outer(k, ((y - z) + td_gain * (d - z)) / (1 + td_gain))
        Wbar = Wbar + np.outer(k, z - d) / td_timescale
    return W, Wbar, P


def test_a_list_of_series_equals_independent_restarts():
    XA, YA = _series(250, seed=1)
    XB, YB = _series(180, seed=2)
    model = _reg(washout=25).fit([XA, XB], [YA, YB])
    SA, SB = naive_states(model, XA), naive_states(model, XB)  # both from zero
    Yall = np.vstack([YA, YB])
    YAs, YBs = standardize(YA, fit=Yall), standardize(YB, fit=Yall)
    expected = ridge(np.vstack([SA[25:], SB[25:]]), np.vstack([YAs[25:], YBs[25:]]))
    np.testing.assert_allclose(model.readout_.W, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.state_, SB[-1], rtol=1e-12, atol=1e-14)
    # The state was reset: one concatenated series (B continuing from the end
    # of A) gives measurably different states, hence a different readout.
    S_cat = naive_states(model, np.vstack([XA, XB]))
    rows = np.r_[25:250, 250 + 25:250 + 180]
    concatenated = ridge(S_cat[rows], standardize(Yall)[rows])
    assert np.abs(S_cat[250 + 25] - SB[25]).max() > 1e-4
    assert not np.allclose(model.readout_.W, concatenated, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="list"):
        _reg().fit([XA, XB], YA)


@pytest.mark.parametrize("every", [2, 3])
def test_update_every(every):
    X, Y = _series()
    model = _reg(washout=10, update_every=every).fit(X, Y)
    S = naive_states(model, X)
    rows = np.arange(10, len(X), every)
    np.testing.assert_allclose(model.readout_.W, ridge(S[rows], standardize(Y)[rows]),
                               rtol=1e-7, atol=1e-9)
    assert model.td_history_["n_updates"][0] == len(rows)


@pytest.mark.parametrize("td_gain", [0.0, 1.0])
def test_lms_equals_the_naive_itds_lms_loop(td_gain):
    X, Y = _series(200)
    lr, tau = 0.1, 3.0
    model = _reg(learning_rule="lms", learning_rate_init=lr, td_gain=td_gain,
                 td_timescale=tau, washout=5, max_iter=2).fit(X, Y)
    S = naive_states(model, X)
    R = np.hstack([S, np.ones((len(S), 1))])[5:]
    W = np.zeros((R.shape[1], 2))
    Wbar = np.zeros_like(W)
    for _ in range(2):  # each pass restarts the series (same states)
        for r, y in zip(R, standardize(Y)[5:]):
            z, d = r @ W, r @ Wbar
            step = lr / (r @ r)
            W = W + step * np.outer(r, ((y - z) + td_gain * (d - z)) / (1 + td_gain))
            Wbar = Wbar + step * np.outer(r, z - d) / tau
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.readout_.W_echo, Wbar, rtol=1e-9, atol=1e-12)
    assert model.n_iter_ == 2


READINGS = [("learned", -1), ("weight_average", 1), ("weight_average", -1)]


@pytest.mark.parametrize("rule", ["lms", "rls"])
@pytest.mark.parametrize("echo, td_sign", READINGS)
def test_each_reading_and_sign_equals_a_naive_loop(rule, echo, td_sign):
    """Issue 14: the echo readings and the flipped sign, in sequential mode
    (RLS: exact blocks over a series longer than one block)."""
    X, Y = _series(260)
    lr, tau, g, alpha = 0.1, 3.0, 0.7, 1.0
    model = _reg(learning_rule=rule, learning_rate_init=lr, rls_alpha=alpha, td_gain=g,
                 td_timescale=tau, washout=5, max_iter=2, echo=echo,
                 td_sign=td_sign).fit(X, Y)
    S = naive_states(model, X)
    R = np.hstack([S, np.ones((len(S), 1))])[5:]
    W = np.zeros((R.shape[1], 2))
    Wbar = np.zeros_like(W)
    P = np.eye(R.shape[1]) / alpha
    for _ in range(2):  # each pass restarts the series (same states)
        for r, y in zip(R, standardize(Y)[5:]):
            z, d = r @ W, r @ Wbar
            if rule == "lms":
                gain = lr * r / (r @ r)
            else:
                Pr = P @ r
                gain = Pr / (1 + r @ Pr)
                P = P - np.outer(gain, Pr)
            W = W + np.outer(gain, ((y - z) + td_sign * g * (d - z)) / (1 + g))
            if echo == "learned":
                Wbar = Wbar + np.outer(gain, z - d) / tau
            else:
                Wbar = Wbar + (W - Wbar) / tau
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.readout_.W_echo, Wbar, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("echo, td_sign", READINGS)
@pytest.mark.parametrize("kw", [
    {}, {"learning_rule": "lms", "max_iter": 2},
    {"output_feedback": True}, {"mode": "samples", "n_steps": 3}],
    ids=["rls", "lms", "force", "samples"])
def test_zero_gain_every_reading_and_sign_is_the_plain_fit(echo, td_sign, kw):
    X, Y = _series(200)
    plain = _reg(washout=5, rls_alpha=1.0, **kw).fit(X, Y)
    other = _reg(washout=5, rls_alpha=1.0, echo=echo, td_sign=td_sign, **kw).fit(X, Y)
    np.testing.assert_array_equal(other.readout_.W, plain.readout_.W)
    np.testing.assert_array_equal(other.predict(X[:40]), plain.predict(X[:40]))
    np.testing.assert_array_equal(other.td_step_norms(X, Y), plain.td_step_norms(X, Y))


def test_lms_learns_a_sine():
    """Normalized LMS, one-step prediction of a sine (period 50 steps).

    Measured (this setup, 3 passes): test R^2 0.9945, 0.9946, 0.9983, 0.9968
    for seeds 0-3 (0.9931, 0.9930, 0.9983, 0.9964 with td_gain=0); the loss
    per pass falls from ~0.0016 to ~0.0003.
    """
    t = np.arange(1300)
    s = np.sin(2 * np.pi * t / 50)
    X, y = s[:-1, None], s[1:]
    for seed in range(2):
        model = ITDSReservoirRegressor(n_reservoir=60, mode="sequential",
                                       learning_rule="lms", learning_rate_init=0.5,
                                       washout=50, max_iter=3, td_gain=1.0,
                                       random_state=seed)
        model.fit(X[:1000], y[:1000])
        loss = model.loss_curve_
        assert loss[-1] < 0.5 * loss[0], loss
        assert model.score(X[1000:], y[1000:]) > 0.98


@pytest.mark.parametrize("compiled", PATHS)
def test_force_with_own_output_feedback_equals_a_naive_force_loop(compiled):
    """RLS with output feedback (teacher_forcing=False) written out with a dense P,
    on the numpy path and by the compiled loop (sklearn_itds._fused)."""
    X, Y = _series(150)
    with path(compiled):
        model = _reg(output_feedback=True, washout=10, td_gain=0.5, td_timescale=2.0,
                     feedback_scaling=0.5).fit(X, Y)
    mean, std = Y.mean(axis=0), Y.std(axis=0)
    Ys = standardize(Y)  # the network learns and feeds back standardized outputs
    res, a = model.reservoir_, model.reservoir_.leak_rate
    n_in = res.W.shape[0] + 1
    W, Wbar, P = np.zeros((n_in, 2)), np.zeros((n_in, 2)), np.eye(n_in) / ALPHA
    x, y_prev = np.zeros(n_in - 1), np.zeros(2)
    for t, (u, y) in enumerate(zip(X, Ys)):
        x = (1 - a) * x + a * np.tanh(u @ res.W_in + x @ res.W + res.bias
                                      + y_prev @ res.W_fb)
        r = np.append(x, 1.0)
        z, d = r @ W, r @ Wbar
        if t >= 10:
            k = P @ r / (1 + r @ P @ r)
            P = P - np.outer(k, r @ P)
            W = W + np.outer(k, ((y - z) + 0.5 * (d - z)) / 1.5)
            Wbar = Wbar + np.outer(k, z - d) / 2.0
        y_prev = z  # the a-priori output is fed back
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.state_, x, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.last_output_, y_prev, rtol=1e-8, atol=1e-10)
    # predict generates: each prediction is fed back at the next step.
    Z, xg, yg = [], x.copy(), y_prev.copy()
    for u in X[:20]:
        xg = (1 - a) * xg + a * np.tanh(u @ res.W_in + xg @ res.W + res.bias
                                        + yg @ res.W_fb)
        yg = np.append(xg, 1.0) @ model.readout_.W
        Z.append(yg * std + mean)
    with path(compiled):
        np.testing.assert_allclose(model.predict(X[:20]), Z, rtol=1e-8, atol=1e-10)


def test_teacher_forcing_is_ridge_on_states_driven_by_the_targets():
    X, Y = _series(200)
    model = _reg(output_feedback=True, teacher_forcing=True, washout=10,
                 feedback_scaling=0.5).fit(X, Y)
    Ys = standardize(Y)
    previous = np.vstack([np.zeros((1, 2)), Ys[:-1]])  # target of the step before
    S = naive_states(model, X, feedback=previous)
    np.testing.assert_allclose(model.readout_.W, ridge(S[10:], Ys[10:]),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.last_output_, Ys[-1], rtol=1e-12)
    pred = model.predict(X[:30])
    assert pred.shape == (30, 2) and np.isfinite(pred).all()


def test_generation_continues_the_four_sines():
    """Closed-loop generation of sines4 (constant input, own output fed back).

    Measured (mode="sequential", output_feedback=True, spectral_radius=1.2,
    leak_rate=0.3, washout=100, defaults otherwise): mean absolute error over
    the 400 generated steps 0.0052, 0.0008, 0.0013, 0.0091 for seeds 0-3.
    Generation needs the slow, leaky reservoir: with the default
    leak_rate=1.0 the generated signal is uncorrelated with the target.
    """
    task = load_task("sines4")
    n = task.n_train
    for seed in range(3):
        model = ITDSReservoirRegressor(mode="sequential", output_feedback=True,
                                       spectral_radius=1.2, leak_rate=0.3,
                                       washout=100, random_state=seed)
        model.fit(task.X[:n], task.y[:n])
        generated = model.predict(task.X[n:])
        mae = np.mean(np.abs(generated - task.y[n:]))
        assert mae < 0.05, (seed, mae)
        # Not a constant or a copy of the training start: it follows the signal.
        assert np.corrcoef(generated, task.y[n:])[0, 1] > 0.99


def test_washout_must_leave_steps_to_learn_from():
    X, Y = _series(50)
    with pytest.raises(ValueError, match="washout"):
        _reg(washout=50).fit(X, Y)
    with pytest.raises(ValueError, match="washout"):
        _reg(washout=60).partial_fit(X, Y)
    with pytest.raises(ValueError, match="washout"):
        _reg(washout=40).fit([X, X[:30]], [Y, Y[:30]])


def test_time_series_split_cross_validation():
    """cross_val_score with TimeSeriesSplit on Mackey-Glass one-step prediction.

    Measured (n_reservoir=50, washout=50, first 900 steps, 3 splits): R^2 from
    0.9968 to 0.9997 over seeds 0-2.
    """
    task = load_task("mackey_glass", random_state=0)
    X, y = task.X[:900], task.y[:900]
    for seed in range(2):
        model = ITDSReservoirRegressor(n_reservoir=50, mode="sequential", washout=50,
                                       random_state=seed)
        scores = cross_val_score(model, X, y, cv=TimeSeriesSplit(n_splits=3))
        assert np.isfinite(scores).all() and scores.min() > 0.99, scores


def test_refit_starts_from_scratch():
    X, Y = _series()
    model = _reg(washout=5)
    first = copy.deepcopy(model.fit(X[:150], Y[:150]).readout_.W)
    model.partial_fit(X[150:], Y[150:])
    model.fit(X[:150], Y[:150])
    np.testing.assert_array_equal(model.readout_.W, first)


def test_input_to_readout_reads_the_scaled_input():
    """Rows [x(t), u(t), 1] with u scaled as the reservoir sees it: ridge on them."""
    X, Y = _series()
    model = _reg(washout=10, input_to_readout=True, scale_inputs=True).fit(X, Y)
    U = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0).mean())
    S = naive_states(model, U)
    rows = np.hstack([S, U])[10:]
    np.testing.assert_allclose(model.readout_.W, ridge(rows, standardize(Y)[10:]),
                               rtol=1e-7, atol=1e-9)


# -- mode="samples": rows are independent trials ---------------------------------------


def _lags(n=260, width=6, seed=0):
    rng = np.random.RandomState(seed)
    s = np.sin(np.arange(n + width) * 0.3) + 0.1 * rng.standard_normal(n + width)
    windows = np.lib.stride_tricks.sliding_window_view(s, width + 1)
    return windows[:, :-1], np.column_stack([windows[:, -1], windows[:, -2] ** 2])


def naive_sample_rows(model, X_fit, X, sample_weight=None):
    """[standardized (spread x mean state over n_steps, scaled input), 1], by hand.

    With the default ``instance_norm=True`` the reservoir reads each scaled
    row minus its own mean over the lags, divided by its own standard
    deviation, and its mean state is multiplied back by that deviation. With
    ``sample_weight`` the statistics of ``X_fit`` are weighted.
    """
    res, a = model.reservoir_, model.reservoir_.leak_rate
    w = sample_weight
    mean = np.average(X_fit, axis=0, weights=w)
    scale = np.sqrt(np.average((X_fit - mean) ** 2, axis=0, weights=w).mean())

    def features(A):
        U = (A - mean) / scale
        spread = U.std(axis=1, keepdims=True)
        V = (U - U.mean(axis=1, keepdims=True)) / spread
        x = np.zeros((len(U), res.W.shape[0]))
        total = np.zeros_like(x)
        for _ in range(model.n_steps):
            x = (1 - a) * x + a * np.tanh(V @ res.W_in + x @ res.W + res.bias)
            total += x
        return np.hstack([spread * total / model.n_steps, U])

    F_fit = features(X_fit)
    mu = np.average(F_fit, axis=0, weights=w)
    sd = np.sqrt(np.average((F_fit - mu) ** 2, axis=0, weights=w))
    return np.hstack([(features(X) - mu) / sd, np.ones((len(X), 1))])


def test_samples_mode_is_ridge_on_the_trial_rows():
    X, Y = _lags()
    model = ITDSReservoirRegressor(n_reservoir=30, n_steps=5, rls_alpha=0.7,
                                   shuffle=False, random_state=0).fit(X, Y)
    R = naive_sample_rows(model, X, X)
    np.testing.assert_allclose(model.readout_.W, ridge(R[:, :-1], standardize(Y), 0.7),
                               rtol=1e-8, atol=1e-10)
    pred = R @ model.readout_.W * Y.std(axis=0) + Y.mean(axis=0)
    np.testing.assert_allclose(model.predict(X), pred, rtol=1e-8, atol=1e-10)


def test_samples_mode_predictions_do_not_depend_on_order_or_chunking():
    X, Y = _lags()
    model = ITDSReservoirRegressor(n_reservoir=30, random_state=0).fit(X, Y[:, 0])
    full = model.predict(X)
    order = np.random.RandomState(1).permutation(len(X))
    np.testing.assert_allclose(model.predict(X[order]), full[order], rtol=1e-12)
    one_by_one = np.concatenate([model.predict(X[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(one_by_one, full[:20], rtol=1e-12, atol=1e-14)


def test_samples_mode_takes_sequences_like_the_classifier():
    """3-D input and lists of unequal-length sequences, each run as a trial."""
    rng = np.random.RandomState(0)
    X = [rng.standard_normal((rng.randint(3, 9), 2)) for _ in range(40)]
    y = np.array([x[:, 0].sum() for x in X])
    model = ITDSReservoirRegressor(n_reservoir=30, random_state=0).fit(X, y)
    alone = np.concatenate([model.predict([x]) for x in X[:5]])
    np.testing.assert_allclose(model.predict(X)[:5], alone, rtol=1e-12, atol=1e-14)
    assert model.score(X, y) > 0.9


def test_samples_mode_partial_fit_continues_the_pass():
    X, Y = _lags()
    fitted = ITDSReservoirRegressor(n_reservoir=30, shuffle=False, td_gain=0.5,
                                    random_state=0).fit(X[:100], Y[:100])
    online = ITDSReservoirRegressor(n_reservoir=30, td_gain=0.5, random_state=0)
    online.partial_fit(X[:100], Y[:100])
    np.testing.assert_array_equal(online.readout_.W, fitted.readout_.W)
    online.partial_fit(X[100:], Y[100:])
    assert online.n_iter_ == 1 and not hasattr(online, "state_")  # the last call's
    assert len(online.loss_curve_) == 2
    with pytest.raises(ValueError, match="mode was changed"):
        online.set_params(mode="sequential").partial_fit(X[:10], Y[:10])


def test_modes_refit_cleanly_and_feedback_needs_sequential():
    X, Y = _series()
    model = _reg().fit(X, Y)
    assert hasattr(model, "state_")
    model.set_params(mode="samples").fit(X, Y)
    assert not hasattr(model, "state_") and hasattr(model, "encoder_")
    with pytest.raises(ValueError, match="mode='sequential'"):
        ITDSReservoirRegressor(output_feedback=True).fit(X, Y)


def test_samples_readout_contains_the_linear_model_of_the_input():
    """With the input in the readout, one RLS pass is never worse than ridge on
    the input alone in the training objective it minimizes.

    The readout rows are ``[reservoir features, input, 1]``; setting the
    reservoir weights to zero leaves ridge on ``[input, 1]``, so the exact
    ridge solution on all columns has an objective at most that one's. On a
    purely linear target (measured, 3 seeds) the test MSE is 1.15-1.5 times
    Ridge's: the price of 100 extra features under the same penalty.
    """
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 5))
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(300)
    model = ITDSReservoirRegressor(n_reservoir=100, rls_alpha=3.0, random_state=0).fit(X, y)
    R = model.encoder_.transform(model._validate(X, y, reset=False)[0])
    Y = standardize(y[:, None])
    inputs = np.r_[np.arange(100, 105), 105]  # the input columns and the bias

    def objective(W):
        return np.sum((Y - R @ W) ** 2) + 3.0 * np.sum(W ** 2)

    W_lin = np.zeros_like(model.readout_.W)
    W_lin[inputs] = ridge(R[:, inputs[:-1]], Y, 3.0)  # ridge() appends the bias
    np.testing.assert_allclose(model.readout_.W, ridge(R[:, :-1], Y, 3.0),
                               rtol=1e-8, atol=1e-10)
    assert objective(model.readout_.W) <= objective(W_lin)
    # and the linear part alone is already a good model of the target
    assert np.mean((R @ W_lin - Y) ** 2) < 0.05


# -- sample weights (issue 11) -----------------------------------------------------------


def _positive_weights(n, seed=0):
    w = np.random.RandomState(seed).uniform(0.0, 3.0, n)
    w[::8] = 0.0
    return w


def test_samples_mode_weights_give_weighted_ridge_on_the_weighted_rows():
    X, Y = _lags()
    w = _positive_weights(len(X))
    model = ITDSReservoirRegressor(n_reservoir=30, n_steps=5, rls_alpha=0.7,
                                   random_state=0).fit(X, Y, sample_weight=w)
    R = naive_sample_rows(model, X, X, sample_weight=w)
    Ys = standardize(Y, weights=w)
    W = ridge(R[:, :-1], Ys, 0.7, weights=w)
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-8, atol=1e-10)
    mean = np.average(Y, axis=0, weights=w)
    std = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(model.predict(X), R @ W * std + mean, rtol=1e-8, atol=1e-10)
    # the weighted diagnostics: the a-priori errors of the pass, weighted
    assert model.td_history_["n_updates"][0] == len(X)
    plain = ITDSReservoirRegressor(n_reservoir=30, n_steps=5, rls_alpha=0.7,
                                   random_state=0).fit(X, Y)
    assert not np.allclose(plain.readout_.W, model.readout_.W, rtol=1e-4)


@pytest.mark.parametrize("kw", [{}, {"td_gain": 1.0, "shuffle": False},
                                {"learning_rule": "lms", "echo": "weight_average",
                                 "td_gain": 1.0, "shuffle": False, "max_iter": 3}],
                         ids=["defaults", "rls_itds", "lms_weight_average"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_samples_mode_a_zero_weight_sample_changes_nothing(kw, method):
    X, Y = _lags()
    w = np.random.RandomState(1).uniform(0.2, 2.0, len(X))
    X0 = np.insert(X, 50, X.max(axis=0) * 5.0, axis=0)
    Y0 = np.insert(Y, 50, [100.0, -100.0], axis=0)
    w0 = np.insert(w, 50, 0.0)
    make = lambda: ITDSReservoirRegressor(n_reservoir=30, random_state=0, **kw)  # noqa: E731
    if method == "fit":
        a, b = make().fit(X, Y, sample_weight=w), make().fit(X0, Y0, sample_weight=w0)
    else:
        a = make().partial_fit(X[:120], Y[:120], sample_weight=w[:120])
        b = make().partial_fit(X0[:121], Y0[:121], sample_weight=w0[:121])
        a.partial_fit(X[120:], Y[120:], sample_weight=w[120:])
        b.partial_fit(X0[121:], Y0[121:], sample_weight=w0[121:])
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-8, atol=1e-10)
    if kw or method == "partial_fit":  # in order (a shuffled pass's errors depend on it)
        for name in ("e_sup", "e_td", "loss", "weight_change"):
            np.testing.assert_allclose(b.td_history_[name], a.td_history_[name],
                                       rtol=1e-8, err_msg=name)


def test_samples_mode_integer_weights_equal_repeated_samples():
    X, Y = _lags()
    k = np.random.RandomState(2).randint(0, 4, len(X))
    weighted = ITDSReservoirRegressor(n_reservoir=30, random_state=0).fit(
        X, Y, sample_weight=k)
    repeated = ITDSReservoirRegressor(n_reservoir=30, random_state=0).fit(
        np.repeat(X, k, axis=0), np.repeat(Y, k, axis=0))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-8,
                               atol=1e-10)


@pytest.mark.parametrize("every", [1, 3])
def test_sequential_weights_give_weighted_ridge_on_the_states(every):
    """Per-step weights: the update at a learning step is weighted (washout
    steps and skipped steps do not learn); the target statistics use every
    step's weight."""
    X, Y = _series()
    w = _positive_weights(len(X), seed=3)
    model = _reg(washout=30, update_every=every).fit(X, Y, sample_weight=w)
    S = naive_states(model, X)
    Ys = standardize(Y, weights=w)
    rows = np.arange(30, len(X), every)
    np.testing.assert_allclose(model.readout_.W, ridge(S[rows], Ys[rows], weights=w[rows]),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.target_scaler_.mean_,
                               np.average(Y, axis=0, weights=w), rtol=1e-12)
    # the input scaling is not weighted: every step drives the reservoir
    scaled = _reg(washout=30, scale_inputs=True)
    a = scaled.fit(X, Y, sample_weight=w).input_scaler_.mean_
    np.testing.assert_allclose(a, X.mean(axis=0), rtol=1e-12)


def test_sequential_constant_weights_with_own_output_feedback_rescale_the_penalty():
    """FORCE learning step by step (each output fed back): weights c at every
    step are RLS with rls_alpha / c, update for update."""
    X, Y = _series(200)
    kw = dict(output_feedback=True, washout=10, td_gain=0.5, td_timescale=2.0,
              feedback_scaling=0.5)
    weighted = _reg(rls_alpha=0.1, **kw).fit(X, Y, sample_weight=np.full(len(X), 4.0))
    rescaled = _reg(rls_alpha=0.025, **kw).fit(X, Y)
    np.testing.assert_allclose(weighted.readout_.coef_pair, rescaled.readout_.coef_pair,
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(weighted.predict(X[:20]), rescaled.predict(X[:20]),
                               rtol=1e-7, atol=1e-9)
    for name, values in rescaled.td_history_.items():
        # the weighted weight_change is per unit of weight: the same changes / 4
        scale = 4.0 if name == "weight_change" else 1.0
        np.testing.assert_allclose(weighted.td_history_[name] * scale, values, rtol=1e-7)


def test_sequential_list_of_series_takes_a_list_of_weights():
    XA, YA = _series(250, seed=1)
    XB, YB = _series(180, seed=2)
    wA, wB = _positive_weights(250, seed=4), _positive_weights(180, seed=5)
    model = _reg(washout=25).fit([XA, XB], [YA, YB], sample_weight=[wA, wB])
    SA, SB = naive_states(model, XA), naive_states(model, XB)
    Yall, wall = np.vstack([YA, YB]), np.r_[wA, wB]
    YAs = standardize(YA, fit=Yall, weights=wall)
    YBs = standardize(YB, fit=Yall, weights=wall)
    expected = ridge(np.vstack([SA[25:], SB[25:]]), np.vstack([YAs[25:], YBs[25:]]),
                     weights=np.r_[wA[25:], wB[25:]])
    np.testing.assert_allclose(model.readout_.W, expected, rtol=1e-7, atol=1e-9)
    # None for a series: its steps count 1
    model = _reg(washout=25).fit([XA, XB], [YA, YB], sample_weight=[None, wB])
    ones = np.ones(250)
    YAs = standardize(YA, fit=Yall, weights=np.r_[ones, wB])
    YBs = standardize(YB, fit=Yall, weights=np.r_[ones, wB])
    expected = ridge(np.vstack([SA[25:], SB[25:]]), np.vstack([YAs[25:], YBs[25:]]),
                     weights=np.r_[ones[25:], wB[25:]])
    np.testing.assert_allclose(model.readout_.W, expected, rtol=1e-7, atol=1e-9)


def test_sequential_partial_fit_with_weights_equals_fit_on_the_concatenation():
    X, Y = _series()
    w = _positive_weights(len(X), seed=6)
    parts = _reg(washout=15)
    parts.partial_fit(X[:170], Y[:170], sample_weight=w[:170])
    parts.partial_fit(X[170:], Y[170:], sample_weight=w[170:])
    S = naive_states(parts, X)
    Ys = standardize(Y, fit=Y[:170], weights=w[:170])  # the first call's statistics
    np.testing.assert_allclose(parts.readout_.W, ridge(S[15:], Ys[15:], weights=w[15:]),
                               rtol=1e-7, atol=1e-9)


# -- issue 15: the states of the next chunk are computed in a worker thread -----------


@pytest.mark.parametrize("extra", [{}, {"output_feedback": True, "teacher_forcing": True},
                                   {"input_to_readout": True, "update_every": 2}])
def test_states_ahead_in_a_thread_equal_the_serial_run(monkeypatch, extra):
    """With more than one chunk of steps the next chunk's states are computed
    while the readout learns from the last: bit for bit the serial run."""
    import sklearn_itds._sequence as base

    X, Y = _series(n=2600)  # three chunks
    ahead = _reg(washout=5, td_gain=0.5, **extra).fit(X, Y)
    pred_ahead = ahead.predict(X)
    monkeypatch.setattr(base, "STATES_AHEAD", False)  # no worker thread
    serial = _reg(washout=5, td_gain=0.5, **extra).fit(X, Y)
    np.testing.assert_array_equal(ahead.readout_.coef_pair, serial.readout_.coef_pair)
    np.testing.assert_array_equal(ahead.state_, serial.state_)
    np.testing.assert_array_equal(ahead.last_output_, serial.last_output_)
    for name, values in serial.td_history_.items():
        np.testing.assert_array_equal(ahead.td_history_[name], values)
    np.testing.assert_array_equal(pred_ahead, serial.predict(X))


def test_teacher_forcing_over_several_chunks_is_ridge_on_target_driven_states():
    # The target fed back at the first step of a chunk is the last one of the
    # chunk before (computed ahead, in the worker thread).
    X, Y = _series(2300)
    model = _reg(output_feedback=True, teacher_forcing=True, washout=10,
                 feedback_scaling=0.5).fit(X, Y)
    Ys = standardize(Y)
    previous = np.vstack([np.zeros((1, 2)), Ys[:-1]])
    S = naive_states(model, X, feedback=previous)
    np.testing.assert_allclose(model.readout_.W, ridge(S[10:], Ys[10:]),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.state_, S[-1], rtol=1e-10, atol=1e-12)


def test_interrupt_while_states_are_computed_ahead_leaves_no_thread(monkeypatch):
    import threading

    import sklearn_itds._sequence as base

    X, Y = _series(n=2600)
    model = _reg(washout=5).fit(X[:300], Y[:300])
    before = model.readout_.coef_pair.copy(), model.state_.copy()
    learn_rows, calls = base._learn_rows, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # learning the second chunk; the third is being run
            raise KeyboardInterrupt
        return learn_rows(*args, **kwargs)

    monkeypatch.setattr(base, "_learn_rows", interrupted)
    threads = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y)
    assert threading.active_count() == threads  # the worker was waited for
    np.testing.assert_array_equal(model.readout_.coef_pair, before[0])
    np.testing.assert_array_equal(model.state_, before[1])


def test_sparse_rows_without_input_scaling_equal_dense_rows():
    """instance_norm centres each row on its own, so sparse input is made dense
    for it, with or without the input scaling."""
    from scipy import sparse

    rng = np.random.RandomState(0)
    X = rng.rand(120, 5)
    X[X < 0.5] = 0.0
    y = X.sum(axis=1)
    kw = dict(n_reservoir=20, scale_inputs=False, random_state=0)
    dense = ITDSReservoirRegressor(**kw).fit(X, y)
    held = ITDSReservoirRegressor(**kw).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(held.predict(sparse.csr_matrix(X)), dense.predict(X),
                               rtol=1e-12, atol=1e-12)


def test_rls_alpha_reports_the_penalty_in_use():
    X = np.random.RandomState(0).rand(80, 3)
    y = X.sum(axis=1)
    for kw, alpha in [({}, 10.0), ({"mode": "sequential"}, 1e-5),
                      ({"mode": "sequential", "dtype": np.float32}, 1e-2),
                      ({"rls_alpha": 3.0}, 3.0), ({"learning_rule": "lms"}, None)]:
        model = ITDSReservoirRegressor(n_reservoir=10, random_state=0, **kw).fit(X, y)
        assert model.rls_alpha_ == alpha, kw
        if alpha is not None:  # and it is the prior the readout started from
            fresh = ITDSReservoirRegressor(n_reservoir=10, random_state=0, **kw)
            fresh.set_params(rls_alpha=alpha)
            np.testing.assert_allclose(fresh.fit(X, y).predict(X), model.predict(X),
                                       rtol=1e-6, atol=1e-6)
