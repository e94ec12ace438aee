"""The memory and disk estimate of a run (kinsim/resources.py) against what a run really
takes: the peak resident memory of a process running it, the size of the file it writes,
the chunking the writer chooses; and the checks built on it (what to change, the limits
it names)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
from conftest import REPO, TESTS_DB

from kinsim import resources
from kinsim.case import load_case
from kinsim.errors import CaseError, InputError, OutputRefusedError
from kinsim.resources import estimate, format_bytes, resized, run_size, snapshots_per_chunk

NICRAL = REPO / "cases" / "nicral-couple.toml"
ROD = REPO / "cases" / "stressed-rod.toml"
FECR = REPO / "cases" / "fe-cr-spinodal.toml"
HOMOG = REPO / "cases" / "fe-cr-ni-alpha-gamma.toml"  # the homogenization model (two phases)
# 30000 nodes at the case's spacing of 0.25 nm
FECR_SETS = ["grid.length=7.5 um"]
# a ternary with gradient energy (2m = 4 unknowns per node) and closed ends: the stable
# austenite of tests/simulation/test_gradient.py with random fluctuations and a coupled kappa matrix
FECRNI_GRADIENT = {
    "title": "Fe-18Cr-10Ni with gradient energy",
    "thermo": {"database": str(TESTS_DB / "fe-cr-ni.tdb"), "phase": "FCC_A1", "components": ["FE", "CR", "NI"]},
    "conditions": {"temperature": 1373.0, "duration": 1.0},
    "grid": {"length": 7.5e-6, "nodes": 30000},
    "initial": {
        "type": "uniform",
        "composition": {"CR": 0.18, "NI": 0.10},
        "perturbation": {"type": "random", "amplitude": {"CR": 0.01, "NI": 0.01}, "seed": 7},
    },
    "gradient": {"kappa": [[2e-14, 0.8e-14], [0.8e-14, 1e-14]]},
    "solver": {"rtol": 1e-6, "atol": 1e-10},
    "output": {"snapshots": 2},
}

# a small run of the case in a process of its own, before the measuring one: the kernels
# it needs are then in numba's disk cache, whatever ran before (a cold compile in the
# measuring process would free memory that its run reuses, lowering the measured peak by
# several MB, so the measurement would depend on the order the tests run in)
_WARM = textwrap.dedent("""
    import sys
    from kinsim.case import load_case
    from kinsim.simulation import Simulation
    case_path, out = sys.argv[1], sys.argv[2]
    sets = ["output.snapshots=2", "conditions.duration=0.01 s", "grid.nodes=20"] + sys.argv[3:]
    Simulation(load_case(case_path, overrides=sets)).run(output=out, progress=False)
""")

# one run in a fresh process: the peak resident memory it adds (from before its
# Simulation is made to the end), with glibc returning every freed block >= 16 KiB to the
# system (so that the peak is that of the live arrays, not of the heap's leftovers).  The
# peak (VmHWM) is reset after the warm-up run, whose loading of the kernels from numba's
# cache takes more.  Further arguments: overrides of the case.
_MEASURE = textwrap.dedent("""
    import json, os, sys
    from kinsim.case import load_case
    from kinsim.resources import run_size
    from kinsim.simulation import Simulation
    from kinsim.storage import MemoryStore
    case_path, nodes, out, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sets = ["output.snapshots=2", "conditions.duration=0.01 s"] + sys.argv[5:]
    # load the kernels first (their code is not the run's)
    Simulation(load_case(case_path, overrides=sets + ["grid.nodes=20"])).run(output=out + ".warm.h5", progress=False)
    case = load_case(case_path, overrides=sets + [f"grid.nodes={nodes}"])
    # the start check of this grid's compositions, so that the run reads its report from
    # the cache (a search would load its kernels inside the measurement)
    Simulation(case).check_stability(warn=False)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak resident memory (Linux >= 4.0)
    with open("/proc/self/statm") as fh:
        before = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    sim = Simulation(case)
    if mode == "file":
        sim.run(output=out, progress=False)
    else:
        stores = []
        sim.run(progress=False, storage=MemoryStore.collecting(stores))
        stores[0].result()
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
    size = run_size(case, sim.model.params, in_memory=mode != "file")
    print(json.dumps({"measured": peak - before, "estimate": size.memory_bytes, "memory": size.memory,
                      "file": os.path.getsize(out) if mode == "file" else 0, "file_estimate": size.file_bytes}))
