"""kinsim as a library: kinsim.run / load_case / read_result (equilibrium: test_equilibria.py).

A run held in memory gives exactly the arrays and the xarray view of the same run
written to a file and read back, which are those of ``kinsim run``; a case given as a
path, a dict or a Case, with overrides as a dict or as --set strings, is the same case;
bad input and failures raise what the command reports.
"""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
from conftest import REPO, one_error_line

import kinsim
from kinsim.cli import main
from kinsim.errors import CaseError, ConvergenceError, InputError

NICRAL = REPO / "cases" / "nicral-couple.toml"
SMALL = {"grid.nodes": 30, "output.snapshots": 4}
ARRAYS = ("time", "z", "faces", "x", "mu", "flux", "markers")


def assert_same_arrays(a, b):
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.components == b.components and a.extra.keys() == b.extra.keys()
    for name in a.extra:
        np.testing.assert_array_equal(a.extra[name], b.extra[name], err_msg=name)


@pytest.fixture(scope="module")
def in_memory():
    return kinsim.run(NICRAL, overrides=SMALL)


def test_in_memory_result_equals_the_file_and_kinsim_run(in_memory, tmp_path, capsys):
    xr = pytest.importorskip("xarray")
    r = in_memory
    assert r.path is None and r.status == "completed" and r.x.shape == (5, 30, 3)
    assert r.steps > 0 and r.stop_reason.startswith("reached t =") and set(r.timings) >= {"compile", "solve"}
    assert r.temperature.shape == (5,) and np.all(r.temperature == 1473.15) and r.potential is None
    out = tmp_path / "api.h5"
    f = kinsim.run(NICRAL, output=out, overrides=SMALL)
    assert f.path == out and f.status == "completed"
    assert_same_arrays(r, f)
    xr.testing.assert_identical(r.to_xarray(), f.to_xarray())
    assert r.case == f.case and r.case.grid.nodes == 30
    # the file kinsim run writes holds the same arrays
    cli = tmp_path / "cli.h5"
    assert (
        main(["run", str(NICRAL), "-o", str(cli), "--set", "grid.nodes=30", "--set", "output.snapshots=4", "--quiet"])
        == 0
    ), capsys.readouterr().err
    assert_same_arrays(kinsim.read_result(cli), f)
    assert kinsim.read_result(cli).case_toml == f.case_toml


def test_a_path_a_dict_and_a_case_are_the_same_case(tmp_path, monkeypatch):
    from_file = kinsim.load_case(str(NICRAL), overrides=SMALL)
    with open(NICRAL, "rb") as fh:
        data = tomllib.load(fh)  # thermo.database = "databases/ni-cr-al.tdb", relative
    assert kinsim.load_case(data, overrides=SMALL, base_dir=NICRAL.parent) == from_file
    monkeypatch.chdir(NICRAL.parent)  # base_dir defaults to the current directory
    from_dict = kinsim.load_case(data, overrides=SMALL)
    assert from_dict == from_file and from_dict.thermo.database == NICRAL.parent / "databases" / "ni-cr-al.tdb"
    assert from_dict.output.file == NICRAL.parent / "nicral-couple.h5"
    assert kinsim.load_case(from_file) is from_file
    assert kinsim.load_case(kinsim.load_case(NICRAL), overrides=SMALL) == from_file
    assert data["thermo"]["database"] == "databases/ni-cr-al.tdb"  # the caller's dict is left alone
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CaseError, match="thermo.database: file not found: .*databases/ni-cr-al.tdb"):
        kinsim.load_case(data)
    with pytest.raises(InputError, match="base_dir applies to a case given as a dict"):
        kinsim.load_case(NICRAL, base_dir=tmp_path)
    with pytest.raises(InputError, match="case must be"):
        kinsim.load_case(42)


def test_a_dict_case_runs_in_memory_and_writes_no_file(in_memory, tmp_path):
    with open(NICRAL, "rb") as fh:
        data = tomllib.load(fh)
    data["grid"]["nodes"] = 30  # a plain dict edit instead of overrides
    data["output"]["snapshots"] = 4
    data["output"]["file"] = str(tmp_path / "never.h5")
    data["initial"]["left"] = {"cr": np.float64(0.077), "AL": 0.054}  # numpy numbers, any case
    data["thermo"]["components"] = ("NI", "CR", "AL")  # a tuple
    r = kinsim.run(data, base_dir=NICRAL.parent)
    assert_same_arrays(r, in_memory)
    assert list(tmp_path.iterdir()) == []


