"""Small helpers shared by the evidence benchmarks (not part of the package).

Means and spreads over seeds, a paired comparison over seeds, reStructuredText
list-tables, and the JSON files under ``benchmarks/results/`` that a rerun of
part of a benchmark merges into.
"""

import json
from pathlib import Path

import numpy as np
from scipy import stats


def mean_std(values):
    values = np.asarray(values, dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        return np.nan, np.nan
    return float(np.nanmean(values)), float(np.nanstd(values))


def fmt(values, digits=3):
    """``mean ± std`` over seeds (std with ddof=0, as the other results pages)."""
    m, s = mean_std(values)
    if np.isnan(m):
        return "—"
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def paired(a, b):
    """Compare ``a`` with ``b`` seed by seed.

    Returns ``(mean difference a - b, its standard error, verdict)`` where
    the verdict is ``+1`` when ``a`` is higher by more than a one-sided
    paired t-test at the 5 % level allows for chance
    (``mean > t_{0.95, n-1} * SE``), ``-1`` when lower by as much, else 0.
    With one seed (no spread) the verdict is always 0.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n < 2:
        return (float(d.mean()) if n else np.nan), np.nan, 0
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
    bar = stats.t.ppf(0.95, n - 1) * se
    if se == 0:
        return mean, se, int(np.sign(mean))
    return mean, se, int(mean > bar) - int(mean < -bar)


def rst_table(header, rows, caption=None, widths=None):
    """A reStructuredText list-table of results (class ``itds-numbers``: the
    docs keep each number on one line and let a wide table scroll)."""
    lines = [f".. list-table:: {caption}" if caption else ".. list-table::",
             "   :header-rows: 1", "   :class: itds-numbers"]
    if widths:
        lines.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    lines.append("")
    for row in [header] + rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def load_records(path):
    path = Path(path)
    if not path.exists():
        return {"meta": {}, "records": []}
    return json.loads(path.read_text())


def merge_records(path, new, key_fields, meta):
    """Write ``new`` records to ``path``, replacing stored ones with equal keys.

    A rerun of part of a benchmark (some datasets, some seeds) thus updates
    only what it ran. ``meta`` (versions, defaults, command) describes this
    run; it gets a number ``run`` that its records carry too, and the
    metadata of the earlier runs that still have records in the file is kept
    in the list ``earlier_runs`` (records without a number belong to run 0).
    With no new records the file is left as it is.
    """
    path = Path(path)
    data = load_records(path)
    if not new:
        return data
    key = lambda r: tuple(r[k] for k in key_fields)  # noqa: E731
    fresh = {key(r) for r in new}
    kept = [r for r in data["records"] if key(r) not in fresh]
    earlier = dict(data.get("meta", {}))
    runs = earlier.pop("earlier_runs", []) + ([earlier] if earlier else [])
    number = 1 + max((m.get("run", 0) for m in runs), default=-1)
    alive = {r.get("run", 0) for r in kept}
    history = [m for m in runs if m.get("run", 0) in alive]
    data["records"] = kept + [{**r, "run": number} for r in new]
    data["meta"] = {**meta, "run": number}
    if history:
        data["meta"]["earlier_runs"] = history
    path.parent.mkdir(parents=True, exist_ok=True)
    # one record per line: small files, and a rerun's diff shows its records
    records = ",\n".join(json.dumps(r, separators=(",", ":"), default=_jsonable)
                          for r in data["records"])
    path.write_text(f'{{"meta": {json.dumps(data["meta"], indent=1, default=_jsonable)},\n'
                    f'"records": [\n{records}\n]}}\n')
    return data


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def load_average():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:  # not Linux
        return None
