"""Logic and memory tasks.

* ``xor``, ``and``, ``or``, ``parity3``: static Boolean functions (kind
  ``"classification"``); every bit pattern is repeated ``n_copies`` times with
  additive Gaussian noise of std ``noise`` and the rows are shuffled.
* ``delayed_xor``: XOR of two pulses separated in time, one 3-D sequence per
  sample (kind ``"sequence_classification"``).
* ``flipflop3`` and ``delayed_pulse``: input-driven targets on one long
  series, rows are time steps (kind ``"tracking"``: ``y[t]`` is a function
  of the inputs up to row ``t``, not a prediction of the input itself).
"""

import itertools

import numpy as np
from sklearn.utils import check_random_state

from ._base import as_column, check_float, check_int, resolve_n_train

_TRAIN_FRACTION = 0.75


def _boolean_task(rule, n_bits, random_state, n_copies, noise, title):
    """All ``2**n_bits`` patterns, ``n_copies`` noisy copies each, shuffled."""
    n_copies = check_int(n_copies, "n_copies", 1)
    noise = check_float(noise, "noise", 0.0)
    rng = check_random_state(random_state)
    patterns = np.array(list(itertools.product([0, 1], repeat=n_bits)))
    bits = np.repeat(patterns, n_copies, axis=0)
    order = rng.permutation(len(bits))
    bits = bits[order]
    X = bits + noise * rng.standard_normal(bits.shape)
    y = np.array([rule(row) for row in bits], dtype=int)
    description = (
        f"{title}: each of the {2 ** n_bits} patterns of {n_bits} bits in "
        f"{{0, 1}} appears n_copies={n_copies} times with additive i.i.d. "
        f"Gaussian noise of std noise={noise:g}; rows are shuffled (both "
        "seeded by random_state). y is the label computed on the noise-free "
        "bits. Static, i.i.d. samples: split with train_test_split."
    )
    return dict(X=X, y=y, n_train=None, description=description)


def xor(random_state=None, *, n_copies=25, noise=0.1):
    """Two-bit exclusive or, ``y = x1 XOR x2`` (100 samples by default).

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the noise and the row order.
    n_copies : int, default=25
        Copies of each of the 4 patterns.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the bits.

    Returns
    -------
    task : dict
        ``X`` ``(4 * n_copies, 2)``, ``y`` labels in {0, 1}.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> X, y = load_task("xor", random_state=0, noise=0.0, return_X_y=True)
    >>> bool(((X[:, 0] != X[:, 1]) == y).all())
    True
    """
    return _boolean_task(lambda b: b[0] ^ b[1], 2, random_state, n_copies,
                         noise, "XOR, y = x1 XOR x2")


def and_(random_state=None, *, n_copies=25, noise=0.1):
    """Two-bit conjunction, ``y = x1 AND x2``; options as in :func:`xor`.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> y = load_task("and", random_state=0).y
    >>> int(y.sum()), len(y)
    (25, 100)
    """
    return _boolean_task(lambda b: b[0] & b[1], 2, random_state, n_copies,
                         noise, "AND, y = x1 AND x2")


def or_(random_state=None, *, n_copies=25, noise=0.1):
    """Two-bit disjunction, ``y = x1 OR x2``; options as in :func:`xor`.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> y = load_task("or", random_state=0).y
    >>> int(y.sum()), len(y)
    (75, 100)
    """
    return _boolean_task(lambda b: b[0] | b[1], 2, random_state, n_copies,
                         noise, "OR, y = x1 OR x2")


def parity3(random_state=None, *, n_copies=25, noise=0.1):
    """Three-bit parity, ``y = (x1 + x2 + x3) mod 2`` (200 samples).

    Options as in :func:`xor`; ``X`` has shape ``(8 * n_copies, 3)``.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> X, y = load_task("parity3", random_state=0, noise=0.0,
    ...                  return_X_y=True)
    >>> bool((X.sum(axis=1) % 2 == y).all())
    True
    """
    return _boolean_task(lambda b: int(b.sum()) % 2, 3, random_state,
                         n_copies, noise, "3-bit parity, y = (x1+x2+x3) mod 2")


