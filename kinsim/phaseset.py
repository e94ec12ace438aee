"""Several phases of a TDB database: the multiphase equilibrium at every row or node
(stable phase set with composition sets, phase fractions, compositions and site
fractions, chemical potentials, driving forces of the absent phases, dmu/dx), with warm
starts from a previous result's state.  The phase layer above kinsim.kernels.multiphase.

:func:`load_phases` returns a :class:`PhaseSetModel`; its ``equilibrium`` returns a
:class:`PhaseSetResult`.  (kinsim.stability says whether a single phase is the stable
state at given compositions.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import InputError
from .global_start import POINTS_PER_PHASE, build_start_table
from .kernels import codes as C
from .kernels.mpphase import mp_workspace
from .kernels.multiphase import COLD, WARM, WARM_AUDIT, mp_rows
from .kernels.mptypes import PhaseSetParams
from .phase import PhaseModel, raise_for_status


class MultiphaseState(NamedTuple):
    """The state of each row (leading dimension N) that a warm start continues from:
    the arrays of ``kinsim.kernels.multiphase.mp_node``."""

    set_phase: np.ndarray  # (N, SM) i8 candidate index of each composition set, -1 empty
    set_amount: np.ndarray  # (N, SM) formula units per mole of atoms
    set_y: np.ndarray  # (N, SM, Kmax) site fractions
    mu: np.ndarray  # (N, n) J/mol
    phase_y: np.ndarray  # (N, NP, Kmax) start of each phase's driving-force search


@dataclass
class StableSet:
    """One stable composition set of one row."""

    name: str  # the phase, "#2", "#3" ... for its second, third composition set
    fraction: float  # mole fraction of atoms in this set
    x: dict  # component -> mole fraction in this set
    site_fractions: list  # per sublattice: constituent -> site fraction (constant sublattices too)


@dataclass
class PhaseSetResult:
    """Arrays over rows; components ordered as ``components`` (reference first), phases as
    ``phases`` (the candidates).  Failed rows (status != 0) hold NaN."""

    components: list
    phases: list
    T: np.ndarray  # (N,) K
    X: np.ndarray  # (N, n)
    MU: np.ndarray  # (N, n) J/mol
    partial_dmu_dx: np.ndarray  # (N, n, n) J/mol, all x independent
    dmu_dx: np.ndarray  # (N, n-1, n-1) J/mol, d(mu_i - mu_ref)/dx_j
    driving_forces: np.ndarray  # (N, NP) J/mol of atoms; 0 for present phases, <= 0 for absent ones
    set_names: np.ndarray  # (N, SM) str, "" for empty slots
    fractions: np.ndarray  # (N, SM) mole fraction of atoms of each set, NaN for empty slots
    compositions: np.ndarray  # (N, SM, n) mole fractions of each set
    status: np.ndarray  # (N,) 0 = converged
    state: MultiphaseState
    model: "PhaseSetModel"

    def stable(self, i: int) -> list:
        """The stable composition sets of row i."""
        out = []
        for j, name in enumerate(self.set_names[i]):
            if not name:
                continue
            a = int(self.state.set_phase[i, j])
            y = self.state.set_y[i, j, :self.model.params.n_y[a]]
            out.append(StableSet(str(name), float(self.fractions[i, j]),
                                 dict(zip(self.components, map(float, self.compositions[i, j]))),
                                 self.model.models[a].sublattice_fractions(y)))
        return out

    def absent_driving_forces(self, i: int) -> dict:
        """Phase -> driving force (J/mol of atoms) of the candidates absent from row i."""
        present = set(int(a) for a in self.state.set_phase[i] if a >= 0)
        return {p: float(self.driving_forces[i, a]) for a, p in enumerate(self.phases) if a not in present}


def _cat(arrays):
    """Concatenate along the first axis, zero-padding the other axes to the largest."""
    shape = tuple(max(a.shape[d] for a in arrays) for d in range(1, arrays[0].ndim))
    out = [np.pad(a, [(0, 0)] + [(0, s - a.shape[d + 1]) for d, s in enumerate(shape)]) for a in arrays]
    return np.ascontiguousarray(np.concatenate(out))


def _offsets(arrays):
    return np.concatenate([[0], np.cumsum([a.shape[0] for a in arrays])]).astype(np.int64)


def phase_set_params(params) -> PhaseSetParams:
    """The kernel arrays (PhaseSetParams) of phases given as ThermoParams over the same
    components: their tables concatenated with offsets, per-phase tables padded."""
    n = params[0].n_comp
    NP = len(params)
    Kmax = max(p.n_y for p in params)
    Smax = max(p.n_sub for p in params)
    sub_ptr = np.zeros((NP, Smax + 1), dtype=np.int64)
    y_comp = np.full((NP, Kmax), -1, dtype=np.int64)
    y_ratio = np.zeros((NP, Kmax))
    for a, p in enumerate(params):
        ys = np.asarray(p.y_sub)
        sub_ptr[a, :p.n_sub + 1] = np.searchsorted(ys, np.arange(p.n_sub + 1))
        y_comp[a, :p.n_y] = p.y_comp
        y_ratio[a, :p.n_y] = p.y_ratio

    def field(name):
        return [np.asarray(getattr(p, name)) for p in params]

    cat = {k: _cat(field(k)) for k in ("t_breaks", "basis_pow", "basis_log", "basis_exp", "fn_coef", "mono_fn",
                                        "mono_scale", "mono_fac_ptr", "fac_var", "fac_exp", "blk_sign",
                                        "blk_kind_ptr", "blk_idmix", "blk_mag", "blk_afm", "blk_p", "blk_z_ptr",
                                        "z_M", "z_c", "z_ratio", "z_natoms")}
    off = {k: _offsets(field(k)) for k in ("t_breaks", "basis_pow", "fn_coef", "mono_fn", "mono_fac_ptr",
                                           "fac_var", "blk_sign", "blk_z_ptr", "z_c")}
    return PhaseSetParams(
        n_comp=n, n_y=np.array([p.n_y for p in params], dtype=np.int64),
        n_sub=np.array([p.n_sub for p in params], dtype=np.int64), sub_ptr=sub_ptr, y_comp=y_comp, y_ratio=y_ratio,
        n_const=np.array([p.n_const for p in params], dtype=np.float64),
        fixed_atoms=np.array([int(np.all(np.asarray(p.y_comp) >= 0)) for p in params], dtype=np.int64),
        tb_off=off["t_breaks"], t_breaks=cat["t_breaks"], bs_off=off["basis_pow"], basis_pow=cat["basis_pow"],
        basis_log=cat["basis_log"], basis_exp=cat["basis_exp"], fn_off=off["fn_coef"], fn_coef=cat["fn_coef"],
        mo_off=off["mono_fn"], mono_fn=cat["mono_fn"], mono_scale=cat["mono_scale"], mp_off=off["mono_fac_ptr"],
        mono_fac_ptr=cat["mono_fac_ptr"], fc_off=off["fac_var"], fac_var=cat["fac_var"], fac_exp=cat["fac_exp"],
        bk_off=off["blk_sign"], blk_sign=cat["blk_sign"], blk_kind_ptr=cat["blk_kind_ptr"],
        blk_idmix=cat["blk_idmix"], blk_mag=cat["blk_mag"], blk_afm=cat["blk_afm"], blk_p=cat["blk_p"],
        bz_off=off["blk_z_ptr"], blk_z_ptr=cat["blk_z_ptr"], z_off=off["z_c"], z_M=cat["z_M"], z_c=cat["z_c"],
        z_ratio=cat["z_ratio"], z_natoms=cat["z_natoms"])


class PhaseSetModel:
    """Candidate phases of a TDB database over a set of components (the first is the
    reference).  Every phase must hold every component and have site fractions that can
    vary (phases of fixed composition are not supported yet)."""

    def __init__(self, database, phases, components, mobility=None, points=POINTS_PER_PHASE):
        names = [p.strip().upper() for p in phases]
        if not names:
            raise InputError("give at least one phase")
        dup = sorted({p for p in names if names.count(p) > 1})
        if dup:
            raise InputError(f"phases repeated: {', '.join(dup)}")
        self.models = [PhaseModel(database, p, components, mobility) for p in names]
        self.params = phase_set_params([m.params for m in self.models])
        self.points = points
        self._tables = {}

    @property
    def components(self):
        return self.models[0].components

    @property
    def phases(self):
        return [m.phase for m in self.models]

    @property
    def t_range(self):
        """The temperatures every phase's parameters cover."""
        return max(m.t_range[0] for m in self.models), min(m.t_range[1] for m in self.models)

    def check_temperature(self, T, where="temperature"):
        for m in self.models:
            m.check_temperature(T, where)

    def full_composition(self, x_indep) -> np.ndarray:
        return self.models[0].full_composition(x_indep)

    def start_table(self, T: float):
        """The global-start table at T (built once per temperature and kept)."""
        T = float(T)
        if T not in self._tables:
            self.check_temperature(T)
            self._tables[T] = build_start_table(self.params, [m.params for m in self.models], T, self.points)
        return self._tables[T]

    def empty_state(self, N: int) -> MultiphaseState:
        n = len(self.components)
        NP = len(self.models)
        Kmax = self.params.y_comp.shape[1]
        return MultiphaseState(np.full((N, n), -1, dtype=np.int64), np.zeros((N, n)), np.zeros((N, n, Kmax)),
                               np.zeros((N, n)), np.zeros((N, NP, Kmax)))

    def equilibrium(self, x_indep, T, state: MultiphaseState | None = None, audit: bool = False,
                    raise_on_failure: bool = True) -> PhaseSetResult:
        """Multiphase equilibrium at each composition row (mole fractions of components[1:],
        or of all components) and temperature(s) T.

        Without ``state`` every row is solved from scratch (global start, then the audit
        for composition sets).  With the ``state`` of a previous result (same number of
        rows) each row starts from it (a global start where that fails); ``audit=True``
        also compares each warm result with the samples (finds new composition sets)."""
        X = self.full_composition(x_indep)
        N, n = X.shape
        Tarr = np.broadcast_to(np.asarray(T, dtype=np.float64), (N,)).copy()
        if state is None:
            st = self.empty_state(N)
            mode = np.full(N, COLD, dtype=np.int64)
        else:
            if state.set_phase.shape[0] != N:
                raise InputError(f"the warm-start state has {state.set_phase.shape[0]} rows, the compositions {N}")
            st = MultiphaseState(*(np.array(a, copy=True) for a in state))
            mode = np.full(N, WARM_AUDIT if audit else WARM, dtype=np.int64)
        NP = len(self.models)
        MU = np.empty((N, n))
        PD = np.empty((N, n, n))
        DMU = np.empty((N, n - 1, n - 1))
        DF = np.empty((N, NP))
        status = np.empty(N, dtype=np.int64)
        lo, hi = self.t_range
        ws = mp_workspace(self.params)  # per call: a model may serve several threads
        for Tv in np.unique(Tarr):
            rows = np.flatnonzero(Tarr == Tv)
            if not (lo <= Tv <= hi):
                status[rows] = C.STATUS_T_RANGE
                for a in (PD, DMU, DF, st.set_amount, st.mu):
                    a[rows] = np.nan
                st.set_phase[rows] = -1
                continue
            part = [np.ascontiguousarray(a[rows]) for a in st]
            out = [np.empty_like(a[rows]) for a in (DF, PD, DMU)]
            stat = np.empty(rows.size, dtype=np.int64)
            mp_rows(self.params, float(Tv), np.ascontiguousarray(X[rows]), self.start_table(Tv),
                    np.ascontiguousarray(mode[rows]), *part, *out, stat, ws)
            for a, v in zip(st, part):
                a[rows] = v
            DF[rows], PD[rows], DMU[rows] = out
            status[rows] = stat
        MU[:] = st.mu  # the potentials are part of the state
        res = self._result(Tarr, X, MU, PD, DMU, DF, status, st)
        if raise_on_failure:
            self.raise_for_status(res)
        return res

    def _result(self, T, X, MU, PD, DMU, DF, status, st) -> PhaseSetResult:
        ps = self.params
        present = st.set_phase >= 0
        a = np.where(present, st.set_phase, 0)
        # moles of each component per formula unit of every set: n_const + E y
        E = np.zeros(ps.y_comp.shape + (len(self.components),))
        ia, ik = np.nonzero(ps.y_comp >= 0)
        E[ia, ik, ps.y_comp[ia, ik]] = ps.y_ratio[ia, ik]
        Nv = ps.n_const[a] + np.einsum("nsk,nskc->nsc", st.set_y, E[a])
        Nt = Nv.sum(axis=2)
        frac = np.where(present, st.set_amount * Nt, np.nan)
        comp = np.where(present[..., None], Nv / np.where(Nt > 0, Nt, 1.0)[..., None], np.nan)
        # names: the phase, then "#2", "#3" for its later sets in the row
        names = np.full(st.set_phase.shape, "", dtype=object)
        earlier = np.zeros(st.set_phase.shape, dtype=int)
        for j in range(st.set_phase.shape[1]):
            earlier[:, j] = (st.set_phase[:, :j] == st.set_phase[:, j:j + 1]).sum(axis=1)
        for i, j in zip(*np.nonzero(present)):
            names[i, j] = self.phases[a[i, j]] + (f"#{earlier[i, j] + 1}" if earlier[i, j] else "")
        return PhaseSetResult(self.components, self.phases, T, X, MU, PD, DMU, DF, names.astype(str), frac, comp,
                              status, st, self)

    def raise_for_status(self, res: PhaseSetResult):
        raise_for_status("+".join(self.phases), self.components, self.t_range, res.X, res.T, res.status)


def load_phases(database, phases, components, mobility=None) -> PhaseSetModel:
    """Candidate phases of a TDB database (a list of names) over components (reference
    first).  mobility: None, or the policy for missing mobility end-members ("error" or
    "solvent") as in :func:`kinsim.phase.load_phase`."""
    if isinstance(phases, str):
        phases = [phases]
    return PhaseSetModel(database, phases, components, mobility)
