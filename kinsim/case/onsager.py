"""Onsager cross terms ``[onsager]`` of the lattice-fixed frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from .section import Section, as_number, present, type_name

__all__ = ["OnsagerSpec", "read_onsager"]


@dataclass(frozen=True)
class OnsagerSpec:
    """Off-diagonal Onsager coefficients of the lattice-fixed frame (components order).
    absolute: L'_kj = matrix[k][j] (mol^2 J^-1 m^-1 s^-1); relative:
    L'_kj = matrix[k][j] sqrt(L'_kk L'_jj).  The diagonal must be zero (it comes from the
    mobilities)."""

    form: str
    matrix: tuple[tuple[float, ...], ...]

    def to_dict(self) -> dict:
        return {"form": self.form, "matrix": [list(r) for r in self.matrix]}


def read_onsager(sec: Section, comps: tuple) -> OnsagerSpec:
    """The ``[onsager]`` table: a symmetric matrix with a zero diagonal; in the relative
    form 1 + matrix must be positive semi-definite."""
    form = present(sec.choice("form"), sec.key("form"))
    m = sec.raw("matrix")
    n = len(comps)
    if not isinstance(m, list) or len(m) != n or not all(isinstance(r, list) and len(r) == n for r in m):
        shape = (
            f"{len(m)} rows of lengths {[len(r) if isinstance(r, list) else '-' for r in m]}"
            if isinstance(m, list)
            else type_name(m)
        )
        raise CaseError(
            f"onsager.matrix must be {n} x {n} (one row and column per component, "
            f"in the order {', '.join(comps)}), got {shape}"
        )
    a = np.array([[as_number(v, f"onsager.matrix[{i}][{j}]") for j, v in enumerate(r)] for i, r in enumerate(m)])
    for i in range(n):
        if a[i, i] != 0.0:
            raise CaseError(
                f"onsager.matrix[{i}][{i}] = {a[i, i]:g}: the diagonal must be 0 (the "
                f"diagonal L'_kk comes from the mobilities; give only cross terms)"
            )
    scale = np.abs(a).max() or 1.0
    asym = np.abs(a - a.T).max()
    if asym > 1e-12 * scale:
        row, col = np.unravel_index(np.argmax(np.abs(a - a.T)), a.shape)
        raise CaseError(
            f"onsager.matrix is not symmetric (Onsager reciprocity): [{row}][{col}] = "
            f"{a[row, col]:g} but [{col}][{row}] = {a[col, row]:g}"
        )
    if form == "relative":
        w = np.linalg.eigvalsh(np.eye(n) + a)
        if w.min() < -1e-12:
            raise CaseError(
                f"onsager.matrix (relative form) gives an L' that is not positive "
                f"semi-definite: 1 + matrix has eigenvalue {w.min():.4g} < 0 "
                f"(|cross coefficients| must be small enough)"
            )
    return OnsagerSpec(form, tuple(tuple(float(v) for v in r) for r in a))
