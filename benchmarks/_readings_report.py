"""Tables and figures of ``docs/readings.rst`` from the JSON of ``bench_readings.py``.

Every ``.rst`` fragment is written next to the JSON (``benchmarks/results/``)
and included by the page; the figures go to ``docs/images/readings_*.png``.
A reading's cell is marked ▲ (▼) where it is higher (lower) than the best
plain learner of its cell by more than chance (:func:`_report.paired`).

The settings fall in two groups with their own tables: the readings of a
learned or weight-average echo against plain learning over a rate bracket
(the MLPs and the reservoir's LMS readout), and the decision echo against
plain ridge controls of more or less shrinkage (the reservoir classifier's
ridge readout).
"""

from pathlib import Path

import numpy as np

from _report import fmt, load_records, mean_std, paired, rst_table
from bench_readings import (DECISION, DECISION_ALL_PASSES, DECISION_NAMES, PLAIN,
                            PLAIN_HIGH, PLAIN_LOW, READING_NAMES as RATE_READINGS,
                            RIDGE, RIDGE_3X)

READING_NAMES = RATE_READINGS + DECISION_NAMES
PLAINS = [PLAIN, PLAIN_LOW, PLAIN_HIGH, RIDGE, RIDGE_3X]
ABLATIONS = (PLAIN, RIDGE)  # td_gain=0 at the setting's own rate or penalty
COLORS = {"learned +1": "C0", "learned -1": "C1", "weight_average +1": "C2",
          "weight_average -1": "C3", DECISION: "C4", DECISION_ALL_PASSES: "C5",
          PLAIN: "k", PLAIN_LOW: "0.45", PLAIN_HIGH: "0.7", RIDGE: "k", RIDGE_3X: "0.45"}
MARK = {1: " ▲", -1: " ▼", 0: ""}
SETTING_LABELS = {"reservoir": "reservoir (LMS)"}  # its records predate the ridge readout


class Cells:
    """Train records grouped by cell (setting, dataset, noise) and variant, seed-sorted."""

    def __init__(self, records):
        self.by = {}
        for r in records:
            cell = (r["setting"], r["dataset"], r["noise"])
            self.by.setdefault(cell, {}).setdefault(r["variant"], []).append(r)
        for variants in self.by.values():
            for runs in variants.values():
                runs.sort(key=lambda r: r["seed"])

    def cells(self, noise=None):
        return [c for c in self.by if noise is None or c[2] == noise]

    def runs(self, cell, variant):
        return self.by[cell].get(variant, [])

    def plains(self, cell):
        return [p for p in PLAINS if p in self.by[cell]]

    def readings(self, cell):
        return [v for v in READING_NAMES if v in self.by[cell]]

    def ablation(self, cell):
        """The ``td_gain=0`` learner of the cell (at the default rate or penalty)."""
        return next(p for p in ABLATIONS if p in self.by[cell])

    def groups(self, cells):
        """``cells`` split by the readings they have, in order of appearance:
        ``[(readings, cells)]``."""
        out = {}
        for c in cells:
            out.setdefault(tuple(self.readings(c)), []).append(c)
        return list(out.items())

    def columns(self, cells):
        """The readings and every plain learner that any of ``cells`` has."""
        return ([v for v in READING_NAMES if any(v in self.by[c] for c in cells)]
                + [p for p in PLAINS if any(p in self.by[c] for c in cells)])

    def values(self, cell, variant, get):
        return [get(r) for r in self.runs(cell, variant)]

    def best_plain(self, cell, get, lower_is_better=False):
        """The plain learner of the bracket with the best mean of ``get``."""
        plains = self.plains(cell)
        means = [mean_std(self.values(cell, p, get))[0] for p in plains]
        if lower_is_better:
            means = [-m for m in means]
        return plains[int(np.nanargmax(means))]

    def verdict(self, cell, variant, get, lower_is_better=False):
        """+1 / -1 / 0: ``variant`` better / worse than the best plain learner."""
        best = self.best_plain(cell, get, lower_is_better)
        a, b = self.values(cell, variant, get), self.values(cell, best, get)
        if lower_is_better:
            a, b = [-v for v in a], [-v for v in b]
        return paired(a, b)[2]


