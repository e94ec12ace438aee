"""Is the phase of a run the stable state where the run starts?

At the start of a run, the distinct compositions of the initial profile and of the fixed
boundary compositions (:func:`start_compositions`) are checked against the database's
other phases, or the phases the case lists in ``thermo.candidates`` (``[]``: no check),
with :func:`kinsim.stability.stability_report`: the driving force (J/mol of atoms) of
each candidate, and of a second composition set of the phase itself (named
``PHASE#2``), at the chemical potentials of the phase's own equilibrium.  A candidate
whose largest driving force exceeds ``kinsim.stability.TOL_UNSTABLE * R T`` is reported
(:class:`StartStability`): a warning, the run goes on.  Phases that cannot be checked
(e.g. holding none of the components) are listed as not checked.

A run of several phases (the homogenization model) is checked at the potentials of the
local equilibrium of its phases, against the phases outside them
(:func:`kinsim.stability.multiphase_stability_report`); a run with regions (the
moving-boundary model) region by region, each as a one-phase run of its phase, against
the phases that are no region's.

The report is a pure function of the database file, the case's phases, components and
candidates, the starting compositions and kinsim's code, and is kept in kinsim's disk
cache (kinsim.thermo.cache) under a key of all of them: a warm run reads it instead of
loading the search kernels (about 0.3-0.5 s of a process).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple, Self

import numpy as np

from ..case.boundary import stage_key
from ..case.timetable import table_value
from ..errors import CaseError, ConvergenceError
from ..kernels.gibbs import R
from ..stability import TOL_UNSTABLE
from ..thermo.cache import CONVERTER_VERSION, cache_enabled, through_cache

CHECK_FORMAT = "1"  # the layout of a cached report (a pickled StartStability)


class StartCompositions(NamedTuple):
    """The distinct compositions a run starts from, as arrays (no Python object per node:
    a noisy initial profile has as many distinct compositions as nodes)."""

    x: np.ndarray  # (U, n) mole fractions of all components, reference first; sorted rows
    T: np.ndarray  # (U,) K
    where: np.ndarray  # (U,) int: index into labels
    labels: tuple  # "the initial profile" (or "region[r] (PHASE)"), "boundary.left.composition" ...
    z_first: np.ndarray  # (U,) m: first position of the nodes (or the face) that hold it
    z_last: np.ndarray  # (U,) m: last position
    part: np.ndarray  # (U,) int: the region whose phase holds it (0 in a run without regions)
    ends: tuple  # (left, right) m: the specimen's end faces (fixed-activity boundaries)


@dataclass
class UnstablePhase:
    """A candidate more stable than the run's phase somewhere at the start."""

    phase: str  # the candidate, or "PHASE#2" for a second composition set of the run's phase
    driving_force: float  # J/mol of atoms, the largest over the starting compositions
    composition: dict  # component -> mole fraction where it is largest
    z: tuple  # (first, last) position (m) of the nodes (or face) with that composition
    where: str
    T: float  # K


