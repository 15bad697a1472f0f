"""The IR: Baydin's evaluation trace (a Wengert list), and its primal evaluation.

A `Graph` holds value slots indexed 0, 1, …: first the n inputs (variables, in
variable order), then one slot per elementary operation in evaluation order. Baydin
numbers slot i as v_{i-n+1}, so inputs are v_{1-n} … v_0 and operations v_1 … v_l;
that naming is done by the renderers, the Graph stores only indices. A node's
arguments are earlier slot indices or `Const` literals. Outputs are slot indices.

The Graph is inert, validated once when built, and never changed by a back end.
Nothing here recurses over the graph, and values may be floats or numpy arrays.

    >>> from adcompare.parse import parse
    >>> g = parse("ln(x1) + x1*x2 - sin(x2)")
    >>> g.variables, len(g.nodes), g.outputs
    (('x1', 'x2'), 5, (6,))
    >>> float(evaluate(g, (2.0, 5.0))[-1])
    11.652071455223084
"""

from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from typing import Optional, Union

import math

import numpy as np

from .errors import DomainError
from .ops import OPERATIONS


@dataclass(frozen=True, slots=True)
class Const:
    """A literal in an expression: its float value, its exact value and how it was written.

    ``exact`` is a Fraction for numeric literals, or the name 'pi' or 'e'. A constant
    subexpression folded by `fold_constants` (``1+1``, ``relu(0)``) is a Const too, with
    ``slot`` the slot that computes it (its exact value is that slot's) and ``exact`` None.
    """

    value: float
    exact: Union[Fraction, str, None]
    text: str
    slot: Optional[int] = None


@dataclass(frozen=True, slots=True)
class Node:
    """One elementary operation: its name in the operation table and its arguments."""

    op: str
    args: tuple


@dataclass(frozen=True)
class Graph:
    """An evaluation trace: variables, operation nodes in evaluation order, output slots."""

    variables: tuple
    nodes: tuple
    outputs: tuple
    source: str = ""
    output_names: tuple = ()   # names the user gave the outputs ('' where none); see render.style.output_names

    def __post_init__(self):
        n = len(self.variables)
        if len(set(self.variables)) != n:
            raise ValueError("Graph: variable names must be distinct")
        for position, node in enumerate(self.nodes):
            op = OPERATIONS.get(node.op)
            if op is None:
                raise ValueError(f"Graph: unknown operation {node.op!r}")
            if len(node.args) != op.arity:
                raise ValueError(f"Graph: {node.op} takes {op.arity} arguments, got {len(node.args)}")
            for arg in node.args:
                if not isinstance(arg, Const) and not (0 <= arg < n + position):
                    raise ValueError(f"Graph: node {n + position} reads slot {arg}, not an earlier one")
        if not self.outputs:
            raise ValueError("Graph: no outputs")
        for slot in self.outputs:
            if not 0 <= slot < n + len(self.nodes):
                raise ValueError(f"Graph: output slot {slot} does not exist")

    @property
    def n_inputs(self):
        """Number of input variables, n."""
        return len(self.variables)

    @property
    def size(self):
        """Number of value slots: inputs plus operations."""
        return len(self.variables) + len(self.nodes)

    def node(self, slot):
        """The Node computing ``slot`` (a slot index of an operation, not an input)."""
        return self.nodes[slot - len(self.variables)]

    @cached_property
    def needed(self):
        """For each slot, whether an output depends on it, through the slots that folded
        constants stand for too: the slots `evaluate` computes (a node no output reads
        changes nothing, and its domain is no concern of f's)."""
        return self.needed_for(())

    def needed_for(self, slots):
        """`needed`, with the slots in ``slots`` (and what they read) needed too: a new list."""
        return self._reached(set(self.outputs) | set(slots), through_folded=True)

    @cached_property
    def live(self):
        """For each slot, whether some output depends on it (dead nodes change nothing)."""
        return self._reached(set(self.outputs), through_folded=False)

    def _reached(self, seeds, through_folded):
        """For each slot, whether one of the slots in ``seeds`` reads it, directly or not;
        ``through_folded``: also through the slot a folded constant stands for."""
        reached = [False] * self.size
        for slot in seeds:
            reached[slot] = True
        for slot in range(self.size - 1, self.n_inputs - 1, -1):
            if reached[slot]:
                for a in self.node(slot).args:
                    if not isinstance(a, Const):
                        reached[a] = True
                    elif through_folded and a.slot is not None:
                        reached[a.slot] = True
        return reached

    @cached_property
    def singular_slots(self):
        """(slot, 'kink' or 'pole', the op table's side function) of every live operation
        with a kink or a pole that reads a variable: a constant is never one (see
        `fold_constants`). Made once per Graph; `singular_sides` evaluates them."""
        found = []
        live = self.live
        for slot in range(self.n_inputs, self.size):
            node = self.node(slot)
            if not live[slot] or is_constant_node(node):
                continue
            op = OPERATIONS[node.op]
            # max(v, v) is v: a tie of one node with itself is no kink of the function.
            same = len(node.args) == 2 and node.args[0] == node.args[1]
            found += [(slot, kind, side) for kind, side in (("kink", op.kink_side), ("pole", op.pole_side))
                      if side is not None and not (kind == "kink" and same)]
        return tuple(found)

    def baydin_number(self, slot):
        """Baydin's subscript for a slot: inputs 1−n … 0, operations 1 … l."""
        return slot - len(self.variables) + 1


