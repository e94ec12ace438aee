"""Temperature in the multiphase equilibrium: rows at several temperatures in one batch
(a start table per distinct T, kept in a small cache) against pycalphad, and a table
built at another temperature (a node following a T schedule between rebuilds), whose
audit must judge the samples at the node's own T."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TESTS_DB
from mp_oracles import assert_phase_rule_and_mass_balance, assert_same_equilibrium, pycalphad_grid

import kinsim.phaseset as phaseset
from kinsim.kernels.mpphase import mp_workspace
from kinsim.kernels.multiphase import COLD, WARM_AUDIT, mp_node_ref, mp_rows
from kinsim.phaseset import load_phases

FECRNI = TESTS_DB / "fe-cr-ni.tdb"
GAP = TESTS_DB / "miscibility-ab.tdb"


def test_rows_at_two_temperatures_in_one_batch():
    """Fe-Cr-Ni FCC_A1 + BCC_A2, rows alternating between 1273.15 K and 1373.15 K: each
    row agrees with pycalphad at its own temperature, and with a batch of its
    temperature alone (bit for bit)."""
    comps, phases = ["FE", "CR", "NI"], ["FCC_A1", "BCC_A2"]
    grids = [[0.2, 0.33, 0.45], [0.06, 0.12]]
    pts = [(a, b) for a in grids[0] for b in grids[1]]
    temps = (1273.15, 1373.15)
    X = np.array(pts * 2)
    T = np.repeat(temps, len(pts))
    order = np.argsort(np.arange(len(X)) % len(pts), kind="stable")  # interleave the temperatures
    model = load_phases(FECRNI, phases, comps)
    res = model.equilibrium(X[order], T[order])
    assert_phase_rule_and_mass_balance(res)
    sizes = set()
    for t in temps:
        ref = pycalphad_grid(FECRNI, comps, phases, t, grids)
        rows = np.flatnonzero(T[order] == t)
        alone = load_phases(FECRNI, phases, comps).equilibrium(X[order][rows], t)
        for _k, i in enumerate(rows):
            assert_same_equilibrium(res, i, ref[pts.index(tuple(X[order][i]))])
            sizes.add(len(ref[pts.index(tuple(X[order][i]))][0]))
        np.testing.assert_array_equal(res.MU[rows], alone.MU)
        np.testing.assert_array_equal(res.fractions[rows], alone.fractions)
    assert sizes == {1, 2}


def test_start_tables_are_built_once_per_temperature_and_a_few_are_kept(monkeypatch):
    built = []
    real = phaseset.cached_start_table  # built, or read from the disk cache (kinsim.phaseset_cache)

    def counting(ps, params, T, points, names):
        built.append(T)
        return real(ps, params, T, points, names)

    monkeypatch.setattr(phaseset, "cached_start_table", counting)
    model = load_phases(GAP, ["ALPHA"], ["A", "B"])
    for _ in range(3):  # a constant-temperature run: one table
        model.equilibrium([[0.3], [0.6]], 1000.0)
    assert built == [1000.0]
    assert model.start_table(1000.0) is model.start_table(1000.0)
    temps = [900.0 + 10 * k for k in range(phaseset.TABLES_KEPT + 1)]
    model.equilibrium(np.full((len(temps), 1), 0.3), temps)  # one T per row
    assert built == [1000.0] + temps
    model.start_table(temps[-1])  # kept
    model.start_table(1000.0)  # the least recently used: built again
    assert built == [1000.0] + temps + [1000.0]


def solve_with_table(model, X, T, table, mode, state):
    """mp_rows at T with a given start table from a given state (modified in place)."""
    N, n = X.shape
    out = [
        np.empty((N, len(model.phases))),
        np.empty((N, n, n)),
        np.empty((N, n - 1, n - 1)),
        np.empty(N, dtype=np.int64),
    ]
    ws = mp_workspace(model.params)
    mode = np.full(N, mode, dtype=np.int64)
    mp_rows(model.params, T, X, table, mode, *state, *out, ws, mp_node_ref(model.params, table, ws))
    return out[3]


def test_audit_with_a_table_from_another_temperature():
    """Regular solution with a gap (binodal x_B = 0.169 at 1000 K, 0.322 at 1150 K;
    spinodal 0.295 at 1000 K).  At 1000 K, solved with the table of another temperature:
    from scratch with the table of 1150 K (x_B = 0.2 starts as one set, metastable at
    1000 K, which the Newton method keeps), and warm with the audit from the one-phase
    state of 1250 K with the table of 950 K (whose Gibbs energies are higher than those
    at 1000 K: compared as they are, no sample lies below the metastable tangents).  The
    audit, judging the samples at 1000 K, finds the second sets: the results are those
    of the 1000 K table."""
    model = load_phases(GAP, ["ALPHA"], ["A", "B"])
    X = model.full_composition([[0.2], [0.5], [0.25], [0.8], [0.05]])
    own = model.equilibrium(X, 1000.0)
    assert [len(own.stable(i)) for i in range(5)] == [2, 2, 2, 2, 1]
    cold = model.empty_state(5)
    warm = model.equilibrium(X, 1250.0).state
    assert (warm.set_phase[:, 1] < 0).all()  # one set each above the critical temperature
    assert (solve_with_table(model, X, 1000.0, model.start_table(1150.0), COLD, cold) == 0).all()
    assert (solve_with_table(model, X, 1000.0, model.start_table(950.0), WARM_AUDIT, warm) == 0).all()
    for state in (cold, warm):
        np.testing.assert_allclose(state.mu, own.MU, rtol=1e-10)
        assert ((state.set_phase >= 0).sum(axis=1) == [2, 2, 2, 2, 1]).all()
        np.testing.assert_allclose(
            np.sort(state.set_amount, axis=1), np.sort(own.state.set_amount, axis=1), rtol=1e-9, atol=1e-12
        )


def test_a_warm_start_inside_the_spinodal_is_audited_into_two_sets():
    """One set at x_B = 0.3, 0.4, 0.5 (from above the critical temperature) moved to
    1000 K: inside the gap (at 0.4 and 0.5 inside the spinodal, a saddle the Newton
    method converges to).  The audit finds the far side; the set moves across the gap
    before the new one enters, and the result is the two-set equilibrium."""
    model = load_phases(GAP, ["ALPHA"], ["A", "B"])
    X = [[0.3], [0.4], [0.5]]
    hot = model.equilibrium(X, 1250.0)
    warm = model.equilibrium(X, 1000.0, state=hot.state, audit=True)
    cold = model.equilibrium(X, 1000.0)
    np.testing.assert_allclose(warm.MU, cold.MU, rtol=1e-10)
    assert all(len(warm.stable(i)) == 2 for i in range(3))


@pytest.mark.parametrize("T", [200.0, 4000.0])
def test_rows_outside_the_temperature_range(T):
    model = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"])
    res = model.equilibrium([[0.2, 0.1], [0.2, 0.1]], [1373.15, T], raise_on_failure=False)
    assert res.status[0] == 0 and res.status[1] != 0 and np.isnan(res.MU[1]).all()
