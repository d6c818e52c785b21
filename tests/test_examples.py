"""Run every gallery example in quick mode, so that no example rots.

Each script runs in a fresh interpreter with ``SKLEARN_ITDS_QUICK=1`` (small
sizes) and the non-interactive Agg backend. The wrapper saves every figure the
script left open; the test checks the script exited 0 and produced at least one
non-empty PNG.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

RUNNER = """
import runpy, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
runpy.run_path(sys.argv[1], run_name="__main__")
for number in plt.get_fignums():
    plt.figure(number).savefig(f"{sys.argv[2]}/figure_{number}.png", dpi=60)
"""


def test_examples_found():
    assert len(EXAMPLES) >= 6, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_plots(script, tmp_path):
    env = {**os.environ, "SKLEARN_ITDS_QUICK": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(
               [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (
        f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    figures = sorted(tmp_path.glob("figure_*.png"))
    assert figures, f"{script.name} produced no figure"
    assert all(f.stat().st_size > 1000 for f in figures)
