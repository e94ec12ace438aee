"""Disk room for a result file: checked before the file is written, reserved while it grows.

- Before a result file is created (or reopened by ``--resume``), the estimated size of
  the whole result (:func:`kinsim.resources.estimate`) must fit in
  :data:`~kinsim.resources.DISK_FRACTION` of the free disk of its folder and in the
  file-size limit; else :class:`~kinsim.errors.OutputRefusedError` and nothing is written.
- Once created, the file's blocks are reserved up to that size (``posix_fallocate``), so
  that other programs filling the disk during a long run cannot take them.  HDF5 appends
  inside the reserved blocks (it allocates from its own end of allocation, not from the
  end of the file); when the writer closes the file it gives back the unused rest (HDF5
  truncates a file to its end of allocation when it flushes a file it opened for writing).
- Before every snapshot and checkpoint the writer calls :meth:`Reservation.ensure`: when
  the reservation cannot hold the next write (the estimate was short) it is extended, and
  when that is impossible (disk full, file-size limit) the write is refused before any
  byte of it is written, so the file keeps its last complete snapshot and checkpoint.
"""

from __future__ import annotations

import errno
import os
import shutil

from kinsim.resources import existing_folder, file_size_limit, format_bytes

__all__ = ["WRITE_MARGIN", "Reservation"]

#: bytes of HDF5 metadata a snapshot or checkpoint may add besides its data (B-tree
#: nodes, object header changes)
WRITE_MARGIN = 64 * 1024


class Reservation:
    """The blocks reserved for the file open as ``fd`` at ``path`` (bytes from its start)."""

    def __init__(self, path, fd: int):
        self.path = path
        self.fd = fd
        self.reserved = 0

    def reserve(self, size: int) -> None:
        """Allocate the file's blocks up to ``size`` bytes (never beyond the file-size
        limit); raises OSError (ENOSPC, EFBIG) when the disk cannot hold them."""
        size = int(size)
        limit = file_size_limit()
        if limit is not None and size > limit:
            raise OSError(
                errno.EFBIG, f"{format_bytes(size)} exceed the file-size limit (ulimit -f) of {format_bytes(limit)}"
            )
        if size <= self.reserved:
            return
        try:
            os.posix_fallocate(self.fd, 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise OSError(
                    exc.errno,
                    f"cannot reserve {format_bytes(size)} on the disk of {existing_folder(self.path)}: {exc.strerror}",
                ) from None
            # no preallocation on this file system: at least the free space must be there
            free = shutil.disk_usage(existing_folder(self.path)).free
            if size - os.fstat(self.fd).st_size > free:
                raise OSError(
                    errno.ENOSPC,
                    f"{format_bytes(size)} do not fit in the {format_bytes(free)} free "
                    f"on the disk of {existing_folder(self.path)}",
                ) from None
        self.reserved = size

    def ensure(self, end: int, need: int) -> None:
        """Make sure ``need`` more bytes fit after the file's end of allocation ``end``
        (HDF5's ``get_filesize``), extending the reservation by at least a quarter."""
        want = int(end) + int(need) + WRITE_MARGIN
        if want <= self.reserved:
            return
        limit = file_size_limit()
        target = max(want, self.reserved + self.reserved // 4)
        if limit is not None:
            target = min(target, max(want, limit))
        self.reserve(target)
