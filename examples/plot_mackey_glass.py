"""
=====================================================================
Mackey-Glass forecasting against a ridge echo-state baseline
=====================================================================

One-step prediction of the chaotic Mackey-Glass series
(``load_task("mackey_glass")``). We compare:

- :class:`~sklearn_itds.ITDSReservoirRegressor` in ``mode="sequential"``
  (rows are consecutive steps) with its other defaults: an online RLS
  readout that reads the reservoir state and the input, ``td_gain=0``,
  because iTDS did not improve regression in our measurements;
- the same estimator with an active iTDS term (``td_gain=1``,
  ``td_timescale=5``);
- the classical echo-state network: a fixed random reservoir followed by a
  closed-form :class:`~sklearn.linear_model.Ridge` readout, built as a
  scikit-learn :class:`~sklearn.pipeline.Pipeline`. The reservoir transformer
  below is a plain numpy implementation written for this example.

Test rows directly follow the training rows, and both models continue from
the reservoir state reached at the end of training.

Set ``SKLEARN_ITDS_QUICK=1`` for a smaller reservoir, a shorter series and one
seed.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
N_RESERVOIR = 100 if QUICK else 300
N_STEPS = 800 if QUICK else 2000
SEEDS = [0] if QUICK else [0, 1, 2]
WASHOUT = 100


class EchoStateFeatures(TransformerMixin, BaseEstimator):
    """Leaky tanh reservoir states; ``transform`` continues from ``fit``'s end.

    ``fit_transform`` drives the reservoir from the zero state and keeps the
    final state; ``transform`` starts from that state, so a test segment that
    follows the training segment needs no warm-up. The first ``washout``
    states of ``fit_transform`` are set to zero (no transient in the fit).
    """

    def __init__(self, n_reservoir=300, spectral_radius=0.9, density=0.1,
                 leak_rate=0.3, input_scaling=1.0, washout=0, random_state=None):
        self.n_reservoir = n_reservoir
        self.spectral_radius = spectral_radius
        self.density = density
        self.leak_rate = leak_rate
        self.input_scaling = input_scaling
        self.washout = washout
        self.random_state = random_state

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        X = np.asarray(X, dtype=float)
        rng = check_random_state(self.random_state)
        n = self.n_reservoir
        W = rng.uniform(-1, 1, (n, n)) * (rng.uniform(size=(n, n)) < self.density)
        W *= self.spectral_radius / np.max(np.abs(np.linalg.eigvals(W)))
        self.W_ = W
        self.W_in_ = rng.uniform(-self.input_scaling, self.input_scaling,
                                 (X.shape[1], n))
        self.state_ = np.zeros(n)
        S = self._run(X)
        S[:self.washout] = 0.0
        return S

    def transform(self, X):
        return self._run(np.asarray(X, dtype=float), keep_state=False)

    def _run(self, X, keep_state=True):
        x = self.state_.copy()
        S = np.empty((X.shape[0], self.n_reservoir))
        for t, u in enumerate(X @ self.W_in_):
            x = (1 - self.leak_rate) * x + self.leak_rate * np.tanh(x @ self.W_ + u)
            S[t] = x
        if keep_state:
            self.state_ = x
        return S


def nrmse(y_true, y_pred):
    return np.sqrt(np.mean((y_true - y_pred) ** 2)) / np.std(y_true)


task = load_task("mackey_glass", random_state=0, n_steps=N_STEPS)
n = task.n_train
X_train, y_train, X_test, y_test = task.X[:n], task.y[:n], task.X[n:], task.y[n:]

models = {
    "ITDSReservoirRegressor (sequential)": lambda seed: ITDSReservoirRegressor(
        n_reservoir=N_RESERVOIR, mode="sequential", washout=WASHOUT, random_state=seed),
    "ITDSReservoirRegressor, td_gain=1": lambda seed: ITDSReservoirRegressor(
        n_reservoir=N_RESERVOIR, mode="sequential", washout=WASHOUT, td_gain=1.0,
        td_timescale=5.0, random_state=seed),
    "Pipeline(reservoir, Ridge)": lambda seed: make_pipeline(
        EchoStateFeatures(n_reservoir=N_RESERVOIR, washout=WASHOUT, random_state=seed),
        Ridge(alpha=1e-4)),
}
errors = {name: [] for name in models}
predictions = {}
for seed in SEEDS:
    for name, make in models.items():
        model = make(seed).fit(X_train, y_train)
        y_pred = model.predict(X_test)
        errors[name].append(nrmse(y_test, y_pred))
        if seed == SEEDS[0]:
            predictions[name] = y_pred

for name, values in errors.items():
    print(f"{name:36s} test NRMSE {np.mean(values):.4f} +/- {np.std(values):.4f} "
          f"({len(values)} seed(s))")

# %%
# The first 200 test steps, and the test error of each model.
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained",
                         width_ratios=[2, 1])
shown = slice(0, min(200, y_test.size))
t = np.arange(n, n + y_test.size)[shown]
axes[0].plot(t, y_test[shown], color="k", lw=3, alpha=0.3, label="target")
styles = ["-", "--", ":"]
for (name, y_pred), style in zip(predictions.items(), styles):
    axes[0].plot(t, y_pred[shown], ls=style, lw=1.4, label=name)
axes[0].set_xlabel("time step")
axes[0].set_ylabel("x(t + 1)")
axes[0].set_title("One-step prediction on the test segment")
axes[0].legend(loc="lower left", fontsize=9)

names = list(errors)
values = np.array([errors[name] for name in names])
axes[1].bar(np.arange(len(names)), values.mean(axis=1), yerr=values.std(axis=1),
            capsize=4, color=["tab:blue", "tab:orange", "tab:green"])
axes[1].set_xticks(np.arange(len(names)),
                   ["iTDS reg.\n(td_gain=0)", "iTDS reg.\ntd_gain=1", "Pipeline\nRidge ESN"])
axes[1].set_yscale("log")
axes[1].set_ylabel("test NRMSE (log scale)")
axes[1].set_title(f"Test error, mean +/- std over {len(SEEDS)} seed(s)")
fig.suptitle("Mackey-Glass one-step forecasting")
plt.show()

# %%
# In our runs the online RLS readout with the default ``td_gain=0`` beats the
# ridge pipeline. That is not RLS against ridge: one RLS pass *is* ridge
# regression on its own rows, but the two models differ in everything else:
# the pipeline's reservoir is this example's own numpy transformer, built and
# scaled differently (spectral radius 0.9, leak 0.3, no bias), its readout
# does not read the input, and its penalty is ``alpha=1e-4``. (Appending the
# input to the pipeline's features roughly halves its error in our runs; the
# command line's ``sklearn-itds compare --task mackey_glass`` compares ridge
# and RLS on the *same* reservoir.) An active iTDS term
# (``td_gain=1``) makes the forecast worse: the bounded rule weighs the target
# by ``1 / (1 + td_gain)`` and pulls the one-pass fit toward the echo (see the
# printed NRMSE above). iTDS does not help this regression task.
