"""Several phases of a TDB database: the multiphase equilibrium at every row or node
(stable phase set with composition sets, phase fractions, compositions and site
fractions, chemical potentials, driving forces of the absent phases, dmu/dx), with warm
starts from a previous result's state.  The phase layer above kinsim.kernels.multiphase.

:func:`load_phases` returns a :class:`PhaseSetModel`; its ``equilibrium`` returns a
:class:`PhaseSetResult`.  (kinsim.stability says whether a single phase is the stable
state at given compositions.)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import ConvergenceError, InputError
from .global_start import POINTS_PER_PHASE
from .kernels import codes as C
from .kernels.mpmobility import mp_set_mobilities
from .kernels.mpphase import mp_workspace
from .kernels.mptypes import MOB_NONE
from .kernels.multiphase import COLD, WARM, WARM_AUDIT, mp_driving_forces, mp_node_ref, mp_rows
from .phase import PhaseModel, raise_for_status
from .phaseset_cache import cached_start_table
from .phaseset_params import phase_set_params

TABLES_KEPT = 8  # start tables kept per model (one per temperature, the most recently used)


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
    model: PhaseSetModel

    def stable(self, i: int) -> list:
        """The stable composition sets of row i."""
        out = []
        for j, name in enumerate(self.set_names[i]):
            if not name:
                continue
            a = int(self.state.set_phase[i, j])
            y = self.state.set_y[i, j, : self.model.params.n_y[a]]
            out.append(
                StableSet(
                    str(name),
                    float(self.fractions[i, j]),
                    dict(zip(self.components, map(float, self.compositions[i, j]))),
                    self.model.models[a].sublattice_fractions(y),
                )
            )
        return out

    def absent_driving_forces(self, i: int) -> dict:
        """Phase -> driving force (J/mol of atoms) of the candidates absent from row i."""
        present = set(int(a) for a in self.state.set_phase[i] if a >= 0)
        return {p: float(self.driving_forces[i, a]) for a, p in enumerate(self.phases) if a not in present}


class PhaseSetModel:
    """Candidate phases of a TDB database over a set of components (the first is the
    reference).  A candidate may hold only some of the components (graphite in Fe-C)
    and may have a fixed composition (cementite FE3C); it must hold at least one."""

    def __init__(self, database, phases, components, mobility=None, points=POINTS_PER_PHASE, no_flux=()):
        names = [p.strip().upper() for p in phases]
        if not names:
            raise InputError("give at least one phase")
        dup = sorted({p for p in names if names.count(p) > 1})
        if dup:
            raise InputError(f"phases repeated: {', '.join(dup)}")
        # a phase that carries no flux (no_flux) needs no mobility data: with a policy, it
        # takes "solvent", which makes a phase without MQ parameters immobile
        skip = {p.strip().upper() for p in no_flux}
        self.models = [
            PhaseModel(database, p, components, "solvent" if mobility and p in skip else mobility, member=True)
            for p in names
        ]
        self.params = phase_set_params(self.models)
        self.points = points
        self._tables = OrderedDict()  # T -> StartTable, least recently used first
        self._node_ref = None  # mp_node_ref: its types are the same at every T and for every workspace

    def node_ref(self, tab, ws):
        """The node equilibrium's kernel reference for ``mp_rows`` (made once: building
        it types the whole phase set, about 1 ms)."""
        if self._node_ref is None:
            self._node_ref = mp_node_ref(self.params, tab, ws)
        return self._node_ref

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
        """The global-start table at T (samples and hulls, kinsim.global_start): built
        once per temperature and kept for the TABLES_KEPT temperatures used last, so a
        run at constant T builds it once and a schedule or a batch with one T per row
        builds one per distinct T (or reads it from the disk cache,
        kinsim.phaseset_cache).  The kernels judge the audit at the node's own T."""
        T = float(T)
        tab = self._tables.pop(T, None)
        if tab is None:
            self.check_temperature(T)
            tab = cached_start_table(self.params, [m.params for m in self.models], T, self.points, self.phases)
        self._tables[T] = tab
        while len(self._tables) > TABLES_KEPT:
            self._tables.popitem(last=False)
        return tab

    def empty_state(self, N: int) -> MultiphaseState:
        n = len(self.components)
        NP = len(self.models)
        Kmax = self.params.y_comp.shape[1]
        return MultiphaseState(
            np.full((N, n), -1, dtype=np.int64),
            np.zeros((N, n)),
            np.zeros((N, n, Kmax)),
            np.zeros((N, n)),
            np.zeros((N, NP, Kmax)),
        )

    def equilibrium(
        self, x_indep, T, state: MultiphaseState | None = None, audit: bool = False, raise_on_failure: bool = True
    ) -> PhaseSetResult:
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
            tab = self.start_table(Tv)
            mp_rows(
                self.params,
                float(Tv),
                np.ascontiguousarray(X[rows]),
                tab,
                np.ascontiguousarray(mode[rows]),
                *part,
                *out,
                stat,
                ws,
                self.node_ref(tab, ws),
            )
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
            earlier[:, j] = (st.set_phase[:, :j] == st.set_phase[:, j : j + 1]).sum(axis=1)
        for i, j in zip(*np.nonzero(present)):
            names[i, j] = self.phases[a[i, j]] + (f"#{earlier[i, j] + 1}" if earlier[i, j] else "")
        return PhaseSetResult(
            self.components, self.phases, T, X, MU, PD, DMU, DF, names.astype(str), frac, comp, status, st, self
        )

    def driving_forces(self, MU, T: float) -> np.ndarray:
        """Driving force (J/mol of atoms) of every candidate at the chemical potentials
        MU (N, n) at temperature T, e.g. those of another equilibrium: positive where
        the phase (or, for a phase present there, a further composition set of it) would
        lower the Gibbs energy.  Returns (N, NP)."""
        MU = np.ascontiguousarray(np.atleast_2d(np.asarray(MU, dtype=np.float64)))
        T = float(T)
        self.check_temperature(T)
        N, NP = MU.shape[0], len(self.models)
        DF = np.empty((N, NP))
        status = np.empty(N, dtype=np.int64)
        mp_driving_forces(
            self.params,
            T,
            MU,
            self.start_table(T),
            np.zeros((N, NP, self.params.y_comp.shape[1])),
            DF,
            status,
            mp_workspace(self.params),
        )
        bad = np.flatnonzero(status != C.STATUS_OK)
        if bad.size:
            i = int(bad[0])
            raise ConvergenceError(
                f"driving forces of {'+'.join(self.phases)} at row {i} (T={T:g} K): {C.STATUS_TEXT.get(int(status[i]))}"
            )
        return DF

    @property
    def mobility_substituted(self) -> dict:
        """Phase -> the mobility substitutions its policy made (as the single-phase
        description lists them; a phase without MQ parameters under "solvent": zero)."""
        return {m.phase: list(m.desc.mobility_substituted) for m in self.models if m.desc.mobility_substituted}

    def mobilities(self, res: PhaseSetResult):
        """Mobilities of the stable composition sets of a result of this model, each at
        its own site fractions: (M, yva), arrays (N, SM, n) over rows, set slots and
        components: M_k (m^2 mol J^-1 s^-1; zero for a component the set's phase does not
        hold), and yva the vacancy fraction of an interstitial's sublattice (1 for a
        substitutional component, 0 for one not held).  NaN in empty slots and failed
        rows.  Needs a model loaded with a mobility policy (load_phases(..., mobility=...))."""
        if np.any(self.params.mob_kind == MOB_NONE):
            raise InputError(
                f"{'+'.join(self.phases)} was loaded without mobility parameters; load it with "
                "mobility='error' or 'solvent'"
            )
        N, SM = res.state.set_phase.shape
        n = len(self.components)
        M = np.full((N, SM, n), np.nan)
        yva = np.full((N, SM, n), np.nan)
        status = np.zeros(N, dtype=np.int64)
        ws = mp_workspace(self.params)
        ok = res.status == C.STATUS_OK
        for Tv in np.unique(res.T[ok]):
            rows = np.flatnonzero(ok & (res.T == Tv))
            m, v, st = np.empty((rows.size, SM, n)), np.empty((rows.size, SM, n)), np.empty(rows.size, np.int64)
            mp_set_mobilities(
                self.params,
                float(Tv),
                np.ascontiguousarray(res.state.set_phase[rows]),
                np.ascontiguousarray(res.state.set_y[rows]),
                m,
                v,
                st,
                ws,
            )
            M[rows], yva[rows], status[rows] = m, v, st
        if np.any(status != C.STATUS_OK):
            raise_for_status("+".join(self.phases) + " mobilities", self.components, self.t_range, res.X, res.T, status)
        return M, yva

    def raise_for_status(self, res: PhaseSetResult):
        raise_for_status("+".join(self.phases), self.components, self.t_range, res.X, res.T, res.status)


def load_phases(database, phases, components, mobility=None, no_flux=()) -> PhaseSetModel:
    """Candidate phases of a TDB database (a list of names) over components (reference
    first).  mobility: None, or the policy for missing mobility end-members ("error" or
    "solvent") as in :func:`kinsim.phase.load_phase`; the phases of ``no_flux`` (those a
    homogenization model excludes from the flux) need none: they take "solvent"."""
    if isinstance(phases, str):
        phases = [phases]
    return PhaseSetModel(database, phases, components, mobility, no_flux=no_flux)
