"""TDB database -> :class:`ThermoParams`.  The only module that imports pycalphad.

pycalphad's ``Database`` is used for parsing only.  The compound-energy model is
expanded here, in kinsim's own code, into monomials over site fractions (see
``params.py`` for the layout), following the conventions of the CALPHAD literature
(Lukas, Fries & Sundman, *Computational Thermodynamics*, 2007, ch. 5) so that Gibbs
energies agree with pycalphad's ``Model``:

* end-members ``prod y * G``, Redlich-Kister ``y_a y_b (y_a - y_b)^v L_v``, reciprocal
  parameters (the (y_a - y_b) factor on the sublattice chosen by the order), ternary
  parameters with the Muggianu-Hillert variables ``v_i = y_i + (1 - y_a - y_b - y_c)/3``
  (an order-0 parameter alone stands for a symmetric interaction), wildcards ``*``;
* ideal mixing ``RT sum_s a_s sum_i y ln y``;
* Inden-Hillert-Jarl magnetism with the anti-ferromagnetic factor;
* order/disorder partitioning (DIS_PART):
  ``G = G_dis(x) + G_ord(y) - G_ord(y = x)`` with the quasi mole fractions x of the
  ordered (substitutional) sublattices.
Every contribution is divided by the atoms per formula unit of its own model.
"""

from __future__ import annotations

import itertools
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatabaseError, InputError
from . import params as P
from .params import PhaseDescription
from .tfunc import TFunctionTable, to_sympy

_SUPPORTED_G_TYPES = {"G", "L"}
_MAG_TYPES = {"TC": P.KIND_TC, "BMAGN": P.KIND_BMAGN}
# kinetics, and volume terms that vanish at the standard pressure; NT (Neel T) is not
# used by the Inden-Hillert-Jarl model (the AFM factor stands for it)
_IGNORED_TYPES = {"MQ", "MF", "DQ", "DF", "V0", "VA", "VC", "VK", "VS", "MS", "NT"}


def load_database(path):
    """Parse a TDB file with pycalphad; any failure becomes a DatabaseError."""
    from pycalphad import Database

    if not isinstance(path, (str, os.PathLike)):
        return path  # already a Database
    p = Path(path)
    if not p.exists():
        raise DatabaseError(f"database file not found: {p}")
    if not p.is_file():
        raise DatabaseError(f"database path is not a file: {p}")
    try:
        text = p.read_text(encoding="latin-1")
    except OSError as exc:
        raise DatabaseError(f"cannot read database {p}: {exc.strerror}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pycalphad's parser warnings are not ours to print
            db = Database(text)  # pycalphad accepts the text itself
    except Exception as exc:  # pyparsing / ValueError / KeyError from the parser
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"malformed TDB file {p}: {msg}") from None
    if not db.phases:
        raise DatabaseError(f"malformed TDB file {p}: no PHASE found")
    return db


# ---------------------------------------------------------------- polynomials
# A polynomial is {monomial: coef}, monomial = tuple of (var, exponent) sorted by var.
Monomial = tuple[tuple[int, int], ...]
Poly = dict[Monomial, float]
#: (function index, coefficient, monomial): one term of a parameter expansion (G, L, TC, BMAGN, MQ, MF)
Term = tuple[int, float, Monomial]


def _pmul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            d = dict(ma)
            for v, e in mb:
                d[v] = d.get(v, 0) + e
            key = tuple(sorted(d.items()))
            out[key] = out.get(key, 0.0) + ca * cb
    return {k: c for k, c in out.items() if c != 0.0}


def _padd(a: Poly, b: Poly, s: float = 1.0) -> Poly:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0.0) + s * c
    return {k: c for k, c in out.items() if c != 0.0}


def _pvar(v: int | None) -> Poly:
    return {((v, 1),): 1.0} if v is not None else {(): 1.0}


def _pconst(c: float) -> Poly:
    return {(): float(c)} if c != 0 else {}


def _ppow(a: Poly, n: int) -> Poly:
    out: Poly = {(): 1.0}
    for _ in range(n):
        out = _pmul(out, a)
    return out


