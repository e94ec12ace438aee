"""The conditions at a sharp interface between two regions (numba): local equilibrium or
para-equilibrium, and the exchange of matter across it.

Unknowns of the interface at wall w between region a (left) and region b (right): the
u-fractions u^a and u^b of the independent components at the interface (the end rows
ra, rb of the two regions), what crossed the interface during the step per component,
e_k = Phi_k / V_ref (Phi in u-fraction times volume, V_ref the smaller of the two
neighbouring cells), and the position P_w of the wall.  Equations (3m + 1, m = n - 1):

- the phase condition (n rows): local equilibrium, mu_k^a = mu_k^b for every component
  (rows (mu_k^a - mu_k^b) / RT); para-equilibrium: u^a_k = u^b_k for the independent
  substitutional components, mu_k^a = mu_k^b for the interstitial ones, and
  sum_{j substitutional} u^a_j (mu_j^a - mu_j^b) = 0 (row 0); a merged wall between two
  regions of one phase: u^a_k = u^b_k (m rows; row m is unused and the wall does not
  move);
- the exchange seen from each side (m rows each): e_k = T^a_k / V_ref and
  e_k = T^b_k / V_ref, with T_k = dt V_s A J_k - u_k dVol the transport across the moving
  wall over the step (J the face flux from the last node of a to the state u^a, or from
  u^b to the first node of b; dVol the BDF combination of the volume coordinate of the
  wall, i.e. dt A v for the wall velocity v).

The two exchange rows together are the flux balance v (c^a_k - c^b_k) = J^a_k - J^b_k
of the independent components; both regions take the same e, so the matter that leaves
one region enters the other exactly.  Local rows are ordered [phase condition (n)]
[exchange a (m)] [exchange b (m)]; local columns [last node of a (m)] [u^a (m)] [e (m)]
[u^b (m)] [first node of b (m)].
"""

from __future__ import annotations

from .._jit import INTERNAL, jit
from .codes import WALL_LOCAL_EQ, WALL_MERGED, WALL_PARA_EQ


@jit(**INTERNAL)
def interface_equations(kind, subst, ra, rb, fa, fb, U, MU, DMDU, J, Gm, Gp, area, dvol, e, vref, dt, Vs, RT, Fl, Jl):
    """Residuals Fl (3m + 1) and their derivatives Jl ((3m + 1) x 5m, L' frozen) of the
    interface equations (module docstring) of a wall of kind ``kind`` (WALL_*): end
    rows ra, rb, face rows fa (the last face of a) and fb (the first face of b), the
    exchange e (n: index 0 unused)."""
    n = U.shape[1]
    m = n - 1
    for i in range(3 * m + 1):
        Fl[i] = 0.0
        for j in range(5 * m):
            Jl[i, j] = 0.0
    ca = m  # first column of u^a
    ce = 2 * m  # of e
    cb = 3 * m  # of u^b
    cn = 4 * m  # of the first node of b
    # ---- the phase condition, rows 0..m
    if kind == WALL_LOCAL_EQ:
        for k in range(n):
            Fl[k] = (MU[ra, k] - MU[rb, k]) / RT
            for j in range(m):
                Jl[k, ca + j] = DMDU[ra, k, j] / RT
                Jl[k, cb + j] = -DMDU[rb, k, j] / RT
    elif kind == WALL_PARA_EQ:
        s0 = 0.0
        for jj in range(n):
            if subst[jj] == 1.0:
                s0 += U[ra, jj] * (MU[ra, jj] - MU[rb, jj])
        Fl[0] = s0 / RT
        for j in range(m):
            v = subst[j + 1] * ((MU[ra, j + 1] - MU[rb, j + 1]) - (MU[ra, 0] - MU[rb, 0]))
            w = 0.0
            for jj in range(n):
                if subst[jj] == 1.0:
                    v += U[ra, jj] * DMDU[ra, jj, j]
                    w -= U[ra, jj] * DMDU[rb, jj, j]
            Jl[0, ca + j] = v / RT
            Jl[0, cb + j] = w / RT
        for k in range(1, n):
            if subst[k] == 1.0:
                Fl[k] = U[ra, k] - U[rb, k]
                Jl[k, ca + k - 1] = 1.0
                Jl[k, cb + k - 1] = -1.0
            else:
                Fl[k] = (MU[ra, k] - MU[rb, k]) / RT
                for j in range(m):
                    Jl[k, ca + j] = DMDU[ra, k, j] / RT
                    Jl[k, cb + j] = -DMDU[rb, k, j] / RT
    elif kind == WALL_MERGED:
        for k in range(1, n):
            Fl[k - 1] = U[ra, k] - U[rb, k]
            Jl[k - 1, ca + k - 1] = 1.0
            Jl[k - 1, cb + k - 1] = -1.0
    # ---- the exchange seen from a (rows n..n+m-1) and from b (rows n+m..n+2m-1)
    c = dt * Vs * area[fa]
    for k in range(1, n):
        ia = n + k - 1
        ib = n + m + k - 1
        Fl[ia] = e[k] - (c * J[fa, k] - U[ra, k] * dvol[fa]) / vref
        Fl[ib] = e[k] - (c * J[fb, k] - U[rb, k] * dvol[fb]) / vref
        Jl[ia, ce + k - 1] = 1.0
        Jl[ib, ce + k - 1] = 1.0
        for j in range(m):
            # J^a: face fa between the last node of a (its left state) and u^a (its right state)
            Jl[ia, j] = -c * Gm[fa, k, j] / vref
            Jl[ia, ca + j] = -c * Gp[fa, k, j] / vref
            # J^b: face fb between u^b (left) and the first node of b (right)
            Jl[ib, cb + j] = -c * Gm[fb, k, j] / vref
            Jl[ib, cn + j] = -c * Gp[fb, k, j] / vref
        Jl[ia, ca + k - 1] += dvol[fa] / vref
        Jl[ib, cb + k - 1] += dvol[fb] / vref


@jit(**INTERNAL)
def position_row(kind, U, ra, rb):
    """The local row of a moving interface's equations that goes to its position (the
    bordered row): the exchange seen from b of the component whose interface
    compositions differ most; -1 for a merged wall (it does not move)."""
    n = U.shape[1]
    if kind == WALL_MERGED:
        return -1
    m = n - 1
    best = 1
    gap = -1.0
    for k in range(1, n):
        g = abs(U[ra, k] - U[rb, k])
        if g > gap:
            gap = g
            best = k
    return n + m + best - 1
