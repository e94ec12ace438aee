"""Summary metrics of one run, the columns of a sweep's index.

Functions of a :class:`~kinsim.storage.Result`, defined precisely. Let ``x0 = x[0]``
(the stored initial profile), ``xf = x[-1]`` (the final one), and the *reference range*
of component k: the minimum and maximum of ``x0[:, k]`` together with the mole fraction
of k in every boundary composition the case fixes (every stage, every point of a time
table) and, at an end whose boundary lets matter in without fixing a composition (fixed
flux, activity or potential), the mole fraction of k at that end node in every snapshot;
in a moving-boundary run ([[region]] tables) also the mole fraction of k on either side
of every interface in every snapshot (the interface's local equilibrium fixes them as a
boundary does: the carbon a growing ferrite rejects piles up ahead of the interface at
the tie-line composition, which is not uphill diffusion). The case is the one stored in
the result file (:attr:`kinsim.storage.Result.case`): its initial type and weld position
and its boundary stages.

``penetration_<COMP>_m``  (one per component, m)
    ``d = |xf_k - x0_k|`` per node (in a moving-boundary run, whose nodes move with the
    interfaces, the final profile is interpolated linearly to the nodes' positions at t
    = 0); the *jump* ``s_k`` is the larger of the initial range of k (``max x0_k - min
    x0_k``) and, for every composition in the reference range that comes from a
    boundary, ``|x_boundary,k - x0_k(end node)|`` (for a fixed activity, flux or
    potential: the largest change of the end node); if ``s_k`` is zero the largest
    change ``max d`` is used instead (a component that is uniform at first but moves
    uphill), and if that is below 1e-9 the depth is 0. The *changed zone* is the set of
    nodes with ``d > 0.01 s_k``. *Sources* are: the weld ``initial.position`` of a step
    start (the interfaces at t = 0 of a moving-boundary run), and every domain end whose
    boundary is not ``closed`` (fixed composition, flux, activity or potential, in any
    stage); with neither (a uniform or table start between closed ends) the source is
    the midpoint of the neighbouring nodes where the initial profile (summed over the
    components) jumps most. Every node of the changed zone belongs to its nearest
    source; where the zone ends (the next node away from that source is unchanged) the
    edge is located by linear interpolation of ``d`` to ``0.01 s_k`` between the two
    nodes, or is the domain end if the zone reaches it. The depth is the largest
    distance from a source to one of its edges. For an erfc couple it is ``2 sqrt(D t)
    erfcinv(0.02)`` on either side; for a uniform start with a fixed surface
    composition, ``2 sqrt(D t) erfcinv(0.01)``.

``uphill_excursion`` (mole fraction) and ``uphill_component``
    For each component, how far its mole fraction goes outside its reference range at
    any node in any stored snapshot after t = 0 (``max(x_k) - hi_k`` or ``lo_k -
    min(x_k)``, whichever is larger); the metric is the largest over the components,
    ``uphill_component`` names it.  Values below 1e-9 (round-off) are reported as 0
    with an empty component.  All snapshots count because the excursion of a closed
    couple peaks and then decays.

``kirkendall_shift_m`` (m)
    Final minus initial position of the Kirkendall marker (with several markers, the
    signed shift of the one that moved farthest; NaN without markers).

``phase_zone_<PHASE>_m`` (one per candidate phase of a homogenization run, m)
    How deep the amount of the phase has changed: the penetration depth above, with the
    phase's fraction (summed over its composition sets, mole fraction of atoms) in place
    of a component's mole fraction and a fixed threshold: the changed zone is the set of
    nodes where the fraction changed by more than ``PHASE_ZONE_FRACTION`` = 0.01, 0 when
    none did.  For a precipitate forming under a surface (carbides in carburizing) it is
    the depth of the precipitation zone; for one dissolving, that of the dissolved zone.
    Not computed (no index column) for a result without phase fractions.

``more_stable_phases`` and ``driving_force_J_mol`` (J/mol of atoms)
    The phases the run's stability checks found more stable than the run's phase (or
    than the local equilibrium of its phases, or a region's phase) at the start or at
    any stored state after it (:attr:`kinsim.storage.Result.stability` and
    :attr:`~kinsim.storage.Result.stability_run`), largest driving force first,
    separated by spaces, and the largest of those driving forces.  Empty (NaN) when
    none was found, when the case turned the checks off, or for a result without them:
    a sweep's index shows which runs left the validity of their model without reading
    every run's warnings.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..case import Case
from ..case.section import present

__all__ = [
    "kirkendall_shift",
    "metric_columns",
    "more_stable_phases",
    "penetration_depths",
    "phase_zone_depths",
    "run_metrics",
    "uphill_excursion",
]

PENETRATION_FRACTION = 0.01  # of the component's composition jump
PHASE_ZONE_FRACTION = 0.01  # change of a phase's fraction that counts (phase_zone_<PHASE>_m)
NOISE = 1e-9  # mole fraction: changes below this are round-off


TEXT_METRICS = ("uphill_component", "more_stable_phases")  # the index columns that hold names, not numbers


def metric_columns(components, phases=()) -> list[str]:
    """The index columns of :func:`run_metrics`, in order (``phases``: the candidate
    phases of a homogenization case, none otherwise)."""
    return (
        [f"penetration_{c}_m" for c in components]
        + ["uphill_excursion", "uphill_component", "kirkendall_shift_m"]
        + [f"phase_zone_{p}_m" for p in phases]
        + ["more_stable_phases", "driving_force_J_mol"]
    )


class _OpenSide(NamedTuple):
    node: int  # the end node (0 or -1)
    face: float  # the end face position, m
    fixed: list[np.ndarray]  # mole-fraction vectors (result.components order) it brings in


def _open_sides(result, case: Case) -> list[_OpenSide]:
    """The sides whose boundary is not closed in some stage, with the compositions they
    fix; a stage that lets matter in without fixing a composition (flux, activity,
    potential) adds the compositions of the end node in every snapshot instead."""
    comps = list(result.components)
    out = []
    for side, node, face in (("left", 0, float(result.faces[0])), ("right", -1, float(result.faces[-1]))):
        b = getattr(case.boundary, side)
        if b.closed:
            continue
        fixed = [np.array([x[c] for c in comps]) for st in b.stages for x in st.fixed_compositions()]
        if any(st.type not in ("closed", "fixed-composition") for st in b.stages):
            fixed.extend(np.asarray(result.x[:, node, :], dtype=float))
        out.append(_OpenSide(node, face, fixed))
    return out


def _sources(result, case: Case, sides: list[_OpenSide]) -> list[float]:
    if case.regions:  # the interfaces at t = 0
        src = [reg.start for reg in case.regions[1:]]
    else:
        initial = present(case.initial, "initial")  # a case without regions has one
        src = [present(initial.position, "initial.position")] if initial.type == "step" else []
    src.extend(s.face for s in sides)
    if not src:
        x0 = result.x[0]
        jumps = np.abs(np.diff(x0, axis=0)).sum(axis=1)
        i = int(np.argmax(jumps)) if jumps.size else 0
        z = result.z
        src.append(float(0.5 * (z[i] + z[min(i + 1, z.size - 1)])))
    return src


def penetration_depths(result) -> dict[str, float]:
    """``{component: depth in m}``, the 1 % penetration depth (module docstring)."""
    case = result.case
    sides = _open_sides(result, case)
    sources = np.array(_sources(result, case, sides))
    z = np.asarray(result.node_positions(0), dtype=float)
    zf = np.asarray(result.node_positions(-1), dtype=float)
    lo_end, hi_end = float(result.faces[0]), float(result.faces[-1])
    x0, xf = result.x[0], result.x[-1]
    out = {}
    for k, comp in enumerate(result.components):
        # the final profile where the nodes were at t = 0 (they move with the interfaces
        # of a moving-boundary run)
        xfk = xf[:, k] if zf is z or np.array_equal(zf, z) else np.interp(z, zf, xf[:, k])
        d = np.abs(xfk - x0[:, k])
        s = float(x0[:, k].max() - x0[:, k].min())
        for side in sides:
            for xb in side.fixed:
                s = max(s, abs(float(xb[k] - x0[side.node, k])))
        if not s > 0.0:
            s = float(d.max()) if d.size else 0.0
        if not s > NOISE or not d.max() > NOISE:
            out[comp] = 0.0
            continue
        out[comp] = _zone_depth(d, PENETRATION_FRACTION * s, z, sources, lo_end, hi_end)
    return out


def _zone_depth(d, thr, z, sources, lo_end, hi_end) -> float:
    """The largest distance from a source to an edge of the zone where ``d > thr``
    (module docstring, penetration)."""
    changed = d > thr
    depth = 0.0
    for i in np.flatnonzero(changed):
        dist = np.abs(sources - z[i])
        p = float(sources[int(np.argmin(dist))])
        directions = [1, -1] if z[i] == p else [1 if z[i] > p else -1]
        for step in directions:
            j = i + step
            if j < 0 or j >= z.size:
                edge = hi_end if step > 0 else lo_end
            elif changed[j]:
                continue
            else:
                edge = z[i] + (z[j] - z[i]) * (d[i] - thr) / (d[i] - d[j])
            depth = max(depth, abs(edge - p))
    return float(depth)


def phase_zone_depths(result) -> dict[str, float]:
    """``{phase: depth in m}`` of a homogenization result (``phase_zone_<PHASE>_m``,
    module docstring); empty for a result without phase fractions."""
    from ..analysis import phase_sets

    names = phase_sets(result)
    if names is None:
        return {}
    case = result.case
    sources = np.array(_sources(result, case, _open_sides(result, case)))
    z = np.asarray(result.z, dtype=float)
    lo_end, hi_end = float(result.faces[0]), float(result.faces[-1])
    frac = np.nan_to_num(np.asarray(result.extra["phase_fraction"], dtype=float))
    out = {}
    for phase in dict.fromkeys(n.split("#")[0] for n in names):
        cols = [j for j, n in enumerate(names) if n.split("#")[0] == phase]
        f = frac[:, :, cols].sum(axis=2)
        d = np.abs(f[-1] - f[0])
        out[phase] = _zone_depth(d, PHASE_ZONE_FRACTION, z, sources, lo_end, hi_end) if d.max() > NOISE else 0.0
    return out


def _interface_compositions(result) -> np.ndarray:
    """(m, nc) the mole fractions on both sides of every interface of a moving-boundary
    run in every snapshot (its local equilibrium fixes them, as a boundary does); (0, nc)
    for other runs."""
    sides = [result.extra[k] for k in ("interface_x_left", "interface_x_right") if k in result.extra]
    if not sides:
        return np.zeros((0, len(result.components)))
    x = np.concatenate([np.reshape(s, (-1, s.shape[-1])) for s in sides])
    return x[np.isfinite(x).all(axis=1)]  # NaN once an interface is gone


def uphill_excursion(result) -> tuple[float, str]:
    """(largest excursion outside the reference range, component) (module docstring)."""
    sides = _open_sides(result, result.case)
    x0 = result.x[0]
    if result.x.shape[0] < 2:
        return 0.0, ""
    later = result.x[1:]
    walls = _interface_compositions(result)
    best, who = 0.0, ""
    for k, comp in enumerate(result.components):
        lo, hi = float(x0[:, k].min()), float(x0[:, k].max())
        if walls.shape[0]:
            lo, hi = min(lo, float(walls[:, k].min())), max(hi, float(walls[:, k].max()))
        for side in sides:
            for xb in side.fixed:
                lo, hi = min(lo, float(xb[k])), max(hi, float(xb[k]))
        xk = later[:, :, k]
        exc = max(float(np.nanmax(xk)) - hi, lo - float(np.nanmin(xk)))
        if exc > best:
            best, who = exc, comp
    if not best > NOISE:
        return 0.0, ""
    return float(best), who


def kirkendall_shift(result) -> float:
    """Final minus initial marker position, m (the marker that moved farthest); NaN if none."""
    m = np.asarray(result.markers, dtype=float)
    if m.ndim != 2 or m.shape[1] == 0 or m.shape[0] == 0:
        return math.nan
    shift = m[-1] - m[0]
    if not np.isfinite(shift).any():
        return math.nan
    return float(shift[int(np.nanargmax(np.abs(shift)))])


def more_stable_phases(result) -> tuple[str, float]:
    """(``more_stable_phases``, ``driving_force_J_mol``): see the module docstring."""
    best: dict[str, float] = {}
    for report in (result.stability, result.stability_run):
        for u in [] if report is None else report.unstable:
            best[u.phase] = max(best.get(u.phase, -math.inf), u.driving_force)
    names = sorted(best, key=lambda p: -best[p])
    return " ".join(names), (best[names[0]] if names else math.nan)


def run_metrics(result) -> dict:
    """Every summary metric of a result: ``penetration_<C>_m`` per component,
    ``uphill_excursion``, ``uphill_component``, ``kirkendall_shift_m``, of a
    homogenization result ``phase_zone_<PHASE>_m`` per candidate phase, and
    ``more_stable_phases``, ``driving_force_J_mol``."""
    out: dict[str, float | str] = {f"penetration_{c}_m": v for c, v in penetration_depths(result).items()}
    exc, comp = uphill_excursion(result)
    out["uphill_excursion"] = exc
    out["uphill_component"] = comp
    out["kirkendall_shift_m"] = kirkendall_shift(result)
    out.update({f"phase_zone_{p}_m": v for p, v in phase_zone_depths(result).items()})
    out["more_stable_phases"], out["driving_force_J_mol"] = more_stable_phases(result)
    return out
