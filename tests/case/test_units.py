"""Units: lengths, times, temperatures with units; atomic weights; wt% -> mole fractions."""

from __future__ import annotations

import pytest

from kinsim.errors import CaseError
from kinsim.units import (
    ATOMIC_WEIGHTS,
    parse_length,
    parse_temperature,
    parse_time,
    weight_to_mole,
)


@pytest.mark.parametrize(
    "text, metres",
    [
        ("50 mm", 0.05),
        ("2.5 cm", 0.025),
        ("25 um", 25e-6),
        ("25 µm", 25e-6),
        ("25 \u03bcm", 25e-6),
        ("1e-3 m", 1e-3),
        ("1e-3m", 1e-3),
        ("0.5", 0.5),
        (0.05, 0.05),
        (2, 2.0),
        ("100 nm", 1e-7),
        ("  3 mm ", 3e-3),
        (".5 mm", 5e-4),
    ],
)
def test_lengths(text, metres):
    assert parse_length(text, "grid.length") == pytest.approx(metres, rel=1e-15)


def test_length_exact_decimal():
    # dividing by a power of ten gives the correctly rounded float
    assert parse_length("25 um", "x") == 2.5e-05
    assert parse_length("50 mm", "x") == 0.05


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("13 d", 1_123_200.0),
        ("100 h", 360_000.0),
        ("30 min", 1800.0),
        ("60 s", 60.0),
        ("2.5 ms", 0.0025),
        (7, 7.0),
        ("1.5e3", 1500.0),
        ("2 days", 172800.0),
    ],
)
def test_times(text, seconds):
    assert parse_time(text, "conditions.duration") == pytest.approx(seconds, rel=1e-15)


@pytest.mark.parametrize(
    "text, kelvin",
    [
        (1323.15, 1323.15),
        (1000, 1000.0),
        ("1323.15 K", 1323.15),
        ("1050 degC", 1323.15),
        ("1050 °C", 1323.15),
        ("1050 C", 1323.15),
        ("1050degC", 1323.15),
        ("1323.15", 1323.15),
    ],
)
def test_temperatures(text, kelvin):
    assert parse_temperature(text, "conditions.temperature") == pytest.approx(kelvin, rel=1e-15)


def test_unknown_unit_names_key_and_units():
    with pytest.raises(CaseError) as e:
        parse_length("50 mx", "grid.length")
    msg = str(e.value)
    assert "unknown unit 'mx'" in msg and "grid.length" in msg and "'50 mx'" in msg
    assert "mm" in msg and "um" in msg
    with pytest.raises(CaseError, match="conditions.duration.*use s, ms, min, h, d"):
        parse_time("13 days!", "conditions.duration")
    with pytest.raises(CaseError, match="unknown unit 'F'.*conditions.temperature"):
        parse_temperature("1900 F", "conditions.temperature")


@pytest.mark.parametrize("bad", ["mm", "", "fifty mm", None, True, [1], {"a": 1}, "nan m"])
def test_not_a_quantity(bad):
    with pytest.raises(CaseError, match="grid.length"):
        parse_length(bad, "grid.length")


def test_infinite_and_below_absolute_zero():
    with pytest.raises(CaseError, match="not finite"):
        parse_length(float("inf"), "grid.length")
    with pytest.raises(CaseError, match="absolute zero"):
        parse_temperature("-300 degC", "conditions.temperature")
    with pytest.raises(CaseError, match="absolute zero"):
        parse_temperature(0, "conditions.temperature")


def test_atomic_weights_table():
    for el in (
        "H",
        "AL",
        "C",
        "CO",
        "CR",
        "CU",
        "FE",
        "MN",
        "MO",
        "N",
        "NB",
        "NI",
        "SI",
        "TI",
        "V",
        "W",
        "ZR",
        "B",
        "P",
        "S",
        "O",
        "U",
    ):
        assert el in ATOMIC_WEIGHTS
    assert ATOMIC_WEIGHTS["FE"] == 55.845
    assert ATOMIC_WEIGHTS["C"] == 12.011
    assert ATOMIC_WEIGHTS["SI"] == 28.085
    # increasing with atomic number, apart from the known inversions (Ar/K, Co/Ni, Te/I, Th/Pa)
    assert ATOMIC_WEIGHTS["H"] < ATOMIC_WEIGHTS["FE"] < ATOMIC_WEIGHTS["U"]


def test_darken_weight_to_mole():
    """shared/reference/darken-1949.md: the Fe-Si-C couple."""
    left = weight_to_mole({"SI": 3.80, "C": 0.49}, ["FE", "SI", "C"])
    right = weight_to_mole({"si": 0.05, "c": 0.45}, ["fe", "si", "c"])
    assert list(left) == ["FE", "SI", "C"]
    assert left["SI"] == pytest.approx(0.07159, abs=1e-5)
    assert left["C"] == pytest.approx(0.02159, abs=1e-5)
    assert right["SI"] == pytest.approx(0.00098, abs=1e-5)
    assert right["C"] == pytest.approx(0.02057, abs=1e-5)
    assert sum(left.values()) == pytest.approx(1.0, abs=1e-15)
    assert left["FE"] == 1.0 - (left["SI"] + left["C"])


def test_weight_to_mole_binary_by_hand():
    # 50 wt% Ni in Fe: x_Ni = (50/58.693) / (50/58.693 + 50/55.845)
    x = weight_to_mole({"NI": 50.0}, ["FE", "NI"])
    n_ni, n_fe = 50 / 58.693, 50 / 55.845
    assert x["NI"] == pytest.approx(n_ni / (n_ni + n_fe), rel=1e-14)


def test_weight_to_mole_errors():
    with pytest.raises(CaseError, match="no atomic weight for 'XX'"):
        weight_to_mole({"XX": 1.0}, ["FE", "XX"])
    with pytest.raises(CaseError, match="sum to 101"):
        weight_to_mole({"SI": 60.0, "C": 41.0}, ["FE", "SI", "C"])
    with pytest.raises(CaseError, match="weight percent of C missing"):
        weight_to_mole({"SI": 1.0}, ["FE", "SI", "C"])
    with pytest.raises(CaseError, match="MN not among"):
        weight_to_mole({"SI": 1.0, "C": 0.1, "MN": 1.0}, ["FE", "SI", "C"])
