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

import dataclasses
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from collections.abc import Sequence
from typing import NamedTuple, Optional

import numpy as np

from .errors import InputError
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


def name_outputs(graph, names):
    """The graph with its outputs named ``names`` (one name a output); InputError when a
    name is not an identifier, is an input's, or is given twice.

        >>> from adcompare.parse import parse
        >>> name_outputs(parse("(x+y)*z"), ["f"]).output_names
        ('f',)
    """
    names = tuple(names)
    if len(names) != len(graph.outputs):
        raise InputError(f"{len(graph.outputs)} output name{'s' if len(graph.outputs) != 1 else ''} needed, "
                         f"got {len(names)}: {', '.join(names)}")
    for position, name in enumerate(names):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(f"'{name}' cannot be an output name (letters, digits and _)")
        if name in graph.variables:
            raise InputError(f"the output name '{name}' is already an input's name")
        if name in names[:position]:
            raise InputError(f"the output name '{name}' is given twice")
    return dataclasses.replace(graph, output_names=names)


PLUS = Notation("$0 + $1", "$0 + $1")
MINUS = Notation("$0 − $1", "$0 - $1")
NEGATE = Notation("−$0", "-$0")
TIMES_SIGN = Notation("$0 × $1", r"$0 \times $1")
DIVIDE_SIGN = Notation("$0 / $1", "$0 / $1")
PARTIAL = Notation("∂$0/∂$1", r"\partial $0/\partial $1")
JUXTAPOSE = Notation("$0 $1", r"$0 \, $1")
POWER = Notation("$0^$1", "{$0}^{$1}")


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
        """The rows of this sweep, in execution order (a `TraceRows`: each row is built when
        first read)."""
        rows = self._build_rows()
        return rows if isinstance(rows, TraceRows) else tuple(rows)

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
    if node.op == "pow" and position == 0 and isinstance(node.args[1], Const) and isinstance(node.args[1].exact,
                                                                                               Fraction):
        # A constant exponent n: n × v^(n − 1) with n − 1 worked out (2 × v, not 2 × v^(2 − 1)).
        exponent = node.args[1].exact - 1
        base = argument(node.args[0])
        if exponent == 0:
            return node.args[1]
        power = base if exponent == 1 else Apply(POWER, (base, Const(float(exponent), exponent,
                                                                     _fraction_text(exponent))))
        return Apply(TIMES_SIGN, (node.args[1], power))
    return Apply(partial.notation, tuple(argument(a) for a in node.args))


def _fraction_text(value):
    """A Fraction as a literal: 3, -0.5, or 1/3 where no short decimal is exact."""
    if value.denominator == 1:
        return str(value.numerator)
    decimal = repr(float(value))
    return decimal if Fraction(decimal) == value else f"{value.numerator}/{value.denominator}"


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


class RowMeta(NamedTuple):
    """What a summary needs to know of a row without building its formulas."""

    target: Var
    section: str
    value: object
    source: Optional[Var] = None
    accumulates: bool = False    # an adjoint row adding a later contribution (fan-out)


class TraceRows(Sequence):
    """The rows of one trace, each built on first access, so that a summary of a long
    trace formats only the rows it shows; ``meta(i)`` is row i's `RowMeta`, at the cost
    of a few lookups. Rows are the trace's inputs, then its body, then its outputs."""

    def __init__(self, sizes, meta, build, columns):
        self.sizes = sizes            # (inputs, body, outputs)
        self._meta, self._build, self._columns = meta, build, columns
        self._cache = {}

    def columns(self):
        """Every row's facts at once, for a summary: a dict of numpy arrays ``value``,
        ``slot`` (the slot a row's quantity belongs to, −1 for an output's), ``source``
        (an adjoint row's node, else −1) and ``accumulates`` (a later contribution to an
        adjoint: fan-out)."""
        return self._columns()

    def __len__(self):
        return sum(self.sizes)

    def section(self, index):
        """'input', 'body' or 'output'."""
        inputs, body, _ = self.sizes
        return "input" if index < inputs else "body" if index < inputs + body else "output"

    def meta(self, index):
        """Row ``index``'s RowMeta."""
        return self._meta(index, self.section(index))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        row = self._cache.get(index)
        if row is None:
            row = self._cache[index] = self._build(index, self.section(index))
        return row

    def __repr__(self):
        return f"TraceRows({len(self)} rows)"


