"""Trace rows as data: what a row of an evaluation trace says, before anyone names or prints it.

A formula is a small tree of atoms:

- `Var(kind, index)`: a quantity of the trace. ``kind`` is 'v', 'vdot' or 'vbar' for the
  primal, tangent or adjoint of slot ``index``; 'x', 'xdot', 'xbar' for variable ``index``;
  'y', 'ydot', 'ybar' for output ``index``;
- `Num(value)`: a number substituted for a quantity;
- a graph `Const`: a literal as the user wrote it;
- `Apply(notation, args)`: a template from the operation table (or one of the symbols
  below) applied to sub-formulas.

Renderers (``adcompare.render``) give the names (v₋₁, v̇₂, v̄₀) and the layout; the back
ends only build these trees. The builders here turn the operation table's local partials
into the two accumulation rules: the tangent rule ẏ = Σ ∂y/∂xᵢ · ẋᵢ and the adjoint rule
x̄ᵢ = x̄ᵢ + ȳ · ∂y/∂xᵢ.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Optional

from .graph import Const
from .ops import DIVIDE, MINUS_ONE, ONE, OPERATIONS, TIMES, Notation


@dataclass(frozen=True)
class Var:
    """A named quantity of a trace (see the module docstring for the kinds)."""

    kind: str
    index: int


@dataclass(frozen=True)
class Num:
    """A value substituted into a formula."""

    value: float


@dataclass(frozen=True)
class Apply:
    """A notation template applied to sub-formulas."""

    notation: Notation
    args: tuple


PLUS = Notation("$0 + $1", "$0 + $1")
MINUS = Notation("$0 − $1", "$0 - $1")
NEGATE = Notation("−$0", "-$0")
TIMES_SIGN = Notation("$0 × $1", r"$0 \times $1")
DIVIDE_SIGN = Notation("$0 / $1", "$0 / $1")
PARTIAL = Notation("∂$0/∂$1", r"\partial $0/\partial $1")
JUXTAPOSE = Notation("$0 $1", "$0 $1")


@dataclass(frozen=True)
class TraceRow:
    """One row: ``target = definition [= local] [= substituted] = value``.

    ``section`` is 'input', 'body' or 'output'; renderers draw rules between sections.
    ``local`` is used by adjoint rows only (Baydin's Table 3 middle column), and so is
    ``source``: the target of the primal row an adjoint row lines up with in Table 3
    (the node it comes from, the input of an x̄ row, the output of the ȳ seed).
    """

    target: Var
    definition: object
    value: object
    substituted: object = None
    local: object = None
    section: str = "body"
    source: Optional[Var] = None


class Sweep:
    """One sweep of a trace: its kind ('primal', 'tangent' or 'adjoint'), its seed (the
    index of the ẋ or ȳ set to 1), and its rows.

    A back end records only numbers while it sweeps; the rows are built from them on
    first access, so that a sweep nobody prints costs no formatting.
    """

    def __init__(self, kind, seed, build_rows, record=None):
        self.kind = kind
        self.seed = seed
        self.record = record   # what the sweep recorded, for renderers (adjoint: its steps)
        self._build_rows = build_rows

    @cached_property
    def rows(self):
        """The TraceRows of this sweep, in execution order."""
        return tuple(self._build_rows())

    def __repr__(self):
        return f"Sweep({self.kind!r}, seed={self.seed!r})"


def argument(arg):
    """The atom for a node argument: the Const itself, or the primal of the slot it reads
    (a folded constant is written as the slot that computes it)."""
    if isinstance(arg, Const):
        return arg if arg.slot is None else Var("v", arg.slot)
    return Var("v", arg)


def primal_definition(node):
    """The right-hand side of a primal row, e.g. ``ln v₋₁``."""
    return Apply(OPERATIONS[node.op].notation, tuple(argument(a) for a in node.args))


def _partial_factor(node, position):
    partial = OPERATIONS[node.op].partials[position]
    return Apply(partial.notation, tuple(argument(a) for a in node.args))


def _scaled(incoming, node, position, show_unit):
    """``incoming`` (a tangent or adjoint) times the local partial; (sign, formula)."""
    kind = OPERATIONS[node.op].partials[position].kind
    if kind in (ONE, MINUS_ONE):
        unit = 1.0 if kind == ONE else -1.0
        if show_unit:
            return 1, Apply(TIMES_SIGN, (incoming, Num(unit)))
        return int(unit), incoming
    sign = TIMES_SIGN if kind == TIMES else DIVIDE_SIGN
    return 1, Apply(sign, (incoming, _partial_factor(node, position)))


def tangent_definition(node):
    """The tangent rule for a node, e.g. ``v̇₋₁ × v₀ + v̇₀ × v₋₁``; constants contribute nothing."""
    formula = None
    for position, arg in enumerate(node.args):
        if isinstance(arg, Const):
            continue
        sign, term = _scaled(Var("vdot", arg), node, position, show_unit=False)
        if formula is None:
            formula = term if sign > 0 else Apply(NEGATE, (term,))
        else:
            formula = Apply(PLUS if sign > 0 else MINUS, (formula, term))
    return Num(0.0) if formula is None else formula


def adjoint_rows_formulas(node, slot, position, accumulate):
    """The three formulas of an adjoint contribution from ``slot`` to its argument ``position``.

    Returns (definition, local): ``v̄₀ + v̄₂ ∂v₂/∂v₀`` and ``v̄₀ + v̄₂ × v₋₁`` (without the
    leading ``v̄₀ +`` for a first contribution).
    """
    arg = node.args[position]
    generic = Apply(JUXTAPOSE, (Var("vbar", slot), Apply(PARTIAL, (Var("v", slot), Var("v", arg)))))
    _, local = _scaled(Var("vbar", slot), node, position, show_unit=True)
    if accumulate:
        generic = Apply(PLUS, (Var("vbar", arg), generic))
        local = Apply(PLUS, (Var("vbar", arg), local))
    return generic, local


def substitute(formula, lookup):
    """The formula with every Var replaced by ``Num(lookup(var))``; Consts stay as written."""
    if isinstance(formula, Var):
        return Num(lookup(formula))
    if isinstance(formula, Apply):
        return Apply(formula.notation, tuple(substitute(a, lookup) for a in formula.args))
    return formula


def primal_rows(graph, values):
    """The forward primal trace: input rows, one row per node, output rows."""
    rows = [TraceRow(Var("v", i), Var("x", i), values[i], section="input") for i in range(graph.n_inputs)]
    for slot in range(graph.n_inputs, graph.size):
        definition = primal_definition(graph.node(slot))
        rows.append(TraceRow(Var("v", slot), definition, values[slot],
                             substituted=substitute(definition, lambda var: values[var.index])))
    rows.extend(TraceRow(Var("y", k), Var("v", slot), values[slot], section="output")
                for k, slot in enumerate(graph.outputs))
    return tuple(rows)


def kink_tangent_definition(node):
    """The one-sided rule of a node on its kink, e.g. ``|v̇₀|`` or ``max(v̇₋₁, v̇₀)`` (see
    `adcompare.ops.KinkRule`); a constant argument's tangent is 0."""
    rule = OPERATIONS[node.op].kink_rule
    return Apply(rule.notation, tuple(Num(0.0) if isinstance(a, Const) else Var("vdot", a) for a in node.args))


def tangent_rows(graph, primals, tangents, seed, kink_rules=()):
    """A forward tangent trace from one sweep's primal and tangent values (seed: ẋ values).

    Nodes in ``kink_rules`` (slots) were on their kink in a directional sweep: their rows
    show the operation's one-sided rule instead of the tangent rule."""
    rows = [TraceRow(Var("vdot", i), Var("xdot", i), seed[i], section="input") for i in range(graph.n_inputs)]

    def lookup(var):
        return tangents[var.index] if var.kind == "vdot" else primals[var.index]

    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        definition = kink_tangent_definition(node) if slot in kink_rules else tangent_definition(node)
        rows.append(TraceRow(Var("vdot", slot), definition, tangents[slot], substituted=substitute(definition, lookup)))
    rows.extend(TraceRow(Var("ydot", k), Var("vdot", slot), tangents[slot], section="output")
                for k, slot in enumerate(graph.outputs))
    return rows


def adjoint_rows(graph, values, output, steps, gradient):
    """A reverse adjoint trace, in execution order, from the steps one sweep recorded.

    Each step is (slot, position, node adjoint, contribution, argument adjoint before,
    after); "before" is None for the argument's first contribution.
    """
    start = graph.outputs[output]
    rows = [TraceRow(Var("vbar", start), Var("ybar", output), 1.0, section="input", source=Var("y", output))]
    for slot, position, node_adjoint, _, before, after in steps:
        node = graph.node(slot)
        arg = node.args[position]
        definition, local = adjoint_rows_formulas(node, slot, position, before is not None)

        def lookup(var):
            if var.kind == "vbar":
                return node_adjoint if var.index == slot else before
            return values[var.index]

        rows.append(TraceRow(Var("vbar", arg), definition, after, local=local, substituted=substitute(local, lookup),
                             source=Var("v", slot)))
    rows.extend(TraceRow(Var("xbar", i), Var("vbar", i), gradient[i], section="output", source=Var("v", i))
                for i in range(graph.n_inputs))
    return rows
