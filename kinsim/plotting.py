"""Plots of result files (matplotlib).  Library functions take and return Axes; they read
result files only (never kernels)."""

from __future__ import annotations

import numpy as np

from .storage import read_result
from .units import ATOMIC_WEIGHTS


def to_weight_percent(x, components):
    w = np.array([ATOMIC_WEIGHTS[c] for c in components])
    m = x * w
    return 100.0 * m / m.sum(axis=-1, keepdims=True)


def uphill_mask(r, k, it=-1):
    """Nodes where component k's volume-fixed flux runs up its own concentration gradient."""
    J = r.flux[it, :, k]
    Jn = 0.5 * (J[1:] + J[:-1])  # at nodes
    g = np.gradient(r.x[it, :, k], r.z)
    scale = np.abs(Jn).max() or 1.0
    return (Jn * g > 0) & (np.abs(Jn) > 1e-3 * scale)


def _time_label(t):
    for unit, s in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if t >= s or unit == "s":
            return f"{t / s:.3g} {unit}"


def plot_profiles(result, ax=None, component=None, times=None, unit="mole-fraction", mark_uphill=True):
    """Composition of one component against distance (mm) at chosen times on ``ax``."""
    import matplotlib.pyplot as plt

    r = read_result(result) if isinstance(result, (str, bytes)) or hasattr(result, "__fspath__") else result
    comps = list(r.components)
    k = comps.index(component) if component else 1
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 2.6), constrained_layout=True)
    idx = _time_indices(r, times)
    vals = to_weight_percent(r.x, comps) if unit == "weight-percent" else r.x
    zmm = r.z * 1e3
    ax.plot(zmm, vals[0, :, k], "--", color="0.5", lw=1.0, label="initial")
    cmap = plt.get_cmap("viridis")
    for j, it in enumerate(idx):
        if it == 0:
            continue
        c = cmap(0.15 + 0.7 * j / max(len(idx) - 1, 1))
        ax.plot(zmm, vals[it, :, k], color=c, lw=1.4, label=_time_label(r.time[it]))
    if mark_uphill and len(idx):
        up = uphill_mask(r, k, idx[-1])
        if up.any():
            y = np.where(up, vals[idx[-1], :, k], np.nan)
            ax.plot(zmm, y, color="crimson", lw=3.0, alpha=0.45, label="uphill (flux up its gradient)")
    for m in np.atleast_1d(r.markers[0]):
        ax.axvline(m * 1e3, color="0.3", lw=0.8, ls=":")
    ax.set_xlabel("distance z (mm)")
    ax.set_ylabel(f"{comps[k]} ({'wt%' if unit == 'weight-percent' else 'mole fraction'})")
    ax.legend(fontsize=7, frameon=False)
    return ax


def _time_indices(r, times):
    if times is None:
        n = len(r.time)
        return sorted({0, n // 4, n // 2, n - 1} - {0}) or [n - 1]
    return sorted({int(np.argmin(np.abs(r.time - t))) for t in times})


def figure_profiles(path, out, components=None, times=None, unit="mole-fraction"):
    """One panel per component (the dependent one left out unless asked for), saved to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = read_result(path)
    comps = list(r.components)
    show = [c.upper() for c in components] if components else comps[1:]
    fig, axes = plt.subplots(len(show), 1, figsize=(3.5, 2.3 * len(show) + 0.4), sharex=True,
                             constrained_layout=True, squeeze=False)
    for ax, c in zip(axes[:, 0], show):
        plot_profiles(r, ax=ax, component=c, times=times, unit=unit)
        if ax is not axes[-1, 0]:
            ax.set_xlabel("")
    title = r.attrs.get("title", "")
    T = r.attrs.get("temperature_K")
    if title:
        fig.suptitle(title + (f", {T:g} K" if T else ""), fontsize=8)
    fig.savefig(out, dpi=200)
    plt.close(fig)
    return out
