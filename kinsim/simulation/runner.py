"""Drive the numba stepper from a validated Case: Python runs only between output times
(and at boundary-stage switches).

Simulation(case).run() writes the result as the run goes (an HDF5 file by default, or
any store with ResultWriter's interface); its status says completed, failed (with node,
composition, time and reason) or interrupted.  At every output time (and when
interrupted by Ctrl-C or SIGTERM) the complete stepper state is stored as the
checkpoint, so ``Simulation(case).run(path, resume=True)`` (``kinsim run --resume``)
continues the run to the same result as an uninterrupted one.  Signals are deferred to
safe points between kernel calls, so the state in the checkpoint is always consistent.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._jit import RepeatedCall, needs_compile
from ..case.boundary import stage_key
from ..errors import ConvergenceError, InputError, ResultWriteError, StabilityWarning
from ..grid import make_grid
from ..homogenization import HomogenizationModel
from ..kernels.codes import ADV_MAX_STEPS, ADV_REACHED, S_NEWTON, S_REJECTED, S_STEPS, STATUS_TEXT
from ..kernels.evaluate import Problem
from ..kernels.kkt import equilibrium_batch, minimise_flag
from ..kernels.nodes import scratch_gibbs
from ..kernels.step import advance, explicit_flag, is_referenced, stage_kernels, step_kernels, workspace
from ..phase import load_phase
from ..resources import check_memory, run_size
from ..spinodal import modes_of_case
from ..storage import ResultWriter, RunStore
from ..storage.reader import read_attribute
from . import precompile, setup
from .energy import FREE_ENERGY_UNITS, free_energy
from .failures import raise_failure
from .resume import restore_state
from .start_stability import (
    EndStability,
    RunStability,
    StabilityWatch,
    StartStability,
    check_candidates,
    check_end_stability,
    check_start_stability,
    start_compositions,
)

if TYPE_CHECKING:
    from ..kernels.regions import RegionProblem
    from ..phase import PhaseModel

_PROGRESS_STEPS = 400  # steps per kernel call between progress-bar updates
_CHECK_ROWS = 4096  # initial-profile nodes per equilibrium batch of Simulation.check_compositions


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
    """One diffusion run of a Case (of a case with regions: a
    :class:`~kinsim.simulation.regions.RegionSimulation`)."""

    def __new__(cls, case):
        if cls is Simulation and case.regions:
            from .regions import RegionSimulation

            cls = RegionSimulation
        return super().__new__(cls)

    def __init__(self, case):
        self.case = case
        th = case.thermo
        self.components = list(th.components)
        cond = case.conditions
        self.T = float(cond.temperature_at(0.0))
        self.multiphase = th.multiphase
        self.model: PhaseModel | HomogenizationModel
        if self.multiphase:  # several phases: the homogenization model
            self.model = HomogenizationModel(case, self.T)
            interstitial = self.model.interstitial
        else:
            self.model = load_phase(th.database, th.phase, self.components, mobility=case.mobility.missing)
            interstitial = self.model.params.interstitial
        if cond.schedule is None:
            self.model.check_temperature(cond.temperature, "conditions.temperature")
        else:
            for i, (t, T) in enumerate(cond.schedule):
                self.model.check_temperature(T, f"conditions.temperature[{i}] (the schedule at t = {t:g} s):")
        # the memory of the run's arrays, before any of them is made (kinsim.resources)
        self.size = check_memory(run_size(case, self.model.params))
        self.grid = make_grid(case.grid)
        self.n = len(self.components)
        self.subst = 1.0 - interstitial.astype(np.float64)
        self.x0 = np.ascontiguousarray(case.initial.profile(self.grid.z, self.grid.volume))
        if case.gradient is not None and interstitial.any():
            inter = [c for c, i in zip(self.components, interstitial) if i]
            raise InputError(
                f"gradient: {', '.join(inter)} {'is' if len(inter) == 1 else 'are'} interstitial in "
                f"{self.model.phase}; gradient energy is implemented for substitutional components "
                f"only"
            )
        check_candidates(case)
        self._references = setup.ReferenceTables(case)
        self._kernel_grid = setup.kernel_grid(self.grid)
        self._material = setup.material(case, self.subst)
        self._onsager = setup.onsager(case)
        self._schedules = setup.schedules(case, self.grid)
        self.problem = self._problem(setup.stage_index(case, 0.0))
        #: the gradient-energy model and its scratch (None without [gradient])
        self.gradient = setup.gradient(case, self.grid.z.shape[0], self.n)
        #: the scratch of the Newton solve on a periodic grid (None when the ends are not joined)
        self.cyclic = setup.cyclic(case, self.grid.z.shape[0], self.n)
        self._kernel_refs: tuple | None = None  # (fields, work, StepKernels): _step_kernels
        self._stepper = RepeatedCall()  # the stepper's calls of a run, without numba's dispatch

    # ---------------------------------------------------------------- set-up
    def _problem(self, stages) -> Problem | RegionProblem:
        """The kernel inputs of the given boundary stages (a fresh boundary state)."""
        return Problem(
            grid=self._kernel_grid,
            material=self._material,
            onsager=self._onsager,
            schedules=self._schedules,
            boundary=setup.boundary_params(self.case, stages, self._references),
            boundary_state=setup.boundary_state(self.n),
        )

    def check_compositions(self):
        """Every distinct initial/boundary composition must be a single-phase state; the
        first invalid one in the order of (temperature, composition, where) is reported.
        The initial profile is checked in blocks of :data:`_CHECK_ROWS` nodes, so that a
        profile of N distinct compositions (a table, a perturbation) takes no memory in
        proportion to N next to the run's arrays (``kinsim.resources`` does not count it)."""
        cond = self.case.conditions
        bad = []  # (T, composition, where, status) of the first invalid row of each batch
        for start in range(0, self.x0.shape[0], _CHECK_ROWS):
            # the block's distinct compositions, sorted (np.unique orders rows lexicographically)
            X = np.unique(np.round(self.x0[start : start + _CHECK_ROWS], 14), axis=0)
            res = self.model.equilibrium(X[:, 1:], self.T, raise_on_failure=False)
            wrong = np.flatnonzero(res.status != 0)
            if wrong.size:
                bad.append((self.T, tuple(float(v) for v in X[wrong[0]]), "the initial profile", res.status[wrong[0]]))
        distinct = set()
        for side in ("left", "right"):
            b = getattr(self.case.boundary, side)
            for j, st in enumerate(b.stages):
                if st.type != "fixed-composition":
                    continue
                where = stage_key(side, b.stages, j, "composition")
                for t in st.times():
                    x = st.composition_at(t)
                    distinct.add((tuple(float(x[c]) for c in self.components), float(cond.temperature_at(t)), where))
        rows = sorted(distinct)
        X = np.array([r[0] for r in rows])
        for T in sorted({r[1] for r in rows}):
            idx = [i for i, r in enumerate(rows) if r[1] == T]
            res = self.model.equilibrium(X[idx, 1:], T, raise_on_failure=False)
            wrong = np.flatnonzero(res.status != 0)
            if wrong.size:
                i = idx[wrong[0]]
                bad.append((T, rows[i][0], rows[i][2], res.status[wrong[0]]))
        if bad:
            T, x, where, status = min(bad, key=lambda b: b[:3])
            comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, x))
            raise InputError(
                f"{where}: composition {comp} is not a valid {self.model.phase} state at "
                f"{T:g} K: {STATUS_TEXT.get(int(status), status)}"
            )

    def check_stability(self, warn: bool = True) -> StartStability | None:
        """The stability check of the starting compositions (None when the case turns it
        off); with ``warn`` each unstable or unchecked phase is also a
        :class:`StabilityWarning` (``warn_stability``).  In a run of several phases (the
        homogenization model) the nodes are local equilibria of thermo.phases: the
        database's other phases (or thermo.candidates) are checked at its potentials."""
        g = self.grid
        phases = self.model.phases if isinstance(self.model, HomogenizationModel) else None
        report = check_start_stability(self.case, start_compositions(self.case, self.x0, g.z, g.faces), phases)
        if warn:
            self.warn_stability(report)
        return report

    def check_end_stability(self, t: float, x, mu, state, watch=None) -> EndStability | None:
        """The stability check of the final state (the last snapshot's x and mu at t; the
        stepper's ``state`` at t): the start check's candidates at every node's potentials
        (:func:`kinsim.simulation.start_stability.check_end_stability`); with ``watch`` (a
        StabilityWatch), of a state the run stores as it goes."""
        if isinstance(self.model, HomogenizationModel):
            return check_end_stability(self.case, t, self.grid.z, x, mu, phases=self.model.phases, watch=watch)
        return check_end_stability(self.case, t, self.grid.z, x, mu, model=self.model, watch=watch)

    @staticmethod
    def warn_stability(report: StartStability | None, stacklevel: int = 3) -> None:
        """One :class:`StabilityWarning` per unstable or unchecked phase of the report,
        attributed to the frame ``stacklevel`` - 1 above the caller (the default: the
        caller's caller)."""
        for message in report.messages() if report is not None else []:
            warnings.warn(message, StabilityWarning, stacklevel=stacklevel)

    def parameters(self) -> dict:
        """The arrays the kernels use, for the result file (with several phases: the phase
        set's as phases_*, the homogenization model's as homogenization_*, and
        thermo_interstitial per component)."""
        problem = self.problem
        assert isinstance(problem, Problem), "a RegionSimulation lists its own parameters"
        if not isinstance(self.model, HomogenizationModel):
            return setup.parameters(self.model.params, problem)
        out = setup.run_parameters(problem)
        out.update(self.model.parameters())
        out["thermo_interstitial"] = self.model.interstitial  # per component, as one phase's (kinsim.analysis)
        return out

    @property
    def phase_label(self) -> str:
        """The phase (or phases) of the specimen, as the result file and messages name it."""
        return self.model.phase

    # ---------------------------------------------------------------- the stepper
    # (what a model of the specimen provides to the run loop; kinsim.simulation.regions
    # provides the moving-boundary model's)
    def _stepper_arrays(self):
        """(state, fields, work): the stepper state at t = 0, the fields the kernels fill
        and their scratch."""
        N, n = self.grid.z.shape[0], self.n
        p = self.model.params
        return setup.initial_state(self.case, self.grid, self.x0, self.subst, p), setup.fields(N, n), workspace(p, N, n)

    def _advance_call(self, state, fields, work, t_target: float, max_steps: int):
        """(the stepper kernel, its arguments) that advance ``state`` to ``t_target``."""
        solver = self.case.solver
        return advance, (
            self.model.params,
            self.problem,
            state,
            fields,
            work,
            t_target,
            solver.rtol,
            solver.atol,
            max_steps,
            explicit_flag(solver.method),
            self.gradient,
            self.cyclic,
            self._step_kernels(state, fields, work),
        )

    def _step_kernels(self, state, fields, work):
        """The kernels ``advance`` calls through references (``step_kernels``), made once
        per run's arrays: their types do not change between output times (a stage's
        problem has the same types), and the references keep their compiled addresses."""
        made = self._kernel_refs
        if made is None or made[0] is not fields or made[1] is not work:
            made = (fields, work, step_kernels(self.model.params, self.problem, fields, work, self.cyclic))
            self._kernel_refs = made
        return made[2]

    def _stage_kernels(self, state, fields, work) -> list:
        """The kernels the stepper calls besides the node equilibrium, each as (kernel,
        arguments), those it calls through kernel references last (``stage_kernels``):
        what ``kinsim.simulation.precompile`` compiles ahead."""
        return stage_kernels(self.model.params, self.problem, state, fields, work, self.gradient, self.cyclic)

    @staticmethod
    def _is_referenced(kernel) -> bool:
        """Whether the stepper calls ``kernel`` (of ``_stage_kernels``) through a kernel
        reference rather than linking it."""
        return is_referenced(kernel)

    def _advance(self, state, fields, work, t_target: float, max_steps: int) -> int:
        """Advance ``state`` towards ``t_target`` by at most ``max_steps`` steps; an ADV_* code."""
        kernel, args = self._advance_call(state, fields, work, t_target, max_steps)
        return self._stepper(kernel, args)

    def _restart_history(self, state) -> None:
        """Restart the multistep history at the state's time (backward Euler) with a small
        step, after a boundary condition switched (a cold start of a fixed boundary
        composition)."""
        state.bc_Y[:] = 0.0
        state.bc_warm[:] = 0
        state.nhist[0] = 1
        state.hist_U[0] = state.U
        state.hist_t[0] = state.t[0]
        state.dt[0] = setup.initial_dt(self.case)

    def _snapshot(self, state, fields, work) -> tuple:
        """(x, mu, flux, markers, extra arrays) of the state for the result; with several
        phases also the phase fractions and compositions of the node states."""
        case = self.case
        g = self.grid
        gradient = self.gradient
        x = setup.to_x(state.U)
        # the molar Gibbs energy of a node: its phase's GM, or that of its multiphase
        # equilibrium, sum_k x_k mu_k
        GM = (x * fields.MU).sum(axis=1) if self.multiphase else scratch_gibbs(work.nodes)
        extra = {
            "temperature": np.array(case.conditions.temperature_at(float(state.t[0]))),
            "free_energy": np.array(
                free_energy(
                    g,
                    float(case.mobility.molar_volume),
                    state.U,
                    GM,
                    None if gradient is None else gradient.kappa,
                    case.boundary.left.type == "periodic",
                )
            ),
        }
        if case.potentials:
            extra["potential"] = fields.PHI.copy()
        if gradient is not None:
            extra["gradient_potential"] = gradient.psi.copy()
        if isinstance(self.model, HomogenizationModel):
            extra["phase_fraction"], extra["phase_composition"] = self.model.phase_outputs(state.Y)
        return x, fields.MU, fields.J, state.markers, extra

    def _raise_failure(self, code, state, at_start=False):
        """Raise the exception of an ``advance`` return code other than ADV_REACHED / ADV_MAX_STEPS."""
        t = float(state.t[0])
        T = self.case.conditions.temperature_at(t)
        raise_failure(
            code,
            state.stats,
            state.U,
            t,
            components=self.components,
            z=self.grid.z,
            phase=self.model.phase,
            T=T,
            at_start=at_start,
            unstable_direction=lambda i: self._unstable_direction(state.U[i], T),
        )

    def _writer_arguments(self, state) -> dict:
        """The description of the run for its result store (ResultWriter's arguments)."""
        case = self.case
        g = self.grid
        desc = self.model.desc
        extra = {
            "temperature_K": self.T,
            "molar_volume": float(case.mobility.molar_volume),
            "temperature_schedule": json.dumps([list(r) for r in case.conditions.temperature_table]),
            "mobility_substituted": json.dumps(desc.mobility_substituted),
            "mobility_missing": json.dumps(desc.missing_mobility),
            "database": str(case.thermo.database),
        }
        if case.gradient is not None:
            extra["gradient_kappa"] = json.dumps([list(r) for r in case.gradient.kappa])
            w = g.volume[:, None]
            modes = modes_of_case(self.model, case, (self.x0 * w).sum(axis=0) / w.sum(), self.T)
            if modes is not None:
                extra.update(modes.to_attrs())
        units = {
            "temperature": "K",
            "potential": "J mol-1",
            "free_energy": FREE_ENERGY_UNITS[g.geometry],
            "gradient_potential": "J mol-1",
        }
        if isinstance(self.model, HomogenizationModel):
            extra["phase_sets"] = self.model.set_names
            units.update(phase_fraction="1", phase_composition="1")
        return dict(
            components=self.components,
            z=g.z,
            faces=np.ascontiguousarray(g.faces),
            phase=self.phase_label,
            case_toml=case.to_toml(),
            title=case.title,
            n_markers=state.markers.shape[0],
            mobility_policy=case.mobility.missing,
            extra_attrs=extra,
            parameters=self.parameters(),
            extra_units=units,
        )

    def _check_start(self, announce: bool, resume: bool):
        """The checks of the starting compositions, before the run's arrays exist (their
        temporaries do not add to the run's peak memory): every composition a valid state
        of the phase, then (not on resume) the stability check, warned about once the start
        is accepted.  On a cold cache the equilibrium kernel compiles here: say so on stderr
        when ``announce``, and have a helper process compile the stepper's other kernels
        meanwhile (``kinsim.simulation.precompile``).  Returns (the stability check or
        None, seconds of the composition check, seconds of the stability check, whether the
        compile notice was printed, the helper process or None)."""
        check = (
            self.model.kernel_check()
            if isinstance(self.model, HomogenizationModel)
            else (equilibrium_batch, _equilibrium_arguments(self.model.params))
        )
        cold = needs_compile(check[0], *check[1])
        if announce and cold:
            print("kinsim: compiling kernels (first run only) ...", file=sys.stderr, flush=True)
        ahead = precompile.start(self.case) if cold else None
        try:
            t0 = time.perf_counter()
            self.check_compositions()
            t1 = time.perf_counter()
            stability = None if resume else self.check_stability(warn=False)
        except BaseException:
            if ahead is not None:
                ahead.stop()
            raise
        return stability, t1 - t0, time.perf_counter() - t1, announce and cold, ahead

    def _stepper_cold(self, state, fields, work) -> bool:
        """Whether loading the stepper for these arguments compiles it or a kernel it calls
        through a reference (neither in memory nor in numba's disk cache).  The arguments
        are typed once per run: ``RepeatedCall.types`` keeps the types the stepper then
        loads with."""
        kernel, args = self._advance_call(state, fields, work, 0.0, 1)
        return needs_compile(kernel, *args, sig=self._stepper.types(kernel, args))

    def _reference_cold(self, state, fields, work) -> bool:
        """Whether the last kernel of the stepper's stage list, one it calls through a
        reference (its Newton step, or the moving regions' step attempt), is missing from
        numba's cache: with a cold stepper, a helper process can compile the one while
        the run compiles the other (``kinsim.simulation.precompile``)."""
        stages = self._stage_kernels(state, fields, work)
        return bool(stages) and self._is_referenced(stages[-1][0]) and needs_compile(stages[-1][0], *stages[-1][1])

    def _load_kernels(
        self, state, fields, work, announce: bool, cold: bool, announced: bool = False, seconds_before: float = 0.0
    ) -> float:
        """Load the stepper for this run's argument types and the kernels it calls through
        references (``_step_kernels``), from numba's disk cache or compiled; when ``cold``
        (``_stepper_cold``, asked before any helper compiled it) say so on stderr if
        ``announce`` (unless ``announced`` already).  Returns the seconds it took plus
        ``seconds_before``."""
        kernel, args = self._advance_call(state, fields, work, 0.0, 1)
        refs = self._step_kernels(state, fields, work)
        cold = announced or (announce and cold)
        if cold and not announced:
            print("kinsim: compiling kernels (first run only) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        self._stepper.load(kernel, args)  # and kept for the run's calls (the same argument objects)
        for ref in refs:  # (else the first call compiles them, after the notice)
            ref.compile()
        seconds = time.perf_counter() - t0 + seconds_before
        if cold:
            print(
                f"kinsim: kernels compiled in {seconds:.1f} s (kept in numba's disk cache)", file=sys.stderr, flush=True
            )
        return seconds

    # ---------------------------------------------------------------- run
    def run(self, output=None, progress=True, resume=False, storage=None) -> RunSummary:
        """Run the case and write ``output``.  With ``resume``, continue the interrupted
        run stored in ``output`` from its checkpoint (see :func:`check_resumable`).
        ``storage``: the class that stores the result, with ResultWriter's constructor,
        ``reopen`` and methods (None: ResultWriter, the HDF5 file); a
        :class:`~kinsim.storage.RunStore` gets the run's estimated size first
        (``RunStore.sized``), so that it refuses a result its disk or memory cannot hold."""
        try:
            return self._run(output, progress, resume, storage)
        finally:
            # the stepper's kernel references (_step_kernels) and its repeated call hold the
            # run's arrays: drop them however the run ends, so that they are freed when it returns (a result
            # held in memory is stacked afterwards, in their room)
            self._kernel_refs = None
            self._stepper.clear()

    def _run(self, output, progress, resume, storage) -> RunSummary:
        case = self.case
        writer_class = storage or ResultWriter
        if issubclass(writer_class, RunStore):  # kinsim's stores check the room for the run before they write
            writer_class = writer_class.sized(self.size)
        out_path = str(output or case.output.file)
        N = self.grid.z.shape[0]
        stability, t_check, t_stability, announced, ahead = self._check_start(progress, resume)
        try:
            state, fields, work = self._stepper_arrays()
            stats = state.stats
            duration = float(case.conditions.duration)
            max_steps_total = case.solver.max_steps or 10**9
            timings = {"compile": 0.0, "solve": 0.0, "io": 0.0}
            if not resume:
                timings["stability"] = t_stability
            if resume:
                restore_state(out_path, state)
            self.problem = self._problem(setup.stage_index(case, float(state.t[0])))
            t0 = time.perf_counter()
            stepper_cold = self._stepper_cold(state, fields, work)
            if ahead is None and stepper_cold and self._reference_cold(state, fields, work):
                # the node equilibrium was in numba's cache, the stepper is not: a helper
                # compiles it while this process compiles the kernels it calls through references
                if progress and not announced:
                    print("kinsim: compiling kernels (first run only) ...", file=sys.stderr, flush=True)
                    announced = True
                ahead = precompile.start(case)
            if ahead is not None:
                # the helper compiles the stepper and what it calls (this process shares the
                # work): load them from the cache
                ahead.wait(
                    self._advance_call(state, fields, work, 0.0, 1),
                    share=self._stage_kernels(state, fields, work),
                )
            timings["compile"] = self._load_kernels(
                state,
                fields,
                work,
                announce=progress,
                cold=stepper_cold,
                announced=announced,
                seconds_before=t_check + time.perf_counter() - t0,
            )
        finally:
            if ahead is not None:
                ahead.stop()
        # the stability of the stored states as the run goes (the start check covers t = 0,
        # the end check the final state); a resumed run's so far from its file
        so_far = read_attribute(out_path, "stability_run") if resume else None  # (not the file's arrays)
        watch = StabilityWatch(RunStability.from_attribute(so_far))
        if resume:
            writer = writer_class.reopen(out_path)
        else:
            args = self._writer_arguments(state)
            args["extra_attrs"]["stability"] = "null" if stability is None else stability.to_json()
            writer = writer_class(out_path, **args)
        stage = setup.stage_index(case, float(state.t[0]))

        def checkpoint():
            report = run_report()
            if report != kept:  # the stability of the states so far, with the state it is of
                writer.set_status("running", "", **report)
                kept.update(report)
            writer.write_checkpoint(**state._asdict())

        last: dict = {}  # the last snapshot's t, x and mu (the end check: the final state's)
        timings.setdefault("stability_run", 0.0)
        kept: dict = {}  # the stability_run attribute last written

        def snapshot():
            t0 = time.perf_counter()
            t = float(state.t[0])
            x, mu, flux, markers, extra = self._snapshot(state, fields, work)
            writer.append(t, x, mu, flux, markers, extra=extra)
            last.update(t=t, x=x, mu=mu)
            state.t_last_snapshot[0] = t
            timings["io"] += time.perf_counter() - t0
            if case.thermo.check == "states" and 0.0 < t < duration * (1.0 - 1e-14):
                t0 = time.perf_counter()
                watch.add(self.check_end_stability(t, x, mu, state, watch), t)
                timings["stability_run"] += time.perf_counter() - t0

        def run_report() -> dict:
            """The stability of the states so far, for the result file's attributes."""
            return {"stability_run": "null" if watch.report is None else watch.report.to_json()}

        def fail(code, at_start=False):
            self._raise_failure(code, state, at_start)

        def evaluate_now():
            """The fields of the state at its time (no step)."""
            return self._advance(state, fields, work, float(state.t[0]), 1)

        bar = None
        end = None  # the check of the final state (warned about after the progress bar)
        status, reason = "failed", ""
        stop = {"signal": None}
        handlers = self._install_signal_handlers(stop)

        def check_stop():
            if stop["signal"] is not None:
                raise _Stop(stop["signal"])

        try:
            t0 = time.perf_counter()
            code = evaluate_now()
            timings["compile"] += time.perf_counter() - t0
            if code != ADV_REACHED:
                fail(code, at_start=True)  # a refused start is one error, without the stability warnings
            self.warn_stability(stability, stacklevel=4)  # the caller of run(), above _run
            if not resume:
                snapshot()
                checkpoint()
            if progress:
                from tqdm import tqdm  # only for a progress bar (its import costs a tenth of a second)

                bar = tqdm(
                    total=duration,
                    unit="s",
                    desc=f"{case.title[:40]}",
                    leave=True,
                    initial=float(state.t[0]),
                    bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} s [{elapsed}<{remaining}] {postfix}",
                )
            for t_out, is_snapshot in setup.output_targets(case):
                if t_out <= state.t_last_snapshot[0] or (not is_snapshot and t_out < state.t[0] * (1.0 - 1e-14)):
                    continue
                while state.t[0] < t_out * (1.0 - 1e-14):
                    check_stop()
                    if stats[S_STEPS] >= max_steps_total:
                        raise ConvergenceError(
                            f"solver.max_steps = {max_steps_total} reached at t = {state.t[0]:.6g} s"
                        )
                    t_before = float(state.t[0])
                    t0 = time.perf_counter()
                    code = self._advance(
                        state, fields, work, t_out, min(_PROGRESS_STEPS, max_steps_total - stats[S_STEPS])
                    )
                    timings["solve"] += time.perf_counter() - t0
                    if bar is not None:
                        bar.update(state.t[0] - t_before)
                        bar.set_postfix_str(
                            f"steps={stats[S_STEPS]} rejected={stats[S_REJECTED]} dt={state.dt[0]:.3g} s"
                        )
                    if code not in (ADV_REACHED, ADV_MAX_STEPS):
                        fail(code)
                check_stop()
                if is_snapshot and t_out > state.t_last_snapshot[0]:
                    snapshot()
                new_stage = setup.stage_index(case, float(state.t[0]))
                if new_stage != stage:
                    # a boundary condition switches: new boundary arrays (a cold start of a
                    # fixed boundary composition), restart the multistep history (backward
                    # Euler) with a small step
                    stage = new_stage
                    self.problem = self._problem(stage)
                    self._restart_history(state)
                    code = evaluate_now()
                    if code != ADV_REACHED:
                        fail(code)
                checkpoint()
            status, reason = "completed", f"reached t = {duration:g} s"
            t0 = time.perf_counter()
            if last.get("t") != float(state.t[0]):  # the end is no snapshot, or a resumed run's was before
                x, mu = self._snapshot(state, fields, work)[:2]
                last.update(t=float(state.t[0]), x=x, mu=mu)
            end = self.check_end_stability(last["t"], last["x"], last["mu"], state)
            watch.add(end, last["t"])
            timings["stability_end"] = time.perf_counter() - t0
            writer.set_status(
                "completed",
                reason,
                steps=int(stats[S_STEPS]),
                rejected_steps=int(stats[S_REJECTED]),
                newton_iterations=int(stats[S_NEWTON]),
                stability_end="null" if end is None else end.to_json(),
                **run_report(),
            )
        except (ConvergenceError, InputError, ResultWriteError) as exc:
            writer.set_status(
                "failed",
                str(exc),
                steps=int(stats[S_STEPS]),
                rejected_steps=int(stats[S_REJECTED]),
                time=float(state.t[0]),
                **run_report(),
                **getattr(exc, "info", {}),
            )
            raise
        except KeyboardInterrupt as exc:
            status = "interrupted"
            sig = exc.args[0] if isinstance(exc, _Stop) and exc.args else signal.SIGINT
            name = signal.Signals(sig).name if isinstance(sig, int) else str(sig)
            reason = f"interrupted by {name} at t = {state.t[0]:.6g} s; resume with: kinsim run --resume {out_path}"
            if isinstance(exc, _Stop):  # raised at a safe point: the state is consistent
                checkpoint()
            writer.set_status("interrupted", reason, steps=int(stats[S_STEPS]), time=float(state.t[0]), **run_report())
            raise
        finally:
            self._restore_signal_handlers(handlers)
            if bar is not None:
                bar.close()
            writer.set_timings(**timings)
            writer.close()
        self.warn_stability(end, stacklevel=4)  # the caller of run(), above _run
        if watch.report is not None:  # what the states before the end add to the end check
            self.warn_stability(watch.report.beyond(end), stacklevel=4)
        return RunSummary(
            status,
            reason,
            out_path,
            int(stats[S_STEPS]),
            int(stats[S_REJECTED]),
            int(stats[S_NEWTON]),
            N,
            float(state.t[0]),
            timings,
        )

    def _unstable_direction(self, u, T):
        """(the most negative eigenvalue of dmu_dx, J/mol, and its eigenvector over the
        independent mole fractions) at u-fractions u and T, or None if not computable."""
        x = setup.to_x(u)
        res = self.model.equilibrium(x[None, 1:], T, raise_on_failure=False)
        if res.status[0] != 0:
            return None
        H = res.dmu_dx[0]
        w, v = np.linalg.eigh(0.5 * (H + H.T))
        return float(w[0]), v[:, 0]

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


def _equilibrium_arguments(params) -> tuple:
    """Arrays with the argument types of every ``equilibrium_batch`` call (the phase
    model's and the node evaluation's): for the compile check."""
    n, K = params.n_comp, params.n_y
    return (
        params,
        np.zeros(1),
        np.zeros((1, n)),
        np.zeros((1, K)),
        np.zeros(1, dtype=np.int64),
        np.zeros((1, n)),
        np.zeros((1, n, n)),
        np.zeros((1, n - 1, n - 1)),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        minimise_flag(params),
    )
