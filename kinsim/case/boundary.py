"""Boundary conditions: the two sides of the domain, each a sequence of stages in time.

``[boundary.left]`` / ``[boundary.right]`` hold one condition, or
``[[boundary.<side>.stages]]`` several, each but the last with ``until`` (its end time).
``periodic`` joins the two ends: it is the one condition of both sides.
The values of a condition are time tables in absolute run time (see
:mod:`kinsim.case.timetable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import CaseError
from .composition import check_fraction, read_composition
from .schema import SCHEMA
from .section import Section, as_number, component_items, present, type_name
from .timetable import TimeTable, read_time_table, table_to_toml, table_value

__all__ = ["BoundarySide", "BoundarySpec", "BoundaryStage", "read_boundary"]

# the key that holds a stage's values, by type
_VALUES_KEY = {
    "fixed-composition": "composition",
    "fixed-flux": "flux",
    "fixed-activity": "activity",
    "fixed-potential": "mu",
}


def stage_key(side: str, stages, j: int, name: str) -> str:
    """The case-file key of ``name`` in stage j of a side with these stages, as messages
    name it: boundary.left.composition, or boundary.left.stages[1].composition when the
    side has several stages."""
    return f"boundary.{side}" + (f".stages[{j}]" if len(stages) > 1 else "") + f".{name}"


@dataclass(frozen=True)
class BoundaryStage:
    """One boundary condition of one side, in force until ``until`` (s; None: to the end).

    The per-component values are time tables in absolute run time.  For
    fixed-composition, ``values`` holds the mole fraction of every independent component
    (the dependent one is the balance); for fixed-flux the flux into the specimen
    (mol m^-2 s^-1, volume-fixed frame); for fixed-activity the activity (with the
    reference phase in ``reference``); for fixed-potential the chemical potential (J/mol).
    Components a fixed-flux/-activity/-potential stage does not name are closed."""

    type: str
    values: dict[str, TimeTable] = field(default_factory=dict)
    reference: dict[str, str] = field(default_factory=dict)
    until: float | None = None
    dependent: str = ""  # fixed-composition: the balance component

    def composition_at(self, t: float) -> dict[str, float]:
        """fixed-composition: mole fractions of all components at time t."""
        x = {c: table_value(v, t) for c, v in self.values.items()}
        return {self.dependent: 1.0 - sum(x.values()), **x}

    def times(self) -> list[float]:
        """Every time named in the stage's tables."""
        return sorted({t for tab in self.values.values() for t, _ in tab})

    def fixed_compositions(self) -> list[dict[str, float]]:
        """The compositions a fixed-composition stage imposes: the mole fractions of all
        components at every time its tables name (one for constants); [] for other types."""
        if self.type != "fixed-composition":
            return []
        return [self.composition_at(t) for t in self.times()]

    def to_dict(self) -> dict:
        """The stage in the case-file schema (mole fractions, s)."""
        out: dict = {"type": self.type}
        key = _VALUES_KEY.get(self.type)
        if key == "composition":
            out["unit"] = "mole-fraction"
        if key:
            out[key] = {c: table_to_toml(v) for c, v in self.values.items()}
        if self.reference:
            out["reference"] = dict(self.reference)
        if self.until is not None:
            out["until"] = float(self.until)
        return out


@dataclass(frozen=True)
class BoundarySide:
    stages: tuple[BoundaryStage, ...]

    @property
    def type(self) -> str:
        """The type of the first stage."""
        return self.stages[0].type

    @property
    def composition(self) -> dict[str, float] | None:
        """fixed-composition (first stage): mole fractions of all components at t = 0."""
        st = self.stages[0]
        if st.type != "fixed-composition":
            return None
        return st.composition_at(0.0)

    @property
    def closed(self) -> bool:
        """True when every stage is closed (no matter crosses this side, ever)."""
        return all(st.type == "closed" for st in self.stages)

    def to_dict(self) -> dict:
        if len(self.stages) == 1:
            return self.stages[0].to_dict()
        return {"stages": [st.to_dict() for st in self.stages]}


