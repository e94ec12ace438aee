"""Is a single phase the stable state at given compositions?  For a one-phase diffusion
case: the driving force of every other phase of the database (or of the phases a case
names), and of a second composition set of the phase itself, at the chemical
potentials of the phase's own equilibrium at each composition.  A positive driving
force (J/mol of atoms) means the phase is not the stable state there: that phase would
precipitate (or the phase would split, for its second composition set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ConvergenceError, DatabaseError, InputError
from .kernels.gibbs import R
from .phase import PhaseModel
from .phaseset import PhaseSetModel
from .tangent_plane import fixed_driving_force, tangent_plane_maximum

TOL_UNSTABLE = 1e-6  # driving forces above TOL_UNSTABLE * RT are reported (J/mol of atoms)


@dataclass
class StabilityReport:
    """Driving forces at each composition row; ``checked[0]`` is the phase itself (as a
    second composition set, named "PHASE#2") when ``own_set``; a multiphase report
    (``phase`` "A+B") checks only the phases outside its equilibrium."""

    phase: str
    components: list
    T: float  # K
    X: np.ndarray  # (N, n) mole fractions, reference first
    checked: list  # phase names, the phase itself first
    driving_forces: np.ndarray  # (N, len(checked)) J/mol of atoms
    skipped: dict = field(default_factory=dict)  # phase -> why it was not checked
    own_set: bool = True  # checked[0] is the phase's own second composition set (one-phase reports)

    def unstable(self, i: int) -> list:
        """(name, driving force) of the phases with a positive driving force at row i,
        largest first."""
        tol = TOL_UNSTABLE * R * self.T
        out = [
            ((f"{p}#2" if j == 0 and self.own_set else p), float(d))
            for j, (p, d) in enumerate(zip(self.checked, self.driving_forces[i]))
            if d > tol
        ]
        return sorted(out, key=lambda t: -t[1])

    @property
    def stable(self) -> bool:
        """True if no row has a phase with a positive driving force."""
        return all(not self.unstable(i) for i in range(self.X.shape[0]))

    def messages(self) -> list:
        """One warning per row where the phase is not the stable state."""
        out = []
        for i in range(self.X.shape[0]):
            bad = self.unstable(i)
            if not bad:
                continue
            comp = ", ".join(f"{c}={v:.6g}" for c, v in zip(self.components, self.X[i]))
            others = "; ".join(f"{p} {d:+.4g} J/mol" for p, d in bad)
            what = "phase" if self.own_set else "state"  # one phase, or a multiphase equilibrium "A+B"
            out.append(f"{self.phase} is not the stable {what} at {comp} (T={self.T:g} K): driving force of {others}")
        return out


def database_phases(database) -> list:
    """The names of the phases of a TDB file, upper case, sorted."""
    from .thermo.names import phase_names

    return phase_names(database)


def _method(database, p: str, components):
    """How the driving force of candidate p is found: ("free", model) for a phase whose
    composition can vary in every component (each one on a sublattice of several
    constituents, none on a sublattice of its own: Newton on the tangent-plane distance
    with the single-phase kernel), ("fixed", model) for a phase of one composition,
    ("multiphase", None) for the others (holding some of the components, or a
    sublattice fixed to one of them: the multiphase kernels' search over site
    fractions).  Raises when p cannot be modelled with these components at all."""
    member = PhaseModel(database, p, components, member=True)
    q = member.params
    if q.n_y == 0:
        return "fixed", member
    held = set(int(c) for c in np.asarray(q.y_comp) if c >= 0)
    if len(held) == len(components) and not np.any(np.asarray(q.n_const) > 0.0):
        return "free", PhaseModel(database, p, components)
    return "multiphase", None


def candidate_methods(database, own: list, components, candidates):
    """(methods, skipped): how each candidate's driving force is found (``_method``), for
    the candidates named (an error when one cannot be modelled) or, by default, every
    phase of the database not in ``own`` (those that cannot be modelled are skipped, with
    the reason)."""
    skipped = {}
    methods = {}
    if candidates is None:
        names = [p for p in database_phases(database) if p not in own]
    else:
        names = [p.strip().upper() for p in candidates if p.strip().upper() not in own]
    for p in names:
        try:
            methods[p] = _method(database, p, components)
        except (InputError, DatabaseError) as exc:
            if candidates is not None:
                raise
            skipped[p] = str(exc)
    return methods, skipped


def restricted_model(database, own: list, components, methods: dict):
    """The PhaseSetModel that searches the candidates of restricted composition (the
    multiphase kernels), with the first of ``own`` as its companion; None without such
    candidates."""
    restricted = [p for p, (how, _) in methods.items() if how == "multiphase"]
    return PhaseSetModel(database, [own[0]] + restricted, components) if restricted else None


def candidate_driving_forces(database, own: list, components, methods: dict, MU, T: float, model=None) -> np.ndarray:
    """Driving forces (N, len(methods)) of the candidates at the potentials MU (N, n), each
    from the cheapest exact search for its phase (``_method``); ``own`` names the phases
    whose equilibrium gave MU (the first is the multiphase search's companion).  ``model``:
    ``restricted_model``'s, when the caller searches several batches of rows."""
    DF = np.empty((MU.shape[0], len(methods)))
    restricted = [p for p, (how, _) in methods.items() if how == "multiphase"]
    if restricted:
        if model is None:
            model = restricted_model(database, own, components, methods)
        mp = model.driving_forces(MU, T)
    for j, (p, (how, model)) in enumerate(methods.items()):
        if model is not None:
            model.check_temperature(T)
        if how == "free":
            DF[:, j] = tangent_plane_maximum(model, MU, T)[0]
        elif how == "fixed":
            DF[:, j] = fixed_driving_force(model, MU, T)
        else:
            DF[:, j] = mp[:, 1 + restricted.index(p)]
    return DF


def _finite(DF, checked, label: str, T: float) -> None:
    bad = np.argwhere(~np.isfinite(DF))
    if bad.size:
        i, j = bad[0]
        raise ConvergenceError(
            f"driving force of {checked[j]} at the potentials of {label} at row {i} "
            f"(T={T:g} K): the search did not converge"
        )


def stability_report(database, phase: str, components, T: float, X, candidates=None, others=()) -> StabilityReport:
    """Driving forces of the candidates (default: every other phase of the database
    that kinsim can model with these components, phases of fixed composition and phases
    holding only some of the components included; the others, e.g. phases holding none
    of them, are listed in ``skipped``)
    at the potentials of ``phase``'s own equilibrium at each composition row of X (mole
    fractions of components[1:], or of all components) and temperature T.  A candidate
    named explicitly that cannot be modelled is an error.  ``others``: phases not
    checked (in a moving-boundary run, the other regions' phases).

    Each driving force comes from the cheapest exact search for its phase
    (kinsim.tangent_plane): the single-phase kernel for a phase holding every component
    with a free composition (and for the second composition set of the phase itself),
    one Gibbs energy for a phase of fixed composition; only a phase with a restricted
    composition (some components, or a sublattice of one component) uses the multiphase
    kernels (``PhaseSetModel.driving_forces``), which a one-phase run does not compile
    otherwise."""
    own = PhaseModel(database, phase, components)
    T = float(T)
    own.check_temperature(T)
    res = own.equilibrium(X, T)
    methods, skipped = candidate_methods(database, [own.phase] + [p.upper() for p in others], components, candidates)
    checked = [own.phase] + list(methods)
    DF = np.empty((res.X.shape[0], len(checked)))
    DF[:, 0] = tangent_plane_maximum(own, res.MU, T)[0]
    DF[:, 1:] = candidate_driving_forces(database, [own.phase], components, methods, res.MU, T)
    _finite(DF, checked, own.phase, T)
    return StabilityReport(own.phase, own.components, T, res.X, checked, DF, skipped)


def multiphase_stability_report(phases: PhaseSetModel, database, T: float, X, candidates=None) -> StabilityReport:
    """As :func:`stability_report`, for the local equilibrium of several phases (a
    :class:`kinsim.phaseset.PhaseSetModel`, the phases of a homogenization run): the
    driving forces of the candidates not among ``phases.phases`` (default: every other
    phase of the database) at the potentials of the multiphase equilibrium at each row of
    X.  The equilibrium itself finds the stable sets of its own phases (second
    composition sets included), so ``checked`` holds only the other phases."""
    T = float(T)
    own = list(phases.phases)
    label = "+".join(own)
    methods, skipped = candidate_methods(database, own, phases.components, candidates)
    checked = list(methods)
    if not checked:  # nothing to check: no equilibrium either
        X = phases.full_composition(X)
        return StabilityReport(label, list(phases.components), T, X, [], np.empty((X.shape[0], 0)), skipped, False)
    res = phases.equilibrium(X, T)
    DF = candidate_driving_forces(database, own, phases.components, methods, res.MU, T)
    _finite(DF, checked, label, T)
    return StabilityReport(label, list(phases.components), T, res.X, checked, DF, skipped, own_set=False)
