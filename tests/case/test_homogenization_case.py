"""Case files with several phases (thermo.phases) combined with the models merged beside
the homogenization model: [[region]] tables, [gradient] and periodic boundaries are
refused with one message naming the keys; closed, fixed-composition and fixed-flux ends
are read, and the case round-trips through its stored TOML."""

from __future__ import annotations

import copy

import pytest
from stefan_couple import stefan_case

from kinsim.case import from_toml, parse_case
from kinsim.errors import CaseError


def _parse(data, tmp_path):
    return parse_case(copy.deepcopy(data), tmp_path / "case.toml")


def test_several_phases_round_trip(tmp_path):
    case = _parse(stefan_case(20), tmp_path)
    assert case.thermo.phases == ("ALPHA", "BETA") and case.thermo.phase == ""
    assert case.gradient is None and case.regions == ()
    assert from_toml(case.to_toml(), tmp_path / "stored.h5") == case


def test_several_phases_with_regions_is_refused(tmp_path):
    data = stefan_case(20)
    for k in ("initial",):
        data.pop(k)
    data["grid"] = {"geometry": "planar"}
    data.pop("homogenization")
    data["region"] = [
        {"phase": "ALPHA", "width": "0.2 mm", "nodes": 10, "composition": {"B": 0.1}},
        {"phase": "BETA", "width": "0.2 mm", "nodes": 10, "composition": {"B": 0.9}},
    ]
    with pytest.raises(CaseError) as e:
        _parse(data, tmp_path)
    msg = str(e.value)
    assert "thermo.phases" in msg and "[[region]]" in msg and "\n" not in msg


def test_several_phases_with_gradient_energy_is_refused(tmp_path):
    data = stefan_case(20)
    data["gradient"] = {"kappa": 1e-14}
    with pytest.raises(CaseError) as e:
        _parse(data, tmp_path)
    msg = str(e.value)
    assert "gradient" in msg and "thermo.phases" in msg and "\n" not in msg


def test_several_phases_with_periodic_ends_is_refused(tmp_path):
    data = stefan_case(20)
    data["boundary"] = {"left": {"type": "periodic"}, "right": {"type": "periodic"}}
    with pytest.raises(CaseError) as e:
        _parse(data, tmp_path)
    msg = str(e.value)
    assert "periodic" in msg and "thermo.phases" in msg and "\n" not in msg


def test_several_phases_with_fixed_ends_are_read(tmp_path):
    data = stefan_case(20)
    data["boundary"] = {
        "left": {"type": "fixed-composition", "composition": {"B": 0.1}},
        "right": {"type": "fixed-flux", "flux": {"B": 0.0}},
    }
    case = _parse(data, tmp_path)
    assert case.boundary.left.type == "fixed-composition" and case.boundary.right.type == "fixed-flux"


def test_status_codes_are_unique_and_explained():
    """The homogenization model's status (no matrix phase) beside the spinodal and the
    minimisation codes of the merged models: one code each, each with its message."""
    from kinsim.kernels import codes

    status = {k: v for k, v in vars(codes).items() if k.startswith("STATUS_") and isinstance(v, int)}
    assert len(set(status.values())) == len(status)
    assert set(codes.STATUS_TEXT) == set(status.values())
    assert codes.STATUS_NO_MATRIX not in (codes.STATUS_SPINODAL, codes.STATUS_NEEDS_MINIMISE)


def test_a_candidate_of_the_start_check_that_is_in_thermo_phases_is_refused(tmp_path):
    """The start check of a run of several phases looks at the phases outside its local
    equilibrium: naming one of thermo.phases as a candidate is an error; another phase of
    the database is taken."""
    data = stefan_case(20)
    data["thermo"]["candidates"] = ["BETA"]
    with pytest.raises(CaseError) as e:
        _parse(data, tmp_path)
    msg = str(e.value)
    assert "thermo.candidates: BETA is in thermo.phases" in msg and "\n" not in msg
    data["thermo"]["candidates"] = []
    assert _parse(data, tmp_path).thermo.candidates == ()
