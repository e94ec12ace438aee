"""Where the runs of a sweep run: local processes or a Dask cluster.

One top-level function, :func:`run_one`, runs a case and never raises for a failed run
(it returns status, error, wall time and metrics).  Locally it runs in a
``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (no fork of a
process that has numba/h5py state; numba kernels load from the disk cache in every
worker), ``--workers`` processes (default: the usable cores); a script that calls
:func:`~kinsim.sweep.run_sweep` needs the usual ``if __name__ == "__main__":`` guard of
spawned multiprocessing.  With ``--scheduler`` the same function goes to a
``distributed.Client`` (``submit`` + ``as_completed``); the workers must see the case, its
database and DIR at the same paths (a shared file system).  A worker that dies fails its
run (recorded), not the sweep.  Both executors yield ``(run, result dict)`` as runs finish
and stop (locally) or cancel (Dask) what is still running when they are closed.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..case import load_case
from ..errors import InputError, KinsimError
from ..storage import read_result
from .directory import STATUS_COMPLETED, STATUS_FAILED, one_line
from .metrics import run_metrics
from .plan import case_identity

__all__ = ["CONNECT_TIMEOUT", "connect", "dask_results", "default_workers", "local_results", "run_one"]

CONNECT_TIMEOUT = 5.0  # s, to reach a Dask scheduler


def run_one(case_path, overrides, out_file, expected_sha256=None) -> dict:
    """Run one case with ``overrides`` into ``out_file``; never raises for a failed run.

    Returns ``{"status": "completed"|"failed", "error": str, "wall_s": float,
    "metrics": dict, "steps": int}``.  Top level and picklable: the local process pool
    and Dask workers both call it.
    """
    t0 = time.perf_counter()
    out = {"status": STATUS_FAILED, "error": "", "wall_s": math.nan, "metrics": {}, "steps": 0}
    try:
        # the simulation (numba kernels) is imported when a run runs (the process that
        # plans a sweep loads it to check the runs, see .checks)
        from ..simulation import Simulation

        case = load_case(case_path, overrides=list(overrides))
        if expected_sha256 and case_identity(case) != expected_sha256:
            raise InputError(f"the case file {case_path} changed during the sweep")
        summary = Simulation(case).run(output=str(out_file), progress=False)
        out["steps"] = int(summary.steps)
        out["status"] = STATUS_COMPLETED
        try:
            out["metrics"] = run_metrics(read_result(out_file))
        except Exception as exc:  # a bug in a metric must not lose the run
            out["error"] = f"metrics: {type(exc).__name__}: {one_line(exc)}"
    except KinsimError as exc:  # ConvergenceError included: the result file says failed
        out["error"] = one_line(exc)
    except Exception as exc:  # an unexpected error fails this run, not the sweep
        out["error"] = f"internal error: {type(exc).__name__}: {one_line(exc)}"
    out["wall_s"] = time.perf_counter() - t0
    return out


def _worker_failed(exc: BaseException) -> dict:
    return {
        "status": STATUS_FAILED,
        "error": f"worker failed: {type(exc).__name__}: {one_line(exc)}",
        "wall_s": math.nan,
        "metrics": {},
    }


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def local_results(jobs, workers):
    """Yield (run, result dict) as the local process pool finishes them; ``jobs`` are
    ``(run, run_one arguments)``."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx)
    finished = False
    try:
        futures = {pool.submit(run_one, *args): run for run, args in jobs}
        for fut in as_completed(futures):
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # the worker died (BrokenProcessPool) or could not unpickle
                res = _worker_failed(exc)
            yield run, res
        finished = True
    finally:
        if not finished:  # interrupted (Ctrl-C, an error in the caller): stop the runs in progress too
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def connect(address: str, timeout: float | None = None):
    """A ``distributed.Client`` of the scheduler at ``address`` (``timeout`` s, default
    :data:`CONNECT_TIMEOUT`); InputError when it cannot be reached."""
    timeout = CONNECT_TIMEOUT if timeout is None else float(timeout)
    try:
        # distributed (Dask) is imported only for --scheduler: it is slow to import
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError(f"--scheduler needs the 'distributed' package ({exc})") from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:
        raise InputError(
            f"--scheduler {address}: cannot reach a Dask scheduler within {timeout:g} s "
            f"({type(exc).__name__}: {one_line(exc)})"
        ) from None


def dask_results(jobs, client):
    """Yield (run, result dict) as the Dask cluster of ``client`` finishes them."""
    from distributed import as_completed as dask_as_completed  # see connect()

    futures = {}
    for run, args in jobs:
        fut = client.submit(run_one, *args, pure=False, key=f"kinsim-{run.id}-{os.urandom(4).hex()}")
        futures[fut] = run
    try:
        with client.as_current():  # as_completed finds the client of the futures this way
            done = dask_as_completed(list(futures))
        for fut in done:
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # worker lost, task killed
                res = _worker_failed(exc)
            yield run, res
    finally:
        for fut in futures:
            fut.cancel()
