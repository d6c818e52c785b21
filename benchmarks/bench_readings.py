"""Which reading of the iTDS rule reproduces which claimed property (P1-P6).

Usage (from the repository root)::

    python benchmarks/bench_readings.py                  # everything, 5 seeds
    python benchmarks/bench_readings.py --only train --datasets digits --seeds 5
    python benchmarks/bench_readings.py --only proto     # temporal / per-sample echoes
    python benchmarks/bench_readings.py --only report    # tables + figures from the JSON
    python benchmarks/bench_readings.py --only train --only p5 --settings "reservoir (ridge)"
    python benchmarks/bench_readings.py --quick --out /tmp/q   # smoke run (a test runs it)

Parts (``--only``, repeatable; each writes its own JSON under
``benchmarks/results/`` and a rerun of some datasets or seeds replaces only
those records; every run ends by rewriting the tables and figures from the
JSON files):

- ``train``: every reading of :class:`~sklearn_itds.ITDSMLPClassifier` and
  :class:`~sklearn_itds.ITDSReservoirClassifier` and the plain learners,
  on clean training labels and with 30 % of them replaced by another class
  (:func:`~sklearn_itds.robustness.corrupt_labels`; test labels clean).
  Measures P1/P2 (``td_history_``: cosine(e_sup, e_td) and ``|e_td| /
  |e_sup|`` per epoch; test accuracy per epoch and the epochs needed to reach
  a threshold), P3 (step sizes on counter-trials and clean trials, see
  below), P4 (accuracy with 30 % counter-trials; on digits also input noise,
  rotation and FGSM on the clean-trained models) and P6 (final accuracy on
  every task and dataset). ``readings_train.json`` (the diagnostics at the
  epochs of :func:`kept_epochs`, with their exact late means and peaks: see
  :func:`history_summary`).
- ``p5``: the reservoir on clean digits, each reading with the sign-split
  readout and with a random mask of the split's sparsity. ``readings_p5.json``.
- ``proto``: prototypes of two more readings (the issue's *temporal* echo, a
  running average of the output over recent updates, and the *per-sample*
  echo, each sample's running average of its own past outputs), written out
  here on the reservoir classifier's own features, never in the library;
  ``readings_proto.json``.

**The settings.** ``--settings`` picks some of them (``train``, ``p5``;
``proto`` runs with "reservoir"):

- "MLP (Adam)", "MLP (SGD)": :class:`~sklearn_itds.ITDSMLPClassifier`.
- "reservoir": :class:`~sklearn_itds.ITDSReservoirClassifier` with its
  per-row normalized-LMS readout and the learned echo, ``RESERVOIR_LMS``
  (150 passes, ``td_gain=1``, ``td_timescale=20``, input and bias scaling
  0.3 and 0.2, density 0.1, float64): the classifier's default when these
  readings were first measured. Its records stay valid for the learned and
  weight-average readings; the tables call it "reservoir (LMS)".
- "reservoir (ridge)": the classifier at its defaults when the script runs
  (today the ridge readout with the leave-one-out penalty and the decision
  echo, ``td_gain=2``, ``td_timescale=1``, 3 passes, early stopping).

**The readings.** For the MLPs and the LMS reservoir: ``echo`` in
{"learned", "weight_average"} x ``td_sign`` in {+1, -1} at the setting's
``td_gain`` g and ``td_timescale``, and the ``td_gain=0`` ablation (plain
learning at the setting's rate). For the decision echo (``echo="decision"``,
the ridge readout): the reading as set, the same with
``early_stopping=False`` (all 3 passes), and two plain ridge controls (below).
(``td_sign=-1`` with the decision echo needs ``td_gain < 1`` and is not
run.) All defaults (g, the rates, ``max_iter``, sizes) are read from the
estimators at run time, so the script measures whatever the defaults are
when it runs.

**Separating a reading from a change of learning rate.** A reading changes
both *where* a step goes and *how large* it is, so beside the ablation (plain
learning at the default rate eta) every model is compared with plain learning
over a *rate bracket* that covers the reading's effective rate, with
g = ``td_gain`` and s = ``td_sign``:

- Reservoir readout (normalized LMS, bounded rule): every step is
  ``eta r delta_b^T / |r|^2`` with ``delta_b = ((y - z) + s g (d - z)) / (1 +
  g)``. The target enters with weight eta / (1 + g) exactly, for every reading
  and sign, so plain LMS at eta / (1 + g) is the **matched plain learner**: it
  differs from the reading only by the top-down term. The readout's own
  output enters with weight eta (s = +1; a step of size eta toward the mixed
  target ``(y + g d) / (1 + g)``) or eta (1 - g) / (1 + g) (s = -1), never
  more than eta. Bracket: eta / (1 + g) and eta (the ablation). For
  ``learning_rule="rls"`` there is no rate and only the ablation is run.
- MLP with SGD: the logits' gradient is ``(p - y) + s g (p - p_echo)``: the
  target enters with weight 1 (the matched plain learner is the ablation,
  eta), the output itself with 1 + s g (up to eta (1 + g)).
- MLP with Adam (its default): Adam's step does not change when the
  gradient is multiplied by a constant, so the rule acts as its bounded form
  ``(p - y) / (1 + g) + s g / (1 + g) (p - p_echo)``, and Adam then rescales
  each weight's step by the size of the whole gradient: the supervised part's
  effective rate is about eta |e_sup| / |delta|, from eta / (1 + g) to above
  eta when the top-down term cancels part of ``e_sup`` (a ``|delta| /
  |e_sup|`` of 0.6 gives 1.7 eta).
- MLP bracket: eta / (1 + g), eta (the ablation) and eta (1 + g).
- The decision echo on the ridge readout: there is no rate (every pass is
  a closed-form ridge fit toward ``(y + g d) / (1 + g)``), and a linear
  echo at its fixed point is ridge with a larger penalty
  (``docs/method.rst``), so the controls bracket *shrinkage*: plain ridge
  with the leave-one-out penalty (the ``td_gain=0`` ablation) and plain
  ridge with ``SHRINKAGE`` = 3 times that penalty (the ablation's
  ``rls_alpha_`` on the same data and seed: :func:`resolve_params`).

A reading is credited with an effect only where it beats the **best** plain
learner of the bracket (the best by mean over seeds, picked on the same test
data: this favours plain learning) by more than chance: a one-sided paired
t-test over the seeds at 5 % (seeds pair the split, the weights, the
corruption and the order).

**P3, the same-weights step ratio.** After the first epoch and at the end of
a 30 %-counter-trial fit, for every training sample with the label it was
trained on, ``td_step_norms`` gives the size of the update the reading would
make from its current weights (not applied), and the plain step on the same
weights is computed alongside: for the reservoir from a copy of the fitted
model whose readout has ``td_gain = 0`` and the matched rate eta / (1 + g)
(RLS, which has no rate: the ``td_gain = 0`` step with the same ``P``), for
the MLP independently from the public attributes (``coefs_``,
``intercepts_``: ``learning_rate_init |[h, 1]| |y - p|``, plain SGD, the
matched rate of SGD). The ratio rho = mean reading step / mean plain step
over the counter-trials (and over the clean samples) is thus ``|e_sup + s g
e_td| / |e_sup|`` weighted by the samples' step scale: rho < 1 means the
top-down term cancels part of the supervised error on that kind of sample
(P3), beyond the change of rate. (For the LMS reservoir, the step relative
to plain learning at the default rate is rho / (1 + g).) For the RLS readout
rho is ``|e_sup + g e_td| / ((1 + g) |e_sup|)`` weighted by the gains ``|P
r| / (1 + r^T P r)``, the decision echo of a sample being the readout's
present decision on it (``td_step_norms``): a sample whose decision is its
label gets exactly the plain step, one decided as another class a smaller
one.

**Task suite and data** (5 seeds; the seed sets the split, weights,
corruption and order):

- MLP (Adam, the defaults): the classification tasks of
  :func:`sklearn_itds.datasets.list_tasks` that the MLP is suggested for,
  except the linearly separable ``and`` and ``or`` (left out to fit the
  compute budget; so: digits, mnist1d, xor, parity3), and the three development
  sequence datasets flattened (padded with each series' last value,
  standardized with the training statistics); ``fit`` for exactly
  ``max_iter`` epochs (300 for the logic tasks; ``n_iter_no_change`` is
  raised so that the stopping rule does not end a run early).
- MLP with SGD (learning_rate_init 0.05, batch 32, no momentum: the setting
  of the issue's prototype, where outputs vary most early): digits, 30 epochs.
- Reservoir (both settings): digits, delayed_xor and the development
  sequence datasets (JapaneseVowels, BasicMotions, ItalyPowerDemand,
  official splits, read as sequences), ``fit`` at the setting's parameters
  (the reservoir's own defaults, not delayed_xor's suggested ones). The
  regression tasks are not run: the issue's readings concern the two
  classifiers.
- Test accuracy during training is read at checkpoints (MLP: 1, 2, 3, 5, 10,
  20, 50 epochs and the end; reservoir: 1, 3, 10, 30 and the end, so passes
  1 and 3 for the ridge readout, whose first pass is plain ridge) from
  refits with a smaller ``max_iter`` and the same seed, which are exactly
  the first epochs of the full fit (tested); the full fit's ``td_history_``
  gives every epoch's diagnostics (for a closed-form pass they are those of
  its leave-one-out outputs; the decision echo's first pass has the labels
  as its echo, so there ``e_td = e_sup``: cosine 1 and ratio 1 by
  construction). The reservoir refits share their test rows
  (:class:`RowScorer`). Early stopping: the pass it kept is recorded
  (``kept_pass``).
- Held-out archive datasets are never used.

P4 input perturbations (digits, models trained on clean labels): Gaussian
noise sigma in {0.1, 0.2, 0.3, 0.5}, rotation in {10, 20, 30, 45} degrees,
FGSM eps in {0.02, 0.05, 0.1, 0.2} (MLPs only: the reservoir gives no input
gradient). Speed: the test accuracy after the first epoch, and the epochs
until it first reaches 98 % of the ablation's mean final accuracy in that
cell (at the checkpoints; "never" counts as twice the last epoch in the
paired test).

Compute budget: the full run (5 seeds) took 40 min of wall time (30 min of
CPU) on a 2-core machine shared with other jobs at a load average of 4-7
(``nice -n 5``, one BLAS thread): ``train`` 27 min, ``p5`` 7 min, ``proto``
6 min, before "reservoir (ridge)" was added; that setting adds about 3 min
(``train`` 2.3 min, ``p5`` 0.2 min at a load average of 2.5-3.3), so the
whole default run stays under 50 min. To fit that, the MLP leaves out
``and`` and ``or``, the SGD setting runs on digits only, and the P4 input
perturbations on digits only.
``--quick`` runs tiny models on part of digits, xor and delayed_xor (under a
minute).
"""

