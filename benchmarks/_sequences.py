"""The UCR/UEA archive datasets that ship inside sktime, as the estimators take them.

Development datasets (defaults are tuned on these only): JapaneseVowels,
BasicMotions, ItalyPowerDemand, with their official train/test splits. The
archive's other datasets that sktime ships are held out to judge the library.

Each loader returns ``X_train, y_train, X_test, y_test`` where ``X`` is a list of
``(n_steps_i, n_channels)`` arrays (JapaneseVowels has 7-26 steps) or a 3-D
array ``(n_samples, n_steps, n_channels)``; note that sktime's ``numpy3D`` is
``(n, channels, time)``.
"""

from functools import lru_cache

import numpy as np

DEVELOPMENT = ("JapaneseVowels", "BasicMotions", "ItalyPowerDemand")
HELD_OUT = ("ArrowHead", "GunPoint", "OSULeaf", "ACSF1", "PLAID", "UnitTest")


def _split(name, split):
    from sktime.datasets import load_UCR_UEA_dataset

    X, y = load_UCR_UEA_dataset(name, split=split, return_type="nested_univ")
    seqs = [np.column_stack([np.asarray(X.iloc[i, c], dtype=float)
                             for c in range(X.shape[1])]) for i in range(len(X))]
    if len({s.shape for s in seqs}) == 1:
        seqs = np.stack(seqs)
    return seqs, np.asarray(y)


@lru_cache(maxsize=None)
def load(name):
    """``X_train, y_train, X_test, y_test`` of an archive dataset shipped with sktime."""
    return (*_split(name, "train"), *_split(name, "test"))


def to_sktime(X):
    """The ``numpy3D`` (n, channels, time) layout sktime's classifiers take."""
    if isinstance(X, list):
        T = max(len(x) for x in X)  # pad at the end with the last value
        X = np.stack([np.vstack([x, np.repeat(x[-1:], T - len(x), axis=0)]) for x in X])
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1)))