def _label(cell):
    setting, dataset, _ = cell
    return f"{SETTING_LABELS.get(setting, setting)}: {dataset}"


def _settings(cells):
    names = dict.fromkeys(SETTING_LABELS.get(c[0], c[0]) for c in cells)
    return ", ".join(names)


def _final(r):
    return r["final_acc"]


def _speed_getter(threshold):
    def get(r):
        for e, a in zip(r["epochs"], r["acc"]):
            if a >= threshold:
                return e
        return 2 * r["epochs"][-1]  # never: twice the last epoch in the paired test
    return get


THRESHOLD = 0.98  # of the ablation's mean final accuracy in the cell


def _threshold(cells, cell):
    return THRESHOLD * mean_std(cells.values(cell, cells.ablation(cell), _final))[0]


def _first(r):
    """Test accuracy after the first epoch."""
    return r["acc"][0]


def _speed_text(cells, cell, variant, get):
    vals = cells.values(cell, variant, get)
    last = cells.runs(cell, variant)[0]["epochs"][-1]
    never = sum(v > last for v in vals)
    reached = [v for v in vals if v <= last]
    text = fmt(reached, 1) if reached else "never"
    return text + (f" ({never} never)" if never and reached else "")


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def _marked(cells, cell, v, get, lower_is_better=False):
    """``v``'s verdict mark against the best plain learner (readings only)."""
    if v not in READING_NAMES:
        return ""
    return MARK[cells.verdict(cell, v, get, lower_is_better)]


def _noise_title(noise):
    return "clean training labels" if noise == 0 else f"{noise:.0%} wrong training labels"


def accuracy_tables(cells):
    text = ""
    for noise in sorted({c[2] for c in cells.cells()}):
        for _, group in cells.groups(cells.cells(noise)):
            rows = []
            variants = cells.columns(group)
            for cell in group:
                row = [_label(cell)]
                for v in variants:
                    if not cells.runs(cell, v):
                        row.append("—")
                        continue
                    div = sum(r["diverged"] > 0 for r in cells.runs(cell, v))
                    row.append(fmt(cells.values(cell, v, _final))
                               + _marked(cells, cell, v, _final)
                               + (f" ({div} diverged)" if div else ""))
                rows.append(row)
            text += rst_table(["setting: data"] + variants, rows,
                              caption=f"Final test accuracy, {_noise_title(noise)}: "
                                      f"{_settings(group)}") + "\n"
    return text + early_stopping_table(cells)


def early_stopping_table(cells):
    """How often early stopping kept each pass (1: the first, plain, pass)."""
    rows = []
    for cell in cells.cells():
        runs = [r for r in cells.runs(cell, DECISION) if "kept_pass" in r]
        if not runs:
            continue
        n_pass = max(max(r["epochs"]) for r in runs)
        kept = [r["kept_pass"] for r in runs]
        with_es = cells.values(cell, DECISION, _final)
        without = cells.values(cell, DECISION_ALL_PASSES, _final)
        diff = (f"{paired(with_es, without)[0]:+.3f}{MARK[paired(with_es, without)[2]]}"
                if len(without) == len(with_es) else "—")
        rows.append([f"{_label(cell)} ({cell[2]:.0%})",
                     " / ".join(str(kept.count(k)) for k in range(1, n_pass + 1)), diff])
    if not rows:
        return ""
    return rst_table(["setting: data (wrong labels)",
                      "runs that kept pass 1 / 2 / 3 (1: plain ridge)",
                      "with − without early stopping (paired mean)"], rows,
                     caption="Early stopping of the decision echo: the pass kept by "
                             "leave-one-out agreement with the training labels") + "\n"


