"""Numba kernels: pure functions of arrays, status codes instead of exceptions."""
