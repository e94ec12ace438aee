"""The per-node equilibrium of :mod:`kinsim.kernels.kkt` over many independent rows on
all threads (numba ``prange``).

The rows are split into ``n_chunks`` contiguous chunks, and each chunk goes through
:func:`~kinsim.kernels.kkt.equilibrium_batch` unchanged (its workspace is allocated once
per chunk), so every row gets exactly the numbers the serial kernel gives it.  Used by
``kinsim thermo`` and :func:`kinsim.equilibrium`; the simulation keeps the serial kernel.
"""

from __future__ import annotations

from numba import prange

from .._jit import jit
from .kkt import equilibrium_batch


@jit(parallel=True)
def equilibrium_chunks(p, T, X, Y, warm, MU, PD, DMU, GM, status, minimise, n_chunks):
    """:func:`~kinsim.kernels.kkt.equilibrium_batch` (same arguments, rows along the
    first axis) on ``n_chunks`` chunks of rows in parallel."""
    N = X.shape[0]
    for c in prange(n_chunks):
        lo = c * N // n_chunks
        hi = (c + 1) * N // n_chunks
        equilibrium_batch(
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
        )
