"""A summary metric of a sweep directory against a varied key (``kinsim plot DIR``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .directory import STATUS_COMPLETED, read_index

__all__ = ["plot_metric"]

_SI_UNITS = {
    "temperature": "K",
    "duration": "s",
    "initial_step": "s",
    "length": "m",
    "position": "m",
    "inner_radius": "m",
    "molar_volume": "m^3/mol",
}


def _axis_label(key: str, si: bool) -> str:
    if not si:
        return key
    unit = _SI_UNITS.get(key.rsplit(".", 1)[-1])
    return f"{key} ({unit})" if unit else f"{key} (SI)"


def _metric_label(metric: str) -> str:
    if metric.startswith("penetration_") and metric.endswith("_m"):
        return f"penetration depth of {metric[len('penetration_') : -2]} (m)"
    if metric.startswith("phase_zone_") and metric.endswith("_m"):
        return f"depth of the {metric[len('phase_zone_') : -2]} zone (m)"
    return {
        "uphill_excursion": "largest uphill excursion (mole fraction)",
        "kirkendall_shift_m": "Kirkendall marker shift (m)",
        "driving_force_J_mol": "largest driving force of a more stable phase (J/mol of atoms)",
        "wall_s": "wall time per run (s)",
    }.get(metric, metric)


def plot_metric(directory, metric: str, against: str, ax=None):
    """Plot summary ``metric`` of the completed runs of the sweep in ``directory`` against
    the varied key ``against``; one line per combination of the other varied keys.
    Returns the matplotlib Axes.  Raises :class:`InputError` for a directory without an
    index, an unknown metric or a key the sweep does not vary."""
    idx = read_index(directory)
    cols = idx.columns
    if against not in idx.keys:
        raise InputError(f"--against {against}: not a key of this sweep; it varies {', '.join(idx.keys)}")
    metrics = [
        c
        for c in idx.order
        if c.startswith(("penetration_", "phase_zone_"))
        or c in ("uphill_excursion", "kirkendall_shift_m", "driving_force_J_mol", "wall_s")
    ]
    if metric not in metrics:
        raise InputError(f"--metric {metric}: unknown metric; choose from {', '.join(metrics)}")
    y = np.asarray(cols[metric], dtype=float)
    ok = (cols["status"] == STATUS_COMPLETED) & np.isfinite(y)
    given = cols[against]
    si = f"{against} (SI)" in cols
    if np.asarray(given).dtype.kind in "fiu":
        xs, categorical = np.asarray(given, dtype=float), None
    elif si:
        xs, categorical = np.asarray(cols[f"{against} (SI)"], dtype=float), None
    else:
        labels = list(dict.fromkeys(str(v) for v in given))
        xs = np.array([labels.index(str(v)) for v in given], dtype=float)
        categorical = labels
    if ax is None:
        # matplotlib is imported only when a figure is drawn (running a sweep needs none)
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4.5, 3.2), layout="constrained").add_subplot()
    others = [k for k in idx.keys if k != against]
    groups: dict[tuple, list[int]] = {}
    for i in range(len(idx)):
        groups.setdefault(tuple(str(cols[k][i]) for k in others), []).append(i)
    for g, members in groups.items():
        members = [i for i in members if ok[i]]
        if not members:
            continue
        members.sort(key=lambda i: xs[i])
        label = ", ".join(f"{k}={v}" for k, v in zip(others, g)) or None
        ax.plot(xs[members], y[members], "o-", label=label)
    if categorical is not None:
        ax.set_xticks(range(len(categorical)), categorical)
    ax.set_xlabel(_axis_label(against, si and categorical is None and np.asarray(given).dtype.kind not in "fiu"))
    ax.set_ylabel(_metric_label(metric))
    if others and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    n_bad = int((~ok).sum())
    ax.set_title(
        f"{Path(directory).name}: {int(ok.sum())} runs" + (f" ({n_bad} not completed)" if n_bad else ""),
        fontsize="small",
    )
    return ax
