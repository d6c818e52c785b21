"""Run short sequential BLAS calls on one thread.

The online learners issue thousands of tiny level-2 BLAS calls (``symv``,
``syr``, ``ger``, a matrix-vector product per step). Multi-threaded BLAS gains
nothing on such calls and, on a busy machine, waking its worker threads for
every call costs far more than the call itself (we measured a 500-unit RLS pass
10x slower with 2 OpenBLAS threads on a loaded 2-core machine than with one; see
``docs/performance.rst``). The sequential loops therefore run inside
:func:`single_blas_thread`, which restores the caller's setting on exit.
"""

from contextlib import contextmanager
from functools import lru_cache

__all__ = ["single_blas_thread"]


@lru_cache(maxsize=None)
def _controller():
    # Inspecting the loaded libraries is the slow part (~1 ms); do it once.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_blas_thread():
    """Context manager limiting BLAS to one thread for its body."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
