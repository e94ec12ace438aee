"""Safe evaluation of simple expressions of position, e.g. ``"2e8 * (z / 0.01 - 0.5)"``.

Used for the external potentials of a case (``[[potential]] expression``): numbers, the
variable ``z`` (m), ``pi``, ``+ - * / **``, parentheses and the functions below.  Anything
else (names, attributes, calls of other functions) is a CaseError naming it; nothing is
passed to Python's ``eval``.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from .errors import CaseError

FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "abs": np.abs,
    "erf": None,
    "erfc": None,
}
CONSTANTS = {"pi": math.pi}
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}


def _parse(text: str, where: str) -> ast.AST:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise CaseError(f"{where} = {text!r}: not an expression ({exc.msg})") from None


def _walk(node, where, text, z):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id == "z":
            return z
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CaseError(
            f"{where} = {text!r}: unknown name '{node.id}' (use z in m, pi and {', '.join(sorted(FUNCTIONS))})"
        )
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_walk(node.left, where, text, z), _walk(node.right, where, text, z))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        v = _walk(node.operand, where, text, z)
        return -v if isinstance(node.op, ast.USub) else v
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        arg = _walk(node.args[0], where, text, z)
        name = node.func.id
        func = FUNCTIONS[name]
        if func is None:  # erf, erfc: scipy's, imported when an expression uses them
            from scipy import special

            return getattr(special, name)(arg)
        return func(arg)
    raise CaseError(
        f"{where} = {text!r}: '{ast.unparse(node)}' is not allowed (numbers, z, pi, + - * / **, "
        f"and {', '.join(sorted(FUNCTIONS))})"
    )


def check(text: str, where: str) -> None:
    """Raise CaseError unless ``text`` is an allowed expression."""
    with np.errstate(all="ignore"):
        _walk(_parse(text, where), where, text, np.array([0.0]))


def evaluate(text: str, z, where: str = "expression"):
    """The expression's value at positions ``z`` (m), as an array like ``z``."""
    z = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"):
        return np.asarray(_walk(_parse(text, where), where, text, z), dtype=float) + 0.0 * z
