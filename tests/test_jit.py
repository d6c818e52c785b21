"""The optional compiled kernels' machinery (sklearn_itds._jit).

The switch (environment variable and context), and, with numba, that a
kernel's BLAS calls are scipy's BLAS routines (bit for bit the f2py calls the
numpy references make) and that a kernel calling another is cached under a
name that changes with the callee's source.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.linalg import get_blas_funcs

from sklearn_itds import _jit

from _kernels import HAVE_NUMBA, needs_numba


def test_use_kernels_switches_and_restores():
    before = _jit.available()
    with _jit.use_kernels(False):
        assert not _jit.available()
        with _jit.use_kernels(True):
            assert _jit.available() == HAVE_NUMBA
        assert not _jit.available()
    assert _jit.available() == before


def test_no_kernels_without_numba(monkeypatch):
    monkeypatch.setattr(_jit, "_numba_installed", lambda: False)
    with _jit.use_kernels(True):
        assert not _jit.available()


@needs_numba
def test_a_numba_that_does_not_import_falls_back_to_numpy(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "numba":
            raise ImportError("Numba needs NumPy 2.3 or less")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    _jit._numba_installed.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="does not import"):
            assert not _jit.available()
    finally:
        monkeypatch.undo()
        _jit._numba_installed.cache_clear()
    assert _jit.available() == _jit._switch["on"]


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False),
                                             ("1", HAVE_NUMBA)])
def test_environment_variable(value, expected):
    code = "from sklearn_itds import _jit; print(_jit.available())"
    env = dict(os.environ, SKLEARN_ITDS_NUMBA=value)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__))))
    assert out.stdout.strip() == str(expected)


@_jit.kernel
def _blas_calls(P, r, x, y, A, scalars, blas):
    """symv, syr and ger through the intrinsics, as the readout kernel calls them."""
    ints = np.empty(4, dtype=np.int32)
    ints[0], ints[1], ints[2], ints[3] = P.shape[0], 1, A.shape[1], 76
    size, one, width, lower = (ints.ctypes.data, ints[1:].ctypes.data,
                               ints[2:].ctypes.data, ints[3:].ctypes.data)
    out = np.empty(P.shape[0], dtype=P.dtype)
    blas_call(blas[0], lower, size, scalars.ctypes.data, P.ctypes.data, size,  # noqa: F821
           r.ctypes.data, one, scalars[1:].ctypes.data, out.ctypes.data, one)
    blas_call(blas[1], lower, size, scalars[2:].ctypes.data, x.ctypes.data, one,  # noqa: F821
          P.ctypes.data, size)
    blas_call(blas[2], size, width, scalars[3:].ctypes.data, x.ctypes.data, one,  # noqa: F821
          y.ctypes.data, one, A.ctypes.data, size)
    return out


@_jit.kernel
def _calls_a_kernel(P, r, x, y, A, scalars, blas):
    return _blas_calls(P, r, x, y, A, scalars, blas)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_blas_calls_are_scipys_blas(dtype):
    rng = np.random.RandomState(0)
    n = 9
    B = rng.standard_normal((n, n))
    P = np.asfortranarray(B @ B.T, dtype=dtype)
    r, x = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    y = rng.standard_normal(3).astype(dtype)
    A = np.asfortranarray(rng.standard_normal((n, 3)), dtype=dtype)
    scalars = np.array([1.5, 0.0, -0.25, 0.75], dtype=dtype)  # symv, beta, syr, ger
    symv, syr, ger = get_blas_funcs(("symv", "syr", "ger"), dtype=dtype)
    expected = symv(1.5, P, r, lower=1)
    P_ref, A_ref = syr(-0.25, x, lower=1, a=P.copy(order="F")), ger(0.75, x, y, a=A)
    for kernel in (_blas_calls, _calls_a_kernel):
        P1, A1 = P.copy(order="F"), A.copy(order="F")
        out = kernel(P1, r, x, y, A1, scalars, _jit.blas_table(dtype))
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(np.tril(P1), np.tril(P_ref))
        np.testing.assert_array_equal(np.triu(P1, 1), np.triu(P, 1))  # not touched
        np.testing.assert_array_equal(A1, A_ref)


@needs_numba
def test_a_kernel_calling_kernels_is_cached_under_its_callees_source():
    # numba's cache would not notice an edit to _blas_calls: the caller's cache
    # entry is named after the callee's source instead.
    dispatcher = _calls_a_kernel.compiled()
    name = dispatcher.py_func.__qualname__
    assert name == "_calls_a_kernel_" + _jit._source_hash(_blas_calls.py_func)
    assert _blas_calls.compiled().py_func.__qualname__ == "_blas_calls"


def test_kernels_keep_their_python_source():
    from sklearn_itds._itds import _readout_rows
    from sklearn_itds._reservoir import _leaky_steps

    for k in (_readout_rows, _leaky_steps):
        assert callable(k.py_func) and k.__doc__ == k.py_func.__doc__
