"""Side by side with kawin (pip install kawin) on its own single-phase example, the
Ni-Cr-Al couple: the same final profiles. Skips when kawin is not installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO
from kinsim.case import load_case
from kinsim.simulation import Simulation
from kinsim.storage import read_result

sys.path.insert(0, str(REPO / "scripts"))
kawin_ref = pytest.importorskip("kawin_ref")
if not kawin_ref.kawin_available():
    pytest.skip("kawin is not installed", allow_module_level=True)


@pytest.mark.slow
def test_nicral_couple_matches_kawin(tmp_path):
    nodes = 100
    kw = kawin_ref.kawin_nicral_couple(str(REPO / "cases" / "databases" / "ni-cr-al.tdb"), nodes=nodes)
    case = load_case(REPO / "cases" / "nicral-couple.toml", overrides=[f"grid.nodes={nodes}", "output.snapshots=1"])
    Simulation(case).run(output=tmp_path / "n.h5", progress=False)
    r = read_result(tmp_path / "n.h5")
    np.testing.assert_allclose(r.z, kw["z"], atol=1e-12)
    diff = np.abs(r.x[-1] - kw["x"]).max()
    assert diff < 5e-4, diff
