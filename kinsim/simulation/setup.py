"""The kernel inputs of a run from a validated Case: the grid, material, Onsager terms,
time tables and boundary conditions (``kinsim.kernels.evaluate.Problem``, one per
boundary stage), the initial stepper state and the fields the kernels fill.

Everything here is plain Python and numpy, run once per run (and at stage switches).
"""

from __future__ import annotations

import numpy as np

from ..case.timetable import TimeTable
from ..errors import InputError
from ..grid import Grid1D
from ..kernels.boundary import BOUNDARY_CODES, BoundaryParams, BoundaryState
from ..kernels.codes import (
    BC_CLOSED,
    BC_COMPOSITION,
    BC_PERIODIC,
    FACE_ARITHMETIC,
    FACE_GEOMETRIC,
    N_STATS,
    ONSAGER_ABSOLUTE,
    ONSAGER_DIAGONAL,
    ONSAGER_RELATIVE,
)
from ..kernels.evaluate import Fields, Problem
from ..kernels.flux import Grid
from ..kernels.gradient import Gradient, gradient_model
from ..kernels.mobility import Material, Onsager
from ..kernels.node_models import empty_states
from ..kernels.schedule import Schedules
from ..kernels.step import CyclicWork, StepperState, cyclic_work

_ONSAGER_FORMS = {"absolute": ONSAGER_ABSOLUTE, "relative": ONSAGER_RELATIVE}
FACE_MEANS = {"arithmetic": FACE_ARITHMETIC, "geometric": FACE_GEOMETRIC}


def _f8(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64))


def _i8(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64))


def _rows(values) -> np.ndarray:
    """A table column for the kernels (one unused row when there are none)."""
    return _f8(values if values else [0.0])


def kernel_grid(g: Grid1D) -> Grid:
    return Grid(
        z=_f8(g.z),
        dz=_f8(np.diff(g.z)),
        faces=_f8(g.faces),
        area=_f8(g.area),
        volume=_f8(g.volume),
        bnd_dist=_f8([g.z[0] - g.faces[0], g.faces[-1] - g.z[-1]]),
    )


def material(case, subst: np.ndarray) -> Material:
    scale = [float(case.mobility.scale.get(c, 1.0)) for c in case.components]
    if case.homogenization is None:
        return Material(Vs=float(case.mobility.molar_volume), mob_scale=_f8(scale), subst=_f8(subst))
    hs = case.homogenization
    return Material(
        Vs=float(case.mobility.molar_volume),
        mob_scale=_f8(scale),
        subst=_f8(subst),
        ideal=float(hs.ideal_term),
        face_mean=FACE_MEANS[hs.face_mean],
    )


def onsager(case) -> Onsager:
    n = len(case.components)
    if case.onsager is None:
        return Onsager(form=ONSAGER_DIAGONAL, matrix=np.zeros((n, n)))
    return Onsager(form=_ONSAGER_FORMS[case.onsager.form], matrix=_f8(case.onsager.matrix))


def schedules(case, g: Grid1D) -> Schedules:
    """The temperature schedule and the external potentials on the grid."""
    comps = list(case.components)
    pots = case.potentials
    E = len(pots)
    N = g.z.shape[0]
    faces = np.asarray(g.faces, dtype=float)
    phi_node = np.zeros((E, N))
    phi_face = np.zeros((E, 2))
    ptr = [0]
    tt, tv = [], []
    for e, pt in enumerate(pots):
        phi_node[e] = pt.phi(g.z)
        phi_face[e] = pt.phi(np.array([faces[0], faces[-1]]))
        for t, v in pt.time:
            tt.append(t)
            tv.append(v)
        ptr.append(len(tt))
    if not np.all(np.isfinite(phi_node)) or not np.all(np.isfinite(phi_face)):
        raise InputError("potential: the external potential is not finite everywhere on the grid")
    table = case.conditions.temperature_table
    return Schedules(
        T_time=_f8([t for t, _ in table]),
        T_value=_f8([T for _, T in table]),
        phi_species=_i8([comps.index(pt.species) for pt in pots]),
        phi_node=_f8(phi_node),
        phi_face=_f8(phi_face),
        phi_ptr=_i8(ptr),
        phi_time=_rows(tt),
        phi_factor=_rows(tv),
    )


