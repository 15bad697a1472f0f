"""The symbolic reference: sympy differentiates the whole expression with its own rules.

The sympy expression is built from the Graph node by node through each operation's
sympy counterpart (never from the user's text, and never from our local partials),
differentiated with ``sympy.diff``, and evaluated at the point in high precision
(``digits`` significant digits, 30 by default) with the point's float values taken
exactly. The other methods are compared against these values.

    >>> from adcompare.parse import parse
    >>> result = run(parse("ln(x1) + x1*x2 - sin(x2)"), (2.0, 5.0))
    >>> result.details["derivatives"][0]
    (x2 + 1/x1, x1 - cos(x2))
"""

from fractions import Fraction

import mpmath
import numpy as np
import sympy

from ..graph import Const
from ..ops import OPERATIONS
from . import Cost, Result

_NAMED_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}


def to_sympy_constant(const):
    """The exact sympy value of a literal."""
    if isinstance(const.exact, Fraction):
        return sympy.Rational(const.exact.numerator, const.exact.denominator)
    return _NAMED_CONSTANTS[const.exact]


def to_sympy(graph):
    """The variables' symbols and one sympy expression per output, built from the Graph."""
    symbols = [sympy.Symbol(name, real=True) for name in graph.variables]
    expressions = list(symbols)
    for node in graph.nodes:
        args = [to_sympy_constant(a) if isinstance(a, Const) else expressions[a] for a in node.args]
        expressions.append(OPERATIONS[node.op].to_sympy(*args))
    return symbols, [expressions[slot] for slot in graph.outputs]


def _high_precision(expression, substitutions, digits):
    """An mpmath number for ``expression`` at the point, or None where it is not a finite real."""
    value = expression.evalf(digits, subs=substitutions)
    if not (value.is_number and value.is_real and value.is_finite):
        return None
    with mpmath.workdps(digits + 10):
        return mpmath.mpf(str(value))


MAX_OPERATIONS = 2000


def run(graph, point, digits=30, max_operations=MAX_OPERATIONS):
    """Symbolic Jacobian of ``graph``, evaluated at ``point`` to ``digits`` significant digits.

    Graphs of more than ``max_operations`` operations are skipped with a reason: sympy's
    expressions swell and its algorithms recurse over expression depth.
    """
    if len(graph.nodes) > max_operations:
        return _skipped(graph, f"skipped: symbolic expression too large ({len(graph.nodes):,} operations; "
                               f"the symbolic method's limit is {max_operations:,})")
    try:
        return _run(graph, point, digits)
    except RecursionError:
        return _skipped(graph, "skipped: the expression is nested too deeply for sympy")


def _skipped(graph, reason):
    return Result("symbolic", tuple(None for _ in graph.outputs), None, Cost(0, 0, 0), error=reason,
                  details={"expressions": (), "derivatives": (), "digits": 0})


def _run(graph, point, digits):
    symbols, outputs = to_sympy(graph)
    derivatives = tuple(tuple(sympy.diff(f, x) for x in symbols) for f in outputs)
    substitutions = {x: sympy.Rational(float(v)) for x, v in zip(symbols, point)}
    jacobian = [[_high_precision(d, substitutions, digits) for d in row] for row in derivatives]
    values = tuple(_high_precision(f, substitutions, digits) for f in outputs)
    undefined = [(k, j) for k, row in enumerate(jacobian) for j, d in enumerate(row) if d is None]
    error = None
    if undefined:
        k, j = undefined[0]
        error = (f"sympy's derivative {sympy.sstr(derivatives[k][j])} with respect to "
                 f"{graph.variables[j]} is not a finite real number at this point")
    size = sum(sympy.count_ops(d) for row in derivatives for d in row)
    return Result("symbolic", values, None if error else np.array(jacobian, dtype=object),
                  Cost(0, 0, int(size)),
                  details={"expressions": tuple(outputs), "derivatives": derivatives, "digits": digits},
                  error=error)
