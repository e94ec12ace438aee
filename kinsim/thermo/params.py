"""Plain-array descriptions of a phase: the only thermodynamic data that enters numba.

Layout
------
*T functions.*  Every distinct parameter expression of the database (G, L, TC, BMAGN,
MQ, MF, after FUNCTION references are substituted) becomes one "T function":
``fn_coef[f, r, b]`` is the coefficient of basis term ``b`` in temperature range ``r``.
Basis term ``b`` is ``T**basis_pow[b] * ln(T)**basis_log[b] * exp(sum_j c_bj T**p_bj)``; the ranges are the union
of all breakpoints, ``t_breaks[r] <= T < t_breaks[r + 1]``.  Changing T therefore needs
no Python work and no recompilation.

*Site variables y.*  The independent site fractions of the phase: every active
constituent of every sublattice that holds two or more active constituents.  Sublattices
with a single active constituent are constants (y = 1) folded into ``n_const``.

*Blocks.*  The molar Gibbs energy per mole of atoms is a signed sum over blocks,
``GM(y) = sum_b sign_b * G_b(z_b) / N_b(z_b)``, where the block variables are an affine
map of y, ``z = z_M @ y + z_c``.  An ordinary phase has one block (z = y plus constants);
an order/disorder partitioned phase has three (disordered part at the quasi mole
fractions, ordered part at y, minus the ordered part at the quasi mole fractions).
``G_b`` is a polynomial in z (monomials of kind 0) plus the ideal mixing term
``RT sum a_s z ln z`` plus the Inden-Hillert-Jarl magnetic term built from the TC
(kind 1) and BMAGN (kind 2) polynomials.  ``N_b`` is linear in z (atoms per formula
unit).  Mobility polynomials (MQ + MF per component) have tables of their own (mq_*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

# monomial kinds
KIND_G = 0
KIND_TC = 1
KIND_BMAGN = 2
KIND_MQ = 10  # + species index: mobility (MQ + MF) sums


class ThermoParams(NamedTuple):
    # sizes and flags
    n_comp: int
    n_y: int
    n_sub: int  # sublattices with free site variables
    no_internal_dof: int  # 1 if y follows from x (linear solve), 0 otherwise
    # T functions
    t_breaks: np.ndarray  # f8[nr + 1]
    basis_pow: np.ndarray  # f8[nb]
    basis_log: np.ndarray  # i8[nb]
    basis_exp: np.ndarray  # f8[nb, ne, 2]: exp(sum_j c_j T**p_j) factor, (p_j, c_j) pairs
    fn_coef: np.ndarray  # f8[nfn, nr, nb]
    # site variables
    y_sub: np.ndarray  # i8[K] free-sublattice index of each y
    y_comp: np.ndarray  # i8[K] component index (-1 = vacancy)
    y_ratio: np.ndarray  # f8[K] site ratio of its sublattice
    n_const: np.ndarray  # f8[n_comp] atoms per formula unit on constant sublattices
    # blocks
    blk_sign: np.ndarray  # f8[B]
    blk_z_ptr: np.ndarray  # i8[B + 1]
    blk_kind_ptr: np.ndarray  # i8[B, 4]: monomials of kind G, TC, BMAGN in [ptr[k], ptr[k+1])
    blk_idmix: np.ndarray  # f8[B] 1 or 0
    blk_mag: np.ndarray  # i8[B] 1 if the IHJ magnetic term applies
    blk_afm: np.ndarray  # f8[B] anti-ferromagnetic factor (-3 FCC, -1 BCC)
    blk_p: np.ndarray  # f8[B] structure factor p (0.28 FCC, 0.4 BCC)
    z_M: np.ndarray  # f8[Z, K]
    z_c: np.ndarray  # f8[Z]
    z_ratio: np.ndarray  # f8[Z] site ratio for ideal mixing (0: not mixing)
    z_natoms: np.ndarray  # f8[Z] atoms carried per unit z (0 for vacancies)
    # monomials
    mono_fn: np.ndarray  # i8[M]
    mono_scale: np.ndarray  # f8[M]
    mono_fac_ptr: np.ndarray  # i8[M + 1]
    fac_var: np.ndarray  # i8[F] (z index)
    fac_exp: np.ndarray  # i8[F]
    # kinetics
    interstitial: np.ndarray  # i8[n_comp] 1 if the component sits only on sublattices holding VA
    va_y: np.ndarray  # i8[n_comp] y index of VA on an interstitial's sublattice (-1: none)
    mq_ptr: np.ndarray  # i8[n_comp + 1]: mobility monomials of component k in [ptr[k], ptr[k+1])
    mq_fn: np.ndarray  # i8[Mq]
    mq_scale: np.ndarray  # f8[Mq]
    mq_fac_ptr: np.ndarray  # i8[Mq + 1]
    mq_fac_var: np.ndarray  # i8[Fq] (z index of block 0)
    mq_fac_exp: np.ndarray  # i8[Fq]


@dataclass
class PhaseDescription:
    """What the arrays mean: names and structure, for people and for errors."""

    database: str
    phase: str
    components: list  # reference first
    site_names: list  # names of the y variables, e.g. "y(FCC_A1,0,CR)"
    sublattice_ratios: list
    constituents: list  # active constituents per sublattice of the phase
    t_range: tuple
    partitioned: bool
    magnetic: bool
    fn_names: list
    missing_mobility: list = field(default_factory=list)
    mobility_substituted: list = field(default_factory=list)
    mobility_policy: str = ""
    mobility_zero: bool = False  # a phase-set member without MQ parameters: zero mobilities ("solvent" policy)
