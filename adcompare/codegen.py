"""Compiled sweeps: straight-line Python generated from a Graph (source transformation, as
Tapenade and tangent do), for the primal, the tangent (forward) sweep and the adjoint
(reverse) sweep. The interpreted back ends stay for traces; this is for speed, for
evaluation at many points at once (the code is numpy-vectorised), and for reading: the
reverse code is the ``backward()`` a student would write by hand.

The generated code names its variables itself — ``v_m1``, ``v0``, ``v1`` for Baydin's
v₋₁, v₀, v₁; ``v1_dot`` for tangents, ``v1_bar`` for adjoints — and calls each operation's
evaluation and local partials from the operation table, bound under names made from the
table's keys (``ln``, ``mul``, ``mul_d1`` for ∂mul/∂(second argument)). No text the user
wrote reaches it: constants are written with ``repr(float)``, and variable names appear
nowhere.

Values outside an operation's domain, and overflows, give NaN or ±∞ somewhere, and every
compiled sweep checks its domains and its results and raises `CompiledSweepError` then;
`gradient` falls back to the interpreted sweep to name the node.

    >>> from adcompare.parse import parse
    >>> compiled = compile_graph(parse("ln(x1) + x1*x2 - sin(x2)"))
    >>> [float(g) for g in compiled.gradient(2.0, 5.0)]
    [5.5, 1.7163378145367738]
"""

import numpy as np

from .graph import Const
from .ops import OPERATIONS

EPS = np.finfo(float).eps


class CompiledSweepError(ArithmeticError):
    """A compiled sweep met a value outside a domain, or a non-finite result."""


def slot_name(graph, slot, suffix=""):
    """v_m1, v0, v1 … for slot ``slot`` (Baydin's numbering), with ``_dot``/``_bar``."""
    number = graph.baydin_number(slot)
    return (f"v_m{-number}" if number < 0 else f"v{number}") + suffix


def _argument(graph, arg):
    return repr(float(arg.value)) if isinstance(arg, Const) else slot_name(graph, arg)


def _namespace(graph):
    """The functions the generated code calls, under names made from the table's keys."""
    namespace = {"_np": np, "_CompiledSweepError": CompiledSweepError}
    for node in graph.nodes:
        op = OPERATIONS[node.op]
        namespace[op.name] = op.evaluate
        if op.domain is not None:
            namespace[f"{op.name}_domain"] = op.domain
        for position, partial in enumerate(op.partials):
            namespace[f"{op.name}_d{position}"] = partial.value
    return namespace


def _primal_lines(graph):
    lines = []
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        op = OPERATIONS[node.op]
        args = ", ".join(_argument(graph, a) for a in node.args)
        if op.domain is not None:
            lines.append(f"    inside = inside & {op.name}_domain({args})")
        lines.append(f"    {slot_name(graph, slot)} = {op.name}({args})")
    return lines


def _check(names):
    finite = " and ".join(f"_np.all(_np.isfinite({name}))" for name in names) or "True"
    return [f"    if not (_np.all(inside) and {finite}):",
            "        raise _CompiledSweepError('a value outside a domain, or not finite')"]


def _float_inputs(graph, suffixes=("",)):
    """Inputs as float64 (scalars or arrays), so that 1/0 is ∞ to be checked, not an exception."""
    return [f"    {slot_name(graph, i, suffix)} = _np.asarray({slot_name(graph, i, suffix)}, dtype=float)"
            for suffix in suffixes for i in range(graph.n_inputs)]


def primal_source(graph):
    """Python source of ``primal(inputs…) -> outputs``."""
    inputs = ", ".join(slot_name(graph, i) for i in range(graph.n_inputs))
    outputs = [slot_name(graph, s) for s in graph.outputs]
    return "\n".join([f"def primal({inputs}):", *_float_inputs(graph), "    inside = True", *_primal_lines(graph),
                      *_check(outputs),
                      f"    return ({', '.join(outputs)},)"]) + "\n"


