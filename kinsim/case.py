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
    "BoundaryStage",
    "OnsagerSpec",
    "PotentialSpec",
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
BOUNDARY_TYPES = ("closed", "fixed-composition", "fixed-flux", "fixed-activity", "fixed-potential")
POTENTIAL_KINDS = ("stress", "pressure", "electric", "energy")
ONSAGER_FORMS = ("absolute", "relative")
FARADAY = 96485.33212  # C/mol (CODATA 2018, exact since the 2019 SI redefinition)
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
_BOUNDARY_SIDE = {"type": None, "composition": _COMP, "unit": None, "flux": _COMP, "activity": _COMP,
                  "mu": _COMP, "reference": _COMP, "until": None, "stages": None}
# keys of one stage in [[boundary.<side>.stages]] (checked by _Parser.boundary_stage)
_STAGE_KEYS = ("type", "composition", "unit", "flux", "activity", "mu", "reference", "until")
# keys of one [[potential]] entry
_POTENTIAL_KEYS = ("species", "kind", "volume", "charge", "z", "value", "expression", "time")
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
    "potential": None,   # array of tables, checked by _Parser.potentials
    "onsager": {"form": None, "matrix": None},
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


# A value that may follow time: ((t0, v0), (t1, v1), ...) in s, piecewise linear in t,
# constant before t0 and after the last time; a constant is ((0.0, v),).
TimeTable = tuple[tuple[float, float], ...]


def table_value(table: TimeTable, t: float) -> float:
    """The value of a time table at time ``t`` (s)."""
    ts = [p[0] for p in table]
    vs = [p[1] for p in table]
    return float(np.interp(t, ts, vs))


def is_constant(table: TimeTable) -> bool:
    return len({v for _, v in table}) == 1


@dataclass(frozen=True)
class ConditionsSpec:
    temperature: float   # K at t = 0
    duration: float      # s
    schedule: TimeTable | None = None  # T(t) in K when the temperature follows a table

    def temperature_at(self, t: float) -> float:
        return self.temperature if self.schedule is None else table_value(self.schedule, t)

    @property
    def temperature_table(self) -> TimeTable:
        return self.schedule if self.schedule is not None else ((0.0, self.temperature),)


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
        """Mole fractions (len(z), ncomp) at positions ``z`` (m), in the order of
        ``thermo.components`` (the order the compositions are stored in): the step
        (``left`` below ``position``), the uniform composition, or the table interpolated
        linearly per component and renormalised to sum 1 at every position."""
        z = np.asarray(z, dtype=float)
        if self.type == "step":
            left = np.array(list(self.left.values()))
            right = np.array(list(self.right.values()))
            return np.where((z < self.position)[:, None], left[None, :], right[None, :])
        if self.type == "uniform":
            return np.tile(np.array(list(self.composition.values())), (z.shape[0], 1))
        zt = np.asarray(self.z)
        xt = np.asarray(self.x)
        x = np.stack([np.interp(z, zt, xt[:, k]) for k in range(xt.shape[1])], axis=1)
        x /= x.sum(axis=1, keepdims=True)
        return x


@dataclass(frozen=True)
class BoundaryStage:
    """One boundary condition of one side, in force until ``until`` (s; None: to the end).

    The per-component values are time tables in absolute run time.  For
    fixed-composition, ``values`` holds the mole fraction of every independent component
    (the dependent one is the balance); for fixed-flux the flux into the specimen
    (mol m^-2 s^-1, volume-fixed frame); for fixed-activity the activity (with the
    reference phase in ``reference``); for fixed-potential the chemical potential (J/mol).
    Components a fixed-flux/-activity/-potential stage does not name are closed."""

    type: str
    values: dict[str, TimeTable] = field(default_factory=dict)
    reference: dict[str, str] = field(default_factory=dict)
    until: float | None = None
    dependent: str = ""      # fixed-composition: the balance component

    def composition_at(self, t: float) -> dict[str, float]:
        """fixed-composition: mole fractions of all components at time t."""
        x = {c: table_value(v, t) for c, v in self.values.items()}
        return {self.dependent: 1.0 - sum(x.values()), **x}

    def times(self) -> list[float]:
        """Every time named in the stage's tables."""
        return sorted({t for tab in self.values.values() for t, _ in tab})


