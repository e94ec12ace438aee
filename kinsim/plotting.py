"""Figures of result files (matplotlib).

The ``plot_*`` functions draw one kind of plot on a matplotlib Axes (a new one when
``ax`` is None) and return it; :func:`figure` lays out a whole figure and saves it.
Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot), so no window
ever opens and no global figure is left behind.  They read result files only.

Kinds:
    profiles  composition against distance at chosen times; initial profile dashed, weld
              marked, uphill stretches (flux up the component's own concentration gradient)
              highlighted, the stretches of several phases (a homogenization result) shaded
    mu        chemical potentials against distance (continuous where compositions jump)
    flux      the solver's volume-fixed fluxes against distance
    path      the diffusion path in composition space (x_j against x_k, or a Gibbs triangle)
    markers   Kirkendall marker displacement against sqrt(t), with the parabolic fit
    energy    the free energy F(t) - F(0) of the specimen (``/free_energy``); never increasing in a
              closed or periodic run
    spinodal  an early profile of a gradient-energy run inside the spinodal, its uphill stretches
              highlighted, with the fastest-growing wavelength of linear theory and the dominant
              wavelength of the profile marked
    interfaces the positions of the moving interfaces (regions) against sqrt(t), with the
              parabolic fit
    phases    phase fractions against distance (a result of several phases, thermo.phases;
              phases below MINOR_PHASE again in a panel of their own scale)

Runs of the moving-boundary model ([[region]]) are drawn at each snapshot's own node
positions, with the interfaces marked (thin dotted lines in the colour of the time).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import (
    component_index,
    concentrations,
    load_result,
    multiphase_nodes,
    phase_sets,
    time_index,
    uphill_faces,
    weld_position,
)
from .errors import InputError
from .storage import Result
from .units import ATOMIC_WEIGHTS

if TYPE_CHECKING:  # matplotlib itself is imported when a figure is drawn
    from matplotlib.typing import RcKeyType

__all__ = [
    "KINDS",
    "dominant_wavelength",
    "figure",
    "figure_profiles",
    "plot_energy",
    "plot_flux",
    "plot_interfaces",
    "plot_markers",
    "plot_mu",
    "plot_path",
    "plot_phases",
    "plot_profiles",
    "plot_spinodal",
    "to_weight_percent",
]

KINDS = ("profiles", "mu", "path", "markers", "flux", "energy", "spinodal", "interfaces", "phases")
UNITS = ("mole-fraction", "weight-percent")
COLUMN_WIDTH = 3.5  # inches: one column of a two-column journal page

# publication defaults, applied inside :func:`figure` (and by the plot functions on new axes)
STYLE: dict[RcKeyType, Any] = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "axes.linewidth": 0.7,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
}
_INITIAL = dict(color="0.45", lw=1.0, ls="--")
_WELD = dict(color="0.3", lw=0.7, ls=":")
_UPHILL = dict(color="crimson", lw=4.0, alpha=0.35, solid_capstyle="butt")


# ---------------------------------------------------------------------- helpers
def to_weight_percent(x, components):
    """Mole fractions (..., n) -> weight percent."""
    missing = [c for c in components if c.upper() not in ATOMIC_WEIGHTS]
    if missing:
        raise InputError(
            f"--unit weight-percent: no atomic weight for {', '.join(missing)} (not an element); "
            "use --unit mole-fraction"
        )
    w = np.array([ATOMIC_WEIGHTS[c.upper()] for c in components])
    m = np.asarray(x) * w
    return 100.0 * m / m.sum(axis=-1, keepdims=True)


def _values(r: Result, unit: str) -> tuple[np.ndarray, str]:
    if unit not in UNITS:
        raise InputError(f"--unit: {unit!r} is not one of {', '.join(UNITS)}")
    if unit == "weight-percent":
        return to_weight_percent(r.x, r.components), "wt%"
    return r.x, "mole fraction"


def _read(result) -> Result:
    return load_result(result)


def _new_axes(figsize=(COLUMN_WIDTH, 2.6)):
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(STYLE):
        fig = Figure(figsize=figsize, layout="constrained")
        return fig.add_subplot()


def time_label(t: float) -> str:
    """A short label for a time in s: '13 d', '2.5 h', '30 s'."""
    for unit, s in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if t >= s or unit == "s":
            return f"{t / s:.3g} {unit}"
    return f"{t:g} s"  # pragma: no cover


def time_indices(r: Result, times=None) -> list[int]:
    """Snapshots nearest to ``times`` (s); default: a quarter, half and the end of the run."""
    if times is None:
        n = r.n_snapshots
        return sorted({n // 4, n // 2, n - 1} - {0}) or [n - 1]
    idx = sorted({time_index(r, t, "--times", allow_zero=True) for t in times})
    if not idx:
        raise InputError("--times: no time given")
    return idx


def _components(r: Result, components, default, where="--components") -> list[int]:
    if components is None:
        return list(default)
    if isinstance(components, str):
        components = [components]
    out = []
    for c in components:
        k = component_index(r, c, where)
        if k not in out:
            out.append(k)
    if not out:
        raise InputError(f"{where}: no component given")
    return out


def _time_colors(n):
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.12 + 0.72 * j / max(n - 1, 1)) for j in range(n)]


def _si_scale(values) -> tuple[float, str]:
    """A power of ten that brings values to O(1), and its label text ('' for 1)."""
    m = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    if not (m > 0 and math.isfinite(m)):
        return 1.0, ""
    e = int(math.floor(math.log10(m)))
    if -2 <= e <= 3:
        return 1.0, ""
    return 10.0**e, f"$10^{{{e}}}$ "


def uphill_nodes(r: Result, it: int, k: int) -> np.ndarray:
    """Nodes on either side of the faces where component k's flux (the solver's,
    volume-fixed) runs up the gradient of its own concentration c_k = u_k / V_s.  Faces
    across an interface (a jump between two phases) do not count."""
    c = concentrations(r, it)[:, k]
    z = r.node_positions(it)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.diff(c) / np.diff(z)
    faces = r.face_positions(it)[1:-1]
    up = uphill_faces(faces, r.flux[it, 1:-1, k], np.where(np.isfinite(grad), grad, 0.0))
    if r.interfaces is not None:
        up &= ~np.isin(faces, r.interfaces[it])
    nodes = np.zeros(r.z.size, dtype=bool)
    nodes[:-1] |= up
    nodes[1:] |= up
    return nodes


def _length_unit(r: Result) -> tuple[float, str]:
    """(factor from m, label) of a distance axis: mm, or nm for specimens shorter than
    2 um (the gradient-energy scale)."""
    if float(r.faces[-1] - r.faces[0]) < 2e-6:
        return 1e9, "nm"
    return 1e3, "mm"


def _mark_weld(ax, r: Result, label=True):
    w = weld_position(r)
    if w is not None:
        ax.axvline(w * _length_unit(r)[0], label="weld" if label else None, **_WELD)


def _mark_interfaces(ax, r: Result, it: int, color):
    """The interfaces of a moving-boundary run at snapshot ``it``."""
    if r.interfaces is None:
        return
    for s in r.interfaces[it]:
        if np.isfinite(s):
            ax.axvline(s * _length_unit(r)[0], color=color, lw=0.6, ls=":", zorder=0)


def _legend(ax, skip=(), **kw):
    """A legend of the entries whose labels are not in ``skip``; returns the labels shown."""
    pairs = [(h, lab) for h, lab in zip(*ax.get_legend_handles_labels()) if lab not in skip]
    if pairs:
        ax.legend(*zip(*pairs), **({"loc": "best", "handlelength": 1.8} | kw))
    return [lab for _, lab in pairs]


def _shade_multiphase(ax, r: Result, it: int):
    """Shade the stretches of nodes holding several composition sets at snapshot it."""
    many = multiphase_nodes(r, it)
    if not many.any():
        return
    f = r.faces * _length_unit(r)[0]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], many.astype(np.int8), [0]])))
    for j, (a, b) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(f[a], f[b], color="0.9", zorder=0, lw=0, label="several phases" if j == 0 else None)


# ---------------------------------------------------------------------- plots
def plot_profiles(result, ax=None, component=None, times=None, unit="mole-fraction", mark_uphill=True, legend=True):
    """Composition of one component against distance (mm) at chosen times.

    The initial profile is dashed, the weld dotted, and where the component's flux runs up
    its own concentration gradient (uphill diffusion) the curve is highlighted."""
    r = _read(result)
    k = _components(r, component, [1 if len(r.components) > 1 else 0])[0]
    ax = ax if ax is not None else _new_axes()
    vals, ulabel = _values(r, unit)
    ax.plot(*_profile_line(r, vals, 0, k, unit), label="initial", **_INITIAL)
    idx = [i for i in time_indices(r, times) if i > 0]
    uphill_drawn = False
    for color, it in zip(_time_colors(len(idx)), idx):
        if mark_uphill:
            up = uphill_nodes(r, it, k)
            if up.any():
                ax.plot(
                    r.node_positions(it) * _length_unit(r)[0],
                    np.where(up, vals[it, :, k], np.nan),
                    label=None if uphill_drawn else "uphill",
                    zorder=1,
                    **_UPHILL,
                )
                uphill_drawn = True
        ax.plot(*_profile_line(r, vals, it, k, unit), color=color, label=time_label(r.time[it]), zorder=2)
        _mark_interfaces(ax, r, it, color)
    if idx:
        _shade_multiphase(ax, r, idx[-1])
    return _finish_distance_axes(ax, r, f"{_name(r.components[k])} ({ulabel})", legend)


def _profile_line(r: Result, vals, it: int, k: int, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(z in the axis unit of ``_length_unit``, values) of component k at snapshot ``it`` (``vals``: the compositions in
    ``unit``); for a moving-boundary run with the interface compositions of both sides
    inserted at each interface, so the jump is drawn where the interface is."""
    z, y = r.node_positions(it), vals[it, :, k]
    if r.interfaces is None:
        return z * _length_unit(r)[0], y
    sides = [r.extra["interface_x_left"][it], r.extra["interface_x_right"][it]]
    if unit == "weight-percent":
        sides = [to_weight_percent(x, r.components) for x in sides]
    for j in np.argsort(r.interfaces[it])[::-1]:  # from the right: the insertion points stay valid
        s = r.interfaces[it, j]
        if np.isfinite(s) and np.isfinite(sides[0][j, k]) and np.isfinite(sides[1][j, k]):
            i = int(np.searchsorted(z, s))
            z = np.insert(z, i, [s, s])
            y = np.insert(y, i, [sides[0][j, k], sides[1][j, k]])
    return z * _length_unit(r)[0], y


