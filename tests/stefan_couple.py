"""The binary two-phase Stefan couple shared by the homogenization tests: the exact
solution (tests/simulation/test_homogenization_stefan.py explains it) and the case
that runs it (database tests/databases/two-phase-ab.tdb)."""

from __future__ import annotations

import numpy as np
from conftest import TESTS_DB
from scipy.optimize import brentq
from scipy.special import erf

CA, CB = 0.1, 0.9  # far-field x_B of the alpha and beta ends
CAB, CBA = 0.3, 0.6  # tie-line ends (fixed by the database)
DA, DB = 1e-14, 1e-13  # m^2/s
LENGTH = 4e-4  # m, weld in the middle
DURATION = 2e4  # s: 2 sqrt(D_b t) = 0.09 mm, far from the closed ends


def _coefficients(k):
    Ba = (CAB - CA) / (1.0 + erf(k / np.sqrt(DA)))
    Bb = (CB - CBA) / (1.0 - erf(k / np.sqrt(DB)))
    return Ba, Bb


def _balance(k):
    Ba, Bb = _coefficients(k)
    return (
        (CAB - CBA) * k
        + Ba * np.sqrt(DA / np.pi) * np.exp(-k * k / DA)
        - Bb * np.sqrt(DB / np.pi) * np.exp(-k * k / DB)
    )


def stefan_k() -> float:
    """The parabolic constant k (m s^-1/2) of the interface s = 2 k sqrt(t)."""
    return brentq(_balance, -4.0 * np.sqrt(DA), 4.0 * np.sqrt(DA), xtol=1e-22)


def exact_profile(z, t, k):
    """x_B at z (m from the weld) and t (s)."""
    Ba, Bb = _coefficients(k)
    s = 2.0 * k * np.sqrt(t)
    left = CA + Ba * (1.0 + erf(z / (2.0 * np.sqrt(DA * t))))
    right = CB - Bb * (1.0 - erf(z / (2.0 * np.sqrt(DB * t))))
    return np.where(z < s, left, right)


def stefan_case(nodes):
    """The alpha | beta couple as a case dict (homogenization, ``nodes`` nodes)."""
    return {
        "title": "Stefan couple (fictitious A-B)",
        "thermo": {
            "database": str(TESTS_DB / "two-phase-ab.tdb"),
            "phases": ["ALPHA", "BETA"],
            "components": ["A", "B"],
        },
        "homogenization": {"averaging": "wiener-upper"},
        "conditions": {"temperature": "1000 K", "duration": f"{DURATION} s"},
        "grid": {"geometry": "planar", "length": f"{LENGTH} m", "nodes": nodes, "spacing": "linear"},
        "initial": {
            "type": "step",
            "position": f"{LENGTH / 2} m",
            "unit": "mole-fraction",
            "left": {"B": CA},
            "right": {"B": CB},
        },
        "boundary": {"left": {"type": "closed"}, "right": {"type": "closed"}},
        "solver": {"method": "implicit", "rtol": 1e-5},
        "output": {"snapshots": 4},
    }
