"""One-dimensional finite-volume grids: planar, cylindrical, spherical.

The domain runs from ``inner_radius`` (``r0``, 0 for planar grids) to ``r0 + length``.
It is cut into N cells; the nodes are the cell centres (midpoints of the faces).  Face
areas and cell volumes are per unit cross-section (planar), per radian and unit height
(cylindrical) or per steradian (spherical):

    area_i   = r_i^m                                   (faces, N + 1)
    volume_i = (r_{i+1}^{m+1} - r_i^{m+1}) / (m + 1)   (cells, N)

with m = 0, 1, 2 for planar, cylindrical, spherical, so the discrete divergence of a
face flux J is (area_{i+1} J_{i+1} - area_i J_i) / volume_i.

Spacings:

- ``linear``: equal widths;
- ``geometric``: each cell ``ratio`` times as wide as its left neighbour;
- ``double-geometric``: a face exactly at ``position``; the widths grow by ``ratio``
  away from it on both sides (finest at ``position`` for ratio > 1).  The nodes are
  split between the sides in proportion to their lengths, at least two per side.

Positions (``position``) are coordinates on the same axis as the faces, i.e. they lie in
``(r0, r0 + length)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .errors import CaseError

__all__ = ["GEOMETRIES", "SPACINGS", "Grid1D", "check_grid_spec", "geometric_widths", "make_grid"]

#: geometry name -> exponent m of the face area r^m
GEOMETRIES = {"planar": 0, "cylindrical": 1, "spherical": 2}
SPACINGS = ("linear", "geometric", "double-geometric")

# the narrowest cell allowed, relative to the domain length (guards against ratios that
# make cells vanish in floating point)
_MIN_REL_WIDTH = 1.0e-12


class Grid1D(NamedTuple):
    """Arrays of a 1D finite-volume grid (SI units)."""

    geometry: int  # m: 0 planar, 1 cylindrical, 2 spherical
    faces: np.ndarray  # (N+1,) face positions
    z: np.ndarray  # (N,) node positions (cell centres)
    dz: np.ndarray  # (N-1,) distances between neighbouring nodes
    width: np.ndarray  # (N,) cell widths
    area: np.ndarray  # (N+1,) face areas r^m
    volume: np.ndarray  # (N,) cell volumes

    @property
    def nodes(self) -> int:
        return int(self.z.shape[0])


def _field(spec, name, default=None):
    if isinstance(spec, Mapping):
        return spec.get(name, default)
    return getattr(spec, name, default)


def _number(value, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CaseError(f"{where} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CaseError(f"{where} = {value!r} is not finite")
    return value


def check_grid_spec(spec) -> tuple[int, float, int, str, float, float, float]:
    """Validate a grid specification; return (m, length, nodes, spacing, ratio, position, r0).

    ``spec`` is the case's grid section (attributes) or a mapping with the keys
    geometry, length, nodes, spacing, ratio, position, inner_radius (SI units).
    Missing spacing/ratio/position/inner_radius default to linear, 1.05, the middle
    of the domain and 0.  Raises :class:`CaseError` naming the key.
    """
    geometry = _field(spec, "geometry", "planar")
    if isinstance(geometry, str):
        if geometry not in GEOMETRIES:
            raise CaseError(f"grid.geometry = {geometry!r}: use one of {', '.join(GEOMETRIES)}")
        m = GEOMETRIES[geometry]
    elif isinstance(geometry, (int, np.integer)) and not isinstance(geometry, bool) and 0 <= geometry <= 2:
        m = int(geometry)
    else:
        raise CaseError(f"grid.geometry = {geometry!r}: use one of {', '.join(GEOMETRIES)}")

    length = _number(_field(spec, "length"), "grid.length")
    if not length > 0.0:
        raise CaseError(f"grid.length = {length:g} m must be positive")

    nodes = _field(spec, "nodes")
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)):
        raise CaseError(f"grid.nodes must be an integer, got {nodes!r}")
    nodes = int(nodes)
    if nodes < 3:
        raise CaseError(f"grid.nodes = {nodes}: at least 3 nodes are needed")

    spacing = _field(spec, "spacing", "linear")
    if spacing not in SPACINGS:
        raise CaseError(f"grid.spacing = {spacing!r}: use one of {', '.join(SPACINGS)}")
    if spacing == "double-geometric" and nodes < 4:
        raise CaseError(
            f"grid.nodes = {nodes}: double-geometric spacing needs at least 4 nodes (two on each side of grid.position)"
        )

    ratio = _field(spec, "ratio", None)
    ratio = 1.05 if ratio is None else _number(ratio, "grid.ratio")
    if not ratio > 0.0:
        raise CaseError(f"grid.ratio = {ratio:g} must be positive")

    r0 = _field(spec, "inner_radius", None)
    r0 = 0.0 if r0 is None else _number(r0, "grid.inner_radius")
    if r0 < 0.0:
        raise CaseError(f"grid.inner_radius = {r0:g} m must not be negative")
    if m == 0 and r0 != 0.0:
        raise CaseError("grid.inner_radius applies to cylindrical and spherical grids only")

    position = _field(spec, "position", None)
    position = r0 + 0.5 * length if position is None else _number(position, "grid.position")
    if not r0 < position < r0 + length:
        raise CaseError(f"grid.position = {position:g} m is outside the domain ({r0:g}, {r0 + length:g}) m")
    return m, length, nodes, spacing, ratio, position, r0


def geometric_widths(n: int, length: float, q: float) -> np.ndarray:
    """n widths w_k = w_0 q^k summing to ``length``."""
    if abs(q - 1.0) < 1e-12:
        return np.full(n, length / n)
    # work with exponents relative to the largest cell so q^k never overflows
    k = np.arange(n, dtype=float)
    logs = k * math.log(q)
    rel = np.exp(logs - logs.max())
    return length * rel / rel.sum()


def make_grid(spec) -> Grid1D:
    """Build the :class:`Grid1D` of a grid specification (see :func:`check_grid_spec`)."""
    m, length, n, spacing, q, position, r0 = check_grid_spec(spec)
    right = r0 + length
    if spacing == "linear":
        widths = np.full(n, length / n)
        anchor = None
    elif spacing == "geometric":
        widths = geometric_widths(n, length, q)
        anchor = None
    else:
        left_len, right_len = position - r0, right - position
        n_left = int(round(n * left_len / length))
        n_left = min(max(n_left, 2), n - 2)
        n_right = n - n_left
        w_left = geometric_widths(n_left, left_len, q)[::-1]  # finest next to position
        w_right = geometric_widths(n_right, right_len, q)
        widths = np.concatenate([w_left, w_right])
        anchor = n_left
    faces = np.empty(n + 1)
    faces[0] = r0
    faces[1:] = r0 + np.cumsum(widths)
    if anchor is not None:
        # each side sums exactly to its length: the faces on the left are measured from r0,
        # those on the right from position, and the face at position is position itself
        faces[1 : anchor + 1] = r0 + np.cumsum(widths[:anchor])
        faces[anchor] = position
        faces[anchor + 1 :] = position + np.cumsum(widths[anchor:])
    faces[-1] = right
    width = np.diff(faces)
    if not np.all(width > _MIN_REL_WIDTH * length):
        raise CaseError(
            f"grid.ratio = {q:g} with grid.nodes = {n} makes cells narrower than "
            f"{_MIN_REL_WIDTH:g} of grid.length; use a ratio closer to 1 or fewer nodes"
        )
    z = 0.5 * (faces[:-1] + faces[1:])
    dz = np.diff(z)
    area = faces**m if m else np.ones(n + 1)
    lo, hi = faces[:-1], faces[1:]
    if m == 0:
        volume = width.copy()
    elif m == 1:
        volume = width * (hi + lo) / 2.0  # (hi^2 - lo^2)/2
    else:
        volume = width * (hi * hi + hi * lo + lo * lo) / 3.0  # (hi^3 - lo^3)/3
    return Grid1D(m, faces, z, dz, width, area, volume)
