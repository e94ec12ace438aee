"""The case schema tables against the parser and the reference: every key in the tables is
read by the parser, accepted in a case file and by --set, and documented; every key the
parser reads is in the tables; defaults come from the tables; docs/case-keys.md is the
current output of `kinsim case-keys`."""

from __future__ import annotations

import copy
import dataclasses
import tomllib

import pytest
import tomli_w
from conftest import REPO

from kinsim.case import SCHEMA, apply_override, load_case, parse_case, reference_markdown
from kinsim.case.schema import REQUIRED, Key, Table
from kinsim.case.section import Section
from kinsim.cli import main
from kinsim.errors import CaseError

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
DOC = REPO / "docs" / "case-keys.md"


def _tables(table: Table = SCHEMA, path: str = ""):
    """(path, table) of every table; arrays of tables as ``name[]``."""
    yield path, table
    for sub in table.tables:
        sub_path = f"{path}.{sub.name}" if path else sub.name
        yield from _tables(sub, sub_path + ("[]" if sub.array else ""))


def _key_paths() -> set[str]:
    return {f"{p}.{k.name}" if p else k.name for p, t in _tables() for k in t.keys}


def _ideal() -> dict:
    data = tomllib.loads(IDEAL.read_text())
    data["thermo"]["database"] = str(REPO / "cases" / "databases" / "ideal-ab.tdb")
    return data


def _with(data: dict, **tables) -> dict:
    d = copy.deepcopy(data)
    for name, value in tables.items():
        d[name] = value
    return d


_CONDITIONS = {
    "fixed-composition": {"type": "fixed-composition", "unit": "mole-fraction", "composition": {"B": 0.3}},
    "fixed-flux": {"type": "fixed-flux", "flux": {"B": 1e-9}},
    "fixed-activity": {"type": "fixed-activity", "activity": {"B": 0.5}, "reference": {"B": "FCC_A1"}},
    "fixed-potential": {"type": "fixed-potential", "mu": {"B": -1e4}},
}


def _corpus() -> list[dict]:
    """Valid A-B cases that together give every key of the schema."""
    base = _ideal()
    out = [base]
    for side in ("left", "right"):
        other = "right" if side == "left" else "left"
        for cond in _CONDITIONS.values():
            out.append(_with(base, boundary={side: cond, other: {"type": "closed"}}))
            out.append(_with(base, boundary={side: {"stages": [{**cond, "until": "1 h"}, {"type": "closed"}]}}))
    out.append(_with(base, initial={"type": "table", "unit": "mole-fraction", "z": [0, "1 mm"], "B": [0.2, 0.6]}))
    out.append(
        _with(
            base,
            initial={"type": "uniform", "composition": {"B": 0.3}},
            grid={
                "geometry": "cylindrical",
                "length": "1 mm",
                "nodes": 20,
                "spacing": "double-geometric",
                "ratio": 1.1,
                "position": "0.7 mm",
                "inner_radius": "0.1 mm",
            },
            mobility={"missing": "solvent", "scale": {"B": 2.0}, "molar_volume": 7e-6},
            solver={"method": "explicit", "rtol": 1e-3, "atol": 1e-6, "max_steps": 10, "initial_step": "1 s"},
            output={"file": "elsewhere.h5", "snapshots": ["1 h", "2 h"]},
            onsager={"form": "relative", "matrix": [[0, 0.1], [0.1, 0]]},
        )
    )
    out.append(
        _with(
            base,
            initial={
                "type": "uniform",
                "composition": {"B": 0.5},
                "perturbation": {"type": "random", "amplitude": {"B": 0.01}, "seed": 3},
            },
            boundary={"left": {"type": "periodic"}, "right": {"type": "periodic"}},
            gradient={"kappa": 1e-14},
        )
    )
    out.append(
        _with(
            base,
            initial={
                **base["initial"],
                "perturbation": {"type": "cosine", "amplitude": {"B": 0.01}, "wavelengths": ["0.1 mm", "0.25 mm"]},
            },
        )
    )
    out.append(
        _with(
            base,
            potential=[
                {
                    "species": "B",
                    "kind": "stress",
                    "volume": 4e-6,
                    "z": [0, "1 mm"],
                    "value": [1e8, -1e8],
                    "time": [[0, 0.0], ["1 h", 1.0]],
                },
                {"species": "B", "kind": "electric", "charge": 1.0, "expression": "0.01 * z / 1e-3"},
                {"species": "A", "kind": "pressure", "volume": 7e-6, "expression": "1e8"},
                {"species": "B", "kind": "energy", "z": [0, "1 mm"], "value": [0, 100]},
            ],
        )
    )
    thermo = {k: v for k, v in base["thermo"].items() if k != "phase"}
    out.append(
        _with(
            base,
            thermo={**thermo, "phases": ["FCC_A1", "BCC_A2", "SIGMA"]},
            homogenization={
                "averaging": "labyrinth",
                "matrix": "FCC_A1",
                "exponent": 2,
                "excluded": ["SIGMA"],
                "ideal_term": 0.01,
                "face_mean": "arithmetic",
            },
        )
    )
    regions = {k: v for k, v in base.items() if k not in ("initial", "grid")}
    regions.update(
        thermo={"database": str(REPO / "tests" / "databases" / "two-phase-ab.tdb"), "components": ["A", "B"]},
        grid={"geometry": "planar"},
        region=[
            {
                "phase": "ALPHA",
                "width": "0.5 mm",
                "nodes": 10,
                "spacing": "geometric",
                "ratio": 1.1,
                "interface": "para-equilibrium",
                "unit": "mole-fraction",
                "z": [0, "0.5 mm"],
                "B": [0.05, 0.1],
            },
            {"phase": "BETA", "width": "0.5 mm", "nodes": 10, "composition": {"B": 0.65}},
        ],
    )
    out.append(regions)
    return out