@dataclass(frozen=True)
class BoundarySpec:
    left: BoundarySide
    right: BoundarySide

    def to_dict(self) -> dict:
        return {"left": self.left.to_dict(), "right": self.right.to_dict()}


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _check_activity(v: float, where: str) -> None:
    if not (v > 0.0 and math.isfinite(v)):
        raise CaseError(f"{where}: activity {v:g} is outside (0, inf)")


def _component_tables(raw, where: str, comps: tuple, independent_only: bool, check) -> dict[str, TimeTable]:
    """A table {component = constant or time table}, in the order of ``comps``."""
    if not isinstance(raw, dict) or not raw:
        raise CaseError(
            f"{where} must be a table of component values, e.g. {{ {comps[-1]} = ... }}, got {type_name(raw)}"
        )
    out: dict[str, TimeTable] = {}
    for k, c, v in component_items(raw, where, comps):
        if independent_only and c == comps[0]:
            raise CaseError(
                f"{where}: {c} is the dependent component (the balance, first in "
                f"thermo.components); its value follows from the others"
            )
        tab = read_time_table(v, f"{where}.{k}", as_number)
        if check is not None:
            for i, (_, val) in enumerate(tab):
                check(val, f"{where}.{k}" + (f"[{i}]" if isinstance(v, list) else ""))
        out[c] = tab
    return {c: out[c] for c in comps if c in out}


def _fixed_composition(sec: Section, comps: tuple) -> dict[str, TimeTable]:
    where = sec.key("composition")
    unit = present(sec.choice("unit"), sec.key("unit"))
    raw = sec.raw("composition")
    if isinstance(raw, dict) and any(isinstance(v, list) for v in raw.values()):
        if unit != "mole-fraction":
            raise CaseError(f"{where}: time tables need unit = 'mole-fraction'")
        values = _component_tables(raw, where, comps, independent_only=True, check=check_fraction)
        missing = [c for c in comps[1:] if c not in values]
        if missing:
            raise CaseError(
                f"{where}: missing {', '.join(missing)} (every independent "
                f"component must be given; {comps[0]} is the balance)"
            )
        values = {c: values[c] for c in comps[1:]}
        for t in sorted({t for tab in values.values() for t, _ in tab}):
            tot = sum(table_value(values[c], t) for c in comps[1:])
            if not tot < 1.0:
                raise CaseError(
                    f"{where}: the mole fractions sum to {tot:g} at t = {t:g} s; they must leave some {comps[0]}"
                )
        return values
    x = read_composition(raw, where, comps, unit)
    return {c: ((0.0, x[c]),) for c in comps[1:]}


def _reference(sec: Section, values: dict) -> dict[str, str]:
    where = sec.prefix
    ref_raw = sec.raw("reference")
    if not isinstance(ref_raw, dict):
        raise CaseError(
            f"{where}.reference must be a table naming the reference phase of each "
            f'component, e.g. {{ C = "GRAPHITE_A9" }}, got {type_name(ref_raw)}'
        )
    reference = {}
    for k, v in ref_raw.items():
        c = k.strip().upper()
        if c not in values:
            raise CaseError(f"{where}.reference.{k}: {c} has no activity in {where}.activity")
        if not isinstance(v, str) or not v.strip():
            raise CaseError(f"{where}.reference.{k} must be a phase name, got {type_name(v)}")
        reference[c] = v.strip().upper()
    missing = [c for c in values if c not in reference]
    if missing:
        raise CaseError(
            f"{where}.reference: give the reference phase of {', '.join(missing)} "
            f"(the state of activity 1, e.g. GRAPHITE_A9 for C)"
        )
    return reference


