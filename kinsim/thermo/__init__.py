"""Thermodynamics: TDB databases turned into arrays for the numba kernels."""

from .model import EquilibriumResult, PhaseModel, load_phase

__all__ = ["EquilibriumResult", "PhaseModel", "load_phase"]
