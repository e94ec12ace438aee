"""The node states of a homogenization run are multiphase equilibria of their own
compositions.  Between solves a node follows the tangent of its last solve
(kinsim.kernels.homogenization: moves up to 1e-7 in u, most nodes of the last
evaluation of every step), and solves start from that tangent's prediction; the
potentials and phase fractions the run stores must agree with a fresh equilibrium at the
stored compositions (``kinsim.equilibrium`` with the run's phases, from the global start)
to well within what the fluxes can feel, and the run must have used tangents."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from kinsim.kernels.gibbs import R

CASE = REPO / "cases" / "fe-cr-ni-alpha-gamma.toml"
PHASES = ["FCC_A1", "BCC_A2"]


@pytest.fixture(scope="module", params=["lower", "upper"])
def run(request):
    """kawin's Fe-Cr-Ni couple for 10 h, four snapshots, with the count of tangent
    updates of its node evaluations."""
    import kinsim
    from kinsim.kernels import homogenization as H
    from kinsim.simulation import Simulation

    scratch = {}
    arrays = Simulation._stepper_arrays

    def keep(self):
        state, fields, work = arrays(self)
        scratch["nodes"] = work.nodes.work
        return state, fields, work

    Simulation._stepper_arrays = keep
    try:
        r = kinsim.run(
            CASE,
            overrides={
                "homogenization.averaging": f"hashin-shtrikman-{request.param}",
                "conditions.duration": "10 h",
                "output.snapshots": 4,
            },
        )
    finally:
        Simulation._stepper_arrays = arrays
    return r, int(scratch["nodes"].counts[H.COUNT_TANGENTS])


def test_stored_nodes_are_the_equilibria_of_their_compositions(run):
    import kinsim
    from kinsim.analysis import phase_sets

    r, tangents = run
    assert tangents > 1000  # the last evaluations of the steps follow tangents
    T = float(r.temperature[-1])
    comps = list(r.components)
    names = phase_sets(r)
    for s in range(1, r.time.size):
        eq = kinsim.equilibrium(REPO / "cases" / "databases" / "fe-cr-ni.tdb", PHASES, comps, T, r.x[s])
        # the solve's own tolerance is 1e-10 RT, tangents add below 2e-12 RT (measured here: 5e-12 RT
        # and 4e-12 in the fractions); a wrong tangent of a move of 1e-8 would be off by ~1e-7 RT
        assert np.abs(r.mu[s] - eq.MU).max() < 1e-10 * R * T
        frac = np.zeros_like(r.extra["phase_fraction"][s])
        for i in range(r.z.size):
            for name, f in zip(eq.phase_names[i], eq.fractions[i]):
                if name:
                    frac[i, names.index(name)] = f
        assert np.abs(r.extra["phase_fraction"][s] - frac).max() < 1e-9