""")


@pytest.mark.slow
@pytest.mark.parametrize(
    "case,mode,sets",
    [
        (NICRAL, "file", []),
        (ROD, "file", []),
        (NICRAL, "memory", []),
        (NICRAL, "file", ["boundary.left.type=periodic", "boundary.right.type=periodic"]),
        (FECR, "file", FECR_SETS),
        (FECR, "memory", FECR_SETS),
        # a few steps (the peak is that of the first one): at the default 0.01 s its
        # random fluctuations take 339 steps, 170 s
        ("fe-cr-ni gradient", "file", ["conditions.duration=1e-8 s"]),
    ],
    ids=[
        "Ni-Cr-Al to a file",
        "stressed rod (a potential) to a file",
        "Ni-Cr-Al in memory",
        "Ni-Cr-Al periodic (cyclic solve) to a file",
        "Fe-Cr spinodal (gradient, periodic) to a file",
        "Fe-Cr spinodal (gradient, periodic) in memory",
        "Fe-Cr-Ni ternary gradient, closed ends, to a file",
    ],
)
def test_estimate_against_the_real_allocation(tmp_path, case, mode, sets):
    if case == "fe-cr-ni gradient":
        import tomli_w

        case = tmp_path / "fe-cr-ni-gradient.toml"
        case.write_text(tomli_w.dumps(FECRNI_GRADIENT))
    check_estimate(tmp_path, case, mode, sets)


def check_estimate(tmp_path, case, mode, sets) -> None:
    """A 30000-node run of ``case`` (with the overrides ``sets``) to a file or in memory
    (``mode``): its estimate against the peak memory and the file it takes (also used by
    tests/storage/test_resources_homogenization.py)."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs /proc (Linux) to read and reset the peak resident memory")
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "16384", "PYTHONWARNINGS": "ignore"}
    out = tmp_path / "run.h5"
    warm = subprocess.run(
        [sys.executable, "-c", _WARM, str(case), str(tmp_path / "compile.h5"), *sets],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert warm.returncode == 0, warm.stderr
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(case), "30000", str(out), mode, *sets],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    m = json.loads(done.stdout.strip().splitlines()[-1])
    # the arrays of 30000 nodes take 16-100 MB; the estimate is the peak within a few percent
    # (it errs on the safe side for results held in memory)
    assert 0.95 * m["measured"] <= m["estimate"] <= 1.15 * m["measured"], m
    if mode == "file":
        # the file: never more than estimated (the writer reserves the estimate), at most a few % less
        assert m["file"] <= m["file_estimate"] <= 1.05 * m["file"] + 300_000, m


@pytest.mark.parametrize("case", [NICRAL, HOMOG], ids=["one phase", "homogenization"])
def test_the_node_models_scratch_per_node_is_what_it_allocates(case):
    """``scratch_floats`` (what the estimate counts) against the arrays ``node_scratch``
    makes: their growth per node."""
    from kinsim.homogenization import HomogenizationModel
    from kinsim.kernels.node_models import node_scratch, scratch_floats
    from kinsim.phase import load_phase

    c = load_case(case)
    th = c.thermo
    if th.phases:
        params = HomogenizationModel(c, c.conditions.temperature).params
    else:
        params = load_phase(th.database, th.phase, th.components).params

    def nbytes(obj) -> int:
        if isinstance(obj, np.ndarray):
            return obj.nbytes
        return sum(nbytes(v) for v in obj) if isinstance(obj, tuple) else 0

    per_node = (nbytes(node_scratch(params, 101)) - nbytes(node_scratch(params, 1))) / 100
    assert per_node == 8 * scratch_floats(params) > 0


