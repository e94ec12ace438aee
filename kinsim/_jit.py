"""The one place that holds kinsim's numba options.

Kernels are top-level ``@jit`` functions compiled once and kept in numba's disk cache.
``fastmath`` stays off so that NaN and inf are detected, ``error_model='numpy'`` makes a
division by zero give inf/NaN (caught by status codes) instead of raising inside a kernel.

Compile time.  numba compiles every jitted function that a kernel calls as a library of
its own, links a copy of each callee's library into the caller's and has LLVM optimise
and emit machine code for all of it again.  A chain of jitted functions above a large
kernel (the node equilibrium) therefore pays for that kernel once per level, and every
small function of its own costs a fraction of a second.  So:

- ``LEAF`` kernels only read and write arrays they are given: no reference counting
  (numba's private ``_nrt`` flag; the arrays are owned by the caller), which also keeps
  the code that passes NamedTuples of arrays around small;
- ``INLINE`` functions are inlined by numba itself (``inline='always'``) into the kernel
  that calls them and are not compiled on their own there: small helpers, and the
  stepper's stages between ``advance`` and the node evaluation;
- the largest kernels are not linked at all where it pays: the node evaluation calls the
  equilibrium kernel, ``advance`` the Newton step and the moving-boundary stepper
  ``advance_regions`` its step attempt (the Newton iterations), through a kernel
  reference (``kinsim.kernels.kernel_ref``, an address typed with the callee's
  signature), so each compiles once, on its own, and a cold run can compile the stepper
  in parallel with them;
- a jitted function called with an integer or boolean constant is compiled once more
  for that constant (numba types it as a literal): pass flags as arrays or variables;
- no C-callable (``cfunc``) wrapper: numba makes one per function for use as a
  first-class function object, which kinsim never does (kernels are called from Python
  or from each other), and it would be optimised and compiled with every function;
- a path a run does not take is left out of its compiled kernel by an argument that is
  None (numba prunes ``if x is None`` branches on arguments before typing): the
  stepper's gradient energy, forward Euler and periodic solve, the constrained
  minimisation of the equilibrium kernel.

Note: numba's disk cache keys a function on its own file, so after editing an inlined
helper in another file, clear kinsim/kernels/__pycache__ (a fresh checkout or install has
no stale cache).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
from numba.core.dispatcher import Dispatcher

from . import _jit_load

# kernels loaded from numba's disk cache without parsing their bitcode (kinsim._jit_load)
LAZY_BITCODE = _jit_load.install()

if TYPE_CHECKING:
    from numba.core.decorators import _JITOptions

# numba's stubs leave some of njit's options (cache) out of the jit options that overload
# takes; numba passes them on to njit all the same
JIT_OPTIONS: _JITOptions = {
    "cache": True,
    "fastmath": False,
    "error_model": "numpy",
    "nogil": True,
    "no_cfunc_wrapper": True,
}  # type: ignore[typeddict-unknown-key]

# kernels that allocate nothing
LEAF = dict(_nrt=False)
# small helpers and the stepper's stages: inlined into their callers by numba
INLINE = dict(inline="always")
# kernels that allocate nothing and are only called from other kernels (directly or
# through a kernel reference, kinsim.kernels.kernel_ref), never from Python: no Python
# wrapper either (it unboxes every argument from Python objects: for the NamedTuples of
# arrays of the stepper, thousands of lines of LLVM IR in every such kernel's library).
# compile_for still compiles them ahead (the precompile helper).
INTERNAL = dict(_nrt=False, no_cpython_wrapper=True)


def jit(func=None, **overrides):
    """``numba.njit`` with kinsim's options (usable bare or with overrides)."""
    opts = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(func)


def _signature(dispatcher, args) -> tuple:
    """The argument types numba dispatches a call with these arguments on."""
    return tuple(dispatcher.typeof_pyval(a) for a in args)