def _finish_distance_axes(ax, r, ylabel, legend):
    """Weld mark, labels, limits (the specimen's ends) and legend of a plot against
    distance (the unit of ``_length_unit``)."""
    _mark_weld(ax, r)
    ax.set_xlabel(f"distance $z$ ({_length_unit(r)[1]})")
    ax.set_ylabel(ylabel)
    ax.set_xlim(r.faces[0] * _length_unit(r)[0], r.faces[-1] * _length_unit(r)[0])
    if legend:
        _legend(ax)
    return ax


def plot_mu(result, ax=None, component=None, times=None, legend=True):
    """Chemical potential of one component (kJ/mol) against distance at chosen times.

    When the run had external potentials (the file's /potential), the total potential
    mu + Phi that drives the flux is plotted instead (uniform at equilibrium)."""
    r = _read(result)
    k = _components(r, component, [1 if len(r.components) > 1 else 0])[0]
    ax = ax if ax is not None else _new_axes()
    mu = r.mu[..., k] / 1e3
    total = "potential" in r.extra and np.any(np.nan_to_num(r.extra["potential"][..., k]) != 0.0)
    if total:
        mu = mu + np.nan_to_num(r.extra["potential"][..., k]) / 1e3
    ax.plot(r.node_positions(0) * _length_unit(r)[0], mu[0], label="initial", **_INITIAL)
    idx = [i for i in time_indices(r, times) if i > 0]
    for color, it in zip(_time_colors(len(idx)), idx):
        ax.plot(r.node_positions(it) * _length_unit(r)[0], mu[it], color=color, label=time_label(r.time[it]))
        _mark_interfaces(ax, r, it, color)
    sym = f"\\mathrm{{{_name(r.components[k])}}}"
    label = f"$\\mu_{{{sym}}} + \\Phi_{{{sym}}}$" if total else f"$\\mu_{{{sym}}}$"
    return _finish_distance_axes(ax, r, f"{label} (kJ mol$^{{-1}}$)", legend)


