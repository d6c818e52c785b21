"""Optional compiled kernels: numba, when it is installed (the ``fast`` extra).

The per-step loops of the sequential paths (the reservoir's steps, the
readout's row-by-row RLS/LMS updates) spend much of their time in the
interpreter between small numpy and BLAS calls. Each such loop has a *kernel*:
a plain Python function written beside the numpy reference it replaces (the
reservoir step in ``_reservoir.py``, the readout update in ``_itds.py``),
which this module compiles with numba on first use (cached on disk) and runs
instead of the reference when numba is available. The references stay the
definition; the tests check each kernel against its reference.

Kernels call BLAS (``symv``, ``syr``, ``ger``) through scipy's
``cython_blas`` at an address passed in as an argument (:func:`blas_table`),
so they use the same BLAS routines as the reference, and numba can cache them
(a function pointer baked into the code could not be cached).

Switch the kernels off with the environment variable
``SKLEARN_ITDS_NUMBA=0`` or :func:`use_kernels`. The first use in a process
costs numba's start-up (importing it and loading the cached machine code,
about a second); the first use on a machine also compiles (a few seconds).
"""

import hashlib
import importlib.util
import inspect
import os
import threading
import warnings
from contextlib import contextmanager
from functools import lru_cache
from types import FunctionType

import numpy as np

__all__ = ["available", "blas_table", "kernel", "use_kernels"]

_switch = {"on": os.environ.get("SKLEARN_ITDS_NUMBA", "1").strip().lower()
           not in ("0", "false", "no", "off")}
_lock = threading.Lock()
_compile_lock = threading.RLock()  # a kernel compiles the kernels it calls first


@lru_cache(maxsize=None)
def _numba_installed():
    """True when numba is installed and imports (imported here, once)."""
    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import numba  # noqa: F401
    except Exception as exc:  # e.g. a numba too old for this numpy
        warnings.warn(f"numba is installed but does not import ({exc}); "
                      "sklearn_itds runs its numpy code instead.", RuntimeWarning,
                      stacklevel=3)
        return False
    return True


def available():
    """True when the compiled kernels are used: numba is installed and they
    are not switched off (``SKLEARN_ITDS_NUMBA=0`` or :func:`use_kernels`)."""
    return _switch["on"] and _numba_installed()


@contextmanager
def use_kernels(on):
    """Use the compiled kernels (``on=True``, where numba is installed) or the
    numpy references (``on=False``) inside the ``with`` block (process-wide)."""
    with _lock:
        before = _switch["on"]
        _switch["on"] = bool(on)
    try:
        yield
    finally:
        with _lock:
            _switch["on"] = before


def kernel(py_func):
    """Decorator: a plain Python function compiled by numba on first call.

    The function's body may call BLAS through ``blas_call(address, *pointers)``
    (see ``_intrinsics``) and other kernels by their names. It is
    compiled with ``nogil=True`` (it releases the GIL) and
    ``error_model="numpy"`` (a division by zero gives inf or nan, as in numpy,
    which the divergence checks then see), and cached on disk.
    """
    return _Kernel(py_func)


class _Kernel:
    def __init__(self, py_func):
        self.py_func = py_func
        self.__doc__ = py_func.__doc__
        self.__name__ = py_func.__name__
        self._compiled = None

    def compiled(self):
        """The numba dispatcher (compiled, or loaded from numba's cache, once)."""
        if self._compiled is None:
            with _compile_lock:
                if self._compiled is None:
                    self._compiled = _compile(self.py_func)
        return self._compiled

    def __call__(self, *args):
        return self.compiled()(*args)

    def loaded(self):
        """True when the kernels are switched on and this one is already
        compiled (or loaded from the cache) in this process, so that calling
        it costs no start-up; never imports numba."""
        return _switch["on"] and self._compiled is not None


def _compile(py_func):
    import numba

    namespace = dict(py_func.__globals__)
    callees = sorted(name for name in py_func.__code__.co_names
                     if isinstance(namespace.get(name), _Kernel))
    for name in callees:
        namespace[name] = namespace[name].compiled()
    namespace.update(_intrinsics())
    func = FunctionType(py_func.__code__, namespace, py_func.__name__,
                        py_func.__defaults__, py_func.__closure__)
    func.__module__ = py_func.__module__
    func.__doc__ = py_func.__doc__
    # numba's cache notices changes to the function's own file only: name the
    # cache entry of a kernel that calls others after their source as well.
    try:
        func.__qualname__ = py_func.__qualname__ + "".join(
            "_" + _source_hash(namespace[name].py_func) for name in callees)
        return numba.njit(cache=True, nogil=True, error_model="numpy")(func)
    except (OSError, RuntimeError):  # no source to hash, or nowhere to cache:
        func.__qualname__ = py_func.__qualname__  # compile in each process
        return numba.njit(nogil=True, error_model="numpy")(func)


def _source_hash(func):
    return hashlib.sha256(inspect.getsource(func).encode()).hexdigest()[:12]


@lru_cache(maxsize=None)
def _intrinsics():
    """``blas_call(address, *pointers)``: call the BLAS routine at ``address``.

    A routine of scipy's ``cython_blas`` takes every argument by pointer; the
    kernels pass ``array.ctypes.data`` (an integer) for each, after the
    routine's address from :func:`blas_table`.
    """
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def blas_call(typingctx, address, *pointers):
        n = len(pointers)

        def codegen(context, builder, signature, args):
            ptr = ir.IntType(8).as_pointer()
            packed = args[1]  # the star arguments arrive as one tuple
            values = [builder.inttoptr(builder.extract_value(packed, i), ptr)
                      for i in range(n)]
            fnty = ir.FunctionType(ir.VoidType(), [ptr] * n)
            builder.call(builder.inttoptr(args[0], fnty.as_pointer()), values)
            return context.get_dummy_value()

        return types.void(address, types.StarArgTuple.from_types(pointers)), codegen

    return {"blas_call": blas_call}


@lru_cache(maxsize=None)
def blas_table(dtype):
    """Addresses of ``[symv, syr, ger]`` of scipy's BLAS for ``dtype``, as int64."""
    from numba.extending import get_cython_function_address

    prefix = {np.dtype(np.float64): "d", np.dtype(np.float32): "s"}[np.dtype(dtype)]
    return np.array([get_cython_function_address("scipy.linalg.cython_blas", prefix + name)
                     for name in ("symv", "syr", "ger")], dtype=np.int64)
