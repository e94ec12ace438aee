"""The block-tridiagonal solver, plain and cyclic, against a dense solve of the same system."""

from __future__ import annotations

import numpy as np
import pytest

from kinsim.kernels.blocksolve import block_work, solve_block_tridiagonal


def _system(N, b, cyclic, seed):
    rng = np.random.default_rng(seed)
    Lo = rng.normal(size=(N, b, b))
    Up = rng.normal(size=(N, b, b))
    Di = rng.normal(size=(N, b, b)) + 6.0 * np.eye(b)  # diagonally dominant enough for block Thomas
    if not cyclic:
        Lo[0] = 0.0
        Up[-1] = 0.0
    A = np.zeros((N * b, N * b))
    for i in range(N):
        rows = slice(i * b, (i + 1) * b)
        A[rows, i * b : (i + 1) * b] += Di[i]
        A[rows, ((i - 1) % N) * b : ((i - 1) % N + 1) * b] += Lo[i]
        A[rows, ((i + 1) % N) * b : ((i + 1) % N + 1) * b] += Up[i]
    r = rng.normal(size=(N, b))
    return Lo, Di, Up, r, A


@pytest.mark.parametrize("cyclic", [False, True])
@pytest.mark.parametrize("N, b", [(3, 1), (3, 2), (4, 2), (17, 2), (40, 4), (64, 1)])
def test_solution_equals_a_dense_solve(cyclic, N, b):
    Lo, Di, Up, r, A = _system(N, b, cyclic, seed=N * 10 + b)
    blocks = (Lo.copy(), Di.copy(), Up.copy())
    x = r.copy()
    assert solve_block_tridiagonal(Lo, Di, Up, x, block_work(N, b)) == 0
    expected = np.linalg.solve(A, r.ravel()).reshape(N, b)
    np.testing.assert_allclose(x, expected, rtol=1e-11, atol=1e-12)
    for before, after in zip(blocks, (Lo, Di, Up)):  # the blocks are inputs only
        np.testing.assert_array_equal(before, after)


def test_the_corner_blocks_matter():
    """A cyclic system solved as if it were plain gives another (wrong) answer: the
    corner blocks enter the solution."""
    N, b = 12, 2
    Lo, Di, Up, r, A = _system(N, b, True, seed=5)
    x = r.copy()
    solve_block_tridiagonal(Lo, Di, Up, x, block_work(N, b))
    Lo[0] = 0.0
    Up[-1] = 0.0
    y = r.copy()
    solve_block_tridiagonal(Lo, Di, Up, y, block_work(N, b))
    assert np.abs(x - y).max() > 1e-3
    np.testing.assert_allclose(A @ x.ravel(), r.ravel(), rtol=1e-11, atol=1e-12)


def test_a_singular_block_is_reported():
    N, b = 5, 2
    Lo, Di, Up, r, _ = _system(N, b, False, seed=1)
    Di[0] = 0.0
    Up[0] = 0.0
    assert solve_block_tridiagonal(Lo, Di, Up, r, block_work(N, b)) == 1