def plot_flux(result, ax=None, component=None, times=None, legend=True):
    """The solver's flux of one component (volume-fixed frame) against distance."""
    r = _read(result)
    k = _components(r, component, [1 if len(r.components) > 1 else 0])[0]
    ax = ax if ax is not None else _new_axes()
    idx = [i for i in time_indices(r, times) if i > 0]
    scale, stext = _si_scale(r.flux[idx, :, k])
    for color, it in zip(_time_colors(len(idx)), idx):
        ax.plot(
            r.face_positions(it) * _length_unit(r)[0],
            r.flux[it, :, k] / scale,
            color=color,
            label=time_label(r.time[it]),
        )
        _mark_interfaces(ax, r, it, color)
    ax.axhline(0.0, color="0.6", lw=0.5)
    ylabel = f"$J_{{\\mathrm{{{_name(r.components[k])}}}}}$ ({stext}mol m$^{{-2}}$ s$^{{-1}}$)"
    return _finish_distance_axes(ax, r, ylabel, legend)


MINOR_PHASE = 0.25  # a set whose fraction stays below this (at the times drawn) is a minor phase


def _present_sets(r, times):
    """(set names, fractions (time, z, set) with NaN as 0, indices of the sets present at
    some time, the time indices drawn) of a homogenization result."""
    names = phase_sets(r)
    if names is None:
        raise InputError("--kind phases needs a result of several phases (thermo.phases); this one has one phase")
    frac = np.nan_to_num(r.extra["phase_fraction"])
    shown = [j for j in range(len(names)) if np.any(frac[:, :, j] > 0.0)]
    return names, frac, shown, time_indices(r, times)


