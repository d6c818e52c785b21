"""
=======================================
Learning curves with and without iTDS
=======================================

An :class:`~sklearn_itds.ITDSMLPClassifier` learns the handwritten digits of
:func:`sklearn.datasets.load_digits`, with 30 % of the training labels
replaced by a wrong class (counter-trials). We train it with iTDS
(``td_gain=2``, the default) and without (``td_gain=0``, the ablation: plain
cross-entropy learning, update for update) and plot the per-epoch diagnostics
recorded in ``td_history_``:

- ``e_sup``, the mean supervised error ``|y - p|`` on the training labels;
- ``e_td``, the mean top-down error ``|p_echo - p|``: how far the output is
  from its slowly learned echo (with ``td_gain=0`` the echo still learns, as a
  passive observer, so the ablation records it too);
- the cosine between the two errors: positive when they reinforce, negative
  when they cancel.

Set ``SKLEARN_ITDS_QUICK=1`` to run with fewer epochs and one seed.
"""

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from sklearn_itds import ITDSMLPClassifier
from sklearn_itds.robustness import corrupt_labels

warnings.filterwarnings("ignore", category=ConvergenceWarning)
QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
N_EPOCHS = 8 if QUICK else 60
SEEDS = [0] if QUICK else [0, 1, 2]

X, y = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)

# %%
# Train both variants on the same corrupted labels, for several seeds.
histories = {0.0: [], 2.0: []}
scores = {0.0: [], 2.0: []}
for seed in SEEDS:
    y_noisy = corrupt_labels(y_train, 0.3, random_state=seed)
    for td_gain in histories:
        model = ITDSMLPClassifier(td_gain=td_gain, max_iter=N_EPOCHS,
                                  n_iter_no_change=N_EPOCHS, tol=0,
                                  random_state=seed)
        model.fit(X_train, y_noisy)
        histories[td_gain].append(model.td_history_)
        scores[td_gain].append(model.score(X_test, y_test))

for td_gain, values in scores.items():
    print(f"td_gain={td_gain}: clean test accuracy "
          f"{np.mean(values):.3f} +/- {np.std(values):.3f} over {len(values)} seed(s)")

# %%
# Plot the mean over seeds (shaded: min to max).
fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
labels = {0.0: "plain (td_gain=0)", 2.0: "iTDS (td_gain=2)"}
colors = {0.0: "tab:gray", 2.0: "tab:blue"}
panels = [("e_sup", "mean |e_sup| (training labels)"),
          ("e_td", "mean |e_td| = |echo - output|"),
          ("cosine", "cosine(e_sup, e_td)")]
for ax, (key, title) in zip(axes, panels):
    for td_gain, runs in histories.items():
        curves = np.array([h[key] for h in runs])
        epochs = np.arange(1, curves.shape[1] + 1)
        ax.plot(epochs, curves.mean(axis=0), color=colors[td_gain],
                label=f"{labels[td_gain]}, test acc {np.mean(scores[td_gain]):.3f}")
        ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0),
                        color=colors[td_gain], alpha=0.2)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
axes[2].axhline(0, color="k", lw=0.8)
axes[0].legend()
fig.suptitle("ITDSMLPClassifier on digits, 30 % counter-trials: td_history_")
plt.show()