class ReferenceTables:
    """G(T) of pure components in reference phases (fixed-activity boundaries), tabulated
    over the run's temperatures in steps of 0.25 K and kept for the run's stages."""

    def __init__(self, case):
        self.case = case
        self._tables: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, phase: str, comp: str) -> tuple[np.ndarray, np.ndarray]:
        """(temperatures (K), G (J/mol)) of ``comp`` in ``phase``."""
        key = (phase, comp)
        if key not in self._tables:
            from ..thermo.cache import cached_reference_gibbs_energy

            Ts = np.array([T for _, T in self.case.conditions.temperature_table])
            lo, hi = float(Ts.min()), float(Ts.max())
            grid = np.array([lo]) if hi - lo < 1e-9 else np.linspace(lo, hi, int(np.ceil((hi - lo) / 0.25)) + 1)
            G = cached_reference_gibbs_energy(self.case.thermo.database, phase, comp, grid)
            self._tables[key] = (grid, G)
        return self._tables[key]


def boundary_params(case, stages: tuple[int, int], references: ReferenceTables) -> BoundaryParams:
    """The boundary conditions of the given stage of each side (0 left, 1 right)."""
    comps = case.components
    n = len(comps)
    kind = np.zeros((2, n), dtype=np.int64)
    ptr: list[int] = [0]
    tt: list[float] = []
    tv: list[float] = []
    rptr: list[int] = [0]
    rT: list[float] = []
    rG: list[float] = []
    for s, side in enumerate(("left", "right")):
        st = getattr(case.boundary, side).stages[stages[s]]
        for k, c in enumerate(comps):
            table: TimeTable = ()
            ref: tuple[np.ndarray, np.ndarray] | tuple[()] = ()
            if st.type == "fixed-composition":
                kind[s, k] = BC_COMPOSITION
                table = st.values.get(c, ())
            elif st.type == "periodic":
                kind[s, k] = BC_PERIODIC
            elif st.type != "closed" and c in st.values:
                kind[s, k] = BOUNDARY_CODES[st.type]
                table = st.values[c]
                if st.type == "fixed-activity":
                    ref = references(st.reference[c], c)
            else:
                kind[s, k] = BC_CLOSED
            for t, v in table:
                tt.append(t)
                tv.append(v)
            ptr.append(len(tt))
            if ref:
                rT.extend(ref[0])
                rG.extend(ref[1])
            rptr.append(len(rT))
    return BoundaryParams(
        kind=kind,
        value_ptr=_i8(ptr),
        value_time=_rows(tt),
        value=_rows(tv),
        ref_ptr=_i8(rptr),
        ref_T=_rows(rT),
        ref_G=_rows(rG),
    )


def boundary_state(n: int) -> BoundaryState:
    return BoundaryState(
        mu=np.zeros((2, n)),
        phi=np.zeros((2, n)),
        drive=np.zeros((2, n)),
        L=np.zeros((2, n)),
        u=np.zeros((2, n)),
        flux=np.zeros((2, n)),
    )


def stage_index(case, t: float) -> tuple[int, int]:
    """The boundary stage of each side in force for steps ending after t."""
    out = []
    for b in (case.boundary.left, case.boundary.right):
        j = 0
        while b.stages[j].until is not None and t >= b.stages[j].until * (1.0 - 1e-14):
            j += 1
        out.append(j)
    return out[0], out[1]


def stage_switch_times(case) -> list[float]:
    return sorted(
        {st.until for b in (case.boundary.left, case.boundary.right) for st in b.stages if st.until is not None}
    )