@dataclass
class StartStability:
    """The result of the check (stored in the result file's attribute ``stability`` as
    JSON, and as ``Result.stability``)."""

    phase: str
    checked: list  # the candidates checked, "PHASE#2" first (not with gradient energy: the model resolves it)
    not_checked: dict  # phase -> why it could not be checked
    unstable: list = field(default_factory=list)  # UnstablePhase, largest driving force first
    tolerance: str = f"{TOL_UNSTABLE:g} RT"

    @property
    def multiphase(self) -> bool:
        """Whether ``phase`` is the local equilibrium of several phases ("A+B": phase names
        hold no "+")."""
        return "+" in self.phase

    @property
    def regions(self) -> bool:
        """Whether ``phase`` names the regions' phases of a moving-boundary run ("A | B")."""
        return " | " in self.phase

    WHEN = "at the start"  # the state checked, as the messages say it (EndStability: the end)
    GOES = "goes"

    def messages(self) -> list[str]:
        """One line per unstable phase, then one per phase not checked."""
        out = []
        if self.multiphase:
            what = f"the equilibrium of {self.phase.replace('+', ', ')} is not the stable state"
            alone = "without {} (not in thermo.phases)"
        elif self.regions:
            what = f"a region's phase ({self.phase}) is not the stable one"
            alone = "without {} (no region's phase)"
        else:
            what, alone = f"{self.phase} is not the stable phase", f"with {self.phase} alone"
        for u in self.unstable:
            # no composition: a bound at a fixed-activity face (activity_bounds)
            comp = ", ".join(f"{c}={v:.6g}" for c, v in u.composition.items())
            at = f"of {u.driving_force:+.4g} J/mol at {comp}" if comp else f"of at least {u.driving_force:+.4g} J/mol"
            z = f"z = {u.z[0]:.6g} m" if u.z[0] == u.z[1] else f"z = {u.z[0]:.6g} to {u.z[1]:.6g} m"
            out.append(
                f"{what} {self.WHEN}: {u.phase} has a driving force {at} ({u.where}, {z}, T = {u.T:g} K)"
                f"{self._span(u)}; the run {self.GOES} on {alone.format(u.phase)}"
            )
        for p, why in self.not_checked.items():
            out.append(f"stability of {self.phase} not checked against {p}: {why}")
        return out

    def _span(self, u: UnstablePhase) -> str:
        """What a message adds after an unstable phase's place (RunStability: when)."""
        return ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Self:
        d = json.loads(text)
        d["unstable"] = [UnstablePhase(**{**u, "z": tuple(u["z"])}) for u in d["unstable"]]
        return cls(**d)


