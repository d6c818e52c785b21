"""``sklearn-itds compare --task/--perturbation/--plot/--scheduler`` (tiny runs)."""

import contextlib
import importlib.util
import io
import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_itds import ITDSReservoirRegressor, cli
from sklearn_itds._compare_tasks import (RIDGE_PEER, _classification_unit, nrmse,
                                         run_task, summarize, task_models)
from sklearn_itds.datasets import load_task

PNG = b"\x89PNG\r\n\x1a\n"
# --plot needs the optional `plot` extra; without it the tables are still
# checked, and test_plot_without_matplotlib_says_how_to_install covers --plot.
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _plot(path):
    """``--plot path`` when matplotlib is installed, else nothing."""
    return ["--plot", str(path)] if HAS_MATPLOTLIB else []


def _check_png(path):
    if HAS_MATPLOTLIB:
        assert path.read_bytes()[:8] == PNG


def _main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def xor_records():
    return run_task("xor", seeds=1, quick=True)


def test_task_option_prints_a_table_and_writes_a_png(tmp_path):
    path = tmp_path / "xor.png"
    code, out, _ = _main(["compare", "--task", "xor", "--quick", "--seeds", "1",
                          *_plot(path)])
    assert code == 0
    for name in ("ITDSMLPClassifier", "ITDSMLPClassifier (td_gain=0)", "MLPClassifier",
                 "LogisticRegression"):
        assert re.search(rf"^{re.escape(name)}\s+\d\.\d{{4}} \+- 0\.0000", out, re.M), name
    assert "epochs to threshold" in out and "task xor" in out
    _check_png(path)


