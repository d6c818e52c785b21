"""Time-series prediction tasks (kinds ``"one_step"`` and ``"multi_step"``).

Layout: rows of ``X`` are consecutive time steps of ONE series, shape
``(n_steps, 1)``; ``y`` has shape ``(n_steps,)``.  Rows ``[0, n_train)``
are for training and the rest for testing (default ``n_train`` is 75 % of
the rows).  Use :class:`ITDSReservoirRegressor`.
"""

import numpy as np
from sklearn.utils import check_random_state

from ._base import as_column, check_int, resolve_n_train

_TRAIN_FRACTION = 0.75


def _rows(n_steps, n_train, min_steps=2):
    n_steps = check_int(n_steps, "n_steps", min_steps)
    return n_steps, resolve_n_train(n_train, n_steps, _TRAIN_FRACTION)


def mackey_glass_series(n_samples, x0, *, tau=17, substeps=10, transient=500):
    """Integrate the Mackey-Glass delay equation and sample it at unit time.

    ``dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)**10) - 0.1 x(t)`` is
    integrated with classical RK4 at step ``h = 1 / substeps`` on a history
    buffer holding the constant initial history ``x(t) = x0`` for
    ``t in [-tau, 0]``.  The delayed term at the RK4 half step is the
    average of the two neighbouring buffer values (linear interpolation).
    The first ``transient`` time units are discarded; the next ``n_samples``
    values at integer times are returned.
    """
    h = 1.0 / substeps
    lag = tau * substeps
    n_rk = (transient + n_samples - 1) * substeps

    def rate(x, x_delayed):
        return 0.2 * x_delayed / (1.0 + x_delayed ** 10) - 0.1 * x

    x = [float(x0)] * (lag + 1)
    for i in range(lag, lag + n_rk):
        d0, d1 = x[i - lag], x[i - lag + 1]
        d_half = 0.5 * (d0 + d1)
        xi = x[i]
        k1 = rate(xi, d0)
        k2 = rate(xi + 0.5 * h * k1, d_half)
        k3 = rate(xi + 0.5 * h * k2, d_half)
        k4 = rate(xi + h * k3, d1)
        x.append(xi + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))
    start = lag + transient * substeps
    return np.asarray(x[start::substeps], dtype=float)


_MG_DOC = (
    "Mackey-Glass series: dx/dt = 0.2 x(t-17) / (1 + x(t-17)^10) - 0.1 x(t), "
    "integrated with RK4 at step 0.1 from a constant initial history "
    "x0 ~ U[0.5, 1.3] drawn from random_state; 500 time units of transient "
    "are discarded and the series is sampled at unit time (one row per time "
    "unit). X[t] = x(t). "
)


def mackey_glass(random_state=None, *, n_steps=2000, n_train=None):
    """Mackey-Glass (tau=17) one-step prediction: ``y[t] = x(t + 1)``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the constant initial history ``x0 ~ U[0.5, 1.3]``.
    n_steps : int, default=2000
        Number of rows (time units).
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.

    Returns
    -------
    task : dict
        ``X`` the series ``(n_steps, 1)``, ``y`` the next value ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("mackey_glass", random_state=0, n_steps=300)
    >>> bool((task.y[:-1] == task.X[1:, 0]).all())
    True

    References
    ----------
    .. [1] M. C. Mackey and L. Glass, "Oscillation and chaos in physiological
       control systems", Science 197, 287-289 (1977).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _rows(n_steps, n_train)
    rng = check_random_state(random_state)
    series = mackey_glass_series(n_steps + 1, rng.uniform(0.5, 1.3))
    description = _MG_DOC + "One-step prediction: y[t] = x(t + 1)."
    return dict(X=as_column(series[:-1]), y=series[1:], n_train=n_train,
                description=description)


def mackey_glass_multistep(random_state=None, *, n_steps=2000, n_train=None,
                           horizon=10):
    """Mackey-Glass (tau=17) prediction ``horizon`` steps ahead.

    Same series as :func:`mackey_glass` for the same ``random_state``;
    ``y[t] = x(t + horizon)``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the constant initial history ``x0 ~ U[0.5, 1.3]``.
    n_steps : int, default=2000
        Number of rows (time units).
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.
    horizon : int, default=10
        Prediction horizon in time units (>= 1).

    Returns
    -------
    task : dict
        ``X`` the series ``(n_steps, 1)``, ``y`` the value ``horizon`` steps
        ahead ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("mackey_glass_multistep", random_state=0,
    ...                  n_steps=300, horizon=5)
    >>> bool((task.y[:-5] == task.X[5:, 0]).all())
    True

    References
    ----------
    .. [1] Mackey and Glass, Science 197, 287-289 (1977).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _rows(n_steps, n_train)
    horizon = check_int(horizon, "horizon", 1)
    rng = check_random_state(random_state)
    series = mackey_glass_series(n_steps + horizon, rng.uniform(0.5, 1.3))
    description = _MG_DOC + (
        f"Multi-step prediction: y[t] = x(t + horizon), horizon={horizon}."
    )
    return dict(X=as_column(series[:n_steps]), y=series[horizon:],
                n_train=n_train, description=description)


