"""How much memory and disk a diffusion run needs, and how much the machine has.

:func:`estimate` is a pure function of a run's dimensions: N grid nodes, n components, K
site fractions of the phase, S snapshots (the one at t = 0 included), the Kirkendall
markers, the external potentials, and whether the run has gradient energy (a
``[gradient]`` table: 2m unknowns per node, m = n - 1) or periodic ends (the cyclic block
solve).  It gives, in bytes,

- the memory of the arrays the run holds at its peak, by what holds them (the arrays
  ``kinsim.simulation.setup`` and ``kinsim.kernels.step.workspace`` make): the grid, the
  initial profile, the external potentials on the grid (``Schedules.phi_node``), the
  stepper state (``StepperState``: U, Y, the BDF2 history), the fields (``Fields``: mu,
  dmu/du, L', Phi, mu + Phi and the fluxes), the work arrays of ``advance``
  (``Workspace``: node scratch with PD (N, n, n), the residual, the Jacobian blocks Gm/Gp
  (N+1, n, n-1), the block-Thomas arrays or, on periodic grids, the cyclic blocks, the
  trial state), with gradient energy the mixed form's arrays
  (``kinsim.kernels.gradient.Gradient``: psi, its residual, dJ/dpsi, the Newton blocks
  and block-solve scratch of 2m x 2m per node) and the buffers of a snapshot; for a run
  held in memory (``kinsim.run`` without ``output``) also its snapshots, checkpoint and
  parameters.  Python's own objects and the loaded kernels are not counted: they are
  already in use when the check is made, so the available memory excludes them.  Nor are
  the work arrays a run allocates but never writes (``workspace`` makes the sharp
  solver's block-Thomas arrays for gradient and periodic runs too): ``np.zeros`` maps
  their pages lazily, and an untouched page takes no memory;
- the size of the result file: the snapshots as the writer stores them (whole chunks
  along time, :func:`snapshots_per_chunk`; with /free_energy and, with gradient energy,
  /gradient_potential (N, m)), coordinates, parameters (each with its
  float32 dimension scale), checkpoint and a metadata allowance.

:func:`check_memory` and :func:`check_disk` compare an estimate with what the machine
has: the available memory (``MemAvailable`` of /proc/meminfo, or the free physical pages,
and the cgroup's memory limit when it is lower) and the free disk of the output folder
(and the file-size limit, ``ulimit -f``).  A run may take at most
:data:`MEMORY_FRACTION` of the one and :data:`DISK_FRACTION` of the other; beyond, they
raise :class:`~kinsim.errors.InputError` with the estimate and what to change.

This module imports nothing heavy: the case parser calls :func:`require_memory` to refuse
grids and snapshot lists that would not even fit in memory before building them.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CaseError, InputError, OutputRefusedError

__all__ = [
    "CHUNK_CACHE_BYTES",
    "DISK_FRACTION",
    "MEMORY_FRACTION",
    "RunSize",
    "available_memory",
    "check_disk",
    "check_grid_nodes",
    "check_memory",
    "check_snapshot_count",
    "estimate",
    "existing_folder",
    "file_size_limit",
    "format_bytes",
    "free_disk",
    "require_memory",
    "resized",
    "run_disk_advice",
    "run_size",
    "snapshots_per_chunk",
]

#: a run may use at most this fraction of the available memory (the rest: Python, the
#: kernels, HDF5 buffers, the other processes of the machine)
MEMORY_FRACTION = 0.8
#: a result file may take at most this fraction of the free disk of its folder
DISK_FRACTION = 0.9

_F8 = 8  # bytes of a float64 or int64
_SCALE = 4  # bytes per element of the float32 dimension scale of a stored parameter
_METADATA = 256 * 1024  # HDF5 object headers, B-trees, heaps, root attributes (measured: < 100 KiB)
_SMALL_PARAMETERS = 64 * 1024  # the boundary, temperature and reference tables of the run (Problem)
_CHUNK_BYTES = 1 << 17  # the writer's target chunk size along time (128 KiB)
#: the HDF5 chunk cache of each dataset of a result file being written (the writer sets
#: it: HDF5's default changed from 1 to 8 MiB in 2.0); chunks larger than this bypass it
CHUNK_CACHE_BYTES = 1 << 20
_PY_TIME_BYTES = 2 * 8 + 24  # an output time of a case: a float in a list and in a tuple


def snapshots_per_chunk(nz: int, nf: int, nc: int) -> int:
    """Snapshots per HDF5 chunk of the per-snapshot datasets of a result with ``nz``
    nodes, ``nf`` faces and ``nc`` components (chunks of about 128 KiB, 1 to 1024)."""
    return max(1, min(1024, _CHUNK_BYTES // (_F8 * max(1, max(nz, nf) * nc))))


def format_bytes(n: float) -> str:
    """``n`` bytes as 512 B, 3.4 MB, 24.1 GB (powers of 1000)."""
    for unit, scale in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


@dataclass(frozen=True)
class RunSize:
    """The estimate of one run (see the module docstring); bytes."""

    nodes: int
    components: int
    site_fractions: int
    snapshots: int
    potentials: int
    in_memory: bool
    memory: dict = field(default_factory=dict)  # what holds the memory at the peak -> bytes
    result: dict = field(default_factory=dict)  # the parts of the result file -> bytes
    snapshot_bytes: int = 0  # the file's growth per snapshot
    gradient: bool = False  # gradient energy (the mixed form)
    periodic: bool = False  # periodic ends (the cyclic block solve)
    node_floats: int | None = None  # per node, the node model's scratch (None: one phase's)
    extra_floats: int = 0  # per node and snapshot, the node model's further result arrays
    output_floats: int = 0  # per node, the arrays that make those at a snapshot
    output_work: int = 0  # and the work arrays that make them

    @property
    def memory_bytes(self) -> int:
        return sum(self.memory.values())

    @property
    def file_bytes(self) -> int:
        return sum(self.result.values())

    def describe(self) -> str:
        """The run's dimensions, e.g. '100000000 nodes x 3 components, 3 site fractions'."""
        return (
            f"{self.nodes} nodes x {self.components} components, {self.site_fractions} site fractions"
            + (f", {self.potentials} potentials" if self.potentials else "")
            + (", gradient energy" if self.gradient else "")
            + (", periodic" if self.periodic else "")
        )

    def largest_memory(self, k: int = 3) -> str:
        """The ``k`` largest memory holders, e.g. 'stepper work arrays 12 GB, state 6 GB'."""
        top = sorted(self.memory.items(), key=lambda kv: -kv[1])[:k]
        return ", ".join(f"{name} {format_bytes(b)}" for name, b in top)


