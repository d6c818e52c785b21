"""Make the figures of docs/method.rst (one per property P1-P6) from real runs.

Usage (from the repository root; about 10 minutes on 2 busy cores)::

    python docs/make_method_figures.py

Writes ``docs/images/method_p1.png`` ... ``method_p6.png`` and the numbers
quoted in method.rst to ``docs/images/method_results.json``. Seeds 0, 1, 2.
``python docs/make_method_figures.py p3 p5`` reruns some figures only (the
others' numbers are kept from the JSON).

The reservoir classifier runs in the setting docs/readings.rst calls
"reservoir (LMS)" (``benchmarks/bench_readings.py``, ``RESERVOIR_LMS``), with
200 units: see ``RES`` below.
"""

import copy
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from sklearn_itds import (ITDSMLPClassifier, ITDSReservoirClassifier,  # noqa: E402
                          ITDSReservoirRegressor)
from sklearn_itds.datasets import load_task  # noqa: E402
from sklearn_itds.robustness import corrupt_labels  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_readings import RESERVOIR_LMS, reservoir_plain_twin  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
OUT = Path(__file__).resolve().parent / "images"
OUT.mkdir(exist_ok=True)
SEEDS = [0, 1, 2]
RESULTS = {}

X, y = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
# The method page describes the rule with a *learned* echo readout Wbar, so the
# reservoir figures pin the classifier's per-row normalized-LMS readout with the
# learned echo (RESERVOIR_LMS: td_gain=1, td_timescale=20, eta=0.05, 150 passes,
# input/bias scaling 0.3/0.2, density 0.1, float64; "reservoir (LMS)" on
# docs/readings.rst), not its defaults (the ridge readout with the decision echo,
# whose evidence is on docs/readings.rst and docs/results.rst). 200 units, as
# these figures always had; all 150 passes of the setting (the earlier 5 and 10
# passes were sized for a slower per-step classifier: after 10 LMS passes plain
# learning has not yet fitted the wrong labels that P5 and P6 are about).
RES = dict(RESERVOIR_LMS, n_reservoir=200)
G = RES["td_gain"]  # the iTDS gain of every reservoir-classifier figure


def mean_std(values):
    return [float(np.mean(values)), float(np.std(values))]


def save(fig, name):
    fig.savefig(OUT / name, dpi=90)
    plt.close(fig)
    print("wrote", OUT / name, flush=True)


# P1: the echo tracks the output, at a lag set by td_timescale -------------------
def p1():
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    RESULTS["p1"] = {}
    for ts, color in zip([1.0, 5.0, 25.0], ["tab:green", "tab:blue", "tab:purple"]):
        hist = [ITDSReservoirClassifier(**dict(RES, td_timescale=ts), random_state=s
                                        ).fit(X_train, y_train).td_history_
                for s in SEEDS]
        e_sup = np.mean([h["e_sup"] for h in hist], axis=0)
        ratio = np.mean([h["td_ratio"] for h in hist], axis=0)
        epochs = np.arange(1, e_sup.size + 1)
        axes[0].plot(epochs, e_sup, color=color, label=f"td_timescale={ts:g}")
        axes[1].plot(epochs, ratio, color=color, label=f"td_timescale={ts:g}")
        RESULTS["p1"][f"td_ratio_last_ts{ts:g}"] = float(ratio[-1])
        RESULTS["p1"][f"td_ratio_epoch10_ts{ts:g}"] = float(ratio[9])
        RESULTS["p1"][f"td_ratio_range_ts{ts:g}"] = [float(ratio.min()), float(ratio.max())]
        RESULTS["p1"][f"e_sup_epoch1_last_ts{ts:g}"] = [float(e_sup[0]), float(e_sup[-1])]
    RESULTS["p1"]["n_epochs"] = int(e_sup.size)
    axes[0].set_title("supervised error mean |y - z|")
    axes[1].set_title("top-down error relative to it, |d - z| / |y - z|")
    for ax in axes:
        ax.set_xlabel("epoch (LMS pass)")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right")  # same colours in both panels
    fig.suptitle(f"P1 - ITDSReservoirClassifier, LMS readout with the learned echo "
                 f"(td_gain={G:g}), on clean digits (mean of 3 seeds)\n"
                 f"the echo d tracks the output z; a slower echo lags more")
    save(fig, "method_p1.png")


