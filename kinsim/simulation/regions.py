"""Running a case of the moving-boundary model (``[[region]]`` tables): the specimen is a
sequence of single-phase regions separated by sharp interfaces that move
(kinsim.kernels.moving); :class:`RegionSimulation` is what ``Simulation(case)`` is for
such a case, with the same run loop, result file, checkpoints and resume.

At t = 0: each region's phase is loaded with its mobilities; every interface starts from
the tie-line of its two phases between the compositions next to it (a region of zero
width is a nucleus 1/100 of its neighbour's nearest cell wide, at the tie-line end of
its phase at its neighbour's composition); a region whose composition lies on the other
phase's side of the tie-line is bad input.

A region narrower than 1/1000 of its neighbours' nearest cells vanishes: its matter goes
to the neighbour that takes its place (exactly: every cell keeps its content), an end
region's neighbour reaches the specimen's end, and between two regions the walls meet
as one: a fixed face between regions of one phase (``WALL_MERGED``), or a new interface
starting from their tie-line.  The run goes on with a fresh step history; the result
file shows the region's width as 0 from then on (``/region_width``).

Result file, besides the single-phase layout: ``/z`` and ``/face`` hold the positions at
t = 0 and the per-snapshot positions are ``/node_position`` (time, z) and
``/face_position`` (time, face); ``/interface_position`` (time, interface) the interface
positions (m, NaN once gone) and ``/interface_velocity`` their velocity over the last
step (m/s), ``/interface_x_left`` / ``/interface_x_right`` (time, interface, component)
the mole fractions on each side of every interface and ``/interface_flux_left`` /
``/interface_flux_right`` the volume-fixed fluxes there (mol m^-2 s^-1: the flux balance
v (c_left - c_right) = J_left - J_right holds to the solver's tolerance);
``/region_width`` (time, region).  The flux at an interface face is the left region's.  Nodes of a vanished region
sit at the wall it vanished into, with the composition, potentials and flux of the
nearest node of the region that took its place (they hold no matter).  No Kirkendall
markers.
"""

from __future__ import annotations

import json

import numpy as np

from .._jit import RepeatedCall
from ..case.boundary import stage_key
from ..case.regions import region_faces, region_walls
from ..errors import ConvergenceError, InputError, KinsimError
from ..grid import GEOMETRIES, Grid1D
from ..kernels.codes import (
    ADV_BOUNDARY_FAILED,
    ADV_NODE_FAILED,
    ADV_REGION_VANISHED,
    N_STATS,
    S_FAIL_NODE,
    S_FAIL_STATUS,
    S_STEPS,
    STATUS_TEXT,
    WALL_END,
    WALL_GONE,
    WALL_LOCAL_EQ,
    WALL_MERGED,
    WALL_PARA_EQ,
)
from ..kernels.flux import Grid
from ..kernels.moving import (
    RegionFields,
    advance_regions,
    is_referenced,
    moving_kernels,
    moving_workspace,
    site_fraction_size,
    stage_kernels,
)
from ..kernels.regions import RegionLayout, RegionProblem, RegionState
from ..phase import PhaseModel, load_phase
from ..resources import check_memory, run_size
from . import setup
from .failures import raise_failure
from .runner import Simulation
from .start_stability import (
    StartStability,
    check_candidates,
    check_region_end_stability,
    check_start_stability,
    start_compositions,
)
from .tielines import PhasePair, check_side

# region slots of the kernels: cases with up to this many regions share one compiled stepper
MIN_SLOTS = 4
# a nucleus starts this fraction of its neighbour's nearest cell wide
NUCLEUS_FRACTION = 1e-2
# a region vanishes when narrower than this fraction of its neighbours' nearest cells (at t = 0)
VANISH_FRACTION = 1e-3

_WALL_KINDS = {"local-equilibrium": WALL_LOCAL_EQ, "para-equilibrium": WALL_PARA_EQ}


def _volume(z, m):
    return z ** (m + 1) / (m + 1)


