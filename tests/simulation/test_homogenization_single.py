"""A homogenization case whose nodes all stay in one phase gives the single-phase
solver's answer: an austenitic Fe-Cr-Ni couple (cases/databases/fe-cr-ni.tdb) run with
thermo.phases = [FCC_A1, BCC_A2] (ferrite never stable along it) and with
thermo.phase = FCC_A1.  The two paths share the fluxes, frame and stepper but not the
equilibrium solver, the Jacobian (the homogenization path adds the derivatives through
L') nor therefore the Newton iterates: the profiles agree to the solver's tolerance,
not bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES_DB


def _case(thermo, homogenization=None):
    case = {
        "title": "austenitic Fe-Cr-Ni couple",
        "thermo": {"database": str(CASES_DB / "fe-cr-ni.tdb"), "components": ["FE", "CR", "NI"], **thermo},
        "conditions": {"temperature": "1373.15 K", "duration": "20 h"},
        "grid": {"geometry": "planar", "length": "1 mm", "nodes": 40, "spacing": "linear"},
        "initial": {
            "type": "step",
            "position": "0.5 mm",
            "unit": "mole-fraction",
            "left": {"CR": 0.15, "NI": 0.20},
            "right": {"CR": 0.20, "NI": 0.35},
        },
        "boundary": {"left": {"type": "closed"}, "right": {"type": "closed"}},
        "solver": {"method": "implicit", "rtol": 1e-6},
        "output": {"snapshots": 2},
    }
    if homogenization:
        case["homogenization"] = homogenization
    return case


@pytest.mark.parametrize("averaging", ["wiener-upper", "hashin-shtrikman-lower"])
def test_single_phase_everywhere_is_the_single_phase_answer(averaging):
    import kinsim

    one = kinsim.run(_case({"phase": "FCC_A1"}))
    many = kinsim.run(_case({"phases": ["FCC_A1", "BCC_A2"]}, {"averaging": averaging, "face_mean": "arithmetic"}))
    frac = many.extra["phase_fraction"]
    names = list(many.attrs["phase_sets"])
    fcc = names.index("FCC_A1")
    assert np.all(np.delete(frac, fcc, axis=2) == 0.0)  # austenite only, at every node and time
    assert np.max(np.abs(frac[:, :, fcc] - 1.0)) < 1e-12
    np.testing.assert_allclose(many.time, one.time)
    assert np.max(np.abs(many.x[-1] - one.x[-1])) < 1e-6
    assert np.max(np.abs(many.mu[-1] - one.mu[-1])) < 1e-2  # J/mol
    assert np.max(np.abs(one.x[-1] - one.x[0])) > 1e-2  # the couple did interdiffuse
