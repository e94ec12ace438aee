"""Finite-volume grids: conservation of length and volume, spacings, validation."""

from __future__ import annotations

import numpy as np
import pytest

from kinsim.errors import CaseError
from kinsim.grid import Grid1D, make_grid


def spec(**kw):
    base = dict(geometry="planar", length=0.05, nodes=50, spacing="linear", ratio=1.05, position=None, inner_radius=0.0)
    base.update(kw)
    return base


def check_consistent(g: Grid1D, r0: float, length: float):
    n = g.z.shape[0]
    assert g.faces.shape == (n + 1,) and g.area.shape == (n + 1,)
    assert g.width.shape == (n,) and g.volume.shape == (n,) and g.dz.shape == (n - 1,)
    assert g.faces[0] == r0 and g.faces[-1] == r0 + length
    assert np.all(np.diff(g.faces) > 0)
    np.testing.assert_allclose(g.width, np.diff(g.faces), rtol=0, atol=0)
    assert g.width.sum() == pytest.approx(length, rel=1e-13)
    # nodes are cell centres
    np.testing.assert_allclose(g.z, 0.5 * (g.faces[:-1] + g.faces[1:]), rtol=1e-15)
    assert np.all(g.faces[:-1] < g.z) and np.all(g.z < g.faces[1:])
    np.testing.assert_allclose(g.dz, np.diff(g.z), rtol=1e-15)
    m = g.geometry
    np.testing.assert_allclose(g.area, g.faces**m, rtol=1e-14)
    R = r0 + length
    total = (R ** (m + 1) - r0 ** (m + 1)) / (m + 1)
    assert g.volume.sum() == pytest.approx(total, rel=1e-12)
    exact = (g.faces[1:] ** (m + 1) - g.faces[:-1] ** (m + 1)) / (m + 1)
    np.testing.assert_allclose(g.volume, exact, rtol=1e-10)


# an inner radius only for curved grids
@pytest.mark.parametrize(
    "geometry, m, r0",
    [
        ("planar", 0, 0.0),
        ("cylindrical", 1, 0.0),
        ("cylindrical", 1, 0.01),
        ("spherical", 2, 0.0),
        ("spherical", 2, 0.01),
    ],
)
@pytest.mark.parametrize("spacing", ["linear", "geometric", "double-geometric"])
def test_conservation(geometry, m, spacing, r0):
    g = make_grid(spec(geometry=geometry, spacing=spacing, inner_radius=r0, nodes=37, position=r0 + 0.02))
    assert g.geometry == m
    check_consistent(g, r0, 0.05)


def test_linear_widths_equal():
    g = make_grid(spec(nodes=10))
    np.testing.assert_allclose(g.width, 0.005, rtol=1e-12)
    np.testing.assert_allclose(g.z, 0.0025 + 0.005 * np.arange(10), rtol=1e-12)
    assert np.all(g.area == 1.0)
    np.testing.assert_array_equal(g.volume, g.width)


@pytest.mark.parametrize("ratio", [1.1, 0.9, 1.0])
def test_geometric_ratio(ratio):
    g = make_grid(spec(spacing="geometric", ratio=ratio, nodes=40))
    np.testing.assert_allclose(g.width[1:] / g.width[:-1], ratio, rtol=1e-9)
    assert g.width.sum() == pytest.approx(0.05, rel=1e-14)


def test_double_geometric():
    pos = 0.02
    g = make_grid(spec(spacing="double-geometric", ratio=1.08, nodes=101, position=pos))
    check_consistent(g, 0.0, 0.05)
    k = int(np.flatnonzero(g.faces == pos)[0])  # a face exactly at position
    # split in proportion to length: 101 * 0.4 = 40.4 -> 40 cells on the left
    assert k == 40
    left, right = g.width[:k], g.width[k:]
    assert left.sum() == pytest.approx(pos, rel=1e-14)
    assert right.sum() == pytest.approx(0.05 - pos, rel=1e-14)
    # growing away from position on both sides
    np.testing.assert_allclose(left[:-1] / left[1:], 1.08, rtol=1e-9)
    np.testing.assert_allclose(right[1:] / right[:-1], 1.08, rtol=1e-9)
    # finest at position
    assert int(np.argmin(g.width)) in (k - 1, k)
    assert g.width[k - 1] < g.width[0] and g.width[k] < g.width[-1]


def test_double_geometric_default_position_and_min_two_per_side():
    g = make_grid(spec(spacing="double-geometric", nodes=20))
    assert 0.025 in g.faces
    g = make_grid(spec(spacing="double-geometric", nodes=10, position=0.0001))
    k = int(np.flatnonzero(g.faces == 0.0001)[0])
    assert k == 2
    check_consistent(g, 0.0, 0.05)


def test_grid_accepts_case_grid_spec():
    from kinsim.case import GridSpec

    g = make_grid(GridSpec("spherical", 1e-3, 30, "geometric", 0.95, 5e-4, 2e-4))
    check_consistent(g, 2e-4, 1e-3)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(nodes=2), "grid.nodes"),
        (dict(nodes=3.0), "grid.nodes"),
        (dict(length=0.0), "grid.length"),
        (dict(length=-1.0), "grid.length"),
        (dict(ratio=0.0, spacing="geometric"), "grid.ratio"),
        (dict(ratio=-1.0), "grid.ratio"),
        (dict(position=0.05, spacing="double-geometric"), "grid.position"),
        (dict(position=-0.01, spacing="double-geometric"), "grid.position"),
        (dict(inner_radius=-1e-3, geometry="cylindrical"), "grid.inner_radius"),
        (dict(inner_radius=1e-3), "grid.inner_radius"),
        (dict(geometry="toroidal"), "grid.geometry"),
        (dict(spacing="chebyshev"), "grid.spacing"),
        (dict(spacing="double-geometric", nodes=3), "grid.nodes"),
        (dict(spacing="geometric", ratio=2.0, nodes=2000), "grid.ratio"),
    ],
)
def test_invalid(kw, match):
    with pytest.raises(CaseError, match=match):
        make_grid(spec(**kw))
