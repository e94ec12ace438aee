"""The phase model: one phase of a TDB database with its kernels (thermo -> kernels -> phase).

:func:`load_phase` converts (or loads from the disk cache) the phase's parameter arrays
and :class:`PhaseModel` evaluates its equilibrium, chemical potentials, thermodynamic
factors, mobilities and Gibbs energy with the numba kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConvergenceError, InputError
from .kernels import codes as C
from .kernels.gibbs import eval_tfuncs, gm_batch
from .kernels.kkt import equilibrium_batch, minimise_flag
from .kernels.mobility import mobilities as _mobilities
from .thermo.cache import cached_build


@dataclass
class EquilibriumResult:
    """Arrays over nodes; components ordered as ``components`` (reference first)."""

    components: list
    site_names: list
    T: np.ndarray
    X: np.ndarray
    GM: np.ndarray  # J/mol of atoms
    MU: np.ndarray  # (N, n) J/mol
    partial_dmu_dx: np.ndarray  # (N, n, n)
    dmu_dx: np.ndarray  # (N, n-1, n-1)
    site_fractions: np.ndarray  # (N, K)
    status: np.ndarray  # (N,) 0 = converged


class PhaseModel:
    """One phase of a TDB database over a set of components (the first is the reference)."""

    def __init__(self, database, phase: str, components, mobility=None, member=False):
        """member: a candidate of a phase set (kinsim.phaseset), which may hold only some
        of the components or have a fixed composition (kinsim.thermo.tdb.build_phase)."""
        self.params, self.desc = cached_build(database, phase, components, mobility, member)

    # -- names
    @property
    def components(self):
        return list(self.desc.components)

    @property
    def phase(self):
        return self.desc.phase

    @property
    def t_range(self):
        return self.desc.t_range

    def full_composition(self, x_indep) -> np.ndarray:
        """(N, n-1) mole fractions of components[1:] -> (N, n) with the reference first."""
        x = np.atleast_2d(np.asarray(x_indep, dtype=np.float64))
        n = len(self.components)
        if x.shape[1] == n:
            return np.ascontiguousarray(x)
        if x.shape[1] != n - 1:
            raise InputError(f"expected {n - 1} mole fractions ({', '.join(self.components[1:])}), got {x.shape[1]}")
        return np.ascontiguousarray(np.column_stack([1.0 - x.sum(axis=1), x]))

    def check_temperature(self, T, where="temperature"):
        lo, hi = self.t_range
        T = np.atleast_1d(np.asarray(T, dtype=np.float64))
        bad = ~((T >= lo) & (T <= hi))
        if bad.any():
            raise InputError(
                f"{where} {T[bad][0]:g} K is outside the range {lo:g}-{hi:g} K of the "
                f"parameters of {self.phase} in {self.desc.database}"
            )

    def equilibrium(self, x_indep, T, y0=None, raise_on_failure=True) -> EquilibriumResult:
        """Equilibrium, chemical potentials and dmu/dx at each composition row."""
        X = self.full_composition(x_indep)
        N, n = X.shape
        Tarr = np.broadcast_to(np.asarray(T, dtype=np.float64), (N,)).copy()
        K = self.params.n_y
        Y = np.zeros((N, K)) if y0 is None else np.array(y0, dtype=np.float64).reshape(N, K)
        warm = np.zeros(N, dtype=np.int64) if y0 is None else np.ones(N, dtype=np.int64)
        MU = np.empty((N, n))
        PD = np.empty((N, n, n))
        DMU = np.empty((N, n - 1, n - 1))
        GM = np.empty(N)
        status = np.empty(N, dtype=np.int64)
        equilibrium_batch(self.params, Tarr, X, Y, warm, MU, PD, DMU, GM, status, minimise_flag(self.params))
        res = EquilibriumResult(self.components, self.desc.site_names, Tarr, X, GM, MU, PD, DMU, Y, status)
        if raise_on_failure:
            self.raise_for_status(res)
        return res

    def sublattice_fractions(self, y) -> list:
        """Site fractions y (the phase's site variables) as one dict per sublattice,
        constituent -> site fraction, constant sublattices included."""
        d = self.desc
        vals = dict(zip(d.site_names, map(float, y)))
        return [
            {c: (1.0 if len(cons) == 1 else vals[f"y({d.phase},{s},{c})"]) for c in cons}
            for s, cons in enumerate(d.constituents)
        ]

    def raise_for_status(self, res: EquilibriumResult):
        raise_for_status(self.phase, self.components, self.t_range, res.X, res.T, res.status)

    def mobilities(self, x_indep, T) -> np.ndarray:
        """Mobilities M_k (m^2 mol J^-1 s^-1) of every component at each composition row
        (N, n), from the site fractions of the equilibrium (no case scale factors).

        Needs a model loaded with a mobility policy (``load_phase(..., mobility=...)``)."""
        p = self.params
        if p.mq_ptr.shape[0] != len(self.components) + 1 or p.mq_ptr[-1] == 0:
            raise InputError(
                f"{self.phase} was loaded without mobility parameters; load it with mobility='error' or 'solvent'"
            )
        T = float(T)
        self.check_temperature(T)
        res = self.equilibrium(x_indep, T)
        fn = np.empty(p.fn_coef.shape[0])
        if (
            eval_tfuncs(
                T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, np.empty(p.basis_pow.shape[0]), fn
            )
            != 0
        ):
            raise InputError(f"temperature {T:g} K is outside the range of the parameters of {self.phase}")
        N, n = res.X.shape
        out = np.empty((N, n))
        zb = np.zeros(p.z_c.shape[0])
        for i in range(N):
            _mobilities(p, fn, T, np.ascontiguousarray(res.site_fractions[i]), zb, out[i])
        return out

    def gibbs_energy(self, Y, T):
        """GM (J/mol of atoms) at given site fractions (N, K)."""
        Y = np.ascontiguousarray(np.atleast_2d(np.asarray(Y, dtype=np.float64)))
        N = Y.shape[0]
        Tarr = np.broadcast_to(np.asarray(T, dtype=np.float64), (N,)).copy()
        GM = np.empty(N)
        st = np.empty(N, dtype=np.int64)
        gm_batch(self.params, Tarr, Y, GM, st)
        return GM


def raise_for_status(label, components, t_range, X, T, status):
    """The error of the first row whose status is not converged, if any: its status text,
    row, composition and temperature (and the valid range for a temperature out of it).
    Bad input (temperature, composition) is an InputError, the rest ConvergenceError."""
    bad = np.flatnonzero(status != C.STATUS_OK)
    if bad.size == 0:
        return
    i = int(bad[0])
    code = int(status[i])
    comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(components, X[i]))
    more = f" ({bad.size - 1} more rows failed)" if bad.size > 1 else ""
    text = C.STATUS_TEXT.get(code, f"status {code}")
    msg = f"{label}: {text} at row {i} ({comp}; T={T[i]:g} K){more}"
    if code == C.STATUS_T_RANGE:
        lo, hi = t_range
        raise InputError(f"{msg}; valid range {lo:g}-{hi:g} K")
    if code in (C.STATUS_BAD_COMPOSITION, C.STATUS_OUTSIDE_PHASE, C.STATUS_OUTSIDE_PHASES):
        raise InputError(msg)
    raise ConvergenceError(msg)


def load_phase(database, phase: str, components, mobility=None) -> PhaseModel:
    """A phase of a TDB database. mobility: None (thermodynamics only), or the policy for
    missing mobility end-members, "error" or "solvent" (needed for diffusion)."""
    return PhaseModel(database, phase, components, mobility)
