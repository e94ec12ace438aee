"""One writer per result file (and per sweep directory).

:class:`WriterLock` is an exclusive ``fcntl.flock`` on a companion lock file: ``OUT.h5.lock``
next to a result file, ``DIR/.kinsim-sweep.lock`` in a sweep directory.  It is taken
before the guarded file is created, truncated or reopened, and held until the writer
closes it; a second writer is refused at once (no waiting) with an
:class:`~kinsim.errors.OutputBusyError` naming the file and the process that holds it.

- The lock file records its holder (pid, host, command, start time) for that message.
- The operating system releases an flock when its holder dies (Ctrl-C, SIGKILL, a
  crash), so a lock file left behind by a killed process blocks nobody: the next writer
  simply locks it again.
- The holder removes the lock file when it releases the lock (still holding it).  A
  writer that opened the file just before it was removed locks an unlinked file; it
  notices (the path no longer leads to the file it locked) and starts over.
- On a file system without flock (some network file systems answer ENOLCK) the writer
  goes on unlocked, with a warning.

Locks are advisory: they keep kinsim processes (``kinsim run``, ``--resume``,
``kinsim.run(output=...)``, sweeps) from writing the same file; other programs are not
stopped.  flock works across processes on one machine and, on Linux, across the clients
of an NFS share (emulated with byte-range locks).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import warnings
from pathlib import Path

from kinsim.errors import KinsimNotice, OutputBusyError, ResultFileError

from .layout import now

__all__ = ["LOCK_SUFFIX", "WriterLock", "lock_path_of", "refuse_if_busy"]

LOCK_SUFFIX = ".lock"
# flock answers these on file systems that do not support it
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def lock_path_of(path) -> Path:
    """The lock file of the result file ``path``: ``path`` + '.lock'."""
    p = Path(path)
    return p.with_name(p.name + LOCK_SUFFIX)


def _holder_text(fd: int) -> str:
    """Who holds the lock, as recorded in the lock file (read through ``fd``)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another process (it has not recorded its pid yet)"
    text = f"process {info['pid']} on host {info.get('host', '?')}"
    details = [str(info[k]) for k in ("command", "since") if info.get(k)]
    if details:
        text += f" ({', since '.join(details)})" if len(details) == 2 else f" ({details[0]})"
    return text


class WriterLock:
    """An exclusive lock on ``target`` (a result file or a sweep directory), held through
    the lock file ``lock_path``.  Take it with :meth:`acquire`; :meth:`release` (or
    leaving a ``with`` block) gives it back and removes the lock file."""

    def __init__(self, target: Path, lock_path: Path, fd: int | None):
        self.target = target
        self.lock_path = lock_path
        self._fd = fd

    @classmethod
    def acquire(cls, target, lock_path=None, what: str = "result file") -> WriterLock:
        """Lock ``target`` (``what`` names it in messages) or raise
        :class:`OutputBusyError` naming the holder; :class:`ResultFileError` when the lock
        file cannot be created (a missing or read-only folder)."""
        target = Path(target)
        lock_path = Path(lock_path) if lock_path is not None else lock_path_of(target)
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise ResultFileError(
                    f"{what} {target} cannot be written: cannot create its lock file "
                    f"{lock_path} ({exc.strerror or exc})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder_text(fd)
                os.close(fd)
                raise OutputBusyError(
                    f"{what} {target} is being written by {holder}; wait until it has finished, or write elsewhere"
                ) from None
            except OSError as exc:
                os.close(fd)
                if exc.errno in _UNSUPPORTED:
                    warnings.warn(
                        f"{lock_path}: this file system cannot lock files ({exc.strerror}); a second "
                        f"writer of {target} would not be refused",
                        KinsimNotice,
                        stacklevel=2,
                    )
                    return cls(target, lock_path, None)
                raise ResultFileError(f"{what} {target} cannot be locked ({exc.strerror or exc})") from None
            # the lock file may have been removed by a holder releasing it after we opened it
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": now(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "",
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        except OSError:
            pass  # the lock holds without the record; a refused writer then names no pid
        return cls(target, lock_path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and unlock; idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if os.stat(self.lock_path).st_ino == os.fstat(fd).st_ino:
                os.unlink(self.lock_path)
        except OSError:
            pass
        os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):  # pragma: no cover - a writer that was never closed
        try:
            self.release()
        except Exception:
            pass


def refuse_if_busy(path, what: str = "result file") -> None:
    """Raise :class:`OutputBusyError` when another process holds the lock of ``path``
    (e.g. before reading the checkpoint of a file to resume; the writer takes the lock
    itself when it reopens the file)."""
    WriterLock.acquire(path, what=what).release()
