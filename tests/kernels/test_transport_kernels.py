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
from kinsim.kernels.mobility import Material, Onsager, onsager_coef

rng = np.random.default_rng(7)
N_COMP = 3
SUBST = np.array([1.0, 1.0, 0.0])  # two substitutionals and an interstitial
MATRIX = np.array([[0.0, 2e-21, -1e-21], [2e-21, 0.0, 3e-21], [-1e-21, 3e-21, 0.0]])
RELATIVE = np.array([[0.0, 0.3, -0.2], [0.3, 0.0, 0.5], [-0.2, 0.5, 0.0]])
FORMS = [
    Onsager(ONSAGER_DIAGONAL, np.zeros((3, 3))),
    Onsager(ONSAGER_ABSOLUTE, MATRIX),
    Onsager(ONSAGER_RELATIVE, RELATIVE),
]
MATERIAL = Material(Vs=7e-6, mob_scale=np.ones(N_COMP), subst=SUBST)


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
    face_flux(onsager, MATERIAL, La, Lb, Ma, Mb, ua, ub, dist, 1000.0, Jp, J)
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
        face_flux_derivative(onsager, MATERIAL.face_mean, La, Lb, DM, dist, sign, G)
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


def test_boundary_face_jacobians_against_difference_quotients():
    """A fixed potential of the interstitial on the left (its L' proportional to its u, as
    the mobility model has it) and a fixed composition on the right: the Jacobian blocks
    of the boundary faces are the derivatives of their fluxes, the fixed-composition face
    with L' and the frame factor frozen as at an interior face."""
    from kinsim.kernels.boundary import BoundaryParams, BoundaryState, boundary_fluxes, boundary_jacobian
    from kinsim.kernels.codes import BC_CLOSED, BC_COMPOSITION, BC_POTENTIAL
    from kinsim.kernels.flux import Grid
    from kinsim.kernels.mobility import Material

    N, n, T = 3, N_COMP, 1200.0
    faces = np.array([0.0, 1e-6, 3e-6, 4e-6])
    z = 0.5 * (faces[1:] + faces[:-1])
    grid = Grid(
        z=z,
        dz=np.diff(z),
        faces=faces,
        area=np.ones(N + 1),
        volume=np.diff(faces),
        bnd_dist=np.array([z[0] - faces[0], faces[-1] - z[-1]]),
    )
    material = Material(Vs=7e-6, mob_scale=np.ones(n), subst=SUBST)
    onsager = FORMS[0]
    kind = np.array([[BC_CLOSED, BC_CLOSED, BC_POTENTIAL], [BC_COMPOSITION] * n])
    bparams = BoundaryParams(
        kind=kind,
        value_ptr=np.zeros(2 * n + 1, dtype=np.int64),
        value_time=np.zeros(1),
        value=np.zeros(1),
        ref_ptr=np.zeros(2 * n + 1, dtype=np.int64),
        ref_T=np.zeros(1),
        ref_G=np.zeros(1),
    )
    bstate = BoundaryState(
        mu=np.zeros((2, n)),
        phi=np.zeros((2, n)),
        drive=rng.uniform(-1e3, 1e3, (2, n)),
        L=rng.uniform(1e-21, 1e-19, (2, n)),
        u=np.array([[0.0] * n, [0.6, 0.4, 0.05]]),
        flux=np.zeros((2, n)),
    )
    c = rng.uniform(1e-20, 1e-19, n)  # L'_k = c_k u_k
    M0 = rng.uniform(-2e3, 2e3, (N, n))
    DMDU = rng.uniform(-5e4, 5e4, (N, n, n - 1))
    U0 = np.tile([0.7, 0.3, 0.04], (N, 1))

    def state(U):
        M = M0 + np.einsum("ikj,ij->ik", DMDU, U[:, 1:] - U0[:, 1:])
        return c * U, M

    def fluxes(U, L, M):
        Jp, J = np.zeros((N + 1, n)), np.zeros((N + 1, n))
        boundary_fluxes(grid, material, onsager, bparams, bstate, U, L, M, T, Jp, J)
        return J

    L0, Mz = state(U0)
    Gm, Gp = np.zeros((N + 1, n, n - 1)), np.zeros((N + 1, n, n - 1))
    boundary_jacobian(grid, material, onsager, bparams, bstate, U0, DMDU, L0, Mz, T, Gm, Gp)
    J0 = fluxes(U0, L0, Mz)
    assert J0[0, 2] != 0.0 and J0[0, 1] == 0.0 and J0[0, 0] == -J0[0, 2] * SUBST[2]
    for j in range(n - 1):
        h = 1e-7
        Up, Um = U0.copy(), U0.copy()
        Up[:, j + 1] += h
        Um[:, j + 1] -= h
        # left: a fixed potential, L' and the frame move with u
        dJ = (fluxes(Up, *state(Up)) - fluxes(Um, *state(Um))) / (2 * h)
        np.testing.assert_allclose(dJ[0], Gp[0, :, j], rtol=1e-5, atol=1e-9 * np.abs(J0[0]).max() / h)
        # right: a fixed composition, L' and the frame factor frozen
        dJf = (fluxes(U0, L0, state(Up)[1]) - fluxes(U0, L0, state(Um)[1])) / (2 * h)
        np.testing.assert_allclose(dJf[N], Gm[N, :, j], rtol=1e-5, atol=1e-9 * np.abs(J0[N]).max() / h)
