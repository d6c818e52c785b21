"""Run short sequential BLAS calls on one thread.

The online learners issue thousands of tiny level-2 BLAS calls (``symv``,
``syr``, ``ger``, a matrix-vector product per step). Multi-threaded BLAS gains
nothing on such calls and, on a busy machine, waking its worker threads for
every call costs far more than the call itself (we measured a 500-unit RLS pass
10x slower with 2 OpenBLAS threads on a loaded 2-core machine than with one; see
``docs/performance.rst``). The sequential loops therefore run inside
:func:`single_blas_thread`, which restores the caller's setting on exit.
"""

import threading
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["single_blas_thread"]

_lock = threading.Lock()
_state = {"depth": 0, "limiter": None}


@lru_cache(maxsize=None)
def _controller():
    # Inspecting the loaded libraries is the slow part (~1 ms); do it once.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_blas_thread():
    """Context manager limiting BLAS to one thread for its body.

    Nested and concurrent uses (e.g. fits in several Python threads) share one
    limit: the first to enter sets it and the last to leave restores the
    original setting, so overlapping exits cannot leave the process limited.
    """
    with _lock:
        if _state["depth"] == 0:
            _state["limiter"] = _controller().limit(limits=1, user_api="blas")
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