def narma10_response(u):
    """Run the NARMA10 recurrence on the input ``u`` (zero initial state).

    Returns ``out`` with ``out[t] = y(t + 1)``, where
    ``y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i)
    + 1.5 u(t-9) u(t) + 0.1`` and ``y(t) = 0`` for ``t < 10``.
    """
    n = len(u)
    y = np.zeros(n + 1)
    for t in range(9, n):
        y[t + 1] = (0.3 * y[t] + 0.05 * y[t] * y[t - 9:t + 1].sum()
                    + 1.5 * u[t - 9] * u[t] + 0.1)
    return y[1:]


def narma10(random_state=None, *, n_steps=2000, n_train=None):
    """NARMA10 system identification.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the input ``u(t) ~ U[0, 0.5]``.
    n_steps : int, default=2000
        Number of rows (after a 200-step washout, which is dropped).
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.

    Returns
    -------
    task : dict
        ``X[t] = u(t)`` ``(n_steps, 1)``, ``y[t] = y(t + 1)`` ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("narma10", random_state=0, n_steps=500)
    >>> u, y = task.X[:, 0], task.y
    >>> t = 100  # y[t] = y(t+1) from y(t) = y[t-1] and the inputs
    >>> rhs = 0.3*y[t-1] + 0.05*y[t-1]*y[t-10:t].sum() + 1.5*u[t-9]*u[t] + 0.1
    >>> bool(abs(y[t] - rhs) < 1e-12)
    True

    Notes
    -----
    The recurrence diverges for rare input draws; such a draw is discarded
    and a new input is drawn from the same generator (still deterministic
    for a given ``random_state``).

    References
    ----------
    .. [1] A. F. Atiya and A. G. Parlos, "New results on recurrent network
       training: unifying the algorithms and accelerating convergence",
       IEEE Trans. Neural Netw. 11, 697-709 (2000).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _rows(n_steps, n_train)
    rng = check_random_state(random_state)
    washout = 200
    for _ in range(100):
        u = rng.uniform(0.0, 0.5, size=n_steps + washout)
        out = narma10_response(u)
        if np.all(np.isfinite(out)) and np.abs(out).max() < 10.0:
            break
    else:  # pragma: no cover - practically unreachable
        raise RuntimeError("NARMA10 diverged for 100 input draws.")
    description = (
        "NARMA10: y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + "
        "1.5 u(t-9) u(t) + 0.1 with i.i.d. input u(t) ~ U[0, 0.5] drawn from "
        "random_state and y = 0 initially; the first 200 steps are dropped. "
        "X[t] = u(t) and y[t] = y(t+1), so the target at row t depends on "
        "the inputs up to and including row t (Atiya & Parlos 2000)."
    )
    return dict(X=as_column(u[washout:]), y=out[washout:], n_train=n_train,
                description=description)


#: Angular frequencies of the multiple superimposed oscillator benchmark.
MSO_FREQUENCIES = (0.2, 0.311, 0.42, 0.51, 0.63, 0.74, 0.85, 0.97)


def mso(random_state=None, *, n_steps=1000, n_train=None, n_oscillators=2):
    """Multiple superimposed oscillators, one-step prediction.

    ``x(t) = sum_{k=1..n_oscillators} sin(alpha_k t)`` with
    ``alpha = (0.2, 0.311, 0.42, 0.51, 0.63, 0.74, 0.85, 0.97)``,
    ``t = 0, 1, 2, ...``; ``X[t] = x(t)``, ``y[t] = x(t + 1)``.

    Parameters
    ----------
    random_state : None
        Ignored: the task is deterministic.
    n_steps : int, default=1000
        Number of rows.
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.
    n_oscillators : int, default=2
        Number of superimposed sines, 1 to 8 (MSO1 ... MSO8).

    Returns
    -------
    task : dict
        ``X`` the series ``(n_steps, 1)``, ``y`` the next value ``(n_steps,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("mso", n_steps=10, n_oscillators=2)
    >>> bool(np.isclose(task.y[0], np.sin(0.2) + np.sin(0.311)))
    True

    References
    ----------
    .. [1] H. Jaeger, M. Lukosevicius, D. Popovici and U. Siewert, "Optimization
       and applications of echo state networks with leaky-integrator neurons",
       Neural Networks 20, 335-352 (2007).
    """
    n_steps, n_train = _rows(n_steps, n_train)
    n_osc = check_int(n_oscillators, "n_oscillators", 1, len(MSO_FREQUENCIES))
    t = np.arange(n_steps + 1)
    series = np.sin(np.outer(t, MSO_FREQUENCIES[:n_osc])).sum(axis=1)
    description = (
        f"Multiple superimposed oscillators (MSO{n_osc}): x(t) = "
        "sum_{k=1..n_oscillators} sin(alpha_k t), alpha = (0.2, 0.311, 0.42, "
        "0.51, 0.63, 0.74, 0.85, 0.97), t = 0, 1, 2, ...; one-step "
        "prediction with X[t] = x(t) and y[t] = x(t + 1)."
    )
    return dict(X=as_column(series[:-1]), y=series[1:], n_train=n_train,
                description=description)
