"""What a rejected or interrupted call must leave untouched, as comparable values.

Shared by tests/test_bad_input.py and tests/test_interrupts.py.
"""

import pickle


def learned_state(est):
    """Pickled bytes of everything except the constructor parameters."""
    params = est.get_params(deep=False)
    return pickle.dumps({k: v for k, v in vars(est).items() if k not in params})


def outputs(est, X):
    """``predict`` (and ``predict_proba`` where it exists) on ``X``."""
    out = [est.predict(X)]
    if hasattr(est, "predict_proba"):
        out.append(est.predict_proba(X))
    return out


def fingerprint(arrays):
    """Dtype, shape and bytes of each array: equal only if bit-identical."""
    return [(a.dtype.str, a.shape, a.tobytes()) for a in arrays]
