"""What becomes of a file already at the path a new result is written to.

- A result of the same case (the same resolved case but for ``output.file``:
  :func:`case_identity`) is overwritten: rerunning a case that failed, was interrupted or
  has changed nothing is what sweeps and ``kinsim run`` do.  So is an empty file.
- Anything else (a result of another case, a damaged result, a file that is not a kinsim
  result) is kept: renamed to the first free ``NAME.~N~.SUFFIX`` (``out.h5`` ->
  ``out.~1~.h5``) just before the new result is created, with a
  :class:`~kinsim.errors.KinsimNotice` saying so.

The writer decides (:func:`inspect`) while it holds the file's lock, checks the disk room
(a file it overwrites gives its bytes back) and only then acts (:func:`keep`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from kinsim.case import from_toml
from kinsim.errors import CaseError, KinsimError, KinsimNotice, ResultFileError

from .reader import read_case_text

__all__ = ["Existing", "backup_name", "case_identity", "inspect", "keep"]


def case_identity(case) -> str:
    """The identity of a run: SHA-256 of its resolved case without ``output.file``."""
    d = case.to_dict()
    d["output"].pop("file", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def _identity_of_text(text: str, source) -> str:
    """The identity of a stored case text; the text itself when it is not a valid case."""
    try:
        return case_identity(from_toml(text, source))
    except CaseError:
        return "text:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Existing:
    """The file at a result's path before the result is written."""

    path: Path
    size: int  # bytes (0: no file, or an empty one)
    replace: bool  # True: overwritten (nothing, empty, or the same case); False: kept under a new name
    held: str = ""  # what the kept file holds, for the notice


def inspect(path, case_toml: str) -> Existing:
    """What is at ``path`` and whether a new result of ``case_toml`` may overwrite it;
    :class:`ResultFileError` when ``path`` is a directory or another non-file."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return Existing(p, 0, True)
    if not p.is_file():
        raise ResultFileError(f"result file {p} exists and is not a file (a directory?); give another output file")
    size = p.stat().st_size
    if size == 0:
        return Existing(p, 0, True)
    try:
        stored = read_case_text(p)
    except (KinsimError, OSError):  # not a kinsim result, or a damaged one: keep it
        return Existing(p, size, False, "a file that is not a readable kinsim result")
    same = bool(stored) and _identity_of_text(stored, p) == _identity_of_text(case_toml, p)
    return Existing(p, size, same, "" if same else "a result of another case")


def backup_name(path: Path) -> Path:
    """The first free ``NAME.~N~.SUFFIX`` next to ``path``."""
    stem, suffix = (path.stem, path.suffix) if path.suffix else (path.name, "")
    k = 1
    while True:
        candidate = path.with_name(f"{stem}.~{k}~{suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        k += 1


def keep(existing: Existing) -> Path | None:
    """Rename a file that must not be overwritten; return its new name (None when the
    file is overwritten)."""
    if existing.replace:
        return None
    target = backup_name(existing.path)
    try:
        existing.path.rename(target)
    except OSError as exc:
        raise ResultFileError(
            f"{existing.path} holds {existing.held}, which cannot be kept as {target.name} "
            f"({exc.strerror or exc}); give another output file"
        ) from None
    warnings.warn(f"{existing.path} held {existing.held}; it is kept as {target}", KinsimNotice, stacklevel=3)
    return target
