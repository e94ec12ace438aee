"""The free energy of a diffusion state, stored with every snapshot (``/free_energy``).

    F = sum_i V_i G_m,i S_i / V_s  +  sum_faces A_f dz_f (1/2) g_f^T kappa g_f / V_s,

with V_i the cell volumes, G_m,i the molar Gibbs energy of node i (J per mole of atoms),
S_i = sum_k u_k the moles of atoms per mole of substitutional atoms, V_s the molar volume
per mole of substitutional atoms, and g_f = (x_b - x_a) / dz_f the composition gradient
of the independent components at an interior face (and, on periodic grids, at the face
that joins the ends).  This is the discrete functional whose variational derivative the
gradient-energy model uses (``kinsim.kernels.gradient``), so that F never increases in a
closed or periodic run.  Units: J/m^2 for planar grids (per unit cross-section), J per m
of height and radian for cylinders, J per steradian for spheres.
"""

from __future__ import annotations

import numpy as np

from ..grid import Grid1D

#: the unit of F by grid geometry (Grid1D.geometry: 0 planar, 1 cylindrical, 2 spherical)
FREE_ENERGY_UNITS = {0: "J m-2", 1: "J m-1 rad-1", 2: "J sr-1"}


def free_energy(g: Grid1D, Vs: float, U: np.ndarray, GM: np.ndarray, kappa=None, periodic: bool = False) -> float:
    """F of the state with u-fractions U (N, n) and molar Gibbs energies GM (N,), with
    the gradient-energy matrix kappa ((n-1) x (n-1), J m^2/mol; None: none)."""
    F = float(np.sum(g.volume * GM * U.sum(axis=1))) / Vs
    if kappa is None:
        return F
    kappa = np.asarray(kappa, dtype=float)
    x = U[:, 1:]
    grad = np.diff(x, axis=0) / g.dz[:, None]
    weights = g.area[1:-1] * g.dz
    Fg = 0.5 * float(np.einsum("f,fi,ij,fj->", weights, grad, kappa, grad))
    if periodic:
        d = (g.z[0] - g.faces[0]) + (g.faces[-1] - g.z[-1])
        gw = (x[0] - x[-1]) / d
        Fg += 0.5 * g.area[0] * d * float(gw @ kappa @ gw)
    return F + Fg / Vs
