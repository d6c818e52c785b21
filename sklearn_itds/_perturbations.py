"""Perturbations of inputs and targets, each a plain seeded function.

Public through :mod:`sklearn_itds.robustness`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _mlp_base
from ._mlp import ITDSMLPClassifier

__all__ = ["corrupt_labels", "corrupt_targets", "fgsm", "gaussian_noise",
           "input_gradient", "rotate_images", "supports_input_gradient"]

_SUPPORTED = ("ITDSMLPClassifier, sklearn's MLPClassifier, or a Pipeline of "
              "StandardScaler/MinMaxScaler(clip=False)/MaxAbsScaler/'passthrough' "
              "steps ending in one of them")


def _check_fraction(fraction):
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in [0, 1].")


def corrupt_labels(y: ArrayLike, fraction: float,
                   random_state: int | np.random.RandomState | None = None) -> np.ndarray:
    """Replace a fraction of labels by a different, randomly chosen class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (one per sample; a multilabel indicator matrix is
        rejected).
    fraction : float in [0, 1]
        Fraction of samples whose label is replaced (counter-trials).
    random_state : int, RandomState instance or None

    Returns
    -------
    y_corrupted : ndarray of shape (n_samples,)
        A copy of ``y`` where ``round(fraction * n_samples)`` labels are
        replaced by another class, drawn uniformly among the other classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.robustness import corrupt_labels
    >>> y = np.repeat([0, 1, 2], 10)
    >>> int(np.sum(corrupt_labels(y, 0.3, random_state=0) != y))
    9
    """
    y = column_or_1d(y, warn=True)  # a column vector is fine; a matrix is not
    _check_fraction(fraction)
    rng = check_random_state(random_state)
    classes, index = np.unique(y, return_inverse=True)
    if classes.size < 2 and fraction > 0:
        raise ValueError("corrupt_labels needs at least 2 classes.")
    n_bad = int(round(fraction * y.size))
    bad = rng.permutation(y.size)[:n_bad]
    shift = rng.randint(1, classes.size, size=n_bad) if n_bad else np.array([], int)
    index = index.copy()
    index[bad] = (index[bad] + shift) % classes.size
    return classes[index]


def corrupt_targets(y: ArrayLike, fraction: float,
                    random_state: int | np.random.RandomState | None = None,
                    scale: float = 1.0) -> np.ndarray:
    """Replace a fraction of regression targets by unrelated values.

    The regression counter-trial: ``round(fraction * n_samples)`` rows, chosen
    uniformly without replacement, get a new target drawn independently from
    a normal distribution with the mean of ``y`` and ``scale`` times its
    standard deviation (per output column). The new targets thus have the
    magnitude of real ones but carry no information about the input.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Numeric targets.
    fraction : float in [0, 1]
        Fraction of rows whose target is replaced.
    random_state : int, RandomState instance or None, default=None
        Seed of the row choice and of the new values.
    scale : float, default=1.0
        Standard deviation of the new values, in units of the standard
        deviation of ``y`` (> 0).

    Returns
    -------
    y_corrupted : ndarray of the shape of ``y`` (float)
        A copy of ``y`` with the chosen rows replaced.

    Raises
    ------
    ValueError
        If ``fraction`` is outside [0, 1], ``scale <= 0``, ``y`` is not
        numeric or finite, or a column of ``y`` is constant (its corrupted
        rows could not differ from the original).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.robustness import corrupt_targets
    >>> y = np.linspace(0, 1, 20)
    >>> y_bad = corrupt_targets(y, 0.25, random_state=0)
    >>> int(np.sum(y_bad != y))
    5
    """
    _check_fraction(fraction)
    if not scale > 0:
        raise ValueError(f"scale={scale} must be > 0.")
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    y2 = check_array(y.reshape(len(y), -1), dtype=np.float64, ensure_min_samples=1,
                     input_name="y")
    rng = check_random_state(random_state)
    n_bad = int(round(fraction * len(y2)))
    out = y2.copy()
    if n_bad:
        std = y2.std(axis=0)
        if np.any(std == 0):
            raise ValueError("corrupt_targets needs non-constant targets: a column "
                             "of y is constant.")
        bad = rng.permutation(len(y2))[:n_bad]
        out[bad] = y2.mean(axis=0) + scale * std * rng.standard_normal((n_bad,
                                                                        y2.shape[1]))
    return out.reshape(y.shape)


def _dense_float(X, name="X"):
    """Dense float64, or float32 kept as it is."""
    return check_array(X, dtype=(np.float64, np.float32), accept_sparse=False,
                       input_name=name)


def gaussian_noise(X: ArrayLike, sigma: float,
                   random_state: int | np.random.RandomState | None = None) -> np.ndarray:
    """Add independent Gaussian noise of standard deviation ``sigma``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs (dense).
    sigma : float
        Noise standard deviation (>= 0), in the units of ``X``.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise.

    Returns
    -------
    X_noisy : ndarray of shape (n_samples, n_features)
        ``X + sigma * N(0, 1)`` (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.robustness import gaussian_noise
    >>> X_noisy = gaussian_noise(np.zeros((1000, 50)), 0.5, random_state=0)
    >>> round(float(X_noisy.std()), 2)
    0.5
    """
    if not sigma >= 0:
        raise ValueError(f"sigma={sigma} must be >= 0.")
    X = _dense_float(X)
    rng = check_random_state(random_state)
    return X + (sigma * rng.standard_normal(X.shape)).astype(X.dtype, copy=False)


def rotate_images(X: ArrayLike, angle: float, image_shape: tuple[int, ...] = (8, 8),
                  random_state: int | np.random.RandomState | None = None, *, order: int = 1) -> np.ndarray:
    """Rotate image-shaped inputs by ``angle`` degrees.

    Each row of ``X`` is reshaped to ``image_shape`` (C order), rotated
    counter-clockwise in the plane of its first two axes about its centre with
    :func:`scipy.ndimage.rotate` (``reshape=False``, pixels outside the
    original image are 0) and flattened back.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Flattened images, ``n_features == prod(image_shape)``.
    angle : float
        Rotation angle in degrees.
    image_shape : tuple of int, default=(8, 8)
        Shape of one image (``(8, 8)`` is ``load_digits``); 2-D, or 3-D with
        the channels last.
    random_state : None, int or RandomState, default=None
        Unused: the rotation is deterministic. Accepted so that every input
        perturbation has the signature ``f(X, level, random_state=...)``.
    order : int, default=1
        Spline interpolation order (0 to 5). Order 1 never overshoots the
        original pixel range; at multiples of 90 degrees every order is exact.

    Returns
    -------
    X_rotated : ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_itds.robustness import rotate_images
    >>> image = np.arange(16.0).reshape(4, 4)
    >>> rotated = rotate_images(image.reshape(1, -1), 90, image_shape=(4, 4))
    >>> bool(np.allclose(rotated.reshape(4, 4), np.rot90(image)))
    True
    """
    X = _dense_float(X)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
            or not 0 <= order <= 5:
        raise ValueError(f"order={order!r} must be an int from 0 to 5 (the spline "
                         f"order of scipy.ndimage.rotate).")
    shape = tuple(int(s) for s in np.atleast_1d(image_shape))
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"image_shape must be 2 or 3 positive ints, got {image_shape!r}.")
    if X.shape[1] != np.prod(shape):
        raise ValueError(
            f"X has {X.shape[1]} features but image_shape={shape} has "
            f"{int(np.prod(shape))} pixels; pass the image_shape of your images.")
    images = X.reshape((X.shape[0],) + shape)
    rotated = ndimage.rotate(images, float(angle), axes=(2, 1), reshape=False,
                             order=order, mode="constant", cval=0.0)
    return rotated.reshape(X.shape)


# -- input gradients and FGSM ---------------------------------------------------------
def _scaler_factor(step):
    """d(step.transform(x))/dx, a positive vector, for an exact linear scaler."""
    if step is None or step == "passthrough":
        return None
    if isinstance(step, StandardScaler):
        return None if step.scale_ is None else 1.0 / step.scale_
    if isinstance(step, MinMaxScaler) and not step.clip:
        return step.scale_
    if isinstance(step, MaxAbsScaler):
        return 1.0 / step.scale_
    raise TypeError(
        f"Cannot differentiate through pipeline step {type(step).__name__}: FGSM "
        f"supports {_SUPPORTED}.")


def supports_input_gradient(estimator: object) -> bool:
    """Whether :func:`input_gradient` (and so :func:`fgsm`) supports ``estimator``.

    Looks at the types only, so it works on unfitted estimators.

    Parameters
    ----------
    estimator : object

    Returns
    -------
    supported : bool

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn.svm import SVC
    >>> from sklearn_itds.robustness import supports_input_gradient
    >>> supports_input_gradient(MLPClassifier()), supports_input_gradient(SVC())
    (True, False)
    """
    if isinstance(estimator, Pipeline):
        try:
            for _, step in estimator.steps[:-1]:
                if not (step is None or step == "passthrough" or isinstance(
                        step, (StandardScaler, MaxAbsScaler))
                        or (isinstance(step, MinMaxScaler) and not step.clip)):
                    return False
        except ValueError:
            return False
        estimator = estimator.steps[-1][1]
    return isinstance(estimator, (ITDSMLPClassifier, MLPClassifier))


def _mlp_targets(model, y):
    """Encode labels ``y`` as the output targets of a fitted MLPClassifier."""
    classes = model.classes_
    y = np.asarray(y)
    if model.out_activation_ == "logistic" and y.ndim == 2:  # multilabel
        return y.astype(float)
    y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
    unknown = ~np.isin(y, classes)
    if unknown.any():
        raise ValueError(f"y contains labels {np.unique(y[unknown]).tolist()} not in "
                         f"the model's classes_ {classes.tolist()}.")
    if model.out_activation_ == "logistic":  # binary: one 0/1 column
        return (y == classes[1]).astype(float)[:, None]
    return (y[:, None] == classes[None, :]).astype(float)


def input_gradient(estimator: object, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Gradient of each sample's cross-entropy loss with respect to its input.

    Parameters
    ----------
    estimator : fitted estimator
        :class:`~sklearn_itds.ITDSMLPClassifier`,
        :class:`sklearn.neural_network.MLPClassifier` (through its ``coefs_``,
        ``intercepts_``, ``activation`` and ``out_activation_``), or a
        :class:`~sklearn.pipeline.Pipeline` whose steps before the final one of
        these are ``StandardScaler``, ``MinMaxScaler(clip=False)``,
        ``MaxAbsScaler`` or ``"passthrough"``: these are affine per feature, so
        the chain rule through them is exact.
    X : array-like of shape (n_samples, n_features)
        Inputs (dense), in the units the estimator receives.
    y : array-like of shape (n_samples,)
        True labels, among ``classes_`` (an indicator matrix for a multilabel
        ``MLPClassifier``).

    Returns
    -------
    grad : ndarray of shape (n_samples, n_features)
        ``d loss_i / d x_i``, where ``loss_i`` is the cross-entropy of sample
        ``i`` (softmax, or logistic for binary and multilabel
        ``MLPClassifier``) without the L2 penalty.

    Raises
    ------
    TypeError
        For an estimator that cannot give input gradients.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn_itds.robustness import input_gradient
    >>> X, y = load_iris(return_X_y=True)
    >>> model = MLPClassifier(max_iter=300, random_state=0).fit(X, y)
    >>> input_gradient(model, X[:5], y[:5]).shape
    (5, 4)
    """
    factor = None
    if isinstance(estimator, Pipeline):
        if not supports_input_gradient(estimator):
            raise TypeError(f"Unsupported pipeline {estimator!r}: FGSM supports "
                            f"{_SUPPORTED}.")
        check_is_fitted(estimator)
        X = _dense_float(X)
        for _, step in estimator.steps[:-1]:
            f = _scaler_factor(step)
            if f is not None:
                factor = f if factor is None else factor * f
        X = estimator[:-1].transform(X) if len(estimator) > 1 else X
        estimator = estimator.steps[-1][1]
    if isinstance(estimator, ITDSMLPClassifier):
        grad = estimator.input_gradient(X, y)
    elif isinstance(estimator, MLPClassifier):
        check_is_fitted(estimator)
        X = _dense_float(X)
        if X.shape[1] != estimator.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the model expects "
                             f"{estimator.n_features_in_}.")
        y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {len(y)}.")
        Y = _mlp_targets(estimator, y)
        grad = _mlp_base.input_gradient(X, Y, estimator.coefs_, estimator.intercepts_,
                                        estimator.activation, estimator.out_activation_)
    else:
        raise TypeError(f"{type(estimator).__name__} cannot give input gradients: "
                        f"FGSM supports {_SUPPORTED}.")
    return grad if factor is None else grad * factor


