"""Block-tridiagonal linear systems, plain or cyclic (numba).

    Lo[i] x_{i-1} + Di[i] x_i + Up[i] x_{i+1} = r_i,   i = 0 .. N-1,

with b x b blocks.  Plain: Lo[0] and Up[N-1] are zero.  Cyclic (periodic grids): the
indices wrap, Lo[0] couples the first row to x_{N-1} and Up[N-1] the last row to x_0.

The elimination is block Thomas with the last unknown x_{N-1} kept as a border: the
forward sweep over rows 0..N-2 writes x_i = Y_i - X_i x_{i+1} - Z_i x_{N-1}, the backward
sweep x_i = P_i + Q_i x_{N-1}, and the last row then gives x_{N-1} from one b x b system.
Without the corners (Z only at row N-2, from Up[N-2]) it is the ordinary block Thomas
algorithm.  Each diagonal block is factored by LU with partial pivoting
(``kinsim.kernels.linalg``); there is no pivoting between blocks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import LEAF, jit
from .linalg import lu_factor, lu_solve


class BlockWork(NamedTuple):
    """Scratch of ``solve_block_tridiagonal`` for N rows of b x b blocks."""

    X: np.ndarray  # f8[N, b, b]
    Z: np.ndarray  # f8[N, b, b] border columns, then the Q of the backward sweep
    Y: np.ndarray  # f8[N, b] forward-substituted right-hand side, then the P of the backward sweep
    D: np.ndarray  # f8[b, b] a diagonal block being factored
    col: np.ndarray  # f8[b]
    piv: np.ndarray  # i8[b]


def block_work(N: int, b: int) -> BlockWork:
    return BlockWork(
        X=np.zeros((N, b, b)),
        Z=np.zeros((N, b, b)),
        Y=np.zeros((N, b)),
        D=np.zeros((b, b)),
        col=np.zeros(b),
        piv=np.zeros(b, dtype=np.int64),
    )


@jit(**LEAF)
def _solve_columns(D, b, piv, A, out, col, sign):
    """out = sign D^-1 A (b x b) with the LU factors of D."""
    for j in range(b):
        for k in range(b):
            col[k] = A[k, j]
        lu_solve(D, b, piv, col)
        for k in range(b):
            out[k, j] = sign * col[k]


@jit(**LEAF)
def solve_block_tridiagonal(Lo, Di, Up, r, work):
    """Solve the (cyclic) block-tridiagonal system with blocks Lo, Di, Up (N, b, b) and
    right-hand side r (N, b), overwritten by the solution.  Returns 0, or 1 when a
    diagonal block of the elimination is singular.  Lo[0] and Up[N-1] are the cyclic
    corners (zero for a plain system); the blocks are not modified."""
    N = r.shape[0]
    b = r.shape[1]
    X, Z, Y, D, col, piv = work.X, work.Z, work.Y, work.D, work.col, work.piv
    last = N - 1
    # ---- forward sweep over rows 0 .. N-2: x_i = Y_i - X_i x_{i+1} - Z_i x_{N-1}
    for i in range(last):
        for k in range(b):
            for j in range(b):
                D[k, j] = Di[i, k, j]
                # the border column of row i before its elimination: Lo[0] (the corner) in
                # row 0, -Lo[i] Z[i-1] below it; Up[N-2] joins it in row N-2
                zc = Lo[0, k, j] if i == 0 else 0.0
                if i == last - 1:
                    zc += Up[i, k, j]
                Z[i, k, j] = zc
            col[k] = r[i, k]
        if i > 0:
            for k in range(b):
                for j in range(b):
                    s = 0.0
                    z = 0.0
                    for l in range(b):
                        s += Lo[i, k, l] * X[i - 1, l, j]
                        z += Lo[i, k, l] * Z[i - 1, l, j]
                    D[k, j] -= s
                    Z[i, k, j] -= z
                s = 0.0
                for l in range(b):
                    s += Lo[i, k, l] * Y[i - 1, l]
                col[k] -= s
        if lu_factor(D, b, piv) != 0:
            return 1
        lu_solve(D, b, piv, col)
        for k in range(b):
            Y[i, k] = col[k]
        _solve_columns(D, b, piv, Z[i], Z[i], col, 1.0)
        if i < last - 1:
            _solve_columns(D, b, piv, Up[i], X[i], col, 1.0)
        else:
            X[i, :, :] = 0.0
    # ---- backward sweep: x_i = P_i + Q_i x_{N-1} (P in Y, Q = -(Z_i + X_i Q_{i+1}) in Z)
    for i in range(last - 1, -1, -1):
        for k in range(b):
            for j in range(b):
                q = Z[i, k, j]
                if i < last - 1:
                    for l in range(b):
                        q += X[i, k, l] * Z[i + 1, l, j]
                Z[i, k, j] = q
        for k in range(b):
            for j in range(b):
                Z[i, k, j] = -Z[i, k, j]
        if i < last - 1:
            for k in range(b):
                s = 0.0
                for l in range(b):
                    s += X[i, k, l] * Y[i + 1, l]
                Y[i, k] -= s
    # ---- the last row: (Di + Lo Q_{N-2} + Up Q_0) x_{N-1} = r - Lo P_{N-2} - Up P_0
    for k in range(b):
        s = r[last, k]
        for l in range(b):
            s -= Lo[last, k, l] * Y[last - 1, l] + Up[last, k, l] * Y[0, l]
        col[k] = s
        for j in range(b):
            d = Di[last, k, j]
            for l in range(b):
                d += Lo[last, k, l] * Z[last - 1, l, j] + Up[last, k, l] * Z[0, l, j]
            D[k, j] = d
    if lu_factor(D, b, piv) != 0:
        return 1
    lu_solve(D, b, piv, col)
    for k in range(b):
        r[last, k] = col[k]
    for i in range(last):
        for k in range(b):
            s = Y[i, k]
            for j in range(b):
                s += Z[i, k, j] * col[j]
            r[i, k] = s
    return 0