import argparse
import copy
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg.blas import dger
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _report import load_average, merge_records  # noqa: E402

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier  # noqa: E402
from sklearn_itds._itds import ITDSReadout  # noqa: E402
from sklearn_itds.datasets import load_task  # noqa: E402
from sklearn_itds.robustness import (corrupt_labels, fgsm, gaussian_noise,  # noqa: E402
                                     rotate_images)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"

READINGS = (("learned", 1), ("learned", -1), ("weight_average", 1), ("weight_average", -1))
NOISES = (0.0, 0.3)
SEQUENCES = ("JapaneseVowels", "BasicMotions", "ItalyPowerDemand")
LOGIC = ("xor", "parity3")
MLP_CHECKPOINTS = (1, 2, 3, 5, 10, 20, 50)
RES_CHECKPOINTS = (1, 3, 10, 30)
PERTURB = {"noise": (0.1, 0.2, 0.3, 0.5), "rotation": (10.0, 20.0, 30.0, 45.0),
           "fgsm": (0.02, 0.05, 0.1, 0.2)}
SGD = dict(solver="sgd", learning_rate_init=0.05, batch_size=32, momentum=0.0)

# The reservoir classifier's per-row LMS readout, the setting these readings
# were measured in (its default until the ridge readout with the decision echo
# replaced it; that reading is measured in benchmarks/select_classifier.py).
RESERVOIR_LMS = dict(learning_rule="lms", echo="learned", rls_alpha=10.0, td_gain=1.0,
                     td_timescale=20.0, max_iter=150, input_scaling=0.3,
                     bias_scaling=0.2, density=0.1, dtype="float64")

