"""Smooth-signal generation tasks (FORCE-style, kind ``"generation"``).

Layout for every task here: ``X`` is a constant input column of ones with
shape ``(n_steps, 1)`` and ``y`` is the 1-D target signal.  An
:class:`ITDSReservoirRegressor` with ``output_feedback=True`` is trained on
rows ``[0, n_train)`` and must continue the pattern on its own on the rest.
Time is counted in steps: row ``k`` is time ``t = k`` (``dt = 1`` step),
except for ``lorenz``, whose step is ``dt`` model time units.
"""

import numpy as np
from scipy import signal
from scipy.integrate import solve_ivp
from sklearn.utils import check_random_state

from ._base import check_float, check_int, resolve_n_train

_TRAIN_FRACTION = 2 / 3


def _generation(y, n_train, description, **extra):
    """Package a generation task: constant input, signal target."""
    y = np.asarray(y, dtype=float)
    out = dict(X=np.ones((y.shape[0], 1)), y=y, n_train=n_train,
               description=description)
    out.update(extra)
    return out


def _steps(n_steps, n_train):
    n_steps = check_int(n_steps, "n_steps", 2)
    n_train = resolve_n_train(n_train, n_steps, _TRAIN_FRACTION)
    return n_steps, n_train


def sines4_signal(t):
    """Evaluate the four-sine target of Sussillo & Abbott (2009) at ``t``.

    ``f(t) = [1.3 sin(pi t/60) + 0.65 sin(2 pi t/60) + (1.3/6) sin(3 pi t/60)
    + (1.3/3) sin(4 pi t/60)] / 1.5``, with ``t`` in steps (period 120).
    """
    w = np.pi * np.asarray(t, dtype=float) / 60.0
    return (1.3 * np.sin(w) + 0.65 * np.sin(2 * w)
            + (1.3 / 6) * np.sin(3 * w) + (1.3 / 3) * np.sin(4 * w)) / 1.5


_SINES4_DOC = (
    "Four-sine periodic target: f(t) = [1.3 sin(pi t/60) + 0.65 sin(2 pi t/60)"
    " + (1.3/6) sin(3 pi t/60) + (1.3/3) sin(4 pi t/60)] / 1.5 sampled at "
    "t = 0, 1, ..., n_steps-1 (dt = 1 step, period 120 steps). X is a column "
    "of ones; train with output feedback on rows [0, n_train) and let the "
    "model generate the rest autonomously (Sussillo & Abbott 2009, Fig. 2)."
)


def sines4(random_state=None, *, n_steps=1200, n_train=None):
    """Four-sine periodic signal (deterministic; ``random_state`` unused).

    Parameters
    ----------
    random_state : None
        Ignored: the task is deterministic.
    n_steps : int, default=1200
        Number of time steps (10 periods of 120 steps).
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)`` (800).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y`` the signal ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("sines4", n_steps=240)
    >>> task.X.shape, task.y.shape, task.n_train
    ((240, 1), (240,), 160)
    >>> bool(abs(task.y[120] - task.y[0]) < 1e-12)  # period of 120 steps
    True

    References
    ----------
    .. [1] D. Sussillo and L. F. Abbott, "Generating coherent patterns of
       activity from chaotic neural networks", Neuron 63, 544-557 (2009).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    return _generation(sines4_signal(np.arange(n_steps)), n_train, _SINES4_DOC)


def sines4_noisy(random_state=None, *, n_steps=1200, n_train=None,
                 noise=0.05):
    """Four-sine signal plus i.i.d. Gaussian noise of std ``noise``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the noise.
    n_steps : int, default=1200
        Number of time steps.
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    noise : float, default=0.05
        Standard deviation of the additive noise (>= 0).

    Returns
    -------
    task : dict
        As :func:`sines4`, with the noisy target in ``y`` and the noise-free
        signal in the extra field ``y_clean``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("sines4_noisy", random_state=0, n_steps=240)
    >>> bool(0.03 < (task.y - task.y_clean).std() < 0.07)
    True

    References
    ----------
    .. [1] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    noise = check_float(noise, "noise", 0.0)
    rng = check_random_state(random_state)
    clean = sines4_signal(np.arange(n_steps))
    noisy = clean + noise * rng.standard_normal(n_steps)
    description = (
        _SINES4_DOC + f" Here y carries additive i.i.d. Gaussian noise of "
        f"standard deviation noise={noise:g} (seeded by random_state) on every "
        "row; the noise-free signal is in y_clean."
    )
    return _generation(noisy, n_train, description, y_clean=clean)


