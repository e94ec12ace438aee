"""The per-node equilibrium of :mod:`kinsim.kernels.kkt` over many independent rows on
all threads (numba ``prange``).

The rows are split into ``n_chunks`` contiguous chunks, and each chunk goes through
:func:`~kinsim.kernels.kkt.equilibrium_batch` unchanged (its workspace is allocated once
per chunk), so every row gets exactly the numbers the serial kernel gives it.  It calls
the serial kernel through its reference (``kinsim.kernels.nodes.equilibrium_ref``), the
one the simulation's node evaluation uses: compiled once for both, not again inside this
kernel.  Used by
``kinsim thermo`` and :func:`kinsim.equilibrium`; the simulation keeps the serial kernel.
"""

from __future__ import annotations

from numba import prange

from .._jit import jit
from .kernel_ref import call_ref


@jit(parallel=True)
def equilibrium_chunks(p, T, X, Y, warm, MU, PD, DMU, GM, status, minimise, n_chunks, batch):
    """:func:`~kinsim.kernels.kkt.equilibrium_batch` (same arguments, rows along the
    first axis, C-contiguous) on ``n_chunks`` chunks of rows in parallel; ``batch`` its
    reference (``equilibrium_ref(p, minimise)``)."""
    N = X.shape[0]
    for c in prange(n_chunks):
        lo = c * N // n_chunks
        hi = (c + 1) * N // n_chunks
        call_ref(
            batch,
            (
                p,
                T[lo:hi],
                X[lo:hi],
                Y[lo:hi],
                warm[lo:hi],
                MU[lo:hi],
                PD[lo:hi],
                DMU[lo:hi],
                GM[lo:hi],
                status[lo:hi],
                minimise,
            ),
        )