# P2: reinforcement early, fading later; learning speed -----------------------
def p2():
    runs = {}
    for gain in [0.0, 2.0]:
        runs[gain] = [ITDSMLPClassifier(td_gain=gain, max_iter=30, tol=0,
                                        n_iter_no_change=30, random_state=s
                                        ).fit(X_train, y_train).td_history_
                      for s in SEEDS]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    colors = {0.0: "tab:gray", 2.0: "tab:blue"}
    for gain, hist in runs.items():
        label = "plain (td_gain=0)" if gain == 0 else "iTDS (td_gain=2)"
        for ax, key in zip(axes, ["e_sup", "cosine", "td_ratio"]):
            curves = np.array([h[key] for h in hist])
            epochs = np.arange(1, curves.shape[1] + 1)
            ax.plot(epochs, curves.mean(axis=0), color=colors[gain], label=label)
            ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0),
                            color=colors[gain], alpha=0.2)
    for ax, title in zip(axes, ["mean |e_sup| (training)", "cosine(e_sup, e_td)",
                                "|e_td| / |e_sup|"]):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[1].axhline(0, color="k", lw=0.8)
    axes[0].set_yscale("log")
    axes[0].legend()
    fig.suptitle("P2 - ITDSMLPClassifier on clean digits (3 seeds, min-max shaded)")
    save(fig, "method_p2.png")
    RESULTS["p2"] = {
        f"gain{g:g}": {
            "e_sup_epoch1": mean_std([h["e_sup"][0] for h in hist]),
            "e_sup_epoch5": mean_std([h["e_sup"][4] for h in hist]),
            "e_sup_epoch30": mean_std([h["e_sup"][-1] for h in hist]),
            "cosine_epoch1": mean_std([h["cosine"][0] for h in hist]),
            "cosine_epoch30": mean_std([h["cosine"][-1] for h in hist]),
            "td_ratio_epoch1": mean_std([h["td_ratio"][0] for h in hist]),
            "td_ratio_epoch30": mean_std([h["td_ratio"][-1] for h in hist]),
        } for g, hist in runs.items()}