# setting: (estimator class, parameters changed from its defaults, datasets).
# "reservoir" is the per-row LMS setting above (its records predate the ridge
# readout); "reservoir (ridge)" is the classifier at its defaults: the ridge
# readout with the leave-one-out penalty and the decision echo.
SETTINGS = {
    "MLP (Adam)": (ITDSMLPClassifier, {},
                   ("digits", "mnist1d", "xor", "parity3", *SEQUENCES)),
    "MLP (SGD)": (ITDSMLPClassifier, SGD, ("digits",)),
    "reservoir": (ITDSReservoirClassifier, RESERVOIR_LMS,
                  ("digits", "delayed_xor", *SEQUENCES)),
    "reservoir (ridge)": (ITDSReservoirClassifier, {},
                          ("digits", "delayed_xor", *SEQUENCES)),
}
QUICK_SETTINGS = {
    "MLP (Adam)": (ITDSMLPClassifier, {"hidden_layer_sizes": (20,)}, ("digits", "xor")),
    "MLP (SGD)": (ITDSMLPClassifier, {**SGD, "hidden_layer_sizes": (20,)}, ("digits",)),
    "reservoir": (ITDSReservoirClassifier, {**RESERVOIR_LMS, "n_reservoir": 40,
                                            "max_iter": 4}, ("digits", "delayed_xor")),
    "reservoir (ridge)": (ITDSReservoirClassifier, {"n_reservoir": 40},
                          ("digits", "delayed_xor")),
}
RESERVOIR_SETTINGS = ("reservoir", "reservoir (ridge)")


def reading_name(echo, sign):
    return f"{echo} {'+1' if sign > 0 else '-1'}"


PLAIN = "plain, eta (td_gain=0)"
PLAIN_LOW = "plain, eta/(1+g)"
PLAIN_HIGH = "plain, eta*(1+g)"
READING_NAMES = [reading_name(*r) for r in READINGS]
# The decision echo (ridge readout): the reading, without early stopping, and
# its shrinkage controls (ridge has no learning rate to bracket).
DECISION = reading_name("decision", 1)
DECISION_ALL_PASSES = DECISION + ", no early stopping"
RIDGE = "ridge, LOO penalty (td_gain=0)"
RIDGE_3X = "ridge, 3x LOO penalty"
DECISION_NAMES = [DECISION, DECISION_ALL_PASSES]
SHRINKAGE = 3.0  # RIDGE_3X: this times the penalty the td_gain=0 fit chose


