"""Disk cache of converted phases: parsing a TDB and expanding its model takes seconds,
loading the arrays takes milliseconds.  Keyed by the file's bytes, the phase, the
components and the converter version; set KINSIM_CACHE_DIR to move it, or
KINSIM_NO_CACHE=1 to bypass it."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from ..errors import DatabaseError

CONVERTER_VERSION = "7"


def cache_dir() -> Path:
    d = os.environ.get("KINSIM_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kinsim"


def cache_enabled() -> bool:
    """Whether the disk cache is used (not when KINSIM_NO_CACHE is set to anything but 0)."""
    return os.environ.get("KINSIM_NO_CACHE", "0") in ("", "0")


def read_entry(f: Path):
    """The object pickled in the cache entry f, or None if there is none or it cannot be
    read (a stale or broken entry is rebuilt by the caller)."""
    if not f.is_file():
        return None
    try:
        with open(f, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - any unreadable entry is a miss
        return None


def write_entry(f: Path, obj) -> None:
    """Pickle obj into the cache entry f atomically (a concurrent reader sees the old
    entry or the new one); a cache that cannot be written is skipped."""
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=f.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, f)
    except OSError:
        pass


def through_cache(name: str | None, build, valid):
    """``build()`` through the cache entry ``name`` (None: the cache is off); an entry that
    is missing, unreadable or not ``valid`` is built again and written."""
    if name is None:
        return build()
    f = cache_dir() / name
    got = read_entry(f)
    if got is not None and valid(got):
        return got
    got = build()
    write_entry(f, got)
    return got


def _key(data: bytes, phase: str, comps, mobility, member) -> str:
    h = hashlib.sha256()
    h.update(CONVERTER_VERSION.encode())
    h.update(data)
    h.update(
        (
            "|"
            + phase.upper()
            + "|"
            + ",".join(c.upper() for c in comps)
            + "|"
            + str(mobility)
            + "|"
            + str(bool(member))
        ).encode()
    )
    return h.hexdigest()[:32]


def cached_build(database, phase: str, components, mobility=None, member=False):
    """``build_phase`` (kinsim.thermo.tdb) through the disk cache."""
    comps = [c.strip().upper() for c in components]
    if not isinstance(database, (str, os.PathLike)):
        from .tdb import build_phase

        return build_phase(database, phase, comps, "database", mobility, member)
    path = Path(database)
    if not path.is_file():
        raise DatabaseError(f"database file not found: {path}")
    name = f"phase-{_key(path.read_bytes(), phase, comps, mobility, member)}.pkl" if cache_enabled() else None

    def build():
        from .tdb import build_phase, load_database  # pycalphad and sympy only on a cache miss

        return build_phase(load_database(path), phase, comps, str(path), mobility, member)

    params, desc = through_cache(
        name, build, lambda entry: isinstance(entry, tuple) and len(entry) == 2 and hasattr(entry[1], "database")
    )
    desc.database = str(path)  # the path this run gave (an entry may come from another)
    return params, desc


def cached_reference_gibbs_energy(database, phase: str, component: str, temperatures):
    """``reference_gibbs_energy`` (kinsim.thermo.tdb: G of the pure component in a
    reference phase at each temperature, by pycalphad) through the disk cache, keyed by
    the database's bytes, the phase, the component and the temperatures: a fixed-activity
    run imports pycalphad (seconds) only the first time."""
    import numpy as np

    T = np.ascontiguousarray(np.atleast_1d(np.asarray(temperatures, dtype=float)))
    path = Path(database)
    name = None
    if cache_enabled() and path.is_file():
        h = hashlib.sha256(f"reference {CONVERTER_VERSION}|{phase.upper()}|{component.upper()}|".encode())
        h.update(path.read_bytes())
        h.update(T.tobytes())
        name = f"reference-{h.hexdigest()[:32]}.pkl"

    def build():
        from .tdb import reference_gibbs_energy  # pycalphad and sympy only on a cache miss

        return reference_gibbs_energy(database, phase, component, T)

    return through_cache(name, build, lambda G: isinstance(G, np.ndarray) and G.shape == T.shape)
