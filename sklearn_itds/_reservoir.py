"""Echo-state reservoirs: random weights and state computation.

A leaky tanh reservoir with ``N`` units, row-vector convention::

    x(t+1) = (1 - leak_rate) x(t)
             + leak_rate tanh(u(t) W_in + x(t) W + bias + y(t) W_fb)

``W`` is sparse-random with the requested ``density`` and rescaled to the
requested spectral radius; ``W_in``, ``bias`` and ``W_fb`` are uniform in
``[-scaling, scaling]``. Each of these draws uses its own random stream derived
from ``random_state``, so changing, say, the number of inputs leaves the
recurrent weights unchanged.
"""

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import ArpackNoConvergence, eigs
from sklearn.utils import check_random_state

from . import _jit
from ._threads import single_blas_thread

try:  # the kernels behind ``csr @ vector`` / ``csr @ matrix``, without scipy's
    # per-call checks; they accumulate into their output (y += A x)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy that moved them: use ``@``
    _csr_matvec = _csr_matvecs = None

__all__ = ["Reservoir", "sparse_batch_product", "spawn_streams"]

_DENSE_EIG_MAX = 600  # below this size a dense eigen-decomposition is cheap
_SPARSE_MAX = 0.2  # density up to which W is used through a CSR copy of W^T
_SCIPY_BATCH_MAX = 0.1  # ... and batches through scipy's kernel (without numba)
_COMPILED_RUN_WORK = 1 << 33  # multiply-adds of a run of trials that repay numba's start-up
_DRIVE_BLOCK = 1 << 20  # input-drive values of a batch of sequences computed at once
_ELEMENTWISE_INPUTS = 16  # up to this many input channels, drives input by input


def spawn_streams(random_state, n):
    """``n`` independent ``RandomState`` streams derived from ``random_state``."""
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=n)
    return [np.random.RandomState(seed) for seed in seeds]


def _spectral_radius(W, rng):
    n = W.shape[0]
    if n <= _DENSE_EIG_MAX:
        with single_blas_thread():  # threads cost more than they gain here
            return float(np.max(np.abs(np.linalg.eigvals(W))))
    try:
        v0 = rng.uniform(-1, 1, size=n)
        vals = eigs(sparse.csr_matrix(W), k=1, which="LM", v0=v0,
                    return_eigenvectors=False, tol=1e-6, maxiter=20 * n)
        return float(np.abs(vals[0]))
    except ArpackNoConvergence:
        return float(np.max(np.abs(np.linalg.eigvals(W))))


