"""Loading kernels from numba's disk cache without re-reading their LLVM bitcode.

numba keeps each cached kernel as machine code plus the LLVM bitcode of its module, and
on every load parses that bitcode (``CPUCodeLibrary._unserialize``) for two uses: a
kernel compiled later in the process may link the library into its own module, and the
names of the symbols it defines are recorded (``JitEngine._load_defined_symbols``).  A
warm run compiles nothing, and the names are in the machine code's symbol table too;
parsing kinsim's 6 MB of bitcode took about 0.35 s of a 2 s warm process, and freeing
the parsed modules at exit more.

:func:`install` makes both lazy: the symbol names come from the ELF object (numba
registers every defined function and global of the module; the object's symbol table
holds the same definitions), and the bitcode is parsed when a library is first asked for
its module for linking.  It changes numba only where its code is the code this was
written against (the sources of the three methods are compared with the hashes below:
numba 0.60 to 0.68), only for ELF objects (Linux; another format takes numba's own path),
and not when KINSIM_LAZY_BITCODE=0.  The machine code that runs is the same either way.
"""

from __future__ import annotations

import hashlib
import os
import struct

# sha256 (first 16 hex digits) of the sources of the numba methods this replaces or
# relies on: CPUCodeLibrary._unserialize, CPUCodeLibrary._get_module_for_linking,
# JitEngine._load_defined_symbols (the same in numba 0.60.0 and 0.68.1)
_KNOWN = ("fe754ce9cf789799", "597eb0bbe046a91a", "63f5471764bf744d")

_SHT_SYMTAB = 2
_STT_SECTION, _STT_FILE = 3, 4


def elf_defined_symbols(obj: bytes) -> set[str] | None:
    """The names of the symbols an ELF64 little-endian relocatable object defines (its
    functions and data, of any binding), or None for another format."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    (e_shoff,) = struct.unpack_from("<Q", obj, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    names = set()
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != _SHT_SYMTAB or not entsize:
            continue
        strings = sections[link][4]
        for j in range(size // entsize):
            st_name, st_info, _, st_shndx, _, _ = struct.unpack_from("<IBBHQQ", obj, offset + j * entsize)
            if st_name and st_shndx != 0 and (st_info & 0xF) not in (_STT_SECTION, _STT_FILE):
                start = strings + st_name
                names.add(obj[start : obj.index(b"\0", start)].decode())
    return names


def _fingerprint(func) -> str:
    """The hash of the source text of a function: its ``def`` line and the indented
    lines below it (``inspect.getsource`` costs 0.1 s of imports and tokenizing)."""
    code = func.__code__
    with open(code.co_filename, encoding="utf-8") as fh:
        lines = fh.read().splitlines()[code.co_firstlineno - 1 :]
    indent = len(lines[0]) - len(lines[0].lstrip())
    body = [lines[0]]
    for line in lines[1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return hashlib.sha256("\n".join(body).rstrip().encode()).hexdigest()[:16]


def install() -> bool:
    """Make numba's cache loads lazy (see the module's text); False when it is left as
    it is (turned off, or numba's code is not the code this was written against)."""
    if os.environ.get("KINSIM_LAZY_BITCODE", "1") == "0":
        return False
    import llvmlite.binding as ll
    from numba.core import codegen

    lib = codegen.CPUCodeLibrary
    if getattr(lib, "_kinsim_lazy", False):
        return True
    unserialize = lib.__dict__["_unserialize"].__func__
    for_linking = lib._get_module_for_linking
    try:
        known = (
            _fingerprint(unserialize),
            _fingerprint(for_linking),
            _fingerprint(codegen.JitEngine._load_defined_symbols),
        ) == _KNOWN
    except (OSError, IndexError, UnicodeDecodeError):  # no source to compare
        known = False
    if not known:
        return False

    def _unserialize(cls, codegen_, state):
        name, kind, data = state
        symbols = elf_defined_symbols(data[0]) if kind == "object" else None
        if symbols is None:
            return unserialize(cls, codegen_, state)
        object_code, shared_bitcode = data
        self = codegen_.create_library(name)
        self.enable_object_caching()
        self._set_compiled_object(object_code)
        self._kinsim_bitcode = shared_bitcode  # parsed by _get_module_for_linking
        self._finalize_final_module()
        codegen_._engine._defined_symbols |= symbols
        return self

    def _get_module_for_linking(self):
        bitcode = getattr(self, "_kinsim_bitcode", None)
        if bitcode is not None:
            self._shared_module = ll.parse_bitcode(bitcode)
            self._kinsim_bitcode = None
        return for_linking(self)

    lib._unserialize = classmethod(_unserialize)  # type: ignore[method-assign,assignment]
    lib._get_module_for_linking = _get_module_for_linking  # type: ignore[method-assign]
    lib._kinsim_lazy = True  # type: ignore[attr-defined]
    return True