def minor_phases(result, times=None) -> list[str]:
    """The composition sets present in a homogenization result whose fraction stays below
    MINOR_PHASE at the times drawn (precipitates in a matrix, e.g. carbides in
    austenite), when some other set is above it: ``kinsim plot --kind phases`` draws them
    again in a panel of their own scale."""
    r = _read(result)
    names, frac, shown, idx = _present_sets(r, times)
    peak = {j: float(frac[idx][:, :, j].max()) for j in shown}
    minor = [j for j in shown if 0.0 < peak[j] < MINOR_PHASE]
    if not minor or all(peak[j] < MINOR_PHASE for j in shown):
        return []
    return [names[j] for j in minor]


def plot_phases(result, ax=None, times=None, legend=True, sets=None):
    """Phase fractions (mole fraction of atoms in each composition set) against distance
    at chosen times, one line style per set and one colour per time (a homogenization
    result only).  ``sets``: the names of the sets to draw (default: every set present),
    on a scale of their own (default: 0 to 1)."""
    r = _read(result)
    names, frac, shown, idx = _present_sets(r, times)
    ax = ax if ax is not None else _new_axes()
    zs = r.z * _length_unit(r)[0]
    styles = ("-", "--", ":", "-.")
    if sets is not None:
        unknown = [n for n in sets if n not in names]
        if unknown:
            raise InputError(f"phase sets {', '.join(unknown)} are not in this result (its sets: {', '.join(names)})")
    draw = shown if sets is None else [j for j in shown if names[j] in sets]  # (a set never present: no line)
    for color, it in zip(_time_colors(len(idx)), idx):
        for j in draw:
            label = f"{names[j]}, {time_label(r.time[it])}" if len(shown) > 1 else time_label(r.time[it])
            ax.plot(zs, frac[it, :, j], color=color, ls=styles[shown.index(j) % len(styles)], label=label)
    if sets is None:
        ax.set_ylim(-0.02, 1.02)
    else:
        top = max([float(frac[idx][:, :, j].max()) for j in draw] + [0.0]) or 1.0  # (absent sets: 0 to 1)
        ax.set_ylim(-0.02 * top, 1.05 * top)
    return _finish_distance_axes(ax, r, "phase fraction", legend)


