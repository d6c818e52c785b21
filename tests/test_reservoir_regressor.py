"""ITDSReservoirRegressor against independent computations.

States are recomputed here with a naive loop of the leaky-tanh equation from
the fitted weights; readouts are checked against closed-form ridge
(``np.linalg.solve``), a naive normalized-LMS loop and a naive FORCE/RLS loop
with a dense ``P``.
"""

import copy

import numpy as np
import pytest
from sklearn.model_selection import TimeSeriesSplit, cross_val_score

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

ALPHA = 1e-3


def _series(n=300, seed=0):
    """Two inputs, two outputs: a nonlinear, delayed function of the inputs."""
    rng = np.random.RandomState(seed)
    t = np.arange(n + 3)
    u = np.column_stack([np.sin(2 * np.pi * t / 37), rng.uniform(-1, 1, n + 3)])
    Y = np.column_stack([u[2:-1, 0] * u[1:-2, 1], np.tanh(u[:-3, 0] + u[3:, 1])])
    return u[3:], Y


def _reg(**kw):
    params = dict(n_reservoir=40, td_gain=0.0, rls_alpha=ALPHA, random_state=0)
    params.update(kw)
    return ITDSReservoirRegressor(**params)


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


def ridge(S, Y, alpha=ALPHA):
    R = np.hstack([S, np.ones((len(S), 1))])
    return np.linalg.solve(R.T @ R + alpha * np.eye(R.shape[1]), R.T @ Y)


def _outputs(S, W):
    return np.hstack([S, np.ones((len(S), 1))]) @ W


@pytest.mark.parametrize("washout", [0, 30])
def test_zero_gain_rls_is_ridge_on_independently_computed_states(washout):
    X, Y = _series()
    model = _reg(washout=washout).fit(X, Y)
    S = naive_states(model, X)
    np.testing.assert_allclose(model.readout_.W, ridge(S[washout:], Y[washout:]),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.state_, S[-1], rtol=1e-12, atol=1e-14)
    assert model.td_history_["n_updates"][0] == len(X) - washout
    # Including the washout rows would give a different readout.
    if washout:
        assert not np.allclose(model.readout_.W, ridge(S, Y), rtol=1e-3)


def test_one_output_and_the_1d_target():
    X, Y = _series()
    model = _reg(washout=10).fit(X, Y[:, 0])
    S = naive_states(model, X)
    np.testing.assert_allclose(model.readout_.W[:, 0], ridge(S[10:], Y[10:, 0]),
                               rtol=1e-7, atol=1e-9)
    assert model.predict(X[:5]).shape == (5,)


