"""Interrupted fits: the model is left exactly as it was before the call.

A ``KeyboardInterrupt`` (or any other exception) raised in the middle of
learning, after some weights were already changed in place, must leave a
fitted model byte-identical to before the call (an unfitted one unfitted),
propagate, and leave nothing behind that a later call would pick up (the
reservoirs buffer the errors of their per-step updates until the end of a
chunk; issue 12 found them leaking into the next call's ``td_history_``).

The interrupt is injected by monkeypatching the innermost learning steps:
``ITDSReadout._update`` (one readout update), ``_lms_pass`` and
``_rls_block`` (a vectorized pass or an exact block of rows: interrupted
just after they changed the weights), and the MLP optimizers' ``update``
(one minibatch step), raising on their ``n``-th call.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklearn_itds import ITDSMLPClassifier, ITDSReservoirClassifier, ITDSReservoirRegressor
from sklearn_itds import _fused, _itds, _optimizers

from _state import fingerprint, learned_state, outputs

ESTIMATORS = {
    "mlp_adam": ITDSMLPClassifier(hidden_layer_sizes=(6,), max_iter=4, batch_size=10,
                                  random_state=0),
    "mlp_sgd_split": ITDSMLPClassifier(hidden_layer_sizes=(6,), solver="sgd", max_iter=4,
                                       batch_size=10, feedback_split=True,
                                       readout_sparsity=0.3, random_state=0),
    "res_clf_lms": ITDSReservoirClassifier(n_reservoir=12, learning_rule="lms",
                                           echo="learned", max_iter=3, random_state=0),
    "res_clf_default": ITDSReservoirClassifier(n_reservoir=12, random_state=0),
    "res_clf_rls_split": ITDSReservoirClassifier(n_reservoir=12, max_iter=2,
                                                 learning_rule="rls", feedback_split=True,
                                                 random_state=0),
    "res_reg_samples": ITDSReservoirRegressor(n_reservoir=12, max_iter=2, td_gain=0.5,
                                              random_state=0),
    "res_reg_sequential": ITDSReservoirRegressor(n_reservoir=12, mode="sequential",
                                                 washout=3, max_iter=2, td_gain=0.5,
                                                 random_state=0),
    "res_reg_feedback_lms": ITDSReservoirRegressor(
        n_reservoir=12, mode="sequential", learning_rule="lms", output_feedback=True,
        teacher_forcing=True, readout_sparsity=0.2, random_state=0),
    "res_reg_force": ITDSReservoirRegressor(
        n_reservoir=12, mode="sequential", output_feedback=True, update_every=2,
        td_gain=0.5, feedback_scaling=0.1, max_iter=2, random_state=0),
    "res_reg_every_2": ITDSReservoirRegressor(
        n_reservoir=12, mode="sequential", update_every=2, washout=3, max_iter=2,
        random_state=0),
}


def _data(name, n=40):
    rng = np.random.RandomState(0)
    X = rng.randn(n, 3)
    if name.startswith("res_reg"):
        return X, np.sin(np.arange(n) / 3.0) + 0.1 * X[:, 0]
    return X, np.arange(n) % 3


def _outputs(est, X):
    return fingerprint(outputs(est, X))


def _partial_fit(est, X, y):
    if isinstance(est, ITDSReservoirRegressor):
        return est.partial_fit(X, y)
    return est.partial_fit(X, y, classes=np.unique(y))


class _Interrupt:
    """Make the learning steps ``owner.attrs`` raise KeyboardInterrupt at the
    ``after``-th call (counted over all of them).

    A step in ``after_running`` (a whole vectorized pass or block of rows) runs
    first and then raises, so the interrupt comes after its in-place changes.
    ``owner`` may be a list of ``(owner, attrs)`` pairs (``attrs`` then None).
    """

    def __init__(self, monkeypatch, owner, attrs, after, after_running=(),
                 exc=KeyboardInterrupt):
        self.calls = 0
        pairs = owner if attrs is None else [(owner, attrs)]
        for owner, attr in [(o, a) for o, names in pairs for a in names]:
            original = getattr(owner, attr)

            def wrapped(*args, _original=original, _post=attr in after_running, **kwargs):
                self.calls += 1
                if self.calls == after and not _post:
                    raise exc
                out = _original(*args, **kwargs)
                if self.calls == after:
                    raise exc
                return out

            monkeypatch.setattr(owner, attr, wrapped)


def _interrupt(monkeypatch, name, after, exc=KeyboardInterrupt):
    if name.startswith("mlp"):
        # Adam for the network and its echo alike: the call counts both.
        owner = _optimizers.SGD if "sgd" in name else _optimizers.Adam
        return _Interrupt(monkeypatch, owner, ["update"], after, exc=exc)
    # One readout update, or a vectorized LMS pass / exact RLS block of rows /
    # compiled pass of rows / closed-form ridge pass / compiled chunk of steps
    # with the output fed back.
    passes = ("_lms_pass", "_rls_block", "_row_pass", "ridge_pass", "feedback_chunk")
    return _Interrupt(monkeypatch, [(_itds.ITDSReadout, ["_update", *passes[:4]]),
                                    (_fused, ["feedback_chunk"])],
                      None, after, after_running=passes, exc=exc)


def _calls(monkeypatch, name, call):
    """How many learning steps ``call`` makes when not interrupted."""
    with monkeypatch.context() as m:
        hook = _interrupt(m, name, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    return hook.calls


def _nth(total, fraction):
    return min(total, max(2, int(round(fraction * total))))


# Interrupt early (first epoch), in the middle, and near the end of the call.
AFTER = [0.05, 0.5, 0.95]


@pytest.mark.parametrize("after", AFTER)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_interrupted_fit_on_fitted_model_keeps_previous_fit(monkeypatch, name, after):
    X, y = _data(name)
    est = clone(ESTIMATORS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    state, out = learned_state(est), _outputs(est, X)
    after = _nth(_calls(monkeypatch, name, lambda: clone(est).fit(X[::-1], y[::-1])), after)
    with monkeypatch.context() as m:
        hook = _interrupt(m, name, after)
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X[::-1], y[::-1])  # other data: a refit would change everything
    assert hook.calls == after  # it really was interrupted, mid-fit
    assert learned_state(est) == state
    assert _outputs(est, X) == out


@pytest.mark.parametrize("after", AFTER)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_interrupted_first_fit_leaves_model_unfitted(monkeypatch, name, after):
    X, y = _data(name)
    est = clone(ESTIMATORS[name])
    after = _nth(_calls(monkeypatch, name, lambda: clone(est).fit(X, y)), after)
    with monkeypatch.context() as m:
        _interrupt(m, name, after)
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    assert vars(est).keys() == vars(clone(est)).keys()  # nothing but the parameters
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(X)
    # ...and it fits afterwards exactly as a fresh estimator does.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        fresh = clone(ESTIMATORS[name]).fit(X, y)
    assert learned_state(est) == learned_state(fresh)


@pytest.mark.parametrize("after", AFTER)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_interrupted_partial_fit_keeps_previous_state_and_history(monkeypatch, name, after):
    X, y = _data(name)
    est = clone(ESTIMATORS[name])
    twin = clone(ESTIMATORS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in (est, twin):
            _partial_fit(model, X[:20], y[:20])
    state, out = learned_state(est), _outputs(est, X)
    after = _nth(_calls(monkeypatch, name,
                        lambda: _partial_fit(pickle.loads(pickle.dumps(est)), X[20:], y[20:])),
                 after)
    with monkeypatch.context() as m:
        hook = _interrupt(m, name, after)
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _partial_fit(est, X[20:], y[20:])
    assert hook.calls == after
    assert learned_state(est) == state
    assert _outputs(est, X) == out
    # The next call learns exactly what the twin (never interrupted) learns:
    # no buffered error of the interrupted call reaches its diagnostics.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in (est, twin):
            _partial_fit(model, X[20:], y[20:])
    assert learned_state(est) == learned_state(twin)
    n_updates = est.td_history_["n_updates"]
    assert len(n_updates) == 2
    if not name.startswith("mlp"):  # one readout update per sample or step
        params = est.get_params()
        every = params.get("update_every", 1)  # washout: the first call only
        first = len(range(params.get("washout", 0), 20, every))
        assert n_updates.tolist() == [first, len(range(0, 20, every))]
    else:
        assert n_updates.tolist() == [20, 20]


@pytest.mark.parametrize("name", ["mlp_adam", "res_clf_lms", "res_reg_sequential"])
def test_interrupted_fit_restores_a_random_state_instance(monkeypatch, name):
    """A RandomState passed as random_state is consumed by fit; an interrupted
    fit gives it its state back, so the next fit equals an uninterrupted one."""
    X, y = _data(name)
    rs = np.random.RandomState(3)
    est = clone(ESTIMATORS[name]).set_params(random_state=rs)
    after = _nth(_calls(monkeypatch, name, lambda: clone(ESTIMATORS[name]).fit(X, y)), 0.5)
    with monkeypatch.context() as m:
        _interrupt(m, name, after)
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    assert est.random_state is rs  # the user's object, not a copy
    twin = clone(ESTIMATORS[name]).set_params(random_state=np.random.RandomState(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        twin.fit(X, y)
    assert learned_state(est) == learned_state(twin)


@pytest.mark.parametrize("name", ["mlp_adam", "res_clf_lms", "res_reg_samples"])
def test_warm_start_interrupted_keeps_previous_fit(monkeypatch, name):
    X, y = _data(name)
    if name == "mlp_adam":
        est = clone(ESTIMATORS[name]).set_params(warm_start=True)
        call = est.fit
    else:
        est = clone(ESTIMATORS[name])
        call = lambda X, y: _partial_fit(est, X, y)  # noqa: E731  their "warm" fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    state = learned_state(est)
    probe = copy.deepcopy(est)  # counts the steps of the same call on a copy
    probe_call = probe.fit if name == "mlp_adam" else (
        lambda X, y: _partial_fit(probe, X, y))
    after = _nth(_calls(monkeypatch, name, lambda: probe_call(X, y)), 0.5)
    with monkeypatch.context() as m:
        _interrupt(m, name, after)
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(X, y)
    assert learned_state(est) == state


def test_other_exceptions_restore_too(monkeypatch):
    """Not only interrupts: e.g. a MemoryError in the middle of a pass."""
    X, y = _data("res_reg_samples")
    est = clone(ESTIMATORS["res_reg_samples"]).fit(X, y)
    state = learned_state(est)
    with monkeypatch.context() as m:
        hook = _interrupt(m, "res_reg_samples", 1, exc=MemoryError)
        with pytest.raises(MemoryError):
            est.partial_fit(X, y)
    assert hook.calls == 1
    assert learned_state(est) == state


@pytest.mark.parametrize("rule", ["lms", "rls"])
def test_readout_checkpoint_rollback(rule):
    """ITDSReadout.rollback undoes updates, closed epochs and buffered errors."""
    rng = np.random.RandomState(0)
    R = np.c_[rng.randn(30, 4), np.ones(30)]
    Y = rng.randn(30, 2)
    readout = _itds.ITDSReadout(5, 2, rule=rule, td_gain=0.5, rls_alpha=1.0)
    readout.partial_fit(R[:10], Y[:10])
    readout.end_epoch()
    readout.update(R[10], Y[10])  # buffered, not flushed
    before = pickle.dumps(readout)
    token = readout.checkpoint()
    readout.partial_fit(R[11:], Y[11:])
    readout.update(R[0], Y[0])
    readout.flush()
    readout.end_epoch()
    readout.rollback(token)
    assert pickle.dumps(readout) == before