def start_compositions(
    case, x0: np.ndarray, z: np.ndarray, faces: np.ndarray, part=None, labels=None
) -> StartCompositions:
    """The distinct compositions a run starts from: of the initial profile x0 (N, n) at
    the nodes z and T(0) (rounded to 1e-14), and of every fixed-composition boundary stage
    at the face it holds and at the temperature of each time of its table.  ``part``: the
    region (0, 1, ...) of each node of a run with regions, named by ``labels``; the
    boundaries' rows belong to the first and the last region."""
    comps = list(case.components)
    cond = case.conditions
    if part is None:
        part, labels = np.zeros(x0.shape[0], dtype=np.int64), ["the initial profile"]
    labels = list(labels)
    keyed = np.column_stack([np.asarray(part, dtype=np.float64), np.round(x0, 14)])
    rows_, inverse = np.unique(keyed, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    xs, parts = rows_[:, 1:], rows_[:, 0].astype(np.int64)
    first = np.full(xs.shape[0], np.inf)
    last = np.full(xs.shape[0], -np.inf)
    np.minimum.at(first, inverse, z)
    np.maximum.at(last, inverse, z)
    rows = {}  # boundary rows: (x, T, label, part) -> face
    for side, face, owner in (("left", faces[0], 0), ("right", faces[-1], len(labels) - 1)):
        b = getattr(case.boundary, side)
        for j, st in enumerate(b.stages):
            if st.type != "fixed-composition":
                continue
            labels.append(stage_key(side, b.stages, j, "composition"))
            for t in st.times():
                x = st.composition_at(t)
                key = (tuple(float(x[c]) for c in comps), float(cond.temperature_at(t)), len(labels) - 1, owner)
                rows[key] = face
    bx = np.array([k[0] for k in rows]).reshape(-1, xs.shape[1])
    bz = np.array(list(rows.values()), dtype=float)
    return StartCompositions(
        x=np.concatenate([xs, bx]),
        T=np.concatenate([np.full(xs.shape[0], float(cond.temperature_at(0.0))), [k[1] for k in rows]]),
        where=np.concatenate([parts, np.array([k[2] for k in rows], dtype=np.int64)]),
        labels=tuple(labels),
        z_first=np.concatenate([first, bz]),
        z_last=np.concatenate([last, bz]),
        part=np.concatenate([parts, np.array([k[3] for k in rows], dtype=np.int64)]),
        ends=(float(faces[0]), float(faces[-1])),
    )


def check_candidates(case) -> None:
    """A CaseError when ``thermo.candidates`` names a phase the database does not have, or
    a region's phase."""
    from ..stability import database_phases

    th = case.thermo
    if not th.candidates:
        return
    known = database_phases(th.database)
    unknown = [p for p in th.candidates if p not in known]
    if unknown:
        raise CaseError(
            f"thermo.candidates: {', '.join(unknown)} not in {th.database.name} (its phases: {', '.join(known)})"
        )
    region_of = {s.phase: r for r, s in reversed(list(enumerate(case.regions)))}  # a phase's first region
    owned = [f"{p} (region[{region_of[p]}])" for p in th.candidates if p in region_of]
    if owned:
        raise CaseError(
            f"thermo.candidates: {', '.join(owned)} is a region's phase, which meets the others at an "
            "interface (candidates are the phases checked against the regions at the start)"
        )


def check_start_stability(case, rows: StartCompositions, phases=None, regions=None) -> StartStability | None:
    """Driving forces of the candidates at the starting compositions, through the disk
    cache; None when the case turns the check off (``thermo.candidates = []``).
    ``phases``: the :class:`kinsim.phaseset.PhaseSetModel` of a run of several phases
    (the homogenization model), whose local equilibrium gives the potentials; the phases
    outside it are checked.  ``regions``: the phase of each region of a moving-boundary
    run (``rows.part`` indexes it): each region's rows are checked as a one-phase run's,
    against the phases that are no region's (the others meet it at an interface)."""
    th = case.thermo
    if th.candidates is not None and not th.candidates:
        return None
    return through_cache(
        f"check-{check_key(case, rows, regions)}.pkl" if cache_enabled() else None,
        lambda: _check(case, rows, phases, regions),
        lambda got: isinstance(got, StartStability),
    )


@functools.cache
def _source_digest() -> bytes:
    """The sha256 of kinsim's own source files (about 4 ms): a cached report is made again
    after any change of the code."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.digest()


def check_key(case, rows: StartCompositions, regions=None) -> str:
    """The cache key of the start check of ``case`` at ``rows``: everything the report
    follows from."""
    th = case.thermo
    h = hashlib.sha256(f"start-check {CHECK_FORMAT}|{CONVERTER_VERSION}|".encode())
    h.update(_source_digest())
    h.update(Path(th.database).read_bytes())
    spec = (th.phase, tuple(th.phases), regions, tuple(case.components), th.candidates, case.gradient is not None)
    h.update(repr((spec, case.boundary.to_dict(), case.conditions)).encode())
    for a in (rows.x, rows.T, rows.where, rows.z_first, rows.z_last, rows.part):
        a = np.ascontiguousarray(a)
        h.update(f"|{a.dtype.str}:{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(repr((rows.labels, rows.ends)).encode())
    return h.hexdigest()[:32]


def _check(case, rows: StartCompositions, phases, regions) -> StartStability:
    """The check itself (``check_start_stability`` without the cache)."""
    from ..stability import multiphase_stability_report, stability_report  # the multiphase kernels: only when checking

    th = case.thermo
    comps = list(case.components)
    if regions is not None:
        label = " | ".join(regions)
    else:
        label = th.phase if phases is None else th.label
    best: dict[str, tuple[float, int]] = {}  # phase -> (driving force, row index)
    checked: list[str] = []
    not_checked: dict[str, str] = {}
    for T, part in sorted(set(zip(rows.T.tolist(), rows.part.tolist()))):
        group = np.flatnonzero((rows.T == T) & (rows.part == part))
        try:
            if regions is not None:
                others = [p for p in regions if p != regions[part]]
                rep = stability_report(
                    th.database, regions[part], comps, T, rows.x[group], th.candidates, others=others
                )
            elif phases is None:
                rep = stability_report(th.database, th.phase, comps, T, rows.x[group], th.candidates)
            else:
                rep = multiphase_stability_report(phases, th.database, T, rows.x[group], th.candidates)
        except ConvergenceError as exc:  # the check failed: say so, the run goes on
            return StartStability(
                label, checked, {**not_checked, "(the remaining phases)": str(exc)}, _unstable(best, comps, rows)
            )
        names = ([f"{rep.phase}#2"] if rep.own_set else []) + list(rep.checked[1 if rep.own_set else 0 :])
        # with gradient energy the run resolves a miscibility gap of its own phase (that is
        # the model): only the other phases can make it metastable
        first = 1 if case.gradient is not None and rep.own_set else 0
        checked += [p for p in names[first:] if p not in checked]
        not_checked.update(rep.skipped)
        tol = TOL_UNSTABLE * R * T
        for j, name in enumerate(names):
            if j < first:
                continue
            i = int(np.argmax(rep.driving_forces[:, j]))
            d = float(rep.driving_forces[i, j])
            if d > tol and d > best.get(name, (-np.inf,))[0]:
                best[name] = (d, int(group[i]))
    own = list(regions) if regions is not None else ([th.phase] if phases is None else list(th.phases))
    unstable = {u.phase: u for u in _unstable(best, comps, rows)}
    for u in activity_bounds(case, own, rows.ends):
        if u.driving_force > getattr(unstable.get(u.phase), "driving_force", -np.inf):
            unstable[u.phase] = u
    return StartStability(label, checked, not_checked, sorted(unstable.values(), key=lambda u: -u.driving_force))


def activity_bounds(case, own, ends) -> list:
    """The reference phases of fixed-activity boundaries that are more stable at the face
    than the run's phases: an activity a_k > 1 relative to a phase P (not one of ``own``,
    the run's phases, and among thermo.candidates when the case lists them) puts the
    face's mu_k above G of pure k in P, so P has a driving force of at least RT ln a_k
    there (the bound of P as pure k; UnstablePhase with no composition, at the face of
    ``ends``, the (left, right) end faces)."""
    th = case.thermo
    cond = case.conditions
    out: dict[str, UnstablePhase] = {}
    for side in ("left", "right"):
        b = getattr(case.boundary, side)
        for j, st in enumerate(b.stages):
            if st.type != "fixed-activity":
                continue
            where = stage_key(side, b.stages, j, "activity")
            for t in st.times():
                T = float(cond.temperature_at(t))
                for c, table in st.values.items():
                    a = float(table_value(table, t))
                    ref = st.reference[c]
                    if ref in own or (th.candidates is not None and ref not in th.candidates):
                        continue
                    d = R * T * float(np.log(a))
                    if d > TOL_UNSTABLE * R * T and d > getattr(out.get(ref), "driving_force", -np.inf):
                        face = ends[0] if side == "left" else ends[1]
                        out[ref] = UnstablePhase(ref, d, {}, (face, face), f"{where}: {c} = {a:g} against {ref}", T)
    return list(out.values())


def _unstable(best: dict, comps, rows: StartCompositions) -> list:
    """UnstablePhase entries, largest driving force first, from phase -> (driving force,
    row of ``rows``)."""
    return [
        UnstablePhase(
            p,
            d,
            {c: float(v) for c, v in zip(comps, rows.x[k])},
            (float(rows.z_first[k]), float(rows.z_last[k])),
            rows.labels[rows.where[k]],
            float(rows.T[k]),
        )
        for p, (d, k) in sorted(best.items(), key=lambda kv: -kv[1][0])
    ]


END_ROWS = 512  # nodes per batch of the end check: its scratch stays small next to the run's arrays


class EndStability(StartStability):
    """The check of a run's final state (stored in the result file's attribute
    ``stability_end``, ``Result.stability_end``): the same candidates as at the start, at
    the chemical potentials of every node at the end.  A profile that diffusion has moved
    into another phase field (carbon leaving a ferrite-stabilised side, a surface
    carburized above a carbide's solubility) is reported here, though it started stable.
    ``UnstablePhase.z`` is the range of the nodes where the candidate is more stable."""

    WHEN = "at the end of the run"
    GOES = "went"


@dataclass
class RunStability(EndStability):
    """The checks of the states a run stored (stored in the result file's attribute
    ``stability_run``, ``Result.stability_run``): every snapshot after the start and the
    final state, each like the end check.  Per candidate, ``unstable`` holds the state
    where its driving force was largest (``UnstablePhase.where`` names its time, ``z``
    the range of the nodes above the tolerance then) and ``above`` the times of the first
    and the last state where it was more stable and how many such states there were.  A
    transient that passes through another phase field (a carbon peak of an uphill
    diffusion above a carbide's solubility, dissolved again by the end) is reported here
    and not by the end check.  Between two stored states nothing is checked."""

    states: int = 0  # the states checked
    above: dict = field(default_factory=dict)  # phase -> [first t, last t, number of states] (s)
    t_last: float | None = None  # s, the last state checked (a resumed run does not count it twice)

    WHEN = "during the run"

    def _span(self, u: UnstablePhase) -> str:
        first, last, k = self.above.get(u.phase, (u.T, u.T, 0))
        when = f"at t = {first:g} s" if k == 1 else f"from t = {first:g} to {last:g} s"
        return f"; more stable in {k} of the {self.states} states checked, {when}"

    def add(self, report: EndStability | None, t: float) -> None:
        """Take in the check of the state at time t."""
        if report is None or (self.t_last is not None and t <= self.t_last):
            return
        self.states += 1
        self.t_last = t
        self.checked += [p for p in report.checked if p not in self.checked]
        for p, why in report.not_checked.items():
            self.not_checked.setdefault(p, f"{why} (t = {t:g} s)")
        best = {u.phase: u for u in self.unstable}
        for u in report.unstable:
            span = self.above.setdefault(u.phase, [t, t, 0])
            span[1], span[2] = t, span[2] + 1
            if u.phase not in best or u.driving_force > best[u.phase].driving_force:
                best[u.phase] = u
        self.unstable = sorted(best.values(), key=lambda u: -u.driving_force)

    @classmethod
    def from_attribute(cls, text) -> RunStability | None:
        """The report stored in a result file's attribute (None: "null" or absent)."""
        return None if text in (None, "null") else cls.from_json(str(text))

    def beyond(self, end: EndStability | None) -> RunStability:
        """The part of this report the end check does not say: the phases more stable at
        some state but not at the end, the phases not checked at some state only."""
        said = set() if end is None else {u.phase for u in end.unstable}
        quiet = {} if end is None else end.not_checked
        return RunStability(
            self.phase,
            self.checked,
            {p: why for p, why in self.not_checked.items() if p not in quiet},
            [u for u in self.unstable if u.phase not in said],
            self.tolerance,
            self.states,
            self.above,
            self.t_last,
        )


class StabilityWatch:
    """The stability check of the states a run stores, as it stores them
    (``Simulation.check_end_stability`` with ``watch``), gathered in ``report``.

    A candidate is searched again at a node only where it may have become more stable
    than the tolerance since its last search there.  Its driving force D(mu) is the
    largest mu.x - GM(x) over its compositions x, mole fractions (each >= 0, summing to
    1), so between the potentials mu' of that search and mu at the same temperature
    D(mu) <= D(mu') + max_k (mu_k - mu'_k): a candidate whose D(mu') is below the
    tolerance by more than the largest rise of a potential since cannot be above it.
    Every node above the tolerance is searched at every state, so each state's unstable
    candidates, their largest driving forces, where they are and the range of nodes above
    the tolerance are those of a search of every node.  The candidates other than the
    second composition set are searched together (one search of the phase set), so they
    are searched again at a node where the one nearest the tolerance may have crossed it.
    A new temperature searches every node again."""

    def __init__(self, report: RunStability | None = None):
        self.report = report  # RunStability so far (of a resumed run: from its file)
        self.memo: dict = {}  # the candidates' methods and search models: found once per run
        self._T: float | None = None
        # (part, phase) -> per group of candidates searched together (the second
        # composition set; the other candidates): the potentials (nodes, n) at its last
        # search at each node, and the tolerance less the largest driving force found
        # (nodes,; -inf: search again)
        self._parts: dict = {}

    def begin(self, T: float) -> None:
        """A new state, at temperature T."""
        if T != self._T:
            self._T, self._parts = T, {}

    def need(self, key, mu) -> np.ndarray:
        """(nodes, 2) bool: where each group of candidates is to be searched at the
        potentials mu (nodes, n)."""
        known = self._parts.get(key)
        if known is None or known[0][1].shape[0] != mu.shape[0]:
            return np.ones((mu.shape[0], 2), dtype=bool)
        out = np.empty((mu.shape[0], 2), dtype=bool)
        for g, (ref, slack) in enumerate(known):
            rise = np.max(mu - ref, axis=1)
            out[:, g] = ~(rise < slack)  # (NaN potentials: searched)
        return out

    def searched(self, key, mu, DF, groups, tol: float) -> None:
        """Record the driving forces DF (nodes, candidates) found at the potentials mu
        (nodes, n) (-inf: not searched); ``groups``: the columns of DF of each group."""
        known = self._parts.get(key)
        if known is None or known[0][1].shape[0] != mu.shape[0]:
            known = self._parts[key] = [(np.zeros(mu.shape), np.full(mu.shape[0], -np.inf)) for _ in range(2)]
        for (ref, slack), cols in zip(known, groups):
            if DF[:, cols].shape[1] == 0:
                continue
            found = DF[:, cols].max(axis=1)
            done = found != -np.inf
            ref[done] = mu[done]
            with np.errstate(invalid="ignore"):
                slack[done] = np.where(np.isnan(DF[done][:, cols]).any(axis=1), -np.inf, tol - found[done])

    def add(self, report: EndStability | None, t: float) -> None:
        """Take in the check of the state at t."""
        if report is None:
            return
        if self.report is None:
            self.report = RunStability(report.phase, [], {}, tolerance=report.tolerance)
        self.report.add(report, t)


def check_end_stability(case, t: float, z, x, mu, model=None, phases=None, watch=None) -> EndStability | None:
    """Driving forces of the candidates of the start check at the potentials ``mu`` (N, n)
    of the nodes z (N,) with mole fractions x (N, n) at time t (the last snapshot); None
    when the case turns the checks off.  ``model``: the run's PhaseModel (its second
    composition set is checked, not with gradient energy); ``phases``: the PhaseSetModel
    of a run of several phases; ``watch``: a StabilityWatch of the run's states (only the
    nodes where a candidate may have crossed the tolerance since are searched)."""
    th = case.thermo
    if phases is not None:
        parts = [(None, th.phases[0], None, slice(None))]
        return _check_end(case, t, list(th.phases), th.label, parts, z, x, mu, watch)
    return _check_end(case, t, [th.phase], th.phase, [(None, th.phase, model, slice(None))], z, x, mu, watch)


def check_region_end_stability(case, t: float, regions: list, z, x, mu, watch=None) -> EndStability | None:
    """The end check of a run with regions: each region's nodes against the start check's
    candidates (the phases that are no region's, or thermo.candidates) and a second
    composition set of its phase.  ``regions``: (index, phase, PhaseModel, node rows of
    z, x and mu) of the regions left at the end (a vanished region holds no matter)."""
    phases = [s.phase for s in case.regions]
    parts = [(f"region[{r}]", phase, model, rows) for r, phase, model, rows in regions]
    return _check_end(case, t, phases, " | ".join(phases), parts, z, x, mu, watch)


def _check_end(case, t: float, own: list, label: str, parts: list, z, x, mu, watch=None) -> EndStability | None:
    """The end check of the nodes of ``parts``, each (its name in messages, "region[1]",
    or None for all the nodes; the phase whose equilibrium gave its potentials; its
    PhaseModel when its second composition set is checked, or None; its rows of z, x and
    mu) against the candidates outside ``own`` (or thermo.candidates); ``label``: the
    run's phases as the report names them.  A search that fails outright lists the part's
    candidates as not checked; the other parts are still checked.  ``watch``: a
    StabilityWatch, whose record of earlier states spares the searches that cannot find
    a candidate above the tolerance."""
    from ..stability import candidate_methods, restricted_model

    th = case.thermo
    if th.candidates is not None and not th.candidates:
        return None
    comps = list(case.components)
    T = float(case.conditions.temperature_at(t))
    memo = {} if watch is None else watch.memo
    if "methods" not in memo:
        memo["methods"] = candidate_methods(th.database, own, comps, th.candidates)
    methods, skipped = memo["methods"]
    checked: list[str] = []
    not_checked = dict(skipped)
    best: dict[str, UnstablePhase] = {}
    searches = memo.setdefault("searches", {})  # phase -> restricted_model (that phase as the companion)
    tol = TOL_UNSTABLE * R * T
    if watch is not None:
        watch.begin(T)
    for part, phase, model, rows in parts:
        names = ([f"{phase}#2"] if model is not None and case.gradient is None else []) + list(methods)
        if not names:  # nothing to check (a database of one phase, with gradient energy)
            continue
        if phase not in searches:
            searches[phase] = restricted_model(th.database, [phase], comps, methods)
        need = None if watch is None else watch.need((part, phase), mu[rows])
        try:
            DF = _end_driving_forces(case, T, mu[rows], x[rows], names, methods, [phase], model, searches[phase], need)
        except ConvergenceError as exc:  # the check failed, not the run: say so
            not_checked["(the candidates)" if part is None else f"(the candidates in {part} ({phase}))"] = str(exc)
            continue
        if watch is not None:
            own_set = len(names) > len(methods)
            watch.searched((part, phase), mu[rows], DF, (slice(0, int(own_set)), slice(int(own_set), None)), tol)
        checked += [p for p in names if p not in checked]
        where = f"the state at t = {t:g} s" + ("" if part is None else f", {part} ({phase})")
        of = "" if part is None else f" of {part}"
        for u in _end_unstable(names, DF, comps, T, z[rows], x[rows], where, not_checked, of):
            if u.driving_force > getattr(best.get(u.phase), "driving_force", -np.inf):
                best[u.phase] = u
    return EndStability(label, checked, not_checked, sorted(best.values(), key=lambda u: -u.driving_force))


def _end_driving_forces(case, T, mu, x, names, methods, own, model, search, need=None) -> np.ndarray:
    """Driving forces (N, len(names)) of ``names`` (the second composition set of
    ``model``'s phase first, when named, then ``methods``) at the potentials mu (N, n) of
    nodes with mole fractions x; NaN where a search gave no number.  Neighbouring nodes
    of one composition (the part of a profile diffusion has not reached) share their
    potentials: each run of them is searched once, in batches of END_ROWS (a few arrays
    of N numbers next to the run's).  ``need`` (N, 2) bool: where to search the second
    composition set and the candidates of ``methods`` (-inf elsewhere).  Raises
    ConvergenceError when a search fails."""
    from ..stability import candidate_driving_forces
    from ..tangent_plane import tangent_plane_maximum

    same = np.ones(x.shape[0] - 1, dtype=bool)
    for k in range(x.shape[1]):
        same &= np.abs(x[1:, k] - x[:-1, k]) <= 1e-14
    first = np.concatenate([[0], np.flatnonzero(~same) + 1])
    inverse = np.concatenate([[0], np.cumsum(~same)])
    DF = np.full((first.size, len(names)), -np.inf)
    own_set = len(names) > len(methods)
    wanted = np.ones((first.size, 2), dtype=bool)  # (the second composition set, the candidates) per run of nodes
    if need is not None:  # a run of nodes of one composition needs what any of its nodes needs
        wanted[:, 0] = np.logical_or.reduceat(need[:, 0], first)
        wanted[:, 1] = np.logical_or.reduceat(need[:, 1], first)
    for j, col in ((0, slice(0, 1)), (1, slice(len(names) - len(methods), None))):
        if (j == 0 and not own_set) or (j == 1 and not methods):
            continue
        groups = np.flatnonzero(wanted[:, j])
        for start in range(0, groups.size, END_ROWS):
            g = groups[start : start + END_ROWS]
            part = np.ascontiguousarray(mu[first[g]], dtype=np.float64)
            if j == 0:
                DF[g, col] = tangent_plane_maximum(model, part, T)[0][:, None]
            else:
                DF[g, col] = candidate_driving_forces(
                    case.thermo.database, own, list(case.components), methods, part, T, search
                )
    return DF[inverse]


def _end_unstable(names, DF, comps, T, z, x, where, not_checked, of) -> list:
    """The UnstablePhase entries of the driving forces DF (N, len(names)) at the nodes z
    with mole fractions x: per candidate above the tolerance, its largest driving force,
    the composition there and the range of z where it is above.  Nodes where a search
    gave no number are counted in ``not_checked`` (their number ``of`` the nodes)."""
    tol = TOL_UNSTABLE * R * T
    z = np.asarray(z, dtype=np.float64)
    out = []
    for j, name in enumerate(names):  # a search that failed at some nodes: said, not hidden (-inf: not searched)
        failed = np.isnan(DF[:, j]) | (DF[:, j] == np.inf)
        if failed.any():
            not_checked[name] = f"the search did not converge at {int(failed.sum())} of {failed.size} nodes{of}"
        d = np.where(failed, -np.inf, DF[:, j])
        i = int(np.argmax(d))
        if d[i] > tol:
            above = z[d > tol]
            comp = {c: float(v) for c, v in zip(comps, x[i])}
            out.append(UnstablePhase(name, float(d[i]), comp, (float(above.min()), float(above.max())), where, T))
    return out
