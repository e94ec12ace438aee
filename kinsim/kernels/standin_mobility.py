"""STAND-IN (to be removed when the per-set mobilities of the phase-set arrays land):
mobilities of one composition set from its phase's own ThermoParams, with the
single-phase kernel ``kinsim.kernels.mobility.mobilities``."""

from __future__ import annotations

import numpy as np

from .._jit import LEAF, jit
from .codes import STATUS_NAN, STATUS_OK
from .gibbs import eval_tfuncs
from .mobility import mobilities


@jit(**LEAF)
def standin_tfuncs(mob, T, fnv, bvals):
    """T functions of every phase (mob: a tuple of ThermoParams) into the rows of fnv."""
    bad = 0
    for a in range(len(mob)):
        p = mob[a]
        if eval_tfuncs(T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals,
                       fnv[a, :p.fn_coef.shape[0]]) != 0:
            bad = 1
    return bad


@jit(**LEAF)
def standin_set_mobilities(mob, fnv, T, a, y, zb, M, yva):
    """M_k of a set of phase a at site fractions y, and the vacancy factor yva_k of an
    interstitial (1 otherwise)."""
    p = mob[a]
    mobilities(p, fnv[a], T, y, zb, M)
    for c in range(M.shape[0]):
        yva[c] = y[p.va_y[c]] if (p.interstitial[c] == 1 and p.va_y[c] >= 0) else 1.0
        if not np.isfinite(M[c]):
            return STATUS_NAN
    return STATUS_OK
