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
import time
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

__all__ = ["AdaptiveBlasThreads", "single_blas_thread"]

_lock = threading.Lock()
_state = {"depth": 0, "limiter": None, "chooser": None}


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


class AdaptiveBlasThreads:
    """Run a loop of similar BLAS-bound steps on whichever is faster *now*:
    one BLAS thread or the caller's thread count.

    Minibatch training issues thousands of mid-sized matrix products. On an
    idle multi-core machine BLAS threads speed up the large ones; on a busy
    machine waking them for every product costs more than the product (we
    measured a 20000 x 256, (256, 256)-hidden MLP epoch 10x slower with two
    OpenBLAS threads than with one on a loaded 2-core machine, and 2x faster
    on the same machine idle; see ``benchmarks/bench_mlp.py``). No size rule
    gets both right, so this times the steps: it alternates the two settings
    for ``probe`` steps each, keeps the faster (median time) for the next
    ``every`` steps, and probes again, following the machine's load; each
    probe that confirms the choice doubles the run before the next (up to
    ``max_every``), because a switch itself can cost a time slice on a loaded
    machine.

    Only the speed depends on the choice: OpenBLAS computes each entry of a
    matrix product the same way whatever its thread count (partitioning the
    output, not the sum), so results are identical. (A BLAS that splits sums
    across threads, e.g. MKL outside its CNR mode, could differ in the last
    bits; set ``MKL_CBWR`` or limit threads yourself for bitwise reproducibility.)

    Inert when the caller already runs BLAS on one thread, inside
    :func:`single_blas_thread`, or while another chooser is active (the limit
    is process-wide). Use::

        with AdaptiveBlasThreads() as chooser:
            for batch in batches:
                with chooser.step():
                    ...
    """

    @classmethod
    def single(cls):
        """A chooser that always runs one thread (no probing), same interface."""
        return _OneThread()

    def __init__(self, probe=3, every=64, max_every=1024):
        self.probe = probe
        self.every = every
        self.max_every = max_every

    def __enter__(self):
        self._limiter = None
        self._active = False
        with _lock:
            if _state["depth"] == 0 and _state["chooser"] is None:
                n = max((lib.num_threads for lib in _controller().lib_controllers
                         if lib.user_api == "blas"), default=1)
                if n > 1:
                    _state["chooser"] = self
                    self._active = True
        self._settings = ("one", "default")
        self._times = {k: [] for k in self._settings}
        self._i = 0  # position in the probe / run cycle
        self._chosen = "default"
        self._run = self.every  # steps between probes; doubles while the choice holds
        self._probed = False
        return self

    def __exit__(self, *exc):
        if self._active:
            self._apply("default")
            with _lock:
                _state["chooser"] = None
        return False

    @property
    def choice(self):
        """The setting in use after the last probe: "one" or "default"."""
        return self._chosen

    def _apply(self, setting):
        if setting == "one" and self._limiter is None:
            self._limiter = _controller().limit(limits=1, user_api="blas")
        elif setting == "default" and self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None

    @contextmanager
    def step(self):
        """Context for one step of the loop."""
        if not self._active:
            yield
            return
        pos = self._i
        probing = pos < 2 * self.probe
        setting = self._settings[pos % 2] if probing else self._chosen
        self._apply(setting)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._i += 1
            if probing:
                self._times[setting].append(time.perf_counter() - t0)
                if pos == 2 * self.probe - 1:
                    chosen = min(self._settings,
                                 key=lambda k: np.median(self._times[k]))
                    # Each switch can cost a time slice on a loaded machine:
                    # probe half as often each time the choice is confirmed.
                    if chosen == self._chosen and self._probed:
                        self._run = min(2 * self._run, self.max_every)
                    else:
                        self._run = self.every
                    self._chosen, self._probed = chosen, True
                    self._times = {k: [] for k in self._settings}
            elif self._i >= 2 * self.probe + self._run:
                self._i = 0  # probe again


class _OneThread:
    """:func:`single_blas_thread` with :class:`AdaptiveBlasThreads`' interface."""

    choice = "one"

    def __enter__(self):
        self._limit = single_blas_thread()
        self._limit.__enter__()
        return self

    def __exit__(self, *exc):
        return self._limit.__exit__(*exc)

    @contextmanager
    def step(self):
        yield