# ---------------------------------------------------------------------------
# Models and data
# ---------------------------------------------------------------------------
def rate_name(cls, params):
    """The estimator's learning-rate parameter, or None when it has none (RLS)."""
    if cls is ITDSMLPClassifier or params.get("learning_rule", "lms") == "lms":
        return "learning_rate_init"
    return None


def defaults(cls, extra):
    """The estimator's defaults at run time, with ``extra`` applied."""
    return {**cls().get_params(), **extra}


def variants(cls, extra):
    """Readings and plain learners: name -> constructor parameters.

    For the decision echo (the reservoir classifier's ridge readout): the
    reading as set, the same without early stopping, and two plain ridge
    controls: the ``td_gain=0`` ablation (the leave-one-out penalty) and
    ridge with ``SHRINKAGE`` times the penalty that ablation chose (the key
    ``rls_alpha_times_loo``, resolved per run by :func:`resolve_params`).
    """
    p = defaults(cls, extra)
    g = p["td_gain"]
    if g == 0:
        raise SystemExit(f"{cls.__name__}'s default td_gain is 0: every reading is the "
                         f"plain learner, there is nothing to measure.")
    if p.get("echo") == "decision":
        if p["learning_rule"] != "rls" or p["td_sign"] != 1:
            raise SystemExit("the decision echo is measured on the ridge readout "
                             "(learning_rule='rls', td_sign=1)")
        return {DECISION: dict(extra), DECISION_ALL_PASSES: dict(extra, early_stopping=False),
                RIDGE: dict(extra, td_gain=0.0),
                RIDGE_3X: dict(extra, td_gain=0.0, rls_alpha_times_loo=SHRINKAGE)}
    out = {reading_name(e, s): dict(extra, echo=e, td_sign=s) for e, s in READINGS}
    out[PLAIN] = dict(extra, td_gain=0.0)
    rate = rate_name(cls, p)
    if rate is not None:
        out[PLAIN_LOW] = dict(extra, td_gain=0.0, **{rate: p[rate] / (1 + g)})
    if cls is ITDSMLPClassifier:  # the unbounded rule can step faster than eta
        out[PLAIN_HIGH] = dict(extra, td_gain=0.0, **{rate: p[rate] * (1 + g)})
    return out


def resolve_params(cls, params, X, y, seed):
    """Constructor parameters with ``rls_alpha_times_loo`` resolved.

    That key (a shrinkage control) becomes ``rls_alpha`` = the factor times
    the ``rls_alpha_`` of the same model fitted with ``rls_alpha`` as given
    (its default "auto": the leave-one-out penalty) on the same data and seed.
    Returns ``(params, alpha or None)``.
    """
    params = dict(params)
    factor = params.pop("rls_alpha_times_loo", None)
    if factor is None:
        return params, None
    base = cls(**{**params, "max_iter": 1}, random_state=seed).fit(X, y)
    alpha = float(factor * base.rls_alpha_)
    return {**params, "rls_alpha": alpha}, alpha


def _codes(ytr, yte):
    classes = np.unique(np.concatenate([np.asarray(ytr), np.asarray(yte)]))
    return np.searchsorted(classes, ytr), np.searchsorted(classes, yte)


def _flatten(Xtr, Xte):
    """Sequences as padded, flattened, standardized rows (for the MLP)."""
    from _sequences import to_sktime
    both = list(Xtr) + list(Xte)
    F = to_sktime(both).reshape(len(both), -1)
    Ftr, Fte = F[:len(Xtr)], F[len(Xtr):]
    mu, sd = Ftr.mean(0), Ftr.std(0)
    sd[sd == 0] = 1.0
    return (Ftr - mu) / sd, (Fte - mu) / sd


def load_data(name, seed, *, flat=False, quick=False):
    """``Xtr, ytr, Xte, yte`` with integer labels; sequences use the official split."""
    if name in SEQUENCES:
        from _sequences import load
        Xtr, ytr, Xte, yte = load(name)
        if flat:
            Xtr, Xte = _flatten(Xtr, Xte)
    else:
        X, y = load_task(name, random_state=seed, return_X_y=True)
        if quick and name == "digits":
            X, y = X[:360], y[:360]
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
    ytr, yte = _codes(ytr, yte)
    return Xtr, ytr, Xte, yte


def mlp_plain_step_norms(model, X, y):
    """Plain SGD output-layer step sizes on the fitted weights, from public attributes.

    ``learning_rate_init * |[h, 1]| * |y - p|`` with ``h`` the last hidden
    layer and ``p`` the output (softmax, or logistic units): the step
    ``td_step_norms`` would give with ``td_gain=0``, computed here without
    the estimator's own code.
    """
    act = {"relu": lambda a: np.maximum(a, 0), "tanh": np.tanh, "logistic": expit,
           "identity": lambda a: a}[model.activation]
    h = np.asarray(X, dtype=float)
    for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1]):
        h = act(h @ W + b)
    logits = h @ model.coefs_[-1] + model.intercepts_[-1]
    idx = np.searchsorted(model.classes_, y)
    if model.out_activation_ == "softmax":
        P, Y = softmax(logits, axis=1), np.eye(len(model.classes_))[idx]
    else:  # one logistic unit for two classes
        P, Y = expit(logits), (idx == 1).astype(float)[:, None]
    return model.learning_rate_init * np.sqrt((h * h).sum(1) + 1) * np.linalg.norm(Y - P, axis=1)


