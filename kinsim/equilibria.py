"""Equilibria of one phase at given compositions: the computation behind ``kinsim thermo``
and :func:`kinsim.equilibrium`, and its result, :class:`Equilibrium`.

:func:`solve_rows` runs the per-node kernel over all rows on all threads
(:mod:`kinsim.kernels.kkt_parallel`); every row gets the numbers
:meth:`~kinsim.phase.PhaseModel.equilibrium` gives it.

Conventions (Larsson & Jansson, Calphad 51 (2015) 220, as in kawin's
FreeEnergyHessian): components are ordered as given, the first is the dependent
(reference) one; ``partial_dmu_dx`` (n x n) treats every x_j as independent (symmetric,
``P @ x = 0``); ``dmu_dx`` ((n-1) x (n-1)) has row i, column j = d(mu_i - mu_ref)/dx_j
over the independent components, x_ref dependent.  Energies in J/mol (GM per mole of
atoms), temperatures in K.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

import numba
import numpy as np

from .kernels.kkt import minimise_flag
from .kernels.kkt_parallel import equilibrium_chunks
from .kernels.nodes import equilibrium_ref
from .phase import EquilibriumResult, PhaseModel

# a chunk of rows per thread, but no thread for fewer rows than this
_MIN_ROWS_PER_CHUNK = 256
_UNITS = {
    "T": "K",
    "X": "1",
    "GM": "J mol-1",
    "MU": "J mol-1",
    "partial_dmu_dx": "J mol-1",
    "dmu_dx": "J mol-1",
    "site_fractions": "1",
    "status": "1",
}
_LONG_NAMES = {
    "T": "temperature",
    "X": "mole fraction",
    "GM": "molar Gibbs energy per mole of atoms",
    "MU": "chemical potential",
    "partial_dmu_dx": "d mu_i / d x_j, every x_j independent",
    "dmu_dx": "d (mu_i - mu_ref) / d x_j, x_ref dependent",
    "site_fractions": "site fraction",
    "status": "kernel status code (0 = converged)",
}


def solve_rows(model: PhaseModel, x_indep, T, raise_on_failure: bool = True) -> EquilibriumResult:
    """Equilibrium, chemical potentials and dmu/dx at each row of ``x_indep`` (N, n-1)
    at ``T`` (K, scalar or (N,)), on all threads; raises for a failed row unless
    ``raise_on_failure`` is False (then see ``status``)."""
    X = model.full_composition(x_indep)
    N, n = X.shape
    Tarr = np.broadcast_to(np.asarray(T, dtype=np.float64), (N,)).copy()
    K = model.params.n_y
    Y = np.zeros((N, K))
    warm = np.zeros(N, dtype=np.int64)
    MU = np.empty((N, n))
    PD = np.empty((N, n, n))
    DMU = np.empty((N, n - 1, n - 1))
    GM = np.empty(N)
    status = np.empty(N, dtype=np.int64)
    n_chunks = max(1, min(numba.get_num_threads(), N // _MIN_ROWS_PER_CHUNK))
    minimise = minimise_flag(model.params)
    batch = equilibrium_ref(model.params, minimise)
    equilibrium_chunks(model.params, Tarr, X, Y, warm, MU, PD, DMU, GM, status, minimise, n_chunks, batch)
    res = EquilibriumResult(model.components, model.desc.site_names, Tarr, X, GM, MU, PD, DMU, Y, status)
    if raise_on_failure:
        model.raise_for_status(res)
    return res


class EquilibriumRows(Protocol):
    """The arrays over rows that every equilibrium result holds (one phase:
    :class:`~kinsim.phase.EquilibriumResult`, several: :class:`~kinsim.phaseset.PhaseSetResult`)."""

    T: np.ndarray
    X: np.ndarray
    MU: np.ndarray
    partial_dmu_dx: np.ndarray
    dmu_dx: np.ndarray
    status: np.ndarray


_Rows = TypeVar("_Rows", bound=EquilibriumRows)


class RowsView(Generic[_Rows]):
    """The arrays an equilibrium result shares, one or several phases: ``rows`` holds
    them over rows (N >= 1); a point (``point``) shows row 0 without the row axis."""

    rows: _Rows
    point: bool

    def _pick(self, arr):
        return arr[0] if self.point else arr

    @property
    def T(self):
        return float(self.rows.T[0]) if self.point else self.rows.T

    @property
    def X(self):
        return self._pick(self.rows.X)

    @property
    def MU(self):
        return self._pick(self.rows.MU)

    @property
    def partial_dmu_dx(self):
        return self._pick(self.rows.partial_dmu_dx)

    @property
    def dmu_dx(self):
        return self._pick(self.rows.dmu_dx)

    @property
    def status(self):
        return int(self.rows.status[0]) if self.point else self.rows.status


class Equilibrium(RowsView[EquilibriumResult]):
    """Equilibria of one phase at one composition (a *point*) or at N (a *table*).

    Attributes, named as the keys of ``kinsim thermo --json`` (a point: one value each;
    a table: arrays over the N rows first):

    - ``components``: names, the dependent one first; ``T``: K;
    - ``X``: mole fractions (n,) of every component;
    - ``GM``: molar Gibbs energy, J/mol of atoms; ``MU``: chemical potentials (n,), J/mol;
    - ``partial_dmu_dx`` (n, n) and ``dmu_dx`` (n-1, n-1), J/mol (module docstring);
    - ``site_fractions``: a point: one dict per sublattice {constituent: fraction}
      (constant sublattices included); a table: an array (N, K) over ``site_names``;
    - ``status``: 0 when the point converged (kinsim.kernels.codes.STATUS_TEXT).

    ``database`` and ``phase`` say what was computed; :meth:`to_xarray` and
    :meth:`to_json` give the whole result at once, :meth:`save_npz` the file of
    ``kinsim thermo --batch``.
    """

    def __init__(self, database, model: PhaseModel, rows: EquilibriumResult, point: bool):
        self.database = str(database)
        self.phase = model.phase
        self.components = list(model.components)
        self.site_names = list(model.desc.site_names)
        self.sublattice_ratios = [float(a) for a in model.desc.sublattice_ratios]
        self._constituents = [list(c) for c in model.desc.constituents]
        self.rows = rows  # the arrays over rows (N >= 1), whatever the shape of the result
        self.point = bool(point)

    @property
    def GM(self):
        return float(self.rows.GM[0]) if self.point else self.rows.GM

    @property
    def site_fractions(self):
        if not self.point:
            return self.rows.site_fractions
        vals = dict(zip(self.site_names, self.rows.site_fractions[0]))
        out = []
        for s, constituents in enumerate(self._constituents):
            if len(constituents) == 1:
                out.append({constituents[0]: 1.0})
            else:
                out.append({c: float(vals[f"y({self.phase},{s},{c})"]) for c in constituents})
        return out

    def __repr__(self) -> str:
        what = "1 point" if self.point else f"{self.rows.X.shape[0]} points"
        return f"<Equilibrium of {self.phase} ({'-'.join(self.components)}) at {what}>"

    def to_json(self) -> dict:
        """The result as plain Python values (the object ``kinsim thermo --json`` prints)."""
        out = {"database": self.database, "phase": self.phase, "components": self.components}
        if self.point:
            out.update(
                T=self.T,
                X=self.X.tolist(),
                site_fractions=self.site_fractions,
                GM=self.GM,
                MU=self.MU.tolist(),
                partial_dmu_dx=self.partial_dmu_dx.tolist(),
                dmu_dx=self.dmu_dx.tolist(),
                status=self.status,
            )
            return out
        r = self.rows
        out.update(
            T=r.T.tolist(),
            X=r.X.tolist(),
            site_names=self.site_names,
            site_fractions=r.site_fractions.tolist(),
            GM=r.GM.tolist(),
            MU=r.MU.tolist(),
            partial_dmu_dx=r.partial_dmu_dx.tolist(),
            dmu_dx=r.dmu_dx.tolist(),
            status=r.status.tolist(),
        )
        return out

    def save_npz(self, path) -> None:
        """Write the arrays over rows to an uncompressed ``.npz`` file: components, T, X,
        GM, MU, dmu_dx, partial_dmu_dx, site_fractions, site_names, status."""
        r = self.rows
        np.savez(
            path,
            components=np.array(self.components),
            T=r.T,
            X=r.X,
            GM=r.GM,
            MU=r.MU,
            dmu_dx=r.dmu_dx,
            partial_dmu_dx=r.partial_dmu_dx,
            site_fractions=r.site_fractions,
            site_names=np.array(self.site_names),
            status=r.status,
        )

    def to_xarray(self):
        """An :class:`xarray.Dataset`: dimensions ``point`` (a table only), ``component``
        and ``wrt_component`` (n), ``independent`` and ``wrt_independent`` (n-1, the
        components but the first), ``site`` (the K site fractions that vary); variables
        T, X, GM, MU, partial_dmu_dx (component, wrt_component), dmu_dx (independent,
        wrt_independent), site_fractions, status, with units and long names."""
        import xarray as xr  # imported only when asked for (it pulls in pandas)

        r = self.rows
        dims = {
            "T": (),
            "X": ("component",),
            "GM": (),
            "MU": ("component",),
            "partial_dmu_dx": ("component", "wrt_component"),
            "dmu_dx": ("independent", "wrt_independent"),
            "site_fractions": ("site",),
            "status": (),
        }
        data = {}
        for name, d in dims.items():
            attrs = {"units": _UNITS[name], "long_name": _LONG_NAMES[name]}
            data[name] = (("point", *d), getattr(r, name), attrs)
        comps = np.array(self.components, dtype=str)
        coords = {
            "component": comps,
            "wrt_component": comps,
            "independent": comps[1:],
            "wrt_independent": comps[1:],
            "site": np.array(self.site_names, dtype=str),
        }
        ds = xr.Dataset(
            data,
            coords=coords,
            attrs={"database": self.database, "phase": self.phase, "reference_component": self.components[0]},
        )
        return ds.isel(point=0) if self.point else ds
