"""Online learning: ITDSReservoirClassifier.partial_fit on a stream of batches.

Usage (from the repository root; about half a minute on 2 cores)::

    python benchmarks/bench_streaming.py            # 3 seeds
    python benchmarks/bench_streaming.py --seeds 5

What is measured: load_digits, a 75/25 stratified split (seeded); the
training set arrives once, in batches of 50 or 200 trials, each one
``partial_fit`` call (``classes`` given on the first), either shuffled
(seeded) or sorted by class (a class-incremental stream: all 0s, then all
1s, ...); optionally 30 % of the training labels are wrong
(:func:`sklearn_itds.robustness.corrupt_labels`). Accuracy on the clean test
labels after the stream, mean ± std over the seeds. Models: the classifier
at its defaults (the decision echo, ``td_gain=2``), its ``td_gain=0``
ablation, and the two readout echoes, which live across calls
(``echo="learned"`` and ``"weight_average"``, ``td_gain=1``,
``td_timescale=20``), all with the default RLS readout.

The decision echo of a trial is the running average of the readout's past
decisions on it, so in one pass over new trials it is their labels and the
defaults equal the ablation to rounding. Results:
``benchmarks/results/streaming.json`` and ``streaming.rst``.
"""

import argparse
import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_itds import ITDSReservoirClassifier  # noqa: E402
from sklearn_itds.robustness import corrupt_labels  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = {
    "defaults (decision echo, td_gain=2)": {},
    "ablation (td_gain=0)": {"td_gain": 0.0},
    "learned echo (td_gain=1, td_timescale=20)": {
        "echo": "learned", "td_gain": 1.0, "td_timescale": 20.0},
    "weight-average echo (td_gain=1, td_timescale=20)": {
        "echo": "weight_average", "td_gain": 1.0, "td_timescale": 20.0},
}
STREAMS = [("shuffled", 0.0, 50), ("shuffled", 0.0, 200), ("class-sorted", 0.0, 50),
           ("shuffled", 0.3, 50), ("shuffled", 0.3, 200)]


def stream_score(params, order_kind, noise, batch, seed):
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=seed, stratify=y)
    labels = corrupt_labels(y_tr, noise, random_state=seed) if noise else y_tr
    order = (np.argsort(y_tr, kind="stable") if order_kind == "class-sorted"
             else np.random.RandomState(seed).permutation(len(y_tr)))
    clf = ITDSReservoirClassifier(random_state=seed, **params)
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        clf.partial_fit(X_tr[rows], labels[rows], classes=np.arange(10))
    return float(clf.score(X_te, y_te))


def report(results):
    lines = [".. list-table:: Streams of partial_fit batches, load_digits: test accuracy, "
             f"mean ± std over {results['n_seeds']} seeds",
             "   :header-rows: 1", "", "   * - stream"]
    lines += [f"     - {name}" for name in MODELS]
    for key, row in results["cells"].items():
        lines.append(f"   * - {key}")
        lines += [f"     - {np.mean(row[name]):.3f} ± {np.std(row[name]):.3f}"
                  for name in MODELS]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    cells = {}
    for order_kind, noise, batch in STREAMS:
        key = f"{order_kind}, {noise:.0%} wrong labels, batches of {batch}"
        cells[key] = {name: [stream_score(params, order_kind, noise, batch, s)
                             for s in range(args.seeds)]
                      for name, params in MODELS.items()}
        print(key, {name: round(float(np.mean(v)), 3) for name, v in cells[key].items()},
              flush=True)
    results = {"n_seeds": args.seeds, "cells": cells}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "streaming.json").write_text(json.dumps(results, indent=1))
    (args.out / "streaming.rst").write_text(report(results))


if __name__ == "__main__":
    main()
