"""Forward mode with dual numbers: one sweep per input direction, n sweeps for a gradient
(carried together in one pass at a point, see `run`).

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
from ..graph import Const, apply, local_partials, point_shape, point_text, quiet
from . import Cost, Result, output_values


class Dual(NamedTuple):
    """A primal value and its tangent (directional derivative)."""

    primal: object
    tangent: object


def dual_node(graph, slot, args):
    """Evaluate the node at ``slot`` on dual arguments; returns (Dual, local partials, operations)."""
    primals = [a.primal for a in args]
    value = apply(graph, slot, primals)
    partials = local_partials(graph, slot, primals, value)
    tangent = 0.0
    terms = 0
    for partial, arg in zip(partials, args):
        if partial is not None:
            tangent = tangent + partial * arg.tangent
            terms += 1
    return Dual(value, tangent), partials, 1 + 2 * terms


def tangent_sweep(graph, point, seed):
    """One forward sweep from tangent ``seed`` (one per input).

    Returns (duals, magnitudes, operations). ``magnitudes`` carries Σ |∂v/∂u|·|u̇| along
    every path (the tangent with no cancellation), from which rounding error is bounded.
    """
    duals = [Dual(x, s) for x, s in zip(point, seed)]
    magnitudes = [abs(s) for s in seed]
    operations = 0
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            node_args = graph.node(slot).args
            args = [Dual(a.value, 0.0) if isinstance(a, Const) else duals[a] for a in node_args]
            dual, partials, spent = dual_node(graph, slot, args)
            duals.append(dual)
            magnitudes.append(sum(np.abs(p) * magnitudes[a] for p, a in zip(partials, node_args) if p is not None))
            operations += spent
    return duals, magnitudes, operations


def _component(tangent, direction):
    """One direction's entry of a tangent that a sweep carried for all n directions (a
    tangent that is a float is the same in every direction: 0 for a constant)."""
    return tangent if np.ndim(tangent) == 0 else tangent[direction]


def _tangent_trace(graph, duals, direction, seed):
    primals = [d.primal for d in duals]
    return Sweep("tangent", direction,
                 lambda: tangent_rows(graph, primals, [_component(d.tangent, direction) for d in duals], seed))


def run(graph, point):
    """Forward-mode Jacobian of ``graph`` at ``point``: n tangent sweeps, one per input.

    With n > 1 the n sweeps run as one pass that carries a tangent array of n entries per
    node (vector forward mode): the primal and the local partials are computed once, and
    each tangent with the same floating-point operations as its own sweep would make. The
    traces (one per direction) and the cost are those of the n sweeps.
    Over arrays of shape S (see `adcompare.backends`), one compiled sweep carries all n
    tangents over all points at once and the Jacobian has shape (m, n, *S), with no traces.
    """
    n, m = graph.n_inputs, len(graph.outputs)
    if point_shape(point) is not None:
        from .vector import run_points      # one compiled sweep carrying all n tangents
        return run_points("forward", graph, point)
    jacobian = np.zeros((m, n))
    bound = np.zeros_like(jacobian)
    duals, magnitudes, spent = tangent_sweep(graph, point, list(np.eye(n)) if n > 1 else [1.0] * n)
    operations = max(n, 1) * spent
    sweeps = []
    for j in range(n):
        sweeps.append(_tangent_trace(graph, duals, j, [1.0 if i == j else 0.0 for i in range(n)]))
        for k, slot in enumerate(graph.outputs):
            jacobian[k, j] = _component(duals[slot].tangent, j)
            bound[k, j] = rounding_bound(graph, _component(magnitudes[slot], j))
    primals = [d.primal for d in duals]
    sweeps = (Sweep("primal", None, lambda: primal_rows(graph, primals)), *sweeps)
    cost = Cost(max(n, 1), n, operations)
    details = {"rounding_bound": bound}
    failure = derivative_error(jacobian, "forward mode", graph, point, primals)
    if failure:
        return Result("forward", output_values(graph, primals), None, cost, sweeps=tuple(sweeps), details=details,
                      error=failure[0], error_kind=failure[1])
    return Result("forward", output_values(graph, primals), jacobian, cost, sweeps=tuple(sweeps), details=details)


def derivative_error(jacobian, method, graph, point, values):
    """A message when an accumulated derivative is not finite, else None.

    Either the chain rule met an infinite or undefined local partial (√ at 0: the message
    names the node, see `adcompare.nonsmooth.chain_rule_failure`), or chain-rule terms
    overflowed. Over many points (a Jacobian of shape (m, n, *S)) it names the first such
    point.
    """
    if np.all(np.isfinite(jacobian)):
        return None
    from ..nonsmooth import chain_rule_failure
    k, j, *position = np.argwhere(~np.isfinite(jacobian))[0]
    position = tuple(int(i) for i in position)
    where = f"{point_text(graph, point, position)}: " if position else ""
    at_point = [float(np.real(np.asarray(v)[position])) if np.ndim(v) else float(np.real(v)) for v in values]
    from ..render.style import derivative_name
    failure = chain_rule_failure(graph, at_point, entry=derivative_name(graph, int(k), int(j)))
    if failure is not None:
        return where + failure, "infinite partial"
    what = "tangent" if method == "forward mode" else "adjoint"
    return (f"{where}the {what} overflowed (entry [{k}, {j}] is {jacobian[(k, j, *position)]}): chain-rule terms "
            "beyond the float range, though the derivative may be finite"), "overflow"


def rounding_bound(graph, magnitude):
    """A bound on the rounding error of an accumulated derivative: ε · l · Σ|terms|.

    Each of the l operations on a path rounds once; the sum of the absolute values of the
    chain-rule terms (``magnitude``) is what that rounding is relative to. It is tiny beside
    the derivative unless terms of large size cancel (x/x at x = 1e-12: terms of ±1e12).
    A float for one point; elementwise over an array of points.
    """
    bound = np.finfo(float).eps * max(len(graph.nodes), 1) * np.abs(magnitude)
    return float(bound) if np.ndim(bound) == 0 else bound