def plot_path(result, ax=None, components=None, times=None, unit="mole-fraction", legend=True):
    """Diffusion path in composition space.

    Two components (default: the first two independent ones of a ternary or higher):
    x_j (horizontal) against x_k.  Three components: a Gibbs triangle of those three
    (their fractions renormalised to sum to one)."""
    r = _read(result)
    nc = len(r.components)
    if nc < 3 and components is None:
        raise InputError(
            "--kind path needs a ternary (or higher) couple; this result has "
            f"{nc} components ({', '.join(r.components)})"
        )
    ks = _components(r, components, [1, 2])
    if len(ks) not in (2, 3):
        raise InputError(f"--kind path: give two components (x_j against x_k) or three (Gibbs triangle), got {len(ks)}")
    vals, ulabel = _values(r, unit)
    idx = [i for i in time_indices(r, times if times is not None else [r.time[-1]]) if i > 0]
    ax = ax if ax is not None else _new_axes((COLUMN_WIDTH, 3.0 if len(ks) == 3 else 2.8))
    names = [_name(r.components[k]) for k in ks]
    if len(ks) == 2:
        pts = [vals[:, :, ks[0]], vals[:, :, ks[1]]]
        X, Y = pts
        ax.plot([X[0, 0], X[0, -1]], [Y[0, 0], Y[0, -1]], label="initial (step)", **_INITIAL)
        for color, it in zip(_time_colors(len(idx)), idx):
            ax.plot(X[it], Y[it], color=color, label=time_label(r.time[it]))
        ax.plot([X[0, 0]], [Y[0, 0]], "s", color="0.2", ms=4, label="left end")
        ax.plot([X[0, -1]], [Y[0, -1]], "o", color="0.2", ms=4, label="right end")
        ax.set_xlabel(f"{names[0]} ({ulabel})")
        ax.set_ylabel(f"{names[1]} ({ulabel})")
    else:
        sub = vals[:, :, ks]
        sub = sub / sub.sum(axis=-1, keepdims=True)

        def xy(f):  # Gibbs triangle: first component at the lower left, second lower right, third top
            return f[..., 1] + 0.5 * f[..., 2], (math.sqrt(3) / 2) * f[..., 2]

        tri = np.array([[0, 0], [1, 0], [0.5, math.sqrt(3) / 2], [0, 0]])
        ax.plot(tri[:, 0], tri[:, 1], color="0.2", lw=0.8)
        for t in (0.2, 0.4, 0.6, 0.8):  # grid lines of constant fraction
            for a in range(3):
                f0 = np.zeros(3)
                f1 = np.zeros(3)
                f0[a] = f1[a] = t
                f0[(a + 1) % 3] = 1 - t
                f1[(a + 2) % 3] = 1 - t
                p = np.array([xy(f0), xy(f1)])
                ax.plot(p[:, 0], p[:, 1], color="0.85", lw=0.5, zorder=0)
        x0, y0 = xy(sub[0])
        ax.plot([x0[0], x0[-1]], [y0[0], y0[-1]], label="initial (step)", **_INITIAL)
        for color, it in zip(_time_colors(len(idx)), idx):
            xx, yy = xy(sub[it])
            ax.plot(xx, yy, color=color, label=time_label(r.time[it]))
        for (px, py), name, ha, va in zip(tri[:3], names, ("right", "left", "center"), ("top", "top", "bottom")):
            ax.annotate(name, (px, py), xytext=(0, -3 if va == "top" else 3), textcoords="offset points", ha=ha, va=va)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"Gibbs triangle ({ulabel})")
    if legend:
        _legend(ax)
    return ax


def plot_markers(result, ax=None, legend=True):
    """Kirkendall marker displacement (um) against sqrt(t), with the parabolic law fitted."""
    r = _read(result)
    if r.markers.ndim != 2 or r.markers.shape[1] == 0:
        raise InputError(f"{r.path} holds no Kirkendall markers")
    ax = ax if ax is not None else _new_axes()
    s = np.sqrt(r.time)
    d = (r.markers - r.markers[0]) * 1e6
    for m, color in zip(range(d.shape[1]), _time_colors(d.shape[1])):
        lab = "marker" if d.shape[1] == 1 else f"marker {m}"
        ax.plot(s, d[:, m], "o", ms=3, color=color, label=lab)
        if s[-1] > 0:
            slope = float((s * d[:, m]).sum() / (s * s).sum())  # least squares through the origin
            ax.plot(
                [0, s[-1]],
                [0, slope * s[-1]],
                color=color,
                lw=0.8,
                ls="--",
                label=f"parabolic fit: {slope:.3g} $\\mu$m s$^{{-1/2}}$ $\\times\\sqrt{{t}}$",
            )
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("$\\sqrt{t}$ (s$^{1/2}$)")
    ax.set_ylabel("marker displacement ($\\mu$m)")
    ax.set_xlim(left=0)
    if legend:
        _legend(ax)
    return ax


