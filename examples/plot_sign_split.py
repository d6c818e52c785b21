"""
================================================
Sign-split feedback, sparsity and a forced mask
================================================

With ``feedback_split=True`` the readout is ``W = W_pos - W_neg``, with both
parts non-negative: ``W_pos`` learns only from the positive part of the
stabilized error and ``W_neg`` only from its negative part, and both are
clipped at zero after every update. A weight is exactly zero when both of its
parts are.

We compare, on :func:`~sklearn.datasets.load_digits` with an
:class:`~sklearn_itds.ITDSReservoirClassifier`:

- the ordinary readout;
- the sign-split readout;
- a *forced-sparsity control*: the ordinary readout with a fixed random mask
  (``readout_sparsity``) holding the same fraction of weights at zero as the
  sign-split readout ended with.

The histograms show the readout weights (without the bias row); the legend
gives the fraction of exact zeros and the test accuracy (mean over seeds).

Set ``SKLEARN_ITDS_QUICK=1`` for a smaller reservoir, fewer epochs and one seed.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from sklearn_itds import ITDSReservoirClassifier

QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
# The per-row LMS readout with the learned echo, where the split was studied (the
# classifier's default, a closed-form ridge readout, has no per-row updates to split).
PARAMS = dict(n_reservoir=100 if QUICK else 300, max_iter=20 if QUICK else 150,
              learning_rule="lms", echo="learned", td_gain=1.0, td_timescale=20.0)
SEEDS = [0] if QUICK else [0, 1, 2]

X, y = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)


def readout_weights(model):
    """Readout weights without the bias row, flattened."""
    return model.readout_.W[:-1].ravel()


results = {"ordinary": [], "sign-split": [], "forced mask": []}
weights = {}
for seed in SEEDS:
    plain = ITDSReservoirClassifier(random_state=seed, **PARAMS).fit(X_train, y_train)
    split = ITDSReservoirClassifier(feedback_split=True, random_state=seed,
                                    **PARAMS).fit(X_train, y_train)
    zeros = np.mean(readout_weights(split) == 0)
    masked = ITDSReservoirClassifier(readout_sparsity=zeros, random_state=seed,
                                     **PARAMS).fit(X_train, y_train)
    for name, model in [("ordinary", plain), ("sign-split", split),
                        ("forced mask", masked)]:
        W = readout_weights(model)
        results[name].append((np.mean(W == 0), model.score(X_test, y_test)))
        if seed == SEEDS[0]:
            weights[name] = W

for name, values in results.items():
    zeros, acc = np.array(values).T
    print(f"{name:12s} zero weights {zeros.mean():.3f}  test accuracy "
          f"{acc.mean():.3f} +/- {acc.std():.3f} ({len(acc)} seed(s))")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
colors = {"ordinary": "tab:gray", "sign-split": "tab:blue", "forced mask": "tab:orange"}
limit = max(np.abs(W).max() for W in weights.values())
bins = np.linspace(-limit, limit, 61)
for name, W in weights.items():
    zeros, acc = np.array(results[name]).mean(axis=0)
    axes[0].hist(W, bins=bins, histtype="step", lw=1.8, color=colors[name],
                 label=f"{name}: {zeros:.0%} zeros, test acc {acc:.3f}")
axes[0].set_yscale("log")
axes[0].set_xlabel("readout weight")
axes[0].set_ylabel("count (log scale)")
axes[0].set_title(f"Readout weights (seed {SEEDS[0]})")
axes[0].legend(loc="upper right", fontsize=9)

names = list(results)
zeros = [np.mean([z for z, _ in results[n]]) for n in names]
accs = np.array([[a for _, a in results[n]] for n in names])
x = np.arange(len(names))
axes[1].bar(x - 0.2, zeros, width=0.4, color="tab:purple", label="fraction of zero weights")
axes[1].bar(x + 0.2, accs.mean(axis=1), width=0.4, yerr=accs.std(axis=1),
            color="tab:green", capsize=4, label="test accuracy")
for i in range(len(names)):
    axes[1].text(x[i] - 0.2, zeros[i] + 0.01, f"{zeros[i]:.2f}", ha="center", va="bottom")
    axes[1].text(x[i] + 0.2, accs[i].mean() + 0.02, f"{accs[i].mean():.3f}",
                 ha="center", va="bottom")
axes[1].set_xticks(x, names)
axes[1].set_ylim(0, 1.15)
axes[1].set_title("Sparsity and accuracy")
axes[1].legend(loc="upper left", fontsize=9)
fig.suptitle("ITDSReservoirClassifier on digits: sign-split feedback vs forced sparsity")
plt.show()
