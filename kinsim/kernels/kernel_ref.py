"""Kernel references: one kernel calls another through its address instead of linking it.

numba links a copy of every jitted function a kernel calls into the kernel's own library
and has LLVM optimise and emit machine code for all of it again (kinsim._jit).  The node
equilibrium is the largest kernel kinsim has, and every stepper (one per case variant:
gradient energy, periodic ends, explicit, moving regions) called it, so a cold start
compiled it once for the start check and again inside each stepper; a stepper's cache
file carried a copy of it too, which a warm run parses when it loads the stepper.

A :class:`KernelRef` names a jitted kernel and the exact argument types it is called with.
Passed to a kernel (as an argument or inside a tuple of arguments), it is a 64-bit
address; :func:`call_ref` calls the kernel's compiled code at that address with numba's
own calling convention, so the callee is compiled once, on its own, and the caller is
compiled without it (and possibly before it: only the Python side needs the callee's
code, when it passes the reference).  The types are checked when the caller is typed: a
call with other argument types is a typing error, never a call with the wrong layout.
Inlining stops at the reference, which costs one indirect call per batch of nodes; the
arithmetic, and so every result, is the same.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import NativeValue, intrinsic, models, register_model, typeof_impl, unbox

from .._jit import needs_compile_types


class KernelRefType(types.Type):
    """numba type of a :class:`KernelRef`: the kernel's name, argument types and return
    type are part of the type, so a caller compiled for one reference is compiled for
    exactly that signature."""

    def __init__(self, kernel: str, argtypes: tuple, return_type):
        self.kernel = kernel
        self.argtypes = tuple(argtypes)
        self.return_type = return_type
        args = ", ".join(str(a) for a in self.argtypes)
        super().__init__(name=f"KernelRef[{kernel}]({args}) -> {return_type}")


@register_model(KernelRefType)
class _KernelRefModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.IntType(64))


class KernelRef:
    """The compiled code of ``dispatcher`` for the argument types ``argtypes`` (numba
    types), returning ``return_type``, to be called from another kernel with
    :func:`call_ref`.  The kernel is compiled (or loaded from numba's disk cache) when
    its address is first needed: when the reference is passed to a compiled kernel."""

    def __init__(self, dispatcher, argtypes, return_type=types.none):
        self.dispatcher = dispatcher
        self.argtypes = tuple(types.unliteral(a) for a in argtypes)
        self.return_type = return_type
        self._address = 0
        name = dispatcher.py_func
        self.numba_type = KernelRefType(f"{name.__module__}.{name.__qualname__}", self.argtypes, return_type)

    @classmethod
    def for_values(cls, dispatcher, args, return_type=types.none) -> KernelRef:
        """The reference for calls with arguments of the types of these values."""
        return cls(dispatcher, [dispatcher.typeof_pyval(a) for a in args], return_type)

    def compile(self):
        """Compile the kernel (or load it from numba's cache); its compile result."""
        cres = self.dispatcher.overloads.get(self.argtypes)
        if cres is None:
            self.dispatcher.compile(self.argtypes)
            cres = self.dispatcher.overloads[self.argtypes]
        if cres.signature.return_type != self.return_type:
            raise TypeError(
                f"{self.numba_type.kernel} returns {cres.signature.return_type}, "
                f"its kernel reference says {self.return_type}"
            )
        return cres

    def needs_compile(self) -> bool:
        """Whether taking the address compiles the kernel (neither in memory nor in
        numba's disk cache)."""
        return needs_compile_types(self.dispatcher, self.argtypes)

    @property
    def address(self) -> int:
        """Address of the compiled function (numba's calling convention)."""
        if not self._address:
            cres = self.compile()
            self._address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
        return self._address

    def __repr__(self) -> str:
        return f"<{self.numba_type}>"


@typeof_impl.register(KernelRef)
def _typeof_kernel_ref(val, c):
    return val.numba_type


@unbox(KernelRefType)
def _unbox_kernel_ref(typ, obj, c):
    address = c.pyapi.object_getattr_string(obj, "address")
    with cgutils.if_unlikely(c.builder, cgutils.is_null(c.builder, address)):
        c.builder.ret(c.pyapi.get_null_object())  # the compile raised: propagate it
    value = c.pyapi.long_as_longlong(address)
    c.pyapi.decref(address)
    return NativeValue(value, is_error=c.pyapi.c_api_error())


def _call_ref(typingctx, ref, args):
    """``call_ref(ref, (a, b, ...))``: the kernel of the reference ``ref`` called with the
    arguments of the tuple (their types must be the reference's, checked when the
    caller is typed); returns what the kernel returns.  Errors the kernel raises
    propagate to the caller as from a direct call."""
    if not isinstance(ref, KernelRefType):
        return None
    if not isinstance(args, types.BaseTuple):
        raise TypingError(f"call_ref: the arguments of {ref.kernel} must be passed as one tuple")
    given = tuple(types.unliteral(a) for a in args.types)  # type: ignore[attr-defined]  # every tuple type has .types
    if given != ref.argtypes:
        diff = [
            f"argument {i}: {g} (the reference's: {r})" for i, (g, r) in enumerate(zip(given, ref.argtypes)) if g != r
        ]
        if len(given) != len(ref.argtypes):
            diff.append(f"{len(given)} arguments (the reference's: {len(ref.argtypes)})")
        raise TypingError(f"call_ref: {ref.kernel} called with other types than its reference: " + "; ".join(diff))
    return_type = ref.return_type
    argtypes = ref.argtypes

    def codegen(context, builder, signature, llargs):
        fnty = context.call_conv.get_function_type(return_type, argtypes)
        fnptr = builder.inttoptr(llargs[0], fnty.as_pointer())
        values = [builder.extract_value(llargs[1], i) for i in range(len(argtypes))]
        status, result = context.call_conv.call_function(builder, fnptr, return_type, argtypes, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return result

    return return_type(ref, args), codegen


# (typed Any: mypy sees numba's intrinsic object, which jitted code calls without the
# typing context)
call_ref: Any = intrinsic(_call_ref)
