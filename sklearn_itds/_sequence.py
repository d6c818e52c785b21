"""One series, step by step: the regressor's ``mode="sequential"``.

:func:`run_sequence` drives the reservoir through a series and lets the
readout learn online as it goes (one update per step, or every
``update_every`` steps after a washout), with output feedback and teacher
forcing where asked. Without feedback, the states of the next chunk of steps
are computed in a worker thread while the readout learns from the last one
(:data:`STATES_AHEAD`); with feedback the compiled loop of ``_fused.py``
runs reservoir and readout together. The rule itself is the readout's
(``_itds.py``); this module only orders the steps.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import numpy as np
from joblib import cpu_count
from scipy import sparse
from sklearn.utils import gen_batches

from . import _fused
from ._threads import single_blas_thread

__all__ = ["STATES_AHEAD", "run_sequence"]

_SEQ_CHUNK = 1024  # time steps whose input drive is computed together
STATES_AHEAD = True  # compute the next chunk's states in a worker thread (_states_ahead)


def run_sequence(reservoir, readout, U, Y, x, y_prev, *, skip=0, every=1,
                 feedback=False, forced=False, input_to_readout=False, states=None,
                 sample_weight=None):
    """Drive ``reservoir`` through the rows of ``U``; learn from ``Y`` if given.

    The readout reads ``r = [x(t), u(t), 1]`` (``u(t)`` only with
    ``input_to_readout``) and learns at every ``every``-th step from step
    ``skip`` on. With ``feedback`` the previous output enters the reservoir
    through ``W_fb``: the previous target when ``forced`` (teacher forcing,
    learning only), else the network's own previous output.

    Returns the outputs (a-priori where it learned), the final state and the
    value to feed back next. ``x`` and ``y_prev`` are not modified; ``states``
    (n_steps, len(r)), if given, receives each step's ``r``. ``sample_weight``
    (n_steps,): the weight of each step's update (see :class:`ITDSReadout`).
    """
    sw = sample_weight
    learn = Y is not None
    forced = learn and forced
    N = reservoir.n_reservoir
    W = readout.W
    n_in = W.shape[0] - N - 1
    Z = np.empty((U.shape[0], W.shape[1]))
    y_prev = np.array(y_prev, dtype=W.dtype)
    # Without the network's own output fed back, the states do not depend on
    # the readout: a chunk's states are computed first (one chunk ahead, in a
    # worker thread: _states_ahead) and the readout learns from them as a
    # block (ITDSReadout.partial_fit: the same updates, up to rounding). With
    # own-output feedback each step waits for the last output (compiled:
    # _fused.feedback_chunk; the numpy reference: the loop below).
    batched = not (feedback and not forced)

    buffers = {}  # reused from chunk to chunk: fresh arrays cost page faults

    def prepare(chunk, fed, slot=0):
        """A chunk's input drive (``fed``: the output fed back before it) and
        its readout rows with the input and bias columns filled in, in the
        buffers ``slot`` (two alternate while a worker runs ahead)."""
        n = chunk.stop - chunk.start
        if slot not in buffers:
            size = min(_SEQ_CHUNK, U.shape[0])
            buffers[slot] = (np.empty((size, N), dtype=W.dtype),
                             np.ones((size, W.shape[0]), dtype=W.dtype))
        drive = reservoir.drive(U[chunk], out=buffers[slot][0][:n])
        if feedback and forced:
            drive += np.vstack([fed, Y[chunk][:-1]]) @ reservoir.W_fb
        rows = buffers[slot][1][:n]
        if input_to_readout:
            inputs = U[chunk].toarray() if sparse.issparse(U) else U[chunk]
            rows[:, N:N + n_in] = inputs
        return drive, rows

    chunks = list(gen_batches(U.shape[0], _SEQ_CHUNK))
    # One tiny BLAS call after another; an overflow is reported by the
    # readout's diverged(), which the estimator turns into a warning.
    with single_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
        if batched:
            with closing(_states_ahead(reservoir, prepare, chunks, x, y_prev,
                                       Y if forced else None)) as ahead:
                for chunk, rows, x in ahead:
                    if states is not None:
                        states[chunk] = rows
                    y_prev = _learn_rows(readout, rows, Y, Z, chunk, skip, every,
                                         forced, y_prev, sw)
            return Z, x, y_prev
        for chunk in chunks:
            drive, rows = prepare(chunk, y_prev)
            # the loop below, compiled (it knows no weights)
            if sw is None and _fused.applies(reservoir, readout, drive):
                t = np.arange(chunk.start, chunk.stop)
                learns = (t >= skip) & ((t - skip) % every == 0) if learn else t < 0
                targets = Y[chunk] if learn else np.zeros((len(t), W.shape[1]))
                ZD = _fused.feedback_chunk(reservoir, readout, x, y_prev, drive, rows,
                                           targets, learns)
                Z[chunk] = ZD[:, :W.shape[1]]
                if states is not None:
                    states[chunk] = rows
                x, y_prev = rows[-1, :N].copy(), ZD[-1, :W.shape[1]].copy()
                continue
            for i, t in enumerate(range(chunk.start, chunk.stop)):
                x = reservoir.step(x, drive[i] + y_prev @ reservoir.W_fb)
                r = rows[i]
                r[:N] = x
                if states is not None:
                    states[t] = r
                if learn and t >= skip and (t - skip) % every == 0:
                    z = readout.update(r, Y[t], None if sw is None else sw[t])
                else:
                    z = r @ W
                Z[t] = z
                y_prev = z
            readout.flush()
    return Z, x, y_prev


def _states_ahead(reservoir, prepare, chunks, x, fed, Y_fed):
    """Yield ``(chunk, rows, last state)`` for each chunk, the reservoir states
    written into ``rows`` (``prepare(chunk, fed, slot)`` gives the drive and
    rows, in the buffers ``slot``; the caller is done with a chunk's rows when
    it asks for the next one).

    The states do not depend on the readout, so with more than one chunk and
    more than one core they are computed in a worker thread one chunk ahead,
    while the caller learns from the previous chunk (the compiled reservoir
    kernel and BLAS release the GIL). ``Y_fed``: the targets fed back (teacher
    forcing), whose last value before a chunk enters its drive; None: ``fed``
    for every chunk. Closing the generator waits for the worker.
    """
    N = reservoir.n_reservoir

    def produce(i, x):
        with np.errstate(over="ignore", invalid="ignore"):  # per thread
            drive, rows = prepare(chunks[i], fed_before(i), slot=i % 2)
            return rows, reservoir.run_steps(x, drive, rows[:, :N])

    def fed_before(i):
        if Y_fed is None or i == 0:
            return fed
        return Y_fed[chunks[i].start - 1].astype(fed.dtype)

    if len(chunks) < 2 or not STATES_AHEAD or cpu_count(only_physical_cores=False) < 2:
        for i, chunk in enumerate(chunks):
            rows, x = produce(i, x)
            yield chunk, rows, x
        return
    pool = ThreadPoolExecutor(1)
    try:
        pending = pool.submit(produce, 0, x)
        for i, chunk in enumerate(chunks):
            rows, x = pending.result()
            if i + 1 < len(chunks):  # into the other buffers: the last chunk's are done
                pending = pool.submit(produce, i + 1, x)
            yield chunk, rows, x
    finally:
        pool.shutdown(wait=True)


def _learn_rows(readout, rows, Y, Z, chunk, skip, every, forced, y_prev, sw=None):
    """Outputs (into ``Z[chunk]``) and learning for a chunk of precomputed rows.

    Steps before ``skip`` read the weights as they are; with ``every == 1``
    the rest learn as one :meth:`ITDSReadout.partial_fit` call, otherwise one
    :meth:`ITDSReadout.update` at a time. Returns the value to feed back next.
    """
    t = np.arange(chunk.start, chunk.stop)
    if Y is None:
        Z[chunk] = rows @ readout.W
        return Z[chunk.stop - 1].astype(y_prev.dtype)
    first = int(np.searchsorted(t, skip))
    Z[chunk.start:chunk.start + first] = rows[:first] @ readout.W
    if first < len(t) and every == 1:
        Z[chunk.start + first:chunk.stop] = readout.partial_fit(
            rows[first:], Y[chunk.start + first:chunk.stop],
            sample_weight=None if sw is None else sw[chunk.start + first:chunk.stop])
    elif first < len(t) and readout._compiled() and sw is None:  # the loop below, compiled
        learns = (t[first:] - skip) % every == 0
        Z[chunk.start + first:chunk.stop] = readout._masked_pass(
            rows[first:], Y[chunk.start + first:chunk.stop], learns)
    elif first < len(t):
        for i in range(first, len(t)):
            if (t[i] - skip) % every == 0:
                Z[t[i]] = readout.update(rows[i], Y[t[i]],
                                         None if sw is None else sw[t[i]])
            else:
                Z[t[i]] = rows[i] @ readout.W
        readout.flush()
    return (Y if forced else Z)[chunk.stop - 1].astype(y_prev.dtype)