def test_file_estimate_of_small_results_and_the_writers_chunks(tmp_path):
    # a small run: chunks hold several snapshots (the estimate counts whole chunks)
    from kinsim.simulation import Simulation

    sets = ["grid.nodes=30", "output.snapshots=50", "conditions.duration=1 h"]
    case = load_case(NICRAL, overrides=sets)
    sim = Simulation(case)
    out = tmp_path / "small.h5"
    sim.run(output=out, progress=False)
    size = run_size(case, sim.model.params)
    actual = out.stat().st_size
    assert actual <= size.file_bytes <= actual + 400_000
    with h5py.File(out, "r") as f:
        n, nc = f["z"].shape[0], f["component"].shape[0]
        assert f["x"].chunks[0] == f["flux"].chunks[0] == snapshots_per_chunk(n, n + 1, nc) > 1
        assert f["x"].shape[0] == size.snapshots == 51
    assert not (tmp_path / "small.h5.lock").exists()


def test_estimate_grows_with_nodes_snapshots_and_a_result_held_in_memory():
    a = estimate(10**5, 3, 4, 21)
    assert estimate(2 * 10**5, 3, 4, 21).memory_bytes > a.memory_bytes
    assert estimate(10**5, 3, 4, 41).file_bytes > a.file_bytes
    assert estimate(10**5, 3, 4, 41).memory_bytes == a.memory_bytes  # a file: snapshots are on disk
    held = estimate(10**5, 3, 4, 21, in_memory=True)
    assert held.memory_bytes > a.memory_bytes and "result held in memory" in held.memory
    assert "HDF5 chunk caches" in a.memory and "HDF5 chunk caches" not in held.memory
    # the per-node part is linear in the nodes (only the chunk padding of the file is not)
    m = [estimate(k, 3, 4, 21).memory_bytes for k in (10**5, 2 * 10**5, 3 * 10**5)]
    assert m[2] - m[1] == m[1] - m[0]
    # the Jacobian blocks and PD grow with n^2: a 6-component run costs more per node
    assert estimate(10**5, 6, 6, 2).memory_bytes > 2.5 * estimate(10**5, 3, 3, 2).memory_bytes
    # gradient energy: the mixed form's (N, 2m, 2m) blocks and /gradient_potential (N, m);
    # periodic ends: the cyclic blocks of the sharp solver
    grad = estimate(10**5, 3, 4, 21, gradient=True)
    assert grad.memory["stepper work arrays"] > 2 * a.memory["stepper work arrays"]
    assert grad.file_bytes - a.file_bytes >= 21 * 8 * 10**5 * 2
    assert estimate(10**5, 3, 4, 21, periodic=True).memory_bytes > a.memory_bytes
    assert estimate(10**5, 3, 4, 21, gradient=True, periodic=True).memory_bytes == grad.memory_bytes
    assert "gradient energy" in grad.describe()
    assert resized(grad, nodes=2 * 10**5).memory_bytes == estimate(2 * 10**5, 3, 4, 21, gradient=True).memory_bytes
    # the kept parameter bytes survive resizing
    big = estimate(1000, 3, 4, 21, parameter_bytes=123_456)
    assert resized(big, nodes=1000).file_bytes == big.file_bytes
    assert (
        resized(big, nodes=1000, in_memory=True).memory_bytes
        == estimate(1000, 3, 4, 21, parameter_bytes=123_456, in_memory=True).memory_bytes
    )


def test_format_bytes():
    assert [format_bytes(v) for v in (512, 3.4e6, 24.1e9, 7.2e12, 4.8e15)] == [
        "512 B",
        "3.4 MB",
        "24.1 GB",
        "7.2 TB",
        "4.8 PB",
    ]


