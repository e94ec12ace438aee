"""Oracles and checks of the multiphase tests: pycalphad's equilibrium on a grid of
compositions, the comparison of a kinsim row with one of its points, the phase rule
and mass balance, and pycalphad's Gibbs energy of kinsim's composition sets."""

from __future__ import annotations

import itertools
import warnings

import numpy as np

R = 8.3145


def pycalphad_grid(db, comps, phases, T, grids):
    """pycalphad's equilibrium on the grid of compositions (one call), as a list over
    the grid points (itertools.product order) of (phases, fractions, compositions (p, n),
    MU (n,), GM)."""
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    conds = {v.T: T, v.P: 101325.0, v.N: 1.0}
    for c, g in zip(comps[1:], grids):
        conds[v.X(c)] = list(g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eq = equilibrium(Database(str(db)), list(comps) + ["VA"], list(phases), conds)
    order = [str(c) for c in eq.component.values]
    idx = [order.index(c) for c in comps]
    out = []
    for pos in itertools.product(*(range(len(g)) for g in grids)):
        e = eq.isel(N=0, P=0, T=0, **{f"X_{c}": k for c, k in zip(comps[1:], pos)})
        names = [str(p) for p in e.Phase.values]
        keep = [j for j, p in enumerate(names) if p]
        out.append(
            (
                [names[j] for j in keep],
                np.asarray(e.NP.values)[keep],
                np.asarray(e.X.values)[keep][:, idx],
                np.asarray(e.MU.values)[idx],
                float(e.GM.values),
            )
        )
    return out


def assert_same_equilibrium(res, i, ref):
    """Row i of a PhaseSetResult against one pycalphad point of ``pycalphad_grid``."""
    names, frac, comp, mu, _ = ref
    sets = res.stable(i)
    assert sorted(s.name.split("#")[0] for s in sets) == sorted(names), (res.X[i], names, sets)
    np.testing.assert_allclose(res.MU[i], mu, rtol=1e-6)
    free = list(range(len(names)))
    for s in sets:  # match each set with pycalphad's vertex of the same phase and closest composition
        x = np.array([s.x[c] for c in res.components])
        j = min((k for k in free if names[k] == s.name.split("#")[0]), key=lambda k: np.abs(comp[k] - x).max())
        free.remove(j)
        assert np.abs(comp[j] - x).max() <= 1e-5, (s, comp[j])
        assert abs(frac[j] - s.fraction) <= 1e-5, (s, frac[j])


def assert_phase_rule_and_mass_balance(res):
    n = len(res.components)
    for i in np.flatnonzero(res.status == 0):
        sets = res.stable(i)
        assert 1 <= len(sets) <= n
        x = sum(s.fraction * np.array([s.x[c] for c in res.components]) for s in sets)
        np.testing.assert_allclose(x, res.X[i], atol=1e-12)
        assert abs(sum(s.fraction for s in sets) - 1.0) <= 1e-12
        assert np.all([s.fraction >= 0.0 for s in sets])
        # absent phases: no positive driving force; present phases: zero
        assert np.all(res.driving_forces[i] <= 1e-6 * R * res.T[i])


def gibbs_of_sets(db, res, i):
    """The Gibbs energy per mole of atoms of row i's sets, from pycalphad's ``calculate``
    at kinsim's site fractions: sum_j f_j GM_j."""
    from pycalphad import Database, calculate

    dbo = Database(str(db))
    G = 0.0
    for s in res.stable(i):
        phase = s.name.split("#")[0]
        y = [sub[c] for sub in s.site_fractions for c in sorted(sub)]
        calc = calculate(dbo, list(res.components) + ["VA"], phase, T=res.T[i], P=101325.0, N=1.0, points=np.array([y]))
        G += s.fraction * float(np.squeeze(calc.GM.values))
    return G