def output_targets(case) -> list[tuple[float, bool]]:
    """(time, is_snapshot) of every output time and boundary-stage switch, in order."""
    snaps = set(float(t) for t in case.output.snapshots)
    times = sorted(snaps | set(stage_switch_times(case)))
    return [(t, t in snaps) for t in times]


def marker_positions(case, g: Grid1D) -> np.ndarray:
    """Kirkendall markers at t = 0: at the weld of a step couple, else mid-specimen (m)."""
    ini = case.initial
    if ini.type == "step":
        return np.array([float(ini.position)])
    return np.array([0.5 * (g.faces[0] + g.faces[-1])])


def to_u(x: np.ndarray, subst: np.ndarray) -> np.ndarray:
    """u-fractions u_k = x_k / sum_{j substitutional} x_j."""
    s = (x * subst).sum(axis=-1, keepdims=True)
    return x / s


def to_x(u: np.ndarray) -> np.ndarray:
    """Mole fractions from u-fractions."""
    return u / u.sum(axis=-1, keepdims=True)


def initial_dt(case) -> float:
    """The first step size of a run and after each boundary-stage switch (s)."""
    if case.solver.initial_step:
        return float(case.solver.initial_step)
    return max(float(case.conditions.duration) * 1e-8, 1e-9)


def initial_state(case, g: Grid1D, x0: np.ndarray, subst: np.ndarray, p) -> StepperState:
    """The stepper state at t = 0 with the initial profile x0 (N, n), for the node model
    of the phase parameters p (kinsim.kernels.node_models)."""
    N, n = x0.shape
    U = np.ascontiguousarray(to_u(x0, subst))
    hist_U = np.zeros((3, N, n))
    hist_U[0] = U
    return StepperState(
        U=U,
        Y=empty_states(p, N),
        hist_U=hist_U,
        hist_t=np.zeros(3),
        nhist=np.ones(1, dtype=np.int64),
        markers=marker_positions(case, g),
        stats=np.zeros(N_STATS, dtype=np.int64),
        t=np.zeros(1),
        dt=np.array([initial_dt(case)]),
        t_last_snapshot=np.array([-1.0]),
        bc_Y=empty_states(p, 2),
        bc_warm=np.zeros(2, dtype=np.int64),
    )


def gradient(case, N: int, n: int) -> Gradient | None:
    """The gradient-energy model of the case with its scratch for N nodes (None without
    [gradient])."""
    if case.gradient is None:
        return None
    return gradient_model(case.gradient.matrix, N, n)


def cyclic(case, N: int, n: int) -> CyclicWork | None:
    """The scratch of the Newton solve on a periodic grid of N nodes of n components (None
    when the ends are not joined: ``advance`` is compiled without the cyclic solve)."""
    if case.boundary.left.type != "periodic":
        return None
    return cyclic_work(N, n)


def fields(N: int, n: int) -> Fields:
    return Fields(
        MU=np.zeros((N, n)),
        DMDU=np.zeros((N, n, n - 1)),
        L=np.zeros((N, n)),
        PHI=np.zeros((N, n)),
        M=np.zeros((N, n)),
        Jp=np.zeros((N + 1, n)),
        J=np.zeros((N + 1, n)),
    )


def parameters(params, problem: Problem) -> dict:
    """The arrays the kernels use, for the result file: the phase's (thermo_*) and the
    run's (``run_parameters``)."""
    out = {f"thermo_{k}": np.asarray(v) for k, v in params._asdict().items() if isinstance(v, np.ndarray)}
    out.update(run_parameters(problem))
    return out


def run_parameters(problem: Problem) -> dict:
    """The run's kernel arrays by concern (grid_*, material_*, onsager_*, schedules_*,
    boundary_*), for the result file."""
    out = {}
    for concern in ("grid", "material", "onsager", "schedules", "boundary"):
        for k, v in getattr(problem, concern)._asdict().items():
            if isinstance(v, np.ndarray):
                out[f"{concern}_{k}"] = np.asarray(v)
    return out