class RegionSimulation(Simulation):
    """One run of a case with regions (see the module docstring)."""

    model: PhaseModel  # the first region's phase (one phase per region)

    def __init__(self, case):
        self.case = case
        self._stepper = RepeatedCall()  # as Simulation's
        th = case.thermo
        self.components = list(th.components)
        self.n = len(self.components)
        self.regions = case.regions
        self.multiphase = False  # one phase per region ([[region]] with thermo.phases is refused: kinsim.case)
        check_candidates(case)
        R = len(self.regions)
        self.slots = max(MIN_SLOTS, R)
        self.models: dict[str, PhaseModel] = {}
        for r, spec in enumerate(self.regions):
            if spec.phase not in self.models:
                try:
                    self.models[spec.phase] = load_phase(
                        th.database, spec.phase, self.components, mobility=case.mobility.missing
                    )
                except KinsimError as exc:
                    raise type(exc)(f"region[{r}].phase = '{spec.phase}': {exc}") from None
        cond = case.conditions
        for model in self.models.values():
            if cond.schedule is None:
                model.check_temperature(cond.temperature, "conditions.temperature")
            else:
                for i, (t, T) in enumerate(cond.schedule):
                    model.check_temperature(T, f"conditions.temperature[{i}] (the schedule at t = {t:g} s):")
        self.T = float(cond.temperature_at(0.0))
        self.model = self.models[self.regions[0].phase]  # its parameters' types are every phase's
        inter = self.model.params.interstitial
        for r, spec in enumerate(self.regions):
            other = self.models[spec.phase].params.interstitial
            if not np.array_equal(other, inter):
                k = int(np.flatnonzero(other != inter)[0])
                kinds = ("substitutional", "interstitial")
                raise InputError(
                    f"region[{r}].phase = '{spec.phase}': {self.components[k]} is "
                    f"{kinds[int(other[k])]} in {spec.phase} but {kinds[int(inter[k])]} in "
                    f"{self.regions[0].phase}; the regions' phases must agree on which components "
                    "are interstitial"
                )
        self.subst = 1.0 - inter.astype(np.float64)
        self.params = tuple(self.models[s.phase].params for s in self.regions) + (self.model.params,) * (self.slots - R)
        self._unit_faces = region_faces(self.regions)
        self.walls0 = region_walls(self.regions, self._nucleus_width())
        self.layout = self._layout()
        self.grid = self._grid(self.walls0, np.ones(R, dtype=np.int64), np.arange(R), np.arange(1, R + 1))
        self.vanish_width = self._vanish_widths()
        self.U0 = self._initial_rows()
        self._references = setup.ReferenceTables(case)
        self._material = setup.material(case, self.subst)
        self._onsager = setup.onsager(case)
        self._schedules = setup.schedules(case, self.grid)
        self.problem = self._problem(setup.stage_index(case, 0.0))
        # the memory and file of the run, estimated as a one-phase run of the same nodes with
        # the region phase of most site fractions (the interface unknowns are a few per wall)
        # that stores the node and face positions with every snapshot
        widest = max((self.models[s.phase].params for s in self.regions), key=lambda p: p.n_y)
        self.size = check_memory(run_size(case, widest, extra_floats=2))
        self._kernel_refs: tuple | None = None  # (fields, work, MovingKernels): _step_kernels

    # ---------------------------------------------------------------- geometry at t = 0
    def _nucleus_width(self) -> float:
        """The width of a nucleus: 1/100 of the nearest cell of its neighbour (m)."""
        widths = []
        R = len(self.regions)
        for r, spec in enumerate(self.regions):
            if not spec.nucleates:
                continue
            for q, side in ((r - 1, -1), (r + 1, 0)):
                if 0 <= q < R and not self.regions[q].nucleates:
                    xi = self._unit_faces[q]
                    widths.append(self.regions[q].width * (xi[-1] - xi[-2] if side == -1 else xi[1] - xi[0]))
        return NUCLEUS_FRACTION * min(widths) if widths else 0.0

    def _layout(self) -> RegionLayout:
        R = len(self.regions)
        nodes = [s.nodes for s in self.regions] + [0] * (self.slots - R)
        start = np.concatenate([[0], np.cumsum(np.array(nodes) + 2)[:-1]]).astype(np.int64)
        E = int(sum(nodes) + 2 * self.slots)
        xi_row = np.zeros(E)
        xi_face = np.zeros(E)
        for r, xi in enumerate(self._unit_faces):
            s = start[r]
            N = nodes[r]
            xi_row[s + 1 : s + 1 + N] = 0.5 * (xi[:-1] + xi[1:])
            xi_row[s + N + 1] = 1.0
            xi_face[s : s + N + 1] = xi
        return RegionLayout(
            start=start,
            nodes=np.array(nodes, dtype=np.int64),
            xi_row=xi_row,
            xi_face=xi_face,
            geometry=GEOMETRIES[self.case.grid.geometry],
        )

    def _region_faces(self, walls, active, left_wall, right_wall, r) -> np.ndarray:
        """Face positions (m) of region r for the wall positions ``walls``."""
        if not active[r]:
            p = walls[left_wall[r]]
            return np.full(self.regions[r].nodes + 1, p)
        lo, hi = walls[left_wall[r]], walls[right_wall[r]]
        f = lo + self._unit_faces[r] * (hi - lo)
        f[0], f[-1] = lo, hi
        return f

    def _grid(self, walls, active, left_wall, right_wall) -> Grid1D:
        """The grid (every real region's cells in order) for the wall positions ``walls``."""
        m = self.layout.geometry
        parts = [self._region_faces(walls, active, left_wall, right_wall, r) for r in range(len(self.regions))]
        faces = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
        z = np.concatenate([0.5 * (p[:-1] + p[1:]) for p in parts])
        area = faces**m if m else np.ones(faces.size)
        return Grid1D(m, faces, z, np.diff(z), np.diff(faces), area, np.diff(_volume(faces, m)))

    def _vanish_widths(self) -> np.ndarray:
        """Per region slot: the width below which the region vanishes (m)."""
        g_faces = [
            self._region_faces(
                self.walls0,
                np.ones(len(self.regions)),
                np.arange(len(self.regions)),
                np.arange(1, len(self.regions) + 1),
                r,
            )
            for r in range(len(self.regions))
        ]
        out = np.zeros(self.slots)
        R = len(self.regions)
        for r in range(R):
            near = []
            if r > 0:
                near.append(g_faces[r - 1][-1] - g_faces[r - 1][-2])
            if r < R - 1:
                near.append(g_faces[r + 1][1] - g_faces[r + 1][0])
            out[r] = VANISH_FRACTION * min(near)
        return out

    def _node_rows(self, r) -> slice:
        s = int(self.layout.start[r])
        return slice(s + 1, s + 1 + self.regions[r].nodes)

    # ---------------------------------------------------------------- the state at t = 0
    def _pair(self, a: int, b: int) -> PhasePair:
        return PhasePair(
            self.case.thermo.database, self.regions[a].phase, self.regions[b].phase, self.components, self.T
        )

    def _initial_rows(self) -> np.ndarray:
        """u of every row at t = 0: the regions' compositions at their nodes, the
        interfaces' tie-lines at their end rows, nuclei at their tie-line ends."""
        R = len(self.regions)
        E = int(self.layout.xi_row.size)
        X = np.full((E, self.n), np.nan)
        for r, spec in enumerate(self.regions):
            if not spec.nucleates:
                f = self._region_faces(self.walls0, np.ones(R), np.arange(R), np.arange(1, R + 1), r)
                X[self._node_rows(r)] = spec.profile(0.5 * (f[:-1] + f[1:]))
        for r, spec in enumerate(self.regions):  # the regions' compositions belong to their phases
            if spec.nucleates:
                continue
            for q in (r - 1, r + 1):
                if 0 <= q < R and not self.regions[q].nucleates:
                    toward = X[self._node_rows(q)][0 if q > r else -1]
                    rows = np.unique(np.round(X[self._node_rows(r)], 14), axis=0)
                    check_side(self._pair(r, q), rows, toward, f"region[{r}].composition")
        for w in range(1, R):
            a, b = w - 1, w
            xa = X[self._node_rows(a)][-1]
            xb = X[self._node_rows(b)][0]
            pair = self._pair(a, b)
            nucleus = self.regions[b].nucleates or self.regions[a].nucleates
            if nucleus:
                grow, host, x_near = (b, a, xa) if self.regions[b].nucleates else (a, b, xb)
                tl = pair.tie_line(x_near[None, :])
                if tl is None:
                    raise InputError(
                        f"region[{grow}].width = 0: at the composition of region[{host}] next to it "
                        f"({_fmt(self.components, x_near)}) {self.regions[host].phase} is stable alone "
                        f"at {self.T:g} K, so no {self.regions[grow].phase} nucleates there"
                    )
            else:
                x_near = xa
                tl = pair.between(xa, xb)
                if tl is None:
                    raise InputError(
                        f"region[{a}] and region[{b}]: no {self.regions[a].phase} + "
                        f"{self.regions[b].phase} equilibrium lies between their compositions "
                        f"({_fmt(self.components, xa)} and {_fmt(self.components, xb)}) at {self.T:g} "
                        "K, so they cannot meet at a sharp interface"
                    )
            ea, eb = tl
            if self.regions[a].interface == "para-equilibrium":
                ea, eb = _para_start(ea, eb, x_near, self.subst)
            if nucleus and self._nucleus_host(grow) == host:
                X[self._node_rows(grow)] = eb if grow == b else ea
            X[int(self.layout.start[a]) + self.regions[a].nodes + 1] = ea
            X[int(self.layout.start[b])] = eb
        for r, spec in enumerate(self.regions):
            s = int(self.layout.start[r])
            if r == 0:
                X[s] = X[s + 1]
            if r == R - 1:
                X[s + spec.nodes + 1] = X[s + spec.nodes]
        X[np.isnan(X[:, 0])] = X[1]  # the empty slots: any valid state
        self.X0 = X  # mole fractions (the start check)
        return np.ascontiguousarray(setup.to_u(X, self.subst))

    def _nucleus_host(self, r) -> int:
        """The neighbour a nucleus takes its width from (kinsim.case.regions.region_walls)."""
        R = len(self.regions)
        if r == R - 1 or (0 < r and self.regions[r - 1].width > self.regions[r + 1].width):
            return r - 1
        return r + 1

    def _stepper_arrays(self):
        R = len(self.regions)
        S = self.slots
        n = self.n
        E = self.U0.shape[0]
        U = self.U0.copy()
        walls = np.concatenate([self.walls0, np.full(S - R, self.walls0[-1])])
        kinds = [WALL_END] + [_WALL_KINDS[s.interface] for s in self.regions[:-1]] + [WALL_END] + [WALL_GONE] * (S - R)
        hist_U = np.zeros((3, E, n))
        hist_U[0] = U
        hist_walls = np.zeros((3, S + 1))
        hist_walls[0] = walls
        state = RegionState(
            U=U,
            Y=np.zeros(site_fraction_size(self.params, self.layout)),
            hist_U=hist_U,
            hist_t=np.zeros(3),
            nhist=np.ones(1, dtype=np.int64),
            walls=walls,
            hist_walls=hist_walls,
            exchange=np.zeros((S + 1, n)),
            active=np.array([1] * R + [0] * (S - R), dtype=np.int64),
            left_wall=np.array(list(range(R)) + [R] * (S - R), dtype=np.int64),
            right_wall=np.array(list(range(1, R + 1)) + [R] * (S - R), dtype=np.int64),
            wall_kind=np.array(kinds, dtype=np.int64),
            markers=np.zeros(0),
            stats=np.zeros(N_STATS, dtype=np.int64),
            t=np.zeros(1),
            dt=np.array([setup.initial_dt(self.case)]),
            t_last_snapshot=np.array([-1.0]),
        )
        fields = RegionFields(
            MU=np.zeros((E, n)),
            DMDU=np.zeros((E, n, n - 1)),
            L=np.zeros((E, n)),
            Jp=np.zeros((E, n)),
            J=np.zeros((E, n)),
        )
        return state, fields, moving_workspace(self.params, self.layout, state)

    # ---------------------------------------------------------------- kernel inputs
    def _problem(self, stages) -> RegionProblem:
        n = self.n
        faces = Grid(
            z=np.zeros(2), dz=np.zeros(1), faces=np.zeros(3), area=np.ones(3), volume=np.ones(2), bnd_dist=np.zeros(2)
        )
        return RegionProblem(
            params=self.params,
            layout=self.layout,
            material=self._material,
            onsager=self._onsager,
            schedules=self._schedules,
            boundary=setup.boundary_params(self.case, stages, self._references),
            boundary_state=setup.boundary_state(n),
            faces=faces,
        )

    def _advance_call(self, state, fields, work, t_target, max_steps):
        solver = self.case.solver
        return advance_regions, (
            self.problem,
            state,
            fields,
            work,
            self.vanish_width,
            t_target,
            solver.rtol,
            solver.atol,
            max_steps,
            self._step_kernels(state, fields, work),
        )

    def _step_kernels(self, state, fields, work):
        """The kernels ``advance_regions`` calls through references (``moving_kernels``),
        made once per run's arrays (as ``Simulation._step_kernels``)."""
        made = self._kernel_refs
        if made is None or made[0] is not fields or made[1] is not work:
            made = (fields, work, moving_kernels(self.problem, state, fields, work))
            self._kernel_refs = made
        return made[2]

    def _stage_kernels(self, state, fields, work) -> list:
        return stage_kernels(self.problem, state, fields, work, self.vanish_width)

    @staticmethod
    def _is_referenced(kernel) -> bool:
        return is_referenced(kernel)

    def _advance(self, state, fields, work, t_target, max_steps):
        """Advance, removing the regions that vanish on the way."""
        while True:
            before = int(state.stats[S_STEPS])
            kernel, args = self._advance_call(state, fields, work, t_target, max_steps)
            code = self._stepper(kernel, args)
            if code != ADV_REGION_VANISHED:
                return code
            self._remove_region(int(state.stats[S_FAIL_NODE]), state, work)
            max_steps -= int(state.stats[S_STEPS]) - before
            if max_steps <= 0:
                max_steps = 1  # evaluate the new state (a step to its own time), then return
                t_target = float(state.t[0])

    def check_stability(self, warn: bool = True) -> StartStability | None:
        """The start-stability check of the regions: each region's initial compositions
        (a nucleus: its tie-line end) against a second composition set of its phase and the
        database's phases that are no region's (or thermo.candidates); the regions' own
        phases meet at the interfaces, which is the model (a region inside a two-phase
        field is the driving force of growth)."""
        rows = []
        for r in range(len(self.regions)):
            rows.append(self.X0[self._node_rows(r)])
        part = np.concatenate([np.full(self.regions[r].nodes, r, dtype=np.int64) for r in range(len(self.regions))])
        labels = [f"region[{r}] ({s.phase})" for r, s in enumerate(self.regions)]
        start = start_compositions(self.case, np.concatenate(rows), self.grid.z, self.grid.faces, part, labels)
        report = check_start_stability(self.case, start, regions=tuple(s.phase for s in self.regions))
        if warn:
            self.warn_stability(report)
        return report

    def check_end_stability(self, t: float, x, mu, state, watch=None):
        """The end check of the regions left at t (the last snapshot's x and mu, the
        stepper's ``state``): each against the start check's candidates and a second
        composition set of its phase
        (:func:`kinsim.simulation.start_stability.check_region_end_stability`)."""
        parts, o = [], 0
        for r, spec in enumerate(self.regions):
            if state.active[r]:  # a vanished region holds no matter
                parts.append((r, spec.phase, self.models[spec.phase], slice(o, o + spec.nodes)))
            o += spec.nodes
        return check_region_end_stability(self.case, t, parts, self._positions(state).z, x, mu, watch)

    @property
    def phase_label(self) -> str:
        return " | ".join(s.phase for s in self.regions)

    def parameters(self) -> dict:
        """The arrays the kernels use: every phase's (thermo_<PHASE>_*), the components'
        kind (thermo_interstitial), the regions' layout (regions_*) and the run's."""
        out = {}
        for phase, model in self.models.items():
            out.update(
                {
                    f"thermo_{phase}_{k}": np.asarray(v)
                    for k, v in model.params._asdict().items()
                    if isinstance(v, np.ndarray)
                }
            )
        out["thermo_interstitial"] = np.asarray(self.model.params.interstitial)
        out.update(
            {f"regions_{k}": np.asarray(v) for k, v in self.layout._asdict().items() if isinstance(v, np.ndarray)}
        )
        out["regions_vanish_width"] = self.vanish_width
        for concern in ("material", "onsager", "schedules", "boundary"):
            for k, v in getattr(self.problem, concern)._asdict().items():
                if isinstance(v, np.ndarray):
                    out[f"{concern}_{k}"] = np.asarray(v)
        return out

    # ---------------------------------------------------------------- checks
    def check_compositions(self):
        """Every region's compositions and every fixed boundary composition are states of
        the phase they belong to."""
        R = len(self.regions)
        X = setup.to_x(self.U0)
        for r, spec in enumerate(self.regions):
            s = int(self.layout.start[r])
            rows = X[s : s + spec.nodes + 2]
            res = self.models[spec.phase].equilibrium(rows[:, 1:], self.T, raise_on_failure=False)
            bad = np.flatnonzero(res.status != 0)
            if bad.size:
                i = int(bad[0])
                what = "composition" if 0 < i <= spec.nodes else "interface state"
                raise InputError(
                    f"region[{r}].{what}: {_fmt(self.components, rows[i])} is not a valid {spec.phase} "
                    f"state at {self.T:g} K: {STATUS_TEXT.get(int(res.status[i]), res.status[i])}"
                )
        cond = self.case.conditions
        for side, r in (("left", 0), ("right", R - 1)):
            b = getattr(self.case.boundary, side)
            model = self.models[self.regions[r].phase]
            for j, st in enumerate(b.stages):
                if st.type != "fixed-composition":
                    continue
                where = stage_key(side, b.stages, j, "composition")
                for t in st.times():
                    x = st.composition_at(t)
                    row = np.array([[float(x[c]) for c in self.components[1:]]])
                    res = model.equilibrium(row, float(cond.temperature_at(t)), raise_on_failure=False)
                    if res.status[0] != 0:
                        raise InputError(
                            f"{where}: {_fmt(self.components, res.X[0])} is not a valid "
                            f"{model.phase} state (region[{r}]) at t = {t:g} s: "
                            f"{STATUS_TEXT.get(int(res.status[0]), res.status[0])}"
                        )

    # ---------------------------------------------------------------- between steps
    def _restart_history(self, state) -> None:
        """Restart the multistep history at the state's time (backward Euler) with a small
        step: after a boundary condition switched, or the regions changed."""
        state.nhist[0] = 1
        state.hist_U[0] = state.U
        state.hist_walls[0] = state.walls
        state.hist_t[0] = state.t[0]
        state.dt[0] = setup.initial_dt(self.case)

    def _cell_volumes(self, state) -> np.ndarray:
        """Cell volume of every node row of the active regions (0 elsewhere)."""
        V = np.zeros(state.U.shape[0])
        m = self.layout.geometry
        for r in range(len(self.regions)):
            if state.active[r]:
                f = self._region_faces(state.walls, state.active, state.left_wall, state.right_wall, r)
                V[self._node_rows(r)] = np.diff(_volume(f, m))
        return V

    def _remove_region(self, r: int, state, work) -> None:
        """Region r has shrunk to nothing: its neighbour takes its place and its matter
        (module docstring); the step history restarts."""
        active = state.active
        R = len(self.regions)
        left = max((q for q in range(r) if active[q]), default=None)
        right = min((q for q in range(r + 1, R) if active[q]), default=None)
        if left is None and right is None:  # pragma: no cover - one region has no moving walls
            raise ConvergenceError(f"region[{r}] vanished and no region is left")
        U = state.U
        V = self._cell_volumes(state)
        Q = U[:, 1:] * V[:, None]  # contents of the independent components
        lost = Q[self._node_rows(r)].sum(axis=0)
        lw, rw = int(state.left_wall[r]), int(state.right_wall[r])
        if left is None:
            state.left_wall[right] = lw
            state.wall_kind[rw] = WALL_GONE
            target = self._node_rows(right).start
            where = lw
        elif right is None:
            state.right_wall[left] = rw
            state.wall_kind[lw] = WALL_GONE
            target = self._node_rows(left).stop - 1
            where = rw
        else:
            state.left_wall[right] = lw
            state.wall_kind[rw] = WALL_GONE
            state.walls[rw] = state.walls[lw]
            target = self._node_rows(right).start
            self._join(left, right, lw, state)
            where = lw
        active[r] = 0
        state.left_wall[r] = state.right_wall[r] = where  # the wall it vanished into
        V_new = self._cell_volumes(state)
        Q[target] += lost
        live = V_new > 0.0
        U[live, 1:] = Q[live] / V_new[live, None]
        U[:, 0] = 1.0 - (U[:, 1:] * self.subst[None, 1:]).sum(axis=1)
        state.exchange[:] = 0.0
        self._restart_history(state)

    def _join(self, left: int, right: int, wall: int, state) -> None:
        """The wall where regions ``left`` and ``right`` meet after the region between
        them vanished: a merged face (one phase) or a new interface from their tie-line."""
        U = state.U
        la = int(self.layout.start[left]) + self.regions[left].nodes + 1
        rb = int(self.layout.start[right])
        if self.regions[left].phase == self.regions[right].phase:
            state.wall_kind[wall] = WALL_MERGED
            U[la] = U[rb] = 0.5 * (U[la - 1] + U[rb + 1])
            return
        xa, xb = setup.to_x(U[la - 1]), setup.to_x(U[rb + 1])
        tl = self._pair(left, right).between(xa, xb)
        if tl is None:
            raise ConvergenceError(
                f"the region between region[{left}] ({self.regions[left].phase}) and "
                f"region[{right}] ({self.regions[right].phase}) vanished at t = "
                f"{state.t[0]:.6g} s, and no tie-line of the two phases lies between their "
                "compositions: they cannot meet at a sharp interface; the run stops"
            )
        state.wall_kind[wall] = _WALL_KINDS[self.regions[left].interface]
        U[la] = setup.to_u(tl[0], self.subst)
        U[rb] = setup.to_u(tl[1], self.subst)

    # ---------------------------------------------------------------- results
    def _positions(self, state):
        return self._grid(state.walls, state.active, state.left_wall, state.right_wall)

    def _snapshot(self, state, fields, work) -> tuple:
        R = len(self.regions)
        N = int(sum(s.nodes for s in self.regions))
        X = setup.to_x(state.U)
        x = np.full((N, self.n), np.nan)
        mu = np.full((N, self.n), np.nan)
        flux = np.full((N + 1, self.n), np.nan)
        o = 0
        for r, spec in enumerate(self.regions):
            rows = self._node_rows(r)
            s = int(self.layout.start[r])
            first = 0 if r == 0 else 1
            if state.active[r]:
                x[o : o + spec.nodes] = X[rows]
                mu[o : o + spec.nodes] = fields.MU[rows]
                flux[o + first : o + spec.nodes + 1] = fields.J[s + first : s + spec.nodes + 1]
            else:  # zero width at the wall it vanished into: the nearest node of the region that took its place
                q = next((q for q in range(r + 1, R) if state.active[q]), None)
                i, f = (
                    (self._node_rows(q).start, int(self.layout.start[q]))
                    if q is not None
                    else (self._node_rows(max(q for q in range(r) if state.active[q])).stop - 1,) * 2
                )
                x[o : o + spec.nodes] = X[i]
                mu[o : o + spec.nodes] = fields.MU[i]
                flux[o + first : o + spec.nodes + 1] = fields.J[f]
            o += spec.nodes
        g = self._positions(state)
        walls = np.where(state.wall_kind[1:R] != WALL_GONE, state.walls[1:R], np.nan)
        xl, xr, jl, jr = (np.full((R - 1, self.n), np.nan) for _ in range(4))
        for r in range(R):
            if not state.active[r]:
                continue
            w = int(state.right_wall[r])
            q = next((q for q in range(r + 1, R) if state.active[q]), None)
            if q is not None and 1 <= w < R:
                ra = int(self.layout.start[r]) + self.regions[r].nodes + 1
                rb = int(self.layout.start[q])
                xl[w - 1], xr[w - 1] = X[ra], X[rb]
                jl[w - 1], jr[w - 1] = fields.J[ra - 1], fields.J[rb]
        widths = np.array(
            [
                (state.walls[state.right_wall[r]] - state.walls[state.left_wall[r]]) if state.active[r] else 0.0
                for r in range(R)
            ]
        )
        extra = {
            "temperature": np.array(self.case.conditions.temperature_at(float(state.t[0]))),
            "node_position": g.z,
            "face_position": g.faces,
            "interface_position": walls,
            "interface_velocity": np.where(np.isnan(walls), np.nan, self._velocities(state)[1:R]),
            "interface_x_left": xl,
            "interface_x_right": xr,
            "interface_flux_left": jl,
            "interface_flux_right": jr,
            "region_width": widths,
        }
        return x, mu, flux, state.markers, extra

    def _velocities(self, state) -> np.ndarray:
        """The velocity (m/s) of every wall over the last step, as the step's flux balance
        has it: dVol / (dt A), the BDF combination of the volume coordinate (0 before the
        first step, after a restart of the history, and for walls that do not move)."""
        nh = int(state.nhist[0])
        t = state.hist_t
        m = self.layout.geometry
        if nh < 2 or state.t[0] != t[0]:
            return np.zeros(state.walls.size)
        dt = t[0] - t[1]
        vol = _volume(state.hist_walls, m)
        if nh == 3 and t[1] > t[2]:  # the step was BDF2 (two earlier states known)
            w = dt / (t[1] - t[2])
            d = (1.0 + 2.0 * w) / (1.0 + w) * vol[0] - (1.0 + w) * vol[1] + w * w / (1.0 + w) * vol[2]
        else:
            d = vol[0] - vol[1]
        area = state.hist_walls[0] ** m if m else np.ones(state.walls.size)
        moving = ~np.isin(state.wall_kind, (WALL_END, WALL_MERGED, WALL_GONE))  # an end may sit at r = 0
        v = np.zeros(state.walls.size)
        v[moving] = d[moving] / (dt * area[moving])
        return v

    def _writer_arguments(self, state) -> dict:
        args = super()._writer_arguments(state)
        desc = {phase: model.desc for phase, model in self.models.items()}
        args["extra_attrs"].update(
            mobility_substituted=json.dumps({p: d.mobility_substituted for p, d in desc.items()}),
            mobility_missing=json.dumps({p: d.missing_mobility for p, d in desc.items()}),
            regions=json.dumps([s.phase for s in self.regions]),
        )
        args["extra_units"].update(
            node_position="m",
            face_position="m",
            interface_position="m",
            interface_velocity="m s-1",
            interface_x_left="1",
            interface_x_right="1",
            interface_flux_left="mol m-2 s-1",
            interface_flux_right="mol m-2 s-1",
            region_width="m",
        )
        return args

    def _raise_failure(self, code, state, at_start=False):
        """The exception of a failed step: a failed interface state names its region and
        interface; a node is named by its index among the result's nodes."""
        t = float(state.t[0])
        T = self.case.conditions.temperature_at(t)
        stats = state.stats.copy()
        row = int(stats[S_FAIL_NODE])
        node_of_row = np.full(state.U.shape[0], -1)
        o = 0
        for r, spec in enumerate(self.regions):
            s = int(self.layout.start[r])
            node_of_row[s : s + spec.nodes + 2] = np.clip(np.arange(o - 1, o + spec.nodes + 1), o, o + spec.nodes - 1)
            if code == ADV_NODE_FAILED and state.active[r] and row in (s, s + spec.nodes + 1):
                why = STATUS_TEXT.get(int(stats[S_FAIL_STATUS]), f"status {stats[S_FAIL_STATUS]}")
                wall = state.left_wall[r] if row == s else state.right_wall[r]
                z = float(state.walls[wall])
                x = _fmt(self.components, setup.to_x(state.U[row]))
                exc = ConvergenceError(
                    f"{why} at the {'left' if row == s else 'right'} end of region[{r}] "
                    f"({spec.phase}, z = {z:.6g} m; {x}) at t = {t:.6g} s, T = {T:g} K"
                )
                exc.info = {"region": r, "z": z, "reason": why}
                raise exc
            o += spec.nodes
        phase = self.regions[0].phase
        if code == ADV_BOUNDARY_FAILED:
            phase = self.regions[0 if row == 0 else -1].phase
        elif 0 <= row < node_of_row.size:
            stats[S_FAIL_NODE] = node_of_row[row]
        U_nodes = np.concatenate([state.U[self._node_rows(r)] for r in range(len(self.regions))])
        raise_failure(
            code,
            stats,
            U_nodes,
            t,
            components=self.components,
            z=self._positions(state).z,
            phase=phase,
            T=T,
            at_start=at_start,
        )


def _fmt(components, x) -> str:
    return ", ".join(f"{c} = {v:.6g}" for c, v in zip(components[1:], x[1:]))


def _para_start(xa, xb, x_near, subst):
    """A start for a para-equilibrium interface: the tie-line's ends with the
    substitutional independent components of both set to those of the nearby
    composition (renormalised)."""
    ea, eb = xa.copy(), xb.copy()
    for e in (ea, eb):
        s_tot = (e * subst).sum()
        ref_tot = (x_near * subst).sum()
        for k in range(1, e.size):
            if subst[k]:
                e[k] = x_near[k] / ref_tot * s_tot
        e[0] = 1.0 - e[1:].sum()
    return ea, eb
