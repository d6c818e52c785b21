"""Regenerate every table and figure of ``docs/results.rst``.

Usage (from the repository root)::

    python benchmarks/experiments.py tasks      # per-task table (P6), learning speed
    python benchmarks/experiments.py dynamics   # P2 (cosine, |e_td|/|e_sup|, early accuracy)
                                                # and P3 (update size on counter-trials)
    python benchmarks/experiments.py robustness # P4 curves (noise, rotation, counter, FGSM)
    python benchmarks/experiments.py sparsity   # P5 sign split vs mask vs plain
    python benchmarks/experiments.py shrink     # P5: what gives real zeros (prototype)
    python benchmarks/experiments.py all        # everything (about 30-45 min of CPU)

Options: ``--seeds N`` (default 5), ``--jobs N`` (joblib workers, default 1).
Raw results go to ``benchmarks/results/<experiment>.json``, the tables (as
reStructuredText) to ``benchmarks/results/<experiment>.rst`` and the figures to
``docs/images/results_*.png``. Every experiment reports mean +- std over seeds
0..N-1 (the seed sets the data split, the model initialization and the
shuffling; deterministic tasks vary only through the model).
"""

import argparse
import copy
import json
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from sklearn_itds._itds import ITDSReadout
from sklearn_itds.datasets import list_tasks, load_task
from sklearn_itds.robustness import corrupt_labels, robustness_curve

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"

# Sizes: small enough that ``all`` finishes in well under an hour on 2 cores.
MLP_EPOCHS = {"digits": 60, "mnist1d": 60}  # others (logic tasks): 300
RES_EPOCHS = 8  # reservoir classifier epochs in robustness and sparsity
TASK_RES_EPOCHS = 10  # ... in the per-task table
N_RES_CLF = 300
WASHOUT = 100
CHUNK = 50  # time steps per partial_fit call for the regressor's learning curve


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)), float(np.nanstd(values))


