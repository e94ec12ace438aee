"""Mobilities and Onsager coefficients per node (numba).

Mobility (vacancy mechanism, CALPHAD):  M_k = scale_k exp(Q_k / RT) / RT,
Q_k = sum(MQ_k) + sum(MF_k) expanded as CEF sums over the site fractions (m^2 mol/(J s)).

Lattice-fixed Onsager coefficients (Andersson & Agren, J. Appl. Phys. 72 (1992) 1350),
per unit volume (mol^2 / (J m s)):

    L'_kk = u_k M_k / V_s            (substitutional k)
    L'_kk = u_k y_VA M_k / V_s       (interstitial k, y_VA the vacancy fraction of its sublattice)
    L'_kj = the case's cross term    (k != j): absolute, or relative r_kj sqrt(L'_kk L'_jj)

with u_k = x_k / sum_{j substitutional} x_j and V_s the molar volume per mole of
substitutional atoms.  ``onsager_coef`` is the one formula for L'_ab; every flux and
Jacobian entry takes its coefficients from it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import INLINE, jit
from .codes import ONSAGER_ABSOLUTE, ONSAGER_DIAGONAL
from .gibbs import R


class Material(NamedTuple):
    """What the fluxes need to know of the material besides its thermodynamics."""

    Vs: float  # molar volume per mole of substitutional atoms (m^3/mol)
    mob_scale: np.ndarray  # f8[n] the case's mobility scale factor per component (1)
    subst: np.ndarray  # f8[n] 1.0 substitutional, 0.0 interstitial
    ideal: float = 0.0  # eps of the homogenization model's ideal term (kinsim.kernels.flux; 0: none)
    face_mean: int = 0  # FACE_ARITHMETIC or FACE_GEOMETRIC: the face value of L' (kinsim.kernels.flux)


class Onsager(NamedTuple):
    """The case's off-diagonal Onsager terms."""

    form: int  # ONSAGER_DIAGONAL (none), ONSAGER_ABSOLUTE or ONSAGER_RELATIVE
    matrix: np.ndarray  # f8[n, n] zero diagonal: L'_kj (absolute, mol^2/(J m s)) or r_kj (relative, 1)


@jit(**INLINE)
def mobilities(p, fnval, T, y, zb, out):
    """M_k (m^2 mol / (J s)) of every component at site fractions y into ``out`` (no
    scale factors).  fnval: the T functions at T; zb: scratch of the block variables."""
    K = y.shape[0]
    zlo = p.blk_z_ptr[0]
    zhi = p.blk_z_ptr[1]
    for i in range(zlo, zhi):
        s = p.z_c[i]
        for k in range(K):
            s += p.z_M[i, k] * y[k]
        zb[i] = s
    RT = R * T
    for c in range(out.shape[0]):
        q = 0.0
        for m in range(p.mq_ptr[c], p.mq_ptr[c + 1]):
            v = fnval[p.mq_fn[m]] * p.mq_scale[m]
            for f in range(p.mq_fac_ptr[m], p.mq_fac_ptr[m + 1]):
                zz = zb[p.mq_fac_var[f]]
                for _ in range(p.mq_fac_exp[f]):
                    v *= zz
            q += v
        out[c] = math.exp(q / RT) / RT


@jit(**INLINE)
def onsager_coef(onsager, La, Lb, a, b):
    """L'_ab of a state whose diagonal coefficients are L'_aa = La and L'_bb = Lb."""
    if a == b:
        return La
    if onsager.form == ONSAGER_DIAGONAL:
        return 0.0
    if onsager.form == ONSAGER_ABSOLUTE:
        return onsager.matrix[a, b]
    return onsager.matrix[a, b] * math.sqrt(La * Lb)


@jit(**INLINE)
def diagonal_onsager(p, material, u, y, M, L):
    """L'_kk of one node (u-fractions u, site fractions y, mobilities M without the scale
    factors) into L; False when a coefficient is not finite."""
    for k in range(u.shape[0]):
        lk = u[k] * M[k] * material.mob_scale[k] / material.Vs
        if p.interstitial[k] == 1 and p.va_y[k] >= 0:
            lk *= y[p.va_y[k]]
        L[k] = lk
        if not np.isfinite(lk):
            return False
    return True


@jit(**INLINE)
def onsager_is_psd(onsager, L, W):
    """Whether the full L' matrix of one node (diagonal L) is positive semi-definite: an
    LDL' test on the scratch W (n x n)."""
    n = L.shape[0]
    for a in range(n):
        for b in range(n):
            W[a, b] = onsager_coef(onsager, L[a], L[b], a, b)
    scale = 0.0
    for k in range(n):
        if abs(W[k, k]) > scale:
            scale = abs(W[k, k])
    tol = 1e-12 * scale
    for k in range(n):
        d = W[k, k]
        if d < -tol:
            return False
        if d <= tol:
            for i in range(k + 1, n):
                if abs(W[i, k]) > 1e-6 * scale:
                    return False
            continue
        for i in range(k + 1, n):
            f = W[i, k] / d
            for j in range(k + 1, i + 1):
                W[i, j] -= f * W[j, k]
                W[j, i] = W[i, j]
    return True