def _forward_rows(graph, values, kind, definition_of, input_definition, input_value, lookup):
    """Rows of a forward trace (primal or tangent): inputs, one row per node (``definition_of(slot)``
    its right-hand side), outputs."""
    n, size = graph.n_inputs, graph.size
    target, output = ("v", "y") if kind == "v" else ("vdot", "ydot")

    def meta(index, section):
        if section == "output":
            k = index - size
            return RowMeta(Var(output, k), section, values[graph.outputs[k]])
        return RowMeta(Var(target, index), section, input_value(index) if section == "input" else values[index])

    def build(index, section):
        var, _, value, _, _ = meta(index, section)
        if section == "input":
            return TraceRow(var, input_definition(index), value, section=section)
        if section == "output":
            return TraceRow(var, Var(target, graph.outputs[index - size]), value, section=section)
        definition = definition_of(index)
        return TraceRow(var, definition, value, substituted=substitute(definition, lookup))

    def columns():
        m = len(graph.outputs)
        value = np.array([input_value(i) for i in range(n)] + [values[i] for i in range(n, size)]
                         + [values[slot] for slot in graph.outputs], dtype=float)
        return {"value": value, "slot": np.concatenate([np.arange(size), np.full(m, -1)]),
                "source": np.full(size + m, -1), "accumulates": np.zeros(size + m, dtype=bool)}

    return TraceRows((n, size - n, len(graph.outputs)), meta, build, columns)


def primal_rows(graph, values):
    """The forward primal trace: input rows, one row per node, output rows."""
    return _forward_rows(graph, values, "v", lambda slot: primal_definition(graph.node(slot)), lambda i: Var("x", i),
                         lambda i: values[i], lambda var: values[var.index])


def kink_tangent_definition(node):
    """The one-sided rule of a node on its kink, e.g. ``|v̇₀|`` or ``max(v̇₋₁, v̇₀)`` (see
    `adcompare.ops.KinkRule`); a constant argument's tangent is 0."""
    rule = OPERATIONS[node.op].kink_rule
    return Apply(rule.notation, tuple(Num(0.0) if isinstance(a, Const) else Var("vdot", a) for a in node.args))


def tangent_rows(graph, primals, tangents, seed, kink_rules=()):
    """A forward tangent trace from one sweep's primal and tangent values (seed: ẋ values).

    Nodes in ``kink_rules`` (slots) were on their kink in a directional sweep: their rows
    show the operation's one-sided rule instead of the tangent rule."""
    def lookup(var):
        return tangents[var.index] if var.kind == "vdot" else primals[var.index]

    def definition(slot):
        node = graph.node(slot)
        return kink_tangent_definition(node) if slot in kink_rules else tangent_definition(node)

    return _forward_rows(graph, tangents, "vdot", definition, lambda i: Var("xdot", i), lambda i: seed[i], lookup)


def adjoint_rows(graph, values, output, steps, gradient):
    """A reverse adjoint trace, in execution order, from the steps one sweep recorded.

    Each step is (slot, position, node adjoint, contribution, argument adjoint before,
    after); "before" is None for the argument's first contribution.
    """
    start = graph.outputs[output]
    count = len(steps)

    def meta(index, section):
        if section == "input":
            return RowMeta(Var("vbar", start), section, 1.0, Var("y", output))
        if section == "output":
            i = index - 1 - count
            return RowMeta(Var("xbar", i), section, gradient[i], Var("v", i))
        slot, position, _, _, before, after = steps[index - 1]
        return RowMeta(Var("vbar", graph.node(slot).args[position]), section, after, Var("v", slot),
                       before is not None)

    def build(index, section):
        var, _, value, source, _ = meta(index, section)
        if section == "input":
            return TraceRow(var, Var("ybar", output), value, section=section, source=source)
        if section == "output":
            return TraceRow(var, Var("vbar", var.index), value, section=section, source=source)
        slot, position, node_adjoint, _, before, _ = steps[index - 1]
        definition, local = adjoint_rows_formulas(graph.node(slot), slot, position, before is not None)

        def lookup(v):
            if v.kind == "vbar":
                return node_adjoint if v.index == slot else before
            return values[v.index]

        return TraceRow(var, definition, value, local=local, substituted=substitute(local, lookup), source=source)

    def columns():
        n, nodes = graph.n_inputs, graph.nodes
        value = np.array([1.0] + [step[5] for step in steps] + [gradient[i] for i in range(n)], dtype=float)
        slot = np.array([start] + [nodes[step[0] - n].args[step[1]] for step in steps] + list(range(n)))
        source = np.array([-1] + [step[0] for step in steps] + list(range(n)))
        accumulates = np.array([False] + [step[4] is not None for step in steps] + [False] * n)
        return {"value": value, "slot": slot, "source": source, "accumulates": accumulates}

    return TraceRows((1, count, graph.n_inputs), meta, build, columns)