def estimate(
    nodes: int,
    components: int,
    site_fractions: int,
    snapshots: int,
    *,
    markers: int = 1,
    potentials: int = 0,
    parameter_bytes: int = 0,
    in_memory: bool = False,
    gradient: bool = False,
    periodic: bool = False,
    node_floats: int | None = None,
    extra_floats: int = 0,
    output_floats: int = 0,
    output_work: int = 0,
    stability_watch: bool = False,
) -> RunSize:
    """The memory and result-file size of a run (see the module docstring).

    ``snapshots`` counts every stored snapshot, the initial one included;
    ``site_fractions``: the floats per node of the node model's state (one phase's site
    fractions, or the homogenization model's packed state); ``parameter_bytes`` is the
    size of the phase's parameter arrays (stored with the result); ``in_memory``: the
    result is held in memory instead of a file; ``gradient``: the run has gradient
    energy; ``periodic``: its ends are periodic.  The node model's share, in 8-byte
    numbers per node: ``node_floats`` its scratch (None: one phase's, ``evaluate_nodes``'),
    ``extra_floats`` the further arrays it adds to every snapshot (the homogenization
    model's phase fractions and compositions, the moving boundary's node and face
    positions), ``output_floats`` the arrays that make them at a snapshot; and
    ``output_work`` 8-byte numbers of work arrays while they are made.
    ``stability_watch``: the stored states are checked as the run goes (the
    StabilityWatch's record of the last searches)."""
    N, n, K, S, M, E = (int(v) for v in (nodes, components, site_fractions, snapshots, markers, potentials))
    G, P = bool(gradient), bool(periodic)
    m = max(n - 1, 1)
    b = 2 * m  # the unknowns per node of the mixed form (u and psi)
    # the node model's scratch: one phase's X (N, n), PD (N, n, n), (N, m, m) and three (N)
    node = n + n * n + m * m + 3 if node_floats is None else int(node_floats)
    per_snapshot = {"x": N * n, "mu": N * n, "flux": (N + 1) * n, "markers": M, "temperature": 1, "free_energy": 1}
    if extra_floats:
        per_snapshot["node model"] = N * int(extra_floats)
    if E:
        per_snapshot["potential"] = N * n
    if G:
        per_snapshot["gradient_potential"] = N * m
    series = _F8 * sum(per_snapshot.values())
    checkpoint = _F8 * (N * (4 * n + K) + M + 2 * K + 10)  # U, Y, hist_U (3); markers, bc_Y, scalars
    node_parameters = _F8 * (5 * N + 2 + E * N) + _SCALE * (6 * N + 2)  # sim_z, dz, area, volume, phi_node, grid_faces
    chunk = snapshots_per_chunk(N, N + 1, n)
    # held for the whole run
    memory = {
        # Grid1D (faces, z, dz, width, area, volume) and the kernels' Grid (its own dz)
        "grid": _F8 * (7 * N + 1),
        "initial profile": _F8 * N * n,
        "external potentials": _F8 * N * E,  # Schedules.phi_node (E, N)
        "stepper state": _F8 * N * (4 * n + K),  # U, Y, hist_U (3, N, n)
        # Fields: MU, L, PHI, M (N, n), DMDU (N, n, m); Jp, J (N+1, n)
        "fields": _F8 * (N * (4 * n + n * m) + 2 * (N + 1) * n),
    }
    if stability_watch:
        # the potentials (N, n) and the margin (N) of the last search of each of two
        # groups of candidates, and a difference of potentials (N, n) while it compares
        memory["stability watch"] = _F8 * N * (3 * n + 2)
    if in_memory:
        # the snapshots as appended, the parameters, and a copy of the checkpoint (two
        # while a new one replaces the previous one)
        memory["result held in memory"] = S * series + 2 * checkpoint + _F8 * N * (5 + E) + parameter_bytes
    else:
        # the chunk cache of each large snapshot dataset (chunks larger than it bypass it)
        memory["HDF5 chunk caches"] = CHUNK_CACHE_BYTES * (3 + (E > 0) + G)
    # the buffers of a snapshot, made while the workspace is held: x from u (with its
    # temporaries, 2 (N, n) and (N)), a copy of the potentials (N, n) and of psi (N, m)
    memory["snapshot buffers"] = _F8 * (
        2 * N * n + N + (N * n if E else 0) + (N * m if G else 0) + N * int(output_floats) + int(output_work)
    )
    # and the larger of: the work arrays of advance(), freed when the run returns, and
    # the stacked copy of a result held in memory (MemoryStore.result(), made after the
    # run).  The Workspace arrays every run writes: the node scratch (``node`` per node);
    # F, R (N, m); Gm, Gp (N+1, n, m); U_trial (N, n), Y_trial (N, K), warm (N).  Those
    # of its solver:
    work = N * (node + n + 2 * m + 1 + K) + 2 * (N + 1) * n * m
    if G:
        # the mixed form (Gradient): psi, Rpsi (N, m); dJ/dpsi Gm, Gp (N+1, n, m); the
        # Newton blocks Lo, Di, Up and the block solve's X, Z (N, 2m, 2m); sol, Y (N, 2m)
        work += N * (2 * m + 5 * b * b + 2 * b) + 2 * (N + 1) * n * m
    elif P:
        # the correction dU (N, m); the cyclic blocks Lo, Di, Up and the block solve's
        # X, Z (N, m, m) and Y (N, m)
        work += N * (m + 5 * m * m + m)
    else:
        # the correction dU and block-Thomas Yb (N, m), its X (N, m, m)
        work += N * (2 * m + m * m)
    work *= _F8
    if in_memory and S * series > work:
        memory["stacked result"] = S * series
    else:
        memory["stepper work arrays"] = work
    stored_snapshots = math.ceil(S / chunk) * chunk
    time_chunk = max(chunk, 64)
    result = {
        "snapshots": stored_snapshots * series + _F8 * math.ceil(S / time_chunk) * time_chunk,
        "coordinates": _F8 * (2 * N + 1 + M) + 64 * n,
        "parameters": node_parameters + parameter_bytes + _SMALL_PARAMETERS,
        "checkpoint": checkpoint,
        "metadata": _METADATA,
    }
    return RunSize(
        N,
        n,
        K,
        S,
        E,
        bool(in_memory),
        memory,
        result,
        series,
        G,
        P,
        node_floats,
        int(extra_floats),
        int(output_floats),
        int(output_work),
    )


