"""Running a case: the kernel inputs from a Case (``setup``), the run loop with its
signals, progress, snapshots and checkpoints (``runner``), failures turned into
exceptions (``failures``) and resuming interrupted runs (``resume``)."""

from .resume import check_resumable
from .runner import RunSummary, Simulation

__all__ = ["RunSummary", "Simulation", "check_resumable"]
