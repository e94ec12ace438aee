"""Drive the numba stepper from a validated Case: Python runs only between output times
(and at boundary-stage switches).

Simulation(case).run() writes the HDF5 result file as the run goes; the file's status
says completed, failed (with node, composition, time and reason) or interrupted.  At
every output time (and when interrupted by Ctrl-C or SIGTERM) the complete stepper state
is stored in the file's /checkpoint group, so ``Simulation(case).run(path, resume=True)``
(``kinsim run --resume``) continues the run to the same result as an uninterrupted one.
Signals are deferred to safe points between kernel calls, so the state in the
checkpoint is always consistent.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import ConvergenceError, InputError, ResultFileError, ResultWriteError
from .grid import make_grid
from .kernels.codes import STATUS_TEXT
from .phase import load_phase
from .resources import check_memory, run_size

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


class _Stop(KeyboardInterrupt):
    """Raised at a safe point after SIGINT/SIGTERM arrived during a run."""


class Simulation:
    """One diffusion run of a Case."""

    def __init__(self, case):
        self.case = case
        th = case.thermo
        self.components = list(th.components)
        self.model = load_phase(th.database, th.phase, self.components, mobility=case.mobility.missing)
        cond = case.conditions
        self.T_table = cond.temperature_table
        if cond.schedule is None:
            self.model.check_temperature(cond.temperature, "conditions.temperature")
        else:
            for i, (t, T) in enumerate(cond.schedule):
                self.model.check_temperature(T, f"conditions.temperature[{i}] (the schedule at t = {t:g} s):")
        # the memory of the run's arrays, before any of them is made (kinsim.resources)
        self.size = check_memory(run_size(case, self.model.params))
        self.T = float(cond.temperature_at(0.0))
        self.grid = make_grid(case.grid)
        p = self.model.params
        self.n = len(self.components)
        self.subst = 1.0 - p.interstitial.astype(np.float64)
        self.x0 = self._initial_profile()
        self._check_compositions()
        self._ref_cache = {}
        self._switch_times = sorted({st.until for b in (case.boundary.left, case.boundary.right)
                                     for st in b.stages if st.until is not None})
        self.sim = self._sim_arrays(self._stage_index(0.0))

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
        cond = self.case.conditions
        rows = {(tuple(r), self.T, "the initial profile") for r in np.round(self.x0, 14)}
        for side in ("left", "right"):
            b = getattr(self.case.boundary, side)
            for j, st in enumerate(b.stages):
                if st.type != "fixed-composition":
                    continue
                where = f"boundary.{side}" + (f".stages[{j}]" if len(b.stages) > 1 else "") + ".composition"
                for t in st.times():
                    x = st.composition_at(t)
                    rows.add((tuple(self._vector(x, where)), float(cond.temperature_at(t)), where))
        rows = sorted(rows)
        X = np.array([r[0] for r in rows])
        for T in sorted({r[1] for r in rows}):
            idx = [i for i, r in enumerate(rows) if r[1] == T]
            res = self.model.equilibrium(X[idx, 1:], T, raise_on_failure=False)
            bad = np.flatnonzero(res.status != 0)
            if bad.size:
                i = idx[bad[0]]
                comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, X[i]))
                raise InputError(f"{rows[i][2]}: composition {comp} is not a valid {self.model.phase} state at "
                                 f"{T:g} K: {STATUS_TEXT.get(int(res.status[bad[0]]), res.status[bad[0]])}")

    def _to_u(self, x):
        s = (x * self.subst).sum(axis=-1, keepdims=True)
        return x / s

    def _to_x(self, u):
        return u / u.sum(axis=-1, keepdims=True)

    def _stage_index(self, t: float) -> tuple[int, int]:
        """The boundary stage of each side in force for steps ending after t."""
        out = []
        for b in (self.case.boundary.left, self.case.boundary.right):
            j = 0
            while b.stages[j].until is not None and t >= b.stages[j].until * (1.0 - 1e-14):
                j += 1
            out.append(j)
        return tuple(out)

    def _reference_table(self, phase: str, comp: str):
        """(T, G_ref(T)) of pure comp in phase over the run's temperatures (0.25 K steps)."""
        key = (phase, comp)
        if key not in self._ref_cache:
            from .thermo.tdb import reference_gibbs_energy

            Ts = np.array([T for _, T in self.T_table])
            lo, hi = float(Ts.min()), float(Ts.max())
            grid = np.array([lo]) if hi - lo < 1e-9 else np.linspace(lo, hi, int(np.ceil((hi - lo) / 0.25)) + 1)
            G = reference_gibbs_energy(self.case.thermo.database, phase, comp, grid)
            self._ref_cache[key] = (grid, G)
        return self._ref_cache[key]

    def _sim_arrays(self, stages=(0, 0)):
        from .kernels.codes import BC_ACTIVITY, BC_CLOSED, BC_COMPOSITION, BC_FLUX, BC_POTENTIAL
        from .kernels.flux import SimArrays

        case = self.case
        g = self.grid
        n = self.n
        N = g.z.shape[0]
        p = self.model.params
        scale = np.array([float(case.mobility.scale.get(c, 1.0)) for c in self.components])
        kinds = {"fixed-flux": BC_FLUX, "fixed-potential": BC_POTENTIAL, "fixed-activity": BC_ACTIVITY}
        bc_kind = np.zeros((2, n), dtype=np.int64)
        ptr = [0]
        tt, tv = [], []
        rptr = [0]
        rT, rG = [], []
        for s, side in enumerate(("left", "right")):
            st = getattr(case.boundary, side).stages[stages[s]]
            for k, c in enumerate(self.components):
                table = ()
                ref = ()
                if st.type == "fixed-composition":
                    bc_kind[s, k] = BC_COMPOSITION
                    table = st.values.get(c, ())
                elif st.type != "closed" and c in st.values:
                    bc_kind[s, k] = kinds[st.type]
                    table = st.values[c]
                    if st.type == "fixed-activity":
                        ref = self._reference_table(st.reference[c], c)
                else:
                    bc_kind[s, k] = BC_CLOSED
                for t, v in table:
                    tt.append(t)
                    tv.append(v)
                ptr.append(len(tt))
                if ref:
                    rT.extend(ref[0])
                    rG.extend(ref[1])
                rptr.append(len(rT))
        pots = case.potentials
        E = len(pots)
        faces = np.asarray(g.faces, dtype=float)
        phi_node = np.zeros((E, N))
        phi_bnd = np.zeros((E, 2))
        phi_ptr = [0]
        phi_tt, phi_tv = [], []
        for e, pt in enumerate(pots):
            phi_node[e] = pt.phi(g.z)
            phi_bnd[e] = pt.phi(np.array([faces[0], faces[-1]]))
            for t, v in pt.time:
                phi_tt.append(t)
                phi_tv.append(v)
            phi_ptr.append(len(phi_tt))
        if not np.all(np.isfinite(phi_node)) or not np.all(np.isfinite(phi_bnd)):
            raise InputError("potential: the external potential is not finite everywhere on the grid")
        cross_form = 0
        cross = np.zeros((n, n))
        if case.onsager is not None:
            cross_form = 1 if case.onsager.form == "absolute" else 2
            cross = np.array(case.onsager.matrix, dtype=float)
        f8 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float64))  # noqa: E731
        i8 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.int64))  # noqa: E731
        return SimArrays(
            z=f8(g.z), dz=f8(np.diff(g.z)), area=f8(g.area), volume=f8(g.volume), Vs=float(case.mobility.molar_volume),
            mob_scale=f8(scale), subst=f8(self.subst),
            T_tt=f8([t for t, _ in self.T_table]), T_tv=f8([T for _, T in self.T_table]),
            bc_kind=bc_kind, bc_ptr=i8(ptr), bc_tt=f8(tt if tt else [0.0]), bc_tv=f8(tv if tv else [0.0]),
            ref_ptr=i8(rptr), ref_T=f8(rT if rT else [0.0]), ref_G=f8(rG if rG else [0.0]),
            bc_dist=f8([g.z[0] - g.faces[0], g.faces[-1] - g.z[-1]]),
            bc_mu=np.zeros((2, n)), bc_L=np.zeros((2, n)), bc_u=np.zeros((2, n)), bc_val=np.zeros((2, n)),
            bc_Y=np.zeros((2, p.n_y)), bc_warm=np.zeros(2, dtype=np.int64),
            phi_species=i8([self.components.index(pt.species) for pt in pots]), phi_node=f8(phi_node),
            phi_bnd=f8(phi_bnd), phi_ptr=i8(phi_ptr), phi_tt=f8(phi_tt if phi_tt else [0.0]),
            phi_tv=f8(phi_tv if phi_tv else [0.0]), PHI=np.zeros((N, n)), PHIB=np.zeros((2, n)),
            cross_form=cross_form, cross=f8(cross))

    def parameters(self) -> dict:
        """The arrays the kernels use, for the result file."""
        out = {f"thermo_{k}": np.asarray(v) for k, v in self.model.params._asdict().items()
               if isinstance(v, np.ndarray)}
        out.update({f"sim_{k}": np.asarray(v) for k, v in self.sim._asdict().items()
                    if isinstance(v, np.ndarray) and k not in _WORK_ARRAYS})
        out["grid_faces"] = np.asarray(self.grid.faces)
        return out

    def marker_positions(self) -> np.ndarray:
        ini = self.case.initial
        if ini.type == "step":
            return np.array([float(ini.position)])
        g = self.grid
        return np.array([0.5 * (g.faces[0] + g.faces[-1])])

    def _targets(self):
        """(time, is_snapshot) of every output time and boundary-stage switch, in order."""
        snaps = set(float(t) for t in self.case.output.snapshots)
        times = sorted(snaps | set(self._switch_times))
        return [(t, t in snaps) for t in times]

    # ---------------------------------------------------------------- run
    def run(self, output=None, progress=True, resume=False, storage=None) -> RunSummary:
        """Run the case and write ``output``.  With ``resume``, continue the interrupted
        run stored in ``output`` from its checkpoint (see :func:`check_resumable`).
        ``storage``: the class that stores the result, with the constructor and methods of
        :class:`~kinsim.storage.ResultWriter` (None: ResultWriter, the HDF5 file)."""
        from .kernels.codes import ADV_MAX_STEPS, ADV_REACHED, S_NEWTON, S_REJECTED, S_STEPS
        from .kernels.step import advance
        from .storage import ResultWriter, read_checkpoint

        store = (ResultWriter if storage is None else storage).sized(self.size)  # checks the room before writing

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
        dt_start = float(case.solver.initial_step) if case.solver.initial_step else max(duration * 1e-8, 1e-9)
        dt = dt_start
        max_steps_total = case.solver.max_steps or 10**9
        timings = {"compile": 0.0, "solve": 0.0, "io": 0.0}
        t = 0.0
        t_last_snapshot = -1.0
        if resume:
            ck = read_checkpoint(out_path, N, n, p.n_y, markers.shape[0])
            U[:] = ck["U"]
            Y[:] = ck["Y"]
            hist_U[:] = ck["hist_U"]
            hist_t[:] = ck["hist_t"]
            nhist[0] = int(ck["nhist"])
            markers[:] = ck["markers"]
            stats[:] = ck["stats"]
            t = float(ck["t"])
            dt = float(ck["dt"])
            t_last_snapshot = float(ck["t_last_snapshot"])
            self.sim = self._sim_arrays(self._stage_index(t))
            self.sim.bc_Y[:] = ck["bc_Y"]
            self.sim.bc_warm[:] = ck["bc_warm"]
            writer = store.reopen(out_path)
        else:
            self.sim = self._sim_arrays(self._stage_index(0.0))
            desc = self.model.desc
            extra = {"temperature_K": self.T, "molar_volume": float(case.mobility.molar_volume),
                     "temperature_schedule": json.dumps([list(r) for r in self.T_table]),
                     "mobility_substituted": json.dumps(desc.mobility_substituted),
                     "mobility_missing": json.dumps(desc.missing_mobility),
                     "database": str(case.thermo.database)}
            writer = store(out_path, components=self.components, z=g.z, faces=faces, phase=self.model.phase,
                           case_toml=case.to_toml(), title=case.title, n_markers=markers.shape[0],
                           mobility_policy=case.mobility.missing, extra_attrs=extra,
                           parameters=self.parameters(), extra_units={"temperature": "K", "potential": "J mol-1"})
        stage = self._stage_index(t)

        def checkpoint():
            writer.write_checkpoint(t=t, dt=dt, nhist=int(nhist[0]), t_last_snapshot=t_last_snapshot, U=U, Y=Y,
                                    hist_U=hist_U, hist_t=hist_t, markers=markers, stats=stats,
                                    bc_Y=self.sim.bc_Y, bc_warm=self.sim.bc_warm)

        def snapshot():
            t0 = time.perf_counter()
            extra = {"temperature": np.array(case.conditions.temperature_at(t))}
            if case.potentials:
                extra["potential"] = self.sim.PHI.copy()
            writer.append(t, self._to_x(U), MU, J, markers, extra=extra)
            timings["io"] += time.perf_counter() - t0

        bar = None
        status, reason = "failed", ""
        stop = {"signal": None}
        handlers = self._install_signal_handlers(stop)

        def check_stop():
            if stop["signal"] is not None:
                raise _Stop(stop["signal"])

        try:
            # kernels: compile or load from the disk cache (and the state at t)
            t0 = time.perf_counter()
            code, _, _ = advance(p, self.sim, faces, U, Y, hist_U, hist_t, nhist, t, t, dt,
                                 case.solver.rtol, case.solver.atol, 1, explicit, markers, MU, Jp, J, stats)
            timings["compile"] = time.perf_counter() - t0
            if code != ADV_REACHED:
                self._fail(code, stats, U, t, at_start=True)
            if not resume:
                snapshot()
                t_last_snapshot = t
                checkpoint()
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=duration, unit="s", desc=f"{case.title[:40]}", leave=True, initial=t,
                           bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} s [{elapsed}<{remaining}] {postfix}")
            for t_out, is_snapshot in self._targets():
                if t_out <= t_last_snapshot or (not is_snapshot and t_out < t * (1.0 - 1e-14)):
                    continue
                while t < t_out * (1.0 - 1e-14):
                    check_stop()
                    if stats[S_STEPS] >= max_steps_total:
                        raise ConvergenceError(f"solver.max_steps = {max_steps_total} reached at t = {t:.6g} s")
                    t0 = time.perf_counter()
                    code, t_new, dt_new = advance(p, self.sim, faces, U, Y, hist_U, hist_t, nhist, t, t_out, dt,
                                                  case.solver.rtol, case.solver.atol,
                                                  min(_PROGRESS_STEPS, max_steps_total - stats[S_STEPS]),
                                                  explicit, markers, MU, Jp, J, stats)
                    timings["solve"] += time.perf_counter() - t0
                    if bar is not None:
                        bar.update(t_new - t)
                        bar.set_postfix_str(f"steps={stats[S_STEPS]} rejected={stats[S_REJECTED]} dt={dt_new:.3g} s")
                    t, dt = t_new, dt_new
                    if code not in (ADV_REACHED, ADV_MAX_STEPS):
                        self._fail(code, stats, U, t)
                check_stop()
                if is_snapshot and t_out > t_last_snapshot:
                    snapshot()
                    t_last_snapshot = t
                new_stage = self._stage_index(t)
                if new_stage != stage:
                    # a boundary condition switches: new boundary arrays, restart the
                    # multistep history (BE) with a small step
                    stage = new_stage
                    self.sim = self._sim_arrays(stage)
                    nhist[0] = 1
                    hist_U[0] = U
                    hist_t[0] = t
                    dt = dt_start
                    code, _, _ = advance(p, self.sim, faces, U, Y, hist_U, hist_t, nhist, t, t, dt,
                                         case.solver.rtol, case.solver.atol, 1, explicit, markers, MU, Jp, J, stats)
                    if code != ADV_REACHED:
                        self._fail(code, stats, U, t)
                checkpoint()
            status, reason = "completed", f"reached t = {duration:g} s"
            writer.set_status("completed", reason, steps=int(stats[S_STEPS]), rejected_steps=int(stats[S_REJECTED]),
                              newton_iterations=int(stats[S_NEWTON]))
        except (ConvergenceError, InputError, ResultWriteError) as exc:
            writer.set_status("failed", str(exc), steps=int(stats[S_STEPS]), rejected_steps=int(stats[S_REJECTED]),
                              time=float(t), **getattr(exc, "info", {}))
            raise
        except KeyboardInterrupt as exc:
            status = "interrupted"
            sig = exc.args[0] if isinstance(exc, _Stop) and exc.args else signal.SIGINT
            name = signal.Signals(sig).name if isinstance(sig, int) else str(sig)
            reason = f"interrupted by {name} at t = {t:.6g} s; resume with: kinsim run --resume {out_path}"
            if isinstance(exc, _Stop):  # raised at a safe point: the state is consistent
                checkpoint()
            writer.set_status("interrupted", reason, steps=int(stats[S_STEPS]), time=float(t))
            raise
        finally:
            self._restore_signal_handlers(handlers)
            if bar is not None:
                bar.close()
            writer.set_timings(**timings)
            writer.close()
        return RunSummary(status, reason, out_path, int(stats[S_STEPS]), int(stats[S_REJECTED]), int(stats[S_NEWTON]),
                          N, float(t), timings)

    @staticmethod
    def _install_signal_handlers(stop):
        """Defer SIGINT/SIGTERM to safe points of the run loop (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        old = {}

        def handler(signum, frame):
            if stop["signal"] is not None:  # a second signal: stop now
                raise KeyboardInterrupt(signum)
            stop["signal"] = signum

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # pragma: no cover
                pass
        return old

    @staticmethod
    def _restore_signal_handlers(old):
        for sig, h in (old or {}).items():
            try:
                signal.signal(sig, h)
            except (ValueError, OSError):  # pragma: no cover
                pass

    def _fail(self, code, stats, U, t, at_start=False):
        from .kernels.codes import (ADV_BOUNDARY_FAILED, ADV_DT_UNDERFLOW, ADV_NODE_FAILED, ADV_T_RANGE, S_FAIL_NODE,
                                    S_FAIL_STATUS)
        from .kernels.codes import STATUS_ONSAGER

        T = self.case.conditions.temperature_at(t)
        if code == ADV_NODE_FAILED:
            i = int(stats[S_FAIL_NODE])
            x = self._to_x(U[i])
            comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, x))
            why = STATUS_TEXT.get(int(stats[S_FAIL_STATUS]), f"status {stats[S_FAIL_STATUS]}")
            msg = f"{why} at node {i} (z = {self.grid.z[i]:.6g} m; {comp}) at t = {t:.6g} s, T = {T:g} K"
            if at_start and int(stats[S_FAIL_STATUS]) == STATUS_ONSAGER:
                raise InputError(f"onsager.matrix: {msg}; reduce the cross terms (or use form = 'relative')")
            exc = ConvergenceError(msg)
            exc.info = {"node": i, "z": float(self.grid.z[i]), "composition": comp, "reason": why}
            raise exc
        if code == ADV_BOUNDARY_FAILED:
            side = "left" if int(stats[S_FAIL_NODE]) == 0 else "right"
            msg = (f"boundary.{side}: the fixed boundary composition is not a valid {self.model.phase} state at "
                   f"t = {t:.6g} s, T = {T:g} K")
            if at_start:
                raise InputError(msg)
            exc = ConvergenceError(msg)
            exc.info = {"reason": msg}
            raise exc
        if code == ADV_T_RANGE:
            raise ConvergenceError(f"temperature {T:g} K at t = {t:.6g} s is outside the database's range")
        if code == ADV_DT_UNDERFLOW:
            why = "time step underflow: the implicit solver cannot converge"
            i = int(stats[S_FAIL_NODE])
            if 0 <= i < U.shape[0]:
                x = self._to_x(U[i])
                comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, x))
                exc = ConvergenceError(f"{why}; the largest Newton correction at node {i} (z = {self.grid.z[i]:.6g} m; "
                                       f"{comp}) at t = {t:.6g} s, T = {T:g} K")
                exc.info = {"node": i, "z": float(self.grid.z[i]), "composition": comp, "reason": why}
                raise exc
            exc = ConvergenceError(f"{why} at t = {t:.6g} s, T = {T:g} K")
            exc.info = {"reason": why}
            raise exc
        raise ConvergenceError(f"stepper returned code {code} at t = {t:.6g} s")


# work arrays of SimArrays (state, not parameters): not stored under /parameters
_WORK_ARRAYS = frozenset({"bc_mu", "bc_L", "bc_u", "bc_val", "bc_Y", "bc_warm", "PHI", "PHIB"})


def check_resumable(path, case=None):
    """The Case of the interrupted run in result file ``path`` (for ``kinsim run --resume``).

    With ``case``, the file must come from the same case (the output file name aside).
    Raises ResultFileError for a file that is not resumable (completed, failed, no
    checkpoint) or comes from another case."""
    import tomllib

    from .case import parse_case
    from .storage import read_result

    r = read_result(path)
    if r.status == "completed":
        raise ResultFileError(f"{path}: the run already completed; nothing to resume")
    if r.status == "failed":
        raise ResultFileError(f"{path}: the run failed ({r.attrs.get('stop_reason', '')}); a failed run cannot be "
                              "resumed: change the case and run it again")
    try:
        stored = parse_case(tomllib.loads(r.case_toml), path)
    except Exception as exc:  # noqa: BLE001 - any problem with the stored case text
        raise ResultFileError(f"{path}: the case stored in the result file cannot be read: {exc}") from None
    if case is not None:
        a = case.to_dict()
        b = stored.to_dict()
        a["output"].pop("file", None)
        b["output"].pop("file", None)
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ResultFileError(f"{path} is a result of another case (it differs in {', '.join(diff)}); resume it "
                                  f"without a case file, or with the case it was run from")
    return stored
