"""External potentials ``[[potential]]``: Phi_k(z, t) added to the chemical potential of a
species (stress, pressure, electric field or a plain energy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..expression import check as check_expression
from ..expression import evaluate
from ..units import parse_length
from .schema import SCHEMA
from .section import Section, as_number, present
from .timetable import TimeTable, read_time_table

__all__ = ["FARADAY", "PotentialSpec", "read_potentials"]

FARADAY = 96485.33212  # C/mol (CODATA 2018, exact since the 2019 SI redefinition)


@dataclass(frozen=True)
class PotentialSpec:
    """An external potential Phi(z, t) added to the chemical potential of ``species``:
    stress: -sigma(z) V (hydrostatic stress, tension positive, V the partial molar
    volume); pressure: p(z) V; electric: charge F phi(z); energy: the value in J/mol.
    The field is a table (``z``, ``value``) or an ``expression`` in z (m); it is
    multiplied by the time table ``time`` (1 when not given)."""

    species: str
    kind: str
    volume: float | None = None  # m^3/mol (stress, pressure)
    charge: float | None = None  # elementary charges (electric)
    z: tuple[float, ...] | None = None
    value: tuple[float, ...] | None = None
    expression: str | None = None
    time: TimeTable = ((0.0, 1.0),)

    def factor(self) -> float:
        """J/mol per unit of the field."""
        if self.kind == "stress":
            return -float(present(self.volume, "potential.volume"))
        if self.kind == "pressure":
            return float(present(self.volume, "potential.volume"))
        if self.kind == "electric":
            return float(present(self.charge, "potential.charge")) * FARADAY
        return 1.0

    def field_at(self, z) -> np.ndarray:
        """The field (Pa, V or J/mol) at positions z (m)."""
        z = np.asarray(z, dtype=float)
        if self.expression is not None:
            return np.broadcast_to(evaluate(self.expression, z), z.shape).astype(float)
        return np.interp(
            z, np.asarray(present(self.z, "potential.z")), np.asarray(present(self.value, "potential.value"))
        )

    def phi(self, z) -> np.ndarray:
        """Phi (J/mol) at positions z without the time factor."""
        return self.factor() * self.field_at(z)

    def to_dict(self) -> dict:
        """The entry in the case-file schema."""
        out: dict = {"species": self.species, "kind": self.kind}
        if self.volume is not None:
            out["volume"] = self.volume
        if self.charge is not None:
            out["charge"] = self.charge
        if self.expression is not None:
            out["expression"] = self.expression
        else:
            out["z"] = [float(v) for v in present(self.z, "potential.z")]
            out["value"] = [float(v) for v in present(self.value, "potential.value")]
        if self.time != ((0.0, 1.0),):
            out["time"] = [[float(t), float(v)] for t, v in self.time]
        return out


def _potential(sec: Section, comps: tuple, lo: float, hi: float) -> PotentialSpec:
    where = sec.prefix
    sec.check_keys()
    sp = present(sec.string("species"), sec.key("species")).upper()
    if sp not in comps:
        raise CaseError(
            f"{where}.species = '{sp}' is not a component of this case (thermo.components: {', '.join(comps)})"
        )
    kind = present(sec.choice("kind"), sec.key("kind"))
    volume: float | None = None
    charge: float | None = None
    if kind in ("stress", "pressure"):
        volume = sec.number("volume")
        if sec.has("charge"):
            raise CaseError(f"{where}.charge is not used with kind = '{kind}'")
    else:
        if sec.has("volume"):
            raise CaseError(f"{where}.volume is not used with kind = '{kind}'")
        if kind == "electric":
            charge = sec.number("charge")
    zt: tuple[float, ...] | None = None
    vt: tuple[float, ...] | None = None
    expr: str | None = None
    if sec.has("expression"):
        if sec.has("z") or sec.has("value"):
            raise CaseError(f"{where}: give either an expression or a table (z, value), not both")
        expr = present(sec.string("expression"), sec.key("expression"))
        check_expression(expr, f"{where}.expression")
        vals = np.asarray(evaluate(expr, np.linspace(lo, hi, 11)), dtype=float)
        if not np.all(np.isfinite(vals)):
            raise CaseError(f"{where}.expression = {expr!r} is not finite on the domain [{lo:g}, {hi:g}] m")
    else:
        zs, vs = sec.raw("z"), sec.raw("value")
        if not isinstance(zs, list) or len(zs) < 2:
            raise CaseError(f"{where}.z must be an array of at least two positions")
        if not isinstance(vs, list) or len(vs) != len(zs):
            raise CaseError(f"{where}.value must be an array of {len(zs)} numbers (one per {where}.z)")
        zt = tuple(parse_length(v, f"{where}.z[{j}]") for j, v in enumerate(zs))
        vt = tuple(as_number(v, f"{where}.value[{j}]") for j, v in enumerate(vs))
        for j in range(1, len(zt)):
            if not zt[j] > zt[j - 1]:
                raise CaseError(f"{where}.z must increase strictly: z[{j - 1}] = {zt[j - 1]:g} m, z[{j}] = {zt[j]:g} m")
    time = read_time_table(sec.raw("time"), sec.key("time"), as_number)
    return PotentialSpec(sp, kind, volume, charge, zt, vt, expr, time)


def read_potentials(top: Section, comps: tuple, lo: float, hi: float) -> tuple[PotentialSpec, ...]:
    """Every ``[[potential]]`` of the case (``top``: the whole file) on the domain
    [lo, hi] (m)."""
    raw = top.raw("potential")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise CaseError("potential must be an array of tables ([[potential]])")
    table = SCHEMA.find("potential")
    return tuple(_potential(Section(e, f"potential[{i}]", table), comps, lo, hi) for i, e in enumerate(raw))
