"""First-order rounding-error analysis of a function and its forward-mode derivative in
floating point.

Used to explain, when a method differs from the exact derivative, whether rounding alone
can account for it: for forward and reverse mode, the derivative's own rounding error; for
finite differences, the rounding error of f itself, which the difference quotient divides
by its step. Each slot carries a bound on the error of its float
value (inputs are exact; each operation adds ε·|v| and passes on Σ |∂v/∂u|·err(u)), and
each local partial's sensitivity to those errors is measured by re-evaluating it at
arguments moved by their error bounds. The tangent's error bound then accumulates
|∂v/∂u|·err(u̇) + Δ(∂v/∂u)·|u̇| + ε·|terms|. It is computed only on demand.

    >>> from adcompare.parse import parse
    >>> bounds = error_bounds(parse("acos(cos(x))"), (1e-4,), 0, 0)
    >>> bounds.derivative > 1e-9, bounds.value > 1e-13   # acos′ near 1 magnifies cos(1e-4)'s rounding
    (True, True)
"""

from typing import NamedTuple

import numpy as np

from .graph import Const, argument_values, quiet
from .ops import OPERATIONS

EPS = np.finfo(float).eps


def _partials(op, args, node_args):
    value = op.evaluate(*args)
    return value, [None if isinstance(a, Const) else p.value(*args, value) for a, p in zip(node_args, op.partials)]


class RoundingBounds(NamedTuple):
    """First-order bounds on the rounding error of an output's float value and of its derivative."""

    value: float
    derivative: float


def error_bounds(graph, point, output, variable):
    """First-order bounds on the rounding error of output ``output`` and of
    ∂(output)/∂(variable) as forward mode computes them in float64 (infinite where a
    partial is undefined within rounding)."""
    n = graph.n_inputs
    values, errors = list(point), [0.0] * n
    tangents = [1.0 if i == variable else 0.0 for i in range(n)]
    tangent_errors = [0.0] * n
    with quiet():
        for slot in range(n, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            args = argument_values(node.args, values)
            arg_errors = [0.0 if isinstance(a, Const) else errors[a] for a in node.args]
            value, partials = _partials(op, args, node.args)
            sensitivity = [0.0] * op.arity
            for sign in (1.0, -1.0):
                moved = [a + sign * e for a, e in zip(args, arg_errors)]
                _, moved_partials = _partials(op, moved, node.args)
                for i, (p, q) in enumerate(zip(partials, moved_partials)):
                    if p is not None:
                        change = abs(q - p)
                        sensitivity[i] = max(sensitivity[i], change if np.isfinite(change) else np.inf)
            terms = [(p, a) for p, a in zip(partials, node.args) if p is not None]
            errors.append(EPS * abs(value) + sum(abs(p) * errors[a] for p, a in terms))
            values.append(value)
            tangent = sum(p * tangents[a] for p, a in terms)
            tangent_errors.append(
                EPS * (sum(abs(p * tangents[a]) for p, a in terms) + abs(tangent))
                + sum(abs(p) * tangent_errors[a] + s * abs(tangents[a])
                      for (p, a), s in zip(terms, [s for s, p in zip(sensitivity, partials) if p is not None])))
            tangents.append(tangent)
    slot = graph.outputs[output]
    return RoundingBounds(float(errors[slot]), float(tangent_errors[slot]))