# ---------------------------------------------------------------- model description
@dataclass
class _Block:
    """One compound-energy model over its own variables z."""

    name: str
    sign: float
    sublattices: list  # site ratios
    constituents: list  # per sublattice: sorted list of active species names
    zindex: dict  # (sublattice, species) -> global z index, None if constant 1
    idmix: bool
    mag: tuple | None  # (afm, p) or None
    monomials: list = field(default_factory=list)  # (fn, scale, kind, poly-monomial)
    z_lo: int = 0  # the block's variables are z[z_lo:z_hi] (set when they are laid out)
    z_hi: int = 0


def _species_name(sp):
    return sp.name.upper() if hasattr(sp, "name") else str(sp).upper()


def _active_constituents(phase, comps):
    comps = set(comps) | {"VA"}
    out = []
    for subl in phase.constituents:
        names = set()
        for sp in subl:
            nm = _species_name(sp)
            if nm in comps:
                names.add(nm)
            elif nm != "VA" and hasattr(sp, "constituents") and set(sp.constituents) <= set(comps) and nm not in comps:
                # a molecule or ion made of active elements: not representable
                if getattr(sp, "charge", 0) != 0 or len(sp.constituents) > 1 or sum(sp.constituents.values()) != 1:
                    raise DatabaseError(
                        f"phase {phase.name}: constituent {nm} is a molecule or ion; kinsim models "
                        f"only element and vacancy constituents"
                    )
        out.append(sorted(names))
    return out


def _extend_ordered(db, phase, comps):
    """Constituents of an ordered phase's ordering sublattices extended by the disordered ones."""
    dis = db.phases[phase.model_hints["disordered_phase"]]
    dis_sub = set(_active_constituents(dis, comps)[0])
    inter = set(_active_constituents(dis, comps)[1]) if len(dis.constituents) == 2 else None
    act = _active_constituents(phase, comps)
    out = []
    for c in act:
        if inter is None or set(c) != inter:
            out.append(sorted(set(c) | dis_sub))
        else:
            out.append(c)
    return out


