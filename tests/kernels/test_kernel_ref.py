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


_MODULE = """
from kinsim._jit import jit
from kinsim.kernels.kernel_ref import call_ref


@jit
def twice(x):
    return 2.0 * x


@jit
def caller(ref, x):
    return call_ref(ref, (x,))
"""

_COLD_CHECK = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from numba import types
from cached_kernels import caller, twice
from kinsim._jit import compile_for, needs_compile
from kinsim.kernels.kernel_ref import KernelRef

ref = KernelRef(twice, (types.float64,), types.float64)
seen = [ref.needs_compile()]
compile_for(caller, ref, 1.0)  # typing the caller does not compile the referenced kernel
seen += [needs_compile(caller, ref, 1.0)]
ref.address
seen += [ref.needs_compile(), needs_compile(caller, ref, 1.0), caller(ref, 1.5)]
print(json.dumps(seen))
"""


def test_needs_compile_counts_the_kernels_a_call_compiles_through_references(tmp_path):
    """What the compile notice asks: a reference needs compiling with an empty numba
    cache and not once compiled, or in a new process that finds it in the disk cache;
    ``needs_compile`` of a compiled kernel is still True while a kernel it is passed a
    reference to is not compiled (the call would compile it)."""
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "cached_kernels.py").write_text(_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    seen = []
    for _ in range(2):
        p = subprocess.run(
            [sys.executable, "-c", _COLD_CHECK, str(tmp_path)], capture_output=True, text=True, env=env, timeout=600
        )
        assert p.returncode == 0, p.stderr
        seen.append(json.loads(p.stdout.strip().splitlines()[-1]))
    assert seen == [[True, True, False, False, 3.0], [False, False, False, False, 3.0]]


def test_needs_compile_sees_references_inside_tuple_arguments():
    """The stepper passes its references in a NamedTuple (StepKernels): a reference whose
    kernel is not compiled makes the call a compile wherever it sits among the arguments."""
    from kinsim._jit import needs_compile

    class Cold:
        def needs_compile(self):
            return True

    a = np.ones(3)
    _scaled_sum(a, 1.0, np.zeros(3))  # the caller itself compiled
    assert not needs_compile(_scaled_sum, a, 1.0, np.zeros(3))
    assert needs_compile(_scaled_sum, a, 1.0, (np.zeros(3), (Cold(),)))
