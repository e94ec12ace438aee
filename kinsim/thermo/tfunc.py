"""Piecewise-in-T parameter expressions -> coefficient arrays over a power/log basis.

A CALPHAD parameter is a piecewise function of T whose pieces are sums of terms
``c * T**p * ln(T)**q`` (the SGTE form a + bT + cT lnT + dT^2 + eT^3 + f/T + gT^7 + hT^-9
and relatives).  This module turns such expressions (symengine/sympy, with FUNCTION
references already substituted) into ``coef[range, basis]`` arrays on a common set of
temperature breakpoints.  Anything outside the basis is an error naming the parameter.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..errors import DatabaseError

P_STANDARD = 101325.0
_T = sympy.Symbol("T")
_P = sympy.Symbol("P")


def to_sympy(expr):
    """symengine (or sympy) expression -> sympy with plain T and P symbols."""
    if hasattr(expr, "_sympy_"):
        expr = expr._sympy_()
    expr = sympy.sympify(expr)
    subs = {}
    for s in expr.free_symbols:
        if s.name == "T" and s is not _T:
            subs[s] = _T
        elif s.name == "P" and s is not _P:
            subs[s] = _P
    return expr.xreplace(subs) if subs else expr


def _breakpoints(expr, out: set):
    """Collect numeric T bounds appearing in Piecewise conditions."""
    for pw in expr.atoms(sympy.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sympy.core.relational.Relational):
                for side in (rel.lhs, rel.rhs):
                    if side.is_number:
                        out.add(float(side))


def _select(expr, t_mid: float, outside: list):
    """Replace every Piecewise by its branch active at t_mid (innermost first).

    A branch whose condition is the literal True and that is not the only branch is the
    database's "outside every range" fallback: record it in ``outside``.
    """

    def pick(pw):
        args = pw.args
        for i, (e, cond) in enumerate(args):
            if cond is sympy.true:
                if len(args) > 1 and i == len(args) - 1 and e == 0:
                    outside.append(True)
                return e
            val = cond.subs(_T, t_mid)
            if val is sympy.true or val == True:  # noqa: E712
                return e
        outside.append(True)
        return sympy.Integer(0)

    while True:
        pws = [
            p
            for p in expr.atoms(sympy.Piecewise)
            if not p.args[0][0].atoms(sympy.Piecewise) and not any(c.atoms(sympy.Piecewise) for _, c in p.args)
        ]
        if not pws:
            return expr
        expr = expr.xreplace({p: pick(p) for p in pws})


def _poly_in_T(expr, name, term):
    """expr -> ((power, coef), ...) if it is a sum of c*T**p, else error."""
    out: dict[float, float] = {}
    for t in sympy.Add.make_args(sympy.expand(expr)):
        c, rest = t.as_coeff_Mul()
        pw = 0.0
        if rest != 1:
            for base, ex in rest.as_powers_dict().items():
                if base == _T and ex.is_number:
                    pw += float(ex)
                else:
                    raise DatabaseError(f"parameter {name}: the term {term} is outside kinsim's temperature basis")
        out[pw] = out.get(pw, 0.0) + float(c)
    return tuple(sorted((p, c) for p, c in out.items() if c != 0.0))


def _terms(expr, name: str):
    """Split a piece into {(power, logpower, exp-polynomial): coefficient}.

    Basis terms are T**p * ln(T)**q * exp(sum_j c_j T**p_j) with q in {0, 1}: the SGTE
    polynomial, and the exponential factors of pressure-dependent (Murnaghan-type)
    FUNCTIONs evaluated at the standard pressure.
    """
    expr = sympy.expand(expr.subs(_P, P_STANDARD))
    out: dict = {}
    for term in sympy.Add.make_args(expr):
        coef, rest = term.as_coeff_Mul()
        p, q = 0.0, 0
        expo = sympy.Integer(0)
        for base, ex in rest.as_powers_dict().items() if rest != 1 else []:
            if base == _T and ex.is_number:
                p += float(ex)
            elif isinstance(base, sympy.log) and base.args[0] == _T and ex == 1:
                q += 1
            elif isinstance(base, sympy.exp) and ex.is_number:
                expo += ex * base.args[0]
            elif base.is_number and ex.is_number:
                coef = coef * base**ex
            elif base.is_number and float(base) > 0:
                expo += sympy.log(base) * ex
            else:
                raise DatabaseError(
                    f"parameter {name}: the term {term} is outside kinsim's temperature "
                    f"basis (c*T**p*ln(T)**q*exp(polynomial in T), q <= 1)"
                )
        if q > 1:
            raise DatabaseError(f"parameter {name}: the term {term} has ln(T)**{q}; only q <= 1 is supported")
        if not coef.is_number:
            raise DatabaseError(f"parameter {name}: could not reduce the term {term} to a number times T**p")
        c = float(coef)
        if not math.isfinite(c):
            raise DatabaseError(f"parameter {name}: the term {term} is not finite")
        ekey = _poly_in_T(expo, name, term) if expo != 0 else ()
        ekey = tuple((pp, float(f"{cc:.15g}")) for pp, cc in ekey)
        key = (p, q, ekey)
        out[key] = out.get(key, 0.0) + c
    return out


class TFunctionTable:
    """Collects parameter expressions and builds the coefficient arrays."""

    def __init__(self):
        self._exprs: list = []
        self._names: list[str] = []
        self._index: dict = {}

    def add(self, expr, name: str) -> int:
        expr = to_sympy(expr)
        key = sympy.srepr(expr)
        if key in self._index:
            return self._index[key]
        free = {s.name for s in expr.free_symbols} - {"T", "P"}
        if free:
            raise DatabaseError(f"parameter {name}: undefined symbol(s) {', '.join(sorted(free))}")
        idx = len(self._exprs)
        self._exprs.append(expr)
        self._names.append(name)
        self._index[key] = idx
        return idx

    @property
    def names(self):
        return list(self._names)

    def build(self, t_min: float = 1.0, t_max: float = 1.0e4):
        """Return (t_breaks, basis_pow, basis_log, basis_exp, coef) on the common valid range."""
        # each expression on its own breakpoints first (few), then on the union
        own = []
        all_bps: set[float] = set()
        for e, name in zip(self._exprs, self._names):
            bps: set[float] = set()
            _breakpoints(e, bps)
            edges = sorted({b for b in bps if t_min < b < t_max} | {t_min, t_max})
            all_bps.update(edges)
            pieces = []
            for r in range(len(edges) - 1):
                mid = 0.5 * (edges[r] + edges[r + 1])
                outside: list = []
                sel = _select(e, mid, outside)
                pieces.append(None if outside else _terms(sel, name))
            own.append((np.array(edges), pieces))
        edges = sorted(all_bps | {t_min, t_max})
        mids = 0.5 * (np.array(edges[:-1]) + np.array(edges[1:]))
        valid = np.ones(len(mids), dtype=bool)
        rows_all = []
        basis: dict = {(0.0, 0, ()): 0}
        for e_edges, pieces in own:
            which = np.searchsorted(e_edges, mids, side="right") - 1
            rows = []
            for r, w in enumerate(which):
                terms = pieces[w]
                if terms is None:
                    valid[r] = False
                    terms = {}
                for k in terms:
                    basis.setdefault(k, len(basis))
                rows.append(terms)
            rows_all.append(rows)
        if not valid.any():
            raise DatabaseError("the parameters share no common temperature range")
        idx = np.flatnonzero(valid)
        lo_r, hi_r = idx[0], idx[-1]
        if not valid[lo_r : hi_r + 1].all():
            raise DatabaseError("the parameters' temperature ranges leave a gap")
        t_breaks = np.array(edges[lo_r : hi_r + 2], dtype=np.float64)
        nb = len(basis)
        coef = np.zeros((max(len(rows_all), 1), hi_r - lo_r + 1, nb))
        for f, rows in enumerate(rows_all):
            for r in range(lo_r, hi_r + 1):
                for k, c in rows[r].items():
                    coef[f, r - lo_r, basis[k]] += c
        keys = sorted(basis, key=basis.__getitem__)
        basis_pow = np.array([k[0] for k in keys], dtype=np.float64)
        basis_log = np.array([k[1] for k in keys], dtype=np.int64)
        ne = max([len(k[2]) for k in keys] + [1])
        basis_exp = np.zeros((len(keys), ne, 2))  # (power, coefficient) pairs of the exponent
        for b, k in enumerate(keys):
            for j, (pp, cc) in enumerate(k[2]):
                basis_exp[b, j, 0] = pp
                basis_exp[b, j, 1] = cc
        return t_breaks, basis_pow, basis_log, basis_exp, coef