class _Builder:
    def __init__(self, db, phase_name, comps, dbname):
        self.db = db
        self.phase_name = phase_name
        self.comps = comps  # elements, reference first
        self.actives = set(comps) | {"VA"}
        self.dbname = dbname
        self.tf = TFunctionTable()
        self.fn_cache = {}

    # -- parameters -------------------------------------------------------
    def params_of(self, phase_name, types):
        from tinydb import where

        return self.db.search((where("phase_name") == phase_name) & (where("parameter_type").one_of(list(types))))

    def _label(self, p):
        arr = ":".join(",".join(_species_name(s) for s in sub) for sub in p["constituent_array"])
        ds = p.get("diffusing_species")
        dsn = f"&{_species_name(ds)}" if ds is not None and _species_name(ds) not in ("", "NONE") else ""
        return f"{p['parameter_type']}({p['phase_name']}{dsn},{arr};{p['parameter_order']})"

    def fn_index(self, p):
        label = self._label(p)
        expr = self._substitute(p["parameter"], label)
        return self.tf.add(expr, label)

    def _substitute(self, expr, label):
        """Replace FUNCTION references recursively (kinsim's own walk over db.symbols)."""
        expr = to_sympy(expr)
        symbols = {k.upper(): v for k, v in self.db.symbols.items()}
        seen = 0
        while True:
            free = [s for s in expr.free_symbols if s.name not in ("T", "P")]
            if not free:
                return expr
            subs = {}
            for s in free:
                nm = s.name.upper().rstrip("#")
                if nm not in symbols:
                    raise DatabaseError(f"parameter {label}: FUNCTION {s.name} is not defined in {self.dbname}")
                subs[s] = to_sympy(symbols[nm])
            expr = expr.xreplace(subs)
            seen += 1
            if seen > 50:
                raise DatabaseError(f"parameter {label}: FUNCTION references nest too deep (a cycle?)")

    # -- expansion ----------------------------------------------------------
    def expand(self, blk: _Block, p, kind):
        """Monomials of one parameter in block variables; None if not applicable."""
        arr = [[_species_name(s) for s in sub] for sub in p["constituent_array"]]
        label = self._label(p)
        if len(arr) < len(blk.sublattices) and all(len(c) == 1 for c in blk.constituents[len(arr) :]):
            # e.g. MQ(FCC_A1&AL,NI;0): trailing single-constituent sublattices (VA) left out
            arr = arr + [["*"] for _ in blk.constituents[len(arr) :]]
        if len(arr) != len(blk.sublattices):
            raise DatabaseError(
                f"parameter {label}: {len(arr)} sublattices given, phase {blk.name} has {len(blk.sublattices)}"
            )
        order = int(p["parameter_order"])
        # validity: every named species active in its sublattice (wildcards always)
        for s, sub in enumerate(arr):
            if sub[0] == "*":
                continue
            if not set(sub) <= set(blk.constituents[s]):
                return None
        ndof = [len(sub) if sub[0] != "*" else 1 for sub in arr]
        mixing = [s for s, n in enumerate(ndof) if n > 1]
        if len(mixing) > 1 and max(ndof) > 2:
            raise DatabaseError(f"parameter {label}: mixing on several sublattices beyond binary is not supported")
        pure = not mixing
        if kind == P.KIND_G:
            if pure and order != 0:
                return None  # not part of the CEF (pycalphad ignores it too)
        orders = [order]
        if any(n == 3 for n in ndof) and order == 0:
            same = [q for q in self.db.search(self._same_array_query(p))]
            if len(same) == 1:
                orders = [0, 1, 2]  # an order-0 ternary alone is symmetric
        if any(n > 3 for n in ndof):
            raise DatabaseError(f"parameter {label}: interactions of more than three constituents are not supported")
        total: Poly = {}
        for od in orders:
            poly: Poly = {(): 1.0}
            for s, sub in enumerate(arr):
                if sub[0] == "*":
                    f: Poly = {}
                    for c in blk.constituents[s]:
                        f = _padd(f, _pvar(blk.zindex[(s, c)]))
                    poly = _pmul(poly, f)
                    continue
                syms = [_pvar(blk.zindex[(s, c)]) for c in sub]
                for f in syms:
                    poly = _pmul(poly, f)
                if len(sub) == 2 and od > 0:
                    if len(mixing) == 1:
                        poly = _pmul(poly, _ppow(_padd(syms[0], syms[1], -1.0), od))
                    elif len(mixing) == 2:
                        if od > 2:
                            raise DatabaseError(f"parameter {label}: reciprocal parameters take orders 0, 1, 2")
                        if s == mixing[-od]:
                            poly = _pmul(poly, _padd(syms[0], syms[1], -1.0))
                    else:
                        raise DatabaseError(f"parameter {label}: reciprocal order > 0 on more than two sublattices")
                if len(sub) == 3:
                    if od > 2:
                        raise DatabaseError(f"parameter {label}: a ternary parameter takes orders 0, 1, 2")
                    corr = _pconst(1.0 / 3.0)
                    for f in syms:
                        corr = _padd(corr, f, -1.0 / 3.0)
                    poly = _pmul(poly, _padd(syms[od], corr))
            total = _padd(total, poly)
        return total

    @staticmethod
    def _same_array_query(p):
        from tinydb import where

        return (
            (where("phase_name") == p["phase_name"])
            & (where("parameter_type") == p["parameter_type"])
            & (where("constituent_array") == p["constituent_array"])
            & (where("diffusing_species") == p.get("diffusing_species"))
        )

    def add_params(self, blk: _Block, source_phase, kinds_types):
        for ptype, kind in kinds_types:
            for p in self.params_of(source_phase, [ptype]):
                poly = self.expand(blk, p, kind)
                if not poly:
                    continue
                fn = self.fn_index(p)
                for mono, c in poly.items():
                    blk.monomials.append((fn, c, kind, mono))


def _endmembers(constituents):
    return list(itertools.product(*constituents))


