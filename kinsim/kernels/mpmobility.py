"""Mobilities of the composition sets of a phase set (numba), for the homogenization
model (DICTRA's; kinsim/ARCHITECTURE section 10): Gamma_k^a = M_k^a u_k^a per stable set
a, from the set's own mobility at its own site fractions.

M_k = exp(Q_k / RT) / RT (m^2 mol J^-1 s^-1), Q_k the sum of the phase's MQ and MF
monomials of component k over its site fractions, evaluated exactly as the single-phase
kernel does (kinsim.kernels.mobility.mobilities: same coefficients, same order of
operations, hence the same numbers).  Per phase, ``PhaseSetParams.mob_kind`` says where
the values come from: the database, zero (a phase without MQ parameters under the
"solvent" policy: it carries no diffusion) or nothing (a phase set loaded without a
mobility policy: NaN).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from .codes import STATUS_NAN, STATUS_OK, STATUS_T_RANGE
from .gibbs import R
from .mpphase import mp_coefs
from .mptypes import MOB_DATABASE, MOB_ZERO

_u = np.uint64


@jit(inline="always")
def _holds(ps, a, c):
    """Whether phase a holds component c."""
    if ps.n_const[a, c] > 0.0:
        return True
    for k in range(ps.n_y[a]):
        if ps.y_comp[a, k] == c:
            return True
    return False


@jit(inline="always")
def set_mobilities(ps, T, a, y, ws, M, yva):
    """Mobilities of every component in a composition set of phase a at site fractions
    y (length n_y[a]), at the temperature T of the coefficients in ws.mqc
    (``mp_coefs(ps, T, ws)``, as for the equilibrium).

    Into M (n,): M_k^a in m^2 mol J^-1 s^-1; zero for a component the phase does not
    hold (its u_k^a is zero) and for every component of a phase with zero mobilities.
    Into yva (n,): the vacancy fraction of the sublattice of a component interstitial in
    phase a (the factor of its Onsager coefficient, kinsim.kernels.mobility), 1 for a
    substitutional component, 0 for one the phase does not hold.
    Returns STATUS_OK, or STATUS_NAN (M NaN) for a phase set loaded without mobilities
    or a non-finite value.  Uses ws.z as scratch; allocates nothing."""
    n = ps.n_comp
    K = ps.n_y[a]
    kind = ps.mob_kind[a]
    for c in range(n):
        held = _holds(ps, a, c)
        if not held:
            yva[c] = 0.0
        elif ps.interstitial[a, c] == 1 and ps.va_y[a, c] >= 0:
            yva[c] = y[_u(ps.va_y[a, c])]
        else:
            yva[c] = 1.0
        M[c] = 0.0 if (kind == MOB_ZERO or not held) else np.nan
    if kind != MOB_DATABASE:
        return STATUS_OK if kind == MOB_ZERO else STATUS_NAN
    # the variables of the phase's first block (its own site fractions)
    z0 = ps.z_off[a]
    nz = ps.blk_z_ptr[ps.bz_off[a] + 1] - ps.blk_z_ptr[ps.bz_off[a]]
    for i in range(nz):
        s = ps.z_c[_u(z0 + i)]
        for k in range(K):
            s += ps.z_M[_u(z0 + i), k] * y[k]
        ws.z[i] = s
    p0 = ps.mqp_off[a]
    f0 = ps.mqf_off[a]
    RT = R * T
    st = STATUS_OK
    for c in range(n):
        if not _holds(ps, a, c):
            continue
        q = 0.0
        for m in range(ps.mq_ptr[a, c], ps.mq_ptr[a, c + 1]):
            v = ws.mqc[a, m]
            for f in range(ps.mq_fac_ptr[_u(p0 + m)], ps.mq_fac_ptr[_u(p0 + m + 1)]):
                zz = ws.z[_u(ps.mq_fac_var[_u(f0 + f)])]
                for _ in range(ps.mq_fac_exp[_u(f0 + f)]):
                    v *= zz
            q += v
        M[c] = math.exp(q / RT) / RT
        if not np.isfinite(M[c]):
            st = STATUS_NAN
    return st


@jit(_nrt=False)
def mp_set_mobilities(ps, T, SP, SY, MOB, YVA, status, ws):
    """``set_mobilities`` of every composition set of every row at one temperature T:
    SP (N, SM) phase of each set (-1: empty slot, NaN out), SY (N, SM, Kmax) its site
    fractions (the state of kinsim.kernels.multiphase.mp_node); MOB, YVA (N, SM, n)
    outputs; status (N,) per row (the first set's failure)."""
    bad = mp_coefs(ps, T, ws)
    for i in range(SP.shape[0]):
        status[i] = STATUS_T_RANGE if bad != 0 else STATUS_OK
        for j in range(SP.shape[1]):
            a = SP[i, j]
            if a < 0 or bad != 0:
                for c in range(ps.n_comp):
                    MOB[i, j, c] = np.nan
                    YVA[i, j, c] = np.nan
                continue
            st = set_mobilities(ps, T, a, SY[i, j, : ps.n_y[a]], ws, MOB[i, j], YVA[i, j])
            if st != STATUS_OK and status[i] == STATUS_OK:
                status[i] = st
