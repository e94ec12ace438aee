"""Molar Gibbs energy of a compound-energy phase and its first and second derivatives.

``gm_core`` returns GM (J per mole of atoms) at site fractions y and fills the gradient
and Hessian with respect to y; ``gm_eval`` is the same on a ThermoParams (convenient, but
not for per-node loops).  The layout of the parameter arrays is described in
``kinsim.thermo.params``.  Everything here runs per node inside numba.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit

R = 8.3145  # J/(mol K), the value of pycalphad and Thermo-Calc

# indices read from the parameter tables are cast to unsigned (no wraparound code, below)
_u = np.uint64


@jit(_nrt=False, forceinline=True)
def eval_tfuncs(T, t_breaks, basis_pow, basis_log, basis_exp, fn_coef, bvals, out):
    """Values of every T function at T into ``out``. Returns 0, or 1 if T is out of range."""
    nr = t_breaks.shape[0] - 1
    if not (T >= t_breaks[0] and T <= t_breaks[nr]):
        for f in range(out.shape[0]):
            out[f] = np.nan
        return 1
    r = nr - 1
    for k in range(1, nr):
        if T < t_breaks[k]:
            r = k - 1
            break
    lnT = math.log(T)
    for b in range(basis_pow.shape[0]):
        v = T ** basis_pow[b]
        if basis_log[b] == 1:
            v *= lnT
        ex = 0.0
        for j in range(basis_exp.shape[1]):
            if basis_exp[b, j, 1] != 0.0:
                ex += basis_exp[b, j, 1] * T ** basis_exp[b, j, 0]
        if ex != 0.0:
            v *= math.exp(ex)
        bvals[b] = v
    for f in range(fn_coef.shape[0]):
        s = 0.0
        for b in range(basis_pow.shape[0]):
            c = fn_coef[f, r, b]
            if c != 0.0:
                s += c * bvals[b]
        out[f] = s
    return 0


# Per-node kernels (gm_core here; _constraints, _direct_y, _potentials in kkt; the LU
# routines in linalg) follow three rules, each worth a large factor in speed:
# - no reference counting: they never allocate and are compiled with _nrt=False.  Otherwise
#   numba increfs and decrefs (atomically, ~10 ns a pair) every array argument and every
#   member of a tuple or NamedTuple argument on each call, and its pruning pass cannot
#   remove pairs that span a call to another jitted function.  They take plain arrays (no
#   ThermoParams, no tuples, no array views) and fewer than 30 arguments (CPython passes
#   more as a tuple, which numba builds with increfs in the caller); callers hoist the
#   ThermoParams fields and the workspace once per batch;
# - forceinline=True: LLVM inlines them into the per-node loop, so that the ~200 machine
#   words of array arguments are not copied on every call;
# - indices read from the tables are cast to unsigned (_u): numba then emits no
#   negative-index wraparound code.
# The scalar helpers of gm_core are forceinline too (_ipow, _factor: compiled once, inlined
# by LLVM; inlined by numba at their many call sites they made numba's own passes over
# gm_core's IR cost seconds), except _ihj (one call site), inline="always".
# Callers pass gm_core's ``order`` as an np.int64, never as a literal: numba compiles a
# jitted function once per literal argument value (kinsim._jit), and gm_core is the largest
# per-node function.  It is inlined with the caller's constant, so LLVM still specialises
# each inlined copy for its order.


@jit(_nrt=False, forceinline=True)
def _ipow(v, e):
    if e == 0:
        return 1.0
    r = v
    for _ in range(e - 1):
        r *= v
    return r


@jit(_nrt=False, forceinline=True)
def _factor(v, e, order):
    """v**e and, for order >= 1, its first and second derivatives (the powers are the
    running products of _ipow, so v**(e-1) * v is bit for bit _ipow(v, e))."""
    if e == 1:
        return v, 1.0, 0.0
    if e < 1:
        return _ipow(v, e), e * _ipow(v, e - 1), e * (e - 1) * _ipow(v, e - 2)
    p2 = 1.0  # v**(e-2)
    if e > 2:
        p2 = v
        for _ in range(e - 3):
            p2 *= v
    p1 = p2 * v
    fd = 0.0
    fs = 0.0
    if order >= 1:
        fd = e * p1
        fs = e * (e - 1) * p2
    return p1 * v, fd, fs


@jit(inline="always")
def _ihj(tau, p):
    """Inden-Hillert-Jarl g(tau) and its first two derivatives."""
    A = 518.0 / 1125.0 + (11692.0 / 15975.0) * (1.0 / p - 1.0)
    if tau < 1.0:
        a = 79.0 / (140.0 * p)
        b = (474.0 / 497.0) * (1.0 / p - 1.0)
        t2 = tau * tau
        t3 = t2 * tau
        t7 = t3 * t3 * tau
        t8 = t7 * tau
        t9 = t8 * tau
        t13 = t9 * t3 * tau
        t14 = t13 * tau
        t15 = t14 * tau
        g = 1.0 - (a / tau + b * (t3 / 6.0 + t9 / 135.0 + t15 / 600.0)) / A
        g1 = -(-a / t2 + b * (t2 / 2.0 + t8 / 15.0 + t14 / 40.0)) / A
        g2 = -(2.0 * a / t3 + b * (tau + 8.0 * t7 / 15.0 + 14.0 * t13 / 40.0)) / A
    else:
        i1 = 1.0 / tau
        i5 = i1**5
        i6 = i5 * i1
        i7 = i6 * i1
        i15 = i5 * i5 * i5
        i16 = i15 * i1
        i17 = i16 * i1
        i25 = i15 * i5 * i5
        i26 = i25 * i1
        i27 = i26 * i1
        g = -(i5 / 10.0 + i15 / 315.0 + i25 / 1500.0) / A
        g1 = -(-i6 / 2.0 - i16 / 21.0 - i26 / 60.0) / A
        g2 = -(3.0 * i7 + 16.0 / 21.0 * i17 + 26.0 / 60.0 * i27) / A
    return g, g1, g2


@jit(_nrt=False, forceinline=True, no_cpython_wrapper=True)
def gm_core(
    mc,
    T,
    y,
    order,
    gy,
    Hy,
    z,
    pg,
    pH,
    fw,
    blk_sign,
    blk_z_ptr,
    blk_kind_ptr,
    blk_idmix,
    blk_mag,
    blk_afm,
    blk_p,
    z_M,
    z_c,
    z_ratio,
    z_natoms,
    mono_fac_ptr,
    fac_var,
    fac_exp,
):
    """GM(y) per mole of atoms; gradient into gy and Hessian into Hy (order 1, 2).

    mc: the monomial coefficients at T (``mono_coefs``); z, pg, pH, fw: scratch from
    ``gibbs_workspace``; the other arrays are the ThermoParams fields of the same names.
    A leaf kernel (see above).

    Per block, the polynomial of kind q (0: G, 1: TC, 2: BMAGN) gets its value and its
    gradient/Hessian in the block variables in pg[q, :nb], pH[q, :nb, :nb]; fw[0], fw[1],
    fw[2] hold the factor values and first and second derivatives of one monomial.
    """
    K = y.shape[0]
    RT = R * T
    Ztot = z_c.shape[0]
    for i in range(Ztot):
        s = z_c[i]
        for k in range(K):
            s += z_M[i, k] * y[k]
        z[i] = s
    if order >= 1:
        for k in range(K):
            gy[k] = 0.0
    if order >= 2:
        for k in range(K):
            for l in range(K):
                Hy[k, l] = 0.0
    GM = 0.0
    for b in range(blk_sign.shape[0]):
        zlo = blk_z_ptr[b]
        uzlo = _u(zlo)
        nb = blk_z_ptr[b + 1] - zlo
        # polynomial parts: sums of monomials in [blk_kind_ptr[b, q], blk_kind_ptr[b, q + 1])
        nkind = 3 if blk_mag[b] == 1 else 1
        G = 0.0
        tc = 0.0
        bm = 0.0
        for q in range(nkind):
            val = 0.0
            if order >= 1:
                for i in range(nb):
                    pg[q, i] = 0.0
            if order >= 2:
                for i in range(nb):
                    for j in range(nb):
                        pH[q, i, j] = 0.0
            for m in range(blk_kind_ptr[b, q], blk_kind_ptr[b, q + 1]):
                c = mc[_u(m)]
                f0 = mono_fac_ptr[_u(m)]
                nf = mono_fac_ptr[_u(m + 1)] - f0
                if nf <= 3:
                    # one to three factors (nearly all monomials) in scalars, with the
                    # products in the same order as the general loop below
                    w0 = _u(fac_var[_u(f0)])
                    a0, d0, s0 = _factor(z[w0], fac_exp[_u(f0)], order)
                    w0 -= uzlo
                    if nf == 1:
                        val += c * a0
                        if order >= 1:
                            pg[q, w0] += c * d0
                        if order >= 2:
                            if s0 != 0.0:
                                pH[q, w0, w0] += c * s0
                        continue
                    w1 = _u(fac_var[_u(f0 + 1)])
                    a1, d1, s1 = _factor(z[w1], fac_exp[_u(f0 + 1)], order)
                    w1 -= uzlo
                    if nf == 2:
                        val += c * a0 * a1
                        if order >= 1:
                            pg[q, w0] += c * d0 * a1
                            pg[q, w1] += c * d1 * a0
                        if order >= 2:
                            if s0 != 0.0:
                                pH[q, w0, w0] += c * s0 * a1
                            h = c * d0 * d1
                            pH[q, w0, w1] += h
                            pH[q, w1, w0] += h
                            if s1 != 0.0:
                                pH[q, w1, w1] += c * s1 * a0
                        continue
                    w2 = _u(fac_var[_u(f0 + 2)])
                    a2, d2, s2 = _factor(z[w2], fac_exp[_u(f0 + 2)], order)
                    w2 -= uzlo
                    val += c * a0 * a1 * a2
                    if order >= 1:
                        pg[q, w0] += c * d0 * a1 * a2
                        pg[q, w1] += c * d1 * a0 * a2
                        pg[q, w2] += c * d2 * a0 * a1
                    if order >= 2:
                        if s0 != 0.0:
                            pH[q, w0, w0] += c * s0 * a1 * a2
                        h = c * d0 * d1 * a2
                        pH[q, w0, w1] += h
                        pH[q, w1, w0] += h
                        h = c * d0 * d2 * a1
                        pH[q, w0, w2] += h
                        pH[q, w2, w0] += h
                        if s1 != 0.0:
                            pH[q, w1, w1] += c * s1 * a0 * a2
                        h = c * d1 * d2 * a0
                        pH[q, w1, w2] += h
                        pH[q, w2, w1] += h
                        if s2 != 0.0:
                            pH[q, w2, w2] += c * s2 * a0 * a1
                    continue
                prod = c
                for j in range(nf):
                    fw[0, j], fw[1, j], fw[2, j] = _factor(z[fac_var[f0 + j]], fac_exp[f0 + j], order)
                    prod *= fw[0, j]
                val += prod
                if order >= 1:
                    for j in range(nf):
                        pj = c * fw[1, j]
                        for i in range(nf):
                            if i != j:
                                pj *= fw[0, i]
                        pg[q, fac_var[f0 + j] - zlo] += pj
                if order >= 2:
                    for j in range(nf):
                        vj = fac_var[f0 + j] - zlo
                        if fw[2, j] != 0.0:
                            pjj = c * fw[2, j]
                            for i in range(nf):
                                if i != j:
                                    pjj *= fw[0, i]
                            pH[q, vj, vj] += pjj
                        for k in range(j + 1, nf):
                            pjk = c * fw[1, j] * fw[1, k]
                            for i in range(nf):
                                if i != j and i != k:
                                    pjk *= fw[0, i]
                            vk = fac_var[f0 + k] - zlo
                            pH[q, vj, vk] += pjk
                            pH[q, vk, vj] += pjk
            if q == 0:
                G = val
            elif q == 1:
                tc = val
            else:
                bm = val
        # ideal mixing
        if blk_idmix[b] != 0.0:
            for i in range(nb):
                a = z_ratio[_u(zlo + i)]
                if a == 0.0:
                    continue
                zi = z[_u(zlo + i)]
                if not zi > 0.0:
                    return np.nan
                lz = math.log(zi)
                G += RT * a * zi * lz
                if order >= 1:
                    pg[0, i] += RT * a * (lz + 1.0)
                if order >= 2:
                    pH[0, i, i] += RT * a / zi
        # magnetic (IHJ): RT ln(beta + 1) g(T / Tc), TC in pg[1], pH[1], BMAGN in pg[2], pH[2]
        if blk_mag[b] == 1:
            afm = blk_afm[b]
            st = 1.0 / afm if tc <= 0.0 else 1.0
            sb = 1.0 / afm if bm <= 0.0 else 1.0
            tc *= st
            bm *= sb
            if tc > 1e-9:
                tau = T / tc
                g, g1, g2 = _ihj(tau, blk_p[b])
                lb = math.log(bm + 1.0)
                if order >= 1:
                    dtau = -tau / tc  # d tau / d Tc
                    ib = 1.0 / (bm + 1.0)
                    for i in range(nb):
                        dB = sb * pg[2, i] * ib
                        dg = g1 * dtau * st * pg[1, i]
                        pg[0, i] += RT * (dB * g + lb * dg)
                    if order >= 2:
                        d2tau = 2.0 * tau / (tc * tc)
                        c2 = g2 * dtau * dtau + g1 * d2tau
                        for i in range(nb):
                            dBi = sb * pg[2, i] * ib
                            dgi = g1 * dtau * st * pg[1, i]
                            for j in range(nb):
                                dBj = sb * pg[2, j] * ib
                                dgj = g1 * dtau * st * pg[1, j]
                                d2B = sb * pH[2, i, j] * ib - dBi * dBj
                                d2g = c2 * st * st * pg[1, i] * pg[1, j] + g1 * dtau * st * pH[1, i, j]
                                pH[0, i, j] += RT * (d2B * g + dBi * dgj + dgi * dBj + lb * d2g)
                G += RT * lb * g
            else:
                G += 0.0
        # normalisation to one mole of atoms
        N = 0.0
        for i in range(nb):
            N += z_natoms[_u(zlo + i)] * z[_u(zlo + i)]
        if not N > 0.0:
            return np.nan
        sign = blk_sign[b]
        F = G / N
        GM += sign * F
        if order >= 1:
            iN = 1.0 / N
            # gradient of F in z: gz/N - F * nat/N
            for i in range(nb):
                pg[0, i] = pg[0, i] * iN  # temporarily gG/N
            if order >= 2:
                for i in range(nb):
                    ni = z_natoms[_u(zlo + i)] * iN
                    for j in range(nb):
                        nj = z_natoms[_u(zlo + j)] * iN
                        # H_F = H/N - (gG n^T + n gG^T)/N^2 + 2 G n n^T / N^3, with gz = gG/N
                        pH[0, i, j] = pH[0, i, j] * iN - pg[0, i] * nj - ni * pg[0, j] + 2.0 * F * ni * nj
            for i in range(nb):
                pg[0, i] -= F * z_natoms[_u(zlo + i)] * iN
            # chain rule to y: z = M y + c
            for k in range(K):
                s = 0.0
                for i in range(nb):
                    s += z_M[_u(zlo + i), k] * pg[0, i]
                gy[k] += sign * s
            if order >= 2:
                for i in range(nb):
                    for k in range(K):
                        mik = z_M[_u(zlo + i), k]
                        if mik == 0.0:
                            continue
                        for j in range(nb):
                            hij = pH[0, i, j] * mik * sign
                            if hij == 0.0:
                                continue
                            for l in range(K):
                                Hy[k, l] += hij * z_M[_u(zlo + j), l]
    return GM


@jit(_nrt=False, forceinline=True)
def mono_coefs(fnval, mono_fn, mono_scale, mc):
    """Coefficient of every monomial at the temperature of ``fnval``."""
    for m in range(mono_fn.shape[0]):
        mc[m] = fnval[mono_fn[m]] * mono_scale[m]


@jit
def gm_eval(p, fnval, T, y, order, gy, Hy, ws):
    """``gm_core`` on a ThermoParams and a ``gibbs_workspace`` tuple.  Convenient, but each
    call increfs and decrefs every array of p and ws: per-node loops call ``gm_core``."""
    z, pg, pH, fw, mc = ws
    mono_coefs(fnval, p.mono_fn, p.mono_scale, mc)
    return gm_core(
        mc,
        T,
        y,
        np.int64(order),
        gy,
        Hy,
        z,
        pg,
        pH,
        fw,
        p.blk_sign,
        p.blk_z_ptr,
        p.blk_kind_ptr,
        p.blk_idmix,
        p.blk_mag,
        p.blk_afm,
        p.blk_p,
        p.z_M,
        p.z_c,
        p.z_ratio,
        p.z_natoms,
        p.mono_fac_ptr,
        p.fac_var,
        p.fac_exp,
    )


@jit
def gibbs_workspace(p):
    """Scratch of ``gm_core``: (z, pg, pH, fw, mc)."""
    Z = p.z_c.shape[0]
    nbmax = 1
    for b in range(p.blk_sign.shape[0]):
        nb = p.blk_z_ptr[b + 1] - p.blk_z_ptr[b]
        if nb > nbmax:
            nbmax = nb
    fmax = 1
    for m in range(p.mono_fn.shape[0]):
        nf = p.mono_fac_ptr[m + 1] - p.mono_fac_ptr[m]
        if nf > fmax:
            fmax = nf
    return (
        np.zeros(Z),
        np.zeros((3, nbmax)),
        np.zeros((3, nbmax, nbmax)),
        np.zeros((3, fmax)),
        np.zeros(p.mono_fn.shape[0]),
    )


@jit
def gm_batch(p, T, Y, GM, status):
    """GM at given site fractions for many points (used to check against pycalphad)."""
    z, pg, pH, fw, mc = gibbs_workspace(p)
    nfn = p.fn_coef.shape[0]
    fnval = np.empty(nfn)
    bvals = np.empty(p.basis_pow.shape[0])
    K = Y.shape[1]
    y = np.empty(K)
    gy = np.empty(K)
    Hy = np.empty((K, K))
    t_breaks, basis_pow, basis_log, basis_exp, fn_coef = p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef
    blk_sign, blk_z_ptr, blk_kind_ptr, blk_idmix = p.blk_sign, p.blk_z_ptr, p.blk_kind_ptr, p.blk_idmix
    blk_mag, blk_afm, blk_p = p.blk_mag, p.blk_afm, p.blk_p
    z_M, z_c, z_ratio, z_natoms = p.z_M, p.z_c, p.z_ratio, p.z_natoms
    mono_fn, mono_scale, mono_fac_ptr, fac_var, fac_exp = p.mono_fn, p.mono_scale, p.mono_fac_ptr, p.fac_var, p.fac_exp
    last = np.nan
    st = 0
    for i in range(Y.shape[0]):
        if T[i] != last:
            st = eval_tfuncs(T[i], t_breaks, basis_pow, basis_log, basis_exp, fn_coef, bvals, fnval)
            mono_coefs(fnval, mono_fn, mono_scale, mc)
            last = T[i]
        if st != 0:
            status[i] = 1
            GM[i] = np.nan
            continue
        for k in range(K):
            y[k] = Y[i, k]
        GM[i] = gm_core(
            mc,
            T[i],
            y,
            np.int64(0),
            gy,
            Hy,
            z,
            pg,
            pH,
            fw,
            blk_sign,
            blk_z_ptr,
            blk_kind_ptr,
            blk_idmix,
            blk_mag,
            blk_afm,
            blk_p,
            z_M,
            z_c,
            z_ratio,
            z_natoms,
            mono_fac_ptr,
            fac_var,
            fac_exp,
        )
        status[i] = 0 if np.isfinite(GM[i]) else 5
