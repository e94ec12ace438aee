"""A bordered block-tridiagonal linear system (numba): the Newton system of the
moving-boundary model.

    [ A  B ] [x]   [r]
    [ C  D ] [s] = [q]

A is block tridiagonal with blocks of varying size (block b has ``size[b]`` unknowns at
``off[b]`` of x; diagonal ``Dg[b]``, below ``Lo[b]`` (size[b] x size[b-1]), above ``Up[b]``
(size[b] x size[b+1]), each stored in the top-left corner of a square array); the few
unknowns s (the interface positions) couple to everything through the dense columns B
(``Bc``, len(x) x ns) and rows C (``Cr``, ns x len(x)).  Solved by the Schur complement:
A [X0 X1] = [r B] by one block-Thomas sweep with 1 + ns right-hand sides, then
(D - C X1) s = q - C X0 and x = X0 - X1 s.
"""

from __future__ import annotations

from .._jit import INTERNAL, jit
from .linalg import lu_factor, lu_solve, lu_solve_cols


@jit(**INTERNAL)
def bordered_solve(nb, size, off, Dg, Lo, Up, Bc, Cr, Ds, r, q, ns, X, W, A, piv, T, S, spiv, x, s):
    """Solve the system (see the module docstring) into x and s; 1 when a diagonal
    block or the Schur complement is singular, else 0.

    Scratch: X (blocks, bmax, bmax), W (len(x), 1 + ns), A and T (bmax, bmax + ns + 1),
    piv (bmax), S (ns, ns + 1), spiv (ns)."""
    nr = 1 + ns
    for b in range(nb):
        n = size[b]
        o = off[b]
        # right-hand sides of this block: [r B]
        for i in range(n):
            W[o + i, 0] = r[o + i]
            for c in range(ns):
                W[o + i, 1 + c] = Bc[o + i, c]
        for i in range(n):
            for j in range(n):
                A[i, j] = Dg[b, i, j]
        if b > 0:
            # D' = D - L X[b-1],  W_b -= L W_{b-1}
            p = size[b - 1]
            po = off[b - 1]
            for i in range(n):
                for j in range(n):
                    v = 0.0
                    for k in range(p):
                        v += Lo[b, i, k] * X[b - 1, k, j]
                    A[i, j] -= v
                for c in range(nr):
                    v = 0.0
                    for k in range(p):
                        v += Lo[b, i, k] * W[po + k, c]
                    W[o + i, c] -= v
        if lu_factor(A, n, piv) != 0:
            return 1
        for i in range(n):
            for c in range(nr):
                T[i, c] = W[o + i, c]
        lu_solve_cols(A, n, piv, T, nr)
        for i in range(n):
            for c in range(nr):
                W[o + i, c] = T[i, c]
        if b < nb - 1:
            nn = size[b + 1]
            for i in range(n):
                for j in range(nn):
                    T[i, j] = Up[b, i, j]
            lu_solve_cols(A, n, piv, T, nn)
            for i in range(n):
                for j in range(nn):
                    X[b, i, j] = T[i, j]
    # back substitution: W_b -= X[b] W_{b+1}
    for b in range(nb - 2, -1, -1):
        n = size[b]
        o = off[b]
        nn = size[b + 1]
        no = off[b + 1]
        for i in range(n):
            for c in range(nr):
                v = 0.0
                for k in range(nn):
                    v += X[b, i, k] * W[no + k, c]
                W[o + i, c] -= v
    nx = off[nb - 1] + size[nb - 1]
    if ns > 0:
        # Schur complement (D - C X1) s = q - C X0
        for i in range(ns):
            v = q[i]
            for k in range(nx):
                v -= Cr[i, k] * W[k, 0]
            S[i, ns] = v
            for j in range(ns):
                v = Ds[i, j]
                for k in range(nx):
                    v -= Cr[i, k] * W[k, 1 + j]
                S[i, j] = v
        if lu_factor(S, ns, spiv) != 0:
            return 1
        for i in range(ns):
            s[i] = S[i, ns]
        lu_solve(S, ns, spiv, s)
    for k in range(nx):
        v = W[k, 0]
        for j in range(ns):
            v -= W[k, 1 + j] * s[j]
        x[k] = v
    return 0