def fmt(values, digits=3):
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def rst_table(header, rows):
    """A reStructuredText list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def save(name, data, table_text):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, default=float))
    (RESULTS / f"{name}.rst").write_text(table_text)
    print(table_text, flush=True)


# ---------------------------------------------------------------------------
# Per-task comparison (P6) with learning speed
# ---------------------------------------------------------------------------
def classifier_models(task, seed):
    """iTDS, its td_gain=0 ablation and a standard peer for a classification task."""
    if task.estimator == "ITDSMLPClassifier":
        common = dict(shuffle=False, random_state=seed)  # we shuffle each epoch
        return {
            "iTDS": ITDSMLPClassifier(**common),
            "ablation (td_gain=0)": ITDSMLPClassifier(td_gain=0.0, **common),
            "peer: sklearn MLPClassifier": MLPClassifier(**common),
        }
    common = dict(task.estimator_params, n_reservoir=N_RES_CLF, shuffle=False,
                  random_state=seed)
    return {
        "iTDS": ITDSReservoirClassifier(**common),
        "ablation (td_gain=0)": ITDSReservoirClassifier(td_gain=0.0, **common),
        # One RLS pass on the end-of-trial states = ridge regression on them.
        "peer: ridge ESN (RLS, 1 pass)": ITDSReservoirClassifier(
            td_gain=0.0, learning_rule="rls", n_learn_steps=1, **common),
    }


def run_classification(name, seed, X=None, y=None, estimator=None):
    task = load_task(name, random_state=seed)
    X = task.X if X is None else X
    y = task.y if y is None else y
    if estimator is not None:
        task.estimator = estimator
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
    classes = np.unique(y)
    reservoir = task.estimator == "ITDSReservoirClassifier"
    n_epochs = TASK_RES_EPOCHS if reservoir else MLP_EPOCHS.get(name, 300)
    out = {}
    for label, model in classifier_models(task, seed).items():
        rng = np.random.RandomState(seed)
        scores, t0 = [], time.process_time()
        epochs = 1 if label.startswith("peer: ridge") else n_epochs
        for _ in range(epochs):
            order = rng.permutation(len(y_tr))
            _quiet(model.partial_fit, X_tr[order], y_tr[order], classes=classes)
            scores.append(float(model.score(X_te, y_te)))
        out[label] = {"curve": scores, "final_error": 1 - scores[-1],
                      "cpu": time.process_time() - t0}
    return out


def regression_models(task, seed):
    params = dict(task.estimator_params, washout=WASHOUT, random_state=seed)
    models = {
        "iTDS (default: td_gain=0.01, td_timescale=1)": ITDSReservoirRegressor(**params),
        "iTDS (td_gain=0.5, td_timescale=5)": ITDSReservoirRegressor(
            td_gain=0.5, td_timescale=5.0, **params),
        "ablation (td_gain=0) = ridge ESN": ITDSReservoirRegressor(td_gain=0.0, **params),
    }
    if params.get("output_feedback"):
        models["peer: teacher-forced ridge ESN"] = ITDSReservoirRegressor(
            td_gain=0.0, teacher_forcing=True, **params)
    return models


def run_regression(name, seed):
    task = load_task(name, random_state=seed)
    n = task.n_train
    X_tr, y_tr, X_te, y_te = task.X[:n], task.y[:n], task.X[n:], task.y[n:]
    scale = np.std(y_te)
    out = {}
    for label, model in regression_models(task, seed).items():
        t0 = time.process_time()
        curve = []  # a-priori NRMSE of each chunk of CHUNK steps, while learning
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            if stop <= WASHOUT:  # the first call must contain more than the washout
                continue
            lo = start if hasattr(model, "readout_") else 0  # 1st call: washout
            _quiet(model.partial_fit, X_tr[lo:stop], y_tr[lo:stop])
            curve.append((stop, float(np.sqrt(2 * model.td_history_["loss"][-1]
                                               / np.atleast_2d(y_tr).shape[-1])
                                       / np.std(y_tr))))
        try:
            pred = model.predict(X_te)
            err = float(np.sqrt(np.mean((pred - y_te) ** 2)) / scale)
        except ValueError:  # generation blew up
            err = float("inf")
        out[label] = {"curve": curve, "final_error": min(err, 1e6),
                      "cpu": time.process_time() - t0}
    return out


def steps_to(curve, threshold):
    for i, value in enumerate(curve):
        if value >= threshold:
            return i + 1
    return np.nan


def experiment_tasks(seeds, jobs):
    names = list_tasks()
    units = [(name, seed) for name in names for seed in range(seeds)]

    def one(name, seed):
        task = load_task(name, random_state=seed)
        if task.estimator == "ITDSReservoirRegressor":
            return run_regression(name, seed)
        return run_classification(name, seed)

    results = Parallel(n_jobs=jobs)(delayed(one)(n, s) for n, s in units)
    # The reservoir classifier on digits too (P4/P5 use it).
    extra = Parallel(n_jobs=jobs)(
        delayed(run_classification)("digits", s, estimator="ITDSReservoirClassifier")
        for s in range(seeds))
    by_task = {}
    for (name, seed), res in zip(units, results):
        by_task.setdefault(name, []).append(res)
    by_task["digits (reservoir)"] = extra
    rows, data = [], {}
    for name, runs in by_task.items():
        kind = "classification" if name == "digits (reservoir)" else load_task(name, 0).kind
        data[name] = runs
        labels = list(runs[0])
        regression = kind not in ("classification", "sequence_classification")
        for label in labels:
            errors = [r[label]["final_error"] for r in runs]
            if regression:
                # steps (after washout) until a chunk's a-priori NRMSE < 0.2
                speed = []
                for r in runs:
                    hit = [s for s, v in r[label]["curve"] if v < 0.2]
                    speed.append(hit[0] - WASHOUT if hit else np.nan)
                first = fmt([r[label]["curve"][0][1] for r in runs], 3)
            else:
                # epochs to reach 95 % of the ablation's mean final accuracy
                target = 0.95 * np.mean([r["ablation (td_gain=0)"]["curve"][-1]
                                         for r in runs])
                speed = [steps_to(r[label]["curve"], target) for r in runs]
                first = fmt([1 - r[label]["curve"][0] for r in runs], 3)
            n_miss = int(np.sum(np.isnan(speed)))
            speed_txt = ("—" if n_miss == len(speed) else
                         fmt(speed, 1) + (f" ({n_miss} never)" if n_miss else ""))
            rows.append([name, kind, label, fmt(errors, 3), first, speed_txt])
    header = ["task", "kind", "model", "final test error", "error after 1st epoch / "
              "a-priori NRMSE of 1st chunk", "speed (epochs / steps to threshold)"]
    save("tasks", data, rst_table(header, rows))
    plot_task_curves(by_task)


def plot_task_curves(by_task):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ["digits", "mnist1d", "digits (reservoir)", "delayed_xor", "xor", "parity3"]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, name in zip(axes.ravel(), names):
        runs = by_task[name]
        for label in runs[0]:
            curves = [r[label]["curve"] for r in runs]
            if len(curves[0]) == 1:
                ax.axhline(np.mean(curves), ls=":", color="k", label=label)
                continue
            C = np.array(curves)
            ep = np.arange(1, C.shape[1] + 1)
            ax.plot(ep, C.mean(0), label=label)
            ax.fill_between(ep, C.mean(0) - C.std(0), C.mean(0) + C.std(0), alpha=0.2)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    axes[0, 2].legend(fontsize=8)
    fig.suptitle("Test accuracy per epoch, mean ± std over seeds")
    fig.tight_layout()
    fig.savefig(IMAGES / "results_learning_curves.png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# P2 and P3: training dynamics on clean and counter-trial digits
# ---------------------------------------------------------------------------
SETTINGS = {
    # name: (family, extra params, epochs)
    "MLP, Adam lr 1e-3 (default)": ("mlp", {}, 30),
    "MLP, SGD lr 0.05, batch 32": ("mlp", dict(solver="sgd", learning_rate_init=0.05,
                                               batch_size=32, momentum=0.0), 30),
    "reservoir, LMS lr 0.05 (default)": ("res", {}, 6),
    "reservoir, LMS lr 0.3": ("res", dict(learning_rate_init=0.3), 6),
}


def _make(family, params, td_gain, seed):
    if family == "mlp":
        return ITDSMLPClassifier(td_gain=td_gain, shuffle=False, random_state=seed,
                                 **params)
    return ITDSReservoirClassifier(n_reservoir=N_RES_CLF, td_gain=td_gain,
                                   shuffle=False, random_state=seed, **params)


def _plain_copy(model):
    """The same fitted state, with the top-down term switched off."""
    plain = copy.deepcopy(model)
    if isinstance(plain, ITDSMLPClassifier):
        plain._echo.td_gain = 0.0
    else:
        plain.readout_.td_gain = 0.0
    return plain


def run_dynamics(setting, noise, td_gain, seed):
    family, params, epochs = SETTINGS[setting]
    X, y = load_task("digits", return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
    y_noisy = corrupt_labels(y_tr, noise, random_state=seed)
    counter = y_noisy != y_tr
    model = _make(family, params, td_gain, seed)
    rng = np.random.RandomState(seed)
    acc, step_counter, step_clean, plain_counter, plain_clean = [], [], [], [], []
    for _ in range(epochs):
        order = rng.permutation(len(y_tr))
        _quiet(model.partial_fit, X_tr[order], y_noisy[order], classes=np.arange(10))
        acc.append(float(model.score(X_te, y_te)))
        if noise > 0:
            norms = model.td_step_norms(X_tr, y_noisy)
            plain = _plain_copy(model).td_step_norms(X_tr, y_noisy)
            step_counter.append(float(norms[counter].mean()))
            step_clean.append(float(norms[~counter].mean()))
            plain_counter.append(float(plain[counter].mean()))
            plain_clean.append(float(plain[~counter].mean()))
    hist = {k: np.asarray(v).tolist() for k, v in model.td_history_.items()}
    return {"setting": setting, "noise": noise, "td_gain": td_gain, "seed": seed,
            "acc": acc, "history": hist, "step_counter": step_counter,
            "step_clean": step_clean, "plain_counter": plain_counter,
            "plain_clean": plain_clean}


def experiment_dynamics(seeds, jobs):
    units = [(st, noise, g, s) for st in SETTINGS for noise in (0.0, 0.3)
             for g in (2.0, 0.0) for s in range(seeds)]
    runs = Parallel(n_jobs=jobs)(delayed(run_dynamics)(*u) for u in units)

    def pick(st, noise, g):
        return [r for r in runs if r["setting"] == st and r["noise"] == noise
                and r["td_gain"] == g]

    # P2 table: cosine and ratio early (epoch 1) vs late (mean of the last 3 epochs)
    p2_rows, speed_rows, p3_rows = [], [], []
    for st in SETTINGS:
        for noise in (0.0, 0.3):
            it = pick(st, noise, 2.0)
            cos = [r["history"]["cosine"] for r in it]
            ratio = [r["history"]["td_ratio"] for r in it]
            p2_rows.append([st, f"{noise:.0%}",
                            fmt([c[0] for c in cos], 2), fmt([np.mean(c[-3:]) for c in cos], 2),
                            fmt([q[0] for q in ratio], 2),
                            fmt([np.mean(q[-3:]) for q in ratio], 2)])
            ab = pick(st, noise, 0.0)
            row = [st, f"{noise:.0%}"]
            for e in (0, 1, 2):
                row.append(f"{fmt([r['acc'][e] for r in it])} vs "
                           f"{fmt([r['acc'][e] for r in ab])}")
            row.append(f"{fmt([r['acc'][-1] for r in it])} vs "
                       f"{fmt([r['acc'][-1] for r in ab])}")
            speed_rows.append(row)
            if noise > 0:
                for e, tag in ((0, "after epoch 1"), (-1, "end of training")):
                    ratio_it = [r["step_counter"][e] / r["step_clean"][e] for r in it]
                    ratio_ab = [r["step_counter"][e] / r["step_clean"][e] for r in ab]
                    damp = [r["step_counter"][e] / r["plain_counter"][e] for r in it]
                    p3_rows.append([st, tag,
                                    fmt([r["step_counter"][e] for r in it], 4),
                                    fmt([r["step_clean"][e] for r in it], 4),
                                    fmt([r["step_counter"][e] for r in ab], 4),
                                    fmt([r["step_clean"][e] for r in ab], 4),
                                    fmt(ratio_it, 2) + " vs " + fmt(ratio_ab, 2),
                                    fmt(damp, 3)])
    text = ("P2 (iTDS models, td_gain=2): cosine(e_sup, e_td) and ``|e_td| / |e_sup|``, "
            "epoch 1 vs mean of the last 3 epochs\n\n")
    text += rst_table(["setting", "wrong labels", "cosine, epoch 1", "cosine, late",
                       "``|e_td| / |e_sup|``, epoch 1", "``|e_td| / |e_sup|``, late"], p2_rows)
    text += "\nP2 speed: test accuracy, iTDS vs td_gain=0\n\n"
    text += rst_table(["setting", "wrong labels", "epoch 1", "epoch 2", "epoch 3",
                       "final"], speed_rows)
    text += "\nP3: mean update size on counter-trials vs clean trials (30 % wrong)\n\n"
    text += rst_table(["setting", "when", "iTDS: counter", "iTDS: clean",
                       "td_gain=0: counter", "td_gain=0: clean",
                       "counter/clean: iTDS vs td_gain=0",
                       "iTDS counter step / plain step on the same state"], p3_rows)
    save("dynamics", runs, text)
    plot_dynamics(runs, pick)


def plot_dynamics(runs, pick):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5))
    for j, st in enumerate(SETTINGS):
        for noise, ls in ((0.0, "-"), (0.3, "--")):
            it = pick(st, noise, 2.0)
            C = np.array([r["history"]["cosine"] for r in it])
            Q = np.array([r["history"]["td_ratio"] for r in it])
            ep = np.arange(1, C.shape[1] + 1)
            axes[0, j].plot(ep, C.mean(0), ls, color="C0", label=f"{noise:.0%} wrong")
            axes[0, j].fill_between(ep, C.mean(0) - C.std(0), C.mean(0) + C.std(0),
                                    alpha=0.2, color="C0")
            axes[1, j].plot(ep, Q.mean(0), ls, color="C1", label=f"{noise:.0%} wrong")
            axes[1, j].fill_between(ep, Q.mean(0) - Q.std(0), Q.mean(0) + Q.std(0),
                                    alpha=0.2, color="C1")
        axes[0, j].set_title(st, fontsize=9)
        axes[0, j].axhline(0, color="k", lw=0.5)
        axes[0, 0].set_ylabel("cosine(e_sup, e_td)")
        axes[1, 0].set_ylabel("|e_td| / |e_sup|")
        axes[1, j].set_xlabel("epoch")
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle("P2: the two error terms during training (iTDS, td_gain=2), "
                 "mean ± std over seeds")
    fig.tight_layout()
    fig.savefig(IMAGES / "results_p2_dynamics.png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# P4: robustness curves
# ---------------------------------------------------------------------------
LEVELS = {"noise": [0.0, 0.1, 0.2, 0.3, 0.5],
          "rotation": [0.0, 10.0, 20.0, 30.0, 45.0],
          "counter": [0.0, 0.3, 0.6],
          "fgsm": [0.0, 0.02, 0.05, 0.1, 0.2]}


def robustness_models():
    # Smaller than elsewhere so that the 4 x 5 seeds x refits fit the CPU budget.
    return {
        "MLP iTDS": ITDSMLPClassifier(max_iter=40),
        "MLP td_gain=0": ITDSMLPClassifier(max_iter=40, td_gain=0.0),
        "sklearn MLPClassifier": MLPClassifier(max_iter=40),
        "reservoir iTDS": ITDSReservoirClassifier(n_reservoir=200, max_iter=5),
        "reservoir td_gain=0": ITDSReservoirClassifier(n_reservoir=200, max_iter=5,
                                                       td_gain=0.0),
    }


def experiment_robustness(seeds, jobs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    X, y = load_task("digits", return_X_y=True)
    records, rows = [], []
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    xlabels = {"noise": "noise std", "rotation": "rotation [deg]",
               "counter": "fraction of wrong training labels", "fgsm": "FGSM eps"}
    for ax, (pert, levels) in zip(axes, LEVELS.items()):
        rec = _quiet(robustness_curve, robustness_models(), X, y, perturbation=pert,
                     levels=levels, n_seeds=seeds, n_jobs=jobs)
        records += rec
        names = list(dict.fromkeys(r["estimator"] for r in rec))
        for k, name in enumerate(names):
            S = np.array([[r["score"] for r in rec if r["estimator"] == name
                           and r["level"] == lv] for lv in levels])
            ax.errorbar(levels, S.mean(1), S.std(1), capsize=3, marker="o", ms=3,
                        ls="-" if "iTDS" in name else "--", color=f"C{k}", label=name)
            rows.append([pert, name] + [fmt(s) for s in S])
        ax.set_xlabel(xlabels[pert])
        ax.set_ylabel("clean-label test accuracy" if pert == "counter"
                      else "test accuracy")
        ax.set_title(pert)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"P4: digits, accuracy vs perturbation level, mean ± std over "
                 f"{seeds} seeds")
    fig.tight_layout()
    fig.savefig(IMAGES / "results_p4_robustness.png", dpi=110)
    plt.close(fig)
    text = ""
    for pert, levels in LEVELS.items():
        text += f"\n{pert}: levels {levels}\n\n"
        text += rst_table(["model"] + [str(lv) for lv in levels],
                          [r[1:] for r in rows if r[0] == pert])
    save("robustness", records, text)


# ---------------------------------------------------------------------------
# P5: sign-split feedback vs forced sparsity
# ---------------------------------------------------------------------------
def _zero_fraction(model):
    W = model.coefs_[-1] if isinstance(model, ITDSMLPClassifier) else model.readout_.W[:-1]
    return float(np.mean(W == 0))


def p5_variants():
    return {
        "reservoir": (lambda **kw: ITDSReservoirClassifier(
            n_reservoir=N_RES_CLF, max_iter=RES_EPOCHS, **kw), {}),
        "MLP (alpha=1e-4)": (lambda **kw: ITDSMLPClassifier(max_iter=100, **kw), {}),
        "MLP (alpha=1e-2)": (lambda **kw: ITDSMLPClassifier(max_iter=100, alpha=1e-2,
                                                             **kw), {}),
    }


def run_sparsity(variant, noise, seed):
    make, _ = p5_variants()[variant]
    X, y = load_task("digits", return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
    y_tr = corrupt_labels(y_tr, noise, random_state=seed)
    out = {}
    for g in (2.0,):  # the estimator default
        split = _quiet(make(td_gain=g, feedback_split=True, random_state=seed).fit,
                       X_tr, y_tr)
        zero = _zero_fraction(split)
        plain = _quiet(make(td_gain=g, random_state=seed).fit, X_tr, y_tr)
        mask = _quiet(make(td_gain=g, readout_sparsity=min(zero, 0.99),
                           random_state=seed).fit, X_tr, y_tr)
        for label, m in (("split", split), ("plain", plain), ("mask", mask)):
            out[f"{label}, td_gain={g:g}"] = {"error": 1 - float(m.score(X_te, y_te)),
                                              "zeros": _zero_fraction(m)}
    return {"variant": variant, "noise": noise, "seed": seed, "res": out}


def experiment_sparsity(seeds, jobs):
    units = [(v, noise, s) for v in p5_variants() for noise in (0.0,)
             for s in range(seeds)]
    runs = Parallel(n_jobs=jobs)(delayed(run_sparsity)(*u) for u in units)
    rows = []
    for v in p5_variants():
        for noise in (0.0,):
            sel = [r["res"] for r in runs if r["variant"] == v and r["noise"] == noise]
            for label in sel[0]:
                rows.append([v, f"{noise:.0%}", label,
                             fmt([r[label]["zeros"] for r in sel], 3),
                             fmt([r[label]["error"] for r in sel], 3)])
    text = rst_table(["network", "wrong labels", "readout", "fraction of exact zeros",
                      "test error"], rows)
    save("sparsity", runs, text)


class ShrinkSplitReadout(ITDSReadout):
    """PROTOTYPE (not in the library): the sign split plus an L1 shrink.

    After each iTDS update of :class:`ITDSReadout` (which does the split and
    clips both parts at zero), both parts are pulled toward zero by
    ``shrink * learning_rate`` and clipped again: a proximal L1 step, the
    classic way to get exact zeros from non-negative weights. The rule itself
    is untouched (it runs in ``ITDSReadout._update``).
    """

    shrink = 0.0

    def _update(self, r, y):
        out = super()._update(r, y)
        if self.shrink:
            K = self.n_outputs
            step = self.shrink * self.learning_rate
            for part in (self.W_pos, self.W_neg):
                part[:-1] -= step  # the bias row is not shrunk
                np.maximum(part, 0.0, out=part)
            np.subtract(self.W_pos, self.W_neg, out=self.coef_pair[:, :K])
        return out


def run_shrink(shrink, noise, seed, use_mask_of=None):
    """Reservoir readout trained on fixed reservoir states with the prototype."""
    X, y = load_task("digits", return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
    y_tr = corrupt_labels(y_tr, noise, random_state=seed)
    # The reservoir of the estimator (same seed): fit 0 epochs to build it.
    res = ITDSReservoirClassifier(n_reservoir=N_RES_CLF, max_iter=1, random_state=seed)
    res.partial_fit(X_tr[:2], y_tr[:2], classes=np.arange(10))
    T = res.n_steps
    S_tr = res.reservoir_.run_trials(X_tr, T, T)
    S_te = res.reservoir_.run_trials(X_te, T, 1)[:, 0]
    n = N_RES_CLF + 1
    split = use_mask_of is None
    readout = ShrinkSplitReadout(n, 10, rule="lms", learning_rate=0.05, td_gain=2.0,
                                 td_timescale=5.0, feedback_split=split,
                                 mask=use_mask_of)
    readout.shrink = shrink if split else 0.0
    targets = np.eye(10)[y_tr]
    rng = np.random.RandomState(seed)
    for _ in range(SHRINK_EPOCHS):
        order = rng.permutation(len(y_tr))
        R = S_tr[order].reshape(-1, N_RES_CLF)
        R = np.hstack([R, np.ones((len(R), 1))])
        readout.partial_fit(R, np.repeat(targets[order], T, axis=0))
    Z = np.hstack([S_te, np.ones((len(S_te), 1))]) @ readout.W
    W = readout.W[:-1]
    return {"error": float(np.mean(Z.argmax(1) != y_te)), "zeros": float(np.mean(W == 0)),
            "mask": W != 0}


SHRINKS = [0.0, 1e-4, 3e-4, 1e-3]
SHRINK_EPOCHS = 5


def run_shrink_unit(shrink, noise, seed):
    from sklearn_itds._itds import make_sparsity_mask
    split = run_shrink(shrink, noise, seed)
    # forced-sparsity control: a random mask with the same fraction of zeros
    mask = make_sparsity_mask((N_RES_CLF + 1, 10), min(split["zeros"], 0.99),
                              np.random.RandomState(seed))
    masked = run_shrink(0.0, noise, seed, use_mask_of=mask) if mask is not None else None
    return {"shrink": shrink, "noise": noise, "seed": seed,
            "split": {k: split[k] for k in ("error", "zeros")},
            "mask": {k: masked[k] for k in ("error", "zeros")} if masked else None}


def experiment_shrink(seeds, jobs):
    units = [(lam, 0.0, s) for lam in SHRINKS for s in range(seeds)]
    runs = Parallel(n_jobs=jobs)(delayed(run_shrink_unit)(*u) for u in units)
    rows = []
    for lam in SHRINKS:
        for noise in (0.0,):
            sel = [r for r in runs if r["shrink"] == lam and r["noise"] == noise]
            masks = [r["mask"] for r in sel if r["mask"] is not None]
            rows.append([f"{lam:g}", f"{noise:.0%}",
                         fmt([r["split"]["zeros"] for r in sel]),
                         fmt([r["split"]["error"] for r in sel]),
                         fmt([m["zeros"] for m in masks]) if masks else "—",
                         fmt([m["error"] for m in masks]) if masks else "—"])
    text = rst_table(["L1 shrink", "wrong labels", "split + shrink: zeros",
                      "split + shrink: test error", "same-sparsity mask: zeros",
                      "mask: test error"], rows)
    save("sparsity_shrink", runs, text)


EXPERIMENTS = {"tasks": experiment_tasks, "dynamics": experiment_dynamics,
               "robustness": experiment_robustness, "sparsity": experiment_sparsity,
               "shrink": experiment_shrink}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        t0 = time.time()
        print(f"== {name} (seeds 0..{args.seeds - 1})", flush=True)
        EXPERIMENTS[name](args.seeds, args.jobs)
        print(f"== {name} done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
