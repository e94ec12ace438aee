"""The disk cache of global-start tables (kinsim.phaseset_cache): a table read back is the
table built, every input of a table is part of its key, and a broken entry or a
disabled cache falls back to building."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from conftest import TESTS_DB

import kinsim.global_start as global_start
from kinsim.phaseset import load_phases
from kinsim.phaseset_cache import cached_start_table, table_key

FECRNI = TESTS_DB / "fe-cr-ni.tdb"
T = 1373.15


@pytest.fixture(scope="module")
def model():
    return load_phases(FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"])


@pytest.fixture
def phases(model, tmp_path, monkeypatch):
    """FCC_A1 + BCC_A2 of Fe-Cr-Ni with the cache in a folder of its own: (PhaseSetParams,
    the phases' ThermoParams, names, cache folder)."""
    import kinsim.phaseset_cache as pc

    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("KINSIM_NO_CACHE", raising=False)
    monkeypatch.setattr(pc, "_tables", OrderedDict())  # nothing kept in memory from before
    return model.params, [m.params for m in model.models], model.phases, tmp_path


def assert_same_table(a, b):
    for name, va, vb in zip(a._fields, a, b):
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=name)


def test_a_table_read_back_is_the_table_built(phases, monkeypatch):
    ps, params, names, folder = phases
    built = global_start.build_start_table(ps, params, T, 200, names)
    first = cached_start_table(ps, params, T, 200, names)
    assert len(list(folder.glob("start-*.pkl"))) == 1
    assert_same_table(first, built)

    def no_build(*args):
        raise AssertionError("the cached table was built again")

    monkeypatch.setattr(global_start, "build_start_table", no_build)
    assert cached_start_table(ps, params, T, 200, names) is first  # kept in memory
    import kinsim.phaseset_cache as pc

    pc._tables.clear()
    again = cached_start_table(ps, params, T, 200, names)  # read from the disk
    assert again is not first
    assert_same_table(again, built)


def test_every_input_is_part_of_the_key(phases):
    ps, params, _, _ = phases
    key = table_key(ps, params, T, 200)
    assert table_key(ps, params, T, 200) == key
    assert table_key(ps, params, T + 1e-9, 200) != key
    assert table_key(ps, params, T, 201) != key
    assert table_key(ps._replace(y_ratio=ps.y_ratio * 2.0), params, T, 200) != key
    assert table_key(ps, [params[0]._replace(fn_coef=params[0].fn_coef + 1.0), params[1]], T, 200) != key


def test_a_broken_entry_is_rebuilt(phases):
    ps, params, names, folder = phases
    entry = folder / f"start-{table_key(ps, params, T, 200)}.pkl"
    entry.write_bytes(b"not a pickle")
    tab = cached_start_table(ps, params, T, 200, names)
    assert_same_table(tab, global_start.build_start_table(ps, params, T, 200, names))
    assert entry.read_bytes() != b"not a pickle"  # replaced by the table


def test_no_cache_builds_and_writes_nothing(phases, monkeypatch):
    ps, params, names, folder = phases
    monkeypatch.setenv("KINSIM_NO_CACHE", "1")
    tab = cached_start_table(ps, params, T, 200, names)
    assert_same_table(tab, global_start.build_start_table(ps, params, T, 200, names))
    assert not list(folder.glob("start-*.pkl"))


def test_the_relaxed_samples_of_the_start_check_read_back_are_those_built(model, tmp_path, monkeypatch):
    """The tangent-plane search starts from the same samples whether they are relaxed or
    read from the cache (``cached_samples``), keyed by the phase, T and the code; the
    driving force is the same to the last bit; a disabled cache relaxes them again."""
    import kinsim.tangent_plane as tp
    from kinsim.phaseset_cache import cached_samples, samples_key

    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("KINSIM_NO_CACHE", raising=False)
    fcc, bcc = model.models
    mu = fcc.equilibrium(np.array([[0.25, 0.1], [0.3, 0.05]]), T).MU
    built = tp.relaxed_samples(bcc.params, T)
    first_df = tp.tangent_plane_maximum(bcc, mu, T)
    assert len(list(tmp_path.glob("samples-*.pkl"))) == 1
    calls = []
    sample = tp.sample_phase
    monkeypatch.setattr(tp, "sample_phase", lambda *a: calls.append(a) or sample(*a))  # only relaxing samples
    import kinsim.phaseset_cache as pc

    pc._samples.clear()  # read from the disk (not the copy kept in memory)
    read = cached_samples(bcc.params, T, tp.relaxed_samples)
    assert not calls  # read back, not relaxed
    assert cached_samples(bcc.params, T, tp.relaxed_samples) is read  # then kept in memory
    for a, b in zip(read, built):
        np.testing.assert_array_equal(a, b)
    again_df = tp.tangent_plane_maximum(bcc, mu, T)
    for a, b in zip(again_df, first_df):
        np.testing.assert_array_equal(a, b)
    assert not calls
    # the key follows the phase and T
    assert samples_key(bcc.params, T, tp.relaxed_samples) != samples_key(fcc.params, T, tp.relaxed_samples)
    assert samples_key(bcc.params, T, tp.relaxed_samples) != samples_key(bcc.params, T + 1.0, tp.relaxed_samples)
    monkeypatch.setenv("KINSIM_NO_CACHE", "1")
    no_cache_df = tp.tangent_plane_maximum(bcc, mu, T)
    assert len(calls) == 1
    for a, b in zip(no_cache_df, first_df):
        np.testing.assert_array_equal(a, b)
