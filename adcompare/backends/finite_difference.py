"""Finite differences: derivatives from primal evaluations alone.

Central differences by default, (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ, with a step scaled to
the point, hᵢ = ε^(1/3)·max(1, |xᵢ|), which balances truncation error (O(h²)) against
round-off (O(ε/h)). The forward difference (f(x + hᵢeᵢ) − f(x)) / hᵢ uses
hᵢ = ε^(1/2)·max(1, |xᵢ|). Each step is rounded so that xᵢ + hᵢ − xᵢ = hᵢ exactly.
This back end calls nothing but `adcompare.graph.evaluate`.

    >>> from adcompare.parse import parse
    >>> result = run(parse("x^3"), (2.0,))
    >>> abs(float(result.jacobian[0, 0]) - 12.0) < 1e-8
    True
"""

from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from ..graph import evaluate
from . import Cost, Result, output_values

SCHEMES = {"central": 1.0 / 3.0, "forward": 1.0 / 2.0}


@dataclass(frozen=True)
class DifferenceRow:
    """One partial by differences: variable j, its step, f at the stencil points, the estimate."""

    variable: int
    step: float
    plus: tuple
    minus: tuple
    estimate: tuple


def step_size(x, scheme="central"):
    """The step for one component, scaled to the point and exactly representable from x."""
    h = np.finfo(float).eps ** SCHEMES[scheme] * max(1.0, abs(x))
    return (x + h) - x


def difference_quotient(f, point, j, h, scheme="central", center=None):
    """The difference quotient in component j with step h: (estimate, f(x + h), f(x − h) or f(x)).

    ``f`` maps a point to an array of output values; ``center`` is f(point) if known.
    """
    shifted = list(point)
    shifted[j] = point[j] + h
    plus = f(shifted)
    if scheme == "central":
        shifted[j] = point[j] - h
        minus = f(shifted)
        return (plus - minus) / (2.0 * h), plus, minus
    minus = f(point) if center is None else center
    return (plus - minus) / h, plus, minus


def primal_function(graph):
    """The outputs of ``graph`` as a function of a point: the only way this module evaluates f."""
    def f(x):
        return np.array(output_values(graph, evaluate(graph, x)), dtype=float)
    return f


def step_study(graph, point, variable, output=0, steps=tuple(10.0 ** -k for k in range(1, 16))):
    """Forward and central estimates of ∂y_output/∂x_variable for each step in ``steps``.

    Returns rows (h, forward estimate, central estimate); an estimate is None where a
    stencil point leaves the domain.
    """
    f = primal_function(graph)
    center = f(point)
    rows = []
    for h in steps:
        h = (point[variable] + h) - point[variable]
        estimates = []
        for scheme in ("forward", "central"):
            try:
                estimates.append(float(difference_quotient(f, point, variable, h, scheme, center)[0][output]))
            except DomainError:
                estimates.append(None)
        rows.append((h, *estimates))
    return rows


def run(graph, point, scheme="central"):
    """Finite-difference Jacobian of ``graph`` at ``point`` ('central' or 'forward' scheme)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown finite-difference scheme {scheme!r}")
    n, m = graph.n_inputs, len(graph.outputs)
    ops = len(graph.nodes)

    f = primal_function(graph)
    center = f(point)
    evaluations = 1
    jacobian = np.zeros((m, n))
    rows = []
    for j in range(n):
        h = step_size(point[j], scheme)
        try:
            estimate, plus, minus = difference_quotient(f, point, j, h, scheme, center)
        except DomainError as error:
            return Result("finite_difference", tuple(center), None, Cost(evaluations, 0, evaluations * ops),
                          details={"scheme": scheme},
                          error=f"the step h = {h:.3g} in {graph.variables[j]} leaves the domain ({error})")
        evaluations += 2 if scheme == "central" else 1
        jacobian[:, j] = estimate
        rows.append(DifferenceRow(j, h, tuple(plus), tuple(minus), tuple(estimate)))
    return Result("finite_difference", tuple(center), jacobian, Cost(evaluations, 0, evaluations * ops),
                  details={"scheme": scheme, "steps": tuple(r.step for r in rows), "rows": tuple(rows)})
