"""The resolved case: frozen dataclasses in SI units (m, s, K), mole fractions, absolute
paths.  :meth:`Case.to_dict` gives it back in the case-file schema and
:meth:`Case.to_toml` as TOML that :func:`~kinsim.case.load_case` reads into an equal
:class:`Case`.

Positions (``initial.position``, ``grid.position``, ``initial.z``) are coordinates on the
grid's axis, which runs from ``grid.inner_radius`` to ``grid.inner_radius + grid.length``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from ..errors import CaseError
from ..grid import Grid1D, make_grid
from .boundary import BoundarySpec
from .gradient import GradientSpec
from .homogenization import HomogenizationSpec
from .onsager import OnsagerSpec
from .perturbation import PerturbationSpec
from .potentials import PotentialSpec
from .regions import RegionSpec, region_grid
from .section import present
from .timetable import TimeTable, is_constant, table_to_toml, table_value

__all__ = [
    "Case",
    "ConditionsSpec",
    "GridSpec",
    "InitialSpec",
    "MobilitySpec",
    "OutputSpec",
    "SolverSpec",
    "ThermoSpec",
]


@dataclass(frozen=True)
class ThermoSpec:
    database: Path  # absolute path of the TDB file
    phase: str  # upper case; "" when the case lists several phases or has regions
    components: tuple[str, ...]  # upper case; components[0] is the dependent one
    phases: tuple[str, ...] = ()  # upper case: two or more candidate phases (homogenization), else ()
    # phases the starting compositions of a one-phase run are checked against (upper
    # case); None: every other phase of the database, (): no check
    candidates: tuple[str, ...] | None = None
    check: str = "states"  # the states checked besides the start: "states" (every stored one) or "end"

    @property
    def dependent(self) -> str:
        return self.components[0]

    @property
    def independent(self) -> tuple[str, ...]:
        return self.components[1:]

    @property
    def multiphase(self) -> bool:
        """True when the nodes are local equilibria of several phases (homogenization)."""
        return bool(self.phases)

    @property
    def label(self) -> str:
        """The phase, or the candidate phases joined by '+'."""
        return "+".join(self.phases) if self.phases else self.phase

    def to_dict(self) -> dict:
        out: dict = {"database": str(self.database)}
        if self.phases:
            out["phases"] = list(self.phases)
        elif self.phase:  # (a case with regions names each region's phase)
            out["phase"] = self.phase
        out["components"] = list(self.components)
        if self.candidates is not None:
            out["candidates"] = list(self.candidates)
        if self.check != "states":  # (the default: results written before the key read the same)
            out["check"] = self.check
        return out


@dataclass(frozen=True)
class ConditionsSpec:
    temperature: float  # K at t = 0
    duration: float  # s
    schedule: TimeTable | None = None  # T(t) in K when the temperature follows a table

    def temperature_at(self, t: float) -> float:
        return self.temperature if self.schedule is None else table_value(self.schedule, t)

    @property
    def temperature_table(self) -> TimeTable:
        return self.schedule if self.schedule is not None else ((0.0, self.temperature),)

    @property
    def varies(self) -> bool:
        """True when the temperature changes in time."""
        return self.schedule is not None and not is_constant(self.schedule)

    def to_dict(self) -> dict:
        return {
            "temperature": self.temperature if self.schedule is None else table_to_toml(self.schedule),
            "duration": self.duration,
        }


@dataclass(frozen=True)
class GridSpec:
    """The grid of a case; with regions only ``geometry`` and ``inner_radius`` are the
    case's, ``length`` and ``nodes`` the regions' totals (the regions give the grid)."""

    geometry: str  # planar | cylindrical | spherical
    length: float  # m
    nodes: int
    spacing: str  # linear | geometric | double-geometric
    ratio: float  # width ratio of neighbouring cells (geometric spacings)
    position: float  # m, where double-geometric spacing is finest
    inner_radius: float  # m, left end of the domain

    def to_dict(self) -> dict:
        return {
            "geometry": self.geometry,
            "length": self.length,
            "nodes": self.nodes,
            "spacing": self.spacing,
            "ratio": self.ratio,
            "position": self.position,
            "inner_radius": self.inner_radius,
        }


@dataclass(frozen=True)
class InitialSpec:
    """Initial composition; every composition is a dict of mole fractions of all
    components, and ``components`` (``thermo.components``) is the order of the columns
    of :meth:`profile` and of the rows of a table start (``x``)."""

    type: str  # step | uniform | table
    position: float | None = None  # step: m
    left: dict[str, float] | None = None  # step
    right: dict[str, float] | None = None  # step
    composition: dict[str, float] | None = None  # uniform
    z: tuple[float, ...] | None = None  # table: m, increasing
    x: tuple[tuple[float, ...], ...] | None = None  # table: (len(z), ncomp)
    components: tuple[str, ...] = ()  # the order of the columns (thermo.components)
    perturbation: PerturbationSpec | None = None  # added at the nodes (any type)

    def _vector(self, comp: dict[str, float], where: str) -> np.ndarray:
        order = self.components or tuple(comp)  # a spec built by hand without components: its dict order
        try:
            return np.array([float(comp[c]) for c in order])
        except KeyError as exc:
            raise CaseError(f"{where}: no mole fraction for {exc.args[0]}") from None

    def profile(self, z, volume=None) -> np.ndarray:
        """Mole fractions (len(z), ncomp) at positions ``z`` (m), columns in the order of
        ``components``: the step (``left`` below ``position``), the uniform composition,
        or the table interpolated linearly per component and renormalised so that every
        row sums to 1; plus the perturbation, if any, with its mean weighted by the cell
        volumes ``volume`` (None: equal cells) removed."""
        z = np.asarray(z, dtype=float)
        if self.type == "step":
            left = self._vector(present(self.left, "initial.left"), "initial.left")
            right = self._vector(present(self.right, "initial.right"), "initial.right")
            x = np.where((z < self.position)[:, None], left[None, :], right[None, :])
        elif self.type == "uniform":
            composition = present(self.composition, "initial.composition")
            x = np.tile(self._vector(composition, "initial.composition"), (z.shape[0], 1))
        else:
            zt = np.asarray(self.z, dtype=float)
            xt = np.asarray(self.x, dtype=float)
            x = np.column_stack([np.interp(z, zt, xt[:, k]) for k in range(xt.shape[1])])
            x /= x.sum(axis=1, keepdims=True)
        if self.perturbation is not None:
            x = x + self.perturbation.delta(z, volume, self.components)
        return np.ascontiguousarray(x)

    def to_dict(self) -> dict:
        """The ``[initial]`` table in mole fractions."""
        indep = self.components[1:]
        out: dict = {"type": self.type, "unit": "mole-fraction"}
        if self.type == "step":
            left = present(self.left, "initial.left")
            right = present(self.right, "initial.right")
            out.update(
                position=self.position,
                left={c: float(left[c]) for c in indep},
                right={c: float(right[c]) for c in indep},
            )
        elif self.type == "uniform":
            composition = present(self.composition, "initial.composition")
            out["composition"] = {c: float(composition[c]) for c in indep}
        else:
            out["z"] = [float(v) for v in present(self.z, "initial.z")]
            x = present(self.x, "initial.x")
            for k, c in enumerate(self.components):
                if k:
                    out[c] = [float(row[k]) for row in x]
        if self.perturbation is not None:
            out["perturbation"] = self.perturbation.to_dict()
        return out


@dataclass(frozen=True)
class MobilitySpec:
    missing: str  # error | solvent
    scale: dict[str, float]  # multiplier per component (all components)
    molar_volume: float  # m^3 per mole of substitutional atoms

    def to_dict(self) -> dict:
        return {"missing": self.missing, "scale": dict(self.scale), "molar_volume": self.molar_volume}


@dataclass(frozen=True)
class SolverSpec:
    method: str  # implicit | explicit
    rtol: float
    atol: float
    max_steps: int | None = None  # None: no limit
    initial_step: float | None = None  # s; None: the solver chooses

    def to_dict(self) -> dict:
        out = {"method": self.method, "rtol": self.rtol, "atol": self.atol}
        if self.max_steps is not None:
            out["max_steps"] = self.max_steps
        if self.initial_step is not None:
            out["initial_step"] = self.initial_step
        return out


@dataclass(frozen=True)
class OutputSpec:
    file: Path  # absolute
    snapshots: tuple[float, ...]  # s, ascending, last == duration (t = 0 always stored too)

    def to_dict(self) -> dict:
        return {"file": str(self.file), "snapshots": list(self.snapshots)}


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
    initial: InitialSpec | None  # None when the case has regions
    boundary: BoundarySpec
    mobility: MobilitySpec
    solver: SolverSpec
    output: OutputSpec
    potentials: tuple[PotentialSpec, ...] = ()
    onsager: OnsagerSpec | None = None
    gradient: GradientSpec | None = None
    regions: tuple[RegionSpec, ...] = ()  # the moving-boundary model: single-phase regions, left to right
    homogenization: HomogenizationSpec | None = None  # with several phases (thermo.phases)

    @property
    def components(self) -> tuple[str, ...]:
        return self.thermo.components

    def make_grid(self) -> Grid1D:
        """The grid at t = 0 (with regions: every region's cells; a region of zero width
        has cells of zero width here)."""
        if self.regions:
            return region_grid(self.regions, self.grid.geometry)
        return make_grid(self.grid)

    def to_dict(self) -> dict:
        """The resolved case in the case-file schema (SI units, mole fractions,
        absolute paths), as plain Python values."""
        out: dict = {
            "title": self.title,
            "thermo": self.thermo.to_dict(),
            "conditions": self.conditions.to_dict(),
            "grid": self.grid.to_dict(),
            "initial": None if self.initial is None else self.initial.to_dict(),
            "boundary": self.boundary.to_dict(),
            "mobility": self.mobility.to_dict(),
            "solver": self.solver.to_dict(),
            "output": self.output.to_dict(),
        }
        if self.potentials:
            out["potential"] = [pt.to_dict() for pt in self.potentials]
        if self.onsager is not None:
            out["onsager"] = self.onsager.to_dict()
        if self.gradient is not None:
            out["gradient"] = self.gradient.to_dict()
        if self.homogenization is not None:
            out["homogenization"] = self.homogenization.to_dict()
        if self.regions:
            del out["initial"]
            out["grid"] = {"geometry": self.grid.geometry, "inner_radius": self.grid.inner_radius}
            out["region"] = [r.to_dict(i == len(self.regions) - 1) for i, r in enumerate(self.regions)]
        return out

    def to_toml(self) -> str:
        """The resolved case as TOML text (readable by :func:`~kinsim.case.load_case` and
        :func:`~kinsim.case.from_toml`)."""
        header = "# kinsim case, resolved: SI units (m, s, K), mole fractions, absolute paths\n"
        return header + tomli_w.dumps(self.to_dict())