def _build_mobility(bld, blk, comps, policy):
    """MQ + MF monomials per component (kawin / Thermo-Calc convention:
    M_k = exp((sum MQ + sum MF) / RT) / RT), the missing end-members, and what the
    policy did about them.

    policy None: only list what is missing; "error": refuse; "solvent": a missing
    end-member takes the value of the nearest existing end-member in which species are
    replaced by their sublattice's solvent, the dependent component comps[0] (or VA on an
    interstitial sublattice): C in SI:VA takes C in FE:VA, SI in FE:C takes SI in FE:VA.
    Every substitution is recorded in the description (and the result file).
    """
    from tinydb import where

    mons: dict[int, list[Term]] = {k: [] for k in range(len(comps))}
    missing: list[str] = []
    substituted: list[str] = []
    held = set().union(*map(set, blk.constituents))
    for k, c in enumerate(comps):
        if c not in held:
            continue  # a phase-set member without c: it carries no flux of c (its u_c is zero)
        params = [
            q
            for q in bld.db.search(
                (where("phase_name") == bld.phase_name) & (where("parameter_type").one_of(["MQ", "MF"]))
            )
            if q.get("diffusing_species") is not None and _species_name(q["diffusing_species"]) == c
        ]
        have = {}
        for q in params:
            poly = bld.expand(blk, q, P.KIND_MQ + k)
            if not poly:
                continue
            fn = bld.fn_index(q)
            for mono, coef in poly.items():
                mons[k].append((fn, coef, mono))
            arr = tuple(tuple(_species_name(x) for x in sub) for sub in q["constituent_array"])
            if q["parameter_type"] == "MQ" and int(q["parameter_order"]) == 0 and all(len(a) == 1 for a in arr):
                if len(arr) < len(blk.constituents):
                    arr = arr + tuple((blk.constituents[i][0],) for i in range(len(arr), len(blk.constituents)))
                have[tuple(a[0] for a in arr)] = q
        for em in _endmembers(blk.constituents):
            if em in have or any(all(a == b or a == "*" for a, b in zip(key, em)) for key in have if "*" in key):
                continue
            if all(sp == "VA" for sp in em):
                continue
            label = f"MQ({bld.phase_name}&{c}," + ":".join(em) + ";0)"
            missing.append(label)
            if policy != "solvent":
                continue
            # the nearest end-member in which species are replaced by their sublattice's solvent
            # (the dependent component, or VA on an interstitial sublattice); fewest changes first
            solvent = [comps[0] if comps[0] in cons else ("VA" if "VA" in cons else None) for cons in blk.constituents]
            changeable = [i for i, sp in enumerate(em) if solvent[i] is not None and sp != solvent[i]]
            cand = None
            for r in range(1, len(changeable) + 1):
                for idx in itertools.combinations(changeable, r):
                    alt = tuple(solvent[j] if j in idx else e for j, e in enumerate(em))
                    if alt in have:
                        cand = (idx, alt)
                        break
                if cand is not None:
                    break
            if cand is None:
                raise DatabaseError(
                    f"mobility of {c} in {bld.phase_name}: end-member {':'.join(em)} is missing "
                    f"and no end-member with solvent species replacing it exists"
                )
            q = have[cand[1]]
            fn = bld.fn_index(q)
            poly = {(): 1.0}
            for s_i, sp in enumerate(em):
                poly = _pmul(poly, _pvar(blk.zindex[(s_i, sp)]))
            for mono, coef in poly.items():
                mons[k].append((fn, coef, mono))
            substituted.append(f"{label} <- MQ({bld.phase_name}&{c}," + ":".join(cand[1]) + ";0)")
    if missing and policy == "error":
        raise DatabaseError(
            f"mobility parameters missing in {bld.dbname}: {', '.join(missing)} "
            f'(set [mobility] missing = "solvent" to substitute the {comps[0]} end-members)'
        )
    return mons, missing, substituted


def _magnetic_hint(phase, label):
    h = phase.model_hints
    if "ihj_magnetic_afm_factor" not in h:
        return None
    afm = float(h["ihj_magnetic_afm_factor"])
    p = float(h["ihj_magnetic_structure_factor"])
    if afm == 0:
        raise DatabaseError(f"phase {label}: the Xiong magnetic model (AFM factor 0) is not supported")
    return (afm, p)


