"""
=====================================================
Grid search over td_gain and td_timescale
=====================================================

``td_gain`` and ``td_timescale`` are ordinary hyper-parameters, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them with
cross-validation. ``td_gain=0`` in the grid is the plain-learning ablation (its
row is the same for every ``td_timescale``, apart from the echo that then only
observes), so the search also tells whether iTDS helps on the data at hand.

The task is :func:`~sklearn.datasets.load_digits` with an
:class:`~sklearn_itds.ITDSReservoirClassifier` behind a
:class:`~sklearn.preprocessing.MinMaxScaler`, with 30 % of the labels replaced
by a wrong class. The cross-validation folds are scored on those noisy labels
(which is all a user would have); the best model is then scored on a clean
held-out test set.

Set ``SKLEARN_ITDS_QUICK=1`` for a 2 x 2 grid, 2 folds and a small reservoir.
The same search runs on a dask cluster with
``with joblib.parallel_backend("dask"): search.fit(X, y)``.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_itds import ITDSReservoirClassifier
from sklearn_itds.robustness import corrupt_labels

QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
# With the classifier's default decision echo, td_timescale is the number of
# passes over which a trial's echo averages the readout's decisions.
if QUICK:
    GAINS, TIMESCALES, CV, PARAMS = [0.0, 2.0], [1.0, 2.0], 2, dict(
        n_reservoir=60)
else:
    GAINS, TIMESCALES, CV, PARAMS = [0.0, 0.5, 1.0, 2.0, 4.0], [1.0, 2.0, 5.0], 3, dict(
        n_reservoir=200)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
y_noisy = corrupt_labels(y_train, 0.3, random_state=0)

pipe = make_pipeline(MinMaxScaler(), ITDSReservoirClassifier(random_state=0, **PARAMS))
grid = {"itdsreservoirclassifier__td_gain": GAINS,
        "itdsreservoirclassifier__td_timescale": TIMESCALES}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(CV, shuffle=True, random_state=0),
                      n_jobs=1)
search.fit(X_train, y_noisy)
best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
print("best parameters:", best)
print(f"best CV accuracy (noisy labels): {search.best_score_:.3f}")
print(f"clean test accuracy of the refitted best model: "
      f"{search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy for every pair (rows: td_gain, columns:
# td_timescale), with its standard deviation over folds.
mean = np.array(search.cv_results_["mean_test_score"]).reshape(len(GAINS), len(TIMESCALES))
std = np.array(search.cv_results_["std_test_score"]).reshape(len(GAINS), len(TIMESCALES))
fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
image = ax.imshow(mean, cmap="viridis", aspect="auto")
for i in range(len(GAINS)):
    for j in range(len(TIMESCALES)):
        ax.text(j, i, f"{mean[i, j]:.3f}\n± {std[i, j]:.3f}", ha="center", va="center",
                color="w" if mean[i, j] < mean.mean() else "k", fontsize=9)
ax.set_xticks(range(len(TIMESCALES)), [f"{t:g}" for t in TIMESCALES])
ax.set_yticks(range(len(GAINS)), [f"{g:g}" for g in GAINS])
ax.set_xlabel("td_timescale")
ax.set_ylabel("td_gain (0 = plain learning)")
ax.set_title(f"{CV}-fold CV accuracy on digits, 30 % noisy labels")
fig.colorbar(image, ax=ax, label="mean CV accuracy")
plt.show()
