"""Drive the numba stepper from a validated Case: Python runs only between output times.

Simulation(case).run() writes the HDF5 result file as the run goes; the file's status
says completed, failed (with node, composition, time and reason) or interrupted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import ConvergenceError, InputError
from .grid import make_grid
from .thermo import load_phase
from .thermo.params import STATUS_TEXT

_PROGRESS_STEPS = 400  # steps per kernel call between progress-bar updates


@dataclass
class RunSummary:
    status: str
    stop_reason: str
    output: str
    steps: int
    rejected: int
    newton: int
    nodes: int
    t_end: float
    timings: dict = field(default_factory=dict)


class Simulation:
    """One diffusion run of a Case."""

    def __init__(self, case):
        self.case = case
        th = case.thermo
        self.components = list(th.components)
        self.model = load_phase(th.database, th.phase, self.components, mobility=case.mobility.missing)
        T = case.conditions.temperature
        self.model.check_temperature(T, "conditions.temperature")
        self.T = float(T)
        self.grid = make_grid(case.grid)
        p = self.model.params
        self.n = len(self.components)
        self.subst = 1.0 - p.interstitial.astype(np.float64)
        self.x0 = self._initial_profile()
        self._check_compositions()
        self.sim = self._sim_arrays()

    # ---------------------------------------------------------------- set-up
    def _vector(self, comp: dict, where: str) -> np.ndarray:
        try:
            return np.array([float(comp[c]) for c in self.components])
        except KeyError as exc:
            raise InputError(f"{where}: no mole fraction for {exc.args[0]}") from None

    def _initial_profile(self) -> np.ndarray:
        ini = self.case.initial
        z = self.grid.z
        N = z.shape[0]
        if ini.type == "step":
            left = self._vector(ini.left, "initial.left")
            right = self._vector(ini.right, "initial.right")
            x = np.where((z < ini.position)[:, None], left[None, :], right[None, :])
        elif ini.type == "uniform":
            x = np.tile(self._vector(ini.composition, "initial.composition"), (N, 1))
        elif ini.type == "table":
            zt = np.asarray(ini.z, dtype=float)
            xt = np.asarray(ini.x, dtype=float)
            x = np.column_stack([np.interp(z, zt, xt[:, k]) for k in range(self.n)])
            x /= x.sum(axis=1, keepdims=True)
        else:  # validated in case.py
            raise InputError(f"initial.type {ini.type!r} is not supported")
        return np.ascontiguousarray(x)

    def _check_compositions(self):
        """Every distinct initial/boundary composition must be a single-phase state."""
        rows = {tuple(r) for r in np.round(self.x0, 14)}
        for side in ("left", "right"):
            b = getattr(self.case.boundary, side)
            if b.type == "fixed-composition":
                rows.add(tuple(self._vector(b.composition, f"boundary.{side}.composition")))
        X = np.array(sorted(rows))
        res = self.model.equilibrium(X[:, 1:], self.T, raise_on_failure=False)
        bad = np.flatnonzero(res.status != 0)
        if bad.size:
            i = bad[0]
            comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, X[i]))
            raise InputError(f"composition {comp} is not a valid {self.model.phase} state at {self.T:g} K: "
                             f"{STATUS_TEXT.get(int(res.status[i]), res.status[i])}")

    def _to_u(self, x):
        s = (x * self.subst).sum(axis=-1, keepdims=True)
        return x / s

    def _to_x(self, u):
        return u / u.sum(axis=-1, keepdims=True)

    def _boundary_state(self, comp):
        """mu, L' and u at a fixed boundary composition (one-node evaluation)."""
        from .kernels.flux import eval_nodes, node_scratch
        from .kernels.gibbs import eval_tfuncs

        p = self.model.params
        u = self._to_u(comp[None, :])
        fn = np.empty(p.fn_coef.shape[0])
        eval_tfuncs(self.T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef,
                    np.empty(p.basis_pow.shape[0]), fn)
        MU = np.zeros((1, self.n))
        DM = np.zeros((1, self.n, self.n - 1))
        L = np.zeros((1, self.n))
        Y = np.zeros((1, p.n_y))
        sim0 = self._sim_arrays(boundaries=False)
        st, _ = eval_nodes(p, fn, self.T, sim0, u, Y, False, MU, DM, L, node_scratch(p, 1))
        if st != 0:
            raise InputError(f"boundary composition {comp} is not a valid {self.model.phase} state")
        return MU[0], L[0], u[0]

    def _sim_arrays(self, boundaries=True):
        from .kernels.flux import SimArrays

        g = self.grid
        n = self.n
        scale = np.array([float(self.case.mobility.scale.get(c, 1.0)) for c in self.components])
        bc_type = np.zeros(2, dtype=np.int64)
        bc_mu = np.zeros((2, n))
        bc_L = np.zeros((2, n))
        bc_u = np.zeros((2, n))
        bc_dist = np.array([g.z[0] - g.faces[0], g.faces[-1] - g.z[-1]])
        sim = SimArrays(z=g.z, dz=np.ascontiguousarray(np.diff(g.z)), area=np.ascontiguousarray(g.area, dtype=float),
                        volume=np.ascontiguousarray(g.volume, dtype=float), Vs=float(self.case.mobility.molar_volume),
                        mob_scale=scale, subst=self.subst, bc_type=bc_type, bc_mu=bc_mu, bc_L=bc_L, bc_u=bc_u,
                        bc_dist=bc_dist)
        if not boundaries:
            return sim
        for s, side in enumerate(("left", "right")):
            b = getattr(self.case.boundary, side)
            if b.type == "fixed-composition":
                mu, L, u = self._boundary_state(self._vector(b.composition, f"boundary.{side}.composition"))
                bc_type[s] = 1
                bc_mu[s] = mu
                bc_L[s] = L
                bc_u[s] = u
        return sim

    def parameters(self) -> dict:
        """The arrays the kernels use, for the result file."""
        out = {f"thermo_{k}": np.asarray(v) for k, v in self.model.params._asdict().items()
               if isinstance(v, np.ndarray)}
        out.update({f"sim_{k}": np.asarray(v) for k, v in self.sim._asdict().items()
                    if isinstance(v, np.ndarray)})
        out["grid_faces"] = np.asarray(self.grid.faces)
        return out

    def marker_positions(self) -> np.ndarray:
        ini = self.case.initial
        if ini.type == "step":
            return np.array([float(ini.position)])
        g = self.grid
        return np.array([0.5 * (g.faces[0] + g.faces[-1])])

    # ---------------------------------------------------------------- run
    def run(self, output=None, progress=True) -> RunSummary:
        from .kernels.step import ADV_MAX_STEPS, ADV_REACHED, S_NEWTON, S_REJECTED, S_STEPS, advance
        from .storage import ResultWriter

        case = self.case
        out_path = str(output or case.output.file)
        g = self.grid
        N, n = g.z.shape[0], self.n
        p = self.model.params
        U = np.ascontiguousarray(self._to_u(self.x0))
        Y = np.zeros((N, p.n_y))
        hist_U = np.zeros((3, N, n))
        hist_U[0] = U
        hist_t = np.zeros(3)
        nhist = np.ones(1, dtype=np.int64)
        markers = self.marker_positions()
        MU = np.zeros((N, n))
        Jp = np.zeros((N + 1, n))
        J = np.zeros((N + 1, n))
        stats = np.zeros(5, dtype=np.int64)
        faces = np.ascontiguousarray(g.faces, dtype=float)
        explicit = case.solver.method == "explicit"
        duration = float(case.conditions.duration)
        dt = float(case.solver.initial_step) if case.solver.initial_step else max(duration * 1e-8, 1e-9)
        max_steps_total = case.solver.max_steps or 10**9
        timings = {"compile": 0.0, "solve": 0.0, "io": 0.0}
        desc = self.model.desc
        mob_policy = case.mobility.missing
        extra = {"temperature_K": self.T, "molar_volume": float(case.mobility.molar_volume),
                 "mobility_substituted": json.dumps(desc.mobility_substituted),
                 "mobility_missing": json.dumps(desc.missing_mobility),
                 "database": str(case.thermo.database)}
        writer = ResultWriter(out_path, components=self.components, z=g.z, faces=faces, phase=self.model.phase,
                              case_toml=case.to_toml(), title=case.title, n_markers=markers.shape[0],
                              mobility_policy=mob_policy, extra_attrs=extra, parameters=self.parameters())
        bar = None
        status, reason = "failed", ""
        try:
            # kernels: compile or load from the disk cache (and the state at t = 0)
            t0 = time.perf_counter()
            code, t, _ = advance(p, self.T, self.sim, faces, U, Y, hist_U, hist_t, nhist, 0.0, 0.0, dt,
                                 case.solver.rtol, case.solver.atol, 1, explicit, markers, MU, Jp, J, stats)
            timings["compile"] = time.perf_counter() - t0
            if code != ADV_REACHED:
                self._fail(code, stats, U, 0.0)
            t0 = time.perf_counter()
            writer.append(0.0, self._to_x(U), MU, J, markers)
            timings["io"] += time.perf_counter() - t0
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=duration, unit="s", desc=f"{case.title[:40]}", leave=True,
                           bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} s [{elapsed}<{remaining}] {postfix}")
            t = 0.0
            for t_out in case.output.snapshots:
                while t < t_out * (1.0 - 1e-14):
                    if stats[S_STEPS] >= max_steps_total:
                        raise ConvergenceError(f"solver.max_steps = {max_steps_total} reached at t = {t:.6g} s")
                    t0 = time.perf_counter()
                    code, t_new, dt = advance(p, self.T, self.sim, faces, U, Y, hist_U, hist_t, nhist, t, t_out, dt,
                                              case.solver.rtol, case.solver.atol,
                                              min(_PROGRESS_STEPS, max_steps_total - stats[S_STEPS]),
                                              explicit, markers, MU, Jp, J, stats)
                    timings["solve"] += time.perf_counter() - t0
                    if bar is not None:
                        bar.update(t_new - t)
                        bar.set_postfix_str(f"steps={stats[S_STEPS]} rejected={stats[S_REJECTED]} dt={dt:.3g} s")
                    t = t_new
                    if code not in (ADV_REACHED, ADV_MAX_STEPS):
                        self._fail(code, stats, U, t)
                t0 = time.perf_counter()
                writer.append(t, self._to_x(U), MU, J, markers)
                timings["io"] += time.perf_counter() - t0
            status, reason = "completed", f"reached t = {duration:g} s"
            writer.set_status("completed", reason, steps=int(stats[S_STEPS]), rejected_steps=int(stats[S_REJECTED]),
                              newton_iterations=int(stats[S_NEWTON]))
        except ConvergenceError as exc:
            writer.set_status("failed", str(exc), steps=int(stats[S_STEPS]), rejected_steps=int(stats[S_REJECTED]),
                              time=float(t), **getattr(exc, "info", {}))
            raise
        except KeyboardInterrupt:
            status, reason = "interrupted", "interrupted by the user (Ctrl-C or signal)"
            writer.set_status("interrupted", reason, steps=int(stats[S_STEPS]), time=float(t))
            raise
        finally:
            if bar is not None:
                bar.close()
            writer.set_timings(**timings)
            writer.close()
        return RunSummary(status, reason, out_path, int(stats[S_STEPS]), int(stats[S_REJECTED]), int(stats[S_NEWTON]),
                          N, float(t), timings)

    def _fail(self, code, stats, U, t):
        from .kernels.step import ADV_DT_UNDERFLOW, ADV_NODE_FAILED, ADV_T_RANGE, S_FAIL_NODE, S_FAIL_STATUS

        if code == ADV_NODE_FAILED:
            i = int(stats[S_FAIL_NODE])
            x = self._to_x(U[i])
            comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, x))
            why = STATUS_TEXT.get(int(stats[S_FAIL_STATUS]), f"status {stats[S_FAIL_STATUS]}")
            exc = ConvergenceError(f"{why} at node {i} (z = {self.grid.z[i]:.6g} m; {comp}) at t = {t:.6g} s, "
                                   f"T = {self.T:g} K")
            exc.info = {"node": i, "z": float(self.grid.z[i]), "composition": comp, "reason": why}
            raise exc
        if code == ADV_T_RANGE:
            raise ConvergenceError(f"temperature {self.T:g} K outside the database's range")
        if code == ADV_DT_UNDERFLOW:
            raise ConvergenceError(f"time step underflow at t = {t:.6g} s: the implicit solver cannot converge")
        raise ConvergenceError(f"stepper returned code {code} at t = {t:.6g} s")
