"""The ``sklearn-itds`` command line and ``sklearn_itds.robustness.corrupt_labels``."""

import importlib
import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_itds import cli
from sklearn_itds.robustness import corrupt_labels

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^(?P<name>.+?)\s+(?P<mean>\d\.\d{3}) \+- (?P<std>\d\.\d{3})\s+"
                 r"(?P<time>\d+\.\d{2})$")


@pytest.fixture(scope="module")
def quick_table():
    """Output of ``sklearn-itds compare --quick --seeds 1`` (run once)."""
    import contextlib
    import io

    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        code = cli.main(["compare", "--quick", "--seeds", "1"])
    return code, buf.getvalue(), err.getvalue()


def _rows(text):
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            rows[m["name"]] = (float(m["mean"]), float(m["std"]), float(m["time"]))
    return rows


def test_compare_quick_prints_a_row_per_estimator(quick_table):
    code, out, _ = quick_table
    assert code == 0
    assert "30% of training labels" in out and "1 seed" in out
    rows = _rows(out)
    assert set(rows) == set(cli.default_models(quick=True))
    assert len(rows) == 7
    for name, (mean, std, fit_time) in rows.items():
        assert 0.0 <= mean <= 1.0, name
        assert std == 0.0  # one seed
        assert fit_time >= 0.0
    # every model does far better than chance (0.1) despite the noisy labels
    assert min(mean for mean, _, _ in rows.values()) > 0.5


def test_compare_numbers_match_an_independent_run(quick_table):
    rows = _rows(quick_table[1])
    # The MLPClassifier row, recomputed without the CLI: seed 0 split and noise.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    y_noisy = corrupt_labels(y_train, 0.3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = MLPClassifier(max_iter=60, random_state=0).fit(
            X_train, y_noisy).score(X_test, y_test)
    assert rows["MLPClassifier"][0] == pytest.approx(score, abs=5e-4)
    # td_gain=0 is MLPClassifier exactly (same initialization and updates)
    assert rows["ITDSMLPClassifier (td_gain=0)"][0] == rows["MLPClassifier"][0]


def test_compare_records_do_not_depend_on_n_jobs(quick_table):
    rows = _rows(quick_table[1])  # the table was made with --jobs 1
    two = cli.compare(seeds=1, noise=0.3, n_jobs=2, quick=True)
    assert [r["estimator"] for r in two] == list(rows)
    for r in two:
        assert f"{r['score']:.3f}" == f"{rows[r['estimator']][0]:.3f}"


def test_format_table_mean_and_std():
    records = [{"estimator": "A", "seed": s, "score": v, "fit_time": 1.0}
               for s, v in enumerate([0.5, 0.7])]
    rows = _rows(cli.format_table(records, "title"))
    assert rows == {"A": (0.6, pytest.approx(0.1), 1.0)}


@pytest.mark.parametrize("argv, message", [
    (["compare", "--seeds", "0"], "--seeds"),
    (["compare", "--noise", "2"], "--noise"),
    (["compare", "--noise", "-0.1"], "--noise"),
    (["compare", "--seeds", "two"], "--seeds"),
    (["fly"], "invalid choice"),
    # Issue 12: checked before the comparison runs, not after it.
    (["compare", "--plot", "/nonexistent_dir_itds/fig.png"], "does not exist"),
    pytest.param(["compare", "--plot", "fig.xyz"], "unknown figure format 'xyz'",
                 marks=pytest.mark.skipif(
                     importlib.util.find_spec("matplotlib") is None,
                     reason="the known figure formats are matplotlib's")),
    (["compare", "--plot", "."], "--plot needs a file name"),
    (["compare", "--scheduler", ""], "--scheduler needs an address"),
    (["compare", "--scheduler", "  "], "--scheduler needs an address"),
])
def test_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage: sklearn-itds" in err
    if argv[:1] == ["compare"]:  # the subcommand's usage, not the top-level one
        assert "usage: sklearn-itds compare" in err


def test_no_arguments_prints_the_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sklearn-itds") and "compare" in out
    assert "``" not in out  # plain text, no reST markup


def test_version(capsys):
    import sklearn_itds

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"sklearn-itds {sklearn_itds.__version__}"


def test_compare_prints_progress_per_model_and_seed(quick_table):
    _, out, err = quick_table
    rows = _rows(out)
    lines = err.splitlines()
    assert len(lines) == len(rows) == 7  # one line per fit, as it finishes
    for i, (line, (name, (mean, _, _))) in enumerate(zip(lines, rows.items())):
        assert line.startswith(f"[{i + 1}/7] {name}, seed 0: score {mean:.3f} (")


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "sklearn_itds", "compare", "--seeds", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--seeds must be >= 1" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "sklearn_itds", "compare", "--help"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for option in ("--seeds", "--noise", "--jobs", "--quick"):
        assert option in proc.stdout


def test_console_script_entry_point_is_declared():
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    target = project["scripts"]["sklearn-itds"]
    module, func = target.split(":")
    assert getattr(importlib.import_module(module), func) is cli.main


# -- corrupt_labels ---------------------------------------------------------------------
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3, 0.55, 1.0])
@pytest.mark.parametrize("n", [7, 100, 1001])
def test_corrupt_labels_changes_exactly_the_fraction(fraction, n):
    y = np.arange(n) % 4
    y_before = y.copy()
    out = corrupt_labels(y, fraction, random_state=0)
    np.testing.assert_array_equal(y, y_before)  # input untouched
    assert out.shape == y.shape
    # each replaced label differs from the original, so the count is exact
    assert np.sum(out != y) == int(round(fraction * n))
    assert set(np.unique(out)) <= set(np.unique(y))


def test_corrupt_labels_is_deterministic_per_seed():
    y = np.repeat(np.array(["a", "b", "c"]), 50)
    a = corrupt_labels(y, 0.3, random_state=5)
    np.testing.assert_array_equal(a, corrupt_labels(y, 0.3, random_state=5))
    assert not np.array_equal(a, corrupt_labels(y, 0.3, random_state=6))
    assert a.dtype.kind == "U" and np.sum(a != y) == 45


def test_corrupt_labels_draws_the_wrong_class_uniformly():
    y = np.zeros(30000, dtype=int)
    y[::3], y[1::3] = 1, 2
    out = corrupt_labels(y, 1.0, random_state=0)
    for c in range(3):
        others = out[y == c]
        assert not np.any(others == c)
        shares = np.bincount(others, minlength=3)[[k for k in range(3) if k != c]]
        np.testing.assert_allclose(shares / others.size, 0.5, atol=0.02)


def test_corrupt_labels_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        corrupt_labels([0, 1], 1.5)
    with pytest.raises(ValueError, match="fraction"):
        corrupt_labels([0, 1], -0.1)
    with pytest.raises(ValueError, match="2 classes"):
        corrupt_labels([3, 3, 3], 0.5)
    np.testing.assert_array_equal(corrupt_labels([3, 3, 3], 0.0), [3, 3, 3])
