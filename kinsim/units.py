"""Quantities with units -> SI floats, atomic weights, weight percent -> mole fractions.

A quantity is a number (int or float: already in the SI unit) or a string ``"<number>
<unit>"`` (the space is optional).  Each parser takes ``where``, the case-file key the
value came from, and names it in every error.

- lengths: m, cm, mm, um (also µm), nm; a bare number is metres;
- times: s, ms, min, h, d; a bare number is seconds;
- temperatures: K, degC (also °C and C); a bare number is kelvin.
"""

from __future__ import annotations

import math
import re

from .errors import CaseError

__all__ = [
    "ATOMIC_WEIGHTS",
    "LENGTH_UNITS",
    "TEMPERATURE_UNITS",
    "TIME_UNITS",
    "atomic_weight",
    "parse_length",
    "parse_temperature",
    "parse_time",
    "weight_to_mole",
]

#: Length units -> how many of them make a metre (dividing by an exact power of ten
#: gives the correctly rounded value: "25 um" -> 2.5e-05, not 2.4999999999999998e-05).
#: Both the micro sign (U+00B5) and the Greek mu (U+03BC) are accepted.
LENGTH_UNITS = {
    "m": 1.0,
    "cm": 1.0e2,
    "mm": 1.0e3,
    "um": 1.0e6,
    "\u00b5m": 1.0e6,
    "\u03bcm": 1.0e6,
    "nm": 1.0e9,
}
_LENGTH_HELP = "m, cm, mm, um, nm"

#: Time units -> seconds (with a few spelled-out aliases); "ms" is handled as 1/1000.
TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "ms": None,
    "min": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_TIME_HELP = "s, ms, min, h, d"

#: Temperature units -> offset added to the number to get kelvin.
TEMPERATURE_UNITS = {"K": 0.0, "degC": 273.15, "\u00b0C": 273.15, "C": 273.15}
_TEMP_HELP = "K, degC (or °C, C)"

