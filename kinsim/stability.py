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
    second composition set, named "PHASE#2")."""

    phase: str
    components: list
    T: float  # K
    X: np.ndarray  # (N, n) mole fractions, reference first
    checked: list  # phase names, the phase itself first
    driving_forces: np.ndarray  # (N, len(checked)) J/mol of atoms
    skipped: dict = field(default_factory=dict)  # phase -> why it was not checked

    def unstable(self, i: int) -> list:
        """(name, driving force) of the phases with a positive driving force at row i,
        largest first."""
        tol = TOL_UNSTABLE * R * self.T
        out = [
            ((f"{p}#2" if j == 0 else p), float(d))
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
            out.append(f"{self.phase} is not the stable phase at {comp} (T={self.T:g} K): driving force of {others}")
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


def stability_report(database, phase: str, components, T: float, X, candidates=None) -> StabilityReport:
    """Driving forces of the candidates (default: every other phase of the database
    that kinsim can model with these components, phases of fixed composition and phases
    holding only some of the components included; the others, e.g. phases holding none
    of them, are listed in ``skipped``)
    at the potentials of ``phase``'s own equilibrium at each composition row of X (mole
    fractions of components[1:], or of all components) and temperature T.  A candidate
    named explicitly that cannot be modelled is an error.

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
    skipped = {}
    methods = {}
    if candidates is None:
        names = [p for p in database_phases(database) if p != own.phase]
    else:
        names = [p.strip().upper() for p in candidates if p.strip().upper() != own.phase]
    for p in names:
        try:
            methods[p] = _method(database, p, components)
        except (InputError, DatabaseError) as exc:
            if candidates is not None:
                raise
            skipped[p] = str(exc)
    checked = [own.phase] + list(methods)
    DF = np.empty((res.X.shape[0], len(checked)))
    DF[:, 0] = tangent_plane_maximum(own, res.MU, T)[0]
    restricted = [p for p, (how, _) in methods.items() if how == "multiphase"]
    if restricted:
        mp = PhaseSetModel(database, [own.phase] + restricted, components).driving_forces(res.MU, T)
    for j, (p, (how, model)) in enumerate(methods.items(), start=1):
        if model is not None:
            model.check_temperature(T)
        if how == "free":
            DF[:, j] = tangent_plane_maximum(model, res.MU, T)[0]
        elif how == "fixed":
            DF[:, j] = fixed_driving_force(model, res.MU, T)
        else:
            DF[:, j] = mp[:, 1 + restricted.index(p)]
    bad = np.argwhere(~np.isfinite(DF))
    if bad.size:
        i, j = bad[0]
        raise ConvergenceError(
            f"driving force of {checked[j]} at the potentials of {own.phase} at row {i} "
            f"(T={T:g} K): the search did not converge"
        )
    return StabilityReport(own.phase, own.components, T, res.X, checked, DF, skipped)
