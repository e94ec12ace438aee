"""Case files: TOML -> :class:`Case` (frozen dataclasses, validated, SI units).

Every key is checked: unknown keys, missing required keys, wrong types, values out of
range and inconsistent entries are :class:`~kinsim.errors.CaseError` naming the key.
Compositions end up as mole fractions of *all* components (the dependent one,
``thermo.components[0]``, is the balance), lengths in m, times in s, temperatures in K,
files as absolute paths.  :meth:`Case.to_toml` writes the resolved case back as TOML
that :func:`load_case` reads into an equal :class:`Case`.

Positions (``initial.position``, ``grid.position``, ``initial.z``) are coordinates on the
grid's axis, which runs from ``grid.inner_radius`` (0 unless a cylindrical or spherical
grid has a hole) to ``grid.inner_radius + grid.length``.

This module must not import numba or pycalphad (a case is read before anything heavy).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CaseError
from .grid import GEOMETRIES, SPACINGS, Grid1D, make_grid
from .units import parse_length, parse_temperature, parse_time, weight_to_mole

__all__ = [
    "BoundarySide",
    "BoundarySpec",
    "Case",
    "ConditionsSpec",
    "GridSpec",
    "InitialSpec",
    "MobilitySpec",
    "OutputSpec",
    "SolverSpec",
    "ThermoSpec",
    "load_case",
    "parse_case",
]

COMPOSITION_UNITS = ("mole-fraction", "weight-percent")
INITIAL_TYPES = ("step", "uniform", "table")
BOUNDARY_TYPES = ("closed", "fixed-composition")
MISSING_MOBILITY = ("error", "solvent")
SOLVER_METHODS = ("implicit", "explicit")

DEFAULT_RATIO = 1.05
DEFAULT_MOLAR_VOLUME = 1.0e-5
DEFAULT_RTOL = 1.0e-4
DEFAULT_ATOL = 1.0e-6
DEFAULT_SNAPSHOTS = 10


# ---------------------------------------------------------------------------------------
# Schema: the keys that exist.  A dict is a table, None a value, _COMP a table whose keys
# are component names (checked against thermo.components when the composition is read).
# [initial] of type "table" also holds one list per component (also checked later).
# ---------------------------------------------------------------------------------------
_COMP = "<component>"
_BOUNDARY_SIDE = {"type": None, "composition": _COMP, "unit": None}
_SCHEMA: dict = {
    "title": None,
    "thermo": {"database": None, "phase": None, "components": None},
    "conditions": {"temperature": None, "duration": None},
    "grid": {"geometry": None, "length": None, "nodes": None, "spacing": None, "ratio": None,
             "position": None, "inner_radius": None},
    "initial": {"type": None, "position": None, "unit": None, "left": _COMP, "right": _COMP,
                "composition": _COMP, "z": None},
    "boundary": {"left": _BOUNDARY_SIDE, "right": _BOUNDARY_SIDE},
    "mobility": {"missing": None, "scale": _COMP, "molar_volume": None},
    "solver": {"method": None, "rtol": None, "atol": None, "max_steps": None,
               "initial_step": None},
    "output": {"file": None, "snapshots": None},
}


# ---------------------------------------------------------------------------------------
# The resolved case
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThermoSpec:
    database: Path                 # absolute path of the TDB file
    phase: str                     # upper case
    components: tuple[str, ...]    # upper case; components[0] is the dependent one

    @property
    def dependent(self) -> str:
        return self.components[0]

    @property
    def independent(self) -> tuple[str, ...]:
        return self.components[1:]


@dataclass(frozen=True)
class ConditionsSpec:
    temperature: float   # K
    duration: float      # s


@dataclass(frozen=True)
class GridSpec:
    geometry: str        # planar | cylindrical | spherical
    length: float        # m
    nodes: int
    spacing: str         # linear | geometric | double-geometric
    ratio: float         # width ratio of neighbouring cells (geometric spacings)
    position: float      # m, where double-geometric spacing is finest
    inner_radius: float  # m, left end of the domain


@dataclass(frozen=True)
class InitialSpec:
    """Initial composition; every composition is a dict of mole fractions of all
    components, in the order of ``thermo.components``."""

    type: str                                  # step | uniform | table
    position: float | None = None              # step: m
    left: dict[str, float] | None = None       # step
    right: dict[str, float] | None = None      # step
    composition: dict[str, float] | None = None  # uniform
    z: tuple[float, ...] | None = None         # table: m, increasing
    x: tuple[tuple[float, ...], ...] | None = None  # table: (len(z), ncomp)

    def profile(self, z) -> np.ndarray:
        """Mole fractions (len(z), ncomp) at positions ``z`` (m): the step (``left``
        below ``position``), the uniform composition, or the table interpolated
        linearly."""
        z = np.asarray(z, dtype=float)
        if self.type == "step":
            left = np.array(list(self.left.values()))
            right = np.array(list(self.right.values()))
            return np.where((z < self.position)[:, None], left[None, :], right[None, :])
        if self.type == "uniform":
            return np.tile(np.array(list(self.composition.values())), (z.shape[0], 1))
        zt = np.asarray(self.z)
        xt = np.asarray(self.x)
        return np.stack([np.interp(z, zt, xt[:, k]) for k in range(xt.shape[1])], axis=1)


@dataclass(frozen=True)
class BoundarySide:
    type: str                                   # closed | fixed-composition
    composition: dict[str, float] | None = None  # fixed-composition: all components


@dataclass(frozen=True)
class BoundarySpec:
    left: BoundarySide
    right: BoundarySide


@dataclass(frozen=True)
class MobilitySpec:
    missing: str                 # error | solvent
    scale: dict[str, float]      # multiplier per component (all components)
    molar_volume: float          # m^3 per mole of substitutional atoms


@dataclass(frozen=True)
class SolverSpec:
    method: str                  # implicit | explicit
    rtol: float
    atol: float
    max_steps: int | None = None        # None: no limit
    initial_step: float | None = None   # s; None: the solver chooses


@dataclass(frozen=True)
class OutputSpec:
    file: Path                       # absolute
    snapshots: tuple[float, ...]     # s, ascending, last == duration (t = 0 always stored too)


@dataclass(frozen=True)
class Case:
    """A validated case.  ``path`` and ``base_dir`` say where it was read from and take
    no part in comparisons: two cases are equal when they describe the same run."""

    title: str
    path: Path = field(compare=False)
    base_dir: Path = field(compare=False)
    thermo: ThermoSpec
    conditions: ConditionsSpec
    grid: GridSpec
    initial: InitialSpec
    boundary: BoundarySpec
    mobility: MobilitySpec
    solver: SolverSpec
    output: OutputSpec

    @property
    def components(self) -> tuple[str, ...]:
        return self.thermo.components

    def make_grid(self) -> Grid1D:
        return make_grid(self.grid)

    def to_dict(self) -> dict:
        """The resolved case in the case-file schema (SI units, mole fractions,
        absolute paths), as plain Python values."""
        indep = self.thermo.independent

        def comp(x):
            return {c: float(x[c]) for c in indep}

        ini = self.initial
        initial: dict = {"type": ini.type, "unit": "mole-fraction"}
        if ini.type == "step":
            initial.update(position=ini.position, left=comp(ini.left), right=comp(ini.right))
        elif ini.type == "uniform":
            initial["composition"] = comp(ini.composition)
        else:
            initial["z"] = [float(v) for v in ini.z]
            for k, c in enumerate(self.thermo.components):
                if k:
                    initial[c] = [float(row[k]) for row in ini.x]

        def side(b: BoundarySide):
            out = {"type": b.type}
            if b.composition is not None:
                out.update(unit="mole-fraction", composition=comp(b.composition))
            return out

        solver = {"method": self.solver.method, "rtol": self.solver.rtol, "atol": self.solver.atol}
        if self.solver.max_steps is not None:
            solver["max_steps"] = self.solver.max_steps
        if self.solver.initial_step is not None:
            solver["initial_step"] = self.solver.initial_step
        g = self.grid
        return {
            "title": self.title,
            "thermo": {"database": str(self.thermo.database), "phase": self.thermo.phase,
                       "components": list(self.thermo.components)},
            "conditions": {"temperature": self.conditions.temperature,
                           "duration": self.conditions.duration},
            "grid": {"geometry": g.geometry, "length": g.length, "nodes": g.nodes,
                     "spacing": g.spacing, "ratio": g.ratio, "position": g.position,
                     "inner_radius": g.inner_radius},
            "initial": initial,
            "boundary": {"left": side(self.boundary.left), "right": side(self.boundary.right)},
            "mobility": {"missing": self.mobility.missing, "scale": dict(self.mobility.scale),
                         "molar_volume": self.mobility.molar_volume},
            "solver": solver,
            "output": {"file": str(self.output.file), "snapshots": list(self.output.snapshots)},
        }

    def to_toml(self) -> str:
        """The resolved case as TOML text (readable by :func:`load_case`)."""
        import tomli_w  # writing TOML (tomllib only reads it)

        header = ("# kinsim case, resolved: SI units (m, s, K), mole fractions, absolute paths\n")
        return header + tomli_w.dumps(self.to_dict())


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------
def load_case(path, overrides=()) -> Case:
    """Read, override and validate a case file.

    ``overrides`` are strings ``"section.key=value"`` (``kinsim run --set``); the value is
    read as a TOML value (``1323``, ``"1050 degC"``, ``[1, 2]``, ``{SI = 3.8}``) or, if it
    is not one, taken as a bare string.  Overrides naming keys outside the schema are
    errors; they are applied before validation.
    """
    path = Path(path)
    fname = path.name
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise CaseError(f"case file not found: {path}") from None
    except IsADirectoryError:
        raise CaseError(f"case file {path} is a directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{fname}: TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CaseError(f"{fname}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for text in overrides:
        _apply_override(raw, text)
    return parse_case(raw, path, overrides=overrides)


def parse_case(data: dict, path, overrides=()) -> Case:
    """Validate a case given as the dict of a parsed case file read from ``path``
    (relative files are resolved against its directory)."""
    path = Path(path)
    fname = path.name
    try:
        return _Parser(data, path).case()
    except CaseError as exc:
        if getattr(exc, "located", False):
            raise
        where = fname if not overrides else f"{fname} with --set {' '.join(overrides)}"
        raise CaseError(f"{where}: {exc}") from None


def _parse_value(text: str):
    text = text.strip()
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    if len(parsed) != 1:
        return text
    return parsed["value"]


def _suggest(key: str, candidates) -> str:
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _raw_components(raw) -> set[str]:
    comps = raw.get("thermo", {}).get("components") if isinstance(raw.get("thermo"), dict) else None
    if isinstance(comps, list):
        return {c.strip().upper() for c in comps if isinstance(c, str)}
    return set()


def _all_keys(schema, prefix=""):
    for k, v in schema.items():
        full = f"{prefix}.{k}" if prefix else k
        yield full
        if isinstance(v, dict):
            yield from _all_keys(v, full)


def _apply_override(raw: dict, text: str) -> None:
    key, sep, value = text.partition("=")
    key = key.strip()
    parts = [p.strip() for p in key.split(".")]
    if not sep or not key or not all(parts):
        raise CaseError(f"--set {text!r}: expected section.key=value, e.g. grid.nodes=400")
    node = _SCHEMA
    for i, part in enumerate(parts):
        if node is _COMP and i == len(parts) - 1:
            break  # a component name; checked when the composition is read
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        if (isinstance(node, dict) and i == 1 and parts[0] == "initial"
                and len(parts) == 2 and part.upper() in _raw_components(raw)):
            break  # a table column of [initial]
        raise CaseError(f"--set {text}: unknown key '{key}'" + _suggest(key, _all_keys(_SCHEMA)))
    target = raw
    for i, part in enumerate(parts[:-1]):
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            sub = ".".join(parts[:i + 1])
            raise CaseError(f"--set {text}: '{sub}' is not a table in the case file")
        target = nxt
    last = parts[-1]
    if node is _COMP:  # replace a component entry whatever its case in the file
        for k in [k for k in target if k.upper() == last.upper()]:
            del target[k]
    target[last] = _parse_value(value)


_MISSING = object()


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


class _Section:
    """Typed access to one table of the case file; errors name the full key."""

    def __init__(self, data: dict, prefix: str):
        self.data = data
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default=_MISSING):
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            raise CaseError(f"missing key '{self.key(name)}'")
        return default

    def string(self, name, default=_MISSING) -> str:
        v = self.raw(name, default)
        if not isinstance(v, str):
            raise CaseError(f"{self.key(name)} must be a string, got {_type_name(v)}")
        if not v.strip():
            raise CaseError(f"{self.key(name)} is empty")
        return v.strip()

    def choice(self, name, choices, default=_MISSING) -> str:
        v = self.string(name, default)
        if v not in choices:
            raise CaseError(f"{self.key(name)} = {v!r}: use one of {', '.join(choices)}"
                            + _suggest(v, choices))
        return v

    def number(self, name, default=_MISSING) -> float:
        v = self.raw(name, default)
        return _as_number(v, self.key(name))

    def integer(self, name, default=_MISSING):
        v = self.raw(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise CaseError(f"{self.key(name)} must be an integer, got {_type_name(v)}")
        return v


def _as_number(v, where) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CaseError(f"{where} must be a number, got {_type_name(v)}")
    v = float(v)
    if not math.isfinite(v):
        raise CaseError(f"{where} = {v} is not finite")
    return v


def _fmt(values: dict) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in values.items())


class _Parser:
    def __init__(self, data: dict, path: Path):
        self.data = data
        self.path = path
        self.fname = path.name
        self.base_dir = path.resolve().parent

    # -- structure -----------------------------------------------------------------
    def _check_keys(self, data: dict, schema: dict, prefix: str, components: set[str]):
        for k, v in data.items():
            full = f"{prefix}.{k}" if prefix else k
            if k not in schema:
                if prefix == "initial" and k.upper() in components:
                    continue
                exc = CaseError(f"unknown key '{full}' in {self.fname}"
                                + _suggest(full, _all_keys(_SCHEMA)))
                exc.located = True
                raise exc
            sub = schema[k]
            if isinstance(sub, dict):
                if not isinstance(v, dict):
                    raise CaseError(f"'{full}' must be a table ([{full}]), got {_type_name(v)}")
                self._check_keys(v, sub, full, components)

    def section(self, name: str, required: bool = True) -> _Section:
        if name not in self.data:
            if required:
                raise CaseError(f"missing section [{name}]")
            return _Section({}, name)
        return _Section(self.data[name], name)

    # -- the whole case --------------------------------------------------------------
    def case(self) -> Case:
        if not isinstance(self.data, dict):
            raise CaseError("a case file is a TOML table")
        self._check_keys(self.data, _SCHEMA, "", _raw_components(self.data))
        top = _Section(self.data, "")
        title = top.string("title", self.path.stem)
        thermo = self.thermo()
        conditions = self.conditions()
        grid_sec = self.section("grid")
        geometry = grid_sec.choice("geometry", tuple(GEOMETRIES), "planar")
        length = self.length(grid_sec, "length")
        if not length > 0.0:
            raise CaseError(f"grid.length = {length:g} m must be positive")
        r0 = self.length(grid_sec, "inner_radius", 0.0)
        initial = self.initial(thermo.components, r0, r0 + length)
        grid = self.grid(grid_sec, geometry, length, r0, initial)
        boundary = BoundarySpec(self.boundary_side("left", thermo.components),
                                self.boundary_side("right", thermo.components))
        mobility = self.mobility(thermo.components)
        solver = self.solver(conditions.duration)
        output = self.output(conditions.duration)
        return Case(title=title, path=self.path, base_dir=self.base_dir, thermo=thermo,
                    conditions=conditions, grid=grid, initial=initial, boundary=boundary,
                    mobility=mobility, solver=solver, output=output)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def length(sec: _Section, name, default=_MISSING) -> float:
        return parse_length(sec.raw(name, default), sec.key(name))

    @staticmethod
    def time(sec: _Section, name, default=_MISSING) -> float:
        return parse_time(sec.raw(name, default), sec.key(name))

    def file(self, sec: _Section, name, default=_MISSING) -> Path:
        p = Path(sec.string(name, default)).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    # -- sections ------------------------------------------------------------------------
    def thermo(self) -> ThermoSpec:
        sec = self.section("thermo")
        db = self.file(sec, "database")
        if not db.is_file():
            raise CaseError(f"thermo.database: file not found: {db}")
        phase = sec.string("phase").upper()
        comps = sec.raw("components")
        if not isinstance(comps, list) or not all(isinstance(c, str) and c.strip() for c in comps):
            raise CaseError(f"thermo.components must be an array of element names, "
                            f"e.g. [\"FE\", \"SI\", \"C\"], got {comps!r}")
        comps = tuple(c.strip().upper() for c in comps)
        if len(comps) < 2:
            raise CaseError(f"thermo.components = {list(comps)}: give at least two, "
                            f"the dependent (balance) component first")
        dupes = sorted({c for c in comps if comps.count(c) > 1})
        if dupes:
            raise CaseError(f"thermo.components: {', '.join(dupes)} given more than once")
        if "VA" in comps:
            raise CaseError("thermo.components: VA (vacancies) is not a component")
        return ThermoSpec(db.resolve(), phase, comps)

    def conditions(self) -> ConditionsSpec:
        sec = self.section("conditions")
        temperature = parse_temperature(sec.raw("temperature"), "conditions.temperature")
        duration = self.time(sec, "duration")
        if not duration > 0.0:
            raise CaseError(f"conditions.duration = {sec.raw('duration')!r} must be positive")
        return ConditionsSpec(temperature, duration)

    def composition(self, value, where: str, comps: tuple, unit: str) -> dict[str, float]:
        if not isinstance(value, dict):
            raise CaseError(f"{where} must be a table of the independent components, "
                            f"e.g. {{ {', '.join(f'{c} = ...' for c in comps[1:])} }}, "
                            f"got {_type_name(value)}")
        given: dict[str, float] = {}
        for k, v in value.items():
            c = k.strip().upper()
            if c in given:
                raise CaseError(f"{where}: {c} given twice")
            if c not in comps:
                raise CaseError(f"{where}: unknown component '{k}'; the components are "
                                f"{', '.join(comps)} (thermo.components)")
            if c == comps[0]:
                raise CaseError(f"{where}: {c} is the dependent component (the balance, first in "
                                f"thermo.components); give only {', '.join(comps[1:])}")
            given[c] = _as_number(v, f"{where}.{k}")
        missing = [c for c in comps[1:] if c not in given]
        if missing:
            raise CaseError(f"{where}: missing {', '.join(missing)} (every independent component "
                            f"must be given; {comps[0]} is the balance)")
        return _to_mole({c: given[c] for c in comps[1:]}, where, comps, unit)

    def initial(self, comps: tuple, lo: float, hi: float) -> InitialSpec:
        sec = self.section("initial")
        kind = sec.choice("type", INITIAL_TYPES)
        unit = sec.choice("unit", COMPOSITION_UNITS, "mole-fraction")
        columns = {k: k.strip().upper() for k in sec.data if k.strip().upper() in comps}
        used = {"step": {"position", "left", "right"}, "uniform": {"composition"},
                "table": {"z"}}[kind]
        for k in ("position", "left", "right", "composition", "z", *columns):
            if k in sec.data and k not in used and not (kind == "table" and k in columns):
                raise CaseError(f"initial.{k} is not used with initial.type = '{kind}'")
        if kind == "step":
            position = self.length(sec, "position")
            if not lo < position < hi:
                raise CaseError(f"initial.position = {position:g} m is not strictly inside the "
                                f"domain ({lo:g}, {hi:g}) m")
            left = self.composition(sec.raw("left"), "initial.left", comps, unit)
            right = self.composition(sec.raw("right"), "initial.right", comps, unit)
            return InitialSpec("step", position=position, left=left, right=right)
        if kind == "uniform":
            x = self.composition(sec.raw("composition"), "initial.composition", comps, unit)
            return InitialSpec("uniform", composition=x)
        # table
        zs = sec.raw("z")
        if not isinstance(zs, list) or len(zs) < 2:
            raise CaseError("initial.z must be an array of at least two positions")
        z = [parse_length(v, f"initial.z[{i}]") for i, v in enumerate(zs)]
        for i in range(1, len(z)):
            if not z[i] > z[i - 1]:
                raise CaseError(f"initial.z must increase strictly: z[{i - 1}] = {z[i - 1]:g} m, "
                                f"z[{i}] = {z[i]:g} m")
        tol = 1e-9 * (hi - lo)
        if z[0] > lo + tol or z[-1] < hi - tol:
            raise CaseError(f"initial.z spans [{z[0]:g}, {z[-1]:g}] m; it must cover the domain "
                            f"[{lo:g}, {hi:g}] m")
        by_comp = {c: k for k, c in columns.items()}
        if len(by_comp) != len(columns):
            raise CaseError(f"initial: a component column is given twice ({', '.join(columns)})")
        missing = [c for c in comps[1:] if c not in by_comp]
        if comps[0] in by_comp:
            raise CaseError(f"initial.{by_comp[comps[0]]}: {comps[0]} is the dependent component "
                            f"(the balance); give only {', '.join(comps[1:])}")
        if missing:
            raise CaseError(f"initial: missing the column(s) {', '.join(missing)} of the table "
                            f"(one array per independent component, as long as initial.z)")
        cols = {}
        for c in comps[1:]:
            k = by_comp[c]
            v = sec.data[k]
            if not isinstance(v, list) or len(v) != len(z):
                raise CaseError(f"initial.{k} must be an array of {len(z)} numbers (one per initial.z)")
            cols[c] = [_as_number(e, f"initial.{k}[{i}]") for i, e in enumerate(v)]
        rows = []
        for i in range(len(z)):
            x = _to_mole({c: cols[c][i] for c in comps[1:]}, f"initial (table row {i}, z = {z[i]:g} m)",
                         comps, unit)
            rows.append(tuple(x[c] for c in comps))
        return InitialSpec("table", z=tuple(z), x=tuple(rows))

    def grid(self, sec: _Section, geometry, length, r0, initial: InitialSpec) -> GridSpec:
        nodes = sec.integer("nodes")
        spacing = sec.choice("spacing", SPACINGS, "linear")
        ratio = sec.number("ratio", DEFAULT_RATIO)
        if sec.has("position"):
            position = self.length(sec, "position")
        elif initial.type == "step":
            position = initial.position
        else:
            position = r0 + 0.5 * length
        spec = GridSpec(geometry, length, nodes, spacing, ratio, position, r0)
        make_grid(spec)  # validates (nodes, ratio, position, inner radius, vanishing cells)
        return spec

    def boundary_side(self, side: str, comps: tuple) -> BoundarySide:
        bsec = self.section("boundary", required=False)
        data = bsec.data.get(side, {})
        sec = _Section(data, f"boundary.{side}")
        kind = sec.choice("type", BOUNDARY_TYPES, "closed")
        if kind == "closed":
            for k in ("composition", "unit"):
                if k in data:
                    raise CaseError(f"boundary.{side}.{k} is not used with type = 'closed'")
            return BoundarySide("closed")
        unit = sec.choice("unit", COMPOSITION_UNITS, "mole-fraction")
        x = self.composition(sec.raw("composition"), f"boundary.{side}.composition", comps, unit)
        return BoundarySide(kind, x)

    def mobility(self, comps: tuple) -> MobilitySpec:
        sec = self.section("mobility", required=False)
        missing = sec.choice("missing", MISSING_MOBILITY, "error")
        scale_in = sec.raw("scale", {})
        if not isinstance(scale_in, dict):
            raise CaseError(f"mobility.scale must be a table, e.g. {{ C = 2.0 }}, got {_type_name(scale_in)}")
        scale = {c: 1.0 for c in comps}
        seen = set()
        for k, v in scale_in.items():
            c = k.strip().upper()
            if c not in comps:
                raise CaseError(f"mobility.scale: unknown component '{k}'; the components are "
                                f"{', '.join(comps)} (thermo.components)")
            if c in seen:
                raise CaseError(f"mobility.scale: {c} given twice")
            seen.add(c)
            f = _as_number(v, f"mobility.scale.{k}")
            if not f > 0.0:
                raise CaseError(f"mobility.scale.{k} = {f:g} must be positive")
            scale[c] = f
        vm = sec.number("molar_volume", DEFAULT_MOLAR_VOLUME)
        if not vm > 0.0:
            raise CaseError(f"mobility.molar_volume = {vm:g} m^3/mol must be positive")
        return MobilitySpec(missing, scale, vm)

    def solver(self, duration: float) -> SolverSpec:
        sec = self.section("solver", required=False)
        method = sec.choice("method", SOLVER_METHODS, "implicit")
        rtol = sec.number("rtol", DEFAULT_RTOL)
        if not 0.0 < rtol < 1.0:
            raise CaseError(f"solver.rtol = {rtol:g} must be in (0, 1)")
        atol = sec.number("atol", DEFAULT_ATOL)
        if not atol > 0.0:
            raise CaseError(f"solver.atol = {atol:g} must be positive")
        max_steps = sec.integer("max_steps", None)
        if max_steps is not None and max_steps <= 0:
            raise CaseError(f"solver.max_steps = {max_steps} must be positive")
        initial_step = None
        if sec.has("initial_step"):
            initial_step = self.time(sec, "initial_step")
            if not 0.0 < initial_step <= duration:
                raise CaseError(f"solver.initial_step = {initial_step:g} s must be in "
                                f"(0, conditions.duration = {duration:g} s]")
        return SolverSpec(method, rtol, atol, max_steps, initial_step)

    def output(self, duration: float) -> OutputSpec:
        sec = self.section("output", required=False)
        file = self.file(sec, "file", f"{self.path.stem}.h5").resolve()
        snaps = sec.raw("snapshots", DEFAULT_SNAPSHOTS)
        if isinstance(snaps, int) and not isinstance(snaps, bool):
            if snaps < 1:
                raise CaseError(f"output.snapshots = {snaps}: at least 1")
            times = [duration * k / snaps for k in range(1, snaps + 1)]
            times[-1] = duration
        elif isinstance(snaps, list):
            if not snaps:
                raise CaseError("output.snapshots is an empty array")
            times = [parse_time(v, f"output.snapshots[{i}]") for i, v in enumerate(snaps)]
            for i, t in enumerate(times):
                if not 0.0 < t <= duration:
                    raise CaseError(f"output.snapshots[{i}] = {t:g} s is outside "
                                    f"(0, conditions.duration = {duration:g} s]")
                if i and not t > times[i - 1]:
                    raise CaseError(f"output.snapshots must increase strictly: "
                                    f"[{i - 1}] = {times[i - 1]:g} s, [{i}] = {t:g} s")
            if times[-1] < duration:
                times.append(duration)
        else:
            raise CaseError(f"output.snapshots must be a count (integer) or an array of times, "
                            f"got {_type_name(snaps)}")
        return OutputSpec(file, tuple(float(t) for t in times))


def _to_mole(given: dict[str, float], where: str, comps: tuple, unit: str) -> dict[str, float]:
    """Mole fractions of all components from the independent ones in ``unit``."""
    dep = comps[0]
    if unit == "weight-percent":
        for c, v in given.items():
            if not 0.0 < v < 100.0:
                raise CaseError(f"{where}: {c} = {v:g} wt% is outside (0, 100)")
        total = sum(given.values())
        if not total < 100.0:
            raise CaseError(f"{where}: weight percents {_fmt(given)} sum to {total:g}; they must "
                            f"sum to less than 100 to leave some {dep}")
        x = weight_to_mole(given, list(comps), where)
    else:
        for c, v in given.items():
            if not 0.0 < v < 1.0:
                raise CaseError(f"{where}: mole fraction {c} = {v:g} is outside (0, 1)")
        total = sum(given.values())
        if not total < 1.0:
            raise CaseError(f"{where}: mole fractions {_fmt(given)} sum to {total:g}; they must "
                            f"sum to less than 1 to leave some {dep}")
        x = {dep: 1.0 - total, **given}
    return {c: float(x[c]) for c in comps}
