"""Typed reading of one table of a case file: errors name the full key.

:class:`Section` reads the keys its schema :class:`~kinsim.case.schema.Table` declares,
with the defaults the table gives; reading a key the table does not declare is a
programming error (``KeyError``), so the parser cannot consume a key the schema (and so
the unknown-key check and the reference) does not know.
"""

from __future__ import annotations

import difflib
import math
from typing import TypeVar

from ..errors import CaseError
from ..units import parse_length, parse_time
from .schema import INTEGER, LENGTH, NUMBER, REQUIRED, STRING, TIME, Key, Table

__all__ = ["Section", "as_number", "component_items", "present", "suggest", "type_name"]

_FROM_TABLE = object()

_T = TypeVar("_T")


def present(value: _T | None, where: str) -> _T:
    """``value``, which the case needs at ``where`` (a dotted key): a key the schema
    requires, or a field a spec of its type must have.  None (a spec built in Python
    without it) is a CaseError naming the key."""
    if value is None:
        raise CaseError(f"missing key '{where}'")
    return value


def suggest(key: str, candidates) -> str:
    """`` (did you mean '...'?)`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def type_name(value) -> str:
    """How an error message names a value of the wrong type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


def as_number(v, where) -> float:
    """A finite float from a TOML integer or float."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CaseError(f"{where} must be a number, got {type_name(v)}")
    v = float(v)
    if not math.isfinite(v):
        raise CaseError(f"{where} = {v} is not finite")
    return v


def component_items(raw: dict, where: str, comps: tuple):
    """(key as written, component, value) of a table keyed by component names; unknown
    and repeated components are errors."""
    seen = set()
    for k, v in raw.items():
        c = k.strip().upper()
        if c not in comps:
            raise CaseError(
                f"{where}: unknown component '{k}'; the components are {', '.join(comps)} (thermo.components)"
            )
        if c in seen:
            raise CaseError(f"{where}: {c} given twice")
        seen.add(c)
        yield k, c, v


class Section:
    """Typed access to one table of the case file (``data``), declared by ``table``;
    ``prefix`` is its dotted name in error messages (``boundary.left.stages[1]``)."""

    def __init__(self, data: dict, prefix: str, table: Table):
        self.data = data
        self.prefix = prefix
        self.table = table

    def _spec(self, name: str) -> Key | Table:
        e = self.table.entry(name)
        if e is None:
            raise KeyError(f"the schema table [{self.table.name}] declares no key {name!r}")
        return e

    def _key_spec(self, name: str) -> Key:
        e = self._spec(name)
        if not isinstance(e, Key):
            raise KeyError(f"[{self.table.name}].{name} is a table, not a key")
        return e

    def key(self, name: str) -> str:
        """The full dotted name of key ``name``."""
        self._spec(name)
        return f"{self.prefix}.{name}" if self.prefix else name

    def has(self, name: str) -> bool:
        self._spec(name)
        return name in self.data

    def check_keys(self) -> None:
        """Every key of the table is one the schema declares (for arrays of tables, which
        the file-wide check does not enter)."""
        names = self.table.names()
        for k in self.data:
            if k not in names:
                raise CaseError(f"unknown key '{self.prefix}.{k}'" + suggest(k, names))

    def raw(self, name: str, default=_FROM_TABLE):
        """The value as written (of a key or a sub-table), else the default: the table's,
        or ``default`` for a key whose default depends on the rest of the case (table
        default ``None``).  A missing required key is a CaseError."""
        spec = self._spec(name)
        if name in self.data:
            return self.data[name]
        if isinstance(spec, Key):
            table_default = spec.default
        else:  # a sub-table: an absent optional one is empty, an absent array has no entries
            table_default = REQUIRED if spec.required else (None if spec.array else {})
        if default is _FROM_TABLE:
            default = table_default
        elif table_default is not None:
            raise TypeError(f"the default of {self.key(name)} is the schema's ({table_default!r})")
        if default is REQUIRED:
            raise CaseError(f"missing key '{self.key(name)}'")
        return default

    def string(self, name: str, default=_FROM_TABLE) -> str | None:
        """Stripped, not empty; None when absent without a default."""
        v = self.raw(name, default)
        if v is None:
            return None
        if not isinstance(v, str):
            raise CaseError(f"{self.key(name)} must be a string, got {type_name(v)}")
        if not v.strip():
            raise CaseError(f"{self.key(name)} is empty")
        return v.strip()

    def choice(self, name: str, default=_FROM_TABLE) -> str | None:
        choices = self._key_spec(name).choices
        if choices is None:
            raise TypeError(f"{self.key(name)} declares no choices")
        v = self.string(name, default)
        if v is not None and v not in choices:
            raise CaseError(f"{self.key(name)} = {v!r}: use one of {', '.join(choices)}" + suggest(v, choices))
        return v

    def number(self, name: str, default=_FROM_TABLE) -> float | None:
        """A finite float; None when absent without a default."""
        v = self.raw(name, default)
        return None if v is None else as_number(v, self.key(name))

    def integer(self, name: str, default=_FROM_TABLE) -> int | None:
        """None when absent without a default."""
        v = self.raw(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise CaseError(f"{self.key(name)} must be an integer, got {type_name(v)}")
        return v

    def length(self, name: str, default=_FROM_TABLE) -> float | None:
        """m; None when absent without a default."""
        v = self.raw(name, default)
        return None if v is None else parse_length(v, self.key(name))

    def time(self, name: str, default=_FROM_TABLE) -> float | None:
        """s; None when absent without a default."""
        v = self.raw(name, default)
        return None if v is None else parse_time(v, self.key(name))

    def get(self, name: str, default=_FROM_TABLE):
        """The value of a plain key, read by its schema type (a string key with choices
        must be one of them); lengths and times in SI units."""
        spec = self._key_spec(name)
        if spec.type is STRING:
            return self.choice(name, default) if spec.choices else self.string(name, default)
        reader = {INTEGER: self.integer, NUMBER: self.number, LENGTH: self.length, TIME: self.time}.get(spec.type)
        if reader is None:
            raise TypeError(f"{self.key(name)} ({spec.type.name}) is read by its own parser, not get()")
        return reader(name, default)
