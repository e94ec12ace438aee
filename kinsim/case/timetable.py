"""Values that follow time: ``((t0, v0), (t1, v1), ...)`` with t in s, piecewise linear,
constant before t0 and after the last time; a constant is ``((0.0, v),)``.

A case file gives a constant or ``[[time, value], ...]`` (times with units, strictly
increasing, not negative).
"""

from __future__ import annotations

import numpy as np

from ..errors import CaseError
from ..units import parse_time

__all__ = ["TimeTable", "is_constant", "read_time_table", "table_to_toml", "table_value"]

TimeTable = tuple[tuple[float, float], ...]


def table_value(table: TimeTable, t: float) -> float:
    """The value of a time table at time ``t`` (s)."""
    ts = [p[0] for p in table]
    vs = [p[1] for p in table]
    return float(np.interp(t, ts, vs))


def is_constant(table: TimeTable) -> bool:
    return len({v for _, v in table}) == 1


def table_to_toml(table: TimeTable) -> float | list[list[float]]:
    """The case-file form of a table: a number for a constant from t = 0, else
    ``[[t, v], ...]``."""
    if len(table) == 1 and table[0][0] == 0.0:
        return float(table[0][1])
    return [[float(t), float(v)] for t, v in table]


def read_time_table(raw, where: str, parse_value) -> TimeTable:
    """A constant or a [[time, value], ...] table with strictly increasing times;
    ``parse_value(value, where)`` reads each value."""
    if not isinstance(raw, list):
        return ((0.0, parse_value(raw, where)),)
    if not raw:
        raise CaseError(f"{where} is an empty table; give [[time, value], ...]")
    out: list[tuple[float, float]] = []
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != 2:
            raise CaseError(f"{where}[{i}] must be a pair [time, value], got {row!r}")
        t = parse_time(row[0], f"{where}[{i}] (time)")
        if t < 0.0:
            raise CaseError(f"{where}[{i}]: time {t:g} s is negative")
        if out and not t > out[-1][0]:
            raise CaseError(
                f"{where}: the table's times must increase strictly; row {i} has t = {t:g} s after t = {out[-1][0]:g} s"
            )
        out.append((t, parse_value(row[1], f"{where}[{i}] (value)")))
    return tuple(out)
