"""The one place that holds kinsim's numba options.

Kernels are top-level ``@jit`` functions compiled once and kept in numba's disk cache.
``fastmath`` stays off so that NaN and inf are detected, ``error_model='numpy'`` makes a
division by zero give inf/NaN (caught by status codes) instead of raising inside a kernel.
"""

from __future__ import annotations

import numba

JIT_OPTIONS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)

# Per-node helpers that only read and write arrays they are given are compiled with
# ``jit(**INNER)``: no reference counting (numba's private ``_nrt`` flag; the arrays are
# owned by the caller) and inlined into the batch loop.  Note: numba's disk cache keys a
# function on its own file, so after editing an inlined helper in another file, clear
# kinsim/kernels/__pycache__ (a fresh checkout or install has no stale cache).
INNER = dict(_nrt=False, forceinline=True)


def jit(func=None, **overrides):
    """``numba.njit`` with kinsim's options (usable bare or with overrides)."""
    opts = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(func)
