"""Checks of the project's own TDB databases.

* Every shipped database parses with pycalphad and has the expected elements
  and phases (always runs).
* Against the reference databases in ``../shared/databases`` (relative to the
  repository root; the tests skip when that folder is absent):
  - the molar Gibbs energy GM of every phase is identical (relative
    difference < 1e-10) on the same site-fraction points at several
    temperatures;
  - the set of mobility parameters (MQ, MF) is identical: same
    (type, phase, diffusing species, constituent array, order) keys and the
    same values at several temperatures. Constituent arrays are normalised
    so that ``MQ(FCC_A1&AL,NI;0)`` (vacancy sublattice left out) and
    ``MQ(FCC_A1&CR,CR:*)`` (wildcard on a VA-only sublattice) compare equal
    to the full form ``...:VA;0``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pycalphad = pytest.importorskip("pycalphad")
from pycalphad import Database, calculate  # noqa: E402
from pycalphad import variables as v  # noqa: E402
from symengine import Symbol  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATABASES = REPO_ROOT.parent / "shared" / "databases"

TEMPERATURES = [600.0, 1000.0, 1273.0, 1473.0]
PRESSURE = 101325.0
PDENS = 30
GM_RTOL = 1e-10
MOB_RTOL = 1e-12


@dataclass(frozen=True)
class DbCase:
    name: str
    ours: Path
    reference: str
    elements: frozenset
    # phase -> components used for the Gibbs-energy comparison
    phases: dict
    mobility_phases: tuple


CASES = [
    DbCase(
        name="ni-cr-al",
        ours=REPO_ROOT / "cases" / "databases" / "ni-cr-al.tdb",
        reference="NiCrAl.tdb",
        elements=frozenset({"AL", "CR", "NI", "VA"}),
        phases={
            "FCC_A1": ["AL", "CR", "NI", "VA"],
            "FCC_L12": ["AL", "CR", "NI", "VA"],
        },
        mobility_phases=("FCC_A1",),
    ),
    DbCase(
        name="fe-mn-si-c",
        ours=REPO_ROOT / "cases" / "databases" / "fe-mn-si-c.tdb",
        reference="FeSiC-Mn-Cr-Ni.tdb",
        elements=frozenset({"C", "FE", "MN", "SI", "VA"}),
        phases={
            "FCC_A1": ["C", "FE", "MN", "SI", "VA"],
            "BCC_A2": ["C", "FE", "MN", "SI", "VA"],
            "GRAPHITE_A9": ["C"],
        },
        mobility_phases=("FCC_A1", "BCC_A2"),
    ),
    DbCase(
        name="cu-ni",
        ours=REPO_ROOT / "tests" / "databases" / "cu-ni.tdb",
        reference="CuNi.tdb",
        elements=frozenset({"CU", "NI", "VA"}),
        phases={"FCC_A1": ["CU", "NI", "VA"]},
        mobility_phases=("FCC_A1",),
    ),
    DbCase(
        name="fe-cr-ni",
        ours=REPO_ROOT / "tests" / "databases" / "fe-cr-ni.tdb",
        reference="FeCrNi.tdb",
        elements=frozenset({"CR", "FE", "NI", "VA"}),
        phases={
            "FCC_A1": ["CR", "FE", "NI", "VA"],
            "BCC_A2": ["CR", "FE", "NI", "VA"],
            "SIGMA": ["CR", "FE", "NI", "VA"],
        },
        mobility_phases=("FCC_A1", "BCC_A2"),
    ),
]

_DB_CACHE: dict = {}


def _load(path: Path) -> Database:
    key = str(path)
    if key not in _DB_CACHE:
        _DB_CACHE[key] = Database(key)
    return _DB_CACHE[key]


def _reference(case: DbCase) -> Database:
    path = SHARED_DATABASES / case.reference
    if not SHARED_DATABASES.is_dir():
        pytest.skip(f"reference databases not available: {SHARED_DATABASES} is absent")
    if not path.is_file():
        pytest.skip(f"reference database not available: {path} is absent")
    return _load(path)


# ---------------------------------------------------------------------------
# Always-running checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_database_parses_with_expected_content(case):
    assert case.ours.is_file(), f"missing database file {case.ours}"
    db = _load(case.ours)
    assert set(db.elements) == set(case.elements)
    assert set(db.phases) == set(case.phases)
    for phase in case.mobility_phases:
        mob = [
            p for p in db._parameters.all()
            if p["phase_name"] == phase and p["parameter_type"] in ("MQ", "MF")
        ]
        assert mob, f"no mobility parameters for {phase} in {case.ours.name}"
    # every parameter must refer only to the database's own species
    for p in db._parameters.all():
        species = {s.name for subl in p["constituent_array"] for s in subl}
        species.discard("*")
        diffusing = p["diffusing_species"]
        if diffusing is not None and diffusing.name:
            species.add(diffusing.name)
        assert species <= set(case.elements), (p["parameter_type"], p["constituent_array"])


# ---------------------------------------------------------------------------
# Gibbs energy against the reference databases
# ---------------------------------------------------------------------------
GM_PARAMS = [(c, ph) for c in CASES for ph in c.phases]


@pytest.mark.parametrize(
    "case,phase", GM_PARAMS, ids=[f"{c.name}-{ph}" for c, ph in GM_PARAMS]
)
def test_gibbs_energy_matches_reference(case, phase):
    ref = _reference(case)
    ours = _load(case.ours)
    comps = case.phases[phase]
    ref_res = calculate(ref, comps, phase, T=TEMPERATURES, P=PRESSURE, pdens=PDENS,
                        output="GM")
    # The sampled points are the same for every condition: take them once
    # and evaluate both databases on exactly these site fractions.
    y = ref_res.Y.values
    points = y.reshape(-1, y.shape[-1])[: y.shape[-2]]
    assert points.shape[0] > 0 and not np.isnan(points).any()
    gm_ref = calculate(ref, comps, phase, T=TEMPERATURES, P=PRESSURE, points=points,
                       output="GM").GM.values
    gm_ours = calculate(ours, comps, phase, T=TEMPERATURES, P=PRESSURE, points=points,
                        output="GM").GM.values
    assert gm_ref.shape == gm_ours.shape
    assert np.isfinite(gm_ref).all() and np.isfinite(gm_ours).all()
    rel = np.abs(gm_ours - gm_ref) / np.maximum(np.abs(gm_ref), 1.0)
    assert rel.max() < GM_RTOL, f"max relative GM difference {rel.max():.3e}"


# ---------------------------------------------------------------------------
# Mobility parameters against the reference databases
# ---------------------------------------------------------------------------
def _normalised_array(db: Database, phase: str, constituent_array) -> tuple:
    """Full-length constituent array with wildcards/omitted VA sublattices
    resolved, as a tuple of sorted name tuples."""
    sublattices = db.phases[phase].constituents
    out = []
    for index, subl_species in enumerate(sublattices):
        allowed = sorted(s.name for s in subl_species)
        if index < len(constituent_array):
            names = tuple(sorted(s.name for s in constituent_array[index]))
        else:
            names = ("*",)
        if names == ("*",):
            if len(allowed) != 1:
                raise AssertionError(
                    f"cannot resolve wildcard/omitted sublattice {index} of {phase}: {allowed}"
                )
            names = tuple(allowed)
        out.append(names)
    if len(constituent_array) > len(sublattices):
        raise AssertionError(f"constituent array {constituent_array} too long for {phase}")
    return tuple(out)


def _numeric(db: Database, expr, temperature: float) -> float:
    replacements = {Symbol(name): value for name, value in db.symbols.items()}
    for _ in range(50):
        new = expr.xreplace(replacements)
        if new == expr:
            break
        expr = new
    value = expr.xreplace({v.T: temperature, v.P: PRESSURE})
    return float(value)


def _mobility_table(db: Database, phases, elements) -> dict:
    table = {}
    for p in db._parameters.all():
        if p["parameter_type"] not in ("MQ", "MF") or p["phase_name"] not in phases:
            continue
        species = {s.name for subl in p["constituent_array"] for s in subl} - {"*"}
        species.add(p["diffusing_species"].name)
        if not species <= set(elements):
            continue
        key = (
            p["parameter_type"],
            p["phase_name"],
            p["diffusing_species"].name,
            _normalised_array(db, p["phase_name"], p["constituent_array"]),
            int(p["parameter_order"]),
        )
        assert key not in table, f"duplicate mobility parameter {key}"
        table[key] = [_numeric(db, p["parameter"], t) for t in TEMPERATURES]
    return table


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mobility_parameters_match_reference(case):
    ref = _reference(case)
    ours = _load(case.ours)
    ref_table = _mobility_table(ref, case.mobility_phases, case.elements)
    our_table = _mobility_table(ours, case.mobility_phases, case.elements)
    assert ref_table, "reference has no mobility parameters for these phases"
    missing = sorted(set(ref_table) - set(our_table))
    extra = sorted(set(our_table) - set(ref_table))
    assert not missing, f"mobility parameters missing from {case.ours.name}: {missing}"
    assert not extra, f"mobility parameters not in the reference: {extra}"
    for key, ref_values in ref_table.items():
        np.testing.assert_allclose(
            our_table[key], ref_values, rtol=MOB_RTOL, atol=1e-9, err_msg=str(key)
        )
