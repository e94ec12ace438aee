"""The reference Gibbs energies of fixed-activity boundaries (G of a pure component in
its reference phase, ``kinsim.thermo.tdb.reference_gibbs_energy``) through kinsim's disk
cache (``kinsim.thermo.cache.cached_reference_gibbs_energy``): the same numbers, the
SGTE unary of graphite, and a run that finds them in the cache imports no pycalphad."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CASES_DB, REPO, graphite_gibbs

from kinsim.errors import InputError
from kinsim.thermo.cache import cached_reference_gibbs_energy

TEMPS = np.array([1173.15, 1200.0, 1223.15])


def test_cached_values_are_the_sgte_unary_with_and_without_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    first = cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS)
    assert len(list(tmp_path.glob("reference-*.pkl"))) == 1
    again = cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, [graphite_gibbs(T) for T in TEMPS], rtol=0, atol=1e-6)
    monkeypatch.setenv("KINSIM_NO_CACHE", "1")
    np.testing.assert_array_equal(
        cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS), first
    )


def test_other_temperatures_or_a_broken_entry_are_computed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    g = cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS[:1])
    (entry,) = tmp_path.glob("reference-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS[:1]) == pytest.approx(g)
    other = cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "GRAPHITE_A9", "C", TEMPS[1:])
    np.testing.assert_allclose(other, [graphite_gibbs(T) for T in TEMPS[1:]], atol=1e-6)
    assert len(list(tmp_path.glob("reference-*.pkl"))) == 2


def test_a_reference_phase_that_cannot_hold_the_component_is_still_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    with pytest.raises(
        InputError, match="CEMENTITE_D011 of fe-cr-c.tdb cannot hold pure FE: its sublattice 1 holds only C"
    ):
        cached_reference_gibbs_energy(CASES_DB / "fe-cr-c.tdb", "CEMENTITE_D011", "FE", TEMPS)
    with pytest.raises(InputError, match="reference phase LIQUIDUS is not in fe-c.tdb"):
        cached_reference_gibbs_energy(CASES_DB / "fe-c.tdb", "LIQUIDUS", "C", TEMPS)
    assert not list(tmp_path.glob("reference-*.pkl"))  # nothing cached for a refused reference


@pytest.mark.slow
def test_a_warm_fixed_activity_run_imports_no_pycalphad(tmp_path):
    """The carburizing case twice in new processes: the second finds its phase, its start
    table and graphite's G(T) in the cache, and pycalphad (seconds of imports) stays out."""
    env = {**os.environ, "KINSIM_CACHE_DIR": str(tmp_path / "cache")}
    child = (
        "import sys, kinsim\n"
        f"kinsim.run({str(REPO / 'cases' / 'fe-c-carburizing.toml')!r}, output={str(tmp_path / 'out.h5')!r}, "
        "overrides={'grid.nodes': 20, 'output.snapshots': 2})\n"
        "print('pycalphad' in sys.modules)\n"
    )
    seen = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, timeout=900)
        assert p.returncode == 0, p.stderr
        seen.append(p.stdout.split()[-1])
    assert seen == ["True", "False"]
