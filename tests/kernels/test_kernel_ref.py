"""Kernel references (kinsim/kernels/kernel_ref.py): a kernel called through its address
gives what a direct call gives, raises what it raises, and a call with other argument
types, or a reference that misstates the return type, is refused with a message naming
the difference."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import types
from numba.core.errors import TypingError

from kinsim.kernels.kernel_ref import KernelRef, call_ref


@numba.njit
def _scaled_sum(a, f, out):
    s = 0.0
    for i in range(a.shape[0]):
        out[i] = f * a[i]
        s += out[i]
    if s < 0.0:
        raise ValueError("negative sum")
    return a.shape[0], s


@numba.njit
def _through(ref, a, f, out):
    n, s = call_ref(ref, (a, f, out))
    return n, s


RETURNS = types.Tuple((types.int64, types.float64))


def test_a_call_through_the_reference_is_the_direct_call():
    a = np.linspace(0.0, 1.0, 7)
    ref = KernelRef(_scaled_sum, (types.float64[::1], types.float64, types.float64[::1]), RETURNS)
    out_ref, out_direct = np.zeros(7), np.zeros(7)
    assert _through(ref, a, 3.0, out_ref) == _scaled_sum(a, 3.0, out_direct)
    assert np.array_equal(out_ref, out_direct)
    assert ref.address == ref.address > 0  # compiled once


def test_an_exception_of_the_kernel_reaches_the_caller():
    ref = KernelRef.for_values(_scaled_sum, (np.ones(3), 1.0, np.zeros(3)), RETURNS)
    with pytest.raises(ValueError, match="negative sum"):
        _through(ref, -np.ones(3), 1.0, np.zeros(3))


def test_other_argument_types_are_a_typing_error_naming_the_argument():
    ref = KernelRef(_scaled_sum, (types.float64[::1], types.float64, types.float64[::1]), RETURNS)
    with pytest.raises(TypingError, match=r"argument 0: array\(int64"):
        _through(ref, np.arange(3), 1.0, np.zeros(3))


def test_a_reference_that_misstates_the_return_type_is_refused():
    ref = KernelRef(_scaled_sum, (types.float64[::1], types.float64, types.float64[::1]), types.float64)
    with pytest.raises(TypeError, match="returns Tuple"):
        ref.address  # noqa: B018 - the compile checks the declared return type
