"""RepeatedCall (kinsim/_jit.py), how the run loop calls the stepper at every output
time: calls with the same argument objects skip numba's dispatch and give what the
dispatcher gives; other argument objects or scalar types are dispatched again (never the
machine code of other types); clear() lets the arguments go."""

from __future__ import annotations

import gc
import weakref

import numba
import numpy as np

from kinsim._jit import RepeatedCall


@numba.njit
def _fill(out, pair, f, k):
    for i in range(out.shape[0]):
        out[i] = pair[0][i] * f + pair[1][i] + k
    return out.sum()


def _count_typing(kernel, monkeypatch) -> list:
    """A list that grows by one for every argument the dispatcher types."""
    seen: list = []
    typeof = kernel.typeof_pyval
    monkeypatch.setattr(kernel, "typeof_pyval", lambda v: seen.append(v) or typeof(v))
    return seen


def test_repeated_calls_skip_dispatch_and_give_the_dispatched_result(monkeypatch):
    out = np.zeros(4)
    pair = (np.arange(4.0), np.ones(4))
    call = RepeatedCall()
    typed = _count_typing(_fill, monkeypatch)
    assert call(_fill, (out, pair, 2.0, 1)) == _fill(np.zeros(4), pair, 2.0, 1) == 20.0
    after_first = len(typed)
    assert after_first >= 4  # the first call and the direct call were typed
    pair[0][:] = 5.0  # the same objects with new values
    assert call(_fill, (out, pair, 0.5, 2)) == 4 * (2.5 + 1 + 2)
    assert np.array_equal(out, np.full(4, 5.5))
    assert len(typed) == after_first  # no argument typed again


def test_other_objects_or_scalar_types_are_dispatched_again():
    call = RepeatedCall()
    pair = (np.arange(3.0), np.zeros(3))
    assert call(_fill, (np.zeros(3), pair, 1.0, 0)) == 3.0
    # integer arrays: other machine code, found by dispatching the new objects
    ipair = (np.arange(3), np.zeros(3, dtype=np.int64))
    iout = np.zeros(3, dtype=np.int64)
    assert call(_fill, (iout, ipair, 2, 1)) == 9
    assert iout.dtype == np.int64 and np.array_equal(iout, [1, 3, 5])
    # the same objects, a float where the last call had an int: typed again, not unboxed as an int
    assert call(_fill, (iout, ipair, 0.5, 1)) == 4  # 0.5 * i + 1 stored as int64: 1, 1, 2 (f unboxed as an int: 3)
    assert len(_fill.overloads) >= 3


def test_clear_lets_the_arguments_go():
    call = RepeatedCall()
    out = np.zeros(2)
    call(_fill, (out, (np.ones(2), np.ones(2)), 1.0, 0))
    gone = weakref.ref(out)
    del out
    gc.collect()
    assert gone() is not None  # held for the next call
    call.clear()
    gc.collect()
    assert gone() is None


def test_types_are_typed_once_and_are_what_load_compiles_for(monkeypatch):
    """``types`` (what the run asks ``needs_compile`` with before it loads the stepper)
    types the arguments once for the same objects; ``load`` then reuses them."""
    out = np.zeros(4)
    pair = (np.arange(4.0), np.ones(4))
    call = RepeatedCall()
    typed = _count_typing(_fill, monkeypatch)
    sig = call.types(_fill, (out, pair, 2.0, 1))
    n = len(typed)
    assert n >= 4 and call.types(_fill, (out, pair, 3.0, 2)) == sig and len(typed) == n
    call.load(_fill, (out, pair, 2.0, 1))
    assert len(typed) == n and tuple(sig) in _fill.overloads
    assert call(_fill, (out, pair, 2.0, 1)) == 20.0
    assert call.types(_fill, (np.zeros(4), pair, 2.0, 1)) == sig and len(typed) > n  # new objects: typed again
    call.clear()
    assert call._sig is None and call._held == ()
