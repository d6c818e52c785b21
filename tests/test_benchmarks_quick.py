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
                             (ITDSReservoirClassifier, "learning_rate", br.RESERVOIR_LMS)):
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
    v = br.variants(ITDSReservoirClassifier, {"learning_rule": "rls", "max_iter": 1})
    assert br.PLAIN_LOW not in v and br.PLAIN in v


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
            np.mean((model.learning_rate * delta * inv_r / (1 + g))[sel]), rtol=1e-10)


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
