"""The phase names of a TDB file from its PHASE commands, without parsing the file with
pycalphad (whose import and parse take seconds: a warm run loads converted phases from
the cache and needs only the names)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DatabaseError


def phase_names(path) -> list[str]:
    """Names (upper case, sorted) of the phases a TDB file declares: the second word of
    every ``PHASE`` command (commands end with ``!``; lines starting with ``$`` are
    comments), without a ``:`` suffix (``LIQUID:L``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="latin-1")
    except OSError as exc:
        raise DatabaseError(f"cannot read database {p}: {exc.strerror}") from None
    lines = (ln for ln in text.splitlines() if not ln.lstrip().startswith("$"))
    names = set()
    for command in " ".join(lines).split("!"):
        words = command.split()
        if len(words) >= 2 and words[0].upper() == "PHASE":
            names.add(words[1].split(":")[0].upper())
    if not names:
        raise DatabaseError(f"malformed TDB file {p}: no PHASE found")
    return sorted(names)