def delayed_xor(random_state=None, *, n_samples=200, n_steps=20, delay=5,
                noise=0.05):
    """XOR of two input pulses separated by ``delay`` steps.

    Each sample is a sequence of ``n_steps`` steps on one input channel: a
    pulse ``2 b1 - 1`` (i.e. -1 or +1) at step 2 and a pulse ``2 b2 - 1`` at
    step ``2 + delay``, zeros elsewhere, plus Gaussian noise of std
    ``noise`` on every step.  The label ``b1 XOR b2`` is to be read out
    after the whole sequence.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the bits and the noise.
    n_samples : int, default=200
        Number of sequences.
    n_steps : int, default=20
        Steps per sequence (at least ``delay + 4``).
    delay : int, default=5
        Steps between the two pulses (>= 1).
    noise : float, default=0.05
        Standard deviation of the additive noise.

    Returns
    -------
    task : dict
        ``X`` ``(n_samples, n_steps, 1)``, ``y`` labels in {0, 1}.

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("delayed_xor", random_state=0, noise=0.0)
    >>> X, y = task.X, task.y
    >>> X.shape
    (200, 20, 1)
    >>> bool(((X[:, 2, 0] * X[:, 7, 0] < 0) == y).all())
    True

    References
    ----------
    .. [1] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    delay = check_int(delay, "delay", 1)
    n_steps = check_int(n_steps, "n_steps", delay + 4)
    noise = check_float(noise, "noise", 0.0)
    rng = check_random_state(random_state)
    bits = rng.randint(0, 2, size=(n_samples, 2))
    X = noise * rng.standard_normal((n_samples, n_steps, 1))
    X[:, 2, 0] += 2 * bits[:, 0] - 1
    X[:, 2 + delay, 0] += 2 * bits[:, 1] - 1
    description = (
        "Delayed XOR: each sample is a sequence of n_steps steps on one "
        "input channel with a pulse 2 b1 - 1 at step 2 and a pulse 2 b2 - 1 "
        f"at step 2 + delay (delay={delay}), zeros elsewhere, plus Gaussian "
        f"noise of std noise={noise:g}; bits and noise are drawn from "
        "random_state. The label is b1 XOR b2, to be read out at the end of "
        "the sequence. X has shape (n_samples, n_steps, 1)."
    )
    return dict(X=X, y=bits[:, 0] ^ bits[:, 1], n_train=None,
                description=description)


def flipflop3(random_state=None, *, n_steps=2000, n_train=None,
              pulse_prob=0.02):
    """Three-bit flip-flop (Sussillo & Barak 2013).

    Three input channels carry sparse pulses: at every step each channel
    independently has a pulse with probability ``pulse_prob``, of sign +1 or
    -1 with equal probability, and is 0 otherwise.  Output channel ``j`` at
    step ``t`` is the sign of the most recent pulse on input channel ``j``
    at or before ``t`` (0 before the first pulse).

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the pulse times and signs.
    n_steps : int, default=2000
        Number of time steps (rows).
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.
    pulse_prob : float, default=0.02
        Per-step, per-channel pulse probability, in (0, 1].

    Returns
    -------
    task : dict
        ``X`` ``(n_steps, 3)`` pulses, ``y`` ``(n_steps, 3)`` held bits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("flipflop3", random_state=0)
    >>> task.X.shape, task.y.shape
    ((2000, 3), (2000, 3))
    >>> pulses = task.X != 0
    >>> bool((task.y[pulses] == task.X[pulses]).all())
    True

    References
    ----------
    .. [1] D. Sussillo and O. Barak, "Opening the black box: low-dimensional
       dynamics in high-dimensional recurrent neural networks", Neural
       Comput. 25, 626-649 (2013).
    .. [2] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps = check_int(n_steps, "n_steps", 2)
    n_train = resolve_n_train(n_train, n_steps, _TRAIN_FRACTION)
    pulse_prob = check_float(pulse_prob, "pulse_prob", 0.0, 1.0,
                             include_min=False)
    rng = check_random_state(random_state)
    is_pulse = rng.random_sample((n_steps, 3)) < pulse_prob
    signs = np.where(rng.random_sample((n_steps, 3)) < 0.5, -1.0, 1.0)
    X = np.where(is_pulse, signs, 0.0)
    # Row index of the latest pulse at or before t on each channel (-1: none).
    last = np.where(is_pulse, np.arange(n_steps)[:, None], -1)
    last = np.maximum.accumulate(last, axis=0)
    held = X[np.maximum(last, 0), np.arange(3)]
    y = np.where(last >= 0, held, 0.0)
    description = (
        "3-bit flip-flop: X has 3 input channels; at every step each channel "
        f"has, with probability pulse_prob={pulse_prob:g}, a pulse of sign +1 "
        "or -1 (equally likely) and is 0 otherwise (seeded by random_state). "
        "Output channel j at step t is the sign of the most recent pulse on "
        "input channel j at or before t, and 0 before its first pulse. Rows "
        "are time steps; y has shape (n_steps, 3) (Sussillo & Barak 2013)."
    )
    return dict(X=X, y=y, n_train=n_train, description=description)