@dataclass(frozen=True)
class BoundarySide:
    stages: tuple[BoundaryStage, ...]

    @property
    def type(self) -> str:
        """The type of the first stage."""
        return self.stages[0].type

    @property
    def composition(self) -> dict[str, float] | None:
        """fixed-composition (first stage): mole fractions of all components at t = 0."""
        st = self.stages[0]
        if st.type != "fixed-composition":
            return None
        return st.composition_at(0.0)


@dataclass(frozen=True)
class BoundarySpec:
    left: BoundarySide
    right: BoundarySide


@dataclass(frozen=True)
class PotentialSpec:
    """An external potential Phi(z, t) added to the chemical potential of ``species``:
    stress: -sigma(z) V (hydrostatic stress, tension positive, V the partial molar
    volume); pressure: p(z) V; electric: charge F phi(z); energy: the value in J/mol.
    The field is a table (``z``, ``value``) or an ``expression`` in z (m); it is
    multiplied by the time table ``time`` (1 when not given)."""

    species: str
    kind: str
    volume: float | None = None        # m^3/mol (stress, pressure)
    charge: float | None = None        # elementary charges (electric)
    z: tuple[float, ...] | None = None
    value: tuple[float, ...] | None = None
    expression: str | None = None
    time: TimeTable = ((0.0, 1.0),)

    def factor(self) -> float:
        """J/mol per unit of the field."""
        if self.kind == "stress":
            return -float(self.volume)
        if self.kind == "pressure":
            return float(self.volume)
        if self.kind == "electric":
            return float(self.charge) * FARADAY
        return 1.0

    def field_at(self, z) -> np.ndarray:
        """The field (Pa, V or J/mol) at positions z (m)."""
        z = np.asarray(z, dtype=float)
        if self.expression is not None:
            from .expression import evaluate

            return np.broadcast_to(evaluate(self.expression, z), z.shape).astype(float)
        return np.interp(z, np.asarray(self.z), np.asarray(self.value))

    def phi(self, z) -> np.ndarray:
        """Phi (J/mol) at positions z without the time factor."""
        return self.factor() * self.field_at(z)


