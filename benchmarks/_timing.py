"""Shared helpers for the performance benchmarks (not part of the package).

Every comparison times *ours* and the *peer* alternately in one process
(ours, peer, ours, peer, ...) so that load changes on the shared machine hit
both sides alike, and reports the per-pair ratio ours / peer with its
min / median / max.
"""

import sys
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the package is one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def alternate(ours, peer, repeats, warmup=1):
    """Time ``ours()`` and ``peer()`` alternately; returns two arrays of seconds."""
    for _ in range(warmup):
        ours()
        peer()
    t_ours, t_peer = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        peer()
        t_peer.append(time.perf_counter() - t0)
    return np.array(t_ours), np.array(t_peer)


def timeit(fn, repeats, warmup=1):
    """Seconds per call of ``fn`` over ``repeats`` calls (after ``warmup``)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return np.array(out)


def spread(a):
    """'median (min .. max)' of an array."""
    return f"{np.median(a):.4g} (min {np.min(a):.4g}, max {np.max(a):.4g})"


def report(name, t_ours, t_peer, target):
    """Print the times and the ratio ours / peer; returns the ratio array."""
    ratio = t_ours / t_peer
    print(f"{name}")
    print(f"  ours  [s]: {spread(t_ours)}")
    print(f"  peer  [s]: {spread(t_peer)}")
    print(f"  ratio ours/peer: median {np.median(ratio):.3f}, min {ratio.min():.3f}, "
          f"max {ratio.max():.3f}  (target <= {target}; "
          f"{'MET' if np.median(ratio) <= target else 'NOT MET'} on the median)")
    return ratio


def load():
    """The 1-minute load average (``/proc/loadavg``; nan where there is none)."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")