def run_size(case, params, in_memory: bool = False, extra_floats: int = 0) -> RunSize:
    """The estimate of a run of ``case`` with the node model of the kernel parameters
    ``params`` (one phase's :class:`~kinsim.thermo.params.ThermoParams`, or the
    homogenization model's): its state, scratch and result arrays.  ``extra_floats``:
    further floats per node and snapshot the run's model stores (the moving boundary's
    positions)."""
    from .homogenization import OUTPUT_BLOCK, phase_output_floats
    from .kernels.node_models import scratch_floats, state_width

    parameter_bytes = sum(v.nbytes + _SCALE * sum(v.shape) for v in params._asdict().values() if hasattr(v, "nbytes"))
    periodic = any(st.type == "periodic" for b in (case.boundary.left, case.boundary.right) for st in b.stages)
    stored, block = phase_output_floats(params)
    return estimate(
        case.grid.nodes,
        len(case.components),
        state_width(params),
        len(case.output.snapshots) + 1,
        potentials=len(case.potentials),
        parameter_bytes=parameter_bytes,
        in_memory=in_memory,
        gradient=getattr(case, "gradient", None) is not None,
        periodic=periodic,
        node_floats=scratch_floats(params),
        extra_floats=stored + extra_floats,
        output_floats=stored,
        output_work=block * min(int(case.grid.nodes), OUTPUT_BLOCK),
        stability_watch=case.thermo.check == "states"
        and case.thermo.candidates != ()
        and len(case.output.snapshots) > 1,
    )