def fgsm(estimator: object, X: ArrayLike, y: ArrayLike, eps: float) -> np.ndarray:
    """Fast gradient sign method: move each input by ``eps`` up its loss gradient.

    Returns ``X + eps * sign(d loss / d X)`` (Goodfellow et al. 2015), the
    worst-case perturbation of max-norm ``eps`` to first order. Features whose
    gradient is exactly zero are not moved. No clipping is applied.

    Parameters
    ----------
    estimator : fitted estimator
        Any estimator supported by :func:`input_gradient`.
    X : array-like of shape (n_samples, n_features)
        Clean inputs (dense).
    y : array-like of shape (n_samples,)
        True labels.
    eps : float
        Perturbation size (>= 0) in the units of ``X``.

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)

    Raises
    ------
    TypeError
        For an estimator that cannot give input gradients.

    References
    ----------
    .. [1] Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial
       examples", ICLR (2015).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_itds import ITDSMLPClassifier
    >>> from sklearn_itds.robustness import fgsm
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> model = ITDSMLPClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> X_adv = fgsm(model, X, y, 0.1)
    >>> round(float(np.abs(X_adv - X).max()), 12)
    0.1
    >>> bool(model.score(X_adv, y) < model.score(X, y))
    True
    """
    if not eps >= 0:
        raise ValueError(f"eps={eps} must be >= 0.")
    X = _dense_float(X)
    return X + eps * np.sign(input_gradient(estimator, X, y))