def delayed_pulse(random_state=None, *, n_steps=2000, n_train=None,
                  delay=10, width=3):
    """Delayed-pulse timing: answer each input pulse ``delay`` steps later.

    The input is a single channel of 1-step unit pulses separated by random
    gaps drawn uniformly from ``{2 L, ..., 4 L}`` with ``L = delay + width``
    (so responses never overlap the next pulse).  The target is a unit
    pulse lasting ``width`` steps that starts exactly ``delay`` steps after
    each input pulse: ``y[t] = sum_{j=0..width-1} X[t - delay - j]``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the pulse times.
    n_steps : int, default=2000
        Number of time steps (rows).
    n_train : int, default=None
        Training rows; ``None`` means ``round(0.75 * n_steps)``.
    delay : int, default=10
        Steps from an input pulse to the start of its response (>= 1;
        ``n_steps`` must be at least ``3 * (delay + width)``).
    width : int, default=3
        Duration of the response pulse in steps (>= 1).

    Returns
    -------
    task : dict
        ``X`` ``(n_steps, 1)`` input pulses, ``y`` ``(n_steps,)`` responses.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.datasets import load_task
    >>> task = load_task("delayed_pulse", random_state=0, n_steps=200)
    >>> t0 = int(np.flatnonzero(task.X[:, 0])[0])
    >>> task.y[t0 + 9:t0 + 14].tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]

    References
    ----------
    .. [1] Pilzak, Pennington and Thivierge, Nat. Commun. 17, 4164 (2026).
    """
    n_steps = check_int(n_steps, "n_steps", 2)
    n_train = resolve_n_train(n_train, n_steps, _TRAIN_FRACTION)
    delay = check_int(delay, "delay", 1)
    width = check_int(width, "width", 1)
    rng = check_random_state(random_state)
    span = delay + width
    if n_steps < 3 * span:  # the first pulse comes before 2 span, its response by 3 span
        raise ValueError(f"Invalid option delay: delay + width = {span} needs "
                         f"n_steps >= {3 * span} for a pulse and its response to fit "
                         f"(got n_steps={n_steps}).")
    gaps = rng.randint(2 * span, 4 * span + 1, size=n_steps // (2 * span) + 1)
    onsets = rng.randint(0, 2 * span) + np.cumsum(gaps) - gaps[0]
    onsets = onsets[onsets < n_steps]
    x = np.zeros(n_steps)
    x[onsets] = 1.0
    y = np.convolve(x, np.ones(width))[:n_steps]  # pulse of `width` steps
    y = np.concatenate([np.zeros(delay), y])[:n_steps]  # shifted by `delay`
    description = (
        "Delayed pulse: one input channel with unit pulses of 1 step at "
        "random times (gaps uniform in {2L, ..., 4L}, L = delay + width, "
        f"seeded by random_state); the target is a unit pulse of width={width}"
        f" steps starting delay={delay} steps after each input pulse, i.e. "
        "y[t] = sum_{j=0..width-1} X[t - delay - j]. Rows are time steps."
    )
    return dict(X=as_column(x), y=y, n_train=n_train, description=description)
