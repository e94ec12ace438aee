"""``--set section.key=value`` overrides of a case file (``kinsim run``, ``kinsim sweep``).

The key must be one the schema declares (a table's key, an entry of a table keyed by
components such as ``initial.left.SI``, or a column of a table start); the value is
read as a TOML value (``1323``, ``"1050 degC"``, ``[1, 2]``, ``{SI = 3.8}``) or, if it is
not one, taken as a bare string (``1 h``, ``1050 degC``).  It is checked when the case is
validated, like a value written in the file.
"""

from __future__ import annotations

import tomllib

from ..errors import CaseError
from .schema import SCHEMA, Key, Table, all_key_paths
from .section import suggest

__all__ = ["apply_override", "parse_value", "raw_components"]


def parse_value(text: str):
    """A value given on the command line: a TOML value, or else the bare string."""
    text = text.strip()
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    if len(parsed) != 1:
        return text
    return parsed["value"]


def raw_components(raw) -> set[str]:
    """The components named in an unvalidated case dict (upper case), for the checks that
    need them before validation."""
    comps = raw.get("thermo", {}).get("components") if isinstance(raw.get("thermo"), dict) else None
    if isinstance(comps, list):
        return {c.strip().upper() for c in comps if isinstance(c, str)}
    return set()


def apply_override(raw: dict, text: str) -> None:
    """Set ``"section.key=value"`` in the case dict ``raw`` (before validation); a key
    the schema does not declare is a CaseError with a did-you-mean suggestion."""
    key, sep, value = text.partition("=")
    key = key.strip()
    parts = [p.strip() for p in key.split(".")]
    if not sep or not key or not all(parts):
        raise CaseError(f"--set {text!r}: expected section.key=value, e.g. grid.nodes=400")
    node: Key | Table = SCHEMA
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if isinstance(node, Key) and node.type.by_component and i == last:
            break  # a component name; checked when the table is read
        entry = node.entry(part) if isinstance(node, Table) and not node.array else None
        if entry is not None:
            node = entry
            continue
        if isinstance(node, Table) and node.columns and i == last and part.upper() in raw_components(raw):
            break  # a column of a table start ([initial])
        raise CaseError(f"--set {text}: unknown key '{key}'" + suggest(key, all_key_paths()))
    target = raw
    for i, part in enumerate(parts[:-1]):
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            sub = ".".join(parts[: i + 1])
            raise CaseError(f"--set {text}: '{sub}' is not a table in the case file")
        target = nxt
    name = parts[-1]
    if isinstance(node, Key) and node.type.by_component:  # replace an entry whatever its case in the file
        for k in [k for k in target if k.upper() == name.upper()]:
            del target[k]
    target[name] = parse_value(value)