def fold_constants(graph):
    """``graph`` with every subexpression that depends on no variable folded to its value.

    A node whose arguments are all constants (``1+1``, ``relu(0)``, ``sqrt(0*1)``) is
    evaluated once, here, and every node that reads it reads a `Const` with its value and
    ``slot`` set; the node itself stays in the Graph (the trace still shows it as a row)
    but nothing differentiates through it. So a constant is never a kink, a domain edge
    or an infinite local partial, whatever its value. Returns ``graph`` itself when there
    is nothing to fold. Raises DomainError when a constant that an output depends on is
    undefined (``sqrt(-1)``): then f is undefined everywhere.

        >>> from adcompare.parse import parse
        >>> folded = fold_constants(parse("x^(1+1)"))
        >>> folded.nodes[1].args[1]
        Const(value=2.0, exact=None, text='2', slot=1)
    """
    n = graph.n_inputs
    constant = {}
    nodes = []
    live = graph.live
    with quiet():
        for slot in range(n, graph.size):
            node = graph.node(slot)
            args = tuple(Const(constant[a], None, float_text(constant[a]), a)
                         if not isinstance(a, Const) and a in constant else a for a in node.args)
            nodes.append(node if args == node.args else Node(node.op, args))
            if all(isinstance(a, Const) for a in args):
                values = [a.value for a in args]
                if live[slot]:
                    constant[slot] = float(apply(graph, slot, values))
                else:
                    constant[slot] = float(OPERATIONS[node.op].evaluate(*values))
    if all(new is old for new, old in zip(nodes, graph.nodes)):
        return graph
    return Graph(graph.variables, tuple(nodes), graph.outputs, graph.source, graph.output_names)


def is_constant_node(node):
    """Whether a node reads no slot (all its arguments are constants): it depends on no variable."""
    return all(isinstance(a, Const) for a in node.args)


def quiet():
    """numpy without floating-point warnings: domain and overflow are checked explicitly."""
    return np.errstate(all="ignore")


def argument_values(args, values):
    """The values of a node's arguments: constants as floats, slots looked up in ``values``."""
    return [arg.value if isinstance(arg, Const) else values[arg] for arg in args]


def _where_first(mask):
    """None when ``mask`` is true everywhere, else the first position where it is false."""
    if isinstance(mask, (bool, np.bool_)):
        return None if mask else ()   # the scalar case, without numpy's per-call overhead
    bad = ~np.asarray(mask, dtype=bool)
    if not bad.any():
        return None
    return np.unravel_index(np.argmax(bad), bad.shape) if bad.ndim else ()


