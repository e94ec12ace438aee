"""Planning a sweep: ``--vary`` specs -> validated runs.

Values
    ``--vary KEY=V1,V2`` splits the values on the commas that are outside brackets,
    braces and quotes, so ``--vary "conditions.duration=1 h,2 h"``, ``--vary
    "initial.left={B=0.2},{B=0.3}"`` and ``--vary "solver.rtol=1e-4,1e-5"`` all work.
    Each value is read like ``kinsim run --set``: as a TOML value, or else as a bare string
    (``1 h``, ``1050 degC``).  The runs are the product of the value lists (the first
    ``--vary`` varies slowest) or, with ``--zip``, their pairing (the lists must be equally
    long).  Any key of the case schema can vary except ``output.file`` (each run writes
    ``DIR/run-NNN.h5``).  ``--set KEY=VALUE`` (repeatable, as for ``kinsim run``) changes
    the case for every run; the *base case* of the sweep is the case file with these.

Validation, before anything runs or any file is written
    The case file must load by itself.  Every key and every value is applied alone to the
    case and validated (unknown key, unparsable value: a :class:`CaseError` naming the key
    and value), then every run's full set of overrides is validated (a combination may be
    inconsistent, e.g. a first step longer than the duration).  Two runs that resolve to the
    same case are an error.  Problems that need the database (a temperature outside its
    range, a composition that is not a single-phase state) and the memory and disk the
    runs need are checked next, also before anything runs (:mod:`~kinsim.sweep.checks`);
    numerical failures show up when a run runs: that run is recorded as failed, the sweep
    goes on.

Run identity
    Each run is identified by the SHA-256 of its resolved case (``Case.to_dict()`` without
    ``output.file``, as sorted JSON): :func:`case_identity`.
"""

from __future__ import annotations

import builtins
import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from ..case import apply_override, load_case, parse_case, parse_value, read_case_file
from ..errors import CaseError
from ..storage.existing import case_identity  # the identity a result file's overwrite policy uses too

__all__ = ["SweepPlan", "SweepRun", "case_identity", "given_as_number", "parse_vary", "plan_sweep", "split_values"]


def split_values(text: str, where: str = "--vary") -> list[str]:
    """Split ``text`` on the commas outside brackets, braces and quotes; strip each value."""
    out, buf, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                raise CaseError(f"{where}: unbalanced '{ch}' in {text!r}")
        elif ch == "," and depth == 0:
            out.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if quote or depth:
        raise CaseError(f"{where}: unterminated {'quote' if quote else 'bracket'} in {text!r}")
    out.append("".join(buf).strip())
    if any(not v for v in out):
        raise CaseError(f"{where}: empty value in {text!r} (values are separated by commas)")
    return out


