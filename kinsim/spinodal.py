"""Linear stability of a uniform alloy with gradient energy (Cahn 1961).

A small composition wave dx exp(i k z + R t) of a uniform state x0 evolves by

    R dx = -k^2 Mt (H + kappa k^2) dx,

H = dmu_dx at x0 ((n-1) x (n-1), J/mol), kappa the gradient-energy matrix (J m^2/mol)
and Mt the mobility matrix of the volume-fixed fluxes in the exchange potentials
(m^2 mol J^-1 s^-1): J_k = -(1/V_m) sum_j Mt_kj d(mu_j - mu_ref)/dz.  For the
lattice-fixed Onsager matrix L' (per unit volume; V_m L' = diag(x_k M_k) plus the cross
terms), the frame change P (P_ka = [k = a] - x_k) and the Gibbs-Duhem split E
(E_aj = [a = j] - x_j) of kinsim's fluxes,

    Mt = P (V_m L') E,   binary: Mt = x_A x_B (x_A M_B + x_B M_A).

Modes with k below the critical wavenumber k_c (k_c^2 the largest eigenvalue of
-kappa^-1 H) grow; the fastest grows at k_max (binary: k_max^2 = -H / (2 kappa) =
k_c^2 / 2, R_max = Mt H^2 / (4 kappa)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpinodalModes", "exchange_mobility", "fastest_mode", "growth_rate", "modes_of_case"]


def exchange_mobility(x, VL) -> np.ndarray:
    """Mt ((n-1) x (n-1), m^2 mol J^-1 s^-1) from the mole fractions x (n) and the
    lattice-fixed Onsager matrix times the molar volume, V_m L' (n x n), of a
    substitutional alloy."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    P = np.eye(n)[1:] - x[1:, None]  # (n-1, n): J_k = J'_k - x_k sum_a J'_a
    E = np.eye(n)[:, 1:] - x[None, 1:]  # (n, n-1): grad M_a = sum_j E_aj grad w_j
    return P @ np.asarray(VL, dtype=float) @ E


def growth_rate(k, H, Mt, kappa) -> np.ndarray:
    """R(k) (1/s): the largest real part of the eigenvalues of -k^2 Mt (H + kappa k^2)
    at every wavenumber k (1/m)."""
    k = np.atleast_1d(np.asarray(k, dtype=float))
    H, Mt, kappa = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (H, Mt, kappa))
    return np.array([np.linalg.eigvals(-kk * kk * Mt @ (H + kappa * kk * kk)).real.max() for kk in k])


@dataclass(frozen=True)
class SpinodalModes:
    k_critical: float  # 1/m: modes below grow
    k_max: float  # 1/m: the fastest-growing mode
    growth_max: float  # 1/s: its growth rate
    wavelength_max: float  # m: 2 pi / k_max

    def to_attrs(self, prefix: str = "spinodal_") -> dict:
        return {
            f"{prefix}k_critical_per_m": self.k_critical,
            f"{prefix}k_max_per_m": self.k_max,
            f"{prefix}growth_rate_max_per_s": self.growth_max,
            f"{prefix}wavelength_max_m": self.wavelength_max,
        }


def fastest_mode(H, Mt, kappa) -> SpinodalModes | None:
    """The critical and the fastest-growing wavenumbers of a uniform state, or None when
    H is positive definite (outside the spinodal: every mode decays)."""
    # scipy only here: a run imports this module, and only gradient-energy runs need it
    from scipy.linalg import eigh
    from scipy.optimize import minimize_scalar

    H, Mt, kappa = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (H, Mt, kappa))
    Hs = 0.5 * (H + H.T)
    kc2 = float(eigh(-Hs, 0.5 * (kappa + kappa.T), eigvals_only=True).max())
    if not kc2 > 0.0:
        return None
    kc = np.sqrt(kc2)
    res = minimize_scalar(
        lambda s: -growth_rate(s * kc, H, Mt, kappa)[0],
        bounds=(1e-6, 1.0 - 1e-9),
        method="bounded",
        options={"xatol": 1e-10},
    )
    kmax = float(res.x) * kc
    return SpinodalModes(
        k_critical=float(kc),
        k_max=kmax,
        growth_max=float(growth_rate(kmax, H, Mt, kappa)[0]),
        wavelength_max=2.0 * np.pi / kmax,
    )


def modes_of_case(model, case, x, T: float) -> SpinodalModes | None:
    """The linear stability of the uniform composition x (n mole fractions) of a
    gradient-energy case at T: H and the mobilities from the phase model (with the case's
    mobility scale factors and Onsager cross terms).  None without [gradient], when x is
    not a valid state, or outside the spinodal."""
    if case.gradient is None:
        return None
    x = np.asarray(x, dtype=float)
    res = model.equilibrium(x[None, 1:], T, raise_on_failure=False)
    if res.status[0] != 0:
        return None
    scale = np.array([case.mobility.scale.get(c, 1.0) for c in case.components])
    VL = np.diag(x * model.mobilities(x[None, 1:], T)[0] * scale)
    if case.onsager is not None:
        r = np.array(case.onsager.matrix)
        if case.onsager.form == "absolute":
            cross = case.mobility.molar_volume * r
        else:
            d = np.sqrt(np.diag(VL))
            cross = r * np.outer(d, d)
        VL = VL + cross - np.diag(np.diag(cross))
    return fastest_mode(res.dmu_dx[0], exchange_mobility(x, VL), case.gradient.matrix)