def forward_source(graph):
    """Python source of ``tangent(inputs…, input tangents…) -> (outputs, output tangents)``:
    one forward sweep, v̇ = Σ ∂v/∂u · u̇, with the local partials of the operation table."""
    n = graph.n_inputs
    inputs = [slot_name(graph, i) for i in range(n)] + [slot_name(graph, i, "_dot") for i in range(n)]
    lines = [f"def tangent({', '.join(inputs)}):", *_float_inputs(graph, ("", "_dot")), "    inside = True"]
    for slot in range(n, graph.size):
        node = graph.node(slot)
        op = OPERATIONS[node.op]
        args = ", ".join(_argument(graph, a) for a in node.args)
        name = slot_name(graph, slot)
        if op.domain is not None:
            lines.append(f"    inside = inside & {op.name}_domain({args})")
        lines.append(f"    {name} = {op.name}({args})")
        terms = [f"{op.name}_d{p}({args}, {name}) * {slot_name(graph, a, '_dot')}"
                 for p, a in enumerate(node.args) if not isinstance(a, Const)]
        lines.append(f"    {name}_dot = {' + '.join(terms) if terms else '0.0'}")
    outputs = [slot_name(graph, s) for s in graph.outputs]
    tangents = [slot_name(graph, s, "_dot") for s in graph.outputs]
    lines += _check(outputs + tangents)
    lines.append(f"    return ({', '.join(outputs)},), ({', '.join(tangents)},)")
    return "\n".join(lines) + "\n"


def reverse_source(graph, output=0):
    """Python source of ``backward(inputs…) -> (output, input adjoints)``: the forward pass
    keeps the primals, then the adjoint sweep from ȳ = 1, assigning an adjoint at its first
    contribution and accumulating (+=) at the later ones, as Baydin's Table 3 does."""
    n = graph.n_inputs
    inputs = ", ".join(slot_name(graph, i) for i in range(n))
    lines = [f"def backward({inputs}):", *_float_inputs(graph), "    inside = True", "    # forward pass: primal values",
             *_primal_lines(graph), "    # reverse pass: adjoints, from the output back to the inputs"]
    start = graph.outputs[output]
    lines.append(f"    {slot_name(graph, start, '_bar')} = 1.0")
    assigned = {start}
    for slot in range(graph.size - 1, n - 1, -1):
        if slot not in assigned:
            continue
        node = graph.node(slot)
        op = OPERATIONS[node.op]
        args = ", ".join(_argument(graph, a) for a in node.args)
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const):
                continue
            term = f"{slot_name(graph, slot, '_bar')} * {op.name}_d{position}({args}, {slot_name(graph, slot)})"
            target = slot_name(graph, arg, "_bar")
            lines.append(f"    {target} {'+=' if arg in assigned else '='} {term}")
            assigned.add(arg)
    adjoints = [slot_name(graph, i, "_bar") if i in assigned else "0.0" for i in range(n)]
    lines += _check([slot_name(graph, start)] + [a for a in adjoints if a != "0.0"])
    lines.append(f"    return {slot_name(graph, start)}, ({', '.join(adjoints)},)")
    return "\n".join(lines) + "\n"


def _compile(source, name, graph):
    namespace = _namespace(graph)
    exec(compile(source, f"<adcompare {name}>", "exec"), namespace)   # our own generated source only
    return namespace[name]


class CompiledGraph:
    """The compiled primal, tangent and adjoint sweeps of one Graph."""

    def __init__(self, graph):
        self.graph = graph
        self._primal = _compile(primal_source(graph), "primal", graph)
        self._tangent = _compile(forward_source(graph), "tangent", graph)
        self._backward = [None] * len(graph.outputs)

    def primal(self, *inputs):
        """The outputs at ``inputs`` (floats or arrays of points)."""
        with np.errstate(all="ignore"):   # bad values are checked, not warned about
            return self._primal(*inputs)

    def tangent(self, *inputs_and_tangents):
        """(outputs, output tangents) for input values followed by input tangents."""
        with np.errstate(all="ignore"):
            return self._tangent(*inputs_and_tangents)

    def backward(self, *inputs, output=0):
        """Output ``output`` and its gradient, by one compiled reverse sweep."""
        if self._backward[output] is None:
            self._backward[output] = _compile(reverse_source(self.graph, output), "backward", self.graph)
        with np.errstate(all="ignore"):
            return self._backward[output](*inputs)

    def gradient(self, *inputs, output=0):
        """The gradient of output ``output`` (one reverse sweep); arrays give one gradient per point."""
        try:
            return self.backward(*inputs, output=output)[1]
        except CompiledSweepError:
            # The interpreted sweep names the node and the value.
            from .backends.reverse import run
            run(self.graph, inputs)
            raise

    def jacobian_forward(self, *inputs):
        """The Jacobian by n compiled tangent sweeps: rows are outputs, columns inputs."""
        n = self.graph.n_inputs
        columns = []
        for j in range(n):
            seeds = [1.0 if i == j else 0.0 for i in range(n)]
            columns.append(self.tangent(*inputs, *seeds)[1])
        return [[columns[j][k] for j in range(n)] for k in range(len(self.graph.outputs))]


def compile_graph(graph):
    """The compiled sweeps of ``graph`` (see the module docstring)."""
    return CompiledGraph(graph)


SOURCES = {"primal": primal_source, "forward": forward_source, "reverse": reverse_source}
