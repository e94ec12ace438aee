"""Thermodynamics: TDB databases turned into plain arrays for the numba kernels.

The bottom layer: nothing here imports the kernels.  The phase model that runs the
kernels on these arrays is :mod:`kinsim.phase`.
"""