def reservoir_plain_twin(model):
    """A copy of a fitted reservoir classifier whose readout steps are plain:
    same weights (and RLS ``P``), no top-down term; LMS at the matched rate
    eta / (1 + g), RLS as it is (it has no rate: the ``td_gain=0`` step)."""
    twin = copy.deepcopy(model)
    g = model.readout_.td_gain
    twin.readout_.td_gain = 0.0
    if twin.readout_.rule == "lms":
        twin.readout_.learning_rate = model.readout_.learning_rate / (1 + g)
    return twin


def _reservoir_norms(model, rows, y):
    """``model.td_step_norms`` on cached readout rows (what it computes after
    transforming ``X``; :meth:`RowScorer.check` compares the two)."""
    targets = np.eye(len(model.classes_))[np.searchsorted(model.classes_, y)]
    return model.readout_.step_norms(rows, targets)


def step_ratios(model, X, y_trained, counter, rows=None):
    """P3: mean reading step / mean matched plain step, on counter-trials and clean ones.

    ``rows``: the reservoir classifier's readout rows of ``X``, if computed.
    For an RLS readout the plain step is the ``td_gain=0`` step on the same
    weights and ``P``, so ``rho = |e_sup + g e_td| / ((1 + g) |e_sup|)``
    weighted by the rows' gains ``|P r| / (1 + r^T P r)``.
    """
    if isinstance(model, ITDSMLPClassifier):
        norms = model.td_step_norms(X, y_trained)
        plain = mlp_plain_step_norms(model, X, y_trained)
    else:
        twin = reservoir_plain_twin(model)
        if rows is None:
            norms, plain = model.td_step_norms(X, y_trained), twin.td_step_norms(X, y_trained)
        else:
            norms = _reservoir_norms(model, rows, y_trained)
            plain = _reservoir_norms(twin, rows, y_trained)
    out = {}
    for kind, sel in (("counter", counter), ("clean", ~counter)):
        out[kind] = {"step": float(norms[sel].mean()), "plain": float(plain[sel].mean()),
                     "rho": float(norms[sel].mean() / plain[sel].mean())}
    return out


def kept_pass(scores):
    """The 1-based pass early stopping keeps: the first with the best score
    (the estimator's rule: a later pass must be strictly better)."""
    return 1 + int(np.argmax(np.asarray(scores)))


def _round(x):
    """4 significant digits (the JSON stays small; NaN stays NaN)."""
    return float(f"{float(x):.4g}")


def kept_epochs(n):
    """1-based epochs whose diagnostics are stored: 1-10, ~12 log-spaced, the last 3."""
    marks = set(range(1, 11)) | set(np.round(np.logspace(1, np.log10(max(n, 10)), 12))
                                    .astype(int).tolist()) | {n - 2, n - 1, n}
    return sorted(e for e in marks if 1 <= e <= n)