def p2_tables(cells):
    text = ""
    for noise in sorted({c[2] for c in cells.cells()}):
        labels = "clean labels" if noise == 0 else f"{noise:.0%} wrong labels"
        for readings, group in cells.groups(cells.cells(noise)):
            shown = list(readings) + [cells.ablation(group[0])]
            rows_cos, rows_ratio = [], []
            for cell in group:
                rc, rr = [_label(cell)], [_label(cell)]
                for v in shown:
                    h = [r["history"] for r in cells.runs(cell, v)]
                    if not h:
                        rc.append("—")
                        rr.append("—")
                        continue
                    c1 = [x["cosine"][0] for x in h]
                    c2 = [x["cosine"][1] if len(x["cosine"]) > 1 else np.nan for x in h]
                    rc.append(f"{fmt(c1, 2)}; {fmt(c2, 2)} → "
                              f"{fmt([x['cosine_late'] for x in h], 2)}")
                    rr.append(f"{fmt([x['td_ratio_peak'] for x in h], 2)} → "
                              f"{fmt([x['td_ratio_late'] for x in h], 2)}")
                rows_cos.append(rc)
                rows_ratio.append(rr)
            what = _settings(group)
            text += rst_table(["setting: data"] + shown, rows_cos,
                              caption=f"P2: cosine(e_sup, e_td), epoch 1; epoch 2 → late "
                                      f"(the mean of the last 3 epochs; of 3 passes, the "
                                      f"last) ({labels}; {what}; the ablation's echo is "
                                      f"passive)") + "\n"
            text += rst_table(["setting: data"] + shown, rows_ratio,
                              caption=f"P1/P2: ``|e_td| / |e_sup|``, largest epoch value → "
                                      f"late ({labels}; {what})") + "\n"
    for noise in sorted({c[2] for c in cells.cells()}):
        for _, group in cells.groups(cells.cells(noise)):
            rows = []
            variants = cells.columns(group)
            for cell in group:
                get = _speed_getter(_threshold(cells, cell))
                row = [_label(cell)]
                for v in variants:
                    if not cells.runs(cell, v):
                        row.append("—")
                        continue
                    early = fmt(cells.values(cell, v, _first)) + _marked(cells, cell, v,
                                                                         _first)
                    speed = (_speed_text(cells, cell, v, get)
                             + _marked(cells, cell, v, get, lower_is_better=True))
                    row.append(f"{early}; {speed}")
                rows.append(row)
            title = "clean labels" if noise == 0 else f"{noise:.0%} wrong labels"
            text += rst_table(["setting: data"] + variants, rows,
                              caption=f"P2 speed, {title} ({_settings(group)}): test "
                                      f"accuracy after the first epoch; epochs until it "
                                      f"first reaches {THRESHOLD:.0%} of the ablation's "
                                      f"final accuracy (▲: higher accuracy, fewer epochs "
                                      f"than the best plain learner)") + "\n"
    return text


def p3_tables(cells):
    text = ""
    noisy = [c for c in cells.cells() if c[2] > 0]
    for readings, group in cells.groups(noisy):
        ridge = RIDGE in cells.by[group[0]]
        plain = ("the td_gain=0 step on the same weights and P" if ridge
                 else "the matched plain step")
        for when in ("epoch 1", "end"):
            rows = []
            for cell in group:
                row = [_label(cell) + f" ({cell[2]:.0%})"]
                for v in readings:
                    p3 = [r["p3"][when] for r in cells.runs(cell, v) if when in r["p3"]]
                    row.append(f"{fmt([p['counter']['rho'] for p in p3])} / "
                               f"{fmt([p['clean']['rho'] for p in p3])}")
                rows.append(row)
            text += rst_table(["setting: data"] + list(readings), rows,
                              caption=f"P3: same-weights step ratio rho (reading / {plain}),"
                                      f" counter-trials / clean samples, {when} "
                                      f"({_settings(group)})") + "\n"
    return text