# ======================================================================================
# What the machine has
# ======================================================================================
def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().split()[0]
    except (OSError, IndexError):
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" for no limit


def _cgroup_room() -> int | None:
    """Bytes the process's memory cgroup still allows (v2 or v1), None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 1 << 60:
            return max(0, limit - usage)
    return None


def available_memory() -> int:
    """Bytes of memory available to a new allocation without swapping: MemAvailable (or
    the free physical pages), or the cgroup's remaining limit when lower."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
            return 1 << 62
    room = _cgroup_room()
    return avail if room is None else min(avail, room)


def existing_folder(path) -> Path:
    """The folder a file ``path`` goes to, or its nearest existing ancestor."""
    folder = Path(path).expanduser().absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def free_disk(path) -> int:
    """Bytes free (for an unprivileged user) on the disk that holds the file ``path``."""
    return shutil.disk_usage(existing_folder(path)).free


def file_size_limit() -> int | None:
    """The process's file-size limit in bytes (``ulimit -f``), None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


# ======================================================================================
# The checks
# ======================================================================================
def _fitting(size_of, budget: float, lo: int) -> int:
    """The largest k >= lo with size_of(k) <= budget (0 when none); size_of increasing."""
    if size_of(lo) > budget:
        return 0
    hi = lo
    while size_of(hi * 2) <= budget:
        hi *= 2
        if hi > 1 << 60:
            return hi
    step = 1 << (hi.bit_length() - 1)  # the answer is below 2 hi: add powers of two down to 1
    while step:
        if size_of(hi + step) <= budget:
            hi += step
        step //= 2
    return hi


def check_memory(size: RunSize, concurrent: int = 1, where: str = "") -> RunSize:
    """Raise :class:`InputError` when ``concurrent`` runs of ``size`` need more than
    :data:`MEMORY_FRACTION` of the available memory; return ``size``.  ``where``
    prefixes the message (e.g. the sweep run)."""
    need = size.memory_bytes * concurrent
    avail = available_memory()
    budget = MEMORY_FRACTION * avail
    if need <= budget:
        return size
    head = f"{where}: " if where else ""
    what = (
        f"{concurrent} runs at a time need about {format_bytes(need)}"
        if concurrent > 1
        else f"the run needs about {format_bytes(need)}"
    )
    per_run = budget / concurrent
    max_nodes = _fitting(lambda k: resized(size, nodes=k).memory_bytes, per_run, 3)
    advice = [f"use fewer grid.nodes (at most about {max_nodes})" if max_nodes else "use fewer grid.nodes"]
    if size.in_memory:
        max_snaps = _fitting(lambda k: resized(size, snapshots=k).memory_bytes, per_run, 2)
        advice.append(
            f"fewer output.snapshots (at most about {max(max_snaps - 1, 1)})" if max_snaps else "fewer output.snapshots"
        )
        advice.append("or write the result to a file (output=...)")
    if concurrent > 1:
        fit = int(budget // size.memory_bytes) if size.memory_bytes else concurrent
        advice.append(f"or run at most {max(fit, 1)} at a time (--workers {max(fit, 1)})")
    raise InputError(
        f"{head}{what} of memory for its arrays ({size.describe()}: {size.largest_memory()}), "
        f"more than {MEMORY_FRACTION:.0%} of the {format_bytes(avail)} available; " + ", ".join(advice)
    )


def check_disk(need: int, path, what: str, advice: str, reclaim: int = 0) -> None:
    """Raise :class:`OutputRefusedError` when ``need`` bytes for ``path`` exceed
    :data:`DISK_FRACTION` of the free disk of its folder (plus ``reclaim`` bytes that
    writing it frees, e.g. a file it replaces) or the file-size limit."""
    folder = existing_folder(path)
    free = shutil.disk_usage(folder).free + max(0, int(reclaim))
    if need > DISK_FRACTION * free:
        raise OutputRefusedError(
            f"{what} would take about {format_bytes(need)}, more than {DISK_FRACTION:.0%} of the "
            f"{format_bytes(free)} free on the disk of {folder}; {advice}"
        )
    limit = file_size_limit()
    if limit is not None and need > limit:
        raise OutputRefusedError(
            f"{what} would take about {format_bytes(need)}, more than this process's file-size "
            f"limit (ulimit -f) of {format_bytes(limit)}; {advice}"
        )


def run_disk_advice(size: RunSize, path, reclaim: int = 0) -> str:
    """What to change when the result file of ``size`` does not fit next to ``path``."""
    budget = DISK_FRACTION * (free_disk(path) + reclaim)
    limit = file_size_limit()
    if limit is not None:
        budget = min(budget, limit)
    max_snaps = _fitting(lambda k: resized(size, snapshots=k).file_bytes, budget, 2)
    snaps = f"fewer output.snapshots (at most about {max_snaps - 1})" if max_snaps > 1 else "fewer output.snapshots"
    return f"use {snaps} or fewer grid.nodes, or write the result to another disk (-o)"


def resized(size: RunSize, **change) -> RunSize:
    """``size`` with other ``nodes``, ``snapshots`` or ``in_memory`` (the phase's
    parameter bytes kept)."""
    args: dict[str, Any] = dict(
        nodes=size.nodes,
        components=size.components,
        site_fractions=size.site_fractions,
        snapshots=size.snapshots,
        potentials=size.potentials,
        in_memory=size.in_memory,
        gradient=size.gradient,
        periodic=size.periodic,
        node_floats=size.node_floats,
        extra_floats=size.extra_floats,
        output_floats=size.output_floats,
        output_work=size.output_work,
    )
    parameter_bytes = size.result["parameters"] - estimate(**args).result["parameters"]
    args.update(change)
    return estimate(**args, parameter_bytes=parameter_bytes)


def require_memory(nbytes: float, what: str, advice: str, error=InputError) -> None:
    """Raise ``error`` when ``nbytes`` exceed :data:`MEMORY_FRACTION` of the available
    memory: a guard for structures built while a case is read (``what`` names the key,
    ``advice`` says what to change)."""
    avail = available_memory()
    if nbytes > MEMORY_FRACTION * avail:
        raise error(
            f"{what} needs at least {format_bytes(nbytes)} of memory, more than "
            f"{MEMORY_FRACTION:.0%} of the {format_bytes(avail)} available; {advice}"
        )


def check_grid_nodes(nodes: int, components: int) -> None:
    """Refuse ``grid.nodes`` (:class:`CaseError`) before the grid is built when even the
    least memory a run of that many nodes can take (a phase with one site fraction per
    component, one snapshot) does not fit."""
    least = lambda k: estimate(k, components, components, 1).memory_bytes  # noqa: E731
    if least(nodes) <= MEMORY_FRACTION * available_memory():
        return
    most = _fitting(least, MEMORY_FRACTION * available_memory(), 3)
    require_memory(
        least(nodes),
        f"grid.nodes = {nodes}: a run of {nodes} nodes x {components} components",
        f"use fewer grid.nodes (at most about {most})" if most else "use fewer grid.nodes",
        CaseError,
    )


def check_snapshot_count(count: int) -> None:
    """Refuse ``output.snapshots = count`` (:class:`CaseError`) before the list of output
    times is made when that list alone does not fit in memory."""
    require_memory(
        _PY_TIME_BYTES * int(count),
        f"output.snapshots = {count}: the list of output times",
        "give fewer output.snapshots",
        CaseError,
    )
