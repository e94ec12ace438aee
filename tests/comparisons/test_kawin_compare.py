"""Side by side with kawin (pip install kawin) on its own single-phase example, the
Ni-Cr-Al couple: the same final profiles. CI installs kawin (.ci/run: the ``kawin`` extra);
elsewhere the test skips when kawin is not installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO, run_case

sys.path.insert(0, str(REPO / "scripts"))
kawin_ref = pytest.importorskip("kawin_ref")
if not kawin_ref.kawin_available():
    pytest.skip("kawin is not installed (pip install -e '.[test,kawin]')", allow_module_level=True)


@pytest.mark.slow
def test_nicral_couple_matches_kawin(tmp_path):
    nodes = 100
    kw = kawin_ref.kawin_nicral_couple(str(REPO / "cases" / "databases" / "ni-cr-al.tdb"), nodes=nodes)
    r = run_case(REPO / "cases" / "nicral-couple.toml", tmp_path, f"grid.nodes={nodes}", "output.snapshots=1")
    np.testing.assert_allclose(r.z, kw["z"], atol=1e-12)
    diff = np.abs(r.x[-1] - kw["x"]).max()
    assert diff < 5e-4, diff