def needs_compile(dispatcher, *args, sig: tuple | None = None) -> bool:
    """Whether calling ``dispatcher(*args)`` compiles it, or a kernel it is passed a
    reference to: it is neither in memory nor in numba's disk cache for these argument
    types (numba's cache index, keyed on the signature, the CPU and the function's
    source file).  ``sig``: the argument types when known (``RepeatedCall.types``).
    False when numba's cache internals cannot be read, and without the JIT (nothing is
    announced then)."""
    if not isinstance(dispatcher, Dispatcher):
        return False
    # a kernel reference among the arguments (kinsim.kernels.kernel_ref), also inside a
    # tuple of them (the stepper's StepKernels), compiles its kernel when the call unboxes it
    referenced = any(r.needs_compile() for r in _references(args))
    return referenced or needs_compile_types(dispatcher, sig if sig is not None else _signature(dispatcher, args))


def _references(args):
    """The kernel references among ``args`` and the tuples in them."""
    for a in args:
        if callable(getattr(a, "needs_compile", None)):
            yield a
        elif isinstance(a, tuple) and not hasattr(a, "dtype"):
            yield from _references(a)


def needs_compile_types(dispatcher, sig: tuple) -> bool:
    """``needs_compile`` for the argument types ``sig`` (numba types) of ``dispatcher``
    alone."""
    if not isinstance(dispatcher, Dispatcher):
        return False
    if sig in dispatcher.overloads:
        return False
    internals: Any = dispatcher  # numba's private cache API, which its type stubs leave out
    try:
        cache = internals._cache
        key = cache._index_key(sig, internals.targetctx.codegen())
        return key not in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - numba's private cache API changed: do not guess
        return False


def compile_for(dispatcher, *args) -> None:
    """Load ``dispatcher`` from the disk cache, or compile it, for the argument types of
    ``dispatcher(*args)`` without calling it."""
    if isinstance(dispatcher, Dispatcher):
        dispatcher.compile(_signature(dispatcher, args))


_SCALARS = (bool, int, float)


class RepeatedCall:
    """Calls a kernel again and again with the same argument objects, as the run loop
    calls the stepper at every output time, without numba's dispatch.

    A dispatcher types every argument of every call to pick the compiled code: for the
    stepper's NamedTuples of arrays that is thousands of ``typeof`` calls, about 8 ms a
    call, more than a short interval's steps take.  While the arguments other than Python
    scalars are the same objects as on the last call (held here, so they cannot be
    replaced by others at the same address) and the scalars have the same Python types,
    their numba types cannot differ, and the call goes straight to the machine code numba
    compiled for them (``Dispatcher.compile`` returns its entry point).  Otherwise the
    call is dispatched as usual and the entry point looked up for the new types.

    ``clear()`` drops the held arguments (the run's arrays) when a run ends."""

    def __init__(self) -> None:
        self._kernel: Any = None
        self._held: tuple = ()
        self._kinds: tuple = ()
        self._sig: tuple | None = None
        self._entry: Any = None

    def __call__(self, kernel, args: tuple):
        entry = self.load(kernel, args)
        return kernel(*args) if entry is None else entry(*args)

    def types(self, kernel, args: tuple) -> tuple | None:
        """The numba types of ``kernel(*args)``, typed once for the same argument objects
        (what ``load`` compiles for; ``needs_compile(..., sig=)`` takes them); None
        without the JIT."""
        held = tuple(a for a in args if not isinstance(a, _SCALARS))
        kinds = tuple(type(a) for a in args if isinstance(a, _SCALARS))
        same = (
            kernel is self._kernel
            and kinds == self._kinds
            and len(held) == len(self._held)
            and all(a is b for a, b in zip(held, self._held))
        )
        if not same:
            self.clear()
            if not isinstance(kernel, Dispatcher):  # without the JIT: the plain function
                return None
            self._kernel, self._held, self._kinds = kernel, held, kinds
            self._sig = _signature(kernel, args)
        return self._sig

    def load(self, kernel, args: tuple):
        """The compiled entry point for these arguments (loaded from numba's disk cache or
        compiled if it is not in memory yet), kept for the next calls; None without the
        JIT."""
        sig = self.types(kernel, args)
        if sig is None:
            return None
        if self._entry is None:
            self._entry = kernel.compile(sig)
        return self._entry

    def clear(self) -> None:
        self._kernel, self._held, self._kinds, self._sig, self._entry = None, (), (), None, None