class Reservoir:
    """Random echo-state reservoir weights and the state update.

    Parameters
    ----------
    n_inputs, n_reservoir : int
    spectral_radius, density, leak_rate, input_scaling, bias_scaling : float
    n_feedback : int
        Number of fed-back outputs (0: no output feedback).
    feedback_scaling : float
    random_state : int, RandomState or None
    dtype : numpy dtype

    Attributes
    ----------
    W : ndarray (N, N)
        Recurrent weights (dense; see :meth:`recurrent` for the sparse path).
    W_in : ndarray (n_inputs, N)
    bias : ndarray (N,)
    W_fb : ndarray (n_feedback, N) or None
    """

    def __init__(self, n_inputs, n_reservoir, *, spectral_radius, density,
                 leak_rate, input_scaling, bias_scaling, n_feedback=0,
                 feedback_scaling=1.0, random_state=None, dtype=np.float64):
        rec_rng, in_rng, bias_rng, fb_rng = spawn_streams(random_state, 4)
        N = n_reservoir
        W = sparse.random(N, N, density=density, random_state=rec_rng,
                          data_rvs=rec_rng.standard_normal).toarray()
        rho = _spectral_radius(W, rec_rng) if N > 1 or W.any() else 0.0
        if rho > 0:
            W *= spectral_radius / rho
        self.W = W.astype(dtype)
        self.W_in = in_rng.uniform(-input_scaling, input_scaling,
                                   size=(n_inputs, N)).astype(dtype)
        self.bias = bias_rng.uniform(-bias_scaling, bias_scaling, size=N).astype(dtype)
        self.W_fb = (fb_rng.uniform(-feedback_scaling, feedback_scaling,
                                    size=(n_feedback, N)).astype(dtype)
                     if n_feedback else None)
        self.leak_rate = leak_rate
        self.density = density
        self._W_sparse_T = None

    @property
    def n_reservoir(self):
        return self.W.shape[0]

    def drive(self, U, out=None):
        """Input drive ``U W_in + bias`` (works for 2-D, 3-D or sparse ``U``).

        ``out``, if given, receives it when ``U`` is dense and of the weights'
        dtype (saving a fresh array: its page faults cost more than the product).
        """
        if sparse.issparse(U):
            drive = np.asarray(U @ self.W_in)
        elif out is not None and U.dtype == out.dtype == self.W.dtype:
            drive = np.matmul(U, self.W_in, out=out)
        else:
            drive = U @ self.W_in
        drive += self.bias
        return drive.astype(self.W.dtype, copy=False)

    def recurrent(self, X):
        """``X W`` for one state (1-D) or a batch of states (2-D).

        When ``W`` is sparse enough (``density <= 0.2``) a CSR copy of its
        transpose is used, for single states and batches alike (a run of
        trials chooses its own product, see :meth:`batch_W_T`). The result
        equals the dense product up to the order of summation.
        """
        W_T = self._sparse_W_T()
        if W_T is None:
            return X @ self.W
        return W_T @ X if X.ndim == 1 else (W_T @ X.T).T

    def _sparse_W_T(self):
        """A cached CSR copy of ``W.T`` when ``W`` is sparse enough, else None."""
        if self.density > _SPARSE_MAX:
            return None
        if self._W_sparse_T is None:
            self._W_sparse_T = sparse.csr_matrix(self.W.T)
        return self._W_sparse_T

    def batch_W_T(self):
        """The CSR ``W^T`` for the batch product of a run of trials, or None
        when the dense GEMM is faster there.

        Measured at N=1000 on batches of 1024 states (``docs/performance.rst``,
        "CSR or dense"): the compiled ``_csr_states`` beats the dense GEMM at
        every density up to 0.2 (4-6 times at the default 0.05); scipy's own
        kernel, used without numba, loses to it above about 0.1 (0.70-0.85 of
        the GEMM's speed at 0.15-0.2 in float32), so without numba a denser
        ``W`` runs its batches as dense products.
        """
        W_T = self._sparse_W_T()
        if W_T is not None and self.density > _SCIPY_BATCH_MAX and not _jit.available():
            return None
        return W_T

    def prepare_runs(self, n_sample_steps):
        """Get ready to run ``n_sample_steps`` trial steps in batches.

        Loads the compiled batch product (``_csr_states``) when the run's
        sparse multiply-adds reach ``_COMPILED_RUN_WORK`` (about 8.6e9) and
        numba is available: numba's start-up in a process (importing it and
        loading the cached kernel) takes about 0.7 s, which a kernel twice
        as fast as scipy's repays only on large runs (the 60,000 x 784
        classifier's 3e10; load_digits' 1.4e8 would pay it several times
        over). Once loaded, every run uses it. The two give the same result
        bit for bit, so which one runs never changes a model.
        """
        W_T = self.batch_W_T()
        if (W_T is not None and n_sample_steps * W_T.nnz >= _COMPILED_RUN_WORK
                and _jit.available()):
            _csr_states.compiled()

    def step(self, x, drive):
        """One leaky update from state(s) ``x`` given the total drive."""
        a = self.leak_rate
        pre = drive + self.recurrent(x)
        if a == 1.0:
            return np.tanh(pre)
        return (1.0 - a) * x + a * np.tanh(pre)

    def run_steps(self, x, drive, out, feedback=None):
        """States of consecutive steps from state ``x``: ``out[t]`` after ``drive[t]``.

        The same operations as repeated :meth:`step` calls, written in place
        into ``out`` (n_steps, N), which may be a view such as ``rows[:, :N]``.
        ``feedback`` (n_steps, n_feedback), if given, adds ``feedback[t] W_fb``
        to step ``t``'s drive. Returns the last state (a copy).

        With numba (see ``sklearn_itds._jit``) and the sparse recurrent
        weights, the compiled kernel ``_leaky_steps`` runs the steps instead:
        the same sums in the same order, with libm's ``tanh``, which may
        differ from numpy's in the last bit.
        """
        if feedback is not None:
            drive = drive + feedback @ self.W_fb
        compiled = self._kernel_args(drive)
        if compiled is not None:
            _leaky_steps(np.ascontiguousarray(x, dtype=drive.dtype), drive, out, *compiled)
            return np.array(out[-1]) if len(out) else np.array(x)
        a = self.leak_rate
        W_T = self._sparse_W_T()
        W = self.W if W_T is None else None
        N = self.n_reservoir
        raw = (_csr_matvec is not None and W_T is not None
               and W_T.indices.dtype == np.int32 and drive.dtype == W_T.dtype)
        for t in range(drive.shape[0]):
            if raw:  # pre = drive[t] + W^T x, accumulated by scipy's own kernel
                pre = drive[t].copy()
                _csr_matvec(N, N, W_T.indptr, W_T.indices, W_T.data,
                            np.asarray(x, dtype=W_T.dtype), pre)
            else:
                pre = W_T @ x if W is None else x @ W
                pre += drive[t]
            np.tanh(pre, out=pre)
            if a != 1.0:
                pre *= a
                pre += (1.0 - a) * x
            out[t] = pre
            x = pre
        return np.array(x)

    def _kernel_args(self, drive):
        """The arguments of ``_leaky_steps`` after ``(x, drive, out)``, or None
        when the numpy loop runs (no numba, dense weights, other dtypes)."""
        if not _jit.available():
            return None
        W_T = self._sparse_W_T()
        if W_T is None or drive.dtype != W_T.dtype or W_T.indices.dtype != np.int32 \
                or not drive.flags.c_contiguous:
            return None
        kind = drive.dtype.type
        # uint32 indices: numba then skips the wraparound check of signed ones
        return (W_T.indptr.view(np.uint32), W_T.indices.view(np.uint32), W_T.data,
                kind(self.leak_rate), kind(1.0 - self.leak_rate))

    def run_trials(self, U, n_steps, learn_steps, bias=False, drive_offset=None):
        """States of a batch of trials started from the zero state.

        Parameters
        ----------
        U : ndarray (B, F) static inputs, or (B, T, F) sequences
        n_steps : int
            Trial length for static inputs (ignored for sequences).
        learn_steps : int
            How many of the final steps to return.
        bias : bool, default=False
            Append a constant-1 column (the readout's bias input), written in
            place rather than by copying the states.
        drive_offset : ndarray (N,), default=None
            Added to every step's input drive: ``(U + c) W_in`` is
            ``U W_in + c W_in``, so a shift ``c`` of sparse input costs no
            densifying.

        Returns
        -------
        states : ndarray (B, learn_steps, N), or (B, learn_steps, N + 1) with bias
        """
        T = U.shape[1] if U.ndim == 3 else n_steps
        B, N = U.shape[0], self.n_reservoir
        out = np.empty((B, learn_steps, N + bool(bias)), dtype=self.W.dtype)
        if bias:
            out[:, :, N] = 1.0
        first = T - learn_steps
        for t, xT in enumerate(self._trajectory(U, n_steps, drive_offset)):
            if t >= first:
                out[:, t - first, :N] = xT.T
        return out

    def trial_summary(self, U, n_steps, lengths=None, drive_offset=None):
        """Mean and last state of each trial, without storing the trajectory.

        Trial ``i`` is valid for its first ``lengths[i]`` steps (None: all);
        its later, padded steps are run but never read. Memory is ``O(B N)``
        whatever the trial length. Arguments as in :meth:`run_trials`.

        Returns
        -------
        mean, last : ndarray (B, N)
            ``mean_t x(t)`` over the valid steps, and ``x(T_i)``.
        """
        T = U.shape[1] if U.ndim == 3 else n_steps
        B, N = U.shape[0], self.n_reservoir
        total = np.zeros((N, B), dtype=self.W.dtype)
        last = np.empty((N, B), dtype=self.W.dtype)
        if lengths is None:
            lengths = np.full(B, T)
        ends = [np.flatnonzero(lengths == t + 1) for t in range(T)]
        for t, xT in enumerate(self._trajectory(U, n_steps, drive_offset)):
            valid = lengths > t
            if valid.all():
                total += xT
            else:
                total[:, valid] += xT[:, valid]
            if ends[t].size == B:  # every trial ends here
                np.copyto(last, xT)
            elif ends[t].size:
                last[:, ends[t]] = xT[:, ends[t]]
        return (total / lengths).T, last.T

    def _trajectory(self, U, n_steps, drive_offset=None):
        """Yield the transposed states ``x(t)^T`` (N, B) of a batch, step by step.

        The yielded array may be overwritten at the next step: copy what you keep.
        """
        seq = U.ndim == 3
        T = U.shape[1] if seq else n_steps
        B, N = U.shape[0], self.n_reservoir
        a = self.leak_rate
        dtype = self.W.dtype
        # The states are kept transposed, (N, B) in C order: the layout in
        # which the CSR product W^T x^T streams contiguous rows of B values,
        # and every elementwise operation below runs on contiguous memory.
        W_T = self.batch_W_T()
        raw = (_csr_matvecs is not None and W_T is not None
               and W_T.indices.dtype == np.int32 and W_T.dtype == dtype)
        compiled = raw and _csr_states.loaded()  # see prepare_runs
        if W_T is None:
            W_T = self.W.T
        offset = None if drive_offset is None else drive_offset.astype(dtype)[:, None]
        if seq:
            drives = self._drive_steps(U, offset)
        else:
            if sparse.issparse(U):
                static = np.ascontiguousarray(self.drive(U).T)
            else:  # as a sequence's steps are: the same drive for the same row
                static = _drive_T(self.W_in.T, np.asarray(U, dtype=dtype).T,
                                  self.bias[:, None])
            if offset is not None:
                static += offset
            drives = (static for _ in range(T))
        xT = np.zeros((N, B), dtype=dtype)
        # Two buffers for the pre-activations: without a leak the state of
        # step t is buffer t % 2, read while step t + 1 writes the other one.
        buffers = [np.empty((N, B), dtype=dtype) for _ in range(2 if a == 1.0 else 1)]
        for t, drive in enumerate(drives):
            # self.step(x, drive), transposed and in place: the same
            # operations, so the same states up to summation order.
            if raw:
                pre = buffers[t % len(buffers)]
                sparse_batch_product(W_T, xT, drive, pre, compiled)
            else:
                pre = W_T @ xT
                pre += drive
            np.tanh(pre, out=pre)
            if a == 1.0:
                xT = pre
            else:
                pre *= a
                xT *= 1.0 - a
                xT += pre
            yield xT

    def _drive_steps(self, U, offset=None):
        """The transposed input drives ``(U[:, t] W_in + bias)^T`` (N, B) of
        sequences ``U`` (B, T, F), step by step, computed a block of steps at
        a time (one product per block instead of one per step)."""
        B, T = U.shape[:2]
        dtype = self.W.dtype
        W_in_T = self.W_in.T  # (N, F)
        bias = self.bias[:, None]
        if offset is not None:
            bias = bias + offset
        steps = max(1, _DRIVE_BLOCK // (B * self.n_reservoir))
        for start in range(0, T, steps):
            # W_in^T u(t)^T for the block's steps at once, written straight in
            # the (s, N, B) layout the trajectory reads
            U_T = U[:, start:start + steps].transpose(1, 2, 0).astype(dtype, copy=False)
            yield from _drive_T(W_in_T, U_T, bias)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_W_sparse_T"] = None  # a cache: rebuilt on demand
        return state


def sparse_batch_product(W_T, xT, drive, out, compiled):
    """``out = drive + W^T x^T`` for a batch of states ``xT`` (N, B), ``W_T``
    the CSR copy of ``W^T`` (int32 indices, the states' dtype).

    ``compiled``: by ``_csr_states``, else by scipy's own ``csr_matvecs``
    accumulating into a copy of ``drive``; the same sums in the same order,
    so the same result bit for bit.
    """
    if compiled:  # uint32 indices: numba skips the wraparound check
        _csr_states(W_T.indptr.view(np.uint32), W_T.indices.view(np.uint32), W_T.data,
                    xT, np.ascontiguousarray(drive), out)
    else:
        np.copyto(out, drive)
        _csr_matvecs(*W_T.shape, xT.shape[1], W_T.indptr, W_T.indices, W_T.data, xT, out)


def _drive_T(W_in_T, U_T, bias):
    """Transposed input drives ``W_in^T u^T + bias``: (..., N, B) from inputs
    ``U_T`` (..., F, B), ``W_in_T`` (N, F) and ``bias`` (N, 1).

    Up to ``_ELEMENTWISE_INPUTS`` channels the sum runs input by input, the
    same operations for every trial, so a trial's drive does not depend on
    the batch it is computed in (the results of the classifier do not depend
    on how its trials are chunked); beyond, one batched product.
    """
    F = U_T.shape[-2]
    if F > _ELEMENTWISE_INPUTS:
        out = np.matmul(W_in_T, U_T)
    else:
        out = W_in_T[:, 0, None] * U_T[..., None, 0, :]
        for f in range(1, F):
            out += W_in_T[:, f, None] * U_T[..., None, f, :]
    out += bias
    return out


_PANEL = 512  # states per panel of _csr_states


@_jit.kernel
def _csr_states(indptr, indices, data, xT, drive, pre):
    """Compiled ``pre = drive + W^T x^T`` for a batch of states (the CSR
    arrays of ``W^T``; ``xT``, ``drive``, ``pre``: (N, B), C order).

    The reference is scipy's ``csr_matvecs`` into a copy of ``drive``
    (``Reservoir._trajectory``): every element is summed in the same order,
    from ``drive[i, b]`` over row ``i``'s nonzeros, so the result is the same
    bit for bit. Faster by keeping a panel of up to ``_PANEL`` running sums
    in one buffer across the row's nonzeros and adding four of them per pass
    over the panel (about twice scipy's speed at N=1000, density 0.05).
    """
    N, B = xT.shape
    acc = np.empty(min(B, _PANEL), dtype=pre.dtype)
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    for start in range(0, B, _PANEL):
        width = np.uint64(min(_PANEL, B - start))
        c0 = np.uint64(start)
        for i in range(N):
            row = drive[i]
            for c in range(width):
                acc[c] = row[c0 + c]
            k, end = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            while k + four <= end:
                a0, a1, a2, a3 = data[k], data[k + one], data[k + two], data[k + three]
                x0 = xT[np.uint64(indices[k])]
                x1 = xT[np.uint64(indices[k + one])]
                x2 = xT[np.uint64(indices[k + two])]
                x3 = xT[np.uint64(indices[k + three])]
                for c in range(width):
                    j = c0 + c
                    acc[c] = (((acc[c] + a0 * x0[j]) + a1 * x1[j]) + a2 * x2[j]) + a3 * x3[j]
                k += four
            while k < end:
                a, x = data[k], xT[np.uint64(indices[k])]
                for c in range(width):
                    acc[c] += a * x[c0 + c]
                k += one
            row = pre[i]
            for c in range(width):
                row[c0 + c] = acc[c]


@_jit.kernel
def _leaky_steps(x, drive, out, indptr, indices, data, a, keep):
    """Compiled ``Reservoir.run_steps`` (CSR weights of ``W^T``).

    For each step ``t``: ``pre_i = drive[t, i] + sum_k data[k] x[indices[k]]``
    over row ``i`` of the CSR arrays, summed in that order from ``drive[t,
    i]`` as scipy's ``csr_matvec`` does, then ``x_i <- keep x_i + a
    tanh(pre_i)`` (``a`` the leak rate, ``keep = 1 - a``; ``a == 1``: just
    the ``tanh``), written to ``out[t]``. ``x`` is not modified.
    """
    n_steps, N = drive.shape
    cur = x.copy()
    pre = np.empty(N, dtype=drive.dtype)
    for t in range(n_steps):
        # Rows i and i + 1 side by side: two independent sums hide the latency
        # of the additions (about a quarter faster), each still in its order.
        for i in range(0, N - 1, 2):
            s0, s1 = drive[t, i], drive[t, i + 1]
            k0, k1 = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            end = np.uint64(indptr[i + 2])
            both = min(k1 - k0, end - k1)
            for q in range(both):
                s0 += data[k0 + q] * cur[np.uint64(indices[k0 + q])]
                s1 += data[k1 + q] * cur[np.uint64(indices[k1 + q])]
            for k in range(k0 + both, k1):
                s0 += data[k] * cur[np.uint64(indices[k])]
            for k in range(k1 + both, end):
                s1 += data[k] * cur[np.uint64(indices[k])]
            pre[i], pre[i + 1] = s0, s1
        if N % 2:
            s = drive[t, N - 1]
            for k in range(np.uint64(indptr[N - 1]), np.uint64(indptr[N])):
                s += data[k] * cur[np.uint64(indices[k])]
            pre[N - 1] = s
        for i in range(N):
            th = np.tanh(pre[i])
            if a != 1.0:
                th = a * th + keep * cur[i]
            cur[i] = th
            out[t, i] = th
