"""Where the cold compile of a run goes: numba's compile time per jitted function.

Runs a case (``kinsim.run``, no result file) in this process with a new, empty numba
cache directory, listening to numba's compile events (``numba.core.event``), and prints
one row per jitted function that compiled:

* ``self``: seconds in the function's own compilations, without the functions it calls
  that compiled as functions of their own (those have their own rows);
* ``typing`` / ``lowering``: the two big parts of ``self``: numba's type inference of the
  function, and its lowering to LLVM IR followed by LLVM's optimisation and machine code
  of its library, which holds a copy of the libraries of every jitted function it calls
  (that is why a large kernel called from several others costs again in each);
* ``total``: with the compilations of its callees, as a caller sees it;
* ``n``: how many specialisations (argument types) compiled;
* ``IR``: lines of optimised LLVM IR of its libraries, the copies of its callees
  included: LLVM's work on a library grows with it, and unlike seconds it does not
  depend on the load of the machine.

Functions inlined by numba (``inline='always'``, ``@overload(..., inline='always')``)
have no row: their cost is in their callers'.  Seconds are wall time of this process
(run it on a quiet machine; on a loaded one the CPU seconds printed at the end are the
better measure).

Usage: python scripts/profile_compile.py [CASE.toml] [--top N] [--signatures]
(default: cases/darken-fe-si-c.toml, the 25 most expensive functions).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class CompileProfile:
    """Self and total compile seconds per jitted function from numba's "numba:compile"
    and "numba:run_pass" events (a stack of the open events: a compilation nested in
    another, while the outer one types its call, is subtracted from the outer one)."""

    def __init__(self):
        self.self_s = defaultdict(float)
        self.total_s = defaultdict(float)
        self.typing_s = defaultdict(float)
        self.lowering_s = defaultdict(float)
        self.passes = defaultdict(lambda: defaultdict(float))  # function -> compiler pass -> seconds
        self.signatures = defaultdict(list)
        self.compiled = defaultdict(list)  # (dispatcher, argument types) of each compilation
        self._stack = []  # [kind, name, start, seconds of nested compilations]

    @staticmethod
    def _name(dispatcher) -> str:
        f = dispatcher.py_func
        return f"{f.__module__}.{f.__qualname__}"

    def start(self, kind, name):
        self._stack.append([kind, name, time.perf_counter(), 0.0])

    def end(self, kind):
        k, name, t0, nested = self._stack.pop()
        assert k == kind, (k, kind)
        total = time.perf_counter() - t0
        own = total - nested
        if kind == "compile":
            self.self_s[name] += own
            self.total_s[name] += total
            if self._stack:
                self._stack[-1][3] += total
            return
        # a compiler pass of the innermost compilation: nested compilations count in the
        # enclosing compilation too
        if self._stack:
            self._stack[-1][3] += nested
            fn = self._stack[-1][1]
            self.passes[fn][name] += own
            if name == "nopython_type_inference":
                self.typing_s[fn] += own
            elif name == "native_lowering":
                self.lowering_s[fn] += own


def _listeners(profile: CompileProfile):
    from numba.core import event

    class Compiles(event.Listener):
        def on_start(self, ev):
            name = profile._name(ev.data["dispatcher"])
            profile.signatures[name].append(str(ev.data["args"]))
            profile.compiled[name].append((ev.data["dispatcher"], ev.data["args"]))
            profile.start("compile", name)

        def on_end(self, ev):
            profile.end("compile")

    class Passes(event.Listener):
        def on_start(self, ev):
            profile.start("pass", ev.data["name"].split(" [")[0])

        def on_end(self, ev):
            profile.end("pass")

    return {"numba:compile": Compiles(), "numba:run_pass": Passes()}


def ir_lines(compiled) -> int:
    """Lines of optimised LLVM IR of the libraries of these compilations (0 for one that
    failed: numba tries some while typing)."""
    lines = 0
    for dispatcher, args in compiled:
        cres = dispatcher.overloads.get(tuple(args))
        if cres is not None:
            lines += cres.library.get_llvm_str().count("\n")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case", nargs="?", default=str(REPO / "cases" / "darken-fe-si-c.toml"))
    ap.add_argument("--top", type=int, default=25, help="rows to print (default 25)")
    ap.add_argument("--signatures", action="store_true", help="print the argument types of each specialisation")
    ap.add_argument(
        "--passes",
        metavar="NAME",
        help="print the seconds of each compiler pass of the functions whose name ends with NAME",
    )
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    os.environ["NUMBA_CACHE_DIR"] = str(Path(tmp.name) / "numba-cache")  # before numba is imported
    w0 = time.perf_counter()
    import numba
    from numba.core import event

    import kinsim

    profile = CompileProfile()
    listeners = _listeners(profile)
    for kind, listener in listeners.items():
        event.register(kind, listener)
    w1, c1 = time.perf_counter(), time.process_time()
    try:
        kinsim.run(args.case)
    finally:
        for kind, listener in listeners.items():
            event.unregister(kind, listener)
        tmp.cleanup()
    w2, c2 = time.perf_counter(), time.process_time()

    rows = sorted(profile.self_s, key=lambda f: -profile.self_s[f])
    width = max([len(r) for r in rows[: args.top]] + [8])
    print(
        f"{Path(args.case).name}: cold run, numba {numba.__version__}, load average {os.getloadavg()[0]:.2f}; "
        f"compile seconds per jitted function (wall)"
    )
    print(f"{'function':<{width}} {'n':>3} {'self':>7} {'typing':>7} {'lowering':>8} {'total':>7} {'IR':>7}")
    for f in rows[: args.top]:
        print(
            f"{f:<{width}} {len(profile.signatures[f]):>3} {profile.self_s[f]:7.2f} {profile.typing_s[f]:7.2f} "
            f"{profile.lowering_s[f]:8.2f} {profile.total_s[f]:7.2f} {ir_lines(profile.compiled[f]):7d}"
        )
        if args.signatures:
            for s in profile.signatures[f]:
                print(f"    {s}")
        if args.passes and f.endswith(args.passes):
            for name, sec in sorted(profile.passes[f].items(), key=lambda kv: -kv[1]):
                if sec >= 0.01:
                    print(f"    {name:<40} {sec:7.2f}")
    rest = rows[args.top :]
    if rest:
        print(
            f"{f'({len(rest)} more functions)':<{width}} {'':>3} {sum(profile.self_s[f] for f in rest):7.2f} "
            f"{'':>7} {'':>8} {'':>7} {sum(ir_lines(profile.compiled[f]) for f in rest):7d}"
        )
    print(
        f"all compilations {sum(profile.self_s.values()):.2f} s and {sum(map(ir_lines, profile.compiled.values()))} "
        f"lines of IR; the run's {w2 - w1:.2f} s wall "
        f"({c2 - c1:.2f} s CPU); imports {w1 - w0:.2f} s; {sum(map(len, profile.signatures.values()))} "
        f"specialisations of {len(rows)} functions"
    )


if __name__ == "__main__":
    sys.exit(main())
