"""Figures of ``sklearn-itds compare --plot`` (matplotlib, Agg canvas).

The figures are drawn on a :class:`matplotlib.figure.Figure` attached to an
Agg canvas, so no global pyplot state or display is involved.
"""

from pathlib import Path

import numpy as np

__all__ = ["plot_bars", "plot_curves", "plot_curves_grid", "plot_levels"]


def _save(fig, path, dpi):
    """Write exactly ``path``: without a suffix, PNG under that very name
    (matplotlib alone would append ".png")."""
    fig.savefig(path, dpi=dpi, format=None if Path(path).suffix else "png")


def _figure(width=7.0, height=4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _names(records):
    return list(dict.fromkeys(r["estimator"] for r in records))


def plot_bars(records, path, title):
    """Mean +- std score per estimator (the default comparison)."""
    names = _names(records)
    scores = [[r["score"] for r in records if r["estimator"] == n] for n in names]
    fig = _figure(7.5, 0.45 * len(names) + 1.5)
    ax = fig.add_subplot()
    y = np.arange(len(names))
    ax.barh(y, [np.mean(s) for s in scores], xerr=[np.std(s) for s in scores],
            color="tab:blue", alpha=0.8, capsize=3)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("clean test accuracy (mean +- std over seeds)")
    lo = min(np.mean(s) - np.std(s) for s in scores)
    ax.set_xlim(max(0.0, lo - 0.05), 1.0)
    ax.set_title(title, fontsize=9)
    _save(fig, path, dpi=120)


def _draw_curves(ax, records, title, threshold, fontsize=8):
    metric, unit = records[0]["metric"], records[0]["unit"]
    for name in _names(records):
        mine = [r for r in records if r["estimator"] == name]
        curves = np.array([r["curve"] for r in mine], dtype=float)
        x = mine[0]["checkpoints"]
        mean, std = curves.mean(0), curves.std(0)
        if len(x) == 1:
            ax.axhline(mean[0], ls="--", lw=1, color="gray", label=f"{name} (final)")
            continue
        (line,) = ax.plot(x, mean, marker="o" if len(x) <= 12 else None, ms=3,
                          label=name)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.axhline(threshold, color="k", lw=0.8, ls=":", label="speed threshold")
    if metric == "NRMSE":
        ax.set_yscale("log")
    ax.set_xlabel(f"training {unit}s", fontsize=fontsize)
    ax.set_ylabel(f"held-out {metric}", fontsize=fontsize)
    ax.set_title(f"{title}: mean +- std over {len(mine)} seed(s)", fontsize=fontsize + 1)
    ax.tick_params(labelsize=fontsize)
    ax.legend(fontsize=fontsize - 1)


def plot_curves(records, path, title, threshold):
    """Learning curves (mean over seeds, shaded +- std) of one task."""
    fig = _figure()
    _draw_curves(fig.add_subplot(), records, title, threshold)
    _save(fig, path, dpi=120)


def plot_curves_grid(panels, path):
    """Learning curves of one or several tasks in one figure, a panel per task.

    ``panels`` is a list of ``(task name, records, threshold)``; one panel is
    the figure of :func:`plot_curves`.
    """
    if len(panels) == 1:
        name, records, threshold = panels[0]
        return plot_curves(records, path, name, threshold)
    n_cols = 4
    n_rows = -(-len(panels) // n_cols)
    fig = _figure(4.2 * n_cols, 3.4 * n_rows)
    for i, (name, records, threshold) in enumerate(panels):
        _draw_curves(fig.add_subplot(n_rows, n_cols, i + 1), records, name, threshold,
                     fontsize=6)
    _save(fig, path, dpi=100)


def plot_levels(records, path, title):
    """Score versus perturbation level per estimator, with +- std error bars."""
    fig = _figure()
    ax = fig.add_subplot()
    for name in _names(records):
        mine = [r for r in records if r["estimator"] == name]
        levels = sorted({r["level"] for r in mine})
        s = [[r["score"] for r in mine if r["level"] == lv] for lv in levels]
        ax.errorbar(levels, [np.mean(v) for v in s], yerr=[np.std(v) for v in s],
                    marker="o", ms=4, capsize=3, label=name)
    ax.set_xlabel(f"{records[0]['perturbation']} level")
    ax.set_ylabel("test score (mean +- std over seeds)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    _save(fig, path, dpi=120)