def float_text(value):
    """The shortest text that reads back as the same float, without a trailing '.0'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _show(value, position):
    text = float_text(np.real(np.asarray(value)[position]))
    return f"({text})" if text.startswith("-") else text


def _special(value, position):
    """How a value at a domain error reads: −∞, ∞, undefined (NaN), or the number."""
    number = complex(np.asarray(value)[position])
    if np.isnan(number):
        return "undefined"
    if np.isinf(number.real):
        return "−∞" if number.real < 0 else "∞"
    return _show(np.real(number), ())


def _written(op, args, position):
    """The operation applied to the offending argument values, as a trace writes it: ln (-1)."""
    shape = np.broadcast(*args).shape
    return op.notation.fill("text", [_show(np.broadcast_to(a, shape), position) for a in args])


def _inside_domain(op, args):
    """Where ``args`` are in the operation's domain (True when it has none). The complex
    step evaluates at x + ih: the domain is that of the real part."""
    return True if op.domain is None else op.domain(*[np.real(a) for a in args])


def apply(graph, slot, args):
    """Evaluate the node at ``slot`` on argument values, checking its domain and the result.

    Call it under ``np.errstate(all="ignore")`` (see `quiet`): the checks here, not
    numpy's warnings, report a bad value. Raises DomainError naming the node when an argument is outside the operation's
    domain or the result is not finite (an overflow, say).
    """
    op = OPERATIONS[graph.node(slot).op]
    if op.domain is not None:
        position = _where_first(_inside_domain(op, args))
        if position is not None:
            value = op.evaluate(*args)
            raise DomainError(f"{_written(op, args, position)} = {_special(value, position)}: {op.name} needs "
                              f"{op.domain_text}", slot, graph, position=position or None)
    value = op.evaluate(*args)
    position = _where_first(np.isfinite(value))
    if position is not None:
        raise DomainError(f"{_written(op, args, position)} is not finite ({_show(value, position)}): "
                          "overflow", slot, graph, kind="overflow", position=position or None)
    return value


def local_partials(graph, slot, args, value):
    """The local partials ∂v/∂argᵢ of the node at ``slot``, None for constant arguments.

    Both forward and reverse mode take their derivatives from here. A partial may be
    infinite or undefined (``sqrt`` at 0, ``asin`` at 1, the exponent of 0^y): it is
    returned as it is, and the sweep that meets it reports that it cannot give the
    derivative (see `adcompare.nonsmooth.chain_rule_failure`), because the function's
    derivative may still exist (√(x²)² at 0).
    """
    node = graph.node(slot)
    op = OPERATIONS[node.op]
    return [None if isinstance(arg, Const) else partial.value(*args, value)
            for arg, partial in zip(node.args, op.partials)]


def written_node(graph, slot, args, position=()):
    """The node at ``slot`` applied to argument values, as a trace writes it: ``√0``, ``ln (-1)``."""
    return _written(OPERATIONS[graph.node(slot).op], args, position)


def point_shape(point):
    """The common shape S of a point's values when some are numpy arrays (of one or more
    dimensions), else None: a point of floats. Raises ValueError when shapes differ."""
    shapes = [np.shape(x) for x in point if isinstance(x, np.ndarray) and x.ndim]
    if not shapes:
        return None
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"the points' arrays differ in shape: {', '.join(map(str, sorted(set(shapes))))}")
    return shapes[0]


def broadcast_point(point):
    """The point as float64 arrays of its common shape (scalars repeated), for evaluation
    over many points at once; a point of floats is returned as it is.

        >>> [a.tolist() for a in broadcast_point((np.array([1, 2]), 3.0))]
        [[1.0, 2.0], [3.0, 3.0]]
    """
    shape = point_shape(point)
    if shape is None:
        return tuple(point)
    return tuple(np.array(np.broadcast_to(np.asarray(x, dtype=float), shape)) for x in point)


def point_index(position):
    """A point's numpy index as errors write it, counting from 0: ``[17]``, ``[1, 2]``."""
    return f"[{', '.join(str(int(i)) for i in position)}]"


