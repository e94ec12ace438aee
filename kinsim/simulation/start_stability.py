"""Is the phase of a one-phase run the stable state where the run starts?

At the start of a run, the distinct compositions of the initial profile and of the fixed
boundary compositions (:func:`start_compositions`) are checked against the database's
other phases, or the phases the case lists in ``thermo.candidates`` (``[]``: no check),
with :func:`kinsim.stability.stability_report`: the driving force (J/mol of atoms) of
each candidate, and of a second composition set of the phase itself (named
``PHASE#2``), at the chemical potentials of the phase's own equilibrium.  A candidate
whose largest driving force exceeds ``kinsim.stability.TOL_UNSTABLE * R T`` is reported
(:class:`StartStability`): a warning, the run goes on.  Phases that cannot be checked
(e.g. holding none of the components) are listed as not checked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import CaseError, ConvergenceError
from ..kernels.gibbs import R
from ..stability import TOL_UNSTABLE


class StartCompositions(NamedTuple):
    """The distinct compositions a run starts from, as arrays (no Python object per node:
    a noisy initial profile has as many distinct compositions as nodes)."""

    x: np.ndarray  # (U, n) mole fractions of all components, reference first; sorted rows
    T: np.ndarray  # (U,) K
    where: np.ndarray  # (U,) int: index into labels
    labels: tuple  # "the initial profile", "boundary.left.composition" ...
    z_first: np.ndarray  # (U,) m: first position of the nodes (or the face) that hold it
    z_last: np.ndarray  # (U,) m: last position


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

    def messages(self) -> list[str]:
        """One line per unstable phase, then one per phase not checked."""
        out = []
        for u in self.unstable:
            comp = ", ".join(f"{c}={v:.6g}" for c, v in u.composition.items())
            z = f"z = {u.z[0]:.6g} m" if u.z[0] == u.z[1] else f"z = {u.z[0]:.6g} to {u.z[1]:.6g} m"
            out.append(
                f"{self.phase} is not the stable phase at the start: {u.phase} has a driving force of "
                f"{u.driving_force:+.4g} J/mol at {comp} ({u.where}, {z}, T = {u.T:g} K); the run goes "
                f"on with {self.phase} alone"
            )
        for p, why in self.not_checked.items():
            out.append(f"stability of {self.phase} not checked against {p}: {why}")
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StartStability:
        d = json.loads(text)
        d["unstable"] = [UnstablePhase(**{**u, "z": tuple(u["z"])}) for u in d["unstable"]]
        return cls(**d)


def start_compositions(case, x0: np.ndarray, z: np.ndarray, faces: np.ndarray) -> StartCompositions:
    """The distinct compositions a run starts from: of the initial profile x0 (N, n) at
    the nodes z and T(0) (rounded to 1e-14), and of every fixed-composition boundary stage
    at the face it holds and at the temperature of each time of its table."""
    comps = list(case.components)
    cond = case.conditions
    xs, inverse = np.unique(np.round(x0, 14), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    first = np.full(xs.shape[0], np.inf)
    last = np.full(xs.shape[0], -np.inf)
    np.minimum.at(first, inverse, z)
    np.maximum.at(last, inverse, z)
    labels = ["the initial profile"]
    rows = {}  # boundary rows: (x, T, label) -> face
    for side, face in (("left", faces[0]), ("right", faces[-1])):
        b = getattr(case.boundary, side)
        for j, st in enumerate(b.stages):
            if st.type != "fixed-composition":
                continue
            labels.append(f"boundary.{side}" + (f".stages[{j}]" if len(b.stages) > 1 else "") + ".composition")
            for t in st.times():
                x = st.composition_at(t)
                rows[(tuple(float(x[c]) for c in comps), float(cond.temperature_at(t)), len(labels) - 1)] = face
    bx = np.array([k[0] for k in rows]).reshape(-1, xs.shape[1])
    bz = np.array(list(rows.values()), dtype=float)
    return StartCompositions(
        x=np.concatenate([xs, bx]),
        T=np.concatenate([np.full(xs.shape[0], float(cond.temperature_at(0.0))), [k[1] for k in rows]]),
        where=np.concatenate([np.zeros(xs.shape[0], dtype=np.int64), np.array([k[2] for k in rows], dtype=np.int64)]),
        labels=tuple(labels),
        z_first=np.concatenate([first, bz]),
        z_last=np.concatenate([last, bz]),
    )


def check_candidates(case) -> None:
    """A CaseError when ``thermo.candidates`` names a phase the database does not have."""
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


def check_start_stability(case, rows: StartCompositions) -> StartStability | None:
    """Driving forces of the candidates at the starting compositions; None when the case
    turns the check off (``thermo.candidates = []``)."""
    from ..stability import stability_report  # the multiphase kernels: only when checking

    th = case.thermo
    if th.candidates is not None and not th.candidates:
        return None
    comps = list(case.components)
    best: dict[str, tuple[float, int]] = {}  # phase -> (driving force, row index)
    checked: list[str] = []
    not_checked: dict[str, str] = {}
    for T in np.unique(rows.T):
        group = np.flatnonzero(rows.T == T)
        try:
            rep = stability_report(th.database, th.phase, comps, float(T), rows.x[group], th.candidates)
        except ConvergenceError as exc:  # the check failed: say so, the run goes on
            return StartStability(
                th.phase, checked, {**not_checked, "(the remaining phases)": str(exc)}, _unstable(best, comps, rows)
            )
        names = [f"{rep.phase}#2"] + list(rep.checked[1:])
        # with gradient energy the run resolves a miscibility gap of its own phase (that is
        # the model): only the other phases can make it metastable
        first = 1 if case.gradient is not None else 0
        checked, not_checked = names[first:], dict(rep.skipped)
        tol = TOL_UNSTABLE * R * float(T)
        for j, name in enumerate(names):
            if j < first:
                continue
            i = int(np.argmax(rep.driving_forces[:, j]))
            d = float(rep.driving_forces[i, j])
            if d > tol and d > best.get(name, (-np.inf,))[0]:
                best[name] = (d, int(group[i]))
    return StartStability(th.phase, checked, not_checked, _unstable(best, comps, rows))


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