def test_classification_records(xor_records):
    records = xor_records
    assert [r["estimator"] for r in records] == [
        "ITDSMLPClassifier", "ITDSMLPClassifier (td_gain=0)", "MLPClassifier",
        "LogisticRegression"]
    task = load_task("xor", random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(task.X, task.y, test_size=0.3,
                                              random_state=0, stratify=task.y)
    # the logistic peer is an independent fit on the same split
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    assert records[3]["score"] == logreg.fit(X_tr, y_tr).score(X_te, y_te)
    assert records[3]["curve"] == [records[3]["score"]]
    assert records[1]["checkpoints"] == list(range(1, 61))


def test_mlp_ablation_is_sklearns_mlp_fed_the_same_epochs():
    # multiclass (sklearn uses a single logistic unit for two classes)
    options = {"n_class": 3}
    _, models = task_models(load_task("digits", **options), quick=True)
    name = "ITDSMLPClassifier (td_gain=0)"
    ablation = _classification_unit("digits", name, models[name], 0, 15, 0.0, options)
    task = load_task("digits", random_state=0, **options)
    X_tr, X_te, y_tr, y_te = train_test_split(task.X, task.y, test_size=0.3,
                                              random_state=0, stratify=task.y)
    # shuffle=True (the default) in both: partial_fit shuffles each call, as
    # the compare peer MLPClassifier() does
    mlp = MLPClassifier(random_state=0)
    rng, curve = np.random.RandomState(0), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in ablation["checkpoints"]:
            order = rng.permutation(len(y_tr))
            mlp.partial_fit(X_tr[order], y_tr[order], classes=[0, 1, 2])
            curve.append(mlp.score(X_te, y_te))
    np.testing.assert_allclose(ablation["curve"], curve)
    assert len(curve) == 15


def test_summary_speed_is_the_first_epoch_reaching_the_threshold():
    records = [{"estimator": "a", "metric": "accuracy", "score": c[-1], "curve": c,
                "checkpoints": [1, 2, 3], "fit_time": 0.0}
               for c in ([0.5, 0.95, 1.0], [0.2, 0.5, 0.96])]
    records.append({"estimator": "b", "metric": "accuracy", "score": 0.4,
                    "curve": [0.1, 0.2, 0.4], "checkpoints": [1, 2, 3], "fit_time": 0})
    rows, threshold = summarize(records)
    assert threshold == pytest.approx(0.95 * 0.98)
    assert rows[0][:4] == ("a", pytest.approx(0.98), pytest.approx(0.02),
                           "2.5 +- 0.5 (2/2)")
    assert rows[1][3] == "never (0/1)"
    for r in records:
        r["metric"] = "NRMSE"
    assert summarize(records)[1] == pytest.approx(0.5)  # 1.5 * 0.98, capped
    records[2]["score"] = 0.2
    assert summarize(records[2:])[1] == pytest.approx(1.5 * 0.2)


def test_time_series_records_match_independent_fits():
    options = {"n_steps": 700}
    records = run_task("mackey_glass", seeds=1, quick=True, **options)
    by_name = {r["estimator"]: r for r in records}
    assert set(by_name) == {"ITDSReservoirRegressor",
                            "ITDSReservoirRegressor (td_gain=0)", RIDGE_PEER}
    task = load_task("mackey_glass", random_state=0, **options)
    n = task.n_train
    ablation = by_name["ITDSReservoirRegressor (td_gain=0)"]
    assert ablation["checkpoints"][-1] == n and ablation["metric"] == "NRMSE"
    # the CLI's curve is chunked partial_fit: the same chunks, by hand
    model = ITDSReservoirRegressor(mode="sequential", n_reservoir=100, washout=100,
                                   td_gain=0.0, random_state=0)
    start = 0
    for k in ablation["checkpoints"]:
        model.partial_fit(task.X[start:k], task.y[start:k])
        start = k
    expected = nrmse(task.y[n:], model.predict(task.X[n:]))
    assert ablation["score"] == pytest.approx(expected, rel=1e-6)
    # ... close to one fit (the input and target scales come from the first chunk)
    one_fit = clone(model).fit(task.X[:n], task.y[:n])
    assert nrmse(task.y[n:], one_fit.predict(task.X[n:])) == pytest.approx(expected, rel=0.05)
    # the ridge peer on the same states is close to the RLS (= ridge) ablation
    assert by_name[RIDGE_PEER]["score"] == pytest.approx(expected, rel=0.1)
    assert expected < 0.1


def test_generation_task_runs(tmp_path):
    path = tmp_path / "g.png"
    code, out, _ = _main(["compare", "--task", "sines4", "--quick", "--seeds", "1",
                          *_plot(path)])
    assert code == 0 and "NRMSE" in out and "steps to threshold" in out
    assert RIDGE_PEER in out
    _check_png(path)


def test_perturbation_option(tmp_path):
    path = tmp_path / "levels.png"
    code, out, _ = _main(["compare", "--task", "xor", "--perturbation", "noise",
                          "--quick", "--seeds", "1", *_plot(path)])
    assert code == 0
    head = [line for line in out.splitlines() if line.startswith("estimator")][0]
    assert head.split()[1:] == ["0", "0.2", "0.5"]  # --quick: every other level
    assert cli.perturbation_levels("noise") == [0.0, 0.1, 0.2, 0.3, 0.5]
    row = [line for line in out.splitlines() if line.startswith("LogisticRegression")][0]
    assert len(re.findall(r"\d\.\d{3} \+- \d\.\d{3}", row)) == 3
    _check_png(path)


@pytest.mark.parametrize("argv, message", [
    (["--task", "nope"], "invalid choice"),
    (["--perturbation", "rotation", "--task", "xor"], "image inputs"),
    (["--perturbation", "noise", "--task", "sines4"], "classification task"),
    (["--perturbation", "noise", "--task", "all"], "not all"),
    (["--perturbation", "noise", "--noise", "0.1"], "--noise"),
    (["--perturbation", "blur"], "invalid choice"),
    (["--task", "narma10", "--noise", "0.2"], "classification"),
    (["--jobs", "0"], "--jobs"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    code, out, err = _main(["compare", "--task", "xor", "--quick", "--seeds", "1",
                            "--plot", str(tmp_path / "x.png")])
    assert code == 1 and out == ""
    assert 'pip install "sklearn-itds[plot]"' in err
    assert not (tmp_path / "x.png").exists()


def test_scheduler_without_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, _, err = _main(["compare", "--task", "xor", "--seeds", "1",
                          "--scheduler", "tcp://127.0.0.1:8786"])
    assert code == 1 and "sklearn-itds[distributed]" in err


def test_scheduler_runs_on_a_dask_cluster(xor_records):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        code, out, _ = _main(["compare", "--task", "xor", "--quick", "--seeds", "1",
                              "--scheduler", cluster.scheduler_address])
    assert code == 0
    for r in xor_records:  # same numbers as the local run
        assert re.search(rf"^{re.escape(r['estimator'])}\s+{r['score']:.4f} ", out, re.M)


def test_task_prints_one_progress_line_per_fit_on_stderr():
    code, out, err = _main(["compare", "--task", "xor", "--quick", "--seeds", "2"])
    assert code == 0
    lines = err.splitlines()
    n_models = len(task_models(load_task("xor", random_state=0), quick=True)[1])
    assert len(lines) == 2 * n_models
    assert lines[0].startswith(f"[1/{2 * n_models}] xor: ")
    assert any(", seed 1: score " in line for line in lines)
    assert "[" not in out.splitlines()[0]  # the table on stdout stays clean
    _, _, quiet = _main(["compare", "--task", "xor", "--quick", "--seeds", "1",
                         "--no-progress"])
    assert quiet == ""


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs the plot extra")
def test_plot_of_several_tasks_is_one_file_with_a_panel_per_task(tmp_path, xor_records):
    from sklearn_itds import _cli_plots

    panels = []
    for name, records in [("xor", xor_records), ("sines4", run_task("sines4", 1, True))]:
        panels.append((name, records, summarize(records)[1]))
    path = tmp_path / "all.png"
    _cli_plots.plot_curves_grid(panels, path)
    _check_png(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.png"]


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs the plot extra")
def test_plot_without_a_suffix_writes_png_to_exactly_that_name(tmp_path, xor_records):
    from sklearn_itds import _cli_plots

    path = tmp_path / "figure"
    _cli_plots.plot_curves(xor_records, path, "xor", summarize(xor_records)[1])
    _check_png(path)
    assert [p.name for p in tmp_path.iterdir()] == ["figure"]