def sines16(random_state=None, *, n_steps=2400, n_train=None, period=240):
    """Seeded sum of 16 harmonic sines (a complex periodic pattern).

    ``f(t) = c * sum_{k=1..16} a_k sin(2 pi k t / period + phi_k)`` with
    ``a_k = u_k / k``, ``u_k ~ U[0.5, 1]``, ``phi_k ~ U[0, 2 pi)`` drawn from
    ``random_state`` and ``c`` chosen so that ``max |f| = 1``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the amplitudes and phases.
    n_steps : int, default=2400
        Number of time steps (10 periods).
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    period : int, default=240
        Fundamental period in steps (>= 32 so every harmonic is sampled
        at least twice per cycle).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y`` the signal ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("sines16", random_state=0)
    >>> round(float(abs(task.y).max()), 9)
    1.0

    References
    ----------
    .. [1] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    period = check_int(period, "period", 32)
    rng = check_random_state(random_state)
    k = np.arange(1, 17)
    amplitudes = rng.uniform(0.5, 1.0, size=16) / k
    phases = rng.uniform(0.0, 2 * np.pi, size=16)

    def f(t):
        arg = 2 * np.pi * np.outer(t, k) / period + phases
        return np.sin(arg) @ amplitudes

    scale = np.abs(f(np.arange(period))).max()
    y = f(np.arange(n_steps)) / scale
    description = (
        "Sum of 16 sines: f(t) = c * sum_{k=1..16} a_k sin(2 pi k t / period "
        "+ phi_k), a_k = u_k / k with u_k ~ U[0.5, 1] and phi_k ~ U[0, 2 pi) "
        "drawn from random_state, c normalising max|f| to 1; "
        f"period={period} steps, dt = 1 step. X is a column of ones; train "
        "with output feedback on rows [0, n_train) and generate the rest "
        "(Sussillo & Abbott 2009)."
    )
    return _generation(y, n_train, description)


def triangle(random_state=None, *, n_steps=1200, n_train=None, period=120):
    """Triangle wave in [-1, 1] (deterministic; ``random_state`` unused).

    Parameters
    ----------
    random_state : None
        Ignored.
    n_steps : int, default=1200
        Number of time steps.
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    period : int, default=120
        Period in steps (>= 4).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y`` the wave ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> y = load_task("triangle", period=4, n_steps=8).y
    >>> y.tolist()
    [-1.0, 0.0, 1.0, 0.0, -1.0, 0.0, 1.0, 0.0]

    References
    ----------
    .. [1] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    period = check_int(period, "period", 4)
    y = signal.sawtooth(2 * np.pi * np.arange(n_steps) / period, width=0.5)
    description = (
        "Triangle wave: y(t) = scipy.signal.sawtooth(2 pi t / period, "
        "width=0.5), rising linearly from -1 at t = 0 to +1 at t = period/2 "
        f"and back; period={period} steps, dt = 1 step. X is a column of "
        "ones; train with output feedback on rows [0, n_train) and generate "
        "the rest (Sussillo & Abbott 2009)."
    )
    return _generation(y, n_train, description)


