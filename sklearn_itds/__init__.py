"""scikit-learn estimators that learn with intrinsic Top-Down Stabilization (iTDS).

iTDS (Pilzak, Pennington & Thivierge, Nat Commun 17, 4164, 2026) adds to the
supervised error a top-down error between the network's output and a slowly
learned *echo* of that output. The rule lives in :mod:`sklearn_itds._itds`;
every estimator here calls it.
"""

from ._mlp import ITDSMLPClassifier
from ._reservoir_classifier import ITDSReservoirClassifier
from ._reservoir_regressor import ITDSReservoirRegressor

__version__ = "0.1.0"

__all__ = [
    "ITDSMLPClassifier",
    "ITDSReservoirClassifier",
    "ITDSReservoirRegressor",
    "__version__",
]
