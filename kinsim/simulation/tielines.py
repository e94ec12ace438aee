"""Two-phase equilibria for the moving-boundary model, from the multiphase equilibrium
(kinsim.phaseset): the tie-line an interface starts from, the nucleus of a region of
zero width, and the check that a region's composition belongs to its phase's side.

For two neighbouring regions of phases a and b, a composition x "belongs to a" when the
equilibrium of {a, b} at x holds a (a alone, or a + b: inside the two-phase field, where
a region of a is supersaturated and the other phase grows into it); it lies on b's side
of the a/b tie-line when b alone is stable there, and then a region of a cannot start
from it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import InputError
from ..phaseset import load_phases

# compositions tried between two regions' compositions to find their tie-line
_SCAN = 65


@lru_cache(maxsize=32)
def _pair(database: str, a: str, b: str, components: tuple):
    return load_phases(database, [a, b], list(components))


def _fmt(components, x) -> str:
    return ", ".join(f"{c} = {v:.6g}" for c, v in zip(components[1:], x[1:]))


class PhasePair:
    """The equilibria of two phases a, b of a database over ``components`` at T."""

    def __init__(self, database, a: str, b: str, components, T: float):
        self.model = _pair(str(database), a, b, tuple(components))
        self.a, self.b = a, b
        self.components = list(components)
        self.T = float(T)

    def _solve(self, X):
        res = self.model.equilibrium(np.atleast_2d(np.asarray(X, dtype=float))[:, 1:], self.T, raise_on_failure=False)
        return res

    def stable(self, X) -> list[set]:
        """The stable phases ({"a"}, {"b"} or both) at each composition row X (all
        components); an empty set where the equilibrium failed."""
        res = self._solve(X)
        out = []
        for i in range(res.status.size):
            names = {("a", "b")[int(p)] for p in res.state.set_phase[i] if p >= 0} if res.status[i] == 0 else set()
            out.append(names)
        return out

    def tie_line(self, X):
        """(x^a, x^b) of the a + b equilibrium at the first composition row of X that lies
        in the two-phase field, or None."""
        res = self._solve(X)
        for i in range(res.status.size):
            if res.status[i] != 0:
                continue
            ph = list(res.state.set_phase[i])
            if 0 in ph and 1 in ph:
                return res.compositions[i, ph.index(0)].copy(), res.compositions[i, ph.index(1)].copy()
        return None

    def between(self, xa, xb):
        """The a/b tie-line nearest the middle of the segment from xa to xb (all
        components), or None when the segment does not cross the two-phase field."""
        s = np.linspace(0.0, 1.0, _SCAN)
        order = np.argsort(np.abs(s - 0.5), kind="stable")
        X = xa[None, :] + s[order, None] * (xb - xa)[None, :]
        return self.tie_line(X)

    def through(self, x, toward):
        """The a/b tie-line crossed by the line through x and ``toward`` (all components),
        looked for over the whole stretch of that line inside the composition simplex
        (for a binary: every composition), or None."""
        d = toward - x
        if not np.any(d != 0.0):
            return None
        # the line's parameter range where every mole fraction stays in [1e-9, 1 - 1e-9]
        lo, hi = -np.inf, np.inf
        for xi, di in zip(x, d):
            if di != 0.0:
                a, b = (1e-9 - xi) / di, (1.0 - 1e-9 - xi) / di
                lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
        s = np.linspace(lo, hi, 4 * _SCAN)
        return self.tie_line(x[None, :] + s[:, None] * d[None, :])

    def describe(self, x, toward) -> str:
        """Where a composition x on b's side of the tie-line lies, for messages (the
        tie-line is looked for on the line through x and ``toward``, e.g. the
        neighbouring region's composition)."""
        tl = self.through(x, toward)
        if tl is None:
            return f"{self.b} alone is stable there at {self.T:g} K"
        xa, xb = tl
        return (
            f"it lies on the {self.b} side of the {self.a}/{self.b} tie-line at {self.T:g} K "
            f"({self.a}: {_fmt(self.components, xa)}; {self.b}: {_fmt(self.components, xb)}), where "
            f"{self.b} alone is stable"
        )


def check_side(pair: PhasePair, X, toward, where: str) -> None:
    """Every composition row X (of a region of phase a; all components) must belong to a
    (module docstring); else an InputError naming ``where`` and the side of the
    tie-line (looked for towards the composition ``toward`` of the neighbouring
    region)."""
    X = np.atleast_2d(X)
    for i, names in enumerate(pair.stable(X)):
        if not names:
            raise InputError(
                f"{where}: no {pair.a} + {pair.b} equilibrium converges at "
                f"{_fmt(pair.components, X[i])}, T = {pair.T:g} K"
            )
        if "a" not in names:
            raise InputError(
                f"{where}: {_fmt(pair.components, X[i])} is outside the {pair.a} phase field: "
                + pair.describe(X[i], toward)
            )
