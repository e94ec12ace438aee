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

from .errors import DatabaseError, InputError
from .kernels.gibbs import R
from .phase import PhaseModel
from .phaseset import PhaseSetModel

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
        out = [((f"{p}#2" if j == 0 else p), float(d)) for j, (p, d) in
               enumerate(zip(self.checked, self.driving_forces[i])) if d > tol]
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
            out.append(f"{self.phase} is not the stable phase at {comp} (T={self.T:g} K): driving force of "
                       f"{others}")
        return out


def _database_phases(database) -> list:
    from .thermo.tdb import load_database

    return sorted(p.upper() for p in load_database(database).phases)


def stability_report(database, phase: str, components, T: float, X, candidates=None) -> StabilityReport:
    """Driving forces of the candidates (default: every other phase of the database
    that kinsim can model with these components, phases of fixed composition and phases
    holding only some of the components included; the others, e.g. phases holding none
    of them, are listed in ``skipped``)
    at the potentials of ``phase``'s own equilibrium at each composition row of X (mole
    fractions of components[1:], or of all components) and temperature T.  A candidate
    named explicitly that cannot be modelled is an error."""
    own = PhaseModel(database, phase, components)
    T = float(T)
    own.check_temperature(T)
    res = own.equilibrium(X, T)
    skipped = {}
    names = []
    if candidates is None:
        for p in _database_phases(database):
            if p == own.phase:
                continue
            try:
                PhaseModel(database, p, components, member=True)
            except (InputError, DatabaseError) as exc:
                skipped[p] = str(exc)
                continue
            names.append(p)
    else:
        names = [p.strip().upper() for p in candidates if p.strip().upper() != own.phase]
    model = PhaseSetModel(database, [own.phase] + names, components)
    return StabilityReport(own.phase, own.components, T, res.X, model.phases, model.driving_forces(res.MU, T),
                           skipped)
