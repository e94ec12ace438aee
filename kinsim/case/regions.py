"""``[[region]]`` tables: the specimen as a sequence of single-phase regions separated by
sharp, moving interfaces (the moving-boundary model, :mod:`kinsim.simulation.regions`).

Each region names its phase, its width at t = 0, its number of nodes and their spacing,
and its initial composition (uniform, or a table over positions on the grid's axis, like
``[initial]``).  The regions follow each other from ``grid.inner_radius`` (0 for planar
grids) in file order; the specimen ends at the sum of their widths.  A region of zero
width nucleates at t = 0 at the equilibrium with its neighbour (it has no composition).

The grid of the regions at t = 0 (:func:`region_grid`): each region is cut into its
cells, equal (``linear``) or ``geometric``, finest towards the region's interfaces (a
region between two interfaces: finest at both ends, the nodes split evenly).  The nodes
keep their relative places in their region while the interfaces move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..grid import GEOMETRIES, Grid1D, geometric_widths
from ..units import parse_length
from .composition import read_composition, to_mole_fractions
from .schema import SCHEMA
from .section import Section, as_number, present, suggest

__all__ = ["RegionSpec", "read_regions", "region_faces", "region_grid", "region_walls"]


@dataclass(frozen=True)
class RegionSpec:
    """One region: its phase, extent at t = 0 (``start``, ``width``: m on the grid's
    axis), nodes and spacing, the condition at the interface on its right, and its
    initial mole fractions of all components (columns in the order of ``components``):
    ``composition`` (uniform) or the table ``z``, ``x``; neither for a region of zero
    width, which nucleates at t = 0."""

    phase: str
    start: float
    width: float
    nodes: int
    spacing: str
    ratio: float
    interface: str = "local-equilibrium"
    composition: dict[str, float] | None = None
    z: tuple[float, ...] | None = None
    x: tuple[tuple[float, ...], ...] | None = None
    components: tuple[str, ...] = ()

    @property
    def nucleates(self) -> bool:
        return self.width == 0.0

    def profile(self, z) -> np.ndarray:
        """Mole fractions (len(z), ncomp) at positions ``z`` (m) inside the region."""
        z = np.asarray(z, dtype=float)
        if self.composition is not None:
            row = np.array([self.composition[c] for c in self.components])
            return np.ascontiguousarray(np.tile(row, (z.shape[0], 1)))
        zt = np.asarray(self.z, dtype=float)
        xt = np.asarray(self.x, dtype=float)
        x = np.column_stack([np.interp(z, zt, xt[:, k]) for k in range(xt.shape[1])])
        return np.ascontiguousarray(x / x.sum(axis=1, keepdims=True))

    def to_dict(self, last: bool) -> dict:
        """The ``[[region]]`` table in SI units and mole fractions."""
        out: dict = {
            "phase": self.phase,
            "width": self.width,
            "nodes": self.nodes,
            "spacing": self.spacing,
            "ratio": self.ratio,
        }
        if not last:
            out["interface"] = self.interface
        indep = self.components[1:]
        if self.composition is not None:
            out["unit"] = "mole-fraction"
            out["composition"] = {c: float(self.composition[c]) for c in indep}
        elif self.z is not None:
            out["unit"] = "mole-fraction"
            out["z"] = [float(v) for v in self.z]
            for k, c in enumerate(self.components):
                if k:
                    out[c] = [float(row[k]) for row in present(self.x, "region.x")]
        return out


def _table(sec: Section, where: str, comps: tuple, unit: str, lo: float, hi: float):
    """The z / component-column table of a region covering [lo, hi] (m)."""
    zs = sec.raw("z")
    if not isinstance(zs, list) or len(zs) < 2:
        raise CaseError(f"{where}.z must be an array of at least two positions")
    z = [parse_length(v, f"{where}.z[{i}]") for i, v in enumerate(zs)]
    for i in range(1, len(z)):
        if not z[i] > z[i - 1]:
            raise CaseError(f"{where}.z must increase strictly: z[{i - 1}] = {z[i - 1]:g} m, z[{i}] = {z[i]:g} m")
    tol = 1e-9 * max(hi - lo, abs(hi))
    if z[0] > lo + tol or z[-1] < hi - tol:
        raise CaseError(f"{where}.z spans [{z[0]:g}, {z[-1]:g}] m; it must cover the region [{lo:g}, {hi:g}] m")
    cols = {}
    for c in comps[1:]:
        keys = [k for k in sec.data if k.strip().upper() == c]
        if not keys:
            raise CaseError(
                f"{where}: missing the column {c} of the table (one array per independent "
                f"component, as long as {where}.z)"
            )
        v = sec.data[keys[0]]
        if not isinstance(v, list) or len(v) != len(z):
            raise CaseError(f"{where}.{keys[0]} must be an array of {len(z)} numbers (one per {where}.z)")
        cols[c] = [as_number(e, f"{where}.{keys[0]}[{i}]") for i, e in enumerate(v)]
    rows = []
    for i in range(len(z)):
        x = to_mole_fractions(
            {c: cols[c][i] for c in comps[1:]}, f"{where} (table row {i}, z = {z[i]:g} m)", comps, unit
        )
        rows.append(tuple(x[c] for c in comps))
    return tuple(z), tuple(rows)


def _region(sec: Section, comps: tuple, start: float, last: bool) -> RegionSpec:
    where = sec.prefix
    names = sec.table.names()
    for k in sec.data:
        if k not in names and k.strip().upper() not in comps:
            raise CaseError(f"unknown key '{where}.{k}'" + suggest(k, names))
        if k.strip().upper() == comps[0]:
            raise CaseError(
                f"{where}.{k}: {comps[0]} is the dependent component (the balance); give only {', '.join(comps[1:])}"
            )
    columns = [k for k in sec.data if k not in names]
    phase = present(sec.string("phase"), sec.key("phase")).upper()
    width = sec.get("width")
    if not width >= 0.0:
        raise CaseError(f"{where}.width = {width:g} m must not be negative (0: the region nucleates at t = 0)")
    nodes = sec.get("nodes")
    if nodes < 2:
        raise CaseError(f"{where}.nodes = {nodes}: a region needs at least 2 nodes")
    spacing = sec.get("spacing")
    ratio = sec.get("ratio")
    if not ratio > 0.0:
        raise CaseError(f"{where}.ratio = {ratio:g} must be positive")
    interface = sec.get("interface")
    if last and sec.has("interface"):
        raise CaseError(f"{where}.interface: the last region has no interface on its right")
    unit = sec.get("unit")
    kw = {}
    if width == 0.0:
        for k in ("composition", "z"):
            if sec.has(k):
                raise CaseError(
                    f"{where}.{k}: a region of zero width nucleates at the equilibrium with its "
                    f"neighbour; give it no composition"
                )
        if columns:
            raise CaseError(f"{where}.{columns[0]}: a region of zero width has no composition table")
    elif sec.has("z"):
        if sec.has("composition"):
            raise CaseError(f"{where}: give either a uniform composition or a table (z and columns), not both")
        kw["z"], kw["x"] = _table(sec, where, comps, unit, start, start + width)
    else:
        if columns:
            raise CaseError(f"{where}.{columns[0]} is a table column; a table needs {where}.z")
        kw["composition"] = read_composition(sec.raw("composition"), f"{where}.composition", comps, unit)
    return RegionSpec(phase, start, width, nodes, spacing, ratio, interface, components=comps, **kw)


def read_regions(top: Section, comps: tuple, r0: float) -> tuple[RegionSpec, ...]:
    """Every ``[[region]]`` of the case (``top``: the whole file), the first starting at
    ``r0`` (m); () when there are none."""
    raw = top.raw("region")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise CaseError("region must be an array of tables ([[region]])")
    if len(raw) < 2:
        raise CaseError(
            "region: give at least two [[region]] tables (a specimen of one phase is described by [grid] and [initial])"
        )
    table = SCHEMA.find("region")
    out = []
    start = r0
    for i, e in enumerate(raw):
        spec = _region(Section(e, f"region[{i}]", table), comps, start, i == len(raw) - 1)
        out.append(spec)
        start += spec.width
    for i in range(1, len(out)):
        if out[i].phase == out[i - 1].phase:
            raise CaseError(
                f"region[{i}].phase = '{out[i].phase}' is the phase of region[{i - 1}]: neighbouring "
                f"regions must be different phases (one region of that phase spans both)"
            )
        if out[i].nucleates and out[i - 1].nucleates:
            raise CaseError(
                f"region[{i}].width: region[{i - 1}] and region[{i}] both have zero width; a region "
                f"nucleates next to a region that exists"
            )
    if start <= r0:
        raise CaseError("region: the regions have zero total width")
    return tuple(out)


def _unit_faces(spec: RegionSpec, left_interface: bool, right_interface: bool) -> np.ndarray:
    """Face positions of a region mapped onto [0, 1] (nodes + 1 values)."""
    n = spec.nodes
    if spec.spacing == "linear" or not (left_interface or right_interface):
        widths = np.full(n, 1.0 / n)
    elif left_interface and right_interface:
        half = n // 2
        left = geometric_widths(half, 0.5, spec.ratio)
        right = geometric_widths(n - half, 0.5, spec.ratio)[::-1]
        widths = np.concatenate([left, right])
    else:
        widths = geometric_widths(n, 1.0, spec.ratio)
        if right_interface:
            widths = widths[::-1]
    faces = np.concatenate([[0.0], np.cumsum(widths)])
    faces[-1] = 1.0
    return faces


def region_faces(regions) -> list[np.ndarray]:
    """The face positions of each region on [0, 1] (finest towards its interfaces when
    ``geometric``)."""
    R = len(regions)
    return [_unit_faces(s, r > 0, r < R - 1) for r, s in enumerate(regions)]


def region_grid(regions, geometry: str, min_width: float = 0.0) -> Grid1D:
    """The finite-volume grid of the regions at t = 0 (every region's cells in order).
    A region of zero width takes ``min_width`` (m) out of its neighbour (the nucleus the
    run starts from); the grid's faces include every interface."""
    m = GEOMETRIES[geometry]
    walls = region_walls(regions, min_width)
    pieces = []
    for r, xi in enumerate(region_faces(regions)):
        f = walls[r] + xi * (walls[r + 1] - walls[r])
        f[0], f[-1] = walls[r], walls[r + 1]
        pieces.append(f if r == 0 else f[1:])
    faces = np.concatenate(pieces)
    z = 0.5 * (faces[:-1] + faces[1:])
    width = np.diff(faces)
    area = faces**m if m else np.ones(faces.size)
    volume = (faces[1:] ** (m + 1) - faces[:-1] ** (m + 1)) / (m + 1)
    return Grid1D(m, faces, z, np.diff(z), width, area, volume)


def region_walls(regions, min_width: float = 0.0) -> np.ndarray:
    """The positions (m) of the R + 1 walls at t = 0: the specimen's ends and the
    interfaces; a region of zero width is given ``min_width``, taken from its
    neighbour."""
    ends = [regions[0].start]
    for spec in regions:
        ends.append(spec.start + spec.width)
    walls = np.array(ends, dtype=float)
    R = len(regions)
    for r, spec in enumerate(regions):
        if spec.nucleates:
            if r == R - 1 or (0 < r and regions[r - 1].width > regions[r + 1].width):
                walls[r] -= min_width  # from the left neighbour
            else:
                walls[r + 1] += min_width  # from the right neighbour
    return walls