def point_text(graph, point, position):
    """The point at index ``position`` of array values, as an error names it:
    ``at point [17] (x1 = -1, x2 = 3)``."""
    coordinates = ", ".join(f"{name} = {float_text(np.asarray(x)[position] if np.ndim(x) else x)}"
                            for name, x in zip(graph.variables, point))
    return f"at point {point_index(position)} ({coordinates})"


@contextmanager
def naming_points(graph, point):
    """Within the block, a DomainError at one of many points (array values) names that
    point: its index and coordinates (see `point_text`)."""
    try:
        yield
    except DomainError as error:
        if error.position is not None and error.at_point is None and point_shape(point) is not None:
            error.at_point = point_text(graph, point, error.position)
        raise


def evaluate_where_defined(graph, point):
    """All slot values at a point of arrays, and a mask of the points where every operation
    is inside its domain with a finite value; raises nothing for the others (their values
    are then meaningless). Finite differences use it to try stencils at all points at once.
    """
    values = list(point)
    defined = np.ones(np.broadcast_shapes(*map(np.shape, point)), dtype=bool)
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            op = OPERATIONS[graph.node(slot).op]
            args = argument_values(graph.node(slot).args, values)
            defined &= _inside_domain(op, args)
            value = op.evaluate(*args)
            defined &= np.isfinite(value)
            values.append(value)
    return values, defined


def evaluate(graph, point):
    """All slot values of ``graph`` at ``point`` (one value per variable, floats or arrays);
    NaN for a slot no output needs (`Graph.needed`)."""
    if len(point) != graph.n_inputs:
        raise ValueError(f"evaluate: {graph.n_inputs} values needed, got {len(point)}")
    values = list(point)
    needed = graph.needed
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            if not needed[slot]:
                values.append(math.nan)     # read by no output: not evaluated (NaN)
                continue
            values.append(apply(graph, slot, argument_values(graph.node(slot).args, values)))
    return values


def kink_mask(graph, values):
    """Whether some operation that an output depends on is at a kink (``abs`` at 0, a
    ``max`` tie): a bool, or a mask over the points when the values are arrays."""
    mask = np.zeros((), dtype=bool)
    for slot, kind, side in singular_sides(graph, values):
        if kind == "kink":
            mask = mask | (np.real(side) == 0)
    return mask


def singular_sides(graph, values):
    """For every operation with a kink or a pole that an output depends on and that reads
    a variable: (slot, 'kink' or 'pole', the side of it that its arguments are on: the
    sign of the op table's kink_side or pole_side)."""
    return [(slot, kind, np.sign(side(*argument_values(graph.node(slot).args, values))))
            for slot, kind, side in graph.singular_slots]


# ---- Pruning (gradcheck, issue 11 item 5): what reaches the outputs -------------------

def prune(graph):
    """The Graph of only the nodes some output depends on, and the old → new slot map.

    Returns ``(pruned, slot_map)``: ``slot_map[old]`` is the slot in ``pruned`` of every
    live slot of ``graph`` (inputs are always kept, so variables and their order do not
    change); dead slots are missing from it. A traced branch not taken (``np.where``
    evaluates both) is dead, so nothing in it is ever differentiated or judged.

        >>> g = Graph(("x",), (Node("ln", (0,)), Node("exp", (0,))), (2,))
        >>> pruned, slot_map = prune(g)
        >>> [node.op for node in pruned.nodes], pruned.outputs, slot_map
        (['exp'], (1,), {0: 0, 2: 1})
    """
    live, n = graph.live, graph.n_inputs
    slot_map = {slot: slot for slot in range(n)}
    nodes = []
    for slot in range(n, graph.size):
        if live[slot]:
            node = graph.node(slot)
            slot_map[slot] = n + len(nodes)
            nodes.append(Node(node.op, tuple(a if isinstance(a, Const) else slot_map[a] for a in node.args)))
    pruned = Graph(graph.variables, tuple(nodes), tuple(slot_map[s] for s in graph.outputs), graph.source)
    return pruned, slot_map
