"""Side by side with kawin's homogenization model (pip install kawin; CI installs it) on
its own example, the Fe-Cr-Ni alpha/gamma couple (cases/fe-cr-ni-alpha-gamma.toml: the
same couple, temperature, time, grid, closed ends, ideal term eps = 0.01), for both
Hashin-Shtrikman bounds: the same final profiles within 5e-3 (mole fraction).  kawin
integrates explicitly with its own step, kinsim implicitly; both use local equilibrium
at every node and the geometric mean of Gamma* at a face.  Skips when kawin is not
installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
kawin_ref = pytest.importorskip("kawin_ref")
if not kawin_ref.kawin_available():
    pytest.skip("kawin is not installed", allow_module_level=True)


@pytest.mark.slow
@pytest.mark.parametrize("bound", ["lower", "upper"])
def test_fe_cr_ni_alpha_gamma_matches_kawin(bound):
    import kinsim

    kw = kawin_ref.kawin_homogenization(bound)
    r = kinsim.run(REPO / "cases" / "fe-cr-ni-alpha-gamma.toml",
                   overrides={"homogenization.averaging": f"hashin-shtrikman-{bound}", "output.snapshots": 1})
    np.testing.assert_allclose(r.z, kw["z"], atol=1e-12)
    diff = np.abs(r.x[-1] - kw["x"]).max()
    print(f"kawin hashin {bound}: max |x_kinsim - x_kawin| = {diff:.2e}")
    assert diff < 5e-3, diff
