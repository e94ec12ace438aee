"""Exceptions of kinsim.

Every error a user can cause derives from :class:`KinsimError`; the command line turns
them into one line on stderr and exit status 2.  Errors carry the context that locates
the problem (file, key, parameter, node, composition, temperature) in their message.
"""

from __future__ import annotations


class KinsimError(Exception):
    """Base class of every error kinsim reports to its user."""


class CaseError(KinsimError, ValueError):
    """A case file (or command-line input) is malformed or inconsistent."""


class DatabaseError(KinsimError, ValueError):
    """A thermodynamic or mobility database cannot be read or represented."""


class InputError(KinsimError, ValueError):
    """A value given to kinsim is out of range or names something that does not exist."""


class ConvergenceError(KinsimError, RuntimeError):
    """A numerical solve did not converge; the message names where and why."""


class ResultFileError(KinsimError, ValueError):
    """A result file is not kinsim's, or is incomplete."""