# P3: the update on a counter-trial -----------------------------------------------
def p3():
    rng = np.random.RandomState(0)
    n_probe = 100
    probe = rng.choice(len(X_test), n_probe, replace=False)
    wrong = (y_test[probe] + rng.randint(1, 10, n_probe)) % 10
    data = {}
    # On the same weights: the iTDS model's would-be step over that of a copy
    # whose readout is plain at the matched rate eta / (1 + td_gain)
    # (bench_readings.reservoir_plain_twin), per probe digit.
    same = {"consistent": [], "counter": []}
    same_means = {"consistent": [], "counter": []}
    for gain in [0.0, G]:
        change = {"consistent": [], "counter": []}
        cosine = {"consistent": [], "counter": []}
        for s in SEEDS:
            model = ITDSReservoirClassifier(**dict(RES, td_gain=gain), random_state=s
                                            ).fit(X_train, y_train)
            twin = reservoir_plain_twin(model) if gain else None
            for kind, labels in [("consistent", y_test[probe]), ("counter", wrong)]:
                if gain:
                    steps = model.td_step_norms(X_test[probe], labels)
                    plain = twin.td_step_norms(X_test[probe], labels)
                    same[kind].extend(steps / plain)
                    same_means[kind].append(float(steps.mean() / plain.mean()))
                for i, label in zip(probe, labels):
                    probe_model = copy.deepcopy(model)
                    probe_model.partial_fit(X_test[i:i + 1], [label])
                    change[kind].append(probe_model.td_history_["weight_change"][-1])
                    cosine[kind].append(probe_model.td_history_["cosine"][-1])
        data[gain] = (change, cosine)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained",
                             width_ratios=[2, 2, 1.2])
    positions, ticks = [], []
    RESULTS["p3"] = {"td_gain": G}
    for k, (gain, (change, cosine)) in enumerate(data.items()):
        name = "plain" if gain == 0 else "iTDS"
        for j, kind in enumerate(["consistent", "counter"]):
            pos = 3 * k + j
            color = "tab:gray" if gain == 0 else "tab:blue"
            for ax, values in zip(axes, [change[kind], cosine[kind]]):
                parts = ax.violinplot([values], [pos], showmedians=True)
                for body in parts["bodies"]:
                    body.set_facecolor(color)
            positions.append(pos)
            ticks.append(f"{name}\n{kind}")
            RESULTS["p3"][f"{name}_{kind}"] = {
                "weight_change_median": float(np.median(change[kind])),
                "cosine_median": float(np.median(cosine[kind]))}
        RESULTS["p3"][f"{name}_counter_over_consistent"] = float(
            np.median(change["counter"]) / np.median(change["consistent"]))
    for ax, title in zip(axes, ["size of the readout update (two trained models)",
                                "cosine(e_sup, e_td)"]):
        ax.set_xticks(positions, ticks)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1].axhline(0, color="k", lw=0.8)
    for j, kind in enumerate(["consistent", "counter"]):
        parts = axes[2].violinplot([same[kind]], [j], showmedians=True)
        for body in parts["bodies"]:
            body.set_facecolor("tab:blue")
        RESULTS["p3"][f"same_weights_{kind}"] = {
            "median": float(np.median(same[kind])),
            "range": [float(np.min(same[kind])), float(np.max(same[kind]))],
            "mean_step_over_mean_plain": mean_std(same_means[kind])}
    axes[2].axhline(1, color="k", lw=0.8)
    axes[2].set_xticks([0, 1], ["iTDS\nconsistent", "iTDS\ncounter"])
    axes[2].set_title("iTDS step / plain step,\nsame weights (plain at eta/(1+g))")
    axes[2].grid(alpha=0.3)
    fig.suptitle("P3 - one update on a test digit with its true label (consistent) or a "
                 "wrong one (counter-trial)\nITDSReservoirClassifier, LMS readout with "
                 f"the learned echo (td_gain={G:g}), trained {RES['max_iter']} passes on "
                 "clean digits; 100 digits x 3 seeds; bars: median and range")
    save(fig, "method_p3.png")


# P4: robustness to counter-trials and to input noise ------------------------
def p4():
    fractions = [0.0, 0.2, 0.4]
    noise_levels = [0.0, 0.1, 0.2, 0.3]
    acc = {g: np.zeros((len(SEEDS), len(fractions))) for g in [0.0, 2.0]}
    noisy_acc = {g: np.zeros((len(SEEDS), len(noise_levels))) for g in [0.0, 2.0]}
    for i, s in enumerate(SEEDS):
        for j, frac in enumerate(fractions):
            labels = corrupt_labels(y_train, frac, random_state=s)
            for gain in acc:
                model = ITDSMLPClassifier(td_gain=gain, max_iter=60, random_state=s)
                model.fit(X_train, labels)
                acc[gain][i, j] = model.score(X_test, y_test)
                if frac == 0:
                    rng = np.random.RandomState(100 + s)
                    for k, sigma in enumerate(noise_levels):
                        Xn = X_test + sigma * rng.standard_normal(X_test.shape)
                        noisy_acc[gain][i, k] = model.score(Xn, y_test)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for gain, color in [(0.0, "tab:gray"), (2.0, "tab:blue")]:
        label = "plain (td_gain=0)" if gain == 0 else "iTDS (td_gain=2)"
        axes[0].errorbar(fractions, acc[gain].mean(0), acc[gain].std(0), color=color,
                         marker="o", capsize=3, label=label)
        axes[1].errorbar(noise_levels, noisy_acc[gain].mean(0), noisy_acc[gain].std(0),
                         color=color, marker="o", capsize=3, label=label)
    axes[0].set_xlabel("fraction of wrong training labels")
    axes[1].set_xlabel("std of Gaussian noise added to test inputs (in [0, 1])")
    for ax in axes:
        ax.set_ylabel("clean-label test accuracy")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("P4 - ITDSMLPClassifier on digits (mean +/- std over 3 seeds)")
    save(fig, "method_p4.png")
    RESULTS["p4"] = {
        "fractions": fractions, "noise_levels": noise_levels,
        **{f"gain{g:g}_labels": [mean_std(col) for col in acc[g].T] for g in acc},
        **{f"gain{g:g}_input_noise": [mean_std(col) for col in noisy_acc[g].T]
           for g in noisy_acc}}


