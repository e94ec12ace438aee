"""Multiphase equilibria at given compositions, as ``kinsim.equilibrium(...)`` with
several phases and ``kinsim thermo --phases`` give them: :class:`MultiphaseEquilibrium`.

Conventions (kinsim.phaseset): components ordered as given, the first the dependent
(reference) one; ``partial_dmu_dx`` (n x n) with every x_j independent, ``dmu_dx``
((n-1) x (n-1)) row i, column j = d(mu_i - mu_ref)/dx_j within the stable phase set;
fractions are mole fractions of atoms; energies in J/mol (driving forces per mole of
atoms), temperatures in K.  A composition set is named after its phase, with "#2",
"#3" for a phase's second and third sets in a row.
"""

from __future__ import annotations

import numpy as np

from .equilibria import RowsView
from .phaseset import PhaseSetModel, PhaseSetResult

_UNITS = {
    "T": "K",
    "X": "1",
    "MU": "J mol-1",
    "partial_dmu_dx": "J mol-1",
    "dmu_dx": "J mol-1",
    "status": "1",
    "fractions": "1",
    "compositions": "1",
    "site_fractions": "1",
    "driving_forces": "J mol-1",
}
_LONG_NAMES = {
    "T": "temperature",
    "X": "mole fraction",
    "MU": "chemical potential",
    "partial_dmu_dx": "d mu_i / d x_j at equilibrium, every x_j independent",
    "dmu_dx": "d (mu_i - mu_ref) / d x_j at equilibrium, x_ref dependent",
    "status": "kernel status code (0 = converged)",
    "fractions": "mole fraction of atoms in the composition set (NaN: empty slot)",
    "compositions": "mole fraction in the composition set",
    "site_fractions": "site fraction (site variables of the set's phase, see site_names)",
    "driving_forces": "driving force per mole of atoms (0: present, negative: absent)",
}