def build_phase(db, phase: str, components, dbname="database", mobility=None, member=False):
    """Return (ThermoParams, PhaseDescription) for one phase and components (reference first).

    mobility: None (thermodynamics only; missing mobility end-members are listed in the
    description), "error" or "solvent" (see ``_build_mobility``).

    member: the phase is a candidate of a phase set (kinsim.phaseset).  It may then hold
    only some of the components (graphite in Fe-C: the others have no site variables and
    no atoms in it) and have a fixed composition (no site variables at all: cementite
    FE3C, G depends on T only); under the "solvent" policy a phase without any MQ
    parameter gets zero mobilities (``mobility_zero``, listed in ``mobility_substituted``).
    Alone (member=False) such a phase is refused: one phase of fixed composition has no
    unique chemical potentials.
    """
    comps = [c.strip().upper() for c in components]
    if len(comps) < 2:
        raise InputError("give at least two components (the first is the dependent one)")
    if len(set(comps)) != len(comps):
        raise InputError(f"components repeated: {', '.join(comps)}")
    elements = {e.upper() for e in db.elements} - {"VA", "/-"}
    for c in comps:
        if c == "VA":
            raise InputError("VA (vacancy) is not a component; list elements only")
        if c not in elements:
            raise InputError(f"component {c} is not an element of {dbname} (elements: {', '.join(sorted(elements))})")
    pname = phase.strip().upper()
    phases = {k.upper(): k for k in db.phases}
    if pname not in phases:
        raise InputError(f"phase {pname} is not in {dbname} (phases: {', '.join(sorted(phases))})")
    ph = db.phases[phases[pname]]
    hints = ph.model_hints
    partitioned = hints.get("ordered_phase") == ph.name and "disordered_phase" in hints
    for bad in ("ionic_liquid_2SL",):
        if hints.get(bad):
            raise DatabaseError(f"phase {pname}: the ionic two-sublattice liquid model is not supported")
    for h in hints:
        if h.startswith("symmetry_") and hints[h]:
            raise DatabaseError(f"phase {pname}: sublattice symmetry options ({h}) are not supported")
    # unsupported G-contributing parameter types
    from tinydb import where

    allowed = set(comps) | {"VA", "*"}
    for p in db.search(where("phase_name") == ph.name):
        t = p["parameter_type"]
        if t in _SUPPORTED_G_TYPES or t in _MAG_TYPES or t in _IGNORED_TYPES:
            continue
        if all({_species_name(s) for s in sub} <= allowed for sub in p["constituent_array"]):
            raise DatabaseError(f"phase {pname}: parameter type {t} ({_label_simple(p)}) is not supported by kinsim")

    bld = _Builder(db, ph.name, comps, dbname)
    act = _extend_ordered(db, ph, comps) if partitioned else _active_constituents(ph, comps)
    for s, c in enumerate(act):
        if not c:
            raise InputError(f"phase {pname}: sublattice {s} holds none of the components {', '.join(comps)}")
    held = set().union(*map(set, act))
    shown = " : ".join(",".join(a) for a in act)
    if not held - {"VA"}:
        raise InputError(f"phase {pname} holds none of the components {', '.join(comps)} (constituents: {shown})")
    for c in comps:
        if c not in held and not member:
            raise InputError(f"phase {pname} cannot hold component {c} (constituents: {shown})")
    ratios = [float(r) for r in ph.sublattices]

    # y variables: constituents of sublattices with >= 2 active constituents
    ymap = {}
    y_sub: list[int] = []
    y_comp: list[int] = []
    y_ratio: list[float] = []
    site_names: list[str] = []
    n_const = np.zeros(len(comps))
    free_sub = 0
    for s, cons in enumerate(act):
        if len(cons) >= 2:
            for c in cons:
                ymap[(s, c)] = len(y_sub)
                y_sub.append(free_sub)
                y_comp.append(comps.index(c) if c != "VA" else -1)
                y_ratio.append(ratios[s])
                site_names.append(f"y({pname},{s},{c})")
            free_sub += 1
        else:
            c = cons[0]
            if c != "VA":
                n_const[comps.index(c)] += ratios[s]
    K = len(y_sub)
    if K == 0 and not member:
        atoms = n_const / n_const.sum()
        formula = ", ".join(f"{c} {a:.6g}" for c, a in zip(comps, atoms) if a > 0)
        raise InputError(
            f"phase {pname} has a fixed composition ({formula}): its Gibbs energy depends on T "
            f"only and one phase alone has no unique chemical potentials (only their weighted "
            f"sum, x.mu = GM, is fixed); compute its equilibria with other phases (--phases, "
            f"kinsim.phaseset.load_phases)"
        )

    # z rows: (M row, c)
    zrows_M, zrows_c, zratio, znat = [], [], [], []

    def new_z(row, const, ratio, natoms):
        zrows_M.append(row)
        zrows_c.append(const)
        zratio.append(ratio)
        znat.append(natoms)
        return len(zrows_M) - 1

    def ident_row(s, c):
        row = np.zeros(K)
        if (s, c) in ymap:
            row[ymap[(s, c)]] = 1.0
            return row, 0.0
        return row, 1.0

    blocks: list[_Block] = []

    def make_block(name, sign, src_phase, cons, rat, zrow_fn, idmix, mag):
        zindex = {}
        for s, cl in enumerate(cons):
            for c in cl:
                row, const = zrow_fn(s, c)
                is_const = not row.any()
                zi = new_z(row, const, 0.0 if is_const or len(cl) < 2 else rat[s], 0.0 if c == "VA" else rat[s])
                zindex[(s, c)] = None if is_const else zi
                if is_const and const != 1.0:
                    zindex[(s, c)] = zi  # a constant other than 1 must stay a factor
        blk = _Block(name, sign, rat, cons, zindex, idmix, mag)
        blk.z_lo = len(zrows_M) - sum(len(cl) for cl in cons)
        blk.z_hi = len(zrows_M)
        kinds = [("G", P.KIND_G), ("L", P.KIND_G)]
        if mag is not None:
            kinds += [("TC", P.KIND_TC), ("BMAGN", P.KIND_BMAGN)]
        bld.add_params(blk, src_phase, kinds)
        if mag is not None and not any(m[2] in (P.KIND_TC, P.KIND_BMAGN) for m in blk.monomials):
            blk.mag = None
        blocks.append(blk)
        return blk

    if not partitioned:
        make_block(ph.name, 1.0, ph.name, act, ratios, ident_row, True, _magnetic_hint(ph, pname))
    else:
        dis = db.phases[hints["disordered_phase"]]
        dis_act = _active_constituents(dis, comps)
        dis_sub = set(dis_act[0])
        subst = [s for s, c in enumerate(act) if set(c) == dis_sub]
        n_inter_ord = len(act) - len(subst)
        if n_inter_ord != len(dis_act) - 1:
            raise DatabaseError(f"phase {pname}: interstitial sublattices of {pname} and {dis.name} do not match")

        def quasi_row(s_unused, c):
            num = np.zeros(K)
            const = 0.0
            den = 0.0
            for s in subst:
                if c in act[s]:
                    den += ratios[s]
                    row, cst = ident_row(s, c)
                    num += ratios[s] * row
                    const += ratios[s] * cst
            if den == 0:
                raise DatabaseError(f"phase {pname}: {c} is on no ordering sublattice")
            return num / den, const / den

        def dis_row(s, c):
            if s == 0:
                return quasi_row(None, c)
            return ident_row(s + len(subst) - 1, c)

        def ord_at_x_row(s, c):
            if s in subst:
                return quasi_row(None, c)
            return ident_row(s, c)

        never = bool(hints.get("never_disorder", False))
        dis_ratios = [float(r) for r in dis.sublattices]
        make_block(dis.name, 1.0, dis.name, dis_act, dis_ratios, dis_row, not never, _magnetic_hint(dis, dis.name))
        make_block(ph.name, 1.0, ph.name, act, ratios, ident_row, True, _magnetic_hint(ph, pname))
        if not never:
            make_block(ph.name + "@x", -1.0, ph.name, act, ratios, ord_at_x_row, True, _magnetic_hint(ph, pname))

    # ---- mobilities (on the phase's own site fractions)
    has_mob = bool(bld.params_of(ph.name, ["MQ"]))
    mobility_zero = False
    if partitioned and mobility is not None and has_mob:
        raise DatabaseError(f"phase {pname}: mobilities of order/disorder partitioned phases are not supported")
    if mobility is not None and not has_mob:
        if not member:
            raise DatabaseError(f"phase {pname} has no mobility (MQ) parameters in {dbname}")
        if mobility != "solvent":
            raise DatabaseError(
                f"phase {pname} has no mobility (MQ) parameters in {dbname} (list it in homogenization.excluded "
                f'if it carries no flux, or set [mobility] missing = "solvent" to make it immobile)'
            )
        mobility_zero = True
    mob: dict[int, list[Term]]
    if partitioned or mobility_zero:
        mob, missing, substituted = {k: [] for k in range(len(comps))}, [], []
        if mobility_zero:
            substituted = [
                f"{pname}: no MQ parameters in {dbname}; mobilities of every component zero "
                f"(the phase carries no diffusion)"
            ]
    else:
        mob, missing, substituted = _build_mobility(bld, blocks[0], comps, mobility if has_mob else None)
    interstitial = np.zeros(len(comps), dtype=np.int64)
    va_y = np.full(len(comps), -1, dtype=np.int64)
    for k, c in enumerate(comps):
        subs_with = [s for s, cons in enumerate(act) if c in cons]
        if subs_with and all("VA" in act[s] for s in subs_with):
            interstitial[k] = 1
            va_y[k] = ymap.get((subs_with[0], "VA"), -1)
    if interstitial[0]:
        raise InputError(
            f"the dependent component {comps[0]} is interstitial in {pname}; list a substitutional component first"
        )

    # ---- arrays
    t_breaks, basis_pow, basis_log, basis_exp, fn_coef = bld.tf.build()
    mq_ptr = np.cumsum([0] + [len(mob[k]) for k in range(len(comps))])
    mq_fn, mq_scale, mq_fac_ptr, mq_fac_var, mq_fac_exp = _flatten(
        [(fn, c, mono) for k in range(len(comps)) for fn, c, mono in mob[k]]
    )
    blk_kind_ptr: list[list[int]] = []
    flat: list[Term] = []
    for blk in blocks:
        mons = sorted(blk.monomials, key=lambda t: t[2])
        kinds = [t[2] for t in mons]
        start = len(flat)
        blk_kind_ptr.append(
            [start]
            + [start + sum(1 for k in kinds if k < kind) for kind in (P.KIND_TC, P.KIND_BMAGN)]
            + [start + len(mons)]
        )
        # a monomial without factors (a phase of fixed composition: every sublattice
        # constant) gets the factor z^1 of one of its block's constant variables (z = 1):
        # the Gibbs-energy kernel reads at least one factor per monomial
        ones = [i for i in range(blk.z_lo, blk.z_hi) if not np.any(zrows_M[i]) and zrows_c[i] == 1.0]
        flat.extend((fn, c, mono or ((ones[0], 1),)) for fn, c, _, mono in mons)
    mono_fn, mono_scale, fac_ptr, fac_var, fac_exp = _flatten(flat)
    Z = len(zrows_M)
    # no internal degrees of freedom: free y count == sublattice sums + independent mass balances
    no_dof = int(K == free_sub + len(comps) - 1)
    params = P.ThermoParams(
        n_comp=len(comps),
        n_y=K,
        n_sub=free_sub,
        no_internal_dof=no_dof,
        t_breaks=t_breaks,
        basis_pow=basis_pow,
        basis_log=basis_log,
        basis_exp=basis_exp,
        fn_coef=np.ascontiguousarray(fn_coef),
        y_sub=np.array(y_sub, dtype=np.int64),
        y_comp=np.array(y_comp, dtype=np.int64),
        y_ratio=np.array(y_ratio, dtype=np.float64),
        n_const=n_const,
        blk_sign=np.array([b.sign for b in blocks]),
        blk_z_ptr=np.array([b.z_lo for b in blocks] + [blocks[-1].z_hi], dtype=np.int64),
        blk_kind_ptr=np.array(blk_kind_ptr, dtype=np.int64).reshape(len(blocks), 4),
        blk_idmix=np.array([1.0 if b.idmix else 0.0 for b in blocks]),
        blk_mag=np.array([1 if b.mag else 0 for b in blocks], dtype=np.int64),
        blk_afm=np.array([b.mag[0] if b.mag else -1.0 for b in blocks]),
        blk_p=np.array([b.mag[1] if b.mag else 0.4 for b in blocks]),
        z_M=np.ascontiguousarray(np.array(zrows_M, dtype=np.float64).reshape(Z, K)),
        z_c=np.array(zrows_c, dtype=np.float64),
        z_ratio=np.array(zratio, dtype=np.float64),
        z_natoms=np.array(znat, dtype=np.float64),
        mono_fn=mono_fn,
        mono_scale=mono_scale,
        mono_fac_ptr=fac_ptr,
        fac_var=fac_var,
        fac_exp=fac_exp,
        interstitial=interstitial,
        va_y=va_y,
        mq_ptr=mq_ptr.astype(np.int64),
        mq_fn=mq_fn,
        mq_scale=mq_scale,
        mq_fac_ptr=mq_fac_ptr,
        mq_fac_var=mq_fac_var,
        mq_fac_exp=mq_fac_exp,
    )
    desc = PhaseDescription(
        database=dbname,
        phase=pname,
        components=comps,
        site_names=site_names,
        sublattice_ratios=ratios,
        constituents=act,
        t_range=(float(t_breaks[0]), float(t_breaks[-1])),
        partitioned=partitioned,
        magnetic=any(b.mag for b in blocks),
        fn_names=bld.tf.names,
        missing_mobility=missing,
        mobility_substituted=substituted,
        mobility_policy=mobility or "",
        mobility_zero=mobility_zero,
    )
    return params, desc


