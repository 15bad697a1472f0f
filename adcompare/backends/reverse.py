"""Reverse mode: one forward pass that keeps the primals and local partials, then one
reverse sweep per output accumulating adjoints from ȳ = 1 back to the inputs.

A node's first contribution to an argument's adjoint is an assignment
(v̄₀ = v̄₃ ∂v₃/∂v₀); later ones accumulate (v̄₀ = v̄₀ + v̄₂ ∂v₂/∂v₀), which is how fan-out
appears in Baydin's Table 3. Rows are recorded in execution order.

    >>> from adcompare.parse import parse
    >>> result = run(parse("ln(x1) + x1*x2 - sin(x2)"), (2.0, 5.0))
    >>> [float(d) for d in result.jacobian[0]], result.cost.sweeps
    ([5.5, 1.7163378145367738], 1)
"""

import numpy as np

from ..formula import Sweep, adjoint_rows, primal_rows
from ..graph import Const, argument_values, evaluate, local_partials, point_shape, quiet
from . import Cost, Result, output_values
from .forward import derivative_error, rounding_bound


def forward_pass(graph, point):
    """Primal values of every slot and the local partials of every node (None for constants)."""
    values = evaluate(graph, point)
    with quiet():
        partials = [local_partials(graph, slot, argument_values(graph.node(slot).args, values), values[slot])
                    for slot in range(graph.n_inputs, graph.size)]
    return values, partials


def adjoint_sweep(graph, partials, output, keep_steps=True):
    """One reverse sweep seeded at output ``output`` (``keep_steps=False``: record no steps).

    Returns (input adjoints, steps, operations, magnitudes); each step is (slot, argument
    position, node adjoint, contribution along that edge, argument adjoint before or None
    for a first contribution, after); ``magnitudes`` are Σ |terms| per input, from which
    rounding error is bounded (see `forward.rounding_bound`).
    """
    n = graph.n_inputs
    adjoint = [None] * graph.size               # None: no path from the slot to the output (yet)
    magnitude = [0.0] * graph.size              # Σ |terms|: the adjoint with no cancellation
    adjoint[graph.outputs[output]] = magnitude[graph.outputs[output]] = 1.0
    steps = []
    operations = 0
    for slot in range(graph.size - 1, n - 1, -1):
        node_adjoint = adjoint[slot]
        if node_adjoint is None:
            continue  # no path from this node to the output
        for position, arg in enumerate(graph.node(slot).args):
            if isinstance(arg, Const):
                continue
            local = partials[slot - n][position]
            contribution = local * node_adjoint
            before = adjoint[arg]
            after = contribution if before is None else before + contribution
            magnitude[arg] = magnitude[arg] + np.abs(local) * magnitude[slot]
            operations += 1 if before is None else 2
            if keep_steps:
                steps.append((slot, position, node_adjoint, contribution, before, after))
            adjoint[arg] = after
    return ([0.0 if adjoint[i] is None else adjoint[i] for i in range(n)], steps, operations,
            magnitude[:n])


def run(graph, point):
    """Reverse-mode Jacobian of ``graph`` at ``point``: one forward pass, one sweep per output.

    Over arrays of shape S (see `adcompare.backends`), the passes run over all points at
    once and the Jacobian has shape (m, n, *S); the traces are kept for one point only.
    """
    shape = point_shape(point)
    if shape is not None:
        from .vector import run_points      # compiled, fused passes; bad points marked
        return run_points("reverse", graph, point)
    keep_traces = shape is None
    values, partials = forward_pass(graph, point)
    # Adjoints may overflow (inf − inf = nan); that is reported, not returned.
    jacobian = np.zeros((len(graph.outputs), graph.n_inputs) + (shape or ()))
    sweeps = [Sweep("primal", None, lambda: primal_rows(graph, values))] if keep_traces else []
    operations = len(graph.nodes) + sum(p is not None for node in partials for p in node)
    bound = np.zeros_like(jacobian)
    with quiet():
        sweeps_done = [adjoint_sweep(graph, partials, k, keep_traces) for k in range(len(graph.outputs))]
    for k, (gradient, steps, spent, magnitudes) in enumerate(sweeps_done):
        for j, (adjoint, size) in enumerate(zip(gradient, magnitudes)):
            jacobian[k, j] = adjoint
            bound[k, j] = rounding_bound(graph, size)
        operations += spent
        if keep_traces:
            sweeps.append(Sweep("adjoint", k, lambda k=k, steps=steps, gradient=gradient:
                                adjoint_rows(graph, values, k, steps, gradient), record=steps))
    cost = Cost(1, len(graph.outputs), operations)
    failure = derivative_error(jacobian, "reverse mode", graph, point, values)
    if failure:
        return Result("reverse", output_values(graph, values), None, cost, sweeps=tuple(sweeps),
                      details={"rounding_bound": bound}, error=failure[0], error_kind=failure[1])
    return Result("reverse", output_values(graph, values), jacobian, cost, sweeps=tuple(sweeps),
                  details={"rounding_bound": bound})
