"""Gradient energy ``[gradient]`` (Cahn-Hilliard) and the case combinations it allows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from .boundary import stage_key
from .section import Section, as_number, type_name

__all__ = ["GradientSpec", "check_gradient_case", "read_gradient"]

#: boundary types the gradient-energy model supports (the natural condition grad x = 0
#: at a closed or fixed-flux end; periodic ends wrap)
GRADIENT_BOUNDARIES = ("closed", "fixed-flux", "periodic")


@dataclass(frozen=True)
class GradientSpec:
    """kappa: the symmetric positive definite gradient-energy matrix over the independent
    components (thermo.components[1:]), J m^2/mol."""

    kappa: tuple[tuple[float, ...], ...]

    @property
    def matrix(self) -> np.ndarray:
        return np.array(self.kappa, dtype=float)

    def to_dict(self) -> dict:
        return {"kappa": [list(r) for r in self.kappa]}


def read_gradient(sec: Section, comps: tuple) -> GradientSpec:
    """The ``[gradient]`` table: kappa a positive number (kappa times the identity) or a
    symmetric positive definite (n-1) x (n-1) matrix."""
    m = len(comps) - 1
    raw = sec.raw("kappa")
    where = sec.key("kappa")
    if isinstance(raw, list):
        if len(raw) != m or not all(isinstance(r, list) and len(r) == m for r in raw):
            shape = f"{len(raw)} rows of lengths {[len(r) if isinstance(r, list) else '-' for r in raw]}"
            raise CaseError(
                f"{where} must be one number or an {m} x {m} matrix (one row and column per "
                f"independent component, in the order {', '.join(comps[1:])}), got {shape}"
            )
        k = np.array([[as_number(v, f"{where}[{i}][{j}]") for j, v in enumerate(r)] for i, r in enumerate(raw)])
        scale = np.abs(k).max()
        asym = np.abs(k - k.T).max()
        if asym > 1e-12 * scale:
            i, j = np.unravel_index(np.argmax(np.abs(k - k.T)), k.shape)
            raise CaseError(f"{where} is not symmetric: [{i}][{j}] = {k[i, j]:g} but [{j}][{i}] = {k[j, i]:g}")
        w = np.linalg.eigvalsh(0.5 * (k + k.T))
        if not w.min() > 1e-12 * scale:
            raise CaseError(
                f"{where} is not positive definite (smallest eigenvalue {w.min():.4g} J m^2/mol): "
                f"every composition gradient must cost energy"
            )
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        v = as_number(raw, where)
        if not v > 0.0:
            raise CaseError(f"{where} = {v:g} J m^2/mol must be positive")
        k = v * np.eye(m)
    else:
        raise CaseError(f"{where} must be a number or an {m} x {m} matrix, got {type_name(raw)}")
    return GradientSpec(tuple(tuple(float(v) for v in r) for r in k))


def check_gradient_case(gradient: GradientSpec | None, boundary, solver, geometry: str) -> None:
    """The combinations of [gradient] with the rest of the case that kinsim supports:
    periodic boundaries need a planar grid; gradient energy needs the implicit solver and
    closed, fixed-flux or periodic boundaries."""
    periodic = any(st.type == "periodic" for b in (boundary.left, boundary.right) for st in b.stages)
    if periodic and geometry != "planar":
        raise CaseError(f"boundary: type = 'periodic' needs grid.geometry = 'planar' (got '{geometry}')")
    if gradient is None:
        return
    if solver.method != "implicit":
        raise CaseError(
            f"solver.method = '{solver.method}': gradient energy ([gradient]) needs the implicit "
            f"solver (an explicit step of the fourth-order Cahn-Hilliard equation is limited to "
            f"about dz^4 / (M kappa))"
        )
    for side in ("left", "right"):
        b = getattr(boundary, side)
        for j, st in enumerate(b.stages):
            if st.type not in GRADIENT_BOUNDARIES:
                key = stage_key(side, b.stages, j, "type")
                raise CaseError(
                    f"{key} = '{st.type}' is not supported with gradient energy ([gradient]): the "
                    f"Cahn-Hilliard model needs a condition on the composition gradient there too; "
                    f"use {', '.join(GRADIENT_BOUNDARIES)}"
                )