def _flatten(monomials):
    """[(fn, coef, ((var, exp), ...)), ...] -> fn, scale, factor pointers, factor vars, exponents."""
    fn = np.array([m[0] for m in monomials], dtype=np.int64)
    scale = np.array([m[1] for m in monomials], dtype=np.float64)
    ptr = np.cumsum([0] + [len(m[2]) for m in monomials]).astype(np.int64)
    var = np.array([v for m in monomials for v, _ in m[2]], dtype=np.int64)
    exp = np.array([e for m in monomials for _, e in m[2]], dtype=np.int64)
    return fn, scale, ptr, var, exp


def _label_simple(p):
    arr = ":".join(",".join(_species_name(s) for s in sub) for sub in p["constituent_array"])
    return f"{p['parameter_type']}({p['phase_name']},{arr};{p['parameter_order']})"


def reference_gibbs_energy(path, phase: str, component: str, temperatures) -> np.ndarray:
    """Gibbs energy (J per mole of ``component``) of the pure component in ``phase`` at each
    temperature: the reference state of an activity (e.g. C in GRAPHITE_A9).  The phase
    must be able to hold the component alone (every sublattice the component or VA).
    Evaluated with pycalphad's ``calculate`` on the same parameters kinsim uses."""
    from pycalphad import calculate

    db = load_database(path)
    name = Path(path).name
    comp = component.strip().upper()
    pname = phase.strip().upper()
    phases = {k.upper(): k for k in db.phases}
    if pname not in phases:
        raise InputError(f"reference phase {pname} is not in {name} (phases: {', '.join(sorted(phases))})")
    ph = db.phases[phases[pname]]
    for s, sub in enumerate(ph.constituents):
        names = {_species_name(sp) for sp in sub}
        if not ({comp, "VA"} & names):
            raise InputError(
                f"reference phase {pname} of {name} cannot hold pure {comp}: its sublattice {s} "
                f"holds only {', '.join(sorted(names))}"
            )
    T = np.atleast_1d(np.asarray(temperatures, dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = calculate(db, [comp, "VA"], ph.name, T=T, P=101325.0, N=1, output="GM", pdens=1)
    gm = np.asarray(res.GM.values, dtype=float).reshape(T.size, -1)
    X = np.asarray(res.X.sel(component=comp).values, dtype=float).reshape(T.size, -1)
    pure = np.argmax(X[0])
    if not X[0, pure] > 1.0 - 1e-9:
        raise InputError(f"reference phase {pname} of {name} cannot hold pure {comp}")
    out = gm[:, pure]
    if not np.all(np.isfinite(out)):
        raise InputError(f"reference phase {pname} of {name}: no Gibbs energy of pure {comp}")
    return out
