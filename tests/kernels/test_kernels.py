"""Kernel contracts: status codes instead of exceptions, NaN (never zeros) on failure,
warm starts, batches."""

from __future__ import annotations

import numpy as np
from conftest import CASES_DB

from kinsim.kernels.codes import STATUS_BAD_COMPOSITION, STATUS_OK, STATUS_OUTSIDE_PHASE, STATUS_T_RANGE
from kinsim.phase import load_phase


def test_status_codes_and_nan_outputs():
    m = load_phase(CASES_DB / "ni-cr-al.tdb", "FCC_A1", ["NI", "CR", "AL"])
    X = np.array([[0.2, 0.05], [0.7, 0.5], [0.2, 0.05], [0.0, 0.1]])
    T = np.array([1473.15, 1473.15, 100.0, 1473.15])
    res = m.equilibrium(X, T, raise_on_failure=False)
    assert list(res.status) == [STATUS_OK, STATUS_BAD_COMPOSITION, STATUS_T_RANGE, STATUS_BAD_COMPOSITION]
    assert np.isfinite(res.MU[0]).all()
    for i in (1, 2, 3):
        assert np.isnan(res.MU[i]).all() and np.isnan(res.dmu_dx[i]).all() and np.isnan(res.GM[i])


def test_interstitial_capacity_exceeded():
    """(FE,SI)1(C,VA)1 holds at most x_C = 0.5."""
    m = load_phase(CASES_DB / "fe-mn-si-c.tdb", "FCC_A1", ["FE", "SI", "C"])
    res = m.equilibrium([[0.01, 0.6]], 1323.15, raise_on_failure=False)
    assert res.status[0] == STATUS_OUTSIDE_PHASE


def test_warm_start_and_batch_agree_with_cold_single_calls():
    m = load_phase(CASES_DB / "ni-cr-al.tdb", "FCC_L12", ["NI", "CR", "AL"])
    X = np.array([[0.05, 0.22], [0.06, 0.21], [0.05, 0.23]])
    cold = m.equilibrium(X, 1273.0)
    warm = m.equilibrium(X, 1273.0, y0=np.repeat(cold.site_fractions[:1], 3, axis=0))
    np.testing.assert_allclose(warm.MU, cold.MU, rtol=1e-10)
    np.testing.assert_allclose(warm.site_fractions, cold.site_fractions, atol=1e-9)
    for i in range(3):
        one = m.equilibrium(X[i : i + 1], 1273.0)
        np.testing.assert_allclose(one.dmu_dx[0], cold.dmu_dx[i], rtol=1e-8)