def _table_paths() -> dict[int, str]:
    return {id(t): p for p, t in _tables()}


def test_every_key_of_the_tables_is_read_by_the_parser_and_only_those(monkeypatch, tmp_path):
    """The parser reads keys only through Section.raw; recording it over a corpus that uses
    every key must give exactly the keys of the tables."""
    paths = _table_paths()
    read = set()
    raw = Section.raw

    def recording_raw(self, name, *args):
        if isinstance(self.table.entry(name), Key):
            p = paths[id(self.table)]
            read.add(f"{p}.{name}" if p else name)
        return raw(self, name, *args)

    monkeypatch.setattr(Section, "raw", recording_raw)
    for i, data in enumerate(_corpus()):
        parse_case(data, tmp_path / f"corpus-{i}.toml")
    assert read == _key_paths(), (sorted(_key_paths() - read), sorted(read - _key_paths()))


def test_a_key_outside_the_tables_cannot_be_read():
    sec = Section({"nodes": 5}, "grid", SCHEMA.find("grid"))
    assert sec.get("nodes") == 5
    with pytest.raises(KeyError, match="declares no key 'nodez'"):
        sec.raw("nodez")


@pytest.mark.parametrize("path", sorted(p for p, t in _tables() if p))
def test_every_table_rejects_a_key_it_does_not_declare(tmp_path, path):
    """Unknown-key detection covers every table, arrays of tables included."""
    cases = [d for d in _corpus() if _find(d, path) is not None]
    assert cases, f"no corpus case has [{path}]"
    data = copy.deepcopy(cases[0])
    _find(data, path)["colour"] = "red"
    p = tmp_path / "case.toml"
    p.write_text(tomli_w.dumps(data))
    with pytest.raises(CaseError, match="unknown key '.*colour'"):
        load_case(p)


def _find(data, path: str):
    """The (first) table at ``path`` of a case dict, arrays as ``name[]``."""
    node = data
    for part in path.split("."):
        array = part.endswith("[]")
        node = node.get(part.removesuffix("[]")) if isinstance(node, dict) else None
        if array:
            node = node[0] if isinstance(node, list) and node else None
        if node is None:
            return None
    return node


@pytest.mark.parametrize("path", sorted(p for p in _key_paths() if "[]" not in p))
def test_every_key_outside_arrays_is_accepted_by_set(path):
    """--set knows every key the tables declare (the value is checked later, when the
    case is validated); keys inside arrays of tables are set as the whole array."""
    raw = _ideal()
    apply_override(raw, f"{path}=1")
    node = raw
    for part in path.split("."):
        node = node[part]
    assert node == 1


def test_defaults_come_from_the_tables(monkeypatch, tmp_path):
    minimal = {k: v for k, v in _ideal().items() if k in ("thermo", "conditions", "initial")}
    minimal["grid"] = {"length": "1 mm", "nodes": 11}
    resolved = parse_case(minimal, tmp_path / "minimal.toml").to_dict()
    checked = 0
    for path, table in _tables():
        for key in table.keys:
            if key.default in (REQUIRED, None) or "[]" in path:
                continue
            value = _find(resolved, path)
            if value is not None and key.name in value and not isinstance(value[key.name], list):
                assert value[key.name] == key.default, f"{path}.{key.name}"
                checked += 1
    assert checked >= 10
    # a changed table default changes what the parser uses
    spec = Section._spec

    def ratio_default_1_1(self, name):
        e = spec(self, name)
        return dataclasses.replace(e, default=1.1) if (self.prefix, name) == ("grid", "ratio") else e

    monkeypatch.setattr(Section, "_spec", ratio_default_1_1)
    assert parse_case(minimal, tmp_path / "minimal.toml").grid.ratio == 1.1


def test_the_reference_documents_every_table_and_key():
    text = reference_markdown()
    for path, table in _tables():
        if path:
            brackets = f"[[{path.removesuffix('[]')}]]" if table.array else f"[{path}]"
            assert f"`{brackets}`" in text, path
    for path in _key_paths():
        assert f"| `{path}` |" in text, path
    assert "| `initial.<COMPONENT>` |" in text


def test_case_keys_command_prints_the_reference(capsys):
    assert main(["case-keys"]) == 0
    assert capsys.readouterr().out == reference_markdown()


def test_docs_case_keys_is_current():
    assert DOC.is_file(), f"{DOC} is missing; generate it with: kinsim case-keys > docs/case-keys.md"
    assert DOC.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/case-keys.md is not the current reference of the case keys; regenerate it with: "
        "kinsim case-keys > docs/case-keys.md"
    )
