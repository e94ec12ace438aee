"""Every run of a sweep checked before the first one starts.

Each run's case goes through what ``kinsim run`` checks before it runs
(:class:`~kinsim.simulation.Simulation` and its ``check_compositions``): its temperatures within the range of the
database's parameters, its initial and boundary compositions single-phase states of the
phase, the memory of its arrays (:mod:`kinsim.resources`).  Then the sweep as a whole:
the runs that local worker processes run at the same time must fit in memory together
(:func:`check_runs`), and the result files of the runs still to run must fit on the disk
of DIR (:func:`check_room`).  A problem is a :class:`~kinsim.errors.KinsimError` naming
the run, raised before anything in DIR is written.

With ``--scheduler`` the runs go to a Dask cluster, but they are checked here all the
same: a run too large for the machine that starts the sweep is refused.
"""

from __future__ import annotations

from pathlib import Path

from ..case import load_case
from ..errors import InputError, KinsimError
from ..resources import MEMORY_FRACTION, RunSize, available_memory, check_disk, format_bytes
from .plan import SweepPlan, SweepRun

__all__ = ["check_room", "check_runs"]


def _label(plan: SweepPlan, run: SweepRun) -> str:
    """'sweep run with KEY=V, ...' (the varied values of ``run``)."""
    return f"sweep run with {', '.join(run.overrides[len(plan.fixed) :])}"


def check_runs(plan: SweepPlan, workers: int | None) -> dict[str, RunSize]:
    """Check every run's case as ``kinsim run`` does before it runs, and, for ``workers``
    local processes (None: a Dask cluster, not checked here), the memory of the runs
    that run at the same time.  Returns the size of each run by its hash."""
    # the simulation (numba kernels, the phase) is loaded only when a sweep is checked
    from ..simulation import Simulation

    sizes: dict[str, RunSize] = {}
    for run in plan.runs:
        try:
            sim = Simulation(load_case(plan.case_path, overrides=list(run.overrides)))
            sim.check_compositions()
            sizes[run.sha256] = sim.size
        except KinsimError as exc:
            raise type(exc)(f"{_label(plan, run)}: {exc}") from None
    if workers is not None:
        _check_together(plan, sizes, min(workers, len(plan.runs)))
    return sizes


def _check_together(plan: SweepPlan, sizes: dict[str, RunSize], workers: int) -> None:
    """The ``workers`` largest runs must fit in memory at the same time."""
    largest = sorted(plan.runs, key=lambda r: -sizes[r.sha256].memory_bytes)
    need = lambda k: sum(sizes[r.sha256].memory_bytes for r in largest[:k])  # noqa: E731
    avail = available_memory()
    budget = MEMORY_FRACTION * avail
    if need(workers) <= budget:
        return
    fit = max(k for k in range(1, workers + 1) if need(k) <= budget or k == 1)
    top = largest[0]
    raise InputError(
        f"{workers} sweep runs at a time need about {format_bytes(need(workers))} of memory together "
        f"(the largest, {_label(plan, top)[len('sweep run with ') :]}: "
        f"{format_bytes(sizes[top.sha256].memory_bytes)}), more than {MEMORY_FRACTION:.0%} of the "
        f"{format_bytes(avail)} available; run at most {fit} at a time (--workers {fit})"
    )


def check_room(plan: SweepPlan, sizes: dict[str, RunSize], directory: Path) -> None:
    """The result files of the runs still to run must fit on the disk of ``directory``
    (a run's earlier file, which its rerun overwrites or which is finished, counts as
    written)."""
    need, todo = 0, 0
    for run in plan.runs:
        p = directory / run.file
        written = p.stat().st_size if p.is_file() else 0
        more = sizes[run.sha256].file_bytes - written
        if more > 0:
            need += more
            todo += 1
    if need:
        check_disk(
            need,
            directory / plan.runs[0].file,
            f"the result files of {todo} sweep runs",
            "vary fewer values, use fewer output.snapshots or grid.nodes, or give a directory on another disk (-o)",
        )
