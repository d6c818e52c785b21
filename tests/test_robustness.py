"""Perturbations and ``robustness_curve`` (sklearn_itds.robustness)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning
from scipy.special import logsumexp
from sklearn.datasets import load_digits, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier
from sklearn_itds.robustness import (corrupt_labels, corrupt_targets, fgsm,
                                     gaussian_noise, input_gradient, robustness_curve,
                                     rotate_images, supports_input_gradient)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _sample_losses(model, X, y):
    """Per-sample cross-entropy from predict_proba (independent of the gradient code)."""
    P = model.predict_proba(X)
    col = np.searchsorted(model.classes_, y)
    return -np.log(P[np.arange(len(y)), col])


def _models(X, y):
    """Fitted models of every supported kind (tanh: smooth for finite differences)."""
    binary = y % 2
    return [
        (_fit(ITDSMLPClassifier((15,), "tanh", max_iter=15, random_state=0), X, y), y),
        (_fit(ITDSMLPClassifier((15,), "relu", max_iter=15, random_state=1), X, y), y),
        (_fit(MLPClassifier((15,), "tanh", max_iter=15, random_state=0), X, y), y),
        (_fit(MLPClassifier((15, 7), "logistic", max_iter=15, random_state=0), X,
              binary), binary),
        (_fit(make_pipeline(StandardScaler(), MinMaxScaler(),
                            MLPClassifier((15,), "tanh", max_iter=15, random_state=0)),
              X * 3 + 1, y), y),
    ]


# -- FGSM -------------------------------------------------------------------------------
def test_input_gradients_match_finite_differences(digits):
    X, y = digits
    for model, labels in _models(X, y):
        Xs = X[:6] * 3 + 1 if hasattr(model, "steps") else X[:6]
        grad = input_gradient(model, Xs, labels[:6])
        h = 1e-6
        fd = np.empty_like(grad)
        for j in range(Xs.shape[1]):
            Xp, Xm = Xs.copy(), Xs.copy()
            Xp[:, j] += h
            Xm[:, j] -= h
            fd[:, j] = (_sample_losses(model, Xp, labels[:6])
                        - _sample_losses(model, Xm, labels[:6])) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-7,
                                   err_msg=str(model))
        assert np.abs(grad).max() > 1e-4  # not trivially zero


def test_itds_input_gradient_is_the_models_own(digits):
    X, y = digits
    model = _models(X, y)[0][0]
    np.testing.assert_array_equal(input_gradient(model, X[:5], y[:5]),
                                  model.input_gradient(X[:5], y[:5]))


def test_softmax_gradient_matches_a_naive_reimplementation(digits):
    X, y = digits
    model = _fit(MLPClassifier((10,), "tanh", max_iter=10, random_state=0), X, y)
    (W1, W2), (b1, b2) = model.coefs_, model.intercepts_
    x, label = X[3], y[3]
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    p = np.exp(logits - logsumexp(logits))
    p[label] -= 1
    expected = W1 @ ((W2 @ p) * (1 - h**2))
    np.testing.assert_allclose(input_gradient(model, X[3:4], y[3:4])[0], expected,
                               rtol=1e-10, atol=1e-14)


def test_fgsm_moves_each_feature_by_eps_and_raises_the_loss(digits):
    X, y = digits
    eps = 1e-3
    for model, labels in _models(X, y):
        Xs = X * 3 + 1 if hasattr(model, "steps") else X
        grad = input_gradient(model, Xs, labels)
        X_adv = fgsm(model, Xs, labels, eps)
        moved = np.abs(X_adv - Xs)
        np.testing.assert_allclose(moved[grad != 0], eps, rtol=1e-9)
        assert np.all(moved[grad == 0] == 0)
        np.testing.assert_array_equal(np.sign(X_adv - Xs), np.sign(grad))
        clean, adv = _sample_losses(model, Xs, labels), _sample_losses(model, X_adv,
                                                                       labels)
        assert np.all(adv > clean), str(model)
        net = model[-1] if hasattr(model, "steps") else model
        if net.activation != "relu":  # smooth: the loss rises by eps * |grad|_1
            np.testing.assert_allclose(adv - clean, eps * np.abs(grad).sum(1),
                                       rtol=0.05)


def test_fgsm_lowers_accuracy(digits):
    X, y = digits
    model = _fit(ITDSMLPClassifier((30,), max_iter=30, random_state=0), X, y)
    assert model.score(fgsm(model, X, y, 0.2), y) < model.score(X, y) - 0.2


def test_fgsm_rejects_unsupported_models(digits):
    X, y = digits
    for model in (_fit(LogisticRegression(max_iter=50), X, y),
                  _fit(make_pipeline(SVC(), ), X, y)):
        with pytest.raises(TypeError, match="MLPClassifier"):
            fgsm(model, X, y, 0.1)
    clipped = _fit(make_pipeline(MinMaxScaler(clip=True), MLPClassifier(max_iter=5)),
                   X, y)
    with pytest.raises(TypeError, match="clip=False"):
        fgsm(clipped, X, y, 0.1)
    assert not supports_input_gradient(clipped)
    assert supports_input_gradient(make_pipeline(StandardScaler(), ITDSMLPClassifier()))
    assert not supports_input_gradient(ITDSReservoirClassifier())


def test_fgsm_bad_input(digits):
    X, y = digits
    model = _models(X, y)[2][0]
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, X, y, -0.1)
    with pytest.raises(ValueError, match="not in"):
        fgsm(model, X[:3], [0, 1, 42], 0.1)
    with pytest.raises(ValueError, match="features"):
        fgsm(model, X[:, :10], y, 0.1)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        fgsm(MLPClassifier(), X, y, 0.1)


# -- rotation, noise, counter-trials ------------------------------------------------------
def test_rotation_by_zero_is_identity_and_by_90_is_rot90():
    rng = np.random.RandomState(0)
    X = rng.rand(4, 64)
    np.testing.assert_allclose(rotate_images(X, 0), X, atol=1e-12)
    images = X.reshape(4, 8, 8)
    for order in (0, 1, 3):
        out = rotate_images(X, 90, order=order).reshape(4, 8, 8)
        np.testing.assert_allclose(out, np.rot90(images, axes=(1, 2)), atol=1e-12)
    out = rotate_images(X, -180).reshape(4, 8, 8)
    np.testing.assert_allclose(out, np.rot90(images, 2, axes=(1, 2)), atol=1e-12)
    # non-square images and channels last
    Xr = rng.rand(3, 2 * 6 * 6)
    out = rotate_images(Xr, 90, image_shape=(6, 6, 2)).reshape(3, 6, 6, 2)
    np.testing.assert_allclose(out, np.rot90(Xr.reshape(3, 6, 6, 2), axes=(1, 2)),
                               atol=1e-12)


def test_small_rotation_moves_pixels_but_keeps_the_range():
    X = load_digits().data[:20] / 16
    out = rotate_images(X, 15)
    assert not np.allclose(out, X)
    assert out.min() >= -1e-12 and out.max() <= 1 + 1e-12


def test_rotation_bad_shape():
    with pytest.raises(ValueError, match="image_shape"):
        rotate_images(np.zeros((2, 63)), 10)
    with pytest.raises(ValueError, match="image_shape"):
        rotate_images(np.zeros((2, 64)), 10, image_shape=(64,))


def test_gaussian_noise_has_the_right_std_and_is_seeded():
    X = np.arange(200000.0).reshape(-1, 4)
    out = gaussian_noise(X, 0.3, random_state=0)
    noise = out - X
    assert noise.std() == pytest.approx(0.3, rel=0.01)
    assert abs(noise.mean()) < 0.005
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 0.02
    np.testing.assert_array_equal(out, gaussian_noise(X, 0.3, random_state=0))
    assert not np.array_equal(out, gaussian_noise(X, 0.3, random_state=1))
    np.testing.assert_array_equal(gaussian_noise(X, 0.0), X)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(X, -1)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.37, 1.0])
def test_corrupt_targets_replaces_exactly_the_fraction(fraction):
    rng = np.random.RandomState(0)
    y = rng.randn(101)
    before = y.copy()
    out = corrupt_targets(y, fraction, random_state=0)
    np.testing.assert_array_equal(y, before)
    assert np.sum(out != y) == int(round(fraction * 101))
    Y = rng.randn(50, 3)
    out2 = corrupt_targets(Y, fraction, random_state=0)
    changed = np.any(out2 != Y, axis=1)
    assert changed.sum() == int(round(fraction * 50))
    assert np.all((out2 != Y)[changed])  # whole rows replaced


def test_corrupt_targets_draws_from_the_target_distribution():
    y = 5 + 2 * np.random.RandomState(0).randn(20000)
    out = corrupt_targets(y, 1.0, random_state=1, scale=0.5)
    assert out.mean() == pytest.approx(y.mean(), abs=0.03)
    assert out.std() == pytest.approx(0.5 * y.std(), rel=0.02)
    assert abs(np.corrcoef(out, y)[0, 1]) < 0.03  # unrelated to the true targets


def test_corrupt_targets_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        corrupt_targets([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="scale"):
        corrupt_targets([1.0, 2.0], 0.5, scale=0)
    with pytest.raises(ValueError, match="constant"):
        corrupt_targets([1.0, 1.0, 1.0], 0.5)
    with pytest.raises(ValueError):
        corrupt_targets(["a", "b"], 0.5)


# -- robustness_curve -------------------------------------------------------------------
def _small_models():
    return {"itds": ITDSMLPClassifier((20,), max_iter=10),
            "logreg": LogisticRegression(max_iter=100)}


def test_robustness_curve_records(digits):
    X, y = digits
    levels = [0.0, 0.3, 0.6]
    records = robustness_curve(_small_models(), X, y, perturbation="noise",
                               levels=levels, n_seeds=2, random_state=3)
    assert len(records) == 2 * 3 * 2
    keys = {"estimator", "perturbation", "level", "seed", "score", "fit_time"}
    assert all(set(r) == keys for r in records)
    assert {(r["estimator"], r["level"], r["seed"]) for r in records} == {
        (e, lv, s) for e in ("itds", "logreg") for lv in levels for s in (3, 4)}
    assert all(r["perturbation"] == "noise" and 0 <= r["score"] <= 1
               and r["fit_time"] >= 0 for r in records)
    # the clean score is an independent fit on the same stratified split
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=4,
                                              stratify=y)
    model = _fit(LogisticRegression(max_iter=100), X_tr, y_tr)
    clean = [r for r in records if r["estimator"] == "logreg" and r["seed"] == 4
             and r["level"] == 0.0][0]["score"]
    assert clean == model.score(X_te, y_te)
    noisy = [r for r in records if r["estimator"] == "logreg" and r["seed"] == 4
             and r["level"] == 0.6][0]["score"]
    assert noisy == model.score(gaussian_noise(X_te, 0.6, random_state=4), y_te)
    # the iTDS model is seeded with the seed
    itds = _fit(ITDSMLPClassifier((20,), max_iter=10, random_state=4), X_tr, y_tr)
    assert [r for r in records if r["estimator"] == "itds" and r["seed"] == 4
            and r["level"] == 0.0][0]["score"] == itds.score(X_te, y_te)


def test_robustness_curve_is_deterministic_and_independent_of_n_jobs(digits):
    X, y = digits
    kw = dict(perturbation="fgsm", levels=[0.0, 0.05], n_seeds=2)
    models = {"itds": ITDSMLPClassifier((20,), max_iter=10),
              "mlp": MLPClassifier((20,), max_iter=10)}
    one = robustness_curve(models, X, y, n_jobs=1, **kw)
    again = robustness_curve(models, X, y, n_jobs=1, **kw)
    two = robustness_curve(models, X, y, n_jobs=2, **kw)
    key = [(r["estimator"], r["level"], r["seed"], r["score"]) for r in one]
    assert key == [(r["estimator"], r["level"], r["seed"], r["score"]) for r in again]
    assert key == [(r["estimator"], r["level"], r["seed"], r["score"]) for r in two]
    for name in models:
        s = {r["level"]: r["score"] for r in one if r["estimator"] == name
             and r["seed"] == 0}
        assert s[0.05] < s[0.0]


def test_robustness_curve_counter_refits_per_level(digits):
    X, y = digits
    records = robustness_curve({"logreg": LogisticRegression(max_iter=100)}, X, y,
                               perturbation="counter", levels=[0.0, 0.5], n_seeds=1)
    assert len(records) == 2
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0,
                                              stratify=y)
    bad = corrupt_labels(y_tr, 0.5, random_state=0)
    expected = _fit(LogisticRegression(max_iter=100), X_tr, bad).score(X_te, y_te)
    assert records[1]["level"] == 0.5 and records[1]["score"] == expected
    assert records[0]["score"] == _fit(LogisticRegression(max_iter=100), X_tr,
                                       y_tr).score(X_te, y_te)


def test_robustness_curve_counter_for_regressors():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = X @ [1.0, -2.0, 0.5]
    records = robustness_curve({"ridge": Ridge(alpha=1e-6)}, X, y,
                               perturbation="counter", levels=[0.0, 0.4], n_seeds=2)
    scores = {(r["level"], r["seed"]): r["score"] for r in records}
    assert scores[0.0, 0] == pytest.approx(1.0)
    assert scores[0.4, 0] < 0.99 and scores[0.4, 1] < 0.99


def _flip(X, level, random_state=None):
    return X[:, ::-1] if level else X


def test_robustness_curve_rotation_and_callable(digits):
    X, y = digits
    kw = dict(levels=[0.0, 180.0], n_seeds=1)
    rot = robustness_curve({"l": LogisticRegression(max_iter=100)}, X, y,
                           perturbation="rotation", **kw)
    # rotating an 8x8 image by 180 degrees reverses its pixels
    flip = robustness_curve({"l": LogisticRegression(max_iter=100)}, X, y,
                            perturbation=_flip, **kw)
    assert [r["score"] for r in rot] == pytest.approx([r["score"] for r in flip],
                                                      abs=1e-12)
    assert flip[0]["perturbation"] == "_flip"
    assert rot[1]["score"] < rot[0]["score"]


def test_robustness_curve_fgsm_skips_or_raises_for_unsupported(digits):
    X, y = digits
    models = {"mlp": MLPClassifier((10,), max_iter=5), "svc": SVC()}
    with pytest.warns(UserWarning, match="skipping svc"):
        records = robustness_curve(models, X, y, perturbation="fgsm", levels=[0.1],
                                   n_seeds=1)
    assert {r["estimator"] for r in records} == {"mlp"}
    with pytest.raises(TypeError, match="svc"):
        robustness_curve(models, X, y, perturbation="fgsm", levels=[0.1], n_seeds=1,
                         on_unsupported="raise")


@pytest.mark.parametrize("kwargs, message", [
    ({"perturbation": "blur"}, "perturbation"),
    ({"levels": []}, "levels"),
    ({"n_seeds": 0}, "n_seeds"),
    ({"estimators": {}}, "estimators"),
    ({"estimators": {"a": LogisticRegression(), "b": Ridge()}}, "mixes"),
    ({"perturbation": "rotation", "image_shape": (7, 7)}, "image_shape"),
    ({"random_state": None}, "random_state"),
    ({"on_unsupported": "ignore"}, "on_unsupported"),
])
def test_robustness_curve_bad_input(digits, kwargs, message):
    X, y = digits
    args = dict(estimators={"l": LogisticRegression()}, perturbation="noise",
                levels=[0.1], n_seeds=1)
    args.update(kwargs)
    estimators = args.pop("estimators")
    with pytest.raises(ValueError, match=message):
        robustness_curve(estimators, X, y, **args)


def test_robustness_curve_runs_on_a_dask_backend(digits):
    distributed = pytest.importorskip("distributed")
    import joblib

    X, y = digits
    kw = dict(perturbation="noise", levels=[0.0, 0.4], n_seeds=2)
    local = robustness_curve(_small_models(), X, y, n_jobs=1, **kw)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with joblib.parallel_backend("dask"):
            spread = robustness_curve(_small_models(), X, y, **kw)
    assert [r["score"] for r in spread] == [r["score"] for r in local]


def test_corrupt_labels_takes_a_column_and_rejects_a_matrix():
    y = np.repeat([0, 1, 2], 10)
    with pytest.warns(DataConversionWarning):
        column = corrupt_labels(y[:, None], 0.3, random_state=0)
    np.testing.assert_array_equal(column, corrupt_labels(y, 0.3, random_state=0))
    with pytest.raises(ValueError, match="1d array"):
        corrupt_labels(np.eye(3)[y], 0.3)


def test_diagnostics_name_an_unknown_label_plainly():
    X, y = load_iris(return_X_y=True)
    unknown = np.full(len(X), 7)
    message = r"labels \[7\] that the model was not fitted on \(classes_ = \[0, 1, 2\]\)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = ITDSMLPClassifier(hidden_layer_sizes=(5,), max_iter=3,
                                random_state=0).fit(X, y)
        reservoir = ITDSReservoirClassifier(n_reservoir=10, random_state=0).fit(X, y)
    for model in (mlp, reservoir):
        with pytest.raises(ValueError, match=message):
            model.td_step_norms(X, unknown)
    with pytest.raises(ValueError, match=message):
        fgsm(mlp, X, unknown, 0.1)


def test_perturbations_keep_float32_and_check_the_spline_order():
    X = np.random.RandomState(0).rand(5, 16)
    noisy32 = gaussian_noise(X.astype(np.float32), 0.3, random_state=1)
    assert noisy32.dtype == np.float32
    np.testing.assert_allclose(noisy32, gaussian_noise(X, 0.3, random_state=1), atol=1e-6)
    assert rotate_images(X.astype(np.float32), 30, image_shape=(4, 4)).dtype == np.float32
    with pytest.raises(ValueError, match="order=7 must be an int from 0 to 5"):
        rotate_images(X, 30, image_shape=(4, 4), order=7)
