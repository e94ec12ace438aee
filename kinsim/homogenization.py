"""The homogenization model of a case with several phases (``thermo.phases``), the node
model the stepper runs for it (kinsim.kernels.homogenization): the candidate phases with
their mobilities, the kernel parameters, and the phase fractions and compositions of the
stepper's node states for the result file.

The result's phase-set axis lists, for every candidate phase, as many composition sets
as a node can hold (n, the number of components): ``FCC_A1``, ``FCC_A1#2``, ... in the
order of thermo.phases; a node's sets are named like ``kinsim thermo --phases`` names
them (the phase, then ``#2``, ``#3`` for its further sets in the node's order).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .kernels import codes as C
from .kernels.homogenization import Homogenization, state_layout
from .kernels.mpphase import mp_workspace
from .kernels.multiphase import COLD, mp_node_ref, mp_rows
from .phaseset import load_phases

AVERAGING_CODES = {
    "wiener-upper": C.AVG_WIENER_UPPER,
    "wiener-lower": C.AVG_WIENER_LOWER,
    "hashin-shtrikman-upper": C.AVG_HS_UPPER,
    "hashin-shtrikman-lower": C.AVG_HS_LOWER,
    "hashin-shtrikman-matrix": C.AVG_HS_MATRIX,
    "labyrinth": C.AVG_LABYRINTH,
}


OUTPUT_BLOCK = 4096  # nodes per block of HomogenizationModel.phase_outputs


def phase_output_floats(params) -> tuple[int, int]:
    """(stored, work): 8-byte numbers per node that the phase outputs of the
    homogenization model's kernel parameters ``params`` add to every snapshot
    (/phase_fraction and /phase_composition over the composition sets), and per node of
    a block (OUTPUT_BLOCK nodes) of the work arrays of
    :meth:`HomogenizationModel.phase_outputs`; (0, 0) for other node models.  For the size estimate of a run
    (kinsim.resources)."""
    if not isinstance(params, Homogenization):
        return 0, 0
    n = params.ps.n_comp
    sets = params.ps.n_y.shape[0] * n  # the set-name axis: n sets per candidate phase
    SM = n  # sets per node
    # per node of a block: Nv (SM, n), the set columns (SM, SM), sp, a, Nt, atoms and
    # present (SM), total; per set present (at most SM) its indices, column, amount and
    # composition (the fancy-indexed copies)
    block = SM * n + SM * SM + 5 * SM + 2 + SM * (8 + 2 * n)
    return sets * (1 + n), block


class HomogenizationModel:
    """The candidate phases of a case (``case.thermo.phases``) with the case's
    [homogenization] options, as the stepper's node model.  It offers what the run needs
    of a phase model (``params``, ``phase``, ``desc``, ``check_temperature``,
    ``equilibrium``) and the phase outputs of node states."""

    def __init__(self, case, T: float):
        th = case.thermo
        hs = case.homogenization
        self.case = case
        self.T = float(T)
        self.phases = load_phases(
            th.database, th.phases, th.components, mobility=case.mobility.missing, no_flux=hs.excluded
        )
        self.phase = th.label
        names = self.phases.phases
        models = self.phases.models
        # an excluded phase's mobilities are never used: say so instead of listing its data
        carrying = [m for m in models if m.phase not in hs.excluded]
        self.desc = SimpleNamespace(
            mobility_substituted=[f"{m.phase}: {s}" for m in carrying for s in m.desc.mobility_substituted]
            + [
                f"{p}: excluded from the flux (homogenization.excluded): no mobility used"
                for p in names
                if p in hs.excluded
            ],
            missing_mobility=[f"{m.phase}: {s}" for m in carrying for s in m.desc.missing_mobility],
        )
        flux = np.array([0.0 if p in hs.excluded else 1.0 for p in names])
        lo, hi = self.phases.t_range
        self.params = Homogenization(
            ps=self.phases.params,
            tab=self.phases.start_table(self.T),
            scheme=AVERAGING_CODES[hs.averaging],
            matrix=names.index(hs.matrix) if hs.matrix else -1,
            exponent=float(hs.exponent),
            flux=flux,
            t_range=np.array([lo, hi]),
        )
        n = len(th.components)
        self.set_names = [p + (f"#{k + 1}" if k else "") for p in names for k in range(n)]

    @property
    def components(self):
        return self.phases.components

    @property
    def interstitial(self) -> np.ndarray:
        """1 for a component that is interstitial (carries no volume) in some candidate
        phase, else 0."""
        return np.max([m.params.interstitial for m in self.phases.models], axis=0).astype(np.int64)

    def check_temperature(self, T, where="temperature"):
        self.phases.check_temperature(T, where)

    def equilibrium(self, x_indep, T, raise_on_failure=True):
        """The multiphase equilibrium at compositions (rows) and T, from scratch."""
        return self.phases.equilibrium(x_indep, T, raise_on_failure=raise_on_failure)

    def kernel_check(self) -> tuple:
        """(kernel, arguments) of the equilibrium kernel a run calls first (for the
        compile notice)."""
        ps = self.params.ps
        n, NP, K = ps.n_comp, ps.n_y.shape[0], ps.y_comp.shape[1]
        ws = mp_workspace(ps)
        return mp_rows, (
            ps,
            self.T,
            np.full((1, n), 1.0 / n),
            self.params.tab,
            np.full(1, COLD, dtype=np.int64),
            np.full((1, n), -1, dtype=np.int64),
            np.zeros((1, n)),
            np.zeros((1, n, K)),
            np.zeros((1, n)),
            np.zeros((1, NP, K)),
            np.zeros((1, NP)),
            np.zeros((1, n, n)),
            np.zeros((1, n - 1, n - 1)),
            np.zeros(1, dtype=np.int64),
            ws,
            mp_node_ref(ps, self.params.tab, ws),
        )

    def parameters(self) -> dict:
        """The arrays of the kernel parameters, for the result file: the phase set's
        (``phases_*``) and the model's (``homogenization_*``)."""
        out = {f"phases_{k}": np.asarray(v) for k, v in self.params.ps._asdict().items() if isinstance(v, np.ndarray)}
        hp = self.params
        out.update(
            homogenization_scheme=np.array(hp.scheme),
            homogenization_matrix=np.array(hp.matrix),
            homogenization_exponent=np.array(hp.exponent),
            homogenization_flux=hp.flux,
            homogenization_phases=np.array(self.phases.phases),
            homogenization_sets=np.array(self.set_names),
        )
        return out

    def phase_outputs(self, Y: np.ndarray):
        """Phase fractions (N, S; mole fraction of atoms in each set, 0 where a set is
        absent: its atoms over the node's, exactly 1 for a node of one set) and
        compositions (N, S, n; mole fractions, NaN where absent) on the set-name axis
        (``set_names``) of the packed node states Y (N, width).  Made in blocks of
        OUTPUT_BLOCK nodes: the work arrays take no more than a block's room."""
        ps = self.params.ps
        n, NP = ps.n_comp, ps.n_y.shape[0]
        N = Y.shape[0]
        frac = np.zeros((N, NP * n))
        comp = np.full((N, NP * n, n), np.nan)
        for b in range(0, N, OUTPUT_BLOCK):
            self._phase_outputs(Y[b : b + OUTPUT_BLOCK], frac[b : b + OUTPUT_BLOCK], comp[b : b + OUTPUT_BLOCK])
        return frac, comp

    def _phase_outputs(self, Y, frac, comp) -> None:
        """``phase_outputs`` of the nodes Y into frac and comp (zero and NaN at first)."""
        ps = self.params.ps
        n, NP, K = ps.n_comp, ps.n_y.shape[0], ps.y_comp.shape[1]
        o_sa, o_sy = state_layout(n, NP, K)[:2]
        N = Y.shape[0]
        sp = np.rint(Y[:, :n]).astype(np.int64)
        sa = Y[:, o_sa : o_sa + n]
        sy = Y[:, o_sy : o_sy + n * K].reshape(N, n, K)
        present = sp >= 0
        a = np.where(present, sp, 0)
        E = np.zeros((NP, K, n))
        ia, ik = np.nonzero(ps.y_comp >= 0)
        E[ia, ik, ps.y_comp[ia, ik]] = ps.y_ratio[ia, ik]
        Nv = np.empty((N, n, n))  # moles of each component per formula unit of each set
        for ph in range(NP):  # phase by phase: no (N, sets, K, n) copy of E
            sel = a == ph
            Nv[sel] = ps.n_const[ph] + np.einsum("sk,kc->sc", sy[sel], E[ph])
        Nt = Nv.sum(axis=2)
        atoms = np.where(present, sa * Nt, 0.0)  # atoms in each set per mole of atoms (1 up to the solve's tolerance)
        total = atoms.sum(axis=1)
        # a set's column: its phase's, after the node's earlier sets of the same phase
        earlier = np.tril(np.ones((n, n), dtype=bool), -1)  # [j, j']: j' < j
        k = ((sp[:, :, None] == sp[:, None, :]) & earlier).sum(axis=2)
        i, j = np.nonzero(present)
        col = a[i, j] * n + k[i, j]
        frac[i, col] = atoms[i, j] / total[i]
        comp[i, col] = Nv[i, j] / Nt[i, j][:, None]