def parse_vary(spec) -> tuple[str, list[str]]:
    """``"section.key=v1,v2"`` (or a ``(key, values)`` pair) -> ``(key, [v1, v2])``."""
    if isinstance(spec, str):
        key, sep, text = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CaseError(
                f"--vary {spec!r}: expected section.key=value1,value2,... e.g. conditions.temperature=1273,1323"
            )
        where = f"--vary {key}"
        if not text.strip():
            raise CaseError(f"{where}: no values given")
        return key, split_values(text, where)
    key, values = spec
    key = str(key).strip()
    values = [str(v).strip() for v in values]
    if not key or not values or any(not v for v in values):
        raise CaseError(f"--vary {key}: give a key and at least one non-empty value")
    return key, values


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep; ``id`` and ``file`` are assigned by
    :func:`~kinsim.sweep.directory.prepare_directory`."""

    values: tuple[str, ...]  # as given, one per key
    overrides: tuple[str, ...]  # "key=value"
    sha256: str  # hash of the resolved case (run identity)
    resolved: tuple  # resolved value per key (float or None)
    id: str = ""
    file: str = ""


@dataclass
class SweepPlan:
    case_path: Path
    keys: list[str]
    values: list[list[str]]
    zip: bool
    fixed: list[str]  # --set overrides applied to every run
    runs: list[SweepRun]
    base_toml: str
    base_sha256: str
    components: list[str]
    phases: list[str] = field(default_factory=list)  # the candidate phases of a homogenization case


def given_as_number(text: str) -> bool:
    """True when a value given to ``--vary`` is a plain number."""
    v = parse_value(text)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _strip_location(msg: str, fname: str) -> str:
    return msg[len(fname) + 2 :] if msg.startswith(f"{fname}: ") else msg


def _lookup_resolved(case_dict: dict, key: str):
    node = case_dict
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        match = [k for k in node if k == part] or [k for k in node if k.upper() == part.upper()]
        if not match:
            return None
        node = node[match[0]]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    return float(node)


def plan_sweep(case, vary, zip: bool = False, sets=()) -> SweepPlan:  # noqa: A002 - the CLI's name
    """Validate a sweep: the case (with the fixed ``sets`` overrides, ``"key=value"`` as in
    ``kinsim run --set``), every varied key and value, and every run (see the module
    docstring).  Raises :class:`CaseError` naming the first problem."""
    path = Path(case).expanduser()
    fixed = tuple(str(t) for t in (sets or ()))
    base = load_case(path, overrides=fixed)  # file, base-case and --set errors, already one line
    fname = path.name
    raw = read_case_file(path)
    for text in fixed:
        apply_override(raw, text)
    specs = [parse_vary(v) for v in vary]
    if not specs:
        raise CaseError("give at least one --vary KEY=VALUES")
    keys = [k for k, _ in specs]
    fixed_keys = {t.partition("=")[0].strip() for t in fixed}
    for k in keys:
        if keys.count(k) > 1:
            raise CaseError(f"--vary {k} is given more than once (give all its values in one --vary)")
        if k in fixed_keys:
            raise CaseError(f"{k} is given both in --set and in --vary")
        if k.strip().lower() == "output.file":
            raise CaseError("--vary output.file: every run writes its own DIR/run-NNN.h5; output.file cannot vary")
    if not zip:  # in a product a repeated value only repeats runs (with --zip the pairs decide)
        for k, values in specs:
            for i, v in enumerate(values):
                if v in values[:i]:
                    raise CaseError(f"--vary {k}: value {v!r} is given twice")

    def resolve(overrides, where):
        data = copy.deepcopy(raw)
        for text in overrides:
            try:
                apply_override(data, text)
            except CaseError as exc:
                msg = str(exc)
                raise CaseError("--vary " + msg[len("--set ") :] if msg.startswith("--set ") else msg) from None
        try:
            return parse_case(data, path)
        except CaseError as exc:
            raise CaseError(f"{where}: {_strip_location(str(exc), fname)}") from None

    # each key and value alone
    for k, values in specs:
        for v in values:
            resolve([f"{k}={v}"], f"--vary {k}={v}")
    # the runs
    if zip:
        lengths = {k: len(v) for k, v in specs}
        if len(set(lengths.values())) > 1:
            raise CaseError(
                "--zip pairs the values, so every --vary needs as many values: "
                + ", ".join(f"{k} has {n}" for k, n in lengths.items())
            )
        combos = list(builtins.zip(*[v for _, v in specs]))
    else:
        combos = list(itertools.product(*[v for _, v in specs]))
    runs = []
    by_hash: dict[str, tuple] = {}
    for combo in combos:
        overrides = tuple(f"{k}={v}" for k, v in builtins.zip(keys, combo))
        desc = ", ".join(overrides)
        c = resolve(overrides, f"sweep run with {desc}")
        h = case_identity(c)
        if h in by_hash:
            raise CaseError(f"the runs with {', '.join(by_hash[h])} and {desc} are the same case")
        by_hash[h] = overrides
        d = c.to_dict()
        runs.append(
            SweepRun(
                values=tuple(combo),
                overrides=fixed + overrides,
                sha256=h,
                resolved=tuple(_lookup_resolved(d, k) for k in keys),
            )
        )
    return SweepPlan(
        case_path=path.resolve(),
        keys=keys,
        values=[v for _, v in specs],
        zip=bool(zip),
        fixed=list(fixed),
        runs=runs,
        base_toml=base.to_toml(),
        base_sha256=case_identity(base),
        components=list(base.components),
        phases=list(base.thermo.phases) if base.thermo.multiphase else [],
    )
