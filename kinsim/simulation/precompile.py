"""Compile the stepper ahead, in a process of its own, while a cold run compiles its node
equilibrium: a first run uses two cores instead of one.

numba compiles one function at a time in a process.  A cold run compiles the node
equilibrium first (its start checks call it), then the stepper (``advance``, or
``advance_regions`` for moving regions) with every kernel it calls.  The stepper calls
the node equilibrium and its Newton step (of the moving regions: its step attempt)
through kernel references (``kinsim.kernels.kernel_ref``): it compiles without them.  So
a helper process compiles the kernels the stepper links (the simulation's
``_stage_kernels``: ``kinsim.kernels.step.stage_kernels``,
``kinsim.kernels.moving.stage_kernels``), then the stepper itself, into numba's disk
cache while the run compiles the equilibrium and checks its start; the run then compiles
the referenced kernels and what is left of the stage list from its end, and loads the
stepper from the cache as soon as the helper has put it there (:meth:`Precompile.wait`).

The helper starts only where it can help (:func:`start`): the equilibrium kernel not in
numba's cache (so neither is the stepper), or, with the equilibrium cached (another case
ran before), the stepper and the last kernel of its list, one it calls through a
reference, both not (``Simulation._stepper_cold`` and ``_reference_cold``: the helper
compiles the stepper while the run compiles that kernel); two CPUs or more and one of them idle, and
``KINSIM_PRECOMPILE`` not set to 0 (set to 1, the load is not looked at).  It is best
effort: what it does not compile, the run compiles itself, so the helper changes how long
a first run takes, never what it computes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from .._jit import compile_for, needs_compile

ENV_SWITCH = "KINSIM_PRECOMPILE"  # "0": no helper process; "1": one whatever the load
WAIT_LIMIT = 600.0  # s: the run stops waiting for the helper (and stops it) after this long


class Precompile:
    """A helper process compiling the stepper's kernels ahead (made by :func:`start`)."""

    def __init__(self, process: subprocess.Popen, case_path: str):
        self.process = process
        self.case_path = case_path

    def wait(self, stepper, share=(), timeout: float = WAIT_LIMIT) -> bool:
        """Share the helper's work, then wait until the stepper ``stepper`` (kernel,
        arguments) is in numba's cache, the helper has stopped or ``timeout`` seconds have
        passed; True if the stepper is in the cache.  The helper is stopped then (what it
        has not compiled, the run compiles).  ``share``: the kernels the stepper calls
        (``stage_kernels``: those it calls through references last), which this process
        compiles from the end, the referenced ones first (the helper compiles them after
        the stepper, which does not need them), until it meets the helper (a kernel the
        helper has put in numba's cache loads from there, and so does every kernel before
        it in the list)."""
        deadline = time.monotonic() + timeout
        for kernel, args in reversed(list(share)):
            if self.process.poll() is not None or not needs_compile(kernel, *args):
                break
            try:
                compile_for(kernel, *args)
            except Exception:  # noqa: BLE001 - the stepper's own compile reports it
                break
        kernel, args = stepper
        while needs_compile(kernel, *args) and self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = not needs_compile(kernel, *args)
        self.stop()
        return ready

    def stop(self) -> None:
        """Stop the helper if it still runs (the run failed or was interrupted) and remove
        its case file."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            os.unlink(self.case_path)
        except OSError:
            pass


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _idle_cpus(interval: float = 0.1) -> float | None:
    """CPUs idle over the next ``interval`` seconds (from /proc/stat), or None where that
    cannot be read.  (Not the load average: it trails the last minute, so that a machine
    that has just installed kinsim looks busy.)"""
    try:

        def sample():
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
            return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user .. steal

        idle0, total0 = sample()
        time.sleep(interval)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return (idle1 - idle0) / (total1 - total0) * (os.cpu_count() or 1)


def worthwhile() -> bool:
    """Whether a helper process can compile in parallel here: two CPUs or more and one of
    them idle (measured over 0.1 s; by the 1-minute load average where that cannot be
    measured); KINSIM_PRECOMPILE=0 says never, =1 always."""
    switch = os.environ.get(ENV_SWITCH, "").strip()
    if switch in ("0", "1"):
        return switch == "1"
    cpus = _cpus()
    if cpus < 2:
        return False
    idle = _idle_cpus()
    if idle is not None:
        return idle >= 0.9
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this system
        load = 0.0
    return load <= cpus - 1.0


def start(case) -> Precompile | None:
    """Start a helper process compiling the stepper's kernels for ``case`` (a
    :class:`~kinsim.case.Case` whose stepper is not in numba's cache), or None where it
    cannot help (:func:`worthwhile`)."""
    if not worthwhile():
        return None
    fd, path = tempfile.mkstemp(prefix="kinsim-precompile-", suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(case.to_toml())
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        os.unlink(path)
        return None
    return Precompile(process, path)


def compile_stages(case) -> int:
    """Compile (or load from numba's cache) the stepper of ``case`` and the kernels it
    calls, all but its node equilibria; the number that failed."""
    from .runner import Simulation

    sim = Simulation(case)
    state, fields, work = sim._stepper_arrays()
    stages = sim._stage_kernels(state, fields, work)
    # the stepper after the kernels it links and before those it calls through kernel
    # references (kinsim.kernels.kernel_ref), which it does not need to compile: the run
    # compiles the node equilibrium, and takes the referenced stages from the end meanwhile
    calls = [c for c in stages if not sim._is_referenced(c[0])]
    calls.append(sim._advance_call(state, fields, work, 0.0, 1))
    calls += [c for c in stages if sim._is_referenced(c[0])]
    failed = 0
    for kernel, args in calls:
        try:
            compile_for(kernel, *args)
        except Exception:  # noqa: BLE001 - the run compiles what the helper could not
            failed += 1
    return failed


def main(argv=None) -> int:
    """The helper process: ``python -m kinsim.simulation.precompile CASE.toml``."""
    from ..case import load_case

    argv = sys.argv[1:] if argv is None else argv
    return 1 if compile_stages(load_case(argv[0])) else 0


if __name__ == "__main__":
    sys.exit(main())