def plot_energy(result, ax=None, legend=True):
    """The free energy of the specimen relative to the start, F(t) - F(0), against time
    (the file's /free_energy: J m^-2 for planar grids)."""
    r = _read(result)
    F = r.extra.get("free_energy")
    if F is None:
        raise InputError(
            f"{r.path} holds no free energy (/free_energy): written by kinsim runs from version "
            "0.1 with gradient energy on; run the case again"
        )
    ax = ax if ax is not None else _new_axes()
    dF = np.asarray(F, dtype=float) - float(F[0])
    scale, stext = _si_scale(dF)
    unit = r.extra_units.get("free_energy", "J m-2").replace("m-2", "m$^{-2}$").replace("m-1", "m$^{-1}$")
    t = r.time
    ax.plot(t[1:], dF[1:] / scale, "o-", ms=2.5, color=_time_colors(1)[0], label="$F(t) - F(0)$")
    ax.axhline(0.0, color="0.6", lw=0.5)
    if t[1] > 0 and t[-1] / t[1] > 100:
        ax.set_xscale("log")
    ax.set_xlabel("time $t$ (s)")
    ax.set_ylabel(f"$F - F_0$ ({stext}{unit})")
    if legend:
        _legend(ax)
    return ax


def plot_interfaces(result, ax=None, legend=True):
    """Positions of the moving interfaces (um) against sqrt(t), each with the parabolic
    law s = s_0 + K sqrt(t) fitted (least squares; s_0 its position at t = 0)."""
    r = _read(result)
    if r.interfaces is None or r.interfaces.shape[1] == 0:
        raise InputError(f"{r.path} holds no moving interfaces (a run with [[region]] tables has them)")
    ax = ax if ax is not None else _new_axes()
    s = np.sqrt(r.time)
    regions = _region_phases(r)
    for j, color in zip(range(r.interfaces.shape[1]), _time_colors(r.interfaces.shape[1])):
        p = r.interfaces[:, j]
        name = f"{regions[j]} | {regions[j + 1]}" if len(regions) > j + 1 else f"interface {j}"
        ax.plot(s, p * 1e6, "o", ms=3, color=color, label=name)
        ok = np.isfinite(p) & (s > 0)
        if ok.any():
            d = p[ok] - p[0]
            K = float((s[ok] * d).sum() / (s[ok] * s[ok]).sum())  # least squares through (0, s_0)
            ax.plot(
                [0, s[ok][-1]],
                [p[0] * 1e6, (p[0] + K * s[ok][-1]) * 1e6],
                color=color,
                lw=0.8,
                ls="--",
                label=f"parabolic fit: {K * 1e6:.3g} $\\mu$m s$^{{-1/2}}$ $\\times\\sqrt{{t}}$",
            )
    ax.set_xlabel("$\\sqrt{t}$ (s$^{1/2}$)")
    ax.set_ylabel("interface position ($\\mu$m)")
    ax.set_xlim(left=0)
    if legend:
        _legend(ax)
    return ax


def dominant_wavelength(r: Result, it: int, k: int) -> float:
    """The wavelength (m) of the largest Fourier mode of component k's profile at snapshot
    it (its mean removed), on the nodes interpolated to a uniform grid."""
    z = np.linspace(r.z[0], r.z[-1], r.z.size)
    x = np.interp(z, r.z, r.x[it, :, k])
    amp = np.abs(np.fft.rfft(x - x.mean()))
    amp[0] = 0.0
    j = int(np.argmax(amp))
    return float("nan") if j == 0 else float(r.faces[-1] - r.faces[0]) / j


