"""Kernels loaded from numba's disk cache without parsing their bitcode (kinsim._jit_load):
the symbol names taken from the machine code are the ones numba takes from the bitcode;
a kernel compiled after such a load links the loaded library (its bitcode parsed then);
results are the same with the lazy load off; the change is declined where numba's code
is not the code it was written against, or when KINSIM_LAZY_BITCODE=0."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import llvmlite.binding as ll
import numba
import numpy as np

from kinsim import _jit
from kinsim._jit_load import elf_defined_symbols

TABLE = np.arange(5.0)


@numba.njit
def _inner(x):
    return np.sin(x) + TABLE[2]


@numba.njit(error_model="numpy", nogil=True, no_cfunc_wrapper=True)
def _outer(a):
    s = 0.0
    for v in a:
        s += _inner(v)
    w = np.linalg.eigh(np.eye(3) * s)[0]  # LAPACK through scipy, a global array, a string
    return s + w.sum(), "text"


def test_symbols_of_the_object_are_the_ones_numba_reads_from_the_bitcode():
    _outer(np.ones(3))
    for dispatcher in (_inner, _outer):
        (cres,) = dispatcher.overloads.values()
        _, kind, (obj, bitcode) = cres.library.serialize_using_object_code()
        mod = ll.parse_bitcode(bitcode)
        numbas = {g.name for gs in (mod.functions, mod.global_variables) for g in gs if not g.is_declaration}
        assert kind == "object" and len(numbas) > 3
        assert elf_defined_symbols(obj) == numbas


def test_another_object_format_takes_numbas_path():
    assert elf_defined_symbols(b"\xcf\xfa\xed\xfe" + bytes(60)) is None  # Mach-O


def _run(code: str, tmp_path, **env) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "nb"), "PYTHONPATH": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_kernel_compiled_after_a_lazy_load_links_the_loaded_library(tmp_path):
    (tmp_path / "cached_mod.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from kinsim._jit import jit

            @jit
            def helper(x):
                return np.sqrt(x) + 1.0

            @jit
            def total(a):
                s = 0.0
                for v in a:
                    s += helper(v)
                return s
            """
        )
    )
    _run("import numpy as np, cached_mod; print(cached_mod.total(np.arange(4.0)))", tmp_path)  # fills the cache
    got = _run(
        """
        import numpy as np, numba, cached_mod
        from kinsim import _jit
        a = np.arange(4.0)
        first = cached_mod.total(a)  # from the cache
        (lib,) = [c.library for c in cached_mod.total.overloads.values()]
        lazy = getattr(lib, "_kinsim_bitcode", None) is not None

        @numba.njit  # new: links the loaded library into its own module
        def twice(a):
            return 2.0 * cached_mod.total(a)

        print(_jit.LAZY_BITCODE, lazy, first, twice(a), getattr(lib, "_kinsim_bitcode", 0) is None)
        """,
        tmp_path,
    )
    expected = float(np.sum(np.sqrt(np.arange(4.0)) + 1.0))
    flag, lazy, first, twice, parsed = got.split()
    assert (flag, lazy, parsed) == ("True", "True", "True")
    assert float(first) == expected and float(twice) == 2.0 * expected


def test_off_by_environment_and_for_unknown_numba_code(tmp_path):
    assert _jit.LAZY_BITCODE  # the numba of this environment is one it was written against
    assert _run("from kinsim import _jit; print(_jit.LAZY_BITCODE)", tmp_path, KINSIM_LAZY_BITCODE="0").strip() == (
        "False"
    )
    code = """
        import kinsim._jit_load as j
        j._KNOWN = ("0" * 16,) * 3  # numba's methods changed
        from kinsim import _jit
        from numba.core import codegen
        print(_jit.LAZY_BITCODE, getattr(codegen.CPUCodeLibrary, "_kinsim_lazy", False))
        """
    assert _run(code, tmp_path).split() == ["False", "False"]


def test_a_run_gives_the_same_arrays_with_the_lazy_load_off(tmp_path):
    """The shipped erfc couple on a small grid, in fresh processes: every array equal."""
    from conftest import REPO

    code = f"""
        import sys, kinsim
        kinsim.run({str(REPO / "cases" / "ideal-binary-erf.toml")!r}, overrides=["grid.nodes=40"], output=sys.argv[1])
        """
    for name, lazy in (("lazy.h5", "1"), ("eager.h5", "0")):
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), str(tmp_path / name)],
            env={**os.environ, "KINSIM_LAZY_BITCODE": lazy},
            check=True,
            capture_output=True,
            timeout=600,
        )
    from kinsim.storage import read_result

    a, b = read_result(tmp_path / "lazy.h5"), read_result(tmp_path / "eager.h5")
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.time, b.time)
