"""Results of diffusion runs: written while the run goes, read back as :class:`Result`.

- :mod:`~kinsim.storage.layout`: the format (datasets, units, reserved names, attributes);
- :mod:`~kinsim.storage.store`: :class:`RunStore`, what every store checks and records;
- :mod:`~kinsim.storage.writer`: :class:`ResultWriter`, the HDF5 result file;
- :mod:`~kinsim.storage.memory`: :class:`MemoryStore`, the same held in memory;
- :mod:`~kinsim.storage.checkpoint`: the stepper state for ``kinsim run --resume``;
- :mod:`~kinsim.storage.lock`: one writer per result file (and sweep directory);
- :mod:`~kinsim.storage.existing`: what becomes of a file already at a result's path;
- :mod:`~kinsim.storage.room`: the disk room of a result file, checked and reserved;
- :mod:`~kinsim.storage.reader`: :class:`Result`, :func:`read_result`, :func:`last_state`;
- :mod:`~kinsim.storage.xarray`: ``Result.to_xarray()`` (imported when used).
"""

from .checkpoint import read_checkpoint
from .existing import case_identity
from .layout import FORMAT, FORMAT_VERSION, STATUSES
from .lock import WriterLock, refuse_if_busy
from .memory import MemoryStore
from .reader import Result, last_state, read_result
from .store import RunStore
from .writer import ResultWriter

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "STATUSES",
    "MemoryStore",
    "Result",
    "ResultWriter",
    "RunStore",
    "WriterLock",
    "case_identity",
    "last_state",
    "read_checkpoint",
    "read_result",
    "refuse_if_busy",
]