def square(random_state=None, *, n_steps=1200, n_train=None, period=120):
    """Square wave of +-1 (deterministic; ``random_state`` unused).

    Parameters
    ----------
    random_state : None
        Ignored.
    n_steps : int, default=1200
        Number of time steps.
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    period : int, default=120
        Period in steps (>= 2).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y`` the wave ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> load_task("square", period=4, n_steps=8).y.tolist()
    [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0]

    References
    ----------
    .. [1] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    period = check_int(period, "period", 2)
    y = signal.square(2 * np.pi * np.arange(n_steps) / period)
    description = (
        "Square wave: y(t) = +1 for (t mod period) < period/2 and -1 "
        f"otherwise (scipy.signal.square); period={period} steps, dt = 1 "
        "step. X is a column of ones; train with output feedback on rows "
        "[0, n_train) and generate the rest (Sussillo & Abbott 2009)."
    )
    return _generation(y, n_train, description)


def two_timescale(random_state=None, *, n_steps=2400, n_train=None,
                  slow_period=480, fast_period=30):
    """Slow sine plus a fast sine (deterministic; ``random_state`` unused).

    ``f(t) = [sin(2 pi t / slow_period) + 0.5 sin(2 pi t / fast_period)] / 1.5``.

    Parameters
    ----------
    random_state : None
        Ignored.
    n_steps : int, default=2400
        Number of time steps (5 slow periods).
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    slow_period : int, default=480
        Period of the slow component in steps.
    fast_period : int, default=30
        Period of the fast component in steps (>= 3, < slow_period).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y`` the signal ``(n_steps,)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("two_timescale")
    >>> task.y.shape, bool(abs(task.y).max() <= 1.0)
    ((2400,), True)

    References
    ----------
    .. [1] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    fast_period = check_int(fast_period, "fast_period", 3)
    slow_period = check_int(slow_period, "slow_period", fast_period + 1)
    t = np.arange(n_steps)
    y = (np.sin(2 * np.pi * t / slow_period)
         + 0.5 * np.sin(2 * np.pi * t / fast_period)) / 1.5
    description = (
        "Two-timescale signal: f(t) = [sin(2 pi t / slow_period) + 0.5 "
        f"sin(2 pi t / fast_period)] / 1.5 with slow_period={slow_period} and "
        f"fast_period={fast_period} steps (dt = 1 step). X is a column of "
        "ones; train with output feedback on rows [0, n_train) and generate "
        "the rest."
    )
    return _generation(y, n_train, description)


_SIGMA, _RHO, _BETA = 10.0, 28.0, 8.0 / 3.0


def lorenz_rhs(t, state):
    """Right-hand side of the Lorenz system (sigma=10, rho=28, beta=8/3)."""
    x, y, z = state
    return [_SIGMA * (y - x), x * (_RHO - z) - y, x * y - _BETA * z]


def lorenz(random_state=None, *, n_steps=2000, n_train=None, dt=0.02):
    """Lorenz attractor, x component divided by 10.

    The Lorenz system ``x' = 10 (y - x)``, ``y' = x (28 - z) - y``,
    ``z' = x y - (8/3) z`` is integrated with
    :func:`scipy.integrate.solve_ivp` (DOP853, rtol = atol = 1e-9) from a
    seeded initial condition; the first 20 time units are discarded as a
    transient and the trajectory is then sampled every ``dt`` time units.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the initial condition, drawn uniformly from
        ``[-15, 15] x [-15, 15] x [5, 40]``.
    n_steps : int, default=2000
        Number of samples (40 time units at the default ``dt``).
    n_train : int, default=None
        Training rows; ``None`` means ``round(2/3 * n_steps)``.
    dt : float, default=0.02
        Sampling step in Lorenz time units (0 < dt <= 0.1).

    Returns
    -------
    task : dict
        ``X`` ones ``(n_steps, 1)``, ``y = x / 10`` ``(n_steps,)``, and the
        extra field ``trajectory``: the unscaled ``(x, y, z)`` states,
        shape ``(n_steps, 3)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("lorenz", random_state=0, n_steps=500)
    >>> task.trajectory.shape, bool(abs(task.y).max() < 2.5)
    ((500, 3), True)

    References
    ----------
    .. [1] E. N. Lorenz, "Deterministic nonperiodic flow", J. Atmos. Sci. 20,
       130-141 (1963).
    .. [2] Sussillo and Abbott, Neuron 63, 544-557 (2009).
    .. [3] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps, n_train = _steps(n_steps, n_train)
    dt = check_float(dt, "dt", 0.0, 0.1, include_min=False)
    rng = check_random_state(random_state)
    start = rng.uniform([-15.0, -15.0, 5.0], [15.0, 15.0, 40.0])
    transient = 20.0
    t_eval = transient + dt * np.arange(n_steps)
    sol = solve_ivp(lorenz_rhs, (0.0, t_eval[-1]), start, method="DOP853",
                    t_eval=t_eval, rtol=1e-9, atol=1e-9)
    trajectory = sol.y.T
    description = (
        "Lorenz attractor: x' = 10 (y - x), y' = x (28 - z) - y, "
        "z' = x y - (8/3) z, integrated with scipy.integrate.solve_ivp "
        "(DOP853, rtol = atol = 1e-9) from an initial condition drawn from "
        "random_state; 20 time units of transient are discarded and the "
        f"trajectory is sampled every dt={dt:g} time units. y = x / 10; the "
        "full state is in trajectory. X is a column of ones; train with "
        "output feedback on rows [0, n_train) and generate the rest."
    )
    return _generation(trajectory[:, 0] / 10.0, n_train, description,
                       trajectory=trajectory)