def _has_p4(cells, cell):
    runs = [r for v in cells.readings(cell) for r in cells.runs(cell, v)]
    return bool(runs) and runs[0]["p4"] is not None


def p4_tables(cells):
    from bench_readings import PERTURB
    text = ""
    for cell in cells.cells(0.0):
        if not _has_p4(cells, cell):
            continue
        variants = cells.readings(cell) + cells.plains(cell)
        first = cells.runs(cell, variants[0])[0]["p4"]
        rows = []
        for kind, levels in PERTURB.items():
            if kind not in first:
                continue
            for i, level in enumerate(levels):
                get = lambda r, kind=kind, i=i: r["p4"][kind][i]  # noqa: E731
                row = [f"{kind} {level:g}"]
                for v in variants:
                    row.append(fmt(cells.values(cell, v, get)) + _marked(cells, cell, v, get))
                rows.append(row)
        text += rst_table(["perturbation"] + variants, rows,
                          caption=f"P4: {_label(cell)}, trained on clean labels, test "
                                  f"accuracy under perturbed inputs") + "\n"
    return text


def _p5_setting(r):
    return r.get("setting", "reservoir")  # the first records had only one setting


def p5_table(p5, cells):
    if not p5:
        return ""
    rows = []
    order = READING_NAMES + PLAINS
    keys = sorted({(_p5_setting(r), r["variant"]) for r in p5},
                  key=lambda k: (k[0], order.index(k[1]) if k[1] in order else 99))
    for setting, v in keys:
        sel = sorted((r for r in p5 if r["variant"] == v and _p5_setting(r) == setting),
                     key=lambda r: r["seed"])
        cell = (setting, "digits", 0.0)
        runs = cells.runs(cell, v) if cell in cells.by else []
        ordinary = [r["final_acc"] for r in runs]
        seeds = {r["seed"] for r in sel}
        ordinary_same = [r["final_acc"] for r in runs if r["seed"] in seeds]
        split = [r["split_acc"] for r in sel]
        verdict = paired(split, ordinary_same)[2] if len(ordinary_same) == len(split) else 0
        rows.append([f"{SETTING_LABELS.get(setting, setting)}: {v}",
                     fmt([100 * r["zeros"] for r in sel], 1),
                     fmt(split) + MARK[verdict], fmt(ordinary) if ordinary else "—",
                     fmt([r["mask_acc"] for r in sel])])
    return rst_table(["setting: reading", "exact zeros in the split readout (%)",
                      "split readout accuracy", "ordinary readout accuracy",
                      "random mask, same sparsity"], rows,
                     caption="P5: reservoir, clean digits (▲/▼: split vs ordinary)") + "\n"


def proto_table(proto):
    if not proto:
        return ""
    from bench_readings import PROTO
    names = list(PROTO)
    plains = [n for n in names if n.startswith("plain")]
    cells = sorted({(r["dataset"], r["noise"]) for r in proto})
    rows = []
    for dataset, noise in cells:
        sel = sorted((r for r in proto if r["dataset"] == dataset and r["noise"] == noise),
                     key=lambda r: r["seed"])
        final = {n: [r["acc"][n][-1] for r in sel] for n in names}
        best = max(plains, key=lambda n: np.mean(final[n]))
        row = [f"{dataset} ({noise:.0%})"]
        for n in names:
            mark = "" if n in plains else MARK[paired(final[n], final[best])[2]]
            row.append(fmt(final[n]) + mark)
        rows.append(row)
    return rst_table(["data (wrong labels)"] + names, rows,
                     caption="Prototype echoes on the reservoir's features: final test "
                             "accuracy") + "\n"


def _early_cosine(v):
    """Index of the epoch whose cosine counts as "early" for reading ``v``.

    The decision echo starts at the labels, so in its first pass ``e_td =
    e_sup`` and the cosine is 1 by construction: its first pass with the
    readout's own decisions as the echo is the second.
    """
    return 1 if v in DECISION_NAMES else 0


