"""The transport kernels against their definitions: the one Onsager coefficient function
(the three formulas it replaces: the cross term of a node, L'_ab of a node with the
diagonal, the cross term of a fixed boundary state), the two-state face flux (by hand,
and independent of the orientation), its derivative (difference quotients of the
flux, which is linear in the driving potentials) and the volume-fixed frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kinsim.kernels.codes import ONSAGER_ABSOLUTE, ONSAGER_DIAGONAL, ONSAGER_RELATIVE
from kinsim.kernels.flux import face_flux, face_flux_derivative, to_volume_frame
from kinsim.kernels.mobility import Onsager, onsager_coef

rng = np.random.default_rng(7)
N_COMP = 3
SUBST = np.array([1.0, 1.0, 0.0])  # two substitutionals and an interstitial
MATRIX = np.array([[0.0, 2e-21, -1e-21], [2e-21, 0.0, 3e-21], [-1e-21, 3e-21, 0.0]])
RELATIVE = np.array([[0.0, 0.3, -0.2], [0.3, 0.0, 0.5], [-0.2, 0.5, 0.0]])
FORMS = [Onsager(ONSAGER_DIAGONAL, np.zeros((3, 3))), Onsager(ONSAGER_ABSOLUTE, MATRIX),
         Onsager(ONSAGER_RELATIVE, RELATIVE)]


def lprime(onsager, L):
    """The full L' matrix of a state with diagonal L, by the definition (kinsim.case's
    OnsagerSpec): absolute cross terms, or r_ab sqrt(L_aa L_bb)."""
    n = L.shape[0]
    out = np.diag(L).astype(float)
    for a in range(n):
        for b in range(n):
            if a != b and onsager.form == ONSAGER_ABSOLUTE:
                out[a, b] = onsager.matrix[a, b]
            elif a != b and onsager.form == ONSAGER_RELATIVE:
                out[a, b] = onsager.matrix[a, b] * math.sqrt(L[a] * L[b])
    return out


@pytest.mark.parametrize("onsager", FORMS, ids=["diagonal", "absolute", "relative"])
def test_onsager_coefficient_is_the_definition(onsager):
    L = rng.uniform(1e-21, 1e-19, N_COMP)
    expect = lprime(onsager, L)
    got = np.array([[onsager_coef(onsager, L[a], L[b], a, b) for b in range(N_COMP)] for a in range(N_COMP)])
    np.testing.assert_array_equal(got, expect)


def _flux(onsager, La, Lb, Ma, Mb, ua, ub, dist):
    Jp = np.zeros(N_COMP)
    J = np.zeros(N_COMP)
    face_flux(onsager, SUBST, La, Lb, Ma, Mb, ua, ub, dist, Jp, J)
    return Jp, J


def _states():
    La, Lb = rng.uniform(1e-21, 1e-19, (2, N_COMP))
    Ma, Mb = rng.uniform(-5e4, 5e4, (2, N_COMP))
    ua, ub = rng.uniform(0.01, 0.9, (2, N_COMP))
    return La, Lb, Ma, Mb, ua, ub


@pytest.mark.parametrize("onsager", FORMS, ids=["diagonal", "absolute", "relative"])
def test_face_flux_by_hand_and_independent_of_orientation(onsager):
    La, Lb, Ma, Mb, ua, ub = _states()
    dist = 2.5e-6
    Jp, J = _flux(onsager, La, Lb, Ma, Mb, ua, ub, dist)
    Lf = 0.5 * (lprime(onsager, La) + lprime(onsager, Lb))
    Jp_hand = -Lf @ (Mb - Ma) / dist
    np.testing.assert_allclose(Jp, Jp_hand, rtol=1e-12, atol=0)
    np.testing.assert_allclose(J, Jp_hand - 0.5 * (ua + ub) * (SUBST @ Jp_hand), rtol=1e-12, atol=1e-30)
    # the same face seen from the other side (b first, the distance negated): the same
    # flux to the last bit (a fixed boundary state is state a on both sides of a specimen)
    Jp2, J2 = _flux(onsager, Lb, La, Mb, Ma, ub, ua, -dist)
    assert np.array_equal(Jp2, Jp) and np.array_equal(J2, J)


@pytest.mark.parametrize("onsager", FORMS, ids=["diagonal", "absolute", "relative"])
def test_face_flux_derivative_and_volume_frame_against_difference_quotients(onsager):
    La, Lb, Ma, Mb, ua, ub = _states()
    dist = 1e-6
    DM = rng.uniform(-1e5, 1e5, (N_COMP, N_COMP - 1))  # dM/du of a state
    for state, sign in (("a", 1.0), ("b", -1.0)):
        G = np.zeros((N_COMP, N_COMP - 1))
        face_flux_derivative(onsager, La, Lb, DM, dist, sign, G)
        Gv = G.copy()
        to_volume_frame(SUBST, ua, ub, Gv)
        Jp0, J0 = _flux(onsager, La, Lb, Ma, Mb, ua, ub, dist)
        for j in range(N_COMP - 1):
            h = 1e-3
            Ma2, Mb2 = (Ma + h * DM[:, j], Mb) if state == "a" else (Ma, Mb + h * DM[:, j])
            Jp1, J1 = _flux(onsager, La, Lb, Ma2, Mb2, ua, ub, dist)
            scale = np.abs(Jp0).max()
            np.testing.assert_allclose((Jp1 - Jp0) / h, G[:, j], rtol=1e-6, atol=1e-9 * scale / h)
            np.testing.assert_allclose((J1 - J0) / h, Gv[:, j], rtol=1e-6, atol=1e-9 * scale / h)
