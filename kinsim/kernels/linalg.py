"""Small dense linear algebra on preallocated arrays (no allocation per node).

LAPACK through numba allocates and copies on every call, which costs more than the
arithmetic for the 5-20 unknowns of a per-node KKT system; these loops do not.  They are
per-node kernels in the sense of kinsim.kernels.gibbs (no reference counting, inlined).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

# pivot indices read back from piv are cast to unsigned before indexing (no negative-index
# wraparound code from numba)
_u = np.uint64


@jit(_nrt=False, forceinline=True)
def lu_factor(A, n, piv):
    """In-place LU with partial pivoting of A[:n, :n]. Returns 0, or 1 if singular."""
    scale = 0.0
    for i in range(n):
        for j in range(n):
            a = abs(A[i, j])
            if a > scale:
                scale = a
    if scale == 0.0 or not np.isfinite(scale):
        return 1
    tiny = scale * 1e-15
    for k in range(n):
        p = k
        amax = abs(A[k, k])
        for i in range(k + 1, n):
            a = abs(A[i, k])
            if a > amax:
                amax = a
                p = i
        piv[k] = p
        if amax <= tiny:
            return 1
        if p != k:
            for j in range(n):
                t = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = t
        inv = 1.0 / A[k, k]
        for i in range(k + 1, n):
            f = A[i, k] * inv
            A[i, k] = f
            if f != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return 0


@jit(_nrt=False, forceinline=True)
def lu_solve(A, n, piv, b):
    """Solve in place with the factors from lu_factor (b overwritten by x)."""
    for k in range(n):
        if piv[k] != k:
            p = _u(piv[k])
            t = b[k]
            b[k] = b[p]
            b[p] = t
    for i in range(1, n):
        s = b[i]
        for j in range(i):
            s -= A[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= A[i, j] * b[j]
        b[i] = s / A[i, i]


@jit(_nrt=False, forceinline=True)
def lu_solve_cols(A, n, piv, B, m):
    """``lu_solve`` for the m right-hand sides B[:n, :m] at once (columns, overwritten by
    the solutions): the same operations per column, interleaved, so that the dependency
    chains of the substitutions overlap."""
    for k in range(n):
        if piv[k] != k:
            p = _u(piv[k])
            for c in range(m):
                t = B[k, c]
                B[k, c] = B[p, c]
                B[p, c] = t
    for i in range(1, n):
        for j in range(i):
            a = A[i, j]
            for c in range(m):
                B[i, c] -= a * B[j, c]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            a = A[i, j]
            for c in range(m):
                B[i, c] -= a * B[j, c]
        d = A[i, i]
        for c in range(m):
            B[i, c] = B[i, c] / d


@jit(_nrt=False, forceinline=True)
def lu_solve_t_cols(A, n, piv, B, m, rdiag):
    """Solve A^T X = B[:n, :m] in place with the factors from lu_factor (P A = L U, so
    A^T = U^T L^T P): U^T w = b, L^T v = w, x = P^T v.  The m columns are interleaved, and
    the divisions by the diagonal of U are multiplications by its reciprocals (computed
    first into rdiag[:n], off the dependency chains)."""
    for i in range(n):
        rdiag[i] = 1.0 / A[i, i]
    for i in range(n):
        for j in range(i):
            a = A[j, i]
            for c in range(m):
                B[i, c] -= a * B[j, c]
        r = rdiag[i]
        for c in range(m):
            B[i, c] *= r
    for i in range(n - 2, -1, -1):
        for j in range(i + 1, n):
            a = A[j, i]
            for c in range(m):
                B[i, c] -= a * B[j, c]
    for k in range(n - 1, -1, -1):
        if piv[k] != k:
            p = _u(piv[k])
            for c in range(m):
                t = B[k, c]
                B[k, c] = B[p, c]
                B[p, c] = t
