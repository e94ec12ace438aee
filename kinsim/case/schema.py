"""The case-file schema: every table and key of a case file, declared once.

Each table (:class:`Table`) lists its keys (:class:`Key`: name, value type, default, unit,
one-line doc, allowed choices) and its sub-tables.  Everything that needs to know which
keys exist reads these tables: the unknown-key check and its did-you-mean suggestions,
the checks of ``--set`` overrides, the defaults the parser uses (``Section.get`` /
``Section.raw`` of :mod:`kinsim.case.section`) and the reference ``kinsim case-keys``
prints (docs/case-keys.md).

Adding a plain key to a case file is one :class:`Key` in its table here, plus its use
where the parser reads it (``sec.get("name")`` in :mod:`kinsim.case.parse`) and where
its value is consumed.

Defaults: ``REQUIRED`` (the key must be given where it is used; ``default_doc`` says when
that is), a value (used when the key is absent, in the unit of the key), or ``None``
(absent means "not given"; what that implies is in ``default_doc``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..grid import GEOMETRIES, SPACINGS

__all__ = [
    "AVERAGING_SCHEMES",
    "BOUNDARY_TYPES",
    "INTERFACE_CONDITIONS",
    "COMPOSITION_UNITS",
    "FACE_MEANS",
    "STABILITY_CHECKS",
    "INITIAL_TYPES",
    "MISSING_MOBILITY",
    "ONSAGER_FORMS",
    "PERTURBATION_TYPES",
    "POTENTIAL_KINDS",
    "REGION_SPACINGS",
    "REQUIRED",
    "SCHEMA",
    "SOLVER_METHODS",
    "Key",
    "Table",
    "ValueType",
    "all_key_paths",
]

COMPOSITION_UNITS = ("mole-fraction", "weight-percent")
INITIAL_TYPES = ("step", "uniform", "table")
BOUNDARY_TYPES = ("closed", "fixed-composition", "fixed-flux", "fixed-activity", "fixed-potential", "periodic")
PERTURBATION_TYPES = ("random", "cosine")
POTENTIAL_KINDS = ("stress", "pressure", "electric", "energy")
ONSAGER_FORMS = ("absolute", "relative")
MISSING_MOBILITY = ("error", "solvent")
SOLVER_METHODS = ("implicit", "explicit")
REGION_SPACINGS = ("linear", "geometric")
INTERFACE_CONDITIONS = ("local-equilibrium", "para-equilibrium")
FACE_MEANS = ("geometric", "arithmetic")
STABILITY_CHECKS = ("states", "end")
AVERAGING_SCHEMES = (
    "wiener-upper",
    "wiener-lower",
    "hashin-shtrikman-upper",
    "hashin-shtrikman-lower",
    "hashin-shtrikman-matrix",
    "labyrinth",
)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: the default of a key that must be given (where it is used)
REQUIRED = _Required()


@dataclass(frozen=True)
class ValueType:
    """The kind of value a key holds.  ``name`` is what the reference shows;
    ``by_component``: a table keyed by component names, whose entries ``--set`` may set
    one by one (``--set initial.left.SI=3.8``)."""

    name: str
    by_component: bool = False


STRING = ValueType("string")
INTEGER = ValueType("integer")
NUMBER = ValueType("number")
PATH = ValueType("file path (string)")
LENGTH = ValueType("length")
TIME = ValueType("time")
TEMPERATURE_OR_SCHEDULE = ValueType("temperature, or a table [[time, temperature], ...]")
COMPONENT_NAMES = ValueType("array of strings")
PHASE_NAMES = ValueType("array of strings")
LENGTHS = ValueType("array of lengths")
NUMBERS = ValueType("array of numbers")
MATRIX = ValueType("array of arrays of numbers")
NUMBER_OR_MATRIX = ValueType("number, or array of arrays of numbers")
SNAPSHOTS = ValueType("integer, or array of times")
TIME_TABLE = ValueType("number, or a table [[time, number], ...]")
COMPONENT_NUMBERS = ValueType("table {component = number}", by_component=True)
COMPONENT_TABLES = ValueType("table {component = number, or [[time, number], ...]}", by_component=True)
COMPONENT_PHASES = ValueType("table {component = phase name}", by_component=True)


@dataclass(frozen=True)
class Key:
    """One key of a table."""

    name: str
    type: ValueType
    default: object = REQUIRED
    unit: str | None = None
    doc: str = ""
    choices: tuple[str, ...] | None = None
    default_doc: str | None = None  # the default column of the reference, when not ``default`` itself

    def default_text(self) -> str:
        """The default as the reference shows it."""
        if self.default_doc is not None:
            return self.default_doc
        if self.default is REQUIRED:
            return "required"
        return "" if self.default is None else repr(self.default).replace("'", '"')


@dataclass(frozen=True)
class Table:
    """A table of the case file (``[name]``), or with ``array`` an array of tables
    (``[[name]]``).  ``entries`` are its keys and sub-tables in file order; ``columns``
    documents keys named after the components (``[initial]`` of type table), which the
    schema cannot list."""

    name: str
    entries: tuple[Key | Table, ...]
    doc: str = ""
    required: bool = False
    array: bool = False
    columns: str | None = None

    def entry(self, name: str) -> Key | Table | None:
        for e in self.entries:
            if e.name == name:
                return e
        return None

    def find(self, path: str) -> Table:
        """The sub-table at dotted ``path`` (e.g. ``"boundary.left.stages"``)."""
        t = self
        for part in path.split("."):
            e = t.entry(part)
            if not isinstance(e, Table):
                raise KeyError(f"the schema has no table {path!r}")
            t = e
        return t

    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(e for e in self.entries if isinstance(e, Key))

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(e for e in self.entries if isinstance(e, Table))


# ---------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------
_STAGE_KEYS = (
    Key(
        "type",
        STRING,
        "closed",
        choices=BOUNDARY_TYPES,
        doc="the boundary condition; components a fixed-flux, -activity or -potential "
        "condition does not name are closed; periodic: both sides, one stage, planar grid",
    ),
    Key(
        "composition",
        COMPONENT_TABLES,
        unit="mole fraction or wt% (unit)",
        default_doc="required with fixed-composition",
        doc="fixed-composition: every independent component (time tables need mole fractions)",
    ),
    Key("unit", STRING, "mole-fraction", choices=COMPOSITION_UNITS, doc="fixed-composition: the unit of composition"),
    Key(
        "flux",
        COMPONENT_TABLES,
        unit="mol m^-2 s^-1",
        default_doc="required with fixed-flux",
        doc="fixed-flux: flux into the specimen (volume-fixed frame) of independent components",
    ),
    Key(
        "activity",
        COMPONENT_TABLES,
        unit="1",
        default_doc="required with fixed-activity",
        doc="fixed-activity: activity of components, relative to their reference phase",
    ),
    Key(
        "mu",
        COMPONENT_TABLES,
        unit="J/mol",
        default_doc="required with fixed-potential",
        doc="fixed-potential: chemical potential of components",
    ),
    Key(
        "reference",
        COMPONENT_PHASES,
        default_doc="required with fixed-activity",
        doc='fixed-activity: the phase of activity 1 of each component, e.g. { C = "GRAPHITE_A9" }',
    ),
    Key(
        "until",
        TIME,
        None,
        unit="s",
        default_doc="the end of the run",
        doc="stages: end time of this stage (every stage but the last)",
    ),
)


def _boundary_side(name: str) -> Table:
    stages = Table(
        "stages",
        _STAGE_KEYS,
        array=True,
        doc="a side whose condition changes in time: one table per stage, in time order "
        "(then the side has no other key)",
    )
    return Table(
        name, _STAGE_KEYS + (stages,), doc=f"the condition at the {name} end of the domain (closed when absent)"
    )


SCHEMA = Table(
    "",
    (
        Key("title", STRING, None, default_doc="the case file's name without .toml", doc="a title for the run"),
        Table(
            "thermo",
            (
                Key(
                    "database", PATH, doc="TDB file with the Gibbs energies and mobilities (relative to the case file)"
                ),
                Key(
                    "phase",
                    STRING,
                    None,
                    default_doc="required unless phases is given or with [[region]]",
                    doc="the phase of the specimen, as named in the database (the single-phase solver; with [[region]] "
                    "each region names its own)",
                ),
                Key(
                    "phases",
                    PHASE_NAMES,
                    None,
                    default_doc="one phase (phase)",
                    doc='two or more candidate phases, e.g. ["FCC_A1", "BCC_A2"]: every node is a local '
                    "equilibrium of them and the fluxes follow the homogenization model ([homogenization]; not "
                    "with [[region]] or [gradient])",
                ),
                Key(
                    "components",
                    COMPONENT_NAMES,
                    doc='element names, the dependent (balance) component first, e.g. ["FE", "SI", "C"]',
                ),
                Key(
                    "candidates",
                    PHASE_NAMES,
                    None,
                    default_doc="every other phase of the database",
                    doc="phases the initial and fixed boundary compositions are checked against at the start: "
                    "a warning names each one more stable there than phase (or than the equilibrium of "
                    "phases, or than a region's phase: not the regions' phases); [] turns the check off",
                ),
                Key(
                    "check",
                    STRING,
                    "states",
                    choices=STABILITY_CHECKS,
                    doc="which states are checked against the candidates besides the start: every state the "
                    'run stores and the final one ("states": a transient through another phase field is '
                    'reported), or the final one only ("end": no search at the snapshots)',
                ),
            ),
            required=True,
            doc="the thermodynamic and mobility database",
        ),
        Table(
            "conditions",
            (
                Key(
                    "temperature",
                    TEMPERATURE_OR_SCHEDULE,
                    unit="K",
                    doc="constant, or a schedule [[time, T], ...] followed piecewise linearly",
                ),
                Key("duration", TIME, unit="s", doc="simulated time"),
            ),
            required=True,
            doc="heat treatment",
        ),
        Table(
            "grid",
            (
                Key("geometry", STRING, "planar", choices=tuple(GEOMETRIES), doc="shape of the specimen"),
                Key("length", LENGTH, unit="m", default_doc="required without [[region]]", doc="length of the domain"),
                Key("nodes", INTEGER, default_doc="required without [[region]]", doc="number of grid nodes (cells)"),
                Key(
                    "spacing",
                    STRING,
                    "linear",
                    choices=SPACINGS,
                    doc=(
                        "cell widths: equal, growing by ratio from the left end, or growing by ratio away from position"
                    ),
                ),
                Key("ratio", NUMBER, 1.05, doc="width ratio of neighbouring cells (geometric spacings)"),
                Key(
                    "position",
                    LENGTH,
                    None,
                    unit="m",
                    default_doc="initial.position of a step start, else the middle of the domain",
                    doc="where double-geometric spacing is finest (a face)",
                ),
                Key(
                    "inner_radius", LENGTH, 0.0, unit="m", doc="left end of the domain (a hole in a cylinder or sphere)"
                ),
            ),
            required=True,
            doc="the finite-volume grid; positions run from inner_radius to inner_radius + length (with "
            "[[region]] tables only geometry and inner_radius: the regions give the rest)",
        ),
        Table(
            "initial",
            (
                Key(
                    "type",
                    STRING,
                    choices=INITIAL_TYPES,
                    doc="a step (two compositions), one uniform composition, or a table of compositions",
                ),
                Key(
                    "position",
                    LENGTH,
                    unit="m",
                    default_doc="required with step",
                    doc="step: the weld; left below it, right above it",
                ),
                Key("unit", STRING, "mole-fraction", choices=COMPOSITION_UNITS, doc="the unit of the compositions"),
                Key(
                    "left",
                    COMPONENT_NUMBERS,
                    unit="mole fraction or wt% (initial.unit)",
                    default_doc="required with step",
                    doc="step: every independent component",
                ),
                Key(
                    "right",
                    COMPONENT_NUMBERS,
                    unit="mole fraction or wt% (initial.unit)",
                    default_doc="required with step",
                    doc="step: every independent component",
                ),
                Key(
                    "composition",
                    COMPONENT_NUMBERS,
                    unit="mole fraction or wt% (initial.unit)",
                    default_doc="required with uniform",
                    doc="uniform: every independent component",
                ),
                Key(
                    "z",
                    LENGTHS,
                    unit="m",
                    default_doc="required with table",
                    doc="table: increasing positions covering the domain (interpolated linearly)",
                ),
                Table(
                    "perturbation",
                    (
                        Key(
                            "type",
                            STRING,
                            choices=PERTURBATION_TYPES,
                            doc="random: independent values in [-amplitude, amplitude] at every node; cosine: "
                            "amplitude * cos(2 pi z / wavelength), summed over the wavelengths",
                        ),
                        Key(
                            "amplitude",
                            COMPONENT_NUMBERS,
                            unit="mole fraction",
                            doc="independent components to perturb and the amplitude of each (> 0)",
                        ),
                        Key("seed", INTEGER, 0, doc="random: the seed of numpy's default generator"),
                        Key(
                            "wavelengths",
                            LENGTHS,
                            unit="m",
                            default_doc="required with cosine",
                            doc="cosine: the wavelength of every mode",
                        ),
                    ),
                    doc="a perturbation added to the initial profile at the nodes, its volume-weighted mean "
                    "removed (the amounts stay those of the profile); the dependent component balances it",
                ),
            ),
            doc="the composition at t = 0 (required without [[region]], which give it region by region)",
            columns="table: one array per independent component (named after it), as long as z",
        ),
        Table(
            "region",
            (
                Key("phase", STRING, doc="the phase of the region, as named in the database"),
                Key(
                    "width",
                    LENGTH,
                    unit="m",
                    doc="width at t = 0; 0: the region nucleates at t = 0 at the equilibrium with its neighbour",
                ),
                Key("nodes", INTEGER, doc="number of grid nodes (cells) of the region; they follow its interfaces"),
                Key(
                    "spacing",
                    STRING,
                    "linear",
                    choices=REGION_SPACINGS,
                    doc="cell widths: equal, or growing by ratio away from the region's interfaces",
                ),
                Key("ratio", NUMBER, 1.05, doc="width ratio of neighbouring cells (geometric spacing)"),
                Key(
                    "interface",
                    STRING,
                    "local-equilibrium",
                    choices=INTERFACE_CONDITIONS,
                    default_doc='"local-equilibrium" (not given for the last region)',
                    doc="the condition at the interface on the region's right: every chemical potential equal, or "
                    "para-equilibrium (substitutional u-fractions equal across it, interstitial potentials "
                    "equal)",
                ),
                Key("unit", STRING, "mole-fraction", choices=COMPOSITION_UNITS, doc="the unit of the compositions"),
                Key(
                    "composition",
                    COMPONENT_NUMBERS,
                    unit="mole fraction or wt% (region.unit)",
                    default_doc="required unless z or width = 0",
                    doc="a uniform composition: every independent component",
                ),
                Key(
                    "z",
                    LENGTHS,
                    None,
                    unit="m",
                    default_doc="a uniform composition",
                    doc="a table: increasing positions covering the region (interpolated linearly)",
                ),
            ),
            array=True,
            doc="the specimen as single-phase regions from left to right, separated by moving sharp "
            "interfaces at local equilibrium (replaces [initial] and the grid's length and nodes)",
            columns="table: one array per independent component (named after it), as long as z",
        ),
        Table(
            "boundary",
            (_boundary_side("left"), _boundary_side("right")),
            doc="boundary conditions; any value may be a time table [[time, value], ...]",
        ),
        Table(
            "mobility",
            (
                Key(
                    "missing",
                    STRING,
                    "error",
                    choices=MISSING_MOBILITY,
                    doc="mobility end-members the database lacks: an error, or the solvent's instead",
                ),
                Key(
                    "scale",
                    COMPONENT_NUMBERS,
                    None,
                    default_doc="1 for every component",
                    doc="a factor (> 0) on the mobility of components",
                ),
                Key(
                    "molar_volume", NUMBER, 1.0e-5, unit="m^3/mol", doc="molar volume per mole of substitutional atoms"
                ),
            ),
            doc="atomic mobilities",
        ),
        Table(
            "solver",
            (
                Key(
                    "method",
                    STRING,
                    "implicit",
                    choices=SOLVER_METHODS,
                    doc="implicit (BDF2 with error control) or explicit time steps",
                ),
                Key("rtol", NUMBER, 1.0e-4, doc="relative tolerance of the local error, in (0, 1)"),
                Key("atol", NUMBER, 1.0e-6, unit="u-fraction", doc="absolute tolerance of the local error"),
                Key("max_steps", INTEGER, None, default_doc="no limit", doc="the run fails after this many steps"),
                Key("initial_step", TIME, None, unit="s", default_doc="the solver chooses", doc="first time step"),
            ),
            doc="time integration",
        ),
        Table(
            "output",
            (
                Key(
                    "file",
                    PATH,
                    None,
                    default_doc="the case file's name with .h5, next to it",
                    doc="result file (HDF5), relative to the case file",
                ),
                Key(
                    "snapshots",
                    SNAPSHOTS,
                    10,
                    unit="s",
                    doc="a count of equally spaced output times, or the times (the end is always added)",
                ),
            ),
            doc="the result file",
        ),
        Table(
            "potential",
            (
                Key("species", STRING, doc="the component Phi acts on"),
                Key(
                    "kind",
                    STRING,
                    choices=POTENTIAL_KINDS,
                    doc="Phi = -sigma V (stress), p V (pressure), charge F phi (electric), or the value (energy)",
                ),
                Key(
                    "volume",
                    NUMBER,
                    unit="m^3/mol",
                    default_doc="required with stress, pressure",
                    doc="partial molar volume of the species",
                ),
                Key(
                    "charge",
                    NUMBER,
                    unit="elementary charges",
                    default_doc="required with electric",
                    doc="charge of the species",
                ),
                Key(
                    "z",
                    LENGTHS,
                    unit="m",
                    default_doc="required without expression",
                    doc="positions of the field table (increasing)",
                ),
                Key(
                    "value",
                    NUMBERS,
                    unit="Pa, V or J/mol",
                    default_doc="required without expression",
                    doc="the field at z (stress, pressure, electric potential or energy)",
                ),
                Key(
                    "expression",
                    STRING,
                    None,
                    default_doc="the table z, value",
                    doc='the field as an expression in z (m), e.g. "3e8 * (2 * z / 0.5e-3 - 1)"',
                ),
                Key("time", TIME_TABLE, 1.0, doc="a factor on the field that follows time"),
            ),
            array=True,
            doc="external potentials Phi_k(z, t) added to the chemical potentials",
        ),
        Table(
            "homogenization",
            (
                Key(
                    "averaging",
                    STRING,
                    "wiener-upper",
                    choices=AVERAGING_SCHEMES,
                    doc="how the phases' Gamma_k = M_k u_k combine: Wiener bounds (rule of mixtures / series), the "
                    "general Hashin-Shtrikman bounds (the phase of highest / lowest Gamma_k as the matrix), "
                    "Hashin-Shtrikman with a given matrix phase, or the labyrinth factor f_matrix^exponent",
                ),
                Key(
                    "matrix",
                    STRING,
                    None,
                    default_doc="required with hashin-shtrikman-matrix and labyrinth",
                    doc="the matrix phase (one of thermo.phases)",
                ),
                Key(
                    "exponent",
                    NUMBER,
                    1.0,
                    doc="labyrinth: the exponent of the matrix phase's volume fraction, in [1, 2]",
                ),
                Key(
                    "excluded",
                    PHASE_NAMES,
                    None,
                    default_doc="none",
                    doc="phases that carry no flux (their Gamma is zero in the average)",
                ),
                Key(
                    "face_mean",
                    STRING,
                    "geometric",
                    choices=FACE_MEANS,
                    doc="the value of Gamma* at a face between two nodes: the geometric mean of theirs (kawin's; exact "
                    "where Gamma* varies exponentially with position) or the arithmetic mean (the single-phase "
                    "solver's)",
                ),
                Key(
                    "ideal_term",
                    NUMBER,
                    0.0,
                    doc="eps >= 0: adds -eps R T Gamma*_k / u_k grad(u_k) to each lattice-fixed flux (the damping "
                    "term of DICTRA and kawin; kawin's default is 0.05)",
                ),
            ),
            doc="the homogenization model of several phases (thermo.phases): Larsson & Engstrom, Acta Mater. 54 "
            "(2006) 2431",
        ),
        Table(
            "onsager",
            (
                Key(
                    "form",
                    STRING,
                    "absolute",
                    choices=ONSAGER_FORMS,
                    doc="absolute: L'_kj = matrix[k][j]; relative: L'_kj = matrix[k][j] sqrt(L'_kk L'_jj)",
                ),
                Key(
                    "matrix",
                    MATRIX,
                    unit="mol^2 J^-1 m^-1 s^-1 (absolute), 1 (relative)",
                    doc="symmetric n x n cross terms in the order of thermo.components, zero diagonal",
                ),
            ),
            doc="Onsager cross terms of the lattice-fixed frame",
        ),
        Table(
            "gradient",
            (
                Key(
                    "kappa",
                    NUMBER_OR_MATRIX,
                    unit="J m^2/mol",
                    doc="gradient-energy coefficient: one number (the same for every independent component, "
                    "no cross terms), or a symmetric positive definite (n-1) x (n-1) matrix over "
                    "thermo.components[1:]",
                ),
            ),
            doc="gradient energy (Cahn-Hilliard): F = integral (G_m + 1/2 grad(x)^T kappa grad(x)) / V_m; the "
            "exchange potentials gain -kappa d2x/dz2. Implicit solver, substitutional components; boundaries "
            "closed, fixed-flux or periodic",
        ),
    ),
)


def all_key_paths(table: Table = SCHEMA, prefix: str = ""):
    """Every dotted key and table name of the schema that a case file may hold directly
    (the keys inside arrays of tables are not addressable this way)."""
    for e in table.entries:
        full = f"{prefix}.{e.name}" if prefix else e.name
        yield full
        if isinstance(e, Table) and not e.array:
            yield from all_key_paths(e, full)
