"""Result file: round trip, xarray (h5netcdf) view, growth, status, crash safety, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

from kinsim import __version__
from kinsim.errors import ResultFileError
from kinsim.storage import ResultWriter, last_state, read_result

COMPS = ["FE", "SI", "C"]
NZ, NM = 6, 2
Z = np.linspace(0.0, 1e-3, NZ)
FACES = np.linspace(-1e-4, 1.1e-3, NZ + 1)
CASE = '[case]\ntitle = "Darken couple"\nT = 1323.15  # K\n'


def writer(path, **kw):
    args = dict(
        components=COMPS,
        z=Z,
        faces=FACES,
        phase="FCC_A1",
        case_toml=CASE,
        title="Darken",
        n_markers=NM,
        mobility_policy="strict",
    )
    args.update(kw)
    return ResultWriter(path, **args)


def snapshot(k):
    rng = np.random.default_rng(k)
    x = rng.random((NZ, len(COMPS)))
    x /= x.sum(axis=1, keepdims=True)
    mu = -1e4 * rng.random((NZ, len(COMPS)))
    flux = 1e-6 * rng.standard_normal((NZ + 1, len(COMPS)))
    markers = np.array([2e-4, 5e-4]) + 1e-6 * k
    return x, mu, flux, markers


def test_round_trip(tmp_path):
    path = tmp_path / "r.h5"
    params = {"G_coeffs": np.arange(12.0).reshape(3, 4), "n_sub": np.array([1, 1]), "T": np.float64(1323.15)}
    snaps = [snapshot(k) for k in range(3)]
    with writer(
        path,
        parameters=params,
        extra_attrs={"temperature": 1323.15, "grid": {"kind": "linear"}},
        extra_units={"dt": "s"},
    ) as w:
        for k, s in enumerate(snaps):
            w.append(10.0 * k, *s, extra={"dt": np.float64(0.5 * (k + 1))})
        w.set_timings(compile=1.5, solve=2.25)
        w.set_status("completed", stop_reason="t_end", steps=42, rejected_steps=3)
    r = read_result(path)
    assert r.n_snapshots == 3
    np.testing.assert_array_equal(r.time, [0.0, 10.0, 20.0])
    np.testing.assert_array_equal(r.z, Z)
    np.testing.assert_array_equal(r.faces, FACES)
    assert r.components == COMPS
    for i, name in enumerate(("x", "mu", "flux", "markers")):
        np.testing.assert_array_equal(getattr(r, name), np.stack([s[i] for s in snaps]))
        assert getattr(r, name).dtype == np.float64
    np.testing.assert_array_equal(r.extra["dt"], [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(r.parameters["G_coeffs"], params["G_coeffs"])
    np.testing.assert_array_equal(r.parameters["n_sub"], [1, 1])
    assert r.parameters["T"] == 1323.15
    assert set(r.parameters) == set(params)
    assert r.status == "completed" and r.finished and r.closed_cleanly
    assert r.case_toml == CASE
    a = r.attrs
    assert a["format"] == "kinsim-result" and a["format_version"] == 1
    assert a["kinsim_version"] == __version__
    assert a["title"] == "Darken" and a["phase"] == "FCC_A1" and a["components"] == COMPS
    assert a["mobility_policy"] == "strict" and a["n_markers"] == NM
    assert a["stop_reason"] == "t_end" and a["steps"] == 42 and a["rejected_steps"] == 3
    assert a["temperature"] == 1323.15 and json.loads(a["grid"]) == {"kind": "linear"}
    assert "T" in a["created"]
    versions = r.package_versions
    assert versions["numpy"] == np.__version__ and versions["h5py"] == h5py.__version__
    assert r.timings["compile"] == 1.5 and r.timings["solve"] == 2.25
    assert r.timings["io"] >= 0 and r.timings["wall"] >= 0
    assert a["timing_compile"] == 1.5

    t, x, markers = last_state(path)
    assert t == 20.0
    np.testing.assert_array_equal(x, snaps[-1][0])
    np.testing.assert_array_equal(markers, snaps[-1][3])

    # plain h5py: units, long names, chunked and resizable along time, dimension scales
    with h5py.File(path, "r") as f:
        for name in ("time", "z", "face", "component", "marker", "x", "mu", "flux", "markers", "dt"):
            assert "units" in f[name].attrs and "long_name" in f[name].attrs, name
        for name in ("time", "x", "mu", "flux", "markers", "dt"):
            assert f[name].maxshape[0] is None and f[name].chunks is not None
        for name in ("time", "z", "face", "component", "marker"):
            assert f[name].is_scale
        assert [d[0].name for d in f["flux"].dims] == ["/time", "/face", "/component"]


def test_large_case_text_goes_to_a_dataset(tmp_path):
    path = tmp_path / "big.h5"
    big = "# " + "x" * 100_000 + "\n"
    with writer(path, case_toml=big) as w:
        w.append(0.0, *snapshot(0))
    assert read_result(path).case_toml == big


def test_xarray_h5netcdf_named_dims_and_units(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    path = tmp_path / "r.h5"
    with writer(path, parameters={"G": np.ones((3, 4))}) as w:
        for k in range(4):
            w.append(float(k), *snapshot(k), extra={"T": np.float64(1300 + k)})
        w.set_status("completed", "t_end")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["x"].dims == ("time", "z", "component")
        assert ds["mu"].dims == ("time", "z", "component")
        assert ds["flux"].dims == ("time", "face", "component")
        assert ds["markers"].dims == ("time", "marker")
        assert ds["T"].dims == ("time",)
        assert ds.sizes == {"time": 4, "z": NZ, "face": NZ + 1, "component": 3, "marker": NM}
        assert list(ds["component"].values) == COMPS
        np.testing.assert_array_equal(ds["time"].values, [0.0, 1.0, 2.0, 3.0])
        np.testing.assert_array_equal(ds["z"].values, Z)
        assert ds["x"].attrs["units"] == "1"
        assert ds["mu"].attrs["units"] == "J mol-1"
        assert ds["flux"].attrs["units"] == "mol m-2 s-1"
        assert ds["markers"].attrs["units"] == "m" and ds["z"].attrs["units"] == "m"
        assert ds["time"].attrs["units"] == "s"
        assert ds.attrs["format"] == "kinsim-result" and ds.attrs["status"] == "completed"
        np.testing.assert_array_equal(ds["x"].sel(component="C").isel(time=2).values, snapshot(2)[0][:, 2])
    with xr.open_dataset(path, engine="h5netcdf", group="parameters") as ps:
        np.testing.assert_array_equal(ps["G"].values, np.ones((3, 4)))
        assert len(ps["G"].dims) == 2


def test_many_appends_grow_time(tmp_path):
    path = tmp_path / "grow.h5"
    n = 2500  # crosses several time chunks
    x, mu, flux, markers = snapshot(0)
    with writer(path) as w:
        for k in range(n):
            w.append(k * 0.1, x + k, mu, flux, markers + k)
            if k == 999:  # a reader sees the flushed snapshots while the writer is open
                assert read_result(path).n_snapshots == 1000
        assert w.n_snapshots == n
    r = read_result(path)
    assert r.x.shape == (n, NZ, 3) and r.markers.shape == (n, NM) and r.flux.shape == (n, NZ + 1, 3)
    np.testing.assert_allclose(r.time, np.arange(n) * 0.1)
    np.testing.assert_array_equal(r.x[:, 0, 0], x[0, 0] + np.arange(n))
    assert r.status == "running" and not r.finished  # never set: reader treats it as killed
    assert "interrupted or killed" in r.status_description


def test_append_validation(tmp_path):
    with writer(tmp_path / "v.h5") as w:
        x, mu, flux, markers = snapshot(0)
        with pytest.raises(ValueError, match="flux must have shape"):
            w.append(0.0, x, mu, flux[:-1], markers)
        w.append(1.0, x, mu, flux, markers)
        with pytest.raises(ValueError, match="increase"):
            w.append(1.0, x, mu, flux, markers)
        with pytest.raises(ValueError, match="taken"):
            w.append(2.0, x, mu, flux, markers, extra={"mu": np.zeros(3)})
        assert w.n_snapshots == 1
    assert read_result(tmp_path / "v.h5").n_snapshots == 1


def test_zero_markers(tmp_path):
    xr = pytest.importorskip("xarray")
    path = tmp_path / "m0.h5"
    x, mu, flux, _ = snapshot(0)
    with writer(path, n_markers=0) as w:
        w.append(0.0, x, mu, flux, np.zeros(0))
        w.append(1.0, x, mu, flux, np.zeros(0))
    assert read_result(path).markers.shape == (2, 0)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["markers"].dims == ("time", "marker") and ds.sizes["marker"] == 0


def test_status_changes(tmp_path):
    path = tmp_path / "s.h5"
    w = writer(path)
    w.append(0.0, *snapshot(0))
    assert read_result(path).status == "running"
    w.set_status(
        "failed",
        stop_reason="convergence",
        node=7,
        time=12.5,
        composition=np.array([0.9, 0.05, 0.05]),
        message="Newton did not converge",
    )
    r = read_result(path)  # visible before close
    assert r.status == "failed" and r.attrs["stop_reason"] == "convergence"
    assert r.attrs["node"] == 7 and r.attrs["time"] == 12.5 and r.attrs["message"] == "Newton did not converge"
    np.testing.assert_array_equal(r.attrs["composition"], [0.9, 0.05, 0.05])
    assert not r.closed_cleanly
    with pytest.raises(ValueError, match="status must be one of"):
        w.set_status("exploded")
    with pytest.raises(ValueError, match="core attribute"):
        w.set_status("failed", format="x")
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        w.append(1.0, *snapshot(1))
    r = read_result(path)
    assert r.status == "failed" and r.closed_cleanly and r.status_description == "failed (convergence)"


def test_context_manager_exception_marks_failed(tmp_path):
    path = tmp_path / "f.h5"
    with pytest.raises(RuntimeError):
        with writer(path) as w:
            w.append(0.0, *snapshot(0))
            raise RuntimeError("boom at node 3")
    r = read_result(path)
    assert r.status == "failed" and "boom at node 3" in r.attrs["message"]


def test_context_manager_keeps_explicit_status(tmp_path):
    path = tmp_path / "f2.h5"
    with pytest.raises(RuntimeError):
        with writer(path) as w:
            w.append(0.0, *snapshot(0))
            w.set_status("completed", "t_end")
            raise RuntimeError("after the end")
    assert read_result(path).status == "completed"


def test_context_manager_keyboard_interrupt(tmp_path):
    path = tmp_path / "i.h5"
    with pytest.raises(KeyboardInterrupt):
        with writer(path) as w:
            w.append(0.0, *snapshot(0))
            w.append(1.0, *snapshot(1))
            raise KeyboardInterrupt
    r = read_result(path)
    assert r.status == "interrupted" and r.n_snapshots == 2
    assert last_state(path)[0] == 1.0


def test_sigkill_leaves_readable_file(tmp_path):
    path = tmp_path / "killed.h5"
    code = textwrap.dedent(f"""
        import os, signal
        import numpy as np
        from kinsim.storage import ResultWriter
        w = ResultWriter({str(path)!r}, components=["FE", "SI", "C"], z=np.linspace(0, 1, 5),
                         faces=np.linspace(-0.1, 1.1, 6), phase="FCC_A1", case_toml="[case]",
                         title="killed", n_markers=1, mobility_policy="strict",
                         parameters={{"G": np.ones(4)}})
        for k in range(3):
            w.append(float(k), np.full((5, 3), k / 3), np.full((5, 3), -1e3 * k), np.zeros((6, 3)),
                     np.array([0.5 + k]), extra={{"dt": np.float64(k)}})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    r = read_result(path)
    assert r.n_snapshots == 3 and r.status == "running" and not r.closed_cleanly
    np.testing.assert_array_equal(r.time, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(r.x[:, 0, 0], [0.0, 1 / 3, 2 / 3])
    np.testing.assert_array_equal(r.markers[:, 0], [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(r.extra["dt"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(r.parameters["G"], np.ones(4))
    t, x, markers = last_state(path)
    assert t == 2.0 and x[0, 0] == 2 / 3 and markers[0] == 2.5


def test_error_missing_file(tmp_path):
    with pytest.raises(ResultFileError, match="does not exist"):
        read_result(tmp_path / "nope.h5")
    with pytest.raises(ResultFileError, match="does not exist"):
        last_state(tmp_path / "nope.h5")


def test_error_not_hdf5(tmp_path):
    p = tmp_path / "text.h5"
    p.write_text("this is not HDF5\n")
    with pytest.raises(ResultFileError, match="not an HDF5 file"):
        read_result(p)


def test_error_hdf5_without_format(tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ResultFileError, match="not a kinsim result file.*no 'format'"):
        read_result(p)
    with h5py.File(p, "a") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(ResultFileError, match="format 'something-else'"):
        read_result(p)


def test_error_no_snapshot(tmp_path):
    p = tmp_path / "empty.h5"
    with writer(p):
        pass
    with pytest.raises(ResultFileError, match="no snapshot"):
        read_result(p)
    with pytest.raises(ResultFileError, match="no snapshot"):
        last_state(p)
    assert issubclass(ResultFileError, ValueError)


def test_other_process_reads_while_writer_is_open(tmp_path):
    """The writer holds an HDF5 file lock; read_result falls back to an unlocked read."""
    path = tmp_path / "live.h5"
    with writer(path) as w:
        w.append(0.0, *snapshot(0))
        w.append(1.0, *snapshot(1))
        code = f"from kinsim.storage import read_result; r = read_result({str(path)!r}); print(r.n_snapshots, r.status)"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["2", "running"]


# ---------------------------------------------------------------- the store in memory, xarray
PARAMS = {
    "G": np.arange(6.0).reshape(2, 3),
    "n": np.array([1, 2]),
    "names": np.array(["FE", "SI"]),
    "T": np.float64(1323.15),
}
STORE_KW = dict(
    parameters=PARAMS,
    extra_attrs={"molar_volume": 1e-5, "grid": {"kind": "linear"}},
    extra_units={"temperature": "K", "potential": "J mol-1"},
)
VOLATILE = {"created", "timings", "timing_io", "timing_wall"}


def _fill(store):
    """The same calls on any store: extras, one of them appearing late, a checkpoint, a status."""
    for k in range(3):
        extra = {"temperature": np.float64(1300.0 + k)}
        if k >= 1:
            extra["potential"] = np.full((NZ, len(COMPS)), -10.0 * k)
        store.append(5.0 * k, *snapshot(k), extra=extra)
    store.write_checkpoint(t=10.0, U=np.ones((NZ, 3)), stats=np.arange(5))
    store.set_status(
        "failed", "Newton did not converge", node=3, composition=np.array([0.9, 0.05, 0.05]), steps=17, flag=True
    )


def memory_and_file(tmp_path):
    """(Result held in memory, Result read from the file) of the same calls."""
    from kinsim.storage import MemoryStore

    path = tmp_path / "r.h5"
    with writer(path, **STORE_KW) as w:
        _fill(w)
    stores = []
    store_class = MemoryStore.collecting(stores)
    with store_class(
        path,
        components=COMPS,
        z=Z,
        faces=FACES,
        phase="FCC_A1",
        case_toml=CASE,
        title="Darken",
        n_markers=NM,
        mobility_policy="strict",
        **STORE_KW,
    ) as m:
        _fill(m)
    assert stores == [m]
    return m.result(), read_result(path)


def test_memory_store_gives_the_result_the_file_gives(tmp_path):
    mem, disk = memory_and_file(tmp_path)
    assert mem.path is None and disk.path == tmp_path / "r.h5"
    for name in ("time", "z", "faces", "x", "mu", "flux", "markers"):
        a, b = getattr(mem, name), getattr(disk, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b)
    assert mem.components == disk.components and mem.status == disk.status == "failed"
    assert mem.case_toml == disk.case_toml == CASE
    assert mem.extra.keys() == disk.extra.keys() == {"temperature", "potential"}
    for name in mem.extra:
        np.testing.assert_array_equal(mem.extra[name], disk.extra[name])
    assert np.isnan(mem.extra["potential"][0]).all()  # absent from the first snapshot
    assert mem.extra_units == disk.extra_units == {"temperature": "K", "potential": "J mol-1"}
    assert mem.parameters.keys() == disk.parameters.keys()
    for name, value in mem.parameters.items():
        other = disk.parameters[name]
        assert type(value) is type(other), name
        np.testing.assert_array_equal(value, other)
        assert getattr(value, "dtype", None) == getattr(other, "dtype", None), name
    assert mem.attrs.keys() == disk.attrs.keys()
    for key in mem.attrs.keys() - VOLATILE:
        a, b = mem.attrs[key], disk.attrs[key]
        assert type(a) is type(b), key
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, key
    assert mem.stop_reason == "Newton did not converge" and mem.steps == 17 and mem.closed_cleanly


def test_memory_store_rules(tmp_path):
    from kinsim.errors import InputError
    from kinsim.storage import MemoryStore

    m = MemoryStore(
        tmp_path / "never.h5",
        components=COMPS,
        z=Z,
        faces=FACES,
        phase="FCC_A1",
        case_toml=CASE,
        title="t",
        n_markers=NM,
        mobility_policy="strict",
    )
    with pytest.raises(InputError, match="no snapshot"):
        m.result()
    x, mu, flux, markers = snapshot(0)
    m.append(0.0, x, mu, flux, markers, extra={"dt": np.zeros(5)})  # 5 matches no dimension: axis dt_dim0
    with pytest.raises(ValueError, match="increase"):
        m.append(0.0, x, mu, flux, markers)
    with pytest.raises(ValueError, match="taken"):
        m.append(1.0, x, mu, flux, markers, extra={"dt_dim0": np.zeros(2)})
    with pytest.raises(ValueError, match="must have shape"):
        m.append(1.0, x, mu, flux, markers, extra={"dt": np.zeros(3)})
    m.write_checkpoint(t=0.0, U=np.ones((NZ, 3)))
    np.testing.assert_array_equal(m.checkpoint["U"], np.ones((NZ, 3)))
    assert m.checkpoint["t"] == 0.0
    m.close()
    with pytest.raises(ValueError, match="closed"):
        m.append(2.0, x, mu, flux, markers)
    assert m.result().n_snapshots == 1 and not (tmp_path / "never.h5").exists()
    with pytest.raises(InputError, match="cannot be resumed"):
        MemoryStore.reopen(tmp_path / "never.h5")


def test_to_xarray_labels_and_identity(tmp_path):
    xr = pytest.importorskip("xarray")
    mem, disk = memory_and_file(tmp_path)
    ds = mem.to_xarray()
    xr.testing.assert_identical(ds, disk.to_xarray())
    assert ds["x"].dims == ("time", "z", "component") and ds["flux"].dims == ("time", "face", "component")
    assert ds["markers"].dims == ("time", "marker") and ds["temperature"].dims == ("time",)
    assert ds["potential"].dims == ("time", "z", "component")
    assert ds.sizes == {"time": 3, "z": NZ, "face": NZ + 1, "component": 3, "marker": NM}
    assert list(ds["component"].values) == COMPS
    np.testing.assert_array_equal(ds["z"].values, Z)
    np.testing.assert_array_equal(ds["face"].values, FACES)
    np.testing.assert_array_equal(ds["x"].sel(component="SI").values, mem.x[:, :, 1])
    units = {name: ds[name].attrs["units"] for name in ds.variables}
    assert units == {
        "time": "s",
        "z": "m",
        "face": "m",
        "component": "1",
        "marker": "1",
        "x": "1",
        "mu": "J mol-1",
        "flux": "mol m-2 s-1",
        "markers": "m",
        "temperature": "K",
        "potential": "J mol-1",
    }
    assert all(ds[name].attrs["long_name"] for name in ds.variables)
    assert ds["flux"].attrs["frame"] == "volume-fixed"
    assert ds.attrs["case"] == CASE and ds.attrs["status"] == "failed"
    assert ds.attrs["stop_reason"] == "Newton did not converge" and ds.attrs["node"] == 3
    assert ds.attrs["flag"] == 1 and "created" not in ds.attrs and "timings" not in ds.attrs
    # the view labels the file's arrays as h5netcdf does, and is itself writable to netCDF
    pytest.importorskip("h5netcdf")
    with xr.open_dataset(tmp_path / "r.h5", engine="h5netcdf") as raw:
        for name in ("x", "mu", "flux", "markers", "temperature", "potential"):
            assert raw[name].dims == ds[name].dims
            np.testing.assert_array_equal(raw[name].values, ds[name].values)
    ds.to_netcdf(tmp_path / "copy.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "copy.nc", engine="h5netcdf") as back:
        np.testing.assert_array_equal(back["mu"].values, ds["mu"].values)
        assert back.attrs["case"] == CASE


def test_result_case_is_parsed_from_the_stored_text(tmp_path):
    from kinsim.errors import ResultFileError

    mem, disk = memory_and_file(tmp_path)
    with pytest.raises(ResultFileError, match=r"r\.h5"):
        _ = disk.case  # the test's case text is no kinsim case
    assert mem.temperature.shape == (3,) and mem.potential.shape == (3, NZ, 3)


def test_checkpoint_group_rewrites_held_datasets_and_replaces_reshaped_ones(tmp_path):
    """The checkpoint of every output time overwrites the datasets found at the first
    (kept in ``held``); an array whose shape or dtype changed replaces its dataset, and
    scalars are attributes; what is read back is the last state written."""
    from kinsim.storage.checkpoint import checkpoint_bytes, write_checkpoint_group

    held: dict = {}
    with h5py.File(tmp_path / "c.h5", "w") as f:
        g = f.create_group("checkpoint")
        first = {"U": np.ones((3, 2)), "nhist": np.int64(2), "dt": np.array([0.5])}
        assert checkpoint_bytes(g, first, held) == 6 * 8 + 8
        write_checkpoint_group(g, first, held)
        assert set(held) == {"U", "dt"} and g.attrs["complete"]
        U = held["U"][0]
        second = {"U": np.arange(6.0).reshape(3, 2), "nhist": np.int64(3), "dt": np.array([1, 2])}
        assert checkpoint_bytes(g, second, held) == 2 * 8  # only dt changes shape
        write_checkpoint_group(g, second, held)
        assert held["U"][0] is U  # written in place
        assert g["dt"].dtype == np.int64 and g["dt"].shape == (2,)
    with h5py.File(tmp_path / "c.h5", "r") as f:
        g = f["checkpoint"]
        assert np.array_equal(g["U"][()], np.arange(6.0).reshape(3, 2))
        assert np.array_equal(g["dt"][()], [1, 2]) and g.attrs["nhist"] == 3 and g.attrs["complete"]
    # a group written by an earlier process: its datasets are found in the file
    with h5py.File(tmp_path / "c.h5", "r+") as f:
        write_checkpoint_group(f["checkpoint"], {"U": np.zeros((3, 2)), "dt": np.array([7, 8])})
        assert np.array_equal(f["checkpoint/U"][()], np.zeros((3, 2))) and list(f["checkpoint/dt"][()]) == [7, 8]
