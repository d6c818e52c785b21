"""Tests of ``sklearn_itds._optimizers`` against the update rules written out by hand.

Adam: Kingma & Ba (2015), Algorithm 1 with the step-size form of their Section 2
(``lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``,
``theta -= lr_t * m / (sqrt(v) + eps)``), which is what scikit-learn's MLP uses.
SGD: scikit-learn's documented momentum rule, ``v = mu v - lr g`` and
``theta += mu v - lr g`` (Nesterov) or ``theta += v``.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from sklearn_itds._optimizers import SGD, Adam, make_optimizer


def _params_and_grads(seed):
    rng = np.random.RandomState(seed)
    params = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=(3, 2)), rng.normal(size=4)] for _ in range(3)]
    return params, grads


@pytest.mark.parametrize("epsilon", [1e-8, 0.5])
def test_adam_three_steps_match_hand_formula(epsilon):
    params, grads = _params_and_grads(0)
    lr, b1, b2 = 0.01, 0.8, 0.95
    expected = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    ids = [id(p) for p in params]
    opt = Adam(params, lr, b1, b2, epsilon)
    for t, g in enumerate(grads, start=1):
        opt.update(params, g)
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        for k in range(len(params)):
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            expected[k] = expected[k] - lr_t * m[k] / (np.sqrt(v[k]) + epsilon)
        for p, e in zip(params, expected):
            np.testing.assert_allclose(p, e, rtol=1e-13, atol=1e-15)
    assert [id(p) for p in params] == ids  # updated in place


def test_adam_first_step_is_about_lr_times_sign():
    # With a tiny epsilon the first bias-corrected step is lr * sign(g).
    params = [np.zeros(5)]
    g = np.array([3.0, -0.2, 1e-3, -50.0, 0.7])
    Adam(params, 0.1, epsilon=1e-12).update(params, [g])
    np.testing.assert_allclose(params[0], -0.1 * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_three_steps_match_hand_formula(nesterov, momentum):
    params, grads = _params_and_grads(1)
    lr = 0.05
    expected = [p.copy() for p in params]
    vel = [np.zeros_like(p) for p in params]
    ids = [id(p) for p in params]
    opt = SGD(params, lr, momentum, nesterov)
    for g in grads:
        opt.update(params, g)
        for k in range(len(params)):
            vel[k] = momentum * vel[k] - lr * g[k]
            step = momentum * vel[k] - lr * g[k] if nesterov else vel[k]
            expected[k] = expected[k] + step
        for p, e in zip(params, expected):
            np.testing.assert_allclose(p, e, rtol=1e-13, atol=1e-15)
    assert [id(p) for p in params] == ids


def test_sgd_nesterov_differs_from_plain_momentum_on_second_step():
    p1, grads = _params_and_grads(2)
    p2 = [p.copy() for p in p1]
    a, b = SGD(p1, 0.1, 0.9, True), SGD(p2, 0.1, 0.9, False)
    for g in grads[:2]:
        a.update(p1, g)
        b.update(p2, g)
    assert not np.allclose(p1[0], p2[0])


def test_sgd_without_momentum_is_plain_gradient_step():
    params, grads = _params_and_grads(3)
    start = [p.copy() for p in params]
    SGD(params, 0.3, momentum=0.0).update(params, grads[0])
    for p, s, g in zip(params, start, grads[0]):
        np.testing.assert_allclose(p, s - 0.3 * g, rtol=1e-14)


def test_make_optimizer_uses_the_estimator_settings():
    params = [np.zeros(2)]
    est = SimpleNamespace(solver="sgd", momentum=0.3, nesterovs_momentum=False,
                          beta_1=0.5, beta_2=0.6, epsilon=1e-3,
                          learning_rate="invscaling", power_t=0.25)
    sgd = make_optimizer(est, params, 0.2)
    assert isinstance(sgd, SGD)
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov) == (0.2, 0.3, False)
    assert (sgd.lr_schedule, sgd.power_t) == ("invscaling", 0.25)
    est.solver = "adam"
    adam = make_optimizer(est, params, 0.2)
    assert isinstance(adam, Adam)
    assert (adam.learning_rate_init, adam.beta_1, adam.beta_2, adam.epsilon) == (
        0.2, 0.5, 0.6, 1e-3)


def test_adam_scales_equal_separate_optimizers_with_scaled_rates():
    # One Adam over [network, echo] with the echo's steps scaled by 1/tau equals
    # one Adam per group, the echo's at learning_rate / tau (to rounding; the
    # network's part bit for bit).
    rng = np.random.RandomState(3)
    net = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    echo = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    fused_params = [p.copy() for p in net + echo]
    net_p, echo_p = [p.copy() for p in net], [p.copy() for p in echo]
    fused = Adam(fused_params, 0.01, scales=[1, 1, 0.25, 0.25])
    a, b = Adam(net_p, 0.01), Adam(echo_p, 0.01 * 0.25)
    for _ in range(4):
        grads = [rng.standard_normal(p.shape) for p in net + echo]
        fused.update(fused_params, grads)
        a.update(net_p, grads[:2])
        b.update(echo_p, grads[2:])
    for x, y in zip(fused_params[:2], net_p):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(fused_params[2:], echo_p):
        np.testing.assert_allclose(x, y, rtol=1e-14, atol=1e-15)
    assert not np.allclose(fused_params[2], echo[0])  # the echo moved
