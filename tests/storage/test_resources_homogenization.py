"""The memory and disk estimate of a homogenization run (the Fe-Cr-Ni alpha/gamma couple
on 30000 nodes) against what it takes: its node scratch, packed node states and phase
outputs (/phase_fraction, /phase_composition).  Apart from test_resources.py so that it
runs with the other multiphase tests (tests/conftest.py, KERNEL_GROUPS): one worker
compiles the multiphase kernels."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_resources import check_estimate

HOMOG = REPO / "cases" / "fe-cr-ni-alpha-gamma.toml"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["file", "memory"])
def test_estimate_of_a_homogenization_run_against_the_real_allocation(tmp_path, mode):
    check_estimate(tmp_path, HOMOG, mode, [])
