"""Digit classification tasks: ``digits`` (8x8 images) and ``mnist1d``.

Both are static i.i.d. classification tasks (kind ``"classification"``,
``X`` 2-D, ``n_train=None``: split with ``train_test_split``) for the
:class:`ITDSMLPClassifier`.  Nothing is downloaded: ``digits`` ships with
scikit-learn and ``mnist1d`` is generated here.
"""

import numpy as np
from scipy.ndimage import gaussian_filter1d
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

from ._base import check_int


def digits(random_state=None, *, n_class=10):
    """UCI handwritten digits, 8x8 images flattened and scaled to [0, 1].

    Parameters
    ----------
    random_state : None
        Ignored: the data set is fixed.
    n_class : int, default=10
        Keep the digits ``0 .. n_class - 1`` (2 to 10).

    Returns
    -------
    task : dict
        ``X`` ``(n_samples, 64)`` pixel intensities divided by 16, ``y`` the
        digit (1797 samples for ``n_class=10``).

    Examples
    --------
    >>> from sklearn_itds.datasets import load_task
    >>> X, y = load_task("digits", return_X_y=True)
    >>> X.shape, float(X.min()), float(X.max())
    ((1797, 64), 0.0, 1.0)

    References
    ----------
    .. [1] E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten
       Digits", UCI Machine Learning Repository (1998); bundled with
       scikit-learn as :func:`sklearn.datasets.load_digits`.
    """
    n_class = check_int(n_class, "n_class", 2, 10)
    X, y = load_digits(n_class=n_class, return_X_y=True)
    description = (
        "Handwritten digits from sklearn.datasets.load_digits (bundled with "
        "scikit-learn, no download): 8x8 grey-level images flattened to 64 "
        "features; the 0..16 intensities are divided by 16 so X lies in "
        f"[0, 1]. Classes are the digits 0..{n_class - 1}."
    )
    return dict(X=X / 16.0, y=y, n_train=None, description=description)


# MNIST-1D digit templates, 12 points each (Greydanus 2020).
_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])

# Default arguments of the published recipe.
_PADDING = (36, 60)  # number of zeros appended, drawn uniformly (inclusive)
_SCALE_COEFF = 0.4  # amplitude factor drawn from 1 + 0.4 * U[-0.5, 0.5]
_MAX_TRANSLATION = 48  # circular shift drawn from {0, ..., 47}
_CORR_NOISE = 0.25  # std of the background noise before smoothing
_CORR_SIGMA = 2.0  # width (in samples) of the Gaussian smoothing
_IID_NOISE = 0.02  # std of the white noise added everywhere
_SHEAR_SCALE = 0.75  # slope drawn from 0.75 * U[-0.5, 0.5]
_FINAL_LENGTH = 40


def _normalised_templates():
    """Templates standardised, shifted to start (and end) at 0, divided by 6."""
    t = _TEMPLATES - _TEMPLATES.mean(axis=1, keepdims=True)
    t /= t.std(axis=1, keepdims=True)
    return (t - t[:, :1]) / 6.0


def _resample(values, length):
    """Linear interpolation of ``values`` onto ``length`` evenly spaced points."""
    old = np.linspace(0.0, 1.0, len(values))
    return np.interp(np.linspace(0.0, 1.0, length), old, values)


def _mnist1d_example(template, rng):
    """Distort one template into a length-40 example (see :func:`mnist1d`)."""
    long_length = len(template) + _PADDING[1]
    n_pad = rng.randint(_PADDING[0], _PADDING[1] + 1)
    signal = _resample(np.concatenate([template, np.zeros(n_pad)]), long_length)
    support = _resample(np.r_[np.ones(len(template)), np.zeros(n_pad)],
                        long_length) > 0
    signal *= 1.0 + _SCALE_COEFF * (rng.uniform() - 0.5)
    shift = rng.randint(_MAX_TRANSLATION)
    signal, support = np.roll(signal, shift), np.roll(support, shift)
    background = gaussian_filter1d(
        _CORR_NOISE * rng.standard_normal(long_length), _CORR_SIGMA)
    signal = np.where(support, signal, background)
    signal += _IID_NOISE * rng.standard_normal(long_length)
    slope = _SHEAR_SCALE * (rng.uniform() - 0.5)
    signal -= slope * np.linspace(-0.5, 0.5, long_length)
    return _resample(signal, _FINAL_LENGTH)


def mnist1d(random_state=None, *, n_samples=1000):
    """MNIST-1D, generated procedurally (no download, no mnist1d package).

    Follows the recipe of Greydanus (2020) with its default arguments.
    Each example starts from one of 10 fixed 12-point digit templates
    (standardised, shifted to start at 0, divided by 6) and is distorted:

    1. append ``p ~ U{36, ..., 60}`` zeros and linearly resample to 72
       points (a random dilation of the digit);
    2. multiply by ``1 + 0.4 (U[0, 1] - 0.5)`` (random scale);
    3. shift circularly by ``k ~ U{0, ..., 47}`` steps (translation);
    4. replace the zero background by correlated noise: white noise of std
       0.25 smoothed by a Gaussian filter of width 2 samples;
    5. add i.i.d. Gaussian noise of std 0.02 everywhere;
    6. shear: subtract ``c * linspace(-0.5, 0.5)`` with
       ``c = 0.75 (U[0, 1] - 0.5)``;
    7. linearly resample to 40 points.

    Finally the whole data set is centred and scaled to unit standard
    deviation (one global mean and std).  The classes are balanced
    (``n_samples // 10`` or one more each) and the rows shuffled.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds every distortion and the row order.
    n_samples : int, default=1000
        Number of examples (>= 10).  The published set has 5000 (4000 train,
        1000 test).

    Returns
    -------
    task : dict
        ``X`` ``(n_samples, 40)``, ``y`` digit labels 0..9.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.datasets import load_task
    >>> X, y = load_task("mnist1d", random_state=0, n_samples=100,
    ...                  return_X_y=True)
    >>> X.shape, np.bincount(y).tolist()
    ((100, 40), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10])

    References
    ----------
    .. [1] S. Greydanus, "Scaling down deep learning", arXiv:2011.14439
       (2020); S. Greydanus and D. Kobak, "Scaling down deep learning with
       MNIST-1D", ICML (2024).
    """
    n_samples = check_int(n_samples, "n_samples", 10)
    rng = check_random_state(random_state)
    templates = _normalised_templates()
    y = rng.permutation(np.arange(n_samples) % 10)
    X = np.stack([_mnist1d_example(templates[label], rng) for label in y])
    X = (X - X.mean()) / X.std()
    description = (
        "MNIST-1D (Greydanus 2020), generated procedurally with the "
        "published default recipe: one of 10 fixed 12-point digit templates "
        "is padded with 36..60 zeros and resampled to 72 points, scaled by "
        "1 + 0.4 U[-0.5, 0.5], shifted circularly by 0..47 steps, its "
        "background filled with Gaussian-smoothed noise (std 0.25, width 2), "
        "given i.i.d. noise (std 0.02), sheared by a random linear trend "
        "(slope 0.75 U[-0.5, 0.5]) and resampled to 40 points; the data set "
        "is then standardised globally. Balanced classes 0..9, rows "
        "shuffled, everything seeded by random_state."
    )
    return dict(X=X, y=y, n_train=None, description=description)
