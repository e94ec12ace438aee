"""Darken's Fe-Si-C couple (Trans. AIME 180 (1949) 430), the shipped case.

What a correct simulation shows (shared/reference/darken-1949.md): carbon depleted
just inside the Si-rich side and enriched just inside the Si-lean side, carbon's
chemical potential continuous across the weld (its content jumps), far-field carbon
contents close to the initial ones, silicon hardly moving; and the answer must not
change (1 %) when the grid is refined.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from kinsim.case import load_case
from kinsim.simulation import Simulation
from kinsim.storage import read_result

CASE = REPO / "cases" / "darken-fe-si-c.toml"
WELD = 25e-3


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("darken")
    out = {}
    for nodes in (120, 240):
        case = load_case(CASE, overrides=[f"grid.nodes={nodes}", "output.snapshots=4"])
        Simulation(case).run(output=d / f"d{nodes}.h5", progress=False)
        out[nodes] = read_result(d / f"d{nodes}.h5")
    return out


def test_uphill_diffusion_of_carbon(runs):
    r = runs[240]
    assert r.status == "completed"
    x0, x = r.x[0], r.x[-1]
    z = r.z
    C, SI = 2, 1
    left = z < WELD
    # carbon leaves the Si-rich (left) side near the weld and piles up on the Si-lean side
    assert x[left, C].min() < 0.85 * x0[0, C]
    assert x[~left, C].max() > 1.2 * x0[-1, C]
    i_min = np.argmin(np.where(left, x[:, C], np.inf))
    i_max = np.argmax(np.where(~left, x[:, C], -np.inf))
    assert WELD - 5e-3 < z[i_min] < WELD and WELD < z[i_max] < WELD + 5e-3
    # uphill: right of the weld carbon rises towards the weld although its content there is already higher
    assert x[i_max, C] > x[-1, C] and x[i_min, C] < x[0, C]
    # far field close to the initial contents
    assert abs(x[0, C] - x0[0, C]) < 0.03 * x0[0, C]
    assert abs(x[-1, C] - x0[-1, C]) < 0.03 * x0[-1, C]
    # silicon, ~10^4 times slower, stays a step: 1 mm from the weld it has not changed
    for zz, xs in ((WELD - 1e-3, x0[0, SI]), (WELD + 1e-3, x0[-1, SI])):
        assert np.interp(zz, z, x[:, SI]) == pytest.approx(xs, rel=0.01, abs=1e-5)


def test_carbon_potential_continuous_while_content_jumps(runs):
    """Across the narrow zone where silicon changes (90 % -> 10 % of its step) the carbon
    content jumps by a large part of its whole range, its chemical potential hardly."""
    r = runs[240]
    SI, C = 1, 2
    x, mu = r.x[-1], r.mu[-1]
    si0, si1 = r.x[0, 0, SI], r.x[0, -1, SI]
    iL = np.flatnonzero(x[:, SI] > si1 + 0.9 * (si0 - si1)).max()
    iR = np.flatnonzero(x[:, SI] < si1 + 0.1 * (si0 - si1)).min()
    assert r.z[iR] - r.z[iL] < 0.5e-3  # a narrow zone: 1 % of the couple
    jump_x = x[iR, C] - x[iL, C]
    jump_mu = abs(mu[iR, C] - mu[iL, C])
    assert jump_x > 0.3 * (x[:, C].max() - x[:, C].min())
    assert jump_mu < 0.02 * (mu[:, C].max() - mu[:, C].min())


def test_grid_refinement_changes_less_than_one_percent(runs):
    a, b = runs[120], runs[240]
    C = 2
    xa = np.interp(b.z, a.z, a.x[-1, :, C])
    # compare away from the weld's discontinuity (one coarse cell each side)
    h = 2 * np.diff(a.faces).max()
    far = np.abs(b.z - WELD) > 0.5e-3
    rng = b.x[-1, :, C].max() - b.x[-1, :, C].min()
    assert np.abs(xa - b.x[-1, :, C])[far].max() < 0.01 * rng
    assert h > 0


def test_result_file_records_the_mobility_policy(runs):
    r = runs[120]
    assert r.attrs["mobility_policy"] == "solvent"
    assert "MQ(FCC_A1&C,SI:VA;0)" in r.attrs["mobility_substituted"]