def history_summary(history):
    """What the report needs of ``td_history_``: the cosine and ``|e_td| /
    |e_sup|`` at :func:`kept_epochs`, their "late" values (the mean over the
    last 3 epochs; for a fit of at most 3 epochs, the last epoch: the first
    epoch of a 3-pass fit is not late) and the ratio's largest value, to 4
    significant digits."""
    cosine = np.asarray(history["cosine"], dtype=float)
    ratio = np.asarray(history["td_ratio"], dtype=float)
    epochs = kept_epochs(len(cosine))
    late = slice(-3, None) if len(cosine) > 3 else slice(-1, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return {"epoch": epochs,
                "cosine": [_round(cosine[e - 1]) for e in epochs],
                "td_ratio": [_round(ratio[e - 1]) for e in epochs],
                "cosine_late": _round(np.nanmean(cosine[late])),
                "td_ratio_late": _round(np.nanmean(ratio[late])),
                "td_ratio_peak": _round(np.nanmax(ratio))}


def _score(model, X, y):
    try:
        return float(model.score(X, y))
    except ValueError:  # a diverged readout refuses to predict
        return float("nan")


def perturbation_scores(model, X, y, seed):
    out = {"noise": [_score(model, gaussian_noise(X, s, random_state=seed), y)
                     for s in PERTURB["noise"]],
           "rotation": [_score(model, rotate_images(X, a, (8, 8)), y)
                        for a in PERTURB["rotation"]]}
    if isinstance(model, ITDSMLPClassifier):
        out["fgsm"] = [_score(model, fgsm(model, X, y, e), y) for e in PERTURB["fgsm"]]
    return out


def n_epochs(setting, dataset, params, quick):
    """Epochs of a training run: the estimator's ``max_iter`` (MLP logic tasks: 300)."""
    if quick:
        return 3 if setting.startswith("MLP") else params["max_iter"]
    if setting == "MLP (SGD)":
        return 30
    if setting.startswith("MLP") and dataset in LOGIC:
        return 300
    return params["max_iter"]


def checkpoints(n, marks):
    return [c for c in marks if c < n] + [n]


class RowScorer:
    """Test accuracy and step sizes of reservoir classifiers fitted on the same
    data and seed.

    Refits with another ``max_iter`` build the same reservoir and feature
    scalers, so the readout rows of the test and training sets are computed
    once; a model then scores as ``argmax(rows @ readout_.W)`` and its P3 step
    sizes come from ``readout_.step_norms`` on the rows. :meth:`check`
    compares both with the estimator's own ``score`` and ``td_step_norms``
    (it fails loudly if the estimator computes them differently, e.g. after
    a change of its readout).
    """

    def __init__(self, X, y, X_train):
        self.X, self.y, self.X_train = X, y, X_train
        self.rows = self.train_rows = None

    def __call__(self, model):
        if self.rows is None:
            self.rows = readout_rows(model, self.X)
            self.train_rows = readout_rows(model, self.X_train)
        with np.errstate(all="ignore"):
            Z = self.rows @ model.readout_.W
        if not np.isfinite(Z).all():
            return float("nan")
        return float(np.mean(model.classes_[Z.argmax(1)] == self.y))

    def check(self, model, acc, y_train):
        own = _score(model, self.X, self.y)
        if not (np.isnan(own) and np.isnan(acc)) and abs(own - acc) > 1e-12:
            raise RuntimeError(f"ITDSReservoirClassifier.score gives {own}, its readout rows "
                               f"{acc}: update RowScorer for the changed estimator.")
        few = np.arange(min(20, len(y_train)))
        X_few = [self.X_train[i] for i in few] if isinstance(self.X_train, list) \
            else self.X_train[few]
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(
                _reservoir_norms(model, self.train_rows[few], y_train[few]),
                model.td_step_norms(X_few, y_train[few]),
                rtol=1e-8 if model.readout_.W.dtype == np.float64 else 1e-4,
                err_msg="td_step_norms differs from the readout on the rows: update "
                        "RowScorer for the changed estimator.")


def run_train(setting, dataset, noise, variant, seed, quick=False, settings=None):
    """One training run; returns its record (see the module docstring)."""
    cls, extra, _ = (settings or SETTINGS)[setting]
    params = variants(cls, extra)[variant]
    mlp = cls is ITDSMLPClassifier
    Xtr, ytr, Xte, yte = load_data(dataset, seed, flat=mlp, quick=quick)
    y_fit = corrupt_labels(ytr, noise, random_state=seed) if noise else ytr
    counter = y_fit != ytr
    rec = {"setting": setting, "dataset": dataset, "noise": noise, "variant": variant,
           "seed": seed, "params": {k: v for k, v in params.items()},
           "td_gain": defaults(cls, extra)["td_gain"], "p3": {}, "p4": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params, alpha = resolve_params(cls, params, Xtr, y_fit, seed)
    if alpha is not None:
        rec["rls_alpha"] = alpha
    full = defaults(cls, params)
    n = n_epochs(setting, dataset, full, quick)
    if mlp:  # exactly max_iter epochs: the stopping rule never fires
        fixed, marks, score = dict(n_iter_no_change=n + 1), MLP_CHECKPOINTS, None
    else:
        fixed, marks, score = {}, RES_CHECKPOINTS, RowScorer(Xte, yte, Xtr)
    epochs, acc = checkpoints(n, marks), []
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for e in epochs:
            # refits with the same seed: exactly the first e epochs of the full fit
            model = cls(**{**params, **fixed, "max_iter": e}, random_state=seed)
            model.fit(Xtr, y_fit)
            acc.append(score(model) if score else _score(model, Xte, yte))
            rows = score.train_rows if score else None
            if e == 1 and noise:
                rec["p3"]["epoch 1"] = step_ratios(model, Xtr, y_fit, counter, rows)
    rec["fit_seconds"] = time.perf_counter() - start
    rec["diverged"] = sum(issubclass(w.category, ConvergenceWarning)
                          and "diverged" in str(w.message) for w in caught)
    if score:
        score.check(model, acc[-1], y_fit)
    if noise:
        rec["p3"]["end"] = step_ratios(model, Xtr, y_fit, counter, rows)
    rec.update(epochs=epochs, acc=acc, final_acc=acc[-1],
               history=history_summary(model.td_history_))
    if getattr(model, "validation_scores_", None) is not None:  # early stopping
        rec["kept_pass"] = kept_pass(model.validation_scores_)
    if dataset == "digits" and noise == 0 and setting != "MLP (SGD)":
        rec["p4"] = perturbation_scores(model, Xte, yte, seed)
    return rec


# ---------------------------------------------------------------------------
# P5: sign split per reading (reservoir, clean digits)
# ---------------------------------------------------------------------------
P5_VARIANTS = {"reservoir": READING_NAMES, "reservoir (ridge)": [DECISION, RIDGE]}


def run_p5(variant, seed, quick=False, settings=None, setting="reservoir"):
    """One reading with the sign-split readout and with a random mask of the
    split's fraction of exact zeros. (A split or masked readout is not ridge:
    with ``rls_alpha="auto"`` it gets the estimator's fixed penalty, 10, and
    per-row RLS passes; the mask control is given the split's penalty, so
    that it is the same readout without the split where the split leaves no
    zeros.)"""
    cls, extra, _ = (settings or SETTINGS)[setting]
    params = variants(cls, extra)[variant]
    Xtr, ytr, Xte, yte = load_data("digits", seed, quick=quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = cls(**params, feedback_split=True, random_state=seed).fit(Xtr, ytr)
        zeros = float(np.mean(split.readout_.W[:-1] == 0))
        # the mask gets the split's penalty (RLS) even where it holds no zeros
        penalty = {} if split.rls_alpha_ is None else {"rls_alpha": split.rls_alpha_}
        mask = cls(**{**params, **penalty}, readout_sparsity=min(zeros, 0.99),
                   random_state=seed).fit(Xtr, ytr)
    return {"setting": setting, "variant": variant, "seed": seed, "zeros": zeros,
            "split_acc": _score(split, Xte, yte), "mask_acc": _score(mask, Xte, yte),
            "mask_zeros": float(np.mean(mask.readout_.W[:-1] == 0))}


# ---------------------------------------------------------------------------
# Prototypes: temporal and per-sample echoes (not in the library)
# ---------------------------------------------------------------------------
PROTO = {  # name: (echo kind, sign, rate: eta or eta / (1 + g))
    "plain, eta (td_gain=0)": ("none", 1, "eta"),
    "plain, eta/(1+g)": ("none", 1, "low"),
    "learned +1 (reference)": ("learned", 1, "eta"),
    "temporal +1": ("temporal", 1, "eta"),
    "temporal -1": ("temporal", -1, "eta"),
    "per-sample +1": ("per_sample", 1, "eta"),
    "per-sample -1": ("per_sample", -1, "eta"),
}


def proto_lms(R, Y, order_rng, n_epochs, *, learning_rate, td_gain, td_timescale,
              echo="learned", td_sign=1, R_test=None, y_test=None, loop=False):
    """Normalized-LMS readout with the bounded iTDS error and a chosen echo.

    Written out row by row (PROTOTYPE, benchmark only)::

        delta = ((y - z) + td_sign * td_gain * (d - z)) / (1 + td_gain)
        W    += learning_rate * r delta^T / |r|^2

    with the echo ``d``: ``"learned"`` ``d = Wbar r``, ``Wbar += learning_rate
    * r (z - d)^T / |r|^2 / td_timescale`` (the library's rule, a reference);
    ``"temporal"`` one running average of the outputs over recent updates,
    ``d += (z - d) / td_timescale`` after each update (the first output
    starts it); ``"per_sample"`` one running average per training sample of
    its own a-priori outputs over its visits, ``d_i += (z_i - d_i) /
    td_timescale`` (its first output starts it); ``"none"``: plain LMS.
    The references ("none", "learned") run on the library's
    :class:`~sklearn_itds._itds.ITDSReadout` (the same arithmetic, faster)
    unless ``loop``. Returns the readout and the test accuracy after every
    epoch.
    """
    n, K = len(R), Y.shape[1]
    g = td_gain if echo != "none" else 0.0
    acc = []

    def evaluate(W):
        if R_test is not None:
            acc.append(float(np.mean((R_test @ W).argmax(1) == y_test)))

    if echo in ("none", "learned") and not loop:
        readout = ITDSReadout(R.shape[1], K, rule="lms", learning_rate=learning_rate,
                              td_gain=g, td_timescale=td_timescale, td_sign=td_sign)
        for _ in range(n_epochs):
            order = order_rng.permutation(n)
            readout.partial_fit(R[order], Y[order])
            evaluate(readout.W)
        return readout.W.copy(), acc
    W = np.zeros((R.shape[1], K), order="F")
    Wbar = np.zeros_like(W)
    running = None
    per_sample = np.zeros((n, K))
    seen = np.zeros(n, dtype=bool)
    scales = learning_rate / np.einsum("ij,ij->i", R, R)
    for _ in range(n_epochs):
        for i in order_rng.permutation(n):
            r = R[i]
            z = r @ W
            if echo == "learned":
                d = r @ Wbar
            elif echo == "temporal":
                d = z if running is None else running
            elif echo == "per_sample":
                d = per_sample[i] if seen[i] else z
            else:
                d = z
            delta = (Y[i] - z) + (td_sign * g) * (d - z)
            if g:
                delta /= 1.0 + g
            dger(scales[i], r, delta, a=W, overwrite_a=1)
            if echo == "learned":
                dger(scales[i] / td_timescale, r, z - d, a=Wbar, overwrite_a=1)
            elif echo == "temporal":
                running = d + (z - d) / td_timescale
            elif echo == "per_sample":
                per_sample[i] = d + (z - d) / td_timescale
                seen[i] = True
        evaluate(W)
    return W, acc


def readout_rows(model, X):
    """The fitted classifier's readout rows ``[features, 1]`` for ``X``."""
    return model._rows(X)  # the rows predict() reads; private, kept in one place


def run_proto(dataset, noise, seed, quick=False, settings=None):
    cls, extra, _ = (settings or SETTINGS)["reservoir"]
    p = defaults(cls, extra)
    Xtr, ytr, Xte, yte = load_data(dataset, seed, quick=quick)
    y_fit = corrupt_labels(ytr, noise, random_state=seed) if noise else ytr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(**dict(extra, max_iter=1), random_state=seed).fit(Xtr, y_fit)
    R, R_te = readout_rows(model, Xtr), readout_rows(model, Xte)
    Y = np.eye(len(model.classes_))[np.searchsorted(model.classes_, y_fit)]
    g, eta = p["td_gain"], p["learning_rate_init"]
    out = {"dataset": dataset, "noise": noise, "seed": seed, "td_gain": g,
           "td_timescale": p["td_timescale"], "learning_rate": eta,
           "max_iter": p["max_iter"], "acc": {}}
    out["epochs"] = checkpoints(p["max_iter"], RES_CHECKPOINTS)
    for name, (echo, sign, factor) in PROTO.items():
        rate = eta / (1 + g) if factor == "low" else eta
        _, acc = proto_lms(R, Y, np.random.RandomState(seed), p["max_iter"],
                           learning_rate=rate, td_gain=g, td_timescale=p["td_timescale"],
                           echo=echo, td_sign=sign, R_test=R_te,
                           y_test=np.searchsorted(model.classes_, yte))
        out["acc"][name] = [acc[e - 1] for e in out["epochs"]]
    return out


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------
def _meta(args):
    return {"command": "python benchmarks/bench_readings.py " + shlex.join(args.argv),
            "quick": args.quick, "load_average_start": load_average(),
            "defaults": {"ITDSMLPClassifier": _plain_params(ITDSMLPClassifier),
                         "ITDSReservoirClassifier": _plain_params(ITDSReservoirClassifier)}}


def _done(meta, start):
    """``meta`` with the part's wall time and the load average at its end."""
    return {**meta, "wall_seconds": round(time.time() - start),
            "load_average_end": load_average()}


def _plain_params(cls):
    return {k: v for k, v in cls().get_params().items()
            if isinstance(v, (int, float, str, bool, tuple, type(None)))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append",
                        choices=["train", "p5", "proto", "report"],
                        help="parts to run (default: all); 'report' only redraws")
    parser.add_argument("--seeds", type=int, default=5,
                        help="seeds 0..N-1 (default 5; 2 with --quick)")
    parser.add_argument("--datasets", nargs="+", help="limit the datasets of a rerun")
    parser.add_argument("--settings", nargs="+", help="limit the settings of a rerun")
    parser.add_argument("--quick", action="store_true",
                        help="tiny models and data: a smoke run (use with --out)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for JSON, .rst and figures "
                             "(default: benchmarks/results and docs/images)")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    results = args.out or RESULTS
    images = args.out or IMAGES
    settings = QUICK_SETTINGS if args.quick else SETTINGS
    seeds = range(2 if args.quick and args.seeds == 5 else args.seeds)
    parts = args.only or ["train", "p5", "proto"]
    meta = _meta(args)
    keep = lambda name, allowed: allowed is None or name in allowed  # noqa: E731
    t_all = time.time()
    if "train" in parts:
        recs = []
        for setting, (cls, extra, datasets) in settings.items():
            if not keep(setting, args.settings):
                continue
            for dataset in datasets:
                if not keep(dataset, args.datasets):
                    continue
                t0 = time.time()
                for noise in NOISES:
                    for variant in variants(cls, extra):
                        for seed in seeds:
                            recs.append(run_train(setting, dataset, noise, variant, seed,
                                                  args.quick, settings))
                print(f"train {setting} {dataset}: {time.time() - t0:.0f} s", flush=True)
        merge_records(results / "readings_train.json", recs,
                      ("setting", "dataset", "noise", "variant", "seed"), _done(meta, t_all))
    if "p5" in parts:
        t0 = time.time()
        recs = [run_p5(v, s, args.quick, settings, setting)
                for setting, names in P5_VARIANTS.items() if keep(setting, args.settings)
                for v in names for s in seeds]
        # variant names differ between the settings, so (variant, seed) is a key
        merge_records(results / "readings_p5.json", recs, ("variant", "seed"),
                      _done(meta, t0))
        print(f"p5: {time.time() - t0:.0f} s", flush=True)
    if "proto" in parts:
        t0 = time.time()
        datasets = ("digits",) if args.quick else ("digits", *SEQUENCES)
        if not keep("reservoir", args.settings):  # the prototypes use its setting
            datasets = ()
        recs = [run_proto(d, noise, s, args.quick, settings) for d in datasets
                if keep(d, args.datasets) for noise in NOISES for s in seeds]
        merge_records(results / "readings_proto.json", recs, ("dataset", "noise", "seed"),
                      _done(meta, t0))
        print(f"proto: {time.time() - t0:.0f} s", flush=True)
    from _readings_report import write_report
    write_report(results, images)
    print(f"done in {time.time() - t_all:.0f} s; load average {load_average()}", flush=True)


if __name__ == "__main__":
    main()
