"""Parameter sweeps: many runs of one case with some keys varied, on local processes or a
Dask cluster, with an index of the runs and their summary metrics.

``kinsim sweep CASE.toml --vary KEY=V1,V2,... [--vary ...] [--zip] [--workers N |
--scheduler tcp://HOST:PORT] -o DIR`` calls :func:`run_sweep`.

- :mod:`~kinsim.sweep.plan`: ``--vary`` values, the runs and their validation before
  anything runs or any file is written; a run's identity (hash of its resolved case);
- :mod:`~kinsim.sweep.checks`: every run's case against its database, the memory and
  disk the runs need, before the first one starts;
- :mod:`~kinsim.sweep.directory`: the directory DIR (locked: one sweep at a time),
  ``sweep.json`` and the index (``index.csv``, ``index.h5``), rewritten after every run;
- :mod:`~kinsim.sweep.executors`: local processes or a Dask cluster
  (``--scheduler``, reached within 5 s before the directory is touched);
- :mod:`~kinsim.sweep.metrics`: the summary metrics of a run (exact definitions there);
- :mod:`~kinsim.sweep.runner`: :func:`run_sweep` (reruns skip finished runs);
- :mod:`~kinsim.sweep.plot`: :func:`plot_metric`.

Exit status of ``kinsim sweep``: 0 when every run completed, 1 when some failed (they are
in the index with their error), 2 for bad input, a run that cannot run (a temperature
outside the database's range, a composition that is not a state of the phase, not enough
memory or disk) or a DIR another sweep is writing (nothing was run), 130 when interrupted.
"""

from .directory import INDEX_CSV, INDEX_H5, SWEEP_JSON, SweepIndex, prepare_directory, read_index
from .metrics import kirkendall_shift, penetration_depths, run_metrics, uphill_excursion
from .plan import SweepPlan, SweepRun, parse_vary, plan_sweep, split_values
from .plot import plot_metric
from .runner import SweepSummary, run_sweep

__all__ = [
    "INDEX_CSV",
    "INDEX_H5",
    "SWEEP_JSON",
    "SweepIndex",
    "SweepPlan",
    "SweepRun",
    "SweepSummary",
    "kirkendall_shift",
    "parse_vary",
    "penetration_depths",
    "plan_sweep",
    "plot_metric",
    "prepare_directory",
    "read_index",
    "run_metrics",
    "run_sweep",
    "split_values",
    "uphill_excursion",
]