# P5: sign-split feedback vs a forced mask ---------------------------------------
SMALL = 1e-3  # "near zero": about a tenth of the ordinary readout's median |weight|


def p5():
    rows = {"ordinary": [], "sign-split": [], "forced mask": []}
    small = {name: [] for name in rows}
    weights = {}
    for s in SEEDS:
        labels = corrupt_labels(y_train, 0.3, random_state=s)
        plain = ITDSReservoirClassifier(random_state=s, **RES).fit(X_train, labels)
        split = ITDSReservoirClassifier(feedback_split=True, random_state=s,
                                        **RES).fit(X_train, labels)
        zeros = float(np.mean(split.readout_.W[:-1] == 0))
        masked = ITDSReservoirClassifier(readout_sparsity=zeros,
                                         random_state=s, **RES).fit(X_train, labels)
        for name, m in [("ordinary", plain), ("sign-split", split), ("forced mask", masked)]:
            W = m.readout_.W[:-1]
            rows[name].append((float(np.mean(W == 0)), m.score(X_test, y_test)))
            small[name].append(float(np.mean(np.abs(W) < SMALL)))
            if s == 0:
                weights[name] = W.ravel()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    lim = max(np.abs(w).max() for w in weights.values())
    bins = np.linspace(-lim, lim, 61)
    colors = {"ordinary": "tab:gray", "sign-split": "tab:blue", "forced mask": "tab:orange"}
    RESULTS["p5"] = {}
    for name, W in weights.items():
        z, a = np.array(rows[name]).T
        RESULTS["p5"][name] = {"zero_fraction": mean_std(z), "accuracy": mean_std(a),
                               f"below_{SMALL:g}_fraction": mean_std(small[name])}
        axes[0].hist(W, bins=bins, histtype="step", lw=1.8, color=colors[name],
                     label=f"{name}: {z.mean():.1%} zeros")
        axes[1].errorbar(z.mean(), a.mean(), a.std(), xerr=z.std(), marker="o",
                         capsize=3, color=colors[name], label=name)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("readout weight (seed 0)")
    axes[0].set_ylabel("count (log scale)")
    axes[0].legend()
    axes[1].set_xlabel("fraction of exactly-zero readout weights")
    axes[1].set_ylabel("clean-label test accuracy")
    axes[1].grid(alpha=0.3)
    axes[1].legend()
    fig.suptitle("P5 - ITDSReservoirClassifier, LMS readout with the learned echo "
                 f"(td_gain={G:g}), on digits, 30 % wrong training labels (3 seeds)")
    save(fig, "method_p5.png")


# P6: across architectures and tasks ------------------------------------------------
def nrmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.std(a))


