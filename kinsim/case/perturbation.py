"""A perturbation of the initial profile: ``[initial.perturbation]``.

Spinodal decomposition starts from small composition fluctuations of a uniform alloy;
this table adds them to any initial profile, at the grid nodes:

- ``random``: values drawn uniformly from [-a_k, a_k] at every node, independently per
  component (numpy's default generator with ``seed``: the same grid and seed give the
  same perturbation);
- ``cosine``: a_k sum_w cos(2 pi z / lambda_w) over the given wavelengths (z the position
  on the grid's axis, which starts at 0 for planar grids).

The volume-weighted mean of the perturbation is removed (the amount of every component
stays that of the profile); the dependent component balances the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..units import parse_length
from .section import Section, as_number, component_items, type_name

__all__ = ["PerturbationSpec", "read_perturbation"]


@dataclass(frozen=True)
class PerturbationSpec:
    type: str  # random | cosine
    amplitude: dict[str, float]  # mole fraction, per perturbed independent component
    seed: int = 0  # random
    wavelengths: tuple[float, ...] = ()  # cosine: m

    def delta(self, z, volume, components) -> np.ndarray:
        """The perturbation (len(z), n) of the mole fractions at nodes z (m) with cell
        volumes ``volume`` (None: equal), columns in the order of ``components``."""
        z = np.asarray(z, dtype=float)
        N = z.shape[0]
        w = np.ones(N) if volume is None else np.asarray(volume, dtype=float)
        d = np.zeros((N, len(components)))
        perturbed = [k for k, c in enumerate(components) if c in self.amplitude]
        if self.type == "random":
            r = np.random.default_rng(self.seed).uniform(-1.0, 1.0, size=(N, len(perturbed)))
            for col, k in enumerate(perturbed):
                d[:, k] = self.amplitude[components[k]] * r[:, col]
        else:
            shape = np.zeros(N)
            for lam in self.wavelengths:
                shape += np.cos(2.0 * np.pi * z / lam)
            for k in perturbed:
                d[:, k] = self.amplitude[components[k]] * shape
        d -= (w[:, None] * d).sum(axis=0) / w.sum()
        d[:, 0] = -d[:, 1:].sum(axis=1)
        return d

    def to_dict(self) -> dict:
        out: dict = {"type": self.type, "amplitude": dict(self.amplitude)}
        if self.type == "random":
            out["seed"] = self.seed
        else:
            out["wavelengths"] = [float(v) for v in self.wavelengths]
        return out


def read_perturbation(sec: Section, comps: tuple) -> PerturbationSpec:
    where = sec.prefix
    kind = sec.get("type")
    for k in ("seed", "wavelengths"):
        if sec.has(k) and k != {"random": "seed", "cosine": "wavelengths"}[kind]:
            raise CaseError(f"{where}.{k} is not used with type = '{kind}'")
    raw = sec.raw("amplitude")
    if not isinstance(raw, dict) or not raw:
        raise CaseError(
            f"{where}.amplitude must be a table of independent components, e.g. "
            f"{{ {comps[-1]} = 0.001 }}, got {type_name(raw)}"
        )
    amplitude = {}
    for k, c, v in component_items(raw, f"{where}.amplitude", comps):
        if c == comps[0]:
            raise CaseError(
                f"{where}.amplitude.{k}: {c} is the dependent component (the balance); perturb {', '.join(comps[1:])}"
            )
        a = as_number(v, f"{where}.amplitude.{k}")
        if not 0.0 < a < 1.0:
            raise CaseError(f"{where}.amplitude.{k} = {a:g} must be in (0, 1) (a mole fraction)")
        amplitude[c] = a
    amplitude = {c: amplitude[c] for c in comps if c in amplitude}
    if kind == "random":
        return PerturbationSpec("random", amplitude, seed=sec.get("seed"))
    lams = sec.raw("wavelengths")
    if not isinstance(lams, list) or not lams:
        raise CaseError(f'{where}.wavelengths must be an array of lengths, e.g. ["14 nm"], got {type_name(lams)}')
    values = tuple(parse_length(v, f"{where}.wavelengths[{i}]") for i, v in enumerate(lams))
    for i, v in enumerate(values):
        if not v > 0.0:
            raise CaseError(f"{where}.wavelengths[{i}] = {v:g} m must be positive")
    return PerturbationSpec("cosine", amplitude, wavelengths=values)