def summary_table(cells, p5):
    """One row per reading: what the measurements say about P1-P6."""
    rows = []
    all_cells = cells.cells()
    for v in READING_NAMES:
        # P1/P2 on clean labels; the decision echo on wrong ones (on clean labels
        # its decisions are the labels almost everywhere: e_td = e_sup)
        noisy_echo = v in DECISION_NAMES
        clean = [c for c in cells.cells() if cells.runs(c, v) and (c[2] > 0) == noisy_echo]
        if not clean:
            continue
        k = _early_cosine(v)
        late_ratio = [mean_std([r["history"]["td_ratio_late"] for r in cells.runs(c, v)])[0]
                      for c in clean]
        cos1 = [mean_std([r["history"]["cosine"][k] for r in cells.runs(c, v)])[0]
                for c in clean]
        passive = [mean_std([r["history"]["cosine"][k]
                             for r in cells.runs(c, cells.ablation(c))])[0] for c in clean]
        fades = 0
        for c in clean:
            peak = np.mean([r["history"]["td_ratio_peak"] for r in cells.runs(c, v)])
            late = np.mean([r["history"]["td_ratio_late"] for r in cells.runs(c, v)])
            fades += late < 0.5 * peak
        faster = slower = early_up = early_down = 0
        for c in all_cells:
            if not cells.runs(c, v):
                continue
            verdict = cells.verdict(c, v, _speed_getter(_threshold(cells, c)), True)
            faster += verdict > 0
            slower += verdict < 0
            verdict = cells.verdict(c, v, _first)
            early_up += verdict > 0
            early_down += verdict < 0
        rho_c, selective, n_p3 = [], 0, 0
        for c in all_cells:
            p3 = [r["p3"]["end"] for r in cells.runs(c, v) if "end" in r.get("p3", {})]
            if not p3:
                continue
            n_p3 += 1
            counter = np.mean([p["counter"]["rho"] for p in p3])
            rho_c.append(counter)
            selective += counter < np.mean([p["clean"]["rho"] for p in p3])
        p4_up = p4_down = p4_n = 0
        for c in cells.cells(0.0):
            runs = cells.runs(c, v)
            if not runs or runs[0]["p4"] is None:
                continue
            for kind, scores in runs[0]["p4"].items():
                for i in range(len(scores)):
                    verdict = cells.verdict(c, v, lambda r, k=kind, i=i: r["p4"][k][i])
                    p4_n += 1
                    p4_up += verdict > 0
                    p4_down += verdict < 0
        n_acc = sum(1 for c in all_cells if cells.runs(c, v))
        noisy = [c for c in all_cells if c[2] > 0 and cells.runs(c, v)]
        counter_up = sum(cells.verdict(c, v, _final) > 0 for c in noisy)
        counter_down = sum(cells.verdict(c, v, _final) < 0 for c in noisy)
        acc_up = sum(cells.verdict(c, v, _final) > 0 for c in all_cells if cells.runs(c, v))
        acc_down = sum(cells.verdict(c, v, _final) < 0 for c in all_cells
                       if cells.runs(c, v))
        sel5 = [r for r in p5 if r["variant"] == v]
        p5_text = (f"{fmt([100 * r['zeros'] for r in sel5], 1)} % zeros; split "
                   f"{fmt([r['split_acc'] for r in sel5])}, mask "
                   f"{fmt([r['mask_acc'] for r in sel5])}") if sel5 else "—"
        when = "pass-2" if k else "epoch-1"
        where = " (wrong labels)" if noisy_echo else ""
        rows.append([
            v,
            f"late ratio {np.nanmin(late_ratio):.2f}–{np.nanmax(late_ratio):.2f}{where}",
            f"{sum(c > 0 for c in cos1)} / {len(cos1)} ({when} cosine "
            f"{np.nanmin(cos1):+.2f} to {np.nanmax(cos1):+.2f}; the ablation's passive "
            f"echo {np.nanmin(passive):+.2f} to {np.nanmax(passive):+.2f})",
            f"{fades} / {len(clean)}{where}",
            f"epoch-1 accuracy: {early_up} higher, {early_down} lower; epochs to "
            f"{THRESHOLD:.0%}: {faster} fewer, {slower} more / {n_acc}",
            f"rho < 1 in {sum(x < 1 for x in rho_c)} / {n_p3} (range "
            f"{np.nanmin(rho_c):.2f}–{np.nanmax(rho_c):.2f}); counter < clean in "
            f"{selective} / {n_p3}" if rho_c else "—",
            f"inputs: {p4_up} better, {p4_down} worse / {p4_n}; 30 % counter-trials: "
            f"{counter_up} better, {counter_down} worse / {len(noisy)}",
            p5_text,
            f"{acc_up} better, {acc_down} worse / {n_acc}",
        ])
    header = ["reading", "P1 echo tracks the output", "P2 terms reinforce (clean cells, "
              "wrong-label cells for the decision echo, with early cosine > 0)", "P2 top-down term fades (late < half its peak)",
              "P2 faster than the best plain learner", "P3 same-weights step on "
              "counter-trials (end of training)", "P4 robustness vs the best plain "
              "learner (digits; all data)", "P5 split (reservoir, digits)",
              "P6 final accuracy vs the best plain learner (all cells)"]
    return rst_table(header, rows, caption="What each reading shows, counted over the "
                                           "cells (setting, data, label noise)") + "\n"


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