def p6():
    cases = []
    labels30 = {s: corrupt_labels(y_train, 0.3, random_state=s) for s in SEEDS}
    def mlp(gain, s):
        return ITDSMLPClassifier(td_gain=gain, max_iter=60, random_state=s).fit(
            X_train, labels30[s]).score(X_test, y_test)
    def res(gain, s):
        return ITDSReservoirClassifier(**dict(RES, td_gain=gain), random_state=s).fit(
            X_train, labels30[s]).score(X_test, y_test)
    def xor(gain, s):
        task = load_task("delayed_xor", random_state=s, n_samples=600)
        Xx, yx = task.X, task.y
        n = len(yx) * 2 // 3
        params = {**RES, **task.estimator_params, "td_gain": gain}  # the task's settings
        return ITDSReservoirClassifier(**params, random_state=s).fit(
            Xx[:n], yx[:n]).score(Xx[n:], yx[n:])
    def mg(gain, s):
        t = load_task("mackey_glass", random_state=s, n_steps=1500)
        n = t.n_train
        # the task's settings (mode="sequential": the steps of one series in order)
        m = ITDSReservoirRegressor(td_gain=gain, td_timescale=5.0 if gain else 1.0,
                                   n_reservoir=200, washout=100, random_state=s,
                                   **t.estimator_params)
        return nrmse(t.y[n:], m.fit(t.X[:n], t.y[:n]).predict(t.X[n:]))
    def gen(gain, s):
        t = load_task("sines4")
        n = t.n_train
        # the task's settings: mode="sequential", output_feedback=True, leak_rate=0.3
        m = ITDSReservoirRegressor(td_gain=gain, td_timescale=5.0 if gain else 1.0,
                                   n_reservoir=200, spectral_radius=1.2, washout=100,
                                   random_state=s, **t.estimator_params)
        out = m.fit(t.X[:n], t.y[:n]).predict(t.X[n:])
        return float(np.mean(np.abs(out - t.y[n:]))) if np.all(np.isfinite(out)) else np.nan
    cases = [("MLP, digits\n30 % wrong labels\n(accuracy, higher better)", mlp, 2.0),
             ("reservoir clf (LMS), digits\n30 % wrong labels\n(accuracy, higher better)",
              res, G),
             ("reservoir clf (LMS),\ndelayed XOR\n(accuracy, higher better)", xor, G),
             ("reservoir reg., Mackey-\nGlass one-step\n(NRMSE, lower better)", mg, 1.0),
             ("reservoir reg., sines4\nautonomous, FORCE\n(MAE, lower better)", gen, 1.0)]
    fig, axes = plt.subplots(1, len(cases), figsize=(16, 4.2), layout="constrained")
    RESULTS["p6"] = {}
    for ax, (title, fn, gain) in zip(axes, cases):
        vals = {g: [] for g in (0.0, gain)}
        for s in SEEDS:
            for g in vals:
                try:
                    vals[g].append(fn(g, s))
                except ValueError:   # the fed-back output diverged in predict
                    vals[g].append(np.nan)
        for k, (g, v) in enumerate(vals.items()):
            ax.scatter([k] * len(v), v, color="tab:gray" if g == 0 else "tab:blue", zorder=3)
            ax.bar(k, np.nanmean(v), color="tab:gray" if g == 0 else "tab:blue", alpha=0.4)
        # the means written out: a bar near zero is invisible beside a large one
        ax.set_xticks([0, 1], [f"td_gain={g:g}\nmean {np.nanmean(v):.3g}"
                               for g, v in vals.items()])
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        RESULTS["p6"][title.replace("\n", " ")] = {
            f"gain{g:g}": [None if np.isnan(x) else float(x) for x in v]
            for g, v in vals.items()}
        print(title.replace("\n", " "), RESULTS["p6"][title.replace("\n", " ")], flush=True)
    fig.suptitle("P6 - iTDS against its own ablation across architectures and tasks "
                 "(dots: seeds 0, 1, 2; bars: mean)")
    save(fig, "method_p6.png")


if __name__ == "__main__":
    import argparse

    FIGURES = ["p1", "p2", "p3", "p4", "p5", "p6"]
    parser = argparse.ArgumentParser(description="The method page's figures P1-P6.")
    parser.add_argument("figures", nargs="*", metavar="FIGURE",
                        help=f"which to redraw (default: all; any of {FIGURES})")
    which = parser.parse_args().figures or FIGURES
    unknown = sorted(set(which) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; use any of {FIGURES}")
    path = OUT / "method_results.json"
    if path.exists():
        RESULTS.update(json.loads(path.read_text()))
    for name in which:
        globals()[name]()
        path.write_text(json.dumps(RESULTS, indent=1))