@dataclass(frozen=True)
class OnsagerSpec:
    """Off-diagonal Onsager coefficients of the lattice-fixed frame (components order).
    absolute: L'_kj = matrix[k][j] (mol^2 J^-1 m^-1 s^-1); relative:
    L'_kj = matrix[k][j] sqrt(L'_kk L'_jj).  The diagonal must be zero (it comes from the
    mobilities)."""

    form: str
    matrix: tuple[tuple[float, ...], ...]


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
    potentials: tuple[PotentialSpec, ...] = ()
    onsager: OnsagerSpec | None = None

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

        def tab(table: TimeTable):
            if len(table) == 1 and table[0][0] == 0.0:
                return float(table[0][1])
            return [[float(t), float(v)] for t, v in table]

        def stage(st: BoundaryStage):
            out: dict = {"type": st.type}
            key = {"fixed-composition": "composition", "fixed-flux": "flux", "fixed-activity": "activity",
                   "fixed-potential": "mu"}.get(st.type)
            if key == "composition":
                out["unit"] = "mole-fraction"
            if key:
                out[key] = {c: tab(v) for c, v in st.values.items()}
            if st.reference:
                out["reference"] = dict(st.reference)
            if st.until is not None:
                out["until"] = float(st.until)
            return out

        def side(b: BoundarySide):
            if len(b.stages) == 1:
                return stage(b.stages[0])
            return {"stages": [stage(st) for st in b.stages]}

        def potential(pt: PotentialSpec):
            out: dict = {"species": pt.species, "kind": pt.kind}
            if pt.volume is not None:
                out["volume"] = pt.volume
            if pt.charge is not None:
                out["charge"] = pt.charge
            if pt.expression is not None:
                out["expression"] = pt.expression
            else:
                out["z"] = [float(v) for v in pt.z]
                out["value"] = [float(v) for v in pt.value]
            if pt.time != ((0.0, 1.0),):
                out["time"] = [[float(t), float(v)] for t, v in pt.time]
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
            "conditions": {"temperature": (self.conditions.temperature if self.conditions.schedule is None
                                           else tab(self.conditions.schedule)),
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
            **({"potential": [potential(pt) for pt in self.potentials]} if self.potentials else {}),
            **({"onsager": {"form": self.onsager.form, "matrix": [list(r) for r in self.onsager.matrix]}}
               if self.onsager is not None else {}),
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
        boundary = BoundarySpec(self.boundary_side("left", thermo.components, conditions.duration),
                                self.boundary_side("right", thermo.components, conditions.duration))
        mobility = self.mobility(thermo.components)
        solver = self.solver(conditions.duration)
        output = self.output(conditions.duration)
        potentials = self.potentials(thermo.components, r0, r0 + length)
        onsager = self.onsager(thermo.components)
        return Case(title=title, path=self.path, base_dir=self.base_dir, thermo=thermo,
                    conditions=conditions, grid=grid, initial=initial, boundary=boundary,
                    mobility=mobility, solver=solver, output=output, potentials=potentials,
                    onsager=onsager)

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
        raw_t = sec.raw("temperature")
        duration = self.time(sec, "duration")
        if not duration > 0.0:
            raise CaseError(f"conditions.duration = {sec.raw('duration')!r} must be positive")
        if isinstance(raw_t, list):
            schedule = _time_table(raw_t, "conditions.temperature", parse_temperature)
            if len(schedule) == 1:
                return ConditionsSpec(schedule[0][1], duration)
            return ConditionsSpec(schedule[0][1] if schedule[0][0] <= 0.0 else table_value(schedule, 0.0),
                                  duration, schedule)
        temperature = parse_temperature(raw_t, "conditions.temperature")
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

    def boundary_side(self, side: str, comps: tuple, duration: float) -> BoundarySide:
        bsec = self.section("boundary", required=False)
        data = bsec.data.get(side, {})
        where = f"boundary.{side}"
        if "stages" in data:
            other = [k for k in data if k != "stages"]
            if other:
                raise CaseError(f"{where}: give either stages ([[{where}.stages]]) or one condition, "
                                f"not both ({', '.join(other)} next to stages)")
            raw_stages = data["stages"]
            if not isinstance(raw_stages, list) or not raw_stages or not all(isinstance(e, dict) for e in raw_stages):
                raise CaseError(f"{where}.stages must be an array of tables ([[{where}.stages]])")
            stages = [self.boundary_stage(e, f"{where}.stages[{i}]", comps) for i, e in enumerate(raw_stages)]
        else:
            stages = [self.boundary_stage(data, where, comps, single=True)]
        prev = 0.0
        for i, st in enumerate(stages):
            last = i == len(stages) - 1
            w = f"{where}.stages[{i}].until" if len(stages) > 1 else f"{where}.until"
            if st.until is None and not last:
                raise CaseError(f"{w} is missing: every stage but the last needs an end time")
            if st.until is not None:
                if last:
                    raise CaseError(f"{w}: the last stage lasts to the end of the run; remove 'until'")
                if not st.until > prev:
                    raise CaseError(f"{w} = {st.until:g} s: stage end times must increase strictly "
                                    f"(previous {prev:g} s)")
                if not st.until < duration:
                    raise CaseError(f"{w} = {st.until:g} s is not before the end of the run "
                                    f"(conditions.duration = {duration:g} s)")
                prev = st.until
        return BoundarySide(tuple(stages))

    def boundary_stage(self, data: dict, where: str, comps: tuple, single: bool = False) -> BoundaryStage:
        for k in data:
            if k not in _STAGE_KEYS:
                raise CaseError(f"unknown key '{where}.{k}'" + _suggest(k, _STAGE_KEYS))
        sec = _Section(data, where)
        kind = sec.choice("type", BOUNDARY_TYPES, "closed")
        until = None
        if "until" in data:
            until = parse_time(data["until"], f"{where}.until")
        used = {"closed": set(), "fixed-composition": {"composition", "unit"}, "fixed-flux": {"flux"},
                "fixed-activity": {"activity", "reference"}, "fixed-potential": {"mu"}}[kind]
        for k in ("composition", "unit", "flux", "activity", "mu", "reference"):
            if k in data and k not in used:
                raise CaseError(f"{where}.{k} is not used with type = '{kind}'")
        if kind == "closed":
            return BoundaryStage("closed", until=until)
        if kind == "fixed-composition":
            unit = sec.choice("unit", COMPOSITION_UNITS, "mole-fraction")
            raw = sec.raw("composition")
            if isinstance(raw, dict) and any(isinstance(v, list) for v in raw.values()):
                if unit != "mole-fraction":
                    raise CaseError(f"{where}.composition: time tables need unit = 'mole-fraction'")
                values = self._component_tables(raw, f"{where}.composition", comps, independent_only=True,
                                                 check=_check_fraction)
                missing = [c for c in comps[1:] if c not in values]
                if missing:
                    raise CaseError(f"{where}.composition: missing {', '.join(missing)} (every independent "
                                    f"component must be given; {comps[0]} is the balance)")
                values = {c: values[c] for c in comps[1:]}
                for t in sorted({t for tab in values.values() for t, _ in tab}):
                    tot = sum(table_value(values[c], t) for c in comps[1:])
                    if not tot < 1.0:
                        raise CaseError(f"{where}.composition: the mole fractions sum to {tot:g} at "
                                        f"t = {t:g} s; they must leave some {comps[0]}")
            else:
                x = self.composition(raw, f"{where}.composition", comps, unit)
                values = {c: ((0.0, x[c]),) for c in comps[1:]}
            return BoundaryStage(kind, values, until=until, dependent=comps[0])
        if kind == "fixed-flux":
            values = self._component_tables(sec.raw("flux"), f"{where}.flux", comps, independent_only=True,
                                            check=None)
            return BoundaryStage(kind, values, until=until)
        if kind == "fixed-potential":
            values = self._component_tables(sec.raw("mu"), f"{where}.mu", comps, independent_only=False,
                                            check=None)
            return BoundaryStage(kind, values, until=until)
        values = self._component_tables(sec.raw("activity"), f"{where}.activity", comps, independent_only=False,
                                        check=_check_activity)
        ref_raw = sec.raw("reference")
        if not isinstance(ref_raw, dict):
            raise CaseError(f"{where}.reference must be a table naming the reference phase of each "
                            f"component, e.g. {{ C = \"GRAPHITE_A9\" }}, got {_type_name(ref_raw)}")
        reference = {}
        for k, v in ref_raw.items():
            c = k.strip().upper()
            if c not in values:
                raise CaseError(f"{where}.reference.{k}: {c} has no activity in {where}.activity")
            if not isinstance(v, str) or not v.strip():
                raise CaseError(f"{where}.reference.{k} must be a phase name, got {_type_name(v)}")
            reference[c] = v.strip().upper()
        missing = [c for c in values if c not in reference]
        if missing:
            raise CaseError(f"{where}.reference: give the reference phase of {', '.join(missing)} "
                            f"(the state of activity 1, e.g. GRAPHITE_A9 for C)")
        return BoundaryStage(kind, values, reference, until=until)

    def _component_tables(self, raw, where: str, comps: tuple, independent_only: bool, check):
        if not isinstance(raw, dict) or not raw:
            raise CaseError(f"{where} must be a table of component values, e.g. {{ {comps[-1]} = ... }}, "
                            f"got {_type_name(raw)}")
        out: dict[str, TimeTable] = {}
        for k, c, v in _component_items(raw, where, comps):
            if independent_only and c == comps[0]:
                raise CaseError(f"{where}: {c} is the dependent component (the balance, first in "
                                f"thermo.components); its value follows from the others")
            tab = _time_table(v, f"{where}.{k}", _as_number)
            if check is not None:
                for i, (_, val) in enumerate(tab):
                    check(val, f"{where}.{k}" + (f"[{i}]" if isinstance(v, list) else ""))
            out[c] = tab
        return {c: out[c] for c in comps if c in out}

    def potentials(self, comps: tuple, lo: float, hi: float) -> tuple[PotentialSpec, ...]:
        raw = self.data.get("potential")
        if raw is None:
            return ()
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            raise CaseError("potential must be an array of tables ([[potential]])")
        out = []
        for i, e in enumerate(raw):
            where = f"potential[{i}]"
            for k in e:
                if k not in _POTENTIAL_KEYS:
                    raise CaseError(f"unknown key '{where}.{k}'" + _suggest(k, _POTENTIAL_KEYS))
            sec = _Section(e, where)
            sp = sec.string("species").upper()
            if sp not in comps:
                raise CaseError(f"{where}.species = '{sp}' is not a component of this case "
                                f"(thermo.components: {', '.join(comps)})")
            kind = sec.choice("kind", POTENTIAL_KINDS)
            volume = charge = None
            if kind in ("stress", "pressure"):
                volume = sec.number("volume")
                if "charge" in e:
                    raise CaseError(f"{where}.charge is not used with kind = '{kind}'")
            else:
                if "volume" in e:
                    raise CaseError(f"{where}.volume is not used with kind = '{kind}'")
                if kind == "electric":
                    charge = sec.number("charge")
            zt = vt = expr = None
            if "expression" in e:
                if "z" in e or "value" in e:
                    raise CaseError(f"{where}: give either an expression or a table (z, value), not both")
                expr = sec.string("expression")
                from .expression import check as check_expression

                check_expression(expr, f"{where}.expression")
                from .expression import evaluate

                vals = np.asarray(evaluate(expr, np.linspace(lo, hi, 11)), dtype=float)
                if not np.all(np.isfinite(vals)):
                    raise CaseError(f"{where}.expression = {expr!r} is not finite on the domain "
                                    f"[{lo:g}, {hi:g}] m")
            else:
                zs, vs = sec.raw("z"), sec.raw("value")
                if not isinstance(zs, list) or len(zs) < 2:
                    raise CaseError(f"{where}.z must be an array of at least two positions")
                if not isinstance(vs, list) or len(vs) != len(zs):
                    raise CaseError(f"{where}.value must be an array of {len(zs)} numbers (one per {where}.z)")
                zt = tuple(parse_length(v, f"{where}.z[{j}]") for j, v in enumerate(zs))
                vt = tuple(_as_number(v, f"{where}.value[{j}]") for j, v in enumerate(vs))
                for j in range(1, len(zt)):
                    if not zt[j] > zt[j - 1]:
                        raise CaseError(f"{where}.z must increase strictly: z[{j - 1}] = {zt[j - 1]:g} m, "
                                        f"z[{j}] = {zt[j]:g} m")
            time = ((0.0, 1.0),)
            if "time" in e:
                time = _time_table(e["time"], f"{where}.time", _as_number)
            out.append(PotentialSpec(sp, kind, volume, charge, zt, vt, expr, time))
        return tuple(out)

    def onsager(self, comps: tuple) -> OnsagerSpec | None:
        if "onsager" not in self.data:
            return None
        sec = self.section("onsager")
        form = sec.choice("form", ONSAGER_FORMS, "absolute")
        m = sec.raw("matrix")
        n = len(comps)
        if (not isinstance(m, list) or len(m) != n
                or not all(isinstance(r, list) and len(r) == n for r in m)):
            shape = (f"{len(m)} rows of lengths {[len(r) if isinstance(r, list) else '-' for r in m]}"
                     if isinstance(m, list) else _type_name(m))
            raise CaseError(f"onsager.matrix must be {n} x {n} (one row and column per component, "
                            f"in the order {', '.join(comps)}), got {shape}")
        a = np.array([[_as_number(v, f"onsager.matrix[{i}][{j}]") for j, v in enumerate(r)]
                      for i, r in enumerate(m)])
        for i in range(n):
            if a[i, i] != 0.0:
                raise CaseError(f"onsager.matrix[{i}][{i}] = {a[i, i]:g}: the diagonal must be 0 (the "
                                f"diagonal L'_kk comes from the mobilities; give only cross terms)")
        scale = np.abs(a).max() or 1.0
        asym = np.abs(a - a.T).max()
        if asym > 1e-12 * scale:
            i, j = np.unravel_index(np.argmax(np.abs(a - a.T)), a.shape)
            raise CaseError(f"onsager.matrix is not symmetric (Onsager reciprocity): [{i}][{j}] = "
                            f"{a[i, j]:g} but [{j}][{i}] = {a[j, i]:g}")
        if form == "relative":
            w = np.linalg.eigvalsh(np.eye(n) + a)
            if w.min() < -1e-12:
                raise CaseError(f"onsager.matrix (relative form) gives an L' that is not positive "
                                f"semi-definite: 1 + matrix has eigenvalue {w.min():.4g} < 0 "
                                f"(|cross coefficients| must be small enough)")
        return OnsagerSpec(form, tuple(tuple(float(v) for v in r) for r in a))

    def mobility(self, comps: tuple) -> MobilitySpec:
        sec = self.section("mobility", required=False)
        missing = sec.choice("missing", MISSING_MOBILITY, "error")
        scale_in = sec.raw("scale", {})
        if not isinstance(scale_in, dict):
            raise CaseError(f"mobility.scale must be a table, e.g. {{ C = 2.0 }}, got {_type_name(scale_in)}")
        scale = {c: 1.0 for c in comps}
        for k, c, v in _component_items(scale_in, "mobility.scale", comps):
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


def _component_items(raw: dict, where: str, comps: tuple):
    """(key as written, component, value) of a table keyed by component names; unknown
    and repeated components are errors."""
    seen = set()
    for k, v in raw.items():
        c = k.strip().upper()
        if c not in comps:
            raise CaseError(f"{where}: unknown component '{k}'; the components are "
                            f"{', '.join(comps)} (thermo.components)")
        if c in seen:
            raise CaseError(f"{where}: {c} given twice")
        seen.add(c)
        yield k, c, v


def _time_table(raw, where: str, parse_value) -> TimeTable:
    """A constant or a [[time, value], ...] table with strictly increasing times."""
    if not isinstance(raw, list):
        return ((0.0, parse_value(raw, where)),)
    if not raw:
        raise CaseError(f"{where} is an empty table; give [[time, value], ...]")
    out = []
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != 2:
            raise CaseError(f"{where}[{i}] must be a pair [time, value], got {row!r}")
        t = parse_time(row[0], f"{where}[{i}] (time)")
        if t < 0.0:
            raise CaseError(f"{where}[{i}]: time {t:g} s is negative")
        if out and not t > out[-1][0]:
            raise CaseError(f"{where}: the table's times must increase strictly; row {i} has "
                            f"t = {t:g} s after t = {out[-1][0]:g} s")
        out.append((t, parse_value(row[1], f"{where}[{i}] (value)")))
    return tuple(out)


def _check_fraction(v: float, where: str) -> None:
    if not 0.0 < v < 1.0:
        raise CaseError(f"{where}: mole fraction {v:g} is outside (0, 1)")


def _check_activity(v: float, where: str) -> None:
    if not (v > 0.0 and math.isfinite(v)):
        raise CaseError(f"{where}: activity {v:g} is outside (0, inf)")


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
