"""kawin (pip package, tested with 0.5.0) as a comparison baseline for kinsim.

This module only *calls* kawin's public API; it contains no kawin code.
Import it from scripts/ or tests/ via ``sys.path.insert(0, <repo>/scripts)``.

kawin API used
--------------
Thermodynamics (``kawin_thermo_batch``):

* ``kawin.thermo.GeneralThermodynamics(db, elements, [phase])`` - builds the
  pycalphad Model / PhaseRecordFactory for the listed phases only (plus the
  mobility models from MQ/MF parameters).
* ``GeneralThermodynamics.getLocalEq(x, T, 0, [phase], composition_sets=None)``
  - kawin's "local equilibrium" of the single phase at the given overall
  composition (one composition set, miscibility gaps ignored).  This is exactly
  the call its ``SinglePhaseModel`` makes through ``getInterdiffusivity``
  (which uses ``removeCache=True``, i.e. a fresh start from a pdens=10
  sampling every time).  Returns ``(pycalphad SolverResult, [CompositionSet])``;
  ``result.chemical_potentials`` are ordered like
  ``compset.phase_record.nonvacant_elements`` = ALPHABETICAL (AL, CR, NI).
* ``kawin.thermo.FreeEnergyHessian.dMudX(mu, compset, refElement)`` and
  ``kawin.thermo.FreeEnergyHessian.partialdMudX(mu, compset)``: both invert
  the Hessian of the single-phase Lagrangian (site fractions, phase amount,
  internal-constraint multipliers, chemical potentials) and read off the
  chemical-potential block.

  - ``partialdMudX`` (n x n): ``P[i, j] = d mu_i / d N_j`` - response of mu_i
    to adding component j (the other N_k fixed, total moles free; 1 mol of
    phase), i.e. the "unconstrained" Hessian d2G/dN_i dN_j.  Symmetric and
    singular: ``sum_j x_j P[i, j] = 0`` (Gibbs-Duhem).  Rows = mu, cols = X.
    This is what kawin's diffusion model uses (``chemical_diffusivity``:
    D_kj = mobility_matrix @ partialdMudX, then D^n_kj = D_kj - D_kn).
  - ``dMudX`` ((n-1) x (n-1)), reference element R:
    ``H[A, B] = (P[A,B] - P[A,R]) - (P[R,B] - P[R,R])
              = d(mu_A - mu_R)/dx_B  with x_R = 1 - sum(others)``
    = d2G_m/dx_A dx_B, rows = mu_A, cols = x_B, A,B over non-reference
    elements.  kawin uses it for the precipitation curvature terms and
    ``inverseMobility``, not for the single-phase diffusion fluxes.

  In kawin both matrices are in ALPHABETICAL element order (dMudX: alphabetical
  with the reference removed, e.g. [AL, CR] for ref NI).  This module reorders
  everything to the order of the ``elements`` argument (reference first; dmu_dx
  over ``elements[1:]``).

Diffusion (``kawin_nicral_couple``):

* ``kawin.diffusion.mesh.Cartesian1D(responses, [z0, z1], N)`` - finite volume
  mesh, N cells, nodes at cell centres, default boundary condition
  ``MixedBoundary1D`` = zero flux (Neumann) on both ends.
* ``ProfileBuilder`` + ``StepProfile1D(z_step, left, right)`` and
  ``mesh.setResponseProfile(profile)``.
* ``kawin.diffusion.SinglePhaseModel(mesh, elements, [phase], therm,
  TemperatureParameters(T), record=True)``; ``model.solve(t)`` (default
  iterator RK4, dt = 0.4 dz^2 / max|D^n| each step);
  ``model.getCompositions()`` -> (N, n) mole fractions in ``elements`` order.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_TDB = "/work/shared/databases/NiCrAl.tdb"


def kawin_available() -> bool:
    """True if kawin (with the 0.5-style thermo/diffusion/mesh API) imports."""
    try:
        import kawin  # noqa: F401
        from kawin.diffusion import SinglePhaseModel, TemperatureParameters  # noqa: F401
        from kawin.diffusion.mesh import Cartesian1D, ProfileBuilder, StepProfile1D  # noqa: F401
        from kawin.thermo import GeneralThermodynamics  # noqa: F401
        from kawin.thermo.FreeEnergyHessian import dMudX, partialdMudX  # noqa: F401
    except Exception:
        return False
    return True


def _kawin_version() -> str:
    try:
        from importlib.metadata import version

        return version("kawin")
    except Exception:
        return "unknown"


def kawin_thermo_batch(
    tdb_path, phase, elements, T, X, *, warm_start=False, interdiffusivity=False, therm=None
) -> dict:
    """Chemical potentials and mu-derivatives from kawin, one row at a time.

    Parameters
    ----------
    tdb_path : str or Path (or pycalphad Database)
    phase : str, e.g. 'FCC_A1'.  Only this phase is given to kawin, so every
        quantity is the single-phase (local-equilibrium) value.
    elements : list[str], e.g. ['NI', 'CR', 'AL']; elements[0] is kawin's
        reference / dependent element.
    T : float, K
    X : (N, n-1) mole fractions of elements[1:]
    warm_start : if False (default) every row starts from kawin's pdens=10
        sampling, exactly like kawin's SinglePhaseModel (getInterdiffusivity
        with removeCache=True).  If True, the composition set of the previous
        row is reused as the starting point.
    interdiffusivity : also return kawin's interdiffusivity D^n
        (``therm.getInterdiffusivity``), (N, n-1, n-1) over elements[1:]
        (rows = flux of k, cols = gradient of x_j), m^2/s.  Not timed.
    therm : optional prebuilt GeneralThermodynamics (skips database loading).

    Returns
    -------
    dict with
      'MU' : (N, n) J/mol, in ``elements`` order.
      'dmu_dx' : (N, n-1, n-1), kawin ``dMudX`` with reference elements[0]:
          dmu_dx[r, a, b] = d(mu_a - mu_ref)/dx_b (x_ref dependent),
          a, b over elements[1:] in that order.  J/mol.
      'partial_dmu_dx' : (N, n, n), kawin ``partialdMudX``:
          [r, i, j] = d mu_i / d N_j (total moles free), i, j in ``elements``
          order.  J/mol.
      'Dn' : (N, n-1, n-1) only if interdiffusivity=True.
      'converged' : (N,) bool (pycalphad solver flag and finite MU).
      'seconds_per_node' : mean wall time of one row (getLocalEq + dMudX +
          partialdMudX) excluding the first (warm-up) row.
      'seconds_first' : wall time of the first row.
      'kawin_order' : kawin's native (alphabetical) element order.
    """
    from kawin.thermo import GeneralThermodynamics
    from kawin.thermo.FreeEnergyHessian import dMudX, partialdMudX

    elements = [str(e).upper() for e in elements]
    n = len(elements)
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if X.shape[1] != n - 1:
        raise ValueError(f"X must be (N, {n - 1}), got {X.shape}")
    N = X.shape[0]
    ref = elements[0]

    if therm is None:
        db = str(tdb_path) if isinstance(tdb_path, Path) else tdb_path
        therm = GeneralThermodynamics(db, list(elements), [phase])

    MU = np.full((N, n), np.nan)
    H = np.full((N, n - 1, n - 1), np.nan)
    P = np.full((N, n, n), np.nan)
    conv = np.zeros(N, dtype=bool)
    times = np.zeros(N)

    kawin_order = None
    perm = perm_red = None
    comp_sets = None
    for r in range(N):
        t0 = time.perf_counter()
        result, cs_list = therm.getLocalEq(
            X[r], float(T), 0, [phase], composition_sets=comp_sets if warm_start else None
        )
        cs = cs_list[0]
        mu = np.asarray(result.chemical_potentials, dtype=np.float64)
        h = dMudX(mu, cs, ref)
        p = partialdMudX(mu, cs)
        times[r] = time.perf_counter() - t0
        comp_sets = cs_list

        if kawin_order is None:
            kawin_order = [str(e) for e in cs.phase_record.nonvacant_elements]
            # perm[k] = index in kawin order of elements[k]
            perm = np.array([kawin_order.index(e) for e in elements])
            red = [e for e in kawin_order if e != ref]
            perm_red = np.array([red.index(e) for e in elements[1:]])
        MU[r] = mu[perm]
        H[r] = np.asarray(h)[np.ix_(perm_red, perm_red)]
        P[r] = np.asarray(p)[np.ix_(perm, perm)]
        conv[r] = bool(getattr(result, "converged", True)) and np.all(np.isfinite(mu))

    out = {
        "MU": MU,
        "dmu_dx": H,
        "partial_dmu_dx": P,
        "converged": conv,
        "seconds_per_node": float(np.mean(times[1:])) if N > 1 else float(times[0]),
        "seconds_first": float(times[0]),
        "kawin_order": kawin_order,
        "elements": list(elements),
        "phase": phase,
        "T": float(T),
    }
    if interdiffusivity:
        # getInterdiffusivity already returns input (elements[1:]) order
        D = np.array([np.atleast_2d(therm.getInterdiffusivity(X[r], float(T), phase=phase)) for r in range(N)])
        out["Dn"] = D.reshape(N, n - 1, n - 1)
    return out


def kawin_nicral_couple(
    tdb_path=DEFAULT_TDB,
    nodes=100,
    *,
    T=1473.15,
    hours=100.0,
    length=2e-3,
    weld=1e-3,
    left=(0.077, 0.054),
    right=(0.359, 0.062),
    phase="FCC_A1",
    elements=("NI", "CR", "AL"),
    verbose=False,
) -> dict:
    """kawin's single-phase diffusion example (Ni-Cr-Al couple) on kawin 0.5.

    Ni-7.7Cr-5.4Al | Ni-35.9Cr-6.2Al (at.%), FCC_A1, 1473.15 K, 100 h, z in
    [0, 2 mm], step at 1 mm, zero-flux ends (kawin default MixedBoundary1D),
    finite-volume Cartesian1D mesh with ``nodes`` cells, default RK4 iterator
    and kawin's own time step (0.4 dz^2 / max D).

    Returns dict: 'z' (nodes,) m cell centres; 'x' (nodes, n) final mole
    fractions in ``elements`` order; 'x0' initial; 'wall_s' wall time of
    ``model.solve`` (excluding database loading / model build); 'steps' number
    of solver steps; 'build_s' database+model build time; 'T', 't_end'.
    """
    from kawin.diffusion import SinglePhaseModel, TemperatureParameters
    from kawin.diffusion.mesh import Cartesian1D, ProfileBuilder, StepProfile1D
    from kawin.thermo import GeneralThermodynamics

    elements = [str(e).upper() for e in elements]
    solutes = elements[1:]
    t0 = time.perf_counter()
    therm = GeneralThermodynamics(str(tdb_path), list(elements), [phase])
    mesh = Cartesian1D(solutes, [0.0, float(length)], int(nodes))
    profile = ProfileBuilder()
    profile.addBuildStep(StepProfile1D(float(weld), list(left), list(right)), solutes)
    mesh.setResponseProfile(profile)
    model = SinglePhaseModel(mesh, list(elements), [phase], therm, TemperatureParameters(float(T)), record=True)
    x0 = np.array(model.getCompositions(), dtype=np.float64)
    build_s = time.perf_counter() - t0

    t_end = float(hours) * 3600.0
    t0 = time.perf_counter()
    model.solve(t_end, verbose=verbose, vIt=100)
    wall = time.perf_counter() - t0

    # recorded every step (record=True); finalize() repeats the last time
    times = np.asarray(model.toDict()["time"], dtype=np.float64)
    steps = int(np.count_nonzero(np.diff(times) > 0))
    x = np.array(model.getCompositions(), dtype=np.float64)
    return {
        "z": np.asarray(mesh.z, dtype=np.float64).ravel(),
        "x": x,
        "x0": x0,
        "elements": elements,
        "wall_s": wall,
        "build_s": build_s,
        "steps": steps,
        "t_end": float(model.currentTime),
        "T": float(T),
    }


FECRNI_TDB = Path(__file__).resolve().parents[1] / "cases" / "databases" / "fe-cr-ni.tdb"


def kawin_homogenization(
    bound,
    tdb_path=FECRNI_TDB,
    nodes=200,
    *,
    T=1373.15,
    hours=100.0,
    length=1e-3,
    left=(0.257, 0.065),
    right=(0.423, 0.276),
    eps=0.01,
    verbose=False,
) -> dict:
    """kawin's homogenization example (examples/07_Homogenization_Model.ipynb) on kawin 0.5.

    Fe-25.7Cr-6.5Ni | Fe-42.3Cr-27.6Ni (mole fractions), FCC_A1 + BCC_A2, 1373.15 K,
    100 h, a 1 mm couple welded in the middle, ``nodes`` cells, zero-flux ends.
    ``bound``: 'lower' or 'upper' (kawin's 'hashin lower' / 'hashin upper'
    averaging, our hashin-shtrikman-lower / -upper), ``eps`` kawin's ideal-term factor
    (our homogenization.ideal_term).

    kawin API used: ``GeneralThermodynamics(db, elements, phases)``;
    ``HomogenizationParameters(homogenizationFunction='hashin lower', eps=...)``;
    ``kawin.diffusion.HomogenizationModel(mesh, elements, phases, thermodynamics=...,
    temperature=..., homogenizationParameters=...)`` on a ``Cartesian1D`` mesh
    ([-L/2, L/2], nodes cells, the step at 0); ``model.solve(t, iterator=
    explicitEulerIterator)`` (kawin's step: 0.002 / max |dx/dt|); ``getCompositions()``.

    Returns dict: 'z' (nodes,) m cell centres shifted to [0, L]; 'x' (nodes, 3) final
    mole fractions (FE, CR, NI); 'wall_s' wall time of ``solve`` (model built
    beforehand); 'build_s'; 'steps'."""
    from kawin.diffusion import HomogenizationModel, HomogenizationParameters
    from kawin.diffusion.mesh import Cartesian1D, ProfileBuilder, StepProfile1D
    from kawin.solver import explicitEulerIterator
    from kawin.thermo import GeneralThermodynamics

    elements = ["FE", "CR", "NI"]
    phases = ["FCC_A1", "BCC_A2"]
    t0 = time.perf_counter()
    therm = GeneralThermodynamics(str(tdb_path), elements, phases)
    mesh = Cartesian1D(elements[1:], [-0.5 * length, 0.5 * length], int(nodes))
    profile = ProfileBuilder()
    profile.addBuildStep(StepProfile1D(0.0, list(left), list(right)), elements[1:])
    mesh.setResponseProfile(profile)
    params = HomogenizationParameters(homogenizationFunction=f"hashin {bound}", eps=float(eps))
    model = HomogenizationModel(
        mesh, elements, phases, thermodynamics=therm, temperature=float(T), homogenizationParameters=params, record=True
    )
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.solve(float(hours) * 3600.0, iterator=explicitEulerIterator, verbose=verbose, vIt=500)
    wall = time.perf_counter() - t0
    times = np.asarray(model.toDict()["time"], dtype=np.float64)
    return {
        "z": np.asarray(mesh.z, dtype=np.float64).ravel() + 0.5 * length,
        "x": np.array(model.getCompositions(), dtype=np.float64),
        "elements": elements,
        "wall_s": wall,
        "build_s": build_s,
        "steps": int(np.count_nonzero(np.diff(times) > 0)),
        "T": float(T),
    }


def _main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    tdb = argv[0] if argv else DEFAULT_TDB
    nodes = int(argv[1]) if len(argv) > 1 else 50
    if not kawin_available():
        print("kawin not available")
        return 1
    print(f"kawin {_kawin_version()}  database {tdb}")

    rng = np.random.default_rng(0)
    Np = 200
    X = np.column_stack([rng.uniform(0.05, 0.35, Np), rng.uniform(0.03, 0.07, Np)])
    t0 = time.perf_counter()
    res = kawin_thermo_batch(tdb, "FCC_A1", ["NI", "CR", "AL"], 1473.15, X)
    tot = time.perf_counter() - t0
    print(
        f"[thermo] {Np} rows FCC_A1 1473.15 K: seconds_per_node = {res['seconds_per_node'] * 1e3:.2f} ms"
        f" (first {res['seconds_first'] * 1e3:.1f} ms; total incl. db load {tot:.1f} s);"
        f" converged {res['converged'].sum()}/{Np}; kawin order {res['kawin_order']}"
    )
    r = 0
    np.set_printoptions(precision=4, suppress=False, linewidth=120)
    print(f"  row0 X(CR,AL)={X[r]}  MU(NI,CR,AL)={res['MU'][r]}")
    print(f"  dmu_dx(CR,AL)=\n{res['dmu_dx'][r]}")
    print(f"  partial_dmu_dx(NI,CR,AL)=\n{res['partial_dmu_dx'][r]}")
    res_w = kawin_thermo_batch(tdb, "FCC_A1", ["NI", "CR", "AL"], 1473.15, X, warm_start=True)
    print(
        f"  warm_start=True: seconds_per_node = {res_w['seconds_per_node'] * 1e3:.2f} ms;"
        f" max|dMU| vs cold = {np.nanmax(np.abs(res_w['MU'] - res['MU'])):.2e} J/mol"
    )

    c = kawin_nicral_couple(tdb, nodes=nodes)
    x = c["x"]
    print(
        f"[couple] {nodes} nodes, 100 h @ 1473.15 K: wall {c['wall_s']:.1f} s, steps {c['steps']},"
        f" build {c['build_s']:.1f} s, t_end {c['t_end'] / 3600:.2f} h"
    )
    dz = c["z"][1] - c["z"][0]
    for k, e in enumerate(c["elements"]):
        print(
            f"  {e}: min {x[:, k].min():.4f} max {x[:, k].max():.4f}"
            f" left {x[0, k]:.4f} right {x[-1, k]:.4f}"
            f"  mass change {np.sum(x[:, k] - c['x0'][:, k]) * dz:.2e} m"
        )
    print(
        f"  AL uphill: max AL {x[:, 2].max():.4f} > right initial {c['x0'][-1, 2]:.4f}: "
        f"{x[:, 2].max() > c['x0'][-1, 2]}; min AL {x[:, 2].min():.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(_main())
