"""Run a test on the numpy reference path and on the compiled kernels (numba).

``PATHS`` parametrizes a test over both; the compiled case skips cleanly when
numba (the ``fast`` extra) is not installed. ``path(compiled)`` is the context
that selects one (``sklearn_itds._jit.use_kernels``).
"""

import importlib.util

import pytest

from sklearn_itds import _jit

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA,
                                 reason="numba (the 'fast' extra) is not installed")
PATHS = [pytest.param(False, id="numpy"),
         pytest.param(True, id="compiled", marks=needs_numba)]


def path(compiled):
    """Use the compiled kernels (True) or the numpy references (False)."""
    return _jit.use_kernels(compiled)
