"""Analysis of a diffusion couple from its composition profiles alone.

Everything here reads result files (never kernels) and uses only the profiles x(z) at
one time t, the molar volume and which components are interstitial -- what an
experimentalist has after measuring a couple.  The solver's own fluxes (stored in the
file) are used only to *check* the profile-derived ones.

Concentrations: c_k = u_k / V_s with u-fractions u_k = x_k / sum_{j substitutional} x_j
(interstitials carry no volume; V_s per mole of substitutional atoms).  For a couple
that is still semi-infinite and scales with z / sqrt(t) (Boltzmann):

* Matano plane z_M: int_{c_L}^{c_R} (z - z_M) dc = 0, computed in z as
  z_M (c_R - c_L) = c_R z_1 - c_L z_0 - int_{z_0}^{z_1} c dz;
  for several components a least-squares z_M weighted by (c_R - c_L)^2.
* Interdiffusion flux of every component (Dayananda):
  J~_k(z) = (1/2t) int_{c_k(-inf)}^{c_k(z)} (z' - z_M) dc_k
          = (1/2t) [ (z - z_M)(c_k(z) - c_k,L) - int_{z_0}^{z} (c_k - c_k,L) dz' ]
  (the second form, by parts, needs no dz/dc and is what is evaluated, at cell faces).
* Binary interdiffusivity, Boltzmann-Matano: D(c) = -J~(z) / (dc/dz);
  Sauer-Freise (no Matano plane), Y = (c - c_L)/(c_R - c_L):
  D(Y*) = [ (1 - Y*) int_{-inf}^{z*} Y dz + Y* int_{z*}^{inf} (1 - Y) dz ] / (2t dY/dz).
* Multicomponent: zero-flux planes (where J~_k changes sign inside the diffusion zone)
  and uphill stretches (where J~_k runs up the gradient of c_k).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .case import Case
from .case.section import present
from .errors import InputError, ResultFileError
from .storage import Result, read_result

__all__ = [
    "CoupleAnalysis",
    "analyze",
    "component_index",
    "concentrations",
    "interdiffusion_fluxes",
    "load_result",
    "matano_plane",
    "time_index",
    "weld_position",
]

# a flux (or gradient) below this fraction of its largest magnitude counts as zero
_REL_ZERO = 1e-3
# Boltzmann-Matano / Sauer-Freise values are reported where 1 % < Y < 99 %
_Y_LO, _Y_HI = 0.01, 0.99
# a flux reversal counts when the flux on each side reaches this fraction of its largest magnitude
_LOBE = 1e-2
# fewer nodes than this between 10 % and 90 % of a profile's step: too coarse to analyse
_MIN_NODES = 5


def _fmt_time(t: float) -> str:
    for unit, s in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if abs(t) >= s or unit == "s":
            return f"{t / s:.4g} {unit}"
    return f"{t:g} s"  # pragma: no cover


# --------------------------------------------------------------------- reading, checks
def load_result(result, min_snapshots: int = 2) -> Result:
    """A completed result (path or :class:`Result`) with at least ``min_snapshots`` snapshots.

    Raises :class:`ResultFileError` for a file that is not kinsim's, cannot be read, did
    not complete, or holds too few snapshots."""
    r = result if isinstance(result, Result) else read_result(result)
    if r.status != "completed":
        raise ResultFileError(f"result file {r.path} is incomplete: its run is {r.status_description}")
    if r.n_snapshots < min_snapshots:
        raise ResultFileError(
            f"result file {r.path} holds {r.n_snapshots} snapshot(s); at least {min_snapshots} are needed"
        )
    if r.x.ndim != 3 or r.x.shape[1] != r.z.size or r.x.shape[2] != len(r.components):
        raise ResultFileError(f"result file {r.path} is inconsistent: x has shape {r.x.shape}")
    if not np.all(np.isfinite(r.x)):
        raise ResultFileError(f"result file {r.path} holds non-finite mole fractions")
    return r


def time_index(r: Result, t: float, where: str = "--time", allow_zero: bool = False) -> int:
    """Index of the snapshot nearest to time ``t`` (s); outside the run is an InputError."""
    t = float(t)
    t_end = float(r.time[-1])
    tol = 1e-9 * max(t_end, 1.0)
    if not math.isfinite(t) or t < -tol or t > t_end + tol:
        raise InputError(f"{where}: t = {_fmt_time(t)} is outside the run (0 s to {_fmt_time(t_end)})")
    if not allow_zero and t <= tol:
        raise InputError(f"{where}: t must be after the start of the run (t > 0; the run ends at {_fmt_time(t_end)})")
    candidates = np.arange(r.n_snapshots) if allow_zero else np.flatnonzero(r.time > 0)
    return int(candidates[np.argmin(np.abs(r.time[candidates] - t))])


def component_index(r: Result, name: str, where: str = "--components") -> int:
    """Index of component ``name`` (case-insensitive); an unknown name is an InputError."""
    comps = [c.upper() for c in r.components]
    key = str(name).strip().upper()
    if key not in comps:
        raise InputError(f"{where}: component {name!r} is not in the result (components: {', '.join(r.components)})")
    return comps.index(key)


def weld_position(r: Result) -> float | None:
    """Initial interface of a step couple (m), from the stored case; else None."""
    ini = r.case.initial
    return ini.position if ini is not None and ini.type == "step" else None


def molar_volume(r: Result) -> float:
    v = r.attrs.get("molar_volume")
    if v is None:
        v = r.case.mobility.molar_volume
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ResultFileError(f"result file {r.path} does not record the molar volume") from None
    if not (v > 0 and math.isfinite(v)):
        raise ResultFileError(f"result file {r.path} records an invalid molar volume {v!r}")
    return v


def interstitial_flags(r: Result) -> np.ndarray:
    """True for components that carry no volume (interstitials)."""
    flags = r.parameters.get("thermo_interstitial")
    if flags is None:
        flags = r.parameters.get("sim_subst")
        if flags is not None:
            return np.asarray(flags) == 0.0
        return np.zeros(len(r.components), dtype=bool)
    return np.asarray(flags).astype(bool)


def concentrations(r: Result, it: int | None = None) -> np.ndarray:
    """c_k = u_k / V_s (mol m^-3) of every component, at snapshot ``it`` (all if None)."""
    x = r.x if it is None else r.x[it]
    subst = ~interstitial_flags(r)
    s = (x * subst).sum(axis=-1, keepdims=True)
    return x / s / molar_volume(r)


# --------------------------------------------------------------------- core formulas
def phase_sets(r: Result) -> list[str] | None:
    """The composition-set names of a homogenization result (the last axis of its
    /phase_fraction), or None for a single-phase result."""
    if "phase_fraction" not in r.extra or "phase_sets" not in r.attrs:
        return None
    names = r.attrs["phase_sets"]
    if isinstance(names, str):
        names = json.loads(names)
    return [str(n) for n in np.asarray(names).ravel()]


def multiphase_nodes(r: Result, it: int) -> np.ndarray:
    """(nz,) bool: the nodes holding more than one composition set at snapshot it (False
    everywhere for a single-phase result)."""
    if phase_sets(r) is None:
        return np.zeros(r.z.shape[0], dtype=bool)
    frac = np.nan_to_num(r.extra["phase_fraction"][it])
    return np.count_nonzero(frac > 0.0, axis=1) > 1


def _cell_widths(r: Result) -> np.ndarray:
    w = np.diff(r.faces)
    if w.size != r.z.size or np.any(w <= 0):
        raise ResultFileError(f"result file {r.path} has inconsistent faces and nodes")
    return w


def matano_plane(r: Result, it: int, weights: str = "auto") -> tuple[float, np.ndarray]:
    """(z_M combined, z_M per component) from the profiles at snapshot ``it``.

    Per component: z_M,k (c_R - c_L) = c_R z_1 - c_L z_0 - int c_k dz with c_L, c_R the
    end compositions of the profile.  Combined: least squares with weights (c_R - c_L)^2
    over the components whose profile runs mostly one way (|c_R - c_L| at least half of
    the range of c_k); a component whose ends hardly differ (carbon in Darken's couple)
    tells little and is used only when no other is left."""
    c = concentrations(r, it)
    w = _cell_widths(r)
    z0, z1 = r.faces[0], r.faces[-1]
    cL, cR = c[0], c[-1]
    dc = cR - cL
    moment = cR * z1 - cL * z0 - (c * w[:, None]).sum(axis=0)
    scale = np.abs(c).max()
    per = np.full(c.shape[1], np.nan)
    ok = np.abs(dc) > 1e-9 * scale
    if not ok.any():
        raise InputError(f"{r.path}: the two ends of the couple have the same composition; there is no Matano plane")
    per[ok] = moment[ok] / dc[ok]
    use = ok & (np.abs(dc) >= 0.5 * (c.max(axis=0) - c.min(axis=0)))
    if not use.any():
        use = ok
    zM = float((dc[use] * moment[use]).sum() / (dc[use] ** 2).sum())
    return zM, per


def interdiffusion_fluxes(r: Result, it: int, z_matano: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(face positions, J~ (n_faces, n_comp)) at the interior faces, from the profiles alone.

    J~_k(z_f) = (1/2t) [ (z_f - z_M)(c_k(z_f) - c_k,L) - int_{z_0}^{z_f} (c_k - c_k,L) dz ]
    with c at the face interpolated linearly between its two nodes."""
    t = float(r.time[it])
    if t <= 0:
        raise InputError("interdiffusion fluxes need a time after the start of the run")
    if z_matano is None:
        z_matano, _ = matano_plane(r, it)
    c = concentrations(r, it)
    w = _cell_widths(r)
    z = r.z
    zf = r.faces[1:-1]
    cL = c[0]
    cum = np.cumsum((c - cL) * w[:, None], axis=0)[:-1]  # int_{z0}^{face f} (c - cL) dz
    lam = (zf - z[:-1]) / (z[1:] - z[:-1])
    cf = c[:-1] + lam[:, None] * (c[1:] - c[:-1])
    J = ((zf - z_matano)[:, None] * (cf - cL) - cum) / (2.0 * t)
    return zf, J


def stored_fluxes(r: Result, it: int) -> np.ndarray:
    """The solver's volume-fixed fluxes at the interior faces (for comparison)."""
    return r.flux[it, 1:-1, :]


def _sign_changes(J: np.ndarray) -> list[int]:
    """Face indices f such that J changes sign between faces f and f+1, between two lobes
    (stretches of one sign) that each reach 1 % of max |J|: the tails of a profile, where
    J is near zero and noisy, give no sign change."""
    Jmax = np.abs(J).max()
    if Jmax == 0:
        return []
    sgn = np.where(np.abs(J) > _REL_ZERO * Jmax, np.sign(J), 0.0)
    lobes: list[list] = []  # (sign, first, last face) of runs of one sign, zeros ignored
    for f in np.flatnonzero(sgn):
        if lobes and lobes[-1][0] == sgn[f]:
            lobes[-1][2] = f
        else:
            lobes.append([sgn[f], f, f])
    lobes = [lb for lb in lobes if np.abs(J[lb[1] : lb[2] + 1]).max() > _LOBE * Jmax]
    out = []
    for a, b in zip(lobes[:-1], lobes[1:]):
        if a[0] != b[0]:
            # the crossing: the first sign change after the end of lobe a
            f = a[2]
            while f + 1 < b[1] and np.sign(J[f + 1]) == a[0]:
                f += 1
            out.append(int(f))
    return out


def _intervals(mask: np.ndarray, zf: np.ndarray) -> list[tuple[float, float]]:
    out = []
    i = 0
    n = mask.size
    while i < n:
        if mask[i]:
            j = i
            while j + 1 < n and mask[j + 1]:
                j += 1
            out.append((float(zf[i]), float(zf[j])))
            i = j + 1
        else:
            i += 1
    return out


def uphill_faces(zf, J, grad) -> np.ndarray:
    """Faces where a flux runs up its own concentration gradient (both clearly non-zero)."""
    Jmax = np.abs(J).max()
    gmax = np.abs(grad).max()
    if Jmax == 0 or gmax == 0:
        return np.zeros(J.shape, dtype=bool)
    return (J * grad > 0) & (np.abs(J) > _LOBE * Jmax) & (np.abs(grad) > _LOBE * gmax)


# --------------------------------------------------------------------- the analysis
@dataclass
class Interdiffusivity:
    """Binary interdiffusivity at the faces where 1 % < Y < 99 %."""

    z: np.ndarray  # m, face positions
    x: np.ndarray  # mole fraction of the second component at the faces
    Y: np.ndarray  # normalised composition (c - c_L)/(c_R - c_L)
    D: np.ndarray  # m^2/s, Boltzmann-Matano
    D_sauer_freise: np.ndarray  # m^2/s


@dataclass
class CoupleAnalysis:
    path: Path | None  # None for a result held in memory
    time: float
    index: int
    components: list[str]
    geometry: str
    weld: float | None
    matano_plane: float
    matano_planes: dict[str, float]
    z_faces: np.ndarray
    flux: np.ndarray  # (n_faces, nc) from the profiles, mol m^-2 s^-1
    flux_stored: np.ndarray  # (n_faces, nc) the solver's, volume-fixed
    flux_deviation: dict[str, float]  # max |J~ - J_stored| / max |J_stored| per component
    semi_infinite: bool
    interdiffusivity: Interdiffusivity | None = None
    zero_flux_planes: list[dict] = field(default_factory=list)
    uphill: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {
            "file": str(self.path),
            "time": self.time,
            "components": list(self.components),
            "matano_plane": self.matano_plane,
            "matano_planes": {k: (None if not math.isfinite(v) else v) for k, v in self.matano_planes.items()},
            "weld": self.weld,
            "semi_infinite": self.semi_infinite,
            "interdiffusion_flux": {
                "z": self.z_faces.tolist(),
                **{c: self.flux[:, k].tolist() for k, c in enumerate(self.components)},
            },
            "flux_deviation": {k: (v if math.isfinite(v) else None) for k, v in self.flux_deviation.items()},
            "zero_flux_planes": self.zero_flux_planes,
            "uphill": self.uphill,
            "warnings": list(self.warnings),
        }
        if self.interdiffusivity is not None:
            d = self.interdiffusivity
            out["interdiffusivity"] = {
                "x": d.x.tolist(),
                "D": d.D.tolist(),
                "D_sauer_freise": d.D_sauer_freise.tolist(),
                "z": d.z.tolist(),
                "component": self.components[1],
            }
        return out

    def summary(self) -> str:
        comps = self.components
        lines = [f"{self.path}: {'-'.join(comps)}, analysed at t = {_fmt_time(self.time)} (snapshot {self.index})"]
        lines.append(
            f"Matano plane: z_M = {self.matano_plane * 1e3:.6g} mm"
            + (f" (weld at {self.weld * 1e3:.6g} mm)" if self.weld is not None else "")
        )
        dev = ", ".join(f"{c} {v * 100:.2g} %" for c, v in self.flux_deviation.items() if math.isfinite(v))
        if dev:
            lines.append(f"interdiffusion fluxes from the profiles vs the solver's: max deviation {dev}")
        d = self.interdiffusivity
        if d is not None and d.x.size:
            lines.append(f"interdiffusivity D({comps[1]}) (m^2/s), Boltzmann-Matano and Sauer-Freise:")
            lines.append(f"  {'x_' + comps[1]:>10}  {'Y':>6}  {'D (B-M)':>11}  {'D (S-F)':>11}")
            for Yq in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
                i = int(np.argmin(np.abs(d.Y - Yq)))
                lines.append(f"  {d.x[i]:10.5f}  {d.Y[i]:6.3f}  {d.D[i]:11.4e}  {d.D_sauer_freise[i]:11.4e}")
        if len(comps) > 2 or self.zero_flux_planes or self.uphill:
            if self.zero_flux_planes:
                for p in self.zero_flux_planes:
                    comp = ", ".join(f"{k} {v:.5g}" for k, v in p["x"].items())
                    lines.append(
                        f"zero-flux plane of {p['component']} at z = {p['z'] * 1e3:.6g} mm "
                        f"(x: {comp}): its flux reverses ({p['reversal']})"
                        + (", next to an uphill stretch" if p["uphill_beside"] else "")
                    )
            else:
                lines.append("no zero-flux plane: no component's interdiffusion flux changes sign")
            if self.uphill:
                for u in self.uphill:
                    lines.append(
                        f"{u['component']} diffuses uphill (against its own concentration gradient) "
                        f"over z = {u['z_from'] * 1e3:.6g} to {u['z_to'] * 1e3:.6g} mm"
                    )
            else:
                lines.append("no component diffuses uphill")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def analyze(result, time: float | None = None) -> CoupleAnalysis:
    """Matano plane, interdiffusion fluxes, binary D(x) or zero-flux planes and uphill
    stretches of a completed couple at the snapshot nearest to ``time`` (default: last)."""
    r = load_result(result)
    case = r.case
    geometry = case.grid.geometry
    if case.regions:
        raise InputError(
            f"{r.path}: the Matano analysis is for single-phase couples; this run has moving "
            "interfaces between regions ([[region]])"
        )
    if geometry != "planar":
        raise InputError(f"{r.path}: the Matano analysis needs a planar couple; this run is {geometry}")
    initial = present(case.initial, "initial")  # a case without regions has one
    ini = initial.type
    if ini != "step":
        raise InputError(
            f'{r.path}: the Matano analysis needs a diffusion couple (initial.type = "step"); '
            f"this run starts from a {ini} profile"
        )
    it = r.n_snapshots - 1 if time is None else time_index(r, time)
    t = float(r.time[it])
    comps = list(r.components)
    nc = len(comps)
    c0 = concentrations(r, 0)
    c = concentrations(r, it)
    zM, per = matano_plane(r, it)
    zf, J = interdiffusion_fluxes(r, it, zM)
    Js = stored_fluxes(r, it)
    warnings = []

    # semi-infinite: the ends still hold their initial compositions
    rng = np.maximum(np.abs(c0[-1] - c0[0]), c.max(axis=0) - c.min(axis=0))
    rng = np.where(rng > 0, rng, 1.0)
    end_change = np.maximum(np.abs(c[0] - c0[0]), np.abs(c[-1] - c0[-1])) / rng
    semi = bool(end_change.max() < 1e-3)
    if not semi:
        worst = int(np.argmax(end_change))
        warnings.append(
            f"the profile of {comps[worst]} has reached the ends of the couple (they changed by "
            f"{end_change[worst] * 100:.2g} % of its range): the Boltzmann analysis assumes a "
            "semi-infinite couple; choose an earlier --time"
        )
    warnings += _setup_warnings(case)
    warnings += _multiphase_warnings(r, it)

    # resolution: a profile that changes over a few cells gives poor fluxes and D
    mono = np.abs(c[-1] - c[0]) >= 0.5 * (c.max(axis=0) - c.min(axis=0))
    for k in np.flatnonzero(mono & (np.abs(c[-1] - c[0]) > 0)).tolist():
        Y = (c[:, k] - c[0, k]) / (c[-1, k] - c[0, k])
        n_mid = int(((Y > 0.1) & (Y < 0.9)).sum())
        if n_mid < _MIN_NODES:
            warnings.append(
                f"the profile of {comps[k]} changes (10 % to 90 %) over {n_mid} node(s) only: its "
                "interdiffusion flux and D from the profile are inaccurate; refine the grid"
            )
    dev = {}
    for k, name in enumerate(comps):
        m = np.abs(Js[:, k]).max()
        dev[name] = float(np.abs(J[:, k] - Js[:, k]).max() / m) if m > 0 else float("nan")

    out = CoupleAnalysis(
        path=r.path,
        time=t,
        index=it,
        components=comps,
        geometry=geometry,
        weld=initial.position,
        matano_plane=zM,
        matano_planes={cc: float(v) for cc, v in zip(comps, per)},
        z_faces=zf,
        flux=J,
        flux_stored=Js,
        flux_deviation=dev,
        semi_infinite=semi,
        warnings=warnings,
    )

    grad = (c[1:] - c[:-1]) / (r.z[1:] - r.z[:-1])[:, None]
    lam = (zf - r.z[:-1]) / (r.z[1:] - r.z[:-1])
    xf = r.x[it, :-1] + lam[:, None] * (r.x[it, 1:] - r.x[it, :-1])
    cf = c[:-1] + lam[:, None] * (c[1:] - c[:-1])

    if nc == 2:
        out.interdiffusivity = _binary_D(r, c, cf, xf, grad, J, zf, t)
    # zero-flux planes and uphill stretches (reported for every couple; expected in ternaries)
    for k, name in enumerate(comps):
        up = uphill_faces(zf, J[:, k], grad[:, k])
        stretches = _intervals(up, zf)
        for z_from, z_to in stretches:
            out.uphill.append({"component": name, "z_from": z_from, "z_to": z_to})
        for f in _sign_changes(J[:, k]):
            a, b = J[f, k], J[f + 1, k]
            s = a / (a - b) if a != b else 0.5
            zz = zf[f] + s * (zf[f + 1] - zf[f])
            xx = xf[f] + s * (xf[f + 1] - xf[f])
            h = 2.0 * (zf[min(f + 1, zf.size - 1)] - zf[max(f - 1, 0)])
            out.zero_flux_planes.append(
                {
                    "component": name,
                    "z": float(zz),
                    "x": {cc: float(v) for cc, v in zip(comps, xx)},
                    "reversal": "+ to -" if a > 0 else "- to +",  # the flux's sign left -> right of the plane
                    "uphill_beside": any(lo - h <= zz <= hi + h for lo, hi in stretches),
                }
            )
    return out


def _multiphase_warnings(r: Result, it: int) -> list[str]:
    """Where the couple holds several phases (a homogenization result): the Boltzmann
    analysis there gives an effective D of the phase mixture, and in a binary the
    two-phase field shrinks to a sharp interface (its width is the grid's), where D from
    the profile has no meaning."""
    many = multiphase_nodes(r, it)
    if not many.any():
        return []
    z = r.z[many] * 1e3
    out = [
        f"{int(many.sum())} node(s) between z = {z.min():.4g} and {z.max():.4g} mm hold several phases: there "
        "the fluxes follow the homogenization model's averaged mobilities and the interdiffusivity from "
        "the profile is an effective value of the phase mixture, not a property of one phase"
    ]
    if len(r.components) == 2:
        out.append(
            "in a binary couple a two-phase field has no width at local equilibrium (the composition "
            "jumps between the tie-line ends at an interface): Boltzmann-Matano and Sauer-Freise D are "
            "meaningless at the nodes of the jump"
        )
    return out


def _setup_warnings(case: Case) -> list[str]:
    """What in the case breaks the assumptions of the Boltzmann analysis (a closed couple at
    constant temperature without external forces)."""
    out = []
    open_sides = [side for side in ("left", "right") if not getattr(case.boundary, side).closed]
    if open_sides:
        out.append(
            f"the {' and '.join(open_sides)} boundary is not closed: matter enters or leaves, "
            "the Matano analysis assumes a closed couple"
        )
    if case.conditions.varies:
        out.append("the temperature changes in time: the Boltzmann analysis assumes a constant temperature")
    if case.potentials:
        out.append("external potentials act: the fluxes are not those of the composition gradients alone")
    return out


def _binary_D(r, c, cf, xf, grad, J, zf, t) -> Interdiffusivity:
    k = 1
    cL, cR = c[0, k], c[-1, k]
    dc = cR - cL
    Yn = (c[:, k] - cL) / dc  # at nodes
    Yf = (cf[:, k] - cL) / dc  # at faces
    with np.errstate(divide="ignore", invalid="ignore"):
        D_bm = -J[:, k] / grad[:, k]
        w = _cell_widths(r)
        left = np.cumsum(Yn * w)[:-1]  # int_{z0}^{z_f} Y dz
        right = np.cumsum(((1.0 - Yn) * w)[::-1])[::-1][1:]  # int_{z_f}^{z1} (1 - Y) dz
        dYdz = grad[:, k] / dc
        D_sf = ((1.0 - Yf) * left + Yf * right) / (2.0 * t * dYdz)
    sel = (Yf > _Y_LO) & (Yf < _Y_HI) & np.isfinite(D_bm) & np.isfinite(D_sf) & (grad[:, k] * dc > 0)
    return Interdiffusivity(z=zf[sel], x=xf[sel, k], Y=Yf[sel], D=D_bm[sel], D_sauer_freise=D_sf[sel])
