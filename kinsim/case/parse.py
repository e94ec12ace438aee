"""Case files -> :class:`~kinsim.case.model.Case`: loading, overrides, validation.

Every key is checked: unknown keys (against :data:`~kinsim.case.schema.SCHEMA`), missing
required keys, wrong types, values out of range and inconsistent entries are
:class:`~kinsim.errors.CaseError` naming the key.  Compositions end up as mole fractions
of *all* components (the dependent one, ``thermo.components[0]``, is the balance),
lengths in m, times in s, temperatures in K, files as absolute paths.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import CaseError
from ..grid import check_grid_spec, make_grid
from ..resources import check_grid_nodes, check_snapshot_count
from ..units import parse_length, parse_temperature, parse_time
from .boundary import read_boundary
from .composition import read_composition, to_mole_fractions
from .gradient import check_gradient_case, read_gradient
from .homogenization import HomogenizationSpec, check_homogenization_case, read_homogenization, read_phase_names
from .model import Case, ConditionsSpec, GridSpec, InitialSpec, MobilitySpec, OutputSpec, SolverSpec, ThermoSpec
from .onsager import read_onsager
from .overrides import apply_override, raw_components
from .perturbation import read_perturbation
from .potentials import read_potentials
from .regions import read_regions
from .schema import SCHEMA, Table, all_key_paths
from .section import Section, as_number, component_items, present, suggest, type_name
from .timetable import read_time_table, table_value

__all__ = ["from_toml", "load_case", "parse_case", "read_case_file"]


def read_case_file(path) -> dict:
    """The TOML of a case file as a dict (not validated); errors name the file."""
    path = Path(path)
    fname = path.name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise CaseError(f"case file not found: {path}") from None
    except IsADirectoryError:
        raise CaseError(f"case file {path} is a directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{fname}: TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CaseError(f"{fname}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_case(path, overrides=()) -> Case:
    """Read, override and validate a case file.

    ``overrides`` are strings ``"section.key=value"`` (``kinsim run --set``, see
    :func:`~kinsim.case.overrides.apply_override`); they are applied before validation.
    """
    path = Path(path)
    raw = read_case_file(path)
    for text in overrides:
        apply_override(raw, text)
    return parse_case(raw, path, overrides=overrides)


def parse_case(data: dict, path, overrides=()) -> Case:
    """Validate a case given as the dict of a parsed case file read from ``path``
    (relative files are resolved against its directory)."""
    path = Path(path)
    where = path.name if not overrides else f"{path.name} with --set {' '.join(overrides)}"
    return _parse(data, path, where, database_must_exist=True)


def from_toml(text: str, source) -> Case:
    """The case of a resolved case TOML text, such as the one a result file stores
    (:meth:`Case.to_toml`); ``source`` (the result file) is named in every error and is
    the case's ``path``.

    The text is validated like a case file, except that its database need not exist any
    more: a stored case says what a run used, wherever its result file is read."""
    path = Path(source)
    where = f"the case stored in {path}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{where}: TOML syntax error: {exc}") from None
    return _parse(data, path, where, database_must_exist=False)


def _parse(data, path: Path, where: str, database_must_exist: bool) -> Case:
    try:
        return _Parser(data, path, database_must_exist).case()
    except CaseError as exc:
        if exc.located:
            raise
        raise CaseError(f"{where}: {exc}") from None


class _Parser:
    def __init__(self, data: dict, path: Path, database_must_exist: bool):
        self.data = data
        self.path = path
        self.fname = path.name
        self.base_dir = path.resolve().parent
        self.database_must_exist = database_must_exist

    # -- structure -----------------------------------------------------------------
    def _check_keys(self, data: dict, table: Table, prefix: str, components: set[str]):
        for k, v in data.items():
            full = f"{prefix}.{k}" if prefix else k
            sub = table.entry(k)
            if sub is None:
                if table.columns and k.upper() in components:
                    continue
                exc = CaseError(f"unknown key '{full}' in {self.fname}" + suggest(full, all_key_paths()))
                exc.located = True
                raise exc
            if isinstance(sub, Table) and not sub.array:
                if not isinstance(v, dict):
                    raise CaseError(f"'{full}' must be a table ([{full}]), got {type_name(v)}")
                self._check_keys(v, sub, full, components)

    def section(self, name: str) -> Section:
        table = SCHEMA.find(name)
        if name not in self.data:
            if table.required:
                raise CaseError(f"missing section [{name}]")
            return Section({}, name, table)
        return Section(self.data[name], name, table)

    # -- the whole case --------------------------------------------------------------
    def case(self) -> Case:
        if not isinstance(self.data, dict):
            raise CaseError("a case file is a TOML table")
        self._check_keys(self.data, SCHEMA, "", raw_components(self.data))
        top = Section(self.data, "", SCHEMA)
        title = present(top.string("title", self.path.stem), "title")
        with_regions = "region" in self.data
        thermo = self.thermo(with_regions)
        comps = thermo.components
        conditions = self.conditions()
        grid_sec = self.section("grid")
        geometry = grid_sec.get("geometry")
        r0 = grid_sec.get("inner_radius")
        regions = ()
        if with_regions:
            regions, initial, grid = self.regions(top, grid_sec, geometry, r0, comps)
            length = grid.length
        else:
            length = grid_sec.get("length")
            if not length > 0.0:
                raise CaseError(f"grid.length = {length:g} m must be positive")
            if "initial" not in self.data:
                raise CaseError("missing section [initial] (or [[region]] tables)")
            initial = self.initial(comps, r0, r0 + length)
            grid = self.grid(grid_sec, geometry, length, r0, initial)
        boundary = read_boundary(self.section("boundary"), comps, conditions.duration)
        mobility = self.mobility(comps)
        solver = self.solver(conditions.duration)
        output = self.output(conditions.duration)
        potentials = read_potentials(top, comps, r0, r0 + length)
        onsager = read_onsager(self.section("onsager"), comps) if "onsager" in self.data else None
        homogenization = self.homogenization(thermo, onsager)
        gradient = read_gradient(self.section("gradient"), comps) if "gradient" in self.data else None
        check_gradient_case(gradient, boundary, solver, geometry)
        if regions and potentials:
            raise CaseError(
                "potential: external potentials are not available with [[region]] tables (the grid "
                "moves with the interfaces)"
            )
        if regions and solver.method == "explicit":
            raise CaseError("solver.method = 'explicit': the moving-boundary model ([[region]]) steps implicitly only")
        if regions and gradient is not None:
            raise CaseError(
                "gradient: gradient energy is not available with [[region]] tables (sharp interfaces "
                "between regions and a diffuse-interface model exclude each other: use one or the other)"
            )
        check_homogenization_case(thermo, gradient, boundary)
        return Case(
            title=title,
            path=self.path,
            base_dir=self.base_dir,
            thermo=thermo,
            conditions=conditions,
            grid=grid,
            initial=initial,
            boundary=boundary,
            mobility=mobility,
            solver=solver,
            output=output,
            potentials=potentials,
            onsager=onsager,
            gradient=gradient,
            regions=regions,
            homogenization=homogenization,
        )

    def file(self, sec: Section, name, default=None) -> Path:
        """A file path key, relative to the case file's directory."""
        text = sec.string(name) if default is None else sec.string(name, default)
        p = Path(present(text, sec.key(name))).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    # -- sections ------------------------------------------------------------------------
    def thermo(self, with_regions: bool) -> ThermoSpec:
        sec = self.section("thermo")
        db = self.file(sec, "database")
        if self.database_must_exist and not db.is_file():
            raise CaseError(f"thermo.database: file not found: {db}")
        phase = sec.string("phase")
        phases = sec.raw("phases")
        if with_regions and phases is not None:
            raise CaseError(
                "thermo.phases: the homogenization model (several phases per node) is not available "
                "with [[region]] tables (each region is one phase, named by its region.phase): remove "
                "thermo.phases or the [[region]] tables"
            )
        if with_regions and phase is not None:
            raise CaseError("thermo.phase: the case has [[region]] tables, each naming its phase; remove thermo.phase")
        if phase is not None and phases is not None:
            raise CaseError("thermo: give either phase (one phase) or phases (two or more), not both")
        if with_regions:
            phase, phases = "", ()
        elif phases is not None:
            phases = read_phase_names(phases, "thermo.phases")
            if not phases:
                raise CaseError("thermo.phases is an empty array")
            phase, phases = (phases[0], ()) if len(phases) == 1 else ("", phases)
        elif phase is None:
            raise CaseError(
                "missing key 'thermo.phase' (or thermo.phases, two or more candidate phases; or "
                "[[region]] tables, each naming its phase)"
            )
        else:
            phases = ()
        phase = phase.upper()
        comps = sec.raw("components")
        if not isinstance(comps, list) or not all(isinstance(c, str) and c.strip() for c in comps):
            raise CaseError(
                f'thermo.components must be an array of element names, e.g. ["FE", "SI", "C"], got {comps!r}'
            )
        comps = tuple(c.strip().upper() for c in comps)
        if len(comps) < 2:
            raise CaseError(
                f"thermo.components = {list(comps)}: give at least two, the dependent (balance) component first"
            )
        dupes = sorted({c for c in comps if comps.count(c) > 1})
        if dupes:
            raise CaseError(f"thermo.components: {', '.join(dupes)} given more than once")
        if "VA" in comps:
            raise CaseError("thermo.components: VA (vacancies) is not a component")
        cands = sec.raw("candidates")
        if cands is not None:
            if not isinstance(cands, list) or not all(isinstance(c, str) and c.strip() for c in cands):
                raise CaseError(
                    f'thermo.candidates must be an array of phase names, e.g. ["BCC_A2"] '
                    f"([] turns the check off), got {cands!r}"
                )
            cands = tuple(c.strip().upper() for c in cands)
            dupes = sorted({c for c in cands if cands.count(c) > 1})
            if dupes:
                raise CaseError(f"thermo.candidates: {', '.join(dupes)} given more than once")
            inside = [c for c in cands if phases and c in phases]
            if inside:
                raise CaseError(
                    f"thermo.candidates: {', '.join(inside)} {'is' if len(inside) == 1 else 'are'} in "
                    f"thermo.phases, whose local equilibrium every node already is (candidates are the "
                    f"phases checked against it at the start)"
                )
        return ThermoSpec(
            db.resolve(), phase, comps, phases=phases, candidates=cands, check=sec.choice("check") or "states"
        )

    def homogenization(self, thermo: ThermoSpec, onsager) -> HomogenizationSpec | None:
        """[homogenization] of a case with several phases (defaults when absent); an error
        for a single-phase case."""
        if not thermo.multiphase:
            if "homogenization" in self.data:
                raise CaseError("[homogenization] needs several phases: list them in thermo.phases")
            return None
        if onsager is not None:
            raise CaseError("[onsager] cross terms are not supported with several phases (thermo.phases)")
        return read_homogenization(self.section("homogenization"), thermo.phases)

    def conditions(self) -> ConditionsSpec:
        sec = self.section("conditions")
        raw_t = sec.raw("temperature")
        duration = sec.get("duration")
        if not duration > 0.0:
            raise CaseError(f"conditions.duration = {sec.raw('duration')!r} must be positive")
        if isinstance(raw_t, list):
            schedule = read_time_table(raw_t, "conditions.temperature", parse_temperature)
            if len(schedule) == 1:
                return ConditionsSpec(schedule[0][1], duration)
            return ConditionsSpec(
                schedule[0][1] if schedule[0][0] <= 0.0 else table_value(schedule, 0.0), duration, schedule
            )
        temperature = parse_temperature(raw_t, "conditions.temperature")
        return ConditionsSpec(temperature, duration)

    def initial(self, comps: tuple, lo: float, hi: float) -> InitialSpec:
        sec = self.section("initial")
        kind = sec.get("type")
        unit = sec.get("unit")
        columns = {k: k.strip().upper() for k in sec.data if k.strip().upper() in comps}
        used = {"step": {"position", "left", "right"}, "uniform": {"composition"}, "table": {"z"}}[kind]
        perturbation = None
        if sec.has("perturbation"):
            table = sec.table.find("perturbation")
            perturbation = read_perturbation(Section(sec.raw("perturbation"), sec.key("perturbation"), table), comps)
        for k in ("position", "left", "right", "composition", "z"):
            if sec.has(k) and k not in used:
                raise CaseError(f"initial.{k} is not used with initial.type = '{kind}'")
        if kind != "table" and columns:
            raise CaseError(f"initial.{next(iter(columns))} is not used with initial.type = '{kind}'")
        if kind == "step":
            position = sec.get("position")
            if not lo < position < hi:
                raise CaseError(
                    f"initial.position = {position:g} m is not strictly inside the domain ({lo:g}, {hi:g}) m"
                )
            left = read_composition(sec.raw("left"), "initial.left", comps, unit)
            right = read_composition(sec.raw("right"), "initial.right", comps, unit)
            return InitialSpec(
                "step", position=position, left=left, right=right, components=comps, perturbation=perturbation
            )
        if kind == "uniform":
            x = read_composition(sec.raw("composition"), "initial.composition", comps, unit)
            return InitialSpec("uniform", composition=x, components=comps, perturbation=perturbation)
        # table
        zs = sec.raw("z")
        if not isinstance(zs, list) or len(zs) < 2:
            raise CaseError("initial.z must be an array of at least two positions")
        z = [parse_length(v, f"initial.z[{i}]") for i, v in enumerate(zs)]
        for i in range(1, len(z)):
            if not z[i] > z[i - 1]:
                raise CaseError(f"initial.z must increase strictly: z[{i - 1}] = {z[i - 1]:g} m, z[{i}] = {z[i]:g} m")
        tol = 1e-9 * (hi - lo)
        if z[0] > lo + tol or z[-1] < hi - tol:
            raise CaseError(f"initial.z spans [{z[0]:g}, {z[-1]:g}] m; it must cover the domain [{lo:g}, {hi:g}] m")
        by_comp = {c: k for k, c in columns.items()}
        if len(by_comp) != len(columns):
            raise CaseError(f"initial: a component column is given twice ({', '.join(columns)})")
        missing = [c for c in comps[1:] if c not in by_comp]
        if comps[0] in by_comp:
            raise CaseError(
                f"initial.{by_comp[comps[0]]}: {comps[0]} is the dependent component "
                f"(the balance); give only {', '.join(comps[1:])}"
            )
        if missing:
            raise CaseError(
                f"initial: missing the column(s) {', '.join(missing)} of the table "
                f"(one array per independent component, as long as initial.z)"
            )
        cols = {}
        for c in comps[1:]:
            k = by_comp[c]
            v = sec.data[k]
            if not isinstance(v, list) or len(v) != len(z):
                raise CaseError(f"initial.{k} must be an array of {len(z)} numbers (one per initial.z)")
            cols[c] = [as_number(e, f"initial.{k}[{i}]") for i, e in enumerate(v)]
        rows = []
        for i in range(len(z)):
            x = to_mole_fractions(
                {c: cols[c][i] for c in comps[1:]}, f"initial (table row {i}, z = {z[i]:g} m)", comps, unit
            )
            rows.append(tuple(x[c] for c in comps))
        return InitialSpec("table", z=tuple(z), x=tuple(rows), components=comps, perturbation=perturbation)

    def regions(self, top: Section, grid_sec: Section, geometry, r0, comps: tuple):
        """(regions, None for [initial], the grid spec) of a case with [[region]] tables:
        they replace [initial] and the grid's length, nodes and spacing, which must not be
        given too; the grid spec holds the total length and node count."""
        if "initial" in self.data:
            raise CaseError(
                "initial: the case has [[region]] tables, which give the composition at t = 0; remove [initial]"
            )
        for key in ("length", "nodes", "spacing", "ratio", "position"):
            if grid_sec.has(key):
                raise CaseError(
                    f"grid.{key}: the case has [[region]] tables, which give the grid region by "
                    f"region (width, nodes, spacing); remove grid.{key}"
                )
        regions = read_regions(top, comps, r0)
        length = regions[-1].start + regions[-1].width - r0
        spec = GridSpec(geometry, length, sum(r.nodes for r in regions), "linear", 1.05, r0 + 0.5 * length, r0)
        check_grid_spec(spec)  # geometry and inner radius
        return regions, None, spec

    def grid(self, sec: Section, geometry, length, r0, initial: InitialSpec) -> GridSpec:
        nodes = sec.get("nodes")
        spacing = sec.get("spacing")
        ratio = sec.get("ratio")
        if sec.has("position"):
            position = sec.get("position")
        elif initial.type == "step":
            position = initial.position
        else:
            position = r0 + 0.5 * length
        spec = GridSpec(geometry, length, nodes, spacing, ratio, position, r0)
        if self.database_must_exist and isinstance(nodes, int) and not isinstance(nodes, bool):
            check_grid_nodes(nodes, len(initial.components))  # a case to run: before its grid is built
        make_grid(spec)  # validates (nodes, ratio, position, inner radius, vanishing cells)
        return spec

    def mobility(self, comps: tuple) -> MobilitySpec:
        sec = self.section("mobility")
        missing = sec.get("missing")
        scale_in = sec.raw("scale", {})
        if not isinstance(scale_in, dict):
            raise CaseError(f"mobility.scale must be a table, e.g. {{ C = 2.0 }}, got {type_name(scale_in)}")
        scale = {c: 1.0 for c in comps}
        for k, c, v in component_items(scale_in, "mobility.scale", comps):
            f = as_number(v, f"mobility.scale.{k}")
            if not f > 0.0:
                raise CaseError(f"mobility.scale.{k} = {f:g} must be positive")
            scale[c] = f
        vm = sec.get("molar_volume")
        if not vm > 0.0:
            raise CaseError(f"mobility.molar_volume = {vm:g} m^3/mol must be positive")
        return MobilitySpec(missing, scale, vm)

    def solver(self, duration: float) -> SolverSpec:
        sec = self.section("solver")
        method = sec.get("method")
        rtol = sec.get("rtol")
        if not 0.0 < rtol < 1.0:
            raise CaseError(f"solver.rtol = {rtol:g} must be in (0, 1)")
        atol = sec.get("atol")
        if not atol > 0.0:
            raise CaseError(f"solver.atol = {atol:g} must be positive")
        max_steps = sec.get("max_steps")
        if max_steps is not None and max_steps <= 0:
            raise CaseError(f"solver.max_steps = {max_steps} must be positive")
        initial_step = sec.get("initial_step")
        if initial_step is not None and not 0.0 < initial_step <= duration:
            raise CaseError(
                f"solver.initial_step = {initial_step:g} s must be in (0, conditions.duration = {duration:g} s]"
            )
        return SolverSpec(method, rtol, atol, max_steps, initial_step)

    def output(self, duration: float) -> OutputSpec:
        sec = self.section("output")
        file = self.file(sec, "file", f"{self.path.stem}.h5").resolve()
        snaps = sec.raw("snapshots")
        if isinstance(snaps, int) and not isinstance(snaps, bool):
            if snaps < 1:
                raise CaseError(f"output.snapshots = {snaps}: at least 1")
            check_snapshot_count(snaps)
            times = [duration * k / snaps for k in range(1, snaps + 1)]
            times[-1] = duration
        elif isinstance(snaps, list):
            if not snaps:
                raise CaseError("output.snapshots is an empty array")
            times = [parse_time(v, f"output.snapshots[{i}]") for i, v in enumerate(snaps)]
            for i, t in enumerate(times):
                if not 0.0 < t <= duration:
                    raise CaseError(
                        f"output.snapshots[{i}] = {t:g} s is outside (0, conditions.duration = {duration:g} s]"
                    )
                if i and not t > times[i - 1]:
                    raise CaseError(
                        f"output.snapshots must increase strictly: [{i - 1}] = {times[i - 1]:g} s, [{i}] = {t:g} s"
                    )
            if times[-1] < duration:
                times.append(duration)
        else:
            raise CaseError(f"output.snapshots must be a count (integer) or an array of times, got {type_name(snaps)}")
        return OutputSpec(file, tuple(float(t) for t in times))