_FEW = 5  # fits of at most this many epochs (passes) get a linear axis


def _epoch_axis(ax, last):
    if last <= _FEW:
        ax.set_xticks(range(1, last + 1))
    else:
        ax.set_xscale("log")


def figure_p2(cells, path):
    plt = _plt()
    shown = [c for c in cells.cells(0.0) if c[1] == "digits"] + \
        [c for c in cells.cells(0.0) if c[0].startswith("reservoir")
         and c[1] == "JapaneseVowels"]
    if not shown:
        return
    fig, axes = plt.subplots(2, len(shown), figsize=(4 * len(shown), 6.5), squeeze=False)
    for j, cell in enumerate(shown):
        for noise, ls in ((0.0, "-"), (0.3, "--")):
            c = (cell[0], cell[1], noise)
            if c not in cells.by:
                continue
            # the passive echo of the ablation: beside the decision echo, whose
            # diagnostics it shares on every sample whose decision is the label
            decision = cells.readings(c)[0] in DECISION_NAMES
            ablation = cells.ablation(c) if decision else None
            for v in cells.readings(c) + ([ablation] if decision else []):
                runs = cells.runs(c, v)
                for row, key in enumerate(("cosine", "td_ratio")):
                    M = np.array([r["history"][key] for r in runs])
                    ep = runs[0]["history"]["epoch"]
                    axes[row, j].plot(ep, np.nanmean(M, 0), ls, color=COLORS[v],
                                      label=(v + (" (passive echo)" if v == ablation else ""))
                                      if noise == 0 else None,
                                      lw=0.8 if v == ablation else 1.3)
        axes[0, j].set_title(_label(cell), fontsize=9)
        axes[0, j].axhline(0, color="k", lw=0.5)
        last = cells.runs(cell, cells.readings(cell)[0])[0]["epochs"][-1]
        for ax in axes[:, j]:
            _epoch_axis(ax, last)
            ax.grid(alpha=0.3)
        axes[1, j].set_xlabel("pass" if last <= _FEW else "epoch")
        axes[0, j].legend(fontsize=6)
    axes[0, 0].set_ylabel("cosine(e_sup, e_td)")
    axes[1, 0].set_ylabel("|e_td| / |e_sup|")
    fig.suptitle("P2 per reading: solid clean labels, dashed 30 % wrong; mean over seeds "
                 "(log epoch axis; the ridge readout's 3 passes on a linear one)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _panel_grid(plt, n, ncols, width, height):
    """``n`` panels in rows of at most ``ncols``; the unused axes hidden."""
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _shared_legend(fig, axes):
    """One legend for the lines of all panels, under them."""
    lines = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            lines.setdefault(label, handle)
    fig.legend(list(lines.values()), list(lines), loc="lower center",
               ncol=min(4, len(lines)), fontsize=8, frameon=False)


def figure_curves(cells, path):
    plt = _plt()
    shown = [c for c in cells.cells() if c[1] == "digits" and c[2] > 0]
    if not shown:
        return
    fig, axes = _panel_grid(plt, len(shown), 2, 5.5, 4.0)
    for ax, cell in zip(axes, shown):
        for v in cells.readings(cell) + cells.plains(cell):
            runs = cells.runs(cell, v)
            A = np.array([r["acc"] for r in runs])
            ax.plot(runs[0]["epochs"], np.nanmean(A, 0), "-" if v in READING_NAMES else "--",
                    marker="o" if len(runs[0]["epochs"]) < 10 else None, ms=3,
                    color=COLORS[v], label=v)
        last = cells.runs(cell, cells.readings(cell)[0])[0]["epochs"][-1]
        _epoch_axis(ax, last)
        ax.set_title(f"{_label(cell)}, {cell[2]:.0%} wrong labels", fontsize=9)
        ax.set_xlabel("pass" if last <= _FEW else "epoch")
        ax.set_ylabel("clean test accuracy")
        ax.grid(alpha=0.3)
    _shared_legend(fig, axes)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_p4(cells, path):
    from bench_readings import PERTURB
    plt = _plt()
    panels = []
    for cell in cells.cells(0.0):
        if _has_p4(cells, cell):
            first = cells.runs(cell, cells.readings(cell)[0])[0]["p4"]
            panels += [(cell, kind) for kind in PERTURB if kind in first]
    if not panels:
        return
    fig, axes = _panel_grid(plt, len(panels), 3, 4.6, 3.8)
    for ax, (cell, kind) in zip(axes, panels):
        for v in cells.readings(cell) + cells.plains(cell):
            runs = cells.runs(cell, v)
            levels = [0.0, *PERTURB[kind]]
            S = np.array([[r["final_acc"], *r["p4"][kind]] for r in runs])
            ax.plot(levels, np.nanmean(S, 0), "-" if v in READING_NAMES else "--",
                    marker="o", ms=3, color=COLORS[v], label=v)
        ax.set_title(f"{SETTING_LABELS.get(cell[0], cell[0])}: {kind}", fontsize=9)
        ax.set_xlabel({"noise": "noise std", "rotation": "degrees", "fgsm": "eps"}[kind])
        ax.set_ylabel("test accuracy (digits)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)  # the readings differ between settings: one per panel
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(results, images):
    results, images = Path(results), Path(images)
    train = load_records(results / "readings_train.json")["records"]
    p5 = load_records(results / "readings_p5.json")["records"]
    proto = load_records(results / "readings_proto.json")["records"]
    if train:
        cells = Cells(train)
        (results / "readings_accuracy.rst").write_text(accuracy_tables(cells))
        (results / "readings_p2.rst").write_text(p2_tables(cells))
        (results / "readings_p3.rst").write_text(p3_tables(cells))
        (results / "readings_p4.rst").write_text(p4_tables(cells))
        (results / "readings_p5.rst").write_text(p5_table(p5, cells))
        (results / "readings_summary.rst").write_text(summary_table(cells, p5))
        images.mkdir(parents=True, exist_ok=True)
        figure_p2(cells, images / "readings_p2.png")
        figure_curves(cells, images / "readings_curves.png")
        figure_p4(cells, images / "readings_p4.png")
    if proto:
        (results / "readings_proto.rst").write_text(proto_table(proto))