def test_predict_continues_from_the_stored_state():
    X, Y = _series()
    n = 200
    model = _reg(washout=20, td_gain=0.5).fit(X[:n], Y[:n])
    S = naive_states(model, X)  # the whole series from scratch, same weights
    np.testing.assert_allclose(model.predict(X[n:]), _outputs(S[n:], model.readout_.W),
                               rtol=1e-10, atol=1e-12)
    # A cold start would not give these predictions.
    cold = _outputs(naive_states(model, X[n:]), model.readout_.W)
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
    X, Y = _series()
    whole = _reg(washout=15, td_gain=td_gain).fit(X, Y)
    parts = _reg(washout=15, td_gain=td_gain)
    parts.partial_fit(X[:170], Y[:170]).partial_fit(X[170:], Y[170:])
    np.testing.assert_allclose(parts.readout_.W, whole.readout_.W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(parts.readout_.W_echo, whole.readout_.W_echo,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(parts.state_, whole.state_, rtol=1e-12, atol=1e-14)
    if td_gain == 0:
        S = naive_states(whole, X)
        np.testing.assert_allclose(parts.readout_.W, ridge(S[15:], Y[15:]),
                                   rtol=1e-7, atol=1e-9)


def test_a_list_of_series_equals_independent_restarts():
    XA, YA = _series(250, seed=1)
    XB, YB = _series(180, seed=2)
    model = _reg(washout=25).fit([XA, XB], [YA, YB])
    SA, SB = naive_states(model, XA), naive_states(model, XB)  # both from zero
    expected = ridge(np.vstack([SA[25:], SB[25:]]), np.vstack([YA[25:], YB[25:]]))
    np.testing.assert_allclose(model.readout_.W, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.state_, SB[-1], rtol=1e-12, atol=1e-14)
    # The state was reset: one concatenated series (B continuing from the end
    # of A) gives measurably different states, hence a different readout.
    S_cat = naive_states(model, np.vstack([XA, XB]))
    rows = np.r_[25:250, 250 + 25:250 + 180]
    concatenated = ridge(S_cat[rows], np.vstack([YA, YB])[rows])
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
    np.testing.assert_allclose(model.readout_.W, ridge(S[rows], Y[rows]),
                               rtol=1e-7, atol=1e-9)
    assert model.td_history_["n_updates"][0] == len(rows)


@pytest.mark.parametrize("td_gain", [0.0, 1.0])
def test_lms_equals_the_naive_itds_lms_loop(td_gain):
    X, Y = _series(200)
    lr, tau = 0.1, 3.0
    model = _reg(learning_rule="lms", learning_rate=lr, td_gain=td_gain,
                 td_timescale=tau, washout=5, max_iter=2).fit(X, Y)
    S = naive_states(model, X)
    R = np.hstack([S, np.ones((len(S), 1))])[5:]
    W = np.zeros((R.shape[1], 2))
    Wbar = np.zeros_like(W)
    for _ in range(2):  # each pass restarts the series (same states)
        for r, y in zip(R, Y[5:]):
            z, d = r @ W, r @ Wbar
            step = lr / (r @ r)
            W = W + step * np.outer(r, (y - z) + td_gain * (d - z))
            Wbar = Wbar + step * np.outer(r, z - d) / tau
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.readout_.W_echo, Wbar, rtol=1e-9, atol=1e-12)
    assert model.n_iter_ == 2


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
        model = ITDSReservoirRegressor(n_reservoir=60, learning_rule="lms",
                                       learning_rate=0.5, washout=50, max_iter=3,
                                       td_gain=1.0, random_state=seed)
        model.fit(X[:1000], y[:1000])
        loss = model.loss_curve_
        assert loss[-1] < 0.5 * loss[0], loss
        assert model.score(X[1000:], y[1000:]) > 0.98


def test_force_with_own_output_feedback_equals_a_naive_force_loop():
    """RLS with output feedback (teacher_forcing=False) written out with a dense P."""
    X, Y = _series(150)
    model = _reg(output_feedback=True, washout=10, td_gain=0.5, td_timescale=2.0,
                 feedback_scaling=0.5).fit(X, Y)
    res, a = model.reservoir_, model.reservoir_.leak_rate
    n_in = res.W.shape[0] + 1
    W, Wbar, P = np.zeros((n_in, 2)), np.zeros((n_in, 2)), np.eye(n_in) / ALPHA
    x, y_prev = np.zeros(n_in - 1), np.zeros(2)
    for t, (u, y) in enumerate(zip(X, Y)):
        x = (1 - a) * x + a * np.tanh(u @ res.W_in + x @ res.W + res.bias
                                      + y_prev @ res.W_fb)
        r = np.append(x, 1.0)
        z, d = r @ W, r @ Wbar
        if t >= 10:
            k = P @ r / (1 + r @ P @ r)
            P = P - np.outer(k, r @ P)
            W = W + np.outer(k, (y - z) + 0.5 * (d - z))
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
        Z.append(yg)
    np.testing.assert_allclose(model.predict(X[:20]), Z, rtol=1e-8, atol=1e-10)


def test_teacher_forcing_is_ridge_on_states_driven_by_the_targets():
    X, Y = _series(200)
    model = _reg(output_feedback=True, teacher_forcing=True, washout=10,
                 feedback_scaling=0.5).fit(X, Y)
    previous = np.vstack([np.zeros((1, 2)), Y[:-1]])  # target of the step before
    S = naive_states(model, X, feedback=previous)
    np.testing.assert_allclose(model.readout_.W, ridge(S[10:], Y[10:]),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(model.last_output_, Y[-1])
    pred = model.predict(X[:30])
    assert pred.shape == (30, 2) and np.isfinite(pred).all()


def test_generation_continues_the_four_sines():
    """Closed-loop generation of sines4 (constant input, own output fed back).

    Measured (n_reservoir=300, output_feedback=True, spectral_radius=1.2,
    washout=100, defaults otherwise): mean absolute error over the 400
    generated steps 0.0113, 0.0027, 0.0038, 0.0023 for seeds 0-3.
    """
    task = load_task("sines4")
    n = task.n_train
    for seed in range(3):
        model = ITDSReservoirRegressor(output_feedback=True, spectral_radius=1.2,
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
        model = ITDSReservoirRegressor(n_reservoir=50, washout=50, random_state=seed)
        scores = cross_val_score(model, X, y, cv=TimeSeriesSplit(n_splits=3))
        assert np.isfinite(scores).all() and scores.min() > 0.99, scores


def test_refit_starts_from_scratch():
    X, Y = _series()
    model = _reg(washout=5)
    first = copy.deepcopy(model.fit(X[:150], Y[:150]).readout_.W)
    model.partial_fit(X[150:], Y[150:])
    model.fit(X[:150], Y[:150])
    np.testing.assert_array_equal(model.readout_.W, first)
