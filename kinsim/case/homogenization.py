"""The homogenization model ``[homogenization]`` of a case with several phases
(``thermo.phases``): the averaging scheme of the phases' mobilities, the phases that
carry no flux and the ideal (damping) term."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CaseError
from .section import Section, suggest, type_name

__all__ = ["HomogenizationSpec", "check_homogenization_case", "read_homogenization", "read_phase_names"]

# the averaging schemes that need a matrix phase
MATRIX_SCHEMES = ("hashin-shtrikman-matrix", "labyrinth")


@dataclass(frozen=True)
class HomogenizationSpec:
    """How the phases' Gamma_k = M_k u_k combine into Gamma*_k (``averaging``, with its
    ``matrix`` phase and labyrinth ``exponent`` where the scheme takes them), the
    phases whose Gamma is zero in the average (``excluded``), the factor eps of the
    ideal term -eps R T Gamma*_k / u_k grad(u_k) (``ideal_term``) and the mean that gives
    Gamma* at a face between two nodes (``face_mean``)."""

    averaging: str  # one of kinsim.case.schema.AVERAGING_SCHEMES
    matrix: str | None = None  # the matrix phase (hashin-shtrikman-matrix, labyrinth)
    exponent: float = 1.0  # labyrinth: Gamma* = f_matrix ** exponent Gamma_matrix
    excluded: tuple[str, ...] = ()  # upper case
    ideal_term: float = 0.0  # eps (1)
    face_mean: str = "geometric"  # geometric | arithmetic: Gamma* at a face between two nodes

    def to_dict(self) -> dict:
        out: dict = {"averaging": self.averaging}
        if self.matrix is not None:
            out["matrix"] = self.matrix
        if self.averaging == "labyrinth":
            out["exponent"] = self.exponent
        if self.excluded:
            out["excluded"] = list(self.excluded)
        out["ideal_term"] = self.ideal_term
        out["face_mean"] = self.face_mean
        return out


def read_phase_names(raw, where: str) -> tuple[str, ...]:
    """An array of distinct phase names, upper case."""
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise CaseError(
            f'{where} must be an array of phase names, e.g. ["FCC_A1", "BCC_A2"], got '
            f"{type_name(raw) if not isinstance(raw, list) else repr(raw)}"
        )
    names = tuple(p.strip().upper() for p in raw)
    dupes = sorted({p for p in names if names.count(p) > 1})
    if dupes:
        raise CaseError(f"{where}: {', '.join(dupes)} given more than once")
    return names


def _phase(name: str, where: str, phases: tuple[str, ...]) -> str:
    p = name.strip().upper()
    if p not in phases:
        raise CaseError(f"{where} = {name!r} is not one of thermo.phases ({', '.join(phases)})" + suggest(p, phases))
    return p


def read_homogenization(sec: Section, phases: tuple[str, ...]) -> HomogenizationSpec:
    """The ``[homogenization]`` table of a case whose candidate phases are ``phases``."""
    averaging = sec.get("averaging")
    matrix = sec.get("matrix")
    if averaging in MATRIX_SCHEMES:
        if matrix is None:
            raise CaseError(
                f"homogenization.averaging = '{averaging}' needs homogenization.matrix, the matrix "
                f"phase (one of {', '.join(phases)})"
            )
        matrix = _phase(matrix, "homogenization.matrix", phases)
    elif matrix is not None:
        raise CaseError(
            f"homogenization.matrix is not used with averaging = '{averaging}' (only with "
            f"{' and '.join(MATRIX_SCHEMES)})"
        )
    exponent = sec.get("exponent")
    if sec.has("exponent") and averaging != "labyrinth":
        raise CaseError(f"homogenization.exponent is not used with averaging = '{averaging}' (only with labyrinth)")
    if not 1.0 <= exponent <= 2.0:
        raise CaseError(f"homogenization.exponent = {exponent:g} must be in [1, 2]")
    excluded: tuple[str, ...] = ()
    if sec.raw("excluded") is not None:
        excluded = tuple(
            _phase(p, "homogenization.excluded", phases)
            for p in read_phase_names(sec.raw("excluded"), "homogenization.excluded")
        )
        if matrix in excluded:
            raise CaseError(
                f"homogenization.excluded: {matrix} is the matrix phase (homogenization.matrix); "
                f"the matrix must carry flux"
            )
        if len(excluded) == len(phases):
            raise CaseError("homogenization.excluded lists every phase of thermo.phases: nothing would carry flux")
    eps = sec.get("ideal_term")
    if not eps >= 0.0:
        raise CaseError(f"homogenization.ideal_term = {eps:g} must be >= 0")
    return HomogenizationSpec(averaging, matrix, float(exponent), excluded, float(eps), sec.get("face_mean"))


def check_homogenization_case(thermo, gradient, boundary) -> None:
    """The combinations of several phases (thermo.phases) with the rest of the case that
    kinsim supports: not with gradient energy (the homogenization model's nodes are
    multiphase equilibria, a diffuse-interface model resolves the phases instead) and not
    with periodic boundaries (the homogenization model's Jacobian through L' covers the
    interior and fixed-composition faces only)."""
    if not thermo.multiphase:
        return
    if gradient is not None:
        raise CaseError(
            "gradient: gradient energy is not available with several phases (thermo.phases): the "
            "homogenization model makes every node a local equilibrium of its phases, a "
            "gradient-energy model resolves the phases instead; use one or the other"
        )
    for side in ("left", "right"):
        for st in getattr(boundary, side).stages:
            if st.type == "periodic":
                raise CaseError(
                    f"boundary.{side}: type = 'periodic' is not available with several phases "
                    f"(thermo.phases): the homogenization model supports closed, fixed-composition, "
                    f"fixed-flux, fixed-potential and fixed-activity ends"
                )
