"""Running a sweep: plan, checks, directory, the runs on an executor, the index after each run.

Before anything runs or any file in DIR is written: the plan (every key and value), every
run's case against its database and the memory of the runs (:mod:`~kinsim.sweep.checks`),
the directory (:func:`~kinsim.sweep.directory.assign_runs`); then DIR is locked for the
whole sweep (a second sweep into it is refused), checked again under the lock together
with the disk room of the result files still to write, and only then written.

Run identity and reruns
    A run is *finished* when its result file exists, its status is ``completed`` and the
    resolved case stored in that file has the run's hash
    (:func:`~kinsim.sweep.plan.case_identity`); finished runs are skipped (their metrics
    are read back from the file).  Failed, interrupted, killed or missing runs are run
    again.

Interrupting a sweep (Ctrl-C) stops the runs in progress and leaves their rows ``pending``
in the index; running the same command again continues it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..case import from_toml
from ..errors import CaseError, InputError, KinsimError
from ..storage import read_result
from .checks import check_room, check_runs
from .directory import (
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PENDING,
    assign_runs,
    locked_directory,
    one_line,
    read_index,
    write_index,
    write_record,
)
from .executors import connect, dask_results, default_workers, local_results
from .metrics import TEXT_METRICS, metric_columns, run_metrics
from .plan import SweepPlan, SweepRun, case_identity, plan_sweep

__all__ = ["SweepSummary", "run_sweep"]


@dataclass
class SweepSummary:
    directory: Path
    total: int
    completed: int
    failed: int
    skipped: int  # finished runs found in DIR and not run again
    ran: int
    rows: list[dict] = field(default_factory=list)

    @property
    def failed_rows(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == STATUS_FAILED]


def _row(plan: SweepPlan, run: SweepRun) -> dict:
    row = {
        "run": run.id,
        "file": run.file,
        "status": STATUS_PENDING,
        "wall_s": None,
        "error": "",
        "case_sha256": run.sha256,
    }
    for k, v, res in zip(plan.keys, run.values, run.resolved):
        row[k] = v
        row[f"{k} (SI)"] = res
    for m in metric_columns(plan.components, plan.phases):
        row[m] = "" if m in TEXT_METRICS else None
    return row


def _previous_wall(directory: Path) -> dict[str, float]:
    try:
        idx = read_index(directory)
        return {h: float(w) for h, w in zip(idx.columns["case_sha256"], idx.columns["wall_s"])}
    except (KinsimError, KeyError):
        return {}


def _finished(directory: Path, run: SweepRun):
    """The Result of a finished run (completed, same resolved case), else None."""
    p = directory / run.file
    if not p.is_file():
        return None
    try:
        r = read_result(p)
    except (KinsimError, OSError):
        return None
    if r.status != STATUS_COMPLETED:
        return None
    try:
        same = case_identity(from_toml(r.case_toml, p)) == run.sha256
    except CaseError:  # a stored case that does not parse is not this run's
        return None
    return r if same else None


def run_sweep(
    case,
    vary,
    out_dir,
    *,
    zip: bool = False,
    sets=(),
    workers: int | None = None,  # noqa: A002
    scheduler: str | None = None,
    progress: bool = True,
    connect_timeout: float | None = None,
) -> SweepSummary:
    """Run a sweep (see :mod:`kinsim.sweep`).  ``vary``: ``"key=v1,v2"`` strings or
    ``(key, [values])`` pairs; ``sets`` (``--set``): ``"key=value"`` overrides for every
    run.  ``workers``: local processes (default: all usable cores); ``scheduler``: address
    of a Dask scheduler instead (``connect_timeout`` s to reach it).  Bad input raises a
    :class:`KinsimError` before anything runs; failed runs are recorded, not raised."""
    if scheduler is not None and workers is not None:
        raise InputError("give either --workers (local processes) or --scheduler (a Dask cluster), not both")
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"--workers must be a whole number of at least 1, got {workers!r}")
    if scheduler is not None and not str(scheduler).strip():
        raise InputError("--scheduler: give an address such as tcp://HOST:8786")
    plan = plan_sweep(case, vary, zip=zip, sets=sets)
    workers = workers or default_workers()
    sizes = check_runs(plan, None if scheduler is not None else workers)
    client = connect(str(scheduler).strip(), connect_timeout) if scheduler is not None else None
    try:
        assign_runs(plan, out_dir)  # a DIR that cannot hold this sweep is refused before it is created or locked
        with locked_directory(out_dir) as d:
            plan = assign_runs(plan, d)  # again under the lock: another sweep may have written sweep.json
            check_room(plan, sizes, d)
            write_record(plan, d)
            # absolute paths for the workers (a Dask worker need not share our working directory)
            return _execute(plan, d.resolve(), workers, client, progress)
    finally:
        if client is not None:
            client.close()


def _execute(plan: SweepPlan, directory: Path, workers: int, client, progress: bool) -> SweepSummary:
    walls = _previous_wall(directory)
    rows = {r.id: _row(plan, r) for r in plan.runs}
    jobs, skipped = [], 0
    for run in plan.runs:
        res = _finished(directory, run)
        row = rows[run.id]
        if res is not None:
            skipped += 1
            row["status"] = STATUS_COMPLETED
            row["wall_s"] = walls.get(run.sha256, res.timings.get("wall", math.nan))
            try:
                row.update(run_metrics(res))
            except Exception as exc:  # pragma: no cover - a metric bug
                row["error"] = f"metrics: {type(exc).__name__}: {one_line(exc)}"
        else:
            jobs.append((run, (str(plan.case_path), list(run.overrides), str(directory / run.file), run.sha256)))

    def ordered():
        return [rows[r.id] for r in plan.runs]

    write_index(directory, plan, ordered())
    bar = None
    if progress:
        bar = tqdm(total=len(plan.runs), initial=skipped, unit="run", desc="sweep", dynamic_ncols=True)
    failed = 0
    results = None
    try:
        if jobs:
            results = dask_results(jobs, client) if client is not None else local_results(jobs, workers)
            for run, res in results:
                row = rows[run.id]
                row["status"] = res["status"]
                row["error"] = res.get("error", "")
                row["wall_s"] = res.get("wall_s")
                row.update(res.get("metrics", {}))
                if res["status"] != STATUS_COMPLETED:
                    failed += 1
                write_index(directory, plan, ordered())
                if bar is not None:
                    bar.update(1)
                    if failed:
                        bar.set_postfix_str(f"failed={failed}")
    finally:
        if results is not None:
            results.close()  # at once: stops (local) or cancels (Dask) what is still running
        if bar is not None:
            bar.close()
        write_index(directory, plan, ordered())
    all_rows = ordered()
    done = sum(r["status"] == STATUS_COMPLETED for r in all_rows)
    return SweepSummary(
        directory=directory,
        total=len(all_rows),
        completed=done,
        failed=sum(r["status"] == STATUS_FAILED for r in all_rows),
        skipped=skipped,
        ran=len(jobs),
        rows=all_rows,
    )
