"""The safe parser: expression text → `Graph`. Our own tokenizer and parser; user text
never reaches eval, exec, sympify or parse_expr.

Grammar (highest precedence last)::

    outputs  := output ("," output)*
    output   := (name "=")? expr                        f = (x+y)*z names the output f
    expr     := expr ("+" | "-") term | term
    term     := term ("*" | "/") unary | unary
    unary    := ("-" | "+") unary | power
    power    := primary (("^" | "**") unary)?          right-associative: -x^2 = -(x^2)
    primary  := number | name | name "(" expr ("," expr)* ")" | "(" expr ")"

Numbers are integers, decimals or scientific (``2``, ``0.5``, ``.5``, ``1e-3``); names are
ASCII identifiers; ``pi`` and ``e`` are constants; the functions are those of the
operation table (``ln``, ``log(x)``, ``log(x, b)``, ``sin``, ``pow(a, b)``, ``max(a, b)``, …).

The parser is a shunting-yard over a token list, so nothing recurses, and every limit
(`Limits`) has its own message. Errors carry the 1-based column.

Nodes are numbered the way Baydin's tables number them: an operation comes as soon as
its arguments are ready (ordered by height above the inputs), ties in the order written.
Each operation as written is its own node unless ``merge_common`` is set, which makes
identical subexpressions one node.

    >>> g = parse("ln(x1) + x1*x2 - sin(x2)")
    >>> [node.op for node in g.nodes]
    ['ln', 'mul', 'sin', 'add', 'sub']
    >>> parse("x10 + x2").variables
    ('x2', 'x10')
"""

import gc
import re
from dataclasses import dataclass
from fractions import Fraction
import math
from typing import NamedTuple

import numpy as np

from .errors import InputError, ParseError
from .graph import Const, Graph, Node
from .ops import FUNCTIONS, OPERATIONS

CONSTANTS = {"pi": math.pi, "e": math.e}


@dataclass(frozen=True)
class Limits:
    """Bounds on what the parser accepts, each reported with its own message."""

    max_length: int = 1_000_000
    max_depth: int = 200
    max_operations: int = 500_000
    max_derivatives: int = 50_000       # Jacobian entries, outputs × variables: each costs a cross-check and a row
    max_digits: int = 60
    max_exponent: float = 1000.0


