"""The reference of every case-file key, generated from the schema tables.

``kinsim case-keys`` prints it; docs/case-keys.md holds the same text (a test fails when
it is not current).
"""

from __future__ import annotations

from .schema import SCHEMA, Key, Table

__all__ = ["reference_markdown"]

REGENERATE = "kinsim case-keys > docs/case-keys.md"

_INTRO = f"""\
# Case-file keys

<!-- Generated from kinsim/case/schema.py; do not edit. Regenerate with: {REGENERATE} -->

Every key a case file (TOML) may hold, table by table.  A key not listed here is an
error that names it.  Any key may be changed on the command line with
`kinsim run CASE.toml --set table.key=value` (and varied with `kinsim sweep --vary`).

Values with a unit are a number in that SI unit or a string with a unit:
lengths `"50 mm"` (m, cm, mm, um, nm), times `"13 d"` (s, ms, min, h, d),
temperatures `"1050 degC"` (K, degC).  Compositions name every independent component
(all of `thermo.components` but the first, which is the balance).  *required with X*:
the key must be given when the table's type or kind is X, and must not be given
otherwise.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(key: Key) -> str:
    if key.choices:
        return f"{key.type.name}: " + ", ".join(f"`{c}`" for c in key.choices)
    return key.type.name


def _row(name: str, type_: str, default: str, unit: str, doc: str) -> str:
    return "| " + " | ".join(_cell(v) for v in (f"`{name}`", type_, default, unit, doc)) + " |"


def _heading(table: Table, path: str) -> str:
    if not path:
        return "## Top level"
    brackets = f"[[{path}]]" if table.array else f"[{path}]"
    kind = "array of tables" if table.array else ("required" if table.required else "optional")
    return f"## `{brackets}` ({kind})"


def _sections(table: Table, path: str):
    prefix = f"{path}[]." if table.array else (f"{path}." if path else "")
    if table.keys or table.columns:
        lines = [_heading(table, path), ""]
        if table.doc:
            lines += [table.doc[0].upper() + table.doc[1:] + ".", ""]
        lines += ["| key | type | default | unit | description |", "|---|---|---|---|---|"]
        for key in table.keys:
            lines.append(_row(prefix + key.name, _type(key), key.default_text(), key.unit or "", key.doc))
        if table.columns:
            lines.append(
                _row(
                    prefix + "<COMPONENT>",
                    "array of numbers",
                    "required with table",
                    f"mole fraction or wt% ({path}.unit)",
                    table.columns,
                )
            )
        yield "\n".join(lines)
    elif table.doc:
        yield f"{_heading(table, path)}\n\n{table.doc[0].upper() + table.doc[1:]}."
    for sub in table.tables:
        yield from _sections(sub, f"{path}.{sub.name}" if path else sub.name)


def reference_markdown() -> str:
    """Markdown: per table a heading and one row per key with its type, default, unit and
    description."""
    return "\n\n".join([_INTRO.rstrip("\n"), *_sections(SCHEMA, "")]) + "\n"
