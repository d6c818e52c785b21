"""
==========================================================
FORCE-style autonomous generation of a sum of sines
==========================================================

A reservoir with output feedback (``output_feedback=True``) learns to produce
the four-sine target of Sussillo & Abbott (2009) with the online
recursive-least-squares (FORCE) readout of
:class:`~sklearn_itds.ITDSReservoirRegressor`. The input is a constant column
of ones: after training, the network runs on its own output and keeps
generating the pattern. ``spectral_radius=1.2`` puts the reservoir in the rich,
chaotic-like regime that FORCE learning tames.

During training the fed-back value is the network's own output (no teacher
forcing). ``predict`` continues from the state reached at the end of ``fit``.

Set ``SKLEARN_ITDS_QUICK=1`` for a smaller reservoir and a shorter signal.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from sklearn_itds import ITDSReservoirRegressor
from sklearn_itds.datasets import load_task

QUICK = os.environ.get("SKLEARN_ITDS_QUICK", "0") not in ("", "0")
N_RESERVOIR = 150 if QUICK else 300
N_STEPS = 720 if QUICK else 1200

task = load_task("sines4", n_steps=N_STEPS)
n = task.n_train
model = ITDSReservoirRegressor(n_reservoir=N_RESERVOIR, mode="sequential",
                               output_feedback=True, spectral_radius=1.2,
                               leak_rate=0.3, washout=100, random_state=0)
model.fit(task.X[:n], task.y[:n])
generated = model.predict(task.X[n:])      # autonomous: fed back its own output
mae = np.mean(np.abs(generated - task.y[n:]))
print(f"autonomous generation, {len(generated)} steps: MAE = {mae:.4f}")

# %%
# Target and output. Left of the dashed line the readout is learning (its
# a-priori output is not stored, so we show the target only); right of it the
# network generates the signal on its own.
t = np.arange(task.y.size)
fig, axes = plt.subplots(2, 1, figsize=(11, 6), layout="constrained",
                         sharex=True, height_ratios=[3, 1])
axes[0].plot(t, task.y, color="k", lw=2.5, alpha=0.35, label="target")
axes[0].plot(t[n:], generated, color="tab:red", lw=1.2,
             label=f"network output (autonomous), MAE {mae:.3f}")
axes[0].axvline(n, color="k", ls="--", lw=1)
axes[0].text(n - 10, 1.45, "training  ", ha="right", va="bottom")
axes[0].text(n + 10, 1.45, "autonomous generation", ha="left", va="bottom")
axes[0].set_ylabel("signal")
axes[0].set_ylim(-1.4, 2.0)
axes[0].legend(loc="upper left", ncol=2)
axes[0].set_title("ITDSReservoirRegressor with output feedback on sines4")
axes[1].plot(t[n:], generated - task.y[n:], color="tab:red")
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set_ylabel("output - target")
axes[1].set_xlabel("time step")
plt.show()
