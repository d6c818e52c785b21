"""Perturbations for robustness comparisons."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["corrupt_labels"]


def corrupt_labels(y, fraction, random_state=None):
    """Replace a fraction of labels by a different, randomly chosen class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
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
    y = np.asarray(y)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in [0, 1].")
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
