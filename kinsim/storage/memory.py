"""A run's result held in memory: :class:`MemoryStore` has the interface of
:class:`~kinsim.storage.writer.ResultWriter` (what ``Simulation.run(storage=...)``
expects) and writes no file; :meth:`MemoryStore.result` gives the same :class:`Result`
that :func:`~kinsim.storage.read_result` gives for the file the run would have written
(the same arrays, parameters and attributes, ``path`` None).
"""

from __future__ import annotations

import numpy as np

from kinsim.errors import InputError
from kinsim.resources import check_memory, resized

from .layout import SERIES, as_read_back, extra_dimensions
from .reader import Result
from .store import RunStore


def _parameter_as_read_back(arr: np.ndarray):
    """A parameter array as :func:`read_result` gives it back from a file."""
    if arr.dtype.kind in "US":
        texts = np.asarray(arr.astype(str).tolist(), dtype=object)
        return texts if texts.ndim else str(texts[()])
    return arr.copy() if arr.ndim else arr[()]


class MemoryStore(RunStore):
    """Keeps a run's snapshots, status and checkpoint in memory (see the module docstring).

    ``Simulation.run`` creates its store itself, from the class it is given; to get hold
    of that store, pass a class made by :meth:`collecting`::

        stores = []
        Simulation(case).run(storage=MemoryStore.collecting(stores))
        result = stores[0].result()
    """

    # the list each new store appends itself to (None: not collected); see collecting()
    sink: list | None = None

    @classmethod
    def collecting(cls, sink: list) -> type[MemoryStore]:
        """A MemoryStore class whose new instances append themselves to ``sink``."""
        return type(cls.__name__, (cls,), {"sink": sink, "__doc__": cls.__doc__})

    @classmethod
    def reopen(cls, path):
        raise InputError(
            f"{path}: a run held in memory cannot be resumed; run it again (or run it to a "
            "file, which `kinsim run --resume` can continue)"
        )

    # ------------------------------------------------------------------ the RunStore backend
    def _create(self, z, faces, attrs, parameters):
        if self.size is not None:  # the snapshots held in memory must fit too
            check_memory(resized(self.size, in_memory=True))
        self.attrs = {key: as_read_back(value) for key, value in attrs.items()}
        self._z, self._faces = z.copy(), faces.copy()
        self._parameters = {name: _parameter_as_read_back(arr) for name, arr in parameters.items()}
        self._times: list[float] = []
        self._series: dict[str, list[np.ndarray]] = {name: [] for name in SERIES}
        self._extras: dict[str, list[np.ndarray]] = {}
        self._axis_names: set[str] = set()  # the axes of extras a file would hold as datasets
        self.checkpoint: dict = {}
        if self.sink is not None:
            self.sink.append(self)

    def _taken(self, name):
        return name in self._axis_names

    def _extra_shape(self, name):
        rows = self._extras.get(name)
        return None if rows is None else rows[0].shape

    def _write_snapshot(self, k, t, arrays, extra):
        for name, arr in extra.items():
            if name not in self._extras:  # NaN at the earlier snapshots
                self._extras[name] = [np.full(arr.shape, np.nan) for _ in range(k)]
                sizes = self.dimension_sizes
                self._axis_names.update(d for d in extra_dimensions(name, arr.shape, sizes) if d not in sizes)
        for name, arr in arrays.items():
            self._series[name].append(arr.copy())
        for name, rows in self._extras.items():
            rows.append(extra[name].copy() if name in extra else np.full(rows[0].shape, np.nan))
        self._times.append(t)

    def _write_checkpoint(self, state):
        self.checkpoint = {
            key: np.array(value) if np.ndim(value) else np.asarray(value).item() for key, value in state.items()
        }

    def _set_attrs(self, attrs):
        for key, value in attrs.items():
            self.attrs[key] = as_read_back(value)

    def _flush(self):
        pass

    def _close(self):
        pass

    # ------------------------------------------------------------------ reading
    def result(self) -> Result:
        """The result so far (a copy: the store may go on); needs at least one snapshot."""
        if not self._times:
            raise InputError(
                f"the run held in memory has no snapshot (status {self._status!r}): it stopped before its first output"
            )
        attrs = {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in self.attrs.items()}
        return Result(
            path=None,
            time=np.array(self._times),
            z=self._z.copy(),
            faces=self._faces.copy(),
            components=list(self.components),
            x=np.stack(self._series["x"]),
            mu=np.stack(self._series["mu"]),
            flux=np.stack(self._series["flux"]),
            markers=np.stack(self._series["markers"]),
            attrs=attrs,
            status=str(attrs["status"]),
            case_toml=str(attrs["case"]),
            parameters={name: (v.copy() if isinstance(v, np.ndarray) else v) for name, v in self._parameters.items()},
            extra={name: np.stack(rows) for name, rows in self._extras.items()},
            extra_units={name: self._extra_units.get(name, "") for name in self._extras},
        )
