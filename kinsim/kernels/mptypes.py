"""Plain-array inputs of the multiphase kernels (kinsim.kernels.mpphase, .hull, .multiphase).

``PhaseSetParams`` holds the candidate phases of a case: the ThermoParams arrays of every
phase (see kinsim.thermo.params) concatenated along their first axis, with per-phase
offsets (phase a's rows of ``fn_coef`` are fn_coef[fn_off[a]:fn_off[a + 1]], and so on;
the indices stored inside stay local to the phase), and per-phase tables padded to the
largest phase.  A phase is then selected by offset arithmetic (views), and the type does
not depend on the number of phases: one compilation serves every phase set.  (A tuple
of ThermoParams indexed at run time copies the whole tuple on each access, about a
microsecond, and its type changes with its length.)

A candidate may hold only some of the components (graphite in Fe-C: no site variable
and no atoms of the others, n_const and y_comp say which it holds) and may have no site
variables at all (a phase of fixed composition, n_y = 0: G depends on T only); the
kernels need nothing else to treat it.

Mobilities (for the homogenization model): per phase, the MQ + MF monomials of each
component (kinsim.thermo.params, ``mq_*``) concatenated like the Gibbs-energy monomials,
over the variables of the phase's first block (its own site fractions), with the
interstitial flags and the y index of the vacancy of an interstitial's sublattice;
``mob_kind`` says where a phase's mobilities come from (kinsim.kernels.mpmobility).

``StartTable`` holds the global start at one temperature: sample points of every
phase's site-fraction space with their compositions and molar Gibbs energies; the facets
of the lower convex hull of all samples (a facet is n sample indices and the plane
through them written as chemical potentials, G = mu . x on the plane) with a grid that
lists the facets over each cell of composition space; and the edges of each phase's own
lower hull (its vertices are the samples a search for the phase's lowest GM - mu.x
needs to visit).  It is built in Python (kinsim.global_start) once per temperature and
shared by all rows.

Units: Gibbs energies in J per mole of atoms, chemical potentials in J/mol.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# where a phase's mobilities come from (PhaseSetParams.mob_kind)
MOB_NONE = 0  # not loaded (a phase set without a mobility policy): NaN
MOB_DATABASE = 1  # the database's MQ (+ MF) parameters
MOB_ZERO = 2  # no MQ parameters, "solvent" policy: zero (the phase carries no diffusion)


class PhaseSetParams(NamedTuple):
    n_comp: int  # components of the phase set (reference first; a phase may hold only some)
    # per phase: sizes and site variables (padded to the largest phase)
    n_y: np.ndarray  # i8[NP] site variables
    n_sub: np.ndarray  # i8[NP] free sublattices
    sub_ptr: np.ndarray  # i8[NP, Smax + 1]: sublattice s holds y[sub_ptr[a, s]:sub_ptr[a, s + 1]]
    y_comp: np.ndarray  # i8[NP, Kmax] component of each site variable (-1: vacancy)
    y_ratio: np.ndarray  # f8[NP, Kmax] site ratio of its sublattice
    n_const: np.ndarray  # f8[NP, n] atoms of each component per formula unit on constant sublattices
    fixed_atoms: np.ndarray  # i8[NP] 1 if the atoms per formula unit do not depend on y (no vacancies)
    # T functions: rows [tb_off[a], tb_off[a+1]) of t_breaks, [bs_off..] of basis_*, [fn_off..] of fn_coef
    tb_off: np.ndarray
    t_breaks: np.ndarray
    bs_off: np.ndarray
    basis_pow: np.ndarray
    basis_log: np.ndarray
    basis_exp: np.ndarray  # f8[NB, NEmax, 2] (zero padded)
    fn_off: np.ndarray
    fn_coef: np.ndarray  # f8[NF, NRmax, NBmax] (zero padded)
    # monomials: [mo_off..] of mono_fn, mono_scale; [mp_off..] of mono_fac_ptr (M_a + 1 rows); [fc_off..] of fac_*
    mo_off: np.ndarray
    mono_fn: np.ndarray
    mono_scale: np.ndarray
    mp_off: np.ndarray
    mono_fac_ptr: np.ndarray
    fc_off: np.ndarray
    fac_var: np.ndarray
    fac_exp: np.ndarray
    # blocks: [bk_off..] of blk_* (blk_kind_ptr rows too); [bz_off..] of blk_z_ptr (B_a + 1 rows)
    bk_off: np.ndarray
    blk_sign: np.ndarray
    blk_kind_ptr: np.ndarray
    blk_idmix: np.ndarray
    blk_mag: np.ndarray
    blk_afm: np.ndarray
    blk_p: np.ndarray
    bz_off: np.ndarray
    blk_z_ptr: np.ndarray
    # block variables z: [z_off..] of z_* (z_M padded to Kmax columns)
    z_off: np.ndarray
    z_M: np.ndarray
    z_c: np.ndarray
    z_ratio: np.ndarray
    z_natoms: np.ndarray
    # mobilities: mq_ptr[a, k]..mq_ptr[a, k + 1] are phase a's monomials of component k (local
    # indices into [mq_off[a]..] of mq_fn, mq_scale); [mqp_off..] of mq_fac_ptr (Mq_a + 1 rows);
    # [mqf_off..] of mq_fac_var (local z index of the phase's block 0), mq_fac_exp
    mob_kind: np.ndarray  # i8[NP] MOB_NONE, MOB_DATABASE or MOB_ZERO
    interstitial: np.ndarray  # i8[NP, n] 1 if the component sits only on sublattices holding VA
    va_y: np.ndarray  # i8[NP, n] y index of the vacancy on an interstitial's sublattice (-1: none)
    mq_ptr: np.ndarray  # i8[NP, n + 1]
    mq_off: np.ndarray
    mq_fn: np.ndarray
    mq_scale: np.ndarray
    mqp_off: np.ndarray
    mq_fac_ptr: np.ndarray
    mqf_off: np.ndarray
    mq_fac_var: np.ndarray
    mq_fac_exp: np.ndarray


class StartTable(NamedTuple):
    T: float  # K, the temperature of the samples
    smp_phase: np.ndarray  # i8[NS] phase of each sample
    smp_y: np.ndarray  # f8[NS, Kmax] site fractions
    smp_x: np.ndarray  # f8[NS, n] mole fractions
    smp_gm: np.ndarray  # f8[NS] J/mol of atoms
    # the lower convex hull of all samples
    fct_mu: np.ndarray  # f8[F, n] plane of each facet: G = fct_mu . x
    fct_vert: np.ndarray  # i8[F, n] sample index of each vertex of the facet
    grid_n: int  # cells per axis of a uniform grid over x_1 .. x_{n-1}
    cell_ptr: np.ndarray  # i8[grid_n^(n-1) + 1]: facets whose projection meets cell c are
    cell_fct: np.ndarray  # i8[..] cell_fct[cell_ptr[c]:cell_ptr[c + 1]]
    # each phase's own lower hull: its vertices and edges
    adj_ptr: np.ndarray  # i8[NS + 1]: neighbours of sample s are adj[adj_ptr[s]:adj_ptr[s + 1]]
    adj: np.ndarray  # i8[..]
    phase_start: np.ndarray  # i8[NP] a vertex of each phase's hull (its lowest GM)
