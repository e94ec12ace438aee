"""Compositions of a case file -> mole fractions of all components.

A composition names every independent component (``thermo.components[1:]``) in mole
fractions or weight percents; the dependent one, ``thermo.components[0]``, is the
balance.  The result is a dict of mole fractions of all components in the order of
``thermo.components``.
"""

from __future__ import annotations

from ..errors import CaseError
from ..units import weight_to_mole
from .section import as_number, type_name

__all__ = ["check_fraction", "read_composition", "to_mole_fractions"]


def _fmt(values: dict) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in values.items())


def check_fraction(v: float, where: str) -> None:
    if not 0.0 < v < 1.0:
        raise CaseError(f"{where}: mole fraction {v:g} is outside (0, 1)")


def to_mole_fractions(given: dict[str, float], where: str, comps: tuple, unit: str) -> dict[str, float]:
    """Mole fractions of all components from the independent ones in ``unit``."""
    dep = comps[0]
    if unit == "weight-percent":
        for c, v in given.items():
            if not 0.0 < v < 100.0:
                raise CaseError(f"{where}: {c} = {v:g} wt% is outside (0, 100)")
        total = sum(given.values())
        if not total < 100.0:
            raise CaseError(
                f"{where}: weight percents {_fmt(given)} sum to {total:g}; they must "
                f"sum to less than 100 to leave some {dep}"
            )
        x = weight_to_mole(given, list(comps), where)
    else:
        for c, v in given.items():
            if not 0.0 < v < 1.0:
                raise CaseError(f"{where}: mole fraction {c} = {v:g} is outside (0, 1)")
        total = sum(given.values())
        if not total < 1.0:
            raise CaseError(
                f"{where}: mole fractions {_fmt(given)} sum to {total:g}; they must "
                f"sum to less than 1 to leave some {dep}"
            )
        x = {dep: 1.0 - total, **given}
    return {c: float(x[c]) for c in comps}


def read_composition(value, where: str, comps: tuple, unit: str) -> dict[str, float]:
    """A composition table ``{component = value}`` of every independent component."""
    if not isinstance(value, dict):
        raise CaseError(
            f"{where} must be a table of the independent components, "
            f"e.g. {{ {', '.join(f'{c} = ...' for c in comps[1:])} }}, "
            f"got {type_name(value)}"
        )
    given: dict[str, float] = {}
    for k, v in value.items():
        c = k.strip().upper()
        if c in given:
            raise CaseError(f"{where}: {c} given twice")
        if c not in comps:
            raise CaseError(
                f"{where}: unknown component '{k}'; the components are {', '.join(comps)} (thermo.components)"
            )
        if c == comps[0]:
            raise CaseError(
                f"{where}: {c} is the dependent component (the balance, first in "
                f"thermo.components); give only {', '.join(comps[1:])}"
            )
        given[c] = as_number(v, f"{where}.{k}")
    missing = [c for c in comps[1:] if c not in given]
    if missing:
        raise CaseError(
            f"{where}: missing {', '.join(missing)} (every independent component "
            f"must be given; {comps[0]} is the balance)"
        )
    return to_mole_fractions({c: given[c] for c in comps[1:]}, where, comps, unit)