def test_overrides_as_dict_or_strings():
    as_dict = kinsim.load_case(
        NICRAL,
        overrides={
            "grid.nodes": np.int64(40),
            "conditions.duration": "2 h",
            "initial.left": {"CR": 0.1, "AL": 0.05},
            "conditions.temperature": "1150 degC",
            "solver.rtol": 1e-5,
        },
    )
    as_text = kinsim.load_case(
        NICRAL,
        overrides=[
            "grid.nodes=40",
            "conditions.duration=2 h",
            "initial.left={CR = 0.1, AL = 0.05}",
            "conditions.temperature=1150 degC",
            "solver.rtol=1e-5",
        ],
    )
    assert as_dict == as_text
    assert as_dict.grid.nodes == 40 and as_dict.conditions.duration == 7200.0
    assert as_dict.initial.left["CR"] == 0.1 and as_dict.conditions.temperature == pytest.approx(1423.15)
    assert kinsim.load_case(NICRAL, overrides="grid.nodes=40").grid.nodes == 40
    with pytest.raises(InputError, match="cannot be a case value"):
        kinsim.load_case(NICRAL, overrides={"grid.nodes": object()})
    with pytest.raises(InputError, match="overrides must be"):
        kinsim.load_case(NICRAL, overrides=[("grid.nodes", 40)])


BAD = [
    # (overrides, words of the message)
    ({"grid.nodez": 3}, ["grid.nodez", "did you mean"]),
    ({"grid.nodes": 1}, ["grid.nodes"]),
    ({"initial.left": {"CR": 1.2, "AL": 0.05}}, ["initial.left"]),
    ({"conditions.duration": "-10 h"}, ["conditions.duration"]),
]


@pytest.mark.parametrize("overrides,words", BAD, ids=[next(iter(b[0])) for b in BAD])
def test_bad_input_raises_the_message_the_command_prints(overrides, words, capsys, tmp_path):
    with pytest.raises(CaseError) as info:
        kinsim.run(NICRAL, overrides=overrides)
    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={_toml(v)}")]
    code = main(["run", str(NICRAL), "-o", str(tmp_path / "r.h5"), "--quiet", *sets])
    line = one_error_line(code, capsys.readouterr().err, *words)
    assert line == f"kinsim: error: {info.value}"
    assert not (tmp_path / "r.h5").exists()


def _toml(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v}" for k, v in value.items()) + "}"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_bad_input_before_the_run_starts(tmp_path):
    with pytest.raises(InputError, match="outside the range"):
        kinsim.run(NICRAL, overrides={"conditions.temperature": 100})
    with pytest.raises(CaseError, match="case file not found"):
        kinsim.run(tmp_path / "nope.toml")


@pytest.mark.parametrize("to_file", [False, True], ids=["memory", "file"])
def test_a_failed_run_raises_and_keeps_its_status(to_file, tmp_path):
    out = tmp_path / "failed.h5" if to_file else None
    with pytest.raises(ConvergenceError, match="max_steps = 5") as info:
        kinsim.run(NICRAL, output=out, overrides={**SMALL, "solver.max_steps": 5})
    partial = info.value.result
    assert partial.status == "failed" and "max_steps" in partial.stop_reason and partial.n_snapshots >= 1
    if to_file:
        stored = kinsim.read_result(out)
        assert stored.status == "failed" and partial.path == out
        assert_same_arrays(stored, partial)
    else:
        assert partial.path is None


def test_public_names_have_docstrings_with_examples():
    for name in ("run", "load_case", "read_result", "equilibrium", "Result"):
        doc = getattr(kinsim, name).__doc__
        assert doc and "Example" in doc, name
    assert kinsim.Case is kinsim.case.Case and kinsim.__version__


def test_import_kinsim_loads_no_numba_nor_pycalphad():
    import subprocess
    import sys

    code = (
        "import sys, kinsim; print(sorted(m for m in ('numba', 'pycalphad', 'xarray', 'pandas') if m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def readme_python_snippet() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## In Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README.md: the 'In Python' section has no python block"
    return blocks[0]


def test_readme_snippet_runs(tmp_path, monkeypatch, capsys):
    (tmp_path / "cases").symlink_to(REPO / "cases")
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_python_snippet(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("completed")
    assert (tmp_path / "nicral.png").stat().st_size > 10_000