def plot_spinodal(result, ax=None, component=None, times=None, legend=True):
    """The early stage of spinodal decomposition (a run with gradient energy): the
    profiles at the chosen times (default: the snapshot nearest to 2 / R_max, the growth
    rate of the fastest mode, else the second snapshot), their uphill stretches
    highlighted, and a bar of the fastest-growing wavelength of linear theory next to the
    dominant wavelength of the latest profile drawn."""
    r = _read(result)
    lam = r.attrs.get("spinodal_wavelength_max_m")
    if lam is None:
        raise InputError(
            f"{r.path} has no fastest-growing wavelength: --kind spinodal needs a run with gradient "
            "energy ([gradient]) whose mean composition is inside the spinodal"
        )
    lam = float(lam)
    k = _components(r, component, [1 if len(r.components) > 1 else 0])[0]
    ax = ax if ax is not None else _new_axes()
    f, unit = _length_unit(r)
    zz = r.z * f
    if times is None:
        rate = float(r.attrs.get("spinodal_growth_rate_max_per_s", 0.0))
        t_early = 2.0 / rate if rate > 0 else r.time[1]
        idx = [time_index(r, min(t_early, r.time[-1]), "--times")]
    else:
        idx = [i for i in time_indices(r, times) if i > 0]
    x = r.x[..., k]
    ax.plot(zz, x[0], label="initial", color="0.65", lw=0.5)  # fluctuations: thin, behind the profiles
    uphill_drawn = False
    for color, it in zip(_time_colors(len(idx)), idx):
        up = uphill_nodes(r, it, k)
        if up.any():
            ax.plot(zz, np.where(up, x[it], np.nan), label=None if uphill_drawn else "uphill", zorder=1, **_UPHILL)
            uphill_drawn = True
        ax.plot(zz, x[it], color=color, label=time_label(r.time[it]), zorder=2)
    lam_dom = dominant_wavelength(r, idx[-1], k)
    lo = min(float(np.nanmin(x[idx])), float(np.nanmin(x[0])))
    hi = max(float(np.nanmax(x[idx])), float(np.nanmax(x[0])))
    span = hi - lo if hi > lo else 1.0
    y = hi + 0.15 * span
    z0 = zz[0] + 0.03 * (zz[-1] - zz[0])
    ax.annotate(
        "",
        xy=(z0 + lam * f, y),
        xytext=(z0, y),
        arrowprops=dict(arrowstyle="<->", color="crimson", lw=1.0, shrinkA=0, shrinkB=0),
    )
    ax.text(
        z0 + lam * f + 0.02 * (zz[-1] - zz[0]),
        y,
        f"$\\lambda_{{max}}$ = {lam * f:.3g} {unit} (linear theory)\ndominant: {lam_dom * f:.3g} {unit} "
        f"at {time_label(r.time[idx[-1]])}",
        ha="left",
        va="center",
        fontsize=6,
        color="crimson",
    )
    ax.set_ylim(lo - 0.05 * span, hi + 0.45 * span)
    ax.set_xlabel(f"distance $z$ ({unit})")
    ax.set_ylabel(f"{_name(r.components[k])} (mole fraction)")
    ax.set_xlim(zz[0], zz[-1])
    if legend:
        _legend(ax, loc="upper right", ncol=3)
    return ax


def _region_phases(r: Result) -> list[str]:
    """The phases of the regions of a moving-boundary run, left to right."""
    import json

    try:
        return list(json.loads(r.attrs.get("regions", "[]")))
    except ValueError:
        return []


def _name(c: str) -> str:
    """Element symbol as printed: 'SI' -> 'Si'."""
    return c[:1].upper() + c[1:].lower() if c.isalpha() and len(c) <= 2 else c


def _temperature_text(r: Result) -> str:
    """'1323.15 K (1050 °C)', or the range of a temperature schedule."""

    def one(T):
        return f"{T:.6g} K ({round(T - 273.15, 1):g} \N{DEGREE SIGN}C)"

    try:
        sched = json.loads(r.attrs.get("temperature_schedule", "[]"))
        Ts = sorted({float(row[1]) for row in sched})
    except (TypeError, ValueError, IndexError):
        Ts = []
    if len(Ts) > 1:
        return f"T(t) from {one(Ts[0])} to {one(Ts[-1])}"
    T = r.attrs.get("temperature_K")
    return one(float(T)) if isinstance(T, (int, float)) else ""