def test_memory_check_names_the_estimate_and_the_most_nodes_that_fit(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 100_000_000)  # 100 MB
    size = estimate(1_000_000, 3, 3, 21)
    with pytest.raises(InputError) as exc:
        resources.check_memory(size)
    msg = str(exc.value)
    assert format_bytes(size.memory_bytes) in msg and "100 MB available" in msg and "stepper work arrays" in msg
    most = int(msg.split("at most about ")[1].split(")")[0])
    budget = resources.MEMORY_FRACTION * 100_000_000
    assert resized(size, nodes=most).memory_bytes <= budget < resized(size, nodes=most + 1).memory_bytes
    resources.check_memory(resized(size, nodes=most))  # fits
    # two at a time: the same limit per run
    with pytest.raises(InputError, match="2 runs at a time"):
        resources.check_memory(resized(size, nodes=most), concurrent=2)


def test_disk_check_names_the_free_space_the_limit_and_the_most_snapshots(monkeypatch, tmp_path):
    size = estimate(10_000, 3, 3, 1001)
    free = size.file_bytes // 2
    monkeypatch.setattr(resources.shutil, "disk_usage", lambda p: type("U", (), {"free": free})())
    target = tmp_path / "out.h5"
    with pytest.raises(OutputRefusedError) as exc:
        resources.check_disk(size.file_bytes, target, "the result file", resources.run_disk_advice(size, target))
    msg = str(exc.value)
    assert format_bytes(size.file_bytes) in msg and str(tmp_path) in msg and "output.snapshots" in msg
    most = int(msg.split("at most about ")[1].split(")")[0])
    assert resized(size, snapshots=most + 1).file_bytes <= resources.DISK_FRACTION * free
    # a file it replaces gives its bytes back
    resources.check_disk(size.file_bytes, target, "the result file", "", reclaim=size.file_bytes)
    # the file-size limit (ulimit -f)
    monkeypatch.setattr(resources, "file_size_limit", lambda: 1000)
    with pytest.raises(OutputRefusedError, match="ulimit -f"):
        resources.check_disk(2000, target, "the result file", "", reclaim=10**12)


def test_cgroup_limit_lowers_the_available_memory(monkeypatch):
    monkeypatch.setattr(resources, "_cgroup_room", lambda: 12345)
    assert resources.available_memory() == 12345
    monkeypatch.setattr(resources, "_cgroup_room", lambda: None)
    assert resources.available_memory() > 12345


def test_a_grid_or_snapshot_list_too_large_is_refused_before_it_is_built():
    # 10^12 nodes would take terabytes: refused by the case reader at once, naming the key
    with pytest.raises(CaseError, match=r"grid.nodes = 1000000000000.*at most about \d+"):
        load_case(NICRAL, overrides=["grid.nodes=1000000000000"])
    with pytest.raises(CaseError, match=r"output.snapshots = 100000000000"):
        load_case(NICRAL, overrides=["output.snapshots=100000000000"])
    # a stored case (a result read elsewhere) is not checked against this machine
    from kinsim.case import from_toml

    text = load_case(NICRAL).to_toml().replace("nodes = 100", "nodes = 1000")
    assert from_toml(text, "stored.h5").grid.nodes == 1000


def test_run_size_of_a_case_counts_its_phase_potentials_and_snapshots():
    from kinsim.phase import load_phase

    case = load_case(ROD)
    model = load_phase(case.thermo.database, case.thermo.phase, case.components)
    size = run_size(case, model.params)
    assert (size.nodes, size.components, size.site_fractions) == (case.grid.nodes, 2, model.params.n_y)
    assert size.snapshots == len(case.output.snapshots) + 1 and size.potentials == 1
    assert size.result["parameters"] > sum(
        np.asarray(v).nbytes for v in model.params._asdict().values() if isinstance(v, np.ndarray)
    )
