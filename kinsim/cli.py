"""The ``kinsim`` command line.

Every user error ends in one line on stderr (``kinsim: error: ...``) and exit status 2;
no traceback.  A run that started and failed (it did not converge, or its result could
not be written) ends in one line ``kinsim: failed: ...`` and exit status 1.  Notices
(e.g. an earlier result kept under a new name) are one line ``kinsim: note: ...``.
Sub-commands register themselves in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import threading
import time
import warnings

from .cli_multiphase import thermo_phases
from .errors import ConvergenceError, KinsimError, KinsimNotice, KinsimWarning, ResultWriteError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        self.exit(2, f"kinsim: error: {message}\n")


def _cmd_thermo(args) -> int:
    try:
        if args.phases is not None:
            return thermo_phases(args)
        return _thermo(args)
    except ConvergenceError as exc:  # for thermo a point that does not converge is bad input: exit 2
        raise KinsimError(str(exc)) from None


def _thermo(args) -> int:
    from .compositions import check_mole_fractions, point_fractions, x_pairs
    from .equilibria import Equilibrium, solve_rows
    from .phase import load_phase

    comps = [c.strip().upper() for c in args.components.split(",") if c.strip()]
    if len(comps) < 2:
        raise KinsimError("--components: give at least two, the dependent (reference) one first")
    model = load_phase(args.database, args.phase, comps)
    model.check_temperature(args.T, "--T")
    if args.batch:
        return _thermo_batch(args, model, comps)
    if args.x is None:
        raise KinsimError("give --x COMPONENT=value,... (or --batch FILE)")
    x = [point_fractions(x_pairs(args.x), comps[1:], "--x")]
    check_mole_fractions(x, comps[1:], lambda i: "--x")
    eq = Equilibrium(args.database, model, solve_rows(model, x, args.T), point=True)
    if args.json:
        print(json.dumps(eq.to_json(), indent=2))
        return 0
    w = max(len(c) for c in comps)
    print(f"{eq.phase} at T = {args.T:g} K   ({args.database})")
    print("sublattice site fractions:")
    for s, (ratio, sub) in enumerate(zip(eq.sublattice_ratios, eq.site_fractions)):
        print(f"  [{s}] a = {ratio:g}: " + ", ".join(f"{k} {v:.6g}" for k, v in sub.items()))
    print(f"GM = {eq.GM:.6f} J/mol of atoms")
    print(f"{'':{w}}  {'x':>10}  {'mu (J/mol)':>16}")
    for c, xv, mv in zip(comps, eq.X, eq.MU):
        print(f"{c:{w}}  {xv:10.6f}  {mv:16.4f}")
    print(f"dmu_dx (J/mol), row i col j = d(mu_i - mu_{comps[0]})/dx_j, x_{comps[0]} dependent:")
    print(" " * (w + 2) + "".join(f"{c:>16}" for c in comps[1:]))
    for c, row in zip(comps[1:], eq.dmu_dx):
        print(f"{c:{w}}  " + "".join(f"{v:16.4f}" for v in row))
    return 0


def _thermo_batch(args, model, comps) -> int:
    """Compositions from a CSV, .npy or .npz file -> equilibria in an .npz file; prints
    the time spent reading, solving and writing and the throughput (the kernels' load or
    compilation, done on one row first, is not counted)."""
    from .compositions import read_compositions
    from .equilibria import Equilibrium, solve_rows

    if not args.output:
        raise KinsimError("--batch needs -o OUT.npz")
    t0 = time.perf_counter()
    X = read_compositions(args.batch, comps[1:], "--batch")
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    solve_rows(model, X[:1], args.T, raise_on_failure=False)
    t_start = time.perf_counter() - t0
    t1 = time.perf_counter()
    eq = Equilibrium(args.database, model, solve_rows(model, X, args.T, raise_on_failure=False), point=False)
    t2 = time.perf_counter()
    try:
        eq.save_npz(args.output)
    except OSError as exc:
        raise KinsimError(f"-o {args.output}: cannot write: {exc}") from None
    t3 = time.perf_counter()
    N = X.shape[0]
    nbad = int((eq.status != 0).sum())
    total = t_read + (t3 - t1)
    print(
        f"{N} rows: read {t_read:.3f} s, equilibrium {t2 - t1:.3f} s, write {t3 - t2:.3f} s; "
        f"{N / total:,.0f} rows/s end to end (start-up and compilation {t_start:.2f} s, not counted)"
    )
    print(f"wrote {args.output}; {N - nbad} converged, {nbad} failed (status != 0)")
    return 0 if nbad == 0 else 1


def _cmd_run(args) -> int:
    from .case import load_case
    from .simulation import Simulation, check_resumable
    from .storage import refuse_if_busy

    if args.resume:
        if args.output:
            raise KinsimError("--resume continues the given file; do not combine it with -o")
        if args.set:
            raise KinsimError("--resume continues the run as it was; --set cannot change it")
        refuse_if_busy(args.resume)  # before its checkpoint is read: it may be being written
        case = load_case(args.case) if args.case else None
        case = check_resumable(args.resume, case)
        out = args.resume
    else:
        if not args.case:
            raise KinsimError("give a case file (TOML), or --resume RESULT.h5 to continue an interrupted run")
        case = load_case(args.case, overrides=args.set or ())
        out = args.output or str(case.output.file)
        # a file being written is refused before the kernels load (the writer takes the lock itself)
        refuse_if_busy(out)
    sim = Simulation(case)
    if not args.quiet:
        g = sim.grid
        T = (
            f"T = {sim.T:g} K"
            if case.conditions.schedule is None
            else f"T(t) from {len(case.conditions.schedule)} schedule points"
        )
        spacing = f"{len(case.regions)} regions" if case.regions else case.grid.spacing
        print(
            f"{case.title}\n  {sim.phase_label} {'-'.join(sim.components)}, {T}, "
            f"{case.conditions.duration:g} s, {g.z.shape[0]} nodes ({spacing}, {case.grid.geometry}), "
            f"{case.solver.method}\n  {'resuming ' if args.resume else ''}-> {out}",
            file=sys.stderr,
        )
    summary = sim.run(output=out, progress=not args.quiet, resume=bool(args.resume))
    t = summary.timings
    checks = sum(t.get(k, 0.0) for k in ("stability", "stability_run", "stability_end"))
    print(
        f"{summary.status}: {summary.steps} steps ({summary.rejected} rejected, {summary.newton} Newton "
        f"iterations), {summary.nodes} nodes; compile/load {t['compile']:.2f} s, solve {t['solve']:.2f} s, "
        f"stability checks {checks:.2f} s, I/O {t['io']:.2f} s; wrote {summary.output}"
    )
    return 0


def _cmd_sweep(args) -> int:
    from .sweep import INDEX_CSV, run_sweep

    s = run_sweep(
        args.case,
        args.vary,
        args.output,
        zip=args.zip,
        sets=args.set or (),
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    for row in s.failed_rows:
        print(f"kinsim: {row['run']} failed: {row['error']}", file=sys.stderr)
    print(
        f"{s.total} runs: {s.completed} completed ({s.skipped} already finished, not run again), "
        f"{s.failed} failed; index {s.directory / INDEX_CSV}"
    )
    return 0 if s.failed == 0 and s.completed == s.total else 1


def _cmd_plot(args) -> int:
    from pathlib import Path

    target = Path(args.result)
    if target.is_dir():
        return _plot_sweep(args, target)
    if args.metric or args.against:
        raise KinsimError(f"--metric/--against plot a sweep directory; {target} is not a directory")
    from .plotting import figure

    out = args.output or str(
        target.with_suffix(".png") if args.kind == "profiles" else target.with_name(f"{target.stem}-{args.kind}.png")
    )
    times = None
    if args.times is not None:
        from .units import parse_time

        times = [parse_time(t.strip(), "--times") for t in args.times.split(",") if t.strip()]
        if not times:
            raise KinsimError("--times: give at least one time, e.g. '1 d,13 d'")
    comps = None
    if args.components is not None:
        comps = [c.strip() for c in args.components.split(",") if c.strip()]
        if not comps:
            raise KinsimError("--components: give at least one component")
    figure(target, out, args.kind, times=times, components=comps, unit=args.unit)
    print(f"wrote {out}")
    return 0


def _plot_sweep(args, directory) -> int:
    if not args.metric:
        raise KinsimError(
            f"{directory} is a directory: give --metric NAME --against KEY to plot a sweep "
            "summary (or give a result file)"
        )
    if not args.against:
        raise KinsimError("--metric needs --against KEY (a key the sweep varies)")
    for opt, val in (("--kind", args.kind != "profiles"), ("--times", args.times), ("--components", args.components)):
        if val:
            raise KinsimError(f"{opt} applies to a result file, not to a sweep directory")
    from matplotlib import rc_context

    from .plotting import STYLE
    from .sweep import plot_metric

    out = args.output or str(directory / f"{args.metric}-vs-{args.against.replace('.', '_')}.png")
    with rc_context(STYLE):
        ax = plot_metric(directory, args.metric, args.against)
        try:
            ax.figure.savefig(out)
        except (OSError, ValueError) as exc:
            raise KinsimError(f"-o {out}: cannot write the figure: {exc}") from None
    print(f"wrote {out}")
    return 0


def _cmd_analyze(args) -> int:
    from .analysis import analyze

    t = None
    if args.time is not None:
        from .units import parse_time

        t = parse_time(args.time, "--time")
    res = analyze(args.result, t)
    if args.json:
        print(json.dumps(res.to_json(), indent=1))
    else:
        print(res.summary())
    return 0


def _cmd_case_keys(args) -> int:
    from .case import reference_markdown

    sys.stdout.write(reference_markdown())
    return 0


def _build_parser():
    p = _Parser(prog="kinsim", description="Multicomponent diffusion on CALPHAD databases.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    t = sub.add_parser("thermo", help="equilibrium of one phase or of several, chemical potentials and dmu/dx")
    t.add_argument("database", help="TDB file")
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--phase", help="one phase: its equilibrium at the composition")
    which.add_argument("--phases", help="candidate phases, comma separated: the stable phase set (multiphase)")
    t.add_argument("--components", required=True, help="comma separated, the dependent (reference) one first")
    t.add_argument("--T", type=float, required=True, help="temperature in K")
    t.add_argument("--x", help="mole fractions of the other components, e.g. CR=0.21,AL=0.058")
    t.add_argument("--json", action="store_true", help="one JSON object on stdout")
    t.add_argument(
        "--batch",
        help="compositions: a CSV file (header naming the independent components, one "
        "composition per line), an .npy array (N, n-1) or an .npz file (an array X, "
        "or one array per independent component)",
    )
    t.add_argument("-o", "--output", help="with --batch: output .npz file")
    t.set_defaults(func=_cmd_thermo)
    r = sub.add_parser("run", help="run a diffusion case file (TOML) and write the HDF5 result")
    r.add_argument("case", nargs="?", help="case file (TOML); optional with --resume")
    r.add_argument(
        "--resume",
        metavar="RESULT.h5",
        help="continue an interrupted run (Ctrl-C, kill) from the checkpoint in its result file",
    )
    r.add_argument("-o", "--output", help="result file (default: [output] file of the case)")
    r.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a case value, e.g. --set conditions.temperature=1300 (repeatable)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)
    sw = sub.add_parser("sweep", help="run a case many times with keys varied (local processes or a Dask cluster)")
    sw.add_argument("case", help="case file (TOML)")
    sw.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="SECTION.KEY=V1,V2,...",
        help="values of one case key, comma separated, e.g. conditions.temperature=1273,1323 or "
        "'conditions.duration=1 h,2 h' (repeatable: the runs are the product of the lists)",
    )
    sw.add_argument("--zip", action="store_true", help="pair the value lists (equally long) instead of their product")
    sw.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a case value in every run, e.g. --set grid.nodes=100 (repeatable)",
    )
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler")
    sw.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DIR",
        help="directory for one result file per run, index.csv, index.h5 and sweep.json",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=_cmd_sweep)
    pl = sub.add_parser(
        "plot",
        help="plot a result file (profiles, mu, path, markers, flux, energy, spinodal, interfaces) or a sweep summary",
    )
    pl.add_argument("result", help="result file (HDF5) written by kinsim run, or a sweep directory")
    pl.add_argument("-o", "--output", help="figure file (.png, .pdf, .svg); default: next to the result")
    pl.add_argument(
        "--kind",
        default="profiles",
        choices=["profiles", "mu", "path", "markers", "flux", "energy", "spinodal", "interfaces", "phases"],
        help="profiles: composition against distance (uphill stretches and moving interfaces "
        "marked, stretches of several phases shaded); mu: chemical potentials; path: diffusion "
        "path in composition space; markers: Kirkendall marker displacement against sqrt(t); "
        "flux: fluxes against distance; energy: the free energy F(t) - F(0); spinodal: an early "
        "profile of a gradient-energy run with the fastest-growing wavelength marked; "
        "interfaces: positions of the moving interfaces against sqrt(t); phases: phase "
        "fractions against distance (several phases; phases that stay below 25 %% again in a panel of "
        "their own scale)",
    )
    pl.add_argument("--times", help="comma separated times, e.g. '1 d,13 d' (nearest snapshots; default: a few)")
    pl.add_argument(
        "--components",
        help="comma separated (default: all but the dependent one; path: two "
        "for x_j against x_k, three for a Gibbs triangle)",
    )
    pl.add_argument("--unit", choices=["mole-fraction", "weight-percent"], default="mole-fraction")
    pl.add_argument("--metric", help="sweep directory: the summary metric to plot")
    pl.add_argument("--against", metavar="KEY", help="sweep directory: the varied key on the horizontal axis")
    pl.set_defaults(func=_cmd_plot)
    an = sub.add_parser("analyze", help="Matano analysis of a couple: interdiffusion fluxes, D(x), zero-flux planes")
    an.add_argument("result", help="result file (HDF5) of a completed planar couple")
    an.add_argument("--time", help="time to analyse, e.g. '10 h' (nearest snapshot; default: the last)")
    an.add_argument("--json", action="store_true", help="one JSON object on stdout")
    an.set_defaults(func=_cmd_analyze)
    ck = sub.add_parser(
        "case-keys",
        help="print the reference of every case-file key (markdown: table, key, type, default, unit, description)",
    )
    ck.set_defaults(func=_cmd_case_keys)
    for _name, register in _EXTRA:
        register(sub)
    return p


_EXTRA: list = []  # (name, function(subparsers)) added by other modules


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """kinsim's warnings as one line ``kinsim: warning: ...`` and its notices as one line
    ``kinsim: note: ...`` on stderr; other warnings as Python shows them."""
    if issubclass(category, KinsimWarning):
        print(f"kinsim: warning: {message}", file=sys.stderr, flush=True)
    elif issubclass(category, KinsimNotice):
        print(f"kinsim: note: {message}", file=sys.stderr, flush=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv=None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"kinsim {__version__}")
        return 0
    if not args.command:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", KinsimWarning)
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except (ConvergenceError, ResultWriteError) as exc:  # a run that started and failed: the file says so
        print(f"kinsim: failed: {exc}", file=sys.stderr)
        return 1
    except KinsimError as exc:
        print(f"kinsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "kinsim: interrupted; the result file keeps the last good state "
            "(continue it with kinsim run --resume FILE)",
            file=sys.stderr,
        )
        return 130


def entry() -> None:
    """The ``kinsim`` command: :func:`main`, then the end of the process without the
    interpreter's teardown when nothing needs it.  A warm run spends 0.2-0.35 s there,
    collecting every module's objects and destroying the compiled kernels, after its
    result is written and closed.  The atexit handlers still run and the standard streams
    are flushed; the teardown is kept when another non-daemon thread is alive or an HDF5
    file is still open (closing it writes it).  ``main`` itself returns normally (tests,
    ``python -m kinsim.cli``)."""
    rc = main()
    if threading.active_count() > 1 and any(
        t is not threading.main_thread() and not t.daemon for t in threading.enumerate()
    ):
        sys.exit(rc)
    h5py = sys.modules.get("h5py")
    if h5py is not None and h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE):
        sys.exit(rc)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())