DEFAULT_LIMITS = Limits()

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<symbol>\*\*|[-+*/^(),=])
""", re.VERBOSE)

# Binary operators: precedence, right-associative, operation name.
_BINARY = {"+": (1, False, "add"), "-": (1, False, "sub"), "*": (2, False, "mul"),
           "/": (2, False, "div"), "^": (4, True, "pow"), "**": (4, True, "pow")}
_UNARY_PRECEDENCE = 3


class _Token(NamedTuple):      # a tuple: 10⁶ tokens are made in a second, in 64 bytes each
    kind: str      # 'number', 'name', 'symbol', 'end'
    text: str
    column: int


def natural_key(name):
    """Sort key putting x2 before x10."""
    parts = [int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", name)]
    return parts, name   # the name itself breaks ties such as x01 and x1


def _describe(text):
    if text == "":
        return "the end of the expression"
    return f"'{text}'"


def tokenize(text, limits=DEFAULT_LIMITS):
    """Split ``text`` into tokens, ending with an 'end' token; ParseError on a bad character."""
    if len(text) > limits.max_length:
        raise ParseError(f"expression too long: {len(text):,} characters (limit {limits.max_length:,})")
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char.isprintable() and ord(char) < 128:
                shown = f"'{char}'"
            else:
                shown = f"U+{ord(char):04X}"
            raise ParseError(f"unexpected character {shown} at column {position + 1} "
                             "(names use ASCII letters, digits and _)", position + 1, text)
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), position + 1))
        position = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _literal(token, source, limits):
    """The Const for a number token, within the digit and range limits."""
    mantissa, _, exponent = token.text.lower().partition("e")
    if sum(c.isdigit() for c in mantissa) > limits.max_digits:
        raise ParseError(f"number at column {token.column} has too many digits "
                         f"(limit {limits.max_digits})", token.column, source)
    if exponent and (len(exponent.lstrip("+-").lstrip("0")) > 3 or abs(int(exponent)) > 400):
        raise ParseError(f"number at column {token.column} is out of range", token.column, source)
    exact = Fraction(token.text)
    try:
        value = float(exact)
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise ParseError(f"number at column {token.column} is too large for a float", token.column, source)
    if value == 0 and exact != 0:
        raise ParseError(f"number at column {token.column} is too small for a float", token.column, source)
    return Const(value, exact, token.text)


def _to_postfix(tokens, source, variables, limits):
    """Shunting-yard: the token list in postfix order, as ('const'|'var'|'op', payload, column)."""
    out = []
    stack = []   # ('binary', name, precedence, right, column) | ('unary', name, column)
    #            | ('paren', column) | ('call', function, column, [argument count], paren column)
    operations = 0
    depth = 0
    expect_operand = True
    index = 0

    def emit_operation(name, arity, column):
        nonlocal operations
        operations += 1
        if operations > limits.max_operations:
            raise ParseError(f"expression too large: more than {limits.max_operations:,} operations")
        out.append(("op", (name, arity), column))

    def pop_operator():
        entry = stack.pop()
        if entry[0] == "binary":
            emit_operation(entry[1], 2, entry[4])
        elif entry[1] is not None:
            emit_operation(entry[1], 1, entry[2])

    def fail(message, token):
        raise ParseError(f"{message} at column {token.column}", token.column, source)

    while True:
        token = tokens[index]
        index += 1
        if expect_operand:
            if token.kind == "number":
                out.append(("const", _literal(token, source, limits), token.column))
                expect_operand = False
            elif token.kind == "name":
                if tokens[index].text == "=" and not stack and (not out or out[-1][0] == "next_output"):
                    out.append(("output_name", token.text, token.column))   # f = expr names the output
                    index += 1
                elif tokens[index].text == "(":
                    if token.text not in FUNCTIONS:
                        fail(f"unknown function '{token.text}' "
                             f"(known: {', '.join(sorted(FUNCTIONS))})", token)
                    paren = tokens[index]
                    index += 1
                    depth += 1
                    if depth > limits.max_depth:
                        fail(f"nesting deeper than {limits.max_depth} levels", token)
                    stack.append(("call", token.text, token.column, [1], paren.column))
                elif token.text in FUNCTIONS:
                    fail(f"'{token.text}' is a function: write {token.text}(...)", token)
                elif token.text in CONSTANTS:
                    out.append(("const", Const(CONSTANTS[token.text], token.text, token.text), token.column))
                    expect_operand = False
                else:
                    if variables is not None and token.text not in variables:
                        fail(f"unknown variable '{token.text}' (variables: {', '.join(variables)})", token)
                    out.append(("var", token.text, token.column))
                    expect_operand = False
            elif token.text == "(":
                depth += 1
                if depth > limits.max_depth:
                    fail(f"nesting deeper than {limits.max_depth} levels", token)
                stack.append(("paren", token.column))
            elif token.text in ("-", "+"):
                stack.append(("unary", "neg" if token.text == "-" else None, token.column))
            elif token.text == ")" and tokens[index - 2].text == "(":
                fail("nothing between '(' and ')'", token)
            else:
                fail(f"expected a number, a variable, a function or '(' but found {_describe(token.text)}",
                     token)
        elif token.kind == "symbol" and token.text in _BINARY:
            precedence, right, name = _BINARY[token.text]
            while stack and stack[-1][0] in ("binary", "unary"):
                top_precedence = stack[-1][2] if stack[-1][0] == "binary" else _UNARY_PRECEDENCE
                if top_precedence > precedence or (top_precedence == precedence and not right):
                    pop_operator()
                else:
                    break
            stack.append(("binary", name, precedence, right, token.column))
            expect_operand = True
        elif token.text in (")", ","):
            while stack and stack[-1][0] in ("binary", "unary"):
                pop_operator()
            if token.text == ")":
                if not stack:
                    fail("unmatched ')'", token)
                entry = stack.pop()
                depth -= 1
                if entry[0] == "call":
                    emit_call(entry, out, source, emit_operation)
            elif stack and stack[-1][0] == "call":
                stack[-1][3][0] += 1
                expect_operand = True
            elif stack:
                fail("',' inside parentheses that are not a function call", token)
            else:
                out.append(("next_output", None, token.column))
                expect_operand = True
        elif token.kind == "end":
            while stack:
                if stack[-1][0] in ("paren", "call"):
                    column = stack[-1][4] if stack[-1][0] == "call" else stack[-1][1]
                    raise ParseError(f"missing ')' for the '(' opened at column {column}", column, source)
                pop_operator()
            return out
        else:
            hint = " (write '*' for a product)" if token.kind in ("number", "name") or token.text == "(" else ""
            fail(f"expected an operator but found {_describe(token.text)}{hint}", token)


def emit_call(entry, out, source, emit_operation):
    """Resolve a function call to its operation by name and argument count."""
    _, function, column, (count,), _ = entry
    by_arity = FUNCTIONS[function]
    if count not in by_arity:
        wanted = " or ".join(str(a) for a in sorted(by_arity))
        raise ParseError(f"{function}() takes {wanted} argument{'s' if wanted != '1' else ''}, "
                         f"got {count} at column {column}", column, source)
    emit_operation(by_arity[count], count, column)


def _constant_value(ref, pending):
    """The float value of a reference if it depends on no variable, else None."""
    if isinstance(ref, Const):
        return ref.value
    if isinstance(ref, int):
        return pending[ref][3]
    return None


def parse(text, variables=None, merge_common=False, limits=DEFAULT_LIMITS):
    """Parse ``text`` into a Graph.

    ``variables`` fixes the variable order (names not in the expression become unused
    inputs); without it the expression's names are taken in natural order.
    ``merge_common`` makes identical subexpressions a single node. The cyclic garbage
    collector is paused meanwhile: building 10⁵ small objects that all stay alive would
    otherwise set it scanning every object of the process (sympy's too), for nothing.

        >>> parse("x*x", merge_common=True).nodes
        (Node(op='mul', args=(0, 0)),)
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        with np.errstate(all="ignore"):       # constants are checked below, not warned about
            return _parse(text, variables, merge_common, limits)
    finally:
        if paused:
            gc.enable()


def _parse(text, variables, merge_common, limits):
    if variables is not None:
        variables = tuple(variables)
        for name in variables:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in FUNCTIONS or name in CONSTANTS:
                raise InputError(f"'{name}' cannot be a variable name")
        if len(set(variables)) != len(variables):
            raise InputError("a variable is named twice")
    if not text.strip():
        raise ParseError("empty expression")
    postfix = _to_postfix(tokenize(text, limits), text, variables, limits)
    if variables is None:
        variables = tuple(sorted({payload for kind, payload, _ in postfix if kind == "var"}, key=natural_key))
    outputs = 1 + sum(1 for kind, _, _ in postfix if kind == "next_output")
    if outputs * len(variables) > limits.max_derivatives:
        raise ParseError(f"expression too large: {outputs:,} output{'s' if outputs != 1 else ''} × "
                         f"{len(variables):,} variables = "
                         f"{outputs * len(variables):,} derivatives, more than {limits.max_derivatives:,}")
    output_names = _output_names(postfix, variables, text)
    slot_of = {name: slot for slot, name in enumerate(variables)}

    # Build pending nodes in postfix order: (op, args, height, constant value). A reference
    # is a Const, an input's ("input", slot) or a pending node's index (an int).
    pending = []
    seen = {}
    stack = []
    output_refs = []
    inputs = [("input", slot) for slot in range(len(variables))]
    for kind, payload, column in postfix:
        if kind == "const":
            stack.append(payload)
        elif kind == "var":
            stack.append(inputs[slot_of[payload]])
        elif kind == "next_output":
            output_refs.append(stack.pop())
        elif kind == "output_name":
            continue
        else:
            name, arity = payload
            args = tuple(stack[len(stack) - arity:])
            del stack[len(stack) - arity:]
            if (name == "neg" and isinstance(args[0], Const) and isinstance(args[0].exact, Fraction)
                    and not args[0].text.startswith("-")):
                stack.append(Const(-args[0].value, -args[0].exact, "-" + args[0].text))
                continue
            key = (name, args)
            if merge_common and key in seen:
                stack.append(seen[key])
                continue
            values = [_constant_value(arg, pending) for arg in args]
            if name == "pow" and values[1] is not None and abs(values[1]) > limits.max_exponent:
                raise ParseError(f"exponent at column {column} is too large "
                                 f"(limit {limits.max_exponent:g})", column, text)
            value = None
            if all(v is not None for v in values):
                value = float(OPERATIONS[name].evaluate(*values))
                op = OPERATIONS[name]
                inside = op.domain is None or bool(op.domain(*values))
                # Outside the domain (1/0, ln(0)) evaluation reports it, naming the node.
                if inside and math.isinf(value) and all(math.isfinite(v) for v in values):
                    raise ParseError(f"constant at column {column} is too large for a float", column, text)
            height = 1 + max((pending[a][2] for a in args if isinstance(a, int)), default=0)
            pending.append((name, args, height, value))
            if merge_common:
                seen[key] = len(pending) - 1
            stack.append(len(pending) - 1)
    output_refs.append(stack.pop())
    del postfix

    # Number the nodes as Baydin does: by height, ties in written order (the sort is stable).
    heights = [entry[2] for entry in pending]
    order = sorted(range(len(pending)), key=heights.__getitem__)
    del heights
    slot_of_pending = [0] * len(pending)
    for position, k in enumerate(order):
        slot_of_pending[k] = len(variables) + position

    def resolve(ref):
        if isinstance(ref, Const):
            return ref
        return slot_of_pending[ref] if isinstance(ref, int) else ref[1]

    nodes = [Node(pending[k][0], tuple(resolve(a) for a in pending[k][1])) for k in order]
    del pending, order
    outputs = []
    for ref in output_refs:
        if isinstance(ref, Const):
            nodes.append(Node("identity", (ref,)))
            outputs.append(len(variables) + len(nodes) - 1)
        else:
            outputs.append(resolve(ref))
    return Graph(tuple(variables), tuple(nodes), tuple(outputs), source=text, output_names=output_names)


def _output_names(postfix, variables, source):
    """The names given as ``f = expr`` ('' for an output without one); a name that is an
    input's, a constant's or another output's is a ParseError."""
    names = [""]
    for kind, payload, column in postfix:
        if kind == "next_output":
            names.append("")
        elif kind == "output_name":
            if payload in variables or payload in CONSTANTS or payload in FUNCTIONS or payload in names:
                what = ("an input" if payload in variables else "a constant" if payload in CONSTANTS
                        else "a function" if payload in FUNCTIONS else "another output")
                raise ParseError(f"the output name '{payload}' at column {column} is already {what}'s name",
                                 column, source)
            names[-1] = payload
    return tuple(names) if any(names) else ()
