"""Results of diffusion runs: written while the run goes, read back as :class:`Result`.

- :mod:`~kinsim.storage.layout`: the format (datasets, units, reserved names, attributes);
- :mod:`~kinsim.storage.store`: :class:`RunStore`, what every store checks and records;
- :mod:`~kinsim.storage.writer`: :class:`ResultWriter`, the HDF5 result file;
- :mod:`~kinsim.storage.memory`: :class:`MemoryStore`, the same held in memory;
- :mod:`~kinsim.storage.checkpoint`: the stepper state for ``kinsim run --resume``;
- :mod:`~kinsim.storage.reader`: :class:`Result`, :func:`read_result`, :func:`last_state`;
- :mod:`~kinsim.storage.xarray`: ``Result.to_xarray()`` (imported when used).
"""

from .checkpoint import read_checkpoint
from .layout import FORMAT, FORMAT_VERSION, STATUSES
from .memory import MemoryStore
from .reader import Result, last_state, read_result
from .store import RunStore
from .writer import ResultWriter

__all__ = ["FORMAT", "FORMAT_VERSION", "STATUSES", "MemoryStore", "Result", "ResultWriter", "RunStore",
           "last_state", "read_checkpoint", "read_result"]
