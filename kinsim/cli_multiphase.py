"""``kinsim thermo --phases``: the multiphase equilibrium from the command line.

``thermo_phases(args)`` takes the parsed arguments of the thermo sub-command and returns
the exit status: one composition (--x; text or --json), or a batch (--batch X.csv -o
OUT.npz, each row solved on its own).  Bad input raises KinsimError (one line, exit 2).
"""

from __future__ import annotations

import json
import time

from .compositions import check_mole_fractions, point_fractions, read_compositions, x_pairs
from .errors import KinsimError


def thermo_phases(args) -> int:
    from .mpequilibrium import MultiphaseEquilibrium
    from .phaseset import load_phases

    comps = [c.strip().upper() for c in args.components.split(",") if c.strip()]
    if len(comps) < 2:
        raise KinsimError("--components: give at least two, the dependent (reference) one first")
    phases = [p.strip().upper() for p in args.phases.split(",") if p.strip()]
    if not phases:
        raise KinsimError("--phases: give at least one phase, e.g. --phases FCC_A1,BCC_A2")
    model = load_phases(args.database, phases, comps)
    model.check_temperature(args.T, "--T")
    if args.batch:
        return _batch(args, model, comps)
    if args.x is None:
        raise KinsimError("give --x COMPONENT=value,... (or --batch FILE)")
    x = [point_fractions(x_pairs(args.x), comps[1:], "--x")]
    check_mole_fractions(x, comps[1:], lambda i: "--x")
    eq = MultiphaseEquilibrium(args.database, model, model.equilibrium(x, args.T), point=True)
    if args.json:
        print(json.dumps(eq.to_json(), indent=2))
        return 0
    res = eq.rows
    sets = res.stable(0)
    absent = eq.driving_forces
    w = max(len(c) for c in comps)
    print(f"{' + '.join(model.phases)} at T = {args.T:g} K   ({args.database})")
    print(f"stable: {len(sets)} of {len(comps)} sets at most (phase rule)")
    for s in sets:
        print(f"  {s.name}: fraction {s.fraction:.6g}; " + ", ".join(f"{c} {s.x[c]:.6g}" for c in comps))
        print(
            "    site fractions: "
            + " : ".join(", ".join(f"{k} {v:.6g}" for k, v in sub.items()) for sub in s.site_fractions)
        )
    for p, d in absent.items():
        print(f"  {p}: absent, driving force {d:.4f} J/mol")
    print(f"{'':{w}}  {'x':>10}  {'mu (J/mol)':>16}")
    for c, xv, mv in zip(comps, res.X[0], res.MU[0]):
        print(f"{c:{w}}  {xv:10.6f}  {mv:16.4f}")
    print(f"dmu_dx (J/mol), row i col j = d(mu_i - mu_{comps[0]})/dx_j at equilibrium, x_{comps[0]} dependent:")
    print(" " * (w + 2) + "".join(f"{c:>16}" for c in comps[1:]))
    for c, row in zip(comps[1:], res.dmu_dx[0]):
        print(f"{c:{w}}  " + "".join(f"{v:16.4f}" for v in row))
    return 0


def _batch(args, model, comps) -> int:
    from .mpequilibrium import MultiphaseEquilibrium

    if not args.output:
        raise KinsimError("--batch needs -o OUT.npz")
    X = read_compositions(args.batch, comps[1:], "--batch")
    # warm-up on one row: loads (or compiles) the kernels and builds the start table
    t0 = time.perf_counter()
    model.equilibrium(X[:1], args.T, raise_on_failure=False)
    t_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = model.equilibrium(X, args.T, raise_on_failure=False)
    dt = time.perf_counter() - t0
    MultiphaseEquilibrium(args.database, model, res, point=False).save_npz(args.output)
    N = len(X)
    nbad = int((res.status != 0).sum())
    print(
        f"{N} rows in {dt:.4f} s: {N / dt:,.0f} rows/s, each from scratch (start-up, compilation and the "
        f"start table {t_start:.2f} s, not counted)"
    )
    print(f"wrote {args.output}; {N - nbad} converged, {nbad} failed (status != 0)")
    return 0 if nbad == 0 else 1
