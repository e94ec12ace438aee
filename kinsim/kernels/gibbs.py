"""Molar Gibbs energy of a compound-energy phase and its first and second derivatives.

``gm_eval`` returns GM (J per mole of atoms) at site fractions y and fills the gradient
and Hessian with respect to y.  The layout of the parameter arrays is described in
``kinsim.thermo.params``.  Everything here runs per node inside numba.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit

R = 8.3145  # J/(mol K), the value of pycalphad and Thermo-Calc


@jit
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


@jit
def _ipow(v, e):
    if e == 0:
        return 1.0
    r = v
    for _ in range(e - 1):
        r *= v
    return r


@jit
def poly_eval(mlo, mhi, fnval, z, zlo, nb, mono_fn, mono_scale, fac_ptr, fac_var, fac_exp, order, g, H, fv, fd, fs):
    """Sum of the monomials in [mlo, mhi): value, and gradient/Hessian in block variables."""
    val = 0.0
    if order >= 1:
        for i in range(nb):
            g[i] = 0.0
    if order >= 2:
        for i in range(nb):
            for j in range(nb):
                H[i, j] = 0.0
    for m in range(mlo, mhi):
        c = fnval[mono_fn[m]] * mono_scale[m]
        f0 = fac_ptr[m]
        nf = fac_ptr[m + 1] - f0
        prod = c
        for j in range(nf):
            e = fac_exp[f0 + j]
            v = z[fac_var[f0 + j]]
            if e == 1:
                fv[j] = v
                fd[j] = 1.0
                fs[j] = 0.0
            else:
                fv[j] = _ipow(v, e)
                if order >= 1:
                    fd[j] = e * _ipow(v, e - 1)
                    fs[j] = e * (e - 1) * _ipow(v, e - 2)
            prod *= fv[j]
        val += prod
        if order >= 1:
            for j in range(nf):
                pj = c * fd[j]
                for i in range(nf):
                    if i != j:
                        pj *= fv[i]
                g[fac_var[f0 + j] - zlo] += pj
        if order >= 2:
            for j in range(nf):
                vj = fac_var[f0 + j] - zlo
                if fs[j] != 0.0:
                    pjj = c * fs[j]
                    for i in range(nf):
                        if i != j:
                            pjj *= fv[i]
                    H[vj, vj] += pjj
                for k in range(j + 1, nf):
                    pjk = c * fd[j] * fd[k]
                    for i in range(nf):
                        if i != j and i != k:
                            pjk *= fv[i]
                    vk = fac_var[f0 + k] - zlo
                    H[vj, vk] += pjk
                    H[vk, vj] += pjk
    return val


@jit
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
        i5 = i1 ** 5
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


@jit
def _magnetic(T, RT, tc, bm, afm, pfac, nb, order, gT, gB, HT, HB, gz, Hz):
    """IHJ magnetic Gibbs energy RT ln(beta + 1) g(T / Tc); adds its derivatives to gz, Hz."""
    st = 1.0 / afm if tc <= 0.0 else 1.0
    sb = 1.0 / afm if bm <= 0.0 else 1.0
    tc *= st
    bm *= sb
    if not tc > 1e-9:
        return 0.0
    tau = T / tc
    g, g1, g2 = _ihj(tau, pfac)
    lb = math.log(bm + 1.0)
    if order >= 1:
        dtau = -tau / tc  # d tau / d Tc
        ib = 1.0 / (bm + 1.0)
        for i in range(nb):
            dB = sb * gB[i] * ib
            dg = g1 * dtau * st * gT[i]
            gz[i] += RT * (dB * g + lb * dg)
        if order >= 2:
            d2tau = 2.0 * tau / (tc * tc)
            c2 = g2 * dtau * dtau + g1 * d2tau
            for i in range(nb):
                dBi = sb * gB[i] * ib
                dgi = g1 * dtau * st * gT[i]
                for j in range(nb):
                    dBj = sb * gB[j] * ib
                    dgj = g1 * dtau * st * gT[j]
                    d2B = sb * HB[i, j] * ib - dBi * dBj
                    d2g = c2 * st * st * gT[i] * gT[j] + g1 * dtau * st * HT[i, j]
                    Hz[i, j] += RT * (d2B * g + dBi * dgj + dgi * dBj + lb * d2g)
    return RT * lb * g


@jit
def gm_eval(p, fnval, T, y, order, gy, Hy, ws):
    """GM(y) per mole of atoms; gradient into gy and Hessian into Hy (order 1, 2)."""
    z, gz, Hz, pg, pH, fv, fd, fs = ws
    blk_afm = p.blk_afm
    blk_idmix = p.blk_idmix
    blk_kind_ptr = p.blk_kind_ptr
    blk_mag = p.blk_mag
    blk_p = p.blk_p
    blk_sign = p.blk_sign
    blk_z_ptr = p.blk_z_ptr
    fac_exp = p.fac_exp
    fac_var = p.fac_var
    mono_fac_ptr = p.mono_fac_ptr
    mono_fn = p.mono_fn
    mono_scale = p.mono_scale
    z_M = p.z_M
    z_c = p.z_c
    z_natoms = p.z_natoms
    z_ratio = p.z_ratio
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
        nb = blk_z_ptr[b + 1] - zlo
        kp = blk_kind_ptr[b]
        # polynomial part (kind 0) into gz/Hz
        G = poly_eval(kp[0], kp[1], fnval, z, zlo, nb, mono_fn, mono_scale, mono_fac_ptr,
                      fac_var, fac_exp, order, gz, Hz, fv, fd, fs)
        # ideal mixing
        if blk_idmix[b] != 0.0:
            for i in range(nb):
                a = z_ratio[zlo + i]
                if a == 0.0:
                    continue
                zi = z[zlo + i]
                if not zi > 0.0:
                    return np.nan
                lz = math.log(zi)
                G += RT * a * zi * lz
                if order >= 1:
                    gz[i] += RT * a * (lz + 1.0)
                if order >= 2:
                    Hz[i, i] += RT * a / zi
        # magnetic (IHJ)
        if blk_mag[b] == 1:
            gT = pg[0]
            gB = pg[1]
            HT = pH[0]
            HB = pH[1]
            tc = poly_eval(kp[1], kp[2], fnval, z, zlo, nb, mono_fn, mono_scale, mono_fac_ptr,
                           fac_var, fac_exp, order, gT, HT, fv, fd, fs)
            bm = poly_eval(kp[2], kp[3], fnval, z, zlo, nb, mono_fn, mono_scale, mono_fac_ptr,
                           fac_var, fac_exp, order, gB, HB, fv, fd, fs)
            G += _magnetic(T, RT, tc, bm, blk_afm[b], blk_p[b], nb, order, gT, gB, HT, HB, gz, Hz)
        # normalisation to one mole of atoms
        N = 0.0
        for i in range(nb):
            N += z_natoms[zlo + i] * z[zlo + i]
        if not N > 0.0:
            return np.nan
        sign = blk_sign[b]
        F = G / N
        GM += sign * F
        if order >= 1:
            iN = 1.0 / N
            # gradient of F in z: gz/N - F * nat/N
            for i in range(nb):
                gz[i] = gz[i] * iN  # temporarily gG/N
            if order >= 2:
                for i in range(nb):
                    ni = z_natoms[zlo + i] * iN
                    for j in range(nb):
                        nj = z_natoms[zlo + j] * iN
                        # H_F = H/N - (gG n^T + n gG^T)/N^2 + 2 G n n^T / N^3, with gz = gG/N
                        Hz[i, j] = Hz[i, j] * iN - gz[i] * nj - ni * gz[j] + 2.0 * F * ni * nj
            for i in range(nb):
                gz[i] -= F * z_natoms[zlo + i] * iN
            # chain rule to y: z = M y + c
            for k in range(K):
                s = 0.0
                for i in range(nb):
                    s += z_M[zlo + i, k] * gz[i]
                gy[k] += sign * s
            if order >= 2:
                for i in range(nb):
                    for k in range(K):
                        mik = z_M[zlo + i, k]
                        if mik == 0.0:
                            continue
                        for j in range(nb):
                            hij = Hz[i, j] * mik * sign
                            if hij == 0.0:
                                continue
                            for l in range(K):
                                Hy[k, l] += hij * z_M[zlo + j, l]
    return GM


@jit
def gibbs_workspace(p):
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
    return (np.zeros(Z), np.zeros(nbmax), np.zeros((nbmax, nbmax)), np.zeros((2, nbmax)),
            np.zeros((2, nbmax, nbmax)), np.zeros(fmax), np.zeros(fmax), np.zeros(fmax))


@jit
def gm_batch(p, T, Y, GM, status):
    """GM at given site fractions for many points (used to check against pycalphad)."""
    ws = gibbs_workspace(p)
    nfn = p.fn_coef.shape[0]
    fnval = np.empty(nfn)
    bvals = np.empty(p.basis_pow.shape[0])
    K = Y.shape[1]
    gy = np.empty(K)
    Hy = np.empty((K, K))
    last = np.nan
    st = 0
    for i in range(Y.shape[0]):
        if T[i] != last:
            st = eval_tfuncs(T[i], p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval)
            last = T[i]
        if st != 0:
            status[i] = 1
            GM[i] = np.nan
            continue
        GM[i] = gm_eval(p, fnval, T[i], Y[i], 0, gy, Hy, ws)
        status[i] = 0 if np.isfinite(GM[i]) else 5