def _stage(sec: Section, comps: tuple) -> BoundaryStage:
    """One condition: a stage of [[boundary.<side>.stages]] or the side itself."""
    where = sec.prefix
    sec.check_keys()
    kind = present(sec.choice("type"), sec.key("type"))
    until = sec.time("until")
    used = {
        "closed": set(),
        "fixed-composition": {"composition", "unit"},
        "fixed-flux": {"flux"},
        "fixed-activity": {"activity", "reference"},
        "fixed-potential": {"mu"},
        "periodic": set(),
    }[kind]
    for k in ("composition", "unit", "flux", "activity", "mu", "reference"):
        if sec.has(k) and k not in used:
            raise CaseError(f"{where}.{k} is not used with type = '{kind}'")
    if kind in ("closed", "periodic"):
        return BoundaryStage(kind, until=until)
    if kind == "fixed-composition":
        return BoundaryStage(kind, _fixed_composition(sec, comps), until=until, dependent=comps[0])
    if kind == "fixed-flux":
        values = _component_tables(sec.raw("flux"), sec.key("flux"), comps, independent_only=True, check=None)
        return BoundaryStage(kind, values, until=until)
    if kind == "fixed-potential":
        values = _component_tables(sec.raw("mu"), sec.key("mu"), comps, independent_only=False, check=None)
        return BoundaryStage(kind, values, until=until)
    values = _component_tables(
        sec.raw("activity"), sec.key("activity"), comps, independent_only=False, check=_check_activity
    )
    return BoundaryStage(kind, values, _reference(sec, values), until=until)


def _side(boundary: Section, side: str, comps: tuple, duration: float) -> BoundarySide:
    data = boundary.raw(side)
    sec = Section(data, boundary.key(side), SCHEMA.find(f"boundary.{side}"))
    where = sec.prefix
    if sec.has("stages"):
        other = [k for k in data if k != "stages"]
        if other:
            raise CaseError(
                f"{where}: give either stages ([[{where}.stages]]) or one condition, "
                f"not both ({', '.join(other)} next to stages)"
            )
        raw_stages = sec.raw("stages")
        if not isinstance(raw_stages, list) or not raw_stages or not all(isinstance(e, dict) for e in raw_stages):
            raise CaseError(f"{where}.stages must be an array of tables ([[{where}.stages]])")
        table = sec.table.find("stages")
        stages = [_stage(Section(e, f"{where}.stages[{i}]", table), comps) for i, e in enumerate(raw_stages)]
    else:
        stages = [_stage(sec, comps)]
    prev = 0.0
    for i, st in enumerate(stages):
        last = i == len(stages) - 1
        w = f"{where}.stages[{i}].until" if len(stages) > 1 else f"{where}.until"
        if st.until is None and not last:
            raise CaseError(f"{w} is missing: every stage but the last needs an end time")
        if st.until is not None:
            if last:
                raise CaseError(f"{w}: the last stage lasts to the end of the run; remove 'until'")
            if not st.until > prev:
                raise CaseError(f"{w} = {st.until:g} s: stage end times must increase strictly (previous {prev:g} s)")
            if not st.until < duration:
                raise CaseError(
                    f"{w} = {st.until:g} s is not before the end of the run (conditions.duration = {duration:g} s)"
                )
            prev = st.until
    return BoundarySide(tuple(stages))


def _check_periodic(left: BoundarySide, right: BoundarySide) -> None:
    """A periodic side is periodic for the whole run, and so is the other side."""
    for name, side, other in (("left", left, right), ("right", right, left)):
        if not any(st.type == "periodic" for st in side.stages):
            continue
        if len(side.stages) > 1:
            raise CaseError(
                f"boundary.{name}: type = 'periodic' joins the two ends for the whole run; it cannot be a stage"
            )
        oname = "right" if name == "left" else "left"
        if len(other.stages) > 1 or other.type != "periodic":
            raise CaseError(
                f"boundary.{name}.type = 'periodic' needs boundary.{oname}.type = 'periodic' too "
                f"(got '{other.type}'{' stages' if len(other.stages) > 1 else ''}): periodic joins "
                f"the two ends"
            )


def read_boundary(boundary: Section, comps: tuple, duration: float) -> BoundarySpec:
    """Both sides of ``[boundary]`` (a missing side is closed)."""
    left = _side(boundary, "left", comps, duration)
    right = _side(boundary, "right", comps, duration)
    _check_periodic(left, right)
    return BoundarySpec(left, right)
