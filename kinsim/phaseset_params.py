"""The kernel arrays of a phase set (kinsim.kernels.mptypes.PhaseSetParams) from its
candidate phases: every phase's ThermoParams tables concatenated with per-phase offsets,
the per-phase tables padded to the largest phase, and the mobility tables with where
each phase's mobilities come from."""

from __future__ import annotations

import numpy as np

from .kernels.mptypes import MOB_DATABASE, MOB_NONE, MOB_ZERO, PhaseSetParams


def _cat(arrays):
    """Concatenate along the first axis, zero-padding the other axes to the largest."""
    shape = tuple(max(a.shape[d] for a in arrays) for d in range(1, arrays[0].ndim))
    out = [np.pad(a, [(0, 0)] + [(0, s - a.shape[d + 1]) for d, s in enumerate(shape)]) for a in arrays]
    return np.ascontiguousarray(np.concatenate(out))


def _offsets(arrays):
    return np.concatenate([[0], np.cumsum([a.shape[0] for a in arrays])]).astype(np.int64)


def _mobility_kind(desc) -> int:
    if not desc.mobility_policy:
        return MOB_NONE
    return MOB_ZERO if desc.mobility_zero else MOB_DATABASE


def phase_set_params(models) -> PhaseSetParams:
    """PhaseSetParams of phases (objects with ``params``, a ThermoParams, and ``desc``, its
    PhaseDescription, e.g. kinsim.phase.PhaseModel) over the same components."""
    params = [m.params for m in models]
    n = params[0].n_comp
    NP = len(params)
    Kmax = max(p.n_y for p in params)
    Smax = max(p.n_sub for p in params)
    sub_ptr = np.zeros((NP, Smax + 1), dtype=np.int64)
    y_comp = np.full((NP, Kmax), -1, dtype=np.int64)
    y_ratio = np.zeros((NP, Kmax))
    for a, p in enumerate(params):
        ys = np.asarray(p.y_sub)
        sub_ptr[a, : p.n_sub + 1] = np.searchsorted(ys, np.arange(p.n_sub + 1))
        y_comp[a, : p.n_y] = p.y_comp
        y_ratio[a, : p.n_y] = p.y_ratio

    def field(name):
        return [np.asarray(getattr(p, name)) for p in params]

    cat = {
        k: _cat(field(k))
        for k in (
            "t_breaks",
            "basis_pow",
            "basis_log",
            "basis_exp",
            "fn_coef",
            "mono_fn",
            "mono_scale",
            "mono_fac_ptr",
            "fac_var",
            "fac_exp",
            "blk_sign",
            "blk_kind_ptr",
            "blk_idmix",
            "blk_mag",
            "blk_afm",
            "blk_p",
            "blk_z_ptr",
            "z_M",
            "z_c",
            "z_ratio",
            "z_natoms",
            "mq_fn",
            "mq_scale",
            "mq_fac_ptr",
            "mq_fac_var",
            "mq_fac_exp",
        )
    }
    off = {
        k: _offsets(field(k))
        for k in (
            "t_breaks",
            "basis_pow",
            "fn_coef",
            "mono_fn",
            "mono_fac_ptr",
            "fac_var",
            "blk_sign",
            "blk_z_ptr",
            "z_c",
            "mq_fn",
            "mq_fac_ptr",
            "mq_fac_var",
        )
    }
    return PhaseSetParams(
        n_comp=n,
        n_y=np.array([p.n_y for p in params], dtype=np.int64),
        n_sub=np.array([p.n_sub for p in params], dtype=np.int64),
        sub_ptr=sub_ptr,
        y_comp=y_comp,
        y_ratio=y_ratio,
        n_const=np.array([p.n_const for p in params], dtype=np.float64),
        fixed_atoms=np.array([int(np.all(np.asarray(p.y_comp) >= 0)) for p in params], dtype=np.int64),
        tb_off=off["t_breaks"],
        t_breaks=cat["t_breaks"],
        bs_off=off["basis_pow"],
        basis_pow=cat["basis_pow"],
        basis_log=cat["basis_log"],
        basis_exp=cat["basis_exp"],
        fn_off=off["fn_coef"],
        fn_coef=cat["fn_coef"],
        mo_off=off["mono_fn"],
        mono_fn=cat["mono_fn"],
        mono_scale=cat["mono_scale"],
        mp_off=off["mono_fac_ptr"],
        mono_fac_ptr=cat["mono_fac_ptr"],
        fc_off=off["fac_var"],
        fac_var=cat["fac_var"],
        fac_exp=cat["fac_exp"],
        bk_off=off["blk_sign"],
        blk_sign=cat["blk_sign"],
        blk_kind_ptr=cat["blk_kind_ptr"],
        blk_idmix=cat["blk_idmix"],
        blk_mag=cat["blk_mag"],
        blk_afm=cat["blk_afm"],
        blk_p=cat["blk_p"],
        bz_off=off["blk_z_ptr"],
        blk_z_ptr=cat["blk_z_ptr"],
        z_off=off["z_c"],
        z_M=cat["z_M"],
        z_c=cat["z_c"],
        z_ratio=cat["z_ratio"],
        z_natoms=cat["z_natoms"],
        mob_kind=np.array([_mobility_kind(m.desc) for m in models], dtype=np.int64),
        interstitial=np.array([p.interstitial for p in params], dtype=np.int64).reshape(NP, n),
        va_y=np.array([p.va_y for p in params], dtype=np.int64).reshape(NP, n),
        mq_ptr=np.array([p.mq_ptr for p in params], dtype=np.int64).reshape(NP, n + 1),
        mq_off=off["mq_fn"],
        mq_fn=cat["mq_fn"],
        mq_scale=cat["mq_scale"],
        mqp_off=off["mq_fac_ptr"],
        mq_fac_ptr=cat["mq_fac_ptr"],
        mqf_off=off["mq_fac_var"],
        mq_fac_var=cat["mq_fac_var"],
        mq_fac_exp=cat["mq_fac_exp"],
    )
