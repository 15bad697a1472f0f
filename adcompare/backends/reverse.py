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

from ..formula import Sweep, TraceRow, Var, adjoint_rows_formulas, primal_rows, substitute
from ..graph import Const, argument_values, evaluate, local_partials
from . import Cost, Result, output_values


def forward_pass(graph, point):
    """Primal values of every slot and the local partials of every node (None for constants)."""
    values = evaluate(graph, point)
    partials = [local_partials(graph, slot, argument_values(graph.node(slot).args, values), values[slot])
                for slot in range(graph.n_inputs, graph.size)]
    return values, partials


def adjoint_sweep(graph, values, partials, output):
    """One reverse sweep seeded at output ``output``; returns (input adjoints, rows, operations)."""
    n = graph.n_inputs
    start = graph.outputs[output]
    adjoint = {start: 1.0}
    rows = [TraceRow(Var("vbar", start), Var("ybar", output), 1.0, section="input")]
    operations = 0
    for slot in range(graph.size - 1, n - 1, -1):
        if slot not in adjoint:
            continue  # no path from this node to the output
        node = graph.node(slot)
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const):
                continue
            accumulate = arg in adjoint
            contribution = partials[slot - n][position] * adjoint[slot]
            new = adjoint[arg] + contribution if accumulate else contribution
            operations += 2 if accumulate else 1
            definition, local = adjoint_rows_formulas(node, slot, position, accumulate)
            lookup = (lambda var: adjoint[var.index] if var.kind == "vbar" else values[var.index])
            rows.append(TraceRow(Var("vbar", arg), definition, new, local=local,
                                 substituted=substitute(local, lookup)))
            adjoint[arg] = new
    gradient = [adjoint.get(i, 0.0) for i in range(n)]
    rows.extend(TraceRow(Var("xbar", i), Var("vbar", i), gradient[i], section="output") for i in range(n))
    return gradient, tuple(rows), operations


def run(graph, point):
    """Reverse-mode Jacobian of ``graph`` at ``point``: one forward pass, one sweep per output."""
    values, partials = forward_pass(graph, point)
    jacobian = np.zeros((len(graph.outputs), graph.n_inputs))
    sweeps = [Sweep("primal", None, primal_rows(graph, values))]
    operations = len(graph.nodes) + sum(p is not None for node in partials for p in node)
    for k in range(len(graph.outputs)):
        gradient, rows, spent = adjoint_sweep(graph, values, partials, k)
        jacobian[k, :] = gradient
        operations += spent
        sweeps.append(Sweep("adjoint", k, rows))
    return Result("reverse", output_values(graph, values), jacobian,
                  Cost(1, len(graph.outputs), operations), sweeps=tuple(sweeps))
