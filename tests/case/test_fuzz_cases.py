"""Property-based fuzzing of case files (issue 14): any mutation of a shipped case ends in
exit status 0 (a completed run), 2 (one line ``kinsim: error: ...``) or 1 (a run that
started and failed, one line ``kinsim: failed: ...``, its file says failed), never in a
traceback or another status; and no result file claims "completed" for a run that did
not complete.

The mutations act on the parsed TOML of the shipped cases: drop a key, give a value of
another type, an out-of-range number, a bad unit or a wrong component, swap two values
or two tables, add an unknown key.  Every case is first made tiny (8 nodes, 2 snapshots,
a step cap) so that the runs that stay valid finish in milliseconds; the examples are
derandomized (a fixed seed) and bounded (the "ci" profile below).
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import tomllib
from pathlib import Path

import h5py
import pytest
import tomli_w
from conftest import REPO
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kinsim.cli import main

settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CASES = ["ideal-binary-erf", "fe-c-carburizing", "stressed-rod"]
# tiny runs: the valid mutations finish in milliseconds
_TINY = {("grid", "nodes"): 8, ("output", "snapshots"): 2, ("solver", "max_steps"): 400}

# replacement values: other types, out-of-range numbers, bad units, wrong components
_BAD_VALUES = [
    0,
    -1,
    1,
    3,
    10**12,
    2**63 - 1,
    -(2**63),
    0.0,
    -0.5,
    1e-300,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    True,
    False,
    "",
    "abc",
    "1 parsec",
    "-5 K",
    "1e400 s",
    "nan",
    "10 h 5",
    "0 mm",
    "-1 mm",
    "1e9 degC",
    [],
    [1, 2],
    [[0, 1], [1]],
    [["1 h", "x"]],
    {},
    {"B": 0.5},
    {"ZZ": 0.1},
    {"C": -0.1},
    {"C": 2.0},
    {"A": "x"},
    "FCC_A1",
    "LIQUID",
    "NOPHASE",
    ["A", "B", "C"],
    ["FE"],
    ["C", "FE"],
    ["FE", "FE"],
    "databases/none.tdb",
    "z ** ",
    "__import__('os')",
    "1 / (z - z)",
]


def _base(name: str) -> dict:
    """The shipped case ``name`` as a dict, made tiny, with its database path absolute."""
    d = tomllib.loads((REPO / "cases" / f"{name}.toml").read_text())
    d["thermo"]["database"] = str(REPO / "cases" / d["thermo"]["database"])
    for (section, key), value in _TINY.items():
        d.setdefault(section, {})[key] = value
    return d


def _paths(node, prefix=()):
    """Every (path, value) in a parsed TOML document, depth first (tables and arrays)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield prefix + (k,), v
        yield from _paths(v, prefix + (k,))


def _parent(doc, path):
    for k in path[:-1]:
        doc = doc[k]
    return doc


def _mutate(doc: dict, data) -> str:
    """Apply one drawn mutation to ``doc`` in place; returns what it did (for the report)."""
    paths = [p for p, _ in _paths(doc)]
    path = data.draw(st.sampled_from(paths), label="path")
    parent, key = _parent(doc, path), path[-1]
    kind = data.draw(
        st.sampled_from(["drop", "replace", "replace", "unit", "swap", "swap-table", "unknown"]), label="kind"
    )
    if kind == "drop":
        if isinstance(parent, list):
            parent.pop(key)
        else:
            del parent[key]
    elif kind == "replace":
        parent[key] = data.draw(st.sampled_from(_BAD_VALUES), label="value")
    elif kind == "unit":
        # a number given in another (possibly wrong) unit, or a unit string's number changed
        number = data.draw(st.sampled_from(["0", "-3", "1e30", "2.5", "1e-30"]), label="number")
        unit = data.draw(
            st.sampled_from(["", "K", "degC", "s", "h", "mm", "m", "um", "furlong", "wt%", "J"]), label="unit"
        )
        parent[key] = f"{number} {unit}".strip()
    elif kind == "swap":
        other = data.draw(st.sampled_from(paths), label="other")
        try:
            a, b = _parent(doc, other), other[-1]
            parent[key], a[b] = a[b], parent[key]
        except (KeyError, IndexError, TypeError):  # one of them was inside the other
            return f"swap {path} <-> {other} (skipped)"
        return f"swap {path} <-> {other}"
    elif kind == "swap-table":
        tables = [k for k, v in doc.items() if isinstance(v, dict)]
        a, b = data.draw(st.sampled_from(tables), label="table a"), data.draw(st.sampled_from(tables), label="b")
        doc[a], doc[b] = doc[b], doc[a]
        return f"swap tables {a} <-> {b}"
    else:
        target = parent if isinstance(parent, dict) else doc
        target[data.draw(st.sampled_from(["nodez", "extra", "unit", "C", "type"]), label="key")] = 1
    return f"{kind} {path}"


def _status(path: Path):
    """The status attribute of a result file (None: no file, or not readable)."""
    if not path.exists():
        return None
    try:
        with h5py.File(path, "r") as f:
            s = f.attrs.get("status")
            return s.decode() if isinstance(s, bytes) else s
    except OSError:
        return None


@pytest.mark.parametrize("name", CASES)
@settings(settings.get_profile("ci"))
@given(data=st.data())
def test_a_mutated_case_ends_in_a_clean_exit_and_no_file_claims_success_falsely(name, data):
    doc = _base(name)
    what = [_mutate(doc, data) for _ in range(data.draw(st.integers(1, 2), label="mutations"))]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case.toml"
        try:
            case.write_text(tomli_w.dumps(doc))
        except (TypeError, ValueError):  # not representable in TOML (e.g. a list of mixed tables)
            return
        out = tmp / "out.h5"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(case), "-o", str(out), "--quiet"])
        err = err.getvalue()
        lines = [ln for ln in err.splitlines() if ln.strip()]
        # notes and warnings (e.g. the start-stability check naming a more stable phase) are
        # one line each and never an error
        notes = [ln for ln in lines if ln.startswith(("kinsim: note:", "kinsim: warning:"))]
        rest = [ln for ln in lines if ln not in notes]
        assert "Traceback" not in err, (what, err)
        status = _status(out)
        event(f"exit status {code}")  # pytest --hypothesis-show-statistics: how the examples end
        if code == 0:
            assert rest == [], (what, err)
            assert status == "completed", (what, status)
        elif code == 2:
            assert len(rest) == 1 and rest[0].startswith("kinsim: error: "), (what, err)
            assert status != "completed", (what, status)
        else:
            # a run that started and failed (e.g. the step cap reached): it says so, and so does its file
            assert code == 1, (what, code, err)
            assert len(rest) == 1 and rest[0].startswith("kinsim: failed: "), (what, err)
            assert status == "failed", (what, status)
