"""TDB -> arrays: Gibbs energies off equilibrium against pycalphad, T handling, and
the clear errors for what the model cannot represent."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB

from kinsim.errors import DatabaseError, InputError
from kinsim.phase import load_phase

pytest.importorskip("pycalphad")


@pytest.mark.parametrize(
    "db,phase,comps",
    [
        (CASES_DB / "ni-cr-al.tdb", "FCC_L12", ["NI", "CR", "AL"]),
        (CASES_DB / "ni-cr-al.tdb", "FCC_A1", ["NI", "CR", "AL"]),
        (TESTS_DB / "fe-cr-ni.tdb", "SIGMA", ["FE", "CR", "NI"]),
        (TESTS_DB / "fe-cr-ni.tdb", "BCC_A2", ["FE", "CR", "NI"]),
        (CASES_DB / "fe-mn-si-c.tdb", "FCC_A1", ["FE", "MN", "SI", "C"]),
    ],
)
@pytest.mark.parametrize("T", [700.0, 1273.0])
def test_gm_at_arbitrary_site_fractions(db, phase, comps, T):
    """GM of kinsim's monomial expansion equals pycalphad's Model at random site fractions
    (ordering, magnetism, interstitials, ternary and reciprocal terms all exercised)."""
    from pycalphad import Database, calculate

    dbf = Database(str(db))
    calc = calculate(dbf, comps + ["VA"], phase, T=T, P=101325, N=1, pdens=40, output="GM")
    Y_pc = np.asarray(calc.Y.values).reshape(-1, calc.Y.shape[-1])
    GM_pc = np.asarray(calc.GM.values).reshape(-1)
    model = load_phase(db, phase, comps)
    # map pycalphad's site-fraction columns (sublattice order, sorted constituents) to ours
    cols = []
    for s, cons in enumerate(model.desc.constituents):
        for c in cons:
            cols.append((s, c))
    ours = [cols.index((int(n.split(",")[1]), n.split(",")[2].rstrip(")"))) for n in model.desc.site_names]
    ok = np.isfinite(GM_pc) & np.all(Y_pc[:, ours] > 1e-12, axis=1)
    assert ok.sum() > 20
    GM = model.gibbs_energy(Y_pc[ok][:, ours], T)
    np.testing.assert_allclose(GM, GM_pc[ok], rtol=1e-9, atol=1e-6)


def test_temperature_changes_without_recompiling():
    """Nodes at different temperatures in one call give what separate calls give."""
    m = load_phase(CASES_DB / "ni-cr-al.tdb", "FCC_A1", ["NI", "CR", "AL"])
    x = np.array([[0.2, 0.05]] * 3)
    Ts = np.array([1000.0, 1473.15, 1700.0])
    both = m.equilibrium(x, Ts)
    for i, T in enumerate(Ts):
        one = m.equilibrium(x[:1], T)
        np.testing.assert_allclose(both.MU[i], one.MU[0], rtol=1e-14)


def _db(tmp_path, body, name="t.tdb"):
    text = (
        "ELEMENT VA VACUUM 0 0 0 !\nELEMENT A FCC_A1 10 0 0 !\nELEMENT B FCC_A1 20 0 0 !\n"
        "TYPE_DEFINITION % SEQ * !\n" + body
    )
    p = tmp_path / name
    p.write_text(text)
    return p


def test_term_outside_the_basis_names_the_parameter(tmp_path):
    p = _db(
        tmp_path,
        "PHASE L % 1 1 !\nCONSTITUENT L :A,B: !\nPARAMETER G(L,A;0) 298.15 0; 3000 N !\n"
        "PARAMETER G(L,B;0) 298.15 0; 3000 N !\n"
        "PARAMETER G(L,A,B;0) 298.15 +T**2*LN(T)**2; 3000 N !\n",
    )
    with pytest.raises(DatabaseError, match=r"G\(L,A,B;0\)"):
        load_phase(p, "L", ["A", "B"])


def test_undefined_function_is_named(tmp_path):
    p = _db(
        tmp_path,
        "PHASE L % 1 1 !\nCONSTITUENT L :A,B: !\nPARAMETER G(L,A;0) 298.15 +GNOPE; 3000 N !\n"
        "PARAMETER G(L,B;0) 298.15 0; 3000 N !\n",
    )
    with pytest.raises(DatabaseError, match="GNOPE"):
        load_phase(p, "L", ["A", "B"])


def test_xiong_magnetic_model_is_refused(tmp_path):
    p = _db(
        tmp_path,
        "TYPE_DEFINITION & GES A_P_D L MAGNETIC 0 0.28 !\nPHASE L %& 1 1 !\n"
        "CONSTITUENT L :A,B: !\nPARAMETER G(L,A;0) 298.15 0; 3000 N !\n"
        "PARAMETER G(L,B;0) 298.15 0; 3000 N !\nPARAMETER TC(L,A;0) 298.15 100; 3000 N !\n",
    )
    with pytest.raises(DatabaseError, match="Xiong"):
        load_phase(p, "L", ["A", "B"])


def test_phase_without_the_component(tmp_path):
    p = _db(tmp_path, "PHASE L % 1 1 !\nCONSTITUENT L :A: !\nPARAMETER G(L,A;0) 298.15 0; 3000 N !\n")
    with pytest.raises(InputError, match="cannot hold component B"):
        load_phase(p, "L", ["A", "B"])


def test_temperature_range_is_the_common_one(tmp_path):
    p = _db(
        tmp_path,
        "PHASE L % 1 1 !\nCONSTITUENT L :A,B: !\n"
        "PARAMETER G(L,A;0) 298.15 -10*T; 1000 Y -20*T+10000; 2500 N !\n"
        "PARAMETER G(L,B;0) 400 0; 3000 N !\n",
    )
    m = load_phase(p, "L", ["A", "B"])
    assert m.t_range == (400.0, 2500.0)
    res = m.equilibrium([[0.5]], 1500.0)
    assert res.GM[0] == pytest.approx(0.5 * (-20 * 1500 + 10000) + 8.3145 * 1500 * np.log(0.5), rel=1e-12)
    with pytest.raises(InputError, match="outside"):
        m.equilibrium([[0.5]], 2600.0)