def _title(r: Result, width: int = 62) -> str:
    """Case title and temperature, wrapped to fit one column."""
    import textwrap

    parts = [str(r.attrs.get("title", "") or "").strip(), _temperature_text(r)]
    text = "; ".join(p for p in parts if p)
    return "\n".join(textwrap.wrap(text, width)) if text else ""


# ---------------------------------------------------------------------- figures
_FORMATS = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def figure(result, out, kind="profiles", times=None, components=None, unit="mole-fraction"):
    """Draw ``kind`` for the result and save it to ``out`` (format from its suffix).

    profiles, mu and flux: one panel per component (default: all but the dependent one);
    path: one panel (two components: x_j against x_k; three: Gibbs triangle); markers and
    interfaces: one panel.  Returns the output path."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    if kind not in KINDS:
        raise InputError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise InputError(f"-o {out}: unknown figure format {out.suffix or '(no suffix)'}; use .png, .pdf or .svg")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: directory {out.parent} does not exist")
    if unit not in UNITS:
        raise InputError(f"--unit: {unit!r} is not one of {', '.join(UNITS)}")
    r = _read(result)
    with rc_context(STYLE):
        if kind in ("profiles", "mu", "flux", "spinodal"):
            ks = _components(r, components, range(1, len(r.components)) if len(r.components) > 1 else [0])
            fig = Figure(figsize=(COLUMN_WIDTH, 1.9 * len(ks) + 0.5), layout="constrained")
            axes = fig.subplots(len(ks), 1, sharex=True, squeeze=False)[:, 0]
            shown: list[str] = []
            for j, (ax, k) in enumerate(zip(axes, ks)):
                c = r.components[k]
                if kind == "profiles":
                    plot_profiles(r, ax, c, times, unit, legend=False)
                elif kind == "spinodal":
                    plot_spinodal(r, ax, c, times, legend=False)
                elif kind == "mu":
                    plot_mu(r, ax, c, times, legend=False)
                else:
                    plot_flux(r, ax, c, times, legend=False)
                shown += _legend(ax, skip=shown)  # each entry once, in the first panel that has it
                if j < len(ks) - 1:
                    ax.set_xlabel("")
        elif kind == "phases":
            if components:
                raise InputError("--components does not apply to --kind phases")
            minor = minor_phases(r, times)
            if not minor:
                fig = Figure(figsize=(COLUMN_WIDTH, 2.8), layout="constrained")
                plot_phases(r, fig.add_subplot(), times)
            else:  # the minor phases again below, on their own scale
                fig = Figure(figsize=(COLUMN_WIDTH, 4.6), layout="constrained")
                top, low = fig.subplots(2, 1, sharex=True, height_ratios=[1.2, 1.0])
                plot_phases(r, top, times)
                top.set_xlabel("")
                plot_phases(r, low, times, legend=False, sets=minor)
                low.set_ylabel(f"phase fraction ({', '.join(minor)})" if len(minor) < 3 else "phase fraction")
        elif kind == "path":
            fig = Figure(figsize=(COLUMN_WIDTH, 3.0), layout="constrained")
            plot_path(r, fig.add_subplot(), components, times, unit)
        elif kind == "energy":
            if components:
                raise InputError("--components does not apply to --kind energy")
            fig = Figure(figsize=(COLUMN_WIDTH, 2.4), layout="constrained")
            plot_energy(r, fig.add_subplot())
        else:
            if components:
                raise InputError(f"--components does not apply to --kind {kind}")
            fig = Figure(figsize=(COLUMN_WIDTH, 2.6), layout="constrained")
            (plot_markers if kind == "markers" else plot_interfaces)(r, fig.add_subplot())
        title = _title(r)
        if title:
            fig.suptitle(title, fontsize=7)
        try:
            fig.savefig(out, format=fmt)
        except OSError as exc:
            raise InputError(f"-o {out}: cannot write the figure: {exc}") from None
    return out


def figure_profiles(path, out, components=None, times=None, unit="mole-fraction"):
    """The profiles figure (kept for earlier callers): :func:`figure` with kind='profiles'."""
    return figure(path, out, "profiles", times=times, components=components, unit=unit)