class MultiphaseEquilibrium(RowsView[PhaseSetResult]):
    """Multiphase equilibria at one composition (a *point*) or at N (a *table*).

    Attributes, named as the keys of ``kinsim thermo --phases --json`` (a point: one
    value each; a table: over the N rows first):

    - ``components`` (reference first), ``candidates`` (the phases given), ``T`` (K),
      ``X`` (n,) mole fractions;
    - ``MU`` (n,) J/mol, ``partial_dmu_dx`` (n, n), ``dmu_dx`` (n-1, n-1), ``status``;
    - ``phases``: one dict per stable composition set, ``name``, ``fraction`` (of
      atoms), ``x`` (component -> mole fraction), ``site_fractions`` (one dict per
      sublattice); a table: one such list per row;
    - ``driving_forces``: a point: phase -> J/mol of atoms for the absent candidates; a
      table: an array (N, candidates), 0 for present phases;
    - ``phase_names`` (SM,) set names ("" for empty slots), ``fractions`` (SM,) and
      ``compositions`` (SM, n): the sets in fixed slots, SM = n (a table: over rows).

    :meth:`to_json`, :meth:`save_npz` (the file of ``kinsim thermo --phases --batch``)
    and :meth:`to_xarray` give the whole result at once; ``rows`` is the
    :class:`~kinsim.phaseset.PhaseSetResult` (with the warm-start ``state``).
    """

    def __init__(self, database, model: PhaseSetModel, rows: PhaseSetResult, point: bool):
        self.database = str(database)
        self.model = model
        self.candidates = list(model.phases)
        self.components = list(model.components)
        self.rows = rows
        self.point = bool(point)

    @property
    def phase_names(self):
        return self._pick(self.rows.set_names)

    @property
    def fractions(self):
        return self._pick(self.rows.fractions)

    @property
    def compositions(self):
        return self._pick(self.rows.compositions)

    def _sets(self, i: int) -> list:
        return [
            {"name": s.name, "fraction": s.fraction, "x": s.x, "site_fractions": s.site_fractions}
            for s in self.rows.stable(i)
        ]

    @property
    def phases(self):
        if self.point:
            return self._sets(0)
        return [self._sets(i) for i in range(self.rows.X.shape[0])]

    @property
    def driving_forces(self):
        if self.point:
            return self.rows.absent_driving_forces(0)
        return self.rows.driving_forces

    def __repr__(self) -> str:
        what = "1 point" if self.point else f"{self.rows.X.shape[0]} points"
        return f"<MultiphaseEquilibrium of {'+'.join(self.candidates)} ({'-'.join(self.components)}) at {what}>"

    def to_json(self) -> dict:
        """The result as plain Python values; for a point, the object ``kinsim thermo
        --phases --json`` prints.  NaN (failed rows) stays NaN."""
        out = {"database": self.database, "candidates": self.candidates, "components": self.components}
        if self.point:
            out.update(
                T=self.T,
                X=self.X.tolist(),
                MU=self.MU.tolist(),
                phases=self.phases,
                driving_forces=self.driving_forces,
                dmu_dx=self.dmu_dx.tolist(),
                partial_dmu_dx=self.partial_dmu_dx.tolist(),
                status=self.status,
            )
            return out
        r = self.rows
        out.update(
            T=r.T.tolist(),
            X=r.X.tolist(),
            MU=r.MU.tolist(),
            phases=self.phases,
            driving_forces=r.driving_forces.tolist(),
            dmu_dx=r.dmu_dx.tolist(),
            partial_dmu_dx=r.partial_dmu_dx.tolist(),
            status=r.status.tolist(),
        )
        return out

    def save_npz(self, path) -> None:
        """Write the arrays over rows to an ``.npz`` file: components, candidates, T, X,
        MU, dmu_dx, partial_dmu_dx, status, phase_names, fractions, compositions,
        driving_forces."""
        r = self.rows
        np.savez(
            path,
            components=np.array(self.components),
            candidates=np.array(self.candidates),
            T=r.T,
            X=r.X,
            MU=r.MU,
            dmu_dx=r.dmu_dx,
            partial_dmu_dx=r.partial_dmu_dx,
            status=r.status,
            phase_names=r.set_names,
            fractions=r.fractions,
            compositions=r.compositions,
            driving_forces=r.driving_forces,
        )

    def to_xarray(self):
        """An :class:`xarray.Dataset`: dimensions ``row`` (a table only), ``component``
        and ``wrt_component`` (n), ``independent`` and ``wrt_independent`` (n-1),
        ``set`` (the n composition-set slots), ``phase`` (the candidates) and ``site``
        (site variables, padded); variables T, X, MU, partial_dmu_dx, dmu_dx, status,
        phase_names (row, set), fractions (row, set), compositions (row, set, component),
        site_fractions (row, set, site) with site_names (phase, site) naming them, and
        driving_forces (row, phase), with units and long names."""
        import xarray as xr  # imported only when asked for (it pulls in pandas)

        r = self.rows
        N, SM = r.set_names.shape
        Kmax = r.state.set_y.shape[2]
        present = r.state.set_phase >= 0
        site = np.where(present[..., None], r.state.set_y, np.nan)
        for a, m in enumerate(self.model.models):  # padding beyond each phase's own variables
            site[..., m.params.n_y :][r.state.set_phase == a] = np.nan
        names = np.full((len(self.candidates), Kmax), "", dtype=object)
        for a, m in enumerate(self.model.models):
            names[a, : m.params.n_y] = m.desc.site_names
        arrays = {
            "T": (("row",), r.T),
            "X": (("row", "component"), r.X),
            "MU": (("row", "component"), r.MU),
            "partial_dmu_dx": (("row", "component", "wrt_component"), r.partial_dmu_dx),
            "dmu_dx": (("row", "independent", "wrt_independent"), r.dmu_dx),
            "status": (("row",), r.status),
            "fractions": (("row", "set"), r.fractions),
            "compositions": (("row", "set", "component"), r.compositions),
            "site_fractions": (("row", "set", "site"), site),
            "driving_forces": (("row", "phase"), r.driving_forces),
        }
        data = {k: (d, v, {"units": _UNITS[k], "long_name": _LONG_NAMES[k]}) for k, (d, v) in arrays.items()}
        data["phase_names"] = (("row", "set"), r.set_names.astype(str), {"long_name": "composition set name"})
        data["site_names"] = (("phase", "site"), names.astype(str), {"long_name": "site variable of each phase"})
        comps = np.array(self.components, dtype=str)
        coords = {
            "component": comps,
            "wrt_component": comps,
            "independent": comps[1:],
            "wrt_independent": comps[1:],
            "phase": np.array(self.candidates, dtype=str),
            "set": np.arange(SM),
            "site": np.arange(Kmax),
        }
        ds = xr.Dataset(
            data,
            coords=coords,
            attrs={
                "database": self.database,
                "candidates": ",".join(self.candidates),
                "reference_component": self.components[0],
            },
        )
        return ds.isel(row=0) if self.point else ds
