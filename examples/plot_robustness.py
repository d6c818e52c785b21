"""
====================================================================
Robustness curves against scikit-learn classifiers
====================================================================

:func:`sklearn_itds.robustness.robustness_curve` scores estimators on
``load_digits`` perturbed at several levels, over several seeds:

- **noise**: Gaussian noise of standard deviation ``level`` added to the test
  inputs (pixels scaled to [0, 1]);
- **rotation**: test images rotated by ``level`` degrees;
- **counter**: a fraction ``level`` of the *training* labels replaced by a
  wrong class (counter-trials), scored on clean test labels;
- **fgsm**: the fast gradient sign method with step ``level`` against each
  fitted model (estimators that cannot give input gradients are skipped with
  a warning).

We compare :class:`~sklearn_itds.ITDSMLPClassifier` with iTDS
(``td_gain=2``) and without (``td_gain=0``) to scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` and
:class:`~sklearn.linear_model.LogisticRegression`.
With ``td_gain=0`` the estimator follows ``MLPClassifier`` update for update,
so those two curves lie on top of each other.
Set ``SKLEARN_ITDS_QUICK=1`` for fewer samples, epochs, levels and seeds.
``robustness_curve(..., n_jobs=-1)`` runs the fits in parallel, and inside
``with joblib.parallel_backend("dask"):`` on a dask cluster.
"""

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sklearn_itds import ITDSMLPClassifier
from sklearn_itds.robustness import robustness_curve

warnings.filterwarnings("ignore", category=ConvergenceWarning)
QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
N_SAMPLES, EPOCHS, N_SEEDS = (500, 15, 1) if QUICK else (None, 60, 3)
LEVELS = {
    "noise": [0.0, 0.2, 0.4] if QUICK else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
    "rotation": [0, 15, 30] if QUICK else [0, 5, 10, 15, 20, 25, 30],
    "counter": [0.0, 0.4] if QUICK else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
    "fgsm": [0.0, 0.05, 0.1] if QUICK else [0.0, 0.02, 0.05, 0.08, 0.1, 0.15],
}
X, y = load_digits(return_X_y=True)
X, y = X[:N_SAMPLES] / 16.0, y[:N_SAMPLES]

estimators = {
    "iTDS MLP (td_gain=2)": ITDSMLPClassifier(td_gain=2.0, max_iter=EPOCHS),
    "same, td_gain=0": ITDSMLPClassifier(td_gain=0.0, max_iter=EPOCHS),
    "sklearn MLPClassifier": MLPClassifier(max_iter=EPOCHS),
    "LogisticRegression": LogisticRegression(max_iter=500),
}
records = []
for perturbation, levels in LEVELS.items():
    records += robustness_curve(estimators, X, y, perturbation=perturbation,
                                levels=levels, n_seeds=N_SEEDS, n_jobs=1)


def scores(perturbation, name, level=None):
    """Scores of the records matching ``perturbation``, ``name`` (and ``level``)."""
    return np.array([r["score"] for r in records if r["perturbation"] == perturbation
                     and r["estimator"] == name and (level is None or r["level"] == level)])


for perturbation, levels in LEVELS.items():
    for name in estimators:
        means = [scores(perturbation, name, level).mean() if scores(
            perturbation, name, level).size else np.nan for level in levels]
        print(f"{perturbation:9s} {name:24s}", " ".join(f"{m:.3f}" for m in means))

# %%
# Test accuracy against perturbation strength (mean, and +/- std over seeds).
titles = {"noise": "Gaussian input noise (std)", "rotation": "rotation (degrees)",
          "counter": "fraction of wrong training labels", "fgsm": "FGSM step eps"}
fig, axes = plt.subplots(1, 4, figsize=(16, 4.2), layout="constrained", sharey=True)
styles = {"iTDS MLP (td_gain=2)": ("tab:blue", "o", "-"),
          "same, td_gain=0": ("tab:gray", "s", "--"),
          "sklearn MLPClassifier": ("tab:orange", "^", ":"),
          "LogisticRegression": ("tab:green", "D", "-.")}
for ax, (perturbation, levels) in zip(axes, LEVELS.items()):
    for name, (color, marker, ls) in styles.items():
        if scores(perturbation, name).size == 0:   # skipped: no input gradient
            continue
        per_level = [scores(perturbation, name, level) for level in levels]
        ax.errorbar(levels, [v.mean() for v in per_level], [v.std() for v in per_level],
                    color=color, marker=marker, ls=ls, capsize=3, label=name)
    ax.set_title(perturbation)
    ax.set_xlabel(titles[perturbation])
    ax.grid(alpha=0.3)
axes[0].set_ylabel("clean-label test accuracy")
axes[0].legend(loc="lower left", fontsize=9)
fig.suptitle(f"Robustness on digits ({N_SEEDS} seed(s))")
plt.show()
