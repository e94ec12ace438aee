"""kinsim: numba-accelerated multicomponent diffusion on CALPHAD databases."""

__version__ = "0.1.0"
