"""Exceptions of kinsim.

Every error a user can cause derives from :class:`KinsimError`; the command line turns
them into one line on stderr and exit status 2 (a run that started and failed,
:class:`ConvergenceError` or :class:`ResultWriteError`: exit status 1).  Errors carry the
context that locates the problem (file, key, parameter, node, composition, temperature)
in their message.
"""

from __future__ import annotations


class KinsimError(Exception):
    """Base class of every error kinsim reports to its user."""


class CaseError(KinsimError, ValueError):
    """A case file (or command-line input) is malformed or inconsistent."""

    #: True when the message already names the case file (the parser adds it otherwise)
    located: bool = False


class DatabaseError(KinsimError, ValueError):
    """A thermodynamic or mobility database cannot be read or represented."""


class InputError(KinsimError, ValueError):
    """A value given to kinsim is out of range or names something that does not exist."""


class ConvergenceError(KinsimError, RuntimeError):
    """A numerical solve did not converge; the message names where and why."""

    #: where and why a run failed (node or region, z, composition, reason), for the
    #: failure record of the result file; set only where the failure is located
    info: dict[str, object]


class ResultFileError(KinsimError, ValueError):
    """A result file is not kinsim's, or is incomplete."""


class OutputRefusedError(InputError):
    """The result cannot be written where asked (no room on its disk, another writer
    holds it); nothing was written and the file there is unchanged."""


class OutputBusyError(OutputRefusedError):
    """Another process is writing the result file (or sweep directory); the message names it."""


class ResultWriteError(KinsimError, RuntimeError):
    """Writing the result failed during the run (disk full, file too large, I/O error):
    the run stopped as failed and the file keeps its last complete snapshot."""


class KinsimNotice(UserWarning):
    """Something the user should know that is not an error (e.g. a file kept under a
    new name); the command line prints it as one ``kinsim: note:`` line."""


class KinsimWarning(UserWarning):
    """Base class of the warnings kinsim emits (the command line prints each as one line
    ``kinsim: warning: ...`` on stderr)."""


class StabilityWarning(KinsimWarning):
    """A one-phase run starts from compositions where its phase is not the stable state
    (another phase has a positive driving force there), or where some phases could not
    be checked."""
