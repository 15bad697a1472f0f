"""Forward mode with dual numbers: one sweep per input direction, n sweeps for a gradient.

A `Dual` carries a primal value and a tangent. Evaluating a node on duals gives the
primal from the operation table and the tangent by the tangent rule
v̇ = Σ ∂v/∂argᵢ · argᵢ̇ over the table's local partials. Seeding ẋⱼ = 1 (the others 0)
gives column j of the Jacobian.

    >>> from adcompare.parse import parse
    >>> result = run(parse("ln(x1) + x1*x2 - sin(x2)"), (2.0, 5.0))
    >>> [float(d) for d in result.jacobian[0]]
    [5.5, 1.7163378145367738]
"""

from typing import NamedTuple

import numpy as np

from ..formula import Sweep, primal_rows, tangent_rows
from ..graph import Const, apply, local_partials, quiet
from . import Cost, Result, output_values


class Dual(NamedTuple):
    """A primal value and its tangent (directional derivative)."""

    primal: object
    tangent: object


def dual_node(graph, slot, args):
    """Evaluate the node at ``slot`` on dual arguments; returns (Dual, operations spent)."""
    primals = [a.primal for a in args]
    value = apply(graph, slot, primals)
    partials = local_partials(graph, slot, primals, value)
    tangent = 0.0
    terms = 0
    for partial, arg in zip(partials, args):
        if partial is not None:
            tangent = tangent + partial * arg.tangent
            terms += 1
    return Dual(value, tangent), 1 + 2 * terms


def tangent_sweep(graph, point, seed):
    """One forward sweep from tangent ``seed`` (one per input); returns (duals, operations)."""
    duals = [Dual(x, s) for x, s in zip(point, seed)]
    operations = 0
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            args = [Dual(a.value, 0.0) if isinstance(a, Const) else duals[a] for a in graph.node(slot).args]
            dual, spent = dual_node(graph, slot, args)
            duals.append(dual)
            operations += spent
    return duals, operations


def _tangent_trace(graph, duals, direction, seed):
    primals = [d.primal for d in duals]
    tangents = [d.tangent for d in duals]
    return Sweep("tangent", direction, lambda: tangent_rows(graph, primals, tangents, seed))


def run(graph, point):
    """Forward-mode Jacobian of ``graph`` at ``point``: n tangent sweeps, one per input."""
    n, m = graph.n_inputs, len(graph.outputs)
    jacobian = np.zeros((m, n))
    sweeps = []
    operations = 0
    for j in range(n):
        seed = [1.0 if i == j else 0.0 for i in range(n)]
        duals, spent = tangent_sweep(graph, point, seed)
        operations += spent
        sweeps.append(_tangent_trace(graph, duals, j, seed))
        for k, slot in enumerate(graph.outputs):
            jacobian[k, j] = duals[slot].tangent
    if n == 0:
        duals, operations = tangent_sweep(graph, point, [])
    primals = [d.primal for d in duals]
    return Result("forward", output_values(graph, primals), jacobian, Cost(max(n, 1), n, operations),
                  sweeps=(Sweep("primal", None, lambda: primal_rows(graph, primals)), *sweeps))
