"""Disk cache of the global-start tables of phase sets (kinsim.global_start), and of the
relaxed samples of one phase that the start-stability check starts its tangent-plane
searches from (kinsim.tangent_plane).

Building a table samples every candidate phase, relaxes the samples with the
single-phase equilibrium kernel and takes lower convex hulls with qhull: about half a
second, scipy's import and two kernels to load.  Reading it back takes a millisecond, and
gives the same arrays (a table is a pure function of its inputs), so a warm run starts
from exactly the table a cold one built.

An entry is keyed by everything a table follows from: the parameter arrays of the phase
set and of each candidate phase (which follow from the database file, the phases, the
components and the mobility policy), the temperature, the sample budget, and the source
of the code that builds it (kinsim.global_start and the kernels it calls), so that a
change of any of them builds a new table.  The entries sit next to the converted phases
(kinsim.thermo.cache: KINSIM_CACHE_DIR moves both, KINSIM_NO_CACHE=1 bypasses both).

The relaxed samples of a phase at T (``cached_samples``) are keyed the same way, by the
phase's parameter arrays, T and the code that makes them: relaxing the ~9000 samples of
an ordered phase takes 1.5 s, most of the start check of a run.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import global_start
from .kernels import gibbs, kkt, mptypes
from .kernels.mptypes import StartTable
from .thermo.cache import cache_enabled, through_cache

TABLE_FORMAT = "1"  # the layout of an entry (a pickled StartTable)
_SOURCES = (global_start, gibbs, kkt, mptypes)  # the code a table depends on


@functools.cache
def _source(module_name: str) -> bytes:
    """The source of a module, read once per process (keys are made per table and per
    batch of the end check's searches)."""
    return Path(inspect.getfile(sys.modules[module_name])).read_bytes()


def _hash_params(h, params) -> None:
    """Feed a NamedTuple of arrays and scalars (field names, dtypes, shapes, bytes) to h."""
    for name, value in params._asdict().items():
        a = np.ascontiguousarray(value)
        h.update(f"|{name}:{a.dtype.str}:{a.shape}|".encode())
        h.update(a.tobytes())


def table_key(ps, phase_params, T: float, points: int) -> str:
    """The cache key of the start table of the phase set ps (PhaseSetParams) made of the
    phases phase_params (their ThermoParams) at T (K) with ``points`` samples per phase."""
    h = hashlib.sha256(f"start-table {TABLE_FORMAT}|T={float(T)!r}|points={int(points)}".encode())
    for module in _SOURCES:
        h.update(_source(module.__name__))
    _hash_params(h, ps)
    for p in phase_params:
        _hash_params(h, p)
    return h.hexdigest()[:32]


TABLES_KEPT = 4  # start tables kept in memory across phase-set models, the ones used last
_tables: OrderedDict = OrderedDict()  # key -> StartTable, least recently used first


def cached_start_table(ps, phase_params, T: float, points: int, names) -> StartTable:
    """``kinsim.global_start.build_start_table`` through the disk cache, and kept in
    memory for the TABLES_KEPT keys used last (a run's models of the same phases, e.g.
    the end check's, and the runs of a sweep or a notebook read it once)."""
    if not cache_enabled():
        return global_start.build_start_table(ps, phase_params, T, points, names)
    key = table_key(ps, phase_params, T, points)
    tab = _tables.pop(key, None)
    if tab is None:
        tab = through_cache(
            f"start-{key}.pkl",
            lambda: global_start.build_start_table(ps, phase_params, T, points, names),
            lambda tab: isinstance(tab, StartTable) and tab.T == float(T),
        )
    _tables[key] = tab
    while len(_tables) > TABLES_KEPT:
        _tables.popitem(last=False)
    return tab


SAMPLES_FORMAT = "1"  # the layout of an entry (a pickled tuple of arrays)


def samples_key(params, T: float, build) -> str:
    """The cache key of the relaxed samples of the phase with parameter arrays ``params``
    (ThermoParams) at T (K) made by the function ``build`` (its module's source counts)."""
    h = hashlib.sha256(f"relaxed-samples {SAMPLES_FORMAT}|T={float(T)!r}".encode())
    for module in (*_SOURCES, sys.modules[build.__module__]):
        h.update(_source(module.__name__))
    _hash_params(h, params)
    return h.hexdigest()[:32]


SAMPLES_KEPT = 8  # relaxed samples kept in memory, the ones used last (cached_samples)
_samples: OrderedDict = OrderedDict()  # key -> samples, least recently used first


def cached_samples(params, T: float, build) -> tuple:
    """``build(params, T)`` (a tuple of arrays, a pure function of its arguments) through
    the disk cache, and kept in memory for the SAMPLES_KEPT keys used last: the end check
    of a run searches its nodes in batches (kinsim.simulation.start_stability), each from
    the same samples."""
    if not cache_enabled():
        return build(params, T)
    key = samples_key(params, T, build)
    got = _samples.pop(key, None)
    if got is None:
        got = through_cache(
            f"samples-{key}.pkl",
            lambda: build(params, T),
            lambda got: isinstance(got, tuple) and all(isinstance(a, np.ndarray) for a in got),
        )
    _samples[key] = got
    while len(_samples) > SAMPLES_KEPT:
        _samples.popitem(last=False)
    return got