# a decimal number (optionally signed, with exponent) followed by the rest (the unit)
_QUANTITY = re.compile(r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$")


def _split(value, where: str, kind: str) -> tuple[float, str | None]:
    """Number and unit text (None for a bare number) of a quantity."""
    if isinstance(value, bool):  # bool is an int in Python: never a quantity
        raise CaseError(f"{where} must be a {kind} (number or string with a unit), got {value!r}")
    if isinstance(value, (int, float)):
        num, unit = float(value), None
    elif isinstance(value, str):
        m = _QUANTITY.match(value)
        if m is None:
            raise CaseError(
                f"{where} = {value!r} is not a {kind}: expected a number followed by a unit, e.g. {_EXAMPLE[kind]!r}"
            )
        num = float(m.group("num"))
        unit = m.group("unit") or None
    else:
        raise CaseError(
            f"{where} must be a {kind} (number or string with a unit), got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(num):
        raise CaseError(f"{where} = {value!r} is not finite")
    return num, unit


_EXAMPLE = {"length": "50 mm", "time": "13 d", "temperature": "1050 degC"}


def _lookup(table: dict, unit: str):
    if unit in table:
        return table[unit]
    squeezed = unit.replace(" ", "")
    return table.get(squeezed)


def parse_length(value, where: str) -> float:
    """Length in metres from ``value`` (number = m, or "2.5 cm", "25 um", ...)."""
    num, unit = _split(value, where, "length")
    if unit is None:
        return num
    per_metre = _lookup(LENGTH_UNITS, unit)
    if per_metre is None:
        raise CaseError(f"unknown unit {unit!r} in {where} = {value!r}; use {_LENGTH_HELP}")
    return num / per_metre


def parse_time(value, where: str) -> float:
    """Time in seconds from ``value`` (number = s, or "13 d", "100 h", "30 min", ...)."""
    num, unit = _split(value, where, "time")
    if unit is None:
        return num
    key = unit if unit in TIME_UNITS else unit.replace(" ", "")
    if key not in TIME_UNITS:
        raise CaseError(f"unknown unit {unit!r} in {where} = {value!r}; use {_TIME_HELP}")
    factor = TIME_UNITS[key]
    return num / 1000.0 if factor is None else num * factor


def parse_temperature(value, where: str) -> float:
    """Temperature in kelvin from ``value`` (number = K, "1323.15 K", "1050 degC").

    A temperature at or below absolute zero is an error.
    """
    num, unit = _split(value, where, "temperature")
    offset = 0.0 if unit is None else _lookup(TEMPERATURE_UNITS, unit)
    if offset is None:
        raise CaseError(f"unknown unit {unit!r} in {where} = {value!r}; use {_TEMP_HELP}")
    kelvin = num + offset
    if not kelvin > 0.0:
        raise CaseError(f"{where} = {value!r} is {kelvin:g} K, not above absolute zero")
    return kelvin


# ---------------------------------------------------------------------------------------
# Standard atomic weights, g/mol.
# Source: IUPAC 2021 abridged standard atomic weights (five significant figures, or the
# conventional value for elements given as an interval), T. Prohaska et al., "Standard
# atomic weights of the elements 2021 (IUPAC Technical Report)", Pure Appl. Chem. 94
# (2022) 573-600, Table 2 (abridged).  Elements without a standard atomic weight
# (Tc, Pm, Po and heavier except Th, Pa, U) are not listed.
# ---------------------------------------------------------------------------------------
ATOMIC_WEIGHTS: dict[str, float] = {
    "H": 1.0080,
    "HE": 4.0026,
    "LI": 6.94,
    "BE": 9.0122,
    "B": 10.81,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "F": 18.998,
    "NE": 20.180,
    "NA": 22.990,
    "MG": 24.305,
    "AL": 26.982,
    "SI": 28.085,
    "P": 30.974,
    "S": 32.06,
    "CL": 35.45,
    "AR": 39.95,
    "K": 39.098,
    "CA": 40.078,
    "SC": 44.956,
    "TI": 47.867,
    "V": 50.942,
    "CR": 51.996,
    "MN": 54.938,
    "FE": 55.845,
    "CO": 58.933,
    "NI": 58.693,
    "CU": 63.546,
    "ZN": 65.38,
    "GA": 69.723,
    "GE": 72.630,
    "AS": 74.922,
    "SE": 78.971,
    "BR": 79.904,
    "KR": 83.798,
    "RB": 85.468,
    "SR": 87.62,
    "Y": 88.906,
    "ZR": 91.224,
    "NB": 92.906,
    "MO": 95.95,
    "RU": 101.07,
    "RH": 102.91,
    "PD": 106.42,
    "AG": 107.87,
    "CD": 112.41,
    "IN": 114.82,
    "SN": 118.71,
    "SB": 121.76,
    "TE": 127.60,
    "I": 126.90,
    "XE": 131.29,
    "CS": 132.91,
    "BA": 137.33,
    "LA": 138.91,
    "CE": 140.12,
    "PR": 140.91,
    "ND": 144.24,
    "SM": 150.36,
    "EU": 151.96,
    "GD": 157.25,
    "TB": 158.93,
    "DY": 162.50,
    "HO": 164.93,
    "ER": 167.26,
    "TM": 168.93,
    "YB": 173.05,
    "LU": 174.97,
    "HF": 178.49,
    "TA": 180.95,
    "W": 183.84,
    "RE": 186.21,
    "OS": 190.23,
    "IR": 192.22,
    "PT": 195.08,
    "AU": 196.97,
    "HG": 200.59,
    "TL": 204.38,
    "PB": 207.2,
    "BI": 208.98,
    "TH": 232.04,
    "PA": 231.04,
    "U": 238.03,
}


def atomic_weight(element: str, where: str = "components") -> float:
    """Standard atomic weight (g/mol) of ``element`` (any case)."""
    try:
        return ATOMIC_WEIGHTS[element.upper()]
    except KeyError:
        raise CaseError(
            f"{where}: no atomic weight for {element!r}, so weight percent cannot be "
            f"converted; give the composition in mole fractions"
        ) from None


def weight_to_mole(wt: dict[str, float], components: list[str], where: str = "composition") -> dict[str, float]:
    """Mole fractions of all ``components`` from weight percent of the independent ones.

    ``components[0]`` is the dependent component, the balance: its weight percent is
    100 minus the sum of ``wt``.  ``wt`` must give every other component (keys in any
    case).  Returns a dict in the order of ``components``; the dependent component's
    mole fraction is computed as 1 minus the sum of the others so they sum to 1 exactly
    in floating point as well.
    """
    comps = [c.upper() for c in components]
    given = {k.upper(): float(v) for k, v in wt.items()}
    dep, indep = comps[0], comps[1:]
    extra = [k for k in given if k not in indep]
    if extra:
        raise CaseError(f"{where}: {', '.join(extra)} not among the independent components {', '.join(indep)}")
    missing = [c for c in indep if c not in given]
    if missing:
        raise CaseError(f"{where}: weight percent of {', '.join(missing)} missing")
    for c in indep:
        if not 0.0 <= given[c] < 100.0:
            raise CaseError(f"{where}: {c} = {given[c]:g} wt% is outside [0, 100)")
    balance = 100.0 - sum(given[c] for c in indep)
    if not balance > 0.0:
        raise CaseError(
            f"{where}: weight percents of {', '.join(indep)} sum to {100.0 - balance:g}, "
            f"leaving nothing for the balance {dep}"
        )
    moles = {dep: balance / atomic_weight(dep, where)}
    for c in indep:
        moles[c] = given[c] / atomic_weight(c, where)
    total = sum(moles.values())
    x = {c: moles[c] / total for c in indep}
    out = {dep: 1.0 - sum(x.values())}
    out.update(x)
    return out
