"""Case files with gradient energy, periodic boundaries and initial perturbations: what is
read, what round-trips, and every combination that is refused with the key named."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB

from kinsim.case import from_toml, parse_case
from kinsim.errors import CaseError, InputError


def _case(**tables) -> dict:
    data = {
        "thermo": {"database": str(TESTS_DB / "regular-gap.tdb"), "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": 1000, "duration": 1e-3},
        "grid": {"length": "40 nm", "nodes": 64},
        "initial": {
            "type": "uniform",
            "composition": {"B": 0.5},
            "perturbation": {"type": "random", "amplitude": {"B": 1e-3}, "seed": 1},
        },
        "boundary": {"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        "gradient": {"kappa": 1e-14},
    }
    for k, v in tables.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def _parse(data, tmp_path):
    return parse_case(copy.deepcopy(data), tmp_path / "case.toml")


def test_kappa_number_is_the_identity_times_it_and_round_trips(tmp_path):
    case = _parse(_case(), tmp_path)
    np.testing.assert_array_equal(case.gradient.matrix, [[1e-14]])
    again = from_toml(case.to_toml(), tmp_path / "stored.h5")
    assert again == case
    assert again.boundary.left.type == "periodic" and again.initial.perturbation == case.initial.perturbation


def test_kappa_matrix_of_a_ternary(tmp_path):
    data = _case(
        thermo={"database": str(CASES_DB / "fe-cr-ni.tdb"), "phase": "BCC_A2", "components": ["FE", "CR", "NI"]},
        initial={"type": "uniform", "composition": {"CR": 0.3, "NI": 0.05}},
        gradient={"kappa": [[2e-14, 0.5e-14], [0.5e-14, 1e-14]]},
    )
    case = _parse(data, tmp_path)
    np.testing.assert_array_equal(case.gradient.matrix, [[2e-14, 0.5e-14], [0.5e-14, 1e-14]])


@pytest.mark.parametrize(
    "kappa, words",
    [
        (0.0, ["gradient.kappa", "positive"]),
        (-1e-14, ["gradient.kappa", "positive"]),
        ("1e-14", ["gradient.kappa", "number or"]),
        ([[1e-14, 0.0]], ["gradient.kappa", "1 x 1"]),
        ([[1e-14], [1e-14]], ["gradient.kappa", "1 x 1"]),
    ],
)
def test_bad_kappa_of_a_binary(tmp_path, kappa, words):
    with pytest.raises(CaseError) as exc:
        _parse(_case(gradient={"kappa": kappa}), tmp_path)
    for w in words:
        assert w in str(exc.value)


@pytest.mark.parametrize(
    "kappa, words",
    [
        ([[1e-14, 2e-15], [1e-15, 1e-14]], ["not symmetric", "[0][1]"]),
        ([[1e-14, 2e-14], [2e-14, 1e-14]], ["not positive definite"]),
        ([[1e-14, 0.0, 0.0], [0.0, 1e-14, 0.0], [0.0, 0.0, 1e-14]], ["2 x 2", "CR, NI"]),
    ],
)
def test_bad_kappa_matrix(tmp_path, kappa, words):
    data = _case(
        thermo={"database": str(CASES_DB / "fe-cr-ni.tdb"), "phase": "BCC_A2", "components": ["FE", "CR", "NI"]},
        initial={"type": "uniform", "composition": {"CR": 0.3, "NI": 0.05}},
        gradient={"kappa": kappa},
    )
    with pytest.raises(CaseError) as exc:
        _parse(data, tmp_path)
    assert "gradient.kappa" in str(exc.value)
    for w in words:
        assert w in str(exc.value)


@pytest.mark.parametrize(
    "boundary, words",
    [
        (
            {"left": {"type": "periodic"}, "right": {"type": "closed"}},
            ["boundary.left.type = 'periodic' needs boundary.right.type = 'periodic'"],
        ),
        (
            {"left": {"type": "closed"}, "right": {"type": "periodic"}},
            ["boundary.right.type = 'periodic' needs boundary.left.type = 'periodic'"],
        ),
        (
            {"left": {"type": "periodic"}, "right": {"type": "fixed-composition", "composition": {"B": 0.3}}},
            ["needs boundary.right.type = 'periodic'", "fixed-composition"],
        ),
        (
            {
                "left": {"stages": [{"type": "periodic", "until": 1e-4}, {"type": "closed"}]},
                "right": {"type": "periodic"},
            },
            ["boundary.left", "cannot be a stage"],
        ),
    ],
)
def test_periodic_joins_both_ends_for_the_whole_run(tmp_path, boundary, words):
    with pytest.raises(CaseError) as exc:
        _parse(_case(boundary=boundary), tmp_path)
    for w in words:
        assert w in str(exc.value)


def test_periodic_needs_a_planar_grid(tmp_path):
    with pytest.raises(CaseError, match="periodic.*grid.geometry = 'planar'"):
        _parse(
            _case(grid={"geometry": "cylindrical", "length": "40 nm", "nodes": 64, "inner_radius": "1 nm"}), tmp_path
        )


def test_periodic_without_gradient_energy_is_a_case(tmp_path):
    case = _parse(_case(gradient=None), tmp_path)
    assert case.gradient is None and case.boundary.right.type == "periodic"


@pytest.mark.parametrize(
    "side, cond",
    [
        ("left", {"type": "fixed-composition", "composition": {"B": 0.3}}),
        ("right", {"type": "fixed-activity", "activity": {"B": 0.5}, "reference": {"B": "ALPHA"}}),
        ("left", {"type": "fixed-potential", "mu": {"B": -1e4}}),
        ("right", {"stages": [{"type": "closed", "until": 1e-4}, {"type": "fixed-potential", "mu": {"B": -1e4}}]}),
    ],
)
def test_boundaries_without_a_gradient_condition_are_refused(tmp_path, side, cond):
    other = "right" if side == "left" else "left"
    with pytest.raises(CaseError) as exc:
        _parse(_case(boundary={side: cond, other: {"type": "closed"}}), tmp_path)
    msg = str(exc.value)
    assert f"boundary.{side}" in msg and "not supported with gradient energy" in msg
    assert "closed, fixed-flux, periodic" in msg


def test_closed_and_fixed_flux_ends_are_accepted(tmp_path):
    case = _parse(
        _case(boundary={"left": {"type": "fixed-flux", "flux": {"B": 1e-6}}, "right": {"type": "closed"}}), tmp_path
    )
    assert case.boundary.left.type == "fixed-flux"


def test_explicit_steps_are_refused_with_gradient_energy(tmp_path):
    with pytest.raises(CaseError, match="solver.method = 'explicit'.*implicit"):
        _parse(_case(solver={"method": "explicit"}), tmp_path)


def test_interstitial_components_are_refused(tmp_path):
    from kinsim.simulation import Simulation

    data = _case(
        thermo={"database": str(CASES_DB / "fe-c.tdb"), "phase": "FCC_A1", "components": ["FE", "C"]},
        initial={"type": "uniform", "composition": {"C": 0.01}},
        conditions={"temperature": 1173, "duration": 1.0},
    )
    with pytest.raises(InputError, match="gradient: C is interstitial in FCC_A1.*substitutional components only"):
        Simulation(_parse(data, tmp_path))


# ---------------------------------------------------------------------------- perturbations
def _profile(tmp_path, perturbation, nodes=64, **tables):
    initial = {"type": "uniform", "composition": {"B": 0.5}, "perturbation": perturbation}
    case = _parse(_case(initial=initial, grid={"length": "40 nm", "nodes": nodes}, **tables), tmp_path)
    g = case.make_grid()
    return case, g, case.initial.profile(g.z, g.volume)


def test_random_perturbation_is_reproducible_bounded_and_mean_free(tmp_path):
    case, g, x = _profile(tmp_path, {"type": "random", "amplitude": {"B": 1e-3}, "seed": 7})
    _, _, again = _profile(tmp_path, {"type": "random", "amplitude": {"B": 1e-3}, "seed": 7})
    _, _, other = _profile(tmp_path, {"type": "random", "amplitude": {"B": 1e-3}, "seed": 8})
    np.testing.assert_array_equal(x, again)
    assert np.abs(x - other).max() > 1e-4
    d = x[:, 1] - 0.5
    assert np.abs(d).max() <= 2e-3 and d.std() > 2e-4
    assert abs(np.sum(g.volume * d)) < 1e-18
    np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_cosine_perturbation_is_the_sum_of_its_modes(tmp_path):
    case, g, x = _profile(tmp_path, {"type": "cosine", "amplitude": {"B": 2e-3}, "wavelengths": ["20 nm", "10 nm"]})
    expected = 0.5 + 2e-3 * (np.cos(2 * np.pi * g.z / 20e-9) + np.cos(2 * np.pi * g.z / 10e-9))
    np.testing.assert_allclose(x[:, 1], expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "perturbation, words",
    [
        ({"type": "cosine", "amplitude": {"B": 1e-3}}, ["initial.perturbation.wavelengths"]),
        (
            {"type": "cosine", "amplitude": {"B": 1e-3}, "wavelengths": ["10 nm"], "seed": 1},
            ["initial.perturbation.seed", "not used with type = 'cosine'"],
        ),
        (
            {"type": "random", "amplitude": {"B": 1e-3}, "wavelengths": ["10 nm"]},
            ["initial.perturbation.wavelengths", "not used with type = 'random'"],
        ),
        ({"type": "random", "amplitude": {"A": 1e-3}}, ["initial.perturbation.amplitude.A", "dependent"]),
        ({"type": "random", "amplitude": {"C": 1e-3}}, ["initial.perturbation.amplitude", "unknown component 'C'"]),
        ({"type": "random", "amplitude": {"B": -1e-3}}, ["initial.perturbation.amplitude.B", "(0, 1)"]),
        ({"type": "cosine", "amplitude": {"B": 1e-3}, "wavelengths": [0]}, ["initial.perturbation.wavelengths[0]"]),
        ({"type": "wave", "amplitude": {"B": 1e-3}}, ["initial.perturbation.type", "random, cosine"]),
        ({"type": "random"}, ["initial.perturbation.amplitude"]),
    ],
)
def test_bad_perturbations(tmp_path, perturbation, words):
    with pytest.raises(CaseError) as exc:
        _profile(tmp_path, perturbation)
    for w in words:
        assert w in str(exc.value)
