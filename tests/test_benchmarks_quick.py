"""The evidence benchmarks (bench_readings, bench_label_noise) on tiny data.

Their quick modes run end to end and write the expected records and tables;
the quantities they report are checked against computations written out
here: the P3 step ratio from the readout rows and weights, the prototype
readout loop against the library's readout, the paired test against scipy.
No timing is checked.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import softmax
from sklearn.datasets import load_digits

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier
from sklearn_itds._itds import ITDSReadout
from sklearn_itds.robustness import corrupt_labels

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _report  # noqa: E402
import bench_readings as br  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16, y[:240]
    y_noisy = corrupt_labels(y, 0.3, random_state=0)
    return X, y, y_noisy


@pytest.mark.parametrize("sign", [1, -1])
def test_paired_verdict_is_a_one_sided_paired_t_test(sign):
    rng = np.random.RandomState(3)
    for _ in range(30):
        a, b = rng.normal(size=5), rng.normal(size=5) + sign * rng.uniform(0, 2)
        _, _, verdict = _report.paired(a, b)
        greater = stats.ttest_rel(a, b, alternative="greater").pvalue < 0.05
        less = stats.ttest_rel(a, b, alternative="less").pvalue < 0.05
        assert verdict == int(greater) - int(less)


def test_variants_read_the_rate_bracket_from_the_defaults():
    for cls, rate, extra in ((ITDSMLPClassifier, "learning_rate_init", {}),
                             (ITDSReservoirClassifier, "learning_rate_init", br.RESERVOIR_LMS)):
        p = cls(**extra).get_params()
        v = br.variants(cls, extra)
        g = p["td_gain"]
        assert v[br.PLAIN] == {**extra, "td_gain": 0.0}
        assert v[br.PLAIN_LOW][rate] == pytest.approx(p[rate] / (1 + g))
        if cls is ITDSMLPClassifier:
            assert v[br.PLAIN_HIGH][rate] == pytest.approx(p[rate] * (1 + g))
        else:  # the bounded rule never steps faster than eta
            assert br.PLAIN_HIGH not in v
        assert {v[n].get("echo") for n in br.READING_NAMES} == {"learned", "weight_average"}
    # RLS has no rate: only the ablation
    v = br.variants(ITDSReservoirClassifier, {"learning_rule": "rls", "echo": "learned",
                                              "max_iter": 1})
    assert br.PLAIN_LOW not in v and br.PLAIN in v


def test_decision_echo_variants_are_shrinkage_controls():
    v = br.variants(ITDSReservoirClassifier, {})
    assert ITDSReservoirClassifier().echo == "decision"  # the setting measures the default
    assert v == {br.DECISION: {}, br.DECISION_ALL_PASSES: {"early_stopping": False},
                 br.RIDGE: {"td_gain": 0.0},
                 br.RIDGE_3X: {"td_gain": 0.0, "rls_alpha_times_loo": 3.0}}
    assert br.SETTINGS["reservoir (ridge)"][1] == {}


def test_shrinkage_control_is_ridge_with_three_times_the_loo_penalty(digits):
    X, _, y_noisy = digits
    kw = dict(n_reservoir=30, dtype="float64")
    params, alpha = br.resolve_params(
        ITDSReservoirClassifier, {**kw, "td_gain": 0.0, "rls_alpha_times_loo": 3.0},
        X, y_noisy, seed=2)
    loo = ITDSReservoirClassifier(**kw, td_gain=0.0, random_state=2).fit(X, y_noisy)
    assert alpha == pytest.approx(3 * loo.rls_alpha_, rel=1e-12)
    assert params == {**kw, "td_gain": 0.0, "rls_alpha": alpha}
    # the control is closed-form ridge with that penalty on the same rows
    model = ITDSReservoirClassifier(**params, random_state=2).fit(X, y_noisy)
    R = model._rows(X).astype(float)
    Y = np.eye(10)[y_noisy]
    W = np.linalg.solve(R.T @ R + alpha * np.eye(R.shape[1]), R.T @ Y)
    np.testing.assert_allclose(model.readout_.W, W, rtol=1e-7, atol=1e-10)
    assert br.resolve_params(ITDSReservoirClassifier, {"td_gain": 0.0}, X, y_noisy, 2) \
        == ({"td_gain": 0.0}, None)


def test_decision_echo_step_ratio_by_hand(digits):
    X, y, y_noisy = digits
    model = ITDSReservoirClassifier(n_reservoir=30, dtype="float64",
                                    random_state=0).fit(X, y_noisy)
    assert model.echo == "decision" and model.learning_rule == "rls"
    counter = y_noisy != y
    out = br.step_ratios(model, X, y_noisy, counter)
    # by hand: the RLS gain from P = (R^T R + alpha I)^-1 of the ridge pass, the
    # echo the present decision, the plain step the td_gain=0 one (no rate)
    R = model._rows(X)
    P = np.linalg.inv(R.T @ R + model.rls_alpha_ * np.eye(R.shape[1]))
    PR = R @ P
    gain = np.linalg.norm(PR, axis=1) / (1 + np.einsum("ij,ij->i", PR, R))
    Z = R @ model.readout_.W
    D = np.eye(10)[Z.argmax(1)]
    Y = np.eye(10)[y_noisy]
    g = model.td_gain
    delta = np.linalg.norm(((Y - Z) + g * (D - Z)) / (1 + g), axis=1)
    e_sup = np.linalg.norm(Y - Z, axis=1)
    for kind, sel in (("counter", counter), ("clean", ~counter)):
        np.testing.assert_allclose(out[kind]["step"], np.mean((gain * delta)[sel]),
                                   rtol=1e-8)
        np.testing.assert_allclose(out[kind]["plain"], np.mean((gain * e_sup)[sel]),
                                   rtol=1e-8)
        np.testing.assert_allclose(out[kind]["rho"], (gain * delta)[sel].sum()
                                   / (gain * e_sup)[sel].sum(), rtol=1e-8)
    # where the decision is the label the step is the plain one; a counter-trial
    # decided as another class is damped
    agree = D.argmax(1) == y_noisy
    np.testing.assert_allclose(delta[agree], e_sup[agree], rtol=1e-10)
    assert np.all(delta[~agree] < e_sup[~agree])


def test_kept_pass_is_the_pass_early_stopping_keeps(digits):
    X, _, y_noisy = digits
    assert br.kept_pass([0.5, 0.6, 0.6]) == 2 and br.kept_pass([0.7, 0.7, 0.6]) == 1
    for seed in range(3):
        kw = dict(n_reservoir=30, dtype="float64", random_state=seed)
        model = ITDSReservoirClassifier(**kw).fit(X, y_noisy)
        kept = br.kept_pass(model.validation_scores_)
        # the same readout as a fit that simply stops after that pass
        short = ITDSReservoirClassifier(**kw, max_iter=kept, early_stopping=False)
        np.testing.assert_allclose(model.readout_.W, short.fit(X, y_noisy).readout_.W,
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("echo,sign", [("learned", 1), ("learned", -1),
                                       ("weight_average", 1), ("weight_average", -1)])
def test_reservoir_step_ratio_by_hand(digits, echo, sign):
    X, y, y_noisy = digits
    model = ITDSReservoirClassifier(**{**br.RESERVOIR_LMS, "n_reservoir": 30, "max_iter": 3,
                                       "echo": echo, "td_sign": sign},
                                    random_state=0).fit(X, y_noisy)
    counter = y_noisy != y
    out = br.step_ratios(model, X, y_noisy, counter)
    # by hand: rho = sum |delta| / |r| over the samples / sum |e_sup| / |r|
    rows = model._rows(X)
    W, Wbar = model.readout_.W, model.readout_.W_echo
    Y = np.eye(10)[y_noisy]
    Z, D = rows @ W, rows @ Wbar
    g = model.td_gain
    delta = np.linalg.norm((Y - Z) + sign * g * (D - Z), axis=1)
    e_sup = np.linalg.norm(Y - Z, axis=1)
    inv_r = 1 / np.linalg.norm(rows, axis=1)
    for kind, sel in (("counter", counter), ("clean", ~counter)):
        rho = (delta * inv_r)[sel].sum() / (e_sup * inv_r)[sel].sum()
        np.testing.assert_allclose(out[kind]["rho"], rho, rtol=1e-10)
        # the step itself is the bounded one: eta |delta| / ((1 + g) |r|)
        np.testing.assert_allclose(
            out[kind]["step"],
            np.mean((model.learning_rate_init * delta * inv_r / (1 + g))[sel]), rtol=1e-10)


@pytest.mark.parametrize("echo,sign", [("learned", 1), ("weight_average", -1)])
def test_mlp_step_ratio_by_hand(digits, echo, sign):
    X, y, y_noisy = digits
    model = ITDSMLPClassifier(hidden_layer_sizes=(15,), max_iter=5, echo=echo,
                              td_sign=sign, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y_noisy)
    counter = y_noisy != y
    out = br.step_ratios(model, X, y_noisy, counter)
    H = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    P = softmax(H @ model.coefs_[1] + model.intercepts_[1], axis=1)
    P_echo = softmax(H @ model.echo_coef_ + model.echo_intercept_, axis=1)
    Y = np.eye(10)[y_noisy]
    scale = np.sqrt((H * H).sum(1) + 1)
    delta = np.linalg.norm((Y - P) + sign * model.td_gain * (P_echo - P), axis=1)
    e_sup = np.linalg.norm(Y - P, axis=1)
    for kind, sel in (("counter", counter), ("clean", ~counter)):
        rho = (scale * delta)[sel].sum() / (scale * e_sup)[sel].sum()
        np.testing.assert_allclose(out[kind]["rho"], rho, rtol=1e-8)


def test_mlp_plain_steps_equal_the_estimators_own_with_td_gain_zero(digits):
    X, y, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = ITDSMLPClassifier(hidden_layer_sizes=(15,), activation="tanh", max_iter=5,
                                  td_gain=0.0, random_state=0).fit(X, y)
        binary = ITDSMLPClassifier(hidden_layer_sizes=(15,), max_iter=5, td_gain=0.0,
                                   random_state=0).fit(X, y % 2)
    np.testing.assert_allclose(br.mlp_plain_step_norms(plain, X, y),
                               plain.td_step_norms(X, y), rtol=1e-10)
    np.testing.assert_allclose(br.mlp_plain_step_norms(binary, X, y % 2),
                               binary.td_step_norms(X, y % 2), rtol=1e-10)


def test_history_summary_by_hand():
    rng = np.random.RandomState(0)
    cosine, ratio = rng.uniform(-1, 1, 200), rng.uniform(0, 2, 200)
    out = br.history_summary({"cosine": cosine, "td_ratio": ratio})
    assert out["epoch"][:10] == list(range(1, 11)) and out["epoch"][-3:] == [198, 199, 200]
    assert out["epoch"] == sorted(set(out["epoch"]))
    i = np.array(out["epoch"]) - 1
    np.testing.assert_allclose(out["cosine"], cosine[i], rtol=1e-3)
    np.testing.assert_allclose(out["td_ratio"], ratio[i], rtol=1e-3)
    assert out["cosine_late"] == pytest.approx((cosine[-1] + cosine[-2] + cosine[-3]) / 3,
                                               rel=1e-3)
    assert out["td_ratio_peak"] == pytest.approx(max(ratio), rel=1e-3)
    short = br.history_summary({"cosine": [np.nan, 0.5], "td_ratio": [0.0, 0.1]})
    assert short["epoch"] == [1, 2] and short["cosine_late"] == 0.5
    # three passes: "late" is the last one (the first is not late)
    three = br.history_summary({"cosine": [1.0, 0.4, 0.3], "td_ratio": [1.0, 0.8, 0.7]})
    assert three["epoch"] == [1, 2, 3]
    assert (three["cosine_late"], three["td_ratio_late"], three["td_ratio_peak"]) \
        == (0.3, 0.7, 1.0)


def test_reservoir_refits_with_fewer_epochs_are_the_first_epochs(digits):
    X, _, y_noisy = digits
    kw = dict(n_reservoir=30, random_state=1)
    short = ITDSReservoirClassifier(max_iter=3, **kw).fit(X, y_noisy).td_history_
    long = ITDSReservoirClassifier(max_iter=5, **kw).fit(X, y_noisy).td_history_
    for key in ("e_sup", "e_td", "cosine"):
        np.testing.assert_array_equal(short[key], long[key][:3])


def test_mlp_refits_with_fewer_epochs_are_the_first_epochs(digits):
    X, _, y_noisy = digits
    kw = dict(hidden_layer_sizes=(15,), n_iter_no_change=100, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short = ITDSMLPClassifier(max_iter=3, **kw).fit(X, y_noisy)
        long = ITDSMLPClassifier(max_iter=5, **kw).fit(X, y_noisy)
    np.testing.assert_array_equal(short.loss_curve_, long.loss_curve_[:3])
    np.testing.assert_array_equal(short.td_history_["cosine"], long.td_history_["cosine"][:3])


@pytest.mark.parametrize("td_gain", [0.0, 1.5])
def test_prototype_loop_equals_the_library_readout(td_gain):
    rng = np.random.RandomState(0)
    R = np.hstack([rng.standard_normal((40, 6)), np.ones((40, 1))])
    Y = np.eye(3)[rng.randint(0, 3, 40)]
    W, _ = br.proto_lms(R, Y, np.random.RandomState(5), 3, learning_rate=0.1,
                        td_gain=td_gain, td_timescale=4.0,
                        echo="learned" if td_gain else "none", loop=True)
    readout = ITDSReadout(7, 3, rule="lms", learning_rate=0.1, td_gain=td_gain,
                          td_timescale=4.0)
    order_rng = np.random.RandomState(5)
    for _ in range(3):
        order = order_rng.permutation(40)
        readout.partial_fit(R[order], Y[order])
    np.testing.assert_allclose(W, readout.W, rtol=1e-10, atol=1e-12)


def test_prototype_echoes_by_hand():
    rng = np.random.RandomState(1)
    R = np.hstack([rng.standard_normal((5, 3)), np.ones((5, 1))])
    Y = np.eye(2)[[0, 1, 1, 0, 1]]
    g, tau, eta = 2.0, 3.0, 0.2
    for echo in ("temporal", "per_sample"):
        W, _ = br.proto_lms(R, Y, np.random.RandomState(0), 2, learning_rate=eta,
                            td_gain=g, td_timescale=tau, echo=echo, td_sign=-1)
        # written out again, the simplest way
        W2, running, memory = np.zeros((4, 2)), None, {}
        order_rng = np.random.RandomState(0)
        for _ in range(2):
            for i in order_rng.permutation(5):
                z = R[i] @ W2
                if echo == "temporal":
                    d = z if running is None else running
                    running = d + (z - d) / tau
                else:
                    d = memory.get(i, z)
                    memory[i] = d + (z - d) / tau
                delta = ((Y[i] - z) - g * (d - z)) / (1 + g)
                W2 = W2 + eta / (R[i] @ R[i]) * np.outer(R[i], delta)
        np.testing.assert_allclose(W, W2, rtol=1e-12)


def test_readings_quick_run_writes_records_and_tables(tmp_path):
    pytest.importorskip("matplotlib")
    br.main(["--quick", "--only", "train", "--settings", "reservoir", "MLP (Adam)",
             "--datasets", "digits", "--seeds", "2", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "readings_train.json").read_text())
    recs = data["records"]
    n_variants = {s: len(br.variants(cls, extra))
                  for s, (cls, extra, _) in br.QUICK_SETTINGS.items()}
    assert len(recs) == 2 * 2 * (n_variants["reservoir"] + n_variants["MLP (Adam)"])
    for r in recs:
        assert len(r["epochs"]) == len(r["acc"]) and r["final_acc"] == r["acc"][-1]
        assert set(r["history"]) == {"epoch", "cosine", "td_ratio", "cosine_late",
                                     "td_ratio_late", "td_ratio_peak"}
        assert r["history"]["epoch"][-1] == r["epochs"][-1]
        assert (set(r["p3"]) == {"epoch 1", "end"}) == (r["noise"] > 0)
        assert (r["p4"] is not None) == (r["noise"] == 0)
    for name in ("accuracy", "p2", "p3", "p4", "summary"):
        _check_tables((tmp_path / f"readings_{name}.rst").read_text())
    assert (tmp_path / "readings_p2.png").stat().st_size > 0
    # a rerun of one seed replaces its records and keeps the others
    br.main(["--quick", "--only", "train", "--settings", "reservoir", "--datasets",
             "digits", "--seeds", "1", "--out", str(tmp_path)])
    assert len(json.loads((tmp_path / "readings_train.json").read_text())["records"]) \
        == len(recs)


def test_readings_quick_run_of_the_decision_echo(tmp_path):
    pytest.importorskip("matplotlib")
    setting = "reservoir (ridge)"
    br.main(["--quick", "--only", "train", "--only", "p5", "--settings", setting,
             "--datasets", "digits", "--seeds", "2", "--out", str(tmp_path)])
    recs = json.loads((tmp_path / "readings_train.json").read_text())["records"]
    assert {r["variant"] for r in recs} == {br.DECISION, br.DECISION_ALL_PASSES, br.RIDGE,
                                            br.RIDGE_3X}
    assert len(recs) == 2 * 2 * 4 and {r["setting"] for r in recs} == {setting}
    for r in recs:
        assert r["epochs"] == [1, 3]
        assert ("kept_pass" in r) == (r["variant"] != br.DECISION_ALL_PASSES)
        if r["variant"] in (br.RIDGE, br.RIDGE_3X):  # td_gain=0: every pass the same
            assert r["kept_pass"] == 1
        assert ("rls_alpha" in r) == (r["variant"] == br.RIDGE_3X)
        if r["variant"] == br.RIDGE_3X:  # 3 x the penalty of the ablation, same data
            Xtr, ytr, _, _ = br.load_data("digits", r["seed"], quick=True)
            y_fit = corrupt_labels(ytr, r["noise"], random_state=r["seed"]) \
                if r["noise"] else ytr
            loo = ITDSReservoirClassifier(n_reservoir=40, td_gain=0.0, max_iter=1,
                                          random_state=r["seed"]).fit(Xtr, y_fit)
            assert r["rls_alpha"] == pytest.approx(3 * loo.rls_alpha_)
        # the decision echo's first pass has the labels as its echo: e_td = e_sup
        if r["variant"] in (br.DECISION, br.RIDGE):
            assert r["history"]["cosine"][0] == pytest.approx(1.0)
            assert r["history"]["td_ratio"][0] == pytest.approx(1.0)
    p5 = json.loads((tmp_path / "readings_p5.json").read_text())["records"]
    assert {(r["setting"], r["variant"]) for r in p5} == {(setting, br.DECISION),
                                                          (setting, br.RIDGE)}
    # the mask control has the split's fixed penalty (10), also without zeros
    (rec,) = [r for r in p5 if r["variant"] == br.RIDGE and r["seed"] == 1]
    Xtr, ytr, Xte, yte = br.load_data("digits", 1, quick=True)
    mask = ITDSReservoirClassifier(n_reservoir=40, td_gain=0.0, rls_alpha=10.0,
                                   readout_sparsity=min(rec["zeros"], 0.99),
                                   random_state=1).fit(Xtr, ytr)
    assert rec["mask_acc"] == pytest.approx(mask.score(Xte, yte))
    for name in ("accuracy", "p2", "p3", "p4", "p5", "summary"):
        _check_tables((tmp_path / f"readings_{name}.rst").read_text())
    assert "Early stopping of the decision echo" in \
        (tmp_path / "readings_accuracy.rst").read_text()


def test_merge_records_keeps_the_metadata_of_earlier_runs(tmp_path):
    path = tmp_path / "r.json"
    _report.merge_records(path, [{"k": 1, "v": 0}], ("k",), {"command": "first"})
    _report.merge_records(path, [{"k": 2, "v": 0}], ("k",), {"command": "second"})
    data = json.loads(path.read_text())
    assert data["meta"]["command"] == "second" and data["meta"]["run"] == 1
    assert [(m["command"], m["run"]) for m in data["meta"]["earlier_runs"]] == [("first", 0)]
    assert [r["run"] for r in data["records"]] == [0, 1]
    _report.merge_records(path, [], ("k",), {"command": "nothing"})  # no records: no change
    assert json.loads(path.read_text()) == data
    # a run whose records are all replaced leaves the history
    _report.merge_records(path, [{"k": 2, "v": 1}], ("k",), {"command": "third"})
    meta = json.loads(path.read_text())["meta"]
    assert meta["run"] == 2 and [m["command"] for m in meta["earlier_runs"]] == ["first"]
    _report.merge_records(path, [{"k": 1, "v": 1}], ("k",), {"command": "fourth"})
    meta = json.loads(path.read_text())["meta"]
    assert [m["command"] for m in meta["earlier_runs"]] == ["third"]
    # a file written before runs were numbered: its records are run 0
    path.write_text(json.dumps({"meta": {"command": "old"}, "records": [{"k": 5}]}))
    _report.merge_records(path, [{"k": 6}], ("k",), {"command": "new"})
    data = json.loads(path.read_text())
    assert data["meta"]["run"] == 1 and data["meta"]["earlier_runs"] == [{"command": "old"}]


def test_sequence_list_passes_sample_weights_on():
    import bench_label_noise as bl
    X, y, _, _ = bl.toy_sequences(0)
    w = np.random.RandomState(1).uniform(0, 2, len(y))
    model = ITDSReservoirClassifier(n_reservoir=20, random_state=0)
    wrapped = bl.SequenceList(model).fit(bl.object_array(X), y, sample_weight=w)
    direct = ITDSReservoirClassifier(n_reservoir=20, random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(wrapped.estimator_.readout_.W, direct.readout_.W)
    plain = ITDSReservoirClassifier(n_reservoir=20, random_state=0).fit(X, y)
    assert not np.array_equal(plain.readout_.W, direct.readout_.W)


def _check_tables(text):
    """Every list-table has rows as long as its header (docutils refuses others)."""
    assert text.startswith(".. list-table::")
    for table in text.split(".. list-table::")[1:]:
        rows = table.split("\n   * - ")[1:]
        widths = {1 + row.count("\n     - ") for row in rows}
        assert len(rows) >= 2 and len(widths) == 1, widths


def test_label_noise_quick_run_with_cleanlab(tmp_path):
    pytest.importorskip("cleanlab")
    pytest.importorskip("matplotlib")
    import bench_label_noise as bl
    bl.main(["--quick", "--seeds", "1", "--out", str(tmp_path)])
    recs = json.loads((tmp_path / "label_noise.json").read_text())["records"]
    names = {r["model"] for r in recs}
    assert bl.PEER in names and "CleanLearning(ITDSReservoirClassifier())" in names
    # the reservoir runs its defaults, its ablation and the labelled LMS setting only
    assert {n for n in names if n.startswith("ITDSReservoirClassifier")} == {
        bl._default_label("reservoir"), "ITDSReservoirClassifier(td_gain=0)", bl.LMS_LABEL}
    assert {r["dataset"] for r in recs} == {"digits", "toy_sequences"}
    for r in recs:
        assert 0 <= r["acc"] <= 1 and r["fit_seconds"] > 0
        if r["model"].startswith("CleanLearning"):
            assert 0 <= r["flagged_wrong"] <= min(r["flagged"], r["wrong"])
    # the unequal-length toy sequences went through cleanlab as sequences
    toy = [r for r in recs if r["dataset"] == "toy_sequences"
           and r["model"] == "CleanLearning(ITDSReservoirClassifier())"]
    assert toy and toy[0]["flagged"] > 0
    # one recorded accuracy, recomputed independently
    data, ytr, yte = bl.load_data("digits", 0, quick=True)
    y_noisy = corrupt_labels(ytr, 0.4, random_state=0)
    model = ITDSReservoirClassifier(n_reservoir=40, max_iter=5, td_gain=0.0,
                                    random_state=0).fit(data["reservoir"][0], y_noisy)
    (rec,) = [r for r in recs if r["dataset"] == "digits"
              and r["model"] == "ITDSReservoirClassifier(td_gain=0)"]
    assert rec["acc"] == pytest.approx(model.score(data["reservoir"][1], yte))
    _check_tables((tmp_path / "label_noise_summary.rst").read_text())
    _check_tables((tmp_path / "label_noise.rst").read_text())


def test_classifier_and_recurrent_product_benchmarks_run_on_tiny_sizes(tmp_path, capsys):
    """The performance scripts run end to end (timings unchecked); the
    classifier's record is consistent with itself and counts the sparse
    reservoir's work below the dense one's."""
    import bench_classifier
    import bench_recurrent_product

    out = tmp_path / "classifier.json"
    bench_classifier.main(["--n-samples", "300", "--n", "60", "--json", str(out),
                           "--peak-size", "300"])
    record = json.loads(out.read_text())
    for call in ("fit", "predict"):
        row = record[call]
        np.testing.assert_allclose(row["executed_gflops"] * row["seconds"],
                                   row["executed_gflop"], rtol=1e-9)
        assert row["reservoir_gflops"] < row["dense_equiv_gflops"]  # density 0.05
    assert record["fit"]["executed_gflop"] > record["predict"]["executed_gflop"]
    bench_recurrent_product.main(["--n", "40", "--batch", "8", "--repeats", "1"])
    assert "dense / sparse median" in capsys.readouterr().out
